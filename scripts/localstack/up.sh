#!/usr/bin/env bash
# Bring up a LocalStack for this project and print its endpoint (last line of stdout).
#
#   bash scripts/localstack/up.sh          # progress on stderr, endpoint on stdout
#   bash scripts/localstack/down.sh        # stops it again, only if up.sh started it
#
# Order of preference:
#   (a) AWS_ENDPOINT_URL or LOCALSTACK_ENDPOINT is set and its /_localstack/health answers -> use it
#       (also: one already answering on 127.0.0.1:$LOCALSTACK_PORT, or one this script started)
#   (b) a Docker daemon answers (`docker info`)  -> run the official image $LOCALSTACK_IMAGE
#   (c) host mode: LocalStack ($LOCALSTACK_CORE_VERSION, default 4.14.0) in the project-local
#       venv .local/localstack/venv, started with `python -m localstack.runtime.main`; DynamoDB
#       Local and a JRE pre-seeded so nothing is downloaded at run time; Lambda functions run as
#       host Node.js processes (LAMBDA_RUNTIME_EXECUTOR=host-node, scripts/localstack/executor).
#   LOCALSTACK_MODE=host|docker forces (b) or (c).
#
# State file .local/localstack/state.env (KEY=VALUE lines): LOCALSTACK_ENDPOINT, LOCALSTACK_MODE
# (external|host|docker), LOCALSTACK_STARTED_BY_UP (1|0), LOCALSTACK_PID, LOCALSTACK_CONTAINER,
# LOCALSTACK_STARTED_AT (epoch seconds of the start; empty when reused).
# Log (host mode): .local/localstack/localstack.log. Any LocalStack config variable set in the
# environment (DEBUG, LS_LOG, SERVICES, SQS_CLOUDWATCH_METRICS_REPORT_INTERVAL, ...) wins over
# the defaults below. LOCALSTACK_START_TIMEOUT (seconds, default 180).
set -euo pipefail
# shellcheck source=scripts/localstack/common.sh
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"

mkdir -p "$LS_DIR"
command -v curl >/dev/null 2>&1 || ls_die "curl is required (apt-get install curl)"
exec 8>"$LS_DIR/up.lock"
flock 8  # one up.sh at a time per checkout

write_state() { # endpoint mode started pid container
  cat >"$LS_STATE.tmp" <<EOF
LOCALSTACK_ENDPOINT=$1
LOCALSTACK_MODE=$2
LOCALSTACK_STARTED_BY_UP=$3
LOCALSTACK_PID=${4:-}
LOCALSTACK_CONTAINER=${5:-}
LOCALSTACK_STARTED_AT=$([[ "$3" == "1" ]] && date +%s)
EOF
  mv "$LS_STATE.tmp" "$LS_STATE"
}

finish() { # endpoint
  ls_log "endpoint: $1 (state: $LS_STATE)"
  echo "$1"
  exit 0
}

# ---------------------------------------------------------------- (a) reuse a running one
for candidate in "${LOCALSTACK_ENDPOINT:-}" "${AWS_ENDPOINT_URL:-}"; do
  [[ -n "$candidate" ]] || continue
  candidate="${candidate%/}"
  if ls_health "$candidate"; then
    ls_log "reusing LocalStack at $candidate (from LOCALSTACK_ENDPOINT/AWS_ENDPOINT_URL)"
    if ! ls_read_state || [[ "$STATE_ENDPOINT" != "$candidate" || "$STATE_STARTED" != "1" ]]; then
      write_state "$candidate" external 0
    fi
    finish "$candidate"
  fi
  ls_log "$candidate does not answer /_localstack/health; starting our own"
done
if ls_read_state && [[ "$STATE_STARTED" == "1" ]] && ls_health "$STATE_ENDPOINT"; then
  ls_log "reusing the LocalStack this script started earlier ($STATE_MODE mode)"
  finish "$STATE_ENDPOINT"
fi
if ls_health "$LS_DEFAULT_ENDPOINT"; then
  ls_log "a LocalStack already answers on $LS_DEFAULT_ENDPOINT; reusing it (not started by us)"
  write_state "$LS_DEFAULT_ENDPOINT" external 0
  finish "$LS_DEFAULT_ENDPOINT"
