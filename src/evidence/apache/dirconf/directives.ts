// One handler per directive the evaluator understands: each stores what its
// module keeps in the per-directory config. Directives not listed are ignored;
// a .htaccess line whose AllowOverride class is not granted is recorded as not
// allowed (httpd answers 500 for it).

import type { ApacheDirective } from "../parser.js";
import { permitted } from "./allow-override.js";
import { addToAuthz, provider } from "./require-tree.js";
import {
  type AccessCompat,
  type AuthzConf,
  type BuildContext,
  type DirConf,
  type RewriteCondDef,
  type RewriteConf,
  ref,
  type Setting,
} from "./types.js";

type Handler = (d: ApacheDirective, ctx: BuildContext, conf: DirConf, pendingConds: RewriteCondDef[]) => void;

/**
 * Read from any section without an AllowOverride check: AllowOverride itself
 * (httpd refuses it in a .htaccess, so it only ever comes from <Directory>) and
 * ModSecurity's lines, which only note that a WAF is in scope.
 */
const NOT_OVERRIDE_CHECKED = new Set(["allowoverride", "secruleengine", "secruleremovebyid"]);

export function applyDirective(
  d: ApacheDirective,
  ctx: BuildContext,
  conf: DirConf,
  pendingConds: RewriteCondDef[],
): void {
  const n = d.name.toLowerCase();
  const handler = HANDLERS.get(n);
  if (!handler) return;
  if (!NOT_OVERRIDE_CHECKED.has(n) && !permitted(n, ctx.htaccessAllowed)) {
    conf.notAllowed.push(ref(d));
    return;
  }
  handler(d, ctx, conf, pendingConds);
}

const first = (d: ApacheDirective): string => d.args[0] ?? "";

function setting<T>(value: T, d: ApacheDirective): Setting<T> {
  return { value, ref: ref(d) };
}

// ---------- mod_authz_core, mod_auth_basic, mod_authn_file ----------

function ensureAuthz(conf: DirConf): AuthzConf {
  if (!conf.authz) conf.authz = { section: null, op: "unset" };
  return conf.authz;
}

const authMerging: Handler = (d, _ctx, conf) => {
  const v = first(d).toLowerCase();
  ensureAuthz(conf).op = v === "and" ? "and" : v === "or" ? "or" : "off";
};

const forbiddenOnFailure: Handler = (d, _ctx, conf) => {
  ensureAuthz(conf).forbiddenOnFail = first(d).toLowerCase() === "on";
};

// ---------- mod_access_compat ----------

function ensureAccess(conf: DirConf): AccessCompat {
  if (!conf.access) conf.access = { orders: [], allows: [], denys: [], satisfy: [] };
  return conf.access;
}

const accessSetting =
  (list: "orders" | "satisfy"): Handler =>
  (d, ctx, conf) => {
    ensureAccess(conf)[list].push({ value: first(d).toLowerCase(), ref: ref(d), limited: ctx.limited });
  };

/** "Allow from a b c": the first word must be "from"; each address is its own entry. */
const allowDeny =
  (list: "allows" | "denys"): Handler =>
  (d, ctx, conf) => {
    const access = ensureAccess(conf);
    for (const from of d.args.slice(1)) {
      access[list].push({
        from,
        limited: ctx.limited,
        ref: ref(d),
        owner: ctx.owner,
        limit: ctx.limit ?? null,
      });
    }
  };

// ---------- core ----------

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

/** Options: absolute (replaces) unless any word is +/- (relative to the merged value). */
const options: Handler = (d, _ctx, conf) => {
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
};

const OVERRIDE_CLASSES = ["All", "AuthConfig", "FileInfo", "Indexes", "Limit", "Options"];

const allowOverride: Handler = (d, _ctx, conf) => {
  const classes = new Set<string>();
  for (const a of d.args) {
    const c = a.split("=")[0] ?? a;
    if (c.toLowerCase() === "none") continue;
    classes.add(OVERRIDE_CLASSES.find((x) => x.toLowerCase() === c.toLowerCase()) ?? c);
  }
  conf.allowOverride = setting(classes, d);
};

