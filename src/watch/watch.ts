// `why403 watch`: follows log files, classifies each new line with the code
// `why403 logs` uses (FileScan: prefilter → LineDispatcher → parsers), joins the
// lines of one request across files (Joiner) within a short window, and counts
// every finalised denial once.
import { FileScan } from "../evidence/logs/analyze.js";
import { type Joined, Joiner, toEntry } from "../evidence/logs/join.js";
import type { LogEntry } from "../evidence/logs/types.js";
import { FileFollower } from "./follow.js";
import { type DenialLabels, WatchMetrics } from "./metrics.js";
import { RecentDenials } from "./recent.js";

/** How long a request waits for its other lines (the access line and the error line of one request). */
export const DEFAULT_JOIN_WINDOW_MS = 2000;
export const DEFAULT_POLL_MS = 100;

export interface WatchOptions {
  fromStart?: boolean;
  pollMs?: number;
  joinWindowMs?: number;
  /** Every finalised denial, as the `logs` entry it would be. */
  onDenial?: (entry: LogEntry, labels: DenialLabels) => void;
  /** Rotation, truncation, files appearing. */
  onNotice?: (message: string) => void;
  now?: () => number;
}

interface Source {
  follower: FileFollower;
  scan: FileScan;
  /** Lines already counted into the metrics. */
  counted: number;
  failed: boolean;
}

export class DenialWatch {
  readonly metrics: WatchMetrics;
  readonly recent: RecentDenials;
  private readonly joiner: Joiner;
  private readonly sources: Source[];
  /** [time, joiner sequence] marks: requests older than the join window get finalised. */
  private marks: Array<[number, number]> = [];
  private timer: NodeJS.Timeout | null = null;
  private polling: Promise<void> | null = null;
  private stopped = false;
  private readonly now: () => number;

  constructor(
    paths: string[],
    private readonly options: WatchOptions = {},
  ) {
    this.now = options.now ?? Date.now;
    this.metrics = new WatchMetrics(this.now);
    this.recent = new RecentDenials(this.now);
    this.joiner = new Joiner((j) => this.final(j), undefined, null, paths.length > 1);
    this.sources = paths.map((path) => {
      const scan = new FileScan(path, [], (rec) => this.joiner.add(rec));
      const follower = new FileFollower(path, scan, options.fromStart ?? false, {
        notice: options.onNotice,
      });
      return { follower, scan, counted: 0, failed: false };
    });
  }

  /** Reads once, then keeps polling until stop(). */
  async start(): Promise<void> {
    await this.tick();
    this.schedule();
  }

  private schedule(): void {
    if (this.stopped) return;
    this.timer = setTimeout(() => {
      this.polling = this.tick().finally(() => {
        this.polling = null;
        this.schedule();
      });
    }, this.options.pollMs ?? DEFAULT_POLL_MS);
  }

  /** One round: every file read up to its end, old requests finalised, line counts updated. */
  async tick(): Promise<void> {
    for (const s of this.sources) {
      if (s.failed) continue;
      try {
        await s.follower.poll();
      } catch (e) {
        s.failed = true;
        this.options.onNotice?.(`${s.follower.path}: no longer followed: ${(e as Error).message}`);
      }
      if (s.scan.binary && !s.failed) {
        s.failed = true;
        this.options.onNotice?.(`${s.follower.path}: binary, not a text log: no longer followed`);
      }
      this.countLines(s);
    }
    const now = this.now();
    this.marks.push([now, this.joiner.nextSeq]);
    const window = this.options.joinWindowMs ?? DEFAULT_JOIN_WINDOW_MS;
    let cut = -1;
    while (this.marks.length > 0 && (this.marks[0] as [number, number])[0] <= now - window) {
      cut = (this.marks.shift() as [number, number])[1];
    }
    if (cut >= 0) this.joiner.finaliseBefore(cut);
  }

  private countLines(s: Source): void {
    const n = s.scan.lines - s.counted;
    if (n > 0) this.metrics.addLines(s.follower.path, s.scan.tally.name(), n);
    s.counted = s.scan.lines;
  }

  /** Lines read from all files so far. */
  linesRead(): number {
    return this.sources.reduce((n, s) => n + s.scan.lines, 0);
  }

  /** Stops polling, reads what is left and finalises every open request. */
  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    await this.polling;
    for (const s of this.sources) {
      if (!s.failed) await s.follower.close();
      for (const rec of s.scan.dispatcher.end()) this.joiner.add(rec);
      this.countLines(s);
    }
    this.joiner.flush();
  }

  private final(j: Joined): void {
    if (!j.rec.denied) return;
    const labels = this.metrics.addDenial(j);
    this.recent.add(j.rec.path, labels);
    // The entry (with its redactions) only when someone reads it: most of the cost per denial.
    if (this.options.onDenial) this.options.onDenial(toEntry(j), labels);
  }
}
