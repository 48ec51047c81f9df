// Hostile HTTP servers for the hardening tests: each one misbehaves in one
// way (bombs, endless bodies and headers, drips, resets, loops, bad TLS,
// flaky answers, bans). They speak raw HTTP/1.1 over node:net so the bytes on
// the wire are exactly what the case needs. All bind 127.0.0.1.

import { execFileSync } from "node:child_process";
import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { createServer as createNetServer, type Server, type Socket } from "node:net";
import { join } from "node:path";
import { createServer as createTlsServer } from "node:tls";
import { brotliCompressSync, constants, deflateSync, gzipSync } from "node:zlib";

export interface ParsedHead {
  method: string;
  path: string;
  headers: Array<[string, string]>;
}

/** What a case's handler gets: the request head, the socket, and the count of requests so far on this server. */
export type Handler = (req: ParsedHead, socket: Socket, n: number) => void;

export interface HostileServer {
  port: number;
  url: string;
  /** Requests seen (heads parsed). */
  requests: ParsedHead[];
  /** TCP connections accepted. */
  connections: number;
  close(): Promise<void>;
}

const HEAD_END = Buffer.from("\r\n\r\n");

function parseHead(raw: string): ParsedHead {
  const [line = "", ...rest] = raw.split("\r\n");
  const [method = "", path = ""] = line.split(" ");
  const headers: Array<[string, string]> = [];
  for (const h of rest) {
    const i = h.indexOf(":");
    if (i > 0) headers.push([h.slice(0, i).trim().toLowerCase(), h.slice(i + 1).trim()]);
  }
  return { method, path, headers };
}

function contentLength(head: ParsedHead): number {
  const v = head.headers.find(([n]) => n === "content-length")?.[1];
  return v ? Number.parseInt(v, 10) || 0 : 0;
}

/** Reads request heads (and skips bodies) on each connection, calling the handler per request. */
function serveRequests(socket: Socket, onRequest: (head: ParsedHead) => void): void {
  let buf = Buffer.alloc(0);
  let bodyLeft = 0;
  socket.on("error", () => undefined);
  socket.on("data", (chunk: Buffer) => {
    buf = Buffer.concat([buf, chunk]);
    for (;;) {
      if (bodyLeft > 0) {
        const take = Math.min(bodyLeft, buf.length);
        buf = buf.subarray(take);
        bodyLeft -= take;
        if (bodyLeft > 0) return;
      }
      const end = buf.indexOf(HEAD_END);
      if (end < 0) return;
      const head = parseHead(buf.subarray(0, end).toString("latin1"));
      buf = buf.subarray(end + 4);
      bodyLeft = contentLength(head);
      const take = Math.min(bodyLeft, buf.length);
      buf = buf.subarray(take);
      bodyLeft -= take;
      onRequest(head);
    }
  });
}

function track(server: Server, info: HostileServer, sockets: Set<Socket>): void {
  server.on("connection", (s: Socket) => {
    info.connections++;
    sockets.add(s);
    s.on("close", () => sockets.delete(s));
  });
}

function listen(server: Server, host = "127.0.0.1", port = 0): Promise<number> {
  return new Promise((resolve, reject) => {
    server.once("error", reject);
    server.listen(port, host, () => {
      const addr = server.address();
      resolve(typeof addr === "object" && addr ? addr.port : 0);
    });
  });
}

function closer(server: Server, sockets: Set<Socket>): () => Promise<void> {
  return () =>
    new Promise<void>((resolve) => {
      for (const s of sockets) s.destroy();
      server.close(() => resolve());
    });
}

/** A plain-TCP HTTP server whose every request goes to the handler. */
export async function startRaw(handler: Handler, host = "127.0.0.1"): Promise<HostileServer> {
  const sockets = new Set<Socket>();
  const info: HostileServer = {
    port: 0,
    url: "",
    requests: [],
    connections: 0,
    close: async () => undefined,
  };
  const server = createNetServer((socket) => {
    serveRequests(socket, (head) => {
      info.requests.push(head);
      handler(head, socket, info.requests.length);
    });
  });
  track(server, info, sockets);
  info.port = await listen(server, host);
  info.url = `http://${host}:${info.port}`;
  info.close = closer(server, sockets);
  return info;
}

/** The same over TLS with the given PEM key and certificate. */
export async function startTls(handler: Handler, key: string, cert: string): Promise<HostileServer> {
  const sockets = new Set<Socket>();
  const info: HostileServer = {
    port: 0,
    url: "",
    requests: [],
    connections: 0,
    close: async () => undefined,
  };
  const server = createTlsServer({ key, cert }, (socket) => {
    serveRequests(socket, (head) => {
      info.requests.push(head);
      handler(head, socket, info.requests.length);
    });
  });
  server.on("secureConnection", (s: Socket) => {
    sockets.add(s);
    s.on("close", () => sockets.delete(s));
  });
  server.on("tlsClientError", () => undefined);
  info.port = await listen(server as unknown as Server);
  info.connections = 0;
  server.on("connection", () => info.connections++);
  info.url = `https://127.0.0.1:${info.port}`;
  info.close = closer(server as unknown as Server, sockets);
  return info;
}

