// How httpd merges per-directory configs along the walk, module by module, as
// each module's own merge function does (authz_core, access_compat, core,
// mod_rewrite ...).

import {
  type AuthzConf,
  type AuthzContainer,
  type DirConf,
  emptyDirConf,
  type RewriteConf,
} from "./types.js";

/** The base configuration every request starts from (httpd's compiled-in defaults). */
export function defaultDirConf(): DirConf {
  const conf = emptyDirConf();
  conf.options = {
    abs: new Set(["FollowSymLinks"]),
    add: new Set(),
    remove: new Set(),
    ref: { directive: "Options", args: ["FollowSymLinks"], file: "(httpd default)", line: 0 },
  };
  return conf;
}

/** Merges `next` over `base` the way each httpd module's merge function does. */
export function mergeDirConf(base: DirConf, next: DirConf): DirConf {
  return {
    setEnvIf: [...base.setEnvIf, ...next.setEnvIf],
    modsecRemoved: [...base.modsecRemoved, ...next.modsecRemoved],
    files: [...base.files, ...next.files],
    notAllowed: [...base.notAllowed, ...next.notAllowed],
    authz: next.authz ? mergeAuthz(base.authz, next.authz) : base.authz,
    authType: next.authType ?? base.authType,
    authUserFile: next.authUserFile ?? base.authUserFile,
    // mod_access_compat has no merger: a section that uses it replaces it whole.
    access: next.access ?? base.access,
    options: next.options ? mergeOptions(base.options, next.options) : base.options,
    directoryIndex: next.directoryIndex ?? base.directoryIndex,
    allowOverride: next.allowOverride ?? base.allowOverride,
    limitRequestBody: next.limitRequestBody ?? base.limitRequestBody,
    rewrite: next.rewrite ? mergeRewrite(base.rewrite, next.rewrite) : base.rewrite,
    modsecEngine: next.modsecEngine ?? base.modsecEngine,
  };
}

type Options = NonNullable<DirConf["options"]>;

/** core: absolute Options replace the merged set; +/- ones edit it. */
function mergeOptions(base: DirConf["options"], next: Options): Options {
  if (next.abs) return { ...next, abs: new Set([...next.abs, ...next.add]) };
  const abs = new Set(base?.abs ?? []);
  for (const r of next.remove) abs.delete(r);
  for (const a of next.add) abs.add(a);
  return { abs, add: new Set(), remove: new Set(), ref: next.ref };
}

/** mod_rewrite: engine and base carry down; rules of the parent only with RewriteOptions Inherit. */
function mergeRewrite(base: DirConf["rewrite"], next: RewriteConf): RewriteConf {
  const rewriteBase = next.base ?? base?.base;
  return {
    engine: next.engine ?? base?.engine,
    inherit: next.inherit,
    ...(rewriteBase !== undefined ? { base: rewriteBase } : {}),
    rules: next.inherit ? [...next.rules, ...(base?.rules ?? [])] : next.rules,
  };
}

/** authz_core: AuthMerging Off (or unset) replaces, And/Or join the parent's tree and this one. */
function mergeAuthz(base: DirConf["authz"], next: AuthzConf): DirConf["authz"] {
  const baseSection = base?.section ?? null;
  let merged: AuthzConf;
  if (next.op === "unset" && !next.section && baseSection) merged = { ...(base as AuthzConf) };
  else if (next.op === "off" || next.op === "unset" || !(baseSection || next.section)) merged = { ...next };
  else merged = { section: joinSections(baseSection, next.section, next.op), op: next.op };
  merged.forbiddenOnFail = next.forbiddenOnFail ?? base?.forbiddenOnFail;
  return merged;
}

function joinSections(
  b: AuthzContainer | null,
  n: AuthzContainer | null,
  op: "and" | "or",
): AuthzContainer | null {
  if (!b || !n) return b ?? n;
  return {
    kind: "container",
    op,
    negate: false,
    limited: (m) => b.limited(m) || n.limited(m),
    children: [b, n],
    ref: null,
    owner: n.owner,
  };
}
