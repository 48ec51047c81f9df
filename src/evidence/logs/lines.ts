// Opening a log (file, "-" for stdin, .gz) and splitting it into lines without
// ever holding more than MAX_LOG_LINE_BYTES of one line: longer lines are cut.
import { createReadStream } from "node:fs";
import { open, stat } from "node:fs/promises";
import { Readable } from "node:stream";
import { createGunzip } from "node:zlib";
import { InputError } from "../../errors.js";
import { MAX_LOG_LINE_BYTES } from "../../limits.js";

export interface LogLine {
  /** 1-based line number. */
  n: number;
  text: string;
  /** The line was longer than the cap and was cut. */
  cut: boolean;
}

export interface OpenedLog {
  stream: AsyncIterable<Buffer | string>;
  /** Shown in reports. */
  name: string;
}

/**
 * Opens a log for reading; throws InputError for missing, unreadable or non-file paths.
 * `chunkBytes`: a plain file's read size (smaller when many files are read at once).
 */
export async function openLog(
  path: string,
  stdin?: NodeJS.ReadableStream,
  chunkBytes = READ_CHUNK_BYTES,
): Promise<OpenedLog> {
  if (path === "-") {
    const input = stdin ?? process.stdin;
    return { stream: gunzipIfGzip(input as AsyncIterable<Buffer | string>), name: "-" };
  }
  let info: Awaited<ReturnType<typeof stat>>;
  try {
    info = await stat(path);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    throw new InputError(
      code === "ENOENT" ? `log file not found: ${path}` : `cannot read log file ${path}: ${code ?? "error"}`,
    );
  }
  if (!info.isFile()) throw new InputError(`not a regular file: ${path}`);
  if (!path.endsWith(".gz")) return { stream: readChunks(path, chunkBytes), name: path };
  const file = createReadStream(path);
  const gunzip = createGunzip();
  // Errors of the file stream would otherwise not reach the consumer of gunzip.
  file.on("error", (e) => gunzip.destroy(e));
  file.pipe(gunzip);
  return { stream: gunzip, name: path };
}

const toBuffer = (chunk: Buffer | string): Buffer => (typeof chunk === "string" ? Buffer.from(chunk) : chunk);

/**
 * stdin has no name to end in .gz (`gzip -c x.log | why403 logs -`): a stream
 * that starts with the gzip magic bytes 1f 8b is gunzipped as it streams,
 * anything else passes through unchanged.
 */
export async function* gunzipIfGzip(input: AsyncIterable<Buffer | string>): AsyncGenerator<Buffer> {
  const it = input[Symbol.asyncIterator]();
  let head: Buffer = Buffer.alloc(0);
  while (head.length < 2) {
    const next = await it.next();
    if (next.done) {
      if (head.length > 0) yield head;
      return;
    }
    head = head.length === 0 ? toBuffer(next.value) : Buffer.concat([head, toBuffer(next.value)]);
  }
  // Read by hand: a for-await loop would end (destroy) stdin when stopped early.
  async function* rest(): AsyncGenerator<Buffer> {
    yield head;
    for (;;) {
      const next = await it.next();
      if (next.done) return;
      yield toBuffer(next.value);
    }
  }
  if (head[0] !== 0x1f || head[1] !== 0x8b) {
    yield* rest();
    return;
  }
  const source = Readable.from(rest());
  const gunzip = createGunzip();
  // Errors of the input would otherwise not reach the consumer of gunzip.
  source.on("error", (e) => gunzip.destroy(e));
  source.pipe(gunzip);
  try {
    for await (const chunk of gunzip) yield chunk as Buffer;
  } finally {
    source.unpipe(gunzip);
    source.pause();
  }
}

/** Bytes read from a plain file at a time, into one buffer kept for the whole file. */
export const READ_CHUNK_BYTES = 1024 * 1024;

/**
 * A plain file's bytes, chunk by chunk, in two buffers used in turn: the next
 * chunk is read while the caller works on this one (otherwise the thread waits
 * for every read). A chunk is only valid until the next is asked for
 * (LineSplitter copies what it keeps).
 */
async function* readChunks(path: string, chunkBytes: number): AsyncGenerator<Buffer> {
  const fh = await open(path, "r");
  let ready = Buffer.allocUnsafe(chunkBytes);
  let spare = Buffer.allocUnsafe(chunkBytes);
  let pending: Promise<{ bytesRead: number }> | null = null;
  const readInto = (buf: Buffer) => {
    const read = fh.read(buf, 0, chunkBytes, null);
    // A failure surfaces at the await below; until then it is not "unhandled".
    read.catch(() => undefined);
    return read;
  };
  try {
    pending = readInto(ready);
    for (;;) {
      const { bytesRead } = await pending;
      pending = null;
      if (bytesRead === 0) return;
      const chunk = ready;
      ready = spare;
      spare = chunk;
      // Reads stay in order: one at a time, each from where the last ended.
      pending = readInto(ready);
      yield bytesRead === chunkBytes ? chunk : chunk.subarray(0, bytesRead);
    }
  } finally {
    // Stopped early: let the read in flight end before closing.
    if (pending) await pending.catch(() => undefined);
    await fh.close();
  }
}

const NEWLINE = 0x0a;
const CR = 0x0d;

