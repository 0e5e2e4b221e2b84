#!/usr/bin/env bats
# admin.bats — dafs-server --admin SOCKET and dafsctl (sessions, fence,
# unfence, evict, reload), the socket's permissions, and the limits a
# hostile or broken client meets (server/admission.h), each with its errno.
# The programs fenced, evicted and limited are tools/dafs-limittest; a
# keyless client's name is "local", a keyed one's its key's name.

load helpers

LIMITTEST_BIN=$BUILD_DIR/dafs-limittest
DAFSCTL_BIN=$BUILD_DIR/dafsctl

eval "helpers_$(declare -f teardown)"

setup() {
  [ -x "$LIMITTEST_BIN" ] || fail "$LIMITTEST_BIN is missing: build it first"
  [ -x "$DAFSCTL_BIN" ] || fail "$DAFSCTL_BIN is missing: build it first"
  # Where nobody may reach the socket file (the test's own tmpdir is 0700).
  ADMIN_DIR=$(mktemp -d /tmp/dafs-admin-bats.XXXXXX)
  chmod 0755 "$ADMIN_DIR"
  SOCK=$ADMIN_DIR/admin.sock
}

teardown() {
  local rc=0
  helpers_teardown || rc=$?
  rm -rf "$ADMIN_DIR"
  return "$rc"
}

dafsctl() {
  timeout 20 "$DAFSCTL_BIN" --admin "$SOCK" "$@"
}

limittest() {
  timeout "$DAFS_CMD_TIMEOUT" "$LIMITTEST_BIN" "$DAFS_SERVER" "$@"
}

# spawn_client NAME MODE ARGS...: a background dafs-limittest whose output
# is $BATS_TEST_TMPDIR/NAME.out; waits for its "ready". Reads go to the
# server every time (no client cache), as a program's requests do.
spawn_client() {
  local name=$1
  shift
  DAFS_CACHE_SIZE=0 spawn "$BATS_TEST_TMPDIR/$name.out" "$LIMITTEST_BIN" "$DAFS_SERVER" "$@"
  wait_until 15 grep -q '^ready$' "$BATS_TEST_TMPDIR/$name.out" ||
    fail "$name never got ready: $(cat "$BATS_TEST_TMPDIR/$name.out")"
}

# The `sessions` line of the process with pid $1.
session_of_pid() {
  dafsctl sessions | awk -v pid="$1" 'NR > 1 && $4 == pid'
}

@test "admin: the socket is 0600, sessions lists each session with its counters" {
  start_server shm --admin "$SOCK"
  assert_equal "$(stat -c '%a %F' "$SOCK")" "600 socket"
  # No session yet (once start_server's probe has gone): the header alone.
  wait_until 5 eval '[ "$(dafsctl sessions | wc -l)" -eq 1 ]' || fail "$(dafsctl sessions)"
  run dafsctl sessions
  assert_success
  assert_output --regexp '^ID +CLIENT .*IDLE_S$'
  echo data >"$EXPORT/f"
  spawn_client idle idle /f
  idle=$SPAWNED_PID
  run dafsctl sessions
  assert_success
  assert_line --index 0 --regexp '^ID +CLIENT +ADDRESS +PID +UID +FILES +LOCKS +REQUESTS +BYTES_IN +BYTES_OUT +IDLE_S$'
  assert_equal "${#lines[@]}" 2
  read -r id client addr pid uid files locks requests bin bout idle_s <<<"${lines[1]}"
  [[ $id =~ ^[0-9a-f]{16}$ ]] || fail "session id '$id'"
  assert_equal "$client" local
  [[ $addr == dafs-$idle-* ]] || fail "address '$addr' is not the client's shm name"
  assert_equal "$pid" "$idle"
  assert_equal "$uid" 0      # root's requests, keyless: as asserted
  assert_equal "$files" 1
  assert_equal "$locks" 0
  [ "$requests" -ge 1 ] && [ "$bin" -gt 0 ] && [ "$bout" -gt 0 ] ||
    fail "counters: requests $requests in $bin out $bout"
  [[ $idle_s =~ ^[0-9]+\.[0-9]$ ]] || fail "idle '$idle_s'"
  # A second program: a second line, its own counters.
  spawn_client idle2 idle /f
  run dafsctl sessions
  assert_equal "${#lines[@]}" 3
  [ -n "$(session_of_pid "$SPAWNED_PID")" ] || fail "no line for pid $SPAWNED_PID: $output"
}

