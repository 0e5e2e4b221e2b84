/* wrap_aio.c — POSIX aio (aio_*, lio_listio) and libaio (io_*) on DAFS
 * descriptors.
 *
 * A request on a DAFS descriptor is performed when it is submitted, through
 * libdafs-core, by the submitting thread: POSIX lets a request complete
 * before aio_read returns, and the core only makes progress while a thread
 * waits on it anyway. What is asynchronous is what the program sees: the
 * result goes where libc or the kernel would put it and the notification is
 * delivered as asked.
 *
 * POSIX aio: the result lives in the aiocb's own result fields
 * (__error_code, __return_value), which is where glibc keeps it for its own
 * requests and what its aio_error and aio_return read; __error_code holds
 * EINPROGRESS while the request runs. So aio_error, aio_return and
 * aio_suspend need no table of ours, a reused aiocb cannot meet a stale
 * entry, and mixed lists (DAFS and kernel descriptors) work. Notification:
 * SIGEV_SIGNAL and SIGEV_THREAD_ID as glibc sends it (rt_sigqueueinfo,
 * si_code SI_ASYNCIO, si_value), SIGEV_THREAD on a new thread.
 *
 * libaio: libaio.so.1 is not libc, so its calls have a table of their own
 * in intercept.h, which real.c does not resolve (a program without libaio
 * would abort there); they are resolved here on first use. DAFS iocbs
 * complete at io_submit into a queue of events per io_context; io_getevents
 * hands those out first, then asks the kernel for the rest. Kernel iocbs go
 * to the real io_submit in order.
 */
#include <dlfcn.h>
#include <signal.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <time.h>
#include <unistd.h>

#include "shim.h"

/* ---- doing one request on a DAFS descriptor ---------------------------- */

enum { OP_READ, OP_WRITE, OP_READV, OP_WRITEV, OP_FSYNC, OP_FDSYNC };

/* The result of one request: bytes (or 0 for a sync) or a negative errno. */
static ssize_t dafs_do(struct dfile *d, int op, void *buf, size_t n, off_t off)
{
	struct dafs_file *f;
	const struct iovec *iov = buf;
	ssize_t r = 0, total = 0;
	int rc = shim_dfile_handle(d, &f);

	if (rc < 0)
		return rc;
	switch (op) {
	case OP_READ:
		return off < 0 ? -EINVAL : shim_core.dafs_pread(f, buf, n, off);
	case OP_WRITE:
		/* As the kernel and glibc do: an O_APPEND descriptor appends. */
		if (d->flags & O_APPEND)
			return shim_fd_write(d, buf, n);
		return off < 0 ? -EINVAL : shim_core.dafs_pwrite(f, buf, n, off);
	case OP_READV:
	case OP_WRITEV:
		if (n > IOV_MAX)
			return -EINVAL;
		for (size_t i = 0; i < n; i++) {
			if (op == OP_READV)
				r = off < 0 ? -EINVAL :
				    shim_core.dafs_pread(f, iov[i].iov_base, iov[i].iov_len, off);
			else if (d->flags & O_APPEND)
				r = shim_fd_write(d, iov[i].iov_base, iov[i].iov_len);
			else
				r = off < 0 ? -EINVAL :
				    shim_core.dafs_pwrite(f, iov[i].iov_base, iov[i].iov_len, off);
			if (r < 0)
				break;
			total += r;
			off += r;
			if ((size_t)r < iov[i].iov_len)
				break;
		}
		return total > 0 || r >= 0 ? total : r;
	case OP_FSYNC:
	case OP_FDSYNC:
		return shim_core.dafs_fsync(f, op == OP_FDSYNC);
	}
	return -EINVAL;
}

/* ---- notification -------------------------------------------------------- */

struct notify_thread {
	void (*fn)(union sigval);
	union sigval value;
};

