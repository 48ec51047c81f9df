import { describe, expect, it } from "vitest";
import { UsageError } from "../errors.js";
import type { RequestModel } from "../model.js";
import { environmentsFor, parseBase } from "./environments.js";
import { compareExitCode, compareResult, type EnvironmentResult } from "./result.js";

const request: RequestModel = {
  method: "POST",
  url: "https://user:pw@prod.example/api/orders?access_token=t0k3n&page=2",
  headers: [
    ["Host", "prod.example"],
    ["Authorization", "Bearer abc"],
    ["Cookie", "sid=1"],
    ["X-API-Key", "k"],
    ["Proxy-Authorization", "Basic p"],
    ["Content-Type", "application/json"],
  ],
  body: Buffer.from('{"a":1}'),
  options: {},
};

describe("environments", () => {
  it("moves the request to each base, keeping path and query, holding back credentials", () => {
    const [own, staging] = environmentsFor(request, ["http://staging.example:8080"], false);
    expect(own).toMatchObject({ base: "https://prod.example", own: true, withheld: [] });
    expect(own!.request).toBe(request);
    expect(staging!.request.url).toBe("http://staging.example:8080/api/orders?page=2");
    expect(staging!.request.headers).toEqual([
      ["Proxy-Authorization", "Basic p"],
      ["Content-Type", "application/json"],
    ]);
    expect(staging!.withheld).toEqual([
      "URL userinfo",
      "query access_token",
      "Authorization",
      "Cookie",
      "X-API-Key",
    ]);
    expect(staging!.request.body?.toString()).toBe('{"a":1}');
  });

  it("with carry sends the credentials too (the Host header still follows the base)", () => {
    const [, staging] = environmentsFor(request, ["http://staging.example"], true);
    expect(staging!.request.url).toBe("http://user:pw@staging.example/api/orders?access_token=t0k3n&page=2");
    expect(staging!.request.headers.map(([n]) => n)).toEqual([
      "Authorization",
      "Cookie",
      "X-API-Key",
      "Proxy-Authorization",
      "Content-Type",
    ]);
    expect(staging!.withheld).toEqual([]);
  });

  it("refuses a base with a path, credentials, another scheme, or one named twice", () => {
    expect(() => parseBase("https://s.example/v2")).toThrow(UsageError);
    expect(() => parseBase("https://u:p@s.example")).toThrow(/may not carry credentials/);
    expect(() => parseBase("ftp://s.example")).toThrow(/http or https/);
    expect(() => environmentsFor(request, ["https://prod.example/"], false)).toThrow(/already compared/);
  });
});

function env(base: string, over: Partial<EnvironmentResult>): EnvironmentResult {
  return {
    base,
    status: 403,
    responder: { layer: "application", product: "express" },
    verdict: { cause: "insufficient-permission", confidence: 0.9 },
    probes: 3,
    trigger: null,
    refused: true,
    summary: null,
    withheld: [],
    failure: null,
    ...over,
  };
}

describe("differences", () => {
  it("names the one environment with a WAF in front", () => {
    const waf = {
      responder: { layer: "waf" as const, product: "cloudflare" },
      verdict: { cause: "waf" as const, confidence: 0.9 },
    };
    const result = compareResult({ method: "POST", path: "/api/orders" }, [
      env("https://prod", waf),
      env("https://staging", { responder: { layer: "web-server", product: "nginx" } }),
      env("https://dev", { responder: { layer: "web-server", product: "nginx" } }),
    ]);
    expect(result.differences).toContain(
      "Only https://prod has a WAF in front: cloudflare (waf) answered there, nginx (web-server) everywhere else.",
    );
    expect(result.differences).toContain(
      "The cause differs: waf at https://prod, insufficient-permission everywhere else: the environments refuse for different reasons, so compare their waf and insufficient-permission settings.",
    );
    expect(compareExitCode(result)).toBe(1);
  });

  it("finds no difference in the same outcome, and an unidentified responder is no difference", () => {
    const result = compareResult({ method: "GET", path: "/" }, [
      env("https://a", {}),
      env("https://b", { responder: { layer: "unknown", product: null } }),
    ]);
    expect(result.differences).toEqual([]);
    expect(compareExitCode(result)).toBe(0);
  });

  it("exits 4 when an environment gave no usable answer", () => {
    const result = compareResult({ method: "GET", path: "/" }, [
      env("https://a", {}),
      env("https://b", {
        status: null,
        refused: false,
        responder: null,
        verdict: null,
        failure: { kind: "refused", message: "connection refused" },
      }),
    ]);
    expect(compareExitCode(result)).toBe(4);
    expect(result.differences[0]).toBe(
      "The outcome differs: refused 403 at https://a, no usable answer (refused) everywhere else.",
    );
  });

  it("says a credentials-invalid refusal where credentials were held back comes from holding them back", () => {
    const result = compareResult({ method: "POST", path: "/api/orders" }, [
      env("https://prod", {}),
      env("https://staging", {
        status: 401,
        verdict: { cause: "credentials-invalid", confidence: 0.9 },
        withheld: ["Authorization"],
      }),
    ]);
    expect(result.differences).toContain(
      "The cause differs: insufficient-permission at https://prod, credentials-invalid everywhere else: the environments that got the request without its credentials refuse it for that; pass --carry-credentials to compare the same identity everywhere.",
    );
    expect(result.notes).toHaveLength(1);
  });
});
