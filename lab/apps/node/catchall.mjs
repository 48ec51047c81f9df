// Lab applications that route EVERY path into their own code, each with a
// ledger of every execution on any path (the safety test reads them):
//   front    a PHP-style front controller: acts on `action` from the query
//            (index.php?action=…) or the form body (admin-ajax.php style)
//   graphql  a GraphQL-style endpoint on a catch-all: acts on any POST whose
//            JSON body holds a mutation, whatever the path
//   express  Express `app.all('*')`: acts on any non-safe method on any path
//   override a method-override app: X-HTTP-Method-Override or `_method`
//            (query or body) is honoured on ANY method, on any path
// Ports from FRONT_PORT, GRAPHQL_PORT, EXPRESS_PORT, OVERRIDE_PORT; the ledgers
// are served on LEDGER_PORT (GET / → { front: {count, entries}, … }), a port of
// its own so that no ledger path exists on the apps themselves.
import { createServer } from "node:http";
import express from "express";

const HOST = process.env.HOST ?? "127.0.0.1";
const SAFE = new Set(["GET", "HEAD", "OPTIONS"]);
const ledgers = { front: [], graphql: [], express: [], override: [] };

function record(app, req, extra = {}) {
  const list = ledgers[app];
  list.push({
    seq: list.length + 1,
    reqId: req.headers["x-request-id"] ?? null,
    method: req.method,
    path: (req.url ?? "").split("?")[0],
    ...extra,
  });
}

function readBody(req) {
  return new Promise((resolve) => {
    const chunks = [];
    let size = 0;
    req.on("data", (c) => {
      size += c.length;
      if (size <= 1024 * 1024) chunks.push(c);
    });
    req.on("end", () => resolve(Buffer.concat(chunks).toString("utf8")));
    req.on("error", () => resolve(""));
  });
}

function send(res, status, body, headers = {}) {
  res.writeHead(status, {
    "Content-Type": "text/html; charset=utf-8",
    "X-Powered-By": "PHP/8.2.7",
    ...headers,
  });
  res.end(body);
}

// ---------- front controller: query- and body-routed ----------
const front = createServer(async (req, res) => {
  const url = new URL(req.url ?? "/", "http://front.invalid");
  const body = await readBody(req);
  const form = new URLSearchParams(body);
  const action = url.searchParams.get("action") ?? form.get("action");
  if (req.method === "OPTIONS") return send(res, 200, "", { Allow: "GET, POST, OPTIONS, HEAD" });
  if (!SAFE.has(req.method ?? "GET")) {
    if (!action) return send(res, 400, "0");
    // A destructive action needs the nonce the admin page issues: without it the app refuses.
    if (action.startsWith("delete") && form.get("nonce") !== "lab-nonce")
      return send(res, 403, '{"success":false,"data":"invalid nonce"}', {
        "Content-Type": "application/json",
      });
    record("front", req, { action });
    return send(res, 200, '{"success":true}', { "Content-Type": "application/json" });
  }
  if (url.pathname === "/" || url.pathname === "/index.php")
    return send(res, 200, "<!doctype html><title>Lab Blog</title><h1>Lab Blog</h1>");
  return send(
    res,
    404,
    "<!doctype html><title>Page not found – Lab Blog</title><h1>Oops! That page can't be found.</h1>",
  );
});

// ---------- GraphQL-style catch-all ----------
const graphql = createServer(async (req, res) => {
  const body = await readBody(req);
  const json = { "Content-Type": "application/json", "X-Powered-By": "graphql-lab" };
  if (req.method !== "POST") {
    return send(res, 400, '{"errors":[{"message":"Must provide query string."}]}', json);
  }
  let doc = "";
  try {
    doc = String(JSON.parse(body).query ?? "");
  } catch {
    return send(res, 400, '{"errors":[{"message":"Body is not JSON."}]}', json);
  }
  if (/^\s*mutation\b/.test(doc)) {
    record("graphql", req, { operation: "mutation" });
    return send(res, 200, '{"data":{"ok":true}}', json);
  }
  return send(res, 200, '{"data":{"posts":[]}}', json);
});

// ---------- Express app.all('*') ----------
const all = express();
all.disable("x-powered-by");
all.use(express.text({ type: "*/*", limit: "1mb" }));
all.all("*", (req, res) => {
  if (SAFE.has(req.method)) return res.status(404).json({ error: "not found" });
  const origin = req.get("origin");
  if (origin && origin !== "http://catchall.test")
    return res.status(403).json({ error: "origin not allowed" });
  record("express", req);
  return res.status(201).json({ created: true });
});

// ---------- method override, honoured on any method ----------
const override = express();
override.disable("x-powered-by");
override.use(express.urlencoded({ extended: false }));
override.use((req, _res, next) => {
  const q = new URL(req.url, "http://o.invalid").searchParams.get("_method");
  const m = req.get("x-http-method-override") ?? req.body?._method ?? q;
  if (m) req.method = String(m).toUpperCase();
  next();
});
override.use((req, res) => {
  if (SAFE.has(req.method)) return res.status(200).json({ posts: [] });
  if (req.get("authorization") !== "Bearer lab-good-token")
    return res.status(401).set("WWW-Authenticate", 'Bearer realm="lab"').json({ error: "unauthorized" });
  record("override", req, { effective: req.method });
  return res.status(200).json({ done: req.method });
});

const ledger = createServer((_req, res) => {
  const out = {};
  for (const [name, list] of Object.entries(ledgers)) out[name] = { count: list.length, entries: list };
  res.writeHead(200, { "Content-Type": "application/json" });
  res.end(JSON.stringify(out));
});

for (const [server, port] of [
  [front, process.env.FRONT_PORT],
  [graphql, process.env.GRAPHQL_PORT],
  [ledger, process.env.LEDGER_PORT],
]) {
  server.listen(Number(port), HOST);
}
all.listen(Number(process.env.EXPRESS_PORT), HOST);
override.listen(Number(process.env.OVERRIDE_PORT), HOST);
