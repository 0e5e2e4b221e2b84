#!/usr/bin/env bats
# creds.bats — the server acts as each request's caller: the kernel's own
# permission checks apply to clients as to local users. The server runs as
# root (as the tests do); client programs run as nobody with setpriv, over
# tcp on 127.0.0.1 and over shm. Keyed cases (root squash, no_root_squash,
# ro, a key pinned to a user) need the server's --keys and run only when
# `dafs-server --help` offers it.

load helpers
load shim_helpers

NOBODY_UID=$(id -u nobody)

# as_nobody CMD...: CMD with the ids of nobody and no supplementary groups.
as_nobody() {
  setpriv --reuid=nobody --regid="$(id -g nobody)" --clear-groups "$@"
}

# A fresh server on $1 whose export root and a few files are:
#   secret  root's, 0600;   pub  root's, 0644;   tmp/  1777 (sticky)
creds_server() {
  start_server "$@"
  # nobody must traverse down to the export.
  local d=$EXPORT
  while [ "$d" != / ] && [ "$d" != /tmp ]; do chmod o+x "$d"; d=$(dirname "$d"); done
  chmod 755 "$EXPORT"
  printf 'secret\n' >"$EXPORT/secret"
  chmod 600 "$EXPORT/secret"
  printf 'public\n' >"$EXPORT/pub"
  chmod 644 "$EXPORT/pub"
  rm -rf "$EXPORT/tmp"    # a second server of the same test reuses $EXPORT
  mkdir -m 1777 "$EXPORT/tmp"
}

has_keys() {
  "$SERVER_BIN" --help 2>&1 | grep -q -- --keys
}

# nobody_reads TRANSPORT: a root 0600 file is EACCES, a 0644 one reads, and
# root, next, still reads the first (the server is not left as nobody).
nobody_reads() {
  creds_server "$1"
  run as_nobody timeout "$DAFS_CMD_TIMEOUT" "$DAFS_BIN" cat /secret
  assert_failure
  assert_output --partial 'Permission denied'
  run as_nobody timeout "$DAFS_CMD_TIMEOUT" "$DAFS_BIN" cat /pub
  assert_success
  assert_output public
  run dafs cat /secret
  assert_success
  assert_output secret
}

# nobody_creates TRANSPORT: what nobody makes is nobody's, root's is root's,
# and nobody cannot make a file in the root-owned 0755 export root.
nobody_creates() {
  creds_server "$1"
  printf 'x\n' | as_nobody timeout "$DAFS_CMD_TIMEOUT" "$DAFS_BIN" put - /tmp/by-nobody
  assert_equal "$(stat -c %u:%g "$EXPORT/tmp/by-nobody")" "$NOBODY_UID:$(id -g nobody)"
  printf 'y\n' | dafs put - /tmp/by-root
  assert_equal "$(stat -c %u "$EXPORT/tmp/by-root")" 0
  run as_nobody sh -c 'printf z | timeout "$1" "$0" put - /not-allowed' "$DAFS_BIN" "$DAFS_CMD_TIMEOUT"
  assert_failure
  assert_output --partial 'Permission denied'
  [ ! -e "$EXPORT/not-allowed" ]
}

@test "creds (tcp): nobody reading a root 0600 file gets EACCES, a 0644 one reads" {
  nobody_reads tcp
}

@test "creds (tcp): a file nobody creates is owned by 65534, root's by root" {
  nobody_creates tcp
}

@test "creds (tcp): ACLs apply: an entry for nobody opens a root 0600 file, another closes a 0644 one" {
  creds_server tcp
  setfacl -m u:nobody:r "$EXPORT/secret"
  setfacl -m u:nobody:- "$EXPORT/pub"
  run as_nobody timeout "$DAFS_CMD_TIMEOUT" "$DAFS_BIN" cat /secret
  assert_success
  assert_output secret
  run as_nobody timeout "$DAFS_CMD_TIMEOUT" "$DAFS_BIN" cat /pub
  assert_failure
  assert_output --partial 'Permission denied'
}

