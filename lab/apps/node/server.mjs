// The lab's Node application: an Express 4 app whose routes refuse requests for
// real reasons (CSRF, bearer JWT, rate limit, business rule, Origin allowlist,
// method rules). Every state-changing request that is executed is appended to an
// in-memory ledger so tests can prove whether a request went through.
//
// Env: PORT (required), HOST (default 127.0.0.1), APP_LOG (JSON-lines log path),
//      JWT_SECRET (HS256 secret), ALLOWED_ORIGINS (comma list), RATE_LIMIT (per minute).
import { randomBytes, randomUUID } from "node:crypto";
import { appendFileSync } from "node:fs";
import { hostname } from "node:os";
import cookieParser from "cookie-parser";
import { csrfSync } from "csrf-sync";
import express from "express";
import { ipKeyGenerator, rateLimit } from "express-rate-limit";
import { errors as joseErrors, jwtVerify, SignJWT } from "jose";

const port = Number(process.env.PORT);
if (!Number.isInteger(port) || port <= 0) throw new Error("PORT must be set to a port number");
const host = process.env.HOST || "127.0.0.1";
const logPath = process.env.APP_LOG || "";
const jwtSecret = new TextEncoder().encode(process.env.JWT_SECRET || randomBytes(32).toString("hex"));
const allowedOrigins = (process.env.ALLOWED_ORIGINS || "http://app.lab.test").split(",").map((s) => s.trim());
const messagesPerMinute = Number(process.env.RATE_LIMIT || 3);
const transferLimitEur = 1000;
const jwtIssuer = "lab.test";

// ---------- logging (pino-like JSON lines) ----------
const LEVELS = { debug: 20, info: 30, warn: 40, error: 50 };
function log(level, fields, msg) {
  if (!logPath) return;
  const line = {
    level: LEVELS[level],
    time: Date.now(),
    pid: process.pid,
    hostname: hostname(),
    ...fields,
    msg,
  };
  appendFileSync(logPath, JSON.stringify(line) + "\n");
}

// ---------- ledger of executed state-changing requests ----------
const ledger = [];
function record(req, action, details = {}) {
  const entry = {
    seq: ledger.length + 1,
    time: new Date().toISOString(),
    reqId: req.id,
    method: req.method,
    path: req.baseUrl + req.path,
    action,
    ...details,
  };
  ledger.push(entry);
  return entry;
}

// ---------- minimal in-memory session keyed by an HttpOnly `sid` cookie ----------
const sessions = new Map();
function sessionMiddleware(req, res, next) {
  let sid = req.cookies?.sid;
  if (!sid || !sessions.has(sid)) {
    sid = randomBytes(18).toString("base64url");
    sessions.set(sid, {});
    res.cookie("sid", sid, { httpOnly: true, sameSite: "lax", path: "/" });
  }
  req.session = sessions.get(sid);
  next();
}

const app = express();
app.disable("x-powered-by");
// The lab's proxies (nginx, Apache) run on loopback and set X-Forwarded-For.
app.set("trust proxy", "loopback");

// Request id: honour the caller's / proxy's X-Request-Id, else mint one.
app.use((req, res, next) => {
  req.id = req.get("x-request-id") || randomUUID();
  res.set("X-Request-Id", req.id);
  res.on("finish", () => {
    const refused = res.statusCode >= 400;
    log(
      refused ? "warn" : "info",
      {
        reqId: req.id,
        method: req.method,
        url: req.originalUrl,
        status: res.statusCode,
        remoteAddress: req.ip,
        ...(res.locals.reason ? { reason: res.locals.reason } : {}),
      },
      refused ? "request refused" : "request completed",
    );
  });
  next();
});
app.use(cookieParser());

/** Ends a request with a refusal and records why, for the app log. */
function refuse(res, status, reason, body) {
  res.locals.reason = reason;
  res.status(status).json(body);
}

// ---------- lab plumbing ----------
app.get("/__ledger", (_req, res) => res.json({ count: ledger.length, entries: ledger }));
app.get("/__health", (_req, res) => res.json({ ok: true }));

// Mints the tokens tests need. Lab-only: a real service would never expose this.
app.get("/__tokens", async (_req, res) => {
  const sign = (scope, exp) =>
    new SignJWT({ scope })
      .setProtectedHeader({ alg: "HS256", typ: "JWT" })
      .setIssuer(jwtIssuer)
      .setSubject("lab-user")
      .setIssuedAt()
      .setExpirationTime(exp)
      .sign(jwtSecret);
  const now = Math.floor(Date.now() / 1000);
  res.json({
    readOnly: await sign("orders:read", now + 3600),
    write: await sign("orders:read orders:write", now + 3600),
    expired: await sign("orders:read orders:write", now - 600),
  });
});

