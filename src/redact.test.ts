import fc from "fast-check";
import { describe, expect, it } from "vitest";
import {
  isSecretHeader,
  redactBody,
  redactFragment,
  redactHeaderValue,
  redactSecret,
  redactText,
  redactUrl,
  secretFingerprint,
} from "./redact.js";

const b64url = (s: string) => Buffer.from(s).toString("base64url");
const jwtOf = (payload: object) =>
  `${b64url(JSON.stringify({ alg: "HS256", typ: "JWT" }))}.${b64url(JSON.stringify(payload))}.c2lnbmF0dXJl`;

describe("isSecretHeader", () => {
  it("knows the usual names and patterns", () => {
    for (const n of [
      "Authorization",
      "cookie",
      "Set-Cookie",
      "X-API-Key",
      "x-goog-api-key",
      "X-Session-Id",
      "X-Hub-Signature-256",
    ]) {
      expect(isSecretHeader(n)).toBe(true);
    }
    for (const n of ["Content-Type", "Origin", "Referer", "User-Agent", "Date"])
      expect(isSecretHeader(n)).toBe(false);
  });
});

describe("redactSecret / secretFingerprint", () => {
  it("keeps length and an 8-hex fingerprint", () => {
    expect(secretFingerprint("abc")).toBe("ba7816bf");
    expect(redactSecret("abc")).toBe("‹redacted len=3 sha256:ba7816bf›");
    expect(redactSecret("a")).not.toBe(redactSecret("b"));
  });
});

describe("redactHeaderValue", () => {
  it("keeps the Authorization scheme", () => {
    expect(redactHeaderValue("Authorization", "Bearer abc.def.ghi")).toMatch(
      /^Bearer ‹redacted len=11 sha256:[0-9a-f]{8}›$/,
    );
    expect(redactHeaderValue("authorization", "Basic dXNlcjpwYXNz")).toMatch(/^Basic ‹redacted/);
  });
  it("keeps cookie names and Set-Cookie attributes", () => {
    const c = redactHeaderValue("Cookie", "csrftoken=abc123; sessionid=zzz999");
    expect(c).toMatch(/^csrftoken=‹redacted len=6 [^›]+›; sessionid=‹redacted len=6 [^›]+›$/);
    const sc = redactHeaderValue("Set-Cookie", "sid=s3cr3t; Path=/; HttpOnly; SameSite=Lax");
    expect(sc).toMatch(/^sid=‹redacted[^›]+›; Path=\/; HttpOnly; SameSite=Lax$/);
  });
  it("redacts other secret headers fully and leaves plain ones", () => {
    expect(redactHeaderValue("X-API-Key", "k-123")).toMatch(/^‹redacted len=5/);
    expect(redactHeaderValue("Content-Type", "application/json")).toBe("application/json");
    expect(redactHeaderValue("Referer", "https://a.test/cb?code=xyz12345&x=1")).toMatch(
      /code=‹redacted[^›]+›&x=1$/,
    );
  });
  it("is idempotent", () => {
    const once = redactHeaderValue("Cookie", "a=b1234567");
    expect(redactHeaderValue("Cookie", once)).toBe(once);
  });
});

describe("redactUrl", () => {
  it("redacts secret params and userinfo, keeps the rest", () => {
    const u = redactUrl(
      "https://user:pw@s3.test/b/k?X-Amz-Credential=AK%2F1&X-Amz-Signature=abcd&versionId=7&page=2",
    );
    expect(u).toMatch(
      /^https:\/\/‹redacted[^›]+›@s3\.test\/b\/k\?X-Amz-Credential=‹redacted[^›]+›&X-Amz-Signature=‹redacted[^›]+›&versionId=7&page=2$/,
    );
    expect(redactUrl("https://a.test/cb#access_token=xyz&state=1")).toMatch(
      /#access_token=‹redacted[^›]+›&state=1$/,
    );
    expect(redactUrl("/items?q=shoes")).toBe("/items?q=shoes");
  });
});

