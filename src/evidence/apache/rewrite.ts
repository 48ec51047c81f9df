// mod_rewrite as far as access decisions go: a rule with [F] (403) or [G]
// (410) whose pattern and conditions match. Rules that rewrite or redirect
// stop the evaluation here; the caller reports that the URL changes.

import { statSync } from "node:fs";
import type { RewriteCondDef, RewriteConf, RewriteRuleDef } from "./dirconf/types.js";
import { ipMatches } from "./oracle.js";
import { toRegExp } from "./pcre.js";
import { expand, type RequestRec } from "./request-rec.js";

export type RewriteOutcome =
  | { kind: "none" }
  | { kind: "forbidden" | "gone" | "rewritten" | "redirect"; rule: RewriteRuleDef };

const flagOf = (flags: string[], ...names: string[]): string | undefined =>
  flags.find((f) => names.some((n) => f.toUpperCase() === n || f.toUpperCase().startsWith(`${n}=`)));

export function runRewrite(
  conf: RewriteConf | undefined,
  req: RequestRec,
  subjectFor: (rule: RewriteRuleDef) => string | null,
): RewriteOutcome {
  if (!conf?.engine?.value) return { kind: "none" };
  const rules = conf.rules;
  for (let i = 0; i < rules.length; i++) {
    const rule = rules[i] as RewriteRuleDef;
    const subject = subjectFor(rule);
    let matched: boolean;
    let backrefs: string[] = [];
    const negate = rule.pattern.startsWith("!");
    const re = toRegExp(negate ? rule.pattern.slice(1) : rule.pattern, !!flagOf(rule.flags, "NC", "NOCASE"));
    if (subject === null || re === null) {
      matched = req.oracle.ask(
        `rule:${rule.ref.file}:${rule.ref.line}`,
        `whether RewriteRule ${rule.pattern} at ${rule.ref.file}:${rule.ref.line} matches this request`,
      );
    } else {
      const m = re.exec(subject);
      matched = negate ? !m : !!m;
      backrefs = m && !negate ? [...m].map((x) => x ?? "") : [];
    }
    if (matched) matched = condsMatch(rule.conds, req, backrefs);
    if (!matched) {
      // A failed rule skips the rest of its [C] chain.
      while (flagOf((rules[i] as RewriteRuleDef).flags, "C", "CHAIN") && i + 1 < rules.length) i++;
      continue;
    }
    if (flagOf(rule.flags, "F", "FORBIDDEN")) return { kind: "forbidden", rule };
    if (flagOf(rule.flags, "G", "GONE")) return { kind: "gone", rule };
    if (flagOf(rule.flags, "R", "REDIRECT")) return { kind: "redirect", rule };
    if (rule.substitution !== "-") return { kind: "rewritten", rule };
    if (flagOf(rule.flags, "L", "LAST", "END")) return { kind: "none" };
    const skip = flagOf(rule.flags, "S", "SKIP");
    if (skip) i += Number(skip.split("=")[1] ?? 0);
  }
  return { kind: "none" };
}

function condsMatch(conds: RewriteCondDef[], req: RequestRec, backrefs: string[]): boolean {
  const condRefs: string[] = [];
  for (let i = 0; i < conds.length; i++) {
    const c = conds[i] as RewriteCondDef;
    const ok = condMatches(c, req, backrefs, condRefs);
    const or = !!flagOf(c.flags, "OR", "ORNEXT");
    if (or) {
      if (!ok) continue;
      while (i < conds.length && flagOf((conds[i] as RewriteCondDef).flags, "OR", "ORNEXT")) i++;
      continue;
    }
    if (!ok) return false;
  }
  return true;
}

function condMatches(c: RewriteCondDef, req: RequestRec, backrefs: string[], condRefs: string[]): boolean {
  const ask = (why: string): boolean =>
    req.oracle.ask(
      `cond:${c.ref.file}:${c.ref.line}`,
      `whether RewriteCond ${c.test} ${c.pattern} at ${c.ref.file}:${c.ref.line} matches (${why})`,
    );
  const test = expand(req, c.test, backrefs, condRefs);
  if (test === undefined) return ask("the request does not tell the value");
  const noCase = !!flagOf(c.flags, "NC", "NOCASE");
  let pattern = c.pattern;
  const negate = pattern.startsWith("!");
  if (negate) pattern = pattern.slice(1);
  let result: boolean;
  if (/^-[dfFslLUx]$/.test(pattern)) {
    if (!req.diskKnown) return ask("needs the file system");
    const r = fileTest(test, pattern);
    if (r === undefined) return ask("file test not supported");
    result = r;
  } else if (pattern === "-ipmatch" || pattern.startsWith("-ipmatch")) {
    result = ipMatches(test, pattern.replace(/^-ipmatch\s*/, ""));
  } else if (/^(=|==)/.test(pattern) && !pattern.startsWith("=~")) {
    const want = pattern.replace(/^==?/, "").replace(/^""$/, "");
    result = noCase ? test.toLowerCase() === want.toLowerCase() : test === want;
  } else if (/^(<=|>=|<|>)/.test(pattern)) {
    const op = (pattern.match(/^(<=|>=|<|>)/) as RegExpMatchArray)[1] as string;
    const want = pattern.slice(op.length);
    const cmp = test.localeCompare(want);
    result = op === "<" ? cmp < 0 : op === ">" ? cmp > 0 : op === "<=" ? cmp <= 0 : cmp >= 0;
  } else if (/^-(eq|ne|lt|le|gt|ge)/.test(pattern)) {
    return ask("numeric comparison");
  } else {
    const re = toRegExp(pattern, noCase);
    if (!re) return ask("the pattern is not a JavaScript regular expression");
    const m = re.exec(test);
    result = !!m;
    if (m && !negate) {
      condRefs.length = 0;
      condRefs.push(...[...m].map((x) => x ?? ""));
    }
  }
  return negate ? !result : result;
}

/** A RewriteCond file test (-d, -f, -s, -l) on this machine; undefined for a test it cannot make. */
function fileTest(path: string, test: string): boolean | undefined {
  try {
    const st = statSync(path);
    if (test === "-d") return st.isDirectory();
    if (test === "-f" || test === "-F") return st.isFile();
    if (test === "-s") return st.isFile() && st.size > 0;
    if (test === "-l" || test === "-L") return false;
    return undefined;
  } catch {
    return test === "-d" || test === "-f" || test === "-F" || test === "-s" || test === "-l" || test === "-L"
      ? false
      : undefined;
  }
}
