// The content-filter canary: one GET on a decoy path (no application route runs
// there, and GET is safe) whose query carries a textbook attack string. Refused
// the same way as the user's request: a filter that reads request content sits
// in front of the host and answers with this very refusal — evidence that a
// trigger without an attack look of its own (a charset, a header, a method, a
// path) is that filter's rule, not a server rule keyed on the value. Answered
// normally: no content filter answers like this, so such a trigger is a server
// or application rule. Asked once per investigation.

import type { ProbeContext } from "../investigate/types.js";
import type { RequestModel } from "../model.js";
import { BROWSER_USER_AGENT } from "./_requests.js";

/** Stands for every family a rule set checks first: script tags and a SQL tautology. */
const CANARY = "<script>alert(1)</script>' OR '1'='1";

export async function contentFilterCanary(ctx: ProbeContext): Promise<boolean | null> {
  const { state } = ctx;
  if (state.facts.contentFilter !== undefined) return state.facts.contentFilter;
  if (ctx.remaining() <= 0) return null;
  const url = new URL(ctx.decoyUrl(false));
  url.searchParams.set("q", CANARY);
  // Nothing of the user's request but its Host: whatever in it triggers must not
  // make the canary look refused for the wrong reason.
  const host = state.target.headers.filter(([n]) => n.toLowerCase() === "host");
  const req: RequestModel = {
    method: "GET",
    url: url.toString(),
    headers: [...host, ["User-Agent", BROWSER_USER_AGENT], ["Accept", "*/*"]],
    body: null,
    options: { ...state.target.options, explicitMethod: true },
  };
  const out = await ctx.probe(req, "content-filter canary: an attack string on a decoy path (GET)", "decoy");
  if (out.inconclusive || !out.response) {
    out.record.finding = "no conclusion";
    state.facts.contentFilter = null;
    return null;
  }
  state.facts.contentFilter = out.sameRefusal;
  out.record.finding = out.sameRefusal
    ? `refused the same way (${out.response.status}): a content filter in front of the host gives this refusal`
    : `${out.response.status}: no content filter answers with this refusal`;
  ctx.addEvidence({
    source: `probe #${out.n}`,
    fact: out.sameRefusal
      ? "A textbook attack string in the query of a path no application serves is refused exactly like your request: a filter that reads request content (a WAF) sits in front of the host and gives this refusal."
      : `A textbook attack string in the query of a path no application serves is answered ${out.response.status}: no content filter in front of the host gives this refusal.`,
    weights: out.sameRefusal ? { waf: 1 } : { waf: -1 },
    data: { canary: true, refused: out.sameRefusal },
  });
  return out.sameRefusal;
}
