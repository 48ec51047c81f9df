// Regular expressions as httpd configs write them (PCRE), run with JavaScript's engine.

/** PCRE as written in httpd configs to a JS RegExp; null when JS cannot express it. */
export function toRegExp(pattern: string, noCase = false): RegExp | null {
  let p = pattern;
  let flags = noCase ? "i" : "";
  if (p.startsWith("(?i)")) {
    p = p.slice(4);
    flags = "i";
  }
  try {
    return new RegExp(p, flags);
  } catch {
    return null;
  }
}
