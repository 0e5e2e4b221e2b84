# helpers.bash — what every BATS suite of dafs shares: bats-support and
# bats-assert, the binaries under test, and a dafs-server per test.
#
#   DAFS_BUILD      build directory, relative to the repository (default build;
#                   scripts/run-tests also runs the suites with build-asan)
#   start_server shm|tcp [dafs-server args...]
#                   starts a server exporting a fresh $EXPORT and waits until
#                   it answers; exports DAFS_SERVER, EXPORT, SERVER_PID, SERVER_LOG
#                   (with --state $SERVER_STATE_DIR when that is set)
#   stop_server     SIGTERM, bounded wait, SIGKILL; sets SERVER_STATUS
#   kill_server     SIGKILL (a crash, as clients see it)
#   restart_server  after kill_server or stop_server: the same server again,
#                   as start_server last started it (binary, URL with its tcp
#                   port or shm name, $EXPORT, extra args; the environment is
#                   the caller's now), its log appended to $SERVER_LOG after a
#                   line saying so; waits until it answers, sets SERVER_PID
#   dafs ARGS...    the dafs command, bounded by $DAFS_CMD_TIMEOUT seconds
#   start_holder SECONDS
#                   returns once a background dafs-locktest holds /lockfile for
#                   SECONDS; sets HOLDER_PID, output in $BATS_TEST_TMPDIR/holder.out
#   spawn OUT CMD   a background process (CMD an executable, so that $! is its
#                   own pid), killed by teardown if still running
#   wait_bounded PID SECONDS
#                   its exit status, or 124 after killing it when it took longer
#
# The servers' work is scripts/lib/server.bash's: port and shm name choice,
# the bounded wait for an answer, the report of a server that did not start.
# Every wait here is bounded: a hung server or client fails its test, never
# the whole run.

for lib in bats-support bats-assert; do
  if [ ! -f "/usr/lib/bats/$lib/load.bash" ]; then
    echo "helpers.bash: /usr/lib/bats/$lib/load.bash is missing (Debian package $lib)" >&2
    return 1
  fi
  load "/usr/lib/bats/$lib/load.bash"
done

