#!/usr/bin/env bats
# programs.bats — the real-program comparison suite (issue 10, point 6):
# everyday programs a developer runs on a shared directory, each script run
# once in a fresh local directory and once in a fresh directory under /dafs
# through the shim, compared byte for byte: output (each side's directory
# spelled $D), exit status, and the resulting tree with modes, owners, link
# counts, contents, link targets, extended attributes and the modification
# times the script defined (bats/compare.bash says how). The scripts run
# with bats/programs-env.sh sourced: a fixed environment (C locale, UTC,
# umask 022, a fixed git identity and dates); tests that start from the
# fixture tree ./src (programs-env.sh's mk_src) have it written on both sides
# directly first (with_src), so each test's time goes to the programs it is
# about (every process that touches /dafs pays the shim's start-up).
#
# What the scripts normalise themselves, and why:
#   - directory order: readdir order is the file system's business, so
#     listings that print it unsorted (find, os.walk, du -a) are sorted; ls
#     sorts by itself;
#   - names chosen at random (mktemp, tempfile) are renamed or not printed;
#   - numbers the file system chooses (inode numbers, blocks, free space,
#     directory sizes) are never printed.
#
# Run a family with bats -f, e.g. `DAFS_BUILD=build bats -f '^git' bats/programs.bats`.

load helpers
load shim_helpers
load compare
bats_require_minimum_version 1.5.0

setup_file() {
  compare_setup_file
}

teardown_file() {
  compare_teardown_file
}

setup() {
  compare_setup
}

teardown() {
  compare_teardown
}

# ---- the harness itself -------------------------------------------------------

# Each kind of difference fails the comparison: a script that behaves
# differently on /dafs ($D starts with /dafs there) must not pass.
@test "harness: differences in output, status, tree and defined times are caught" {
  local diff
  for diff in 'echo dafs' 'exit 3' 'touch extra' 'chmod 600 src/lines.txt' 'echo x >>src/empty' \
              'touch -d @1000000001 src/lines.txt' 'ln -sfn sub src/link-to-lines' 'touch src/lines.txt' \
              'touch "$OLDPWD/leaked"'; do
    rm -rf "$WORK_LOCAL" "$WORK_EXPORT" && mkdir -p "$WORK_LOCAL" "$WORK_EXPORT"
    with_src
    run same_run "case \$D in /dafs/*) $diff ;; esac"
    [ "$status" -ne 0 ] || fail "the comparison missed: $diff"
  done
  rm -rf "$WORK_LOCAL" "$WORK_EXPORT" && mkdir -p "$WORK_LOCAL" "$WORK_EXPORT"
  with_src
  same_run 'case $D in /dafs/*) ;; esac; cat src/lines.txt'
}

# ---- coreutils ---------------------------------------------------------------

@test "coreutils: cp of single files, cp -p keeps mode and times" {
  with_src
  same_run <<'EOF'
cp src/lines.txt plain.txt && cp src/run.sh plain-run.sh && cp src/private plain-private
cp -p src/lines.txt src/run.sh src/private src/bin.dat .
cp src/lines.txt src/sub/ && cp -v src/empty empty-copy
cp nope x; echo "status $?"
cp src/sub x; echo "status $?"
EOF
}

@test "coreutils: cp -r copies a tree with new times" {
  with_src
  same_run 'cp -r src dst && cp -r src dst && ls dst dst/src | head -n 30'
}

@test "coreutils: cp -a keeps modes, times, links and symlinks" {
  with_src
  same_run 'cp -a src dst && cp -a src/sub/. dst2'
}

@test "coreutils: cp -P, -L, -l, -s, -u, --backup" {
  with_src
  same_run <<'EOF'
cp -P src/link-to-lines p-link && cp -L src/link-to-lines l-file && cp -l src/lines.txt hard
(cd src && cp -s lines.txt sym-here) && readlink src/sym-here
printf 'new\n' >newer && touch -d @1100000000 newer
cp -u src/lines.txt newer; cat newer
cp --backup=numbered src/lines.txt newer && cp --backup=numbered src/sub/fruit.txt newer && ls newer*
EOF
}

@test "coreutils: mv files and directories, onto existing names, errors" {
  with_src
  same_run <<'EOF'
mv src/lines.txt moved.txt && mv src/sub sub2 && mv src/bin.dat sub2/deep/
mv -v src/empty . && mv -f src/private sub2/fruit.txt && mv -b moved.txt src/run.sh
mkdir target && mv sub2 target/ && mv src/empty-dir target/sub2/deep/
mv nope x; echo "status $?"
mv target target/inside; echo "status $?"
mkdir full && touch full/f && mkdir d && mv d full/../target/sub2; echo "status $?"
EOF
}

@test "coreutils: ln, ln -s, ln -sf, ln -sfn, readlink" {
  with_src
  same_run <<'EOF'
ln -s src/lines.txt s1 && ln -s nowhere s2 && ln -s src s3 && ln src/lines.txt h1
readlink s1 s2 s3; cat s1; ls s3/ | head -n 3
ln -s x s1; echo "status $?"
ln -sf src/sub/fruit.txt s1 && readlink s1
ln -sfn src/sub s3 && readlink s3
ln src/sub h2; echo "status $?"
stat -c '%h %n' h1 src/lines.txt
ln -s s4 s4 && cat s4; echo "status $?"
EOF
}

