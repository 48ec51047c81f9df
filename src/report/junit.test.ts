import { describe, expect, it } from "vitest";
import type { MatrixCell, MatrixResult } from "../matrix/run.js";
import { renderJunit } from "./junit.js";

function cell(over: Partial<MatrixCell>): MatrixCell {
  return {
    request: "GET /a",
    identity: "viewer",
    expected: "allow",
    outcome: "allow",
    status: 200,
    ok: true,
    cause: null,
    causeDetail: null,
    responder: null,
    note: null,
    requestId: null,
    ...over,
  };
}

describe("JUnit XML", () => {
  it("gives each cell a testcase: failure for a wrong outcome, error for an error, skipped; escaped", () => {
    const result: MatrixResult = {
      schema: "why403.matrix/v1",
      base: "http://x",
      cells: [
        cell({}),
        cell({
          request: 'POST /q?a=<"b">&c',
          identity: "admin",
          outcome: "deny",
          status: 403,
          ok: false,
          cause: "waf",
          causeDetail: "CRS 942100",
          responder: { layer: "waf", product: "modsecurity" },
          requestId: "why403-1-2",
        }),
        cell({
          identity: "anonymous",
          expected: "deny",
          outcome: "error",
          status: 500,
          ok: false,
          note: "status 500 is neither",
        }),
        cell({
          request: "DELETE /a",
          outcome: "skipped",
          status: null,
          ok: null,
          note: "DELETE may change state",
        }),
      ],
      passed: 1,
      failed: 2,
      skipped: 1,
    };
    const xml = renderJunit(result);
    expect(xml).toContain('<testsuites name="why403 matrix" tests="4" failures="1" errors="1" skipped="1">');
    expect(xml).toContain(
      '<testcase classname="POST /q?a=&lt;&quot;b&quot;&gt;&amp;c" name="admin is let through">',
    );
    expect(xml).toContain(
      '<failure message="admin · POST /q?a=&lt;&quot;b&quot;&gt;&amp;c: expected to be let through, refused 403: waf (CRS 942100)" type="unexpected-deny">',
    );
    expect(xml).toContain("responder: waf / modsecurity\nX-Request-Id: why403-1-2</failure>");
    expect(xml).toContain(
      '<error message="anonymous · GET /a: error 500: status 500 is neither" type="error">',
    );
    expect(xml).toContain('<skipped message="DELETE may change state"/>');
    expect(xml.match(/<testcase /g)).toHaveLength(4);
  });
});
