// End to end through the built CLI, against the lab's real nginx and Apache +
// ModSecurity: server-side evidence (--server-logs, --nginx-conf, --apache-conf,
// --fs-user) turns a generic 403 into the exact cause, and `why403 logs` /
// `why403 config` read the same servers' logs and configs. Exit codes are part of
// every assertion (0 verdict, 1 no cause, 2 bad input, 3 not refused; config: 0
// allow/deny, 1 unknown).
import { execFileSync } from "node:child_process";
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { configDecisionSchema, logsReportSchema, reportSchema } from "../src/report/schema.js";
import { type CliResult, isOneLineError, runCliAsync } from "./helpers/cli.js";
import { getLab, type LabInfo } from "./helpers/lab.js";

let lab: LabInfo;
let scratch: string;
const host = ["-H", "Host: lab.test"];
const fast = ["--rate", "25", "--json"];

interface Report {
  baseline: {
    status: number;
    responder: { layer: string; product: string | null; relays?: Array<{ product: string | null }> };
  };
  verdict: { cause: string; confidence: number; evidence: string[]; fix: string[] } | null;
  candidates: Array<{ cause: string; confidence: number }>;
  nextSteps?: string[];
}

function report(r: CliResult): Report {
  const parsed = JSON.parse(r.stdout) as unknown;
  expect(reportSchema.safeParse(parsed).success).toBe(true);
  return parsed as Report;
}

async function curl(args: string[]): Promise<{ r: CliResult; rep: Report }> {
  const r = await runCliAsync(["curl", ...args, ...fast]);
  expect(r.stderr).not.toMatch(/internal error|\n\s+at /);
  return { r, rep: report(r) };
}

beforeAll(() => {
  lab = getLab();
  scratch = mkdtempSync(join(tmpdir(), "why403-srv-"));
});

afterAll(() => {
  rmSync(scratch, { recursive: true, force: true });
});

describe("nginx", () => {
  for (const method of ["POST", "GET"]) {
    it(`${method} /admin/ with --server-logs: "access forbidden by rule" alone leaves address rule and deny all open; with --nginx-conf → ip-restriction`, async () => {
      const body = method === "POST" ? ["-d", "a=1"] : [];
      const logsOnly = await curl([
        `${lab.nginx.url}/admin/`,
        "-X",
        method,
        ...body,
        ...host,
        "--server-logs",
        lab.nginx.errorLog,
      ]);
      expect(logsOnly.r.code).toBe(0);
      const readings = logsOnly.rep.candidates.map((c) => c.cause);
      expect(readings).toEqual(expect.arrayContaining(["ip-restriction", "server-config"]));
      expect(logsOnly.rep.verdict?.evidence.join("\n")).toMatch(
        /access forbidden by rule.*the config tells which/,
      );
      expect(logsOnly.rep.nextSteps?.join("\n") ?? "").not.toContain("--server-logs");

      const { r, rep } = await curl([
        `${lab.nginx.url}/admin/`,
        "-X",
        method,
        ...body,
        ...host,
        "--server-logs",
        lab.nginx.errorLog,
        "--nginx-conf",
        lab.nginx.conf,
      ]);
      expect(r.code).toBe(0);
      expect(rep.verdict?.cause).toBe("ip-restriction");
      const evidence = rep.verdict?.evidence.join("\n");
      expect(evidence).toContain("access forbidden by rule");
      expect(evidence).toMatch(/`deny all` at \S*nginx\.conf:\d+/);
      expect(rep.nextSteps?.join("\n") ?? "").not.toMatch(/--server-logs|--nginx-conf/);
    });

    it(`${method} /admin/ with --nginx-conf → ip-restriction naming the deny all line`, async () => {
      const body = method === "POST" ? ["-d", "a=1"] : [];
      const { r, rep } = await curl([
        `${lab.nginx.url}/admin/`,
        "-X",
        method,
        ...body,
        ...host,
        "--nginx-conf",
        lab.nginx.conf,
      ]);
      expect(r.code).toBe(0);
      expect(rep.verdict?.cause).toBe("ip-restriction");
      expect(rep.verdict?.evidence.join("\n")).toMatch(/`deny all` at \S*nginx\.conf:\d+/);
      expect(rep.verdict?.fix.join("\n")).toContain("allow 127.0.0.1;");
    });
  }

  it("/private/secret.txt with --server-logs → fs-permission", async () => {
    const { r, rep } = await curl([
      `${lab.nginx.url}/private/secret.txt`,
      ...host,
      "--server-logs",
      lab.nginx.errorLog,
    ]);
    expect(r.code).toBe(0);
    expect(rep.verdict?.cause).toBe("fs-permission");
    expect(rep.verdict?.evidence.join("\n")).toContain("13: Permission denied");
    expect(rep.verdict?.fix.join("\n")).toContain("/private/secret.txt");
  });

  it("/private/secret.txt with --nginx-conf --fs-user www-data → fs-permission with the chmod naming the file", async () => {
    const { r, rep } = await curl([
      `${lab.nginx.url}/private/secret.txt`,
      ...host,
      "--nginx-conf",
      lab.nginx.conf,
      "--fs-user",
      "www-data",
    ]);
    expect(r.code).toBe(0);
    expect(rep.verdict?.cause).toBe("fs-permission");
    expect(rep.verdict?.fix).toContain(`chmod o+r ${lab.nginx.root}/private/secret.txt`);
  });

  it("POST /upload with --server-logs → server-config (GET passes: a method limit, not an address rule)", async () => {
    const { r, rep } = await curl([
      `${lab.nginx.url}/upload`,
      "-d",
      "a=1",
      ...host,
      "--server-logs",
      lab.nginx.errorLog,
      "--server-logs",
      lab.nginx.accessLog,
    ]);
    expect(r.code).toBe(0);
    expect(rep.verdict?.cause).toBe("server-config");
  });
});

