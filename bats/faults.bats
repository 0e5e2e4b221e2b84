#!/usr/bin/env bats
# faults.bats — a client rides through faults (issue 12): its server
# SIGKILLed and started again, stopped with SIGTERM and started again (an
# upgrade), its tcp connection cut under a living server; and, with
# DAFS_RECOVERY_TIMEOUT, it gives up in time on a server that never comes
# back. The programs are unmodified (dd under libdafsshim.so); what is
# asserted is what their users rely on: exit status 0 and the data
# byte-identical, or a prompt "Input/output error". No timing is asserted
# but generous bounds.
#
# At full speed 64 MiB take about 0.4 s here, too short to place two faults
# in: the data goes through a FIFO at 1 MiB per 50 ms (PACE_PY, below), so a
# fault comes mid-file, with requests in flight or not as it happens.
#
# Each case is written once, as a function, and run by one @test per
# transport at the bottom of this file (the connection cut by tcp alone).
# On shm a server SIGKILLed inside libfabric's shm provider can leave a
# client's region spinlock held (README, "Known limits"): a client stuck
# there fails its test by the bounded waits below, it does not hang the run.

load helpers
load shim_helpers
bats_require_minimum_version 1.5.0

setup() {
  LOCAL=$BATS_TEST_TMPDIR/local
  mkdir -p "$LOCAL"
  [ -f "$SHIM_LIB" ] || fail "$SHIM_LIB is missing: build it first"
}

# pace SRC DST SECONDS (python3): copies SRC to DST 1 MiB at a time, a pause
# after each. One process, so that spawn's pid is the copier's own.
PACE_PY='
import sys, time
src, dst, pause = sys.argv[1], sys.argv[2], float(sys.argv[3])
with open(src, "rb") as i, open(dst, "wb") as o:
    while True:
        b = i.read(1 << 20)
        if not b:
            break
        o.write(b)
        o.flush()
        time.sleep(pause)
'
PACE_S=0.05

# start_writer: 64 MiB of random data in $LOCAL/src, fed at the pace to a
# dd under the shim writing /dafs/file (the environment of the call is the
# writer's); sets CLIENT_PID, CLIENT_OUT and PACER_PID.
start_writer() {
  head -c 64M /dev/urandom >"$LOCAL/src"
  mkfifo "$LOCAL/pipe"
  spawn "$BATS_TEST_TMPDIR/pacer.out" python3 -c "$PACE_PY" "$LOCAL/src" "$LOCAL/pipe" "$PACE_S"
  PACER_PID=$SPAWNED_PID
  CLIENT_OUT=$BATS_TEST_TMPDIR/writer.out
  LD_PRELOAD=$SHIM_PRELOAD spawn "$CLIENT_OUT" \
    dd if="$LOCAL/pipe" of=/dafs/file bs=1M iflag=fullblock status=none
  CLIENT_PID=$SPAWNED_PID
}

# start_reader: 64 MiB of random data in $EXPORT/file, read by a dd under
# the shim into a FIFO that is drained at the pace into $LOCAL/back; sets
# CLIENT_PID, CLIENT_OUT and PACER_PID.
start_reader() {
  head -c 64M /dev/urandom >"$EXPORT/file"
  mkfifo "$LOCAL/pipe"
  CLIENT_OUT=$BATS_TEST_TMPDIR/reader.out
  LD_PRELOAD=$SHIM_PRELOAD spawn "$CLIENT_OUT" \
    dd if=/dafs/file of="$LOCAL/pipe" bs=1M status=none
  CLIENT_PID=$SPAWNED_PID
  spawn "$BATS_TEST_TMPDIR/pacer.out" python3 -c "$PACE_PY" "$LOCAL/pipe" "$LOCAL/back" "$PACE_S"
  PACER_PID=$SPAWNED_PID
}

# await_progress FILE MIB: waits (bounded) until FILE holds more than MIB
# MiB, the client still running; fails saying why not.
await_progress() {
  local file=$1 bytes=$(($2 << 20)) status=0
  wait_until 15 eval '[ "$(file_size "$file")" -gt "$bytes" ] || ! running "$CLIENT_PID"' ||
    fail "$file has $(file_size "$file") bytes after 15 s, not more than $2 MiB; client: $(cat "$CLIENT_OUT")"
  if ! running "$CLIENT_PID"; then
    wait "$CLIENT_PID" 2>/dev/null || status=$?
    [ "$status" -ne 0 ] ||
      fail "the client finished before $file passed $2 MiB: the fault came too late (PACE_S)"
    fail "the client failed (exit status $status) before $file passed $2 MiB: $(cat "$CLIENT_OUT")"
  fi
}

# finish_client: the client and the pacer exit 0 within bounds.
finish_client() {
  local status=0
  wait_bounded "$CLIENT_PID" 20 || status=$?
  [ "$status" -ne 124 ] || fail "the client still ran 20 s after the last fault: $(cat "$CLIENT_OUT")"
  [ "$status" -eq 0 ] || fail "the client failed (exit status $status): $(cat "$CLIENT_OUT")"
  status=0
  wait_bounded "$PACER_PID" 10 || status=$?
  [ "$status" -eq 0 ] || fail "the pacer failed (exit status $status): $(cat "$BATS_TEST_TMPDIR/pacer.out")"
}

