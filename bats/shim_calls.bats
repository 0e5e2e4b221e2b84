#!/usr/bin/env bats
# shim_calls.bats — the shim's later calls (shim/tests/calls_demo.c, run once
# on a local directory and once on /dafs and compared line by line: vector
# I/O and its v2 flags, fallocate and posix_fallocate through the ALLOCATE
# operation, sync_file_range, getdents64 resumed with lseek, readdir_r,
# scandir with filter and compar, the utimes family, OFD locks against
# process locks; ENOSPC from fallocate is in shim_errors.bats, on a small
# tmpfs: never fill the machine's disk to provoke it), the mount root (mkdir /dafs is EEXIST), shared mappings
# written back when the last descriptor closes (shim/tests/mmap_close.c),
# and the DAFS_DEBUG diagnostics naming call sites (shim/tests/debug_sites.c).
# With DAFS_BUILD=build-asan the ASan runtimes precede the shim (shim_helpers).

load helpers
load shim_helpers

setup() {
  shim_fixture_setup 10000
}

@test "shim calls: preadv/pwritev(2), fallocate, sync_file_range, getdents64, scandir, utimes, OFD locks as on a local directory" {
  test_program calls_demo
  export CALLS_BIN=$TEST_PROGRAM
  # The DAFS run also checks what DAFS refuses by design (RWF_NOWAIT,
  # collapse-range): "dafs" there, "local" here would print the same.
  same_on_both '"$CALLS_BIN" . $([ "$R" = /dafs ] && echo dafs || echo local); echo "status $?"'
  run shimmed "$CALLS_BIN" /dafs dafs
  assert_success
  assert_line "all ok"
  # What fallocate and the vectors left, seen from the server's side.
  assert_equal "$(stat -c %s "$EXPORT/alloc.dat")" 300000
  assert_equal "$(stat -c %s "$EXPORT/vec.dat")" 46
  assert_equal "$(cat "$EXPORT/vec.dat" | tr '\0' .)" "beta-ha-..alpha-beta-gamma....gammaalpha-beta-"
}

@test "shim calls: mkdir of the mount root is EEXIST; mkdir -p, stat and ls of it work" {
  run shimmed mkdir /dafs
  assert_failure
  assert_output --partial "File exists"
  run shimmed python3 -c 'import os
try:
    os.mkdir("/dafs")
except FileExistsError:
    print("EEXIST")'
  assert_output EEXIST
  run shimmed mkdir -p /dafs /dafs/a/b
  assert_success
  [ -d "$EXPORT/a/b" ]
  run shimmed stat -c %F /dafs
  assert_output directory
  run shimmed ls /dafs
  assert_success
  assert_line a
  assert_line lines.txt
}

@test "shim calls: MAP_SHARED stores reach the file when the last descriptor closes" {
  test_program mmap_close
  head -c 8192 /dev/zero >"$EXPORT/m.bin"
  # The check runs while the program still has the mapping: cat of the
  # export's own file, in another process, after close and before munmap.
  run shimmed "$TEST_PROGRAM" /dafs/m.bin \
    sh -c "head -c 120 '$EXPORT/m.bin' | tr '\\0' . ; echo"
  assert_success
  assert_line --index 0 closed
  assert_line --index 1 "STORE-1$(printf '.%.0s' $(seq 93))STORE-2$(printf '.%.0s' $(seq 13))"
  assert_line "all ok"
  # The store made after close went back at munmap.
  assert_equal "$(dd if="$EXPORT/m.bin" bs=1 skip=200 count=7 status=none)" STORE-3
}

@test "shim calls: DAFS_DEBUG names each unsupported call's site once, else stays silent" {
  test_program debug_sites
  local prog=$TEST_PROGRAM err=$BATS_TEST_TMPDIR/stderr
  DAFS_DEBUG=1 shimmed "$prog" /dafs/lines.txt 2>"$err"
  run cat "$err"
  # Two sites, the first called twice: two lines, each naming ioctl, the
  # program's function that called it and the program.
  assert_equal "$(grep -c 'not supported' "$err")" 2
  assert_line --regexp "ioctl on DAFS descriptor [0-9]+ is not supported \(Inappropriate ioctl for device\), called from first_site\+0x[0-9a-f]+ in $prog\$"
  assert_line --regexp "ioctl on DAFS descriptor [0-9]+ is not supported .*, called from second_site\+0x[0-9a-f]+ in $prog\$"
  # Without debugging: the same failures, nothing on stderr.
  shimmed "$prog" /dafs/lines.txt 2>"$err" >"$BATS_TEST_TMPDIR/stdout"
  assert_equal "$(cat "$BATS_TEST_TMPDIR/stdout")" "all ok"
  assert_equal "$(cat "$err")" ""
}

@test "shim calls: remove(3) of a file, of an empty directory, of a missing name" {
  # glibc's remove reaches unlink and rmdir internally, out of LD_PRELOAD's
  # sight: without its own wrapper it would act on the local file system.
  same_on_both 'python3 -c "
import ctypes, os
libc = ctypes.CDLL(None, use_errno=True)
open(\"gone.txt\", \"w\").close(); os.mkdir(\"gone.d\")
print(libc.remove(b\"gone.txt\"), libc.remove(b\"gone.d\"), libc.remove(b\"missing\"), os.strerror(ctypes.get_errno()))
print(sorted(n for n in os.listdir(\".\") if n.startswith(\"gone\")))
"'
  [ ! -e "$EXPORT/gone.txt" ] && [ ! -e "$EXPORT/gone.d" ]
}