describe("Apache", () => {
  it("/apache-admin/ with --server-logs and --apache-conf → ip-restriction: the config decides what AH01630 meant", async () => {
    const { r, rep } = await curl([
      `${lab.apache.url}/apache-admin/`,
      ...host,
      "--server-logs",
      lab.apache.errorLog,
      "--apache-conf",
      lab.apache.conf,
    ]);
    expect(r.code).toBe(0);
    expect(rep.verdict?.cause).toBe("ip-restriction");
    const evidence = rep.verdict?.evidence.join("\n");
    expect(evidence).toContain("AH01630");
    expect(evidence).toMatch(/`Require ip 127\.0\.0\.2` at \S*httpd\.conf:\d+/);
    expect(rep.verdict?.fix[0]).toMatch(
      /Require ip 127\.0\.0\.1.*inside <Location \/apache-admin> at \S*httpd\.conf:\d+/,
    );
    expect(rep.verdict?.fix.join("\n")).not.toContain('<Location "/apache-admin/">');
    expect(rep.nextSteps?.join("\n") ?? "").not.toMatch(/--server-logs|--apache-conf/);
  });

  it("/apache-admin/ with --server-logs alone: AH01630 keeps both readings, as `why403 logs` does", async () => {
    const { r, rep } = await curl([
      `${lab.apache.url}/apache-admin/`,
      ...host,
      "--server-logs",
      lab.apache.errorLog,
    ]);
    expect(r.code).toBe(0);
    expect(rep.candidates.map((c) => c.cause)).toEqual(
      expect.arrayContaining(["ip-restriction", "server-config"]),
    );
    const evidence = rep.verdict?.evidence.join("\n") ?? "";
    expect(evidence).toContain("AH01630");
    expect(evidence).not.toMatch(/so a rule on the client address refused it/);
    expect(rep.nextSteps?.join("\n") ?? "").not.toContain("--server-logs");
  });

  it("/apache-admin/ with --apache-conf → the Require ip line", async () => {
    const { r, rep } = await curl([
      `${lab.apache.url}/apache-admin/`,
      ...host,
      "--apache-conf",
      lab.apache.conf,
    ]);
    expect(r.code).toBe(0);
    expect(rep.verdict?.cause).toBe("ip-restriction");
    expect(rep.verdict?.evidence.join("\n")).toMatch(/`Require ip 127\.0\.0\.2` at \S*httpd\.conf:\d+/);
  });

  it("/rewrite-blocked/x with --apache-conf → server-config decided by the RewriteRule", async () => {
    const { r, rep } = await curl([
      `${lab.apache.url}/rewrite-blocked/x`,
      ...host,
      "--apache-conf",
      lab.apache.conf,
    ]);
    expect(r.code).toBe(0);
    expect(rep.verdict?.cause).toBe("server-config");
    expect(rep.verdict?.evidence.join("\n")).toMatch(
      /`RewriteRule \^\/rewrite-blocked\/ - \[F\]` at \S*httpd\.conf:\d+/,
    );
  });

  it("CRS SQLi in a JSON body with --server-logs → waf, responder modsecurity, fix names the matched rule", async () => {
    const body: Record<string, unknown> = {};
    for (let i = 0; i < 45; i++) body[`field${i}`] = `value number ${i}`;
    body.profile = { name: "Ada", address: { city: "Paris", notes: "1' OR '1'='1' --" } };
    const { r, rep } = await curl([
      `${lab.apache.url}/api/items`,
      ...host,
      "-H",
      "Content-Type: application/json",
      "--data-raw",
      JSON.stringify(body),
      "--server-logs",
      lab.apache.errorLog,
    ]);
    expect(r.code).toBe(0);
    expect(rep.verdict?.cause).toBe("waf");
    expect(rep.baseline.responder).toMatchObject({ layer: "waf", product: "modsecurity" });
    expect(rep.baseline.responder.relays?.map((x) => x.product)).toContain("apache");
    const fix = rep.verdict?.fix.join("\n") ?? "";
    expect(fix).toContain("942100");
  });
});

