// Starts and stops the real-server lab: the Node app, nginx, and Apache with
// ModSecurity + OWASP CRS, all on 127.0.0.1 with their own configs, pids and logs
// under <root>/.run/lab/<name>/. Used by test/global-setup.ts and by start.mjs/stop.mjs.
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
const START_TIMEOUT_MS = 12_000;
const STOP_TIMEOUT_MS = 4_000;
const isRoot = typeof process.getuid === "function" && process.getuid() === 0;
const WORKER_USER = "www-data";

/** .run/lab.json: the pointer tests read through test/lab.ts getLab(). */
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
    return true;
  } catch (err) {
    return err.code === "EPERM";
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
async function freePorts(n) {
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
  const uid = Number(process.env.LAB_WORKER_UID ?? workerIds().uid);
  const gid = Number(process.env.LAB_WORKER_GID ?? workerIds().gid);
  for (const p of paths) chownSync(p, uid, gid);
}

let cachedWorkerIds;
function workerIds() {
  if (!cachedWorkerIds) {
    const line = readFileSync("/etc/passwd", "utf8")
      .split("\n")
      .find((l) => l.startsWith(`${WORKER_USER}:`));
    if (!line) throw new Error(`lab: user ${WORKER_USER} not found in /etc/passwd`);
    const [, , uid, gid] = line.split(":");
    cachedWorkerIds = { uid: Number(uid), gid: Number(gid) };
  }
  return cachedWorkerIds;
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
async function startApp(runDir, ports, state) {
  const dir = join(runDir, "app");
  mkdirs(dir);
  const log = join(dir, "app.log");
  const out = openSync(join(dir, "stdout.log"), "a");
  const child = spawn(process.execPath, [join(LAB_SRC, "apps", "node", "server.mjs")], {
    cwd: join(LAB_SRC, ".."),
    env: {
      ...process.env,
      NODE_ENV: "production",
      HOST: "127.0.0.1",
      PORT: String(ports.app),
      APP_LOG: log,
      JWT_SECRET: randomBytes(32).toString("hex"),
      ALLOWED_ORIGINS: "http://app.lab.test",
    },
    detached: true,
    stdio: ["ignore", out, out],
  });
  closeSync(out);
  child.unref();
  let exited;
  child.once("exit", (code, signal) => {
    exited = `exited with ${signal ?? code}`;
  });
  state.pids.app = { pid: child.pid, program: "server.mjs" };
  saveState(runDir, state);
  await waitForPort(ports.app, "node app", () =>
    exited ? `${exited}\n${tail(join(dir, "stdout.log"))}` : undefined,
  );
  const url = `http://127.0.0.1:${ports.app}`;
  return { url, port: ports.app, ledgerUrl: `${url}/__ledger`, tokensUrl: `${url}/__tokens`, log };
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

// ---------- public API ----------

/**
 * Starts a fresh lab in <root>/.run/lab/<name>/ and returns its LabInfo
 * (see test/lab.ts). On any failure everything already started is stopped
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
  const [app, nginx, apache] = await freePorts(3);
  const ports = { app, nginx, apache };
  const state = { owner, name, startedAt: new Date().toISOString(), ports, pids: {} };
  saveState(runDir, state);
  try {
    const appInfo = await startApp(runDir, ports, state);
    const [nginxInfo, apacheInfo] = await Promise.all([
      startNginx(runDir, ports, state),
      startApache(runDir, ports, state),
    ]);
    const info = { runDir, nginx: nginxInfo, apache: apacheInfo, apps: { node: appInfo } };
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
