import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { LineDispatcher } from "./dispatch.js";
import { LOGFMT_LINE, parseLogfmt } from "./logfmt.js";

function read(text: string) {
  return new LineDispatcher("app.log", []).feed({ n: 7, text, cut: false });
}

describe("parseLogfmt", () => {
  it("reads bare and quoted values, undoes escapes, nests dotted keys", () => {
    const doc = parseLogfmt(
      'time=2026-01-05T00:00:01Z msg="say \\"no\\"\\tnow" req.method=POST req.path=/a empty=',
    );
    expect(JSON.parse(JSON.stringify(doc))).toEqual({
      time: "2026-01-05T00:00:01Z",
      msg: 'say "no"\tnow',
      req: { method: "POST", path: "/a" },
      empty: "",
    });
  });

  it("keeps a key whose place holds another shape flat, and __proto__ as a plain field", () => {
    const doc = parseLogfmt("req=1 req.method=POST __proto__=x a=b") as Record<string, unknown>;
    expect(doc.req).toBe("1");
    expect(doc["req.method"]).toBe("POST");
    expect(Object.getOwnPropertyDescriptor(doc, "__proto__")?.value).toBe("x");
    expect(Object.getPrototypeOf(doc)).toBeNull();
    expect(({} as Record<string, unknown>).x).toBeUndefined();
  });

  it("is not free text with an = in it, nor a line with fewer than three pairs or an open quote", () => {
    expect(
      parseLogfmt("Jan  5 00:00:01 host sshd[1]: Failed password for user=root from 10.0.0.1"),
    ).toBeNull();
    expect(parseLogfmt("a=1 b=2")).toBeNull();
    expect(parseLogfmt('a=1 b=2 msg="open')).toBeNull();
    expect(parseLogfmt('a=1 b=2 msg="x"y')).toBeNull();
    expect(parseLogfmt("a=1 b=2 =3")).toBeNull();
    expect(parseLogfmt("a=1 b=2 c=3")).not.toBeNull();
  });
});

describe("LOGFMT_LINE (the pattern ClickHouse counts with)", () => {
  const chars = fc.constantFrom(
    "a",
    "Z",
    "_",
    "@",
    ".",
    "-",
    "/",
    "1",
    "=",
    '"',
    "\\",
    " ",
    "\t",
    "x",
    "é",
    "\r",
  );
  const text = fc.array(chars, { maxLength: 40 }).map((cs) => cs.join(""));
  const key = fc.constantFrom("a", "req.method", "_x", "@t", "k-1/2", "a", "b", "1a", "a b", "");
  const clean = fc.constantFrom("1", "POST", "/a?b=c", "", "4.03e2", 'a\\"b');
  const value = fc.oneof(
    clean,
    clean.map((t) => `"${t}"`),
    text,
    text.map((t) => `"${t}"`),
  );
  const pairs = fc
    .array(fc.tuple(key, value, fc.constantFrom(" ", "  ", "\t", "")), { maxLength: 6 })
    .map((ps) => ps.map(([k, v, sep]) => `${k}=${v}${sep}`).join(""));

  it("accepts exactly the lines parseLogfmt reads", () => {
    let read = 0;
    fc.assert(
      fc.property(
        fc.oneof(
          pairs,
          pairs.map((p) => ` ${p}`),
          text,
        ),
        (line) => {
          const parsed = parseLogfmt(line) !== null;
          if (parsed) read++;
          expect(LOGFMT_LINE.test(line)).toBe(parsed);
        },
      ),
      { numRuns: 20000 },
    );
    // Enough accepted lines that the "accepts" half is exercised too.
    expect(read).toBeGreaterThan(200);
  });
});

describe("logfmt lines through the dispatcher (the application-log reader's fields)", () => {
  it("a refusal status with a method, path, client, time and request id", () => {
    const r = read(
      'time=2026-01-05T10:00:02.000Z level=WARN msg="request refused" req.method=POST req.path=/api/cart http.status_code=429 request_id=abc123 client_ip=10.0.0.8',
    );
    expect(r.format).toBe("logfmt");
    expect(r.records).toHaveLength(1);
    expect(r.records[0]).toMatchObject({
      kind: "app",
      denied: true,
      status: 429,
      cause: "rate-limit",
      method: "POST",
      path: "/api/cart",
      client: "10.0.0.8",
      requestId: "abc123",
      line: 7,
    });
    expect(r.records[0]?.time?.toISOString()).toBe("2026-01-05T10:00:02.000Z");
  });

  it("the words of a loud status-less line (log15's lvl=eror), and nothing for a quiet one", () => {
    const loud = read(
      't=2026-01-05T10:00:01+0000 lvl=eror msg="forbidden: user lacks scope orders:write" remote_addr=10.0.0.9',
    );
    expect(loud.records.map((x) => [x.cause, x.client, x.time?.toISOString()])).toEqual([
      ["insufficient-permission", "10.0.0.9", "2026-01-05T10:00:01.000Z"],
    ]);
    expect(
      read('t=2026-01-05T10:00:01+0000 lvl=dbug msg="forbidden word in a debug line" a=b').records,
    ).toEqual([]);
    expect(read("time=2026-01-05T10:00:01Z level=info msg=ok status=200 path=/").records).toEqual([]);
  });

  it("Heroku's router line inside `heroku logs`' TIME source[process]: envelope, client from fwd", () => {
    const r = read(
      '2026-01-05T10:00:03.000000+00:00 heroku[router]: at=info method=POST path="/api/checkout" host=shop.example request_id=8601b555 fwd="203.0.113.7" dyno=web.1 connect=0ms service=12ms status=403 bytes=120 protocol=https',
    );
    expect(r.format).toBe("logfmt");
    expect(
      r.records.map((x) => [x.status, x.method, x.path, x.client, x.requestId, x.time?.toISOString()]),
    ).toEqual([[403, "POST", "/api/checkout", "203.0.113.7", "8601b555", "2026-01-05T10:00:03.000Z"]]);
  });
});
