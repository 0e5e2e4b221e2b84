/* aio_demo.c — POSIX aio on the files of a directory, printing what it saw.
 *
 *   aio_demo DIR [LOCALDIR]
 *
 * Writes and reads DIR/aio.dat with aio_write, aio_read, aio_fsync,
 * aio_suspend, aio_error, aio_return, aio_cancel and lio_listio (LIO_WAIT and
 * LIO_NOWAIT), with SIGEV_NONE, SIGEV_SIGNAL and SIGEV_THREAD notification,
 * and checks every byte. With LOCALDIR, one lio_listio also mixes in a
 * request on LOCALDIR/aio.local (a kernel file when DIR is under DAFS). The
 * output names no paths, so a run on a local directory and one on DAFS
 * under the shim print the same. Built plain and with
 * -D_FILE_OFFSET_BITS=64 (the aio_*64 names). Exit 0 when all is well.
 */
#include <aio.h>
#include <errno.h>
#include <fcntl.h>
#include <semaphore.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "demo_check.h"

#define BLK 65536
#define NBLK 4


static unsigned char pattern(off_t off)
{
	return (unsigned char)((off * 131 + off / 4096) & 0xff);
}

static void fill(unsigned char *buf, size_t n, off_t off)
{
	for (size_t i = 0; i < n; i++)
		buf[i] = pattern(off + (off_t)i);
}

static int check(const unsigned char *buf, size_t n, off_t off)
{
	for (size_t i = 0; i < n; i++)
		if (buf[i] != pattern(off + (off_t)i))
			return 0;
	return 1;
}

/* Waits (bounded) for cb to finish and returns aio_return. */
static ssize_t finish(struct aiocb *cb)
{
	const struct aiocb *list[1] = { cb };
	struct timespec ts = { 10, 0 };
	int e;

	while ((e = aio_error(cb)) == EINPROGRESS)
		if (aio_suspend(list, 1, &ts) < 0 && errno != EINTR) {
			printf("aio_suspend: %s\n", strerror(errno));
			return -1;
		}
	if (e)
		errno = e;
	return aio_return(cb);
}

static sem_t thread_sem;
static _Atomic int thread_value;

static void on_thread(union sigval v)
{
	thread_value = v.sival_int;
	sem_post(&thread_sem);
}

static int sem_wait10(sem_t *s)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	ts.tv_sec += 10;
	while (sem_timedwait(s, &ts) < 0)
		if (errno != EINTR)
			return -1;
	return 0;
}

/* The next SIGRTMIN (blocked, so taken here): its si_value and si_code. */
static int wait_signal(int *value, int *code)
{
	sigset_t set;
	siginfo_t si;
	struct timespec ts = { 10, 0 };

	sigemptyset(&set);
	sigaddset(&set, SIGRTMIN);
	if (sigtimedwait(&set, &si, &ts) < 0)
		return -1;
	*value = si.si_value.sival_int;
	*code = si.si_code;
	return 0;
}

static void setcb(struct aiocb *cb, int fd, void *buf, size_t n, off_t off, int op)
{
	memset(cb, 0, sizeof(*cb));
	cb->aio_fildes = fd;
	cb->aio_buf = buf;
	cb->aio_nbytes = n;
	cb->aio_offset = off;
	cb->aio_lio_opcode = op;
	cb->aio_sigevent.sigev_notify = SIGEV_NONE;
}

