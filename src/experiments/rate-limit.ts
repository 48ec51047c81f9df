// rate-limit: read the limit headers; when the window resets soon enough
// (Retry-After / RateLimit-Reset within MAX_RETRY_AFTER_WAIT_MS), wait, then
// send one safe GET to see whether the window has reset. Never hammers.

import { retryAfterMs } from "../http/pacer.js";
import { headerValue } from "../investigate/compare.js";
import type { Experiment, InvestigationState } from "../investigate/types.js";
import { weightFor } from "../investigate/weights.js";
import { MAX_RETRY_AFTER_WAIT_MS } from "../limits.js";
import type { ResponseModel } from "../model.js";
import { asSafe } from "./_requests.js";

const LIMIT_HEADERS = /^(x-)?ratelimit-|^retry-after$|^x-rate-limit-/i;

/** Milliseconds until the limit resets, from Retry-After or a RateLimit-Reset header; null when unknown. */
export function resetInMs(res: ResponseModel, now: number): number | null {
  const retry = retryAfterMs(res.headers, now);
  if (retry !== null) return retry;
  const reset =
    headerValue(res, "ratelimit-reset") ??
    headerValue(res, "x-ratelimit-reset") ??
    headerValue(res, "x-rate-limit-reset");
  if (!reset || !/^\d+(\.\d+)?$/.test(reset.trim())) return null;
  const n = Number(reset);
  // Epoch seconds (GitHub style) or seconds from now (IETF draft).
  return n > 1_000_000_000 ? Math.max(0, n * 1000 - now) : n * 1000;
}

function hasLimitHeaders(res: ResponseModel): boolean {
  return res.headers.some(([n]) => LIMIT_HEADERS.test(n));
}

export const rateLimit: Experiment = {
  id: "rate-limit",
  safety: "safe-method",
  cost: 1,
  appliesTo: (state: InvestigationState) =>
    state.baseline.status === 429 ||
    weightFor(state.evidence, "rate-limit") > 0 ||
    hasLimitHeaders(state.baseline),
  priority: (state) => (state.baseline.status === 429 ? 100 : 3),
  async run(ctx) {
    const { state } = ctx;
    const wait = resetInMs(state.baseline, ctx.clock.now());
    if (wait === null) {
      ctx.noteUnverified(
        "wait for the rate-limit window to pass (the server did not say how long) and retry once.",
        "rate-limit",
      );
      return;
    }
    const seconds = Math.ceil(wait / 1000);
    if (wait > MAX_RETRY_AFTER_WAIT_MS) {
      ctx.addEvidence({
        source: "response",
        fact: `The limit resets in ${seconds} s, longer than why403 waits; retrying before then will be refused again.`,
        weights: { "rate-limit": 1 },
      });
      ctx.noteUnverified(
        `wait ${seconds} s for the rate-limit window to reset, then retry once.`,
        "rate-limit",
      );
      return;
    }
    await ctx.clock.sleep(wait);
    const out = await ctx.probe(
      asSafe(state.target, "GET"),
      `GET after waiting ${seconds} s for the limit window`,
      "safe-method",
    );
    const status = out.response?.status ?? null;
    if (status === null) return;
    if (status !== 429 && !(out.sameRefusal && state.baseline.status === 429)) {
      out.record.finding = `${status}: the window has reset`;
      ctx.addEvidence({
        source: `probe #${out.n}`,
        fact: `After waiting the ${seconds} s the server asked for, a request to the same URL is answered ${status}: the refusal was a rate limit whose window has reset.`,
        weights: { "rate-limit": state.baseline.status === 429 ? 2.5 : 1 },
      });
    } else {
      out.record.finding = `${status}: still limited after ${seconds} s`;
      ctx.addEvidence({
        source: `probe #${out.n}`,
        fact: `After waiting ${seconds} s, the same URL is still refused with ${status}: the limit window is longer than announced, or a quota is exhausted.`,
        weights: { "rate-limit": 1.5 },
      });
    }
  },
};
