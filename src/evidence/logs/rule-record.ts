// From a line recognised by a data format (rules.ts) to a LogRecord.
import { causeFromStatus } from "./classify.js";
import { clientAddress, clip, isRefusalStatus, newRecord, splitRequestLine } from "./record.js";
import {
  addExtracted,
  type CompiledFormat,
  type Fields,
  fillReason,
  formatById,
  JSON_FORMATS,
  matchRule,
  REGEX_FORMATS,
  type RuleHit,
  readFields,
} from "./rules.js";
import {
  parseAnyTime,
  parseApacheErrorTime,
  parseClfTime,
  parseIsoTime,
  parseLocalStamp,
  parseNginxErrorTime,
} from "./time.js";
import { type LogRecord, STRENGTH } from "./types.js";

export interface RuleLine {
  format: string;
  /** Null: the line is in the format but records no refusal. */
  record: LogRecord | null;
}

/** Tries the data formats (regex ones) on a line; null when none recognises it. */
export function parseRuleFormats(text: string, file: string, n: number): RuleLine | null {
  for (const f of REGEX_FORMATS) {
    const fields = readFields(f, text);
    if (fields) return { format: f.spec.id, record: recordOf(f, fields, file, n) };
  }
  return null;
}

const TEXT = formatById("text");

/**
 * Message families that may sit in any line (mod_evasive's syslog message, fail2ban's own log).
 * `client`: the address the line names outside the message (a JSON or logfmt field), for a
 * message that names none itself.
 */
export function parseFreeText(
  text: string,
  file: string,
  n: number,
  client?: string | null,
): RuleLine | null {
  // The format's extract fields (a client address the words lead to) first: rules' `where` may need them.
  const line: Fields = { message: text };
  addExtracted(TEXT, line);
  if (line.client === undefined && client) line.client = client;
  // matchRule writes the rule's fields into what it is given: recordOf gets the line's own.
  const hit = matchRule(TEXT, { ...line });
  if (!hit || hit.rule.cause === null) return null;
  return { format: `text:${hit.rule.family.family}`, record: recordOf(TEXT, line, file, n) };
}

/** The JSON formats (Caddy, Traefik, cloud WAF and load-balancer logs): null when the object is none of them. */
export function parseJsonFormats(doc: Record<string, unknown>, file: string, n: number): RuleLine | null {
  for (const f of JSON_FORMATS) {
    const j = f.spec.json;
    if (!j || !requiresHold(f, doc)) continue;
    const fields: Fields = {};
    for (const [name, paths] of Object.entries(j.fields)) {
      const v = pickPath(doc, paths);
      if (v !== null) fields[name] = v;
    }
    addExtracted(f, fields);
    return { format: f.spec.id, record: recordOf(f, fields, file, n) };
  }
  return null;
}

/** The format's `requires` patterns, compiled once. */
const REQUIRES = new Map(
  JSON_FORMATS.map((f) => [
    f,
    Object.entries(f.spec.json?.requires ?? {}).map(([k, re]) => [k, new RegExp(re)] as const),
  ]),
);

/** Every `requires` key (a dotted path) holds a string or number its pattern finds in. */
function requiresHold(f: CompiledFormat, doc: Record<string, unknown>): boolean {
  for (const [key, re] of REQUIRES.get(f) ?? []) {
    const v = key.includes(".") ? valueAt(doc, key.split("."), 0) : doc[key];
    if ((typeof v !== "string" && typeof v !== "number") || !re.test(String(v))) return false;
  }
  return true;
}

function pickPath(doc: Record<string, unknown>, paths: string[]): string | null {
  for (const p of paths) {
    const v = scalar(valueAt(doc, p.split("."), 0));
    if (v !== null) return v;
  }
  return null;
}

/**
 * The value at a dotted path; a "*" step takes the first element of an array
 * (or value of an object) that has the rest of the path (AWS WAF's
 * ruleGroupList.*.terminatingRule.ruleId: the group that terminated).
 */
function valueAt(cur: unknown, keys: string[], i: number): unknown {
  for (; i < keys.length; i++) {
    if (cur === null || typeof cur !== "object") return undefined;
    const key = keys[i] as string;
    if (key === "*") {
      for (const item of Object.values(cur as Record<string, unknown>)) {
        const v = valueAt(item, keys, i + 1);
        if (scalar(v) !== null) return v;
      }
      return undefined;
    }
    cur = (cur as Record<string, unknown>)[key];
  }
  return cur;
}

