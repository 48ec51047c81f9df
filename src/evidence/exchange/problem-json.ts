// JSON error bodies: RFC 9457 problem details and the usual ad-hoc shapes
// ({error, message, code, detail, errors[]}, Google's {error:{status,errors[]}}).
// Words in the message lend modest weight to causes; the message is the fact.
import { CAUSE_IDS, type CauseId, type Evidence, type Exchange } from "../../model.js";
import { redactText } from "../../redact.js";
import { bodyText, clip, contentType } from "./_http.js";

interface Rule {
  cause: CauseId;
  pattern: RegExp;
  weight: number;
}

// Order matters only for readability; every matching rule adds its weight once.
const RULES: Rule[] = [
  {
    cause: "cors",
    pattern: /origin (?:is )?not allowed|\bcors\b|cross-origin|not allowed by access-control/i,
    weight: 2.5,
  },
  { cause: "csrf", pattern: /\bcsrf\b|\bxsrf\b|antiforgery|authenticity token/i, weight: 3 },
  {
    cause: "credentials-invalid",
    pattern:
      /\bexpired\b|invalid[_ -]?(?:token|credentials?|api[_ -]?key|signature|grant|client)|\bsignature\b|unauthenticated|not authenticated|authentication (?:required|failed)|bad credentials|(?:token|key|credential)s? (?:is |was |has been )?(?:invalid|revoked|malformed|missing)|jwt|login required|requires authentication/i,
    weight: 2,
  },
  {
    // An answer that names the API key as missing or wrong says exactly what failed.
    cause: "credentials-invalid",
    pattern:
      /(?:missing|no|invalid|unknown|expired|revoked|wrong|bad)\s+(?:an?\s+)?api[_ -]?key|api[_ -]?key (?:is |was )?(?:missing|invalid|required|expired|revoked|not (?:found|valid|provided|recognized|recognised))|no api key found/i,
    weight: 4,
  },
  {
    cause: "insufficient-permission",
    pattern:
      /\bscopes?\b|permission|(?<!origin |method |origin is |method is )not allowed|\broles?\b|insufficient(?! funds)|access denied for user|not authorized to|unauthorized to|privilege|not permitted|forbidden for user|resource not accessible by/i,
    weight: 2,
  },
  {
    cause: "rate-limit",
    pattern: /\brate[ _-]?limit|\bquota\b|too many|throttl|resource_exhausted|ratelimitexceeded|slow down/i,
    weight: 2.5,
  },
  {
    cause: "ip-restriction",
    pattern:
      /\bcountry\b|\bregion\b|geo-?(?:block|restrict|location)|not available in your|\bip address|\byour ip\b|client ip|\bip (?:is |was )?(?:not allowed|blocked|denied|not whitelisted|not allowlisted|not in)/i,
    weight: 2.5,
  },
  { cause: "ip-restriction", pattern: /\bip\b|client address|remote address/i, weight: 1 },
  {
    cause: "app-logic",
    pattern:
      /limit reached for (?:your |the )?plan|plan limit|upgrade your (?:plan|subscription)|account (?:is |has been )?(?:suspended|disabled|locked|deactivated|closed)|cannot \w[\w ]{0,40} while|insufficient (?:funds|balance|credit)|\balready\b|not in a valid state|is archived|read[- ]only|is locked|trial (?:has )?ended|payment required|\bverified account|\bnot (?:yet )?verified\b|not eligible|\bexceeds?\b[\w ]{0,30}\b(?:limit|maximum|balance)|\b(?:transfer|order|withdrawal|spending|daily) limit/i,
    weight: 3,
  },
  {
    cause: "waf",
    pattern: /request (?:was )?blocked|security polic|firewall|malicious|\bwaf\b/i,
    weight: 1.5,
  },
  {
    cause: "bot-protection",
    pattern: /captcha|\bbots?\b|automated (?:traffic|requests|access)/i,
    weight: 1.5,
  },
  { cause: "server-config", pattern: /method not allowed|directory listing|not configured/i, weight: 1 },
];

// Machine-readable codes carry more weight than prose.
const CODES: Array<{ pattern: RegExp; cause: CauseId; weight: number }> = [
  {
    pattern:
      /^(?:invalid_token|token_expired|expired_token|unauthenticated|invalid_api_key|invalid_grant|invalid_client|bad_credentials|not_authed|invalid_auth|token_revoked)$/i,
    cause: "credentials-invalid",
    weight: 3,
  },
  {
    pattern:
      /^(?:insufficient_scope|permission_denied|forbidden_scope|missing_scope|access_denied|not_allowed|insufficient_permissions?)$/i,
    cause: "insufficient-permission",
    weight: 3,
  },
  {
    pattern:
      /^(?:rate_?limit(?:ed|_exceeded)?|ratelimitexceeded|userratelimitexceeded|resource_exhausted|too_many_requests|quota_exceeded)$/i,
    cause: "rate-limit",
    weight: 3,
  },
  {
    pattern: /^(?:ebadcsrftoken|csrf_failed|csrf_token_mismatch|invalid_csrf_token)$/i,
    cause: "csrf",
    weight: 3,
  },
];

