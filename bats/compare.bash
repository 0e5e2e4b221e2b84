# compare.bash — what bats/programs.bats adds to shim_helpers.bash: running
# one shell script in a fresh local directory and in a fresh directory under
# /dafs (through the shim), and comparing what the two runs did.
#
#   compare_setup_file  (setup_file) one server on $SHIM_TRANSPORT for the
#                     whole file: a server start is a second, and each test
#                     gets a fresh directory of its own on it anyway
#   compare_setup     (setup) the test's two empty work directories:
#                     $WORK_LOCAL, and $WORK_EXPORT, the server's side of
#                     $WORK_DAFS = /dafs/tN
#   compare_teardown  (teardown) fails the test after which the server is
#                     gone or its log holds a sanitizer report
#   compare_teardown_file  (teardown_file) stops the server
#   with_src          the fixture tree ./src (programs-env.sh's mk_src) written
#                     into both work directories directly, not through the
#                     shim: what a script then does to it is what is compared
#   same_run SCRIPT   (or the script on stdin, a quoted here-document)
#                     runs `bash -c SCRIPT` in each, with bats/programs-env.sh
#                     sourced first (a fixed environment and the fixture
#                     functions), and asserts equal stdout+stderr (each side's
#                     own directory spelled $D), equal exit status, equal
#                     trees (tree_listing), and nothing created in the DAFS
#                     side's real working directory (an empty scratch one)
#   tree_listing DIR  one line per entry below DIR: relative path, type, mode,
#                     owner, link count (files), size (not directories),
#                     content hash, symlink target, extended attributes, and
#                     the modification time where the script defined it
#                     (see below)
#
# Which modification times are compared: a script defines a time by setting
# it (touch -d, a fixture function) or by preserving it (cp -p, rsync -a,
# tar x); any other time is "when it ran". So a time more than an hour before
# the run started is compared exactly, nanoseconds included, and any other
# is listed as "now" — which the other side must match too (a preserved time
# lost on one side shows as a difference). Directory sizes and inode numbers
# are the file system's business and never listed.

PROGRAMS_ENV=$BATS_TEST_DIRNAME/programs-env.sh

compare_setup_file() {
  # start_server keeps its export and log under the test's directory; the
  # file's is the one that lasts.
  BATS_TEST_TMPDIR=$BATS_FILE_TMPDIR BATS_TEST_NUMBER=file start_server "$SHIM_TRANSPORT"
  # helpers.bash, loaded again for every test, clears SERVER_PID: the
  # file's server is known by a name of its own.
  export DAFS_SERVER EXPORT SERVER_LOG COMPARE_SERVER_PID=$SERVER_PID
}

compare_teardown_file() {
  SERVER_PID=$COMPARE_SERVER_PID
  stop_server
  case ${DAFS_SERVER:-} in
    shm://*) rm -f "/dev/shm/${DAFS_SERVER#shm://}" "/dev/shm/${DAFS_SERVER#shm://}.dafs-lock" ;;
  esac
}

compare_setup() {
  WORK_DAFS=$DAFS_MOUNT/t$BATS_TEST_NUMBER
  WORK_LOCAL=$BATS_TEST_TMPDIR/local/t$BATS_TEST_NUMBER
  WORK_EXPORT=$EXPORT/t$BATS_TEST_NUMBER
  rm -rf "$WORK_EXPORT"
  mkdir -p "$WORK_LOCAL" "$WORK_EXPORT"
  # What the scripts may use beside their directory: a scratch HOME (git,
  # python and others look there) outside both trees.
  PROGRAMS_HOME=$BATS_TEST_TMPDIR/home
  mkdir -p "$PROGRAMS_HOME"
  export PROGRAMS_HOME
}

# Its status is what fails the test (bats runs teardown without errexit).
compare_teardown() {
  if ! kill -0 "$COMPARE_SERVER_PID" 2>/dev/null; then
    fail "the server is gone after this test; its log: $(tail -n 20 "$SERVER_LOG")"
    return 1
  fi
  if grep -qE 'ERROR: (Address|Leak)Sanitizer|runtime error:' "$SERVER_LOG"; then
    fail "sanitizer report in the server log: $(cat "$SERVER_LOG")"
    return 1
  fi
}

with_src() {
  local dir
  for dir in "$WORK_LOCAL" "$WORK_EXPORT"; do
    # shellcheck source=programs-env.sh
    (cd "$dir" && source "$PROGRAMS_ENV" && mk_src) || fail "mk_src failed in $dir"
  done
}

