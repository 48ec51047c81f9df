// Per-format parsing and classification, on lines captured from real nginx 1.22,
// Apache 2.4 + mod_security2 + CRS 3.3 (fixtures/logs/README.md) and composed app/Coraza logs.
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import { parseAccessLine, sniffAccess } from "./access.js";
import { analyzeLogs } from "./analyze.js";
import { parseApacheErrorLine } from "./apache-error.js";
import { logFormatsFromConfig, nginxLogFormats } from "./config-formats.js";
import { compileLogFormat, parseCustomLine } from "./log-format.js";
import { parseNginxErrorLine } from "./nginx-error.js";
import { parseAnyTime, parseApacheErrorTime, parseClfTime, parseNginxErrorTime } from "./time.js";
import type { LogEntry } from "./types.js";

const F = join(import.meta.dirname, "../../../fixtures/logs");
const fx = (p: string) => join(F, p);

beforeAll(() => {
  // nginx and Apache error logs carry local time; the captures were made in UTC.
  process.env.TZ = "UTC";
});

function byPath(entries: LogEntry[], path: string): LogEntry {
  const e = entries.find((x) => x.path === path);
  if (!e) throw new Error(`no entry for ${path}: ${entries.map((x) => x.path).join(", ")}`);
  return e;
}

describe("time stamps", () => {
  it("parses each format to the same instant", () => {
    expect(parseClfTime("26/Nov/2026:05:00:00 +0000")?.toISOString()).toBe("2026-11-26T05:00:00.000Z");
    expect(parseClfTime("26/Nov/2026:07:00:00 +0200")?.toISOString()).toBe("2026-11-26T05:00:00.000Z");
    expect(parseClfTime("26/Nov/2026:07:01:27.731426 +0000")?.toISOString()).toBe("2026-11-26T07:01:27.731Z");
    expect(parseNginxErrorTime("2026/11/26 05:00:00")?.toISOString()).toBe("2026-11-26T05:00:00.000Z");
    expect(parseApacheErrorTime("Thu Nov 26 05:00:00.123456 2026")?.toISOString()).toBe(
      "2026-11-26T05:00:00.123Z",
    );
    expect(parseAnyTime(1795669200000)?.toISOString()).toBe("2026-11-26T05:00:00.000Z");
    expect(parseAnyTime(1795669200.5)?.toISOString()).toBe("2026-11-26T05:00:00.500Z");
    expect(parseAnyTime("2026-11-26 05:00:11,004")?.toISOString()).toBe("2026-11-26T05:00:11.004Z");
    expect(parseClfTime("32/Foo/2026:05:00:00 +0000")).toBeNull();
  });
});

describe("access logs", () => {
  it("recognises common, combined, vhost_combined and trailing fields", () => {
    expect(
      sniffAccess('127.0.0.1 - - [26/Nov/2026:07:01:19 +0000] "GET /old/ HTTP/1.1" 403 239')?.flavour,
    ).toBe("common");
    expect(
      sniffAccess('127.0.0.1 - - [26/Nov/2026:07:01:19 +0000] "GET /old/ HTTP/1.1" 403 239 "-" "curl/7.88.1"')
        ?.flavour,
    ).toBe("combined");
    expect(
      sniffAccess(
        'lab.test:80 127.0.0.1 - - [26/Nov/2026:07:01:19 +0000] "GET / HTTP/1.1" 403 400 "-" "curl/7.88.1"',
      )?.flavour,
    ).toBe("vhost_combined");
    const rec = parseAccessLine(
      '127.0.0.1 - - [26/Nov/2026:07:00:55 +0000] "POST /admin/settings HTTP/1.1" 403 153 "-" "curl/7.88.1" rid=7f13892b8ac17ee756ca15ba7fb8cd07 xrid="rid-admin-1" rt=0.000',
      "a.log",
      1,
      "x",
    );
    expect(rec).toMatchObject({
      status: 403,
      method: "POST",
      path: "/admin/settings",
      denied: true,
      cause: "unknown",
    });
    expect(rec?.requestId).toBe("rid-admin-1");
    expect(rec?.ids).toContain("7f13892b8ac17ee756ca15ba7fb8cd07");
  });

  it("gives access-only denials a weak cause: unknown for 403, by status otherwise", async () => {
    const r = await analyzeLogs([fx("apache/access_vhost.log")]);
    expect(r.files[0]?.format).toMatch(/vhost_combined/);
    expect(r.denials).toBe(11);
    expect(r.byCause).toEqual({ unknown: 9, "credentials-invalid": 2 });
  });
});

