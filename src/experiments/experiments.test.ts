import { describe, expect, it } from "vitest";
import { assembleReport } from "../investigate/assemble-report.js";
import { UnsafeProbeRefused } from "../investigate/types.js";
import { kit, nginxPage, postRequest, res, unsafeSent, withInertDecoy } from "./_test-kit.js";
import { content } from "./content.js";
import { weightFor } from "./contract.js";
import { credentials } from "./credentials.js";
import { csrf } from "./csrf.js";
import { tokensInPage } from "./csrf-token.js";
import { decoy } from "./decoy.js";
import { layerMap } from "./layer-map.js";
import { method } from "./method.js";
import { origin } from "./origin.js";
import { rateLimit, resetInMs } from "./rate-limit.js";
import { repeat } from "./repeat.js";

// Tokens in the frameworks' own formats (Django: 64 alphanumerics; Rails: base64).
const DJANGO_TOKEN = "q8Xk2RmZ0vT4nB7yLpW3sD9fH1jK6cVe5aQ0uYxGtI2oNrM8bE4wZ7lSgF3hJ1dC";
const RAILS_TOKEN = "mE2Q7vN1xZp4Lr8TbK0sY6wHdJ3cF9uA5gR2iO7eM1nB4tV8yX0kP6qW3zL9jD5h+Q==";
const b64 = (o: object) => Buffer.from(JSON.stringify(o)).toString("base64url");
const JWT = `${b64({ alg: "HS256", typ: "JWT" })}.${b64({ sub: "u1", exp: 1790000000 })}.c2lnbmF0dXJlLWJ5dGVz`;
const isDecoy = (url: string) => new URL(url).pathname.startsWith("/.well-known/why403/");

describe("layer-map", () => {
  it("tells a refusal from the origin's own layer", async () => {
    const page = (t: string) =>
      `<html><head><title>${t}</title></head><body><h1>${t}</h1><hr><center>tinyhttpd</center></body></html>`;
    const k = await kit(postRequest("/a", "x=1"), (r) =>
      r.url.endsWith("/a") ? res(403, page("403 Forbidden")) : res(404, page("404 Not Found")),
    );
    await layerMap.run(k.ctx);
    expect(k.state.facts.missingPath).toEqual({ status: 404, sameLayer: true });
    expect(weightFor(k.state.evidence, "server-config")).toBeGreaterThan(0);
    expect(k.sent[1]!.method).toBe("GET");
  });
});

describe("method", () => {
  it("GET passes while POST is refused: method or body rules", async () => {
    const k = await kit(postRequest("/a", "x=1", [["Origin", "https://evil.test"]]), (r) => {
      if (r.method === "POST") return res(403, "no");
      if (r.method === "OPTIONS") return res(204, "", [["Allow", "GET, HEAD, POST"]]);
      return res(200, "ok");
    });
    await method.run(k.ctx);
    expect(k.sent.slice(1).map((r) => r.method)).toEqual(["GET", "HEAD", "OPTIONS"]);
    const preflight = k.sent[3]!;
    expect(preflight.headers).toContainEqual(["Access-Control-Request-Method", "POST"]);
    expect(weightFor(k.state.evidence, "ip-restriction")).toBeLessThan(0);
    expect(weightFor(k.state.evidence, "cors")).toBeGreaterThan(0);
    expect(unsafeSent(k)).toHaveLength(0);
  });

  it("GET refused the same way: path, address or identity", async () => {
    const k = await kit(postRequest("/a", "x=1"), () => res(403, "denied"));
    await method.run(k.ctx);
    expect(weightFor(k.state.evidence, "csrf")).toBeLessThan(0);
    expect(weightFor(k.state.evidence, "ip-restriction")).toBeGreaterThan(0);
  });
});

