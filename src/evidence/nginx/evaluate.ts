// Stage 3: walks one request through the phases nginx runs and reports which
// directive allows or refuses it. One file per phase under phases/, numbered
// as nginx numbers them (ngx_http_core_module.h, NGX_HTTP_*_PHASE):
//
//   0-virtual-server  server block by port and Host, URI normalised (before the phases)
//   1-server-rewrite  NGX_HTTP_SERVER_REWRITE_PHASE  set/if/rewrite/return at server level
//   2-find-config     NGX_HTTP_FIND_CONFIG_PHASE     location search, `internal`, `limit_except`
//   3-rewrite         NGX_HTTP_REWRITE_PHASE         set/if/rewrite/return in the location
//   (4, POST_REWRITE: `rewrite … last` restarts at find-config — the loop below)
//   (5, PREACCESS: limit_req/limit_conn are not evaluated: a 429 depends on the
//    traffic, not on one request; the rate-limit experiments probe it live)
//   6-access          NGX_HTTP_ACCESS_PHASE + POST_ACCESS  allow/deny, auth_basic, auth_request, satisfy
//   8-precontent      NGX_HTTP_PRECONTENT_PHASE      try_files
//   9-content         NGX_HTTP_CONTENT_PHASE         upstream handlers, index, autoindex, static files
//   conclude          what could not be evaluated turns the decision to "unknown"
//
// The phases share one NginxRequestState (phases/state.ts); the sentences
// they write are in phases/wording.ts.

import type { ConfigRequest } from "../config-decision.js";
import type { NginxConfig } from "./parser.js";
import { findVirtualServer } from "./phases/0-virtual-server.js";
import { serverRewritePhase } from "./phases/1-server-rewrite.js";
import { findConfigPhase } from "./phases/2-find-config.js";
import { rewritePhase } from "./phases/3-rewrite.js";
import { accessPhase } from "./phases/6-access.js";
import { precontentPhase } from "./phases/8-precontent.js";
import { contentPhase } from "./phases/9-content.js";
import { conclude } from "./phases/conclude.js";
import { type NginxDecision, NginxRequestState, type PhaseResult } from "./phases/state.js";

export type { NginxDecision } from "./phases/state.js";

/** Most URI changes (rewrite last, index) nginx follows before answering 500. */
const MAX_URI_CHANGES = 10;

/** The phases that run for each URI, from the location search on. */
const LOCATION_PHASES: ReadonlyArray<(st: NginxRequestState) => PhaseResult> = [
  findConfigPhase,
  rewritePhase,
  accessPhase,
  precontentPhase,
  contentPhase,
];

export function evaluateNginx(config: NginxConfig, request: ConfigRequest): NginxDecision {
  const st = findVirtualServer(config, request);
  if (!(st instanceof NginxRequestState)) return st;
  if (serverRewritePhase(st) === "decided") return conclude(st);
  for (let changes = 0; changes <= MAX_URI_CHANGES; changes++) {
    if (runLocationPhases(st) === "decided") return conclude(st);
  }
  return refuseUriLoop(st);
}

/** The phases for the current URI, until one decides or the URI changes internally. */
function runLocationPhases(st: NginxRequestState): PhaseResult {
  for (const phase of LOCATION_PHASES) {
    const r = phase(st);
    if (r !== "next") return r;
  }
  throw new Error("nginx evaluator: the content phase always decides or redirects");
}

/** nginx gives up after MAX_URI_CHANGES internal redirects with a 500. */
function refuseUriLoop(st: NginxRequestState): NginxDecision {
  st.firm = true;
  const decision = st.decision;
  decision.decision = "deny";
  decision.status = 500;
  decision.cause = "server-config";
  decision.unknowns.push(`more than ${MAX_URI_CHANGES} internal redirects (a rewrite or index loop)`);
  return conclude(st);
}