static void *notify_main(void *arg)
{
	struct notify_thread nt = *(struct notify_thread *)arg;

	free(arg);
	nt.fn(nt.value);
	return NULL;
}

/* Delivers sev as glibc's aio does. Returns 0 or a negative errno. */
static int notify(const struct sigevent *sev)
{
	siginfo_t info;
	pthread_attr_t attr, *pattr;
	pthread_t t;
	struct notify_thread *nt;
	int rc;

	switch (sev->sigev_notify) {
	case SIGEV_NONE:
		return 0;
	case SIGEV_SIGNAL:
	case SIGEV_THREAD_ID:
		memset(&info, 0, sizeof(info));
		info.si_signo = sev->sigev_signo;
		info.si_code = SI_ASYNCIO;
		info.si_pid = getpid();
		info.si_uid = getuid();
		info.si_value = sev->sigev_value;
		if (sev->sigev_notify == SIGEV_SIGNAL)
			rc = (int)syscall(SYS_rt_sigqueueinfo, getpid(), sev->sigev_signo, &info);
		else
			rc = (int)syscall(SYS_rt_tgsigqueueinfo, getpid(), sev->_sigev_un._tid,
					  sev->sigev_signo, &info);
		return rc < 0 ? -errno : 0;
	case SIGEV_THREAD:
		if (!sev->sigev_notify_function)
			return -EINVAL;
		if (!(nt = malloc(sizeof(*nt))))
			return -ENOMEM;
		nt->fn = sev->sigev_notify_function;
		nt->value = sev->sigev_value;
		/* The program's attributes as given (as glibc does); ours detached. */
		pattr = sev->sigev_notify_attributes;
		if (!pattr) {
			pattr = &attr;
			pthread_attr_init(&attr);
			pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
		}
		rc = pthread_create(&t, pattr, notify_main, nt);
		if (pattr == &attr)
			pthread_attr_destroy(&attr);
		if (rc) {
			free(nt);
			return -rc;
		}
		return 0;
	}
	return -EINVAL;
}

/* ---- POSIX aio ----------------------------------------------------------- */

/* x86_64: struct aiocb64 is struct aiocb (aio.h says as much), so the 64-bit
 * names share the bodies. */
_Static_assert(sizeof(struct aiocb) == sizeof(struct aiocb64), "aiocb64 differs");

/* DAFS requests in progress (between submit and result), for aio_suspend. */
static pthread_mutex_t aio_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t aio_done_cv = PTHREAD_COND_INITIALIZER;
static _Atomic int aio_inflight;

static int cb_error(const struct aiocb *cb)
{
	return __atomic_load_n(&cb->__error_code, __ATOMIC_ACQUIRE);
}

/* Performs cb (a DAFS descriptor's, d) and records the result in it. The
 * notification is the caller's (lio_listio notifies per request too). */
static void aio_run(struct dfile *d, struct aiocb *cb, int op)
{
	ssize_t r;

	atomic_fetch_add(&aio_inflight, 1);
	cb->__return_value = -1;
	__atomic_store_n(&cb->__error_code, EINPROGRESS, __ATOMIC_RELEASE);
	r = dafs_do(d, op, (void *)cb->aio_buf, cb->aio_nbytes, cb->aio_offset);
	cb->__return_value = r < 0 ? -1 : r;
	__atomic_store_n(&cb->__error_code, r < 0 ? (int)-r : 0, __ATOMIC_RELEASE);
	pthread_mutex_lock(&aio_lock);
	atomic_fetch_sub(&aio_inflight, 1);
	pthread_cond_broadcast(&aio_done_cv);
	pthread_mutex_unlock(&aio_lock);
}

static void aio_notify(struct aiocb *cb)
{
	int rc = notify(&cb->aio_sigevent);

	if (rc < 0 && shim_debug)
		shim_log("aio notification on descriptor %d failed: %s", cb->aio_fildes,
			 strerror(-rc));
}

