// Phase 1, reading the request line: the URL parsed (host, port, scheme,
// query), header names folded to lower case, and the URL-path decoded and
// normalised as httpd's ap_normalize_path does. With AllowEncodedSlashes Off
// (the default) an encoded slash ends the request here with 404.

import { InputError } from "../../../errors.js";
import type { ConfigDecision, ConfigRequest } from "../../config-decision.js";
import type { ParsedRequest } from "./state.js";

export function readRequest(request: ConfigRequest): { parsed: ParsedRequest; pathname: string } {
  let url: URL;
  try {
    url = new URL(request.url, "http://localhost");
  } catch {
    throw new InputError(`not a URL: ${request.url}`);
  }
  const https = url.protocol === "https:";
  const parsed: ParsedRequest = {
    method: request.method.toUpperCase(),
    https,
    port: url.port ? Number(url.port) : https ? 443 : 80,
    host: url.hostname.replace(/^\[|\]$/g, ""),
    query: url.search.replace(/^\?/, ""),
    headers: request.headers
      ? Object.fromEntries(Object.entries(request.headers).map(([k, v]) => [k.toLowerCase(), v]))
      : null,
  };
  return { parsed, pathname: url.pathname };
}

/** Decodes and normalises the URL-path like httpd (%-decoding, dot segments, merged slashes); null for %2F. */
export function normalizePath(pathname: string): string | null {
  if (/%2f/i.test(pathname)) return null;
  let decoded: string;
  try {
    decoded = decodeURIComponent(pathname);
  } catch {
    decoded = pathname;
  }
  const out: string[] = [];
  const segments = decoded.split("/");
  for (const [i, s] of segments.entries()) {
    if (s === "" && i !== segments.length - 1) continue;
    if (s === ".") continue;
    if (s === "..") {
      out.pop();
      continue;
    }
    out.push(s);
  }
  const joined = `/${out.join("/")}`;
  return joined.replace(/\/{2,}/g, "/");
}

/** The answer to a path with %2F: httpd refuses to map it at all. */
export function encodedSlashAnswer(base: ConfigDecision): ConfigDecision {
  return {
    ...base,
    decision: "allow",
    status: 404,
    unknowns: ["the path holds an encoded slash (%2F); with AllowEncodedSlashes Off httpd answers 404"],
  };
}
