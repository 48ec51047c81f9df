// Splits a pasted command line into words the way the shell it was written for
// would: POSIX sh/bash (what "Copy as cURL (bash)" emits) or Windows cmd.exe
// followed by the MS C runtime's argv rules (what "Copy as cURL (cmd)" emits).
// Nothing is expanded: $VAR and %VAR% stay literal.

import { InputError } from "../errors.js";

export type ShellStyle = "bash" | "cmd";

/** cmd when the text carries cmd's caret escapes: `^"` quotes or a `^` ending a line. */
export function detectShellStyle(text: string): ShellStyle {
  return /\^"|\^\r?\n/.test(text) ? "cmd" : "bash";
}

export function splitCommandLine(text: string, style: ShellStyle = detectShellStyle(text)): string[] {
  return style === "cmd" ? splitCmd(text) : splitBash(text);
}

function operatorError(op: string): InputError {
  return new InputError(
    `the command line holds a shell operator '${op}' (pipe, redirection or a second command); paste a single curl command`,
  );
}

function isSpace(c: string): boolean {
  return c === " " || c === "\t" || c === "\n" || c === "\r";
}

/** Drops a trailing command separator (`;` or `&`) that ends a lone command. */
function checkTrailingOperator(rest: string, op: string): void {
  if (rest.trim() !== "") throw operatorError(op);
}

function splitBash(text: string): string[] {
  const words: string[] = [];
  let word = "";
  let inWord = false;
  let i = 0;
  const n = text.length;
  while (i < n) {
    const c = text[i]!;
    if (isSpace(c)) {
      if (inWord) words.push(word);
      word = "";
      inWord = false;
      i++;
      continue;
    }
    if (c === "\\") {
      const next = text[i + 1];
      if (next === undefined) {
        // A lone trailing backslash: a continuation with nothing after it.
        i++;
        continue;
      }
      if (next === "\n") {
        i += 2;
        continue;
      }
      if (next === "\r" && text[i + 2] === "\n") {
        i += 3;
        continue;
      }
      word += next;
      inWord = true;
      i += 2;
      continue;
    }
    if (c === "'") {
      const end = text.indexOf("'", i + 1);
      if (end < 0) throw new InputError(`unterminated quote (') at character ${i + 1} of the command line`);
      word += text.slice(i + 1, end);
      inWord = true;
      i = end + 1;
      continue;
    }
    if (c === "$" && text[i + 1] === "'") {
      const [decoded, end] = readAnsiC(text, i + 2);
      word += decoded;
      inWord = true;
      i = end;
      continue;
    }
    if (c === '"') {
      let j = i + 1;
      let closed = false;
      while (j < n) {
        const d = text[j]!;
        if (d === '"') {
          closed = true;
          break;
        }
        if (d === "\\") {
          const e = text[j + 1];
          if (e === '"' || e === "\\" || e === "$" || e === "`") {
            word += e;
            j += 2;
            continue;
          }
          if (e === "\n") {
            j += 2;
            continue;
          }
          if (e === "\r" && text[j + 2] === "\n") {
            j += 3;
            continue;
          }
        }
        word += d;
        j++;
      }
      if (!closed) throw new InputError(`unterminated quote (") at character ${i + 1} of the command line`);
      inWord = true;
      i = j + 1;
      continue;
    }
    if (c === "#" && !inWord) {
      // A comment runs to the end of the line.
      const end = text.indexOf("\n", i);
      i = end < 0 ? n : end;
      continue;
    }
    if (c === ";" || c === "&" || c === "|" || c === "<" || c === ">" || c === "`") {
      if (c === ";" || (c === "&" && text[i + 1] !== "&")) checkTrailingOperator(text.slice(i + 1), c);
      else throw operatorError(c === "&" ? "&&" : c);
      i = n;
      continue;
    }
    word += c;
    inWord = true;
    i++;
  }
  if (inWord) words.push(word);
  return words;
}

const SIMPLE_ESCAPES: Record<string, string> = {
  a: "\x07",
  b: "\b",
  e: "\x1b",
  E: "\x1b",
  f: "\f",
  n: "\n",
  r: "\r",
  t: "\t",
  v: "\v",
  "\\": "\\",
  "'": "'",
  '"': '"',
  "?": "?",
};

/**
 * Decodes a bash `$'...'` string starting after the opening quote; returns the
 * text and the index after the closing quote. `\xHH` with HH >= 0x80 is a raw
 * byte to bash, but Chrome writes `\xe9` for the character é: when the bytes do
 * not form valid UTF-8 we read such escapes as characters, as Chrome meant them.
 */
