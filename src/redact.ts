// Secret redaction for everything why403 prints. A redacted value keeps its
// length and a short sha256 fingerprint so two tokens can still be told apart
// ("the token you sent is not the one in the cookie") without showing either.

import { createHash } from "node:crypto";

const SECRET_HEADER_NAMES = new Set([
  "authorization",
  "proxy-authorization",
  "cookie",
  "set-cookie",
  "x-api-key",
  "api-key",
  "x-auth-token",
  "x-csrf-token",
  "x-xsrf-token",
  "x-csrftoken",
  "x-amz-security-token",
  "x-goog-api-key",
]);
const SECRET_HEADER_PATTERN = /token|secret|api[-_]?key|session|signature|password/i;

export function isSecretHeader(name: string): boolean {
  const lower = name.trim().toLowerCase();
  return SECRET_HEADER_NAMES.has(lower) || SECRET_HEADER_PATTERN.test(lower);
}

/** First 8 hex chars of the value's sha256. */
export function secretFingerprint(value: string): string {
  return createHash("sha256").update(value, "utf8").digest("hex").slice(0, 8);
}

const MARK_OPEN = "‹";

export function redactSecret(value: string): string {
  return `${MARK_OPEN}redacted len=${value.length} sha256:${secretFingerprint(value)}›`;
}

function isRedacted(value: string): boolean {
  return value.startsWith(MARK_OPEN);
}

// Names of parameters and fields whose value is a secret whatever it looks like.
const STRONG_SECRET_NAME =
  /token|secret|passw(?:or)?d|^pwd$|^pass$|api[-_]?key|apikey|csrf|xsrf|authenticity|signature|credential|private[-_]?key|session|^sid$|^jwt$|^otp$|^auth$|^authorization$|^cookie$|^ticket$/i;
// Short names that are secrets in query strings (key=, sig=, code=) but too
// common in prose to redact there unless the value also looks like a secret.
const WEAK_SECRET_NAME = /^(?:key|sig|code|auth|s|k|hash|nonce)$/i;

/** A parameter or field name that always holds a secret (token, api_key, session …), whatever its value. */
export function isStrongSecretName(name: string): boolean {
  return STRONG_SECRET_NAME.test(name);
}

function isSecretParamName(name: string): boolean {
  return STRONG_SECRET_NAME.test(name) || WEAK_SECRET_NAME.test(name);
}

/** A value that looks machine-made (digits or long), not an English word. */
function looksLikeSecretValue(value: string): boolean {
  if (value.length < 8) return false;
  return /\d/.test(value) || value.length >= 24;
}

function safeDecode(s: string): string {
  try {
    return decodeURIComponent(s.replace(/\+/g, " "));
  } catch {
    return s;
  }
}

/** Redacts the values of secret-named pairs in `a=1&b=2` (query, fragment, form body). */
function redactParamString(params: string): string {
  return params
    .split("&")
    .map((pair) => {
      const eq = pair.indexOf("=");
      if (eq < 0) return pair;
      const name = safeDecode(pair.slice(0, eq));
      const value = pair.slice(eq + 1);
      if (value === "" || isRedacted(safeDecode(value))) return pair;
      if (isSecretParamName(name) || JWT_EXACT.test(safeDecode(value))) {
        return `${pair.slice(0, eq)}=${redactSecret(safeDecode(value))}`;
      }
      return pair;
    })
    .join("&");
}

