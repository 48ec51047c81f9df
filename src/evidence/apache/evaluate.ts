// Evaluates an Apache httpd config for one request by running httpd 2.4's
// request phases in order, one file each under phases/:
//
//   01 read the request, normalise the URL-path     02 post_read_request: the vhost
//   03 translate_name: server rewrite, Alias, Redirect, DocumentRoot
//   04 map_to_storage: TRACE                        05 map_to_storage: the section walk
//   06 header_parser: SetEnvIf                      07 access_checker: Order/Allow/Deny
//   08 check_user_id + auth_checker: AuthType, Require
//   09 fixups: per-directory RewriteRule            10 handler: mod_dir, mod_autoindex
//   11 handler: missing file, LimitRequestBody
//
// Facts the config cannot settle are asked of an oracle, and the phases run
// once per combination of answers (oracle.ts); decision.ts joins the passes.

import { type ConfigDecision, type ConfigRequest, newDecision } from "../config-decision.js";
import { toConfigDecision } from "./decision.js";
import { explore, type Oracle } from "./oracle.js";
import type { ApacheConfig } from "./parser.js";
import { encodedSlashAnswer, normalizePath, readRequest } from "./phases/01-normalise.js";
import { chooseServer } from "./phases/02-vhost.js";
import { serverRewriteConf, translateName } from "./phases/03-translate-name.js";
import { traceAnswer } from "./phases/04-trace.js";
import { NO_ACCESS_FILE, notAllowedAnswer, sectionWalker } from "./phases/05-dirwalk.js";
import { serverSetEnvIf, setEnvIfPhase } from "./phases/06-setenvif.js";
import { accessPhase } from "./phases/07-access.js";
import { authnAuthzPhase } from "./phases/08-authn-authz.js";
import { perDirRewrite } from "./phases/09-rewrite-perdir.js";
import { modDir } from "./phases/10-mod-dir.js";
import { fileHandler } from "./phases/11-handler.js";
import { type Outcome, type Pass, type RequestPlan, requestRec } from "./phases/state.js";

export { normalizePath };

export interface EvaluateOptions {
  /** Read .htaccess files from disk (default true). */
  readHtaccess?: boolean;
}

export function evaluateApache(
  config: ApacheConfig,
  request: ConfigRequest,
  options: EvaluateOptions = {},
): ConfigDecision {
  const { parsed, pathname } = readRequest(request);
  const base = newDecision(request, parsed.method, "unknown");
  const path = normalizePath(pathname);
  if (path === null) return encodedSlashAnswer(base);
  const server = chooseServer(config, parsed);
  const accessFileName = (options.readHtaccess ?? true) ? server.accessFileName : NO_ACCESS_FILE;
  const plan: RequestPlan = {
    config,
    request,
    parsed,
    path,
    scope: server.scope,
    serverRewrite: serverRewriteConf(server.scope),
    serverSetEnvIf: serverSetEnvIf(config, server.scope),
    autoindexLoaded: server.autoindexLoaded,
    walk: sectionWalker(server.scope, config.serverRoot, accessFileName),
  };
  const first = plan.walk(path);
  const run = explore((oracle) => decideRequest(plan, oracle));
  return toConfigDecision(plan, base, server.notes, first, run);
}

/** One pass: the phases that answer for the whole request, then the per-path ones. */
function decideRequest(plan: RequestPlan, oracle: Oracle): Outcome {
  const pass: Pass = {
    plan,
    oracle,
    internalRedirects: 0,
    decidePath: (uriPath, depth) => decidePath(pass, uriPath, depth),
  };
  return translateName(pass) ?? traceAnswer(plan.scope, plan.parsed.method) ?? decidePath(pass, plan.path, 0);
}

/** Phases 05–11 for one URL-path (the request's own, an index file's, a rewrite target's). */
function decidePath(pass: Pass, uriPath: string, depth: number): Outcome {
  const w = pass.plan.walk(uriPath);
  const filename = w.mapped.filename + (w.isDirectory && !w.mapped.filename.endsWith("/") ? "/" : "");
  const rec = requestRec(pass, uriPath, filename, w.mapped.diskKnown);
  const refused = notAllowedAnswer(w.conf);
  if (refused) return refused;
  setEnvIfPhase(pass.plan, w.conf, rec);
  const granted = accessPhase(w.conf, rec) ?? authnAuthzPhase(pass, w.conf, rec);
  if (granted.decision !== "allow") return granted;
  return (
    perDirRewrite(pass, w.conf, rec) ??
    modDir(pass, uriPath, w, granted, depth) ??
    fileHandler(pass.plan.request, w, granted)
  );
}
