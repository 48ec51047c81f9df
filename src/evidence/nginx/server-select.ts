// Picks the server block nginx would use: first by the listening socket
// (address:port), then by server_name (exact, longest leading wildcard,
// longest trailing wildcard, first matching regex), else the default server
// of that socket (marked default_server, or the first one defined).

import ipaddr from "ipaddr.js";
import type { Directive } from "./parser.js";
import { pcreToRegExp } from "./regex.js";

export interface ListenSpec {
  /** "*" for any IPv4 address, "[::]" for any IPv6 address, else the normalised address. */
  address: string;
  port: number;
  defaultServer: boolean;
  directive: Directive | null;
}

export function parseListen(d: Directive): ListenSpec | null {
  const first = d.args[0] ?? "";
  if (first.startsWith("unix:")) return null;
  const defaultServer = d.args.slice(1).some((a) => a === "default_server" || a === "default");
  let address = "*";
  let port = 80;
  const v6 = /^\[([^\]]*)\](?::(\d+))?$/.exec(first);
  if (v6) {
    const a = v6[1] as string;
    address = a === "::" ? "[::]" : normalizeAddress(a);
    if (v6[2]) port = Number(v6[2]);
  } else if (/^\d+$/.test(first)) {
    port = Number(first);
  } else {
    const colon = first.lastIndexOf(":");
    const host = colon >= 0 ? first.slice(0, colon) : first;
    if (colon >= 0) port = Number(first.slice(colon + 1));
    address =
      host === "*" || host === "0.0.0.0" ? "*" : host === "localhost" ? "127.0.0.1" : normalizeAddress(host);
  }
  return { address, port, defaultServer, directive: d };
}

function normalizeAddress(a: string): string {
  try {
    return ipaddr.process(a).toString();
  } catch {
    return a.toLowerCase();
  }
}

export function serverListens(server: Directive): ListenSpec[] {
  const listens = (server.block ?? []).filter((d) => d.directive === "listen");
  if (listens.length === 0) return [{ address: "*", port: 80, defaultServer: false, directive: null }];
  return listens.map(parseListen).filter((l): l is ListenSpec => l !== null);
}

export interface ServerChoice {
  server: Directive;
  /** How it was chosen, for the report. */
  how: string;
  /** The server_name directive that matched, when one did. */
  nameDirective: Directive | null;
}

/**
 * `localAddress` is the address the client connected to when known (the URL
 * host when it is an IP literal), else null.
 */
export function selectServer(
  servers: Directive[],
  port: number,
  localAddress: string | null,
  hostName: string,
): ServerChoice | null {
  const onPort = servers.map((s) => ({ s, listens: serverListens(s).filter((l) => l.port === port) }));
  const group: Array<{ s: Directive; listen: ListenSpec }> = [];
  const local = localAddress ? normalizeAddress(localAddress) : null;
  const isV6 = local ? local.includes(":") : false;
  if (local) {
    for (const { s, listens } of onPort) {
      const l = listens.find((x) => x.address === local);
      if (l) group.push({ s, listen: l });
    }
    if (group.length === 0) {
      const any = isV6 ? "[::]" : "*";
      for (const { s, listens } of onPort) {
        const l = listens.find((x) => x.address === any);
        if (l) group.push({ s, listen: l });
      }
    }
  } else {
    for (const { s, listens } of onPort) {
      const l = listens.find((x) => x.address === "*") ?? listens[0];
      if (l) group.push({ s, listen: l });
    }
  }
  if (group.length === 0) return null;
  const byName = matchServerName(
    group.map((g) => g.s),
    hostName,
  );
  if (byName) return byName;
  const def = group.find((g) => g.listen.defaultServer) ?? group[0];
  if (!def) return null;
  return {
    server: def.s,
    how: def.listen.defaultServer
      ? `no server_name matched "${hostName}"; the default_server for port ${port}`
      : `no server_name matched "${hostName}"; the first server for port ${port}`,
    nameDirective: null,
  };
}

function matchServerName(servers: Directive[], host: string): ServerChoice | null {
  const names: Array<{ s: Directive; d: Directive; name: string }> = [];
  for (const s of servers) {
    for (const d of s.block ?? []) {
      if (d.directive !== "server_name") continue;
      for (const name of d.args) names.push({ s, d, name });
    }
  }
  const pick = (x: { s: Directive; d: Directive; name: string }, kind: string): ServerChoice => ({
    server: x.s,
    how: `server_name ${x.name} (${kind}) matched "${host}"`,
    nameDirective: x.d,
  });
  const exact = names.find(
    (x) => !x.name.startsWith("~") && !x.name.includes("*") && x.name.toLowerCase() === host,
  );
  if (exact) return pick(exact, "exact");
  // ".example.com" is both "example.com" and "*.example.com".
  const dotted = names.find((x) => x.name.startsWith(".") && x.name.slice(1).toLowerCase() === host);
  if (dotted) return pick(dotted, "exact");
  let bestLead: { x: (typeof names)[number]; len: number } | null = null;
  for (const x of names) {
    const n = x.name.toLowerCase();
    const suffix = n.startsWith("*.") ? n.slice(1) : n.startsWith(".") ? n : null;
    if (
      suffix &&
      host.endsWith(suffix) &&
      host.length > suffix.length &&
      (!bestLead || suffix.length > bestLead.len)
    ) {
      bestLead = { x, len: suffix.length };
    }
  }
  if (bestLead) return pick(bestLead.x, "leading wildcard");
  let bestTrail: { x: (typeof names)[number]; len: number } | null = null;
  for (const x of names) {
    const n = x.name.toLowerCase();
    if (!n.endsWith(".*")) continue;
    const prefix = n.slice(0, -1);
    if (
      host.startsWith(prefix) &&
      host.length > prefix.length &&
      (!bestTrail || prefix.length > bestTrail.len)
    ) {
      bestTrail = { x, len: prefix.length };
    }
  }
  if (bestTrail) return pick(bestTrail.x, "trailing wildcard");
  for (const x of names) {
    if (!x.name.startsWith("~")) continue;
    const pattern = x.name.slice(1);
    const re = pcreToRegExp(pattern, /[A-Z]/.test(pattern));
    if (re?.test(host)) return pick(x, "regex");
  }
  return null;
}
