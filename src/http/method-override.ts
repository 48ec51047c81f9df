// Method override: frameworks that let a POST (sometimes any method) stand for
// another one through a header (X-HTTP-Method-Override and kin) or a `_method`
// field in the query or form body. A request carrying one is judged by the
// method it may stand for, and safe probes never carry one: a GET with
// `X-HTTP-Method-Override: DELETE` is a DELETE to an application that honours it.

import type { Header, RequestModel } from "../model.js";
import { isSafeMethod } from "./types.js";

/** Header names method-override middlewares read (Express method-override, Symfony, Rails, ASP.NET, Google APIs). */
const METHOD_OVERRIDE_HEADERS: ReadonlySet<string> = new Set([
  "x-http-method-override",
  "x-http-method",
  "x-method-override",
]);

/** Query or form field names read as the method (`_method` in Rails, Laravel, Symfony, method-override). */
const OVERRIDE_FIELD = /^_method$/i;

function overrideHeader(headers: Header[]): string | null {
  return headers.find(([n]) => METHOD_OVERRIDE_HEADERS.has(n.toLowerCase()))?.[1]?.trim() ?? null;
}

function overrideQuery(url: string): string | null {
  try {
    for (const [k, v] of new URL(url).searchParams) if (OVERRIDE_FIELD.test(k)) return v;
  } catch {
    // not a URL: nothing to read
  }
  return null;
}

/** The `_method` field of a form or JSON body, read shallowly (enough to be careful). */
function overrideBody(body: Buffer | null): string | null {
  if (!body || body.length === 0) return null;
  const text = body.subarray(0, 64 * 1024).toString("latin1");
  const form = /(?:^|&)_method=([^&]*)/i.exec(text);
  if (form) return decodeURIComponent(form[1]!.replace(/\+/g, " "));
  const json = /"_method"\s*:\s*"([^"]*)"/i.exec(text);
  return json ? json[1]! : null;
}

/** The method a request may stand for through an override field, or null when it carries none. */
export function methodOverrideOf(req: RequestModel): string | null {
  return overrideHeader(req.headers) ?? overrideQuery(req.url) ?? overrideBody(req.body);
}

/** The query names a method-override field, so a probe keeping the query keeps the override. */
export function queryOverridesMethod(url: string): boolean {
  return overrideQuery(url) !== null;
}

/** The request without any override header or `_method` query field (the body is the caller's business). */
export function withoutMethodOverride(req: RequestModel): RequestModel {
  const headers = req.headers.filter(([n]) => !METHOD_OVERRIDE_HEADERS.has(n.toLowerCase()));
  let url = req.url;
  try {
    const u = new URL(req.url);
    const names = [...u.searchParams.keys()].filter((k) => OVERRIDE_FIELD.test(k));
    for (const k of names) u.searchParams.delete(k);
    if (names.length > 0) url = u.toString();
  } catch {
    // not a URL: keep it
  }
  return headers.length === req.headers.length && url === req.url ? req : { ...req, headers, url };
}

/**
 * Whether the application could act on this request as on a state-changing one:
 * a non-safe method, a body (any method: some frameworks read a GET's body, and
 * body-routed front controllers act on it), or an override to a non-safe method.
 */
export function couldExecute(req: RequestModel): boolean {
  if (!isSafeMethod(req.method)) return true;
  if (req.body !== null && req.body.length > 0) return true;
  const override = methodOverrideOf(req);
  return override !== null && !isSafeMethod(override);
}
