// Differential test: what the real curl binary sends vs what parseCurlArgs
// says it sends. A raw TCP server on 127.0.0.1 records each request; curl is
// pointed at it with --connect-to (so no line reaches another host), and the
// method, request target, body and headers are compared. Lines curl refuses
// must be refused here too. Runs our own lines, then every line of the public
// curl corpus (../shared/realworld/curl, when present) that speaks plain HTTP
// and names no proxy.

import { execFile } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { createServer, type Server } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { InputError } from "../src/errors.js";
import { CURL_USER_AGENT, parseCurlArgs } from "../src/request/curl.js";
import { splitCommandLine } from "../src/request/shell-words.js";

const CURL = "/usr/bin/curl";
const ROOT = join(import.meta.dirname, "..");
const CORPUS = [
  process.env.WHY403_REALWORLD,
  join(ROOT, "..", "shared", "realworld"),
  join(ROOT, "..", "..", "shared", "realworld"),
]
  .filter((p): p is string => !!p)
  .map((p) => join(p, "curl", "commands.json"))
  .find((p) => existsSync(p));

interface Seen {
  method: string;
  target: string;
  headers: string[];
  body: Buffer;
}

let server: Server;
let port = 0;
let captured: Buffer[] = [];
const cwd = mkdtempSync(join(tmpdir(), "why403-curldiff-"));

