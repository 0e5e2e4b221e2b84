/* calls_demo.c — the shim's later calls on the files of a directory,
 * printing what it saw so that a run on a local directory and one on DAFS
 * under the shim can be compared line by line.
 *
 *   calls_demo DIR local|dafs
 *
 * Covers preadv/pwritev and their v2 forms (offset -1, RWF_APPEND,
 * RWF_DSYNC, RWF_SYNC, RWF_HIPRI, unknown flags), fallocate (every mode the
 * shim maps, and one it refuses), posix_fallocate (error numbers returned),
 * sync_file_range, getdents64 in small buffers resumed with lseek on d_off,
 * readdir_r, scandir/scandirat with a filter and alphasort, utimes, lutimes,
 * futimes, futimesat, utime, and OFD locks against process locks. What only
 * DAFS does differently by design (RWF_NOWAIT and collapse-range refused
 * with EOPNOTSUPP) is checked only when the second argument is "dafs".
 * The output names no paths and no directory order. Exit 0 when all is well.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <sys/uio.h>
#include <time.h>
#include <unistd.h>
#include <utime.h>

#include "demo_check.h"

static int on_dafs;

static const char *err_name(long rc)
{
	return rc < 0 ? strerror(errno) : "ok";
}

static char *path_in(const char *dir, const char *name)
{
	static char buf[4][4096];
	static int next;
	char *p = buf[next++ % 4];

	snprintf(p, sizeof(buf[0]), "%s/%s", dir, name);
	return p;
}

static void read_all(const char *path, char *buf, size_t cap, size_t *len)
{
	int fd = open(path, O_RDONLY);
	ssize_t r;

	*len = 0;
	CHECK(fd >= 0, "open %s: %s", path, strerror(errno));
	while (fd >= 0 && *len < cap && (r = read(fd, buf + *len, cap - *len)) > 0)
		*len += (size_t)r;
	close(fd);
}

static void vectors(const char *dir)
{
	const char *p = path_in(dir, "vec.dat");
	char a[] = "alpha-", b[] = "beta-", c[] = "gamma", got[64] = "";
	char r1[6], r2[5], r3[5];
	struct iovec w[3] = { { a, 6 }, { b, 5 }, { c, 5 } };
	struct iovec rv[3] = { { r1, 6 }, { r2, 5 }, { r3, 5 } };
	int fd = open(p, O_RDWR | O_CREAT | O_TRUNC, 0644);
	size_t len;

	CHECK(fd >= 0, "open vec.dat");
	printf("pwritev at 10: %zd\n", pwritev(fd, w, 3, 10));
	printf("offset after pwritev: %ld\n", (long)lseek(fd, 0, SEEK_CUR));
	printf("preadv at 10: %zd\n", preadv(fd, rv, 3, 10));
	CHECK(memcmp(r1, a, 6) == 0 && memcmp(r2, b, 5) == 0 && memcmp(r3, c, 5) == 0,
	      "preadv bytes");
	printf("preadv past the end: %zd\n", preadv(fd, rv, 3, 100));
	printf("pwritev negative offset: %s\n", err_name(pwritev(fd, w, 1, -5)));
	/* v2: offset -1 uses and moves the file offset */
	lseek(fd, 2, SEEK_SET);
	printf("pwritev2 at -1: %zd\n", pwritev2(fd, w, 1, -1, 0));
	printf("offset after pwritev2 -1: %ld\n", (long)lseek(fd, 0, SEEK_CUR));
	lseek(fd, 10, SEEK_SET);
	printf("preadv2 at -1: %zd\n", preadv2(fd, rv, 2, -1, 0));
	printf("offset after preadv2 -1: %ld\n", (long)lseek(fd, 0, SEEK_CUR));
	printf("pwritev2 RWF_DSYNC at 0: %zd\n", pwritev2(fd, &w[1], 1, 0, RWF_DSYNC));
	printf("pwritev2 RWF_SYNC at 30: %zd\n", pwritev2(fd, &w[2], 1, 30, RWF_SYNC));
	printf("pwritev2 RWF_APPEND at 3: %zd\n", pwritev2(fd, &w[0], 1, 3, RWF_APPEND));
	printf("offset after append at 3: %ld\n", (long)lseek(fd, 0, SEEK_CUR));
	printf("pwritev2 RWF_APPEND at -1: %zd\n", pwritev2(fd, &w[1], 1, -1, RWF_APPEND));
	printf("offset after append at -1: %ld\n", (long)lseek(fd, 0, SEEK_CUR));
	printf("preadv2 RWF_HIPRI at 0: %zd\n", preadv2(fd, rv, 1, 0, RWF_HIPRI));
	printf("preadv2 unknown flag: %s\n", err_name(preadv2(fd, rv, 1, 0, 0x10000)));
	if (on_dafs) {
		errno = 0;
		CHECK(preadv2(fd, rv, 1, 0, RWF_NOWAIT) == -1 && errno == EOPNOTSUPP,
		      "RWF_NOWAIT on DAFS: EOPNOTSUPP, got %s", strerror(errno));
	}
	close(fd);
	read_all(p, got, sizeof(got) - 1, &len);
	printf("file: %zu bytes: ", len);
	for (size_t i = 0; i < len; i++)
		putchar(got[i] ? got[i] : '.');
	printf("\n");
}