describe("nginx error log (real lines)", () => {
  it("classifies each refusal message", async () => {
    const r = await analyzeLogs([fx("nginx/error.log")]);
    expect(r.files[0]?.format).toBe("nginx-error");
    const e = r.entries;
    expect(byPath(e, "/admin/settings")).toMatchObject({
      cause: "ip-restriction",
      status: 403,
      client: "127.0.0.1",
    });
    expect(byPath(e, "/dir/").cause).toBe("server-config");
    expect(byPath(e, "/secret.txt").cause).toBe("fs-permission");
    expect(byPath(e, "/limited").cause).toBe("rate-limit");
    expect(e.filter((x) => x.path === "/members/").map((x) => x.cause)).toEqual([
      "credentials-invalid",
      "credentials-invalid",
      "credentials-invalid",
    ]);
    expect(byPath(e, "/api/items")).toMatchObject({ cause: "waf", rule: "941100", product: "modsecurity" });
    expect(byPath(e, "/api/items").rules).toEqual(["941100", "941110", "941160", "949110"]);
    // Warnings and the denial of one request are one denial.
    expect(r.denials).toBe(9);
  });

  it("ignores lines that are not refusals", () => {
    expect(
      parseNginxErrorLine(
        "2026/11/26 07:00:55 [info] 7826#7826: *1 client 127.0.0.1 closed keepalive connection",
        "e",
        1,
        "x",
      ),
    ).toBeNull();
  });
});

describe("Apache error log (real lines)", () => {
  it("maps AH codes to causes", async () => {
    const r = await analyzeLogs([fx("apache/error.log")]);
    expect(r.files[0]?.format).toBe("apache-error");
    const causes = r.entries.map((e) => e.message.match(/AH\d{5}/)?.[0] ?? e.rule);
    expect(causes).toEqual([
      "AH01630",
      "AH01797",
      "AH00035",
      "AH00132",
      "AH01630",
      "AH01618",
      "AH01617",
      "941100",
      "942100",
      "AH01276",
      "941100",
    ]);
    expect(r.entries.map((e) => e.cause)).toEqual([
      "server-config",
      "ip-restriction",
      "fs-permission",
      "fs-permission",
      "server-config",
      "credentials-invalid",
      "credentials-invalid",
      "waf",
      "waf",
      "server-config",
      "waf",
    ]);
    expect(r.entries[2]?.path).toBe("/locked/file.txt");
    expect(r.entries[6]?.path).toBe("/members/");
  });

  it("groups ModSecurity lines by unique_id and counts every matching rule", async () => {
    const r = await analyzeLogs([fx("apache/error.log")]);
    const waf = r.entries.filter((e) => e.cause === "waf");
    expect(waf).toHaveLength(3);
    expect(waf[0]?.rules).toEqual(["941100", "941110", "941160", "949110", "980130"]);
    expect(waf[0]?.requestId).toBe("awfZP4eqa1VqhZ-1zl0vHAAAAAA");
    expect(waf[0]?.message).toContain("XSS Attack Detected via libinjection");
    const top = Object.fromEntries(r.top.rules);
    expect(top["949110"]).toBe(3);
    expect(top["941100"]).toBe(2);
    expect(top["942100"]).toBe(1);
  });

  it("strips the port from [client ip:port], IPv6 too", () => {
    const rec = parseApacheErrorLine(
      "[Thu Nov 26 05:00:00.123456 2026] [authz_core:error] [pid 12:tid 34] [client ::1:5678] AH01630: client denied by server configuration: /srv/x",
      "e",
      1,
      "apache-error",
    );
    expect(rec?.client).toBe("::1");
    // AH01630 is the same line for `Require ip` and `Require all denied`: both readings weigh alike.
    expect(rec?.alsoCauses).toEqual({ "ip-restriction": 4 });
  });
});