@test "coreutils: install -m, -d, -D, -p" {
  with_src
  same_run <<'EOF'
install -m 640 src/lines.txt a && install -d -m 700 d1/d2 && install -D -m 755 src/run.sh bin/x/run
install -p -m 444 src/sub/fruit.txt kept && install -m 600 src/bin.dat a
install src/nope b; echo "status $?"
stat -c '%a %n' a d1 d1/d2 bin bin/x bin/x/run kept
EOF
}

@test "coreutils: mktemp files and directories" {
  same_run <<'EOF'
t=$(mktemp tmp.XXXXXX) && d=$(mktemp -d dir.XXXXXXXX) && p=$(mktemp -p "$PWD" in.XXXX) &&
echo "${#t} ${#d} ${p#$PWD/}" | sed 's/in\.[A-Za-z0-9]*/in.rnd/'
stat -c '%a %F %s' "$t" "$d" "$p"
echo data >"$t" && mv "$t" file && mv "$d" dir && mv "$p" dir/inner
mktemp nox; echo "status $?"
t=$(mktemp -u u.XXXX) && test ! -e "$t" && echo unused
EOF
}

@test "coreutils: split and csplit" {
  with_src
  same_run <<'EOF'
split -b 20000 src/sub/deep/big.txt part. && split -l 2 src/lines.txt l- && split -n 3 -d src/sub/fruit.txt n
ls && cat part.* | cmp - src/sub/deep/big.txt && wc -c part.*
csplit -s -f cs src/lines.txt 3 '/five/' && head cs*
EOF
}

@test "coreutils: sort -o onto its own input, sort -u, -m" {
  with_src
  same_run <<'EOF'
sort -o src/sub/fruit.txt src/sub/fruit.txt && cat src/sub/fruit.txt
sort -u -r -o u.txt src/sub/fruit.txt src/lines.txt && cat u.txt
sort -m src/sub/fruit.txt u.txt >m.txt && wc -l m.txt
sort -o /nonexistent/x src/lines.txt; echo "status $?"
EOF
}

@test "coreutils: touch -d, -t, -r, -m, -a, -c, -h" {
  with_src
  same_run <<'EOF'
touch new && touch -d '2001-02-03 04:05:06.5 UTC' new src/lines.txt && touch -t 199912312359.59 t
touch -r src/lines.txt ref && touch -m -d @123456789 src/sub && touch -a -d @987654321 ref
touch -h -d @222222222 src/link-to-lines && touch -c nope; ls nope; echo "status $?"
stat -c '%n %X %Y %y' new t ref src/sub src/link-to-lines src/lines.txt
EOF
}

@test "coreutils: chmod -R, symbolic and octal modes" {
  with_src
  same_run <<'EOF'
chmod -R go-rwx src && chmod -R u+rwX,g+rX src/sub && chmod 4755 src/run.sh && chmod 1777 src/empty-dir
chmod a=r src/lines.txt && chmod --reference=src/private src/bin.dat && chmod 640 src/link-to-lines
chmod -v 600 src/empty; chmod 644 nope; echo "status $?"
find src -printf '%m %p\n' | sort
EOF
}

@test "coreutils: chown and chgrp to other ids" {
  with_src
  same_run <<'EOF'
chown 1234:5678 src/lines.txt && chgrp 99 src/sub && chown -R 4321 src/sub/deep && chown -h 77 src/link-to-lines
stat -c '%u %g %n' src/lines.txt src/sub src/sub/deep src/sub/deep/big.txt src/link-to-lines
chown nobodyxyz src/empty; echo "status $?"
EOF
}

@test "coreutils: du apparent sizes, df succeeds" {
  with_src
  same_run <<'EOF'
du -ab src | grep -v -E '\s(src|src/sub|src/sub/deep|src/empty-dir)$' | sort -k2; du -ab src/bin.dat src/lines.txt
du -s --apparent-size -b src/sub/deep/big.txt src/empty
df . >/dev/null && echo df ok; df -P "$PWD" >/dev/null && echo df path ok
stat -f -c %S . >/dev/null && echo statfs ok
EOF
}

@test "coreutils: stat formats of every type" {
  with_src
  same_run <<'EOF'
stat -c '%n|%s|%a|%A|%F|%h|%u|%g|%Y|%y' src/lines.txt src/run.sh src/private src/empty src/link-to-lines src/hard-lines
stat -L -c '%n|%s|%F' src/link-to-lines src/sub/up-link
stat -c '%n|%a|%F' src src/sub/deep src/empty-dir
stat nope; echo "status $?"
EOF
}

@test "coreutils: dd with seek, skip, notrunc, sparse files" {
  with_src
  same_run <<'EOF'
dd if=src/sub/deep/big.txt of=d1 bs=4k status=none && dd if=src/lines.txt of=d1 bs=3 seek=2 conv=notrunc status=none
dd if=src/sub/deep/big.txt of=d2 bs=1000 skip=5 count=7 status=none && dd of=sparse bs=1 seek=1M count=0 status=none
dd if=src/lines.txt of=sparse bs=1 seek=500000 conv=notrunc status=none
dd if=d1 bs=1 count=20 status=none | od -c | head -n 2; od -An -c -j 500000 -N 5 sparse
dd if=nope of=x status=none; echo "status $?"
EOF
}

