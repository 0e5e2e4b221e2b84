/* libaio_demo.c — libaio on the files of a directory, printing what it saw.
 *
 *   libaio_demo DIR [LOCALDIR]
 *
 * Writes DIR/libaio.dat with IO_CMD_PWRITE and IO_CMD_PWRITEV, syncs it with
 * IO_CMD_FSYNC and IO_CMD_FDSYNC, reads it back with IO_CMD_PREAD and
 * IO_CMD_PREADV (the last read short: io_getevents must report the true
 * byte count), signals an eventfd (IOCB_FLAG_RESFD), and checks every byte.
 * With LOCALDIR, one io_submit mixes iocbs on LOCALDIR/libaio.local (a
 * kernel file when DIR is under DAFS) with those on DIR, and io_getevents
 * must return both kinds. Output names no paths. Link with -laio.
 */
#include <errno.h>
#include <fcntl.h>
#include <libaio.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <time.h>
#include <unistd.h>

#include "demo_check.h"

#define BLK 32768
#define NBLK 8


static unsigned char pattern(long long off)
{
	return (unsigned char)((off * 7 + off / 1000) & 0xff);
}

static void fill(unsigned char *buf, size_t n, long long off)
{
	for (size_t i = 0; i < n; i++)
		buf[i] = pattern(off + (long long)i);
}

static int check(const unsigned char *buf, size_t n, long long off)
{
	for (size_t i = 0; i < n; i++)
		if (buf[i] != pattern(off + (long long)i))
			return 0;
	return 1;
}

/* Reaps exactly n events (bounded), in the order of the iocbs given. */
static int reap(io_context_t ctx, struct iocb **ios, int n, long *res)
{
	struct io_event ev[64];
	struct timespec ts = { 10, 0 };
	int got = 0;

	while (got < n) {
		int r = io_getevents(ctx, 1, n - got, ev, &ts);
		if (r <= 0) {
			printf("io_getevents: %s\n", r < 0 ? strerror(-r) : "timed out");
			return -1;
		}
		for (int i = 0; i < r; i++) {
			int j;
			for (j = 0; j < n && ios[j] != ev[i].obj; j++)
				;
			if (j == n || ev[i].data != (void *)(uintptr_t)(1000 + j)) {
				printf("io_getevents: an event for an unknown iocb\n");
				return -1;
			}
			res[j] = (long)ev[i].res;
		}
		got += r;
	}
	return 0;
}

