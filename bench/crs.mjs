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
//        [--json out.json] [--verbose] [--allow-side-effects] [--bare] [--test 942100-1,…]
//        (build first: npm run build)
//
// --bare drops the operator's decoy line from the server's config (Apache
// `ProxyPass /.well-known/why403/ !`, nginx `location ^~ /.well-known/why403/`) and
// reloads it: every path then goes to the app, as on a site with a catch-all proxy,
// and no decoy can be shown inert.
import { execFileSync } from "node:child_process";
import { readFileSync, rmSync, writeFileSync } from "node:fs";
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
    bare: false,
    tests: [],
  };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a === "--family") o.families.push(...argv[++i].split(","));
    else if (a === "--limit") o.limit = Number(argv[++i]);
    else if (a === "--server") o.server = argv[++i];
    else if (a === "--json") o.json = argv[++i];
    else if (a === "--verbose" || a === "-v") o.verbose = true;
    else if (a === "--probes") o.probes = true;
    else if (a === "--allow-side-effects") o.consent = true;
    else if (a === "--bare") o.bare = true;
    else if (a === "--test") o.tests.push(...argv[++i].split(","));
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

/**
 * Non-safe requests the app has logged (its JSON-lines log, one line per request
 * answered): counted before and after each run, what the app could have executed.
 * Not matched by request id: nginx replaces X-Request-Id with its own.
 */
function appExecutions(logPath) {
  let text;
  try {
    text = readFileSync(logPath, "utf8");
  } catch {
    return 0;
  }
  let n = 0;
  for (const line of text.split("\n")) {
    const m = /"method":"([^"]+)"/.exec(line);
    if (m && !["GET", "HEAD", "OPTIONS"].includes(m[1].toUpperCase())) n++;
  }
  return n;
}

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

/** Status and body of a GET on `url`, or null. */
async function peek(url) {
  try {
    const r = await fetch(url, { redirect: "manual" });
    return { status: r.status, body: await r.text() };
  } catch {
    return null;
  }
}

/**
 * Removes the operator's decoy line from the lab server's config and reloads it, then
 * waits until a decoy path is answered by someone else than before (the app).
 */
async function dropDecoyLine(lab, which) {
  const info = which === "apache" ? lab.apache : lab.nginxModsec;
  const decoy = `${info.url}/.well-known/why403/bench-probe`;
  const served = await peek(decoy);
  const before = readFileSync(info.conf, "utf8");
  const after =
    which === "apache"
      ? before.replace(/^ProxyPass \/\.well-known\/why403\/ !\n/m, "")
      : before.replace(/^\s*location \^~ \/\.well-known\/why403\/ \{[^}]*\}\n/m, "");
  if (after === before) throw new Error(`--bare: no decoy line found in ${info.conf}`);
  writeFileSync(info.conf, after);
  if (which === "apache") execFileSync("/usr/sbin/apache2", ["-f", info.conf, "-k", "graceful"]);
  else {
    const dir = info.conf.replace(/nginx\.conf$/, "");
    execFileSync("/usr/sbin/nginx", ["-p", dir, "-e", info.errorLog, "-c", info.conf, "-s", "reload"]);
  }
  for (let i = 0; i < 100; i++) {
    const r = await peek(decoy);
    if (r && r.body !== served?.body) return;
    await sleep(100);
  }
  throw new Error("--bare: the server still answers the decoy prefix itself after the reload");
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
  if (opts.bare) await dropDecoyLine(lab, opts.server);
  const tests = loadCrsTests(dir).filter(
    (t) =>
      (opts.families.length === 0 || opts.families.includes(t.family)) &&
      (opts.tests.length === 0 || opts.tests.includes(t.title)),
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
      // The app logs once its answer is sent, which can be after the client has read it:
      // let the ground truth's own requests land in the log first.
      await sleep(150);
      const executedBefore = appExecutions(lab.apps.node.log);
      const report = await lib.investigate(conv.req, {
        maxProbes: MAX_PROBES,
        allowSideEffects: opts.consent,
        timeoutMs: 10_000,
        ratePerSecond: RATE,
        requestIds: true,
      });
      await sleep(150);
      const executed = appExecutions(lab.apps.node.log) - executedBefore;
      const s = { ...score(report, gt.part), executed };
      if (opts.probes)
        for (const p of report.probes)
          process.stderr.write(
            `   ${p.method} ${p.url.replace(base, "")} [${p.safety}] ${p.purpose} → ${p.status ?? "-"} ${p.finding ?? ""}\n`,
          );
      results.push({
        family,
        title: t.title,
        part: { location: gt.part.location, name: gt.part.name, text: gt.part.text },
        ...s,
      });
      if (opts.verbose || process.env.BENCH_CRS_VERBOSE)
        process.stderr.write(
          `${t.title}: truth ${gt.part.location} ${gt.part.name ?? ""} | ${s.cause} ${s.trigger ? `${s.trigger.location} ${s.trigger.name ?? ""} "${String(s.trigger.minimal).slice(0, 60)}"` : "no trigger"} | ${s.probes} probes${s.executed ? `, ${s.executed} EXECUTED by the app` : ""}${s.waf && s.location && s.name && s.minimal ? "" : "  <-- miss"}\n`,
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
    rs.reduce((sum, r) => sum + r.executed, 0),
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
    [
      "family",
      "cases",
      "cause waf",
      "location",
      "name",
      "minimal in payload",
      "probes (med)",
      "app executed",
      "parts",
    ],
    rows,
    [0, 8],
  );
  const moved = before === null || after === null ? "unknown (ledger unreadable)" : String(after - before);
  note(
    `server: ${opts.server === "apache" ? "Apache 2.4 + ModSecurity 2.9 + CRS 3.3.4, PL1" : "nginx + ModSecurity v3 + CRS 3.3.4, PL1"}; ledger movement on the lab app: ${moved}; non-safe requests the app logged during the runs: ${results.reduce((sum, r) => sum + r.executed, 0)} (aim 0 for both)${opts.bare ? "; --bare: the decoy line removed, every path goes to the app" : "; the decoy prefix is answered by the server itself (the operator's one config line)"}`,
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
