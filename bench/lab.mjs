// Lab scenarios: for each refusal of the real-server lab (lab/lab.mjs) and of the
// embedded demo lab, probes sent and wall time to a verdict (median of several
// runs), beside one plain replay of the same request timed in the same run.
import { request as httpRequest } from "node:http";
import { resolve } from "node:path";
import { pathToFileURL } from "node:url";
import { library, median, ms, note, table } from "./stats.mjs";

const RUNS = Math.max(1, Number(process.env.BENCH_LAB_RUNS ?? 3));
/** Pacing for the bench (the CLI's default is 5/s; the e2e tests use 50/s too). */
const RATE = Number(process.env.BENCH_RATE ?? 50);
const MAX_PROBES = 30;

/** One plain request, as curl would send it once (no redirects followed). */
function plainReplay(req) {
  return new Promise((resolveP, reject) => {
    const url = new URL(req.url);
    const headers = {};
    for (const [n, v] of req.headers) headers[n] = n in headers ? `${headers[n]}, ${v}` : v;
    if (req.body && !Object.keys(headers).some((h) => h.toLowerCase() === "content-length"))
      headers["content-length"] = String(req.body.length);
    // With curl -x, send the absolute URL to the proxy, as curl does.
    const proxy = req.options.proxy ? new URL(req.options.proxy) : null;
    const target = proxy
      ? { hostname: proxy.hostname, port: proxy.port, path: url.href }
      : { hostname: url.hostname, port: url.port, path: url.pathname + url.search };
    const t0 = performance.now();
    const r = httpRequest({ method: req.method, ...target, headers, agent: false }, (res) => {
      res.resume();
      res.on("end", () => resolveP({ ms: performance.now() - t0, status: res.statusCode }));
    });
    r.on("error", reject);
    r.setTimeout(10_000, () => r.destroy(new Error("timeout")));
    r.end(req.body ?? undefined);
  });
}

async function runScenarios(lib, scenarios, serverLogs) {
  const rows = [];
  const summary = { contentFree: [], content: [], right: 0, judged: 0 };
  for (const sc of scenarios) {
    try {
      rows.push(await runScenario(lib, sc, summary, serverLogs));
    } catch (err) {
      rows.push([sc.name, sc.content ? "yes" : "no", `error: ${String(err?.message ?? err).split("\n")[0]}`]);
    }
  }
  printTable(rows, summary);
}

async function runScenario(lib, sc, summary, serverLogs) {
  {
    const req = lib.parseCurlArgs(sc.curl);
    const probes = [];
    const walls = [];
    const replays = [];
    let verdict = null;
    let trigger = null;
    let status = null;
    for (let k = 0; k < RUNS; k++) {
      if (sc.before) await sc.before();
      const rp = await plainReplay(req);
      replays.push(rp.ms);
      status = rp.status;
      const logs = sc.logs ?? [];
      const t0 = performance.now();
      const report = await lib.investigate(req, {
        maxProbes: MAX_PROBES,
        allowSideEffects: false,
        timeoutMs: 10_000,
        ratePerSecond: RATE,
        requestIds: true,
        serverEvidence: logs.length
          ? async (requestIds) => (await lib.evidenceFromLogs(logs, { requestIds })).evidence
          : undefined,
      });
      walls.push(performance.now() - t0);
      probes.push(report.probes.length);
      verdict = report.verdict?.cause ?? "none";
      trigger = report.trigger ? `${report.trigger.location} ${report.trigger.name ?? ""}`.trim() : null;
    }
    const p = median(probes);
    const w = median(walls);
    const base = median(replays);
    const ok = sc.expected == null || verdict === sc.expected;
    if (sc.expected != null && ok) summary.right++;
    if (sc.expected != null) summary.judged++;
    (sc.content ? summary.content : summary.contentFree).push(p);
    return [
      sc.name,
      sc.content ? "yes" : "no",
      `${sc.expected == null ? "(no expectation)" : ok ? "ok" : "WRONG"} ${verdict}${ok ? "" : ` (want ${sc.expected})`}`,
      String(status),
      p,
      `${Math.min(...probes)}-${Math.max(...probes)}`,
      ms(w),
      ms(base),
      `${(w / base).toFixed(0)}x`,
      `${(p ? w / p : 0).toFixed(1)} ms`,
      [serverLogs && sc.logs ? "server logs" : "", trigger ? `trigger ${trigger}` : ""]
        .filter(Boolean)
        .join("; "),
    ];
  }
}

