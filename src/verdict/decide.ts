// Turns evidence into ranked causes, a verdict when one cause is clear, fix
// steps from the templates, and what to try next when the evidence is thin.

import { productName } from "../fingerprint/catalogue.js";
import {
  CAUSE_IDS,
  type CauseId,
  type CauseScore,
  type Evidence,
  type Responder,
  type Trigger,
  type Verdict,
} from "../model.js";
import { redactFragment, redactText, redactUrl } from "../redact.js";
import { calibrate } from "./calibration.js";
import { CAUSES, FIXES, type FixStep, fillTemplate, type Placeholder, placeholdersIn } from "./catalog.js";

export interface DecideInput {
  evidence: Evidence[];
  responder: Responder;
  status: number | null;
  trigger?: Trigger | null;
  mode: "recording" | "live";
  target: { method: string; url: string };
  /** The address the server sees the client as, when known (a live run on this machine, --client). */
  client?: string | null;
}

export interface Decision {
  verdict: Verdict | null;
  /** Ranked causes with calibrated confidences (what a user sees). */
  candidates: CauseScore[];
  /** The same ranking with the engine's raw confidences (what the probing loop steers by). */
  rawCandidates: CauseScore[];
  nextSteps: string[];
}

/** Logit of "none of these": a cause needs more than this much support to be likely. */
export const NONE_LOGIT = 2;
/** Below this confidence no verdict is given. */
export const VERDICT_THRESHOLD = 0.5;
/** Above this confidence the evidence is not "thin" and no next steps are suggested. */
const CONFIDENT = 0.8;

/** Sum of weights per cause. */
export function scoreCauses(evidence: Evidence[]): Map<CauseId, number> {
  const sums = new Map<CauseId, number>();
  for (const e of evidence) {
    for (const [cause, w] of Object.entries(e.weights) as Array<[CauseId, number]>) {
      if (!CAUSE_IDS.includes(cause) || !Number.isFinite(w)) continue;
      sums.set(cause, (sums.get(cause) ?? 0) + w);
    }
  }
  return sums;
}

/** Softmax over causes with positive support plus the "none of these" pseudo-cause. */
export function confidences(sums: Map<CauseId, number>): CauseScore[] {
  const positive = [...sums].filter(([, s]) => s > 0);
  if (positive.length === 0) return [];
  const max = Math.max(NONE_LOGIT, ...positive.map(([, s]) => s));
  const denom = Math.exp(NONE_LOGIT - max) + positive.reduce((acc, [, s]) => acc + Math.exp(s - max), 0);
  return positive
    .map(([cause, s]) => ({ cause, confidence: Math.round((Math.exp(s - max) / denom) * 1000) / 1000 }))
    .sort((a, b) => b.confidence - a.confidence || a.cause.localeCompare(b.cause));
}

const calibrated = (raw: number): number => Math.round(calibrate(raw) * 1000) / 1000;

/**
 * The map is fit on the leading cause (was it right?), so the leader is calibrated and
 * the others keep their proportions: scaled down with a leader the map lowers, squeezed
 * into what is left when it raises it. The order never changes; the sum stays at most 1.
 * `map` is the shipped map; the generated-space bench passes a freshly fitted one.
 */
export function calibratedRanking(
  candidates: CauseScore[],
  map: (raw: number) => number = calibrated,
): CauseScore[] {
  const [top, ...rest] = candidates;
  if (!top || top.confidence <= 0) return candidates;
  const lead = map(top.confidence);
  const room =
    lead <= top.confidence
      ? lead / top.confidence
      : 1 - top.confidence > 0
        ? Math.min(1, (1 - lead) / (1 - top.confidence))
        : 0;
  const round = (x: number) => Math.round(x * 1000) / 1000;
  return [
    { ...top, confidence: lead },
    ...rest.map((c) => ({ ...c, confidence: round(c.confidence * room) })),
  ];
}

function supporting(evidence: Evidence[], cause: CauseId): Evidence[] {
  return evidence
    .filter((e) => (e.weights[cause] ?? 0) > 0)
    .sort((a, b) => (b.weights[cause] ?? 0) - (a.weights[cause] ?? 0));
}

function str(v: unknown): string | undefined {
  if (typeof v === "string" && v.trim()) return v;
  if (typeof v === "number" && Number.isFinite(v)) return String(v);
  if (Array.isArray(v) && v.length) return v.map(String).join(", ");
  return undefined;
}

