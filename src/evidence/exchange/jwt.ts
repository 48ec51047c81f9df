// JWTs the request carried, decoded without verification: expiry against the
// server's clock (so clock skew shows), alg "none", and the scopes it grants
// compared with a scope the response says is missing.
import { decodeJwt, decodeProtectedHeader, type JWTPayload } from "jose";
import type { Evidence, Exchange } from "../../model.js";
import { redactText } from "../../redact.js";
import { bodyText, headerValue, requestCookies, serverTime } from "./_http.js";

const JWT_SHAPE = /^eyJ[A-Za-z0-9_-]+\.[A-Za-z0-9_-]*\.[A-Za-z0-9_-]*$/;

interface FoundToken {
  where: string;
  token: string;
}

function findTokens(ex: Exchange): FoundToken[] {
  const found: FoundToken[] = [];
  for (const [name, value] of ex.request.headers) {
    const lower = name.toLowerCase();
    if (lower === "authorization" || lower === "proxy-authorization") {
      const m = /^\s*Bearer\s+(\S+)/i.exec(value);
      if (m && JWT_SHAPE.test(m[1]!)) found.push({ where: `The ${name} Bearer token`, token: m[1]! });
    } else if (lower !== "cookie" && JWT_SHAPE.test(value.trim())) {
      found.push({ where: `The ${name} header`, token: value.trim() });
    }
  }
  for (const [name, value] of requestCookies(ex.request)) {
    const v = decodeURIComponentSafe(value);
    if (JWT_SHAPE.test(v)) found.push({ where: `The ${name} cookie`, token: v });
  }
  return found;
}

function lowerFirst(s: string): string {
  return s.charAt(0).toLowerCase() + s.slice(1);
}

function decodeURIComponentSafe(s: string): string {
  try {
    return decodeURIComponent(s);
  } catch {
    return s;
  }
}

/** Scopes granted by the token's claims (scope "a b", scp [..] or "a b", roles, groups). */
export function grantedScopes(payload: JWTPayload): string[] {
  const out: string[] = [];
  for (const claim of ["scope", "scp", "roles", "groups", "permissions"]) {
    const v = payload[claim];
    if (typeof v === "string") out.push(...v.split(/[\s,]+/).filter(Boolean));
    else if (Array.isArray(v)) out.push(...v.filter((x): x is string => typeof x === "string"));
  }
  return out;
}

const SCOPE_WORD = "[A-Za-z][A-Za-z0-9_.:/-]*[A-Za-z0-9]";
/** Scopes the response says are needed: WWW-Authenticate scope="…", or body phrases. */
export function requiredScopes(ex: Exchange): string[] {
  const out = new Set<string>();
  const challenge = headerValue(ex.response.headers, "www-authenticate") ?? "";
  const fromChallenge = /\bscope="([^"]*)"/i.exec(challenge);
  if (fromChallenge) for (const s of fromChallenge[1]!.split(/\s+/).filter(Boolean)) out.add(s);
  const body = bodyText(ex.response).slice(0, 20_000);
  const patterns = [
    new RegExp(
      `(?:missing|required|requires|needs?|lacks?|insufficient)[^.\\n]{0,30}?\\bscopes?\\b\\s*[:=]?\\s*["'\`\\[]?(${SCOPE_WORD})`,
      "gi",
    ),
    new RegExp(`\\bscopes?\\s+["'\`](${SCOPE_WORD})["'\`]\\s+(?:is\\s+)?(?:required|missing|needed)`, "gi"),
    new RegExp(`"(?:required_?scopes?|missing_?scopes?|scope)"\\s*:\\s*\\[?\\s*"(${SCOPE_WORD})"`, "gi"),
  ];
  for (const re of patterns) for (const m of body.matchAll(re)) out.add(m[1]!);
  return [...out].filter((s) => !/^(?:is|are|the|for|this|that|scope|scopes|required|missing)$/i.test(s));
}

function describeClaims(payload: JWTPayload, alg: string | undefined): string {
  const parts: string[] = [`alg ${alg ?? "unknown"}`];
  if (payload.iss) parts.push(`issuer ${payload.iss}`);
  if (payload.aud)
    parts.push(`audience ${Array.isArray(payload.aud) ? payload.aud.join(", ") : payload.aud}`);
  if (payload.sub) parts.push(`subject ${payload.sub}`);
  const scopes = grantedScopes(payload);
  if (scopes.length) parts.push(`scopes/roles ${scopes.slice(0, 20).join(" ")}`);
  return redactText(parts.join("; "));
}

