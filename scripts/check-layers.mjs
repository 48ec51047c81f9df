// The dependency arrows of src/ point one way: cli → diagnose (compare, matrix,
// report renderers) → investigate → experiments → delta → evidence/fingerprint/
// verdict → http/request → model. This reads
// every import (static and dynamic) of every non-test file under src/ and fails,
// naming file and import, when one points up the stack. Run by `npm run lint`.
import { readdirSync, readFileSync } from "node:fs";
import { dirname, join, relative, resolve } from "node:path";

const SRC = resolve(import.meta.dirname, "..", "src");

/** Higher imports lower, never the reverse; equal ranks may import each other. */
const RANK = {
  "index.ts": 9,
  cli: 8,
  compare: 7,
  demo: 7,
  diagnose: 7,
  matrix: 7,
  // Following logs live and the framework adapters: pipelines of their own beside diagnose.
  watch: 7,
  middleware: 7,
  investigate: 6,
  experiments: 5,
  // Renderers of every result kind (report, compare, matrix): only the CLI uses them.
  report: 7,
  delta: 4,
  evidence: 3,
  fingerprint: 3,
  verdict: 3,
  http: 2,
  request: 2,
  // src/*.ts: the shared vocabulary (model, errors, redact, limits, headers …)
  "": 1,
};

function rankOf(file) {
  const rel = relative(SRC, file);
  if (rel === "index.ts") return ["index.ts", RANK["index.ts"]];
  const top = rel.includes("/") ? rel.split("/")[0] : "";
  if (!(top in RANK)) throw new Error(`check-layers: ${rel} is in no layer; add its folder to RANK`);
  return [top || "src/*.ts", RANK[top]];
}

function sources(dir) {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    const p = join(dir, e.name);
    if (e.isDirectory()) return e.name === "test" ? [] : sources(p);
    // Test support (`_test-kit.ts`) wires a real prober for the experiments' tests: not shipped code.
    const shipped = p.endsWith(".ts") && !/\.test\.ts$|\.d\.ts$|_test-kit\.ts$/.test(p);
    return shipped ? [p] : [];
  });
}

const IMPORT =
  /(?:^|\n)\s*(?:import|export)\b[^;'"]*?from\s*["']([^"']+)["']|import\(\s*["']([^"']+)["']\s*\)/g;

const upward = [];
for (const file of sources(SRC)) {
  const [layer, rank] = rankOf(file);
  for (const m of readFileSync(file, "utf8").matchAll(IMPORT)) {
    const spec = m[1] ?? m[2];
    if (!spec.startsWith(".")) continue;
    const target = resolve(dirname(file), spec.replace(/\.js$/, ".ts"));
    if (!target.startsWith(SRC)) continue;
    const [targetLayer, targetRank] = rankOf(target);
    if (targetRank > rank)
      upward.push(`${relative(SRC, file)} (${layer}) imports ${spec} (${targetLayer}): an arrow pointing up`);
  }
}
if (upward.length) {
  console.error(`check-layers: ${upward.length} upward import(s):\n  ${upward.join("\n  ")}`);
  process.exit(1);
}
console.log("check-layers: every import in src/ points down the layers");
