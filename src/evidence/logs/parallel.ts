// A large plain log file read by worker threads over byte ranges: the ranges
// split at line starts, each worker scans one range at a time (prefilter and
// parsers, range-scan.ts) and posts its records; this thread takes them range by
// range in file order, renumbers their lines and hands them on — to the same
// join the single-thread path feeds, in the same order — so the report is the
// same. Workers run at most AHEAD ranges in front of the one being taken, which
// bounds the records waiting here.
import { closeSync, existsSync, openSync, readSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { Worker } from "node:worker_threads";
import type { AllowedRangeResult } from "./allowed-range.js";
import type { AllowedSighting } from "./allowed-watch.js";
import { FORMAT_SAMPLE } from "./file-scan.js";
import { readError } from "./lines.js";
import type { RangeMessage, RangeTask } from "./range-scan.js";
import type { RangeWorkerData } from "./range-worker.js";
import { unpackEach } from "./record-codec.js";
import type { LogRecord } from "./types.js";

/** Bytes per range: big enough that a range's start-up is noise, small enough to balance the workers. */
export const DEFAULT_RANGE_BYTES = 16 * 1024 * 1024;
/** At most this many workers, whatever is asked: each costs about 25 MB. */
const MAX_WORKERS = 16;

export interface RangePlan {
  workers: number;
  rangeBytes: number;
  /** The zone the run reads zoneless stamps in (time.ts): the workers read theirs in it too. */
  zone: string | null;
}

/**
 * How to scan a file of `size` bytes: in ranges on `workers` worker threads, or
 * on this thread (null). Workers are used only when asked for (LogsOptions.workers,
 * WHY403_LOG_WORKERS): on the shared 2-core machine they were measured on, the join
 * on this thread set the pace and packing the records for the trip cost more than
 * the parsing it moved, so one thread was faster (bench/README.md).
 */
export function rangePlan(
  size: number,
  zone: string | null,
  workers = 0,
  rangeBytes?: number,
): RangePlan | null {
  const n = Math.min(Math.floor(workers), MAX_WORKERS);
  const bytes = rangeBytes ?? DEFAULT_RANGE_BYTES;
  if (!(n >= 1) || !Number.isFinite(bytes) || bytes < 1 || size <= bytes) return null;
  if (workerScript() === null) return null;
  return { workers: n, rangeBytes: Math.floor(bytes), zone };
}

/**
 * The built worker entry (dist/logs-worker.js), beside this module or one folder
 * up (the bundle's chunks/ folder); null when running from sources (tests), where
 * the single-thread path is used.
 */
export function workerScript(): URL | null {
  for (const rel of ["./logs-worker.js", "../logs-worker.js"]) {
    const url = new URL(rel, import.meta.url);
    if (url.protocol === "file:" && existsSync(fileURLToPath(url))) return url;
  }
  return null;
}

/** Range starts: 0, then the first line start at or after each multiple of rangeBytes; ends with size. */
export function rangeBounds(path: string, size: number, rangeBytes: number): number[] {
  const bounds = [0];
  const fd = openSync(path, "r");
  const buf = Buffer.allocUnsafe(64 * 1024);
  try {
    let at = rangeBytes;
    while (at < size) {
      // The line start at or after `at`: just after the first "\n" at or after at - 1.
      let pos = at - 1;
      let next = -1;
      while (pos < size) {
        const n = readSync(fd, buf, 0, buf.length, pos);
        if (n === 0) break;
        const nl = buf.subarray(0, n).indexOf(0x0a);
        if (nl !== -1) {
          next = pos + nl + 1;
          break;
        }
        pos += n;
      }
      if (next === -1 || next >= size) break;
      if (next > (bounds[bounds.length - 1] as number)) bounds.push(next);
      at = Math.max(next, at) + rangeBytes;
    }
  } finally {
    closeSync(fd);
  }
  bounds.push(size);
  return bounds;
}

export interface RangeSink {
  /** Each record of a range, in file order, its line already numbered for the whole file. */
  record(rec: LogRecord): void;
  /** Bytes read and lines counted so far. */
  progress(bytes: number, lines: number): void;
}

export interface RangesResult {
  lines: number;
  cut: number;
  /** The formats of the file's first sampled lines. */
  sampled: string[];
  /** The file's first non-empty line looked binary: no records were taken. */
  binary: boolean;
  /** Ranges scanned (a range scanned again after an audit record ran into it counts twice) and workers used. */
  ranges: number;
  workers: number;
}

interface Task extends RangeTask {
  assigned: boolean;
  stale: boolean;
  /** Messages that came before the task's turn. */
  waiting: RangeMessage[];
}

const WORKER_YOUNG_MB = 4;

/** Workers ahead of the range being taken, per worker. */
const AHEAD_PER_WORKER = 1;

export function scanInRanges(
  path: string,
  size: number,
  plan: RangePlan,
  formats: Record<string, string> | undefined,
  sink: RangeSink,
): Promise<RangesResult> {
  const script = workerScript() as URL;
  const bounds = rangeBounds(path, size, plan.rangeBytes);
  let nextId = 0;
  const task = (start: number, end: number): Task => ({
    id: nextId++,
    start,
    end,
    assigned: false,
    stale: false,
    waiting: [],
  });
  const tasks: Task[] = [];
  for (let i = 0; i + 1 < bounds.length; i++) tasks.push(task(bounds[i] as number, bounds[i + 1] as number));
  const live = new Map<number, Task>(tasks.map((t) => [t.id, t]));
  const data: RangeWorkerData = { path, size, formats, zone: plan.zone };
  const pool = Array.from(
    { length: Math.min(plan.workers, tasks.length) },
    // A small young generation: a worker's records live for one chunk, and each
    // worker's default one (tens of MB) would put the process over its memory aim.
    () =>
      new Worker(script, { workerData: data, resourceLimits: { maxYoungGenerationSizeMb: WORKER_YOUNG_MB } }),
  );
  const idle = [...pool];
  const ahead = pool.length * AHEAD_PER_WORKER;

  const result: RangesResult = {
    lines: 0,
    cut: 0,
    sampled: [],
    binary: false,
    ranges: tasks.length,
    workers: pool.length,
  };
  let cursor = 0;
  let bytes = 0;
  let seenText = false;
  let finished = false;

  return new Promise<RangesResult>((resolve, reject) => {
    const stop = (e: unknown) => {
      if (finished) return;
      finished = true;
      void Promise.all(pool.map((w) => w.terminate())).finally(() =>
        e === null ? resolve(result) : reject(e),
      );
    };
    const dispatch = () => {
      for (let i = cursor; i < tasks.length && i < cursor + ahead && idle.length > 0; i++) {
        const t = tasks[i] as Task;
        if (t.assigned) continue;
        t.assigned = true;
        (idle.pop() as Worker).postMessage({ id: t.id, start: t.start, end: t.end } satisfies RangeTask);
      }
    };
    /** Takes one message of the current task; false when the file is done. */
    const take = (m: RangeMessage): boolean => {
      if (m.type === "error") {
        stop(readError(Object.assign(new Error(m.message), { code: m.code })));
        return false;
      }
      if (m.type === "batch") {
        if (!seenText && m.firstText > 0) {
          seenText = true;
          if (m.binary) {
            // The file's first text looks binary: the file is skipped, as the single-thread path does.
            result.binary = true;
            result.lines += m.firstText;
            stop(null);
            return false;
          }
        }
        bytes += m.bytes;
        if (m.records.count > 0) unpackEach(m.records, result.lines, sink.record);
        sink.progress(bytes, result.lines + m.lines);
        return true;
      }
      if (m.type === "allowed") return true;
      const t = tasks[cursor] as Task;
      result.lines += m.lines;
      result.cut += m.cut;
      for (const f of m.sampled) if (result.sampled.length < FORMAT_SAMPLE) result.sampled.push(f);
      if (m.endAt > t.end) skipTo(m.endAt);
      live.delete(t.id);
      cursor++;
      return true;
    };
    /** An audit record ran past its range up to `at`: ranges before it go, the one across it starts there. */
    const skipTo = (at: number) => {
      const i = cursor + 1;
      while (i < tasks.length && (tasks[i] as Task).end <= at) retire(tasks.splice(i, 1)[0] as Task);
      const t = tasks[i];
      if (t && t.start < at) {
        retire(t);
        const again = task(at, t.end);
        result.ranges++;
        live.set(again.id, again);
        tasks[i] = again;
      }
    };
    const retire = (t: Task) => {
      t.stale = true;
      live.delete(t.id);
    };
    /** Takes every message that is the current task's, moving on as tasks end. */
    const advance = () => {
      while (!finished && cursor < tasks.length) {
        const t = tasks[cursor] as Task;
        const m = t.waiting.shift();
        if (!m) break;
        if (!take(m)) return;
      }
      if (!finished && cursor >= tasks.length) stop(null);
    };
    for (const w of pool) {
      w.on("message", (m: RangeMessage) => {
        if (finished) return;
        if (m.type !== "batch") idle.push(w);
        const t = live.get(m.id);
        try {
          if (t && !t.stale) {
            t.waiting.push(m);
            advance();
          }
          if (!finished) dispatch();
        } catch (e) {
          // A throw while joining (the caller's onDenial, say) ends the scan, as it would on one thread.
          stop(e);
        }
      });
      w.on("error", (e) => stop(e));
      w.on("exit", (code) => {
        if (!finished) stop(new Error(`a log worker stopped unexpectedly (exit code ${code})`));
      });
    }
    dispatch();
  });
}

/**
 * The second pass of the address-rule evidence over a file read by workers,
 * done by workers too: the allowed requests on `keys` in every range, as
 * sightings in file order (lines numbered for the whole file, `file` set to
 * `fileIndex`), or null when a range could not vouch for its lines (the caller
 * then reads the file itself).
 */
export async function allowedInRanges(
  path: string,
  size: number,
  plan: RangePlan,
  keys: string[],
  fileIndex: number,
): Promise<AllowedSighting[] | null> {
  const script = workerScript();
  if (script === null) return null;
  const bounds = rangeBounds(path, size, plan.rangeBytes);
  const tasks: RangeTask[] = [];
  for (let i = 0; i + 1 < bounds.length; i++)
    tasks.push({ id: i, start: bounds[i] as number, end: bounds[i + 1] as number, allowed: keys });
  const data: RangeWorkerData = { path, size, zone: plan.zone };
  const results = await runOnWorkers(script, data, Math.min(plan.workers, tasks.length), tasks);
  const out: AllowedSighting[] = [];
  let lines = 0;
  for (const r of results) {
    if (r.unsure) return null;
    for (const s of r.sightings) out.push({ ...s, file: fileIndex, line: s.line + lines });
    lines += r.lines;
  }
  return out;
}

/** Runs one-message tasks on a pool of workers; their answers in task order. */
function runOnWorkers(
  script: URL,
  data: RangeWorkerData,
  workers: number,
  tasks: RangeTask[],
): Promise<AllowedRangeResult[]> {
  const results: AllowedRangeResult[] = new Array(tasks.length);
  const pool = Array.from({ length: workers }, () => new Worker(script, { workerData: data }));
  let next = 0;
  let left = tasks.length;
  return new Promise((resolve, reject) => {
    let finished = false;
    const stop = (e: unknown) => {
      if (finished) return;
      finished = true;
      void Promise.all(pool.map((w) => w.terminate())).finally(() =>
        e === null ? resolve(results) : reject(e),
      );
    };
    const give = (w: Worker) => {
      const t = tasks[next++];
      if (t) w.postMessage(t);
    };
    for (const w of pool) {
      w.on("message", (m: RangeMessage) => {
        if (m.type === "error") return stop(readError(Object.assign(new Error(m.message), { code: m.code })));
        if (m.type !== "allowed") return;
        results[m.id] = m.result;
        if (--left === 0) return stop(null);
        give(w);
      });
      w.on("error", (e) => stop(e));
      w.on("exit", (code) => {
        if (!finished) stop(new Error(`a log worker stopped unexpectedly (exit code ${code})`));
      });
      give(w);
    }
  });
}
