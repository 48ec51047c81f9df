// Saved raw HTTP responses → ResponseModel / Exchange. Understands the output
// of `curl -i` / `curl -si` (several responses in a row with -L or after a
// 100 Continue) and of `curl -v` (`<` response lines, `>` request lines, `*`
// info lines, body unprefixed). The text is handled as latin1 so that every
// character is one byte and Content-Length offsets stay exact.

import { brotliDecompressSync, constants, gunzipSync, inflateSync } from "node:zlib";
import { InputError } from "../errors.js";
import { headerValue as firstValue } from "../headers.js";
import { MAX_DECODED_BODY_BYTES, MAX_RESPONSE_BODY_BYTES, MAX_RESPONSE_HEADERS } from "../limits.js";
import type { Exchange, Header, RequestModel, ResponseModel } from "../model.js";
import { looksBinary } from "./read-input.js";

const STATUS_LINE = /^HTTP\/(\d(?:\.\d)?) +(\d{3})(?:[ \t]+([^\r\n]*))?\r?$/;
const HEADER_LINE = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+:/;

interface ParsedRaw {
  responses: ResponseModel[];
  /** Requests shown by `curl -v` (`>` lines), in order. */
  requests: RequestModel[];
}

function capBody(body: Buffer): { body: Buffer; truncated: boolean } {
  if (body.length <= MAX_RESPONSE_BODY_BYTES) return { body, truncated: false };
  return { body: body.subarray(0, MAX_RESPONSE_BODY_BYTES), truncated: true };
}

function startsWithGzipMagic(body: Buffer): boolean {
  return body.length >= 2 && body[0] === 0x1f && body[1] === 0x8b;
}

/** A zlib header: 0x78 (deflate, 32K window) and a check byte making the pair a multiple of 31. */
function startsWithZlibHeader(body: Buffer): boolean {
  return body.length >= 2 && body[0] === 0x78 && (body[0] * 256 + body[1]!) % 31 === 0;
}

type DecodeStep = Buffer | "not-this-format" | "failed";

/** Sync flush turns a cut-off header into empty output; only a strict decode tells that from an empty body. */
function nonEmptyOrStrict(out: Buffer, strict: () => Buffer): Buffer {
  return out.length > 0 ? out : strict();
}

/** One encoding undone; "not-this-format" when the bytes are not in that format. */
function decodeOneSaved(body: Buffer, encoding: string): DecodeStep {
  // Sync flush lets a body cut at the byte cap decode as far as it goes.
  const zlibOptions = { finishFlush: constants.Z_SYNC_FLUSH, maxOutputLength: MAX_DECODED_BODY_BYTES };
  try {
    switch (encoding) {
      case "gzip":
      case "x-gzip":
        if (!startsWithGzipMagic(body)) return "not-this-format";
        return nonEmptyOrStrict(gunzipSync(body, zlibOptions), () => gunzipSync(body));
      case "deflate":
        if (!startsWithZlibHeader(body)) return "not-this-format";
        return nonEmptyOrStrict(inflateSync(body, zlibOptions), () => inflateSync(body));
      case "br": {
        // Brotli has no magic bytes: try it; text curl already decoded does not parse as brotli.
        const out = brotliDecompressSync(body, { maxOutputLength: MAX_DECODED_BODY_BYTES });
        return out.length > 0 ? out : "not-this-format";
      }
      default:
        return "not-this-format";
    }
  } catch (error) {
    // Past MAX_DECODED_BODY_BYTES (a decompression bomb) the data was in the format but too big.
    if ((error as { code?: unknown }).code === "ERR_BUFFER_TOO_LARGE") return "failed";
    return encoding === "br" ? "not-this-format" : "failed";
  }
}

/**
 * Undoes a saved body's Content-Encoding (curl -si without --compressed keeps
 * the compressed bytes). Only a body that really is in the named format is
 * decoded; one that is not (curl --compressed already decoded it) is kept as
 * it is. One that should decode but does not, or would exceed
 * MAX_DECODED_BODY_BYTES, is kept raw and marked truncated.
 */
