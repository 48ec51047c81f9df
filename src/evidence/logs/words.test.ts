// The words of an application's refusal message and the cause they name, as
// data (data/logs/words.json): each rule's examples read as that rule's cause
// (the first rule that matches wins), the `none` examples as none.
import { describe, expect, it } from "vitest";
import words from "../../../data/logs/words.json" with { type: "json" };
import { CAUSE_IDS } from "../../model.js";
import { causeFromWords } from "./classify.js";

describe("data/logs/words.json", () => {
  it("names contract causes, each rule with examples", () => {
    for (const r of words.rules) {
      expect(CAUSE_IDS as readonly string[], r.match).toContain(r.cause);
      expect(r.examples.length, r.cause).toBeGreaterThan(0);
    }
  });

  it("reads every rule's examples as its cause, whatever rules come before it", () => {
    for (const r of words.rules)
      for (const text of r.examples) expect([text, causeFromWords(text)]).toEqual([text, r.cause]);
  });

  it("reads the examples of no refusal reason as no cause", () => {
    for (const text of words.none) expect([text, causeFromWords(text)]).toEqual([text, null]);
  });
});
