#!/usr/bin/env bash
# Stop the LocalStack that scripts/localstack/up.sh started (and only that one).
#   bash scripts/localstack/down.sh
# Reads .local/localstack/state.env. A LocalStack that up.sh merely reused
# (LOCALSTACK_STARTED_BY_UP=0) is left running. Host mode: SIGTERM to LocalStack's process
# group (it stops its Lambda processes and DynamoDB Local), SIGKILL after
# LOCALSTACK_STOP_TIMEOUT seconds (default 20), then any leftover Lambda shim process of this
# checkout is killed.
set -euo pipefail
# shellcheck source=scripts/localstack/common.sh
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"

mkdir -p "$LS_DIR"
exec 8>"$LS_DIR/up.lock"
flock 8  # never interleave with an up.sh of the same checkout
if ! ls_read_state; then
  ls_log "no state file ($LS_STATE): nothing to stop"
  exit 0
fi
if [[ "$STATE_STARTED" != "1" ]]; then
  ls_log "LocalStack at $STATE_ENDPOINT was not started by up.sh ($STATE_MODE): leaving it running"
  rm -f "$LS_STATE"
  exit 0
fi
case "$STATE_MODE" in
  docker)
    ls_log "stopping container $STATE_CONTAINER"
    docker rm -f "$STATE_CONTAINER" >/dev/null 2>&1 || ls_log "container $STATE_CONTAINER already gone"
    ;;
  host)
    pid="$STATE_PID"
    if [[ -n "$pid" ]] && kill -0 "$pid" 2>/dev/null; then
      ls_log "stopping LocalStack (pid $pid)"
      kill -TERM -- "-$pid" 2>/dev/null || kill -TERM "$pid" 2>/dev/null || true
      t0=$SECONDS
      while kill -0 "$pid" 2>/dev/null; do
        if ((SECONDS - t0 >= ${LOCALSTACK_STOP_TIMEOUT:-20})); then
          ls_log "still running after ${LOCALSTACK_STOP_TIMEOUT:-20}s: SIGKILL"
          kill -KILL -- "-$pid" 2>/dev/null || kill -KILL "$pid" 2>/dev/null || true
          break
        fi
        sleep 0.3
      done
      ls_log "stopped after $((SECONDS - t0))s"
    else
      ls_log "LocalStack pid ${pid:-?} is not running"
    fi
    # Lambda processes run in their own sessions; kill leftovers of this checkout's shim
    port="${STATE_ENDPOINT##*:}"; port="${port%%/*}"
    for p in $(pgrep -f -- "$LS_SCRIPTS/lambda-shim.mjs .*--gateway-port=$port( |\$)" || true); do
      ls_log "killing leftover Lambda process $p"
      kill -KILL "$p" 2>/dev/null || true
    done
    # DynamoDB Local started by LocalStack (its own process group? normally a child)
    for p in $(pgrep -f -- "$LS_VAR_LIBS/dynamodb-local/2/DynamoDBLocal.jar" || true); do
      ls_log "killing leftover DynamoDB Local $p"
      kill -KILL "$p" 2>/dev/null || true
    done
    rm -f "$LS_PIDFILE"
    ;;
  *) ls_log "unknown mode '$STATE_MODE' in $LS_STATE" ;;
esac
rm -f "$LS_STATE" "$LS_DIR/leases/stop-when-unused"
