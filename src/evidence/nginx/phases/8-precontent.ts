// NGX_HTTP_PRECONTENT_PHASE: try_files picks the first file that exists or
// its fallback; we name it and do not follow it.

import { contentBlocks, hasUpstreamHandler } from "./9-content.js";
import { at, type NginxRequestState, type PhaseResult, show } from "./state.js";

export function precontentPhase(st: NginxRequestState): PhaseResult {
  const own = contentBlocks(st).own;
  // With an upstream handler in the location, try_files only changes the URI
  // that handler is given and the handler answers (content phase); its
  // fallback (=code, @name) is not followed here either.
  if (hasUpstreamHandler(own)) return "next";
  const tryFiles = own.find((d) => d.directive === "try_files");
  if (!tryFiles) return "next";
  st.decision.decision = "allow";
  st.unknowns.push(`${show(tryFiles)} at ${at(tryFiles)} picks the file or fallback; not followed here`);
  return "decided";
}
