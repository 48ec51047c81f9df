// The lines of one file (or of one byte range of it, in a worker thread) turned
// into records: every line is counted; a line is decoded and parsed only when the
// prefilter cannot rule out that it yields a record.
import { accessRecordFromBytes } from "./access.js";
import { FormatTally, LineDispatcher } from "./dispatch.js";
import { type LineSink, looksBinary } from "./lines.js";
import { type CompiledFormat, compileLogFormat } from "./log-format.js";
import { ACCESS_REFUSED, ACCESS_SKIP, LinePrefilter } from "./prefilter.js";
import type { LogRecord } from "./types.js";

/** Lines whose formats name a file (FormatTally's sample). */
export const FORMAT_SAMPLE = 200;

export class FileScan implements LineSink {
  readonly dispatcher: LineDispatcher;
  readonly tally = new FormatTally(FORMAT_SAMPLE);
  /** The formats of the first FORMAT_SAMPLE non-empty lines, in order (a range's share of the file's sample). */
  readonly sampled: string[] = [];
  private readonly prefilter: LinePrefilter;
  lines = 0;
  cut = 0;
  /** The first non-empty line looked binary (at the file's start: reading stopped there). */
  binary = false;
  /** The number of the first non-empty line, 0 before one. */
  firstText = 0;

  /**
   * `zone`: the zone of the file's zoneless stamps (LineDispatcher).
   * `atFileStart`: a binary first line stops the scan (a range further in only
   * notes it: whether it is the file's first text is known once the ranges before are read).
   */
  constructor(
    private readonly file: string,
    custom: CompiledFormat[],
    private readonly emit: (rec: LogRecord) => void,
    readonly atFileStart = true,
    zone: string | null = null,
  ) {
    this.dispatcher = new LineDispatcher(file, custom, zone);
    this.prefilter = new LinePrefilter(custom.length > 0);
  }

  chunk(buf: Buffer): void {
    this.prefilter.newChunk(buf);
  }

  line(buf: Buffer, start: number, end: number, cut: boolean): boolean {
    const n = ++this.lines;
    if (cut) this.cut++;
    let text: string | null = null;
    if (this.firstText === 0 && end > start) {
      this.firstText = n;
      text = buf.toString("utf8", start, end);
      if (looksBinary(text)) {
        this.binary = true;
        if (this.atFileStart) return false;
      }
    }
    const sampling = !this.tally.full || this.dispatcher.inAuditRecord;
    if (!sampling && !cut) {
      const access = this.prefilter.accessCheck(buf, start, end);
      if (access === ACCESS_SKIP) return true;
      if (access === ACCESS_REFUSED) {
        // A refused access line: its record straight from the bytes the check found.
        const rec = accessRecordFromBytes(buf, end, this.prefilter.refused, this.file, n);
        if (rec) {
          this.emit(rec);
          return true;
        }
      }
    }
    text ??= buf.toString("utf8", start, end);
    if (!sampling && !this.mayHold(text)) return true;
    const { format, records } = this.dispatcher.feed({ n, text, cut });
    if (!this.tally.full && format !== "empty") this.sampled.push(format);
    this.tally.add(format);
    for (const rec of records) this.emit(rec);
    return true;
  }

  /**
   * Whether the line goes on to the parsers: a W3C `#Fields:` directive always
   * (it sets the columns of the lines after it); a line read by such columns
   * when it holds refusal status digits (its record needs a refusal status);
   * any other line as the prefilter decides.
   */
  private mayHold(text: string): boolean {
    if (text.startsWith("#Fields:")) return true;
    if (this.dispatcher.readsColumns && this.prefilter.mayHoldStatus(text)) return true;
    return this.prefilter.mayHoldRecord(text);
  }
}

/** LogsOptions.logFormats compiled (the ones that do not compile are left out). */
export function compileFormats(formats: Record<string, string> | undefined): CompiledFormat[] {
  return Object.entries(formats ?? {})
    .map(([name, format]) => compileLogFormat(name, format))
    .filter((f): f is CompiledFormat => f !== null);
}
