// What every diagnosing command shares: the common flags, server-side evidence
// options, and printing a report in the format asked for.
import { statSync } from "node:fs";
import { isIP } from "node:net";
import { InputError, UsageError } from "../errors.js";
import type { ConfigDecision } from "../evidence/config-decision.js";
import type { CauseId, Evidence, Layer, Report } from "../model.js";
import { quoteArgument, redactText } from "../redact.js";
import { renderMarkdown } from "../report/markdown.js";
import { renderText } from "../report/text.js";
import type { FlagSpecs, FlagValues } from "./args.js";
import { writeOutputFile } from "./output-file.js";
import { colourWanted, makeStyle } from "./terminal.js";

export const COMMON_FLAGS: FlagSpecs = {
  json: { kind: "boolean" },
  markdown: { kind: "boolean" },
  html: { kind: "string" },
  "max-probes": { kind: "number" },
  "allow-side-effects": { kind: "boolean" },
  "max-unsafe": { kind: "number" },
  timeout: { kind: "number" },
  "no-color": { kind: "boolean" },
  color: { kind: "boolean" },
  debug: { kind: "boolean" },
  "request-id": { kind: "boolean" },
  rate: { kind: "number" },
};

export const SERVER_EVIDENCE_FLAGS: FlagSpecs = {
  "server-logs": { kind: "list" },
  "nginx-conf": { kind: "string" },
  "apache-conf": { kind: "string" },
  client: { kind: "string" },
  "fs-user": { kind: "string" },
};

export function noColor(flags: FlagValues): boolean {
  return flags["no-color"] === true || flags.color === false;
}

/** Prints the report on stdout in the chosen format; --html also writes a file. */
export async function emitReport(report: Report, flags: FlagValues, curlLine?: string): Promise<void> {
  if (typeof flags.html === "string") {
    const { renderHtml } = await import("../report/html.js");
    writeOutputFile(flags.html, renderHtml(report, curlLine), "--html");
    if (!flags.json) process.stderr.write(`why403: HTML report written to ${flags.html}\n`);
  }
  if (flags.json) {
    process.stdout.write(`${JSON.stringify(report, null, 2)}\n`);
  } else if (flags.markdown) {
    process.stdout.write(renderMarkdown(report, curlLine));
  } else {
    process.stdout.write(renderText(report, makeStyle(colourWanted(process.stdout, noColor(flags)))));
  }
}

/** The request a config is evaluated for. */
export interface ConfigTarget {
  method: string;
  url: string;
  headers?: Record<string, string>;
  /** The client address the server sees (--client, or the loopback address of a live run). */
  client?: string | null;
}

/**
 * The --client address, checked: an address the server could see (IPv4 or
 * IPv6), else bad input. Null when not given.
 */
export function clientFlag(flags: FlagValues): string | null {
  const v = flags.client;
  if (typeof v !== "string") return null;
  const address = v.trim().replace(/^\[|\]$/g, "");
  if (isIP(address) === 0)
    throw new UsageError(`--client needs an IPv4 or IPv6 address, got ${quoteArgument(v)}`);
  return address;
}

/**
 * A config evaluation that names the directive refusing the request decides
 * which rule a server's generic log line ("access forbidden by rule", AH01630)
 * stands for: its evidence carries `data.decides` with the cause.
 */
function markDeciding(decision: ConfigDecision, evidence: Evidence[]): Evidence[] {
  if (decision.decision !== "deny" || !decision.decidedBy) return evidence;
  const cause = (decision.cause ?? "server-config") as CauseId;
  return evidence.map((e) =>
    (e.weights[cause] ?? 0) >= CONFIG_DECISIVE ? { ...e, data: { ...e.data, decides: cause } } : e,
  );
}

/** The weight a config evaluator gives the cause of the directive that refuses. */
const CONFIG_DECISIVE = 5;

/**
 * Server-side evidence for a request: config evaluation (nginx/Apache) and, for
 * the file the request maps to, the file-system walk as the server's user
 * (--fs-user, else the config's `user`/`User`).
 */
