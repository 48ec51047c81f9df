// An application behind a real nginx, as it is often deployed: the app logs
// pino-http-like JSON lines with the address it sees (nginx's, on loopback) and
// no request id, nginx its combined access log with the client's address. Read
// together, each refusal is one denial, with the cause the app's line names and
// the client nginx saw.
import { execFileSync } from "node:child_process";
import { appendFileSync, existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { createServer, request, type Server } from "node:http";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { freePorts } from "../lab/lab.mjs";
import { analyzeLogs, waitForLogMarker } from "../src/evidence/logs/index.js";
import { nginxPreamble } from "./helpers/nginx.js";

const NGINX = "/usr/sbin/nginx";
const RUN = join(import.meta.dirname, "..", ".run", "logs-behind-proxy");
const ACCESS = join(RUN, "access.log");
const APP = join(RUN, "app.log");
const PID = join(RUN, "nginx.pid");
const hasNginx = existsSync(NGINX);

/** The app: its refusals and their reasons, a line per answer, the peer address as it sees it. */
function startApp(port: number): Promise<Server> {
  const server = createServer((req, res) => {
    let status = 200;
    const fields: Record<string, unknown> = {};
    if (req.method === "POST" && req.url === "/api/orders") {
      status = 403;
      fields.err = { type: "ForbiddenError", message: "invalid csrf token", code: "EBADCSRFTOKEN" };
    } else if (req.method === "POST" && req.url === "/api/transfer") {
      status = 403;
    }
    req.resume();
    req.on("end", () => {
      res.statusCode = status;
      res.end(status === 200 ? "ok" : "refused");
      const line = {
        level: status === 200 ? 30 : 40,
        time: Date.now(),
        req: { method: req.method, url: req.url, remoteAddress: req.socket.remoteAddress },
        res: { statusCode: status },
        ...fields,
        msg:
          req.url === "/api/transfer" && status === 403
            ? "transfer denied: insufficient funds"
            : "request completed",
      };
      appendFileSync(APP, `${JSON.stringify(line)}\n`);
    });
  });
  return new Promise((resolve) => server.listen(port, "127.0.0.1", () => resolve(server)));
}

function nginxConfig(port: number, appPort: number): string {
  const { main, tempPaths } = nginxPreamble(RUN, PID);
  return `
${main}
http {
  access_log ${ACCESS} combined;
  ${tempPaths}
  server {
    listen 127.0.0.1:${port};
    location / { proxy_pass http://127.0.0.1:${appPort}; }
  }
}
`;
}

/** One request to nginx from `from` (a loopback address of its own, so nginx logs it). */
function send(port: number, from: string, method: string, path: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const req = request({ host: "127.0.0.1", port, localAddress: from, method, path }, (res) => {
      res.resume();
      res.on("end", () => resolve(res.statusCode ?? 0));
    });
    req.on("error", reject);
    req.end(method === "POST" ? "qty=1" : undefined);
  });
}

describe("an application behind nginx", () => {
  it("has nginx (required in CI)", () => {
    expect(hasNginx || process.env.CI !== "true").toBe(true);
  });

  let app: Server | null = null;
  let port = 0;

  beforeAll(async () => {
    if (!hasNginx) return;
    rmSync(RUN, { recursive: true, force: true });
    mkdirSync(join(RUN, "tmp"), { recursive: true });
    writeFileSync(APP, "");
    const [nginxPort, appPort] = (await freePorts(2)) as [number, number];
    port = nginxPort;
    app = await startApp(appPort);
    writeFileSync(join(RUN, "nginx.conf"), nginxConfig(nginxPort, appPort));
    execFileSync(NGINX, ["-p", `${RUN}/`, "-c", join(RUN, "nginx.conf"), "-e", join(RUN, "error.log")], {
      stdio: "pipe",
    });
  });

  afterAll(async () => {
    if (existsSync(PID)) process.kill(Number(readFileSync(PID, "utf8").trim()), "SIGTERM");
    await new Promise((resolve) => (app ? app.close(resolve) : resolve(undefined)));
  });

  it.skipIf(!hasNginx)("counts each refusal once, with the app's cause and nginx's client", async () => {
    expect(await send(port, "127.0.0.2", "GET", "/api/items")).toBe(200);
    expect(await send(port, "127.0.0.2", "POST", "/api/orders")).toBe(403);
    expect(await send(port, "127.0.0.3", "POST", "/api/transfer")).toBe(403);
    expect(await waitForLogMarker(ACCESS, "/api/transfer", 5000)).toContain("127.0.0.3");
    // What each side saw: the app, nginx's address; nginx, the clients'.
    expect(readFileSync(APP, "utf8")).toContain('"remoteAddress":"127.0.0.1"');

    const r = await analyzeLogs([ACCESS, APP]);
    expect(r.denials).toBe(2);
    expect(r.byCause).toEqual({ csrf: 1, "app-logic": 1 });
    expect(r.entries.map((e) => [e.method, e.path, e.status, e.cause, e.client])).toEqual([
      ["POST", "/api/orders", 403, "csrf", "127.0.0.2"],
      ["POST", "/api/transfer", 403, "app-logic", "127.0.0.3"],
    ]);
    // Each entry holds a line of both files.
    for (const e of r.entries) expect(e.seenIn?.map((s) => s.file)).toEqual([ACCESS]);
    expect(r.top.clients.map(([c]) => c).sort()).toEqual(["127.0.0.2", "127.0.0.3"]);
  });
});
