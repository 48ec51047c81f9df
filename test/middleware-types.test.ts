// The hand-written types of the subpath exports (types/*.d.ts) match the code
// (checked by tsc: each assignment fails to compile when they drift), the
// generated types/denial.d.ts is what the source gives today, and the built
// subpaths (dist/express.js …) export what the types declare.
import { spawnSync } from "node:child_process";
import { existsSync } from "node:fs";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { describe, expect, it } from "vitest";
import type * as RealExpress from "../src/middleware/express.js";
import type * as RealFastify from "../src/middleware/fastify.js";
import type * as RealHono from "../src/middleware/hono.js";
import type * as DeclaredExpress from "../types/express.js";
import type * as DeclaredFastify from "../types/fastify.js";
import type * as DeclaredHono from "../types/hono.js";

type Same<A, B> = [A] extends [B] ? ([B] extends [A] ? true : false) : false;
const checks: Array<true> = [
  true as Same<
    Parameters<typeof RealExpress.explainDenials>,
    Parameters<typeof DeclaredExpress.explainDenials>
  >,
  true as Same<
    ReturnType<typeof RealExpress.explainDenials>,
    ReturnType<typeof DeclaredExpress.explainDenials>
  >,
  true as Same<
    Parameters<typeof RealFastify.explainDenials>,
    Parameters<typeof DeclaredFastify.explainDenials>
  >,
  true as Same<
    ReturnType<typeof RealFastify.explainDenials>,
    ReturnType<typeof DeclaredFastify.explainDenials>
  >,
  true as Same<Parameters<typeof RealHono.explainDenials>, Parameters<typeof DeclaredHono.explainDenials>>,
  true as Same<
    ConstructorParameters<typeof RealExpress.Denial>,
    ConstructorParameters<typeof DeclaredExpress.Denial>
  >,
  true as Same<
    InstanceType<typeof RealExpress.Denial>["cause"],
    InstanceType<typeof DeclaredExpress.Denial>["cause"]
  >,
];

describe("subpath exports", () => {
  it("types agree with the code", () => {
    expect(checks.every(Boolean)).toBe(true);
  });
  it("types/denial.d.ts is what scripts/gen-denial-types.mjs writes from src/middleware/denial.ts today", () => {
    const script = join(process.cwd(), "scripts", "gen-denial-types.mjs");
    const run = spawnSync(process.execPath, [script, "--check"], { encoding: "utf8" });
    expect(run.stderr).toBe("");
    expect(run.status).toBe(0);
  });
  it.each(["express", "fastify", "hono"])("dist/%s.js exports Denial and explainDenials", async (name) => {
    const file = join(process.cwd(), "dist", `${name}.js`);
    expect(existsSync(file)).toBe(true);
    const mod = (await import(pathToFileURL(file).href)) as Record<string, unknown>;
    expect(typeof mod.Denial).toBe("function");
    expect(typeof mod.explainDenials).toBe("function");
    const Denial = mod.Denial as typeof RealExpress.Denial;
    const d = new Denial({ cause: "csrf", reason: "token-missing" });
    expect(d).toBeInstanceOf(Error);
    expect(d.status).toBe(403);
  });
});