export async function configEvidence(flags: FlagValues, request: ConfigTarget): Promise<Evidence[]> {
  const evidence: Evidence[] = [];
  const client = clientFlag(flags) ?? request.client ?? null;
  const target = { method: request.method, url: request.url, headers: request.headers, client };
  const fsUser = typeof flags["fs-user"] === "string" ? flags["fs-user"] : null;
  if (typeof flags["nginx-conf"] === "string") {
    const { parseNginxConfig, evaluateNginx, nginxEvidence } = await import("../evidence/nginx/index.js");
    const config = parseNginxConfig(flags["nginx-conf"]);
    const decision = evaluateNginx(config, target);
    evidence.push(...markDeciding(decision, nginxEvidence(decision)));
    const configUser = config.directives.find((d) => d.directive === "user")?.args[0] ?? null;
    evidence.push(...(await fsWalkEvidence(decision, fsUser, configUser)));
  }
  if (typeof flags["apache-conf"] === "string") {
    const { parseApacheConfig, evaluateApache, apacheEvidence } = await import("../evidence/apache/index.js");
    const config = parseApacheConfig(flags["apache-conf"]);
    const decision = evaluateApache(config, target);
    evidence.push(...markDeciding(decision, apacheEvidence(decision)));
    evidence.push(...(await fsWalkEvidence(decision, fsUser, apacheUser(config.nodes))));
  }
  if (fsUser && typeof flags["nginx-conf"] !== "string" && typeof flags["apache-conf"] !== "string")
    throw new UsageError(
      "--fs-user needs --nginx-conf or --apache-conf to know which file the request maps to",
    );
  return evidence;
}

/** What a config decision may say about the file on disk (nginx `filePath`, Apache `filePath`/`isDirectory`). */
interface MappedDecision extends ConfigDecision {
  filePath?: string | null;
  isDirectory?: boolean;
}

/** Apache's `User` directive at server level; `#-1` and `${APACHE_RUN_USER}` are not names. */
function apacheUser(nodes: Array<{ kind: string; name: string; args: string[] }>): string | null {
  const v = nodes.find((n) => n.kind === "directive" && n.name.toLowerCase() === "user")?.args[0];
  return v && !v.startsWith("#") && !v.includes("${") ? v : null;
}

/**
 * Walks the path the request maps to as the server's user: read for a file,
 * list for a directory. Skipped when the config already refuses (the walk would
 * not be what refused) or maps the request to no file (a proxy).
 */
export async function fsWalkEvidence(
  decision: MappedDecision,
  explicitUser: string | null,
  configUser: string | null,
): Promise<Evidence[]> {
  const user = explicitUser ?? configUser;
  const file = decision.filePath;
  if (!user || !file || decision.decision === "deny") return [];
  const { walkFsPermissions, fsEvidence } = await import("../evidence/fs/index.js");
  const need = decision.isDirectory || file.endsWith("/") || isDirectory(file) ? "list" : "read";
  try {
    return fsEvidence(walkFsPermissions(file, { user, need }));
  } catch (error) {
    // The config's own user may not exist here (a config copied from another machine): say so, do not fail.
    if (explicitUser || !(error instanceof InputError)) throw error;
    return [
      {
        source: `fs:${file}`,
        fact: `the file-system walk of ${file} was skipped: ${error.message}`,
        weights: {},
      },
    ];
  }
}

function isDirectory(path: string): boolean {
  try {
    return statSync(path).isDirectory();
  } catch {
    return false;
  }
}

export function serverLogPaths(flags: FlagValues): string[] {
  const v = flags["server-logs"];
  return Array.isArray(v) ? v.flatMap((x) => x.split(",")).filter(Boolean) : [];
}

export function requireOne(rest: string[], what: string): string {
  if (rest.length === 0) throw new UsageError(`missing ${what}`);
  if (rest.length > 1) throw new UsageError(`expected one ${what}, got ${rest.length}: ${rest.join(" ")}`);
  return rest[0]!;
}

/** What a live run knows when it reads the server's logs. */
export interface ServerLogContext {
  /** X-Request-Id values sent, in order. */
  requestIds: string[];
  since: Date;
  until: Date;
  /** The address the server saw the run as, when known. */
  client: string | null;
  /** Every request sent (the replay first). */
  probes: Array<{ method: string; url: string; status: number | null }>;
  /** The refused request and its status. */
  target: { method: string; url: string; status: number };
}

