// From a status or a message's words to a cause. Server messages with known
// wording are classified by their own parsers; this is for the rest
// (application logs, WAF lines, free text).
import wordRules from "../../../data/logs/words.json" with { type: "json" };
import type { CauseId } from "../../model.js";
import type { LogCause } from "./types.js";

/** Ordered: the first that matches wins (CSRF before "origin", credentials before "permission"). */
const WORD_RULES: Array<[CauseId, RegExp]> = wordRules.rules.map((r) => [
  r.cause as CauseId,
  new RegExp(r.match, "i"),
]);

/** The cause named by a message's words, or null. */
export function causeFromWords(text: string): CauseId | null {
  for (const [cause, re] of WORD_RULES) if (re.test(text)) return cause;
  return null;
}

/** What a status alone suggests (weak): 401 credentials, 419 CSRF (Laravel), 429 rate limit, 405 method rule. */
export function causeFromStatus(status: number | null): LogCause {
  for (const [s, cause] of STATUS_CAUSES) if (s === status) return cause;
  return "unknown";
}

/** Words that make an application line a refusal even without a status. */
export const DENIAL_WORDS =
  /forbidden|\bcsrf\b|denied|unauthori[sz]ed|not authori[sz]ed|rate.?limit|too many requests|not allowed|refused|rejected|blocked|insufficient.?scope|token expired|invalid signature/i;

/** CRS rules that only add up or report the score; the rule to show is one that matched content. */
const SCORING_RULES = new Set([
  "949110",
  "949111",
  "959100",
  "959101",
  "980130",
  "980140",
  "980145",
  "980170",
]);

export function isScoringRule(id: string): boolean {
  return SCORING_RULES.has(id);
}

/** The rule to show for a group: the first that matched content, else the first. */
export function decisiveRule(ids: string[]): string | null {
  return ids.find((id) => !isScoringRule(id)) ?? ids[0] ?? null;
}

/** CRS 912xxx: its DoS protection. */
export const RATE_RULE_FAMILY_RE = /^912\d{3}$/;

/** Status → weak cause, as data (the statuses causeFromStatus names). */
export const STATUS_CAUSES: ReadonlyArray<readonly [number, CauseId]> = [
  [401, "credentials-invalid"],
  [419, "csrf"],
  [429, "rate-limit"],
  [405, "server-config"],
];

/** Cause of a WAF refusal by rule family: CRS 912 is its DoS protection (a rate), the rest content rules. */
export function causeFromRules(ids: string[]): CauseId {
  return RATE_RULE_FAMILY_RE.test(decisiveRule(ids) ?? "") ? "rate-limit" : "waf";
}
