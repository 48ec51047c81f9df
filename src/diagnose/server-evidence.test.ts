import { describe, expect, it } from "vitest";
import type { Evidence, Report } from "../model.js";
import { dropAnsweredSteps, givenInputs } from "./refine.js";
import { clientAddress, reconcileWithConfig, splitAccessRuleReadings } from "./server-evidence.js";

const ah01630: Evidence = {
  source: "error.log:3",
  fact: "Server log error.log:3 on the request (403): Apache's Require rules refused the client (AH01630)",
  weights: { "server-config": 4, "ip-restriction": 4 },
  data: { product: "apache" },
};

describe("generic access-rule log lines", () => {
  it("keep both readings at the same weight offline", () => {
    const [e] = splitAccessRuleReadings([
      { ...ah01630, weights: { "server-config": 4, "ip-restriction": 2 } },
    ]);
    expect(e?.weights["server-config"]).toBe(e?.weights["ip-restriction"]);
    expect(e?.data?.accessRule).toBe(true);
    expect(e?.fact).toContain("the config tells which");
  });

  it("follow the cause of a config that names the refusing directive", () => {
    const config: Evidence = {
      source: "httpd.conf:33",
      fact: "`Require all denied` at httpd.conf:33 refuses POST /form/x.txt",
      weights: { "server-config": 5 },
      data: { product: "apache", decides: "server-config", fix: ["narrow it"] },
    };
    const [e] = reconcileWithConfig(splitAccessRuleReadings([ah01630]), [config]);
    expect(e?.weights["server-config"]).toBeGreaterThanOrEqual(5);
    expect(e?.weights["ip-restriction"]).toBeLessThan(0);
    expect(e?.fact).toContain("the config names the rule (httpd.conf:33)");
    expect(e?.fact).not.toContain("the config tells which");
    // A config that lets the request through decides nothing.
    const allow = { ...config, data: { product: "apache" }, weights: { "ip-restriction": -2 } };
    expect(reconcileWithConfig([ah01630], [allow])).toEqual([ah01630]);
  });
});

describe("next steps", () => {
  it("drop the steps that ask for inputs already given", () => {
    const report = {
      nextSteps: [
        "Add the server's logs for the time of the request: --server-logs <error.log> <access.log>.",
        "If nginx serves it, add its configuration: --nginx-conf /etc/nginx/nginx.conf.",
        "If Apache serves it, add its configuration: --apache-conf /etc/apache2/apache2.conf.",
      ],
      verdict: {
        fix: ["narrow it", "Run why403 config nginx|apache --conf <file> --request 'POST http://x/' to see"],
      },
    } as unknown as Report;
    dropAnsweredSteps(report, givenInputs({ serverLogs: ["error.log"], apacheConf: "httpd.conf" }));
    expect(report.nextSteps).toEqual([
      "If nginx serves it, add its configuration: --nginx-conf /etc/nginx/nginx.conf.",
    ]);
    expect(report.verdict?.fix).toEqual(["narrow it"]);
  });
});

describe("--client", () => {
  it("takes IPv4 and IPv6 addresses and refuses anything else as bad input", () => {
    expect(clientAddress("127.0.0.1")).toBe("127.0.0.1");
    expect(clientAddress("[::1]")).toBe("::1");
    expect(clientAddress(undefined)).toBeNull();
    for (const bad of ["999.1.1.1", "1.2.3", "example.com", ""])
      expect(() => clientAddress(bad)).toThrow(/--client needs an IPv4 or IPv6 address/);
  });
});
