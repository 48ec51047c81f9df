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
  const tokens: Token[] = [];
  let line = 1;
  let i = 0;
  const n = text.length;
  while (i < n) {
    const c = text[i] as string;
    if (c === "\n") {
      line++;
      i++;
      continue;
    }
    if (isSpace(c)) {
      i++;
      continue;
    }
    if (c === "#") {
      while (i < n && text[i] !== "\n") i++;
      continue;
    }
    if (c === "{" || c === "}" || c === ";") {
      tokens.push({ kind: c, value: c, line, quoted: false });
      i++;
      continue;
    }
    // A word: runs of plain characters, quoted strings and escapes, glued together.
    const startLine = line;
    let value = "";
    let quoted = false;
    while (i < n) {
      const ch = text[i] as string;
      if (isSpace(ch) || ch === ";" || ch === "}") break;
      if (ch === "{") {
        // `${name}` is a variable, any other `{` ends the word.
        if (value.endsWith("$") && !quoted) {
          const close = text.indexOf("}", i);
          if (close < 0) throw new InputError(`${file}:${line}: unclosed "\${" in a word`);
          value += text.slice(i, close + 1);
          i = close + 1;
          continue;
        }
        break;
      }
      if (ch === '"' || ch === "'") {
        quoted = true;
        const quote = ch;
        i++;
        let closed = false;
        while (i < n) {
          const q = text[i] as string;
          if (q === "\\" && i + 1 < n) {
            const next = text[i + 1] as string;
            value += unescapeChar(next);
            if (next === "\n") line++;
            i += 2;
            continue;
          }
          if (q === quote) {
            closed = true;
            i++;
            break;
          }
          if (q === "\n") line++;
          value += q;
          i++;
        }
        if (!closed) throw new InputError(`${file}:${startLine}: unclosed ${quote} quote`);
        // nginx wants a separator after a closing quote; `)` counts as one (for `if (... "")`).
        if (text[i] === ")") {
          i++;
          break;
        }
        const after = text[i];
        if (after !== undefined && !isSpace(after) && after !== ";" && after !== "{" && after !== "}") {
          throw new InputError(`${file}:${line}: unexpected "${after}" after a quoted string`);
        }
        continue;
      }
      if (ch === "\\" && i + 1 < n) {
        value += unescapeChar(text[i + 1] as string);
        if (text[i + 1] === "\n") line++;
        i += 2;
        continue;
      }
      value += ch;
      i++;
    }
    tokens.push({ kind: "word", value, line: startLine, quoted });
  }
  return tokens;
}
