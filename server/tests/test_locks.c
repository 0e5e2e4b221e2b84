/* test_locks.c — locks.c's fcntl semantics: direct cases (sharing, conflicts,
 * split, merge, upgrade, downgrade, infinity, overflow, release, the session
 * limit), a differential test against the kernel's OFD locks on a temporary
 * file (each open file description is one owner), and a short multi-thread
 * smoke run for the sanitizers. */
#include "check.h"
#include "locks.h"
#include "proto.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include <unistd.h>

#define DEV 7
#define INO 42

static struct lock_desc ld(int type, uint64_t start, uint64_t len, uint64_t session,
			   uint64_t owner)
{
	struct lock_desc d = { .type = type, .start = start, .len = len, .session = session,
			       .owner = owner, .pid = (uint32_t)(1000 + owner) };
	return d;
}

static int set(struct lock_table *lt, int type, uint64_t start, uint64_t len, uint64_t sess,
	       uint64_t owner)
{
	struct lock_desc d = ld(type, start, len, sess, owner);
	return locks_set(lt, DEV, INO, &d, NULL);
}

/* What a one-byte write probe at x by (sess, owner) sees: the conflicting
 * lock, or type F_UNLCK. */
static struct lock_desc probe(struct lock_table *lt, int type, uint64_t x, uint64_t len,
			      uint64_t sess, uint64_t owner)
{
	struct lock_desc d = ld(type, x, len, sess, owner), c;
	memset(&c, 0, sizeof(c));
	if (locks_test(lt, DEV, INO, &d, &c) != 0)
		c.type = -1;
	return c;
}

