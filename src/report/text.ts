// The terminal report: path with the refusing layer marked, verdict, trigger,
// evidence, fix, probes and next steps. The report is already redacted.

import type { Report } from "../model.js";
import type { Style } from "./style.js";
import { targetLine } from "./target.js";

const LAYER_ORDER = ["cdn", "waf", "proxy", "gateway", "web-server", "application", "unknown"];

function pct(x: number): string {
  return `${Math.round(x * 100)}%`;
}

function indentBlock(text: string, pad: string): string {
  return text
    .split("\n")
    .map((l, i) => (i === 0 ? l : pad + l))
    .join("\n");
}

function renderPath(report: Report, s: Style): string {
  const r = report.baseline.responder;
  const hops = ["client"];
  const relays = [...(r.relays ?? [])].sort(
    (a, b) => LAYER_ORDER.indexOf(a.layer) - LAYER_ORDER.indexOf(b.layer),
  );
  for (const relay of relays) hops.push(s.dim(`${relay.product ?? relay.layer} (${relay.layer}, relayed)`));
  const who = r.product ? `${r.product} (${r.layer})` : r.layer === "unknown" ? "unknown responder" : r.layer;
  hops.push(s.red(s.bold(`[${who}]`)) + s.red(" refused here"));
  return hops.join(" → ");
}

export function renderText(report: Report, s: Style): string {
  const out: string[] = [];
  const status = report.baseline.status === null ? "no answer" : String(report.baseline.status);
  const target = targetLine(report);
  const failure = report.baseline.failure;
  if (failure) {
    // Two lines: what happened, and that nothing was diagnosed (exit 4).
    out.push(`${s.bold("why403")} ${target} → ${s.red(s.bold(`no usable answer (${failure.kind})`))}`);
    out.push(
      `${failure.message}; nothing diagnosed (${report.probes.length} request${report.probes.length === 1 ? "" : "s"} sent).`,
    );
    return `${out.join("\n")}\n`;
  }
  out.push(`${s.bold("why403")} ${target} → ${s.bold(status)}`);
  out.push("");
  if (report.notRefused) {
    out.push(
      `${s.green("Not refused")}: the answer was ${status}, not a refusal (401, 403, 405, 419, 429, 451 or a block page).`,
    );
    for (const n of report.nextSteps ?? []) out.push(`  → ${indentBlock(n, "    ")}`);
    return `${out.join("\n")}\n`;
  }
  out.push(`${s.bold("Path     ")}${renderPath(report, s)}`);
  const r = report.baseline.responder;
  if (r.evidence.length)
    out.push(`${s.dim("         recognised by: ")}${s.dim(r.evidence.slice(0, 3).join("; "))}`);
  if (r.references?.length) {
    out.push(
      `${s.dim("         quote to the site operator: ")}${r.references.map((x) => `${x.label} ${x.value}`).join(", ")}`,
    );
  }
  const v = report.verdict;
  if (v) {
    out.push(`${s.bold("Cause    ")}${s.yellow(s.bold(v.cause))} ${s.dim(`(${pct(v.confidence)})`)}`);
    out.push(`         ${indentBlock(v.summary, "         ")}`);
  } else {
    out.push(`${s.bold("Cause    ")}${s.yellow("not pinned")} — the evidence does not single out one cause`);
  }
  const t = report.trigger;
  if (t) {
    const name = t.name ? `${t.name} ` : "";
    out.push(
      `${s.bold("Trigger  ")}${t.location} ${name}${s.cyan(JSON.stringify(t.minimal))}${t.family ? s.dim(` (${t.family})`) : ""}`,
    );
    for (const p of t.parts ?? []) {
      if (p.value === t.minimal && p.name === t.name) continue;
      out.push(`         + ${p.location} ${p.name ?? ""} ${s.cyan(JSON.stringify(p.value))}`);
    }
  }
  if (v?.evidence.length) {
    out.push("");
    out.push(s.bold("Evidence"));
    for (const e of v.evidence) out.push(`  • ${indentBlock(e, "    ")}`);
  }
  if (v?.fix.length) {
    out.push("");
    out.push(s.bold("Fix"));
    for (const [i, f] of v.fix.entries()) out.push(`  ${i + 1}. ${indentBlock(f, "     ")}`);
  }
  const others = report.candidates.filter((c) => c.cause !== v?.cause && c.confidence >= 0.05);
  if (others.length) {
    out.push("");
    out.push(
      `${s.dim("Other candidates: ")}${others.map((c) => `${c.cause} ${pct(c.confidence)}`).join(", ")}`,
    );
  }
  if (report.probes.length) {
    out.push("");
    out.push(
      s.bold(
        `Probes (${report.probes.length} sent, ${report.sideEffects.unsafeProbes} that the application could execute)`,
      ),
    );
    report.probes.forEach((p, i) => {
      const st = p.status === null ? (p.error ?? "error") : String(p.status);
      const safety = p.safety ? s.dim(`[${p.safety}] `) : "";
      out.push(`  #${i + 1} ${safety}${p.method} ${p.url} → ${st}`);
      out.push(`     ${s.dim(p.purpose)}${p.finding ? `: ${p.finding}` : ""}`);
    });
  }
  if (report.nextSteps?.length) {
    out.push("");
    out.push(s.bold("Next steps"));
    for (const n of report.nextSteps) out.push(`  → ${indentBlock(n, "    ")}`);
  }
  return `${out.join("\n")}\n`;
}