describe("redactBody", () => {
  it("redacts JSON members by name and JWTs anywhere", () => {
    const jwt = jwtOf({ sub: "u1" });
    const out = redactBody(
      JSON.stringify({ user: "ann", password: "hunter2", nested: { client_secret: "x" }, note: `t ${jwt}` }),
      "application/json",
    );
    const parsed = JSON.parse(out);
    expect(parsed.user).toBe("ann");
    expect(parsed.password).toMatch(/^‹redacted len=7/);
    expect(parsed.nested.client_secret).toMatch(/^‹redacted/);
    expect(out).not.toContain(jwt);
  });
  it("handles truncated JSON", () => {
    expect(redactBody('{"token": "abcdef", "x": "y', "application/json")).toMatch(
      /"token": "‹redacted[^›]+›", "x": "y$/,
    );
  });
  it("redacts form fields", () => {
    expect(redactBody("csrfmiddlewaretoken=abc&comment=hi", "application/x-www-form-urlencoded")).toMatch(
      /^csrfmiddlewaretoken=‹redacted[^›]+›&comment=hi$/,
    );
  });
  it("redacts multipart fields", () => {
    const body =
      '--XX\r\nContent-Disposition: form-data; name="_token"\r\n\r\nsecretvalue\r\n--XX\r\nContent-Disposition: form-data; name="title"\r\n\r\nhello\r\n--XX--\r\n';
    const out = redactBody(body, "multipart/form-data; boundary=XX");
    expect(out).not.toContain("secretvalue");
    expect(out).toContain("hello");
  });
});

describe("redactText", () => {
  it("leaves prose alone", () => {
    const prose = "CSRF verification failed. Request aborted. Reason given: CSRF token missing.";
    expect(redactText(prose)).toBe(prose);
    expect(redactText("Bearer authentication is required")).toBe("Bearer authentication is required");
  });
  it("catches common shapes", () => {
    expect(redactText("used AKIAIOSFODNN7EXAMPLE here")).not.toContain("AKIAIOSFODNN7EXAMPLE");
    expect(redactText("curl -H 'Authorization: Bearer abcdef123456'")).not.toContain("abcdef123456");
    expect(redactText("GET /x?api_key=9f8e7d6c5b4a&y=1")).not.toContain("9f8e7d6c5b4a");
    expect(redactText("Cookie: sessionid=q1w2e3r4")).not.toContain("q1w2e3r4");
  });
});

describe("redactFragment (a trigger's fragment)", () => {
  it("keeps a secret-named pair too short to be a credential: it is the payload the firewall matched", () => {
    const cmd = "FOR /f \"tokens=1\" %%G IN ('dir') DO";
    expect(redactFragment("query", "foo", cmd)).toBe(cmd);
    expect(redactFragment("body", "q", '{"token": "2"}')).toBe('{"token": "2"}');
  });
  it("still redacts a secret-named pair long enough to be one, and the shapes of secrets", () => {
    expect(redactFragment("query", "next", "/cb?access_token=9f8e7d6c")).not.toContain("9f8e7d6c");
    expect(redactFragment("body", "q", "password=hunter2")).not.toContain("hunter2");
    expect(redactFragment("query", "x", "Bearer abcdef123456")).not.toContain("abcdef123456");
  });
  it("fingerprints the whole fragment of a part with a credential's name, unless the name itself matched", () => {
    expect(redactFragment("header", "X-Api-Key", "<script>")).toMatch(/^‹redacted len=8 sha256:/);
    expect(redactFragment("cookie", "sessionid", "' or 1=1")).toMatch(/^‹redacted/);
    expect(redactFragment("query", "password", "' or 1=1")).toMatch(/^‹redacted/);
    expect(redactFragment("body", "api_key", "x")).toMatch(/^‹redacted len=1/);
    expect(redactFragment("header", "X-Api-Key", "X-Api-Key")).toBe("X-Api-Key");
    expect(redactFragment("query", "page", "' or 1=1")).toBe("' or 1=1");
  });
});