describe("ModSecurity audit logs (real)", () => {
  it("reads the v2 serial format, WAF and non-WAF refusals", async () => {
    const r = await analyzeLogs([fx("apache/modsec_audit_Native.log")]);
    expect(r.files[0]?.format).toBe("modsec-audit-serial");
    expect(r.denials).toBe(9);
    const waf = byPath(r.entries, "/api/items");
    expect(waf).toMatchObject({ cause: "waf", rule: "941100", requestId: "ap-waf-1", status: 403 });
    expect(byPath(r.entries, "/private/")).toMatchObject({
      cause: "server-config",
      requestId: "ap-private-1",
    });
    expect(byPath(r.entries, "/locked/file.txt").cause).toBe("fs-permission");
  });

  it("reads ModSecurity 2.9 JSON and libmodsecurity 3 JSON", async () => {
    const v2 = await analyzeLogs([fx("apache/modsec_audit_JSON.log")]);
    expect(v2.entries.map((e) => [e.path, e.cause, e.rule, e.requestId])).toEqual([
      ["/dir/", "server-config", null, "ap-dir-2"],
      ["/api/items", "waf", "941100", "ap-waf-3"],
    ]);
    const v3 = await analyzeLogs([fx("nginx/modsec_audit.json")]);
    expect(v3.entries.map((e) => [e.path, e.cause, e.rule, e.requestId])).toEqual([
      ["/api/items", "waf", "941100", "rid-waf-1"],
      ["/api/search", "waf", "942100", "rid-waf-2"],
    ]);
  });
});

describe("ModSecurity in DetectionOnly (real, captured from the lab's Apache and nginx with the engine set to DetectionOnly)", () => {
  // The application itself answered 403 (a token without the write scope) while CRS
  // matched the body: the WAF only logged, so it is not the refusing layer.
  it.each([
    ["apache/modsec_audit_detection_only.json", "ModSecurity 2.9 JSON"],
    ["nginx/modsec_audit_detection_only.json", "libmodsecurity 3 JSON"],
  ])("%s (%s) is not blamed for the application's 403", async (file) => {
    const r = await analyzeLogs([fx(file)]);
    expect(r.denials).toBe(1);
    const e = byPath(r.entries, "/api/orders");
    expect(e.status).toBe(403);
    expect(e.cause).toBe("unknown");
    expect(e.message).toContain("DetectionOnly only logged");
    expect(r.byCause.waf ?? 0).toBe(0);
  });
});

describe("joining one request across files", () => {
  it("counts an access line and its error lines once, with the error's cause", async () => {
    const r = await analyzeLogs([fx("nginx/access_rid.log"), fx("nginx/error.log")]);
    expect(r.denials).toBe(9);
    expect(r.files.map((f) => f.denials)).toEqual([9, 9]);
    const admin = byPath(r.entries, "/admin/settings");
    expect(admin).toMatchObject({
      cause: "ip-restriction",
      requestId: "rid-admin-1",
      file: fx("nginx/error.log"),
    });
    expect(admin.seenIn?.[0]?.file).toBe(fx("nginx/access_rid.log"));
    expect(r.byCause).toEqual({
      "credentials-invalid": 3,
      waf: 2,
      "ip-restriction": 1,
      "server-config": 1,
      "fs-permission": 1,
      "rate-limit": 1,
    });
  });

  it("joins Apache access (custom format), error and audit logs by id and time", async () => {
    const logFormats = logFormatsFromConfig({ apache: fx("apache/capture-httpd.conf") });
    const r = await analyzeLogs(
      [fx("apache/access_custom.log"), fx("apache/error.log"), fx("apache/modsec_audit_Native.log")],
      { logFormats },
    );
    expect(r.files[0]?.format).toBe("apache-custom:custom_rid");
    expect(r.denials).toBe(11);
    expect(byPath(r.entries, "/outside/")).toMatchObject({
      cause: "server-config",
      requestId: "ap-outside-1",
    });
    expect(byPath(r.entries, "/private/")).toMatchObject({
      cause: "server-config",
      requestId: "ap-private-1",
    });
    expect(r.byCause.unknown).toBeUndefined();
  });
});