function printTable(rows, summary) {
  table(
    [
      "scenario",
      "content?",
      "verdict",
      "status",
      `probes (med of ${RUNS})`,
      "range",
      "wall to verdict",
      "plain replay",
      "wall/replay",
      "per probe",
      "notes",
    ],
    rows,
    [0, 1, 2, 10],
  );
  const medFree = summary.contentFree.length ? median(summary.contentFree) : null;
  const medContent = summary.content.length ? median(summary.content) : null;
  note(
    `${summary.right}/${summary.judged} verdicts as expected; median probes for causes that do not depend on content: ` +
      `${medFree ?? "-"} (aim <= 10); for content-dependent ones: ${medContent ?? "-"}`,
  );
  note(
    `"content?": the refusal follows the request's content (body, query or a header value), so a trigger search runs. ` +
      `Pacing ${RATE} requests/s (BENCH_RATE; the CLI default is 5/s), runs per scenario ${RUNS} (BENCH_LAB_RUNS).`,
  );
}

async function post(url, headers, body) {
  await fetch(url, { method: "POST", headers, body })
    .then((r) => r.arrayBuffer())
    .catch(() => undefined);
}

function realScenarios(lab, tokens) {
  const app = lab.apps.node.url;
  const ngx = lab.nginx.url;
  const apa = lab.apache.url;
  const host = ["-H", "Host: lab.test"];
  const ngxLogs = [lab.nginx.errorLog, lab.nginx.accessLog];
  const apaLogs = [lab.apache.errorLog, lab.apache.accessLog];
  const json = ["-H", "content-type: application/json", "--data-raw"];
  const big = {};
  for (let i = 0; i < 45; i++) big[`field${i}`] = `value number ${i}`;
  big.profile = { name: "Ada", address: { city: "Paris", notes: "1' OR '1'='1' --" } };
  return [
    {
      name: "app: CSRF token missing",
      expected: "csrf",
      curl: [
        `${app}/form/comment`,
        "-H",
        "content-type: application/x-www-form-urlencoded",
        "-H",
        `origin: ${app}`,
        "-H",
        `referer: ${app}/form/comment`,
        "--data-raw",
        "comment=hello",
      ],
    },
    {
      name: "app: no Authorization",
      expected: "credentials-invalid",
      curl: [`${app}/api/orders`, ...json, '{"sku":"A-1","qty":1}'],
    },
    {
      name: "app: expired JWT",
      expected: "credentials-invalid",
      curl: [
        `${app}/api/orders`,
        "-H",
        `authorization: Bearer ${tokens.expired}`,
        ...json,
        '{"sku":"A-1","qty":1}',
      ],
    },
    {
      name: "app: JWT lacks the write scope",
      expected: "insufficient-permission",
      curl: [
        `${app}/api/orders`,
        "-H",
        `authorization: Bearer ${tokens.readOnly}`,
        ...json,
        '{"sku":"A-1","qty":1}',
      ],
    },
    {
      name: "app: rate limit answered with 403",
      expected: "rate-limit",
      curl: [`${app}/api/messages`, "-H", "x-client-id: bench-rate", ...json, '{"text":"hi"}'],
      before: async () => {
        for (let i = 0; i < 4; i++)
          await post(
            `${app}/api/messages`,
            { "x-client-id": "bench-rate", "content-type": "application/json" },
            "{}",
          );
      },
    },
    {
      name: "app: business rule (amount)",
      expected: "app-logic",
      content: true,
      curl: [`${app}/api/transfers`, ...json, '{"amount":5000,"to":"DE02120300000000202051"}'],
    },
    {
      name: "app: Origin refused",
      expected: "cors",
      curl: [`${app}/api/profile`, "-H", "origin: http://evil.test", ...json, '{"name":"Ada"}'],
    },
    {
      name: "app: curl -L turns POST into GET",
      expected: "redirect-method-change",
      curl: [`${app}/api/legacy`, "-L", "-d", "a=1"],
    },
    {
      name: "nginx: allow/deny (/admin/)",
      expected: "ip-restriction",
      curl: [`${ngx}/admin/`, ...host],
      logs: ngxLogs,
    },
    {
      name: "nginx: limit_except (POST /upload)",
      expected: "server-config",
      curl: [`${ngx}/upload`, ...host, "-F", "file=@package.json"],
      logs: ngxLogs,
    },
    {
      name: "nginx: if ($http_x_debug) return 403",
      expected: "server-config",
      content: true,
      curl: [`${ngx}/reports/`, ...host, "-H", "X-Debug: 1"],
      logs: ngxLogs,
    },
    {
      name: "nginx: if ($arg_format = raw) return 403",
      expected: "server-config",
      content: true,
      curl: [`${ngx}/reports/?format=raw`, ...host],
      logs: ngxLogs,
    },
    {
      name: "nginx: directory without index (-L)",
      expected: "server-config",
      curl: [`${ngx}/static/docs`, "-L"],
      logs: ngxLogs,
    },
    {
      name: "nginx: file mode 000",
      expected: "fs-permission",
      curl: [`${ngx}/private/secret.txt`, ...host],
      logs: ngxLogs,
    },
    {
      name: "CRS: SQLi deep in a 50-field JSON body",
      expected: "waf",
      content: true,
      curl: [`${apa}/api/items`, ...host, ...json, JSON.stringify(big)],
      logs: apaLogs,
    },
    {
      name: "CRS: XSS in a form field",
      expected: "waf",
      content: true,
      curl: [
        `${apa}/contact`,
        ...host,
        "-H",
        "content-type: application/x-www-form-urlencoded",
        "--data-raw",
        "name=Ada&email=ada%40example.org&message=%3Cscript%3Ealert(1)%3C%2Fscript%3E",
      ],
      logs: apaLogs,
    },
    {
      name: "CRS: scanner User-Agent",
      expected: "waf",
      content: true,
      curl: [`${apa}/api/items`, ...host, "-A", "sqlmap/1.7", ...json, '{"a":1}'],
      logs: apaLogs,
    },
    {
      name: "Apache: RewriteRule [F]",
      expected: "server-config",
      curl: [`${apa}/rewrite-blocked/x`, ...host],
      logs: apaLogs,
    },
    {
      name: "Apache: Require ip (/apache-admin/)",
      expected: "ip-restriction",
      curl: [`${apa}/apache-admin/`, ...host],
      logs: apaLogs,
    },
    ...extraServers(lab, json),
  ];
}

