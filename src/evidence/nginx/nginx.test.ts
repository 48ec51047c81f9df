import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { InputError } from "../../errors.js";
import type { ConfigRequest } from "../config-decision.js";
import { evaluateNginx, nginxEvidence, parseNginxConfig, parseNginxText, tokenize } from "./index.js";

const FIX = join(import.meta.dirname, "..", "..", "..", "fixtures", "nginx");
const shop = parseNginxConfig(join(FIX, "shop", "nginx.conf"));
const SITE = "sites-enabled/shop";

function ask(
  method: string,
  url: string,
  client: string | null = "192.0.2.1",
  headers?: Record<string, string>,
) {
  const req: ConfigRequest = { method, url, client };
  if (headers) req.headers = headers;
  return evaluateNginx(shop, req);
}

function parseError(file: string): string {
  try {
    parseNginxConfig(join(FIX, file));
  } catch (e) {
    expect(e).toBeInstanceOf(InputError);
    return (e as Error).message;
  }
  throw new Error(`${file} parsed without error`);
}

describe("lexer", () => {
  it("handles quotes, escapes, comments and braced variables", () => {
    const t = tokenize(`a "b c" 'd\\'e' f\\"g # note\nh\${x}y {`, "t.conf");
    expect(t.map((x) => x.value)).toEqual(["a", "b c", "d'e", 'f"g', `h\${x}y`, "{"]);
    expect(t[4]?.line).toBe(2);
  });
});

