// The per-directory configuration httpd builds from one section (or .htaccess)
// and the way it merges those along the walk, module by module, as httpd's
// own merge functions do (authz_core, access_compat, core, mod_rewrite ...).

import type { ConfigContext, DirectiveRef } from "../config-decision.js";
import type { ApacheDirective, ApacheNode, ApacheSection } from "./parser.js";

/** Which methods a directive applies to (<Limit>/<LimitExcept>); HEAD counts as GET as in httpd. */
export type MethodMask = (method: string) => boolean;
export const ALL_METHODS: MethodMask = () => true;

export function methodNumber(method: string): string {
  const m = method.toUpperCase();
  return m === "HEAD" ? "GET" : m;
}

function limitMask(section: ApacheSection, outer: MethodMask): MethodMask {
  const listed = new Set(section.args.map(methodNumber));
  const except = section.name.toLowerCase() === "limitexcept";
  return (m) => outer(m) && (except ? !listed.has(methodNumber(m)) : listed.has(methodNumber(m)));
}

export function ref(d: ApacheDirective | ApacheSection): DirectiveRef {
  const name = d.kind === "section" ? `<${d.name}>` : d.name;
  return { directive: name, args: d.args, file: d.file, line: d.line };
}

export function contextOf(s: ApacheSection, block?: string): ConfigContext {
  return { block: block ?? s.name, args: s.args, file: s.file, line: s.line };
}

export interface AuthzProvider {
  kind: "provider";
  provider: string;
  args: string[];
  negate: boolean;
  limited: MethodMask;
  ref: DirectiveRef;
  /** Raw text after the provider name (Require expr takes it whole). */
  rawArgs: string;
  /** The section (Directory, Location, .htaccess ...) the line sits in. */
  owner: ConfigContext | null;
  /** The <Limit>/<LimitExcept> the line sits in, if any. */
  limit?: ConfigContext | null;
}

export interface AuthzContainer {
  kind: "container";
  op: "and" | "or";
  negate: boolean;
  limited: MethodMask;
  children: AuthzNode[];
  /** <RequireAll> etc.; null for the implicit container of bare Require lines and for merges. */
  ref: DirectiveRef | null;
  owner: ConfigContext | null;
}

export type AuthzNode = AuthzProvider | AuthzContainer;

export interface Setting<T> {
  value: T;
  ref: DirectiveRef;
}

export interface AllowDeny {
  from: string;
  limited: MethodMask;
  ref: DirectiveRef;
  /** The section the line sits in, and its <Limit>/<LimitExcept> if any. */
  owner?: ConfigContext | null;
  limit?: ConfigContext | null;
}

export interface AccessCompat {
  orders: Array<Setting<string> & { limited: MethodMask }>;
  allows: AllowDeny[];
  denys: AllowDeny[];
  satisfy: Array<Setting<string> & { limited: MethodMask }>;
}

export interface RewriteCondDef {
  test: string;
  pattern: string;
  flags: string[];
  ref: DirectiveRef;
}

export interface RewriteRuleDef {
  pattern: string;
  substitution: string;
  flags: string[];
  conds: RewriteCondDef[];
  ref: DirectiveRef;
  /** Directory prefix stripped before matching (per-directory context); null in server context. */
  perdir: string | null;
}

export interface RewriteConf {
  engine?: Setting<boolean>;
  inherit: boolean;
  /** RewriteBase: the URL-path a per-directory relative substitution is put under. */
  base?: string;
  rules: RewriteRuleDef[];
}

export interface SetEnvIfDef {
  attribute: string;
  pattern: string;
  noCase: boolean;
  assignments: string[];
  ref: DirectiveRef;
}

export interface FilesSection {
  section: ApacheSection;
  /** Where the section came from (.htaccess path or config file). */
  origin: string;
  /** AllowOverride classes when it came from a .htaccess. */
  allowed: Set<string> | null;
  perdir: string | null;
}

