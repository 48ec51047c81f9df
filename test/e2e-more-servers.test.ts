// End to end, live, on products the engine was not designed around: HAProxy, Squid
// (as a forward proxy, `curl -x`), Caddy, Django and Flask-WTF, all real Debian 12
// packages started by the lab (lab/README.md). First the lab's own behaviour is
// checked with plain HTTP (so a failure there is the lab's, not why403's), then the
// built CLI diagnoses each refusal. A scenario may be marked `fails: true` (run as
// `it.fails`) while why403 is known to answer it wrong; none is today.
import { readFileSync } from "node:fs";
import { beforeAll, describe, expect, it } from "vitest";
import type { z } from "zod";
import { reportSchema } from "../src/report/schema.js";
import { runCliAsync } from "./helpers/cli.js";
import { type Reply, type SendOptions, send } from "./helpers/http.js";
import { getLab, type LabInfo } from "./helpers/lab.js";

let lab: LabInfo;

async function ledgerCount(ledgerUrl: string): Promise<number> {
  return (JSON.parse((await send(ledgerUrl)).body) as { count: number }).count;
}

const jsonPost = (value: unknown): SendOptions => ({
  method: "POST",
  headers: { "content-type": "application/json" },
  body: JSON.stringify(value),
});

/** Spends HAProxy's /api/burst allowance (more than 5 requests in 10 s from 127.0.0.1). */
async function exhaustBurst(): Promise<void> {
  for (let i = 0; i < 6; i++) await send(`${lab.haproxy.url}/api/burst`, jsonPost({ event: "prime" }));
}

function setCookies(reply: Reply): string {
  const raw = reply.headers["set-cookie"] ?? [];
  return (Array.isArray(raw) ? raw : [raw]).map((c) => c.split(";")[0]?.trim()).join("; ");
}

beforeAll(() => {
  lab = getLab();
});

