// Reading the evidence so far: summed weight per cause, and the current lead.

import type { CauseId, Evidence } from "../model.js";
import type { InvestigationState } from "./types.js";

export function weightFor(evidence: Evidence[], cause: CauseId): number {
  let sum = 0;
  for (const e of evidence) sum += e.weights[cause] ?? 0;
  return sum;
}

export function leadingCause(state: InvestigationState): CauseId | null {
  return state.candidates[0]?.cause ?? null;
}

export function confidenceOf(state: InvestigationState, cause: CauseId): number {
  return state.candidates.find((c) => c.cause === cause)?.confidence ?? 0;
}

export function headerOf(req: { headers: Array<[string, string]> }, name: string): string | null {
  const lower = name.toLowerCase();
  return req.headers.find(([n]) => n.toLowerCase() === lower)?.[1] ?? null;
}

export function withoutHeaders(
  req: { headers: Array<[string, string]> },
  names: string[],
): Array<[string, string]> {
  const drop = new Set(names.map((n) => n.toLowerCase()));
  return req.headers.filter(([n]) => !drop.has(n.toLowerCase()));
}
