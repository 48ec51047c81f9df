// End to end, live: `why403 curl` (the built CLI) against the lab scenarios that the
// request alone can diagnose, on the real servers (those that need the server's logs or
// config are in e2e-server-evidence.test.ts). Asserts cause, responder, trigger, and that the application's
// ledger did not move in default mode.
import { beforeAll, describe, expect, it } from "vitest";
import { reportSchema } from "../src/report/schema.js";
import { runCliAsync } from "./helpers/cli.js";
import { getLab, type LabInfo } from "./helpers/lab.js";

let lab: LabInfo;
let tokens: { readOnly: string; write: string; expired: string };

async function ledgerCount(): Promise<number> {
  const r = await fetch(lab.apps.node.ledgerUrl);
  return ((await r.json()) as { count: number }).count;
}

interface Scenario {
  name: string;
  args: () => string[];
  cause: string;
  layer?: string;
  product?: string | null;
  trigger?: { location: string; name?: string; contains?: string };
}

/**
 * What a scenario pins down besides the cause: only the fields it states, so
 * toMatchObject checks exactly those (a trigger stated and none found fails).
 */
function pinnedBy(s: Scenario): Record<string, unknown> {
  const t = s.trigger;
  return {
    ...(s.layer !== undefined && { layer: s.layer }),
    ...(s.product !== undefined && { product: s.product }),
    ...(t !== undefined && {
      trigger: {
        location: t.location,
        ...(t.name !== undefined && { name: t.name.toLowerCase() }),
        ...(t.contains !== undefined && { text: expect.stringContaining(t.contains) }),
      },
    }),
  };
}

const host = ["-H", "Host: lab.test"];
const bigJson = () => {
  const body: Record<string, unknown> = {};
  for (let i = 0; i < 45; i++) body[`field${i}`] = `value number ${i}`;
  body.profile = { name: "Ada", address: { city: "Paris", notes: "1' OR '1'='1' --" } };
  return JSON.stringify(body);
};

const scenarios: Scenario[] = [
  {
    name: "CSRF token missing (express csrf-sync)",
    args: () => [
      `${lab.apps.node.url}/form/comment`,
      "-H",
      "content-type: application/x-www-form-urlencoded",
      "-H",
      `origin: ${lab.apps.node.url}`,
      "-H",
      `referer: ${lab.apps.node.url}/form/comment`,
      "--data-raw",
      "comment=hello",
    ],
    cause: "csrf",
    product: "express",
  },
  {
    name: "expired JWT",
    args: () => [
      `${lab.apps.node.url}/api/orders`,
      "-H",
      `authorization: Bearer ${tokens.expired}`,
      "-H",
      "content-type: application/json",
      "--data-raw",
      '{"sku":"A-1","qty":1}',
    ],
    cause: "credentials-invalid",
  },
  {
    name: "JWT lacks the write scope",
    args: () => [
      `${lab.apps.node.url}/api/orders`,
      "-H",
      `authorization: Bearer ${tokens.readOnly}`,
      "-H",
      "content-type: application/json",
      "--data-raw",
      '{"sku":"A-1","qty":1}',
    ],
    cause: "insufficient-permission",
  },
  {
    name: "rate limit answered with 403",
    args: () => [
      `${lab.apps.node.url}/api/messages`,
      "-H",
      "x-client-id: e2e-rate",
      "-H",
      "content-type: application/json",
      "--data-raw",
      '{"text":"hi"}',
    ],
    cause: "rate-limit",
  },
  {
    name: "business rule",
    args: () => [
      `${lab.apps.node.url}/api/transfers`,
      "-H",
      "content-type: application/json",
      "--data-raw",
      '{"amount":5000,"to":"DE02120300000000202051"}',
    ],
    cause: "app-logic",
  },
  {
    name: "Origin refused",
    args: () => [
      `${lab.apps.node.url}/api/profile`,
      "-H",
      "origin: http://evil.test",
      "-H",
      "content-type: application/json",
      "--data-raw",
      '{"name":"Ada"}',
    ],
    cause: "cors",
  },
  {
    name: "curl -L turns the POST into a GET",
    args: () => [`${lab.apps.node.url}/api/legacy`, "-L", "-d", "a=1"],
    cause: "redirect-method-change",
  },

  {
    // An `if ($http_user_agent ~* …) { return 403; }` in one location: a server rule keyed
    // on the header's value, not a firewall (the engine must not read a WAF into the header's name).
    name: "nginx refuses curl's User-Agent on one location (a GET: probed on the URL itself)",
    args: () => [`${lab.nginx.url}/feeds/news.xml`, ...host],
    cause: "server-config",
    product: "nginx",
    trigger: { location: "header", name: "user-agent", contains: "curl" },
  },
  {
    name: "nginx hotlink protection (valid_referers): a GET with a foreign Referer",
    args: () => [`${lab.nginx.url}/img/logo.png`, ...host, "-H", "Referer: http://other.example/page"],
    cause: "server-config",
    product: "nginx",
    trigger: { location: "header", name: "referer" },
  },
  {
    name: "API key missing",
    args: () => [
      `${lab.apps.node.url}/api/exports`,
      "-H",
      "content-type: application/json",
      "--data-raw",
      '{"format":"csv"}',
    ],
    cause: "credentials-invalid",
  },
  {
    name: "API key invalid",
    args: () => [
      `${lab.apps.node.url}/api/exports`,
      "-H",
      "x-api-key: sk_test_wrongwrongwrong123",
      "-H",
      "content-type: application/json",
      "--data-raw",
      '{"format":"csv"}',
    ],
    cause: "credentials-invalid",
  },
  {
    name: "nginx if ($http_x_debug) return 403: a harmless header the server keys on",
    args: () => [`${lab.nginx.url}/reports/q1`, ...host, "-H", "X-Debug: 1"],
    cause: "server-config",
    product: "nginx",
    trigger: { location: "header", name: "x-debug" },
  },
  {
    name: "nginx limit_except",
    args: () => [`${lab.nginx.url}/upload`, ...host, "-F", "file=@package.json"],
    cause: "server-config",
    product: "nginx",
  },
  {
    name: "nginx directory without index after the trailing-slash redirect",
    // No Host override: nginx builds the trailing-slash redirect from the Host it got.
    args: () => [`${lab.nginx.url}/static/docs`, "-L"],
    cause: "server-config",
    product: "nginx",
  },

  {
    name: "ModSecurity + CRS: SQL injection deep in a large JSON body",
    args: () => [
      `${lab.apache.url}/api/items`,
      ...host,
      "-H",
      "content-type: application/json",
      "--data-raw",
      bigJson(),
    ],
    cause: "waf",
    layer: "waf",
    // A firewall module inside Apache answers; without server logs nothing names which one.
    product: null,
    trigger: { location: "body", name: "$.profile.address.notes", contains: "'" },
  },
  {
    name: "ModSecurity + CRS: XSS in a form field",
    args: () => [
      `${lab.apache.url}/contact`,
      ...host,
      "-H",
      "content-type: application/x-www-form-urlencoded",
      "--data-raw",
      "name=Ada&email=ada%40example.org&message=%3Cscript%3Ealert(1)%3C%2Fscript%3E",
    ],
    cause: "waf",
    layer: "waf",
    // A firewall module inside Apache answers; without server logs nothing names which one.
    product: null,
    trigger: { location: "body", name: "message", contains: "script" },
  },
  {
    name: "ModSecurity + CRS: a scanner User-Agent",
    args: () => [
      `${lab.apache.url}/api/items`,
      ...host,
      "-A",
      "sqlmap/1.7",
      "-H",
      "content-type: application/json",
      "--data-raw",
      '{"a":1}',
    ],
    cause: "waf",
    layer: "waf",
    // A firewall module inside Apache answers; without server logs nothing names which one.
    product: null,
    trigger: { location: "header", name: "user-agent" },
  },
];