@test "admin: fence stops a running program within one request, refuses NAME until unfence" {
  start_server shm --admin "$SOCK"
  echo data >"$EXPORT/f"
  start_holder 60
  spawn_client loop loop /f
  loop=$SPAWNED_PID
  spawn_client idle idle /f
  idle=$SPAWNED_PID
  t0=$(now_ms)
  run dafsctl fence local
  assert_success
  assert_output "fenced local: 3 sessions cut off"
  # The reading program's next request fails, finally: no retry, and any
  # later call fails the same at once.
  wait_bounded "$loop" 10 || status=$?
  assert_equal "$status" 1
  [ $(($(now_ms) - t0)) -lt 3000 ] || fail "took $(($(now_ms) - t0)) ms to stop"
  run cat "$BATS_TEST_TMPDIR/loop.out"
  assert_line --regexp '^stopped after [0-9]+ reads: EKEYREVOKED$'
  assert_line 'then: EKEYREVOKED'
  # The idle program's files are closed already (its next request will
  # fail): the session stays listed as fenced until then.
  run session_of_pid "$idle"
  assert_output --regexp ' local .* 0 0 [0-9]+ [0-9]+ [0-9]+ [0-9.]+ fenced$'
  # New sessions of the name are refused with the same error.
  run limittest files /f 1
  assert_equal "$status" 2
  assert_line 'failed after 0: EKEYREVOKED'
  run dafs ls /
  assert_failure
  assert_output --partial "revoked"
  run dafsctl unfence local
  assert_success
  run dafsctl unfence local
  assert_equal "$status" 1
  assert_output "dafsctl: local is not fenced"
  run dafs ls /
  assert_success
  assert_line f
  # The holder's lock went with the fence: another owner gets it now, and
  # is told that its last holder never let it go.
  run locktest /lockfile try
  assert_success
  assert_output "acquired (broken)"
}

