// The contract between the investigation loop and its experiments: the state
// an experiment reads, the context it probes through, the facts it leaves for
// the others, and the shape of an experiment. The loop (src/investigate/) is
// given a list of these; an experiment never reaches back into the loop.

import type { FingerprintResult } from "../fingerprint/match.js";
import type { Clock, NetworkFailure } from "../http/types.js";
import type {
  CauseId,
  CauseScore,
  Evidence,
  ProbeRecord,
  RequestModel,
  ResponseModel,
  Trigger,
} from "../model.js";
import { scoreCauses } from "../verdict/decide.js";

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
  /** decoy: the original request on a decoy path. */
  decoy?: { url: string; reproduces: boolean; status: number | null };
  /** method: answers of safe methods on the original URL. */
  safeMethods?: Partial<Record<"GET" | "HEAD" | "OPTIONS", { status: number | null; sameRefusal: boolean }>>;
  /** content: null when unresolved. */
  contentFollows?: boolean | null;
  /** content: probes of the content search sent to the decoy path (host-wide, no route of the app). */
  contentSearchOnDecoy?: number;
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
  /** Findings that could not be verified without side effects. */
  unverified: string[];
  ran: Set<string>;
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
  /** "likely fix, not verified" */
  noteUnverified(text: string): void;
  /** Probes left in the budget. */
  remaining(): number;
  /** A fresh decoy URL on the target's host, keeping the query. */
  decoyUrl(keepQuery?: boolean): string;
  /** A URL for a path that surely does not exist on the host. */
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

/** The summed weight the evidence so far gives a cause. */
export function weightFor(evidence: Evidence[], cause: CauseId): number {
  return scoreCauses(evidence).get(cause) ?? 0;
}
