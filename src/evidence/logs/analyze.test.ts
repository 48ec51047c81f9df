// Inputs and bounds: filters, limits, .gz, stdin, huge lines, binary and empty
// files, fuzzing; evidenceFromLogs and waitForLogMarker.
import { appendFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Readable } from "node:stream";
import { gzipSync } from "node:zlib";
import fc from "fast-check";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { InputError } from "../../errors.js";
import { MAX_LOG_LINE_BYTES } from "../../limits.js";
import { analyzeLogs } from "./analyze.js";
import { BoundedCounter, OTHER_KEY } from "./counter.js";
import { evidenceFromLogs, waitForLogMarker } from "./evidence.js";
import { splitLines } from "./lines.js";

const F = join(import.meta.dirname, "../../../fixtures/logs");
const fx = (p: string) => join(F, p);
let dir = "";

beforeAll(() => {
  process.env.TZ = "UTC";
  dir = mkdtempSync(join(tmpdir(), "why403-logs-"));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const ACCESS = (i: number, status: number, path: string, client = "203.0.113.9") =>
  `${client} - - [26/Nov/2026:05:${String(Math.floor(i / 60) % 60).padStart(2, "0")}:${String(i % 60).padStart(2, "0")} +0000] "POST ${path} HTTP/1.1" ${status} 10 "-" "t"`;

describe("filters and limits", () => {
  const file = () => join(dir, "filters.log");
  beforeAll(() => {
    const lines: string[] = [];
    for (let i = 0; i < 300; i++)
      lines.push(ACCESS(i, i % 3 === 0 ? 429 : 403, i % 2 ? "/api/items" : "/login"));
    lines.push(ACCESS(300, 200, "/ok"));
    writeFileSync(file(), `${lines.join("\n")}\n`);
  });

  it("caps entries at the default 200 but never the counts", async () => {
    const r = await analyzeLogs([file()]);
    expect(r.denials).toBe(300);
    expect(r.entries).toHaveLength(200);
    expect(r.files[0]).toMatchObject({ lines: 301, denials: 300, format: "access-combined" });
    expect(r.top.paths).toEqual([
      ["/api/items", 150],
      ["/login", 150],
    ]);
    expect(r.top.clients).toEqual([["203.0.113.9", 300]]);
    expect((await analyzeLogs([file()], { limit: 5 })).entries).toHaveLength(5);
  });

  it("filters by status, path and time", async () => {
    expect((await analyzeLogs([file()], { status: [429] })).denials).toBe(100);
    expect((await analyzeLogs([file()], { path: "/api" })).denials).toBe(150);
    const since = new Date("2026-11-26T05:04:00Z");
    const until = new Date("2026-11-26T05:04:09Z");
    const r = await analyzeLogs([file()], { since, until });
    expect(r.denials).toBe(10);
    expect(r.entries.every((e) => (e.time as string) >= since.toISOString())).toBe(true);
  });

  it("rejects a negative limit", async () => {
    await expect(analyzeLogs([file()], { limit: -1 })).rejects.toBeInstanceOf(InputError);
  });
});

describe("inputs", () => {
  it("reads .gz files", async () => {
    const gz = join(dir, "error.log.gz");
    writeFileSync(gz, gzipSync(readFileSync(fx("nginx/error.log"))));
    const r = await analyzeLogs([gz]);
    expect(r.denials).toBe(9);
    expect(r.files[0]?.format).toBe("nginx-error");
  });

  it("turns a broken .gz into an InputError", async () => {
    const bad = join(dir, "bad.log.gz");
    writeFileSync(bad, "this is not gzip at all\n");
    await expect(analyzeLogs([bad])).rejects.toBeInstanceOf(InputError);
  });

  it("reads stdin for -", async () => {
    const stdin = Readable.from([Buffer.from(readFileSync(fx("apache/error.log")))]);
    const r = await analyzeLogs(["-"], { stdin });
    expect(r.files[0]).toMatchObject({ path: "-", format: "apache-error" });
    expect(r.denials).toBe(11);
  });

  it("gunzips gzip data on stdin (gzip -c x.log | why403 logs -), in small chunks too", async () => {
    const gz = gzipSync(readFileSync(fx("apache/error.log")));
    for (const chunks of [[gz], [...gz].map((b) => Buffer.from([b]))]) {
      const r = await analyzeLogs(["-"], { stdin: Readable.from(chunks) });
      expect(r.files[0]).toMatchObject({ path: "-", format: "apache-error" });
      expect(r.denials).toBe(11);
    }
  });

  it("broken gzip data on stdin is an InputError; text starting with one byte passes", async () => {
    const bad = Buffer.concat([Buffer.from([0x1f, 0x8b]), Buffer.from("no gzip here\n")]);
    await expect(analyzeLogs(["-"], { stdin: Readable.from([bad]) })).rejects.toBeInstanceOf(InputError);
    const r = await analyzeLogs(["-"], { stdin: Readable.from([Buffer.from("x")]) });
    expect(r.files[0]!.lines).toBe(1);
  });

  it("reports a missing file and a directory as InputError", async () => {
    await expect(analyzeLogs([join(dir, "nope.log")])).rejects.toThrow(/log file not found/);
    await expect(analyzeLogs([dir])).rejects.toBeInstanceOf(InputError);
    await expect(analyzeLogs([])).rejects.toBeInstanceOf(InputError);
  });

  it("reads an empty file as empty", async () => {
    const empty = join(dir, "empty.log");
    writeFileSync(empty, "");
    const r = await analyzeLogs([empty]);
    expect(r.files[0]).toMatchObject({ format: "empty", lines: 0, denials: 0 });
    expect(r.denials).toBe(0);
  });

  it("skips a binary file with a warning", async () => {
    const bin = join(dir, "core.bin");
    writeFileSync(bin, Buffer.from([0x7f, 0x45, 0x4c, 0x46, 0, 0, 0, 1, 2, 3, 0x0a, 0, 0, 0]));
    const r = await analyzeLogs([bin, fx("nginx/error.log")]);
    expect(r.files[0]).toMatchObject({ format: "binary" });
    expect(r.files[0]?.warning).toMatch(/binary/);
    expect(r.denials).toBe(9);
  });

  it("cuts a 50 MB single line and keeps reading after it", async () => {
    const big = join(dir, "big.log");
    writeFileSync(big, `${ACCESS(1, 403, "/a")}\n`);
    const chunk = "x".repeat(1024 * 1024);
    for (let i = 0; i < 50; i++) appendFileSync(big, chunk);
    appendFileSync(big, `\n${ACCESS(2, 403, "/b")}\n`);
    const before = process.memoryUsage().rss;
    const r = await analyzeLogs([big]);
    expect(r.files[0]).toMatchObject({ lines: 3, cutLines: 1, denials: 2 });
    expect(r.entries.map((e) => e.path)).toEqual(["/a", "/b"]);
    // Streaming: reading 50 MB must not grow the process by anything like 50 MB.
    expect(process.memoryUsage().rss - before).toBeLessThan(40 * 1024 * 1024);
  }, 30_000);

  it("splits lines over chunk borders and keeps at most the cap of a long line", async () => {
    const parts = ["ab", "c\nde", "f\r\n", "x".repeat(MAX_LOG_LINE_BYTES + 10), "\nlast"];
    const lines = [];
    for await (const l of splitLines(Readable.from(parts.map((p) => Buffer.from(p))))) lines.push(l);
    expect(lines.map((l) => [l.text.length > 20 ? l.text.length : l.text, l.cut])).toEqual([
      ["abc", false],
      ["def", false],
      [MAX_LOG_LINE_BYTES, true],
      ["last", false],
    ]);
  });

  it("drops a byte order mark at a line's start and every CR before its newline, in a chunk or across chunks", async () => {
    const bom = "\uFEFF";
    const parts = [`${bom}one\r\r\n`, `two\r`, `\r\n${bom}`, "three\r"];
    const lines = [];
    for await (const l of splitLines(Readable.from(parts.map((p) => Buffer.from(p))))) lines.push(l.text);
    expect(lines).toEqual(["one", "two", "three"]);
    // What it is for: a log saved with a BOM, converted to CRLF twice, is read whole.
    const file = join(dir, "bom-crlf.log");
    const line = (i: number) =>
      `10.0.0.${i} - - [26/Nov/2026:05:00:0${i} +0000] "POST /a HTTP/1.1" 403 1 "-" "curl/8"\r\r`;
    writeFileSync(file, `${bom}${[1, 2, 3].map(line).join("\n")}\n`);
    const r = await analyzeLogs([file]);
    expect(r.denials).toBe(3);
    expect(r.top.clients.map(([c]) => c)).toEqual(["10.0.0.1", "10.0.0.2", "10.0.0.3"]);
  });

  it("reads a mixed file line by line", async () => {
    const mixed = join(dir, "mixed.log");
    const nginx = readFileSync(fx("nginx/error.log"), "utf8").split("\n").slice(8, 14);
    const access = readFileSync(fx("apache/access.log"), "utf8").split("\n").slice(0, 4);
    const app = readFileSync(fx("app/winston.log"), "utf8").split("\n").slice(0, 2);
    writeFileSync(mixed, [...access, ...nginx, ...app, "garbage line"].join("\n"));
    const r = await analyzeLogs([mixed]);
    expect(r.files[0]?.format).toMatch(/^mixed:/);
    expect(r.byCause["credentials-invalid"]).toBe(1);
    expect(r.byCause["insufficient-permission"]).toBe(1);
  });
});

describe("robustness", () => {
  it("never throws anything but InputError on random lines", async () => {
    const seeds = [
      '127.0.0.1 - - [26/Nov/2026:07:01:19 +0000] "GET / HTTP/1.1" 403 1',
      "2026/11/26 07:00:55 [error] 1#1: *1 access forbidden by rule, client: 1.2.3.4",
      "[Thu Nov 26 07:01:19.921062 2026] [authz_core:error] [client 1.2.3.4:1] AH01630: x",
      '{"level":"warn","message":"forbidden","status":403}',
      '{"transaction":{"unique_id":"x"},"messages":[{}]}',
      "--abcd1234-A--",
      "--abcd1234-H--",
      'Message: Access denied with code 403 (phase 2). [id "1"]',
      'ModSecurity: Warning. [id "942100"] [unique_id "u"]',
    ];
    const line = fc.oneof(
      fc.string({ maxLength: 200 }),
      fc.constantFrom(...seeds),
      fc
        .tuple(fc.constantFrom(...seeds), fc.string({ maxLength: 50 }))
        .map(([a, b]) => a.slice(0, b.length + 10) + b),
    );
    let n = 0;
    await fc.assert(
      fc.asyncProperty(fc.array(line, { maxLength: 30 }), async (lines) => {
        const file = join(dir, `fuzz-${n++}.log`);
        writeFileSync(file, lines.join("\n"));
        try {
          const r = await analyzeLogs([file], { logFormats: { f: '%h %t "%r" %>s %{X-Request-Id}i' } });
          expect(r.denials).toBeGreaterThanOrEqual(0);
          expect(r.entries.length).toBeLessThanOrEqual(r.denials);
        } catch (e) {
          if (!(e instanceof InputError)) throw e;
        } finally {
          rmSync(file, { force: true });
        }
      }),
      { numRuns: 150 },
    );
  });

  it("bounds distinct keys with an (other) bucket", () => {
    // One summary slot for the later keys: "d" holds it until "e" wears it down.
    const c = new BoundedCounter(3, 1);
    for (const k of ["a", "b", "c", "d", "e", "a"]) c.add(k);
    expect(c.top(10)).toEqual([
      ["(other)", 2],
      ["a", 2],
      ["b", 1],
      ["c", 1],
    ]);
    expect(OTHER_KEY).toBe("(other)");
  });
});

describe("evidenceFromLogs", () => {
  it("finds the run's requests by X-Request-Id with strong weights and rule ids", async () => {
    const { evidence, entries } = await evidenceFromLogs(
      [fx("nginx/access_rid.log"), fx("nginx/error.log")],
      {
        requestIds: ["rid-waf-1", "rid-perm-1", "rid-admin-1"],
      },
    );
    expect(entries.map((e) => e.requestId).sort()).toEqual(["rid-admin-1", "rid-perm-1", "rid-waf-1"]);
    const waf = evidence.find((e) => e.weights.waf);
    expect(waf?.weights.waf).toBeGreaterThanOrEqual(3);
    expect(waf?.data?.ruleIds).toEqual(["941100", "941110", "941160", "949110"]);
    // The line that refused ("Access denied with code 403", line 27), not the first of the
    // warnings before it (24): a refusal leads over mere matches of the same strength.
    expect(waf?.source).toBe("error.log:27");
    const fs = evidence.find((e) => e.weights["fs-permission"]);
    expect(fs?.weights["fs-permission"]).toBeGreaterThanOrEqual(5);
    const ip = evidence.find((e) => e.weights["ip-restriction"]);
    expect(ip?.weights).toMatchObject({ "ip-restriction": 4, "server-config": 2 });
  });

  it("falls back to time window, client and path when the log has no ids", async () => {
    const { entries } = await evidenceFromLogs([fx("apache/error.log")], {
      since: new Date("2026-11-26T07:01:19Z"),
      client: "127.0.0.1",
      paths: ["/api/search"],
    });
    expect(entries.map((e) => [e.path, e.cause, e.rule])).toEqual([["/api/search", "waf", "942100"]]);
    const none = await evidenceFromLogs([fx("apache/error.log")], {
      since: new Date("2026-11-26T08:00:00Z"),
      paths: ["/api/search"],
    });
    expect(none.entries).toEqual([]);
  });
});

describe("waitForLogMarker", () => {
  it("sees a line appended after the call", async () => {
    const log = join(dir, "late.log");
    writeFileSync(log, "old line\n");
    setTimeout(() => appendFileSync(log, "x\nGET /.well-known/why403/marker-123 HTTP/1.1\n"), 150);
    const line = await waitForLogMarker(log, "marker-123", 3000);
    expect(line).toContain("marker-123");
  });

  it("returns null on timeout, also for a file that does not exist yet", async () => {
    expect(await waitForLogMarker(join(dir, "never.log"), "m", 200)).toBeNull();
  });
});

describe("secrets", () => {
  it("never shows tokens that sit in logged URLs or messages", async () => {
    const jwt =
      "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJzdWIiOiJhbGljZSIsImV4cCI6MX0.c2lnbmF0dXJlLXNpZ25hdHVyZS1zaWduYXR1cmU";
    const log = join(dir, "secrets.log");
    writeFileSync(
      log,
      [
        `203.0.113.9 - - [26/Nov/2026:05:00:00 +0000] "POST /api/items?access_token=${jwt} HTTP/1.1" 403 10 "-" "t"`,
        JSON.stringify({
          level: "warn",
          message: `token expired: Bearer ${jwt}`,
          status: 401,
          url: "/x?api_key=sk_live_abcdef123456",
        }),
      ].join("\n"),
    );
    const r = await analyzeLogs([log]);
    const out = JSON.stringify(r);
    expect(r.denials).toBe(2);
    expect(out).not.toContain(jwt);
    expect(out).not.toContain("sk_live_abcdef123456");
    const { evidence } = await evidenceFromLogs([log], { since: new Date("2026-11-26T04:00:00Z") });
    expect(JSON.stringify(evidence)).not.toContain(jwt);
  });
});

describe("a directory given as a log path", () => {
  it("stands for the regular files in it, in name order, each read once", async () => {
    const d = join(dir, "var-log-nginx");
    mkdirSync(join(d, "old"), { recursive: true });
    writeFileSync(join(d, "access.log"), `${ACCESS(1, 403, "/a")}\n`);
    writeFileSync(join(d, "access.log.1"), `${ACCESS(2, 429, "/b")}\n`);
    writeFileSync(join(d, ".hidden.log"), `${ACCESS(3, 403, "/hidden")}\n`);
    writeFileSync(join(d, "old", "access.log"), `${ACCESS(4, 403, "/old")}\n`);
    const r = await analyzeLogs([d, join(d, "access.log")]);
    expect(r.files.map((f) => f.path)).toEqual([join(d, "access.log"), join(d, "access.log.1")]);
    expect(r.denials).toBe(2);
    expect(r.entries.map((e) => e.path)).toEqual(["/a", "/b"]);
  });

  it("names an empty directory in a one-line error", async () => {
    const empty = join(dir, "empty-dir");
    mkdirSync(empty, { recursive: true });
    await expect(analyzeLogs([empty])).rejects.toThrow(new InputError(`no log files in directory ${empty}`));
  });
});
