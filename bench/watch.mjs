// why403 watch under load: how many lines per second it classifies and counts
// while /metrics is scraped ten times a second, and its memory while it keeps
// up with a steady stream. Baseline in the same run: `grep -c ' 403 '` over the
// same lines. Sizes: BENCH_WATCH_LINES (default 300,000), BENCH_WATCH_SECONDS of
// steady writing (default 5) at BENCH_WATCH_RATE lines/s (default 10,000).
import { spawn } from "node:child_process";
import { appendFileSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { rng, row, timeCommand } from "./stats.mjs";

const LINES = Number(process.env.BENCH_WATCH_LINES ?? 300_000);
const STEADY_SECONDS = Number(process.env.BENCH_WATCH_SECONDS ?? 5);
const RATE = Number(process.env.BENCH_WATCH_RATE ?? 10_000);
const PATHS = ["/api/items", "/login", "/admin/", "/upload", "/static/app.js", "/search"];
const STATUSES = [200, 200, 200, 200, 200, 200, 304, 403, 401, 429];

function lines(n, seed) {
  const r = rng(seed);
  const pick = (xs) => xs[Math.floor(r() * xs.length)];
  const out = [];
  for (let i = 0; i < n; i++) {
    const client = `10.${Math.floor(r() * 4)}.${Math.floor(r() * 256)}.${Math.floor(r() * 256)}`;
    const sec = String(i % 60).padStart(2, "0");
    out.push(
      `${client} - - [02/Dec/2026:03:00:${sec} +0000] "${r() < 0.3 ? "POST" : "GET"} ${pick(PATHS)}?n=${i} HTTP/1.1" ${pick(STATUSES)} 512 "-" "bench/1"`,
    );
  }
  return `${out.join("\n")}\n`;
}

function rssMb(pid) {
  const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, "utf8"));
  return m ? Number(m[1]) / 1024 : Number.NaN;
}

async function linesCounted(address) {
  const text = await (await fetch(`http://${address}/metrics`)).text();
  let n = 0;
  for (const l of text.split("\n"))
    if (l.startsWith("why403_lines_total{")) n += Number(l.slice(l.lastIndexOf(" ") + 1));
  return n;
}

export async function watchThroughput() {
  const dir = mkdtempSync(join(tmpdir(), "why403-bench-watch-"));
  const log = join(dir, "access.log");
  writeFileSync(log, "");
  const text = lines(LINES, 7);
  writeFileSync(join(dir, "baseline.log"), text);
  const t0 = performance.now();
  const child = spawn(process.execPath, ["dist/why403.js", "watch", log, "--listen", "127.0.0.1:0"], {
    stdio: ["ignore", "ignore", "pipe"],
  });
  try {
    const address = await new Promise((resolve, reject) => {
      let err = "";
      child.stderr.on("data", (d) => {
        err += d;
        const m = /metrics on http:\/\/(\S+)\/metrics/.exec(err);
        if (m) resolve(m[1]);
      });
      child.once("exit", (code) => reject(new Error(`watch exited ${code}: ${err}`)));
    });
    const startMs = performance.now() - t0;
    const idleRss = rssMb(child.pid);
    const grepMs = timeCommand("grep", ["-c", " 403 ", join(dir, "baseline.log")], 5);

    // Burst: all lines at once; scraped every 100 ms until every line is counted.
    const t1 = performance.now();
    const chunk = 1 << 20;
    for (let at = 0; at < text.length; at += chunk) appendFileSync(log, text.slice(at, at + chunk));
    let peak = 0;
    let scrapes = 0;
    while ((await linesCounted(address)) < LINES) {
      scrapes++;
      peak = Math.max(peak, rssMb(child.pid));
      await new Promise((r) => setTimeout(r, 100));
    }
    const burstMs = performance.now() - t1;
    const rate = LINES / (burstMs / 1000);
    const grepRate = LINES / (grepMs / 1000);

    // Steady stream: RATE lines/s for STEADY_SECONDS, RSS sampled every second.
    const steady = lines(RATE, 11);
    const samples = [];
    for (let s = 0; s < STEADY_SECONDS; s++) {
      const t = performance.now();
      for (let k = 0; k < 10; k++) {
        const part = steady.length / 10;
        appendFileSync(log, steady.slice(Math.floor(k * part), Math.floor((k + 1) * part)));
        await new Promise((r) => setTimeout(r, Math.max(0, t + (k + 1) * 100 - performance.now())));
      }
      samples.push(rssMb(child.pid));
    }
    const target = LINES + RATE * STEADY_SECONDS;
    const t2 = performance.now();
    while ((await linesCounted(address)) < target && performance.now() - t2 < 30_000)
      await new Promise((r) => setTimeout(r, 50));
    const lagMs = performance.now() - t2;

    row(
      "watch start until /metrics answers",
      `${startMs.toFixed(0)} ms`,
      `idle RSS ${idleRss.toFixed(0)} MB`,
    );
    row(
      `burst of ${LINES.toLocaleString("en")} lines, scraped every 100 ms`,
      `${Math.round(rate).toLocaleString("en")}/s`,
      `${(rate / grepRate).toFixed(2)}x grep -c (${Math.round(grepRate).toLocaleString("en")} lines/s); ${scrapes} scrapes; peak RSS ${peak.toFixed(0)} MB`,
    );
    row(
      `steady ${RATE.toLocaleString("en")} lines/s for ${STEADY_SECONDS} s`,
      `RSS ${samples.map((x) => x.toFixed(0)).join("→")} MB`,
      `behind by ${lagMs.toFixed(0)} ms at the end`,
    );
    process.stdout.write(
      "  aim: keeps up with ≥ 5,000 lines/s; steady memory (no growth while the stream is steady)\n",
    );
  } finally {
    child.kill("SIGINT");
    rmSync(dir, { recursive: true, force: true });
  }
}
