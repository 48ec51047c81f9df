// Stops the lab started by hand with lab/start.mjs (by the pids it recorded).
import { readFileSync, rmSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { labBaseDir, labJsonPath, stopLabAndWait } from "./lab.mjs";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");
const runDir = join(labBaseDir(root), "manual");
const pids = await stopLabAndWait(runDir);
try {
  if (JSON.parse(readFileSync(labJsonPath(root), "utf8")).runDir === runDir) rmSync(labJsonPath(root));
} catch {
  // no pointer file, or another lab's
}
process.stdout.write(pids.length ? `lab: stopped ${pids.join(", ")}\n` : "lab: nothing running\n");
