#!/usr/bin/env bats
# bench.bats — the benchmark harness itself: `BENCH_QUICK=1 scripts/bench`
# (tiny sizes) must run every step to the end and leave every CSV with all
# its rows, both PNG plots and the summary, and clean up after itself. The
# figures are never looked at: they are the machine's business, not the
# harness's.

load helpers

# Rows each CSV must have: one per step that writes to it (scripts/bench's
# plan), and one per summary figure. Global: bats loads this file inside a
# function.
declare -gA EXPECTED_ROWS=(
  [core]=13 [read]=34 [cpu]=4 [fio]=2 [bdb]=10 [postmark]=2 [gzip]=2 [startup]=9 [restart]=2
  [summary]=60
)

# Section i (the NFS peer) has a test of its own, below: this one runs every
# step but its (BENCH_ONLY: labels not starting "i.").
@test "bench: BENCH_QUICK=1 scripts/bench writes every CSV, both plots and the summary" {
  local results=$BATS_TEST_TMPDIR/results name rows pid bench_output
  mkdir "$BATS_TEST_TMPDIR/tmp"
  run timeout -k 10 240 env BENCH_QUICK=1 BENCH_ONLY='^([^i]|i[^.])' BENCH_RESULTS="$results" \
    DAFS_BUILD="$DAFS_BUILD" TMPDIR="$BATS_TEST_TMPDIR/tmp" "$DAFS_ROOT/scripts/bench"
  assert_success
  refute_output --partial FAILED
  assert_output --partial "[75/75]"
  assert_output --partial "all steps done"
  bench_output=$output

  for name in "${!EXPECTED_ROWS[@]}"; do
    [ -f "$results/$name.csv" ] || fail "$name.csv is missing"
    rows=$(($(wc -l <"$results/$name.csv") - 1))
    [ "$rows" -eq "${EXPECTED_ROWS[$name]}" ] ||
      fail "$name.csv has $rows rows, ${EXPECTED_ROWS[$name]} expected"
  done
  # Every summary row has both of its figures and a ratio (columns 5-7);
  # j's (the stall across a restart) have no baseline, so a figure alone.
  run awk -F, 'NR > 1 && ($(NF - 4) == "" || ($2 != "j" && ($(NF - 3) == "" || $(NF - 2) == "")))' \
    "$results/summary.csv"
  assert_output ""

  for name in read bdb; do
    [ -s "$results/$name.png" ] || fail "$name.png is missing"
    run od -An -tx1 -N8 "$results/$name.png"
    assert_output " 89 50 4e 47 0d 0a 1a 0a"
  done

  [ -s "$results/summary.txt" ] || fail "summary.txt is missing"
  run grep -cE '^\| (core|a|b|c|d|e|f|g|h|j) ' "$results/summary.txt"
  assert_output "${EXPECTED_ROWS[summary]}"

  # Nothing left behind: no temporary directory, no server.
  run ls -A "$BATS_TEST_TMPDIR/tmp"
  assert_output ""
  for pid in $(grep -m1 '^servers:' <<<"$bench_output" | grep -oE 'pid [0-9]+' | cut -d' ' -f2); do
    ! kill -0 "$pid" 2>/dev/null || fail "server pid $pid is still running"
  done
}

# i: every row (quiet and busy; random misses and sequential; NFS, DAFS tcp,
# DAFS shm, local) has a figure, its three percentiles and its ratio to NFS,
# the goal rows a verdict; nfs-ganesha and the CPU load are gone after it.
@test "bench: section i runs the NFS peer's rows, each with figures, and stops nfs-ganesha and the load" {
  local results=$BATS_TEST_TMPDIR/results pid num='[0-9]+(\.[0-9]+)?'
  mkdir "$BATS_TEST_TMPDIR/tmp"
  run timeout -k 10 120 env BENCH_QUICK=1 BENCH_ONLY='^i\.' BENCH_RESULTS="$results" \
    DAFS_BUILD="$DAFS_BUILD" TMPDIR="$BATS_TEST_TMPDIR/tmp" "$DAFS_ROOT/scripts/bench"
  assert_success
  refute_output --partial FAILED
  assert_output --partial "[19/19]"
  pid=$(grep -oE 'nfs-ganesha pid [0-9]+ serving' <<<"$output" | grep -oE '[0-9]+') ||
    fail "no nfs-ganesha PID in the output"

  run grep -cE "^\| i +\| (quiet|busy) +\| (4 KiB random, miss|1 MiB sequential) +\| (nfs|tcp|shm|local) +\| +$num \| (ops/s|MiB/s) +\| +$num \| +$num \| +$num \| +$num \|" \
    "$results/summary.txt"
  assert_output 16
  # The goals: tcp on both workloads, shm on the misses, in both conditions.
  run grep -cE '\| >= (3|10|1\.5)x +\| (met|missed) +\|$' "$results/summary.txt"
  assert_output 6
  run awk -F, 'NR > 1 && $13 > 0 && $14 > 0 && $15 > 0 && $16 > 0' "$results/nfs-peer.csv"
  [ "${#lines[@]}" -eq 16 ] || fail "nfs-peer.csv has ${#lines[@]} complete rows, 16 expected"

  ! kill -0 "$pid" 2>/dev/null || fail "nfs-ganesha (pid $pid) is still running"
  run pgrep -f 'BEGIN [{] for [(];;[)] n[+][+] [}]'
  assert_output ""
  run ls -A "$BATS_TEST_TMPDIR/tmp"
  assert_output ""
}

@test "bench-direct: a tiny run prints both paths for each provider and cleans up" {
  mkdir "$BATS_TEST_TMPDIR/tmp"
  run timeout -k 10 120 env DAFS_BUILD="$DAFS_BUILD" BENCH_DIRECT_ROUNDS=1 \
    BENCH_DIRECT_SECONDS=0.3 BENCH_DIRECT_FILE_MIB=16 BENCH_DIRECT_CACHE_MIB=4 \
    BENCH_DIRECT_BLOCKS=262144 BENCH_DIRECT_TMP="$BATS_TEST_TMPDIR/tmp" \
    "$DAFS_ROOT/scripts/bench-direct"
  assert_success
  # One table row per provider: block, provider, two rates, a ratio, two CPU figures.
  run grep -cE '^256K +(shm|tcp) +[0-9]+ +[0-9]+ +[0-9.]+ +[0-9.]+ +[0-9.]+$' <<<"$output"
  assert_output 2
  run ls -A "$BATS_TEST_TMPDIR/tmp"
  assert_output ""
}
