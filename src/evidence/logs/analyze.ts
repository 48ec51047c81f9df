// `why403 logs`: read every file line by line, join the lines of one request,
// and count the denials by cause, path, client and rule.
// Choices: a binary file is skipped with files[].format "binary" and a warning
// (one stray file in a glob should not spoil the rest); a missing or unreadable
// file is an InputError. Joins across files reach back JOIN_WINDOW requests.
import { InputError } from "../../errors.js";
import type { CauseId } from "../../model.js";
import { BoundedCounter } from "./counter.js";
import { FormatTally, LineDispatcher } from "./dispatch.js";
import { type Joined, Joiner, toEntry } from "./join.js";
import { looksBinary, openLog, splitLines } from "./lines.js";
import { type CompiledFormat, compileLogFormat } from "./log-format.js";
import { pathOnly } from "./record.js";
import type { LogCause, LogFileSummary, LogRecord, LogsOptions, LogsReport } from "./types.js";

export const DEFAULT_ENTRY_LIMIT = 200;
const TOP_N = 10;

/** Reads the files, joins the records and hands every finished denial to `onDenial`. */
export async function scanLogs(
  paths: string[],
  options: LogsOptions,
  onDenial: (j: Joined) => void,
): Promise<LogFileSummary[]> {
  if (paths.length === 0) throw new InputError("no log files given");
  const custom = compileFormats(options.logFormats);
  const files: LogFileSummary[] = [];
  const byName = new Map<string, LogFileSummary>();
  const joiner = new Joiner((j) => {
    if (!j.rec.denied || !passes(j.rec, options)) return;
    for (const f of j.files) {
      const summary = byName.get(f);
      if (summary) summary.denials++;
    }
    onDenial(j);
  });
  for (const path of paths) {
    const summary: LogFileSummary = { path, format: "empty", lines: 0, denials: 0 };
    files.push(summary);
    byName.set(path, summary);
    await scanFile(path, summary, custom, options, (rec) => joiner.add(rec));
  }
  joiner.flush();
  return files;
}

async function scanFile(
  path: string,
  summary: LogFileSummary,
  custom: CompiledFormat[],
  options: LogsOptions,
  emit: (rec: LogRecord) => void,
): Promise<void> {
  const opened = await openLog(path, options.stdin);
  const dispatcher = new LineDispatcher(path, custom);
  const tally = new FormatTally();
  let checked = false;
  let cut = 0;
  const lines = splitLines(opened.stream);
  for await (const line of lines) {
    summary.lines = line.n;
    if (!checked && line.text.length > 0) {
      checked = true;
      if (looksBinary(line.text)) {
        summary.format = "binary";
        summary.warning = "skipped: the file is binary, not a text log";
        await lines.return(undefined);
        destroy(opened.stream);
        return;
      }
    }
    if (line.cut) cut++;
    const { format, records } = dispatcher.feed(line);
    tally.add(format);
    for (const rec of records) emit(rec);
  }
  for (const rec of dispatcher.end()) emit(rec);
  summary.format = tally.name();
  if (cut > 0) summary.cutLines = cut;
}

function destroy(stream: unknown): void {
  const s = stream as { destroy?: () => void };
  if (typeof s.destroy === "function" && stream !== process.stdin) s.destroy();
}

function compileFormats(formats: Record<string, string> | undefined): CompiledFormat[] {
  return Object.entries(formats ?? {})
    .map(([name, format]) => compileLogFormat(name, format))
    .filter((f): f is CompiledFormat => f !== null);
}

function passes(rec: LogRecord, o: LogsOptions): boolean {
  if (o.since || o.until) {
    if (!rec.time) return false;
    if (o.since && rec.time.getTime() < o.since.getTime()) return false;
    if (o.until && rec.time.getTime() > o.until.getTime()) return false;
  }
  if (o.status && o.status.length > 0 && (rec.status === null || !o.status.includes(rec.status)))
    return false;
  if (o.path && !(rec.path ?? "").includes(o.path)) return false;
  return true;
}

/** Finds and classifies the denials in the given logs (schema why403.logs/v1). */
export async function analyzeLogs(paths: string[], options: LogsOptions = {}): Promise<LogsReport> {
  const limit = options.limit ?? DEFAULT_ENTRY_LIMIT;
  if (!Number.isInteger(limit) || limit < 0)
    throw new InputError(`--limit must be a whole number ≥ 0, got ${limit}`);
  const byCause: Partial<Record<LogCause, number>> = {};
  const pathsCount = new BoundedCounter();
  const clients = new BoundedCounter();
  const rules = new BoundedCounter();
  const entries: LogsReport["entries"] = [];
  let denials = 0;
  const files = await scanLogs(paths, options, (j) => {
    const a = j.rec;
    denials++;
    byCause[a.cause] = (byCause[a.cause] ?? 0) + 1;
    if (a.path) pathsCount.add(pathOnly(a.path));
    if (a.client) clients.add(a.client);
    for (const r of a.rules) rules.add(r);
    if (entries.length < limit) entries.push(toEntry(j));
  });
  return {
    schema: "why403.logs/v1",
    files,
    denials,
    byCause: sortCauses(byCause),
    top: { paths: pathsCount.top(TOP_N), clients: clients.top(TOP_N), rules: rules.top(TOP_N) },
    entries,
  };
}

function sortCauses(byCause: Partial<Record<LogCause, number>>): Partial<Record<LogCause, number>> {
  const sorted = Object.entries(byCause).sort((a, b) => (b[1] ?? 0) - (a[1] ?? 0));
  return Object.fromEntries(sorted) as Partial<Record<CauseId | "unknown", number>>;
}
