// Hostile input: property tests over every importer and parser — curl lines, HAR,
// raw responses, log lines, nginx and Apache configs (parse and evaluate) — where
// only InputError (NotRefusedError is one) may come out; plus nasty inputs by hand
// through the built CLI with peak RSS measured: JSON nested 10,000 deep, a 100 MB HAR,
// include loops, an include of /dev/zero, a 50 MB log line.
//
// Generated cases per CI run: every property check's executed runs, recorded by
// test/count-property-runs.ts and summed by the "at least 100,000" test.
import { mkdirSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { createServer, type Server } from "node:http";
import { join } from "node:path";
import fc from "fast-check";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { minimizeRequest } from "../src/delta/minimize.js";
import { InputError } from "../src/errors.js";
import { evaluateApache, parseApacheConfig, parseApacheText } from "../src/evidence/apache/index.js";
import { LineDispatcher } from "../src/evidence/logs/dispatch.js";
import { compileLogFormat } from "../src/evidence/logs/log-format.js";
import { evaluateNginx, parseNginxConfig, parseNginxText } from "../src/evidence/nginx/index.js";
import type { RequestModel } from "../src/model.js";
import { parseCurlArgs, parseCurlCommandLine } from "../src/request/curl.js";
import { harEntryToExchange, parseHar, selectHarEntry } from "../src/request/har.js";
import { JsonStringShrinker } from "../src/request/har-read.js";
import { exchangeFromRawResponse } from "../src/request/raw-response.js";
import { runMeasured } from "./hostile/measure.js";

const DIR = join(process.cwd(), ".run", "fuzz-all", String(process.pid));
const RSS_LIMIT_KB = 200 * 1024;

/** numRuns of each property in this file; their sum counts toward the 100,000. */
const FUZZ_RUNS = {
  curlLine: 8000,
  curlArgs: 6000,
  har: 6000,
  harShrink: 4000,
  rawResponse: 8000,
  logLines: 12000,
  logFormat: 4000,
  nginx: 12000,
  apache: 12000,
} as const;

function onlyInputErrors(fn: () => unknown): void {
  try {
    fn();
  } catch (e) {
    if (!(e instanceof InputError)) throw e;
    expect(e.message).not.toContain("\n");
  }
}

/** Strings built from meaningful pieces and noise, so the parsers get past their first checks. */
function pieces(words: string[], maxLength = 30): fc.Arbitrary<string> {
  return fc
    .array(
      fc.oneof(
        { weight: 4, arbitrary: fc.constantFrom(...words) },
        { weight: 1, arbitrary: fc.string({ maxLength: 8 }) },
      ),
      {
        maxLength,
      },
    )
    .map((parts) => parts.join(""));
}

// ---------- requests ----------

const CURL_WORDS = [
  "curl ",
  " ",
  "'",
  '"',
  "\\",
  "\\\n",
  "^",
  "^\n",
  "$'",
  "http://127.0.0.1/a?x=1",
  "https://h.example:8443/p#f",
  " -X POST",
  " -H 'Content-Type: application/json'",
  " -H",
  " --data-raw ",
  " -d ",
  "--data-binary @-",
  " -F 'f=@x.png;type=image/png'",
  " -b 'a=1; b=2'",
  " -u user:pw",
  " --json ",
  " -G",
  " -L",
  " -k",
  " -x http://p:1",
  " --compressed",
  " -m 1.5",
  '{"a":[1,{"b":"c"}]}',
  "%",
  "=",
  "&",
  "\u0000",
  "\u00ff",
  "\ud83d\ude00",
];

const HAR_HEADER = fc.record({
  name: fc.oneof(
    fc.constantFrom("Content-Type", "Cookie", "Set-Cookie", "Content-Encoding", "Location"),
    fc.string({ maxLength: 10 }),
  ),
  value: fc.string({ maxLength: 30 }),
});
const HAR_ENTRY = fc.record(
  {
    startedDateTime: fc.oneof(fc.constant("2026-01-01T00:00:00Z"), fc.string({ maxLength: 10 })),
    request: fc.record(
      {
        method: fc.oneof(fc.constantFrom("GET", "POST", "PUT"), fc.string({ maxLength: 5 })),
        url: fc.oneof(
          fc.constantFrom("http://a.test/x?q=1", "https://b/", "/rel", "::"),
          fc.webUrl(),
          fc.string({ maxLength: 20 }),
        ),
        headers: fc.array(HAR_HEADER, { maxLength: 5 }),
        postData: fc.option(
          fc.record(
            {
              mimeType: fc.string({ maxLength: 20 }),
              text: fc.string({ maxLength: 40 }),
              encoding: fc.constantFrom("base64", "utf8", ""),
            },
            { requiredKeys: [] },
          ),
        ),
        httpVersion: fc.constantFrom("HTTP/1.1", "h2", ""),
      },
      { requiredKeys: ["url"] },
    ),
    response: fc.record(
      {
        status: fc.oneof(fc.constantFrom(200, 301, 401, 403, 419, 429, 0, -1), fc.integer(), fc.double()),
        statusText: fc.string({ maxLength: 10 }),
        headers: fc.array(HAR_HEADER, { maxLength: 5 }),
        content: fc.record(
          {
            mimeType: fc.string({ maxLength: 20 }),
            text: fc.string({ maxLength: 40 }),
            encoding: fc.constantFrom("base64", ""),
            size: fc.integer(),
          },
          { requiredKeys: [] },
        ),
      },
      { requiredKeys: [] },
    ),
  },
  { requiredKeys: ["request", "response"] },
);

const RAW_WORDS = [
  "HTTP/1.1 403 Forbidden\r\n",
  "HTTP/2 401\r\n",
  "HTTP/1.0 200 OK\n",
  "HTTP/1.1 100 Continue\r\n\r\n",
  "Content-Type: text/html\r\n",
  "Content-Encoding: gzip\r\n",
  "Transfer-Encoding: chunked\r\n",
  "Content-Length: 5\r\n",
  "Set-Cookie: a=b\r\n",
  "\r\n",
  "\n",
  "5\r\nhello\r\n0\r\n\r\n",
  "<html><title>403 Forbidden</title></html>",
  '{"error":"forbidden"}',
  ":",
  " ",
  "\u0000",
];

describe("requests: only InputError comes out", () => {
  it("curl command lines", () => {
    fc.assert(
      fc.property(pieces(CURL_WORDS, 25), (line) => onlyInputErrors(() => parseCurlCommandLine(line))),
      { numRuns: FUZZ_RUNS.curlLine },
    );
  });

  it("curl argument arrays", () => {
    const arg = fc.oneof(
      fc.constantFrom(...CURL_WORDS.map((w) => w.trim()).filter(Boolean)),
      fc.string({ maxLength: 15 }),
    );
    fc.assert(
      fc.property(fc.array(arg, { maxLength: 12 }), (args) => onlyInputErrors(() => parseCurlArgs(args))),
      { numRuns: FUZZ_RUNS.curlArgs },
    );
  });

  it("HAR documents", () => {
    const doc = fc.oneof(
      {
        weight: 6,
        arbitrary: fc.record({
          log: fc.record({ version: fc.constant("1.2"), entries: fc.array(HAR_ENTRY, { maxLength: 3 }) }),
        }),
      },
      { weight: 1, arbitrary: fc.jsonValue({ maxDepth: 4 }) },
    );
    fc.assert(
      fc.property(doc, fc.option(fc.nat(4)), fc.option(fc.string({ maxLength: 5 })), (d, entry, match) =>
        onlyInputErrors(() => {
          const har = parseHar(JSON.stringify(d));
          for (const e of har.log.entries) onlyInputErrors(() => harEntryToExchange(e));
          selectHarEntry(har, entry !== null ? { entry } : match !== null ? { match } : {});
        }),
      ),
      { numRuns: FUZZ_RUNS.har },
    );
  });

  it("the HAR reader's string cutter keeps any JSON valid, across any chunking", () => {
    fc.assert(
      fc.property(
        fc.jsonValue({ maxDepth: 4 }),
        fc.array(fc.nat(40), { maxLength: 6 }),
        fc.nat(12),
        (value, cuts, limit) => {
          const bytes = Buffer.from(JSON.stringify(value));
          const feed = (s: JsonStringShrinker) => {
            let at = 0;
            for (const c of cuts) {
              s.push(bytes.subarray(at, at + c));
              at += c;
            }
            s.push(bytes.subarray(at));
            return s.text();
          };
          expect(JSON.parse(feed(new JsonStringShrinker()))).toEqual(JSON.parse(bytes.toString()));
          const small = feed(new JsonStringShrinker(limit, limit * 3, 1));
          expect(() => JSON.parse(small)).not.toThrow();
        },
      ),
      { numRuns: FUZZ_RUNS.harShrink },
    );
  });

  it("raw responses", () => {
    fc.assert(
      fc.property(pieces(RAW_WORDS, 20), fc.boolean(), (text, latin) =>
        onlyInputErrors(() => exchangeFromRawResponse(Buffer.from(text, latin ? "latin1" : "utf8"))),
      ),
      { numRuns: FUZZ_RUNS.rawResponse },
    );
  });
});

// ---------- logs ----------

const LOG_SEEDS = [
  '127.0.0.1 - - [26/Nov/2026:05:00:00 +0000] "POST /api/x?a=1 HTTP/1.1" 403 153 "-" "curl/8.0" xrid="why403-ab-1" rid=abc',
  '10.0.0.1 - bob [26/Nov/2026:05:00:01 +0100] "GET / HTTP/1.0" 200 5',
  'lab.test:80 127.0.0.1 - - [26/Nov/2026:05:00:00 +0000] "GET /x HTTP/1.1" 429 1 "-" "-"',
  '2026/11/26 05:00:00 [error] 12#12: *1 access forbidden by rule, client: 127.0.0.1, server: lab.test, request: "GET /admin/ HTTP/1.1", host: "lab.test"',
  '2026/11/26 05:00:00 [error] 1#1: *2 open() "/srv/x" failed (13: Permission denied), client: 1.2.3.4, server: _, request: "GET /x HTTP/1.1"',
  "[Thu Nov 26 05:00:00.123456 2026] [authz_core:error] [pid 1:tid 2] [client 127.0.0.1:5] AH01630: client denied by server configuration: /var/www/x",
  '[Thu Nov 26 05:00:00.123456 2026] [security2:error] [pid 1] [client 127.0.0.1] ModSecurity: Access denied with code 403 (phase 2). Operator GE matched 5 at TX:anomaly_score. [id "949110"] [msg "Inbound Anomaly Score Exceeded"] [uri "/api/items"] [unique_id "YZ"]',
  '{"level":40,"time":1795928400000,"reqId":"why403-ab-2","method":"POST","url":"/api/orders","status":403,"reason":"invalid csrf token","msg":"request refused"}',
  '{"transaction":{"transaction_id":"YZ","request":{"method":"POST","uri":"/x"},"response":{"http_code":403},"messages":[{"details":{"ruleId":"942100"}}]}}',
  "--abcd1234-A--",
  "--abcd1234-B--",
  "POST /x HTTP/1.1",
  "--abcd1234-H--",
  'Message: Access denied with code 403 (phase 2). [id "942100"]',
  "--abcd1234-Z--",
  "",
];

describe("logs: only InputError comes out", () => {
  const line = fc.oneof(
    { weight: 3, arbitrary: fc.constantFrom(...LOG_SEEDS) },
    { weight: 2, arbitrary: fc.string({ maxLength: 120 }) },
    {
      weight: 4,
      arbitrary: fc
        .tuple(fc.constantFrom(...LOG_SEEDS), fc.nat(200), fc.nat(40), fc.string({ maxLength: 20 }))
        .map(
          ([s, at, cut, ins]) => s.slice(0, at % (s.length + 1)) + ins + s.slice((at % (s.length + 1)) + cut),
        ),
    },
  );

  it("per-line dispatch over every format (nginx, Apache, ModSecurity serial and JSON, app JSON)", () => {
    const custom = [compileLogFormat("f", '%h %t "%r" %>s %{X-Request-Id}i')].filter((f) => f !== null);
    fc.assert(
      fc.property(fc.array(line, { maxLength: 12 }), (lines) =>
        onlyInputErrors(() => {
          const d = new LineDispatcher("fuzz.log", custom);
          for (const [i, text] of lines.entries()) d.feed({ n: i + 1, text, cut: false });
          d.end();
        }),
      ),
      { numRuns: FUZZ_RUNS.logLines },
    );
  });

  it("log_format / LogFormat strings, compiled and applied", () => {
    const fmt = pieces(
      [
        "$remote_addr",
        "$status",
        "$request",
        "$time_local",
        "$http_x_request_id",
        "%h",
        "%>s",
        "%r",
        "%t",
        "%{X-Request-Id}i",
        "%{UNIQUE_ID}e",
        '"',
        "[",
        "]",
        " ",
        "-",
        "%%",
        "$",
      ],
      12,
    );
    fc.assert(
      fc.property(fmt, fc.array(line, { maxLength: 3 }), (format, lines) =>
        onlyInputErrors(() => {
          const compiled = compileLogFormat("g", format);
          const d = new LineDispatcher("fuzz.log", compiled ? [compiled] : []);
          for (const [i, text] of lines.entries()) d.feed({ n: i + 1, text, cut: false });
        }),
      ),
      { numRuns: FUZZ_RUNS.logFormat },
    );
  });
});

// ---------- configs ----------

const REQUEST = fc.record({
  method: fc.constantFrom("GET", "POST", "HEAD", "DELETE", "OPTIONS", "X"),
  url: fc.oneof(
    fc.constantFrom(
      "http://lab.test/admin/",
      "http://lab.test/upload?format=raw",
      "https://x/%2e%2e/etc",
      "http://[::1]/a//b/../c",
      "/rel",
      "http://h/%zz",
    ),
    fc.webUrl({ withQueryParameters: true }),
    fc.string({ maxLength: 20 }),
  ),
  client: fc.option(fc.constantFrom("127.0.0.1", "10.0.0.7", "::1", "not-an-ip", "300.1.1.1")),
  headers: fc.option(
    fc.dictionary(fc.constantFrom("x-debug", "referer", "user-agent", "host"), fc.string({ maxLength: 10 })),
  ),
});

const NGINX_WORDS = [
  "events { }\n",
  "http {",
  "server {",
  "location / {",
  "location = /admin/ {",
  "location ^~ /static/ {",
  "location ~* \\.(php|cgi)$ {",
  "location ~ ^/(a|b)+/x {",
  "location @named {",
  "limit_except GET {",
  "if ($http_x_debug) {",
  'if ($arg_format = "raw") {',
  "if ($request_uri ~ ^/(?<n>\\w+)) {",
  "}",
  "}\n",
  "listen 80;",
  "listen 127.0.0.1:8080 default_server;",
  "server_name lab.test *.example ~^(www\\.)?x$;",
  "root /srv/www;",
  "alias /srv/a/;",
  "index index.html;",
  "autoindex off;",
  "allow 127.0.0.2;",
  "allow 10.0.0.0/8;",
  "deny all;",
  "satisfy any;",
  "return 403;",
  "return 301 /x;",
  "rewrite ^/old/(.*)$ /new/$1 last;",
  "try_files $uri $uri/ =404;",
  "set $a 1;",
  "map $http_x $y { default 0; ~a 1; }",
  "auth_basic on;",
  "valid_referers none blocked x.test;",
  "proxy_pass http://127.0.0.1:1;",
  "error_page 403 /e.html;",
  '"quoted ; value"',
  "'single'",
  "# comment\n",
  "\\",
  ";",
  "{",
  " ",
  "\n",
  "$",
  "${",
];

const APACHE_WORDS = [
  "<VirtualHost *:80>\n",
  "</VirtualHost>\n",
  "<Directory /srv/www>\n",
  "</Directory>\n",
  '<DirectoryMatch "^/srv/(a|b)">\n',
  "</DirectoryMatch>\n",
  "<Location /admin>\n",
  "</Location>\n",
  '<LocationMatch "^/x(.*)+">\n',
  "</LocationMatch>\n",
  "<Files *.php>\n",
  "</Files>\n",
  "<If \"%{REQUEST_METHOD} == 'POST'\">\n",
  "<ElseIf \"-R '10.0.0.0/8'\">\n",
  "<Else>\n",
  "</If>\n",
  "</ElseIf>\n",
  "</Else>\n",
  "<Limit POST PUT>\n",
  "</Limit>\n",
  "<LimitExcept GET>\n",
  "</LimitExcept>\n",
  "<RequireAll>\n",
  "</RequireAll>\n",
  "<RequireAny>\n",
  "</RequireAny>\n",
  "<IfModule mod_rewrite.c>\n",
  "</IfModule>\n",
  "<IfDefine X>\n",
  "</IfDefine>\n",
  "ServerName lab.test\n",
  "DocumentRoot /srv/www\n",
  "Require all granted\n",
  "Require all denied\n",
  "Require ip 127.0.0.2 10.0.0.0/8\n",
  "Require not ip 1.2.3.4\n",
  "Require method GET\n",
  "Require expr \"%{HTTP:X-Debug} == '1'\"\n",
  "Require host x.test\n",
  "Order deny,allow\n",
  "Deny from all\n",
  "Allow from 127.0.0.1\n",
  "Satisfy Any\n",
  "AllowOverride All\n",
  "Options -Indexes\n",
  "RewriteEngine On\n",
  'RewriteRule "^/rewrite-blocked/" - [F]\n',
  "RewriteCond %{REQUEST_METHOD} POST [NC]\n",
  "RewriteRule ^(.*)$ /x/$1 [R=301,L]\n",
  "Alias /a /srv/a\n",
  "Define X 1\n",
  // biome-ignore lint/suspicious/noTemplateCurlyInString: an Apache ${VAR} reference, not a template
  "${X}\n",
  "Include nothing-*.conf\n",
  '"unterminated\n',
  "\\\n",
  "#c\n",
  " ",
  "\n",
  ">",
  "<",
];

describe("configs: only InputError comes out", () => {
  it("nginx: parse text, then evaluate a request", () => {
    fc.assert(
      fc.property(pieces(NGINX_WORDS, 30), REQUEST, (text, req) =>
        onlyInputErrors(() => {
          const config = parseNginxText(text, "fuzz.conf");
          evaluateNginx(config, { ...req, headers: req.headers ?? undefined });
        }),
      ),
      { numRuns: FUZZ_RUNS.nginx },
    );
  });

  it("Apache: parse text, then evaluate a request", () => {
    fc.assert(
      fc.property(pieces(APACHE_WORDS, 30), REQUEST, (text, req) =>
        onlyInputErrors(() => {
          const config = parseApacheText(text, "fuzz.conf", { serverRoot: DIR });
          evaluateApache(config, { ...req, headers: req.headers ?? undefined }, { readHtaccess: false });
        }),
      ),
      { numRuns: FUZZ_RUNS.apache },
    );
  });
});

// ---------- the count ----------

/** Where test/count-property-runs.ts records each property check's executed runs (scripts/test-all.sh sets it). */
const PROPERTY_RUNS_FILE = process.env.WHY403_PROPERTY_RUNS;

describe("generated cases per run", () => {
  // Skipped (shown as such) outside `npm run test:all`: only there do the src/**
  // property tests run first, in the unit project, and record their runs.
  it.runIf(PROPERTY_RUNS_FILE)("at least 100,000 executed across the property tests", () => {
    const perFile: Record<string, number> = {};
    for (const line of readFileSync(PROPERTY_RUNS_FILE as string, "utf8").split("\n")) {
      if (!line) continue;
      const { test, runs } = JSON.parse(line) as { test: string; runs: number };
      perFile[test] = (perFile[test] ?? 0) + runs;
    }
    const total = Object.values(perFile).reduce((a, b) => a + b, 0);
    console.log(`property cases executed this run: ${total} ${JSON.stringify(perFile)}`);
    // This file's own properties ran before this test (same file, in order).
    expect(perFile["test/fuzz-all.test.ts"]).toBe(Object.values(FUZZ_RUNS).reduce((a, b) => a + b, 0));
    expect(total).toBeGreaterThanOrEqual(100_000);
  });
});

// ---------- nasty inputs by hand ----------

const DEPTH = 10_000;
const deepJson = `${'{"a":'.repeat(DEPTH)}"x or 1=1"${"}".repeat(DEPTH)}`;
const deepArray = `${"[".repeat(DEPTH)}1${"]".repeat(DEPTH)}`;

function expectBoundedRun(
  r: { code: number | null; stderr: string; peakRssKb: number },
  label: string,
  codes = [0, 1, 2, 3],
): void {
  expect(codes, `${label}: exit ${r.code} ${r.stderr.slice(0, 300)}`).toContain(r.code);
  expect(r.stderr, label).not.toMatch(/\n\s+at [^\n]+:\d+:\d+/);
  expect(r.stderr, label).not.toMatch(/internal error|RangeError|Maximum call stack/);
  expect(r.peakRssKb, `${label} peak RSS`).toBeLessThan(RSS_LIMIT_KB);
  // Bad input may end either way the brief allows, a bounded result or a one-line
  // error (exit 2): the error, when it is one, is one line.
  const errorLines = r.code === 2 ? r.stderr.trim().split("\n").length : 1;
  expect(errorLines, `${label}: a one-line error`).toBe(1);
}

let server: Server;
let base = "";
const peaks: Record<string, number> = {};

beforeAll(async () => {
  mkdirSync(DIR, { recursive: true });
  // Refuses bodies with a tautology, echoing the body back as JSON.
  server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", () => {
      const body = Buffer.concat(chunks).toString("utf8");
      const refused = / or 1=1/.test(body);
      res.writeHead(refused ? 403 : 200, { "Content-Type": "application/json" });
      res.end(refused ? `{"error":"blocked","echo":${body || "null"}}` : '{"ok":true}');
    });
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  const a = server.address();
  base = `http://127.0.0.1:${typeof a === "object" && a ? a.port : 0}`;
});

