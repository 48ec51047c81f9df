// Following one log path like `tail -F`, by polling: the path is stat'ed every
// tick and read from where the last read ended.
// - Rename rotation (the path now names another inode): the old file stays open
//   and is read to its end until it has been quiet for a few ticks (a writer may
//   still append to it until it reopens), then the new file is read from 0.
// - Copytruncate (the file shrank, or its first bytes changed): the bytes between
//   the last read and the truncation live only in the copy, so a sibling
//   (`access.log.1`, `access.log-20261202`) that starts with the same bytes is
//   read from the old offset to its end; then the file is read again from 0.
// - A path missing at the start is waited for and read from 0 when it appears.
// Compressed siblings (.gz and the like) are never read.
import { open, readdir, stat } from "node:fs/promises";
import { basename, dirname, join } from "node:path";
import { type LineSink, LineSplitter } from "../evidence/logs/lines.js";

const READ_BYTES = 1024 * 1024;
/** Bytes compared to notice a file that was truncated and written again past the old offset. */
const HEAD_BYTES = 64;
/** Ticks a rotated-away file must stay quiet before it is closed. */
const QUIET_TICKS = 10;
const COMPRESSED = /\.(gz|bz2|xz|zst|lz4|z|zip)$/i;

export function isCompressedName(path: string): boolean {
  return COMPRESSED.test(path);
}

type Handle = Awaited<ReturnType<typeof open>>;

interface Instance {
  fh: Handle;
  ino: number;
  offset: number;
  head: Buffer;
  splitter: LineSplitter;
  quiet: number;
}

export interface FollowEvents {
  /** Something a person may want to know ("rotated", "truncated", "appeared"). */
  notice?: (message: string) => void;
}

export class FileFollower {
  private current: Instance | null = null;
  private draining: Instance[] = [];
  private started = false;
  private missingSaid = false;
  /** One read buffer for every read: the splitter copies what it keeps before the next. */
  private readonly buf = Buffer.allocUnsafe(READ_BYTES);
  /** Bytes read so far (all instances). */
  bytes = 0;

  constructor(
    readonly path: string,
    private readonly sink: LineSink,
    private readonly fromStart: boolean,
    private readonly events: FollowEvents = {},
  ) {}

  /** One tick: notices rotation and truncation and reads everything new. */
  async poll(): Promise<void> {
    const st = await statOrNull(this.path);
    if (st && !st.isFile()) throw new Error(`not a regular file: ${this.path}`);
    const cur = this.current;
    if (!st) {
      if (!this.started && !this.missingSaid) {
        this.missingSaid = true;
        this.events.notice?.(`${this.path}: not there yet, waiting for it`);
      }
    } else if (!cur) {
      // Existing at the start: from its end unless --from-start; appearing later: from 0.
      const offset = !this.started && !this.fromStart ? st.size : 0;
      if (this.started || this.missingSaid) this.events.notice?.(`${this.path}: appeared`);
      this.current = await this.openInstance(offset);
    } else if (st.ino !== cur.ino) {
      this.events.notice?.(`${this.path}: rotated (renamed), following the new file`);
      this.draining.push(cur);
      this.current = await this.openInstance(0);
    } else if (st.size < cur.offset || !(await this.sameHead(cur))) {
      this.events.notice?.(`${this.path}: truncated (copytruncate), reading the rest from the copy`);
      await this.recoverFromCopy(cur);
      cur.offset = 0;
      cur.head = Buffer.alloc(0);
      cur.splitter = new LineSplitter(this.sink);
    }
    this.started = true;
    for (const old of this.draining) {
      const n = await this.readOn(old);
      old.quiet = n > 0 ? 0 : old.quiet + 1;
    }
    for (const old of this.draining.filter((d) => d.quiet >= QUIET_TICKS)) {
      old.splitter.end();
      await old.fh.close();
    }
    this.draining = this.draining.filter((d) => d.quiet < QUIET_TICKS);
    if (this.current) await this.readOn(this.current);
  }

  /** Reads what is left everywhere and closes (the partial last lines count as lines). */
  async close(): Promise<void> {
    for (const inst of [...this.draining, ...(this.current ? [this.current] : [])]) {
      await this.readOn(inst);
      inst.splitter.end();
      await inst.fh.close();
    }
    this.draining = [];
    this.current = null;
  }

  private async openInstance(offset: number): Promise<Instance> {
    const fh = await open(this.path, "r");
    const st = await fh.stat();
    return {
      fh,
      ino: st.ino,
      offset,
      head: Buffer.alloc(0),
      splitter: new LineSplitter(this.sink),
      quiet: 0,
    };
  }

  /** Reads from the instance's offset to the end of the file; returns the bytes read. */
  private async readOn(inst: Instance): Promise<number> {
    let total = 0;
    const buf = this.buf;
    for (;;) {
      const { bytesRead } = await inst.fh.read(buf, 0, READ_BYTES, inst.offset);
      if (bytesRead === 0) break;
      if (inst.head.length < HEAD_BYTES && inst.offset < HEAD_BYTES) {
        const upto = Math.min(bytesRead, HEAD_BYTES - inst.offset);
        inst.head = Buffer.concat([inst.head, buf.subarray(0, upto)]);
      }
      inst.offset += bytesRead;
      total += bytesRead;
      this.bytes += bytesRead;
      // The splitter copies what it keeps; the buffer is reused for the next read.
      inst.splitter.push(buf.subarray(0, bytesRead));
      if (bytesRead < READ_BYTES) break;
    }
    return total;
  }

  private async sameHead(inst: Instance): Promise<boolean> {
    if (inst.head.length === 0) return true;
    const now = Buffer.alloc(inst.head.length);
    const { bytesRead } = await inst.fh.read(now, 0, now.length, 0);
    return bytesRead === inst.head.length && now.equals(inst.head);
  }

  /** The copy of a truncated file: a sibling that starts with the same bytes and reaches past the offset. */
  private async recoverFromCopy(inst: Instance): Promise<void> {
    if (inst.offset === 0 || inst.head.length === 0) return;
    const dir = dirname(this.path);
    const base = basename(this.path);
    let names: string[];
    try {
      names = await readdir(dir);
    } catch {
      return;
    }
    let best: { path: string; mtime: number } | null = null;
    for (const name of names) {
      if (name === base || !name.startsWith(base) || isCompressedName(name)) continue;
      const p = join(dir, name);
      const st = await statOrNull(p);
      if (!st?.isFile() || st.size < inst.offset) continue;
      if (!(await startsWith(p, inst.head))) continue;
      if (!best || st.mtimeMs > best.mtime) best = { path: p, mtime: st.mtimeMs };
    }
    if (!best) return;
    const fh = await open(best.path, "r");
    try {
      const copy: Instance = { ...inst, fh };
      await this.readOn(copy);
    } finally {
      await fh.close();
    }
    inst.splitter.end();
  }
}

async function statOrNull(path: string) {
  try {
    return await stat(path);
  } catch {
    return null;
  }
}

async function startsWith(path: string, head: Buffer): Promise<boolean> {
  const fh = await open(path, "r");
  try {
    const got = Buffer.alloc(head.length);
    const { bytesRead } = await fh.read(got, 0, got.length, 0);
    return bytesRead === head.length && got.equals(head);
  } finally {
    await fh.close();
  }
}
