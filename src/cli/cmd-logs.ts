// why403 logs <file…>: find and classify the denials in server, WAF and app logs.
import { UsageError } from "../errors.js";
import type { ClickHouseTarget } from "../evidence/logs/clickhouse.js";
import type { LogsOptions, LogsProgress, LogsReport } from "../evidence/logs/types.js";
import { quoteArgument } from "../redact.js";
import { renderLogsText } from "../report/logs-text.js";
import { parseArgs } from "./args.js";
import { noColor } from "./common.js";
import { writeOutputFile } from "./output-file.js";
import { colourWanted, makeStyle, ProgressLine } from "./terminal.js";

function parseDate(raw: unknown, flag: string): Date | undefined {
  if (typeof raw !== "string") return undefined;
  const d = new Date(raw);
  if (Number.isNaN(d.getTime()))
    throw new UsageError(`--${flag} needs a date such as 2026-11-26T05:00:00Z, got ${quoteArgument(raw)}`);
  return d;
}

/** "logs: 512 MB, 6,150,000 lines (1,830,000/s), 288,153 denials so far" */
function progressText(p: LogsProgress): string {
  const mb = p.bytes / (1024 * 1024);
  const perSec = p.elapsedMs > 0 ? Math.round((p.lines * 1000) / p.elapsedMs) : 0;
  const n = (x: number) => x.toLocaleString("en-US");
  return `logs: ${mb < 10 ? mb.toFixed(1) : Math.round(mb)} MB, ${n(p.lines)} lines (${n(perSec)}/s), ${n(p.denials)} denials so far`;
}

export function clickhouseTarget(flags: Record<string, unknown>): ClickHouseTarget {
  if (typeof flags.clickhouse !== "string" || flags.clickhouse === "")
    throw new UsageError("--table needs --clickhouse URL (such as http://127.0.0.1:8123)");
  if (typeof flags.table !== "string" || flags.table === "")
    throw new UsageError("--clickhouse needs --table NAME (the table of raw log lines)");
  return {
    url: flags.clickhouse,
    table: flags.table,
    lineColumn: typeof flags["line-column"] === "string" ? flags["line-column"] : undefined,
    timeColumn: typeof flags["time-column"] === "string" ? flags["time-column"] : undefined,
  };
}

async function fromClickHouse(flags: Record<string, unknown>, options: LogsOptions): Promise<LogsReport> {
  if (options.logFormats)
    throw new UsageError("--nginx-conf/--apache-conf log formats are not read inside ClickHouse yet");
  const target = clickhouseTarget(flags);
  const { analyzeClickHouse } = await import("../evidence/logs/clickhouse.js");
  return analyzeClickHouse(target, options);
}

export async function cmdLogs(argv: string[]): Promise<number> {
  const { flags, rest } = parseArgs(argv, {
    json: { kind: "boolean" },
    html: { kind: "string" },
    markdown: { kind: "boolean" },
    "no-color": { kind: "boolean" },
    color: { kind: "boolean" },
    debug: { kind: "boolean" },
    limit: { kind: "number" },
    since: { kind: "string" },
    until: { kind: "string" },
    status: { kind: "string" },
    path: { kind: "string" },
    "nginx-conf": { kind: "string" },
    "apache-conf": { kind: "string" },
    clickhouse: { kind: "string" },
    table: { kind: "string" },
    "line-column": { kind: "string" },
    "time-column": { kind: "string" },
    tz: { kind: "string" },
  });
  if (typeof flags.clickhouse === "string" || typeof flags.table === "string") {
    if (rest.length > 0)
      throw new UsageError(
        "--clickhouse reads a table, not files: give either log files or --clickhouse URL --table NAME",
      );
  } else if (rest.length === 0)
    throw new UsageError("missing log files: why403 logs /var/log/nginx/access.log error.log");
  const status =
    typeof flags.status === "string" ? flags.status.split(",").map((s) => Number(s.trim())) : undefined;
  if (status?.some((n) => !Number.isInteger(n)))
    throw new UsageError(`--status needs codes like 403,429, got ${quoteArgument(String(flags.status))}`);
  const { analyzeLogs, logFormatsFromConfig } = await import("../evidence/logs/index.js");
  const logFormats =
    typeof flags["nginx-conf"] === "string" || typeof flags["apache-conf"] === "string"
      ? logFormatsFromConfig?.({
          nginx: typeof flags["nginx-conf"] === "string" ? flags["nginx-conf"] : undefined,
          apache: typeof flags["apache-conf"] === "string" ? flags["apache-conf"] : undefined,
        })
      : undefined;
  const options = {
    limit: typeof flags.limit === "number" ? flags.limit : undefined,
    since: parseDate(flags.since, "since"),
    until: parseDate(flags.until, "until"),
    status,
    path: typeof flags.path === "string" ? flags.path : undefined,
    logFormats,
    nginxConf: typeof flags["nginx-conf"] === "string" ? flags["nginx-conf"] : undefined,
    apacheConf: typeof flags["apache-conf"] === "string" ? flags["apache-conf"] : undefined,
    timeZone: typeof flags.tz === "string" ? flags.tz : undefined,
    ...threadKnobs(process.env),
  };
  const progress = new ProgressLine();
  let report: LogsReport;
  try {
    report =
      typeof flags.clickhouse === "string" || typeof flags.table === "string"
        ? await fromClickHouse(flags, options)
        : await analyzeLogs(rest, {
            ...options,
            onProgress: progress.active ? (p) => progress.update(progressText(p)) : undefined,
            onRanges:
              process.env.WHY403_LOG_TRACE === "1"
                ? (file, ranges, workers) =>
                    process.stderr.write(`why403: ${file}: ${ranges} ranges on ${workers} worker threads\n`)
                : undefined,
            onAllowedRanges:
              process.env.WHY403_LOG_TRACE === "1"
                ? (file, workers) =>
                    process.stderr.write(
                      `why403: ${file}: allowed clients searched on ${workers} worker threads\n`,
                    )
                : undefined,
          });
  } finally {
    progress.clear();
  }
  if (typeof flags.html === "string") {
    const { renderLogsHtml } = await import("../report/html.js");
    writeOutputFile(flags.html, renderLogsHtml(report), "--html");
  }
  if (flags.json) process.stdout.write(`${JSON.stringify(report, null, 2)}\n`);
  else process.stdout.write(renderLogsText(report, makeStyle(colourWanted(process.stdout, noColor(flags)))));
  return 0;
}

/**
 * WHY403_LOG_WORKERS (worker threads for large plain files; default 0) and
 * WHY403_LOG_RANGE_BYTES; ignored unless whole numbers
 * (WHY403_LOG_TRACE=1 says on stderr when a file was read in ranges).
 */
function threadKnobs(env: NodeJS.ProcessEnv): { workers?: number; rangeBytes?: number } {
  const whole = (v: string | undefined) => (v !== undefined && /^\d+$/.test(v) ? Number(v) : undefined);
  return { workers: whole(env.WHY403_LOG_WORKERS), rangeBytes: whole(env.WHY403_LOG_RANGE_BYTES) };
}
