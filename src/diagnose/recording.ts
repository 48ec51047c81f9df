// Offline diagnosis: one recorded exchange (HAR entry or saved response) in, a
// report out, without sending anything.
import { InputError } from "../errors.js";
import { contentEvidence } from "../evidence/content/index.js";
import { evidenceFromExchange } from "../evidence/exchange/index.js";
import { fingerprint } from "../fingerprint/match.js";
import type { Evidence, Exchange, Report } from "../model.js";
import { REFUSAL_STATUSES } from "../model.js";
import { redactUrl } from "../redact.js";
import { decide } from "../verdict/decide.js";
import type { DiagnoseOptions } from "./options.js";
import { dropAnsweredSteps, givenInputs, refineWithServerEvidence } from "./refine.js";
import { configEvidence, reconcileWithConfig, splitAccessRuleReadings } from "./server-evidence.js";

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
    ...evidenceFromExchange(ex, fp.responder, new Date(), { blockPage: fp.blockPage }),
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

/**
 * A recorded exchange with the server-side evidence the options name (configs,
 * the file-system walk, the server's logs since the recording), nothing sent.
 */
export async function diagnoseRecorded(exchange: Exchange, options: DiagnoseOptions): Promise<Report> {
  // Browsers record a request that got no answer (CORS block, abort, network error) as status 0 or -1.
  if (exchange.response.status <= 0) {
    throw new InputError(
      `the recorded request got no response (status ${exchange.response.status}): the browser blocked, aborted or could not send it; a CORS failure shows this way, so diagnose its OPTIONS preflight entry (--list), or replay it with --live`,
    );
  }
  const headers: Record<string, string> = {};
  for (const [n, v] of exchange.request.headers) headers[n.toLowerCase()] = v;
  const extra = await configEvidence(options, {
    method: exchange.request.method,
    url: exchange.request.url,
    headers,
  });
  const logs = options.serverLogs ?? [];
  if (logs.length) {
    const { evidenceFromLogs } = await import("../evidence/logs/index.js");
    const path = pathOf(exchange.request.url);
    const { evidence } = await evidenceFromLogs(logs, {
      since: exchange.startedAt,
      paths: path ? [path] : undefined,
    });
    extra.push(...reconcileWithConfig(splitAccessRuleReadings(evidence), extra));
  }
  const { report } = diagnoseRecording(exchange, extra);
  refineWithServerEvidence(report, extra);
  dropAnsweredSteps(report, givenInputs(options));
  return report;
}

function pathOf(url: string): string | null {
  try {
    return new URL(url).pathname;
  } catch {
    return null;
  }
}
