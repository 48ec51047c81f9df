// Differential test: the nginx evaluator must predict what a real nginx
// answers. One private nginx runs a lab config (several servers on one port,
// every location kind, allow/deny with CIDRs over 127.0.0.0/8, limit_except,
// if/return, auth_basic, internal, index/autoindex, geo, and the phase order of
// rewrite-phase returns, access and limit_except); a seeded generator makes
// a few hundred requests from different loopback client addresses, and every
// answer is compared with the evaluator's decision and status.

import { execFileSync } from "node:child_process";
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { request } from "node:http";
import { join } from "node:path";
import md5 from "apache-md5";
import bcrypt from "bcryptjs";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { freePorts } from "../lab/lab.mjs";
import { evaluateNginx, type NginxConfig, parseNginxConfig } from "../src/evidence/nginx/index.js";

const NGINX = "/usr/sbin/nginx";
const RUN = join(import.meta.dirname, "..", ".run", "nginx-diff");
const CONF = join(RUN, "nginx.conf");
const PID = join(RUN, "nginx.pid");
const WWW = join(RUN, "www");

async function freePort(): Promise<number> {
  return (await freePorts(1))[0]!;
}

function labConfig(port: number): string {
  const listen = `listen 127.0.0.1:${port}`;
  return `
user root;
worker_processes 1;
daemon on;
pid ${PID};
error_log ${RUN}/error.log warn;
events { worker_connections 256; }
http {
  access_log off;
  default_type text/plain;
  client_body_temp_path ${RUN}/tmp/body;
  proxy_temp_path ${RUN}/tmp/proxy;
  fastcgi_temp_path ${RUN}/tmp/fastcgi;
  uwsgi_temp_path ${RUN}/tmp/uwsgi;
  scgi_temp_path ${RUN}/tmp/scgi;
  deny 127.0.0.4;

  server {
    ${listen} default_server;
    server_name a.test;
    root ${WWW};
    location = /exact { return 200 "exact"; }
    location / { }
    location /admin/ {
      allow 127.0.0.1;
      allow 127.0.2.0/24;
      deny all;
      location ~ \\.txt$ {
        allow 127.1.0.0/16;
        deny all;
      }
    }
    location ^~ /static/ { deny 127.0.0.3; }
    location ~* \\.(png|jpg)$ { deny 127.0.0.2; }
    location /api/ {
      limit_except GET { allow 127.0.0.1; deny all; }
    }
    location /noindex/ { autoindex off; }
    location /auto/ { alias ${WWW}/noindex/; autoindex on; }
    location /m/ {
      if ($request_method = DELETE) { return 403; }
      if ($http_x_team = blocked) { return 403; }
    }
    location /deep {
      deny 127.0.0.0/31;
      location /deep/inner { allow all; }
      location ~ secret { deny all; }
      location ^~ /deep/nr/ { deny 127.0.0.2; }
    }
    location ~ /deep/nr/.*.txt$ { deny all; }
    location ~ ^/rx/ {
      allow 127.0.0.2;
      deny all;
      location ~ .txt$ { allow all; }
    }
    location /ref/ {
      valid_referers none server_names *.good.test;
      if ($invalid_referer) { return 403; }
    }
    location /rw/ {
      rewrite ^/rw/(.*)$ /admin/$1 last;
    }
    location /arg/ {
      if ($arg_token = "") { return 401; }
    }
  }

  server {
    ${listen};
    server_name b.test *.b.test;
    root ${WWW};
    if ($request_method = PUT) { return 403; }
    allow 127.0.0.0/30;
    deny all;
    location / { }
    location /open/ { allow all; }
    location = /ret { return 200 "b-ret"; }
  }

  server {
    ${listen};
    server_name www.c.*;
    location ~ ^/x/(\\d+)$ { deny all; }
    location /x/ { return 200 "c-x"; }
    location / { return 200 "c"; }
  }

  server {
    ${listen};
    server_name ~^(?<sub>[a-z]+)\\.d\\.test$;
    location / { return 404; }
    location /ok { return 200 "d"; }
  }

  server {
    ${listen};
    server_name .e.test;
    root ${WWW};
    location / { return 200 "e"; }
    location /int/ { internal; }
    location /team/ {
      if ($team = no) { return 403; }
      return 200 "team";
    }
  }

  geo $blocked {
    127.0.0.0/30 1;
    127.0.2.0/24 1;
    127.0.0.2 0;
    default 0;
  }
  geo $remote_addr $ranged {
    ranges;
    default 0;
    127.0.0.3-127.0.0.4 1;
    127.1.0.0-127.1.255.255 1;
  }

  # Phase order: the rewrite phase (if/return) runs before allow/deny; for a
  # method limit_except does not list, its block replaces the location's config.
  server {
    ${listen};
    server_name f.test;
    root ${WWW};
    deny 127.0.0.1;
    location /d/ {
      if ($blocked) { return 451; }
    }
    location /g2/ {
      allow all;
      if ($ranged) { return 429; }
    }
    location /upload {
      allow all;
      limit_except GET { deny all; }
      return 200 "up";
    }
    location /le2/ {
      limit_except GET { allow 127.0.0.1; allow 127.0.0.3; deny all; }
      return 200 "le2";
    }
    location /le3/ {
      allow all;
      limit_except GET HEAD { allow 127.0.0.2; deny all; }
      if ($request_method = POST) { return 418; }
    }
    location /v6/ { deny all; }
  }

  map $http_x_team $team {
    default yes;
    blocked no;
    ~^dev no;
  }

  server {
    ${listen};
    server_name auth.test;
    root ${WWW};
    location / {
      auth_basic "lab";
      auth_basic_user_file ${RUN}/htpasswd;
    }
    location /any/ {
      satisfy any;
      allow 127.0.0.1;
      deny all;
      auth_basic "lab";
      auth_basic_user_file ${RUN}/htpasswd;
    }
  }
}
`;
}