static void allocation(const char *dir)
{
	const char *p = path_in(dir, "alloc.dat");
	int fd = open(p, O_RDWR | O_CREAT | O_TRUNC, 0644), ro;
	char buf[8192], want[8192];
	struct stat st;
	int rc;

	CHECK(fd >= 0, "open alloc.dat");
	memset(want, 'x', sizeof(want));
	printf("fallocate 0 64k: %s\n", err_name(fallocate(fd, 0, 0, 65536)));
	fstat(fd, &st);
	printf("size %ld, allocated %s\n", (long)st.st_size, st.st_blocks >= 128 ? "yes" : "no");
	printf("fallocate keep-size 128k: %s\n",
	       err_name(fallocate(fd, FALLOC_FL_KEEP_SIZE, 0, 131072)));
	fstat(fd, &st);
	printf("size %ld, allocated past it %s\n", (long)st.st_size,
	       st.st_blocks >= 256 ? "yes" : "no");
	CHECK(pwrite(fd, want, sizeof(want), 0) == (ssize_t)sizeof(want), "pwrite");
	rc = fallocate(fd, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE, 4096, 4096);
	printf("punch hole 4k at 4k: %s\n", err_name(rc));
	if (rc == 0) {
		memset(want + 4096, 0, 4096);
		CHECK(pread(fd, buf, sizeof(buf), 0) == (ssize_t)sizeof(buf) &&
		      memcmp(buf, want, sizeof(buf)) == 0, "punched range reads as zeros");
	}
	rc = fallocate(fd, FALLOC_FL_ZERO_RANGE, 0, 100);
	printf("zero range 100 at 0: %s\n", err_name(rc));
	if (rc == 0) {
		memset(want, 0, 100);
		CHECK(pread(fd, buf, sizeof(buf), 0) == (ssize_t)sizeof(buf) &&
		      memcmp(buf, want, sizeof(buf)) == 0, "zeroed range reads as zeros");
	}
	printf("punch hole without keep-size: %s\n",
	       err_name(fallocate(fd, FALLOC_FL_PUNCH_HOLE, 0, 4096)));
	printf("fallocate len 0: %s\n", err_name(fallocate(fd, 0, 0, 0)));
	printf("fallocate64 grows to 200000: %s\n", err_name(fallocate64(fd, 0, 100000, 100000)));
	fstat(fd, &st);
	printf("size %ld\n", (long)st.st_size);
	printf("posix_fallocate to 300000: %d\n", posix_fallocate(fd, 0, 300000));
	fstat(fd, &st);
	printf("size %ld\n", (long)st.st_size);
	errno = 0;
	printf("posix_fallocate len 0: %d (%s), errno untouched: %s\n",
	       posix_fallocate64(fd, 0, 0), strerror(posix_fallocate64(fd, 0, 0)),
	       errno == 0 ? "yes" : "no");
	printf("sync_file_range write: %s\n",
	       err_name(sync_file_range(fd, 0, 0, SYNC_FILE_RANGE_WRITE |
					SYNC_FILE_RANGE_WAIT_AFTER)));
	printf("sync_file_range bad flag: %s\n", err_name(sync_file_range(fd, 0, 0, 0x80)));
	if (on_dafs) {
		errno = 0;
		CHECK(fallocate(fd, FALLOC_FL_COLLAPSE_RANGE, 0, 4096) == -1 && errno == EOPNOTSUPP,
		      "collapse range on DAFS: EOPNOTSUPP, got %s", strerror(errno));
	}
	close(fd);
	ro = open(p, O_RDONLY);
	printf("posix_fallocate read-only: %s\n", strerror(posix_fallocate(ro, 0, 10)));
	printf("fallocate read-only: %s\n", err_name(fallocate(ro, 0, 0, 10)));
	close(ro);
}

