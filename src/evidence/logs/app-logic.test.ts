// Application JSON lines that refuse for a business rule are app-logic, on the
// line's own evidence: a refusal status or a warning-or-worse level with a
// refusal word, and a message or code that states the rule.
import { describe, expect, it } from "vitest";
import { LineDispatcher } from "./dispatch.js";

function causeOf(line: Record<string, unknown>): string | null {
  const { records } = new LineDispatcher("app.log", []).feed({
    n: 1,
    text: JSON.stringify(line),
    cut: false,
  });
  const denied = records.filter((r) => r.denied);
  return denied.length === 1 ? (denied[0]?.cause ?? null) : null;
}

describe("business-rule refusals in application logs", () => {
  it("are app-logic when the line records a refusal", () => {
    expect(
      causeOf({
        level: "warn",
        msg: "order quantity exceeds the per-order limit",
        status: 403,
        path: "/api/orders",
      }),
    ).toBe("app-logic");
    expect(
      causeOf({ level: 40, time: 1, msg: "refused: the resource is locked", req: { url: "/doc/7" } }),
    ).toBe("app-logic");
    expect(
      causeOf({
        level: "error",
        message: "request rejected",
        error: { code: "BUSINESS_RULE_VIOLATION" },
        status: 403,
      }),
    ).toBe("app-logic");
    expect(causeOf({ level: "warn", msg: "transfer denied: insufficient funds", status: 403 })).toBe(
      "app-logic",
    );
  });

  it("are no denial when nothing in the line says the request was refused", () => {
    // Info level, no status: a note, not a refusal.
    expect(causeOf({ level: "info", msg: "the resource is locked" })).toBeNull();
    // A warning without a refusal word or status either.
    expect(causeOf({ level: "warn", msg: "order quantity exceeds the per-order limit" })).toBeNull();
  });

  it("leave the cause to the status when it names another one", () => {
    expect(causeOf({ level: "warn", msg: "daily limit reached", status: 429 })).toBe("rate-limit");
    expect(causeOf({ level: "warn", msg: "request limit exceeded", status: 403 })).toBe("rate-limit");
    expect(causeOf({ level: "warn", msg: "account locked", status: 401 })).toBe("credentials-invalid");
  });
});
