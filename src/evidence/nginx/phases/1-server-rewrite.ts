// NGX_HTTP_SERVER_REWRITE_PHASE: the rewrite module's directives written at
// server level (outside any location) run before a location is chosen.

import { answerReturn, runRewrite } from "./rewrite-module.js";
import type { NginxRequestState, PhaseResult } from "./state.js";

export function serverRewritePhase(st: NginxRequestState): PhaseResult {
  st.levels = st.http ? [st.http, st.server] : [st.server];
  const serverLevel = (st.server.block ?? []).filter((d) => d.directive !== "location");
  const r = runRewrite(st, serverLevel, null);
  if (r.kind === "return") return answerReturn(st, r);
  // An `if` that held at server level lends its config to no location.
  st.ifBlock = null;
  // `rewrite … last` at server level: the location search that follows is
  // already an internal redirect (internal locations may answer).
  st.internalRedirect = r.kind === "last";
  return "next";
}
