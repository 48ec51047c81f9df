// Finding the CSRF token a page issues: hidden form inputs, <meta> tags and
// cookies whose values are shaped like a token (a random secret, a JWT), whatever
// they are called. The frameworks' names (csrftoken, XSRF-TOKEN, _csrf ...) only
// order the candidates and say where a framework expects the token back.

import { Parser } from "htmlparser2";
import { credentialShape, isIssuedToken } from "../evidence/content/credential-value.js";
import type { Header } from "../model.js";

export interface IssuedToken {
  /** Where the page puts it. */
  kind: "field" | "meta" | "cookie";
  /** The form field, meta name or cookie name. */
  name: string;
  value: string;
  /** The field or header the framework expects the token back in, when known. */
  expectIn?: { location: "body" | "header"; name: string };
}

/** Names the common frameworks give the token: tried first, never required. */
const USUAL_NAME =
  /csrf|xsrf|authenticity_token|__requestverificationtoken|_token$|^token$|csrfmiddlewaretoken/i;
/** Where a framework expects its cookie's token back (a description for the fix, no weight). */
const TOKEN_COOKIES: Record<string, { location: "header"; name: string } | undefined> = {
  csrftoken: { location: "header", name: "X-CSRFToken" },
  "xsrf-token": { location: "header", name: "X-XSRF-TOKEN" },
};

export function tokensInPage(html: string, setCookies: Header[]): IssuedToken[] {
  const found: IssuedToken[] = [];
  let metaParam: string | null = null;
  const parser = new Parser({
    onopentag(name, attrs) {
      if (name === "input" && attrs.name && isIssuedToken(attrs.value ?? "")) {
        const type = (attrs.type ?? "").toLowerCase();
        if (type === "hidden" || type === "") {
          found.push({
            kind: "field",
            name: attrs.name,
            value: attrs.value ?? "",
            expectIn: { location: "body", name: attrs.name },
          });
        }
      }
      if (name === "meta" && attrs.name) {
        const n = attrs.name.toLowerCase();
        if (n === "csrf-param") metaParam = attrs.content ?? null;
        else if (attrs.content && isIssuedToken(attrs.content)) {
          found.push({
            kind: "meta",
            name: attrs.name,
            value: attrs.content,
            expectIn: { location: "header", name: "X-CSRF-Token" },
          });
        }
      }
    },
  });
  parser.write(html.slice(0, 1024 * 1024));
  parser.end();
  if (metaParam)
    for (const t of found) if (t.kind === "meta") t.expectIn = { location: "body", name: metaParam };
  for (const [n, v] of setCookies) {
    if (n.toLowerCase() !== "set-cookie") continue;
    const pair = v.split(";")[0] ?? "";
    const eq = pair.indexOf("=");
    if (eq <= 0) continue;
    const cookieName = pair.slice(0, eq).trim();
    const lower = cookieName.toLowerCase();
    const value = safeDecode(pair.slice(eq + 1).trim());
    if (credentialShape(value) !== null) {
      const expect = TOKEN_COOKIES[lower];
      const token: IssuedToken = { kind: "cookie", name: cookieName, value };
      if (expect) token.expectIn = expect;
      found.push(token);
    }
  }
  // The usual names first: where a page issues several random values, the framework's is tried.
  return found.sort((a, b) => Number(USUAL_NAME.test(b.name)) - Number(USUAL_NAME.test(a.name)));
}

function safeDecode(s: string): string {
  try {
    return decodeURIComponent(s);
  } catch {
    return s;
  }
}

/** Cookies (name=value) set by a response, for resending with a fresh token. */
export function cookiesSet(headers: Header[]): Array<[string, string]> {
  const out: Array<[string, string]> = [];
  for (const [n, v] of headers) {
    if (n.toLowerCase() !== "set-cookie") continue;
    const pair = v.split(";")[0] ?? "";
    const eq = pair.indexOf("=");
    if (eq > 0) out.push([pair.slice(0, eq).trim(), pair.slice(eq + 1).trim()]);
  }
  return out;
}
