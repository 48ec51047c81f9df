import { readFileSync } from "node:fs";
import { brotliCompressSync, deflateSync, gzipSync } from "node:zlib";
import { describe, expect, it } from "vitest";
import { InputError } from "../errors.js";
import { MAX_DECODED_BODY_BYTES } from "../limits.js";
import type { RequestModel } from "../model.js";
import { decodeSavedBody, exchangeFromRawResponse, parseRawResponses } from "./raw-response.js";

const fixture = (name: string) => readFileSync(new URL(`../../fixtures/raw/${name}`, import.meta.url));

function inputError(fn: () => unknown): string {
  try {
    fn();
  } catch (e) {
    expect(e).toBeInstanceOf(InputError);
    expect((e as Error).message).not.toContain("\n");
    return (e as Error).message;
  }
  throw new Error("expected an InputError");
}

describe("parseRawResponses", () => {
  it("curl -si output with CRLF and Content-Length", () => {
    const [r, ...rest] = parseRawResponses(fixture("curl-si-nginx-403.txt"));
    expect(rest).toEqual([]);
    expect(r!.status).toBe(403);
    expect(r!.statusText).toBe("Forbidden");
    expect(r!.httpVersion).toBe("HTTP/1.1");
    expect(r!.headers[0]).toEqual(["Server", "nginx/1.24.0"]);
    expect(r!.body.toString()).toMatch(/^<html>\r\n.*<\/html>\r\n$/s);
    expect(r!.bodyTruncated).toBe(false);
  });

  it("100 Continue then the real response (LF)", () => {
    const rs = parseRawResponses(fixture("curl-i-continue.txt"));
    expect(rs.map((r) => r.status)).toEqual([100, 403]);
    expect(rs[0]!.body.length).toBe(0);
    expect(rs[1]!.body.toString()).toBe('{"error":"forbidden","message":"Request blocked by rule 942100"}\n');
  });

  it("-L chain: body by Content-Length, body up to the next status line, HTTP/2", () => {
    const rs = parseRawResponses(fixture("curl-iL-redirects.txt"));
    expect(rs.map((r) => [r.httpVersion, r.status, r.statusText])).toEqual([
      ["HTTP/1.1", 302, "Found"],
      ["HTTP/1.1", 301, "Moved Permanently"],
      ["HTTP/2", 403, ""],
    ]);
    expect(rs[0]!.body.toString()).toBe("<html><body>Moved</body></html>");
    expect(rs[1]!.body.toString()).toBe("redirecting\r\n\r\n");
    expect(rs[2]!.headers).toContainEqual(["cf-ray", "8a1b2c3d4e5f6789-FRA"]);
    expect(rs[2]!.body.toString()).toMatch(/^<!DOCTYPE html>.*browser$/);
  });

  it("-sIL header blocks without bodies", () => {
    const rs = parseRawResponses(fixture("curl-sIL-head.txt"));
    expect(rs.map((r) => [r.status, r.body.length])).toEqual([
      [301, 0],
      [403, 0],
    ]);
  });

  it("curl -v stderr style", () => {
    const rs = parseRawResponses(fixture("curl-v-403.txt"));
    expect(rs).toHaveLength(1);
    expect(rs[0]!.status).toBe(403);
    expect(rs[0]!.headers).toEqual([
      ["Server", "openresty"],
      ["Date", "Tue, 04 Mar 2025 10:15:02 GMT"],
      ["Content-Type", "application/json"],
      ["Content-Length", "42"],
    ]);
    expect(rs[0]!.body.toString()).toBe('{"message":"Missing Authentication Token"}');
  });

  it("curl -v body glued to the closing info line", () => {
    const text = "< HTTP/1.1 403 Forbidden\n< A: b\n<\nDenied* Connection #0 to host x left intact\n";
    expect(parseRawResponses(Buffer.from(text))[0]!.body.toString()).toBe("Denied");
  });

  it("Content-Length smaller than a decoded body (curl --compressed) does not cut it", () => {
    const body = "x".repeat(100);
    const text = `HTTP/1.1 403 Forbidden\nContent-Encoding: gzip\nContent-Length: 20\n\n${body}`;
    expect(parseRawResponses(Buffer.from(text))[0]!.body.toString()).toBe(body);
  });

  it("text after the declared length (curl -w) is not body", () => {
    const text = "HTTP/1.1 403 Forbidden\r\nContent-Length: 4\r\n\r\nnope403";
    expect(parseRawResponses(Buffer.from(text))[0]!.body.toString()).toBe("nope");
  });

  it("folded headers, headers without a blank line, binary body bytes kept", () => {
    const rs = parseRawResponses(
      Buffer.from('HTTP/1.0 401 Unauthorized\nWWW-Authenticate: Basic\n realm="x"'),
    );
    expect(rs[0]!.headers).toEqual([["WWW-Authenticate", 'Basic realm="x"']]);
    const bin = Buffer.concat([
      Buffer.from("HTTP/1.1 403 Forbidden\r\n\r\n"),
      Buffer.from([0, 1, 0xff, 0x1f, 0x8b]),
    ]);
    expect(parseRawResponses(bin)[0]!.body).toEqual(Buffer.from([0, 1, 0xff, 0x1f, 0x8b]));
  });

  it("one-line errors: empty, binary, no status line", () => {
    expect(inputError(() => parseRawResponses(Buffer.alloc(0)))).toMatch(/empty/);
    expect(inputError(() => parseRawResponses(Buffer.from([0x1f, 0x8b, 8, 0, 0, 0, 0, 0])))).toMatch(
      /binary/,
    );
    expect(inputError(() => parseRawResponses(Buffer.from("<html>403 Forbidden</html>")))).toMatch(
      /no HTTP status line/,
    );
  });
});