/** A free port on 127.0.0.1 (asked of the kernel, then released for httpd). */
function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.once("error", reject);
    srv.listen(0, "127.0.0.1", () => {
      const a = srv.address();
      srv.close(() => resolve(typeof a === "object" && a ? a.port : 0));
    });
  });
}

// An Apache of this file's own: a method limit (<LimitExcept GET> Require all denied)
// and an .htaccess `Require all denied` under AllowOverride All.
describe("Apache: Require all denied, in a <LimitExcept> and in an .htaccess", () => {
  const dir = join(process.cwd(), ".run", "server-evidence", `e2e-${process.pid}`);
  const conf = join(dir, "httpd.conf");
  const errorLog = join(dir, "error.log");
  let url = "";

  beforeAll(async () => {
    rmSync(dir, { recursive: true, force: true });
    for (const d of ["htdocs/form", "htdocs/ht", "runtime"]) mkdirSync(join(dir, d), { recursive: true });
    writeFileSync(join(dir, "htdocs/form/x.txt"), "form\n");
    writeFileSync(join(dir, "htdocs/ht/x.txt"), "ht\n");
    writeFileSync(join(dir, "htdocs/ht/.htaccess"), "Require all denied\n");
    for (const p of [dir, join(dir, "htdocs"), join(dir, "htdocs/form"), join(dir, "htdocs/ht")])
      chmodSync(p, 0o755);
    const port = await freePort();
    url = `http://127.0.0.1:${port}`;
    const mod = (name: string, file: string) => `LoadModule ${name} /usr/lib/apache2/modules/${file}`;
    writeFileSync(
      conf,
      [
        `ServerRoot "${dir}"`,
        `PidFile "${dir}/httpd.pid"`,
        `DefaultRuntimeDir "${dir}/runtime"`,
        `Mutex file:${dir}/runtime default`,
        `Listen 127.0.0.1:${port}`,
        "ServerName lab.test",
        "User www-data",
        "Group www-data",
        mod("mpm_event_module", "mod_mpm_event.so"),
        mod("authz_core_module", "mod_authz_core.so"),
        mod("authz_host_module", "mod_authz_host.so"),
        mod("mime_module", "mod_mime.so"),
        mod("dir_module", "mod_dir.so"),
        "StartServers 1",
        "ServerLimit 1",
        "ThreadsPerChild 8",
        "MaxRequestWorkers 8",
        "TypesConfig /dev/null",
        "AddType text/plain .txt",
        `ErrorLog "${errorLog}"`,
        "LogLevel warn",
        `DocumentRoot "${dir}/htdocs"`,
        "<Directory />",
        "    AllowOverride None",
        "    Require all denied",
        "</Directory>",
        `<Directory "${dir}/htdocs">`,
        "    Require all granted",
        "</Directory>",
        `<Directory "${dir}/htdocs/form">`,
        "    <LimitExcept GET>",
        "        Require all denied",
        "    </LimitExcept>",
        "</Directory>",
        `<Directory "${dir}/htdocs/ht">`,
        "    AllowOverride All",
        "</Directory>",
        "",
      ].join("\n"),
    );
    execFileSync("/usr/sbin/apache2", ["-f", conf, "-k", "start"], { stdio: "ignore" });
    const deadline = Date.now() + 10_000;
    while (!existsSync(join(dir, "httpd.pid")) && Date.now() < deadline)
      await new Promise((r) => setTimeout(r, 50));
    await new Promise((r) => setTimeout(r, 300));
  });

  afterAll(() => {
    const pidFile = join(dir, "httpd.pid");
    if (existsSync(pidFile)) {
      const pid = Number(readFileSync(pidFile, "utf8").trim());
      if (pid > 0) {
        try {
          process.kill(pid, "SIGTERM");
        } catch {
          // already gone
        }
      }
    }
  });

  const form = () => [`${url}/form/x.txt`, "--data-raw", "name=x"];

  it("POST /form/x.txt: no flags, --apache-conf, --server-logs and both all say server-config; both names the config line", async () => {
    const configLine = /`Require all denied` at \S*httpd\.conf:32/;
    for (const flags of [[], ["--apache-conf", conf], ["--server-logs", errorLog]]) {
      const { r, rep } = await curl([...form(), ...flags]);
      expect(r.code).toBe(0);
      expect(rep.verdict?.cause).toBe("server-config");
    }
    const { r, rep } = await curl([...form(), "--server-logs", errorLog, "--apache-conf", conf]);
    expect(r.code).toBe(0);
    expect(rep.verdict?.cause).toBe("server-config");
    expect(rep.verdict?.confidence).toBeGreaterThan(0.9);
    const evidence = rep.verdict?.evidence.join("\n") ?? "";
    expect(evidence).toContain("AH01630");
    expect(evidence).toMatch(configLine);
    const fix = rep.verdict?.fix ?? [];
    expect(fix[0]).toMatch(
      /in <LimitExcept GET> at \S*httpd\.conf:31 in <Directory \S*htdocs\/form> at \S*httpd\.conf:30/,
    );
    expect(fix[0]).toContain("<LimitExcept GET POST>");
    expect(fix.join("\n")).not.toContain('<Location "/form/x.txt">');
    expect(fix.join("\n")).not.toMatch(/why403 config .*--conf <file>/);
    expect(rep.nextSteps?.join("\n") ?? "").not.toMatch(/--server-logs|--apache-conf/);
  });

  it("GET /ht/x.txt refused by the .htaccess: logs + config → server-config naming the .htaccess line", async () => {
    const { r, rep } = await curl([`${url}/ht/x.txt`, "--server-logs", errorLog, "--apache-conf", conf]);
    expect(r.code).toBe(0);
    expect(rep.verdict?.cause).toBe("server-config");
    expect(rep.verdict?.evidence.join("\n")).toMatch(/`Require all denied` at \S*htdocs\/ht\/\.htaccess:1/);
    expect(rep.verdict?.fix[0]).toMatch(/\.htaccess:1 .*refuses everyone: remove it or narrow it/);
  });

  it("why403 logs reads the same AH01630 lines as server-config, naming both readings", async () => {
    const r = await runCliAsync(["logs", errorLog, "--json"]);
    expect(r.code).toBe(0);
    const rep = JSON.parse(r.stdout) as { entries: Array<{ cause: string; message: string }> };
    const ah = rep.entries.filter((e) => e.message.includes("AH01630"));
    expect(ah.length).toBeGreaterThan(0);
    for (const e of ah) {
      expect(e.cause).toBe("server-config");
      expect(e.message).toContain("an address rule or a blanket deny");
    }
  });
});

