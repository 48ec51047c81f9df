// Renders generated instances (generate.mjs) into real servers: one nginx (Debian's,
// as the lab runs it) with a location per instance, and one small Node application
// with a route per instance. Both on 127.0.0.1, in their own directory; the caller
// stops them. The app counts every request with a non-safe method it executes, per
// path, so the bench can check that a default run executed nothing beyond the replay.
import { spawn, spawnSync } from "node:child_process";
import { createHash, randomBytes } from "node:crypto";
import { chmodSync, chownSync, mkdirSync, rmSync, writeFileSync } from "node:fs";
import { createServer } from "node:http";
import { join } from "node:path";
import { SignJWT } from "jose";
import { freePorts } from "../../lab/lab.mjs";

const SECRET = new TextEncoder().encode(randomBytes(32).toString("hex"));

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

/** The application: routes by exact path (and its trailing-slash form), counts executions. */
export async function startSpaceApp(instances) {
  const routes = new Map();
  const openPrefixes = [];
  for (const inst of instances) {
    if (inst.app) {
      routes.set(`/${inst.app.route}`, inst.app);
      if (inst.app.kind === "moved") routes.set(`/${inst.app.route}/`, inst.app);
    }
    if (inst.nginx) openPrefixes.push(`/${inst.nginx.dir}/`);
  }
  const executed = new Map();
  const server = createServer((req, res) => {
    const chunks = [];
    req.on("data", (c) => chunks.push(c));
    req.on("end", () => {
      const path = (req.url ?? "/").split("?")[0];
      if (!["GET", "HEAD", "OPTIONS"].includes(req.method ?? "GET"))
        executed.set(path, (executed.get(path) ?? 0) + 1);
      const spec = routes.get(path);
      if (spec) return HANDLERS[spec.kind](req, res, spec, Buffer.concat(chunks).toString("utf8"));
      if (openPrefixes.some((p) => path.startsWith(p))) return json(res, 200, { ok: true });
      return json(res, 404, { error: "not found" });
    });
  });
  await new Promise((r) => server.listen(0, "127.0.0.1", r));
  return { port: server.address().port, executed, close: () => new Promise((r) => server.close(r)) };
}

function sha1Htpasswd(user, password) {
  return `${user}:{SHA}${createHash("sha1").update(password).digest("base64")}\n`;
}

const STYLED_PAGE =
  "<html><head><title>Access denied</title></head><body><h1>Access denied</h1><p>Error 1020</p><p>You do not have access to this page.</p></body></html>\n";

/** nginx location blocks for one instance. */
function locationFor(inst, dir, appPort) {
  const n = inst.nginx;
  const app = `proxy_pass http://127.0.0.1:${appPort};`;
  if (!n) return inst.front === "nginx-proxy" ? `location /${inst.app.route} { ${app} }` : "";
  const at = `location /${n.dir}/`;
  switch (n.kind) {
    case "static":
    case "no-index":
      return `${at} { }`;
    case "allow-only":
      return `${at} { allow 127.0.0.2; deny all; ${app} }`;
    case "deny-all":
      return `${at} { deny all; }`;
    case "styled-deny":
      return `${at} { deny all; error_page 403 /__styled_403.html; }`;
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
      throw new Error(`unknown nginx kind ${n.kind}`);
  }
}

/** Files the static instances serve: one the worker may not read, one it may. */
function writeFiles(inst, html) {
  const n = inst.nginx;
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

/** Starts nginx for the instances; `dir` is its own directory (wiped first). */
export async function startSpaceNginx(instances, dir, appPort) {
  rmSync(dir, { recursive: true, force: true });
  const html = join(dir, "html");
  mkdirSync(html, { recursive: true });
  for (const d of [dir, html]) chmodSync(d, 0o755);
  writeFileSync(join(html, "__styled_403.html"), STYLED_PAGE);
  for (const inst of instances) writeFiles(inst, html);
  const [port] = await freePorts(1);
  const locations = instances.map((i) => locationFor(i, dir, appPort)).filter(Boolean);
  const conf = `worker_processes 1;
daemon on;
pid ${join(dir, "nginx.pid")};
error_log ${join(dir, "error.log")};
${process.getuid?.() === 0 ? "user www-data;" : ""}
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
    location = /__styled_403.html { internal; }
    ${locations.join("\n    ")}
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
    stop: () =>
      spawn("/usr/sbin/nginx", ["-c", join(dir, "nginx.conf"), "-p", dir, "-s", "stop"], { stdio: "ignore" }),
  };
}
