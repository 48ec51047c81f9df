// ClickHouse beside the local path on the same lines: a table generated inside a
// private clickhouse-server with numbers() (lab/clickhouse-gen.mjs), exported to a
// file; then `why403 logs <file> --json` and `why403 logs --clickhouse … --json`
// are timed, their rows per second printed side by side, and their counts compared.
// BENCH_CH_REQUESTS sets the requests generated (default 2,000,000: about 2.2 million rows).
import { spawn } from "node:child_process";
import { mkdirSync, rmSync, statSync } from "node:fs";
import { join, resolve } from "node:path";
import { clickhouseInstalled, startClickHouse } from "../lab/clickhouse.mjs";
import { exportSource, generateTable } from "../lab/clickhouse-gen.mjs";
import { note, row } from "./stats.mjs";

/** The server's own CPU time (user, seconds) for the queries that started at or after `since` (log_queries is on in lab/clickhouse.mjs). */
async function serverCpuSeconds(url, since) {
  const query = `SELECT sum(ProfileEvents.Values[indexOf(ProfileEvents.Names, 'UserTimeMicroseconds')]) / 1e6 AS s
    FROM system.query_log WHERE type = 2 AND event_time >= toDateTime(${Math.floor(since / 1000)})`;
  await fetch(url, { method: "POST", body: "SYSTEM FLUSH LOGS" });
  const r = await fetch(url, { method: "POST", body: `${query} FORMAT TSV` });
  return Number((await r.text()).trim());
}

function run(args, env = {}) {
  return new Promise((res, rej) => {
    const t0 = performance.now();
    const child = spawn(process.execPath, ["dist/why403.js", ...args], {
      stdio: ["ignore", "pipe", "pipe"],
      env: { ...process.env, NO_COLOR: "1", ...env },
    });
    let out = "";
    let err = "";
    child.stdout.on("data", (d) => {
      out += d;
    });
    child.stderr.on("data", (d) => {
      err += d;
    });
    child.on("error", rej);
    child.on("close", (code) => {
      const ms = performance.now() - t0;
      if (code !== 0) rej(new Error(`why403 ${args[0]} exited ${code}: ${err.split("\n")[0]}`));
      else res({ report: JSON.parse(out), ms });
    });
  });
}

export async function logsClickHouse() {
  if (!clickhouseInstalled()) {
    note("(skipped: clickhouse-server is not installed; lab/install.sh installs it)");
    return;
  }
  const requests = Number(process.env.BENCH_CH_REQUESTS ?? 2_000_000);
  const dir = resolve(".run/bench/clickhouse");
  const server = await startClickHouse({ dir: join(dir, "server") });
  try {
    mkdirSync(dir, { recursive: true });
    const path = join(dir, "generated-mixed.log");
    const t0 = performance.now();
    const rows = await generateTable(server.url, {
      table: "bench",
      requests,
      refusedPct: 7,
      path,
      timeZone: Intl.DateTimeFormat().resolvedOptions().timeZone,
    });
    await exportSource(server.url, { table: "bench", source: path, file: path });
    note(
      `generated ${rows.toLocaleString("en-US")} rows inside ClickHouse and exported them (${(statSync(path).size / 2 ** 20).toFixed(0)} MB) in ${((performance.now() - t0) / 1000).toFixed(1)} s`,
    );
    const local = await run(["logs", path, "--json", "--limit", "10"]);
    // Whole seconds in query_log: wait for the next one so that no generation query is counted.
    await new Promise((r) => setTimeout(r, 1100));
    const insideStart = Date.now();
    const inside = await run([
      "logs",
      "--clickhouse",
      server.url,
      "--table",
      "bench",
      "--json",
      "--limit",
      "10",
    ]);
    const rate = (ms) => `${Math.round((rows / ms) * 1000).toLocaleString("en-US")} rows/s`;
    row(`why403 logs <exported file> (local streaming)`, rate(local.ms), `${(local.ms / 1000).toFixed(2)} s`);
    row(
      `why403 logs --clickhouse (inside ClickHouse 18.16)`,
      rate(inside.ms),
      `${(inside.ms / 1000).toFixed(2)} s; ${(local.ms / inside.ms).toFixed(2)}x the local path's speed`,
    );
    // Wall time on a shared machine counts the waiting for a core too; the server's CPU time does not.
    const cpu = await serverCpuSeconds(server.url, insideStart);
    row(
      "inside ClickHouse, per CPU-second of the server",
      `${Math.round(rows / cpu).toLocaleString("en-US")} rows/s`,
      `${cpu.toFixed(1)} s of server CPU (user) for ${(inside.ms / 1000).toFixed(1)} s wall`,
    );
    const same =
      local.report.denials === inside.report.denials &&
      JSON.stringify(Object.entries(local.report.byCause).sort()) ===
        JSON.stringify(Object.entries(inside.report.byCause).sort());
    row(
      "counts (denials, by cause)",
      same ? "equal" : "DIFFER",
      `local ${local.report.denials}, ClickHouse ${inside.report.denials}`,
    );
    rmSync(path, { force: true });
  } finally {
    await server.stop();
    rmSync(join(dir, "server"), { recursive: true, force: true });
  }
}
