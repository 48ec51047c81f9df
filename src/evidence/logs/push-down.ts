// The ClickHouse query of `why403 logs --clickhouse`, generated from LINE_RULES
// (the rule files of data/logs and the patterns the local parsers run), so that
// both paths classify a line the same way. Pure: text in, SQL text out;
// clickhouse.ts runs it.
//
// The query works in stages (denialsStages), each a SELECT the next reads as a
// table; clickhouse.ts runs each into a session temporary table:
//  1. raw → lines → errors: the rows that can make a record (a substring
//     prefilter, then the candidate patterns), peeled of their envelope, with
//     their format; error lines with their message and WAF part;
//  2. records: per format, one UNION ALL branch each, the cause, status,
//     client, time (second), path, rule and join id the local parsers give;
//  3. entities: records sharing a join id (X-Request-Id, ModSecurity
//     unique_id) are one request, as the local join does by id;
//  4. groups → denials: within one client and second, refused access lines
//     pair with the error/WAF requests, as the local join does by time (the
//     deciding record is the strongest, as in the local merge); the report's
//     counts are read from the denials (only aggregates and a few example rows
//     leave the server).
// Covered: nginx/Apache access lines (common, combined, vhost_combined, extra
// fields), nginx and Apache (2.2 and 2.4) error lines with every rule of their
// message families (data/logs/formats/{nginx,apache}-error.json), ModSecurity/
// Coraza lines; and every other regex format of data/logs/formats (HAProxy HTTP
// and TCP, Squid, lighttpd error, Envoy, IIS default order, W3C headers, the
// vhost-first access layout) and the free-text families of "text" (mod_evasive,
// fail2ban) through one generic branch, dataRecords(), which is rule-record.ts
// recordOf() in SQL: a format or rule added to the data needs no code here.
// Each of these also inside the regex envelopes of data/logs/wrappers.json
// (syslog, journald export, CRI), up to three deep, peeled as locally.
// Not covered: JSON lines (application, audit, Caddy/Traefik, Docker/journald
// envelopes: "unsupported"), W3C lines in another field order (a row alone
// cannot say its order), multi-line audit records and custom
// log_format lines ("unknown").
import { AUDIT_BOUNDARY } from "./audit.js";
import { ID_JOIN_SECONDS } from "./join.js";
import type { DataFormat, DataRule, LineRules } from "./line-rules.js";
import { LOGFMT_LINE } from "./logfmt.js";
import { MAX_WRAPPERS } from "./rules.js";
import { IIS_DEFAULT } from "./w3c.js";

export interface PushDownTable {
  table: string;
  lineColumn: string;
  /** Column naming each row's file or host:file; null when the table has none. */
  sourceColumn: string | null;
  /** Column with the row's line number in its source (what `ship` writes); null when none. */
  numberColumn: string | null;
  /** DateTime column for --since/--until; null when none. */
  timeColumn: string | null;
  since?: Date;
  until?: Date;
  /** IANA zone for zoneless stamps (nginx and Apache error logs), as the local path reads them. */
  timeZone: string;
}

/** A ClickHouse string literal. */
export function sqlString(s: string): string {
  return `'${s.replace(/\\/g, "\\\\").replace(/'/g, "\\'")}'`;
}

/** A quoted identifier (db.table allowed). */
export function sqlIdent(name: string): string {
  return name
    .split(".")
    .map((part) => `\`${part.replace(/\\/g, "\\\\").replace(/`/g, "\\`")}\``)
    .join(".");
}

/**
 * A JavaScript pattern as RE2 (ClickHouse's regex engine). The rule patterns
 * use the common subset; lookaround has no RE2 form and is refused here so that
 * a rule written with it fails loudly in the tests, not silently in the query.
 */
