import { describe, expect, it } from "vitest";
import { makeExchange } from "./_test-exchange.js";
import { parseRetryAfter, rateLimitEvidence, readRateLimit, resetToDate } from "./rate-limit.js";

const DATE = "Tue, 01 Jul 2025 10:00:00 GMT";
const base = new Date(DATE);

describe("readRateLimit", () => {
  it("X-RateLimit with epoch reset", () => {
    const s = readRateLimit(
      makeExchange({
        resHeaders: [
          ["Date", DATE],
          ["X-RateLimit-Limit", "60"],
          ["X-RateLimit-Remaining", "0"],
          ["X-RateLimit-Reset", "1751364300"],
        ],
      }),
    );
    expect(s).toMatchObject({ limit: 60, remaining: 0 });
    expect(s.resetAt?.toISOString()).toBe("2025-07-01T10:05:00.000Z");
  });
  it("IETF RateLimit structured field and policy", () => {
    const s = readRateLimit(
      makeExchange({
        resHeaders: [
          ["Date", DATE],
          ["RateLimit", '"burst";r=5;t=1, "default";r=0;t=30'],
          ["RateLimit-Policy", '"default";q=100;w=60'],
        ],
      }),
    );
    expect(s.remaining).toBe(0);
    expect(s.policy).toBe("default");
    expect(s.limit).toBe(100);
    expect(s.resetAt?.toISOString()).toBe("2025-07-01T10:00:30.000Z");
  });
  it("older RateLimit-* and dictionary forms use delta seconds", () => {
    const s = readRateLimit(
      makeExchange({
        resHeaders: [
          ["Date", DATE],
          ["RateLimit-Limit", "10"],
          ["RateLimit-Remaining", "0"],
          ["RateLimit-Reset", "42"],
        ],
      }),
    );
    expect(s.resetAt?.toISOString()).toBe("2025-07-01T10:00:42.000Z");
    const d = readRateLimit(
      makeExchange({
        resHeaders: [
          ["Date", DATE],
          ["RateLimit", "limit=100, remaining=0, reset=7"],
        ],
      }),
    );
    expect(d).toMatchObject({ limit: 100, remaining: 0 });
    expect(d.resetAt?.toISOString()).toBe("2025-07-01T10:00:07.000Z");
  });
  it("Retry-After seconds and HTTP date", () => {
    expect(parseRetryAfter("120", base)?.toISOString()).toBe("2025-07-01T10:02:00.000Z");
    expect(parseRetryAfter("Tue, 01 Jul 2025 11:00:00 GMT", base)?.toISOString()).toBe(
      "2025-07-01T11:00:00.000Z",
    );
    expect(parseRetryAfter("soon", base)).toBeUndefined();
    expect(resetToDate(1751364300000, base).toISOString()).toBe("2025-07-01T10:05:00.000Z");
  });
});

describe("rateLimitEvidence", () => {
  it("429 is strong and carries resetAt", () => {
    const ev = rateLimitEvidence(
      makeExchange({
        status: 429,
        resHeaders: [
          ["Date", DATE],
          ["Retry-After", "30"],
        ],
      }),
    );
    expect(ev[0]?.weights["rate-limit"]).toBeGreaterThanOrEqual(4);
    expect(ev[0]?.data?.resetAt).toBe("2025-07-01T10:00:30.000Z");
  });
  it("GitHub primary limit on 403", () => {
    const ev = rateLimitEvidence(
      makeExchange({
        status: 403,
        resHeaders: [
          ["Date", DATE],
          ["x-ratelimit-limit", "5000"],
          ["x-ratelimit-remaining", "0"],
          ["x-ratelimit-reset", "1751367600"],
          ["x-ratelimit-resource", "core"],
        ],
        resBody: '{"message":"API rate limit exceeded for user ID 1."}',
      }),
    );
    const zero = ev.find((e) => /0 requests remaining/.test(e.fact));
    expect(zero?.weights["rate-limit"]).toBeGreaterThanOrEqual(3);
    expect(zero?.fact).toMatch(/"core" resource/);
    expect(zero?.data?.resetAt).toBe("2025-07-01T11:00:00.000Z");
  });
  it("GitHub secondary limit on 403 with quota left", () => {
    const ev = rateLimitEvidence(
      makeExchange({
        status: 403,
        resHeaders: [
          ["x-ratelimit-remaining", "4990"],
          ["retry-after", "60"],
        ],
        resBody:
          '{"message":"You have exceeded a secondary rate limit. Please wait a few minutes before you try again."}',
      }),
    );
    expect(ev.find((e) => e.data?.secondary)?.weights["rate-limit"]).toBeGreaterThanOrEqual(4);
    expect(ev.every((e) => (e.weights["rate-limit"] ?? 0) >= 0)).toBe(true);
  });
  it("quota left on an unrelated 403 speaks against rate-limit", () => {
    const ev = rateLimitEvidence(
      makeExchange({ status: 403, resHeaders: [["X-RateLimit-Remaining", "99"]] }),
    );
    expect(ev[0]?.weights["rate-limit"]).toBeLessThan(0);
  });
  it("nothing for a plain 403", () => {
    expect(rateLimitEvidence(makeExchange({ status: 403, resBody: "Forbidden" }))).toEqual([]);
  });
});