fi
if (exec 3<>"/dev/tcp/127.0.0.1/$LS_PORT") 2>/dev/null; then
  ls_die "port $LS_PORT is taken by something that is not LocalStack; free it or set LOCALSTACK_PORT"
fi

# ---------------------------------------------------------------- shared LocalStack config
export GATEWAY_LISTEN="${GATEWAY_LISTEN:-127.0.0.1:$LS_PORT}"
export LOCALSTACK_HOST="${LOCALSTACK_HOST:-127.0.0.1:$LS_PORT}"  # host part of queue URLs etc.
export SERVICES="${SERVICES:-$LS_SERVICES_DEFAULT}"
export SQS_ENDPOINT_STRATEGY="${SQS_ENDPOINT_STRATEGY:-path}"
export SQS_CLOUDWATCH_METRICS_REPORT_INTERVAL="${SQS_CLOUDWATCH_METRICS_REPORT_INTERVAL:-10}"
export DYNAMODB_IN_MEMORY="${DYNAMODB_IN_MEMORY:-1}"
export DYNAMODB_REMOVE_EXPIRED_ITEMS="${DYNAMODB_REMOVE_EXPIRED_ITEMS:-1}"
export CFN_IGNORE_UNSUPPORTED_RESOURCE_TYPES="${CFN_IGNORE_UNSUPPORTED_RESOURCE_TYPES:-1}"
export LAMBDA_EVENT_SOURCE_MAPPING_MAX_BACKOFF_ON_EMPTY_POLL_SEC="${LAMBDA_EVENT_SOURCE_MAPPING_MAX_BACKOFF_ON_EMPTY_POLL_SEC:-1}"
# LocalStack sleeps 1 s after every poll that returned messages (AWS's pollers do not), which caps a
# lane at one batch per second; poll again almost at once, as AWS does under a backlog.
export LAMBDA_EVENT_SOURCE_MAPPING_POLL_INTERVAL_SEC="${LAMBDA_EVENT_SOURCE_MAPPING_POLL_INTERVAL_SEC:-0.05}"
export LAMBDA_EVENT_SOURCE_MAPPING_MAX_BACKOFF_ON_ERROR_SEC="${LAMBDA_EVENT_SOURCE_MAPPING_MAX_BACKOFF_ON_ERROR_SEC:-5}"
export DISABLE_EVENTS="${DISABLE_EVENTS:-1}"  # no analytics calls home
export SKIP_SSL_CERT_DOWNLOAD="${SKIP_SSL_CERT_DOWNLOAD:-1}"

wait_healthy() { # endpoint pid-or-empty
  local ep="$1" pid="${2:-}" t0=$SECONDS timeout="${LOCALSTACK_START_TIMEOUT:-180}" next=0
  ls_log "waiting for $ep/_localstack/health (timeout ${timeout}s)..."
  until ls_health "$ep"; do
    if [[ -n "$pid" ]] && ! kill -0 "$pid" 2>/dev/null; then
      [[ -f "$LS_LOG" ]] && tail -40 "$LS_LOG" >&2
      ls_die "LocalStack exited during startup (log: $LS_LOG)"
    fi
    if ((SECONDS - t0 >= timeout)); then
      [[ -f "$LS_LOG" ]] && tail -40 "$LS_LOG" >&2
      ls_die "LocalStack did not become healthy within ${timeout}s (log: $LS_LOG)"
    fi
    if ((SECONDS - t0 >= next)); then ls_log "  ...still starting ($((SECONDS - t0))s)"; next=$((next + 5)); fi
    sleep 0.5
  done
  ls_log "healthy after $((SECONDS - t0))s"
}

# ---------------------------------------------------------------- (b) Docker
mode="${LOCALSTACK_MODE:-}"
if [[ -z "$mode" ]]; then
  if command -v docker >/dev/null 2>&1 && timeout 10 docker info >/dev/null 2>&1; then mode=docker; else mode=host; fi
