// Safety, measured on the real servers: every lab scenario run in default mode must
// leave the application's ledger unchanged, and the report's sideEffects.unsafeProbes
// must agree with what the servers saw — counted from the app's JSON log (any path)
// and the nginx and Apache access logs (the original path): requests carrying the
// run's X-Request-Id that used a non-safe method, other than the replay. Then once
// with --allow-side-effects on the CSRF scenario, where both counts must be equal.
// Last, the apps that route EVERY path into their code (lab/apps/node/catchall.mjs):
// their own ledgers, which count executions on any path, must not move at all.
import { readFileSync } from "node:fs";
import { beforeAll, describe, expect, it } from "vitest";
import { reportSchema } from "../src/report/schema.js";
import { runCliAsync } from "./helpers/cli.js";
import { getLab, type LabInfo } from "./helpers/lab.js";

let lab: LabInfo;
let tokens: { readOnly: string; write: string; expired: string };

interface Ledger {
  count: number;
  entries: Array<{ seq: number; reqId?: string; method: string; path: string }>;
}

async function ledger(): Promise<Ledger> {
  return (await (await fetch(lab.apps.node.ledgerUrl)).json()) as Ledger;
}

const SAFE_METHODS = new Set(["GET", "HEAD", "OPTIONS"]);
const host = ["-H", "Host: lab.test"];

/** Every scenario of lab/README.md, as `why403 curl` arguments. */
function scenarios(): Array<{ name: string; args: string[] }> {
  const app = lab.apps.node.url;
  const json = ["-H", "content-type: application/json"];
  const bigJson = () => {
    const body: Record<string, unknown> = {};
    for (let i = 0; i < 45; i++) body[`field${i}`] = `value number ${i}`;
    body.profile = { name: "Ada", address: { city: "Paris", notes: "1' OR '1'='1' --" } };
    return JSON.stringify(body);
  };
  return [
    {
      name: "csrf",
      args: [
        `${app}/form/comment`,
        "-H",
        "content-type: application/x-www-form-urlencoded",
        "--data-raw",
        "comment=hello",
      ],
    },
    { name: "no credentials", args: [`${app}/api/orders`, ...json, "--data-raw", '{"sku":"A-1","qty":1}'] },
    {
      name: "expired JWT",
      args: [
        `${app}/api/orders`,
        "-H",
        `authorization: Bearer ${tokens.expired}`,
        ...json,
        "--data-raw",
        '{"sku":"A-1","qty":1}',
      ],
    },
    {
      name: "read-only JWT",
      args: [
        `${app}/api/orders`,
        "-H",
        `authorization: Bearer ${tokens.readOnly}`,
        ...json,
        "--data-raw",
        '{"sku":"A-1","qty":1}',
      ],
    },
    {
      name: "rate limit",
      args: [`${app}/api/messages`, "-H", "x-client-id: ledger-rate", ...json, "--data-raw", '{"text":"hi"}'],
    },
    {
      name: "business rule",
      args: [`${app}/api/transfers`, ...json, "--data-raw", '{"amount":5000,"to":"X"}'],
    },
    {
      name: "Origin",
      args: [`${app}/api/profile`, "-H", "origin: http://evil.test", ...json, "--data-raw", '{"name":"Ada"}'],
    },
    { name: "redirect turns POST into GET", args: [`${app}/api/legacy`, "-L", "-d", "a=1"] },
    { name: "nginx allow/deny", args: [`${lab.nginx.url}/admin/`, ...host] },
    { name: "nginx limit_except", args: [`${lab.nginx.url}/upload`, ...host, "-F", "file=@package.json"] },
    { name: "nginx if header", args: [`${lab.nginx.url}/reports/`, ...host, "-H", "X-Debug: 1"] },
    { name: "nginx if query", args: [`${lab.nginx.url}/reports/?format=raw`, ...host] },
    { name: "nginx directory", args: [`${lab.nginx.url}/static/docs`, "-L"] },
    { name: "nginx file permission", args: [`${lab.nginx.url}/private/secret.txt`, ...host] },
    {
      name: "nginx → app POST",
      args: [`${lab.nginx.url}/api/transfers`, ...host, ...json, "--data-raw", '{"amount":9999}'],
    },
    {
      name: "CRS SQLi in JSON",
      args: [`${lab.apache.url}/api/items`, ...host, ...json, "--data-raw", bigJson()],
    },
    {
      name: "CRS XSS in a form",
      args: [
        `${lab.apache.url}/contact`,
        ...host,
        "-H",
        "content-type: application/x-www-form-urlencoded",
        "--data-raw",
        "name=Ada&message=%3Cscript%3Ealert(1)%3C%2Fscript%3E",
      ],
    },
    {
      name: "CRS scanner UA",
      args: [`${lab.apache.url}/api/items`, ...host, "-A", "sqlmap/1.7", ...json, "--data-raw", '{"a":1}'],
    },
    {
      // Its verdict moved from none (server-config 0.44 raw) to server-config when the safety
      // work landed, not with the diagnose() move (the same code before and after that merge
      // answers alike): since a5b79fd Apache's own OPTIONS answer proves the decoy inert, so the
      // request itself goes to the decoy, gets 404 there, and the refusal is tied to this path;
      // e59af56 took the layer map's missing path out of the decoy prefix (0.612 → 0.53), and
      // the calibration map (09538e3) shows that as 0.579. lab/README.md expects server-config.
      name: "Apache rewrite [F]",
      args: [`${lab.apache.url}/rewrite-blocked/x`, ...host, "-X", "POST", "-d", "a=1"],
    },
    { name: "Apache Require ip", args: [`${lab.apache.url}/apache-admin/`, ...host] },
  ];
}

