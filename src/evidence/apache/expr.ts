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
  const expr = new ExprEvaluator(tokens, req, user);
  try {
    const v = expr.orExpr();
    if (!expr.atEnd()) return { value: undefined, wantsUser };
    return { value: expr.unknown ? undefined : v, wantsUser };
  } catch {
    return { value: undefined, wantsUser };
  }
}

/** A recursive-descent evaluator over the tokens; a syntax it does not know throws. */
class ExprEvaluator {
  private pos = 0;
  /** Set when an operand the request does not tell was read: the value is then undecided. */
  unknown = false;

  constructor(
    private readonly tokens: Token[],
    private readonly req: RequestRec,
    private readonly user: string | null,
  ) {}

  atEnd(): boolean {
    return this.pos === this.tokens.length;
  }

  orExpr(): boolean {
    let v = this.andExpr();
    while (this.peek()?.v === "||") {
      this.take();
      const r = this.andExpr();
      v = v || r;
    }
    return v;
  }

  private andExpr(): boolean {
    let v = this.primary();
    while (this.peek()?.v === "&&") {
      this.take();
      const r = this.primary();
      v = v && r;
    }
    return v;
  }

  private primary(): boolean {
    const t = this.take();
    if (t.t === "op" && t.v === "!") return !this.primary();
    if (t.t === "op" && t.v === "(") {
      const v = this.orExpr();
      if (this.take().v !== ")") throw new Error(")");
      return v;
    }
    if (t.t === "word" && t.v === "true") return true;
    if (t.t === "word" && t.v === "false") return false;
    if (t.t === "word" && t.v === "-R") return this.clientIn(this.str(this.take()));
    return this.comparison(this.str(t));
  }

  /** `left op right`: =~ !~ (or a bare /regex/), -ipmatch, in {…}, == and !=. */
  private comparison(left: string | undefined): boolean {
    const op = this.take();
    if (op.t === "re" || (op.t === "op" && (op.v === "=~" || op.v === "!~")))
      return this.regexMatch(left, op);
    if (op.t === "word" && op.v === "-ipmatch") {
      const spec = this.str(this.take());
      if (left === undefined || spec === undefined) return this.undecided();
      return ipMatches(left, spec);
    }
    if (op.t === "word" && op.v === "in") return this.inList(left);
    if (op.t === "op" && (op.v === "==" || op.v === "!=")) {
      const right = this.str(this.take());
      if (left === undefined || right === undefined) return this.undecided();
      return op.v === "==" ? left === right : left !== right;
    }
    throw new Error("operator");
  }

  private clientIn(spec: string | undefined): boolean {
    const c = this.req.client;
    if (c === null || spec === undefined) return this.undecided();
    return ipMatches(c, spec);
  }

  private regexMatch(left: string | undefined, op: Token): boolean {
    const re = op.t === "re" ? op : this.take();
    const rx = toRegExp(re.v, (re.flags ?? "").includes("i"));
    if (!rx) throw new Error("re");
    if (left === undefined) return this.undecided();
    const r = rx.test(left);
    return op.v === "!~" ? !r : r;
  }

  private inList(left: string | undefined): boolean {
    if (this.take().v !== "{") throw new Error("{");
    const items: Array<string | undefined> = [];
    while (this.peek() && this.peek()?.v !== "}") {
      const it = this.take();
      if (it.t === "op" && it.v === ",") continue;
      items.push(this.str(it));
    }
    this.take();
    if (left === undefined || items.includes(undefined)) return this.undecided();
    return items.includes(left);
  }

  /** An operand the request does not tell: remember it, and go on as if false. */
  private undecided(): boolean {
    this.unknown = true;
    return false;
  }

  private peek(): Token | undefined {
    return this.tokens[this.pos];
  }

  private take(): Token {
    const t = this.tokens[this.pos++];
    if (!t) throw new Error("end");
    return t;
  }

  private str(t: Token): string | undefined {
    if (t.t === "str") return expand(this.req, t.v);
    if (t.t === "var") {
      if (t.v.toUpperCase() === "REMOTE_USER") return this.user ?? "";
      return variable(this.req, t.v);
    }
    throw new Error("operand");
  }
}