/* One request submitted alone: aio_read, aio_write, aio_fsync. */
static int aio_submit(struct dfile *d, struct aiocb *cb, int op)
{
	if (cb->aio_sigevent.sigev_notify != SIGEV_NONE &&
	    cb->aio_sigevent.sigev_notify != SIGEV_SIGNAL &&
	    cb->aio_sigevent.sigev_notify != SIGEV_THREAD &&
	    cb->aio_sigevent.sigev_notify != SIGEV_THREAD_ID) {
		shim_dfile_put(d);
		return shim_err(-EINVAL);
	}
	aio_run(d, cb, op);
	shim_dfile_put(d);
	aio_notify(cb);
	return 0;
}

/* d for a DAFS descriptor (with a reference), or return real_call. */
#define AIO_DFILE_OR_REAL(d, fd, real_call)                        \
	struct dfile *d;                                           \
	if (!shim_fd_maybe(fd) || !(d = shim_fd_get(fd)))          \
		return real_call

int aio_read(struct aiocb *cb)
{
	AIO_DFILE_OR_REAL(d, cb->aio_fildes, REAL(aio_read)(cb));
	return aio_submit(d, cb, OP_READ);
}

int aio_read64(struct aiocb64 *cb)
{
	AIO_DFILE_OR_REAL(d, cb->aio_fildes, REAL(aio_read64)(cb));
	return aio_submit(d, (struct aiocb *)cb, OP_READ);
}

int aio_write(struct aiocb *cb)
{
	AIO_DFILE_OR_REAL(d, cb->aio_fildes, REAL(aio_write)(cb));
	return aio_submit(d, cb, OP_WRITE);
}

int aio_write64(struct aiocb64 *cb)
{
	AIO_DFILE_OR_REAL(d, cb->aio_fildes, REAL(aio_write64)(cb));
	return aio_submit(d, (struct aiocb *)cb, OP_WRITE);
}

static int fsync_op(int op, struct dfile *d)
{
	if (op == O_SYNC)
		return OP_FSYNC;
	if (op == O_DSYNC)
		return OP_FDSYNC;
	shim_dfile_put(d);
	return -1;
}

int aio_fsync(int op, struct aiocb *cb)
{
	int o;

	AIO_DFILE_OR_REAL(d, cb->aio_fildes, REAL(aio_fsync)(op, cb));
	if ((o = fsync_op(op, d)) < 0)
		return shim_err(-EINVAL);
	return aio_submit(d, cb, o);
}

int aio_fsync64(int op, struct aiocb64 *cb)
{
	int o;

	AIO_DFILE_OR_REAL(d, cb->aio_fildes, REAL(aio_fsync64)(op, cb));
	if ((o = fsync_op(op, d)) < 0)
		return shim_err(-EINVAL);
	return aio_submit(d, (struct aiocb *)cb, o);
}

/* The result fields are the state for both kinds of request (see the top). */
int aio_error(const struct aiocb *cb)
{
	return REAL(aio_error)(cb);
}

int aio_error64(const struct aiocb64 *cb)
{
	return REAL(aio_error64)(cb);
}

ssize_t aio_return(struct aiocb *cb)
{
	return REAL(aio_return)(cb);
}

ssize_t aio_return64(struct aiocb64 *cb)
{
	return REAL(aio_return64)(cb);
}

/* Every DAFS request is finished by the time its submit returns, so only a
 * request another thread is still running can make us wait for DAFS; the
 * kernel's are glibc's business. glibc's own aio_suspend returns at once
 * when it meets a finished request, and cannot wait for one it does not
 * know (a DAFS one in progress): those lists are waited on here, in short
 * slices that also recheck the kernel requests. */