describe("the extra lab servers refuse for their own reasons", () => {
  it("HAProxy: /internal is denied by source address with HAProxy's own 403 page, allowed from 127.0.0.2", async () => {
    const denied = await send(`${lab.haproxy.url}/internal/status`);
    expect(denied.status).toBe(403);
    expect(denied.body).toContain("Request forbidden by administrative rules.");
    expect(denied.headers["x-request-id"]).toBeUndefined(); // never reached the app
    const allowed = await send(`${lab.haproxy.url}/internal/status`, { localAddress: "127.0.0.2" });
    expect(allowed.status).toBe(200);
    expect(JSON.parse(allowed.body)).toMatchObject({ area: "internal" });
  });

  it("HAProxy: the stick-table answers 429 after 5 requests to /api/burst within 10 s", async () => {
    const statuses: number[] = [];
    for (let i = 0; i < 7; i++) {
      statuses.push((await send(`${lab.haproxy.url}/api/burst`, jsonPost({ i }))).status);
    }
    // Earlier tests may have spent part of the allowance already: once refused, always refused.
    const first429 = statuses.indexOf(429);
    expect(first429).toBeGreaterThanOrEqual(0);
    expect(statuses.slice(first429).every((s) => s === 429)).toBe(true);
    const refused = await send(`${lab.haproxy.url}/api/burst`, jsonPost({}));
    expect(refused.body).toContain("You have sent too many requests");
  });

  it("HAProxy passes the app's own refusals through", async () => {
    const r = await send(`${lab.haproxy.url}/api/orders`, jsonPost({ sku: "A-1" }));
    expect(r.status).toBe(401);
    expect(r.headers["www-authenticate"]).toBe("Bearer");
  });

  it("Squid: a denied destination port and a denied domain get ERR_ACCESS_DENIED; the app's port passes", async () => {
    for (const url of [
      `http://127.0.0.1:${lab.nginx.port}/`,
      `http://blocked.test:${lab.apps.node.port}/__health`,
    ]) {
      const r = await send(url, { proxy: lab.squid.url });
      expect(r.status, url).toBe(403);
      expect(r.headers["x-squid-error"]).toBe("ERR_ACCESS_DENIED 0");
      expect(r.headers.server).toMatch(/^squid\//);
    }
    const ok = await send(`${lab.apps.node.url}/__health`, { proxy: lab.squid.url });
    expect(ok.status).toBe(200);
    expect(String(ok.headers.via)).toContain("squid");
  });

  it("Caddy: respond 403 on a path matcher and on a method matcher; other requests reach the app", async () => {
    const wp = await send(`${lab.caddy.url}/wp-admin/`);
    expect(wp.status).toBe(403);
    expect(wp.body).toBe("Access denied");
    expect(wp.headers.server).toBe("Caddy");
    expect((await send(`${lab.caddy.url}/uploads/a.txt`, { method: "POST", body: "x" })).status).toBe(403);
    expect((await send(`${lab.caddy.url}/__health`)).status).toBe(200);
  });

  it("nginx + ModSecurity v3: CRS blocks with nginx's own 403 page and logs 949110 in the error log", async () => {
    const host = { host: "lab.test", "content-type": "application/x-www-form-urlencoded" };
    const xss = await send(`${lab.nginxModsec.url}/contact`, {
      method: "POST",
      headers: host,
      body: "message=%3Cscript%3Ealert(1)%3C%2Fscript%3E",
    });
    expect(xss.status).toBe(403);
    expect(xss.body).toContain("<center>nginx/");
    const benign = await send(`${lab.nginxModsec.url}/contact`, {
      method: "POST",
      headers: host,
      body: "message=hello",
    });
    expect(benign.status).toBe(201);
    await new Promise((r) => setTimeout(r, 100));
    expect(readFileSync(lab.nginxModsec.errorLog, "utf8")).toMatch(
      /ModSecurity: Access denied with code 403 \(phase 2\).*\[id "949110"\]/,
    );
  });

  it("Django: CsrfViewMiddleware refuses a POST without the token (403), executes it with the token (201)", async () => {
    const django = lab.apps.django;
    const before = await ledgerCount(django.ledgerUrl);
    const refused = await send(`${django.url}/form/comment`, {
      method: "POST",
      headers: { "content-type": "application/x-www-form-urlencoded", origin: "http://evil.test" },
      body: "comment=hi",
    });
    expect(refused.status).toBe(403);
    expect(refused.body).toContain("CSRF verification failed. Request aborted.");
    expect(await ledgerCount(django.ledgerUrl)).toBe(before);

    const page = await send(`${django.url}/form/`);
    const token = /name="csrfmiddlewaretoken" value="([^"]+)"/.exec(page.body)?.[1];
    expect(token).toBeTruthy();
    const ok = await send(`${django.url}/form/comment`, {
      method: "POST",
      headers: { "content-type": "application/x-www-form-urlencoded", cookie: setCookies(page) },
      body: `csrfmiddlewaretoken=${encodeURIComponent(token ?? "")}&comment=hi`,
    });
    expect(ok.status).toBe(201);
    expect(await ledgerCount(django.ledgerUrl)).toBe(before + 1);
  });

  it("Flask-WTF: CSRFProtect refuses a POST without the token with 400, executes it with the token", async () => {
    const flask = lab.apps.flask;
    const before = await ledgerCount(flask.ledgerUrl);
    const refused = await send(`${flask.url}/form/comment`, {
      method: "POST",
      headers: { "content-type": "application/x-www-form-urlencoded" },
      body: "comment=hi",
    });
    expect(refused.status).toBe(400);
    expect(refused.body).toContain("The CSRF token is missing.");
    const page = await send(`${flask.url}/form/`);
    const token = /name="csrf_token" value="([^"]+)"/.exec(page.body)?.[1];
    expect(token).toBeTruthy();
    const ok = await send(`${flask.url}/form/comment`, {
      method: "POST",
      headers: { "content-type": "application/x-www-form-urlencoded", cookie: setCookies(page) },
      body: `csrf_token=${encodeURIComponent(token ?? "")}&comment=hi`,
    });
    expect(ok.status).toBe(201);
    expect(await ledgerCount(flask.ledgerUrl)).toBe(before + 1);
  });
});

