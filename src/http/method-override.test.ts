import { describe, expect, it } from "vitest";
import type { RequestModel } from "../model.js";
import { couldExecute, methodOverrideOf, withoutMethodOverride } from "./method-override.js";

const req = (
  method: string,
  url: string,
  headers: Array<[string, string]> = [],
  body?: string,
): RequestModel => ({
  method,
  url,
  headers,
  body: body === undefined ? null : Buffer.from(body),
  options: {},
});

describe("method override", () => {
  it("reads the override from a header, the query or a form/JSON body", () => {
    expect(methodOverrideOf(req("POST", "http://h/a", [["X-HTTP-Method-Override", "DELETE"]]))).toBe(
      "DELETE",
    );
    expect(methodOverrideOf(req("GET", "http://h/a?_method=PUT"))).toBe("PUT");
    expect(methodOverrideOf(req("POST", "http://h/a", [], "a=1&_method=PATCH"))).toBe("PATCH");
    expect(methodOverrideOf(req("POST", "http://h/a", [], '{"_method": "DELETE"}'))).toBe("DELETE");
    expect(methodOverrideOf(req("POST", "http://h/a", [], "method=x"))).toBeNull();
  });

  it("a GET standing for a DELETE, or carrying a body, could execute; a plain GET could not", () => {
    expect(couldExecute(req("GET", "http://h/a", [["X-HTTP-Method", "DELETE"]]))).toBe(true);
    expect(couldExecute(req("GET", "http://h/a?_method=delete"))).toBe(true);
    expect(couldExecute(req("GET", "http://h/a", [], "q=1"))).toBe(true);
    expect(couldExecute(req("GET", "http://h/a?x=1", [["X-HTTP-Method-Override", "GET"]]))).toBe(false);
    expect(couldExecute(req("POST", "http://h/a"))).toBe(true);
  });

  it("safe probes leave override headers and the _method query field off", () => {
    const bare = withoutMethodOverride(
      req("POST", "http://h/a?_method=DELETE&id=3", [
        ["X-Method-Override", "DELETE"],
        ["Accept", "*/*"],
      ]),
    );
    expect(bare.url).toBe("http://h/a?id=3");
    expect(bare.headers).toEqual([["Accept", "*/*"]]);
  });
});
