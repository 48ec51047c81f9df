// Small builders for probe requests derived from the refused one.

import { credentialShape } from "../evidence/content/credential-value.js";
import { hasHeader as hasNamedHeader } from "../headers.js";
import { withoutMethodOverride } from "../http/method-override.js";
import type { RequestModel } from "../model.js";

const BODY_HEADERS = new Set(["content-type", "content-length", "content-encoding", "transfer-encoding"]);

/**
 * The same URL and headers with a bodiless safe method. Method-override fields
 * (X-HTTP-Method-Override, `_method` in the query) are left off: with them a
 * GET is a DELETE or POST to an application that honours them.
 */
export function asSafe(req: RequestModel, method: "GET" | "HEAD" | "OPTIONS", url = req.url): RequestModel {
  const bare = withoutMethodOverride({ ...req, url });
  return {
    method,
    url: bare.url,
    headers: bare.headers.filter(([n]) => !BODY_HEADERS.has(n.toLowerCase())),
    body: null,
    options: { ...req.options, explicitMethod: true },
  };
}

/**
 * The safe projection of a request: the same headers (Content-Type included) and
 * query as a bodiless GET on `url`. Every part a firewall reads apart from the
 * method, the body and the path, in a request no application acts on. Override
 * fields are left off as in `asSafe`.
 */
export function safeProjection(req: RequestModel, url = req.url): RequestModel {
  const bare = withoutMethodOverride({ ...req, url });
  return {
    method: "GET",
    url: bare.url,
    headers: bare.headers.filter(([n]) => !BODY_FRAMING.has(n.toLowerCase())),
    body: null,
    options: { ...req.options, explicitMethod: true },
  };
}

/** Headers that only frame a body; a bodiless request drops them. */
const BODY_FRAMING = new Set(["content-length", "content-encoding", "transfer-encoding", "expect"]);

export function onUrl(req: RequestModel, url: string): RequestModel {
  return { ...req, url };
}

export { dropHeaders, setHeader } from "../headers.js";

export function hasHeader(req: RequestModel, name: string): boolean {
  return hasNamedHeader(req.headers, name);
}

export function describeStatus(status: number | null): string {
  return status === null ? "no answer" : String(status);
}

/** Headers that usually carry credentials: stripped first, whatever their values. */
const USUAL_CREDENTIAL_HEADERS = [
  "authorization",
  "cookie",
  "proxy-authorization",
  "x-api-key",
  "api-key",
  "x-auth-token",
];

/**
 * The headers a "without credentials" probe leaves off: the usual ones, and any other whose
 * value is shaped like a credential (a JWT, `scheme token68`, a random secret), whatever it
 * is called. Names here only choose what to strip; what the probe then observes is weighed.
 */
export function credentialHeaders(req: RequestModel): string[] {
  return req.headers
    .filter(([n, v]) => USUAL_CREDENTIAL_HEADERS.includes(n.toLowerCase()) || credentialShape(v) !== null)
    .map(([n]) => n);
}

export function hasCredentials(req: RequestModel): boolean {
  return credentialHeaders(req).length > 0;
}

export const BROWSER_USER_AGENT =
  "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/126.0 Safari/537.36";
