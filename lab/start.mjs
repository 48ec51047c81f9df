// Starts the lab by hand (name "manual") and prints its lab.json.
//   node lab/start.mjs        stop it again with: node lab/stop.mjs
import { writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { labJsonPath, startLab } from "./lab.mjs";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");
try {
  const info = await startLab({ root, name: "manual", owner: 0 });
  const json = JSON.stringify(info, null, 2) + "\n";
  writeFileSync(labJsonPath(root), json);
  process.stdout.write(json);
} catch (err) {
  process.stderr.write(`lab: ${err.message}\n`);
  process.exit(1);
}