@test "creds (shim): nobody under the shim: EACCES, owner of new files, chown refused by the kernel" {
  creds_server tcp
  run shimmed setpriv --reuid=nobody --regid="$(id -g nobody)" --clear-groups \
    bash -c 'cat /dafs/secret; echo "status $?"; cat /dafs/pub; echo made > /dafs/tmp/f && echo ok;
             chown root /dafs/tmp/f; echo "chown $?"'
  assert_success
  assert_line --partial 'Permission denied'
  assert_line 'status 1'
  assert_line public
  assert_line ok
  assert_line --partial 'Operation not permitted'
  assert_line 'chown 1'
  assert_equal "$(stat -c %u "$EXPORT/tmp/f")" "$NOBODY_UID"
}

@test "creds (shim, shm and tcp): a program that calls setuid midway is served as its new user" {
  setuid_midway shm
  stop_server
  setuid_midway tcp
}

setuid_midway() {
  creds_server "$1"
  cat >"$BATS_TEST_TMPDIR/setuid.py" <<'PY'
import os, sys
def attempt(what, f):
    try:
        f()
        print(what, "ok")
    except OSError as e:
        print(what, os.strerror(e.errno))
attempt("read as root", lambda: open("/dafs/secret").read())
uid = int(sys.argv[1])
os.setgroups([])
os.setgid(uid)
os.setuid(uid)
attempt("read as nobody", lambda: open("/dafs/secret").read())
attempt("public as nobody", lambda: open("/dafs/pub").read())
attempt("create as nobody", lambda: open("/dafs/tmp/after", "w").write("x"))
PY
  run shimmed python3 "$BATS_TEST_TMPDIR/setuid.py" "$NOBODY_UID"
  assert_success
  assert_line 'read as root ok'
  assert_line 'read as nobody Permission denied'
  assert_line 'public as nobody ok'
  assert_line 'create as nobody ok'
  assert_equal "$(stat -c %u "$EXPORT/tmp/after")" "$NOBODY_UID"
}

@test "creds (shim): sticky directory: nobody removes its own file, not another user's" {
  creds_server tcp
  printf 'theirs\n' >"$EXPORT/tmp/theirs"
  chown 1:1 "$EXPORT/tmp/theirs"
  chmod 666 "$EXPORT/tmp/theirs"
  run shimmed setpriv --reuid=nobody --regid="$(id -g nobody)" --clear-groups \
    bash -c 'echo mine > /dafs/tmp/mine; rm -f /dafs/tmp/mine; echo "own $?";
             rm -f /dafs/tmp/theirs; echo "theirs $?";
             mv /dafs/tmp/theirs /dafs/tmp/moved; echo "mv $?";
             echo more >> /dafs/tmp/theirs; echo "write $?"'
  assert_line 'own 0'
  assert_line 'theirs 1'
  assert_line 'mv 1'
  assert_line 'write 0'
  [ ! -e "$EXPORT/tmp/mine" ]
  [ -e "$EXPORT/tmp/theirs" ]
  assert_equal "$(cat "$EXPORT/tmp/theirs")" "theirs
more"
}

@test "creds (shim): O_NOATIME is the owner's: nobody gets EPERM on root's file, not on its own" {
  creds_server tcp
  printf 'x\n' >"$EXPORT/tmp/nobodys"
  chown nobody "$EXPORT/tmp/nobodys"
  cat >"$BATS_TEST_TMPDIR/noatime.py" <<'PY'
import os, sys
for path in sys.argv[1:]:
    try:
        os.close(os.open(path, os.O_RDONLY | os.O_NOATIME))
        print(path, "ok")
    except OSError as e:
        print(path, os.strerror(e.errno))
PY
  # Debian's python3: nobody cannot reach a python3 under root's home.
  run shimmed setpriv --reuid=nobody --regid="$(id -g nobody)" --clear-groups \
    /usr/bin/python3 "$BATS_TEST_TMPDIR/noatime.py" /dafs/pub /dafs/tmp/nobodys
  assert_success
  assert_line '/dafs/pub Operation not permitted'
  assert_line '/dafs/tmp/nobodys ok'
  run shimmed python3 "$BATS_TEST_TMPDIR/noatime.py" /dafs/pub
  assert_line '/dafs/pub ok'
}

