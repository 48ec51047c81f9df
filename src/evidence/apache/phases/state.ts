// What the phases share. The plan is fixed for the request before any unknown
// fact is guessed (parsed request, server chosen, sections walked); a pass is
// one run through the phases with one set of answers to the unknown facts
// (see oracle.ts); an outcome is what a phase answers.

import type { ConfigRequest, DirectiveRef } from "../../config-decision.js";
import { buildDirConf } from "../dirconf/build.js";
import type { DirConf, RewriteConf, SetEnvIfDef } from "../dirconf/types.js";
import type { Oracle } from "../oracle.js";
import type { ApacheConfig, ApacheDirective, ApacheNode } from "../parser.js";
import type { RequestRec } from "../request-rec.js";
import type { ServerScope, WalkResult } from "../walk.js";

export interface Outcome {
  decision: "allow" | "deny" | "unknown";
  status: number | null;
  decidedBy: DirectiveRef | null;
  cause: string | null;
  fix: string[];
  notes: string[];
}

/** The request line and headers as httpd reads them. */
export interface ParsedRequest {
  method: string;
  https: boolean;
  port: number;
  host: string;
  /** The query string without its "?". */
  query: string;
  /** Lower-case header names; null when the caller gave no headers at all. */
  headers: Record<string, string> | null;
}

/** A URL-path translated to a file name (translate_name). */
export interface Mapped {
  filename: string;
  diskKnown: boolean;
  by: DirectiveRef | null;
  /** The Redirect that answers instead, if any. */
  redirect?: DirectiveRef;
}

export type MappedWalk = WalkResult & { mapped: Mapped };

export interface RequestPlan {
  config: ApacheConfig;
  request: ConfigRequest;
  parsed: ParsedRequest;
  /** The normalised URL-path. */
  path: string;
  scope: ServerScope;
  /** Server-context rewrite rules (run in translate_name). */
  serverRewrite: RewriteConf | undefined;
  /** Server-context SetEnvIf lines (run before the per-directory ones). */
  serverSetEnvIf: SetEnvIfDef[];
  autoindexLoaded: boolean;
  /** A URL-path translated and walked through the sections (the same answer for every pass). */
  walk: (uriPath: string) => MappedWalk;
}

export interface Pass {
  plan: RequestPlan;
  oracle: Oracle;
  /** Internal redirects followed so far (httpd's LimitInternalRecursion stops at 10). */
  internalRedirects: number;
  /** The per-path phases again, for a DirectoryIndex file or a per-directory rewrite. */
  decidePath: (uriPath: string, depth: number) => Outcome;
}

/** The request as the modules of this pass see it at `uriPath`. */
export function requestRec(pass: Pass, uriPath: string, filename: string, diskKnown: boolean): RequestRec {
  const { parsed, request } = pass.plan;
  return {
    method: parsed.method,
    client: request.client,
    headers: parsed.headers,
    path: uriPath,
    query: parsed.query,
    host: parsed.host,
    port: parsed.port,
    https: parsed.https,
    filename,
    diskKnown,
    env: new Map(),
    oracle: pass.oracle,
  };
}

export function allow(by: DirectiveRef | null, notes: string[]): Outcome {
  return { decision: "allow", status: null, decidedBy: by, cause: null, fix: [], notes };
}

export function deny(status: number, by: DirectiveRef | null, cause: string, fix: string[]): Outcome {
  return { decision: "deny", status, decidedBy: by, cause, fix, notes: [] };
}

/** The directives named (lower case) among `nodes`, sections not entered. */
export const directives = (nodes: ApacheNode[], ...names: string[]): ApacheDirective[] =>
  nodes.filter((n): n is ApacheDirective => n.kind === "directive" && names.includes(n.name.toLowerCase()));

/** The config of some server-context directives (outside any section) of the main server or a vhost. */
export function serverContextConf(nodes: ApacheNode[], names: string[], origin: "server" | "vhost"): DirConf {
  return buildDirConf(directives(nodes, ...names), { perdir: null, owner: null, origin });
}

export function lastArg(nodes: ApacheNode[], name: string): string | undefined {
  const found = directives(nodes, name);
  return found[found.length - 1]?.args[0];
}
