// Turns the passes over the phases (one per combination of answers to the
// unknown facts) into the ConfigDecision: decided when every pass agrees,
// "unknown" with the open questions otherwise; with what the walk noticed on
// the way (.htaccess files httpd ignores, ModSecurity in scope).

import type { ConfigContext, ConfigDecision } from "../config-decision.js";
import * as fixText from "./fix-text.js";
import type { explore } from "./oracle.js";
import type { MappedWalk, Outcome, RequestPlan } from "./phases/state.js";

type Run = ReturnType<typeof explore<Outcome>>;

export function toConfigDecision(
  plan: RequestPlan,
  base: ConfigDecision,
  notes: string[],
  first: MappedWalk,
  run: Run,
): ConfigDecision {
  const outcomes = run.results.map((r) => r.result);
  const firstOutcome = outcomes[0] as Outcome;
  const agree =
    run.complete &&
    outcomes.every((o) => o.decision === firstOutcome.decision && o.status === firstOutcome.status);
  const { context, unknowns } = walkFindings(first, notes);
  if (!agree) return undecided(plan, base, context, unknowns, run);
  return {
    ...base,
    decision: firstOutcome.decision,
    status: firstOutcome.status,
    decidedBy: firstOutcome.decidedBy,
    context,
    unknowns: [...unknowns, ...firstOutcome.notes],
    fix: fixes(firstOutcome, first),
    cause: firstOutcome.cause,
    // Extension: the file or directory the URL maps to, for the file-system walk.
    filePath: first.mapped.diskKnown ? first.mapped.filename : null,
    isDirectory: first.isDirectory,
  } as ConfigDecision;
}

/** The sections that applied, and what the walk could not settle or saw httpd skip. */
function walkFindings(first: MappedWalk, notes: string[]): { context: ConfigContext[]; unknowns: string[] } {
  const context: ConfigContext[] = [...first.context];
  const unknowns = [...notes];
  if (!first.mapped.diskKnown) {
    unknowns.push(
      `${first.mapped.filename} is not on this machine: directory existence, index files and .htaccess files are not checked`,
    );
  }
  unknowns.push(...first.notes);
  for (const h of first.ignoredHtaccess) {
    const ao = h.allowOverride
      ? ` (AllowOverride at ${h.allowOverride.file}:${h.allowOverride.line})`
      : " (AllowOverride defaults to None)";
    unknowns.push(`${h.path} exists but httpd ignores it${ao}`);
  }
  const modsec = first.conf.modsecEngine;
  if (modsec && modsec.value !== "off") {
    const removed = first.conf.modsecRemoved.map((r) => r.args.join(" ")).join(", ");
    unknowns.push(
      `ModSecurity is active for this location (SecRuleEngine ${modsec.value} at ${modsec.ref.file}:${modsec.ref.line}${removed ? `; SecRuleRemoveById ${removed}` : ""}); whether a rule matches the request content cannot be predicted from the config`,
    );
    context.push({
      block: "SecRuleEngine",
      args: [modsec.value],
      file: modsec.ref.file,
      line: modsec.ref.line,
    });
  }
  return { context, unknowns };
}

function undecided(
  plan: RequestPlan,
  base: ConfigDecision,
  context: ConfigContext[],
  unknowns: string[],
  run: Run,
): ConfigDecision {
  const differing = [...run.questions.values()];
  return {
    ...base,
    decision: "unknown",
    context,
    unknowns: [
      ...unknowns,
      ...differing,
      ...(run.complete ? [] : ["too many unknown facts to try every combination"]),
    ],
    fix:
      plan.request.client === null && differing.some((q) => q.includes("client"))
        ? [fixText.giveClientAddress]
        : [],
  };
}

/** The outcome's fix, plus for a refusal the .htaccess httpd ignores and the WAF rule to exempt. */
function fixes(outcome: Outcome, first: MappedWalk): string[] {
  const fix = [...outcome.fix];
  if (outcome.decision !== "deny") return fix;
  for (const h of first.ignoredHtaccess.filter((x) => x.grants)) fix.push(fixText.honourHtaccess(h.path));
  if (first.conf.modsecEngine?.value === "on") fix.push(fixText.modsecRuleRemoval);
  return fix;
}