// ---------- /form/comment: CSRF synchroniser token (csrf-sync) ----------
const { csrfSynchronisedProtection, generateToken } = csrfSync({
  getTokenFromRequest: (req) => req.body?._csrf ?? req.get("x-csrf-token"),
});
const formRouter = express.Router();
formRouter.use(sessionMiddleware, express.urlencoded({ extended: false }), csrfSynchronisedProtection);
formRouter.get("/comment", (req, res) => {
  const token = generateToken(req);
  res.type("html").send(`<!doctype html>
<html><head><title>Leave a comment</title></head>
<body>
<form method="post" action="/form/comment">
  <input type="hidden" name="_csrf" value="${token}">
  <textarea name="comment"></textarea>
  <button type="submit">Send</button>
</form>
</body></html>
`);
});
formRouter.post("/comment", (req, res) => {
  const entry = record(req, "comment.create", { length: String(req.body.comment ?? "").length });
  res.status(201).json({ ok: true, id: entry.seq });
});
app.use("/form", formRouter);

// ---------- /api/orders: bearer JWT with scopes (jose) ----------
function bearerAuth(requiredScope) {
  return async (req, res, next) => {
    const match = /^Bearer\s+(\S+)$/i.exec(req.get("authorization") || "");
    if (!match) {
      res.set("WWW-Authenticate", "Bearer");
      return refuse(res, 401, "missing bearer token", {
        error: "unauthorized",
        message: "Bearer token required",
      });
    }
    try {
      const { payload } = await jwtVerify(match[1], jwtSecret, { issuer: jwtIssuer, algorithms: ["HS256"] });
      req.auth = payload;
    } catch (err) {
      const expired = err instanceof joseErrors.JWTExpired;
      const description = expired ? "token expired" : "token invalid";
      res.set("WWW-Authenticate", `Bearer error="invalid_token", error_description="${description}"`);
      return refuse(res, 401, description, { error: "invalid_token", message: description });
    }
    const scopes = String(req.auth.scope || "").split(" ");
    if (requiredScope && !scopes.includes(requiredScope)) {
      res.set("WWW-Authenticate", `Bearer error="insufficient_scope", scope="${requiredScope}"`);
      return refuse(res, 403, `scope ${requiredScope} missing`, {
        error: "insufficient_scope",
        message: `This action needs the ${requiredScope} scope`,
      });
    }
    next();
  };
}
app.get("/api/orders", bearerAuth(null), (_req, res) => res.json({ orders: [] }));
// A read that needs the write scope (an export of every order): a GET refused by scope.
app.get("/api/orders/export", bearerAuth("orders:write"), (_req, res) =>
  res.json({ orders: [], format: "json" }),
);
app.post("/api/orders", express.json(), bearerAuth("orders:write"), (req, res) => {
  const entry = record(req, "order.create", { sub: req.auth.sub });
  res.status(201).json({ ok: true, id: entry.seq });
});

// ---------- /api/messages: rate limit (express-rate-limit) ----------
const messagesLimiter = rateLimit({
  windowMs: 60_000,
  limit: messagesPerMinute,
  standardHeaders: false,
  legacyHeaders: true,
  // A client id header when the caller sends one (an API client), else the address.
  keyGenerator: (req) => req.get("x-client-id") || ipKeyGenerator(req.ip || ""),
  handler: (_req, res, _next, options) => {
    refuse(res, options.statusCode, "rate limit exceeded", {
      error: "rate_limited",
      message: `Too many messages: at most ${options.limit} per minute`,
    });
  },
  statusCode: 403,
});
app.post("/api/messages", messagesLimiter, express.json(), (req, res) => {
  const entry = record(req, "message.send");
  res.status(201).json({ ok: true, id: entry.seq });
});

// ---------- /api/exports: an API key in X-API-Key ----------
const apiKeys = new Set([process.env.LAB_API_KEY || "lab-key-0123456789abcdef"]);
app.post("/api/exports", express.json(), (req, res) => {
  const key = req.get("x-api-key");
  if (!key) return refuse(res, 403, "api key missing", { message: "Missing API key" });
  if (!apiKeys.has(key)) return refuse(res, 403, "api key invalid", { message: "Invalid API key" });
  const entry = record(req, "export.create", {});
  res.status(201).json({ ok: true, id: entry.seq });
});

