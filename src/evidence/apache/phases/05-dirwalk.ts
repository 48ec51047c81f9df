// Phase 5, map_to_storage (core's directory, file and location walks): the
// sections that apply to the file, merged in httpd's order with each
// directory's .htaccess (walk.ts). A .htaccess line its AllowOverride does not
// permit makes httpd answer 500 here.

import type { DirConf } from "../dirconf/types.js";
import * as fixText from "../fix-text.js";
import { type ServerScope, walkSections } from "../walk.js";
import { mapToFile } from "./03-translate-name.js";
import { deny, type MappedWalk, type Outcome } from "./state.js";

/** An AccessFileName no directory holds: how `readHtaccess: false` keeps the walk off .htaccess files. */
export const NO_ACCESS_FILE = "\u0000never";

/** Translates and walks a URL-path, once per path (every pass and every subrequest reuses it). */
export function sectionWalker(
  scope: ServerScope,
  serverRoot: string,
  accessFileName: string,
): (uriPath: string) => MappedWalk {
  const cache = new Map<string, MappedWalk>();
  return (uriPath) => {
    const cached = cache.get(uriPath);
    if (cached) return cached;
    const mapped = mapToFile(scope, uriPath, serverRoot);
    const w = walkSections(scope, {
      filename: mapped.filename,
      uriPath,
      diskKnown: mapped.diskKnown,
      accessFileName,
    });
    const r = { ...w, mapped };
    cache.set(uriPath, r);
    return r;
  };
}

/** The 500 for a .htaccess line outside its AllowOverride; null when every line was allowed. */
export function notAllowedAnswer(conf: DirConf): Outcome | null {
  const d = conf.notAllowed[0];
  if (!d) return null;
  return deny(500, d, "server-config", [fixText.notAllowedInHtaccess(d)]);
}
