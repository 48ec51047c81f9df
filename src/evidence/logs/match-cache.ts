// The format check and the parse of a line run the same regex on the same line,
// one right after the other: remember the last match so it runs once.

/** A matcher for `re` that reuses its result while it is asked about the same line. */
export function cachedMatcher(re: RegExp): (line: string) => RegExpExecArray | null {
  let lastLine: string | null = null;
  let lastMatch: RegExpExecArray | null = null;
  return (line) => {
    if (line !== lastLine) {
      lastMatch = re.exec(line);
      lastLine = line;
    }
    return lastMatch;
  };
}