static void test_direct(void)
{
	struct lock_table *lt;
	CHECK_EQ(locks_create(&lt), 0, "locks_create");
	struct lock_desc c;

	/* read/read share, read/write conflict */
	CHECK_EQ(set(lt, F_RDLCK, 0, 10, 1, 1), 0, "A read [0,10)");
	CHECK_EQ(set(lt, F_RDLCK, 5, 10, 1, 2), 0, "B read [5,15) shares");
	struct lock_desc w = ld(F_WRLCK, 12, 1, 2, 3);
	CHECK_EQ(locks_set(lt, DEV, INO, &w, &c), -EAGAIN, "C write at 12 conflicts");
	CHECK(c.type == F_RDLCK && c.start == 5 && c.len == 10 && c.session == 1 && c.owner == 2
	      && c.pid == 1002, "conflict describes B's lock");
	CHECK_EQ(set(lt, F_WRLCK, 15, 5, 2, 3), 0, "C write [15,20) right after B is fine");
	CHECK_EQ(set(lt, F_WRLCK, 20, 0, 1, 1), 0, "A write [20,inf)");
	c = probe(lt, F_RDLCK, INT64_MAX, 1, 9, 9);
	CHECK(c.type == F_WRLCK && c.start == 20 && c.len == 0, "infinite lock reported with len 0");
	c = probe(lt, F_RDLCK, 0, 0, 9, 9);
	CHECK(c.type == F_WRLCK, "whole-file read probe hits a write lock");
	c = probe(lt, F_RDLCK, 0, 15, 9, 9);
	CHECK_EQ(c.type, F_UNLCK, "read probe over readers only: no conflict");
	c = probe(lt, F_RDLCK, 0, 15, 1, 1);
	CHECK_EQ(c.type, F_UNLCK, "own locks never conflict");
	locks_release_session(lt, 1, false);
	locks_release_session(lt, 2, false);
	CHECK_EQ(locks_session_count(lt, 1) + locks_session_count(lt, 2), 0, "all released");

	/* upgrade blocked by another reader, then allowed once it leaves */
	set(lt, F_RDLCK, 0, 10, 1, 1);
	set(lt, F_RDLCK, 0, 10, 1, 2);
	w = ld(F_WRLCK, 0, 10, 1, 1);
	CHECK_EQ(locks_set(lt, DEV, INO, &w, &c), -EAGAIN, "upgrade blocked by another reader");
	CHECK(c.owner == 2 && c.type == F_RDLCK, "the other reader is the conflict");
	CHECK_EQ(probe(lt, F_WRLCK, 5, 1, 1, 2).type, F_RDLCK, "failed upgrade left A's read");
	locks_release_owner(lt, DEV, INO, 1, 2);
	CHECK_EQ(locks_set(lt, DEV, INO, &w, &c), 0, "upgrade once alone");
	CHECK_EQ(probe(lt, F_RDLCK, 5, 1, 1, 2).type, F_WRLCK, "now a write lock");
	CHECK_EQ(locks_session_count(lt, 1), 1, "one range");

	/* downgrade in the middle splits into three */
	CHECK_EQ(set(lt, F_WRLCK, 0, 100, 1, 1), 0, "A write [0,100)");
	CHECK_EQ(set(lt, F_RDLCK, 20, 10, 1, 1), 0, "A downgrades [20,30)");
	CHECK_EQ(locks_session_count(lt, 1), 3, "three ranges");
	CHECK_EQ(set(lt, F_RDLCK, 22, 3, 1, 2), 0, "B reads inside the downgraded part");
	CHECK_EQ(set(lt, F_RDLCK, 19, 3, 1, 2), -EAGAIN, "B cannot read across its edge");
	c = probe(lt, F_RDLCK, 50, 1, 1, 3);
	CHECK(c.type == F_WRLCK && c.start == 30 && c.len == 70, "right piece is [30,100)");
	c = probe(lt, F_RDLCK, 0, 1, 1, 3);
	CHECK(c.type == F_WRLCK && c.start == 0 && c.len == 20, "left piece is [0,20)");
	locks_release_owner(lt, DEV, INO, 1, 2);

	/* unlock splits */
	CHECK_EQ(set(lt, F_UNLCK, 0, 0, 1, 1), 0, "unlock all");
	CHECK_EQ(locks_session_count(lt, 1), 0, "nothing left");
	set(lt, F_WRLCK, 0, 100, 1, 1);
	CHECK_EQ(set(lt, F_UNLCK, 40, 10, 1, 1), 0, "unlock [40,50)");
	CHECK_EQ(locks_session_count(lt, 1), 2, "split in two");
	c = probe(lt, F_WRLCK, 39, 1, 1, 2);
	CHECK(c.start == 0 && c.len == 40, "left [0,40)");
	CHECK_EQ(probe(lt, F_WRLCK, 45, 1, 1, 2).type, F_UNLCK, "hole at 45");
	c = probe(lt, F_WRLCK, 50, 1, 1, 2);
	CHECK(c.start == 50 && c.len == 50, "right [50,100)");
	CHECK_EQ(set(lt, F_UNLCK, 40, 10, 1, 2), 0, "unlocking what one does not hold is fine");
	CHECK_EQ(set(lt, F_UNLCK, 0, 0, 5, 5), 0, "unlock by an unknown owner is fine");

	/* merge: adjacent and overlapping same-type ranges coalesce */
	CHECK_EQ(set(lt, F_WRLCK, 40, 10, 1, 1), 0, "fill the hole");
	CHECK_EQ(locks_session_count(lt, 1), 1, "merged back into one");
	c = probe(lt, F_WRLCK, 0, 1, 1, 2);
	CHECK(c.start == 0 && c.len == 100, "[0,100)");
	set(lt, F_WRLCK, 100, 5, 1, 1);
	set(lt, F_WRLCK, 95, 20, 1, 1);
	c = probe(lt, F_WRLCK, 0, 1, 1, 2);
	CHECK(c.start == 0 && c.len == 115 && locks_session_count(lt, 1) == 1,
	      "adjacent and overlapping merge to [0,115)");
	set(lt, F_RDLCK, 200, 10, 1, 1);
	set(lt, F_RDLCK, 190, 10, 1, 2);
	CHECK_EQ(locks_session_count(lt, 1), 3, "different owners never merge");
	set(lt, F_WRLCK, 115, 85, 1, 1);
	c = probe(lt, F_WRLCK, 205, 1, 1, 3);
	CHECK(c.type == F_RDLCK && c.start == 200 && c.len == 10, "different types never merge");

	/* different files are independent */
	struct lock_desc other = ld(F_WRLCK, 0, 0, 3, 1);
	CHECK_EQ(locks_set(lt, DEV, INO + 1, &other, &c), 0, "another inode");
	CHECK_EQ(locks_set(lt, DEV + 1, INO, &other, &c), 0, "another device");
	CHECK_EQ(locks_test(lt, DEV, INO + 2, &other, &c), 0, "test on a file with no locks");
	CHECK_EQ(c.type, F_UNLCK, "has no conflict");

	/* invalid input */
	struct lock_desc bad = ld(F_WRLCK, UINT64_MAX, 1, 1, 1);
	CHECK_EQ(locks_set(lt, DEV, INO, &bad, &c), -EINVAL, "start past off_t");
	bad = ld(F_WRLCK, (uint64_t)INT64_MAX + 1, 0, 1, 1);
	CHECK_EQ(locks_set(lt, DEV, INO, &bad, &c), -EINVAL, "start INT64_MAX+1, len 0");
	bad = ld(F_WRLCK, INT64_MAX, 2, 1, 1);
	CHECK_EQ(locks_set(lt, DEV, INO, &bad, &c), -EINVAL, "start+len past off_t");
	bad = ld(F_WRLCK, 1, UINT64_MAX, 1, 1);
	CHECK_EQ(locks_set(lt, DEV, INO, &bad, &c), -EINVAL, "u64 start+len overflow");
	CHECK_EQ(locks_test(lt, DEV, INO, &bad, &c), -EINVAL, "test: overflow");
	bad = ld(F_WRLCK, INT64_MAX, 1, 7, 1);
	CHECK_EQ(locks_set(lt, DEV, INO, &bad, &c), 0, "last byte is lockable");
	c = probe(lt, F_WRLCK, INT64_MAX, 1, 7, 2);
	CHECK(c.type == F_WRLCK && c.len == 0, "a lock reaching the end reads back as len 0");
	bad = ld(42, 0, 1, 1, 1);
	CHECK_EQ(locks_set(lt, DEV, INO, &bad, &c), -EINVAL, "bad type");
	bad = ld(F_UNLCK, 0, 1, 1, 1);
	CHECK_EQ(locks_test(lt, DEV, INO, &bad, &c), -EINVAL, "test with F_UNLCK");

	/* release_session frees everything of that session, on every file */
	locks_release_session(lt, 1, false);
	CHECK_EQ(locks_session_count(lt, 1), 0, "session 1 released");
	CHECK_EQ(probe(lt, F_WRLCK, 0, 0, 9, 9).type, F_WRLCK, "session 3's lock still there");
	locks_release_session(lt, 3, false);
	locks_release_session(lt, 7, false);
	CHECK_EQ(probe(lt, F_WRLCK, 0, 0, 9, 9).type, F_UNLCK, "file empty");
	CHECK_EQ(locks_test(lt, DEV, INO + 1, &other, &c) == 0 && c.type == F_UNLCK, 1,
		 "other inode empty");
	locks_release_session(lt, 12345, false);
	locks_destroy(lt);
}

