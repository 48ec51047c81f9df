// Log formats and server messages as data (data/logs/). One source of truth
// for the local reader and for the SQL the ClickHouse path generates.
//
// Rule format (all regexes are strings in the RE2 subset ClickHouse's
// match()/extract() run: no lookaround, no backreferences, no named groups;
// `\d \w \s \S` and non-capturing `(?:…)` are fine):
//
// data/logs/wrappers.json — envelopes peeled before a line is recognised, in order:
//   { id, match, fields: { message: N, time?: N, host?: N, program?: N } }     (regex; group numbers)
//   { id, json: { message: "key", time?: "key", requires: ["key", …] } }       (a JSON object line)
// data/logs/formats/<id>.json — one line format:
//   { id, product, kind: "access" | "error",
//     match: header regex on the (peeled) line, fields: { name: groupNumber },
//     extract?: { name: { from: field, match: regex with ONE group } },  (more fields, from a field's text)
//     json?: { requires: { "dotted.key": regex }, fields: { name: ["dotted.path", …] } }  (instead of match;
//       a "*" step takes the first array element that has the rest; an array of strings reads
//       as them joined with ","; `extract` applies to these fields too)
//     time: "apache" | "nginx" | "clf" | "iso" | "iso-utc" | "local" | "epoch" | "any",
//       ("local": a development server's zoneless `03/Dec/2026 10:15:02` or `2026/12/03 - 10:15:02`, in the run's zone)
//     clientHasPort?: true, messages: [family, …], examples?: [{ line, denied: false }] }
//   Field names with a meaning: time, client, request ("METHOD target PROTO"), method,
//   path, query, status, requestId, message (what message rules read by default), rule (JSON
//   formats only: the deciding rule id a cloud WAF names); any other name can be
//   used by `where`, `on` and `{name}` in reasons.
// data/logs/messages/<family>.json — one message family:
//   { family, product, description, rules: [rule, …] }; the first rule that matches wins.
//   rule = { id, match?: regex, on?: field (default "message"), where?: { field: regex },
//            fields: { name: groupNumber of match }, hint?: literal | [literal, …],
//            cause: cause id | "by-status" | null, also?: { cause: weight },
//            passedOn?: true (the line says its upstream answered and the proxy passed it on),
//            status: number | null, reason: "text with {field}", examples: [ … ] }
//   - A rule matches when `match` finds (unanchored unless it says ^) in field `on`
//     and every `where` regex finds in its field.
//   - cause null: recognised, and not a refusal (nginx "delaying request").
//     "by-status": the status names the cause (401 credentials, 429 rate-limit, …), weakly.
//   - status: the status the message implies when the line records none (null: none implied).
//   - hint: a literal every matching line contains (the byte prefilter and SQL can test
//     it before the regex); rules without one are reached through a refusal status.
//   - examples: whole lines (wrappers included) with the expected { cause, status, path?,
//     client? } or { denied: false }; test/log-rules.test.ts runs every one.
// To make one field of a rule a single-group regex (ClickHouse 18.16's extract()
// returns the first group only), use singleGroup(match, n).
import accessVhostHostFormat from "../../../data/logs/formats/access-vhost-host.json" with { type: "json" };
import akamaiDataStreamFormat from "../../../data/logs/formats/akamai-datastream-json.json" with {
  type: "json",
};
import apacheErrorFormat from "../../../data/logs/formats/apache-error.json" with { type: "json" };
import awsAlbFormat from "../../../data/logs/formats/aws-alb.json" with { type: "json" };
import awsWafFormat from "../../../data/logs/formats/aws-waf-json.json" with { type: "json" };
import azureWafFormat from "../../../data/logs/formats/azure-waf-json.json" with { type: "json" };
import caddyFormat from "../../../data/logs/formats/caddy-json.json" with { type: "json" };
import chiFormat from "../../../data/logs/formats/chi.json" with { type: "json" };
import cloudflareFormat from "../../../data/logs/formats/cloudflare-json.json" with { type: "json" };
import djangoRunserverFormat from "../../../data/logs/formats/django-runserver.json" with { type: "json" };
import envoyFormat from "../../../data/logs/formats/envoy.json" with { type: "json" };
import envoyJsonFormat from "../../../data/logs/formats/envoy-json.json" with { type: "json" };
import gcpLbFormat from "../../../data/logs/formats/gcp-lb-json.json" with { type: "json" };
import ginFormat from "../../../data/logs/formats/gin.json" with { type: "json" };
import haproxyHttpFormat from "../../../data/logs/formats/haproxy-http.json" with { type: "json" };
import haproxyTcpFormat from "../../../data/logs/formats/haproxy-tcp.json" with { type: "json" };
import honoLoggerFormat from "../../../data/logs/formats/hono-logger.json" with { type: "json" };
import iisFormat from "../../../data/logs/formats/iis-w3c.json" with { type: "json" };
import k8sAuditFormat from "../../../data/logs/formats/k8s-audit-json.json" with { type: "json" };
import lighttpdFormat from "../../../data/logs/formats/lighttpd-error.json" with { type: "json" };
import morganFormat from "../../../data/logs/formats/morgan.json" with { type: "json" };
import nginxErrorFormat from "../../../data/logs/formats/nginx-error.json" with { type: "json" };
import npmFormat from "../../../data/logs/formats/nginx-proxy-manager.json" with { type: "json" };
import oauth2ProxyFormat from "../../../data/logs/formats/oauth2-proxy.json" with { type: "json" };
import oauth2ProxyAuthFormat from "../../../data/logs/formats/oauth2-proxy-auth.json" with { type: "json" };
import phpFpmAccessFormat from "../../../data/logs/formats/php-fpm-access.json" with { type: "json" };
import squidFormat from "../../../data/logs/formats/squid.json" with { type: "json" };
import textFormat from "../../../data/logs/formats/text.json" with { type: "json" };
import traefikFormat from "../../../data/logs/formats/traefik-json.json" with { type: "json" };
import uvicornFormat from "../../../data/logs/formats/uvicorn.json" with { type: "json" };
import uwsgiFormat from "../../../data/logs/formats/uwsgi.json" with { type: "json" };
import vercelFormat from "../../../data/logs/formats/vercel-json.json" with { type: "json" };
import w3cHeaderFormat from "../../../data/logs/formats/w3c-header.json" with { type: "json" };
import werkzeugFormat from "../../../data/logs/formats/werkzeug.json" with { type: "json" };
import apacheAuthn from "../../../data/logs/messages/apache-authn.json" with { type: "json" };
import apacheAuthz from "../../../data/logs/messages/apache-authz.json" with { type: "json" };
import apacheDigest from "../../../data/logs/messages/apache-digest.json" with { type: "json" };
import apacheFs from "../../../data/logs/messages/apache-fs.json" with { type: "json" };
import apacheSsl from "../../../data/logs/messages/apache-ssl.json" with { type: "json" };
import appText from "../../../data/logs/messages/app-text.json" with { type: "json" };
import authFailure from "../../../data/logs/messages/auth-failure.json" with { type: "json" };
import awsAlbMessages from "../../../data/logs/messages/aws-alb.json" with { type: "json" };
import awsWafMessages from "../../../data/logs/messages/aws-waf.json" with { type: "json" };
import azureWafMessages from "../../../data/logs/messages/azure-waf.json" with { type: "json" };
import caddyMessages from "../../../data/logs/messages/caddy.json" with { type: "json" };
import cloudArmorMessages from "../../../data/logs/messages/cloud-armor.json" with { type: "json" };
import cloudflareMessages from "../../../data/logs/messages/cloudflare.json" with { type: "json" };
import crowdsecMessages from "../../../data/logs/messages/crowdsec.json" with { type: "json" };
import envoyMessages from "../../../data/logs/messages/envoy.json" with { type: "json" };
import fail2banMessages from "../../../data/logs/messages/fail2ban.json" with { type: "json" };
import haproxyMessages from "../../../data/logs/messages/haproxy.json" with { type: "json" };
import iisMessages from "../../../data/logs/messages/iis.json" with { type: "json" };
import k8sAuditMessages from "../../../data/logs/messages/kubernetes-audit.json" with { type: "json" };
import lighttpdMessages from "../../../data/logs/messages/lighttpd.json" with { type: "json" };
import modEvasive from "../../../data/logs/messages/mod-evasive.json" with { type: "json" };
import nginxMessages from "../../../data/logs/messages/nginx.json" with { type: "json" };
import npmMessages from "../../../data/logs/messages/nginx-proxy-manager.json" with { type: "json" };
import oauth2ProxyMessages from "../../../data/logs/messages/oauth2-proxy.json" with { type: "json" };
import squidMessages from "../../../data/logs/messages/squid.json" with { type: "json" };
import traefikMessages from "../../../data/logs/messages/traefik.json" with { type: "json" };
import vercelMessages from "../../../data/logs/messages/vercel.json" with { type: "json" };
import wrappersFile from "../../../data/logs/wrappers.json" with { type: "json" };
import type { CauseId } from "../../model.js";
import { hasTopLevelBranch } from "./match-cache.js";

