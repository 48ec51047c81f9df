// The logs analyser against the real lab's own logs: send refused requests to
// lab nginx and lab Apache + ModSecurity/CRS with our own X-Request-Id, then
// classify them from what the servers wrote.
import { randomUUID } from "node:crypto";
import { existsSync } from "node:fs";
import { request } from "node:http";
import { describe, expect, it } from "vitest";
import { analyzeLogs, evidenceFromLogs, waitForLogMarker } from "../src/evidence/logs/index.js";
import { getLab, type LabServer, labFile } from "./helpers/lab.js";

const labUp = existsSync(labFile());

function send(
  server: LabServer,
  method: string,
  path: string,
  requestId: string,
  body?: string,
): Promise<number> {
  const url = new URL(path, server.url);
  return new Promise((resolve, reject) => {
    const req = request(
      url,
      {
        method,
        headers: {
          Host: server.host,
          "X-Request-Id": requestId,
          ...(body
            ? {
                "Content-Type": "application/x-www-form-urlencoded",
                "Content-Length": Buffer.byteLength(body),
              }
            : {}),
        },
      },
      (res) => {
        res.resume();
        res.on("end", () => resolve(res.statusCode ?? 0));
      },
    );
    req.on("error", reject);
    req.end(body);
  });
}

describe("logs against the real lab", () => {
  it("has a lab (required in CI)", () => {
    if (!labUp && process.env.CI === "true") throw new Error(`the lab is not up: ${labFile()} is missing`);
  });

  it.skipIf(!labUp)("classifies nginx refusals from its access and error logs by X-Request-Id", async () => {
    const { nginx } = getLab();
    const run = randomUUID().slice(0, 8);
    const since = new Date(Date.now() - 1000);
    const admin = `logs-lab-${run}-admin`;
    const secret = `logs-lab-${run}-secret`;
    expect(await send(nginx, "POST", "/admin/", admin, "a=1")).toBe(403);
    expect(await send(nginx, "GET", "/private/secret.txt", secret)).toBe(403);
    expect(await waitForLogMarker(nginx.accessLog, secret, 5000)).toContain(secret);

    const { evidence, entries } = await evidenceFromLogs([nginx.accessLog, nginx.errorLog], {
      requestIds: [admin, secret],
      since,
    });
    const byId = Object.fromEntries(entries.map((e) => [e.requestId, e]));
    expect(byId[admin]).toMatchObject({
      cause: "ip-restriction",
      status: 403,
      path: "/admin/",
      method: "POST",
    });
    expect(byId[secret]).toMatchObject({ cause: "fs-permission", status: 403 });
    expect(evidence.some((e) => (e.weights["fs-permission"] ?? 0) >= 5)).toBe(true);

    const report = await analyzeLogs([nginx.accessLog, nginx.errorLog], { since, path: "/admin/" });
    const mine = report.entries.find((e) => e.requestId === admin);
    expect(mine?.cause).toBe("ip-restriction");
    expect(mine?.seenIn?.length).toBeGreaterThan(0);
  });

  it.skipIf(!labUp)("classifies a CRS refusal on Apache from its error and audit logs", async () => {
    const { apache } = getLab();
    const run = randomUUID().slice(0, 8);
    const since = new Date(Date.now() - 1000);
    const xss = `logs-lab-${run}-xss`;
    const body = `name=a&message=${encodeURIComponent("<script>alert(1)</script>")}`;
    expect(await send(apache, "POST", "/contact", xss, body)).toBe(403);
    const admin = `logs-lab-${run}-admin`;
    expect(await send(apache, "GET", "/apache-admin/", admin)).toBe(403);
    expect(await waitForLogMarker(apache.accessLog, admin, 5000)).toContain(admin);

    const logs = [apache.accessLog, apache.errorLog, ...(apache.auditLog ? [apache.auditLog] : [])];
    const { evidence, entries } = await evidenceFromLogs(logs, { requestIds: [xss, admin], since });
    const waf = entries.find((e) => e.requestId === xss);
    expect(waf).toMatchObject({ cause: "waf", status: 403, path: "/contact", method: "POST" });
    expect(waf?.rules).toEqual(expect.arrayContaining(["941100", "949110"]));
    expect(waf?.rule).not.toBe("949110");
    const wafEvidence = evidence.find((e) => e.weights.waf);
    expect(wafEvidence?.data?.ruleIds).toEqual(expect.arrayContaining(["941100"]));
    const denied = entries.find((e) => e.requestId === admin);
    expect(denied?.cause).toMatch(/^(server-config|ip-restriction)$/);
    expect(denied?.message).toContain("AH01630");

    // Counted once across access, error and audit logs.
    const report = await analyzeLogs(logs, { since, path: "/contact" });
    expect(report.entries.filter((e) => e.requestId === xss)).toHaveLength(1);
    expect(report.top.rules.map(([r]) => r)).toContain("941100");
  });
});
