// `why403 logs --clickhouse` and `why403 ship`: the I/O around push-down.ts.
// Talks to ClickHouse with the official @clickhouse/client over HTTP (it works
// with Debian's 18.16, checked in the tests). Only aggregates and at most
// `limit` example rows come back; the example lines are parsed here by the same
// parsers as the local path, for the entries' messages.
import { randomUUID } from "node:crypto";
import { type ClickHouseClient, ClickHouseLogLevel, createClient } from "@clickhouse/client";
import { InputError } from "../../errors.js";
import { redactText, redactUrl } from "../../redact.js";
import { DEFAULT_ENTRY_LIMIT } from "./analyze.js";
import { decisiveRule } from "./classify.js";
import { FormatTally, LineDispatcher } from "./dispatch.js";
import { LINE_RULES } from "./line-rules.js";
import { openLog, splitLines } from "./lines.js";
import { logFilesOf } from "./log-files.js";
import {
  denialsStages,
  formatsStages,
  linesPerSourceQuery,
  localOnlyQuery,
  localOnlyWarning,
  type PushDownTable,
  pathKey,
  type Stage,
  sqlIdent,
  sqlString,
  stageStatement,
  stageTable,
} from "./push-down.js";

import { checkZone, type StampZone, stampZoneFor, ZONE_SAMPLE_WINDOWS } from "./stamp-zone.js";
import { fixedOffsetMinutes } from "./time.js";
import type { LogCause, LogEntry, LogFileSummary, LogsOptions, LogsReport } from "./types.js";

export interface ClickHouseTarget {
  /** http(s)://[user:password@]host:port[/database] */
  url: string;
  table: string;
  lineColumn?: string;
  timeColumn?: string;
  /** Overrides the URL's and CLICKHOUSE_USER / CLICKHOUSE_PASSWORD. */
  user?: string;
  password?: string;
}

export type ClickHouseLogsReport = LogsReport & { engine: "clickhouse" };

const TOP_N = 10;
/** The first lines of a source that name its format (as FormatTally's default). */
const FORMAT_SAMPLE = 200;
const SHIP_BATCH_ROWS = 50_000;
const TABLE_NAME = /^[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z_][A-Za-z0-9_]*)?$/;
const COLUMN_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;

/** A client for the URL; credentials from its userinfo, else the environment. */
function connect(target: ClickHouseTarget, env: NodeJS.ProcessEnv = process.env): ClickHouseClient {
  let u: URL;
  try {
    u = new URL(target.url);
  } catch {
    throw new InputError(
      `--clickhouse needs a URL such as http://127.0.0.1:8123, got ${redactUrl(target.url)}`,
    );
  }
  if (u.protocol !== "http:" && u.protocol !== "https:")
    throw new InputError(`--clickhouse needs an http:// or https:// URL, got ${u.protocol}`);
  const username =
    target.user ?? (u.username ? decodeURIComponent(u.username) : env.CLICKHOUSE_USER) ?? "default";
  const password =
    target.password ?? (u.password ? decodeURIComponent(u.password) : env.CLICKHOUSE_PASSWORD) ?? "";
  const database = u.pathname.replace(/^\/+|\/+$/g, "") || undefined;
  return createClient({
    url: `${u.protocol}//${u.host}`,
    username,
    password,
    database,
    // A temporary table holds the denials between the queries of one run.
    session_id: randomUUID(),
    request_timeout: 30 * 60_000,
    compression: { request: false, response: false },
    // Its own log lines would mix with the report; errors reach the caller as exceptions.
    log: { level: ClickHouseLogLevel.OFF },
    // Long classifications: progress headers keep the connection alive through idle timeouts.
    clickhouse_settings: { send_progress_in_http_headers: 1, http_headers_progress_interval_ms: "10000" },
  });
}

function checkNames(target: ClickHouseTarget): void {
  if (!TABLE_NAME.test(target.table))
    throw new InputError(
      `--table needs a table name such as logs or db.logs, got ${JSON.stringify(target.table)}`,
    );
  for (const [flag, v] of [
    ["--line-column", target.lineColumn],
    ["--time-column", target.timeColumn],
  ] as const)
    if (v !== undefined && !COLUMN_NAME.test(v))
      throw new InputError(`${flag} needs a column name, got ${JSON.stringify(v)}`);
}

/** ClickHouse's own message, one line, without the stack it appends. */
function chError(e: unknown, url: string): InputError {
  const raw = String((e as Error)?.message ?? e);
  const code = (e as NodeJS.ErrnoException)?.code;
  if (code === "ECONNREFUSED" || /ECONNREFUSED|ENOTFOUND|EHOSTUNREACH/.test(raw))
    return new InputError(`cannot reach ClickHouse at ${redactUrl(url)} (${code ?? "connection refused"})`);
  const first =
    raw
      .split("\n")[0]
      ?.replace(/, e\.what\(\) = .*$/, "")
      .slice(0, 300) ?? raw;
  return new InputError(`ClickHouse: ${redactText(first)}`);
}