fi
if [[ "$mode" == "docker" ]]; then
  ls_log "Docker daemon answers: running $LS_IMAGE as container $LS_CONTAINER"
  docker rm -f "$LS_CONTAINER" >/dev/null 2>&1 || true
  denv=()
  for v in SERVICES SQS_ENDPOINT_STRATEGY SQS_CLOUDWATCH_METRICS_REPORT_INTERVAL DYNAMODB_IN_MEMORY \
    DYNAMODB_REMOVE_EXPIRED_ITEMS CFN_IGNORE_UNSUPPORTED_RESOURCE_TYPES DISABLE_EVENTS \
    LAMBDA_EVENT_SOURCE_MAPPING_MAX_BACKOFF_ON_EMPTY_POLL_SEC LAMBDA_EVENT_SOURCE_MAPPING_MAX_BACKOFF_ON_ERROR_SEC \
    LAMBDA_EVENT_SOURCE_MAPPING_POLL_INTERVAL_SEC; do
    denv+=(-e "$v=${!v}")
  done
  docker run -d --name "$LS_CONTAINER" -p "127.0.0.1:$LS_PORT:4566" \
    -v /var/run/docker.sock:/var/run/docker.sock "${denv[@]}" "$LS_IMAGE" >/dev/null ||
    ls_die "docker run $LS_IMAGE failed"
  wait_healthy "$LS_DEFAULT_ENDPOINT"
  write_state "$LS_DEFAULT_ENDPOINT" docker 1 "" "$LS_CONTAINER"
  finish "$LS_DEFAULT_ENDPOINT"
fi
[[ "$mode" == "host" ]] || ls_die "LOCALSTACK_MODE must be host or docker (got '$mode')"

# ---------------------------------------------------------------- (c) host mode
ls_log "no Docker daemon: host mode (LocalStack $LS_CORE_VERSION in $LS_VENV)"
command -v node >/dev/null 2>&1 || ls_die "node is required for Lambda functions in host mode"
[[ -d "$LS_ROOT/node_modules/@aws-sdk" ]] || ls_log "warning: $LS_ROOT/node_modules has no @aws-sdk; run npm ci (Lambda bundles may need it)"

# 1. the venv, pinned; re-installed only when the pin or the executor plugin changes
# LocalStack 4.14 uses Python 3.12 syntax (PEP 695) although its metadata says >=3.10; its image runs 3.13
py_ok() { "$1" -c 'import sys, venv; sys.exit(0 if (3,12) <= sys.version_info[:2] < (3,14) else 1)' >/dev/null 2>&1; }
PY="${LOCALSTACK_PYTHON:-}"
if [[ -z "$PY" ]]; then
  pyenv_root="$(pyenv root 2>/dev/null || echo "${PYENV_ROOT:-$HOME/.pyenv}")"
  for c in python3.13 python3.12 python3 $(ls -d "$pyenv_root"/versions/3.13*/bin/python3 "$pyenv_root"/versions/3.12*/bin/python3 2>/dev/null | sort -rV); do
    if command -v "$c" >/dev/null 2>&1 && py_ok "$c"; then PY="$(command -v "$c")"; break; fi
  done
fi
[[ -n "$PY" ]] && py_ok "$PY" || ls_die "Python 3.12 or 3.13 (with venv) is required for host-mode LocalStack: install one (e.g. pyenv install 3.13) or set LOCALSTACK_PYTHON"
PY_VER="$("$PY" -c 'import sys; print("%d.%d" % sys.version_info[:2])')"
exec_hash="$(cd "$LS_SCRIPTS/executor" && find . -type f \( -name '*.py' -o -name '*.toml' \) -not -path '*/build/*' | sort | xargs sha256sum | sha256sum | cut -c1-16)"
CONSTRAINTS="$LS_SCRIPTS/constraints-$LS_CORE_VERSION.txt"
[[ -f "$CONSTRAINTS" ]] || ls_die "no pin list $CONSTRAINTS for LocalStack $LS_CORE_VERSION (its dependency ranges are open-ended and newer releases break it)"
want="python=$PY_VER localstack-core[runtime]==$LS_CORE_VERSION constraints=$(sha256sum "$CONSTRAINTS" | cut -c1-16) executor=$exec_hash"
if [[ ! -x "$LS_VENV/bin/python" || "$(cat "$LS_VENV/.installed" 2>/dev/null)" != "$want" ]]; then
  t0=$SECONDS
  if [[ -x "$LS_VENV/bin/python" && "$("$LS_VENV/bin/python" -c 'import sys; print("%d.%d" % sys.version_info[:2])')" != "$PY_VER" ]]; then
    ls_log "venv has another Python than $PY_VER: recreating it"; rm -rf "$LS_VENV"
  fi
  if [[ ! -x "$LS_VENV/bin/python" ]]; then
    ls_log "creating venv $LS_VENV with $PY ($PY_VER)"
    "$PY" -m venv "$LS_VENV" || ls_die "python -m venv failed (Debian: apt-get install python3-venv)"
  fi
  ls_log "pip install localstack-core[runtime]==$LS_CORE_VERSION (first time: ~2 min)..."
  "$LS_VENV/bin/pip" install -q --disable-pip-version-check -c "$CONSTRAINTS" \
    "localstack-core[runtime]==$LS_CORE_VERSION" wheel >"$LS_DIR/pip.log" 2>&1 ||
    { tail -30 "$LS_DIR/pip.log" >&2; ls_die "pip install failed (log: $LS_DIR/pip.log)"; }
  ls_log "installing the host-node Lambda executor plugin (scripts/localstack/executor)"
  bdir="$LS_DIR/executor-build"; rm -rf "$bdir"; cp -r "$LS_SCRIPTS/executor" "$bdir"
  "$LS_VENV/bin/pip" install -q --disable-pip-version-check --no-build-isolation --no-deps --force-reinstall "$bdir" \
    >>"$LS_DIR/pip.log" 2>&1 || { tail -30 "$LS_DIR/pip.log" >&2; ls_die "installing the executor plugin failed"; }
  rm -rf "$bdir"
  echo "$want" >"$LS_VENV/.installed"
  ls_log "venv ready in $((SECONDS - t0))s"
