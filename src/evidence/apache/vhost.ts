// <VirtualHost> selection: address and port first (specific IPs before
// wildcards), then ServerName/ServerAlias; the first vhost of the matching set
// is the default. With no matching vhost the main server answers.

import type { ApacheNode, ApacheSection } from "./parser.js";
import { wildcardToRegExp } from "./parser.js";

interface VhostAddress {
  ip: string;
  port: string;
}

function addresses(v: ApacheSection): VhostAddress[] {
  return v.args.map((a) => {
    const m = /^\[([^\]]+)\](?::(\S+))?$/.exec(a) ?? /^([^:]+)(?::(\S+))?$/.exec(a);
    return { ip: (m?.[1] ?? a).toLowerCase(), port: m?.[2] ?? "*" };
  });
}

const isIpLiteral = (h: string): boolean => /^\d+\.\d+\.\d+\.\d+$/.test(h) || h.includes(":");

export function selectVirtualHost(
  nodes: ApacheNode[],
  host: string,
  port: number,
): { vhost: ApacheSection | null; notes: string[] } {
  const vhosts = nodes.filter(
    (n): n is ApacheSection => n.kind === "section" && n.name.toLowerCase() === "virtualhost",
  );
  if (vhosts.length === 0) return { vhost: null, notes: [] };
  const notes: string[] = [];
  const portOk = (a: VhostAddress): boolean => a.port === "*" || a.port === String(port);
  const wildcard = (a: VhostAddress): boolean => a.ip === "*" || a.ip === "_default_";
  const hostIsIp = isIpLiteral(host);
  const specific = vhosts.filter((v) =>
    addresses(v).some((a) => !wildcard(a) && portOk(a) && hostIsIp && a.ip === host.toLowerCase()),
  );
  let set = specific;
  if (set.length === 0) {
    set = vhosts.filter((v) => addresses(v).some((a) => wildcard(a) && portOk(a)));
    const ipBound = vhosts.filter((v) => addresses(v).some((a) => !wildcard(a) && portOk(a)));
    if (!hostIsIp && ipBound.length > 0) {
      notes.push(
        `the server's own address is not known from the URL; <VirtualHost ${ipBound.map((v) => v.args.join(" ")).join(", ")}> may answer instead if the name resolves to that address`,
      );
      if (set.length === 0) set = ipBound;
    }
  }
  if (set.length === 0) return { vhost: null, notes };
  const named = set.find((v) => names(v).some((n) => nameMatches(n, host)));
  if (named) return { vhost: named, notes };
  return { vhost: set[0] as ApacheSection, notes };
}

function names(v: ApacheSection): string[] {
  const out: string[] = [];
  for (const c of v.children) {
    if (c.kind !== "directive") continue;
    const n = c.name.toLowerCase();
    if (n === "servername" && c.args[0])
      out.push(c.args[0].replace(/^[a-z]+:\/\//i, "").replace(/:\d+$/, ""));
    if (n === "serveralias") out.push(...c.args);
  }
  return out;
}

function nameMatches(pattern: string, host: string): boolean {
  const p = pattern.toLowerCase();
  const h = host.toLowerCase();
  if (/[*?]/.test(p)) return wildcardToRegExp(p, false).test(h);
  return p === h;
}
