// Differential test: the Apache evaluator must predict what a real httpd
// answers. One private apache2 runs a config with Directory/Location/Files
// sections, Require ip over 127.0.0.0/8, RequireAll/RequireNone, Limit and
// LimitExcept, legacy Order/Allow/Deny with Satisfy, .htaccess files with and
// without AllowOverride, Basic auth, mod_dir/autoindex and RewriteRule [F];
// a seeded generator makes a few hundred requests from loopback client
// addresses and every answer (allowed, 401 or 403) is compared.

import { execFileSync } from "node:child_process";
import { chmodSync, existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { request } from "node:http";
import { join } from "node:path";
import md5 from "apache-md5";
import bcrypt from "bcryptjs";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { freePorts } from "../lab/lab.mjs";
import { type ApacheConfig, evaluateApache, parseApacheConfig } from "../src/evidence/apache/index.js";

const APACHE = "/usr/sbin/apache2";
const RUN = join(import.meta.dirname, "..", ".run", "apache-diff");
const CONF = join(RUN, "httpd.conf");
const PID = join(RUN, "httpd.pid");
const WWW = join(RUN, "www");
const MODULES = [
  "mpm_event",
  "authz_core",
  "authz_host",
  "authn_core",
  "authn_file",
  "auth_basic",
  "authz_user",
  "access_compat",
  "alias",
  "rewrite",
  "dir",
  "mime",
  "autoindex",
  "setenvif",
];

async function freePort(): Promise<number> {
  return (await freePorts(1))[0]!;
}

function labConfig(port: number): string {
  const loads = MODULES.map((m) => `LoadModule ${m}_module /usr/lib/apache2/modules/mod_${m}.so`).join("\n");
  return `ServerRoot ${RUN}
${loads}
PidFile ${PID}
DefaultRuntimeDir ${RUN}/runtime
ErrorLog ${RUN}/error.log
LogLevel warn
Listen 127.0.0.1:${port}
ServerName diff.test
User www-data
Group www-data
TypesConfig /etc/mime.types
DocumentRoot ${WWW}
Timeout 10
KeepAlive Off
Alias /aliased ${RUN}/aliased

<Directory />
    Require all denied
    AllowOverride None
</Directory>

<Directory ${WWW}>
    Require all granted
    Options FollowSymLinks
</Directory>

<Directory ${RUN}/aliased>
    Require ip 127.0.0.0/24 127.0.1
</Directory>

<Directory ${WWW}/private>
    Require ip 127.0.0.0/24
</Directory>

<Directory ${WWW}/mixed>
    <RequireAll>
        Require ip 127.0.0.0/8
        Require not ip 127.0.5.0/24
    </RequireAll>
</Directory>

<Directory ${WWW}/none>
    <RequireAll>
        Require all granted
        <RequireNone>
            Require ip 127.0.9.0/24
            Require ip 127.0.10.1
        </RequireNone>
    </RequireAll>
</Directory>

<Directory ${WWW}/limit>
    <Limit POST PUT>
        Require ip 127.0.1.0/24
    </Limit>
</Directory>

<Directory ${WWW}/limitexcept>
    <LimitExcept GET>
        Require all denied
    </LimitExcept>
</Directory>

<Directory ${WWW}/legacy>
    Order deny,allow
    Deny from 127.0.2.0/24
</Directory>

<Directory ${WWW}/legacy2>
    Order allow,deny
    Allow from 127.0.3
    Deny from 127.0.3.7
</Directory>

<Directory ${WWW}/hta>
    AllowOverride AuthConfig
</Directory>

<Directory ${WWW}/hta-limit>
    AllowOverride Limit
</Directory>

<Directory ${WWW}/auth>
    AuthType Basic
    AuthName "diff"
    AuthUserFile ${RUN}/htpasswd
    Require valid-user
</Directory>

<Directory ${WWW}/authany>
    AuthType Basic
    AuthName "diff"
    AuthUserFile ${RUN}/htpasswd
    Require valid-user
    Order allow,deny
    Allow from 127.0.6.0/24
    Satisfy Any
</Directory>

<Directory ${WWW}/author>
    AuthType Basic
    AuthName "diff"
    AuthUserFile ${RUN}/htpasswd
    Require valid-user
    Require ip 127.0.12.0/24
</Directory>

<Directory ${WWW}/listing>
    Options +Indexes
</Directory>

<Directory ${WWW}/merge>
    Require ip 127.0.0.0/16
</Directory>

<Directory ${WWW}/merge/sub>
    AuthMerging And
    <RequireAll>
        Require all granted
        Require not ip 127.0.11.0/24
    </RequireAll>
</Directory>

<Directory ${WWW}/merge/off>
    Require ip 127.0.11.0/24
</Directory>

<Directory ${WWW}/rewrite>
    RewriteEngine On
    RewriteCond %{REQUEST_METHOD} ^(POST|PUT)$
    RewriteRule ^secret - [F]
</Directory>

<Directory ${WWW}/env>
    SetEnvIf Request_Method "^GET$" readonly
    Require env readonly
</Directory>

<Files "*.secret">
    Require all denied
</Files>

<LocationMatch "\\.bak$">
    Require all denied
</LocationMatch>

<Location /admin>
    Require ip 127.0.8.0/24
</Location>

<Location /public/locked>
    Require all denied
</Location>

RewriteEngine On
RewriteCond %{REMOTE_ADDR} ^127\\.0\\.7\\.
RewriteRule ^/blocked - [F]
`;
}

const FILES: Record<string, string> = {
  "index.html": "root",
  "public/index.html": "p",
  "public/a.txt": "a",
  "public/x.secret": "s",
  "public/a.bak": "b",
  "public/locked/a.txt": "l",
  "private/a.txt": "a",
  "mixed/a.txt": "a",
  "none/a.txt": "a",
  "limit/a.txt": "a",
  "limitexcept/a.txt": "a",
  "legacy/a.txt": "a",
  "legacy2/a.txt": "a",
  "hta/a.txt": "a",
  "hta/.htaccess": "Require ip 127.0.4.0/24\n",
  "hta-none/a.txt": "a",
  "hta-none/.htaccess": "Require all denied\n",
  "hta-limit/a.txt": "a",
  "hta-limit/.htaccess": "Order allow,deny\nAllow from 127.0.0.0/16\nDeny from 127.0.0.9\n",
  "auth/a.txt": "a",
  "authany/a.txt": "a",
  "author/a.txt": "a",
  "noindex/a.txt": "a",
  "listing/a.txt": "a",
  "merge/a.txt": "a",
  "merge/sub/a.txt": "a",
  "merge/off/a.txt": "a",
  "rewrite/secret.txt": "s",
  "rewrite/open.txt": "o",
  "env/a.txt": "a",
  "blocked/a.txt": "a",
  "admin/a.txt": "a",
};

const PATHS = [
  "/",
  "/index.html",
  "/public/",
  "/public/a.txt",
  "/public/missing.txt",
  "/public/x.secret",
  "/public/a.bak",
  "/public/locked/a.txt",
  "/public/lockedness",
  "/private/a.txt",
  "/private/",
  "/mixed/a.txt",
  "/none/a.txt",
  "/limit/a.txt",
  "/limitexcept/a.txt",
  "/legacy/a.txt",
  "/legacy2/a.txt",
  "/hta/a.txt",
  "/hta-none/a.txt",
  "/hta-limit/a.txt",
  "/auth/a.txt",
  "/authany/a.txt",
  "/author/a.txt",
  "/noindex/",
  "/noindex/a.txt",
  "/listing/",
  "/merge/a.txt",
  "/merge/sub/a.txt",
  "/merge/off/a.txt",
  "/rewrite/secret.txt",
  "/rewrite/open.txt",
  "/env/a.txt",
  "/blocked/a.txt",
  "/admin/a.txt",
  "/admin",
  "/adminx",
  "/aliased/a.txt",
  "/aliased/",
];
const METHODS = ["GET", "HEAD", "POST", "PUT", "DELETE", "OPTIONS"];
const THIRD_OCTETS = [0, 0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12];
const FOURTH_OCTETS = [1, 7, 9, 200];

/** mulberry32: a small seeded generator so failures replay. */
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

function pick<T>(r: () => number, list: T[]): T {
  return list[Math.floor(r() * list.length)] as T;
}

function send(port: number, method: string, path: string, client: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const req = request(
      {
        host: "127.0.0.1",
        port,
        method,
        path,
        localAddress: client,
        agent: false,
        headers: { Host: "diff.test", Connection: "close" },
      },
      (res) => {
        res.resume();
        res.on("end", () => resolve(res.statusCode ?? 0));
      },
    );
    req.setTimeout(5000, () => req.destroy(new Error(`timeout ${method} ${path}`)));
    req.on("error", reject);
    req.end(method === "POST" || method === "PUT" ? "x=1" : undefined);
  });
}