describe("exchangeFromRawResponse", () => {
  it("uses a placeholder request when none is known", () => {
    const ex = exchangeFromRawResponse(fixture("curl-si-nginx-403.txt"));
    expect(ex.request).toEqual({ method: "GET", url: "unknown:", headers: [], body: null, options: {} });
    expect(ex.response.status).toBe(403);
    expect(ex.redirects).toEqual([]);
    expect(ex.startedAt?.toISOString()).toBe("2025-03-04T10:15:02.000Z");
  });

  it("rebuilds the request from curl -v > lines", () => {
    const ex = exchangeFromRawResponse(fixture("curl-v-403.txt"));
    expect(ex.request.method).toBe("POST");
    expect(ex.request.url).toBe("https://api.example.test:8443/v1/orders?src=cli");
    expect(ex.request.headers).toContainEqual(["User-Agent", "curl/8.5.0"]);
  });

  it("earlier responses become redirects; 1xx are dropped; POST turns into GET on 302", () => {
    const req: RequestModel = {
      method: "POST",
      url: "http://example.com/form",
      headers: [["Content-Type", "application/x-www-form-urlencoded"]],
      body: Buffer.from("a=1"),
      options: { followRedirects: true },
    };
    const ex = exchangeFromRawResponse(fixture("curl-iL-redirects.txt"), req);
    expect(ex.response.status).toBe(403);
    expect(ex.redirects.map((r) => [r.request.method, r.request.url, r.response.status])).toEqual([
      ["POST", "http://example.com/form", 302],
      ["GET", "https://www.example.com/login", 301],
    ]);
    expect(ex.request.method).toBe("GET");
    expect(ex.request.url).toBe("https://www.example.com/login/");
    expect(ex.request.body).toBeNull();
    expect(ex.request.headers).toEqual([]);

    const ex2 = exchangeFromRawResponse(fixture("curl-i-continue.txt"), req);
    expect(ex2.redirects).toEqual([]);
    expect(ex2.request).toBe(req);
  });

  it("only interim responses is an error", () => {
    expect(inputError(() => exchangeFromRawResponse(Buffer.from("HTTP/1.1 100 Continue\r\n\r\n")))).toMatch(
      /interim/,
    );
  });
});

