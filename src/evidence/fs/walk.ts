// The file-system permission walk: may a given user (the web server's worker)
// traverse every directory from / to a target and read, write or list it?
// The effective POSIX ACL (getfacl) decides for every component that has one,
// whether its mode bits would allow or refuse; plain mode bits decide the rest;
// SELinux/AppArmor are only mentioned, since their policy is not read here.

import { spawnSync } from "node:child_process";
import { existsSync, readdirSync, readFileSync, statSync } from "node:fs";
import { resolve } from "node:path";
import { InputError } from "../../errors.js";
import type { Evidence } from "../../model.js";

export type FsNeed = "read" | "write" | "traverse" | "list";

export interface FsUser {
  name: string;
  uid: number;
  gid: number;
  groups: number[];
}

export interface FsComponent {
  path: string;
  uid: number | null;
  gid: number | null;
  mode: string | null;
  ok: boolean;
  reason: string;
}

export interface FsWalkResult {
  target: string;
  need: FsNeed;
  user: FsUser;
  components: FsComponent[];
  deniedAt: string | null;
  fix: string[];
  mac: string[];
}

export interface FsWalkOptions {
  user: string;
  need: FsNeed;
  /** Files read for users and groups (tests may point elsewhere). */
  passwdFile?: string;
  groupFile?: string;
}

export function lookupUser(name: string, passwdFile = "/etc/passwd", groupFile = "/etc/group"): FsUser {
  const passwd = readFileSync(passwdFile, "utf8").split("\n");
  const entry = passwd
    .map((l) => l.split(":"))
    .find((f) => f[0] === name || (/^\d+$/.test(name) && f[2] === name));
  if (!entry) throw new InputError(`unknown user: ${name} (not in ${passwdFile})`);
  const user = entry[0] as string;
  const uid = Number(entry[2]);
  const gid = Number(entry[3]);
  const groups = new Set<number>([gid]);
  for (const line of readFileSync(groupFile, "utf8").split("\n")) {
    const f = line.split(":");
    if (f.length < 4) continue;
    if ((f[3] ?? "").split(",").includes(user)) groups.add(Number(f[2]));
  }
  return { name: user, uid, gid, groups: [...groups] };
}

export function modeString(mode: number, isDir: boolean): string {
  const bits = "rwxrwxrwx";
  let s = isDir ? "d" : "-";
  for (let i = 0; i < 9; i++) s += mode & (1 << (8 - i)) ? bits[i] : "-";
  return s;
}

type Perm = "r" | "w" | "x";
const BIT: Record<Perm, number> = { r: 4, w: 2, x: 1 };

/** Classic mode-bit check (owner class, else group class, else other). */
function modeAllows(
  user: FsUser,
  st: { uid: number; gid: number; mode: number; isDir: boolean },
  perm: Perm,
): boolean {
  if (user.uid === 0) {
    // root bypasses r and w; x on a file still needs one x bit.
    if (perm !== "x" || st.isDir) return true;
    return (st.mode & 0o111) !== 0;
  }
  let shift: number;
  if (st.uid === user.uid) shift = 6;
  else if (user.groups.includes(st.gid)) shift = 3;
  else shift = 0;
  return ((st.mode >> shift) & BIT[perm]) !== 0;
}

interface AclEntry {
  tag: "user" | "group" | "mask" | "other";
  qualifier: string;
  perms: string;
}

function getfaclAvailable(): boolean {
  return existsSync("/usr/bin/getfacl") || existsSync("/bin/getfacl");
}

/**
 * The access ACLs of every path, read with one getfacl call (blocks start with
 * `# file: <path>`). A path getfacl cannot read is missing from the map.
 */
function readAcls(paths: string[]): Map<string, AclEntry[]> {
  const acls = new Map<string, AclEntry[]>();
  if (!getfaclAvailable() || paths.length === 0) return acls;
  const run = spawnSync("getfacl", ["-p", "--absolute-names", "-n", "--", ...paths], {
    encoding: "utf8",
    stdio: ["ignore", "pipe", "ignore"],
    timeout: 5000,
  });
  let current: AclEntry[] | null = null;
  for (const raw of (run.stdout ?? "").split("\n")) {
    const file = /^# file: (.*)$/.exec(raw);
    if (file) {
      current = [];
      acls.set(file[1]!, current);
      continue;
    }
    const line = raw.split("#")[0]?.trim() ?? "";
    if (!current || !line || line.startsWith("default:")) continue;
    const [tag, qualifier, perms] = line.split(":");
    if (tag === "user" || tag === "group" || tag === "mask" || tag === "other")
      current.push({ tag, qualifier: qualifier ?? "", perms: perms ?? "" });
  }
  return acls;
}

