// Counts the cases fast-check really ran: when WHY403_PROPERTY_RUNS names a file,
// every property check appends its executed run count there (scripts/test-all.sh
// sets it; the quota test in test/fuzz-all.test.ts sums it). A failed check still
// throws fast-check's own report.
import { appendFileSync } from "node:fs";
import fc from "fast-check";
import { expect } from "vitest";

const file = process.env.WHY403_PROPERTY_RUNS;

if (file) {
  fc.configureGlobal({
    ...fc.readConfigureGlobal(),
    reporter(details) {
      const test = expect.getState().testPath?.slice(process.cwd().length + 1) ?? "";
      appendFileSync(file, `${JSON.stringify({ test, runs: details.numRuns })}\n`);
      if (details.failed) throw new Error(fc.defaultReportMessage(details), { cause: details.errorInstance });
    },
  });
}
