// Small helpers shared by the benchmarks.
import { spawnSync } from "node:child_process";

export function median(xs) {
  const s = [...xs].sort((a, b) => a - b);
  const m = Math.floor(s.length / 2);
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
}

/** Wall time of a command, in ms, median of `runs`. */
export function timeCommand(cmd, args, runs = 15) {
  const times = [];
  for (let i = 0; i < runs; i++) {
    const t0 = process.hrtime.bigint();
    const r = spawnSync(cmd, args, { stdio: "ignore" });
    const t1 = process.hrtime.bigint();
    if (r.error) throw r.error;
    times.push(Number(t1 - t0) / 1e6);
  }
  return median(times);
}

export function row(label, value, extra = "") {
  process.stdout.write(`  ${label.padEnd(44)} ${value.padStart(12)}  ${extra}\n`);
}