else
  ls_log "venv up to date ($LS_CORE_VERSION)"
fi

# 2. pre-seed what LocalStack's package installer would download (packages/api.py: a package
#    counts as installed when <var_libs>/<name>/<version>/<marker> exists)
JAVA_BIN="$(command -v java || true)"
[[ -n "${JAVA_HOME:-}" && -x "$JAVA_HOME/bin/java" ]] && JAVA_BIN="$JAVA_HOME/bin/java"
[[ -n "$JAVA_BIN" ]] || ls_die "java (17+) is required for DynamoDB in host mode (apt-get install openjdk-17-jre-headless)"
JAVA_HOME_REAL="$(dirname "$(dirname "$(readlink -f "$JAVA_BIN")")")"
# services/dynamodb/packages.py asks java_package for version "21"; marker java/21/bin/java
mkdir -p "$LS_VAR_LIBS/java"
if [[ "$(readlink "$LS_VAR_LIBS/java/21" 2>/dev/null)" != "$JAVA_HOME_REAL" ]]; then
  ls_log "seeding JRE: $LS_VAR_LIBS/java/21 -> $JAVA_HOME_REAL"
  rm -rf "$LS_VAR_LIBS/java/21"; ln -s "$JAVA_HOME_REAL" "$LS_VAR_LIBS/java/21"
fi
# dynamodb-local/2 with marker DynamoDBLocal.jar, plus the -javaagent jar it always passes
bash "$LS_ROOT/scripts/dynamodb-local.sh" install
DDB_SRC="$(bash "$LS_ROOT/scripts/dynamodb-local.sh" path)"
DDB_DST="$LS_VAR_LIBS/dynamodb-local/2"
AGENT="$LS_DIR/noop-agent/ddb-local-loader-0.1.jar"
if [[ ! -f "$AGENT" ]]; then
  # LocalStack's agent only lifts DynamoDB Local's limit of 20 GSIs; a no-op agent stands in
  ls_log "building a no-op java agent for DynamoDB Local ($AGENT)"
  command -v javac >/dev/null 2>&1 || ls_die "javac (a JDK) is needed once to build the no-op agent jar"
  ab="$LS_DIR/noop-agent/build"; rm -rf "$ab"; mkdir -p "$ab/classes"
  cat >"$ab/NoopAgent.java" <<'EOF'
public final class NoopAgent {
  public static void premain(String args, java.lang.instrument.Instrumentation inst) {}
}
EOF
  printf 'Premain-Class: NoopAgent\n' >"$ab/manifest.txt"
  javac --release 11 -d "$ab/classes" "$ab/NoopAgent.java" && jar --create --file "$AGENT.tmp" --manifest "$ab/manifest.txt" -C "$ab/classes" . ||
    ls_die "could not build the no-op agent jar"
  mv "$AGENT.tmp" "$AGENT"; rm -rf "$ab"
