// No cause or product is weighed by what a path, header, cookie or parameter is called
// (issue 16). These are the name tables that once did it; none may come back under
// src/. Names may still describe a part or order what is probed first — such tables
// (the frameworks' CSRF names that sort candidates, the headers stripped from a probe)
// are not matched here.
import { readdirSync, readFileSync, statSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";

const ROOT = join(import.meta.dirname);

/** The removed tables by name, and the shapes of their contents. */
const FORBIDDEN: Array<[string, RegExp]> = [
  ["a credential table by header/cookie name", /\bCREDENTIAL_NAMES\b|\bCREDENTIAL_HEADER\b/],
  ["an administrative-path prior", /\bADMIN_PATHS?\b|admin\|(?:private|internal)|private\|internal/i],
  ["a login-page path table", /\bLOGIN_LOCATION\b|login\|sign-?in/i],
  ["a CSRF field table that weighs", /\bTOKEN_FIELD\b/],
  ["a credential guessed from a name fragment", /session\|token\||token\|jwt|\(access_token\|api_key/i],
  ["a product guessed from a request cookie's name", /laravel_session/i],
];

function sourceFiles(dir: string, out: string[] = []): string[] {
  for (const name of readdirSync(dir)) {
    const p = join(dir, name);
    if (statSync(p).isDirectory()) sourceFiles(p, out);
    else if (p.endsWith(".ts") && !p.endsWith(".test.ts")) out.push(p);
  }
  return out;
}

function offences(text: string): string[] {
  const found: string[] = [];
  text.split("\n").forEach((line, i) => {
    for (const [what, re] of FORBIDDEN) if (re.test(line)) found.push(`${i + 1}: ${what}: ${line.trim()}`);
  });
  return found;
}

describe("no name priors in src/", () => {
  it("the check itself catches each table that was removed", () => {
    const removed = [
      "const CREDENTIAL_NAMES =",
      "  /^(authorization|proxy-authorization|x-api-key|api-key|x-auth-token)$|session|token|jwt|sid$/i;",
      "const ADMIN_PATH = /\\/(admin|private|internal)\\b/i;",
      "const LOGIN_LOCATION = /login|signin|sign-in|sign_in|auth|sso|session\\/new|account/i;",
      "const TOKEN_FIELD =",
      "requestCookies(ex.request).some(([n]) => /laravel_session|xsrf-token/i.test(n));",
      "/[?&](access_token|api_key|apikey|key|token|sig|signature|X-Amz-Signature)=/i.test(ex.request.url);",
    ];
    for (const line of removed) expect(offences(line), line).not.toEqual([]);
  });

  it("no source file holds one", () => {
    const found = sourceFiles(ROOT).flatMap((f) => offences(readFileSync(f, "utf8")).map((o) => `${f}:${o}`));
    expect(found).toEqual([]);
  });
});
