import { describe, expect, it } from "vitest";
import type { Exchange } from "../../model.js";
import { cookieValues, credentialShape } from "./credential-value.js";
import { anonymousEvidence } from "./identity.js";

const b64 = (o: object) => Buffer.from(JSON.stringify(o)).toString("base64url");
const JWT = `${b64({ alg: "RS256", typ: "JWT" })}.${b64({ sub: "7", exp: 1790000000 })}.c2lnbmF0dXJlLWJ5dGVzLWhlcmU`;

describe("credentialShape: by the value alone", () => {
  it.each([
    [JWT, "jwt"],
    [`Bearer ${JWT}`, "jwt"],
    [`Basic ${Buffer.from("alice:s3cret").toString("base64")}`, "basic"],
    ["Token 9f8e7d6c5b4a39281706", "auth-scheme"],
    ["s%3AJ7v1Rk2pQ9xZ4mW8nB0cT6yL.Fh3kP9sQ2wE5rT8yU1iO4pA7sD0fG3hJ6kL9zX2cV5b", "opaque-token"],
    ["q8Xk2RmZ0vT4nB7yLpW3sD9fH1jK6cVe", "opaque-token"],
    ["3f2a9c1e7b4d8a6f0e5c2b9a7d1f4e8c", "opaque-token"],
  ])("%s is a credential (%s)", (value, shape) => {
    expect(credentialShape(value)).toBe(shape);
  });

  it.each([
    "debug",
    "1",
    "curl/8.5.0",
    "python-requests/2.31.0",
    "AndroidClient/3.6.0",
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
