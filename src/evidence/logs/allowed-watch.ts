// The allowed clients of the address-rule evidence (address-rule.ts), gathered
// during the first pass over the files instead of a second full read.
// A path is watched from the moment a record makes it an "address rule or
// blanket deny" path (as the record reaches the join, before the join finalises
// it): from that line on, every line holding the path's bytes that may be an
// allowed request is decoded and its allowed clients kept, in file order. After
// the scan only the lines before that point are read again (usually a few KB).
// The answer is the one the full second pass gives: AddressRuleEvidence replays
// what was kept with the same rules (the same needle test per line, the same
// MAX_CLIENTS cap, the same early stop once a path is settled). Whenever that
// cannot be guaranteed — a file read by worker threads, files read together in
// step by time (their lines interleave), a path not watched, a
// watched path with too many allowed lines, a decoded line that opens an audit
// record — the watch is not used and the full second pass runs as before.
import { LineDispatcher } from "./dispatch.js";
import type { LineSink } from "./lines.js";
import { ACCESS_REFUSED, LinePrefilter } from "./prefilter.js";
import { pathOnly } from "./record.js";
import type { LogRecord } from "./types.js";

/** Most distinct paths looked up (each is a byte search per line). */
export const MAX_PATHS = 32;
/** Most clients remembered per path. */
export const MAX_CLIENTS = 64;
/** Paths watched at most in the first pass (a path beyond them means the full second pass). */
const MAX_WATCHED = MAX_PATHS;
/** Decoded lines, and sightings kept, per watched path before it is given up (then the full second pass runs). */
const MAX_DECODED = 4096;

/** The record's cause is one of "address rule" and "blanket deny", the other its alternative. */
export function isAddressOrBlanket(a: LogRecord): boolean {
  const also = a.alsoCauses;
  if (also === undefined) return false;
  return (
    (a.cause === "ip-restriction" && also["server-config"] !== undefined) ||
    (a.cause === "server-config" && also["ip-restriction"] !== undefined)
  );
}

/** False for a line that certainly records no allowed request (a refused access line, an nginx/Apache error line). */
export function mayBeAllowed(buf: Buffer, start: number, end: number, prefilter: LinePrefilter): boolean {
  const b0 = buf[start];
  if (b0 === 0x5b /* [ */) return false;
  if (end - start > 5 && buf[start + 4] === 0x2f /* / */ && b0 !== undefined && b0 >= 0x30 && b0 <= 0x39)
    return false;
  return prefilter.accessCheck(buf, start, end) !== ACCESS_REFUSED;
}

/** An allowed request (2xx/3xx access record with client and path), as the second pass counts them. */
export function isAllowedAccess(r: LogRecord): r is LogRecord & { client: string; path: string } {
  return r.kind === "access" && r.status !== null && r.status < 400 && r.client !== null && !!r.path;
}

/** buf[start, end) holds `bytes` whole; `next` is the first occurrence at or after start, or -1. */
function within(next: number, bytes: Buffer, end: number): boolean {
  return next >= 0 && next + bytes.length <= end;
}

interface Watched {
  key: string;
  bytes: Buffer;
  /** Next occurrence in the current chunk (-1: not searched, -2: none left). */
  next: number;
  /** Watched from this file (index in scan order) and line on (that line included). */
  file: number;
  line: number;
  /** Given up (too many allowed lines): the full second pass decides. */
  off: boolean;
  /** Clients kept in the current file (a client is kept once per file). */
  clients: Set<string>;
  decoded: number;
  /** Sightings kept, every file together. */
  kept: number;
}

/** One allowed request on a watched path. */
export interface AllowedSighting {
  file: number;
  line: number;
  key: string;
  client: string;
  /**
   * null when the line holds the path's own bytes; otherwise (a path written
   * escaped, say) the watched paths whose bytes the line holds: the second pass
   * decodes such a line only for those.
   */
  via: string[] | null;
}

export class AllowedWatch {
  private readonly byKey = new Map<string, Watched>();
  private needles: Watched[] = [];
  /** In file order, then line order. */
  readonly sightings: AllowedSighting[] = [];
  private file = -1;
  private line = 0;
  /** A file was not watched, a path could not be, or a decoded line opened an audit record. */
  private broken = false;
  private readonly prefilter = new LinePrefilter(false);
  private dispatcher: LineDispatcher | null = null;
  /** The zone the run reads zoneless stamps in (time.ts), set before the first file. */
  zone: string | null = null;

  /** A new file starts (scan order); `watched`: its lines come through sink(), false for worker-read files. */
  beginFile(path: string, watched: boolean): void {
    this.file++;
    this.line = 0;
    if (!watched && path !== "-") this.broken = true;
    this.dispatcher = new LineDispatcher(path, [], this.zone);
    for (const k of this.needles) k.clients.clear();
  }

