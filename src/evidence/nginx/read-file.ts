// Reads one config file with bounds: only regular files, at most
// MAX_NGINX_CONFIG_FILE_BYTES, and only text (a NUL byte means binary).
// /dev/zero or a FIFO would otherwise hang or eat memory.

import { closeSync, fstatSync, openSync, readSync } from "node:fs";
import { InputError } from "../../errors.js";

/** Largest single nginx config file read (real ones are a few KiB). */
export const MAX_NGINX_CONFIG_FILE_BYTES = 8 * 1024 * 1024;
/** Most files one config may pull in through include. */
export const MAX_NGINX_CONFIG_FILES = 2000;

const OPEN_ERRORS: Record<string, string> = {
  ENOENT: "not found",
  ENOTDIR: "not found (a parent is not a directory)",
  EACCES: "permission denied",
  EPERM: "permission denied",
  ELOOP: "symbolic link loop",
  EISDIR: "is a directory",
};

/**
 * Reads one config file. `path` is the resolved path named in errors;
 * `includedAt` ("file:line") is the include that asked for it.
 */
export function readConfigText(path: string, shownAs: string, includedAt?: string): string {
  let fd: number;
  try {
    fd = openSync(path, "r");
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code ?? "error";
    const why = OPEN_ERRORS[code] ?? code;
    throw new InputError(`nginx config ${path}${includedAt ? ` (included at ${includedAt})` : ""}: ${why}`);
  }
  try {
    const st = fstatSync(fd);
    if (!st.isFile()) throw new InputError(`nginx config ${shownAs} is not a regular file`);
    if (st.size > MAX_NGINX_CONFIG_FILE_BYTES) {
      throw new InputError(`nginx config ${shownAs} is larger than ${MAX_NGINX_CONFIG_FILE_BYTES} bytes`);
    }
    // Read at most the cap + 1 so a file growing under us cannot grow memory.
    const buf = Buffer.alloc(Math.min(st.size, MAX_NGINX_CONFIG_FILE_BYTES) + 1);
    let filled = 0;
    for (;;) {
      const got = readSync(fd, buf, filled, buf.length - filled, null);
      if (got === 0) break;
      filled += got;
      if (filled >= buf.length) break;
    }
    if (filled > MAX_NGINX_CONFIG_FILE_BYTES) {
      throw new InputError(`nginx config ${shownAs} is larger than ${MAX_NGINX_CONFIG_FILE_BYTES} bytes`);
    }
    const bytes = buf.subarray(0, filled);
    if (bytes.includes(0))
      throw new InputError(`nginx config ${shownAs} is not a text file (it holds NUL bytes)`);
    return bytes.toString("utf8");
  } finally {
    closeSync(fd);
  }
}
