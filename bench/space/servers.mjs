// Renders generated instances (generate.mjs) into real servers, each on 127.0.0.1 in its
// own directory: the applications (a Node one standing in for Express-style apps, and
// Django and Flask apps from Debian's packages, bench/space/apps/) with a route per
// instance, and the fronts (nginx, HAProxy, Caddy, Squid as a reverse proxy) with the
// instances' own rules and a route to the right application. The caller stops them.
// Every application counts each request with a non-safe method that reaches it, so the
// bench can check that a default run executed nothing beyond the replay.
import { spawn, spawnSync } from "node:child_process";
import { createHash, randomBytes } from "node:crypto";
import {
  chmodSync,
  chownSync,
  closeSync,
  mkdirSync,
  openSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from "node:fs";
import { createServer } from "node:http";
import { connect } from "node:net";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import bcrypt from "bcryptjs";
import { SignJWT } from "jose";
import { freePorts } from "../../lab/lab.mjs";

const HERE = dirname(fileURLToPath(import.meta.url));
const SECRET_TEXT = randomBytes(32).toString("hex");
const SECRET = new TextEncoder().encode(SECRET_TEXT);
const isRoot = process.getuid?.() === 0;
/** Debian's python3 sees python3-django / python3-flask; another python on PATH may not. */
const PYTHON = "/usr/bin/python3";
/** The address the address rules let through (the control of an ip-restriction instance). */
export const ALLOWED_CLIENT = "127.0.0.2";

/** Bearer tokens of each kind an instance asks for. */
export async function tokenFor(kind, scope) {
  if (kind === "missing") return null;
  const now = Math.floor(Date.now() / 1000);
  const claims = { scope: kind === "no-scope" ? "profile:read" : `profile:read ${scope}` };
  const jwt = new SignJWT(claims)
    .setProtectedHeader({ alg: "HS256" })
    .setIssuedAt(kind === "expired" ? now - 7200 : now)
    .setExpirationTime(kind === "expired" ? now - 3600 : now + 3600)
    .setSubject("bench-user");
  const signed = await jwt.sign(SECRET);
  return kind === "bad-signature" ? `${signed.slice(0, -4)}AAAA` : signed;
}

function json(res, status, body, headers = {}) {
  res.writeHead(status, { "content-type": "application/json", ...headers });
  res.end(JSON.stringify(body));
}

async function verifyBearer(req) {
  const { jwtVerify } = await import("jose");
  const m = /^Bearer\s+(\S+)$/i.exec(req.headers.authorization ?? "");
  if (!m) return { ok: false, why: "missing" };
  try {
    const { payload } = await jwtVerify(m[1], SECRET);
    return { ok: true, scopes: String(payload.scope ?? "").split(" ") };
  } catch {
    return { ok: false, why: "invalid" };
  }
}

/** One handler per app kind; `spec` is the instance's `app` part. */
const HANDLERS = {
  async jwt(req, res, spec) {
    const auth = await verifyBearer(req);
    if (!auth.ok)
      return json(res, 401, { error: spec.message }, { "www-authenticate": 'Bearer error="invalid_token"' });
    if (!auth.scopes.includes(spec.scope)) {
      const extra = spec.route.length % 2 ? { "www-authenticate": 'Bearer error="insufficient_scope"' } : {};
      return json(res, 403, { error: spec.message }, extra);
    }
    return json(res, 200, { ok: true });
  },
  csrf(req, res, spec, body) {
    const token = createHash("sha256").update(spec.route).digest("hex").slice(0, 24);
    // As CSRF middlewares do (Django, csurf): only non-safe methods are checked.
    if (req.method === "OPTIONS" || req.method === "HEAD") {
      res.writeHead(204);
      return res.end();
    }
    if (req.method === "GET") {
      res.writeHead(200, { "content-type": "text/html", "set-cookie": `sid=${token.slice(0, 8)}; Path=/` });
      return res.end(
        `<html><body><form method="post"><input type="hidden" name="${spec.field}" value="${token}"><button>Send</button></form></body></html>`,
      );
    }
    const sent = new URLSearchParams(body).get(spec.field);
    if (sent !== token) {
      res.writeHead(spec.status, { "content-type": "text/html" });
      return res.end(
        `<html><body><h1>${spec.status === 419 ? "Page Expired" : "Forbidden"}</h1><p>${spec.message}</p></body></html>`,
      );
    }
    return json(res, 200, { ok: true });
  },
  quota(req, res, spec) {
    if (req.headers[spec.header.toLowerCase()] === "fresh") return json(res, 200, { ok: true });
    const headers = { "x-ratelimit-limit": "10", "x-ratelimit-remaining": "0" };
    if (spec.retryAfter !== null) headers["retry-after"] = String(spec.retryAfter);
    return json(res, spec.status, { error: spec.message }, headers);
  },
  business(_req, res, spec, body) {
    let value = null;
    try {
      value = JSON.parse(body)[spec.field];
    } catch {
      // not JSON: treated as accepted
    }
    if (value === "refuse") return json(res, spec.status, { error: spec.message });
    return json(res, 200, { ok: true });
  },
  origin(req, res, spec) {
    if (req.headers.origin && req.headers.origin !== spec.allowed)
      return json(res, 403, { error: spec.message });
    return json(res, 200, { ok: true }, { "access-control-allow-origin": spec.allowed });
  },
  moved(req, res, spec) {
    const final = `/${spec.route}/`;
    if (req.url === final || req.url.startsWith(`${final}?`)) {
      if (req.method === "POST") return json(res, 200, { ok: true });
      return spec.finalStatus === 405
        ? json(res, 405, { error: "method not allowed" }, { allow: "POST" })
        : json(res, 403, { error: "forbidden" });
    }
    res.writeHead(spec.status, { location: final });
    return res.end();
  },
};

const appsOf = (instances, framework) =>
  instances.filter((i) => i.app?.framework === framework).map((i) => i.app);

/**
 * The Node application: the Express instances' routes by exact path (and the trailing-slash
 * form of a moved one), and every front rule's directory answered 200 (what the rule guards).
 */
export async function startSpaceApp(instances) {
  const routes = new Map();
  for (const spec of appsOf(instances, "express")) {
    routes.set(`/${spec.route}`, spec);
    if (spec.kind === "moved") routes.set(`/${spec.route}/`, spec);
  }
  const openPrefixes = instances.filter((i) => i.rule).map((i) => `/${i.rule.dir}/`);
  let executed = 0;
  const server = createServer((req, res) => {
    const chunks = [];
    req.on("data", (c) => chunks.push(c));
    req.on("end", () => {
      const path = (req.url ?? "/").split("?")[0];
      if (!["GET", "HEAD", "OPTIONS"].includes(req.method ?? "GET")) executed++;
      const spec = routes.get(path);
      if (spec) return HANDLERS[spec.kind](req, res, spec, Buffer.concat(chunks).toString("utf8"));
      if (openPrefixes.some((p) => path.startsWith(p))) return json(res, 200, { ok: true });
      return json(res, 404, { error: "not found" });
    });
  });
  await new Promise((r) => server.listen(0, "127.0.0.1", r));
  return {
    port: server.address().port,
    executed: async () => executed,
    stop: () => new Promise((r) => server.close(r)),
  };
}

function waitForPort(port, what, log, child) {
  const deadline = Date.now() + 20_000;
  return new Promise((resolve, reject) => {
    const attempt = () => {
      if (child.exitCode !== null) return reject(new Error(`${what} exited: ${tailOf(log)}`));
      const s = connect({ host: "127.0.0.1", port });
      s.once("connect", () => {
        s.destroy();
        resolve();
      });
      s.once("error", () => {
        if (Date.now() > deadline) return reject(new Error(`${what} did not answer: ${tailOf(log)}`));
        setTimeout(attempt, 100);
      });
    };
    attempt();
  });
}

function tailOf(path) {
  try {
    return readFileSync(path, "utf8").trim().split("\n").slice(-3).join(" | ");
  } catch {
    return "(no log)";
  }
}

/** Runs a server in the foreground, its output in `log`; stopped by the pid it was given. */
async function foreground(what, file, args, { cwd, env, log, port }) {
  const out = openSync(log, "a");
  const child = spawn(file, args, { cwd, env: { ...process.env, ...env }, stdio: ["ignore", out, out] });
  closeSync(out);
  await waitForPort(port, what, log, child);
  return () =>
    new Promise((resolve) => {
      if (child.exitCode !== null) return resolve();
      child.once("exit", resolve);
      child.kill("SIGTERM");
      setTimeout(() => child.exitCode === null && child.kill("SIGKILL"), 4000).unref();
    });
}

/** A Django or Flask application with the instances of that framework (bench/space/apps/). */
export async function startSpacePython(framework, instances, dir) {
  mkdirSync(dir, { recursive: true });
  const spec = join(dir, `${framework}.json`);
  writeFileSync(spec, JSON.stringify(appsOf(instances, framework)));
  const [port] = await freePorts(1);
  const stop = await foreground(framework, PYTHON, [join(HERE, "apps", `${framework}_app.py`)], {
    cwd: dir,
    env: { PORT: String(port), SPACE_SPEC: spec, SPACE_SECRET: SECRET_TEXT, PYTHONDONTWRITEBYTECODE: "1" },
    log: join(dir, `${framework}.log`),
    port,
  });
  const executed = async () => {
    const r = await fetch(`http://127.0.0.1:${port}/__space_ledger`);
    return (await r.json()).count;
  };
  return { port, executed, stop };
}

function sha1Htpasswd(user, password) {
  return `${user}:{SHA}${createHash("sha1").update(password).digest("base64")}\n`;
}

/**
 * Pages a front answers with that imitate another product: a CDN's access-denied page and
 * a bot challenge. Neither product is there; the front's own rule refused.
 */
export const STYLED_PAGES = {
  cdn: "<html><head><title>Access denied</title></head><body><h1>Access denied</h1><p>Error 1020</p><p>You do not have access to this page.</p></body></html>",
  challenge:
    "<html><head><title>Just a moment...</title></head><body><h1>Checking your browser before accessing the site.</h1><p>Please enable JavaScript and cookies to continue.</p><noscript>JavaScript is required.</noscript></body></html>",
};

/** Where a front sends an application instance: the port of its framework. */
function appPort(inst, ports) {
  return ports[inst.app.framework];
}

// ---------- nginx ----------

function nginxLocation(inst, dir, ports) {
  const n = inst.rule;
  if (!n)
    return `location = /${inst.app.route} { proxy_pass http://127.0.0.1:${appPort(inst, ports)}; }
    location ^~ /${inst.app.route}/ { proxy_pass http://127.0.0.1:${appPort(inst, ports)}; }`;
  const app = `proxy_pass http://127.0.0.1:${ports.express};`;
  const at = `location /${n.dir}/`;
  switch (n.kind) {
    case "static":
    case "no-index":
      return `${at} { }`;
    case "allow-only":
      return `${at} { allow ${ALLOWED_CLIENT}; deny all; ${app} }`;
    case "deny-all":
      return `${at} { deny all; }`;
    case "styled-deny":
      return `${at} { deny all; error_page 403 /__styled_${n.style}.html; }`;
    case "limit-except":
      return `${at} { limit_except GET { deny all; } ${app} }`;
    case "return":
      return `${at} { return 403; }`;
    case "header-rule":
      return `${at} { if ($http_${n.header.toLowerCase().replace(/-/g, "_")} = "${n.value}") { return 403; } ${app} }`;
    case "basic-auth":
      writeFileSync(join(dir, `${n.dir}.htpasswd`), sha1Htpasswd(n.user, n.password));
      return `${at} { auth_basic "members"; auth_basic_user_file ${join(dir, `${n.dir}.htpasswd`)}; ${app} }`;
    default:
      throw new Error(`nginx cannot express ${n.kind}`);
  }
}

/** Files the static instances serve: one the worker may not read, one it may. */
function writeFiles(inst, html) {
  const n = inst.rule;
  if (!n || (n.kind !== "static" && n.kind !== "no-index")) return;
  const d = join(html, n.dir);
  mkdirSync(d, { recursive: true });
  writeFileSync(join(d, "__open__"), "ok\n");
  if (n.kind === "static") {
    const locked = join(d, n.locked);
    writeFileSync(locked, "secret\n");
    chmodSync(locked, 0o000);
    chownSync(locked, 0, 0);
  }
}

/** Starts nginx for its instances; `dir` is its own directory (wiped first). */
export async function startSpaceNginx(instances, dir, ports) {
  rmSync(dir, { recursive: true, force: true });
  const html = join(dir, "html");
  mkdirSync(html, { recursive: true });
  for (const d of [dir, html]) chmodSync(d, 0o755);
  for (const [style, page] of Object.entries(STYLED_PAGES))
    writeFileSync(join(html, `__styled_${style}.html`), `${page}\n`);
  for (const inst of instances) writeFiles(inst, html);
  const [port] = await freePorts(1);
  const conf = `worker_processes 1;
daemon on;
pid ${join(dir, "nginx.pid")};
error_log ${join(dir, "error.log")};
${isRoot ? "user www-data;" : ""}
events { worker_connections 256; }
http {
  access_log ${join(dir, "access.log")};
  client_body_temp_path ${join(dir, "tmp")};
  proxy_temp_path ${join(dir, "tmp")};
  fastcgi_temp_path ${join(dir, "tmp")};
  uwsgi_temp_path ${join(dir, "tmp")};
  scgi_temp_path ${join(dir, "tmp")};
  server {
    listen 127.0.0.1:${port};
    root ${html};
    autoindex off;
    location ~ ^/__styled_ { internal; }
    ${instances.map((i) => nginxLocation(i, dir, ports)).join("\n    ")}
    location / { return 404; }
  }
}
`;
  mkdirSync(join(dir, "tmp"), { recursive: true });
  writeFileSync(join(dir, "nginx.conf"), conf);
  const r = spawnSync("/usr/sbin/nginx", ["-c", join(dir, "nginx.conf"), "-p", dir], { encoding: "utf8" });
  if (r.status !== 0) throw new Error(`nginx did not start: ${r.stderr.trim().split("\n").at(-1)}`);
  return {
    port,
    stop: async () => {
      spawnSync("/usr/sbin/nginx", ["-c", join(dir, "nginx.conf"), "-p", dir, "-s", "stop"], {
        stdio: "ignore",
      });
    },
  };
}

// ---------- HAProxy ----------

function haproxyLines(n) {
  const at = `{ path_beg /${n.dir}/ }`;
  switch (n.kind) {
    case "allow-only":
      return [`http-request deny if ${at} !{ src ${ALLOWED_CLIENT} }`];
    case "deny-all":
      return [`http-request deny if ${at}`];
    case "styled-deny":
      return [
        `http-request deny deny_status 403 content-type text/html string "${STYLED_PAGES[n.style]}" if ${at}`,
      ];
    case "return":
      return [`http-request return status 403 if ${at}`];
    case "limit-except":
      return [`http-request deny if ${at} !{ method GET HEAD }`];
    case "header-rule":
      return [`http-request deny if ${at} { req.hdr(${n.header}) -m str ${n.value} }`];
    case "basic-auth":
      return [`http-request auth realm members if ${at} !{ http_auth(u_${n.dir}) }`];
    default:
      throw new Error(`HAProxy cannot express ${n.kind}`);
  }
}

export async function startSpaceHaproxy(instances, dir, ports) {
  mkdirSync(dir, { recursive: true });
  const [port] = await freePorts(1);
  const rules = [];
  const userlists = [];
  const routes = { django: [], flask: [] };
  for (const inst of instances) {
    if (inst.rule) {
      rules.push(...haproxyLines(inst.rule));
      if (inst.rule.kind === "basic-auth")
        userlists.push(
          `userlist u_${inst.rule.dir}\n    user ${inst.rule.user} insecure-password ${inst.rule.password}`,
        );
    } else if (inst.app.framework !== "express") routes[inst.app.framework].push(`/${inst.app.route}`);
  }
  const use = (fw) =>
    routes[fw].length
      ? `    acl to_${fw} path ${routes[fw].join(" ")}\n    acl to_${fw} path_beg ${routes[fw].map((r) => `${r}/`).join(" ")}\n    use_backend ${fw} if to_${fw}`
      : "";
  const conf = `global
    maxconn 512
defaults
    mode http
    timeout connect 5s
    timeout client 30s
    timeout server 30s
${userlists.join("\n")}
frontend web
    bind 127.0.0.1:${port}
    ${rules.join("\n    ")}
${use("django")}
${use("flask")}
    default_backend express
backend express
    server s1 127.0.0.1:${ports.express}
backend django
    server s1 127.0.0.1:${ports.django}
backend flask
    server s1 127.0.0.1:${ports.flask}
`;
  writeFileSync(join(dir, "haproxy.cfg"), conf);
  const stop = await foreground("haproxy", "/usr/sbin/haproxy", ["-db", "-f", join(dir, "haproxy.cfg")], {
    cwd: dir,
    log: join(dir, "haproxy.log"),
    port,
  });
  return { port, stop };
}

// ---------- Caddy ----------

function caddyLines(n, i) {
  const m = `@r${i}`;
  const at = `path /${n.dir}/*`;
  switch (n.kind) {
    case "allow-only":
      return [`${m} {\n\t\t${at}\n\t\tnot remote_ip ${ALLOWED_CLIENT}\n\t}`, `respond ${m} 403`];
    case "deny-all":
      return [`${m} ${at}`, `respond ${m} 403`];
    case "styled-deny":
      return [`${m} ${at}`, `respond ${m} "${STYLED_PAGES[n.style]}" 403`];
    case "limit-except":
      return [`${m} {\n\t\t${at}\n\t\tnot method GET HEAD\n\t}`, `respond ${m} 403`];
    case "header-rule":
      return [`${m} {\n\t\t${at}\n\t\theader ${n.header} ${n.value}\n\t}`, `respond ${m} 403`];
    case "basic-auth": {
      const hash = Buffer.from(bcrypt.hashSync(n.password, 4)).toString("base64");
      return [`${m} ${at}`, `basicauth ${m} {\n\t\t${n.user} ${hash}\n\t}`];
    }
    default:
      throw new Error(`Caddy cannot express ${n.kind}`);
  }
}

export async function startSpaceCaddy(instances, dir, ports) {
  mkdirSync(join(dir, "home"), { recursive: true });
  const [port] = await freePorts(1);
  const lines = [];
  const routes = { django: [], flask: [] };
  instances.forEach((inst, i) => {
    if (inst.rule) lines.push(...caddyLines(inst.rule, i));
    else if (inst.app.framework !== "express")
      routes[inst.app.framework].push(`/${inst.app.route}`, `/${inst.app.route}/*`);
  });
  for (const fw of ["django", "flask"])
    if (routes[fw].length)
      lines.push(`@to_${fw} path ${routes[fw].join(" ")}`, `reverse_proxy @to_${fw} 127.0.0.1:${ports[fw]}`);
  const conf = `{
	admin off
	auto_https off
	storage file_system ${join(dir, "data")}
}

http://127.0.0.1:${port} {
	bind 127.0.0.1
	${lines.join("\n\t")}
	reverse_proxy 127.0.0.1:${ports.express}
}
`;
  writeFileSync(join(dir, "Caddyfile"), conf);
  const home = join(dir, "home");
  const stop = await foreground(
    "caddy",
    "/usr/bin/caddy",
    ["run", "--adapter", "caddyfile", "--config", join(dir, "Caddyfile")],
    {
      cwd: dir,
      env: { HOME: home, XDG_DATA_HOME: join(home, "data"), XDG_CONFIG_HOME: join(home, "config") },
      log: join(dir, "caddy.log"),
      port,
    },
  );
  return { port, stop };
}

// ---------- Squid (reverse proxy, "accel" mode) ----------

function squidLines(n, i) {
  const at = `acl d${i} urlpath_regex ^/${n.dir}/`;
  switch (n.kind) {
    case "allow-only":
      return [at, `http_access deny d${i} !allowed_client`];
    case "deny-all":
      return [at, `http_access deny d${i}`];
    case "limit-except":
      return [at, `http_access deny d${i} !read_methods`];
    case "header-rule":
      return [at, `acl h${i} req_header ${n.header} ^${n.value}$`, `http_access deny d${i} h${i}`];
    default:
      throw new Error(`Squid cannot express ${n.kind}`);
  }
}

export async function startSpaceSquid(instances, dir, ports) {
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(dir, { recursive: true });
  const [port] = await freePorts(1);
  const rules = [];
  const routes = { django: [], flask: [] };
  instances.forEach((inst, i) => {
    if (inst.rule) rules.push(...squidLines(inst.rule, i));
    else if (inst.app.framework !== "express") routes[inst.app.framework].push(inst.app.route);
  });
  const peers = ["express", "django", "flask"].map(
    (fw) => `cache_peer 127.0.0.1 parent ${ports[fw]} 0 no-query originserver login=PASSTHRU name=${fw}`,
  );
  const access = [];
  for (const fw of ["django", "flask"]) {
    if (!routes[fw].length) {
      access.push(`cache_peer_access ${fw} deny all`);
      continue;
    }
    access.push(
      `acl to_${fw} urlpath_regex ^/(${routes[fw].join("|")})(/|$)`,
      `cache_peer_access ${fw} allow to_${fw}`,
      `cache_peer_access ${fw} deny all`,
    );
  }
  const notOthers = ["django", "flask"].filter((fw) => routes[fw].length).map((fw) => `!to_${fw}`);
  access.push(`cache_peer_access express allow ${notOthers.join(" ")}`.trimEnd());
  if (!notOthers.length) access[access.length - 1] = "cache_peer_access express allow all";
  const conf = `http_port 127.0.0.1:${port} accel defaultsite=127.0.0.1 no-vhost
visible_hostname edge-1
${isRoot ? "cache_effective_user proxy" : ""}
pid_filename ${join(dir, "squid.pid")}
cache_log ${join(dir, "cache.log")}
access_log stdio:${join(dir, "access.log")} squid
coredump_dir ${dir}
netdb_filename none
cache deny all
cache_mem 8 MB
shutdown_lifetime 0 seconds
dns_nameservers 127.0.0.1
never_direct allow all
${peers.join("\n")}
${access.join("\n")}
acl allowed_client src ${ALLOWED_CLIENT}
acl read_methods method GET HEAD
${rules.join("\n")}
http_access allow localhost
http_access allow allowed_client
http_access deny all
`;
  writeFileSync(join(dir, "squid.conf"), conf);
  chmodSync(dir, 0o755);
  if (isRoot) {
    const [, , uid, gid] = readFileSync("/etc/passwd", "utf8")
      .split("\n")
      .find((l) => l.startsWith("proxy:"))
      .split(":");
    chownSync(dir, Number(uid), Number(gid));
  }
  const stop = await foreground("squid", "/usr/sbin/squid", ["-N", "-f", join(dir, "squid.conf")], {
    cwd: dir,
    log: join(dir, "squid.out"),
    port,
  });
  return { port, stop };
}
