// The geo module: a variable whose value depends on an address ($remote_addr
// unless the block names another variable). Networks match longest prefix
// first; with `ranges`, `a-b value` ranges are checked instead; `default` (or
// the empty string) otherwise. `delete` removes a network added before it.

import ipaddr from "ipaddr.js";
import { clientAddress } from "./access.js";
import type { Directive } from "./parser.js";

type Addr = ipaddr.IPv4 | ipaddr.IPv6;

/** Directives of a geo block that are settings, not networks. */
const GEO_SETTINGS = new Set(["ranges", "proxy", "proxy_recursive", "include"]);

export interface GeoResult {
  value: string | undefined;
  missing?: string;
}

function toNumber(a: Addr): bigint {
  return a.toByteArray().reduce((n, b) => (n << 8n) | BigInt(b), 0n);
}

/** Evaluates one geo block for an address given as text (null: unknown). */
export function evalGeo(geo: Directive, address: string | null, sourceName: string): GeoResult {
  const where = `${geo.file}:${geo.line}`;
  if (address === null) {
    return {
      value: undefined,
      missing: `the geo on ${sourceName} at ${where} needs ${sourceName === "$remote_addr" ? "the client address (give --client)" : `the value of ${sourceName}`}`,
    };
  }
  // nginx looks up 255.255.255.255 for a value that is not an address.
  const addr = clientAddress(address.trim()) ?? ipaddr.parse("255.255.255.255");
  const entries = geo.block ?? [];
  const ranges = entries.some((e) => e.directive === "ranges");
  let fallback = "";
  let best: { bits: number; value: string } | null = null;
  let rangeHit: string | null = null;
  const deleted: Array<[Addr, number]> = [];
  for (const e of entries) {
    if (GEO_SETTINGS.has(e.directive)) continue;
    const value = e.args[0] ?? "";
    if (e.directive === "default") {
      fallback = value;
      continue;
    }
    if (e.directive === "delete") {
      const net = parseNet(value);
      if (net) deleted.push(net);
      continue;
    }
    if (ranges) {
      const dash = e.directive.indexOf("-");
      if (dash < 0) continue;
      try {
        const lo = ipaddr.parse(e.directive.slice(0, dash));
        const hi = ipaddr.parse(e.directive.slice(dash + 1));
        if (lo.kind() !== addr.kind() || hi.kind() !== addr.kind()) continue;
        const n = toNumber(addr);
        // Later ranges overwrite earlier ones where they overlap.
        if (n >= toNumber(lo) && n <= toNumber(hi)) rangeHit = value;
      } catch {
        // not a range: ignore, as nginx -t would have refused it
      }
      continue;
    }
    const net = parseNet(e.directive);
    if (!net || net[0].kind() !== addr.kind() || !addr.match(net[0], net[1])) continue;
    // A later entry for the same network replaces an earlier one (nginx warns about the duplicate).
    if (!best || net[1] >= best.bits) best = { bits: net[1], value };
  }
  if (ranges) return { value: rangeHit ?? fallback };
  if (best && deleted.some(([n, bits]) => bits === best?.bits && addr.match(n, bits))) best = null;
  return { value: best ? best.value : fallback };
}

function parseNet(text: string): [Addr, number] | null {
  try {
    if (text.includes("/")) {
      const [a, bits] = ipaddr.parseCIDR(text);
      return [a, bits];
    }
    const a = ipaddr.parse(text);
    return [a, a.kind() === "ipv4" ? 32 : 128];
  } catch {
    return null;
  }
}
