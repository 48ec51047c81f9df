// Scoring and fitting for the generated-space bench: accuracy, top-2, abstention,
// Brier score, expected calibration error, the reliability table, and an isotonic
// (pool-adjacent-violators) map from the engine's raw confidence to the observed
// rate of being right, which data/calibration.json ships.

const pct = (x) => `${Math.round(x * 100)}%`;

/** Accuracy, Brier and ECE are over the verdicts given: "—" when every instance abstained. */
export const scoreCells = (c) => [
  String(c.n),
  c.answered ? pct(c.accuracy) : "—",
  pct(c.top2),
  pct(c.abstain),
  c.answered ? c.brier.toFixed(3) : "—",
  c.answered ? c.ece.toFixed(3) : "—",
];

/** The leading cause and its confidence: the verdict, or the top candidate when it abstained. */
function lead(run) {
  if (run.verdict) return { cause: run.verdict, p: run.confidence, answered: true };
  const top = run.candidates[0];
  return { cause: top?.cause ?? null, p: top?.confidence ?? 0, answered: false };
}

function summarise(runs) {
  const answered = runs.filter((r) => r.verdict);
  const right = answered.filter((r) => r.verdict === r.truth).length;
  const top2 = runs.filter((r) => r.candidates.slice(0, 2).some((c) => c.cause === r.truth)).length;
  const brier =
    answered.reduce((a, r) => a + (r.confidence - (r.verdict === r.truth ? 1 : 0)) ** 2, 0) /
    Math.max(1, answered.length);
  return {
    n: runs.length,
    answered: answered.length,
    accuracy: answered.length ? right / answered.length : 0,
    top2: runs.length ? top2 / runs.length : 0,
    abstain: runs.length ? (runs.length - answered.length) / runs.length : 0,
    brier,
    ece: ece(runs),
  };
}

/** Bins of 10% over the verdicts given: how many, and how often right. */
export function reliability(runs) {
  const bins = Array.from({ length: 10 }, (_, i) => ({
    lo: i * 10,
    hi: i * 10 + 10,
    n: 0,
    right: 0,
    conf: 0,
  }));
  for (const r of runs.filter((x) => x.verdict)) {
    const b = bins[Math.min(9, Math.floor(r.confidence * 10))];
    b.n++;
    b.conf += r.confidence;
    if (r.verdict === r.truth) b.right++;
  }
  return bins.map((b) => ({
    ...b,
    accuracy: b.n ? b.right / b.n : 0,
    meanConfidence: b.n ? b.conf / b.n : 0,
  }));
}

/** Expected calibration error over the verdicts given (abstentions show no confidence). */
export function ece(runs) {
  const bins = reliability(runs);
  const total = bins.reduce((a, b) => a + b.n, 0);
  if (total === 0) return 0;
  return bins.reduce((a, b) => a + (b.n / total) * Math.abs(b.accuracy - b.meanConfidence), 0);
}

/** The summary of `runs` grouped by `key` (the true cause, the front, the application). */
export function groupScores(runs, key) {
  const out = new Map();
  for (const value of [...new Set(runs.map(key))].sort())
    out.set(value, summarise(runs.filter((r) => key(r) === value)));
  return out;
}

export function scoreRuns(runs) {
  return { ...summarise(runs), byCause: groupScores(runs, (r) => r.truth) };
}

/**
 * Isotonic regression of "the leading cause was right" on its raw confidence, by pool
 * adjacent violators; the result is a monotone list of [raw, calibrated] knots.
 */
export function fitCalibration(runs) {
  const points = runs
    .map((r) => {
      const l = lead(r);
      return { x: l.p, y: l.cause === r.truth ? 1 : 0 };
    })
    .sort((a, b) => a.x - b.x);
  const blocks = [];
  for (const p of points) {
    blocks.push({ sumY: p.y, n: 1, xLo: p.x, xHi: p.x });
    // Equal means pool too, so a run of right answers becomes one block with its full count.
    while (
      blocks.length > 1 &&
      blocks.at(-2).sumY / blocks.at(-2).n >= blocks.at(-1).sumY / blocks.at(-1).n
    ) {
      const b = blocks.pop();
      const a = blocks.at(-1);
      a.sumY += b.sumY;
      a.n += b.n;
      a.xHi = b.xHi;
    }
  }
  const knots = [];
  for (const b of blocks) {
    // Shrink small blocks toward the middle so a handful of cases cannot claim 0% or 100%.
    const y = (b.sumY + 1) / (b.n + 2);
    knots.push([round(b.xLo), round(y)], [round(b.xHi), round(y)]);
  }
  return { method: "isotonic", cases: points.length, knots: dedupe(knots) };
}

const round = (x) => Math.round(x * 1000) / 1000;

function dedupe(knots) {
  const out = [];
  for (const k of knots) if (!out.length || out.at(-1)[0] !== k[0] || out.at(-1)[1] !== k[1]) out.push(k);
  return out;
}

/**
 * Runs made without calibration, re-decided as the product decides with `map`: the
 * library's own ranking (`calibratedRanking`, the leader through the map and the others
 * scaled with it) and its threshold of 0.5 on the leader.
 */
export function withCalibration(runs, map, lib) {
  const through = (raw) => round(lib.interpolateKnots(map.knots, raw));
  return runs.map((r) => {
    const candidates = lib.calibratedRanking(r.candidates, through);
    const top = candidates[0];
    const verdict = top && top.confidence >= 0.5 ? top.cause : null;
    return { ...r, candidates, verdict, confidence: verdict ? top.confidence : 0 };
  });
}
