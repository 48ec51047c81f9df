// Is a value a credential? Judged by the value alone — a JWT that decodes, an
// RFC 9110 `scheme token68` pair, Basic credentials that decode to user:password,
// or an opaque token with the entropy of a random secret — never by the name of
// the header, cookie or field that carries it (applications name them freely).
// The weights the observation carries live in data/observations.json, with where
// they were measured.
import { decodeJwt, decodeProtectedHeader } from "jose";
import observations from "../../../data/observations.json" with { type: "json" };

export type CredentialShape = "jwt" | "basic" | "auth-scheme" | "opaque-token";

/** RFC 9110 token68, the credentials after an auth scheme. */
const TOKEN68 = /^[A-Za-z0-9._~+/-]+=*$/;
/** An auth scheme name (RFC 9110 token) followed by one space and token68 credentials. */
const SCHEME_AND_TOKEN = /^([!#$%&'*+.^_`|~0-9A-Za-z-]{2,32}) +(\S+)$/;
/** Characters a random secret is written in (base64, base64url, hex, URL-escaped). */
const SECRET_ALPHABET = /^[A-Za-z0-9._~+/=%-]+$/;
const MIN_SCHEME_TOKEN = 8;
const MIN_OPAQUE = 16;
const MAX_VALUE = 8192;

function isJwt(text: string): boolean {
  if (text.split(".").length !== 3) return false;
  try {
    const header = decodeProtectedHeader(text);
    decodeJwt(text);
    return typeof header.alg === "string";
  } catch {
    return false;
  }
}

function isBasic(scheme: string, token: string): boolean {
  if (scheme.toLowerCase() !== "basic" || !TOKEN68.test(token)) return false;
  const text = Buffer.from(token, "base64").toString("utf8");
  // Round-trips as base64 and decodes to printable user:password.
  return text.includes(":") && !/[\u0000-\u001f\ufffd]/.test(text);
}

/** Bits per character of the value's own character distribution. */
function entropy(text: string): number {
  const counts = new Map<string, number>();
  for (const c of text) counts.set(c, (counts.get(c) ?? 0) + 1);
  let h = 0;
  for (const n of counts.values()) h -= (n / text.length) * Math.log2(n / text.length);
  return h;
}

/** Separators that structure a readable value (versions, domains, paths, media types). */
const SEPARATORS = /[./_~+=%:-]+/;
/** Most of a random secret lies in runs that mix character classes. */
const MIXED_SHARE = 0.5;

/** Upper-case share from which mixed case reads as random rather than CamelCase words. */
const RANDOM_CASE_SHARE = 0.25;

/**
 * Whether a piece mixes character classes the way random text does: letters with
 * digits, or upper with lower case too often for CamelCase words ("BufferedInputStream"
 * has 3 capitals in 19; base64 without a digit has about half).
 */
function mixesClasses(piece: string): boolean {
  const letters = piece.replace(/[^A-Za-z]/g, "");
  if (letters === "") return false;
  if (/[0-9]/.test(piece)) return true;
  const upper = letters.replace(/[^A-Z]/g, "").length;
  return upper > 0 && upper < letters.length && upper / letters.length >= RANDOM_CASE_SHARE;
}

/**
 * The share of the value's characters that sit in pieces (between separators) mixing
 * at least two of lower case, upper case and digits: a random secret's pieces do
 * ("q8Xk2RmZ0vT4", "QxKbTmWz" — base64 need not hold a digit), a readable value's are
 * words or numbers ("python-requests/2.31.0", "s3-us-west-2.amazonaws.com").
 */
function mixedShare(text: string): number {
  let mixed = 0;
  for (const piece of text.split(SEPARATORS)) if (mixesClasses(piece)) mixed += piece.length;
  return mixed / text.length;
}

/**
 * A random secret: long, in a secret's alphabet, mostly in pieces that mix letters and digits, and close to
 * the most entropy a string of its length can have (words, numbers, dates and paths fall
 * well short of it).
 */
function isOpaqueToken(text: string, share: number, minLength = MIN_OPAQUE): boolean {
  if (text.length < minLength || !SECRET_ALPHABET.test(text)) return false;
  if (!mixesClasses(text.replace(/[^A-Za-z0-9]/g, ""))) return false;
  if (mixedShare(text) < MIXED_SHARE) return false;
  const ceiling = Math.log2(Math.min(text.length, 64));
  return entropy(text) >= share * ceiling;
}

/** The share of the entropy ceiling an opaque token reaches (fit with the weights). */
const OPAQUE_ENTROPY_SHARE = observations["credential-value"].opaqueEntropyShare;

/** What kind of credential the value is by its shape, or null when it does not look like one. */
export function credentialShape(value: string, share = OPAQUE_ENTROPY_SHARE): CredentialShape | null {
  const text = value.trim();
  if (text === "" || text.length > MAX_VALUE) return null;
  const pair = SCHEME_AND_TOKEN.exec(text);
  if (pair) {
    const [, scheme, token] = pair as unknown as [string, string, string];
    if (isBasic(scheme, token)) return "basic";
    if (isJwt(token)) return "jwt";
    if (token.length >= MIN_SCHEME_TOKEN && TOKEN68.test(token)) return "auth-scheme";
    return null;
  }
  let decoded = text;
  try {
    decoded = decodeURIComponent(text);
  } catch {
    // not URL-escaped after all
  }
  if (isJwt(decoded)) return "jwt";
  return isOpaqueToken(text, share) ? "opaque-token" : null;
}

/**
 * The shortest token a page issues in its own form or meta tag that is still read as one.
 * A value sent on its own needs 16 characters before it is taken for a secret; one the
 * page placed in a hidden field of the very form is already singled out by where it sits,
 * and frameworks' short tokens (10 hex digits, 40 bits) must not be missed.
 */
const MIN_PAGE_TOKEN = 10;

/** Whether a value a page issues in a hidden field or meta tag is shaped like a token. */
export function isIssuedToken(value: string): boolean {
  const text = value.trim();
  if (credentialShape(text) !== null) return true;
  return text.length <= MAX_VALUE && isOpaqueToken(text, OPAQUE_ENTROPY_SHARE, MIN_PAGE_TOKEN);
}

/** The values of a Cookie header, one per cookie (names are not looked at). */
export function cookieValues(header: string): string[] {
  return header
    .split(";")
    .map((c) => {
      const eq = c.indexOf("=");
      return eq >= 0 ? c.slice(eq + 1).trim() : "";
    })
    .filter(Boolean);
}

/** The weight a credential-shaped trigger carries, as fit (see data/observations.json). */
export const CREDENTIAL_TRIGGER_WEIGHTS: Readonly<Record<string, number>> =
  observations["credential-value"].triggerWeights;
