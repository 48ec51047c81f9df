// Building LogRecords and the small helpers every parser shares.
import { REFUSAL_STATUSES } from "../../model.js";
import { causeFromStatus } from "./classify.js";
import { type LogRecord, STRENGTH } from "./types.js";

export function makeRecord(
  base: Pick<LogRecord, "file" | "line" | "format" | "kind"> & Partial<LogRecord>,
): LogRecord {
  // newRecord's defaults, then the given fields (each one newRecord has already: the shape stays the same).
  return Object.assign(newRecord(base.file, base.line, base.format, base.kind, null), base);
}

/**
 * A fresh record with no finding yet, for the parsers on the hot path (no
 * argument object per line); makeRecord builds on it, so both give one shape.
 * The optional fields are there from the start (undefined): a parser that sets
 * one later does not give the record a shape of its own, so every parser's
 * records share one, and the join reads them at one known place each (with five
 * shapes and more, V8 looks every field up in a cache).
 */
export function newRecord(
  file: string,
  line: number,
  format: string,
  kind: LogRecord["kind"],
  product: string | null,
): LogRecord {
  return {
    time: null,
    status: null,
    statusInferred: false,
    method: null,
    path: null,
    client: null,
    ids: [],
    requestId: null,
    cause: "unknown",
    strength: STRENGTH.none,
    rules: [],
    message: "",
    product,
    denied: false,
    file,
    line,
    format,
    kind,
    alsoCauses: undefined,
    ruleMessages: undefined,
    reason: undefined,
    detectionOnly: undefined,
    passedOn: undefined,
  };
}

/** The shared empty list of a record the join keeps (its lists grow by concat, never push). */
export const NO_STRINGS = Object.freeze([]) as unknown as string[];

/**
 * A copy of `s` that does not keep alive the line it was cut from: V8 substrings
 * share their parent's storage, and the join window would otherwise hold whole lines.
 */
export function detach<T extends string | null>(s: T): T {
  // Shorter substrings are copies already. A JSON round trip gives the same
  // string as one flat copy (slicing a copy would keep a slice and its parent:
  // two objects, twice the bytes, for every request waiting in the window).
  if (s === null || s.length < 13) return s;
  return JSON.parse(JSON.stringify(s)) as T;
}

/**
 * Messages, paths, methods, formats and rule ids repeat from one request to the
 * next: the window keeps one detached copy of each, shared, instead of one per
 * request. Bounded: when the pool is full it starts again empty.
 */
const POOL_MAX = 4096;
const POOL_MAX_LENGTH = 256;
const pool = new Map<string, string>();

export function pooled<T extends string | null>(s: T): T {
  // Short ones too: a short substring is a copy of its own (no line kept alive),
  // but still one string per request ("POST", "/login", "949110").
  if (s === null || s.length > POOL_MAX_LENGTH) return detach(s);
  const known = pool.get(s);
  if (known !== undefined) return known as T;
  const own = detach(s);
  if (pool.size >= POOL_MAX) pool.clear();
  pool.set(own, own);
  return own;
}

/** Lets go of the pooled strings (the end of a scan). */
export function clearPool(): void {
  pool.clear();
}

export function isRefusalStatus(status: number | null): boolean {
  return status !== null && REFUSAL_STATUSES.has(status);
}

/** "POST /p?q HTTP/1.1" → method, path (query kept), or nulls for a garbled line. */
export const REQUEST_LINE_RE = /^([A-Z][A-Z0-9_-]{0,31}) (\S+)(?: HTTP\/[\d.]+)?$/;

export function splitRequestLine(line: string): { method: string | null; path: string | null } {
  const m = REQUEST_LINE_RE.exec(line.trim());
  if (!m) return { method: null, path: null };
  return { method: m[1] as string, path: m[2] as string };
}

