// WWW-Authenticate challenges (RFC 7235 grammar, RFC 6750 Bearer error codes):
// what kind of credential the server wants and why it refused the one sent.
import type { Evidence, Exchange } from "../../model.js";
import { redactText } from "../../redact.js";
import { credentialCarried } from "../content/identity.js";
import { headerValue, headerValues } from "./_http.js";

export interface Challenge {
  scheme: string;
  token68: string | null;
  params: Record<string, string>;
}

const TOKEN = /[!#$%&'*+.^_`|~0-9A-Za-z-]+/y;
const TOKEN68 = /[A-Za-z0-9._~+/-]+=*/y;

/** Parses one or more WWW-Authenticate header values into challenges; tolerant of sloppy servers. */
export function parseChallenges(values: string[]): Challenge[] {
  const out: Challenge[] = [];
  for (const value of values) {
    let i = 0;
    const s = value;
    const skipWs = () => {
      while (i < s.length && (s[i] === " " || s[i] === "\t")) i++;
    };
    const readToken = (): string | null => {
      TOKEN.lastIndex = i;
      const m = TOKEN.exec(s);
      if (!m) return null;
      i = TOKEN.lastIndex;
      return m[0];
    };
    const readQuoted = (): string => {
      i++; // opening quote
      let v = "";
      while (i < s.length && s[i] !== '"') {
        if (s[i] === "\\" && i + 1 < s.length) i++;
        v += s[i];
        i++;
      }
      i++; // closing quote
      return v;
    };
    let current: Challenge | null = null;
    while (i < s.length) {
      skipWs();
      if (s[i] === ",") {
        i++;
        continue;
      }
      const start = i;
      const tok = readToken();
      if (tok === null) {
        i++;
        continue;
      }
      skipWs();
      if (current && s[i] === "=") {
        // auth-param of the current challenge
        i++;
        skipWs();
        const v = s[i] === '"' ? readQuoted() : (readToken() ?? "");
        current.params[tok.toLowerCase()] = v;
        continue;
      }
      // a new challenge: scheme, then token68 or params
      current = { scheme: tok, token68: null, params: {} };
      out.push(current);
      skipWs();
      TOKEN68.lastIndex = i;
      const t68 = TOKEN68.exec(s);
      if (t68) {
        const after = s.slice(TOKEN68.lastIndex).trimStart();
        const isParam = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+\s*=/.test(s.slice(i)) && !/=$/.test(t68[0]);
        if (!isParam && (after === "" || after.startsWith(","))) {
          current.token68 = t68[0];
          i = TOKEN68.lastIndex;
        }
      }
      if (i === start) i++;
    }
  }
  return out;
}

/** Seen by the protocol's credential fields and by values shaped like credentials, not by names. */
function hasCredentials(ex: Exchange): boolean {
  return credentialCarried(ex) !== null;
}

export function wwwAuthenticateEvidence(ex: Exchange): Evidence[] {
  const values = headerValues(ex.response.headers, "www-authenticate");
  if (values.length === 0) return [];
  const out: Evidence[] = [];
  const challenges = parseChallenges(values);
  const status = ex.response.status;
  const sent = hasCredentials(ex);
  const authz = headerValue(ex.request.headers, "authorization");
  const sentScheme = authz ? (/^\s*(\S+)/.exec(authz)?.[1] ?? "") : "";
  let plainSeen = false;
  for (const c of challenges) {
    if (!c.params.error && plainSeen) continue; // one fact for all error-less challenges
    if (!c.params.error) plainSeen = true;
    const realm = c.params.realm ? ` (realm "${redactText(c.params.realm)}")` : "";
    const error = c.params.error?.toLowerCase();
    const description = c.params.error_description ? `: ${redactText(c.params.error_description)}` : "";
    const data: Record<string, unknown> = { scheme: c.scheme, realm: c.params.realm, error };
    if (error === "invalid_token") {
      out.push({
        source: "response",
        fact: `The server's ${c.scheme} challenge says error="invalid_token"${description}: the token is expired, revoked, malformed or for another audience.`,
        weights: { "credentials-invalid": 5 },
        data,
      });
    } else if (error === "insufficient_scope") {
      const scope = c.params.scope;
      out.push({
        source: "response",
        fact: `The server's ${c.scheme} challenge says error="insufficient_scope"${scope ? ` and needs scope "${scope}"` : ""}${description}: the token is valid but lacks a permission.`,
        weights: { "insufficient-permission": 5, "credentials-invalid": -1 },
        data: { ...data, scope },
      });
    } else if (error === "invalid_request") {
      out.push({
        source: "response",
        fact: `The server's ${c.scheme} challenge says error="invalid_request"${description}: the credential is missing a part or was sent in more than one way.`,
        weights: { "credentials-invalid": 2.5 },
        data,
      });
    } else if (error) {
      out.push({
        source: "response",
        fact: `The server's ${c.scheme} challenge reports error="${redactText(error)}"${description}.`,
        weights: { "credentials-invalid": 1.5 },
        data,
      });
    } else if (status === 401 || status === 407) {
      if (!sent) {
        out.push({
          source: "response",
          fact: `The server asks for ${c.scheme} credentials${realm} and the request carried none.`,
          weights: { "credentials-invalid": 3 },
          data: { ...data, credentialsSent: false },
        });
      } else if (
        sentScheme &&
        !challenges.some((ch) => ch.scheme.toLowerCase() === sentScheme.toLowerCase())
      ) {
        out.push({
          source: "response",
          fact: `The server asks for ${c.scheme} credentials${realm} but the request sent ${sentScheme}.`,
          weights: { "credentials-invalid": 3 },
          data: { ...data, sentScheme },
        });
      } else {
        out.push({
          source: "response",
          fact: `The server rejected the ${sentScheme || "sent"} credentials and asks again for ${c.scheme}${realm}.`,
          weights: { "credentials-invalid": 2.5 },
          data,
        });
      }
    } else {
      out.push({
        source: "response",
        fact: `The response offers a ${c.scheme} challenge${realm} with status ${status}.`,
        weights: { "credentials-invalid": 0.5 },
        data,
      });
    }
  }
  return out;
}
