import { describe, expect, it } from "vitest";
import { makeExchange } from "./_test-exchange.js";
import { parseChallenges, wwwAuthenticateEvidence } from "./www-authenticate.js";

describe("parseChallenges", () => {
  it("parses several challenges with params and token68", () => {
    const c = parseChallenges([
      'Newauth realm="apps", type=1, title="Login to \\"apps\\"", Basic realm="simple"',
    ]);
    expect(c).toEqual([
      { scheme: "Newauth", token68: null, params: { realm: "apps", type: "1", title: 'Login to "apps"' } },
      { scheme: "Basic", token68: null, params: { realm: "simple" } },
    ]);
    expect(parseChallenges(["Negotiate abc123=="])).toEqual([
      { scheme: "Negotiate", token68: "abc123==", params: {} },
    ]);
    expect(parseChallenges(["Bearer"])).toEqual([{ scheme: "Bearer", token68: null, params: {} }]);
  });
});

describe("wwwAuthenticateEvidence", () => {
  const ev = (value: string, status = 401, reqHeaders: Array<[string, string]> = []) =>
    wwwAuthenticateEvidence(makeExchange({ status, reqHeaders, resHeaders: [["WWW-Authenticate", value]] }));

  it("invalid_token is credentials-invalid", () => {
    const [e] = ev('Bearer realm="x", error="invalid_token", error_description="The access token expired"');
    expect(e?.weights["credentials-invalid"]).toBeGreaterThanOrEqual(4);
    expect(e?.fact).toMatch(/expired/);
  });
  it("insufficient_scope is insufficient-permission with the scope", () => {
    const [e] = ev('Bearer error="insufficient_scope", scope="repo:write"', 403);
    expect(e?.weights["insufficient-permission"]).toBeGreaterThanOrEqual(4);
    expect(e?.data?.scope).toBe("repo:write");
  });
  it("invalid_request leans credentials-invalid", () => {
    expect(ev('Bearer error="invalid_request"')[0]?.weights["credentials-invalid"]).toBeGreaterThan(0);
  });
  it("a challenge with no credentials sent", () => {
    const [e] = ev('Basic realm="admin"');
    expect(e?.fact).toMatch(/carried none/);
    expect(e?.data?.credentialsSent).toBe(false);
  });
  it("a scheme mismatch", () => {
    const [e] = ev('Bearer realm="api"', 401, [["Authorization", "Basic dXNlcjpwYXNz"]]);
    expect(e?.fact).toMatch(/asks for Bearer credentials .* sent Basic/);
    expect(e?.fact).not.toContain("dXNlcjpwYXNz");
  });
  it("one fact for several error-less challenges", () => {
    expect(ev('Bearer realm="a", Basic realm="b"')).toHaveLength(1);
  });
  it("nothing without the header", () => {
    expect(wwwAuthenticateEvidence(makeExchange({ status: 401 }))).toEqual([]);
  });
});
