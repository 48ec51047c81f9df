// BoundedCounter: exact counts for the first keys, later new keys under "(other)".
import { describe, expect, it } from "vitest";
import { BoundedCounter, OTHER_KEY } from "./counter.js";

describe("BoundedCounter", () => {
  it("counts later new keys under (other) once full, and known keys exactly", () => {
    const c = new BoundedCounter(2);
    for (const k of ["a", "b", "a", "c", "d", "b", "c"]) c.add(k);
    expect(c.top()).toEqual([
      [OTHER_KEY, 3],
      ["a", 2],
      ["b", 2],
    ]);
  });

  it("adds to a real (other) key counted before the counter filled up", () => {
    const c = new BoundedCounter(2);
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
