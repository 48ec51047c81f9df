// A refused cell's cause in a few words, for a table cell or a CI failure line:
// "insufficient-permission (JWT lacks scope projects:write)". Built from the
// data of the evidence that carried the verdict, never from names alone.
import type { CauseId, Evidence, Report } from "../model.js";
import { redactText } from "../redact.js";

/** CRS rules that only add up the anomaly score: they name no content, the rules before them do. */
const SCORE_ONLY_RULES = new Set(["949110", "959100", "980130", "980140"]);

/** Shortest weight that counts as the evidence carrying a cause. */
const CARRIES = 2;

type Phrase = (carrying: Evidence[]) => string | null;

/** The first value of `key` among the evidence, strongest first. */
function first<T>(carrying: Evidence[], pick: (e: Evidence) => T | null): T | null {
  for (const e of carrying) {
    const v = pick(e);
    if (v !== null) return v;
  }
  return null;
}

const PHRASES: Phrase[] = [
  (c) =>
    first(c, (e) => {
      const ids = (e.data?.ruleIds as string[] | undefined)?.filter((id) => !SCORE_ONLY_RULES.has(id)) ?? [];
      if (ids.length === 0) return null;
      const who = e.data?.product === "modsecurity" || e.data?.product === "coraza" ? "CRS" : "rule";
      return `${who} ${ids.slice(0, 4).join(", ")}`;
    }),
  (c) => {
    // The decoded token says more than the challenge: prefer "JWT lacks" when the token was read.
    const jwt = first(c, (e) => (typeof e.data?.scope === "string" && e.data.alg ? e.data.scope : null));
    if (jwt) return `JWT lacks scope ${jwt}`;
    const scope = first(c, (e) => (typeof e.data?.scope === "string" && e.data.scope ? e.data.scope : null));
    return scope ? `token lacks scope ${scope}` : null;
  },
  (c) => first(c, (e) => (e.data?.expired === true ? "token expired" : null)),
  (c) => first(c, (e) => (e.data?.credentialsSent === false ? "no credentials sent" : null)),
  (c) => first(c, (e) => (typeof e.data?.origin === "string" ? `Origin ${e.data.origin} refused` : null)),
  (c) =>
    first(c, (e) =>
      typeof e.data?.field === "string" ? `CSRF token ${e.data.field} missing or wrong` : null,
    ),
  (c) => first(c, (e) => (typeof e.data?.limit === "number" ? `limit ${e.data.limit}` : null)),
  (c) => first(c, (e) => (typeof e.data?.message === "string" ? `"${clip(e.data.message)}"` : null)),
];

function clip(s: string): string {
  const flat = redactText(s.replace(/\s+/g, " ").trim());
  return flat.length > 70 ? `${flat.slice(0, 69)}…` : flat;
}

/** Where the content that triggered a content rule sits, when the evidence located it. */
function triggerPlace(evidence: Evidence[], cause: CauseId): string | null {
  for (const e of evidence) {
    const t = e.data?.trigger as { location?: string; name?: string | null } | undefined;
    if (t?.location && (e.weights[cause] ?? 0) > 0) return t.name ? `on ${t.name}` : `in the ${t.location}`;
  }
  return null;
}

/** The words after the cause id: what the strongest evidence for it says, or who answered. */
export function causeDetail(report: Report, evidence: Evidence[]): string | null {
  const cause = report.verdict?.cause;
  const responder = report.baseline.responder;
  const who = responder.product ? `${responder.product} ${responder.layer}` : null;
  if (!cause) return who ? `not pinned; answered by ${who}` : "not pinned";
  const carrying = evidence
    .filter((e) => (e.weights[cause] ?? 0) >= CARRIES)
    .sort((a, b) => (b.weights[cause] ?? 0) - (a.weights[cause] ?? 0));
  const parts: string[] = [];
  for (const phrase of PHRASES) {
    const found = phrase(carrying);
    if (found) {
      parts.push(found);
      break;
    }
  }
  const place = triggerPlace(evidence, cause);
  if (place) parts.push(place);
  if (parts.length === 0 && who) parts.push(`by ${who}`);
  return parts.length ? parts.join(" ") : null;
}

/** "insufficient-permission (JWT lacks scope orders:write)", or the detail alone when no cause was pinned. */
export function describeCause(cause: CauseId | null, detail: string | null): string {
  if (!cause) return detail ?? "not pinned";
  return detail ? `${cause} (${detail})` : cause;
}
