// CSRF: the failure pages and messages of the common frameworks, the CSRF
// cookies and tokens the request did or did not carry, and the Origin /
// Referer / Sec-Fetch-Site headers that origin checks look at.
import type { Evidence, Exchange } from "../../model.js";
import { redactText, secretFingerprint } from "../../redact.js";
import {
  bodyFieldNames,
  bodyFieldValue,
  bodyText,
  clip,
  headerValue,
  isStateChanging,
  originOf,
  requestCookies,
  visibleText,
} from "./_http.js";

interface FrameworkMessage {
  product: string;
  pattern: RegExp;
  weight: number;
  /** What the message means, for the fact. */
  meaning: string;
}

const FRAMEWORK_MESSAGES: FrameworkMessage[] = [
  {
    product: "django",
    pattern: /CSRF verification failed/i,
    weight: 6,
    meaning: "Django's CSRF check refused the request",
  },
  {
    product: "flask",
    pattern:
      /The CSRF (?:session )?tokens? (?:is missing|is invalid|has expired|do not match)|The referrer (?:header is missing|does not match the host)/i,
    weight: 6,
    meaning: "Flask-WTF's CSRF check refused the request",
  },
  {
    product: "laravel",
    pattern: /CSRF token mismatch/i,
    weight: 6,
    meaning: "Laravel's VerifyCsrfToken middleware refused the request",
  },
  {
    product: "rails",
    pattern: /InvalidAuthenticityToken|Can't verify CSRF token authenticity/i,
    weight: 6,
    meaning: "Rails' forgery protection refused the request",
  },
  {
    product: "spring",
    // Spring capitalises "Invalid CSRF Token"; Express middlewares say "invalid csrf token".
    pattern: /Invalid CSRF Token|Could not verify the provided CSRF token|Expected CSRF token not found/,
    weight: 6,
    meaning: "Spring Security's CsrfFilter refused the request",
  },
  {
    product: "express",
    pattern: /EBADCSRFTOKEN|invalid csrf token|ForbiddenError: invalid csrf/i,
    weight: 5,
    meaning: "the Express CSRF middleware (csurf / csrf-sync / csrf-csrf) refused the request",
  },
  {
    product: "aspnet",
    pattern: /antiforgery|anti-forgery|__RequestVerificationToken/i,
    weight: 5,
    meaning: "ASP.NET's antiforgery validation refused the request",
  },
];

/** Django's reason lines, most specific first; `origin` captures the refused origin. */
const DJANGO_REASONS: Array<{ pattern: RegExp; reason: string }> = [
  {
    pattern: /Origin checking failed - (\S+?) does not match any trusted origins/i,
    reason: "origin-untrusted",
  },
  { pattern: /Referer checking failed - no Referer/i, reason: "referer-missing" },
  {
    pattern: /Referer checking failed - (\S+?) does not match any trusted origins/i,
    reason: "referer-untrusted",
  },
  {
    pattern: /Referer checking failed - Referer is insecure while host is secure/i,
    reason: "referer-insecure",
  },
  { pattern: /Referer checking failed - Referer is malformed/i, reason: "referer-malformed" },
  { pattern: /CSRF cookie not set/i, reason: "cookie-missing" },
  { pattern: /CSRF token missing/i, reason: "token-missing" },
  { pattern: /CSRF token (?:from \S+ )?(?:has )?incorrect length/i, reason: "token-length" },
  {
    pattern: /CSRF token (?:from \S+ )?incorrect|CSRF token (?:from \S+ )?has invalid characters/i,
    reason: "token-incorrect",
  },
];

