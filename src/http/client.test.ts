import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { brotliCompressSync, gzipSync } from "node:zlib";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { RequestModel } from "../model.js";
import { classifyNetworkError, createHttpTransport } from "./client.js";
import { decodeBody } from "./decode.js";
import { Pacer, retryAfterMs } from "./pacer.js";
import { nextRedirect } from "./redirects.js";
import { withRequestId } from "./request-id.js";

let server: Server;
let base = "";
const received: Array<{ method: string; headers: Record<string, unknown>; body: string }> = [];

beforeAll(async () => {
  server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", () => {
      received.push({
        method: req.method ?? "",
        headers: req.headers,
        body: Buffer.concat(chunks).toString(),
      });
      switch (req.url) {
        case "/gzip":
          res.writeHead(403, { "Content-Encoding": "gzip", "X-Dup": "a" });
          return res.end(gzipSync("blocked by rule 942100"));
        case "/br":
          res.writeHead(200, { "Content-Encoding": "br" });
          return res.end(brotliCompressSync("brotli body"));
        case "/bomb":
          res.writeHead(200, { "Content-Encoding": "gzip" });
          return res.end(gzipSync(Buffer.alloc(50 * 1024 * 1024)));
        case "/big":
          res.writeHead(200);
          return res.end(Buffer.alloc(3 * 1024 * 1024, 97));
        case "/slow":
          return; // never answers
        case "/redirect":
          res.writeHead(302, { Location: "/elsewhere" });
          return res.end();
        default:
          res.writeHead(200, [
            ["Set-Cookie", "a=1"],
            ["Set-Cookie", "b=2"],
            ["X-Case", "Kept"],
          ]);
          return res.end("hello");
      }
    });
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterAll(async () => {
  server.closeAllConnections();
  await new Promise((r) => server.close(r));
});

const get = (path: string, extra: Partial<RequestModel> = {}): RequestModel => ({
  method: "GET",
  url: base + path,
  headers: [],
  body: null,
  options: {},
  ...extra,
});

describe("createHttpTransport", () => {
  const t = createHttpTransport({ timeoutMs: 2000 });
  afterAll(() => t.close!());

  it("keeps raw header names, order and duplicates; sends the body with a fresh Content-Length", async () => {
    const r = await t.send({
      ...get("/"),
      method: "POST",
      headers: [
        ["Content-Length", "999"],
        ["X-A", "1"],
      ],
      body: Buffer.from("abc"),
    });
    expect(r.ok).toBe(true);
    if (!r.ok) return;
    expect(r.response.status).toBe(200);
    expect(r.response.statusText).toBe("OK");
    expect(r.response.headers.filter(([n]) => n === "Set-Cookie").map(([, v]) => v)).toEqual(["a=1", "b=2"]);
    expect(r.response.headers).toContainEqual(["X-Case", "Kept"]);
    const last = received[received.length - 1]!;
    expect(last.body).toBe("abc");
    expect(last.headers["content-length"]).toBe("3");
  });

  it("decodes gzip and br", async () => {
    const g = await t.send(get("/gzip"));
    expect(g.ok && g.response.body.toString()).toBe("blocked by rule 942100");
    const b = await t.send(get("/br"));
    expect(b.ok && b.response.body.toString()).toBe("brotli body");
  });

  it("caps decoded output (bombs) and raw bodies", async () => {
    // A generous timeout: inflating the bomb is CPU work, and the machine may be busy.
    const bomb = await t.send(get("/bomb"), { maxDecodedBytes: 1024 * 1024, timeoutMs: 30_000 });
    expect(bomb.ok && bomb.response.body.length).toBe(1024 * 1024);
    expect(bomb.ok && bomb.response.bodyTruncated).toBe(true);
    const big = await t.send(get("/big"), { maxBodyBytes: 1000 });
    expect(big.ok && big.response.body.length).toBe(1000);
    expect(big.ok && big.response.bodyTruncated).toBe(true);
  });

  it("does not follow redirects", async () => {
    const r = await t.send(get("/redirect"));
    expect(r.ok && r.response.status).toBe(302);
  });

  it("times out with a typed failure", async () => {
    const r = await t.send(get("/slow"), { timeoutMs: 300 });
    expect(!r.ok && r.failure.kind).toBe("timeout");
  });

  it("classifies refused connections and TLS errors", async () => {
    const r = await t.send({ ...get("/"), url: "http://127.0.0.1:1/" });
    expect(!r.ok && r.failure.kind).toBe("refused");
    const tls = classifyNetworkError(
      Object.assign(new Error("self-signed"), { code: "DEPTH_ZERO_SELF_SIGNED_CERT" }),
      "https://h.test/",
      1000,
    );
    expect(tls.kind).toBe("tls");
    expect(tls.message).toMatch(/-k/);
  });
});

