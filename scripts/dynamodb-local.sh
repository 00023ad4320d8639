#!/usr/bin/env bash
# DynamoDB Local (AWS's Java DynamoDB engine) from Maven Central, no Docker, no other download.
#
#   bash scripts/dynamodb-local.sh install        # fetch into .local/dynamodb-local/ (idempotent)
#   bash scripts/dynamodb-local.sh start [port]   # in-memory, shared DB, default port 8000
#   bash scripts/dynamodb-local.sh stop [port]    # stop one (or, without port, all we started)
#   bash scripts/dynamodb-local.sh status [port]
#   bash scripts/dynamodb-local.sh path           # print the install dir
#
# Layout after install (the layout of AWS's distribution zip, which LocalStack also expects):
#   .local/dynamodb-local/DynamoDBLocal.jar        Maven jar, manifest Class-Path rewritten
#   .local/dynamodb-local/DynamoDBLocal_lib/       runtime deps + libsqlite4java-linux-amd64.so
#   .local/dynamodb-local/.installed               marker: the Maven coordinates installed
#   .local/dynamodb-local/run/ddb-<port>.{pid,log} one per started server
#
# Env: DYNAMODB_LOCAL_VERSION (default 3.3.1; 2.x selects com.amazonaws:DynamoDBLocal),
#      DYNAMODB_LOCAL_DIR (default <repo>/.local/dynamodb-local), JAVA_HOME (java >= 17),
#      DYNAMODB_LOCAL_START_TIMEOUT (seconds, default 60).
# Needs: mvn (install only), java 17+, curl.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
DIR="${DYNAMODB_LOCAL_DIR:-$ROOT/.local/dynamodb-local}"
VERSION="${DYNAMODB_LOCAL_VERSION:-3.3.1}"
case "$VERSION" in
  2.*) GROUP="com.amazonaws" ;;
  *) GROUP="software.amazon.dynamodb" ;;
esac
GAV="$GROUP:DynamoDBLocal:$VERSION"
RUN_DIR="$DIR/run"

log() { echo "[dynamodb-local] $*" >&2; }
die() { echo "[dynamodb-local] ERROR: $*" >&2; exit 1; }

java_bin() {
  local j
  if [[ -n "${JAVA_HOME:-}" && -x "$JAVA_HOME/bin/java" ]]; then j="$JAVA_HOME/bin/java"
  elif command -v java >/dev/null 2>&1; then j="$(command -v java)"
  else die "no java found (need a JRE/JDK >= 17 on PATH or in JAVA_HOME; e.g. apt-get install openjdk-17-jre-headless)"
  fi
  local major
  major="$("$j" -XshowSettings:properties -version 2>&1 | sed -n 's/^ *java\.specification\.version = //p' | cut -d. -f1)"
  if [[ -z "$major" || "$major" -lt 17 ]]; then
    die "$j is Java '${major:-unknown}'; DynamoDB Local $VERSION needs Java >= 17"
  fi
  echo "$j"
}

is_installed() {
  [[ -f "$DIR/DynamoDBLocal.jar" && -f "$DIR/DynamoDBLocal_lib/libsqlite4java-linux-amd64.so" && -f "$DIR/.installed" ]] &&
    [[ "$(cat "$DIR/.installed")" == "$GAV" ]]
}

