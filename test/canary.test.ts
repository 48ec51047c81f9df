// Secrets canary: credentials planted everywhere a secret can live — request headers,
// cookies, Set-Cookie, API keys, JWTs in bodies and query strings, form passwords,
// AWS SigV4 query signatures, a GitHub token — and echoed back by the server in the
// 403 body and Set-Cookie. No canary may appear in any output of the built CLI
// (stdout, stderr, files it writes), in any format, error messages and --debug
// included; only the redacted form with its sha256 fingerprint.
import { mkdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { createServer, type Server } from "node:http";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type CliResult, runCli, runCliAsync } from "./helpers/cli.js";

const DIR = join(process.cwd(), ".run", "canary", String(process.pid));

const b64url = (s: string) => Buffer.from(s).toString("base64url");
const JWT_SIG = "c4n4ryJwtSignatureQ1w2E3r4T5y6U7i8O9p0";
const JWT = `${b64url('{"alg":"HS256","typ":"JWT"}')}.${b64url('{"sub":"c4n4ry-subject-9137","exp":4102444800}')}.${JWT_SIG}`;
const QUERY_JWT_SIG = "c4n4ryQueryJwtSigZ9y8X7w6V5u4T3s2R1";
const QUERY_JWT = `${b64url('{"alg":"HS256"}')}.${b64url('{"sub":"q"}')}.${QUERY_JWT_SIG}`;
const BEARER = "c4n4ryBearerTok3n9f8e7d6c5b4a";
const BASIC_PASSWORD = "c4n4ryBasicPassw0rd";
const BASIC_B64 = Buffer.from(`ada:${BASIC_PASSWORD}`).toString("base64");
const COOKIE = "c4n4ryCookieSess10n77";
const SET_COOKIE = "c4n4rySetCookieV4lue55";
const API_KEY = "c4n4ryApiKey0123456789";
const GITHUB = "ghp_c4n4ryGithubT0kenABCDEFGHIJKLMNOPQR";
const FORM_PASSWORD = "C4n4ryFormPassw0rd";
const JSON_PASSWORD = "C4n4ryJsonPassw0rd";
const AWS_KEY_ID = "AKIAC4N4RYEXAMPLE001";
const AWS_SIGNATURE = "c4a4e1d2f3a4b5c6d7e8f9a0b1c2d3e4f5a6b7c8d9e0f1a2b3c4d5e6f7a8b9c0";

/** Every planted value; none may be printed. The JWT's payload is claims, not a secret, so the whole token and its signature count. */
const CANARIES = [
  JWT,
  JWT_SIG,
  QUERY_JWT,
  QUERY_JWT_SIG,
  BEARER,
  BASIC_PASSWORD,
  BASIC_B64,
  COOKIE,
  SET_COOKIE,
  API_KEY,
  GITHUB,
  FORM_PASSWORD,
  JSON_PASSWORD,
  AWS_KEY_ID,
  AWS_SIGNATURE,
];

function leaks(text: string): string[] {
  return CANARIES.filter((c) => text.includes(c) || text.includes(encodeURIComponent(c)));
}

function expectClean(label: string, ...texts: string[]): void {
  const all = texts.join("\n");
  expect(leaks(all), `${label} leaked`).toEqual([]);
}

let server: Server;
let base = "";

const QUERY = `access_token=${QUERY_JWT}&X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Credential=${encodeURIComponent(`${AWS_KEY_ID}/20260101/us-east-1/s3/aws4_request`)}&X-Amz-Signature=${AWS_SIGNATURE}`;
const secretHeaders = () => [
  "-H",
  `Authorization: Bearer ${BEARER}`,
  "-H",
  `Cookie: sid=${COOKIE}; theme=dark`,
  "-H",
  `X-API-Key: ${API_KEY}`,
  "-H",
  `X-GitHub-Token: ${GITHUB}`,
];
const formBody = `username=ada&password=${FORM_PASSWORD}&id_token=${JWT}&comment=hello`;
const jsonBody = JSON.stringify({
  user: "ada",
  password: JSON_PASSWORD,
  auth: { token: JWT, apiKey: API_KEY },
  note: `pasted ${GITHUB} by mistake`,
});