export function re2(re: RegExp | string): string {
  const source = typeof re === "string" ? re : re.source;
  if (/\(\?<?[=!]/.test(source)) throw new Error(`pattern has lookaround, which RE2 lacks: ${source}`);
  if (/\\[1-9]/.test(source)) throw new Error(`pattern has a back-reference, which RE2 lacks: ${source}`);
  const flags = typeof re === "string" ? "" : re.flags;
  return flags.includes("i") ? `(?i)${source}` : source;
}

const rx = (re: RegExp | string) => sqlString(re2(re));
const arr = (xs: ReadonlyArray<string | number>) =>
  `[${xs.map((x) => (typeof x === "number" ? String(x) : sqlString(x))).join(", ")}]`;
/** Group `n` of `re` in `expr` ('' when no match): RE2 replacements reach only \\1-\\9, so the others are made non-capturing. */
const group = (expr: string, re: RegExp, n: number) => `extract(${expr}, ${rx(onlyGroup(re, n))})`;

/** `re` with every capturing group but the n-th made non-capturing. */
export function onlyGroup(re: RegExp, n: number): RegExp {
  return keepGroups(re, [n]);
}

/** `re` with only the capturing groups numbered in `keep` left capturing (they become 1, 2, … in order). */
export function keepGroups(re: RegExp, keep: number[]): RegExp {
  const src = re.source;
  let out = "";
  let k = 0;
  let inClass = false;
  for (let i = 0; i < src.length; i++) {
    const c = src[i] as string;
    if (c === "\\") {
      out += c + (src[i + 1] ?? "");
      i++;
      continue;
    }
    if (inClass) {
      if (c === "]") inClass = false;
    } else if (c === "[") inClass = true;
    else if (c === "(" && src[i + 1] !== "?") {
      k++;
      out += keep.includes(k) ? "(" : "(?:";
      continue;
    }
    out += c;
  }
  return new RegExp(out, re.flags);
}
const pad2 = (expr: string) => `if(length(${expr}) = 1, concat('0', ${expr}), ${expr})`;

/** clientAddress() in SQL, from the same patterns. */
function clientSql(raw: string, withPort: boolean, r: LineRules): string {
  const trimmed = `replaceRegexpAll(replaceRegexpAll(${raw}, '^\\\\s+|\\\\s+$', ''), '^"|"$', '')`;
  // The JS pattern drops "::ffff:" only before an IPv4 address (a lookahead): RE2 keeps the address as a group.
  const mapped = r.client.mappedV4.source.replace("(?=", "(");
  const unmapped = `replaceRegexpOne(${trimmed}, ${rx(new RegExp(mapped, "i"))}, '\\\\1')`;
  const portless = withPort
    ? `replaceRegexpOne(c, ${rx(r.client.port)}, '')`
    : `if(match(c, ${rx(r.client.v4WithPort)}), replaceRegexpOne(c, ${rx(r.client.port)}, ''), c)`;
  // `c` is bound with arrayJoin-free lambda-style: ClickHouse 18.16 has no LET, so the value is repeated through a one-element array map.
  return `arrayElement(arrayMap(c -> if(match(c, ${rx(r.client.bracketed)}), ${group("c", r.client.bracketed, 1)}, ${portless}), [${unmapped}]), 1)`;
}

/** Epoch second of "YYYY-MM-DD hh:mm:ss" in `zone`, or NULL. */
function epoch(expr: string, zone: string): string {
  return `toUnixTimestamp(parseDateTimeBestEffortOrNull(${expr}, ${sqlString(zone)}))`;
}

/** Epoch second of an access line's time field (`field`: group 6 of the line), or NULL. */
function accessSeconds(r: LineRules, field = group("l", r.access.line, 6)): string {
  const t = r.access.time;
  const stamp = `replaceRegexpAll(${field}, '^\\\\s+|\\\\s+$', '')`;
  // One pass of the pattern gives month, year, h, m, s (fixed widths), then " day|zone".
  const parts = `replaceRegexpOne(ts, ${rx(keepGroups(t, [1, 2, 3, 4, 5, 6, 8]))}, '\\\\2\\\\3\\\\4\\\\5\\\\6 \\\\1|\\\\7')`;
  const bar = "position(p, '|')";
  const day = `substring(p, 15, ${bar} - 15)`;
  const monthIndex = `indexOf(${arr(r.access.months)}, lower(substring(p, 1, 3)))`;
  const local = `concat(substring(p, 4, 4), '-', ${pad2(`toString(${monthIndex})`)}, '-', ${pad2(day)}, ' ', substring(p, 8, 2), ':', substring(p, 10, 2), ':', substring(p, 12, 2))`;
  const zone = `replaceRegexpAll(substring(p, ${bar} + 1), ':', '')`;
  const offset = `if(length(z) = 5, (if(substring(z, 1, 1) = '-', -1, 1) * (toInt32OrZero(substring(z, 2, 2)) * 3600 + toInt32OrZero(substring(z, 4, 2)) * 60)), 0)`;
  const valid = `match(ts, ${rx(t)}) AND ${monthIndex} > 0`;
  const seconds = `if(${valid}, toInt64(${epoch(local, "UTC")}) - arrayElement(arrayMap(z -> ${offset}, [${zone}]), 1), NULL)`;
  return `arrayElement(arrayMap(ts -> arrayElement(arrayMap(p -> ${seconds}, [${parts}]), 1), [${stamp}]), 1)`;
}

function apacheSeconds(r: LineRules, zone: string, stamp = fieldSql(r.apacheError, "time")): string {
  const t = r.apacheError.time;
  const g = (n: number) => group("ts", t, n);
  const month = `toString(indexOf(${arr(r.access.months)}, lower(${g(1)})))`;
  const local = `concat(${g(7)}, '-', ${pad2(month)}, '-', ${pad2(g(2))}, ' ', ${g(3)}, ':', ${g(4)}, ':', ${g(5)})`;
  return `arrayElement(arrayMap(ts -> if(match(ts, ${rx(t)}), toInt64(${epoch(local, zone)}), NULL), [${stamp}]), 1)`;
}

/**
 * A field of a data format in SQL, as rules.ts reads it: a group of the line
 * pattern, or an `extract` pattern's group 1 in another field ('' when absent,
 * where the local reader has undefined). `aliases` names columns that already
 * hold a field.
 */
export function fieldSql(f: DataFormat, name: string, aliases: Record<string, string> = {}): string {
  const alias = aliases[name];
  if (alias !== undefined) return alias;
  const n = f.fields[name];
  if (n !== undefined) return group("l", f.line, n);
  const ex = f.extract[name];
  if (ex !== undefined) return group(fieldSql(f, ex[0], aliases), ex[1], 1);
  throw new Error(`log format ${f.id} has no field ${name}`);
}

/** The condition of one data rule: every `where` finds in its field, and `match` in field `on`. */
function ruleCondition(f: DataFormat, rule: DataRule, aliases: Record<string, string>): string {
  const parts = rule.where.map(([name, re]) => `match(${fieldSql(f, name, aliases)}, ${rx(re)})`);
  if (rule.match) parts.push(`match(${fieldSql(f, rule.on, aliases)}, ${rx(rule.match)})`);
  return parts.length ? parts.join(" AND ") : "1";
}

/** The number (1-based) of the first rule of `f` that matches, 0 for none: the first match wins, as locally. */
function ruleIndex(f: DataFormat, aliases: Record<string, string>): string {
  if (f.rules.length === 0) return "0";
  return `multiIf(${f.rules.map((rule, i) => `${ruleCondition(f, rule, aliases)}, ${i + 1}`).join(", ")}, 0)`;
}

/**
 * Per rule of `f` (by number), 1 when it reads an address rule or a blanket deny, the
 * other as its alternative. Only the nginx and Apache error rules are flagged: the
 * allowed stage reads nginx/Apache access lines, so the ACL refusals of the data
 * formats (HAProxy, Squid, Envoy, cloud logs) keep their line's reading inside
 * ClickHouse rather than be called a blanket deny for want of their allowed lines.
 */
function ambFlags(f: DataFormat): string {
  return arr(f.rules.map((rule) => (rule.addressOrBlanket ? 1 : 0)));
}

/** Field `name` as the matching rule (number in column `idx`) reads it from its own match; '' when it has none. */
function ruleField(f: DataFormat, idx: string, name: string, aliases: Record<string, string>): string {
  const arms = f.rules.flatMap((rule, i) => {
    const n = rule.fields[name];
    if (n === undefined || !rule.match) return [];
    return [`${idx} = ${i + 1}, ${group(fieldSql(f, rule.on, aliases), rule.match, n)}`];
  });
  return arms.length ? `multiIf(${arms.join(", ")}, '')` : "''";
}

/** The matching rule's cause: '' for null (recognised, not a refusal); "by-status" resolved from `status`. */
function ruleCause(f: DataFormat, idx: string, status: string, r: LineRules): string {
  const c = `arrayElement(${arr(f.rules.map((x) => x.cause ?? ""))}, ${idx})`;
  return `if(${c} = 'by-status', ${statusCauseSql(status, r)}, ${c})`;
}

/** True when the matching rule's cause is "by-status" (a weak, status-only reading). */
function ruleByStatus(f: DataFormat, idx: string): string {
  return `arrayElement(${arr(f.rules.map((x) => x.cause ?? ""))}, ${idx}) = 'by-status'`;
}

/** The status the matching rule implies (0: none). */
function ruleStatus(f: DataFormat, idx: string): string {
  return `toUInt16(arrayElement(${arr(f.rules.map((x) => x.status ?? 0))}, ${idx}))`;
}

/** causeFromStatus() in SQL. */
function statusCauseSql(status: string, r: LineRules): string {
  const sc = r.access.statusCauses;
  return `transform(toUInt32(${status}), ${arr(sc.map(([s]) => s))}, ${arr(sc.map(([, c]) => c))}, 'unknown')`;
}

/** `re` with every capturing group made non-capturing. */
const noGroups = (re: RegExp) => onlyGroup(re, 0);

/** `re` with the body of its n-th capturing group replaced by `body`. */
export function replaceGroup(re: RegExp, n: number, body: string): RegExp {
  const src = re.source;
  let k = 0;
  let inClass = false;
  let start = -1;
  let depth = 0;
  for (let i = 0; i < src.length; i++) {
    const c = src[i] as string;
    if (c === "\\") {
      i++;
      continue;
    }
    if (inClass) {
      if (c === "]") inClass = false;
      continue;
    }
    if (c === "[") inClass = true;
    else if (c === "(") {
      if (start !== -1) depth++;
      else if (src[i + 1] !== "?" && ++k === n) start = i + 1;
    } else if (c === ")" && start !== -1) {
      if (depth === 0) return new RegExp(`${src.slice(0, start)}${body}${src.slice(i)}`, re.flags);
      depth--;
    }
  }
  throw new Error(`pattern has no group ${n}: ${src}`);
}

/**
 * Rows that can make a record: an access line with a refusal status, an error
 * line of nginx or Apache, or a line with a WAF marker. The rest (most rows)
 * skip the per-field patterns. `inside`: the patterns lose their leading ^, so
 * that they also find in a line that holds such a line in an envelope (the
 * peeled message is a part of the line): the one cheap pass over every row.
 */
function candidate(r: LineRules, expr: string, inside = false): string {
  const refusals = r.access.refusalStatuses.join("|");
  const refusedAccess = replaceGroup(r.access.line, 8, refusals);
  const own = [refusedAccess, r.apacheError.line, r.nginxError.line, r.waf.marker]
    .map((re) => `match(${expr}, ${rx(inside ? unanchored(re) : re)})`)
    .join(" OR ");
  return `${own} OR ${dataCandidate(r, expr, inside)}`;
}

/** `re` without its leading ^: it finds in every line that has a part `re` matches. */
export function unanchored(re: RegExp): RegExp {
  return re.source.startsWith("^") ? new RegExp(re.source.slice(1), re.flags) : re;
}

/** True when `expr` holds a ModSecurity/Coraza message with an action (parseWafMessage() gives one). */
function wafSql(expr: string, r: LineRules): string {
  const rest = `(${noGroups(r.waf.marker).source}.*)$`;
  return `match(extract(${expr}, ${rx(rest)}), ${rx(r.waf.action)})`;
}

/** True when `expr` is a line the local dispatcher reads as it is (no envelope to peel). */
function readsAsIs(expr: string, r: LineRules): string {
  const a = r.access;
  const direct = [r.apacheError.line, r.nginxError.line, ...r.formats].map(
    (re) => `match(${expr}, ${rx(re)})`,
  );
  const access = `(match(${expr}, ${rx(a.line)}) AND match(${group(expr, a.line, 6)}, ${rx(a.time)}))`;
  return `(match(${expr}, '^\\\\s*$') OR substring(${expr}, 1, 1) = '{' OR ${access} OR ${wafSql(expr, r)} OR ${direct.join(" OR ")})`;
}

/** One regex that finds when any envelope of data/logs/wrappers.json could be peeled (a cheap row filter). */
function anyWrapper(expr: string, r: LineRules): string {
  if (r.wrappers.length === 0) return "0";
  return `match(${expr}, ${rx(r.wrappers.map((w) => `(?:${noGroups(w.line).source})`).join("|"))})`;
}

/**
 * peelText() in SQL, one envelope deep: (inner line, wrapper id, wrapper time)
 * of the first envelope whose message differs from the line, for a line no
 * format reads as it is; (line, '', '') otherwise.
 */
function peelOnceSql(expr: string, r: LineRules): string {
  const none = `tuple(${expr}, '', '')`;
  if (r.wrappers.length === 0) return none;
  const arms = r.wrappers.map((w) => {
    const inner = group(expr, w.line, w.message);
    const time = w.time === null ? "''" : group(expr, w.line, w.time);
    return `match(${expr}, ${rx(w.line)}) AND ${inner} != ${expr}, tuple(${inner}, ${sqlString(w.id)}, ${time})`;
  });
  return `if(${readsAsIs(expr, r)}, ${none}, multiIf(${arms.join(", ")}, ${none}))`;
}

/**
 * The dispatcher's peeling in SQL: up to MAX_WRAPPERS envelopes deep (a syslog
 * line holding another syslog prefix, a CRI line holding a syslog line), as
 * (innermost line, innermost wrapper id, innermost wrapper time that is set).
 * Each level after the first is an arrayMap over a one-element array that the
 * filter empties when the line has no envelope left: 18.16 has no short circuit,
 * but a lambda over an empty array costs nothing.
 */
function peelSql(expr: string, r: LineRules): string {
  let peeled = peelOnceSql(expr, r);
  const wrapped = anyWrapper("x", r);
  for (let depth = 1; depth < MAX_WRAPPERS; depth++) {
    const p = peeled;
    const deeper = `arrayMap(q -> if(tupleElement(q, 2) = '', p, tuple(tupleElement(q, 1), tupleElement(q, 2), if(tupleElement(q, 3) != '', tupleElement(q, 3), tupleElement(p, 3)))),
      arrayMap(x -> ${peelOnceSql("x", r)}, arrayFilter(x -> tupleElement(p, 2) != '' AND ${wrapped}, [tupleElement(p, 1)])))`;
    peeled = `arrayElement(arrayMap(p -> arrayElement(arrayConcat(${deeper}, [p]), 1), [${p}]), 1)`;
  }
  return peeled;
}

/** Epoch second of an envelope's time as parseAnyTime() reads it (ISO only; NULL otherwise). */
function wrapperSeconds(zone: string): string {
  const iso = `match(wtime, '^[0-9]{4}-[0-9]{2}-[0-9]{2}[T ][0-9]{2}:[0-9]{2}')`;
  return `if(${iso}, toInt64(${epoch("replaceOne(wtime, ',', '.')", zone)}), NULL)`;
}

/** access-common / -combined / -vhost_combined, "+fields" with trailing fields (as sniffAccess names them). */
function accessFlavour(r: LineRules): string {
  const a = r.access.line;
  const base = `multiIf(${group("l", a, 1)} != '', 'vhost_combined', ${group("l", a, 10)} != '' OR ${group("l", a, 11)} != '', 'combined', 'common')`;
  return `concat('access-', ${base}, if(match(${group("l", a, 12)}, '\\\\S'), '+fields', ''))`;
}

/**
 * The stages of the denials query, each a SELECT whose result later stages read
 * by name ({{raw}}, {{lines}}, …), run one by one into session temporary tables
 * (stageStatement). ClickHouse
 * 18.16 evaluates every branch of an expression for every row (no short
 * circuit), so each stage filters first and the records are made per format,
 * one UNION ALL branch each: a line pays only for its own format's patterns.
 */
export interface Stage {
  name: string;
  select: string;
}

const ref = (name: string) => `{{${name}}}`;

/**
 * Stage raw: the rows that can make a record, numbered. Two filters, the
 * inner one first: the cheap prefilter (substrings, one small pattern), then
 * the candidate patterns on the few rows left.
 */
function rawStage(t: PushDownTable, r: LineRules): string {
  const where = [prefilterSql("raw", r)];
  if (t.timeColumn && t.since) where.push(`row_time >= toDateTime(${Math.floor(t.since.getTime() / 1000)})`);
  if (t.timeColumn && t.until) where.push(`row_time <= toDateTime(${Math.floor(t.until.getTime() / 1000)})`);
  return `SELECT src, n, rowNumberInAllBlocks() AS rn, raw, ${anyWrapper("raw", r)} AS wrapped
    FROM (SELECT src, n, raw FROM (${tableRows(t)}) WHERE ${where.join(" AND ")})
    WHERE ${candidate(r, "raw", true)}`;
}

/** LineRules.prefilter and dataPrefilter in SQL. */
function prefilterSql(expr: string, r: LineRules): string {
  // The data formats' many literals (rule hints) go into one pattern with their status pattern: one RE2 pass, not one search each.
  const literal = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
  const dataNeedles = r.dataPrefilter.needles.filter((s) => !r.prefilter.needles.includes(s)).map(literal);
  const data = [...dataNeedles, ...r.dataPrefilter.patterns.map((re) => `(?:${re.source})`)];
  const tests = [
    ...r.prefilter.needles.map((s) => `position(${expr}, ${sqlString(s)}) > 0`),
    ...r.prefilter.patterns.map((re) => `match(${expr}, ${rx(re)})`),
    ...(data.length ? [`match(${expr}, ${rx(data.join("|"))})`] : []),
  ];
  return `(${tests.join(" OR ")})`;
}

/** The table's rows as (src, n, raw[, row_time]). */
function tableRows(t: PushDownTable): string {
  const src = t.sourceColumn ? `toString(${sqlIdent(t.sourceColumn)})` : "''";
  const n = t.numberColumn ? `toUInt64(${sqlIdent(t.numberColumn)})` : "toUInt64(0)";
  const time = t.timeColumn ? `, ${sqlIdent(t.timeColumn)} AS row_time` : "";
  return `SELECT ${src} AS src, ${n} AS n, toString(${sqlIdent(t.lineColumn)}) AS raw${time} FROM ${sqlIdent(t.table)}`;
}

/**
 * Stage lines: rows of `from` (src, n, rn, raw, wrapped: an envelope pattern
 * finds) peeled of their envelope, with their format (fmt). Only wrapped rows
 * pay for the peel. Rows of a format that makes no record are dropped (the
 * records stage drops the rest), unless `allRows` (to name a file's format).
 */
function linesStage(from: string, r: LineRules, allRows = false): string {
  const a = r.access;
  const accessTime = `match(${group("l", a.line, 6)}, ${rx(a.time)})`;
  // In the dispatcher's order: Apache error, nginx error, access, a WAF line.
  const format = `multiIf(
      match(l, '^\\\\s*$'), 'empty',
      substring(l, 1, 1) = '{', 'unsupported',
      match(l, ${rx(r.apacheError.line)}), 'apache-error',
      match(l, ${rx(r.nginxError.line)}), 'nginx-error',
      match(l, ${rx(a.line)}) AND ${accessTime}, 'access',
      ${wafSql("l", r)}, 'waf-text',
      ${r.dataFormats.map((f) => `match(l, ${rx(f.line)}), ${sqlString(f.id)},`).join("\n      ")}
      ${freeTextFormat(r)})`;
  const peeled = `SELECT src, n, rn, raw, raw AS l, '' AS wrapper, '' AS wtime FROM ${from} WHERE NOT wrapped
    UNION ALL
    SELECT src, n, rn, raw, tupleElement(peel, 1) AS l, tupleElement(peel, 2) AS wrapper, tupleElement(peel, 3) AS wtime
    FROM (SELECT src, n, rn, raw, ${peelSql("raw", r)} AS peel FROM ${from} WHERE wrapped)`;
  return `SELECT src, n, rn, raw, l, wrapper, wtime,
      if(wrapper != '' AND fmt0 IN ('empty', 'unknown'), concat(wrapper, ':unknown'), fmt0) AS fmt
    FROM (SELECT src, n, rn, raw, l, wrapper, wtime, ${format} AS fmt0
      FROM (${peeled}))${allRows ? "" : ` WHERE has(${arr(["access", "nginx-error", "apache-error", "waf-text", ...r.dataFormats.filter(canRecord).map((f) => f.id)])}, fmt) OR startsWith(fmt, 'text:')`}`;
}

/** The columns every records branch gives, in this order and of these types (UNION ALL needs both). */
const RECORD_COLUMNS = `src, n, rn, raw,
    toString(cause) AS cause, toUInt8(strength) AS strength, toUInt8(denied) AS denied, toUInt8(acc) AS acc,
    toUInt16(status) AS status, toString(client) AS client, toString(rpath) AS rpath, toString(jid) AS jid,
    toString(rule) AS rule, CAST(sec AS Nullable(Int64)) AS sec, toUInt8(amb) AS amb`;

/** requestPath(): the target of a request line ('' when none). */
const requestPath = (line: string, r: LineRules) =>
  `replaceRegexpOne(replaceRegexpAll(${line}, '^\\\\s+|\\\\s+$', ''), ${rx(`${r.requestLine.source}|^.*$`)}, '\\\\2')`;

/** An error line's time, or the envelope's when it has none. */
const orWrapperTime = (sec: string, t: PushDownTable) => `ifNull(${sec}, ${wrapperSeconds(t.timeZone)})`;

/** Refused access lines. */
function accessRecords(t: PushDownTable, r: LineRules): string {
  const a = r.access;
  const accessTail = group("l", a.line, 12);
  const idSource = a.idField.source;
  // replaceRegexpOne leaves a line the pattern does not find in as it is: only lines it finds in give an id.
  const idRe = new RegExp(`^.*?${idSource}.*$`, "i");
  const firstId = `if(match(tail, ${rx(idRe)}), replaceRegexpOne(tail, ${rx(idRe)}, '\\\\2'), '')`;
  // ModSecurity's unique_id, when the access line logs it, is the id the WAF lines carry: the join key to prefer.
  const uidRe = /^.*?\b(?:uid|unique_id)=("([^"]*)"|\S+).*$/i;
  const uniqueId = `if(match(tail, ${rx(uidRe)}), replaceRegexpOne(tail, ${rx(uidRe)}, '\\\\1'), '')`;
  const unquote = (v: string) => `replaceRegexpOne(${v}, '^"(.*)"$', '\\\\1')`;
  const accessId = `arrayElement(arrayMap(tail -> arrayElement(arrayFilter(v -> v != '' AND v != '-' AND v != '""', [${unquote(uniqueId)}, ${unquote(firstId)}, '']), 1), [${accessTail}]), 1)`;
  // One pass of the line pattern gives status (3 digits), client (no space), time (no "]") and request:
  const parts = `replaceRegexpOne(l, ${rx(keepGroups(a.line, [3, 6, 7, 8]))}, '\\\\4\\\\1 \\\\2]\\\\3')`;
  return `SELECT ${RECORD_COLUMNS} FROM (
    SELECT src, n, rn, raw, l, wtime, status, substring(parts, 4) AS p1, substring(p1, position(p1, ' ') + 1) AS p2,
      ${statusCauseSql("status", r)} AS cause, if(cause = 'unknown', 0, 1) AS strength, 1 AS denied, 1 AS acc,
      ${clientSql("substring(p1, 1, position(p1, ' ') - 1)", false, r)} AS client,
      ${requestPath("replaceRegexpAll(substring(p2, position(p2, ']') + 1), '\\\\\\\\\"', '\"')", r)} AS rpath,
      ${accessId} AS jid, '' AS rule, 0 AS amb,
      ${orWrapperTime(accessSeconds(r, "substring(p2, 1, position(p2, ']') - 1)"), t)} AS sec
    FROM (SELECT src, n, rn, raw, l, wtime, ${parts} AS parts, toUInt16OrZero(substring(parts, 1, 3)) AS status
      FROM ${ref("lines")} WHERE fmt = 'access')
    WHERE has(${arr(a.refusalStatuses)}, toUInt32(status)))`;
}

