// Safety, measured on the real servers: every lab scenario run in default mode must
// leave the application's ledger unchanged, and the report's sideEffects.unsafeProbes
// must agree with what the servers saw — counted from the app's JSON log and the
// nginx and Apache access logs: requests carrying the run's X-Request-Id that used a
// non-safe method on the original path, other than the replay. Then once with
// --allow-side-effects on the CSRF scenario, where both counts must be equal.
import { readFileSync } from "node:fs";
import { beforeAll, describe, expect, it } from "vitest";
import { reportSchema } from "../src/report/schema.js";
import { runCliAsync } from "./helpers/cli.js";
import { getLab, type LabInfo } from "./lab.js";

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
  const r = await runCliAsync(["curl", ...args, "--json", "--rate", "50"], { timeoutMs: 90_000 });
  expect(r.stderr, `${name}: ${r.stderr}`).not.toMatch(/\n\s+at /);
  expect([0, 1, 3], `${name}: exit ${r.code} ${r.stderr}`).toContain(r.code);
  const report = reportSchema.parse(JSON.parse(r.stdout));
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

/** Distinct ids of this run the servers saw with a non-safe method on the original path, the replay excepted. */
function unsafeSeen(run: Run, seen: Seen[]): string[] {
  const ids = new Set<string>();
  for (const s of seen) {
    if (!s.id.startsWith(run.prefix) || run.replayIds.has(s.id)) continue;
    if (!SAFE_METHODS.has(s.method) && s.path === run.originalPath) ids.add(s.id);
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
