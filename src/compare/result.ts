// `why403.compare/v1`: one row per environment from its diagnosis, and the
// differences between them as sentences that say what differs and what it suggests.
import type { CauseId, Layer, Report, Trigger } from "../model.js";
import type { Environment } from "./environments.js";

export interface EnvironmentResult {
  base: string;
  /** The HTTP status of the replay; null when no usable answer came. */
  status: number | null;
  responder: { layer: Layer; product: string | null } | null;
  verdict: { cause: CauseId; confidence: number } | null;
  /** Requests sent there, the replay included. */
  probes: number;
  /** Extension: the part of the request the refusal depends on. */
  trigger: { location: string; name: string | null } | null;
  /** Extension: true when the replay was refused there. */
  refused: boolean;
  /** Extension: the verdict's one sentence. */
  summary: string | null;
  /** Extension: credentials held back from this environment. */
  withheld: string[];
  /** Extension: why no usable answer came (exit 4). */
  failure: { kind: string; message: string } | null;
}

export interface CompareResult {
  schema: "why403.compare/v1";
  request: { method: string; path: string };
  environments: EnvironmentResult[];
  differences: string[];
  /** Extension: facts about the comparison itself (credentials held back). */
  notes: string[];
}

/** One environment's outcome: its report, or why it gave no usable answer. */
export type EnvironmentRun =
  | { report: Report; refused: boolean }
  | { failure: { kind: string; message: string } };

export function environmentResult(env: Environment, run: EnvironmentRun): EnvironmentResult {
  const base = { base: env.base, withheld: env.withheld };
  const failure = "failure" in run ? run.failure : failureOf(run.report);
  if ("failure" in run || failure) {
    return {
      ...base,
      status: "report" in run ? run.report.baseline.status : null,
      responder: null,
      verdict: null,
      probes: "report" in run ? run.report.probes.length : 0,
      trigger: null,
      refused: false,
      summary: null,
      failure,
    };
  }
  const { report, refused } = run;
  const r = report.baseline.responder;
  return {
    ...base,
    status: report.baseline.status,
    responder: refused ? { layer: r.layer, product: r.product } : null,
    verdict: report.verdict ? { cause: report.verdict.cause, confidence: report.verdict.confidence } : null,
    probes: report.probes.length,
    trigger: triggerOf(report.trigger),
    refused,
    summary: report.verdict?.summary ?? null,
    failure: null,
  };
}

/** A report that says the server gave no usable answer (contract: `baseline.failure`). */
function failureOf(report: Report): { kind: string; message: string } | null {
  const f = (report.baseline as { failure?: { kind?: string; message?: string } | null }).failure;
  return f ? { kind: f.kind ?? "other", message: f.message ?? "no usable answer" } : null;
}

function triggerOf(t: Trigger | null): EnvironmentResult["trigger"] {
  return t ? { location: t.location, name: t.name } : null;
}

export function compareResult(
  request: { method: string; path: string },
  envs: EnvironmentResult[],
): CompareResult {
  const notes = envs
    .filter((e) => e.withheld.length)
    .map(
      (e) =>
        `${e.base} got the request without its credentials (${e.withheld.join(", ")}): they go only to the origin the request was aimed at; pass --carry-credentials to send them there too.`,
    );
  return { schema: "why403.compare/v1", request, environments: envs, differences: differences(envs), notes };
}

/** Contract exit: 4 when an environment gave no usable answer, 1 when outcomes differ, else 0. */
export function compareExitCode(result: CompareResult): 0 | 1 | 4 {
  if (result.environments.some((e) => e.failure)) return 4;
  return result.differences.length ? 1 : 0;
}

// ---- differences ----

function list(names: string[]): string {
  if (names.length <= 1) return names.join("");
  return `${names.slice(0, -1).join(", ")} and ${names[names.length - 1]}`;
}

function responderText(e: EnvironmentResult): string {
  if (!e.responder) return "nothing refused";
  const { layer, product } = e.responder;
  return product ? `${product} (${layer})` : `an unidentified ${layer}`;
}

function outcomeText(e: EnvironmentResult): string {
  if (e.failure) return `no usable answer (${e.failure.kind})`;
  if (!e.refused) return `not refused (${e.status})`;
  return `refused ${e.status}`;
}

/** Groups environments by a value; order of first appearance. */
function groups(envs: EnvironmentResult[], key: (e: EnvironmentResult) => string): Array<[string, string[]]> {
  const by = new Map<string, string[]>();
  for (const e of envs) by.set(key(e), [...(by.get(key(e)) ?? []), e.base]);
  return [...by.entries()];
}

/** "x at A; y at B and C", or, when one environment stands out, "only A: x; y everywhere else". */
function contrast(parts: Array<[string, string[]]>): string {
  const lone = parts.filter(([, names]) => names.length === 1);
  if (parts.length === 2 && lone.length >= 1) {
    const [odd, rest] = parts[0]![1].length === 1 ? [parts[0]!, parts[1]!] : [parts[1]!, parts[0]!];
    return `${odd[0]} at ${odd[1][0]}, ${rest[0]} everywhere else`;
  }
  return parts.map(([value, names]) => `${value} at ${list(names)}`).join("; ");
}

