// Assembles the live report: baseline, the verdict from all evidence, the
// trigger, every probe sent (replay first), and the side-effect count.

import { headerValue } from "../headers.js";
import type { Trigger } from "../model.js";
import { redactSecret, redactText, redactUrl } from "../redact.js";
import { decide } from "../verdict/decide.js";
import type { Prober } from "./prober.js";
import type { InvestigationState, LiveReport } from "./types.js";

const SECRET_NAME = /token|secret|passw|session|sid$|auth|csrf|xsrf|key|jwt|signature|cookie/i;

/** A trigger safe to print: secret-named cookies and headers are fingerprinted, text is scrubbed. */
export function redactTrigger(t: Trigger): Trigger {
  const value = (location: string, name: string | null, v: string) =>
    (location === "cookie" || location === "header") && name && SECRET_NAME.test(name)
      ? redactSecret(v)
      : redactText(v);
  const out: Trigger = { location: t.location, name: t.name, minimal: value(t.location, t.name, t.minimal) };
  if (t.parts) out.parts = t.parts.map((p) => ({ ...p, value: value(p.location, p.name, p.value) }));
  if (t.family) out.family = t.family;
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
  });
}

export function assembleReport(
  state: InvestigationState,
  prober: Prober,
  extra: { notRefused?: boolean; stoppedBecause?: string | undefined },
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
    sideEffects: { unsafeProbes: prober.unsafeProbes },
  };
  if (extra.notRefused) {
    report.notRefused = true;
    report.nextSteps = [
      `The replay got ${state.baseline.status}, which is not a refusal: the request works as sent now.`,
    ];
    return report;
  }
  const d = decideLive(state);
  report.verdict = d.verdict;
  report.candidates = d.candidates;
  const steps = [...state.unverified.map((u) => `Likely fix, not verified: ${u}`), ...d.nextSteps];
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
