// `why403 matrix` (the built CLI) against the lab's real servers: JWT scopes on the
// Express app, and the Apache + CRS false positive on a legitimate payload. Counts
// what the app executed (its ledger), not what the CLI says it sent.
import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import { isOneLineError, runCli, runCliAsync } from "./helpers/cli.js";
import { getLab, type LabInfo } from "./helpers/lab.js";

let lab: LabInfo;
let dir: string;
let tokenEnv: Record<string, string>;

interface Cell {
  request: string;
  identity: string;
  expected: string;
  outcome: string;
  status: number | null;
  ok: boolean | null;
  cause: string | null;
  causeDetail: string | null;
}
interface MatrixJson {
  schema: string;
  cells: Cell[];
  passed: number;
  failed: number;
  skipped: number;
}

async function ledger(): Promise<Array<{ action: string }>> {
  const r = await fetch(lab.apps.node.ledgerUrl);
  return ((await r.json()) as { entries: Array<{ action: string }> }).entries;
}

function cell(result: MatrixJson, request: string, identity: string): Cell {
  const found = result.cells.find((c) => c.request === request && c.identity === identity);
  if (!found) throw new Error(`no cell ${identity} × ${request}`);
  return found;
}

function matrixFile(name: string, base: string, checks: string): string {
  const path = join(dir, name);
  writeFileSync(
    path,
    `base: ${base}
identities:
  anonymous: {}
  reader: { headers: { Authorization: "Bearer \${LAB_READER_TOKEN}" } }
  writer: { headers: { Authorization: "Bearer \${LAB_WRITER_TOKEN}" } }
checks:
${checks}`,
  );
  return path;
}

const ORDER_CHECKS = `  - request: GET /api/orders
    allow: [reader, writer]
  - request: GET /api/orders/export
    allow: [writer]
  - request: POST /api/orders
    body: { item: "book" }
    allow: [writer]
`;

beforeAll(async () => {
  lab = getLab();
  dir = mkdtempSync(join(tmpdir(), "why403-matrix-"));
  const tokens = (await (await fetch(lab.apps.node.tokensUrl)).json()) as { readOnly: string; write: string };
  tokenEnv = { LAB_READER_TOKEN: tokens.readOnly, LAB_WRITER_TOKEN: tokens.write };
});

describe("why403 matrix on the Express app (JWT scopes)", () => {
  it("by default sends only the safe checks, passes, and the app executes nothing", async () => {
    const file = matrixFile("orders.yaml", lab.apps.node.url, ORDER_CHECKS);
    const before = (await ledger()).length;
    const r = await runCliAsync(["matrix", file, "--json"], { env: tokenEnv });
    expect(r.stderr).toBe("");
    expect(r.code).toBe(0);
    const result = JSON.parse(r.stdout) as MatrixJson;
    expect(result.schema).toBe("why403.matrix/v1");
    expect([result.passed, result.failed, result.skipped]).toEqual([6, 0, 3]);
    expect(cell(result, "GET /api/orders", "anonymous")).toMatchObject({
      outcome: "deny",
      status: 401,
      ok: true,
      cause: "credentials-invalid",
    });
    expect(cell(result, "GET /api/orders/export", "reader")).toMatchObject({
      outcome: "deny",
      status: 403,
      cause: "insufficient-permission",
      causeDetail: "JWT lacks scope orders:write",
    });
    expect(cell(result, "GET /api/orders/export", "writer")).toMatchObject({ outcome: "allow", status: 200 });
    for (const id of ["anonymous", "reader", "writer"])
      expect(cell(result, "POST /api/orders", id)).toMatchObject({
        outcome: "skipped",
        ok: null,
        status: null,
      });
    expect((await ledger()).length).toBe(before);
    expect(r.stdout).not.toContain(tokenEnv.LAB_READER_TOKEN);
  });

  it("with --allow-side-effects runs the POST once per identity; a wrong expectation fails in text and JUnit", async () => {
    const file = matrixFile(
      "orders-strict.yaml",
      lab.apps.node.url,
      `${ORDER_CHECKS}  - request: GET /api/orders
    allow: [writer]
`,
    );
    const junit = join(dir, "orders.xml");
    const before = (await ledger()).length;
    const r = await runCliAsync(["matrix", file, "--allow-side-effects", "--junit", junit], {
      env: tokenEnv,
    });
    expect(r.code).toBe(1);
    const executed = (await ledger()).slice(before);
    // Only the writer's POST may run: the reader's and the anonymous one were refused before the handler.
    expect(executed.map((e) => e.action)).toEqual(["order.create"]);
    expect(r.stdout).toMatch(
      /reader · POST \/api\/orders: 403 insufficient-permission \(JWT lacks scope orders:write\)/,
    );
    expect(r.stdout).toContain("✗ reader · GET /api/orders #2: expected a refusal, was let through (200)");
    expect(r.stdout).toContain("11 passed, 1 failed, 0 skipped");
    const xml = readFileSync(junit, "utf8");
    expect(xml).toMatch(
      /^<\?xml version="1\.0" encoding="UTF-8"\?>\n<testsuites name="why403 matrix" tests="12" failures="1" errors="0" skipped="0">/,
    );
    expect(xml.match(/<testcase /g)).toHaveLength(12);
    expect(xml.match(/<failure /g)).toHaveLength(1);
    expect(xml).toContain('<testcase classname="GET /api/orders #2" name="reader is refused">');
    expect(xml).not.toContain(tokenEnv.LAB_WRITER_TOKEN);
  });

  it("names a missing environment variable in one line, exit 2, before sending anything", async () => {
    const file = matrixFile("orders-missing.yaml", lab.apps.node.url, ORDER_CHECKS);
    const r = await runCliAsync(["matrix", file], { env: { LAB_READER_TOKEN: "x" } });
    expect(r.code).toBe(2);
    expect(isOneLineError(r)).toBe(true);
    expect(r.stderr).toContain(
      "environment variable LAB_WRITER_TOKEN is not set (used in identities.writer.headers.Authorization)",
    );
    expect(r.stdout).toBe("");
  });
});