export function decodeSavedBody(
  headers: Header[],
  body: Buffer,
  truncated: boolean,
): { body: Buffer; truncated: boolean } {
  const encodings = (headerValue(headers, "content-encoding") ?? "")
    .split(",")
    .map((e) => e.trim().toLowerCase())
    .filter((e) => e !== "" && e !== "identity");
  let current = body;
  // Encodings are listed in the order applied, so they are undone in reverse.
  for (const encoding of encodings.reverse()) {
    if (current.length === 0) break;
    const step = decodeOneSaved(current, encoding);
    if (step === "not-this-format") break;
    if (step === "failed") return { body, truncated: true };
    current = step;
  }
  return { body: current, truncated };
}

function headerValue(headers: Header[], name: string): string | undefined {
  return firstValue(headers, name) ?? undefined;
}

/** Parses header lines; folded continuation lines join the previous header. */
function parseHeaderLines(lines: string[]): Header[] {
  const headers: Header[] = [];
  for (const line of lines) {
    if ((line.startsWith(" ") || line.startsWith("\t")) && headers.length > 0) {
      const last = headers[headers.length - 1]!;
      last[1] = `${last[1]} ${line.trim()}`;
      continue;
    }
    const colon = line.indexOf(":");
    if (colon <= 0) continue; // not a header; ignore rather than fail
    if (headers.length >= MAX_RESPONSE_HEADERS) break;
    headers.push([line.slice(0, colon).trim(), latin1ToUtf8(line.slice(colon + 1).trim())]);
  }
  return headers;
}

/** Header values are bytes; show UTF-8 when they are valid UTF-8. */
function latin1ToUtf8(s: string): string {
  if (!/[\u0080-\u00ff]/.test(s)) return s;
  const bytes = Buffer.from(s, "latin1");
  try {
    return new TextDecoder("utf-8", { fatal: true }).decode(bytes);
  } catch {
    return s;
  }
}

/** Index of the end of the line starting at `pos` (before \r\n or \n), and of the next line. */
function lineAt(text: string, pos: number): { line: string; next: number } {
  const nl = text.indexOf("\n", pos);
  const end = nl < 0 ? text.length : nl;
  const line = text.slice(pos, end).replace(/\r$/, "");
  return { line, next: nl < 0 ? text.length : nl + 1 };
}

/** A status line that the next line confirms (a header, a blank line or the end). */
function isResponseStart(text: string, pos: number): boolean {
  const { line, next } = lineAt(text, pos);
  if (!STATUS_LINE.test(line)) return false;
  if (next >= text.length) return true;
  const following = lineAt(text, next).line;
  return following === "" || HEADER_LINE.test(following);
}

/** Start of the next response after `from`, at a line start, or -1. */
function findNextResponse(text: string, from: number): number {
  let pos = from;
  while (pos < text.length) {
    const idx = text.indexOf("HTTP/", pos);
    if (idx < 0) return -1;
    if ((idx === from || text[idx - 1] === "\n") && isResponseStart(text, idx)) return idx;
    pos = idx + 5;
  }
  return -1;
}

function onlyWhitespaceFrom(text: string, pos: number): boolean {
  const nonSpace = /\S/g;
  nonSpace.lastIndex = pos;
  return nonSpace.exec(text) === null;
}

function skipLineBreaks(text: string, pos: number): number {
  let p = pos;
  while (p < text.length && (text[p] === "\r" || text[p] === "\n")) p++;
  return p;
}

