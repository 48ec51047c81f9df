// Reading a large log, the requests of the join window die in V8's old space at a
// steady rate, and V8's default pacing lets that space grow to about four times
// what is live before collecting it (over 200 MB of RSS for a 30 MB window on a
// 1 GB log). A lower growing factor keeps the process near its live size for some
// CPU time. It only paces collection and sets no limit, so no input and no --limit
// can make it run out of memory. The flag is process-wide in V8: it is set for the
// duration of the scans and reset to V8's default (0: dynamic) when the last ends.
import { setFlagsFromString } from "node:v8";

/** Old space may grow by this percentage of what survived the last full collection. */
export const HEAP_GROWING_PERCENT = 30;

let running = 0;

export async function withTightHeap<T>(work: () => Promise<T>): Promise<T> {
  if (running++ === 0) setFlagsFromString(`--heap-growing-percent=${HEAP_GROWING_PERCENT}`);
  try {
    return await work();
  } finally {
    if (--running === 0) setFlagsFromString("--heap-growing-percent=0");
  }
}