@test "coreutils: truncate and fallocate" {
  with_src
  same_run <<'EOF'
truncate -s 10000 src/lines.txt && truncate -s 5 src/sub/fruit.txt && truncate -s +3 src/bin.dat && truncate -s 4k new
truncate -s -10 src/sub/deep/big.txt && truncate -c -s 7 nope && truncate -s %4096 src/empty
fallocate -l 65536 alloc && stat -c '%s %n' alloc src/lines.txt src/sub/fruit.txt src/bin.dat new src/empty
truncate -s 1 src/sub; echo "status $?"
EOF
}

@test "coreutils: tee, tee -a, redirections" {
  same_run <<'EOF'
seq 1 100 | tee a b >/dev/null && echo more | tee -a a && tail -n 2 a && wc -l b
echo one >c && echo two >>c && cat c && set -C && { echo three >c; echo "status $?"; } && set +C
exec 3<>rw && echo hello >&3 && exec 3>&- && cat rw
cat <<HERE >here
a here-document
HERE
cat here; echo x | tee /nonexistent/t; echo "status $?"
EOF
}

@test "coreutils: head, tail, wc, cat, nl, tac" {
  with_src
  same_run <<'EOF'
head -n 2 src/lines.txt; head -c 7 src/sub/deep/big.txt; echo; head -n -3 src/lines.txt; tail -n 2 src/sub/fruit.txt
tail -c +5 src/bin.dat | od -c; tail -n +4 src/lines.txt; wc src/lines.txt src/sub/fruit.txt src/sub/deep/big.txt
cat src/lines.txt src/empty src/sub/fruit.txt >cat.out && nl cat.out | tail -n 3 && tac src/lines.txt >tac.out
cat nope; echo "status $?"
EOF
}

@test "coreutils: md5sum, sha256sum, -c checks" {
  with_src
  same_run <<'EOF'
md5sum src/lines.txt src/bin.dat src/empty src/sub/deep/big.txt >sums.md5 && cat sums.md5
sha256sum src/sub/fruit.txt | tee sums.sha && md5sum -c sums.md5 && sha256sum -c sums.sha
echo changed >>src/lines.txt; md5sum -c sums.md5; echo "status $?"
EOF
}

@test "coreutils: mkdir -p -m, rmdir, rm -r, rm -f and their errors" {
  with_src
  same_run <<'EOF'
mkdir -p a/b/c && mkdir -m 711 m && mkdir -p a/b && stat -c '%a %n' a/b/c m
mkdir a; echo "status $?"; rmdir src/sub; echo "status $?"; rmdir src/empty-dir a/b/c
rm -r src/sub && rm -f nope && rm src/empty && rm nope; echo "status $?"
rm -rf a; rm src; echo "status $?"; rm -d m && ls
EOF
}