function readAnsiC(text: string, start: number): [string, number] {
  // Items are either text or a single escaped byte value.
  const items: Array<string | number> = [];
  let i = start;
  const n = text.length;
  while (i < n) {
    const c = text[i]!;
    if (c === "'") return [joinAnsiC(items), i + 1];
    if (c !== "\\") {
      items.push(c);
      i++;
      continue;
    }
    const e = text[i + 1];
    if (e === undefined) break;
    const simple = SIMPLE_ESCAPES[e];
    if (simple !== undefined) {
      items.push(simple);
      i += 2;
      continue;
    }
    if (e === "x") {
      const m = /^[0-9a-fA-F]{1,2}/.exec(text.slice(i + 2, i + 4));
      if (m) {
        items.push(Number.parseInt(m[0], 16));
        i += 2 + m[0].length;
        continue;
      }
    } else if (e === "u" || e === "U") {
      const max = e === "u" ? 4 : 8;
      const m = new RegExp(`^[0-9a-fA-F]{1,${max}}`).exec(text.slice(i + 2, i + 2 + max));
      if (m) {
        const cp = Number.parseInt(m[0], 16);
        // Firefox writes astral characters as two \u surrogate escapes; keep the
        // halves as UTF-16 units so that adjacent ones pair up when joined.
        items.push(
          cp <= 0xffff ? String.fromCharCode(cp) : cp <= 0x10ffff ? String.fromCodePoint(cp) : "\ufffd",
        );
        i += 2 + m[0].length;
        continue;
      }
    } else if (e >= "0" && e <= "7") {
      const m = /^[0-7]{1,3}/.exec(text.slice(i + 1, i + 4))!;
      items.push(Number.parseInt(m[0], 8) & 0xff);
      i += 1 + m[0].length;
      continue;
    } else if (e === "c" && i + 2 < n) {
      items.push(String.fromCharCode(text.charCodeAt(i + 2) & 0x1f));
      i += 3;
      continue;
    }
    // Unknown escape: bash keeps the backslash.
    items.push("\\", e);
    i += 2;
  }
  throw new InputError(`unterminated quote ($') at character ${start - 1} of the command line`);
}

function joinAnsiC(items: Array<string | number>): string {
  const parts: Buffer[] = [];
  let run = "";
  for (const it of items) {
    if (typeof it === "string") {
      run += it;
      continue;
    }
    if (run !== "") parts.push(Buffer.from(run, "utf8"));
    run = "";
    parts.push(Buffer.from([it]));
  }
  if (run !== "") parts.push(Buffer.from(run, "utf8"));
  const bytes = Buffer.concat(parts);
  try {
    return new TextDecoder("utf-8", { fatal: true }).decode(bytes);
  } catch {
    return items.map((it) => (typeof it === "number" ? String.fromCharCode(it) : it)).join("");
  }
}

/**
 * cmd.exe pass: `^x` gives x, `^` at a line end continues the line, `^` + two
 * line breaks is a literal line break (Chrome's encoding). Real cmd keeps
 * carets inside "…" literal, but one Chrome release wrapped caret-escaped
 * values in plain quotes; reading every caret as an escape decodes all
 * browser variants, and nobody types a literal caret into a pasted curl line.
 * & | < > outside "…" are operators. Output keeps `"` for the CRT pass.
 */
function cmdPass(text: string): string {
  let out = "";
  let quoted = false;
  let i = 0;
  const n = text.length;
  const lineBreakAt = (k: number): number =>
    text[k] === "\n" ? 1 : text[k] === "\r" && text[k + 1] === "\n" ? 2 : 0;
  while (i < n) {
    const c = text[i]!;
    if (c === '"') {
      quoted = !quoted;
      out += c;
      i++;
      continue;
    }
    if (c === "^") {
      const lb = lineBreakAt(i + 1);
      if (lb > 0) {
        const lb2 = lineBreakAt(i + 1 + lb);
        if (lb2 > 0) {
          out += "\u0000NL"; // a literal newline, protected from the CRT whitespace split
          i += 1 + lb + lb2;
        } else {
          i += 1 + lb;
        }
        continue;
      }
      const next = text[i + 1];
      if (next === undefined) {
        i++;
        continue;
      }
      // A caret-escaped quote does not toggle cmd quoting; the CRT pass still sees a quote.
      out += next;
      i += 2;
      continue;
    }
    if (!quoted && (c === "&" || c === "|" || c === "<" || c === ">")) {
      if (c === "&" && text[i + 1] !== "&") checkTrailingOperator(text.slice(i + 1), c);
      else throw operatorError(c === "&" ? "&&" : c === "|" && text[i + 1] === "|" ? "||" : c);
      break;
    }
    out += c;
    i++;
  }
  if (quoted) throw new InputError('unterminated quote (") in the command line');
  return out;
}

/**
 * MS CRT pass, inverting what Chrome's and Firefox's cmd escaping did: inside
 * or outside quotes `\"` is a quote character and `\\` a backslash; `""`
 * inside quotes is a quote (older Chrome).
 */
function splitCmd(text: string): string[] {
  const s = cmdPass(text);
  const words: string[] = [];
  let word = "";
  let inWord = false;
  let quoted = false;
  let i = 0;
  while (i < s.length) {
    const c = s[i]!;
    if (c === "\u0000" && s.startsWith("\u0000NL", i)) {
      word += "\n";
      inWord = true;
      i += 3;
      continue;
    }
    if (!quoted && isSpace(c)) {
      if (inWord) words.push(word);
      word = "";
      inWord = false;
      i++;
      continue;
    }
    if (c === "\\" && (s[i + 1] === '"' || s[i + 1] === "\\")) {
      word += s[i + 1];
      inWord = true;
      i += 2;
      continue;
    }
    if (c === '"') {
      if (quoted && s[i + 1] === '"') {
        word += '"';
        i += 2;
        continue;
      }
      quoted = !quoted;
      inWord = true;
      i++;
      continue;
    }
    word += c;
    inWord = true;
    i++;
  }
  if (quoted) throw new InputError('unterminated quote (") in the command line');
  if (inWord) words.push(word);
  return words;
}
