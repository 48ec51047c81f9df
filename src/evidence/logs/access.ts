// nginx / Apache access logs in the common, combined and vhost_combined
// formats, with any extra fields after them (request ids, timings).

import { cachedMatcher } from "./match-cache.js";
import type { AccessFields } from "./prefilter.js";
import {
  addId,
  causeFromStatusRecord,
  clientAddress,
  isRefusalStatus,
  makeRecord,
  newRecord,
  pooled,
  splitRequestLine,
} from "./record.js";
import { parseClfTime } from "./time.js";
import type { LogRecord } from "./types.js";

const QUOTED = String.raw`"((?:[^"\\]|\\.)*)"`;
// [vhost:port ]client ident user [time] "request" status bytes ["referer" "agent"] rest
export const ACCESS_RE = new RegExp(
  String.raw`^(?:(\S+):(\d+) )?(\S+) (\S+) (\S+) \[([^\]]+)\] ${QUOTED} (\d{3}) (\S+)(?: ${QUOTED} ${QUOTED})?(.*)$`,
);

export type AccessFlavour = "common" | "combined" | "vhost_combined";

export interface ParsedAccess {
  flavour: AccessFlavour;
  extra: boolean;
}

/** The dispatcher asks "is it one?" then parses the same line: one match for both. */
const matchLine = cachedMatcher(ACCESS_RE);

/** Which access format a line is in, or null. */
export function sniffAccess(line: string): ParsedAccess | null {
  const m = matchLine(line);
  if (!m || !parseClfTime(m[6] as string)) return null;
  const flavour: AccessFlavour = m[1] ? "vhost_combined" : m[10] !== undefined ? "combined" : "common";
  return { flavour, extra: (m[12] ?? "").trim() !== "" };
}

// Trailing fields that carry a request id: key=value or key="value".
export const ID_FIELD =
  /\b(x?rid|x?req(?:uest)?_?id|x_request_id|request-id|trace_?id|uid|unique_id)=("([^"]*)"|\S+)/gi;
const HEX_ID =
  /(?:^|\s)"?([0-9a-f]{32}|[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12})"?(?=\s|$)/gi;

/** Request ids found in the fields after the standard ones. The caller's X-Request-Id first. */
export function idsFromTail(tail: string): { requestId: string | null; ids: string[] } {
  const ids: string[] = [];
  let callerId: string | null = null;
  let namedId: string | null = null;
  for (const m of tail.matchAll(ID_FIELD)) {
    const key = (m[1] as string).toLowerCase();
    const value = m[3] ?? m[2] ?? "";
    if (!value || value === "-" || value === '""') continue;
    ids.push(value);
    // x-prefixed keys hold the caller's X-Request-Id: the id to show.
    if (key.startsWith("x") && callerId === null) callerId = value;
    if (namedId === null && key !== "uid" && key !== "unique_id") namedId = value;
  }
  let requestId = callerId ?? namedId ?? ids[0] ?? null;
  if (ids.length === 0) {
    for (const m of tail.matchAll(HEX_ID)) ids.push(m[1] as string);
    requestId = ids[0] ?? null;
  }
  return { requestId, ids };
}

