// Server-side evidence for one refused request: the nginx/Apache config
// evaluation, the file-system walk as the server's user, and the server's own
// log lines, weighed against each other (a server record of the mechanism
// outweighs any guess from the outside; a config names what a generic
// access-rule line stood for).
import { statSync } from "node:fs";
import { isIP } from "node:net";
import { InputError, UsageError } from "../errors.js";
import type { ConfigDecision } from "../evidence/config-decision.js";
import type { CauseId, Evidence } from "../model.js";
import { quoteArgument } from "../redact.js";

/** Where server-side evidence comes from (the `diagnose()` options of the same names). */
export interface ConfigSources {
  nginxConf?: string;
  apacheConf?: string;
  /** The client address the server saw, as given (checked here). */
  client?: string;
  /** The user the server reads files as. */
  fsUser?: string;
}

/** The request a config is evaluated for. */
export interface ConfigTarget {
  method: string;
  url: string;
  headers?: Record<string, string>;
  /** The client address the server sees (the `client` option, or the loopback address of a live run). */
  client?: string | null;
}

/**
 * A client address option, checked: an address the server could see (IPv4 or
 * IPv6), else bad input. Null when not given.
 */
export function clientAddress(value: string | undefined): string | null {
  if (typeof value !== "string") return null;
  const address = value.trim().replace(/^\[|\]$/g, "");
  if (isIP(address) === 0)
    throw new UsageError(`--client needs an IPv4 or IPv6 address, got ${quoteArgument(value)}`);
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
 * (`fsUser`, else the config's `user`/`User`).
 */
export async function configEvidence(sources: ConfigSources, request: ConfigTarget): Promise<Evidence[]> {
  const evidence: Evidence[] = [];
  const client = clientAddress(sources.client) ?? request.client ?? null;
  const target = { method: request.method, url: request.url, headers: request.headers, client };
  const fsUser = sources.fsUser ?? null;
  if (sources.nginxConf !== undefined) {
    const { parseNginxConfig, evaluateNginx, nginxEvidence } = await import("../evidence/nginx/index.js");
    const config = parseNginxConfig(sources.nginxConf);
    const decision = evaluateNginx(config, target);
    evidence.push(...markDeciding(decision, nginxEvidence(decision)));
    const configUser = config.directives.find((d) => d.directive === "user")?.args[0] ?? null;
    evidence.push(...(await fsWalkEvidence(decision, fsUser, configUser)));
  }
  if (sources.apacheConf !== undefined) {
    const { parseApacheConfig, evaluateApache, apacheEvidence } = await import("../evidence/apache/index.js");
    const config = parseApacheConfig(sources.apacheConf);
    const decision = evaluateApache(config, target);
    evidence.push(...markDeciding(decision, apacheEvidence(decision)));
    evidence.push(...(await fsWalkEvidence(decision, fsUser, apacheUser(config.nodes))));
  }
  if (fsUser && sources.nginxConf === undefined && sources.apacheConf === undefined)
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
async function fsWalkEvidence(
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
export const SERVER_DECISIVE = 6;
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
function refusalDependsOnMethod(ctx: ServerLogContext): boolean | null {
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
