// GitHub-style scope headers: X-OAuth-Scopes (what the token has) against
// X-Accepted-OAuth-Scopes (what the endpoint accepts).
import type { Evidence, Exchange } from "../../model.js";
import { headerValue } from "./_http.js";

const list = (v: string | undefined) =>
  (v ?? "")
    .split(",")
    .map((s) => s.trim())
    .filter(Boolean);

export function oauthScopesEvidence(ex: Exchange): Evidence[] {
  const h = ex.response.headers;
  const acceptedRaw = headerValue(h, "x-accepted-oauth-scopes");
  const hasRaw = headerValue(h, "x-oauth-scopes");
  if (acceptedRaw === undefined || hasRaw === undefined) return [];
  const accepted = list(acceptedRaw);
  const has = list(hasRaw);
  if (accepted.length === 0 || ![401, 403, 404].includes(ex.response.status)) return [];
  // GitHub's parent scopes cover children (repo covers repo:status).
  const covered = accepted.some((a) => has.some((s) => s === a || a.startsWith(`${s}:`)));
  if (covered) return [];
  return [
    {
      source: "response",
      fact: `The token has scopes "${has.join(", ") || "(none)"}" but this endpoint accepts "${accepted.join(", ")}" (X-Accepted-OAuth-Scopes).`,
      weights: { "insufficient-permission": 4 },
      data: { scope: accepted.join(" "), granted: has },
    },
  ];
}