const URL_USERINFO = /^([a-zA-Z][a-zA-Z0-9+.-]*:\/\/)([^/?#@\s]*)@/;

/** Redacts userinfo and secret-looking query/fragment parameters; keeps everything else verbatim. */
export function redactUrl(url: string): string {
  let out = url;
  const userinfo = URL_USERINFO.exec(out);
  if (userinfo && userinfo[2] !== undefined && !isRedacted(userinfo[2])) {
    out = `${userinfo[1]}${redactSecret(safeDecode(userinfo[2]))}@${out.slice(userinfo[0].length)}`;
  }
  const hashAt = out.indexOf("#");
  let fragment = hashAt >= 0 ? out.slice(hashAt + 1) : null;
  let beforeHash = hashAt >= 0 ? out.slice(0, hashAt) : out;
  const qAt = beforeHash.indexOf("?");
  if (qAt >= 0) {
    beforeHash = beforeHash.slice(0, qAt + 1) + redactParamString(beforeHash.slice(qAt + 1));
  }
  // OAuth implicit flow puts tokens in the fragment (#access_token=…).
  if (fragment?.includes("=")) fragment = redactParamString(fragment);
  return redactText(fragment === null ? beforeHash : `${beforeHash}#${fragment}`);
}

const SET_COOKIE_ATTRIBUTES = new Set([
  "path",
  "domain",
  "expires",
  "max-age",
  "httponly",
  "secure",
  "samesite",
  "partitioned",
  "priority",
]);

function redactCookiePair(pair: string): string {
  const eq = pair.indexOf("=");
  if (eq < 0) return pair.trim() === "" ? pair : redactSecret(pair.trim());
  const value = pair.slice(eq + 1).trim();
  if (value === "" || isRedacted(value)) return pair;
  return `${pair.slice(0, eq)}=${redactSecret(value)}`;
}

function redactCookieHeader(value: string): string {
  return value
    .split(";")
    .map((part) => {
      const lead = part.match(/^\s*/)?.[0] ?? "";
      return lead + redactCookiePair(part.slice(lead.length));
    })
    .join(";");
}

function redactSetCookieHeader(value: string): string {
  const parts = value.split(";");
  return parts
    .map((part, i) => {
      const lead = part.match(/^\s*/)?.[0] ?? "";
      const body = part.slice(lead.length);
      if (i === 0) return lead + redactCookiePair(body);
      const attr = body.split("=")[0]?.trim().toLowerCase() ?? "";
      return SET_COOKIE_ATTRIBUTES.has(attr) ? part : lead + redactCookiePair(body);
    })
    .join(";");
}

function redactAuthorization(value: string): string {
  const m = /^\s*([A-Za-z][A-Za-z0-9_-]*)\s+([\s\S]+)$/.exec(value);
  if (!m) return redactSecret(value);
  if (isRedacted(m[2]!)) return value;
  return `${m[1]} ${redactSecret(m[2]!)}`;
}

const URL_VALUED_HEADERS = new Set(["referer", "location", "origin", "content-location", "link", "refresh"]);

export function redactHeaderValue(name: string, value: string): string {
  const lower = name.trim().toLowerCase();
  if (lower === "authorization" || lower === "proxy-authorization") return redactAuthorization(value);
  if (lower === "cookie") return redactCookieHeader(value);
  if (lower === "set-cookie") return redactSetCookieHeader(value);
  if (isSecretHeader(lower)) return isRedacted(value) ? value : redactSecret(value);
  if (lower === "www-authenticate" || lower === "proxy-authenticate") return redactText(value);
  if (URL_VALUED_HEADERS.has(lower)) return redactText(redactUrlsIn(value));
  return redactText(value);
}

function redactUrlsIn(text: string): string {
  return text.replace(/\b[a-zA-Z][a-zA-Z0-9+.-]*:\/\/[^\s"'<>]+/g, (u) => redactUrl(u));
}

// --- bodies ---------------------------------------------------------------

function redactJsonValue(value: unknown, underSecret: boolean): unknown {
  if (typeof value === "string") return underSecret ? redactSecret(value) : redactText(value);
  if (typeof value === "number" || typeof value === "boolean") {
    return underSecret ? redactSecret(String(value)) : value;
  }
  if (Array.isArray(value)) return value.map((v) => redactJsonValue(v, underSecret));
  if (value && typeof value === "object") {
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(value)) {
      out[k] = redactJsonValue(v, underSecret || STRONG_SECRET_NAME.test(k));
    }
    return out;
  }
  return value;
}

// Used when the JSON does not parse (truncated body): "name": "value" or "name": 123.
const JSON_MEMBER = /"((?:[^"\\\n]|\\.){1,200})"(\s*:\s*)("(?:[^"\\]|\\.)*"|-?\d[\d.eE+-]*)/g;

function redactJsonText(text: string): string {
  try {
    const parsed: unknown = JSON.parse(text);
    const redacted = redactJsonValue(parsed, false);
    return JSON.stringify(redacted, null, text.includes("\n") ? 2 : undefined);
  } catch {
    return redactText(
      text.replace(JSON_MEMBER, (all, name: string, sep: string, raw: string) => {
        if (!STRONG_SECRET_NAME.test(name)) return all;
        const inner = raw.startsWith('"') ? raw.slice(1, -1) : raw;
        if (isRedacted(inner)) return all;
        return `"${name}"${sep}"${redactSecret(inner)}"`;
      }),
    );
  }
}

function redactMultipart(text: string): string {
  // Each part: headers with name="field", blank line, value up to the next boundary line.
  return text.replace(
    /(Content-Disposition:[^\r\n]*\bname="([^"]*)"[^\r\n]*\r?\n(?:[^\r\n]+\r?\n)*\r?\n)([\s\S]*?)(?=\r?\n--)/gi,
    (all, head: string, name: string, value: string) =>
      STRONG_SECRET_NAME.test(name) && value !== "" && !isRedacted(value) ? head + redactSecret(value) : all,
  );
}

