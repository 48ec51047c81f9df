// A Markdown report for tickets and issues: verdict, evidence, fix, probe table.
import type { Report } from "../model.js";
import { targetLine } from "./target.js";

function cell(s: string): string {
  return s.replace(/\|/g, "\\|").replace(/\n/g, " ");
}

export function renderMarkdown(report: Report, curlLine?: string): string {
  const out: string[] = [];
  const v = report.verdict;
  out.push(`## why403: ${targetLine(report)} → ${report.baseline.status ?? "no answer"}`);
  out.push("");
  const r = report.baseline.responder;
  const relays = (r.relays ?? []).map((x) => `${x.product ?? x.layer} (${x.layer})`);
  const failure = report.baseline.failure;
  out.push(
    failure
      ? `**No usable answer** (${failure.kind}): ${failure.message}`
      : `**Refused by:** ${r.product ?? "unknown product"} (${r.layer})${relays.length ? `, relayed through ${relays.join(", ")}` : ""}`,
  );
  if (r.references?.length)
    out.push(`**References:** ${r.references.map((x) => `${x.label} \`${x.value}\``).join(", ")}`);
  out.push("");
  if (v) {
    out.push(`**Cause:** \`${v.cause}\` (confidence ${Math.round(v.confidence * 100)}%)`);
    out.push("");
    out.push(v.summary);
  } else {
    out.push("**Cause:** not pinned.");
  }
  if (report.trigger) {
    const t = report.trigger;
    out.push("");
    out.push(
      `**Trigger:** ${t.location}${t.name ? ` \`${t.name}\`` : ""}: \`${t.minimal.replace(/`/g, "'")}\`${t.family ? ` (${t.family})` : ""}`,
    );
  }
  if (v?.evidence.length) {
    out.push("", "### Evidence", "");
    for (const e of v.evidence) out.push(`- ${e.replace(/\n/g, " ")}`);
  }
  if (v?.fix.length) {
    out.push("", "### Fix", "");
    v.fix.forEach((f, i) => {
      const [first, ...rest] = f.split("\n");
      out.push(`${i + 1}. ${first}`);
      if (rest.length) out.push("", "   ```", ...rest.map((l) => `   ${l}`), "   ```");
    });
  }
  if (report.probes.length) {
    out.push("", "### Probes", "", "| # | safety | request | status | finding |", "|---|---|---|---|---|");
    report.probes.forEach((p, i) => {
      out.push(
        `| ${i + 1} | ${p.safety ?? ""} | ${cell(`${p.method} ${p.url}`)} | ${p.status ?? cell(p.error ?? "error")} | ${cell(`${p.purpose}${p.finding ? `: ${p.finding}` : ""}`)} |`,
      );
    });
    out.push("", `Probes the application could execute: ${report.sideEffects.unsafeProbes}.`);
  }
  if (report.nextSteps?.length) {
    out.push("", "### Next steps", "");
    for (const n of report.nextSteps) out.push(`- ${n.replace(/\n/g, " ")}`);
  }
  if (curlLine && /^https?:/i.test(report.target.url))
    out.push("", "### Request (secrets redacted)", "", "```sh", curlLine, "```");
  return `${out.join("\n")}\n`;
}
