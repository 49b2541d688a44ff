#!/usr/bin/env bash
# FerretDB (MongoDB wire protocol on SQLite), the binary built by install.sh.
#   infra/ferretdb.sh start|stop|status
# Env: ONCORELAY_FERRETDB_PORT (27017), ONCORELAY_FERRETDB_DATA_DIR ($ONCORELAY_INFRA_DIR/ferretdb/data),
#      ONCORELAY_FERRETDB_START_TIMEOUT (60 s), ONCORELAY_FERRETDB_DEBUG_ADDR (unset; host:port serves Go pprof).
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

PORT="${ONCORELAY_FERRETDB_PORT:-27017}"
DATA_DIR="$(abspath "${ONCORELAY_FERRETDB_DATA_DIR:-$INFRA_DIR/ferretdb/data}")"
TIMEOUT="${ONCORELAY_FERRETDB_START_TIMEOUT:-60}"
BIN="$INFRA_DIR/bin/ferretdb"
PIDFILE="$RUN_DIR/ferretdb.pid"
LOGFILE="$LOG_DIR/ferretdb.log"
PATTERN="$BIN"
URI="mongodb://127.0.0.1:$PORT/?retryWrites=false"

# A real round trip with the driver the services use.
ping_db() {
  "$PY" -c 'import sys, pymongo; pymongo.MongoClient(sys.argv[1], serverSelectionTimeoutMS=1000).admin.command("ping")' \
    "$URI" >/dev/null 2>&1
}

start() {
  if pid=$(pid_alive "$PIDFILE" "$PATTERN"); then
    log "ferretdb: already running (pid $pid) on 127.0.0.1:$PORT"
    return 0
  fi
  [[ -x $BIN ]] || die "no $BIN: run infra/install.sh"
  [[ -x $PY ]] || die "no $PY: run infra/install.sh"
  tcp_open 127.0.0.1 "$PORT" && die "port $PORT is already in use by another process"

  mkdir -p "$DATA_DIR"
  log "ferretdb: starting on 127.0.0.1:$PORT (data $DATA_DIR, log $LOGFILE)"
  spawn "$PIDFILE" "$LOGFILE" "$BIN" --listen-addr "127.0.0.1:$PORT" --data-dir "$DATA_DIR" \
    ${ONCORELAY_FERRETDB_DEBUG_ADDR:+--debug-addr "$ONCORELAY_FERRETDB_DEBUG_ADDR"}
  # Ready = TCP accept, then a pymongo ping.
  await_ready ferretdb "$PIDFILE" "$PATTERN" "$LOGFILE" "$TIMEOUT" db_ready
  log "ferretdb: $URI"
}

db_ready() { tcp_open 127.0.0.1 "$PORT" && ping_db; }

status() {
  if pid=$(pid_alive "$PIDFILE" "$PATTERN"); then
    log "ferretdb: running (pid $pid) on 127.0.0.1:$PORT, data $DATA_DIR"
  else
    log "ferretdb: stopped"
    return 3
  fi
}

case "${1:-}" in
  start) start ;;
  stop) stop_pid ferretdb "$PIDFILE" "$PATTERN" ;;
  status) status ;;
  *) echo "usage: $0 start|stop|status" >&2; exit 2 ;;
esac
