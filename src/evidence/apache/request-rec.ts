// The request as httpd's modules see it (httpd calls this request_rec): what
// the evaluator knows about it, and the variables RewriteCond, SetEnvIf and
// Require expr read from it. A variable the request does not tell us (a header
// not given, the client address) is `undefined`, and the caller turns the whole
// test into an oracle question.

import type { Oracle } from "./oracle.js";

export interface RequestRec {
  method: string;
  client: string | null;
  /** Lower-case header names; null when the caller gave no headers at all. */
  headers: Record<string, string> | null;
  /** Decoded, normalised URL-path. */
  path: string;
  query: string;
  host: string;
  port: number;
  https: boolean;
  /** The filesystem path the URL maps to, when known. */
  filename: string | null;
  /** Whether the mapped files exist on this machine (else file tests are questions). */
  diskKnown: boolean;
  /** Environment variables set by SetEnvIf before authorization. */
  env: Map<string, string>;
  oracle: Oracle;
}

export function headerValue(req: RequestRec, name: string): string | undefined {
  if (!req.headers) return undefined;
  return req.headers[name.toLowerCase()] ?? "";
}

/** %{NAME} as mod_rewrite and ap_expr see it. */
export function variable(req: RequestRec, raw: string): string | undefined {
  const name = raw.toUpperCase();
  if (name.startsWith("HTTP:")) return headerValue(req, raw.slice(5));
  if (name.startsWith("ENV:")) return req.env.get(raw.slice(4)) ?? "";
  switch (name) {
    case "REQUEST_METHOD":
      return req.method;
    case "REMOTE_ADDR":
      return req.client ?? undefined;
    case "REQUEST_URI":
      return req.path;
    case "QUERY_STRING":
      return req.query;
    case "HTTP_HOST":
      return headerValue(req, "host") || req.host;
    case "SERVER_PORT":
      return String(req.port);
    case "HTTPS":
      return req.https ? "on" : "off";
    case "REQUEST_SCHEME":
      return req.https ? "https" : "http";
    case "REQUEST_FILENAME":
    case "SCRIPT_FILENAME":
      return req.filename ?? undefined;
    case "THE_REQUEST":
      return `${req.method} ${req.path}${req.query ? `?${req.query}` : ""} HTTP/1.1`;
    case "SERVER_PROTOCOL":
      return "HTTP/1.1";
    default:
      if (name.startsWith("HTTP_")) return headerValue(req, name.slice(5).replace(/_/g, "-"));
      return undefined;
  }
}

/** Expands %{VAR} in a test string; undefined when any variable is unknown. */
export function expand(
  req: RequestRec,
  text: string,
  backrefs: string[] = [],
  condRefs: string[] = [],
): string | undefined {
  let unknown = false;
  const out = text
    .replace(/%\{([^}]+)\}/g, (_m, v: string) => {
      const val = variable(req, v);
      if (val === undefined) unknown = true;
      return val ?? "";
    })
    .replace(/\$(\d)/g, (_m, d: string) => backrefs[Number(d)] ?? "")
    .replace(/%(\d)/g, (_m, d: string) => condRefs[Number(d)] ?? "");
  return unknown ? undefined : out;
}