function writeHar(file: string): void {
  const echo = `echo: Authorization: Bearer ${BEARER}\nCookie: sid=${COOKIE}\npassword=${FORM_PASSWORD} token ${JWT} ${GITHUB}`;
  const har = {
    log: {
      version: "1.2",
      creator: { name: "canary", version: "1" },
      entries: [
        {
          startedDateTime: "2026-01-01T10:00:00.000Z",
          time: 12,
          request: {
            method: "POST",
            url: `https://shop.example/api/orders?${QUERY}`,
            httpVersion: "HTTP/1.1",
            headers: [
              { name: "Authorization", value: `Bearer ${JWT}` },
              { name: "Cookie", value: `sid=${COOKIE}` },
              { name: "X-API-Key", value: API_KEY },
              { name: "X-GitHub-Token", value: GITHUB },
              { name: "Content-Type", value: "application/x-www-form-urlencoded" },
            ],
            queryString: [
              { name: "access_token", value: QUERY_JWT },
              { name: "X-Amz-Signature", value: AWS_SIGNATURE },
              { name: "X-Amz-Credential", value: `${AWS_KEY_ID}/20260101/us-east-1/s3/aws4_request` },
            ],
            cookies: [{ name: "sid", value: COOKIE }],
            headersSize: -1,
            bodySize: formBody.length,
            postData: {
              mimeType: "application/x-www-form-urlencoded",
              text: formBody,
              params: [
                { name: "username", value: "ada" },
                { name: "password", value: FORM_PASSWORD },
              ],
            },
          },
          response: {
            status: 403,
            statusText: "Forbidden",
            httpVersion: "HTTP/1.1",
            headers: [
              { name: "Content-Type", value: "text/plain" },
              { name: "Set-Cookie", value: `session=${SET_COOKIE}; Path=/; HttpOnly` },
              { name: "Date", value: "Thu, 01 Jan 2026 10:00:00 GMT" },
            ],
            cookies: [{ name: "session", value: SET_COOKIE }],
            content: { size: echo.length, mimeType: "text/plain", text: echo },
            redirectURL: "",
            headersSize: -1,
            bodySize: echo.length,
          },
          cache: {},
          timings: { send: 1, wait: 10, receive: 1 },
        },
      ],
    },
  };
  writeFileSync(file, JSON.stringify(har));
}

function echoPage(method: string, url: string, headers: Record<string, unknown>, body: string): string {
  const lines = Object.entries(headers).map(([n, v]) => `${n}: ${String(v)}`);
  return `Forbidden\n\nYou sent ${method} ${url}\n${lines.join("\n")}\n\n${body}\n`;
}

beforeAll(async () => {
  mkdirSync(DIR, { recursive: true });
  server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", () => {
      const body = Buffer.concat(chunks).toString("utf8");
      res.writeHead(403, {
        "Content-Type": "text/plain",
        "Set-Cookie": [`session=${SET_COOKIE}; Path=/; HttpOnly`, `tracker=${JWT}; Path=/`],
        "X-Echo-Authorization": String(req.headers.authorization ?? ""),
      });
      res.end(echoPage(req.method ?? "", req.url ?? "", req.headers, body));
    });
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  const addr = server.address();
  base = `http://127.0.0.1:${typeof addr === "object" && addr ? addr.port : 0}`;
  writeHar(join(DIR, "capture.har"));
  const saved = [
    "HTTP/1.1 403 Forbidden",
    "Content-Type: text/plain",
    `Set-Cookie: session=${SET_COOKIE}; Path=/`,
    `X-Debug-Auth: Bearer ${BEARER}`,
    "",
    echoPage(
      "POST",
      `/api/orders?${QUERY}`,
      { authorization: `Bearer ${JWT}`, "x-api-key": API_KEY },
      formBody,
    ),
  ].join("\r\n");
  writeFileSync(join(DIR, "saved.http"), saved);
  const access = [
    `127.0.0.1 - - [01/Jan/2026:10:00:00 +0000] "POST /api/orders?${QUERY} HTTP/1.1" 403 153 "https://ada:${BASIC_PASSWORD}@shop.example/?token=${BEARER}" "curl/8.0" xrid="why403-aa-1"`,
    `127.0.0.1 - - [01/Jan/2026:10:00:01 +0000] "GET /login?password=${FORM_PASSWORD}&apikey=${API_KEY} HTTP/1.1" 403 153 "-" "curl/8.0"`,
  ].join("\n");
  writeFileSync(join(DIR, "access.log"), `${access}\n`);
  const error = `2026/01/01 10:00:00 [error] 12#12: *1 access forbidden by rule, client: 127.0.0.1, server: shop.example, request: "POST /api/orders?${QUERY} HTTP/1.1", host: "shop.example", referrer: "https://shop.example/?session=${COOKIE}"\n`;
  writeFileSync(join(DIR, "error.log"), error);
  const app = `${JSON.stringify({ level: 40, time: 1767261600000, reqId: "r1", method: "POST", url: `/api/orders?${QUERY}`, status: 403, reason: `bad token ${JWT} from Bearer ${BEARER}`, headers: { authorization: `Basic ${BASIC_B64}`, cookie: `sid=${COOKIE}` }, msg: "request refused" })}\n`;
  writeFileSync(join(DIR, "app.log"), app);
});

afterAll(async () => {
  await new Promise<void>((r) => server.close(() => r()));
  rmSync(DIR, { recursive: true, force: true });
});

const curlArgs = (extra: string[] = []) => [
  "curl",
  `${base}/api/orders?${QUERY}`,
  ...secretHeaders(),
  "-u",
  `ada:${BASIC_PASSWORD}`,
  "--data-raw",
  formBody,
  "--rate",
  "50",
  "--timeout",
  "3000",
  ...extra,
];

