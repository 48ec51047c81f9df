// Reading the user's input files: bounded in size, with one-line errors a person
// can act on instead of Node's errno stack traces.

import { closeSync, fstatSync, openSync, readFileSync, readSync, statSync } from "node:fs";
import { InputError } from "../errors.js";
import { MAX_INPUT_FILE_BYTES } from "../limits.js";

function formatBytes(n: number): string {
  if (n >= 1024 * 1024) return `${(n / (1024 * 1024)).toFixed(1)} MiB`;
  if (n >= 1024) return `${(n / 1024).toFixed(1)} KiB`;
  return `${n} bytes`;
}

function tooBig(what: string, path: string, size: number, cap: number): InputError {
  return new InputError(
    `${what} ${path} is too large (${formatBytes(size)}; the limit is ${formatBytes(cap)})`,
  );
}

function describeFsError(e: unknown, what: string, path: string): InputError {
  const code = (e as NodeJS.ErrnoException | undefined)?.code;
  switch (code) {
    case "ENOENT":
      return new InputError(`${what} ${path} does not exist`);
    case "EACCES":
    case "EPERM":
      return new InputError(`${what} ${path} cannot be read: permission denied`);
    case "EISDIR":
      return new InputError(`${what} ${path} is a directory, not a file`);
    case "ENOTDIR":
      return new InputError(`${what} ${path} does not exist (a part of the path is not a directory)`);
    case "ELOOP":
      return new InputError(`${what} ${path} cannot be read: too many symbolic links`);
    case "ENAMETOOLONG":
      return new InputError(`${what} path is too long`);
    default: {
      const detail = e instanceof Error ? e.message.split("\n")[0] : String(e);
      return new InputError(`${what} ${path} cannot be read: ${detail}`);
    }
  }
}

/** Reads a descriptor to its end, refusing more than `cap` bytes (stdin, FIFOs, devices). */
function readStream(fd: number, what: string, label: string, cap: number): Buffer {
  const chunks: Buffer[] = [];
  let total = 0;
  const chunk = Buffer.alloc(64 * 1024);
  for (;;) {
    let n: number;
    try {
      n = readSync(fd, chunk, 0, chunk.length, null);
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code;
      if (code === "EAGAIN") continue; // non-blocking stdin: wait for more
      if (code === "EOF") break;
      throw describeFsError(e, what, label);
    }
    if (n === 0) break;
    total += n;
    if (total > cap) throw tooBig(what, label, total, cap);
    chunks.push(Buffer.from(chunk.subarray(0, n)));
  }
  return Buffer.concat(chunks, total);
}

/**
 * Reads an input file (`-` means stdin) in chunks, handing each to `onChunk`
 * (the buffer is reused: copy what you keep), with the same checks and cap as
 * readInputFile. Memory stays at one chunk, whatever the file's size.
 */
export function streamInputFile(
  path: string,
  what: string,
  onChunk: (chunk: Buffer) => void,
  cap: number = MAX_INPUT_FILE_BYTES,
): void {
  if (path === "-") {
    onChunk(readInputFile(path, what, cap));
    return;
  }
  if (path === "") throw new InputError(`${what} path is empty`);
  let fd: number;
  try {
    const st = statSync(path);
    if (st.isDirectory()) throw new InputError(`${what} ${path} is a directory, not a file`);
    if (st.size > cap) throw tooBig(what, path, st.size, cap);
    fd = openSync(path, "r");
  } catch (e) {
    if (e instanceof InputError) throw e;
    throw describeFsError(e, what, path);
  }
  const chunk = Buffer.alloc(1024 * 1024);
  let total = 0;
  try {
    for (;;) {
      let n: number;
      try {
        n = readSync(fd, chunk, 0, chunk.length, null);
      } catch (e) {
        if ((e as NodeJS.ErrnoException).code === "EAGAIN") continue;
        throw describeFsError(e, what, path);
      }
      if (n === 0) break;
      total += n;
      if (total > cap) throw tooBig(what, path, total, cap);
      onChunk(chunk.subarray(0, n));
    }
  } finally {
    closeSync(fd);
  }
  if (total === 0) throw new InputError(`${what} ${path} is empty`);
}

/**
 * Reads an input file (`-` means stdin) whole, refusing files over the cap,
 * directories and empty files with a one-line InputError. `what` names the
 * input in messages, e.g. "HAR file".
 */
export function readInputFile(path: string, what: string, cap: number = MAX_INPUT_FILE_BYTES): Buffer {
  let buf: Buffer;
  if (path === "-") {
    try {
      const st = fstatSync(0);
      if (st.isFile() && st.size > cap) throw tooBig(what, "(stdin)", st.size, cap);
    } catch (e) {
      if (e instanceof InputError) throw e;
    }
    buf = readStream(0, what, "(stdin)", cap);
    if (buf.length === 0) throw new InputError(`${what} from stdin is empty`);
    return buf;
  }
  if (path === "") throw new InputError(`${what} path is empty`);
  let size: number;
  let regular: boolean;
  try {
    const st = statSync(path);
    if (st.isDirectory()) throw new InputError(`${what} ${path} is a directory, not a file`);
    size = st.size;
    regular = st.isFile();
  } catch (e) {
    if (e instanceof InputError) throw e;
    throw describeFsError(e, what, path);
  }
  if (size > cap) throw tooBig(what, path, size, cap);
  try {
    if (regular) buf = readFileSync(path);
    else {
      // Devices and FIFOs report no size and may never end (/dev/zero): read with the cap.
      const fd = openSync(path, "r");
      try {
        buf = readStream(fd, what, path, cap);
      } finally {
        closeSync(fd);
      }
    }
  } catch (e) {
    if (e instanceof InputError) throw e;
    if (e instanceof RangeError) throw tooBig(what, path, size, cap);
    throw describeFsError(e, what, path);
  }
  // Special files (FIFOs, /proc) report size 0 in stat; check what was read too.
  if (buf.length > cap) throw tooBig(what, path, buf.length, cap);
  if (buf.length === 0) throw new InputError(`${what} ${path} is empty`);
  return buf;
}

/** Heuristic: NUL bytes or many control bytes in the first 8 KB mean the input is not text. */
export function looksBinary(buf: Buffer): boolean {
  const head = buf.subarray(0, 8192);
  if (head.length === 0) return false;
  let control = 0;
  for (const b of head) {
    if (b === 0) return true;
    // Tab, LF, CR, FF, ESC (ANSI colours in pasted terminal output) are normal in text.
    if (b < 32 && b !== 9 && b !== 10 && b !== 13 && b !== 12 && b !== 27) control++;
    else if (b === 127) control++;
  }
  return control / head.length > 0.1;
}
