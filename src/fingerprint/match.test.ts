import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { MAX_FINGERPRINT_BODY_CHARS } from "../limits.js";
import type { Header, ResponseModel } from "../model.js";
import { parseRawResponses } from "../request/raw-response.js";
import { loadCatalogue } from "./catalogue.js";
import { fingerprint, fingerprintWith } from "./match.js";
import { parseSignature } from "./signature-schema.js";
import { readFixture } from "./test-read-fixture.js";

const FIXTURE_DIR = join(import.meta.dirname, "../../fixtures/responses");
const fixtures = readdirSync(FIXTURE_DIR)
  .filter((f) => f.endsWith(".http"))
  .map((f) => f.slice(0, -".http".length))
  .sort();

const signatures = loadCatalogue();
const products = signatures.map((s) => s.product).sort((a, b) => b.length - a.length);
const layerOf = new Map(signatures.map((s) => [s.product, s.layer]));

/** "<product>[-variant][-via-<relay>...]": the longest product id that prefixes the name. */
function expectedFor(name: string): { product: string; relays: string[] | null } {
  const [head = "", ...vias] = name.split("-via-");
  const product = products.find((p) => head === p || head.startsWith(`${p}-`));
  if (!product) throw new Error(`fixture ${name} names no product`);
  // Names read origin first; relays are reported client side first.
  return { product, relays: vias.length > 0 ? [...vias].reverse() : null };
}

function response(status: number, headers: Header[], body = ""): ResponseModel {
  return {
    status,
    statusText: "",
    httpVersion: "HTTP/1.1",
    headers,
    body: Buffer.from(body),
    bodyTruncated: false,
  };
}

describe("fixtures are identified as the product their name says", () => {
  it.each(fixtures)("%s", (name) => {
    const expected = expectedFor(name);
    const result = fingerprint(readFixture(join(FIXTURE_DIR, `${name}.http`)));
    expect(result.responder.product).toBe(expected.product);
    expect(result.responder.layer).toBe(layerOf.get(expected.product));
    expect(result.responder.evidence.length).toBeGreaterThan(0);
    if (expected.relays) {
      expect((result.responder.relays ?? []).map((r) => r.product)).toEqual(expected.relays);
    }
  });
});

describe("fixtures read through the product's raw-response importer", () => {
  it.each(fixtures)("%s", (name) => {
    const [parsed] = parseRawResponses(readFileSync(join(FIXTURE_DIR, `${name}.http`)));
    expect(parsed).toBeDefined();
    expect(fingerprint(parsed as ResponseModel).responder.product).toBe(expectedFor(name).product);
  });
});

describe("references", () => {
  const cases: Array<[string, string, string]> = [
    ["cloudflare", "Cloudflare Ray ID", "8a1b2c3d4e5f6a7b-AMS"],
    ["cloudflare", "Cloudflare Ray ID", "8a1b2c3d4e5f6a7b"],
    ["akamai", "Akamai reference", "18.2d4e1002.1764133200.6a2b3c4d"],
    ["f5-bigip", "F5 support ID", "14593186340165923137"],
    ["imperva", "Incapsula incident ID", "1234000150123456789-12345678901234567"],
    ["aws-api-gateway", "x-amzn-RequestId", "5b0c8f4e-1d2a-4c3b-9e8f-7a6b5c4d3e2f"],
    ["aws-s3", "x-amz-request-id", "4W8QZ6N2P1XK7J3M"],
    ["aws-s3-via-cloudfront", "x-amz-request-id", "9KZ3T7W1QXB2M8N4"],
    [
      "aws-s3-via-cloudfront",
      "CloudFront request id",
      "Zz9Yy8Xx7Ww6Vv5Uu4Tt3Ss2Rr1Qq0PpOoNnMmLlKkJjIiHhGgFf==",
    ],
    ["rails", "x-request-id", "7c1f9a4e-2b3d-4e5f-8a9b-0c1d2e3f4a5b"],
    ["envoy", "x-request-id", "6f1c2a7e-3b9d-4c41-9a55-0e7d2b1f4a10"],
    ["modsecurity-custom-page", "ModSecurity unique_id", "aSZ0gH8AAQEAAB3kXYkAAAAB"],
    ["sucuri", "Sucuri block ID", "SQLI01"],
    ["varnish", "Varnish XID", "98310"],
    ["github-api", "x-github-request-id", "C0DE:1F2E:3A4B5C:6D7E8F:6746F9A0"],
    [
      "azure-front-door",
      "Azure tracking reference",
      "20251126T050000Z-17b5c8d9f4bw2m8khC1AMSx3a40000000b2g00000000abcd",
    ],
    ["fortiweb", "FortiWeb attack ID", "20000051"],
    ["iis-403-503-ip-denied", "IIS status.substatus", "403.503"],
  ];
  it.each(cases)("%s yields %s %s", (name, label, value) => {
    const result = fingerprint(readFixture(join(FIXTURE_DIR, `${name}.http`)));
    expect(result.responder.references ?? []).toContainEqual({ label, value });
  });
});

