// The OWASP CRS 3.3.4 regression suite replayed against the lab's Apache +
// ModSecurity 2.9 + CRS (PL1), or nginx + ModSecurity v3 + CRS, and scored per
// rule family: does why403 name `waf`, find the part CRS blocks on, its name, a
// minimal fragment inside the real payload, with how many probes, and without
// moving the lab applications' ledgers.
//
// Ground truth comes from the server, not from the YAML: each test the server
// refuses (403) is ablated one request part at a time (method, path, each query
// parameter, each header, each cookie, the body); a case is kept when exactly
// one part's removal lets it pass and that part alone (all others removed)
// is still refused.
//
// Alone: node bench/crs.mjs [--family 942] [--limit N] [--server apache|nginx-modsec]
//        [--json out.json] [--verbose] [--allow-side-effects]   (build first: npm run build)
import { rmSync } from "node:fs";
import { request as httpRequest } from "node:http";
import { resolve } from "node:path";
import { pathToFileURL } from "node:url";
import {
  crsTestsDir,
  expectedIds,
  loadCrsTests,
  requestParts,
  safeDecode,
  toRequest,
} from "./crs-convert.mjs";
import { library, median, note, table } from "./stats.mjs";

const RATE = Number(process.env.BENCH_RATE ?? 50);
const MAX_PROBES = 30;
/** Kept cases per family in `npm run bench` (the full set: --limit 0). */
const DEFAULT_LIMIT = Number(process.env.BENCH_CRS_LIMIT ?? 4);

function parseArgs(argv) {
  const o = {
    families: [],
    limit: DEFAULT_LIMIT,
    server: "apache",
    json: null,
    verbose: false,
    consent: false,
  };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a === "--family") o.families.push(...argv[++i].split(","));
    else if (a === "--limit") o.limit = Number(argv[++i]);
    else if (a === "--server") o.server = argv[++i];
    else if (a === "--json") o.json = argv[++i];
    else if (a === "--verbose" || a === "-v") o.verbose = true;
    else if (a === "--allow-side-effects") o.consent = true;
    else throw new Error(`unknown argument ${a}`);
  }
  if (!["apache", "nginx-modsec"].includes(o.server))
    throw new Error(`--server apache|nginx-modsec, not ${o.server}`);
  return o;
}

/** One plain request with node:http (what curl would send), status or null when it cannot be sent. */
function send(req) {
  return new Promise((done) => {
    const url = new URL(req.url);
    const headers = {};
    for (const [n, v] of req.headers) headers[n] = n in headers ? `${headers[n]}, ${v}` : v;
    if (req.body) headers["content-length"] = String(req.body.length);
    let r;
    try {
      r = httpRequest(
        {
          method: req.method,
          hostname: url.hostname,
          port: url.port,
          path: url.pathname + url.search,
          headers,
          agent: false,
        },
        (res) => {
          res.resume();
          res.on("end", () => done(res.statusCode));
        },
      );
    } catch {
      done(null);
      return;
    }
    r.on("error", () => done(null));
    r.setTimeout(10_000, () => r.destroy(new Error("timeout")));
    r.end(req.body ?? undefined);
  });
}

/** The one part CRS blocks on, or a reason the case is not a one-part case. */
async function groundTruth(req) {
  const status = await send(req);
  if (status === null) return { reject: "node:http cannot send it" };
  if (status !== 403) return { reject: `not refused (${status})` };
  const parts = requestParts(req);
  const needed = [];
  for (const p of parts) {
    const s = await send(p.ablate(req));
    if (s !== null && s !== 403) needed.push(p);
  }
  if (needed.length !== 1)
    return { reject: needed.length === 0 ? "no single part lifts it" : "several parts needed" };
  const only = needed[0];
  let alone = req;
  for (const p of requestParts(req).reverse())
    if (!(p.location === only.location && p.name === only.name && p.text === only.text))
      alone = p.ablate(alone);
  if ((await send(alone)) !== 403) return { reject: "the part alone is not refused" };
  return { part: only };
}

function ciEq(a, b) {
  return (a ?? "").toLowerCase() === (b ?? "").toLowerCase();
}

