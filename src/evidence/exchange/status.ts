// Weak priors from the status code and generic refusal pages, and CORS
// headers on a refusal. Specific modules (www-authenticate, rate-limit, csrf)
// add the strong evidence; these only tilt the field.
import type { Evidence, Exchange } from "../../model.js";
import { redactText } from "../../redact.js";
import { bodyText, clip, headerValue, originOf, visibleText } from "./_http.js";

export function statusEvidence(ex: Exchange): Evidence[] {
  const out: Evidence[] = [];
  const { status } = ex.response;
  const h = ex.response.headers;
  const raw = bodyText(ex.response).slice(0, 100_000);
  const text = visibleText(raw);

  // 419 and 429 are stated (strongly) by csrf.ts and rate-limit.ts, not repeated here.
  switch (status) {
    case 401:
      out.push({
        source: "response",
        // RFC 9110: 401 says the request lacks valid authentication credentials.
        fact: "Status 401 means the request lacks valid credentials for this resource (RFC 9110).",
        weights: { "credentials-invalid": 3 },
      });
      break;
    case 405: {
      const allow = headerValue(h, "allow");
      out.push({
        source: "response",
        fact: `Status 405: the server does not accept ${ex.request.method} here${allow ? ` (Allow: ${allow})` : ""}.`,
        weights: { "server-config": 2.5 },
        data: { allow },
      });
      break;
    }
    case 451:
      out.push({
        source: "response",
        fact: "Status 451 (Unavailable For Legal Reasons) is a legal or geographic block.",
        weights: { "ip-restriction": 3 },
      });
      break;
  }

  // CORS: a refusal that names the Origin, or an ACAO that does not cover it.
  const origin = headerValue(ex.request.headers, "origin");
  if (origin && origin !== "null") {
    const acao = headerValue(h, "access-control-allow-origin");
    const mentionsOrigin =
      /\bcors\b|invalid cors request|origin (?:is )?not allowed|not allowed by cors|cross-origin/i.test(text);
    const covered = acao === "*" || acao?.toLowerCase() === origin.toLowerCase();
    if (mentionsOrigin && !covered) {
      out.push({
        source: "response",
        fact: `The refusal mentions CORS/origin and ${acao ? `Access-Control-Allow-Origin is ${acao}, not` : "has no Access-Control-Allow-Origin for"} the request's Origin ${origin}.`,
        weights: { cors: 4 },
        data: { origin, acao: acao ?? null },
      });
    } else if (acao && !covered && originOf(ex.request.url) !== origin.toLowerCase()) {
      out.push({
        source: "response",
        fact: `Access-Control-Allow-Origin is ${acao}, which does not cover the request's Origin ${origin}.`,
        weights: { cors: 1.5 },
        data: { origin, acao },
      });
    }
  }

  // An HTML login page in place of the resource: the session is gone.
  if (
    /<form\b[\s\S]{0,4000}type=["']?password/i.test(raw) ||
    /<title>[^<]*(?:log ?in|sign ?in)[^<]*<\/title>/i.test(raw)
  ) {
    out.push({
      source: "response",
      fact: "The response is an HTML login page: the session cookie is missing or expired.",
      weights: { "credentials-invalid": 2 },
    });
  }

  // Generic server refusal pages: many possible causes, so a spread of small weights.
  if (status === 403) {
    if (/<center>nginx(?:\/[\d.]+)?<\/center>/i.test(raw) && /403 Forbidden/i.test(raw)) {
      out.push({
        source: "response",
        fact: "The body is nginx's default 403 page: an nginx rule (deny, a location without access, a missing index) or file permissions refused it.",
        weights: { "server-config": 1, "ip-restriction": 0.7, "fs-permission": 0.7 },
        data: { product: "nginx" },
      });
    } else if (/You don't have permission to access/i.test(text)) {
      out.push({
        source: "response",
        fact: "The body is Apache's default 403 page: a Require/Deny rule, an Options/index setting or file permissions refused it.",
        weights: { "server-config": 1, "ip-restriction": 0.7, "fs-permission": 0.7 },
        data: { product: "apache" },
      });
    } else if (/403\.6\b|IP address (?:of the client )?(?:has been |was )?rejected|403\.503/i.test(text)) {
      out.push({
        source: "response",
        fact: 'The body is IIS\'s "IP address rejected" page (403.6/403.503).',
        weights: { "ip-restriction": 4 },
        data: { product: "iis" },
      });
    } else if (/403\.14\b|directory listing denied/i.test(text)) {
      out.push({
        source: "response",
        fact: "The body says directory listing is denied (IIS 403.14): no default document for this URL.",
        weights: { "server-config": 3 },
        data: { product: "iis" },
      });
    } else if (
      /\b(?:your|the client(?:'s)?) (?:ip|address)\b[^\n]{0,60}?(?:blocked|denied|not allowed|forbidden|rejected)|access denied from your (?:ip|location)|not available in your (?:country|region)/i.test(
        text,
      )
    ) {
      const m = /[^\n]{0,60}\b(?:ip|address|country|region|location)\b[^\n]{0,60}/i.exec(text);
      out.push({
        source: "response",
        fact: `The body speaks of the client's address or location: "${clip(redactText(m?.[0] ?? ""), 160)}".`,
        weights: { "ip-restriction": 2.5 },
      });
    }
  }
  return out;
}