static int by_name(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Reads the rest of fd with getdents64 through a buffer of bufsize bytes;
 * names appended to names[], offsets to offs[]. */
static int drain(int fd, size_t bufsize, char **names, int64_t *offs, int n, int *calls)
{
	char buf[4096];
	ssize_t got;

	while ((got = getdents64(fd, buf, bufsize)) > 0) {
		(*calls)++;
		for (ssize_t at = 0; at < got;) {
			struct dirent64 *e = (struct dirent64 *)(buf + at);
			names[n] = strdup(e->d_name);
			offs[n++] = e->d_off;
			at += e->d_reclen;
		}
	}
	CHECK(got == 0, "getdents64 ends with 0, got %zd (%s)", got, strerror(errno));
	return n;
}

static void directories(const char *dir)
{
	const char *sub = path_in(dir, "many");
	char *names[200], *again[200];
	int64_t offs[200], offs2[200];
	int n, m, calls = 0, calls2 = 0, fd;
	char buf[16];

	mkdir(sub, 0755);
	for (int i = 0; i < 40; i++) {
		char name[64];
		snprintf(name, sizeof(name), "%s/entry-%02d-%s", sub, i, i % 3 ? "x" : "longer-name");
		close(open(name, O_WRONLY | O_CREAT, 0644));
	}
	fd = open(sub, O_RDONLY | O_DIRECTORY);
	CHECK(fd >= 0, "open dir");
	printf("getdents64 10-byte buffer: %s\n", err_name(getdents64(fd, buf, 10)));
	n = drain(fd, 128, names, offs, 0, &calls);
	printf("getdents64: %d entries, in more than 10 calls: %s\n", n, calls > 10 ? "yes" : "no");
	/* Resume from the 7th entry's d_off: the same entries as the first time. */
	CHECK(lseek(fd, (off_t)offs[6], SEEK_SET) == (off_t)offs[6], "lseek to d_off");
	m = drain(fd, 300, again, offs2, 0, &calls2);
	CHECK(m == n - 7, "resumed with %d entries, want %d", m, n - 7);
	for (int i = 0; i < m && i + 7 < n; i++)
		CHECK(strcmp(again[i], names[i + 7]) == 0 && offs2[i] == offs[i + 7],
		      "entry %d after lseek: %s, want %s", i, again[i], names[i + 7]);
	CHECK(lseek(fd, 0, SEEK_SET) == 0, "rewind");
	m = drain(fd, 4096, again, offs2, 0, &calls2);
	CHECK(m == n, "after rewind %d entries, want %d", m, n);
	qsort(names, (size_t)n, sizeof(*names), by_name);
	printf("first three: %s %s %s, last: %s\n", names[0], names[1], names[2], names[n - 1]);
	close(fd);

	/* readdir_r: deprecated, still called by older programs */
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wdeprecated-declarations"
	DIR *d = opendir(sub);
	struct dirent ent, *res;
	int count = 0, rc;
	CHECK(d != NULL, "opendir");
	while (d && (rc = readdir_r(d, &ent, &res)) == 0 && res) {
		CHECK(res == &ent, "readdir_r returns the caller's entry");
		count++;
	}
#pragma GCC diagnostic pop
	if (d)
		closedir(d);
	printf("readdir_r: %d entries\n", count);

	/* scandir: filter and compar honoured */
	struct dirent **list;
	int k = scandir(sub, &list, NULL, alphasort);
	printf("scandir all, sorted: %d: %s %s %s\n", k, k > 2 ? list[0]->d_name : "-",
	       k > 2 ? list[1]->d_name : "-", k > 2 ? list[2]->d_name : "-");
	for (int i = 0; i < k; i++)
		free(list[i]);
	if (k >= 0)
		free(list);
	k = scandirat(AT_FDCWD, sub, &list, NULL, NULL);
	printf("scandirat unsorted: %d\n", k);
	for (int i = 0; i < k; i++)
		free(list[i]);
	if (k >= 0)
		free(list);
	errno = 0;
	k = scandir(path_in(dir, "no-such-dir"), &list, NULL, alphasort);
	printf("scandir missing: %d %s\n", k, strerror(errno));
}

static int only_longer(const struct dirent *e)
{
	return strstr(e->d_name, "longer") != NULL;
}

static int reverse(const struct dirent **a, const struct dirent **b)
{
	return -strcmp((*a)->d_name, (*b)->d_name);
}

static void scandir_filter(const char *dir)
{
	struct dirent **list;
	int k = scandir(path_in(dir, "many"), &list, only_longer, reverse);

	printf("scandir filtered, reversed: %d:", k);
	for (int i = 0; i < k; i++) {
		if (i < 3)
			printf(" %s", list[i]->d_name);
		free(list[i]);
	}
	printf("\n");
	if (k >= 0)
		free(list);
}

static void times(const char *dir)
{
	const char *p = path_in(dir, "times.dat"), *l = path_in(dir, "times.lnk");
	struct timeval tv[2] = { { 1000, 5 }, { 2000, 7 } };
	struct utimbuf ub = { 3000, 4000 };
	struct stat st;
	int fd = open(p, O_RDWR | O_CREAT, 0644);

	CHECK(fd >= 0, "open times.dat");
	unlink(l);
	CHECK(symlink("times.dat", l) == 0, "symlink");
	printf("utimes: %s\n", err_name(utimes(p, tv)));
	stat(p, &st);
	printf("  mtime %ld.%09ld atime %ld.%09ld\n", (long)st.st_mtim.tv_sec, st.st_mtim.tv_nsec,
	       (long)st.st_atim.tv_sec, st.st_atim.tv_nsec);
	tv[1].tv_sec = 5000;
	printf("futimes: %s\n", err_name(futimes(fd, tv)));
	fstat(fd, &st);
	printf("  mtime %ld\n", (long)st.st_mtim.tv_sec);
	tv[1].tv_sec = 6000;
	printf("futimesat: %s\n", err_name(futimesat(AT_FDCWD, p, tv)));
	stat(p, &st);
	printf("  mtime %ld\n", (long)st.st_mtim.tv_sec);
	printf("utime: %s\n", err_name(utime(p, &ub)));
	stat(p, &st);
	printf("  mtime %ld atime %ld\n", (long)st.st_mtim.tv_sec, (long)st.st_atim.tv_sec);
	tv[1].tv_sec = 7000;
	printf("lutimes on the link: %s\n", err_name(lutimes(l, tv)));
	lstat(l, &st);
	printf("  link mtime %ld\n", (long)st.st_mtim.tv_sec);
	stat(p, &st);
	printf("  file mtime %ld\n", (long)st.st_mtim.tv_sec);
	printf("utime now: %s\n", err_name(utime(p, NULL)));
	stat(p, &st);
	printf("  within a minute: %s\n", labs((long)(st.st_mtim.tv_sec - time(NULL))) < 60 ? "yes" : "no");
	tv[0].tv_usec = 1000000;
	printf("utimes usec 1000000: %s\n", err_name(utimes(p, tv)));
	printf("utimes missing: %s\n", err_name(utimes(path_in(dir, "nope"), NULL)));
	close(fd);
}

static const char *lock_result(int rc)
{
	return rc == 0 ? "granted" : strerror(errno);
}

static void locks(const char *dir)
{
	const char *p1 = path_in(dir, "posix.lck"), *p2 = path_in(dir, "ofd.lck");
	struct flock fl = { .l_type = F_WRLCK, .l_whence = SEEK_SET, .l_start = 0, .l_len = 100 };
	int a, b, c, dup_a;

	/* process-associated: two opens of one process never conflict */
	a = open(p1, O_RDWR | O_CREAT, 0644);
	b = open(p1, O_RDWR);
	printf("F_SETLK on 1st open: %s\n", lock_result(fcntl(a, F_SETLK, &fl)));
	printf("F_SETLK on 2nd open: %s\n", lock_result(fcntl(b, F_SETLK, &fl)));
	close(a);
	close(b);

	/* open file description: the second open conflicts */
	a = open(p2, O_RDWR | O_CREAT, 0644);
	b = open(p2, O_RDWR);
	printf("F_OFD_SETLK on 1st open: %s\n", lock_result(fcntl(a, F_OFD_SETLK, &fl)));
	printf("F_OFD_SETLK on 2nd open: %s\n", lock_result(fcntl(b, F_OFD_SETLK, &fl)));
	struct flock q = { .l_type = F_RDLCK, .l_whence = SEEK_SET, .l_start = 50, .l_len = 10 };
	printf("F_OFD_GETLK on 2nd open: %s\n", lock_result(fcntl(b, F_OFD_GETLK, &q)));
	printf("  conflict: %s %ld+%ld\n", q.l_type == F_WRLCK ? "write" : q.l_type == F_UNLCK ?
	       "none" : "read", (long)q.l_start, (long)q.l_len);
	struct flock r = { .l_type = F_RDLCK, .l_whence = SEEK_SET, .l_start = 200, .l_len = 10 };
	printf("F_OFD_SETLK elsewhere on 2nd open: %s\n", lock_result(fcntl(b, F_OFD_SETLK, &r)));
	r.l_pid = 1;
	printf("F_OFD_SETLK with l_pid set: %s\n", lock_result(fcntl(b, F_OFD_SETLK, &r)));
	/* a process lock conflicts with the other description's OFD lock */
	c = open(p2, O_RDWR);
	printf("F_SETLK over the OFD lock: %s\n", lock_result(fcntl(c, F_SETLK, &fl)));
	close(c);
	/* the lock stays while a dup of its description is open */
	dup_a = dup(a);
	close(a);
	printf("after closing the locker, a dup open: %s\n",
	       lock_result(fcntl(b, F_OFD_SETLK, &fl)));
	close(dup_a);
	printf("after closing its last descriptor: %s\n", lock_result(fcntl(b, F_OFD_SETLK, &fl)));
	fl.l_type = F_UNLCK;
	printf("F_OFD_SETLK unlock: %s\n", lock_result(fcntl(b, F_OFD_SETLK, &fl)));
	close(b);
}

int main(int argc, char **argv)
{
	if (argc != 3) {
		fprintf(stderr, "usage: calls_demo DIR local|dafs\n");
		return 2;
	}
	on_dafs = strcmp(argv[2], "dafs") == 0;
	setvbuf(stdout, NULL, _IOLBF, 0);
	vectors(argv[1]);
	allocation(argv[1]);
	directories(argv[1]);
	scandir_filter(argv[1]);
	times(argv[1]);
	locks(argv[1]);
	printf(failures ? "%d FAILED\n" : "all ok\n", failures);
	return failures != 0;
}