/** The rows of `fmt` with their message, WAF text and whether they hold a WAF message. */
function errorLines(fmt: "nginx-error" | "apache-error", r: LineRules): string {
  const f = fmt === "nginx-error" ? r.nginxError : r.apacheError;
  const wtext = fmt === "nginx-error" ? "msg" : fieldSql(f, "rest");
  return `SELECT src, n, rn, raw, l, wtime, fmt, msg, wtext, ${wafSql("wtext", r)} AS waf
    FROM (SELECT src, n, rn, raw, l, wtime, fmt, ${fieldSql(f, "message")} AS msg, ${wtext} AS wtext
      FROM ${ref("lines")} WHERE fmt = ${sqlString(fmt)})`;
}

/** Stage errors: the nginx and Apache error lines with their message, read by both their rule and WAF records. */
function errorsStage(r: LineRules): string {
  return `${errorLines("nginx-error", r)}\nUNION ALL\n${errorLines("apache-error", r)}`;
}

/** The time of an error line of `fmt` (NULL when it has none). */
function errorSeconds(
  fmt: "nginx-error" | "apache-error" | "waf-text",
  t: PushDownTable,
  r: LineRules,
): string {
  const alias = { message: "msg" };
  const w = r.waf;
  if (fmt === "nginx-error")
    return `toInt64(${epoch(`replaceRegexpAll(${fieldSql(r.nginxError, "time", alias)}, '/', '-')`, t.timeZone)})`;
  if (fmt === "apache-error") return apacheSeconds(r, t.timeZone);
  return `if(match(l, ${rx(w.lineTime)}), toInt64(${epoch(`replaceRegexpOne(${group("l", w.lineTime, 1)}, '^([0-9]{4})/([0-9]{2})/([0-9]{2})', '\\\\1-\\\\2-\\\\3')`, t.timeZone)}), NULL)`;
}

