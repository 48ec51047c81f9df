// Property tests: whatever the input, the importers either return a model or
// throw an InputError (NotRefusedError is one); never a TypeError, RangeError
// or a hang.

import { readdirSync, readFileSync } from "node:fs";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { InputError } from "../errors.js";
import { parseCurlArgs, parseCurlCommandLine } from "./curl.js";
import { parseHar, selectHarEntry } from "./har.js";
import { exchangeFromRawResponse, parseRawResponses } from "./raw-response.js";

const fixturesDir = new URL("../../fixtures/", import.meta.url);
const read = (sub: string) =>
  readdirSync(new URL(`${sub}/`, fixturesDir)).map((f) => readFileSync(new URL(`${sub}/${f}`, fixturesDir)));

const curlFixtures = read("curl").map((b) => b.toString("utf8"));
const harFixtures = read("har").map((b) => JSON.parse(b.toString("utf8")) as unknown);
const rawFixtures = read("raw");

/** Runs fn; passes when it returns or throws an InputError, fails on anything else. */
function onlyInputErrors(fn: () => unknown): void {
  try {
    fn();
  } catch (e) {
    if (!(e instanceof InputError)) throw e;
    expect(e.message).not.toContain("\n");
  }
}

const OPTION_WORDS = [
  "-X",
  "-XPOST",
  "-H",
  "-d",
  "--data",
  "--data-raw",
  "--data-binary",
  "--data-urlencode",
  "--json",
  "-F",
  "--form-string",
  "-b",
  "-u",
  "-A",
  "-e",
  "-G",
  "-I",
  "-L",
  "-k",
  "-x",
  "--compressed",
  "--url",
  "-m",
  "--max-time",
  "-sSL",
  "-o",
  "-w",
  "--",
  "--request=PUT",
  "--no-location",
  "-T",
  "--oauth2-bearer",
  "--config",
  "-:",
  "@",
  "x=@",
  "a=<",
  "-H@x",
  "http://127.0.0.1/",
  "https://example.test/a?b=c",
  "localhost:8080",
  "ftp://x",
  "Content-Type: application/json",
  "Cookie;",
  "X:",
  "a=1",
  "=v",
  "n@f",
];

const wordArb = fc.oneof(
  { weight: 3, arbitrary: fc.constantFrom(...OPTION_WORDS) },
  { weight: 2, arbitrary: fc.string({ maxLength: 12 }) },
  { weight: 1, arbitrary: fc.string({ unit: "binary", maxLength: 8 }) },
);

/** Quotes a word the way some shell might, correctly or not. */
const quotedWordArb = fc.tuple(wordArb, fc.constantFrom("", "'", '"', "$'", '^"', "\\")).map(([w, q]) => {
  if (q === "") return w;
  if (q === "$'") return `$'${w}'`;
  if (q === "\\") return `${w} \\\n `;
  if (q === '^"') return `^"${w}^" ^\r\n`;
  return `${q}${w}${q}`;
});

const CONTROL = fc.constantFrom(
  "",
  "'",
  '"',
  "\\",
  "^",
  "$'",
  "\\\n",
  "^\r\n",
  ";",
  "|",
  "&",
  "#",
  "\u0000",
  "\\x",
  "\\u{",
);

describe("fuzz: curl", () => {
  it("parseCurlCommandLine on arbitrary text", () => {
    fc.assert(
      fc.property(fc.string({ maxLength: 200 }), (s) => onlyInputErrors(() => parseCurlCommandLine(s))),
      { numRuns: 2500 },
    );
    fc.assert(
      fc.property(fc.string({ maxLength: 200 }), (s) =>
        onlyInputErrors(() => parseCurlCommandLine(`curl ${s}`)),
      ),
      { numRuns: 2500 },
    );
  });

  it("parseCurlCommandLine on structured lines", () => {
    fc.assert(
      fc.property(
        fc.array(quotedWordArb, { maxLength: 14 }),
        fc.constantFrom("curl ", "curl.exe ", ""),
        (ws, lead) => onlyInputErrors(() => parseCurlCommandLine(lead + ws.join(" "))),
      ),
      { numRuns: 4000 },
    );
  });

  it("browser fixtures with a cut or a stray control character still fail cleanly", () => {
    fc.assert(
      fc.property(fc.constantFrom(...curlFixtures), fc.nat(), fc.nat(), CONTROL, (text, a, b, insert) => {
        const i = a % (text.length + 1);
        const j = i + (b % 20);
        onlyInputErrors(() => parseCurlCommandLine(text.slice(0, i) + insert + text.slice(j)));
      }),
      { numRuns: 3000 },
    );
  });

  it("parseCurlArgs on arbitrary and structured argv", () => {
    fc.assert(
      fc.property(fc.array(fc.string({ maxLength: 16 }), { maxLength: 10 }), (args) =>
        onlyInputErrors(() => parseCurlArgs(args)),
      ),
      { numRuns: 2000 },
    );
    fc.assert(
      fc.property(fc.array(wordArb, { maxLength: 12 }), (args) => onlyInputErrors(() => parseCurlArgs(args))),
      { numRuns: 2000 },
    );
  });

  it("parseCurlArgs on option/value pairs around one URL (mostly valid)", () => {
    const pair = fc.tuple(
      fc.constantFrom(...OPTION_WORDS.filter((w) => w.startsWith("-"))),
      fc.oneof(
        fc.constantFrom(...OPTION_WORDS.filter((w) => !w.startsWith("-"))),
        fc.string({ maxLength: 10 }),
      ),
    );
    let parsed = 0;
    fc.assert(
      fc.property(fc.array(pair, { maxLength: 6 }), fc.nat(), (pairs, at) => {
        const args = pairs.flat();
        args.splice(at % (args.length + 1), 0, "https://example.test/p?q=1");
        try {
          const r = parseCurlArgs(args);
          parsed++;
          expect(r.url.startsWith("http")).toBe(true);
          expect(typeof r.method).toBe("string");
        } catch (e) {
          if (!(e instanceof InputError)) throw e;
        }
      }),
      { numRuns: 4000 },
    );
    // The generator must reach the success path often enough to be worth running.
    expect(parsed).toBeGreaterThan(400);
  });
});