describe("decoy", () => {
  it("observes the decoy with GET and OPTIONS (with and without the query) before sending the original there", async () => {
    const k = await kit(
      postRequest("/a?q=1", "x=1", [["X-Custom", "v"]]),
      withInertDecoy(() => res(403, "blocked")),
    );
    await decoy.run(k.ctx);
    // First the request's safe projection (its headers and query as a GET); it passes, and
    // the inertness proof reuses its answer instead of sending the same GET again.
    expect(k.sent.slice(1).map((r) => `${r.method} ${new URL(r.url).search}`)).toEqual([
      "GET ?q=1",
      "GET ",
      "OPTIONS ",
      "OPTIONS ?q=1",
      "POST ?q=1",
    ]);
    // The observations are bodiless and carry the request's own headers.
    expect(k.sent[1]!.body).toBeNull();
    expect(k.sent[2]!.body).toBeNull();
    expect(k.sent[1]!.headers).toContainEqual(["X-Custom", "v"]);
    const d = k.sent[5]!;
    expect(d.body?.toString()).toBe("x=1");
    expect(d.headers).toContainEqual(["X-Custom", "v"]);
    expect(new URL(d.url).pathname).toBe("/.well-known/why403/r1");
    expect(k.state.facts.decoy?.reproduces).toBe(true);
    expect(k.prober.unsafeProbes).toBe(0);
    expect(weightFor(k.state.evidence, "app-logic")).toBeLessThan(0);
  });

  it("a 404 on the decoy means a path-specific refusal", async () => {
    const k = await kit(
      postRequest("/a", "x=1"),
      withInertDecoy((r) => (isDecoy(r.url) ? nginxPage(404) : res(403, "no"))),
    );
    await decoy.run(k.ctx);
    expect(k.sent.at(-1)!.method).toBe("POST");
    expect(k.state.facts.decoy?.reproduces).toBe(false);
  });

  it("a decoy some application answers (catch-all) is not sent the POST without consent", async () => {
    // An app routing every path: its own 404 page, not the web server's.
    const k = await kit(postRequest("/a?action=delete", "x=1"), (r) =>
      isDecoy(r.url) ? res(404, "<h1>Page not found</h1>", [["X-Powered-By", "PHP/8.2"]]) : res(403, "no"),
    );
    await decoy.run(k.ctx);
    // The projection (a GET: safe on any path) and the inertness observation without the query.
    expect(k.sent.slice(1).map((r) => `${r.method} ${new URL(r.url).search}`)).toEqual([
      "GET ?action=delete",
      "GET ",
    ]);
    expect(k.state.facts.projection).toMatchObject({ reproduces: false });
    expect(k.state.facts.decoy).toMatchObject({ reproduces: false, sent: false });
    expect(k.state.withheld.join(" ")).toMatch(/No trigger search ran: .*--allow-side-effects.*staging/);
    expect(k.prober.unsafeProbes).toBe(0);
  });

  it("the query string is not carried when only the bare decoy is shown inert", async () => {
    // A server rule routes requests with ?action= to the app, on any path.
    const k = await kit(postRequest("/a?action=delete", "x=1"), (r) => {
      const q = new URL(r.url).searchParams.has("action");
      if (isDecoy(r.url) && q) return res(200, '{"ok":true}', [["Content-Type", "application/json"]]);
      if (isDecoy(r.url)) return withInertDecoy(() => res(403, "no"))(r);
      return res(403, "no");
    });
    await decoy.run(k.ctx);
    const post = k.sent.at(-1)!;
    expect(post.method).toBe("POST");
    expect(new URL(post.url).search).toBe("");
    expect(k.prober.unsafeProbes).toBe(0);
  });

  it("with consent a decoy not shown inert is may-execute and counted", async () => {
    // Refused for its body; every path reaches an app that answers with its own 404.
    const k = await kit(
      postRequest("/a", "x=1"),
      (r) =>
        r.body?.length ? res(403, "no") : res(404, "<h1>Page not found</h1>", [["X-Powered-By", "PHP/8.2"]]),
      { allowSideEffects: true },
    );
    await decoy.run(k.ctx);
    expect(k.sent.at(-1)!.method).toBe("POST");
    expect(k.prober.unsafe).toEqual([
      {
        n: 3, // replay, the projection (also the inertness observation: the app's page), the POST
        method: "POST",
        url: expect.stringContaining("/.well-known/why403/"),
        why: expect.stringMatching(/not shown inert/),
      },
    ]);
  });
});