/** Scores one report against the part CRS blocks on. */
function score(report, part) {
  const cause = report.verdict?.cause ?? "none";
  const t = report.trigger;
  const location = !!t && t.location === part.location;
  let name = false;
  if (location) {
    if (part.location === "header" || part.location === "cookie" || part.location === "query")
      name = ciEq(t.name, part.name);
    else if (part.location === "body")
      name =
        t.name === null ||
        safeDecode(part.text).includes(t.name.replace(/^\$\./, "").replace(/^line \d+$/, "")) ||
        /^line \d+$/.test(t.name);
    else name = true;
  }
  const payloads = [part.text, safeDecode(part.text)];
  if (part.location === "header" || part.location === "cookie" || part.location === "query")
    payloads.push(part.name ?? "");
  // An empty header (CRS 920310: `Accept:` with no value) has no text to be smaller than.
  const minimal =
    !!t &&
    location &&
    (t.minimal !== "" ? payloads.some((p) => p.includes(t.minimal)) : part.text === "" && name);
  return { cause, waf: cause === "waf", location, name, minimal, probes: report.probes.length, trigger: t };
}

async function ledgerCount(lab) {
  try {
    const r = await fetch(lab.apps.node.ledgerUrl);
    return (await r.json()).count;
  } catch {
    return null;
  }
}

/** Spread order: every family's tests visited evenly, so a small limit samples the whole family. */
function spread(list) {
  const k = Math.max(1, Math.round(Math.sqrt(list.length)));
  const out = [];
  for (let s = 0; s < k; s++) for (let i = s; i < list.length; i += k) out.push(list[i]);
  return out;
}

export async function runCrs(argv = []) {
  const opts = parseArgs(argv);
  const dir = crsTestsDir();
  if (!dir) {
    note(
      "(skipped: the OWASP CRS tests are not in ../shared/realworld/crs-tests; set WHY403_CRS_TESTS to their folder)",
    );
    return null;
  }
  const lib = await library();
  const labModule = resolve("lab/lab.mjs");
  const { startLab, stopLabAndWait } = await import(pathToFileURL(labModule).href);
  let lab;
  try {
    lab = await startLab({ root: resolve("."), name: `crs-bench-${process.pid}`, owner: process.pid });
  } catch (err) {
    note(`(skipped: the lab did not start: ${String(err?.message ?? err).split("\n")[0]})`);
    return null;
  }
  // Interrupted: stop the lab's servers before leaving.
  const stop = () => stopLabAndWait(lab.runDir).finally(() => process.exit(130));
  process.once("SIGINT", stop);
  process.once("SIGTERM", stop);
  try {
    return await runAgainst(lib, lab, dir, opts);
  } finally {
    process.off("SIGINT", stop);
    process.off("SIGTERM", stop);
    await stopLabAndWait(lab.runDir);
    rmSync(lab.runDir, { recursive: true, force: true });
  }
}

