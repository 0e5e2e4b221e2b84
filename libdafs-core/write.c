/* write.c — the write pipeline: writes that return once their data has left
 * the process, the deferred errors they leave, coalescing of small ones,
 * and the waits for them (flush, session sync, close). */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "client.h"

/* ---- Pipelined writes ------------------------------------------------------
 *
 * A write of up to PIPELINE_MAX bytes returns as soon as its data has left
 * the process (the inline send completed: it is in the server's receive
 * queue or the kernel's socket buffer), so a killed writer loses nothing
 * that write returned for, and many writes are in flight at once, up to the
 * session's credits. What the server answers later is kept: the first error
 * comes back from the next write, fsync or close of the file. Larger writes,
 * and O_APPEND, O_SYNC, O_DSYNC and O_DIRECT files, wait for the reply. */

#define PIPELINE_MAX (256u << 10)

/* The error of a write that failed after it returned, once. */
int take_write_err(struct dafs_file *f)
{
	int err;

	assert_session_locked(f->s);
	err = f->write_err;
	f->write_err = 0;
	return err;
}

static ssize_t finish_pipelined(struct dafs_req *req, struct dafs_reply *rep)
{
	struct dafs_file *f = req->file;
	ssize_t rc = finish_write(req, rep);

	if (rc >= 0 && (size_t)rc != req->out_len)
		rc = -EIO;
	if (rc < 0) {
		if (!f->write_err)
			f->write_err = (int)rc;
		cache_invalidate(f);    /* the cache holds what the server refused */
	}
	f->writes_inflight--;
	req->s->writes_inflight--;
	return rc;
}

/* Sends one inline WRITE and waits until the data has left. Session locked. */
static int send_write(struct dafs_file *f, const char *buf, size_t len, off_t off)
{
	struct dafs_session *s = f->s;
	struct dafs_compound *rq = compound_alloc();
	struct dafs_req *req = rq ? req_new_internal(s, finish_pipelined) : NULL;
	struct msgbuf *m;
	uint64_t sent;
	int rc;

	assert_session_locked(s);
	if (!req) {
		compound_free(rq);
		return -ENOMEM;
	}
	req->pipelined = true;
	req->file = f;
	req->out_len = len;
	/* The server may run requests in any order: an overlapping write
	 * still in flight could land after this one. */
	while (f->writes_inflight && off < f->inflight_hi && off + (off_t)len > f->inflight_lo &&
	       !s->dead)
		client_progress(s, 10);
	rq->nops = 1;
	/* len <= inline_max: an inline WRITE, cached pages updated on the way. */
	fill_io(req, &rq->ops[0], f, (void *)buf, len, off, true);
	rc = req_submit_locked(req, rq);
	compound_free(rq);
	if (rc)
		return rc;
	if (f->writes_inflight++ == 0) {
		f->inflight_lo = off;
		f->inflight_hi = off + (off_t)len;
	} else {
		f->inflight_lo = off < f->inflight_lo ? off : f->inflight_lo;
		f->inflight_hi = off + (off_t)len > f->inflight_hi ? off + (off_t)len : f->inflight_hi;
	}
	s->writes_inflight++;
	s->write_sends++;
	m = &s->sends[req->slot];
	sent = m->sends;
	while (m->busy && m->sends == sent && !s->dead)
		client_progress(s, 10);
	return m->busy && m->sends == sent ? s->dead : 0;
}

/* ---- Write coalescing (off unless asked for: see dafs_pwrite in dafs.h) ----
 *
 * Under the default guarantee a single-threaded writer leaves nothing to
 * merge: each write has gone before the next is made. With coalescing on,
 * a small write continuing the file's last one while earlier writes are in
 * flight waits in the file's buffer instead, as Nagle's algorithm does, so
 * a program writing 512 bytes at a time sends a few large WRITEs per round
 * trip rather than one per call. */

void wb_unlink(struct dafs_file *f)
{
	assert_session_locked(f->s);
	for (struct dafs_file **p = &f->s->wb_files; *p; p = &(*p)->wb_next) {
		if (*p == f) {
			*p = f->wb_next;
			break;
		}
	}
	f->wb_next = NULL;
}

/* Waits until no buffer of f is on its way (being sent, the lock let go):
 * what comes after it must not overtake it. Session locked. */
static void wait_buffer_sent(struct dafs_file *f)
{
	while (f->wb_sending && !f->s->dead)
		client_progress(f->s, 10);
}

/* Sends what waits in f's buffer. Session locked; the lock may be dropped
 * while waiting for a slot, so the buffer is taken out of f meanwhile (a
 * write of another thread starts a new one, sent after this one) and
 * counted on its way: f's close and flush, and every request that waits
 * for pipelined writes, wait for it too. A failure is f's deferred error,
 * like any pipelined write's. */
static int wb_send(struct dafs_file *f)
{
	struct dafs_session *s = f->s;
	char *data;
	size_t len;
	off_t off;
	int rc;

	wait_buffer_sent(f);
	data = f->wb;
	len = f->wb_len;
	off = f->wb_off;
	if (!len)
		return 0;
	wb_unlink(f);
	f->wb = NULL;
	f->wb_len = 0;
	f->wb_sending++;
	s->wb_sending++;
	rc = send_write(f, data, len, off);
	f->wb_sending--;
	s->wb_sending--;
	if (!f->wb)
		f->wb = data;
	else
		free(data);
	if (rc && !f->write_err)
		f->write_err = rc;
	return rc;
}

