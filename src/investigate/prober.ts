// The single door every probe goes through: budget, safety, host, pacing,
// request ids, recording, and the escalation checks that end a run.

import { backendOf, inconclusive, sameRefusal } from "../experiments/compare.js";
import { fingerprint } from "../fingerprint/match.js";
import { type Pacer, retryAfterMs } from "../http/pacer.js";
import { requestIdFor, withRequestId } from "../http/request-id.js";
import type { Clock, Transport } from "../http/types.js";
import { sameOrigin } from "../http/urls.js";
import type { CauseId, Evidence, ProbeRecord, RequestModel, Trigger } from "../model.js";
import { redactUrl } from "../redact.js";
import { coveredByInertShape, type DecoyInertness, type InertShape, proveDecoyInert } from "./inert.js";
import { classifyProbe, decoyUrl, missingUrl } from "./paths.js";
import {
  BudgetSpent,
  EscalationStop,
  type InvestigationState,
  type ProbeContext,
  type ProbeOutcome,
  type ProbeSafety,
  UnsafeBudgetSpent,
  type UnsafeProbe,
  UnsafeProbeRefused,
} from "./types.js";

export interface ProberOptions {
  transport: Transport;
  clock: Clock;
  pacer: Pacer;
  maxProbes: number;
  timeoutMs?: number;
  requestIds: boolean;
  runId: string;
  randomToken: () => string;
  allowSideEffects: boolean;
  /** Most may-execute probes with allowSideEffects. */
  maxUnsafe: number;
}

const SAFETY_RANK: Record<ProbeSafety, number> = { "safe-method": 0, decoy: 0, "may-execute": 1 };

/** What makes two requests the same; `negotiation` leaves out Accept* (they only pick a format). */
function requestKey(req: RequestModel, negotiation = false): string {
  const headers = req.headers
    .filter(([n]) => !negotiation || !/^accept/i.test(n))
    .map(([n, v]) => `${n.toLowerCase()}:${v}`);
  return `${req.method} ${req.url}\n${headers.join("\n")}\n${req.body?.toString("base64") ?? ""}`;
}

export class Prober {
  readonly records: ProbeRecord[] = [];
  readonly requestIds: string[] = [];
  /** Requests other than the replay that application code could have executed. */
  readonly unsafe: UnsafeProbe[] = [];
  /** Decoy shapes shown inert by safe observation; only these carry non-safe requests as "decoy". */
  private readonly inertShapes: InertShape[] = [];
  private inertness: Promise<DecoyInertness> | null = null;
  /** Answers received so far (any status), for the escalation check. */
  private answers = 0;
  /** Origins a probe may go to: the target's, plus ones the caller allows (the form page's). */
  private readonly origins = new Set<string>();
  state: InvestigationState | null = null;
  /** Outcome per identical request, to notice answers that flip. */
  private readonly outcomes = new Map<string, { refused: boolean; status: number }>();
  /** The decoy token the inertness observations use (one per run). */
  private inertToken: string | null = null;
  /**
   * Bodiless GETs already answered on the inertness decoy: an experiment's GET there
   * (the request's safe projection) is the same request as an observation, so the
   * observation reads its answer instead of sending it again.
   */
  private readonly decoyGets = new Map<string, ProbeOutcome>();

  constructor(private readonly o: ProberOptions) {}

  allowOrigin(url: string): void {
    try {
      this.origins.add(new URL(url).origin);
    } catch {
      // not a URL: nothing to allow
    }
  }

  get sent(): number {
    return this.records.length;
  }

  get unsafeProbes(): number {
    return this.unsafe.length;
  }

  get allowSideEffects(): boolean {
    return this.o.allowSideEffects;
  }

  /** With consent, whether --max-unsafe leaves room for one more may-execute request. */
  hasUnsafeRoom(): boolean {
    return this.unsafe.length < this.o.maxUnsafe;
  }

  /** Counts a request already sent that could have executed (a redirect hop re-sending the body). */
  countUnsafe(n: number, req: RequestModel, why: string): void {
    this.unsafe.push({ n, method: req.method, url: redactUrl(req.url), why });
  }