static int suspend(const struct aiocb *const list[], int n, const struct timespec *timeout,
		   bool is64)
{
	struct timespec now, end, slice;
	bool any;
	int i;

	if (n < 0)
		return shim_err(-EINVAL);
	if (atomic_load(&aio_inflight) == 0)
		goto real;
	if (timeout) {
		clock_gettime(CLOCK_MONOTONIC, &end);
		end.tv_sec += timeout->tv_sec;
		end.tv_nsec += timeout->tv_nsec;
		if (end.tv_nsec >= 1000000000L) {
			end.tv_sec++;
			end.tv_nsec -= 1000000000L;
		}
	}
	for (;;) {
		any = false;
		for (i = 0; i < n; i++) {
			if (!list[i])
				continue;
			any = true;
			if (cb_error(list[i]) != EINPROGRESS)
				return 0;
		}
		if (!any || atomic_load(&aio_inflight) == 0)
			goto real;
		clock_gettime(CLOCK_MONOTONIC, &now);
		if (timeout && (now.tv_sec > end.tv_sec ||
				(now.tv_sec == end.tv_sec && now.tv_nsec >= end.tv_nsec)))
			return shim_err(-EAGAIN);
		clock_gettime(CLOCK_REALTIME, &slice);   /* the condition's clock */
		slice.tv_nsec += 2000000L;
		if (slice.tv_nsec >= 1000000000L) {
			slice.tv_sec++;
			slice.tv_nsec -= 1000000000L;
		}
		pthread_mutex_lock(&aio_lock);
		if (atomic_load(&aio_inflight) > 0)
			pthread_cond_timedwait(&aio_done_cv, &aio_lock, &slice);
		pthread_mutex_unlock(&aio_lock);
	}
real:
	return is64 ? REAL(aio_suspend64)((const struct aiocb64 *const *)list, n, timeout) :
		      REAL(aio_suspend)(list, n, timeout);
}

int aio_suspend(const struct aiocb *const list[], int n, const struct timespec *timeout)
{
	return suspend(list, n, timeout, false);
}

int aio_suspend64(const struct aiocb64 *const list[], int n, const struct timespec *timeout)
{
	return suspend((const struct aiocb *const *)list, n, timeout, true);
}

/* A DAFS request is never in progress by the time another call could name
 * it: nothing to cancel, all done. */
static int cancel(int fd, struct aiocb *cb, bool is64)
{
	AIO_DFILE_OR_REAL(d, fd, is64 ? REAL(aio_cancel64)(fd, (struct aiocb64 *)cb) :
				 REAL(aio_cancel)(fd, cb));
	shim_dfile_put(d);
	if (cb && cb->aio_fildes != fd)
		return shim_err(-EINVAL);
	return AIO_ALLDONE;
}

int aio_cancel(int fd, struct aiocb *cb)
{
	return cancel(fd, cb, false);
}

int aio_cancel64(int fd, struct aiocb64 *cb)
{
	return cancel(fd, (struct aiocb *)cb, true);
}

/* The DAFS requests of the list are done here, in order; the others go to
 * libc's lio_listio as one list. With LIO_NOWAIT the list's notification
 * is sent when all are done: at once when there are no kernel requests,
 * else by libc with the kernel part (ours are done before it starts). */
