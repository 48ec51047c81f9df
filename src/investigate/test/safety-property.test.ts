// The safety rule as a property: whatever way the host routes requests into its
// application, a default run executes nothing there beyond the user's own replay,
// and with consent every execution is counted in sideEffects.unsafe. The fake
// transport below plays a web server, an optional firewall and an application
// with a ledger; it judges "executed" by the application's own routing, on every
// path, not by what why403 says it sent.

import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { fakeClock, nginxPage, res } from "../../experiments/_test-kit.js";
import { methodOverrideOf } from "../../http/method-override.js";
import type { SendResult, Transport } from "../../http/types.js";
import type { RequestModel, ResponseModel } from "../../model.js";
import { investigate } from "../index.js";

/** How the host hands requests to its application. */
type Routing =
  | "decoy-served-by-server" // the app only behind its own paths; /.well-known/ is static
  | "query-front-controller" // every path → app, acts on ?action=
  | "body-front-controller" // every path → app, acts on a body field action= (admin-ajax style)
  | "catch-all" // every path, every non-safe method acts (app.all('*'), GraphQL on a catch-all)
  | "method-override" // every path; X-HTTP-Method-Override / _method honoured on any method
  | "query-routed-by-server"; // the server sends requests with ?action= to the app on any path

/** What refuses the request. */
type Refusal = "waf-script" | "app-origin-check" | "app-needs-token" | "server-deny-path";

interface World {
  routing: Routing;
  refusal: Refusal;
  redirect: 0 | 307 | 308;
}

const SAFE = new Set(["GET", "HEAD", "OPTIONS"]);
const ORIGINAL_PATH = "/wp-admin/admin-ajax.php";

function effectiveMethod(req: RequestModel, routing: Routing): string {
  const override = routing === "method-override" ? methodOverrideOf(req) : null;
  return (override ?? req.method).toUpperCase();
}

function decoded(req: RequestModel): string {
  const raw = `${req.url} ${req.body?.toString("latin1") ?? ""}`;
  try {
    return decodeURIComponent(raw.replace(/\+/g, " "));
  } catch {
    return raw;
  }
}

function reachesApp(req: RequestModel, w: World): boolean {
  const u = new URL(req.url);
  if (w.routing === "decoy-served-by-server")
    return u.pathname === ORIGINAL_PATH || u.pathname === "/landing";
  if (w.routing === "query-routed-by-server")
    return u.pathname === ORIGINAL_PATH || u.searchParams.has("action");
  return true;
}

function acts(req: RequestModel, w: World): boolean {
  const m = effectiveMethod(req, w.routing);
  const body = req.body?.toString("latin1") ?? "";
  const q = new URL(req.url).searchParams;
  if (SAFE.has(m) && !(req.body && req.body.length > 0 && w.routing === "body-front-controller"))
    return false;
  switch (w.routing) {
    case "query-front-controller":
    case "query-routed-by-server":
      return q.has("action");
    case "body-front-controller":
      return /(^|&)action=/.test(body);
    default:
      return true;
  }
}

function appRefuses(req: RequestModel, w: World): boolean {
  const header = (n: string) => req.headers.find(([k]) => k.toLowerCase() === n)?.[1];
  if (w.refusal === "app-origin-check") return header("origin") !== "http://site.test";
  if (w.refusal === "app-needs-token") return !/(^|&)token=good/.test(req.body?.toString("latin1") ?? "");
  return false;
}

const APP_404 = () => res(404, "<h1>Nothing here</h1>", [["X-Powered-By", "PHP/8.2"]]);

function host(w: World, ledger: number[], n: () => number) {
  return (req: RequestModel): ResponseModel => {
    const u = new URL(req.url);
    if (w.refusal === "waf-script" && /<script>/i.test(decoded(req)))
      return res(403, "<h1>Request blocked</h1><p>rejected by the security filter</p>");
    if (w.redirect && u.pathname === ORIGINAL_PATH && u.searchParams.get("hop") !== "1") {
      const next = new URL(req.url);
      next.searchParams.set("hop", "1");
      return res(w.redirect, "moved", [["Location", next.pathname + next.search]]);
    }
    if (w.refusal === "server-deny-path" && u.pathname === ORIGINAL_PATH)
      return res(403, "<center><h1>403 Forbidden</h1></center>\r\n<hr><center>nginx</center>", [
        ["Server", "nginx"],
      ]);
    if (!reachesApp(req, w))
      return ["GET", "HEAD"].includes(req.method)
        ? nginxPage(404)
        : req.method === "OPTIONS"
          ? nginxPage(405)
          : nginxPage(404);
    if (acts(req, w)) {
      if (appRefuses(req, w))
        return res(403, '{"error":"forbidden"}', [
          ["Content-Type", "application/json"],
          ["X-Powered-By", "PHP/8.2"],
        ]);
      ledger.push(n());
      return res(200, '{"done":true}', [
        ["Content-Type", "application/json"],
        ["X-Powered-By", "PHP/8.2"],
      ]);
    }
    if (req.method === "OPTIONS")
      return res(200, "", [
        ["Allow", "GET,POST,OPTIONS"],
        ["X-Powered-By", "PHP/8.2"],
      ]);
    if (u.pathname === ORIGINAL_PATH) return res(200, "<form>…</form>", [["X-Powered-By", "PHP/8.2"]]);
    return APP_404();
  };
}