export interface RuleExample {
  line: string;
  cause?: string;
  status?: number | null;
  path?: string;
  client?: string;
  denied?: boolean;
  inner?: string;
}

export interface WrapperSpec {
  id: string;
  description: string;
  match?: string;
  fields?: Record<string, number>;
  json?: { message: string; time?: string; requires: string[] };
  examples: RuleExample[];
}

export interface FormatSpec {
  id: string;
  product: string | null;
  kind: string;
  description: string;
  match?: string;
  fields?: Record<string, number>;
  extract?: Record<string, { from: string; match: string }>;
  json?: { requires: Record<string, string>; fields: Record<string, string[]> };
  time?: string;
  clientHasPort?: boolean;
  messages: string[];
  examples?: RuleExample[];
}

export interface MessageRuleSpec {
  id: string;
  match?: string;
  on?: string;
  where?: Record<string, string>;
  fields: Record<string, number>;
  hint?: string | string[];
  cause: string | null;
  also?: Record<string, number>;
  status: number | null;
  reason: string;
  /** The line says the upstream answered and the proxy passed it on (LogRecord.passedOn). */
  passedOn?: boolean;
  examples: RuleExample[];
}

export interface MessageFamilySpec {
  family: string;
  product: string | null;
  description: string;
  rules: MessageRuleSpec[];
}

