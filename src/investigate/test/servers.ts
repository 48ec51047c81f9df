// Small local HTTP servers for the engine tests, each with a ledger of what
// reached it. Generic behaviours, not imitations of real products.

import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";

export interface Seen {
  method: string;
  path: string;
  headers: IncomingMessage["headers"];
  body: string;
}

export interface TestServer {
  url: string;
  seen: Seen[];
  close(): Promise<void>;
}

export type Handler = (req: Seen, res: ServerResponse) => void;

export async function startServer(handler: Handler): Promise<TestServer> {
  const seen: Seen[] = [];
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", () => {
      const entry: Seen = {
        method: req.method ?? "",
        path: req.url ?? "",
        headers: req.headers,
        body: Buffer.concat(chunks).toString("utf8"),
      };
      seen.push(entry);
      handler(entry, res);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    seen,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

export function send(
  res: ServerResponse,
  status: number,
  body: string,
  headers: Record<string, string | string[]> = {},
): void {
  res.writeHead(status, { "Content-Type": "text/html", ...headers });
  res.end(body);
}

/** Requests that could have executed the app's action: non-safe method on `path`. */
export function unsafeHits(seen: Seen[], path: string): Seen[] {
  return seen.filter((s) => !["GET", "HEAD", "OPTIONS"].includes(s.method) && s.path.split("?")[0] === path);
}

/**
 * The web server's own canned page (nginx's template) for a safe request on the
 * decoy prefix, as a host answers when that prefix is served by the web server
 * itself rather than passed to an application; false for any other request.
 */
export function serverOwnDecoyAnswer(req: Seen, res: ServerResponse): boolean {
  if (!req.path.startsWith("/.well-known/why403/")) return false;
  if (!["GET", "HEAD", "OPTIONS"].includes(req.method)) return false;
  const title = req.method === "OPTIONS" ? "405 Not Allowed" : "404 Not Found";
  send(
    res,
    req.method === "OPTIONS" ? 405 : 404,
    `<html>\r\n<head><title>${title}</title></head>\r\n<body>\r\n<center><h1>${title}</h1></center>\r\n<hr><center>nginx</center>\r\n</body>\r\n</html>\r\n`,
    { Server: "nginx" },
  );
  return true;
}
