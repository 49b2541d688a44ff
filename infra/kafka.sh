#!/usr/bin/env bash
# Single-node Kafka (KRaft, broker+controller) from the Maven jars fetched by install.sh.
#   infra/kafka.sh start|stop|status
# Env: ONCORELAY_KAFKA_PORT (9092), ONCORELAY_KAFKA_CONTROLLER_PORT (9093),
#      ONCORELAY_KAFKA_DATA_DIR ($ONCORELAY_INFRA_DIR/kafka/data), ONCORELAY_KAFKA_START_TIMEOUT (90 s).
# The data dir is formatted only once, so a restart keeps topics, messages and offsets.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

PORT="${ONCORELAY_KAFKA_PORT:-9092}"
CONTROLLER_PORT="${ONCORELAY_KAFKA_CONTROLLER_PORT:-9093}"
DATA_DIR="$(abspath "${ONCORELAY_KAFKA_DATA_DIR:-$INFRA_DIR/kafka/data}")"
TIMEOUT="${ONCORELAY_KAFKA_START_TIMEOUT:-90}"
LIBS="$INFRA_DIR/kafka/libs"
PIDFILE="$RUN_DIR/kafka.pid"
LOGFILE="$LOG_DIR/kafka.log"
CONFIG="$RUN_DIR/kafka-server.properties"
PATTERN="kafka.Kafka"

# Serial GC: on a small heap and two cores G1's concurrent machinery cost more CPU than it saved
# (bench burst of 300 results: 15.1-15.3 -> 12.8-13.3 ms of broker CPU per result; pauses of a few ms).
JAVA_OPTS=(-Xms256m -Xmx768m -XX:+UseSerialGC
  -Djava.awt.headless=true "-Dlog4j2.configurationFile=$REPO/infra/kafka/log4j2.properties")

start() {
  if pid=$(pid_alive "$PIDFILE" "$PATTERN"); then
    log "kafka: already running (pid $pid) on 127.0.0.1:$PORT"
    return 0
  fi
  ls "$LIBS"/kafka_2.13-*.jar >/dev/null 2>&1 || die "no Kafka jars in $LIBS: run infra/install.sh"
  tcp_open 127.0.0.1 "$PORT" && die "port $PORT is already in use by another process"
  tcp_open 127.0.0.1 "$CONTROLLER_PORT" && die "port $CONTROLLER_PORT is already in use by another process"

  # Render the config (ports and data dir may change between runs).
  mkdir -p "$RUN_DIR" "$DATA_DIR"
  sed -e "s#@ABS_DATA_DIR@#$DATA_DIR#g" -e "s#@PORT@#$PORT#g" -e "s#@CONTROLLER_PORT@#$CONTROLLER_PORT#g" \
    "$REPO/infra/kafka/server.properties" >"$CONFIG"

  # Format the storage once (static voters, so no --standalone).
  if [[ ! -f $DATA_DIR/meta.properties ]]; then
    log "kafka: formatting $DATA_DIR"
    cid=$(java "${JAVA_OPTS[@]}" -cp "$LIBS/*" kafka.tools.StorageTool random-uuid)
    java "${JAVA_OPTS[@]}" -cp "$LIBS/*" kafka.tools.StorageTool format -t "$cid" -c "$CONFIG" >/dev/null
  fi

  log "kafka: starting on 127.0.0.1:$PORT (data $DATA_DIR, log $LOGFILE)"
  spawn "$PIDFILE" "$LOGFILE" java "${JAVA_OPTS[@]}" -cp "$LIBS/*" kafka.Kafka "$CONFIG"
  # Ready = the broker logged its start-up line AND accepts connections.
  await_ready kafka "$PIDFILE" "$PATTERN" "$LOGFILE" "$TIMEOUT" broker_ready
}

broker_ready() { grep -q 'Kafka Server started' "$LOGFILE" && tcp_open 127.0.0.1 "$PORT"; }

status() {
  if pid=$(pid_alive "$PIDFILE" "$PATTERN"); then
    log "kafka: running (pid $pid) on 127.0.0.1:$PORT, data $DATA_DIR"
  else
    log "kafka: stopped"
    return 3
  fi
}

case "${1:-}" in
  start) start ;;
  stop) stop_pid kafka "$PIDFILE" "$PATTERN" ;;
  status) status ;;
  *) echo "usage: $0 start|stop|status" >&2; exit 2 ;;
esac