@test "coreutils: ls -l, ls -R, ls -a with numeric ids and full times" {
  with_src
  same_run <<'EOF'
ls -lnR --time-style=full-iso src | grep -v '^total' | awk '$1 ~ /^d/ { $5 = "-" } { print }'
ls -a src; ls -d src/*; ls -F src; ls nope; echo "status $?"
EOF
}

@test "coreutils: realpath and readlink -f" {
  with_src
  same_run <<'EOF'
realpath src/link-to-lines src/sub/up-link src/sub/../lines.txt .
readlink -f src/sub/up-link; realpath -m src/nope/x; realpath -s src/link-to-lines; realpath --relative-to=src/sub src/lines.txt
realpath src/nope/x; echo "status $?"
realpath "$D/src/link-to-lines" "$D"; readlink -f "$D/src/sub/up-link"
EOF
}

@test "coreutils: ln -r and cp --parents" {
  with_src
  same_run <<'EOF'
ln -r -s src/sub/fruit.txt rel && readlink rel && cp --parents src/sub/fruit.txt src/lines.txt dst -r 2>&1 || true
mkdir dst2 && cp --parents src/sub/fruit.txt dst2 && find dst2 | sort
EOF
}

@test "coreutils: cd, pwd, relative paths and pushd" {
  with_src
  same_run <<'EOF'
cd src/sub && pwd && cat ../lines.txt | head -n 1 && cd deep && pwd -P && ls ../../ | head -n 3
cd "$D" && pushd src/sub >/dev/null && pwd && popd >/dev/null && pwd
cd src/nope; echo "status $?"; cd ./src/../src/sub/./deep && pwd
EOF
}

@test "coreutils: mkfifo and mknod" {
  same_run <<'EOF'
mkfifo fifo && stat -c '%F %a' fifo; mkfifo fifo; echo "status $?"
mknod p p && stat -c '%F' p
EOF
}

@test "coreutils: shred -u, sync -f" {
  with_src
  same_run <<'EOF'
shred -u src/private && sync -f src/lines.txt && sync src/lines.txt && echo synced
EOF
}

@test "known limit: a file removed while open cannot be read by a child the descriptor is passed to" {
  with_src
  known_limit 'cat: -: No such file or directory
status 1' <<'EOF'
exec 4<src/sub/fruit.txt && rm src/sub/fruit.txt && cat <&4 && exec 4<&-
EOF
}

@test "coreutils: sort with its temporary files in the directory (-S, -T .)" {
  same_run <<'EOF'
seq 1 30000 | sed 's/$/ line/' | sort -R --random-source=/dev/zero >shuffled
sort -n -S 64k -T . -o sorted shuffled && head -n 2 sorted && tail -n 1 sorted && sort -c -n sorted && echo in order
sort -u -S 16k -T . --compress-program=gzip shuffled | wc -l; ls
EOF
}

@test "coreutils: dd oflag=direct, oflag=append, conv=fsync,fdatasync" {
  with_src
  same_run <<'EOF'
dd if=src/sub/deep/big.txt of=direct bs=4096 count=8 oflag=direct status=none; echo "status $?"
dd if=src/lines.txt of=direct oflag=append conv=notrunc status=none && dd if=src/lines.txt of=synced conv=fsync status=none &&
dd if=src/lines.txt of=dsynced conv=fdatasync oflag=dsync status=none && dd if=direct bs=4096 iflag=direct status=none | wc -c
EOF
}

# ---- findutils -----------------------------------------------------------------

@test "findutils: find -type, -name, -perm, -size, -empty, -printf" {
  with_src
  same_run <<'EOF'
find src | sort; find src -type f -name '*.txt' | sort; find src -type l | sort; find src -perm -u+x -type f
find src -size +1k; find src -empty | sort; find src -maxdepth 1 -type d | sort
find src -printf '%y %m %s %P %l\n' | grep -v '^d' | sort; find nope; echo "status $?"
EOF
}

@test "findutils: find -newer, -mtime, -exec, -execdir, -delete" {
  with_src
  same_run <<'EOF'
touch -d @1200000000 src/sub/fruit.txt src/bin.dat && touch -d @1100000000 stamp
find src -newer stamp | sort; find src -mtime -1 | sort; find src ! -newer stamp -type f | sort
find src -name '*.txt' -exec wc -c {} + | sort; find src -type f -exec echo x {} \; | sort
find src -type f -name fruit.txt -execdir pwd \; | sed "s|$D|D|"
find src -name '*.dat' -delete && find src/sub -depth -type d | sort
EOF
}

@test "findutils: xargs, -0, -I, -n" {
  with_src
  same_run <<'EOF'
find src -type f -print0 | sort -z | xargs -0 md5sum
find src -name '*.txt' | sort | xargs -I{} cp {} {}.bak && ls src/*.bak src/sub/*.bak
printf 'a\nb\nc\n' | xargs -n 1 touch && ls a b c && echo a b c | xargs rm && ls a; echo "status $?"
EOF
}

# ---- diffutils ---------------------------------------------------------------

@test "diffutils: diff -r, diff -u, cmp" {
  with_src
  same_run <<'EOF'
cp -r src copy && echo six >>copy/lines.txt && rm copy/empty && echo extra >copy/sub/new
diff -r src copy; echo "status $?"
diff -u src/lines.txt copy/lines.txt | sed 1,2d; diff -q src/bin.dat copy/bin.dat && echo same
cmp src/lines.txt copy/lines.txt; echo "status $?"; cmp -l src/bin.dat copy/bin.dat; cmp src/lines.txt src/sub/fruit.txt; echo "status $?"
diff -r src nope; echo "status $?"
EOF
}

# ---- sed ---------------------------------------------------------------------

@test "sed: -n, -e, w files, s///g to stdout" {
  with_src
  same_run <<'EOF'
sed -n '2,4p' src/lines.txt; sed -e 's/a/A/g' -e '/fig/d' src/sub/fruit.txt
sed -n '/an/w matches' src/sub/fruit.txt && cat matches && sed 's/o/0/2' src/lines.txt >out.txt
sed p nope; echo "status $?"
EOF
}

@test "sed: -i edits in place, -i.bak keeps a backup" {
  with_src
  same_run <<'EOF'
sed -i 's/two/TWO/' src/lines.txt && cat src/lines.txt
sed -i.bak '/apple/d' src/sub/fruit.txt && cat src/sub/fruit.txt src/sub/fruit.txt.bak
stat -c '%a %n' src/private && sed -i 's/secret/public/' src/private && stat -c '%a %n' src/private
EOF
}

# ---- gawk --------------------------------------------------------------------

@test "gawk: output redirection, getline from files, system()" {
  with_src
  same_run <<'EOF'
gawk '{ print > (substr($1, 1, 1) ".out") } END { close("a.out"); while ((getline l < "a.out") > 0) print "got", l }' src/sub/fruit.txt
gawk 'BEGIN { system("ls *.out"); print "x" >> "a.out" } FNR == 1 { print FILENAME }' src/lines.txt src/sub/fruit.txt
gawk '{ n += length($0) } END { print n, NR }' src/sub/deep/big.txt; gawk 1 nope; echo "status $?"
EOF
}

@test "gawk: -i inplace" {
  with_src
  same_run <<'EOF'
gawk -i inplace '{ print NR ": " $0 }' src/lines.txt && cat src/lines.txt
EOF
}

# ---- perl --------------------------------------------------------------------

@test "perl: -pe, -ne, open, rename, unlink, opendir, stat" {
  with_src
  same_run <<'EOF'
perl -pe 's/e/E/g' src/lines.txt >upper.txt && perl -ne 'print if /an/' src/sub/fruit.txt
perl -e 'open(my $f, ">", "w.txt") or die $!; print $f "x" x 100; close $f;
  rename("w.txt", "r.txt") or die $!; unlink("src/empty") or die $!;
  opendir(my $d, "src") or die; print join(" ", sort grep { !/^\./ } readdir $d), "\n";
  my @s = stat("r.txt"); printf "%o %d\n", $s[2] & 07777, $s[7];
  utime(1000, 2000, "r.txt") or die; chmod(0600, "r.txt") or die; symlink("r.txt", "sl") or die;
  print readlink("sl"), "\n"; mkdir("pd", 0700) or die; rmdir("src/empty-dir") or die;
  open(my $g, "<", "nope") or print "error: $!\n";'
EOF
}

@test "perl: -i edits in place, -i.orig keeps a backup" {
  with_src
  same_run <<'EOF'
perl -i -pe 's/three/3/' src/lines.txt && cat src/lines.txt
perl -i.orig -ne 'print unless /fig/' src/sub/fruit.txt && cat src/sub/fruit.txt.orig | wc -l
EOF
}

@test "perl: File::Find, File::Copy, File::Path" {
  with_src
  same_run <<'EOF'
perl -MFile::Find -MFile::Copy -MFile::Path=make_path,remove_tree -e '
  my @found; find(sub { push @found, "$File::Find::name " . (-d $_ ? "d" : -l $_ ? "l" : "f") }, "src");
  print "$_\n" for sort @found;
  make_path("a/b/c", { mode => 0711 }); copy("src/lines.txt", "a/b/c/copy") or die $!;
  move("a/b/c/copy", "a/moved") or die $!; remove_tree("src/sub"); print -e "src/sub" ? "left\n" : "gone\n";'
EOF
}

@test "perl: File::Temp tempfile and tempdir in the directory" {
  same_run <<'EOF'
perl -MFile::Temp=tempfile,tempdir -e '
  my ($fh, $name) = tempfile("tmpXXXXXX", DIR => ".", UNLINK => 0); print $fh "temp data\n"; close $fh;
  rename($name, "kept") or die $!;
  my $dir = tempdir("dXXXXXX", DIR => ".", CLEANUP => 0); open(my $g, ">", "$dir/f") or die; close $g;
  rename($dir, "kept-dir") or die $!;
  { my $t = File::Temp->new(DIR => "."); print $t "gone"; }
  printf "%o\n", (stat "kept")[2] & 07777;'
EOF
}

# ---- python3 -----------------------------------------------------------------

@test "python3: tempfile in the directory" {
  same_run <<'EOF'
$PY - <<'PYEOF'
import os, tempfile
fd, name = tempfile.mkstemp(dir=".", prefix="t", suffix=".tmp")
os.write(fd, b"mkstemp\n"); os.close(fd); os.replace(name, "from-mkstemp")
with tempfile.NamedTemporaryFile(dir=".", delete=False) as f:
    f.write(b"named\n")
os.rename(f.name, "from-named")
with tempfile.NamedTemporaryFile(dir=".") as f:
    f.write(b"gone\n"); f.flush(); print(os.path.exists(f.name))
with tempfile.TemporaryDirectory(dir=".") as d:
    open(os.path.join(d, "x"), "w").write("x"); os.makedirs(os.path.join(d, "a/b"))
print(os.path.exists(d), oct(os.stat("from-mkstemp").st_mode & 0o7777))
d = tempfile.mkdtemp(dir="."); os.rename(d, "from-mkdtemp"); print(oct(os.stat("from-mkdtemp").st_mode & 0o7777))
with tempfile.SpooledTemporaryFile(max_size=10, dir=".") as f:
    f.write(b"x" * 100); f.seek(0); print(len(f.read()))
PYEOF
EOF
}

@test "python3: shutil copytree, copy2, move, rmtree" {
  with_src
  same_run <<'EOF'
$PY - <<'PYEOF'
import os, shutil
shutil.copytree("src", "tree", symlinks=True)
shutil.copytree("src", "tree2", ignore=shutil.ignore_patterns("*.dat"))
shutil.copy2("src/lines.txt", "c2"); shutil.copy("src/run.sh", "c1"); shutil.copyfile("src/bin.dat", "cf")
shutil.move("tree2", "moved"); shutil.move("c1", "moved/c1")
shutil.rmtree("tree/sub"); print(sorted(os.listdir("tree")))
shutil.copymode("src/private", "cf"); shutil.copystat("src/lines.txt", "moved/c1")
print(shutil.disk_usage(".").total > 0)
try:
    shutil.rmtree("nope")
except FileNotFoundError as e:
    print("error", e.errno)
PYEOF
EOF
}

@test "python3: os.walk, scandir, stat, utime, chmod, links" {
  with_src
  same_run <<'EOF'
$PY - <<'PYEOF'
import os
for top, dirs, files in sorted(os.walk("src")):
    print(top, sorted(dirs), sorted(files))
for top, dirs, files in sorted(os.walk("src", followlinks=True, topdown=False)):
    print(top, len(dirs), len(files))
print(sorted((e.name, e.is_dir(), e.is_symlink(), e.is_file()) for e in os.scandir("src")))
st = os.stat("src/lines.txt"); print(st.st_size, oct(st.st_mode), st.st_nlink, st.st_mtime_ns)
print(os.lstat("src/link-to-lines").st_size, os.readlink("src/link-to-lines"), os.path.realpath("src/sub/up-link").endswith("src/lines.txt"))
os.utime("src/empty", ns=(1, 1234567890123456789)); print(os.stat("src/empty").st_mtime_ns)
os.utime("src/link-to-lines", (5, 6), follow_symlinks=False); print(os.lstat("src/link-to-lines").st_mtime)
os.chmod("src/bin.dat", 0o604); os.link("src/bin.dat", "hl"); os.symlink("src/bin.dat", "sl")
os.truncate("src/sub/fruit.txt", 3); os.mkdir("m", 0o750); os.makedirs("n/o/p")
fd = os.open("w", os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o640); os.write(fd, b"abc"); os.fsync(fd); os.close(fd)
try:
    os.open("w", os.O_WRONLY | os.O_CREAT | os.O_EXCL)
except FileExistsError as e:
    print("exists", e.errno)
print(os.access("src/run.sh", os.X_OK), os.access("nope", os.F_OK), os.path.isdir("src/sub"), os.path.getmtime("src/lines.txt"))
PYEOF
EOF
}

@test "python3: write a temporary file, fsync, replace the target, dir_fd calls" {
  with_src
  same_run <<'EOF'
$PY - <<'PYEOF'
import os
with open("config.tmp", "w") as f:
    f.write("key = value\n"); f.flush(); os.fsync(f.fileno())
os.replace("config.tmp", "src/lines.txt")
dfd = os.open("src", os.O_RDONLY | os.O_DIRECTORY); os.fsync(dfd)
print(sorted(os.listdir(dfd))); os.rename("lines.txt", "renamed", src_dir_fd=dfd, dst_dir_fd=dfd)
os.mkdir("made", dir_fd=dfd); os.unlink("empty", dir_fd=dfd); print(os.stat("renamed", dir_fd=dfd).st_size)
os.close(dfd)
print(open("src/renamed").read(), end="")
PYEOF
EOF
}

@test "python3: flock and lockf on one descriptor (independent locks on Linux)" {
  same_run <<'EOF'
$PY - <<'PYEOF'
import fcntl
with open("lock", "w") as f:
    fcntl.flock(f, fcntl.LOCK_EX); fcntl.lockf(f, fcntl.LOCK_EX | fcntl.LOCK_NB, 10, 0)
    print("both locked"); fcntl.flock(f, fcntl.LOCK_UN); fcntl.lockf(f, fcntl.LOCK_UN)
PYEOF
EOF
}

@test "python3: venv creation and its interpreter" {
  same_run <<'EOF'
$PY -m venv --without-pip venv && ls venv venv/bin | sort
grep -rl "$D" venv | sort
venv/bin/python -c 'import sys; print(sys.prefix == sys.base_prefix)'
# The absolute path in pyvenv.cfg and the activate scripts is the directory's own.
$PY - <<'PYEOF'
import os
for top, dirs, files in os.walk("venv"):
    for name in files:
        p = os.path.join(top, name)
        if not os.path.islink(p):
            data = open(p, "rb").read()
            open(p, "wb").write(data.replace(os.getcwd().encode(), b"@D@"))
PYEOF
EOF
}

@test "python3: compileall, py_compile and zipfile in the directory" {
  same_run <<'EOF'
mkdir -p pkg && printf 'def f():\n    return 42\n' >pkg/mod.py && printf '' >pkg/__init__.py &&
touch -d @1000000000 pkg/mod.py pkg/__init__.py
$PY -m compileall -q pkg && ls pkg/__pycache__ | sort
$PY -c 'import sys; sys.path.insert(0, "."); import pkg.mod; print(pkg.mod.f())'
$PY - <<'PYEOF'
import py_compile, zipfile
py_compile.compile("pkg/mod.py", cfile="mod.pyc")
with zipfile.ZipFile("a.zip", "w") as z:
    for name in ("pkg/mod.py", "pkg/__init__.py"):
        z.write(name)
with zipfile.ZipFile("a.zip") as z:
    print(z.namelist(), z.testzip()); z.extractall("unzipped")
PYEOF
EOF
}

# ---- git ---------------------------------------------------------------------

@test "git: init, add, commit, log, status" {
  with_src
  same_run <<'EOF'
git init -q -b main repo && cp -r src/. repo/ && cd repo && git add . && git commit -q -m first && git log --oneline
echo changed >>lines.txt && rm empty && echo new >new.txt && git status --short | sort
git add -A && git commit -q -m second && git log --format='%H %s' && git show --stat HEAD | tail -n 4
git diff HEAD~1 --stat | tail -n 1 && git ls-files | sort && git status --porcelain
EOF
}

@test "git: branch, checkout, merge, tag" {
  with_src
  same_run <<'EOF'
git init -q -b main repo && cp -r src/. repo/ && cd repo && git add . && git commit -q -m base
git branch feature && git checkout -q feature && echo feat >feature.txt && git add feature.txt && git commit -q -m feat
git checkout -q main && echo m >>lines.txt && git commit -q -am main-change && git tag v1
git merge -q --no-edit feature && git log --oneline --graph | cat && git branch -a && git tag
git checkout -q v1 2>&1 && ls | sort && git checkout -q main && git status --short
git checkout nope; echo "status $?"
EOF
}

@test "git: gc, fsck, count-objects, clone" {
  with_src
  same_run <<'EOF'
git init -q -b main repo && cp -r src/. repo/ && cd repo && git add . && git commit -q -m one
for i in 1 2 3; do echo $i >>lines.txt && git commit -q -am "c$i"; done
git gc -q && git fsck --no-progress && git count-objects -v | grep -E '^(count|packs|in-pack)' && cd ..
git clone -q repo clone && git -C clone log --oneline && diff -r -x .git repo clone && echo same
# The clone records its source's absolute path (each side's own) in its
# config and reflogs: compared as output above, then left out of the trees.
git -C clone config remote.origin.url ../repo && rm -r clone/.git/logs
EOF
}

@test "git: stash, reset, rm, mv" {
  with_src
  same_run <<'EOF'
git init -q -b main repo && cp -r src/. repo/ && cd repo && git add . && git commit -q -m one
echo wip >>lines.txt && git stash -q && cat lines.txt | wc -l && git stash pop -q && git diff --stat | tail -n 1
git mv lines.txt renamed.txt && git rm -q bin.dat && git commit -q -m two && git reset -q --hard HEAD~1 && ls | sort
git status --short
EOF
}

# ---- rsync -------------------------------------------------------------------

@test "rsync: -a copies a tree with modes, times and links" {
  with_src
  same_run <<'EOF'
rsync -a src/ dst/ && rsync -a src dst2 && rsync -a --itemize-changes src/ dst/
EOF
}

@test "rsync: -a --delete, -r --existing, --checksum" {
  with_src
  same_run <<'EOF'
rsync -a src/ dst/ && rm src/empty && echo changed >src/lines.txt && touch -d @1300000000 src/lines.txt && echo new >src/new
rsync -a --delete src/ dst/ && rsync -r --existing --checksum src/sub/ dst/sub/ && ls dst | sort
EOF
}

@test "rsync: -aX keeps extended attributes" {
  with_src
  same_run <<'EOF'
setfattr -n user.color -v blue src/lines.txt && setfattr -n user.empty src/sub
rsync -aX src/ dst/ && getfattr -d --absolute-names dst/lines.txt dst/sub
EOF
}

# ---- tar and compressors -----------------------------------------------------

@test "tar: c and x keep modes, times and links" {
  with_src
  same_run <<'EOF'
tar --sort=name --owner=0 --group=0 --numeric-owner -cf a.tar src && tar tvf a.tar --full-time
mkdir x && tar xf a.tar -C x && tar xpf a.tar -C x && tar cf - src/sub | tar xf - -C x --transform s/sub/piped/
tar xf nope.tar; echo "status $?"
EOF
}

@test "tar: z, J and --zstd archives" {
  with_src
  same_run <<'EOF'
tar --sort=name --mtime=@1000000000 --owner=0 --group=0 -czf a.tgz src && tar -cJf a.txz src && tar --zstd -cf a.tzst src
for a in a.tgz a.txz a.tzst; do mkdir "x-$a" && tar xf "$a" -C "x-$a"; done && tar tzf a.tgz | sort | head -n 4
gzip -dc a.tgz | md5sum
EOF
}

@test "tar: --xattrs keeps extended attributes" {
  with_src
  same_run <<'EOF'
# --sort=name and no atime/ctime records: the archive's bytes are then
# defined by the tree alone (readdir order and access times are each file
# system's own).
setfattr -n user.note -v hello src/lines.txt && tar --xattrs --sort=name --pax-option=delete=atime,delete=ctime -cf a.tar src && mkdir x && tar --xattrs -xf a.tar -C x
getfattr -d --absolute-names x/src/lines.txt
EOF
}

@test "compressors: gzip, xz and zstd keep names, modes and times" {
  with_src
  same_run <<'EOF'
gzip src/lines.txt && gzip -k -9 src/sub/deep/big.txt && xz -k src/run.sh && zstd -q src/private
ls src src/sub/deep; gunzip src/lines.txt.gz && unxz -f src/run.sh.xz && zstd -q -d -f src/private.zst
gzip -l src/sub/deep/big.txt.gz | tail -n 1 | awk '{print $1, $2}'; xz -l src/run.sh.xz | tail -n 1 | awk '{print $5}'
gzip -t src/sub/deep/big.txt.gz && zstd -q -t src/private.zst && gunzip nope.gz; echo "status $?"
EOF
}

@test "tar: --listed-incremental, then extract level 0 and 1 (the deletion too)" {
  with_src
  same_run <<'EOF'
tar --sort=name -g snap -cf level0.tar src && echo new >src/new && rm src/empty && touch -d @1300000000 src/new &&
tar --sort=name -g snap -cf level1.tar src && tar tf level1.tar | sort && mkdir out &&
tar -g /dev/null -xf level0.tar -C out && tar -g /dev/null -xf level1.tar -C out && ls out/src
# The archives hold the directories' ctimes (incremental headers): compared
# through what they list and what they extract, not byte for byte.
rm snap level0.tar level1.tar
EOF
}

# ---- make and the C compiler -------------------------------------------------

MAKE_PROJECT='mkdir proj && cd proj &&
cat >hello.c <<"C"
#include <stdio.h>
#include "greet.h"
int main(void) { greet("dafs"); return 3; }
C
cat >greet.c <<"C"
#include <stdio.h>
#include "greet.h"
void greet(const char *who) { printf("hello, %s\n", who); }
C
printf "void greet(const char *who);\n" >greet.h
printf "hello: hello.o greet.o\n\tcc -o \$@ \$^\n%%.o: %%.c greet.h\n\tcc -O0 -c -o \$@ \$<\nclean:\n\trm -f hello *.o\n" >Makefile'

@test "make: builds a C program, rebuilds what changed, nothing more" {
  same_run "$MAKE_PROJECT"'
make && make && touch -d @1000000000 hello.c && touch -d @1100000000 greet.o hello.o hello &&
touch -d @1200000000 greet.c && make && make -n clean && make clean && ls
make nothing; echo "status $?"'
}

@test "make: the program built on the directory runs from it" {
  same_run "$MAKE_PROJECT"'
make -s && ./hello; echo "status $?"; make -s clean'
}

@test "cc: compile, link and archive in the directory" {
  same_run "$MAKE_PROJECT"'
cc -c greet.c && ar rcs libgreet.a greet.o && cc -o h2 hello.c -L. -lgreet && cc -E greet.c | grep -c greet &&
rm h2 greet.o && ar t libgreet.a && rm libgreet.a'
}

# ---- patch -------------------------------------------------------------------

@test "patch: apply, reverse, backup and rejects" {
  with_src
  same_run <<'EOF'
cp -r src new && sed 's/three/THREE/' src/lines.txt >new/lines.txt && echo added >>new/sub/fruit.txt
diff -ru src new | sed "s/\t.*//" >change.patch; patch -p1 -d src <change.patch && diff -r src new && echo applied
patch -R -p1 -d src <change.patch && patch -b -p1 -d src <change.patch && ls src/*.orig src/sub/*.orig
patch -p1 -d src --dry-run <change.patch; echo "status $?"; ls src
EOF
}

# ---- sqlite3 -----------------------------------------------------------------

@test "sqlite3: WAL journal, checkpoint" {
  same_run <<'EOF'
sqlite3 w.db 'PRAGMA journal_mode=WAL; CREATE TABLE t(a, b); INSERT INTO t VALUES (1, 2), (3, 4);'
sqlite3 w.db 'INSERT INTO t SELECT a + 10, b FROM t; SELECT count(*), sum(a) FROM t; PRAGMA wal_checkpoint(TRUNCATE); PRAGMA integrity_check;'
sqlite3 w.db 'PRAGMA journal_mode;' && ls
EOF
}

@test "sqlite3: .backup, .dump, VACUUM, VACUUM INTO" {
  same_run <<'EOF'
sqlite3 d.db 'CREATE TABLE t(id INTEGER PRIMARY KEY, s TEXT); WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c WHERE x < 2000) INSERT INTO t SELECT x, printf("row %d", x) FROM c;'
sqlite3 d.db 'DELETE FROM t WHERE id % 2 = 0; VACUUM;' && sqlite3 d.db '.backup b.db' && sqlite3 b.db 'SELECT count(*) FROM t'
sqlite3 d.db "VACUUM INTO 'v.db'" && sqlite3 v.db .dump | md5sum && sqlite3 d.db .dump | md5sum && sqlite3 d.db 'PRAGMA integrity_check'
EOF
}

# ---- Berkeley DB -------------------------------------------------------------

@test "Berkeley DB: db5.3_load and db5.3_dump, btree and hash" {
  # The database files themselves hold a unique file id and never-initialised
  # page bytes (see shim_programs.bats); the dumps hold what can be read back.
  export ASAN_OPTIONS=$ASAN_OPTIONS:max_malloc_fill_size=0
  same_run <<'EOF'
for i in $(seq 1 500); do printf 'key%04d\nvalue %d\n' $i $i; done >kv.txt
db5.3_load -T -t btree -f kv.txt kv.db && db5.3_load -T -t hash -f kv.txt kh.db && db5.3_verify kv.db kh.db && echo verified
db5.3_dump -p kv.db | tail -n 4 && db5.3_dump kv.db >dump.txt && db5.3_load -f dump.txt kv2.db && db5.3_dump kv2.db | cmp - dump.txt
db5.3_dump -p kh.db | sed -n '/^ key/p' | sort | md5sum; rm kv.db kh.db kv2.db
EOF
}

# ---- locks -------------------------------------------------------------------

@test "flock: exclusive, shared, -n and -w in separate processes" {
  same_run <<'EOF'
flock lockfile -c 'echo in the lock' && flock -s lockfile echo shared
flock lockfile -c 'flock -n lockfile echo got-it; echo "status $?"; flock -w 0.2 lockfile true; echo "status $?"'
flock -s lockfile -c 'flock -s -n lockfile echo shared-too; flock -n lockfile true; echo "status $?"'
EOF
}

@test "known limit: flock: the ( flock 9; ... ) 9>file idiom: a lock on an inherited descriptor" {
  known_limit 'got-it
status 0
status 0
status 0' <<'EOF'
( flock -x 9 && flock -n lockfile echo got-it; echo "status $?" ) 9>lockfile
( flock -x 9 && flock -w 0.2 lockfile true; echo "status $?" ) 9>lockfile
EOF
}

@test "flock: a shared lock on a descriptor open for writing only" {
  same_run <<'EOF'
( flock -s 9 && echo shared on write-only ) 9>lockfile
EOF
}

# ---- shells ------------------------------------------------------------------

@test "bash: globs, noclobber, test operators" {
  with_src
  same_run <<'EOF'
echo src/*.txt src/sub/* src/nomatch*; shopt -s nullglob dotglob globstar; echo src/**/*.txt
[ -f src/lines.txt ] && [ -d src/sub ] && [ -L src/link-to-lines ] && [ -x src/run.sh ] && [ -s src/bin.dat ] && [ ! -s src/empty ] && echo tests ok
[ src/sub/fruit.txt -nt src/lines.txt ] || echo not newer; [ src/lines.txt -ef src/hard-lines ] && echo same file
for f in src/*; do [ -e "$f" ] && printf '%s ' "${f##*/}"; done; echo
EOF
}

@test "bash: a script stored on the directory runs with bash and directly" {
  with_src
  same_run <<'EOF'
bash src/run.sh && sh src/run.sh && . src/run.sh
src/run.sh; echo "status $?"
EOF
}
