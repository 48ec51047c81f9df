// `why403 compare --html FILE`: the comparison in the single-report page's style
// (same sheet, same path diagram), one column of facts per environment.
import type { CompareResult } from "../compare/result.js";
import type { Report } from "../model.js";
import { COMPARE_HEADINGS, compareColumns } from "./compare-text.js";
import { esc, page, pathDiagram } from "./html.js";

export function renderCompareHtml(result: CompareResult, reports: Array<Report | null>): string {
  const title = `${result.request.method} ${result.request.path} in ${result.environments.length} environments`;
  const head = `<tr>${COMPARE_HEADINGS.map((h) => `<th>${esc(h)}</th>`).join("")}</tr>`;
  const rows = result.environments
    .map((e) => {
      const cls = e.failure ? "" : e.refused ? ' style="color:var(--bad)"' : ' style="color:var(--ok)"';
      return `<tr${cls}>${compareColumns(e)
        .map((c) => `<td>${esc(c)}</td>`)
        .join("")}</tr>`;
    })
    .join("");
  const differences = result.differences.length
    ? `<div class="verdict"><ul class="ev">${result.differences.map((d) => `<li>${esc(d)}</li>`).join("")}</ul></div>`
    : `<p>Same outcome everywhere.</p>`;
  const each = result.environments
    .map((e, i) => {
      const report = reports[i];
      const path = report && e.refused ? pathDiagram(report) : "";
      const summary = e.summary ? `<p>${esc(e.summary)}</p>` : "";
      const fix = report?.verdict?.fix.length
        ? `<ul class="ev">${report.verdict.fix.map((f) => `<li>${esc(f)}</li>`).join("")}</ul>`
        : "";
      const status = e.failure
        ? esc(e.failure.message)
        : `status ${e.status ?? "—"}${e.refused ? "" : ", not refused"}`;
      return `<h2>${esc(e.base)}</h2><p class="muted">${status} · ${e.probes} request${e.probes === 1 ? "" : "s"} sent</p>${path}${summary}${fix}`;
    })
    .join("");
  const notes = result.notes.length
    ? `<h2>Notes</h2><ul class="ev">${result.notes.map((n) => `<li class="muted">${esc(n)}</li>`).join("")}</ul>`
    : "";
  return page(
    `why403 compare: ${title}`,
    `<h1>${esc(title)}</h1><div class="tablewrap"><table>${head}${rows}</table></div><h2>Differences</h2>${differences}${each}${notes}`,
  );
}
