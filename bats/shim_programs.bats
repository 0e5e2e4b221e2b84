#!/usr/bin/env bats
# shim_programs.bats — more unmodified programs under libdafsshim.so: each
# case runs a command once in a local directory and once in /dafs (the same
# fixture in the export) and compares output, exit status and the resulting
# trees byte for byte (same_on_both in shim_helpers.bash), or, for programs
# whose work is not a plain script (sqlite3 locking, a process killed
# mid-write), checks the export directly.
#
# What is normalised, and why:
#   - paths: same_on_both spells $LOCAL and /dafs as $R;
#   - directory order: readdir order is the file system's business, so
#     listings that print it (find, grep -r, os.walk) are sorted;
#   - times and owners: archives (tar, gzip) are made reproducible with fixed
#     mtimes (touch -d, tar --mtime) and numeric owner 0, since the fixture's
#     two copies were written at different times;
#   - inode numbers, link counts and times are never printed.

load helpers
load shim_helpers
bats_require_minimum_version 1.5.0

setup() {
  shim_fixture_setup 3000000
}

@test "programs: mv, find, grep -r" {
  same_on_both 'mv lines.txt sub/moved.txt && mv sub/deeper deeper2 && mv random.bin deeper2/ &&
                mv sub/fruit.txt sub/fruit2.txt && mv -v deeper2/empty . | sed "s/'"'"'//g";
                find . | sort; find . -type f -name "*.txt" | sort;
                find . -printf "%y %m %s %P\n" | grep -v "^d" | sort;
                find $R/sub -type f -newer $R/empty -o -type f -print | sort | wc -l;
                grep -r an . | sort; grep -rl e . | sort; grep -rc o sub | sort;
                grep -r nothing-here .; echo "status $?"'
}

@test "programs: tar cf, tar tf, tar xf, tar xf -C" {
  # --sort, --mtime and the owner make the archive's bytes reproducible.
  same_on_both 'touch -d @1000000000 lines.txt random.bin sub/fruit.txt sub/deeper/empty sub/deeper sub .;
                tar --sort=name --mtime=@1000000000 --owner=0 --group=0 --numeric-owner \
                    -cf x.tar lines.txt random.bin sub && tar tvf x.tar &&
                mkdir out out2 && tar xf x.tar -C out && tar -C out2 -xf $R/x.tar sub/fruit.txt &&
                cat out2/sub/fruit.txt && tar cf - sub | tar xf - -C out2 --transform s/sub/piped/'
  # The archive on /dafs extracted into /dafs, from outside it.
  run shimmed tar xf /dafs/x.tar -C /dafs/out3 --one-top-level
  assert_failure   # no such directory, as locally
  run shimmed bash -c 'mkdir /dafs/out3 && tar xf /dafs/x.tar -C /dafs/out3'
  assert_success
  run diff -r "$LOCAL/out" "$EXPORT/out3"
  assert_success
}

@test "programs: gzip, gunzip, zcat" {
  same_on_both 'touch -d @1000000000 lines.txt random.bin;
                gzip lines.txt && gzip -k -9 random.bin && ls | sort &&
                zcat lines.txt.gz | tail -n 2 && gzip -t random.bin.gz &&
                gunzip lines.txt.gz && rm random.bin && gunzip -c random.bin.gz > random.bin &&
                gzip -l random.bin.gz | tail -n 1 | awk "{print \$1, \$2}" &&
                gzip -d < random.bin.gz | cmp - random.bin && gunzip nope.gz; echo "status $?"'
}

@test "programs: dd bs=1M, bs=4k, conv=notrunc, skip and seek" {
  same_on_both 'dd if=random.bin of=d1 bs=1M status=none && dd if=random.bin of=d2 bs=4k status=none &&
                cmp d1 random.bin && cmp d2 random.bin &&
                dd if=lines.txt of=d1 bs=4k conv=notrunc status=none &&
                dd if=random.bin of=d2 bs=4k skip=3 seek=5 count=10 conv=notrunc status=none &&
                dd if=random.bin of=d3 bs=1M count=1 seek=2 status=none &&
                dd if=d3 bs=4k skip=1 count=2 status=none | od -An -tx1 | tail -n 1 &&
                dd if=/dev/zero of=d4 bs=4k count=3 status=none &&
                dd if=nope of=d5 status=none; echo "status $?"'
}

