// The one replay of the user's own request, redirects followed by hand with
// curl -L semantics so each hop (and a POST turned into a GET) is on record.

import { nextRedirect } from "../http/redirects.js";
import type { NetworkFailure } from "../http/types.js";
import { MAX_REDIRECTS } from "../limits.js";
import type { Exchange, RequestModel } from "../model.js";
import { redactUrl } from "../redact.js";
import type { FingerprintResult } from "./deps.js";
import type { Prober } from "./prober.js";

export type ReplayResult =
  | { ok: true; exchange: Exchange; fingerprint: FingerprintResult }
  | { ok: false; failure: NetworkFailure };

/** Why `to` is another origin than `from` ("another host (h)", "another scheme (https:)"), or null. */
function otherOrigin(from: string, to: string): string | null {
  const a = new URL(from);
  const b = new URL(to);
  if (a.hostname !== b.hostname) return `another host (${b.host})`;
  if (a.protocol !== b.protocol) return `another scheme (${b.protocol})`;
  if (a.port !== b.port) return `another port (${b.port || "default"})`;
  return null;
}

export async function replay(request: RequestModel, prober: Prober): Promise<ReplayResult> {
  const hops: Exchange[] = [];
  let current = request;
  for (let hop = 0; ; hop++) {
    const out = await prober.send(
      current,
      hop === 0 ? "replay of your request" : `replay: redirect hop ${hop}`,
      "replay",
    );
    if (!out.response || !out.fingerprint) return { ok: false, failure: out.failure! };
    const exchange: Exchange = {
      request: current,
      response: out.response,
      redirects: [...hops],
      startedAt: new Date(),
    };
    const step = request.options.followRedirects ? nextRedirect(current, out.response) : null;
    if (!step || hop >= MAX_REDIRECTS) {
      if (step) out.record.finding += `; stopped after ${MAX_REDIRECTS} redirects`;
      return { ok: true, exchange, fingerprint: out.fingerprint };
    }
    const notes = [`redirect to ${redactUrl(step.next.url)}`];
    // Never follow to another origin (host, port or scheme): it is not the server
    // being diagnosed, and may be anywhere. Say so and diagnose the hop we have.
    const elsewhere = otherOrigin(current.url, step.next.url);
    if (elsewhere) {
      out.record.finding = `${out.response.status}: ${notes[0]} not followed: ${elsewhere} (why403 only sends to the request's own origin; diagnose that URL separately if it matters)`;
      return { ok: true, exchange, fingerprint: out.fingerprint };
    }
    if (step.methodChanged) notes.push(`curl -L turns this ${current.method} into GET`);
    else if (step.bodyDropped) notes.push("the body is dropped");
    if (step.credentialsDropped) notes.push("credentials are not sent to the other host");
    out.record.finding = `${out.response.status}: ${notes.join("; ")}`;
    hops.push({ request: current, response: out.response, redirects: [] });
    current = step.next;
  }
}
