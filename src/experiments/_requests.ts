// Small builders for probe requests derived from the refused one.

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

export const CREDENTIAL_HEADERS = [
  "authorization",
  "cookie",
  "proxy-authorization",
  "x-api-key",
  "api-key",
  "x-auth-token",
];

export function hasCredentials(req: RequestModel): boolean {
  return req.headers.some(([n]) => CREDENTIAL_HEADERS.includes(n.toLowerCase()));
}

export const BROWSER_USER_AGENT =
  "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/126.0 Safari/537.36";
