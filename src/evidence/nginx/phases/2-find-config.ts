// NGX_HTTP_FIND_CONFIG_PHASE: the location for the current URI, then the
// two checks nginx makes on it there: `internal;` (404 to a request from
// outside) and `limit_except` (whose block applies to a method it does not list).

import { findLocation, type LocationSpec, locationLabel } from "../location-select.js";
import type { Directive } from "../parser.js";
import { at, contextOf, type NginxRequestState, type PhaseResult, ref } from "./state.js";
import { internalFix } from "./wording.js";

export function findConfigPhase(st: NginxRequestState): PhaseResult {
  const match = findLocation(st.server.block ?? [], st.uri);
  for (const l of match.unsupported) {
    st.unknowns.push(`the regex of ${locationLabel(l)} at ${at(l.directive)} cannot be evaluated here`);
  }
  if (match.unsupported.length > 0) st.locationUncertain = true;
  const chain = match.chain;
  const final: LocationSpec | undefined = chain[chain.length - 1];
  const decision = st.decision;
  decision.matched.location = final ? `${locationLabel(final)} at ${at(final.directive)}` : null;
  decision.context = [...st.baseContext(), ...chain.map((l) => contextOf(l.directive))];
  st.levels = [...(st.http ? [st.http] : []), st.server, ...chain.map((l) => l.directive)];
  const block = final?.directive.block ?? [];
  st.location = { final, block, limitedBy: null };

  const internal = block.find((d) => d.directive === "internal");
  if (internal && !st.internalRedirect) return refuseInternal(st, final as LocationSpec, internal);
  st.location.limitedBy = applyLimitExcept(st, block);
  return "next";
}

function refuseInternal(st: NginxRequestState, final: LocationSpec, internal: Directive): PhaseResult {
  st.firm = true;
  const decision = st.decision;
  decision.decision = "deny";
  decision.status = 404;
  decision.decidedBy = ref(internal);
  decision.cause = "server-config";
  st.fix.push(internalFix(final, internal));
  return "decided";
}

/** The limit_except whose block applies to this method (GET implies HEAD), added as the innermost level. */
function applyLimitExcept(st: NginxRequestState, block: Directive[]): Directive | null {
  const limitExcept = block.find((d) => d.directive === "limit_except");
  if (!limitExcept) return null;
  const listed = new Set(limitExcept.args.map((a) => a.toUpperCase()));
  if (listed.has("GET")) listed.add("HEAD");
  if (listed.has(st.method)) return null;
  st.levels.push(limitExcept);
  st.decision.context.push(contextOf(limitExcept));
  return limitExcept;
}