static int listio(int mode, struct aiocb *const list[], int n, struct sigevent *sev, bool is64)
{
	struct aiocb **kern = NULL;
	int nk = 0, i, rc, failed = 0;

	if ((mode != LIO_WAIT && mode != LIO_NOWAIT) || n < 0)
		return shim_err(-EINVAL);
	for (i = 0; i < n; i++)
		if (list[i] && list[i]->aio_lio_opcode != LIO_NOP &&
		    shim_fd_maybe(list[i]->aio_fildes))
			break;
	if (i == n)     /* nothing of ours */
		return is64 ? REAL(lio_listio64)(mode, (struct aiocb64 *const *)list, n, sev) :
			      REAL(lio_listio)(mode, list, n, sev);
	if (mode == LIO_NOWAIT && sev && sev->sigev_notify != SIGEV_NONE &&
	    sev->sigev_notify != SIGEV_SIGNAL && sev->sigev_notify != SIGEV_THREAD &&
	    sev->sigev_notify != SIGEV_THREAD_ID)
		return shim_err(-EINVAL);
	if (!(kern = malloc(sizeof(*kern) * (size_t)n)))
		return shim_err(-EAGAIN);
	for (i = 0; i < n; i++) {
		struct aiocb *cb = list[i];
		struct dfile *d;
		int op;

		if (!cb || cb->aio_lio_opcode == LIO_NOP)
			continue;
		if (!shim_fd_maybe(cb->aio_fildes) || !(d = shim_fd_get(cb->aio_fildes))) {
			kern[nk++] = cb;
			continue;
		}
		if (cb->aio_lio_opcode == LIO_READ) {
			op = OP_READ;
		} else if (cb->aio_lio_opcode == LIO_WRITE) {
			op = OP_WRITE;
		} else {
			shim_dfile_put(d);
			cb->__return_value = -1;
			__atomic_store_n(&cb->__error_code, EINVAL, __ATOMIC_RELEASE);
			failed = 1;
			continue;
		}
		aio_run(d, cb, op);
		shim_dfile_put(d);
		if (cb_error(cb))
			failed = 1;
		aio_notify(cb);
	}
	if (nk > 0) {
		rc = is64 ? REAL(lio_listio64)(mode, (struct aiocb64 *const *)kern, nk,
					       mode == LIO_NOWAIT ? sev : NULL) :
			    REAL(lio_listio)(mode, kern, nk, mode == LIO_NOWAIT ? sev : NULL);
		free(kern);
		if (rc < 0)
			return rc;
	} else {
		free(kern);
		if (mode == LIO_NOWAIT && sev && (rc = notify(sev)) < 0 && shim_debug)
			shim_log("lio_listio notification failed: %s", strerror(-rc));
	}
	/* LIO_WAIT: EIO when a request failed, as libc says; LIO_NOWAIT: the
	 * requests were all accepted, their errors are in their aiocbs. */
	if (mode == LIO_WAIT && failed)
		return shim_err(-EIO);
	return 0;
}

int lio_listio(int mode, struct aiocb *const list[], int n, struct sigevent *sev)
{
	return listio(mode, list, n, sev, false);
}

int lio_listio64(int mode, struct aiocb64 *const list[], int n, struct sigevent *sev)
{
	return listio(mode, (struct aiocb *const *)list, n, sev, true);
}

/* ---- libaio -------------------------------------------------------------- */

/* The kernel's ABI (linux/aio_abi.h), which libaio's structures spell
 * differently; declared here so the shim builds without libaio-dev
 * (io_context_t and the calls' prototypes are intercept.h's). */
struct iocb {
	uint64_t aio_data;
	uint32_t aio_key;
	int32_t aio_rw_flags;
	uint16_t aio_lio_opcode;
	int16_t aio_reqprio;
	uint32_t aio_fildes;
	uint64_t aio_buf;
	uint64_t aio_nbytes;
	int64_t aio_offset;
	uint64_t aio_reserved2;
	uint32_t aio_flags;
	uint32_t aio_resfd;
};
struct io_event {
	uint64_t data;
	uint64_t obj;
	int64_t res;
	int64_t res2;
};
_Static_assert(sizeof(struct iocb) == 64, "struct iocb is the kernel's");
_Static_assert(sizeof(struct io_event) == 32, "struct io_event is the kernel's");

enum { IOCB_PREAD = 0, IOCB_PWRITE = 1, IOCB_FSYNC = 2, IOCB_FDSYNC = 3,
       IOCB_PREADV = 7, IOCB_PWRITEV = 8 };
#define IOCB_FLAG_RESFD 1u

/* libaio's definitions, resolved on first use: a program calling these has
 * libaio loaded. They return a negative errno, as libaio's do. */
