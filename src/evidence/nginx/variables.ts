// The nginx variables an `if`, `map`, `set` or `return` may read, as far as
// one request tells them. A value we cannot know comes back as undefined with
// a sentence saying what is missing, so the evaluator can answer "unknown"
// instead of guessing.

import { evalGeo } from "./geo.js";
import type { Directive } from "./parser.js";
import { pcreToRegExp } from "./regex.js";

export interface RequestFacts {
  method: string;
  uri: string;
  rawPath: string;
  query: string;
  host: string;
  scheme: string;
  port: number;
  client: string | null;
  /** Lower-case header names; undefined when the headers are not known at all. */
  headers: Record<string, string> | undefined;
  serverNames: string[];
}

export interface VarResult {
  value: string | undefined;
  /** Why the value is unknown. */
  missing?: string;
}

export class Variables {
  private readonly sets = new Map<string, string | undefined>();
  private readonly maps = new Map<string, Directive>();
  private readonly geos = new Map<string, Directive>();
  readonly captures: string[] = [];

  constructor(
    readonly facts: RequestFacts,
    mapBlocks: Directive[],
    private readonly validReferers: () => Directive | null,
  ) {
    for (const m of mapBlocks) {
      // geo's source variable is optional: `geo $var { }` reads $remote_addr.
      const target = m.directive === "geo" ? m.args[m.args.length - 1] : m.args[1];
      if (!target?.startsWith("$")) continue;
      (m.directive === "geo" ? this.geos : this.maps).set(target.slice(1).toLowerCase(), m);
    }
  }

  set(name: string, value: string | undefined): void {
    this.sets.set(name.toLowerCase(), value);
  }

  get(rawName: string): VarResult {
    const name = rawName.toLowerCase();
    const f = this.facts;
    if (/^\d$/.test(name)) return { value: this.captures[Number(name)] ?? "" };
    if (this.sets.has(name)) {
      const v = this.sets.get(name);
      return v === undefined
        ? { value: undefined, missing: `$${name} was set from an unknown value` }
        : { value: v };
    }
    const map = this.maps.get(name);
    if (map) return this.evalMap(map);
    const geo = this.geos.get(name);
    if (geo) {
      const source = geo.args.length > 1 ? (geo.args[0] as string) : "$remote_addr";
      const src =
        source === "$remote_addr" ? { value: this.facts.client ?? undefined } : this.interpolate(source);
      return evalGeo(geo, src.value ?? null, source);
    }
    switch (name) {
      case "request_method":
        return { value: f.method };
      case "uri":
      case "document_uri":
        return { value: f.uri };
      case "request_uri":
        return { value: f.query ? `${f.rawPath}?${f.query}` : f.rawPath };
      case "args":
      case "query_string":
        return { value: f.query };
      case "is_args":
        return { value: f.query ? "?" : "" };
      case "host":
        return { value: f.host };
      case "scheme":
        return { value: f.scheme };
      case "https":
        return { value: f.scheme === "https" ? "on" : "" };
      case "server_port":
        return { value: String(f.port) };
      case "server_name":
        return { value: f.serverNames[0] ?? "" };
      case "remote_addr":
      case "binary_remote_addr":
        return f.client === null
          ? { value: undefined, missing: "the client address (give --client)" }
          : { value: f.client };
      case "invalid_referer":
        return this.invalidReferer();
      case "content_type":
        return this.header("content-type");
      case "content_length":
        return this.header("content-length");
    }
    if (name.startsWith("http_")) return this.header(name.slice(5).replace(/_/g, "-"));
    if (name.startsWith("arg_")) return { value: queryArg(f.query, name.slice(4)) };
    if (name.startsWith("cookie_")) {
      const cookies = this.header("cookie");
      if (cookies.value === undefined)
        return { value: undefined, missing: `the request's cookie ${name.slice(7)}` };
      const hit = cookies.value
        .split(/;\s*/)
        .map((c) => c.split("="))
        .find(([k]) => k === name.slice(7));
      return { value: hit ? hit.slice(1).join("=") : "" };
    }
    return { value: undefined, missing: `the value of $${name}` };
  }

  private header(lower: string): VarResult {
    const h = this.facts.headers;
    const v = h?.[lower];
    if (v === undefined)
      return { value: undefined, missing: `the request's ${headerDisplayName(lower)} header` };
    return { value: v };
  }

  /** Replaces $name and ${name} in a string; undefined when any part is unknown. */
  interpolate(text: string): VarResult {
    let missing: string | undefined;
    const value = text.replace(
      /\$(?:\{(\w+)\}|(\w+))/g,
      (_m, a: string | undefined, b: string | undefined) => {
        const r = this.get((a ?? b) as string);
        if (r.value === undefined) missing ??= r.missing;
        return r.value ?? "";
      },
    );
    return missing ? { value: undefined, missing } : { value };
  }