tree_listing() {
  /usr/bin/python3 - "$1" "$(($(date +%s) - 3600))" <<'PY'
import hashlib, os, stat, sys
top, since = sys.argv[1], int(sys.argv[2])
entries = []
for parent, dirs, files in os.walk(top):
    entries += [os.path.join(parent, n) for n in dirs + files]
for path in sorted(entries, key=lambda p: os.path.relpath(p, top).encode()):
    st = os.lstat(path)
    mode = st.st_mode
    kind = {stat.S_IFREG: "f", stat.S_IFDIR: "d", stat.S_IFLNK: "l", stat.S_IFIFO: "p",
            stat.S_IFSOCK: "s", stat.S_IFCHR: "c", stat.S_IFBLK: "b"}[stat.S_IFMT(mode)]
    links, size, sha = st.st_nlink, st.st_size, "-"
    if kind == "f" and path.endswith("/.git/index"):
        # git's index caches each file's stat data (inode, device, ctime),
        # which differ between any two directories; the scripts check what
        # it means with git status and ls-files.
        sha = "stat-cache"
    elif kind == "f":
        with open(path, "rb") as f:
            sha = hashlib.sha256(f.read()).hexdigest()[:16]
    if kind == "d":
        links = size = "-"
    if kind in "cb":
        size = "%d,%d" % (os.major(st.st_rdev), os.minor(st.st_rdev))
    when = "now"
    if st.st_mtime_ns < since * 10**9:
        when = "%d.%09d" % divmod(st.st_mtime_ns, 10**9)
    line = "%s %s %o %d:%d links=%s size=%s sha=%s mtime=%s" % (
        os.path.relpath(path, top), kind, stat.S_IMODE(mode), st.st_uid, st.st_gid, links, size, sha, when)
    if kind == "l":
        line += " -> " + os.readlink(path)
    try:
        names = sorted(os.listxattr(path, follow_symlinks=False))
    except OSError:
        names = []
    if names:
        line += " xattrs=" + ",".join("%s=%r" % (n, os.getxattr(path, n, follow_symlinks=False)) for n in names)
    print(line)
PY
}

# run_both SCRIPT: runs it on each side; sets local_out, dafs_out (each
# side's directory spelled $D), local_rc, dafs_rc and real_cwd (the DAFS
# side's scratch real working directory).
run_both() {
  local script=$1
  local_rc=0 dafs_rc=0
  local_out=$(cd "$WORK_LOCAL" && D=$WORK_LOCAL timeout "$DAFS_CMD_TIMEOUT" \
    bash -c "source '$PROGRAMS_ENV' && {
$script
}" 2>&1) || local_rc=$?
  # The DAFS side's real working directory is an empty scratch directory:
  # a call that wrongly goes to the local file system (issue 16's mkfifo)
  # lands there, where it is seen, and not in /.
  real_cwd=$BATS_TEST_TMPDIR/real-cwd
  rm -rf "$real_cwd" && mkdir -p "$real_cwd"
  dafs_out=$(cd "$real_cwd" && D=$WORK_DAFS shimmed bash -c "cd '$WORK_DAFS' && source '$PROGRAMS_ENV' && {
$script
}" 2>&1) || dafs_rc=$?
  local_out=${local_out//$WORK_LOCAL/\$D}
  dafs_out=${dafs_out//$WORK_DAFS/\$D}
}

same_run() {
  local script local_out dafs_out local_rc dafs_rc real_cwd
  if [ $# -gt 0 ]; then script=$1; else script=$(cat); fi
  run_both "$script"
  local diffs=""
  if [ "$dafs_out" != "$local_out" ]; then
    diffs+=$'output differs (- local, + dafs):\n'
    diffs+=$(diff <(printf '%s\n' "$local_out") <(printf '%s\n' "$dafs_out") | sed -n '/^[<>]/p' |
      sed 's/^</-/; s/^>/+/' | head -n 40)
    diffs+=$'\n'
  fi
  [ "$dafs_rc" = "$local_rc" ] || diffs+="exit status: local $local_rc, dafs $dafs_rc"$'\n'
  local leaked
  leaked=$(cd "$real_cwd" && find . -mindepth 1 -printf '%y %P\n' | sort)
  if [ -n "$leaked" ]; then
    diffs+="created on the local disk instead of /dafs (in the real working directory, "
    diffs+="$(wc -l <<<"$leaked") entries):"$'\n'"$(head -n 10 <<<"$leaked")"$'\n'
  fi
  local local_tree dafs_tree
  local_tree=$(tree_listing "$WORK_LOCAL")
  dafs_tree=$(tree_listing "$WORK_EXPORT")
  if [ "$dafs_tree" != "$local_tree" ]; then
    diffs+=$'trees differ (- local, + dafs):\n'
    diffs+=$(diff <(printf '%s\n' "$local_tree") <(printf '%s\n' "$dafs_tree") | sed -n '/^[<>]/p' |
      sed 's/^</-/; s/^>/+/' | head -n 40)
    diffs+=$'\n'
  fi
  [ -z "$diffs" ] || fail "$diffs"
}

# known_limit EXPECTED (script on stdin): a difference the README lists under
# Known limits. The script still runs on both sides; the test asserts that
# the DAFS side answers exactly EXPECTED (output and status line) and still
# differs from the local side, so that a change in either direction is
# seen: a fix turns this into a same_run case and its README entry goes.
known_limit() {
  local expected=$1 script local_out dafs_out local_rc dafs_rc real_cwd
  script=$(cat)
  run_both "$script"
  local got="$dafs_out"$'\n'"status $dafs_rc"
  [ "$got" = "$expected" ] ||
    fail "the known limit changed: DAFS answered"$'\n'"$got"$'\n'"instead of"$'\n'"$expected"
  [ "$dafs_out" != "$local_out" ] || [ "$dafs_rc" != "$local_rc" ] ||
    fail "no longer differs from local: make this a same_run case and drop its Known limits entry"
}
