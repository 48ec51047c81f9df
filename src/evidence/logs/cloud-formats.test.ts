// Cloud WAF, load-balancer and CDN logs (fixtures/logs/cloud/, composed from
// the documented formats) read end to end: each file's refusals by cause, the
// deciding rule, status, client, path and time, and the lines that are not refusals.
import { join } from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import { analyzeLogs } from "./analyze.js";
import type { LogEntry, LogsReport } from "./types.js";

const fx = (name: string) => join(import.meta.dirname, "../../../fixtures/logs/cloud", name);

beforeAll(() => {
  process.env.TZ = "UTC";
});

/** The entry for `path` (each fixture refuses each path once). */
function entry(r: LogsReport, path: string): LogEntry {
  const found = r.entries.filter((e) => e.path === path);
  expect(found, path).toHaveLength(1);
  return found[0] as LogEntry;
}

describe("AWS WAF logs", () => {
  it("name each terminating action's mechanism and the rule that terminated", async () => {
    const r = await analyzeLogs([fx("aws-waf.jsonl")]);
    expect(r.files[0]).toMatchObject({ format: "aws-waf-json", lines: 11, denials: 8 });
    // ALLOW lines (one after a solved CAPTCHA) are not refusals.
    expect(r.denials).toBe(8);
    expect(r.byCause).toEqual({ waf: 3, "rate-limit": 2, "bot-protection": 2, "server-config": 1 });
    // A managed rule group's own terminating rule, not the group's name.
    expect(entry(r, "/search?q=1%27%20OR%201%3D1")).toMatchObject({
      cause: "waf",
      rule: "SQLi_QUERYARGUMENTS",
      status: 403,
      statusInferred: true,
      method: "GET",
      client: "203.0.113.7",
      time: "2026-11-25T05:00:00.123Z",
      product: "aws-waf",
    });
    // A custom response code is the status the client got.
    expect(entry(r, "/login")).toMatchObject({ cause: "rate-limit", rule: "login-rate", status: 429 });
    expect(entry(r, "/login").statusInferred).toBeUndefined();
    expect(entry(r, "/api/cart")).toMatchObject({ cause: "rate-limit", status: 403 });
    expect(entry(r, "/api/items/7")).toMatchObject({ cause: "waf", rule: "deny-put-without-token" });
    expect(entry(r, "/admin")).toMatchObject({ cause: "server-config", rule: "Default_Action" });
    expect(entry(r, "/signup")).toMatchObject({
      cause: "bot-protection",
      status: 405,
      rule: "captcha-signup",
    });
    expect(entry(r, "/checkout")).toMatchObject({ cause: "bot-protection", status: 202 });
    expect(r.top.rules).toContainEqual(["SQLi_QUERYARGUMENTS", 1]);
  });
});

describe("Google Cloud load-balancer logs with Cloud Armor", () => {
  it("tell a preconfigured WAF expression, a rate rule and another policy rule apart", async () => {
    const r = await analyzeLogs([fx("gcp-lb-cloud-armor.jsonl")]);
    expect(r.files[0]).toMatchObject({ format: "gcp-lb-json", lines: 9, denials: 6 });
    expect(r.byCause).toEqual({ waf: 1, "rate-limit": 2, "server-config": 2, unknown: 1 });
    expect(entry(r, "/api/search?q=x")).toMatchObject({
      cause: "waf",
      rule: "owasp-crs-v030001-id942100-sqli",
      status: 403,
      method: "POST",
      client: "198.51.100.23",
      time: "2026-11-26T05:00:00.123Z",
    });
    expect(entry(r, "/login")).toMatchObject({ cause: "rate-limit", status: 429, rule: null });
    expect(entry(r, "/api/items")).toMatchObject({ cause: "rate-limit", status: 403 });
    // A deny rule's condition is not in the line: no address cause claimed outright.
    expect(entry(r, "/admin/")).toMatchObject({ cause: "server-config", status: 403 });
    // deny(404) is still Cloud Armor's refusal.
    expect(entry(r, "/internal")).toMatchObject({ cause: "server-config", status: 404 });
    // Cloud Armor accepted it; the backend refused.
    expect(entry(r, "/api/orders")).toMatchObject({ cause: "unknown", status: 403, client: "192.0.2.30" });
    // A preview policy's DENY was never enforced (the request got 200).
    expect(r.entries.some((e) => e.path?.startsWith("/search"))).toBe(false);
  });
});