const GENERIC =
  /^(?:forbidden|access denied|unauthori[sz]ed|not allowed|error|request failed)[.!]?$|^(?:you don't have permission|you do not have permission)/i;

interface Extracted {
  messages: string[];
  codes: string[];
  type?: string;
  isProblem: boolean;
}

const MESSAGE_KEYS = [
  "title",
  "detail",
  "message",
  "error_description",
  "description",
  "reason",
  "msg",
  "error",
  "errorMessage",
  "statusText",
];
const CODE_KEYS = ["code", "error", "error_code", "errorCode", "status", "reason", "type"];

function extract(value: unknown, out: Extracted, depth: number): void {
  if (depth > 4 || !value || typeof value !== "object") return;
  if (Array.isArray(value)) {
    for (const v of value.slice(0, 10)) {
      if (typeof v === "string") out.messages.push(v);
      else extract(v, out, depth + 1);
    }
    return;
  }
  const obj = value as Record<string, unknown>;
  for (const k of MESSAGE_KEYS) {
    const v = obj[k];
    if (typeof v === "string" && v.trim()) {
      if (/\s/.test(v.trim()) || k !== "error") out.messages.push(v);
    }
  }
  for (const k of CODE_KEYS) {
    const v = obj[k];
    if (typeof v === "string" && /^[A-Za-z][A-Za-z0-9_.-]{2,60}$/.test(v)) out.codes.push(v);
  }
  for (const k of ["error", "errors", "details", "violations", "cause"]) {
    const v = obj[k];
    if (v && typeof v === "object") extract(v, out, depth + 1);
  }
}

export function parseErrorBody(ex: Exchange): Extracted | null {
  const ct = contentType(ex.response);
  const text = bodyText(ex.response).slice(0, 200_000).trim();
  if (!text) return null;
  // A short plain-text answer is a message too ("Missing API key", "Forbidden: …").
  if (ct.startsWith("text/plain") && text.length <= 300 && !text.startsWith("{")) {
    return { messages: [text], codes: [], isProblem: false };
  }
  if (!(ct.includes("json") || text.startsWith("{"))) return null;
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    return null;
  }
  if (!parsed || typeof parsed !== "object") return null;
  const out: Extracted = { messages: [], codes: [], isProblem: ct.includes("problem+json") };
  const obj = parsed as Record<string, unknown>;
  if (typeof obj.type === "string" && obj.type !== "about:blank") out.type = obj.type;
  extract(parsed, out, 0);
  out.messages = [...new Set(out.messages.map((m) => m.trim()))];
  out.codes = [...new Set(out.codes)];
  return out;
}

/** Problem type of a refusal the application explains itself (why403/express|fastify|hono). */
const DECLARED_TYPE = /^urn:why403:cause:([a-z-]+)$/;
/** The application's own word on its refusal outweighs every inference (~6 is decisive). */
const DECLARED_WEIGHT = 10;

/**
 * A problem+json answer typed urn:why403:cause:<cause> is the application's own
 * statement of why it refused: one decisive fact, nothing inferred from its words.
 */
function declaredEvidence(ex: Exchange, body: Extracted): Evidence | null {
  const cause = DECLARED_TYPE.exec(body.type ?? "")?.[1];
  if (!body.isProblem || !cause || !(CAUSE_IDS as readonly string[]).includes(cause)) return null;
  const doc = parseObject(bodyText(ex.response));
  const reason = typeof doc.reason === "string" ? clip(redactText(doc.reason), 80) : null;
  const detail = typeof doc.detail === "string" ? clip(redactText(doc.detail), 240) : null;
  const requestId = typeof doc.requestId === "string" ? clip(doc.requestId, 128) : null;
  return {
    source: "response",
    fact: `The application explains its refusal (problem type urn:why403:cause:${cause}${reason ? `, reason "${reason}"` : ""})${detail ? `: "${detail}"` : ""}.`,
    weights: { [cause]: DECLARED_WEIGHT },
    data: { declaredCause: cause, reason, detail, requestId, type: body.type },
  };
}

function parseObject(text: string): Record<string, unknown> {
  try {
    const v: unknown = JSON.parse(text);
    return v !== null && typeof v === "object" ? (v as Record<string, unknown>) : {};
  } catch {
    return {};
  }
}

export function problemJsonEvidence(ex: Exchange): Evidence[] {
  const body = parseErrorBody(ex);
  const declared = body ? declaredEvidence(ex, body) : null;
  if (declared) return [declared];
  if (!body || (body.messages.length === 0 && body.codes.length === 0)) return [];
  const weights: Partial<Record<CauseId, number>> = {};
  const add = (cause: CauseId, w: number) => {
    weights[cause] = Math.max(weights[cause] ?? 0, w);
  };
  const words = [...body.messages, ...body.codes.map((c) => c.replace(/[_.-]/g, " ")), body.type ?? ""].join(
    " \n ",
  );
  for (const rule of RULES) if (rule.pattern.test(words)) add(rule.cause, rule.weight);
  for (const code of body.codes) for (const c of CODES) if (c.pattern.test(code)) add(c.cause, c.weight);
  // A specific message that names no access-control reason is, as a rule, the
  // application's own business rule; generic words ("Forbidden") say nothing.
  const specific = body.messages.some((m) => m.split(/\s+/).length >= 3 && !GENERIC.test(m.trim()));
  if (Object.keys(weights).length === 0 && specific) add("app-logic", 3);
  // "CSRF token expired" speaks for csrf, not for an expired login.
  if (weights.csrf && weights["credentials-invalid"]) delete weights["credentials-invalid"];
  const message = clip(redactText(body.messages.join(" — ")), 240);
  const codes = body.codes.length ? ` (code ${redactText(body.codes.slice(0, 3).join(", "))})` : "";
  const kind = body.isProblem
    ? "problem+json body"
    : contentType(ex.response).startsWith("text/plain")
      ? "plain-text answer"
      : "JSON error body";
  return [
    {
      source: "response",
      fact: message
        ? `The ${kind} says: "${message}"${codes}.`
        : `The ${kind} carries${codes.replace(/^ \(|\)$/g, " ")}.`,
      weights,
      data: { message, codes: body.codes.slice(0, 5), type: body.type },
    },
  ];
}
