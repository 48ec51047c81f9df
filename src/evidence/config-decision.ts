// The answer of a config evaluator (nginx or Apache) for one request, shaped per
// the contract's why403.config/v1.

import { redactUrl } from "../redact.js";

export interface ConfigRequest {
  method: string;
  url: string;
  /** Client address the server sees; null when not given. */
  client: string | null;
  /** Request headers, lower-case names, when known (for maps, valid_referers, Require expr). */
  headers?: Record<string, string>;
  /** Size of the request body in bytes, when known (else a Content-Length header tells it). */
  bodyBytes?: number;
}

/** The body size a request announces: the given size, else its Content-Length header; null when unknown. */
export function requestBodyBytes(request: ConfigRequest): number | null {
  if (request.bodyBytes !== undefined) return request.bodyBytes;
  const header = Object.entries(request.headers ?? {}).find(([k]) => k.toLowerCase() === "content-length");
  const n = header ? Number(header[1].trim()) : Number.NaN;
  return Number.isSafeInteger(n) && n >= 0 ? n : null;
}

export interface DirectiveRef {
  directive: string;
  args: string[];
  file: string;
  line: number;
}

export interface ConfigContext {
  block: string;
  args?: string[];
  file: string;
  line: number;
}

export interface ConfigDecision {
  schema: "why403.config/v1";
  request: { method: string; url: string; client: string | null };
  decision: "allow" | "deny" | "unknown";
  /**
   * The status the server would answer. For `deny` always set (per the
   * contract). Extension (nginx): for `allow` too when the config alone tells
   * it (200 from `return 200` or a static file, 301 to a directory, 404 for a
   * missing file); null when an upstream (proxy_pass, fastcgi_pass…) or
   * try_files answers. The Apache evaluator leaves it null when allowing.
   * Always null for `unknown`.
   */
  status: number | null;
  decidedBy: DirectiveRef | null;
  context: ConfigContext[];
  unknowns: string[];
  fix: string[];
  /** Extension: the contract cause id the deciding directive stands for (ip-restriction, server-config, credentials-invalid, fs-permission). */
  cause?: string | null;
}

/** A blank decision for a request, to be filled in by an evaluator. */
export function newDecision(
  request: ConfigRequest,
  method: string,
  decision: ConfigDecision["decision"],
): ConfigDecision {
  return {
    schema: "why403.config/v1",
    // The URL may carry user:password@ (checked against a password file): never echo the password.
    request: { method, url: redactUrl(request.url), client: request.client },
    decision,
    status: null,
    decidedBy: null,
    context: [],
    unknowns: [],
    fix: [],
    cause: null,
  };
}