/** An error line's client field as clientAddress() reads it; `otherwise` when the line has none. */
function errorClient(fmt: "nginx-error" | "apache-error", r: LineRules, otherwise = "''"): string {
  const alias = { message: "msg" };
  if (fmt === "nginx-error") {
    const c = fieldSql(r.nginxError, "client", alias);
    return `if(${c} != '' AND ${c} != '-', ${clientSql(c, false, r)}, ${otherwise})`;
  }
  const c = fieldSql(r.apacheError, "client", alias);
  // 2.4 appends ":port" to the client, 2.2 (no module in the level) does not.
  const withPort = `${fieldSql(r.apacheError, "module", alias)} != ''`;
  return `if(${c} != '' AND ${c} != '-', if(${withPort}, ${clientSql(c, true, r)}, ${clientSql(c, false, r)}), ${otherwise})`;
}

/** Error lines a message rule of their format refuses (or reads by status); the first rule that matches decides. */
function ruleRecords(fmt: "nginx-error" | "apache-error", t: PushDownTable, r: LineRules): string {
  const f = fmt === "nginx-error" ? r.nginxError : r.apacheError;
  const alias = { message: "msg" };
  const causes = arr(f.rules.map((x) => x.cause ?? ""));
  const rulePath = `arrayElement(arrayMap(p -> if(p = '-', '', p), [${ruleField(f, "idx", "path", alias)}]), 1)`;
  const path =
    fmt === "nginx-error"
      ? `arrayElement(arrayMap(rp -> if(rp != '', rp, ${requestPath(fieldSql(f, "request", alias), r)}), [${rulePath}]), 1)`
      : rulePath;
  return `SELECT ${RECORD_COLUMNS} FROM (
    SELECT src, n, rn, raw, l, wtime, msg, ${ruleStatus(f, "idx")} AS status,
      ${ruleCause(f, "idx", "status", r)} AS cause,
      if(${ruleByStatus(f, "idx")}, if(cause = 'unknown', 0, 1), 3) AS strength, 1 AS denied, 0 AS acc,
      ${errorClient(fmt, r)} AS client, ${path} AS rpath, '' AS jid, '' AS rule,
      arrayElement(${ambFlags(f)}, idx) AS amb,
      ${orWrapperTime(errorSeconds(fmt, t, r), t)} AS sec
    FROM (SELECT src, n, rn, raw, l, wtime, msg, ${ruleIndex(f, alias)} AS idx
      FROM ${ref("errors")} WHERE fmt = ${sqlString(fmt)} AND NOT waf)
    WHERE idx > 0 AND arrayElement(${causes}, idx) != '')`;
}

