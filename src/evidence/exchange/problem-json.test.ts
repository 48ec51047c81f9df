import { describe, expect, it } from "vitest";
import type { CauseId } from "../../model.js";
import { makeExchange } from "./_test-exchange.js";
import { problemJsonEvidence } from "./problem-json.js";

const json = (body: unknown, ct = "application/json") =>
  problemJsonEvidence(makeExchange({ resHeaders: [["Content-Type", ct]], resBody: JSON.stringify(body) }));

const top = (w: Partial<Record<CauseId, number>>) => Object.entries(w).sort((a, b) => b[1] - a[1])[0]?.[0];

describe("problemJsonEvidence", () => {
  it("RFC 9457 problem details", () => {
    const [e] = json(
      {
        type: "https://example.com/probs/out-of-credit",
        title: "You do not have enough credit.",
        detail: "Your current balance is 30, but that costs 50.",
        status: 403,
      },
      "application/problem+json",
    );
    expect(e?.fact).toMatch(
      /^The problem\+json body says: "You do not have enough credit\. — Your current balance/,
    );
    expect(e?.data?.type).toBe("https://example.com/probs/out-of-credit");
  });
  it.each<[unknown, CauseId]>([
    [{ error: "invalid_token", error_description: "The access token expired" }, "credentials-invalid"],
    [{ message: "Resource not accessible by integration" }, "insufficient-permission"],
    [
      { error: { code: 403, message: "The caller does not have permission", status: "PERMISSION_DENIED" } },
      "insufficient-permission",
    ],
    [
      { error: { code: 429, message: "Quota exceeded for quota metric", status: "RESOURCE_EXHAUSTED" } },
      "rate-limit",
    ],
    [{ message: "CSRF token mismatch." }, "csrf"],
    [{ detail: "Requests from your country are not allowed" }, "ip-restriction"],
    [{ error: "Origin not allowed" }, "cors"],
    [{ message: "Monthly limit reached for plan Free. Upgrade your plan." }, "app-logic"],
    [{ errors: [{ message: "Order is already shipped" }] }, "app-logic"],
    [{ message: "Insufficient funds" }, "app-logic"],
  ])("%j → %s", (body, cause) => {
    const [e] = json(body);
    expect(top(e!.weights)).toBe(cause);
  });
  it("a CSRF expiry is not a login expiry", () => {
    const [e] = json({ message: "The CSRF token has expired" });
    expect(e?.weights["credentials-invalid"]).toBeUndefined();
  });
  it("redacts secrets quoted in messages", () => {
    const [e] = json({ message: "token=abcdef1234567890 is invalid" });
    expect(e?.fact).not.toContain("abcdef1234567890");
  });
  it("ignores non-JSON and empty bodies", () => {
    expect(problemJsonEvidence(makeExchange({ resBody: "<html>no</html>" }))).toEqual([]);
    expect(json({})).toEqual([]);
  });
});

describe("problem types declared by the application (urn:why403:cause:)", () => {
  it("a why403 problem type is one decisive fact for its cause, with the reason", () => {
    const ev = json(
      {
        type: "urn:why403:cause:app-logic",
        title: "Refused by a business rule",
        status: 403,
        detail: "Your plan does not allow more than 3 projects",
        cause: "app-logic",
        reason: "plan-limit",
        requestId: "r-1",
      },
      "application/problem+json",
    );
    expect(ev).toHaveLength(1);
    expect(ev[0]?.weights).toEqual({ "app-logic": 10 });
    expect(ev[0]?.data).toMatchObject({ declaredCause: "app-logic", reason: "plan-limit" });
    expect(ev[0]?.fact).toContain('reason "plan-limit"');
  });
  it("an unknown cause in the type, or a plain JSON body, is read as ordinary words", () => {
    const unknown = json(
      { type: "urn:why403:cause:made-up", detail: "rate limit hit" },
      "application/problem+json",
    );
    expect(unknown[0]?.data?.declaredCause).toBeUndefined();
    expect(top(unknown[0]?.weights ?? {})).toBe("rate-limit");
    const notProblem = json({ type: "urn:why403:cause:waf", detail: "Your plan does not allow that" });
    expect(notProblem[0]?.data?.declaredCause).toBeUndefined();
  });
});
