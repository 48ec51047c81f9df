// One app for the middleware bench, in its own process (so the load generator
// does not share its event loop): node middleware-app.mjs <express|fastify|hono> <bare|why403> <log>
// Routes: GET /ok (allowed) and POST /orders/17 (denied). "bare" answers the
// denial by hand with a small JSON body; "why403" throws a Denial and lets
// explainDenials answer and write the decision line to <log>.
import { createServer } from "node:http";

const [framework, variant, log] = process.argv.slice(2);
const mw = variant === "why403";
const deny = (Denial) => {
  throw new Denial({ cause: "app-logic", reason: "order-shipped", detail: "Order 17 has shipped" });
};
const BARE = JSON.stringify({ error: "order-shipped", detail: "Order 17 has shipped" });

async function start() {
  if (framework === "express") {
    const { default: express } = await import("express5");
    const { Denial, explainDenials } = await import("../dist/express.js");
    const app = express();
    app.get("/ok", (_req, res) => res.json({ ok: true }));
    app.post("/orders/:id", (_req, res) => (mw ? deny(Denial) : res.status(403).type("json").send(BARE)));
    if (mw) app.use(explainDenials({ log }));
    return listen(createServer(app));
  }
  if (framework === "fastify") {
    const { default: Fastify } = await import("fastify");
    const { Denial, explainDenials } = await import("../dist/fastify.js");
    const app = Fastify();
    if (mw) await app.register(explainDenials({ log }));
    app.get("/ok", async () => ({ ok: true }));
    app.post("/orders/:id", async (_req, reply) =>
      mw ? deny(Denial) : reply.code(403).type("application/json").send(BARE),
    );
    await app.listen({ port: 0, host: "127.0.0.1" });
    return app.server.address().port;
  }
  const { Hono } = await import("hono");
  const { serve } = await import("@hono/node-server");
  const { Denial, explainDenials } = await import("../dist/hono.js");
  const app = new Hono();
  app.get("/ok", (c) => c.json({ ok: true }));
  app.post("/orders/:id", (c) =>
    mw ? deny(Denial) : c.body(BARE, 403, { "content-type": "application/json" }),
  );
  if (mw) app.onError(explainDenials({ log }));
  return new Promise((resolve) => {
    const s = serve({ fetch: app.fetch, port: 0, hostname: "127.0.0.1" }, () => resolve(s.address().port));
  });
}

function listen(server) {
  return new Promise((resolve) => server.listen(0, "127.0.0.1", () => resolve(server.address().port)));
}

process.stdout.write(`${await start()}\n`);