async function rows<T>(client: ClickHouseClient, query: string): Promise<T[]> {
  const rs = await client.query({ query, format: "JSONEachRow" });
  return (await rs.json()) as T[];
}

interface Column {
  name: string;
  type: string;
}

async function describe(client: ClickHouseClient, table: string): Promise<Column[]> {
  return rows<Column>(client, `DESCRIBE TABLE ${sqlIdent(table)}`);
}

function tableLayout(columns: Column[], target: ClickHouseTarget, options: LogsOptions): PushDownTable {
  const names = new Set(columns.map((c) => c.name));
  const lineColumn = target.lineColumn ?? "line";
  if (!names.has(lineColumn))
    throw new InputError(
      `table ${target.table} has no column ${lineColumn} (columns: ${[...names].join(", ")}); name it with --line-column`,
    );
  if (target.timeColumn && !names.has(target.timeColumn))
    throw new InputError(`table ${target.table} has no column ${target.timeColumn} (--time-column)`);
  const timeColumn = target.timeColumn ?? (names.has("time") ? "time" : null);
  return {
    table: target.table,
    lineColumn,
    sourceColumn: names.has("source") ? "source" : null,
    numberColumn: names.has("n") ? "n" : null,
    timeColumn,
    since: options.since,
    until: options.until,
    timeZone: Intl.DateTimeFormat().resolvedOptions().timeZone || "UTC",
  };
}

interface DenialRow {
  cause: LogCause;
  path: string;
  client: string;
  rules: string[];
  status: number;
  src: string;
  n: string | number;
  line: string;
}

/** Classifies the rows of `target.table` inside ClickHouse (schema why403.logs/v1, engine "clickhouse"). */
export async function analyzeClickHouse(
  target: ClickHouseTarget,
  options: LogsOptions = {},
): Promise<ClickHouseLogsReport> {
  checkNames(target);
  const limit = options.limit ?? DEFAULT_ENTRY_LIMIT;
  if (!Number.isInteger(limit) || limit < 0)
    throw new InputError(`--limit must be a whole number ≥ 0, got ${limit}`);
  const client = connect(target);
  try {
    const layout = tableLayout(await describe(client, target.table), target, options);
    const stampZone = await zoneInside(client, layout, options);
    if (stampZone) layout.timeZone = clickhouseZone(stampZone.zone) as string;
    return await report(client, layout, options, limit, stampZone);
  } catch (e) {
    if (e instanceof InputError) throw e;
    throw chError(e, target.url);
  } finally {
    await client.close();
  }
}

/** Rows looked at per source for the zone the stamps show. */
const ZONE_SAMPLE_ROWS = 500;

/** The zone for zoneless stamps, as the local path decides it (stamp-zone.ts), from the first rows of each source. */
async function zoneInside(
  client: ClickHouseClient,
  layout: PushDownTable,
  options: LogsOptions,
): Promise<StampZone | null> {
  if (options.timeZone) {
    if (clickhouseZone(options.timeZone) === null)
      throw new InputError(
        `--tz ${options.timeZone}: ClickHouse has no zone for that offset; give the zone's name (such as America/St_Johns)`,
      );
    return { zone: options.timeZone, from: "option" };
  }
  const line = sqlIdent(layout.lineColumn);
  const by = layout.sourceColumn ? ` BY ${sqlIdent(layout.sourceColumn)}` : "";
  const starts = await rows<{ line: string }>(
    client,
    `SELECT ${line} AS line FROM ${sqlIdent(layout.table)} LIMIT ${ZONE_SAMPLE_ROWS}${by}`,
  );
  const later = await laterRows(client, layout);
  const shown = stampZoneFor(
    undefined,
    [...starts, ...later].map((r) => r.line),
  );
  // An offset ClickHouse has no zone for: the machine's zone, as before (the README says so).
  return shown && clickhouseZone(shown.zone) !== null ? shown : null;
}

/**
 * Windows of ZONE_SAMPLE_ROWS rows of each source by line number, spread evenly
 * after its start up to its last row (the middles and ends of the files, as the
 * local path samples them); none without a line-number column. The line numbers
 * are found first; ClickHouse moves that filter before reading the lines (MergeTree).
 */
