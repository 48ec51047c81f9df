// The one replay of the user's own request, redirects followed by hand with
// curl -L semantics so each hop (and a POST turned into a GET) is on record.
// Only the first request is "the single replay": a hop that would send a
// non-safe method, a body or a method override again (307/308, or -X keeping
// the method) is may-execute, so without --allow-side-effects the replay stops
// before it and says what curl -L would have sent; with consent it is sent,
// counted and listed like any other request the application could execute.

import type { FingerprintResult } from "../fingerprint/match.js";
import { couldExecute } from "../http/method-override.js";
import { nextRedirect } from "../http/redirects.js";
import type { NetworkFailure } from "../http/types.js";
import { isSafeMethod } from "../http/types.js";
import { MAX_REDIRECTS } from "../limits.js";
import type { Exchange, RequestModel } from "../model.js";
import { redactUrl } from "../redact.js";
import type { Prober } from "./prober.js";

export type ReplayResult =
  | {
      ok: true;
      exchange: Exchange;
      fingerprint: FingerprintResult;
      /** Set when the replay stopped before a may-execute hop: what curl -L would have sent. */
      withheldHop?: string;
    }
  | { ok: false; failure: NetworkFailure };

/** What curl -L would send on this hop, in words (the URL redacted). */
function resendDescription(current: RequestModel, next: RequestModel, status: number): string {
  const size = next.body?.length ?? 0;
  const body = size > 0 ? ` with the same ${size}-byte body` : "";
  const override = !isSafeMethod(next.method) ? "" : " (a body or method override makes it more than a read)";
  const rule =
    status === 307 || status === 308
      ? `${status} keeps the method and body`
      : `-X ${current.method} keeps the method on a ${status}`;
  return `curl -L would send ${next.method} ${redactUrl(next.url)}${body} again (${rule})${override}`;
}

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
  let pendingUnsafe: string | null = null;
  for (let hop = 0; ; hop++) {
    const out = await prober.send(
      current,
      hop === 0 ? "replay of your request" : `replay: redirect hop ${hop}`,
      pendingUnsafe ? "may-execute" : "replay",
    );
    if (pendingUnsafe) prober.countUnsafe(out.n, current, pendingUnsafe);
    pendingUnsafe = null;
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
    if (couldExecute(step.next)) {
      const what = resendDescription(current, step.next, out.response.status);
      const why = `redirect hop ${hop + 1} re-sends ${step.next.method}${step.next.body?.length ? " with the body" : ""} to a path of the origin`;
      if (!prober.allowSideEffects || !prober.hasUnsafeRoom()) {
        const reason = prober.allowSideEffects
          ? "the side-effect budget (--max-unsafe) is spent"
          : "that could execute the action again; re-run with --allow-side-effects to follow it";
        out.record.finding = `${out.response.status}: redirect not followed: ${what}; ${reason}`;
        return {
          ok: true,
          exchange,
          fingerprint: out.fingerprint,
          withheldHop: `The replay stopped before redirect hop ${hop + 1}: ${what}. ${reason[0]!.toUpperCase()}${reason.slice(1)}, or diagnose the redirect's target directly (why403 curl with that URL).`,
        };
      }
      pendingUnsafe = why;
    }
    if (step.methodChanged) notes.push(`curl -L turns this ${current.method} into GET`);
    else if (step.bodyDropped) notes.push("the body is dropped");
    if (step.credentialsDropped) notes.push("credentials are not sent to the other host");
    out.record.finding = `${out.response.status}: ${notes.join("; ")}`;
    hops.push({ request: current, response: out.response, redirects: [] });
    current = step.next;
  }
}
