// `why403 logs`: read every file line by line, join the lines of one request,
// and count the denials by cause, path, client and rule.
// Choices: a binary file is skipped with files[].format "binary" and a warning
// (one stray file in a glob should not spoil the rest); a missing or unreadable
// file is an InputError. Several files are read in step by time (time-merge.ts),
// so a request's lines in the access, error and WAF logs meet in the join window.
import { open, stat } from "node:fs/promises";
import { InputError } from "../../errors.js";
import type { CauseId } from "../../model.js";
import { evaluateApache, parseApacheConfig } from "../apache/index.js";
import { evaluateNginx, parseNginxConfig } from "../nginx/index.js";
import { AddressRuleEvidence, type ConfigEvaluator, isAddressOrBlanket } from "./address-rule.js";
import { AllowedWatch } from "./allowed-watch.js";
import { BoundedCounter } from "./counter.js";
import { FormatTally } from "./dispatch.js";
import { destroy, FileReader } from "./file-reader.js";
import { compileFormats, FORMAT_SAMPLE } from "./file-scan.js";
import { withTightHeap } from "./gc-pacing.js";
import { JOIN_WINDOW, type Joined, Joiner, toEntry } from "./join.js";
import { openLog } from "./lines.js";
import { logFilesOf } from "./log-files.js";
import type { CompiledFormat } from "./log-format.js";
import { allowedInRanges, type RangePlan, rangePlan, scanInRanges } from "./parallel.js";
import { pathOnly } from "./record.js";
import { checkZone, type StampZone, stampZoneFor, ZONE_SAMPLE_WINDOWS } from "./stamp-zone.js";
import { type MergeSource, mergeByTime, RecordQueue } from "./time-merge.js";
import type { LogCause, LogFileSummary, LogRecord, LogsOptions, LogsReport } from "./types.js";

export { FileScan } from "./file-scan.js";

export const DEFAULT_ENTRY_LIMIT = 200;
const PROGRESS_INTERVAL_MS = 250;
const TOP_N = 10;

/**
 * Reads the files, joins the records and hands every finished denial to
 * `onDenial`; `watch` gathers allowed clients on address-rule paths on the way.
 */
export async function scanLogs(
  paths: string[],
  options: LogsOptions,
  onDenial: (j: Joined) => void,
  watch?: AllowedWatch,
  onStampZone?: (zone: StampZone) => void,
): Promise<LogFileSummary[]> {
  if (paths.length === 0) throw new InputError("no log files given");
  paths = await logFilesOf(paths);
  const zone = stampZoneFor(options.timeZone, options.timeZone ? [] : await zoneSamples(paths));
  const readIn = zone?.zone ?? null;
  if (readIn !== null) checkZone(readIn);
  if (zone) onStampZone?.(zone);
  // Every reader of this run is given the zone (no state shared with other runs in this process).
  if (watch) watch.zone = readIn;
  return withTightHeap(() => scanAll(paths, options, onDenial, watch, readIn));
}

/** Bytes of each window of a file looked at for the zone its stamps show. */
const ZONE_SAMPLE_BYTES = 64 * 1024;
/**
 * Bytes of all the windows of a run: with many files (a directory of rotated
 * logs) each gets fewer windows, down to its start. Eight files or fewer keep
 * ZONE_SAMPLE_WINDOWS each. Measured on 64 files of 2 MB: the samples had the
 * run at 271 MB peak, 154 MB without them.
 */
const ZONE_SAMPLE_BUDGET_BYTES = ZONE_SAMPLE_WINDOWS * 8 * ZONE_SAMPLE_BYTES;

/** Windows sampled in each of `files` plain files: ZONE_SAMPLE_WINDOWS, fewer when the budget says so, at least 1. */
export function zoneWindowsPerFile(files: number): number {
  const fit = Math.floor(ZONE_SAMPLE_BUDGET_BYTES / (ZONE_SAMPLE_BYTES * Math.max(1, files)));
  return Math.max(1, Math.min(ZONE_SAMPLE_WINDOWS, fit));
}

/**
 * The start of each log, and windows spread over the rest of it up to its end,
 * as text (stdin aside: it cannot be read twice; a .gz file by its start only).
 * A missing file is bad input here, as in the scan.
 */