let port = 0;
let config: ApacheConfig;
let started = false;

describe.skipIf(!existsSync(APACHE))("Apache evaluator vs real httpd", () => {
  beforeAll(async () => {
    rmSync(RUN, { recursive: true, force: true });
    mkdirSync(join(RUN, "runtime"), { recursive: true });
    mkdirSync(join(RUN, "aliased"), { recursive: true });
    writeFileSync(join(RUN, "aliased", "a.txt"), "a");
    for (const [rel, body] of Object.entries(FILES)) {
      const p = join(WWW, rel);
      mkdirSync(join(p, ".."), { recursive: true });
      writeFileSync(p, body);
    }
    writeFileSync(join(RUN, "htpasswd"), "");
    // The worker runs as www-data: it must traverse every parent of the tree.
    for (const dir of [join(RUN, "..", ".."), join(RUN, ".."), RUN]) chmodSync(dir, 0o755);
    execFileSync("chmod", ["-R", "o+rX", RUN]);
    port = await freePort();
    writeFileSync(CONF, labConfig(port));
    execFileSync(APACHE, ["-f", CONF, "-k", "start"], {
      stdio: "pipe",
      env: { ...process.env, APACHE_RUN_DIR: join(RUN, "runtime") },
    });
    started = true;
    for (let i = 0; i < 50 && !existsSync(PID); i++) await new Promise((r) => setTimeout(r, 100));
    config = parseApacheConfig(CONF);
  });

  afterAll(async () => {
    if (!started) return;
    try {
      const pid = Number(readFileSync(PID, "utf8").trim());
      if (pid > 0) process.kill(pid, "SIGTERM");
    } catch {
      // already gone
    }
    for (let i = 0; i < 50 && existsSync(PID); i++) await new Promise((r) => setTimeout(r, 100));
  });

  it("predicts allow / 401 / 403 for every generated request", async () => {
    const r = rng(4031);
    const cases: Array<{ method: string; path: string; client: string }> = [];
    for (const path of PATHS) cases.push({ method: "GET", path, client: "127.0.0.1" });
    while (cases.length < 600) {
      cases.push({
        method: pick(r, METHODS),
        path: pick(r, PATHS),
        client: `127.0.${pick(r, THIRD_OCTETS)}.${pick(r, FOURTH_OCTETS)}`,
      });
    }
    const mismatches: string[] = [];
    const seen: Record<string, number> = {};
    const queue = [...cases];
    const worker = async (): Promise<void> => {
      for (let c = queue.shift(); c; c = queue.shift()) {
        const real = await send(port, c.method, c.path, c.client);
        const d = evaluateApache(config, {
          method: c.method,
          url: `http://diff.test:${port}${c.path}`,
          client: c.client,
        });
        const realClass = real === 401 || real === 403 ? String(real) : real >= 500 ? "5xx" : "allow";
        seen[realClass] = (seen[realClass] ?? 0) + 1;
        const predicted =
          d.decision === "allow"
            ? "allow"
            : d.decision === "deny"
              ? d.status && d.status >= 500
                ? "5xx"
                : String(d.status)
              : "unknown";
        if (realClass !== predicted) {
          mismatches.push(
            `${c.method} ${c.path} from ${c.client}: httpd ${real}, predicted ${predicted} (${d.decidedBy ? `${d.decidedBy.directive} ${d.decidedBy.args.join(" ")} line ${d.decidedBy.line}` : "-"}; ${d.unknowns.join(" | ")})`,
          );
        }
      }
    };
    await Promise.all(Array.from({ length: 12 }, worker));
    expect(mismatches).toEqual([]);
    // The generator must exercise every kind of answer, not just one.
    expect(seen.allow ?? 0).toBeGreaterThan(50);
    expect(seen["403"] ?? 0).toBeGreaterThan(50);
    expect(seen["401"] ?? 0).toBeGreaterThan(5);
  });
});

