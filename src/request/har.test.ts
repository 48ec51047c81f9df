import { readFileSync } from "node:fs";
import { gzipSync } from "node:zlib";
import { describe, expect, it } from "vitest";
import { InputError, NotRefusedError } from "../errors.js";
import { harEntryToExchange, listHarEntries, parseHar, selectHarEntry } from "./har.js";

const load = (name: string) =>
  parseHar(readFileSync(new URL(`../../fixtures/har/${name}`, import.meta.url), "utf8"));

function thrown(fn: () => unknown): Error {
  try {
    fn();
  } catch (e) {
    return e as Error;
  }
  throw new Error("expected a throw");
}

describe("parseHar", () => {
  it("refuses invalid JSON and JSON that is not HAR", () => {
    const a = thrown(() => parseHar("{nope"));
    expect(a).toBeInstanceOf(InputError);
    expect(a.message).toMatch(/not valid JSON/);
    const b = thrown(() => parseHar('{"hello":"world"}'));
    expect(b).toBeInstanceOf(InputError);
    expect(b.message).toMatch(/^not a HAR file: log: /);
    const c = thrown(() => parseHar('{"log":{"entries":[{"request":{}}]}}'));
    expect(c.message).toMatch(/^not a HAR file: log\.entries\.0\.request\.method/);
    expect(c.message).not.toContain("\n");
  });
  it("accepts a BOM", () => {
    expect(parseHar('\uFEFF{"log":{"entries":[]}}').log.entries).toEqual([]);
  });
});

describe("Chrome HAR", () => {
  const har = load("chrome.har");
  it("lists entries with 0-based indices", () => {
    expect(listHarEntries(har)).toEqual([
      { index: 0, method: "GET", url: "https://shop.example.com/cart", status: 200 },
      { index: 1, method: "POST", url: "https://shop.example.com/api/cart/items", status: 403 },
      { index: 2, method: "GET", url: "https://cdn.example.com/img/logo.png", status: 200 },
    ]);
  });
  it("selects the last refused entry by default, dropping pseudo-headers", () => {
    const { index, exchange } = selectHarEntry(har, {});
    expect(index).toBe(1);
    expect(exchange.request.method).toBe("POST");
    expect(exchange.request.url).toBe("https://shop.example.com/api/cart/items");
    expect(exchange.request.headers.map(([n]) => n)).toEqual([
      "accept",
      "content-type",
      "cookie",
      "origin",
      "referer",
    ]);
    expect(exchange.request.body?.toString()).toBe('{"sku":"A-100","qty":2}');
    expect(exchange.response.status).toBe(403);
    expect(exchange.response.httpVersion).toBe("HTTP/2");
    expect(exchange.response.body.toString()).toBe('{"detail":"CSRF Failed: CSRF token missing."}');
    expect(exchange.response.bodyTruncated).toBe(false);
    expect(exchange.startedAt?.toISOString()).toBe("2025-03-04T10:15:02.480Z");
    expect(exchange.redirects).toEqual([]);
  });
  it("--entry and --match", () => {
    expect(selectHarEntry(har, { entry: 0 }).exchange.response.status).toBe(200);
    expect(selectHarEntry(har, { match: "logo" }).index).toBe(2);
    // Several entries match: the last refused one wins over a later successful one.
    expect(selectHarEntry(har, { match: "example.com" }).index).toBe(1);
    const e = thrown(() => selectHarEntry(har, { entry: 3 }));
    expect(e).toBeInstanceOf(InputError);
    expect(e.message).toBe("--entry 3 does not exist; the HAR has 3 entries (0 to 2)");
    expect(thrown(() => selectHarEntry(har, { match: "nothing-like-this" })).message).toMatch(
      /no entry's URL/,
    );
    expect(thrown(() => selectHarEntry(har, { entry: 0, match: "x" })).message).toMatch(/not both/);
  });
  it("a body the recording omitted is marked truncated", () => {
    expect(selectHarEntry(har, { entry: 2 }).exchange.response.bodyTruncated).toBe(true);
  });
});

describe("Firefox HAR", () => {
  it("uses postData.text next to an empty params list", () => {
    const { index, exchange } = selectHarEntry(load("firefox.har"), {});
    expect(index).toBe(0);
    expect(exchange.request.body?.toString()).toBe(
      "csrfmiddlewaretoken=Abc123&username=alice&password=p%40ss",
    );
    expect(exchange.response.statusText).toBe("Forbidden");
    expect(exchange.response.httpVersion).toBe("HTTP/1.1");
    expect(exchange.response.body.toString()).toContain("CSRF verification failed");
    expect(exchange.startedAt?.toISOString()).toBe("2025-03-04T10:00:03.512Z");
  });
});

