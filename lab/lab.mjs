// Starts and stops the real-server lab: the Node app, nginx, Apache with
// ModSecurity + OWASP CRS, HAProxy, Squid, Caddy, a Django site and a Flask app, all on
// 127.0.0.1 with their own configs, pids and logs under <root>/.run/lab/<name>/.
// Used by test/global-setup.ts and by start.mjs/stop.mjs.
import { execFile, spawn } from "node:child_process";
import { randomBytes } from "node:crypto";
import {
  chmodSync,
  chownSync,
  closeSync,
  existsSync,
  mkdirSync,
  openSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
  writeFileSync,
} from "node:fs";
import { connect, createServer } from "node:net";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const LAB_SRC = dirname(fileURLToPath(import.meta.url));
const NGINX = "/usr/sbin/nginx";
const APACHE = "/usr/sbin/apache2";
const HAPROXY = "/usr/sbin/haproxy";
const SQUID = "/usr/sbin/squid";
const CADDY = "/usr/bin/caddy";
// Debian's python3 sees python3-django / python3-flask; another python on PATH may not.
const PYTHON = "/usr/bin/python3";
const SQUID_USER = "proxy";
const START_TIMEOUT_MS = 12_000;
const STOP_TIMEOUT_MS = 4_000;
const isRoot = typeof process.getuid === "function" && process.getuid() === 0;
const WORKER_USER = "www-data";

/** .run/lab.json: the pointer tests read through test/helpers/lab.ts getLab(). */
export function labJsonPath(root) {
  return join(root, ".run", "lab.json");
}

export function labBaseDir(root) {
  return join(root, ".run", "lab");
}

// ---------- small helpers ----------
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

function fill(template, values) {
  return template.replace(/\{\{([A-Z_]+)\}\}/g, (whole, key) => {
    if (!(key in values)) throw new Error(`lab template: no value for ${whole}`);
    return values[key];
  });
}

function renderTemplate(src, dest, values) {
  writeFileSync(dest, fill(readFileSync(join(LAB_SRC, src), "utf8"), values));
}

function tail(path, lines = 20) {
  try {
    return readFileSync(path, "utf8").trimEnd().split("\n").slice(-lines).join("\n");
  } catch {
    return `(no ${path})`;
  }
}

function isAlive(pid) {
  try {
    process.kill(pid, 0);
  } catch (err) {
    return err.code === "EPERM";
  }
  // A zombie has exited; it only waits for its parent (or init, after start.mjs left) to reap it.
  try {
    return !/^State:\s+Z/m.test(readFileSync(`/proc/${pid}/status`, "utf8"));
  } catch {
    return true;
  }
}

/** The pid still runs the program we started (guards against pid reuse). */
function runsProgram(pid, needle) {
  try {
    return readFileSync(`/proc/${pid}/cmdline`, "utf8").includes(needle);
  } catch {
    return isAlive(pid);
  }
}

function readPidFile(path) {
  try {
    const pid = Number(readFileSync(path, "utf8").trim());
    return Number.isInteger(pid) && pid > 0 ? pid : undefined;
  } catch {
    return undefined;
  }
}

/** Asks the OS for n distinct free ports on 127.0.0.1 (held together so none repeats). */
export async function freePorts(n) {
  const servers = [];
  try {
    for (let i = 0; i < n; i++) {
      const server = createServer();
      await new Promise((resolve, reject) => {
        server.once("error", reject);
        server.listen(0, "127.0.0.1", resolve);
      });
      servers.push(server);
    }
    return servers.map((s) => s.address().port);
  } finally {
    await Promise.all(servers.map((s) => new Promise((r) => s.close(r))));
  }
}

function portAnswers(port) {
  return new Promise((resolve) => {
    const socket = connect({ host: "127.0.0.1", port });
    socket.setTimeout(500);
    socket.once("connect", () => {
      socket.destroy();
      resolve(true);
    });
    socket.once("timeout", () => {
      socket.destroy();
      resolve(false);
    });
    socket.once("error", () => resolve(false));
  });
}

