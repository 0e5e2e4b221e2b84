#!/usr/bin/env bats
# posix_corners.bats — issue 16's corners, each compared with the same calls
# on a local directory: special files (fifo, device and socket inodes made
# by MKNOD; shim/tests/special_files.c), what opening or binding one on DAFS
# does, every path-taking call staying off the local file system under a
# DAFS working directory (shim/tests/route_walk.c), path limits as the
# kernel's, and time stamps after each operation.
# With DAFS_BUILD=build-asan the ASan runtimes precede the shim (shim_helpers).

load helpers
load shim_helpers

setup() {
  shim_fixture_setup 1000
}

@test "posix corners: mknod, mkfifo and their *at and __xmknod forms, then stat/chmod/chown/link/rename/utimensat/unlink, as locally" {
  test_program special_files
  export SPECIAL_BIN=$TEST_PROGRAM
  # diff -r cannot compare special files: they are listed, then removed.
  same_on_both 'mkdir nodes && cd nodes && "$SPECIAL_BIN"; echo "status $?"
    stat -c "%F %a %t:%T %h %n" * | sort; rm fifo chr2 blk sock xfifo'
  # The nodes are the server's own inodes, not files in a local directory.
  run shimmed bash -c "mkdir /dafs/nodes2 && cd /dafs/nodes2 && $SPECIAL_BIN"
  assert_success
  [ -p "$EXPORT/nodes2/fifo" ]
  [ -c "$EXPORT/nodes2/chr2" ]
  [ -b "$EXPORT/nodes2/blk" ]
  [ -S "$EXPORT/nodes2/sock" ]
  assert_equal "$(stat -c '%t:%T %a' "$EXPORT/nodes2/chr2")" "1:3 604"
}

@test "posix corners: mkfifo and mknod in a DAFS working directory never create anything locally" {
  local here=$BATS_TEST_TMPDIR/realcwd
  mkdir -p "$here" "$EXPORT/w"
  # The shell's real working directory stays $here; its DAFS one is /dafs/w.
  run shimmed bash -c "cd $here && cd /dafs/w && mkfifo f1 && mknod f2 p && mkfifo f1; echo status \$?"
  assert_output --partial "status 1"
  assert_output --partial "File exists"
  [ -p "$EXPORT/w/f1" ]
  [ -p "$EXPORT/w/f2" ]
  assert_equal "$(ls -A "$here")" ""
}

@test "posix corners: opening a fifo or device on DAFS fails with ENXIO and a DAFS_DEBUG line; the server never opens it" {
  mkfifo "$EXPORT/fifo"
  mknod "$EXPORT/null" c 1 3
  run shimmed env DAFS_DEBUG=1 python3 -c '
import os
for name in ("/dafs/fifo", "/dafs/null"):
    for flags in (os.O_RDONLY | os.O_NONBLOCK, os.O_WRONLY | os.O_NONBLOCK, os.O_RDWR):
        try:
            os.close(os.open(name, flags))
            print(name, "opened")
        except OSError as e:
            print(name, os.strerror(e.errno))'
  assert_line "/dafs/fifo No such device or address"
  assert_line "/dafs/null No such device or address"
  refute_line --regexp ' opened$'
  assert_line --partial "open /fifo: a fifo, device or socket on DAFS cannot be opened (ENXIO)"
  # A regular file and a directory still open, and O_NOFOLLOW on a symlink
  # is ELOOP as locally.
  echo data >"$EXPORT/reg"
  ln -s reg "$EXPORT/link"
  run shimmed python3 -c '
import os
print(os.read(os.open("/dafs/reg", os.O_RDONLY), 10))
os.close(os.open("/dafs", os.O_RDONLY | os.O_DIRECTORY))
try:
    os.open("/dafs/link", os.O_RDONLY | os.O_NOFOLLOW)
except OSError as e:
    print(os.strerror(e.errno))
fd = os.open("/dafs/new", os.O_WRONLY | os.O_CREAT, 0o644); os.write(fd, b"x"); os.close(fd)
fd = os.open("/dafs/new", os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644); os.close(fd)
print(os.stat("/dafs/new").st_size)
for flags in (os.O_RDONLY | os.O_CREAT, os.O_WRONLY):
    try:
        os.open("/dafs", flags, 0o644)
    except OSError as e:
        print("directory:", os.strerror(e.errno))'
  assert_success
  assert_line "b'data\\n'"
  assert_line "Too many levels of symbolic links"
  assert_line "0"
  # open(2) on a directory with O_CREAT or for writing: EISDIR, as locally.
  assert_equal "$(grep -c '^directory: Is a directory$' <<<"$output")" 2
}