static void test_limit(void)
{
	struct lock_table *lt;
	locks_create(&lt);
	int fails = 0;
	for (unsigned i = 0; i < LOCKS_MAX_PER_SESSION; i++)
		fails += set(lt, i % 2 ? F_RDLCK : F_WRLCK, 2 * (uint64_t)i, 1, 1, 0) != 0;
	CHECK_EQ(fails, 0, "%d ranges fit", LOCKS_MAX_PER_SESSION);
	CHECK_EQ(locks_session_count(lt, 1), LOCKS_MAX_PER_SESSION, "counted");
	CHECK_EQ(set(lt, F_WRLCK, 1000000, 1, 1, 0), -ENOLCK, "one more gives ENOLCK");
	CHECK_EQ(set(lt, F_WRLCK, 1000000, 1, 2, 0), 0, "another session is not limited");
	struct lock_desc d = ld(F_WRLCK, 0, 1, 2, 0), c;
	CHECK_EQ(locks_set(lt, DEV, INO, &d, &c), -EAGAIN, "and still sees session 1's locks");
	/* owner 0 holds write [0,1), read [2,3), write [4,5)...: a write over
	 * [0,3) replaces two of them with one; an unlock inside it needs one
	 * more range. */
	CHECK_EQ(set(lt, F_WRLCK, 0, 3, 1, 0), 0, "a set that shrinks the count is allowed");
	CHECK_EQ(locks_session_count(lt, 1), LOCKS_MAX_PER_SESSION - 1, "count went down");
	CHECK_EQ(set(lt, F_WRLCK, 2000000, 1, 1, 0), 0, "room for one again");
	CHECK_EQ(set(lt, F_UNLCK, 1, 1, 1, 0), -ENOLCK, "a split past the limit gives ENOLCK");
	CHECK_EQ(probe(lt, F_RDLCK, 1, 1, 1, 1).type, F_WRLCK, "and changed nothing");
	CHECK_EQ(set(lt, F_UNLCK, 0, 1, 1, 0), 0, "trimming an edge is fine");
	locks_release_session(lt, 1, false);
	CHECK_EQ(locks_session_count(lt, 1), 0, "released");
	CHECK_EQ(set(lt, F_WRLCK, 0, 1, 1, 0), 0, "usable again");
	locks_destroy(lt);  /* with locks still held: must not leak */
}

