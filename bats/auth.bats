#!/usr/bin/env bats
# auth.bats — keys and authenticated sessions (common/auth.h): dafs keygen,
# a server with --keys refusing a client without a key, with a wrong key or
# with a key for a name it does not know, and serving one with its key over
# tcp on loopback and through the shim on shm; a key file others may read
# refused; without --keys, a non-loopback listen address refused unless
# --insecure, which warns.

load helpers
load shim_helpers

setup() {
  KEYS=$BATS_TEST_TMPDIR/keys
  mkdir -p "$KEYS"
  dafs keygen alice >"$KEYS/alice.key"
  dafs keygen bob >"$KEYS/bob.key"
  dafs keygen carol >"$KEYS/carol.key"      # a name the server does not know
  # alice's key keeps root (these tests write as root into a root-owned
  # export); bob's is squashed to 65534 as a trusted host's key is by default.
  { echo "$(cat "$KEYS/alice.key") no_root_squash"; cat "$KEYS/bob.key"; } >"$KEYS/server.keys"
  chmod 600 "$KEYS"/*
}

# A keyed server: the start-up probe (scripts/lib/server.bash) uses alice's key.
start_keyed_server() {
  DAFS_KEY_FILE=$KEYS/alice.key start_server "$1" --keys "$KEYS/server.keys"
}

@test "dafs keygen prints NAME and 256 random bits in hex, and refuses a bad name" {
  run dafs keygen alice
  assert_success
  assert_output --regexp '^alice [0-9a-f]{64}$'
  [ "$output" != "$(cat "$KEYS/alice.key")" ] || fail "two keys alike"
  run dafs keygen 'no spaces'
  assert_failure 2
  assert_output --partial "cannot name a key"
}

@test "tcp with --keys: no key, a wrong key, an unknown name are refused; the right key reads and writes" {
  start_keyed_server tcp
  echo "keyed data" >"$BATS_TEST_TMPDIR/in"
  run dafs put "$BATS_TEST_TMPDIR/in" /f
  assert_failure
  assert_output --partial "Permission denied"

  sed 's/ .*/ '"$(cut -d' ' -f2 "$KEYS/bob.key")"'/' "$KEYS/alice.key" >"$KEYS/wrong.key"
  chmod 600 "$KEYS/wrong.key"
  run dafs --key-file "$KEYS/wrong.key" put "$BATS_TEST_TMPDIR/in" /f
  assert_failure
  assert_output --partial "refused the key 'alice'"

  run dafs --key-file "$KEYS/carol.key" put "$BATS_TEST_TMPDIR/in" /f
  assert_failure
  assert_output --partial "refused the key 'carol'"
  [ ! -e "$EXPORT/f" ] || fail "a refused client wrote /f"
  grep -q "refused a session of .*: no key" "$SERVER_LOG" || fail "no-key refusal not logged"
  grep -q "refused a session of .*: wrong key" "$SERVER_LOG" || fail "wrong-key refusal not logged"
  grep -q "refused a session of .*: no such key name" "$SERVER_LOG" ||
    fail "unknown-name refusal not logged"

  run dafs --key-file "$KEYS/alice.key" put "$BATS_TEST_TMPDIR/in" /f
  assert_success
  DAFS_KEY_FILE=$KEYS/bob.key run dafs cat /f
  assert_success
  assert_output "keyed data"
  grep -q "opened: .*key alice" "$SERVER_LOG" || fail "alice's session not logged with her name"
}

@test "a refusal is at once, not after the client's timeout" {
  start_keyed_server tcp
  local t0=$(now_ms)
  DAFS_TIMEOUT_MS=20000 run dafs --key-file "$KEYS/carol.key" ls /
  assert_failure
  [ $(($(now_ms) - t0)) -lt 5000 ] || fail "the refusal took $(($(now_ms) - t0)) ms"
}

@test "a key file anyone but its owner may read is refused with a clear message" {
  start_keyed_server shm
  chmod 644 "$KEYS/alice.key"
  DAFS_KEY_FILE=$KEYS/alice.key run dafs ls /
  assert_failure
  assert_output --partial "anyone but its owner"
  assert_output --partial "chmod 600"
  DAFS_KEY_FILE=$KEYS/missing.key run dafs ls /
  assert_failure
  assert_output --partial "missing.key"
}

@test "a keyed client and a server without --keys do not talk" {
  start_server shm
  DAFS_KEY_FILE=$KEYS/alice.key run dafs ls /
  assert_failure
  assert_output --partial "takes no keys"
  run dafs ls /
  assert_success
}

@test "the shim with DAFS_KEY_FILE reads and writes on a keyed server" {
  start_keyed_server shm
  echo "through the shim" >"$EXPORT/in"
  mkdir -m 1777 "$EXPORT/pub"
  # bob is root squashed: his shell writes as 65534, and each later process
  # is a new shm peer the server maps while its worker last acted as 65534.
  DAFS_KEY_FILE=$KEYS/bob.key run shimmed sh -c \
    "cat $DAFS_MOUNT/in > $DAFS_MOUNT/pub/out && cat $DAFS_MOUNT/pub/out && cat $DAFS_MOUNT/in > $DAFS_MOUNT/out"
  assert_failure
  assert_output --partial "through the shim"
  assert_output --partial "Permission denied"
  [ "$(cat "$EXPORT/pub/out")" = "through the shim" ]
  [ "$(stat -c %u "$EXPORT/pub/out")" = 65534 ] || fail "bob's file is not 65534's"
  [ ! -e "$EXPORT/out" ] || fail "a squashed root wrote into the root-owned export"
  kill -0 "$SERVER_PID" || fail "the server died: $(tail "$SERVER_LOG")"
  run shimmed cat "$DAFS_MOUNT/in"
  assert_failure
}

@test "without --keys a non-loopback address is refused; --insecure starts with a warning" {
  local port
  port=$(dafs_free_port)
  mkdir -p "$BATS_TEST_TMPDIR/export"
  run timeout 10 "$SERVER_BIN" --export "$BATS_TEST_TMPDIR/export" --listen "tcp://0.0.0.0:$port"
  assert_failure 1
  assert_output --partial "not a loopback address"
  assert_output --partial "--keys"

  spawn "$BATS_TEST_TMPDIR/insecure.log" "$SERVER_BIN" --export "$BATS_TEST_TMPDIR/export" \
    --listen "tcp://0.0.0.0:$port" --insecure
  wait_until 10 grep -q "exporting" "$BATS_TEST_TMPDIR/insecure.log" ||
    fail "the --insecure server did not start: $(cat "$BATS_TEST_TMPDIR/insecure.log")"
  grep -q "warning: --insecure" "$BATS_TEST_TMPDIR/insecure.log" || fail "no warning logged"
  kill -TERM "$SPAWNED_PID"
  wait_bounded "$SPAWNED_PID" 10
}

@test "loopback names and addresses start without keys" {
  mkdir -p "$BATS_TEST_TMPDIR/export"
  local port
  port=$(dafs_free_port)
  spawn "$BATS_TEST_TMPDIR/lo.log" "$SERVER_BIN" --export "$BATS_TEST_TMPDIR/export" \
    --listen "tcp://127.0.0.2:$port"
  wait_until 10 grep -q "exporting" "$BATS_TEST_TMPDIR/lo.log" ||
    fail "127.0.0.2 refused: $(cat "$BATS_TEST_TMPDIR/lo.log")"
  ! grep -q "warning" "$BATS_TEST_TMPDIR/lo.log" || fail "a warning on loopback"
  kill -TERM "$SPAWNED_PID"
  wait_bounded "$SPAWNED_PID" 10
}
