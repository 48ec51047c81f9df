// The generated-space bench: every instance of generate.mjs on real servers (its own
// nginx, HAProxy, Caddy and Squid fronts, Node, Django and Flask applications; the lab's
// Apache + ModSecurity + CRS for firewall cases), each verified to refuse and to pass its
// control, then diagnosed by the engine as a user would run it (default mode, no server
// files). Prints, per cause, per front, per application and overall, accuracy, top-2
// accuracy, abstention, Brier score and expected calibration error, with a reliability
// table, on held-out seeds; writes the same with the reliability diagram to
// bench/.out/space.html.
//
//   node bench/space/run.mjs                 # the bench part (fit and test seeds below)
//   node bench/space/run.mjs --fit           # also writes data/calibration.json from the fit seeds
//   node bench/space/run.mjs --refit         # refits from the raw runs the last --fit cached
//   node bench/space/run.mjs --verify        # only checks every instance refuses and passes its control
//   SPACE_N=33 node bench/space/run.mjs      # instances per seed (default 77: 7 per cause)
import { existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { request as httpRequest } from "node:http";
import { join, resolve } from "node:path";
import { startLab, stopLabAndWait } from "../../lab/lab.mjs";
import { library, note, table } from "../stats.mjs";
import {
  fitCalibration,
  groupScores,
  reliability,
  scoreCells,
  scoreRuns,
  withCalibration,
} from "./calibration.mjs";
import { generateSpace } from "./generate.mjs";
import { spaceHtml } from "./report.mjs";
import {
  startSpaceApp,
  startSpaceCaddy,
  startSpaceHaproxy,
  startSpaceNginx,
  startSpacePython,
  startSpaceSquid,
  tokenFor,
} from "./servers.mjs";

const FIT_SEEDS = [11, 12, 13];
const TEST_SEEDS = [21, 22, 23];
const PER_SEED = Number(process.env.SPACE_N ?? 77);
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
  if (variant === "control" && c.withToken) {
    const form = await withCsrfToken(base, req.path, body);
    body = form.body;
    if (form.cookie) headers.push(["Cookie", form.cookie]);
  }
  const token = variant === "control" && c.token ? c.token : req.token;
  if (token) {
    const t = await tokenFor(token, inst.app.scope);
    if (t) headers.push(["Authorization", `Bearer ${t}`]);
  }
  const key = variant === "control" && c.quotaKey ? c.quotaKey : req.quotaKey;
  if (key) headers.push([inst.app.header, key]);
  const basic = variant === "control" && c.basic ? c.basic : req.basic;
  if (basic)
    args.push("-u", `${inst.rule.user}:${basic === "right" ? inst.rule.password : `${inst.rule.password}x`}`);
  if (method !== (body ? "POST" : "GET")) args.push("-X", method);
  for (const [n, v] of headers) args.push("-H", `${n}: ${v}`);
  if (body !== null) args.push("--data-raw", body);
  if (req.follow && variant !== "control") args.push("-L");
  return args;
}