/** Lines of `fmt` holding a ModSecurity/Coraza message (a refusal or a mere match). */
function wafRecords(
  fmt: "nginx-error" | "apache-error" | "waf-text",
  t: PushDownTable,
  r: LineRules,
): string {
  const w = r.waf;
  const wafRest = `extract(wtext, ${rx(`(${noGroups(w.marker).source}.*)$`)})`;
  const action = `extract(wrest, ${rx(w.action)})`;
  const disruptive = w.disruptivePrefixes.map((p) => `startsWith(${action}, ${sqlString(p)})`).join(" OR ");
  const wafField = (name: string) => `extract(wrest, ${rx(w.field(name))})`;
  const wafClient = clientSql(`extract(wtext, ${rx(w.client)})`, false, r);
  const client = fmt === "waf-text" ? wafClient : errorClient(fmt, r, wafClient);
  const nginxRequest = requestPath(fieldSql(r.nginxError, "request", { message: "msg" }), r);
  const path =
    fmt === "nginx-error"
      ? `arrayElement(arrayMap(q -> if(q != '', q, ${wafField("uri")}), [${nginxRequest}]), 1)`
      : wafField("uri");
  const status = `toUInt16OrZero(extract(wrest, ${rx(w.status)}))`;
  const from =
    fmt === "waf-text"
      ? `(SELECT src, n, rn, raw, l, wtime, '' AS msg, l AS wtext FROM ${ref("lines")} WHERE fmt = 'waf-text')`
      : `${ref("errors")} WHERE fmt = ${sqlString(fmt)} AND waf`;
  return `SELECT ${RECORD_COLUMNS} FROM (
    SELECT src, n, rn, raw, l, wtime, msg, ${wafRest} AS wrest, ${wafField("id")} AS rule,
      if(match(rule, ${rx(w.rateFamily)}), 'rate-limit', 'waf') AS cause, 3 AS strength,
      ${disruptive} AS denied, 0 AS acc,
      if(denied, if(${status} = 0, toUInt16(403), ${status}), toUInt16(0)) AS status,
      ${client} AS client, ${path} AS rpath, ${wafField("unique_id")} AS jid, 0 AS amb,
      ${orWrapperTime(errorSeconds(fmt, t, r), t)} AS sec
    FROM ${from})`;
}

/** Stage records: the record each line makes, per format (a line makes at most one). */
function recordsStage(t: PushDownTable, r: LineRules): string {
  return [
    accessRecords(t, r),
    ruleRecords("nginx-error", t, r),
    ruleRecords("apache-error", t, r),
    wafRecords("nginx-error", t, r),
    wafRecords("apache-error", t, r),
    wafRecords("waf-text", t, r),
    ...r.dataFormats.filter(canRecord).map((f) => dataRecords(f, `fmt = ${sqlString(f.id)}`, t, r)),
    dataRecords(r.freeText, "startsWith(fmt, 'text:')", t, r),
  ].join("\nUNION ALL\n");
}

export interface DenialFilters {
  since?: Date;
  until?: Date;
  status?: number[];
  path?: string;
}

/** pathOnly() in SQL: the URL path without scheme, host, query or fragment. */
export function pathKey(expr: string): string {
  return `replaceRegexpOne(replaceRegexpOne(${expr}, '^[a-zA-Z][a-zA-Z0-9+.-]*://[^/]*', ''), '[?#].*$', '')`;
}

/**
 * Per join id, its lines' distinct seconds in order (s) and, for each, how many
 * gaps longer than ID_JOIN_SECONDS come before it (cum): lines of one id split
 * into requests at such gaps, as the local join takes an id only that near.
 */
function idSpans(): string {
  const gaps = `arrayMap(i -> if(i = 1, 0, arrayElement(s, i) - arrayElement(s, i - 1) > ${ID_JOIN_SECONDS}), arrayEnumerate(s))`;
  return `SELECT jid, s, arrayCumSum(${gaps}) AS cum
    FROM (SELECT jid, arraySort(groupUniqArray(assumeNotNull(sec))) AS s
      FROM ${ref("records")} WHERE jid != '' AND isNotNull(sec) GROUP BY jid)`;
}

/**
 * Stage entities: records sharing a join id (within ID_JOIN_SECONDS) are one request. The deciding
 * record is picked as the local merge does: strongest first, then a refusal
 * over a mere match, then the earliest line. `gk` is the request's pairing
 * group (client and second).
 */
function entitiesStage(): string {
  const pick = (col: string) => `argMin(${col}, sk)`;
  // A record without a join id is a request alone: no aggregation.
  const alone = `SELECT concat('r', toString(rn)) AS ek, cause, rpath AS path, client, status,
      if(rule != '', [rule], emptyArrayString()) AS rules, src AS ex_src, n AS ex_n, raw AS ex_line,
      denied, acc, sec, [src] AS srcs, amb
    FROM ${ref("records")} WHERE jid = ''`;
  const joined = `SELECT ek,
      ${pick("cause")} AS cause,
      if(anyIf(rpath, is_access AND rpath != '') != '', anyIf(rpath, is_access AND rpath != ''), argMinIf(rpath, rn, rpath != '')) AS path, anyIf(client, client != '') AS client,
      ${pick("status")} AS status, groupUniqArrayIf(rule, rule != '') AS rules,
      ${pick("src")} AS ex_src, ${pick("n")} AS ex_n, ${pick("raw")} AS ex_line,
      max(denied) AS denied, min(is_access) AS acc, min(sec) AS sec, groupUniqArray(src) AS srcs,
      ${pick("amb")} AS amb
    FROM (
      SELECT src, n, rn, raw, cause, denied, acc = 1 AS is_access, status, client, rpath, rule, sec, amb,
        concat('i', jid, '|', toString(if(isNull(sec), toUInt64(0), arrayElement(cum, indexOf(s, assumeNotNull(sec)))))) AS ek,
        (3 - strength) * 20000000000000 + (1 - denied) * 10000000000000 + rn AS sk
      FROM ${ref("records")} ANY LEFT JOIN (${idSpans()}) USING jid WHERE jid != '')
    GROUP BY ek`;
  return `SELECT ek, cause, path, client, status, rules, ex_src, ex_n, ex_line, denied, acc, sec, srcs, amb,
      if(client != '' AND isNotNull(sec), concat(client, '|', toString(sec)), concat('e', ek)) AS gk
    FROM (${alone} UNION ALL ${joined})`;
}

/**
 * Stage denials: one row per denial (cause, path, client, rules, status, the
 * deciding line as the example, second, files).
 */
