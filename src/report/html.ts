// Self-contained HTML reports: no external fonts, scripts or images, so the file
// opens offline and from a mail attachment. Light and dark schemes, narrow screens.
import type { Report } from "../model.js";
import type { LogsReportLike } from "./logs-text.js";
import { targetLine } from "./target.js";

export function esc(s: string): string {
  return s.replace(
    /[&<>"']/g,
    (c) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" })[c]!,
  );
}

const STYLE = `
:root{--bg:#fff;--fg:#1d2330;--muted:#5b6577;--card:#f5f7fa;--line:#d9dee7;--bad:#c62828;--bad-bg:#fdecea;--ok:#2e7d32;--accent:#1f5fbf;--mark:#fff3b0}
@media (prefers-color-scheme:dark){:root{--bg:#12151b;--fg:#e6e9ef;--muted:#9aa4b5;--card:#1b2029;--line:#2c3340;--bad:#ff6b6b;--bad-bg:#3a1d1d;--ok:#7bd88f;--accent:#7aa7ff;--mark:#5c4b00}}
*{box-sizing:border-box}body{margin:0;font:15px/1.5 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;background:var(--bg);color:var(--fg)}
main{max-width:1100px;margin:0 auto;padding:20px}
h1{font-size:1.3em;margin:.2em 0;word-break:break-all}h2{font-size:1.05em;margin:1.6em 0 .5em;border-bottom:1px solid var(--line);padding-bottom:.2em}
.muted{color:var(--muted)}code,pre{font:13px/1.45 ui-monospace,SFMono-Regular,Menlo,Consolas,monospace}
pre{background:var(--card);border:1px solid var(--line);border-radius:6px;padding:10px;overflow-x:auto;white-space:pre-wrap;word-break:break-word;margin:.3em 0}
.path{display:flex;flex-wrap:wrap;align-items:center;gap:6px;margin:10px 0}
.hop{border:1px solid var(--line);border-radius:8px;padding:8px 12px;background:var(--card);min-width:110px}
.hop .layer{font-size:.75em;text-transform:uppercase;letter-spacing:.05em;color:var(--muted)}
.hop.refused{border:2px solid var(--bad);background:var(--bad-bg)}.hop.refused .tag{color:var(--bad);font-weight:600;font-size:.8em}
.arrow{color:var(--muted)}
.verdict{border-left:4px solid var(--bad);background:var(--card);padding:10px 14px;border-radius:4px}
.cause{font-weight:700;font-size:1.15em}.conf{color:var(--muted)}
ul.ev li{margin:.25em 0}.src{font-size:.8em;color:var(--muted);margin-left:.4em}
table{border-collapse:collapse;width:100%;font-size:.9em}th,td{border-bottom:1px solid var(--line);padding:6px;text-align:left;vertical-align:top}
.tablewrap{overflow-x:auto}
.fix{position:relative}.fix pre{padding-right:72px}.fix button{position:absolute;top:6px;right:6px;font-size:12px;padding:2px 8px;border-radius:4px;border:1px solid var(--line);background:var(--bg);color:var(--fg);cursor:pointer}
mark{background:var(--mark);color:inherit;padding:0 1px;border-radius:2px}
.pill{display:inline-block;border-radius:10px;padding:0 8px;font-size:.8em;border:1px solid var(--line)}
.pill.may-execute{border-color:var(--bad);color:var(--bad)}.pill.decoy,.pill.safe-method{color:var(--ok);border-color:var(--ok)}
.bars{display:flex;align-items:flex-end;gap:2px;height:140px;border-bottom:1px solid var(--line);margin-top:8px}
.bar{flex:1;display:flex;flex-direction:column-reverse;min-width:3px}.seg{width:100%}
.legend span{display:inline-block;margin-right:12px;font-size:.85em}.legend i{display:inline-block;width:10px;height:10px;margin-right:4px;border-radius:2px}
@media (max-width:600px){main{padding:12px}.hop{min-width:0;flex:1 1 100%}.arrow{transform:rotate(90deg)}}
`;

const SCRIPT = `
document.querySelectorAll('button[data-copy]').forEach(function(b){b.addEventListener('click',function(){
var t=document.getElementById(b.getAttribute('data-copy')).textContent;
function done(){b.textContent='Copied';setTimeout(function(){b.textContent='Copy'},1500)}
if(navigator.clipboard&&navigator.clipboard.writeText){navigator.clipboard.writeText(t).then(done,function(){fallback(t);done()})}else{fallback(t);done()}
function fallback(x){var a=document.createElement('textarea');a.value=x;document.body.appendChild(a);a.select();try{document.execCommand('copy')}catch(e){}a.remove()}
})});
`;

export function page(title: string, body: string): string {
  return `<!doctype html><html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width,initial-scale=1"><meta name="color-scheme" content="light dark"><title>${esc(title)}</title><style>${STYLE}</style></head><body><main>${body}</main><script>${SCRIPT}</script></body></html>\n`;
}

/** Highlights every occurrence of the trigger's fragments in already-escaped text. */
function highlight(text: string, needles: string[]): string {
  let html = esc(text);
  for (const n of needles.filter((x) => x.length > 0).sort((a, b) => b.length - a.length)) {
    for (const form of new Set([n, JSON.stringify(n).slice(1, -1), encodeURIComponent(n)])) {
      const e = esc(form);
      if (e && html.includes(e)) html = html.split(e).join(`<mark>${e}</mark>`);
    }
  }
  return html;
}

const LAYER_ORDER = ["cdn", "waf", "proxy", "gateway", "web-server", "application"];

export function pathDiagram(report: Report): string {
  const r = report.baseline.responder;
  const hops: string[] = [`<div class="hop" data-layer="client"><div class="layer">client</div>why403</div>`];
  const relays = [...(r.relays ?? [])].sort(
    (a, b) => LAYER_ORDER.indexOf(a.layer) - LAYER_ORDER.indexOf(b.layer),
  );
  for (const relay of relays) {
    hops.push(
      `<div class="hop" data-layer="${esc(relay.layer)}"><div class="layer">${esc(relay.layer)}</div>${esc(relay.product ?? "unknown")}<div class="muted" style="font-size:.8em">passed it through</div></div>`,
    );
  }
  hops.push(
    `<div class="hop refused" data-layer="${esc(r.layer)}" data-refused="true"><div class="layer">${esc(r.layer)}</div>${esc(r.product ?? "unknown product")}<div class="tag">✖ refused here</div></div>`,
  );
  const idx = LAYER_ORDER.indexOf(r.layer);
  if (idx >= 0 && idx < LAYER_ORDER.length - 1 && r.layer !== "application") {
    hops.push(
      `<div class="hop" data-layer="behind" style="opacity:.55"><div class="layer">behind it</div>not reached</div>`,
    );
  }
  return `<div class="path" role="img" aria-label="request path">${hops.join('<span class="arrow">→</span>')}</div>`;
}

export function renderHtml(report: Report, curlLine?: string): string {
  const v = report.verdict;
  const r = report.baseline.responder;
  const parts: string[] = [];
  parts.push(`<p class="muted">why403 report · ${esc(report.mode ?? "")}</p>`);
  parts.push(`<h1>${esc(targetLine(report))} → ${report.baseline.status ?? "no answer"}</h1>`);
  parts.push("<h2>Path</h2>", pathDiagram(report));
  if (r.evidence.length) parts.push(`<p class="muted">Recognised by: ${r.evidence.map(esc).join("; ")}</p>`);
  if (r.references?.length) {
    parts.push(
      `<p>Quote to the site operator: ${r.references.map((x) => `${esc(x.label)} <code>${esc(x.value)}</code>`).join(", ")}</p>`,
    );
  }
  parts.push("<h2>Verdict</h2>");
  if (v) {
    parts.push(
      `<div class="verdict" id="verdict" data-cause="${esc(v.cause)}"><span class="cause">${esc(v.cause)}</span> <span class="conf">${Math.round(v.confidence * 100)}% confidence</span><p>${esc(v.summary)}</p></div>`,
    );
  } else {
    parts.push(
      `<div class="verdict" id="verdict" data-cause=""><span class="cause">No single cause</span><p>The evidence does not single out one cause.</p></div>`,
    );
  }
  const shown = report.candidates.filter((c) => c.confidence >= 0.01);
  if (shown.length > 1) {
    parts.push(
      `<p class="muted">Candidates: ${shown.map((c) => `${esc(c.cause)} ${Math.round(c.confidence * 100)}%`).join(" · ")}</p>`,
    );
  }
  if (v?.evidence.length) {
    parts.push('<h2>Evidence</h2><ul class="ev">');
    for (const e of v.evidence) {
      const m = /^\[([^\]]+)\]\s*(.*)$/s.exec(e);
      parts.push(m ? `<li>${esc(m[2]!)}<span class="src">${esc(m[1]!)}</span></li>` : `<li>${esc(e)}</li>`);
    }
    parts.push("</ul>");
  }
  const t = report.trigger;
  const needles = t ? [t.minimal, ...(t.parts ?? []).map((p) => p.value)] : [];
  if (t) {
    parts.push(
      `<h2>Trigger</h2><p>${esc(t.location)}${t.name ? ` <code>${esc(t.name)}</code>` : ""}: <mark>${esc(t.minimal)}</mark>${t.family ? ` <span class="muted">(${esc(t.family)})</span>` : ""}</p>`,
    );
  }
  if (curlLine) {
    parts.push(
      `<h2>Request <span class="muted" style="font-weight:normal">(secrets redacted)</span></h2><pre id="request">${highlight(curlLine, needles)}</pre>`,
    );
  }
  if (v?.fix.length) {
    parts.push("<h2>Fix</h2>");
    v.fix.forEach((f, i) => {
      parts.push(
        `<div class="fix"><pre id="fix-${i}">${esc(f)}</pre><button type="button" data-copy="fix-${i}">Copy</button></div>`,
      );
    });
  }
  if (report.probes.length) {
    parts.push(
      `<h2>Probes</h2><p class="muted">${report.probes.length} sent · ${report.sideEffects.unsafeProbes} that the application could execute</p><div class="tablewrap"><table id="probes"><thead><tr><th>#</th><th>safety</th><th>request</th><th>status</th><th>what it showed</th></tr></thead><tbody>`,
    );
    report.probes.forEach((p, i) => {
      parts.push(
        `<tr><td>${i + 1}</td><td><span class="pill ${esc(p.safety ?? "")}">${esc(p.safety ?? "")}</span></td><td><code>${esc(p.method)} ${esc(p.url)}</code></td><td>${p.status ?? esc(p.error ?? "error")}</td><td>${esc(p.purpose)}${p.finding ? `: ${esc(p.finding)}` : ""}</td></tr>`,
      );
    });
    parts.push("</tbody></table></div>");
  }
  if (report.nextSteps?.length) {
    parts.push("<h2>Next steps</h2><ul>");
    for (const n of report.nextSteps) parts.push(`<li>${esc(n)}</li>`);
    parts.push("</ul>");
  }
  return page(`why403: ${targetLine(report)}`, parts.join("\n"));
}

