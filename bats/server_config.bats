#!/usr/bin/env bats
# server_config.bats — dafs-server --config FILE: a server set up by the file
# alone serves, the command line overrides the file, and a bad file is
# refused at start-up (exit 2) with the file and the line named.

load helpers

setup() {
  CONF=$BATS_TEST_TMPDIR/server.conf
}

# conf LINES...: writes the configuration file.
conf() {
  printf '%s\n' "$@" >"$CONF"
}

# refused WANT: the server, run with --config $CONF plus what a test adds,
# exits 2 at once saying WANT.
refused() {
  local want=$1
  shift
  run timeout 10 "$SERVER_BIN" --config "$CONF" "$@"
  [ "$status" -eq 2 ] || fail "want exit 2, got $status: $output"
  assert_output --partial "$want"
}

@test "a server set up by its config file alone serves" {
  EXPORT=$BATS_TEST_TMPDIR/export
  mkdir -p "$EXPORT"
  echo hello >"$EXPORT/f"
  url=$(dafs_shm_url dafs-bats-conf)
  conf "# only the file says what to serve" "" "export = $EXPORT" "  listen=$url  " \
    "threads = 3" "lease = 17"
  spawn "$BATS_TEST_TMPDIR/server.log" "$SERVER_BIN" --config "$CONF"
  wait_until 10 eval 'dafs --server "$url" ls / >/dev/null 2>&1' ||
    fail "no answer: $(cat "$BATS_TEST_TMPDIR/server.log")"
  run dafs --server "$url" cat /f
  assert_success
  assert_output hello
  run grep "exporting $EXPORT on $url" "$BATS_TEST_TMPDIR/server.log"
  assert_output --partial "3 workers, lease 17s"
  kill -TERM "$SPAWNED_PID"
  local st=0
  wait_bounded "$SPAWNED_PID" 10 || st=$?
  assert_equal "$st" 0
}

@test "the command line overrides the config file" {
  conf "export = /nonexistent/never" "threads = 3" "lease = 90"
  start_server shm --config "$CONF" --lease 5
  run grep "exporting $EXPORT on" "$SERVER_LOG"
  assert_success
  assert_output --partial "3 workers, lease 5s"
  run dafs ls /
  assert_success
}

@test "the command line overrides the file whichever comes first" {
  conf "lease = 90"
  start_server shm --lease 7 --config "$CONF"
  run grep "lease 7s" "$SERVER_LOG"
  assert_success
}

@test "an unknown setting is refused with the file and line" {
  conf "export = /tmp" "# fine" "exprot = /tmp"
  refused "$CONF:3: unknown setting 'exprot'"
}

@test "malformed lines and bad values are refused with the file and line" {
  conf "" "listen shm://x"
  refused "$CONF:2: expected 'name = value'"
  conf "threads = 0"
  refused "$CONF:1: bad --threads value '0'"
  conf "lease = soon"
  refused "$CONF:1: bad --lease value 'soon'"
  conf "export ="
  refused "$CONF:1: 'export' has no value"
  conf "config = /etc/passwd"
  refused "$CONF:1: unknown setting 'config'"
}

@test "a missing config file is refused naming it" {
  rm -f "$CONF"
  refused "cannot read $CONF"
}

@test "without export and listen anywhere the server says what is missing" {
  conf "threads = 2"
  refused "--export and --listen are needed"
}

@test "a bad command-line value still wins over a good file value, and is refused" {
  conf "threads = 2"
  refused "bad --threads value '99'" --threads 99 --export /tmp --listen shm://x
}

@test "--help lists every setting, --config among them" {
  run "$SERVER_BIN" --help
  assert_success
  for o in --config --export --listen --threads --lease; do
    assert_output --partial "  $o"
  done
}