function denialsStage(t: PushDownTable, f: DenialFilters): string {
  const item = "tuple(cause, path, client, rules, status, ex_src, ex_n, ex_line, sec, srcs, amb)";
  // Within one client and second: each refused access line pairs with an
  // error/WAF request of the same URL path first (the k-th of a path with the
  // k-th), then, in line order, the unpaired ones with each other (lines
  // without a path, such as AH01630, pair this way). A refused error/WAF
  // request is a denial alone or paired; one that only matched (a WAF warning)
  // only when paired; an unpaired access line alone. A pair takes the access
  // line's path and recorded status, and both files. Requests without client or
  // time stand alone. A group of one request skips the pairing, and so does
  // a group of one access line and one other request (they pair).
  const el = (x: string, k: number) => `tupleElement(${x}, ${k})`;
  const partner = "arrayElement(ac, mi)";
  const paired = `tuple(${el("x", 1)}, if(mi != 0 AND ${el(partner, 2)} != '', ${el(partner, 2)}, ${el("x", 2)}),
        ${el("x", 3)}, ${el("x", 4)}, if(mi != 0, ${el(partner, 5)}, ${el("x", 5)}), ${el("x", 6)}, ${el("x", 7)}, ${el("x", 8)}, ${el("x", 9)},
        arrayReduce('groupUniqArray', arrayConcat(${el("x", 10)}, if(mi != 0, ${el(partner, 10)}, emptyArrayString()))),
        ${el("x", 11)})`;
  const key = (x: string) => pathKey(el(x, 2));
  const pairs = `SELECT gk FROM ${ref("groups")} WHERE c = 2 AND a = 1`;
  const slots = `SELECT
      groupArrayIf(${item}, acc = 0 AND denied = 1) AS nd,
      groupArrayIf(${item}, acc = 0 AND denied = 0) AS nn,
      groupArrayIf(${item}, acc = 1) AS ac,
      arrayConcat(nd, nn) AS p,
      arrayMap(x -> ${key("x")}, p) AS pk,
      arrayMap(y -> ${key("y")}, ac) AS ak,
      arrayMap((x, i) -> if(x = '', 0,
        arrayElement(arrayFilter(j -> arrayElement(ak, j) = x, arrayEnumerate(ak)), arrayCount(z -> z = x, arraySlice(pk, 1, i - 1)) + 1)),
        pk, arrayEnumerate(pk)) AS m1,
      arrayFilter(j -> NOT has(m1, j), arrayEnumerate(ak)) AS u,
      arrayMap((mi, i) -> if(mi != 0, mi, arrayElement(u, arrayCount(z -> z = 0, arraySlice(m1, 1, i)))), m1, arrayEnumerate(m1)) AS m,
      arrayConcat(
        arrayFilter((t, keep) -> keep,
          arrayMap((x, mi) -> ${paired}, p, m),
          arrayMap((mi, i) -> i <= length(nd) OR mi != 0, m, arrayEnumerate(m))),
        arrayFilter((y, j) -> NOT has(m, j), ac, arrayEnumerate(ac))) AS ds
    FROM ${ref("entities")} WHERE gk IN (SELECT gk FROM ${ref("groups")} WHERE NOT (c = 2 AND a = 1))
    GROUP BY gk`;
  // One access line and one other request (the common case): they pair whatever their paths.
  const other = (col: string) => `anyIf(${col}, acc = 0)`;
  const access = (col: string) => `anyIf(${col}, acc = 1)`;
  const pair = `SELECT tuple(${other("cause")}, if(${access("path")} != '', ${access("path")}, ${other("path")}),
      ${other("client")}, ${other("rules")}, ${access("status")}, ${other("ex_src")}, ${other("ex_n")}, ${other("ex_line")}, ${other("sec")},
      arrayReduce('groupUniqArray', arrayConcat(${other("srcs")}, ${access("srcs")})), ${other("amb")}) AS d
    FROM ${ref("entities")} WHERE gk IN (${pairs})
    GROUP BY gk`;
  const alone = `SELECT ${item} AS d FROM ${ref("entities")} WHERE (acc = 1 OR denied = 1) AND gk NOT IN (SELECT gk FROM ${ref("groups")})`;
  const where: string[] = [];
  if (!t.timeColumn && f.since)
    where.push(`isNotNull(sec) AND sec >= ${Math.ceil(f.since.getTime() / 1000)}`);
  if (!t.timeColumn && f.until)
    where.push(`isNotNull(sec) AND sec <= ${Math.floor(f.until.getTime() / 1000)}`);
  if (f.status?.length) where.push(`has(${arr(f.status)}, toUInt32(status))`);
  if (f.path) where.push(`position(path, ${sqlString(f.path)}) > 0`);
  return `SELECT cause, path, client, rules, status, src, n, line, sec, files, amb FROM (
    SELECT d.1 AS cause, d.2 AS path, d.3 AS client, d.4 AS rules, d.5 AS status, d.6 AS src, d.7 AS n, d.8 AS line, d.9 AS sec, d.10 AS files, d.11 AS amb
    FROM (SELECT arrayJoin(ds) AS d FROM (${slots}) UNION ALL ${pair} UNION ALL ${alone}))${where.length ? ` WHERE ${where.join(" AND ")}` : ""}`;
}

/** The stages of the denials query, in order; the last one's rows are the denials. */
export function denialsStages(t: PushDownTable, r: LineRules, f: DenialFilters = {}): Stage[] {
  return [
    { name: "raw", select: rawStage(t, r) },
    { name: "lines", select: linesStage(ref("raw"), r) },
    { name: "errors", select: errorsStage(r) },
    { name: "records", select: recordsStage(t, r) },
    { name: "entities", select: entitiesStage() },
    {
      name: "groups",
      select: `SELECT gk, count() AS c, countIf(acc = 1) AS a FROM ${ref("entities")} GROUP BY gk HAVING c > 1`,
    },
    { name: "found", select: denialsStage(t, f) },
    { name: "allowed", select: allowedStage(t, r) },
    { name: "denials", select: settledStage() },
  ];
}

/**
 * Stage allowed: the clients allowed (an access line below 400 with client and
 * path) on the URL paths of address-or-blanket denials, one row per path and
 * client (what AddressRuleEvidence gathers locally, address-rule.ts).
 */
function allowedStage(t: PushDownTable, r: LineRules): string {
  const a = r.access;
  const ambiguous = `SELECT ${pathKey("path")} AS pk FROM ${ref("found")} WHERE amb = 1 AND path != ''`;
  // Allowed lines are no records: read from the table again, only the rows that hold such a
  // path's bytes (as AllowedFinder searches them) and a status below 400 after a quote.
  const candidate = `(position(raw, '" 1') > 0 OR position(raw, '" 2') > 0 OR position(raw, '" 3') > 0)
      AND arrayExists(p -> position(raw, p) > 0, (SELECT groupUniqArray(pk) FROM (${ambiguous})))`;
  const rows = `SELECT raw FROM (${tableRows(t)}) WHERE ${candidate}`;
  // A bare access line is itself; one in an envelope is peeled as the records' lines are.
  // Two reads of the candidate rows: in one, 18.16 would run the peeling on every row (no short-circuit).
  const accessLines = `SELECT l FROM (
      SELECT raw AS l FROM (${rows}) WHERE NOT ${anyWrapper("raw", r)}
      UNION ALL
      SELECT tupleElement(${peelSql("raw", r)}, 1) AS l FROM (${rows}) WHERE ${anyWrapper("raw", r)})
    WHERE match(l, ${rx(a.line)}) AND match(${group("l", a.line, 6)}, ${rx(a.time)})`;
  const parts = `replaceRegexpOne(l, ${rx(keepGroups(a.line, [3, 7, 8]))}, '\\\\3\\\\1 \\\\2')`;
  // status (3 digits), client (no space), request line: as accessRecords reads them.
  return `SELECT DISTINCT pk, client FROM (
    SELECT ${pathKey(requestPath("replaceRegexpAll(substring(p1, position(p1, ' ') + 1), '\\\\\\\\\"', '\"')", r))} AS pk,
      ${clientSql("substring(p1, 1, position(p1, ' ') - 1)", false, r)} AS client
    FROM (SELECT toUInt16OrZero(substring(parts, 1, 3)) AS status, substring(parts, 4) AS p1
      FROM (SELECT ${parts} AS parts FROM (${accessLines})))
    WHERE status > 0 AND status < 400)
  WHERE client != '' AND pk != '' AND pk IN (${ambiguous})`;
}

/**
 * Stage denials: an address-or-blanket denial settled by the same logs, per URL
 * path, as AddressRuleEvidence.byLogs does: a client allowed there that was not
 * refused there makes it an address rule; two or more clients refused there and
 * none allowed, a blanket deny; otherwise it keeps its reading.
 */
function settledStage(): string {
  const refused = `SELECT ${pathKey("path")} AS pk, client FROM ${ref("found")} WHERE amb = 1 AND client != '' AND path != ''`;
  // Set tests, not has() in a lambda: a lambda copies the refused list once per allowed client.
  const allowed = `SELECT pk, count() AS allowed, countIf(NOT refused_too) AS other
    FROM (SELECT pk, client, (pk, client) IN (${refused}) AS refused_too FROM ${ref("allowed")}) GROUP BY pk`;
  const verdicts = `SELECT pk, multiIf(other > 0, 'ip-restriction', refused >= 2 AND allowed = 0, 'server-config', '') AS verdict
    FROM (SELECT pk, uniqExact(client) AS refused FROM (${refused}) GROUP BY pk)
    ANY LEFT JOIN (${allowed}) USING pk`;
  return `SELECT if(amb = 1 AND verdict != '', verdict, cause) AS cause, path, client, rules, status, src, n, line, sec, files
    FROM (SELECT cause, path, client, rules, status, src, n, line, sec, files, amb, ${pathKey("path")} AS pk FROM ${ref("found")})
    ANY LEFT JOIN (${verdicts}) USING pk`;
}

/** `select` with each stage reference replaced by `name(stage)`. */
export function bindStages(select: string, name: (stage: string) => string): string {
  return select.replace(/\{\{(\w+)\}\}/g, (_, s: string) => name(s));
}

/** The session temporary table a stage's rows go to. */
export const stageTable = (stage: string) => `why403_${stage}`;

/** The statement that runs a stage into its temporary table. */
export function stageStatement(stage: Stage): string {
  return `CREATE TEMPORARY TABLE ${stageTable(stage.name)} ENGINE = Memory AS ${bindStages(stage.select, stageTable)}`;
}

