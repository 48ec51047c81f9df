// A small subset of httpd's ap_expr, enough for common `Require expr` lines:
// true/false, == != =~ !~ -ipmatch -R in {…}, ! && || and parentheses over
// %{VAR} and quoted strings. Anything else, or a value the request does not
// tell, yields undefined and the caller asks the oracle.

import { ipMatches } from "./oracle.js";
import { toRegExp } from "./pcre.js";
import { expand, type RequestRec, variable } from "./request-rec.js";

type Token = { t: "op" | "str" | "var" | "re" | "word"; v: string; flags?: string };

function tokenize(src: string): Token[] | null {
  const out: Token[] = [];
  let i = 0;
  while (i < src.length) {
    const c = src[i] as string;
    if (/\s/.test(c)) {
      i++;
      continue;
    }
    const two = src.slice(i, i + 2);
    if (["==", "!=", "=~", "!~", "&&", "||", "<=", ">="].includes(two)) {
      out.push({ t: "op", v: two });
      i += 2;
      continue;
    }
    if ("!(){},<>".includes(c)) {
      out.push({ t: "op", v: c });
      i++;
      continue;
    }
    if (c === "'" || c === '"') {
      const end = src.indexOf(c, i + 1);
      if (end < 0) return null;
      out.push({ t: "str", v: src.slice(i + 1, end) });
      i = end + 1;
      continue;
    }
    if (two === "%{") {
      const end = src.indexOf("}", i);
      if (end < 0) return null;
      out.push({ t: "var", v: src.slice(i + 2, end) });
      i = end + 1;
      continue;
    }
    if (c === "/" || (c === "m" && src[i + 1] && /[#/|]/.test(src[i + 1] as string))) {
      const delim = c === "/" ? "/" : (src[i + 1] as string);
      const start = c === "/" ? i + 1 : i + 2;
      const end = src.indexOf(delim, start);
      if (end < 0) return null;
      let j = end + 1;
      while (j < src.length && /[a-z]/.test(src[j] as string)) j++;
      out.push({ t: "re", v: src.slice(start, end), flags: src.slice(end + 1, j) });
      i = j;
      continue;
    }
    const m = /^-?[A-Za-z_][A-Za-z0-9_]*/.exec(src.slice(i));
    if (!m) return null;
    out.push({ t: "word", v: m[0] });
    i += m[0].length;
  }
  return out;
}

export interface ExprResult {
  /** undefined: cannot be decided from what is known. */
  value: boolean | undefined;
  wantsUser: boolean;
}

export function evalRequireExpr(src: string, req: RequestRec, user: string | null): ExprResult {
  const text = src.startsWith('"') && src.endsWith('"') ? src.slice(1, -1) : src;
  const wantsUser = /REMOTE_USER/i.test(text);
  const tokens = tokenize(text);
  if (!tokens) return { value: undefined, wantsUser };
  let pos = 0;
  let unknown = false;
  const peek = (): Token | undefined => tokens[pos];
  const take = (): Token => {
    const t = tokens[pos++];
    if (!t) throw new Error("end");
    return t;
  };
  const str = (t: Token): string | undefined => {
    if (t.t === "str") return expand(req, t.v);
    if (t.t === "var") {
      if (t.v.toUpperCase() === "REMOTE_USER") return user ?? "";
      return variable(req, t.v);
    }
    throw new Error("operand");
  };
  const primary = (): boolean => {
    const t = take();
    if (t.t === "op" && t.v === "!") return !primary();
    if (t.t === "op" && t.v === "(") {
      const v = orExpr();
      if (take().v !== ")") throw new Error(")");
      return v;
    }
    if (t.t === "word" && t.v === "true") return true;
    if (t.t === "word" && t.v === "false") return false;
    if (t.t === "word" && t.v === "-R") {
      const c = req.client;
      const spec = str(take());
      if (c === null || spec === undefined) {
        unknown = true;
        return false;
      }
      return ipMatches(c, spec);
    }
    const left = str(t);
    const op = take();
    if (op.t === "re" || (op.t === "op" && (op.v === "=~" || op.v === "!~"))) {
      const re = op.t === "re" ? op : take();
      const rx = toRegExp(re.v, (re.flags ?? "").includes("i"));
      if (!rx) throw new Error("re");
      if (left === undefined) {
        unknown = true;
        return false;
      }
      const r = rx.test(left);
      return op.v === "!~" ? !r : r;
    }
    if (op.t === "word" && op.v === "-ipmatch") {
      const spec = str(take());
      if (left === undefined || spec === undefined) {
        unknown = true;
        return false;
      }
      return ipMatches(left, spec);
    }
    if (op.t === "word" && op.v === "in") {
      if (take().v !== "{") throw new Error("{");
      const items: Array<string | undefined> = [];
      while (peek() && peek()?.v !== "}") {
        const it = take();
        if (it.t === "op" && it.v === ",") continue;
        items.push(str(it));
      }
      take();
      if (left === undefined || items.includes(undefined)) {
        unknown = true;
        return false;
      }
      return items.includes(left);
    }
    if (op.t === "op" && (op.v === "==" || op.v === "!=")) {
      const right = str(take());
      if (left === undefined || right === undefined) {
        unknown = true;
        return false;
      }
      return op.v === "==" ? left === right : left !== right;
    }
    throw new Error("operator");
  };
  const andExpr = (): boolean => {
    let v = primary();
    while (peek()?.v === "&&") {
      take();
      const r = primary();
      v = v && r;
    }
    return v;
  };
  const orExpr = (): boolean => {
    let v = andExpr();
    while (peek()?.v === "||") {
      take();
      const r = andExpr();
      v = v || r;
    }
    return v;
  };
  try {
    const v = orExpr();
    if (pos !== tokens.length) return { value: undefined, wantsUser };
    return { value: unknown ? undefined : v, wantsUser };
  } catch {
    return { value: undefined, wantsUser };
  }
}