# A crash as clients see it, and the same server again half a second later.
crash_and_restart() {
  kill_server
  sleep 0.5
  restart_server
}

# cut_connections PORT: ss -K on the established tcp connections to and
# from PORT (both ends of the client's; never the listener). Fails unless
# there was one and it is gone after: ss -K needs a kernel with
# CONFIG_INET_DIAG_DESTROY and says nothing when it has not.
cut_connections() {
  local port=$1 filter before said after left
  filter="( dport = :$port or sport = :$port )"
  before=$(ss -Htn state established "$filter" | awk '{ print $3, $4 }' | sort)
  [ -n "$before" ] || fail "no established tcp connection on port $port to cut"
  said=$(ss -K -Htn state established "$filter" 2>&1) ||
    fail "ss -K failed: $said"
  after=$(ss -Htn state established "$filter" | awk '{ print $3, $4 }' | sort)
  left=$(comm -12 <(echo "$before") <(echo "$after"))
  [ -z "$left" ] ||
    fail "ss -K left these connections established (a kernel without CONFIG_INET_DIAG_DESTROY?): $left; ss said: $said"
}

# ---- cases ------------------------------------------------------------------

case_writer_two_crashes() {
  start_writer
  await_progress "$EXPORT/file" 16
  crash_and_restart
  await_progress "$EXPORT/file" 40
  crash_and_restart
  finish_client
  assert_equal "$(sha "$EXPORT/file")" "$(sha "$LOCAL/src")"
}

case_reader_one_crash() {
  start_reader
  await_progress "$LOCAL/back" 16
  crash_and_restart
  finish_client
  assert_equal "$(sha "$LOCAL/back")" "$(sha "$EXPORT/file")"
}

# An upgrade: SIGTERM (in-flight requests finish, files are closed, exit 0),
# then the server started again.
case_writer_server_stopped_and_started() {
  start_writer
  await_progress "$EXPORT/file" 16
  stop_server
  assert_equal "$SERVER_STATUS" 0
  sleep 0.5
  restart_server
  finish_client
  assert_equal "$(sha "$EXPORT/file")" "$(sha "$LOCAL/src")"
}

# The server lives on, never restarted; only the connection goes, twice.
case_writer_connection_cut() {
  local port=${DAFS_SERVER##*:} server=$SERVER_PID
  start_writer
  await_progress "$EXPORT/file" 16
  cut_connections "$port"
  await_progress "$EXPORT/file" 40
  cut_connections "$port"
  finish_client
  assert_equal "$(sha "$EXPORT/file")" "$(sha "$LOCAL/src")"
  running "$server" || fail "the server ended: $(tail -n 20 "$SERVER_LOG")"
}

# Recovery has its limit: 2 s, and the server never comes back. The writer
# fails with EIO (dd's message, at a write or at close) well within 2 + 10 s.
case_writer_gives_up() {
  DAFS_RECOVERY_TIMEOUT=2 start_writer
  await_progress "$EXPORT/file" 16
  kill_server
  local killed_at status=0 elapsed
  killed_at=$(now_ms)
  wait_bounded "$CLIENT_PID" 20 || status=$?
  elapsed=$(($(now_ms) - killed_at))
  [ "$status" -ne 124 ] || fail "the writer still ran 20 s after the server died: $(cat "$CLIENT_OUT")"
  [ "$status" -ne 0 ] || fail "the writer succeeded although the server died"
  [ "$elapsed" -lt 12000 ] || fail "the writer took ${elapsed} ms to give up"
  run cat "$CLIENT_OUT"
  assert_output --partial "Input/output error"
}

# ---- the tests --------------------------------------------------------------

@test "shm: a 64 MiB dd writer rides through two server crashes and restarts" { start_server shm; case_writer_two_crashes; }
@test "tcp: a 64 MiB dd writer rides through two server crashes and restarts" { start_server tcp; case_writer_two_crashes; }
@test "shm: a 64 MiB dd reader rides through a server crash and restart" { start_server shm; case_reader_one_crash; }
@test "tcp: a 64 MiB dd reader rides through a server crash and restart" { start_server tcp; case_reader_one_crash; }
@test "shm: a dd writer rides through a server stopped (SIGTERM) and started again" { start_server shm; case_writer_server_stopped_and_started; }
@test "tcp: a dd writer rides through a server stopped (SIGTERM) and started again" { start_server tcp; case_writer_server_stopped_and_started; }
@test "tcp: a dd writer rides through its connection cut twice (ss -K), server alive" { start_server tcp; case_writer_connection_cut; }
@test "shm: DAFS_RECOVERY_TIMEOUT=2, server gone for good: the writer fails with EIO in time" { start_server shm; case_writer_gives_up; }
@test "tcp: DAFS_RECOVERY_TIMEOUT=2, server gone for good: the writer fails with EIO in time" { start_server tcp; case_writer_gives_up; }