const limitRequestBody: Handler = (d, _ctx, conf) => {
  const bytes = Number(d.args[0]);
  if (Number.isSafeInteger(bytes) && bytes >= 0) conf.limitRequestBody = setting(bytes, d);
};

// ---------- mod_rewrite ----------

function ensureRewrite(conf: DirConf): RewriteConf {
  if (!conf.rewrite) conf.rewrite = { inherit: false, rules: [] };
  return conf.rewrite;
}

function parseFlags(arg: string | undefined): string[] {
  if (!arg?.startsWith("[")) return [];
  return arg
    .replace(/^\[|\]$/g, "")
    .split(",")
    .map((f) => f.trim())
    .filter((f) => f !== "");
}

const rewriteOptions: Handler = (d, _ctx, conf) => {
  const rw = ensureRewrite(conf);
  if (d.args.some((a) => a.toLowerCase().startsWith("inherit"))) rw.inherit = true;
};

/** A RewriteCond waits for the next RewriteRule, which takes every condition pending. */
const rewriteCond: Handler = (d, _ctx, conf, pendingConds) => {
  ensureRewrite(conf);
  pendingConds.push({ test: first(d), pattern: d.args[1] ?? "", flags: parseFlags(d.args[2]), ref: ref(d) });
};

const rewriteRule: Handler = (d, ctx, conf, pendingConds) => {
  ensureRewrite(conf).rules.push({
    pattern: first(d),
    substitution: d.args[1] ?? "-",
    flags: parseFlags(d.args[2]),
    conds: pendingConds.splice(0),
    ref: ref(d),
    perdir: ctx.perdir,
  });
};

// ---------- mod_setenvif ----------

/** SetEnvIf attr regex assignments…; BrowserMatch is SetEnvIf User-Agent. */
const setEnvIf: Handler = (d, _ctx, conf) => {
  const n = d.name.toLowerCase();
  const [attr, pattern, ...rest] = n.startsWith("browsermatch") ? ["User-Agent", ...d.args] : d.args;
  conf.setEnvIf.push({
    attribute: attr ?? "",
    pattern: pattern ?? "",
    noCase: n.endsWith("nocase"),
    assignments: rest,
    ref: ref(d),
  });
};

const HANDLERS = new Map<string, Handler>([
  ["require", (d, ctx, conf) => addToAuthz(conf, provider(d, ctx), ctx)],
  ["authmerging", authMerging],
  ["authzsendforbiddenonfailure", forbiddenOnFailure],
  [
    "authtype",
    (d, _ctx, conf) => {
      conf.authType = setting(first(d), d);
    },
  ],
  [
    "authuserfile",
    (d, _ctx, conf) => {
      conf.authUserFile = setting(first(d), d);
    },
  ],
  ["order", accessSetting("orders")],
  ["satisfy", accessSetting("satisfy")],
  ["allow", allowDeny("allows")],
  ["deny", allowDeny("denys")],
  ["options", options],
  [
    "directoryindex",
    (d, _ctx, conf) => {
      conf.directoryIndex = setting(d.args, d);
    },
  ],
  ["allowoverride", allowOverride],
  ["limitrequestbody", limitRequestBody],
  [
    "rewriteengine",
    (d, _ctx, conf) => {
      ensureRewrite(conf).engine = setting(first(d).toLowerCase() === "on", d);
    },
  ],
  ["rewriteoptions", rewriteOptions],
  [
    "rewritebase",
    (d, _ctx, conf) => {
      ensureRewrite(conf).base = d.args[0] ?? "/";
    },
  ],
  ["rewritecond", rewriteCond],
  ["rewriterule", rewriteRule],
  ["setenvif", setEnvIf],
  ["setenvifnocase", setEnvIf],
  ["browsermatch", setEnvIf],
  ["browsermatchnocase", setEnvIf],
  [
    "secruleengine",
    (d, _ctx, conf) => {
      conf.modsecEngine = setting(first(d).toLowerCase(), d);
    },
  ],
  [
    "secruleremovebyid",
    (d, _ctx, conf) => {
      conf.modsecRemoved.push(ref(d));
    },
  ],
]);
