// Trigger search: probes minimizeRequest needs to find the part of a JSON body that
// an in-process oracle refuses, for bodies of 10, 100 and 1,000 fields. Baseline: the
// number of fields, i.e. what a one-field-at-a-time search would send.
import { library, median, ms, note, table } from "./stats.mjs";

const SIZES = [10, 100, 1000];
const RUNS = 5;
const MAX_TESTS = 200;
/** A CRS-like tautology rule; the trigger value contains it among other words. */
const TAUTOLOGY = /'\s*or\s*'?\d+'?\s*=\s*'?\d+/i;
const TRIGGER = "Great stuff' OR '1'='1 -- thanks";

function jsonRequest(body) {
  return {
    method: "POST",
    url: "http://bench.test/api/reviews",
    headers: [
      ["Content-Type", "application/json"],
      ["User-Agent", "bench"],
    ],
    body: Buffer.from(JSON.stringify(body)),
    options: {},
  };
}

/** A flat object of n string fields; `plant` puts values at chosen indexes. */
function flatBody(n, plant) {
  const body = {};
  for (let i = 0; i < n; i++) body[`field${i}`] = plant.get(i) ?? `ordinary value number ${i}`;
  return body;
}

/** The same n fields in sections of 10 (nested objects), as real bodies tend to be. */
function nestedBody(n, plant) {
  const body = {};
  for (let i = 0; i < n; i++) {
    const section = `section${Math.floor(i / 10)}`;
    body[section] ??= {};
    body[section][`field${i}`] = plant.get(i) ?? `ordinary value number ${i}`;
  }
  return body;
}

const bodyText = (req) => (req.body ? req.body.toString("utf8") : "");

/** Refuses when the body holds the tautology. */
const singleOracle = async (req) => (TAUTOLOGY.test(bodyText(req)) ? "fail" : "pass");

/** Anomaly scoring as the CRS does it: each fragment scores 3, the threshold is 5. */
const FRAGMENTS = [/<script/i, /\.\.\/\.\.\//];
const scoreOracle = async (req) => {
  const text = bodyText(req);
  const score = FRAGMENTS.reduce((s, re) => s + (re.test(text) ? 3 : 0), 0);
  return score >= 5 ? "fail" : "pass";
};

async function measure(minimizeRequest, req, oracle) {
  const times = [];
  let result;
  for (let r = 0; r < RUNS; r++) {
    const t0 = performance.now();
    result = await minimizeRequest(req, oracle, { maxTests: MAX_TESTS });
    times.push(performance.now() - t0);
  }
  return { result, ms: median(times) };
}

const describeParts = (parts) =>
  parts.map((p) => `${p.name ?? p.location}=${JSON.stringify(p.value)}`).join(" + ");

export async function triggerSearch() {
  const { minimizeRequest } = await library();
  if (typeof minimizeRequest !== "function") throw new Error("dist/index.js does not export minimizeRequest");
  const rows = [];
  let probesAt1000 = null;
  for (const shape of ["flat", "nested"]) {
    for (const n of SIZES) {
      // Deterministic spot about two thirds in: neither the first nor the last field.
      const at = Math.floor(n * 0.63);
      const build = shape === "flat" ? flatBody : nestedBody;
      const req = jsonRequest(build(n, new Map([[at, TRIGGER]])));
      const { result, ms: t } = await measure(minimizeRequest, req, singleOracle);
      if (shape === "flat" && n === 1000) probesAt1000 = result.tests;
      rows.push([
        `one trigger, ${shape}`,
        n,
        result.tests,
        `${(result.tests / n).toFixed(2)}x`,
        ms(t),
        result.exhausted ? "budget spent" : describeParts(result.parts),
      ]);
    }
  }
  for (const n of SIZES) {
    const a = Math.floor(n * 0.2);
    const b = Math.floor(n * 0.8);
    const plant = new Map([
      [a, "see <script>x</script> here"],
      [b, "load ../../etc/passwd now"],
    ]);
    const req = jsonRequest(flatBody(n, plant));
    const { result, ms: t } = await measure(minimizeRequest, req, scoreOracle);
    const both = result.parts.length === 2 && !result.exhausted;
    rows.push([
      "two fragments (score 3+3 >= 5), flat",
      n,
      result.tests,
      `${(result.tests / n).toFixed(2)}x`,
      ms(t),
      `${both ? "both found" : `NOT both (${result.parts.length})`}: ${describeParts(result.parts)}`,
    ]);
  }
  table(["search", "fields", "probes", "vs 1-by-1", `time (med of ${RUNS})`, "minimal parts found"], rows);
  note(
    `summary: one trigger among 1,000 fields found in ${probesAt1000} probes (aim <= 40); ` +
      `"vs 1-by-1" is probes / fields (a one-field-at-a-time search sends one probe per field); ` +
      "probes include shortening the surviving value to its minimal text.",
  );
}
