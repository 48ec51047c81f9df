// Sends one request with undici: no automatic redirects, a per-request timeout,
// capped body and header sizes, decoding with a bomb-proof output cap, and
// network failures turned into typed, readable messages.

import { STATUS_CODES } from "node:http";
import { Agent, type Dispatcher, ProxyAgent } from "undici";
import {
  DEFAULT_TIMEOUT_MS,
  MAX_DECODED_BODY_BYTES,
  MAX_RESPONSE_BODY_BYTES,
  MAX_RESPONSE_HEADER_BYTES,
  MAX_RESPONSE_HEADERS,
} from "../limits.js";
import type { Header, RequestModel, ResponseModel } from "../model.js";
import { redactUrl } from "../redact.js";
import { decodeBody } from "./decode.js";
import type { NetworkFailure, SendOptions, SendResult, Transport } from "./types.js";

// Headers undici computes itself or refuses; the request body may have been
// changed by an experiment, so a copied Content-Length would be wrong.
const HOP_HEADERS = new Set([
  "content-length",
  "transfer-encoding",
  "connection",
  "keep-alive",
  "upgrade",
  "expect",
  "te",
]);

function outgoingHeaders(headers: Header[]): string[] {
  const flat: string[] = [];
  for (const [name, value] of headers) {
    if (HOP_HEADERS.has(name.toLowerCase())) continue;
    flat.push(name, value);
  }
  return flat;
}

function rawHeaderPairs(raw: unknown, parsed: Record<string, string | string[] | undefined>): Header[] {
  const out: Header[] = [];
  if (Array.isArray(raw) && raw.length > 0) {
    for (let i = 0; i + 1 < raw.length && out.length < MAX_RESPONSE_HEADERS; i += 2) {
      out.push([String(raw[i]), String(raw[i + 1])]);
    }
    return out;
  }
  for (const [name, value] of Object.entries(parsed)) {
    if (value === undefined) continue;
    for (const v of Array.isArray(value) ? value : [value]) {
      if (out.length >= MAX_RESPONSE_HEADERS) return out;
      out.push([name, v]);
    }
  }
  return out;
}

function headerValue(headers: Header[], name: string): string | null {
  const lower = name.toLowerCase();
  const found = headers.find(([n]) => n.toLowerCase() === lower);
  return found ? found[1] : null;
}

const TLS_CODES: Record<string, string> = {
  DEPTH_ZERO_SELF_SIGNED_CERT: "the server's certificate is self-signed",
  SELF_SIGNED_CERT_IN_CHAIN: "the server's certificate chain ends in a self-signed certificate",
  CERT_HAS_EXPIRED: "the server's certificate has expired",
  CERT_NOT_YET_VALID: "the server's certificate is not valid yet",
  UNABLE_TO_VERIFY_LEAF_SIGNATURE:
    "the server's certificate cannot be verified (missing intermediate certificate?)",
  UNABLE_TO_GET_ISSUER_CERT_LOCALLY: "the server's certificate was issued by an unknown authority",
  ERR_TLS_CERT_ALTNAME_INVALID: "the server's certificate does not cover this host name",
};

