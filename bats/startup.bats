#!/usr/bin/env bats
# startup.bats — what the client skips of libfabric's start-up, and when it
# must not. Over shm and tcp the verbs provider's probe of /proc/kallsyms
# (two full reads, ~140 ms: shim/core.c, "what libfabric's start-up costs")
# is refused to the thread that opens the session; over verbs, with
# DAFS_FULL_FABRIC_INIT=1, or in a program that has libfabric loaded
# itself, libfabric starts as it always did. Which files a process opened
# is read from strace's log: the shim cannot hide its own opens from it.
# A tcp client's smaller rxm receive depth (common/fabric.c) shows in its
# peak memory. That nothing loads libfabric before the first DAFS access is
# shim.bats's "never touches /dafs" test; the start-up figures are
# scripts/bench-startup's.

load helpers
load shim_helpers

setup() {
  command -v strace >/dev/null || fail "strace is missing (scripts/install-deps installs it)"
  TRACE=$BATS_TEST_TMPDIR/trace
}

# traced CMD...: CMD under the shim (only CMD: strace itself runs plain),
# every open of every thread and child logged to $TRACE.
traced() {
  timeout "$DAFS_CMD_TIMEOUT" strace -f -qq -e trace=open,openat -o "$TRACE" \
    -E LD_PRELOAD="$SHIM_PRELOAD" "$@"
}

kallsyms_opens() {
  grep -c '"/proc/kallsyms"' "$TRACE" || true
}

# The probe is skipped, the file reads right, and DAFS_DEBUG says so once.
skipped_on() {
  start_server "$1"
  printf 'one\ntwo\n' >"$EXPORT/lines.txt"
  run traced cat /dafs/lines.txt
  assert_success
  assert_output $'one\ntwo'
  assert_equal "$(kallsyms_opens)" 0
  run traced env DAFS_DEBUG=1 cat /dafs/lines.txt
  assert_success
  assert_line --partial "verbs probe of /proc/kallsyms refused"
  assert_equal "$(grep -c 'kallsyms refused' <<<"$output")" 1
  # What the skip is measured against: libfabric's own start-up reads it.
  run traced env DAFS_FULL_FABRIC_INIT=1 cat /dafs/lines.txt
  assert_success
  assert_output $'one\ntwo'
  assert_equal "$(kallsyms_opens)" 2
}

@test "startup: a session over shm skips the verbs provider's /proc/kallsyms probe" {
  skipped_on shm
}

@test "startup: a session over tcp skips the verbs provider's /proc/kallsyms probe" {
  skipped_on tcp
}

@test "startup: over verbs libfabric starts whole (and no RDMA device fails cleanly)" {
  run traced env DAFS_SERVER=verbs://127.0.0.1:1 cat /dafs/lines.txt
  assert_failure
  assert_line --partial "cannot open a session on verbs://127.0.0.1:1"
  assert_equal "$(kallsyms_opens)" 2
}

@test "startup: a program with its own libfabric keeps libfabric's start-up whole" {
  start_server shm
  printf 'mine\n' >"$EXPORT/own.txt"
  # libfabric loaded by the program before its first DAFS access: it may
  # use verbs (and device memory) itself, so nothing of its start-up is cut.
  run traced python3 -c 'import ctypes; ctypes.CDLL("libfabric.so.1")
print(open("/dafs/own.txt").read(), end="")'
  assert_success
  assert_output mine
  assert_equal "$(kallsyms_opens)" 2
}

# Peak resident memory (kB) of a shell under the shim that read one line of
# /dafs/lines.txt (a tcp session), then whether FI_OFI_RXM_MSG_RX_SIZE is in
# what its children inherit: "HWM SET".
tcp_client_footprint() {
  shimmed env "$@" bash -c 'read -r line </dafs/lines.txt && [ "$line" = one ] || exit 1
    echo "$(awk "/^VmHWM:/ { print \$2 }" /proc/$$/status) $(env | grep -c "^FI_OFI_RXM_MSG_RX_SIZE=")"'
}

@test "startup: a tcp client preposts 1024 receives, not 4096, and leaves no variable behind" {
  start_server tcp
  printf 'one\ntwo\n' >"$EXPORT/lines.txt"
  local ours theirs
  run tcp_client_footprint
  assert_success
  ours=$output
  # rxm's default depth, as a user may set it: honoured, and passed on.
  run tcp_client_footprint FI_OFI_RXM_MSG_RX_SIZE=4096
  assert_success
  theirs=$output
  assert_equal "${ours#* }" 0
  assert_equal "${theirs#* }" 1
  # The three pool chunks of 17 MB not zeroed: well over 40 MB less.
  (( ${theirs% *} - ${ours% *} > 40000 )) ||
    fail "peak RSS ${ours% *} kB with the client's depth, ${theirs% *} kB with rxm's"
}
