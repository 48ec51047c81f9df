// Opening a log (file, "-" for stdin, .gz) and splitting it into lines without
// ever holding more than MAX_LOG_LINE_BYTES of one line: longer lines are cut.
import { createReadStream } from "node:fs";
import { stat } from "node:fs/promises";
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

/** Opens a log for reading; throws InputError for missing, unreadable or non-file paths. */
export async function openLog(path: string, stdin?: NodeJS.ReadableStream): Promise<OpenedLog> {
  if (path === "-") {
    const input = stdin ?? process.stdin;
    return { stream: input as AsyncIterable<Buffer | string>, name: "-" };
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
  const file = createReadStream(path);
  if (!path.endsWith(".gz")) return { stream: file, name: path };
  const gunzip = createGunzip();
  // Errors of the file stream would otherwise not reach the consumer of gunzip.
  file.on("error", (e) => gunzip.destroy(e));
  file.pipe(gunzip);
  return { stream: gunzip, name: path };
}

const NEWLINE = 0x0a;

/**
 * Splits byte chunks into lines. A line longer than maxBytes keeps its first
 * maxBytes bytes and drops the rest as it streams by.
 */
export async function* splitLines(
  source: AsyncIterable<Buffer | string>,
  maxBytes = MAX_LOG_LINE_BYTES,
): AsyncGenerator<LogLine> {
  let parts: Buffer[] = [];
  let kept = 0;
  let cut = false;
  let n = 0;
  const finish = (): LogLine => {
    let buf = parts.length === 1 ? (parts[0] as Buffer) : Buffer.concat(parts, kept);
    if (buf.length > 0 && buf[buf.length - 1] === 0x0d) buf = buf.subarray(0, buf.length - 1);
    const line = { n: ++n, text: buf.toString("utf8"), cut };
    parts = [];
    kept = 0;
    cut = false;
    return line;
  };
  const keep = (piece: Buffer) => {
    const room = maxBytes - kept;
    if (piece.length > room) {
      cut = true;
      if (room > 0) {
        parts.push(Buffer.from(piece.subarray(0, room)));
        kept += room;
      }
      return;
    }
    // Copy so a big chunk is not retained by a short slice of it.
    parts.push(Buffer.from(piece));
    kept += piece.length;
  };
  try {
    for await (const raw of source) {
      const chunk = typeof raw === "string" ? Buffer.from(raw) : raw;
      let start = 0;
      for (;;) {
        const nl = chunk.indexOf(NEWLINE, start);
        if (nl === -1) {
          if (start < chunk.length) keep(chunk.subarray(start));
          break;
        }
        keep(chunk.subarray(start, nl));
        yield finish();
        start = nl + 1;
      }
    }
  } catch (e) {
    if (e instanceof InputError) throw e;
    const err = e as NodeJS.ErrnoException;
    if (err.code === "Z_DATA_ERROR" || err.code === "Z_BUF_ERROR" || err.errno === -3) {
      throw new InputError(`not a valid gzip stream: ${err.message}`);
    }
    throw new InputError(`cannot read log: ${err.code ?? err.message}`);
  }
  if (kept > 0 || cut) yield finish();
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