/** Waits until the port accepts connections; gives up early when `failed()` says the server died. */
async function waitForPort(port, what, failed) {
  const deadline = Date.now() + START_TIMEOUT_MS;
  while (Date.now() < deadline) {
    if (await portAnswers(port)) return;
    const reason = failed();
    if (reason) throw new Error(`${what} did not start: ${reason}`);
    await sleep(50);
  }
  throw new Error(`${what} did not answer on 127.0.0.1:${port} within ${START_TIMEOUT_MS} ms`);
}

function run(file, args) {
  return new Promise((resolve) => {
    execFile(file, args, { timeout: START_TIMEOUT_MS }, (err, stdout, stderr) => {
      resolve({ code: err ? (err.code ?? 1) : 0, stdout, stderr });
    });
  });
}

function mkdirs(...dirs) {
  for (const d of dirs) mkdirSync(d, { recursive: true });
}

/** The worker user must traverse to and read files in the run dir. */
function openUpForWorkers(root, runDir) {
  for (const dir of [join(root, ".run"), labBaseDir(root), runDir]) {
    const mode = statSync(dir).mode & 0o777;
    chmodSync(dir, mode | 0o005);
  }
}

function chownToWorker(...paths) {
  if (!isRoot) return;
  const uid = Number(process.env.LAB_WORKER_UID ?? userIds(WORKER_USER).uid);
  const gid = Number(process.env.LAB_WORKER_GID ?? userIds(WORKER_USER).gid);
  for (const p of paths) chownSync(p, uid, gid);
}

function chownToUser(user, ...paths) {
  if (!isRoot) return;
  const { uid, gid } = userIds(user);
  for (const p of paths) chownSync(p, uid, gid);
}

const cachedUserIds = new Map();
function userIds(user) {
  if (!cachedUserIds.has(user)) {
    const line = readFileSync("/etc/passwd", "utf8")
      .split("\n")
      .find((l) => l.startsWith(`${user}:`));
    if (!line) throw new Error(`lab: user ${user} not found in /etc/passwd`);
    const [, , uid, gid] = line.split(":");
    cachedUserIds.set(user, { uid: Number(uid), gid: Number(gid) });
  }
  return cachedUserIds.get(user);
}

// ---------- state: what we started, so stop can kill exactly that ----------
function stateFile(runDir) {
  return join(runDir, "state.json");
}

function saveState(runDir, state) {
  writeFileSync(stateFile(runDir), JSON.stringify(state, null, 2));
}

function loadState(runDir) {
  try {
    return JSON.parse(readFileSync(stateFile(runDir), "utf8"));
  } catch {
    return undefined;
  }
}

// ---------- the three servers ----------

/**
 * Starts one of the lab's Node apps (lab/apps/node/<script>) from the checkout root,
 * in production mode on 127.0.0.1, its output appended to <dir>/stdout.log, and
 * waits until every one of its ports answers.
 */
function spawnNodeApp(runDir, state, { key, what, script, dir, ports, env }) {
  return startForeground(runDir, state, {
    key,
    what,
    file: process.execPath,
    args: [join(LAB_SRC, "apps", "node", script)],
    cwd: join(LAB_SRC, ".."),
    env: { NODE_ENV: "production", HOST: "127.0.0.1", ...env },
    logFile: join(dir, "stdout.log"),
    port: ports,
    program: script,
  });
}

async function startApp(runDir, ports, state) {
  const dir = join(runDir, "app");
  mkdirs(dir);
  const log = join(dir, "app.log");
  await spawnNodeApp(runDir, state, {
    key: "app",
    what: "node app",
    script: "server.mjs",
    dir,
    ports: [ports.app],
    env: {
      PORT: String(ports.app),
      APP_LOG: log,
      JWT_SECRET: randomBytes(32).toString("hex"),
      ALLOWED_ORIGINS: "http://app.lab.test",
    },
  });
  const url = `http://127.0.0.1:${ports.app}`;
  return { url, port: ports.app, ledgerUrl: `${url}/__ledger`, tokensUrl: `${url}/__tokens`, log };
}

