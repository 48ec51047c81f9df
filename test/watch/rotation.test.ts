// why403 watch over a log written at ≥ 5,000 lines/s and rotated twice while
// written (rename, then copytruncate): every line is read once, every denial
// counted once.
import { type ChildProcess, execFile } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { afterAll, expect, it } from "vitest";
import { metricSum, startWatch, stopAll, until } from "./helpers.js";

const run = promisify(execFile);
const dir = mkdtempSync(join(tmpdir(), "why403-rotate-"));
const generators: ChildProcess[] = [];
afterAll(() => {
  stopAll();
  for (const g of generators) if (g.exitCode === null) g.kill("SIGKILL");
  rmSync(dir, { recursive: true, force: true });
});

it("loses no line and counts none twice across a rename and a copytruncate rotation", async () => {
  const log = join(dir, "access.log");
  // The file does not exist yet: watch waits for it and reads it from its first line.
  const watch = await startWatch([log]);
  const go = join(dir, "go");
  const generating = run(process.execPath, [join(__dirname, "generator.mjs"), log, "6000", "3", go]);
  generators.push(generating.child);
  // The second rotation waits until watch has read lines of the file that came
  // after the first (see generator.mjs): a file truncated before any of it was
  // read leaves no trace to notice.
  await until(
    async () => metricSum(await watch.metrics(), "why403_lines_total"),
    (n) => watch.stderr().includes("rotated (renamed)") && n > 6_000 + 100,
    // Generous: on a starved machine watch may fall behind the generator for a while.
    120_000,
  );
  writeFileSync(go, "");
  const made = JSON.parse((await generating).stdout) as { lines: number; rate: number };
  expect(made.lines).toBeGreaterThanOrEqual(18_000);
  expect(made.rate).toBeGreaterThanOrEqual(5000);
  const metrics = await until(
    watch.metrics,
    (m) =>
      metricSum(m, "why403_lines_total") >= made.lines && metricSum(m, "why403_denials_total") >= made.lines,
    120_000,
  );
  // Every line is a 403 from its own client address (10.a.b.c from the line's number):
  // as many distinct clients as denials as lines means each line was counted exactly once.
  expect(metricSum(metrics, "why403_lines_total")).toBe(made.lines);
  expect(metricSum(metrics, "why403_denials_total")).toBe(made.lines);
  expect(metricSum(metrics, "why403_distinct_clients")).toBe(made.lines);
  expect(await watch.stop()).toBe(0);
  expect(watch.stderr()).toMatch(/rotated \(renamed\)/);
  expect(watch.stderr()).toMatch(/truncated \(copytruncate\)/);
}, 300_000);
