// Basic credentials checked against an htpasswd file, as nginx's
// auth_basic_user_file and Apache's AuthUserFile read it: "user:hash" lines
// (the hash ends at the next ":"), "#" comments, the first line for a user
// wins. Hashes: bcrypt ($2y$/$2a$/$2b$), APR1-MD5 ($apr1$), MD5-crypt ($1$),
// {SHA}. DES crypt, SHA-crypt ($5$/$6$) and anything else stay "unknown":
// no pure-JS implementation is kept here, and guessing would be worse than
// saying so. Nothing secret (password or hash) ever leaves this module.

import { createHash, timingSafeEqual } from "node:crypto";
import { readFileSync, statSync } from "node:fs";
import md5 from "apache-md5";
import bcrypt from "bcryptjs";
import type { ConfigRequest } from "./config-decision.js";

/** A password file larger than this is not read (real ones hold a few hundred lines). */
const MAX_HTPASSWD_BYTES = 4 * 1024 * 1024;
/** bcrypt cost above this is not computed here (each step doubles the work; 2^15 rounds take seconds). */
const MAX_BCRYPT_COST = 14;

export interface BasicCredentials {
  user: string;
  password: string;
}

export type HtpasswdCheck =
  | { kind: "match"; line: number; scheme: string }
  | { kind: "mismatch"; line: number; scheme: string }
  | { kind: "no-user" }
  | { kind: "unknown"; reason: string };

/** The Basic credentials a request carries: its Authorization header, else the URL's user:password@. */
export function basicCredentials(request: ConfigRequest): BasicCredentials | null {
  const header = Object.entries(request.headers ?? {}).find(
    ([k]) => k.toLowerCase() === "authorization",
  )?.[1];
  if (header !== undefined) {
    const m = /^basic\s+([A-Za-z0-9+/=._~-]+)\s*$/i.exec(header);
    if (!m) return null;
    const decoded = Buffer.from(m[1] as string, "base64").toString("utf8");
    const colon = decoded.indexOf(":");
    return colon < 0 ? null : { user: decoded.slice(0, colon), password: decoded.slice(colon + 1) };
  }
  try {
    const url = new URL(request.url);
    if (url.username === "" && url.password === "") return null;
    return { user: decodeURIComponent(url.username), password: decodeURIComponent(url.password) };
  } catch {
    return null;
  }
}

/** Checks one user's password against the file; `shown` is how the file is named in reasons. */
export function checkHtpasswd(path: string, shown: string, creds: BasicCredentials): HtpasswdCheck {
  let text: string;
  try {
    const st = statSync(path);
    if (!st.isFile()) return { kind: "unknown", reason: `${shown} is not a regular file` };
    if (st.size > MAX_HTPASSWD_BYTES) return { kind: "unknown", reason: `${shown} is larger than 4 MiB` };
    text = readFileSync(path, "utf8");
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code ?? "unreadable";
    return {
      kind: "unknown",
      reason: `${shown} cannot be read here (${code}); the server reads its own copy`,
    };
  }
  const lines = text.split("\n");
  for (const [i, raw] of lines.entries()) {
    const line = raw.replace(/\r$/, "");
    if (line.startsWith("#") || line.trim() === "") continue;
    const colon = line.indexOf(":");
    if (colon < 0 || line.slice(0, colon) !== creds.user) continue;
    const hash = line.slice(colon + 1).split(":")[0] ?? "";
    const where = i + 1;
    const v = verify(creds.password, hash);
    if (v.kind === "unknown")
      return { kind: "unknown", reason: `the ${v.scheme} hash at ${shown}:${where} cannot be checked here` };
    return { kind: v.ok ? "match" : "mismatch", line: where, scheme: v.scheme };
  }
  return { kind: "no-user" };
}

type Verified = { kind: "checked"; ok: boolean; scheme: string } | { kind: "unknown"; scheme: string };

function verify(password: string, hash: string): Verified {
  if (/^\$2[aby]\$\d\d\$/.test(hash)) {
    const cost = Number(hash.slice(4, 6));
    if (cost > MAX_BCRYPT_COST) return { kind: "unknown", scheme: `bcrypt (cost ${cost})` };
    // $2y$ is PHP's and htpasswd's name for the same algorithm as $2b$.
    return {
      kind: "checked",
      ok: bcrypt.compareSync(password, hash.replace(/^\$2y\$/, "$2b$")),
      scheme: "bcrypt",
    };
  }
  if (hash.startsWith("$apr1$"))
    return { kind: "checked", ok: same(md5(password, hash), hash), scheme: "APR1-MD5" };
  if (hash.startsWith("$1$"))
    return { kind: "checked", ok: same(md5(password, hash), hash), scheme: "MD5-crypt" };
  if (hash.startsWith("{SHA}")) {
    const digest = `{SHA}${createHash("sha1").update(password, "utf8").digest("base64")}`;
    return { kind: "checked", ok: same(digest, hash), scheme: "{SHA}" };
  }
  if (/^\$[56]\$/.test(hash)) return { kind: "unknown", scheme: "SHA-crypt" };
  if (/^[./0-9A-Za-z]{13}$/.test(hash)) return { kind: "unknown", scheme: "DES crypt" };
  return { kind: "unknown", scheme: "unrecognised" };
}

function same(a: string, b: string): boolean {
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && timingSafeEqual(x, y);
}