describe("why403 curl against the real-server lab", () => {
  beforeAll(async () => {
    lab = getLab();
    tokens = (await (await fetch(lab.apps.node.tokensUrl)).json()) as typeof tokens;
    // Spend the rate-limit allowance of the client id the scenario uses.
    for (let i = 0; i < 4; i++) {
      await fetch(`${lab.apps.node.url}/api/messages`, {
        method: "POST",
        headers: { "x-client-id": "e2e-rate", "content-type": "application/json" },
        body: "{}",
      });
    }
  });

  for (const s of scenarios) {
    it(s.name, async () => {
      const before = await ledgerCount();
      const r = await runCliAsync(["curl", ...s.args(), "--json", "--rate", "50"]);
      const after = await ledgerCount();
      expect(r.stderr).not.toMatch(/\n\s+at /);
      const report = reportSchema.parse(JSON.parse(r.stdout));
      const summary = JSON.stringify(
        {
          verdict: report.verdict?.cause,
          candidates: report.candidates,
          probes: report.probes.map((p) => `${p.method} ${p.url} ${p.status} ${p.finding}`),
        },
        null,
        1,
      );
      expect(report.verdict?.cause, summary).toBe(s.cause);
      expect(r.code).toBe(0);
      expect(
        {
          layer: report.baseline.responder.layer,
          product: report.baseline.responder.product,
          trigger: report.trigger && {
            location: report.trigger.location,
            name: report.trigger.name?.toLowerCase(),
            text: JSON.stringify(report.trigger),
          },
        },
        summary,
      ).toMatchObject(pinnedBy(s));
      expect(report.sideEffects.unsafeProbes).toBe(0);
      expect(report.probes.length).toBeLessThanOrEqual(30);
      expect(after - before, "the application executed a probe").toBe(0);
      for (const t of Object.values(tokens)) expect(r.stdout).not.toContain(t);
    });
  }

  it("with --allow-side-effects verifies the CSRF fix for real: the ledger moves by exactly one", async () => {
    const before = await ledgerCount();
    const r = await runCliAsync([
      "curl",
      `${lab.apps.node.url}/form/comment`,
      "-H",
      "content-type: application/x-www-form-urlencoded",
      "--data-raw",
      "comment=hello",
      "--allow-side-effects",
      "--json",
      "--rate",
      "50",
    ]);
    const after = await ledgerCount();
    const report = reportSchema.parse(JSON.parse(r.stdout));
    expect(report.verdict?.cause).toBe("csrf");
    expect(report.sideEffects.unsafeProbes).toBeGreaterThanOrEqual(1);
    expect(after - before).toBe(1);
  });

  it("exits 3 when the request is not refused", async () => {
    const r = await runCliAsync(["curl", `${lab.nginx.url}/api/health-not-there`, ...host, "--json"]);
    // a 404 is not a refusal
    expect(r.code).toBe(3);
  });
});
