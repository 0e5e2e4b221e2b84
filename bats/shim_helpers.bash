# shim_helpers.bash — what bats/shim.bats adds to helpers.bash: running a
# command under libdafsshim.so, and running one command once on a local
# directory and once on the DAFS mount to compare what they did.
#
#   SHIM_TRANSPORT    the transport of the suites' servers: shm (default) or
#                     tcp (scripts/run-tests runs shim.bats and
#                     shim_programs.bats once more with SHIM_TRANSPORT=tcp)
#   SHIM_RUNTIME      what must precede the shim in LD_PRELOAD (empty, or
#                     the sanitizer runtimes for build-asan)
#   SHIM_PRELOAD      the LD_PRELOAD value for DAFS_BUILD (for build-asan the
#                     ASan and UBSan runtimes come first: an ASan-built shim
#                     in an uninstrumented program needs them loaded first)
#   shimmed CMD...    CMD under the shim, bounded by $DAFS_CMD_TIMEOUT
#   test_program NAME sets TEST_PROGRAM to $DAFS_BUILD/shim-tests/NAME, one
#                     of the test programs of shim/tests/ that `make unit`
#                     builds (in build-asan with the sanitizers)
#   same_on_both SCRIPT
#                     runs `bash -c SCRIPT` in $LOCAL (plain) and in /dafs
#                     (under the shim, cwd set by the shim's chdir) and
#                     asserts equal stdout+stderr (paths spelled $R), equal
#                     status, and byte-identical trees $LOCAL and $EXPORT

SHIM_LIB=$BUILD_DIR/libdafsshim.so
SHIM_TRANSPORT=${SHIM_TRANSPORT:-shm}
DAFS_MOUNT=/dafs
SHIM_RUNTIME=
if [ "$DAFS_BUILD" = build-asan ] || [[ $DAFS_BUILD == */build-asan ]]; then
  SHIM_RUNTIME="$(gcc -print-file-name=libasan.so) $(gcc -print-file-name=libubsan.so)"
fi
SHIM_PRELOAD=${SHIM_RUNTIME:+$SHIM_RUNTIME }$SHIM_LIB
export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=0}

shimmed() {
  [ -f "$SHIM_LIB" ] || fail "$SHIM_LIB is missing: build it first"
  LD_PRELOAD=$SHIM_PRELOAD timeout "$DAFS_CMD_TIMEOUT" "$@"
}

test_program() {
  TEST_PROGRAM=$BUILD_DIR/shim-tests/$1
  [ -x "$TEST_PROGRAM" ] || fail "$TEST_PROGRAM is missing: 'make unit' builds shim/tests/ (SAN=1 for build-asan)"
}

# Both trees start from the same fixture, written directly (not via DAFS).
make_fixture() {
  local dir
  for dir in "$LOCAL" "$EXPORT"; do
    mkdir -p "$dir/sub/deeper"
    printf 'one\ntwo\nthree\nfour\nfive\n' >"$dir/lines.txt"
    printf 'pear\napple\nfig\nbanana\n' >"$dir/sub/fruit.txt"
    : >"$dir/sub/deeper/empty"
    cp "$BATS_TEST_TMPDIR/random.bin" "$dir/random.bin"
  done
}

same_on_both() {
  local script=$1 local_out dafs_out local_rc=0 dafs_rc=0
  local_out=$(cd "$LOCAL" && R=$LOCAL timeout "$DAFS_CMD_TIMEOUT" bash -c "$script" 2>&1) ||
    local_rc=$?
  dafs_out=$(R=$DAFS_MOUNT shimmed bash -c "cd $DAFS_MOUNT && { $script
}" 2>&1) || dafs_rc=$?
  local_out=${local_out//$LOCAL/\$R}
  dafs_out=${dafs_out//$DAFS_MOUNT/\$R}
  assert_equal "$dafs_out" "$local_out"
  assert_equal "$dafs_rc" "$local_rc"
  same_trees
}

# Names, types, modes, sizes and contents of both trees.
same_trees() {
  local a b
  a=$(cd "$LOCAL" && find . -printf '%y %m %s %p\n' | sort)
  b=$(cd "$EXPORT" && find . -printf '%y %m %s %p\n' | sort)
  # Directory sizes are the file system's business, not ours.
  a=$(sed -E 's/^d ([0-7]+) [0-9]+/d \1 -/' <<<"$a")
  b=$(sed -E 's/^d ([0-7]+) [0-9]+/d \1 -/' <<<"$b")
  assert_equal "$b" "$a"
  run diff -r "$LOCAL" "$EXPORT"
  assert_success
}

# The usual setup of a shim suite: a local directory, RANDOM_BYTES of random
# data for the fixture, a server on $SHIM_TRANSPORT, and the fixture on both
# sides.
shim_fixture_setup() {   # shim_fixture_setup RANDOM_BYTES
  LOCAL=$BATS_TEST_TMPDIR/local
  mkdir -p "$LOCAL"
  head -c "$1" /dev/urandom >"$BATS_TEST_TMPDIR/random.bin"
  start_server "$SHIM_TRANSPORT"
  make_fixture
}

# start_server_wrapped WRAPPER_BODY [transport]: a server as start_server
# starts it, but exec'ed through a shell script whose body (sh) runs first;
# the script gets the server's arguments ("$2" is the export) and must end
# by running "$REAL_SERVER" "$@" with exec, so that SERVER_PID stays the
# server's own. Used to run it in a private mount namespace or as nobody.
start_server_wrapped() {
  local body=$1 transport=${2:-$SHIM_TRANSPORT} wrapper=$BATS_TEST_TMPDIR/server-wrapper
  printf '#!/bin/sh\nREAL_SERVER=%q\n%s\n' "$SERVER_BIN" "$body" >"$wrapper"
  chmod +x "$wrapper"
  local real=$SERVER_BIN
  SERVER_BIN=$wrapper
  start_server "$transport"
  SERVER_BIN=$real
}
