// BoundedCounter: exact counts for the first keys; later new keys under "(other)",
// but for those that come again, which a Misra-Gries summary keeps (a key frequent
// late is still listed).
import { describe, expect, it } from "vitest";
import { BoundedCounter, OTHER_KEY } from "./counter.js";

describe("BoundedCounter", () => {
  it("counts later new keys under (other) once full, and known keys exactly", () => {
    // No summary slot: the table alone, as before the summary.
    const c = new BoundedCounter(2, 0);
    for (const k of ["a", "b", "a", "c", "d", "b", "c"]) c.add(k);
    expect(c.top()).toEqual([
      [OTHER_KEY, 3],
      ["a", 2],
      ["b", 2],
    ]);
  });

  it("lists a key that floods after the table filled, its count short by at most the bound", () => {
    const c = new BoundedCounter(100, 8);
    const client = (i: number) => `10.0.${i >> 8}.${i & 255}`;
    // 1,000 clients refused once each, then one refused 300 times among 1,000 more once each.
    for (let i = 0; i < 1000; i++) c.add(client(i));
    for (let i = 1000; i < 2000; i++) {
      c.add(client(i));
      if (i % 10 === 0) for (let r = 0; r < 3; r++) c.add("203.0.113.66");
    }
    const top = c.top(200);
    const flood = top.find(([k]) => k === "203.0.113.66")?.[1] ?? 0;
    // 1,900 later adds, 9 counters: short by at most 1,900 / 9 = 211.
    expect(flood).toBeLessThanOrEqual(300);
    expect(flood).toBeGreaterThanOrEqual(300 - Math.floor(1900 / 9));
    expect(top[0]?.[0]).toBe(OTHER_KEY);
    expect(top[1]).toEqual(["203.0.113.66", flood]);
    // Nothing is lost: the listed counts and (other) add up to every add.
    expect(top.reduce((sum, [, n]) => sum + n, 0)).toBe(2300);
    // Without the summary the flood hides in (other).
    const bare = new BoundedCounter(100, 0);
    for (let i = 0; i < 1000; i++) bare.add(client(i));
    for (let i = 0; i < 300; i++) bare.add("203.0.113.66");
    expect(bare.top(200).some(([k]) => k === "203.0.113.66")).toBe(false);
  });

  it("lists a later key that comes again, exactly while the summary has room; one seen once stays in (other)", () => {
    const c = new BoundedCounter(2, 4);
    for (const k of ["a", "b", "c", "d", "c", "a", "c"]) c.add(k);
    expect(c.top()).toEqual([
      ["c", 3],
      ["a", 2],
      [OTHER_KEY, 1],
      ["b", 1],
    ]);
  });

  it("adds to a real (other) key counted before the counter filled up", () => {
    const c = new BoundedCounter(2, 0);
    c.add(OTHER_KEY);
    c.add("a");
    c.add("b");
    c.add("c", 4);
    c.add(OTHER_KEY);
    // "b" came when the counter was full (the real "(other)" and "a"): 1 + 1 + 4 + 1.
    expect(c.top()).toEqual([
      [OTHER_KEY, 7],
      ["a", 1],
    ]);
  });

  it("orders ties by key and keeps the n largest", () => {
    const c = new BoundedCounter(10);
    for (const k of ["z", "y", "x", "y"]) c.add(k);
    expect(c.top(2)).toEqual([
      ["y", 2],
      ["x", 1],
    ]);
  });
});