  private evalMap(map: Directive): VarResult {
    const source = map.args[0] ?? "";
    const src = this.interpolate(source);
    const where = `${map.file}:${map.line}`;
    if (src.value === undefined) {
      return {
        value: undefined,
        missing: `the map on ${source} needs ${src.missing ?? "its input"} (map at ${where})`,
      };
    }
    const entries = (map.block ?? []).filter((d) => !["hostnames", "volatile"].includes(d.directive));
    const lower = src.value.toLowerCase();
    let chosen: Directive | undefined = entries.find(
      (e) => e.directive !== "default" && !e.directive.startsWith("~") && e.directive.toLowerCase() === lower,
    );
    if (!chosen) {
      for (const e of entries) {
        if (!e.directive.startsWith("~")) continue;
        const caseless = e.directive.startsWith("~*");
        const re = pcreToRegExp(e.directive.slice(caseless ? 2 : 1), caseless);
        if (!re)
          return { value: undefined, missing: `a regex of the map at ${where} that JavaScript cannot run` };
        if (re.test(src.value)) {
          chosen = e;
          break;
        }
      }
    }
    chosen ??= entries.find((e) => e.directive === "default");
    if (!chosen) return { value: "" };
    return this.interpolate(chosen.args[0] ?? "");
  }

  private invalidReferer(): VarResult {
    const vr = this.validReferers();
    if (!vr) return { value: "" };
    const ref = this.facts.headers?.referer;
    if (this.facts.headers === undefined)
      return { value: undefined, missing: "the request's Referer header" };
    if (ref === undefined || ref === "") return { value: vr.args.includes("none") ? "" : "1" };
    const m = /^https?:\/\/([^/?#]*)(.*)$/i.exec(ref);
    if (!m) return { value: vr.args.includes("blocked") ? "" : "1" };
    const refHost = (m[1] as string).replace(/:\d+$/, "").toLowerCase();
    const refRest = m[2] as string;
    const full = `${refHost}${refRest}`;
    for (const arg of vr.args) {
      if (arg === "none" || arg === "blocked") continue;
      if (arg.startsWith("~")) {
        const re = pcreToRegExp(arg.slice(1), true);
        if (re?.test(full)) return { value: "" };
        continue;
      }
      const names = arg === "server_names" ? this.facts.serverNames : [arg];
      for (const n of names) {
        const slash = n.indexOf("/");
        const hostPart = (slash >= 0 ? n.slice(0, slash) : n).toLowerCase();
        const pathPart = slash >= 0 ? n.slice(slash) : "";
        if (hostMatches(hostPart, refHost) && refRest.startsWith(pathPart)) return { value: "" };
      }
    }
    return { value: "1" };
  }
}

function hostMatches(pattern: string, host: string): boolean {
  if (pattern.startsWith("*.")) return host.endsWith(pattern.slice(1));
  if (pattern.startsWith(".")) return host === pattern.slice(1) || host.endsWith(pattern);
  if (pattern.endsWith(".*")) return host.startsWith(pattern.slice(0, -1));
  return pattern === host;
}

export function headerDisplayName(lower: string): string {
  return lower.replace(/(^|-)([a-z])/g, (_m, d: string, c: string) => d + c.toUpperCase());
}

function queryArg(query: string, name: string): string {
  for (const part of query.split("&")) {
    const eq = part.indexOf("=");
    const k = eq >= 0 ? part.slice(0, eq) : part;
    if (k.toLowerCase() === name) return eq >= 0 ? part.slice(eq + 1) : "";
  }
  return "";
}

export type Truth = boolean | { unknown: string };

/** Evaluates an `if` condition (args already stripped of the parentheses). */
export function evalCondition(args: string[], vars: Variables, fileExists: (p: string) => Truth): Truth {
  const [a, op, b] = args;
  if (a === undefined) return false;
  if (/^!?-[fdex]$/.test(a)) {
    const p = vars.interpolate(op ?? "");
    if (p.value === undefined) return { unknown: p.missing ?? "a path" };
    const r = fileExists(`${a.replace("!", "")} ${p.value}`);
    if (typeof r !== "boolean") return r;
    return a.startsWith("!") ? !r : r;
  }
  const left = vars.interpolate(a);
  if (left.value === undefined) return { unknown: left.missing ?? a };
  if (op === undefined) return left.value !== "" && left.value !== "0";
  const right = b ?? "";
  if (op === "=" || op === "!=") {
    const r = vars.interpolate(right);
    if (r.value === undefined) return { unknown: r.missing ?? right };
    return (left.value === r.value) === (op === "=");
  }
  if (op === "~" || op === "~*" || op === "!~" || op === "!~*") {
    const re = pcreToRegExp(right, op.endsWith("*"));
    if (!re) return { unknown: `the regex ${right} (not runnable in JavaScript)` };
    const m = re.exec(left.value);
    if (m && !op.startsWith("!")) {
      vars.captures.length = 0;
      vars.captures.push(...m.map((x) => x ?? ""));
    }
    return op.startsWith("!") ? !m : !!m;
  }
  return { unknown: `the if operator ${op}` };
}