/** Every rule file, as data (the SQL generator and the tests read these). */
export const WRAPPERS: WrapperSpec[] = wrappersFile.wrappers as WrapperSpec[];
/** Line formats in the order they are tried ("text" last: it takes any line). */
export const FORMATS: FormatSpec[] = [
  apacheErrorFormat,
  nginxErrorFormat,
  haproxyHttpFormat,
  haproxyTcpFormat,
  squidFormat,
  lighttpdFormat,
  iisFormat,
  w3cHeaderFormat,
  envoyFormat,
  accessVhostHostFormat,
  awsAlbFormat,
  caddyFormat,
  traefikFormat,
  envoyJsonFormat,
  awsWafFormat,
  gcpLbFormat,
  cloudflareFormat,
  azureWafFormat,
  akamaiDataStreamFormat,
  vercelFormat,
  k8sAuditFormat,
  morganFormat,
  honoLoggerFormat,
  uvicornFormat,
  werkzeugFormat,
  djangoRunserverFormat,
  uwsgiFormat,
  phpFpmAccessFormat,
  oauth2ProxyFormat,
  oauth2ProxyAuthFormat,
  ginFormat,
  chiFormat,
  npmFormat,
  textFormat,
] as FormatSpec[];
export const MESSAGE_FAMILIES: MessageFamilySpec[] = [
  apacheAuthz,
  apacheFs,
  apacheAuthn,
  apacheDigest,
  apacheSsl,
  nginxMessages,
  lighttpdMessages,
  haproxyMessages,
  npmMessages,
  squidMessages,
  iisMessages,
  envoyMessages,
  caddyMessages,
  traefikMessages,
  awsWafMessages,
  cloudArmorMessages,
  cloudflareMessages,
  azureWafMessages,
  vercelMessages,
  k8sAuditMessages,
  oauth2ProxyMessages,
  awsAlbMessages,
  modEvasive,
  fail2banMessages,
  crowdsecMessages,
  appText,
  authFailure,
] as MessageFamilySpec[];

/** Characters that make a pattern character more than itself. */
const REGEX_META = new Set([..."\\^$.*+?()[]{}|"]);
/** `\x` escapes that stand for the character x (not a class like \d or an assertion like \b). */
const ESCAPED_LITERAL = new Set([..."\\^$.*+?()[]{}|/-\"' :,=<>!#%&@~`;"]);

/**
 * The text every match of `source` (no flags) starts with: the literal characters
 * after a leading "^", up to the first that is not plain text or is quantified.
 * "" for a pattern not anchored at ^, or with a "|" outside any group.
 */
export function literalPrefix(source: string): string {
  if (!source.startsWith("^") || hasTopLevelBranch(source)) return "";
  let out = "";
  let i = 1;
  while (i < source.length) {
    let c = source[i] as string;
    let width = 1;
    if (c === "\\") {
      const next = source[i + 1];
      if (next === undefined || !ESCAPED_LITERAL.has(next)) break;
      c = next;
      width = 2;
    } else if (REGEX_META.has(c)) break;
    const after = source[i + width];
    if (after === "*" || after === "?" || after === "{") break;
    if (after === "+") return out + c;
    out += c;
    i += width;
  }
  return out;
}

// ---- compiled forms -------------------------------------------------------

