// The shipped alert rules pass `promtool check rules` and their unit tests
// (`promtool test rules`, Debian's prometheus 2.42).
import { spawnSync } from "node:child_process";
import { join } from "node:path";
import { expect, it } from "vitest";

const PROMTOOL = process.env.PROMTOOL ?? "/usr/bin/promtool";
const root = process.cwd();

it("alerts/why403.rules.yml is valid and its promtool unit tests pass", () => {
  const check = spawnSync(PROMTOOL, ["check", "rules", join(root, "alerts", "why403.rules.yml")], {
    encoding: "utf8",
  });
  expect(check.stdout + check.stderr).toMatch(/SUCCESS: 6 rules found/);
  expect(check.status).toBe(0);
  const test = spawnSync(PROMTOOL, ["test", "rules", join(root, "test", "alerts", "why403.rules.test.yml")], {
    encoding: "utf8",
  });
  expect(test.stdout + test.stderr).toMatch(/SUCCESS/);
  expect(test.stdout + test.stderr).not.toMatch(/FAILED/);
  expect(test.status).toBe(0);
});
