// curl -L semantics for following redirects by hand, so each hop can be
// reported: 301/302/303 turn a POST into a GET and drop its body unless the
// method was given with -X; 307/308 keep both. Credentials set with -H are
// not carried to another host (curl does the same since 7.83).

import { headerValue } from "../headers.js";
import type { RequestModel, ResponseModel } from "../model.js";

const REDIRECT_STATUSES: ReadonlySet<number> = new Set([301, 302, 303, 307, 308]);

export interface RedirectStep {
  next: RequestModel;
  /** The method changed on this hop (POST → GET). */
  methodChanged: boolean;
  /** The body was dropped on this hop. */
  bodyDropped: boolean;
  /** Credentials were left off because the host changed. */
  credentialsDropped: boolean;
}

const BODY_HEADERS = new Set(["content-length", "content-type", "content-encoding", "transfer-encoding"]);
const CROSS_HOST_SECRETS = new Set(["authorization", "cookie", "proxy-authorization"]);

/** The request curl -L would send next, or null when the answer is not a followable redirect. */
export function nextRedirect(req: RequestModel, res: ResponseModel): RedirectStep | null {
  if (!REDIRECT_STATUSES.has(res.status)) return null;
  const location = headerValue(res.headers, "location");
  if (!location) return null;
  let target: URL;
  try {
    target = new URL(location, req.url);
  } catch {
    return null;
  }
  if (target.protocol !== "http:" && target.protocol !== "https:") return null;
  const from = new URL(req.url);
  const method = req.method.toUpperCase();
  const explicit = req.options.explicitMethod === true;
  // curl: 301/302/303 switch POST to GET (303: anything but HEAD) unless -X set the method.
  const switchToGet =
    !explicit &&
    ((res.status === 303 && method !== "HEAD" && method !== "GET") ||
      ((res.status === 301 || res.status === 302) && method === "POST"));
  const hadBody = req.body !== null && req.body.length > 0;
  const crossHost = target.host !== from.host;
  let headers = req.headers.filter(([n]) => n.toLowerCase() !== "host");
  if (switchToGet)
    headers = headers.filter(
      ([n]) => !BODY_HEADERS.has(n.toLowerCase()) || n.toLowerCase() === "content-type",
    );
  if (crossHost) headers = headers.filter(([n]) => !CROSS_HOST_SECRETS.has(n.toLowerCase()));
  const hostHeader = headerValue(req.headers, "host");
  if (hostHeader !== null && !crossHost) headers = [["Host", hostHeader], ...headers];
  const credentialsDropped = crossHost && req.headers.some(([n]) => CROSS_HOST_SECRETS.has(n.toLowerCase()));
  return {
    next: {
      method: switchToGet ? "GET" : req.method,
      url: target.toString(),
      headers,
      body: switchToGet ? null : req.body,
      options: req.options,
    },
    methodChanged: switchToGet && method !== "GET",
    bodyDropped: switchToGet && hadBody,
    credentialsDropped,
  };
}