  /** Files are read together, not one after another: the watch cannot place its sightings (the second pass runs). */
  abandon(): void {
    this.broken = true;
  }

  /** The current file's lines are done (records still coming belong after them). */
  endFile(): void {
    this.line = Number.MAX_SAFE_INTEGER;
  }

  /** A record reached the join (merged into `a`): its path is watched from here if `a` is ambiguous. */
  seen(a: LogRecord): void {
    if (a.path === null || a.path === "" || !isAddressOrBlanket(a)) return;
    const key = pathOnly(a.path);
    if (this.byKey.has(key)) return;
    if (this.byKey.size >= MAX_WATCHED) {
      // Not watched: if it is one of the tracked paths, the full second pass runs.
      return;
    }
    const k: Watched = {
      key,
      bytes: Buffer.from(key),
      next: -1,
      file: this.file,
      line: this.line,
      off: false,
      clients: new Set(),
      decoded: 0,
      kept: 0,
    };
    this.byKey.set(key, k);
    this.needles.push(k);
  }

  /** The watch answers for these tracked paths: each watched, none given up, nothing broken. */
  covers(keys: Iterable<string>): boolean {
    if (this.broken) return false;
    for (const key of keys) {
      const k = this.byKey.get(key);
      if (!k || k.off) return false;
    }
    return true;
  }

  /**
   * Lines of file `file` before this line number must be read again for `keys`:
   * 0 for none, MAX_SAFE_INTEGER for the whole file.
   */
  rereadBefore(file: number, keys: Iterable<string>): number {
    let until = 0;
    for (const key of keys) {
      const k = this.byKey.get(key) as Watched;
      if (k.file > file) return Number.MAX_SAFE_INTEGER;
      if (k.file === file && k.line > until) until = k.line;
    }
    return until;
  }

  /** Wraps a file's sink: every line goes to `inner` first (records reach the join), then is looked at here. */
  sink(inner: LineSink): LineSink {
    let n = 0;
    return {
      chunk: (buf) => {
        inner.chunk(buf);
        this.prefilter.newChunk(buf);
        for (const k of this.needles) k.next = -1;
      },
      line: (buf, start, end, cut) => {
        this.line = ++n;
        const go = inner.line(buf, start, end, cut);
        if (this.needles.length > 0) this.look(buf, start, end, n);
        return go;
      },
    };
  }

  private look(buf: Buffer, start: number, end: number, n: number): void {
    let hit: Watched | null = null;
    for (const k of this.needles) {
      // The next occurrence in the chunk, searched once and reused until passed.
      if (k.next !== -2 && k.next < start) k.next = buf.indexOf(k.bytes, start);
      if (k.next === -1) k.next = -2;
      if (within(k.next, k.bytes, end)) {
        hit = k;
        break;
      }
    }
    if (hit === null || !mayBeAllowed(buf, start, end, this.prefilter)) return;
    if (++hit.decoded > MAX_DECODED) this.giveUp(hit);
    const dispatcher = this.dispatcher as LineDispatcher;
    const { records } = dispatcher.feed({ n, text: buf.toString("utf8", start, end), cut: false });
    // Decoded lines must leave no state behind: the second pass decodes fewer of them.
    if (dispatcher.midRecord) this.broken = true;
    for (const r of records) {
      if (!isAllowedAccess(r)) continue;
      const k = this.byKey.get(pathOnly(r.path));
      if (!k || k.off) continue;
      const literal = within(buf.indexOf(k.bytes, start), k.bytes, end);
      if (literal) {
        if (k.clients.has(r.client)) continue;
        if (k.clients.size >= MAX_CLIENTS) {
          this.giveUp(k);
          continue;
        }
        k.clients.add(r.client);
      } else if (++k.decoded > MAX_DECODED) {
        this.giveUp(k);
        continue;
      }
      // Bounded over many files too (clients are counted per file).
      if (++k.kept > MAX_DECODED) {
        this.giveUp(k);
        continue;
      }
      const via = literal ? null : this.needlesIn(buf, start, end);
      this.sightings.push({ file: this.file, line: n, key: k.key, client: r.client, via });
    }
  }

  private needlesIn(buf: Buffer, start: number, end: number): string[] {
    const keys: string[] = [];
    for (const k of this.needles) if (within(buf.indexOf(k.bytes, start), k.bytes, end)) keys.push(k.key);
    return keys;
  }

  private giveUp(k: Watched): void {
    k.off = true;
    this.needles = this.needles.filter((x) => x !== k);
  }
}
