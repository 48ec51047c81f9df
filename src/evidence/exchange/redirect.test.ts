import { describe, expect, it } from "vitest";
import { makeExchange } from "./_test-exchange.js";
import { redirectEvidence, redirectKind } from "./redirect.js";

describe("redirectEvidence", () => {
  it("POST turned into GET by a 301 that added a trailing slash", () => {
    const hop = makeExchange({
      method: "POST",
      url: "http://app.test/login",
      reqBody: "u=a",
      status: 301,
      resHeaders: [["Location", "https://app.test/login/"]],
    });
    const ex = makeExchange({ method: "GET", url: "https://app.test/login/", status: 405, redirects: [hop] });
    const [e] = redirectEvidence(ex);
    expect(e?.weights["redirect-method-change"]).toBeGreaterThanOrEqual(4);
    expect(e?.fact).toMatch(/arrived as GET/);
    expect(e?.data).toMatchObject({
      from: "POST",
      to: "GET",
      status: 301,
      location: "https://app.test/login/",
    });
    expect(e?.data?.kinds).toEqual(["http→https", "added a trailing slash"]);
  });
  it("method kept but body dropped", () => {
    const hop = makeExchange({
      method: "POST",
      reqBody: "a=1",
      status: 302,
      resHeaders: [["Location", "/items2"]],
    });
    const ex = makeExchange({
      method: "POST",
      url: "https://app.test/items2",
      reqBody: null,
      redirects: [hop],
    });
    expect(redirectEvidence(ex)[0]?.fact).toMatch(/body was dropped/);
  });
  it("307 kept method and body: speaks against", () => {
    const hop = makeExchange({
      method: "POST",
      reqBody: "a=1",
      status: 307,
      resHeaders: [["Location", "/b"]],
    });
    const ex = makeExchange({ method: "POST", reqBody: "a=1", redirects: [hop] });
    expect(redirectEvidence(ex)[0]?.weights["redirect-method-change"]).toBeLessThan(0);
  });
  it("redacts secrets in redirect URLs", () => {
    const hop = makeExchange({
      method: "POST",
      url: "https://app.test/cb?token=s3cr3tvalue1",
      status: 302,
      resHeaders: [["Location", "/x?code=abc123456789"]],
    });
    const [e] = redirectEvidence(makeExchange({ method: "GET", redirects: [hop] }));
    expect(e?.fact).not.toMatch(/s3cr3tvalue1|abc123456789/);
  });
  it("no redirects, no evidence", () => {
    expect(redirectEvidence(makeExchange())).toEqual([]);
  });
  it("redirectKind", () => {
    expect(redirectKind("https://a.test/x/", "/x")).toEqual(["removed the trailing slash"]);
    expect(redirectKind("https://a.test/x", "https://b.test/x")).toEqual(["to another host (b.test)"]);
  });
});