describe("robustness", () => {
  it("curl -v stderr alone marks the missing body as truncated", () => {
    const text =
      "> GET / HTTP/1.1\n> Host: x\n>\n< HTTP/1.1 403 Forbidden\n< Content-Length: 10\n<\n* Connection #0 to host x left intact\n";
    const [r] = parseRawResponses(Buffer.from(text));
    expect(r!.body.length).toBe(0);
    expect(r!.bodyTruncated).toBe(true);
  });
  // Speed is the bench's to measure (no timed assertion here); a quadratic parser
  // would still show up as this test running into the suite's timeout.
  it("many small responses all parse", () => {
    const one = "HTTP/1.1 302 Found\r\nLocation: /a\r\nContent-Length: 2\r\n\r\nok";
    const buf = Buffer.from(one.repeat(20_000) + "HTTP/1.1 403 Forbidden\r\nContent-Length: 0\r\n\r\n");
    const rs = parseRawResponses(buf);
    expect(rs).toHaveLength(20_001);
    expect(rs[0]!.body.toString()).toBe("ok");
    expect(rs.at(-1)!.status).toBe(403);
  });
});

describe("compressed bodies saved without --compressed", () => {
  const page = "<html><body><h1>403 Forbidden</h1>Request blocked by rule 942100</body></html>\n";
  const saved = (encoding: string, body: Buffer, trailer = "") =>
    Buffer.concat([
      Buffer.from(
        `HTTP/1.1 403 Forbidden\r\nContent-Type: text/html\r\nContent-Encoding: ${encoding}\r\nContent-Length: ${body.length}\r\n\r\n`,
        "latin1",
      ),
      body,
      Buffer.from(trailer, "latin1"),
    ]);

  it("gzip, deflate (zlib) and br bodies are decoded", () => {
    for (const [encoding, body] of [
      ["gzip", gzipSync(page)],
      ["deflate", deflateSync(page)],
      ["br", brotliCompressSync(page)],
      ["deflate, gzip", gzipSync(deflateSync(page))],
    ] as const) {
      const [r] = parseRawResponses(saved(encoding, body));
      expect(r!.body.toString(), encoding).toBe(page);
      expect(r!.bodyTruncated).toBe(false);
      expect(r!.headers).toContainEqual(["Content-Encoding", encoding]);
    }
  });

  it("a trailing newline after the gzip member is tolerated", () => {
    const [r] = parseRawResponses(saved("gzip", gzipSync(page), "\n"));
    expect(r!.body.toString()).toBe(page);
  });

  it("a body curl already decoded (--compressed) is kept as it is", () => {
    for (const encoding of ["gzip", "deflate", "br"]) {
      const [r] = parseRawResponses(saved(encoding, Buffer.from(page)));
      expect(r!.body.toString(), encoding).toBe(page);
      expect(r!.bodyTruncated).toBe(false);
    }
  });

  it("a damaged gzip body is kept raw and marked truncated", () => {
    const bad = Buffer.concat([Buffer.from([0x1f, 0x8b, 0x08, 0x00]), Buffer.from("not gzip at all")]);
    const [r] = parseRawResponses(saved("gzip", bad));
    expect(r!.body.equals(bad)).toBe(true);
    expect(r!.bodyTruncated).toBe(true);
  });

  it("a decompression bomb stops at MAX_DECODED_BODY_BYTES: raw kept, truncated", () => {
    const bomb = gzipSync(Buffer.alloc(MAX_DECODED_BODY_BYTES + 1024, 0x41));
    const [r] = parseRawResponses(saved("gzip", bomb));
    expect(r!.body.equals(bomb)).toBe(true);
    expect(r!.bodyTruncated).toBe(true);
    const brBomb = brotliCompressSync(Buffer.alloc(MAX_DECODED_BODY_BYTES + 1024, 0x41));
    const [b] = parseRawResponses(saved("br", brBomb));
    expect(b!.body.equals(brBomb)).toBe(true);
    expect(b!.bodyTruncated).toBe(true);
  });

  it("decodeSavedBody leaves bodies without Content-Encoding alone", () => {
    const gz = gzipSync(page);
    expect(decodeSavedBody([], gz, false)).toEqual({ body: gz, truncated: false });
    expect(decodeSavedBody([["Content-Encoding", "zstd"]], gz, false)).toEqual({
      body: gz,
      truncated: false,
    });
  });

  it("curl -v output with a gzip body", () => {
    const text = `> GET /admin HTTP/1.1\r\n> Host: example.test\r\n>\r\n< HTTP/1.1 403 Forbidden\r\n< Content-Encoding: gzip\r\n<\r\n`;
    const buf = Buffer.concat([Buffer.from(text), gzipSync("blocked\n")]);
    const ex = exchangeFromRawResponse(buf);
    expect(ex.response.body.toString()).toBe("blocked\n");
  });
});