/* --- differential test against the kernel's OFD locks */

static uint64_t rng_state;

static uint64_t rnd(void)
{
	rng_state ^= rng_state << 13;
	rng_state ^= rng_state >> 7;
	rng_state ^= rng_state << 17;
	return rng_state;
}

static int kset(int fd, int type, uint64_t start, uint64_t len)
{
	struct flock fl = { .l_type = (short)type, .l_whence = SEEK_SET,
			    .l_start = (off_t)start, .l_len = (off_t)len };
	return fcntl(fd, F_OFD_SETLK, &fl) == 0 ? 0 : -errno;
}

static int kget(int fd, int type, uint64_t start, uint64_t len, struct flock *out)
{
	memset(out, 0, sizeof(*out));
	out->l_type = (short)type;
	out->l_whence = SEEK_SET;
	out->l_start = (off_t)start;
	out->l_len = (off_t)len;
	return fcntl(fd, F_OFD_GETLK, out) == 0 ? 0 : -errno;
}

/* Random range: mostly small offsets so ranges collide, sometimes the very
 * end of off_t and sometimes "to infinity". */
static void rnd_range(uint64_t *start, uint64_t *len)
{
	if (rnd() % 16 == 0) {
		*start = (uint64_t)INT64_MAX - rnd() % 8;
		*len = rnd() % 2 ? 0 : 1 + rnd() % ((uint64_t)INT64_MAX - *start + 1);
		return;
	}
	*start = rnd() % 40;
	*len = rnd() % 8 == 0 ? 0 : 1 + rnd() % 12;
}

