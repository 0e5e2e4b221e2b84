#!/usr/bin/env bats
# shim_exec_tmpfile.bats — programs, scripts and libraries stored on /dafs,
# unnamed files and files removed while open; each case compared with the
# same commands on a local directory:
#   - cc writes a program onto /dafs, which then runs by path, after cd, from
#     PATH (bash's search, execvp's through env, posix_spawnp's through
#     python), by system() and popen, from Python's subprocess (a vfork
#     child, which must leave its parent's session alone); no x bit and
#     directories give EACCES;
#   - #! scripts on /dafs with a local interpreter and with one on /dafs;
#   - dlopen and dlmopen of a library cc built onto /dafs
#     (shim/tests/dlopen_demo.c);
#   - O_TMPFILE and linkat by AT_EMPTY_PATH and /proc/self/fd/N, O_EXCL, and
#     files removed while open, by this program and by another one with its
#     own session, read, written and fstat'ed afterwards
#     (shim/tests/tmpfile_unlink.c);
#   - tmpfile(3) with P_tmpdir on DAFS (shim/tests/tmpfile_stdio.c).

load helpers
load shim_helpers

setup() {
  LOCAL=$BATS_TEST_TMPDIR/local
  mkdir -p "$LOCAL"
  start_server "$SHIM_TRANSPORT"
  # Prints its arguments and leaves with status 3.
  printf '%s\n' '#include <stdio.h>' \
    'int main(int argc, char **argv) { printf("prog:"); for (int i = 1; i < argc; i++)' \
    '  printf(" %s", argv[i]); printf("\n"); return 3; }' >"$BATS_TEST_TMPDIR/prog.c"
  printf 'int answer(void) { return 42; }\n' >"$BATS_TEST_TMPDIR/answer.c"
}