describe("content", () => {
  it("runs only on the decoy without consent, and finds the field", async () => {
    const k = await kit(
      postRequest("/a", "a=1&b=%3Cscript%3Ealert(1)%3C%2Fscript%3E&c=3"),
      withInertDecoy((r) =>
        decodeURIComponent(r.body?.toString() ?? "").includes("<script>")
          ? res(403, "blocked")
          : res(404, "nf"),
      ),
    );
    expect(content.appliesTo(k.state)).toBe(false);
    await decoy.run(k.ctx);
    expect(content.appliesTo(k.state)).toBe(true);
    await content.run(k.ctx);
    expect(k.state.trigger).toMatchObject({
      location: "body",
      name: "b",
      minimal: "<script>",
      family: "XSS",
    });
    expect(unsafeSent(k)).toHaveLength(0);
    expect(weightFor(k.state.evidence, "waf")).toBeGreaterThan(3);
  });

  it("says when the refusal does not follow content, and tries a browser User-Agent", async () => {
    const k = await kit(
      postRequest("/a", "a=1", [["User-Agent", "curl/8.5.0"]]),
      withInertDecoy((r) =>
        r.headers.some(([n, v]) => n === "User-Agent" && v.startsWith("Mozilla"))
          ? res(404, "nf")
          : res(403, "bot"),
      ),
    );
    await decoy.run(k.ctx);
    await content.run(k.ctx);
    expect(k.state.facts.contentFollows).toBe(false);
    expect(k.state.trigger).toMatchObject({ location: "header", name: "User-Agent", minimal: "curl/8.5.0" });
  });
});

describe("content: a credential is known by its value, not its name", () => {
  // Refused for the value sent (a revoked token, a word a rule lists); with any other value
  // or none the decoy path is simply not found.
  const refusedWith = (name: string, value: string) =>
    withInertDecoy((r) =>
      r.headers.some(([n, v]) => n === name && v === value) ? res(403, "denied") : res(404, "nf"),
    );

  it("a JWT in a header with a made-up name is the refused credential", async () => {
    const k = await kit(postRequest("/a", "a=1", [["X-Kalomi", JWT]]), refusedWith("X-Kalomi", JWT));
    await decoy.run(k.ctx);
    await content.run(k.ctx);
    expect(k.state.trigger).toMatchObject({ location: "header", name: "X-Kalomi" });
    expect(weightFor(k.state.evidence, "credentials-invalid")).toBeGreaterThan(4);
    for (const cause of ["waf", "server-config", "csrf"] as const)
      expect(weightFor(k.state.evidence, cause)).toBeLessThan(1);
  });

  it("a plain word in a header called X-Session-Token is not weighed as a credential", async () => {
    const k = await kit(
      postRequest("/a", "a=1", [["X-Session-Token", "debug"]]),
      refusedWith("X-Session-Token", "debug"),
    );
    await decoy.run(k.ctx);
    await content.run(k.ctx);
    expect(k.state.trigger).toMatchObject({ location: "header", name: "X-Session-Token" });
    expect(weightFor(k.state.evidence, "credentials-invalid")).toBeLessThanOrEqual(0);
    expect(weightFor(k.state.evidence, "server-config")).toBeGreaterThan(3);
  });

  it("another site's address in a header with a made-up name weighs toward an origin check", async () => {
    const k = await kit(
      postRequest("/a", "a=1", [["X-Came-From", "https://elsewhere.example"]]),
      refusedWith("X-Came-From", "https://elsewhere.example"),
    );
    await decoy.run(k.ctx);
    await content.run(k.ctx);
    expect(weightFor(k.state.evidence, "csrf")).toBeGreaterThan(1);
  });
});