/** A server record of the refusal names the mechanism: it outweighs guesses from the outside. */
const SERVER_DECISIVE = 6;
/** Mechanisms a server record of another mechanism rules out for the same refusal. */
const SERVER_SIDE_CAUSES: CauseId[] = ["server-config", "fs-permission", "ip-restriction", "waf"];
const RULED_OUT = -2;

function pathOf(url: string): string | null {
  try {
    return new URL(url).pathname;
  } catch {
    return null;
  }
}

/**
 * True when another method on the refused path got a different answer (a
 * method limit such as limit_except or <LimitExcept>), false when every other
 * method was refused the same way, null when no other method was tried.
 */
export function refusalDependsOnMethod(ctx: ServerLogContext): boolean | null {
  const path = pathOf(ctx.target.url);
  const others = ctx.probes.filter(
    (p) => p.status !== null && p.method !== ctx.target.method && pathOf(p.url) === path,
  );
  if (others.length === 0) return null;
  return others.some((p) => p.status !== ctx.target.status && (p.status as number) < 500);
}

/**
 * The run's own requests found in the server's logs, one evidence per distinct
 * server record. A server line that names the mechanism (nginx's "(13:
 * Permission denied)", Apache's AH00132, a ModSecurity rule) weighs more than
 * any outside guess and counts against the other server-side mechanisms.
 * "access forbidden by rule" / AH01630 say only that an access rule refused:
 * an address rule or a blanket deny, which refuse every method alike. So both
 * stay open (the config, the path or the probes decide), unless another method
 * on the same path passed (then a method limit: server-config).
 */
export async function serverLogEvidence(paths: string[], ctx: ServerLogContext): Promise<Evidence[]> {
  const { evidenceFromLogs } = await import("../evidence/logs/index.js");
  const probed = [
    ...new Set([ctx.target.url, ...ctx.probes.map((p) => p.url)].map(pathOf).filter((p) => p !== null)),
  ];
  const { evidence } = await evidenceFromLogs(paths, {
    requestIds: ctx.requestIds,
    since: ctx.since,
    until: ctx.until,
    client: ctx.client ?? undefined,
    paths: probed,
    acceptPathless: true,
  });
  const methodDependent = refusalDependsOnMethod(ctx);
  const groups = new Map<string, { first: Evidence; count: number; ruleIds: Set<string> }>();
  for (const e of evidence) {
    const d = e.data ?? {};
    const key = [d.cause, d.product, d.rule, e.fact.replace(/^Server log \S+ on [^:]*: /, "")].join("|");
    const g = groups.get(key);
    if (g) {
      g.count++;
      for (const r of (d.ruleIds as string[] | undefined) ?? []) g.ruleIds.add(r);
    } else
      groups.set(key, { first: e, count: 1, ruleIds: new Set((d.ruleIds as string[] | undefined) ?? []) });
  }
  const out: Evidence[] = [];
  for (const { first, count, ruleIds } of groups.values()) {
    const data: Record<string, unknown> = { ...first.data, count };
    if (ruleIds.size) data.ruleIds = [...ruleIds];
    if (ctx.client && data.client === undefined) data.client = ctx.client;
    const { weights, note, accessRule } = serverWeights(first.weights, methodDependent);
    if (accessRule) {
      data.accessRule = true;
      // The verdict may not be sure between the two readings until a config decides.
      data.ambiguousBetween = ["ip-restriction", "server-config"];
    }
    const times = count > 1 ? ` (${count} of this run's requests)` : "";
    out.push({ source: first.source, fact: `${first.fact}${times}${note}`, weights, data });
  }
  return out;
}

/** A line that says only "an access rule refused": an address rule or a blanket deny. */
function isAccessRuleReading(base: Partial<Record<CauseId, number>>): boolean {
  return (base["ip-restriction"] ?? 0) > 0 && (base["server-config"] ?? 0) > 0;
}

/** Weight each reading of a generic access-rule line keeps: neither decides alone. */
const ACCESS_RULE_SPLIT = 3;
const ACCESS_RULE_NOTE =
  "; the line alone does not tell an address rule (Require ip, allow/deny) from a blanket deny (Require all denied, deny all), and both refuse every method alike: the config tells which";