/** The path part of a URL or path, without query or fragment: what joins and `--path` compare. */
export function pathOnly(target: string): string {
  let p = target;
  // A path ("/…") has no scheme: skip the regex (joins call this for every candidate pair).
  if (p.charCodeAt(0) !== 0x2f) {
    const scheme = /^[a-z][a-z0-9+.-]*:\/\/[^/]*/i.exec(p);
    if (scheme) p = p.slice(scheme[0].length) || "/";
  }
  const q = p.indexOf("?");
  const h = p.indexOf("#");
  const cut = q === -1 ? h : h === -1 ? q : Math.min(q, h);
  return cut === -1 ? p : p.slice(0, cut);
}

/** The patterns clientAddress applies (the ClickHouse query applies the same ones). */
export const CLIENT_RE = {
  mappedV4: /^::ffff:(?=\d+\.\d+\.\d+\.\d+)/i,
  bracketed: /^\[([^\]]+)\](?::\d+)?$/,
  v4WithPort: /^\d{1,3}(\.\d{1,3}){3}:\d+$/,
  port: /:\d{1,5}$/,
};

/**
 * A client address as logged. `withPort`: the source always appends ":port"
 * (Apache's "[client 1.2.3.4:5678]", "[client ::1:5678]"), so the last ":digits" goes.
 */
export function clientAddress(raw: string, withPort = false): string {
  const plain = plainV4Like(raw);
  // Digits and dots: none of the patterns below changes it.
  if (plain === raw.length) return raw;
  // Digits and dots, ":" and digits: the patterns below strip a port of up to five
  // digits when the source appends one or the address is a dotted quad.
  if (plain > 0 && digitsFrom(raw, plain + 1)) {
    const strip = (withPort || dottedQuad(raw, plain)) && raw.length - plain - 1 <= 5;
    return strip ? raw.slice(0, plain) : raw;
  }
  // IPv4-mapped IPv6 ("::ffff:127.0.0.1", as Node logs it) is the IPv4 address.
  const s = raw.trim().replace(/^"|"$/g, "").replace(CLIENT_RE.mappedV4, "");
  const bracketed = CLIENT_RE.bracketed.exec(s);
  if (bracketed) return bracketed[1] as string;
  if (withPort || CLIENT_RE.v4WithPort.test(s)) return s.replace(CLIENT_RE.port, "");
  return s;
}

/** How many leading characters of `s` are digits and dots, stopping at the first other one; -1 when that one is not ":". */
function plainV4Like(s: string): number {
  let i = 0;
  for (; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if ((c < 0x30 || c > 0x39) && c !== 0x2e) break;
  }
  return i === s.length || s.charCodeAt(i) === 0x3a ? i : -1;
}

/** s[0, end) (digits and dots) is four groups of one to three digits: `\d{1,3}(\.\d{1,3}){3}`. */
function dottedQuad(s: string, end: number): boolean {
  let groups = 0;
  let run = 0;
  for (let i = 0; i <= end; i++) {
    if (i < end && s.charCodeAt(i) !== 0x2e) {
      run++;
      continue;
    }
    if (run < 1 || run > 3) return false;
    groups++;
    run = 0;
  }
  return groups === 4;
}

/** s[from..] is one or more ASCII digits. */
function digitsFrom(s: string, from: number): boolean {
  if (from >= s.length) return false;
  for (let i = from; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c < 0x30 || c > 0x39) return false;
  }
  return true;
}

/** Keeps text bounded in entries and facts. */
export function clip(text: string, max = 300): string {
  return text.length > max ? `${text.slice(0, max - 1)}…` : text;
}

export function addId(rec: LogRecord, id: string | null | undefined): void {
  if (!id || id === "-" || id.length > 200) return;
  if (!rec.ids.includes(id)) rec.ids.push(id);
}

/** Sets the weak, status-only cause of a record that has no better one. */
export function causeFromStatusRecord(rec: LogRecord): void {
  const cause = causeFromStatus(rec.status);
  if (cause !== "unknown" && rec.strength < STRENGTH.status) {
    rec.cause = cause;
    rec.strength = STRENGTH.status;
  }
}