interface Seen {
  id: string;
  method: string;
  path: string;
  source: string;
}

/** Requests the servers logged, with their X-Request-Id, from the app's JSON log and both access logs. */
function serverSeen(): Seen[] {
  const out: Seen[] = [];
  const pathOf = (target: string) => target.split("?")[0]!;
  for (const line of readFileSync(lab.apps.node.log, "utf8").split("\n")) {
    if (!line.startsWith("{")) continue;
    try {
      const j = JSON.parse(line) as { reqId?: string; method?: string; url?: string };
      if (j.reqId && j.method && j.url)
        out.push({ id: j.reqId, method: j.method, path: pathOf(j.url), source: "app" });
    } catch {
      // a partial last line
    }
  }
  for (const [source, file] of [
    ["nginx", lab.nginx.accessLog],
    ["apache", lab.apache.accessLog],
  ] as const) {
    for (const line of readFileSync(file, "utf8").split("\n")) {
      const req = /"([A-Z]+) (\S+) HTTP\/[\d.]+"/.exec(line);
      const id = /xrid="([^"]*)"/.exec(line)?.[1];
      if (req && id && id !== "-") out.push({ id, method: req[1]!, path: pathOf(req[2]!), source });
    }
  }
  return out;
}

interface Run {
  name: string;
  prefix: string;
  originalPath: string;
  replayIds: Set<string>;
  unsafeProbes: number;
  ids: string[];
}

async function diagnose(name: string, args: string[]): Promise<Run> {
  return (await diagnoseFull(name, args)).run;
}

async function diagnoseFull(name: string, args: string[]) {
  const r = await runCliAsync(["curl", ...args, "--json", "--rate", "50"], { timeoutMs: 90_000 });
  expect(r.stderr, `${name}: ${r.stderr}`).not.toMatch(/\n\s+at /);
  expect([0, 1, 3], `${name}: exit ${r.code} ${r.stderr}`).toContain(r.code);
  const report = reportSchema.parse(JSON.parse(r.stdout));
  return { report, run: toRun(name, args, report) };
}

function toRun(name: string, args: string[], report: ReturnType<typeof reportSchema.parse>): Run {
  const ids = report.probes.map((p) => p.requestId).filter((x): x is string => !!x);
  expect(ids.length, name).toBe(report.probes.length);
  const prefix = ids[0]!.replace(/\d+$/, "");
  return {
    name,
    prefix,
    originalPath: new URL(args[0]!).pathname,
    replayIds: new Set(report.probes.filter((p) => p.safety === "replay").map((p) => p.requestId!)),
    unsafeProbes: report.sideEffects.unsafeProbes,
    ids,
  };
}

/**
 * Distinct ids of this run, the replay excepted, seen with a non-safe method where
 * application code runs: by the app itself on any path (its own log), or by a server
 * on the original path.
 */
function unsafeSeen(run: Run, seen: Seen[]): string[] {
  const ids = new Set<string>();
  for (const s of seen) {
    if (!s.id.startsWith(run.prefix) || run.replayIds.has(s.id)) continue;
    if (SAFE_METHODS.has(s.method)) continue;
    if (s.source === "app" || s.path === run.originalPath) ids.add(s.id);
  }
  return [...ids];
}

async function settledLogs(): Promise<Seen[]> {
  // The servers write their logs as they answer; give the app's stream a moment to flush.
  await new Promise((r) => setTimeout(r, 300));
  return serverSeen();
}