async function laterRows(client: ClickHouseClient, layout: PushDownTable): Promise<Array<{ line: string }>> {
  if (!layout.numberColumn) return [];
  const n = sqlIdent(layout.numberColumn);
  const src = layout.sourceColumn ? sqlIdent(layout.sourceColumn) : null;
  const tops = await rows<{ src: string; top: string }>(
    client,
    `SELECT ${src ? `toString(${src})` : "''"} AS src, toString(max(${n})) AS top FROM ${sqlIdent(layout.table)}${src ? ` GROUP BY ${src}` : ""}`,
  );
  if (tops.length === 0) return [];
  const windows = (top: string) => {
    const ends = Array.from({ length: ZONE_SAMPLE_WINDOWS - 1 }, (_, i) =>
      Math.round((Number(top) * (i + 1)) / (ZONE_SAMPLE_WINDOWS - 1)),
    );
    return `(${ends.map((end) => `(${n} > ${Math.max(0, end - ZONE_SAMPLE_ROWS)} AND ${n} <= ${end})`).join(" OR ")})`;
  };
  const where = tops
    .slice(0, 1000)
    .map((t) => (src ? `(${src} = ${sqlString(t.src)} AND ${windows(t.top)})` : windows(t.top)))
    .join(" OR ");
  return rows<{ line: string }>(
    client,
    `SELECT ${sqlIdent(layout.lineColumn)} AS line FROM ${sqlIdent(layout.table)} WHERE ${where}`,
  );
}

/**
 * Zones with no daylight saving time at the offsets that are not whole hours
 * (the Etc names have whole hours only), by minutes ahead of UTC.
 */
const FRACTIONAL_OFFSET_ZONES: Record<number, string> = {
  210: "Asia/Tehran",
  270: "Asia/Kabul",
  330: "Asia/Kolkata",
  345: "Asia/Kathmandu",
  390: "Asia/Yangon",
  525: "Australia/Eucla",
  570: "Australia/Darwin",
  [-570]: "Pacific/Marquesas",
};

/**
 * The zone's name for ClickHouse: an IANA name as it is; an offset of whole hours
 * as Etc/GMT∓h (the Etc names count the other way), other offsets by a zone that
 * keeps them all year; null for an offset with no such zone.
 */
export function clickhouseZone(zone: string): string | null {
  const minutes = fixedOffsetMinutes(zone);
  if (minutes === null) {
    checkZone(zone);
    return zone;
  }
  if (minutes % 60 !== 0) return FRACTIONAL_OFFSET_ZONES[minutes] ?? null;
  if (minutes === 0) return "UTC";
  return `Etc/GMT${minutes > 0 ? "-" : "+"}${Math.abs(minutes) / 60}`;
}

async function report(
  client: ClickHouseClient,
  layout: PushDownTable,
  options: LogsOptions,
  limit: number,
  stampZone: StampZone | null,
): Promise<ClickHouseLogsReport> {
  await classify(client, layout, options);
  const [total] = await rows<{ c: string }>(client, "SELECT count() AS c FROM why403_denials");
  const byCause = await rows<{ cause: LogCause; c: string }>(
    client,
    "SELECT cause, count() AS c FROM why403_denials GROUP BY cause ORDER BY c DESC, cause",
  );
  const top = async (expr: string) =>
    (
      await rows<{ k: string; c: string }>(
        client,
        `SELECT ${expr} AS k, count() AS c FROM why403_denials WHERE k != '' GROUP BY k ORDER BY c DESC, k LIMIT ${TOP_N}`,
      )
    ).map((r): [string, number] => [r.k, Number(r.c)]);
  const examples = await rows<DenialRow>(
    client,
    `SELECT cause, path, client, rules, status, src, n, line FROM why403_denials ORDER BY src, n LIMIT ${limit}`,
  );
  const files = await fileSummaries(client, layout);
  return {
    schema: "why403.logs/v1",
    engine: "clickhouse",
    files,
    denials: Number(total?.c ?? 0),
    byCause: Object.fromEntries(byCause.map((r) => [r.cause, Number(r.c)])),
    top: {
      paths: await top(pathKey("path")),
      clients: await top("client"),
      rules: await top("arrayJoin(rules)"),
    },
    // The example lines are parsed here: their zoneless stamps in the same zone.
    entries: examples.map((d) => toEntry(d, stampZone?.zone ?? null)),
    ...(stampZone ? { stampZone } : {}),
  };
}

/** The denials of the table, into the session's temporary table why403_denials. */
async function classify(
  client: ClickHouseClient,
  layout: PushDownTable,
  options: LogsOptions,
): Promise<void> {
  await runStages(client, denialsStages(layout, LINE_RULES, options));
}

/**
 * Runs `stages` in order, each into a temporary table `why403_<name>` of the
 * session that later stages read; a table no later stage reads is dropped at
 * once (its rows can be a good part of the table). The last one is kept.
 */
