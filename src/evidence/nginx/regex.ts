// nginx regexes are PCRE; the common subset runs unchanged in JavaScript.
// What does not translate (possessive quantifiers, atomic groups, \Q…\E)
// comes back as null so the caller can report an unknown instead of guessing.

export function pcreToRegExp(pattern: string, caseless: boolean): RegExp | null {
  let source = pattern.replace(/\(\?P<([A-Za-z_]\w*)>/g, "(?<$1>");
  let flags = caseless ? "i" : "";
  if (source.startsWith("(?i)")) {
    source = source.slice(4);
    flags = "i";
  }
  if (/\(\?>|[*+?}]\+|\\Q|\\[AZz]/.test(source)) return null;
  try {
    return new RegExp(source, flags);
  } catch {
    return null;
  }
}
