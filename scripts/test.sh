#!/usr/bin/env bash
# npm test: every test project (unit, ledger on DynamoDB Local, integ on LocalStack).
# Starts what it needs; prints `N passed, N failed` from vitest's JSON report at the end.
#   --unit-only    only the emulator-free unit project
#   --integ-only   only the LocalStack integration project
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
cd "$root"
source scripts/node-env.sh
bash scripts/ensure-deps.sh

projects=()
case "${1:-}" in
  --unit-only) projects=(--project unit) ;;
  --integ-only) projects=(--project integ) ;;
  "") ;;
  *) echo "usage: scripts/test.sh [--unit-only|--integ-only]" >&2; exit 2 ;;
esac

report="$root/.vitest-results.json"
rm -f "$report"
status=0
npx vitest run "${projects[@]}" --reporter=default --reporter=json --outputFile.json="$report" || status=$?
node scripts/summarize-tests.mjs "$report" || status=1
exit "$status"