function serverWeights(
  base: Partial<Record<CauseId, number>>,
  methodDependent: boolean | null,
): { weights: Partial<Record<CauseId, number>>; note: string; accessRule: boolean } {
  const named = (Object.entries(base) as Array<[CauseId, number]>).filter(([, w]) => w > 0);
  const primary = named.sort((a, b) => b[1] - a[1])[0];
  // Only a record that names the mechanism (a server or WAF line) is decisive; words in an app log are not.
  if (!primary || primary[1] < 4) {
    if (!isAccessRuleReading(base)) return { weights: base, note: "", accessRule: false };
  }
  const weights: Partial<Record<CauseId, number>> = {};
  for (const c of SERVER_SIDE_CAUSES) weights[c] = RULED_OUT;
  for (const [c, w] of Object.entries(base) as Array<[CauseId, number]>)
    if (w > 0) weights[c] = Math.min(w, 2);
  if (isAccessRuleReading(base)) {
    if (methodDependent) {
      // A method limit (limit_except, <LimitExcept>) refused: not the client's address.
      weights["server-config"] = SERVER_DECISIVE;
      weights["ip-restriction"] = RULED_OUT;
      return {
        weights,
        note: "; another method on the same path was not refused, so the rule limits the method, not the client",
        accessRule: true,
      };
    }
    weights["server-config"] = ACCESS_RULE_SPLIT;
    weights["ip-restriction"] = ACCESS_RULE_SPLIT;
    return { weights, note: ACCESS_RULE_NOTE, accessRule: true };
  }
  weights[(primary as [CauseId, number])[0]] = SERVER_DECISIVE;
  return { weights, note: "", accessRule: false };
}

/**
 * Offline (a recording, no probes): a generic access-rule line keeps both
 * readings at the same weight, as in a live run.
 */
export function splitAccessRuleReadings(evidence: Evidence[]): Evidence[] {
  return evidence.map((e) => {
    if (!isAccessRuleReading(e.weights)) return e;
    const w = Math.max(e.weights["ip-restriction"] ?? 0, e.weights["server-config"] ?? 0);
    return {
      ...e,
      fact: `${e.fact}${ACCESS_RULE_NOTE}`,
      weights: { ...e.weights, "ip-restriction": w, "server-config": w },
      data: { ...e.data, accessRule: true },
    };
  });
}

/**
 * A config evaluation that names the refusing directive decides what a
 * generic access-rule log line stood for: the line then confirms the config's
 * cause (adding evidence never makes the answer vaguer).
 */
export function reconcileWithConfig(fromLogs: Evidence[], fromConfig: Evidence[]): Evidence[] {
  const deciding = fromConfig.find(
    (e) => e.data?.decides === "ip-restriction" || e.data?.decides === "server-config",
  );
  if (!deciding) return fromLogs;
  const cause = deciding.data?.decides as CauseId;
  return fromLogs.map((e) => {
    if (e.data?.accessRule !== true) return e;
    const weights: Partial<Record<CauseId, number>> = { ...e.weights };
    for (const c of SERVER_SIDE_CAUSES) if (c !== cause) weights[c] = RULED_OUT;
    weights[cause] = Math.max(weights[cause] ?? 0, SERVER_DECISIVE);
    const fact = e.fact.replace(ACCESS_RULE_NOTE, "");
    const { ambiguousBetween: _settled, ...data } = e.data ?? {};
    return { ...e, fact: `${fact}; the config names the rule (${deciding.source})`, weights, data };
  });
}

/** The layers a refusing product found in server logs stands for, when it sits inside the web server. */
const EMBEDDED_LAYERS: Record<string, Layer> = { modsecurity: "waf", coraza: "waf" };

/**
 * After server-side evidence: when the server's own logs show an embedded
 * firewall refused the request (ModSecurity inside Apache or nginx), it is the
 * responder and the web server that answered becomes its relay. The verdict's
 * fix starts with the exact steps the evidence computed (a file-system walk's
 * chmod, a config decision's fix).
 */
