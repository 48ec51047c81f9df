// Middleware overhead: autocannon against the same app without and with
// why403's explainDenials, per framework, on the allowed path (GET /ok) and the
// denied path (POST /orders/17: a hand-made 403 vs a Denial answered as
// problem+json with its decision line written to a file). Each app runs in its
// own process; bare and why403 runs alternate, BENCH_MW_ROUNDS rounds (default
// 2) of BENCH_MW_SECONDS seconds (default 2) each, and the median of the
// rounds' percentiles is compared.
import { spawn } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import autocannon from "autocannon";
import { median, table } from "./stats.mjs";

const APP = fileURLToPath(new URL("./middleware-app.mjs", import.meta.url));
const SECONDS = Number(process.env.BENCH_MW_SECONDS ?? 2);
const ROUNDS = Number(process.env.BENCH_MW_ROUNDS ?? 2);

async function startApp(framework, variant, log) {
  const child = spawn(process.execPath, [APP, framework, variant, log], {
    stdio: ["ignore", "pipe", "inherit"],
  });
  const port = await new Promise((resolve, reject) => {
    child.stdout.once("data", (d) => resolve(Number(String(d).trim())));
    child.once("exit", (code) => reject(new Error(`${framework} ${variant} app exited ${code}`)));
  });
  return { url: `http://127.0.0.1:${port}`, stop: () => child.kill() };
}

function load(url, path) {
  const opts = { url: url + path, connections: 10, duration: SECONDS };
  if (path !== "/ok")
    Object.assign(opts, { method: "POST", body: "{}", headers: { "content-type": "application/json" } });
  return autocannon(opts);
}

const pct = (base, x) => `${base > 0 ? (((x - base) / base) * 100).toFixed(1) : "n/a"}%`;

export async function middlewareOverhead() {
  const dir = mkdtempSync(join(tmpdir(), "why403-bench-mw-"));
  const rows = [];
  try {
    for (const framework of ["express", "fastify", "hono"]) {
      for (const path of ["/ok", "/orders/17"]) {
        const got = { bare: [], why403: [] };
        for (let round = 0; round < ROUNDS; round++) {
          // Alternating order: neither variant always runs on the warmer machine.
          for (const variant of round % 2 === 0 ? ["bare", "why403"] : ["why403", "bare"]) {
            const app = await startApp(framework, variant, join(dir, `${framework}-${variant}.jsonl`));
            try {
              await autocannon({ url: app.url + "/ok", connections: 10, amount: 2000 }); // JIT warm-up
              got[variant].push(await load(app.url, path));
            } finally {
              app.stop();
            }
          }
        }
        const stat = (v, k) => median(got[v].map((r) => r.latency[k]));
        const rps = (v) => median(got[v].map((r) => r.requests.average));
        const [b50, m50, b99, m99] = [
          stat("bare", "p50"),
          stat("why403", "p50"),
          stat("bare", "p99"),
          stat("why403", "p99"),
        ];
        const label = path === "/ok" ? "allowed" : "denied";
        process.stdout.write(
          `  ${framework} ${label}: middleware overhead: p50 ${pct(b50, m50)}, p99 ${pct(b99, m99)}\n`,
        );
        rows.push([
          framework,
          label,
          `${b50} / ${m50}`,
          `${b99} / ${m99}`,
          `${Math.round(rps("bare"))} / ${Math.round(rps("why403"))}`,
          pct(rps("bare"), rps("why403")),
        ]);
      }
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  table(
    [
      "framework",
      "path",
      "p50 ms bare / why403",
      "p99 ms bare / why403",
      "req/s bare / why403",
      "req/s change",
    ],
    rows,
  );
  process.stdout.write(
    "  aim: ≤ 5% at p99 on the allowed path (autocannon's latencies are whole ms: small differences round)\n",
  );
}
