// The trigger search beyond body and query values: the path's text, the method,
// Content-Type, a parameter's name, a field without '=', and the evidence that
// tells a content filter's rule from a server rule keyed on a harmless value.
import { afterEach, describe, expect, it } from "vitest";
import type { RequestModel } from "../../model.js";
import { investigate } from "../index.js";
import {
  type Seen,
  send,
  serverOwnDecoyAnswer,
  startServer,
  type TestServer,
  unsafeHits,
} from "./servers.js";

let server: TestServer | null = null;
afterEach(async () => {
  await server?.close();
  server = null;
});

const FAST = { ratePerSecond: 1000, timeoutMs: 3000 };
const REFUSAL = "<html><head><title>403 Forbidden</title></head><body><h1>Forbidden</h1></body></html>";
const NOT_FOUND = "<html><head><title>404 Not Found</title></head><body><h1>Not Found</h1></body></html>";

function req(
  method: string,
  url: string,
  headers: Array<[string, string]> = [],
  body?: string,
): RequestModel {
  return {
    method,
    url,
    headers: [["User-Agent", "curl/8.5.0"], ["Accept", "*/*"], ...headers],
    body: body === undefined ? null : Buffer.from(body),
    options: {},
  };
}

function decoded(s: Seen): string {
  try {
    return decodeURIComponent(s.path);
  } catch {
    return s.path;
  }
}

/** A host-wide filter that reads every part of the request, like an anomaly-scoring WAF at its simplest. */
function contentFilter(extra: (s: Seen) => boolean) {
  return (s: Seen, res: Parameters<Parameters<typeof startServer>[0]>[1]) => {
    const everything = `${decoded(s)} ${s.body}`;
    if (/<script>/i.test(everything) || extra(s)) return send(res, 403, REFUSAL);
    // The decoy prefix is served by the web server itself: shown inert, so the
    // request's own method may go there.
    if (serverOwnDecoyAnswer(s, res)) return;
    return send(res, 404, NOT_FOUND);
  };
}

