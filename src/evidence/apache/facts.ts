// What the evaluator knows about one request, and the variables httpd's
// RewriteCond, SetEnvIf and Require expr read from it. A variable the request
// does not tell us (a header not given, the client address) is `undefined`, and
// the caller turns the whole test into an oracle question.

import { statSync } from "node:fs";
import type { Oracle } from "./oracle.js";

export interface RequestFacts {
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

export function headerValue(facts: RequestFacts, name: string): string | undefined {
  if (!facts.headers) return undefined;
  return facts.headers[name.toLowerCase()] ?? "";
}

/** %{NAME} as mod_rewrite and ap_expr see it. */
export function variable(facts: RequestFacts, raw: string): string | undefined {
  const name = raw.toUpperCase();
  if (name.startsWith("HTTP:")) return headerValue(facts, raw.slice(5));
  if (name.startsWith("ENV:")) return facts.env.get(raw.slice(4)) ?? "";
  switch (name) {
    case "REQUEST_METHOD":
      return facts.method;
    case "REMOTE_ADDR":
      return facts.client ?? undefined;
    case "REQUEST_URI":
      return facts.path;
    case "QUERY_STRING":
      return facts.query;
    case "HTTP_HOST":
      return headerValue(facts, "host") || facts.host;
    case "SERVER_PORT":
      return String(facts.port);
    case "HTTPS":
      return facts.https ? "on" : "off";
    case "REQUEST_SCHEME":
      return facts.https ? "https" : "http";
    case "REQUEST_FILENAME":
    case "SCRIPT_FILENAME":
      return facts.filename ?? undefined;
    case "THE_REQUEST":
      return `${facts.method} ${facts.path}${facts.query ? `?${facts.query}` : ""} HTTP/1.1`;
    case "SERVER_PROTOCOL":
      return "HTTP/1.1";
    default:
      if (name.startsWith("HTTP_")) return headerValue(facts, name.slice(5).replace(/_/g, "-"));
      return undefined;
  }
}

/** Expands %{VAR} in a test string; undefined when any variable is unknown. */
export function expand(
  facts: RequestFacts,
  text: string,
  backrefs: string[] = [],
  condRefs: string[] = [],
): string | undefined {
  let unknown = false;
  const out = text
    .replace(/%\{([^}]+)\}/g, (_m, v: string) => {
      const val = variable(facts, v);
      if (val === undefined) unknown = true;
      return val ?? "";
    })
    .replace(/\$(\d)/g, (_m, d: string) => backrefs[Number(d)] ?? "")
    .replace(/%(\d)/g, (_m, d: string) => condRefs[Number(d)] ?? "");
  return unknown ? undefined : out;
}

/** PCRE as written in httpd configs to a JS RegExp; null when JS cannot express it. */
export function toRegExp(pattern: string, noCase = false): RegExp | null {
  let p = pattern;
  let flags = noCase ? "i" : "";
  if (p.startsWith("(?i)")) {
    p = p.slice(4);
    flags = "i";
  }
  try {
    return new RegExp(p, flags);
  } catch {
    return null;
  }
}

export function fileTest(path: string, test: string): boolean | undefined {
  try {
    const st = statSync(path);
    if (test === "-d") return st.isDirectory();
    if (test === "-f" || test === "-F") return st.isFile();
    if (test === "-s") return st.isFile() && st.size > 0;
    if (test === "-l" || test === "-L") return false;
    return undefined;
  } catch {
    return test === "-d" || test === "-f" || test === "-F" || test === "-s" || test === "-l" || test === "-L"
      ? false
      : undefined;
  }
}