/**
 * The denials stages as a script, one statement a stage (as clickhouse.ts runs
 * them; for reading, or `clickhouse-client --multiquery` in one session). Not
 * one nested statement: later stages read earlier ones several times, and
 * nested they pass ClickHouse's max_query_size.
 */
export function denialsQuery(t: PushDownTable, r: LineRules, f: DenialFilters = {}): string {
  return denialsStages(t, r, f)
    .map((s) => `${stageStatement(s)};`)
    .join("\n");
}

/** Lines per source. */
export function linesPerSourceQuery(t: PushDownTable): string {
  const src = t.sourceColumn ? `toString(${sqlIdent(t.sourceColumn)})` : "''";
  return `SELECT ${src} AS src, count() AS lines FROM ${sqlIdent(t.table)} GROUP BY src ORDER BY src`;
}

/**
 * Per source, the lines only the local path reads, so the report can say so: a
 * line the local dispatcher takes as JSON (its first character is "{"), the
 * opening line (section A) of a serial ModSecurity audit record, a bare logfmt
 * line, and a W3C #Fields: list other than IIS's default (the local reader
 * reads the lines under it by those columns). 18.16 computes every part of an
 * expression for every row, so cheap tests pick the rows first (inner query)
 * and the patterns run on those alone.
 */
export function localOnlyQuery(t: PushDownTable): string {
  const src = t.sourceColumn ? `toString(${sqlIdent(t.sourceColumn)})` : "''";
  const line = `toString(${sqlIdent(t.lineColumn)})`;
  const maybe = [
    "substring(l, 1, 1) = '{'",
    "substring(l, 1, 8) = '#Fields:'",
    "position(l, '-A--') > 0",
    "position(l, '=') > 0",
  ].join(" OR ");
  const fieldsList = `replaceRegexpAll(substring(l, 9), ${rx(/^\s+|\s+$/)}, '')`;
  const counts = [
    "countIf(substring(l, 1, 1) = '{') AS json",
    `countIf(match(l, ${rx(AUDIT_BOUNDARY)}) AND position(l, '-A--') > 0) AS audits`,
    `countIf(match(l, ${rx(LOGFMT_LINE)})) AS logfmt`,
    `countIf(substring(l, 1, 8) = '#Fields:' AND ${fieldsList} NOT IN ('', ${sqlString(IIS_DEFAULT)})) AS w3c`,
  ].join(", ");
  return `SELECT src, ${counts} FROM (SELECT ${src} AS src, ${line} AS l FROM ${sqlIdent(t.table)} WHERE ${maybe}) GROUP BY src`;
}

/**
 * What a source's summary says when it holds lines ClickHouse 18.16 cannot read as
 * the local path does (README: what is not classified inside ClickHouse), or null.
 */
export function localOnlyWarning(json: number, audits: number, logfmt: number, w3c: number): string | null {
  const kinds: string[] = [];
  if (w3c > 0) kinds.push(`the lines under ${w3c} W3C #Fields: list${w3c === 1 ? "" : "s"} of their own`);
  if (json > 0) kinds.push(`${json} JSON line${json === 1 ? "" : "s"}`);
  if (logfmt > 0) kinds.push(`${logfmt} logfmt line${logfmt === 1 ? "" : "s"}`);
  if (audits > 0) kinds.push(`${audits} serial ModSecurity audit record${audits === 1 ? "" : "s"}`);
  if (kinds.length === 0) return null;
  const listed =
    kinds.length > 1 ? `${kinds.slice(0, -1).join(", ")} and ${kinds[kinds.length - 1]}` : kinds[0];
  return `not classified inside ClickHouse: ${listed} (the local path reads them): run why403 logs on this file for their denials`;
}

/**
 * The formats of the first `sample` lines of each source (how the local path
 * names a file's format), in two stages: the sample rows, then their formats
 * (the sample is read twice, so it is worth a temporary table).
 */
export function formatsStages(t: PushDownTable, r: LineRules, sample: number): Stage[] {
  const order = t.numberColumn ? `${sqlIdent(t.numberColumn)}` : null;
  const limited: PushDownTable = {
    ...t,
    since: undefined,
    until: undefined,
    table: `__sample__`,
  };
  const by = t.sourceColumn ? ` BY ${sqlIdent(t.sourceColumn)}` : "";
  // The first lines by number: the numbers are sorted first, without the lines (much less to sort).
  const firstRows =
    order && t.sourceColumn
      ? `(SELECT * FROM ${sqlIdent(t.table)} WHERE (${sqlIdent(t.sourceColumn)}, ${order}) IN (SELECT ${sqlIdent(t.sourceColumn)}, ${order} FROM ${sqlIdent(t.table)} ORDER BY ${order} LIMIT ${sample}${by}))`
      : `(SELECT * FROM ${sqlIdent(t.table)} LIMIT ${sample}${by})`;
  const numbered = `SELECT src, n, rowNumberInAllBlocks() AS rn, raw, ${anyWrapper("raw", r)} AS wrapped FROM (${tableRows(limited)})`;
  return [
    { name: "sample", select: numbered.replace(sqlIdent("__sample__"), firstRows) },
    {
      name: "formats",
      // `first`: where a format first shows (line number, then row), so that formats tied in count are named in the order the local tally saw them.
      select: `SELECT src, multiIf(fmt = 'access', ${accessFlavour(r)}, fmt) AS format, count() AS c, min((n, rn)) AS first FROM (${linesStage(ref("sample"), r, true)}) GROUP BY src, format`,
    },
  ];
}

// ---- The data formats (rule-record.ts recordOf), one generic branch ----------

/** True when a line of `f` can make a record: an access format with a status, or a rule with a cause. */
export function canRecord(f: DataFormat): boolean {
  const hasStatus = "status" in f.fields || "status" in f.extract;
  return (f.kind === "access" && hasStatus) || f.rules.some((x) => x.cause !== null);
}

/**
 * Rows that may be a line of a data format that makes a record: one pattern,
 * the alternation of the record-making formats' line patterns and of the
 * free-text rules' patterns (`inside`: unanchored, as in candidate()).
 */
function dataCandidate(r: LineRules, expr: string, inside: boolean): string {
  const free = r.freeText.rules.filter((x) => x.cause !== null);
  if (free.some((x) => x.match === null)) return "1";
  const patterns = [
    ...r.dataFormats.filter(canRecord).map((f) => f.line),
    ...free.map((x) => x.match as RegExp),
  ];
  if (patterns.length === 0) return "0";
  const alt = patterns.map((re) => `(?:${noGroups(inside ? unanchored(re) : re).source})`).join("|");
  return `match(${expr}, ${rx(alt)})`;
}

/** parseFreeText()'s format: "text:<family>" of the first free-text rule that matches, when it has a cause. */
function freeTextFormat(r: LineRules): string {
  const f = r.freeText;
  if (f.rules.length === 0) return "'unknown'";
  const field = dataField(f, { message: "l" });
  const families = arr(f.rules.map((x) => (x.cause === null ? "" : `text:${x.id.split("/")[0]}`)));
  return `arrayElement(arrayMap(i -> if(arrayElement(${families}, i) != '', arrayElement(${families}, i), 'unknown'), [${dataRuleIndex(f, field)}]), 1)`;
}

/** A field of `f` in SQL ('' when absent from the line), or null when the format has no such field. */
function dataField(f: DataFormat, aliases: Record<string, string> = {}): (name: string) => string | null {
  return (name) =>
    name in f.fields || name in f.extract || name in aliases ? fieldSql(f, name, aliases) : null;
}

/** matchRule(): the number (1-based) of the first rule of `f` that holds, 0 for none. A rule reading a field the format lacks never holds. */
function dataRuleIndex(f: DataFormat, field: (name: string) => string | null): string {
  if (f.rules.length === 0) return "0";
  const condition = (rule: DataRule) => {
    const parts = rule.where.map(([name, re]) => {
      const v = field(name);
      return v === null ? "0" : `match(${v}, ${rx(re)})`;
    });
    if (rule.match) {
      const v = field(rule.on);
      parts.push(v === null ? "0" : `match(${v}, ${rx(rule.match)})`);
    }
    return parts.length ? parts.join(" AND ") : "1";
  };
  return `multiIf(${f.rules.map((rule, i) => `${condition(rule)}, ${i + 1}`).join(", ")}, 0)`;
}

/**
 * Field `name` as recordOf() reads it after the rule matched: the matching
 * rule's own group when it gives a non-empty one, else the line's field; ''
 * when neither has it.
 */
