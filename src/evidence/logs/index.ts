// why403 logs: find and classify denials in web server, WAF and application logs.
export { analyzeLogs, DEFAULT_ENTRY_LIMIT } from "./analyze.js";
export { apacheLogFormats, logFormatsFromConfig, nginxLogFormats } from "./config-formats.js";
export { evidenceFromLogs, type LogMatch, waitForLogMarker } from "./evidence.js";
export { compileLogFormat } from "./log-format.js";
export type { LogCause, LogEntry, LogFileSummary, LogsOptions, LogsReport } from "./types.js";
