// logfmt lines: space-separated key=value pairs, a value bare or in double
// quotes with backslash escapes. Go's slog TextHandler, logrus's text formatter,
// Grafana (log15), Heroku's router and many twelve-factor apps write them. A
// line is read as logfmt only when every token is a pair: free text that
// happens to hold an "=" stays free text.
//
// Dotted keys (slog groups: `req.method=POST`) become nested objects, so the
// application-log reader's field paths ("req.method", "http.status_code") find
// them as they find them in JSON.

/** The format id of such lines in a report. */
export const LOGFMT_FORMAT = "logfmt";

/** The fewest pairs that make a line logfmt rather than a sentence with an "=" in it. */
const MIN_PAIRS = 3;
/** A key: what logfmt writers emit (letters, digits, `_ . - / @`), starting with a letter, `_` or `@`. */
const KEY_CHARS = "[A-Za-z_@][\\w.\\-/@]*";
const KEY = new RegExp(`^${KEY_CHARS}$`);
/**
 * The lines parseLogfmt reads, as one pattern (RE2-compatible: ClickHouse counts
 * such lines with it, see push-down.ts; logfmt.test.ts holds the two to the same answer).
 */
export const LOGFMT_LINE = new RegExp(
  `^[ \\t]*(?:${KEY_CHARS}=(?:"(?:[^"\\\\]|\\\\[\\s\\S])*"|[^ \\t"]*)(?:[ \\t]+|$)){${MIN_PAIRS},}$`,
);
const SPACE = 0x20;
const TAB = 0x09;
const QUOTE = 0x22;
const BACKSLASH = 0x5c;
const EQUALS = 0x3d;

type Doc = Record<string, unknown>;

/** The line's pairs as an object (values are strings; the last of a repeated key wins), or null. */
export function parseLogfmt(text: string): Doc | null {
  if (text.indexOf("=") <= 0) return null;
  // No prototype: a key such as __proto__ is a plain field.
  const doc: Doc = Object.create(null);
  let pairs = 0;
  let i = 0;
  const n = text.length;
  for (;;) {
    while (i < n && isSpace(text.charCodeAt(i))) i++;
    if (i >= n) break;
    const eq = keyEnd(text, i);
    if (eq === -1) return null;
    const key = text.slice(i, eq);
    if (!KEY.test(key)) return null;
    const value = readValue(text, eq + 1);
    if (value === null) return null;
    setPath(doc, key, value.text);
    pairs++;
    i = value.end;
  }
  return pairs >= MIN_PAIRS ? doc : null;
}

function isSpace(c: number): boolean {
  return c === SPACE || c === TAB;
}

/** The index of the "=" that ends the key starting at `from`, or -1 when a space or the end comes first. */
function keyEnd(text: string, from: number): number {
  for (let i = from; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c === EQUALS) return i > from ? i : -1;
    if (isSpace(c) || c === QUOTE) return -1;
  }
  return -1;
}

/** A value from `at`: quoted (escapes undone) or bare up to the next space; null when a quote is left open or runs into the next token. */
function readValue(text: string, at: number): { text: string; end: number } | null {
  const n = text.length;
  if (at < n && text.charCodeAt(at) === QUOTE) {
    let out = "";
    let from = at + 1;
    for (let i = at + 1; i < n; i++) {
      const c = text.charCodeAt(i);
      if (c === BACKSLASH && i + 1 < n) {
        out += text.slice(from, i) + unescaped(text[i + 1] as string);
        i++;
        from = i + 1;
      } else if (c === QUOTE) {
        const end = i + 1;
        if (end < n && !isSpace(text.charCodeAt(end))) return null;
        return { text: out + text.slice(from, i), end };
      }
    }
    return null;
  }
  let end = at;
  while (end < n && !isSpace(text.charCodeAt(end))) {
    if (text.charCodeAt(end) === QUOTE) return null;
    end++;
  }
  return { text: text.slice(at, end), end };
}

function unescaped(c: string): string {
  return c === "n" ? "\n" : c === "t" ? "\t" : c === "r" ? "\r" : c;
}

/** doc[a][b] = value for key "a.b"; a key whose place is taken by a value of another shape is kept flat. */
function setPath(doc: Doc, key: string, value: string): void {
  const parts = key.split(".");
  if (parts.some((p) => p === "")) {
    doc[key] = value;
    return;
  }
  let cur = doc;
  for (let k = 0; k < parts.length - 1; k++) {
    const part = parts[k] as string;
    const next = cur[part];
    if (next === undefined) {
      const child: Doc = Object.create(null);
      cur[part] = child;
      cur = child;
    } else if (typeof next === "object" && next !== null) {
      cur = next as Doc;
    } else {
      doc[key] = value;
      return;
    }
  }
  const last = parts[parts.length - 1] as string;
  if (typeof cur[last] === "object" && cur[last] !== null) doc[key] = value;
  else cur[last] = value;
}
