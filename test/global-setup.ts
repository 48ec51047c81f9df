// Vitest global setup: starts the real-server lab once per test run and stops it
// (by recorded pid) when the run ends; its configs and logs stay until the next run. Each run gets its own lab in
// .run/lab/run-<pid>/ so concurrent runs in one checkout do not collide.
import { existsSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { labBaseDir, labJsonPath, startLab, stopLabAndWait } from "../lab/lab.mjs";
import { LAB_JSON_ENV } from "./helpers/lab.js";

function labIsRunning(runDir: string): boolean {
  try {
    const state = JSON.parse(readFileSync(join(runDir, "state.json"), "utf8")) as { pids?: object };
    return Object.keys(state.pids ?? {}).length > 0;
  } catch {
    return false;
  }
}

export default async function setup(): Promise<() => Promise<void>> {
  const root = process.cwd();
  const name = `run-${process.pid}`;
  const runDir = join(labBaseDir(root), name);
  const info = await startLab({ root, name, owner: process.pid });
  const json = JSON.stringify(info, null, 2) + "\n";
  const ownFile = join(runDir, "lab.json");
  const pointer = labJsonPath(root);
  const previous = existsSync(pointer) ? readFileSync(pointer, "utf8") : undefined;
  writeFileSync(pointer, json);
  process.env[LAB_JSON_ENV] = ownFile;

  return async () => {
    await stopLabAndWait(runDir);
    // Leave the pointer to whichever lab is still alive.
    if (existsSync(pointer) && readFileSync(pointer, "utf8") === json) {
      const prevDir = previous ? (JSON.parse(previous) as { runDir?: string }).runDir : undefined;
      if (previous && prevDir && labIsRunning(prevDir)) writeFileSync(pointer, previous);
      else rmSync(pointer, { force: true });
    }
    // The run dir (configs, logs) stays for inspection; the next run's start reaps it.
  };
}
