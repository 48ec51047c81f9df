import { afterEach, describe, expect, it } from "vitest";
import type { RequestModel } from "../../model.js";
import { investigate } from "../index.js";
import { send, serverOwnDecoyAnswer, startServer, type TestServer, unsafeHits } from "./servers.js";

let server: TestServer | null = null;
afterEach(async () => {
  await server?.close();
  server = null;
});

const FAST = { ratePerSecond: 1000, timeoutMs: 3000 };

function post(
  url: string,
  body: string,
  contentType: string,
  extra: Array<[string, string]> = [],
): RequestModel {
  return {
    method: "POST",
    url,
    headers: [["Content-Type", contentType], ["User-Agent", "curl/8.5.0"], ["Accept", "*/*"], ...extra],
    body: Buffer.from(body),
    options: {},
  };
}

const BLOCK_PAGE =
  "<html><body><h1>Request blocked</h1><p>Your request was rejected by the security filter.</p></body></html>";

describe("investigate against local servers", () => {
  it("host-wide content filter: finds the JSON member and the minimal fragment without touching the route", async () => {
    server = await startServer((req, res) => {
      if (/'\s*or\s+1=1/i.test(decodeURIComponent(req.body))) return send(res, 403, BLOCK_PAGE);
      if (serverOwnDecoyAnswer(req, res)) return;
      if (req.path === "/api/items" && req.method === "POST")
        return send(res, 201, '{"ok":true}', { "Content-Type": "application/json" });
      if (req.path.startsWith("/api/items")) return send(res, 200, "items");
      return send(res, 404, "<html><body>Not Found</body></html>");
    });
    const fields: Record<string, string> = {};
    for (let i = 0; i < 40; i++) fields[`f${i}`] = `value ${i}`;
    fields.comment = "nice item' or 1=1-- thanks";
    const report = await investigate(
      post(`${server.url}/api/items`, JSON.stringify(fields), "application/json"),
      FAST,
    );
    expect(report.notRefused).toBeUndefined();
    expect(report.baseline.status).toBe(403);
    expect(report.trigger).toMatchObject({ location: "body", name: "$.comment", family: "SQL injection" });
    expect(report.trigger!.minimal).toMatch(/^'\s*or\s+1=1$/);
    expect(report.candidates[0]?.cause).toBe("waf");
    expect(report.probes[0]!.safety).toBe("replay");
    expect(report.probes.length).toBeLessThanOrEqual(30);
    expect(report.sideEffects.unsafeProbes).toBe(0);
    // Only the replay reached the route with POST.
    expect(unsafeHits(server.seen, "/api/items")).toHaveLength(1);
    // Every request carried our id.
    for (const s of server.seen) expect(String(s.headers["x-request-id"])).toMatch(/^why403-[0-9a-f]+-\d+$/);
  });

  it("a content filter in front of a catch-all app: diagnosed without executing anything, and says why no trigger search ran", async () => {
    // Every path reaches the app; it acts on any POST whose body names an action.
    const executed: string[] = [];
    server = await startServer((req, res) => {
      if (/'\s*or\s+1=1/i.test(decodeURIComponent(req.body))) return send(res, 403, BLOCK_PAGE);
      if (!["GET", "HEAD", "OPTIONS"].includes(req.method) && /action=/.test(req.body)) {
        executed.push(`${req.method} ${req.path}`);
        return send(res, 200, '{"done":true}', {
          "Content-Type": "application/json",
          "X-Powered-By": "PHP/8.2",
        });
      }
      return send(res, 404, "<html><body>No such page</body></html>", { "X-Powered-By": "PHP/8.2" });
    });
    const report = await investigate(
      post(
        `${server.url}/wp-admin/admin-ajax.php`,
        "action=save&comment=x' or 1=1--",
        "application/x-www-form-urlencoded",
      ),
      FAST,
    );
    expect(executed).toEqual([]);
    expect(report.sideEffects.unsafeProbes).toBe(0);
    expect(report.trigger).toBeNull();
    expect(report.candidates[0]?.cause).toBe("waf");
    expect(report.sideEffects.withheld?.join(" ")).toMatch(/No trigger search ran: GET on the decoy path/);
    expect(report.nextSteps?.join("\n")).toMatch(/--allow-side-effects on a staging copy/);
    // Every POST the app saw was the replay.
    expect(server.seen.filter((s) => s.method === "POST")).toHaveLength(1);
  });

  it("with consent the decoy not shown inert is counted and listed, and --max-unsafe bounds such probes", async () => {
    server = await startServer((req, res) => {
      if (/'\s*or\s+1=1/i.test(decodeURIComponent(req.body))) return send(res, 403, BLOCK_PAGE);
      return send(res, 404, "<html><body>No such page</body></html>", { "X-Powered-By": "PHP/8.2" });
    });
    const report = await investigate(
      post(`${server.url}/api/items`, "a=1&comment=x' or 1=1--", "application/x-www-form-urlencoded"),
      { ...FAST, allowSideEffects: true, maxUnsafe: 3 },
    );
    const posts = server.seen.filter((s) => s.method === "POST").length;
    expect(report.sideEffects.unsafeProbes).toBe(3);
    expect(posts - 1).toBe(3);
    expect(report.sideEffects.unsafe?.map((u) => u.method)).toEqual(["POST", "POST", "POST"]);
    expect(report.sideEffects.unsafe?.[0]?.why).toMatch(/decoy path not shown inert/);
    // The content search kept within the bound instead of being cut off by it.
    expect(report.probes.filter((p) => p.safety === "may-execute")).toHaveLength(3);
    expect(report.probes.some((p) => /content search/.test(p.purpose))).toBe(true);
  });

  it("CSRF token missing: reads the form page's token, does not resend the POST without consent", async () => {
    const token = "tok-4f1d2c9a7b";
    const handler = (
      req: Parameters<Parameters<typeof startServer>[0]>[0],
      res: Parameters<Parameters<typeof startServer>[0]>[1],
    ) => {
      if (req.path === "/profile" && req.method === "GET") {
        return send(
          res,
          200,
          `<html><form method="post"><input type="hidden" name="_csrf" value="${token}"><input name="email"></form></html>`,
          {
            "Set-Cookie": "sid=s3ss10n; Path=/; HttpOnly",
          },
        );
      }
      if (req.path === "/profile" && req.method === "POST") {
        const ok =
          new URLSearchParams(req.body).get("_csrf") === token &&
          String(req.headers.cookie ?? "").includes("sid=");
        return ok
          ? send(res, 200, "saved")
          : send(res, 403, "<html><body>ForbiddenError: invalid csrf token</body></html>");
      }
      return send(res, 404, "<html><body>Not Found</body></html>");
    };
    server = await startServer(handler);
    const req = post(`${server.url}/profile`, "email=a%40b.test", "application/x-www-form-urlencoded", [
      ["Origin", server.url],
      ["Referer", `${server.url}/profile`],
    ]);
    const report = await investigate(req, FAST);
    expect(report.candidates[0]?.cause).toBe("csrf");
    expect(unsafeHits(server.seen, "/profile")).toHaveLength(1);
    expect(report.sideEffects.unsafeProbes).toBe(0);
    expect(report.nextSteps?.join("\n")).toMatch(/Likely fix, not verified: .*_csrf/);
    expect(report.probes.some((p) => p.purpose.includes("page the form came from"))).toBe(true);

    // With consent, the fresh token is tried and the fix verified.
    await server.close();
    server = await startServer(handler);
    const req2 = post(`${server.url}/profile`, "email=a%40b.test", "application/x-www-form-urlencoded", [
      ["Referer", `${server.url}/profile`],
    ]);
    const verified = await investigate(req2, { ...FAST, allowSideEffects: true });
    expect(verified.verdict?.cause).toBe("csrf");
    expect(verified.sideEffects.unsafeProbes).toBeGreaterThan(0);
    expect(verified.sideEffects.unsafeProbes).toBe(unsafeHits(server.seen, "/profile").length - 1);
    expect(verified.verdict?.evidence.join("\n")).toMatch(/verified/);
  });

  it("403 on POST only: GET passes, the decoy does not reproduce, no POST probe reaches the path", async () => {
    server = await startServer((req, res) => {
      if (req.path === "/upload" && req.method === "POST")
        return send(res, 403, "<html><body><h1>403 Forbidden</h1></body></html>");
      if (req.path === "/upload") return send(res, 200, "upload form", { Allow: "GET, HEAD" });
      if (serverOwnDecoyAnswer(req, res)) return;
      return send(res, 404, "<html><body><h1>404 Not Found</h1></body></html>");
    });
    const report = await investigate(
      post(`${server.url}/upload`, "name=x", "application/x-www-form-urlencoded"),
      FAST,
    );
    const get = report.probes.find((p) => p.purpose.startsWith("GET instead of POST"));
    expect(get?.status).toBe(200);
    expect(get?.finding).toMatch(/specific to POST/);
    const decoyProbe = report.probes.find((p) => p.purpose.includes("on a decoy path"));
    expect(decoyProbe?.status).toBe(404);
    expect(decoyProbe?.url).toContain("/.well-known/why403/");
    expect(unsafeHits(server.seen, "/upload")).toHaveLength(1);
    expect(report.candidates.map((c) => c.cause)).not.toContain("ip-restriction");
  });

  it("a 301 that turns POST into GET under -L, and keeps POST with -X", async () => {
    const handler = (
      req: Parameters<Parameters<typeof startServer>[0]>[0],
      res: Parameters<Parameters<typeof startServer>[0]>[1],
    ) => {
      if (req.path === "/old") return send(res, 301, "moved", { Location: "/new" });
      if (req.path === "/new" && req.method === "POST") return send(res, 201, "created");
      if (req.path === "/new") return send(res, 405, "Method Not Allowed", { Allow: "POST" });
      return send(res, 404, "nf");
    };
    server = await startServer(handler);
    const req = post(`${server.url}/old`, "a=1", "application/x-www-form-urlencoded");
    req.options = { followRedirects: true };
    const report = await investigate(req, FAST);
    expect(report.probes[0]!.finding).toMatch(/turns this POST into GET/);
    expect(report.probes[1]).toMatchObject({ method: "GET", status: 405, safety: "replay" });
    expect(report.baseline.status).toBe(405);
    expect(report.candidates[0]?.cause).toBe("redirect-method-change");

    // -X POST keeps the method: the hop would POST the body again, so without consent it is not sent.
    const explicit = post(`${server.url}/old`, "a=1", "application/x-www-form-urlencoded");
    explicit.options = { followRedirects: true, explicitMethod: true };
    const stopped = await investigate(explicit, FAST);
    expect(stopped.probes.map((p) => p.status)).toEqual([301]);
    expect(stopped.verdict).toBeNull();
    expect(stopped.sideEffects.unsafeProbes).toBe(0);
    expect(stopped.nextSteps?.[0]).toMatch(
      /stopped before redirect hop 1: curl -L would send POST http:\/\/127\.0\.0\.1:\d+\/new with the same 3-byte body again \(-X POST keeps the method on a 301\)/,
    );
    const ok = await investigate(explicit, { ...FAST, allowSideEffects: true });
    expect(ok.notRefused).toBe(true);
    expect(ok.probes.map((p) => p.status)).toEqual([301, 201]);
    expect(ok.sideEffects.unsafe).toEqual([
      {
        n: 2,
        method: "POST",
        url: expect.stringMatching(/\/new$/),
        why: expect.stringMatching(/redirect hop 1/),
      },
    ]);
  });

  it("a 307/308 chain back to the original path: the POST is sent once without consent, --max-unsafe times more with it", async () => {
    server = await startServer((req, res) => {
      if (req.path === "/a") return send(res, 307, "again", { Location: "/b" });
      if (req.path === "/b") return send(res, 308, "again", { Location: "/a" });
      return send(res, 404, "nf");
    });
    const req = post(`${server.url}/a`, "action=delete", "application/x-www-form-urlencoded");
    req.options = { followRedirects: true };
    const report = await investigate(req, FAST);
    expect(server.seen.filter((s) => s.method === "POST")).toHaveLength(1);
    expect(report.sideEffects.unsafeProbes).toBe(0);
    expect(report.sideEffects.withheld?.[0]).toMatch(
      /curl -L would send POST \S+\/b with the same 13-byte body again \(307 keeps the method and body\)/,
    );
    expect(report.probes[0]!.finding).toMatch(/redirect not followed/);

    server.seen.length = 0;
    const consented = await investigate(req, { ...FAST, allowSideEffects: true, maxUnsafe: 2 });
    expect(server.seen.filter((s) => s.method === "POST")).toHaveLength(3);
    expect(consented.sideEffects.unsafeProbes).toBe(2);
    expect(consented.sideEffects.unsafe?.map((u) => u.n)).toEqual([2, 3]);
    expect(consented.nextSteps?.[0]).toMatch(/--max-unsafe/);
  });

  it("not refused: one request, notRefused set", async () => {
    server = await startServer((_req, res) => send(res, 200, "fine"));
    const report = await investigate(
      post(`${server.url}/x`, "a=1", "application/x-www-form-urlencoded"),
      FAST,
    );
    expect(report.notRefused).toBe(true);
    expect(report.probes).toHaveLength(1);
    expect(server.seen).toHaveLength(1);
  });

  it("respects the probe budget and the request-id switch", async () => {
    server = await startServer((req, res) =>
      /evil/.test(req.body) ? send(res, 403, BLOCK_PAGE) : send(res, 404, "nf"),
    );
    const body = JSON.stringify(
      Object.fromEntries(Array.from({ length: 200 }, (_, i) => [`k${i}`, i === 150 ? "evil" : "ok"])),
    );
    const report = await investigate(post(`${server.url}/api`, body, "application/json"), {
      ...FAST,
      maxProbes: 6,
      requestIds: false,
    });
    expect(report.probes.length).toBeLessThanOrEqual(6);
    expect(server.seen.length).toBe(report.probes.length);
    for (const s of server.seen) expect(s.headers["x-request-id"]).toBeUndefined();
  });

  it("credentials recognised: 403 with the token, 401 without → insufficient permission", async () => {
    server = await startServer((req, res) => {
      const auth = req.headers.authorization;
      if (!req.path.startsWith("/admin")) return send(res, 404, "nf");
      if (!auth)
        return send(res, 401, '{"error":"login required"}', {
          "Content-Type": "application/json",
          "WWW-Authenticate": 'Bearer realm="api"',
        });
      return send(res, 403, '{"error":"forbidden"}', { "Content-Type": "application/json" });
    });
    const req = post(`${server.url}/admin/users`, '{"name":"x"}', "application/json", [
      ["Authorization", "Bearer abcdefghijklmnop123456"],
    ]);
    const report = await investigate(req, FAST);
    expect(report.candidates[0]?.cause).toBe("insufficient-permission");
    expect(unsafeHits(server.seen, "/admin/users")).toHaveLength(1);
    expect(JSON.stringify(report)).not.toContain("abcdefghijklmnop123456");
  });

  it("a connection refused on the replay: a report with no verdict and baseline.failure (exit 4)", async () => {
    server = await startServer((_req, res) => send(res, 200, "x"));
    const url = server.url;
    await server.close();
    server = null;
    const report = await investigate(post(`${url}/x`, "a", "text/plain"), FAST);
    expect(report.verdict).toBeNull();
    expect(report.baseline).toMatchObject({ status: null, failure: { kind: "refused-connection" } });
    expect(report.baseline.failure?.message).toMatch(/refused/);
    expect(report.probes).toHaveLength(1);
    expect(report.probes[0]).toMatchObject({ safety: "replay", status: null, error: "refused" });
  });
});
