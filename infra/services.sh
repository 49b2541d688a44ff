#!/usr/bin/env bash
# The three oncorelay services (python -m services.<name>) as background processes.
#   infra/services.sh start [NAME...]   start (all by default) and wait until /readyz answers 200
#   infra/services.sh stop [NAME...]    SIGTERM, SIGKILL after 20 s
#   infra/services.sh status [NAME...]
#   infra/services.sh restart NAME...   stop + start
#   infra/services.sh kill9 NAME...     SIGKILL without clean-up (chaos tests)
# They read the ONCORELAY_* environment (services/common/settings.py); ports from
# ONCORELAY_{INGEST,ANNOTATE,NOTIFY}_PORT (8101-8103). Logs: $ONCORELAY_LOG_DIR/<name>.log.
# Env: ONCORELAY_SERVICES_START_TIMEOUT (120 s).
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
cd "$REPO" # the services resolve relative paths (e.g. ONCORELAY_DATA_DIR) from the repo root

ALL=(ingest annotate notify)
TIMEOUT="${ONCORELAY_SERVICES_START_TIMEOUT:-120}"

port_of() {
  case "$1" in
    ingest) echo "${ONCORELAY_INGEST_PORT:-8101}" ;;
    annotate) echo "${ONCORELAY_ANNOTATE_PORT:-8102}" ;;
    notify) echo "${ONCORELAY_NOTIFY_PORT:-8103}" ;;
    *) die "unknown service '$1' (expected one of: ${ALL[*]})" ;;
  esac
}
# Where to reach a service: its bind host, or loopback when it binds every interface.
HOST="${ONCORELAY_BIND_HOST:-127.0.0.1}"
[[ $HOST == 0.0.0.0 ]] && HOST=127.0.0.1

pidfile() { echo "$RUN_DIR/$1.pid"; }
logfile() { echo "$LOG_DIR/$1.log"; }
pattern() { echo "services.$1"; }
ready() { curl -fsS -o /dev/null --max-time 2 "http://$HOST:$(port_of "$1")/readyz" 2>/dev/null; }

start() {
  local name pid started=()
  for name in "$@"; do
    if pid=$(pid_alive "$(pidfile "$name")" "$(pattern "$name")"); then
      log "$name: already running (pid $pid) on $HOST:$(port_of "$name")"
      continue
    fi
    tcp_open "$HOST" "$(port_of "$name")" && die "$name: port $(port_of "$name") is already in use"
    log "$name: starting on $HOST:$(port_of "$name") (log $(logfile "$name"))"
    spawn "$(pidfile "$name")" "$(logfile "$name")" "$PY" -m "services.$name"
    started+=("$name")
  done

  # Started in parallel; now wait for each /readyz.
  local t0=$SECONDS
  for name in "${started[@]}"; do
    until ready "$name"; do
      if ! pid_alive "$(pidfile "$name")" "$(pattern "$name")" >/dev/null; then
        tail_log "$(logfile "$name")"
        die "$name exited during start-up"
      fi
      if ((SECONDS - t0 >= TIMEOUT)); then
        tail_log "$(logfile "$name")"
        die "$name: /readyz not 200 after $TIMEOUT s"
      fi
      sleep 0.3
    done
    log "$name: ready after $((SECONDS - t0)) s (pid $(<"$(pidfile "$name")"))"
  done
}

stop() {
  local name
  for name in "$@"; do stop_pid "$name" "$(pidfile "$name")" "$(pattern "$name")"; done
}

kill9() {
  local name pid
  for name in "$@"; do
    if pid=$(pid_alive "$(pidfile "$name")" "$(pattern "$name")"); then
      log "$name: SIGKILL (pid $pid)"
      kill -KILL -- "-$pid" 2>/dev/null || kill -KILL "$pid" 2>/dev/null || true
      while pid_alive "$(pidfile "$name")" "$(pattern "$name")" >/dev/null; do sleep 0.1; done
      rm -f "$(pidfile "$name")"
    else
      log "$name: not running"
    fi
  done
}

status() {
  local name pid rc=0
  for name in "$@"; do
    if pid=$(pid_alive "$(pidfile "$name")" "$(pattern "$name")"); then
      local r="not ready"
      ready "$name" && r=ready
      log "$name: running (pid $pid) on $HOST:$(port_of "$name"), $r"
    else
      log "$name: stopped"
      rc=3
    fi
  done
  return $rc
}

cmd="${1:-}"
shift || true
names=("$@")
for n in "${names[@]}"; do port_of "$n" >/dev/null; done # validate names
case "$cmd" in
  restart | kill9) ((${#names[@]})) || die "usage: $0 $cmd NAME..." ;;
  *) ((${#names[@]})) || names=("${ALL[@]}") ;;
esac
case "$cmd" in
  start) start "${names[@]}" ;;
  stop) stop "${names[@]}" ;;
  status) status "${names[@]}" ;;
  restart) stop "${names[@]}"; start "${names[@]}" ;;
  kill9) kill9 "${names[@]}" ;;
  *) echo "usage: $0 start|stop|status [NAME...] | restart|kill9 NAME...  (NAME: ${ALL[*]})" >&2; exit 2 ;;
esac
