// `why403 compare` (the built CLI) on the lab: the same Express application reached
// directly, through nginx (with an address rule on /admin/) and through Apache +
// ModSecurity + CRS. What the app executed is read from its ledger and its log.
import { mkdtempSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import { isOneLineError, runCliAsync } from "./helpers/cli.js";
import { getLab, type LabInfo } from "./helpers/lab.js";

let lab: LabInfo;
let readOnly: string;

interface Env {
  base: string;
  status: number | null;
  refused: boolean;
  responder: { layer: string; product: string | null } | null;
  verdict: { cause: string } | null;
  trigger: { location: string; name: string | null } | null;
  withheld: string[];
  failure: unknown;
}
interface CompareJson {
  schema: string;
  request: { method: string; path: string };
  environments: Env[];
  differences: string[];
  notes: string[];
}

async function ledger(): Promise<Array<{ action: string }>> {
  return ((await (await fetch(lab.apps.node.ledgerUrl)).json()) as { entries: Array<{ action: string }> })
    .entries;
}

/** The app's log lines written since `offset` bytes, parsed. */
function appLogSince(offset: number): Array<{ reqId?: string; reason?: string; url?: string }> {
  return readFileSync(lab.apps.node.log)
    .subarray(offset)
    .toString("utf8")
    .split("\n")
    .filter(Boolean)
    .map((l) => JSON.parse(l));
}

const runOf = (reqId: string | undefined) => /^why403-([0-9a-f]+)-\d+$/.exec(reqId ?? "")?.[1] ?? null;

beforeAll(async () => {
  lab = getLab();
  readOnly = ((await (await fetch(lab.apps.node.tokensUrl)).json()) as { readOnly: string }).readOnly;
});

describe("why403 compare on the lab", () => {
  it("finds the refusal only one environment has: the CRS false positive behind Apache", async () => {
    const item = [
      "-H",
      "content-type: application/json",
      "--data-raw",
      JSON.stringify({ name: "Lunch", description: "I'm here; select from the menu" }),
    ];
    // Same engine as `why403 curl`: Apache's environment must read as curl reads it there.
    const alone = JSON.parse(
      (await runCliAsync(["curl", `${lab.apache.url}/api/items`, ...item, "--json"])).stdout,
    ) as {
      baseline: { responder: { layer: string; product: string | null } };
      verdict: { cause: string };
      trigger: { location: string; name: string | null } | null;
    };
    const before = (await ledger()).length;
    const r = await runCliAsync([
      "compare",
      `${lab.apps.node.url}/api/items`,
      ...item,
      "--with",
      lab.nginx.url,
      "--with",
      lab.apache.url,
      "--json",
    ]);
    expect(r.code).toBe(1);
    const result = JSON.parse(r.stdout) as CompareJson;
    expect(result.schema).toBe("why403.compare/v1");
    expect(result.request).toEqual({ method: "POST", path: "/api/items" });
    expect(result.environments.map((e) => [e.base, e.status, e.refused])).toEqual([
      [lab.apps.node.url, 201, false],
      [lab.nginx.url, 201, false],
      [lab.apache.url, 403, true],
    ]);
    const apache = result.environments[2]!;
    // Apache's own 403 page answers: the responder is what `why403 curl` makes of it there
    // (a firewall layer inside Apache once a content trigger is proven; no product named).
    const { layer, product } = alone.baseline.responder;
    expect(apache.responder).toEqual({ layer, product });
    expect(apache.verdict?.cause).toBe(alone.verdict.cause);
    expect(apache.trigger).toEqual(
      alone.trigger ? { location: alone.trigger.location, name: alone.trigger.name } : null,
    );
    // The sentence names the one environment that refuses and the two that let it through.
    const only = result.differences.find((d) => d.startsWith(`Only ${lab.apache.url} `));
    expect(only).toContain(
      `answered there, while ${lab.apps.node.url} and ${lab.nginx.url} let the request through to the application.`,
    );
    expect(result.differences[0]).toMatch(
      /^The outcome differs: refused 403 at http:\/\/127\.0\.0\.1:\d+, not refused \(201\) everywhere else/,
    );
    // One replay per environment: the two that let it through executed it once each, nothing else ran.
    expect((await ledger()).slice(before).map((e) => e.action)).toEqual(["item.create", "item.create"]);
  });

  it("carries the credentials only to the request's own origin unless --carry-credentials", async () => {
    const args = [
      "compare",
      `${lab.apps.node.url}/api/orders`,
      "-H",
      `Authorization: Bearer ${readOnly}`,
      "-H",
      "content-type: application/json",
      "--data-raw",
      '{"item":"book"}',
      "--with",
      lab.nginx.url,
      "--with",
      lab.apache.url,
      "--json",
    ];
    const logStart = readFileSync(lab.apps.node.log).length;
    const held = await runCliAsync(args);
    expect(held.code).toBe(1);
    const heldResult = JSON.parse(held.stdout) as CompareJson;
    expect(heldResult.environments.map((e) => [e.status, e.verdict?.cause, e.withheld])).toEqual([
      [403, "insufficient-permission", []],
      [401, "credentials-invalid", ["Authorization"]],
      [401, "credentials-invalid", ["Authorization"]],
    ]);
    expect(heldResult.notes).toHaveLength(2);
    expect(heldResult.differences.some((d) => /refuse it for that; pass --carry-credentials/.test(d))).toBe(
      true,
    );
    expect(held.stdout).not.toContain(readOnly);
    // What the app saw: a valid token arrived in exactly one run (the own origin's).
    const lines = appLogSince(logStart).filter((l) => runOf(l.reqId) && l.url?.startsWith("/api/orders"));
    const runs = new Set(lines.map((l) => runOf(l.reqId)));
    const tokenArrived = new Set(
      lines.filter((l) => l.reason === "scope orders:write missing").map((l) => runOf(l.reqId)),
    );
    expect(runs.size).toBe(3);
    expect(tokenArrived.size).toBe(1);

    const carried = await runCliAsync([...args, "--carry-credentials"]);
    expect(carried.code).toBe(0);
    const carriedResult = JSON.parse(carried.stdout) as CompareJson;
    expect(carriedResult.environments.map((e) => [e.status, e.verdict?.cause, e.withheld])).toEqual([
      [403, "insufficient-permission", []],
      [403, "insufficient-permission", []],
      [403, "insufficient-permission", []],
    ]);
    expect(carriedResult.differences).toEqual([]);
  });

  it("shows nginx's address rule as the one difference, in text and HTML", async () => {
    const html = join(mkdtempSync(join(tmpdir(), "why403-compare-")), "compare.html");
    const r = await runCliAsync([
      "compare",
      `${lab.nginx.url}/admin/`,
      "--with",
      lab.apps.node.url,
      "--with",
      lab.apache.url,
      "--html",
      html,
    ]);
    expect(r.code).toBe(1);
    const table = r.stdout.split("\n").slice(2, 6);
    expect(table[0]).toMatch(/^environment\s+status\s+responder\s+cause\s+trigger$/);
    // Same engine as `why403 curl`: the cause of nginx's refusal is whatever curl finds for it.
    const alone = await runCliAsync(["curl", `${lab.nginx.url}/admin/`, "--json"]);
    const cause = (JSON.parse(alone.stdout) as { verdict: { cause: string } }).verdict.cause;
    expect(table[1]).toMatch(
      new RegExp(`^http://127\\.0\\.0\\.1:\\d+\\s+403\\s+web-server / nginx\\s+${cause} \\(`),
    );
    expect(table[2]).toMatch(/404 \(not refused\)/);
    expect(r.stdout).toContain(`Only ${lab.nginx.url} refuses (${cause}): nginx (web-server) answered there`);
    const page = readFileSync(html, "utf8");
    expect(page).toMatch(/^<!doctype html>/);
    expect(page).toContain("<h1>GET /admin/ in 3 environments</h1>");
    expect(page).toContain('data-refused="true"');
  });

  it("exits 4 when an environment gives no usable answer, and still reports the others", async () => {
    // Port 1 on the loopback: nothing listens there.
    const r = await runCliAsync([
      "compare",
      `${lab.apps.node.url}/api/orders`,
      "--with",
      "http://127.0.0.1:1",
      "--json",
    ]);
    expect(r.code).toBe(4);
    const result = JSON.parse(r.stdout) as CompareJson;
    expect(result.environments[0]).toMatchObject({ status: 401, refused: true, failure: null });
    expect(result.environments[1]).toMatchObject({ status: null, failure: { kind: "refused-connection" } });
  });

  it("says what is wrong with a --with value in one line (exit 2) before sending anything", async () => {
    const r = await runCliAsync([
      "compare",
      `${lab.apps.node.url}/api/orders`,
      "--with",
      `${lab.nginx.url}/v2`,
    ]);
    expect(r.code).toBe(2);
    expect(isOneLineError(r)).toBe(true);
    expect(r.stderr).toContain("--with takes only scheme, host and port");
  });
});