function dataValue(f: DataFormat, field: (name: string) => string | null, name: string): string {
  const own = field(name) ?? "''";
  const arms = f.rules.flatMap((rule, i) => {
    const n = rule.fields[name];
    const on = field(rule.on);
    if (n === undefined || !rule.match || on === null) return [];
    return [`idx = ${i + 1}, ${group(on, rule.match, n)}`];
  });
  if (arms.length === 0) return own;
  return `arrayElement(arrayMap(v -> if(v != '', v, ${own}), [multiIf(${arms.join(", ")}, '')]), 1)`;
}

const trimSql = (expr: string) => `replaceRegexpAll(${expr}, '^\\s+|\\s+$', '')`;
const NULL_SECOND = "CAST(NULL AS Nullable(Int64))";

/** parseIsoTime(): a stamp without a zone is wall time in `zone`. */
function isoSeconds(expr: string, zone: string): string {
  const iso =
    "^[0-9]{4}-[0-9]{2}-[0-9]{2}[T ][0-9]{2}:[0-9]{2}(?::[0-9]{2}(?:[.,][0-9]+)?)?(?:Z|[+-][0-9]{2}:?[0-9]{2})?$";
  return `arrayElement(arrayMap(ts -> if(match(ts, ${sqlString(iso)}), toInt64(${epoch("replaceOne(ts, ',', '.')", zone)}), ${NULL_SECOND}), [${trimSql(expr)}]), 1)`;
}

/** parseNginxErrorTime(): wall time in `zone`. */
function nginxSeconds(expr: string, zone: string): string {
  const re = "^[0-9]{4}/[0-9]{2}/[0-9]{2} [0-9]{2}:[0-9]{2}:[0-9]{2}$";
  return `arrayElement(arrayMap(ts -> if(match(ts, ${sqlString(re)}), toInt64(${epoch("replaceAll(ts, '/', '-')", zone)}), ${NULL_SECOND}), [${trimSql(expr)}]), 1)`;
}

/** parseLocalStamp(): `03/Dec/2026 10:15:02` or `2026/12/03 - 10:15:02`, wall time in `zone`. */
function localSeconds(expr: string, r: LineRules, zone: string): string {
  const dmy = "^[0-9]{2}/[A-Za-z]{3}/[0-9]{4} [0-9]{2}:[0-9]{2}:[0-9]{2}$";
  const ymd = "^[0-9]{4}/[0-9]{2}/[0-9]{2}(?: -)? [0-9]{2}:[0-9]{2}:[0-9]{2}$";
  const month = `indexOf(${arr(r.access.months)}, lower(substring(ts, 4, 3)))`;
  const fromDmy = `concat(substring(ts, 8, 4), '-', ${pad2(`toString(${month})`)}, '-', substring(ts, 1, 2), ' ', substring(ts, 13, 8))`;
  const fromYmd = "concat(replaceAll(substring(ts, 1, 10), '/', '-'), ' ', substring(ts, length(ts) - 7, 8))";
  return `arrayElement(arrayMap(ts -> multiIf(match(ts, ${sqlString(dmy)}) AND ${month} > 0, toInt64(${epoch(fromDmy, zone)}), match(ts, ${sqlString(ymd)}), toInt64(${epoch(fromYmd, zone)}), ${NULL_SECOND}), [${trimSql(expr)}]), 1)`;
}

/** parseAnyTime() on a string: epoch seconds or milliseconds, else (brackets stripped) ISO, CLF, nginx, Apache. */
function anySeconds(expr: string, t: PushDownTable, r: LineRules): string {
  const num = "toFloat64OrZero(v)";
  const fromEpoch = `if(${num} > 0, toInt64(floor(multiIf(${num} < 100000000000, ${num}, ${num} < 100000000000000, ${num} / 1000, ${num} < 100000000000000000, ${num} / 1000000, ${num} / 1000000000))), ${NULL_SECOND})`;
  const stripped = "if(startsWith(v, '[') AND endsWith(v, ']'), substring(v, 2, length(v) - 2), v)";
  const others = `arrayElement(arrayMap(s -> coalesce(${isoSeconds("s", t.timeZone)}, ${accessSeconds(r, "s")}, ${nginxSeconds("s", t.timeZone)}, ${apacheSeconds(r, t.timeZone, trimSql("s"))}), [${stripped}]), 1)`;
  return `arrayElement(arrayMap(v -> multiIf(lengthUTF8(v) > 64, ${NULL_SECOND}, match(v, '^[0-9]+(?:\\.[0-9]+)?$'), ${fromEpoch}, ${others}), [${expr}]), 1)`;
}

/** rule-record.ts parseTime(): the epoch second of a data format's time field, by the format's time kind. */
function dataSeconds(kind: string | undefined, expr: string, t: PushDownTable, r: LineRules): string {
  switch (kind) {
    case "apache":
      return apacheSeconds(r, t.timeZone, trimSql(expr));
    case "nginx":
      return nginxSeconds(expr, t.timeZone);
    case "clf":
      return accessSeconds(r, expr);
    case "iso":
      return isoSeconds(expr, t.timeZone);
    case "iso-utc":
      return `if(match(${expr}, 'Z|[+-][0-9]{2}:?[0-9]{2}$'), ${isoSeconds(expr, t.timeZone)}, ${isoSeconds(`concat(replaceOne(${expr}, ' ', 'T'), 'Z')`, t.timeZone)})`;
    case "local":
      return localSeconds(expr, r, t.timeZone);
    default:
      return anySeconds(expr, t, r);
  }
}

/** recordOf(): the records of the lines of data format `f` (rows of `lines` where `where`). */
function dataRecords(f: DataFormat, where: string, t: PushDownTable, r: LineRules): string {
  const field = dataField(f, f.id === r.freeText.id ? { message: "l" } : {});
  const value = (name: string) => dataValue(f, field, name);
  const statusField = field("status");
  // (A format without rules: idx is 0, and an empty array literal has no element type.)
  const ruleStatus = f.rules.length
    ? `toUInt16(arrayElement(${arr(f.rules.map((x) => x.status ?? 0))}, idx))`
    : "toUInt16(0)";
  // A line without a status takes the one the matching rule implies (0: none).
  const status =
    statusField === null
      ? ruleStatus
      : `if(${statusField} = '', ${ruleStatus}, toUInt16OrZero(${statusField}))`;
  const ruleCause = f.rules.length ? `arrayElement(${arr(f.rules.map((x) => x.cause ?? ""))}, idx)` : "''";
  const refused =
    f.kind === "access" && statusField !== null
      ? `has(${arr(r.access.refusalStatuses)}, toUInt32(status))`
      : "0";
  const request = field("request") ?? (f.rules.some((x) => "request" in x.fields) ? "''" : null);
  const fromRequest = request === null ? "''" : requestPath(`replaceAll(${value("request")}, '\\"', '"')`, r);
  const pathOf = `if(p != '' AND p != '-', if(q != '' AND q != '-', concat(p, '?', q), p), ${fromRequest})`;
  const path = `arrayElement(arrayMap((p, q) -> ${pathOf}, [${value("path")}], [${value("query")}]), 1)`;
  const client = `arrayElement(arrayMap(c -> if(c != '' AND c != '-', ${clientSql("c", f.clientHasPort, r)}, ''), [${value("client")}]), 1)`;
  const id = `arrayElement(arrayMap(v -> if(v != '-', v, ''), [${value("requestId")}]), 1)`;
  return `SELECT ${RECORD_COLUMNS} FROM (
    SELECT src, n, rn, raw, l, wtime, idx, ${status} AS status, ${ruleCause} AS rc,
      if(idx > 0 AND rc != 'by-status', rc, ${statusCauseSql("status", r)}) AS cause,
      if(idx > 0 AND rc != 'by-status', 3, if(cause = 'unknown', 0, 1)) AS strength,
      1 AS denied, ${f.kind === "access" ? 1 : 0} AS acc, ${client} AS client, ${path} AS rpath,
      ${id} AS jid, '' AS rule, 0 AS amb,
      ${orWrapperTime(dataSeconds(f.timeKind, value("time"), t, r), t)} AS sec
    FROM (SELECT src, n, rn, raw, l, wtime, ${dataRuleIndex(f, field)} AS idx FROM ${ref("lines")} WHERE ${where})
    WHERE if(idx > 0, rc != '', ${refused}))`;
}
