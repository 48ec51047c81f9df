// Explainable denials through the real frameworks: Express 5, Fastify 5 and Hono
// (@hono/node-server), each on 127.0.0.1. Every app has an allowed route, a
// route that throws a Denial and a route that throws an ordinary error.
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import type { Server } from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { serve } from "@hono/node-server";
import express from "express5";
import Fastify from "fastify";
import { Hono } from "hono";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import * as expressMw from "../src/middleware/express.js";
import * as fastifyMw from "../src/middleware/fastify.js";
import * as honoMw from "../src/middleware/hono.js";
import { runCliAsync } from "./helpers/cli.js";
import { send } from "./helpers/http.js";

const SECRET = "s3cr3t-Query-Token-9f8e7d";
const MARKER = "<script>echo-me</script>";

interface Running {
  url: string;
  log: string;
  close: () => Promise<void>;
}

function refuseOrder(Denial: typeof expressMw.Denial): never {
  throw new Denial({
    cause: "app-logic",
    reason: "order-shipped",
    detail: "Order 17 has shipped and can no longer be changed",
    status: 409,
  });
}

async function startExpress(dir: string): Promise<Running> {
  const log = join(dir, "express.jsonl");
  const app = express();
  app.get("/ok", (_req, res) => {
    res.json({ ok: true });
  });
  app.post("/orders/:id", () => refuseOrder(expressMw.Denial));
  app.post("/quota", async () => {
    throw new expressMw.Denial({ cause: "rate-limit", reason: "daily-quota", status: 429, retryAfter: 60 });
  });
  app.post("/boom", () => {
    throw new Error("plain failure");
  });
  app.use(expressMw.explainDenials({ log }));
  const server = await new Promise<Server>((resolve) => {
    const s = app.listen(0, "127.0.0.1", () => resolve(s));
  });
  return { url: urlOf(server), log, close: () => closeServer(server) };
}

async function startFastify(dir: string): Promise<Running> {
  const log = join(dir, "fastify.jsonl");
  const app = Fastify();
  await app.register(fastifyMw.explainDenials({ log }));
  app.get("/ok", async () => ({ ok: true }));
  app.post("/orders/:id", async () => refuseOrder(fastifyMw.Denial));
  app.post("/quota", async () => {
    throw new fastifyMw.Denial({ cause: "rate-limit", reason: "daily-quota", status: 429, retryAfter: 60 });
  });
  app.post("/boom", async () => {
    throw new Error("plain failure");
  });
  const address = await app.listen({ port: 0, host: "127.0.0.1" });
  return { url: address, log, close: () => app.close() };
}

async function startHono(dir: string): Promise<Running> {
  const log = join(dir, "hono.jsonl");
  const app = new Hono();
  app.get("/ok", (c) => c.json({ ok: true }));
  app.post("/orders/:id", () => refuseOrder(honoMw.Denial));
  app.post("/quota", () => {
    throw new honoMw.Denial({ cause: "rate-limit", reason: "daily-quota", status: 429, retryAfter: 60 });
  });
  app.post("/boom", () => {
    throw new Error("plain failure");
  });
  app.onError(honoMw.explainDenials({ log }));
  const server = await new Promise<Server>((resolve) => {
    const s = serve({ fetch: app.fetch, port: 0, hostname: "127.0.0.1" }, () => resolve(s as Server));
  });
  return { url: urlOf(server), log, close: () => closeServer(server) };
}

function urlOf(server: Server): string {
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}

function closeServer(server: Server): Promise<void> {
  return new Promise((resolve) => {
    server.closeAllConnections?.();
    server.close(() => resolve());
  });
}

function logLines(path: string): Array<Record<string, unknown>> {
  return readFileSync(path, "utf8")
    .split("\n")
    .filter(Boolean)
    .map((l) => JSON.parse(l) as Record<string, unknown>);
}

/** Lines are written asynchronously by a file stream: wait until n are there. */
async function waitForLines(path: string, n: number): Promise<Array<Record<string, unknown>>> {
  for (let i = 0; i < 100; i++) {
    try {
      const lines = logLines(path);
      if (lines.length >= n) return lines;
    } catch {
      // not created yet
    }
    await new Promise((r) => setTimeout(r, 20));
  }
  return logLines(path);
}

const frameworks = [
  ["express 5", startExpress],
  ["fastify 5", startFastify],
  ["hono", startHono],
] as const;