afterAll(async () => {
  await new Promise<void>((r) => server.close(() => r()));
  rmSync(DIR, { recursive: true, force: true });
  console.log(`fuzz-all nasty cases: peak RSS (MB) ${JSON.stringify(peaks)}`);
});

describe("nasty inputs", { concurrent: true }, () => {
  it("JSON nested 10,000 deep: curl line parse and the delta minimiser keep their stack", async () => {
    for (const body of [deepJson, deepArray]) {
      const req = parseCurlCommandLine(
        `curl ${base}/x -H 'content-type: application/json' --data-raw '${body}'`,
      );
      expect(req.body?.length).toBe(body.length);
      const r = await minimizeRequest(
        req as RequestModel,
        async (c) => (/ or 1=1/.test(c.body?.toString("utf8") ?? "") ? "fail" : "pass"),
        { maxTests: 40 },
      );
      expect(r.tests).toBeLessThanOrEqual(40);
    }
  });

  it("JSON nested 10,000 deep through why403 curl (live, minimiser included), response and har", async () => {
    const curlFile = join(DIR, "deep.curl");
    writeFileSync(curlFile, `curl ${base}/x -H 'content-type: application/json' --data-raw '${deepJson}'`);
    const live = await runMeasured(["curl", "-", "--json", "--rate", "100", "--timeout", "3000"], {
      input: readFileSync(curlFile, "utf8"),
    });
    peaks["deep json curl"] = Math.round(live.peakRssKb / 1024);
    expectBoundedRun(live, "deep curl", [0, 1]);

    const saved = join(DIR, "deep.http");
    writeFileSync(saved, `HTTP/1.1 403 Forbidden\r\nContent-Type: application/json\r\n\r\n${deepJson}`);
    const resp = await runMeasured([
      "response",
      saved,
      "--request-curl",
      `curl ${base}/x -H 'content-type: application/json' --data-raw '${deepArray}'`,
      "--json",
    ]);
    peaks["deep json response"] = Math.round(resp.peakRssKb / 1024);
    expectBoundedRun(resp, "deep response", [0, 1]);

    const har = join(DIR, "deep.har");
    writeFileSync(har, JSON.stringify(harWith(deepJson, deepArray)));
    const h = await runMeasured(["har", har, "--json"]);
    peaks["deep json har"] = Math.round(h.peakRssKb / 1024);
    expectBoundedRun(h, "deep har", [0, 1]);
  });

  it("a 100 MB HAR (under the 256 MB input cap) is read with bounded memory", async () => {
    const file = join(DIR, "big.har");
    const filler = "x".repeat(1024 * 1024);
    const entries = Array.from({ length: 100 }, (_, i) => harEntry(`/asset/${i}`, 200, filler));
    entries.push(harEntry("/checkout", 403, "<h1>Forbidden</h1>"));
    writeFileSync(
      file,
      JSON.stringify({ log: { version: "1.2", creator: { name: "t", version: "1" }, entries } }),
    );
    expect(statSync(file).size).toBeGreaterThan(100 * 1024 * 1024);
    const r = await runMeasured(["har", file, "--json"], { timeoutMs: 60_000 });
    peaks["100 MB HAR"] = Math.round(r.peakRssKb / 1024);
    expectBoundedRun(r, "100 MB HAR", [0, 1]);
    expect((JSON.parse(r.stdout) as { baseline: { status: number } }).baseline.status).toBe(403);
    rmSync(file, { force: true });
  }, 90_000);

  it("include loops and an include of /dev/zero end in one-line errors", async () => {
    const nginxLoop = join(DIR, "loop.conf");
    writeFileSync(nginxLoop, "events {}\nhttp { include loop.conf; server { listen 80; } }\n");
    const nginxZero = join(DIR, "zero.conf");
    writeFileSync(nginxZero, "events {}\nhttp { include /dev/zero; }\n");
    const apacheLoop = join(DIR, "a-loop.conf");
    writeFileSync(apacheLoop, `ServerRoot ${DIR}\nInclude a-loop.conf\n`);
    const apacheZero = join(DIR, "a-zero.conf");
    writeFileSync(apacheZero, "Include /dev/zero\n");
    for (const [parse, file] of [
      [() => parseNginxConfig(nginxLoop), "nginx loop"],
      [() => parseNginxConfig(nginxZero), "nginx /dev/zero"],
      [() => parseApacheConfig(apacheLoop, { serverRoot: DIR }), "apache loop"],
      [() => parseApacheConfig(apacheZero, { serverRoot: DIR }), "apache /dev/zero"],
    ] as const) {
      expect(parse, file).toThrow(InputError);
    }
    for (const [kind, conf] of [
      ["nginx", nginxLoop],
      ["nginx", nginxZero],
      ["apache", apacheLoop],
      ["apache", apacheZero],
    ] as const) {
      const r = await runMeasured(["config", kind, "--conf", conf, "--request", "GET http://lab.test/"], {
        timeoutMs: 20_000,
      });
      expectBoundedRun(r, `config ${kind} ${conf}`, [2]);
      expect(r.stderr).toMatch(/loop|not a regular/);
    }
  });

  it("a 50 MB log line through why403 logs", async () => {
    const file = join(DIR, "huge-line.log");
    const ok = '127.0.0.1 - - [26/Nov/2026:05:00:00 +0000] "POST /api/x HTTP/1.1" 403 153 "-" "curl/8.0"';
    writeFileSync(
      file,
      `${ok}\n127.0.0.1 - - [26/Nov/2026:05:00:01 +0000] "GET /${"a".repeat(50 * 1024 * 1024)} HTTP/1.1" 403 1\n${ok}\n`,
    );
    const r = await runMeasured(["logs", file, "--json"], { timeoutMs: 60_000 });
    peaks["50 MB log line"] = Math.round(r.peakRssKb / 1024);
    expectBoundedRun(r, "50 MB line", [0, 1]);
    const report = JSON.parse(r.stdout) as { denials: number };
    expect(report.denials).toBeGreaterThanOrEqual(2);
    rmSync(file, { force: true });
  }, 90_000);
});

function harEntry(path: string, status: number, text: string, body?: string): unknown {
  return {
    startedDateTime: "2026-01-01T00:00:00.000Z",
    time: 1,
    request: {
      method: "POST",
      url: `http://shop.test${path}`,
      httpVersion: "HTTP/1.1",
      headers: [{ name: "Content-Type", value: "application/json" }],
      queryString: [],
      cookies: [],
      headersSize: -1,
      bodySize: body?.length ?? 0,
      ...(body ? { postData: { mimeType: "application/json", text: body } } : {}),
    },
    response: {
      status,
      statusText: "",
      httpVersion: "HTTP/1.1",
      headers: [{ name: "Content-Type", value: "application/json" }],
      cookies: [],
      content: { size: text.length, mimeType: "application/json", text },
      redirectURL: "",
      headersSize: -1,
      bodySize: text.length,
    },
    cache: {},
    timings: { send: 0, wait: 1, receive: 0 },
  };
}

function harWith(responseBody: string, requestBody: string): unknown {
  return {
    log: {
      version: "1.2",
      creator: { name: "t", version: "1" },
      entries: [harEntry("/x", 403, responseBody, requestBody)],
    },
  };
}
