// A real HAProxy in front of a real nginx, both logging: HAProxy's httplog names
// the client, nginx's access and error logs name HAProxy's address (127.0.0.1).
// Read together, each refusal is one denial, with nginx's cause and HAProxy's
// client; HAProxy's own deny (it never reaches nginx) is one more.
import { type ChildProcess, execFileSync, spawn } from "node:child_process";
import { closeSync, existsSync, mkdirSync, openSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { freePorts } from "../lab/lab.mjs";
import { analyzeLogs, waitForLogMarker } from "../src/evidence/logs/index.js";
import { send } from "./helpers/http.js";
import { nginxPreamble } from "./helpers/nginx.js";

const NGINX = "/usr/sbin/nginx";
const HAPROXY = "/usr/sbin/haproxy";
const RUN = join(import.meta.dirname, "..", ".run", "logs-haproxy-nginx");
const ACCESS = join(RUN, "access.log");
const ERROR = join(RUN, "error.log");
const HAPROXY_LOG = join(RUN, "haproxy.log");
const PID = join(RUN, "nginx.pid");
const hasServers = existsSync(NGINX) && existsSync(HAPROXY);

function nginxConfig(port: number): string {
  const { main, tempPaths } = nginxPreamble(RUN, PID);
  return `
${main}
http {
  access_log ${ACCESS} combined;
  ${tempPaths}
  server {
    listen 127.0.0.1:${port};
    location /admin/ { deny all; }
    location / { return 200 "ok\\n"; }
  }
}
`;
}

function haproxyConfig(port: number, nginxPort: number): string {
  return `
global
    log stdout format raw local0 info
defaults
    mode http
    log global
    option httplog
    timeout connect 5s
    timeout client 10s
    timeout server 10s
frontend web
    bind 127.0.0.1:${port}
    http-request deny if { path_beg /internal }
    default_backend nginx
backend nginx
    server nginx1 127.0.0.1:${nginxPort}
`;
}

/** One request to HAProxy from `from` (a loopback address of its own, so HAProxy logs it): its status. */
async function sendFrom(port: number, from: string, method: string, path: string): Promise<number> {
  const body = method === "POST" ? "a=1" : undefined;
  return (await send(`http://127.0.0.1:${port}${path}`, { method, body, localAddress: from })).status;
}

describe("nginx behind HAProxy", () => {
  it("has nginx and HAProxy (required in CI)", () => {
    expect(hasServers || process.env.CI !== "true").toBe(true);
  });

  let haproxy: ChildProcess | null = null;
  let port = 0;

  beforeAll(async () => {
    if (!hasServers) return;
    rmSync(RUN, { recursive: true, force: true });
    mkdirSync(join(RUN, "tmp"), { recursive: true });
    const [haproxyPort, nginxPort] = (await freePorts(2)) as [number, number];
    port = haproxyPort;
    writeFileSync(join(RUN, "nginx.conf"), nginxConfig(nginxPort));
    execFileSync(NGINX, ["-p", `${RUN}/`, "-c", join(RUN, "nginx.conf"), "-e", ERROR], { stdio: "pipe" });
    writeFileSync(join(RUN, "haproxy.cfg"), haproxyConfig(haproxyPort, nginxPort));
    const out = openSync(HAPROXY_LOG, "a");
    haproxy = spawn(HAPROXY, ["-db", "-f", join(RUN, "haproxy.cfg")], { stdio: ["ignore", out, out] });
    closeSync(out);
    // Up when it answers.
    for (let i = 0; i < 100; i++) {
      const up = await sendFrom(port, "127.0.0.1", "GET", "/up").catch(() => 0);
      if (up === 200) break;
      await new Promise((r) => setTimeout(r, 50));
    }
  });

  afterAll(() => {
    haproxy?.kill("SIGTERM");
    if (existsSync(PID)) process.kill(Number(readFileSync(PID, "utf8").trim()), "SIGTERM");
  });

  it.skipIf(!hasServers)("counts each refusal once, with nginx's cause and HAProxy's client", async () => {
    expect(await sendFrom(port, "127.0.0.2", "GET", "/shop")).toBe(200);
    expect(await sendFrom(port, "127.0.0.2", "POST", "/admin/users")).toBe(403);
    expect(await sendFrom(port, "127.0.0.3", "POST", "/admin/users")).toBe(403);
    expect(await sendFrom(port, "127.0.0.4", "POST", "/internal/report")).toBe(403);
    expect(await waitForLogMarker(HAPROXY_LOG, "/internal/report", 5000)).toContain("127.0.0.4");
    // What each side saw: nginx, HAProxy's address; HAProxy, the clients'.
    expect(readFileSync(ACCESS, "utf8")).toMatch(/^127\.0\.0\.1 .*"POST \/admin\/users HTTP\/1\.1" 403/m);
    expect(readFileSync(ERROR, "utf8")).toContain("access forbidden by rule, client: 127.0.0.1");

    const r = await analyzeLogs([HAPROXY_LOG, ACCESS, ERROR]);
    expect(r.denials).toBe(3);
    expect(r.entries.map((e) => [e.method, e.path, e.status, e.client, e.product])).toEqual([
      ["POST", "/admin/users", 403, "127.0.0.2", "nginx"],
      ["POST", "/admin/users", 403, "127.0.0.3", "nginx"],
      ["POST", "/internal/report", 403, "127.0.0.4", "haproxy"],
    ]);
    // The two nginx refusals each hold a line of all three files.
    for (const e of r.entries.slice(0, 2))
      expect([e.file, ...(e.seenIn ?? []).map((s) => s.file)].sort()).toEqual(
        [ACCESS, ERROR, HAPROXY_LOG].sort(),
      );
    expect(r.top.clients.map(([c]) => c).sort()).toEqual(["127.0.0.2", "127.0.0.3", "127.0.0.4"]);
  });
});
