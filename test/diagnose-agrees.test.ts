// The CLI is a thin shell over the library: `why403 … --json` (the built CLI)
// and `diagnose()` (the library, same inputs) give the same report on every
// fixture offline, with and without server-side evidence, and on live lab
// scenarios (the embedded demo lab and the real nginx and Apache with their
// logs and configs). Run ids, probe timings, decoy tokens, clock times and the
// line numbers of the run's records in a shared server log aside.
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type DemoLab, startDemoLab } from "../src/demo/demo-servers.js";
import { type DiagnoseInput, type DiagnoseOptions, diagnose } from "../src/diagnose/index.js";
import { isInputError } from "../src/errors.js";
import { parseCurlArgs } from "../src/request/curl.js";
import { runCliAsync } from "./helpers/cli.js";
import { getLab, type LabInfo } from "./helpers/lab.js";

/** What differs between two runs of the same diagnosis by design. */
function comparable(report: unknown): unknown {
  const text = JSON.stringify(report, (key, value) =>
    key === "requestId" || key === "durationMs" ? undefined : value,
  );
  return JSON.parse(
    text
      // The layer map's missing path has a random hex token (before the run-id rule can eat it).
      .replace(/why403-missing-[0-9a-f]+/g, "why403-missing-TOKEN")
      .replace(/why403-[0-9a-z]+-\d+/g, "why403-RUN-N")
      .replace(/\/\.well-known\/why403\/[0-9a-f]+/g, "/.well-known/why403/TOKEN")
      .replace(/\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z/g, "TIME")
      // Each run appends to the lab's logs: the second run's lines come later.
      .replace(/(error\.log|access\.log):\d+/g, "$1:N")
      // Error logs carry no request id: lines are matched by time window (whole seconds), so
      // a run that starts in the second the previous one ended may count one of its lines too.
      .replace(/ \(\d+ of this run's requests\)/g, ""),
  );
}

/** The library's answer: the report, or the one-line error the CLI would print. */
async function library(input: DiagnoseInput, options: DiagnoseOptions): Promise<unknown> {
  try {
    return comparable(await diagnose(input, options));
  } catch (error) {
    if (!isInputError(error)) throw error;
    return { error: error.message };
  }
}

async function cli(args: string[]): Promise<unknown> {
  const r = await runCliAsync([...args, "--json"]);
  // A one-line error instead of a report (bad input, exit 2; no refusal to pick, exit 3).
  if (r.stdout === "") return { error: r.stderr.trim().replace(/^why403: /, "") };
  expect(r.stderr, args.join(" ")).not.toMatch(/internal error|\n\s+at /);
  return comparable(JSON.parse(r.stdout));
}

interface Case {
  name: string;
  args: string[];
  input: DiagnoseInput;
  options?: DiagnoseOptions;
}

const FIXTURES = join(process.cwd(), "fixtures");
const LOGS = [
  "nginx/error.log",
  "nginx/access.log",
  "apache/error.log",
  "apache/modsec_audit_JSON.log",
  "nginx/modsec_audit.json",
].map((f) => join(FIXTURES, "logs", f));

function offlineCases(): Case[] {
  const cases: Case[] = [];
  const manifest = JSON.parse(readFileSync(join(FIXTURES, "e2e", "manifest.json"), "utf8")) as Array<{
    file: string;
    entry?: number;
    requestCurl?: string;
  }>;
  for (const m of manifest) {
    const file = join(FIXTURES, "e2e", m.file);
    if (m.file.endsWith(".har")) {
      const entry = m.entry === undefined ? [] : ["--entry", String(m.entry)];
      cases.push({ name: m.file, args: ["har", file, ...entry], input: { har: file, entry: m.entry } });
    } else {
      const curl = m.requestCurl === undefined ? [] : ["--request-curl", m.requestCurl];
      cases.push({
        name: m.file,
        args: ["response", file, ...curl],
        input: { response: file, requestCurl: m.requestCurl },
      });
    }
  }
  for (const dir of ["responses", "raw"])
    for (const f of readdirSync(join(FIXTURES, dir))) {
      const file = join(FIXTURES, dir, f);
      cases.push({ name: `${dir}/${f}`, args: ["response", file], input: { response: file } });
    }
  for (const f of readdirSync(join(FIXTURES, "har"))) {
    const file = join(FIXTURES, "har", f);
    cases.push({ name: `har/${f}`, args: ["har", file], input: { har: file } });
  }
  const modsec = join(FIXTURES, "responses", "modsecurity.http");
  const nginx405 = join(FIXTURES, "e2e", "nginx-405.http");
  for (const file of [modsec, nginx405]) {
    cases.push({
      name: `${file} with server logs`,
      args: ["response", file, "--server-logs", ...LOGS],
      input: { response: file },
      options: { serverLogs: LOGS },
    });
    const apacheConf = join(FIXTURES, "apache", "authz.conf");
    cases.push({
      name: `${file} with an Apache config and a client`,
      args: ["response", file, "--apache-conf", apacheConf, "--client", "10.0.0.1"],
      input: { response: file },
      options: { apacheConf, client: "10.0.0.1" },
    });
  }
  return cases;
}

describe("offline: CLI --json and diagnose() agree on every fixture", () => {
  for (const c of offlineCases()) {
    it(c.name, async () => {
      const fromCli = await cli(c.args);
      expect(await library(c.input, c.options ?? {})).toEqual(fromCli);
    });
  }
});

/** The flags of a live run, and the same as options. */
const FAST = { args: ["--rate", "25"], options: { rate: 25 } };

describe("live: the embedded demo lab", () => {
  let demo: DemoLab;
  beforeAll(async () => {
    demo = await startDemoLab();
  });
  afterAll(async () => {
    await demo.close();
  });

  it("agrees on every demo scenario", { timeout: 600_000 }, async () => {
    expect(demo.scenarios.length).toBeGreaterThan(5);
    for (const sc of demo.scenarios) {
      const fromCli = await cli(["curl", ...sc.curl, ...FAST.args]);
      const fromLibrary = await library({ request: parseCurlArgs(sc.curl) }, FAST.options);
      expect(fromLibrary, sc.id).toEqual(fromCli);
    }
  });
});

describe("live: the real nginx and Apache with their logs and configs", { timeout: 180_000 }, () => {
  let lab: LabInfo;
  beforeAll(() => {
    lab = getLab();
  });
  const host = ["-H", "Host: lab.test"];

  async function agree(curl: string[], flags: string[], options: DiagnoseOptions): Promise<void> {
    const fromCli = await cli(["curl", ...curl, ...flags, ...FAST.args]);
    const fromLibrary = await library({ request: parseCurlArgs(curl) }, { ...options, ...FAST.options });
    expect(fromLibrary).toEqual(fromCli);
  }

  it("nginx /admin/ with its error log and config", async () => {
    await agree(
      [`${lab.nginx.url}/admin/`, "-X", "POST", "-d", "a=1", ...host],
      ["--server-logs", lab.nginx.errorLog, "--nginx-conf", lab.nginx.conf],
      { serverLogs: [lab.nginx.errorLog], nginxConf: lab.nginx.conf },
    );
  });

  it("nginx POST /upload with its logs (a method limit)", async () => {
    await agree(
      [`${lab.nginx.url}/upload`, "-d", "a=1", ...host],
      ["--server-logs", lab.nginx.errorLog, "--server-logs", lab.nginx.accessLog],
      { serverLogs: [lab.nginx.errorLog, lab.nginx.accessLog] },
    );
  });

  it("Apache /apache-admin/ with its error log and config", async () => {
    await agree(
      [`${lab.apache.url}/apache-admin/`, ...host],
      ["--server-logs", lab.apache.errorLog, "--apache-conf", lab.apache.conf],
      { serverLogs: [lab.apache.errorLog], apacheConf: lab.apache.conf },
    );
  });

  it("Apache + ModSecurity: SQL injection in a JSON body, with the error log", async () => {
    const body = JSON.stringify({ profile: { notes: "1' OR '1'='1' --" }, name: "Ada" });
    await agree(
      [`${lab.apache.url}/api/items`, ...host, "-H", "Content-Type: application/json", "--data-raw", body],
      ["--server-logs", lab.apache.errorLog],
      { serverLogs: [lab.apache.errorLog] },
    );
  });
});