describe("trigger search: every part a firewall inspects", () => {
  it("a scanner file name in the path: found under a decoy prefix with GET, named waf", async () => {
    server = await startServer(contentFilter((s) => /nessustest/i.test(s.path)));
    const report = await investigate(req("GET", `${server.url}/shop/nessustest/index.html`), FAST);
    expect(report.trigger).toMatchObject({ location: "path", minimal: "nessustest" });
    expect(report.candidates[0]?.cause).toBe("waf");
    // No probe but the replay went to the original path; path probes sit under the decoy prefix.
    const onOriginal = server.seen.filter((s) => s.path.startsWith("/shop/"));
    expect(onOriginal.every((s) => s.method === "GET" || s.method === "HEAD")).toBe(true);
  });

  it("an encoded newline in the path: the sent form and the decoded form", async () => {
    server = await startServer(contentFilter((s) => /%0a/i.test(s.path)));
    const report = await investigate(req("GET", `${server.url}/docs/foo%0abar`), FAST);
    expect(report.trigger).toMatchObject({ location: "path", minimal: "%0a", decoded: "\n" });
    expect(report.candidates[0]?.cause).toBe("waf");
  });

  it("a location rule on a prefix does not follow the text under another prefix: no path trigger", async () => {
    server = await startServer((s, res) =>
      s.path.startsWith("/admin/") ? send(res, 403, REFUSAL) : send(res, 404, NOT_FOUND),
    );
    const report = await investigate(req("GET", `${server.url}/admin/users`), FAST);
    expect(report.trigger).toBeNull();
    expect(report.candidates[0]?.cause).not.toBe("waf");
  });

  it("a method refused host-wide by a content filter: trigger method, cause waf, no DELETE on the route", async () => {
    server = await startServer(contentFilter((s) => s.method === "DELETE"));
    const report = await investigate(req("DELETE", `${server.url}/api/items/7`), FAST);
    expect(report.trigger).toMatchObject({ location: "method", minimal: "DELETE" });
    expect(report.candidates[0]?.cause).toBe("waf");
    expect(unsafeHits(server.seen, "/api/items/7")).toHaveLength(1);
  });

  it("the same method rule with no content filter in front: trigger method, a server rule", async () => {
    server = await startServer((s, res) => {
      if (s.method === "DELETE") return send(res, 403, REFUSAL);
      if (serverOwnDecoyAnswer(s, res)) return;
      return send(res, 404, NOT_FOUND);
    });
    const report = await investigate(req("DELETE", `${server.url}/api/items/7`), FAST);
    expect(report.trigger).toMatchObject({ location: "method", minimal: "DELETE" });
    expect(report.candidates[0]?.cause).toBe("server-config");
  });

  it("a charset in Content-Type: the header is searched (replaced by the body's plain type), cause waf", async () => {
    // The charset rule guards requests that carry a body (POST), whatever the body holds.
    server = await startServer(
      contentFilter((s) => s.method === "POST" && /charset=utf-7/i.test(String(s.headers["content-type"]))),
    );
    const report = await investigate(
      req(
        "POST",
        `${server.url}/form`,
        [["Content-Type", "application/x-www-form-urlencoded; charset=utf-7"]],
        "a=1&b=2",
      ),
      FAST,
    );
    expect(report.trigger).toMatchObject({ location: "header", name: "Content-Type" });
    expect(report.trigger!.minimal).toContain("charset=utf-7");
    expect(report.candidates[0]?.cause).toBe("waf");
  });

  it("a parameter NAME matched: the fragment is the name, not a character of the value", async () => {
    server = await startServer(
      contentFilter((s) => /[?&]%24_COOKIE=/i.test(s.path) || /[?&]\$_COOKIE=/.test(s.path)),
    );
    const report = await investigate(req("GET", `${server.url}/page?id=3&%24_COOKIE=harmless`), FAST);
    expect(report.trigger).toMatchObject({ location: "query", name: "$_COOKIE", minimal: "$_COOKIE" });
    expect(report.candidates[0]?.cause).toBe("waf");
  });

  it("a body field without '=': the smallest piece of its text, not an empty value", async () => {
    const form = (body: string) => decodeURIComponent(body.replace(/\+/g, " "));
    server = await startServer(contentFilter((s) => /select\s+char\(/i.test(form(s.body))));
    const report = await investigate(
      req(
        "POST",
        `${server.url}/search`,
        [["Content-Type", "application/x-www-form-urlencoded"]],
        "page=2&SELECT+CHAR(65)+FROM+dual",
      ),
      FAST,
    );
    expect(report.trigger?.location).toBe("body");
    expect(report.trigger!.minimal).toMatch(/^SELECT CHAR\(/);
    expect(report.candidates[0]?.cause).toBe("waf");
  });

  it("a harmless header value: a content filter's rule when the canary is refused alike, a server rule otherwise", async () => {
    server = await startServer(contentFilter((s) => s.headers["x-debug"] === "1"));
    const withFilter = await investigate(req("GET", `${server.url}/reports/`, [["X-Debug", "1"]]), FAST);
    expect(withFilter.trigger).toMatchObject({ location: "header", name: "X-Debug" });
    expect(withFilter.candidates[0]?.cause).toBe("waf");
    await server.close();

    server = await startServer((s, res) =>
      s.headers["x-debug"] === "1" ? send(res, 403, REFUSAL) : send(res, 404, NOT_FOUND),
    );
    const withoutFilter = await investigate(req("GET", `${server.url}/reports/`, [["X-Debug", "1"]]), FAST);
    expect(withoutFilter.trigger).toMatchObject({ location: "header", name: "X-Debug" });
    expect(withoutFilter.candidates[0]?.cause).toBe("server-config");
  });
});