static void differential(const char *file, int owners, int seqs, int ops)
{
	int mismatches = 0, set_mismatch = 0, checks = 0, conflicts = 0;
	for (int seq = 0; seq < seqs; seq++) {
		int fd[4];
		for (int o = 0; o < owners; o++)
			fd[o] = open(file, O_RDWR);
		struct lock_table *lt;
		locks_create(&lt);

		for (int op = 0; op < ops; op++) {
			int o = (int)(rnd() % (uint64_t)owners);
			uint64_t start, len;
			rnd_range(&start, &len);
			uint64_t k = rnd() % 16;
			if (k == 0) {
				/* close(): the kernel drops the description's locks */
				close(fd[o]);
				fd[o] = open(file, O_RDWR);
				locks_release_owner(lt, DEV, INO, 1, (uint64_t)o);
			} else {
				int type = k < 7 ? F_RDLCK : k < 12 ? F_WRLCK : F_UNLCK;
				int kr = kset(fd[o], type, start, len);
				int mr = set(lt, type, start, len, 1, (uint64_t)o);
				if (kr != mr) {
					set_mismatch++;
					printf("# seq %d op %d: set owner %d type %d [%llu,+%llu): "
					       "kernel %d, table %d\n", seq, op, o, type,
					       (unsigned long long)start, (unsigned long long)len,
					       kr, mr);
				}
				conflicts += kr == -EAGAIN;
			}

			/* Probes: one byte, both types, every owner. With two
			 * owners at most one foreign range holds a byte, so the
			 * reported lock must match exactly. */
			uint64_t xs[56];
			int nx = 0;
			for (uint64_t x = 0; x < 52; x++)
				xs[nx++] = x;
			for (uint64_t x = 0; x < 4; x++)
				xs[nx++] = (uint64_t)INT64_MAX - x * 3;
			for (int i = 0; i < nx; i++) {
				for (int po = 0; po < owners; po++) {
					int pt = rnd() % 2 ? F_RDLCK : F_WRLCK;
					struct flock kf;
					kget(fd[po], pt, xs[i], 1, &kf);
					struct lock_desc mc = probe(lt, pt, xs[i], 1, 1, (uint64_t)po);
					bool ok = kf.l_type == mc.type;
					if (ok && owners == 2 && mc.type != F_UNLCK)
						ok = (uint64_t)kf.l_start == mc.start
						     && (uint64_t)kf.l_len == mc.len;
					checks++;
					if (!ok && mismatches++ < 10)
						printf("# seq %d op %d: probe owner %d type %d at %llu: "
						       "kernel %d [%lld,+%lld) table %d [%llu,+%llu)\n",
						       seq, op, po, pt, (unsigned long long)xs[i],
						       kf.l_type, (long long)kf.l_start,
						       (long long)kf.l_len, mc.type,
						       (unsigned long long)mc.start,
						       (unsigned long long)mc.len);
				}
			}
			/* A few range probes: only whether there is a conflict. */
			for (int i = 0; i < 4; i++) {
				int po = (int)(rnd() % (uint64_t)owners);
				int pt = rnd() % 2 ? F_RDLCK : F_WRLCK;
				rnd_range(&start, &len);
				struct flock kf;
				kget(fd[po], pt, start, len, &kf);
				struct lock_desc mc = probe(lt, pt, start, len, 1, (uint64_t)po);
				checks++;
				if ((kf.l_type == F_UNLCK) != (mc.type == F_UNLCK) && mismatches++ < 10)
					printf("# range probe mismatch seq %d op %d\n", seq, op);
			}
		}
		for (int o = 0; o < owners; o++)
			close(fd[o]);
		locks_destroy(lt);
	}
	CHECK_EQ(set_mismatch, 0, "%d owners: %d sequences of %d ops: F_OFD_SETLK and "
		 "locks_set agree (%d conflicts)", owners, seqs, ops, conflicts);
	CHECK_EQ(mismatches, 0, "%d owners: %d probes agree with F_OFD_GETLK", owners, checks);
	CHECK(conflicts > 0, "the random ops did conflict sometimes");
}

/* --- threads: each on its own session and file, plus a shared file */

static struct lock_table *shared_lt;

static void *hammer(void *arg)
{
	uint64_t sess = (uint64_t)(uintptr_t)arg;
	uint64_t st = 0x1234567ULL * (sess + 1);
	for (int i = 0; i < 20000; i++) {
		st ^= st << 13;
		st ^= st >> 7;
		st ^= st << 17;
		int type = (int)(st % 3) == 0 ? F_RDLCK : (int)(st % 3) == 1 ? F_WRLCK : F_UNLCK;
		struct lock_desc d = ld(type, (st >> 8) % 200, (st >> 20) % 10, sess, st % 4);
		locks_set(shared_lt, DEV, (st >> 40) % 3, &d, NULL);
		if (i % 5000 == 4999)
			locks_release_session(shared_lt, sess, false);
	}
	return NULL;
}

