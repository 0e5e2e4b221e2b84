#!/usr/bin/env bats
# shim_glibc.bats — glibc's functions that reach paths through its internal
# calls (the mkstemp family, realpath, nftw, glob, pathconf...: wrap_glibc.c)
# and the programs that hit them: sed -i, perl -i, git, rsync, realpath,
# readlink -f, find -exec. Each runs once in a local directory and once in
# /dafs and must print, return and leave the same (same_on_both), from an
# empty local working directory that must stay empty: the bug these cases
# catch is a temporary file made on the local disk by glibc's own open.
# Also scripts/glibc-audit: shim/AUDIT.tsv covers libc.so.6's path- and
# descriptor-taking functions, and the check does fail when it does not.

load helpers
load shim_helpers
bats_require_minimum_version 1.5.0

setup() {
  shim_fixture_setup 100000
  # The DAFS side's real working directory: nothing may appear in it.
  EMPTY_CWD=$BATS_TEST_TMPDIR/empty-cwd
  mkdir -p "$EMPTY_CWD"
  cd "$EMPTY_CWD"
}

nothing_made_locally() {
  assert_equal "$(ls -A "$EMPTY_CWD")" ""
  assert_equal "$(ls -A "$EXPORT_PARENT")" "export"
}

@test "glibc: temp files, realpath, cwd names, pathconf, nftw, glob, lockf... as locally" {
  test_program glibc_paths
  local want got
  want=$(cd "$LOCAL" && "$TEST_PROGRAM" "$LOCAL" local 2>&1)
  run shimmed "$TEST_PROGRAM" /dafs dafs
  assert_success
  assert_equal "$output" "$want"
  assert_line "failures 0"
  nothing_made_locally
  # What the calls made is on the server: mkstemp's and mkdtemp's names.
  got=$(cd "$EXPORT/gp" && ls | sed -E 's/^([a-z])[A-Za-z0-9]{6}/\1XXXXXX/' | sort | tr '\n' ' ')
  want=$(cd "$LOCAL/gp" && ls | sed -E 's/^([a-z])[A-Za-z0-9]{6}/\1XXXXXX/' | sort | tr '\n' ' ')
  assert_equal "$got" "$want"
}

@test "glibc: realpath(3) follows a local symbolic link into /dafs" {
  test_program glibc_paths
  ln -s /dafs/sub "$BATS_TEST_TMPDIR/tosub"
  ln -s ../tosub/deeper "$EMPTY_CWD/rel"
  run shimmed "$TEST_PROGRAM" realpath "$BATS_TEST_TMPDIR/tosub/fruit.txt" rel/../fruit.txt \
    "$BATS_TEST_TMPDIR/tosub/nothing" "$BATS_TEST_TMPDIR"
  assert_success
  assert_equal "$output" "/dafs/sub/fruit.txt
/dafs/sub/fruit.txt
No such file or directory
$BATS_TEST_TMPDIR"
  # The same links to a local directory, for comparison: libc's own answer.
  ln -sfn "$LOCAL/sub" "$BATS_TEST_TMPDIR/tosub"
  run "$TEST_PROGRAM" realpath "$BATS_TEST_TMPDIR/tosub/fruit.txt" rel/../fruit.txt
  assert_equal "$output" "$LOCAL/sub/fruit.txt
$LOCAL/sub/fruit.txt"
  rm "$EMPTY_CWD/rel"
  nothing_made_locally
}

@test "glibc: refused calls name themselves under DAFS_DEBUG=1" {
  test_program glibc_paths
  DAFS_DEBUG=1 run --separate-stderr shimmed "$TEST_PROGRAM" /dafs dafs
  assert_success
  local call
  for call in fts_open chroot inotify_add_watch name_to_handle_at; do
    [[ $stderr == *"$call"*"not supported"* ]] || fail "no DAFS_DEBUG line for $call: $stderr"
  done
  nothing_made_locally
}

@test "glibc: perl -i edits in place" {
  same_on_both 'perl -pi -e "s/three/3/" lines.txt && perl -i.orig -pe "s/fig/FIG/" sub/fruit.txt &&
                cat lines.txt sub/fruit.txt && ls sub | sort'
  nothing_made_locally
}

