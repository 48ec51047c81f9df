// The embedded demo: small Node HTTP services on random 127.0.0.1 ports with
// several kinds of refusal, each implemented as the real check it stands for
// (a content filter with anomaly scoring, a CSRF token, JWT scopes and expiry, a
// rate limit, an address allowlist, a method rule, a redirect). It needs nothing
// outside the package.
import { createHmac, randomBytes } from "node:crypto";
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";

export interface DemoScenario {
  id: string;
  title: string;
  expected: string;
  /** curl arguments the user would paste (URL filled in at start). */
  curl: string[];
}

export interface DemoLab {
  url: string;
  scenarios: DemoScenario[];
  /** State-changing requests the app executed, per path. */
  ledger: Array<{ path: string; at: string }>;
  close(): Promise<void>;
}

const SECRET = randomBytes(16);

function b64url(b: Buffer | string): string {
  return Buffer.from(b).toString("base64url");
}

function mintJwt(claims: Record<string, unknown>): string {
  const head = b64url(JSON.stringify({ alg: "HS256", typ: "JWT" }));
  const body = b64url(JSON.stringify(claims));
  const sig = createHmac("sha256", SECRET).update(`${head}.${body}`).digest("base64url");
  return `${head}.${body}.${sig}`;
}

function verifyJwt(token: string): Record<string, unknown> | null {
  const [h, b, s] = token.split(".");
  if (!h || !b || !s) return null;
  const want = createHmac("sha256", SECRET).update(`${h}.${b}`).digest("base64url");
  if (want !== s) return null;
  try {
    return JSON.parse(Buffer.from(b, "base64url").toString("utf8")) as Record<string, unknown>;
  } catch {
    return null;
  }
}

/** A tiny anomaly-scoring content filter: patterns add scores; 5 or more blocks. */
const FILTER_RULES: Array<{ id: number; re: RegExp; score: number; msg: string }> = [
  { id: 1001, re: /\bunion\b[\s\S]{0,40}\bselect\b/i, score: 5, msg: "SQL injection: UNION SELECT" },
  { id: 1002, re: /'\s*or\s*'?\d+'?\s*=\s*'?\d+/i, score: 5, msg: "SQL injection: tautology" },
  { id: 1003, re: /<script[\s>]/i, score: 5, msg: "XSS: script tag" },
  { id: 1004, re: /\.\.\/\.\.\//, score: 3, msg: "path traversal" },
  { id: 1005, re: /;\s*(cat|wget|curl)\s/i, score: 3, msg: "command injection" },
];

function filterScore(text: string): { score: number; hits: number[] } {
  let score = 0;
  const hits: number[] = [];
  for (const r of FILTER_RULES) {
    if (r.re.test(text)) {
      score += r.score;
      hits.push(r.id);
    }
  }
  return { score, hits };
}

function readBody(req: IncomingMessage, cap = 1 << 20): Promise<string> {
  return new Promise((resolve) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on("data", (c: Buffer) => {
      size += c.length;
      if (size <= cap) chunks.push(c);
    });
    req.on("end", () => resolve(Buffer.concat(chunks).toString("utf8")));
    req.on("error", () => resolve(""));
  });
}

function json(
  res: ServerResponse,
  status: number,
  body: unknown,
  headers: Record<string, string> = {},
): void {
  res.writeHead(status, { "content-type": "application/json", ...headers });
  res.end(JSON.stringify(body));
}

function cookies(req: IncomingMessage): Record<string, string> {
  const out: Record<string, string> = {};
  for (const part of (req.headers.cookie ?? "").split(";")) {
    const i = part.indexOf("=");
    if (i > 0) out[part.slice(0, i).trim()] = part.slice(i + 1).trim();
  }
  return out;
}

