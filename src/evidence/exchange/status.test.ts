import { describe, expect, it } from "vitest";
import { makeExchange } from "./_test-exchange.js";
import { statusEvidence } from "./status.js";

describe("statusEvidence", () => {
  it("priors by status (401 is an authentication failure by definition)", () => {
    const w401 = statusEvidence(makeExchange({ status: 401 }))[0]?.weights["credentials-invalid"] ?? 0;
    expect(w401).toBeGreaterThanOrEqual(2);
    expect(w401).toBeLessThanOrEqual(4);
    const e405 = statusEvidence(makeExchange({ status: 405, resHeaders: [["Allow", "GET, HEAD"]] }))[0];
    expect(e405?.weights["server-config"]).toBeGreaterThan(0);
    expect(e405?.data?.allow).toBe("GET, HEAD");
    expect(statusEvidence(makeExchange({ status: 451 }))[0]?.weights["ip-restriction"]).toBeGreaterThan(0);
    expect(statusEvidence(makeExchange({ status: 403 }))).toEqual([]);
  });
  it("nginx and Apache default pages give a spread of small weights", () => {
    const nginx = statusEvidence(
      makeExchange({
        resBody:
          "<html>\r\n<head><title>403 Forbidden</title></head>\r\n<body>\r\n<center><h1>403 Forbidden</h1></center>\r\n<hr><center>nginx/1.22.1</center>\r\n</body>\r\n</html>",
      }),
    )[0];
    expect(Object.keys(nginx?.weights ?? {}).sort()).toEqual([
      "fs-permission",
      "ip-restriction",
      "server-config",
    ]);
    expect(Math.max(...Object.values(nginx!.weights))).toBeLessThanOrEqual(1.5);
    const apache = statusEvidence(
      makeExchange({
        resBody: "<h1>Forbidden</h1>\n<p>You don't have permission to access this resource.</p>",
      }),
    )[0];
    expect(apache?.data?.product).toBe("apache");
  });
  it("CORS refusal naming the origin", () => {
    const [e] = statusEvidence(
      makeExchange({ reqHeaders: [["Origin", "https://front.test"]], resBody: "Invalid CORS request" }),
    );
    expect(e?.weights.cors).toBeGreaterThanOrEqual(3);
    expect(e?.data?.origin).toBe("https://front.test");
  });
  it("ACAO that does not cover the origin", () => {
    const [e] = statusEvidence(
      makeExchange({
        reqHeaders: [["Origin", "https://front.test"]],
        resHeaders: [["Access-Control-Allow-Origin", "https://other.test"]],
      }),
    );
    expect(e?.weights.cors).toBeGreaterThan(0);
  });
  it("HTML login page", () => {
    const [e] = statusEvidence(
      makeExchange({ resBody: '<title>Sign in</title><form><input type="password" name="p"></form>' }),
    );
    expect(e?.weights["credentials-invalid"]).toBeGreaterThan(0);
  });
  it("IIS IP rejection and address texts", () => {
    expect(
      statusEvidence(makeExchange({ resBody: "HTTP Error 403.6 - Forbidden: IP address rejected" }))[0]
        ?.weights["ip-restriction"],
    ).toBeGreaterThanOrEqual(3);
    expect(
      statusEvidence(makeExchange({ resBody: "Access denied: your IP address 203.0.113.7 is blocked." }))[0]
        ?.weights["ip-restriction"],
    ).toBeGreaterThan(0);
  });
});
