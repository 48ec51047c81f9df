// The generated-space bench as a self-contained HTML page (bench/.out/space.html): the
// held-out figures per cause, front and application, the reliability table and the
// reliability diagram drawn as inline SVG (no script, no outside file).
import { groupScores, reliability, scoreCells, scoreRuns } from "./calibration.mjs";

const esc = (s) =>
  String(s).replace(/[&<>"]/g, (c) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;" })[c]);
const pct = (x) => `${Math.round(x * 100)}%`;

function htmlTable(headers, rows) {
  const head = headers.map((h) => `<th>${esc(h)}</th>`).join("");
  const body = rows.map((r) => `<tr>${r.map((c) => `<td>${esc(c)}</td>`).join("")}</tr>`).join("\n");
  return `<table><thead><tr>${head}</tr></thead><tbody>\n${body}\n</tbody></table>`;
}

const scoreRow = (label, c) => [label, ...scoreCells(c)];
const SCORE_HEADERS = ["n", "accuracy of verdicts", "top-2", "abstained", "Brier", "ECE"];

/**
 * The reliability diagram: one bar per 10% bin at the accuracy of the verdicts in it,
 * the diagonal of perfect calibration, the bin's lower edge (the floor the bench checks
 * above 80%), and a dot at each bin's mean confidence. `raw`, when given, is drawn as
 * hollow dots: the same runs before calibration.
 */
export function reliabilitySvg(runs, raw) {
  const W = 420;
  const H = 420;
  const pad = 48;
  const side = W - 2 * pad;
  const x = (v) => pad + v * side;
  const y = (v) => H - pad - v * side;
  const parts = [];
  for (let t = 0; t <= 10; t += 2) {
    const v = t / 10;
    parts.push(
      `<line x1="${x(0)}" y1="${y(v)}" x2="${x(1)}" y2="${y(v)}" class="grid"/>`,
      `<text x="${x(0) - 6}" y="${y(v) + 4}" text-anchor="end">${t * 10}%</text>`,
      `<text x="${x(v)}" y="${y(0) + 18}" text-anchor="middle">${t * 10}%</text>`,
    );
  }
  for (const b of reliability(runs)) {
    if (!b.n) continue;
    const x0 = x(b.lo / 100) + 2;
    const w = side / 10 - 4;
    const low = b.accuracy < b.lo / 100;
    parts.push(
      `<rect x="${x0}" y="${y(b.accuracy)}" width="${w}" height="${y(0) - y(b.accuracy)}" class="${low ? "bar low" : "bar"}"><title>${b.lo}–${b.hi}%: ${b.n} verdicts, ${pct(b.accuracy)} right</title></rect>`,
      `<line x1="${x0}" y1="${y(b.lo / 100)}" x2="${x0 + w}" y2="${y(b.lo / 100)}" class="edge"/>`,
      `<circle cx="${x(b.meanConfidence)}" cy="${y(b.accuracy)}" r="4" class="dot"/>`,
      `<text x="${x0 + w / 2}" y="${y(b.accuracy) - 6}" text-anchor="middle" class="n">${b.n}</text>`,
    );
  }
  if (raw)
    for (const b of reliability(raw))
      if (b.n)
        parts.push(
          `<circle cx="${x(b.meanConfidence)}" cy="${y(b.accuracy)}" r="4" class="raw"><title>before calibration ${b.lo}–${b.hi}%: ${b.n} verdicts, ${pct(b.accuracy)} right</title></circle>`,
        );
  parts.push(
    `<line x1="${x(0)}" y1="${y(0)}" x2="${x(1)}" y2="${y(1)}" class="diag"/>`,
    `<text x="${W / 2}" y="${H - 8}" text-anchor="middle">confidence shown</text>`,
    `<text x="14" y="${H / 2}" text-anchor="middle" transform="rotate(-90 14 ${H / 2})">share right</text>`,
  );
  return `<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 ${W} ${H}" width="${W}" height="${H}" role="img" aria-label="Reliability diagram">
${parts.join("\n")}
</svg>`;
}

export function spaceHtml({ testRuns, rawTestRuns }) {
  const s = scoreRuns(testRuns);
  const causes = [...s.byCause.entries()].map(([k, c]) => scoreRow(k, c));
  causes.push(scoreRow("all", s));
  const group = (key) => [...groupScores(testRuns, key).entries()].map(([k, c]) => scoreRow(k, c));
  const bins = reliability(testRuns).map((b) => [
    `${b.lo}–${b.hi}%`,
    b.n,
    b.n ? pct(b.meanConfidence) : "—",
    b.n ? pct(b.accuracy) : "—",
    b.n && b.accuracy < b.lo / 100 ? "yes" : "",
  ]);
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>why403 bench: generated scenario space</title>
<meta name="viewport" content="width=device-width, initial-scale=1">
<style>
body { font: 14px/1.45 system-ui, sans-serif; margin: 2rem auto; max-width: 60rem; padding: 0 1rem; color: #1b1f24; background: #fff; }
table { border-collapse: collapse; margin: 0.5rem 0 1.5rem; }
th, td { padding: 0.2rem 0.6rem; border-bottom: 1px solid #d0d7de; text-align: right; }
th:first-child, td:first-child { text-align: left; }
svg text { font-size: 11px; fill: currentColor; }
.grid { stroke: #d0d7de; } .diag { stroke: #57606a; stroke-dasharray: 4 3; }
.bar { fill: #54aeff; opacity: 0.8; } .bar.low { fill: #ff8182; }
.edge { stroke: #cf222e; stroke-width: 1.5; } .dot { fill: #0550ae; }
.raw { fill: none; stroke: #bc4c00; stroke-width: 1.5; }
@media (prefers-color-scheme: dark) { body { background: #0d1117; color: #e6edf3; } th, td { border-color: #30363d; } .grid { stroke: #30363d; } }
</style></head><body>
<h1>Generated scenario space: held-out seeds</h1>
<p>${testRuns.length} instances on real servers, each verified to refuse and to pass its control, diagnosed in default mode without server files. Accuracy counts the verdicts given; top-2 counts the true cause among the first two candidates; ECE is the expected calibration error over the verdicts given (bins of 10%).</p>
<h2>Per cause</h2>
${htmlTable(["cause", ...SCORE_HEADERS], causes)}
<h2>Reliability</h2>
<p>Bars: share of verdicts right in each confidence bin (count above the bar); filled dots: the bin's mean confidence; red ticks: the bin's lower edge${rawTestRuns ? "; hollow dots: the same runs before calibration" : ""}. On the dashed diagonal a confidence means what it says.</p>
${reliabilitySvg(testRuns, rawTestRuns)}
${htmlTable(["confidence bin", "n", "mean confidence", "accuracy", "below lower edge"], bins)}
<h2>Per front</h2>
${htmlTable(
  ["front", ...SCORE_HEADERS],
  group((r) => r.front),
)}
<h2>Per application</h2>
${htmlTable(
  ["application", ...SCORE_HEADERS],
  group((r) => r.app ?? "(front refuses)"),
)}
</body></html>
`;
}
