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
# Then what else a program holds through a restart: a byte-range lock
# (dafs-locktest), taken back by its holder so that nobody else gets it;
# the lock a client loses when it stays silent past the server's lease
# (SIGSTOP), which it must not go on believing it holds; and two programs
# that check their own data, sqlite3 (a transaction per insert) and fio
# (crc32c verify), with the server crashed once under them.
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
  # Every server here keeps a state directory (server/state.h), as a
  # deployment's does: the restarted one answers the retries of what the
  # killed one ran (start_server, helpers.bash).
  SERVER_STATE_DIR=$BATS_TEST_TMPDIR/state
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

# A keyed session (--keys: every message MACed) proves itself again to the
# restarted server with the key the library kept, then goes on: the writer
# crosses a crash and a cut connection. The key keeps root (no_root_squash:
# the export is root's); the start-up probes and the writer use it.
case_keyed_writer() {
  local keys=$BATS_TEST_TMPDIR/keys port
  mkdir -p "$keys"
  dafs keygen alice >"$keys/alice.key"
  echo "$(cat "$keys/alice.key") no_root_squash" >"$keys/server.keys"
  chmod 600 "$keys"/*
  export DAFS_KEY_FILE=$keys/alice.key
  start_server tcp --keys "$keys/server.keys"
  port=${DAFS_SERVER##*:}
  start_writer
  await_progress "$EXPORT/file" 16
  crash_and_restart
  await_progress "$EXPORT/file" 40
  cut_connections "$port"
  finish_client
  assert_equal "$(sha "$EXPORT/file")" "$(sha "$LOCAL/src")"
  grep -q "reopened after a restart: .*key alice" "$SERVER_LOG" ||
    fail "the keyed session was not reopened with its key: $(tail -n 5 "$SERVER_LOG")"
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

# A whole-file write lock held across a crash and restart. Its holder
# notices the crash (within DAFS_TIMEOUT_MS, default 5 s, of silence), then
# takes the lock again from the restarted server. Another client trying it
# at once, before the holder is back, waits out the server's grace period
# (server/state.h) and is refused; so is one after the holder said the
# server is back, until the holder lets it go.
case_lock_taken_back() {
  local holder_out=$BATS_TEST_TMPDIR/holder.out rc=0
  start_holder 15
  crash_and_restart
  run locktest /lockfile try
  assert_failure 1
  assert_output busy
  grep -q 'grace period over: every session of the last run came back' "$SERVER_LOG" ||
    fail "no grace period ended by the holder's return: $(tail -n 5 "$SERVER_LOG")"
  wait_until 15 grep -q 'the server is back' "$holder_out" ||
    fail "the holder did not come back within 15 s of the restart: $(cat "$holder_out")"
  running "$HOLDER_PID" || fail "the holder ended early: $(cat "$holder_out")"
  run locktest /lockfile try
  assert_failure 1
  assert_output busy
  wait_bounded "$HOLDER_PID" 20 || rc=$?
  [ "$rc" -eq 0 ] || fail "the holder failed (exit status $rc): $(cat "$holder_out")"
  run cat "$holder_out"
  refute_output --partial "was not taken back"
  run locktest /lockfile try
  assert_success
  assert_output acquired
}

# A client silent past its lease (stopped, so its lease thread renews
# nothing) loses its session and with it the lock, which another client then
# gets, told that it was broken. Continued, the old holder must not carry
# on as if it held the lock: the server refuses to take its session back,
# and its next call fails with ESTALE (dafs-locktest: exit status 2, "Stale
# file handle"). It learns so only after DAFS_TIMEOUT_MS (default 5 s) of
# silence: the server drops the requests of a session it does not know,
# unanswered.
case_lease_lost_while_stopped() {
  local holder_out=$BATS_TEST_TMPDIR/holder.out rc=0
  start_holder 30
  kill -STOP "$HOLDER_PID"
  wait_until 10 grep -q 'lease expired' "$SERVER_LOG" ||
    fail "the stopped holder's lease did not expire within 10 s (--lease 2): $(tail -n 5 "$SERVER_LOG")"
  run locktest /lockfile try
  assert_success
  # Granted over a lock whose holder's session ended holding it: "broken".
  assert_output "acquired (broken)"
  kill -CONT "$HOLDER_PID"
  wait_bounded "$HOLDER_PID" 20 || rc=$?
  [ "$rc" -ne 124 ] ||
    fail "the holder carried on for 20 s after losing its lease: $(cat "$holder_out")"
  assert_equal "$rc" 2
  run cat "$holder_out"
  assert_line "libdafs: the server refused to take the session back: Stale file handle"
  assert_line "dafs-locktest: /lockfile: Stale file handle"
}

# feed FIFO COUNT PAUSE (python3): writes COUNT lines of SQL to FIFO, a pause
# after each: an insert (its own transaction) and a line saying it is done.
FEED_PY='
import sys, time
fifo, count, pause = sys.argv[1], int(sys.argv[2]), float(sys.argv[3])
with open(fifo, "w") as o:
    for i in range(1, count + 1):
        o.write("INSERT INTO t VALUES(%d); SELECT %s;\n" % (i, repr("done %d" % i)))
        o.flush()
        time.sleep(pause)
'

# sqlite3 under the shim, 200 inserts each its own transaction (rollback
# journal: created, written, synced, deleted every time), fed at 50 ms each,
# with the server crashed and restarted after the 60th. sqlite3 finishes
# with no error, the database is intact, and it holds every insert sqlite3
# said was done, each once.
case_sqlite_through_crash() {
  command -v sqlite3 >/dev/null || fail "sqlite3 is missing (scripts/install-deps installs it)"
  local out=$BATS_TEST_TMPDIR/sqlite.out done_count
  run timeout "$DAFS_CMD_TIMEOUT" env LD_PRELOAD="$SHIM_PRELOAD" \
    sqlite3 /dafs/db.sqlite "CREATE TABLE t(i INTEGER)"
  assert_success
  mkfifo "$LOCAL/sql"
  spawn "$BATS_TEST_TMPDIR/feed.out" python3 -c "$FEED_PY" "$LOCAL/sql" 200 0.05
  PACER_PID=$SPAWNED_PID
  LD_PRELOAD=$SHIM_PRELOAD spawn "$out" \
    sqlite3 -bail -cmd '.timeout 20000' /dafs/db.sqlite ".read $LOCAL/sql"
  CLIENT_PID=$SPAWNED_PID CLIENT_OUT=$out
  wait_until 20 eval '[ "$(grep -c "^done" "$out")" -ge 60 ] || ! running "$CLIENT_PID"' ||
    fail "sqlite3 did not get to 60 inserts in 20 s: $(tail -n 5 "$out")"
  running "$CLIENT_PID" || fail "sqlite3 ended before the crash: $(tail -n 5 "$out")"
  crash_and_restart
  finish_client
  done_count=$(grep -c '^done' "$out")
  run grep -v '^done' "$out"
  assert_output --partial "libdafs: the server is back"
  refute_output --regexp 'Error|error'
  assert_equal "$done_count" 200
  run timeout "$DAFS_CMD_TIMEOUT" env LD_PRELOAD="$SHIM_PRELOAD" \
    sqlite3 /dafs/db.sqlite "PRAGMA integrity_check; SELECT count(*), count(DISTINCT i), min(i), max(i) FROM t"
  assert_success
  assert_output "ok
$done_count|$done_count|1|$done_count"
  [ ! -e "$EXPORT/db.sqlite-journal" ] || fail "a hot journal was left in the export"
}

# LOG_PY (python3, under the shim): appends COUNT numbered lines to PATH
# through one O_APPEND descriptor, a pause after each.
LOG_PY='
import os, sys, time
path, count, pause = sys.argv[1], int(sys.argv[2]), float(sys.argv[3])
fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o644)
for i in range(1, count + 1):
    os.write(fd, b"line %d\n" % i)
    time.sleep(pause)
os.close(fd)
'

# An O_APPEND logger through two crashes: where an appending write lands
# depends on what ran before it, so one the dead server ran and did not
# answer must not run again: the restarted server answers it from its state
# directory (helpers.bash gives every server one). Every line exactly once,
# in order.
case_append_logger_through_crashes() {
  local out=$BATS_TEST_TMPDIR/logger.out
  LD_PRELOAD=$SHIM_PRELOAD spawn "$out" python3 -c "$LOG_PY" /dafs/log 600 0.01
  CLIENT_PID=$SPAWNED_PID CLIENT_OUT=$out
  PACER_PID=''
  wait_until 20 eval '[ "$(wc -l <"$EXPORT/log" 2>/dev/null || echo 0)" -ge 150 ] || ! running "$CLIENT_PID"' ||
    fail "the logger did not write 150 lines in 20 s: $(cat "$out")"
  crash_and_restart
  wait_until 30 eval '[ "$(wc -l <"$EXPORT/log")" -ge 350 ] || ! running "$CLIENT_PID"' ||
    fail "the logger did not get to 350 lines in 30 s: $(cat "$out")"
  crash_and_restart
  local status=0
  wait_bounded "$CLIENT_PID" 30 || status=$?
  [ "$status" -eq 0 ] || fail "the logger failed (exit status $status): $(cat "$out")"
  run diff <(seq 1 600 | sed 's/^/line /') "$EXPORT/log"
  assert_success
}

# fio writes 16 MiB in random 4 KiB blocks, paced at 2 MiB/s so that the
# crash and restart come two seconds into its writing, then reads it all
# back checking each block's crc32c. Then a local fio verifies the file in
# the export, as it landed.
case_fio_verify_through_crash() {
  command -v fio >/dev/null || fail "fio is missing (scripts/install-deps installs it)"
  local out=$BATS_TEST_TMPDIR/fio.out
  local job=(--name=v --rw=randwrite --bs=4k --size=16m --ioengine=psync --randrepeat=1
             --verify=crc32c --verify_fatal=1 --verify_state_save=0)
  LD_PRELOAD=$SHIM_PRELOAD spawn "$out" \
    fio "${job[@]}" --filename=/dafs/fio.dat --do_verify=1 --rate=2m
  CLIENT_PID=$SPAWNED_PID CLIENT_OUT=$out
  # fio lays the file out first, at full speed; then the paced writes.
  wait_until 15 eval '[ "$(file_size "$EXPORT/fio.dat")" -eq 16777216 ] || ! running "$CLIENT_PID"' ||
    fail "fio did not lay out its file in 15 s: $(cat "$out")"
  sleep 2
  running "$CLIENT_PID" || fail "fio ended before the crash: $(cat "$out")"
  crash_and_restart
  local rc=0
  wait_bounded "$CLIENT_PID" 40 || rc=$?
  [ "$rc" -ne 124 ] || fail "fio still ran 40 s after the crash: $(cat "$out")"
  [ "$rc" -eq 0 ] || fail "fio failed (exit status $rc): $(cat "$out")"
  run cat "$out"
  assert_output --partial "libdafs: the server is back"
  assert_output --regexp 'err= 0'
  assert_output --regexp 'issued rwts: total=4096,4096,'
  refute_output --partial 'verify:'
  refute_output --partial 'bad magic'
  run bash -c "cd $EXPORT && timeout $DAFS_CMD_TIMEOUT fio ${job[*]} --filename=fio.dat --verify_only"
  assert_success
  assert_output --regexp 'err= 0'
  refute_output --partial 'verify:'
}

# ---- the tests --------------------------------------------------------------

@test "shm: a 64 MiB dd writer rides through two server crashes and restarts" { start_server shm; case_writer_two_crashes; }
@test "tcp: a 64 MiB dd writer rides through two server crashes and restarts" { start_server tcp; case_writer_two_crashes; }
@test "shm: a 64 MiB dd reader rides through a server crash and restart" { start_server shm; case_reader_one_crash; }
@test "tcp: a 64 MiB dd reader rides through a server crash and restart" { start_server tcp; case_reader_one_crash; }
@test "shm: a dd writer rides through a server stopped (SIGTERM) and started again" { start_server shm; case_writer_server_stopped_and_started; }
@test "tcp: a dd writer rides through a server stopped (SIGTERM) and started again" { start_server tcp; case_writer_server_stopped_and_started; }
@test "tcp: a dd writer rides through its connection cut twice (ss -K), server alive" { start_server tcp; case_writer_connection_cut; }
@test "tcp with --keys: a keyed dd writer rides through a crash and a cut connection" { case_keyed_writer; }
@test "shm: DAFS_RECOVERY_TIMEOUT=2, server gone for good: the writer fails with EIO in time" { start_server shm; case_writer_gives_up; }
@test "tcp: DAFS_RECOVERY_TIMEOUT=2, server gone for good: the writer fails with EIO in time" { start_server tcp; case_writer_gives_up; }
@test "shm: a lock held through a server crash and restart is taken back; others are refused it until it is let go" { start_server shm; case_lock_taken_back; }
@test "tcp: a lock held through a server crash and restart is taken back; others are refused it until it is let go" { start_server tcp; case_lock_taken_back; }
@test "shm: a client stopped past its lease loses its lock to another, and continued fails with ESTALE" { start_server shm --lease 2; case_lease_lost_while_stopped; }
@test "tcp: a client stopped past its lease loses its lock to another, and continued fails with ESTALE" { start_server tcp --lease 2; case_lease_lost_while_stopped; }
@test "shm: sqlite3, 200 one-insert transactions, rides through a server crash and restart: intact, every insert once" { start_server shm; case_sqlite_through_crash; }
@test "tcp: sqlite3, 200 one-insert transactions, rides through a server crash and restart: intact, every insert once" { start_server tcp; case_sqlite_through_crash; }
@test "shm: fio randwrite with crc32c verify rides through a server crash and restart" { start_server shm; case_fio_verify_through_crash; }
@test "shm: an O_APPEND logger through two crashes and restarts: every line once, in order" { start_server shm; case_append_logger_through_crashes; }
@test "tcp: an O_APPEND logger through two crashes and restarts: every line once, in order" { start_server tcp; case_append_logger_through_crashes; }
@test "tcp: fio randwrite with crc32c verify rides through a server crash and restart" { start_server tcp; case_fio_verify_through_crash; }