async function runAgainst(lib, lab, dir, opts) {
  const server = opts.server === "apache" ? lab.apache : lab.nginxModsec;
  const base = server.url;
  const tests = loadCrsTests(dir).filter(
    (t) => opts.families.length === 0 || opts.families.includes(t.family),
  );
  const byFamily = new Map();
  for (const t of tests) {
    if (!byFamily.has(t.family)) byFamily.set(t.family, []);
    byFamily.get(t.family).push(t);
  }
  const ledgerBefore = await ledgerCount(lab);
  const rejects = new Map();
  const results = [];
  const t0 = performance.now();
  for (const [family, list] of [...byFamily].sort()) {
    let kept = 0;
    for (const t of spread(list)) {
      if (opts.limit > 0 && kept >= opts.limit) break;
      const why = t.skip ?? (!expectedIds(t.stage) ? "expects no rule match" : null);
      const conv = why ? { skip: why } : toRequest(t.stage, base);
      if (conv.skip) {
        rejects.set(conv.skip, (rejects.get(conv.skip) ?? 0) + 1);
        continue;
      }
      const gt = await groundTruth(conv.req);
      if (gt.reject) {
        rejects.set(gt.reject, (rejects.get(gt.reject) ?? 0) + 1);
        continue;
      }
      kept++;
      const report = await lib.investigate(conv.req, {
        maxProbes: MAX_PROBES,
        allowSideEffects: opts.consent,
        timeoutMs: 10_000,
        ratePerSecond: RATE,
        requestIds: true,
      });
      const s = score(report, gt.part);
      results.push({
        family,
        title: t.title,
        part: { location: gt.part.location, name: gt.part.name, text: gt.part.text },
        ...s,
      });
      if (opts.verbose || process.env.BENCH_CRS_VERBOSE)
        process.stderr.write(
          `${t.title}: truth ${gt.part.location} ${gt.part.name ?? ""} | ${s.cause} ${s.trigger ? `${s.trigger.location} ${s.trigger.name ?? ""} "${String(s.trigger.minimal).slice(0, 60)}"` : "no trigger"} | ${s.probes} probes${s.waf && s.location && s.name && s.minimal ? "" : "  <-- miss"}\n`,
        );
    }
  }
  const ledgerAfter = await ledgerCount(lab);
  printResults(results, rejects, opts, ledgerBefore, ledgerAfter, performance.now() - t0);
  const out = {
    server: opts.server,
    results,
    rejects: Object.fromEntries(rejects),
    ledgerBefore,
    ledgerAfter,
  };
  if (opts.json) (await import("node:fs")).writeFileSync(opts.json, JSON.stringify(out, null, 2));
  return out;
}

function pct(k, n) {
  return n ? `${k}/${n} ${((100 * k) / n).toFixed(0)}%` : "-";
}

function printResults(results, rejects, opts, before, after, wall) {
  const families = [...new Set(results.map((r) => r.family))].sort();
  const rows = [];
  const line = (label, rs) => [
    label,
    rs.length,
    pct(rs.filter((r) => r.waf).length, rs.length),
    pct(rs.filter((r) => r.location).length, rs.length),
    pct(rs.filter((r) => r.name).length, rs.length),
    pct(rs.filter((r) => r.minimal).length, rs.length),
    rs.length ? median(rs.map((r) => r.probes)) : "-",
    [...new Set(rs.map((r) => r.part.location))].join(","),
  ];
  for (const f of families)
    rows.push(
      line(
        f,
        results.filter((r) => r.family === f),
      ),
    );
  rows.push(line("all", results));
  table(
    ["family", "cases", "cause waf", "location", "name", "minimal in payload", "probes (med)", "parts"],
    rows,
    [0, 7],
  );
  const moved = before === null || after === null ? "unknown (ledger unreadable)" : String(after - before);
  note(
    `server: ${opts.server === "apache" ? "Apache 2.4 + ModSecurity 2.9 + CRS 3.3.4, PL1" : "nginx + ModSecurity v3 + CRS 3.3.4, PL1"}; ledger movement on the lab app: ${moved} (aim 0)`,
  );
  note(
    `mode: as a user runs it (no server logs, ${opts.consent ? "--allow-side-effects" : "default: side effects not allowed"}, ${RATE} requests/s); ` +
      `cases per family: ${opts.limit > 0 ? `first ${opts.limit} kept (--limit, BENCH_CRS_LIMIT)` : "all"}; wall ${(wall / 1000).toFixed(0)} s`,
  );
  note(`aims per family: cause waf >= 95%, location >= 95%, minimal >= 90%, median probes <= 12, ledger 0`);
  const rej = [...rejects].sort((a, b) => b[1] - a[1]).map(([k, v]) => `${k}: ${v}`);
  if (rej.length) note(`tests not kept: ${rej.join("; ")}`);
}

/** `npm run bench` part. */
export async function crsSuite() {
  await runCrs(process.env.BENCH_CRS_ARGS ? process.env.BENCH_CRS_ARGS.split(/\s+/) : []);
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? "").href) {
  try {
    await runCrs(process.argv.slice(2));
  } catch (err) {
    process.stderr.write(`crs bench: ${err?.message ?? err}\n`);
    process.exit(2);
  }
}