const PALETTE = [
  "#e4572e",
  "#1f77b4",
  "#2ca02c",
  "#9467bd",
  "#ff7f0e",
  "#17becf",
  "#8c564b",
  "#e377c2",
  "#7f7f7f",
  "#bcbd22",
  "#393b79",
  "#637939",
];

export function renderLogsHtml(report: LogsReportLike): string {
  const parts: string[] = [];
  parts.push(`<p class="muted">why403 logs report</p><h1>${report.denials} denials</h1>`);
  parts.push("<ul>");
  for (const f of report.files)
    parts.push(
      `<li><code>${esc(f.path)}</code> <span class="muted">${esc(f.format)}, ${f.lines} lines</span>: ${f.denials} denials</li>`,
    );
  parts.push("</ul>");
  const causes = Object.keys(report.byCause).sort(
    (a, b) => (report.byCause[b] ?? 0) - (report.byCause[a] ?? 0),
  );
  const colour = (c: string) => PALETTE[causes.indexOf(c) % PALETTE.length]!;
  // Denials over time by cause, from the listed entries (the counts by cause are exact).
  const timed = report.entries.filter((e) => e.time && !Number.isNaN(Date.parse(e.time)));
  if (timed.length) {
    const times = timed.map((e) => Date.parse(e.time!));
    const min = Math.min(...times);
    const max = Math.max(...times);
    const buckets = 40;
    const span = Math.max(1, max - min);
    const grid: Array<Record<string, number>> = Array.from({ length: buckets }, () => ({}));
    for (const e of timed) {
      const b = Math.min(buckets - 1, Math.floor(((Date.parse(e.time!) - min) / span) * buckets));
      const c = e.cause ?? "unclassified";
      grid[b]![c] = (grid[b]![c] ?? 0) + 1;
    }
    const peak = Math.max(1, ...grid.map((g) => Object.values(g).reduce((a, b) => a + b, 0)));
    parts.push(
      `<h2>Denials over time</h2><div class="bars" id="chart" role="img" aria-label="denials over time by cause">`,
    );
    for (const g of grid) {
      parts.push(
        `<div class="bar">${Object.entries(g)
          .map(
            ([c, n]) =>
              `<div class="seg" title="${esc(c)}: ${n}" style="height:${(n / peak) * 140}px;background:${colour(c)}"></div>`,
          )
          .join("")}</div>`,
      );
    }
    parts.push(
      `</div><p class="muted">${esc(new Date(min).toISOString())} — ${esc(new Date(max).toISOString())} (listed entries)</p>`,
    );
  }
  parts.push(`<h2>By cause</h2><div class="legend">`);
  for (const c of causes)
    parts.push(`<span><i style="background:${colour(c)}"></i>${esc(c)}: ${report.byCause[c]}</span>`);
  parts.push("</div>");
  const table = (title: string, rows: Array<[string, number]>) => {
    if (!rows.length) return;
    parts.push(`<h2>${esc(title)}</h2><div class="tablewrap"><table><tbody>`);
    for (const [k, n] of rows.slice(0, 15))
      parts.push(`<tr><td>${n}</td><td><code>${esc(k)}</code></td></tr>`);
    parts.push("</tbody></table></div>");
  };
  table("Top rules", report.top.rules);
  table("Top paths", report.top.paths);
  table("Top clients", report.top.clients);
  if (report.entries.length) {
    parts.push(
      `<h2>Denials</h2><div class="tablewrap"><table><thead><tr><th>where</th><th>time</th><th>request</th><th>cause</th></tr></thead><tbody>`,
    );
    for (const e of report.entries.slice(0, 500)) {
      parts.push(
        `<tr><td><code>${esc(`${e.file}:${e.line}`)}</code></td><td>${esc(e.time ?? "")}</td><td>${esc(`${e.status ?? ""} ${e.method ?? ""} ${e.path ?? ""}`)}${e.client ? `<br><span class="muted">${esc(e.client)}</span>` : ""}</td><td>${esc(e.cause ?? "")}${e.rule ? ` <code>${esc(e.rule)}</code>` : ""}${e.message ? `<br><span class="muted">${esc(e.message)}</span>` : ""}</td></tr>`,
      );
    }
    parts.push("</tbody></table></div>");
  }
  return page("why403 logs", parts.join("\n"));
}
