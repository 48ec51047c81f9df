// The permission walk must agree with the kernel: a real tree with real modes
// and ACLs is built, and for every node, user and need the walk's prediction
// is compared with what actually happens when that user tries (runuser).

import { execFileSync, spawnSync } from "node:child_process";
import { chmodSync, chownSync, existsSync, mkdirSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import { InputError } from "../src/errors.js";
import { fsEvidence, lookupUser, walkFsPermissions } from "../src/evidence/fs/index.js";

const RUN = join(import.meta.dirname, "..", ".run", "fs-walk");
const ROOT = join(RUN, "tree");
const canRun = process.getuid?.() === 0 && existsSync("/usr/sbin/runuser") && existsSync("/usr/bin/setfacl");

function truth(user: string, need: string, path: string): boolean {
  const script =
    need === "read"
      ? 'cat -- "$1" >/dev/null'
      : need === "list"
        ? 'ls -- "$1" >/dev/null'
        : need === "traverse"
          ? 'cd -- "$1"'
          : 'test -w "$1"';
  const r = spawnSync("runuser", ["-u", user, "--", "sh", "-c", script, "sh", path], { stdio: "ignore" });
  return r.status === 0;
}

describe.skipIf(!canRun)("file-system permission walk vs the kernel", () => {
  const nodes: Array<{ path: string; dir: boolean }> = [];

  beforeAll(() => {
    rmSync(RUN, { recursive: true, force: true });
    mkdirSync(ROOT, { recursive: true });
    for (const dir of [join(RUN, "..", ".."), join(RUN, ".."), RUN, ROOT]) chmodSync(dir, 0o755);
    const www = lookupUser("www-data");
    const dir = (rel: string, mode: number): string => {
      const p = join(ROOT, rel);
      mkdirSync(p, { recursive: true });
      chmodSync(p, mode);
      nodes.push({ path: p, dir: true });
      return p;
    };
    const file = (rel: string, mode: number): string => {
      const p = join(ROOT, rel);
      writeFileSync(p, "x");
      chmodSync(p, mode);
      nodes.push({ path: p, dir: false });
      return p;
    };
    dir("open", 0o755);
    file("open/file.txt", 0o644);
    file("open/zero.txt", 0o000);
    file("open/exec-only", 0o711);
    dir("closed", 0o700);
    file("closed/inner.txt", 0o644);
    dir("traverse-only", 0o711);
    file("traverse-only/t.txt", 0o644);
    dir("writable", 0o777);
    file("writable/w.txt", 0o666);
    const grp = dir("grp", 0o750);
    chownSync(grp, 0, www.gid);
    const g = file("grp/g.txt", 0o640);
    chownSync(g, 0, www.gid);
    const owned = dir("owned", 0o700);
    chownSync(owned, www.uid, www.gid);
    const o = file("owned/o.txt", 0o600);
    chownSync(o, www.uid, www.gid);
    const acl = dir("acl", 0o700);
    execFileSync("setfacl", ["-m", "u:www-data:rx", acl]);
    const aclFile = file("acl/data.txt", 0o600);
    execFileSync("setfacl", ["-m", "u:www-data:r", aclFile]);
    const masked = file("acl/masked.txt", 0o600);
    execFileSync("setfacl", ["-m", "u:www-data:rw,m::-", masked]);
    // ACLs that refuse what the mode bits allow: a named user entry, a named group
    // entry, and a mask that cuts the owning group's bits.
    const denyDir = dir("acl-deny", 0o755);
    execFileSync("setfacl", ["-m", "u:www-data:---", denyDir]);
    file("acl-deny/inside.txt", 0o644);
    const denyFile = file("open/acl-denied.txt", 0o644);
    execFileSync("setfacl", ["-m", "u:www-data:---", denyFile]);
    const groupDenied = file("open/acl-group-denied.txt", 0o644);
    execFileSync("setfacl", ["-m", `g:${www.gid}:---`, groupDenied]);
    const maskCut = file("grp/mask-cut.txt", 0o644);
    chownSync(maskCut, 0, www.gid);
    execFileSync("setfacl", ["-m", "u:nobody:r,m::-", maskCut]);
    nodes.push({ path: join(ROOT, "open", "missing.txt"), dir: false });
  });

  it("agrees with runuser for every node, user and need", () => {
    const mismatches: string[] = [];
    let denied = 0;
    for (const user of ["root", "www-data", "nobody"]) {
      for (const node of nodes) {
        const needs = node.dir ? (["traverse", "list", "write"] as const) : (["read", "write"] as const);
        for (const need of needs) {
          const predicted = walkFsPermissions(node.path, { user, need });
          const real = truth(user, need, node.path);
          if (predicted.deniedAt) denied++;
          if ((predicted.deniedAt === null) !== real) {
            mismatches.push(
              `${user} ${need} ${node.path}: kernel ${real ? "allows" : "denies"}, walk ${predicted.deniedAt ? `denies at ${predicted.deniedAt}` : "allows"}`,
            );
          }
        }
      }
    }
    expect(mismatches).toEqual([]);
    expect(denied).toBeGreaterThan(10);
  });

  it("names the first denying component and a fix", () => {
    const r = walkFsPermissions(join(ROOT, "closed", "inner.txt"), { user: "www-data", need: "read" });
    expect(r.deniedAt).toBe(join(ROOT, "closed"));
    expect(r.components.find((c) => c.path === r.deniedAt)?.mode).toBe("drwx------");
    expect(r.fix).toContain(`chmod o+x ${join(ROOT, "closed")}`);
    expect(r.fix.some((f) => f.startsWith("setfacl -m u:www-data:"))).toBe(true);
    const ev = fsEvidence(r);
    expect(ev[0]?.weights["fs-permission"]).toBeGreaterThanOrEqual(3);
  });

  it("sees an ACL that grants what the mode bits refuse", () => {
    const r = walkFsPermissions(join(ROOT, "acl", "data.txt"), { user: "www-data", need: "read" });
    expect(r.deniedAt).toBeNull();
    expect(r.components.some((c) => c.reason.includes("ACL"))).toBe(true);
    const nobody = walkFsPermissions(join(ROOT, "acl", "data.txt"), { user: "nobody", need: "read" });
    expect(nobody.deniedAt).toBe(join(ROOT, "acl"));
  });

  it("sees an ACL entry that refuses what the mode bits allow, and fixes it in the ACL", () => {
    const r = walkFsPermissions(join(ROOT, "open", "acl-denied.txt"), { user: "www-data", need: "read" });
    expect(r.deniedAt).toBe(join(ROOT, "open", "acl-denied.txt"));
    expect(r.components.at(-1)?.reason).toContain("ACL refuses r (user:www-data:---)");
    expect(r.fix).toEqual([`setfacl -m u:www-data:r ${join(ROOT, "open", "acl-denied.txt")}`]);
    const inside = walkFsPermissions(join(ROOT, "acl-deny", "inside.txt"), {
      user: "www-data",
      need: "read",
    });
    expect(inside.deniedAt).toBe(join(ROOT, "acl-deny"));
    // The same files stay readable for a user the entries do not name.
    expect(
      walkFsPermissions(join(ROOT, "acl-deny", "inside.txt"), { user: "nobody", need: "read" }).deniedAt,
    ).toBeNull();
  });

  it("suggests chown for a write the user cannot make", () => {
    const r = walkFsPermissions(join(ROOT, "open", "file.txt"), { user: "www-data", need: "write" });
    expect(r.fix).toContain(`chown www-data ${join(ROOT, "open", "file.txt")}`);
  });

  it("rejects an unknown user with a one-line InputError", () => {
    expect(() => walkFsPermissions(ROOT, { user: "no-such-user-why403", need: "read" })).toThrow(InputError);
  });
});
