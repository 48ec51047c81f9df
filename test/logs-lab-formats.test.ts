// The data log formats against what the lab's HAProxy, Squid and Caddy really
// write: refuse requests through each of them, then read their own logs with
// `why403 logs` and check each refusal is found with the mechanism that refused.
import { randomUUID } from "node:crypto";
import { existsSync } from "node:fs";
import { request } from "node:http";
import { describe, expect, it } from "vitest";
import { analyzeLogs, waitForLogMarker } from "../src/evidence/logs/index.js";
import { getLab, labFile } from "./helpers/lab.js";

const labUp = existsSync(labFile());

/** One request to 127.0.0.1:port; `target` may be an absolute URL (a proxy request). */
function send(port: number, method: string, target: string, host: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const req = request({ host: "127.0.0.1", port, method, path: target, headers: { Host: host } }, (res) => {
      res.resume();
      res.on("end", () => resolve(res.statusCode ?? 0));
    });
    req.on("error", reject);
    req.end();
  });
}

describe("data log formats against the real lab", () => {
  it.skipIf(!labUp)("reads HAProxy's own 403 and 429 (termination PR--) from its httplog", async () => {
    const { haproxy } = getLab();
    const run = randomUUID().slice(0, 8);
    const internal = `/internal/logs-${run}`;
    expect(await send(haproxy.port, "POST", internal, "lab.test")).toBe(403);
    const burst = `/api/burst?logs=${run}`;
    const statuses: number[] = [];
    for (let i = 0; i < 8; i++) statuses.push(await send(haproxy.port, "GET", burst, "lab.test"));
    expect(statuses).toContain(429);
    expect(await waitForLogMarker(haproxy.log, `logs=${run}`, 5000)).toContain(run);

    const report = await analyzeLogs([haproxy.log], { path: run });
    const mine = report.entries.map((e) => [e.path, e.status, e.cause, e.product]);
    expect(mine).toContainEqual([internal, 403, "server-config", "haproxy"]);
    expect(mine).toContainEqual([burst, 429, "rate-limit", "haproxy"]);
    expect(report.entries.filter((e) => e.status === 200)).toEqual([]);
  });

  it.skipIf(!labUp)("reads Squid's TCP_DENIED/403 from its native access log", async () => {
    const { squid } = getLab();
    const run = randomUUID().slice(0, 8);
    const target = `http://logs-${run}.blocked.test/`;
    expect(await send(squid.port, "GET", target, `logs-${run}.blocked.test`)).toBe(403);
    expect(await waitForLogMarker(squid.accessLog, run, 5000)).toContain("TCP_DENIED/403");

    const report = await analyzeLogs([squid.accessLog], { path: run });
    expect(report.files[0]?.format).toBe("squid");
    expect(report.entries.map((e) => [e.path, e.status, e.cause, e.client])).toEqual([
      [target, 403, "server-config", "127.0.0.1"],
    ]);
  });

  it.skipIf(!labUp)(
    "reads Caddy's JSON access log: a respond 403 is a refusal, its cause not guessed",
    async () => {
      const { caddy } = getLab();
      const run = randomUUID().slice(0, 8);
      const path = `/wp-login.php?logs=${run}`;
      expect(await send(caddy.port, "POST", path, "127.0.0.1")).toBe(403);
      // Caddy 2.6 writes this site's access log to its own stdout (logger "http.log.access").
      expect(await waitForLogMarker(caddy.log, run, 5000)).toContain(run);

      const report = await analyzeLogs([caddy.log], { path: run });
      expect(report.entries.map((e) => [e.path, e.method, e.status, e.cause, e.product])).toEqual([
        [path, "POST", 403, "unknown", "caddy"],
      ]);
    },
  );
});