/**
 * The apps that route every path into their code (lab/apps/node/catchall.mjs), each
 * with a ledger of every execution on any path. Fronted by Apache + CRS and nginx
 * (host catchall.test: the front controller) and nginx + ModSecurity v3 (host
 * graphql.test); the Express catch-all and the method-override app are reached directly.
 */
async function startCatchall(runDir, ports, state) {
  const dir = join(runDir, "catchall");
  mkdirs(dir);
  const p = ports.catchall;
  await spawnNodeApp(runDir, state, {
    key: "catchall",
    what: "catch-all apps",
    script: "catchall.mjs",
    dir,
    ports: [p.front, p.graphql, p.express, p.override, p.ledger],
    env: {
      FRONT_PORT: String(p.front),
      GRAPHQL_PORT: String(p.graphql),
      EXPRESS_PORT: String(p.express),
      OVERRIDE_PORT: String(p.override),
      LEDGER_PORT: String(p.ledger),
    },
  });
  const url = (port) => `http://127.0.0.1:${port}`;
  return {
    ledgerUrl: url(p.ledger),
    front: url(p.front),
    graphql: url(p.graphql),
    express: url(p.express),
    override: url(p.override),
    frontHost: "catchall.test",
    graphqlHost: "graphql.test",
  };
}

function prepareNginxFiles(dir) {
  const html = join(dir, "html");
  mkdirs(
    join(dir, "tmp"),
    join(html, "admin"),
    join(html, "reports"),
    join(html, "static", "docs"),
    join(html, "private"),
  );
  writeFileSync(join(html, "index.html"), "<!doctype html><title>lab</title><p>lab nginx</p>\n");
  writeFileSync(join(html, "admin", "index.html"), "<!doctype html><title>admin</title><p>admin area</p>\n");
  writeFileSync(join(html, "reports", "index.html"), "<!doctype html><title>reports</title><p>reports</p>\n");
  writeFileSync(join(html, "reports", "q3.txt"), "Q3 report\n");
  writeFileSync(join(html, "static", "docs", "guide.txt"), "A document in a directory without an index.\n");
  writeFileSync(join(html, "upload.txt"), "upload form placeholder\n");
  const secret = join(html, "private", "secret.txt");
  writeFileSync(secret, "not for the web server's eyes\n");
  chmodSync(secret, 0o000); // owned by root: the worker (www-data) gets EACCES
  for (const d of [
    dir,
    html,
    join(html, "admin"),
    join(html, "reports"),
    join(html, "static"),
    join(html, "static", "docs"),
    join(html, "private"),
  ]) {
    chmodSync(d, 0o755);
  }
}

async function startNginx(runDir, ports, state) {
  const dir = join(runDir, "nginx");
  mkdirs(dir);
  prepareNginxFiles(dir);
  const conf = join(dir, "nginx.conf");
  const errorLog = join(dir, "error.log");
  renderTemplate("nginx/nginx.conf.tmpl", conf, {
    RUN: runDir,
    APP_PORT: String(ports.app),
    FRONT_PORT: String(ports.catchall.front),
    NGINX_PORT: String(ports.nginx),
    USER_LINE: isRoot ? `user ${WORKER_USER};` : "# not root: workers run as the current user",
  });
  const result = await run(NGINX, ["-p", `${dir}/`, "-e", errorLog, "-c", conf]);
  const pidFile = join(dir, "nginx.pid");
  const pid = readPidFile(pidFile);
  if (pid) {
    state.pids.nginx = { pid, program: "nginx" };
    saveState(runDir, state);
  }
  if (result.code !== 0) {
    throw new Error(`nginx did not start (exit ${result.code}): ${result.stderr.trim()}\n${tail(errorLog)}`);
  }
  await waitForPort(ports.nginx, "nginx", () => {
    const p = readPidFile(pidFile);
    return p && !isAlive(p) ? `master ${p} died\n${tail(errorLog)}` : undefined;
  });
  return {
    url: `http://127.0.0.1:${ports.nginx}`,
    port: ports.nginx,
    host: "lab.test",
    accessLog: join(dir, "access.log"),
    errorLog,
    conf,
    root: join(dir, "html"),
  };
}

