#!/usr/bin/env bats
# shim_umask.bats — the shim is the one owner of the umask (shim/wrap_umask.c;
# libdafs-core sends the mode it is given): a program that changes its umask
# after its first DAFS access creates with the new one, through every create
# path (shim/tests/umask_modes.c, compared with a local directory), and the
# dafs command applies its own umask to mkdir.
# With DAFS_BUILD=build-asan the ASan runtimes precede the shim (shim_helpers).

load helpers
load shim_helpers

setup() {
  shim_fixture_setup 1000
}

mode_of() {
  stat -c %a "$1"
}

@test "shim umask: creates after umask() changes use the new umask, as on a local directory" {
  test_program umask_modes
  export UMASK_BIN=$TEST_PROGRAM
  # Started with 022: the first create is the program's first DAFS access.
  # Equal outputs (the modes and "all ok", "status 0"), equal trees.
  same_on_both 'umask 022 && "$UMASK_BIN"; echo "status $?"'
  # What the server created, seen from its side.
  assert_equal "$(mode_of "$EXPORT/first")" 644
  assert_equal "$(mode_of "$EXPORT/first-dir")" 755
  assert_equal "$(mode_of "$EXPORT/open-077")" 600
  assert_equal "$(mode_of "$EXPORT/mkdir-077")" 700
  assert_equal "$(mode_of "$EXPORT/fopen-077")" 600
  assert_equal "$(mode_of "$EXPORT/open-000")" 666
  assert_equal "$(mode_of "$EXPORT/openat-000")" 777
  assert_equal "$(mode_of "$EXPORT/mkdir-000")" 777
  assert_equal "$(mode_of "$EXPORT/exact-0754")" 754
  assert_equal "$(mode_of "$EXPORT/creat-027")" 640
  assert_equal "$(mode_of "$EXPORT/mkdirat-027")" 750
  assert_equal "$(mode_of "$EXPORT/after-thread")" 600
  assert_equal "$(mode_of "$EXPORT/child-inherited")" 600
  assert_equal "$(mode_of "$EXPORT/child-002")" 664
  assert_equal "$(mode_of "$EXPORT/parent-after-child")" 600
}

@test "shim umask: umask() under the shim still sets the process's umask for local files" {
  run shimmed python3 -c '
import os, sys
os.umask(0o022)
first = os.umask(0o077)
open(sys.argv[1] + "/local-077", "w").close()
os.mkdir("/dafs/dafs-077")
print(oct(first), oct(os.umask(0o022)))' "$LOCAL"
  assert_success
  assert_output "0o22 0o77"
  assert_equal "$(mode_of "$LOCAL/local-077")" 600
  assert_equal "$(mode_of "$EXPORT/dafs-077")" 700
}

@test "dafs mkdir applies the caller's umask; put keeps the local file's mode" {
  (umask 077 && dafs mkdir /private)
  (umask 0 && dafs mkdir -p /open/a)
  (umask 022 && dafs mkdir /plain)
  assert_equal "$(mode_of "$EXPORT/private")" 700
  assert_equal "$(mode_of "$EXPORT/open")" 777
  assert_equal "$(mode_of "$EXPORT/open/a")" 777
  assert_equal "$(mode_of "$EXPORT/plain")" 755
  printf 'x' >"$LOCAL/shared"
  chmod 0664 "$LOCAL/shared"
  (umask 077 && dafs put "$LOCAL/shared" /shared)
  assert_equal "$(mode_of "$EXPORT/shared")" 664
}
