// Which sections httpd merges for one request, in its order: server defaults,
// <Directory> from shortest to longest with each directory's .htaccess,
// <DirectoryMatch>, <Files>/<FilesMatch>, then <Location>/<LocationMatch>.

import { existsSync, statSync } from "node:fs";
import { join } from "node:path";
import type { ConfigContext, DirectiveRef } from "../config-decision.js";
import { buildDirConf } from "./dirconf/build.js";
import { defaultDirConf, mergeDirConf } from "./dirconf/merge.js";
import { contextOf, type DirConf } from "./dirconf/types.js";

import {
  type ApacheNode,
  type ApacheSection,
  hasWildcard,
  parseHtaccess,
  wildcardToRegExp,
} from "./parser.js";
import { toRegExp } from "./pcre.js";

export interface ServerScope {
  /** Top-level nodes of the main server. */
  main: ApacheNode[];
  /** The selected <VirtualHost>, if any. */
  vhost: ApacheSection | null;
}

export interface WalkResult {
  conf: DirConf;
  context: ConfigContext[];
  notes: string[];
  /** .htaccess files that exist but AllowOverride keeps httpd from reading. */
  ignoredHtaccess: Array<{ path: string; allowOverride: DirectiveRef | null; grants: boolean }>;
  /** True when the target is a directory. */
  isDirectory: boolean;
  /** True when the file exists (only meaningful when disk is known). */
  exists: boolean;
  /** Deepest existing directory with a trailing slash. */
  directory: string;
}

const sectionsNamed = (nodes: ApacheNode[], names: string[]): ApacheSection[] =>
  nodes.filter((n): n is ApacheSection => n.kind === "section" && names.includes(n.name.toLowerCase()));

const isRegexSection = (s: ApacheSection): boolean =>
  s.name.toLowerCase().endsWith("match") || s.args[0] === "~";
const sectionPattern = (s: ApacheSection): string =>
  s.args[0] === "~" ? (s.args[1] ?? "") : (s.args[0] ?? "");

function withSlash(p: string): string {
  return p.endsWith("/") ? p : `${p}/`;
}

