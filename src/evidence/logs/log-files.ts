// The files a list of log paths stands for: a directory (`why403 logs
// /var/log/nginx/`) is the logs in it, as a shell glob of it would give them.
import { readdir, stat } from "node:fs/promises";
import { join, resolve } from "node:path";
import { InputError } from "../../errors.js";

/**
 * Each path as given ("-" and files alike: opening them reports what is wrong),
 * except that a directory stands for the regular files directly in it (not
 * hidden ones, not subdirectories), in name order. A file named twice (itself
 * and through its directory) is read once: its lines would otherwise join as
 * another file's and its denials be listed twice.
 */
export async function logFilesOf(paths: string[]): Promise<string[]> {
  const out: string[] = [];
  const seen = new Set<string>();
  const add = (p: string) => {
    const key = p === "-" ? p : resolve(p);
    if (seen.has(key)) return;
    seen.add(key);
    out.push(p);
  };
  for (const p of paths) {
    if (p === "-" || !(await isDirectory(p))) add(p);
    else {
      const files = await filesIn(p);
      if (files.length === 0) throw new InputError(`no log files in directory ${p}`);
      for (const f of files) add(f);
    }
  }
  return out;
}

async function isDirectory(p: string): Promise<boolean> {
  try {
    return (await stat(p)).isDirectory();
  } catch {
    return false;
  }
}

async function filesIn(dir: string): Promise<string[]> {
  let names: string[];
  try {
    names = await readdir(dir);
  } catch (e) {
    throw new InputError(`cannot read directory ${dir}: ${(e as NodeJS.ErrnoException).code ?? "error"}`);
  }
  const files: string[] = [];
  for (const name of names.sort()) {
    if (name.startsWith(".")) continue;
    const path = join(dir, name);
    // Symbolic links count as what they point to (access.log -> /srv/logs/…).
    const info = await stat(path).catch(() => null);
    if (info?.isFile()) files.push(path);
  }
  return files;
}
