// The second pass of the address-rule evidence (address-rule.ts) over one byte
// range of a file, for a worker thread: every allowed request on one of the
// given paths, as the sightings the first-pass watch records (allowed-watch.ts),
// so AddressRuleEvidence replays the ranges' sightings in file order exactly as
// it would have read the lines itself. A range that cannot vouch for that (a
// decoded line opened an audit record, whose state would carry into the next
// line) says so, and the caller reads the file itself.
import { readSync } from "node:fs";
import { type AllowedSighting, isAllowedAccess, MAX_CLIENTS, mayBeAllowed } from "./allowed-watch.js";
import { LineDispatcher } from "./dispatch.js";
import { type LineSink, LineSplitter } from "./lines.js";
import { LinePrefilter } from "./prefilter.js";
import { pathOnly } from "./record.js";

export interface AllowedRangeResult {
  /** Lines numbered from 1 at the range's start; `file` is 0 (the caller's to set). */
  sightings: AllowedSighting[];
  lines: number;
  /** The sightings cannot stand for the lines (see above). */
  unsure: boolean;
}

interface Needle {
  key: string;
  bytes: Buffer;
  /** Next occurrence in the current chunk (-1: not searched, -2: none left). */
  next: number;
  /** Clients already sighted in this range: a second sighting changes nothing. */
  clients: Set<string>;
}

/** Scans fd's bytes [start, end) (line starts) for allowed requests on `keys`; `zone` as LineDispatcher's. */
export function scanAllowedRange(
  fd: number,
  file: string,
  zone: string | null,
  keys: string[],
  start: number,
  end: number,
  buf: Buffer,
): AllowedRangeResult {
  const finder = new RangeFinder(file, zone, keys);
  const splitter = new LineSplitter(finder);
  let pos = start;
  while (pos < end) {
    const n = readSync(fd, buf, 0, Math.min(buf.length, end - pos), pos);
    if (n === 0) break;
    pos += n;
    splitter.push(n === buf.length ? buf : buf.subarray(0, n));
  }
  splitter.end();
  return { sightings: finder.sightings, lines: finder.lines, unsure: finder.unsure };
}

class RangeFinder implements LineSink {
  readonly sightings: AllowedSighting[] = [];
  lines = 0;
  unsure = false;
  private readonly needles: Needle[];
  private readonly byKey = new Map<string, Needle>();
  private readonly prefilter = new LinePrefilter(false);
  private readonly dispatcher: LineDispatcher;

  constructor(file: string, zone: string | null, keys: string[]) {
    this.needles = keys.map((key) => ({
      key,
      bytes: Buffer.from(key),
      next: -1,
      clients: new Set<string>(),
    }));
    for (const k of this.needles) this.byKey.set(k.key, k);
    this.dispatcher = new LineDispatcher(file, [], zone);
  }

  chunk(buf: Buffer): void {
    for (const k of this.needles) k.next = -1;
    this.prefilter.newChunk(buf);
  }

  line(buf: Buffer, start: number, end: number): boolean {
    const n = ++this.lines;
    if (!this.holdsNeedle(buf, start, end) || !mayBeAllowed(buf, start, end, this.prefilter)) return true;
    const { records } = this.dispatcher.feed({ n, text: buf.toString("utf8", start, end), cut: false });
    if (this.dispatcher.midRecord) this.unsure = true;
    for (const r of records) {
      if (!isAllowedAccess(r)) continue;
      const k = this.byKey.get(pathOnly(r.path));
      // More than MAX_CLIENTS new clients on a path: the first MAX_CLIENTS are all the evidence can keep.
      if (!k || k.clients.has(r.client) || k.clients.size >= MAX_CLIENTS) continue;
      k.clients.add(r.client);
      const literal = within(buf.indexOf(k.bytes, start), k.bytes, end);
      const via = literal ? null : this.needlesIn(buf, start, end);
      this.sightings.push({ file: 0, line: n, key: k.key, client: r.client, via });
    }
    return !this.unsure;
  }

  /** The line holds the bytes of some path (each needle's next occurrence is searched once per chunk). */
  private holdsNeedle(buf: Buffer, start: number, end: number): boolean {
    for (const k of this.needles) {
      if (k.next !== -2 && k.next < start) k.next = buf.indexOf(k.bytes, start);
      if (k.next === -1) k.next = -2;
      if (within(k.next, k.bytes, end)) return true;
    }
    return false;
  }

  private needlesIn(buf: Buffer, start: number, end: number): string[] {
    const keys: string[] = [];
    for (const k of this.needles) if (within(buf.indexOf(k.bytes, start), k.bytes, end)) keys.push(k.key);
    return keys;
  }
}

function within(next: number, bytes: Buffer, end: number): boolean {
  return next >= 0 && next + bytes.length <= end;
}