  /** Room for one more may-execute request, or throws (refused without consent, or --max-unsafe reached). */
  checkUnsafeAllowed(req: RequestModel, why: string): void {
    if (!this.o.allowSideEffects) {
      throw new UnsafeProbeRefused(
        `refused to send ${req.method} ${redactUrl(req.url)} without --allow-side-effects (${why})`,
      );
    }
    if (this.unsafe.length >= this.o.maxUnsafe) {
      throw new UnsafeBudgetSpent(
        `the side-effect budget (--max-unsafe ${this.o.maxUnsafe}) is spent: no further request the application could execute is sent`,
      );
    }
  }

  remaining(): number {
    return Math.max(0, this.o.maxProbes - this.records.length);
  }

  /** Sends one request and records it. Used for the replay (safety "replay") and for probes. */
  async send(
    req: RequestModel,
    purpose: string,
    safety: ProbeRecord["safety"],
  ): Promise<Omit<ProbeOutcome, "sameRefusal" | "inconclusive">> {
    if (this.remaining() <= 0) throw new BudgetSpent(`probe budget of ${this.o.maxProbes} spent`);
    await this.o.pacer.wait();
    const n = this.records.length + 1;
    const id = requestIdFor(this.o.runId, n);
    const outgoing = this.o.requestIds ? withRequestId(req, id) : req;
    if (this.o.requestIds) this.requestIds.push(id);
    const result = await this.o.transport.send(
      outgoing,
      this.o.timeoutMs ? { timeoutMs: this.o.timeoutMs } : {},
    );
    const record: ProbeRecord = {
      purpose,
      method: req.method,
      url: redactUrl(req.url),
      status: result.ok ? result.response.status : null,
      finding: result.ok
        ? `${result.response.status} ${result.response.statusText}`.trim()
        : result.failure.message,
      safety,
      durationMs: result.durationMs,
    };
    if (this.o.requestIds) record.requestId = id;
    if (!result.ok) record.error = result.failure.kind;
    this.records.push(record);
    if (result.ok) {
      this.answers++;
      const backend = backendOf(result.response);
      if (backend && this.state) {
        this.state.facts.backends ??= new Set();
        this.state.facts.backends.add(backend);
      }
      const fp = fingerprint(result.response, outgoing);
      return { n, response: result.response, failure: null, fingerprint: fp, record };
    }
    return { n, response: null, failure: result.failure, fingerprint: null, record };
  }

  context(state: InvestigationState): ProbeContext {
    this.state = state;
    this.allowOrigin(state.target.url);
    this.allowOrigin(state.original.url);
    return {
      state,
      allowSideEffects: this.o.allowSideEffects,
      clock: this.o.clock,
      remaining: () => this.remaining(),
      unsafeRemaining: () =>
        this.o.allowSideEffects ? Math.max(0, this.o.maxUnsafe - this.unsafe.length) : 0,
      addEvidence: (e: Evidence) => state.evidence.push(e),
      setTrigger: (t: Trigger) => {
        state.trigger = t;
      },
      noteUnverified: (text: string, cause: CauseId) => {
        if (!state.unverified.some((u) => u.text === text)) state.unverified.push({ text, cause });
      },
      noteWithheld: (text: string) => {
        if (!state.withheld.includes(text)) state.withheld.push(text);
      },
      inertDecoy: () => {
        this.inertness ??= this.observeDecoy(state);
        return this.inertness;
      },
      decoyUrl: (keepQuery = true) => decoyUrl(state.target.url, this.o.randomToken(), keepQuery),
      inertDecoyUrl: (keepQuery = true) => decoyUrl(state.target.url, this.inertDecoyToken(), keepQuery),
      missingUrl: () => missingUrl(state.target.url, this.o.randomToken()),
      probe: (req, purpose, declared, opts) => this.probe(state, req, purpose, declared, opts),
    };
  }