interface Scenario {
  name: string;
  /** Marked when why403's answer is wrong today (see the report in the comment). */
  fails?: boolean;
  args: () => string[];
  /** Acceptable verdict causes (the first is what the operator would name). */
  causes: string[];
  /**
   * The evidence a client can gather cannot separate these causes: the right answer is
   * no verdict (exit 1) with every one of `causes` among the candidates.
   */
  abstain?: boolean;
  layer?: string;
  product?: string | null;
  /** The responder must not be this layer (a pass-through must not blame the proxy). */
  notLayer?: string;
  ledger: () => string;
  before?: () => Promise<void>;
  trigger?: { location: string; name: string };
}

/** What a scenario pins down besides its causes: only the fields it states (toMatchObject checks exactly those). */
function pinnedBy(s: Scenario): Record<string, unknown> {
  return {
    ...(s.layer !== undefined && { layer: s.layer }),
    ...(s.product !== undefined && { product: s.product }),
    ...(s.notLayer !== undefined && { isNotLayer: true }),
    ...(s.trigger !== undefined && {
      trigger: { location: s.trigger.location, name: s.trigger.name.toLowerCase() },
    }),
  };
}

let djangoCsrfCookie = "";

const formArgs = ["-H", "content-type: application/x-www-form-urlencoded"];