function modsecTarget(trigger: Trigger): string | undefined {
  if (!trigger.name) return undefined;
  switch (trigger.location) {
    case "body":
      return trigger.name.startsWith("$.") ? `ARGS:json.${trigger.name.slice(2)}` : `ARGS:${trigger.name}`;
    case "query":
      return `ARGS:${trigger.name}`;
    case "header":
      return `REQUEST_HEADERS:${trigger.name}`;
    case "cookie":
      return `REQUEST_COOKIES:${trigger.name}`;
    default:
      return undefined;
  }
}

function describeTrigger(trigger: Trigger): string {
  const where =
    trigger.location === "method"
      ? "the method"
      : `the ${trigger.location}${trigger.name ? ` field ${trigger.name}` : ""}`;
  const shown = redactFragment(trigger.location, trigger.name, trigger.minimal);
  const minimal = trigger.minimal ? ` ("${shown.slice(0, 80)}")` : "";
  return `${where}${minimal}`;
}

/** Placeholder values from the supporting evidence (strongest first), the trigger, the target and the responder. */
function placeholderValues(
  support: Evidence[],
  input: Pick<DecideInput, "trigger" | "target" | "responder" | "client">,
): Partial<Record<Placeholder, string>> {
  const values: Partial<Record<Placeholder, string>> = {};
  const ruleIds = new Set<string>();
  for (const e of support) {
    const d = e.data ?? {};
    for (const key of ["ruleId", "rule"]) {
      const v = str(d[key]);
      if (v) ruleIds.add(v);
    }
    if (Array.isArray(d.ruleIds)) for (const r of d.ruleIds) ruleIds.add(String(r));
    const pairs: Array<[Placeholder, unknown]> = [
      ["origin", d.origin],
      ["resetAt", d.resetAt],
      ["scope", d.scope],
      ["client", d.client],
      ["field", d.field],
      ["location", d.location],
      ["fsPath", d.fsPath ?? d.file],
      ["message", d.message],
      ["allow", d.allow],
      ["exp", d.expired ? d.exp : undefined],
      ["clockSkewSeconds", d.clockSkewSeconds],
      ["scheme", d.scheme],
      ["credentialSent", d.credentialSent],
      ["aud", d.aud],
      ["referer", d.referer],
      ["path", d.path],
      ["host", d.host],
    ];
    for (const [k, v] of pairs) {
      const s = str(v);
      if (s && values[k] === undefined && s !== "null")
        values[k] = redactText(k === "message" && s.length > 200 ? `${s.slice(0, 199)}…` : s);
    }
  }
  if (input.client) values.client ??= input.client;
  if (ruleIds.size) {
    values.ruleIds = [...ruleIds].join(", ");
    values.ruleId = [...ruleIds][0];
  }
  const { target, responder } = input;
  // Offline there is no proven trigger, but content evidence may name a suspect.
  const suspect = support.map((e) => e.data?.trigger).find((t) => t && typeof t === "object") as
    | Trigger
    | undefined;
  const trigger = input.trigger ?? suspect;
  if (trigger) {
    // The trigger names a token field only when it is not the Origin/Referer itself.
    if (!(trigger.location === "header" && /^(origin|referer)$/i.test(trigger.name ?? ""))) {
      values.field ??= trigger.name ?? undefined;
    }
    values.triggerDescription = describeTrigger(trigger);
    const t = modsecTarget(trigger);
    if (t) values.modsecTarget = t;
  }
  values.method = target.method.toUpperCase();
  if (!["GET", "HEAD", "OPTIONS"].includes(values.method)) values.unsafeMethod = values.method;
  // A saved response without its request has the placeholder URL "unknown:": no path to name.
  const known = /^https?:/i.test(target.url);
  if (known) {
    values.url = redactUrl(target.url);
    try {
      const u = new URL(target.url);
      values.path ??= u.pathname;
      values.host ??= u.host;
    } catch {
      // an odd URL: leave path/host as placeholders
    }
  } else {
    values.path ??= "the path";
    values.method = "the request";
    delete values.unsafeMethod;
  }
  const ray = responder.references?.find((r) => /ray|reference|incident|request.?id/i.test(r.label));
  if (ray) values.rayId = ray.value;
  return values;
}