/** Redacts secret fields in a request or response body (JSON, form, multipart, or text). */
export function redactBody(text: string, contentType?: string | null): string {
  const ct = (contentType ?? "").toLowerCase();
  const trimmed = text.trimStart();
  if (ct.includes("json") || (!ct && (trimmed.startsWith("{") || trimmed.startsWith("[")))) {
    return redactJsonText(text);
  }
  if (ct.includes("x-www-form-urlencoded") || (!ct && /^[^\s=&]+=[^\s]*$/.test(text.trim()))) {
    return redactText(redactParamString(text));
  }
  if (ct.includes("multipart/")) return redactText(redactMultipart(text));
  return redactText(text);
}

// --- free text ------------------------------------------------------------

const JWT_EXACT = /^eyJ[A-Za-z0-9_-]{2,}\.[A-Za-z0-9_-]*\.[A-Za-z0-9_-]*$/;
const JWT_ANYWHERE = /eyJ[A-Za-z0-9_-]{2,}(?:\.[A-Za-z0-9_-]*){2,4}/g;
const AUTH_SCHEME_VALUE = /\b(Bearer|Basic|Token|ApiKey|Api-Key)(\s+)([A-Za-z0-9._~+/=-]{8,})/gi;
// Tokens whose vendor prefix says what they are, wherever they stand (GitHub, GitLab,
// Slack, Stripe, Google API keys, npm).
const PREFIXED_TOKEN =
  /\b(?:gh[pousr]_[A-Za-z0-9]{20,}|github_pat_[A-Za-z0-9_]{20,}|glpat-[A-Za-z0-9_-]{20,}|xox[abposr]-[A-Za-z0-9-]{10,}|[sr]k_(?:live|test)_[A-Za-z0-9]{16,}|AIza[0-9A-Za-z_-]{35}|npm_[A-Za-z0-9]{36})\b/g;
const AWS_ACCESS_KEY_ID = /\b(?:AKIA|ASIA|AGPA|AIDA|AROA|ANPA|ANVA|AIPA)[A-Z0-9]{16}\b/g;
// secret-name=value as in query strings, log lines, shell commands.
const NAME_EQUALS_VALUE = /([A-Za-z0-9_.-]{1,64})(=)(?!‹)([^\s"'&;,<>)\]}]+)/g;
// "secret-name": "value" as in JSON fragments inside logs or messages.
const QUOTED_MEMBER = /"([A-Za-z0-9_.-]{1,64})"(\s*:\s*)"(?!‹)((?:[^"\\]|\\.)*)"/g;
// Header lines quoted in text (raw dumps, curl -v).
const HEADER_LINE =
  /^([ \t]*[<>]?[ \t]*)(authorization|proxy-authorization|cookie|set-cookie|x-api-key|api-key|x-auth-token|x-csrf-token|x-xsrf-token|x-csrftoken|x-amz-security-token|x-goog-api-key)([ \t]*:[ \t]*)(.*)$/gim;
