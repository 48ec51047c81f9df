// NGX_HTTP_REWRITE_PHASE: the rewrite module's directives (set, if, rewrite,
// return) of the chosen location. `rewrite … last` sends the request back to
// the location search (nginx's post-rewrite phase), which the driver does.

import { answerReturn, runRewrite } from "./rewrite-module.js";
import type { NginxRequestState, PhaseResult } from "./state.js";

export function rewritePhase(st: NginxRequestState): PhaseResult {
  const { final, block, limitedBy } = st.location;
  // For a method limit_except does not list, its block replaces the location's
  // config: the location's rewrite directives (return, rewrite, if) do not run.
  if (!final || limitedBy) return "next";
  st.ifBlock = null;
  const r = runRewrite(st, block, null);
  if (r.kind === "return") return answerReturn(st, r);
  if (r.kind === "last") {
    st.internalRedirect = true;
    return "internal-redirect";
  }
  return "next";
}
