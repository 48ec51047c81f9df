// Cold start of the built CLI beside `node -e 0`, measured in the same run.
import { existsSync, readdirSync } from "node:fs";
import { row, timeCommand } from "./stats.mjs";

export async function coldStart() {
  if (!existsSync("dist/why403.js")) throw new Error("dist/why403.js missing: run npm run build");
  const fixtures = existsSync("fixtures/responses")
    ? readdirSync("fixtures/responses").filter((f) => f.endsWith(".http"))
    : [];
  const fixture = fixtures.find((f) => f.startsWith("cloudflare")) ?? fixtures[0];
  const node = timeCommand(process.execPath, ["-e", "0"]);
  row("node -e 0 (baseline)", `${node.toFixed(1)} ms`, "1.00x");
  const version = timeCommand(process.execPath, ["dist/why403.js", "--version"]);
  row("why403 --version", `${version.toFixed(1)} ms`, `${(version / node).toFixed(2)}x node (aim < 3x)`);
  if (fixture) {
    const resp = timeCommand(process.execPath, [
      "dist/why403.js",
      "response",
      `fixtures/responses/${fixture}`,
      "--json",
    ]);
    row(
      `why403 response ${fixture}`,
      `${resp.toFixed(1)} ms`,
      `${(resp / node).toFixed(2)}x node (aim < 3x)`,
    );
  }
}