/** Maps a thrown error to a typed failure with a sentence a person can act on. */
export function classifyNetworkError(error: unknown, url: string, timeoutMs: number): NetworkFailure {
  const e = error as { code?: string; name?: string; message?: string; cause?: unknown };
  const cause = (e?.cause ?? {}) as { code?: string; message?: string };
  const code = e?.code ?? cause.code ?? "";
  const where = redactUrl(url);
  let host = where;
  try {
    host = new URL(url).host;
  } catch {
    // keep the redacted URL
  }
  if (code in TLS_CODES || cause.code! in TLS_CODES) {
    const reason = TLS_CODES[code] ?? TLS_CODES[cause.code!]!;
    return {
      kind: "tls",
      message: `TLS failed for ${host}: ${reason}; if you trust this server (a test or internal host), add -k (--insecure) to the curl command`,
    };
  }
  if (/^ERR_TLS|^ERR_SSL|SSL|CERT/.test(code) || /certificate|ssl|tls/i.test(e?.message ?? "")) {
    return {
      kind: "tls",
      message: `TLS failed for ${host}: ${e?.message ?? code}; -k skips certificate checks`,
    };
  }
  if (
    code === "UND_ERR_HEADERS_TIMEOUT" ||
    code === "UND_ERR_BODY_TIMEOUT" ||
    code === "UND_ERR_CONNECT_TIMEOUT" ||
    code === "ETIMEDOUT" ||
    e?.name === "TimeoutError" ||
    e?.name === "AbortError"
  ) {
    return { kind: "timeout", message: `no answer from ${host} within ${timeoutMs} ms` };
  }
  if (code === "ECONNREFUSED")
    return {
      kind: "refused",
      message: `connection to ${host} refused (nothing listens there, or a firewall rejects it)`,
    };
  if (code === "ECONNRESET" || code === "UND_ERR_SOCKET" || code === "EPIPE") {
    return { kind: "reset", message: `the connection to ${host} was closed before an answer arrived` };
  }
  if (code === "ENOTFOUND" || code === "EAI_AGAIN" || code === "EAI_NONAME") {
    return { kind: "dns", message: `the host name in ${host} does not resolve` };
  }
  if (code === "UND_ERR_HEADERS_OVERFLOW") {
    return {
      kind: "too-large",
      message: `the response headers from ${host} exceed ${MAX_RESPONSE_HEADER_BYTES} bytes`,
    };
  }
  // llhttp's parse errors (HPE_*: bad chunk sizes, invalid header tokens) and length lies.
  const parseError =
    /^HPE_/.test(code) ||
    code === "UND_ERR_RES_CONTENT_LENGTH_MISMATCH" ||
    e?.name === "HTTPParserError" ||
    /does not match the HTTP\/1\.1 protocol/.test(`${e?.message ?? ""} ${cause.message ?? ""}`);
  if (parseError) {
    return {
      kind: "malformed",
      message: `the answer from ${host} is not valid HTTP (${e?.message ?? code})`,
    };
  }
  return { kind: "other", message: `request to ${where} failed: ${e?.message ?? String(error)}` };
}

interface RawResponse {
  status: number;
  statusText: string;
  headers: Header[];
  body: Buffer;
  truncated: boolean;
}

function dispatchOnce(
  dispatcher: Dispatcher,
  req: RequestModel,
  timeoutMs: number,
  maxBodyBytes: number,
  forwardProxy?: URL,
): Promise<RawResponse> {
  const url = new URL(req.url);
  // Through a forward proxy an http:// request goes to the proxy in absolute form
  // ("POST http://host/path"), as curl -x sends it; https:// uses a CONNECT tunnel.
  const headers = outgoingHeaders(req.headers);
  if (forwardProxy) {
    const names = headers.filter((_, i) => i % 2 === 0).map((n) => n.toLowerCase());
    if (!names.includes("host")) headers.push("host", url.host);
    if (forwardProxy.username && !names.includes("proxy-authorization")) {
      const user = `${decodeURIComponent(forwardProxy.username)}:${decodeURIComponent(forwardProxy.password)}`;
      headers.push("proxy-authorization", `Basic ${Buffer.from(user).toString("base64")}`);
    }
  }
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    let head: { status: number; statusText: string; headers: Header[] } | null = null;
    let done = false;
    let truncated = false;
    const settle = (fn: () => void) => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      fn();
    };
    const result = (): RawResponse => ({ ...head!, body: Buffer.concat(chunks), truncated });
    // The overall deadline: headers and body timeouts alone would let a slow drip run forever.
    let abortRequest: ((reason: Error) => void) | null = null;
    let timedOut: Error | null = null;
    const timer = setTimeout(() => {
      timedOut = new Error(`timeout after ${timeoutMs} ms`);
      timedOut.name = "TimeoutError";
      if (abortRequest) abortRequest(timedOut);
      settle(() => reject(timedOut));
    }, timeoutMs);
    dispatcher.dispatch(
      {
        origin: forwardProxy ? forwardProxy.origin : url.origin,
        path: forwardProxy ? url.origin + url.pathname + url.search : url.pathname + url.search,
        method: req.method as Dispatcher.HttpMethod,
        headers,
        body:
          req.body && req.body.length > 0
            ? req.body
            : req.method === "GET" || req.method === "HEAD"
              ? null
              : req.body,
        headersTimeout: timeoutMs,
        bodyTimeout: timeoutMs,
      },
      {
        onRequestStart(controller) {
          abortRequest = (reason) => controller.abort(reason);
          if (timedOut) controller.abort(timedOut);
        },
        onResponseStart(controller, statusCode, headers, statusMessage) {
          // 1xx answers come before the real one.
          if (statusCode < 200) return;
          const pairs = rawHeaderPairs(
            controller.rawHeaders,
            headers as Record<string, string | string[] | undefined>,
          );
          head = {
            status: statusCode,
            statusText: statusMessage || STATUS_CODES[statusCode] || "",
            headers: pairs,
          };
        },
        onResponseData(controller, chunk) {
          const room = maxBodyBytes - size;
          if (chunk.length >= room) {
            chunks.push(chunk.subarray(0, room));
            size += room;
            truncated = true;
            // Keep what we have; the rest is not read.
            settle(() => resolve(result()));
            controller.abort(new Error("body cap reached"));
            return;
          }
          chunks.push(chunk);
          size += chunk.length;
        },
        onResponseEnd() {
          if (head) settle(() => resolve(result()));
          else settle(() => reject(new Error("response ended without headers")));
        },
        onResponseError(_controller, error) {
          settle(() => reject(timedOut ?? error));
        },
      },
    );
  });
}

