#!/usr/bin/env bash
# Runs every test: installs what the tests need (npm packages, the real servers
# and Chromium from Debian), builds, type-checks, lints, then runs the suite once,
# starting each real server once for the whole run.
set -euo pipefail
cd "$(dirname "$0")/.."

if [ ! -d node_modules ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  npm ci --no-audit --no-fund
fi
bash lab/install.sh
npm run build
npx tsc --noEmit -p .
npx biome check src test lab bench scripts
mkdir -p test-artifacts
status=0
npx vitest run --reporter=default --reporter=json --outputFile=test-artifacts/vitest.json "$@" || status=$?
node -e '
const r = JSON.parse(require("fs").readFileSync("test-artifacts/vitest.json", "utf8"));
const skipped = (r.numPendingTests || 0) + (r.numTodoTests || 0);
console.log(`${r.numPassedTests} passed, ${r.numFailedTests} failed` + (skipped ? `, ${skipped} skipped` : ""));
' || true
exit $status