  private async probe(
    state: InvestigationState,
    req: RequestModel,
    purpose: string,
    declared: ProbeSafety,
    opts: { expectVariance?: boolean } = {},
  ): Promise<ProbeOutcome> {
    const actual = classifyProbe(req, state.target.url, (url) => coveredByInertShape(url, this.inertShapes));
    const safety = SAFETY_RANK[actual.safety] >= SAFETY_RANK[declared] ? actual.safety : declared;
    const why = actual.why ?? `${req.method}: declared may-execute by the experiment`;
    if (![...this.origins].some((o) => sameOrigin(o, req.url))) {
      throw new UnsafeProbeRefused(`refused to probe ${redactUrl(req.url)}: another host than the request's`);
    }
    if (safety === "may-execute") this.checkUnsafeAllowed(req, why);
    const out = await this.send(req, purpose, safety);
    if (safety === "may-execute") this.countUnsafe(out.n, req, why);
    this.checkEscalation(state, out);
    const same =
      out.response !== null &&
      out.fingerprint !== null &&
      sameRefusal(state.baseline, state.baselineFingerprint, out.response, out.fingerprint);
    // The repeat experiment looks for variance on purpose and reports it itself.
    if (!opts.expectVariance) this.checkConsistency(state, req, out.response?.status ?? null, same);
    const outcome = {
      ...out,
      sameRefusal: same,
      inconclusive: !same && inconclusive(out.response, state.baseline.status),
    };
    if (req.method === "GET" && !req.body && this.inertToken && req.url.includes(this.inertToken))
      this.decoyGets.set(requestKey(req), outcome);
    return outcome;
  }

  private inertDecoyToken(): string {
    this.inertToken ??= this.o.randomToken();
    return this.inertToken;
  }

  /** Safe observations of this run's decoy (inert.ts); a shape shown inert is registered. */
  private async observeDecoy(state: InvestigationState): Promise<DecoyInertness> {
    const bare = decoyUrl(state.target.url, this.inertDecoyToken(), false);
    const { result, shape } = await proveDecoyInert(
      state.target,
      bare,
      (req, purpose) => {
        const seen = req.method === "GET" ? this.decoyGets.get(requestKey(req)) : undefined;
        return seen ? Promise.resolve(seen) : this.probe(state, req, purpose, "decoy");
      },
      this.remaining(),
    );
    if (shape) this.inertShapes.push(shape);
    return result;
  }

  /**
   * The same request sent twice, refused once and answered once: the refusal is
   * intermittent (load balancer, flaky rule, a limit being hit), so no experiment
   * that compares two answers can be trusted. Say so and stop.
   */
  private checkConsistency(
    state: InvestigationState,
    req: RequestModel,
    status: number | null,
    refused: boolean,
  ): void {
    if (status === null || (!refused && status >= 400)) return;
    // Accept* only negotiate the format (the CSRF page fetch asks for HTML): not a different request.
    const key = requestKey(req, true);
    const before = this.outcomes.get(key);
    if (!before) {
      this.outcomes.set(key, { refused, status });
      return;
    }
    if (before.refused === refused) return;
    const [no, yes] = refused ? [before.status, status] : [status, before.status];
    state.evidence.push({
      source: "repeated probes",
      fact: `The refusal is intermittent: the same ${req.method} ${redactUrl(req.url)} was answered ${no} once and refused with ${yes} once — several backends configured differently, a flaky rule, or a limit being hit; no content trigger can be pinned.`,
      // No cause gains: which one is behind the flip needs logs or repeated tries, not a guess.
      weights: {},
    });
    state.trigger = null;
    throw new EscalationStop("identical requests got different answers (the refusal is intermittent)");
  }

  private checkEscalation(
    state: InvestigationState,
    out: Omit<ProbeOutcome, "sameRefusal" | "inconclusive">,
  ): void {
    if (out.failure && (out.failure.kind === "refused" || out.failure.kind === "reset") && this.answers > 0) {
      out.record.finding = `${out.failure.message}; the server answered before, so it may now be blocking us`;
      throw new EscalationStop(
        `the connection was ${out.failure.kind === "refused" ? "refused" : "reset"} after earlier answers (a ban?)`,
      );
    }
    const res = out.response;
    if (!res) return;
    if (out.fingerprint?.challenge && !state.baselineFingerprint.challenge) {
      out.record.finding = "the server switched to a challenge page";
      throw new EscalationStop("the server switched to a challenge page while probing");
    }
    if (res.status === 429 && state.baseline.status !== 429) {
      const wait = retryAfterMs(res.headers, this.o.clock.now());
      if (wait !== null && !this.o.pacer.deferFor(wait)) {
        out.record.finding = `429 with Retry-After ${Math.round(wait / 1000)} s`;
        throw new EscalationStop(`rate limited by our own probes (Retry-After ${Math.round(wait / 1000)} s)`);
      }
      if (wait === null) this.o.pacer.deferFor(this.o.pacer.maxRetryAfterMs / 2);
    }
  }
}
