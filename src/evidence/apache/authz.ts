// Authorization as httpd 2.4 computes it: mod_authz_core's Require tree
// (granted / denied / denied-no-user / neutral, with RequireAll/Any/None and
// negation), mod_access_compat's Order/Allow/Deny, and SetEnvIf for `env`.

import {
  type AccessCompat,
  type AllowDeny,
  type AuthzContainer,
  type AuthzNode,
  type AuthzProvider,
  methodNumber,
  type SetEnvIfDef,
} from "./dirconf/types.js";
import { evalRequireExpr } from "./expr.js";
import { ipMatches, looksLikeIpSpec } from "./oracle.js";
import { toRegExp } from "./pcre.js";
import { headerValue, type RequestRec } from "./request-rec.js";

export type AuthzStatus = "granted" | "denied" | "denied-no-user" | "neutral";

export interface AuthzResult {
  status: AuthzStatus;
  /** The Require line (or container) that made the result. */
  blame: AuthzNode | null;
}

function provider(p: AuthzProvider, req: RequestRec, user: string | null): AuthzStatus {
  const o = req.oracle;
  const where = `${p.ref.file}:${p.ref.line}`;
  switch (p.provider) {
    case "all":
      return (p.args[0] ?? "").toLowerCase() === "granted" ? "granted" : "denied";
    case "ip": {
      if (req.client === null) {
        return o.ask(
          `client-in:${p.args.join(" ")}`,
          `whether the client address is in ${p.args.join(" ")} (Require ip at ${where}); give --client`,
        )
          ? "granted"
          : "denied";
      }
      const client = req.client;
      return p.args.some((a) => ipMatches(client, a)) ? "granted" : "denied";
    }
    case "local": {
      if (req.client === null)
        return o.ask("client-local", "whether the client connects from the server itself (Require local)")
          ? "granted"
          : "denied";
      return ipMatches(req.client, "127.0.0.0/8") || ipMatches(req.client, "::1") ? "granted" : "denied";
    }
    case "host":
    case "forward-dns":
      return o.ask(
        `host:${p.args.join(" ")}`,
        `whether the client's DNS name is in ${p.args.join(" ")} (Require ${p.provider} at ${where} needs DNS)`,
      )
        ? "granted"
        : "denied";
    case "method": {
      const m = methodNumber(req.method);
      return p.args.some((a) => methodNumber(a) === m) ? "granted" : "denied";
    }
    case "env":
      return p.args.some((a) => req.env.has(a)) ? "granted" : "denied";
    case "valid-user":
      return user === null ? "denied-no-user" : "granted";
    case "user":
      if (user === null) return "denied-no-user";
      return p.args.includes(user) ? "granted" : "denied";
    case "expr": {
      const r = evalRequireExpr(p.rawArgs, req, user);
      let v = r.value;
      if (v === undefined)
        v = o.ask(
          `expr:${where}`,
          `whether Require expr ${p.args.join(" ")} at ${where} holds for this request`,
        );
      if (v) return "granted";
      return r.wantsUser && user === null ? "denied-no-user" : "denied";
    }
    default:
      // group, file-owner, ldap-*, dbm-group ...: all need the user first.
      if (user === null) return "denied-no-user";
      return o.ask(
        `authz:${where}:${user}`,
        `whether user ${user} passes Require ${p.provider} ${p.args.join(" ")} at ${where}`,
      )
        ? "granted"
        : "denied";
  }
}

/** httpd's apply_authz_sections, with the line to blame carried along. */
export function applyAuthz(
  node: AuthzNode,
  parentOp: "and" | "or",
  req: RequestRec,
  user: string | null,
): AuthzResult {
  if (!node.limited(req.method)) return { status: parentOp === "and" ? "granted" : "neutral", blame: null };
  let result: AuthzResult;
  if (node.kind === "provider") {
    result = { status: provider(node, req, user), blame: node };
  } else {
    result = { status: "neutral", blame: node };
    for (const child of (node as AuthzContainer).children) {
      const r = applyAuthz(child, node.op, req, user);
      if (r.status === "neutral") continue;
      if (node.op === "and") {
        if (r.status === "denied") {
          result = r;
          break;
        }
        if ((r.status === "denied-no-user" && result.status !== "denied") || result.status === "neutral")
          result = r;
      } else {
        if (r.status === "granted") {
          result = r;
          break;
        }
        if ((r.status === "denied-no-user" && result.status === "denied") || result.status === "neutral")
          result = r;
      }
    }
  }
  if (node.negate) {
    if (result.status === "granted") return { status: "denied", blame: node };
    if (result.status === "denied" || result.status === "denied-no-user")
      return { status: "neutral", blame: node };
  }
  return result;
}