async function zoneSamples(paths: string[]): Promise<string[]> {
  const samples: string[] = [];
  const windows = zoneWindowsPerFile(paths.filter((p) => p !== "-" && !p.endsWith(".gz")).length);
  for (const path of paths) {
    if (path === "-") continue;
    const opened = await openLog(path, undefined, ZONE_SAMPLE_BYTES);
    try {
      if (path.endsWith(".gz")) {
        for await (const chunk of opened.stream) {
          samples.push(chunk.toString("utf8", 0, Math.min(chunk.length, ZONE_SAMPLE_BYTES)));
          break;
        }
        continue;
      }
      samples.push(...(await spreadWindows(path, ZONE_SAMPLE_BYTES, windows)));
    } catch {
      // Unreadable here: the scan says so.
    } finally {
      destroy(opened.stream);
    }
  }
  return samples;
}

/**
 * A plain file's first `bytes`, then up to `count - 1` more windows of `bytes`
 * spread evenly up to its end, each from its first whole line on (only the
 * first when it holds the whole file).
 */
async function spreadWindows(path: string, bytes: number, count: number): Promise<string[]> {
  const fh = await open(path, "r");
  try {
    const { size } = await fh.stat();
    const read = async (from: number, length: number) => {
      const { bytesRead, buffer } = await fh.read(Buffer.alloc(length), 0, length, from);
      return buffer.toString("utf8", 0, bytesRead);
    };
    const out = [await read(0, Math.min(size, bytes))];
    if (size <= bytes) return out;
    for (let k = 1; k < count; k++) {
      const text = await read(Math.floor(((size - bytes) * k) / (count - 1)), bytes);
      out.push(text.slice(text.indexOf("\n") + 1));
    }
    return out;
  } finally {
    await fh.close();
  }
}

async function scanAll(
  paths: string[],
  options: LogsOptions,
  onDenial: (j: Joined) => void,
  watch: AllowedWatch | undefined,
  zone: string | null,
): Promise<LogFileSummary[]> {
  const custom = compileFormats(options.logFormats);
  const progress = new ProgressTicker(options.onProgress);
  const files: LogFileSummary[] = [];
  const byName = new Map<string, LogFileSummary>();
  const joiner = new Joiner(
    (j) => {
      if (!j.rec.denied || !passes(j.rec, options)) return;
      progress.denials++;
      // Indexed: for-of on the joiner's shared frozen lists takes V8's slow iterator path.
      for (let i = 0; i < j.files.length; i++) {
        const summary = byName.get(j.files[i] as string);
        if (summary) summary.denials++;
      }
      onDenial(j);
    },
    JOIN_WINDOW,
    STALE_SECONDS,
    paths.length > 1,
  );
  const emit = watch
    ? (rec: LogRecord) => {
        const j = joiner.add(rec);
        if (j !== null) watch.seen(j.rec);
      }
    : (rec: LogRecord) => {
        joiner.add(rec);
      };
  const summaries = paths.map((path) => {
    const summary: LogFileSummary = { path, format: "empty", lines: 0, denials: 0 };
    files.push(summary);
    byName.set(path, summary);
    return summary;
  });
  if (summaries.length === 1) {
    await scanFile(summaries[0] as LogFileSummary, custom, options, emit, progress, watch, zone);
  } else {
    // The watch follows one file at a time: with several read together the second pass decides.
    watch?.abandon();
    for (let i = 0; i < summaries.length; i += MAX_MERGED_FILES)
      await scanMerged(summaries.slice(i, i + MAX_MERGED_FILES), custom, options, emit, progress, zone);
  }
  joiner.flush();
  progress.report(0, true);
  return files;
}

/**
 * A waiting request this many seconds older than the latest record is final
 * (the window of JOIN_WINDOW requests bounds the rest): fewer requests wait,
 * and they die young (less garbage-collection work). Lines of one request
 * meet within a second or two once the files are read in step by time.
 * Measured on the bench's 1 GB files: the same reports, 1.11x (5% refused) and
 * 1.21x (20%) faster than the window alone, peak 108-111 MB (bench/README.md).
 */
const STALE_SECONDS = 30;

/** Files read in step by time at most; more are taken in groups of this many, in the order given. */
export const MAX_MERGED_FILES = 64;
/** A plain file's read size when several are read together (each holds two such buffers). */
const MERGED_CHUNK_BYTES = 128 * 1024;

