import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { evaluateApache } from "./evaluate.js";
import { apacheEvidence } from "./evidence.js";
import { parseApacheConfig, parseApacheText } from "./parser.js";

const FIX = join(import.meta.dirname, "..", "..", "..", "fixtures", "apache");
const vhosts = parseApacheConfig(join(FIX, "vhosts.conf"));
const authz = parseApacheConfig(join(FIX, "authz.conf"));

const ask = (
  conf: typeof authz,
  method: string,
  url: string,
  client: string | null,
  headers?: Record<string, string>,
) => evaluateApache(conf, { method, url, client, headers });

describe("virtual hosts and section order", () => {
  it("picks the vhost by name, the first one by default", () => {
    expect(ask(vhosts, "POST", "http://a.test/x", "8.8.8.8").decision).toBe("allow");
    expect(ask(vhosts, "POST", "http://unknown.test/x", "8.8.8.8").decision).toBe("allow");
    const b = ask(vhosts, "POST", "http://www.b.test/x", "8.8.8.8");
    expect(b).toMatchObject({ decision: "deny", status: 403, cause: "ip-restriction" });
    expect(b.decidedBy).toMatchObject({
      directive: "Require",
      args: ["ip", "10.1", "192.168.0.0/16"],
      line: 20,
    });
    expect(b.fix[0]).toContain("add `Require ip 8.8.8.8` inside <Directory /srv/why403-b>");
    expect(b.context.map((c) => c.block)).toEqual(["VirtualHost", "Directory", "Directory"]);
  });

  it("accepts partial addresses and lets <Location> override <Directory>", () => {
    expect(ask(vhosts, "GET", "http://b.test/x", "10.1.200.3").decision).toBe("allow");
    const admin = ask(vhosts, "GET", "http://b.test/admin/panel", "10.1.200.3");
    expect(admin.decision).toBe("deny");
    expect(admin.decidedBy?.args).toEqual(["ip", "10.9.0.0/16"]);
    expect(admin.context.at(-1)?.block).toBe("Location");
    // A <Location /admin> prefix stops at a segment boundary.
    expect(ask(vhosts, "GET", "http://b.test/administrator", "10.1.200.3").decision).toBe("allow");
  });

  it("applies <Files> after <Directory>", () => {
    const r = ask(vhosts, "GET", "http://b.test/conf/app.ini", "10.1.0.1");
    expect(r).toMatchObject({ decision: "deny", cause: "server-config" });
    expect(r.decidedBy?.args).toEqual(["all", "denied"]);
  });

  it("says unknown without a client address, and asks for it", () => {
    const r = ask(vhosts, "GET", "http://b.test/x", null);
    expect(r.decision).toBe("unknown");
    expect(r.unknowns.some((u) => u.includes("client address"))).toBe(true);
    expect(r.fix[0]).toContain("--client");
  });
});

describe("Require containers, Limit and legacy access", () => {
  it("RequireAll with Require not ip", () => {
    expect(ask(authz, "GET", "http://h/all/x", "10.1.1.1").decision).toBe("allow");
    const r = ask(authz, "GET", "http://h/all/x", "10.0.5.9");
    expect(r).toMatchObject({ decision: "deny", cause: "ip-restriction" });
    expect(r.decidedBy?.args).toEqual(["not", "ip", "10.0.5.0/24"]);
    expect(ask(authz, "GET", "http://h/all/x", "192.0.2.1").decision).toBe("deny");
  });

  it("RequireNone inside RequireAll", () => {
    expect(ask(authz, "GET", "http://h/none/x", "10.7.0.1").decision).toBe("allow");
    expect(ask(authz, "GET", "http://h/none/x", "10.6.3.3").decision).toBe("deny");
  });

  it("<Limit POST PUT> restricts only those methods; <LimitExcept GET> all others", () => {
    expect(ask(authz, "GET", "http://h/upload/x", "192.0.2.1").decision).toBe("allow");
    expect(ask(authz, "POST", "http://h/upload/x", "192.0.2.1").decision).toBe("deny");
    expect(ask(authz, "POST", "http://h/upload/x", "10.2.0.1").decision).toBe("allow");
    expect(ask(authz, "HEAD", "http://h/ro/x", "192.0.2.1").decision).toBe("allow");
    const post = ask(authz, "POST", "http://h/ro/x", "192.0.2.1");
    expect(post).toMatchObject({ decision: "deny", status: 403, cause: "server-config" });
  });

  it("legacy Order/Allow/Deny", () => {
    expect(ask(authz, "GET", "http://h/legacy/x", "10.3.1.1")).toMatchObject({
      decision: "deny",
      cause: "ip-restriction",
    });
    expect(ask(authz, "GET", "http://h/legacy/x", "10.2.1.1").decision).toBe("allow");
    const r = ask(authz, "GET", "http://h/legacy2/x", "10.5.0.1");
    expect(r).toMatchObject({ decision: "deny", cause: "ip-restriction" });
    expect(r.fix[0]).toContain("Allow from 10.5.0.1");
    expect(ask(authz, "GET", "http://h/legacy2/x", "10.4.9.9").decision).toBe("allow");
  });

  it("RewriteRule [F] with conditions on method and a header", () => {
    const hit = ask(authz, "POST", "http://h/api/debug", "10.0.0.1", { "x-debug": "1" });
    expect(hit).toMatchObject({ decision: "deny", status: 403, cause: "server-config" });
    expect(hit.decidedBy).toMatchObject({ directive: "RewriteRule", args: ["^debug", "-", "[F]"] });
    expect(ask(authz, "POST", "http://h/api/debug", "10.0.0.1", { "x-debug": "0" }).decision).toBe("allow");
    expect(ask(authz, "GET", "http://h/api/debug", "10.0.0.1", { "x-debug": "1" }).decision).toBe("allow");
    // Without headers the condition on X-Debug cannot be decided.
    expect(ask(authz, "POST", "http://h/api/debug", "10.0.0.1").decision).toBe("unknown");
  });

  it("Require valid-user without credentials answers 401", () => {
    const r = ask(authz, "POST", "http://h/login/x", "10.0.0.1");
    expect(r).toMatchObject({ decision: "deny", status: 401, cause: "credentials-invalid" });
    expect(r.fix[0]).toContain("AuthType Basic");
  });

  it("Require expr with a method list", () => {
    expect(ask(authz, "GET", "http://h/expr", "10.0.0.1").decision).toBe("allow");
    expect(ask(authz, "POST", "http://h/expr", "10.0.0.1").decision).toBe("deny");
  });

  it("reports ModSecurity in scope", () => {
    const r = ask(authz, "POST", "http://h/waf/x", "10.0.0.1");
    expect(r.decision).toBe("allow");
    expect(r.unknowns.some((u) => u.startsWith("ModSecurity is active") && u.includes("942100"))).toBe(true);
    expect(apacheEvidence(r).some((e) => (e.weights.waf ?? 0) > 0)).toBe(true);
  });

  it("AuthMerging And combines with the parent section", () => {
    const c = parseApacheText(
      "DocumentRoot /srv/m\n<Directory /srv/m>\nRequire ip 10.0.0.0/8\n</Directory>\n<Directory /srv/m/sub>\nAuthMerging And\n<RequireAll>\nRequire all granted\nRequire not ip 10.9.0.0/16\n</RequireAll>\n</Directory>\n",
    );
    expect(ask(c, "GET", "http://h/sub/x", "10.1.0.1").decision).toBe("allow");
    expect(ask(c, "GET", "http://h/sub/x", "10.9.0.1").decision).toBe("deny");
    expect(ask(c, "GET", "http://h/sub/x", "192.0.2.1").decision).toBe("deny");
  });
});