function writeFiles(): void {
  const files: Record<string, string> = {
    "index.html": "root index\n",
    "a.txt": "a\n",
    "admin/index.html": "admin\n",
    "admin/x.txt": "x\n",
    "static/a.png": "png\n",
    "static/x.txt": "sx\n",
    "images/a.jpg": "jpg\n",
    "api/x.txt": "api\n",
    "noindex/file.txt": "f\n",
    "m/a.txt": "m\n",
    "deep/file.txt": "deep\n",
    "deep/inner/file.txt": "inner\n",
    "deep/secret.txt": "s\n",
    "open/index.html": "open\n",
    "any/index.html": "any\n",
    "deep/nr/a.txt": "nr\n",
    "deep/nr/b.html": "nr\n",
    "rx/a.txt": "rx\n",
    "rx/b.html": "rx\n",
    "ref/a.txt": "ref\n",
    "arg/a.txt": "arg\n",
    "d/a.txt": "d\n",
    "g2/a.txt": "g2\n",
    "le2/a.txt": "le2\n",
    "le3/a.txt": "le3\n",
    "v6/x.txt": "v6\n",
  };
  for (const [rel, body] of Object.entries(files)) {
    const p = join(WWW, rel);
    mkdirSync(join(p, ".."), { recursive: true });
    writeFileSync(p, body);
  }
  mkdirSync(join(WWW, "emptydir"), { recursive: true });
  writeFileSync(join(RUN, "htpasswd"), "lab:$apr1$abc$0000000000000000000000\n");
}