@test "programs: truncate, ln -s, stat, touch" {
  same_on_both 'truncate -s 10000 lines.txt && truncate -s 5 sub/fruit.txt &&
                truncate -s +3 random.bin && truncate -s 0 sub/deeper/empty && truncate -c -s 7 nope &&
                truncate -s 4k new && ls nope; echo "status $?";
                ln -s lines.txt l1 && ln -s sub/fruit.txt l2 && ln -s nowhere l3 && ln -s sub l4 &&
                readlink l1 l3 && cat l2 && ls l4/ && ln -s x l1; echo "status $?";
                stat -c "%s %F %a %n" lines.txt sub/fruit.txt new sub l1 l4;
                stat -L -c "%s %F %a %n" l1 l2 l4; stat -c %n l3/x; echo "status $?"; rm l3;
                chmod 640 new && stat -c "%a %A" new;
                touch t1 && touch -d "2001-02-03 04:05:06 UTC" t1 lines.txt && stat -c "%Y %s" t1 lines.txt &&
                touch -m -d @123456789 sub && stat -c %Y sub && touch -r t1 new && stat -c %Y new &&
                touch -a -d @987654321 new && stat -c "%X %Y" new &&
                touch -c nope2; ls nope2; echo "status $?"'
}

@test "programs: shell pipelines" {
  same_on_both 'cat lines.txt | tr a-z A-Z | sort -r > upper && cat upper | wc -l &&
                sort sub/fruit.txt | uniq | tee sorted | head -n 2 &&
                seq 1 20000 | awk "{print \$1 * 3}" > nums && tail -n 1 nums &&
                grep -c 7 < nums && cat random.bin | gzip -n -1 | gunzip | cmp - random.bin &&
                { echo a; echo b; } >> lines.txt && paste -d, lines.txt lines.txt | sed -n 5,7p &&
                xargs echo < sub/fruit.txt | tr " " "\n" | sort > xs && while read -r l; do echo "<$l>"; done < xs &&
                xargs -n 1 echo < sub/fruit.txt'
}

