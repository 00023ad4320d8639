#!/usr/bin/env bash
# npm run bench: every benchmark in one run (see bench/run.ts). Installs what it needs, starts its
# own DynamoDB Local on a free port (stopped again at the end), uses or starts LocalStack for the
# end-to-end part, and writes bench/results.json, bench/results.md and the README's bench block.
# Env knobs are listed at the top of bench/run.ts (BENCH_SKIP_E2E=1 skips the LocalStack part).
# An argument runs another bench script with the same setup (npm run bench:profile: bench/profile.ts).
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"
source scripts/node-env.sh
log() { echo "[bench] $*" >&2; }
t0=$SECONDS

bash scripts/ensure-deps.sh
export NODE_NO_WARNINGS=1 AWS_REGION="${AWS_REGION:-us-east-1}"

port="$(node -e 'const s=require("net").createServer();s.listen(0,"127.0.0.1",()=>{console.log(s.address().port);s.close()})')"
log "starting DynamoDB Local on port $port"
DYNAMODB_ENDPOINT="$(bash scripts/dynamodb-local.sh start "$port" | tail -1)"
export DYNAMODB_ENDPOINT
trap 'bash scripts/dynamodb-local.sh stop "$port" >/dev/null 2>&1 || true' EXIT

status=0
node "$root/node_modules/tsx/dist/cli.mjs" "${1:-bench/run.ts}" || status=$?
# keep the generated files in the repo's format (npm run lint checks bench/)
"$root/node_modules/.bin/biome" format --write bench/results.json bench/results.md >/dev/null 2>&1 || true
log "finished in $((SECONDS - t0)) s (exit $status)"
exit "$status"