describe("verdict-facing evidence", () => {
  it("carries marker cause weights with source response", () => {
    const cf = fingerprint(readFixture(join(FIXTURE_DIR, "cloudflare.http")));
    expect(cf.blockPage).toBe(true);
    expect(cf.evidence.every((e) => e.source === "response")).toBe(true);
    expect(cf.evidence.some((e) => (e.weights.waf ?? 0) >= 3)).toBe(true);
    expect(cf.responder.evidence).toContain("header cf-ray: 8a1b2c3d4e5f6a7b-AMS");
    expect(cf.responder.evidence).toContain("body: Attention Required! | Cloudflare");
  });

  it("flags challenges", () => {
    const r = fingerprint(readFixture(join(FIXTURE_DIR, "cloudflare-challenge.http")));
    expect(r.challenge).toBe(true);
    expect(r.evidence.some((e) => (e.weights["bot-protection"] ?? 0) >= 5)).toBe(true);
  });

  it("gives Django's CSRF page a decisive csrf weight and quotes the reason", () => {
    const r = fingerprint(readFixture(join(FIXTURE_DIR, "django-debug-origin.http")));
    expect(r.evidence.some((e) => (e.weights.csrf ?? 0) >= 6)).toBe(true);
    expect(r.responder.evidence.join("\n")).toMatch(/Origin checking failed/);
  });

  it("never quotes cookie values", () => {
    const r = fingerprint(readFixture(join(FIXTURE_DIR, "imperva.http")));
    const text = JSON.stringify(r);
    expect(text).toContain("cookie visid_incap_2417593");
    expect(text).not.toContain("Zm9vYmFyYmF6cXV4");
  });

  it("calls a plain Apache 403 apache, not modsecurity", () => {
    const r = fingerprint(readFixture(join(FIXTURE_DIR, "apache.http")));
    expect(r.matches.map((m) => m.product)).not.toContain("modsecurity");
  });
});

describe("pages styled like an edge product's", () => {
  const challenge =
    "<html><head><title>Just a moment...</title></head><body>Checking your browser.</body></html>";

  it("a challenge-styled page sent with Caddy's Server header and no Cloudflare header is Caddy's", () => {
    const r = fingerprint(response(403, [["Server", "Caddy"]], challenge));
    expect(r.responder.product).toBe("caddy");
    expect(r.challenge).toBe(false);
    expect(r.evidence.some((e) => (e.weights["bot-protection"] ?? 0) > 0)).toBe(false);
    expect(r.evidence.map((e) => e.fact).join("\n")).toMatch(/did not write it/);
  });

  it("the same page with Cloudflare's own headers stays Cloudflare's", () => {
    const r = fingerprint(
      response(
        403,
        [
          ["Server", "cloudflare"],
          ["CF-RAY", "8a1b2c3d4e5f6a7b-AMS"],
        ],
        challenge,
      ),
    );
    expect(r.responder.product).toBe("cloudflare");
    expect(r.challenge).toBe(true);
  });

  it("the page alone (no headers at all) is still read as Cloudflare's", () => {
    expect(fingerprint(response(403, [], challenge)).responder.product).toBe("cloudflare");
  });
});

describe("no positive marker, no product", () => {
  it("a bare text/plain 403 'Forbidden' matches nothing", () => {
    const r = fingerprint(response(403, [["Content-Type", "text/plain"]], "Forbidden"));
    expect(r.responder).toEqual({ layer: "unknown", product: null, evidence: [] });
    expect(r.matches).toEqual([]);
    expect(r.blockPage).toBe(false);
    expect(r.challenge).toBe(false);
  });

  it("a status marker never fires alone", () => {
    const sig = parseSignature({
      product: "demo",
      layer: "waf",
      name: "Demo",
      markers: [
        { id: "page", kind: "body", pattern: "demo-wall" },
        { kind: "status", codes: [403], requires: ["page"], weight: 5 },
      ],
    });
    expect(fingerprintWith([sig], response(403, [], "nothing here")).responder.product).toBeNull();
    expect(fingerprintWith([sig], response(403, [], "demo-wall")).matches[0]?.score).toBe(7);
  });

  it("does not search the body past MAX_FINGERPRINT_BODY_CHARS", () => {
    const far = `${"a".repeat(MAX_FINGERPRINT_BODY_CHARS)}CSRF verification failed. Request aborted.`;
    expect(fingerprint(response(403, [], far)).responder.product).toBeNull();
  });

  it("decodes invalid UTF-8 leniently", () => {
    const r = fingerprint({
      ...response(403, []),
      body: Buffer.concat([
        Buffer.from([0xff, 0xfe, 0xc3]),
        Buffer.from(" CSRF verification failed. Request aborted."),
      ]),
    });
    expect(r.responder.product).toBe("django");
  });
});

describe("robustness", () => {
  const headerName = fc.oneof(
    fc.constantFrom(
      "server",
      "set-cookie",
      "via",
      "cf-ray",
      "x-amz-cf-id",
      "x-squid-error",
      "x-powered-by",
      "x-azure-ref",
      "x-amzn-requestid",
      "x-github-request-id",
      "www-authenticate",
      "x-vercel-mitigated",
    ),
    fc.string({ maxLength: 20 }),
  );
  const header = fc.tuple(headerName, fc.string({ maxLength: 120 })) as fc.Arbitrary<Header>;

  it("random header sets and bodies never throw and always give a well-formed result", () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 100, max: 599 }),
        fc.array(header, { maxLength: 25 }),
        fc.uint8Array({ maxLength: 400 }),
        (status, headers, body) => {
          const r = fingerprint({ ...response(status, headers), body: Buffer.from(body) });
          expect(typeof r.blockPage).toBe("boolean");
          expect(r.responder.product === null).toBe(r.matches.length === 0);
          for (const e of r.evidence) expect(e.source).toBe("response");
        },
      ),
      { numRuns: 300 },
    );
  });
});
