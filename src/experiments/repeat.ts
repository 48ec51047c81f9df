// repeat: only when answers hint at several backends (X-Served-By, X-Backend,
// Via ... differ) or a rate limit: send the same safe probe a few times and
// tell which backend refuses and which answers.

import type { RequestModel } from "../model.js";
import { asSafe, onUrl } from "./_requests.js";
import { backendOf } from "./compare.js";
import type { Experiment, InvestigationState } from "./contract.js";
import { weightFor } from "./contract.js";

const REPEATS = 3;

function probeRequest(
  state: InvestigationState,
): { req: RequestModel; safety: "safe-method" | "decoy" } | null {
  if (state.facts.safeMethods?.GET?.sameRefusal)
    return { req: asSafe(state.target, "GET"), safety: "safe-method" };
  if (state.facts.decoy?.reproduces)
    return { req: onUrl(state.target, state.facts.decoy.url), safety: "decoy" };
  return null;
}

export const repeat: Experiment = {
  id: "repeat",
  safety: "safe-method",
  cost: REPEATS,
  appliesTo: (state) =>
    probeRequest(state) !== null &&
    ((state.facts.backends?.size ?? 0) > 1 ||
      (weightFor(state.evidence, "rate-limit") > 0 && state.baseline.status !== 429)),
  priority: () => 2,
  async run(ctx) {
    const { state } = ctx;
    const p = probeRequest(state)!;
    const seen: Array<{ backend: string; refused: boolean; status: number | null }> = [];
    for (let i = 0; i < REPEATS && ctx.remaining() > 0; i++) {
      const out = await ctx.probe(p.req, `repeat ${i + 1}/${REPEATS}: is the refusal consistent?`, p.safety, {
        expectVariance: true,
      });
      if (!out.response) continue;
      const backend = backendOf(out.response) ?? "unknown backend";
      seen.push({ backend, refused: out.sameRefusal, status: out.response.status });
      out.record.finding = `${out.response.status} from ${backend}${out.sameRefusal ? " (refused)" : ""}`;
    }
    const refused = seen.filter((s) => s.refused);
    if (seen.length < 2) return;
    if (refused.length > 0 && refused.length < seen.length) {
      const refusing = [...new Set(refused.map((s) => s.backend))];
      const passing = [...new Set(seen.filter((s) => !s.refused).map((s) => s.backend))];
      ctx.addEvidence({
        source: "repeated probes",
        fact: `The refusal is intermittent: ${refused.length} of ${seen.length} identical requests were refused${refusing.length ? ` (by ${refusing.join(", ")}; answered by ${passing.join(", ")})` : ""} — the backends or instances are configured differently, or a limit is being hit.`,
        weights: { "server-config": 1.5, "rate-limit": 0.5 },
        data: { refusing, passing },
      });
    } else if (refused.length === seen.length) {
      ctx.addEvidence({
        source: "repeated probes",
        fact: `The refusal is consistent: all ${seen.length} repeats were refused the same way${state.facts.backends && state.facts.backends.size > 1 ? ` across backends ${[...state.facts.backends].join(", ")}` : ""}.`,
        weights: { "rate-limit": -0.5 },
      });
    }
  },
};