function lastFor<T extends { limited: (m: string) => boolean }>(list: T[], method: string): T | undefined {
  let found: T | undefined;
  for (const e of list) if (e.limited(method)) found = e;
  return found;
}

export function satisfyOf(access: AccessCompat | undefined, method: string): "any" | "all" | "nospec" {
  const s = access ? lastFor(access.satisfy, method) : undefined;
  return s ? (s.value === "any" ? "any" : "all") : "nospec";
}

export interface AccessResult {
  ok: boolean;
  /** The Allow/Deny/Order line that decided. */
  by: AllowDeny | (AccessCompat["orders"][number] & { from?: undefined }) | null;
}

/** mod_access_compat's check_dir_access. */
export function checkAccessCompat(access: AccessCompat | undefined, req: RequestRec): AccessResult {
  if (!access) return { ok: true, by: null };
  const m = req.method;
  const orderEntry = lastFor(access.orders, m);
  const order = orderEntry?.value ?? "deny,allow";
  const find = (list: AllowDeny[]): AllowDeny | null => {
    for (const e of list) {
      if (!e.limited(m)) continue;
      if (allowDenyMatches(e, req)) return e;
    }
    return null;
  };
  const allow = find(access.allows);
  const deny = find(access.denys);
  if (order === "allow,deny") {
    if (deny) return { ok: false, by: deny };
    if (allow) return { ok: true, by: allow };
    return { ok: false, by: orderEntry ?? null };
  }
  if (order === "mutual-failure") {
    if (allow && !deny) return { ok: true, by: allow };
    return { ok: false, by: deny ?? orderEntry ?? null };
  }
  if (allow) return { ok: true, by: allow };
  if (deny) return { ok: false, by: deny };
  return { ok: true, by: null };
}

function allowDenyMatches(e: AllowDeny, req: RequestRec): boolean {
  const from = e.from;
  const where = `${e.ref.file}:${e.ref.line}`;
  if (from.toLowerCase() === "all") return true;
  if (from.toLowerCase().startsWith("env=")) {
    const name = from.slice(4);
    return name.startsWith("!") ? !req.env.has(name.slice(1)) : req.env.has(name);
  }
  if (looksLikeIpSpec(from)) {
    if (req.client === null)
      return req.oracle.ask(
        `client-in:${from}`,
        `whether the client address is in ${from} (${e.ref.directive} from at ${where}); give --client`,
      );
    return ipMatches(req.client, from);
  }
  return req.oracle.ask(
    `host:${from}`,
    `whether the client's DNS name ends in ${from} (${e.ref.directive} from at ${where} needs DNS)`,
  );
}

/** Runs SetEnvIf/BrowserMatch lines in order and fills `req.env`. */
export function runSetEnvIf(list: SetEnvIfDef[], req: RequestRec): void {
  for (const s of list) {
    const attr = s.attribute.toLowerCase();
    let value: string | undefined;
    let present = true;
    if (attr === "remote_addr") value = req.client ?? undefined;
    else if (attr === "request_method") value = req.method;
    else if (attr === "request_uri") value = req.path;
    else if (attr === "request_protocol") value = "HTTP/1.1";
    else if (attr === "remote_host" || attr === "server_addr") value = undefined;
    else if (req.env.has(s.attribute)) value = req.env.get(s.attribute);
    else {
      value = headerValue(req, s.attribute);
      if (value === "" && req.headers && !(s.attribute.toLowerCase() in req.headers)) present = false;
    }
    if (!present) continue;
    const re = toRegExp(s.pattern, s.noCase);
    let hit: boolean;
    if (value === undefined || re === null) {
      hit = req.oracle.ask(
        `setenvif:${s.ref.file}:${s.ref.line}`,
        `whether ${s.ref.directive} ${s.attribute} ${s.pattern} at ${s.ref.file}:${s.ref.line} matches (the request does not tell ${s.attribute})`,
      );
    } else hit = re.test(value);
    if (!hit) continue;
    for (const a of s.assignments) {
      if (a.startsWith("!")) req.env.delete(a.slice(1));
      else {
        const eq = a.indexOf("=");
        if (eq < 0) req.env.set(a, "1");
        else req.env.set(a.slice(0, eq), a.slice(eq + 1));
      }
    }
  }
}