/** POSIX.1e ACL check; null when the entry has no extended ACL. */
function aclAllows(
  user: FsUser,
  st: { uid: number; gid: number },
  acl: AclEntry[],
  perm: Perm,
): { ok: boolean; entry: string } | null {
  const extended = acl.some((e) => (e.tag === "user" || e.tag === "group") && e.qualifier !== "");
  if (!extended) return null;
  const mask = acl.find((e) => e.tag === "mask")?.perms ?? "rwx";
  const has = (perms: string): boolean => perms.includes(perm);
  if (user.uid === st.uid) {
    const e = acl.find((x) => x.tag === "user" && x.qualifier === "");
    return { ok: has(e?.perms ?? ""), entry: "user::" };
  }
  const named = acl.find((x) => x.tag === "user" && x.qualifier === String(user.uid));
  if (named) return { ok: has(named.perms) && has(mask), entry: `user:${user.name}:${named.perms}` };
  const groupEntries = acl.filter(
    (x) =>
      x.tag === "group" &&
      (x.qualifier === "" ? user.groups.includes(st.gid) : user.groups.includes(Number(x.qualifier))),
  );
  if (groupEntries.length > 0) {
    const granting = groupEntries.find((g) => has(g.perms) && has(mask));
    return {
      ok: !!granting,
      entry: granting ? `group:${granting.qualifier}:${granting.perms}` : "group entries",
    };
  }
  const other = acl.find((x) => x.tag === "other");
  return { ok: has(other?.perms ?? ""), entry: "other::" };
}

export function walkFsPermissions(target: string, options: FsWalkOptions): FsWalkResult {
  const user = lookupUser(options.user, options.passwdFile, options.groupFile);
  const abs = resolve(target);
  const parts = abs.split("/").filter((p) => p !== "");
  const paths = ["/", ...parts.map((_, i) => `/${parts.slice(0, i + 1).join("/")}`)];
  const components: FsComponent[] = [];
  const fix: string[] = [];
  let deniedAt: string | null = null;
  // root's access is not limited by ACL entries; for anyone else every component's ACL counts.
  const acls = user.uid === 0 ? new Map<string, AclEntry[]>() : readAcls(paths.filter((p) => existsSync(p)));

  for (const [i, path] of paths.entries()) {
    const isTarget = i === paths.length - 1;
    let st: ReturnType<typeof statSync>;
    try {
      st = statSync(path);
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code ?? "error";
      components.push({
        path,
        uid: null,
        gid: null,
        mode: null,
        ok: false,
        reason: code === "ENOENT" ? "does not exist" : `cannot stat (${code})`,
      });
      deniedAt = path;
      if (code === "ENOENT") fix.push(`create ${path} (it does not exist)`);
      break;
    }
    const info = { uid: st.uid, gid: st.gid, mode: st.mode & 0o777, isDir: st.isDirectory() };
    const mode = modeString(st.mode, info.isDir);
    const needs: Perm[] = [];
    if (!isTarget) {
      if (!info.isDir) {
        components.push({ path, uid: st.uid, gid: st.gid, mode, ok: false, reason: "not a directory" });
        deniedAt = path;
        break;
      }
      needs.push("x");
    } else if (options.need === "traverse") needs.push("x");
    else if (options.need === "list") needs.push("r", "x");
    else if (options.need === "read") needs.push("r");
    else needs.push("w");
    const missing: Perm[] = [];
    const aclNotes: string[] = [];
    const acl = acls.get(path);
    let refusingAcl: string | null = null;
    for (const p of needs) {
      // With an extended ACL the kernel decides by the ACL alone (the mode's group
      // bits are then its mask), so a named entry can refuse what the bits allow.
      const viaAcl = acl ? aclAllows(user, info, acl, p) : null;
      if (viaAcl) {
        const byMode = modeAllows(user, info, p);
        if (viaAcl.ok) {
          if (!byMode) aclNotes.push(`${p} granted by ACL ${viaAcl.entry}`);
          continue;
        }
        aclNotes.push(`ACL refuses ${p} (${viaAcl.entry})`);
        if (byMode || viaAcl.entry.startsWith("user:")) refusingAcl = viaAcl.entry;
        missing.push(p);
        continue;
      }
      if (!modeAllows(user, info, p)) missing.push(p);
    }
    const role = user.uid === st.uid ? "owner" : user.groups.includes(st.gid) ? "group" : "other";
    if (missing.length === 0) {
      components.push({
        path,
        uid: st.uid,
        gid: st.gid,
        mode,
        ok: true,
        reason: aclNotes.length ? aclNotes.join("; ") : `${needs.join("")} as ${role}`,
      });
      continue;
    }
    const what = missing
      .map((m) =>
        m === "x" ? (info.isDir ? "traverse (x)" : "execute (x)") : m === "r" ? "read (r)" : "write (w)",
      )
      .join(" and ");
    components.push({
      path,
      uid: st.uid,
      gid: st.gid,
      mode,
      ok: false,
      reason: `${user.name} (${role}) lacks ${what}${aclNotes.length ? `; ${aclNotes.join("; ")}` : ""}`,
    });
    deniedAt = path;
    const perms = missing.join("");
    const cls = role === "owner" ? "u" : role === "group" ? "g" : "o";
    // An ACL entry that refuses is fixed in the ACL: chmod would not change it.
    if (!refusingAcl) fix.push(`chmod ${cls}+${perms} ${path}`);
    if (options.need === "write" && isTarget) fix.push(`chown ${user.name} ${path}`);
    fix.push(`setfacl -m u:${user.name}:${aclPerms(missing, needs)} ${path}`);
    // A named entry only grants what the mask lets through.
    const mask = acl?.find((e) => e.tag === "mask")?.perms;
    if (acl && mask !== undefined && missing.some((m) => !mask.includes(m)))
      fix.push(`setfacl -m m::${aclPerms(missing, needs)} ${path}`);
    break;
  }
  return { target: abs, need: options.need, user, components, deniedAt, fix, mac: macNotes(abs) };
}