/** Sets or deletes a value at a random path inside a JSON value. */
function mutate(value: unknown, path: number[], replacement: unknown, remove: boolean): unknown {
  const copy = structuredClone(value);
  let node: unknown = copy;
  for (let depth = 0; depth < path.length; depth++) {
    if (node === null || typeof node !== "object") return replacement;
    const keys = Object.keys(node as object);
    if (keys.length === 0) break;
    const key = keys[path[depth]! % keys.length]!;
    const last = depth === path.length - 1;
    const child = (node as Record<string, unknown>)[key];
    if (last || child === null || typeof child !== "object") {
      if (remove) delete (node as Record<string, unknown>)[key];
      else (node as Record<string, unknown>)[key] = replacement;
      break;
    }
    node = child;
  }
  return copy;
}

const selectOpts = fc.oneof(
  fc.constant({}),
  fc.record({ entry: fc.integer({ min: -2, max: 6 }) }),
  fc.record({ match: fc.string({ maxLength: 5 }) }),
  fc.record({ entry: fc.double(), match: fc.string({ maxLength: 3 }) }),
);

describe("fuzz: HAR", () => {
  it("arbitrary JSON and text", () => {
    fc.assert(
      fc.property(
        fc.oneof(fc.json({ maxDepth: 4 }), fc.string({ maxLength: 60 })),
        selectOpts,
        (text, opts) => onlyInputErrors(() => selectHarEntry(parseHar(text), opts)),
      ),
      { numRuns: 1500 },
    );
  });

  it("fixtures with one value replaced or removed", () => {
    fc.assert(
      fc.property(
        fc.constantFrom(...harFixtures),
        fc.array(fc.nat(40), { minLength: 1, maxLength: 7 }),
        fc.oneof(
          fc.jsonValue({ maxDepth: 2 }),
          fc.constantFrom(-1, 0, 403, "403", "", "base64", "h2", ":authority", "not a url", "%%%"),
        ),
        fc.boolean(),
        selectOpts,
        (har, path, replacement, remove, opts) => {
          const text = JSON.stringify(mutate(har, path, replacement, remove));
          onlyInputErrors(() => selectHarEntry(parseHar(text), opts));
        },
      ),
      { numRuns: 3000 },
    );
  });
});

const RAW_PIECES = [
  "HTTP/1.1 403 Forbidden\r\n",
  "HTTP/2 403 \n",
  "HTTP/1.1 100 Continue\r\n\r\n",
  "HTTP/1.0 302 Found\n",
  "Content-Length: 5\r\n",
  "Content-Length: -1\n",
  "Content-Length: 99999999999999999999\n",
  "Content-Encoding: gzip\n",
  "Location: /next\n",
  "Location: ::::\n",
  "Date: Tue, 04 Mar 2025 10:15:02 GMT\n",
  "Date: yesterday\n",
  " folded\n",
  "\r\n",
  "\n",
  "< HTTP/1.1 403 Forbidden\n",
  "< Server: x\n",
  "<\n",
  "> POST /a HTTP/1.1\n",
  "> Host: h:1\n",
  "> Host: [::1\n",
  "> GET http://x/ HTTP/1.1\n",
  "* TLSv1.3\n",
  "* [HTTP/2] [1] [:scheme: https]\n",
  "{ [5 bytes data]\n",
  "body",
  "\u0000",
  "HTTP/",
];

describe("fuzz: raw responses", () => {
  it("arbitrary bytes", () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 300 }), (bytes) => {
        const buf = Buffer.from(bytes);
        onlyInputErrors(() => parseRawResponses(buf));
        onlyInputErrors(() => exchangeFromRawResponse(buf));
      }),
      { numRuns: 2000 },
    );
  });

  it("structured pieces", () => {
    fc.assert(
      fc.property(
        fc.array(
          fc.oneof({ weight: 4, arbitrary: fc.constantFrom(...RAW_PIECES) }, fc.string({ maxLength: 8 })),
          {
            maxLength: 16,
          },
        ),
        (pieces) => {
          const buf = Buffer.from(pieces.join(""), "utf8");
          onlyInputErrors(() => exchangeFromRawResponse(buf));
        },
      ),
      { numRuns: 4000 },
    );
  });

  it("fixtures cut and spliced", () => {
    fc.assert(
      fc.property(
        fc.constantFrom(...rawFixtures),
        fc.nat(),
        fc.nat(),
        fc.constantFrom(...RAW_PIECES),
        (b, x, y, ins) => {
          const i = x % (b.length + 1);
          const j = Math.min(b.length, i + (y % 30));
          const buf = Buffer.concat([b.subarray(0, i), Buffer.from(ins), b.subarray(j)]);
          onlyInputErrors(() => exchangeFromRawResponse(buf));
        },
      ),
      { numRuns: 2000 },
    );
  });
});
