// The built CLI for the config and curl features of issue 11: --prefix,
// passwords checked but never printed, and curl's own refusals as exit 2.
import { mkdirSync, mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import md5 from "apache-md5";
import { describe, expect, it } from "vitest";
import { isOneLineError, runCli } from "./helpers/cli.js";

const tmp = mkdtempSync(join(tmpdir(), "why403-cli-cc-"));
mkdirSync(join(tmp, "prefix", "html"), { recursive: true });
writeFileSync(join(tmp, "prefix", "html", "index.html"), "hi\n");
writeFileSync(join(tmp, "users"), `alice:${md5("right-pw")}\n`);
const conf = join(tmp, "nginx.conf");
writeFileSync(
  conf,
  `http { server { listen 80; location / { root html; } location /team/ { auth_basic "t"; auth_basic_user_file users; } } }\n`,
);

describe("why403 config and curl, issue 11", () => {
  it("--prefix resolves root html: POST / reaches the index file and gets 405", () => {
    const r = runCli([
      "config",
      "nginx",
      "--conf",
      conf,
      "--prefix",
      join(tmp, "prefix"),
      "--request",
      "POST http://localhost/",
    ]);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain("→ refused (405)");
  });

  it("--prefix is refused for apache with one line", () => {
    const r = runCli([
      "config",
      "apache",
      "--conf",
      conf,
      "--prefix",
      tmp,
      "--request",
      "GET http://localhost/",
    ]);
    expect([r.code, isOneLineError(r)]).toEqual([2, true]);
    expect(r.stderr).toContain("--prefix is nginx's -p");
  });

  it("a wrong password is refused with 401 naming file and line, and never printed", () => {
    const r = runCli([
      "config",
      "nginx",
      "--conf",
      conf,
      "--request",
      "GET http://alice:wr0ng-s3cret@localhost/team/",
      "--json",
    ]);
    expect(r.code).toBe(0);
    const d = JSON.parse(r.stdout);
    expect([d.decision, d.status]).toEqual(["deny", 401]);
    expect(d.fix[0]).toContain('user "alice" does not match its APR1-MD5 hash at users:1');
    expect(r.stdout + r.stderr).not.toContain("wr0ng-s3cret");
    const ok = runCli([
      "config",
      "nginx",
      "--conf",
      conf,
      "--request",
      "GET http://alice:right-pw@localhost/team/",
    ]);
    expect([ok.code, ok.stdout.includes("→ allowed")]).toEqual([0, true]);
  });

  it.each([
    [["curl", "curl --s http://127.0.0.1:9/"], "curl refuses this line: option --s: is ambiguous"],
    [
      ["curl", "http://127.0.0.1:9/", "-T", conf, "-d", "a=1"],
      "curl refuses this line: You can only select one HTTP request method! You asked for both PUT (-T, --upload-file) and POST (-d, --data).",
    ],
    [
      ["curl", "http://127.0.0.1:9/", "-H", "X-Key: s3cret\nEvil: 1"],
      "the X-Key header has a raw line break in its value",
    ],
  ])("why403 %j is refused before any request with curl's reason", (args, message) => {
    const r = runCli(args);
    expect([r.code, isOneLineError(r)]).toEqual([2, true]);
    expect(r.stderr).toContain(message);
    expect(r.stderr).not.toContain("s3cret");
  });
});
