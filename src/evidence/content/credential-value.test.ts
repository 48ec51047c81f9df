import { describe, expect, it } from "vitest";
import type { Exchange } from "../../model.js";
import { cookieValues, credentialShape, isIssuedToken } from "./credential-value.js";
import { anonymousEvidence } from "./identity.js";

const b64 = (o: object) => Buffer.from(JSON.stringify(o)).toString("base64url");
const JWT = `${b64({ alg: "RS256", typ: "JWT" })}.${b64({ sub: "7", exp: 1790000000 })}.c2lnbmF0dXJlLWJ5dGVzLWhlcmU`;

describe("credentialShape: by the value alone", () => {
  it("recognises random base64url tokens of 12 bytes and more, digits or not", () => {
    // A seeded generator, so the case is the same on every run: 2,000 tokens of 12–32 bytes.
    let seed = 0x9e3779b9;
    const byte = () => {
      seed = (Math.imul(seed, 1664525) + 1013904223) >>> 0;
      return seed >>> 24;
    };
    const missed: string[] = [];
    for (let i = 0; i < 2000; i++) {
      const token = Buffer.from(Array.from({ length: 12 + (i % 21) }, byte)).toString("base64url");
      if (credentialShape(token) === null) missed.push(token);
    }
    // Under 1%: a few short tokens are all one letter case and no digit, like a word.
    expect(missed.length).toBeLessThan(20);
  });

  it.each([
    [JWT, "jwt"],
    [`Bearer ${JWT}`, "jwt"],
    [`Basic ${Buffer.from("alice:s3cret").toString("base64")}`, "basic"],
    ["Token 9f8e7d6c5b4a39281706", "auth-scheme"],
    ["s%3AJ7v1Rk2pQ9xZ4mW8nB0cT6yL.Fh3kP9sQ2wE5rT8yU1iO4pA7sD0fG3hJ6kL9zX2cV5b", "opaque-token"],
    ["q8Xk2RmZ0vT4nB7yLpW3sD9fH1jK6cVe", "opaque-token"],
    ["3f2a9c1e7b4d8a6f0e5c2b9a7d1f4e8c", "opaque-token"],
    // base64url of random bytes need not hold a digit, and its '-'/'_' cut it into pieces
    ["QxKbTmWz-hRvPaLe_YcNsDuQfGw", "opaque-token"],
  ])("%s is a credential (%s)", (value, shape) => {
    expect(credentialShape(value)).toBe(shape);
  });

  it.each([
    "debug",
    "1",
    "curl/8.5.0",
    "python-requests/2.31.0",
    "AndroidClient/3.6.0",
    "java.io.BufferedInputStream",
    "javax.script.ScriptEngineManager",
    "s3-us-west-2.amazonaws.com",
    "application/vnd.mycompany.myapp.customer-v2+json",
    "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36",
    "application/json",
    "2026-12-02T05:00:00Z",
    "https://shop.example/checkout",
    "en-US,en;q=0.9",
    "Basic notbase64!!",
    "Bearer x",
    "",
  ])("%j is not", (value) => {
    expect(credentialShape(value)).toBeNull();
  });

  it("reads every cookie's value, not its name", () => {
    expect(cookieValues("session=debug; kalo=q8Xk2RmZ0vT4nB7yLpW3sD9fH1jK6cVe")).toEqual([
      "debug",
      "q8Xk2RmZ0vT4nB7yLpW3sD9fH1jK6cVe",
    ]);
  });
});

function exchange(url: string, headers: Array<[string, string]>): Exchange {
  return {
    request: { method: "POST", url, headers, body: null, options: {} },
    response: { status: 403, headers: [], body: Buffer.from("no") },
  } as unknown as Exchange;
}

describe("anonymousEvidence: a credential seen by the protocol's fields and values", () => {
  it("a token in a header with a made-up name is a credential", () => {
    const [e] = anonymousEvidence(exchange("https://api.example/x", [["X-Kalomi", JWT]]));
    expect(e!.data).toEqual({ credentialSent: "JWT (X-Kalomi header)" });
    expect(e!.weights["insufficient-permission"]).toBeGreaterThan(0);
  });

  it("a word in a header called X-Api-Key is no credential, and the request is anonymous", () => {
    const [e] = anonymousEvidence(exchange("https://api.example/x", [["X-Api-Key", "none"]]));
    expect(e!.weights).toEqual({ "insufficient-permission": -2 });
  });

  it("cookies whose values look like no credential leave the question open", () => {
    expect(anonymousEvidence(exchange("https://api.example/x", [["Cookie", "session_id=1"]]))).toEqual([]);
  });

  it("the Authorization field is a credential whatever its value", () => {
    const [e] = anonymousEvidence(exchange("https://api.example/x", [["Authorization", "Bearer x"]]));
    expect(e!.data).toEqual({ credentialSent: "Bearer Authorization" });
  });

  it("a query parameter is judged by its value", () => {
    const [named] = anonymousEvidence(exchange("https://api.example/x?token=abc", []));
    expect(named!.weights).toEqual({ "insufficient-permission": -2 });
    const [shaped] = anonymousEvidence(
      exchange("https://api.example/x?k=3f2a9c1e7b4d8a6f0e5c2b9a7d1f4e8c", []),
    );
    expect(shaped!.data).toEqual({ credentialSent: "token (query parameter k)" });
  });
});

describe("isIssuedToken: a token a page places in its own form", () => {
  it.each(["tok-4f1d2c9a7b", "9f8e7d6c5b", "QxKbTmWz-hRvPaLe_YcNsDuQfGw"])("%s is one", (value) => {
    expect(isIssuedToken(value)).toBe(true);
  });
  it.each(["en-US", "checkout", "/account/settings", "1700000000", "2024-06-01", "update_profile"])(
    "%s is not",
    (value) => {
      expect(isIssuedToken(value)).toBe(false);
    },
  );
});