cmd_install() {
  if is_installed; then
    log "already installed: $GAV in $DIR"
    return 0
  fi
  mkdir -p "$DIR"
  # serialise concurrent installs (parallel test runs from the same checkout)
  exec 9>"$DIR/.install.lock"
  flock 9
  if is_installed; then log "already installed (by a concurrent run): $GAV"; return 0; fi
  command -v mvn >/dev/null 2>&1 || die "mvn not found: install Maven (apt-get install maven) to fetch $GAV from Maven Central"
  command -v jar >/dev/null 2>&1 || command -v "${JAVA_HOME:-/nonexistent}/bin/jar" >/dev/null 2>&1 ||
    die "the 'jar' tool (from a JDK) is needed to rewrite DynamoDBLocal.jar's manifest"
  local JAR; JAR="$(command -v jar || echo "$JAVA_HOME/bin/jar")"
  local stage="$DIR/.stage"
  rm -rf "$stage"; mkdir -p "$stage/lib" "$stage/out/DynamoDBLocal_lib"
  cat >"$stage/pom.xml" <<EOF
<project xmlns="http://maven.apache.org/POM/4.0.0">
  <modelVersion>4.0.0</modelVersion>
  <groupId>local.sqs-jobs</groupId><artifactId>dynamodb-local-fetch</artifactId><version>1</version>
  <packaging>pom</packaging>
  <dependencies>
    <dependency><groupId>$GROUP</groupId><artifactId>DynamoDBLocal</artifactId><version>$VERSION</version></dependency>
  </dependencies>
</project>
EOF
  log "fetching $GAV and its runtime dependencies from Maven Central (mvn dependency:copy-dependencies)..."
  local t0=$SECONDS
  if ! mvn -B -q -f "$stage/pom.xml" dependency:copy-dependencies \
      -DincludeScope=runtime -DoutputDirectory="$stage/lib" >"$stage/mvn.log" 2>&1; then
    tail -30 "$stage/mvn.log" >&2
    die "mvn could not fetch $GAV (log: $stage/mvn.log)"
  fi
  log "fetched $(ls "$stage/lib" | wc -l) files in $((SECONDS - t0))s"
  local main_jar="$stage/lib/DynamoDBLocal-$VERSION.jar"
  [[ -f "$main_jar" ]] || die "DynamoDBLocal-$VERSION.jar missing from the Maven download"
  local so
  so="$(ls "$stage/lib"/libsqlite4java-linux-amd64-*.so 2>/dev/null | head -1 || true)"
  [[ -n "$so" ]] || die "sqlite4java native library for linux x64 (libsqlite4java-linux-amd64-*.so) missing from the Maven download"
  mv "$main_jar" "$stage/out/DynamoDBLocal.jar"
  cp "$stage/lib"/* "$stage/out/DynamoDBLocal_lib/"
  # sqlite4java looks for the un-versioned name too; the AWS distribution ships it that way
  cp "$so" "$stage/out/DynamoDBLocal_lib/libsqlite4java-linux-amd64.so"
  # The Maven jar's manifest Class-Path names the jars of AWS's zip distribution; point it at
  # the jars Maven gave us instead, so `java -jar DynamoDBLocal.jar` (LocalStack's way) works.
  (
    cd "$stage/out"
    { printf 'Class-Path: .\n'; for f in DynamoDBLocal_lib/*.jar; do printf '  %s\n' "$f"; done; } >"$stage/classpath.mf"
    "$JAR" --update --file DynamoDBLocal.jar --manifest "$stage/classpath.mf"
  ) 2>"$stage/jar.log" || { cat "$stage/jar.log" >&2; die "could not rewrite the DynamoDBLocal.jar manifest"; }
  rm -rf "$DIR/DynamoDBLocal.jar" "$DIR/DynamoDBLocal_lib"
  mv "$stage/out/DynamoDBLocal.jar" "$stage/out/DynamoDBLocal_lib" "$DIR/"
  echo "$GAV" >"$DIR/.installed"
  rm -rf "$stage"
  log "installed $GAV into $DIR in $((SECONDS - t0))s"
}

answers() { # port -> 0 if DynamoDB answers a ListTables
  curl -s -m 2 -o /dev/null -w '%{http_code}' -X POST "http://127.0.0.1:$1/" \
    -H 'X-Amz-Target: DynamoDB_20120810.ListTables' -H 'Content-Type: application/x-amz-json-1.0' \
    -H 'Authorization: AWS4-HMAC-SHA256 Credential=test/20240101/us-east-1/dynamodb/aws4_request, SignedHeaders=host, Signature=0' \
    -d '{}' 2>/dev/null | grep -q '^200$'
}

pid_alive() { [[ -f "$1" ]] && kill -0 "$(cat "$1")" 2>/dev/null; }

cmd_start() {
  local port="${1:-8000}"
  local pidf="$RUN_DIR/ddb-$port.pid" logf="$RUN_DIR/ddb-$port.log"
  mkdir -p "$RUN_DIR"
  if pid_alive "$pidf" && answers "$port"; then
    log "already running on 127.0.0.1:$port (pid $(cat "$pidf"))"
    echo "http://127.0.0.1:$port"; return 0
  fi
  if answers "$port"; then
    die "port $port already answers as DynamoDB but was not started by this script; use it via DYNAMODB_ENDPOINT or pick another port"
  fi
  if (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then die "port $port is in use by another process"; fi
  cmd_install
  local java; java="$(java_bin)"
  log "starting DynamoDB Local $VERSION in memory on port $port (log: $logf)"
  # DynamoDB Local has no bind-address option; clients use 127.0.0.1.
  (cd "$DIR" && exec setsid "$java" -Xms64m -Djava.library.path="$DIR/DynamoDBLocal_lib" \
      -jar "$DIR/DynamoDBLocal.jar" -inMemory -sharedDb -port "$port" -disableTelemetry \
      </dev/null >"$logf" 2>&1 9>&-) &
  echo $! >"$pidf"
  local timeout="${DYNAMODB_LOCAL_START_TIMEOUT:-60}" t0=$SECONDS
  until answers "$port"; do
    if ! pid_alive "$pidf"; then
      tail -20 "$logf" >&2; rm -f "$pidf"; die "DynamoDB Local exited during startup (log above: $logf)"
    fi
    if ((SECONDS - t0 > timeout)); then
      tail -20 "$logf" >&2; cmd_stop "$port"; die "DynamoDB Local did not answer on port $port within ${timeout}s"
    fi
    sleep 0.3
  done
  log "ready on http://127.0.0.1:$port after $((SECONDS - t0))s (pid $(cat "$pidf"))"
  echo "http://127.0.0.1:$port"
}

stop_pidfile() {
  local pidf="$1" pid
  pid="$(cat "$pidf" 2>/dev/null || true)"
  if [[ -n "$pid" ]] && kill -0 "$pid" 2>/dev/null; then
    log "stopping pid $pid ($(basename "$pidf" .pid))"
    kill "$pid" 2>/dev/null || true
    for _ in $(seq 1 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    kill -9 "$pid" 2>/dev/null || true
  else
    log "not running ($(basename "$pidf" .pid))"
  fi
  rm -f "$pidf"
}

cmd_stop() {
  if [[ -n "${1:-}" ]]; then
    if [[ -f "$RUN_DIR/ddb-$1.pid" ]]; then stop_pidfile "$RUN_DIR/ddb-$1.pid"; else log "nothing started by this script on port $1"; fi
    return 0
  fi
  shopt -s nullglob
  local any=0
  for f in "$RUN_DIR"/ddb-*.pid; do any=1; stop_pidfile "$f"; done
  ((any)) || log "nothing to stop"
}

cmd_status() {
  local port="${1:-8000}"
  if answers "$port"; then log "answering on http://127.0.0.1:$port"; else log "not answering on port $port"; return 1; fi
}

case "${1:-}" in
  install) cmd_install ;;
  start) shift; cmd_start "$@" ;;
  stop) shift; cmd_stop "$@" ;;
  status) shift; cmd_status "$@" ;;
  path) echo "$DIR" ;;
  *) echo "usage: $0 install | start [port] | stop [port] | status [port] | path" >&2; exit 2 ;;
esac