beforeAll(async () => {
  server = createServer((socket) => {
    const chunks: Buffer[] = [];
    let timer: NodeJS.Timeout | undefined;
    socket.on("data", (d) => {
      chunks.push(d);
      const all = Buffer.concat(chunks);
      // curl waits a second for "100 Continue" before sending a body: say it at once.
      if (/\r\nexpect: 100-continue\r\n/i.test(all.toString("latin1")) && !all.includes("HTTP/1.1 100")) {
        if (all.indexOf("\r\n\r\n") === all.length - 4) socket.write("HTTP/1.1 100 Continue\r\n\r\n");
      }
      clearTimeout(timer);
      timer = setTimeout(() => {
        captured.push(Buffer.concat(chunks));
        socket.end("HTTP/1.1 200 OK\r\nContent-Length: 0\r\nConnection: close\r\n\r\n");
      }, 150);
    });
    socket.on("error", () => {});
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  port = (server.address() as { port: number }).port;
});
afterAll(async () => {
  await new Promise((r) => server.close(r));
  rmSync(cwd, { recursive: true, force: true });
});

function parseRaw(raw: Buffer): Seen {
  const end = raw.indexOf("\r\n\r\n");
  const head = raw.subarray(0, end).toString("utf8").split("\r\n");
  const [method = "", target = ""] = (head[0] ?? "").split(" ");
  return { method, target, headers: head.slice(1), body: raw.subarray(end + 4) };
}

/** Runs the real curl with its connection forced to our server; the exit code and what arrived. */
function runCurl(args: string[]): Promise<{ code: number; seen: Seen[] }> {
  captured = [];
  return new Promise((resolve) => {
    execFile(
      CURL,
      ["--connect-to", `::127.0.0.1:${port}`, "-s", "-o", "/dev/null", "--max-time", "5", ...args],
      { cwd, env: { PATH: process.env.PATH ?? "/usr/bin", HOME: cwd }, timeout: 10_000 },
      (err) => {
        const code = err ? (typeof err.code === "number" ? err.code : 99) : 0;
        setTimeout(() => resolve({ code, seen: captured.map(parseRaw) }), 250);
      },
    ).stdin?.end();
  });
}

const IGNORED = new Set(["host", "content-length", "expect", "connection", "transfer-encoding"]);

function normalisedHeaders(headers: string[], compressed: boolean, boundary: string | null): string[] {
  return headers
    .map((h) => {
      const i = h.indexOf(":");
      return [h.slice(0, i).trim().toLowerCase(), h.slice(i + 1).trim()] as const;
    })
    .filter(([n, v]) => !IGNORED.has(n) && !(n === "user-agent" && /^curl\//.test(v)))
    .filter(([n]) => !(compressed && n === "accept-encoding"))
    .map(([n, v]) => `${n}: ${boundary ? v.replaceAll(boundary, "BOUNDARY") : v}`)
    .sort();
}

function boundaryOf(headers: string[]): string | null {
  for (const h of headers) {
    const m = /^content-type:.*boundary="?([^";]+)"?/i.exec(h);
    if (m) return m[1] as string;
  }
  return null;
}

/** null when the parser agrees with what curl sent; else a one-line difference. */
async function compare(args: string[]): Promise<string | null> {
  let model: ReturnType<typeof parseCurlArgs> | null = null;
  let refusal = "";
  try {
    model = parseCurlArgs(args);
  } catch (e) {
    if (!(e instanceof InputError)) throw e;
    refusal = e.message;
  }
  const { code, seen } = await runCurl(args);
  if (!model) {
    return code !== 0 ? null : `curl sent ${seen.length} request(s) but why403 refused: ${refusal}`;
  }
  if (code !== 0 || seen.length !== 1)
    return `why403 parsed it but curl exited ${code} after ${seen.length} request(s)`;
  const real = seen[0] as Seen;
  const afterHost = model.url.slice(model.url.indexOf("//") + 2).split("#")[0] ?? "";
  const cut = afterHost.search(/[/?]/);
  const rest = cut < 0 ? "" : afterHost.slice(cut);
  const target = rest.startsWith("/") ? rest : `/${rest}`;
  const ourHeaders = model.headers
    .filter(([n, v]) => !(n === "User-Agent" && v === CURL_USER_AGENT))
    .map(([n, v]) => `${n}: ${v}`);
  const boundary = boundaryOf(real.headers);
  const ourBoundary = boundaryOf(ourHeaders);
  const diffs: string[] = [];
  if (real.method !== model.method) diffs.push(`method ${real.method} vs ${model.method}`);
  if (decodeURI(real.target) !== decodeURI(target)) diffs.push(`target ${real.target} vs ${target}`);
  const realBody = boundary
    ? real.body.toString("latin1").replaceAll(boundary, "BOUNDARY")
    : real.body.toString("latin1");
  const ourBodyRaw = (model.body ?? Buffer.alloc(0)).toString("latin1");
  const ourBody = ourBoundary ? ourBodyRaw.replaceAll(ourBoundary, "BOUNDARY") : ourBodyRaw;
  if (realBody !== ourBody)
    diffs.push(`body ${JSON.stringify(realBody.slice(0, 80))} vs ${JSON.stringify(ourBody.slice(0, 80))}`);
  const a = normalisedHeaders(real.headers, !!model.options.compressed, boundary);
  const b = normalisedHeaders(ourHeaders, !!model.options.compressed, ourBoundary);
  if (JSON.stringify(a) !== JSON.stringify(b))
    diffs.push(`headers ${JSON.stringify(a)} vs ${JSON.stringify(b)}`);
  return diffs.length ? diffs.join("; ") : null;
}

describe.skipIf(!existsSync(CURL))("parseCurlArgs vs the real curl", () => {
  const url = () => `http://127.0.0.1:${port}/p/x?a=1`;
  const upload = () => join(cwd, "up.txt");
  const jar = () => join(cwd, "jar.txt");
  const lines: Array<(u: string) => string[]> = [
    (u) => [u],
    (u) => ["-d", "a=b", "-d", "c", u],
    (u) => ["--sil", "--insec", "--jso", '{"x":1}', u],
    (u) => ["-G", "-d", "a=%2A", "--data-urlencode", "b=c d*", u],
    (u) => ["--data-urlencode", "ab=c d~*", "--data-urlencode", "=x y", "--data-urlencode", "z w", u],
    (u) => ["--url-query", "q=x y", "--url-query", "+r=%41", "--url-query", "=z z", u],
    (u) => ["-r", "0-10", "-H", "X-A: 1", "-H", "Accept:", u],
    (u) => ["-T", upload(), u],
    (u) => ["-T", upload(), "-X", "POST", u],
    (u) => ["-T", upload(), "-d", "a", u],
    (u) => ["-d", "a", "-F", "x=y", u],
    (u) => ["-I", "-d", "a", u],
    (u) => ["-F", "x=y", "-G", u],
    (u) => ["-F", "x=y", "-F", "n=v", u],
    (u) => ["-b", "a=b; c=d", "-b", jar(), u],
    (u) => ["-b", join(cwd, "missing-jar.txt"), u],
    (u) => ["-u", "al:pw", "-A", "agent/1", "-e", "http://r/", u],
    (u) => ["--s", u],
    (u) => ["--data=x", u],
    (u) => ["--no-data", "x", u],
    (u) => ["--compressed", "-L", u],
  ];
  beforeAll(() => {
    writeFileSync(upload(), "hi\n");
    writeFileSync(
      jar(),
      `127.0.0.1\tFALSE\t/\tFALSE\t0\tsid\tabc\n#HttpOnly_127.0.0.1\tFALSE\t/\tFALSE\t0\thid\tdef\n`,
    );
  });
  it.each(lines.map((f, i) => [i, f] as const))(
    "line %i sends what curl sends, or is refused as curl refuses it",
    async (_i, f) => {
      expect(await compare(f(url()))).toBeNull();
    },
  );

  it.skipIf(!CORPUS)(
    "every plain-HTTP line of the public corpus, without a proxy, matches curl",
    async () => {
      const corpus = JSON.parse(readFileSync(CORPUS as string, "utf8")) as Record<string, string>;
      const diffs: string[] = [];
      let compared = 0;
      for (const [name, text] of Object.entries(corpus)) {
        let words: string[];
        try {
          words = splitCommandLine(text.trim());
        } catch {
          continue; // shell operators or broken quoting: not one curl command
        }
        const args = words.slice(1);
        const urls = args.filter((a) => /^[a-z]+:\/\//i.test(a));
        if (urls.length === 0 || urls.some((u) => !u.startsWith("http://"))) continue;
        if (
          args.some((a) =>
            /^-(x|:|-next|-proxy|-preproxy|-socks|-connect-to|-resolve|-unix-socket|K|-config)/.test(a),
          )
        )
          continue;
        compared++;
        const d = await compare(args);
        // Deliberately not replayed, each named in the refusal: digest/NTLM and certificates
        // (unsupported options), several requests in one line, stdin, and a raw line break
        // in a header value (curl would forge a second header line from it).
        if (
          d?.startsWith("curl sent") &&
          /unsupported curl option|one request at a time|URLs; diagnose one|stdin|raw line break/.test(d)
        )
          continue;
        if (d) diffs.push(`${name}: ${d}`);
      }
      expect(diffs).toEqual([]);
      expect(compared).toBeGreaterThan(50);
    },
    120_000,
  );
});

describe.skipIf(!existsSync(CURL))("curl's long-option table", () => {
  it("is the list the installed curl prints with --help all", async () => {
    const { CURL_LONG_OPTIONS } = await import("../src/request/curl/long-options.js");
    const help = await new Promise<string>((resolve, reject) =>
      execFile(CURL, ["--help", "all"], (err, out) => (err ? reject(err) : resolve(out))),
    );
    const listed = [...help.matchAll(/^\s*(?:-., )?--([A-Za-z0-9.-]+)(?: (<[^>]*>|\[\S*))?/gm)].map((m) => {
      const takesValue = m[2] !== undefined;
      const name = !takesValue && m[1]?.startsWith("no-") ? (m[1] as string).slice(3) : (m[1] as string);
      return `${name}${takesValue ? "=" : ""}`;
    });
    const ours = CURL_LONG_OPTIONS.map((o) => `${o.name}${o.takesValue ? "=" : ""}`);
    expect(ours.filter((o) => o !== "help").sort()).toEqual(
      listed.filter((o) => !o.startsWith("help")).sort(),
    );
  });
});
