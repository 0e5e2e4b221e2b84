#!/usr/bin/env bats
# dist.bats — what the packages install beside the programs, checked in the
# tree: the systemd unit passes systemd-analyze verify, every man page
# renders without warnings and documents every server setting, the example
# configuration is one the server accepts, and bash completes the commands.
# The man pages are $DAFS_BUILD/man/ (make man; make test builds them).

load helpers

MAN_DIR=$BUILD_DIR/man
PAGES=(dafs.1 dafs-run.1 dafs-server.8 dafs-server.conf.5 libdafs.3 dafs-shim.7 dafsctl.8)

# complete_words FILE FUNCTION WORDS...: what FUNCTION (from the completion
# FILE) offers for the last of WORDS, one a line; the built programs come
# first in PATH, for completions that ask a program's --help.
complete_words() {
  local bc=/usr/share/bash-completion/bash_completion
  bash -c '
    source "$1" && source "$2" || exit 3
    PATH=$3:$PATH fn=$4; shift 4
    COMP_WORDS=("$@"); COMP_CWORD=$(($# - 1)); COMP_LINE="$*"; COMP_POINT=${#COMP_LINE}
    "$fn" "$1" "${COMP_WORDS[COMP_CWORD]}" "${COMP_WORDS[COMP_CWORD-1]}"
    printf "%s\n" "${COMPREPLY[@]}"' _ "$bc" "$1" "$BUILD_DIR" "${@:2}"
}

@test "the unit passes systemd-analyze verify" {
  command -v systemd-analyze >/dev/null || fail "systemd-analyze is missing (package systemd)"
  [ -f "$MAN_DIR/dafs-server.8" ] || fail "$MAN_DIR has no man pages: make man"
  # The unit names the installed server; here it is the build's, and its
  # Documentation= pages are the build's.
  local unit=$BATS_TEST_TMPDIR/dafs-server@.service
  sed "s|/usr/sbin/dafs-server|$SERVER_BIN|" "$DAFS_ROOT/dist/dafs-server@.service" >"$unit"
  local mp=$BATS_TEST_TMPDIR/man
  mkdir -p "$mp/man5" "$mp/man8"
  cp "$MAN_DIR/dafs-server.8" "$mp/man8/"
  cp "$MAN_DIR/dafs-server.conf.5" "$mp/man5/"
  run env MANPATH="$mp" systemd-analyze verify "$unit"
  [ "$status" -eq 0 ] && [ -z "$output" ] || fail "systemd-analyze verify: $output"
  # What the unit must say, whatever else changes.
  for line in Type=notify 'ExecStart=.* --config /etc/dafs/%i.conf' RuntimeDirectory=dafs/%i \
      NoNewPrivileges=yes PrivateTmp=yes ProtectSystem= CapabilityBoundingSet=.*CAP_SETUID \
      LimitNOFILE=; do
    grep -qE "^$line" "$unit" || fail "the unit lacks $line"
  done
}

@test "every man page renders with man -l, without warnings" {
  for p in "${PAGES[@]}"; do
    [ -f "$MAN_DIR/$p" ] || fail "$MAN_DIR/$p is missing: make man"
    run env MANWIDTH=80 man -l "$MAN_DIR/$p"
    [ "$status" -eq 0 ] || fail "man -l $p: $output"
    assert_output --partial NAME
    assert_output --partial "SEE ALSO"
    run bash -c "MANWIDTH=80 man --warnings -l '$MAN_DIR/$p' 2>&1 >/dev/null"
    [ -z "$output" ] || fail "man warns about $p: $output"
  done
}

@test "dafs-server(8) and dafs-server.conf(5) document every setting --help lists" {
  local opts
  opts=$("$SERVER_BIN" --help | grep -oE '^  --[a-z-]+' | sed 's/^  --//')
  [ -n "$opts" ] || fail "--help lists no options"
  for o in $opts; do
    grep -q -- "--$o" "$DAFS_ROOT/man/dafs-server.8.scd" || fail "dafs-server(8) lacks --$o"
    case $o in config|help) continue ;; esac
    grep -qE "^\*$o\* = " "$DAFS_ROOT/man/dafs-server.conf.5.scd" ||
      fail "dafs-server.conf(5) lacks $o"
  done
}

@test "the server accepts every line of the example configuration" {
  # Its export and address are the administrator's; every other line is
  # the file's (threads = 2).
  start_server shm --config "$DAFS_ROOT/dist/dafs-server.conf"
  run grep "2 workers" "$SERVER_LOG"
  assert_success
  run dafs ls /
  assert_success
}

@test "bash completes dafs, dafs-run and dafs-server" {
  local bc=/usr/share/bash-completion/bash_completion
  [ -f "$bc" ] || fail "$bc is missing (package bash-completion)"
  run complete_words "$DAFS_ROOT/dist/completion/dafs-server" _dafs_server dafs-server --l
  assert_success
  assert_output "$(printf '%s\n' --listen --lease)"

  run complete_words "$DAFS_ROOT/dist/completion/dafs" _dafs dafs --server shm://x m
  assert_success
  assert_output "$(printf '%s\n' mkdir mv)"

  run complete_words "$DAFS_ROOT/dist/completion/dafs-run" _dafs_run dafs-run --e
  assert_success
  assert_output "--export"

  # After --, the command line of the program run: commands, then its own.
  run complete_words "$DAFS_ROOT/dist/completion/dafs-run" _dafs_run dafs-run -- sqlite
  assert_success
  assert_line sqlite3
}

@test "Type=notify: the server says READY=1 (with its export and URL) once it listens, STOPPING=1 on SIGTERM" {
  local sock=$BATS_TEST_TMPDIR/notify msgs=$BATS_TEST_TMPDIR/notify.msgs
  # A stand-in for systemd: every datagram on $sock, one per line, in $msgs.
  spawn "$BATS_TEST_TMPDIR/listener.out" python3 -c '
import socket, sys
s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
s.bind(sys.argv[1])
with open(sys.argv[2], "a", buffering=1) as out:
    while True:
        out.write(s.recv(4096).decode().replace("\n", " ") + "\n")
' "$sock" "$msgs"
  wait_until 10 test -S "$sock" || fail "the listener did not start"
  NOTIFY_SOCKET=$sock start_server shm
  wait_until 10 grep -q READY=1 "$msgs" || fail "no READY=1: $(cat "$msgs")"
  run grep READY=1 "$msgs"
  assert_output --partial "STATUS=exporting $EXPORT on $DAFS_SERVER"
  ! grep -q STOPPING=1 "$msgs" || fail "STOPPING=1 before any stop"
  stop_server
  assert_equal "$SERVER_STATUS" 0
  wait_until 5 grep -q STOPPING=1 "$msgs" || fail "no STOPPING=1: $(cat "$msgs")"
}