/** A second nginx with ModSecurity v3 + CRS (the nginx connector), in front of the app. */
async function startNginxModsec(runDir, ports, state) {
  const dir = join(runDir, "nginx-modsec");
  const modsec = join(dir, "modsec");
  mkdirs(join(dir, "tmp"), join(modsec, "tmp"), join(modsec, "data"));
  chmodSync(dir, 0o755);
  chownToWorker(join(modsec, "tmp"), join(modsec, "data"));
  const conf = join(dir, "nginx.conf");
  const errorLog = join(dir, "error.log");
  const values = {
    RUN: runDir,
    APP_PORT: String(ports.app),
    NGINX_MODSEC_PORT: String(ports.nginxModsec),
    GRAPHQL_PORT: String(ports.catchall.graphql),
    USER_LINE: isRoot ? `user ${WORKER_USER};` : "# not root: workers run as the current user",
  };
  renderTemplate("nginx-modsec/nginx.conf.tmpl", conf, values);
  renderTemplate("nginx-modsec/main.conf.tmpl", join(modsec, "main.conf"), values);
  // The CRS setup is the same as Apache's (no v2-only directives in it).
  renderTemplate("apache/crs-setup.conf.tmpl", join(modsec, "crs-setup.conf"), values);
  const auditLog = join(dir, "modsec_audit.log");
  writeFileSync(auditLog, "");
  chownToWorker(auditLog);
  const result = await run(NGINX, ["-p", `${dir}/`, "-e", errorLog, "-c", conf]);
  const pidFile = join(dir, "nginx.pid");
  const pid = readPidFile(pidFile);
  if (pid) {
    state.pids.nginxModsec = { pid, program: "nginx" };
    saveState(runDir, state);
  }
  if (result.code !== 0) {
    throw new Error(
      `nginx-modsec did not start (exit ${result.code}): ${result.stderr.trim()}\n${tail(errorLog)}`,
    );
  }
  await waitForPort(ports.nginxModsec, "nginx-modsec", () => {
    const p = readPidFile(pidFile);
    return p && !isAlive(p) ? `master ${p} died\n${tail(errorLog)}` : undefined;
  });
  return {
    url: `http://127.0.0.1:${ports.nginxModsec}`,
    port: ports.nginxModsec,
    host: "lab.test",
    accessLog: join(dir, "access.log"),
    errorLog,
    auditLog,
    conf,
  };
}

