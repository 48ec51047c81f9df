import { spawnSync } from "node:child_process";
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { RAW_SIGNATURES } from "./catalogue.generated.js";
import { loadCatalogue, productName } from "./catalogue.js";
import { fingerprint } from "./match.js";
import { parseSignature, signatureSchema } from "./signature-schema.js";
import { readFixture } from "./test-read-fixture.js";

const SIGNATURE_DIR = join(import.meta.dirname, "../../signatures");
const FIXTURE_DIR = join(import.meta.dirname, "../../fixtures/responses");

const CONTRACT_PRODUCTS = [
  "nginx",
  "apache",
  "iis",
  "caddy",
  "haproxy",
  "squid",
  "varnish",
  "envoy",
  "traefik",
  "kong",
  "apisix",
  "modsecurity",
  "cloudflare",
  "akamai",
  "imperva",
  "sucuri",
  "f5-bigip",
  "aws-waf",
  "cloudfront",
  "aws-api-gateway",
  "aws-s3",
  "azure-front-door",
  "google-cloud-armor",
  "fastly",
  "vercel",
  "netlify",
  "django",
  "flask",
  "express",
  "spring",
  "laravel",
  "rails",
  "aspnet",
  "github-api",
];

const signatureFiles = readdirSync(SIGNATURE_DIR)
  .filter((f) => f.endsWith(".json"))
  .map((f) => f.slice(0, -".json".length))
  .sort();

describe("signature files", () => {
  it.each(signatureFiles)("%s.json validates against the schema", (file) => {
    const raw = JSON.parse(readFileSync(join(SIGNATURE_DIR, `${file}.json`), "utf8"));
    const sig = parseSignature(raw, file);
    expect(sig.product).toBe(file);
  });

  it("every file in signatures/ is in the generated catalogue, and nothing else is", () => {
    expect(RAW_SIGNATURES.map(([name]) => name).sort()).toEqual(signatureFiles);
  });

  it("the generated catalogue is what scripts/gen-catalogue.mjs writes today", () => {
    const script = join(import.meta.dirname, "../../scripts/gen-catalogue.mjs");
    const run = spawnSync(process.execPath, [script, "--check"], { encoding: "utf8" });
    expect(run.stderr).toBe("");
    expect(run.status).toBe(0);
  });

  it("the catalogue loads and covers every contract product, 40+ in all", () => {
    const products = loadCatalogue().map((s) => s.product);
    for (const p of CONTRACT_PRODUCTS) expect(products).toContain(p);
    expect(products.length).toBeGreaterThanOrEqual(40);
  });

  const fixtures = readdirSync(FIXTURE_DIR).filter((f) => f.endsWith(".http"));
  it.each(signatureFiles)("%s ships with a fixture named after it that it matches", (product) => {
    const own = fixtures.filter((f) => f === `${product}.http` || f.startsWith(`${product}-`));
    const identified = own.filter(
      (f) => fingerprint(readFixture(join(FIXTURE_DIR, f))).responder.product === product,
    );
    expect(identified.length, `a fixture in fixtures/responses/ identified as ${product}`).toBeGreaterThan(0);
  });
});

describe("product names in sentences come from the signatures", () => {
  it("uses shortName where a signature has one, the name otherwise, the id when unknown", () => {
    expect(productName("github-api")).toBe("the GitHub API");
    expect(productName("express")).toBe("Express");
    expect(productName("haproxy")).toBe("HAProxy");
    expect(productName("no-such-product")).toBe("no-such-product");
    expect(productName(null)).toBeNull();
  });

  it("every short name is shorter than the full name it stands for", () => {
    for (const s of loadCatalogue().filter((x) => x.shortName)) {
      expect(s.shortName!.length, s.product).toBeLessThan(s.name.length);
    }
  });
});

describe("signature schema strictness", () => {
  const base = { product: "x", layer: "waf", name: "X" };

  it("rejects a signature recognised by status alone", () => {
    const r = signatureSchema.safeParse({
      ...base,
      markers: [{ kind: "status", codes: [403], requires: ["a"] }],
    });
    expect(r.success).toBe(false);
  });

  it("rejects a status marker that leans on nothing", () => {
    const r = signatureSchema.safeParse({
      ...base,
      markers: [
        { kind: "body", pattern: "x", id: "a" },
        { kind: "status", codes: [403] },
      ],
    });
    expect(r.success).toBe(false);
  });

  it("accepts a status marker that requires a positive marker", () => {
    const r = signatureSchema.safeParse({
      ...base,
      markers: [
        { kind: "body", pattern: "x", id: "a" },
        { kind: "status", codes: [403], requires: ["a"] },
      ],
    });
    expect(r.success).toBe(true);
  });

  it("rejects broken regexes, unknown causes, secret-bearing headers and dangling requires", () => {
    const bad = [
      { ...base, markers: [{ kind: "body", pattern: "(" }] },
      { ...base, markers: [{ kind: "body", pattern: "x", causes: { nope: 1 } }] },
      { ...base, markers: [{ kind: "header", name: "Authorization" }] },
      {
        ...base,
        markers: [
          { kind: "body", pattern: "x" },
          { kind: "body", pattern: "y", requires: ["zz"] },
        ],
      },
      { ...base, layer: "unknown", markers: [{ kind: "body", pattern: "x" }] },
    ];
    for (const b of bad) expect(signatureSchema.safeParse(b).success).toBe(false);
  });
});
