// Offline diagnosis: one recorded exchange (HAR entry or saved response) in, a
// report out, without sending anything.
import { contentEvidence } from "../evidence/content/index.js";
import { evidenceFromExchange } from "../evidence/exchange/index.js";
import { fingerprint } from "../fingerprint/match.js";
import type { Evidence, Exchange, Report } from "../model.js";
import { REFUSAL_STATUSES } from "../model.js";
import { redactUrl } from "../redact.js";
import { decide } from "../verdict/decide.js";

export interface RecordingDiagnosis {
  report: Report;
  /** False when the recorded answer was not a refusal (contract exit 3). */
  refused: boolean;
  /** Every fact the verdict weighed (callers that summarise a verdict read its data). */
  evidence: Evidence[];
}

export function diagnoseRecording(ex: Exchange, extraEvidence: Evidence[] = []): RecordingDiagnosis {
  const fp = fingerprint(ex.response, ex.request);
  const refused = REFUSAL_STATUSES.has(ex.response.status) || fp.blockPage || fp.challenge;
  const evidence = [
    ...fp.evidence,
    ...evidenceFromExchange(ex, fp.responder),
    ...contentEvidence(ex, fp.responder, { blockPage: fp.blockPage }),
    ...extraEvidence,
  ];
  const target = { method: ex.request.method, url: redactUrl(ex.request.url) };
  const decision = decide({
    evidence,
    responder: fp.responder,
    status: ex.response.status,
    trigger: null,
    mode: "recording",
    target,
  });
  const report: Report = {
    schema: "why403.report/v1",
    target,
    baseline: { status: ex.response.status, responder: fp.responder },
    verdict: decision.verdict,
    candidates: decision.candidates,
    trigger: null,
    probes: [],
    sideEffects: { unsafeProbes: 0 },
    nextSteps: decision.nextSteps,
    mode: "recording",
  };
  if (!refused) {
    report.notRefused = true;
    report.nextSteps = [
      `The recorded answer is ${ex.response.status}, not a refusal: pick the refused response (for a HAR, --entry N or --match TEXT).`,
    ];
  }
  return { report, refused, evidence };
}

/** Contract exit status for a finished diagnosis (4: the server gave no usable answer). */
export function exitCodeFor(report: Report, refused: boolean): 0 | 1 | 3 | 4 {
  if (report.baseline.failure) return 4;
  if (!refused) return 3;
  return report.verdict ? 0 : 1;
}