/* Sends f's coalesced writes, then waits until the server answered every
 * pipelined write of f. Session locked. */
void wait_file_writes(struct dafs_file *f)
{
	assert_session_locked(f->s);
	wb_send(f);
	while ((f->writes_inflight || f->wb_sending) && !f->s->dead)
		client_progress(f->s, 10);
}

void client_wait_writes(struct dafs_session *s)
{
	assert_session_locked(s);
	client_send_coalesced(s, 0);
	while ((s->writes_inflight || s->wb_sending) && !s->dead)
		client_progress(s, 10);
}

void client_send_coalesced(struct dafs_session *s, uint64_t older_than_ms)
{
	uint64_t now = client_now_ms();
	unsigned n = 0;

	assert_session_locked(s);
	/* At most the files waiting now: a thread that keeps writing while
	 * the lock is dropped cannot keep the caller here. */
	for (struct dafs_file *f = s->wb_files; f; f = f->wb_next)
		n++;
	while (n--) {
		struct dafs_file *f = s->wb_files;
		while (f && now - f->wb_since_ms < older_than_ms)
			f = f->wb_next;
		if (!f)
			break;
		wb_send(f);
	}
}

/* Takes the write into f's buffer when coalescing applies: returns len, or
 * a deferred error, or 0 when the write must go on its own. */
static ssize_t coalesce_write(struct dafs_file *f, const void *buf, size_t len, off_t off)
{
	struct dafs_session *s = f->s;
	int rc;

	/* A buffer this write does not continue goes first. Sending it lets
	 * the lock go, and another thread may have started a new buffer
	 * meanwhile: look again. */
	while (f->wb_len &&
	       (off != f->wb_off + (off_t)f->wb_len || f->wb_len + len > s->inline_max)) {
		rc = wb_send(f);
		if (rc)
			return take_write_err(f);
	}
	if (len >= s->inline_max)
		return 0;
	client_progress(s, 0);   /* learn which writes were answered (the lock stays) */
	if (!f->wb_len && !f->writes_inflight && !f->wb_sending)
		return 0;        /* nothing in flight to wait behind: go now */
	if (!f->wb && !(f->wb = malloc(s->inline_max)))
		return 0;
	if (!f->wb_len) {
		f->wb_off = off;
		f->wb_since_ms = client_now_ms();
		f->wb_next = s->wb_files;
		s->wb_files = f;
		if (!s->lease_ticking)
			pthread_cond_signal(&s->lease_cond);
	}
	memcpy(f->wb + f->wb_len, buf, len);
	f->wb_len += len;
	s->writes_coalesced++;
	cache_write(f, buf, len, off);
	/* Full, or what it waited behind was answered: it goes now. */
	if (f->wb_len == s->inline_max || !f->writes_inflight) {
		rc = wb_send(f);
		if (rc)
			return take_write_err(f);
	}
	return (ssize_t)len;
}

static ssize_t write_pipelined(struct dafs_file *f, const void *buf, size_t len, off_t off)
{
	struct dafs_session *s = f->s;
	size_t done = 0;
	int rc;

	pthread_mutex_lock(&s->lock);
	rc = take_write_err(f);
	if (!rc && s->coalesce_writes) {
		ssize_t got = coalesce_write(f, buf, len, off);
		if (got) {
			pthread_mutex_unlock(&s->lock);
			return got;
		}
		wait_buffer_sent(f);
	}
	while (!rc && done < len) {
		size_t n = len - done < s->inline_max ? len - done : s->inline_max;
		rc = send_write(f, (const char *)buf + done, n, off + (off_t)done);
		if (!rc)
			done += n;
	}
	pthread_mutex_unlock(&s->lock);
	return done ? (ssize_t)done : rc;
}

ssize_t dafs_pwrite(struct dafs_file *f, const void *buf, size_t len, off_t off)
{
	int err;

	if (off < 0)
		return -EINVAL;
	if ((uint64_t)off > (uint64_t)INT64_MAX - len)
		return -EFBIG;
	if ((f->flags & O_ACCMODE) == O_RDONLY)
		return -EBADF;
	if (len && len <= PIPELINE_MAX && !(f->flags & (O_APPEND | O_DIRECT | O_SYNC | O_DSYNC)))
		return write_pipelined(f, buf, len, off);
	pthread_mutex_lock(&f->s->lock);
	err = take_write_err(f);
	pthread_mutex_unlock(&f->s->lock);
	return err ? err : io_sync(f, (void *)buf, len, off, true, NULL);
}

int dafs_flush(struct dafs_file *f)
{
	struct dafs_session *s = f->s;
	int err;

	pthread_mutex_lock(&s->lock);
	wait_file_writes(f);
	err = take_write_err(f);
	if (!err && f->writes_inflight)
		err = s->dead;
	pthread_mutex_unlock(&s->lock);
	return err;
}

int dafs_session_sync(struct dafs_session *s)
{
	int dead;

	pthread_mutex_lock(&s->lock);
	client_wait_writes(s);
	dead = s->dead;
	pthread_mutex_unlock(&s->lock);
	return dead;
}

ssize_t dafs_append(struct dafs_file *f, const void *buf, size_t len, off_t *where)
{
	if (!(f->flags & O_APPEND))
		return -EINVAL;
	/* One operation, so that the data lands in one piece. */
	if (len > f->s->io_max)
		return -E2BIG;
	return io_sync(f, (void *)buf, len, 0, true, where);
}