export interface CompiledRule {
  spec: MessageRuleSpec;
  family: MessageFamilySpec;
  re: RegExp | null;
  on: string;
  where: Array<[string, RegExp]>;
  /** spec.fields as pairs (name, group), read on every match. */
  fields: Array<[string, number]>;
  /** Text every match starts with, from `match` itself (literalPrefix); "" when it has none. */
  prefix: string;
  cause: CauseId | "by-status" | null;
}

export interface CompiledFormat {
  spec: FormatSpec;
  re: RegExp | null;
  fields: Array<[string, number]>;
  extract: Array<[string, string, RegExp]>;
  rules: CompiledRule[];
}

export interface CompiledWrapper {
  spec: WrapperSpec;
  re: RegExp | null;
}

const families = new Map(MESSAGE_FAMILIES.map((f) => [f.family, f]));

function compileRule(family: MessageFamilySpec, spec: MessageRuleSpec): CompiledRule {
  return {
    spec,
    family,
    re: spec.match ? new RegExp(spec.match) : null,
    on: spec.on ?? "message",
    where: Object.entries(spec.where ?? {}).map(([k, v]) => [k, new RegExp(v)]),
    fields: Object.entries(spec.fields),
    prefix: spec.match ? literalPrefix(spec.match) : "",
    cause: spec.cause as CauseId | "by-status" | null,
  };
}

function compileFormat(spec: FormatSpec): CompiledFormat {
  const rules: CompiledRule[] = [];
  for (const name of spec.messages) {
    const family = families.get(name);
    if (!family) throw new Error(`log format ${spec.id}: no message family ${name}`);
    for (const r of family.rules) rules.push(compileRule(family, r));
  }
  return {
    spec,
    re: spec.match ? new RegExp(spec.match) : null,
    fields: Object.entries(spec.fields ?? {}),
    extract: Object.entries(spec.extract ?? {}).map(([k, v]) => [k, v.from, new RegExp(v.match)]),
    rules,
  };
}

export const COMPILED_FORMATS: CompiledFormat[] = FORMATS.map(compileFormat);
/** A format made in code from a spec (w3c.ts: columns named by the file), with its message families. */
export const compiledFormatOf = compileFormat;
const byId = new Map(COMPILED_FORMATS.map((f) => [f.spec.id, f]));
export const COMPILED_WRAPPERS: CompiledWrapper[] = WRAPPERS.map((spec) => ({
  spec,
  re: spec.match ? new RegExp(spec.match) : null,
}));

export function formatById(id: string): CompiledFormat {
  const f = byId.get(id);
  if (!f) throw new Error(`no log format ${id}`);
  return f;
}

/** Line formats recognised by regex, in order, without the catch-all "text". */
export const REGEX_FORMATS = COMPILED_FORMATS.filter((f) => f.re !== null && f.spec.id !== "text");
export const JSON_FORMATS = COMPILED_FORMATS.filter((f) => f.spec.json !== undefined);

export type Fields = Record<string, string>;

/** The named fields of a line in format `f`, or null when it is not one. */
export function readFields(f: CompiledFormat, text: string): Fields | null {
  const m = f.re?.exec(text);
  if (!m) return null;
  const out: Fields = {};
  for (const [name, group] of f.fields) {
    const v = m[group];
    if (v !== undefined) out[name] = v;
  }
  addExtracted(f, out);
  return out;
}

/** The `extract` fields (or only the one called `only`), each from the text of another field. */
export function addExtracted(f: CompiledFormat, out: Fields, only?: string): void {
  // Indexed loops here and in tryRule: these run several times on every error line.
  const extract = f.extract;
  for (let i = 0; i < extract.length; i++) {
    const [name, from, re] = extract[i] as [string, string, RegExp];
    if (only !== undefined && name !== only) continue;
    const src = out[from];
    if (src === undefined) continue;
    const v = re.exec(src)?.[1];
    if (v !== undefined) out[name] = v;
  }
}

export interface RuleHit {
  rule: CompiledRule;
  /** The format's fields plus the rule's own. */
  fields: Fields;
}

/** The first rule of the format's families that matches the fields, or null. */
export function matchRule(f: CompiledFormat, fields: Fields): RuleHit | null {
  const rules = f.rules;
  for (let i = 0; i < rules.length; i++) {
    const hit = tryRule(rules[i] as CompiledRule, fields);
    if (hit) return hit;
  }
  return null;
}

