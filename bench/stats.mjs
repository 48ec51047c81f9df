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
  process.stdout.write(`  ${label.padEnd(52)} ${value.padStart(12)}  ${extra}\n`);
}

/** Prints an aligned table; `leftColumns` are left-aligned (default: the first and the last). */
export function table(headers, rows, leftColumns = [0, headers.length - 1]) {
  const cells = [headers, ...rows].map((r) => r.map(String));
  const widths = headers.map((_, i) => Math.max(...cells.map((r) => (r[i] ?? "").length)));
  const fmt = (r) =>
    `  ${r
      .map((c, i) => (leftColumns.includes(i) ? c.padEnd(widths[i]) : c.padStart(widths[i])))
      .join("  ")
      .trimEnd()}\n`;
  process.stdout.write(fmt(cells[0]));
  process.stdout.write(`  ${widths.map((w) => "-".repeat(w)).join("  ")}\n`);
  for (const r of cells.slice(1)) process.stdout.write(fmt(r));
}

export function note(text) {
  process.stdout.write(`  ${text}\n`);
}

/** The library bundle, built by `npm run build`. */
export async function library() {
  const { existsSync } = await import("node:fs");
  const { pathToFileURL } = await import("node:url");
  const { resolve } = await import("node:path");
  const path = resolve("dist/index.js");
  if (!existsSync(path)) throw new Error("dist/index.js missing: run npm run build");
  return import(pathToFileURL(path).href);
}

export const ms = (x) => `${x < 10 ? x.toFixed(2) : x.toFixed(1)} ms`;

/** A small seeded generator (xorshift32), so generated inputs are the same every run. */
export function rng(seed) {
  let s = seed >>> 0;
  return () => {
    s ^= s << 13;
    s ^= s >>> 17;
    s ^= s << 5;
    return (s >>> 0) / 2 ** 32;
  };
}
