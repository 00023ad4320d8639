#!/usr/bin/env bash
# npm run chaos: 10,000 jobs (--jobs N) through the chaos stack on LocalStack with faults injected
# between the runtime and LocalStack, then an audit of every job (bench/chaos/run.ts lists the
# flags). Starts what it needs like `npm start`; stops the LocalStack it started when it is done
# (one that was already running is left running, with the chaos stack deployed for the next run).
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
cd "$root"
source scripts/node-env.sh
t0=$(date +%s)
bash scripts/ensure-deps.sh
echo "[chaos] bringing up LocalStack ..." >&2
endpoint="$(bash scripts/localstack/up.sh)"
started_at="$(grep '^LOCALSTACK_STARTED_AT=' .local/localstack/state.env 2>/dev/null | cut -d= -f2 || true)"
if [[ -n "$started_at" && "$started_at" -ge "$t0" ]]; then
  echo "[chaos] started LocalStack for this run; it is stopped again at the end" >&2
  trap 'bash scripts/localstack/down.sh >&2 || true' EXIT
fi
export AWS_ENDPOINT_URL="$endpoint" AWS_ENDPOINT_URL_S3="$endpoint" LOCALSTACK_ENDPOINT="$endpoint"
export AWS_REGION="${AWS_REGION:-us-east-1}" AWS_DEFAULT_REGION="${AWS_DEFAULT_REGION:-us-east-1}"
export AWS_ACCESS_KEY_ID="${AWS_ACCESS_KEY_ID:-test}" AWS_SECRET_ACCESS_KEY="${AWS_SECRET_ACCESS_KEY:-test}"
export NODE_NO_WARNINGS=1
node "$root/node_modules/tsx/dist/cli.mjs" bench/chaos/run.ts "$@"