DAFS_ROOT=$(cd "$BATS_TEST_DIRNAME/.." && pwd)
DAFS_BUILD=${DAFS_BUILD:-build}
case $DAFS_BUILD in
  /*) BUILD_DIR=$DAFS_BUILD ;;
  *) BUILD_DIR=$DAFS_ROOT/$DAFS_BUILD ;;
esac
DAFS_BIN=$BUILD_DIR/dafs
SERVER_BIN=$BUILD_DIR/dafs-server
LOCKTEST_BIN=$BUILD_DIR/dafs-locktest

DAFS_CMD_TIMEOUT=${DAFS_CMD_TIMEOUT:-60}   # seconds, any one client command

# Starting, waiting for and stopping servers (its own header says how).
# shellcheck source=../scripts/lib/server.bash
source "$DAFS_ROOT/scripts/lib/server.bash"
DAFS_PROBE_BIN=$DAFS_BIN                   # SERVER_BIN may be a wrapper script

# How the server's log names session events. It logs one line per session
# opened and one per session closed; these only need to tell the two apart.
SESSION_OPEN_RE=${SESSION_OPEN_RE:-'session.*open'}
SESSION_CLOSE_RE=${SESSION_CLOSE_RE:-'session.*clos'}

SERVER_PID=
SERVER_ARGS=()     # start_server's extra args, for restart_server
SERVER_START_BIN=  # the binary (or wrapper) start_server ran
BG_PIDS=()

# ---- small tools ------------------------------------------------------------

dafs() {
  timeout "$DAFS_CMD_TIMEOUT" "$DAFS_BIN" "$@"
}

locktest() {
  [ -x "$LOCKTEST_BIN" ] || fail "$LOCKTEST_BIN is missing: the Makefile must build tools/dafs-locktest.c"
  timeout "$DAFS_CMD_TIMEOUT" "$LOCKTEST_BIN" "$DAFS_SERVER" "$@"
}

start_holder() {
  [ -x "$LOCKTEST_BIN" ] || fail "$LOCKTEST_BIN is missing: the Makefile must build tools/dafs-locktest.c"
  spawn "$BATS_TEST_TMPDIR/holder.out" "$LOCKTEST_BIN" "$DAFS_SERVER" /lockfile hold "$1"
  HOLDER_PID=$SPAWNED_PID
  wait_until 15 grep -q '^locked$' "$BATS_TEST_TMPDIR/holder.out" ||
    fail "the holder never got the lock: $(cat "$BATS_TEST_TMPDIR/holder.out")"
}

sha() {
  sha256sum <"$1" | cut -d' ' -f1
}

file_size() {
  stat -c %s "$1" 2>/dev/null || echo 0
}

# Milliseconds since the epoch.
now_ms() {
  local t=${EPOCHREALTIME/./}
  echo $((t / 1000))
}

# wait_until SECONDS CMD...: polls CMD every 0.1 s; fails after SECONDS.
wait_until() {
  local deadline=$(($(now_ms) + $1 * 1000))
  shift
  until "$@"; do
    [ "$(now_ms)" -lt "$deadline" ] || return 1
    sleep 0.1
  done
}

# spawn OUTFILE CMD...: runs CMD in the background with stdout and stderr in
# OUTFILE; sets SPAWNED_PID. CMD must be an executable, not a function, so
# the pid is CMD's own (a test may SIGKILL it) and nothing outlives teardown.
# fd 3 is closed because bats waits for every holder of it before finishing.
spawn() {
  local out=$1
  shift
  "$@" >"$out" 2>&1 3>&- &
  SPAWNED_PID=$!
  BG_PIDS+=("$SPAWNED_PID")
}

# True while the process runs; a zombie (exited, not yet reaped) has ended.
running() {
  local state
  state=$(ps -o stat= -p "$1" 2>/dev/null) || return 1
  [[ $state != Z* ]]
}

# wait_bounded PID SECONDS: the exit status of a spawned process, or 124
# (as timeout(1) says it) after killing it when it ran longer.
wait_bounded() {
  local pid=$1 status=0
  if ! wait_until "$2" eval '! running "$pid"'; then
    kill -KILL "$pid" 2>/dev/null || true
    wait "$pid" 2>/dev/null || true
    return 124
  fi
  wait "$pid" 2>/dev/null || status=$?
  return "$status"
}

# ---- the server -------------------------------------------------------------

start_server() {
  local transport=$1 url rc=0
  shift
  [ -x "$SERVER_BIN" ] || fail "$SERVER_BIN is missing: build it first"
  [ -x "$DAFS_BIN" ] || fail "$DAFS_BIN is missing: build it first"

  # The export lives one level down, in $EXPORT_PARENT, so that a test can
  # see whether anything ever appears beside it ("../x" from its root).
  EXPORT_PARENT=$BATS_TEST_TMPDIR/root
  EXPORT=$EXPORT_PARENT/export
  SERVER_LOG=$BATS_TEST_TMPDIR/server.log
  mkdir -p "$EXPORT"
  : >"$SERVER_LOG"

  case $transport in
    shm) url=$(dafs_shm_url "dafs-bats-$BATS_TEST_NUMBER") ;;
    tcp) url=tcp://127.0.0.1:0 ;;   # a free port, another if it is taken meanwhile
    *) fail "start_server: unknown transport '$transport' (shm or tcp)" ;;
  esac
  SERVER_START_BIN=$SERVER_BIN
  # With SERVER_STATE_DIR (faults.bats), the server keeps its state there,
  # so that restart_server's answers the retries of what the killed one ran.
  SERVER_ARGS=(${SERVER_STATE_DIR:+--state "$SERVER_STATE_DIR"} "$@")
  dafs_server_start "$SERVER_BIN" "$EXPORT" "$url" "$SERVER_LOG" "${SERVER_ARGS[@]}" || rc=$?
  url=$DAFS_SERVER_URL
  [ "$rc" -ne 1 ] ||
    fail "dafs-server on $url did not answer within ${DAFS_SERVER_START_TIMEOUT} s; $(dafs_server_report "$SERVER_LOG")"
  [ "$rc" -eq 0 ] ||
    fail "dafs-server on $url exited with $DAFS_SERVER_STATUS at startup; $(dafs_server_report "$SERVER_LOG")"
  SERVER_PID=$DAFS_SERVER_PID
  export DAFS_SERVER=$url EXPORT EXPORT_PARENT SERVER_PID SERVER_LOG
}

stop_server() {
  SERVER_STATUS=
  [ -n "$SERVER_PID" ] || return 0
  dafs_server_stop "$SERVER_PID"
  SERVER_STATUS=$DAFS_SERVER_STATUS
  SERVER_PID=
}

# The way a crash looks to clients: no goodbye at all.
kill_server() {
  [ -n "$SERVER_PID" ] || return 0
  dafs_server_kill "$SERVER_PID"
  SERVER_PID=
}

# A restart: the same command line on the same URL (the port or shm name the
# clients know), not a free one. The name of a SIGKILLed shm server is free
# again at once (common/fabric.c, shm_claim_name); a tcp port taken meanwhile
# by someone else fails the test, as it would fail an operator's restart.
restart_server() {
  local rc=0
  [ -n "${DAFS_SERVER:-}" ] && [ -n "$SERVER_START_BIN" ] ||
    fail "restart_server: no server was started (start_server first)"
  [ -z "$SERVER_PID" ] ||
    fail "restart_server: the server (pid $SERVER_PID) still runs: kill_server or stop_server first"
  echo "==== restart_server: $SERVER_START_BIN on $DAFS_SERVER again ====" >>"$SERVER_LOG"
  dafs_server_start "$SERVER_START_BIN" "$EXPORT" "$DAFS_SERVER" "$SERVER_LOG" \
    "${SERVER_ARGS[@]}" || rc=$?
  [ "$rc" -ne 1 ] ||
    fail "restarted dafs-server on $DAFS_SERVER did not answer within ${DAFS_SERVER_START_TIMEOUT} s; $(dafs_server_report "$SERVER_LOG")"
  [ "$rc" -eq 0 ] ||
    fail "restarted dafs-server on $DAFS_SERVER exited with $DAFS_SERVER_STATUS at startup; $(dafs_server_report "$SERVER_LOG")"
  SERVER_PID=$DAFS_SERVER_PID
  export SERVER_PID
}

# Session lines in the server's log; a "closed" line never counts as "opened"
# even when it mentions the opening.
sessions_opened() {
  grep -iE "$SESSION_OPEN_RE" "$SERVER_LOG" | grep -vicE "$SESSION_CLOSE_RE" || true
}

sessions_closed() {
  grep -ciE "$SESSION_CLOSE_RE" "$SERVER_LOG" || true
}

# ---- per test ---------------------------------------------------------------

teardown() {
  local pid
  for pid in "${BG_PIDS[@]}"; do
    kill -KILL "$pid" 2>/dev/null || true
    wait "$pid" 2>/dev/null || true
    rm -f /dev/shm/dafs-"$pid"-*    # a killed client's shm region
  done
  BG_PIDS=()
  stop_server
  # A SIGKILLed shm server or client leaves its region (and our name claim)
  # in /dev/shm: the test's own names go with the test.
  case ${DAFS_SERVER:-} in
    shm://*) rm -f "/dev/shm/${DAFS_SERVER#shm://}" "/dev/shm/${DAFS_SERVER#shm://}.dafs-lock" ;;
  esac
  # A sanitizer build reports server-side bugs only in the server's log.
  if [ -n "${SERVER_LOG:-}" ] && grep -qE 'ERROR: (Address|Leak)Sanitizer|runtime error:' "$SERVER_LOG"; then
    echo "sanitizer report in the server log:" >&2
    cat "$SERVER_LOG" >&2
    return 1
  fi
}
