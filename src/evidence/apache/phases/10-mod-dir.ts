// Phase 10, the handler for a directory (mod_dir, mod_autoindex): without a
// trailing slash mod_dir redirects; with one, the first DirectoryIndex file
// that exists is served (its own phases decide it), else mod_autoindex lists
// the directory under `Options +Indexes` or refuses with 403 (AH01276).

import type { DirConf } from "../dirconf/types.js";
import * as fixText from "../fix-text.js";
import { deny, type MappedWalk, type Outcome, type Pass } from "./state.js";

/** The directory's answer, or null when the URL-path is not a directory (or is itself an index subrequest). */
export function modDir(
  pass: Pass,
  uriPath: string,
  w: MappedWalk,
  granted: Outcome,
  depth: number,
): Outcome | null {
  if (!w.isDirectory || depth !== 0) return null;
  if (!uriPath.endsWith("/"))
    return { ...granted, notes: [...granted.notes, "mod_dir redirects to the path with a trailing slash"] };
  const names = w.conf.directoryIndex?.value ?? ["index.html"];
  return indexFile(pass, uriPath, names, depth) ?? autoindex(pass, w, names, granted);
}

/** The first DirectoryIndex file there, decided as its own request; a refused one wins when none is served. */
function indexFile(pass: Pass, uriPath: string, names: string[], depth: number): Outcome | null {
  if (names.length === 1 && names[0]?.toLowerCase() === "disabled") return null;
  let refused: Outcome | null = null;
  for (const name of names) {
    const sub = name.startsWith("/") ? name : `${uriPath}${name}`;
    const subWalk = pass.plan.walk(sub);
    const fileThere = subWalk.mapped.diskKnown
      ? subWalk.exists && !subWalk.isDirectory
      : pass.oracle.ask(`index:${sub}`, `whether ${subWalk.mapped.filename} exists (DirectoryIndex)`);
    const subOutcome = pass.decidePath(sub, depth + 1);
    if (subOutcome.decision === "deny" && subOutcome.status !== 404) {
      refused ??= subOutcome;
      continue;
    }
    if (fileThere) return subOutcome;
  }
  return refused;
}

/** No index file: mod_autoindex lists the directory, or refuses; without the module httpd answers 404. */
function autoindex(pass: Pass, w: MappedWalk, names: string[], granted: Outcome): Outcome {
  const conf: DirConf = w.conf;
  const { plan } = pass;
  if (!plan.autoindexLoaded)
    return {
      ...granted,
      notes: [
        ...granted.notes,
        `no index file in ${w.mapped.filename} and mod_autoindex is not loaded: httpd answers 404`,
      ],
    };
  if ((conf.options?.abs ?? new Set<string>()).has("Indexes")) return granted;
  // mod_autoindex only answers GET (and HEAD); other methods fall through to 404/405/200.
  const method = plan.parsed.method;
  if (method !== "GET" && method !== "HEAD") return granted;
  const by = conf.options?.ref ?? conf.directoryIndex?.ref ?? null;
  return deny(403, by, "server-config", [fixText.noIndexFile(names, w.mapped.filename, w.directory)]);
}
