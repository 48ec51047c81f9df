// Fastify's own request logging (logger: true, pino to a file), as an app writes
// it: a request is two lines, "incoming request" with the method, URL and peer,
// then "request completed" with the status only. A refusal is read with all of them.
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import Fastify from "fastify";
import pino from "pino";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { analyzeLogs } from "../src/evidence/logs/index.js";

const dir = mkdtempSync(join(tmpdir(), "why403-fastify-"));
const LOG = join(dir, "app.log");
let close: () => Promise<unknown> = async () => undefined;
let base = "";

beforeAll(async () => {
  const destination = pino.destination({ dest: LOG, sync: true });
  const app = Fastify({ loggerInstance: pino(destination) });
  close = () => app.close();
  app.post("/api/orders", async (_req, reply) =>
    reply.code(403).send({ error: "quantity over the per-order limit" }),
  );
  app.get("/api/items", async () => ({ items: [] }));
  app.get("/api/me", async (_req, reply) => reply.code(401).send({ error: "no session" }));
  base = await app.listen({ host: "127.0.0.1", port: 0 });
});

afterAll(async () => {
  await close();
  rmSync(dir, { recursive: true, force: true });
});

describe("Fastify's request log", () => {
  it("gives each refusal the method, URL and client of its request's first line", async () => {
    expect((await fetch(`${base}/api/items`)).status).toBe(200);
    expect((await fetch(`${base}/api/orders`, { method: "POST", body: "qty=90" })).status).toBe(403);
    expect((await fetch(`${base}/api/me`)).status).toBe(401);
    // Two lines a request, the status on the second only.
    const lines = readFileSync(LOG, "utf8")
      .trim()
      .split("\n")
      .map((l) => JSON.parse(l));
    expect(lines.filter((l) => l.msg === "incoming request")).toHaveLength(3);
    expect(lines.filter((l) => l.msg === "request completed" && l.req === undefined)).toHaveLength(3);

    const r = await analyzeLogs([LOG]);
    expect(r.denials).toBe(2);
    expect(r.entries.map((e) => [e.method, e.path, e.status, e.client])).toEqual([
      ["POST", "/api/orders", 403, "127.0.0.1"],
      ["GET", "/api/me", 401, "127.0.0.1"],
    ]);
    expect(r.byCause).toEqual({ unknown: 1, "credentials-invalid": 1 });
  });
});
