// Smoke tests for the real-server lab: each scenario refuses for its real reason
// (status, headers, body, log line), and a legitimate request is executed (the
// app's ledger moves by one). Plain node:http, so Host and localAddress can be set.
import { randomUUID } from "node:crypto";
import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { type SendOptions, send } from "./helpers/http.js";
import { getLab } from "./helpers/lab.js";

const lab = getLab();
const HOST = "lab.test";

const json = (value: unknown) => ({
  headers: { "content-type": "application/json" },
  body: JSON.stringify(value),
});

async function ledgerCount(): Promise<number> {
  const reply = await send(lab.apps.node.ledgerUrl);
  return (JSON.parse(reply.body) as { count: number }).count;
}

/** Servers write some log lines after the response is sent: poll briefly. */
async function waitForLine(
  file: string,
  matches: (line: string) => boolean,
  timeoutMs = 3000,
): Promise<string> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    let text = "";
    try {
      text = readFileSync(file, "utf8");
    } catch {
      // not written yet
    }
    const line = text.split("\n").find(matches);
    if (line) return line;
    if (Date.now() > deadline) throw new Error(`no matching line in ${file}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

async function appLogEntry(reqId: string): Promise<Record<string, unknown>> {
  const line = await waitForLine(lab.apps.node.log, (l) => l.includes(`"reqId":"${reqId}"`));
  return JSON.parse(line) as Record<string, unknown>;
}

const rid = () => `t-${randomUUID()}`;

describe("node app", () => {
  const app = lab.apps.node.url;

  it("csrf-sync refuses a form POST without or with a wrong token and executes one with the session's token", async () => {
    const form = await send(`${app}/form/comment`);
    expect(form.status).toBe(200);
    const cookie = String(form.headers["set-cookie"]).split(";")[0]!;
    const token = /name="_csrf" value="([0-9a-f]+)"/.exec(form.body)?.[1];
    expect(token).toBeTruthy();
    const formHeaders = { "content-type": "application/x-www-form-urlencoded", cookie };

    const before = await ledgerCount();
    const missingId = rid();
    const missing = await send(`${app}/form/comment`, {
      method: "POST",
      headers: { ...formHeaders, "x-request-id": missingId },
      body: "comment=hello",
    });
    expect(missing.status).toBe(403);
    expect(missing.body).toContain("invalid csrf token");
    expect(await appLogEntry(missingId)).toMatchObject({ status: 403, reason: "invalid csrf token" });

    const wrong = await send(`${app}/form/comment`, {
      method: "POST",
      headers: formHeaders,
      body: "comment=hello&_csrf=0000",
    });
    expect(wrong.status).toBe(403);
    expect(await ledgerCount()).toBe(before);

    const ok = await send(`${app}/form/comment`, {
      method: "POST",
      headers: formHeaders,
      body: `comment=hello&_csrf=${token}`,
    });
    expect(ok.status).toBe(201);
    expect(await ledgerCount()).toBe(before + 1);
  });

  it("bearer JWT: missing 401, expired 401 invalid_token, read-only 403 insufficient_scope, write 201", async () => {
    const tokens = JSON.parse((await send(lab.apps.node.tokensUrl)).body) as Record<string, string>;
    const post = (auth?: string) =>
      send(`${app}/api/orders`, {
        method: "POST",
        headers: { "content-type": "application/json", ...(auth ? { authorization: `Bearer ${auth}` } : {}) },
        body: JSON.stringify({ sku: "A-1", qty: 1 }),
      });
    const before = await ledgerCount();

    const missing = await post();
    expect(missing.status).toBe(401);
    expect(missing.headers["www-authenticate"]).toBe("Bearer");

    const expired = await post(tokens.expired);
    expect(expired.status).toBe(401);
    expect(expired.headers["www-authenticate"]).toBe(
      'Bearer error="invalid_token", error_description="token expired"',
    );

    const readOnly = await post(tokens.readOnly);
    expect(readOnly.status).toBe(403);
    expect(readOnly.headers["www-authenticate"]).toBe(
      'Bearer error="insufficient_scope", scope="orders:write"',
    );
    expect(
      (await send(`${app}/api/orders`, { headers: { authorization: `Bearer ${tokens.readOnly}` } })).status,
    ).toBe(200);
    expect(await ledgerCount()).toBe(before);

    expect((await post(tokens.write)).status).toBe(201);
    expect(await ledgerCount()).toBe(before + 1);
  });

  it("express-rate-limit answers 403 with X-RateLimit-* and Retry-After after the limit", async () => {
    const client = randomUUID();
    const post = () =>
      send(`${app}/api/messages`, {
        method: "POST",
        headers: { "x-client-id": client, ...json({}).headers },
        body: "{}",
      });
    const before = await ledgerCount();
    const allowed = [await post(), await post(), await post()];
    expect(allowed.map((r) => r.status)).toEqual([201, 201, 201]);
    const limited = await post();
    expect(limited.status).toBe(403);
    expect(limited.headers["x-ratelimit-limit"]).toBe("3");
    expect(limited.headers["x-ratelimit-remaining"]).toBe("0");
    expect(limited.headers["x-ratelimit-reset"]).toMatch(/^\d+$/);
    expect(Number(limited.headers["retry-after"])).toBeGreaterThan(0);
    expect(JSON.parse(limited.body)).toMatchObject({ error: "rate_limited" });
    expect(await ledgerCount()).toBe(before + 3);
  });

  it("a business rule refuses transfers above the limit", async () => {
    const before = await ledgerCount();
    const big = await send(`${app}/api/transfers`, { method: "POST", ...json({ amount: 5000, to: "DE00" }) });
    expect(big.status).toBe(403);
    expect(JSON.parse(big.body)).toEqual({
      error: "limit_exceeded",
      message: "Transfers above 1000 EUR need a verified account",
    });
    expect(await ledgerCount()).toBe(before);
    const small = await send(`${app}/api/transfers`, { method: "POST", ...json({ amount: 50, to: "DE00" }) });
    expect(small.status).toBe(201);
    expect(await ledgerCount()).toBe(before + 1);
  });

  it("an Origin allowlist refuses a foreign Origin without ACAO and accepts the allowed one", async () => {
    const before = await ledgerCount();
    const body = JSON.stringify({ name: "Ann" });
    const foreign = await send(`${app}/api/profile`, {
      method: "POST",
      headers: { "content-type": "application/json", origin: "http://evil.test" },
      body,
    });
    expect(foreign.status).toBe(403);
    expect(JSON.parse(foreign.body)).toEqual({ error: "origin_not_allowed" });
    expect(foreign.headers["access-control-allow-origin"]).toBeUndefined();

    const preflight = await send(`${app}/api/profile`, {
      method: "OPTIONS",
      headers: { origin: "http://app.lab.test", "access-control-request-method": "POST" },
    });
    expect(preflight.status).toBe(204);
    expect(preflight.headers["access-control-allow-origin"]).toBe("http://app.lab.test");
    expect(await ledgerCount()).toBe(before);

    const allowed = await send(`${app}/api/profile`, {
      method: "POST",
      headers: { "content-type": "application/json", origin: "http://app.lab.test" },
      body,
    });
    expect(allowed.status).toBe(200);
    expect(allowed.headers["access-control-allow-origin"]).toBe("http://app.lab.test");
    const serverToServer = await send(`${app}/api/profile`, { method: "POST", ...json({ name: "Ann" }) });
    expect(serverToServer.status).toBe(200);
    expect(await ledgerCount()).toBe(before + 2);
  });

  it("a 301 on POST followed as GET (what curl -L -d does) meets a POST-only route: 405 with Allow", async () => {
    const before = await ledgerCount();
    const moved = await send(`${app}/api/legacy`, { method: "POST", ...json({ a: 1 }) });
    expect(moved.status).toBe(301);
    expect(moved.headers.location).toBe("/api/v2/legacy");
    const followedAsGet = await send(`${app}${moved.headers.location}`);
    expect(followedAsGet.status).toBe(405);
    expect(followedAsGet.headers.allow).toBe("POST");
    expect(await ledgerCount()).toBe(before);
    const keptPost = await send(`${app}${moved.headers.location}`, { method: "POST", ...json({ a: 1 }) });
    expect(keptPost.status).toBe(201);
    expect(await ledgerCount()).toBe(before + 1);
  });

  it("unknown paths are 404 JSON", async () => {
    const reply = await send(`${app}/no/such/route`);
    expect(reply.status).toBe(404);
    expect(JSON.parse(reply.body)).toEqual({ error: "not_found" });
  });
});

describe("nginx", () => {
  const base = lab.nginx.url;
  const get = (path: string, opts: SendOptions = {}) =>
    send(`${base}${path}`, { ...opts, headers: { host: HOST, ...opts.headers } });
  const errorLine = (needle: string) => waitForLine(lab.nginx.errorLog, (l) => l.includes(needle));

  it("allow 127.0.0.2; deny all refuses 127.0.0.1 and admits 127.0.0.2", async () => {
    const tag = randomUUID();
    const refused = await get(`/admin/?t=${tag}`);
    expect(refused.status).toBe(403);
    expect(refused.headers.server).toMatch(/^nginx/);
    expect(await errorLine(`/admin/?t=${tag}`)).toContain("access forbidden by rule");
    const admitted = await get("/admin/", { localAddress: "127.0.0.2" });
    expect(admitted.status).toBe(200);
  });

  it("limit_except GET denies POST /upload and serves GET", async () => {
    const tag = randomUUID();
    const refused = await get(`/upload?t=${tag}`, {
      method: "POST",
      body: "x=1",
      headers: { "content-length": "3" },
    });
    expect(refused.status).toBe(403);
    expect(await errorLine(`POST /upload?t=${tag}`)).toContain("access forbidden by rule");
    expect((await get("/upload")).status).toBe(200);
  });

  it("if ($http_x_debug) and if ($arg_format = raw) return 403 under /reports/", async () => {
    expect((await get("/reports/")).status).toBe(200);
    expect((await get("/reports/", { headers: { "x-debug": "1" } })).status).toBe(403);
    expect((await get("/reports/?format=raw")).status).toBe(403);
    expect((await get("/reports/?format=pdf")).status).toBe(200);
  });

  it("a directory without an index (autoindex off) is forbidden after the trailing-slash redirect", async () => {
    const moved = await get("/static/docs");
    expect(moved.status).toBe(301);
    expect(new URL(String(moved.headers.location)).pathname).toBe("/static/docs/");
    const tag = randomUUID();
    const refused = await get(`/static/docs/?t=${tag}`);
    expect(refused.status).toBe(403);
    expect(await errorLine(`/static/docs/?t=${tag}`)).toMatch(
      /directory index of ".*\/static\/docs\/" is forbidden/,
    );
  });

  it("a file the worker may not read gives 403 with (13: Permission denied)", async () => {
    const tag = randomUUID();
    const refused = await get(`/private/secret.txt?t=${tag}`);
    expect(refused.status).toBe(403);
    expect(await errorLine(`/private/secret.txt?t=${tag}`)).toContain("(13: Permission denied)");
  });

  it("proxies /api/ to the app and passes X-Request-Id to the app log and its access log", async () => {
    const id = rid();
    const reply = await get("/api/orders", { headers: { "x-request-id": id } });
    expect(reply.status).toBe(401);
    expect(reply.headers["www-authenticate"]).toBe("Bearer");
    expect(await appLogEntry(id)).toMatchObject({
      status: 401,
      reason: "missing bearer token",
      url: "/api/orders",
    });
    expect(await waitForLine(lab.nginx.accessLog, (l) => l.includes(`xrid="${id}"`))).toMatch(/" 401 \d+ /);
  });
});

describe("apache + ModSecurity + OWASP CRS", () => {
  const base = lab.apache.url;
  const post = (path: string, body: string, contentType: string, headers: Record<string, string> = {}) => {
    const id = rid();
    const reply = send(`${base}${path}`, {
      method: "POST",
      headers: { host: HOST, "content-type": contentType, "x-request-id": id, ...headers },
      body,
    });
    return reply.then((r) => ({ ...r, id }));
  };

  /** The CRS rule ids logged for one request, joined through the access log's UNIQUE_ID. */
  async function ruleIds(requestId: string): Promise<string[]> {
    const access = await waitForLine(lab.apache.accessLog, (l) => l.includes(`xrid="${requestId}"`));
    const uniqueId = /uid=(\S+)/.exec(access)?.[1];
    expect(uniqueId).toBeTruthy();
    const lines = readFileSync(lab.apache.errorLog, "utf8")
      .split("\n")
      .filter((l) => l.includes(`[unique_id "${uniqueId}"]`));
    return lines.map((l) => /\[id "(\d+)"\]/.exec(l)?.[1]).filter((x): x is string => Boolean(x));
  }

  function itemsWithDeepField(value: string): string {
    const body: Record<string, unknown> = {};
    for (let i = 0; i < 49; i++) body[`field${i}`] = `value ${i}`;
    body.profile = { address: { notes: value } };
    return JSON.stringify(body);
  }

  it("refuses a 50-field JSON body with one SQL-injection-looking deep field (942100 → 949110)", async () => {
    const before = await ledgerCount();
    const refused = await post("/api/items", itemsWithDeepField("1' OR '1'='1' --"), "application/json");
    expect(refused.status).toBe(403);
    const ids = await ruleIds(refused.id);
    expect(ids).toContain("942100");
    expect(ids).toContain("949110");
    const denied = await waitForLine(lab.apache.errorLog, (l) => l.includes("Access denied with code 403"));
    expect(denied).toContain("ModSecurity");
    expect(await ledgerCount()).toBe(before);

    const benign = await post(
      "/api/items",
      itemsWithDeepField("Second floor, ring twice"),
      "application/json",
    );
    expect(benign.status).toBe(201);
    expect(await ledgerCount()).toBe(before + 1);
  });

  it("refuses a form field with <script> (941100/941110) and lets a plain message through", async () => {
    const before = await ledgerCount();
    const form = "application/x-www-form-urlencoded";
    const refused = await post("/contact", "name=Ann&message=%3Cscript%3Ealert(1)%3C%2Fscript%3E", form);
    expect(refused.status).toBe(403);
    const ids = await ruleIds(refused.id);
    expect(ids).toEqual(expect.arrayContaining(["941100", "941110", "949110"]));
    expect(await ledgerCount()).toBe(before);
    const benign = await post("/contact", "name=Ann&message=Hello+there", form);
    expect(benign.status).toBe(201);
    expect(await ledgerCount()).toBe(before + 1);
  });

  it("refuses a scanner User-Agent (913100) and writes a JSON audit log entry", async () => {
    const refused = await post("/api/items", JSON.stringify({ name: "Widget" }), "application/json", {
      "user-agent": "sqlmap/1.7",
    });
    expect(refused.status).toBe(403);
    expect(await ruleIds(refused.id)).toEqual(expect.arrayContaining(["913100", "949110"]));
    const audit = await waitForLine(lab.apache.auditLog!, (l) => l.includes("sqlmap/1.7"));
    expect(JSON.parse(audit)).toHaveProperty("transaction.transaction_id");
  });

  it("via a numeric Host, 920350 adds 3 points but a benign request still passes", async () => {
    const id = rid();
    const reply = await send(`${base}/api/items`, {
      method: "POST",
      headers: { "content-type": "application/json", "x-request-id": id },
      body: JSON.stringify({ name: "Widget" }),
    });
    expect(reply.status).toBe(201);
    expect(await ruleIds(id)).toEqual(["920350"]);
  });

  it("an empty User-Agent (920330, +2) passes with Host lab.test but is refused with a numeric Host", async () => {
    const viaName = await post("/api/items", JSON.stringify({ name: "Widget" }), "application/json", {
      "user-agent": "",
    });
    expect(viaName.status).toBe(201);
    expect(await ruleIds(viaName.id)).toEqual(["920330"]);
    const id = rid();
    const viaIp = await send(`${base}/api/items`, {
      method: "POST",
      headers: { "content-type": "application/json", "x-request-id": id, "user-agent": "" },
      body: JSON.stringify({ name: "Widget" }),
    });
    expect(viaIp.status).toBe(403);
    expect(await ruleIds(id)).toEqual(expect.arrayContaining(["920330", "920350", "949110"]));
  });

  it("RewriteRule [F] and Require ip refuse before the proxy; 127.0.0.2 is admitted", async () => {
    const headers = { host: HOST };
    expect((await send(`${base}/rewrite-blocked/x`, { headers })).status).toBe(403);
    expect(await waitForLine(lab.apache.errorLog, (l) => l.includes("forcing responsecode 403"))).toContain(
      "/rewrite-blocked/x",
    );
    expect((await send(`${base}/apache-admin/`, { headers })).status).toBe(403);
    expect(await waitForLine(lab.apache.errorLog, (l) => l.includes("AH01630"))).toContain("client denied");
    expect((await send(`${base}/apache-admin/`, { headers, localAddress: "127.0.0.2" })).status).toBe(200);
  });
});
