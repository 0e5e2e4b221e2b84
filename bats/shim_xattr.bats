#!/usr/bin/env bats
# shim_xattr.bats — named attributes and the calls on DAFS descriptors that
# used to reach the placeholder memfd, each run once on a local directory
# and once on /dafs and compared (same_on_both: output, status, tree). The
# export and $LOCAL are both under $BATS_TEST_TMPDIR, one file system, so
# what the file system allows (user.* attributes, ACLs, value sizes) is the
# same on both sides. Attribute calls go through ctypes, so that sizes,
# flags and errno are libc's own, not Python's retry loops.

load helpers
load shim_helpers

setup() {
  shim_fixture_setup 1000
}

# The xattr calls, through libc (ctypes finds the shim's first when preloaded).
XATTR_PY='
import ctypes, errno, os, sys
libc = ctypes.CDLL(None, use_errno=True)
for f in ("getxattr","lgetxattr","listxattr","llistxattr"):
    getattr(libc, f).restype = ctypes.c_ssize_t
libc.fgetxattr.restype = ctypes.c_ssize_t
libc.flistxattr.restype = ctypes.c_ssize_t
def show(what, rc, buf=None):
    if rc < 0:
        print(what, errno.errorcode[ctypes.get_errno()])
    elif buf is not None:
        print(what, rc, bytes(buf.raw[:rc]))
    else:
        print(what, rc)
def b(s): return s.encode()
def lab(t): return t if isinstance(t, bytes) else "fd"   # descriptor numbers differ under the shim
def get(call, target, name, size):
    buf = ctypes.create_string_buffer(max(size, 1))
    show(f"{call}({lab(target)},{name},{size})", getattr(libc, call)(target, b(name), buf if size else None, size), buf if size else None)
def lst(call, target, size):
    buf = ctypes.create_string_buffer(max(size, 1))
    rc = getattr(libc, call)(target, buf if size else None, size)
    if rc > 0 and size:
        print(f"{call}({lab(target)},{size})", rc, sorted(buf.raw[:rc].split(b"\0")[:-1]))
    else:
        show(f"{call}({lab(target)},{size})", rc)
def set_(call, target, name, value, flags):
    show(f"{call}({lab(target)},{name},{len(value)},{flags})", getattr(libc, call)(target, b(name), value, len(value), flags))
def rm(call, target, name):
    show(f"{call}({lab(target)},{name})", getattr(libc, call)(target, b(name)))
'