const world = fc.record<World>({
  routing: fc.constantFrom(
    "decoy-served-by-server",
    "query-front-controller",
    "body-front-controller",
    "catch-all",
    "method-override",
    "query-routed-by-server",
  ),
  refusal: fc.constantFrom("waf-script", "app-origin-check", "app-needs-token", "server-deny-path"),
  redirect: fc.constantFrom(0, 0, 307, 308),
});

const request: fc.Arbitrary<RequestShape> = fc.record({
  method: fc.constantFrom("POST", "PUT", "DELETE", "GET"),
  query: fc.constantFrom("", "?action=delete", "?action=delete&id=7", "?_method=DELETE&action=x", "?page=2"),
  body: fc.constantFrom(
    "action=delete&id=7",
    "action=save&comment=<script>alert(1)</script>",
    "comment=<script>x</script>",
    "id=7&_method=DELETE",
    "",
  ),
  override: fc.boolean(),
  origin: fc.constantFrom("https://evil.test", null),
  followRedirects: fc.boolean(),
});

interface RequestShape {
  method: string;
  query: string;
  body: string;
  override: boolean;
  origin: string | null;
  followRedirects: boolean;
}

function build(r: RequestShape): RequestModel {
  const headers: Array<[string, string]> = [
    ["Content-Type", "application/x-www-form-urlencoded"],
    ["User-Agent", "Mozilla/5.0 (X11; Linux x86_64) Chrome/126.0"],
  ];
  if (r.override) headers.push(["X-HTTP-Method-Override", "DELETE"]);
  if (r.origin) headers.push(["Origin", r.origin]);
  return {
    method: r.method,
    url: `http://site.test${ORIGINAL_PATH}${r.query}`,
    headers,
    body: r.body ? Buffer.from(r.body) : null,
    options: { followRedirects: r.followRedirects },
  };
}

async function run(w: World, req: RequestModel, consent: boolean) {
  const ledger: number[] = [];
  let sent = 0;
  const respond = host(w, ledger, () => sent);
  const transport: Transport = {
    async send(r): Promise<SendResult> {
      sent++;
      return { ok: true, response: respond(r), durationMs: 1 };
    },
  };
  const report = await investigate(req, {
    transport,
    clock: fakeClock(),
    ratePerSecond: 1000,
    allowSideEffects: consent,
    runId: "prop",
    randomToken: () => "t0k3n",
  });
  return { report, executedByProbes: ledger.filter((n) => n > 1) };
}

describe("safety property: any routing style", () => {
  it("default mode executes nothing beyond the replay and reports 0 unsafe probes", async () => {
    await fc.assert(
      fc.asyncProperty(world, request, async (w, r) => {
        const { report, executedByProbes } = await run(w, build(r), false);
        expect(executedByProbes).toEqual([]);
        expect(report.sideEffects.unsafeProbes).toBe(0);
        expect(report.sideEffects.unsafe).toEqual([]);
      }),
      { numRuns: 150, seed: 403 },
    );
  });

  it("with consent every execution beyond the replay is a probe listed in sideEffects.unsafe, within --max-unsafe", async () => {
    await fc.assert(
      fc.asyncProperty(world, request, async (w, r) => {
        const { report, executedByProbes } = await run(w, build(r), true);
        const listed = new Set(report.sideEffects.unsafe?.map((u) => u.n));
        for (const n of executedByProbes)
          expect(listed.has(n), `probe #${n} executed but not listed`).toBe(true);
        expect(report.sideEffects.unsafeProbes).toBeLessThanOrEqual(10);
      }),
      { numRuns: 100, seed: 404 },
    );
  });

  it("where the server itself answers the decoy, the trigger search still runs there (safety does not cost the diagnosis)", async () => {
    const w: World = { routing: "decoy-served-by-server", refusal: "waf-script", redirect: 0 };
    const req = build({
      method: "POST",
      query: "?action=delete",
      body: "action=save&comment=<script>alert(1)</script>",
      override: false,
      origin: null,
      followRedirects: false,
    });
    const { report, executedByProbes } = await run(w, req, false);
    expect(executedByProbes).toEqual([]);
    expect(report.trigger).toMatchObject({ location: "body", name: "comment" });
    expect(report.probes.some((p) => p.safety === "decoy" && p.method === "POST")).toBe(true);
  });

  it("a WAF in front of a catch-all app: the cause is still named, and the report says why no trigger search ran", async () => {
    const w: World = { routing: "catch-all", refusal: "waf-script", redirect: 0 };
    const req = build({
      method: "POST",
      query: "",
      body: "action=save&comment=<script>alert(1)</script>",
      override: false,
      origin: null,
      followRedirects: false,
    });
    const { report, executedByProbes } = await run(w, req, false);
    expect(executedByProbes).toEqual([]);
    expect(report.trigger).toBeNull();
    expect(report.candidates[0]?.cause).toBe("waf");
    expect(report.sideEffects.withheld?.[0]).toMatch(/No trigger search ran/);
  });
});
