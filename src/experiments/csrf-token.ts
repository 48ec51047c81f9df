// Finding the CSRF token a page issues: hidden form inputs, <meta> tags and
// the cookies the common frameworks set (csrftoken, XSRF-TOKEN, _csrf ...).

import { Parser } from "htmlparser2";
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

const TOKEN_FIELD =
  /csrf|xsrf|authenticity_token|__requestverificationtoken|_token$|^token$|csrfmiddlewaretoken/i;
const TOKEN_COOKIES: Record<string, { location: "header"; name: string } | undefined> = {
  csrftoken: { location: "header", name: "X-CSRFToken" },
  "xsrf-token": { location: "header", name: "X-XSRF-TOKEN" },
  _csrf: undefined,
  csrf_token: undefined,
  "csrf-token": undefined,
  __host_csrf: undefined,
};

export function tokensInPage(html: string, setCookies: Header[]): IssuedToken[] {
  const found: IssuedToken[] = [];
  let metaParam: string | null = null;
  const parser = new Parser({
    onopentag(name, attrs) {
      if (name === "input" && attrs.name && TOKEN_FIELD.test(attrs.name)) {
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
        else if (TOKEN_FIELD.test(n) && attrs.content) {
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
    if (lower in TOKEN_COOKIES || /csrf|xsrf/.test(lower)) {
      const expect = TOKEN_COOKIES[lower];
      const token: IssuedToken = {
        kind: "cookie",
        name: cookieName,
        value: decodeURIComponent(pair.slice(eq + 1).trim()),
      };
      if (expect) token.expectIn = expect;
      found.push(token);
    }
  }
  return found;
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
