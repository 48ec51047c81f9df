// NGX_HTTP_CONTENT_PHASE: who answers. An upstream handler (proxy_pass,
// fastcgi_pass …) lets the request through to the application; otherwise the
// index, autoindex and static modules answer from the disk, and they refuse
// a directory without an index (403) or a method other than GET/HEAD (405).

import { statSync } from "node:fs";
import { isAbsolute, join } from "node:path";
import { REFUSAL_STATUSES } from "../../../model.js";
import type { LocationSpec } from "../location-select.js";
import type { Directive } from "../parser.js";
import { at, innermost, type NginxRequestState, type PhaseResult, ref } from "./state.js";
import { indexFix, staticMethodFix } from "./wording.js";

const UPSTREAM_HANDLERS = [
  "proxy_pass",
  "fastcgi_pass",
  "uwsgi_pass",
  "scgi_pass",
  "grpc_pass",
  "memcached_pass",
  "empty_gif",
  "stub_status",
  "dav_methods",
];

export function hasUpstreamHandler(own: Directive[]): boolean {
  return own.some((d) => UPSTREAM_HANDLERS.includes(d.directive));
}

/**
 * The levels the content handlers read (an `if` that held adds its block) and
 * the directives of the location itself, where a handler must be written.
 */
export function contentBlocks(st: NginxRequestState): { levels: Directive[]; own: Directive[] } {
  const ifBlock = st.ifBlock;
  return {
    levels: ifBlock ? [...st.levels, ifBlock] : st.levels,
    own: [st.location.block, ...(ifBlock ? [ifBlock.block ?? []] : [])].flat(),
  };
}

export function contentPhase(st: NginxRequestState): PhaseResult {
  const decision = st.decision;
  const { levels, own } = contentBlocks(st);
  if (hasUpstreamHandler(own)) {
    decision.decision = "allow";
    decision.filePath = null;
    return "decided";
  }
  const stat = staticAnswer(st, levels);
  decision.filePath = stat.filePath;
  if (stat.redirectTo) {
    st.setUri(stat.redirectTo);
    st.internalRedirect = true;
    return "internal-redirect";
  }
  if (stat.unknown) {
    decision.decision = "unknown";
    st.unknowns.push(stat.unknown);
    return "decided";
  }
  decision.status = stat.status;
  if (stat.status !== null && REFUSAL_STATUSES.has(stat.status)) {
    decision.decision = "deny";
    decision.cause = "server-config";
    decision.decidedBy = stat.decidedBy ? ref(stat.decidedBy) : null;
    if (stat.fix) st.fix.push(stat.fix);
  } else {
    decision.decision = "allow";
  }
  return "decided";
}

interface StaticResult {
  filePath: string | null;
  status: number | null;
  /** An index file found: nginx redirects internally to it. */
  redirectTo?: string;
  unknown?: string;
  decidedBy?: Directive | null;
  fix?: string;
}

/** What one URI looks like on disk, as the static module's open_file would see it. */
type Probe = "file" | "dir" | "missing" | "other" | { unknown: string };

function probe(p: string): Probe {
  try {
    const st = statSync(p);
    return st.isFile() ? "file" : st.isDirectory() ? "dir" : "other";
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === "ENOENT" || code === "ENOTDIR") return "missing";
    return { unknown: `whether ${p} exists (${code})` };
  }
}

/** The index, autoindex and static modules, checked against the disk. */
function staticAnswer(st: NginxRequestState, levels: Directive[]): StaticResult {
  const final = st.location.final;
  const mapped = mapToFile(st, levels, final);
  if (typeof mapped !== "string") return mapped;
  const filePath = mapped;
  const alias = final ? (final.directive.block ?? []).find((d) => d.directive === "alias") : undefined;
  const where = innermost(levels, "root") ?? alias ?? final?.directive ?? null;
  if (st.uri.endsWith("/")) return directoryAnswer(st, levels, filePath, where);
  const method = st.method;
  if (!["GET", "HEAD", "POST"].includes(method)) {
    return { filePath, status: 405, decidedBy: where, fix: staticMethodFix("file", method, final) };
  }
  const kind = probe(filePath);
  if (typeof kind !== "string") return { filePath, status: null, unknown: kind.unknown };
  if (kind === "missing" || kind === "other") return { filePath, status: 404 };
  if (kind === "dir") return { filePath, status: 301 };
  if (method === "POST") {
    return { filePath, status: 405, decidedBy: where, fix: staticMethodFix("existing-file", method, final) };
  }
  return { filePath, status: 200 };
}

/** The path root or alias maps the URI to, or the reason it cannot be known. */
function mapToFile(
  st: NginxRequestState,
  levels: Directive[],
  final: LocationSpec | undefined,
): string | StaticResult {
  const nginxPrefix = st.config.nginxPrefix;
  const alias = final ? (final.directive.block ?? []).find((d) => d.directive === "alias") : undefined;
  if (alias && final) {
    let filePath: string;
    if (final.kind === "regex" || final.kind === "regex-caseless") {
      const a = st.vars.interpolate(alias.args[0] ?? "");
      if (a.value === undefined)
        return { filePath: null, status: null, unknown: `the alias at ${at(alias)} uses captures` };
      filePath = a.value;
    } else filePath = (alias.args[0] ?? "") + st.uri.slice(final.pattern.length);
    return isAbsolute(filePath) ? filePath : join(nginxPrefix, filePath);
  }
  const root = innermost(levels, "root");
  const r = root ? st.vars.interpolate(root.args[0] ?? "") : { value: "html" };
  if (r.value === undefined) {
    return {
      filePath: null,
      status: null,
      unknown: `the root at ${root ? at(root) : ""} needs ${r.missing}`,
    };
  }
  // nginx resolves a relative root against its prefix (-p), not the config's directory.
  const filePath = join(isAbsolute(r.value) ? r.value : join(nginxPrefix, r.value), st.uri);
  return st.uri.endsWith("/") && !filePath.endsWith("/") ? `${filePath}/` : filePath;
}

/** A URI ending in "/": the index module, then autoindex, else 403 (or 405 for other methods). */
function directoryAnswer(
  st: NginxRequestState,
  levels: Directive[],
  filePath: string,
  where: Directive | null,
): StaticResult {
  const { method, uri } = st;
  const final = st.location.final;
  if (method !== "GET" && method !== "HEAD" && method !== "POST") {
    return { filePath, status: 405, decidedBy: where, fix: staticMethodFix("directory", method, final) };
  }
  const indexDirective = innermost(levels, "index");
  const names = indexDirective ? indexDirective.args : ["index.html"];
  let dirChecked = false;
  for (const name of names) {
    if (name.startsWith("/")) return { filePath, status: null, redirectTo: name };
    const kind = probe(join(filePath, name));
    if (typeof kind !== "string") return { filePath, status: null, unknown: kind.unknown };
    if (kind === "file") return { filePath, status: null, redirectTo: uri + name };
    if (!dirChecked) {
      dirChecked = true;
      const dir = probe(filePath);
      if (typeof dir !== "string") return { filePath, status: null, unknown: dir.unknown };
      if (dir === "missing") return { filePath, status: 404 };
    }
  }
  const autoindex = innermost(levels, "autoindex");
  if (autoindex?.args[0] === "on" && (method === "GET" || method === "HEAD"))
    return { filePath, status: 200 };
  return {
    filePath,
    status: 403,
    decidedBy: autoindex ?? indexDirective ?? where,
    fix: indexFix(names, filePath, final),
  };
}
