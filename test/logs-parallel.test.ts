// `why403 logs` over byte ranges in worker threads must give the very report the
// single-thread path gives: same counts, entries, joins and file summaries. The
// ranges here are tiny, so their boundaries fall inside requests, audit records,
// CRLF lines and over-long lines.
import { mkdtempSync, readdirSync, readFileSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { runCliAsync } from "./helpers/cli.js";

const tmp = mkdtempSync(join(tmpdir(), "why403-logs-parallel-"));
const FIXTURES = join(process.cwd(), "fixtures", "logs");
const fixtureLogs = readdirSync(FIXTURES, { withFileTypes: true, recursive: true })
  .filter((d) => d.isFile() && /\.(log|json)$/.test(d.name))
  .map((d) => join(d.parentPath, d.name))
  .sort();

async function logs(args: string[], env: Record<string, string>) {
  const r = await runCliAsync(["logs", ...args, "--json", "--limit", "1000000"], {
    env: { WHY403_LOG_TRACE: "1", ...env },
    timeoutMs: 240_000,
  });
  expect(r.code, r.stderr).toBe(0);
  return r;
}

function opensWithDirective(file: string): boolean {
  return readFileSync(file, "utf8").startsWith("#");
}

/** Single-thread and ranged reports of the same files; every file larger than a range must have been read in ranges. */
async function compare(files: string[], rangeBytes: number, flags: string[] = []) {
  const single = await logs([...files, ...flags], { WHY403_LOG_WORKERS: "0" });
  const parallel = await logs([...files, ...flags], {
    WHY403_LOG_WORKERS: "2",
    WHY403_LOG_RANGE_BYTES: String(rangeBytes),
  });
  expect(single.stderr).not.toMatch(/worker threads/);
  expect(files.some((f) => statSync(f).size > rangeBytes)).toBe(true);
  // A W3C log (it opens with a directive) is read by the columns its #Fields: lines name: on one thread.
  // Several files are read together, in step by time (time-merge.ts): on this thread too.
  const ranged =
    files.length > 1
      ? 0
      : files.filter((f) => statSync(f).size > rangeBytes && !opensWithDirective(f)).length;
  expect(parallel.stderr.match(/ranges on [12] worker threads/g)?.length ?? 0).toBe(ranged);
  expect(parallel.stdout).toBe(single.stdout);
  const report = JSON.parse(single.stdout) as {
    denials: number;
    files: Array<{ format: string; lines: number }>;
    entries: Array<{ message: string }>;
  };
  return {
    ...report,
    secondPass: parallel.stderr.match(/allowed clients searched on [12] worker threads/g)?.length ?? 0,
    addressRule: report.entries.filter((e) => /allowed on .*: an address rule/.test(e.message)).length,
  };
}

/** A seeded generator (mulberry32): the same file every run. */
function rng(seed: number): () => number {
  let a = seed;
  return () => {
    a = (a + 0x6d2b79f5) | 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/**
 * Several MB of every kind of line the scan treats apart: access lines (allowed,
 * refused, 429), nginx and Apache error lines joined to them, CRS pairs sharing a
 * unique_id, multi-line serial audit records, JSON application lines, CRLF
 * endings, blank lines, lines over the 64 KiB cap, and no newline at the end.
 */
function mixedLog(bytes: number): string {
  const r = rng(403);
  const out: string[] = [];
  let size = 0;
  let sec = Date.UTC(2026, 0, 5, 10, 0, 0) / 1000;
  let uid = 0;
  const push = (line: string) => {
    out.push(line);
    size += line.length;
  };
  const p2 = (n: number) => String(n).padStart(2, "0");
  while (size < bytes) {
    const d = new Date(sec++ * 1000);
    const hms = `${p2(d.getUTCHours())}:${p2(d.getUTCMinutes())}:${p2(d.getUTCSeconds())}`;
    const clf = `05/Jan/2026:${hms} +0000`;
    const ngx = `2026/01/05 ${hms}`;
    const apa = `Mon Jan 05 ${hms}.${String((r() * 1e6) | 0).padStart(6, "0")} 2026`;
    for (let k = 0; k < 40; k++) {
      const ip = `10.0.${(r() * 4) | 0}.${((r() * 40) | 0) + 1}`;
      const x = r();
      const path = ["/", "/admin/users", "/private/", "/api/orders", "/search"][(r() * 5) | 0];
      if (x < 0.6) {
        push(`${ip} - - [${clf}] "GET ${path} HTTP/1.1" ${r() < 0.1 ? 404 : 200} 512 "-" "curl/8"\n`);
      } else if (x < 0.68) {
        push(
          `${ngx} [error] 9#9: *${k} access forbidden by rule, client: ${ip}, server: s, request: "POST /admin/users HTTP/1.1", host: "s"\n`,
        );
        push(`${ip} - - [${clf}] "POST /admin/users HTTP/1.1" 403 153 "-" "curl/8"\n`);
      } else if (x < 0.74) {
        push(
          `[${apa}] [authz_core:error] [pid 1:tid 2] [client ${ip}:5000] AH01630: client denied by server configuration: /var/www/private/\r\n`,
        );
        push(`${ip} - - [${clf}] "GET /private/ HTTP/1.1" 403 199 "-" "curl/8"\r\n`);
      } else if (x < 0.8) {
        const id = `Zb${(uid++).toString(36).padStart(10, "0")}AAAAAA`;
        const tail = `[hostname "s"] [uri "/search"] [unique_id "${id}"]`;
        push(
          `[${apa}] [security2:error] [pid 1:tid 3] [client ${ip}:5001] [client ${ip}] ModSecurity: Warning. detected SQLi using libinjection [file "/r/REQUEST-942-APPLICATION-ATTACK-SQLI.conf"] [line "65"] [id "942100"] [msg "SQL Injection Attack Detected via libinjection"] ${tail}\n`,
        );
        push(
          `[${apa}] [security2:error] [pid 1:tid 3] [client ${ip}:5001] [client ${ip}] ModSecurity: Access denied with code 403 (phase 2). Operator GE matched 5 at TX:anomaly_score. [file "/r/REQUEST-949-BLOCKING-EVALUATION.conf"] [line "94"] [id "949110"] [msg "Inbound Anomaly Score Exceeded (Total Score: 5)"] ${tail}\n`,
        );
        push(`${ip} - - [${clf}] "GET /search?q=1 HTTP/1.1" 403 199 "-" "curl/8"\n`);
      } else if (x < 0.84) {
        push(`${ip} - - [${clf}] "POST /api/orders HTTP/1.1" 429 169 "-" "curl/8"\n`);
      } else if (x < 0.88) {
        const b = (uid++).toString(16).padStart(8, "0");
        push(`--${b}-A--\n[${clf}] Au${b}AAAA ${ip} 40000 127.0.0.1 80\n--${b}-B--\n`);
        push(
          `POST /private/ HTTP/1.1\nHost: s\nX-Request-Id: rid-${b}\n\n--${b}-F--\nHTTP/1.1 403 Forbidden\n\n`,
        );
        push(
          `--${b}-H--\nApache-Error: [file "mod_authz_core.c"] [line 879] [level 3] AH01630: client denied\n\n`,
        );
        push(`--${b}-Z--\n\n`);
      } else if (x < 0.92) {
        const status = r() < 0.5 ? 403 : 200;
        push(
          `{"level":40,"time":${sec * 1000},"req":{"id":"r${uid++}","method":"POST","url":"/api/items","remoteAddress":"${ip}"},"res":{"statusCode":${status}},"err":{"message":"invalid csrf token"},"msg":"request completed"}\n`,
        );
      } else if (x < 0.93) {
        push("\n");
      } else if (x < 0.932) {
        push(`${ip} - - [${clf}] "GET /${"a".repeat(70_000)} HTTP/1.1" 403 1 "-" "curl/8"\n`);
      } else {
        push(`${ngx} [info] 9#9: *${k} client ${ip} closed keepalive connection\n`);
      }
    }
  }
  return `${out.join("")}${"10.0.0.1"} - - [05/Jan/2026:23:59:59 +0000] "GET /last HTTP/1.1" 403 1 "-" "x"`;
}

describe("why403 logs in worker threads gives the single-thread report", () => {
  it("on each of the project's log fixtures", async () => {
    expect(fixtureLogs.length).toBeGreaterThan(20);
    for (const file of fixtureLogs) await compare([file], 29);
  }, 600_000);

  it("with a custom log_format read from --nginx-conf (compiled in each worker)", async () => {
    const nginx = join(FIXTURES, "nginx");
    const report = await compare([join(nginx, "access_custom.log")], 50, [
      "--nginx-conf",
      join(nginx, "capture-nginx.conf"),
    ]);
    expect(report.files[0]?.format).toBe("nginx-custom:custom_tsv");
    expect(report.denials).toBeGreaterThan(0);
  }, 120_000);

  it("on all the fixtures together (joins across files): read together on this thread, whatever is asked", async () => {
    await compare(fixtureLogs, 211);
  }, 300_000);

  it("on a generated mixed file of several MB, ranges ending mid-line and mid-record", async () => {
    const file = join(tmp, "mixed.log");
    writeFileSync(file, mixedLog(4 * 1024 * 1024));
    for (const rangeBytes of [65_537, 1_000_003]) {
      const report = await compare([file], rangeBytes);
      expect(report.denials).toBeGreaterThan(3000);
      expect(report.files[0]?.format).toMatch(/^mixed:/);
      // The address-rule evidence's second pass ran on the workers too, and found allowed clients.
      expect(report.secondPass).toBe(1);
      expect(report.addressRule).toBeGreaterThan(0);
    }
  }, 300_000);

  it("on a file whose first text is binary, after a range of blank lines", async () => {
    const file = join(tmp, "binary.log");
    writeFileSync(
      file,
      Buffer.concat([
        Buffer.from("\n".repeat(300)),
        Buffer.alloc(2000, 1),
        Buffer.from(`\n${mixedLog(4000)}`),
      ]),
    );
    const report = await compare([file], 100);
    expect(report.files[0]).toMatchObject({ format: "binary", lines: 301 });
  }, 300_000);
});
