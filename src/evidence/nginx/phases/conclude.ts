// After the phases: the decision gets the sentences gathered on the way, and
// turns to "unknown" when something we could not evaluate might have answered
// first: a location regex, an undecided `if`, or a module we do not know.

import { unknownDirectivesOn } from "../known-directives.js";
import type { NginxDecision, NginxRequestState } from "./state.js";
import { foreignModuleUnknown } from "./wording.js";

/** Unknown directives named one by one before the rest are counted. */
const MAX_LISTED_UNKNOWN = 10;

export function conclude(st: NginxRequestState): NginxDecision {
  const decision = st.decision;
  const foreign = unknownDirectivesOn(st.levels);
  decision.unknowns.push(...foreign.slice(0, MAX_LISTED_UNKNOWN).map((u) => u.sentence));
  if (foreign.length > MAX_LISTED_UNKNOWN)
    decision.unknowns.push(`and ${foreign.length - MAX_LISTED_UNKNOWN} more unknown directives`);
  decision.unknowns.push(...st.unknowns);
  decision.fix.push(...st.fix);
  // A module we do not know could refuse (access phase) or answer (content
  // phase) a request the stock modules would let through.
  const foreignCouldAct = foreign.length > 0 && !st.firm;
  if (foreignCouldAct)
    decision.unknowns.push(foreignModuleUnknown(foreign.length, st.method, st.target.rawPath));
  // An undecided `if` in the rewrite phase could have answered before access or content did.
  if (st.locationUncertain || st.uncertainIf || foreignCouldAct) {
    decision.decision = "unknown";
    decision.status = null;
    decision.decidedBy = null;
    decision.cause = null;
    decision.fix = [];
  }
  return decision;
}