export async function startDemoLab(): Promise<DemoLab> {
  const ledger: DemoLab["ledger"] = [];
  const sessions = new Map<string, string>(); // sid -> csrf token
  const hits = new Map<string, number[]>(); // client -> timestamps for the rate limit

  const execute = (path: string) => ledger.push({ path, at: new Date().toISOString() });

  const server: Server = createServer(async (req, res) => {
    const url = new URL(req.url ?? "/", "http://demo.local");
    const body = await readBody(req);
    const method = req.method ?? "GET";

    // The content filter sits in front of the whole host, as firewalls do, and
    // inspects query and body.
    {
      const { score, hits: ids } = filterScore(`${decodeURIComponent(url.search)}\n${body}`);
      if (score >= 5) {
        res.writeHead(403, {
          "content-type": "text/html",
          "x-demo-filter": `blocked; rules=${ids.join(",")}`,
        });
        res.end(
          `<html><body><h1>Request blocked</h1><p>The demo content filter blocked this request (anomaly score ${score}).</p></body></html>`,
        );
        return;
      }
    }

    if (url.pathname === "/shop/reviews" && method === "POST") {
      execute(url.pathname);
      return json(res, 201, { ok: true });
    }

    if (url.pathname === "/account/email") {
      const c = cookies(req);
      if (method === "GET") {
        const sid = c.sid && sessions.has(c.sid) ? c.sid : b64url(randomBytes(12));
        const token = sessions.get(sid) ?? b64url(randomBytes(18));
        sessions.set(sid, token);
        res.writeHead(200, { "content-type": "text/html", "set-cookie": `sid=${sid}; Path=/; HttpOnly` });
        res.end(
          `<html><body><form method="post" action="/account/email"><input type="hidden" name="csrf_token" value="${token}"><input name="email"><button>Save</button></form></body></html>`,
        );
        return;
      }
      if (method === "POST") {
        const sent = new URLSearchParams(body).get("csrf_token") ?? req.headers["x-csrf-token"];
        const want = c.sid ? sessions.get(c.sid) : undefined;
        if (!want || sent !== want) {
          res.writeHead(403, { "content-type": "text/plain" });
          res.end(sent ? "Forbidden: CSRF token invalid." : "Forbidden: CSRF token missing.");
          return;
        }
        execute(url.pathname);
        return json(res, 200, { ok: true });
      }
    }

    if (url.pathname === "/api/invoices") {
      const auth = req.headers.authorization ?? "";
      const claims = auth.startsWith("Bearer ") ? verifyJwt(auth.slice(7)) : null;
      if (!claims) {
        return json(res, 401, { error: "unauthorized" }, { "www-authenticate": 'Bearer realm="demo"' });
      }
      if (typeof claims.exp === "number" && claims.exp * 1000 < Date.now()) {
        return json(
          res,
          401,
          { error: "invalid_token", error_description: "The access token expired" },
          {
            "www-authenticate":
              'Bearer realm="demo", error="invalid_token", error_description="The access token expired"',
          },
        );
      }
      const scopes = String(claims.scope ?? "").split(" ");
      if (method === "GET") return json(res, 200, { invoices: [] });
      if (!scopes.includes("invoices:write")) {
        return json(
          res,
          403,
          { error: "insufficient_scope", message: "This action needs the invoices:write scope" },
          {
            "www-authenticate": 'Bearer realm="demo", error="insufficient_scope", scope="invoices:write"',
          },
        );
      }
      execute(url.pathname);
      return json(res, 201, { ok: true });
    }

    if (url.pathname === "/api/search") {
      const client = req.socket.remoteAddress ?? "?";
      const now = Date.now();
      const recent = (hits.get(client) ?? []).filter((t) => now - t < 60_000);
      recent.push(now);
      hits.set(client, recent);
      const limit = 2;
      const remaining = Math.max(0, limit - recent.length);
      const reset = Math.ceil((recent[0]! + 60_000) / 1000);
      const headers = {
        "x-ratelimit-limit": String(limit),
        "x-ratelimit-remaining": String(remaining),
        "x-ratelimit-reset": String(reset),
      };
      if (recent.length > limit) {
        return json(
          res,
          403,
          { error: "too_many_requests", message: "Too many searches: 2 per minute are allowed." },
          { ...headers, "retry-after": "60" },
        );
      }
      if (method === "POST") execute(url.pathname);
      return json(res, 200, { results: [] }, headers);
    }

    if (url.pathname.startsWith("/admin")) {
      const client = req.socket.remoteAddress ?? "";
      const allowed = ["10.0.0.5"];
      if (!allowed.includes(client.replace(/^::ffff:/, ""))) {
        return json(res, 403, {
          error: "forbidden",
          message: `Access from IP address ${client.replace(/^::ffff:/, "")} is not allowed`,
        });
      }
      if (method === "POST") execute(url.pathname);
      return json(res, 200, { ok: true });
    }

    if (url.pathname === "/old/subscribe" && method === "POST") {
      res.writeHead(301, { location: "/newsletter/subscribe" });
      res.end();
      return;
    }
    if (url.pathname === "/newsletter/subscribe") {
      if (method !== "POST") {
        res.writeHead(405, { allow: "POST", "content-type": "text/plain" });
        res.end("Method Not Allowed");
        return;
      }
      execute(url.pathname);
      return json(res, 201, { ok: true });
    }

    return json(res, 404, { error: "not_found" });
  });

  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const port = (server.address() as AddressInfo).port;
  const base = `http://127.0.0.1:${port}`;
  const readOnly = mintJwt({
    sub: "user-42",
    scope: "invoices:read",
    exp: Math.floor(Date.now() / 1000) + 3600,
  });
  const expired = mintJwt({
    sub: "user-42",
    scope: "invoices:write",
    exp: Math.floor(Date.now() / 1000) - 600,
  });
  // Spend the demo client's rate-limit allowance so the scenario starts refused.
  for (let i = 0; i < 3; i++)
    await fetch(`${base}/api/search?q=x`)
      .then((r) => r.arrayBuffer())
      .catch(() => undefined);

  const bigReview: Record<string, unknown> = { product: 1182, rating: 4 };
  for (let i = 0; i < 40; i++) bigReview[`field${i}`] = `value ${i}`;
  bigReview.comment = "Great stuff' OR '1'='1";

  const scenarios: DemoScenario[] = [
    {
      id: "content-filter",
      title: "a review whose text looks like SQL injection",
      expected: "waf",
      curl: [
        `${base}/shop/reviews`,
        "-H",
        "content-type: application/json",
        "--data-raw",
        JSON.stringify(bigReview),
      ],
    },
    {
      id: "csrf",
      title: "a form post without its CSRF token",
      expected: "csrf",
      curl: [
        `${base}/account/email`,
        "-H",
        "content-type: application/x-www-form-urlencoded",
        "-H",
        `referer: ${base}/account/email`,
        "-H",
        `origin: ${base}`,
        "-b",
        "sid=stale-session",
        "--data-raw",
        "email=a%40example.org",
      ],
    },
    {
      id: "scope",
      title: "an API call with a token that lacks a scope",
      expected: "insufficient-permission",
      curl: [
        `${base}/api/invoices`,
        "-H",
        `authorization: Bearer ${readOnly}`,
        "-H",
        "content-type: application/json",
        "--data-raw",
        '{"amount":120}',
      ],
    },
    {
      id: "expired",
      title: "an API call with an expired token",
      expected: "credentials-invalid",
      curl: [
        `${base}/api/invoices`,
        "-H",
        `authorization: Bearer ${expired}`,
        "-H",
        "content-type: application/json",
        "--data-raw",
        '{"amount":120}',
      ],
    },
    {
      id: "rate-limit",
      title: "a search over its rate limit",
      expected: "rate-limit",
      curl: [
        `${base}/api/search`,
        "-X",
        "POST",
        "-H",
        "content-type: application/json",
        "--data-raw",
        '{"q":"shoes"}',
      ],
    },
    {
      id: "ip",
      title: "an admin action from an address not on the allowlist",
      expected: "ip-restriction",
      curl: [
        `${base}/admin/users`,
        "-H",
        "content-type: application/json",
        "--data-raw",
        '{"disable":"user-7"}',
      ],
    },
    {
      id: "redirect",
      title: "a POST sent through a 301 with curl -L",
      expected: "redirect-method-change",
      curl: [`${base}/old/subscribe`, "-L", "-d", "email=a%40example.org"],
    },
  ];

  return {
    url: base,
    scenarios,
    ledger,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}