export interface DirConf {
  authz?: { section: AuthzContainer | null; op: "unset" | "off" | "and" | "or"; forbiddenOnFail?: boolean };
  authType?: Setting<string>;
  authUserFile?: Setting<string>;
  access?: AccessCompat;
  /** Options as resolved so far (absolute), plus relative changes of this section. */
  options?: { abs: Set<string> | null; add: Set<string>; remove: Set<string>; ref: DirectiveRef };
  directoryIndex?: Setting<string[]>;
  allowOverride?: Setting<Set<string>>;
  /** LimitRequestBody in bytes (0: no limit). */
  limitRequestBody?: Setting<number>;
  rewrite?: RewriteConf;
  setEnvIf: SetEnvIfDef[];
  modsecEngine?: Setting<string>;
  modsecRemoved: DirectiveRef[];
  files: FilesSection[];
  /** Directives a .htaccess used without AllowOverride permission (httpd answers 500). */
  notAllowed: DirectiveRef[];
}

export function emptyDirConf(): DirConf {
  return { setEnvIf: [], modsecRemoved: [], files: [], notAllowed: [] };
}

const OPTION_NAMES = [
  "ExecCGI",
  "FollowSymLinks",
  "Includes",
  "IncludesNOEXEC",
  "Indexes",
  "MultiViews",
  "SymLinksIfOwnerMatch",
];
const ALL_OPTIONS = ["ExecCGI", "FollowSymLinks", "Includes", "Indexes", "SymLinksIfOwnerMatch"];

function canonicalOption(o: string): string[] {
  if (o.toLowerCase() === "all") return ALL_OPTIONS;
  if (o.toLowerCase() === "none") return [];
  const found = OPTION_NAMES.find((n) => n.toLowerCase() === o.toLowerCase());
  return [found ?? o];
}

/** Which AllowOverride class a .htaccess directive needs; null when any class will do. */
export function overrideClass(name: string): string {
  const n = name.toLowerCase();
  if (
    [
      "authtype",
      "authname",
      "authuserfile",
      "authgroupfile",
      "authbasicprovider",
      "authbasicauthoritative",
      "require",
      "authmerging",
      "authzsendforbiddenonfailure",
      "satisfy",
      "requireall",
      "requireany",
      "requirenone",
    ].includes(n)
  )
    return "AuthConfig";
  if (["order", "allow", "deny"].includes(n)) return "Limit";
  if (["options", "xbithack"].includes(n)) return "Options";
  // core.c declares LimitRequestBody with OR_ALL: only `AllowOverride All` lets a .htaccess use it.
  if (n === "limitrequestbody") return "All";
  if (
    [
      "directoryindex",
      "indexoptions",
      "indexignore",
      "headername",
      "readmename",
      "adddescription",
      "fancyindexing",
      "indexorderdefault",
    ].includes(n)
  )
    return "Indexes";
  return "FileInfo";
}

interface BuildContext {
  limited: MethodMask;
  /** The innermost <Limit>/<LimitExcept> being walked, if any. */
  limit?: ConfigContext | null;
  perdir: string | null;
  owner: ConfigContext | null;
  /** AllowOverride classes when building from a .htaccess; null for the main config. */
  htaccessAllowed: Set<string> | null;
  origin: string;
}

/** Builds the per-directory config of one section's children (or of a .htaccess, or of server level). */
export function buildDirConf(
  nodes: ApacheNode[],
  opts: {
    perdir: string | null;
    owner: ConfigContext | null;
    htaccessAllowed?: Set<string> | null;
    origin: string;
  },
): DirConf {
  const conf = emptyDirConf();
  const ctx: BuildContext = {
    limited: ALL_METHODS,
    perdir: opts.perdir,
    owner: opts.owner,
    htaccessAllowed: opts.htaccessAllowed ?? null,
    origin: opts.origin,
  };
  const pendingConds: RewriteCondDef[] = [];
  walk(nodes, ctx, conf, pendingConds);
  return conf;
}

function permitted(name: string, ctx: BuildContext): boolean {
  if (!ctx.htaccessAllowed) return true;
  if (ctx.htaccessAllowed.has("All")) return true;
  return ctx.htaccessAllowed.has(overrideClass(name));
}