/** One access line to a record; `denied` only for refusal statuses. Null when the line is not an access line. */
export function parseAccessLine(line: string, file: string, n: number, format: string): LogRecord | null {
  const m = matchLine(line);
  if (!m) return null;
  const time = parseClfTime(m[6] as string);
  if (!time) return null;
  const status = Number(m[8]);
  const { method, path } = splitRequestLine((m[7] as string).replace(/\\"/g, '"'));
  const rec = makeRecord({
    file,
    line: n,
    format,
    kind: "access",
    time,
    status,
    method,
    path,
    client: clientAddress(m[3] as string),
    product: null,
    message: `${m[7]} → ${status}`,
    denied: isRefusalStatus(status),
  });
  const { requestId, ids } = idsFromTail(m[12] ?? "");
  for (const id of ids) addId(rec, id);
  rec.requestId = requestId;
  causeFromStatusRecord(rec);
  return rec;
}

const SP = 0x20;
const QUOTE = 0x22;
const BACKSLASH = 0x5c;
const ESCAPED_QUOTE = /\\"/g;

/**
 * The record parseAccessLine would make of buf[s, e), built from the positions
 * the prefilter found (LinePrefilter.accessCheck gave ACCESS_REFUSED), without
 * decoding the whole line or running ACCESS_RE. Null when the rest of the line
 * is unusual enough (a non-ASCII or tab byte in the bytes field) to leave it to
 * the regex.
 */
export function accessRecordFromBytes(
  buf: Buffer,
  e: number,
  f: AccessFields,
  file: string,
  n: number,
): LogRecord | null {
  // (\S+) bytes field: printable ASCII up to a space or the end.
  let b = f.close + 6;
  while (b < e) {
    const c = buf[b] as number;
    if (c === SP) break;
    if (c < 0x21 || c > 0x7e) return null;
    b++;
  }
  // (?: "referer" "agent")? then the rest.
  let tailStart = b;
  let quotedPair = false;
  if (b + 1 < e && buf[b + 1] === QUOTE) {
    const r = closingQuote(buf, b + 2, e);
    if (r !== -1 && r + 2 < e && buf[r + 1] === SP && buf[r + 2] === QUOTE) {
      const a = closingQuote(buf, r + 3, e);
      if (a !== -1) {
        tailStart = a + 1;
        quotedPair = true;
      }
    }
  }
  const tail = tailStart < e ? buf.toString("utf8", tailStart, e) : "";
  const extra = tail.trim() !== "";
  const flavour: AccessFlavour = f.vhost ? "vhost_combined" : quotedPair ? "combined" : "common";
  const format = FORMAT_NAMES[flavour][extra ? 1 : 0];
  const request = buf.toString("utf8", f.open + 1, f.close);
  const status = f.status;
  const parts = requestParts(request, status);
  // The record makeRecord would give, without spreading an argument object per line.
  const rec = newRecord(file, n, format, "access", null);
  rec.time = f.time;
  rec.status = status;
  rec.method = parts.method;
  rec.path = parts.path;
  rec.client = clientAddress(buf.toString("latin1", f.clientStart, f.clientEnd));
  rec.message = parts.message;
  rec.denied = isRefusalStatus(status);
  if (tail !== "") {
    const { requestId, ids } = idsFromTail(tail);
    for (const id of ids) addId(rec, id);
    rec.requestId = requestId;
  }
  causeFromStatusRecord(rec);
  return rec;
}

/** An access line's request text, split, and its message for the last status it came with. */
interface RequestParts {
  method: string | null;
  path: string | null;
  status: number;
  message: string;
}

/**
 * Refused requests repeat ("POST /login HTTP/1.1" → 403): their split and
 * message are kept per request text, shared by every record that has them, and
 * bounded: when full it starts again empty.
 */
const partsCache = new Map<string, RequestParts>();
const PARTS_MAX = 4096;
const PARTS_MAX_LENGTH = 256;

function requestParts(request: string, status: number): RequestParts {
  if (request.length > PARTS_MAX_LENGTH) return splitRequest(request, status);
  let parts = partsCache.get(request);
  if (parts === undefined) {
    parts = splitRequest(request, status);
    if (partsCache.size >= PARTS_MAX) partsCache.clear();
    partsCache.set(request, parts);
  } else if (parts.status !== status) {
    parts.status = status;
    parts.message = pooled(`${request} → ${status}`);
  }
  return parts;
}

function splitRequest(request: string, status: number): RequestParts {
  // Most request lines hold no escaped quote: no pattern to run then.
  const unescaped = request.includes("\\") ? request.replace(ESCAPED_QUOTE, '"') : request;
  const { method, path } = splitRequestLine(unescaped);
  return { method: pooled(method), path: pooled(path), status, message: pooled(`${request} → ${status}`) };
}

const FORMAT_NAMES: Record<AccessFlavour, [string, string]> = {
  common: ["access-common", "access-common+fields"],
  combined: ["access-combined", "access-combined+fields"],
  vhost_combined: ["access-vhost_combined", "access-vhost_combined+fields"],
};

/** The first unescaped quote in buf[from, e), or -1 (the end of a QUOTED field). */
function closingQuote(buf: Buffer, from: number, e: number): number {
  let c = buf.indexOf(QUOTE, from);
  while (c !== -1 && c < e) {
    let k = c - 1;
    while (k >= from && buf[k] === BACKSLASH) k--;
    if ((c - 1 - k) % 2 === 0) return c;
    c = buf.indexOf(QUOTE, c + 1);
  }
  return -1;
}
