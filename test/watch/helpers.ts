// Runs `why403 watch` (the built CLI) as a child process for the watch tests.
import { type ChildProcess, spawn } from "node:child_process";
import { CLI } from "../helpers/cli.js";

export interface RunningWatch {
  child: ChildProcess;
  /** host:port the metrics are served on. */
  address: string;
  stdout: () => string;
  stderr: () => string;
  metrics: () => Promise<string>;
  /** SIGINT, then the exit code. */
  stop: () => Promise<number | null>;
}

/** Every watch started, so a failed test still stops its child (see stopAll). */
const started = new Set<ChildProcess>();

/** Kills the watches a test left running (call from afterAll). */
export function stopAll(): void {
  for (const c of started) if (c.exitCode === null && c.signalCode === null) c.kill("SIGKILL");
  started.clear();
}

export async function startWatch(args: string[]): Promise<RunningWatch> {
  const child = spawn(process.execPath, [CLI, "watch", ...args, "--listen", "127.0.0.1:0"], {
    env: { ...process.env, NO_COLOR: "1" },
    stdio: ["ignore", "pipe", "pipe"],
  });
  started.add(child);
  let out = "";
  let err = "";
  child.stdout?.on("data", (d) => (out += d));
  child.stderr?.on("data", (d) => (err += d));
  const exited = new Promise<number | null>((resolve) => child.on("exit", (code) => resolve(code)));
  const address = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`watch did not start: ${err}`)), 20_000);
    const look = () => {
      const m = /metrics on http:\/\/([^/\s]+)\/metrics/.exec(err);
      if (m) {
        clearTimeout(timer);
        resolve(m[1] as string);
      }
    };
    child.stderr?.on("data", look);
    child.on("exit", () => reject(new Error(`watch exited: ${err}`)));
  });
  return {
    child,
    address,
    stdout: () => out,
    stderr: () => err,
    // A failed scrape (a kept-alive connection the server just closed: ECONNRESET) reads as empty; callers poll again.
    metrics: async () =>
      fetch(`http://${address}/metrics`).then(
        (r) => r.text(),
        () => "",
      ),
    stop: async () => {
      child.kill("SIGINT");
      return exited;
    },
  };
}

/** Sum of a metric's samples whose labels contain every given pair. */
export function metricSum(text: string, name: string, labels: Record<string, string> = {}): number {
  let sum = 0;
  for (const line of text.split("\n")) {
    if (!line.startsWith(`${name}{`) && !line.startsWith(`${name} `)) continue;
    if (!Object.entries(labels).every(([k, v]) => line.includes(`${k}="${v}"`))) continue;
    sum += Number(line.slice(line.lastIndexOf(" ") + 1));
  }
  return sum;
}

export async function until<T>(probe: () => Promise<T>, ok: (v: T) => boolean, ms = 20_000): Promise<T> {
  const end = Date.now() + ms;
  let v = await probe();
  while (!ok(v) && Date.now() < end) {
    await new Promise((r) => setTimeout(r, 100));
    v = await probe();
  }
  return v;
}