/** mulberry32: small, seeded, good enough to spread the cases. */
function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const METHODS = ["GET", "GET", "HEAD", "POST", "POST", "PUT", "DELETE", "OPTIONS"];
const HOSTS = [
  "a.test",
  "b.test",
  "x.b.test",
  "y.z.b.test",
  "www.c.test",
  "www.c.org",
  "foo.d.test",
  "e.test",
  "q.e.test",
  "auth.test",
  "unknown.test",
  "127.0.0.1",
];
const PATHS = [
  "/",
  "/index.html",
  "/a.txt",
  "/exact",
  "/exact/",
  "/admin/",
  "/admin",
  "/admin/x.txt",
  "/admin/index.html",
  "/admin/missing.txt",
  "/static/a.png",
  "/static/x.txt",
  "/images/a.jpg",
  "/IMAGES/A.JPG",
  "/api/x.txt",
  "/api/",
  "/noindex/",
  "/auto/",
  "/emptydir/",
  "/m/a.txt",
  "/deep/file.txt",
  "/deep/inner/file.txt",
  "/deep/secret.txt",
  "/deep/inner/secret",
  "/open/",
  "/ret",
  "/x/12",
  "/x/ab",
  "/ok",
  "/int/",
  "/team/",
  "/any/",
  "/missing",
  "/a/../admin/x.txt",
  "//admin//x.txt",
  "/%61dmin/x.txt",
  "/static/../admin/index.html",
  "/./deep/./file.txt",
  "/deep/nr/a.txt",
  "/deep/nr/b.html",
  "/rx/a.txt",
  "/rx/b.html",
  "/ref/a.txt",
  "/rw/x.txt",
  "/rw/index.html",
  "/arg/a.txt",
  "/arg/a.txt?token=1",
  "/arg/a.txt?x=1&token=",
];
const CLIENTS = ["127.0.0.1", "127.0.0.2", "127.0.0.3", "127.0.0.4", "127.0.2.5", "127.1.2.3", "127.9.9.9"];
const TEAMS = ["ops", "blocked", "dev-1", "qa"];
const REFERERS = ["", "http://a.test/page", "https://x.good.test/", "http://evil.test/", "junk"];

interface Case {
  method: string;
  path: string;
  host: string;
  client: string;
  team: string;
  referer: string;
}

function makeCases(n: number, seed: number): Case[] {
  const r = rng(seed);
  const pick = <T>(xs: T[]): T => xs[Math.floor(r() * xs.length)] as T;
  const cases: Case[] = [];
  for (let i = 0; i < n; i++) {
    cases.push({
      method: pick(METHODS),
      path: pick(PATHS),
      host: pick(HOSTS),
      client: pick(CLIENTS),
      team: pick(TEAMS),
      referer: pick(REFERERS),
    });
  }
  return cases;
}

/** Every method and client against the phase-order server (f.test), so each path is covered. */
function phaseCases(): Case[] {
  const cases: Case[] = [];
  for (const path of [
    "/d/a.txt",
    "/g2/a.txt",
    "/upload",
    "/le2/a.txt",
    "/le2/",
    "/le3/a.txt",
    "/v6/x.txt",
    "/a.txt",
  ])
    for (const method of ["GET", "HEAD", "POST", "DELETE"])
      for (const client of CLIENTS)
        cases.push({ method, path, host: "f.test", client, team: "ops", referer: "" });
  return cases;
}

function send(port: number, c: Case): Promise<number> {
  return new Promise((resolve, reject) => {
    const headers: Record<string, string> = { Host: c.host, "X-Team": c.team, Connection: "close" };
    if (c.method !== "GET" && c.method !== "HEAD") headers["Content-Length"] = "0";
    if (c.referer) headers.Referer = c.referer;
    const req = request(
      {
        host: "127.0.0.1",
        port,
        localAddress: c.client,
        method: c.method,
        path: c.path,
        headers,
        agent: false,
      },
      (res) => {
        res.resume();
        res.on("end", () => resolve(res.statusCode ?? 0));
        res.on("error", reject);
      },
    );
    req.setTimeout(5000, () => req.destroy(new Error("timeout")));
    req.on("error", reject);
    req.end();
  });
}

