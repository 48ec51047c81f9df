// content: does the refusal follow the request's content, and which part?
// On the decoy (once it reproduces the refusal) this is safe; on the original
// path it is only safe for a safe method, otherwise may-execute. First the
// request stripped of body, query, cookies and optional headers; then a
// hierarchical delta-debugging search for the smallest part that still
// triggers (every fragment, when a summed anomaly score needs several).
//
// A request the application could act on is first sent as its safe projection
// (the decoy experiment): the same headers (Content-Type included) and query as
// a bodiless GET on a decoy path, safe on any path, so this holds on a site
// whose every path reaches an app. Refused like the request, the trigger is
// among those parts, host-wide, and the search runs on the projection.
// Passing, the trigger is in the body, the method or the path (the path
// experiment moves the path); with no decoy shown inert and no consent the
// body stays unsearched, and for a bodiless request the method is the one
// difference left, checked on the original URL with the same headers.

import { type MinimalPart, minimizeRequest } from "../delta/minimize.js";
import { requestTree } from "../delta/request-tree.js";
import { CREDENTIAL_TRIGGER_WEIGHTS, credentialShape } from "../evidence/content/credential-value.js";
import { guessFamily, matchFamily } from "../evidence/content/families.js";
import { couldExecute, methodOverrideOf } from "../http/method-override.js";
import { isSafeMethod } from "../http/types.js";
import { type CauseId, type Evidence, REFUSAL_STATUSES, type RequestModel, type Trigger } from "../model.js";
import { redactFragment, redactText } from "../redact.js";
import { asSafe, BROWSER_USER_AGENT, hasHeader, onUrl, safeProjection, setHeader } from "./_requests.js";
import { contentFilterCanary } from "./canary.js";
import type { Experiment, InvestigationState, ProbeContext, ProbeSafety } from "./contract.js";
import { weightFor } from "./contract.js";

interface Base {
  req: RequestModel;
  safety: ProbeSafety;
  where: string;
}

function baseFor(state: InvestigationState): Base | null {
  if (state.facts.decoy?.reproduces)
    return { req: onUrl(state.target, state.facts.decoy.url), safety: "decoy", where: "on the decoy path" };
  if (!couldExecute(state.target))
    return { req: state.target, safety: "safe-method", where: "on the original URL" };
  // Safe even with consent: the projection alone carries the trigger.
  if (state.facts.projection?.reproduces)
    return {
      req: safeProjection(state.target, state.facts.projection.url),
      safety: "decoy",
      where: "as a bodiless GET on a decoy path (your headers and query)",
    };
  if (state.allowSideEffects)
    return { req: state.target, safety: "may-execute", where: "on the original path (side effects allowed)" };
  return null;
}

/** Nothing to search on, but the projection passed: what is left is the body, the method or the path. */
function projectionPassed(state: InvestigationState): boolean {
  return state.facts.projection?.reproduces === false && !state.allowSideEffects;
}

/**
 * The projection passes. A bodiless request without an override field then differs
 * from the same headers as a GET on its own URL by the method alone: when that GET
 * passes, the rule refuses the method. Otherwise (a body) the search stays withheld,
 * and the canary at least says whether a content filter gives this refusal.
 */
async function beyondProjection(ctx: ProbeContext): Promise<void> {
  const { state } = ctx;
  const target = state.target;
  const bodiless = !target.body || target.body.length === 0;
  if (!bodiless || methodOverrideOf(target) !== null) {
    if (ctx.remaining() > 0) await contentFilterCanary(ctx);
    return;
  }
  const known = state.facts.safeMethods?.GET;
  let passes: boolean;
  let n: number | null = null;
  if (known && !hasHeader(target, "content-type")) {
    passes = !known.sameRefusal && known.status !== null && !REFUSAL_STATUSES.has(known.status);
  } else {
    if (ctx.remaining() <= 0) return;
    const out = await ctx.probe(
      safeProjection(target),
      `GET instead of ${target.method}, every header kept, on the original URL`,
      "safe-method",
    );
    n = out.n;
    passes = !out.sameRefusal && !out.inconclusive && out.response !== null;
    out.record.finding = passes
      ? `${out.response?.status}: GET passes where ${target.method} is refused`
      : out.sameRefusal
        ? "refused the same way"
        : "no conclusion";
  }
  if (!passes) return;
  ctx.setTrigger({ location: "method", name: null, minimal: target.method });
  const filter = await contentFilterCanary(ctx);
  ctx.addEvidence({
    source: n === null ? "method and content probes" : `probe #${n}`,
    fact: `Your ${target.method} has no body, and a GET with the same headers passes on the same URL (and, with your query, on a path no application serves): the rule refuses the ${target.method} method itself${filter ? ", answered like the content filter's refusal (method enforcement in a WAF)" : ""}.`,
    weights:
      filter === true
        ? { waf: 3, "server-config": -0.5, "ip-restriction": -2, "bot-protection": -1, csrf: -1.5 }
        : { "server-config": 2.5, "ip-restriction": -2, csrf: -1.5 },
    data: { trigger: { location: "method", minimal: target.method } },
  });
}

