// End to end, offline: recorded refusals (raw responses and HARs) through the built
// CLI, asserting cause, product, the JSON contract and that no secret leaks.
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { reportSchema } from "../src/report/schema.js";
import { runCli } from "./helpers/cli.js";

interface Case {
  file: string;
  cause: string | null;
  product: string | null;
  layer?: string;
  requestCurl?: string;
  args?: string[];
  /**
   * The causes a product page leaves open, as a set: they must be the top candidates
   * (in any order: a page that cannot tell them apart gives them equal weight). With
   * `cause: null` the run must abstain (no verdict, exit 1) and say what separates them.
   */
  candidates?: string[];
}

const dir = join("fixtures", "e2e");
const cases = JSON.parse(readFileSync(join(dir, "manifest.json"), "utf8")) as Case[];
const SECRETS = [
  "sk_live_51HcAnArY0123456789abcdef",
  "Qw3rTy8uIoP1aSdFgHjKlZxCvBnM1234",
  "abcdefabcdefabcdefabcdef",
  "Zx9cVb8nM7aS6dF5gH4jK3lQ2wE1rT0y",
  "c2lnbmF0dXJlLW5vdC1jaGVja2Vk",
];

function argsFor(c: Case, format: string[]): string[] {
  const path = join(dir, c.file);
  const base = c.file.endsWith(".har") ? ["har", path, ...(c.args ?? [])] : ["response", path];
  return [...base, ...(c.requestCurl ? ["--request-curl", c.requestCurl] : []), ...format];
}

describe("offline diagnosis through the built CLI", () => {
  it("covers at least 20 fixtures across at least 8 causes", () => {
    expect(cases.length).toBeGreaterThanOrEqual(20);
    expect(new Set(cases.map((c) => c.cause).filter(Boolean)).size).toBeGreaterThanOrEqual(8);
  });

  for (const c of cases) {
    const expected = c.cause ?? (c.candidates ? `abstain: ${c.candidates.join(" or ")}` : "(any cause)");
    it(`${c.file} → ${expected} / ${c.product ?? "(no product)"}`, () => {
      const r = runCli(argsFor(c, ["--json"]));
      expect(r.stderr).not.toMatch(/\n\s+at /);
      const report = reportSchema.parse(JSON.parse(r.stdout));
      if (c.candidates) {
        const top = report.candidates.slice(0, c.candidates.length).map((x) => x.cause);
        expect(new Set(top), JSON.stringify(report.candidates)).toEqual(new Set(c.candidates));
      }
      if (c.candidates && !c.cause) {
        expect(report.verdict, JSON.stringify(report.candidates)).toBeNull();
        expect(r.code).toBe(1);
        expect(report.nextSteps?.length ?? 0).toBeGreaterThan(0);
      }
      if (c.cause) {
        expect(report.verdict?.cause, JSON.stringify(report.candidates)).toBe(c.cause);
        expect(r.code).toBe(0);
        expect(report.candidates[0]?.cause).toBe(c.cause);
      }
      expect(report.baseline.responder.product).toBe(c.product);
      if (c.layer) expect(report.baseline.responder.layer).toBe(c.layer);
      expect(report.probes).toEqual([]);
      expect(report.sideEffects.unsafeProbes).toBe(0);
      for (const format of [["--json"], [], ["--markdown"]]) {
        const out = format[0] === "--json" ? r.stdout : runCli(argsFor(c, format)).stdout;
        for (const s of SECRETS) expect(out, `${c.file} ${format.join(" ")}`).not.toContain(s);
      }
    });
  }
});
