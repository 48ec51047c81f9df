// One log read on this thread, a chunk at a time when asked: its lines go
// through the prefilter and parsers (FileScan) and its records to `emit`. The
// caller sets the pace: one file straight through, or several in step by time
// (time-merge.ts).
import type { AllowedWatch } from "./allowed-watch.js";
import { FileScan } from "./file-scan.js";
import { LineSplitter, type OpenedLog, readError } from "./lines.js";
import type { CompiledFormat } from "./log-format.js";
import type { LogFileSummary, LogRecord } from "./types.js";

export class FileReader {
  readonly scan: FileScan;
  private readonly splitter: LineSplitter;
  private readonly chunks: AsyncIterator<Buffer | string>;
  private ended = false;

  /**
   * `zone`: the zone of its zoneless stamps (time.ts). `watch`: the caller has
   * begun the file there; it sees every line (but stdin's).
   */
  constructor(
    private readonly opened: OpenedLog,
    private readonly summary: LogFileSummary,
    custom: CompiledFormat[],
    private readonly emit: (rec: LogRecord) => void,
    zone: string | null,
    private readonly watch?: AllowedWatch,
  ) {
    this.scan = new FileScan(summary.path, custom, emit, true, zone);
    this.splitter = new LineSplitter(watch && summary.path !== "-" ? watch.sink(this.scan) : this.scan);
    this.chunks = opened.stream[Symbol.asyncIterator]();
  }

  /**
   * Reads and scans the next chunk; `onBytes` hears of it before its lines are
   * scanned. False once the file is done and its summary filled in.
   */
  async step(onBytes: (bytes: number) => void): Promise<boolean> {
    if (this.ended) return false;
    let next: IteratorResult<Buffer | string>;
    try {
      next = await this.chunks.next();
    } catch (e) {
      throw readError(e);
    }
    if (next.done) {
      this.splitter.end();
      this.finish();
      return false;
    }
    const raw = next.value;
    const chunk = typeof raw === "string" ? Buffer.from(raw) : raw;
    onBytes(chunk.length);
    if (this.splitter.push(chunk)) return true;
    // Stopped early (a binary file): close the source.
    await this.close();
    this.finish();
    return false;
  }

  /** Lets go of the source (stopped early, or another file failed). */
  async close(): Promise<void> {
    await this.chunks.return?.(undefined);
    destroy(this.opened.stream);
  }

  private finish(): void {
    this.ended = true;
    const { scan, summary } = this;
    summary.lines = scan.lines;
    if (scan.binary) {
      summary.format = "binary";
      summary.warning = "skipped: the file is binary, not a text log";
      return;
    }
    this.watch?.endFile();
    for (const rec of scan.dispatcher.end()) this.emit(rec);
    summary.format = scan.tally.name();
    if (scan.cut > 0) summary.cutLines = scan.cut;
  }
}

export function destroy(stream: unknown): void {
  const s = stream as { destroy?: () => void };
  if (typeof s.destroy === "function" && stream !== process.stdin) s.destroy();
}
