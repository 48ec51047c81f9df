// ngx_http_rewrite_module: `set`, `if`, `rewrite`, `break` and `return`, run
// in order in the server-rewrite phase (server level) and the rewrite phase
// (chosen location). Shared by both phase files.

import { statSync } from "node:fs";
import type { Directive } from "../parser.js";
import { pcreToRegExp } from "../regex.js";
import { evalCondition, type Truth } from "../variables.js";
import { at, contextOf, type NginxRequestState, type PhaseResult, ref } from "./state.js";
import { returnFix, uncertainIfUnknown } from "./wording.js";

export type RewriteResult =
  | { kind: "continue" }
  | { kind: "return"; directive: Directive; status: number; via: Directive | null }
  | { kind: "last" | "break"; directive: Directive };

const CONTINUE: RewriteResult = { kind: "continue" };

/** Runs one block's rewrite directives; `via` is the `if` the block belongs to. */
export function runRewrite(st: NginxRequestState, block: Directive[], via: Directive | null): RewriteResult {
  for (const d of block) {
    const r = runOne(st, d, via);
    if (r.kind !== "continue") return r;
  }
  return CONTINUE;
}

function runOne(st: NginxRequestState, d: Directive, via: Directive | null): RewriteResult {
  switch (d.directive) {
    case "set": {
      const name = (d.args[0] ?? "").replace(/^\$/, "");
      st.vars.set(name, st.vars.interpolate(d.args[1] ?? "").value);
      return CONTINUE;
    }
    case "return": {
      const first = d.args[0] ?? "";
      const status = /^\d+$/.test(first) ? Number(first) : 302;
      return { kind: "return", directive: d, status, via };
    }
    case "break":
      return { kind: "break", directive: d };
    case "rewrite":
      return rewrite(st, d) ?? CONTINUE;
    case "if":
      return runIf(st, d);
    default:
      return CONTINUE;
  }
}

function runIf(st: NginxRequestState, d: Directive): RewriteResult {
  for (const inner of d.block ?? []) {
    if (inner.directive === "allow" || inner.directive === "deny") {
      st.unknowns.push(
        `nginx does not allow \`${inner.directive}\` inside \`if\` (${at(inner)}); \`nginx -t\` fails and the config would not load`,
      );
    }
  }
  const truth: Truth = evalCondition(d.args, st.vars, fileTest);
  if (typeof truth !== "boolean") {
    noteUndecidedIf(st, d, truth.unknown);
    return CONTINUE;
  }
  if (!truth) return CONTINUE;
  st.ifBlock = d;
  return runRewrite(st, d.block ?? [], d);
}

/** An `if` we cannot decide matters only when its block could answer or change the URI. */
function noteUndecidedIf(st: NginxRequestState, d: Directive, missing: string): void {
  const decisive = (d.block ?? []).some((x) => ["return", "rewrite", "break"].includes(x.directive));
  if (!decisive) return;
  st.unknowns.push(uncertainIfUnknown(d, missing));
  const ret = (d.block ?? []).find((x) => x.directive === "return");
  const returnsRefusal = !!ret && Number(ret.args[0]) >= 400;
  if (!st.uncertainIf) st.uncertainIf = { directive: d, returnsRefusal };
}

function rewrite(st: NginxRequestState, d: Directive): RewriteResult | null {
  const [pattern = "", replacement = "", flag] = d.args;
  const re = pcreToRegExp(pattern, false);
  if (!re) {
    st.unknowns.push(`the rewrite regex at ${at(d)} cannot be evaluated here`);
    return null;
  }
  const m = re.exec(st.uri);
  if (!m) return null;
  st.vars.captures.length = 0;
  st.vars.captures.push(...m.map((x) => x ?? ""));
  const target = st.vars.interpolate(replacement);
  if (target.value === undefined) {
    st.unknowns.push(`the rewrite at ${at(d)} needs ${target.missing}`);
    return { kind: "break", directive: d };
  }
  if (/^(https?:\/\/|\$scheme)/.test(replacement) || flag === "redirect" || flag === "permanent") {
    return { kind: "return", directive: d, status: flag === "permanent" ? 301 : 302, via: null };
  }
  const q = target.value.indexOf("?");
  const newUri = q >= 0 ? target.value.slice(0, q) : target.value;
  if (q >= 0)
    st.query = target.value.slice(q + 1) + (st.query && !target.value.endsWith("?") ? `&${st.query}` : "");
  st.setUri(newUri);
  if (flag === "break") return { kind: "break", directive: d };
  return { kind: "last", directive: d };
}

/** `-f`, `-d`, `-e`, `-x` in an `if`, checked against the disk. */
function fileTest(test: string): Truth {
  const [op, ...rest] = test.split(" ");
  const path = rest.join(" ");
  try {
    const st = statSync(path);
    if (op === "-f") return st.isFile();
    if (op === "-d") return st.isDirectory();
    if (op === "-x") return (st.mode & 0o111) !== 0;
    return true;
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === "ENOENT" || code === "ENOTDIR") return false;
    return { unknown: `whether ${path} exists (${code})` };
  }
}

/** A `return` (or redirecting rewrite) answers the request before access or content run. */
export function answerReturn(
  st: NginxRequestState,
  r: Extract<RewriteResult, { kind: "return" }>,
): PhaseResult {
  const decision = st.decision;
  st.firm = true;
  decision.status = r.status;
  decision.decidedBy = ref(r.directive);
  if (r.via) decision.context.push(contextOf(r.via));
  if (r.status >= 400) {
    decision.decision = "deny";
    decision.cause = "server-config";
    decision.fix.push(returnFix(r.directive, r.via));
  } else {
    decision.decision = "allow";
  }
  return "decided";
}