int main(int argc, char **argv)
{
	static unsigned char wbuf[NBLK][BLK], rbuf[NBLK][BLK], tail[4096];
	struct aiocb cbs[NBLK], cb, *list[NBLK + 1];
	const struct aiocb *clist[NBLK];
	struct sigevent sev;
	sigset_t set;
	char path[4096];
	int fd, lfd = -1, value, code, i;
	ssize_t r;
	off_t size = (off_t)NBLK * BLK - 1000;   /* the last block is short */

	if (argc < 2) {
		fprintf(stderr, "usage: aio_demo DIR [LOCALDIR]\n");
		return 2;
	}
	setvbuf(stdout, NULL, _IONBF, 0);
	sigemptyset(&set);
	sigaddset(&set, SIGRTMIN);
	sigprocmask(SIG_BLOCK, &set, NULL);
	sem_init(&thread_sem, 0, 0);

	snprintf(path, sizeof(path), "%s/aio.dat", argv[1]);
	fd = open(path, O_RDWR | O_CREAT | O_TRUNC, 0644);
	if (fd < 0) {
		printf("open: %s\n", strerror(errno));
		return 1;
	}

	/* aio_write of every block, SIGEV_NONE, then aio_suspend on them all. */
	for (i = 0; i < NBLK; i++) {
		size_t n = i == NBLK - 1 ? BLK - 1000 : BLK;
		fill(wbuf[i], n, (off_t)i * BLK);
		setcb(&cbs[i], fd, wbuf[i], n, (off_t)i * BLK, LIO_WRITE);
		CHECK(aio_write(&cbs[i]) == 0, "aio_write %d: %s", i, strerror(errno));
		clist[i] = &cbs[i];
	}
	for (i = 0; i < NBLK; i++) {
		r = finish(&cbs[i]);
		CHECK(r == (ssize_t)cbs[i].aio_nbytes, "aio_write %d returned %zd", i, r);
	}
	{
		struct timespec ts = { 5, 0 };
		CHECK(aio_suspend(clist, NBLK, &ts) == 0, "aio_suspend of finished requests");
	}
	printf("aio_write: %d requests done\n", NBLK);

	/* aio_fsync, polled with aio_error. */
	setcb(&cb, fd, NULL, 0, 0, LIO_NOP);
	CHECK(aio_fsync(O_SYNC, &cb) == 0, "aio_fsync: %s", strerror(errno));
	r = finish(&cb);
	printf("aio_fsync: %zd error %d\n", r, aio_error(&cb));
	CHECK(aio_fsync(12345, &cb) < 0 && errno == EINVAL, "aio_fsync with a bad op");

	/* aio_read with SIGEV_SIGNAL: si_value and si_code SI_ASYNCIO. */
	setcb(&cb, fd, rbuf[1], BLK, BLK, LIO_READ);
	cb.aio_sigevent.sigev_notify = SIGEV_SIGNAL;
	cb.aio_sigevent.sigev_signo = SIGRTMIN;
	cb.aio_sigevent.sigev_value.sival_int = 4242;
	CHECK(aio_read(&cb) == 0, "aio_read: %s", strerror(errno));
	CHECK(wait_signal(&value, &code) == 0, "no signal");
	r = finish(&cb);
	printf("aio_read SIGEV_SIGNAL: %zd bytes, value %d, SI_ASYNCIO %d, data %s\n", r, value,
	       code == SI_ASYNCIO, check(rbuf[1], BLK, BLK) ? "ok" : "BAD");

	/* aio_read with SIGEV_THREAD, short at the end of the file. */
	memset(rbuf[3], 0, BLK);
	setcb(&cb, fd, rbuf[3], BLK, 3 * BLK, LIO_READ);
	cb.aio_sigevent.sigev_notify = SIGEV_THREAD;
	cb.aio_sigevent.sigev_notify_function = on_thread;
	cb.aio_sigevent.sigev_value.sival_int = 77;
	CHECK(aio_read(&cb) == 0, "aio_read: %s", strerror(errno));
	CHECK(sem_wait10(&thread_sem) == 0, "no thread notification");
	r = finish(&cb);
	printf("aio_read SIGEV_THREAD: %zd bytes, value %d, data %s\n", r, thread_value,
	       check(rbuf[3], (size_t)r, 3 * BLK) ? "ok" : "BAD");

	/* Past the end: 0 bytes. */
	setcb(&cb, fd, tail, sizeof(tail), size + 5000, LIO_READ);
	CHECK(aio_read(&cb) == 0, "aio_read: %s", strerror(errno));
	printf("aio_read past EOF: %zd\n", finish(&cb));

	/* lio_listio LIO_WAIT: every block, each with its own SIGEV_THREAD
	 * notification too, and a NULL and a LIO_NOP entry. */
	memset(rbuf, 0, sizeof(rbuf));
	for (i = 0; i < NBLK; i++) {
		setcb(&cbs[i], fd, rbuf[i], BLK, (off_t)i * BLK, LIO_READ);
		cbs[i].aio_sigevent.sigev_notify = SIGEV_THREAD;
		cbs[i].aio_sigevent.sigev_notify_function = on_thread;
		cbs[i].aio_sigevent.sigev_value.sival_int = i;
		list[i] = &cbs[i];
	}
	list[NBLK] = NULL;
	CHECK(lio_listio(LIO_WAIT, list, NBLK + 1, NULL) == 0, "lio_listio LIO_WAIT: %s",
	      strerror(errno));
	for (i = 0; i < NBLK; i++) {
		CHECK(sem_wait10(&thread_sem) == 0, "no thread notification %d", i);
		r = aio_return(&cbs[i]);
		printf("lio_listio LIO_WAIT [%d]: %zd bytes, error %d, data %s\n", i, r,
		       aio_error(&cbs[i]), check(rbuf[i], (size_t)r, (off_t)i * BLK) ? "ok" : "BAD");
	}

	/* lio_listio LIO_NOWAIT with SIGEV_SIGNAL for the list. */
	memset(rbuf, 0, sizeof(rbuf));
	for (i = 0; i < NBLK; i++) {
		setcb(&cbs[i], fd, rbuf[i], BLK, (off_t)i * BLK, LIO_READ);
		list[i] = &cbs[i];
	}
	memset(&sev, 0, sizeof(sev));
	sev.sigev_notify = SIGEV_SIGNAL;
	sev.sigev_signo = SIGRTMIN;
	sev.sigev_value.sival_int = 99;
	CHECK(lio_listio(LIO_NOWAIT, list, NBLK, &sev) == 0, "lio_listio LIO_NOWAIT: %s",
	      strerror(errno));
	CHECK(wait_signal(&value, &code) == 0, "no list signal");
	printf("lio_listio LIO_NOWAIT SIGEV_SIGNAL: value %d\n", value);
	for (i = 0; i < NBLK; i++) {
		r = finish(&cbs[i]);
		printf("  [%d]: %zd bytes, data %s\n", i, r,
		       check(rbuf[i], (size_t)r, (off_t)i * BLK) ? "ok" : "BAD");
	}

	/* lio_listio LIO_NOWAIT with SIGEV_THREAD: rewrite two blocks and read
	 * back the first, in one list. */
	for (i = 0; i < 2; i++) {
		fill(wbuf[i], BLK, (off_t)i * BLK);
		setcb(&cbs[i], fd, wbuf[i], BLK, (off_t)i * BLK, LIO_WRITE);
		list[i] = &cbs[i];
	}
	sev.sigev_notify = SIGEV_THREAD;
	sev.sigev_notify_function = on_thread;
	sev.sigev_value.sival_int = 1234;
	CHECK(lio_listio(LIO_NOWAIT, list, 2, &sev) == 0, "lio_listio LIO_NOWAIT: %s",
	      strerror(errno));
	CHECK(sem_wait10(&thread_sem) == 0, "no list thread notification");
	printf("lio_listio LIO_NOWAIT SIGEV_THREAD: value %d, returns %zd %zd\n", thread_value,
	       finish(&cbs[0]), finish(&cbs[1]));

	/* A mixed list: this file and one in LOCALDIR. */
	if (argc > 2) {
		static unsigned char lbuf[BLK];
		snprintf(path, sizeof(path), "%s/aio.local", argv[2]);
		lfd = open(path, O_RDWR | O_CREAT | O_TRUNC, 0644);
		CHECK(lfd >= 0, "open %s: %s", path, strerror(errno));
		fill(lbuf, BLK, 0);
		memset(rbuf[0], 0, BLK);
		setcb(&cbs[0], lfd, lbuf, BLK, 0, LIO_WRITE);
		setcb(&cbs[1], fd, rbuf[0], BLK, 0, LIO_READ);
		list[0] = &cbs[0];
		list[1] = &cbs[1];
		CHECK(lio_listio(LIO_WAIT, list, 2, NULL) == 0, "mixed lio_listio: %s",
		      strerror(errno));
		printf("mixed lio_listio: %zd %zd, data %s\n", aio_return(&cbs[0]),
		       aio_return(&cbs[1]), check(rbuf[0], BLK, 0) ? "ok" : "BAD");
		close(lfd);
		unlink(path);
	}

	/* Everything is done: aio_cancel has nothing to cancel. */
	printf("aio_cancel: %s\n", aio_cancel(fd, NULL) == AIO_ALLDONE ? "AIO_ALLDONE" : "other");

	/* An O_APPEND descriptor appends whatever aio_offset says. */
	{
		int afd;
		snprintf(path, sizeof(path), "%s/aio.dat", argv[1]);
		afd = open(path, O_WRONLY | O_APPEND);
		CHECK(afd >= 0, "open O_APPEND: %s", strerror(errno));
		setcb(&cb, afd, "appended", 8, 0, LIO_WRITE);
		CHECK(aio_write(&cb) == 0, "aio_write O_APPEND: %s", strerror(errno));
		printf("aio_write O_APPEND: %zd\n", finish(&cb));
		close(afd);
	}

	/* The whole file, read plainly. */
	{
		struct stat st;
		unsigned long sum = 0;
		ssize_t n;
		CHECK(fstat(fd, &st) == 0, "fstat");
		lseek(fd, 0, SEEK_SET);
		while ((n = read(fd, tail, sizeof(tail))) > 0)
			for (ssize_t k = 0; k < n; k++)
				sum = sum * 31 + tail[k];
		printf("size %lld sum %lx\n", (long long)st.st_size, sum);
	}
	close(fd);
	printf("%s\n", failures ? "FAILED" : "all ok");
	return failures ? 1 : 0;
}