@test "admin (keys): fence NAME cuts off that key's programs alone; reload fences a removed key" {
  local keys=$BATS_TEST_TMPDIR/keys
  mkdir -p "$keys"
  dafs keygen alice >"$keys/alice.key"
  dafs keygen bob >"$keys/bob.key"
  { echo "$(cat "$keys/alice.key") no_root_squash"
    echo "$(cat "$keys/bob.key") no_root_squash"; } >"$keys/server.keys"
  chmod 600 "$keys"/*
  DAFS_KEY_FILE=$keys/alice.key start_server shm --keys "$keys/server.keys" --admin "$SOCK"
  echo data >"$EXPORT/f"
  DAFS_KEY_FILE=$keys/alice.key spawn_client alice loop /f
  alice=$SPAWNED_PID
  DAFS_KEY_FILE=$keys/bob.key spawn_client bob loop /f
  bob=$SPAWNED_PID
  run session_of_pid "$bob"
  assert_output --regexp "^[0-9a-f]{16} +bob "
  run dafsctl fence bob
  assert_success
  assert_output "fenced bob: 1 session cut off"
  wait_bounded "$bob" 10 || status=$?
  assert_equal "$status" 1
  run cat "$BATS_TEST_TMPDIR/bob.out"
  assert_line --regexp '^stopped after [0-9]+ reads: EKEYREVOKED$'
  kill -0 "$alice" || fail "fencing bob stopped alice: $(cat "$BATS_TEST_TMPDIR/alice.out")"
  DAFS_KEY_FILE=$keys/bob.key run limittest files /f 1
  assert_equal "$status" 2
  assert_line 'failed after 0: EKEYREVOKED'
  run dafsctl unfence bob
  assert_success

  # bob again, then his line leaves the keys file: reload fences him.
  DAFS_KEY_FILE=$keys/bob.key spawn_client bob2 loop /f
  bob=$SPAWNED_PID
  echo "$(cat "$keys/alice.key") no_root_squash" >"$keys/server.keys"
  run dafsctl reload
  assert_success
  assert_line "removed bob: fenced (1 session)"
  assert_line "1 client in $keys/server.keys"
  wait_bounded "$bob" 10 || status=$?
  assert_equal "$status" 1
  run cat "$BATS_TEST_TMPDIR/bob2.out"
  assert_line --regexp '^stopped after [0-9]+ reads: EKEYREVOKED$'
  # His key is gone: a new session is refused as an unknown key's.
  DAFS_KEY_FILE=$keys/bob.key run limittest files /f 1
  assert_equal "$status" 2
  assert_line 'failed after 0: EACCES'
  kill -0 "$alice" || fail "the reload stopped alice: $(cat "$BATS_TEST_TMPDIR/alice.out")"
  DAFS_KEY_FILE=$keys/alice.key run dafs cat /f
  assert_success
  assert_output data
}

@test "admin: evict ends one session with ECONNABORTED and nothing else (tcp)" {
  start_server tcp --admin "$SOCK"
  echo data >"$EXPORT/f"
  spawn_client victim loop /f
  victim=$SPAWNED_PID
  spawn_client other loop /f
  other=$SPAWNED_PID
  id=$(session_of_pid "$victim" | cut -d' ' -f1)
  [ -n "$id" ] || fail "no session for $victim"
  # Over tcp a session's address is the client's IP address and port.
  [[ $(session_of_pid "$victim" | cut -d' ' -f3) =~ ^127\.0\.0\.1:[0-9]+$ ]] ||
    fail "address: $(session_of_pid "$victim")"
  run dafsctl evict "$id"
  assert_success
  wait_bounded "$victim" 10 || status=$?
  assert_equal "$status" 1
  run cat "$BATS_TEST_TMPDIR/victim.out"
  assert_line --regexp '^stopped after [0-9]+ reads: ECONNABORTED$'
  assert_line 'then: ECONNABORTED'
  running "$other" || fail "the other program stopped: $(cat "$BATS_TEST_TMPDIR/other.out")"
  [ -n "$(session_of_pid "$other")" ] || fail "the other session is gone"
  [ -z "$(session_of_pid "$victim")" ] || fail "the evicted session is still listed"
  run dafsctl evict "$id"
  assert_equal "$status" 1
  assert_output "dafsctl: no session $id"
  run dafs ls /
  assert_success
}

@test "admin: reload without --keys, dafsctl's errors; only root and the server's user get in" {
  start_server shm --admin "$SOCK"
  run dafsctl reload
  assert_equal "$status" 1
  assert_output "dafsctl: the server runs without --keys: there is no keys file to reload"
  run dafsctl frobnicate
  assert_equal "$status" 2
  assert_line "dafsctl: unknown command 'frobnicate'"
  run dafsctl fence
  assert_equal "$status" 2
  run dafsctl fence 'bad/name'
  assert_equal "$status" 1
  assert_output --partial "fence takes one client name"
  run "$DAFSCTL_BIN" --admin "$ADMIN_DIR/none" sessions
  assert_equal "$status" 3
  assert_output --partial "cannot reach the server"
  # A server that cannot make its socket does not start.
  : >"$ADMIN_DIR/file"
  run timeout 10 "$SERVER_BIN" --export "$EXPORT" --listen shm://dafs-admin-bad-$$ --admin "$ADMIN_DIR/file"
  assert_equal "$status" 1
  assert_output --partial "exists and is not a socket"
  [ -z "$(ls /dev/shm | grep "^dafs-admin-bad-$$")" ] || fail "its shm name is left: $(ls /dev/shm)"
  # Nor one given a limit that is not a number of at least 1.
  run timeout 10 "$SERVER_BIN" --export "$EXPORT" --listen shm://dafs-admin-bad-$$ --max-open-files 0
  assert_equal "$status" 2
  assert_line "dafs-server: bad --max-open-files value '0'"
  run timeout 10 "$SERVER_BIN" --export "$EXPORT" --listen shm://dafs-admin-bad-$$ --max-session-memory 1T
  assert_equal "$status" 2
  # Nor one whose socket another server answers on.
  run timeout 10 "$SERVER_BIN" --export "$EXPORT" --listen shm://dafs-admin-bad-$$ --admin "$SOCK"
  assert_equal "$status" 1
  assert_output --partial "another server answers on it"
  [ -z "$(ls /dev/shm | grep "^dafs-admin-bad-$$")" ] || fail "its shm name is left: $(ls /dev/shm)"
  # The socket: its file mode, then SO_PEERCRED.
  [ "$(id -u)" -eq 0 ] || skip "needs root to run dafsctl as nobody"
  run setpriv --reuid=nobody --regid=nogroup --clear-groups "$DAFSCTL_BIN" --admin "$SOCK" sessions
  assert_equal "$status" 3
  assert_output --partial "Permission denied"
  # Even on a socket file others may open, the server checks who the peer is.
  chmod 0666 "$SOCK"
  run setpriv --reuid=nobody --regid=nogroup --clear-groups "$DAFSCTL_BIN" --admin "$SOCK" sessions
  assert_equal "$status" 3
  assert_output --partial "permission denied: uid $(id -u nobody) is neither root nor the server's user"
  grep -q "admin: refused a peer with uid $(id -u nobody)" "$SERVER_LOG" || fail "not logged"
  run dafsctl sessions
  assert_success
}

@test "limits: sessions per client name (EUSERS), open files (EMFILE), regions (ENOSPC)" {
  start_server shm --max-sessions-per-client 2 --max-open-files 5 --max-regions 4
  : >"$EXPORT/f"
  run limittest sessions 3
  assert_equal "$status" 1
  assert_line --index 0 "failed after 2: EUSERS"
  run limittest sessions 2
  assert_success
  run limittest files /f 8
  assert_equal "$status" 1
  assert_line --index 0 "failed after 5: EMFILE"
  run limittest regions 8
  assert_equal "$status" 1
  assert_line --index 0 --regexp '^failed after [1-4]: ENOSPC$'
  run dafs ls /
  assert_success
}

@test "limits: memory per session (ENOMEM), at session set-up and as its tables grow" {
  # Room for a few slots' reply cache and a table of some hundreds of files.
  start_server shm --max-session-memory 200K --max-open-files 4096
  : >"$EXPORT/f"
  run limittest files /f 4096
  assert_equal "$status" 1
  assert_line --index 0 --regexp '^failed after [0-9]+: ENOMEM$'
  n=$(sed -nE '1s/failed after ([0-9]+):.*/\1/p' <<<"$output")
  [ "$n" -ge 100 ] && [ "$n" -lt 4096 ] || fail "ENOMEM after $n files"
  stop_server
  # Not even one slot fits: every session is refused (start_server's probe
  # could not get one, so this server is started by hand).
  url=$(dafs_shm_url "dafs-bats-mem-$BATS_TEST_NUMBER")
  spawn "$BATS_TEST_TMPDIR/small.log" "$SERVER_BIN" --export "$EXPORT" --listen "$url" \
    --max-session-memory 40K
  wait_until 10 grep -q exporting "$BATS_TEST_TMPDIR/small.log" ||
    fail "no server: $(cat "$BATS_TEST_TMPDIR/small.log")"
  DAFS_SERVER=$url
  run limittest files /f 1
  assert_equal "$status" 2
  assert_line "failed after 0: ENOMEM"
  grep -q "refused a session of local .*: Cannot allocate memory" "$BATS_TEST_TMPDIR/small.log" ||
    fail "not logged: $(cat "$BATS_TEST_TMPDIR/small.log")"
}