let port = 0;
let config: NginxConfig;
let started = false;

function nginxPid(): number | null {
  try {
    const pid = Number(readFileSync(PID, "utf8").trim());
    return Number.isInteger(pid) && pid > 0 ? pid : null;
  } catch {
    return null;
  }
}

describe.skipIf(!existsSync(NGINX))("nginx evaluator vs real nginx", () => {
  beforeAll(async () => {
    rmSync(RUN, { recursive: true, force: true });
    mkdirSync(join(RUN, "tmp"), { recursive: true });
    writeFiles();
    port = await freePort();
    writeFileSync(CONF, labConfig(port));
    execFileSync(NGINX, ["-p", `${RUN}/`, "-c", CONF, "-e", join(RUN, "error.log")], { stdio: "pipe" });
    started = true;
    for (let i = 0; i < 50 && nginxPid() === null; i++) await new Promise((r) => setTimeout(r, 50));
    config = parseNginxConfig(CONF);
  });

  afterAll(async () => {
    const pid = nginxPid();
    if (started && pid) {
      try {
        process.kill(pid, "SIGTERM");
      } catch {
        // already gone
      }
      for (let i = 0; i < 40 && existsSync(PID); i++) await new Promise((r) => setTimeout(r, 50));
    }
  });

  it("predicts allow/refuse and the status of every generated request", async () => {
    const cases = [...makeCases(600, Number(process.env.NGINX_DIFF_SEED ?? 403)), ...phaseCases()];
    const statuses: number[] = new Array(cases.length);
    const queue = cases.map((c, i) => ({ c, i }));
    const workers = Array.from({ length: 12 }, async () => {
      for (let job = queue.shift(); job; job = queue.shift()) statuses[job.i] = await send(port, job.c);
    });
    await Promise.all(workers);

    const mismatches: string[] = [];
    let refusals = 0;
    for (const [i, c] of cases.entries()) {
      const actual = statuses[i] as number;
      const d = evaluateNginx(config, {
        method: c.method,
        url: `http://127.0.0.1:${port}${c.path}`,
        client: c.client,
        headers: { host: c.host, "x-team": c.team, ...(c.referer ? { referer: c.referer } : {}) },
      });
      const refused = actual === 401 || actual === 403 || actual === 405 || actual === 444;
      if (refused) refusals++;
      // A 404 for a missing file is not a refusal by the config; a `return 404` or `internal` is.
      const configRefusal = refused || (actual >= 400 && d.decidedBy !== null);
      const ok = d.decision !== "unknown" && (d.decision === "deny") === configRefusal && d.status === actual;
      if (!ok) {
        mismatches.push(
          `${c.method} ${c.host}${c.path} from ${c.client} (X-Team ${c.team}, Referer ${c.referer || "-"}): nginx ${actual}, predicted ${d.decision} ${d.status} by ${d.decidedBy ? `${d.decidedBy.directive} ${d.decidedBy.args.join(" ")} :${d.decidedBy.line}` : "-"} [${d.unknowns.join("; ")}]`,
        );
      }
    }
    expect(mismatches).toEqual([]);
    // The phase-order server must show each answer it was built for.
    const phase = new Map(cases.map((c, i) => [`${c.method} ${c.path} ${c.client}`, statuses[i]]));
    expect(phase.get("GET /d/a.txt 127.0.0.1")).toBe(451); // return before the server's deny
    expect(phase.get("GET /a.txt 127.0.0.1")).toBe(403);
    expect(phase.get("GET /g2/a.txt 127.1.2.3")).toBe(429); // geo ranges
    expect(phase.get("POST /upload 127.0.0.2")).toBe(403); // limit_except drops the parent's return
    expect(phase.get("GET /upload 127.0.0.2")).toBe(200);
    expect(phase.get("POST /le3/a.txt 127.0.0.2")).not.toBe(418);
    // The generator must exercise both sides.
    expect(refusals).toBeGreaterThan(60);
    expect(cases.length - refusals).toBeGreaterThan(60);
  });
});