/** Servers added to the lab later (HAProxy, Caddy, Squid, Django); each only when the lab has it. */
function extraServers(lab, json) {
  const out = [];
  const get = async (url, n) => {
    for (let i = 0; i < n; i++)
      await fetch(url)
        .then((r) => r.arrayBuffer())
        .catch(() => undefined);
  };
  if (lab.haproxy) {
    const h = lab.haproxy;
    out.push(
      {
        name: "HAProxy: ACL on /internal",
        expected: "ip-restriction",
        curl: [`${h.url}/internal/stats`],
        logs: [h.log],
      },
      {
        name: "HAProxy: stick-table 429 on /api/burst",
        expected: "rate-limit",
        curl: [`${h.url}/api/burst`, ...json, '{"n":1}'],
        logs: [h.log],
        before: () => get(`${h.url}/api/burst`, 8),
      },
    );
  }
  if (lab.caddy) {
    const c = lab.caddy;
    out.push(
      {
        name: "Caddy: respond 403 on /wp-login.php",
        expected: "server-config",
        curl: [`${c.url}/wp-login.php`, "-d", "log=admin&pwd=x"],
        logs: [c.accessLog],
      },
      {
        name: "Caddy: POST /uploads/* refused",
        expected: "server-config",
        curl: [`${c.url}/uploads/a.txt`, "-d", "hello"],
        logs: [c.accessLog],
      },
    );
  }
  if (lab.squid) {
    out.push({
      name: "Squid: http_access deny !lab_ports",
      expected: null,
      curl: ["-x", lab.squid.url, `${lab.nginx.url}/`],
      logs: [lab.squid.accessLog],
    });
  }
  if (lab.apps?.django) {
    const d = lab.apps.django.url;
    out.push({
      name: "Django: CSRF token missing",
      expected: "csrf",
      curl: [
        `${d}/form/comment`,
        "-H",
        "content-type: application/x-www-form-urlencoded",
        "-H",
        `referer: ${d}/form/`,
        "--data-raw",
        "comment=hello",
      ],
    });
  }
  return out;
}

export async function realLab() {
  const lib = await library();
  const labModule = resolve("lab/lab.mjs");
  const { startLab, stopLabAndWait } = await import(pathToFileURL(labModule).href);
  let lab;
  const t0 = performance.now();
  try {
    lab = await startLab({ root: resolve("."), name: "bench", owner: process.pid });
  } catch (err) {
    throw new Error(
      `the real-server lab did not start (${String(err.message).split("\n")[0]}); run lab/install.sh`,
    );
  }
  try {
    note(
      `lab started in ${ms(performance.now() - t0)} (${lab.runDir}); server logs given as --server-logs would`,
    );
    const tokens = await (await fetch(lab.apps.node.tokensUrl)).json();
    await runScenarios(lib, realScenarios(lab, tokens), true);
  } finally {
    await stopLabAndWait(lab.runDir);
  }
}

export async function demoLab() {
  const lib = await library();
  const lab = await lib.startDemoLab();
  try {
    const scenarios = lab.scenarios.map((s) => ({
      name: `demo: ${s.id}`,
      expected: s.expected,
      content: s.expected === "waf",
      curl: s.curl,
    }));
    await runScenarios(lib, scenarios, false);
  } finally {
    await lab.close();
  }
}
