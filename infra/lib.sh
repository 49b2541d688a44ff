# Shared helpers for the infra/*.sh scripts (sourced, not executed).
# Locations, all overridable from the environment:
#   ONCORELAY_INFRA_DIR  caches (jars, binary), data, pids, logs   default: $REPO/.infra
#   ONCORELAY_RUN_DIR    pid files and rendered configs            default: $INFRA_DIR/run
#   ONCORELAY_LOG_DIR    process logs                              default: $INFRA_DIR/logs

REPO="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
INFRA_DIR="${ONCORELAY_INFRA_DIR:-$REPO/.infra}"
RUN_DIR="${ONCORELAY_RUN_DIR:-$INFRA_DIR/run}"
LOG_DIR="${ONCORELAY_LOG_DIR:-$INFRA_DIR/logs}"
VENV="$REPO/.venv"
PY="$VENV/bin/python"

log() { printf '[%s] %s\n' "$(basename "$0" .sh)" "$*"; }
die() { log "ERROR: $*" >&2; exit 1; }

# Absolute path of $1 (relative paths are taken from the repo root).
abspath() { case "$1" in /*) printf '%s\n' "$1" ;; *) printf '%s\n' "$REPO/$1" ;; esac; }

# pid_alive PIDFILE PATTERN: the pid file names a live (non-zombie) process whose command line
# contains PATTERN (guards against a stale pid file whose pid was reused). Prints the pid.
pid_alive() {
  local pidfile=$1 pattern=$2 pid state
  [[ -s $pidfile ]] || return 1
  pid=$(<"$pidfile")
  [[ $pid =~ ^[0-9]+$ ]] || return 1
  [[ -r /proc/$pid/stat ]] || return 1
  state=$(awk '{print $3}' "/proc/$pid/stat" 2>/dev/null) || return 1
  [[ $state != Z ]] || return 1
  tr '\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null | grep -qF -- "$pattern" || return 1
  printf '%s\n' "$pid"
}

# spawn PIDFILE LOGFILE CMD...: run CMD in its own session (so a Ctrl-C in the caller's terminal
# does not reach it), output to LOGFILE (the previous log is kept as LOGFILE.prev). The process
# writes its own pid before exec, so the pid file is right even if setsid has to fork.
spawn() {
  local pidfile=$1 logfile=$2; shift 2
  mkdir -p "$(dirname "$pidfile")" "$(dirname "$logfile")"
  rm -f "$pidfile"
  [[ -e $logfile ]] && mv -f "$logfile" "$logfile.prev"
  setsid bash -c 'echo $$ >"$0"; exec "$@"' "$pidfile" "$@" >"$logfile" 2>&1 </dev/null &
  local i
  for ((i = 0; i < 50; i++)); do [[ -s $pidfile ]] && return 0; sleep 0.1; done
  die "process did not start: $*"
}

# stop_pid NAME PIDFILE PATTERN: SIGTERM, wait up to 20 s, then SIGKILL the process group.
stop_pid() {
  local name=$1 pidfile=$2 pattern=$3 pid i
  if ! pid=$(pid_alive "$pidfile" "$pattern"); then
    rm -f "$pidfile"
    log "$name: not running"
    return 0
  fi
  log "$name: stopping (pid $pid)"
  kill -TERM "$pid" 2>/dev/null || true
  for ((i = 0; i < 200; i++)); do
    pid_alive "$pidfile" "$pattern" >/dev/null || break
    sleep 0.1
  done
  if pid_alive "$pidfile" "$pattern" >/dev/null; then
    log "$name: still alive after 20 s, sending SIGKILL"
    kill -KILL -- "-$pid" 2>/dev/null || kill -KILL "$pid" 2>/dev/null || true
    while pid_alive "$pidfile" "$pattern" >/dev/null; do sleep 0.1; done
  fi
  # Anything the process left behind in its session/process group goes too.
  kill -KILL -- "-$pid" 2>/dev/null || true
  rm -f "$pidfile"
  log "$name: stopped"
}

# tcp_open HOST PORT: true if something accepts TCP connections there.
tcp_open() { (exec 3<>"/dev/tcp/$1/$2") 2>/dev/null; }

# tail_log FILE: show the end of a log after a failure.
tail_log() {
  [[ -f $1 ]] || return 0
  echo "----- last 40 lines of $1 -----" >&2
  tail -n 40 "$1" >&2
  echo "-----" >&2
}

# await_ready NAME PIDFILE PATTERN LOGFILE TIMEOUT CHECK...: poll CHECK (a command) every 0.2 s until it
# succeeds; fail at once if the process dies, or after TIMEOUT seconds. Never a fixed sleep.
await_ready() {
  local name=$1 pidfile=$2 pattern=$3 logfile=$4 timeout=$5 t0=$SECONDS; shift 5
  while ((SECONDS - t0 < timeout)); do
    if ! pid_alive "$pidfile" "$pattern" >/dev/null; then
      tail_log "$logfile"
      die "$name exited during start-up"
    fi
    if "$@"; then
      log "$name: ready after $((SECONDS - t0)) s (pid $(<"$pidfile"))"
      return 0
    fi
    sleep 0.2
  done
  tail_log "$logfile"
  die "$name not ready after $timeout s (still running, pid $(<"$pidfile"); stop it with: $0 stop)"
}
