// The access module (allow/deny): rules run in order, the first one that
// matches the client's address decides; no match lets the request through.
// An IPv4-mapped IPv6 client is checked against the IPv4 rules, as nginx does.

import ipaddr from "ipaddr.js";
import type { Directive } from "./parser.js";

export type AccessVerdict =
  | { kind: "allow" | "deny"; rule: Directive }
  | { kind: "no-match" }
  | { kind: "unknown"; reason: string };

type Addr = ipaddr.IPv4 | ipaddr.IPv6;

function parseRule(arg: string): { all: true } | { net: [Addr, number] } | null {
  if (arg === "all") return { all: true };
  if (arg.startsWith("unix:")) return null;
  try {
    if (arg.includes("/")) {
      const [addr, bits] = ipaddr.parseCIDR(arg);
      return { net: [addr.kind() === "ipv6" ? (addr as ipaddr.IPv6) : addr, bits] };
    }
    const addr = ipaddr.parse(arg);
    return { net: [addr, addr.kind() === "ipv4" ? 32 : 128] };
  } catch {
    return null;
  }
}

export function clientAddress(client: string): Addr | null {
  try {
    return ipaddr.process(client.replace(/^\[|\]$/g, ""));
  } catch {
    return null;
  }
}

export function evalAllowDeny(rules: Directive[], client: string | null): AccessVerdict {
  if (rules.length === 0) return { kind: "no-match" };
  const addr = client === null ? null : clientAddress(client);
  for (const rule of rules) {
    const parsed = parseRule(rule.args[0] ?? "");
    if (!parsed) continue;
    if ("all" in parsed) return { kind: rule.directive === "allow" ? "allow" : "deny", rule };
    if (!addr) {
      return {
        kind: "unknown",
        reason:
          client === null
            ? `\`${rule.directive} ${rule.args[0]}\` at ${rule.file}:${rule.line} needs the client address (give --client)`
            : `the client address "${client}" is not an IP address`,
      };
    }
    const [net, bits] = parsed.net;
    if (net.kind() !== addr.kind()) continue;
    if (addr.match(net, bits)) return { kind: rule.directive === "allow" ? "allow" : "deny", rule };
  }
  return { kind: "no-match" };
}