// TraceEnable, LimitRequestBody, Options -Indexes, the front-controller
// rewrite of a WordPress-style .htaccess, and Basic auth decided from the
// password file, each against a second private httpd.
const RUN2 = join(import.meta.dirname, "..", ".run", "apache-diff-more");
const PID2 = join(RUN2, "httpd.pid");
const WWW2 = join(RUN2, "www");

function moreConfig(port: number): string {
  const loads = MODULES.map((m) => `LoadModule ${m}_module /usr/lib/apache2/modules/mod_${m}.so`).join("\n");
  return `ServerRoot ${RUN2}
${loads}
PidFile ${PID2}
DefaultRuntimeDir ${RUN2}/runtime
ErrorLog ${RUN2}/error.log
LogLevel warn
Listen 127.0.0.1:${port}
ServerName more.test
User www-data
Group www-data
TypesConfig /etc/mime.types
DocumentRoot ${WWW2}
Timeout 10
KeepAlive Off
TraceEnable Off

<Directory />
    Require all denied
    AllowOverride None
</Directory>
<Directory ${WWW2}>
    Require all granted
    Options Indexes FollowSymLinks
</Directory>
<Directory ${WWW2}/noidx>
    Options -Indexes
</Directory>
<Directory ${WWW2}/small>
    LimitRequestBody 10
</Directory>
<Directory ${WWW2}/wp>
    AllowOverride All
</Directory>
<Directory ${WWW2}/wp2>
    AllowOverride All
    <Files "index.php">
        Require all denied
    </Files>
</Directory>
<Directory ${WWW2}/auth>
    AuthType Basic
    AuthName "more"
    AuthUserFile users
    Require valid-user
</Directory>
`;
}