describe("the safe projection on a catch-all (no decoy shown inert, no consent)", () => {
  // Every path reaches an app (its own 404 page); a filter refuses a charset it does not
  // allow in Content-Type, or the TEST method, with the same page whatever the path.
  const catchAll =
    (refuses: (r: ReturnType<typeof postRequest>) => boolean) => (r: ReturnType<typeof postRequest>) => {
      if (refuses(r)) return res(403, "<h1>Forbidden</h1><p>blocked by policy</p>");
      if (new URL(r.url).searchParams.has("q") && /<script>/.test(new URL(r.url).searchParams.get("q")!))
        return res(403, "<h1>Forbidden</h1><p>blocked by policy</p>");
      return res(404, "<h1>Page not found</h1>", [["X-Powered-By", "PHP/8.2"]]);
    };

  it("a header trigger of a POST is searched with GETs only, and the POST is never sent again", async () => {
    const charset = (r: ReturnType<typeof postRequest>) =>
      r.headers.some(([n, v]) => /^content-type$/i.test(n) && /charset=garbage/i.test(v));
    const k = await kit(
      postRequest(
        "/a?id=1",
        "x=1",
        [["X-Custom", "v"]],
        "application/x-www-form-urlencoded; charset=garbage",
      ),
      catchAll(charset),
    );
    await decoy.run(k.ctx);
    expect(k.state.facts.projection).toMatchObject({ reproduces: true });
    expect(k.state.facts.decoy).toBeUndefined();
    expect(content.appliesTo(k.state)).toBe(true);
    await content.run(k.ctx);
    expect(k.state.trigger).toMatchObject({ location: "header", name: "Content-Type" });
    expect(k.sent.slice(1).every((r) => r.method === "GET" && r.body === null)).toBe(true);
    expect(k.prober.unsafeProbes).toBe(0);
    // Host-wide, and the canary is refused like the request: a content filter's rule.
    expect(k.state.facts.contentFilter).toBe(true);
    expect(weightFor(k.state.evidence, "waf")).toBeGreaterThan(
      weightFor(k.state.evidence, "server-config") + 3,
    );
  });

  it("a bodiless request refused for its method: the method, checked with a GET on the original URL", async () => {
    const k = await kit(
      { method: "TEST", url: "http://app.test/", headers: [["User-Agent", "t"]], body: null, options: {} },
      catchAll((r) => r.method === "TEST"),
    );
    await decoy.run(k.ctx);
    expect(k.state.facts.projection).toMatchObject({ reproduces: false });
    expect(content.appliesTo(k.state)).toBe(true);
    await content.run(k.ctx);
    expect(k.state.trigger).toMatchObject({ location: "method", minimal: "TEST" });
    expect(k.sent.slice(1).map((r) => r.method)).toEqual(["GET", "GET", "GET"]);
    expect(k.prober.unsafeProbes).toBe(0);
    expect(weightFor(k.state.evidence, "waf")).toBeGreaterThan(2);
  });

  it("a body trigger stays unsearched: the withheld note says the headers and query alone pass", async () => {
    const k = await kit(
      postRequest("/a", "x=%3Cscript%3E"),
      catchAll((r) => (r.body?.toString() ?? "").includes("%3Cscript")),
    );
    await decoy.run(k.ctx);
    await content.run(k.ctx);
    expect(k.state.trigger).toBeNull();
    expect(k.state.withheld.join(" ")).toMatch(/No trigger search ran: .*headers and query alone.*pass/);
    expect(k.sent.slice(1).every((r) => r.method === "GET" && r.body === null)).toBe(true);
  });
});

describe("credentials", () => {
  it("without consent compares GET with and without credentials", async () => {
    const k = await kit(postRequest("/a", "x=1", [["Cookie", "sid=abc"]]), (r) =>
      r.headers.some(([n]) => n === "Cookie")
        ? res(403, "no")
        : res(302, "", [["Location", "/login?next=/a"]]),
    );
    await credentials.run(k.ctx);
    expect(k.sent.slice(1).map((r) => r.method)).toEqual(["GET", "GET"]);
    expect(k.sent[2]!.headers.some(([n]) => n === "Cookie")).toBe(false);
    expect(weightFor(k.state.evidence, "insufficient-permission")).toBeGreaterThan(2);
    expect(k.state.unverified.map((u) => u.text).join(" ")).toMatch(/allow-side-effects/);
  });

  it("a JWT in a header with a made-up name is stripped as a credential; a word under a credential-like name is kept", async () => {
    const k = await kit(
      postRequest("/a", "x=1", [
        ["X-Kalomi", JWT],
        ["X-Session-Token", "debug"],
      ]),
      (r) => (r.headers.some(([n]) => n === "X-Kalomi") ? res(403, "no") : res(401, "who")),
    );
    expect(credentials.appliesTo(k.state)).toBe(true);
    await credentials.run(k.ctx);
    const stripped = k.sent.at(-1)!.headers.map(([n]) => n);
    expect(stripped).not.toContain("X-Kalomi");
    expect(stripped).toContain("X-Session-Token");
    expect(weightFor(k.state.evidence, "insufficient-permission")).toBeGreaterThan(2);
  });

  it("with consent resends the original method without credentials", async () => {
    const k = await kit(
      postRequest("/a", "x=1", [["Authorization", "Bearer xyz12345678"]]),
      (r) => (r.headers.some(([n]) => n === "Authorization") ? res(403, "no") : res(201, "ok")),
      { allowSideEffects: true },
    );
    await credentials.run(k.ctx);
    expect(k.sent[1]!.method).toBe("POST");
    expect(k.prober.unsafeProbes).toBe(1);
    expect(weightFor(k.state.evidence, "credentials-invalid")).toBeGreaterThan(2);
  });
});