function aclPerms(missing: Perm[], needs: Perm[]): string {
  const set = new Set<Perm>([...needs, ...missing]);
  if (set.has("x") && !set.has("r") && needs.length === 1) set.add("r");
  return (["r", "w", "x"] as Perm[]).filter((p) => set.has(p)).join("");
}

function readTrim(path: string): string | null {
  try {
    return readFileSync(path, "utf8").trim();
  } catch {
    return null;
  }
}

/** SELinux enforcing or AppArmor with a web-server profile: the walk above cannot see their refusals. */
export function macNotes(target: string): string[] {
  const notes: string[] = [];
  if (readTrim("/sys/fs/selinux/enforce") === "1") {
    notes.push(
      `SELinux is enforcing: check the file context with \`ls -Z ${target}\` (httpd needs httpd_sys_content_t; fix with \`restorecon -Rv ${target}\` or \`semanage fcontext\`)`,
    );
  }
  if (readTrim("/sys/module/apparmor/parameters/enabled") === "Y") {
    let profiles: string[] = [];
    try {
      profiles = readdirSync("/etc/apparmor.d").filter((f) => /apache2|httpd|nginx|php-fpm/.test(f));
    } catch {
      profiles = [];
    }
    if (profiles.length > 0) {
      notes.push(
        `AppArmor is enabled with a web-server profile (${profiles.join(", ")} in /etc/apparmor.d): a denial shows as apparmor="DENIED" in the kernel log`,
      );
    }
  }
  return notes;
}

export function fsEvidence(result: FsWalkResult): Evidence[] {
  const source = `fs:${result.target}`;
  if (result.deniedAt) {
    const c = result.components.find((x) => x.path === result.deniedAt);
    return [
      {
        source,
        fact: `${result.user.name} cannot ${result.need} ${result.target}: ${result.deniedAt} ${c?.mode ? `(${c.mode}) ` : ""}refuses it (${c?.reason ?? "denied"})`,
        weights: { "fs-permission": 5 },
        data: {
          deniedAt: result.deniedAt,
          fsPath: result.deniedAt,
          user: result.user.name,
          fix: result.fix,
          mac: result.mac,
        },
      },
    ];
  }
  const out: Evidence[] = [
    {
      source,
      fact: `${result.user.name} may ${result.need} ${result.target} by its modes and ACLs`,
      weights: { "fs-permission": result.mac.length > 0 ? -1 : -3 },
      data: { mac: result.mac },
    },
  ];
  for (const m of result.mac) out.push({ source: "mac", fact: m, weights: { "fs-permission": 1 } });
  return out;
}
