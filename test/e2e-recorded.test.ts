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

/**
 * What a case pins down, as toMatchObject checks it: its verdict (null: it must
 * abstain, exit 1, and say what would separate the candidates) and product, and,
 * where it states them, the top candidates (as a set) and the layer.
 */
function pinnedBy(c: Case): Record<string, unknown> {
  return {
    verdict: c.cause,
    exit: c.cause === null ? 1 : 0,
    product: c.product,
    ...(c.cause !== null && { firstCandidate: c.cause }),
    ...(c.cause === null && { givesNextSteps: true }),
    ...(c.candidates !== undefined && { topCandidates: [...c.candidates].sort() }),
    ...(c.layer !== undefined && { layer: c.layer }),
  };
}

function argsFor(c: Case, format: string[]): string[] {
  const path = join(dir, c.file);
  const base = c.file.endsWith(".har") ? ["har", path, ...(c.args ?? [])] : ["response", path];
  return [...base, ...(c.requestCurl ? ["--request-curl", c.requestCurl] : []), ...format];
}

describe("offline diagnosis through the built CLI", () => {
  it("covers at least 20 fixtures across at least 8 causes", () => {
    expect(cases.length).toBeGreaterThanOrEqual(20);
    expect(new Set(cases.map((c) => c.cause).filter(Boolean)).size).toBeGreaterThanOrEqual(8);
    // A case without a cause must name the candidates it abstains between.
    expect(cases.filter((c) => c.cause === null && !c.candidates)).toEqual([]);
  });

  for (const c of cases) {
    const expected = c.cause ?? (c.candidates ? `abstain: ${c.candidates.join(" or ")}` : "(any cause)");
    it(`${c.file} → ${expected} / ${c.product ?? "(no product)"}`, () => {
      const r = runCli(argsFor(c, ["--json"]));
      expect(r.stderr).not.toMatch(/\n\s+at /);
      const report = reportSchema.parse(JSON.parse(r.stdout));
      const n = c.candidates?.length ?? 0;
      expect(
        {
          verdict: report.verdict?.cause ?? null,
          exit: r.code,
          product: report.baseline.responder.product,
          firstCandidate: report.candidates[0]?.cause,
          givesNextSteps: (report.nextSteps?.length ?? 0) > 0,
          topCandidates: report.candidates
            .slice(0, n)
            .map((x) => x.cause)
            .sort(),
          layer: report.baseline.responder.layer,
        },
        JSON.stringify(report.candidates),
      ).toMatchObject(pinnedBy(c));
      expect(report.probes).toEqual([]);
      expect(report.sideEffects.unsafeProbes).toBe(0);
      for (const format of [["--json"], [], ["--markdown"]]) {
        const out = format[0] === "--json" ? r.stdout : runCli(argsFor(c, format)).stdout;
        for (const s of SECRETS) expect(out, `${c.file} ${format.join(" ")}`).not.toContain(s);
      }
    });
  }
});