/** A WordPress-style front controller, written for this test in the shape WordPress generates. */
const frontController = (base: string) => `RewriteEngine On
RewriteBase ${base}
RewriteRule ^index\\.php$ - [L]
RewriteCond %{REQUEST_FILENAME} !-f
RewriteCond %{REQUEST_FILENAME} !-d
RewriteRule . ${base}index.php [L]
`;

function sendMore(
  port: number,
  c: { method: string; path: string; body?: string; auth?: string },
): Promise<number> {
  return new Promise((resolve, reject) => {
    const headers: Record<string, string> = { Host: "more.test", Connection: "close" };
    if (c.auth) headers.Authorization = `Basic ${Buffer.from(c.auth).toString("base64")}`;
    if (c.body !== undefined) headers["Content-Length"] = String(Buffer.byteLength(c.body));
    const req = request(
      { host: "127.0.0.1", port, method: c.method, path: c.path, agent: false, headers },
      (res) => {
        res.resume();
        res.on("end", () => resolve(res.statusCode ?? 0));
      },
    );
    req.setTimeout(5000, () => req.destroy(new Error(`timeout ${c.method} ${c.path}`)));
    req.on("error", reject);
    req.end(c.body);
  });
}

describe.skipIf(!existsSync(APACHE))(
  "Apache TraceEnable, LimitRequestBody, -Indexes, front controller, Basic auth vs real httpd",
  () => {
    let port2 = 0;
    let config2: ApacheConfig;
    beforeAll(async () => {
      rmSync(RUN2, { recursive: true, force: true });
      mkdirSync(join(RUN2, "runtime"), { recursive: true });
      const files: Record<string, string> = {
        "index.html": "root",
        "listed/a.txt": "a",
        "noidx/a.txt": "a",
        "small/a.txt": "a",
        "wp/index.php": "front",
        "wp/.htaccess": frontController("/wp/"),
        "wp/real.txt": "r",
        "wp2/index.php": "front",
        "wp2/.htaccess": frontController("/wp2/"),
        "auth/a.txt": "a",
      };
      for (const [rel, body] of Object.entries(files)) {
        const p = join(WWW2, rel);
        mkdirSync(join(p, ".."), { recursive: true });
        writeFileSync(p, body);
      }
      const users = [
        `bc:${bcrypt.hashSync("pw-bc", 5)}`,
        `apr:${md5("pw-apr")}`,
        `md5c:${md5("pw-md5c", "$1$saltsalt$")}`,
      ];
      writeFileSync(join(RUN2, "users"), `${users.join("\n")}\n`);
      for (const dir of [join(RUN2, "..", ".."), join(RUN2, ".."), RUN2]) chmodSync(dir, 0o755);
      execFileSync("chmod", ["-R", "o+rX", RUN2]);
      port2 = await freePort();
      writeFileSync(join(RUN2, "httpd.conf"), moreConfig(port2));
      execFileSync(APACHE, ["-f", join(RUN2, "httpd.conf"), "-k", "start"], {
        stdio: "pipe",
        env: { ...process.env, APACHE_RUN_DIR: join(RUN2, "runtime") },
      });
      for (let i = 0; i < 50 && !existsSync(PID2); i++) await new Promise((r) => setTimeout(r, 100));
      config2 = parseApacheConfig(join(RUN2, "httpd.conf"));
    });
    afterAll(async () => {
      try {
        process.kill(Number(readFileSync(PID2, "utf8").trim()), "SIGTERM");
      } catch {
        // never started or already gone
      }
      for (let i = 0; i < 50 && existsSync(PID2); i++) await new Promise((r) => setTimeout(r, 100));
    });

    const cases: Array<{ method: string; path: string; body?: string; auth?: string; want: number }> = [
      { method: "TRACE", path: "/", want: 405 },
      { method: "TRACE", path: "/auth/a.txt", want: 405 },
      { method: "GET", path: "/listed/", want: 200 },
      { method: "GET", path: "/noidx/", want: 403 },
      { method: "POST", path: "/small/a.txt", body: "x".repeat(11), want: 413 },
      { method: "GET", path: "/wp/some/pretty/permalink", want: 200 },
      { method: "GET", path: "/wp/real.txt", want: 200 },
      { method: "GET", path: "/wp2/some/pretty/permalink", want: 403 },
      { method: "GET", path: "/auth/a.txt", want: 401 },
      { method: "GET", path: "/auth/a.txt", auth: "bc:pw-bc", want: 200 },
      { method: "GET", path: "/auth/a.txt", auth: "bc:wrong", want: 401 },
      { method: "GET", path: "/auth/a.txt", auth: "apr:pw-apr", want: 200 },
      { method: "GET", path: "/auth/a.txt", auth: "apr:wrong", want: 401 },
      { method: "GET", path: "/auth/a.txt", auth: "md5c:pw-md5c", want: 200 },
      { method: "GET", path: "/auth/a.txt", auth: "md5c:nope", want: 401 },
      { method: "GET", path: "/auth/a.txt", auth: "ghost:pw", want: 401 },
    ];

    it.each(cases)("$method $path ($auth) is what httpd answers ($want)", async (c) => {
      const real = await sendMore(port2, c);
      expect(real).toBe(c.want);
      const d = evaluateApache(config2, {
        method: c.method,
        url: `http://more.test:${port2}${c.path}`,
        client: "127.0.0.1",
        headers: {
          ...(c.auth ? { authorization: `Basic ${Buffer.from(c.auth).toString("base64")}` } : {}),
          ...(c.body !== undefined ? { "content-length": String(c.body.length) } : {}),
        },
      });
      const predicted = d.decision === "deny" ? d.status : d.decision;
      expect(predicted).toBe(real >= 400 ? real : "allow");
    });

    it("a wrong password names the file and line of the user, never the password", () => {
      const d = evaluateApache(config2, {
        method: "GET",
        url: `http://apr:s3cret-wrong@more.test:${port2}/auth/a.txt`,
        client: "127.0.0.1",
      });
      expect(d.fix).toEqual([
        'the password sent for user "apr" does not match its APR1-MD5 hash at users:2: send the right password or reset it with htpasswd',
      ]);
      expect(JSON.stringify(d)).not.toContain("s3cret-wrong");
    });
  },
);
