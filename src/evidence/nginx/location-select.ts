// nginx's location search (ngx_http_core_find_location), level by level:
// an exact `=` match ends it; else the longest prefix is remembered and its
// nested locations are searched; unless that prefix is `^~`, the regex
// locations of this level are then tried in config order and the first
// match wins (its own nested locations searched again); else the prefix stays.

import type { Directive } from "./parser.js";
import { pcreToRegExp } from "./regex.js";

export type LocationKind = "exact" | "prefix" | "noregex" | "regex" | "regex-caseless" | "named";

export interface LocationSpec {
  kind: LocationKind;
  pattern: string;
  directive: Directive;
}

export function parseLocation(d: Directive): LocationSpec {
  const [a, b] = d.args;
  if (b !== undefined) {
    const kind: LocationKind =
      a === "="
        ? "exact"
        : a === "^~"
          ? "noregex"
          : a === "~"
            ? "regex"
            : a === "~*"
              ? "regex-caseless"
              : "prefix";
    return { kind, pattern: b, directive: d };
  }
  const p = a ?? "";
  if (p.startsWith("@")) return { kind: "named", pattern: p, directive: d };
  if (p.startsWith("=")) return { kind: "exact", pattern: p.slice(1), directive: d };
  if (p.startsWith("^~")) return { kind: "noregex", pattern: p.slice(2), directive: d };
  if (p.startsWith("~*")) return { kind: "regex-caseless", pattern: p.slice(2), directive: d };
  if (p.startsWith("~")) return { kind: "regex", pattern: p.slice(1), directive: d };
  return { kind: "prefix", pattern: p, directive: d };
}

export interface LocationMatch {
  /** Matched locations, outermost first; empty when none matched (server level answers). */
  chain: LocationSpec[];
  /** Regex patterns that could not be evaluated in JavaScript. */
  unsupported: LocationSpec[];
}

type Rc = "ok" | "again" | "declined";

export function findLocation(serverBlock: Directive[], uri: string): LocationMatch {
  const unsupported: LocationSpec[] = [];
  const search = (block: Directive[], chain: LocationSpec[]): { rc: Rc; chain: LocationSpec[] } => {
    const locs = block.filter((d) => d.directive === "location").map(parseLocation);
    const exact = locs.find((l) => l.kind === "exact" && l.pattern === uri);
    if (exact) return { rc: "ok", chain: [...chain, exact] };
    let best: LocationSpec | null = null;
    for (const l of locs) {
      if ((l.kind === "prefix" || l.kind === "noregex") && uri.startsWith(l.pattern)) {
        if (!best || l.pattern.length > best.pattern.length) best = l;
      }
    }
    let rc: Rc = "declined";
    let current = chain;
    if (best) {
      const nested = search(best.directive.block ?? [], [...chain, best]);
      if (nested.rc === "ok") return nested;
      rc = "again";
      current = nested.chain;
      if (best.kind === "noregex") return { rc, chain: current };
    }
    for (const l of locs) {
      if (l.kind !== "regex" && l.kind !== "regex-caseless") continue;
      const re = pcreToRegExp(l.pattern, l.kind === "regex-caseless");
      if (!re) {
        unsupported.push(l);
        continue;
      }
      if (re.test(uri)) {
        const nested = search(l.directive.block ?? [], [...chain, l]);
        return { rc: "ok", chain: nested.chain };
      }
    }
    return { rc, chain: current };
  };
  return { chain: search(serverBlock, []).chain, unsupported };
}

export function locationLabel(l: LocationSpec): string {
  const mod =
    l.kind === "exact"
      ? "= "
      : l.kind === "noregex"
        ? "^~ "
        : l.kind === "regex"
          ? "~ "
          : l.kind === "regex-caseless"
            ? "~* "
            : "";
  return `location ${mod}${l.pattern}`;
}
