// The HTTP side of `why403 watch`: GET /metrics (Prometheus text format 0.0.4)
// and GET /healthz. Nothing else is served.
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { InputError } from "../errors.js";

export interface Listen {
  host: string;
  port: number;
}

/** "127.0.0.1:9403", "[::1]:9403", ":9403" (loopback), "9403". */
export function parseListen(raw: string): Listen | null {
  const m = /^(?:\[([0-9a-fA-F:.]+)\]|([^:[\]]*))?:?(\d{1,5})$/.exec(raw.trim());
  if (!m) return null;
  const port = Number(m[3]);
  if (port > 65535) return null;
  const host = m[1] ?? (m[2] || "127.0.0.1");
  return { host, port };
}

export async function serveMetrics(listen: Listen, render: () => string): Promise<Server> {
  const server = createServer((req, res) => {
    const path = (req.url ?? "/").split("?")[0];
    if (req.method !== "GET" && req.method !== "HEAD") {
      res.writeHead(405, { allow: "GET, HEAD" }).end();
      return;
    }
    if (path === "/metrics") {
      const body = render();
      res.writeHead(200, {
        "content-type": "text/plain; version=0.0.4; charset=utf-8",
        "content-length": Buffer.byteLength(body),
      });
      res.end(req.method === "HEAD" ? undefined : body);
      return;
    }
    if (path === "/healthz") {
      res.writeHead(200, { "content-type": "text/plain" }).end("ok\n");
      return;
    }
    res.writeHead(404, { "content-type": "text/plain" }).end("not found: try /metrics or /healthz\n");
  });
  await new Promise<void>((resolve, reject) => {
    server.once("error", (e: NodeJS.ErrnoException) =>
      reject(new InputError(`--listen ${listen.host}:${listen.port}: ${e.code ?? e.message}`)),
    );
    server.listen(listen.port, listen.host, () => resolve());
  });
  return server;
}

export function addressOf(server: Server): string {
  const a = server.address() as AddressInfo;
  return a.family === "IPv6" ? `[${a.address}]:${a.port}` : `${a.address}:${a.port}`;
}
