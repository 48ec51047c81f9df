import { describe, expect, it } from "vitest";
import { makeExchange, makeJwt } from "./_test-exchange.js";
import { jwtEvidence, requiredScopes } from "./jwt.js";

const SERVER_DATE = "Tue, 01 Jul 2025 10:00:00 GMT";
const serverSec = Date.parse(SERVER_DATE) / 1000;

describe("jwtEvidence", () => {
  it("reports an expired token as credentials-invalid, without the token", () => {
    const token = makeJwt({
      exp: serverSec - 3600,
      iss: "https://idp.test",
      aud: "api",
      sub: "user-1",
      scope: "read write",
    });
    const ex = makeExchange({
      status: 401,
      reqHeaders: [["Authorization", `Bearer ${token}`]],
      resHeaders: [["Date", SERVER_DATE]],
    });
    const ev = jwtEvidence(ex);
    const expired = ev.find((e) => e.data?.expired);
    expect(expired?.weights["credentials-invalid"]).toBeGreaterThanOrEqual(4);
    expect(expired?.fact).toMatch(/expired at 2025-07-01T09:00:00.000Z/);
    const claims = ev.find((e) => /is a JWT/.test(e.fact));
    expect(claims?.fact).toMatch(
      /issuer https:\/\/idp\.test; audience api; subject user-1; scopes\/roles read write/,
    );
    for (const e of ev) expect(e.fact).not.toContain(token);
  });

  it("shows clock skew: valid by the local clock, expired by the server's Date", () => {
    const token = makeJwt({ exp: serverSec - 60 });
    const ex = makeExchange({
      status: 401,
      reqHeaders: [["Authorization", `Bearer ${token}`]],
      resHeaders: [["Date", SERVER_DATE]],
      startedAt: new Date((serverSec - 600) * 1000),
    });
    const expired = jwtEvidence(ex).find((e) => e.data?.expired);
    expect(expired?.fact).toMatch(/still valid by the local clock/);
    expect(expired?.data?.clockSkewSeconds).toBe(600);
  });

  it("falls back to the recording time when there is no Date header", () => {
    const token = makeJwt({ exp: serverSec + 60 });
    const ex = makeExchange({
      reqHeaders: [["Authorization", `Bearer ${token}`]],
      startedAt: new Date(serverSec * 1000),
    });
    const ev = jwtEvidence(ex);
    expect(ev.some((e) => e.data?.expired)).toBe(false);
    expect(ev.find((e) => /not expired/.test(e.fact))?.weights["credentials-invalid"]).toBeLessThan(0);
  });

  it("flags alg none and nbf in the future", () => {
    const token = makeJwt({ nbf: serverSec + 300 }, { alg: "none" });
    const ex = makeExchange({
      reqHeaders: [["Cookie", `jwt=${token}`]],
      resHeaders: [["Date", SERVER_DATE]],
    });
    const ev = jwtEvidence(ex);
    expect(ev.find((e) => /alg "none"/.test(e.fact))?.weights["credentials-invalid"]).toBeGreaterThan(0);
    expect(ev.find((e) => e.data?.notYetValid)).toBeDefined();
    expect(ev[0]?.fact).toMatch(/^The jwt cookie/);
  });

  it("finds a missing scope named by the response", () => {
    const token = makeJwt({ exp: serverSec + 3600, scp: ["items.read"] });
    const ex = makeExchange({
      reqHeaders: [["X-Auth-Token", token]],
      resHeaders: [
        ["Date", SERVER_DATE],
        ["Content-Type", "application/json"],
      ],
      resBody: JSON.stringify({ error: "forbidden", message: "Missing required scope: items.write" }),
    });
    const missing = jwtEvidence(ex).find((e) => e.data?.scope);
    expect(missing?.data?.scope).toBe("items.write");
    expect(missing?.weights["insufficient-permission"]).toBeGreaterThanOrEqual(3);
  });

  it("reads required scopes from WWW-Authenticate", () => {
    const ex = makeExchange({
      resHeaders: [["WWW-Authenticate", 'Bearer error="insufficient_scope", scope="a:write b"']],
    });
    expect(requiredScopes(ex)).toEqual(["a:write", "b"]);
  });

  it("notes a JWT-shaped value that does not decode", () => {
    const ex = makeExchange({ reqHeaders: [["Authorization", "Bearer eyJnotjson.eyJalsonot.x"]] });
    expect(jwtEvidence(ex)[0]?.fact).toMatch(/does not decode/);
  });

  it("ignores opaque tokens", () => {
    const ex = makeExchange({ reqHeaders: [["Authorization", "Bearer ghp_abcdefabcdef123456"]] });
    expect(jwtEvidence(ex)).toEqual([]);
  });
});
