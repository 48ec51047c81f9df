// The investigation's shapes: its options, the state experiments read, the
// context they probe through, and the signals that end a run early.

import type { Clock, NetworkFailure, Transport } from "../http/types.js";
import type {
  CauseId,
  CauseScore,
  Evidence,
  ProbeRecord,
  Report,
  RequestModel,
  ResponseModel,
  Trigger,
} from "../model.js";
import type { FingerprintResult } from "./deps.js";
import type { DecoyInertness } from "./inert.js";

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

export type ProbeSafety = "safe-method" | "decoy" | "may-execute";

export interface ProbeOutcome {
  n: number;
  response: ResponseModel | null;
  failure: NetworkFailure | null;
  fingerprint: FingerprintResult | null;
  /** The record in the report; experiments set `finding`. */
  record: ProbeRecord;
  /** The answer repeats the baseline refusal (same status and responder). */
  sameRefusal: boolean;
  /** 429 / 5xx / network failure: no conclusion either way. */
  inconclusive: boolean;
}

/** What experiments learned that other experiments build on. */
export interface Facts {
  /** layer-map: the host's ordinary 404 and whether the refusal looks like it. */
  missingPath?: { status: number | null; sameLayer: boolean | null };
  /** decoy: the original request on a decoy path (`sent: false` when it was withheld as may-execute). */
  decoy?: { url: string; reproduces: boolean; status: number | null; sent?: boolean };
  /** method: answers of safe methods on the original URL. */
  safeMethods?: Partial<Record<"GET" | "HEAD" | "OPTIONS", { status: number | null; sameRefusal: boolean }>>;
  /** content: null when unresolved. */
  contentFollows?: boolean | null;
  /** Backend identifiers seen in answers (Server, Via, X-Served-By ...). */
  backends?: Set<string>;
}

export interface InvestigationState {
  runId: string;
  /** The request as the user gave it. */
  original: RequestModel;
  /** The request that was refused: the last hop of the replay. */
  target: RequestModel;
  baseline: ResponseModel;
  baselineFingerprint: FingerprintResult;
  evidence: Evidence[];
  trigger: Trigger | null;
  candidates: CauseScore[];
  allowSideEffects: boolean;
  facts: Facts;
  /** The address the server sees this run come from, when known. */
  client: string | null;
  /** Findings that could not be verified without side effects, each for the cause it would fix. */
  unverified: UnverifiedFix[];
  /** Probes withheld because they could execute (what a trigger search would need instead). */
  withheld: string[];
  ran: Set<string>;
}

/** A fix an experiment could not try without side effects, and the cause it belongs to. */
export interface UnverifiedFix {
  text: string;
  cause: CauseId;
}

export interface ProbeContext {
  readonly state: InvestigationState;
  readonly allowSideEffects: boolean;
  /** Sends one probe: enforces budget, safety, pacing, counting; records it. */
  /** `expectVariance`: the caller compares repeated answers itself (no intermittency stop). */
  probe(
    req: RequestModel,
    purpose: string,
    safety: ProbeSafety,
    opts?: { expectVariance?: boolean },
  ): Promise<ProbeOutcome>;
  addEvidence(e: Evidence): void;
  setTrigger(t: Trigger): void;
  /** "likely fix, not verified": shown only when `cause` is the verdict or one of its candidates. */
  noteUnverified(text: string, cause: CauseId): void;
  /** A probe not sent because the application could execute it, and what would allow it. */
  noteWithheld(text: string): void;
  /**
   * Observes this run's decoy with safe methods (see inert.ts) and says whether a
   * non-safe request in the target's shape may go there; the answer is cached
   * per run and a decoy shown inert is what lets the prober class such a probe
   * as "decoy" instead of "may-execute".
   */
  inertDecoy(): Promise<DecoyInertness>;
  /** Probes left in the budget. */
  remaining(): number;
  /** May-execute probes still allowed: 0 without consent, what --max-unsafe leaves with it. */
  unsafeRemaining(): number;
  /** A fresh decoy URL on the target's host, keeping the query. */
  decoyUrl(keepQuery?: boolean): string;
  /** A URL for a path that surely does not exist on the host (outside the decoy prefix). */
  missingUrl(): string;
  clock: Clock;
}

export interface Experiment {
  id: string;
  safety: ProbeSafety;
  /** Requests it sends at most (content: what it may use of the budget). */
  cost: number;
  appliesTo(state: InvestigationState): boolean;
  /** Expected information, for ordering: higher runs first per unit of cost. */
  priority(state: InvestigationState): number;
  run(ctx: ProbeContext): Promise<void>;
}

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
