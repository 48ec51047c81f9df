// csrf: when the evidence points at CSRF, fetch the page the form came from
// (the Referer on the same host, else the URL itself with GET), find the token
// it issues and where the framework expects it back, and compare with what the
// request sent. Only with consent is the request resent with the fresh token
// and that page's cookies, to verify the fix (may-execute, counted).

import { isSafeMethod } from "../http/types.js";
import { sameOrigin } from "../http/urls.js";
import type { Header, RequestModel } from "../model.js";
import { redactUrl } from "../redact.js";
import { asSafe, setHeader } from "./_requests.js";
import { headerValue } from "./compare.js";
import type { Experiment, ProbeContext } from "./contract.js";
import { weightFor } from "./contract.js";
import { cookiesSet, type IssuedToken, tokensInPage } from "./csrf-token.js";

function requestCookies(req: RequestModel): Array<[string, string]> {
  return req.headers
    .filter(([n]) => n.toLowerCase() === "cookie")
    .flatMap(([, v]) => v.split(";"))
    .map((c) => c.trim())
    .filter(Boolean)
    .map((c) => {
      const eq = c.indexOf("=");
      return eq >= 0
        ? ([c.slice(0, eq), c.slice(eq + 1)] as [string, string])
        : ([c, ""] as [string, string]);
    });
}

function bodyFields(req: RequestModel): Map<string, string> {
  const out = new Map<string, string>();
  const text = req.body?.toString("utf8") ?? "";
  if (!text) return out;
  const ct = (headerValue(req, "content-type") ?? "").toLowerCase();
  if (ct.includes("json")) {
    try {
      const parsed = JSON.parse(text) as unknown;
      if (parsed && typeof parsed === "object" && !Array.isArray(parsed)) {
        for (const [k, v] of Object.entries(parsed)) if (typeof v === "string") out.set(k, v);
      }
    } catch {
      // not JSON after all
    }
    return out;
  }
  if (ct.includes("multipart/")) {
    for (const m of text.matchAll(/name="([^"]+)"\r?\n\r?\n([^\r\n]*)/g)) out.set(m[1]!, m[2]!);
    return out;
  }
  for (const [k, v] of new URLSearchParams(text)) out.set(k, v);
  return out;
}

/** The value the request carried where the token is expected, or null. */
function sentToken(req: RequestModel, token: IssuedToken): string | null {
  if (token.expectIn?.location === "body") return bodyFields(req).get(token.expectIn.name) ?? null;
  if (token.expectIn?.location === "header") return headerValue(req, token.expectIn.name);
  return null;
}

/** The request with the fresh token put where it is expected and the page's cookies merged in. */
function withFreshToken(
  req: RequestModel,
  token: IssuedToken,
  cookies: Array<[string, string]>,
): RequestModel | null {
  let next: RequestModel = { ...req };
  const place = token.expectIn;
  if (!place) return null;
  if (place.location === "header") {
    next.headers = setHeader(req.headers, place.name, token.value);
  } else {
    const ct = (headerValue(req, "content-type") ?? "").toLowerCase();
    const text = req.body?.toString("utf8") ?? "";
    if (ct.includes("json")) {
      try {
        const parsed = JSON.parse(text || "{}") as Record<string, unknown>;
        parsed[place.name] = token.value;
        next.body = Buffer.from(JSON.stringify(parsed));
      } catch {
        return null;
      }
    } else if (ct.includes("x-www-form-urlencoded") || (!ct && !text)) {
      const params = new URLSearchParams(text);
      params.set(place.name, token.value);
      next.body = Buffer.from(params.toString());
    } else {
      return null;
    }
  }
  const merged = new Map(requestCookies(req));
  for (const [n, v] of cookies) merged.set(n, v);
  const cookieHeader = [...merged].map(([n, v]) => `${n}=${v}`).join("; ");
  const headers: Header[] = next.headers.filter(([n]) => n.toLowerCase() !== "cookie");
  if (cookieHeader) headers.push(["Cookie", cookieHeader]);
  next = { ...next, headers };
  return next;
}

