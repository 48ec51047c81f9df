// A console log of several frameworks at once, as a developer's terminal shows
// it: every line that names a refusal is one denial of the cause its framework
// means, and the lines around them (404s, 400s, start-up chatter, the
// authorization failure ASP.NET Core logs before its forbid) are not.
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { analyzeLogs } from "./analyze.js";
import { LineDispatcher } from "./dispatch.js";

const FILE = join(import.meta.dirname, "../../../fixtures/logs/app/frameworks.log");
const RUNSERVER = join(import.meta.dirname, "../../../fixtures/logs/app/django-runserver.log");

describe("framework console lines", () => {
  it("count each refusal once, by the cause its framework names", async () => {
    const r = await analyzeLogs([FILE], { limit: 100 });
    expect(r.byCause).toEqual({
      csrf: 2,
      "credentials-invalid": 4,
      "insufficient-permission": 2,
      "rate-limit": 2,
      "server-config": 1,
      unknown: 2,
    });
    expect(r.denials).toBe(13);
    // One entry per refusing line, in file order.
    expect(r.entries.map((e) => e.line)).toEqual([5, 6, 7, 9, 12, 13, 14, 16, 17, 19, 21, 22, 23]);
    expect(r.entries.map((e) => e.status)).toEqual([
      403, 429, 401, 403, 403, 401, 403, 403, 403, 401, 401, 429, 403,
    ]);
  });
});

describe("Django's development server console", () => {
  it("counts each refusal once: the warning and the access line after it are one request", async () => {
    const r = await analyzeLogs([RUNSERVER], { limit: 100 });
    expect(r.files[0]?.format).toBe("django-runserver");
    expect(r.denials).toBe(4);
    expect(r.byCause).toEqual({ csrf: 1, unknown: 2, "rate-limit": 1 });
    expect(r.entries.map((e) => [e.line, e.method, e.path, e.status])).toEqual([
      [11, "POST", "/accounts/login/", 403],
      [13, "GET", "/admin/users/", 403],
      [15, "POST", "/api/orders/", 403],
      [18, "POST", "/api/login/", 429],
    ]);
    // The CSRF refusal's entry (its deciding line, the warning) names the access line it was joined with.
    expect(r.entries[0]?.seenIn?.map((s) => s.line)).toEqual([12]);
  });
});

