// `why403 compare` as text: the environments side by side, then what differs.
import type { Style } from "../cli/terminal.js";
import type { CompareResult, EnvironmentResult } from "../compare/result.js";

function pad(text: string, width: number): string {
  return text + " ".repeat(Math.max(0, width - [...text].length));
}

/** The columns a person reads at a glance: status, who answered, why, on what. */
export function compareColumns(e: EnvironmentResult): string[] {
  if (e.failure) return [e.base, "—", "—", `no usable answer: ${e.failure.kind}`, "—"];
  const status = `${e.status ?? "—"}${e.refused ? "" : " (not refused)"}`;
  const responder = e.responder
    ? `${e.responder.layer}${e.responder.product ? ` / ${e.responder.product}` : ""}`
    : "—";
  const cause = !e.refused
    ? "—"
    : e.verdict
      ? `${e.verdict.cause} (${e.verdict.confidence.toFixed(2)})`
      : "not pinned";
  const trigger = e.trigger ? `${e.trigger.location}${e.trigger.name ? ` ${e.trigger.name}` : ""}` : "—";
  return [e.base, status, responder, cause, trigger];
}

export const COMPARE_HEADINGS = ["environment", "status", "responder", "cause", "trigger"];

export function renderCompareText(result: CompareResult, s: Style): string {
  const rows = result.environments.map(compareColumns);
  const widths = COMPARE_HEADINGS.map((h, i) => Math.max(h.length, ...rows.map((r) => [...r[i]!].length)));
  const line = (cells: string[]) =>
    cells
      .map((c, i) => pad(c, widths[i]!))
      .join("  ")
      .trimEnd();
  const out = [
    s.bold(`${result.request.method} ${result.request.path} in ${result.environments.length} environments`),
    "",
  ];
  out.push(s.bold(line(COMPARE_HEADINGS)));
  result.environments.forEach((e, i) => {
    const text = line(rows[i]!);
    out.push(e.failure ? s.yellow(text) : e.refused ? s.red(text) : s.green(text));
  });
  out.push("");
  if (result.differences.length) {
    out.push(s.bold("Differences:"));
    for (const d of result.differences) out.push(`  • ${d}`);
  } else out.push("Same outcome everywhere.");
  for (const e of result.environments) {
    if (e.summary) out.push("", `${s.bold(e.base)}: ${e.summary}`);
    if (e.failure) out.push("", `${s.bold(e.base)}: ${e.failure.message}`);
  }
  if (result.notes.length) {
    out.push("", s.bold("Notes:"));
    for (const n of result.notes) out.push(`  ${s.dim(n)}`);
  }
  return `${out.join("\n")}\n`;
}