@test "shim xattr: get/set/list/remove, l- and f-forms, flags, sizes and errors as on a local directory" {
  export XATTR_PY
  same_on_both 'ln -s lines.txt link; ln -s nowhere dangling; python3 -c "$XATTR_PY
F, L, D, N = b\"lines.txt\", b\"link\", b\"sub\", b\"nowhere\"
get(\"getxattr\", F, \"user.a\", 64)
set_(\"setxattr\", F, \"user.a\", b\"hello\", 0)
set_(\"setxattr\", F, \"user.a\", b\"again\", 1)
set_(\"setxattr\", F, \"user.b\", b\"x\", 2)
set_(\"setxattr\", F, \"user.b\", b\"x\", 1)
set_(\"setxattr\", F, \"user.b\", b\"yy\", 2)
set_(\"setxattr\", F, \"user.c\", b\"\", 0)
set_(\"setxattr\", F, \"user.a\", b\"x\", 3)
set_(\"setxattr\", F, \"user.a\", b\"x\", 4)
set_(\"setxattr\", F, \"bogus.a\", b\"x\", 0)
set_(\"setxattr\", F, \"\", b\"x\", 0)
set_(\"setxattr\", F, \"user.\" + \"n\" * 251, b\"x\", 0)
set_(\"setxattr\", F, \"user.big\", b\"v\" * 65537, 0)
set_(\"setxattr\", N, \"user.a\", b\"x\", 0)
get(\"getxattr\", F, \"user.a\", 0)
get(\"getxattr\", F, \"user.a\", 2)
get(\"getxattr\", F, \"user.a\", 5)
get(\"getxattr\", F, \"user.a\", 100000)
get(\"getxattr\", F, \"user.c\", 10)
get(\"getxattr\", F, \"user.\" + \"n\" * 250, 10)
get(\"getxattr\", L, \"user.a\", 10)
get(\"lgetxattr\", L, \"user.a\", 10)
get(\"getxattr\", b\"dangling\", \"user.a\", 10)
get(\"lgetxattr\", b\"dangling\", \"user.a\", 10)
set_(\"lsetxattr\", L, \"user.l\", b\"1\", 0)
set_(\"lsetxattr\", L, \"trusted.l\", b\"12\", 0)
get(\"lgetxattr\", L, \"trusted.l\", 10)
get(\"getxattr\", F, \"trusted.l\", 10)
lst(\"llistxattr\", L, 100)
rm(\"lremovexattr\", L, \"trusted.l\")
set_(\"setxattr\", D, \"user.dir\", b\"d\", 0)
lst(\"listxattr\", D, 100)
lst(\"listxattr\", F, 0)
lst(\"listxattr\", F, 3)
lst(\"listxattr\", F, 1000)
lst(\"listxattr\", L, 1000)
rm(\"removexattr\", F, \"user.c\")
rm(\"removexattr\", F, \"user.c\")
rm(\"removexattr\", N, \"user.c\")
fd = os.open(\"lines.txt\", os.O_RDONLY)
set_(\"fsetxattr\", fd, \"user.f\", b\"fd\", 1)
get(\"fgetxattr\", fd, \"user.f\", 10)
get(\"fgetxattr\", fd, \"user.f\", 1)
get(\"fgetxattr\", fd, \"user.f\", 0)
lst(\"flistxattr\", fd, 1000)
rm(\"fremovexattr\", fd, \"user.f\")
rm(\"fremovexattr\", fd, \"user.f\")
dfd = os.open(\"sub\", os.O_RDONLY | os.O_DIRECTORY)
get(\"fgetxattr\", dfd, \"user.dir\", 10)
"; echo "status $?"; rm dangling; getfattr -d -m - --absolute-names lines.txt sub | sed "s|$R|R|"'
}

@test "shim xattr: a 64 KiB value travels whole where the file system holds one (tmpfs export)" {
  # ext4 keeps a value within one block; tmpfs takes XATTR_SIZE_MAX. The
  # server runs in a private mount namespace with its export on a tmpfs.
  stop_server
  start_server_wrapped 'exec unshare -m --propagation private sh -c '\''mount -t tmpfs -o size=4m dafs-xattr "$2" && exec "$0" "$@"'\'' "$REAL_SERVER" "$@"'
  local inside=/proc/$SERVER_PID/root$EXPORT
  assert_equal "$(stat -f -c %T "$inside")" tmpfs
  head -c 65536 /dev/urandom >"$BATS_TEST_TMPDIR/value"
  run shimmed python3 -c 'import os, sys
v = open(sys.argv[1], "rb").read()
open("/dafs/f", "w").close()
os.setxattr("/dafs/f", "user.big", v)
got = os.getxattr("/dafs/f", "user.big")
print(len(got), got == v)
try:
    os.setxattr("/dafs/f", "user.big", v + b"x")
except OSError as e:
    print(e.strerror)' "$BATS_TEST_TMPDIR/value"
  assert_success
  assert_output "65536 True
Argument list too long"
  # What the server's file holds, read locally.
  run python3 -c 'import os, sys; print(os.getxattr(sys.argv[1], "user.big") == open(sys.argv[2], "rb").read())' "$inside/f" "$BATS_TEST_TMPDIR/value"
  assert_output True
}

@test "shim xattr: setfacl and getfacl, access and default ACLs, as on a local directory" {
  same_on_both 'setfacl -m u:nobody:r lines.txt; echo "setfacl $?"
getfacl lines.txt; stat -c "%a %n" lines.txt
setfacl -m g:nogroup:rw,m::r lines.txt; getfacl -c lines.txt
setfacl -x u:nobody lines.txt; getfacl -c lines.txt
setfacl -b lines.txt; getfacl -c lines.txt; stat -c "%a %n" lines.txt
setfacl -d -m u:nobody:rx sub; getfacl sub
mkdir sub/inner; getfacl -c sub/inner; stat -c "%a %n" sub/inner
touch sub/new; getfacl -c sub/new; stat -c "%a %n" sub/new
setfacl -m u:nobody:q lines.txt; echo "bad entry $?"
getfacl nowhere; echo "missing $?"'
}

@test "shim xattr: cp -a and cp -p keep mode, ACLs and attributes (cp sets the mode through fsetxattr)" {
  same_on_both 'chmod 640 lines.txt; setfattr -n user.color -v blue lines.txt
setfacl -m u:nobody:r lines.txt
chmod 750 sub; setfattr -n user.dir -v d sub
cp -a lines.txt a; cp -p lines.txt p; cp lines.txt plain; cp -a sub subcopy
for f in a p plain subcopy subcopy/fruit.txt; do
  stat -c "%a %s %n" $f; getfattr -d -m - --absolute-names $f; getfacl -c $f
done'
  # The ACL is on the server's file itself, not on a placeholder.
  assert_equal "$(getfacl -c "$EXPORT/a" | grep nobody)" "user:nobody:r--"
  assert_equal "$(stat -c %a "$EXPORT/a")" 640
}

@test "shim xattr: fcntl, fchmod, fchown, fstatvfs, fsync, flock, lockf, readahead, syncfs, getdirentries on a DAFS descriptor as on a local file" {
  same_on_both 'python3 -u -c "
import ctypes, errno, fcntl, os
libc = ctypes.CDLL(None, use_errno=True)
def tr(what, fn, *a):
    try:
        r = fn(*a)
        print(what, r)
    except OSError as e:
        print(what, errno.errorcode[e.errno])
def c(what, rc):
    print(what, rc if rc >= 0 else errno.errorcode[ctypes.get_errno()])
fd = os.open(\"lines.txt\", os.O_RDWR)
tr(\"F_GET_SEALS\", fcntl.fcntl, fd, fcntl.F_GET_SEALS)
tr(\"F_ADD_SEALS\", fcntl.fcntl, fd, fcntl.F_ADD_SEALS, fcntl.F_SEAL_WRITE)
tr(\"F_GETPIPE_SZ\", fcntl.fcntl, fd, fcntl.F_GETPIPE_SZ)
tr(\"F_GETFL\", lambda: fcntl.fcntl(fd, fcntl.F_GETFL) & (os.O_ACCMODE | os.O_APPEND | os.O_NONBLOCK))
tr(\"F_SETFL\", fcntl.fcntl, fd, fcntl.F_SETFL, os.O_APPEND | os.O_NONBLOCK)
tr(\"F_GETFL\", lambda: fcntl.fcntl(fd, fcntl.F_GETFL) & (os.O_ACCMODE | os.O_APPEND | os.O_NONBLOCK))
tr(\"F_SETFL O_DIRECT\", fcntl.fcntl, fd, fcntl.F_SETFL, os.O_APPEND | os.O_NONBLOCK | os.O_DIRECT)
tr(\"F_GETFL\", lambda: fcntl.fcntl(fd, fcntl.F_GETFL) & (os.O_APPEND | os.O_NONBLOCK | os.O_DIRECT))
tr(\"F_SETFL no O_DIRECT\", fcntl.fcntl, fd, fcntl.F_SETFL, os.O_APPEND | os.O_NONBLOCK)
tr(\"F_GETFL\", lambda: fcntl.fcntl(fd, fcntl.F_GETFL) & (os.O_APPEND | os.O_NONBLOCK | os.O_DIRECT))
os.write(fd, b\"appended\\n\")
tr(\"F_GETFD\", fcntl.fcntl, fd, fcntl.F_GETFD)
tr(\"F_SETFD\", fcntl.fcntl, fd, fcntl.F_SETFD, fcntl.FD_CLOEXEC)
tr(\"F_GETFD\", fcntl.fcntl, fd, fcntl.F_GETFD)
fd2 = fcntl.fcntl(fd, fcntl.F_DUPFD, 20)
tr(\"F_DUPFD reads\", lambda: os.pread(fd2, 3, 0))
tr(\"fchmod\", os.fchmod, fd, 0o600)
tr(\"mode\", lambda: oct(os.stat(\"lines.txt\").st_mode & 0o7777))
st = os.fstat(fd)
tr(\"fchown same\", os.fchown, fd, st.st_uid, st.st_gid)
tr(\"fstatvfs namemax\", lambda: os.fstatvfs(fd).f_namemax)
tr(\"fsync\", os.fsync, fd)
tr(\"fdatasync\", os.fdatasync, fd)
tr(\"posix_fadvise\", os.posix_fadvise, fd, 0, 0, os.POSIX_FADV_WILLNEED)
c(\"readahead\", libc.readahead(fd, ctypes.c_long(0), ctypes.c_size_t(4096)))
c(\"syncfs\", libc.syncfs(fd))
tr(\"flock\", fcntl.flock, fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
tr(\"unflock\", fcntl.flock, fd, fcntl.LOCK_UN)
tr(\"lockf\", os.lockf, fd, os.F_TLOCK, 0)
pid = os.fork()
if pid == 0:
    f = os.open(\"lines.txt\", os.O_RDWR)
    try:
        os.lockf(f, os.F_TLOCK, 0)
        print(\"child lockf got it\")
    except OSError as e:
        print(\"child lockf\", errno.errorcode[e.errno] in (\"EAGAIN\", \"EACCES\"))
    try:
        os.lockf(f, os.F_TEST, 0)
        print(\"child F_TEST free\")
    except OSError as e:
        print(\"child F_TEST\", errno.errorcode[e.errno])
    os._exit(0)
os.waitpid(pid, 0)
tr(\"unlockf\", os.lockf, fd, os.F_ULOCK, 0)
dfd = os.open(\"sub\", os.O_RDONLY | os.O_DIRECTORY)
buf = ctypes.create_string_buffer(8192)
base = ctypes.c_long(-1)
libc.getdirentries.restype = ctypes.c_ssize_t
n = libc.getdirentries(dfd, buf, ctypes.c_size_t(8192), ctypes.byref(base))
names, pos = [], 0
while pos < n:
    reclen = int.from_bytes(buf.raw[pos + 16:pos + 18], \"little\")
    names.append(buf.raw[pos + 19:pos + reclen].split(b\"\\0\")[0])
    pos += reclen
print(\"getdirentries\", n > 0, base.value, sorted(names))
c(\"getdirentries at the end\", libc.getdirentries(dfd, buf, ctypes.c_size_t(8192), ctypes.byref(base)))
"'
}

@test "shim xattr: ioctl, inotify_add_watch, fanotify_mark and name_to_handle_at on DAFS objects fail clearly, with a DAFS_DEBUG line" {
  local err=$BATS_TEST_TMPDIR/stderr
  DAFS_DEBUG=1 shimmed python3 -c 'import ctypes, errno, fcntl, os
libc = ctypes.CDLL(None, use_errno=True)
def c(what, rc):
    print(what, rc if rc >= 0 else errno.errorcode[ctypes.get_errno()])
fd = os.open("/dafs/lines.txt", os.O_RDONLY)
try:
    fcntl.ioctl(fd, 0x541B, b"\0" * 4)   # FIONREAD
except OSError as e:
    print("ioctl", errno.errorcode[e.errno])
ino = libc.inotify_init1(0)
c("inotify_add_watch", libc.inotify_add_watch(ino, b"/dafs/lines.txt", 2))
c("inotify_add_watch local", 1 if libc.inotify_add_watch(ino, b"/tmp", 2) > 0 else -1)
fan = libc.fanotify_init(0, 0)
c("fanotify_mark", libc.fanotify_mark(fan, 1, ctypes.c_uint64(8), -100, b"/dafs/lines.txt") if fan >= 0 else -1)
h = ctypes.create_string_buffer(128)
ctypes.memmove(h, (128).to_bytes(4, "little"), 4)
mnt = ctypes.c_int()
c("name_to_handle_at", libc.name_to_handle_at(-100, b"/dafs/lines.txt", h, ctypes.byref(mnt), 0))
c("name_to_handle_at fd", libc.name_to_handle_at(fd, b"", h, ctypes.byref(mnt), 0x1000))
c("fcntl F_SETLEASE", libc.fcntl(fd, 1024, 0))
c("fcntl F_NOTIFY", libc.fcntl(fd, 1026, 0))
c("fcntl F_SETFL O_ASYNC", libc.fcntl(fd, 4, 0o20000))' >"$BATS_TEST_TMPDIR/out" 2>"$err"
  run cat "$BATS_TEST_TMPDIR/out"
  assert_line "ioctl ENOTTY"
  # (Python names errno 95, EOPNOTSUPP = ENOTSUP on Linux, ENOTSUP.)
  assert_line "inotify_add_watch ENOTSUP"
  assert_line "inotify_add_watch local 1"
  assert_line "name_to_handle_at ENOTSUP"
  assert_line "name_to_handle_at fd ENOTSUP"
  assert_line "fcntl F_SETLEASE ENOTSUP"
  assert_line "fcntl F_NOTIFY ENOTSUP"
  assert_line "fcntl F_SETFL O_ASYNC ENOTSUP"
  # fanotify_init needs CAP_SYS_ADMIN: where it is refused there is nothing to mark.
  assert_line --regexp '^fanotify_mark (ENOTSUP|EPERM)$'
  run cat "$err"
  assert_line --partial "ioctl on DAFS descriptor"
  assert_line --partial "inotify_add_watch on a DAFS path is not supported"
  assert_line --partial "name_to_handle_at on a DAFS path is not supported"
  assert_line --partial "fcntl on DAFS descriptor"
}
