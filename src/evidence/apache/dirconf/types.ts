// The per-directory configuration httpd builds from one section (or .htaccess):
// what each module keeps (authz_core's Require tree, access_compat's
// Order/Allow/Deny, core's Options and LimitRequestBody, mod_rewrite's rules,
// mod_setenvif's lines ...), with the small constructors every builder uses.

import type { ConfigContext, DirectiveRef } from "../../config-decision.js";
import type { ApacheDirective, ApacheSection } from "../parser.js";

/** Which methods a directive applies to (<Limit>/<LimitExcept>); HEAD counts as GET as in httpd. */
export type MethodMask = (method: string) => boolean;
export const ALL_METHODS: MethodMask = () => true;

export function methodNumber(method: string): string {
  const m = method.toUpperCase();
  return m === "HEAD" ? "GET" : m;
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

/** The authz_core part of a DirConf, once a section has set it. */
export type AuthzConf = NonNullable<DirConf["authz"]>;

/** Where the builder is while it reads one section's lines. */
export interface BuildContext {
  limited: MethodMask;
  /** The innermost <Limit>/<LimitExcept> being walked, if any. */
  limit?: ConfigContext | null;
  perdir: string | null;
  owner: ConfigContext | null;
  /** AllowOverride classes when building from a .htaccess; null for the main config. */
  htaccessAllowed: Set<string> | null;
  origin: string;
}
