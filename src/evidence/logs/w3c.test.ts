import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { analyzeLogs } from "./analyze.js";

const DIR = join(process.cwd(), "fixtures", "logs", "w3c");

async function entries(file: string) {
  const r = await analyzeLogs([file], {});
  return r.entries.map((e) => [
    e.line,
    e.cause,
    e.status,
    e.method,
    e.path,
    e.client,
    e.time,
    e.product ?? null,
  ]);
}

describe("W3C logs with a #Fields: list of their own", () => {
  it("IIS: each block read by the columns above it (back to IIS's default order too), with IIS's substatus rules", async () => {
    expect(await entries(join(DIR, "iis-own-fields.log"))).toEqual([
      [5, "ip-restriction", 403, "POST", "/admin/users", "203.0.113.4", "2026-11-26T05:00:00.000Z", "iis"],
      [7, "credentials-invalid", 401, "POST", "/api/login", "203.0.113.6", "2026-11-26T05:00:02.000Z", "iis"],
      [12, "rate-limit", 403, "POST", "/api/orders?id=7", "203.0.113.7", "2026-11-26T06:00:00.000Z", "iis"],
      [18, "server-config", 403, "GET", "/reports/", "203.0.113.9", "2026-11-26T07:00:00.000Z", "iis"],
    ]);
  });

  it("CloudFront's standard log (tab-separated): refusals by status, its request id, no IIS rule", async () => {
    const r = await analyzeLogs([join(DIR, "cloudfront-standard.log")], {});
    expect(
      r.entries.map((e) => [e.line, e.cause, e.status, e.path, e.client, e.product, e.requestId]),
    ).toEqual([
      [
        3,
        "unknown",
        403,
        "/api/orders",
        "198.51.100.7",
        "cloudfront",
        "SOX4xwn4XV6Q4rgb7XiVGOHms_BGlTAC4KyHmureZmBNrjGdRLiNIQ==",
      ],
      [
        5,
        "credentials-invalid",
        401,
        "/members/",
        "198.51.100.9",
        "cloudfront",
        "kVQ0Fmj0xnvRQwQeW4vb4vZ2u2WBHU0Yp9W3bJcbh8Q9X8DzBF6oPA==",
      ],
    ]);
    expect(r.entries.map((e) => e.message).join("\n")).not.toMatch(/IIS/);
  });

  it("a refusal far down a long file is still read (past the sample, the prefilter passes column lines by their status)", async () => {
    const dir = mkdtempSync(join(tmpdir(), "why403-w3c-"));
    const file = join(dir, "long.log");
    // The status last on the line: no " 401 " for the prefilter's usual hints to find.
    const head = "#Fields: date time c-ip cs-method cs-uri-stem sc-status";
    const ok = "2026-11-26 05:00:01 203.0.113.5 GET / 200";
    const refused = "2026-11-26 05:10:00 203.0.113.10 DELETE /api/items/9 401";
    writeFileSync(file, `${[head, ...Array(500).fill(ok), refused].join("\n")}\n`);
    expect(await entries(file)).toEqual([
      [
        502,
        "credentials-invalid",
        401,
        "DELETE",
        "/api/items/9",
        "203.0.113.10",
        "2026-11-26T05:10:00.000Z",
        null,
      ],
    ]);
  });

  it("a line whose values do not fit the columns is not read by them", async () => {
    const dir = mkdtempSync(join(tmpdir(), "why403-w3c-"));
    const file = join(dir, "short.log");
    writeFileSync(
      file,
      "#Fields: date time c-ip cs-method cs-uri-stem sc-status\n2026-11-26 05:00:00 10.0.0.2 POST 403\n",
    );
    const r = await analyzeLogs([file], {});
    expect(r.denials).toBe(0);
  });
});