async function scanFile(
  summary: LogFileSummary,
  custom: CompiledFormat[],
  options: LogsOptions,
  emit: (rec: LogRecord) => void,
  progress: ProgressTicker,
  watch: AllowedWatch | undefined,
  zone: string | null,
): Promise<void> {
  const { path } = summary;
  const opened = await openLog(path, options.stdin);
  const plan = path === "-" || path.endsWith(".gz") ? null : await planFor(path, options, zone);
  // Worker threads read the lines elsewhere: the watch does not see them (the second pass reads that file).
  watch?.beginFile(path, !plan && path !== "-");
  if (plan) {
    destroy(opened.stream);
    await scanFileInRanges(path, plan, summary, options, emit, progress);
  } else {
    const reader = new FileReader(opened, summary, custom, emit, zone, watch);
    const onBytes = (bytes: number) => {
      progress.bytes += bytes;
      progress.report(reader.scan.lines, false);
    };
    while (await reader.step(onBytes));
  }
  progress.doneLines += summary.lines;
}

/**
 * Several files read on this thread in step by time (time-merge.ts), so the lines
 * one request left in each (access, error, WAF logs) reach the join together.
 */
async function scanMerged(
  summaries: LogFileSummary[],
  custom: CompiledFormat[],
  options: LogsOptions,
  emit: (rec: LogRecord) => void,
  progress: ProgressTicker,
  zone: string | null,
): Promise<void> {
  const readers: FileReader[] = [];
  const lines = () => readers.reduce((n, r) => n + r.scan.lines, 0);
  const onBytes = (bytes: number) => {
    progress.bytes += bytes;
    progress.report(lines(), false);
  };
  try {
    const sources: MergeSource[] = [];
    for (const summary of summaries) {
      const queue = new RecordQueue();
      const opened = await openLog(summary.path, options.stdin, MERGED_CHUNK_BYTES);
      const reader = new FileReader(opened, summary, custom, (rec) => queue.push(rec), zone);
      readers.push(reader);
      sources.push({ queue, step: () => reader.step(onBytes) });
    }
    await mergeByTime(sources, emit);
  } catch (e) {
    await Promise.all(readers.map((r) => r.close().catch(() => undefined)));
    throw e;
  }
  progress.doneLines += lines();
}

async function firstByte(path: string): Promise<number | null> {
  const fh = await open(path, "r");
  try {
    const { bytesRead, buffer } = await fh.read(Buffer.alloc(1), 0, 1, 0);
    return bytesRead === 1 ? (buffer[0] as number) : null;
  } finally {
    await fh.close();
  }
}

async function planFor(
  path: string,
  options: LogsOptions,
  zone: string | null,
): Promise<(RangePlan & { size: number }) | null> {
  const { size } = await stat(path);
  const plan = rangePlan(size, zone, options.workers, options.rangeBytes);
  // A W3C log (it opens with a directive) is read by the columns its #Fields: lines
  // name, state a range starting mid-file would not have: one thread reads it.
  if (plan && (await firstByte(path)) === 0x23 /* # */) return null;
  return plan && { ...plan, size };
}

/** scanFile's work done by worker threads over byte ranges of the file (parallel.ts). */
async function scanFileInRanges(
  path: string,
  plan: RangePlan & { size: number },
  summary: LogFileSummary,
  options: LogsOptions,
  emit: (rec: LogRecord) => void,
  progress: ProgressTicker,
): Promise<void> {
  const startBytes = progress.bytes;
  const result = await scanInRanges(path, plan.size, plan, options.logFormats, {
    record: emit,
    progress: (bytes, lines) => {
      progress.bytes = startBytes + bytes;
      progress.report(lines, false);
    },
  });
  options.onRanges?.(path, result.ranges, result.workers);
  summary.lines = result.lines;
  if (result.binary) {
    summary.format = "binary";
    summary.warning = "skipped: the file is binary, not a text log";
    return;
  }
  const tally = new FormatTally(FORMAT_SAMPLE);
  for (const f of result.sampled) tally.add(f);
  summary.format = tally.name();
  if (result.cut > 0) summary.cutLines = result.cut;
}

/** Totals for LogsOptions.onProgress, reported at most every PROGRESS_INTERVAL_MS. */
class ProgressTicker {
  bytes = 0;
  denials = 0;
  /** Lines of the files already finished. */
  doneLines = 0;
  private readonly start = Date.now();
  private last = 0;
  constructor(private readonly sink: LogsOptions["onProgress"]) {}

