// The investigation loop: replay once, stop if not refused, otherwise run the
// applicable experiment with the best information per request until one
// cause is clear, the budget is spent, or the server escalates.

import { randomBytes } from "node:crypto";
import { InputError } from "../errors.js";
import { contentEvidence } from "../evidence/content/index.js";
import { evidenceFromExchange } from "../evidence/exchange/index.js";
import { backendOf } from "../experiments/compare.js";
import { ALL_EXPERIMENTS } from "../experiments/index.js";
import { createHttpTransport } from "../http/client.js";
import { Pacer } from "../http/pacer.js";
import { newRunId } from "../http/request-id.js";
import { type Clock, systemClock } from "../http/types.js";
import { DEFAULT_MAX_PROBES, DEFAULT_MAX_UNSAFE, DEFAULT_RATE_PER_SECOND } from "../limits.js";
import { type CauseId, REFUSAL_STATUSES, type RequestModel } from "../model.js";
import { assembleFailureReport, assembleReport, decideLive } from "./assemble-report.js";
import { Prober } from "./prober.js";
import { replay } from "./replay.js";
import {
  BudgetSpent,
  EscalationStop,
  type Experiment,
  type Facts,
  type InvestigateOptions,
  type InvestigationState,
  type LiveReport,
  UnsafeProbeRefused,
} from "./types.js";

/** Confidence above which the leading cause counts as clear. */
export const CLEAR_CONFIDENCE = 0.85;

/** True when the replay was not refused: the CLI exits 3. */
export function isNotRefused(report: LiveReport): boolean {
  return report.notRefused === true;
}

function refreshCandidates(state: InvestigationState): void {
  state.candidates = decideLive(state).rawCandidates;
}

// A clear cause still gets the one experiment that turns it into an exact fix:
// which content for a firewall, where the token lives for CSRF, how long the
// window is for a rate limit.
const DETAIL_EXPERIMENTS: Partial<Record<CauseId, string[]>> = {
  waf: ["decoy", "content"],
  csrf: ["csrf"],
  "rate-limit": ["rate-limit"],
};

/** The next detail experiment of a clear cause, when one still has to run. */
function detailFor(state: InvestigationState, experiments: readonly Experiment[]): Experiment | null {
  const lead = state.candidates[0];
  if (!lead || lead.confidence < CLEAR_CONFIDENCE) return null;
  for (const id of DETAIL_EXPERIMENTS[lead.cause] ?? []) {
    const e = experiments.find((x) => x.id === id);
    if (e && !state.ran.has(id) && e.appliesTo(state)) return e;
  }
  return null;
}

function isClear(state: InvestigationState, experiments: readonly Experiment[]): boolean {
  const lead = state.candidates[0];
  if (lead !== undefined && lead.confidence >= CLEAR_CONFIDENCE && declaredBy(state, lead.cause)) return true;
  return lead !== undefined && lead.confidence >= CLEAR_CONFIDENCE && detailFor(state, experiments) === null;
}

/** The application stated this cause itself (a urn:why403:cause: problem type): no probe can add to it. */
function declaredBy(state: InvestigationState, cause: CauseId): boolean {
  return state.evidence.some((e) => e.data?.declaredCause === cause);
}

function pickNext(state: InvestigationState, experiments: readonly Experiment[]): Experiment | null {
  let best: Experiment | null = null;
  let bestScore = 0;
  for (const e of experiments) {
    if (state.ran.has(e.id) || !e.appliesTo(state)) continue;
    const score = e.priority(state) / Math.max(1, e.cost);
    if (score > bestScore) {
      best = e;
      bestScore = score;
    }
  }
  return best;
}

export async function investigate(
  request: RequestModel,
  options: InvestigateOptions = {},
): Promise<LiveReport> {
  return (await investigateWithFacts(request, options)).report;
}

/** The live report and the typed facts the experiments established (what `diagnose()` refines with). */
export interface Investigation {
  report: LiveReport;
  facts: Facts;
}