/** Receives the lines of a LineSplitter. */
export interface LineSink {
  /**
   * buf[start, end) is line `n` without its "\n" (nor "\r"s before it, nor a
   * UTF-8 byte order mark at its start); `cut`
   * when it was longer than the cap. The bytes are only valid during the call.
   * Returns false to stop reading.
   */
  line(buf: Buffer, start: number, end: number, cut: boolean): boolean;
  /** A new chunk arrives (positions remembered in the previous one are stale). */
  chunk(buf: Buffer): void;
}

/**
 * Splits byte chunks into lines without copying them: a line inside a chunk is
 * handed over in place; only a line that spans chunks is copied, and of a line
 * longer than maxBytes only its first maxBytes bytes are kept.
 */
export class LineSplitter {
  private carry: Buffer | null = null;
  private carryLen = 0;
  private carryCut = false;
  private carrying = false;
  /** During sink.line: where in the current chunk the line's "\n" is (-1: the input ended without one). */
  newlineAt = -1;

  constructor(
    private readonly sink: LineSink,
    private readonly maxBytes = MAX_LOG_LINE_BYTES,
  ) {}

  /** Feeds a chunk; false when the sink asked to stop. */
  push(chunk: Buffer): boolean {
    const sink = this.sink;
    const max = this.maxBytes;
    sink.chunk(chunk);
    let start = 0;
    if (this.carrying) {
      const nl = chunk.indexOf(NEWLINE);
      if (nl === -1) {
        this.keep(chunk, 0, chunk.length);
        return true;
      }
      this.keep(chunk, 0, nl);
      this.newlineAt = nl;
      if (!this.emitCarry()) return false;
      start = nl + 1;
    }
    for (;;) {
      const nl = chunk.indexOf(NEWLINE, start);
      if (nl === -1) break;
      let end = nl;
      let cut = false;
      if (end - start > max) {
        end = start + max;
        cut = true;
      }
      while (end > start && chunk[end - 1] === CR) end--;
      this.newlineAt = nl;
      if (!sink.line(chunk, afterBom(chunk, start, end), end, cut)) return false;
      start = nl + 1;
    }
    if (start < chunk.length) {
      this.carrying = true;
      this.keep(chunk, start, chunk.length);
    }
    return true;
  }

  /** End of input: the last line, if it had no newline. */
  end(): void {
    this.newlineAt = -1;
    if (this.carrying) this.emitCarry();
  }

  private keep(chunk: Buffer, from: number, to: number): void {
    this.carrying = true;
    const room = this.maxBytes - this.carryLen;
    let n = to - from;
    if (n > room) {
      this.carryCut = true;
      n = room;
    }
    if (n <= 0) return;
    this.carry ??= Buffer.allocUnsafe(this.maxBytes);
    chunk.copy(this.carry, this.carryLen, from, from + n);
    this.carryLen += n;
  }

  private emitCarry(): boolean {
    const buf = this.carry ?? Buffer.alloc(0);
    let end = this.carryLen;
    while (end > 0 && buf[end - 1] === CR) end--;
    const cut = this.carryCut;
    this.carrying = false;
    this.carryLen = 0;
    this.carryCut = false;
    return this.sink.line(buf, afterBom(buf, 0, end), end, cut);
  }
}

/**
 * Where line buf[start, end) begins after a UTF-8 byte order mark (a file saved
 * by a Windows editor, or several such files concatenated): the mark would
 * otherwise become part of the first field ("\uFEFF10.0.0.1") and keep the line
 * from being read. Several CRs before the newline (a CRLF file converted once
 * more) are dropped by the caller alike.
 */
function afterBom(buf: Buffer, start: number, end: number): number {
  return end - start >= 3 && buf[start] === 0xef && buf[start + 1] === 0xbb && buf[start + 2] === 0xbf
    ? start + 3
    : start;
}

/** Turns a read error into an InputError (bad gzip data, I/O errors). */
export function readError(e: unknown): InputError {
  if (e instanceof InputError) return e;
  const err = e as NodeJS.ErrnoException;
  if (err.code === "Z_DATA_ERROR" || err.code === "Z_BUF_ERROR" || err.errno === -3) {
    return new InputError(`not a valid gzip stream: ${err.message}`);
  }
  return new InputError(`cannot read log: ${err.code ?? err.message}`);
}

/**
 * Splits byte chunks into lines. A line longer than maxBytes keeps its first
 * maxBytes bytes and drops the rest as it streams by.
 */
export async function* splitLines(
  source: AsyncIterable<Buffer | string>,
  maxBytes = MAX_LOG_LINE_BYTES,
): AsyncGenerator<LogLine> {
  let n = 0;
  let ready: LogLine[] = [];
  const splitter = new LineSplitter(
    {
      line(buf, start, end, cut) {
        ready.push({ n: ++n, text: buf.toString("utf8", start, end), cut });
        return true;
      },
      chunk() {},
    },
    maxBytes,
  );
  try {
    for await (const raw of source) {
      splitter.push(typeof raw === "string" ? Buffer.from(raw) : raw);
      const out = ready;
      ready = [];
      yield* out;
    }
  } catch (e) {
    throw readError(e);
  }
  splitter.end();
  yield* ready;
}

/** A line that is mostly not text: NUL bytes or many control characters. */
export function looksBinary(text: string): boolean {
  if (text.length === 0) return false;
  if (text.includes("\u0000")) return true;
  let odd = 0;
  const sample = text.length > 4096 ? text.slice(0, 4096) : text;
  for (let i = 0; i < sample.length; i++) {
    const c = sample.charCodeAt(i);
    if ((c < 32 && c !== 9 && c !== 13 && c !== 27) || c === 0xfffd) odd++;
  }
  return odd / sample.length > 0.1;
}