describe("--client must be an address", () => {
  it("config and curl refuse --client 999.1.1.1: exit 2, one line", async () => {
    const runs = [
      [
        "config",
        "apache",
        "--conf",
        lab.apache.conf,
        "--request",
        "GET http://lab.test/x",
        "--client",
        "999.1.1.1",
      ],
      ["curl", `${lab.apache.url}/apache-admin/`, "--client", "999.1.1.1"],
      ["curl", `${lab.apache.url}/apache-admin/`, "--client", "not-an-ip", "--apache-conf", lab.apache.conf],
    ];
    for (const args of runs) {
      const r = await runCliAsync(args);
      expect(r.code).toBe(2);
      expect(isOneLineError(r)).toBe(true);
      expect(r.stderr).toMatch(/--client needs an IPv4 or IPv6 address/);
    }
    const ok = await runCliAsync([
      "config",
      "apache",
      "--conf",
      lab.apache.conf,
      "--request",
      "GET http://lab.test/apache-admin/",
      "--client",
      "::1",
    ]);
    expect(ok.code).toBe(0);
  });
});

describe("why403 logs on the lab's own logs", () => {
  it("classifies what the runs above left: waf, ip-restriction, fs-permission", async () => {
    const files = [
      lab.nginx.accessLog,
      lab.nginx.errorLog,
      lab.apache.accessLog,
      lab.apache.errorLog,
      ...(lab.apache.auditLog ? [lab.apache.auditLog] : []),
      lab.apps.node.log,
    ];
    const r = await runCliAsync(["logs", ...files, "--json"]);
    expect(r.code).toBe(0);
    const parsed = logsReportSchema.safeParse(JSON.parse(r.stdout));
    expect(parsed.success).toBe(true);
    const rep = parsed.data!;
    expect(Object.keys(rep.byCause)).toEqual(
      expect.arrayContaining(["waf", "ip-restriction", "fs-permission"]),
    );
    expect(rep.top.rules.map(([id]) => id)).toContain("942100");

    const text = await runCliAsync(["logs", lab.nginx.errorLog, lab.apache.errorLog, "--limit", "5"]);
    expect(text.code).toBe(0);
    expect(text.stdout).toMatch(/why403 logs: \d+ denials/);
    expect(text.stdout).toContain("By cause");
    expect(text.stdout).not.toMatch(/\x1b\[/);
  });

  it("skips a binary file with a warning (exit 0) and refuses a missing one (exit 2, one line)", async () => {
    const bin = join(scratch, "core.bin");
    writeFileSync(bin, Buffer.from([0x7f, 0x45, 0x4c, 0x46, 0, 1, 2, 3, 0, 0, 0xff, 0xfe, 10, 0, 0, 0]));
    const r = await runCliAsync(["logs", bin, "--json"]);
    expect(r.code).toBe(0);
    const rep = JSON.parse(r.stdout) as {
      files: Array<{ format: string; warning?: string }>;
      denials: number;
    };
    expect(rep.files[0]).toMatchObject({ format: "binary" });
    expect(rep.files[0]?.warning).toMatch(/binary/);
    expect(rep.denials).toBe(0);

    const missing = await runCliAsync(["logs", join(scratch, "nope.log")]);
    expect(missing.code).toBe(2);
    expect(isOneLineError(missing)).toBe(true);
  });
});

describe("why403 config on the lab's configs", () => {
  it("nginx: POST /upload from 127.0.0.1 is denied by limit_except, with file:line", async () => {
    const r = await runCliAsync([
      "config",
      "nginx",
      "--conf",
      lab.nginx.conf,
      "--request",
      `POST http://lab.test:${lab.nginx.port}/upload`,
      "--client",
      "127.0.0.1",
      "--json",
    ]);
    expect(r.code).toBe(0);
    const d = configDecisionSchema.parse(JSON.parse(r.stdout));
    expect(d.decision).toBe("deny");
    expect(d.status).toBe(403);
    expect(d.decidedBy).toMatchObject({ directive: "deny", args: ["all"], file: lab.nginx.conf });
    expect(d.decidedBy?.line).toBeGreaterThan(0);
    expect(d.context.map((c) => c.block)).toContain("limit_except");
  });

  it("apache: /apache-admin/ is denied from 127.0.0.1 and allowed from 127.0.0.2", async () => {
    const ask = (client: string) =>
      runCliAsync([
        "config",
        "apache",
        "--conf",
        lab.apache.conf,
        "--request",
        `GET http://lab.test:${lab.apache.port}/apache-admin/`,
        "--client",
        client,
        "--json",
      ]);
    const denied = await ask("127.0.0.1");
    expect(denied.code).toBe(0);
    const d = configDecisionSchema.parse(JSON.parse(denied.stdout));
    expect(d.decision).toBe("deny");
    expect(d.decidedBy).toMatchObject({ directive: "Require", args: ["ip", "127.0.0.2"] });
    const allowed = await ask("127.0.0.2");
    expect(allowed.code).toBe(0);
    expect(configDecisionSchema.parse(JSON.parse(allowed.stdout)).decision).toBe("allow");
  });

  it("nginx --fs-user prints the walk and the chmod for the unreadable file", async () => {
    const r = await runCliAsync([
      "config",
      "nginx",
      "--conf",
      lab.nginx.conf,
      "--request",
      `GET http://lab.test:${lab.nginx.port}/private/secret.txt`,
      "--fs-user",
      "www-data",
    ]);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain("File system as www-data");
    expect(r.stdout).toContain(`chmod o+r ${lab.nginx.root}/private/secret.txt`);
  });

  it("an include loop is bad input: exit 2, one line", async () => {
    const a = join(scratch, "a.conf");
    const b = join(scratch, "b.conf");
    writeFileSync(a, `events {}\nhttp {\n  include ${b};\n}\n`);
    writeFileSync(b, `include ${a};\n`);
    const r = await runCliAsync(["config", "nginx", "--conf", a, "--request", "GET http://x.test/"]);
    expect(r.code).toBe(2);
    expect(isOneLineError(r)).toBe(true);
    expect(r.stderr).toMatch(/include/i);
  });
});
