#!/usr/bin/env bats
# shim_aio.bats — POSIX aio and libaio on DAFS descriptors (shim/wrap_aio.c).
# The test programs of shim/tests/ (built by `make unit`) each run once in
# a local directory and once in /dafs under the shim, and the two outputs,
# exit statuses and resulting trees must match (same_on_both). Then fio with
# its psync, posixaio and libaio engines writes and verifies (crc32c) a file
# on /dafs, and a local fio verifies the bytes that landed in the export.
#
# With DAFS_BUILD=build-asan the ASan-built shim is preloaded after the
# sanitizer runtimes, as in shim.bats.

load helpers
load shim_helpers

setup() {
  SCRATCH=$BATS_TEST_TMPDIR/scratch    # kernel files for the mixed requests
  mkdir -p "$SCRATCH"
  shim_fixture_setup 100000
  export SCRATCH
}

# same_on_both only says the two runs agree: the program must also have
# found every result right (on /dafs, again).
all_ok() {
  run shimmed "$AIO_BIN" "$DAFS_MOUNT" "$SCRATCH"
  assert_success
  assert_line "all ok"
  refute_output --partial FAIL
}

@test "shim aio: aio_read/write/fsync/suspend/cancel, lio_listio, SIGEV_SIGNAL and SIGEV_THREAD" {
  test_program aio_demo
  export AIO_BIN=$TEST_PROGRAM
  same_on_both '"$AIO_BIN" "$R" "$SCRATCH"; echo "status $?"'
  all_ok
}

@test "shim aio: the aio_*64 names (-D_FILE_OFFSET_BITS=64), relative paths" {
  test_program aio_demo64
  run nm -D "$TEST_PROGRAM"
  assert_output --partial aio_read64
  assert_output --partial lio_listio64
  export AIO_BIN=$TEST_PROGRAM
  same_on_both '"$AIO_BIN" . "$SCRATCH" | tail -n 3; echo "status ${PIPESTATUS[0]}"'
  all_ok
}

@test "shim aio: libaio io_submit/io_getevents (true short counts, mixed contexts, eventfd)" {
  test_program libaio_demo
  export AIO_BIN=$TEST_PROGRAM
  same_on_both '"$AIO_BIN" "$R" "$SCRATCH"; echo "status $?"'
  all_ok
}

# fio_on_dafs ENGINE: randwrite 4 MiB in 4 KiB blocks through ENGINE on /dafs,
# then fio's verify phase reads it all back through the same engine and
# checks crc32c; a local fio then verifies the file in the export.
fio_on_dafs() {
  local engine=$1
  command -v fio >/dev/null || fail "fio is missing: scripts/install-deps installs it"
  local job=(--name=aio --filename=fio-$engine.dat --rw=randwrite --bs=4k --size=4m
             --verify=crc32c --verify_fatal=1 --verify_state_save=0 --randrepeat=1)
  # fio is started in /dafs with a relative file name (cd in the shim).
  run shimmed bash -c "cd $DAFS_MOUNT && fio ${job[*]} --ioengine=$engine --iodepth=16 \
                       --do_verify=1 --runtime=20"
  assert_success
  refute_output --partial 'verify:'
  refute_output --partial 'bad magic'
  assert_output --regexp 'err= 0'
  assert_equal "$(stat -c %s "$EXPORT/fio-$engine.dat")" 4194304
  run bash -c "cd $EXPORT && timeout $DAFS_CMD_TIMEOUT fio ${job[*]} --ioengine=psync --verify_only"
  assert_success
  assert_output --regexp 'err= 0'
  refute_output --partial 'verify:'
}

@test "shim aio: fio psync, crc32c verify on /dafs" {
  fio_on_dafs psync
}

@test "shim aio: fio posixaio, crc32c verify on /dafs" {
  fio_on_dafs posixaio
}

@test "shim aio: fio libaio, crc32c verify on /dafs" {
  fio_on_dafs libaio
}