fi
if [[ "$(readlink "$DDB_DST/DynamoDBLocal.jar" 2>/dev/null)" != "$DDB_SRC/DynamoDBLocal.jar" || ! -f "$DDB_DST/ddb-local-loader-0.1.jar" ]]; then
  ls_log "seeding DynamoDB Local: $DDB_DST -> $DDB_SRC"
  rm -rf "$DDB_DST"; mkdir -p "$DDB_DST"
  ln -s "$DDB_SRC/DynamoDBLocal.jar" "$DDB_DST/DynamoDBLocal.jar"
  ln -s "$DDB_SRC/DynamoDBLocal_lib" "$DDB_DST/DynamoDBLocal_lib"
  cp "$AGENT" "$DDB_DST/ddb-local-loader-0.1.jar"
fi

# 3. start
export FILESYSTEM_ROOT="${FILESYSTEM_ROOT:-$LS_FS_ROOT}"
# this machine may itself be a container (/.dockerenv): without this LocalStack would use
# /var/lib/localstack instead of FILESYSTEM_ROOT and container-only networking
export OVERRIDE_IN_DOCKER="${OVERRIDE_IN_DOCKER:-0}"
export DNS_ADDRESS="${DNS_ADDRESS:-0}"
export LAMBDA_RUNTIME_EXECUTOR="${LAMBDA_RUNTIME_EXECUTOR:-host-node}"
# LocalStack's bound on starting an environment includes the host executor's wait for an init
# slot (LAMBDA_HOST_MAX_PARALLEL_INITS); each init has its own bound (LAMBDA_HOST_INIT_TIMEOUT).
# A start that fails costs the event source mapping a receive without running the handler.
export LAMBDA_RUNTIME_ENVIRONMENT_TIMEOUT="${LAMBDA_RUNTIME_ENVIRONMENT_TIMEOUT:-300}"
export LAMBDA_HOST_SHIM="$LS_SCRIPTS/lambda-shim.mjs"
export LAMBDA_HOST_NODE_BIN="${LAMBDA_HOST_NODE_BIN:-$(command -v node)}"
export LAMBDA_HOST_NODE_PATH="${LAMBDA_HOST_NODE_PATH:-$LS_ROOT/node_modules}"
mkdir -p "$FILESYSTEM_ROOT"
{ echo; echo "===== $(date -u +%FT%TZ) up.sh: starting LocalStack $LS_CORE_VERSION (host mode, SERVICES=$SERVICES)"; } >>"$LS_LOG"
ls_log "starting LocalStack (log: $LS_LOG)"
# 8>&-: the child must not inherit (and so hold) the up.lock flock
setsid "$LS_VENV/bin/python" -m localstack.runtime.main </dev/null >>"$LS_LOG" 2>&1 8>&- &
pid=$!
echo "$pid" >"$LS_PIDFILE"
write_state "$LS_DEFAULT_ENDPOINT" host 1 "$pid"
wait_healthy "$LS_DEFAULT_ENDPOINT" "$pid"

# 4. warm up DynamoDB (starts its JVM now rather than in the first test, and proves the seeding)
if [[ ",$SERVICES," == *",dynamodb,"* && "${LOCALSTACK_SKIP_WARMUP:-0}" != "1" ]]; then
  t0=$SECONDS
  code="$(curl -s -m 60 -o "$LS_DIR/warmup.out" -w '%{http_code}' -X POST "$LS_DEFAULT_ENDPOINT/" \
    -H 'X-Amz-Target: DynamoDB_20120810.ListTables' -H 'Content-Type: application/x-amz-json-1.0' \
    -H 'Authorization: AWS4-HMAC-SHA256 Credential=test/20240101/us-east-1/dynamodb/aws4_request, SignedHeaders=host, Signature=0' \
    -d '{}' || true)"
  if [[ "$code" == "200" ]]; then ls_log "DynamoDB ready in $((SECONDS - t0))s"
  else ls_log "warning: DynamoDB warm-up answered HTTP $code: $(head -c 300 "$LS_DIR/warmup.out" 2>/dev/null) (see $LS_LOG)"; fi
fi
finish "$LS_DEFAULT_ENDPOINT"
