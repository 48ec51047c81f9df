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

export function walkSections(
  scope: ServerScope,
  target: { filename: string; uriPath: string; diskKnown: boolean; accessFileName: string },
): WalkResult {
  const context: ConfigContext[] = [];
  const notes: string[] = [];
  const ignoredHtaccess: WalkResult["ignoredHtaccess"] = [];
  if (scope.vhost) context.push(contextOf(scope.vhost));
  let conf = serverDefaults(scope);

  const dirSections = [
    ...sectionsNamed(scope.main, ["directory", "directorymatch"]),
    ...(scope.vhost ? sectionsNamed(scope.vhost.children, ["directory", "directorymatch"]) : []),
  ];
  const plain = dirSections
    .map((s, index) => ({ s, index, path: withSlash(sectionPattern(s)) }))
    .filter((e) => !isRegexSection(e.s))
    .sort((a, b) => countSlashes(a.path) - countSlashes(b.path) || a.index - b.index);
  const regex = dirSections.filter(isRegexSection);

  // The directory prefixes httpd walks: those that exist on disk, or, offline, those the URL implies.
  const { prefixes, isDirectory, exists } = directoryPrefixes(
    target.filename,
    target.uriPath,
    target.diskKnown,
  );
  for (const prefix of prefixes) {
    const depth = countSlashes(prefix);
    for (const e of plain) {
      if (countSlashes(e.path) !== depth) continue;
      const matches = hasWildcard(e.path) ? wildcardToRegExp(e.path).test(prefix) : e.path === prefix;
      if (!matches) continue;
      conf = mergeDirConf(
        conf,
        buildDirConf(e.s.children, { perdir: prefix, owner: contextOf(e.s), origin: e.s.file }),
      );
      context.push(contextOf(e.s));
    }
    if (!target.diskKnown) continue;
    const htaccess = join(prefix, target.accessFileName);
    const allowed = conf.allowOverride?.value ?? new Set<string>();
    if (allowed.size === 0) {
      if (existsSync(htaccess)) {
        const nodes = safeParseHtaccess(htaccess, notes);
        const grants =
          !!nodes &&
          JSON.stringify(nodes).match(/"name":"(Require|Allow|Deny|Order|Satisfy|AuthType)"/i) !== null;
        ignoredHtaccess.push({ path: htaccess, allowOverride: conf.allowOverride?.ref ?? null, grants });
      }
      continue;
    }
    const nodes = safeParseHtaccess(htaccess, notes);
    if (!nodes) continue;
    const ctx: ConfigContext = { block: ".htaccess", file: htaccess, line: 1 };
    conf = mergeDirConf(
      conf,
      buildDirConf(nodes, { perdir: prefix, owner: ctx, htaccessAllowed: allowed, origin: htaccess }),
    );
    context.push(ctx);
  }
  const directory = prefixes[prefixes.length - 1] ?? "/";

  for (const s of regex) {
    const re = toRegExp(sectionPattern(s));
    if (!re) {
      notes.push(
        `cannot evaluate the regular expression of <${s.name} ${s.args.join(" ")}> at ${s.file}:${s.line}`,
      );
      continue;
    }
    if (!re.test(directory)) continue;
    conf = mergeDirConf(
      conf,
      buildDirConf(s.children, { perdir: directory, owner: contextOf(s), origin: s.file }),
    );
    context.push(contextOf(s));
  }

  // <Files>: against the last path segment ("" for a directory with a trailing slash).
  const base = target.filename.endsWith("/") ? "" : (target.filename.split("/").pop() ?? "");
  const files = conf.files;
  for (const f of files) {
    const s = f.section;
    const pattern = sectionPattern(s);
    let matches: boolean;
    if (isRegexSection(s)) {
      const re = toRegExp(pattern);
      if (!re) {
        notes.push(
          `cannot evaluate the regular expression of <${s.name} ${s.args.join(" ")}> at ${s.file}:${s.line}`,
        );
        continue;
      }
      matches = re.test(base);
    } else matches = hasWildcard(pattern) ? wildcardToRegExp(pattern).test(base) : pattern === base;
    if (!matches) continue;
    conf = mergeDirConf(conf, {
      ...buildDirConf(s.children, {
        perdir: f.perdir,
        owner: contextOf(s),
        htaccessAllowed: f.allowed,
        origin: f.origin,
      }),
      files: [],
    });
    context.push(contextOf(s));
  }

  const locations = [
    ...sectionsNamed(scope.main, ["location", "locationmatch"]),
    ...(scope.vhost ? sectionsNamed(scope.vhost.children, ["location", "locationmatch"]) : []),
  ];
  for (const s of locations) {
    const pattern = sectionPattern(s);
    let matches: boolean;
    if (isRegexSection(s)) {
      const re = toRegExp(pattern);
      if (!re) {
        notes.push(
          `cannot evaluate the regular expression of <${s.name} ${s.args.join(" ")}> at ${s.file}:${s.line}`,
        );
        continue;
      }
      matches = re.test(target.uriPath);
    } else matches = locationMatches(pattern, target.uriPath);
    if (!matches) continue;
    conf = mergeDirConf(
      conf,
      buildDirConf(s.children, { perdir: null, owner: contextOf(s), origin: s.file }),
    );
    context.push(contextOf(s));
  }
  return { conf, context, notes, ignoredHtaccess, isDirectory, exists, directory };
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