@test "limits: descriptors are never exhausted (ENFILE); a silent client loses its session at the lease" {
  wrapper=$BATS_TEST_TMPDIR/server-600
  printf '#!/bin/sh\nulimit -n 600\nexec "%s" "$@"\n' "$SERVER_BIN" >"$wrapper"
  chmod +x "$wrapper"
  SERVER_BIN=$wrapper start_server shm --lease 1 --admin "$SOCK"
  : >"$EXPORT/f"
  # 600 descriptors, 256 kept back for the server itself.
  run limittest files /f 1000
  assert_equal "$status" 1
  assert_line --index 0 --regexp '^failed after 3[0-9][0-9]: ENFILE$'
  run dafs ls /
  assert_success
  assert_line f
  # A client that stops talking (SIGSTOP: not even its pings) is dropped.
  spawn_client idle idle /f
  idle=$SPAWNED_PID
  [ -n "$(session_of_pid "$idle")" ] || fail "no session"
  kill -STOP "$idle"
  wait_until 10 grep -q 'closed: .*(lease expired)' "$SERVER_LOG" ||
    fail "the silent session was not dropped: $(cat "$SERVER_LOG")"
  [ -z "$(session_of_pid "$idle")" ] || fail "still listed"
  kill -CONT "$idle"
}
