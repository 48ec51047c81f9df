#!/usr/bin/env bash
# Runs every test: installs what the tests need (npm packages, the real servers
# and Chromium from Debian), builds, type-checks, lints, then runs the `unit`
# project (src/**) and the `e2e` project (test/**, each real server started once
# for the whole run). Every property check records the cases it really ran in
# test-artifacts/property-runs.jsonl; the quota test in test/fuzz-all.test.ts
# (e2e, after unit) sums them.
set -euo pipefail
cd "$(dirname "$0")/.."

if [ ! -d node_modules ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  npm ci --no-audit --no-fund
fi
bash lab/install.sh
npm run build
npx tsc --noEmit -p .
npm run lint
mkdir -p test-artifacts
export WHY403_PROPERTY_RUNS="$PWD/test-artifacts/property-runs.jsonl"
: >"$WHY403_PROPERTY_RUNS"
rm -f test-artifacts/vitest-unit.json test-artifacts/vitest-e2e.json
status=0
for project in unit e2e; do
  # The unit files share their worker processes' modules (no re-import per file: about 19 s
  # instead of 50); the e2e files keep their isolation.
  isolate=()
  [ "$project" = unit ] && isolate=(--no-isolate)
  npx vitest run --project "$project" "${isolate[@]}" --passWithNoTests --reporter=default --reporter=json \
    --outputFile="test-artifacts/vitest-$project.json" "$@" || status=$?
done
node -e '
const fs = require("fs");
const total = { passed: 0, failed: 0, skipped: 0 };
for (const project of ["unit", "e2e"]) {
  const file = `test-artifacts/vitest-${project}.json`;
  if (!fs.existsSync(file)) { total.failed++; console.log(`${project}: no results`); continue; }
  const r = JSON.parse(fs.readFileSync(file, "utf8"));
  total.passed += r.numPassedTests;
  total.failed += r.numFailedTests;
  total.skipped += (r.numPendingTests || 0) + (r.numTodoTests || 0);
}
console.log(`${total.passed} passed, ${total.failed} failed` + (total.skipped ? `, ${total.skipped} skipped` : ""));
' || true
exit $status