const scenarios: Scenario[] = [
  {
    // The operator wrote an address rule (`!{ src 127.0.0.2 }`), so ip-restriction is the
    // name they would use; a black-box client only sees a path-specific deny at the proxy,
    // so server-config is also a fair answer. Either is fine, a null verdict is not.
    name: "HAProxy ACL: POST /internal/jobs denied unless from 127.0.0.2",
    args: () => [
      `${lab.haproxy.url}/internal/jobs`,
      "-H",
      "content-type: application/json",
      "--data-raw",
      '{"job":"reindex"}',
    ],
    causes: ["ip-restriction", "server-config"],
    layer: "proxy",
    product: "haproxy",
    ledger: () => lab.apps.node.ledgerUrl,
  },
  {
    // HAProxy writes the same page for an address ACL and for a blanket deny, every method
    // is refused alike, and the path's name is no evidence: nothing a client can send
    // separates the two, so the honest answer names both and gives no verdict.
    name: "HAProxy ACL: GET /internal/status denied unless from 127.0.0.2",
    args: () => [`${lab.haproxy.url}/internal/status`],
    causes: ["ip-restriction", "server-config"],
    abstain: true,
    layer: "proxy",
    product: "haproxy",
    ledger: () => lab.apps.node.ledgerUrl,
  },
  {
    name: "HAProxy stick-table: http-request deny deny_status 429",
    args: () => [
      `${lab.haproxy.url}/api/burst`,
      "-H",
      "content-type: application/json",
      "--data-raw",
      '{"event":"click"}',
    ],
    causes: ["rate-limit"],
    layer: "proxy",
    product: "haproxy",
    ledger: () => lab.apps.node.ledgerUrl,
    before: exhaustBurst,
  },
  {
    name: "HAProxy passes the app's 401 through: the proxy is not to blame",
    args: () => [
      `${lab.haproxy.url}/api/orders`,
      "-H",
      "content-type: application/json",
      "--data-raw",
      '{"sku":"A-1"}',
    ],
    causes: ["credentials-invalid"],
    notLayer: "proxy",
    ledger: () => lab.apps.node.ledgerUrl,
  },
  {
    // curl -x with an http:// URL sends `GET http://127.0.0.1:<port>/` to Squid (absolute
    // form, no CONNECT), which answers 403 ERR_ACCESS_DENIED.
    name: "Squid: http_access deny !lab_ports (destination port not allowed)",
    args: () => ["-x", lab.squid.url, `http://127.0.0.1:${lab.nginx.port}/`],
    causes: ["server-config"],
    layer: "proxy",
    product: "squid",
    ledger: () => lab.apps.node.ledgerUrl,
  },
  {
    name: "Squid: http_access deny blocked_sites (dstdomain .blocked.test)",
    args: () => [
      "-x",
      lab.squid.url,
      `http://blocked.test:${lab.apps.node.port}/api/profile`,
      "-H",
      "content-type: application/json",
      "--data-raw",
      '{"name":"Ada"}',
    ],
    causes: ["server-config"],
    layer: "proxy",
    product: "squid",
    ledger: () => lab.apps.node.ledgerUrl,
  },
  {
    name: "Squid lets the app's port through: the app's business rule is the cause",
    args: () => [
      "-x",
      lab.squid.url,
      `${lab.apps.node.url}/api/transfers`,
      "-H",
      "content-type: application/json",
      "--data-raw",
      '{"amount":5000,"to":"DE02120300000000202051"}',
    ],
    causes: ["app-logic"],
    notLayer: "proxy",
    ledger: () => lab.apps.node.ledgerUrl,
  },
  {
    name: "Django CsrfViewMiddleware: POST with an untrusted Origin and no token",
    args: () => [
      `${lab.apps.django.url}/form/comment`,
      ...formArgs,
      "-H",
      "origin: http://evil.test",
      "--data-raw",
      "comment=hello",
    ],
    causes: ["csrf"],
    layer: "application",
    product: "django",
    ledger: () => lab.apps.django.ledgerUrl,
  },
  {
    // The usual AJAX mistake: the csrftoken cookie is sent, the X-CSRFToken header is not.
    name: "Django CsrfViewMiddleware: csrftoken cookie present, token missing",
    args: () => [
      `${lab.apps.django.url}/api/notes`,
      "-b",
      `csrftoken=${djangoCsrfCookie}`,
      "-H",
      "content-type: application/json",
      "--data-raw",
      '{"note":"hi"}',
    ],
    causes: ["csrf"],
    layer: "application",
    product: "django",
    ledger: () => lab.apps.django.ledgerUrl,
    before: async () => {
      const page = await send(`${lab.apps.django.url}/form/`);
      djangoCsrfCookie = /csrftoken=([^;]+)/.exec(setCookies(page))?.[1] ?? "";
    },
  },
  {
    // Flask-WTF refuses with 400, outside the 401/403/419/429 list; why403 still
    // diagnoses it (verdict csrf, responder flask, exit 0), which is what a user wants.
    name: "Flask-WTF CSRFProtect: 400 The CSRF token is missing.",
    args: () => [`${lab.apps.flask.url}/form/comment`, ...formArgs, "--data-raw", "comment=hello"],
    causes: ["csrf"],
    layer: "application",
    product: "flask",
    ledger: () => lab.apps.flask.ledgerUrl,
  },
  {
    name: "Caddy: respond 403 on a path matcher (/wp-admin*)",
    args: () => [`${lab.caddy.url}/wp-admin/`],
    causes: ["server-config"],
    layer: "web-server",
    product: "caddy",
    ledger: () => lab.apps.node.ledgerUrl,
  },
  {
    // A method rule at the edge (GET passes through to the app's 404, POST and OPTIONS get
    // Caddy's 403) is server-config, like nginx's limit_except.
    name: "Caddy: respond 403 on a method matcher (not GET on /uploads/*)",
    args: () => [`${lab.caddy.url}/uploads/report.pdf`, "-F", "file=@package.json"],
    causes: ["server-config"],
    layer: "web-server",
    product: "caddy",
    ledger: () => lab.apps.node.ledgerUrl,
  },
  {
    // ModSecurity v3 inside nginx answers with nginx's plain 403 page: nothing in the
    // response names the firewall.
    name: "nginx + ModSecurity v3 + CRS: XSS in a form field",
    args: () => [
      `${lab.nginxModsec.url}/contact`,
      "-H",
      "Host: lab.test",
      ...formArgs,
      "--data-raw",
      "name=Ada&email=ada%40example.org&message=%3Cscript%3Ealert(1)%3C%2Fscript%3E",
    ],
    causes: ["waf"],
    layer: "waf",
    // A firewall module inside nginx answers; without server logs nothing names which one.
    product: null,
    trigger: { location: "body", name: "message" },
    ledger: () => lab.apps.node.ledgerUrl,
  },
  {
    name: "nginx + ModSecurity v3 + CRS: SQL injection deep in a JSON body, with the error log",
    args: () => [
      `${lab.nginxModsec.url}/api/items`,
      "-H",
      "Host: lab.test",
      "-H",
      "content-type: application/json",
      "--data-raw",
      JSON.stringify({ name: "Widget", profile: { address: { notes: "1' OR '1'='1' --" } } }),
      "--server-logs",
      lab.nginxModsec.errorLog,
    ],
    causes: ["waf"],
    layer: "waf",
    product: "modsecurity",
    trigger: { location: "body", name: "$.profile.address.notes" },
    ledger: () => lab.apps.node.ledgerUrl,
  },
  {
    name: "nginx + ModSecurity v3 + CRS: a scanner User-Agent",
    args: () => [
      `${lab.nginxModsec.url}/api/items`,
      "-H",
      "Host: lab.test",
      "-A",
      "sqlmap/1.7",
      "-H",
      "content-type: application/json",
      "--data-raw",
      '{"a":1}',
    ],
    causes: ["waf"],
    layer: "waf",
    // As above: the module is named only by server logs.
    product: null,
    trigger: { location: "header", name: "user-agent" },
    ledger: () => lab.apps.node.ledgerUrl,
  },
];

