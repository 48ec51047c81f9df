// Offline evidence from the request's own content: a value that looks like an
// attack pattern makes a firewall refusal likely, and names where it sits.
import { headerValue } from "../../headers.js";
import type { Evidence, Exchange, Responder, TriggerLocation } from "../../model.js";
import { matchFamily } from "./families.js";
import {
  addressMentionEvidence,
  anonymousEvidence,
  directoryEvidence,
  forwardProxyEvidence,
} from "./identity.js";

interface Part {
  location: TriggerLocation;
  name: string | null;
  value: string;
}

const MAX_PARTS = 5_000;

function jsonLeaves(value: unknown, path: string, out: Part[], depth = 0): void {
  if (out.length >= MAX_PARTS || depth > 200) return;
  if (typeof value === "string") out.push({ location: "body", name: path, value });
  else if (Array.isArray(value)) {
    for (const [i, v] of value.entries()) jsonLeaves(v, `${path}[${i}]`, out, depth + 1);
  } else if (value && typeof value === "object") {
    for (const [k, v] of Object.entries(value)) {
      jsonLeaves(
        v,
        /^[A-Za-z_$][\w$]*$/.test(k) ? `${path}.${k}` : `${path}[${JSON.stringify(k)}]`,
        out,
        depth + 1,
      );
    }
  }
}

function safeDecode(s: string): string {
  try {
    return decodeURIComponent(s.replace(/\+/g, " "));
  } catch {
    return s;
  }
}

/** Splits a request into named parts: query params, body fields, cookies, a few headers. */
export function requestParts(ex: Exchange): Part[] {
  const req = ex.request;
  const parts: Part[] = [];
  try {
    const u = new URL(req.url);
    for (const [k, v] of u.searchParams) parts.push({ location: "query", name: k, value: v });
  } catch {
    /* an unknown URL has no query */
  }
  for (const [n, v] of req.headers) {
    const lower = n.toLowerCase();
    if (lower === "cookie") {
      for (const c of v.split(";")) {
        const i = c.indexOf("=");
        if (i > 0)
          parts.push({
            location: "cookie",
            name: c.slice(0, i).trim(),
            value: safeDecode(c.slice(i + 1).trim()),
          });
      }
    } else if (lower === "user-agent" || lower === "referer" || lower.startsWith("x-")) {
      parts.push({ location: "header", name: n, value: v });
    }
  }
  const body = req.body?.toString("utf8") ?? "";
  if (body) {
    const ct = (headerValue(req.headers, "content-type") ?? "").toLowerCase();
    const trimmed = body.trimStart();
    if (ct.includes("json") || trimmed.startsWith("{") || trimmed.startsWith("[")) {
      try {
        jsonLeaves(JSON.parse(body), "$", parts);
      } catch {
        parts.push({ location: "body", name: null, value: body });
      }
    } else if (ct.includes("x-www-form-urlencoded") || (/^[\w.%[\]-]+=/.test(body) && !body.includes("\n"))) {
      for (const pair of body.split("&")) {
        const i = pair.indexOf("=");
        const k = safeDecode(i === -1 ? pair : pair.slice(0, i));
        parts.push({ location: "body", name: k, value: i === -1 ? "" : safeDecode(pair.slice(i + 1)) });
      }
    } else {
      parts.push({ location: "body", name: null, value: body });
    }
  }
  return parts.slice(0, MAX_PARTS);
}

/** Evidence from the request's content and identity: attack-looking values (weights rise
 * when the answer is a bare server page), an anonymous request, an address named in the refusal.
 * Attack-looking content: weights rise when the answer is a bare server page (no app). */
export function contentEvidence(
  ex: Exchange,
  responder?: Responder,
  opts: { blockPage?: boolean } = {},
): Evidence[] {
  const out: Evidence[] = [];
  // A server's own error page (no application page) is what an embedded WAF such as
  // ModSecurity answers with, so attack-like content weighs more there.
  const bareServerPage =
    !responder ||
    responder.layer === "web-server" ||
    responder.layer === "unknown" ||
    responder.layer === "waf";
  const weight = bareServerPage ? 4 : 2;
  for (const part of requestParts(ex)) {
    const m = matchFamily(part.value);
    if (!m) continue;
    const where = `${part.location}${part.name ? ` ${part.name}` : ""}`;
    const fragment = m.fragment.length > 60 ? `${m.fragment.slice(0, 57)}…` : m.fragment;
    out.push({
      source: "request",
      fact: `The request's ${where} contains ${JSON.stringify(fragment)}, a ${m.family} pattern that firewall rule sets such as the OWASP CRS refuse.`,
      weights: { waf: out.length === 0 ? weight : 0.5 },
      data: { trigger: { location: part.location, name: part.name, minimal: m.fragment, family: m.family } },
    });
    if (out.length >= 3) break;
  }
  return [
    ...out,
    ...anonymousEvidence(ex),
    ...addressMentionEvidence(ex),
    ...directoryEvidence(ex, responder?.layer),
    ...forwardProxyEvidence(ex, responder?.layer, opts.blockPage === true),
  ];
}
