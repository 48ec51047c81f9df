// ModSecurity (v2 for Apache, v3 for nginx) and Coraza rule messages:
// "ModSecurity: Warning. … [id "942100"] [msg "…"] … [uri "/x"] [unique_id "…"]"
// and "… Access denied with code 403 (phase 2). …". Lines of one request share
// a unique_id; the join groups them.
import { causeFromRules, decisiveRule } from "./classify.js";
import { addId, clientAddress, clip, makeRecord } from "./record.js";
import { parseAnyTime } from "./time.js";
import { type LogRecord, STRENGTH } from "./types.js";

export interface WafMessage {
  engine: "modsecurity" | "coraza";
  /** True for "Access denied/dropped/redirected", false for "Warning.". */
  disruptive: boolean;
  /** "Access denied with code NNN" of a disruptive message; null otherwise (a warning's is never read). */
  status: number | null;
  ruleId: string | null;
  msg: string | null;
  uri: string | null;
  uniqueId: string | null;
  client: string | null;
}

// Exported: the ClickHouse query (push-down.ts) is generated from these same patterns.
export const WAF_MARKER_RE = /\b(ModSecurity|Coraza): /;
/** The action, right after the marker (v2.9+, v3, Coraza) or after the rule's tags (CRS 2 era v2). */
export const WAF_ACTION_RE = /(Warning\.|Access (?:denied|dropped|redirected)|Custom disruptive)/;
/** The action starts with one of these for a refusal ("Warning." is not one). */
export const WAF_DISRUPTIVE_PREFIXES = ["Access", "Custom"];
export const WAF_STATUS_RE = /Access denied with code (\d{3})/;
export const WAF_CLIENT_RE = /\[client "?([^\]"]+)"?\]/;
/** A leading time stamp of a standalone WAF line (group 1). */
export const WAF_LINE_TIME_RE =
  /^\[?(\d{4}[-/]\d{2}[-/]\d{2}[T ]\d{2}:\d{2}:\d{2}(?:[.,]\d+)?(?:Z|[+-]\d{2}:?\d{2})?)\]?\s/;

/** "ModSecurity: " and "Coraza: " from the marker's alternation. */
export function markerWords(marker: RegExp): string[] {
  const m = /^\\b\(([\w|]+)\)(.*)$/.exec(marker.source);
  if (!m || /[\\^$.*+?()[\]{}|]/.test(m[2] as string))
    throw new Error(`the WAF marker changed shape: ${marker.source}`);
  return (m[1] as string).split("|").map((w) => `${w}${m[2]}`);
}

/** Every text WAF_MARKER_RE matches holds one of these words. */
const MARKER_WORDS = markerWords(WAF_MARKER_RE);

function holdsMarkerWord(text: string): boolean {
  for (const w of MARKER_WORDS) if (text.includes(w)) return true;
  return false;
}

/** `[name "value"]`: a field of a WAF message, as a pattern source (the value is group 1). */
export function wafFieldPattern(name: string): string {
  return `\\[${name} "((?:[^"\\\\]|\\\\.)*)"\\]`;
}

/** The fields a record takes from a message (data, hostname, tags… are never read: not parsed). */
const ID_RE = new RegExp(wafFieldPattern("id"));
const MSG_RE = new RegExp(wafFieldPattern("msg"));
const URI_RE = new RegExp(wafFieldPattern("uri"));
const UNIQUE_ID_RE = new RegExp(wafFieldPattern("unique_id"));

function field(text: string, re: RegExp): string | null {
  const m = re.exec(text);
  return m ? (m[1] as string) : null;
}

function isDisruptive(action: string): boolean {
  for (const p of WAF_DISRUPTIVE_PREFIXES) if (action.startsWith(p)) return true;
  return false;
}

/** The `[client …]` of a WAF message (v2 puts it in the message too), as an address; null when none. */
export function wafClient(text: string): string | null {
  const client = WAF_CLIENT_RE.exec(text);
  return client ? clientAddress(client[1] as string) : null;
}

/**
 * Parses the ModSecurity/Coraza part of a line, wherever it sits; null when
 * there is none. `readClient` false: the caller has the client from elsewhere
 * and leaves `client` null (wafClient reads it when that fails).
 */
export function parseWafMessage(text: string, readClient = true): WafMessage | null {
  // Nearly every error line has no WAF part: includes() says so sooner than the pattern.
  if (!holdsMarkerWord(text)) return null;
  const m = WAF_MARKER_RE.exec(text);
  if (!m) return null;
  const rest = text.slice(m.index);
  const action = WAF_ACTION_RE.exec(rest)?.[1];
  if (action === undefined) return null;
  const disruptive = isDisruptive(action);
  const code = disruptive ? WAF_STATUS_RE.exec(rest) : null;
  return {
    engine: m[1] === "Coraza" ? "coraza" : "modsecurity",
    disruptive,
    status: code ? Number(code[1]) : null,
    ruleId: field(rest, ID_RE),
    msg: field(rest, MSG_RE),
    uri: field(rest, URI_RE),
    uniqueId: field(rest, UNIQUE_ID_RE),
    client: readClient ? wafClient(text) : null,
  };
}

/** Fills a record from a WAF message (the caller sets file, line, format, time). */
export function applyWafMessage(rec: LogRecord, w: WafMessage): void {
  rec.kind = "waf";
  rec.product = w.engine;
  if (w.ruleId) {
    rec.rules = [w.ruleId];
    if (w.msg) rec.ruleMessages = [w.ruleId, clip(w.msg, 160)];
  }
  rec.path ??= w.uri;
  rec.client ??= w.client;
  addId(rec, w.uniqueId);
  rec.denied = w.disruptive;
  if (w.disruptive) {
    rec.status = w.status ?? 403;
    rec.statusInferred = w.status === null;
  }
  rec.cause = causeFromRules(rec.rules);
  rec.strength = STRENGTH.server;
  let message = w.disruptive ? `${w.engine === "coraza" ? "Coraza" : "ModSecurity"} refused` : "matched";
  if (w.ruleId) message += ` rule ${w.ruleId}`;
  if (w.msg) message += ` "${w.msg}"`;
  rec.message = clip(message);
}

/** A standalone WAF line (e.g. Caddy+Coraza text) when no other parser owns the line. */
export function parseWafLine(text: string, file: string, n: number, format: string): LogRecord | null {
  const w = parseWafMessage(text);
  if (!w) return null;
  const rec = makeRecord({ file, line: n, format, kind: "waf" });
  // A leading time stamp, if the line has one ("2026-11-26T05:00:00Z ERR …", "2026/11/26 05:00:00 …").
  const head = WAF_LINE_TIME_RE.exec(text);
  if (head) rec.time = parseAnyTime(head[1] as string);
  applyWafMessage(rec, w);
  return rec;
}

/** The rule shown for a group of matched rules. */
export { decisiveRule };