export function refineWithServerEvidence(report: Report, evidence: Evidence[]): void {
  const refusing = evidence.find(
    (e) =>
      typeof e.data?.product === "string" &&
      EMBEDDED_LAYERS[e.data.product] !== undefined &&
      (e.weights.waf ?? 0) >= SERVER_DECISIVE,
  );
  const current = report.baseline.responder;
  if (refusing && current.product !== refusing.data?.product) {
    const product = refusing.data?.product as string;
    const { relays = [], references, ...self } = current;
    report.baseline.responder = {
      layer: EMBEDDED_LAYERS[product] as Layer,
      product,
      evidence: [refusing.fact],
      ...(references ? { references } : {}),
      relays: self.layer === "unknown" && !self.product ? relays : [{ ...self }, ...relays],
    };
  }
  inferEmbeddedFirewall(report);
  const verdict = report.verdict;
  if (!verdict) return;
  const exact: string[] = [];
  for (const e of evidence) {
    if ((e.weights[verdict.cause] ?? 0) < 4 || !Array.isArray(e.data?.fix)) continue;
    for (const step of e.data.fix as unknown[]) if (typeof step === "string") exact.push(redactText(step));
  }
  if (exact.length) {
    // A config's own fix names the section that matched; a snippet built from the request path does not.
    const fromConfig = evidence.some(
      (e) => e.data?.decides === verdict.cause && Array.isArray(e.data?.fix) && e.data.fix.length > 0,
    );
    const generic = verdict.fix.filter((f) => !(fromConfig && PATH_BUILT_SECTION.test(f)));
    verdict.fix = [...new Set([...exact, ...generic])];
  }
}

/** A template fix that opens a new <Location "/the/request/path"> rather than naming the section that matched. */
const PATH_BUILT_SECTION = /<Location "[^"]*">/;

/** Steps that ask for an input, by the flag that gives it. */
const ASKS_FOR: Array<[flag: string, step: RegExp]> = [
  ["server-logs", /--server-logs\b/],
  ["nginx-conf", /--nginx-conf\b/],
  ["apache-conf", /--apache-conf\b/],
];

/**
 * Next steps (and fix steps) must not ask for what the run was already given:
 * the logs, the nginx or Apache config; nor say to run `why403 config` on a
 * config that was evaluated.
 */
export function dropAnsweredSteps(report: Report, flags: FlagValues): void {
  const given = ASKS_FOR.filter(([flag]) =>
    flag === "server-logs" ? serverLogPaths(flags).length > 0 : typeof flags[flag] === "string",
  ).map(([, step]) => step);
  if (report.nextSteps) report.nextSteps = report.nextSteps.filter((t) => !given.some((re) => re.test(t)));
  const configGiven = typeof flags["nginx-conf"] === "string" || typeof flags["apache-conf"] === "string";
  if (report.verdict && configGiven)
    report.verdict.fix = report.verdict.fix.filter((t) => !/\bwhy403 config\b.*--conf <file>/.test(t));
}

/** Web servers whose own error page an embedded firewall (ModSecurity, Coraza) answers with. */
const EMBEDDING_SERVERS = new Set(["apache", "nginx", "openresty", "litespeed", "iis"]);

/**
 * A content rule proven on the decoy path that answers with the web server's own error
 * page is a firewall inside that server: name it (inferred) and keep the server as relay.
 */
function inferEmbeddedFirewall(report: Report): void {
  const r = report.baseline.responder;
  if (report.verdict?.cause !== "waf" || !report.trigger) return;
  // Host-wide: the content search ran on the decoy path, where no route of the app runs.
  if (!report.probes.some((p) => p.safety === "decoy" && /content search/.test(p.purpose))) return;
  if (r.layer !== "web-server" || !r.product || !EMBEDDING_SERVERS.has(r.product)) return;
  const { relays = [], references, ...self } = r;
  report.baseline.responder = {
    layer: "waf",
    product: "modsecurity",
    evidence: [
      `inferred: a content rule refuses the request on ${r.product}'s own error page, host-wide; ModSecurity is the firewall that runs inside ${r.product} and answers that way (give --server-logs to confirm the rule ids)`,
      ...r.evidence,
    ],
    ...(references ? { references } : {}),
    relays: [{ ...self }, ...relays],
  };
}