/** Trigger families that name a kind of value, not an attack pattern. */
const VALUE_CLASSES = new Set(["scripted-client user agent", "user agent rule", "non-browser user agent"]);

/**
 * The value is an absolute http(s) URL of a site other than the target's: "origin" when it
 * is a bare origin (scheme, host and port only), "page" when it names a page there.
 */
function foreignSite(value: string, target: string): "origin" | "page" | null {
  if (!/^https?:\/\/[^\s/]+/i.test(value.trim())) return null;
  try {
    const u = new URL(value.trim());
    if (u.origin === new URL(target).origin) return null;
    return /^https?:\/\/[^/?#]+\/?$/i.test(value.trim()) ? "origin" : "page";
  } catch {
    return null;
  }
}

/** What the trigger part says about the cause: content rules, or a credential, origin or agent check. */
function causeWeights(
  parts: MinimalPart[],
  family: string | undefined,
  state: InvestigationState,
): Partial<Record<CauseId, number>> {
  const only = parts.length === 1 ? parts[0]! : null;
  // Only an attack pattern in the value is evidence of a content rule; a value class such
  // as "a scripted client's User-Agent" is not (an nginx `if` refuses it as well).
  const attack = family !== undefined && !VALUE_CLASSES.has(family);
  // The trigger follows the request to a path no application serves, and the host
  // refuses a textbook attack string with this very answer: the rule that matched is
  // the content filter's, whatever the part is called or how harmless it looks.
  const hostWide = state.facts.decoy?.reproduces === true || state.facts.projection?.reproduces === true;
  if (hostWide && state.facts.contentFilter === true) {
    return {
      "server-config": -2,
      "fs-permission": -3,
      "ip-restriction": -2,
      waf: 4.5,
      "app-logic": -1,
      csrf: -1,
      "credentials-invalid": -1,
    };
  }
  // Without this one header or cookie the request passes, and its value is a credential by
  // its shape (a JWT, `scheme token68`, a random secret): the credential itself is refused.
  // Whatever the part is called: applications name credentials freely.
  if (only && !attack && !only.nameMatched && (only.location === "header" || only.location === "cookie")) {
    if (credentialShape(only.original) !== null) return { ...CREDENTIAL_TRIGGER_WEIGHTS };
  }
  // Without this one header the request passes, and its value is the address of another
  // site (an origin, or a page URL): the rule compares where the request came from — a CSRF
  // or origin check on a state-changing method, hotlink protection on a GET. A value that
  // carries an attack pattern (a NUL byte, a script) is a content rule's match instead.
  const foreign =
    only && !attack && only.location === "header" ? foreignSite(only.original, state.target.url) : null;
  if (foreign) {
    if (["GET", "HEAD"].includes(state.original.method.toUpperCase())) {
      return { "server-config": 3.5, csrf: -2, cors: -1, waf: -1, "ip-restriction": -1 };
    }
    // A bare origin (no path) is what browsers send for CORS requests.
    return { csrf: 2, cors: foreign === "origin" ? 1.5 : 0, waf: -1 };
  }
  // A refusal that follows a part of the request is not a plain path, address or
  // file-permission rule: those refuse whatever the content.
  const notPlain = { "server-config": -2, "fs-permission": -3, "ip-restriction": -2 };
  // The canary passed: no content filter answers with this refusal, so a harmless
  // part refused host-wide is a server rule keyed on it (nginx `if ($http_x_debug)`).
  if (!attack && state.facts.contentFilter === false) {
    return { "server-config": 3.5, waf: -0.5, "fs-permission": -3, "app-logic": -1, csrf: -1 };
  }
  const front = hostWide ? 1 : 0;
  // A harmless-looking value (no attack family) that the web server's own page refuses
  // is a server rule keyed on it (nginx `if ($http_x_debug)`, a RewriteCond), not a WAF.
  const layer = state.baselineFingerprint.responder.layer;
  if (!attack && (layer === "web-server" || layer === "proxy") && !front) {
    return { "server-config": 3.5, waf: 0.5, "fs-permission": -3, "app-logic": -1, csrf: -1 };
  }
  return { ...notPlain, waf: 3.5 + front, "app-logic": -1, csrf: -1 };
}

/** What matched: the name when the rule matched the name, else the shortest value text. */
function fragmentOf(p: MinimalPart): string {
  return p.nameMatched && p.name ? p.name : p.value;
}

/** The form a decoded query or form text travels in, to tell whether it was sent encoded. */
function encodedForm(text: string): string {
  return encodeURIComponent(text).replace(/%20/g, "+");
}

function describePart(p: MinimalPart): string {
  if (p.nameMatched)
    return `the name of ${p.location} ${p.location === "body" ? "field " : ""}${p.name} (with any value)`;
  const where =
    p.location === "body"
      ? p.name
        ? `body field ${p.name}`
        : "the body"
      : `${p.location} ${p.name ?? ""}`.trim();
  return p.value === ""
    ? `${where} (its presence)`
    : `${where} = "${redactFragment(p.location, p.name, p.value).slice(0, 120)}"`;
}

async function agentVariant(ctx: ProbeContext, base: Base): Promise<void> {
  const ua = base.req.headers.find(([n]) => n.toLowerCase() === "user-agent")?.[1] ?? null;
  if (ua && /mozilla\/5\.0/i.test(ua)) return;
  const req = {
    ...base.req,
    headers: setHeader(
      setHeader(base.req.headers, "User-Agent", BROWSER_USER_AGENT),
      "Accept",
      "text/html,application/xhtml+xml,application/json;q=0.9,*/*;q=0.8",
    ),
  };
  const out = await ctx.probe(req, `your request with a browser User-Agent ${base.where}`, base.safety);
  if (out.sameRefusal || out.inconclusive || !out.response) {
    out.record.finding = out.sameRefusal
      ? "still refused: the User-Agent is not what is refused"
      : "no conclusion";
    return;
  }
  out.record.finding = `${out.response.status}: a browser User-Agent passes`;
  const family = ua ? guessFamily(ua, "header", "User-Agent") : undefined;
  ctx.setTrigger({
    location: "header",
    name: "User-Agent",
    minimal: ua ?? "",
    family: family ?? "non-browser user agent",
  });
  ctx.addEvidence({
    source: `probe #${out.n}`,
    fact: ua
      ? `With a browser User-Agent instead of "${redactText(ua).slice(0, 80)}" the request passes: the refusal keys on the User-Agent.`
      : "With a browser User-Agent added the request passes: the refusal keys on the missing User-Agent.",
    // Weighed as a trigger the content search found in that header: by its value and the
    // probes (decoy, canary), never by the header's name.
    weights: causeWeights(
      [{ location: "header", name: "User-Agent", value: ua ?? "", original: ua ?? "" }],
      family,
      ctx.state,
    ),
  });
}

/**
 * Stripped of its content the request is still refused on the decoy path: is it the
 * method? The same stripped request with GET (safe, on the decoy) passing says the
 * rule refuses the method itself, wherever it is sent.
 */
async function methodVariant(ctx: ProbeContext, base: Base): Promise<void> {
  const method = base.req.method.toUpperCase();
  if (base.safety !== "decoy" || isSafeMethod(method)) return;
  const out = await ctx.probe(asSafe(base.req, "GET"), `GET instead of ${method} ${base.where}`, "decoy");
  if (out.sameRefusal || out.inconclusive || !out.response) {
    out.record.finding = out.sameRefusal ? "still refused: not the method" : "no conclusion";
    return;
  }
  out.record.finding = `${out.response.status}: GET passes where ${method} is refused`;
  ctx.setTrigger({ location: "method", name: null, minimal: base.req.method });
  const filter = await contentFilterCanary(ctx);
  ctx.addEvidence({
    source: `probe #${out.n}`,
    fact: `On a path no application serves, the request stripped of its content is refused with ${method} and passes with GET: the rule refuses the method itself, host-wide${filter ? ", answered like the content filter's refusal (method enforcement in a WAF)" : ""}.`,
    weights:
      filter === true
        ? { waf: 3.5, "server-config": -1, "ip-restriction": -2, "bot-protection": -1, csrf: -1.5 }
        : { "server-config": 2.5, "ip-restriction": -2, csrf: -1.5 },
    data: { trigger: { location: "method", minimal: base.req.method } },
  });
}

export const content: Experiment = {
  id: "content",
  safety: "decoy",
  cost: 10,
  appliesTo(state) {
    // A trigger already found in the path or the method: nothing left to search.
    if (state.trigger !== null) return false;
    if (!baseFor(state) && !projectionPassed(state)) return false;
    const t = state.target;
    // A bodiless request of another method has the method itself to check.
    const methodOnly = couldExecute(t) && (!t.body || t.body.length === 0);
    return methodOnly || requestTree(t).root.children.length > 0;
  },
  priority(state) {
    const waf = weightFor(state.evidence, "waf");
    const hostWide = state.facts.decoy?.reproduces || state.facts.projection?.reproduces;
    return (hostWide ? 30 : 10) + Math.max(0, waf) * 10;
  },
  async run(ctx) {
    const { state } = ctx;
    const base = baseFor(state);
    if (!base) {
      await beyondProjection(ctx);
      return;
    }
    // With consent, steps the application could execute (the real path, a decoy not shown
    // inert) stay within --max-unsafe, so the search ends with its best answer instead of
    // being cut off by the side-effect budget.
    const mayExecute =
      base.safety === "may-execute" ||
      (base.safety === "decoy" && couldExecute(base.req) && !(await ctx.inertDecoy()).inert);
    const steps = Math.max(0, Math.min(ctx.remaining() - 1, mayExecute ? ctx.unsafeRemaining() : Infinity));
    let k = 0;
    const result = await minimizeRequest(
      base.req,
      async (candidate) => {
        k++;
        const out = await ctx.probe(candidate, `content search ${base.where} (step ${k})`, base.safety);
        if (out.record.safety === "decoy")
          state.facts.contentSearchOnDecoy = (state.facts.contentSearchOnDecoy ?? 0) + 1;
        if (out.sameRefusal) {
          out.record.finding = "still refused";
          return "fail";
        }
        out.record.finding = out.inconclusive ? "no conclusion" : `${out.response!.status}: passes`;
        return out.inconclusive ? "unresolved" : "pass";
      },
      { maxTests: steps, seed: (value) => matchFamily(value)?.fragment ?? null },
    );
    state.facts.contentFollows = result.followsContent;
    if (result.followsContent === false) {
      ctx.addEvidence({
        source: "content search",
        fact: `Stripped of its body, query string, cookies and optional headers, the request is still refused ${base.where}: the refusal does not follow the request's content.`,
        weights: { waf: -2, "ip-restriction": 1, "bot-protection": 0.5, "credentials-invalid": -0.5 },
      });
      if (ctx.remaining() > 0) await agentVariant(ctx, base);
      if (state.trigger === null && ctx.remaining() > 0) await methodVariant(ctx, base);
      return;
    }
    if (result.followsContent !== true || result.parts.length === 0) return;
    const family = guessFamily(
      result.parts.map((p) => p.value).join(" "),
      result.parts[0]!.location,
      result.parts[0]!.name,
    );
    const first = result.parts[0]!;
    const trigger: Trigger = { location: first.location, name: first.name, minimal: fragmentOf(first) };
    if (first.location === "query" || (first.location === "body" && result.bodyFormat === "form")) {
      const sent = encodedForm(trigger.minimal);
      if (sent !== trigger.minimal) trigger.sent = sent;
    }
    if (result.parts.length > 1) {
      trigger.parts = result.parts.map((p) => ({ location: p.location, name: p.name, value: fragmentOf(p) }));
    }
    if (family) trigger.family = family;
    ctx.setTrigger(trigger);
    // A part without an attack pattern of its own (a value class such as a scripted
    // client's User-Agent is none): does a content filter give this refusal?
    if (family === undefined || VALUE_CLASSES.has(family)) await contentFilterCanary(ctx);
    const several = result.parts.length > 1;
    const evidence: Evidence = {
      source: "content search",
      fact: several
        ? `The refusal needs ${result.parts.length} parts together — ${result.parts.map(describePart).join("; ")} — without any one of them the request passes ${base.where}; that is how anomaly-scoring firewalls (OWASP CRS) add up rule scores.`
        : `The smallest part of the request that still triggers the refusal ${base.where} is ${describePart(first)}; without it the request passes${family ? ` (it looks like ${family})` : ""}.`,
      weights: causeWeights(result.parts, family, state),
      data: {
        trigger,
        probes: result.tests,
        exhausted: result.exhausted,
        ...(first.location === "header" && /^referer$/i.test(first.name ?? "")
          ? { referer: first.original }
          : {}),
      },
    };
    if (result.exhausted)
      evidence.fact +=
        " (The probe budget ran out before the search finished, so the part may be larger than needed.)";
    ctx.addEvidence(evidence);
  },
};
