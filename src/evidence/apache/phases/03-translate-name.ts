// Phase 3, translate_name: the URL-path becomes a file name. mod_rewrite's
// server-context rules run first (a [F], [G], redirect or rewrite answers
// here), then mod_alias (Alias, AliasMatch, ScriptAlias, Redirect*), then
// core's DocumentRoot.

import { existsSync } from "node:fs";
import { type RewriteConf, ref } from "../dirconf/types.js";
import * as fixText from "../fix-text.js";
import { toRegExp } from "../pcre.js";
import { type RewriteOutcome, runRewrite } from "../rewrite.js";
import type { ServerScope } from "../walk.js";
import {
  allow,
  deny,
  directives,
  type Mapped,
  type Outcome,
  type Pass,
  requestRec,
  serverContextConf,
} from "./state.js";

/** Server-context rewrite, then a Redirect: either answers before any access check. */
export function translateName(pass: Pass): Outcome | null {
  const { plan } = pass;
  const first = plan.walk(plan.path);
  const rec = requestRec(pass, plan.path, first.mapped.filename, first.mapped.diskKnown);
  const rewritten = rewriteAnswer(
    runRewrite(plan.serverRewrite, rec, () => plan.path),
    "server",
  );
  if (rewritten) return rewritten;
  if (first.mapped.redirect)
    return allow(first.mapped.redirect, ["a Redirect answers before access control"]);
  return null;
}

/** What a matching RewriteRule means for the request; null when none matched. */
export function rewriteAnswer(rw: RewriteOutcome, where: "server" | "directory"): Outcome | null {
  if (rw.kind === "none") return null;
  const r = rw.rule.ref;
  const line = fixText.rewriteLine(r);
  if (rw.kind === "forbidden") return deny(403, r, "server-config", [fixText.rewriteForbids(line)]);
  if (rw.kind === "gone") return deny(410, r, "server-config", [fixText.rewriteGone(line)]);
  if (rw.kind === "redirect") return allow(r, [`${line} redirects this request`]);
  return {
    decision: "unknown",
    status: null,
    decidedBy: r,
    cause: null,
    fix: [],
    notes: [`${line} rewrites the URL in ${where} context; the rewritten request is not followed`],
  };
}

/** Server-context rewrite rules: the vhost's own (plus the main server's with RewriteOptions Inherit), else the main server's. */
export function serverRewriteConf(scope: ServerScope): RewriteConf | undefined {
  const names = ["rewriteengine", "rewriterule", "rewritecond", "rewriteoptions"];
  const mainConf = serverContextConf(scope.main, names, "server").rewrite;
  if (!scope.vhost) return mainConf;
  const v = serverContextConf(scope.vhost.children, names, "vhost").rewrite;
  if (!v) return undefined;
  if (v.inherit && mainConf) return { ...v, rules: [...v.rules, ...mainConf.rules] };
  return v;
}

const ALIAS_DIRECTIVES = [
  "alias",
  "scriptalias",
  "aliasmatch",
  "scriptaliasmatch",
  "redirect",
  "redirectmatch",
  "redirectpermanent",
  "redirecttemp",
];

/** URL-path to file: Alias/AliasMatch/ScriptAlias (vhost first), Redirect, else DocumentRoot. */
export function mapToFile(scope: ServerScope, uriPath: string, serverRoot: string): Mapped {
  for (const nodes of [scope.vhost?.children ?? [], scope.main]) {
    for (const d of directives(nodes, ...ALIAS_DIRECTIVES)) {
      const mapped = aliasTarget(d, uriPath);
      if (mapped) return mapped;
    }
  }
  const docRootDirective = [
    ...directives(scope.vhost?.children ?? [], "documentroot"),
    ...directives(scope.main, "documentroot"),
  ][0];
  const given = docRootDirective?.args[0] ?? "/var/www/html";
  const docRoot = (given.startsWith("/") ? given : `${serverRoot}/${given}`).replace(/\/+$/, "");
  return {
    filename: `${docRoot}${uriPath}`,
    diskKnown: existsSync(docRoot || "/"),
    by: docRootDirective ? ref(docRootDirective) : null,
  };
}

/** One mod_alias line against the URL-path: the file it maps to, the Redirect that answers, or null. */
function aliasTarget(d: ReturnType<typeof directives>[number], uriPath: string): Mapped | null {
  const n = d.name.toLowerCase();
  const isRedirect = n.startsWith("redirect");
  const args =
    isRedirect && /^(permanent|temp|seeother|gone|\d{3})$/i.test(d.args[0] ?? "") ? d.args.slice(1) : d.args;
  const [from, to] = args as [string, string | undefined];
  if (!from) return null;
  if (n.endsWith("match")) {
    const m = toRegExp(from)?.exec(uriPath);
    if (!m) return null;
    if (isRedirect) return { filename: uriPath, diskKnown: false, by: ref(d), redirect: ref(d) };
    const target = (to ?? "").replace(/\$(\d)/g, (_x, i: string) => m[Number(i)] ?? "");
    return { filename: target, diskKnown: existsSync(target), by: ref(d) };
  }
  if (!aliasMatches(from, uriPath)) return null;
  if (isRedirect) return { filename: uriPath, diskKnown: false, by: ref(d), redirect: ref(d) };
  const rest = uriPath.slice(from.replace(/\/+$/, "").length);
  const target = `${(to ?? "").replace(/\/+$/, "")}${rest}`;
  return { filename: target || "/", diskKnown: existsSync(to ?? "/"), by: ref(d) };
}

/** mod_alias: the alias must match whole path segments. */
function aliasMatches(alias: string, uri: string): boolean {
  const a = alias.replace(/\/{2,}/g, "/");
  if (a.endsWith("/")) return uri.startsWith(a);
  return uri === a || uri.startsWith(`${a}/`);
}
