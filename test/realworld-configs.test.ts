// Public nginx and Apache configs nobody on the team wrote (h5bp, perusio's
// Drupal setup, nginx's own conf/, Debian's /etc/apache2, WordPress and h5bp
// .htaccess files) must parse, and a few answers they make obvious must come
// out decided. The files live outside the repository (../shared/realworld,
// or WHY403_REALWORLD); without them this suite is skipped, saying so.

import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { evaluateApache, parseApacheConfig } from "../src/evidence/apache/index.js";
import { evaluateNginx, parseNginxConfig } from "../src/evidence/nginx/index.js";

const ROOT = join(import.meta.dirname, "..");
const REALWORLD = [
  process.env.WHY403_REALWORLD,
  join(ROOT, "..", "shared", "realworld"),
  join(ROOT, "..", "..", "shared", "realworld"),
].find((p): p is string => !!p && existsSync(join(p, "nginx")));
const at = (rel: string) => join(REALWORLD ?? "", rel);

const NGINX_CONFS = [
  "nginx/h5bp-ci/nginx.conf",
  "nginx/h5bp-server-configs-nginx/nginx.conf",
  "nginx/nginx-dist/conf/nginx.conf",
  "nginx/perusio-drupal-with-nginx/nginx.conf",
  "nginx/perusio-relative/nginx.conf",
  "nginx/perusio-mapfix/nginx.conf",
  "nginx/perusio-core/nginx.conf",
  "nginx/sites/ugent-sel2.conf",
  "nginx/sites/jenkins.example.com",
];

const tmp = mkdtempSync(join(tmpdir(), "why403-realworld-"));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

describe.skipIf(!REALWORLD)(
  `public real-world configs (from ../shared/realworld; skipped when that folder is absent)`,
  () => {
    it.each(NGINX_CONFS)("nginx %s parses, and a request through it is evaluated without error", (rel) => {
      const config = parseNginxConfig(at(rel));
      expect(config.directives.length).toBeGreaterThan(0);
      expect(() =>
        evaluateNginx(config, { method: "POST", url: "http://example.com/x", client: "192.0.2.1" }),
      ).not.toThrow();
    });

    it("perusio: a map with `http ''` entries parses; /.git is refused by its location despite the third-party upload_progress", () => {
      const config = parseNginxConfig(at("nginx/perusio-relative/nginx.conf"));
      const d = evaluateNginx(config, {
        method: "POST",
        url: "http://example.com/.git/config",
        client: "192.0.2.1",
        headers: { "user-agent": "curl/8", referer: "http://example.com/" },
      });
      expect([d.decision, d.status, d.decidedBy?.file, d.decidedBy?.directive]).toEqual([
        "deny",
        404,
        "apps/drupal/drupal.conf",
        "return",
      ]);
      const listed = d.unknowns.filter((u) => u.startsWith("unknown directive"));
      expect(listed).toEqual([
        `unknown directive \`upload_progress\` at ${at("nginx/perusio-relative/nginx.conf")}:141: \`nginx -t\` rejects it unless a module this server loads defines it`,
      ]);
    });

    it("nginx's stock nginx.conf: root html under the prefix (-p) decides GET and POST /", () => {
      const prefix = join(tmp, "prefix");
      mkdirSync(join(prefix, "html"), { recursive: true });
      writeFileSync(join(prefix, "html", "index.html"), "welcome\n");
      const config = parseNginxConfig(at("nginx/nginx-dist/conf/nginx.conf"), { nginxPrefix: prefix });
      const get = evaluateNginx(config, { method: "GET", url: "http://localhost/", client: null });
      expect([get.decision, get.status]).toEqual(["allow", 200]);
      const post = evaluateNginx(config, { method: "POST", url: "http://localhost/", client: null });
      expect([post.decision, post.status]).toEqual(["deny", 405]);
    });

    it("Debian's /etc/apache2 parses and refuses TRACE through security.conf's TraceEnable Off", () => {
      const config = parseApacheConfig(at("apache/debian-apache2/apache2.conf"));
      const d = evaluateApache(config, { method: "TRACE", url: "http://localhost/", client: "127.0.0.1" });
      expect([d.decision, d.status, d.decidedBy?.directive, d.decidedBy?.line]).toEqual([
        "deny",
        405,
        "TraceEnable",
        32,
      ]);
    });

    it("h5bp's site layout (ServerRoot filled in) parses and refuses dot-files", () => {
      const text = readFileSync(at("apache/h5bp-apache-site/httpd.conf.in"), "utf8");
      const conf = join(tmp, "h5bp-httpd.conf");
      writeFileSync(conf, text.replaceAll("@HERE@", at("apache/h5bp-apache-site")));
      const config = parseApacheConfig(conf);
      const d = evaluateApache(config, {
        method: "GET",
        url: "http://example.com/.git/config",
        client: "127.0.0.1",
      });
      expect([d.decision, d.status, d.decidedBy?.directive, d.decidedBy?.args]).toEqual([
        "deny",
        403,
        "Require",
        ["all", "denied"],
      ]);
    });

    it("h5bp's httpd.conf as shipped names the include its ServerRoot (/usr/local/apache2) lacks", () => {
      expect(() => parseApacheConfig(at("apache/h5bp-server-configs-apache/httpd.conf"))).toThrow(
        `${at("apache/h5bp-server-configs-apache/httpd.conf")}:98: Include h5bp/security/server_software_information.conf: no such file`,
      );
    });

    it.each([
      "apache/htaccess-wordpress/htdocs/wp/projectwp/.htaccess",
      "apache/htaccess-h5bp-dist/htdocs/.htaccess",
    ])("%s parses as Apache directives", (rel) => {
      expect(parseApacheConfig(at(rel)).nodes.length).toBeGreaterThan(0);
    });
  },
);
