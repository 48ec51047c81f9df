// credentials: the request without Authorization, cookies and API keys. A 403
// that turns into a 401 (or a login redirect) means the credential was
// recognised and the identity lacks permission; the same 403 either way means
// the refusal comes before, or regardless of, identity. Removing a credential
// from a non-safe request on the original path is may-execute (the contract
// counts removal too), so without consent the comparison is made with GET.

import { couldExecute } from "../http/method-override.js";
import type { RequestModel } from "../model.js";
import { asSafe, credentialHeaders, describeStatus, dropHeaders, hasCredentials } from "./_requests.js";
import { headerValue } from "./compare.js";
import type { Experiment, ProbeContext, ProbeOutcome, ProbeSafety } from "./contract.js";
import { weightFor } from "./contract.js";

interface Answer {
  status: number | null;
  sameRefusal: boolean;
  refused: boolean;
  /**
   * A redirect. Only compared between the answers with and without credentials: a refusal
   * that becomes a redirect once the credential is gone sends the anonymous visitor
   * elsewhere (a login page, whatever its path is called).
   */
  redirect: boolean;
  n: number | null;
}

function answerOf(out: ProbeOutcome): Answer {
  const res = out.response;
  const status = res?.status ?? null;
  const location = res ? headerValue(res, "location") : null;
  return {
    status,
    sameRefusal: out.sameRefusal,
    refused: out.sameRefusal || status === 401 || status === 403,
    redirect: status !== null && status >= 300 && status < 400 && location !== null,
    n: out.n,
  };
}

function stripCredentials(req: RequestModel): RequestModel {
  return { ...req, headers: dropHeaders(req.headers, credentialHeaders(req)) };
}

function interpret(
  ctx: ProbeContext,
  how: string,
  withCreds: Answer,
  without: Answer,
  withoutOut: ProbeOutcome,
): void {
  const source = `probe #${without.n}`;
  const wantsLogin = without.status === 401 || (without.redirect && !withCreds.redirect);
  if (withCreds.refused && wantsLogin) {
    withoutOut.record.finding = `${describeStatus(without.status)}${without.redirect ? " (redirect)" : ""}: without credentials the server asks for them, so your credential is recognised`;
    ctx.addEvidence({
      source,
      fact: `${how}: without credentials the answer is ${without.redirect ? "a redirect (where the anonymous are sent)" : "401"}, with them ${describeStatus(withCreds.status)} — the server recognises your credential and the identity behind it lacks permission.`,
      weights:
        withCreds.status === 401
          ? { "credentials-invalid": 1 }
          : { "insufficient-permission": 3, "credentials-invalid": -1.5, "ip-restriction": -1 },
    });
    return;
  }
  if (withCreds.sameRefusal && without.sameRefusal) {
    withoutOut.record.finding = `refused the same way without credentials: the refusal does not depend on identity`;
    ctx.addEvidence({
      source,
      fact: `${how}: the request is refused the same way with and without credentials, so the refusal happens before, or regardless of, who you are.`,
      weights: {
        "insufficient-permission": -1.5,
        "credentials-invalid": -1.5,
        "ip-restriction": 0.5,
        "server-config": 0.5,
        waf: 0.3,
      },
    });
    return;
  }
  if (withCreds.refused && !without.refused && without.status !== null && without.status < 500) {
    withoutOut.record.finding = `${without.status} without credentials: the credential itself is what is refused`;
    ctx.addEvidence({
      source,
      fact: `${how}: without credentials the request passes (${without.status}) while with them it is refused — the credential itself is refused (invalid, expired, revoked, or matching a rule).`,
      weights: { "credentials-invalid": 2.5, waf: 0.5, "insufficient-permission": -0.5 },
    });
    return;
  }
  if (!withCreds.refused && wantsLogin) {
    withoutOut.record.finding = `${describeStatus(without.status)}: credentials are needed and yours are accepted for this method`;
    ctx.addEvidence({
      source,
      fact: `${how}: with your credentials the answer is ${describeStatus(withCreds.status)}, without them ${describeStatus(without.status)} — your credential is accepted, so the refusal of the original request is about what it does, not who you are.`,
      weights: { "credentials-invalid": -2, "insufficient-permission": 0.5 },
    });
    return;
  }
  withoutOut.record.finding = `${describeStatus(without.status)} without credentials (with: ${describeStatus(withCreds.status)})`;
}

export const credentials: Experiment = {
  id: "credentials",
  safety: "safe-method",
  cost: 2,
  appliesTo: (state) => hasCredentials(state.target),
  priority: (state) =>
    5 +
    2 *
      Math.max(
        0,
        weightFor(state.evidence, "credentials-invalid") +
          weightFor(state.evidence, "insufficient-permission"),
      ),
  async run(ctx) {
    const { state } = ctx;
    const m = state.target.method.toUpperCase();
    const baselineAnswer: Answer = {
      status: state.baseline.status,
      sameRefusal: true,
      refused: true,
      redirect: false,
      n: 1,
    };
    const executes = couldExecute(state.target);
    if (!executes || ctx.allowSideEffects) {
      const safety: ProbeSafety = executes ? "may-execute" : "safe-method";
      const out = await ctx.probe(stripCredentials(state.target), "your request without credentials", safety);
      if (out.inconclusive) return;
      interpret(ctx, `Your ${m} with and without credentials`, baselineAnswer, answerOf(out), out);
      return;
    }
    // Safe comparison: GET on the same URL with and without the credentials.
    const known = state.facts.safeMethods?.GET;
    let withCreds: Answer;
    if (known) {
      withCreds = {
        status: known.status,
        sameRefusal: known.sameRefusal,
        refused: known.sameRefusal || known.status === 401 || known.status === 403,
        redirect: false,
        n: null,
      };
    } else {
      const out = await ctx.probe(asSafe(state.target, "GET"), "GET with your credentials", "safe-method");
      if (out.inconclusive) return;
      withCreds = answerOf(out);
      out.record.finding = `${describeStatus(withCreds.status)} with credentials`;
    }
    if (ctx.remaining() <= 0) return;
    const out = await ctx.probe(
      asSafe(stripCredentials(state.target), "GET"),
      "GET without your credentials",
      "safe-method",
    );
    if (out.inconclusive) return;
    interpret(ctx, "A GET to the same URL", withCreds, answerOf(out), out);
    ctx.noteUnverified(
      `the ${m} itself was not resent without credentials (that could execute it); rerun with --allow-side-effects on a test account to compare directly.`,
      "credentials-invalid",
    );
  },
};