async function startApache(runDir, ports, state) {
  const dir = join(runDir, "apache");
  const modsec = join(dir, "modsec");
  mkdirs(join(dir, "runtime"), join(dir, "htdocs", "admin"), join(modsec, "tmp"), join(modsec, "data"));
  writeFileSync(join(dir, "htdocs", "index.html"), "<!doctype html><title>lab</title><p>lab apache</p>\n");
  writeFileSync(
    join(dir, "htdocs", "admin", "index.html"),
    "<!doctype html><title>admin</title><p>apache admin</p>\n",
  );
  chmodSync(dir, 0o755);
  chownToWorker(modsec, join(modsec, "tmp"), join(modsec, "data"), join(dir, "runtime"));
  const conf = join(dir, "httpd.conf");
  const values = {
    RUN: runDir,
    APP_PORT: String(ports.app),
    APACHE_PORT: String(ports.apache),
    FRONT_PORT: String(ports.catchall.front),
    USER_LINES: isRoot
      ? `User ${WORKER_USER}\nGroup ${WORKER_USER}`
      : "# not root: workers run as the current user",
    AUDIT_FORMAT_LINE: "SecAuditLogFormat JSON",
  };
  renderTemplate("apache/httpd.conf.tmpl", conf, values);
  renderTemplate("apache/modsecurity.conf.tmpl", join(dir, "modsecurity.conf"), values);
  renderTemplate("apache/crs-setup.conf.tmpl", join(dir, "crs-setup.conf"), values);
  const errorLog = join(dir, "error.log");
  const result = await run(APACHE, ["-f", conf, "-k", "start"]);
  const pidFile = join(dir, "httpd.pid");
  if (result.code !== 0) {
    const pid = readPidFile(pidFile);
    if (pid) state.pids.apache = { pid, program: "apache2" };
    saveState(runDir, state);
    throw new Error(`apache did not start (exit ${result.code}): ${result.stderr.trim()}\n${tail(errorLog)}`);
  }
  await waitForPort(ports.apache, "apache", () => {
    const p = readPidFile(pidFile);
    if (p && !state.pids.apache) {
      state.pids.apache = { pid: p, program: "apache2" };
      saveState(runDir, state);
    }
    return p && !isAlive(p) ? `parent ${p} died\n${tail(errorLog)}` : undefined;
  });
  // -k start returns once the parent has forked; the pid file is written by then or soon after.
  for (let i = 0; i < 100 && !readPidFile(pidFile); i++) await sleep(20);
  const pid = readPidFile(pidFile);
  if (pid) {
    state.pids.apache = { pid, program: "apache2" };
    saveState(runDir, state);
  }
  return {
    url: `http://127.0.0.1:${ports.apache}`,
    port: ports.apache,
    host: "lab.test",
    accessLog: join(dir, "access.log"),
    errorLog,
    auditLog: join(dir, "modsec_audit.log"),
    conf,
  };
}

// ---------- servers run in the foreground under the lab's control ----------

/**
 * Spawns a server that stays in the foreground (its pid is the one we record), with
 * stdout and stderr appended to `logFile`, and waits for its port (or for each of
 * its ports in turn, when `port` is a list).
 */
async function startForeground(runDir, state, { key, what, file, args, cwd, env, logFile, port, program }) {
  const out = openSync(logFile, "a");
  const child = spawn(file, args, {
    cwd,
    env: { ...process.env, ...env },
    detached: true,
    stdio: ["ignore", out, out],
  });
  closeSync(out);
  child.unref();
  let exited;
  child.once("error", (err) => {
    exited = `could not run ${file}: ${err.message}`;
  });
  child.once("exit", (code, signal) => {
    exited = `exited with ${signal ?? code}`;
  });
  if (child.pid) {
    state.pids[key] = { pid: child.pid, program };
    saveState(runDir, state);
  }
  for (const p of [port].flat()) {
    await waitForPort(p, what, () => (exited ? `${exited}\n${tail(logFile)}` : undefined));
  }
}

async function startHaproxy(runDir, ports, state) {
  const dir = join(runDir, "haproxy");
  mkdirs(dir);
  const conf = join(dir, "haproxy.cfg");
  renderTemplate("haproxy/haproxy.cfg.tmpl", conf, {
    RUN: runDir,
    APP_PORT: String(ports.app),
    HAPROXY_PORT: String(ports.haproxy),
  });
  const log = join(dir, "haproxy.log");
  // -db: stay in the foreground; -W would add a master process we do not need.
  await startForeground(runDir, state, {
    key: "haproxy",
    what: "haproxy",
    file: HAPROXY,
    args: ["-db", "-f", conf],
    cwd: dir,
    logFile: log,
    port: ports.haproxy,
    program: "haproxy",
  });
  return { url: `http://127.0.0.1:${ports.haproxy}`, port: ports.haproxy, log, conf };
}

