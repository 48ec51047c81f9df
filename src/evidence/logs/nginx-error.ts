// nginx error log: "2026/11/26 05:00:00 [error] 12#12: *3 MESSAGE, client: 1.2.3.4,
// server: x, request: "POST /p HTTP/1.1", host: "x"". The line format and the
// messages that mean a refusal are data: data/logs/formats/nginx-error.json and
// data/logs/messages/nginx.json.
import { cachedMatcher } from "./match-cache.js";
import { clientAddress, newRecord, splitRequestLine } from "./record.js";
import { recordOf } from "./rule-record.js";
import { addExtracted, type Fields, formatById } from "./rules.js";
import { parseNginxErrorTime } from "./time.js";
import type { LogRecord } from "./types.js";
import { applyWafMessage, parseWafMessage } from "./waf.js";

const FORMAT = formatById("nginx-error");

/** The dispatcher asks "is it one?" then parses the same line: one match for both. */
const matchLine = cachedMatcher(FORMAT.re as RegExp);

export function isNginxErrorLine(line: string): boolean {
  return matchLine(line) !== null;
}

export function parseNginxErrorLine(line: string, file: string, n: number, format: string): LogRecord | null {
  const m = matchLine(line);
  if (!m) return null;
  const fields: Fields = {};
  const pairs = FORMAT.fields;
  for (let i = 0; i < pairs.length; i++) {
    const [name, group] = pairs[i] as [string, number];
    const v = m[group];
    if (v !== undefined) fields[name] = v;
  }
  addExtracted(FORMAT, fields);
  const waf = parseWafMessage(fields.message ?? "");
  if (waf) {
    const rec = newRecord(file, n, format, "error", "nginx");
    rec.time = parseNginxErrorTime(fields.time ?? "");
    if (fields.client) rec.client = clientAddress(fields.client);
    const req = splitRequestLine(fields.request ?? "");
    rec.method = req.method;
    rec.path = req.path;
    applyWafMessage(rec, waf);
    return rec;
  }
  const rec = recordOf(FORMAT, fields, file, n);
  if (rec) rec.format = format;
  return rec;
}
