# server.bash — starting and stopping private dafs-servers, shared by the
# scripts (bench, bench-direct, bench-latency, demo) and the BATS helpers
# (bats/helpers.bash). Sourced, not run: the servers must be children of
# the caller's own shell, so that `wait` gives their exit status. Sets no
# shell options and works under `set -euo pipefail`; prints nothing unless
# a function says so. Every wait is bounded.
#
#   dafs_free_port
#       prints a TCP port on 127.0.0.1 that nobody listens on right now
#   dafs_shm_url PREFIX
#       prints shm://PREFIX-PID-RANDOM: a name no other run uses
#   dafs_server_start BIN EXPORT URL LOG [ARGS...]
#       runs BIN --export EXPORT --listen URL ARGS in the background (stderr
#       appended to LOG, fd 3 closed: bats waits for every holder of it) and
#       waits until a client gets an answer from it. URL tcp://HOST:0 means
#       "a free port": one is picked, and another when the server exits at
#       startup (the port was taken between the choice and the bind).
#       Sets DAFS_SERVER_PID and DAFS_SERVER_URL. Returns 0 when it answers;
#       1 when it did not answer within DAFS_SERVER_START_TIMEOUT seconds
#       (it is then stopped); 2 when it exited (its exit status in
#       DAFS_SERVER_STATUS). DAFS_SERVER_PROBE_ERR holds the last probe's
#       complaint; dafs_server_report prints it with the log's end.
#   dafs_server_stop PID
#       SIGTERM, a wait of DAFS_SERVER_STOP_TIMEOUT seconds, then SIGKILL.
#       Sets DAFS_SERVER_STATUS (its exit status) and DAFS_SERVER_KILLED
#       (1 when it ignored SIGTERM and was killed).
#   dafs_server_kill PID
#       SIGKILL at once (the way a crash looks to clients), and reap it
#   dafs_server_stop_all
#       dafs_server_stop for every server dafs_server_start started that is
#       not stopped yet (for an EXIT trap)
#   dafs_server_report LOG
#       why a server did not come up: the last probe's complaint and the
#       last lines of its log
#
# Settings (defaults in brackets):
#   DAFS_PROBE_BIN              the dafs command that asks the server [the
#                               `dafs` beside BIN]
#   DAFS_SERVER_START_TIMEOUT   seconds for a new server to answer [10]
#   DAFS_SERVER_STOP_TIMEOUT    seconds between SIGTERM and SIGKILL [10]

DAFS_SERVER_START_TIMEOUT=${DAFS_SERVER_START_TIMEOUT:-10}
DAFS_SERVER_STOP_TIMEOUT=${DAFS_SERVER_STOP_TIMEOUT:-10}
DAFS_SERVER_TCP_ATTEMPTS=5     # free ports tried when a server exits at startup
DAFS_SERVER_PROBE_TIMEOUT=5    # seconds for one "does it answer" attempt
DAFS_SERVER_PIDS=()            # started, not yet stopped
DAFS_SERVER_PID='' DAFS_SERVER_URL='' DAFS_SERVER_STATUS='' DAFS_SERVER_KILLED=0
DAFS_SERVER_PROBE_ERR=''

_dafs_now_ms() {
  local t=${EPOCHREALTIME/./}
  echo $((t / 1000))
}

dafs_free_port() {
  # The kernel's choice of an unused port is the best guess there is; the
  # fallback checks random ones against what listens now.
  if python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])' \
    2>/dev/null; then
    return 0
  fi
  local port
  for _ in $(seq 50); do
    port=$((20000 + RANDOM % 40000))
    if ! ss -Hltn "sport = :$port" 2>/dev/null | grep -q .; then
      echo "$port"
      return 0
    fi
  done
  return 1
}

dafs_shm_url() {
  echo "shm://$1-$$-$RANDOM"
}

_dafs_untrack() {
  local pid=$1 kept=() p
  for p in "${DAFS_SERVER_PIDS[@]}"; do
    [ "$p" = "$pid" ] || kept+=("$p")
  done
  DAFS_SERVER_PIDS=("${kept[@]}")
}

