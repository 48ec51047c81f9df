// End to end with the real tools: Debian's prometheus (2.42) scrapes
// `why403 watch`, which follows the lab nginx's logs and an Express 5 app's
// decision log; prometheus-alertmanager (0.25) sends the fs-permission alert to
// a webhook served here. Loopback ports, private data directories, one-second
// scrape and evaluation intervals.
import { type ChildProcess, spawn } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { createServer, request, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import express from "express5";
import { afterAll, beforeAll, expect, it } from "vitest";
import { Denial, explainDenials } from "../../src/middleware/express.js";
import { getLab } from "../helpers/lab.js";
import { type RunningWatch, startWatch, stopAll, until } from "./helpers.js";

const root = process.cwd();
const dir = mkdtempSync(join(tmpdir(), "why403-prom-"));
const children: ChildProcess[] = [];
const servers: Server[] = [];
let watch: RunningWatch;
let promUrl = "";
const hooks: Array<{ alerts: Array<{ status: string; labels: Record<string, string> }> }> = [];

async function freePort(): Promise<number> {
  const s = createServer();
  await new Promise<void>((r) => s.listen(0, "127.0.0.1", () => r()));
  const port = (s.address() as AddressInfo).port;
  await new Promise<void>((r) => s.close(() => r()));
  return port;
}

function listen(server: Server): Promise<number> {
  servers.push(server);
  return new Promise((r) => server.listen(0, "127.0.0.1", () => r((server.address() as AddressInfo).port)));
}

function startTool(bin: string, args: string[], name: string): void {
  const child = spawn(bin, args, { stdio: ["ignore", "ignore", "pipe"] });
  let err = "";
  child.stderr?.on("data", (d) => {
    err = (err + d).slice(-4000);
  });
  child.on("exit", (code) => {
    if (code !== null && code !== 0) process.stderr.write(`${name} exited ${code}: ${err}\n`);
  });
  children.push(child);
}

async function ready(url: string): Promise<void> {
  await until(
    async () =>
      fetch(url).then(
        (r) => r.status,
        () => 0,
      ),
    (s) => s === 200,
    30_000,
  );
}

async function query(expr: string): Promise<Record<string, number>> {
  const r = await fetch(`${promUrl}/api/v1/query?query=${encodeURIComponent(expr)}`);
  const body = (await r.json()) as {
    data: { result: Array<{ metric: Record<string, string>; value: [number, string] }> };
  };
  const out: Record<string, number> = {};
  for (const s of body.data.result) out[s.metric.cause ?? ""] = Number(s.value[1]);
  return out;
}

function sendTo(base: string, host: string, method: string, path: string, body?: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const req = request(
      new URL(path, base),
      { method, headers: { Host: host, ...(body ? { "content-length": Buffer.byteLength(body) } : {}) } },
      (res) => {
        res.resume();
        res.on("end", () => resolve(res.statusCode ?? 0));
      },
    );
    req.on("error", reject);
    req.end(body);
  });
}

let appUrl = "";