async function startSquid(runDir, ports, state) {
  const dir = join(runDir, "squid");
  mkdirs(dir);
  const conf = join(dir, "squid.conf");
  renderTemplate("squid/squid.conf.tmpl", conf, {
    RUN: runDir,
    APP_PORT: String(ports.app),
    SQUID_PORT: String(ports.squid),
    USER_LINE: isRoot ? `cache_effective_user ${SQUID_USER}` : "# not root: runs as the current user",
  });
  // Squid drops to `proxy` before it opens its logs and pid file.
  chmodSync(dir, 0o755);
  chownToUser(SQUID_USER, dir);
  const out = join(dir, "squid.out");
  await startForeground(runDir, state, {
    key: "squid",
    what: "squid",
    file: SQUID,
    args: ["-N", "-f", conf],
    cwd: dir,
    logFile: out,
    port: ports.squid,
    program: "squid",
  });
  return {
    url: `http://127.0.0.1:${ports.squid}`,
    port: ports.squid,
    accessLog: join(dir, "access.log"),
    cacheLog: join(dir, "cache.log"),
    conf,
  };
}

async function startCaddy(runDir, ports, state) {
  const dir = join(runDir, "caddy");
  mkdirs(join(dir, "data"), join(dir, "home"));
  const conf = join(dir, "Caddyfile");
  renderTemplate("caddy/Caddyfile.tmpl", conf, {
    RUN: runDir,
    APP_PORT: String(ports.app),
    CADDY_PORT: String(ports.caddy),
  });
  const log = join(dir, "caddy.log");
  const home = join(dir, "home");
  await startForeground(runDir, state, {
    key: "caddy",
    what: "caddy",
    file: CADDY,
    args: ["run", "--adapter", "caddyfile", "--config", conf],
    cwd: dir,
    env: { HOME: home, XDG_DATA_HOME: join(home, "data"), XDG_CONFIG_HOME: join(home, "config") },
    logFile: log,
    port: ports.caddy,
    program: "caddy",
  });
  return {
    url: `http://127.0.0.1:${ports.caddy}`,
    port: ports.caddy,
    accessLog: join(dir, "access.log"),
    log,
    conf,
  };
}

async function startDjango(runDir, ports, state) {
  const dir = join(runDir, "django");
  mkdirs(dir);
  const log = join(dir, "django.log");
  await startForeground(runDir, state, {
    key: "django",
    what: "django",
    file: PYTHON,
    args: ["manage.py", "runserver", `127.0.0.1:${ports.django}`, "--noreload"],
    cwd: join(LAB_SRC, "apps", "django"),
    env: {
      DJANGO_SECRET_KEY: randomBytes(32).toString("hex"),
      PYTHONDONTWRITEBYTECODE: "1",
      PYTHONUNBUFFERED: "1",
    },
    logFile: log,
    port: ports.django,
    program: "manage.py",
  });
  const url = `http://127.0.0.1:${ports.django}`;
  return { url, port: ports.django, ledgerUrl: `${url}/__ledger`, log };
}

async function startFlask(runDir, ports, state) {
  const dir = join(runDir, "flask");
  mkdirs(dir);
  const log = join(dir, "flask.log");
  await startForeground(runDir, state, {
    key: "flask",
    what: "flask",
    file: PYTHON,
    args: [join(LAB_SRC, "apps", "flask", "app.py")],
    cwd: dir,
    env: {
      HOST: "127.0.0.1",
      PORT: String(ports.flask),
      FLASK_SECRET_KEY: randomBytes(32).toString("hex"),
      PYTHONDONTWRITEBYTECODE: "1",
      PYTHONUNBUFFERED: "1",
    },
    logFile: log,
    port: ports.flask,
    program: "app.py",
  });
  const url = `http://127.0.0.1:${ports.flask}`;
  return { url, port: ports.flask, ledgerUrl: `${url}/__ledger`, log };
}

// ---------- public API ----------

/**
 * Starts a fresh lab in <root>/.run/lab/<name>/ and returns its LabInfo
 * (see test/helpers/lab.ts). On any failure everything already started is stopped
 * and the error carries the tail of the failing server's log.
 */
