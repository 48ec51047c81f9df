// Rate-limit headers in all their dialects: X-RateLimit-*, the IETF RateLimit /
// RateLimit-Policy structured fields (and the older RateLimit-Limit/-Remaining/
// -Reset), Retry-After, and GitHub's x-ratelimit-* with its secondary limits.
import type { Evidence, Exchange } from "../../model.js";
import { bodyText, headerValue, parseHttpDate, serverTime, visibleText } from "./_http.js";

export interface RateLimitState {
  limit?: number;
  remaining?: number;
  /** When the window resets (absolute). */
  resetAt?: Date;
  /** Retry-After, absolute. */
  retryAt?: Date;
  policy?: string;
  resource?: string;
  /** Which headers the numbers came from. */
  headers: string[];
}

function num(v: string | undefined): number | undefined {
  if (v === undefined) return undefined;
  const n = Number(v.trim().split(/[\s,;]/)[0]);
  return Number.isFinite(n) ? n : undefined;
}

/** A reset value: epoch seconds or ms when large, else seconds from `base`. */
export function resetToDate(value: number, base: Date): Date {
  if (value > 1e12) return new Date(value);
  if (value > 1e9) return new Date(value * 1000);
  return new Date(base.getTime() + value * 1000);
}

/** Retry-After: delay-seconds or an HTTP-date. */
export function parseRetryAfter(value: string | undefined, base: Date): Date | undefined {
  if (!value) return undefined;
  const trimmed = value.trim();
  if (/^\d+$/.test(trimmed)) return new Date(base.getTime() + Number(trimmed) * 1000);
  return parseHttpDate(trimmed) ?? undefined;
}

/** Splits a structured-field list or dictionary on top-level commas (quotes respected). */
function splitTopLevel(s: string, sep: string): string[] {
  const out: string[] = [];
  let cur = "";
  let quoted = false;
  for (const ch of s) {
    if (ch === '"') quoted = !quoted;
    if (ch === sep && !quoted) {
      out.push(cur.trim());
      cur = "";
    } else cur += ch;
  }
  if (cur.trim()) out.push(cur.trim());
  return out;
}

interface FieldMember {
  name: string;
  params: Record<string, string>;
}

/** `"default";r=0;t=30, "burst";r=5` or `limit=100, remaining=0, reset=30`. */
function parseStructured(value: string): FieldMember[] {
  return splitTopLevel(value, ",").map((member) => {
    const [head = "", ...rest] = splitTopLevel(member, ";");
    const params: Record<string, string> = {};
    for (const p of rest) {
      const eq = p.indexOf("=");
      if (eq > 0)
        params[p.slice(0, eq).trim().toLowerCase()] = p
          .slice(eq + 1)
          .trim()
          .replace(/^"|"$/g, "");
    }
    return { name: head.replace(/^"|"$/g, ""), params };
  });
}

