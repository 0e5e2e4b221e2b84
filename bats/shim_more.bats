#!/usr/bin/env bats
# shim_more.bats — the shim's copy, mmap and exec families, driven by a small
# C program (shim/tests/mmap_copy_exec.c) and by ordinary commands:
#   - copy_file_range, sendfile and splice with a DAFS descriptor on either
#     side or both: byte counts, offsets (pointer and descriptor), contents;
#   - mmap MAP_PRIVATE (never written back) and MAP_SHARED (written back on
#     msync, munmap and at exit, after the descriptor was closed), checked in
#     the export directory;
#   - cp of a big file in, within and out of DAFS stays byte-identical;
#   - exec with an emptied environment (execve, execle, clearenv + execlp or
#     execvp, env -i), posix_spawn(p) children reading an inherited DAFS
#     descriptor (by number and as stdin through a file action), system() and
#     popen() after clearenv(), and `sh -c 'exec 3</dafs/f; cat <&3'`.
# With DAFS_BUILD=build-asan the ASan runtimes precede the shim (shim_helpers).

load helpers
load shim_helpers

setup() {
  test_program mmap_copy_exec
  SHIMTEST=$TEST_PROGRAM
  LOCAL=$BATS_TEST_TMPDIR/local
  mkdir -p "$LOCAL"
  start_server "$SHIM_TRANSPORT"
  printf 'hello dafs\n' >"$EXPORT/f"
}

@test "shim: copy_file_range, sendfile and splice to, from and within DAFS" {
  head -c 3000000 /dev/urandom >"$LOCAL/src"
  cp "$LOCAL/src" "$EXPORT/src"
  run shimmed "$SHIMTEST" copy /dafs "$LOCAL"
  assert_success
  assert_output "copy ok"
  # What the program made, seen on the server's side.
  assert_equal "$(sha "$EXPORT/cfr2")" "$(sha "$LOCAL/src")"
  assert_equal "$(sha "$LOCAL/cfr")" "$(sha "$LOCAL/src")"
  assert_equal "$(file_size "$EXPORT/cfr")" 2999995
}

@test "shim: mmap MAP_PRIVATE and MAP_SHARED: msync, munmap, exit write back" {
  head -c 10000 /dev/urandom >"$EXPORT/m.bin"
  cp "$EXPORT/m.bin" "$BATS_TEST_TMPDIR/m.orig"
  run shimmed "$SHIMTEST" mmap /dafs/m.bin
  assert_success
  assert_output "mmap ok"
  # The expected file: the original with the three shared writes.
  local want=$BATS_TEST_TMPDIR/m.want
  cp "$BATS_TEST_TMPDIR/m.orig" "$want"
  printf 'SHARED-1' | dd of="$want" bs=1 seek=10 conv=notrunc status=none
  printf 'SHARED-2' | dd of="$want" bs=1 seek=$((2 * $(getconf PAGESIZE) + 1)) conv=notrunc status=none
  printf 'AT-EXIT' | dd of="$want" bs=1 seek="$(getconf PAGESIZE)" conv=notrunc status=none
  assert_equal "$(sha "$EXPORT/m.bin")" "$(sha "$want")"
  # python3's mmap module: shared write, flush, close.
  PY=$(python3 -c 'import sys; print(sys.executable)')
  run shimmed "$PY" -c '
import mmap
with open("/dafs/f", "r+b") as f:
    m = mmap.mmap(f.fileno(), 0)
    print(m[:5].decode())
    m[0:5] = b"HELLO"
    m.flush(); m.close()
'
  assert_success
  assert_output hello
  assert_equal "$(cat "$EXPORT/f")" "HELLO dafs"
}

@test "shim: cp of a big file in, within and out of DAFS is identical" {
  head -c 20000000 /dev/urandom >"$BATS_TEST_TMPDIR/big.bin"
  run shimmed cp "$BATS_TEST_TMPDIR/big.bin" /dafs/big.bin
  assert_success
  run shimmed cp /dafs/big.bin /dafs/big2.bin
  assert_success
  run shimmed cp /dafs/big2.bin "$BATS_TEST_TMPDIR/big3.bin"
  assert_success
  local want
  want=$(sha "$BATS_TEST_TMPDIR/big.bin")
  assert_equal "$(sha "$EXPORT/big.bin")" "$want"
  assert_equal "$(sha "$EXPORT/big2.bin")" "$want"
  assert_equal "$(sha "$BATS_TEST_TMPDIR/big3.bin")" "$want"
}

@test "shim: exec with an emptied environment keeps the shim and the server" {
  local how
  for how in execve execle clearenv-execlp clearenv-execvp; do
    run shimmed "$SHIMTEST" envexec "$how" /dafs/f
    assert_success
    assert_output "hello dafs"
  done
  run shimmed env -i /bin/cat /dafs/f
  assert_success
  assert_output "hello dafs"
  run shimmed sh -c 'exec 3</dafs/f; cat <&3'
  assert_success
  assert_output "hello dafs"
}

@test "shim: posix_spawn children read an inherited DAFS descriptor" {
  # Five bytes through a dup2 file action, five more (the shared offset) by
  # descriptor number from a child with an empty environment.
  run shimmed "$SHIMTEST" spawn /dafs/f
  assert_success
  assert_output $'hello|\n dafs|'
}

@test "shim: system() and popen() after clearenv() still reach DAFS" {
  run shimmed "$SHIMTEST" system /dafs/f
  assert_success
  assert_output $'hello dafs\nhel|\npopen: hello dafs'
}
