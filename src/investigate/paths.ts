// Where probes go: decoy paths under /.well-known/why403/ (RFC 8615 reserves
// the prefix, but hosts that route every path into an app run code there too,
// so a decoy carries a non-safe request only once shown inert: inert.ts), and
// the rule that decides whether a probe could execute the application's action.

import { couldExecute } from "../http/method-override.js";
import { isSafeMethod } from "../http/types.js";
import type { RequestModel } from "../model.js";
import type { ProbeSafety } from "./types.js";

const DECOY_PREFIX = "/.well-known/why403/";

export function decoyUrl(target: string, token: string, keepQuery = true): string {
  const u = new URL(target);
  u.pathname = `${DECOY_PREFIX}${token}`;
  if (!keepQuery) u.search = "";
  u.hash = "";
  return u.toString();
}

/**
 * A path that surely does not exist, outside the decoy prefix: the host's ordinary
 * "not found" (an operator may serve /.well-known/why403/ specially so decoys can be
 * shown inert; the layer map wants the answer every other unknown path gets).
 */
export function missingUrl(target: string, token: string): string {
  const u = new URL(target);
  u.pathname = `/why403-missing-${token}`;
  u.search = "";
  u.hash = "";
  return u.toString();
}

function isDecoyUrl(url: string): boolean {
  try {
    return new URL(url).pathname.startsWith(DECOY_PREFIX);
  } catch {
    return false;
  }
}

/**
 * The real safety class of a probe, and for a may-execute one why. A request the
 * application could act on (couldExecute: a non-safe method, a body, a method
 * override) is "decoy" only on a decoy URL shown inert for its shape (inert.ts);
 * anywhere else — the original path, another path of the origin, a decoy not
 * shown inert — application code may answer it, so it is may-execute.
 */
export function classifyProbe(
  req: RequestModel,
  original: string,
  isInert: (url: string) => boolean,
): { safety: ProbeSafety; why: string | null } {
  const decoy = isDecoyUrl(req.url);
  if (!couldExecute(req)) return { safety: decoy ? "decoy" : "safe-method", why: null };
  if (decoy && isInert(req.url)) return { safety: "decoy", why: null };
  const what = isSafeMethod(req.method) ? `a ${req.method} with a body or method override` : req.method;
  if (decoy)
    return { safety: "may-execute", why: `${what} on a decoy path not shown inert for this request` };
  if (samePath(req.url, original)) return { safety: "may-execute", why: `${what} on the original path` };
  return {
    safety: "may-execute",
    why: `${what} on another path of the origin, where application code may answer`,
  };
}

function samePath(a: string, b: string): boolean {
  try {
    const x = new URL(a);
    const y = new URL(b);
    return x.origin === y.origin && x.pathname === y.pathname;
  } catch {
    return false;
  }
}