export function readRateLimit(ex: Exchange): RateLimitState {
  const h = ex.response.headers;
  const base = serverTime(ex).at;
  const state: RateLimitState = { headers: [] };
  for (const prefix of ["x-ratelimit-", "x-rate-limit-", "ratelimit-"]) {
    const limit = num(headerValue(h, `${prefix}limit`));
    const remaining = num(headerValue(h, `${prefix}remaining`));
    const reset = num(headerValue(h, `${prefix}reset`));
    if (limit === undefined && remaining === undefined && reset === undefined) continue;
    state.limit ??= limit;
    state.remaining ??= remaining;
    if (reset !== undefined) state.resetAt ??= resetToDate(reset, base);
    state.headers.push(`${prefix}*`);
  }
  const resource = headerValue(h, "x-ratelimit-resource");
  if (resource) state.resource = resource;

  const ietf = headerValue(h, "ratelimit");
  if (ietf) {
    state.headers.push("RateLimit");
    for (const m of parseStructured(ietf)) {
      // Newer draft: item with r (remaining) and t (seconds to reset).
      if (m.params.r !== undefined || m.params.t !== undefined) {
        const r = num(m.params.r);
        if (r !== undefined && (state.remaining === undefined || r < state.remaining)) {
          state.remaining = r;
          state.policy = m.name;
          const t = num(m.params.t);
          if (t !== undefined) state.resetAt = new Date(base.getTime() + t * 1000);
        }
        continue;
      }
      // Older draft dictionary: limit=…, remaining=…, reset=….
      const kv = /^([a-z-]+)=(.*)$/i.exec(m.name);
      if (kv) {
        const n = num(kv[2]);
        if (n === undefined) continue;
        const key = kv[1]!.toLowerCase();
        if (key === "limit") state.limit ??= n;
        else if (key === "remaining") state.remaining ??= n;
        else if (key === "reset") state.resetAt ??= new Date(base.getTime() + n * 1000);
      }
    }
  }
  const policy = headerValue(h, "ratelimit-policy");
  if (policy) {
    state.headers.push("RateLimit-Policy");
    const first = parseStructured(policy)[0];
    if (first) {
      const q = num(first.params.q) ?? num(first.name);
      if (q !== undefined) state.limit ??= q;
      const w = num(first.params.w);
      state.policy ??= w !== undefined ? `${q ?? "?"} per ${w} s` : first.name;
    }
  }
  const retryAfter = headerValue(h, "retry-after");
  if (retryAfter) {
    state.retryAt = parseRetryAfter(retryAfter, base);
    state.headers.push("Retry-After");
  }
  return state;
}

const SECONDARY = /secondary rate limit|abuse detection mechanism/i;
const RATE_WORDS =
  /rate limit(?:ed| exceeded)?|too many requests|request limit exceeded|quota exceeded|throttl(?:ed|ing)|slow down/i;

export function rateLimitEvidence(ex: Exchange): Evidence[] {
  const out: Evidence[] = [];
  const status = ex.response.status;
  const state = readRateLimit(ex);
  const resetAt = state.retryAt ?? state.resetAt;
  const data: Record<string, unknown> = {
    limit: state.limit,
    remaining: state.remaining,
    resetAt: resetAt?.toISOString(),
    retryAfterAt: state.retryAt?.toISOString(),
    policy: state.policy,
    resource: state.resource,
  };
  const when = resetAt ? ` The window resets at ${resetAt.toISOString()}.` : "";
  const text = visibleText(bodyText(ex.response).slice(0, 20_000));

  if (status === 429) {
    out.push({
      source: "response",
      fact: `The server answered 429 Too Many Requests.${when}`,
      weights: { "rate-limit": 5 },
      data,
    });
  }
  if (state.remaining !== undefined && state.headers.length) {
    const of = state.limit !== undefined ? ` of ${state.limit}` : "";
    if (state.remaining <= 0) {
      out.push({
        source: "response",
        fact: `The rate-limit headers (${state.headers.join(", ")}) show 0 requests remaining${of}${state.resource ? ` for the "${state.resource}" resource` : ""}.${when}`,
        weights: { "rate-limit": status === 429 ? 2 : 4 },
        data,
      });
    } else if (status !== 429) {
      out.push({
        source: "response",
        fact: `The rate-limit headers show ${state.remaining} requests remaining${of}, so the primary limit is not exhausted.`,
        weights: { "rate-limit": SECONDARY.test(text) ? 0 : -1.5 },
        data,
      });
    }
  }
  if (state.retryAt && status !== 429) {
    out.push({
      source: "response",
      fact: `The response carries Retry-After, asking the client to wait until ${state.retryAt.toISOString()}.`,
      weights: { "rate-limit": status === 503 ? 1 : 2 },
      data,
    });
  }
  if (SECONDARY.test(text)) {
    out.push({
      source: "response",
      fact: `The body says a secondary rate limit was hit (GitHub-style limits on bursts or concurrent requests, not the hourly quota).${when}`,
      weights: { "rate-limit": 5 },
      data: { ...data, secondary: true },
    });
  } else if (status !== 429 && RATE_WORDS.test(text)) {
    out.push({
      source: "response",
      fact: `The body speaks of rate limiting ("${RATE_WORDS.exec(text)?.[0]}").`,
      weights: { "rate-limit": 2 },
      data,
    });
  }
  return out;
}
