// Runs the built CLI in a child process and measures its peak RSS: with
// /usr/bin/time -f %M when present, else with an --import hook that writes
// process.resourceUsage().maxRSS (KiB) to a file at exit.
import { spawn } from "node:child_process";
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { CLI } from "../helpers/cli.js";

export interface MeasuredRun {
  code: number | null;
  stdout: string;
  stderr: string;
  /** Peak resident set size of the CLI process, KiB (NaN when it could not be read). */
  peakRssKb: number;
}

const TIME = existsSync("/usr/bin/time") ? "/usr/bin/time" : null;
const DIR = join(process.cwd(), ".run", "measure");
const HOOK = join(DIR, "rss-hook.mjs");
let seq = 0;

function ensureHook(): void {
  mkdirSync(DIR, { recursive: true });
  if (!TIME && !existsSync(HOOK))
    writeFileSync(
      HOOK,
      "import { writeFileSync } from 'node:fs';\nprocess.on('exit', () => { try { writeFileSync(process.env.WHY403_RSS_FILE, String(process.resourceUsage().maxRSS) + '\\n'); } catch {} });\n",
    );
}

export function runMeasured(
  args: string[],
  opts: { env?: Record<string, string>; timeoutMs?: number; input?: string } = {},
): Promise<MeasuredRun> {
  ensureHook();
  const rssFile = join(DIR, `rss-${process.pid}-${++seq}.txt`);
  const node = [process.execPath, ...(TIME ? [] : ["--import", HOOK]), CLI, ...args];
  const cmd = TIME ? [TIME, "-o", rssFile, "-f", "%M", ...node] : node;
  return new Promise((resolve) => {
    const child = spawn(cmd[0]!, cmd.slice(1), {
      env: { ...process.env, NO_COLOR: "1", FORCE_COLOR: "", WHY403_RSS_FILE: rssFile, ...opts.env },
      stdio: [opts.input === undefined ? "ignore" : "pipe", "pipe", "pipe"],
    });
    if (opts.input !== undefined) child.stdin!.end(opts.input);
    let stdout = "";
    let stderr = "";
    child.stdout!.on("data", (d) => (stdout += d));
    child.stderr!.on("data", (d) => (stderr += d));
    const timer = setTimeout(() => child.kill("SIGKILL"), opts.timeoutMs ?? 30_000);
    child.on("close", (code) => {
      clearTimeout(timer);
      let peakRssKb = Number.NaN;
      try {
        const m = readFileSync(rssFile, "utf8").match(/^\d+$/m);
        peakRssKb = m ? Number(m[0]) : Number.NaN;
        rmSync(rssFile, { force: true });
      } catch {
        // no measurement: callers assert on it and fail loudly
      }
      resolve({ code, stdout, stderr, peakRssKb });
    });
  });
}
