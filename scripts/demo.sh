#!/usr/bin/env bash
# burrow-rs in a minute: a local Kafka-compatible broker (noida-db, the test services' broker),
# a producer and five consumer groups that reach OK, WARN, STOP, STALL and REWIND within a
# minute (crates/burrow-kafka/examples/demo-feed.rs), and `burrow-cli serve` with its
# dashboard. Prints the dashboard's URL; Ctrl-C stops everything.
#
#   scripts/demo.sh
#
# Environment: BURROW_DEMO_PORT (the HTTP port, default 8000, or a free one when taken),
# BURROW_DEMO_NOIDA (a noida-db executable; default: the test services' venv, installed with
# pip into .test-services/venv when missing), BURROW_DEMO_BIN and BURROW_DEMO_FEED (built
# burrow-cli and demo-feed executables to use instead of building them).
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT="$PWD"
DIR="$(mktemp -d "${TMPDIR:-/tmp}/burrow-demo.XXXXXX")"
PIDS=()

say() { printf 'demo: %s\n' "$*" >&2; }

free_port() {
  python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1]); s.close()'
}

port_free() {
  python3 -c "import socket,sys; s=socket.socket(); s.bind(('127.0.0.1',$1)); s.close()" 2>/dev/null
}

wait_port() { # port name logfile
  for _ in $(seq 1 150); do
    if python3 -c "import socket; socket.create_connection(('127.0.0.1',$1),0.2)" 2>/dev/null; then return 0; fi
    sleep 0.1
  done
  say "$2 did not open port $1; its log:"
  tail -n 20 "$3" >&2 || true
  return 1
}

stop_all() {
  trap - INT TERM EXIT
  for pid in "${PIDS[@]}"; do
    kill -TERM -- "-$pid" 2>/dev/null || kill -TERM "$pid" 2>/dev/null || true
  done
  for pid in "${PIDS[@]}"; do
    for _ in $(seq 1 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    kill -KILL -- "-$pid" 2>/dev/null || true
  done
  say "stopped; logs are in $DIR"
}
trap stop_all INT TERM EXIT

noida_bin() {
  if [ -n "${BURROW_DEMO_NOIDA:-}" ]; then echo "$BURROW_DEMO_NOIDA"; return; fi
  local venv="$ROOT/.test-services/venv"
  if [ ! -x "$venv/bin/noida-db" ]; then
    say "installing noida-db 0.2.3 into $venv (once)"
    [ -x "$venv/bin/python" ] || python3 -m venv "$venv"
    "$venv/bin/pip" install --quiet --disable-pip-version-check noida-db==0.2.3
  fi
  echo "$venv/bin/noida-db"
}

NOIDA="$(noida_bin)"
TARGET="$(cargo metadata --format-version 1 --no-deps | python3 -c 'import json,sys; print(json.load(sys.stdin)["target_directory"])')/debug"
SERVE="${BURROW_DEMO_BIN:-}"
FEED="${BURROW_DEMO_FEED:-}"
if [ -z "$SERVE" ]; then
  say "building burrow-cli"
  cargo build --quiet -p burrow-cli
  SERVE="$TARGET/burrow-cli"
fi
if [ -z "$FEED" ]; then
  say "building the demo feed"
  cargo build --quiet -p burrow-kafka --example demo-feed
  FEED="$TARGET/examples/demo-feed"
fi

KAFKA_PORT="$(free_port)"
HTTP_PORT="${BURROW_DEMO_PORT:-8000}"
if ! port_free "$HTTP_PORT"; then
  HTTP_PORT="$(free_port)"
fi

mkdir -p "$DIR/noida-data"
setsid "$NOIDA" start --data-dir "$DIR/noida-data" --host 127.0.0.1 --only kafka --kafka-port "$KAFKA_PORT" \
  >"$DIR/noida.log" 2>&1 &
PIDS+=("$!")
wait_port "$KAFKA_PORT" noida-db "$DIR/noida.log"
say "broker (noida-db) on 127.0.0.1:$KAFKA_PORT"

setsid "$FEED" "127.0.0.1:$KAFKA_PORT" >"$DIR/feed.log" 2>&1 &
PIDS+=("$!")

cat >"$DIR/burrow.toml" <<TOML
# The demo's configuration: short windows so that every status shows within a minute.
[general]
pidfile = "$DIR/burrow.pid"

[logging]
level = "info"

[storage.default]
class-name = "inmemory"
intervals = 5

[cluster.demo]
class-name = "kafka"
servers = ["127.0.0.1:$KAFKA_PORT"]
offset-refresh = 1
topic-refresh = 5
lag-seconds = true

[consumer.demo]
class-name = "kafka"
cluster = "demo"
servers = ["127.0.0.1:$KAFKA_PORT"]

[evaluator.default]
expire-cache = 1

[httpserver.default]
address = "127.0.0.1:$HTTP_PORT"
TOML

setsid "$SERVE" serve --config "$DIR/burrow.toml" >"$DIR/serve.log" 2>&1 &
PIDS+=("$!")
wait_port "$HTTP_PORT" burrow-cli "$DIR/serve.log"

cat >&2 <<EOF

  Dashboard:  http://127.0.0.1:$HTTP_PORT/ui/
  API:        http://127.0.0.1:$HTTP_PORT/v3/kafka/demo/consumer
  Metrics:    http://127.0.0.1:$HTTP_PORT/metrics

  Within a minute: checkout OK, billing WARN, reports STOP, archiver STALL, replayer REWIND
  (a group with a STOP, STALL or REWIND partition is ERR). Logs: $DIR
  Ctrl-C stops the broker, the feed and the server.

EOF
# Until Ctrl-C, or until one of them ends.
while true; do
  for pid in "${PIDS[@]}"; do
    if ! kill -0 "$pid" 2>/dev/null; then
      say "a process ended (pid $pid); see the logs in $DIR"
      tail -n 5 "$DIR"/*.log >&2 || true
      exit 1
    fi
  done
  sleep 1
done
