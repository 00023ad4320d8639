# shellcheck shell=bash
# Shared settings for scripts/localstack/*.sh (sourced, not run).
LS_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
LS_SCRIPTS="$LS_ROOT/scripts/localstack"
LS_DIR="${LOCALSTACK_LOCAL_DIR:-$LS_ROOT/.local/localstack}"
LS_VENV="${LOCALSTACK_VENV:-$LS_DIR/venv}"
LS_FS_ROOT="$LS_DIR/filesystem"           # LocalStack FILESYSTEM_ROOT
LS_VAR_LIBS="$LS_FS_ROOT/var/lib/localstack/lib"
LS_STATE="$LS_DIR/state.env"              # written by up.sh, read by down.sh and tests
LS_LOG="$LS_DIR/localstack.log"
LS_PIDFILE="$LS_DIR/localstack.pid"
# Pinned: 4.14.0 is the last tag of the open-source localstack/localstack repository.
LS_CORE_VERSION="${LOCALSTACK_CORE_VERSION:-4.14.0}"
LS_IMAGE="${LOCALSTACK_IMAGE:-localstack/localstack:$LS_CORE_VERSION}"
LS_CONTAINER="${LOCALSTACK_CONTAINER_NAME:-sqsjobs-localstack}"
LS_PORT="${LOCALSTACK_PORT:-4566}"
LS_DEFAULT_ENDPOINT="http://127.0.0.1:$LS_PORT"
# what the stack and the tests use (keep in sync with the README / DESIGN)
LS_SERVICES_DEFAULT="cloudformation,s3,ssm,sts,iam,sqs,dynamodb,lambda,logs,cloudwatch,events,scheduler,sns,kms"

ls_log() { echo "[localstack] $*" >&2; }
ls_die() { echo "[localstack] ERROR: $*" >&2; exit 1; }

# 0 if <endpoint>/_localstack/health answers HTTP 200
ls_health() {
  local code
  code="$(curl -s -m 3 -o /dev/null -w '%{http_code}' "$1/_localstack/health" 2>/dev/null || true)"
  [[ "$code" == "200" ]]
}

ls_read_state() { # sets STATE_* variables from the state file, if any
  STATE_ENDPOINT="" STATE_MODE="" STATE_STARTED="0" STATE_PID="" STATE_CONTAINER=""
  [[ -f "$LS_STATE" ]] || return 1
  while IFS='=' read -r k v; do
    case "$k" in
      LOCALSTACK_ENDPOINT) STATE_ENDPOINT="$v" ;;
      LOCALSTACK_MODE) STATE_MODE="$v" ;;
      LOCALSTACK_STARTED_BY_UP) STATE_STARTED="$v" ;;
      LOCALSTACK_PID) STATE_PID="$v" ;;
      LOCALSTACK_CONTAINER) STATE_CONTAINER="$v" ;;
    esac
  done <"$LS_STATE"
}
