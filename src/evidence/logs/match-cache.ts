// The format check and the parse of a line run the same regex on the same line,
// one right after the other: remember the last match so it runs once.

/** A matcher for `re` that reuses its result while it is asked about the same line. */
export function cachedMatcher(re: RegExp): (line: string) => RegExpExecArray | null {
  const exec = restOfLineExec(re) ?? ((line: string) => re.exec(line));
  let lastLine: string | null = null;
  let lastMatch: RegExpExecArray | null = null;
  return (line) => {
    if (line !== lastLine) {
      lastMatch = exec(line);
      lastLine = line;
    }
    return lastMatch;
  };
}

/** A pattern ending in "(.*)$": its last group is the rest of the line. */
const REST_OF_LINE = "(.*)$";

/**
 * For a pattern `H(.*)$` (no flags), an exec giving the same groups without
 * running `.` over the rest of the line, which on a long line (a ModSecurity
 * message and its tags) cost more than the header pattern: on a line without
 * a line terminator (where `.` stops) `(.*)$` succeeds after H's first match,
 * so that match and the rest are the groups. Lines with one take the full
 * pattern. Null for other patterns.
 */
export function restOfLineExec(re: RegExp): ((line: string) => RegExpExecArray | null) | null {
  const src = re.source;
  if (re.flags !== "" || !src.endsWith(REST_OF_LINE)) return null;
  const headSource = src.slice(0, -REST_OF_LINE.length);
  // "a|b(.*)$" ends the second branch only; "\\(.*)$" is no group.
  if (headSource.endsWith("\\") || hasTopLevelBranch(headSource)) return null;
  const head = new RegExp(headSource);
  return (line) => {
    if (hasLineTerminator(line)) return re.exec(line);
    const m = head.exec(line);
    if (!m) return null;
    const end = m.index + m[0].length;
    m.push(line.slice(end));
    m[0] = line.slice(m.index);
    return m;
  };
}

/** A character `.` does not match. */
function hasLineTerminator(s: string): boolean {
  return s.includes("\n") || s.includes("\r") || s.includes("\u2028") || s.includes("\u2029");
}

/** `src` has a "|" outside any group or class (escapes skipped). */
export function hasTopLevelBranch(src: string): boolean {
  let depth = 0;
  let inClass = false;
  for (let i = 0; i < src.length; i++) {
    const c = src[i];
    if (c === "\\") i++;
    else if (inClass) inClass = c !== "]";
    else if (c === "[") inClass = true;
    else if (c === "(") depth++;
    else if (c === ")") depth--;
    else if (c === "|" && depth === 0) return true;
  }
  return false;
}
