#!/usr/bin/env bats
# shim_errors.bats — errors reach a program under the shim as they would on
# a local file. Where a local run can show the same error, the program runs
# on both and the outputs are compared (same_on_both); where only a server
# can produce it, the test builds the condition for real:
#   - EACCES: server and program both run as nobody (setpriv), so the
#     server's own open meets the permission bits, as a local open would;
#   - EXDEV: rename/link between /dafs and a local path, and mv falling back
#     to copy and unlink in both directions;
#   - ENOSPC: the server runs in a private mount namespace (unshare -m) with
#     its export on a 1 MiB tmpfs;
#   - EIO: the server's read of a file fails with EIO in the kernel. In a
#     private mount namespace a sleeping process's /proc/PID/mem is bind-
#     mounted over a file of the export: a regular file for the server,
#     whose read at offset 0 (an unmapped address) the kernel answers with
#     EIO. No test-only code in the server is involved.

load helpers
load shim_helpers

setup() {
  shim_fixture_setup 10000
}

@test "shim errors: ENOENT, EISDIR, ENOTDIR, EEXIST, ENOTEMPTY, EBADF as on a local directory" {
  cat >"$BATS_TEST_TMPDIR/errs.py" <<'PY'
import errno, os

def t(what, f):
    try:
        f()
        print(what, "ok")
    except OSError as e:
        print(what, errno.errorcode[e.errno])

def read_after_close():
    fd = os.open("lines.txt", os.O_RDONLY)
    os.close(fd)
    os.read(fd, 1)

def write_read_only():
    fd = os.open("lines.txt", os.O_RDONLY)
    try:
        os.write(fd, b"x")
    finally:
        os.close(fd)

def read_directory():
    fd = os.open("sub", os.O_RDONLY)
    try:
        os.read(fd, 10)
    finally:
        os.close(fd)

t("open missing", lambda: os.open("nope", os.O_RDONLY))
t("open in missing dir", lambda: os.open("nodir/f", os.O_WRONLY | os.O_CREAT))
t("stat missing", lambda: os.stat("sub/nope"))
t("open dir for writing", lambda: os.open("sub", os.O_WRONLY))
t("read a directory", read_directory)
t("unlink a directory", lambda: os.unlink("sub"))
t("open below a file", lambda: os.open("lines.txt/x", os.O_RDONLY))
t("listdir a file", lambda: os.listdir("lines.txt"))
t("chdir to a file", lambda: os.chdir("lines.txt"))
t("rmdir a file", lambda: os.rmdir("lines.txt"))
t("O_DIRECTORY on a file", lambda: os.open("lines.txt", os.O_RDONLY | os.O_DIRECTORY))
t("mkdir existing", lambda: os.mkdir("sub"))
t("O_EXCL existing", lambda: os.open("lines.txt", os.O_WRONLY | os.O_CREAT | os.O_EXCL))
t("symlink over existing", lambda: os.symlink("x", "lines.txt"))
t("link over existing", lambda: os.link("random.bin", "lines.txt"))
t("rmdir not empty", lambda: os.rmdir("sub"))
t("rename dir onto non-empty dir", lambda: os.rename("sub/deeper", "sub"))
t("read after close", read_after_close)
t("write on a read-only descriptor", write_read_only)
def close_twice():
    # Twice the number just closed: never a descriptor of the shim's own
    # (libfabric's), as an arbitrary number could be.
    fd = os.dup(0)
    os.close(fd)
    os.close(fd)

t("close twice", close_twice)
PY
  same_on_both 'python3 -u "$BATS_TEST_TMPDIR/errs.py"'
  run shimmed python3 -u -c 'import os; os.chdir("/dafs"); exec(open(os.environ["BATS_TEST_TMPDIR"] + "/errs.py").read())'
  assert_line "read after close EBADF"
  assert_line "rmdir not empty ENOTEMPTY"
  assert_line "open dir for writing EISDIR"
  assert_line "open below a file ENOTDIR"
  assert_line "mkdir existing EEXIST"
  assert_line "open missing ENOENT"
}

@test "shim errors: EXDEV between /dafs and a local path; mv copies and unlinks both ways" {
  local tmp=$BATS_TEST_TMPDIR/outside
  mkdir -p "$tmp"
  run shimmed python3 -c "
import errno, os
for f in (os.rename, os.link):
    try:
        f('/dafs/lines.txt', '$tmp/y')
    except OSError as e:
        print(f.__name__, errno.errorcode[e.errno])
try:
    os.rename('$tmp', '/dafs/z')
except OSError as e:
    print('rename in', errno.errorcode[e.errno])"
  assert_output $'rename EXDEV\nlink EXDEV\nrename in EXDEV'
  local want
  want=$(sha "$EXPORT/lines.txt")
  run shimmed mv /dafs/lines.txt "$tmp/y"
  assert_success
  [ ! -e "$EXPORT/lines.txt" ]
  assert_equal "$(sha "$tmp/y")" "$want"
  run shimmed mv "$tmp/y" /dafs/back.txt
  assert_success
  [ ! -e "$tmp/y" ]
  assert_equal "$(sha "$EXPORT/back.txt")" "$want"
  # A directory tree, out and back.
  run shimmed mv /dafs/sub "$tmp/sub"
  assert_success
  [ ! -e "$EXPORT/sub" ]
  run shimmed mv "$tmp/sub" /dafs/sub2
  assert_success
  run diff -r "$LOCAL/sub" "$EXPORT/sub2"
  assert_success
}