/** curl accepts a proxy without a scheme ("host:3128"): it means http://. */
function proxyUrl(proxy: string): URL {
  return new URL(/^[a-z][a-z0-9+.-]*:\/\//i.test(proxy) ? proxy : `http://${proxy}`);
}

/** The real network transport. Dispatchers are pooled per (insecure, proxy) and closed by close(). */
export function createHttpTransport(defaults: SendOptions = {}): Transport {
  const dispatchers = new Map<string, Dispatcher>();
  const dispatcherFor = (insecure: boolean, proxy: string | undefined): Dispatcher => {
    const key = `${insecure}|${proxy ?? ""}`;
    let d = dispatchers.get(key);
    if (!d) {
      const tls = { rejectUnauthorized: !insecure };
      d = proxy
        ? new ProxyAgent({
            uri: proxy,
            requestTls: tls,
            proxyTls: tls,
            maxHeaderSize: MAX_RESPONSE_HEADER_BYTES,
          })
        : new Agent({ connect: tls, maxHeaderSize: MAX_RESPONSE_HEADER_BYTES });
      dispatchers.set(key, d);
    }
    return d;
  };
  return {
    async send(req, opts = {}): Promise<SendResult> {
      const o = { ...defaults, ...opts };
      const timeoutMs = o.timeoutMs ?? req.options.timeoutMs ?? DEFAULT_TIMEOUT_MS;
      const insecure = o.insecure ?? req.options.insecure ?? false;
      const proxy = o.proxy ?? req.options.proxy;
      const started = Date.now();
      try {
        const forward = proxy && req.url.toLowerCase().startsWith("http:") ? proxyUrl(proxy) : undefined;
        const raw = await dispatchOnce(
          dispatcherFor(insecure, forward ? undefined : proxy),
          req,
          timeoutMs,
          o.maxBodyBytes ?? MAX_RESPONSE_BODY_BYTES,
          forward,
        );
        const decoded = await decodeBody(
          raw.body,
          headerValue(raw.headers, "content-encoding"),
          o.maxDecodedBytes ?? MAX_DECODED_BODY_BYTES,
        );
        const response: ResponseModel = {
          status: raw.status,
          statusText: raw.statusText,
          httpVersion: "HTTP/1.1",
          headers: raw.headers,
          body: decoded.body,
          bodyTruncated: raw.truncated || decoded.truncated,
        };
        return { ok: true, response, durationMs: Date.now() - started };
      } catch (error) {
        return {
          ok: false,
          failure: classifyNetworkError(error, req.url, timeoutMs),
          durationMs: Date.now() - started,
        };
      }
    },
    async close() {
      const all = [...dispatchers.values()];
      dispatchers.clear();
      await Promise.all(all.map((d) => d.close().catch(() => undefined)));
    },
  };
}