function walk(nodes: ApacheNode[], ctx: BuildContext, conf: DirConf, pendingConds: RewriteCondDef[]): void {
  for (const node of nodes) {
    if (node.kind === "section") {
      const lname = node.name.toLowerCase();
      if (lname === "limit" || lname === "limitexcept") {
        walk(
          node.children,
          { ...ctx, limited: limitMask(node, ctx.limited), limit: contextOf(node) },
          conf,
          pendingConds,
        );
      } else if (lname === "requireall" || lname === "requireany" || lname === "requirenone") {
        if (!permitted(lname, ctx)) {
          conf.notAllowed.push(ref(node));
          continue;
        }
        const container = buildContainer(node, ctx);
        addToAuthz(conf, container, ctx);
      } else if (lname === "files" || lname === "filesmatch") {
        conf.files.push({
          section: node,
          origin: ctx.origin,
          allowed: ctx.htaccessAllowed,
          perdir: ctx.perdir,
        });
      } else if (ctx.htaccessAllowed) {
        // <Directory>, <Location>, <VirtualHost> ... are not allowed in .htaccess
        conf.notAllowed.push(ref(node));
      }
      continue;
    }
    applyDirective(node, ctx, conf, pendingConds);
  }
}

function buildContainer(section: ApacheSection, ctx: BuildContext): AuthzContainer {
  const lname = section.name.toLowerCase();
  const container: AuthzContainer = {
    kind: "container",
    op: lname === "requireall" ? "and" : "or",
    negate: lname === "requirenone",
    limited: () => false,
    children: [],
    ref: ref(section),
    owner: ctx.owner,
  };
  const add = (child: AuthzNode): void => {
    container.children.push(child);
    const before = container.limited;
    container.limited = (m) => before(m) || child.limited(m);
  };
  const visit = (nodes: ApacheNode[], limited: MethodMask, limit: ConfigContext | null): void => {
    for (const n of nodes) {
      if (n.kind === "section") {
        const ln = n.name.toLowerCase();
        if (ln === "requireall" || ln === "requireany" || ln === "requirenone")
          add(buildContainer(n, { ...ctx, limited, limit }));
        else if (ln === "limit" || ln === "limitexcept")
          visit(n.children, limitMask(n, limited), contextOf(n));
        continue;
      }
      if (n.name.toLowerCase() === "require") add(provider(n, { ...ctx, limited, limit }));
    }
  };
  visit(section.children, ctx.limited, ctx.limit ?? null);
  return container;
}

function provider(d: ApacheDirective, ctx: BuildContext): AuthzProvider {
  let args = d.args;
  let negate = false;
  if ((args[0] ?? "").toLowerCase() === "not") {
    negate = true;
    args = args.slice(1);
  }
  const raw = (d.raw ?? d.args.join(" ")).replace(/^\s*not\s+/i, "").replace(/^\s*\S+\s*/, "");
  return {
    kind: "provider",
    rawArgs: raw,
    provider: (args[0] ?? "").toLowerCase(),
    args: args.slice(1),
    negate,
    limited: ctx.limited,
    ref: ref(d),
    owner: ctx.owner,
    limit: ctx.limit ?? null,
  };
}

function addToAuthz(conf: DirConf, node: AuthzNode, ctx: BuildContext): void {
  if (!conf.authz) conf.authz = { section: null, op: "unset" };
  if (!conf.authz.section) {
    conf.authz.section = {
      kind: "container",
      op: "or",
      negate: false,
      limited: () => false,
      children: [],
      ref: null,
      owner: ctx.owner,
    };
  }
  const section = conf.authz.section;
  section.children.push(node);
  const before = section.limited;
  section.limited = (m) => before(m) || node.limited(m);
}

function setting<T>(value: T, d: ApacheDirective): Setting<T> {
  return { value, ref: ref(d) };
}

