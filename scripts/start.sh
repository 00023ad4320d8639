#!/usr/bin/env bash
# npm start: LocalStack (reused, or started on the host with no Docker), the example stack
# deployed with cdklocal, then a demo workload followed live. Everything it needs is installed
# on first use into node_modules/ and .local/.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
cd "$root"
source scripts/node-env.sh
bash scripts/ensure-deps.sh
echo "[start] bringing up LocalStack ..."
endpoint="$(bash scripts/localstack/up.sh)"
export AWS_ENDPOINT_URL="$endpoint" AWS_ENDPOINT_URL_S3="$endpoint" LOCALSTACK_ENDPOINT="$endpoint"
export AWS_REGION="${AWS_REGION:-us-east-1}" AWS_DEFAULT_REGION="${AWS_DEFAULT_REGION:-us-east-1}"
export AWS_ACCESS_KEY_ID="${AWS_ACCESS_KEY_ID:-test}" AWS_SECRET_ACCESS_KEY="${AWS_SECRET_ACCESS_KEY:-test}"
echo "[start] LocalStack at $endpoint"
npx tsx scripts/local/deploy.ts
npx tsx scripts/local/demo.ts
echo "[start] LocalStack keeps running for you to explore; stop it with: bash scripts/localstack/down.sh"