async function verify(
  ctx: ProbeContext,
  token: IssuedToken,
  cookies: Array<[string, string]>,
): Promise<void> {
  const retry = withFreshToken(ctx.state.target, token, cookies);
  if (!retry) return;
  const out = await ctx.probe(
    retry,
    `your ${ctx.state.target.method} with a fresh CSRF token`,
    "may-execute",
  );
  if (out.inconclusive) return;
  if (!out.sameRefusal) {
    out.record.finding = `${out.response!.status}: passes with the fresh token — verified fix`;
    ctx.addEvidence({
      source: `probe #${out.n}`,
      fact: `Resent with the fresh token in ${token.expectIn!.name} and the page's cookies, the request passes (${out.response!.status}): the CSRF token was the cause (verified).`,
      weights: { csrf: 4 },
    });
  } else {
    out.record.finding = "still refused with a fresh token";
    ctx.addEvidence({
      source: `probe #${out.n}`,
      fact: `Even with a fresh token in ${token.expectIn!.name} and the page's cookies, the request is refused the same way.`,
      weights: { csrf: -2 },
    });
  }
}

export const csrf: Experiment = {
  id: "csrf",
  safety: "safe-method",
  cost: 2,
  appliesTo: (state) => !isSafeMethod(state.target.method) && weightFor(state.evidence, "csrf") > 0.5,
  priority: (state) => 4 + 3 * weightFor(state.evidence, "csrf"),
  async run(ctx) {
    const { state } = ctx;
    const referer = headerValue(state.target, "referer");
    const pageUrl = referer && sameOrigin(referer, state.target.url) ? referer : state.target.url;
    const page = asSafe(state.target, "GET", pageUrl);
    page.headers = setHeader(page.headers, "Accept", "text/html,application/xhtml+xml");
    const out = await ctx.probe(page, "fetch the page the form came from", "safe-method");
    if (!out.response) return;
    const tokens = tokensInPage(out.response.body.toString("utf8"), out.response.headers);
    if (tokens.length === 0) {
      out.record.finding = `${out.response.status}: no CSRF token found in the page or its cookies`;
      return;
    }
    const usable = tokens.find((t) => t.kind === "field") ?? tokens.find((t) => t.expectIn) ?? tokens[0]!;
    const sent = sentToken(state.target, usable);
    const where = usable.expectIn
      ? `${usable.expectIn.location === "body" ? "field" : "header"} ${usable.expectIn.name}`
      : `cookie ${usable.name}`;
    const sentCookie =
      usable.kind === "cookie" ? requestCookies(state.target).some(([n]) => n === usable.name) : null;
    out.record.finding = `the page issues a CSRF token (${usable.kind} ${usable.name})`;
    let fact: string;
    let weight: number;
    if (sent === null) {
      fact = `The page ${redactUrl(pageUrl)} issues a CSRF token to be sent back in ${where}; the request sent none.`;
      weight = 2.5;
    } else if (sent !== usable.value) {
      fact = `The page ${redactUrl(pageUrl)} issues a CSRF token in ${where}; the request sent a different one (stale, or from another session).`;
      weight = 1;
    } else {
      fact = `The page ${redactUrl(pageUrl)} issues the same CSRF token the request sent in ${where}.`;
      weight = -1;
    }
    if (sentCookie === false)
      fact += ` The request also lacks the ${usable.name} cookie the token is checked against.`;
    // A token the page hands to its form (a hidden field, a meta tag) is the page's own
    // statement; a random cookie is a CSRF token only by its name: described, not weighed.
    ctx.addEvidence({
      source: `probe #${out.n}`,
      fact,
      weights: usable.kind === "cookie" ? {} : { csrf: weight },
      data: { field: usable.expectIn?.name ?? usable.name },
    });
    const cookies = cookiesSet(out.response.headers);
    if (ctx.allowSideEffects && weight > 0 && ctx.remaining() > 0) {
      await verify(ctx, usable, cookies);
    } else if (weight > 0) {
      ctx.noteUnverified(
        `load ${redactUrl(pageUrl)} first, then send the token it issues in ${where}${cookies.length ? ", together with the cookies that page sets" : ""}.`,
        "csrf",
      );
    }
  },
};
