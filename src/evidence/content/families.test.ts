import { describe, expect, it } from "vitest";
import { guessFamily } from "./families.js";

// Minimal triggers the OWASP CRS protocol-attack and XSS rules refuse alone (our own
// examples, shaped like what the content search returns), and look-alikes that are not.
describe("guessFamily names proven minimal triggers", () => {
  it.each([
    ["<html", "XSS"],
    ["<meta", "XSS"],
    ["<STYLE", "XSS"],
    ["%0d", "protocol violation"],
    ["%0A", "protocol violation"],
    ["HTTP/1", "request smuggling or response splitting"],
    [")(&", "LDAP injection"],
    [")!(sn=", "LDAP injection"],
    [")(|(uid=*", "LDAP injection"],
    ["'||'", "SQL injection"],
  ])("%j is %s", (minimal, family) => {
    expect(guessFamily(minimal, "body", "field")).toBe(family);
  });

  it.each(["metadata", "<htmlx", "f(a)(b)", "see HTTP/1.1 above", "100%0", "html"])(
    "%j has no family",
    (minimal) => {
      expect(guessFamily(minimal, "query", "q")).toBeUndefined();
    },
  );
});
