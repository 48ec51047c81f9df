// Worker thread entry (dist/logs-worker.js): scans the byte ranges of one log
// file it is sent, one at a time, and posts their records (parallel.ts).
import { closeSync, openSync } from "node:fs";
import { parentPort, workerData } from "node:worker_threads";
import { scanAllowedRange } from "./allowed-range.js";
import { compileFormats } from "./file-scan.js";
import { READ_CHUNK_BYTES } from "./lines.js";
import { type RangeMessage, type RangeTask, scanRange } from "./range-scan.js";

export interface RangeWorkerData {
  path: string;
  size: number;
  formats?: Record<string, string>;
  /** The zone zoneless stamps are read in (time.ts), as on the main thread. */
  zone?: string | null;
}

const port = parentPort;
if (port) {
  const { path, size, formats, zone } = workerData as RangeWorkerData;
  const custom = compileFormats(formats);
  const buf = Buffer.allocUnsafe(READ_CHUNK_BYTES);
  let fd = -1;
  const post = (m: RangeMessage, transfer?: ArrayBuffer[]) => port.postMessage(m, transfer);
  port.on("message", (task: RangeTask) => {
    try {
      if (fd === -1) fd = openSync(path, "r");
      if (task.allowed) {
        const result = scanAllowedRange(fd, path, zone ?? null, task.allowed, task.start, task.end, buf);
        post({ type: "allowed", id: task.id, result });
      } else scanRange(fd, size, path, custom, zone ?? null, task, buf, post);
    } catch (e) {
      const err = e as NodeJS.ErrnoException;
      post({ type: "error", id: task.id, message: err.message, code: err.code });
    }
  });
  port.on("close", () => {
    if (fd !== -1) closeSync(fd);
  });
}
