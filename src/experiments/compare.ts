// Whether an answer repeats the baseline refusal. "The same way" means the
// same status from the same responder with the same kind of page; a different
// status from the same host counts as passing.

import type { FingerprintResult } from "../fingerprint/match.js";
import { headerValue as listValue } from "../headers.js";
import type { Header, ResponseModel } from "../model.js";

export function sameRefusal(
  baseline: ResponseModel,
  baseFp: FingerprintResult,
  res: ResponseModel,
  fp: FingerprintResult,
): boolean {
  if (res.status !== baseline.status) return false;
  // A bodiless answer (HEAD, an empty OPTIONS) cannot show the refusal page: the
  // status and any product its headers name must agree.
  if (res.body.length === 0 && baseline.body.length > 0) {
    return fp.responder.product === null || fp.responder.product === baseFp.responder.product;
  }
  if (fp.blockPage !== baseFp.blockPage || fp.challenge !== baseFp.challenge) return false;
  if (fp.responder.product !== baseFp.responder.product) return false;
  if (fp.responder.layer !== baseFp.responder.layer) return false;
  return true;
}

/** No conclusion can be drawn: throttled, or the server failed. */
export function inconclusive(res: ResponseModel | null, baselineStatus: number): boolean {
  if (!res) return true;
  if (res.status === 429 && baselineStatus !== 429) return true;
  return res.status >= 500;
}

function words(text: string): Set<string> {
  return new Set(
    text
      .toLowerCase()
      .replace(/<[^>]*>/g, " ")
      .replace(/[0-9]+/g, " ")
      .split(/[^a-z]+/)
      .filter((w) => w.length > 2 && !STATUS_WORDS.has(w)),
  );
}

// Words that differ between a server's 403 and 404 pages of one template.
const STATUS_WORDS = new Set([
  "forbidden",
  "not",
  "found",
  "access",
  "denied",
  "permission",
  "the",
  "requested",
  "url",
  "this",
  "server",
  "you",
  "don",
  "have",
  "was",
  "resource",
  "page",
  "error",
]);

/** Jaccard similarity of the two bodies' words, status words left out: ~1 for one template. */
export function templateSimilarity(a: Buffer, b: Buffer): number {
  const x = words(a.toString("utf8").slice(0, 64 * 1024));
  const y = words(b.toString("utf8").slice(0, 64 * 1024));
  if (x.size === 0 && y.size === 0) return 1;
  let both = 0;
  for (const w of x) if (y.has(w)) both++;
  return both / (x.size + y.size - both);
}

/** A header of a request or response (src/headers.ts reads the list). */
export function headerValue(message: { headers: Header[] }, name: string): string | null {
  return listValue(message.headers, name);
}

const BACKEND_HEADERS = [
  "x-served-by",
  "x-backend",
  "x-backend-server",
  "x-upstream",
  "x-server",
  "x-host",
  "x-served-from",
];

/** An identifier of the backend instance that answered, when the response names one. */
export function backendOf(res: { headers: Array<[string, string]> }): string | null {
  for (const name of BACKEND_HEADERS) {
    const v = headerValue(res, name);
    if (v) return `${name}: ${v}`;
  }
  return null;
}

/**
 * Whether two answers look like they were written by the same software: the same
 * content type and nearly the same set of header names (a CDN's or firewall's own
 * page carries other headers than the origin's), and for JSON the same top-level keys.
 */
export function sameAuthorship(a: ResponseLike, b: ResponseLike): boolean {
  const names = (r: ResponseLike) =>
    new Set(r.headers.map(([n]) => n.toLowerCase()).filter((n) => !VOLATILE_HEADERS.has(n)));
  const na = names(a);
  const nb = names(b);
  const inter = [...na].filter((n) => nb.has(n)).length;
  const union = new Set([...na, ...nb]).size || 1;
  const type = (r: ResponseLike) => (listValue(r.headers, "content-type") ?? "").split(";")[0]!.trim();
  if (type(a) !== type(b) || inter / union < 0.7) return false;
  if (type(a).includes("json")) {
    const keys = (r: ResponseLike) => {
      try {
        const v = JSON.parse(r.body.toString("utf8"));
        return v && typeof v === "object" && !Array.isArray(v) ? Object.keys(v).sort().join(",") : "";
      } catch {
        return "";
      }
    };
    const ka = keys(a);
    const kb = keys(b);
    return ka !== "" && kb !== "" && (ka === kb || ka.split(",").some((k) => kb.split(",").includes(k)));
  }
  return true;
}

interface ResponseLike {
  headers: Array<[string, string]>;
  body: Buffer;
}

const VOLATILE_HEADERS = new Set([
  "content-length",
  "date",
  "etag",
  "set-cookie",
  "retry-after",
  "www-authenticate",
  "allow",
  "location",
  "vary",
  "x-request-id",
]);