type Report = z.infer<typeof reportSchema>;

function summary(report: Report): string {
  return JSON.stringify(
    {
      verdict: report.verdict?.cause ?? null,
      candidates: report.candidates,
      responder: report.baseline.responder,
      probes: report.probes.map((p) => `${p.method} ${p.url} ${p.status} ${p.finding}`),
    },
    null,
    1,
  );
}

describe("why403 curl against HAProxy, Squid, Caddy, Django and Flask", () => {
  for (const s of scenarios) {
    const test = s.fails ? it.fails : it;
    test(s.name, async () => {
      await s.before?.();
      const before = await ledgerCount(s.ledger());
      const r = await runCliAsync(["curl", ...s.args(), "--json", "--rate", "50"]);
      const after = await ledgerCount(s.ledger());
      expect(r.stderr).not.toMatch(/\n\s+at /);
      expect(r.code, r.stderr).toBe(s.abstain ? 1 : 0);
      const report = reportSchema.parse(JSON.parse(r.stdout));
      const why = summary(report);
      if (s.abstain) {
        expect(report.verdict, why).toBeNull();
        expect(
          report.candidates
            .map((c) => c.cause)
            .slice(0, s.causes.length)
            .sort(),
          why,
        ).toEqual([...s.causes].sort());
      } else expect(s.causes, why).toContain(report.verdict?.cause);
      const layer = report.baseline.responder.layer;
      expect(
        {
          layer,
          product: report.baseline.responder.product,
          // The scenarios that name a layer the responder must not be: whether it is.
          isNotLayer: layer !== s.notLayer,
          trigger: report.trigger && {
            location: report.trigger.location,
            name: report.trigger.name?.toLowerCase(),
          },
        },
        why,
      ).toMatchObject(pinnedBy(s));
      expect(report.sideEffects.unsafeProbes).toBe(0);
      expect(report.probes.length).toBeLessThanOrEqual(30);
      expect(after - before, "the application executed a probe").toBe(0);
    });
  }
});