describe("parser", () => {
  it("expands include globs in sorted order, skips dot files, keeps file and line", () => {
    expect(shop.files).toEqual(
      ["nginx.conf", "conf.d/10-map.conf", SITE].map((f, i) => (i === 0 ? join(FIX, "shop", f) : f)),
    );
    const http = shop.directives.find((d) => d.directive === "http");
    const map = http?.block?.find((d) => d.directive === "map");
    expect(map).toMatchObject({
      file: "conf.d/10-map.conf",
      line: 1,
      args: ["$http_x_team", "$team_allowed"],
    });
    expect(map?.includedFrom).toEqual([`${join(FIX, "shop", "nginx.conf")}:4`]);
  });

  it("reports an include loop on one line", () => {
    expect(parseError("loop/a.conf")).toBe("include loop: a.conf → b.conf → c.conf → a.conf");
  });

  it("caps include depth", () => {
    expect(parseError("deep/d0.conf")).toMatch(/includes nested deeper than 32/);
  });

  it("refuses /dev/zero and binary includes without hanging", () => {
    expect(parseError("devzero.conf")).toBe("nginx config /dev/zero is not a regular file");
    expect(parseError("binary.conf")).toMatch(/binary\.bin is not a text file/);
  });

  it("reports syntax errors with file:line", () => {
    expect(parseError("syntax/missing-semicolon.conf")).toMatch(
      /missing-semicolon\.conf:6: unexpected "}" \(missing ";" after "root"/,
    );
    expect(parseError("syntax/unbalanced.conf")).toMatch(
      /unbalanced\.conf:1: unexpected end of file, expecting "}"/,
    );
    expect(parseError("syntax/unclosed-quote.conf")).toMatch(/unclosed-quote\.conf:3: unclosed " quote/);
    expect(parseError("syntax/missing-include.conf")).toBe(
      `nginx config ${join(FIX, "syntax", "no-such-file.conf")} (included at ${join(FIX, "syntax", "missing-include.conf")}:3): not found`,
    );
  });

  it("catches a missing ; through the argument count", () => {
    expect(() => parseNginxText("deny all\nallow 10.0.0.1;", "x.conf")).toThrow(
      /x\.conf:1: invalid number of arguments in "deny"/,
    );
  });

  it("strips the parentheses of if and keeps an empty quoted operand", () => {
    const c = parseNginxText('server { if ($arg_t = "") { return 401; } }');
    expect(c.directives[0]?.block?.[0]?.args).toEqual(["$arg_t", "=", ""]);
  });
});

describe("server selection", () => {
  const body = (url: string, host?: string) => {
    const d = ask("GET", url, "192.0.2.1", host ? { host } : undefined);
    return d.decidedBy?.args.join(" ");
  };
  it("prefers exact, then leading wildcard, then trailing wildcard, then regex, else default", () => {
    expect(body("http://www.example.com/")).toBe("200 exact");
    expect(body("http://a.b.example.com/")).toBe("200 leading");
    expect(body("http://www.example.org/")).toBe("200 trailing");
    expect(body("http://alice.users.test/")).toBe("200 regex");
    expect(ask("GET", "http://nobody.test/health").matched?.server).toMatch(/default_server/);
  });
  it("uses the Host header over the URL host, and the port from the URL", () => {
    expect(body("http://127.0.0.1/", "www.example.com:80")).toBe("200 exact");
    expect(ask("GET", "http://127.0.0.1:8080/x").status).toBe(403);
    expect(ask("GET", "http://127.0.0.1:9999/x").decision).toBe("unknown");
  });
});

describe("location selection", () => {
  const answer = (path: string) => ask("GET", `http://shop.test${path}`).decidedBy?.args.join(" ");
  it("exact beats everything, ^~ stops regex, first regex wins over prefix", () => {
    expect(answer("/health")).toBe("200 ok");
    expect(ask("GET", "http://shop.test/static/x.php").decision).toBe("allow");
    expect(ask("GET", "http://shop.test/x.PHP").status).toBe(404);
    expect(answer("/a.txt")).toBe("200 top-regex");
  });
  it("searches nested locations before the regexes of the outer level", () => {
    expect(answer("/nested/a.txt")).toBe("200 nested-regex");
    expect(answer("/nested/deeper/a.txt")).toBe("200 nested-regex");
    expect(answer("/nested/deeper/x")).toBe("200 nested-prefix");
    expect(answer("/nested/x")).toBe("200 nested");
  });
  it("decodes and normalises the URI first", () => {
    expect(answer("/nested/%2e%2e/health")).toBe("200 ok");
    expect(answer("//nested///deeper/./x")).toBe("200 nested-prefix");
    expect(ask("GET", "http://shop.test/../x").status).toBe(400);
  });
});

describe("access phase", () => {
  it("deny all after an allow list, with the smallest fix", () => {
    const d = ask("POST", "http://shop.test/admin/users", "203.0.113.9");
    expect(d).toMatchObject({ decision: "deny", status: 403, cause: "ip-restriction" });
    expect(d.decidedBy).toEqual({ directive: "deny", args: ["all"], file: SITE, line: 15 });
    expect(d.fix).toEqual([
      `add \`allow 203.0.113.9;\` before \`deny all;\` at ${SITE}:15 inside \`location /admin/\` at ${SITE}:12`,
    ]);
    expect(d.context.map((c) => `${c.block}:${c.line}`)).toEqual(["http:3", "server:1", "location:12"]);
  });
  it("matches IPv4 and IPv6 CIDRs, IPv4-mapped clients included", () => {
    expect(ask("GET", "http://shop.test/admin/", "10.20.30.40").decision).toBe("allow");
    expect(ask("GET", "http://shop.test/admin/", "::ffff:10.1.2.3").decision).toBe("allow");
    expect(ask("GET", "http://shop.test/admin/", "2001:db8:1::5").decision).toBe("allow");
    expect(ask("GET", "http://shop.test/admin/", "2001:db9::5").decision).toBe("deny");
  });
  it("inherits allow/deny from http when the inner levels have none", () => {
    const d = ask("GET", "http://shop.test/anything", "198.51.100.20");
    expect(d.decidedBy).toMatchObject({ directive: "deny", args: ["198.51.100.0/24"], line: 6 });
    expect(d.fix[0]).toMatch(
      /remove or narrow `deny 198\.51\.100\.0\/24` .* \(it matches 198\.51\.100\.20\)/,
    );
  });
  it("needs the client address when a rule depends on it", () => {
    const d = ask("GET", "http://shop.test/admin/", null);
    expect(d.decision).toBe("unknown");
    expect(d.unknowns[0]).toMatch(/needs the client address/);
  });
  it("limit_except applies its rules to the methods it does not list; GET implies HEAD", () => {
    expect(ask("HEAD", "http://shop.test/upload/x").decision).toBe("allow");
    expect(ask("POST", "http://shop.test/api/x").decision).toBe("allow");
    const d = ask("POST", "http://shop.test/upload/x");
    expect(d).toMatchObject({ decision: "deny", status: 403, cause: "server-config" });
    expect(d.fix[0]).toBe(`add POST to \`limit_except GET\` at ${SITE}:31`);
    expect(ask("DELETE", "http://shop.test/api/x", "10.0.0.7").decision).toBe("allow");
    expect(ask("DELETE", "http://shop.test/api/x", "10.0.0.8").decision).toBe("deny");
  });
  it("server-level if/return runs before location matching", () => {
    const d = ask("TRACE", "http://shop.test/health");
    expect(d).toMatchObject({ decision: "deny", status: 405, cause: "server-config" });
    expect(d.context.at(-1)).toMatchObject({ block: "if", line: 7 });
  });
  it("map read by if: unknown without the header, decided with it", () => {
    const none = ask("POST", "http://shop.test/team/x");
    expect(none.decision).toBe("unknown");
    expect(none.unknowns[0]).toMatch(/^the map on \$http_x_team needs the request's X-Team header/);
    expect(ask("POST", "http://shop.test/team/x", "192.0.2.1", { "x-team": "sales" })).toMatchObject({
      decision: "deny",
      status: 403,
    });
    expect(ask("POST", "http://shop.test/team/x", "192.0.2.1", { "x-team": "sre-eu" }).decision).toBe(
      "allow",
    );
  });
  it("auth_basic answers 401 without credentials; satisfy any lets an allowed address through", () => {
    const d = ask("GET", "http://shop.test/private/");
    expect(d).toMatchObject({ decision: "deny", status: 401, cause: "credentials-invalid" });
    expect(
      ask("GET", "http://shop.test/private/", "192.0.2.1", { authorization: "Basic dTpw" }).decision,
    ).toBe("unknown");
    expect(ask("GET", "http://shop.test/either/", "10.1.1.1").decision).toBe("allow");
    expect(ask("GET", "http://shop.test/either/", "192.0.2.1").status).toBe(401);
  });
  it("auth_request is unknown; internal is 404; deny inside if is noted", () => {
    expect(ask("GET", "http://shop.test/sso/").unknowns[0]).toMatch(/auth_request \/auth .* subrequest/);
    expect(ask("GET", "http://shop.test/only-internal/")).toMatchObject({
      decision: "deny",
      status: 404,
      cause: "server-config",
    });
    expect(ask("GET", "http://shop.test/bad-if/").unknowns[0]).toMatch(/does not allow `deny` inside `if`/);
  });
});

describe("static content", () => {
  const dir = mkdtempSync(join(tmpdir(), "why403-nginx-"));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));
  mkdirSync(join(dir, "www", "docs"), { recursive: true });
  mkdirSync(join(dir, "www", "withindex"), { recursive: true });
  writeFileSync(join(dir, "www", "withindex", "index.html"), "x");
  writeFileSync(join(dir, "www", "docs", "a.txt"), "x");
  const conf = parseNginxText(
    `server { listen 80; root ${dir}/www; location / { } location /files/ { alias ${dir}/www/docs/; } }`,
    "static.conf",
  );
  const run = (method: string, path: string) =>
    evaluateNginx(conf, { method, url: `http://h${path}`, client: "192.0.2.1" });
  it("directory without index is 403 unless autoindex; with index it is served", () => {
    const d = run("GET", "/docs/");
    expect(d).toMatchObject({
      decision: "deny",
      status: 403,
      cause: "server-config",
      filePath: `${dir}/www/docs/`,
    });
    expect(d.fix[0]).toMatch(/add an index file \(index\.html\) .* or `autoindex on;`/);
    expect(run("GET", "/withindex/")).toMatchObject({ decision: "allow", status: 200 });
  });
  it("maps root and alias to the file path; POST to a static file is 405", () => {
    expect(run("GET", "/files/a.txt")).toMatchObject({ status: 200, filePath: `${dir}/www/docs/a.txt` });
    expect(run("POST", "/docs/a.txt")).toMatchObject({ decision: "deny", status: 405 });
    expect(run("GET", "/docs/missing")).toMatchObject({ decision: "allow", status: 404 });
  });
});

describe("nginxEvidence", () => {
  it("weights the decision's cause and names file:line", () => {
    const [e] = nginxEvidence(ask("POST", "http://shop.test/admin/users", "203.0.113.9"));
    expect(e?.source).toBe(`${SITE}:15`);
    expect(e?.weights).toEqual({ "ip-restriction": 5 });
    const [allow] = nginxEvidence(ask("GET", "http://shop.test/admin/", "10.0.0.1"));
    expect(allow?.weights["ip-restriction"]).toBeLessThan(0);
  });
});

describe("known directives", () => {
  it("reports an unknown directive in unknowns without failing; map/geo entries are data", () => {
    const conf = parseNginxText(
      `http { map $a $b { frob 1; } geo $g { 10.0.0.0/8 1; } server { listen 80; frobnicate on; location / { return 200; } } }`,
      "u.conf",
    );
    const d = evaluateNginx(conf, { method: "GET", url: "http://h/", client: "192.0.2.1" });
    expect(d.decision).toBe("allow");
    expect(d.unknowns).toEqual([
      "unknown directive `frobnicate` at u.conf:1: `nginx -t` rejects it unless a module this server loads defines it",
    ]);
    expect(
      evaluateNginx(shop, { method: "GET", url: "http://shop.test/health", client: null }).unknowns,
    ).toEqual([]);
  });
});

describe("phases and classification", () => {
  const conf = parseNginxText(
    [
      "http {",
      "  geo $blocked { 127.0.0.0/8 1; default 0; }",
      "  server {",
      "    listen 80;",
      '    location /upload { limit_except GET { deny all; } return 200 "up"; }',
      "    location /v6/ { deny all; }",
      "    location /list/ { allow 10.0.0.0/8; deny all; }",
      "    location /one/ { deny 192.0.2.1; }",
      "  }",
      "  server {",
      "    listen 81;",
      "    deny 127.0.0.1;",
      "    location /d/ { if ($blocked) { return 451; } return 200 d; }",
      "    location /h/ { if ($http_x_block) { return 403; } return 200 h; }",
      "  }",
      "}",
    ].join("\n"),
    "p.conf",
  );
  const run = (
    method: string,
    url: string,
    client: string | null = "192.0.2.1",
    headers?: Record<string, string>,
  ) => evaluateNginx(conf, { method, url, client, ...(headers ? { headers } : {}) });

  it("limit_except replaces the location's config for unlisted methods: the parent's return does not run", () => {
    const post = run("POST", "http://h/upload");
    expect(post).toMatchObject({ decision: "deny", status: 403, cause: "server-config" });
    expect(post.decidedBy).toMatchObject({ directive: "deny", args: ["all"], line: 5 });
    expect(run("GET", "http://h/upload")).toMatchObject({ decision: "allow", status: 200 });
  });

  it("rewrite-phase return runs before access; an undecided if before a deny is unknown", () => {
    const d = run("GET", "http://h:81/d/x", "127.0.0.1");
    expect(d).toMatchObject({ decision: "deny", status: 451, decidedBy: { directive: "return" } });
    const h = run("GET", "http://h:81/h/x", "127.0.0.1");
    expect(h.decision).toBe("unknown");
    expect(h.unknowns.join("; ")).toMatch(/X-Block header/);
    expect(run("GET", "http://h:81/h/x", "127.0.0.1", { "x-block": "1" }).status).toBe(403);
    // The location's own `return 200` also runs before the server's deny.
    expect(run("GET", "http://h:81/h/x", "127.0.0.1", { "x-block": "" })).toMatchObject({
      decision: "allow",
      status: 200,
      decidedBy: { directive: "return" },
    });
    expect(run("GET", "http://h:81/other", "127.0.0.1")).toMatchObject({ decision: "deny", status: 403 });
  });

  it("geo reads the client address (or another variable); unknown only without it", () => {
    expect(run("GET", "http://h:81/d/x", "10.0.0.1")).toMatchObject({ decision: "allow", status: 200 });
    const none = run("GET", "http://h:81/d/x", null);
    expect(none.decision).toBe("unknown");
    expect(none.unknowns[0]).toMatch(/geo on \$remote_addr at p\.conf:2 needs the client address/);
    const g = parseNginxText(
      [
        "http {",
        "  geo $http_x_real $net { default out; 10.0.0.0/8 ten; 10.1.0.0/16 ten-one; delete 10.2.0.0/16; }",
        "  geo $r { ranges; default no; 192.0.2.10-192.0.2.20 yes; }",
        "  server { listen 80;",
        "    location /n/ { if ($net = ten-one) { return 403; } if ($net = out) { return 401; } return 200 $net; }",
        "    location /r/ { if ($r = yes) { return 403; } return 200; }",
        "  } }",
      ].join("\n"),
      "g.conf",
    );
    const ask2 = (path: string, client: string, real?: string) =>
      evaluateNginx(g, {
        method: "GET",
        url: `http://h${path}`,
        client,
        headers: real ? { "x-real": real } : {},
      });
    expect(ask2("/n/", "1.1.1.1", "10.1.2.3").status).toBe(403);
    expect(ask2("/n/", "1.1.1.1", "10.9.2.3").status).toBe(200);
    expect(ask2("/n/", "1.1.1.1", "junk").status).toBe(401);
    expect(ask2("/n/", "1.1.1.1").decision).toBe("unknown");
    expect(ask2("/r/", "192.0.2.15").status).toBe(403);
    expect(ask2("/r/", "192.0.2.21").status).toBe(200);
  });

  it("a blanket deny is a location deny (server-config); an address list is ip-restriction; fixes name the block", () => {
    const blanket = run("GET", "http://h/v6/x.txt");
    expect(blanket).toMatchObject({ decision: "deny", status: 403, cause: "server-config" });
    expect(blanket.fix[0]).toBe(
      "remove `deny all` at p.conf:6 inside `location /v6/` at p.conf:6 if GET /v6/x.txt should be served, or serve it from a location that does not deny it",
    );
    const list = run("GET", "http://h/list/x");
    expect(list).toMatchObject({ cause: "ip-restriction" });
    expect(list.fix[0]).toBe(
      "add `allow 192.0.2.1;` before `deny all;` at p.conf:7 inside `location /list/` at p.conf:7",
    );
    expect(run("GET", "http://h/one/x")).toMatchObject({ cause: "ip-restriction", status: 403 });
    for (const d of [blanket, list]) expect(d.fix.join(" ")).not.toMatch(/location \/(v6|list)\/x/);
  });
});

describe("data blocks, third-party directives and the prefix", () => {
  it("reads map, geo, types, split_clients, charset_map and upstream bodies as data", () => {
    const conf = parseNginxText(
      [
        "http {",
        "  map $scheme $fcgi_https { default ''; http ''; https on; }",
        "  geo $g { default 0; server 1; 10.0.0.0/8 1; }",
        "  types { text/html html; location loc; }",
        "  split_clients $remote_addr $v { 50% a; * b; }",
        "  charset_map koi8-r utf-8 { C0 D18E; }",
        "  upstream app { server 127.0.0.1:9000; keepalive 8; if x; }",
        "  server { listen 80; location / { if ($fcgi_https = on) { return 403; } return 200; } }",
        "}",
      ].join("\n"),
      "m.conf",
    );
    const map = conf.directives[0]?.block?.[0];
    expect(map?.block?.map((d) => [d.directive, ...d.args])).toEqual([
      ["default", ""],
      ["http", ""],
      ["https", "on"],
    ]);
    const d = evaluateNginx(conf, { method: "GET", url: "http://h/", client: null });
    expect([d.decision, d.status, d.unknowns]).toEqual(["allow", 200, []]);
  });

  it("a data block still refuses a nested block", () => {
    expect(() => parseNginxText("http { map $a $b { x { } } }", "m.conf")).toThrow(
      'm.conf:1: unexpected "{" inside the "map" block',
    );
  });

  const thirdParty = parseNginxText(
    [
      "http {",
      "  server {",
      "    listen 80;",
      "    if ($request_method = DELETE) { return 405; }",
      "    location ^~ /.git { return 404; }",
      "    location /up { track_uploads proxied 30s; root /nonexistent; }",
      "    location /other { track_uploads proxied 30s; deny all; }",
      "    location / { root /nonexistent; }",
      "  }",
      "}",
    ].join("\n"),
    "t.conf",
  );
  const askT = (method: string, path: string) =>
    evaluateNginx(thirdParty, { method, url: `http://h${path}`, client: "192.0.2.1" });

  it("a third-party directive in one location leaves rewrite-phase answers decided", () => {
    const del = askT("DELETE", "/up/x");
    expect([del.decision, del.status, del.decidedBy?.line]).toEqual(["deny", 405, 4]);
    expect(del.unknowns).toEqual([]);
    const git = askT("GET", "/.git/config");
    expect([git.decision, git.status, git.decidedBy?.line]).toEqual(["deny", 404, 5]);
    expect(askT("GET", "/elsewhere").decision).toBe("allow");
  });

  it("makes unknown only what its module could change, and names it once", () => {
    const up = askT("GET", "/up/x");
    expect(up.decision).toBe("unknown");
    expect(up.unknowns).toEqual([
      "unknown directive `track_uploads` at t.conf:6: `nginx -t` rejects it unless a module this server loads defines it",
      "a module behind that directive could refuse or answer GET /up/x in its access or content phase",
    ]);
    // A deny under `satisfy all` is final whatever another access module says.
    const other = askT("GET", "/other");
    expect([other.decision, other.status]).toEqual(["deny", 403]);
  });

  it("an include repeated in two places lists its unknown directive once", () => {
    const dir = mkdtempSync(join(tmpdir(), "why403-ngx-"));
    try {
      writeFileSync(join(dir, "up.conf"), "track_uploads proxied 30s;\n");
      writeFileSync(
        join(dir, "nginx.conf"),
        "http { server { listen 80; include up.conf; location / { include up.conf; return 200; } } }\n",
      );
      const d = evaluateNginx(parseNginxConfig(join(dir, "nginx.conf")), {
        method: "GET",
        url: "http://h/",
        client: null,
      });
      expect(d.unknowns).toEqual([
        "unknown directive `track_uploads` at up.conf:1: `nginx -t` rejects it unless a module this server loads defines it",
      ]);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it("resolves a relative root against nginx's prefix (-p), by default /usr/share/nginx", () => {
    const dir = mkdtempSync(join(tmpdir(), "why403-ngx-"));
    try {
      mkdirSync(join(dir, "html"));
      writeFileSync(join(dir, "html", "index.html"), "hi\n");
      const text = "http { server { listen 80; location / { root html; index index.html; } } }";
      const withPrefix = parseNginxText(text, "p.conf", { nginxPrefix: dir });
      const get = evaluateNginx(withPrefix, { method: "GET", url: "http://h/index.html", client: null });
      expect([get.decision, get.status, get.filePath]).toEqual(["allow", 200, join(dir, "html/index.html")]);
      const post = evaluateNginx(withPrefix, { method: "POST", url: "http://h/", client: null });
      expect([post.decision, post.status]).toEqual(["deny", 405]);
      const stock = evaluateNginx(parseNginxText(text, "p.conf"), {
        method: "GET",
        url: "http://h/x",
        client: null,
      });
      expect(stock.filePath).toBe("/usr/share/nginx/html/x");
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
