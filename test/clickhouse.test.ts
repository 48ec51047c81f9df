// `why403 logs --clickhouse` and `why403 ship` against a real clickhouse-server
// (Debian's 18.16, started here on a loopback port with its own directory):
// the counts inside ClickHouse must equal the local path's on the same lines.
import { mkdirSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startClickHouse } from "../lab/clickhouse.mjs";
import { exportSource, generateTable } from "../lab/clickhouse-gen.mjs";
import { analyzeLogs } from "../src/evidence/logs/analyze.js";
import { analyzeClickHouse, shipLogs } from "../src/evidence/logs/clickhouse.js";
import { LINE_RULES } from "../src/evidence/logs/line-rules.js";
import { parseLogfmt } from "../src/evidence/logs/logfmt.js";
import { canRecord } from "../src/evidence/logs/push-down.js";
import { formatById, WRAPPERS } from "../src/evidence/logs/rules.js";
import type { LogsReport } from "../src/evidence/logs/types.js";
import { runCliAsync } from "./helpers/cli.js";

const PASSWORD = "ch-test-secret";
const DIR = join(process.cwd(), ".run", "clickhouse", `test-${process.pid}`);
/** Requests in the generated table (a bit more rows: error lines too). Two million by default. */
const GENERATED_REQUESTS = Number(process.env.WHY403_CH_TEST_REQUESTS ?? 2_000_000);

let server: { url: string; stop: () => Promise<void> };
/** The URL with the credentials in its userinfo. */
let authUrl: string;

beforeAll(async () => {
  server = await startClickHouse({ dir: DIR, password: PASSWORD });
  const u = new URL(server.url);
  u.username = "default";
  u.password = PASSWORD;
  authUrl = u.toString().replace(/\/$/, "");
}, 120_000);

afterAll(async () => {
  await server?.stop();
  rmSync(DIR, { recursive: true, force: true });
});

const F = "fixtures/logs";
/** Each set is read together (joins across its files), as `why403 logs a b` would. */
const FIXTURE_SETS: string[][] = [
  [`${F}/nginx/access.log`, `${F}/nginx/error.log`],
  [`${F}/nginx/access_rid.log`, `${F}/nginx/error.log`],
  [`${F}/apache/access.log`, `${F}/apache/error.log`],
  [`${F}/apache/access_custom.log`, `${F}/apache/error.log`],
  [`${F}/apache/access_vhost.log`, `${F}/apache/error.log`],
  [`${F}/apache/access_common.log`],
  [`${F}/coraza/coraza-text.log`],
  // Envelopes inside envelopes: ClickHouse once peeled one, and read three of these four refusals as none.
  [`${F}/nginx/error_nested_envelopes.log`],
  [
    `${F}/nginx/access.log`,
    `${F}/nginx/error.log`,
    `${F}/apache/access.log`,
    `${F}/apache/error.log`,
    `${F}/coraza/coraza-text.log`,
  ],
];

/** What both paths must agree on: every count, the files and the top lists (order of ties aside). */
function counts(r: LogsReport) {
  const sorted = (xs: Array<[string, number]>) =>
    [...xs].sort((a, b) => b[1] - a[1] || a[0].localeCompare(b[0]));
  return {
    denials: r.denials,
    byCause: Object.entries(r.byCause).sort(),
    files: r.files.map((f) => [f.path, f.format, f.lines, f.denials]).sort(),
    top: { paths: sorted(r.top.paths), clients: sorted(r.top.clients), rules: sorted(r.top.rules) },
  };
}

/**
 * The listed denials as sets (the local path lists them in the order it finalises
 * requests, ClickHouse by source and line): each one's deciding line and reading.
 */
function examples(r: LogsReport) {
  return r.entries.map((e) => JSON.stringify([e.file, e.line, e.cause, e.status, e.path, e.client])).sort();
}