describe("origin", () => {
  it("without consent uses the decoy and notes the unverified fix", async () => {
    const k = await kit(
      postRequest("/a", "x=1", [["Origin", "https://other.test"]]),
      withInertDecoy((r) => {
        const o = r.headers.find(([n]) => n === "Origin")?.[1];
        return o === "http://app.test" ? res(404, "nf") : res(403, "bad origin");
      }),
    );
    await decoy.run(k.ctx);
    await origin.run(k.ctx);
    expect(unsafeSent(k)).toHaveLength(0);
    expect(weightFor(k.state.evidence, "csrf")).toBeGreaterThan(2);
    expect(k.state.unverified.map((u) => u.text).join(" ")).toMatch(/Origin: http:\/\/app\.test/);
  });
});

describe("csrf", () => {
  it("finds the token the page issues and reports the missing field", async () => {
    const k = await kit(postRequest("/form", "email=x"), (r) =>
      r.method === "GET"
        ? res(200, `<form><input type="hidden" name="csrfmiddlewaretoken" value="${DJANGO_TOKEN}"></form>`, [
            ["Set-Cookie", `csrftoken=${DJANGO_TOKEN.slice(0, 32)}; Path=/`],
          ])
        : res(403, "CSRF verification failed"),
    );
    k.state.evidence.push({ source: "test", fact: "csrf page", weights: { csrf: 3 } });
    await csrf.run(k.ctx);
    expect(k.state.evidence.some((e) => /csrfmiddlewaretoken; the request sent none/.test(e.fact))).toBe(
      true,
    );
    expect(unsafeSent(k)).toHaveLength(0);
    expect(k.state.unverified).toHaveLength(1);
  });

  it("reads meta tags and cookies", () => {
    const t = tokensInPage(
      `<meta name="csrf-param" content="authenticity_token"><meta name="csrf-token" content="${RAILS_TOKEN}">`,
      [["Set-Cookie", `XSRF-TOKEN=${encodeURIComponent(RAILS_TOKEN)}; Path=/`]],
    );
    expect(t).toEqual([
      {
        kind: "meta",
        name: "csrf-token",
        value: RAILS_TOKEN,
        expectIn: { location: "body", name: "authenticity_token" },
      },
      {
        kind: "cookie",
        name: "XSRF-TOKEN",
        value: RAILS_TOKEN,
        expectIn: { location: "header", name: "X-XSRF-TOKEN" },
      },
    ]);
  });

  it("finds a token by its value whatever the field is called, and not a word by its name", () => {
    const t = tokensInPage(
      `<form><input type="hidden" name="kalomi" value="${DJANGO_TOKEN}"><input type="hidden" name="csrf_token" value="yes"></form>`,
      [["Set-Cookie", "xsrf-token=1; Path=/"]],
    );
    expect(t).toEqual([
      { kind: "field", name: "kalomi", value: DJANGO_TOKEN, expectIn: { location: "body", name: "kalomi" } },
    ]);
  });

  it("a random cookie the page sets is described, not weighed: only its name would say CSRF", async () => {
    const k = await kit(postRequest("/form", "email=x"), (r) =>
      r.method === "GET"
        ? res(200, "<p>no form</p>", [["Set-Cookie", `csrftoken=${DJANGO_TOKEN.slice(0, 32)}; Path=/`]])
        : res(403, "CSRF verification failed"),
    );
    k.state.evidence.push({ source: "test", fact: "csrf page", weights: { csrf: 3 } });
    await csrf.run(k.ctx);
    expect(k.state.evidence.at(-1)!.fact).toMatch(/csrftoken/);
    expect(weightFor(k.state.evidence, "csrf")).toBe(3);
  });
});