describe("safety, measured on the lab's servers", () => {
  beforeAll(async () => {
    lab = getLab();
    tokens = (await (await fetch(lab.apps.node.tokensUrl)).json()) as typeof tokens;
    for (let i = 0; i < 4; i++) {
      await fetch(`${lab.apps.node.url}/api/messages`, {
        method: "POST",
        headers: { "x-client-id": "ledger-rate", "content-type": "application/json" },
        body: "{}",
      });
    }
  });

  it("default mode: every scenario leaves the ledger unchanged and unsafeProbes (0) matches the servers' logs", async () => {
    const all = scenarios();
    const before = await ledger();
    const runs: Run[] = [];
    for (let i = 0; i < all.length; i += 4) {
      runs.push(...(await Promise.all(all.slice(i, i + 4).map((s) => diagnose(s.name, s.args)))));
    }
    const after = await ledger();
    const seen = await settledLogs();
    const prefixes = runs.map((r) => r.prefix);
    const ours = after.entries.filter(
      (e) => e.seq > before.count && prefixes.some((p) => e.reqId?.startsWith(p)),
    );
    expect(ours, "ledger entries executed by why403 probes").toEqual([]);
    // Other test files share the lab; without their writes the count itself is unchanged.
    const foreign = after.entries.filter((e) => e.seq > before.count).length - ours.length;
    expect(after.count - before.count).toBe(foreign);
    const table: Record<
      string,
      { unsafeProbes: number; serversSaw: number; probes: number; logged: number }
    > = {};
    for (const run of runs) {
      const unsafe = unsafeSeen(run, seen);
      const logged = new Set(seen.filter((s) => s.id.startsWith(run.prefix)).map((s) => s.id)).size;
      table[run.name] = {
        unsafeProbes: run.unsafeProbes,
        serversSaw: unsafe.length,
        probes: run.ids.length,
        logged,
      };
      expect(run.unsafeProbes, run.name).toBe(0);
      expect(unsafe, `${run.name}: non-safe requests on the original path besides the replay`).toEqual([]);
      // The logs are read for real: the replay of each run reached a server with its id.
      expect(logged, `${run.name}: no request of the run in the servers' logs`).toBeGreaterThan(0);
    }
    console.log(`safety ledger (default mode): ${JSON.stringify(table)}`);
  }, 240_000);

  it("--allow-side-effects on the CSRF scenario: unsafeProbes equals what the servers saw", async () => {
    const args = [
      `${lab.apps.node.url}/form/comment`,
      "-H",
      "content-type: application/x-www-form-urlencoded",
      "--data-raw",
      "comment=hello",
      "--allow-side-effects",
    ];
    const before = await ledger();
    const run = await diagnose("csrf --allow-side-effects", args);
    const after = await ledger();
    const seen = await settledLogs();
    const unsafe = unsafeSeen(run, seen);
    console.log(
      `safety ledger (--allow-side-effects): unsafeProbes ${run.unsafeProbes}, servers saw ${unsafe.length}`,
    );
    expect(run.unsafeProbes).toBeGreaterThanOrEqual(1);
    expect(unsafe.length).toBe(run.unsafeProbes);
    const ours = after.entries.filter((e) => e.seq > before.count && e.reqId?.startsWith(run.prefix));
    // Only a may-execute probe can have executed: never more entries than unsafe probes.
    expect(ours.length).toBeLessThanOrEqual(run.unsafeProbes);
    for (const e of ours) expect(run.replayIds.has(e.reqId!)).toBe(false);
  }, 120_000);
});

type CatchallLedgers = Record<"front" | "graphql" | "express" | "override", Ledger>;

async function catchallLedgers(): Promise<CatchallLedgers> {
  return (await (await fetch(lab.catchall.ledgerUrl)).json()) as CatchallLedgers;
}