describe("logs --clickhouse on the project's log fixtures", () => {
  it.each(FIXTURE_SETS.map((files, i) => [i, files] as const))(
    "set %i: the same counts as the local path",
    async (i, files) => {
      const table = `fixtures_${i}`;
      const shipped = await shipLogs(files, { url: authUrl, table });
      expect(shipped.files.map((f) => f.path)).toEqual(files);
      const local = await analyzeLogs(files, {});
      const inside = await analyzeClickHouse({ url: authUrl, table });
      expect(local.denials).toBeGreaterThan(0);
      expect(inside.engine).toBe("clickhouse");
      expect(counts(inside)).toEqual(counts(local));
      // Every denial listed (fewer than the limit here), each by the same deciding line:
      // locally a WAF's warnings once kept the lead over its "Access denied" line.
      expect(local.entries).toHaveLength(local.denials);
      expect(examples(inside)).toEqual(examples(local));
    },
  );

  it("every example line of the nginx and Apache error rule files, bare and in envelopes: the same counts as the local path", async () => {
    // The rule files (data/logs) are what both paths read: their own example
    // lines, unwrapped, must come out the same inside ClickHouse, rule by rule.
    mkdirSync(DIR, { recursive: true });
    const path = join(DIR, "rule-examples.log");
    const lines = ["nginx-error", "apache-error"].flatMap((id) => {
      const f = formatById(id);
      const examples = f.rules.flatMap((r) => r.spec.examples.map((e) => e.line));
      return examples.filter((line) => f.re?.test(line));
    });
    expect(lines.length).toBeGreaterThan(40);
    // The same lines inside the regex envelopes (CRI, classic syslog), and the envelopes' own examples.
    const wrapped = lines.flatMap((line) => [
      `2026-11-26T05:00:00.123456789Z stderr F ${line}`,
      `Nov 26 05:00:00 web1 httpd[2201]: ${line}`,
    ]);
    // (Only those holding a pushed-down format: a wrapped lighttpd or HAProxy line is read locally only.)
    const pushed = ["nginx-error", "apache-error"].map((id) => formatById(id).re as RegExp);
    const envelopes = WRAPPERS.flatMap((w) =>
      w.match ? w.examples.filter((e) => pushed.some((re) => re.test(e.inner ?? ""))).map((e) => e.line) : [],
    );
    expect(envelopes.length).toBeGreaterThan(3);
    writeFileSync(path, `${[...lines, ...wrapped, ...envelopes].join("\n")}\n`);
    await shipLogs([path], { url: authUrl, table: "rule_examples" });
    const local = await analyzeLogs([path], {});
    const inside = await analyzeClickHouse({ url: authUrl, table: "rule_examples" });
    expect(local.denials).toBeGreaterThan(3 * 30);
    expect(counts(inside)).toEqual(counts(local));
    rmSync(path, { force: true });
  });

  it.each(LINE_RULES.dataFormats.map((f) => f.id).concat(LINE_RULES.freeText.id))(
    "every example line of data format %s and its message families, bare and in envelopes: the same counts as the local path",
    async (id) => {
      // The generic branch of the SQL reads any regex format of data/logs/formats
      // with its families: each format's own examples and its rules' examples
      // (whole lines, envelopes included as written) must come out the same.
      mkdirSync(DIR, { recursive: true });
      const path = join(DIR, `data-examples-${id}.log`);
      const f = formatById(id);
      const own = (f.spec.examples ?? []).map((e) => e.line);
      const ruled = f.rules.flatMap((r) => r.spec.examples.map((e) => e.line));
      const bare = [...own, ...ruled].filter((line) => f.re?.test(line) && id !== "text");
      const wrapped = bare.flatMap((line) => [
        `2026-11-26T05:00:00.123456789Z stderr F ${line}`,
        `Nov 26 05:00:00 web1 proxy[2201]: ${line}`,
      ]);
      const envelopes = WRAPPERS.flatMap((w) =>
        w.match
          ? w.examples.filter((e) => e.inner !== undefined && f.re?.test(e.inner)).map((e) => e.line)
          : [],
      );
      const lines = [...own, ...ruled, ...wrapped, ...(id === "text" ? [] : envelopes)];
      expect(lines.length).toBeGreaterThan(0);
      writeFileSync(path, `${lines.join("\n")}\n`);
      const table = `data_examples_${id.replace(/\W+/g, "_")}`;
      await shipLogs([path], { url: authUrl, table });
      const local = await analyzeLogs([path], { limit: 1000 });
      const inside = await analyzeClickHouse({ url: authUrl, table });
      // Every format with a refusal example makes at least one denial (the w3c header lines make none).
      expect(local.denials > 0).toBe(
        canRecord(LINE_RULES.dataFormats.find((d) => d.id === id) ?? LINE_RULES.freeText),
      );
      expect(counts(inside)).toEqual(counts(local));
      // Each format's time reader: every second a local denial has holds the same denials inside ClickHouse.
      const seconds = new Set(
        local.entries.flatMap((e) => (e.time ? [Math.floor(Date.parse(e.time) / 1000)] : [])),
      );
      // (Free-text lines have a time only when they open with an ISO stamp; their envelopes' syslog stamps have no year.)
      expect(seconds.size > 0).toBe(local.denials > 0);
      for (const s of seconds) {
        const window = { since: new Date(s * 1000), until: new Date(s * 1000 + 999) };
        const a = await analyzeLogs([path], window);
        const b = await analyzeClickHouse({ url: authUrl, table }, window);
        expect([s, b.denials, b.byCause]).toEqual([s, a.denials, a.byCause]);
      }
      rmSync(path, { force: true });
    },
  );

  it("refused access lines with the same trailing fields and no request id stay separate requests", async () => {
    // Traefik's CLF lines end in `72 "Auth for …" "/dashboard/" 0ms`: no key=value id, so no join by id.
    mkdirSync(DIR, { recursive: true });
    const path = join(DIR, "same-tail.log");
    const line = (t: string) =>
      `10.0.0.2 - - [18/Nov/2018:21:34:${t} +0000] "GET /dashboard/ HTTP/2.0" 401 17 "-" "curl/8.5.0" 72 "Auth for frontend-0" "/dashboard/" 0ms`;
    writeFileSync(path, `${["30", "34", "50"].map(line).join("\n")}\n`);
    await shipLogs([path], { url: authUrl, table: "same_tail" });
    const local = await analyzeLogs([path], {});
    const inside = await analyzeClickHouse({ url: authUrl, table: "same_tail" });
    expect(local.denials).toBe(3);
    expect(counts(inside)).toEqual(counts(local));
    rmSync(path, { force: true });
  });

  it("fixture logs inside container and syslog envelopes: the same counts as the local path", async () => {
    mkdirSync(DIR, { recursive: true });
    const wrap = (file: string, envelope: (line: string) => string) => {
      const out = join(DIR, `wrapped-${file.replace(/\W+/g, "_")}`);
      const lines = readFileSync(file, "utf8").split("\n").filter(Boolean);
      writeFileSync(out, `${lines.map(envelope).join("\n")}\n`);
      return out;
    };
    const files = [
      wrap(`${F}/nginx/access.log`, (l) => `2026-11-26T05:00:00.5Z stdout F ${l}`),
      wrap(`${F}/nginx/error.log`, (l) => `web1 nginx[2101]: ${l}`),
      wrap(`${F}/apache/error.log`, (l) => `MESSAGE=${l}`),
    ];
    await shipLogs(files, { url: authUrl, table: "wrapped" });
    const local = await analyzeLogs(files, {});
    const inside = await analyzeClickHouse({ url: authUrl, table: "wrapped" });
    expect(local.denials).toBeGreaterThan(10);
    expect(counts(inside)).toEqual(counts(local));
    for (const f of files) rmSync(f, { force: true });
  });

  it("a file with lines only the local path reads (JSON, serial audit records) says so, with their counts", async () => {
    const files = [
      `${F}/app/pino.log`,
      `${F}/apache/modsec_audit_Native.log`,
      `${F}/nginx/access.log`,
      `${F}/app/logfmt.log`,
      `${F}/w3c/iis-own-fields.log`,
    ];
    await shipLogs(files, { url: authUrl, table: "local_only" });
    const inside = await analyzeClickHouse({ url: authUrl, table: "local_only" });
    const local = await analyzeLogs(files, {});
    // Counted here from the files themselves: lines opening with "{", and section-A lines.
    const text = (f: string) => readFileSync(f, "utf8").split("\n");
    const json = text(files[0] as string).filter((l) => l.startsWith("{")).length;
    const audits = text(files[1] as string).filter((l) => /^--[0-9a-zA-Z]{8,}-A--\s*$/.test(l)).length;
    // Bare logfmt lines, as the local reader takes them (the one in an envelope is not counted).
    const logfmt = text(files[3] as string).filter((l) => parseLogfmt(l) !== null).length;
    expect(json).toBeGreaterThan(0);
    expect(audits).toBeGreaterThan(0);
    expect(logfmt).toBe(5);
    // The local path finds denials in both, so the difference in counts is real and worth a word.
    for (const f of [files[0], files[1], files[3], files[4]])
      expect(local.files.find((x) => x.path === f)?.denials, f).toBeGreaterThan(0);
    expect(Object.fromEntries(inside.files.map((f) => [f.path, f.warning ?? null]))).toEqual({
      [files[0] as string]: expect.stringMatching(
        new RegExp(`not classified inside ClickHouse: ${json} JSON lines \\(`),
      ),
      [files[1] as string]: expect.stringMatching(
        new RegExp(`: ${audits} serial ModSecurity audit records? \\(`),
      ),
      [files[2] as string]: null,
      [files[3] as string]: expect.stringMatching(new RegExp(`: ${logfmt} logfmt lines \\(`)),
      // Two of its three #Fields: lists are its own; the third is IIS's default, which ClickHouse reads.
      [files[4] as string]: expect.stringMatching(/: the lines under 2 W3C #Fields: lists of their own \(/),
    });
  });

  it("the CLI: ship then logs --clickhouse --json (credentials from the environment), entries capped by --limit", async () => {
    const files = [`${F}/apache/access.log`, `${F}/apache/error.log`];
    const env = { CLICKHOUSE_USER: "default", CLICKHOUSE_PASSWORD: PASSWORD };
    const ship = await runCliAsync(["ship", ...files, "--clickhouse", server.url, "--table", "cli_t"], {
      env,
    });
    expect(ship.stderr).toBe("");
    expect(ship.code).toBe(0);
    expect(ship.stdout).toContain(`${files[0]}: 13 lines → cli_t`);
    const r = await runCliAsync(
      ["logs", "--clickhouse", server.url, "--table", "cli_t", "--json", "--limit", "3"],
      {
        env,
      },
    );
    expect(r.code).toBe(0);
    const report = JSON.parse(r.stdout) as LogsReport & { engine: string };
    const local = await analyzeLogs(files, {});
    expect(report.schema).toBe("why403.logs/v1");
    expect(report.engine).toBe("clickhouse");
    expect(counts(report)).toEqual(counts(local));
    expect(report.entries).toHaveLength(3);
    // An entry's message comes from the local parser of the deciding line.
    expect(report.entries.map((e) => e.message).join("\n")).toMatch(/AH0\d{4}|ModSecurity/);
  });

  it("--status and --path filter inside ClickHouse as they do locally", async () => {
    const files = [`${F}/nginx/access.log`, `${F}/nginx/error.log`];
    await shipLogs(files, { url: authUrl, table: "filters" });
    for (const options of [{ status: [401] }, { status: [403, 429] }, { path: "/members" }]) {
      const local = await analyzeLogs(files, options);
      const inside = await analyzeClickHouse({ url: authUrl, table: "filters" }, options);
      expect(inside.denials).toBe(local.denials);
      expect(inside.byCause).toEqual(local.byCause);
    }
  });

  it("bad input is a one-line error with exit 2, and the password never shows", async () => {
    const cases: Array<[string[], RegExp]> = [
      [["logs", "--clickhouse", authUrl, "--table", "no_such_table"], /doesn't exist/],
      [
        ["logs", "--clickhouse", "http://127.0.0.1:1", "--table", "t"],
        /cannot reach ClickHouse at http:\/\/127\.0\.0\.1:1/,
      ],
      [["logs", "--clickhouse", authUrl], /--clickhouse needs --table/],
      [["logs", "--clickhouse", authUrl, "--table", "x; DROP TABLE y"], /--table needs a table name/],
      [["logs", "--clickhouse", authUrl, "--table", "cli_t", "--line-column", "text"], /has no column text/],
      [
        ["logs", "--clickhouse", server.url.replace("//", "//default:wrong@"), "--table", "cli_t"],
        /ClickHouse: .*(password|Authentication)/i,
      ],
      [["ship", `${F}/nope.log`, "--clickhouse", authUrl, "--table", "t2"], /log file not found/],
    ];
    for (const [args, message] of cases) {
      const r = await runCliAsync(args);
      expect(r.code, args.join(" ")).toBe(2);
      expect(r.stderr).toMatch(message);
      expect(r.stderr.trim().split("\n")).toHaveLength(1);
      expect(r.stderr).not.toContain(PASSWORD);
      expect(r.stdout).toBe("");
    }
  });
});

describe("address rule or blanket deny, settled by the same logs inside ClickHouse", () => {
  it("another client allowed on the path: an address rule; two refused and none allowed: a blanket deny; one refused: the line's reading", async () => {
    mkdirSync(DIR, { recursive: true });
    const stamp = (s: number) => `26/Nov/2026:06:00:${String(s).padStart(2, "0")} +0000`;
    const ngx = (s: number) => `2026/11/26 06:00:${String(s).padStart(2, "0")}`;
    const refused = (client: string, path: string, s: number) => [
      `${ngx(s)} [error] 7#7: *${s} access forbidden by rule, client: ${client}, server: _, request: "GET ${path} HTTP/1.1", host: "x"`,
      `${client} - - [${stamp(s)}] "GET ${path} HTTP/1.1" 403 153 "-" "curl/8.5.0"`,
    ];
    const allowed = (client: string, path: string, s: number) =>
      `${client} - - [${stamp(s)}] "GET ${path}?page=2 HTTP/1.1" 200 512 "-" "curl/8.5.0"`;
    const lines = [
      allowed("10.1.0.1", "/a/", 1),
      ...refused("10.1.0.9", "/a/", 2),
      ...refused("10.1.0.9", "/a/", 3),
      ...refused("10.1.0.7", "/b/", 4),
      ...refused("10.1.0.8", "/b/", 5),
      ...refused("10.1.0.7", "/c/", 6),
      // Allowed only for a client also refused there: says nothing about the address.
      ...refused("10.1.0.5", "/d/", 7),
      allowed("10.1.0.5", "/d/", 8),
    ];
    const file = join(DIR, "address-rule.log");
    writeFileSync(file, `${lines.join("\n")}\n`);
    await shipLogs([file], { url: authUrl, table: "address_rule" });
    const local = await analyzeLogs([file], {});
    const inside = await analyzeClickHouse({ url: authUrl, table: "address_rule" });
    const causeOf = (r: LogsReport, path: string) =>
      r.entries.filter((e) => e.path === path).map((e) => e.cause);
    expect(causeOf(local, "/a/")).toEqual(["ip-restriction", "ip-restriction"]);
    expect(causeOf(local, "/b/")).toEqual(["server-config", "server-config"]);
    expect(causeOf(inside, "/a/")).toEqual(causeOf(local, "/a/"));
    expect(causeOf(inside, "/b/")).toEqual(causeOf(local, "/b/"));
    expect(causeOf(inside, "/c/")).toEqual(causeOf(local, "/c/"));
    expect(causeOf(inside, "/d/")).toEqual(causeOf(local, "/d/"));
    expect(local.byCause).toEqual({ "ip-restriction": 4, "server-config": 2 });
    expect(counts(inside)).toEqual(counts(local));
  }, 120_000);
});

describe("one request id on lines far apart in time", () => {
  it("is two requests on both paths, whatever other file is read alongside", async () => {
    mkdirSync(DIR, { recursive: true });
    // Sample logs copy lines with their ModSecurity unique_id: the same id an hour
    // apart, from other clients, is another request (a request's lines come within
    // seconds). Both paths once joined them into one, the local one only when no
    // other file moved time on first.
    const denied = (stamp: string, client: string, uri: string) =>
      `[Thu Nov 26 ${stamp}.100000 2026] [security2:error] [pid 8268:tid 8270] [client ${client}:46842] [client ${client}] ModSecurity: Access denied with code 403 (phase 2). Operator GE matched 5 at TX:anomaly_score. [file "/usr/share/modsecurity-crs/rules/REQUEST-949-BLOCKING-EVALUATION.conf"] [line "94"] [id "949110"] [msg "Inbound Anomaly Score Exceeded (Total Score: 5)"] [hostname "lab.test"] [uri "${uri}"] [unique_id "copied-id-AAAA"]`;
    const file = join(DIR, "copied-ids.log");
    writeFileSync(
      file,
      `${[
        denied("07:00:00", "10.4.0.1", "/a"),
        denied("07:00:01", "10.4.0.1", "/a"),
        denied("08:00:00", "10.4.0.2", "/b"),
        denied("09:30:00", "10.4.0.3", "/c"),
      ].join("\n")}\n`,
    );
    const later = join(DIR, "later-access.log");
    writeFileSync(
      later,
      `10.4.0.9 - - [26/Nov/2026:12:00:00 +0000] "GET /x HTTP/1.1" 403 153 "-" "curl/8.5.0"\n`,
    );
    await shipLogs([file], { url: authUrl, table: "copied_ids" });
    const alone = await analyzeLogs([file], {});
    const together = await analyzeLogs([file, later], {});
    const inside = await analyzeClickHouse({ url: authUrl, table: "copied_ids" });
    expect(alone.denials).toBe(3);
    expect(together.denials).toBe(4);
    expect(alone.top.clients.map(([c]) => c).sort()).toEqual(["10.4.0.1", "10.4.0.2", "10.4.0.3"]);
    expect(counts(inside)).toEqual(counts(alone));
    expect(examples(inside)).toEqual(examples(alone));
  }, 120_000);
});

describe("an error log and an access log from a server in another zone", () => {
  it("are joined inside ClickHouse as locally: by the offset the access stamps show, or by --tz", async () => {
    mkdirSync(DIR, { recursive: true });
    // +05:30: the machine's zone here is not (checked), so its own reading would not join them.
    expect(-new Date(Date.UTC(2026, 10, 26)).getTimezoneOffset()).not.toBe(330);
    const access: string[] = [];
    const errors: string[] = [];
    for (let i = 0; i < 30; i++) {
      const s = String(i).padStart(2, "0");
      access.push(
        `10.0.3.${i} - - [26/Nov/2026:05:01:${s} +0530] "POST /admin/x HTTP/1.1" 403 153 "-" "curl/8.5.0"`,
      );
      errors.push(
        `2026/11/26 05:01:${s} [error] 7#7: *${i} access forbidden by rule, client: 10.0.3.${i}, server: _, request: "POST /admin/x HTTP/1.1", host: "x"`,
      );
    }
    const accessLog = join(DIR, "zone-access.log");
    const errorLog = join(DIR, "zone-error.log");
    writeFileSync(accessLog, `${access.join("\n")}\n`);
    writeFileSync(errorLog, `${errors.join("\n")}\n`);
    await shipLogs([errorLog, accessLog], { url: authUrl, table: "zone_two" });
    const local = await analyzeLogs([errorLog, accessLog], {});
    const inside = await analyzeClickHouse({ url: authUrl, table: "zone_two" });
    expect(local.stampZone).toEqual({ zone: "+05:30", from: "logs" });
    expect(inside.stampZone).toEqual(local.stampZone);
    expect(local.denials).toBe(30);
    expect(counts(inside)).toEqual(counts(local));
    // Told the zone: the same; told a wrong one: no joins, on both paths alike.
    const told = await analyzeClickHouse({ url: authUrl, table: "zone_two" }, { timeZone: "Asia/Kolkata" });
    expect(told.denials).toBe(30);
    const wrongInside = await analyzeClickHouse({ url: authUrl, table: "zone_two" }, { timeZone: "+01:00" });
    const wrongLocal = await analyzeLogs([errorLog, accessLog], { timeZone: "+01:00" });
    expect(wrongLocal.denials).toBe(60);
    expect(counts(wrongInside)).toEqual(counts(wrongLocal));
    // An offset ClickHouse has no zone name for is bad input there.
    await expect(
      analyzeClickHouse({ url: authUrl, table: "zone_two" }, { timeZone: "-03:30" }),
    ).rejects.toThrow(/ClickHouse has no zone for that offset/);
  }, 120_000);
});

describe("logs that span a change of daylight saving time", () => {
  it("name the zone from the access stamps at the sources' starts and ends, inside ClickHouse as locally", async () => {
    mkdirSync(DIR, { recursive: true });
    // A Berlin server from 24 to 26 October 2026 (+0200, then +0100 from 25 October 01:00 UTC),
    // one refused request a minute, more lines than the start sample (500 rows a source).
    const p2 = (n: number) => String(n).padStart(2, "0");
    const access: string[] = [];
    const errors: string[] = [];
    const switchAt = Date.UTC(2026, 9, 25, 1);
    for (let i = 0; i < 3000; i++) {
      const t = Date.UTC(2026, 9, 24, 10) + i * 60_000;
      const off = t < switchAt ? 2 : 1;
      const w = new Date(t + off * 3_600_000);
      const hms = `${p2(w.getUTCHours())}:${p2(w.getUTCMinutes())}:00`;
      const c = `10.5.${Math.floor(i / 250)}.${i % 250}`;
      access.push(
        `${c} - - [${p2(w.getUTCDate())}/Oct/2026:${hms} +0${off}00] "POST /admin/x HTTP/1.1" 403 153 "-" "curl/8.5.0"`,
      );
      errors.push(
        `2026/10/${p2(w.getUTCDate())} ${hms} [error] 7#7: *${i} open() "/srv/x" failed (13: Permission denied), client: ${c}, server: _, request: "POST /admin/x HTTP/1.1", host: "x"`,
      );
    }
    const accessLog = join(DIR, "dst-access.log");
    const errorLog = join(DIR, "dst-error.log");
    writeFileSync(accessLog, `${access.join("\n")}\n`);
    writeFileSync(errorLog, `${errors.join("\n")}\n`);
    await shipLogs([errorLog, accessLog], { url: authUrl, table: "dst_two" });
    const local = await analyzeLogs([errorLog, accessLog], {});
    const inside = await analyzeClickHouse({ url: authUrl, table: "dst_two" });
    // The machine here keeps UTC (the test's premise: checked), so the zone comes from the logs.
    expect(-new Date(switchAt - 3_600_000).getTimezoneOffset()).not.toBe(120);
    expect(local.stampZone).toEqual({ zone: "Europe/Amsterdam", from: "logs" });
    expect(inside.stampZone).toEqual(local.stampZone);
    // Every request joined but the repeated hour's 60, whose zoneless stamps cannot tell the two hours apart.
    expect(local.denials).toBe(3060);
    expect(counts(inside)).toEqual(counts(local));
  }, 120_000);

  it("from spring to autumn: the summer in the middle is found inside ClickHouse as locally", async () => {
    mkdirSync(DIR, { recursive: true });
    // A Berlin server on four days of 2026 (+0100, +0200, +0200, +0100), one access and one
    // error line per refused request, 900 requests a day: the start and the end alone show +0100 only.
    const p2 = (n: number) => String(n).padStart(2, "0");
    const days: Array<[string, string, string, string]> = [
      ["03", "Mar", "20", "+0100"],
      ["06", "Jun", "15", "+0200"],
      ["08", "Aug", "10", "+0200"],
      ["11", "Nov", "10", "+0100"],
    ];
    const lines = days.flatMap(([mm, mon, dd, off], d) =>
      Array.from({ length: 900 }, (_, i) => {
        const k = d * 900 + i;
        const hms = `12:${p2(Math.floor(i / 60))}:${p2(i % 60)}`;
        const c = `10.6.${Math.floor(k / 250)}.${k % 250}`;
        return [
          `${c} - - [${dd}/${mon}/2026:${hms} ${off}] "POST /admin/x HTTP/1.1" 403 153 "-" "curl/8.5.0"`,
          `2026/${mm}/${dd} ${hms} [error] 7#7: *${k} open() "/srv/x" failed (13: Permission denied), client: ${c}, server: _, request: "POST /admin/x HTTP/1.1", host: "x"`,
        ];
      }).flat(),
    );
    const file = join(DIR, "seasons.log");
    writeFileSync(file, `${lines.join("\n")}\n`);
    await shipLogs([file], { url: authUrl, table: "seasons" });
    const local = await analyzeLogs([file], {});
    const inside = await analyzeClickHouse({ url: authUrl, table: "seasons" });
    expect(-new Date(Date.UTC(2026, 5, 15, 10)).getTimezoneOffset()).not.toBe(120);
    expect(local.stampZone).toEqual({ zone: "Europe/Amsterdam", from: "logs" });
    expect(inside.stampZone).toEqual(local.stampZone);
    expect(local.denials).toBe(3600);
    expect(counts(inside)).toEqual(counts(local));
  }, 120_000);
});

describe("an access log and an error log shipped as two sources, past the join window", () => {
  it("count each refused request once, locally and inside ClickHouse, as the same lines in one file do", async () => {
    mkdirSync(DIR, { recursive: true });
    const mixed = join(DIR, "split-source.log");
    // 60,000 requests, 50% refused: 30,000 refused requests, more than the local join's window (20,000).
    await generateTable(server.url, {
      table: "split_source",
      requests: 60_000,
      refusedPct: 50,
      path: mixed,
      timeZone: Intl.DateTimeFormat().resolvedOptions().timeZone,
      password: PASSWORD,
    });
    await exportSource(server.url, { table: "split_source", source: mixed, file: mixed, password: PASSWORD });
    const lines = readFileSync(mixed, "utf8").split("\n").filter(Boolean);
    const isAccess = (l: string) => /^\S+ \S+ \S+ \[/.test(l);
    const access = join(DIR, "split-access.log");
    const errors = join(DIR, "split-error.log");
    writeFileSync(access, `${lines.filter(isAccess).join("\n")}\n`);
    writeFileSync(errors, `${lines.filter((l) => !isAccess(l)).join("\n")}\n`);
    const one = await analyzeLogs([mixed], { limit: 0 });
    expect(one.denials).toBe(30_000);
    const local = await analyzeLogs([access, errors], {});
    expect(local.denials).toBe(30_000);
    expect(local.byCause).toEqual(one.byCause);
    await shipLogs([access, errors], { url: authUrl, table: "split_two" });
    const inside = await analyzeClickHouse({ url: authUrl, table: "split_two" });
    // As on the generated table below: 30,000 distinct clients overflow the local top's bounded counter, so clients are left out.
    expect(inside.denials).toBe(local.denials);
    expect(inside.byCause).toEqual(local.byCause);
    expect(inside.files).toEqual(local.files);
    expect(inside.top.paths).toEqual(local.top.paths);
    expect(inside.top.rules).toEqual(local.top.rules);
  }, 300_000);
});

describe("logs --clickhouse on a generated multi-million-row table", () => {
  it("counts inside ClickHouse equal the local path's on the same lines", async () => {
    mkdirSync(DIR, { recursive: true });
    const path = join(DIR, "generated-mixed.log");
    const rows = await generateTable(server.url, {
      table: "generated",
      requests: GENERATED_REQUESTS,
      refusedPct: 7,
      path,
      timeZone: Intl.DateTimeFormat().resolvedOptions().timeZone,
      password: PASSWORD,
    });
    expect(rows).toBeGreaterThan(GENERATED_REQUESTS);
    await exportSource(server.url, { table: "generated", source: path, file: path, password: PASSWORD });
    expect(statSync(path).size).toBeGreaterThan(GENERATED_REQUESTS * 100);
    const local = await analyzeLogs([path], { limit: 5 });
    const inside = await analyzeClickHouse({ url: authUrl, table: "generated" }, { limit: 5 });
    // 7% refused, one denial each, five causes in equal shares (see lab/clickhouse-gen.mjs).
    expect(local.denials).toBe((GENERATED_REQUESTS * 7) / 100);
    expect(inside.denials).toBe(local.denials);
    expect(inside.byCause).toEqual(local.byCause);
    expect(inside.files).toEqual(local.files);
    expect(inside.top.rules).toEqual(local.top.rules);
    expect(inside.top.paths).toEqual(local.top.paths);
    expect(inside.entries).toHaveLength(5);
    rmSync(path, { force: true });
  }, 600_000);
});
