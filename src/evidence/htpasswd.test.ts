import { execFileSync } from "node:child_process";
import { createHash } from "node:crypto";
import { existsSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import md5 from "apache-md5";
import bcrypt from "bcryptjs";
import { afterAll, describe, expect, it } from "vitest";
import { basicCredentials, checkHtpasswd } from "./htpasswd.js";

const dir = mkdtempSync(join(tmpdir(), "why403-htpasswd-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const sha = (pw: string) => `{SHA}${createHash("sha1").update(pw).digest("base64")}`;
const file = join(dir, "users");
writeFileSync(
  file,
  [
    "# team",
    `bc:${bcrypt.hashSync("right-bc", 5).replace(/^\$2b\$/, "$2y$")}`,
    `apr:${md5("right-apr")}`,
    `md5c:${md5("right-md5c", "$1$abcdefgh$")}`,
    `sha:${sha("right-sha")}:a comment`,
    "des:xu9sD5dcPu44g",
    "six:$6$salt$abcdefghijklmnopqrstuvwxyz",
    "huge:$2b$31$abcdefghijklmnopqrstuuabcdefghijklmnopqrstuvwxyz01234",
    "apr:ignored-second-line",
    "",
  ].join("\n"),
);

describe("htpasswd check", () => {
  it.each([
    ["bc", "bcrypt", 2],
    ["apr", "APR1-MD5", 3],
    ["md5c", "MD5-crypt", 4],
    ["sha", "{SHA}", 5],
  ])("%s: the right password matches, a wrong one does not, at its line", (user, scheme, line) => {
    expect(checkHtpasswd(file, "users", { user, password: `right-${user}` })).toEqual({
      kind: "match",
      line,
      scheme,
    });
    expect(checkHtpasswd(file, "users", { user, password: "wrong" })).toEqual({
      kind: "mismatch",
      line,
      scheme,
    });
  });
  it("a user not in the file, and hashes not checked here, say so without the hash", () => {
    expect(checkHtpasswd(file, "users", { user: "nobody", password: "x" })).toEqual({ kind: "no-user" });
    expect(checkHtpasswd(file, "users", { user: "des", password: "pw" })).toEqual({
      kind: "unknown",
      reason: "the DES crypt hash at users:6 cannot be checked here",
    });
    expect(checkHtpasswd(file, "users", { user: "six", password: "pw" }).kind).toBe("unknown");
    expect(checkHtpasswd(file, "users", { user: "huge", password: "pw" })).toEqual({
      kind: "unknown",
      reason: "the bcrypt (cost 31) hash at users:8 cannot be checked here",
    });
    expect(checkHtpasswd(join(dir, "missing"), "missing", { user: "a", password: "b" })).toEqual({
      kind: "unknown",
      reason: "missing cannot be read here (ENOENT); the server reads its own copy",
    });
  });
  it.skipIf(!existsSync("/usr/bin/htpasswd"))("reads the hashes Apache's own htpasswd writes", () => {
    const f = join(dir, "tool");
    execFileSync("/usr/bin/htpasswd", ["-cbB", "-C", "5", f, "b", "pw-b"], { stdio: "pipe" });
    execFileSync("/usr/bin/htpasswd", ["-bm", f, "m", "pw-m"], { stdio: "pipe" });
    execFileSync("/usr/bin/htpasswd", ["-bs", f, "s", "pw-s"], { stdio: "pipe" });
    for (const u of ["b", "m", "s"]) {
      expect(checkHtpasswd(f, "tool", { user: u, password: `pw-${u}` }).kind).toBe("match");
      expect(checkHtpasswd(f, "tool", { user: u, password: "nope" }).kind).toBe("mismatch");
    }
  });
  it("credentials come from Authorization: Basic, else from the URL's userinfo", () => {
    const b64 = Buffer.from("al:p:w").toString("base64");
    expect(
      basicCredentials({
        method: "GET",
        url: "http://h/",
        client: null,
        headers: { authorization: `Basic ${b64}` },
      }),
    ).toEqual({ user: "al", password: "p:w" });
    expect(basicCredentials({ method: "GET", url: "http://al%40x:p%20w@h/", client: null })).toEqual({
      user: "al@x",
      password: "p w",
    });
    expect(
      basicCredentials({
        method: "GET",
        url: "http://h/",
        client: null,
        headers: { authorization: "Bearer x" },
      }),
    ).toBeNull();
  });
});