@test "posix corners: bind and connect of an AF_UNIX socket at a DAFS path fail clearly and create nothing locally" {
  local here=$BATS_TEST_TMPDIR/realcwd
  mkdir -p "$here" "$EXPORT/w"
  mknod "$EXPORT/w/sock" s 2>/dev/null || python3 -c "import socket; s=socket.socket(socket.AF_UNIX); s.bind('$EXPORT/w/sock')"
  run shimmed env DAFS_DEBUG=1 python3 -c '
import os, socket
os.chdir("'"$here"'")
os.chdir("/dafs/w")
for name in ("/dafs/w/s1", "s2"):
    s = socket.socket(socket.AF_UNIX)
    try:
        s.bind(name); print(name, "bound")
    except OSError as e:
        print("bind", name, os.strerror(e.errno))
for name in ("sock", "missing"):
    s = socket.socket(socket.AF_UNIX)
    try:
        s.connect(name); print(name, "connected")
    except OSError as e:
        print("connect", name, os.strerror(e.errno))
s = socket.socket(socket.AF_UNIX)
s.bind("\0dafs-abstract-test"); print("abstract bound")'
  assert_line "bind /dafs/w/s1 Operation not supported"
  assert_line "bind s2 Operation not supported"
  assert_line "connect sock Connection refused"
  assert_line "connect missing No such file or directory"
  assert_line "abstract bound"
  assert_line --partial "bind (AF_UNIX socket on DAFS)"
  assert_equal "$(ls -A "$here")" ""
}

# The fixture shim/tests/route_walk.c expects in its DAFS directory.
walk_fixture() {
  local w=$1
  mkdir -p "$w/d" "$w/rd1" "$w/d/rd2"
  printf 'hello\n' >"$w/f"
  printf 'x\n' >"$w/d/x"
  printf 'truncate me\n' >"$w/t"
  : >"$w/u1"; : >"$w/u2"; : >"$w/u3"; : >"$w/r1"
  ln -s f "$w/l"
  python3 -c "import socket; socket.socket(socket.AF_UNIX).bind('$w/sock')"
}

@test "posix corners: every path-taking call of intercept.h, relative to a DAFS cwd or directory descriptor, stays off the local file system" {
  test_program route_walk
  walk_fixture "$EXPORT/w"
  # A private mount namespace whose real working directory is an empty,
  # read-only tmpfs: a call that escaped to it finds nothing (ENOENT) or
  # cannot write (EROFS), and anything it made would stay there.
  local ro=$BATS_TEST_TMPDIR/ro
  mkdir -p "$ro"
  run timeout "$DAFS_CMD_TIMEOUT" unshare -m sh -c '
    mount -t tmpfs -o ro,size=64k none "$1" && cd "$1" || exit 99
    LD_PRELOAD="$2" "$3" /dafs/w; rc=$?
    echo "walk status $rc"
    echo "left behind: [$(ls -A)]"' sh "$ro" "$SHIM_PRELOAD" "$TEST_PROGRAM"
  refute_line --partial "<- unexpected"
  refute_line --partial "unwalked"
  refute_line --partial "Read-only file system"
  assert_line "all ok"
  assert_line "walk status 0"
  assert_line "left behind: []"
  # What the creating calls made is on the server.
  [ -p "$EXPORT/w/n_mkfifo" ] && [ -p "$EXPORT/w/d/n_mknodat" ] && [ -d "$EXPORT/w/n_mkdir" ]
  [ -f "$EXPORT/w/n_renameat2" ] && [ ! -e "$EXPORT/w/r1" ] && [ ! -e "$EXPORT/w/rd1" ]
  [ "$(stat -c %s "$EXPORT/w/t")" = 1 ]
  compgen -G "$EXPORT/w/n_mkstemp??????" && compgen -G "$EXPORT/w/d/n_mkstemp64??????"
  compgen -G "$EXPORT/w/n_mkdtemp??????/"
  [ -z "$(getfattr --absolute-names -d "$EXPORT/w/f" "$EXPORT/w/d/x" 2>&1)" ]
}

@test "posix corners: path limits are the kernel's, per argument: PATH_MAX - 1 relative bytes below a deep DAFS cwd work, PATH_MAX and NAME_MAX + 1 fail ENAMETOOLONG" {
  test_program path_limits
  export LIMITS_BIN=$TEST_PROGRAM
  same_on_both '"$LIMITS_BIN"; echo "status $?"'
}

@test "posix corners: each operation moves the file's and its directory's time stamps as locally, seen by the next stat" {
  test_program times_demo
  export TIMES_BIN=$TEST_PROGRAM
  same_on_both '"$TIMES_BIN"; echo "status $?"'
}

@test "posix corners: MKNOD stays beneath the export: through a symlink out of it, nothing is made" {
  local outside=$BATS_TEST_TMPDIR/outside
  mkdir -p "$outside"
  ln -s "$outside" "$EXPORT/abs"
  ln -s ../../outside "$EXPORT/rel"
  run shimmed python3 -c '
import os
for p in ("/dafs/abs/fifo", "/dafs/rel/fifo"):
    try:
        os.mkfifo(p); print(p, "made")
    except OSError as e:
        print(p, os.strerror(e.errno))
    try:
        os.mknod(p + ".c", 0o600 | 0o020000, os.makedev(1, 3)); print(p, "device made")
    except OSError as e:
        print(p, "device:", os.strerror(e.errno))'
  assert_line "/dafs/abs/fifo Permission denied"
  assert_line "/dafs/rel/fifo Permission denied"
  assert_line "/dafs/abs/fifo device: Permission denied"
  assert_line "/dafs/rel/fifo device: Permission denied"
  assert_equal "$(ls -A "$outside")" ""
}
