// layer-map: GET a path that surely does not exist on the same host and
// compare its 404 with the refusal. If both come from the same responder with
// the same page template, the refusal came from the layer that serves the
// host's ordinary pages; if not, from a layer in front (a WAF, a CDN).

import { asSafe } from "./_requests.js";
import { sameAuthorship, templateSimilarity } from "./compare.js";
import type { Experiment } from "./contract.js";

export const layerMap: Experiment = {
  id: "layer-map",
  safety: "safe-method",
  cost: 1,
  appliesTo: () => true,
  priority: () => 4,
  async run(ctx) {
    const { state } = ctx;
    const out = await ctx.probe(
      asSafe(state.target, "GET", ctx.missingUrl()),
      "map the layers: GET a missing path",
      "safe-method",
    );
    if (!out.response || !out.fingerprint) {
      state.facts.missingPath = { status: null, sameLayer: null };
      return;
    }
    const base = state.baselineFingerprint.responder;
    const other = out.fingerprint.responder;
    const similar =
      templateSimilarity(state.baseline.body, out.response.body) >= 0.6 ||
      sameAuthorship(state.baseline, out.response);
    const sameResponder = base.product === other.product && base.layer === other.layer;
    // A web server's or application's own error page is its ordinary page style, not a block page.
    const blockPage =
      state.baselineFingerprint.blockPage && base.layer !== "web-server" && base.layer !== "application";
    const sameLayer = sameResponder && similar && !blockPage;
    state.facts.missingPath = { status: out.response.status, sameLayer };
    const who = (r: typeof base) =>
      r.product ? `${r.product} (${r.layer})` : `an unidentified ${r.layer} layer`;
    if (sameLayer) {
      out.record.finding = `${out.response.status} from ${who(other)}, same page style as the refusal: the refusal comes from the layer that serves ordinary pages`;
      ctx.addEvidence({
        source: `probe #${out.n}`,
        fact: `A missing path on the same host gets a ${out.response.status} page in the same style and from the same responder as the refusal, so the refusal was written by the server that serves the host's ordinary pages, not by a layer in front of it.`,
        weights: {
          "server-config": 1,
          "fs-permission": 0.5,
          "ip-restriction": 0.5,
          waf: -0.5,
          "bot-protection": -1,
        },
        data: { status: out.response.status, product: other.product },
      });
    } else {
      out.record.finding = `${out.response.status} from ${who(other)}, unlike the refusal (${who(base)}): the refusal comes from another layer`;
      ctx.addEvidence({
        source: `probe #${out.n}`,
        fact: `A missing path on the same host gets a ${out.response.status} that looks different from the refusal (${who(other)} vs ${who(base)}), so the refusal was written by a different layer than the host's ordinary pages — typically a firewall, CDN or gateway in front, or the application itself.`,
        // Who wrote the refusal decides what "another layer" means: a web server or proxy
        // in front refuses by its config; a CDN or firewall by its rules.
        weights:
          base.layer === "web-server" || base.layer === "proxy"
            ? { "server-config": 0.5, "ip-restriction": 0.5, "app-logic": -1, waf: 0.3 }
            : { waf: 0.5, "bot-protection": 0.3, "server-config": -0.3 },
        data: { status: out.response.status, product: other.product },
      });
    }
  },
};