describe("naxsi in an nginx error log beside its access log", () => {
  // naxsi cannot be installed here (no Debian package): lines in the layout of its
  // documentation, one blocked request, one seen in learning mode, one under the block score.
  const naxsi = (learning: number, block: number, path: string) =>
    `2026/12/03 10:20:01 [error] 812#812: *91 NAXSI_FMT: ip=198.51.100.23&server=shop.test&uri=${path}&learning=${learning}&vers=1.3&total_processed=12&total_blocked=1&block=${block}&cscore0=$XSS&score0=8&zone0=ARGS&id0=1302&var_name0=q, client: 198.51.100.23, server: shop.test, request: "GET ${path}?q=%3Cb%3E HTTP/1.1", host: "shop.test"`;
  const access = (path: string, status: number) =>
    `198.51.100.23 - - [03/Dec/2026:10:20:01 +0000] "GET ${path}?q=%3Cb%3E HTTP/1.1" ${status} 150 "-" "curl/8.5.0"`;

  it("counts the blocked request once, as the WAF's, and neither of the others", async () => {
    const dir = mkdtempSync(join(tmpdir(), "why403-naxsi-"));
    const error = join(dir, "error.log");
    const acc = join(dir, "access.log");
    writeFileSync(
      error,
      `${[naxsi(0, 1, "/search"), naxsi(1, 1, "/learn"), naxsi(0, 0, "/low")].join("\n")}\n`,
    );
    writeFileSync(
      acc,
      `${[access("/search", 403), access("/learn", 200), access("/low", 200)].join("\n")}\n`,
    );
    try {
      const r = await analyzeLogs([acc, error]);
      expect(r.denials).toBe(1);
      expect(r.byCause).toEqual({ waf: 1 });
      expect(r.entries[0]).toMatchObject({ path: "/search?q=%3Cb%3E", status: 403, client: "198.51.100.23" });
      expect(r.entries[0]?.message).toContain("rule 1302 matched in ARGS");
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe("custom formats", () => {
  it("compiles nginx log_format from a config, escapes included", () => {
    const formats = nginxLogFormats(
      "http {\n  log_format tsv '$time_iso8601\\t$remote_addr\\t$request_method'\n    '\\t$request_uri\\t$status\\t$http_x_request_id';\n}",
    );
    expect(formats.tsv).toBe(
      "$time_iso8601\t$remote_addr\t$request_method\t$request_uri\t$status\t$http_x_request_id",
    );
    const fmt = compileLogFormat("tsv", formats.tsv as string);
    if (!fmt) throw new Error("no format");
    const rec = parseCustomLine(
      fmt,
      "2026-11-26T07:00:55+00:00\t127.0.0.1\tPOST\t/admin/settings\t403\trid-admin-1",
      "f",
      1,
    );
    expect(rec).toMatchObject({
      method: "POST",
      path: "/admin/settings",
      status: 403,
      requestId: "rid-admin-1",
    });
    expect(rec?.time?.toISOString()).toBe("2026-11-26T07:00:55.000Z");
  });

  it("returns null for a format without a status", () => {
    expect(compileLogFormat("x", "$remote_addr $request")).toBeNull();
  });

  it("reads the real tab-separated nginx capture with its config", async () => {
    const logFormats = logFormatsFromConfig({ nginx: fx("nginx/capture-nginx.conf") });
    const r = await analyzeLogs([fx("nginx/access_custom.log"), fx("nginx/error.log")], { logFormats });
    expect(r.files[0]?.format).toBe("nginx-custom:custom_tsv");
    expect(r.denials).toBe(9);
    expect(byPath(r.entries, "/secret.txt")).toMatchObject({
      cause: "fs-permission",
      requestId: "rid-perm-1",
    });
  });
});

describe("application JSON logs (composed)", () => {
  it("reads pino, bunyan, winston, structlog and Django JSON", async () => {
    const r = await analyzeLogs(
      ["pino", "bunyan", "winston", "structlog", "django"].map((n) => fx(`app/${n}.log`)),
    );
    expect(r.files.map((f) => f.format)).toEqual([
      "json-pino",
      "json-bunyan",
      "json-winston",
      "json-structlog",
      "json-django",
    ]);
    expect(r.entries.map((e) => [e.path, e.cause])).toEqual([
      ["/api/items?draft=1", "csrf"],
      ["/api/search", "rate-limit"],
      ["/invoices/77/refund", "app-logic"],
      ["/api/orders", "credentials-invalid"],
      ["/api/orders", "insufficient-permission"],
      ["/v1/search", "rate-limit"],
      ["/internal/reindex", "ip-restriction"],
      ["/accounts/profile", "csrf"],
      ["/accounts/email", "csrf"],
      ["/admin/users/3/delete/", "unknown"],
    ]);
    expect(r.entries[0]).toMatchObject({
      client: "203.0.113.9",
      requestId: "r-pino-1",
      time: "2026-11-26T05:00:01.000Z",
    });
  });
});

describe("API gateway JSON logs (composed)", () => {
  it("reads AWS API Gateway's usual $context fields and Kong's file log with the application fields", async () => {
    const r = await analyzeLogs([fx("app/gateways.log")]);
    expect(
      r.entries.map((e) => [e.status, e.method, e.path, e.client, e.time, e.requestId, e.cause]),
    ).toEqual([
      [
        403,
        "POST",
        "/orders",
        "203.0.113.40",
        "2026-11-26T05:00:00.000Z",
        "c6af9ac6-7b61-11e6-9a41-93e8deadbeef",
        "unknown",
      ],
      [429, "POST", "/api/orders", "203.0.113.41", "2026-11-26T05:00:01.000Z", null, "rate-limit"],
    ]);
    expect(r.entries[0]?.message).toBe(
      "User is not authorized to access this resource with an explicit deny",
    );
  });
});

describe("access logs written as JSON (composed)", () => {
  it("reads nginx's JSON log_format by its variables' names and Cloud Logging's httpRequest", async () => {
    const r = await analyzeLogs([fx("app/json-access.log")]);
    expect(r.entries.map((e) => [e.status, e.method, e.path, e.client, e.time, e.cause])).toEqual([
      [403, "POST", "/api/orders?qty=2", "203.0.113.50", "2026-11-26T05:00:00.000Z", "unknown"],
      [401, "DELETE", "/api/users/7", "203.0.113.52", "2026-11-26T05:00:02.000Z", "credentials-invalid"],
      [403, "POST", "/api/checkout", "203.0.113.53", "2026-11-26T05:00:03.250Z", "unknown"],
      [429, "GET", "/api/items", "203.0.113.54", "2026-11-26T05:00:04.000Z", "rate-limit"],
    ]);
    expect(r.entries[0]?.requestId).toBe("7f3a9c2e41b84d0f9a6e5c1b2d3f4a5b");
  });
});

describe("Coraza (composed)", () => {
  it("reads Caddy JSON, plain text and the JSON audit log", async () => {
    const r = await analyzeLogs([
      fx("coraza/caddy-coraza.log"),
      fx("coraza/coraza-text.log"),
      fx("coraza/coraza-audit.json"),
    ]);
    expect(r.entries.map((e) => [e.product, e.cause, e.rule, e.client])).toEqual([
      ["coraza", "waf", "942100", "203.0.113.9"],
      ["coraza", "waf", "931120", "198.51.100.7"],
      ["coraza", "waf", "941100", "203.0.113.20"],
    ]);
    expect(r.entries[1]?.time).toBe("2026-11-26T05:00:16.000Z");
  });
});
