# programs-env.sh — sourced by every script of bats/programs.bats before it
# runs, on both sides (compare.bash's same_run): the environment that makes
# two runs comparable, and the fixture functions the scripts build on.
# Nothing here may depend on which side it runs on.

export LC_ALL=C TZ=UTC HOME=$PROGRAMS_HOME
umask 022
# git: no user or system configuration, fixed identity and dates, so that
# commit ids are the same on both sides.
export GIT_CONFIG_NOSYSTEM=1 GIT_CONFIG_GLOBAL=/dev/null
export GIT_AUTHOR_NAME=dafs GIT_AUTHOR_EMAIL=dafs@example.org
export GIT_COMMITTER_NAME=dafs GIT_COMMITTER_EMAIL=dafs@example.org
export GIT_AUTHOR_DATE='2001-02-03T04:05:06Z' GIT_COMMITTER_DATE='2001-02-03T04:05:06Z'
# The distribution's python3 (with its venv module), not a version manager's.
# shellcheck disable=SC2034 # the scripts use it
PY=/usr/bin/python3
OLD=@1000000000.123456789   # a fixed time with nanoseconds, for touch -d

# A small tree in ./src: text, binary, empty and executable files, modes
# other than 644, a nested directory, a relative symlink and a hard link;
# every time set to $OLD so that preserving it can be checked.
mk_src() {
  mkdir -p src/sub/deep src/empty-dir
  printf 'one\ntwo\nthree\nfour\nfive\n' >src/lines.txt
  printf 'pear\napple\nfig\nbanana\ncherry\napple\n' >src/sub/fruit.txt
  head -c 70000 /dev/zero | tr '\0' 'x' >src/sub/deep/big.txt
  printf '\x00\x01\x02\xff binary\n' >src/bin.dat
  : >src/empty
  printf '#!/bin/sh\necho hello from script\n' >src/run.sh
  chmod 755 src/run.sh
  printf 'secret\n' >src/private
  chmod 600 src/private
  chmod 750 src/sub/deep
  ln -s lines.txt src/link-to-lines
  ln -s ../lines.txt src/sub/up-link
  ln src/lines.txt src/hard-lines
  find src -exec touch -h -d "$OLD" {} +
}
