// Phase 6, header_parser (mod_setenvif): SetEnvIf and BrowserMatch set the
// environment variables `Require env`, `Allow from env=` and RewriteCond read.
// The server-context lines (httpd runs them at post_read_request) come first,
// then the per-directory ones of the merged sections.

import { runSetEnvIf } from "../authz.js";
import type { DirConf, SetEnvIfDef } from "../dirconf/types.js";
import type { ApacheConfig } from "../parser.js";
import type { RequestRec } from "../request-rec.js";
import type { ServerScope } from "../walk.js";
import { type RequestPlan, serverContextConf } from "./state.js";

const SETENVIF = ["setenvif", "setenvifnocase", "browsermatch", "browsermatchnocase"];

/** The main server's SetEnvIf lines, then the chosen vhost's. */
export function serverSetEnvIf(config: ApacheConfig, scope: ServerScope): SetEnvIfDef[] {
  const main = serverContextConf(config.nodes, SETENVIF, "server").setEnvIf;
  if (!scope.vhost) return main;
  const vhost = serverContextConf(scope.vhost.children, SETENVIF, "vhost").setEnvIf;
  return [...main, ...vhost];
}

/** Fills `rec.env` from the server's lines and the directory's. */
export function setEnvIfPhase(plan: RequestPlan, conf: DirConf, rec: RequestRec): void {
  runSetEnvIf([...plan.serverSetEnvIf, ...conf.setEnvIf], rec);
}