@test "programs: python3 os.walk, listdir, open, read, write" {
  PY=$(python3 -c 'import sys; print(sys.executable)')
  export PY
  same_on_both '$PY -c "
import os
for top, dirs, files in sorted(os.walk(\".\")):
    print(top, sorted(dirs), sorted(files))
os.makedirs(\"p/q/r\", exist_ok=True)
with open(\"p/q/r/data\", \"wb\") as f:
    for i in range(100):
        f.write(bytes([i]) * 10000)
with open(\"p/q/r/data\", \"r+b\") as f:
    f.seek(5000); f.write(b\"hello\"); f.seek(0, 2); print(f.tell())
with open(\"p/q/r/data\", \"rb\") as f:
    print(len(f.read()), f.seek(4998), f.read(9))
with open(\"lines.txt\") as f:
    print([l.strip() for l in f][1:3])
print(sorted(os.listdir(\"p/q\")), sorted(e.name for e in os.scandir(\".\")))
st = os.stat(\"p/q/r/data\"); print(st.st_size, oct(st.st_mode))
os.replace(\"p/q/r/data\", \"p/moved\"); os.rmdir(\"p/q/r\"); print(os.path.getsize(\"p/moved\"))
"'
}

@test "programs: a C++ program with std::ifstream and std::ofstream" {
  test_program streams
  export STREAMS=$TEST_PROGRAM
  same_on_both '$STREAMS'
}

@test "programs: sqlite3 creates, fills (10,000 rows in one transaction), queries, checks" {
  same_on_both 'sqlite3 db.sqlite "CREATE TABLE t(id INTEGER PRIMARY KEY, name TEXT, v REAL);
                  CREATE INDEX tv ON t(v);" &&
                { echo "BEGIN;"; for i in $(seq 1 10000); do echo "INSERT INTO t VALUES($i, '"'"'n$i'"'"', $i * 0.5);"; done;
                  echo "COMMIT;"; } | sqlite3 db.sqlite &&
                sqlite3 db.sqlite "SELECT count(*), sum(v), max(name) FROM t; SELECT * FROM t WHERE v BETWEEN 100 AND 101;
                  DELETE FROM t WHERE id % 3 = 0; UPDATE t SET name = upper(name) WHERE id < 5;
                  SELECT count(*) FROM t; SELECT name FROM t WHERE id < 5; PRAGMA integrity_check;" &&
                sqlite3 db.sqlite "VACUUM; PRAGMA integrity_check; SELECT count(*) FROM t;" && ls'
}

@test "programs: sqlite3 locking between two processes on /dafs" {
  shimmed sqlite3 /dafs/db "CREATE TABLE t(who TEXT, n INTEGER)"
  # One process holds an exclusive transaction open...
  local fifo=$BATS_TEST_TMPDIR/fifo out=$BATS_TEST_TMPDIR/holder.out
  mkfifo "$fifo"
  (LD_PRELOAD=$SHIM_PRELOAD timeout "$DAFS_CMD_TIMEOUT" sqlite3 /dafs/db <"$fifo" >"$out" 2>&1) &
  local holder=$!
  exec 7>"$fifo"
  printf "BEGIN EXCLUSIVE;\nINSERT INTO t VALUES('holder', 0);\n.shell touch %s\n" "$BATS_TEST_TMPDIR/holding" >&7
  wait_until 10 test -e "$BATS_TEST_TMPDIR/holding"
  # ...so another, with no busy timeout, is refused reads and writes,
  run shimmed sqlite3 /dafs/db "INSERT INTO t VALUES('other', 0)"
  assert_failure
  assert_output --partial "database is locked"
  run shimmed sqlite3 /dafs/db "SELECT count(*) FROM t"
  assert_failure
  assert_output --partial "database is locked"
  # and gets through once the holder commits.
  echo "COMMIT;" >&7
  exec 7>&-
  wait "$holder"
  run shimmed sqlite3 /dafs/db "INSERT INTO t VALUES('other', 0); SELECT who FROM t ORDER BY who"
  assert_success
  assert_output $'holder\nother'
  # Two writers taking turns, 100 transactions each, with a busy timeout:
  # nothing lost, nothing doubled, the file intact.
  local w
  for w in a b; do
    {
      echo ".timeout 20000"
      for i in $(seq 1 100); do echo "BEGIN IMMEDIATE; INSERT INTO t VALUES('$w', $i); COMMIT;"; done
    } >"$BATS_TEST_TMPDIR/$w.sql"
    (LD_PRELOAD=$SHIM_PRELOAD timeout "$DAFS_CMD_TIMEOUT" sqlite3 /dafs/db <"$BATS_TEST_TMPDIR/$w.sql" \
      >"$BATS_TEST_TMPDIR/$w.out" 2>&1) &
    eval "pid_$w=$!"
  done
  wait "$pid_a"
  wait "$pid_b"
  run cat "$BATS_TEST_TMPDIR/a.out" "$BATS_TEST_TMPDIR/b.out"
  assert_output ""
  run shimmed sqlite3 /dafs/db "SELECT who, count(*), sum(n) FROM t GROUP BY who ORDER BY who; PRAGMA integrity_check"
  assert_success
  assert_output $'a|100|5050\nb|100|5050\nholder|1|0\nother|1|0\nok'
  # The server's copy is the same database, read without the shim.
  run sqlite3 "$EXPORT/db" "SELECT count(*) FROM t"
  assert_output 202
}

@test "programs: Berkeley DB db5.3_load, db5.3_dump, db5.3_verify, db5.3_stat" {
  command -v db5.3_load >/dev/null || fail "db5.3_load is missing (Debian package db5.3-util)"
  local i
  for i in $(seq 1 2000); do printf 'key%05d\nvalue %d %s\n' "$i" "$i" "$(printf '%*s' $((i % 50)) '' | tr ' ' x)"; done \
    >"$BATS_TEST_TMPDIR/kv.txt"
  cp "$BATS_TEST_TMPDIR/kv.txt" "$LOCAL/kv.txt"
  cp "$BATS_TEST_TMPDIR/kv.txt" "$EXPORT/kv.txt"
  # The database files are compared through their dumps, not byte for
  # byte: each carries a unique file id (inode number, time, a random
  # number), and BDB writes pages from malloc'd buffers whose free space it
  # never initialises, so those bytes depend on what the process's heap
  # held before (under the shim, libdafs-core's freed request buffers; seen
  # as two stray bytes in a page's free space). Everything the program can
  # read back is in the dumps and must match.
  export ASAN_OPTIONS=$ASAN_OPTIONS:max_malloc_fill_size=0
  same_on_both 'db5.3_load -T -t btree -f kv.txt kv.db && db5.3_verify kv.db && echo verified &&
                db5.3_dump -p kv.db | sed -n "1,12p" && db5.3_dump kv.db > dump.txt &&
                db5.3_load -f dump.txt kv2.db && db5.3_dump -p kv2.db | tail -n 3 &&
                db5.3_dump kv2.db | cmp - dump.txt && rm kv2.db &&
                db5.3_stat -d kv.db | grep -E "number of (keys|data items)|Btree version" &&
                db5.3_load -T -t hash -f kv.txt kh.db && db5.3_dump -p kh.db | sed -n "/^ key/p" | sort | head -n 3 &&
                db5.3_verify kh.db && echo verified &&
                for db in kv kh; do db5.3_dump -p $db.db > $db.dump || exit; done && rm kv.db kh.db'
}

@test "programs: no data lost: writes that returned survive SIGKILL" {
  test_program record_writer
  local bin=$TEST_PROGRAM out=$BATS_TEST_TMPDIR/writer.out
  LD_PRELOAD=$SHIM_PRELOAD spawn "$out" "$bin" /dafs/f
  wait_until 10 grep -q '^4096000$' "$out"
  kill -KILL "$SPAWNED_PID"
  wait_bounded "$SPAWNED_PID" 10 || true
  local reported
  reported=$(grep -E '^[0-9]+$' "$out" | tail -n 1)
  [ "$reported" -ge 4096000 ]
  local size
  size=$(file_size "$EXPORT/f")
  [ "$size" -ge "$reported" ] || fail "server has $size bytes, the writer saw $reported returned"
  # Every record that returned holds what was written.
  python3 - "$EXPORT/f" "$reported" <<'EOF'
import sys
path, n = sys.argv[1], int(sys.argv[2])
with open(path, "rb") as f:
    data = f.read(n)
for i in range(n // 4096):
    rec = data[i * 4096:(i + 1) * 4096]
    if rec != bytes([i % 251]) * 4096:
        sys.exit("record %d differs" % i)
EOF
}

# DAFS_WRITE_COALESCE=1: 512-byte writes go as a few large WRITEs (the
# library's request counts say how many), and the file is the same. (Not
# dd: its bs=512 buffer is aligned_alloc(4096, 512), which ASan refuses.)
WRITE_IN_512S='
import os, sys
data = open(sys.argv[1], "rb").read()
fd = os.open(sys.argv[2], os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644)
for i in range(0, len(data), 512):
    os.write(fd, data[i:i + 512])
os.close(fd)'

@test "programs: DAFS_WRITE_COALESCE=1: 512-byte writes coalesced, file identical" {
  head -c 4M /dev/urandom >"$BATS_TEST_TMPDIR/src"
  DAFS_WRITE_COALESCE=1 DAFS_STATS=1 run --separate-stderr shimmed \
    python3 -c "$WRITE_IN_512S" "$BATS_TEST_TMPDIR/src" /dafs/coalesced
  assert_success
  [[ $stderr =~ "libdafs stats: WRITE "([0-9]+)" " ]] || fail "no WRITE count in: $stderr"
  local sends=${BASH_REMATCH[1]}
  [ "$sends" -le 2048 ] || fail "$sends WRITEs for 8,192 writes of 512 bytes"
  cmp "$BATS_TEST_TMPDIR/src" "$EXPORT/coalesced"
  # Off (the default), each write goes alone: the guarantee of the test above.
  DAFS_STATS=1 run --separate-stderr shimmed \
    python3 -c "$WRITE_IN_512S" "$BATS_TEST_TMPDIR/src" /dafs/plain
  assert_success
  [[ $stderr =~ "libdafs stats: WRITE 8192 " ]] || fail "not 8,192 WRITEs in: $stderr"
  cmp "$BATS_TEST_TMPDIR/src" "$EXPORT/plain"
}