# One server on one URL: 0 answered, 1 no answer in time (stopped), 2 exited.
_dafs_server_start_once() {
  local bin=$1 export_dir=$2 url=$3 log=$4
  shift 4
  local probe=${DAFS_PROBE_BIN:-$(dirname "$bin")/dafs} deadline probe_rc
  "$bin" --export "$export_dir" --listen "$url" "$@" 2>>"$log" 3>&- &
  DAFS_SERVER_PID=$!
  DAFS_SERVER_URL=$url
  DAFS_SERVER_PIDS+=("$DAFS_SERVER_PID")
  DAFS_SERVER_PROBE_ERR=''
  deadline=$(($(_dafs_now_ms) + DAFS_SERVER_START_TIMEOUT * 1000))
  while [ "$(_dafs_now_ms)" -lt "$deadline" ]; do
    if ! kill -0 "$DAFS_SERVER_PID" 2>/dev/null; then
      DAFS_SERVER_STATUS=0
      wait "$DAFS_SERVER_PID" 2>/dev/null || DAFS_SERVER_STATUS=$?
      _dafs_untrack "$DAFS_SERVER_PID"
      DAFS_SERVER_PID=''
      return 2
    fi
    # Until it answers, the probes' errors are expected; the last is kept.
    probe_rc=0
    DAFS_SERVER_PROBE_ERR=$(timeout "$DAFS_SERVER_PROBE_TIMEOUT" "$probe" --server "$url" \
      ls / 2>&1 >/dev/null) || probe_rc=$?
    [ "$probe_rc" -ne 0 ] || return 0
    [ "$probe_rc" -ne 124 ] ||
      DAFS_SERVER_PROBE_ERR="no answer within $DAFS_SERVER_PROBE_TIMEOUT s (timeout)"
    sleep 0.1
  done
  dafs_server_stop "$DAFS_SERVER_PID"
  DAFS_SERVER_PID=''
  return 1
}

dafs_server_start() {
  local bin=$1 export_dir=$2 url=$3 log=$4 rc=0 attempt port
  shift 4
  case $url in
    tcp://*:0) ;;
    *) _dafs_server_start_once "$bin" "$export_dir" "$url" "$log" "$@" || rc=$?
       return "$rc" ;;
  esac
  for ((attempt = 1; attempt <= DAFS_SERVER_TCP_ATTEMPTS; attempt++)); do
    port=$(dafs_free_port) || return 2
    rc=0
    _dafs_server_start_once "$bin" "$export_dir" "${url%:0}:$port" "$log" "$@" || rc=$?
    # Exited at startup: most likely the port was taken meanwhile.
    [ "$rc" -eq 2 ] || return "$rc"
  done
  return "$rc"
}

dafs_server_stop() {
  local pid=$1 deadline
  DAFS_SERVER_STATUS=0 DAFS_SERVER_KILLED=0
  [ -n "$pid" ] || return 0
  kill -TERM "$pid" 2>/dev/null || true
  deadline=$(($(_dafs_now_ms) + DAFS_SERVER_STOP_TIMEOUT * 1000))
  while kill -0 "$pid" 2>/dev/null && [ "$(_dafs_now_ms)" -lt "$deadline" ]; do
    sleep 0.1
  done
  if kill -0 "$pid" 2>/dev/null; then
    DAFS_SERVER_KILLED=1
    kill -KILL "$pid" 2>/dev/null || true
  fi
  wait "$pid" 2>/dev/null || DAFS_SERVER_STATUS=$?
  _dafs_untrack "$pid"
}

dafs_server_kill() {
  local pid=$1
  [ -n "$pid" ] || return 0
  kill -KILL "$pid" 2>/dev/null || true
  wait "$pid" 2>/dev/null || true    # no "Killed" notice from the shell
  _dafs_untrack "$pid"
}

dafs_server_stop_all() {
  local pid
  for pid in "${DAFS_SERVER_PIDS[@]}"; do
    dafs_server_stop "$pid"
  done
}

dafs_server_report() {
  echo "last probe said: ${DAFS_SERVER_PROBE_ERR:-nothing}"
  echo "server log (last lines):"
  tail -n 20 "$1"
}