function tryRule(rule: CompiledRule, fields: Fields): RuleHit | null {
  const where = rule.where;
  for (let i = 0; i < where.length; i++) {
    const [name, re] = where[i] as [string, RegExp];
    const v = fields[name];
    if (v === undefined || !re.test(v)) return null;
  }
  if (!rule.re) return { rule, fields };
  const text = fields[rule.on];
  if (text === undefined) return null;
  // Most rules are anchored on their first words: startsWith() turns the others away cheaper than exec().
  if (rule.prefix !== "" && !text.startsWith(rule.prefix)) return null;
  const m = rule.re.exec(text);
  if (!m) return null;
  // The first rule that matches wins, so its fields go into the line's own object (no copy per line).
  const pairs = rule.fields;
  for (let i = 0; i < pairs.length; i++) {
    const [name, group] = pairs[i] as [string, number];
    const v = m[group];
    if (v !== undefined && v !== "") fields[name] = v;
  }
  return { rule, fields };
}

/**
 * Reason templates split once at their {field}s: literal text at even indexes,
 * field names at odd ones (a few dozen templates, filled on every refusal line).
 */
const TEMPLATE_PARTS = new Map<string, string[]>();

function templateParts(template: string): string[] {
  let parts = TEMPLATE_PARTS.get(template);
  if (!parts) {
    parts = template.split(/\{(\w+)\}/);
    if (TEMPLATE_PARTS.size < 1000) TEMPLATE_PARTS.set(template, parts);
  }
  return parts;
}

/** A reason template with its {field}s filled ("?" for a field the line lacks). */
export function fillReason(template: string, fields: Fields, status?: number | null): string {
  if (template.indexOf("{") === -1) return template;
  const parts = templateParts(template);
  let out = parts[0] as string;
  for (let i = 1; i < parts.length; i += 2) {
    out += reasonValue(parts[i] as string, fields, status) + (parts[i + 1] as string);
  }
  return out;
}

function reasonValue(name: string, fields: Fields, status: number | null | undefined): string {
  if (name === "status" && status !== undefined) return status === null ? "?" : String(status);
  return fields[name] ?? "?";
}

export interface Peeled {
  wrapper: string;
  inner: string;
  time: string | null;
}

/** Envelopes peeled off one line at most (a CRI line holding a syslog line, …): locally and in SQL. */
export const MAX_WRAPPERS = 3;

/** Peels one regex envelope (syslog, CRI, journald export) off a line, or null. */
export function peelText(text: string): Peeled | null {
  for (const w of COMPILED_WRAPPERS) {
    if (!w.re) continue;
    const m = w.re.exec(text);
    if (!m) continue;
    const f = w.spec.fields ?? {};
    const inner = m[f.message ?? 0];
    if (inner === undefined || inner === text) continue;
    return { wrapper: w.spec.id, inner, time: f.time !== undefined ? (m[f.time] ?? null) : null };
  }
  return null;
}

/** Peels a JSON envelope (Docker json-file, journalctl -o json) off a parsed line, or null. */
export function peelJson(doc: Record<string, unknown>): Peeled | null {
  for (const w of COMPILED_WRAPPERS) {
    const j = w.spec.json;
    if (j === undefined || !j.requires.every((k) => k in doc)) continue;
    const inner = doc[j.message];
    if (typeof inner !== "string") continue;
    const time = j.time ? doc[j.time] : undefined;
    return {
      wrapper: w.spec.id,
      inner: inner.replace(/\r?\n$/, ""),
      time: typeof time === "string" ? time : null,
    };
  }
  return null;
}

/** Every literal hint of every rule: a line holding none of them (and no refusal status) holds no rule's refusal. */
export function ruleHints(): string[] {
  const out = new Set<string>();
  for (const fam of MESSAGE_FAMILIES) {
    for (const r of fam.rules) {
      if (r.cause === null) continue;
      for (const h of typeof r.hint === "string" ? [r.hint] : (r.hint ?? [])) out.add(h);
    }
  }
  return [...out];
}

/**
 * `pattern` with every capturing group but the n-th made non-capturing: a
 * regex whose only group is field n (ClickHouse extract() takes the first group).
 */
export function singleGroup(pattern: string, n: number): string {
  let out = "";
  let group = 0;
  let inClass = false;
  for (let i = 0; i < pattern.length; i++) {
    const c = pattern[i] as string;
    if (c === "\\") {
      out += c + (pattern[i + 1] ?? "");
      i++;
      continue;
    }
    if (inClass) {
      if (c === "]") inClass = false;
      out += c;
      continue;
    }
    if (c === "[") {
      inClass = true;
      out += c;
      continue;
    }
    if (c === "(" && pattern[i + 1] !== "?") {
      group++;
      out += group === n ? "(" : "(?:";
      continue;
    }
    out += c;
  }
  return out;
}