describe.each(frameworks)("explainable denials: %s", (_name, start) => {
  let dir: string;
  let app: Running;
  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), "why403-mw-"));
    app = await start(dir);
  });
  afterAll(async () => {
    await app.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it("answers a Denial with problem+json and writes one decision line; nothing from the request is echoed", async () => {
    const r = await send(`${app.url}/orders/17?token=${SECRET}`, {
      method: "POST",
      headers: { "content-type": "application/json", "x-request-id": "req-abc.123", "x-note": MARKER },
      body: JSON.stringify({ note: MARKER }),
    });
    expect(r.status).toBe(409);
    expect(r.headers["content-type"]).toBe("application/problem+json");
    expect(JSON.parse(r.body)).toEqual({
      type: "urn:why403:cause:app-logic",
      title: "Refused by a business rule",
      status: 409,
      detail: "Order 17 has shipped and can no longer be changed",
      cause: "app-logic",
      reason: "order-shipped",
      requestId: "req-abc.123",
    });
    expect(r.body).not.toContain("echo-me");
    expect(r.body).not.toContain(SECRET);
    const lines = await waitForLines(app.log, 1);
    expect(lines).toHaveLength(1);
    const line = lines[0] as Record<string, unknown>;
    expect(Object.keys(line).sort()).toEqual(
      ["cause", "detail", "method", "path", "reason", "requestId", "schema", "status", "time"].sort(),
    );
    expect(line).toMatchObject({
      schema: "why403.decision/v1",
      requestId: "req-abc.123",
      method: "POST",
      path: "/orders/17",
      status: 409,
      cause: "app-logic",
      reason: "order-shipped",
      detail: "Order 17 has shipped and can no longer be changed",
    });
    expect(Number.isNaN(Date.parse(String(line.time)))).toBe(false);
    expect(readFileSync(app.log, "utf8")).not.toContain(SECRET);
  });

  it("a request id that is not a plain token is replaced by a fresh one, not echoed", async () => {
    const r = await send(`${app.url}/orders/17`, { method: "POST", headers: { "x-request-id": MARKER } });
    const body = JSON.parse(r.body) as { requestId: string };
    expect(body.requestId).toMatch(/^[0-9a-f-]{36}$/);
    expect(r.headers["x-request-id"]).toBe(body.requestId);
    expect(r.body).not.toContain("echo-me");
  });

  it("a rate-limit denial carries its status and Retry-After", async () => {
    const r = await send(`${app.url}/quota`, { method: "POST" });
    expect(r.status).toBe(429);
    expect(r.headers["retry-after"]).toBe("60");
    expect(JSON.parse(r.body)).toMatchObject({ type: "urn:why403:cause:rate-limit", reason: "daily-quota" });
  });

  it("leaves allowed requests and other errors alone", async () => {
    const ok = await send(`${app.url}/ok`);
    expect(ok.status).toBe(200);
    expect(JSON.parse(ok.body)).toEqual({ ok: true });
    const before = (await waitForLines(app.log, 3)).length;
    const boom = await send(`${app.url}/boom`, { method: "POST" });
    expect(boom.status).toBe(500);
    expect(boom.headers["content-type"] ?? "").not.toContain("problem+json");
    await new Promise((r) => setTimeout(r, 50));
    expect(logLines(app.log)).toHaveLength(before);
  });
});

describe("Denial", () => {
  it("refuses an unknown cause, a free-text reason and a non-4xx status", () => {
    expect(() => new expressMw.Denial({ cause: "nope" as "waf", reason: "x" })).toThrow(/cause must be/);
    expect(() => new expressMw.Denial({ cause: "waf", reason: "has spaces" })).toThrow(/reason/);
    expect(() => new expressMw.Denial({ cause: "waf", reason: "x", status: 500 })).toThrow(/4xx/);
  });
});

describe("a refusal explained by the middleware is diagnosed from the answer and from the log", () => {
  let dir: string;
  let app: Running;
  let hits = 0;
  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), "why403-mw-cli-"));
    const log = join(dir, "decisions.jsonl");
    const server = express();
    server.use((_req, _res, next) => {
      hits++;
      next();
    });
    server.post("/projects", () => {
      throw new expressMw.Denial({
        cause: "app-logic",
        reason: "plan-limit",
        detail: "Your plan allows 3 projects",
      });
    });
    server.use(expressMw.explainDenials({ log }));
    const s = await new Promise<Server>((resolve) => {
      const l = server.listen(0, "127.0.0.1", () => resolve(l));
    });
    app = { url: urlOf(s), log, close: () => closeServer(s) };
  });
  afterAll(async () => {
    await app.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it("why403 curl: the verdict comes from the replay alone (the app saw exactly one request)", async () => {
    const r = await runCliAsync([
      "curl",
      `${app.url}/projects`,
      "-H",
      "content-type: application/json",
      "--data-raw",
      '{"name":"four"}',
      "--json",
    ]);
    expect(r.code).toBe(0);
    const report = JSON.parse(r.stdout) as {
      verdict: { cause: string; evidence: string[] };
      probes: unknown[];
    };
    expect(report.verdict.cause).toBe("app-logic");
    expect(report.verdict.evidence.join(" ")).toContain("plan-limit");
    expect(report.probes).toHaveLength(1);
    expect(hits).toBe(1);
  });

  it("why403 response: a saved answer of the middleware is decisive on its own", async () => {
    const r = await send(`${app.url}/projects`, { method: "POST", body: "{}" });
    const saved = join(dir, "saved.http");
    const head = Object.entries(r.headers)
      .map(([k, v]) => `${k}: ${String(v)}`)
      .join("\r\n");
    writeFileSync(saved, `HTTP/1.1 ${r.status} Forbidden\r\n${head}\r\n\r\n${r.body}`);
    const out = await runCliAsync(["response", saved, "--json"]);
    expect(out.code).toBe(0);
    const report = JSON.parse(out.stdout) as { verdict: { cause: string; confidence: number } };
    expect(report.verdict.cause).toBe("app-logic");
    expect(report.verdict.confidence).toBeGreaterThanOrEqual(0.95);
  });

  it("why403 logs: the decision line gives the exact cause and reason", async () => {
    // One line from the curl test's replay, one from the response test's request.
    await waitForLines(app.log, 2);
    const r = await runCliAsync(["logs", app.log, "--json"]);
    expect(r.code).toBe(0);
    const report = JSON.parse(r.stdout) as {
      denials: number;
      byCause: Record<string, number>;
      files: Array<{ format: string }>;
      entries: Array<{ cause: string; reason?: string; path: string; method: string; message: string }>;
    };
    expect(report.denials).toBe(2);
    expect(report.byCause).toEqual({ "app-logic": 2 });
    expect(report.files[0]?.format).toBe("why403-decision");
    expect(report.entries[0]).toMatchObject({
      cause: "app-logic",
      reason: "plan-limit",
      method: "POST",
      path: "/projects",
    });
    expect(report.entries[0]?.message).toContain("Your plan allows 3 projects");
  });
});
