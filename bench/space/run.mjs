// The generated-space bench: every instance of generate.mjs on real servers (its
// own nginx and Node app; the lab's Apache + ModSecurity + CRS for firewall cases),
// each verified to refuse and to pass its control, then diagnosed by the engine as a
// user would run it (default mode, no server files). Prints, per cause and overall,
// accuracy, top-2 accuracy, abstention, Brier score and expected calibration error
// with a reliability table, on held-out seeds.
//
//   node bench/space/run.mjs                 # the bench part (fit and test seeds below)
//   node bench/space/run.mjs --fit           # also writes data/calibration.json from the fit seeds
//   SPACE_N=60 node bench/space/run.mjs      # instances per seed
import { existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { request as httpRequest } from "node:http";
import { join, resolve } from "node:path";
import { startLab, stopLabAndWait } from "../../lab/lab.mjs";
import { library, note, table } from "../stats.mjs";
import { fitCalibration, reliability, scoreRuns, withCalibration } from "./calibration.mjs";
import { generateSpace } from "./generate.mjs";
import { startSpaceApp, startSpaceNginx, tokenFor } from "./servers.mjs";

const FIT_SEEDS = [11, 12, 13];
const TEST_SEEDS = [21, 22, 23];
const PER_SEED = Number(process.env.SPACE_N ?? 55);
const REFUSED = new Set([401, 403, 405, 419, 429, 451]);

/** The instance's request (or its control) as curl arguments. */
async function curlArgs(inst, base, variant) {
  const c = variant === "control" ? inst.control : {};
  const req = c.sameRequest || variant !== "control" ? inst.request : { ...inst.request, ...c };
  const args = [`${base}${c.sameRequest ? req.path : (c.path ?? req.path)}`];
  const method = c.sameRequest ? req.method : (c.method ?? req.method);
  const headers = [...(req.headers ?? [])];
  if (variant === "control" && c.headers) headers.splice(0, headers.length, ...c.headers);
  let body = null;
  // The control's replacement is made in the values, before encoding.
  const swap = (o) =>
    variant === "control" && c.replace
      ? Object.fromEntries(Object.entries(o).map(([k, v]) => [k, v === c.replace[0] ? c.replace[1] : v]))
      : o;
  if (req.json) {
    headers.push(["Content-Type", "application/json"]);
    body = JSON.stringify(swap(req.json));
  } else if (req.form) body = new URLSearchParams(swap(req.form)).toString();
  else if (req.body) body = req.body;
  if (method === "GET" && !(variant === "control" && c.form)) body = null;
  if (variant === "control" && c.form) body = new URLSearchParams(c.form).toString();
  if (variant === "control" && c.withToken) body = await withCsrfToken(base, req.path, body);
  const token = variant === "control" && c.token ? c.token : req.token;
  if (token) {
    const t = await tokenFor(token, inst.app.scope);
    if (t) headers.push(["Authorization", `Bearer ${t}`]);
  }
  const key = variant === "control" && c.quotaKey ? c.quotaKey : req.quotaKey;
  if (key) headers.push([inst.app.header, key]);
  const basic = variant === "control" && c.basic ? c.basic : req.basic;
  if (basic)
    args.push(
      "-u",
      `${inst.nginx.user}:${basic === "right" ? inst.nginx.password : `${inst.nginx.password}x`}`,
    );
  if (method !== (body ? "POST" : "GET")) args.push("-X", method);
  for (const [n, v] of headers) args.push("-H", `${n}: ${v}`);
  if (body !== null) args.push("--data-raw", body);
  if (req.follow && variant !== "control") args.push("-L");
  return args;
}

/** The CSRF control loads the form first, as a browser would. */
async function withCsrfToken(base, path, body) {
  const page = await send(`${base}${path}`, "GET", [], null);
  const m = /name="([^"]+)" value="([^"]+)"/.exec(page.body);
  return `${body}&${encodeURIComponent(m[1])}=${m[2]}`;
}

function send(url, method, headers, body, localAddress) {
  return new Promise((resolveP, reject) => {
    const u = new URL(url);
    const h = Object.fromEntries(headers);
    const r = httpRequest(
      {
        method,
        hostname: u.hostname,
        port: u.port,
        path: u.pathname + u.search,
        headers: h,
        localAddress,
        agent: false,
      },
      (res) => {
        const chunks = [];
        res.on("data", (c) => chunks.push(c));
        res.on("end", () =>
          resolveP({
            status: res.statusCode,
            body: Buffer.concat(chunks).toString("utf8"),
            headers: res.headers,
          }),
        );
      },
    );
    r.on("error", reject);
    r.setTimeout(10_000, () => r.destroy(new Error("timeout")));
    r.end(body ?? undefined);
  });
}

/** Sends a parsed request once (following redirects like curl -L), from `localAddress`. */
async function sendOnce(req, localAddress) {
  const headers = req.headers.filter(([n]) => n.toLowerCase() !== "content-length");
  let url = req.url;
  let method = req.method;
  let body = req.body;
  for (let hop = 0; hop < 5; hop++) {
    const r = await send(url, method, headers, body, localAddress);
    if (!req.options.followRedirects || ![301, 302, 303, 307, 308].includes(r.status)) return r;
    url = new URL(r.headers.location, url).href;
    if ([301, 302, 303].includes(r.status) && method === "POST") {
      method = "GET";
      body = null;
    }
  }
  throw new Error("too many redirects");
}

/** Refuses as generated, and its control passes: otherwise the instance is dropped. */
async function verify(lib, inst, base) {
  const req = lib.parseCurlArgs(await curlArgs(inst, base, "request"));
  const got = await sendOnce(req);
  if (!REFUSED.has(got.status)) return `request got ${got.status}`;
  const ctl = lib.parseCurlArgs(await curlArgs(inst, base, "control"));
  const passed = await sendOnce(ctl, inst.control.from);
  if (REFUSED.has(passed.status))
    return `control ${ctl.method} ${new URL(ctl.url).pathname} got ${passed.status} ${passed.body.slice(0, 60)}`;
  return null;
}

function baseFor(inst, servers) {
  if (inst.front === "apache-crs") return servers.apache;
  if (inst.front === "none") return servers.app;
  return servers.nginx;
}

async function diagnoseInstance(lib, inst, servers) {
  const req = lib.parseCurlArgs(await curlArgs(inst, baseFor(inst, servers), "request"));
  const before = servers.executedTotal();
  const report = await lib.investigate(req, { maxProbes: 30, ratePerSecond: 200, timeoutMs: 10_000 });
  const executed = servers.executedTotal() - before;
  return {
    id: inst.id,
    seed: inst.seed,
    truth: inst.cause,
    front: inst.front,
    verdict: report.verdict?.cause ?? null,
    confidence: report.verdict?.confidence ?? 0,
    candidates: report.candidates ?? [],
    probes: report.probes.length,
    why: report.verdict?.evidence ?? [],
    // The replay itself reaches the app once for app-served instances.
    extraExecutions: Math.max(0, executed - 1),
  };
}

async function startServers(instances, root) {
  const lab = await startLab({ root, name: "space" });
  const app = await startSpaceApp(instances);
  const nginx = await startSpaceNginx(instances, join(root, ".run", "space-nginx"), app.port);
  const labLedger = async () => {
    const r = await send(`${lab.apps.node.ledgerUrl}`, "GET", [], null);
    return JSON.parse(r.body).count;
  };
  let labCount = await labLedger();
  return {
    apache: lab.apache.url,
    nginx: `http://127.0.0.1:${nginx.port}`,
    app: `http://127.0.0.1:${app.port}`,
    executedTotal: () => [...app.executed.values()].reduce((a, b) => a + b, 0) + labCount,
    refreshLabLedger: async () => {
      labCount = await labLedger();
    },
    stop: async () => {
      nginx.stop();
      await app.close();
      await stopLabAndWait(lab.runDir);
    },
  };
}

/** Raw runs of the last --fit, so the map can be refit (--refit) without rerunning the servers. */
const RAW_CACHE = resolve("bench/.out/space-raw.json");

export async function runSpace({ fit = false, refit = false, log = note } = {}) {
  if (refit && existsSync(RAW_CACHE)) {
    const { runs, dropped } = JSON.parse(readFileSync(RAW_CACHE, "utf8"));
    return finish(runs, dropped, true, log);
  }
  // Fitting needs the engine's raw confidences; the map is then applied here, as the product would.
  if (fit) process.env.WHY403_UNCALIBRATED = "1";
  const lib = await library();
  const root = resolve(".");
  const seeds = [...FIT_SEEDS, ...TEST_SEEDS];
  const instances = seeds.flatMap((s) => generateSpace(s, PER_SEED));
  const servers = await startServers(instances, root);
  const runs = [];
  const dropped = [];
  try {
    for (const inst of instances) {
      const why = await verify(lib, inst, baseFor(inst, servers));
      if (why) {
        dropped.push(`${inst.id} ${inst.cause}/${inst.front}: ${why}`);
        continue;
      }
      await servers.refreshLabLedger();
      runs.push(await diagnoseInstance(lib, inst, servers));
      if (runs.length % 25 === 0) process.stderr.write(`space: ${runs.length} diagnosed\n`);
    }
  } finally {
    await servers.stop();
  }
  if (fit) {
    mkdirSync(resolve("bench/.out"), { recursive: true });
    writeFileSync(RAW_CACHE, JSON.stringify({ runs, dropped }));
  }
  return finish(runs, dropped, fit, log);
}

async function finish(runs, dropped, fit, log) {
  log(
    `${runs.length} instances verified and diagnosed (${dropped.length} dropped: ${dropped.slice(0, 5).join("; ")})`,
  );
  const fitRuns = runs.filter((r) => FIT_SEEDS.includes(r.seed));
  let testRuns = runs.filter((r) => TEST_SEEDS.includes(r.seed));
  if (fit) {
    const map = fitCalibration(fitRuns);
    log("held-out seeds before calibration:");
    printSpace({ testRuns });
    testRuns = withCalibration(testRuns, map, (await library()).interpolateKnots);
    log("held-out seeds with the map fitted on the fit seeds:");
    const out = {
      $comment: `Fit by bench/space/run.mjs --fit on seeds ${FIT_SEEDS.join(", ")} (${fitRuns.length} instances); held-out seeds ${TEST_SEEDS.join(", ")}.`,
      ...map,
    };
    writeFileSync(resolve("data/calibration.json"), `${JSON.stringify(out, null, 2)}\n`);
    log("wrote data/calibration.json");
  }
  return { runs, testRuns, fitRuns, dropped };
}

export function printSpace({ testRuns }) {
  const s = scoreRuns(testRuns);
  const rows = [...s.byCause.entries()].map(([cause, c]) => [
    cause,
    String(c.n),
    pct(c.accuracy),
    pct(c.top2),
    pct(c.abstain),
    c.brier.toFixed(3),
  ]);
  rows.push(["all", String(s.n), pct(s.accuracy), pct(s.top2), pct(s.abstain), s.brier.toFixed(3)]);
  table(["cause", "n", "accuracy", "top-2", "abstained", "Brier"], rows, [0]);
  note(`expected calibration error (held-out seeds): ${s.ece.toFixed(3)} (aim ≤ 0.05)`);
  const wrong = testRuns.filter((r) => r.verdict !== r.truth);
  if (process.env.SPACE_VERBOSE)
    for (const r of wrong)
      note(
        `${r.id} ${r.truth}/${r.front} → ${r.verdict ?? "none"} [${r.candidates.map((c) => `${c.cause} ${c.confidence}`).join(", ")}]\n      ${r.why.join("\n      ")}`,
      );
  note(
    `executions beyond the replay on the applications: ${testRuns.reduce((a, r) => a + r.extraExecutions, 0)}`,
  );
  table(
    ["confidence bin", "n", "accuracy"],
    reliability(testRuns).map((b) => [`${b.lo}–${b.hi}%`, String(b.n), b.n ? pct(b.accuracy) : "—"]),
    [0],
  );
}

const pct = (x) => `${Math.round(x * 100)}%`;

if (import.meta.url === `file://${process.argv[1]}`) {
  const refit = process.argv.includes("--refit");
  const result = await runSpace({ fit: refit || process.argv.includes("--fit"), refit });
  printSpace(result);
}