function parsePlain(text: string, start: number): ResponseModel[] {
  const responses: ResponseModel[] = [];
  let pos = start;
  while (pos < text.length) {
    const status = lineAt(text, pos);
    const m = STATUS_LINE.exec(status.line)!;
    const headerLines: string[] = [];
    let p = status.next;
    let ended = false;
    while (p < text.length) {
      const { line, next } = lineAt(text, p);
      p = next;
      if (line === "") {
        ended = true;
        break;
      }
      headerLines.push(line);
    }
    const headers = parseHeaderLines(headerLines);
    const code = Number(m[2]);
    const bodyStart = ended ? p : text.length;
    let bodyEnd = text.length;
    let nextStart = -1;

    const afterBreaks = skipLineBreaks(text, bodyStart);
    if (isResponseStart(text, afterBreaks)) {
      // No body: 1xx, HEAD (-I) output, or an empty body before the next block.
      bodyEnd = bodyStart;
      nextStart = afterBreaks;
    } else {
      const cl = Number(headerValue(headers, "content-length") ?? "NaN");
      const encoded = headerValue(headers, "content-encoding") !== undefined;
      const byLength = Number.isSafeInteger(cl) && cl >= 0 && !encoded ? bodyStart + cl : -1;
      if (byLength >= 0 && byLength <= text.length) {
        const after = skipLineBreaks(text, byLength);
        if (after >= text.length || onlyWhitespaceFrom(text, byLength)) {
          bodyEnd = byLength;
        } else if (isResponseStart(text, after)) {
          bodyEnd = byLength;
          nextStart = after;
        }
      }
      if (nextStart < 0 && bodyEnd === text.length) {
        const found = findNextResponse(text, bodyStart);
        if (found >= 0) {
          bodyEnd = found;
          nextStart = found;
        } else if (byLength >= 0 && byLength < text.length) {
          // Extra text after the declared length (e.g. curl -w output) is not body.
          bodyEnd = byLength;
        }
      }
    }
    const capped = capBody(Buffer.from(text.slice(bodyStart, bodyEnd), "latin1"));
    const { body, truncated } = decodeSavedBody(headers, capped.body, capped.truncated);
    responses.push({
      status: code,
      statusText: (m[3] ?? "").trim(),
      httpVersion: `HTTP/${m[1]}`,
      headers,
      body,
      bodyTruncated: truncated,
    });
    if (nextStart < 0) break;
    pos = nextStart;
  }
  return responses;
}

interface VerboseRequest {
  method: string;
  target: string;
  headerLines: string[];
  /** The address curl was connected to when it sent this request, if the output says. */
  connection: Connection | null;
}

interface Connection {
  host: string;
  port: number;
  tls: boolean;
}

/** "* Connected to host (ip) port N (#0)" (curl ≥ 8 drops the "(#0)"). */
const CONNECTED_LINE = /^\* +Connected to (\S+) \(([^)]*)\) port (\d+)/;
/** "*   Trying 127.0.0.1:39205..." / "*   Trying [::1]:8080..." */
const TRYING_LINE = /^\* +Trying (\[[^\]]+\]|[^\s:]+):(\d+)/;

function bracketIpv6(host: string): string {
  return host.includes(":") && !host.startsWith("[") ? `[${host}]` : host;
}

