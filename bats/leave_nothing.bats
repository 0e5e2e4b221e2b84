#!/usr/bin/env bats
# leave_nothing.bats — a client process leaves nothing behind, however it
# ends: its /dev/shm name goes as soon as the server has mapped it, and on
# shm the server ends its session the moment the process dies (its locks
# released, files closed), not when the lease runs out (common/shmreap.h,
# server/procwatch.h). Servers here have a lease of 600 s, so only that can
# end the sessions of processes that never said goodbye.

load helpers
load shim_helpers

setup() {
  start_server shm --lease 600
  echo "something to read" >"$EXPORT/file"
}

sessions_opened() {
  grep -c 'session .* opened' "$SERVER_LOG" || true
}

sessions_closed() {
  grep -c 'session .* closed' "$SERVER_LOG" || true
}

@test "200 processes ending by exit, _exit, SIGTERM and SIGKILL leave /dev/shm and the session table as they were" {
  test_program end_ways
  local opened parent pid
  opened=$(sessions_opened)
  # The parent's session and 200 children's, 50 for each way of ending.
  LD_PRELOAD=$SHIM_PRELOAD DAFS_MOUNT=$DAFS_MOUNT \
    "$TEST_PROGRAM" "$DAFS_MOUNT/file" 200 >"$BATS_TEST_TMPDIR/pids" 3>&- &
  parent=$!
  wait_bounded "$parent" 300 || fail "end_ways failed"
  [ "$(wc -l <"$BATS_TEST_TMPDIR/pids")" -eq 200 ] || fail "not 200 children"
  [ $(($(sessions_opened) - opened)) -eq 201 ] ||
    fail "expected 201 sessions opened, the log says $(($(sessions_opened) - opened))"
  # Within seconds every one of them is closed on the server...
  wait_until 5 test "$(sessions_closed)" -eq "$(sessions_opened)" ||
    fail "$(($(sessions_opened) - $(sessions_closed))) sessions still open: $(grep session "$SERVER_LOG" | tail -5)"
  [ "$(grep -c 'closed: .*(client process exited)' "$SERVER_LOG")" -ge 150 ] ||
    fail "fewer than the 150 children that did not close their session were noticed dead"
  # ...and none of the 201 processes left its name in /dev/shm.
  for pid in "$parent" $(cat "$BATS_TEST_TMPDIR/pids"); do
    ! ls /dev/shm | grep -q "^dafs-$pid-" || fail "process $pid left /dev/shm/$(ls /dev/shm | grep "^dafs-$pid-")"
  done
}

@test "a process SIGKILLed while it holds a lock: a waiter gets the lock within 100 ms" {
  start_holder 60
  local holder=$HOLDER_PID
  spawn "$BATS_TEST_TMPDIR/waiter.out" "$LOCKTEST_BIN" "$DAFS_SERVER" /lockfile wait-clock
  local waiter=$SPAWNED_PID
  # The waiter is polling (it never gets the lock while the holder lives).
  wait_until 15 grep -q "session .* opened: .*(pid $waiter," "$SERVER_LOG" ||
    fail "the waiter never opened a session"
  sleep 0.5
  [ ! -s "$BATS_TEST_TMPDIR/waiter.out" ] || fail "the waiter got the lock from a live holder"
  local killed_at
  killed_at=$(now_ms)
  kill -KILL "$holder"
  wait_bounded "$waiter" 30 || fail "the waiter failed: $(cat "$BATS_TEST_TMPDIR/waiter.out")"
  run cat "$BATS_TEST_TMPDIR/waiter.out"
  assert_output --regexp '^acquired at [0-9]+ \(broken\)$'
  local acquired=${output#acquired at }
  local delay=$((${acquired% (broken)} - killed_at))
  echo "# the waiter got the lock $delay ms after the kill" >&3
  [ "$delay" -le 100 ] || fail "the waiter got the lock $delay ms after the holder was killed"
}

@test "a dead client's /dev/shm name is removed by the next client of the user, also when its pid is in use again" {
  # Names as a killed client leaves them before the server mapped them:
  # a dead pid; a live pid whose process started after the name was made
  # (a reused pid); a live pid whose process made the name (kept).
  local now_ns old_ns dead_pid live_pid
  now_ns=$(date +%s%N)
  old_ns=$((now_ns - 10 * 1000000000))
  sleep 30 & live_pid=$!
  BG_PIDS+=("$live_pid")
  bash -c 'exit 0' & dead_pid=$!
  wait "$dead_pid"
  local dead=dafs-$dead_pid-$(printf %x "$now_ns")-0
  local reused=dafs-$live_pid-$(printf %x "$old_ns")-0
  local owned=dafs-$$-$(printf %x "$now_ns")-0
  local foreign=dafs-notours-0
  for name in "$dead" "$reused" "$owned" "$foreign"; do
    head -c 4096 /dev/zero >"/dev/shm/$name"
  done
  run dafs cat /file
  assert_success
  [ ! -e "/dev/shm/$dead" ] || fail "$dead (a dead pid) was kept"
  [ ! -e "/dev/shm/$reused" ] || fail "$reused (a pid in use by a younger process) was kept"
  [ -e "/dev/shm/$owned" ] || fail "$owned (a live owner's) was removed"
  [ -e "/dev/shm/$foreign" ] || fail "$foreign (not a client name) was removed"
  rm -f "/dev/shm/$owned" "/dev/shm/$foreign"
}

@test "a client's /dev/shm name is gone while its session is open, and the session works" {
  start_holder 5
  local holder=$HOLDER_PID
  ! ls /dev/shm | grep -q "^dafs-$holder-" || fail "the live client's name is still in /dev/shm"
  # It keeps talking to the server (the hold loop stats the file) to the end.
  wait_bounded "$holder" 30 || fail "the holder failed: $(cat "$BATS_TEST_TMPDIR/holder.out")"
  wait_until 5 test "$(sessions_closed)" -eq "$(sessions_opened)" || fail "its session stayed open"
}
