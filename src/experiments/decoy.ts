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
//
// Before that, such a request's safe projection goes to the decoy: its headers
// (Content-Type included) and query as a bodiless GET, safe on any path. Refused
// the same way, the rule is host-wide and reads only those parts, so the
// content search runs on the projection and the request itself never needs a
// decoy shown inert. The projection is the inertness proof's first observation
// (same URL, same headers), so when it passes it costs nothing extra.

import { couldExecute } from "../http/method-override.js";
import { onUrl, safeProjection } from "./_requests.js";
import type { Experiment, ProbeContext } from "./contract.js";

/** A refusal repeated on a path no application serves: a host-wide rule, not a route's logic. */
const HOST_WIDE_RULE = {
  waf: 1.5,
  "ip-restriction": 0.8,
  "bot-protection": 0.8,
  "rate-limit": 0.3,
  "app-logic": -2.5,
  "insufficient-permission": -1.5,
  "fs-permission": -1.5,
  "redirect-method-change": -1,
} as const;

/** The decoy URL the request may go to, or null when it is withheld (noted for the report). */
async function decoyFor(ctx: ProbeContext): Promise<{ url: string } | null> {
  const { state } = ctx;
  if (!couldExecute(state.target)) return { url: ctx.decoyUrl(true) };
  const inert = await ctx.inertDecoy();
  if (inert.inert || ctx.allowSideEffects) return { url: inert.url };
  state.facts.decoy = { url: inert.url, reproduces: false, status: null, sent: false };
  ctx.noteWithheld(
    `No trigger search ran: ${inert.because}. Sending your ${state.target.method} there, or variants of it on the original path, could execute it. To search the trigger: re-run with --allow-side-effects on a staging copy of the site (or accept that the probes may create records), or make the decoy prefix /.well-known/why403/ answered by the web server itself (e.g. nginx: location ^~ /.well-known/why403/ { } with no proxy or fastcgi; Apache: ProxyPass /.well-known/why403/ !).${state.facts.projection?.reproduces === false ? " (Your headers and query alone, as a GET on a decoy path, pass: what triggers is in the body, the method or the path.)" : ""}`,
  );
  return null;
}

/**
 * The request's safe projection on the decoy; true when it reproduces the refusal
 * (recorded in facts.projection, with its evidence).
 */
async function projectionReproduces(ctx: ProbeContext): Promise<boolean> {
  const { state } = ctx;
  const url = ctx.inertDecoyUrl(true);
  const out = await ctx.probe(
    safeProjection(state.target, url),
    "your headers and query as a bodiless GET on a decoy path (safe on any path)",
    "decoy",
  );
  state.facts.projection = { url, reproduces: out.sameRefusal ? true : out.inconclusive ? null : false };
  if (!out.sameRefusal) {
    out.record.finding = out.inconclusive
      ? "no conclusion"
      : `${out.response?.status}: not refused, so the body, the method or the path is needed`;
    return false;
  }
  out.record.finding = `refused the same way (${out.response?.status}): a host-wide rule reads the headers or the query`;
  ctx.addEvidence({
    source: `probe #${out.n}`,
    fact: `Your headers and query alone, sent as a GET without a body to a path no application serves (${new URL(url).pathname}), are refused the same way (${out.response?.status}): the refusal comes from a host-wide rule in front of the application's routes (a firewall, gateway or server rule) that reads them; neither your ${state.target.method} nor its body is needed.`,
    // Without the method and the body, a redirect that changes the method or a missing
    // CSRF token (both need the POST) is ruled out further than by the decoy alone.
    weights: { ...HOST_WIDE_RULE, "redirect-method-change": -1.5, csrf: -2 },
    data: { decoy: true, projected: true, status: out.response?.status ?? null },
  });
  return true;
}

export const decoy: Experiment = {
  id: "decoy",
  safety: "decoy",
  cost: 1,
  appliesTo: () => true,
  priority: () => 10,
  async run(ctx) {
    const { state } = ctx;
    if (couldExecute(state.target) && (await projectionReproduces(ctx))) return;
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
        weights: HOST_WIDE_RULE,
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
