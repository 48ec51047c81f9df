import { describe, expect, it } from "vitest";
import { InputError } from "../errors.js";
import { cellRequest } from "./run.js";
import { parseMatrix } from "./spec.js";

const CONTRACT_EXAMPLE = `
base: http://127.0.0.1:8080/
identities:
  anonymous: {}
  viewer: { headers: { Authorization: "Bearer \${VIEWER_TOKEN}" } }
  admin:  { headers: { Authorization: "Bearer \${ADMIN_TOKEN}" }, cookies: { session: abc } }
checks:
  - request: GET /api/projects
    allow: [viewer, admin]
  - request: POST /api/projects
    headers: { content-type: application/json }
    body: '{"name":"x"}'
    allow: [admin]
`;

const env = { VIEWER_TOKEN: "v-token", ADMIN_TOKEN: "a-token" };

function errorOf(text: string, environment: NodeJS.ProcessEnv = env): string {
  try {
    parseMatrix(text, "authz.yaml", environment);
  } catch (e) {
    expect(e).toBeInstanceOf(InputError);
    return (e as Error).message;
  }
  throw new Error("expected an InputError");
}

describe("matrix file", () => {
  it("reads the contract's example, filling each variable from the environment", () => {
    const spec = parseMatrix(CONTRACT_EXAMPLE, "authz.yaml", env);
    expect(spec.base).toBe("http://127.0.0.1:8080");
    expect(spec.identities.map((i) => i.name)).toEqual(["anonymous", "viewer", "admin"]);
    expect(spec.identities[1]!.headers).toEqual([["Authorization", "Bearer v-token"]]);
    expect(spec.checks.map((c) => [c.label, c.method, c.path, c.allow])).toEqual([
      ["GET /api/projects", "GET", "/api/projects", ["viewer", "admin"]],
      ["POST /api/projects", "POST", "/api/projects", ["admin"]],
    ]);
    expect(spec.checks[1]!.body).toBe('{"name":"x"}');
  });

  it("reads the same matrix written as JSON, with method and path as separate fields", () => {
    const json = JSON.stringify({
      base: "https://staging.example",
      // biome-ignore lint/suspicious/noTemplateCurlyInString: the matrix syntax, not a JS template
      identities: { anonymous: {}, admin: { headers: { "X-API-Key": "${ADMIN_TOKEN}" } } },
      checks: [{ method: "delete", path: "/api/projects/7?force=1", allow: "admin" }],
    });
    const spec = parseMatrix(json, "authz.json", env);
    expect(spec.checks[0]).toMatchObject({
      method: "DELETE",
      path: "/api/projects/7?force=1",
      allow: ["admin"],
    });
    expect(spec.identities[1]!.headers).toEqual([["X-API-Key", "a-token"]]);
  });

  it("names a missing environment variable and where it is used", () => {
    expect(errorOf(CONTRACT_EXAMPLE, { VIEWER_TOKEN: "v" })).toBe(
      "authz.yaml: environment variable ADMIN_TOKEN is not set (used in identities.admin.headers.Authorization)",
    );
  });

  it("refuses an empty variable, as CI expands a missing secret", () => {
    expect(errorOf(CONTRACT_EXAMPLE, { VIEWER_TOKEN: "", ADMIN_TOKEN: "a" })).toContain(
      "environment variable VIEWER_TOKEN is empty",
    );
  });

  it("names an unknown identity in allow", () => {
    const text = CONTRACT_EXAMPLE.replace("allow: [admin]", "allow: [admn]");
    expect(errorOf(text)).toBe('authz.yaml: checks.1.allow names an unknown identity "admn"');
  });

  it("names the field a schema problem is in", () => {
    expect(errorOf("base: http://x\nidentities: {a: {}}\nchecks: [{request: GET /x}]")).toMatch(
      /^authz\.yaml: checks\.0\.allow: /,
    );
    expect(
      errorOf("base: http://x\nidentities: {a: {header: {}}}\nchecks: [{request: GET /x, allow: a}]"),
    ).toMatch(/^authz\.yaml: identities\.a: .*header/);
  });

  it("says when the file is not YAML or JSON, and when a request line is malformed", () => {
    expect(errorOf("base: [unclosed")).toMatch(/^authz\.yaml is neither valid YAML nor JSON: /);
    expect(errorOf("base: http://x\nidentities: {a: {}}\nchecks: [{request: GET, allow: a}]")).toContain(
      'checks.0.request must be "METHOD /path"',
    );
    expect(errorOf("base: ftp://x\nidentities: {a: {}}\nchecks: [{request: GET /, allow: a}]")).toContain(
      "base must be an http or https URL",
    );
  });

  it("serialises an object body as JSON with its content type, and tells repeated requests apart", () => {
    const spec = parseMatrix(
      "base: http://x\nidentities: {a: {}}\nchecks:\n  - {request: POST /i, body: {n: 1}, allow: a}\n  - {request: POST /i, body: 'n=2', allow: a}",
      "m.yaml",
      {},
    );
    expect(spec.checks[0]!.body).toBe('{"n":1}');
    expect(spec.checks[0]!.headers).toEqual([["content-type", "application/json"]]);
    expect(spec.checks.map((c) => c.label)).toEqual(["POST /i", "POST /i #2"]);
  });

  it("redacts a secret in a query string from the label that reaches the output", () => {
    const spec = parseMatrix(
      "base: http://x\nidentities: {a: {}}\nchecks: [{request: GET /r?api_key=s3cr3tvalue, allow: a}]",
      "m.yaml",
      {},
    );
    expect(spec.checks[0]!.label).not.toContain("s3cr3tvalue");
    expect(spec.checks[0]!.path).toBe("/r?api_key=s3cr3tvalue");
  });
});

describe("a cell's request", () => {
  it("carries the identity's headers over a check's header of the same name, and its cookies", () => {
    const spec = parseMatrix(
      "base: http://x\nidentities:\n  u: {headers: {Authorization: Bearer u}, cookies: {sid: s1}}\nchecks:\n  - {request: GET /p, headers: {authorization: Bearer other, Cookie: theme=dark}, allow: u}",
      "m.yaml",
      {},
    );
    const req = cellRequest(spec.base, spec.checks[0]!, spec.identities[0]!);
    expect(req.url).toBe("http://x/p");
    const keyed = parseMatrix(
      "base: http://x\nidentities:\n  k: {query: {api_key: s3cr3t}}\nchecks: [{request: GET /p?a=1, allow: k}]",
      "m.yaml",
      {},
    );
    expect(cellRequest(keyed.base, keyed.checks[0]!, keyed.identities[0]!).url).toBe(
      "http://x/p?a=1&api_key=s3cr3t",
    );
    expect(req.headers).toEqual([
      ["Cookie", "theme=dark; sid=s1"],
      ["Authorization", "Bearer u"],
    ]);
  });
});