/** One HTTP/1.1 response head plus body; headers given as pairs so duplicates and raw bytes survive. */
export function response(
  status: string,
  headers: Array<[string, string]>,
  body: Buffer | string = "",
  opts: { version?: string; contentLength?: boolean } = {},
): Buffer {
  const b = typeof body === "string" ? Buffer.from(body, "utf8") : body;
  const lines = [`${opts.version ?? "HTTP/1.1"} ${status}`, ...headers.map(([n, v]) => `${n}: ${v}`)];
  if (opts.contentLength !== false) lines.push(`Content-Length: ${b.length}`);
  return Buffer.concat([Buffer.from(`${lines.join("\r\n")}\r\n\r\n`, "latin1"), b]);
}

const FORBIDDEN_HTML = "<html><body><h1>403 Forbidden</h1><p>Request blocked.</p></body></html>";

export function send403(socket: Socket, headers: Array<[string, string]> = [], body = FORBIDDEN_HTML): void {
  socket.write(response("403 Forbidden", [["Content-Type", "text/html"], ...headers], body));
}

// Bombs: about 1 GiB of zeros once decoded, a few hundred KiB to a MiB on the wire.
let bombs: { gzip: Buffer; deflate: Buffer; br: Buffer } | null = null;
export function compressionBombs(): { gzip: Buffer; deflate: Buffer; br: Buffer } {
  if (bombs) return bombs;
  const zeros = Buffer.alloc(64 * 1024 * 1024);
  // 64 MiB of zeros compresses to ~64 KiB; 16 copies make a 1 GiB stream after gunzip
  // (concatenated gzip members decode as one stream).
  const gz = gzipSync(zeros, { level: 9 });
  const br = brotliCompressSync(zeros, { params: { [constants.BROTLI_PARAM_QUALITY]: 5 } });
  bombs = {
    gzip: Buffer.concat(Array.from({ length: 16 }, () => gz)),
    deflate: deflateSync(Buffer.alloc(256 * 1024 * 1024), { level: 9 }),
    br,
  };
  return bombs;
}

/** Writes `total` bytes to the socket with backpressure, never holding more than one chunk. */
export function streamBytes(socket: Socket, total: number, chunkSize = 64 * 1024): void {
  const chunk = Buffer.alloc(chunkSize, 0x61);
  let sent = 0;
  const pump = () => {
    while (sent < total && !socket.destroyed) {
      const n = Math.min(chunkSize, total - sent);
      sent += n;
      if (!socket.write(n === chunkSize ? chunk : chunk.subarray(0, n))) {
        socket.once("drain", pump);
        return;
      }
    }
    if (!socket.destroyed) socket.end();
  };
  pump();
}

/** Sends one byte a second until the socket closes; returns a stopper. */
export function drip(socket: Socket, byte = "a"): void {
  const t = setInterval(() => {
    if (socket.destroyed) clearInterval(t);
    else socket.write(byte);
  }, 1000);
  socket.on("close", () => clearInterval(t));
}

/**
 * Certificates made with openssl into dir: a self-signed one, and an expired leaf
 * signed by a test CA (trust the CA with NODE_EXTRA_CA_CERTS so expiry is the only fault).
 */
export function makeCertificates(dir: string): {
  selfSigned: { key: string; cert: string };
  expired: { key: string; cert: string; ca: string };
} {
  mkdirSync(dir, { recursive: true });
  const run = (args: string[]) => execFileSync("openssl", args, { cwd: dir, stdio: "ignore" });
  const subj = ["-subj", "/CN=127.0.0.1"];
  run(["req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", "self.key", "-out", "self.crt", ...subj]);
  run([
    "req",
    "-x509",
    "-newkey",
    "rsa:2048",
    "-nodes",
    "-keyout",
    "ca.key",
    "-out",
    "ca.crt",
    "-subj",
    "/CN=why403 test CA",
    "-days",
    "30",
  ]);
  run(["req", "-new", "-newkey", "rsa:2048", "-nodes", "-keyout", "old.key", "-out", "old.csr", ...subj]);
  writeFileSync(join(dir, "index.txt"), "");
  writeFileSync(join(dir, "serial"), "01\n");
  writeFileSync(
    join(dir, "ca.cnf"),
    [
      "[ca]",
      "default_ca = test",
      "[test]",
      "database = index.txt",
      "new_certs_dir = .",
      "serial = serial",
      "default_md = sha256",
      "policy = any",
      "x509_extensions = leaf",
      "[any]",
      "commonName = supplied",
      "[leaf]",
      "subjectAltName = IP:127.0.0.1",
      "",
    ].join("\n"),
  );
  // OpenSSL 3.0's req has no -not_after; `ca` takes explicit past dates.
  run([
    "ca",
    "-batch",
    "-config",
    "ca.cnf",
    "-in",
    "old.csr",
    "-out",
    "old.crt",
    "-cert",
    "ca.crt",
    "-keyfile",
    "ca.key",
    "-startdate",
    "20200101000000Z",
    "-enddate",
    "20200201000000Z",
  ]);
  const read = (f: string) => readFileSync(join(dir, f), "utf8");
  return {
    selfSigned: { key: read("self.key"), cert: read("self.crt") },
    expired: { key: read("old.key"), cert: read("old.crt"), ca: join(dir, "ca.crt") },
  };
}