function stepText(step: FixStep): { text: string; when?: Placeholder; unless?: Placeholder } {
  return typeof step === "string" ? { text: step } : step;
}

/** Products to look fix templates up for, most specific first. */
function productsFor(support: Evidence[], responder: Responder): string[] {
  const out: string[] = [];
  for (const e of support) {
    const p = e.data?.product;
    if (typeof p === "string") out.push(p);
  }
  if (responder.product) out.push(responder.product);
  for (const r of responder.relays ?? []) if (r.product) out.push(r.product);
  return [...new Set(out)];
}

function fixSteps(
  cause: CauseId,
  products: string[],
  values: Partial<Record<Placeholder, string>>,
): string[] {
  const entry = FIXES[cause];
  const product = products.find((p) => entry.products[p]);
  const steps = [...(product ? entry.products[product]! : []), ...entry.generic];
  const out: string[] = [];
  for (const step of steps) {
    const { text, when, unless } = stepText(step);
    if (when && !values[when]) continue;
    if (unless && values[unless]) continue;
    out.push(fillTemplate(text, values));
  }
  return [...new Set(out)];
}

function actPhrase(cause: CauseId, values: Partial<Record<Placeholder, string>>): string {
  const acts = CAUSES[cause].act;
  const full = acts.find((a) => placeholdersIn(a).every((p) => values[p] !== undefined));
  return fillTemplate(full ?? acts[acts.length - 1]!, values);
}

function summaryFor(
  cause: CauseId,
  input: DecideInput,
  values: Partial<Record<Placeholder, string>>,
): string {
  // Name a product only when the fingerprint identified it, not from a guess.
  const name = productName(input.responder.product ?? undefined);
  const actor = name ? name.replace(/^the /, "The ") : "The server";
  // A response saved without its request has the placeholder URL "unknown:".
  const what = /^https?:/i.test(input.target.url)
    ? `${input.target.method.toUpperCase()} ${values.path ?? redactUrl(input.target.url)}`
    : "the request";
  const by = input.trigger && cause === "waf" ? `, triggered by ${describeTrigger(input.trigger)}` : "";
  return `${actor} refused ${what} because ${CAUSES[cause].description}${by}: ${actPhrase(cause, values)}.`;
}

/** Products whose configuration why403 evaluates itself. */
const EVALUATED_CONFIGS = new Set(["nginx", "apache"]);

/** Which configuration to add or read, for the layer that refused. */
function configSteps(product: string | null): string[] {
  if (product && !EVALUATED_CONFIGS.has(product)) {
    return [
      `${productName(product)} wrote the refusal: the access rules in its own configuration decide (address lists, path or method rules); read the rule that matches this path there.`,
    ];
  }
  const steps: string[] = [];
  if (product !== "apache")
    steps.push("If nginx serves it, add its configuration: --nginx-conf /etc/nginx/nginx.conf.");
  if (product !== "nginx")
    steps.push("If Apache serves it, add its configuration: --apache-conf /etc/apache2/apache2.conf.");
  return steps;
}

/** A product page that leaves causes open says (as data) what would tell them apart. */
function separatingSteps(evidence: Evidence[], top: Set<CauseId>): string[] {
  const out: string[] = [];
  for (const e of evidence) {
    const steps = e.data?.separate;
    if (!Array.isArray(steps)) continue;
    const speaksFor = (Object.keys(e.weights) as CauseId[]).filter(
      (c) => (e.weights[c] ?? 0) > 0 && top.has(c),
    );
    if (speaksFor.length > 0) out.push(...steps.filter((s): s is string => typeof s === "string"));
  }
  return out;
}

