// One byte range of a log file scanned as FileScan scans a whole file, for a
// worker thread. Ranges start and end at line starts, so every line lies in one
// range. The one state a line hands to the next is an open serial audit record:
// a range that ends inside one reads on until the record closes and says where
// it stopped, and the range after it is scanned again from there (parallel.ts).
import { readSync } from "node:fs";
import type { AllowedRangeResult } from "./allowed-range.js";
import { FileScan } from "./file-scan.js";
import { LineSplitter } from "./lines.js";
import type { CompiledFormat } from "./log-format.js";
import { type PackedRecords, RecordPacker } from "./record-codec.js";
import type { LogRecord } from "./types.js";

export interface RangeTask {
  id: number;
  /** Byte offsets: start at a line start, end at a line start or the end of the file. */
  start: number;
  end: number;
  /** Instead of a scan: the allowed requests on these paths (allowed-range.ts). */
  allowed?: string[];
}

/** The answer to a task with `allowed`. */
export interface RangeAllowed {
  type: "allowed";
  id: number;
  result: AllowedRangeResult;
}

/** The records of one chunk of the range, lines numbered from 1 at the range's start. */
export interface RangeBatch {
  type: "batch";
  id: number;
  records: PackedRecords;
  bytes: number;
  /** Lines of the range read so far. */
  lines: number;
  /** The range's first non-empty line (0: none yet) and whether it looked binary. */
  firstText: number;
  binary: boolean;
}

export interface RangeDone {
  type: "done";
  id: number;
  lines: number;
  cut: number;
  /** The formats of the range's first sampled lines (FileScan.sampled). */
  sampled: string[];
  /** Where reading stopped: `end`, or past it when an audit record was open there. */
  endAt: number;
}

export interface RangeFailure {
  type: "error";
  id: number;
  message: string;
  code?: string;
}

export type RangeMessage = RangeBatch | RangeDone | RangeFailure | RangeAllowed;

/**
 * Scans buf-sized chunks of fd from task.start and posts a batch per chunk,
 * then a done. `size` is the file's size when the scan was planned; `zone` that
 * of the file's zoneless stamps (LineDispatcher).
 */
export function scanRange(
  fd: number,
  size: number,
  file: string,
  custom: CompiledFormat[],
  zone: string | null,
  task: RangeTask,
  buf: Buffer,
  post: (m: RangeBatch | RangeDone, transfer?: ArrayBuffer[]) => void,
): void {
  const records = new RecordPacker();
  // An access line that was not refused is the one record the join drops unseen (Joiner.add): not sent.
  const keep = (rec: LogRecord) => {
    if (rec.kind !== "access" || rec.denied) records.add(rec);
  };
  const scan = new FileScan(file, custom, keep, task.start === 0, zone);
  let pos = task.start;
  let chunkAt = pos;
  let overrun = false;
  let fileEnd = size;
  let stoppedAt = -1;
  const splitter: LineSplitter = new LineSplitter({
    chunk: (b) => scan.chunk(b),
    line: (b, s, e, cut) => {
      if (!scan.line(b, s, e, cut)) return false;
      if (overrun && !scan.dispatcher.midRecord) {
        // The open record closed on this line: the next range's scan starts after it.
        stoppedAt = splitter.newlineAt === -1 ? fileEnd : chunkAt + splitter.newlineAt + 1;
        return false;
      }
      return true;
    },
  });
  const flush = (bytes: number) => {
    const packed = records.take();
    // The typed arrays are moved, not copied.
    post(
      {
        type: "batch",
        id: task.id,
        records: packed,
        bytes,
        lines: scan.lines,
        firstText: scan.firstText,
        binary: scan.binary,
      },
      [
        packed.nums.buffer as ArrayBuffer,
        packed.refs.buffer as ArrayBuffer,
        packed.lengths.buffer as ArrayBuffer,
        packed.text.buffer as ArrayBuffer,
      ],
    );
  };
  let endAt = task.end;
  for (;;) {
    const limit = Math.min(overrun ? fileEnd : task.end, fileEnd);
    if (pos >= limit) {
      if (pos >= fileEnd) {
        splitter.end();
        // As scanFile: a file that stopped at its binary first line has no open record to finish.
        if (!(scan.binary && scan.atFileStart)) for (const rec of scan.dispatcher.end()) records.add(rec);
        endAt = stoppedAt === -1 ? fileEnd : stoppedAt;
        flush(0);
        break;
      }
      if (!scan.dispatcher.midRecord) break;
      overrun = true;
      continue;
    }
    const n = readSync(fd, buf, 0, Math.min(buf.length, limit - pos), pos);
    if (n === 0) {
      // The file shrank since it was planned: what is there is all there is.
      fileEnd = pos;
      continue;
    }
    chunkAt = pos;
    pos += n;
    const more = splitter.push(n === buf.length ? buf : buf.subarray(0, n));
    if (!more) {
      // A binary first line (the scan stops) or the open record closed.
      endAt = stoppedAt === -1 ? pos : stoppedAt;
      flush(n);
      break;
    }
    flush(n);
  }
  post({ type: "done", id: task.id, lines: scan.lines, cut: scan.cut, sampled: scan.sampled, endAt });
}
