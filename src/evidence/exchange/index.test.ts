import { describe, expect, it } from "vitest";
import { makeExchange, makeJwt } from "./_test-exchange.js";
import { evidenceFromExchange } from "./index.js";

describe("evidenceFromExchange", () => {
  it("combines modules and never leaks secrets in facts", () => {
    const token = makeJwt({ exp: 1, sub: "u" });
    const ex = makeExchange({
      status: 401,
      url: "https://app.test/api?api_key=k3y-v4lue-123",
      reqHeaders: [
        ["Authorization", `Bearer ${token}`],
        ["Cookie", "sessionid=sess-secret-1; csrftoken=csrf-secret-2"],
        ["X-CSRFToken", "hdr-secret-3"],
      ],
      resHeaders: [
        ["WWW-Authenticate", 'Bearer error="invalid_token"'],
        ["Content-Type", "application/json"],
      ],
      resBody: JSON.stringify({ message: "token eyJabc.eyJdef.ghi expired", password: "pw-secret-4" }),
    });
    const ev = evidenceFromExchange(ex, { layer: "application", product: "django", evidence: [] });
    expect(ev.length).toBeGreaterThan(3);
    const all = ev.map((e) => e.fact).join("\n");
    for (const s of [
      token,
      "k3y-v4lue-123",
      "sess-secret-1",
      "csrf-secret-2",
      "hdr-secret-3",
      "eyJabc.eyJdef.ghi",
      "pw-secret-4",
    ]) {
      expect(all).not.toContain(s);
    }
    expect(ev.every((e) => e.fact.length > 10 && /[.)"]$/.test(e.fact))).toBe(true);
  });
});
