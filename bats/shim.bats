#!/usr/bin/env bats
# shim.bats — unmodified programs under libdafsshim.so. Each data case runs a
# command once in a local directory and once in /dafs (the same fixture in
# the export) and compares output, exit status and the resulting trees byte
# for byte. One transport (shm) is enough here: the core suites cover tcp.
#
# With DAFS_BUILD=build-asan the ASan-built shim is preloaded into the
# uninstrumented programs after the ASan and UBSan runtimes (see
# shim_helpers.bash), with leak detection off: the programs' own allocations
# are not ours to judge.

load helpers
load shim_helpers

setup() {
  shim_fixture_setup 3000000
}

@test "shim: cat, head, tail, wc, sha256sum, sort" {
  same_on_both 'cat lines.txt sub/fruit.txt; head -n 2 lines.txt; tail -n 2 lines.txt;
                tail -c 100 random.bin | od -An -tx1 | head -n 2;
                wc lines.txt random.bin; sha256sum random.bin $R/lines.txt;
                sort sub/fruit.txt; sort -r $R/lines.txt'
}

@test "shim: cp in, out and within, and a big file through cat" {
  same_on_both 'cp random.bin copy.bin && cp $R/sub/fruit.txt $R/sub/deeper/f2 &&
                cp -r sub sub2 && cat random.bin | sha256sum'
  # In from a local file, out to one.
  run shimmed cp "$BATS_TEST_TMPDIR/random.bin" /dafs/in.bin
  assert_success
  run shimmed cp /dafs/in.bin "$BATS_TEST_TMPDIR/out.bin"
  assert_success
  assert_equal "$(sha "$EXPORT/in.bin")" "$(sha "$BATS_TEST_TMPDIR/random.bin")"
  assert_equal "$(sha "$BATS_TEST_TMPDIR/out.bin")" "$(sha "$BATS_TEST_TMPDIR/random.bin")"
}

@test "shim: ls -l names, modes and sizes; ls -R" {
  same_on_both "chmod 600 lines.txt; ls -l | awk '{print \$1, \$5, \$NF}'; ls -R; ls -a sub"
}

@test "shim: mkdir -p, touch, rm -r, rmdir, mv" {
  same_on_both 'mkdir -p a/b/c && touch a/b/c/t1 a/t2 && mkdir a/b/d && rmdir a/b/d &&
                mv a/t2 a/t3 && mv sub/fruit.txt . && rm -r sub && ls -R a'
}

@test "shim: shell redirection, cd and relative paths" {
  same_on_both 'echo x > f; echo y >> f; cat < f; cat f > g; wc -c < g;
                cd sub && pwd | sed "s|^$R|R|" && cat fruit.txt | sort > ../sorted && cd .. && cat sorted;
                cd sub/deeper && ls -a ../.. | head -3'
}

@test "shim: python3 open, read, write, listdir, stat" {
  # The interpreter itself, not a wrapper script (pyenv's shims are bash
  # scripts that exec each other: see the exec note in shim/core.c).
  PY=$(python3 -c 'import sys; print(sys.executable)')
  export PY
  same_on_both '$PY -c "
import os
with open(\"py.txt\", \"w\") as f:
    f.write(\"hello\n\" * 1000)
with open(\"py.txt\", \"a\") as f:
    f.write(\"end\n\")
with open(\"py.txt\") as f:
    data = f.read()
print(len(data), data[-4:], os.stat(\"py.txt\").st_size)
print(sorted(os.listdir(\".\")), sorted(os.listdir(\"sub\")))
with open(\"random.bin\", \"rb\") as f:
    f.seek(-10, 2); print(f.tell(), f.read().hex())
os.rename(\"py.txt\", \"sub/py2.txt\"); os.unlink(\"sub/fruit.txt\")
print(os.path.isdir(\"sub\"), os.path.exists(\"nope\"))
"'
}

@test "shim: errors look the same: missing file, existing directory, rmdir non-empty" {
  same_on_both 'cat nope; echo "status $?"; cat $R/sub/nope; echo "status $?"'
  same_on_both 'mkdir sub; echo "status $?"; rmdir sub; echo "status $?"'
  same_on_both 'cat sub; echo "status $?"; ls nope; echo "status $?"'
}

@test "shim: a program that never touches /dafs opens no session and loads no libfabric" {
  local before
  before=$(sessions_opened)
  run shimmed ls /
  assert_success
  run shimmed bash -c 'cat /etc/hostname >/dev/null; echo ok'
  assert_output ok
  LD_PRELOAD=$SHIM_PRELOAD spawn "$BATS_TEST_TMPDIR/sleep.out" sleep 30
  wait_until 5 grep -q libdafsshim "/proc/$SPAWNED_PID/maps"
  run grep -c libfabric "/proc/$SPAWNED_PID/maps"
  assert_output 0
  assert_equal "$(sessions_opened)" "$before"
  # One that does touch it opens exactly one, and loads libfabric then.
  run shimmed cat /dafs/lines.txt
  assert_success
  assert_equal "$(sessions_opened)" "$((before + 1))"
}

@test "shim: without DAFS_SERVER, /dafs paths fail with ENXIO and one clear line" {
  run env -u DAFS_SERVER LD_PRELOAD="$SHIM_PRELOAD" cat /dafs/lines.txt
  assert_failure
  assert_line --partial "DAFS_SERVER is not set"
  assert_line --partial "No such device or address"
  run env -u DAFS_SERVER LD_PRELOAD="$SHIM_PRELOAD" cat /etc/hostname
  assert_success
}

@test "shim: dup, fork and exec share one offset" {
  # The subshell and cat inherit the shell's descriptor: each read moves the
  # one offset they share, as with a kernel file.
  run shimmed bash -c 'exec 3< /dafs/lines.txt; read -r a <&3; (read -r b <&3; echo "child $b");
                       head -n 1 <&3; read -r d <&3; echo "$a $d"'
  assert_success
  assert_output $'child two\nthree\none four'
  # Output through a dup'ed descriptor lands after what came before.
  run shimmed bash -c 'exec 4> /dafs/out; echo first >&4; (echo second >&4); cat /dafs/lines.txt >&4; exec 4>&-'
  assert_success
  assert_equal "$(cat "$EXPORT/out")" "$(printf 'first\nsecond\n'; cat "$LOCAL/lines.txt")"
}

@test "dafs-run: private server, export, exit status" {
  local dir=$BATS_TEST_TMPDIR/runexport
  mkdir -p "$dir"
  # dafs-run appends the shim to what LD_PRELOAD already holds.
  run env -u DAFS_SERVER DAFS_BUILD="$DAFS_BUILD" LD_PRELOAD="$SHIM_RUNTIME" \
    "$DAFS_ROOT/scripts/dafs-run" \
    --export "$dir" -- bash -c 'echo hi > /dafs/x && cat /dafs/x && exit 7'
  assert_equal "$status" 7
  assert_output hi
  assert_equal "$(cat "$dir/x")" hi
}
