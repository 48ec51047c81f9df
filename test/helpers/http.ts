// Plain HTTP for tests that check the lab itself: node:http, so Host, the client
// address (localAddress) and a forward proxy can be set exactly.
import { request } from "node:http";

export interface Reply {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: string;
}

export interface SendOptions {
  method?: string;
  headers?: Record<string, string>;
  body?: string;
  localAddress?: string;
  /** Send through this forward proxy (absolute-form request line, as curl -x does for http://). */
  proxy?: string;
}

export function send(
  url: string,
  { method = "GET", headers = {}, body, localAddress, proxy }: SendOptions = {},
) {
  return new Promise<Reply>((resolve, reject) => {
    const target = proxy ? new URL(proxy) : new URL(url);
    // A fixed length: Django's runserver (wsgiref) reads no chunked request body.
    if (body !== undefined) headers = { ...headers, "content-length": String(Buffer.byteLength(body)) };
    const req = request(
      {
        host: target.hostname,
        port: target.port,
        path: proxy ? url : `${target.pathname}${target.search}`,
        method,
        headers: proxy ? { host: new URL(url).host, ...headers } : headers,
        localAddress,
        agent: false,
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on("data", (c: Buffer) => chunks.push(c));
        res.on("end", () =>
          resolve({
            status: res.statusCode ?? 0,
            headers: res.headers,
            body: Buffer.concat(chunks).toString("utf8"),
          }),
        );
        res.on("error", reject);
      },
    );
    req.on("error", reject);
    req.setTimeout(5000, () => req.destroy(new Error(`timeout: ${method} ${url}`)));
    if (body !== undefined) req.write(body);
    req.end();
  });
}