function humanDuration(seconds: number): string {
  const s = Math.abs(Math.round(seconds));
  if (s < 120) return `${s} s`;
  if (s < 7200) return `${Math.round(s / 60)} min`;
  if (s < 172800) return `${Math.round(s / 3600)} h`;
  return `${Math.round(s / 86400)} days`;
}

export function jwtEvidence(ex: Exchange, now: Date = new Date()): Evidence[] {
  const out: Evidence[] = [];
  const ref = serverTime(ex, now);
  const clientAt = ex.startedAt ?? now;
  const refSec = ref.at.getTime() / 1000;
  const clientSec = clientAt.getTime() / 1000;
  for (const { where, token } of findTokens(ex)) {
    let payload: JWTPayload;
    let alg: string | undefined;
    try {
      payload = decodeJwt(token);
      alg = decodeProtectedHeader(token).alg;
    } catch {
      out.push({
        source: "request",
        fact: `${where} looks like a JWT but does not decode, so any server would reject it as malformed.`,
        weights: { "credentials-invalid": 2 },
      });
      continue;
    }
    const claims = describeClaims(payload, alg);
    const scopes = grantedScopes(payload);
    const data: Record<string, unknown> = {
      where,
      alg,
      iss: payload.iss,
      aud: payload.aud,
      sub: payload.sub === undefined ? undefined : redactText(String(payload.sub)),
      scopes,
      exp: payload.exp ? new Date(payload.exp * 1000).toISOString() : undefined,
    };
    out.push({ source: "request", fact: `${where} is a JWT (${claims}).`, weights: {}, data });

    if (alg?.toLowerCase() === "none") {
      out.push({
        source: "request",
        fact: `${where} is an unsigned JWT (alg "none"); servers reject unsigned tokens.`,
        weights: { "credentials-invalid": 4 },
        data,
      });
    }
    if (typeof payload.exp === "number") {
      const expIso = new Date(payload.exp * 1000).toISOString();
      if (payload.exp <= refSec) {
        const skew = payload.exp > clientSec && ref.basis === "the response's Date header";
        const skewSeconds = Math.round(refSec - clientSec);
        out.push({
          source: "request",
          fact: skew
            ? `${where} expired at ${expIso} by the server's clock (Date header), though it was still valid by the local clock: the clocks differ by ${humanDuration(skewSeconds)}.`
            : `${where} expired at ${expIso}, ${humanDuration(refSec - payload.exp)} before ${ref.basis} (${ref.at.toISOString()}).`,
          weights: { "credentials-invalid": 5 },
          data: { ...data, expired: true, clockSkewSeconds: skew ? skewSeconds : undefined },
        });
      } else {
        out.push({
          source: "request",
          fact: `${where} is not expired: it is valid until ${expIso} (${humanDuration(payload.exp - refSec)} after ${ref.basis}).`,
          weights: { "credentials-invalid": -1 },
          data,
        });
      }
    }
    if (typeof payload.nbf === "number" && payload.nbf > refSec) {
      out.push({
        source: "request",
        fact: `${where} is not valid before ${new Date(payload.nbf * 1000).toISOString()}, later than ${ref.basis} (${ref.at.toISOString()}): the issuer's clock is ahead of the server's.`,
        weights: { "credentials-invalid": 4 },
        data: { ...data, notYetValid: true, clockSkewSeconds: Math.round(payload.nbf - refSec) },
      });
    }
    if (scopes.length) {
      const missing = requiredScopes(ex).filter((s) => !scopes.includes(s));
      if (missing.length) {
        out.push({
          source: "response",
          fact: `The response asks for scope ${missing.join(" ")}, which ${lowerFirst(where)} does not grant (it has ${redactText(scopes.slice(0, 20).join(" "))}).`,
          weights: { "insufficient-permission": 4, "credentials-invalid": -1 },
          data: { ...data, scope: missing.join(" ") },
        });
      }
    }
  }
  return out;
}
