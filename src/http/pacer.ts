// Spaces requests out (at most N per second) and honours Retry-After, so
// probing never hammers the server it diagnoses.

import { headerValue } from "../headers.js";
import { DEFAULT_RATE_PER_SECOND, MAX_RETRY_AFTER_WAIT_MS } from "../limits.js";
import type { Header } from "../model.js";
import { type Clock, systemClock } from "./types.js";

/** Parses Retry-After (seconds or an HTTP date) into ms from now; null when absent or unreadable. */
export function retryAfterMs(headers: Header[], now: number): number | null {
  const found = headerValue(headers, "retry-after");
  if (found === null) return null;
  const value = found.trim();
  if (/^\d+$/.test(value)) return Number(value) * 1000;
  const date = Date.parse(value);
  if (Number.isNaN(date)) return null;
  return Math.max(0, date - now);
}

export class Pacer {
  private nextAt = 0;
  private readonly intervalMs: number;

  constructor(
    ratePerSecond: number = DEFAULT_RATE_PER_SECOND,
    private readonly clock: Clock = systemClock,
    readonly maxRetryAfterMs: number = MAX_RETRY_AFTER_WAIT_MS,
  ) {
    this.intervalMs = ratePerSecond > 0 ? 1000 / ratePerSecond : 0;
  }

  /** Waits until the next request may go out, then reserves its slot. */
  async wait(): Promise<void> {
    const now = this.clock.now();
    if (this.nextAt > now) await this.clock.sleep(this.nextAt - now);
    this.nextAt = Math.max(this.clock.now(), this.nextAt) + this.intervalMs;
  }

  /**
   * Pushes the next slot past a Retry-After. Returns false (and does not wait)
   * when the server asks for longer than we are willing to wait.
   */
  deferFor(ms: number): boolean {
    if (ms > this.maxRetryAfterMs) return false;
    this.nextAt = Math.max(this.nextAt, this.clock.now() + ms);
    return true;
  }
}