@test "exec: cc builds a program onto /dafs; it runs by path, after cd, from PATH" {
  same_on_both "mkdir d && cc -o d/prog $BATS_TEST_TMPDIR/prog.c && ls -l d | awk '{print \$1, \$NF}';
                d/prog one two; echo \"status \$?\";
                \$R/d/prog three; echo \"status \$?\";
                (cd d && ./prog four; echo \"status \$?\");
                PATH=\$R/d:\$PATH prog five; echo \"status \$?\";
                PATH=\$R/d:\$PATH env prog six; echo \"status \$?\";
                env d/prog seven; echo \"status \$?\";
                PATH=\$R/d:\$PATH /usr/bin/python3 -c 'import os; p = os.posix_spawnp(\"prog\", [\"prog\", \"eight\"], os.environ); print(os.waitpid(p, 0)[1] >> 8)';
                /usr/bin/python3 -c 'import os; p = os.posix_spawn(\"d/prog\", [\"d/prog\", \"nine\"], os.environ); print(os.waitpid(p, 0)[1] >> 8)';
                /usr/bin/python3 -c 'import os, subprocess; print(os.listdir(\"d\"), subprocess.run([\"d/prog\", \"ten\"]).returncode, os.listdir(\"d\"))';
                /usr/bin/perl -e 'system(\"d/prog\", \"eleven\"); print \$? >> 8, \"\\n\"';
                /usr/bin/python3 -c 'import os; print(os.system(\"d/prog twelve\") >> 8)';
                /usr/bin/python3 -c 'import os; f = os.popen(\"d/prog thirteen\"); print(f.read().strip(), f.close() >> 8)'"
}

@test "exec: no x bit, a directory, not a program: the local errors" {
  same_on_both "cc -o p $BATS_TEST_TMPDIR/prog.c && chmod 644 p && ./p; echo \"status \$?\";
                env ./p; echo \"status \$?\";
                printf '#!/bin/sh\necho hi\n' > nox && ./nox; echo \"status \$?\";
                mkdir dd; env ./dd; echo \"status \$?\";
                printf 'echo no interpreter line: \$0\n' > plain && chmod +x plain && ./plain; echo \"status \$?\";
                env ./plain; echo \"status \$?\";
                /usr/bin/python3 -c 'import os
try: os.execv(\"./p\", [\"p\"])
except OSError as e: print(\"execv:\", e.strerror)
try: os.posix_spawn(\"./p\", [\"p\"], {})
except OSError as e: print(\"posix_spawn:\", e.strerror)
try: os.execv(\"./missing\", [\"p\"])
except OSError as e: print(\"execv:\", e.strerror)'"
}

@test "exec: #! scripts on /dafs, with a local interpreter and with one on /dafs" {
  local dir out
  for dir in "$LOCAL" "$EXPORT"; do
    mkdir -p "$dir/bin" "$dir/s"
    cp /bin/dash "$dir/bin/mysh"
    printf '#!/bin/sh\necho "local sh: $0 $*"\n' >"$dir/s/local.sh"
    printf '#!%s/bin/mysh -u\necho "their sh: $0 $*"; echo "$unset_var"\n' \
      "${dir/$EXPORT//dafs}" >"$dir/s/theirs.sh"
    printf '#!/usr/bin/python3\nimport sys; print("python:", sys.argv)\n' >"$dir/s/py"
    chmod +x "$dir/s/local.sh" "$dir/s/theirs.sh" "$dir/s/py"
  done
  run bash -c "cd $LOCAL/s && ./local.sh a 'b c'; $LOCAL/s/local.sh; ./theirs.sh x; echo \"status \$?\"; ./py 1 2"
  out=${output//$LOCAL//dafs}
  run shimmed bash -c "cd /dafs/s && ./local.sh a 'b c'; /dafs/s/local.sh; ./theirs.sh x; echo \"status \$?\"; ./py 1 2"
  assert_output "$out"
  # The interpreter on /dafs ran (-u made the unset variable an error).
  assert_output --partial 'their sh: ./theirs.sh x'
  assert_output --partial 'unset_var'
}

@test "exec: dlopen and dlmopen of a library cc built onto /dafs" {
  test_program dlopen_demo
  local want
  cc -shared -fPIC -o "$LOCAL/libanswer.so" "$BATS_TEST_TMPDIR/answer.c"
  run "$TEST_PROGRAM" "$LOCAL/libanswer.so"
  assert_success
  want=$output
  assert_output --partial 'dlopen: answer 42'
  run shimmed bash -c "mkdir /dafs/lib && cc -shared -fPIC -o /dafs/lib/libanswer.so $BATS_TEST_TMPDIR/answer.c &&
                       $TEST_PROGRAM /dafs/lib/libanswer.so && cd /dafs && $TEST_PROGRAM lib/libanswer.so"
  assert_success
  assert_output "$want"$'\n'"$want"
  cmp "$LOCAL/libanswer.so" "$EXPORT/lib/libanswer.so"
  # A program's dlopen by name still searches the program's own RUNPATH:
  # the wrapper keeps the caller's return address for the real dlopen. Not
  # with the sanitizer runtimes preloaded: ASan's own dlopen interceptor
  # already loses it, shim or not.
  [ -z "$SHIM_RUNTIME" ] || return 0
  printf '%s\n' '#include <dlfcn.h>' '#include <stdio.h>' \
    'int main(void) { puts(dlopen("libanswer.so", RTLD_NOW) ? "found" : dlerror()); }' \
    >"$BATS_TEST_TMPDIR/runpath.c"
  cc -o "$BATS_TEST_TMPDIR/runpath" "$BATS_TEST_TMPDIR/runpath.c" -Wl,--enable-new-dtags \
    -Wl,-rpath,"$LOCAL"
  run shimmed "$BATS_TEST_TMPDIR/runpath"
  assert_output found
}

# tmpfile_unlink MODE on $LOCAL and on /dafs: the same lines (the caller
# then compares the trees with same_trees, which replaces $output).
same_tmpfile_unlink() {
  local want
  test_program tmpfile_unlink
  run "$TEST_PROGRAM" "$LOCAL" "$1"
  assert_success
  want=$output
  run shimmed "$TEST_PROGRAM" /dafs "$1"
  assert_success
  assert_output "$want"
}

@test "tmpfile: O_TMPFILE, linkat by AT_EMPTY_PATH and /proc/self/fd, O_EXCL, bad flags" {
  same_tmpfile_unlink tmpfile
  assert_output --partial 'tmpfile: size 7 nlink 0 mode 640'
  assert_output --partial 'named1: size 8 nlink 1 mode 640'
  same_trees
}

@test "unlinked: a file removed while open, by this program or another, stays usable" {
  same_tmpfile_unlink unlinked
  assert_output --partial "open after their unlink: size 10 nlink 0 mode 644 data 'mine+still'"
  assert_output --partial "holder after write: size 12 nlink 0 mode 644 data 'held+held on'"
  same_trees
}

@test "unlinked: a forked child cannot reach a removed file (known limit), and says so" {
  test_program tmpfile_unlink
  run "$TEST_PROGRAM" "$LOCAL" forked
  assert_success
  assert_output --partial "child: size 6 nlink 0 mode 644 data 'parent'"
  # The child reopens the file by path in its own session: the name is gone.
  run shimmed env DAFS_DEBUG=1 "$TEST_PROGRAM" /dafs forked
  assert_success
  assert_output --partial 'child: ENOENT'
  assert_output --partial 'reopening /dafs/forked failed'
  assert_output --partial "parent after child: size 6 nlink 0 mode 644 data 'parent'"
}

@test "tmpfile: tmpfile(3) and tmpfile64 in a P_tmpdir on DAFS (prefix /tmp) are unnamed files, as locally" {
  test_program tmpfile_stdio
  run "$TEST_PROGRAM"
  assert_success
  local want=$output
  assert_output --partial 'tmpfile: size 6 nlink 0 mode 600'
  run shimmed env DAFS_MOUNT=/tmp "$TEST_PROGRAM"
  assert_success
  assert_output "$want"
  # Nothing named in the export, whose root is then /tmp.
  assert_equal "$(ls -A "$EXPORT")" ""
}
