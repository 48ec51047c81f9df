// path: is the refusal keyed on the TEXT of the path (a scanner file name, an
// encoded newline, a traversal) rather than on where it points? When the decoy
// does not reproduce the refusal, the path is the one part it dropped. Its
// segments are moved under a decoy prefix and sent with GET (safe, and no
// application route runs under /.well-known/why403/): refused the same way,
// the text triggers wherever it stands — a content rule; then delta debugging
// finds the segment and the smallest piece of it that still triggers, in the
// form it was sent (percent-encoded) and decoded. A location rule (nginx
// `location /admin/`, Caddy `path /wp-admin*`) does not follow the text under
// another prefix, so this experiment stays silent for it.

import { ddmin } from "../delta/ddmin.js";
import { shortestWindow } from "../delta/minimize.js";
import { guessFamily } from "../evidence/content/families.js";
import type { CauseId, Trigger } from "../model.js";
import { redactFragment } from "../redact.js";
import { asSafe } from "./_requests.js";
import { contentFilterCanary } from "./canary.js";
import type { Experiment, ProbeContext } from "./contract.js";

// Words, percent escapes and single other characters: rules on paths match file
// names, escapes and separators whole, so cutting inside a word explains nothing.
const PATH_TOKENS = /[A-Za-z0-9]+|%[0-9A-Fa-f]{2}|[^A-Za-z0-9%]|%/g;

/** Most requests spent shortening the surviving segment. */
const MAX_SEGMENT_TESTS = 10;

function segmentsOf(url: string): { segments: string[]; trailingSlash: boolean } {
  const path = new URL(url).pathname;
  return {
    segments: path.split("/").filter((s) => s !== ""),
    trailingSlash: path.length > 1 && path.endsWith("/"),
  };
}

export function percentDecoded(text: string): string {
  try {
    return decodeURIComponent(text);
  } catch {
    return text.replace(/%([0-9a-f]{2})/gi, (_, h: string) => String.fromCharCode(Number.parseInt(h, 16)));
  }
}

/** GET <decoy>/<segments> with the request's headers: safe twice over. */
function onDecoy(ctx: ProbeContext, base: string, segments: string[], trailingSlash: boolean) {
  const url = new URL(base);
  url.pathname = `${url.pathname}/${segments.join("/")}${trailingSlash ? "/" : ""}`;
  return asSafe(ctx.state.target, "GET", url.toString());
}

function pathWeights(family: string | undefined, filter: boolean | null): Partial<Record<CauseId, number>> {
  // The text follows the request to a path no application serves: not the route's
  // own logic, not a plain address or file rule.
  const notRoute = { "app-logic": -1.5, "fs-permission": -3, "ip-restriction": -2, csrf: -1 };
  if (family || filter === true) return { ...notRoute, waf: 4.5, "server-config": -1.5 };
  return { ...notRoute, "server-config": 2.5, waf: -0.5 };
}

export const path: Experiment = {
  id: "path",
  safety: "decoy",
  cost: 6,
  appliesTo(state) {
    const d = state.facts.decoy;
    return (
      !!d &&
      !d.reproduces &&
      state.facts.projection?.reproduces !== true &&
      state.trigger === null &&
      segmentsOf(state.target.url).segments.length > 0
    );
  },
  // Before the directory probe: a made-up name under a path whose text triggers is refused too.
  priority: () => 60,
  async run(ctx) {
    const { state } = ctx;
    const { segments, trailingSlash } = segmentsOf(state.target.url);
    const base = ctx.decoyUrl(false);
    // The request itself never went to the decoy (withheld as may-execute): first show
    // that a GET there with your headers passes, so a refusal below is the path's doing.
    if (state.facts.decoy?.sent === false) {
      const bare = await ctx.probe(
        asSafe(state.target, "GET", base),
        "GET on a decoy path, your headers",
        "decoy",
      );
      bare.record.finding = bare.sameRefusal ? "refused: not the path" : "not refused";
      if (bare.sameRefusal || bare.inconclusive) return;
    }
    const whole = await ctx.probe(
      onDecoy(ctx, base, segments, trailingSlash),
      "your path moved under a decoy prefix (GET)",
      "decoy",
    );
    if (!whole.sameRefusal) {
      whole.record.finding = whole.inconclusive
        ? "no conclusion"
        : `${whole.response?.status}: the path's text alone does not trigger the refusal elsewhere`;
      return;
    }
    // One refusal could be chance (a flaky rule, backends that disagree): the same probe
    // again must be refused too before the path's text is blamed. Identical probes that
    // get different answers stop the run as intermittent (the prober's consistency check).
    const again = await ctx.probe(
      onDecoy(ctx, base, segments, trailingSlash),
      "the same moved path once more (is the refusal stable?)",
      "decoy",
    );
    again.record.finding = again.sameRefusal ? "refused again" : "not refused this time";
    if (!again.sameRefusal) return;
    whole.record.finding = "refused the same way: the path's text triggers the refusal wherever it stands";
    const found = await ddmin(
      segments.map((s, i) => ({ s, i })),
      async (subset) => {
        const out = await ctx.probe(
          onDecoy(
            ctx,
            base,
            subset.map((x) => x.s),
            trailingSlash,
          ),
          "path segments under a decoy prefix (GET)",
          "decoy",
        );
        out.record.finding = out.sameRefusal ? "still refused" : "passes";
        return out.sameRefusal ? "fail" : out.inconclusive ? "unresolved" : "pass";
      },
      { maxTests: Math.max(0, ctx.remaining() - 2) },
    );
    const kept = found.result.map((x) => x.s);
    let minimal = kept.join("/");
    if (kept.length === 1 && kept[0]!.length > 1) {
      let tests = 0;
      minimal = await shortestWindow(
        kept[0]!,
        async (text) => {
          if (tests >= MAX_SEGMENT_TESTS || ctx.remaining() <= 1) return false;
          tests++;
          const out = await ctx.probe(
            onDecoy(ctx, base, [text], false),
            "shortening the path segment",
            "decoy",
          );
          out.record.finding = out.sameRefusal ? "still refused" : "passes";
          return out.sameRefusal;
        },
        { tokens: PATH_TOKENS, trimChars: false },
      );
    }
    await conclude(ctx, minimal);
  },
};

async function conclude(ctx: ProbeContext, minimal: string): Promise<void> {
  const decoded = percentDecoded(minimal);
  const family = guessFamily(decoded, "path");
  const filter = family ? null : await contentFilterCanary(ctx);
  const trigger: Trigger = { location: "path", name: null, minimal };
  if (decoded !== minimal) trigger.decoded = decoded;
  if (family) trigger.family = family;
  ctx.setTrigger(trigger);
  const shown = redactFragment("path", null, minimal).slice(0, 120);
  const also =
    decoded !== minimal
      ? ` (decoded: ${JSON.stringify(redactFragment("path", null, decoded).slice(0, 120))})`
      : "";
  ctx.addEvidence({
    source: "path search",
    fact: `The path text "${shown}"${also} is refused the same way under a path no application serves, and the rest of the path passes without it: the rule matches the path's text${family ? ` (it looks like ${family})` : ""}, not the route it names.`,
    weights: pathWeights(family, filter),
    data: { trigger },
  });
}
