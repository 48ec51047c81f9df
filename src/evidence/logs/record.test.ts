// The helpers every parser and the join share: detached strings equal the
// originals, and every parser's records have one set of fields in one order.
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { detach, newRecord, pooled } from "./record.js";

describe("detach and pooled", () => {
  it("give back a string equal to the one given, whatever its characters (lone surrogates too)", () => {
    fc.assert(
      fc.property(fc.string({ unit: "binary", maxLength: 40 }), fc.nat(10), (s, cut) => {
        const sub = `${"x".repeat(cut)}${s}`.slice(cut);
        expect(detach(sub)).toBe(s);
        expect(pooled(sub)).toBe(s);
      }),
      { numRuns: 2000 },
    );
    expect(detach(null)).toBeNull();
  });
});

describe("newRecord", () => {
  it("has every field of a record from the start, the optional ones undefined", () => {
    const rec = newRecord("f.log", 1, "access-combined", "access", null);
    expect(Object.keys(rec).sort()).toEqual(
      [
        "time",
        "status",
        "statusInferred",
        "method",
        "path",
        "client",
        "ids",
        "requestId",
        "cause",
        "strength",
        "rules",
        "message",
        "product",
        "denied",
        "file",
        "line",
        "format",
        "kind",
        "alsoCauses",
        "ruleMessages",
        "reason",
        "detectionOnly",
        "passedOn",
      ].sort(),
    );
    expect([rec.alsoCauses, rec.ruleMessages, rec.reason, rec.detectionOnly, rec.passedOn]).toEqual([
      undefined,
      undefined,
      undefined,
      undefined,
      undefined,
    ]);
  });
});