const WITHHELD_HINT =
  " (credentials were held back from some environments: a refusal there may only say they were missing; --carry-credentials sends them)";

function differences(envs: EnvironmentResult[]): string[] {
  const answered = envs.filter((e) => !e.failure);
  const out: string[] = [];
  const withheldHint = envs.some((e) => e.withheld.length) ? WITHHELD_HINT : "";
  const outcome = groups(envs, outcomeText);
  if (outcome.length > 1) {
    const refusedAt = answered.filter((e) => e.refused).map((e) => e.base);
    const passedAt = answered.filter((e) => !e.refused).map((e) => e.base);
    const suggestion =
      refusedAt.length && passedAt.length
        ? `: what refuses sits only in front of or around ${list(refusedAt)} (another WAF, gateway, server rule or configuration), or its data or identities differ`
        : "";
    out.push(`The outcome differs: ${contrast(outcome)}${suggestion}${withheldHint}.`);
  }
  const refused = answered.filter((e) => e.refused);
  if (refused.length === 0) return out;
  // Only an identified responder (a product, or at least its layer) can differ:
  // "unknown" on one side says nothing about the other.
  const named = refused.filter(
    (e) => e.responder?.product || (e.responder && e.responder.layer !== "unknown"),
  );
  const responders = groups(named, responderText);
  const somePassed = refused.length < answered.length;
  if (responders.length > 1 || (somePassed && responders.length === 1 && named.length === refused.length))
    out.push(responderSentence(named, answered, responders));
  const causes = groups(refused, (e) => e.verdict?.cause ?? "no cause pinned");
  if (causes.length > 1) out.push(causeSentence(refused, causes));
  const triggers = groups(refused, (e) =>
    e.trigger
      ? `the ${e.trigger.location}${e.trigger.name ? ` ${e.trigger.name}` : ""}`
      : "no single part of the request",
  );
  if (triggers.length > 1)
    out.push(
      `The trigger differs: ${contrast(triggers)}: the rules that refuse are not the same (other rule sets, versions or thresholds).`,
    );
  return out;
}

/** "Only X has a WAF in front: modsecurity answered there, express everywhere else." */
function responderSentence(
  refused: EnvironmentResult[],
  answered: EnvironmentResult[],
  responders: Array<[string, string[]]>,
): string {
  if (responders.length === 1) {
    // One responder refuses, the other environments let the request through.
    const [who, names] = responders[0]!;
    const layer = refused[0]!.responder!.layer;
    const others = answered.filter((e) => !e.refused).map((e) => e.base);
    const what =
      layer === "waf" || layer === "cdn"
        ? `has a ${layer === "waf" ? "WAF" : "CDN"} that refuses`
        : "refuses";
    // The cause, when all agree and the layer does not already say it (a WAF rule answered by the web server's page).
    const causes = new Set(refused.map((e) => e.verdict?.cause ?? null));
    const cause = causes.size === 1 ? [...causes][0] : null;
    const why = cause && !(cause === "waf" && layer === "waf") ? ` (${cause})` : "";
    return `Only ${list(names)} ${what}${why}: ${who} answered there, while ${list(others)} let the request through to the application.`;
  }
  const byLayer = groups(refused, (e) => e.responder!.layer);
  const waf = byLayer.filter(([layer]) => layer === "waf" || layer === "cdn");
  if (waf.length === 1 && waf[0]![1].length < refused.length) {
    const [layer, names] = waf[0]!;
    const there = refused.find((e) => e.base === names[0])!;
    const rest = refused.filter((e) => !names.includes(e.base)).map(responderText);
    return `Only ${list(names)} has a ${layer === "waf" ? "WAF" : "CDN"} in front: ${responderText(there)} answered there, ${list([...new Set(rest)])} everywhere else.`;
  }
  return `A different layer answers: ${contrast(responders)}: the environments do not have the same servers in front of the application.`;
}

/**
 * The cause differs. When the environments that got no credentials are exactly
 * those refused as credentials-invalid, that is what holding them back did, not
 * a difference between the environments.
 */
function causeSentence(refused: EnvironmentResult[], causes: Array<[string, string[]]>): string {
  const head = `The cause differs: ${contrast(causes)}`;
  const missing = refused.filter((e) => e.verdict?.cause === "credentials-invalid");
  if (
    missing.length &&
    missing.every((e) => e.withheld.length) &&
    refused.every((e) => !e.withheld.length || missing.includes(e))
  )
    return `${head}: the environments that got the request without its credentials refuse it for that; pass --carry-credentials to compare the same identity everywhere.`;
  const named = causes.map(([c]) => c).filter((c) => c !== "no cause pinned");
  return `${head}: the environments refuse for different reasons, so compare their ${named.join(" and ")} settings.`;
}