# as_nobody CMD...: CMD with the ids of nobody (and no supplementary groups).
as_nobody() {
  setpriv --reuid=nobody --regid=nogroup --clear-groups "$@"
}

@test "shim errors: EACCES from permission bits, server and program as nobody" {
  stop_server
  # nobody must reach the test's directories; the files under test are
  # root's, mode 600 and a directory of mode 700.
  local d=$BATS_TEST_TMPDIR
  while [ "$d" != / ] && [ "$d" != /tmp ]; do chmod o+x "$d"; d=$(dirname "$d"); done
  start_server_wrapped 'exec setpriv --reuid=nobody --regid=nogroup --clear-groups "$REAL_SERVER" "$@"' tcp
  assert_equal "$(ps -o user= -p "$SERVER_PID")" nobody
  local dir
  for dir in "$LOCAL" "$EXPORT"; do
    chmod o+x "$(dirname "$dir")"
    chmod 777 "$dir"
    printf 'secret\n' >"$dir/secret"
    chmod 600 "$dir/secret"
    mkdir -m 700 "$dir/private"
    : >"$dir/private/f"
  done
  local script='cat secret; echo "status $?"; echo x >> secret; echo "status $?";
                ls private; echo "status $?"; cat private/f; echo "status $?";
                touch private/g; echo "status $?"; rm secret; echo "status $?";
                echo mine > mine && cat mine'
  local local_out dafs_out
  local_out=$(cd "$LOCAL" && as_nobody bash -c "$script" 2>&1)
  dafs_out=$(shimmed setpriv --reuid=nobody --regid=nogroup --clear-groups \
               bash -c "cd /dafs && { $script
}" 2>&1)
  assert_equal "$dafs_out" "${local_out//$LOCAL//dafs}"
  run grep -c "Permission denied" <<<"$dafs_out"
  assert_output 5
  assert_equal "$(cat "$EXPORT/mine")" mine
}

@test "shim errors: ENOSPC from a full export (1 MiB tmpfs), files already there intact" {
  stop_server
  start_server_wrapped 'exec unshare -m --propagation private sh -c '\''mount -t tmpfs -o size=1m dafs-enospc "$2" && exec "$0" "$@"'\'' "$REAL_SERVER" "$@"'
  # The export is the server's tmpfs, seen from here through its root.
  local inside=/proc/$SERVER_PID/root$EXPORT
  assert_equal "$(stat -f -c '%T %b*%S' "$inside" | sed 's/\*/ /')" "tmpfs 256 4096"
  head -c 300000 /dev/urandom >"$BATS_TEST_TMPDIR/keep"
  run shimmed cp "$BATS_TEST_TMPDIR/keep" /dafs/keep
  assert_success
  # dd and cp of more than fits: their own ENOSPC messages, failure.
  run shimmed dd if=/dev/zero of=/dafs/big bs=64k count=40 status=none
  assert_failure
  assert_output --partial "No space left on device"
  head -c 2000000 /dev/urandom >"$BATS_TEST_TMPDIR/toobig"
  run shimmed cp "$BATS_TEST_TMPDIR/toobig" /dafs/toobig
  assert_failure
  assert_output --partial "No space left on device"
  run shimmed fallocate -l 2M /dafs/falloc
  assert_failure
  assert_output --partial "No space left on device"
  # What was there before stays intact, read through DAFS and in place.
  run shimmed sha256sum /dafs/keep
  assert_output --partial "$(sha "$BATS_TEST_TMPDIR/keep")"
  assert_equal "$(sha "$inside/keep")" "$(sha "$BATS_TEST_TMPDIR/keep")"
  # One write that returns before the server fails it (it fits in one
  # pipelined send): the failure comes back from close, not nowhere.
  run shimmed python3 -c '
import errno, os
fd = os.open("/dafs/late", os.O_WRONLY | os.O_CREAT)
try:
    n = os.write(fd, b"x" * 200000)
    print("write returned", n)
except OSError as e:
    print("write failed:", errno.errorcode[e.errno])
try:
    os.close(fd)
    print("close ok")
except OSError as e:
    print("close failed:", errno.errorcode[e.errno])
'
  assert_output --regexp "(write failed: ENOSPC|close failed: ENOSPC)"
  refute_output --partial "close ok"
  # Space freed is space usable again.
  run shimmed rm /dafs/late
  run shimmed rm /dafs/big /dafs/toobig
  run shimmed dd if=/dev/zero of=/dafs/small bs=64k count=2 status=none
  assert_success
}

@test "shim errors: EIO when the server's read fails in the kernel" {
  stop_server
  sleep 600 &
  local victim=$!
  BG_PIDS+=("$victim")
  printf 'fine\n' >"$EXPORT/ok.txt"
  : >"$EXPORT/bad.bin"
  start_server_wrapped "exec unshare -m --propagation private sh -c 'mount --bind /proc/$victim/mem \"\$2/bad.bin\" && exec \"\$0\" \"\$@\"' \"\$REAL_SERVER\" \"\$@\""
  run shimmed cat /dafs/bad.bin
  assert_failure
  assert_output --partial "Input/output error"
  run shimmed python3 -c '
import errno, os
fd = os.open("/dafs/bad.bin", os.O_RDONLY)
try:
    os.pread(fd, 4096, 0)
except OSError as e:
    print(errno.errorcode[e.errno])'
  assert_output EIO
  # The server and the session live on: the next read is served.
  run shimmed cat /dafs/ok.txt
  assert_success
  assert_output fine
}
