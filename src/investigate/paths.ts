// Where safe probes go: decoy paths under /.well-known/why403/ (RFC 8615
// reserves the prefix, so no application route runs there), and the rule
// that decides whether a probe could execute the application's action.

import { isSafeMethod } from "../http/types.js";
import type { RequestModel } from "../model.js";
import type { ProbeSafety } from "./types.js";

export const DECOY_PREFIX = "/.well-known/why403/";

export function decoyUrl(target: string, token: string, keepQuery = true): string {
  const u = new URL(target);
  u.pathname = `${DECOY_PREFIX}${token}`;
  if (!keepQuery) u.search = "";
  u.hash = "";
  return u.toString();
}

export function isDecoyUrl(url: string): boolean {
  try {
    return new URL(url).pathname.startsWith(DECOY_PREFIX);
  } catch {
    return false;
  }
}

/**
 * The real safety class of a probe. A non-safe method anywhere but a decoy
 * path counts as may-execute: the contract names the original path, and any
 * other route of the application could act on it just the same.
 */
export function actualSafety(req: RequestModel): ProbeSafety {
  if (isSafeMethod(req.method)) return isDecoyUrl(req.url) ? "decoy" : "safe-method";
  return isDecoyUrl(req.url) ? "decoy" : "may-execute";
}

export function samePath(a: string, b: string): boolean {
  try {
    const x = new URL(a);
    const y = new URL(b);
    return x.origin === y.origin && x.pathname === y.pathname;
  } catch {
    return false;
  }
}

export function sameOrigin(a: string, b: string): boolean {
  try {
    return new URL(a).origin === new URL(b).origin;
  } catch {
    return false;
  }
}