  report(currentFileLines: number, final: boolean): void {
    if (!this.sink) return;
    const now = Date.now();
    if (!final && now - this.last < PROGRESS_INTERVAL_MS) return;
    this.last = now;
    this.sink({
      bytes: this.bytes,
      lines: this.doneLines + currentFileLines,
      denials: this.denials,
      elapsedMs: now - this.start,
    });
  }
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
  const entries: Array<LogsReport["entries"][number] | null> = [];
  let denials = 0;
  const count = (j: Joined, slot: number | null) => {
    const a = j.rec;
    denials++;
    byCause[a.cause] = (byCause[a.cause] ?? 0) + 1;
    if (a.path) pathsCount.add(pathOnly(a.path));
    if (a.client) clients.add(a.client);
    for (let i = 0; i < a.rules.length; i++) rules.add(a.rules[i] as string);
    if (slot !== null) entries[slot] = toEntry(j);
    else if (entries.length < limit) entries.push(toEntry(j));
  };
  // Address rule or blanket deny: held back until the rest of the evidence is in (address-rule.ts).
  const addressRules = new AddressRuleEvidence(configEvaluator(options));
  const watch = new AllowedWatch();
  const held: Array<[Joined, number | null]> = [];
  // Beyond MAX_HELD they are counted at once, per path and cause, and moved once the path is settled.
  const overflow = new Map<string, Map<LogCause, number>>();
  let stampZone: StampZone | undefined;
  const files = await scanLogs(
    paths,
    options,
    (j) => {
      if (isAddressOrBlanket(j.rec)) {
        addressRules.note(j);
        if (held.length < MAX_HELD) {
          // Its place in the entries is kept, so they stay in log order.
          const slot = entries.length < limit ? entries.push(null) - 1 : null;
          held.push([j, slot]);
          return;
        }
        if (j.rec.path && addressRules.tracks(j.rec.path)) tally(overflow, j.rec.path, j.rec.cause);
      }
      count(j, null);
    },
    watch,
    (zone) => {
      stampZone = zone;
    },
  );
  if (held.length > 0) {
    const zone = stampZone?.zone ?? null;
    addressRules.zone = zone;
    await addressRules.gatherAllowed(files, watch, async (f, path, keys) => {
      // A file the workers read is searched by them again.
      const plan = path === "-" || path.endsWith(".gz") ? null : await planFor(path, options, zone);
      const sightings = plan ? await allowedInRanges(path, plan.size, plan, keys, f) : null;
      if (sightings && plan) options.onAllowedRanges?.(path, plan.workers);
      return sightings;
    });
    for (const [j, slot] of held) {
      addressRules.decide(j);
      count(j, slot);
    }
    for (const [path, causes] of overflow) {
      const verdict = addressRules.byLogs(path);
      if (!verdict) continue;
      for (const [cause, n] of causes) {
        byCause[cause] = (byCause[cause] ?? 0) - n;
        if (byCause[cause] === 0) delete byCause[cause];
        byCause[verdict.cause] = (byCause[verdict.cause] ?? 0) + n;
      }
    }
  }
  return {
    schema: "why403.logs/v1",
    files,
    denials,
    byCause: sortCauses(byCause),
    top: { paths: pathsCount.top(TOP_N), clients: clients.top(TOP_N), rules: rules.top(TOP_N) },
    entries: entries.filter((e): e is LogsReport["entries"][number] => e !== null),
    ...(stampZone ? { stampZone } : {}),
  };
}

/** Held-back address-or-blanket denials at most (listed entries come from these). */
const MAX_HELD = 10_000;

function tally(overflow: Map<string, Map<LogCause, number>>, path: string, cause: LogCause): void {
  const key = pathOnly(path);
  let causes = overflow.get(key);
  if (!causes) {
    causes = new Map();
    overflow.set(key, causes);
  }
  causes.set(cause, (causes.get(cause) ?? 0) + 1);
}

function configEvaluator(options: LogsOptions): ConfigEvaluator | null {
  if (options.nginxConf) {
    const config = parseNginxConfig(options.nginxConf);
    return (req) => evaluateNginx(config, req);
  }
  if (options.apacheConf) {
    const config = parseApacheConfig(options.apacheConf);
    return (req) => evaluateApache(config, req);
  }
  return null;
}

function sortCauses(byCause: Partial<Record<LogCause, number>>): Partial<Record<LogCause, number>> {
  const sorted = Object.entries(byCause).sort((a, b) => (b[1] ?? 0) - (a[1] ?? 0));
  return Object.fromEntries(sorted) as Partial<Record<CauseId | "unknown", number>>;
}