// Basic auth decided from the password file, a map whose keys look like
// directive names, and a third-party-free config with `root html` under -p.
const RUN2 = join(import.meta.dirname, "..", ".run", "nginx-diff-auth");
const PID2 = join(RUN2, "nginx.pid");
const HAS_HTPASSWD = existsSync("/usr/bin/htpasswd");

function authConfig(port: number): string {
  return `
user root;
worker_processes 1;
daemon on;
pid ${PID2};
error_log ${RUN2}/error.log warn;
events { worker_connections 64; }
http {
  access_log off;
  default_type text/plain;
  client_body_temp_path ${RUN2}/tmp/body;
  proxy_temp_path ${RUN2}/tmp/proxy;
  fastcgi_temp_path ${RUN2}/tmp/fastcgi;
  uwsgi_temp_path ${RUN2}/tmp/uwsgi;
  scgi_temp_path ${RUN2}/tmp/scgi;
  map $scheme $fcgi_https { default ''; http ''; https on; }
  upstream app { server 127.0.0.1:9; keepalive 2; }
  server {
    listen 127.0.0.1:${port};
    root html;
    location /basic/ { auth_basic "b"; auth_basic_user_file users; }
    location /any/ { satisfy any; allow 127.0.0.9; deny all; auth_basic "a"; auth_basic_user_file users; }
    location /map/ { if ($fcgi_https = '') { return 418; } }
  }
}
`;
}

function sendAuth(port: number, path: string, client: string, auth: string | null): Promise<number> {
  return new Promise((resolve, reject) => {
    const headers: Record<string, string> = { Host: "auth.test", Connection: "close" };
    if (auth !== null) headers.Authorization = `Basic ${Buffer.from(auth).toString("base64")}`;
    const req = request(
      { host: "127.0.0.1", port, localAddress: client, path, headers, agent: false },
      (res) => {
        res.resume();
        res.on("end", () => resolve(res.statusCode ?? 0));
      },
    );
    req.setTimeout(5000, () => req.destroy(new Error("timeout")));
    req.on("error", reject);
    req.end();
  });
}