/** The CSRF control loads the form first, as a browser would, and keeps its cookies. */
async function withCsrfToken(base, path, body) {
  const page = await send(`${base}${path}`, "GET", [], null);
  const m = /name="([^"]+)" value="([^"]+)"/.exec(page.body);
  const cookie = [page.headers["set-cookie"] ?? []]
    .flat()
    .map((c) => c.split(";")[0])
    .join("; ");
  return { body: `${body}&${encodeURIComponent(m[1])}=${encodeURIComponent(m[2])}`, cookie };
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

async function diagnoseInstance(lib, inst, servers) {
  const req = lib.parseCurlArgs(await curlArgs(inst, servers.base(inst), "request"));
  const before = await servers.executedTotal();
  const report = await lib.investigate(req, { maxProbes: 30, ratePerSecond: 200, timeoutMs: 10_000 });
  const executed = (await servers.executedTotal()) - before;
  return {
    id: inst.id,
    seed: inst.seed,
    truth: inst.cause,
    front: inst.front,
    app: inst.app?.framework ?? null,
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
  const run = join(root, ".run", "space");
  const started = [];
  try {
    const express = await startSpaceApp(instances);
    started.push(express);
    const django = await startSpacePython("django", instances, join(run, "django"));
    started.push(django);
    const flask = await startSpacePython("flask", instances, join(run, "flask"));
    started.push(flask);
    const ports = { express: express.port, django: django.port, flask: flask.port };
    const on = (front) => instances.filter((i) => i.front === front);
    const fronts = {};
    for (const [front, start] of Object.entries(FRONT_STARTERS)) {
      fronts[front] = await start(on(front), join(run, front), ports);
      started.push(fronts[front]);
    }
    const apps = [express, django, flask];
    const labLedger = async () => {
      const r = await send(`${lab.apps.node.ledgerUrl}`, "GET", [], null);
      return JSON.parse(r.body).count;
    };
    const url = (port) => `http://127.0.0.1:${port}`;
    return {
      base: (inst) => {
        if (inst.front === "apache-crs") return lab.apache.url;
        if (inst.front === "none") return url(ports[inst.app.framework]);
        return url(fronts[inst.front].port);
      },
      executedTotal: async () =>
        (await Promise.all(apps.map((a) => a.executed()))).reduce((a, b) => a + b, 0) + (await labLedger()),
      stop: async () => {
        for (const s of started.reverse()) await s.stop();
        await stopLabAndWait(lab.runDir);
      },
    };
  } catch (err) {
    for (const s of started.reverse()) await s.stop();
    await stopLabAndWait(lab.runDir);
    throw err;
  }
}

const FRONT_STARTERS = {
  nginx: startSpaceNginx,
  haproxy: startSpaceHaproxy,
  caddy: startSpaceCaddy,
  squid: startSpaceSquid,
};

/** Raw runs of the last --fit, so the map can be refit (--refit) without rerunning the servers. */
const RAW_CACHE = resolve("bench/.out/space-raw.json");

export async function runSpace({ fit = false, refit = false, verifyOnly = false, log = note } = {}) {
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
      const why = await verify(lib, inst, servers.base(inst));
      if (why) {
        dropped.push(`${inst.id} ${inst.cause}/${inst.front}/${inst.app?.framework ?? "-"}: ${why}`);
        continue;
      }
      if (verifyOnly) continue;
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
  let rawTestRuns;
  if (fit) {
    const map = fitCalibration(fitRuns);
    log("held-out seeds before calibration:");
    printSpace({ testRuns });
    rawTestRuns = testRuns;
    testRuns = withCalibration(testRuns, map, await library());
    log("held-out seeds with the map fitted on the fit seeds:");
    const out = {
      $comment: `Fit by bench/space/run.mjs --fit on seeds ${FIT_SEEDS.join(", ")} (${fitRuns.length} instances); held-out seeds ${TEST_SEEDS.join(", ")}.`,
      ...map,
    };
    // One knot per line, as the file is read by people too.
    const text = JSON.stringify(out, null, 2).replace(/\[\s+([\d.]+),\s+([\d.]+)\s+\]/g, "[$1, $2]");
    writeFileSync(resolve("data/calibration.json"), `${text}\n`);
    log("wrote data/calibration.json");
  }
  return { runs, testRuns, rawTestRuns, fitRuns, dropped };
}

const scoreHeaders = ["n", "accuracy", "top-2", "abstained", "Brier", "ECE"];

/** Prints the held-out figures and writes them, with the reliability diagram, as HTML. */
export function printSpace({ testRuns, rawTestRuns }) {
  const s = scoreRuns(testRuns);
  const rows = [...s.byCause.entries()].map(([cause, c]) => [cause, ...scoreCells(c)]);
  rows.push(["all", ...scoreCells(s)]);
  table(["cause", ...scoreHeaders], rows, [0]);
  note(`expected calibration error (held-out seeds): ${s.ece.toFixed(3)} (aim ≤ 0.05)`);
  for (const [label, key] of [
    ["front", (r) => r.front],
    ["application", (r) => r.app ?? "(front refuses)"],
  ])
    table(
      [label, ...scoreHeaders],
      [...groupScores(testRuns, key).entries()].map(([k, c]) => [k, ...scoreCells(c)]),
      [0],
    );
  const wrong = testRuns.filter((r) => r.verdict !== r.truth);
  if (process.env.SPACE_VERBOSE)
    for (const r of wrong)
      note(
        `${r.id} ${r.truth}/${r.front}/${r.app ?? "-"} → ${r.verdict ?? "none"} [${r.candidates.map((c) => `${c.cause} ${c.confidence}`).join(", ")}]\n      ${r.why.join("\n      ")}`,
      );
  note(
    `executions beyond the replay on the applications: ${testRuns.reduce((a, r) => a + r.extraExecutions, 0)}`,
  );
  const bins = reliability(testRuns);
  table(
    ["confidence bin", "n", "mean confidence", "accuracy", "below lower edge"],
    bins.map((b) => [
      `${b.lo}–${b.hi}%`,
      String(b.n),
      b.n ? pct(b.meanConfidence) : "—",
      b.n ? pct(b.accuracy) : "—",
      b.n && b.accuracy < b.lo / 100 ? "yes" : "",
    ]),
    [0],
  );
  const html = resolve("bench/.out/space.html");
  mkdirSync(resolve("bench/.out"), { recursive: true });
  writeFileSync(html, spaceHtml({ testRuns, rawTestRuns }));
  note(`report with the reliability diagram: ${html}`);
}

const pct = (x) => `${Math.round(x * 100)}%`;

if (import.meta.url === `file://${process.argv[1]}`) {
  const refit = process.argv.includes("--refit");
  const verifyOnly = process.argv.includes("--verify");
  const result = await runSpace({ fit: refit || process.argv.includes("--fit"), refit, verifyOnly });
  if (verifyOnly) for (const d of result.dropped) note(`dropped ${d}`);
  else printSpace(result);
}