/** Runs a command in every report format; returns every byte it printed or wrote. */
async function allFormats(args: string[], name: string): Promise<{ runs: CliResult[]; written: string[] }> {
  const html = join(DIR, `${name}.html`);
  const runs = await Promise.all([
    runCliAsync(args),
    runCliAsync([...args, "--json"]),
    runCliAsync([...args, "--markdown"]),
    runCliAsync([...args, "--html", html]),
    runCliAsync([...args, "--debug"]),
  ]);
  let written = "";
  try {
    written = readFileSync(html, "utf8");
  } catch {
    written = "";
  }
  return { runs, written: [written] };
}

describe("secrets canary", () => {
  it("why403 curl (form body, headers, -u, query) in every format", async () => {
    const { runs, written } = await allFormats(curlArgs(), "curl-form");
    for (const r of runs) {
      expect([0, 1], r.stderr).toContain(r.code);
      expectClean("curl form", r.stdout, r.stderr);
    }
    expect(written[0]).toMatch(/<html/i);
    expectClean("curl form html", ...written);
    expect(runs.map((r) => r.stdout).join("")).toMatch(/sha256:[0-9a-f]{8}/);
  });

  it("why403 curl with a JSON body", async () => {
    const args = curlArgs().map((a) => (a === formBody ? jsonBody : a));
    args.splice(2, 0, "-H", "Content-Type: application/json");
    const { runs, written } = await allFormats(args, "curl-json");
    for (const r of runs) {
      expect([0, 1], r.stderr).toContain(r.code);
      expectClean("curl json", r.stdout, r.stderr);
    }
    expectClean("curl json html", ...written);
  });

  it("why403 har, offline, in every format and --list", async () => {
    const file = join(DIR, "capture.har");
    const { runs, written } = await allFormats(["har", file], "har");
    for (const r of runs) {
      expect([0, 1], r.stderr).toContain(r.code);
      expectClean("har", r.stdout, r.stderr);
    }
    expectClean("har html", ...written);
    const list = runCli(["har", file, "--list"]);
    expectClean("har --list", list.stdout, list.stderr);
  });

  it("why403 response with --request-curl", async () => {
    const reqCurl = `curl '${base}/api/orders?${QUERY}' -H 'Authorization: Bearer ${BEARER}' -H 'Cookie: sid=${COOKIE}' --data-raw '${formBody}'`;
    const { runs, written } = await allFormats(
      ["response", join(DIR, "saved.http"), "--request-curl", reqCurl],
      "response",
    );
    for (const r of runs) {
      expect([0, 1, 3], r.stderr).toContain(r.code);
      expectClean("response", r.stdout, r.stderr);
    }
    expectClean("response html", ...written);
  });

  it("why403 logs, text and --json", () => {
    const files = ["access.log", "error.log", "app.log"].map((f) => join(DIR, f));
    for (const extra of [[], ["--json"], ["--debug"]]) {
      const r = runCli(["logs", ...files, ...extra]);
      expect([0, 1], r.stderr).toContain(r.code);
      expectClean(`logs ${extra.join(" ")}`, r.stdout, r.stderr);
    }
  });

  it("error messages that quote bad input, with and without --debug", async () => {
    const cases: string[][] = [
      [
        "curl",
        `${base}/x?access_token=${QUERY_JWT}`,
        "-H",
        `Authorization: Bearer ${BEARER}`,
        "--frobnicate",
      ],
      [
        "curl",
        `http://ada:${BASIC_PASSWORD}@127.0.0.1:1/x?token=${BEARER}`,
        "-d",
        `password=${FORM_PASSWORD}`,
      ],
      ["curl", `notaurl?token=${BEARER}&X-Amz-Signature=${AWS_SIGNATURE}`],
      ["curl", `${base}/x`, "-H", `Authorization Bearer ${BEARER}`],
      ["curl", `${base}/x`, "--max-probes", API_KEY],
      ["curl", `curl '${base}/x' -H 'Cookie: sid=${COOKIE}`],
      ["response", join(DIR, "access.log")],
      ["har", join(DIR, "saved.http")],
      ["config", "nginx", "--conf", join(DIR, "error.log"), "--request", `POST http://x/?token=${BEARER}`],
      ["logs", join(DIR, "nope", `${GITHUB}.log`)],
    ];
    for (const args of cases) {
      for (const debug of [[], ["--debug"]]) {
        const r = await runCliAsync([...args, ...debug], { timeoutMs: 20_000 });
        expectClean(`error case ${args[0]} ${args[1]?.slice(0, 30)}`, r.stdout, r.stderr);
      }
    }
  });

  it("curl line from stdin with a secret-bearing URL and proxy credentials", () => {
    const line = `curl '${base}/api/orders?${QUERY}' -x http://proxyuser:${BASIC_PASSWORD}@127.0.0.1:1 -H 'X-API-Key: ${API_KEY}' --data-raw '${formBody}'`;
    for (const extra of [[], ["--json"], ["--debug"]]) {
      const r = runCli(["curl", "-", "--timeout", "2000", ...extra], { input: line, timeoutMs: 30_000 });
      expectClean(`stdin ${extra.join(" ")}`, r.stdout, r.stderr);
    }
  });
});
