// decoy: the original request, method, headers and body unchanged, sent to
// /.well-known/why403/<random> on the same host. Refused the same way: the rule
// is host-wide and content experiments can run on the decoy. A 404 there: the
// refusal is specific to the path.
//
// A request the application could act on (a POST, a body, a method override)
// goes to the decoy only once safe observation has shown no application code
// answers there for its shape (ctx.inertDecoy, investigate/inert.ts). Otherwise
// it is may-execute: sent only with --allow-side-effects; without consent the
// diagnosis goes on with safe evidence and the report says what a trigger
// search would need.

import { couldExecute } from "../http/method-override.js";
import type { Experiment, ProbeContext } from "../investigate/types.js";
import { onUrl } from "./_requests.js";

/** The decoy URL the request may go to, or null when it is withheld (noted for the report). */
async function decoyFor(ctx: ProbeContext): Promise<{ url: string } | null> {
  const { state } = ctx;
  if (!couldExecute(state.target)) return { url: ctx.decoyUrl(true) };
  const inert = await ctx.inertDecoy();
  if (inert.inert || ctx.allowSideEffects) return { url: inert.url };
  state.facts.decoy = { url: inert.url, reproduces: false, status: null, sent: false };
  ctx.noteWithheld(
    `No trigger search ran: ${inert.because}. Sending your ${state.target.method} there, or variants of it on the original path, could execute it. To search the trigger: re-run with --allow-side-effects on a staging copy of the site (or accept that the probes may create records), or make the decoy prefix /.well-known/why403/ answered by the web server itself (e.g. nginx: location ^~ /.well-known/why403/ { } with no proxy or fastcgi; Apache: ProxyPass /.well-known/why403/ !).`,
  );
  return null;
}

export const decoy: Experiment = {
  id: "decoy",
  safety: "decoy",
  cost: 1,
  appliesTo: () => true,
  priority: () => 10,
  async run(ctx) {
    const { state } = ctx;
    const chosen = await decoyFor(ctx);
    if (!chosen) return;
    const url = chosen.url;
    const out = await ctx.probe(
      onUrl(state.target, url),
      "your request, unchanged, on a decoy path",
      "decoy",
    );
    const status = out.response?.status ?? null;
    if (out.inconclusive) {
      state.facts.decoy = { url, reproduces: false, status, sent: true };
      out.record.finding = `${status ?? "no answer"}: no conclusion`;
      return;
    }
    state.facts.decoy = { url, reproduces: out.sameRefusal, status, sent: true };
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
