// Assembles the live report: baseline, the verdict from all evidence, the
// trigger, every probe sent (replay first), and the side-effect count.

import { headerValue } from "../headers.js";
import type { NetworkFailure } from "../http/types.js";
import type { BaselineFailure, CauseScore, RequestModel, Trigger } from "../model.js";
import { redactFragment, redactText, redactUrl } from "../redact.js";
import { decide } from "../verdict/decide.js";
import type { Prober } from "./prober.js";
import type { InvestigationState, LiveReport } from "./types.js";

/** A trigger safe to print: each fragment as redactFragment shows it (the part's name decides). */
export function redactTrigger(t: Trigger): Trigger {
  const value = (location: string, name: string | null, v: string) => redactFragment(location, name, v);
  const out: Trigger = { location: t.location, name: t.name, minimal: value(t.location, t.name, t.minimal) };
  if (t.parts) out.parts = t.parts.map((p) => ({ ...p, value: value(p.location, p.name, p.value) }));
  if (t.family) out.family = t.family;
  if (t.decoded !== undefined) out.decoded = value(t.location, t.name, t.decoded);
  if (t.sent !== undefined) out.sent = value(t.location, t.name, t.sent);
  return out;
}

/** The verdict over everything the investigation has gathered so far. */
export function decideLive(state: InvestigationState): ReturnType<typeof decide> {
  return decide({
    evidence: state.evidence,
    responder: state.baselineFingerprint.responder,
    status: state.baseline.status,
    trigger: state.trigger,
    mode: "live",
    target: { method: state.original.method, url: state.original.url },
    client: state.client,
  });
}

export function assembleReport(
  state: InvestigationState,
  prober: Prober,
  extra: { notRefused?: boolean; stoppedBecause?: string | undefined; withheldHop?: string },
): LiveReport {
  const target = { method: state.original.method, url: redactUrl(state.original.url) };
  inferApplicationLayer(state);
  const report: LiveReport = {
    schema: "why403.report/v1",
    mode: "live",
    target,
    baseline: { status: state.baseline.status, responder: state.baselineFingerprint.responder },
    verdict: null,
    candidates: [],
    trigger: state.trigger ? redactTrigger(state.trigger) : null,
    probes: prober.records,
    sideEffects: { unsafeProbes: prober.unsafeProbes, unsafe: [...prober.unsafe] },
  };
  if (state.withheld.length > 0) report.sideEffects.withheld = state.withheld.map(redactText);
  if (extra.notRefused) {
    report.notRefused = true;
    report.nextSteps = [
      `The replay got ${state.baseline.status}, which is not a refusal: the request works as sent now.`,
    ];
    return report;
  }
  if (extra.withheldHop) {
    // The answer is a redirect the replay did not follow: nothing to decide from yet.
    report.stoppedBecause = "the replay stopped before a redirect hop that could execute the request again";
    report.nextSteps = [redactText(extra.withheldHop)];
    return report;
  }
  const d = decideLive(state);
  report.verdict = d.verdict;
  report.candidates = d.candidates;
  const steps = [
    ...unverifiedFor(state, d.rawCandidates).map((u) => `Likely fix, not verified: ${u}`),
    ...state.withheld,
    ...d.nextSteps,
  ];
  if (extra.stoppedBecause) {
    report.stoppedBecause = extra.stoppedBecause;
    steps.push(`Probing stopped early: ${extra.stoppedBecause}.`);
  }
  if (steps.length > 0) report.nextSteps = steps.map(redactText);
  return report;
}

/**
 * An unrecognised refusal in the same style as the host's ordinary answers to a missing
 * path (layer map), with the decoy not refused, was written by the application itself.
 */
function inferApplicationLayer(state: InvestigationState): void {
  const r = state.baselineFingerprint.responder;
  if (r.layer !== "unknown" || r.product || state.facts.missingPath?.sameLayer !== true) return;
  const type = headerValue(state.baseline.headers, "content-type") ?? "";
  if (!/json|xml|text\/plain/i.test(type)) return;
  state.baselineFingerprint.responder = {
    ...r,
    layer: "application",
    evidence: [
      "inferred: the refusal has the same style as the host's answer to a missing path, so the application behind the host wrote it",
      ...r.evidence,
    ],
  };
}

/** The contract's name for a transport failure kind. */
function reportedKind(kind: NetworkFailure["kind"]): BaselineFailure["kind"] {
  return kind === "refused" ? "refused-connection" : kind;
}

/**
 * The report when the server gave no usable answer to the replay (or one of its
 * redirect hops): no verdict, the failure named, every request sent listed. Exit 4.
 */
export function assembleFailureReport(
  request: RequestModel,
  prober: Prober,
  failure: NetworkFailure,
): LiveReport {
  return {
    schema: "why403.report/v1",
    mode: "live",
    target: { method: request.method, url: redactUrl(request.url) },
    baseline: {
      status: null,
      responder: { layer: "unknown", product: null, evidence: [] },
      failure: { kind: reportedKind(failure.kind), message: redactText(failure.message) },
    },
    verdict: null,
    candidates: [],
    trigger: null,
    probes: prober.records,
    sideEffects: { unsafeProbes: prober.unsafeProbes, unsafe: [...prober.unsafe] },
    nextSteps: [
      redactText(
        `No usable answer from the server (${failure.message}), so nothing could be diagnosed. Check that the server answers this request at all (curl -v), then run why403 again.`,
      ),
    ],
  };
}

/** Candidates weaker than this do not bring their untried fixes into the report. */
const UNVERIFIED_MIN_CONFIDENCE = 0.15;

/**
 * The untried fixes that belong to the verdict or to a candidate still in the running:
 * a fix for a cause the evidence has set aside (waiting out a rate limit after an
 * address rule refused) would send the user the wrong way.
 */
function unverifiedFor(state: InvestigationState, candidates: CauseScore[]): string[] {
  const live = new Set(
    candidates.filter((c) => c.confidence >= UNVERIFIED_MIN_CONFIDENCE).map((c) => c.cause),
  );
  return state.unverified.filter((u) => live.has(u.cause)).map((u) => u.text);
}
