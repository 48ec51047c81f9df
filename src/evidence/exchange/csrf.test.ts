import { describe, expect, it } from "vitest";
import { makeExchange } from "./_test-exchange.js";
import { csrfEvidence } from "./csrf.js";

const djangoPage = (reason: string) =>
  `<html><body><div id="summary"><h1>Forbidden <span>(403)</span></h1><p>CSRF verification failed. Request aborted.</p></div><div id="info"><p>Reason given for failure:</p><pre>\n    ${reason}\n    </pre></div></body></html>`;

describe("csrf body messages", () => {
  it.each([
    ["CSRF cookie not set.", "cookie-missing"],
    ["CSRF token missing.", "token-missing"],
    ["Referer checking failed - no Referer.", "referer-missing"],
    ["CSRF token from POST incorrect.", "token-incorrect"],
  ])("Django: %s", (reason, id) => {
    const [e] = csrfEvidence(makeExchange({ method: "POST", resBody: djangoPage(reason) }));
    expect(e?.weights.csrf).toBeGreaterThanOrEqual(5);
    expect(e?.data).toMatchObject({ product: "django", reason: id });
    expect(e?.fact).toContain(reason.replace(/\.$/, ""));
  });
  it("Django origin checking captures the origin", () => {
    const [e] = csrfEvidence(
      makeExchange({
        resBody: djangoPage(
          "Origin checking failed - https://front.test does not match any trusted origins.",
        ),
      }),
    );
    expect(e?.data).toMatchObject({ reason: "origin-untrusted", origin: "https://front.test" });
  });
  it.each([
    ["flask", "<p>The CSRF token has expired.</p>"],
    ["flask", "The CSRF token is missing."],
    ["laravel", '{"message": "CSRF token mismatch."}'],
    ["rails", "ActionController::InvalidAuthenticityToken in ItemsController#create"],
    ["spring", '{"status":403,"error":"Forbidden","message":"Invalid CSRF Token \'null\' was found"}'],
    ["spring", "Could not verify the provided CSRF token because your session was not found."],
    ["express", "ForbiddenError: invalid csrf token"],
    ["express", '{"code":"EBADCSRFTOKEN"}'],
    ["aspnet", 'The required antiforgery form field "__RequestVerificationToken" is not present.'],
  ])("%s: %s", (product, body) => {
    const [e] = csrfEvidence(makeExchange({ resBody: body }));
    expect(e?.data?.product).toBe(product);
    expect(e?.weights.csrf).toBeGreaterThanOrEqual(5);
  });
  it("419 is strong for Laravel", () => {
    const ev = csrfEvidence(
      makeExchange({
        status: 419,
        reqHeaders: [["Cookie", "XSRF-TOKEN=a; laravel_session=b"]],
        resBody: "<title>Page Expired</title>",
      }),
    );
    expect(ev.find((e) => /419/.test(e.fact))?.weights.csrf).toBeGreaterThanOrEqual(4);
  });
  it("a generic mention is weaker", () => {
    const [e] = csrfEvidence(makeExchange({ method: "GET", resBody: "Request rejected: bad CSRF header" }));
    expect(e?.weights.csrf).toBe(3);
  });
});

describe("csrf request facts", () => {
  it("cookie without token on a POST", () => {
    const ev = csrfEvidence(
      makeExchange({
        reqHeaders: [
          ["Cookie", "csrftoken=abc; sessionid=s"],
          ["Content-Type", "application/x-www-form-urlencoded"],
          ["Origin", "https://app.test"],
        ],
        reqBody: "title=x",
      }),
    );
    const e = ev.find((x) => /no CSRF token/.test(x.fact));
    expect(e?.data?.cookies).toEqual(["csrftoken"]);
    expect(ev.some((x) => /Origin/.test(x.fact))).toBe(false);
  });
  it("token field present: no missing-token fact, but a bad Django length is noted", () => {
    const ev = csrfEvidence(
      makeExchange({
        reqHeaders: [
          ["Cookie", "csrftoken=abc"],
          ["Content-Type", "application/x-www-form-urlencoded"],
          ["Referer", "https://app.test/form"],
        ],
        reqBody: "csrfmiddlewaretoken=short&x=1",
      }),
    );
    expect(ev.some((x) => /no CSRF token/.test(x.fact))).toBe(false);
    expect(ev.some((x) => /length 5/.test(x.fact))).toBe(true);
  });
  it("XSRF cookie and header that differ, shown by fingerprint only", () => {
    const ev = csrfEvidence(
      makeExchange({
        reqHeaders: [
          ["Cookie", "XSRF-TOKEN=tok-one"],
          ["X-XSRF-TOKEN", "tok-two"],
          ["Origin", "https://app.test"],
        ],
      }),
    );
    const e = ev.find((x) => /differs from the XSRF-TOKEN cookie/.test(x.fact));
    expect(e).toBeDefined();
    expect(e?.fact).not.toMatch(/tok-one|tok-two/);
  });
  it("cross-origin, null origin, missing origin and Sec-Fetch-Site", () => {
    const cross = csrfEvidence(
      makeExchange({
        reqHeaders: [
          ["Origin", "https://evil.test"],
          ["Sec-Fetch-Site", "cross-site"],
        ],
      }),
    );
    expect(cross.find((x) => x.data?.origin === "https://evil.test")?.weights.csrf).toBeGreaterThan(0);
    expect(cross.some((x) => x.data?.secFetchSite === "cross-site")).toBe(true);
    expect(csrfEvidence(makeExchange({ reqHeaders: [["Origin", "null"]] }))[0]?.data?.origin).toBe("null");
    expect(csrfEvidence(makeExchange({ reqHeaders: [["Cookie", "s=1"]] }))[0]?.fact).toMatch(
      /neither Origin nor Referer/,
    );
  });
  it("safe methods give no request facts", () => {
    expect(csrfEvidence(makeExchange({ method: "GET", reqHeaders: [["Cookie", "csrftoken=a"]] }))).toEqual(
      [],
    );
  });
});