function applyDirective(
  d: ApacheDirective,
  ctx: BuildContext,
  conf: DirConf,
  pendingConds: RewriteCondDef[],
): void {
  const n = d.name.toLowerCase();
  const known = [
    "require",
    "authmerging",
    "authzsendforbiddenonfailure",
    "authtype",
    "authuserfile",
    "order",
    "allow",
    "deny",
    "satisfy",
    "options",
    "directoryindex",
    "rewriteengine",
    "rewriteoptions",
    "rewritecond",
    "rewriterule",
    "rewritebase",
    "limitrequestbody",
    "setenvif",
    "setenvifnocase",
    "browsermatch",
    "browsermatchnocase",
  ];
  if (known.includes(n) && !permitted(n, ctx)) {
    conf.notAllowed.push(ref(d));
    return;
  }
  switch (n) {
    case "require":
      addToAuthz(conf, provider(d, ctx), ctx);
      return;
    case "authmerging": {
      if (!conf.authz) conf.authz = { section: null, op: "unset" };
      const v = (d.args[0] ?? "").toLowerCase();
      conf.authz.op = v === "and" ? "and" : v === "or" ? "or" : "off";
      return;
    }
    case "authzsendforbiddenonfailure":
      if (!conf.authz) conf.authz = { section: null, op: "unset" };
      conf.authz.forbiddenOnFail = (d.args[0] ?? "").toLowerCase() === "on";
      return;
    case "authtype":
      conf.authType = setting(d.args[0] ?? "", d);
      return;
    case "authuserfile":
      conf.authUserFile = setting(d.args[0] ?? "", d);
      return;
    case "order":
    case "satisfy": {
      const access = ensureAccess(conf);
      const entry = { value: (d.args[0] ?? "").toLowerCase(), ref: ref(d), limited: ctx.limited };
      (n === "order" ? access.orders : access.satisfy).push(entry);
      return;
    }
    case "allow":
    case "deny": {
      const access = ensureAccess(conf);
      // "Allow from a b c": the first word must be "from".
      for (const from of d.args.slice(1)) {
        (n === "allow" ? access.allows : access.denys).push({
          from,
          limited: ctx.limited,
          ref: ref(d),
          owner: ctx.owner,
          limit: ctx.limit ?? null,
        });
      }
      return;
    }
    case "options": {
      const relative = d.args.some((a) => a.startsWith("+") || a.startsWith("-"));
      const o = {
        abs: relative ? null : new Set<string>(),
        add: new Set<string>(),
        remove: new Set<string>(),
        ref: ref(d),
      };
      for (const a of d.args) {
        if (a.startsWith("+")) for (const x of canonicalOption(a.slice(1))) o.add.add(x);
        else if (a.startsWith("-")) for (const x of canonicalOption(a.slice(1))) o.remove.add(x);
        else for (const x of canonicalOption(a)) o.abs?.add(x);
      }
      conf.options = o;
      return;
    }
    case "directoryindex":
      conf.directoryIndex = setting(d.args, d);
      return;
    case "allowoverride": {
      const classes = new Set<string>();
      for (const a of d.args) {
        const c = a.split("=")[0] ?? a;
        if (c.toLowerCase() === "none") continue;
        const canon = ["All", "AuthConfig", "FileInfo", "Indexes", "Limit", "Options"].find(
          (x) => x.toLowerCase() === c.toLowerCase(),
        );
        classes.add(canon ?? c);
      }
      conf.allowOverride = setting(classes, d);
      return;
    }
    case "rewritebase":
      ensureRewrite(conf).base = d.args[0] ?? "/";
      return;
    case "limitrequestbody": {
      const bytes = Number(d.args[0]);
      if (Number.isSafeInteger(bytes) && bytes >= 0) conf.limitRequestBody = setting(bytes, d);
      return;
    }
    case "rewriteengine":
      ensureRewrite(conf).engine = setting((d.args[0] ?? "").toLowerCase() === "on", d);
      return;
    case "rewriteoptions":
      if (d.args.some((a) => a.toLowerCase().startsWith("inherit"))) ensureRewrite(conf).inherit = true;
      else ensureRewrite(conf);
      return;
    case "rewritecond":
      ensureRewrite(conf);
      pendingConds.push({
        test: d.args[0] ?? "",
        pattern: d.args[1] ?? "",
        flags: parseFlags(d.args[2]),
        ref: ref(d),
      });
      return;
    case "rewriterule":
      ensureRewrite(conf).rules.push({
        pattern: d.args[0] ?? "",
        substitution: d.args[1] ?? "-",
        flags: parseFlags(d.args[2]),
        conds: pendingConds.splice(0),
        ref: ref(d),
        perdir: ctx.perdir,
      });
      return;
    case "setenvif":
    case "setenvifnocase":
    case "browsermatch":
    case "browsermatchnocase": {
      const browser = n.startsWith("browsermatch");
      const [attr, pattern, ...rest] = browser ? ["User-Agent", ...d.args] : d.args;
      conf.setEnvIf.push({
        attribute: attr ?? "",
        pattern: pattern ?? "",
        noCase: n.endsWith("nocase"),
        assignments: rest,
        ref: ref(d),
      });
      return;
    }
    case "secruleengine":
      conf.modsecEngine = setting((d.args[0] ?? "").toLowerCase(), d);
      return;
    case "secruleremovebyid":
      conf.modsecRemoved.push(ref(d));
      return;
    default:
      return;
  }
}

