// origin: is it the Origin/Referer the server keys on? With consent (or a safe
// method) the original request is resent without them, same-origin, and with
// a foreign Origin. Without consent only safe variants run: the decoy (when it
// reproduces the refusal, an origin rule there is host-wide) and CORS
// preflights; the fix is then reported as likely, not verified.

import { couldExecute } from "../http/method-override.js";
import { headerValue } from "../investigate/compare.js";
import type { Experiment, InvestigationState, ProbeContext, ProbeSafety } from "../investigate/types.js";
import { weightFor } from "../investigate/weights.js";
import type { Header, RequestModel } from "../model.js";
import { asSafe, dropHeaders, hasHeader, onUrl, setHeader } from "./_requests.js";

const FOREIGN_ORIGIN = "https://why403-probe.invalid";

interface Variant {
  label: string;
  headers: (h: Header[]) => Header[];
}

function variants(targetUrl: string): Variant[] {
  const own = new URL(targetUrl).origin;
  return [
    {
      label: "same-origin Origin and Referer",
      headers: (h) => setHeader(setHeader(h, "Origin", own), "Referer", `${own}/`),
    },
    { label: "no Origin or Referer", headers: (h) => dropHeaders(h, ["origin", "referer"]) },
    {
      label: "a foreign Origin",
      headers: (h) => setHeader(dropHeaders(h, ["referer"]), "Origin", FOREIGN_ORIGIN),
    },
  ];
}

function suspected(state: InvestigationState): boolean {
  return weightFor(state.evidence, "csrf") > 0 || weightFor(state.evidence, "cors") > 0;
}

async function tryVariants(
  ctx: ProbeContext,
  base: RequestModel,
  safety: ProbeSafety,
  where: string,
): Promise<void> {
  const { state } = ctx;
  const sentOrigin = headerValue(state.target, "origin");
  const sentReferer = headerValue(state.target, "referer");
  const results: Array<{ label: string; passed: boolean; status: number | null; n: number }> = [];
  for (const v of variants(state.target.url)) {
    if (ctx.remaining() <= 0) break;
    const out = await ctx.probe(
      { ...base, headers: v.headers(base.headers) },
      `${where} with ${v.label}`,
      safety,
    );
    if (out.inconclusive) continue;
    const passed = !out.sameRefusal;
    out.record.finding = passed ? `${out.response!.status}: passes` : "refused the same way";
    results.push({ label: v.label, passed, status: out.response?.status ?? null, n: out.n });
  }
  const same = results.find((r) => r.label.startsWith("same-origin"));
  if (!same) return;
  if (same.passed) {
    ctx.addEvidence({
      source: `probe #${same.n}`,
      fact: `${where}: with a same-origin Origin and Referer the request passes (${same.status}), while as sent${sentOrigin ? ` (Origin: ${sentOrigin})` : sentReferer ? "" : " (no Origin or Referer)"} it is refused — an Origin/Referer check refuses it.`,
      weights: sentOrigin ? { csrf: 3, cors: 1.5 } : { csrf: 3.5 },
    });
  } else if (results.every((r) => !r.passed)) {
    ctx.addEvidence({
      source: `probe #${same.n}`,
      fact: `${where}: the request is refused the same way with a same-origin Origin, without Origin/Referer, and with a foreign Origin — the Origin and Referer headers are not what is refused.`,
      weights: { cors: -2.5, csrf: -1 },
    });
  }
}

export const origin: Experiment = {
  id: "origin",
  safety: "safe-method",
  cost: 3,
  appliesTo: (state) =>
    hasHeader(state.target, "origin") || hasHeader(state.target, "referer") || suspected(state),
  priority: (state) =>
    3 + 3 * Math.max(0, weightFor(state.evidence, "csrf"), weightFor(state.evidence, "cors")),
  async run(ctx) {
    const { state } = ctx;
    const m = state.target.method.toUpperCase();
    const executes = couldExecute(state.target);
    if (!executes || ctx.allowSideEffects) {
      await tryVariants(ctx, state.target, executes ? "may-execute" : "safe-method", `Your ${m}`);
      return;
    }
    if (state.facts.decoy?.reproduces) {
      await tryVariants(
        ctx,
        onUrl(state.target, state.facts.decoy.url),
        "decoy",
        "On the decoy path, your request",
      );
    }
    const sentOrigin = headerValue(state.target, "origin");
    if (sentOrigin && ctx.remaining() > 0) {
      // Does the CORS policy reflect any origin? A foreign one tells.
      const req = asSafe(state.target, "OPTIONS");
      const out = await ctx.probe(
        {
          ...req,
          headers: setHeader(
            setHeader(req.headers, "Origin", FOREIGN_ORIGIN),
            "Access-Control-Request-Method",
            m,
          ),
        },
        "CORS preflight with a foreign Origin",
        "safe-method",
      );
      const acao = out.response ? headerValue(out.response, "access-control-allow-origin") : null;
      out.record.finding = acao
        ? `Access-Control-Allow-Origin: ${acao}`
        : `${out.response?.status ?? "no answer"}, no Access-Control-Allow-Origin`;
    }
    const own = new URL(state.target.url).origin;
    if (suspected(state) || (sentOrigin && sentOrigin !== own)) {
      ctx.noteUnverified(
        sentOrigin && sentOrigin !== own
          ? `send the ${m} from the site's own origin (Origin: ${own}), or add ${sentOrigin} to the server's trusted origins.`
          : `send the ${m} with Origin: ${own} and a Referer on ${own} (some CSRF checks need them).`,
        "csrf",
      );
    }
  },
};