describe("Safari HAR", () => {
  it("tolerates missing fields and -1 sizes, rebuilds Cookie from cookies", () => {
    const { exchange } = selectHarEntry(load("safari.har"), {});
    expect(exchange.response.status).toBe(429);
    expect(exchange.request.headers).toEqual([
      ["Content-Type", "application/json"],
      ["Accept", "*/*"],
      ["Cookie", "sid=abc"],
    ]);
    expect(exchange.response.body.length).toBe(0);
    expect(exchange.response.bodyTruncated).toBe(true);
  });
});

describe("redirect chains", () => {
  it("follows earlier 3xx entries back transitively, oldest first", () => {
    const { index, exchange } = selectHarEntry(load("redirect-chain.har"), {});
    expect(index).toBe(3);
    expect(exchange.redirects.map((r) => [r.request.method, r.request.url, r.response.status])).toEqual([
      ["POST", "http://forms.example.com/submit", 301],
      ["GET", "https://forms.example.com/submit", 302],
    ]);
    expect(exchange.redirects[0]!.request.body?.toString()).toBe("email=a%40b.c&msg=hi");
  });
});

describe("base64 body and params-only multipart", () => {
  it("decodes the response and rebuilds the request body", () => {
    const { exchange } = selectHarEntry(load("base64-body.har"), {});
    expect(exchange.response.body.toString("utf8")).toContain("Access Denied");
    expect(exchange.response.body.toString("utf8")).toContain("é");
    expect(exchange.response.bodyTruncated).toBe(false);
    expect(exchange.request.body?.toString()).toBe(
      '------WebKitFormBoundaryX1\r\nContent-Disposition: form-data; name="title"\r\n\r\nreport\r\n' +
        '------WebKitFormBoundaryX1\r\nContent-Disposition: form-data; name="doc"; filename="a.txt"\r\nContent-Type: text/plain\r\n\r\nhello\r\n' +
        "------WebKitFormBoundaryX1--\r\n",
    );
  });
  it("urlencoded params are rebuilt", () => {
    const har = parseHar(
      JSON.stringify({
        log: {
          entries: [
            {
              request: {
                method: "POST",
                url: "https://x/",
                postData: {
                  mimeType: "application/x-www-form-urlencoded",
                  params: [
                    { name: "a b", value: "1&2" },
                    { name: "c", value: "é" },
                  ],
                },
              },
              response: { status: "403" },
            },
          ],
        },
      }),
    );
    const ex = harEntryToExchange(har.log.entries[0]!);
    expect(ex.request.body?.toString()).toBe("a+b=1%262&c=%C3%A9");
    expect(ex.response.status).toBe(403);
    expect(ex.startedAt).toBeUndefined();
  });
});

describe("no refusal", () => {
  it("NotRefusedError counts the entries", () => {
    const har = parseHar(
      JSON.stringify({
        log: { entries: [{ request: { method: "GET", url: "https://x/" }, response: { status: 200 } }] },
      }),
    );
    const e = thrown(() => selectHarEntry(har, {}));
    expect(e).toBeInstanceOf(NotRefusedError);
    expect(e.message).toMatch(/none of the 1 entries/);
    expect(thrown(() => selectHarEntry(parseHar('{"log":{"entries":[]}}'), {})).message).toMatch(
      /no entries/,
    );
  });
});

describe("response content still gzipped", () => {
  const page = "<html>Access Denied by rule 942100</html>\n";
  const entryWith = (content: Record<string, unknown>) =>
    harEntryToExchange(
      parseHar(
        JSON.stringify({
          log: {
            entries: [
              {
                request: { method: "POST", url: "https://x/" },
                response: { status: 403, headers: [{ name: "Content-Encoding", value: "gzip" }], content },
              },
            ],
          },
        }),
      ).log.entries[0]!,
    ).response;

  it("base64 of the gzip bytes is gunzipped", () => {
    const r = entryWith({ text: gzipSync(page).toString("base64"), encoding: "base64" });
    expect(r.body.toString()).toBe(page);
    expect(r.bodyTruncated).toBe(false);
  });

  it("gzip bytes stored as latin1 text are gunzipped", () => {
    const r = entryWith({ text: gzipSync(page).toString("latin1") });
    expect(r.body.toString()).toBe(page);
  });

  it("already decoded text is left alone, and a damaged gzip is kept raw and truncated", () => {
    expect(entryWith({ text: page }).body.toString()).toBe(page);
    const bad = Buffer.from([0x1f, 0x8b, 0x08, 0x00, 0x41, 0x42]);
    const r = entryWith({ text: bad.toString("base64"), encoding: "base64" });
    expect(r.body.equals(bad)).toBe(true);
    expect(r.bodyTruncated).toBe(true);
  });
});