function countSlashes(p: string): number {
  return (p.match(/\//g) ?? []).length;
}

/** The server-level per-directory defaults: top-level directives of the main server, then of the vhost. */
export function serverDefaults(scope: ServerScope): DirConf {
  let conf = mergeDirConf(
    defaultDirConf(),
    buildDirConf(scope.main, { perdir: null, owner: null, origin: "server" }),
  );
  if (scope.vhost) {
    conf = mergeDirConf(
      conf,
      buildDirConf(scope.vhost.children, { perdir: null, owner: contextOf(scope.vhost), origin: "vhost" }),
    );
  }
  // Server-context rewrite rules are not per-directory; they are run separately.
  conf.rewrite = undefined;
  return conf;
}

/** The walk so far: the merged config and what it passed through. */
interface WalkState {
  conf: DirConf;
  context: ConfigContext[];
  notes: string[];
  ignoredHtaccess: WalkResult["ignoredHtaccess"];
}

export function walkSections(
  scope: ServerScope,
  target: { filename: string; uriPath: string; diskKnown: boolean; accessFileName: string },
): WalkResult {
  const w: WalkState = {
    context: scope.vhost ? [contextOf(scope.vhost)] : [],
    conf: serverDefaults(scope),
    notes: [],
    ignoredHtaccess: [],
  };
  const dirSections = [
    ...sectionsNamed(scope.main, ["directory", "directorymatch"]),
    ...(scope.vhost ? sectionsNamed(scope.vhost.children, ["directory", "directorymatch"]) : []),
  ];
  // The directory prefixes httpd walks: those that exist on disk, or, offline, those the URL implies.
  const { prefixes, isDirectory, exists } = directoryPrefixes(
    target.filename,
    target.uriPath,
    target.diskKnown,
  );
  directoryWalk(w, dirSections, prefixes, target);
  const directory = prefixes[prefixes.length - 1] ?? "/";
  regexDirectoryWalk(w, dirSections.filter(isRegexSection), directory);
  fileWalk(w, target.filename);
  locationWalk(w, scope, target.uriPath);
  const { conf, context, notes, ignoredHtaccess } = w;
  return { conf, context, notes, ignoredHtaccess, isDirectory, exists, directory };
}

function merge(w: WalkState, next: DirConf, ctx: ConfigContext): void {
  w.conf = mergeDirConf(w.conf, next);
  w.context.push(ctx);
}

/** The section's regular expression; null, with a note, when JavaScript cannot run it. */
function sectionRegExp(s: ApacheSection, notes: string[]): RegExp | null {
  const re = toRegExp(sectionPattern(s));
  if (!re)
    notes.push(
      `cannot evaluate the regular expression of <${s.name} ${s.args.join(" ")}> at ${s.file}:${s.line}`,
    );
  return re;
}

/** <Directory> from the shortest path to the longest, each directory's .htaccess after its sections. */
function directoryWalk(
  w: WalkState,
  dirSections: ApacheSection[],
  prefixes: string[],
  target: { diskKnown: boolean; accessFileName: string },
): void {
  const plain = dirSections
    .map((s, index) => ({ s, index, path: withSlash(sectionPattern(s)) }))
    .filter((e) => !isRegexSection(e.s))
    .sort((a, b) => countSlashes(a.path) - countSlashes(b.path) || a.index - b.index);
  for (const prefix of prefixes) {
    const depth = countSlashes(prefix);
    for (const e of plain) {
      if (countSlashes(e.path) !== depth) continue;
      const matches = hasWildcard(e.path) ? wildcardToRegExp(e.path).test(prefix) : e.path === prefix;
      if (!matches) continue;
      merge(
        w,
        buildDirConf(e.s.children, { perdir: prefix, owner: contextOf(e.s), origin: e.s.file }),
        contextOf(e.s),
      );
    }
    if (target.diskKnown) htaccessAt(w, prefix, target.accessFileName);
  }
}

/** The .htaccess of one directory: merged under AllowOverride, else noted as ignored when it exists. */
function htaccessAt(w: WalkState, prefix: string, accessFileName: string): void {
  const htaccess = join(prefix, accessFileName);
  const allowed = w.conf.allowOverride?.value ?? new Set<string>();
  if (allowed.size === 0) {
    if (existsSync(htaccess)) {
      const nodes = safeParseHtaccess(htaccess, w.notes);
      const grants =
        !!nodes &&
        JSON.stringify(nodes).match(/"name":"(Require|Allow|Deny|Order|Satisfy|AuthType)"/i) !== null;
      w.ignoredHtaccess.push({ path: htaccess, allowOverride: w.conf.allowOverride?.ref ?? null, grants });
    }
    return;
  }
  const nodes = safeParseHtaccess(htaccess, w.notes);
  if (!nodes) return;
  const ctx: ConfigContext = { block: ".htaccess", file: htaccess, line: 1 };
  merge(
    w,
    buildDirConf(nodes, { perdir: prefix, owner: ctx, htaccessAllowed: allowed, origin: htaccess }),
    ctx,
  );
}

/** <DirectoryMatch> and <Directory ~>, in config order, against the deepest directory. */
function regexDirectoryWalk(w: WalkState, regex: ApacheSection[], directory: string): void {
  for (const s of regex) {
    const re = sectionRegExp(s, w.notes);
    if (!re?.test(directory)) continue;
    merge(
      w,
      buildDirConf(s.children, { perdir: directory, owner: contextOf(s), origin: s.file }),
      contextOf(s),
    );
  }
}

/** <Files>/<FilesMatch> gathered so far: against the last path segment ("" for a directory with a trailing slash). */
function fileWalk(w: WalkState, filename: string): void {
  const base = filename.endsWith("/") ? "" : (filename.split("/").pop() ?? "");
  for (const f of w.conf.files) {
    const s = f.section;
    const pattern = sectionPattern(s);
    let matches: boolean;
    if (isRegexSection(s)) {
      const re = sectionRegExp(s, w.notes);
      if (!re) continue;
      matches = re.test(base);
    } else matches = hasWildcard(pattern) ? wildcardToRegExp(pattern).test(base) : pattern === base;
    if (!matches) continue;
    const conf = buildDirConf(s.children, {
      perdir: f.perdir,
      owner: contextOf(s),
      htaccessAllowed: f.allowed,
      origin: f.origin,
    });
    merge(w, { ...conf, files: [] }, contextOf(s));
  }
}

/** <Location>/<LocationMatch>, main server then vhost, against the URL-path. */
function locationWalk(w: WalkState, scope: ServerScope, uriPath: string): void {
  const locations = [
    ...sectionsNamed(scope.main, ["location", "locationmatch"]),
    ...(scope.vhost ? sectionsNamed(scope.vhost.children, ["location", "locationmatch"]) : []),
  ];
  for (const s of locations) {
    let matches: boolean;
    if (isRegexSection(s)) {
      const re = sectionRegExp(s, w.notes);
      if (!re) continue;
      matches = re.test(uriPath);
    } else matches = locationMatches(sectionPattern(s), uriPath);
    if (!matches) continue;
    merge(w, buildDirConf(s.children, { perdir: null, owner: contextOf(s), origin: s.file }), contextOf(s));
  }
}

/** <Location /path>: a prefix that ends at a segment boundary; wildcards match the whole path. */
export function locationMatches(pattern: string, uri: string): boolean {
  const p = pattern.replace(/\/{2,}/g, "/");
  if (hasWildcard(p)) return wildcardToRegExp(p).test(uri);
  if (!uri.startsWith(p)) return false;
  if (p.endsWith("/") || p.length === 0) return true;
  const next = uri[p.length];
  return next === undefined || next === "/";
}

function safeParseHtaccess(path: string, notes: string[]): ApacheNode[] | null {
  try {
    return parseHtaccess(path);
  } catch (e) {
    notes.push(`${path} could not be parsed (${(e as Error).message}); httpd answers 500 for it`);
    return null;
  }
}

function directoryPrefixes(
  filename: string,
  uriPath: string,
  diskKnown: boolean,
): { prefixes: string[]; isDirectory: boolean; exists: boolean } {
  const parts = filename.split("/").filter((p) => p !== "");
  const prefixes = ["/"];
  let current = "/";
  if (!diskKnown) {
    const dirParts = uriPath.endsWith("/") ? parts : parts.slice(0, -1);
    for (const p of dirParts) {
      current = `${current}${p}/`;
      prefixes.push(current);
    }
    return { prefixes, isDirectory: uriPath.endsWith("/"), exists: true };
  }
  for (const [i, p] of parts.entries()) {
    const next = `${current}${p}`;
    let st: ReturnType<typeof statSync> | null = null;
    try {
      st = statSync(next);
    } catch {
      st = null;
    }
    if (!st) return { prefixes, isDirectory: false, exists: false };
    if (!st.isDirectory()) return { prefixes, isDirectory: false, exists: i === parts.length - 1 };
    current = `${next}/`;
    prefixes.push(current);
  }
  return { prefixes, isDirectory: true, exists: true };
}