static struct {
	int (*setup)(int, io_context_t *);
	int (*destroy)(io_context_t);
	int (*submit)(io_context_t, long, struct iocb **);
	int (*cancel)(io_context_t, struct iocb *, struct io_event *);
	int (*getevents)(io_context_t, long, long, struct io_event *, struct timespec *);
} la;

static void *la_sym(void **slot, const char *name)
{
	void *p = __atomic_load_n(slot, __ATOMIC_ACQUIRE);

	if (!p) {
		p = dlsym(RTLD_NEXT, name);
		__atomic_store_n(slot, p, __ATOMIC_RELEASE);
	}
	return p;
}
#define LA(field, name) \
	((__typeof__(la.field))la_sym((void **)&la.field, name))

/* The events of DAFS iocbs not yet reaped, per context. */
struct ctxq {
	struct ctxq *next;
	io_context_t ctx;
	struct io_event *ev;
	size_t head, count, cap;
};
static struct ctxq *ctxqs;
static pthread_mutex_t ctx_lock = PTHREAD_MUTEX_INITIALIZER;
static _Atomic int ctx_pending;         /* events queued in all contexts */

static struct ctxq **ctxq_find(io_context_t ctx)
{
	struct ctxq **p;

	for (p = &ctxqs; *p && (*p)->ctx != ctx; p = &(*p)->next)
		;
	return p;
}

static void ctxq_drop(io_context_t ctx)
{
	struct ctxq **p, *q;

	pthread_mutex_lock(&ctx_lock);
	p = ctxq_find(ctx);
	if ((q = *p)) {
		*p = q->next;
		atomic_fetch_sub(&ctx_pending, (int)q->count);
		free(q->ev);
		free(q);
	}
	pthread_mutex_unlock(&ctx_lock);
}

static int ctxq_push(io_context_t ctx, const struct io_event *e)
{
	struct ctxq **p, *q;
	int rc = 0;

	pthread_mutex_lock(&ctx_lock);
	p = ctxq_find(ctx);
	if (!(q = *p)) {
		if (!(q = calloc(1, sizeof(*q)))) {
			rc = -EAGAIN;
			goto out;
		}
		q->ctx = ctx;
		*p = q;
	}
	if (q->count == q->cap) {
		size_t cap = q->cap ? q->cap * 2 : 64;
		struct io_event *ev = malloc(cap * sizeof(*ev));

		if (!ev) {
			rc = -EAGAIN;
			goto out;
		}
		for (size_t i = 0; i < q->count; i++)
			ev[i] = q->ev[(q->head + i) % q->cap];
		free(q->ev);
		q->ev = ev;
		q->cap = cap;
		q->head = 0;
	}
	q->ev[(q->head + q->count) % q->cap] = *e;
	q->count++;
	atomic_fetch_add(&ctx_pending, 1);
out:
	pthread_mutex_unlock(&ctx_lock);
	return rc;
}

static long ctxq_pop(io_context_t ctx, struct io_event *out, long max)
{
	struct ctxq *q;
	long n = 0;

	if (max <= 0 || atomic_load(&ctx_pending) == 0)
		return 0;
	pthread_mutex_lock(&ctx_lock);
	if ((q = *ctxq_find(ctx))) {
		for (; n < max && q->count > 0; n++) {
			out[n] = q->ev[q->head];
			q->head = (q->head + 1) % q->cap;
			q->count--;
		}
		atomic_fetch_sub(&ctx_pending, (int)n);
	}
	pthread_mutex_unlock(&ctx_lock);
	return n;
}

int io_setup(int maxevents, io_context_t *ctxp)
{
	int rc;

	if (!LA(setup, "io_setup"))
		return -ENOSYS;
	rc = la.setup(maxevents, ctxp);
	if (rc == 0)
		ctxq_drop(*ctxp);     /* a number a destroyed context had */
	return rc;
}

int io_destroy(io_context_t ctx)
{
	if (!LA(destroy, "io_destroy"))
		return -ENOSYS;
	ctxq_drop(ctx);
	return la.destroy(ctx);
}

