// The investigation's shapes: its options, its report, and the signals that end
// a run early. The experiment contract (state, context, facts) lives with the
// experiments (src/experiments/contract.ts) and is re-exported here.

import type { Experiment } from "../experiments/contract.js";
import type { Clock, Transport } from "../http/types.js";
import type { CauseId, Evidence, Report } from "../model.js";

export interface InvestigateOptions {
  /** Upper bound on requests sent, the replay (and its redirect hops) included. Default 30. */
  maxProbes?: number;
  /** Permit may-execute probes (the original method on the original path). Default false. */
  allowSideEffects?: boolean;
  /** With allowSideEffects: most may-execute probes sent (DEFAULT_MAX_UNSAFE). */
  maxUnsafe?: number;
  /** Per-request timeout, ms. */
  timeoutMs?: number;
  /** Pacing, requests per second. */
  ratePerSecond?: number;
  /** Send X-Request-Id: why403-<runId>-<n> with every request. Default true. */
  requestIds?: boolean;
  /** The sender; the real network when absent. */
  transport?: Transport;
  clock?: Clock;
  onProgress?: (p: { experiment: string; probesSent: number; leading: CauseId | null }) => void;
  /** Server-side evidence (logs, configs) the caller already has. */
  extraEvidence?: Evidence[];
  /** Called after probing with the request ids sent; returns evidence from the server's logs. */
  serverEvidence?: (requestIds: string[]) => Promise<Evidence[]>;
  /** Fixed run id (tests); random when absent. */
  runId?: string;
  /** Random token source for decoy paths (tests); random when absent. */
  randomToken?: () => string;
  /** The address the server sees this run come from, when known (fills fix snippets). */
  client?: string | null;
  /** The experiments to choose from; every experiment of src/experiments/ when absent. */
  experiments?: readonly Experiment[];
}

/**
 * The live report. `notRefused: true` means the replay was not refused (the
 * CLI exits 3); `stoppedBecause` says why probing ended early, when it did.
 */
export interface LiveReport extends Report {
  mode: "live";
  notRefused?: boolean;
  stoppedBecause?: string;
}

export type {
  DecoyInertness,
  Experiment,
  Facts,
  InvestigationState,
  ProbeContext,
  ProbeOutcome,
  ProbeSafety,
  UnverifiedFix,
} from "../experiments/contract.js";

/** The probe budget is spent. */
export class BudgetSpent extends Error {
  override name = "BudgetSpent";
}

/** The server escalated (ban, challenge, long rate limit): stop probing. */
export class EscalationStop extends Error {
  override name = "EscalationStop";
}

/** An experiment asked for a may-execute probe without --allow-side-effects (a bug in the experiment). */
export class UnsafeProbeRefused extends Error {
  override name = "UnsafeProbeRefused";
}

/** --max-unsafe is reached: no further may-execute probe, the run ends. */
export class UnsafeBudgetSpent extends EscalationStop {
  override name = "UnsafeBudgetSpent";
}

/** One request other than the replay that application code could have executed. */
export interface UnsafeProbe {
  n: number;
  method: string;
  url: string;
  why: string;
}
