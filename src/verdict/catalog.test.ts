import { describe, expect, it } from "vitest";
import causesJson from "../../data/causes.json" with { type: "json" };
import fixesJson from "../../data/fixes.json" with { type: "json" };
import { CAUSE_IDS } from "../model.js";
import { causesSchema, fillTemplate, fixesSchema, placeholdersIn } from "./catalog.js";

describe("data files", () => {
  it("causes.json validates and covers every cause", () => {
    const parsed = causesSchema.parse(causesJson);
    expect(Object.keys(parsed).sort()).toEqual([...CAUSE_IDS].sort());
  });
  it("fixes.json validates and covers every cause", () => {
    const parsed = fixesSchema.parse(fixesJson);
    expect(Object.keys(parsed).sort()).toEqual([...CAUSE_IDS].sort());
  });
  it("rejects unknown placeholders and cause ids", () => {
    const bad = structuredClone(fixesJson) as Record<string, { generic: unknown[] }>;
    bad.waf!.generic.push("use {nonsense}");
    expect(fixesSchema.safeParse(bad).success).toBe(false);
    expect(causesSchema.safeParse({ ...causesJson, "not-a-cause": causesJson.waf }).success).toBe(false);
  });
  it("every cause has at least one act phrase without placeholders or with only target ones", () => {
    const parsed = causesSchema.parse(causesJson);
    for (const entry of Object.values(parsed)) {
      const last = entry.act[entry.act.length - 1]!;
      expect(placeholdersIn(last).every((p) => ["method", "path", "url", "host"].includes(p))).toBe(true);
    }
  });
  it("fillTemplate leaves non-placeholder braces alone", () => {
    expect(fillTemplate("{% csrf_token %} {{ form.csrf_token }} {path} {ruleId} {x}", { path: "/a" })).toBe(
      "{% csrf_token %} {{ form.csrf_token }} /a RULE_ID {x}\n  (fill in RULE_ID: the id of the rule that matched, in the firewall's log for this request)",
    );
  });
});
