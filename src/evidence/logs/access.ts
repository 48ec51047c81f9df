// nginx / Apache access logs in the common, combined and vhost_combined
// formats, with any extra fields after them (request ids, timings).
import {
  addId,
  causeFromStatusRecord,
  clientAddress,
  isRefusalStatus,
  makeRecord,
  splitRequestLine,
} from "./record.js";
import { parseClfTime } from "./time.js";
import type { LogRecord } from "./types.js";

const QUOTED = String.raw`"((?:[^"\\]|\\.)*)"`;
// [vhost:port ]client ident user [time] "request" status bytes ["referer" "agent"] rest
const ACCESS_RE = new RegExp(
  String.raw`^(?:(\S+):(\d+) )?(\S+) (\S+) (\S+) \[([^\]]+)\] ${QUOTED} (\d{3}) (\S+)(?: ${QUOTED} ${QUOTED})?(.*)$`,
);

export type AccessFlavour = "common" | "combined" | "vhost_combined";

export interface ParsedAccess {
  flavour: AccessFlavour;
  extra: boolean;
}

/** Which access format a line is in, or null. */
export function sniffAccess(line: string): ParsedAccess | null {
  const m = ACCESS_RE.exec(line);
  if (!m || !parseClfTime(m[6] as string)) return null;
  const flavour: AccessFlavour = m[1] ? "vhost_combined" : m[10] !== undefined ? "combined" : "common";
  return { flavour, extra: (m[12] ?? "").trim() !== "" };
}

// Trailing fields that carry a request id: key=value or key="value".
const ID_FIELD =
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
  const m = ACCESS_RE.exec(line);
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