// Property: a planted canary never survives any redaction function.
const canaryArb = fc.stringMatching(/^[A-Za-z0-9]{8,24}$/).map((s) => `C4N${s}Q9`);

describe("canaries never survive", () => {
  it("redactSecret", () => {
    fc.assert(fc.property(canaryArb, (c) => !redactSecret(c).includes(c)));
  });
  it("redactHeaderValue", () => {
    fc.assert(
      fc.property(canaryArb, canaryArb, (c, d) => {
        const outs = [
          redactHeaderValue("Authorization", `Bearer ${c}`),
          redactHeaderValue("Proxy-Authorization", `Basic ${c}`),
          redactHeaderValue("Cookie", `a=${c}; b=${d}`),
          redactHeaderValue("Set-Cookie", `s=${c}; Path=/; Secure`),
          redactHeaderValue("X-Api-Key", c),
          redactHeaderValue("X-My-Token", c),
          redactHeaderValue("Referer", `https://u:${c}@h.test/p?token=${d}`),
        ];
        return outs.every((o) => !o.includes(c) && !o.includes(d));
      }),
    );
  });
  it("redactUrl", () => {
    fc.assert(
      fc.property(
        canaryArb,
        fc.constantFrom(
          "token",
          "access_token",
          "api_key",
          "key",
          "sig",
          "signature",
          "X-Amz-Signature",
          "X-Amz-Credential",
          "password",
          "secret",
          "auth",
          "code",
          "session",
        ),
        (c, name) => {
          const o = redactUrl(`https://${c}@h.test/a?x=1&${name}=${c}#${name}=${c}`);
          return !o.includes(c);
        },
      ),
    );
  });
  it("redactBody", () => {
    fc.assert(
      fc.property(
        canaryArb,
        fc.constantFrom(
          "password",
          "passwd",
          "token",
          "secret",
          "api_key",
          "csrfmiddlewaretoken",
          "_csrf",
          "_token",
          "authenticity_token",
          "client_secret",
          "refresh_token",
        ),
        (c, name) => {
          const jwt = jwtOf({ sub: c });
          const outs = [
            redactBody(
              JSON.stringify({ a: 1, [name]: c, list: [{ [name]: c }], free: jwt }),
              "application/json",
            ),
            redactBody(`{"${name}": "${c}", "cut`, "application/json"),
            redactBody(`a=1&${name}=${c}`, "application/x-www-form-urlencoded"),
            redactBody(
              `--B\r\nContent-Disposition: form-data; name="${name}"\r\n\r\n${c}\r\n--B--`,
              "multipart/form-data; boundary=B",
            ),
            redactBody(`text with ${jwt} inside`, "text/plain"),
          ];
          return outs.every((o) => !o.includes(c) && !o.includes(jwt));
        },
      ),
    );
  });
  it("redactFragment", () => {
    fc.assert(
      fc.property(canaryArb, fc.constantFrom("query", "body", "header", "cookie", "path"), (c, location) => {
        const jwt = jwtOf({ sub: c });
        const t = `x ${jwt} Bearer ${c} token=${c} "password": "${c}" https://u:${c}@h.test/`;
        const o = redactFragment(location, "q", t);
        const named = redactFragment(location, location === "header" ? "X-Auth-Token" : "api_key", c);
        return !o.includes(c) && !o.includes(jwt) && (location === "path" || !named.includes(c));
      }),
    );
  });
  it("redactText", () => {
    fc.assert(
      fc.property(canaryArb, fc.stringMatching(/^[A-Z0-9]{16}$/), (c, k) => {
        const jwt = jwtOf({ sub: c });
        const t = `x ${jwt} Bearer ${c}; Basic ${c} AKIA${k} X-Amz-Signature=${c} token=${c} key=${c} "password": "${c}"`;
        const o = redactText(t);
        return !o.includes(c) && !o.includes(`AKIA${k}`) && !o.includes(jwt);
      }),
    );
  });
});