beforeAll(async () => {
  const lab = getLab();
  // The application: one route that explains its refusal into a decision log.
  const decisions = join(dir, "decisions.jsonl");
  const app = express();
  app.post("/orders/:id", () => {
    throw new Denial({ cause: "app-logic", reason: "order-shipped", detail: "Order has shipped" });
  });
  app.use(explainDenials({ log: decisions }));
  appUrl = `http://127.0.0.1:${await listen(createServer(app))}`;

  // The webhook Alertmanager calls.
  const hookPort = await listen(
    createServer((req, res) => {
      let b = "";
      req.on("data", (d) => (b += d));
      req.on("end", () => {
        hooks.push(JSON.parse(b));
        res.end("ok");
      });
    }),
  );

  watch = await startWatch([lab.nginx.accessLog, lab.nginx.errorLog, decisions, "--join-window", "500"]);

  const amPort = await freePort();
  writeFileSync(
    join(dir, "alertmanager.yml"),
    `route:
  receiver: test
  group_by: [alertname]
  group_wait: 1s
  group_interval: 1s
  repeat_interval: 1h
receivers:
  - name: test
    webhook_configs:
      - url: http://127.0.0.1:${hookPort}/hook
        send_resolved: false
`,
  );
  startTool(
    "/usr/bin/prometheus-alertmanager",
    [
      `--config.file=${join(dir, "alertmanager.yml")}`,
      `--storage.path=${join(dir, "am-data")}`,
      `--web.listen-address=127.0.0.1:${amPort}`,
      "--cluster.listen-address=",
    ],
    "alertmanager",
  );

  const promPort = await freePort();
  promUrl = `http://127.0.0.1:${promPort}`;
  writeFileSync(
    join(dir, "prometheus.yml"),
    `global:
  scrape_interval: 1s
  evaluation_interval: 1s
rule_files:
  - ${join(root, "alerts", "why403.rules.yml")}
alerting:
  alertmanagers:
    - static_configs:
        - targets: ["127.0.0.1:${amPort}"]
scrape_configs:
  - job_name: why403
    static_configs:
      - targets: ["${watch.address}"]
`,
  );
  startTool(
    "/usr/bin/prometheus",
    [
      `--config.file=${join(dir, "prometheus.yml")}`,
      `--storage.tsdb.path=${join(dir, "prom-data")}`,
      `--web.listen-address=127.0.0.1:${promPort}`,
    ],
    "prometheus",
  );
  await ready(`http://127.0.0.1:${amPort}/-/ready`);
  await ready(`${promUrl}/-/ready`);
}, 90_000);

afterAll(async () => {
  await watch?.stop();
  stopAll();
  for (const c of children) c.kill("SIGTERM");
  await Promise.all(
    children.map((c) => new Promise((r) => (c.exitCode !== null ? r(null) : c.on("exit", r)))),
  );
  for (const s of servers) s.close();
  rmSync(dir, { recursive: true, force: true });
});

it("prometheus scrapes the denials by cause and alertmanager delivers the fs-permission alert", async () => {
  const { nginx } = getLab();
  // Scraped once with nothing counted: the series that appear next are new.
  await until(
    () => query("up{job='why403'}").then((r) => r[""] ?? 0),
    (v) => v === 1,
    30_000,
  );
  for (let i = 0; i < 3; i++)
    expect(await sendTo(nginx.url, nginx.host, "GET", "/private/secret.txt")).toBe(403);
  for (let i = 0; i < 2; i++) expect(await sendTo(nginx.url, nginx.host, "POST", "/admin/", "a=1")).toBe(403);
  expect(await sendTo(appUrl, "shop.test", "POST", "/orders/17", "{}")).toBe(403);

  const byCause = await until(
    () => query("sum by (cause) (why403_denials_total)"),
    (r) => r["fs-permission"] === 3 && r["ip-restriction"] === 2 && r["app-logic"] === 1,
    30_000,
  );
  expect(byCause).toEqual({ "fs-permission": 3, "ip-restriction": 2, "app-logic": 1 });
  const byLayer = await query('sum by (cause) (why403_denials_total{layer="application"})');
  expect(byLayer).toEqual({ "app-logic": 1 });
  const posts = await query('sum by (cause) (why403_denials_by_method_total{method="POST"})');
  expect(posts).toEqual({ "ip-restriction": 2, "app-logic": 1 });

  const delivered = await until(
    async () => hooks.flatMap((h) => h.alerts),
    (alerts) => alerts.some((a) => a.labels.alertname === "Why403FsPermissionDenial"),
    45_000,
  );
  const alert = delivered.find((a) => a.labels.alertname === "Why403FsPermissionDenial");
  expect(alert?.status).toBe("firing");
  expect(alert?.labels).toMatchObject({ cause: "fs-permission", product: "nginx", severity: "critical" });
}, 120_000);
