// Apache error log, 2.4 ("[Thu Nov 26 05:00:00.123456 2026] [authz_core:error]
// [pid 12:tid 34] [client 1.2.3.4:5678] AH01630: client denied by server
// configuration: /srv/x") and 2.2 ("[Sun Dec 04 05:15:09 2005] [error] [client
// 1.2.3.4] Directory index forbidden by rule: /var/www/"). The line format and the
// messages that mean a refusal are data: data/logs/formats/apache-error.json and
// the apache-* message families.
import { cachedMatcher } from "./match-cache.js";
import { clientAddress, newRecord } from "./record.js";
import { recordOf } from "./rule-record.js";
import { addExtracted, type Fields, formatById, matchRule } from "./rules.js";
import { parseApacheErrorTime } from "./time.js";
import type { LogRecord } from "./types.js";
import { applyWafMessage, parseWafMessage, wafClient } from "./waf.js";

const FORMAT = formatById("apache-error");

/** The dispatcher asks "is it one?" then parses the same line: one match for both. */
const matchLine = cachedMatcher(FORMAT.re as RegExp);

export function isApacheErrorLine(line: string): boolean {
  return matchLine(line) !== null;
}

/** The line's own fields (time, module, level, rest), before any extract. */
function headerFields(m: RegExpExecArray): Fields {
  const out: Fields = {};
  const pairs = FORMAT.fields;
  for (let i = 0; i < pairs.length; i++) {
    const [name, group] = pairs[i] as [string, number];
    const v = m[group];
    if (v !== undefined) out[name] = v;
  }
  return out;
}

export function parseApacheErrorLine(
  line: string,
  file: string,
  n: number,
  format: string,
): LogRecord | null {
  const m = matchLine(line);
  if (!m) return null;
  const fields = headerFields(m);
  // 2.4 appends ":port" to the client ("[client ::1:5678]"); 2.2 (no module in the level) does not.
  const withPort = fields.module !== undefined;
  // The client of the line's header is the record's: the message's own is read only when that one is missing.
  const waf = parseWafMessage(fields.rest ?? "", false);
  if (waf) {
    // A WAF line needs only the client of the extracts: the message one is the
    // costliest pattern of the line (lazy, over every [tag "…"]) and would go unread.
    addExtracted(FORMAT, fields, "client");
    const rec = newRecord(file, n, format, "error", "apache");
    if (fields.time) rec.time = parseApacheErrorTime(fields.time);
    if (fields.client) rec.client = clientAddress(fields.client, withPort);
    else waf.client = wafClient(fields.rest ?? "");
    applyWafMessage(rec, waf);
    return rec;
  }
  addExtracted(FORMAT, fields);
  const code = /^(AH\d{5}):/.exec(fields.message ?? "");
  if (code) fields.code = code[1] as string;
  const rec = recordOf(FORMAT, fields, file, n);
  if (!rec) return null;
  rec.format = format;
  rec.product ??= "apache";
  // recordOf read the client as the format says (with a port): only a line that says otherwise reads it again.
  const client = fields.client;
  if (client && (withPort !== FORMAT.spec.clientHasPort || client === "-"))
    rec.client = clientAddress(client, withPort);
  withCode(rec, fields.code);
  return rec;
}

/** The AH code stays in the message, whatever the reason's wording. */
function withCode(rec: LogRecord, code: string | undefined): void {
  if (code && !rec.message.includes(code)) rec.message = `${rec.message} (${code})`;
}

/**
 * Classifies an Apache error message (as the audit log's Apache-Error lines
 * carry it: "[file …] [line …] AH01630: …") into the record; false when it is
 * not a refusal we know.
 */
export function applyApacheCode(rec: LogRecord, text: string): boolean {
  const fields: Fields = { rest: text };
  addExtracted(FORMAT, fields);
  const hit = matchRule(FORMAT, fields);
  if (!hit || hit.rule.cause === null) return false;
  const shaped = recordOf(FORMAT, fields, rec.file, rec.line);
  if (!shaped) return false;
  rec.cause = shaped.cause;
  rec.strength = shaped.strength;
  if (rec.status === null) {
    rec.status = shaped.status;
    rec.statusInferred = shaped.statusInferred;
  }
  if (shaped.alsoCauses) rec.alsoCauses = shaped.alsoCauses;
  rec.path ??= shaped.path;
  rec.product ??= "apache";
  rec.message = shaped.message;
  withCode(rec, /\b(AH\d{5}):/.exec(text)?.[1]);
  rec.denied = true;
  return true;
}
