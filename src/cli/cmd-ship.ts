// why403 ship <file…> --clickhouse URL --table NAME: load log files into a ClickHouse table of raw lines.
import { UsageError } from "../errors.js";
import { parseArgs } from "./args.js";
import { clickhouseTarget } from "./cmd-logs.js";
import { ProgressLine } from "./terminal.js";

export async function cmdShip(argv: string[]): Promise<number> {
  const { flags, rest } = parseArgs(argv, {
    json: { kind: "boolean" },
    "no-color": { kind: "boolean" },
    color: { kind: "boolean" },
    debug: { kind: "boolean" },
    clickhouse: { kind: "string" },
    table: { kind: "string" },
    "line-column": { kind: "string" },
  });
  if (rest.length === 0)
    throw new UsageError(
      "missing log files: why403 ship /var/log/nginx/access.log --clickhouse http://127.0.0.1:8123 --table weblogs",
    );
  const target = clickhouseTarget(flags);
  const { shipLogs } = await import("../evidence/logs/clickhouse.js");
  const progress = new ProgressLine();
  let result: Awaited<ReturnType<typeof shipLogs>>;
  try {
    result = await shipLogs(rest, target, {
      onProgress: (rows) => progress.update(`ship: ${rows.toLocaleString("en-US")} lines loaded`),
    });
  } finally {
    progress.clear();
  }
  if (flags.json) process.stdout.write(`${JSON.stringify(result, null, 2)}\n`);
  else
    for (const f of result.files)
      process.stdout.write(`${f.path}: ${f.lines.toLocaleString("en-US")} lines → ${result.table}\n`);
  return 0;
}
