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

/** What observing the run's decoy with safe methods showed (src/investigate/inert.ts proves it). */
export type DecoyInertness =
  | {
      inert: true;
      /** The decoy URL to use: with the request's query when that shape was shown inert too. */
      url: string;
      withQuery: boolean;
      because: string;
    }
  | { inert: false; url: string; because: string };

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
  /**
   * content: the request's safe projection (its headers and query as a bodiless GET on a
   * decoy path) and whether it is refused like the request; set when the request itself
   * could not be searched (no decoy shown inert, no consent).
   */
  projection?: { url: string; reproduces: boolean | null };
  /** method: answers of safe methods on the original URL. */
  safeMethods?: Partial<Record<"GET" | "HEAD" | "OPTIONS", { status: number | null; sameRefusal: boolean }>>;
  /** content: null when unresolved. */
  contentFollows?: boolean | null;
  /** content: probes of the content search sent to the decoy path (host-wide, no route of the app). */
  contentSearchOnDecoy?: number;
  /** canary: an attack string on a decoy path is refused like the request (null: no conclusion). */
  contentFilter?: boolean | null;
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
  /**
   * The decoy URL the inertness observations use (the same one all run, keeping the
   * query unless told not to): a bodiless GET sent there is reused as an observation.
   */
  inertDecoyUrl(keepQuery?: boolean): string;
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

/** The summed weight the evidence so far gives a cause. */
export function weightFor(evidence: Evidence[], cause: CauseId): number {
  return scoreCauses(evidence).get(cause) ?? 0;
}