const CSRF_COOKIES = [
  "csrftoken",
  "xsrf-token",
  "_csrf",
  "csrf_token",
  "csrf-token",
  "__requestverificationtoken",
  "x-csrf-token",
  "__host-csrf",
  "_xsrf",
];
const CSRF_HEADERS = [
  "x-csrftoken",
  "x-xsrf-token",
  "x-csrf-token",
  "csrf-token",
  "xsrf-token",
  "requestverificationtoken",
];
const CSRF_FIELDS = [
  "csrfmiddlewaretoken",
  "_csrf",
  "_token",
  "authenticity_token",
  "csrf_token",
  "__requestverificationtoken",
  "_csrf_token",
];

function isCsrfCookie(name: string): boolean {
  const lower = name.toLowerCase();
  return (
    CSRF_COOKIES.includes(lower) || lower.startsWith(".aspnetcore.antiforgery") || /csrf|xsrf/.test(lower)
  );
}

function safeDecode(s: string): string {
  try {
    return decodeURIComponent(s);
  } catch {
    return s;
  }
}

function bodyEvidence(ex: Exchange): Evidence[] {
  const out: Evidence[] = [];
  const raw = bodyText(ex.response).slice(0, 100_000);
  if (!raw) return out;
  const text = visibleText(raw);
  const hit = FRAMEWORK_MESSAGES.find((m) => m.pattern.test(text) || m.pattern.test(raw));
  if (hit) {
    const quote = clip(redactText(hit.pattern.exec(text)?.[0] ?? hit.pattern.exec(raw)?.[0] ?? ""), 120);
    const data: Record<string, unknown> = { product: hit.product };
    let reasonText = "";
    if (hit.product === "django") {
      for (const r of DJANGO_REASONS) {
        const m = r.pattern.exec(text);
        if (!m) continue;
        data.reason = r.reason;
        reasonText = ` Reason given: "${clip(redactText(m[0]), 160)}".`;
        if (m[1]) data.origin = m[1].replace(/[.,]$/, "");
        break;
      }
    }
    out.push({
      source: "response",
      fact: `The body says "${quote}": ${hit.meaning}.${reasonText}`,
      weights: { csrf: hit.weight },
      data,
    });
  } else if (/\b(?:csrf|xsrf)\b/i.test(text)) {
    const m = /[^.\n]{0,80}\b(?:csrf|xsrf)\b[^.\n]{0,80}/i.exec(text);
    out.push({
      source: "response",
      fact: `The body mentions CSRF: "${clip(redactText(m?.[0] ?? "CSRF"), 160)}".`,
      weights: { csrf: 3 },
    });
  }
  if (ex.response.status === 419) {
    // Laravel's own page says so; the request's cookie names would only be a guess.
    const laravel = /Page Expired/i.test(text);
    out.push({
      source: "response",
      fact: laravel
        ? 'Status 419 with Laravel\'s "Page Expired" page: the CSRF token or the session it belongs to expired or did not match.'
        : 'Status 419 ("Page Expired") is Laravel\'s answer to a failed CSRF check.',
      weights: { csrf: laravel ? 4 : 3 },
      data: { product: "laravel" },
    });
  }
  return out;
}

/**
 * What the request says about CSRF. Cookie, header and field names are the frameworks'
 * conventions, not observations: facts built on them describe (they name the field a fix
 * needs) and carry no weight. Origin, Referer and Sec-Fetch-Site are weighed by their values.
 */