# sed copies the file's mode to its temporary file through gnulib's ACL code,
# fsetxattr(system.posix_acl_access) on the descriptor: on the server's file
# since wrap_xattr.c (before, on the placeholder memfd, and the edited file
# kept mkostemp's 0600). The modes are compared with the rest.
@test "glibc: sed -i edits in place, keeping the file's mode" {
  chmod 0644 "$LOCAL/lines.txt" "$EXPORT/lines.txt"
  chmod 0640 "$LOCAL/sub/fruit.txt" "$EXPORT/sub/fruit.txt"
  same_on_both 'sed -i s/two/TWO/ lines.txt && sed -i.bak s/pear/PEAR/ sub/fruit.txt &&
                cat lines.txt sub/fruit.txt && ls sub | sort && stat -c "%a %n" lines.txt sub/*'
  nothing_made_locally
}

@test "glibc: git init, add, commit, status, log, branch, checkout, gc" {
  local script='git init -q -b main . && git add lines.txt sub && git commit -qm first &&
    echo more >>lines.txt && git status --short && git commit -qam second &&
    git log --format="%H %s" && git branch side && git checkout -q side &&
    echo side >sub/side.txt && git add sub/side.txt && git commit -qm third &&
    git checkout -q main && ls sub | sort && git rev-parse side && git gc -q &&
    git fsck --no-progress && git ls-files -s && git status --short --branch'
  local env=(HOME="$BATS_TEST_TMPDIR" GIT_CONFIG_NOSYSTEM=1 GIT_AUTHOR_NAME=a GIT_AUTHOR_EMAIL=a@b
             GIT_COMMITTER_NAME=a GIT_COMMITTER_EMAIL=a@b
             GIT_AUTHOR_DATE="2001-02-03T04:05:06Z" GIT_COMMITTER_DATE="2001-02-03T04:05:06Z")
  local want got
  want=$(cd "$LOCAL" && env "${env[@]}" timeout "$DAFS_CMD_TIMEOUT" bash -c "$script" 2>&1)
  run env "${env[@]}" LD_PRELOAD="$SHIM_PRELOAD" timeout "$DAFS_CMD_TIMEOUT" bash -c "cd /dafs && { $script
}"
  assert_success
  assert_equal "$output" "$want"
  # The work tree matches; .git holds inode numbers and times in its index.
  run diff -r --exclude=.git "$LOCAL" "$EXPORT"
  assert_success
  nothing_made_locally
}

@test "glibc: rsync -a src/ dst/ keeps modes, times and links; --delete" {
  same_on_both 'mkdir -p src/d && echo 1 >src/d/f && echo 2 >src/g && chmod 640 src/g &&
                ln -s d/f src/l && touch -h -d "2001-02-03 04:05:06" src/d/f src/g src/l &&
                rsync -a src/ dst/ &&
                find dst ! -type d -printf "%p %y %m %s %TY-%Tm-%Td %TH:%TM:%TS %l\n" | sort &&
                rm src/g && echo new >src/n && touch -d "2002-01-01" src/n &&
                rsync -a --delete src/ dst/ &&
                find dst ! -type d -printf "%p %y %m %s %TY-%Tm-%Td %TH:%TM:%TS %l\n" | sort'
  nothing_made_locally
}

@test "glibc: realpath and readlink -f" {
  same_on_both 'ln -s sub/fruit.txt link && ln -s sub dlink &&
                realpath lines.txt sub/../lines.txt link dlink/fruit.txt . &&
                readlink -f link dlink sub/deeper/.. . && realpath -m a/../b &&
                realpath "$R/sub" && readlink -f "$R"; realpath -e nothing; echo "status $?"'
  nothing_made_locally
}

# Every -exec ... \; is a process that opens its own session (about 0.3 s,
# more under ASan): few of them, so that a loaded machine stays within
# DAFS_CMD_TIMEOUT.
@test "glibc: find -exec and -delete" {
  same_on_both 'find . -name "*.txt" -exec wc -c {} + | sort;
                find . -type f -exec sh -c "echo \$1" sh {} \; | sort;
                find sub -name empty -delete; find . -type f -execdir echo {} + | sort; find . | sort'
  nothing_made_locally
}

@test "glibc-audit: AUDIT.tsv covers libc's path and descriptor functions, and says so when not" {
  run "$DAFS_ROOT/scripts/glibc-audit"
  assert_success
  assert_output --partial "take a path or descriptor"
  # A missing row fails the check...
  grep -v -P '^mkstemp\t' "$DAFS_ROOT/shim/AUDIT.tsv" >"$BATS_TEST_TMPDIR/audit.tsv"
  GLIBC_AUDIT_TSV=$BATS_TEST_TMPDIR/audit.tsv run "$DAFS_ROOT/scripts/glibc-audit"
  assert_failure
  assert_output --partial "mkstemp"
  # ...and so does a wrapped call that is not in the table.
  grep -v 'X(int, mkstemp, ' "$DAFS_ROOT/shim/intercept.h" >"$BATS_TEST_TMPDIR/intercept.h"
  GLIBC_AUDIT_INTERCEPT=$BATS_TEST_TMPDIR/intercept.h run "$DAFS_ROOT/scripts/glibc-audit"
  assert_failure
  assert_output --partial "mkstemp is classified wrapped but is not in FOREACH_INTERCEPT"
}