async function runStages(client: ClickHouseClient, stages: Stage[]): Promise<void> {
  const dropped = new Set<string>();
  for (const [i, stage] of stages.entries()) {
    await client.command({ query: stageStatement(stage) });
    for (const done of stages.slice(0, i)) {
      if (dropped.has(done.name) || stages.slice(i + 1).some((s) => s.select.includes(`{{${done.name}}}`)))
        continue;
      dropped.add(done.name);
      await client.command({ query: `DROP TEMPORARY TABLE ${stageTable(done.name)}` });
    }
  }
}

async function fileSummaries(client: ClickHouseClient, layout: PushDownTable): Promise<LogFileSummary[]> {
  const perSource = await rows<{ src: string; lines: string }>(client, linesPerSourceQuery(layout));
  const localOnly = await rows<{ src: string; json: string; audits: string; logfmt: string; w3c: string }>(
    client,
    localOnlyQuery(layout),
  );
  await runStages(client, formatsStages(layout, LINE_RULES, FORMAT_SAMPLE));
  const formats = await rows<{ src: string; format: string; c: string }>(
    client,
    "SELECT src, format, c FROM why403_formats ORDER BY src, first",
  );
  const denials = await rows<{ src: string; c: string }>(
    client,
    "SELECT arrayJoin(files) AS src, count() AS c FROM why403_denials GROUP BY src",
  );
  return perSource.map((s) => {
    const tally = new FormatTally(FORMAT_SAMPLE);
    for (const f of formats) if (f.src === s.src) for (let i = 0; i < Number(f.c); i++) tally.add(f.format);
    const summary: LogFileSummary = {
      // A table without a source column is one file: named after the table.
      path: s.src === "" && !layout.sourceColumn ? layout.table : s.src,
      format: tally.name(),
      lines: Number(s.lines),
      denials: Number(denials.find((d) => d.src === s.src)?.c ?? 0),
    };
    const o = localOnly.find((x) => x.src === s.src);
    const warning = o && localOnlyWarning(Number(o.json), Number(o.audits), Number(o.logfmt), Number(o.w3c));
    if (warning) summary.warning = warning;
    return summary;
  });
}

/** An entry from a denial's deciding line: the local parser gives the message, ClickHouse the join's outcome. */
function toEntry(d: DenialRow, zone: string | null): LogEntry {
  const n = Number(d.n);
  const rec = new LineDispatcher(d.src, [], zone).feed({ n, text: d.line, cut: false }).records[0];
  const rule = decisiveRule(d.rules);
  const entry: LogEntry = {
    time: rec?.time ? rec.time.toISOString() : null,
    file: d.src,
    line: n,
    status: d.status === 0 ? null : Number(d.status),
    method: rec?.method ?? null,
    path: d.path ? redactUrl(d.path) : null,
    client: d.client || null,
    cause: d.cause,
    rule,
    message: redactText(rec?.message ?? d.line.slice(0, 300)),
    requestId: rec?.requestId ?? rec?.ids[0] ?? null,
  };
  if (d.rules.length) entry.rules = [...d.rules];
  if (rec?.product) entry.product = rec.product;
  return entry;
}

export interface ShipResult {
  table: string;
  files: Array<{ path: string; lines: number }>;
  rows: number;
}

/** Creates the table when missing and loads each file's lines with their source and line number. */
export async function shipLogs(
  paths: string[],
  target: ClickHouseTarget,
  options: { stdin?: NodeJS.ReadableStream; onProgress?: (rows: number) => void } = {},
): Promise<ShipResult> {
  checkNames(target);
  if (paths.length === 0) throw new InputError("no log files given");
  const line = target.lineColumn ?? "line";
  const client = connect(target);
  const result: ShipResult = { table: target.table, files: [], rows: 0 };
  try {
    await client.command({
      query: `CREATE TABLE IF NOT EXISTS ${sqlIdent(target.table)} (source String, n UInt64, ${sqlIdent(line)} String) ENGINE = MergeTree ORDER BY (source, n)`,
    });
    for (const path of await logFilesOf(paths)) {
      // Opened first: a missing file is bad input before anything of it is sent.
      const opened = await openLog(path, options.stdin);
      let batch: Array<Record<string, string | number>> = [];
      let n = 0;
      const flush = async () => {
        if (batch.length === 0) return;
        await client.insert({ table: target.table, values: batch, format: "JSONEachRow" });
        result.rows += batch.length;
        options.onProgress?.(result.rows);
        batch = [];
      };
      for await (const l of splitLines(opened.stream)) {
        n = l.n;
        batch.push({ source: path, n: l.n, [line]: l.text });
        if (batch.length >= SHIP_BATCH_ROWS) await flush();
      }
      await flush();
      result.files.push({ path, lines: n });
    }
    return result;
  } catch (e) {
    if (e instanceof InputError) throw e;
    throw chError(e, target.url);
  } finally {
    await client.close();
  }
}