/** Scenarios on apps that route every path; `waf`: a firewall refuses in front of the catch-all. */
function catchallScenarios(): Array<{ name: string; args: string[]; waf?: boolean }> {
  const c = lab.catchall;
  const front = ["-H", `Host: ${c.frontHost}`];
  const form = ["-H", "content-type: application/x-www-form-urlencoded"];
  const xss = "%3Cscript%3Ealert(1)%3C%2Fscript%3E";
  return [
    {
      name: "Apache+CRS → body-routed front controller (admin-ajax): XSS in a field",
      args: [
        `${lab.apache.url}/wp-admin/admin-ajax.php`,
        ...front,
        ...form,
        "--data-raw",
        `action=save_comment&comment=${xss}`,
      ],
      waf: true,
    },
    {
      name: "Apache+CRS → query-routed front controller: XSS in the body, action in the query",
      args: [
        `${lab.apache.url}/index.php?action=publish&id=4`,
        ...front,
        ...form,
        "--data-raw",
        `title=hi&content=${xss}`,
      ],
      waf: true,
    },
    {
      name: "Apache → front controller refuses a delete without its nonce",
      args: [`${lab.apache.url}/index.php?action=delete_post&id=3`, ...front, ...form, "--data-raw", "id=3"],
    },
    {
      name: "nginx try_files @app → admin-ajax refuses a delete without its nonce",
      args: [
        `${lab.nginx.url}/wp-admin/admin-ajax.php`,
        ...front,
        ...form,
        "--data-raw",
        "action=delete_comment&id=9",
      ],
    },
    {
      name: "nginx try_files @app → query-routed delete refused",
      args: [
        `${lab.nginx.url}/?action=delete_user&id=2`,
        ...front,
        "-X",
        "POST",
        ...form,
        "--data-raw",
        "x=1",
      ],
    },
    {
      name: "nginx+ModSecurity v3 → GraphQL catch-all: SQL injection in a mutation",
      args: [
        `${lab.nginxModsec.url}/graphql`,
        "-H",
        `Host: ${c.graphqlHost}`,
        "-H",
        "content-type: application/json",
        "--data-raw",
        JSON.stringify({ query: `mutation { deletePost(id: "1' OR '1'='1' --") { ok } }` }),
      ],
      waf: true,
    },
    {
      name: "Express app.all('*') refuses a foreign Origin",
      args: [
        `${c.express}/api/anything`,
        "-H",
        "Origin: http://evil.test",
        "-H",
        "content-type: application/json",
        "--data-raw",
        '{"a":1}',
      ],
    },
    {
      name: "method override (POST standing for DELETE) refused without a valid token",
      args: [
        `${c.override}/posts/7`,
        "-X",
        "POST",
        "-H",
        "X-HTTP-Method-Override: DELETE",
        "-H",
        "Authorization: Bearer expired-token",
        ...form,
        "--data-raw",
        "id=7",
      ],
    },
    {
      name: "method override on a GET (standing for DELETE) refused without a valid token",
      args: [`${c.override}/posts/8?_method=DELETE`, "-H", "Authorization: Bearer expired-token"],
    },
  ];
}

describe("safety on apps that route every path (their own ledgers count every path)", () => {
  beforeAll(() => {
    lab = getLab();
  });

  it("default mode: no catch-all ledger moves, unsafeProbes is 0, and a WAF refusal is still diagnosed", async () => {
    const before = await catchallLedgers();
    const all = catchallScenarios();
    const results: Array<{
      name: string;
      waf?: boolean;
      report: ReturnType<typeof reportSchema.parse>;
      run: Run;
    }> = [];
    for (let i = 0; i < all.length; i += 3) {
      const batch = all.slice(i, i + 3);
      const done = await Promise.all(batch.map((sc) => diagnoseFull(sc.name, sc.args)));
      for (const [j, d] of done.entries()) results.push({ ...batch[j]!, ...d });
    }
    const after = await catchallLedgers();
    const moved = Object.fromEntries(
      (Object.keys(after) as Array<keyof CatchallLedgers>).map((k) => [
        k,
        after[k].entries.slice(before[k].count),
      ]),
    );
    expect(moved).toEqual({ front: [], graphql: [], express: [], override: [] });
    const table: Record<string, { cause: string | null; probes: number; unsafe: number }> = {};
    for (const { name, waf, report } of results) {
      table[name] = {
        cause: report.candidates[0]?.cause ?? null,
        probes: report.probes.length,
        unsafe: report.sideEffects.unsafeProbes,
      };
      expect(report.sideEffects.unsafeProbes, name).toBe(0);
      expect(report.sideEffects.unsafe, name).toEqual([]);
      // No request the application could act on besides the replay: no non-safe method,
      // no body, no override field in any probe but the first.
      for (const p of report.probes.slice(1)) {
        expect(SAFE_METHODS.has(p.method), `${name}: ${p.method} ${p.url}`).toBe(true);
        expect(p.url, `${name}: a probe carried the method override`).not.toMatch(/[?&]_method=/i);
      }
      if (waf) {
        expect(report.candidates[0]?.cause, name).toBe("waf");
        expect(report.trigger, name).toBeNull();
        expect(report.sideEffects.withheld?.join(" "), name).toMatch(
          /No trigger search ran: .*application code may answer there/,
        );
      }
    }
    console.log(`safety ledger (catch-all apps, default mode): ${JSON.stringify(table)}`);
  }, 240_000);
});
