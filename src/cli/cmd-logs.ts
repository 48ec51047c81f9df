// why403 logs <file…>: find and classify the denials in server, WAF and app logs.
import { UsageError } from "../errors.js";
import { quoteArgument } from "../redact.js";
import { renderLogsText } from "../report/logs-text.js";
import { parseArgs } from "./args.js";
import { noColor } from "./common.js";
import { writeOutputFile } from "./output-file.js";
import { colourWanted, makeStyle } from "./terminal.js";

function parseDate(raw: unknown, flag: string): Date | undefined {
  if (typeof raw !== "string") return undefined;
  const d = new Date(raw);
  if (Number.isNaN(d.getTime()))
    throw new UsageError(`--${flag} needs a date such as 2026-11-26T05:00:00Z, got ${quoteArgument(raw)}`);
  return d;
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
  });
  if (rest.length === 0)
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
  const report = await analyzeLogs(rest, {
    limit: typeof flags.limit === "number" ? flags.limit : undefined,
    since: parseDate(flags.since, "since"),
    until: parseDate(flags.until, "until"),
    status,
    path: typeof flags.path === "string" ? flags.path : undefined,
    logFormats,
    nginxConf: typeof flags["nginx-conf"] === "string" ? flags["nginx-conf"] : undefined,
    apacheConf: typeof flags["apache-conf"] === "string" ? flags["apache-conf"] : undefined,
  });
  if (typeof flags.html === "string") {
    const { renderLogsHtml } = await import("../report/html.js");
    writeOutputFile(flags.html, renderLogsHtml(report), "--html");
  }
  if (flags.json) process.stdout.write(`${JSON.stringify(report, null, 2)}\n`);
  else process.stdout.write(renderLogsText(report, makeStyle(colourWanted(process.stdout, noColor(flags)))));
  return 0;
}
