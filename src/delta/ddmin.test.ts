import { describe, expect, it } from "vitest";
import { ddmin, type Outcome } from "./ddmin.js";

const range = (n: number) => Array.from({ length: n }, (_, i) => i);

describe("ddmin", () => {
  it("finds a single culprit among 1000 items in O(log n) tests", async () => {
    const r = await ddmin(range(1000), async (s) => (s.includes(737) ? "fail" : "pass"));
    expect(r.result).toEqual([737]);
    expect(r.tests).toBeLessThanOrEqual(22);
  });

  it("finds every member of a set that only fails together (1-minimal)", async () => {
    const r = await ddmin(range(64), async (s) => (s.includes(3) && s.includes(50) ? "fail" : "pass"));
    expect(r.result).toEqual([3, 50]);
  });

  it("keeps a 1-minimal set when any two of three suffice", async () => {
    const test = async (s: number[]): Promise<Outcome> =>
      [5, 9, 20].filter((x) => s.includes(x)).length >= 2 ? "fail" : "pass";
    const r = await ddmin(range(32), test);
    expect(r.result).toHaveLength(2);
    for (const x of r.result) expect(await test(r.result.filter((y) => y !== x))).toBe("pass");
  });

  it("treats unresolved as not failing and stops at the budget", async () => {
    const r = await ddmin(range(100), async (s) => (s.includes(1) ? "fail" : "unresolved"));
    expect(r.result).toEqual([1]);
    const capped = await ddmin(range(1000), async (s) => (s.includes(999) ? "fail" : "pass"), {
      maxTests: 3,
    });
    expect(capped.exhausted).toBe(true);
    expect(capped.tests).toBe(3);
    expect(capped.result).toContain(999);
  });

  it("never runs the same subset twice", async () => {
    const seen = new Set<string>();
    await ddmin(range(40), async (s) => {
      const key = s.join(",");
      expect(seen.has(key)).toBe(false);
      seen.add(key);
      return s.includes(7) && s.includes(8) && s.includes(30) ? "fail" : "pass";
    });
  });
});
