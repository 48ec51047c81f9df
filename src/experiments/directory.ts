// directory: a directory URL ("/docs/") refused by the web server itself may be a
// missing index (listing off) or a rule on the whole prefix (allow/deny, a deny
// location). One safe GET of a made-up name inside it tells them apart: a 404
// there means the directory itself was the problem; the same refusal means a rule
// covers everything under the prefix.

import type { Experiment } from "../investigate/types.js";
import { asSafe } from "./_requests.js";

function directoryUrl(url: string): URL | null {
  try {
    const u = new URL(url);
    return u.pathname.endsWith("/") && u.pathname !== "/" ? u : null;
  } catch {
    return null;
  }
}

export const directory: Experiment = {
  id: "directory",
  safety: "safe-method",
  cost: 1,
  appliesTo: (state) =>
    directoryUrl(state.target.url) !== null && state.baselineFingerprint.responder.layer === "web-server",
  priority: () => 8,
  async run(ctx) {
    const { state } = ctx;
    const u = directoryUrl(state.target.url)!;
    const child = new URL(u.href);
    child.pathname = `${u.pathname}${new URL(ctx.missingUrl()).pathname.slice(1)}`;
    child.search = "";
    const out = await ctx.probe(
      asSafe(state.target, "GET", child.href),
      "GET a made-up name inside the directory",
      "safe-method",
    );
    if (!out.response) return;
    if (out.sameRefusal) {
      out.record.finding = "refused the same way: a rule covers the whole prefix";
      ctx.addEvidence({
        source: `probe #${out.n}`,
        fact: `A made-up name inside ${u.pathname} is refused the same way (${out.response.status}): a rule covers everything under the prefix (an allow/deny list or a deny on the location), not a missing index file.`,
        // A rule on the path: a location deny (server-config) unless something points at an
        // allow list (an administrative path, a log line); not a file permission.
        weights: { "server-config": 0.5, "fs-permission": -0.5 },
      });
    } else if (out.response.status === 404) {
      out.record.finding = "404: only the directory itself is refused";
      ctx.addEvidence({
        source: `probe #${out.n}`,
        fact: `A made-up name inside ${u.pathname} gets 404, so only the directory URL itself is refused: no index file there while listings are off (or the directory is not readable).`,
        weights: { "server-config": 2.5, "ip-restriction": -2, waf: -1 },
      });
    } else {
      out.record.finding = `${out.response.status}: not the refusal`;
    }
  },
};