int main(int argc, char **argv)
{
	static unsigned char wbuf[NBLK][BLK], rbuf[NBLK][BLK], lbuf[BLK];
	struct iocb cbs[NBLK + 2], *ios[NBLK + 2];
	struct iovec iov[3];
	io_context_t ctx = 0;
	long res[NBLK + 2];
	char path[4096];
	int fd, lfd, efd, i, r;
	long long size = (long long)NBLK * BLK - 500;

	if (argc < 2) {
		fprintf(stderr, "usage: libaio_demo DIR [LOCALDIR]\n");
		return 2;
	}
	setvbuf(stdout, NULL, _IONBF, 0);
	snprintf(path, sizeof(path), "%s/libaio.dat", argv[1]);
	fd = open(path, O_RDWR | O_CREAT | O_TRUNC, 0644);
	if (fd < 0) {
		printf("open: %s\n", strerror(errno));
		return 1;
	}
	r = io_setup(64, &ctx);
	if (r < 0) {
		printf("io_setup: %s\n", strerror(-r));
		return 1;
	}

	/* Blocks 0..NBLK-2 with IO_CMD_PWRITE, the last (short) with PWRITEV
	 * in three pieces; one submit. */
	for (i = 0; i < NBLK; i++) {
		fill(wbuf[i], BLK, (long long)i * BLK);
		if (i < NBLK - 1)
			io_prep_pwrite(&cbs[i], fd, wbuf[i], BLK, (long long)i * BLK);
		ios[i] = &cbs[i];
		cbs[i].data = (void *)(uintptr_t)(1000 + i);
	}
	iov[0] = (struct iovec){ wbuf[NBLK - 1], 100 };
	iov[1] = (struct iovec){ wbuf[NBLK - 1] + 100, 1000 };
	iov[2] = (struct iovec){ wbuf[NBLK - 1] + 1100, BLK - 1100 - 500 };
	io_prep_pwritev(&cbs[NBLK - 1], fd, iov, 3, (long long)(NBLK - 1) * BLK);
	cbs[NBLK - 1].data = (void *)(uintptr_t)(1000 + NBLK - 1);
	r = io_submit(ctx, NBLK, ios);
	CHECK(r == NBLK, "io_submit writes: %d", r);
	CHECK(reap(ctx, ios, NBLK, res) == 0, "reaping writes");
	for (i = 0; i < NBLK; i++)
		printf("write [%d]: %ld\n", i, res[i]);

	/* IO_CMD_FSYNC and IO_CMD_FDSYNC, the second signalling an eventfd. */
	efd = eventfd(0, 0);
	CHECK(efd >= 0, "eventfd: %s", strerror(errno));
	io_prep_fsync(&cbs[0], fd);
	io_prep_fdsync(&cbs[1], fd);
	io_set_eventfd(&cbs[1], efd);
	for (i = 0; i < 2; i++) {
		cbs[i].data = (void *)(uintptr_t)(1000 + i);
		ios[i] = &cbs[i];
	}
	r = io_submit(ctx, 2, ios);
	CHECK(r == 2, "io_submit syncs: %d", r);
	CHECK(reap(ctx, ios, 2, res) == 0, "reaping syncs");
	{
		uint64_t cnt = 0;
		CHECK(read(efd, &cnt, sizeof(cnt)) == sizeof(cnt), "eventfd read");
		printf("fsync %ld fdsync %ld eventfd %llu\n", res[0], res[1],
		       (unsigned long long)cnt);
	}

	/* Read back: PREAD of full blocks (the last short), one PREADV. */
	memset(rbuf, 0, sizeof(rbuf));
	for (i = 0; i < NBLK; i++) {
		if (i == 2) {
			iov[0] = (struct iovec){ rbuf[i], 5000 };
			iov[1] = (struct iovec){ rbuf[i] + 5000, BLK - 5000 };
			io_prep_preadv(&cbs[i], fd, iov, 2, (long long)i * BLK);
		} else {
			io_prep_pread(&cbs[i], fd, rbuf[i], BLK, (long long)i * BLK);
		}
		cbs[i].data = (void *)(uintptr_t)(1000 + i);
		ios[i] = &cbs[i];
	}
	/* And one past the end. */
	io_prep_pread(&cbs[NBLK], fd, lbuf, BLK, size + 100);
	cbs[NBLK].data = (void *)(uintptr_t)(1000 + NBLK);
	ios[NBLK] = &cbs[NBLK];
	r = io_submit(ctx, NBLK + 1, ios);
	CHECK(r == NBLK + 1, "io_submit reads: %d", r);
	CHECK(reap(ctx, ios, NBLK + 1, res) == 0, "reaping reads");
	for (i = 0; i < NBLK; i++)
		printf("read [%d]: %ld data %s\n", i, res[i],
		       res[i] > 0 && check(rbuf[i], (size_t)res[i], (long long)i * BLK) ? "ok" : "BAD");
	printf("read past EOF: %ld\n", res[NBLK]);

	/* Nothing left: a zero timeout returns no events. */
	{
		struct io_event ev[4];
		struct timespec zero = { 0, 0 };
		printf("io_getevents when idle: %d\n", io_getevents(ctx, 0, 4, ev, &zero));
	}

	/* A mixed submit: a local file's iocbs around ours. */
	if (argc > 2) {
		snprintf(path, sizeof(path), "%s/libaio.local", argv[2]);
		lfd = open(path, O_RDWR | O_CREAT | O_TRUNC, 0644);
		CHECK(lfd >= 0, "open local: %s", strerror(errno));
		fill(lbuf, BLK, 0);
		memset(rbuf[0], 0, BLK);
		memset(rbuf[1], 0, BLK);
		io_prep_pwrite(&cbs[0], lfd, lbuf, BLK, 0);
		io_prep_pread(&cbs[1], fd, rbuf[0], BLK, 0);
		io_prep_fsync(&cbs[2], lfd);
		io_prep_pread(&cbs[3], fd, rbuf[1], BLK, BLK);
		for (i = 0; i < 4; i++) {
			cbs[i].data = (void *)(uintptr_t)(1000 + i);
			ios[i] = &cbs[i];
		}
		r = io_submit(ctx, 4, ios);
		CHECK(r == 4, "mixed io_submit: %d", r);
		CHECK(reap(ctx, ios, 4, res) == 0, "reaping mixed");
		printf("mixed: %ld %ld %ld %ld data %s\n", res[0], res[1], res[2], res[3],
		       check(rbuf[0], BLK, 0) && check(rbuf[1], BLK, BLK) ? "ok" : "BAD");
		close(lfd);
		unlink(path);
	}

	/* An unknown opcode is refused by io_submit. */
	io_prep_pread(&cbs[0], fd, rbuf[0], BLK, 0);
	cbs[0].aio_lio_opcode = 99;
	ios[0] = &cbs[0];
	r = io_submit(ctx, 1, ios);
	printf("io_submit bad opcode: %s\n", r < 0 ? strerror(-r) : "accepted");

	CHECK(io_destroy(ctx) == 0, "io_destroy");
	{
		struct stat st;
		CHECK(fstat(fd, &st) == 0, "fstat");
		printf("size %lld\n", (long long)st.st_size);
	}
	close(fd);
	printf("%s\n", failures ? "FAILED" : "all ok");
	return failures ? 1 : 0;
}