static void test_threads(void)
{
	locks_create(&shared_lt);
	pthread_t th[2];
	for (uintptr_t i = 0; i < 2; i++)
		pthread_create(&th[i], NULL, hammer, (void *)(i + 1));
	for (int i = 0; i < 2; i++)
		pthread_join(th[i], NULL);
	locks_release_session(shared_lt, 1, false);
	locks_release_session(shared_lt, 2, false);
	struct lock_desc d = ld(F_WRLCK, 0, 0, 9, 9), c;
	int empty = 1;
	for (uint64_t ino = 0; ino < 3; ino++)
		empty &= locks_test(shared_lt, DEV, ino, &d, &c) == 0 && c.type == F_UNLCK;
	CHECK(empty && locks_session_count(shared_lt, 1) == 0, "two threads, then all released");
	locks_destroy(shared_lt);
}

/* flock owners (DAFS_WIRE_LOCK_OWNER_FLOCK) meet only each other, as
 * flock(2) and fcntl(2) locks on Linux. */
static void test_flock_namespace(void)
{
	const uint64_t flock_a = DAFS_WIRE_LOCK_OWNER_FLOCK | 1, flock_b = DAFS_WIRE_LOCK_OWNER_FLOCK | 2;
	struct lock_table *lt;

	CHECK_EQ(locks_create(&lt), 0, "locks_create");
	CHECK_EQ(set(lt, F_WRLCK, 0, 0, 1, flock_a), 0, "flock LOCK_EX by description a");
	CHECK_EQ(set(lt, F_WRLCK, 0, 10, 1, 7), 0, "an fcntl write lock of process 7 beside it");
	CHECK_EQ(set(lt, F_WRLCK, 20, 0, 2, 9), 0, "and one of another session's process after it");
	CHECK_EQ(set(lt, F_RDLCK, 0, 0, 1, flock_b), -EAGAIN, "flock LOCK_SH by b waits for a");
	CHECK_EQ(probe(lt, F_WRLCK, 0, 1, 1, 8).type, F_WRLCK, "F_GETLK sees the fcntl lock");
	CHECK_EQ(probe(lt, F_WRLCK, 0, 1, 1, 8).owner, 7, "and not the flock one");
	CHECK_EQ(set(lt, F_UNLCK, 0, 0, 1, flock_a), 0, "a unlocks");
	CHECK_EQ(set(lt, F_RDLCK, 0, 0, 1, flock_b), 0, "then b's LOCK_SH is granted");
	locks_destroy(lt);
}

/* DAFS's auto-recovery locks: the ranges of a session that ended holding
 * them (broken) are told to the first lock over them, once; a session
 * that ended cleanly leaves nothing to tell. */
static void test_broken(void)
{
	struct lock_table *lt;

	CHECK_EQ(locks_create(&lt), 0, "table");
	CHECK_EQ(set(lt, F_WRLCK, 100, 10, 1, 1), 0, "session 1 locks [100,110)");
	CHECK_EQ(set(lt, F_WRLCK, 0, 10, 2, 2), 0, "session 2 locks [0,10)");
	locks_release_session(lt, 1, true);
	locks_release_session(lt, 2, false);
	CHECK_EQ(locks_take_broken(lt, DEV, INO, 0, 10), 0, "a cleanly ended session's range: not broken");
	CHECK_EQ(locks_take_broken(lt, DEV, INO, 50, 10), 0, "a range beside the broken one: not told");
	CHECK_EQ(locks_take_broken(lt, DEV, INO, 105, 1), 1, "a lock inside the dead holder's range: told");
	CHECK_EQ(locks_take_broken(lt, DEV, INO, 100, 0), 0, "once");
	CHECK_EQ(set(lt, F_WRLCK, 0, 0, 3, 3), 0, "session 3 locks everything");
	locks_release_session(lt, 3, true);
	CHECK_EQ(locks_take_broken(lt, DEV, INO, INT64_MAX, 1), 1, "to infinity: the last byte too");
	locks_destroy(lt);
}

int main(void)
{
	test_direct();
	test_broken();
	test_limit();
	test_flock_namespace();

	char file[] = "/tmp/dafs-locks-XXXXXX";
	int fd = mkstemp(file);
	CHECK(fd >= 0, "temp file");
	if (fd >= 0) {
		close(fd);
		rng_state = 0x9e3779b97f4a7c15ULL;
		differential(file, 2, 12, 250);
		differential(file, 3, 6, 250);
		unlink(file);
	}
	test_threads();
	return check_done();
}