function parseVerbose(text: string): ParsedRaw {
  const responses: ResponseModel[] = [];
  const rawRequests: VerboseRequest[] = [];
  let scheme: string | null = null;
  let tls = false;
  // The connection the next request goes over; TLS lines follow "Connected to".
  let connection: Connection | null = null;
  let connectionTls = false;
  // After "> CONNECT host:port" the next response is the proxy's, not the server's.
  let proxyReplyPending = false;
  let skippingProxyReply = false;
  let current: { m: RegExpExecArray; headerLines: string[]; body: string[]; inBody: boolean } | null = null;
  let request: VerboseRequest | null = null;
  const flush = () => {
    if (!current) return;
    const headers = parseHeaderLines(current.headerLines);
    const capped = capBody(Buffer.from(current.body.join("\n"), "latin1"));
    const { body, truncated } = decodeSavedBody(headers, capped.body, capped.truncated);
    // With only stderr saved, the body that went to stdout is missing.
    const missing = body.length === 0 && Number(headerValue(headers, "content-length") ?? 0) > 0;
    responses.push({
      status: Number(current.m[2]),
      statusText: (current.m[3] ?? "").trim(),
      httpVersion: `HTTP/${current.m[1]}`,
      headers,
      body,
      bodyTruncated: truncated || missing,
    });
    current = null;
  };
  const rawLines = text.split("\n");
  if (rawLines[rawLines.length - 1] === "") rawLines.pop();
  for (const raw of rawLines) {
    let line = raw.replace(/\r$/, "");
    // A body without a final newline runs into curl's closing info line.
    const glued = current?.inBody ? /^(.+?)(\* (?:Connection #|Closing connection).*)$/.exec(line) : null;
    if (glued) {
      current!.body.push(glued[1]!);
      line = glued[2]!;
    }
    if (line.startsWith("*")) {
      const trying = TRYING_LINE.exec(line);
      if (trying && !proxyReplyPending) {
        connection = { host: trying[1]!, port: Number(trying[2]), tls: false };
        connectionTls = false;
      }
      const connected = CONNECTED_LINE.exec(line);
      if (connected && !proxyReplyPending) {
        connection = { host: bracketIpv6(connected[1]!), port: Number(connected[3]), tls: false };
      }
      if (/^\* (?:SSL|TLS|ALPN)/.test(line)) tls = connectionTls = true;
      const s = /\[:scheme: (https?)\]/.exec(line);
      if (s) {
        scheme = s[1]!;
        connectionTls = scheme === "https";
      }
      continue;
    }
    if (/^[{}] \[/.test(line)) continue; // "{ [512 bytes data]" progress markers
    if (line.startsWith(">")) {
      const content = line.slice(line.startsWith("> ") ? 2 : 1);
      const rl = /^([A-Z][A-Z0-9_-]*) (\S+) HTTP\/[\d.]+$/.exec(content);
      const tunnel = rl?.[1] === "CONNECT" ? /^(\[[^\]]+\]|[^:]+):(\d+)$/.exec(rl[2]!) : null;
      if (tunnel) {
        // A proxy tunnel: the request that follows goes to the tunnel's end.
        connection = { host: tunnel[1]!, port: Number(tunnel[2]), tls: false };
        connectionTls = false;
        proxyReplyPending = true;
        request = null;
      } else if (rl) {
        const via = connection ? { ...connection, tls: connectionTls || connection.port === 443 } : null;
        request = { method: rl[1]!, target: rl[2]!, headerLines: [], connection: via };
        rawRequests.push(request);
      } else if (request && content !== "") {
        request.headerLines.push(content);
      }
      continue;
    }
    if (line.startsWith("<")) {
      const content = line.slice(line.startsWith("< ") ? 2 : 1);
      const m = STATUS_LINE.exec(content);
      if (m && proxyReplyPending) {
        flush();
        proxyReplyPending = false;
        skippingProxyReply = true;
        continue;
      }
      if (skippingProxyReply) {
        if (content === "") skippingProxyReply = false;
        continue;
      }
      if (m) {
        flush();
        current = { m, headerLines: [], body: [], inBody: false };
      } else if (current && !current.inBody) {
        if (content === "") current.inBody = true;
        else current.headerLines.push(content);
      }
      continue;
    }
    if (current?.inBody) current.body.push(line);
  }
  flush();
  const defaultScheme = scheme ?? (tls ? "https" : "http");
  const requests = rawRequests.map((r) => verboseToRequest(r, defaultScheme));
  return { responses, requests };
}

/**
 * The request's URL points where curl really connected (a `-H "Host: ..."`
 * vhost can differ from the address); the Host header stays as sent, so a
 * replay reaches the same server with the same vhost.
 */
function verboseToRequest(r: VerboseRequest, scheme: string): RequestModel {
  const headers = parseHeaderLines(r.headerLines);
  let url = "unknown:";
  if (/^https?:\/\//i.test(r.target)) url = r.target;
  else {
    const conn = r.connection;
    const origin = conn
      ? `${conn.tls ? "https" : "http"}://${conn.host}:${conn.port}`
      : `${scheme}://${headerValue(headers, "host") ?? ""}`;
    try {
      url = new URL(r.target.startsWith("/") ? r.target : `/${r.target}`, origin).href;
    } catch {
      url = "unknown:";
    }
  }
  return { method: r.method, url, headers, body: null, options: {} };
}

function startsLikeText(text: string): boolean {
  const head = text.trimStart().slice(0, 16);
  return /^(HTTP\/|[<>*] )/.test(head);
}

function parseRaw(buf: Buffer): ParsedRaw {
  if (buf.length === 0) throw new InputError("the response file is empty");
  const text = buf.toString("latin1");
  if (!startsLikeText(text) && looksBinary(buf)) {
    throw new InputError(
      "the response file looks like binary data, not a saved HTTP response (try curl -si)",
    );
  }
  if (/^< HTTP\/\d(?:\.\d)? +\d{3}/m.test(text)) {
    const parsed = parseVerbose(text);
    if (parsed.responses.length > 0) return parsed;
  }
  const first = findNextResponse(text, 0);
  if (first < 0) {
    throw new InputError(
      "no HTTP status line (like 'HTTP/1.1 403 Forbidden') found; save the response with curl -si",
    );
  }
  return { responses: parsePlain(text, first), requests: [] };
}

/**
 * All responses in a saved `curl -i` / `curl -si` / `curl -v` output, in
 * order (1xx interim responses and redirect hops included).
 */
export function parseRawResponses(buf: Buffer): ResponseModel[] {
  return parseRaw(buf).responses;
}

/** The request that follows a redirect, as curl does without -X. */
function nextHop(prev: RequestModel, res: ResponseModel): RequestModel {
  const location = headerValue(res.headers, "location");
  let url = "unknown:";
  if (location) {
    try {
      url = new URL(location, prev.url === "unknown:" ? undefined : prev.url).href;
    } catch {
      url = "unknown:";
    }
  }
  // curl -X keeps its method across redirects; otherwise it follows browsers.
  const toGet = prev.options.explicitMethod
    ? false
    : res.status === 303
      ? prev.method !== "HEAD"
      : (res.status === 301 || res.status === 302) && prev.method === "POST";
  if (!toGet) return { ...prev, url };
  const headers = prev.headers.filter(([n]) => !/^content-(type|length)$/i.test(n));
  return { ...prev, url, method: "GET", headers, body: null };
}

/**
 * The last response in the file is the exchange's response; earlier non-1xx
 * responses become its redirects. Without `request`, the request is rebuilt
 * from `curl -v` `>` lines when present; otherwise it is the placeholder
 * `{ method: "GET", url: "unknown:" }` (a saved response does not record it).
 */
export function exchangeFromRawResponse(buf: Buffer, request?: RequestModel): Exchange {
  const { responses, requests } = parseRaw(buf);
  const finals = responses.filter((r) => r.status >= 200 || r.status < 100);
  if (finals.length === 0) throw new InputError("the response file holds only interim (1xx) responses");
  let req: RequestModel = request ??
    requests[0] ?? { method: "GET", url: "unknown:", headers: [], body: null, options: {} };
  const hops: Exchange[] = [];
  for (let i = 0; i < finals.length; i++) {
    const res = finals[i]!;
    if (i > 0) req = (!request && requests[i]) || nextHop(req, finals[i - 1]!);
    hops.push({ request: req, response: res, redirects: [] });
  }
  const exchange = hops.pop()!;
  exchange.redirects = hops;
  const date = headerValue(exchange.response.headers, "date");
  if (date) {
    const d = new Date(date);
    if (!Number.isNaN(d.getTime())) exchange.startedAt = d;
  }
  return exchange;
}