describe(".htaccess", () => {
  process.env.WHY403_APACHE_FIXTURES = FIX;
  const conf = parseApacheConfig(join(FIX, "htaccess.conf"));

  it("is honoured under AllowOverride All", () => {
    const r = ask(conf, "POST", "http://h/honoured/a.txt", "10.0.0.1");
    expect(r).toMatchObject({ decision: "deny", cause: "ip-restriction" });
    expect(r.decidedBy?.file).toBe(join(FIX, "htdocs", "honoured", ".htaccess"));
    expect(r.context.some((c) => c.block === ".htaccess")).toBe(true);
    expect(ask(conf, "POST", "http://h/honoured/a.txt", "192.168.1.1").decision).toBe("allow");
  });

  it("is ignored under AllowOverride None, and the fix says so", () => {
    const r = ask(conf, "GET", "http://h/ignored/a.txt", "10.0.0.1");
    expect(r.decision).toBe("deny");
    expect(r.unknowns.some((u) => u.includes("ignored/.htaccess exists but httpd ignores it"))).toBe(true);
    expect(r.fix.some((f) => f.includes("AllowOverride AuthConfig"))).toBe(true);
  });

  it("can be switched off", () => {
    const r = evaluateApache(
      conf,
      { method: "POST", url: "http://h/honoured/a.txt", client: "10.0.0.1" },
      { readHtaccess: false },
    );
    expect(r.decision).toBe("allow");
  });
});

describe("the fix names the section that matched", () => {
  const conf = parseApacheText(
    [
      "DocumentRoot /nonexistent/why403/www",
      "<Directory /nonexistent/why403/www/form>",
      "  <LimitExcept GET>",
      "    Require all denied",
      "  </LimitExcept>",
      "</Directory>",
      "<Directory /nonexistent/why403/www/old>",
      "  Order deny,allow",
      "  Deny from all",
      "  Allow from 10.0.0.0/8",
      "</Directory>",
      "<Directory /nonexistent/why403/www/closed>",
      "  Order deny,allow",
      "  Deny from all",
      "</Directory>",
    ].join("\n"),
    "site.conf",
  );

  it("Require all denied in <LimitExcept GET> is server-config, fixed in that <LimitExcept>", () => {
    const d = ask(conf, "POST", "http://x.test/form/x.txt", "127.0.0.1");
    expect(d).toMatchObject({ decision: "deny", cause: "server-config" });
    expect(d.fix[0]).toContain(
      "in <LimitExcept GET> at site.conf:3 in <Directory /nonexistent/why403/www/form>",
    );
    expect(d.fix[0]).toContain("<LimitExcept GET POST>");
    expect(d.fix.join("\n")).not.toContain("<Location");
  });

  it("legacy Deny from all: an address allowlist is ip-restriction, a blanket deny server-config", () => {
    const listed = ask(conf, "GET", "http://x.test/old/a", "127.0.0.1");
    expect(listed).toMatchObject({ decision: "deny", cause: "ip-restriction" });
    const closed = ask(conf, "GET", "http://x.test/closed/a", "127.0.0.1");
    expect(closed).toMatchObject({ decision: "deny", cause: "server-config" });
    expect(closed.fix[0]).toContain("in <Directory /nonexistent/why403/www/closed> at site.conf:12");
  });
});