describe("curl -v: the URL is where curl connected, the Host header stays", () => {
  const verbose = (...lines: string[]) => Buffer.from(`${lines.join("\n")}\n`);
  const reply = ["< HTTP/1.1 403 Forbidden", "< Content-Length: 0", "<"];

  it("-H 'Host: shop.test' http://127.0.0.1:39205/ (curl 8)", () => {
    const ex = exchangeFromRawResponse(
      verbose(
        "*   Trying 127.0.0.1:39205...",
        "* Connected to 127.0.0.1 (127.0.0.1) port 39205",
        "> POST /cart HTTP/1.1",
        "> Host: shop.test",
        ">",
        ...reply,
      ),
    );
    expect(ex.request.url).toBe("http://127.0.0.1:39205/cart");
    expect(ex.request.headers).toContainEqual(["Host", "shop.test"]);
  });

  it("older curl: '(#0)' suffix, only a Trying line, IPv6, TLS on 443", () => {
    const url = (...info: string[]) =>
      exchangeFromRawResponse(verbose(...info, "> GET /x HTTP/1.1", "> Host: vhost.test", ">", ...reply))
        .request.url;
    expect(url("* Connected to localhost (127.0.0.1) port 8080 (#0)")).toBe("http://localhost:8080/x");
    expect(url("*   Trying 127.0.0.1:39205...")).toBe("http://127.0.0.1:39205/x");
    expect(url("*   Trying [::1]:8080...", "* Connected to ::1 (::1) port 8080 (#0)")).toBe(
      "http://[::1]:8080/x",
    );
    expect(url("* Connected to 10.0.0.5 (10.0.0.5) port 443 (#0)")).toBe("https://10.0.0.5/x");
    expect(
      url(
        "* Connected to 127.0.0.1 (127.0.0.1) port 8443",
        "* SSL connection using TLSv1.3 / TLS_AES_256_GCM_SHA384",
      ),
    ).toBe("https://127.0.0.1:8443/x");
    // Without any connection line the Host header is all there is.
    expect(url()).toBe("http://vhost.test/x");
  });

  it("an http hop then an https hop each get their own scheme and address", () => {
    const ex = exchangeFromRawResponse(
      verbose(
        "*   Trying 127.0.0.1:8080...",
        "* Connected to 127.0.0.1 (127.0.0.1) port 8080",
        "> POST /login HTTP/1.1",
        "> Host: app.test",
        ">",
        "< HTTP/1.1 301 Moved Permanently",
        "< Location: https://app.test:8443/login",
        "< Content-Length: 0",
        "<",
        "*   Trying 127.0.0.1:8443...",
        "* Connected to app.test (127.0.0.1) port 8443",
        "* TLSv1.3 (OUT), TLS handshake, Client hello (1):",
        "> POST /login HTTP/1.1",
        "> Host: app.test:8443",
        ">",
        ...reply,
      ),
    );
    expect(ex.redirects.map((r) => r.request.url)).toEqual(["http://127.0.0.1:8080/login"]);
    expect(ex.request.url).toBe("https://app.test:8443/login");
  });

  it("through a proxy tunnel: the URL is the tunnel's end and the proxy's 200 is not a response", () => {
    const ex = exchangeFromRawResponse(
      verbose(
        "*   Trying 127.0.0.1:3128...",
        "* Connected to 127.0.0.1 (127.0.0.1) port 3128",
        "> CONNECT api.test:443 HTTP/1.1",
        "> Host: api.test:443",
        ">",
        "< HTTP/1.1 200 Connection established",
        "<",
        "* SSL connection using TLSv1.3 / TLS_AES_256_GCM_SHA384",
        "> GET /v1 HTTP/1.1",
        "> Host: api.test",
        ">",
        ...reply,
      ),
    );
    expect(ex.redirects).toEqual([]);
    expect(ex.request.url).toBe("https://api.test/v1");
    expect(ex.response.status).toBe(403);
  });
});
