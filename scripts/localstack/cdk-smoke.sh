#!/usr/bin/env bash
# Proves `cdklocal bootstrap` + `cdklocal deploy` work against this project's LocalStack, with a
# trivial stack (cdk-smoke/app.mjs) holding the resource kinds the real stack uses, then checks
# that a message sent to the deployed queue is consumed by the deployed Lambda into DynamoDB.
#   bash scripts/localstack/cdk-smoke.sh        # uses up.sh (reuses a running LocalStack)
# Env: AWS_ENDPOINT_URL (else up.sh's endpoint), CDK_SMOKE_STACK (stack name), CDK_SMOKE_KEEP=1
# keeps the stack (default: destroyed at the end).
set -euo pipefail
# shellcheck source=scripts/localstack/common.sh
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"
CDKLOCAL="$LS_ROOT/node_modules/.bin/cdklocal"
[[ -x "$CDKLOCAL" ]] || ls_die "cdklocal missing: run npm ci (devDependency aws-cdk-local)"
EP="$(bash "$LS_SCRIPTS/up.sh")"
# cdklocal insists on AWS_ENDPOINT_URL_S3 when AWS_ENDPOINT_URL is set; 127.0.0.1 makes the
# SDK use path-style S3 URLs, so no *.localhost.localstack.cloud name has to resolve
export AWS_ENDPOINT_URL="$EP" AWS_ENDPOINT_URL_S3="$EP"
export AWS_REGION="${AWS_REGION:-us-east-1}" AWS_DEFAULT_REGION="${AWS_DEFAULT_REGION:-${AWS_REGION:-us-east-1}}"
export AWS_ACCESS_KEY_ID="${AWS_ACCESS_KEY_ID:-test}" AWS_SECRET_ACCESS_KEY="${AWS_SECRET_ACCESS_KEY:-test}"
export CDK_DEFAULT_ACCOUNT="${CDK_DEFAULT_ACCOUNT:-000000000000}" CDK_DEFAULT_REGION="${CDK_DEFAULT_REGION:-$AWS_REGION}"
export CDK_SMOKE_STACK="${CDK_SMOKE_STACK:-SqsJobsCdkSmoke}"
OUT="$LS_DIR/cdk-smoke"; mkdir -p "$OUT"; cd "$OUT"   # no cdk.json here: the repo's app is not used
APP=(--app "node $LS_SCRIPTS/cdk-smoke/app.mjs" --output "$OUT/cdk.out")
t0=$SECONDS
ls_log "cdklocal bootstrap aws://$CDK_DEFAULT_ACCOUNT/$CDK_DEFAULT_REGION"
"$CDKLOCAL" bootstrap "aws://$CDK_DEFAULT_ACCOUNT/$CDK_DEFAULT_REGION" "${APP[@]}" --ci
ls_log "bootstrap took $((SECONDS - t0))s; cdklocal deploy $CDK_SMOKE_STACK"
t1=$SECONDS
"$CDKLOCAL" deploy "$CDK_SMOKE_STACK" "${APP[@]}" --require-approval never --ci --outputs-file "$OUT/outputs.json"
ls_log "deploy took $((SECONDS - t1))s; checking the deployed consumer"
cd "$LS_ROOT"
node --no-warnings --input-type=module -e '
import { readFileSync } from "node:fs";
import { SQSClient, SendMessageCommand } from "@aws-sdk/client-sqs";
import { DynamoDBClient, ScanCommand } from "@aws-sdk/client-dynamodb";
import { SchedulerClient, ListSchedulesCommand } from "@aws-sdk/client-scheduler";
const o = Object.values(JSON.parse(readFileSync(process.argv[1], "utf8")))[0];
await new SQSClient({}).send(new SendMessageCommand({ QueueUrl: o.QueueUrl, MessageBody: "hello-cdk" }));
const ddb = new DynamoDBClient({});
for (let i = 0; i < 60; i++) {
  const items = (await ddb.send(new ScanCommand({ TableName: o.TableName }))).Items ?? [];
  const hit = items.find((x) => x.body?.S === "hello-cdk");
  if (hit) { console.log(`[cdk-smoke] consumer ${hit.fn.S} wrote the message to ${o.TableName}`); break; }
  if (i === 59) { console.error("[cdk-smoke] FAIL: the deployed consumer did not write the message"); process.exit(1); }
  await new Promise((r) => setTimeout(r, 1000));
}
const s = await new SchedulerClient({}).send(new ListSchedulesCommand({}));
console.log(`[cdk-smoke] schedules: ${(s.Schedules ?? []).map((x) => x.Name).join(", ")}`);
' "$OUT/outputs.json"
if [[ "${CDK_SMOKE_KEEP:-0}" != "1" ]]; then
  cd "$OUT"; t2=$SECONDS
  "$CDKLOCAL" destroy "$CDK_SMOKE_STACK" "${APP[@]}" --force
  ls_log "destroy took $((SECONDS - t2))s"
fi
ls_log "cdk smoke ok in $((SECONDS - t0))s"