// ---------- /api/transfers: business rule ----------
app.post("/api/transfers", express.json(), (req, res) => {
  const amount = Number(req.body?.amount);
  if (!Number.isFinite(amount) || amount <= 0) {
    return refuse(res, 400, "invalid amount", {
      error: "invalid_amount",
      message: "amount must be a positive number",
    });
  }
  if (amount > transferLimitEur) {
    return refuse(res, 403, "transfer limit exceeded", {
      error: "limit_exceeded",
      message: `Transfers above ${transferLimitEur} EUR need a verified account`,
    });
  }
  const entry = record(req, "transfer.create", { amount });
  res.status(201).json({ ok: true, id: entry.seq });
});

// ---------- /api/profile: Origin allowlist ----------
function originCheck(req, res, next) {
  const origin = req.get("origin");
  if (origin && allowedOrigins.includes(origin)) {
    res.set("Access-Control-Allow-Origin", origin);
    res.set("Access-Control-Allow-Credentials", "true");
    res.vary("Origin");
  } else if (origin) {
    res.vary("Origin");
    return refuse(res, 403, `origin ${origin} not allowed`, { error: "origin_not_allowed" });
  }
  next();
}
app.options("/api/profile", originCheck, (_req, res) => {
  res.set("Access-Control-Allow-Methods", "POST");
  res.set("Access-Control-Allow-Headers", "Content-Type, X-Request-Id");
  res.set("Access-Control-Max-Age", "600");
  res.sendStatus(204);
});
app.post("/api/profile", originCheck, express.json(), (req, res) => {
  const entry = record(req, "profile.update");
  res.status(200).json({ ok: true, id: entry.seq });
});

// ---------- plain handlers (guarded by Apache + ModSecurity in front) ----------
app.post("/api/items", express.json({ limit: "1mb" }), (req, res) => {
  const entry = record(req, "item.create", { fields: Object.keys(req.body || {}).length });
  res.status(201).json({ ok: true, id: entry.seq });
});
app.post("/contact", express.urlencoded({ extended: false }), (req, res) => {
  const entry = record(req, "contact.send", { fields: Object.keys(req.body || {}).length });
  res.status(201).json({ ok: true, id: entry.seq });
});

// ---------- targets behind HAProxy (its ACL and stick-table guard them) ----------
app.get("/internal/status", (_req, res) => res.json({ ok: true, area: "internal" }));
app.post("/internal/jobs", express.json(), (req, res) => {
  const entry = record(req, "internal.job");
  res.status(201).json({ ok: true, id: entry.seq });
});
app.post("/api/burst", express.json(), (req, res) => {
  const entry = record(req, "burst.event");
  res.status(201).json({ ok: true, id: entry.seq });
});

// ---------- /api/legacy: moved permanently, POST-only target ----------
app.all("/api/legacy", (_req, res) => res.redirect(301, "/api/v2/legacy"));
app.post("/api/v2/legacy", express.json(), (req, res) => {
  const entry = record(req, "legacy.submit");
  res.status(201).json({ ok: true, id: entry.seq });
});
app.all("/api/v2/legacy", (_req, res) => {
  res.set("Allow", "POST");
  refuse(res, 405, "method not allowed", { error: "method_not_allowed", allow: ["POST"] });
});

// ---------- fallbacks ----------
app.use((_req, res) => refuse(res, 404, "no route", { error: "not_found" }));
// Errors raised by middleware (csrf-sync's ForbiddenError, body-parser's 400/413).
app.use((err, req, res, _next) => {
  const status = Number(err.status || err.statusCode) || 500;
  res.locals.reason = err.message;
  if (status >= 500) log("error", { reqId: req.id, err: String(err.stack || err) }, "handler error");
  const name = err.name && err.name !== "Error" ? err.name : "Error";
  const message = status >= 500 ? "Internal Server Error" : err.message;
  if (req.accepts(["html", "json"]) === "json") {
    res.status(status).json({ error: err.code || name, message });
  } else {
    res
      .status(status)
      .type("html")
      .send(`<!DOCTYPE html>
<html lang="en">
<head><meta charset="utf-8"><title>Error</title></head>
<body><pre>${name}: ${message}</pre></body>
</html>
`);
  }
});

const server = app.listen(port, host, () => log("info", { port, host }, "lab app listening"));
for (const signal of ["SIGTERM", "SIGINT"]) {
  process.on(signal, () => server.close(() => process.exit(0)));
}
