// What the request says about who is asking, and what the refusal says about
// where the request came from.
import type { Evidence, Exchange } from "../../model.js";
import { type CredentialShape, cookieValues, credentialShape } from "./credential-value.js";

/** The fields the protocol defines for credentials (RFC 9110 §11.6.2, §11.7.2). */
const AUTH_FIELDS = new Set(["authorization", "proxy-authorization"]);

/**
 * Which credential the request carries, judged by the protocol's own credential fields and
 * by values shaped like credentials (a JWT, `scheme token68`, a random secret) wherever
 * they travel — never by what a header, cookie or parameter is called. Null: none seen.
 * The answer names where it was found, never its value.
 */
export function credentialCarried(ex: Exchange): string | null {
  let url: URL | null = null;
  try {
    url = new URL(ex.request.url);
  } catch {
    // an unparsable URL carries nothing we can read
  }
  if (url && (url.username || url.password)) return "URL user:password";
  for (const [name, value] of ex.request.headers) {
    const lower = name.toLowerCase();
    if (AUTH_FIELDS.has(lower)) return `${value.trim().split(/\s+/)[0] ?? name} ${name}`;
    const values = lower === "cookie" ? cookieValues(value) : [value];
    const shaped = values.map((v) => credentialShape(v)).find((k) => k !== null);
    if (shaped) return `${SHAPE_WORDS[shaped]} (${lower === "cookie" ? "cookie" : `${name} header`})`;
  }
  for (const [name, value] of url?.searchParams ?? []) {
    const shaped = credentialShape(value);
    if (shaped) return `${SHAPE_WORDS[shaped]} (query parameter ${name})`;
  }
  return null;
}

const SHAPE_WORDS: Record<CredentialShape, string> = {
  jwt: "JWT",
  basic: "Basic",
  "auth-scheme": "scheme-and-token",
  "opaque-token": "token",
};

/** An anonymous request cannot be refused for its identity's missing permission. */
export function anonymousEvidence(ex: Exchange): Evidence[] {
  // A saved response without its request (placeholder URL) says nothing about credentials.
  if (!/^https?:/i.test(ex.request.url)) return [];
  const kind = credentialCarried(ex);
  if (kind) {
    return [
      {
        source: "request",
        fact: `The request carries a credential — ${kind} — and the server refused it.`,
        weights: { "credentials-invalid": 0.3, "insufficient-permission": 0.3 },
        data: { credentialSent: kind },
      },
    ];
  }
  // Cookies whose values do not look like credentials leave the question open.
  if (ex.request.headers.some(([n]) => n.toLowerCase() === "cookie")) return [];
  return [
    {
      source: "request",
      fact: "The request carries no credentials (no Authorization, no cookies, nothing shaped like a token in its headers or URL), so the server cannot have judged an identity's permissions.",
      weights: { "insufficient-permission": -2 },
    },
  ];
}

const IP_LITERAL =
  /\b(?:(?:25[0-5]|2[0-4]\d|1?\d?\d)\.){3}(?:25[0-5]|2[0-4]\d|1?\d?\d)\b|\b[0-9a-f]{1,4}(?::[0-9a-f]{0,4}){2,7}\b/i;
const ADDRESS_WORDS =
  /\b(ip|address|client|from|origin(?:ating)?|source|network|banned|blocked|allow(?:ed|list)?|whitelist|denied)\b/i;

/** A refusal that names an IP address beside words about clients or allow lists points at an address rule. */
export function addressMentionEvidence(ex: Exchange): Evidence[] {
  const text = ex.response.body.subarray(0, 64 * 1024).toString("utf8");
  const m = IP_LITERAL.exec(text);
  if (!m) return [];
  const around = text.slice(Math.max(0, m.index - 80), m.index + m[0].length + 80);
  if (!ADDRESS_WORDS.test(around)) return [];
  return [
    {
      source: "response",
      fact: `The refusal names the client address ${m[0]}, as address allow/deny rules do.`,
      weights: { "ip-restriction": 2, "insufficient-permission": -1 },
      data: { client: m[0] },
    },
  ];
}

/** A directory URL refused by the web server itself: listing is off and no index file exists, or the directory is unreadable. */
export function directoryEvidence(ex: Exchange, responderLayer: string | undefined): Evidence[] {
  let path: string;
  try {
    path = new URL(ex.request.url).pathname;
  } catch {
    return [];
  }
  if (!path.endsWith("/") || path === "/" || ex.response.status !== 403 || responderLayer !== "web-server")
    return [];
  return [
    {
      source: "request",
      fact: `The web server itself refused the directory URL ${path}: directory listing is off and there is no index file there, or the directory cannot be read.`,
      // A hint only: a rule on the whole prefix looks the same from here (the directory probe tells).
      weights: { "server-config": 1, "fs-permission": 0.5, waf: -0.5 },
      data: { path },
    },
  ];
}

/** A forward proxy the user chose (curl -x) that writes the refusal applies its own access policy. */
export function forwardProxyEvidence(
  ex: Exchange,
  responderLayer: string | undefined,
  proxyPage: boolean,
): Evidence[] {
  if (!ex.request.options.proxy || responderLayer !== "proxy" || !proxyPage) return [];
  return [
    {
      source: "request",
      fact: "The request went through the forward proxy given with -x, and the proxy itself wrote the refusal: its access rules (allowed destinations, ports, domains or clients) refused the request before it left.",
      weights: { "server-config": 3, "ip-restriction": 0.5, waf: -1 },
    },
  ];
}