export async function investigateWithFacts(
  request: RequestModel,
  options: InvestigateOptions = {},
): Promise<Investigation> {
  const clock: Clock = options.clock ?? systemClock;
  const ownTransport = options.transport ? null : createHttpTransport();
  const transport = options.transport ?? ownTransport!;
  const allowSideEffects = options.allowSideEffects ?? false;
  const experiments = options.experiments ?? ALL_EXPERIMENTS;
  const runId = options.runId ?? newRunId();
  const maxProbes = options.maxProbes ?? DEFAULT_MAX_PROBES;
  if (!Number.isInteger(maxProbes) || maxProbes < 1)
    throw new InputError("--max-probes must be a whole number of at least 1");
  if (options.maxUnsafe !== undefined && (!Number.isInteger(options.maxUnsafe) || options.maxUnsafe < 0))
    throw new InputError("--max-unsafe must be a whole number of at least 0");
  const prober = new Prober({
    transport,
    clock,
    pacer: new Pacer(options.ratePerSecond ?? DEFAULT_RATE_PER_SECOND, clock),
    maxProbes,
    timeoutMs: options.timeoutMs ?? request.options.timeoutMs,
    requestIds: options.requestIds ?? true,
    runId,
    randomToken: options.randomToken ?? (() => randomBytes(6).toString("hex")),
    allowSideEffects,
    maxUnsafe: options.maxUnsafe ?? DEFAULT_MAX_UNSAFE,
  });
  try {
    const base = await replay(request, prober);
    if (!base.ok) {
      // A host name that does not resolve is the user's own input; anything else the server did.
      if (base.failure.kind === "dns") throw new InputError(base.failure.message);
      return { report: assembleFailureReport(request, prober, base.failure), facts: {} };
    }
    const { exchange, fingerprint: baseFp } = base;
    const state: InvestigationState = {
      runId,
      original: request,
      target: exchange.request,
      baseline: exchange.response,
      baselineFingerprint: baseFp,
      evidence: [],
      trigger: null,
      candidates: [],
      allowSideEffects,
      facts: {},
      client: options.client ?? null,
      unverified: [],
      withheld: [],
      ran: new Set(),
    };
    const firstBackend = backendOf(exchange.response);
    if (firstBackend) state.facts.backends = new Set([firstBackend]);
    if (base.withheldHop) {
      state.withheld.push(base.withheldHop);
      return { report: assembleReport(state, prober, { withheldHop: base.withheldHop }), facts: state.facts };
    }
    const refused = REFUSAL_STATUSES.has(exchange.response.status) || baseFp.blockPage || baseFp.challenge;
    if (!refused) {
      prober.records[prober.records.length - 1]!.finding += " — not refused";
      return { report: assembleReport(state, prober, { notRefused: true }), facts: state.facts };
    }
    state.evidence.push(
      ...baseFp.evidence,
      ...evidenceFromExchange(exchange, baseFp.responder),
      ...contentEvidence(exchange, baseFp.responder, { blockPage: baseFp.blockPage }),
    );
    state.evidence.push(...(options.extraEvidence ?? []));
    refreshCandidates(state);

    const ctx = prober.context(state);
    let stoppedBecause: string | undefined;
    for (;;) {
      if (isClear(state, experiments)) break;
      if (prober.remaining() <= 0) {
        stoppedBecause = `the probe budget (${maxProbes}) is spent`;
        break;
      }
      const next = detailFor(state, experiments) ?? pickNext(state, experiments);
      if (!next) break;
      state.ran.add(next.id);
      try {
        await next.run(ctx);
      } catch (error) {
        if (error instanceof BudgetSpent) {
          stoppedBecause = `the probe budget (${maxProbes}) is spent`;
          refreshCandidates(state);
          break;
        }
        if (error instanceof EscalationStop) {
          stoppedBecause = error.message;
          refreshCandidates(state);
          break;
        }
        if (!(error instanceof UnsafeProbeRefused)) throw error;
      }
      refreshCandidates(state);
      options.onProgress?.({
        experiment: next.id,
        probesSent: prober.sent,
        leading: state.candidates[0]?.cause ?? null,
      });
    }
    // Without request ids the logs are still matched by time, client and path.
    if (options.serverEvidence) {
      state.evidence.push(...(await options.serverEvidence([...prober.requestIds])));
    }
    return { report: assembleReport(state, prober, { stoppedBecause }), facts: state.facts };
  } finally {
    await ownTransport?.close?.();
  }
}
