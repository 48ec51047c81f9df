import { mkdirSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { reportSchema } from "../../src/report/schema.js";
import { type MeasuredRun as Run, runMeasured } from "./measure.js";
import {
  compressionBombs,
  drip,
  type HostileServer,
  makeCertificates,
  response,
  send403,
  startRaw,
  startTls,
  streamBytes,
} from "./servers.js";

const RUN_DIR = join(process.cwd(), ".run", "hostile");
const RSS_LIMIT_KB = 200 * 1024;

const peaks: Record<string, number> = {};

/**
 * The common contract: an end of its own, exit 0-4, a report (or, for the user's own bad input,
 * a one-line error), no stack, RSS < 200 MB. A hang shows as a null exit code: runMeasured
 * kills a run still going after its time-out (30 s), far past any case's own time-outs, so
 * that is a liveness bound, not a speed measure (speed is the bench's).
 */
function expectBounded(name: string, r: Run): void {
  peaks[name] = Math.round(r.peakRssKb / 1024);
  expect(r.code, `${name}: exit ${r.code}, stderr ${r.stderr.slice(0, 400)}`).not.toBeNull();
  expect([0, 1, 2, 3, 4]).toContain(r.code);
  expect(r.stderr).not.toMatch(/\n\s+at [^\n]+:\d+:\d+/);
  expect(r.peakRssKb).toBeGreaterThan(0);
  expect(r.peakRssKb).toBeLessThan(RSS_LIMIT_KB);
  if (r.code === 2) {
    const lines = r.stderr.trim().split("\n");
    expect(lines.length, r.stderr).toBe(1);
    expect(lines[0]).toMatch(/^why403: /);
  } else {
    expect(r.stdout.length).toBeGreaterThan(0);
  }
}

/** Exit 4 with a why403.report/v1: no verdict, the failure named, the replay listed. */
function expectNoUsableAnswer(r: Run, kind: string | RegExp, message: RegExp): void {
  expect(r.code, r.stderr).toBe(4);
  const rep = reportSchema.parse(JSON.parse(r.stdout));
  expect(rep.verdict).toBeNull();
  expect(rep.baseline.status).toBeNull();
  expect(rep.baseline.failure?.kind).toMatch(kind);
  expect(rep.baseline.failure?.message).toMatch(message);
  expect(rep.probes[0]).toMatchObject({ safety: "replay", status: null });
}

function report(r: Run): {
  baseline: { status: number | null; failure?: { kind: string } };
  verdict: { cause: string; summary: string; evidence: string[] } | null;
  probes: Array<{ url: string; status: number | null; finding: string; purpose: string; error?: string }>;
  candidates: unknown[];
  sideEffects: { unsafeProbes: number };
  nextSteps?: string[];
} {
  return JSON.parse(r.stdout);
}

const curl = (url: string, ...extra: string[]) => [
  "curl",
  url,
  "-d",
  "a=1",
  "--json",
  "--timeout",
  "2000",
  "--rate",
  "50",
  ...extra,
];

const servers: Record<string, HostileServer> = {};
let certs: ReturnType<typeof makeCertificates>;

beforeAll(async () => {
  mkdirSync(RUN_DIR, { recursive: true });
  const bombs = compressionBombs();
  const bomb = (encoding: "gzip" | "br" | "deflate") => (_: unknown, s: import("node:net").Socket) =>
    s.write(
      response(
        "403 Forbidden",
        [
          ["Content-Type", "text/html"],
          ["Content-Encoding", encoding],
        ],
        bombs[encoding],
      ),
    );
  servers.gzip = await startRaw(bomb("gzip"));
  servers.br = await startRaw(bomb("br"));
  servers.deflate = await startRaw(bomb("deflate"));
  servers.gigabyte = await startRaw((_, s) => {
    s.write(
      `HTTP/1.1 403 Forbidden\r\nContent-Type: text/plain\r\nContent-Length: ${1024 * 1024 * 1024}\r\n\r\n`,
    );
    streamBytes(s, 1024 * 1024 * 1024);
  });
  servers.drip = await startRaw((_, s) => {
    s.write("HTTP/1.1 403 Forbidden\r\nContent-Type: text/html\r\nContent-Length: 100000\r\n\r\n");
    drip(s);
  });
  servers.endlessHeaders = await startRaw((_, s) => {
    s.write("HTTP/1.1 403 Forbidden\r\n");
    const line = Buffer.from("X-Filler: aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\r\n");
    const block = Buffer.concat(Array.from({ length: 1000 }, () => line));
    let sent = 0;
    const pump = () => {
      while (!s.destroyed && sent < 4096) {
        sent++;
        if (!s.write(block)) {
          s.once("drain", pump);
          return;
        }
      }
      if (!s.destroyed) s.end();
    };
    pump();
  });
  servers.manyHeaders = await startRaw((_, s) => {
    const headers: Array<[string, string]> = [["Content-Type", "text/html"]];
    for (let i = 0; i < 10_000; i++) headers.push([`X-H${i}`, "v"]);
    send403(s, headers);
  });
  servers.manyCookies = await startRaw((_, s) => {
    const headers: Array<[string, string]> = [];
    for (let i = 0; i < 10_000; i++) headers.push(["Set-Cookie", `c${i}=v; Path=/`]);
    send403(s, headers);
  });
  servers.loop = await startRaw((req, s) => {
    const next = req.path === "/a" ? "/b" : "/a";
    s.write(response("302 Found", [["Location", next]]));
  });
  servers.elsewhere = await startRaw((_, s) => {
    s.write(response("302 Found", [["Location", "http://example.invalid/landing"]]));
  });
  // Loopback but another host: a listener on 127.0.0.2 counts any connection to it.
  servers.otherHost = await startRaw((_, s) => send403(s), "127.0.0.2");
  servers.toOtherHost = await startRaw((_, s) => {
    s.write(response("307 Temporary Redirect", [["Location", `${servers.otherHost!.url}/x`]]));
  });
  servers.toHttps = await startRaw((_, s) => {
    s.write(
      response("301 Moved Permanently", [["Location", `https://127.0.0.1:${servers.toHttps!.port}/x`]]),
    );
  });
  servers.badBytes = await startRaw((_, s) => {
    const head = Buffer.from(
      "HTTP/1.1 403 Forbidden\r\nContent-Type: text/html; charset=utf-8\r\nX-Bad: \xff\xfe\xc3\x28 end\r\nX-Reason: blocked\r\n",
      "latin1",
    );
    const body = Buffer.concat([
      Buffer.from("<h1>Forbidden</h1>\0\0 "),
      Buffer.from([0xff, 0xfe, 0xc3, 0x28, 0xe2, 0x82, 0x00, 0xf0, 0x9f]),
      Buffer.from(" request blocked\0"),
    ]);
    s.write(Buffer.concat([head, Buffer.from(`Content-Length: ${body.length}\r\n\r\n`), body]));
  });
  servers.reset = await startRaw((_, s) => {
    s.write(
      "HTTP/1.1 403 Forbidden\r\nContent-Type: text/html\r\nContent-Length: 5000\r\n\r\n<html><body>Forb",
    );
    setTimeout(() => s.resetAndDestroy(), 50);
  });
  servers.silent = await startRaw(() => undefined);
  servers.badChunk = await startRaw((_, s) => {
    s.end(
      "HTTP/1.1 403 Forbidden\r\nContent-Type: text/html\r\nTransfer-Encoding: chunked\r\n\r\nZZ\r\nnot a chunk\r\n0\r\n\r\n",
    );
  });
  servers.badHeader = await startRaw((_, s) => {
    s.end(
      "HTTP/1.1 403 Forbidden\r\nContent-Type: text/html\r\nThis is no header\r\nContent-Length: 2\r\n\r\nno",
    );
  });
  servers.http10 = await startRaw((_, s) => {
    // HTTP/1.0, no Content-Length: the body ends when the connection closes.
    s.end(
      response("403 Forbidden", [["Content-Type", "text/html"]], "<h1>Forbidden</h1>", {
        version: "HTTP/1.0",
        contentLength: false,
      }),
    );
  });
  servers.keepAliveLie = await startRaw((_, s) => {
    // Promises keep-alive, then closes right after each answer.
    s.end(
      response(
        "403 Forbidden",
        [
          ["Content-Type", "text/html"],
          ["Connection", "keep-alive"],
          ["Keep-Alive", "timeout=600"],
        ],
        "<h1>Forbidden</h1>",
      ),
    );
  });
  servers.flaky = await startRaw((_, s, n) => {
    if (n % 2 === 1) send403(s, [["X-Served-By", "edge"]]);
    else
      s.write(
        response(
          "200 OK",
          [
            ["Content-Type", "text/html"],
            ["X-Served-By", "edge"],
          ],
          "<p>ok</p>",
        ),
      );
  });
  const banAfter = 3;
  servers.banRefuse = await startRaw((_, s, n) => {
    if (n <= banAfter) send403(s);
    if (n === banAfter) {
      // From now on nothing listens: new connections are refused, open ones die.
      setImmediate(() => void servers.banRefuse!.close());
    }
  });
  servers.ban429 = await startRaw((_, s, n) => {
    if (n <= banAfter) send403(s);
    else
      s.write(
        response(
          "429 Too Many Requests",
          [
            ["Content-Type", "text/html"],
            ["Retry-After", "3600"],
          ],
          "<h1>You have been banned</h1>",
        ),
      );
  });
  certs = makeCertificates(join(RUN_DIR, "certs"));
  servers.selfSigned = await startTls((_, s) => send403(s), certs.selfSigned.key, certs.selfSigned.cert);
  servers.expired = await startTls((_, s) => send403(s), certs.expired.key, certs.expired.cert);
}, 120_000);

afterAll(async () => {
  for (const s of Object.values(servers)) await s.close().catch(() => undefined);
  console.log(`hostile: peak RSS (MB) per case ${JSON.stringify(peaks)}`);
});

describe("hostile servers", { concurrent: true }, () => {
  it.each(["gzip", "br", "deflate"])("%s bomb in a 403 body is decoded only up to the cap", async (kind) => {
    const r = await runMeasured(curl(`${servers[kind]!.url}/x`));
    expectBounded(`${kind} bomb`, r);
    expect(r.code).not.toBe(2);
    expect(report(r).baseline.status).toBe(403);
  });

  it("a 1 GB body is read only up to the cap", async () => {
    const r = await runMeasured(curl(`${servers.gigabyte!.url}/x`));
    expectBounded("1 GB body", r);
    expect(report(r).baseline.status).toBe(403);
  });

  it("a body dripped one byte a second ends at the timeout", async () => {
    const r = await runMeasured(curl(`${servers.drip!.url}/x`));
    expectBounded("drip", r);
    expectNoUsableAnswer(r, "timeout", /within 2000 ms/);
  });

  it("headers that never end are cut at the header cap", async () => {
    const r = await runMeasured(curl(`${servers.endlessHeaders!.url}/x`));
    expectBounded("endless headers", r);
    expectNoUsableAnswer(r, "too-large", /header/i);
  });

  it.each(["manyHeaders", "manyCookies"])("10,000 response headers (%s)", async (kind) => {
    const r = await runMeasured(curl(`${servers[kind]!.url}/x`));
    expectBounded(kind, r);
    // 10,000 lines pass the header byte cap before the header count cap: exit 4, too large.
    expectNoUsableAnswer(r, "too-large", /header/i);
  });

  it("a redirect loop stops after the redirect cap", async () => {
    const r = await runMeasured(curl(`${servers.loop!.url}/a`, "-L"));
    expectBounded("redirect loop", r);
    const sent = servers.loop!.requests.length;
    expect(sent).toBeLessThanOrEqual(31);
    expect(r.stdout + r.stderr).toMatch(/redirect/i);
  });

  it("a redirect to a non-loopback host is not followed, and the report says so", async () => {
    const r = await runMeasured(curl(`${servers.elsewhere!.url}/x`, "-L"));
    expectBounded("redirect elsewhere", r);
    const out = r.stdout + r.stderr;
    expect(out).not.toMatch(/does not resolve/);
    expect(out).toMatch(/not followed|another (host|origin)/i);
    // Exit 3: the replay stops at the unfollowed 302, which is not a refusal.
    expect(r.code, r.stderr).toBe(3);
    for (const p of report(r).probes) expect(p.url).not.toContain("example.invalid");
  });

  it("a redirect to another loopback host is not followed: no connection reaches it", async () => {
    const r = await runMeasured(curl(`${servers.toOtherHost!.url}/x`, "-L"));
    expectBounded("redirect other host", r);
    expect(servers.otherHost!.connections).toBe(0);
    expect(r.stdout + r.stderr).toMatch(/not followed|another (host|origin)/i);
  });

  it("a redirect to another scheme is not followed silently", async () => {
    const r = await runMeasured(curl(`${servers.toHttps!.url}/x`, "-L"));
    expectBounded("redirect to https", r);
    expect(r.stdout + r.stderr).toMatch(/not followed|another (host|origin|scheme)/i);
  });

  it("invalid UTF-8 and NUL bytes in headers and body", async () => {
    const r = await runMeasured(curl(`${servers.badBytes!.url}/x`));
    expectBounded("bad bytes", r);
    // The bytes are read into a report of the 403: neither bad input (2) nor "no usable
    // answer" (4). Whether a raw server that refuses everything gets a verdict (0) or an
    // abstention (1) is the calibration's business, not this test's, so both are accepted.
    expect([0, 1], r.stderr).toContain(r.code);
    expect(report(r).baseline.failure ?? null).toBeNull();
    expect(report(r).baseline.status).toBe(403);
  });

  it("a connection reset mid-response: exit 4, a report naming the reset", async () => {
    const r = await runMeasured(curl(`${servers.reset!.url}/x`));
    expectBounded("reset", r);
    expectNoUsableAnswer(r, /^(reset|malformed)$/, /closed|reset|not valid HTTP/i);
  });

  it("a chunked body with a chunk size that is not hex: exit 4, malformed", async () => {
    const r = await runMeasured(curl(`${servers.badChunk!.url}/x`));
    expectBounded("bad chunking", r);
    expectNoUsableAnswer(r, /^(malformed|reset)$/, /not valid HTTP|closed/);
  });

  it("a header line without a colon: exit 4, malformed", async () => {
    const r = await runMeasured(curl(`${servers.badHeader!.url}/x`));
    expectBounded("malformed header", r);
    expectNoUsableAnswer(r, /^(malformed|reset)$/, /not valid HTTP|closed/);
  });

  it("a server that accepts and never answers times out: exit 4 with a report", async () => {
    const r = await runMeasured(curl(`${servers.silent!.url}/x`));
    expectBounded("silent", r);
    expectNoUsableAnswer(r, "timeout", /no answer .* within 2000 ms/);
  });

  it("a self-signed certificate: without -k exit 4, the failure names -k", async () => {
    const r = await runMeasured(curl(`${servers.selfSigned!.url}/x`));
    expectBounded("self-signed", r);
    expectNoUsableAnswer(r, "tls", /self-signed.*-k/);
  });

  it("a self-signed certificate with -k: the diagnosis proceeds", async () => {
    const r = await runMeasured(curl(`${servers.selfSigned!.url}/x`, "-k"));
    expectBounded("self-signed -k", r);
    expect(report(r).baseline.status).toBe(403);
  });

  it("an expired certificate: without -k exit 4, the failure names expiry and -k", async () => {
    const env = { NODE_EXTRA_CA_CERTS: certs.expired.ca };
    const r = await runMeasured(curl(`${servers.expired!.url}/x`), { env });
    expectBounded("expired", r);
    expectNoUsableAnswer(r, "tls", /expired.*-k/);
    const k = await runMeasured(curl(`${servers.expired!.url}/x`, "-k"), { env });
    expectBounded("expired -k", k);
    expect(report(k).baseline.status).toBe(403);
  });

  it("HTTP/1.0 without Content-Length: the body ends at close", async () => {
    const r = await runMeasured(curl(`${servers.http10!.url}/x`));
    expectBounded("http/1.0", r);
    expect(report(r).baseline.status).toBe(403);
  });

  it("keep-alive promised, connection closed after each answer", async () => {
    const r = await runMeasured(curl(`${servers.keepAliveLie!.url}/x`));
    expectBounded("keep-alive lie", r);
    expect(report(r).baseline.status).toBe(403);
  });

  it("403 to every second request: reported as intermittent, no content trigger", async () => {
    const r = await runMeasured(curl(`${servers.flaky!.url}/x`));
    expectBounded("intermittent", r);
    const rep = report(r);
    expect(JSON.stringify(rep)).toMatch(/intermittent/i);
    expect((rep as { trigger?: unknown }).trigger ?? null).toBeNull();
  });

  it("a server that refuses connections after 3 requests: why403 notices and stops", async () => {
    const r = await runMeasured(curl(`${servers.banRefuse!.url}/x`));
    expectBounded("ban (refused)", r);
    expect(r.stdout + r.stderr).toMatch(/ban|block|stopp/i);
    expect(r.code, r.stderr).toBe(1);
    const failed = report(r).probes.filter((p) => p.error);
    expect(failed.length).toBe(1);
  });

  it("a server that answers 429 'banned' after 3 requests: why403 notices and stops", async () => {
    const r = await runMeasured(curl(`${servers.ban429!.url}/x`));
    expectBounded("ban (429)", r);
    const rep = report(r);
    expect(rep.probes.filter((p) => p.status === 429).length).toBe(1);
    expect(JSON.stringify(rep)).toMatch(/rate limited by our own probes|stopp/i);
  });
});