export async function startLab({ root, name = "manual", owner = process.pid } = {}) {
  if (!root) throw new Error("startLab: root is required");
  reapStaleLabs(root);
  const runDir = join(labBaseDir(root), name);
  stopLab(runDir);
  rmSync(runDir, { recursive: true, force: true });
  mkdirs(runDir);
  openUpForWorkers(root, runDir);
  const [app, nginx, apache, haproxy, squid, caddy, django, flask, nginxModsec, ...more] =
    await freePorts(14);
  const [front, graphql, express, override, ledger] = more;
  const ports = {
    app,
    nginx,
    apache,
    haproxy,
    squid,
    caddy,
    django,
    flask,
    nginxModsec,
    catchall: { front, graphql, express, override, ledger },
  };
  const state = { owner, name, startedAt: new Date().toISOString(), ports, pids: {} };
  saveState(runDir, state);
  try {
    const appInfo = await startApp(runDir, ports, state);
    const catchallInfo = await startCatchall(runDir, ports, state);
    // allSettled: on a failure, stop only after every start has recorded its pid.
    const settled = await Promise.allSettled([
      startNginx(runDir, ports, state),
      startApache(runDir, ports, state),
      startHaproxy(runDir, ports, state),
      startSquid(runDir, ports, state),
      startCaddy(runDir, ports, state),
      startDjango(runDir, ports, state),
      startFlask(runDir, ports, state),
      startNginxModsec(runDir, ports, state),
    ]);
    const failures = settled.filter((r) => r.status === "rejected").map((r) => r.reason);
    if (failures.length > 0) {
      throw failures.length === 1
        ? failures[0]
        : new Error(failures.map((f) => f?.message ?? String(f)).join("\n---\n"));
    }
    const [nginxInfo, apacheInfo, haproxyInfo, squidInfo, caddyInfo, djangoInfo, flaskInfo, nginxModsecInfo] =
      settled.map((r) => r.value);
    const info = {
      runDir,
      nginx: nginxInfo,
      apache: apacheInfo,
      haproxy: haproxyInfo,
      squid: squidInfo,
      caddy: caddyInfo,
      nginxModsec: nginxModsecInfo,
      apps: { node: appInfo, django: djangoInfo, flask: flaskInfo },
      catchall: catchallInfo,
    };
    writeFileSync(join(runDir, "lab.json"), JSON.stringify(info, null, 2) + "\n");
    return info;
  } catch (err) {
    await stopLabAndWait(runDir);
    throw err;
  }
}

/** Sends SIGTERM to every process the lab in runDir recorded. Returns the pids signalled. */
export function stopLab(runDir) {
  const state = loadState(runDir);
  if (!state) return [];
  const signalled = [];
  for (const { pid, program } of Object.values(state.pids ?? {})) {
    if (pid && isAlive(pid) && runsProgram(pid, program)) {
      try {
        process.kill(pid, "SIGTERM");
        signalled.push(pid);
      } catch {
        // already gone
      }
    }
  }
  return signalled;
}

/** Stops the lab and waits until its processes are gone (SIGKILL after a grace period). */
export async function stopLabAndWait(runDir) {
  const pids = stopLab(runDir);
  const deadline = Date.now() + STOP_TIMEOUT_MS;
  while (pids.some(isAlive) && Date.now() < deadline) await sleep(50);
  for (const pid of pids.filter(isAlive)) {
    try {
      process.kill(pid, "SIGKILL");
    } catch {
      // already gone
    }
  }
  // Forget the pids so a later stop or reap never signals a reused pid.
  const state = loadState(runDir);
  if (state) saveState(runDir, { ...state, pids: {}, stoppedAt: new Date().toISOString() });
  return pids;
}

/** Stops and removes labs left behind by test runs whose process has gone (a killed vitest). */
export function reapStaleLabs(root) {
  const base = labBaseDir(root);
  if (!existsSync(base)) return;
  for (const entry of readdirSync(base)) {
    if (!entry.startsWith("run-")) continue;
    const runDir = join(base, entry);
    const state = loadState(runDir);
    if (state?.owner && isAlive(state.owner)) continue;
    // No state yet: another run may be creating it right now; reap only old leftovers.
    if (!state && Date.now() - statSync(runDir).mtimeMs < 60_000) continue;
    stopLab(runDir);
    rmSync(runDir, { recursive: true, force: true });
  }
}
