// decoy: the original request, method, headers and body unchanged, sent to
// /.well-known/why403/<random> on the same host, where no application route
// runs. Refused the same way: the rule is host-wide and content experiments
// can run on the decoy safely. A 404 there: the refusal is specific to the path.

import { onUrl } from "./_requests.js";
import type { Experiment } from "./contract.js";

export const decoy: Experiment = {
  id: "decoy",
  safety: "decoy",
  cost: 1,
  appliesTo: () => true,
  priority: () => 10,
  async run(ctx) {
    const { state } = ctx;
    const url = ctx.decoyUrl(true);
    const out = await ctx.probe(
      onUrl(state.target, url),
      "your request, unchanged, on a decoy path",
      "decoy",
    );
    const status = out.response?.status ?? null;
    if (out.inconclusive) {
      state.facts.decoy = { url, reproduces: false, status };
      out.record.finding = `${status ?? "no answer"}: no conclusion`;
      return;
    }
    state.facts.decoy = { url, reproduces: out.sameRefusal, status };
    if (out.sameRefusal) {
      out.record.finding = `refused the same way (${status}): the rule is host-wide, not tied to the path`;
      ctx.addEvidence({
        source: `probe #${out.n}`,
        fact: `The same request sent to a path no application serves (${new URL(url).pathname}) is refused the same way (${status}): the refusal comes from a host-wide rule in front of the application's routes (a firewall, gateway or server rule), not from the route's own logic.`,
        weights: {
          waf: 1.5,
          "ip-restriction": 0.8,
          "bot-protection": 0.8,
          "rate-limit": 0.3,
          "app-logic": -2.5,
          "insufficient-permission": -1.5,
          "fs-permission": -1.5,
          "redirect-method-change": -1,
        },
        data: { decoy: true, status },
      });
    } else {
      out.record.finding = `${status}, not the refusal: the refusal is specific to the original path`;
      ctx.addEvidence({
        source: `probe #${out.n}`,
        fact: `The same request sent to a path no application serves gets ${status}, not the refusal: whatever refuses it is tied to the original path (a location/Directory rule, the route's handler or its middleware), not a host-wide content filter.`,
        weights: {
          waf: -1,
          "ip-restriction": -0.5,
          "bot-protection": -1,
          "app-logic": 0.5,
          "server-config": 0.5,
          "insufficient-permission": 0.3,
          csrf: 0.3,
        },
        data: { decoy: false, status },
      });
    }
  },
};