function nextStepsFor(input: DecideInput, candidates: CauseScore[]): string[] {
  const steps: string[] = [];
  const url = redactUrl(input.target.url);
  const method = input.target.method.toUpperCase();
  const top = new Set(candidates.slice(0, 3).map((c) => c.cause));
  const product = input.responder.product;
  const serverSide =
    candidates.length === 0 ||
    top.has("server-config") ||
    top.has("fs-permission") ||
    top.has("ip-restriction");
  if (input.mode === "recording") {
    const line = /^https?:/i.test(input.target.url)
      ? `why403 curl -X ${method} '${url}' … (paste the browser's "Copy as cURL")`
      : `why403 curl <the request, as "Copy as cURL" gives it>`;
    steps.push(
      `Replay it live so why403 can probe (safe methods and decoy paths only, unless you allow side effects): ${line}, or why403 har <file.har> --live.`,
    );
  }
  // What tells the open causes apart comes before the generic requests for more evidence.
  steps.push(...separatingSteps(input.evidence, top));
  if (serverSide || top.has("waf")) {
    steps.push(
      "Add the server's logs for the time of the request: --server-logs <error.log> <access.log> (ModSecurity's audit log too, if there is one).",
    );
  }
  if (serverSide) steps.push(...configSteps(product));
  if (top.has("ip-restriction") && top.has("server-config")) {
    steps.push(
      "An address rule and a blanket rule refuse alike from outside: the same request sent from a network the operator trusts (inside the VPN, from the server itself) passes only under an address rule; the server's config names which it is.",
    );
  }
  if (input.mode === "live" && (top.has("csrf") || top.has("credentials-invalid"))) {
    steps.push(
      "Allow probes that could execute the request (--allow-side-effects) so why403 can confirm the fix, on a test account or against a staging server.",
    );
  }
  return steps;
}

/** When the proven trigger is the Origin or Referer, the steps about origins come first. */
function steerByTrigger(steps: string[], trigger: Trigger | null | undefined): string[] {
  if (trigger?.location !== "header" || !/^(origin|referer)$/i.test(trigger.name ?? "")) return steps;
  const about = (t: string) => /\borigin|\breferer/i.test(t);
  return [...steps.filter(about), ...steps.filter((t) => !about(t))];
}

/** Most confidence a cause keeps over its twin while evidence says the two cannot be told apart. */
const AMBIGUOUS_CAP = 0.6;

/**
 * Evidence that names two causes it cannot tell apart (an access-rule log line: an
 * address rule or a blanket deny) keeps the better-supported one from looking certain:
 * its excess confidence goes to its twin, until other evidence (a config) settles it.
 */
function capAmbiguous(candidates: CauseScore[], evidence: Evidence[]): CauseScore[] {
  const pairs = evidence
    .map((e) => e.data?.ambiguousBetween)
    .filter((p): p is [CauseId, CauseId] => Array.isArray(p) && p.length === 2);
  if (pairs.length === 0) return candidates;
  const out = candidates.map((c) => ({ ...c }));
  for (const [a, b] of pairs) {
    const top = out[0];
    if (!top || (top.cause !== a && top.cause !== b)) continue;
    const twinCause = top.cause === a ? b : a;
    let twin = out.find((c) => c.cause === twinCause);
    if (!twin) {
      twin = { cause: twinCause, confidence: 0 };
      out.push(twin);
    }
    if (top.confidence > AMBIGUOUS_CAP) {
      twin.confidence += top.confidence - AMBIGUOUS_CAP;
      top.confidence = AMBIGUOUS_CAP;
    }
  }
  return out
    .sort((x, y) => y.confidence - x.confidence)
    .map((c) => ({ ...c, confidence: Math.round(c.confidence * 1000) / 1000 }));
}

export function decide(input: DecideInput): Decision {
  const sums = scoreCauses(input.evidence);
  const candidates = capAmbiguous(confidences(sums), input.evidence);
  const best = candidates[0];
  let verdict: Verdict | null = null;
  // The verdict threshold applies to the calibrated confidence: a cause right less than
  // half the time at this level of support is shown as a candidate, not as the answer.
  if (best && calibrated(best.confidence) >= VERDICT_THRESHOLD) {
    const support = supporting(input.evidence, best.cause);
    const values = placeholderValues(support, input);
    verdict = {
      cause: best.cause,
      confidence: calibrated(best.confidence),
      summary: summaryFor(best.cause, input, values),
      // Each fact carries its source (probe number, log line, config file:line) in front.
      evidence: [...new Set(support.map((e) => `[${e.source}] ${redactText(e.fact)}`))],
      fix: steerByTrigger(fixSteps(best.cause, productsFor(support, input.responder), values), input.trigger),
    };
  }
  const thin = !verdict || verdict.confidence < CONFIDENT;
  const shown = calibratedRanking(candidates);
  return {
    verdict,
    candidates: shown,
    rawCandidates: candidates,
    nextSteps: thin ? nextStepsFor(input, candidates) : [],
  };
}