describe("Cloudflare Logpush http_requests", () => {
  it("read the security source and action, and nanosecond timestamps", async () => {
    const r = await analyzeLogs([fx("cloudflare-http.jsonl")]);
    expect(r.files[0]).toMatchObject({ format: "cloudflare-json", lines: 11, denials: 9 });
    expect(r.byCause).toEqual({
      waf: 2,
      "rate-limit": 1,
      "server-config": 1,
      "ip-restriction": 1,
      "bot-protection": 2,
      unknown: 2,
    });
    expect(entry(r, "/wp-login.php?x=%27")).toMatchObject({
      cause: "waf",
      rule: "6179ae15870a4bb7b2d480d4843b323c",
      status: 403,
      client: "192.0.2.44",
      requestId: "8c1f2e3d4a5b6c7d",
      time: "2026-11-25T05:00:00.123Z",
    });
    expect(entry(r, "/login")).toMatchObject({ cause: "rate-limit", status: 429 });
    expect(entry(r, "/admin")).toMatchObject({ cause: "server-config" });
    expect(entry(r, "/cart")).toMatchObject({ cause: "bot-protection" });
    expect(entry(r, "/products")).toMatchObject({ cause: "bot-protection" });
    expect(entry(r, "/search")).toMatchObject({ cause: "waf", rule: "100173" });
    expect(entry(r, "/api/orders")).toMatchObject({ cause: "unknown", rule: null });
    // An IP access rule tests the address by definition; a User-Agent block names no cause of ours.
    expect(entry(r, "/wp-admin/")).toMatchObject({ cause: "ip-restriction", client: "192.0.2.53" });
    expect(entry(r, "/feed")).toMatchObject({
      cause: "unknown",
      status: 403,
      rule: "5b2c3d4e5f60718293a4b5c6d7e8f905",
    });
  });
});

describe("AWS Application Load Balancer access logs", () => {
  it("tell the attached WAF and a fixed response from a target's answer", async () => {
    const r = await analyzeLogs([fx("aws-alb.log")]);
    expect(r.files[0]).toMatchObject({ format: "aws-alb", lines: 6, denials: 4 });
    expect(r.byCause).toEqual({ waf: 1, unknown: 1, "server-config": 1, "credentials-invalid": 1 });
    expect(entry(r, "/api/search?q=1")).toMatchObject({
      cause: "waf",
      status: 403,
      method: "POST",
      client: "203.0.113.7",
      time: "2026-11-26T05:00:00.123Z",
    });
    expect(entry(r, "/api/orders")).toMatchObject({ cause: "unknown", status: 403, client: "203.0.113.8" });
    expect(entry(r, "/internal/metrics")).toMatchObject({ cause: "server-config", status: 403 });
    expect(entry(r, "/account")).toMatchObject({ cause: "credentials-invalid", status: 401 });
  });
});

describe("Azure WAF logs (Application Gateway, Front Door)", () => {
  it("count only the enforced blocks and challenges, by the kind of rule", async () => {
    const r = await analyzeLogs([fx("azure-waf.jsonl")]);
    expect(r.files[0]).toMatchObject({ format: "azure-waf-json", lines: 9, denials: 6 });
    // Matched, Detected (detection mode) and Log lines are not refusals.
    expect(r.byCause).toEqual({ waf: 2, "bot-protection": 2, "server-config": 2 });
    expect(entry(r, "/search?q=%27%20or%201%3D1")).toMatchObject({
      cause: "waf",
      rule: "949110",
      status: 403,
      statusInferred: true,
      client: "198.51.100.60",
      requestId: "a1b2c3d4e5f60718293a4b5c6d7e8f90",
      time: "2026-11-26T05:00:00.101Z",
    });
    // Front Door logs the URL: the path is read from it.
    expect(entry(r, "/api/search?q=%3Cscript%3E")).toMatchObject({
      cause: "waf",
      rule: "Microsoft_DefaultRuleSet-2.1-XSS-941100",
    });
    expect(entry(r, "/products")).toMatchObject({ cause: "bot-protection" });
    expect(entry(r, "/checkout")).toMatchObject({ cause: "bot-protection", rule: "ChallengeCheckout" });
    expect(entry(r, "/admin/login")).toMatchObject({
      cause: "server-config",
      rule: "DenyAdminOutsideOffice",
    });
    expect(entry(r, "/internal/")).toMatchObject({ cause: "server-config", client: "198.51.100.67" });
    expect(r.entries.some((e) => e.path === "/upload")).toBe(false);
  });
});

describe("a CDN's log read with its origin's (fixtures/logs/layers/)", () => {
  const layer = (name: string) => join(import.meta.dirname, "../../../fixtures/logs/layers", name);

  it("counts a refusal the origin answered and Cloudflare passed on once, naming the client Cloudflare saw", async () => {
    const files = [layer("cloudflare.jsonl"), layer("origin-access.log"), layer("origin-error.log")];
    const r = await analyzeLogs(files);
    // Two refusals nginx answered (each on three lines), one Cloudflare's own custom rule.
    expect(r.denials).toBe(3);
    const short = (f: string) => f.split("/").pop();
    expect(
      r.entries.map((e) => [
        e.client,
        e.path,
        short(e.file),
        [...(e.seenIn ?? []).map((s) => short(s.file))].sort(),
      ]),
    ).toEqual([
      ["192.0.2.50", "/api/orders", "origin-error.log", ["cloudflare.jsonl", "origin-access.log"]],
      ["192.0.2.51", "/api/orders", "origin-error.log", ["cloudflare.jsonl", "origin-access.log"]],
      ["192.0.2.53", "/wp-login.php", "cloudflare.jsonl", []],
    ]);
    // nginx's addresses are Cloudflare's edges: no entry names them.
    expect(r.top.clients.map(([c]) => c).sort()).toEqual(["192.0.2.50", "192.0.2.51", "192.0.2.53"]);
  });
});