/** A non-empty string, a number as text, or an array of them joined with "," (Cloudflare's SecuritySources). */
function scalar(v: unknown): string | null {
  if (typeof v === "string") return v !== "" ? v : null;
  if (typeof v === "number") return String(v);
  if (Array.isArray(v) && v.length > 0 && v.every((x) => typeof x === "string" || typeof x === "number")) {
    return v.join(",");
  }
  return null;
}

/** The record of a line whose fields a format read; null when it records no refusal. */
export function recordOf(f: CompiledFormat, fields: Fields, file: string, n: number): LogRecord | null {
  const status = fields.status !== undefined ? Number(fields.status) : null;
  const hit = matchRule(f, fields);
  if (hit && hit.rule.cause === null) return null;
  if (!hit && !(f.spec.kind === "access" && isRefusalStatus(status))) return null;
  const kind = f.spec.kind === "access" ? "access" : "error";
  const rec = newRecord(file, n, f.spec.id, kind, f.spec.product);
  const all = hit ? hit.fields : fields;
  fill(rec, f, all);
  rec.status = status;
  if (hit) applyHit(rec, hit);
  else {
    rec.cause = causeFromStatus(status);
    rec.strength = rec.cause === "unknown" ? STRENGTH.none : STRENGTH.status;
    rec.message = clip(`${all.request ?? [all.method, all.path].filter(Boolean).join(" ")} → ${status}`);
  }
  rec.denied = true;
  return rec;
}

function fill(rec: LogRecord, f: CompiledFormat, x: Fields): void {
  if (x.time !== undefined) rec.time = parseTime(f.spec.time, x.time);
  if (x.client !== undefined && x.client !== "-") rec.client = clientAddress(x.client, f.spec.clientHasPort);
  if (x.request !== undefined) {
    // Most request lines hold no escaped quote: no pattern to run then.
    const request = x.request.includes("\\") ? x.request.replace(/\\"/g, '"') : x.request;
    const req = splitRequestLine(request);
    rec.method = req.method;
    rec.path = req.path;
  }
  if (x.method !== undefined && x.method !== "-") rec.method = x.method;
  if (x.path !== undefined && x.path !== "-") {
    rec.path = x.query !== undefined && x.query !== "-" ? `${x.path}?${x.query}` : x.path;
  }
  if (x.requestId !== undefined && x.requestId !== "-") {
    rec.ids.push(x.requestId);
    rec.requestId = x.requestId;
  }
  // The deciding rule a cloud WAF names (JSON formats only: the SQL branch reads none for regex formats).
  if (x.rule !== undefined && x.rule !== "-" && f.spec.json !== undefined) rec.rules = [x.rule];
}

function applyHit(rec: LogRecord, hit: RuleHit): void {
  const spec = hit.rule.spec;
  if (spec.passedOn) rec.passedOn = true;
  if (rec.status === null && spec.status !== null) {
    rec.status = spec.status;
    rec.statusInferred = true;
  }
  if (hit.rule.cause === "by-status" || hit.rule.cause === null) {
    rec.cause = causeFromStatus(rec.status);
    rec.strength = rec.cause === "unknown" ? STRENGTH.none : STRENGTH.status;
  } else {
    rec.cause = hit.rule.cause;
    rec.strength = STRENGTH.server;
    if (spec.also) rec.alsoCauses = { ...spec.also };
  }
  rec.product = hit.rule.family.product ?? rec.product;
  rec.message = clip(fillReason(spec.reason, hit.fields, rec.status));
}

function parseTime(kind: string | undefined, s: string): Date | null {
  switch (kind) {
    case "apache":
      return parseApacheErrorTime(s);
    case "nginx":
      return parseNginxErrorTime(s);
    case "clf":
      return parseClfTime(s);
    case "iso":
      return parseIsoTime(s);
    case "iso-utc":
      return parseIsoTime(/Z|[+-]\d{2}:?\d{2}$/.test(s) ? s : `${s.replace(" ", "T")}Z`);
    case "local":
      return parseLocalStamp(s);
    default:
      return parseAnyTime(s);
  }
}
