// Files the user asks for (--html FILE): checked before any work, so a run never
// sends traffic only to fail at the end, and written with a one-line error.
import { accessSync, constants, existsSync, statSync, writeFileSync } from "node:fs";
import { dirname, resolve } from "node:path";
import { InputError } from "../errors.js";

/** Throws a one-line InputError unless `path` can be created or overwritten. */
export function checkWritable(path: string, flag: string): void {
  const full = resolve(path);
  if (existsSync(full)) {
    if (statSync(full).isDirectory()) throw new InputError(`${flag} ${path}: is a directory`);
    try {
      accessSync(full, constants.W_OK);
    } catch {
      throw new InputError(`${flag} ${path}: not writable`);
    }
    return;
  }
  const dir = dirname(full);
  if (!existsSync(dir)) throw new InputError(`${flag} ${path}: the directory ${dir} does not exist`);
  try {
    accessSync(dir, constants.W_OK);
  } catch {
    throw new InputError(`${flag} ${path}: the directory ${dir} is not writable`);
  }
}

export function writeOutputFile(path: string, content: string, flag: string): void {
  try {
    writeFileSync(path, content);
  } catch (e) {
    throw new InputError(`${flag} ${path}: cannot write (${(e as NodeJS.ErrnoException).code ?? "error"})`);
  }
}