describe.skipIf(!existsSync(NGINX))("nginx auth_basic, map data and -p vs real nginx", () => {
  let port2 = 0;
  let config2: NginxConfig;
  beforeAll(async () => {
    rmSync(RUN2, { recursive: true, force: true });
    mkdirSync(join(RUN2, "tmp"), { recursive: true });
    for (const d of ["basic", "any", "map"]) {
      mkdirSync(join(RUN2, "html", d), { recursive: true });
      writeFileSync(join(RUN2, "html", d, "a.txt"), d);
    }
    const users = [
      `bc:${bcrypt.hashSync("pw-bc", 5)}`,
      `apr:${md5("pw-apr")}`,
      `md5c:${md5("pw-md5c", "$1$saltsalt$")}`,
      `sha:{SHA}${Buffer.from(await crypto.subtle.digest("SHA-1", new TextEncoder().encode("pw-sha"))).toString("base64")}`,
    ];
    writeFileSync(join(RUN2, "users"), `${users.join("\n")}\n`);
    if (HAS_HTPASSWD)
      execFileSync("/usr/bin/htpasswd", ["-bd", join(RUN2, "users"), "des", "pw-des"], { stdio: "pipe" });
    port2 = await freePort();
    writeFileSync(join(RUN2, "nginx.conf"), authConfig(port2));
    execFileSync(NGINX, ["-p", `${RUN2}/`, "-c", join(RUN2, "nginx.conf"), "-e", join(RUN2, "error.log")], {
      stdio: "pipe",
    });
    for (let i = 0; i < 50 && !existsSync(PID2); i++) await new Promise((r) => setTimeout(r, 50));
    config2 = parseNginxConfig(join(RUN2, "nginx.conf"), { nginxPrefix: RUN2 });
  });
  afterAll(async () => {
    try {
      process.kill(Number(readFileSync(PID2, "utf8").trim()), "SIGTERM");
    } catch {
      // never started or already gone
    }
    for (let i = 0; i < 40 && existsSync(PID2); i++) await new Promise((r) => setTimeout(r, 50));
  });

  it("a right password is allowed, a wrong one or an unknown user is refused with 401 naming file and line", async () => {
    const cases: Array<{ path: string; client: string; auth: string | null }> = [];
    for (const path of ["/basic/a.txt", "/any/a.txt"])
      for (const client of ["127.0.0.1", "127.0.0.9"])
        for (const auth of [
          null,
          "bc:pw-bc",
          "bc:nope",
          "apr:pw-apr",
          "apr:nope",
          "md5c:pw-md5c",
          "md5c:x",
          "sha:pw-sha",
          "sha:no",
          "ghost:pw",
        ])
          cases.push({ path, client, auth });
    const mismatches: string[] = [];
    for (const c of cases) {
      const real = await sendAuth(port2, c.path, c.client, c.auth);
      const d = evaluateNginx(config2, {
        method: "GET",
        url: `http://127.0.0.1:${port2}${c.path}`,
        client: c.client,
        headers: {
          host: "auth.test",
          ...(c.auth ? { authorization: `Basic ${Buffer.from(c.auth).toString("base64")}` } : {}),
        },
      });
      const predicted = d.decision === "deny" ? d.status : d.decision === "allow" ? d.status : "unknown";
      if (predicted !== real)
        mismatches.push(
          `${c.path} ${c.client} ${c.auth?.split(":")[0] ?? "-"}: nginx ${real}, predicted ${predicted} [${d.unknowns.join("; ")}]`,
        );
    }
    expect(mismatches).toEqual([]);
    const wrong = evaluateNginx(config2, {
      method: "GET",
      url: `http://apr:s3cret-wrong@127.0.0.1:${port2}/basic/a.txt`,
      client: "127.0.0.1",
    });
    expect([wrong.decision, wrong.status, wrong.cause]).toEqual(["deny", 401, "credentials-invalid"]);
    expect(wrong.fix[0]).toBe(
      'the password sent for user "apr" does not match its APR1-MD5 hash at users:2: send the right password or reset it with htpasswd',
    );
    expect(JSON.stringify(wrong)).not.toContain("s3cret-wrong");
  });

  it.skipIf(!HAS_HTPASSWD)("a DES crypt entry stays unknown while nginx decides it", async () => {
    expect(await sendAuth(port2, "/basic/a.txt", "127.0.0.1", "des:pw-des")).toBe(200);
    const d = evaluateNginx(config2, {
      method: "GET",
      url: `http://des:pw-des@127.0.0.1:${port2}/basic/a.txt`,
      client: "127.0.0.1",
    });
    expect(d.decision).toBe("unknown");
    expect(d.unknowns.join(" ")).toContain("the DES crypt hash at users:5 cannot be checked here");
  });

  it("map keys named like directives are data, and root html resolves under -p", async () => {
    expect(await sendAuth(port2, "/map/a.txt", "127.0.0.1", null)).toBe(418);
    const d = evaluateNginx(config2, {
      method: "GET",
      url: `http://127.0.0.1:${port2}/map/a.txt`,
      client: "127.0.0.1",
    });
    expect([d.decision, d.status]).toEqual(["deny", 418]);
    expect(await sendAuth(port2, "/missing.txt", "127.0.0.1", null)).toBe(404);
    const missing = evaluateNginx(config2, {
      method: "GET",
      url: `http://127.0.0.1:${port2}/missing.txt`,
      client: null,
    });
    expect([missing.status, missing.filePath]).toEqual([404, join(RUN2, "html", "missing.txt")]);
  });
});
