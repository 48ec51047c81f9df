// Facts the config alone cannot settle (client address not given, DNS, a
// header not supplied, a password) are asked of an oracle. The evaluator runs
// once per combination of answers; when every run agrees, the answer is known.

import ipaddr from "ipaddr.js";

export class Oracle {
  readonly asked = new Map<string, string>();
  constructor(private readonly answers: ReadonlyMap<string, boolean>) {}

  /** An unknown yes/no fact: `key` identifies it across runs, `question` is for people. */
  ask(key: string, question: string): boolean {
    if (!this.asked.has(key)) this.asked.set(key, question);
    return this.answers.get(key) ?? false;
  }
}

/** Runs `evaluate` for each combination of the facts it asks about (at most `maxRuns` runs). */
export function explore<T>(
  evaluate: (oracle: Oracle) => T,
  maxRuns = 256,
): {
  results: Array<{ result: T; answers: Map<string, boolean> }>;
  questions: Map<string, string>;
  complete: boolean;
} {
  const results: Array<{ result: T; answers: Map<string, boolean> }> = [];
  const questions = new Map<string, string>();
  const stack: Array<Map<string, boolean>> = [new Map()];
  let runs = 0;
  while (stack.length > 0) {
    if (runs >= maxRuns) return { results, questions, complete: false };
    const answers = stack.pop() as Map<string, boolean>;
    const oracle = new Oracle(answers);
    const result = evaluate(oracle);
    runs++;
    for (const [k, q] of oracle.asked) questions.set(k, q);
    const open = [...oracle.asked.keys()].find((k) => !answers.has(k));
    if (open === undefined) {
      results.push({ result, answers });
      continue;
    }
    stack.push(new Map([...answers, [open, true]]));
    stack.push(new Map([...answers, [open, false]]));
  }
  return { results, questions, complete: true };
}

/** Parses an httpd address spec: "10.1" (partial), "10.1.0.0/16", "10.1.0.0/255.255.0.0", "::1", "2001:db8::/32". */
export function parseIpSpec(spec: string): { addr: ipaddr.IPv4 | ipaddr.IPv6; bits: number } | null {
  try {
    if (spec.includes("/")) {
      const [a, m] = spec.split("/") as [string, string];
      const addr = ipaddr.parse(a);
      if (/^\d+$/.test(m)) return { addr, bits: Number(m) };
      const mask = ipaddr.parse(m);
      const bits = mask.prefixLengthFromSubnetMask();
      return bits === null ? null : { addr, bits };
    }
    if (ipaddr.isValid(spec) && (spec.includes(":") || spec.split(".").length === 4)) {
      const addr = ipaddr.parse(spec);
      return { addr, bits: addr.kind() === "ipv4" ? 32 : 128 };
    }
    // Partial IPv4 such as "10.1" or "10.1.": the given octets must match.
    const parts = spec.replace(/\.$/, "").split(".");
    if (parts.length >= 1 && parts.length < 4 && parts.every((p) => /^\d{1,3}$/.test(p) && Number(p) < 256)) {
      while (parts.length < 4) parts.push("0");
      return { addr: ipaddr.parse(parts.join(".")), bits: 8 * spec.replace(/\.$/, "").split(".").length };
    }
  } catch {
    return null;
  }
  return null;
}

export function looksLikeIpSpec(spec: string): boolean {
  return parseIpSpec(spec) !== null;
}

export function ipMatches(client: string, spec: string): boolean {
  const parsed = parseIpSpec(spec);
  if (!parsed) return false;
  let c: ipaddr.IPv4 | ipaddr.IPv6;
  try {
    c = ipaddr.parse(client);
  } catch {
    return false;
  }
  if (c.kind() === "ipv6" && (c as ipaddr.IPv6).isIPv4MappedAddress()) c = (c as ipaddr.IPv6).toIPv4Address();
  let a = parsed.addr;
  let bits = parsed.bits;
  if (a.kind() === "ipv6" && (a as ipaddr.IPv6).isIPv4MappedAddress()) {
    a = (a as ipaddr.IPv6).toIPv4Address();
    bits = Math.max(0, bits - 96);
  }
  if (c.kind() !== a.kind()) return false;
  return c.match(a, bits);
}