describe("decodeBody", () => {
  it("returns raw bytes when the data is not what the header says", async () => {
    const r = await decodeBody(Buffer.from("plain"), "gzip", 100);
    expect(r).toEqual({ body: Buffer.from("plain"), truncated: false, decoded: false });
  });
  it("decodes a cut gzip stream as far as it goes", async () => {
    const z = gzipSync(Buffer.from("x".repeat(10000) + "y".repeat(10000)));
    const r = await decodeBody(z.subarray(0, Math.floor(z.length / 2)), "gzip", 1e6);
    expect(r.decoded).toBe(true);
  });
});

describe("redirects (curl -L semantics)", () => {
  const post: RequestModel = {
    method: "POST",
    url: "http://a.test/old",
    headers: [
      ["Content-Type", "application/x-www-form-urlencoded"],
      ["Authorization", "Bearer x"],
    ],
    body: Buffer.from("a=1"),
    options: { followRedirects: true },
  };
  const r = (status: number, location: string) => ({
    status,
    statusText: "",
    httpVersion: "HTTP/1.1",
    headers: [["Location", location]] as Array<[string, string]>,
    body: Buffer.alloc(0),
    bodyTruncated: false,
  });

  it("301/302/303 turn POST into GET and drop the body", () => {
    for (const s of [301, 302, 303]) {
      const step = nextRedirect(post, r(s, "/new"))!;
      expect(step.next.method).toBe("GET");
      expect(step.next.body).toBeNull();
      expect(step.methodChanged && step.bodyDropped).toBe(true);
      expect(step.next.url).toBe("http://a.test/new");
    }
  });
  it("307/308 and -X keep the method and body", () => {
    expect(nextRedirect(post, r(307, "/n"))!.next.method).toBe("POST");
    const explicit = { ...post, options: { followRedirects: true, explicitMethod: true } };
    const step = nextRedirect(explicit, r(302, "/n"))!;
    expect(step.next.method).toBe("POST");
    expect(step.next.body?.toString()).toBe("a=1");
  });
  it("drops credentials on another host", () => {
    const step = nextRedirect(post, r(308, "https://b.test/x"))!;
    expect(step.credentialsDropped).toBe(true);
    expect(step.next.headers.some(([n]) => n === "Authorization")).toBe(false);
  });
});

describe("pacing and ids", () => {
  it("spaces requests and honours short Retry-After only", async () => {
    let t = 0;
    const clock = {
      now: () => t,
      sleep: async (ms: number) => {
        t += ms;
      },
    };
    const p = new Pacer(4, clock, 5000);
    await p.wait();
    await p.wait();
    await p.wait();
    expect(t).toBe(500);
    expect(p.deferFor(3000)).toBe(true);
    await p.wait();
    expect(t).toBe(3500);
    expect(p.deferFor(60_000)).toBe(false);
    expect(retryAfterMs([["Retry-After", "7"]], 0)).toBe(7000);
    expect(retryAfterMs([["Retry-After", new Date(10_000).toUTCString()]], 0)).toBe(10_000);
  });
  it("replaces an existing X-Request-Id", () => {
    const r = withRequestId(
      { method: "GET", url: "http://x/", headers: [["x-request-id", "user"]], body: null, options: {} },
      "why403-a-1",
    );
    expect(r.headers).toEqual([["X-Request-Id", "why403-a-1"]]);
  });
});