function parseFlags(arg: string | undefined): string[] {
  if (!arg?.startsWith("[")) return [];
  return arg
    .replace(/^\[|\]$/g, "")
    .split(",")
    .map((f) => f.trim())
    .filter((f) => f !== "");
}

function ensureAccess(conf: DirConf): AccessCompat {
  if (!conf.access) conf.access = { orders: [], allows: [], denys: [], satisfy: [] };
  return conf.access;
}

function ensureRewrite(conf: DirConf): RewriteConf {
  if (!conf.rewrite) conf.rewrite = { inherit: false, rules: [] };
  return conf.rewrite;
}

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
  const out: DirConf = {
    setEnvIf: [...base.setEnvIf, ...next.setEnvIf],
    modsecRemoved: [...base.modsecRemoved, ...next.modsecRemoved],
    files: [...base.files, ...next.files],
    notAllowed: [...base.notAllowed, ...next.notAllowed],
  };
  out.authz = next.authz ? mergeAuthz(base.authz, next.authz) : base.authz;
  out.authType = next.authType ?? base.authType;
  out.authUserFile = next.authUserFile ?? base.authUserFile;
  // mod_access_compat has no merger: a section that uses it replaces it whole.
  out.access = next.access ?? base.access;
  if (next.options) {
    if (next.options.abs)
      out.options = { ...next.options, abs: new Set([...next.options.abs, ...next.options.add]) };
    else {
      const abs = new Set(base.options?.abs ?? []);
      for (const r of next.options.remove) abs.delete(r);
      for (const a of next.options.add) abs.add(a);
      out.options = { abs, add: new Set(), remove: new Set(), ref: next.options.ref };
    }
  } else out.options = base.options;
  out.directoryIndex = next.directoryIndex ?? base.directoryIndex;
  out.allowOverride = next.allowOverride ?? base.allowOverride;
  out.limitRequestBody = next.limitRequestBody ?? base.limitRequestBody;
  if (next.rewrite) {
    out.rewrite = {
      engine: next.rewrite.engine ?? base.rewrite?.engine,
      inherit: next.rewrite.inherit,
      ...((next.rewrite.base ?? base.rewrite?.base) !== undefined
        ? { base: next.rewrite.base ?? base.rewrite?.base }
        : {}),
      rules: next.rewrite.inherit
        ? [...next.rewrite.rules, ...(base.rewrite?.rules ?? [])]
        : next.rewrite.rules,
    };
  } else out.rewrite = base.rewrite;
  out.modsecEngine = next.modsecEngine ?? base.modsecEngine;
  return out;
}

function mergeAuthz(base: DirConf["authz"], next: NonNullable<DirConf["authz"]>): DirConf["authz"] {
  const baseSection = base?.section ?? null;
  let merged: NonNullable<DirConf["authz"]>;
  if (next.op === "unset" && !next.section && baseSection)
    merged = { ...(base as NonNullable<DirConf["authz"]>) };
  else if (next.op === "off" || next.op === "unset" || !(baseSection || next.section)) merged = { ...next };
  else {
    let section: AuthzContainer | null;
    if (baseSection && next.section) {
      const b = baseSection;
      const n = next.section;
      section = {
        kind: "container",
        op: next.op,
        negate: false,
        limited: (m) => b.limited(m) || n.limited(m),
        children: [b, n],
        ref: null,
        owner: n.owner,
      };
    } else section = baseSection ?? next.section;
    merged = { section, op: next.op };
  }
  merged.forbiddenOnFail = next.forbiddenOnFail ?? base?.forbiddenOnFail;
  return merged;
}