function requestEvidence(ex: Exchange): Evidence[] {
  const out: Evidence[] = [];
  const req = ex.request;
  if (!isStateChanging(req.method)) return out;
  const cookies = requestCookies(req).filter(([n]) => isCsrfCookie(n));
  const headerTokens = req.headers.filter(([n]) => CSRF_HEADERS.includes(n.toLowerCase()));
  const fields = [...bodyFieldNames(req)].filter((f) => CSRF_FIELDS.includes(f.toLowerCase()));
  const cookieNames = cookies.map(([n]) => n);

  if (cookies.length && headerTokens.length === 0 && fields.length === 0) {
    out.push({
      source: "request",
      fact: `The ${req.method} request carries the CSRF cookie ${cookieNames.join(", ")} but no CSRF token in a header (X-CSRFToken, X-XSRF-TOKEN, X-CSRF-Token) or form field (csrfmiddlewaretoken, _csrf, _token, authenticity_token).`,
      weights: {},
      data: { cookies: cookieNames, field: null },
    });
  }
  if (cookies.length === 0 && (headerTokens.length || fields.length)) {
    out.push({
      source: "request",
      fact: `The request sends a CSRF token (${[...headerTokens.map(([n]) => n), ...fields].join(", ")}) but no CSRF cookie, so a cookie-bound check has nothing to compare it with.`,
      weights: {},
      data: { field: fields[0] ?? headerTokens[0]?.[0] },
    });
  }
  // Double-submit pairs that should carry the same value (Angular/Laravel XSRF-TOKEN, csrf-csrf).
  const xsrfCookie = cookies.find(([n]) => n.toLowerCase() === "xsrf-token");
  const xsrfHeader = headerValue(req.headers, "x-xsrf-token");
  if (xsrfCookie && xsrfHeader !== undefined) {
    const c = safeDecode(xsrfCookie[1]);
    const h = safeDecode(xsrfHeader);
    if (c !== h) {
      out.push({
        source: "request",
        fact: `The X-XSRF-TOKEN header (sha256:${secretFingerprint(h)}) differs from the XSRF-TOKEN cookie (sha256:${secretFingerprint(c)}); double-submit checks need them equal (a stale token from an earlier session?).`,
        weights: {},
      });
    }
  }
  const djangoCookie = cookies.find(([n]) => n.toLowerCase() === "csrftoken");
  const djangoToken = headerValue(req.headers, "x-csrftoken") ?? bodyFieldValue(req, "csrfmiddlewaretoken");
  if (djangoCookie && djangoToken !== undefined && djangoToken.length !== 32 && djangoToken.length !== 64) {
    out.push({
      source: "request",
      fact: `The Django CSRF token sent has length ${djangoToken.length}; Django expects 32 or 64 characters.`,
      weights: {},
    });
  }

  const origin = headerValue(req.headers, "origin");
  const referer = headerValue(req.headers, "referer");
  const target = originOf(req.url);
  // Without cookies this is most likely an API client, for which origin checks rarely apply.
  if (origin === undefined && referer === undefined && requestCookies(req).length > 0) {
    out.push({
      source: "request",
      fact: `The ${req.method} request has neither Origin nor Referer; origin checks (Django over HTTPS, Rails, Go's CrossOriginProtection, many CSRF guards) refuse such requests.`,
      weights: { csrf: 1 },
      data: { origin: null },
    });
  } else if (origin !== undefined && origin !== "null" && target && origin.toLowerCase() !== target) {
    out.push({
      source: "request",
      fact: `The request's Origin ${origin} differs from the target's origin ${target}: a cross-origin ${req.method}, which origin checks refuse unless the origin is trusted.`,
      weights: { csrf: 1.5, cors: 0.5 },
      data: { origin },
    });
  } else if (origin === "null") {
    out.push({
      source: "request",
      fact: 'The request\'s Origin is "null" (a sandboxed frame, a file: page or a cross-origin redirect); origin checks refuse it.',
      weights: { csrf: 1.5 },
      data: { origin: "null" },
    });
  }
  const fetchSite = headerValue(req.headers, "sec-fetch-site")?.toLowerCase();
  if (fetchSite === "cross-site") {
    out.push({
      source: "request",
      fact: "The browser marked the request Sec-Fetch-Site: cross-site; fetch-metadata and CSRF guards refuse cross-site state-changing requests.",
      weights: { csrf: 1.5 },
      data: { secFetchSite: fetchSite },
    });
  }
  return out;
}

export function csrfEvidence(ex: Exchange): Evidence[] {
  return [...bodyEvidence(ex), ...requestEvidence(ex)];
}
