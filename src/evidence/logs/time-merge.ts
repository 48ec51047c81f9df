// Several logs read in step by time: a server writes one request to its access
// log and its error log (and the WAF's) at about the same moment, so the join
// (join.ts) must see those lines close together. Reading one file after the
// other put a whole file between them: past the join window the access line
// of a request and its error line were two denials. Each source is read a
// chunk at a time, only when its queue runs dry, and the record with the
// earliest time among the sources' next ones goes first (a record with no time
// goes as soon as it is next in its file). Within a file the order never changes.
import type { LogRecord } from "./types.js";

/** A log being read: its records wait in `queue`, in file order, until taken. */
export interface MergeSource {
  readonly queue: RecordQueue;
  /** Reads on (records land in the queue); false once the source has ended. */
  step(): Promise<boolean>;
}

/** A first-in, first-out list of records (a plain array with a moving head: shift() is linear). */
export class RecordQueue {
  private items: LogRecord[] = [];
  private head = 0;

  get size(): number {
    return this.items.length - this.head;
  }

  push(rec: LogRecord): void {
    this.items.push(rec);
  }

  peek(): LogRecord {
    return this.items[this.head] as LogRecord;
  }

  take(): LogRecord {
    const rec = this.items[this.head] as LogRecord;
    this.head++;
    if (this.head === this.items.length) {
      // Emptied: start again (no slice needed).
      this.items = [];
      this.head = 0;
    }
    return rec;
  }
}

/** Where a record goes in the merge: its time in ms; no time goes first. */
export function mergeKey(rec: LogRecord): number {
  const ms = rec.time === null ? Number.NaN : rec.time.getTime();
  return Number.isNaN(ms) ? Number.NEGATIVE_INFINITY : ms;
}

/** Hands every record of every source to `emit`, earliest first across the sources. */
export async function mergeByTime(sources: MergeSource[], emit: (rec: LogRecord) => void): Promise<void> {
  const open = sources.map(() => true);
  for (;;) {
    let best = -1;
    let bestKey = Number.POSITIVE_INFINITY;
    let nextKey = Number.POSITIVE_INFINITY;
    for (let i = 0; i < sources.length; i++) {
      const queue = (sources[i] as MergeSource).queue;
      while (queue.size === 0 && open[i]) open[i] = await (sources[i] as MergeSource).step();
      if (queue.size === 0) continue;
      const key = mergeKey(queue.peek());
      if (best === -1 || key < bestKey) {
        nextKey = best === -1 ? nextKey : bestKey;
        best = i;
        bestKey = key;
      } else if (key < nextKey) nextKey = key;
    }
    if (best === -1) return;
    // Take from the earliest source while it stays at or before every other's next record.
    const queue = (sources[best] as MergeSource).queue;
    do emit(queue.take());
    while (queue.size > 0 && mergeKey(queue.peek()) <= nextKey);
  }
}