const USERINFO_IN_TEXT = /\b([a-zA-Z][a-zA-Z0-9+.-]*:\/\/)([^\s/?#@‹]+)@/g;

/**
 * Redacts secrets found in free text: JWTs, auth schemes, AWS keys, name=value secrets, userinfo.
 * `minPairValue`: a secret-named pair whose value is shorter stays (see redactFragment).
 */
export function redactText(text: string, minPairValue = 1): string {
  let out = text.replace(HEADER_LINE, (all, lead: string, name: string, sep: string, value: string) =>
    value.trim() === "" ? all : lead + name + sep + redactHeaderValue(name, value),
  );
  out = out.replace(JWT_ANYWHERE, (jwt) => redactSecret(jwt));
  out = out.replace(AUTH_SCHEME_VALUE, (all, scheme: string, space: string, value: string) =>
    looksLikeSecretValue(value) ? `${scheme}${space}${redactSecret(value)}` : all,
  );
  out = out.replace(AWS_ACCESS_KEY_ID, (id) => redactSecret(id));
  out = out.replace(PREFIXED_TOKEN, (token) => redactSecret(token));
  out = out.replace(
    USERINFO_IN_TEXT,
    (_all, scheme: string, info: string) => `${scheme}${redactSecret(info)}@`,
  );
  out = out.replace(NAME_EQUALS_VALUE, (all, name: string, eq: string, value: string) => {
    if (value.length < minPairValue) return all;
    const strong = STRONG_SECRET_NAME.test(name) || /^x-amz-(?:signature|credential)$/i.test(name);
    if (strong || (WEAK_SECRET_NAME.test(name) && looksLikeSecretValue(value))) {
      return `${name}${eq}${redactSecret(value)}`;
    }
    return all;
  });
  out = out.replace(QUOTED_MEMBER, (all, name: string, sep: string, value: string) =>
    STRONG_SECRET_NAME.test(name) && value !== "" && value.length >= minPairValue
      ? `"${name}"${sep}"${redactSecret(value)}"`
      : all,
  );
  return out;
}

/**
 * The fewest characters a credential has: NIST SP 800-63B asks at least 6 for a
 * secret chosen at random and 8 for one a person chooses. Shorter is no credential
 * (and its length and hash would give it away anyway).
 */
const MIN_CREDENTIAL_LENGTH = 6;

/** Header and cookie names that hold credentials, for a trigger found in one. */
const SECRET_PART_NAME = /token|secret|passw|session|sid$|auth|csrf|xsrf|key|jwt|signature|cookie/i;

/**
 * A fragment of a request part as a trigger or its evidence shows it. The part
 * decides first: a header or cookie with a credential's name, or a query or body
 * field with one (token, password, api_key …), is fingerprinted whole, unless the
 * fragment is that name itself (the rule matched the name). Any other part is
 * payload: the shapes of secrets inside it are still redacted (JWTs, auth scheme
 * values, vendor tokens, keys, userinfo, secret-named pairs), except a pair whose
 * value is too short to be a credential: `tokens=1` in a shell command is the
 * attack text the firewall matched, and hiding it would hide the answer.
 */
export function redactFragment(location: string, name: string | null, text: string): string {
  if (name && text !== name) {
    const secretPart =
      location === "header" || location === "cookie"
        ? SECRET_PART_NAME.test(name)
        : (location === "query" || location === "body") && STRONG_SECRET_NAME.test(name);
    if (secretPart) return redactSecret(text);
  }
  return redactText(text, MIN_CREDENTIAL_LENGTH);
}

/**
 * A user's argument quoted in an error message: as given when it is short and
 * plain, redacted when it looks like a credential (a shifted argument list can put
 * a token where a number was expected).
 */
export function quoteArgument(raw: string): string {
  const shown = redactText(raw);
  if (shown !== raw) return `"${shown}"`;
  const tokenLike = /[A-Za-z0-9_+/=.~-]{16,}/.exec(raw)?.[0];
  if (tokenLike && /\d/.test(tokenLike) && /[A-Za-z]/.test(tokenLike)) return redactSecret(raw);
  return `"${raw.length > 80 ? `${raw.slice(0, 80)}…` : raw}"`;
}
