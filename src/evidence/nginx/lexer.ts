// Stage 1 of the nginx config reader: text → tokens. Mirrors nginx's own
// ngx_conf_read_token closely enough that what nginx accepts we accept:
// words end at whitespace, `;`, `{` or `}`; `#` starts a comment only at the
// start of a word; single and double quotes group, backslash escapes the next
// character; `${var}` inside a word is not a block opening.

import { InputError } from "../../errors.js";

export type TokenKind = "word" | "{" | "}" | ";";

export interface Token {
  kind: TokenKind;
  /** Unquoted, unescaped text (for punctuation, the character itself). */
  value: string;
  line: number;
  /** True when the word was (partly) quoted: `"{"` is a word, not a brace. */
  quoted: boolean;
}

const isSpace = (c: string): boolean => c === " " || c === "\t" || c === "\r" || c === "\n";

/** nginx drops the backslash before a quote or backslash and turns \t \r \n into controls; others stay. */
function unescapeChar(next: string): string {
  if (next === '"' || next === "'" || next === "\\") return next;
  if (next === "t") return "\t";
  if (next === "r") return "\r";
  if (next === "n") return "\n";
  return `\\${next}`;
}

export function tokenize(text: string, file: string): Token[] {
  const lx: Lexer = { text, file, i: 0, line: 1 };
  const tokens: Token[] = [];
  const n = text.length;
  while (lx.i < n) {
    const c = text[lx.i] as string;
    if (c === "\n") {
      lx.line++;
      lx.i++;
      continue;
    }
    if (isSpace(c)) {
      lx.i++;
      continue;
    }
    if (c === "#") {
      while (lx.i < n && text[lx.i] !== "\n") lx.i++;
      continue;
    }
    if (c === "{" || c === "}" || c === ";") {
      tokens.push({ kind: c, value: c, line: lx.line, quoted: false });
      lx.i++;
      continue;
    }
    tokens.push(readWord(lx));
  }
  return tokens;
}

/** Where the lexer is: the offset into the text and the line it is on. */
interface Lexer {
  readonly text: string;
  readonly file: string;
  i: number;
  line: number;
}

/** A word: runs of plain characters, quoted strings and escapes, glued together. */
function readWord(lx: Lexer): Token {
  const text = lx.text;
  const n = text.length;
  const startLine = lx.line;
  let value = "";
  let quoted = false;
  while (lx.i < n) {
    const ch = text[lx.i] as string;
    if (isSpace(ch) || ch === ";" || ch === "}") break;
    if (ch === "{") {
      // `${name}` is a variable, any other `{` ends the word.
      if (value.endsWith("$") && !quoted) {
        const close = text.indexOf("}", lx.i);
        if (close < 0) throw new InputError(`${lx.file}:${lx.line}: unclosed "\${" in a word`);
        value += text.slice(lx.i, close + 1);
        lx.i = close + 1;
        continue;
      }
      break;
    }
    if (ch === '"' || ch === "'") {
      quoted = true;
      value += readQuoted(lx, ch, startLine);
      if (endsAfterQuote(lx)) break;
      continue;
    }
    if (ch === "\\" && lx.i + 1 < n) {
      value += unescapeChar(text[lx.i + 1] as string);
      if (text[lx.i + 1] === "\n") lx.line++;
      lx.i += 2;
      continue;
    }
    value += ch;
    lx.i++;
  }
  return { kind: "word", value, line: startLine, quoted };
}

/** A quoted string from its opening quote at lx.i, escapes resolved; leaves lx.i after the closing quote. */
function readQuoted(lx: Lexer, quote: string, startLine: number): string {
  const text = lx.text;
  const n = text.length;
  let value = "";
  lx.i++;
  while (lx.i < n) {
    const q = text[lx.i] as string;
    if (q === "\\" && lx.i + 1 < n) {
      const next = text[lx.i + 1] as string;
      value += unescapeChar(next);
      if (next === "\n") lx.line++;
      lx.i += 2;
      continue;
    }
    if (q === quote) {
      lx.i++;
      return value;
    }
    if (q === "\n") lx.line++;
    value += q;
    lx.i++;
  }
  throw new InputError(`${lx.file}:${startLine}: unclosed ${quote} quote`);
}

/**
 * nginx wants a separator after a closing quote; `)` counts as one (for
 * `if (... "")`) and ends the word. True when the word ends here.
 */
function endsAfterQuote(lx: Lexer): boolean {
  if (lx.text[lx.i] === ")") {
    lx.i++;
    return true;
  }
  const after = lx.text[lx.i];
  if (after !== undefined && !isSpace(after) && after !== ";" && after !== "{" && after !== "}") {
    throw new InputError(`${lx.file}:${lx.line}: unexpected "${after}" after a quoted string`);
  }
  return false;
}