describe("rate-limit", () => {
  it("waits a short Retry-After, then one GET", async () => {
    let calls = 0;
    const k = await kit(postRequest("/a", "x"), () =>
      calls++ === 0 ? res(429, "slow down", [["Retry-After", "2"]]) : res(200, "ok"),
    );
    await rateLimit.run(k.ctx);
    expect(k.clock.slept).toContain(2000);
    expect(k.sent).toHaveLength(2);
    expect(k.sent[1]!.method).toBe("GET");
    expect(weightFor(k.state.evidence, "rate-limit")).toBeGreaterThan(2);
  });

  it("does not wait for a long window", async () => {
    const k = await kit(postRequest("/a", "x"), () => res(429, "", [["Retry-After", "3600"]]));
    await rateLimit.run(k.ctx);
    expect(k.sent).toHaveLength(1);
    expect(k.state.unverified.map((u) => u.text).join(" ")).toMatch(/3600 s/);
    expect(resetInMs(res(429, "", [["X-RateLimit-Reset", "1700000030"]]), 1_700_000_000_000)).toBe(30_000);
  });
});

describe("repeat", () => {
  it("tells which backend refuses", async () => {
    let i = 0;
    const k = await kit(postRequest("/a", "x"), (r) => {
      if (r.method !== "GET") return res(403, "no", [["X-Served-By", "web-1"]]);
      i++;
      return i % 2 === 1
        ? res(403, "no", [["X-Served-By", "web-1"]])
        : res(200, "ok", [["X-Served-By", "web-2"]]);
    });
    k.state.facts.safeMethods = { GET: { status: 403, sameRefusal: true } };
    k.state.facts.backends = new Set(["x-served-by: web-1", "x-served-by: web-2"]);
    expect(repeat.appliesTo(k.state)).toBe(true);
    await repeat.run(k.ctx);
    expect(k.state.evidence[0]!.fact).toMatch(/intermittent.*web-1.*web-2/);
  });
});

describe("the probe door", () => {
  it("refuses may-execute probes without consent", async () => {
    const k = await kit(postRequest("/a", "x"), () => res(403, "no"));
    await expect(k.ctx.probe(postRequest("/a", "y"), "unsafe", "decoy")).rejects.toBeInstanceOf(
      UnsafeProbeRefused,
    );
    await expect(k.ctx.probe(postRequest("/other", "y"), "unsafe", "safe-method")).rejects.toBeInstanceOf(
      UnsafeProbeRefused,
    );
    await expect(
      k.ctx.probe(
        { ...postRequest("/a", ""), method: "GET", url: "http://elsewhere.test/a" },
        "foreign",
        "safe-method",
      ),
    ).rejects.toBeInstanceOf(UnsafeProbeRefused);
    expect(k.sent).toHaveLength(1);
  });
});

describe("likely fixes follow the verdict", () => {
  it("leaves out an untried fix for a cause the evidence has set aside", async () => {
    const k = await kit(postRequest("/a", "x=1"), () => res(403, "no"));
    k.ctx.noteUnverified("wait for the rate-limit window to pass and retry once.", "rate-limit");
    k.ctx.noteUnverified("send the POST with Origin: http://app.test.", "csrf");
    k.state.evidence.push({
      source: "test",
      fact: "an address rule refused",
      weights: { "ip-restriction": 6 },
    });
    k.state.evidence.push({ source: "test", fact: "an origin check", weights: { csrf: 5 } });
    const report = assembleReport(k.state, k.prober, {});
    expect(report.verdict?.cause).toBe("ip-restriction");
    const likely = (report.nextSteps ?? []).filter((s) => s.startsWith("Likely fix, not verified"));
    // csrf is still a candidate (about 27%); rate-limit has no support at all.
    expect(likely).toEqual(["Likely fix, not verified: send the POST with Origin: http://app.test."]);
  });
});
