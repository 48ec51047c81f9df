// Phase 9, fixups (mod_rewrite in per-directory context): the RewriteRules of
// the merged sections and .htaccess files, matched against the path below
// their directory. A rewrite to a local URL-path (the front-controller
// pattern) is an internal redirect: the per-path phases run again for it.

import type { DirConf, RewriteConf, RewriteRuleDef } from "../dirconf/types.js";
import * as fixText from "../fix-text.js";
import type { RequestRec } from "../request-rec.js";
import { runRewrite } from "../rewrite.js";
import { normalizePath } from "./01-normalise.js";
import { rewriteAnswer } from "./03-translate-name.js";
import { deny, type Outcome, type Pass } from "./state.js";

/** httpd's LimitInternalRecursion: more internal redirects end with 500. */
const MAX_INTERNAL_REDIRECTS = 10;

export function perDirRewrite(pass: Pass, conf: DirConf, rec: RequestRec): Outcome | null {
  const rw = runRewrite(conf.rewrite, rec, (rule) => {
    if (!rule.perdir) return rec.path;
    const name = rec.filename ?? "";
    return name.startsWith(rule.perdir) ? name.slice(rule.perdir.length) : null;
  });
  if (rw.kind === "rewritten") {
    const followed = followRewrite(pass, rw.rule, conf.rewrite);
    if (followed) return followed;
  }
  return rewriteAnswer(rw, "directory");
}

/** The rewritten request, decided again; null when the target cannot be known without running the rule. */
function followRewrite(pass: Pass, rule: RewriteRuleDef, rw: RewriteConf | undefined): Outcome | null {
  const target = perdirTarget(rule, rw);
  if (target === null) return null;
  const line = fixText.rewriteLine(rule.ref);
  if (++pass.internalRedirects > MAX_INTERNAL_REDIRECTS)
    return deny(500, rule.ref, "server-config", [fixText.rewriteLoops(line)]);
  const next = pass.decidePath(target, 0);
  return { ...next, notes: [`${line} rewrites the request to ${target} (followed)`, ...next.notes] };
}

/** The URL-path a per-directory substitution leads to: "/x" as it is, "x" under RewriteBase; null when it needs captures. */
function perdirTarget(rule: RewriteRuleDef, rw: { base?: string } | undefined): string | null {
  const sub = rule.substitution;
  if (sub === "-" || /[$%]/.test(sub) || /^[a-z][a-z0-9+.-]*:\/\//i.test(sub)) return null;
  const path = sub.split("?")[0] ?? sub;
  if (path.startsWith("/")) return normalizePath(path);
  if (rw?.base === undefined) return null;
  return normalizePath(`${rw.base.replace(/\/*$/, "/")}${path}`);
}