describe("why403 matrix through Apache + ModSecurity + CRS", () => {
  // A legitimate description CRS 3.3 refuses (lab/README.md, "OWASP CRS facts").
  const WAF_CHECKS = `  - request: POST /api/items
    headers: { Host: lab.test }
    body: { name: "Lunch", description: "I'm here; select from the menu" }
    allow: [anonymous, reader, writer]
  - request: POST /api/items
    headers: { Host: lab.test }
    body: { name: "Widget" }
    allow: [anonymous, reader, writer]
`;

  it("catches the false positive; with the server's logs each failing cell names the CRS rules", async () => {
    const file = matrixFile("waf.yaml", lab.apache.url, WAF_CHECKS);
    const before = (await ledger()).length;
    const r = await runCliAsync(
      [
        "matrix",
        file,
        "--json",
        "--allow-side-effects",
        "--server-logs",
        lab.apache.errorLog,
        lab.apache.auditLog!,
      ],
      { env: tokenEnv },
    );
    expect(r.code).toBe(1);
    const result = JSON.parse(r.stdout) as MatrixJson;
    expect([result.passed, result.failed, result.skipped]).toEqual([3, 3, 0]);
    for (const id of ["anonymous", "reader", "writer"]) {
      const refused = cell(result, "POST /api/items", id);
      expect(refused).toMatchObject({ outcome: "deny", status: 403, ok: false, cause: "waf" });
      expect(refused.causeDetail).toMatch(/^CRS (\d+, )*942350/);
      expect(cell(result, "POST /api/items #2", id)).toMatchObject({
        outcome: "allow",
        status: 201,
        ok: true,
      });
    }
    // The three benign items reached the app; the refused ones never did.
    expect((await ledger()).slice(before).length).toBe(3);
  });

  it("from the answer alone the refusal still fails the cell, with the cause left open", async () => {
    const file = matrixFile("waf-get.yaml", lab.apache.url, WAF_CHECKS);
    const r = await runCliAsync(["matrix", file, "--json", "--allow-side-effects"], { env: tokenEnv });
    expect(r.code).toBe(1);
    const refused = cell(JSON.parse(r.stdout) as MatrixJson, "POST /api/items", "writer");
    // Apache's own 403 page names no firewall: no cause may be claimed without the logs.
    expect(refused).toMatchObject({ outcome: "deny", ok: false, cause: null });
    expect(refused.causeDetail).toBe("not pinned; answered by apache web-server");
  });
});

describe("why403 matrix and compare --help", () => {
  it("show usage with examples and the exit codes", () => {
    for (const cmd of ["matrix", "compare"]) {
      const r = runCli([cmd, "--help"]);
      expect(r.code, cmd).toBe(0);
      expect(r.stdout, cmd).toMatch(new RegExp(`^Usage: why403 ${cmd} `));
      expect(r.stdout, cmd).toContain("Examples");
      expect(r.stdout, cmd).toContain("Exit status: 0 ");
    }
    expect(runCli(["--help"]).stdout).toMatch(/why403 matrix <file\.yaml\|json>/);
  });
});