/* Performs a DAFS iocb and queues its event: 0, or a negative errno when
 * the iocb is refused (as io_submit refuses it). */
static int iocb_run(io_context_t ctx, struct dfile *d, struct iocb *io)
{
	struct io_event e = { .data = io->aio_data, .obj = (uint64_t)(uintptr_t)io };
	uint64_t one = 1;
	int op, rc;

	switch (io->aio_lio_opcode) {
	case IOCB_PREAD: op = OP_READ; break;
	case IOCB_PWRITE: op = OP_WRITE; break;
	case IOCB_PREADV: op = OP_READV; break;
	case IOCB_PWRITEV: op = OP_WRITEV; break;
	case IOCB_FSYNC: op = OP_FSYNC; break;
	case IOCB_FDSYNC: op = OP_FDSYNC; break;
	default: return -EINVAL;
	}
	e.res = dafs_do(d, op, (void *)(uintptr_t)io->aio_buf, io->aio_nbytes, io->aio_offset);
	if ((rc = ctxq_push(ctx, &e)) < 0)
		return rc;
	if ((io->aio_flags & IOCB_FLAG_RESFD) &&
	    REAL(write)((int)io->aio_resfd, &one, sizeof(one)) < 0 && shim_debug)
		shim_log("io_submit: eventfd %u: %s", io->aio_resfd, strerror(errno));
	return 0;
}

int io_submit(io_context_t ctx, long nr, struct iocb *ios[])
{
	long i = 0, j, done = 0;
	int rc = 0;

	if (!LA(submit, "io_submit"))
		return -ENOSYS;
	if (nr < 0)
		return -EINVAL;
	while (i < nr) {
		struct dfile *d = NULL;

		if (!ios[i]) {
			rc = -EFAULT;
			break;
		}
		if (shim_fd_maybe((int)ios[i]->aio_fildes) &&
		    (d = shim_fd_get((int)ios[i]->aio_fildes))) {
			rc = iocb_run(ctx, d, ios[i]);
			shim_dfile_put(d);
			if (rc < 0)
				break;
			i++;
			done++;
			continue;
		}
		/* A run of kernel iocbs goes to the kernel in one call. */
		for (j = i; j < nr && ios[j] && !shim_fd_maybe((int)ios[j]->aio_fildes); j++)
			;
		rc = la.submit(ctx, j - i, ios + i);
		if (rc < 0)
			break;
		done += rc;
		if (rc < j - i)
			break;
		i = j;
		rc = 0;
	}
	return done > 0 ? (int)done : rc;
}

int io_getevents(io_context_t ctx, long min_nr, long nr, struct io_event *events,
		 struct timespec *timeout)
{
	struct timespec zero = { 0, 0 };
	long k;
	int rc;

	if (!LA(getevents, "io_getevents"))
		return -ENOSYS;
	if (min_nr < 0 || nr < 0 || min_nr > nr)
		return -EINVAL;
	k = ctxq_pop(ctx, events, nr);
	if (k == nr)
		return (int)k;
	/* Ours first, then the kernel's: without waiting when ours already
	 * make min_nr, else for the rest of min_nr within the timeout. */
	rc = la.getevents(ctx, k >= min_nr ? 0 : min_nr - k, nr - k, events + k,
			  k >= min_nr ? &zero : timeout);
	if (rc < 0)
		return k > 0 ? (int)k : rc;
	return (int)(k + rc);
}

/* A DAFS iocb is finished when io_submit returns: it cannot be canceled. */
int io_cancel(io_context_t ctx, struct iocb *iocb, struct io_event *evt)
{
	if (!LA(cancel, "io_cancel"))
		return -ENOSYS;
	if (iocb && shim_fd_maybe((int)iocb->aio_fildes))
		return -EAGAIN;
	return la.cancel(ctx, iocb, evt);
}
