// Evidence read from one recorded exchange alone, without sending anything.
import type { Evidence, Exchange, Responder } from "../../model.js";
import { csrfEvidence } from "./csrf.js";
import { jwtEvidence } from "./jwt.js";
import { oauthScopesEvidence } from "./oauth-scopes.js";
import { problemJsonEvidence } from "./problem-json.js";
import { rateLimitEvidence } from "./rate-limit.js";
import { redirectEvidence } from "./redirect.js";
import { statusEvidence } from "./status.js";
import { wwwAuthenticateEvidence } from "./www-authenticate.js";

export {
  csrfEvidence,
  jwtEvidence,
  oauthScopesEvidence,
  problemJsonEvidence,
  rateLimitEvidence,
  redirectEvidence,
  statusEvidence,
  wwwAuthenticateEvidence,
};

/**
 * All evidence one exchange holds. `responder` (from the fingerprint) only
 * labels facts; the fingerprint's own evidence is added by the caller.
 */
export function evidenceFromExchange(
  ex: Exchange,
  responder?: Responder,
  now: Date = new Date(),
  opts: { blockPage?: boolean } = {},
): Evidence[] {
  const sources: Array<() => Evidence[]> = [
    () => statusEvidence(ex),
    () => wwwAuthenticateEvidence(ex),
    () => jwtEvidence(ex, now),
    () => oauthScopesEvidence(ex),
    () => rateLimitEvidence(ex),
    () => csrfEvidence(ex),
    () => problemJsonEvidence(ex, opts.blockPage ?? false),
    () => redirectEvidence(ex),
  ];
  const out: Evidence[] = [];
  for (const source of sources) out.push(...source());
  if (responder?.product) {
    for (const e of out) {
      if (e.data && e.data.product === undefined && e.source === "response")
        e.data.responderProduct = responder.product;
    }
  }
  return out;
}