describe("a Rails log tagged with request ids beside nginx's access log", () => {
  it("joins the Rails line to the access line of the same $request_id", async () => {
    const dir = mkdtempSync(join(tmpdir(), "why403-rails-"));
    const access = join(dir, "access.log");
    const rails = join(dir, "production.log");
    const id = "5f2a9c1e7b3d4e5f8a9b0c1d2e3f4a5b";
    writeFileSync(
      access,
      `203.0.113.9 - - [03/Dec/2026:10:15:05 +0000] "DELETE /admin/users/7 HTTP/1.1" 403 12 "-" "Mozilla/5.0" ${id}\n`,
    );
    writeFileSync(
      rails,
      [
        `I, [2026-12-03T10:15:05.001000 #4242]  INFO -- : [${id}] Started DELETE "/admin/users/7" for 203.0.113.9 at 2026-12-03 10:15:05 +0000`,
        `I, [2026-12-03T10:15:05.002000 #4242]  INFO -- : [${id}] Completed 403 Forbidden in 1ms (ActiveRecord: 0.0ms | Allocations: 300)`,
        // Rails' own id (a UUID) when no proxy passed one: no access line has it.
        "I, [2026-12-03T10:15:09.002000 #4242]  INFO -- : [0b7c1f7e-3f54-4c1a-9d7e-5b8f0e4c2a11] Completed 401 Unauthorized in 1ms (Allocations: 90)",
      ].join("\n"),
    );
    try {
      const r = await analyzeLogs([access, rails]);
      expect(r.denials).toBe(2);
      expect(r.files.map((f) => f.denials)).toEqual([1, 2]);
      expect(r.entries[0]).toMatchObject({
        requestId: id,
        path: "/admin/users/7",
        client: "203.0.113.9",
        status: 403,
      });
      expect(r.entries[1]?.requestId).toBe("0b7c1f7e-3f54-4c1a-9d7e-5b8f0e4c2a11");
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

function denialsOf(text: string) {
  const d = new LineDispatcher("app.log", []);
  const { records } = d.feed({ n: 1, text, cut: false });
  return [...records, ...d.end()].filter((r) => r.denied);
}

describe("framework lines inside JSON and logfmt", () => {
  it("are read with the same message rules, at any level", () => {
    // Spring Boot's logstash encoder writes CsrfFilter's refusal at DEBUG: no loud level, no status field.
    const spring = denialsOf(
      JSON.stringify({
        "@timestamp": "2026-12-03T10:15:02.123Z",
        message: "Invalid CSRF token found for http://localhost:8080/api/orders",
        logger_name: "org.springframework.security.web.csrf.CsrfFilter",
        level: "DEBUG",
        remote_addr: "203.0.113.9",
      }),
    );
    expect(spring).toHaveLength(1);
    expect(spring[0]).toMatchObject({
      cause: "csrf",
      status: 403,
      client: "203.0.113.9",
      format: "json-winston", // the line keeps its own format (level + message: the winston flavour)
    });
    expect(spring[0]?.time?.toISOString()).toBe("2026-12-03T10:15:02.123Z");
    const crowdsec = denialsOf(
      'time="2026-12-03T10:15:02Z" level=info msg="(5a1b/crowdsec) crowdsecurity/http-probing by ip 203.0.113.77 (FR/16276) : 4h ban on Ip 203.0.113.77"',
    );
    expect(crowdsec).toHaveLength(1);
    expect(crowdsec[0]).toMatchObject({ cause: "ip-restriction", client: "203.0.113.77", format: "logfmt" });
    // Grafana's logfmt log names the client in a field of its own, not in the message.
    const grafana = denialsOf(
      't=2026-12-03T10:15:03+0000 lvl=eror msg="Invalid username or password" logger=context userId=0 uname= error="invalid username or password" remote_addr=203.0.113.6',
    );
    expect(grafana).toHaveLength(1);
    expect(grafana[0]).toMatchObject({
      cause: "credentials-invalid",
      client: "203.0.113.6",
      format: "logfmt",
    });
  });

  it("let a status the line records outrank the one a rule implies", () => {
    const [rec] = denialsOf(
      JSON.stringify({ level: "warn", msg: "Invalid CSRF token found for /api/orders", status: 419 }),
    );
    expect(rec).toMatchObject({ cause: "csrf", status: 419, statusInferred: false });
    // A status that is no refusal: the line is not one either.
    expect(denialsOf(JSON.stringify({ msg: "Invalid CSRF token found for /x", status: 200 }))).toEqual([]);
  });

  it("take the status from a rule that leaves the cause to it, and the path from the JSON", () => {
    const [rec] = denialsOf(
      JSON.stringify({
        level: "INFO",
        message: "Too Many Requests: /api/login/",
        path: "/api/login/?next=%2F",
      }),
    );
    expect(rec).toMatchObject({ cause: "rate-limit", status: 429, path: "/api/login/?next=%2F" });
  });
});

describe("the time of a framework's text line", () => {
  it("is its leading ISO stamp, in the run's zone when it names none", () => {
    process.env.TZ = "UTC";
    const times = [
      "I, [2026-12-03T10:15:02.123456 #4242]  INFO -- : [9c2e] Completed 403 Forbidden in 1ms (Allocations: 90)",
      '[2026-12-03 10:15:02] production.ERROR: This action is unauthorized. {"userId":12}',
      '[2026-12-03T10:15:02.000000+00:00] request.ERROR: Uncaught PHP Exception Symfony\\Component\\HttpKernel\\Exception\\AccessDeniedHttpException: "Access Denied." at /x.php line 1 [] []',
      "2026-12-03 10:15:02.123 DEBUG 4242 --- [nio-8080-exec-1] o.s.security.web.csrf.CsrfFilter : Invalid CSRF token found for http://localhost:8080/x",
      "[2026-12-03 10:15:02,123] WARNING django.security.csrf: Forbidden (CSRF cookie not set.): /x",
    ].map((line) => denialsOf(line)[0]?.time?.toISOString().slice(0, 19));
    expect(times).toEqual(new Array(5).fill("2026-12-03T10:15:02"));
    // A bare console line names none.
    expect(denialsOf("Forbidden: /admin/users/")[0]?.time).toBeNull();
  });
});