@test "creds (tcp): a server that is not root serves its own user and root as itself, others get EACCES" {
  local d=$BATS_TEST_TMPDIR
  while [ "$d" != / ] && [ "$d" != /tmp ]; do chmod o+x "$d"; d=$(dirname "$d"); done
  start_server_wrapped 'exec setpriv --reuid=nobody --regid=nogroup --clear-groups "$REAL_SERVER" "$@"' tcp
  printf 'public\n' >"$EXPORT/pub"
  chmod 644 "$EXPORT/pub"
  run dafs cat /pub
  assert_success
  assert_output public
  run as_nobody timeout "$DAFS_CMD_TIMEOUT" "$DAFS_BIN" cat /pub
  assert_success
  assert_output public
  # uid 1 (daemon): served as nobody it would read the file; it is refused.
  run setpriv --reuid=1 --regid=1 --clear-groups timeout "$DAFS_CMD_TIMEOUT" "$DAFS_BIN" cat /pub
  assert_failure
  assert_output --partial 'Permission denied'
}

# ---- keyed sessions (the server's --keys) --------------------------------------

# keys_server LINE_OPTIONS: a tcp server with one client "c1" whose key line
# carries LINE_OPTIONS; the client's key file is $CLIENT_KEYS.
keys_server() {
  local key
  key=$(od -An -N32 -tx1 /dev/urandom | tr -d ' \n')
  printf 'c1 %s %s\n' "$key" "$*" >"$BATS_TEST_TMPDIR/server.keys"
  printf 'c1 %s\n' "$key" >"$BATS_TEST_TMPDIR/client.key"
  chmod 600 "$BATS_TEST_TMPDIR/server.keys" "$BATS_TEST_TMPDIR/client.key"
  CLIENT_KEYS=$BATS_TEST_TMPDIR/client.key
  # Every client of this test is c1, start_server's probe included.
  export DAFS_KEY_FILE=$CLIENT_KEYS
  creds_server tcp --keys "$BATS_TEST_TMPDIR/server.keys"
}

keyed() {
  DAFS_KEY_FILE=$CLIENT_KEYS timeout "$DAFS_CMD_TIMEOUT" "$DAFS_BIN" "$@"
}

@test "creds (keys): a host key's root is squashed to 65534" {
  has_keys || skip "dafs-server has no --keys"
  keys_server
  run keyed cat /secret
  assert_failure
  assert_output --partial 'Permission denied'
  printf 'x\n' | keyed put - /tmp/by-root
  assert_equal "$(stat -c %u:%g "$EXPORT/tmp/by-root")" "65534:65534"
}

@test "creds (keys): no_root_squash keeps root" {
  has_keys || skip "dafs-server has no --keys"
  keys_server no_root_squash
  run keyed cat /secret
  assert_success
  assert_output secret
  printf 'x\n' | keyed put - /tmp/by-root
  assert_equal "$(stat -c %u "$EXPORT/tmp/by-root")" 0
}

@test "creds (keys): ro: reads work, every change is EROFS" {
  has_keys || skip "dafs-server has no --keys"
  keys_server ro no_root_squash
  run keyed cat /secret
  assert_success
  run sh -c 'printf x | DAFS_KEY_FILE=$1 timeout "$2" "$0" put - /tmp/new' \
    "$DAFS_BIN" "$CLIENT_KEYS" "$DAFS_CMD_TIMEOUT"
  assert_failure
  assert_output --partial 'Read-only file system'
  run keyed mkdir /newdir
  assert_failure
  assert_output --partial 'Read-only file system'
  run keyed rm /pub
  assert_failure
  assert_output --partial 'Read-only file system'
  [ ! -e "$EXPORT/tmp/new" ] && [ ! -e "$EXPORT/newdir" ] && [ -e "$EXPORT/pub" ]
}

@test "creds (keys): a key pinned to uid=nobody acts as nobody whatever root asserts" {
  has_keys || skip "dafs-server has no --keys"
  keys_server "uid=$NOBODY_UID" no_root_squash
  run keyed cat /secret
  assert_failure
  assert_output --partial 'Permission denied'
  printf 'x\n' | keyed put - /tmp/pinned
  assert_equal "$(stat -c %u "$EXPORT/tmp/pinned")" "$NOBODY_UID"
}
