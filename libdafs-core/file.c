/* file.c — operations on open files: open/close, reads and writes (inline,
 * direct into registered memory, or through bounce memory), fsync,
 * attributes of an open file, batch I/O, the chained open-and-read, and
 * (at the end) space allocation, fallocate(2) on the server. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "client.h"

int client_errno_of(struct dafs_reply *rep, unsigned i)
{
	if (i >= rep->nres)
		return -EPROTO;
	return rep->res[i].status ? -rep->res[i].status : 0;
}

void client_stat_from_attr(struct stat *st, const struct dafs_attr *a)
{
	memset(st, 0, sizeof(*st));
	st->st_dev = a->dev;
	st->st_ino = a->ino;
	st->st_mode = a->mode;
	st->st_nlink = a->nlink;
	st->st_uid = a->uid;
	st->st_gid = a->gid;
	st->st_rdev = a->rdev;
	st->st_size = (off_t)a->size;
	st->st_blocks = (blkcnt_t)a->blocks;
	st->st_blksize = a->blksize;
	st->st_atim = (struct timespec){ a->atime.sec, a->atime.nsec };
	st->st_mtim = (struct timespec){ a->mtime.sec, a->mtime.nsec };
	st->st_ctim = (struct timespec){ a->ctime.sec, a->ctime.nsec };
}

uint32_t client_open_flags(int flags)
{
	uint32_t w = (flags & O_ACCMODE) == O_WRONLY ? DAFS_O_WRONLY :
		     (flags & O_ACCMODE) == O_RDWR ? DAFS_O_RDWR : DAFS_O_RDONLY;

	w |= flags & O_CREAT ? DAFS_O_CREAT : 0;
	w |= flags & O_EXCL ? DAFS_O_EXCL : 0;
	w |= flags & O_TRUNC ? DAFS_O_TRUNC : 0;
	w |= flags & O_APPEND ? DAFS_O_APPEND : 0;
	w |= flags & O_DIRECTORY ? DAFS_O_DIRECTORY : 0;
	w |= flags & O_NOFOLLOW ? DAFS_O_NOFOLLOW : 0;
	w |= flags & O_DIRECT ? DAFS_O_DIRECT : 0;
	w |= (flags & O_SYNC) == O_SYNC ? DAFS_O_SYNC : 0;
	return w;
}

/* ---- Open and close ------------------------------------------------------ */

static ssize_t finish_open(struct dafs_req *req, struct dafs_reply *rep)
{
	struct dafs_file *f;
	int rc;

	if (!rep)
		return req->result;
	rc = client_errno_of(rep, 0);
	if (rc)
		return rc;
	f = calloc(1, sizeof(*f));
	if (!f)
		return -ENOMEM;
	f->s = req->s;
	f->fh = rep->res[0].r.handle.fh;
	f->flags = (int)req->out_len;
	cache_open(f, &rep->res[0].r.handle.attr);
	*req->out.file = f;
	return 0;
}

static void fill_open(struct dafs_session *s, struct dafs_op *op, const char *path, int flags,
		      mode_t mode)
{
	op->opcode = DAFS_OP_OPEN;
	op->a.open = (struct dafs_args_open){
		.dir = DAFS_FH_ROOT, .path = path, .flags = client_open_flags(flags),
		.mode = (uint32_t)(mode & ~s->umask & 07777),
	};
}

int dafs_open_async(struct dafs_session *s, const char *path, int flags, mode_t mode,
		    struct dafs_file **out, struct dafs_cg *cg, void *user,
		    struct dafs_req **req_out)
{
	struct dafs_op op;

	fill_open(s, &op, path, flags, mode);
	return client_submit_one(s, &op, finish_open, out, (size_t)flags, cg, user, req_out);
}

int dafs_open(struct dafs_session *s, const char *path, int flags, mode_t mode,
	      struct dafs_file **out)
{
	return (int)CLIENT_SYNC(dafs_open_async, s, path, flags, mode, out);
}

static void wait_file_writes(struct dafs_file *f);
static void wb_unlink(struct dafs_file *f);

/* The error of a write that failed after it returned, once. */
static int take_write_err(struct dafs_file *f)
{
	int err = f->write_err;

	f->write_err = 0;
	return err;
}

static ssize_t finish_close(struct dafs_req *req, struct dafs_reply *rep)
{
	ssize_t rc = client_finish_status(req, rep);

	if (rc == 0)
		rc = take_write_err(req->file);
	cache_close(req->file);
	free(req->file->wb);
	free(req->file);
	return rc;
}

/* Close and free f without the server (it could not be asked). */
static void file_forget(struct dafs_file *f)
{
	pthread_mutex_lock(&f->s->lock);
	cache_close(f);
	wb_unlink(f);
	pthread_mutex_unlock(&f->s->lock);
	free(f->wb);
	free(f);
}

/* Like close(2), the file is gone afterwards whatever the outcome. With
 * `answered` false nobody waits for the server's answer (see dafs_close). */
static int close_submit(struct dafs_file *f, struct dafs_cg *cg, void *user,
			struct dafs_req **req_out, bool answered)
{
	struct dafs_session *s = f->s;
	struct dafs_compound *rq;
	struct dafs_req *req;
	unsigned n = 0;

	/* Requests in flight point at f: its writes and cache fills end first. */
	pthread_mutex_lock(&s->lock);
	wait_file_writes(f);
	while (f->fills_inflight && !s->dead)
		client_progress(s, 10);
	pthread_mutex_unlock(&s->lock);
	rq = compound_alloc();
	req = !rq ? NULL : answered ? req_new(s, cg, user, req_out, finish_close) :
				      req_new_internal(s, finish_close);
	if (!req) {
		compound_free(rq);
		file_forget(f);
		return rq ? -EINVAL : -ENOMEM;
	}
	req->file = f;
	/* POSIX: closing a file releases its owners' locks on it. */
	for (unsigned i = 0; i < f->nlock_owners; i++) {
		rq->ops[n].opcode = DAFS_OP_UNLOCK;
		rq->ops[n++].a.lock = (struct dafs_args_lock){
			.fh = f->fh, .owner = f->lock_owners[i], .type = DAFS_LOCK_WRITE,
		};
	}
	rq->ops[n].opcode = DAFS_OP_CLOSE;
	rq->ops[n++].a.fh.fh = f->fh;
	rq->nops = (uint16_t)n;
	rq->hdr.flags = DAFS_HF_CONTINUE;
	int rc = req_submit(req, rq);
	compound_free(rq);
	if (rc)
		file_forget(f);
	return rc;
}

int dafs_close_async(struct dafs_file *f, struct dafs_cg *cg, void *user,
		     struct dafs_req **req_out)
{
	return close_submit(f, cg, user, req_out, true);
}

int dafs_close(struct dafs_file *f)
{
	/* A file opened read-only that holds no locks has nothing for close
	 * to report (no writes, no lock to be seen released): its CLOSE goes
	 * without waiting for the answer, one round trip less for every small
	 * file read. The session waits for it before it closes. */
	if ((f->flags & O_ACCMODE) == O_RDONLY && !f->nlock_owners)
		return close_submit(f, NULL, NULL, NULL, false);
	return (int)CLIENT_SYNC(dafs_close_async, f);
}

/* ---- Reads and writes ---------------------------------------------------- */

static ssize_t finish_read(struct dafs_req *req, struct dafs_reply *rep)
{
	const struct dafs_res_read *r;
	int rc;

	if (!rep)
		return req->result;
	rc = client_errno_of(rep, rep->nres - 1u);
	if (rc)
		return rc;
	r = &rep->res[rep->nres - 1].r.read;
	if (r->count > req->out_len)
		return -EPROTO;
	if (r->data)
		memcpy(req->user_buf, r->data, r->count);
	else if (req->nbounce)
		client_copy_chunks(req, 0, req->user_buf, r->count);
	return r->count;
}

static ssize_t finish_write(struct dafs_req *req, struct dafs_reply *rep)
{
	const struct dafs_res_write *r;
	int rc;

	if (!rep)
		return req->result;
	rc = client_errno_of(rep, 0);
	if (rc)
		return rc;
	r = &rep->res[0].r.write;
	if (r->count > req->out_len)
		return -EPROTO;
	if (req->out.st)   /* dafs_append: where the data landed */
		*(off_t *)req->out.st = (off_t)r->offset;
	return r->count;
}

/* Fills a READ or WRITE op: inline when small, else direct. Session locked. */
static int fill_io(struct dafs_req *req, struct dafs_op *op, struct dafs_file *f, void *buf,
		   size_t len, off_t off, bool write)
{
	assert_session_locked(req->s);
	op->opcode = write ? DAFS_OP_WRITE : DAFS_OP_READ;
	op->a.io = (struct dafs_args_io){ .fh = f->fh, .offset = (uint64_t)off,
					  .len = (uint32_t)len };
	if (write && (f->flags & O_APPEND))
		cache_invalidate(f);   /* where the data lands is the server's choice */
	else if (write)
		cache_write(f, buf, len, off);
	if (len <= req->s->inline_max) {
		op->a.io.data = write ? buf : NULL;
		req->user_buf = buf;
		return 0;
	}
	return client_segments(req, buf, len, write, &op->a.io);
}

static int io_async(struct dafs_file *f, void *buf, size_t len, off_t off, bool write,
		    struct dafs_cg *cg, void *user, struct dafs_req **req_out, off_t *where)
{
	struct dafs_session *s = f->s;
	struct dafs_compound *rq;
	struct dafs_req *req;
	int rc;

	if (off < 0)
		return -EINVAL;
	if (len > s->io_max)
		return -E2BIG;
	if ((uint64_t)off > (uint64_t)INT64_MAX - len)
		return -EFBIG;
	rq = compound_alloc();
	req = rq ? req_new(s, cg, user, req_out, write ? finish_write : finish_read) : NULL;
	if (!req) {
		compound_free(rq);
		return rq ? -EINVAL : -ENOMEM;
	}
	req->out_len = len;
	req->out.st = (struct stat *)where;
	rq->nops = 1;
	pthread_mutex_lock(&s->lock);
	rc = fill_io(req, &rq->ops[0], f, buf, len, off, write);
	pthread_mutex_unlock(&s->lock);
	if (rc) {
		req_free(req);
		compound_free(rq);
		return rc;
	}
	rc = req_submit(req, rq);
	compound_free(rq);
	return rc;
}

int dafs_read_async(struct dafs_file *f, void *buf, size_t len, off_t off,
		    struct dafs_cg *cg, void *user, struct dafs_req **req_out)
{
	return io_async(f, buf, len, off, false, cg, user, req_out, NULL);
}

int dafs_write_async(struct dafs_file *f, const void *buf, size_t len, off_t off,
		     struct dafs_cg *cg, void *user, struct dafs_req **req_out)
{
	return io_async(f, (void *)buf, len, off, true, cg, user, req_out, NULL);
}

/* The synchronous forms split what exceeds one operation's limit and keep
 * going until done, a short read (end of file) or an error. */
static ssize_t io_sync(struct dafs_file *f, void *buf, size_t len, off_t off, bool write,
		       off_t *where)
{
	size_t done = 0;

	do {
		size_t n = len - done < f->s->io_max ? len - done : f->s->io_max;
		struct dafs_req *req;
		ssize_t got;
		int rc = io_async(f, (char *)buf + done, n, off + (off_t)done, write, NULL, NULL,
				  &req, done == 0 ? where : NULL);
		if (rc)
			return done ? (ssize_t)done : rc;
		got = dafs_req_wait(req, -1);
		if (got < 0)
			return done ? (ssize_t)done : got;
		done += (size_t)got;
		if ((size_t)got < n)
			break;
	} while (done < len);
	if (write && (f->flags & O_APPEND) && cache_enabled(f)) {
		/* Where it landed was the server's choice: a fill another
		 * thread sent before it was run may have told an end of file
		 * it has since moved (cache.c trusts that for a moment). */
		pthread_mutex_lock(&f->s->lock);
		cache_invalidate(f);
		pthread_mutex_unlock(&f->s->lock);
	}
	return (ssize_t)done;
}

/* ---- Direct reads ------------------------------------------------------------
 *
 * A read of at least direct_read_min bytes whose range the page cache holds
 * none of goes straight into the caller's buffer: READ ops whose segments
 * are the buffer itself, registered through regcache.c. It saves the
 * cache's copy and its page bookkeeping (README, "Direct reads", has the
 * figures). When pages of the range are cached or being filled the read
 * goes through the cache, which holds what this client wrote (write-
 * through) and waits for fills in flight. Pipelined writes need nothing
 * here: a read, like every request but a pipelined write, waits them out
 * before it is sent (submit_locked). */

/* The sum of the READs' counts, up to the first short one (end of file). */
static ssize_t finish_direct(struct dafs_req *req, struct dafs_reply *rep)
{
	size_t done = 0, io_max = req->s->io_max;

	if (!rep)
		return req->result;
	for (unsigned i = 0; i < rep->nres; i++) {
		size_t start = (size_t)i * io_max;
		size_t asked = req->out_len - start < io_max ? req->out_len - start : io_max;
		int rc = client_errno_of(rep, i);
		uint64_t count;

		if (rc)
			return done ? (ssize_t)done : rc;
		count = rep->res[i].r.read.count;
		if (count > asked || rep->res[i].r.read.data)
			return -EPROTO;   /* the server was to write into the segments */
		done += count;
		if (count < asked)
			break;
	}
	return (ssize_t)done;
}

bool client_direct_read_size(const struct dafs_session *s, size_t len)
{
	/* Up to inline_max a read rides in the reply, with no segments. */
	return s->direct_read_min && len >= s->direct_read_min && len > s->inline_max;
}

static bool direct_read_fits(struct dafs_file *f, size_t len, off_t off)
{
	struct dafs_session *s = f->s;
	bool absent;

	if (!client_direct_read_size(s, len) || (uint64_t)off > (uint64_t)INT64_MAX - len)
		return false;
	if (!cache_enabled(f))
		return true;
	pthread_mutex_lock(&s->lock);
	absent = cache_range_absent(f, off, len);
	pthread_mutex_unlock(&s->lock);
	return absent;
}

/* Returns -ENOBUFS, having sent nothing, when the buffer could not be
 * registered: the caller then reads another way. */
static ssize_t direct_read(struct dafs_file *f, void *buf, size_t len, off_t off)
{
	struct dafs_session *s = f->s;
	size_t io_max = s->io_max, piece_max = io_max * DAFS_COMPOUND_MAX, done = 0;
	struct regcache_entry *reg;
	const struct dafs_mr *mr;
	ssize_t err = 0;

	if (regcache_get(s, buf, len, &reg) != 0)
		return -ENOBUFS;
	mr = regcache_mr(reg);
	do {
		size_t n = len - done < piece_max ? len - done : piece_max;
		struct dafs_compound *rq = compound_alloc();
		struct dafs_req *req = NULL;
		ssize_t got;

		if (!rq || !req_new(s, NULL, NULL, &req, finish_direct)) {
			compound_free(rq);
			err = -ENOMEM;
			break;
		}
		req->out_len = n;
		rq->nops = (uint16_t)((n + io_max - 1) / io_max);
		for (unsigned i = 0; i < rq->nops; i++) {
			size_t start = (size_t)i * io_max;
			char *p = (char *)buf + done + start;
			uint32_t op_len = (uint32_t)(n - start < io_max ? n - start : io_max);
			rq->ops[i].opcode = DAFS_OP_READ;
			rq->ops[i].a.io = (struct dafs_args_io){
				.fh = f->fh, .offset = (uint64_t)off + done + start, .len = op_len,
				.nsegs = 1,
			};
			rq->ops[i].a.io.segs[0] = (struct dafs_seg){
				.addr = mr->remote_base + (uint64_t)(p - (char *)mr->base),
				.key = mr->key, .len = op_len,
			};
		}
		got = req_run(req, rq);
		if (got < 0) {
			err = got;
			break;
		}
		done += (size_t)got;
		if ((size_t)got < n)
			break;
	} while (done < len);
	regcache_put(s, reg);
	pthread_mutex_lock(&s->lock);
	s->direct_reads++;
	s->direct_bytes += done;
	if (cache_enabled(f))
		cache_read_bypassed(f, off + (off_t)done);
	pthread_mutex_unlock(&s->lock);
	return done ? (ssize_t)done : err;
}

ssize_t dafs_pread(struct dafs_file *f, void *buf, size_t len, off_t off)
{
	if (off < 0)
		return -EINVAL;
	if (direct_read_fits(f, len, off)) {
		ssize_t got = direct_read(f, buf, len, off);
		if (got != -ENOBUFS)
			return got;
	}
	if (cache_enabled(f)) {
		ssize_t got;
		pthread_mutex_lock(&f->s->lock);
		got = cache_read(f, buf, len, off);
		pthread_mutex_unlock(&f->s->lock);
		if (got != -ENOBUFS)
			return got;
	}
	return io_sync(f, buf, len, off, false, NULL);
}

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

static void wb_unlink(struct dafs_file *f)
{
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
static void wait_file_writes(struct dafs_file *f)
{
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

/* ---- Other operations on an open file ------------------------------------ */

/* fsync reports a pipelined write's failure even when the commit worked:
 * the data it was asked to make durable is not all there. */
static ssize_t finish_commit(struct dafs_req *req, struct dafs_reply *rep)
{
	ssize_t rc = client_finish_status(req, rep);
	int err = take_write_err(req->out.locked_file);

	return err ? err : rc;
}

int dafs_fsync_async(struct dafs_file *f, int datasync,
		     struct dafs_cg *cg, void *user, struct dafs_req **req_out)
{
	struct dafs_op op = { .opcode = DAFS_OP_COMMIT, .a.commit = {
		.fh = f->fh, .flags = datasync ? DAFS_COMMIT_DATASYNC : 0 } };

	return client_submit_one(f->s, &op, finish_commit, f, 0, cg, user, req_out);
}

int dafs_fsync(struct dafs_file *f, int datasync)
{
	return (int)CLIENT_SYNC(dafs_fsync_async, f, datasync);
}

int dafs_fstat_async(struct dafs_file *f, struct stat *st,
		     struct dafs_cg *cg, void *user, struct dafs_req **req_out)
{
	struct dafs_op op = { .opcode = DAFS_OP_GETATTR,
			      .a.open = { .dir = f->fh, .path = "" } };

	return client_submit_one(f->s, &op, client_finish_attr, st, 0, cg, user, req_out);
}

int dafs_fstat(struct dafs_file *f, struct stat *st)
{
	return (int)CLIENT_SYNC(dafs_fstat_async, f, st);
}

/* Operations that change a file's bytes on the server (truncate, punch
 * hole, zero range) drop its cached pages when they are sent and again
 * when they are done: a fill sent meanwhile may have been served before. */
static ssize_t finish_dropping_cache(struct dafs_req *req, struct dafs_reply *rep)
{
	ssize_t rc = client_finish_status(req, rep);

	cache_invalidate(req->out.locked_file);
	return rc;
}

static int fsetattr_async(struct dafs_file *f, struct dafs_args_setattr *a,
			  struct dafs_cg *cg, void *user, struct dafs_req **req_out)
{
	struct dafs_op op = { .opcode = DAFS_OP_SETATTR };

	a->fh = f->fh;
	a->path = "";
	op.a.setattr = *a;
	if (a->mask & DAFS_SET_SIZE)
		return client_submit_one(f->s, &op, finish_dropping_cache, f, 0, cg, user, req_out);
	return client_submit_one(f->s, &op, client_finish_attr, NULL, 0, cg, user, req_out);
}

int dafs_ftruncate_async(struct dafs_file *f, off_t size,
			 struct dafs_cg *cg, void *user, struct dafs_req **req_out)
{
	struct dafs_args_setattr a = { .mask = DAFS_SET_SIZE, .size = (uint64_t)size };

	if (size < 0)
		return -EINVAL;
	pthread_mutex_lock(&f->s->lock);
	cache_invalidate(f);
	pthread_mutex_unlock(&f->s->lock);
	return fsetattr_async(f, &a, cg, user, req_out);
}

int dafs_ftruncate(struct dafs_file *f, off_t size)
{
	return (int)CLIENT_SYNC(dafs_ftruncate_async, f, size);
}

int dafs_fchmod_async(struct dafs_file *f, mode_t mode,
		      struct dafs_cg *cg, void *user, struct dafs_req **req_out)
{
	struct dafs_args_setattr a = { .mask = DAFS_SET_MODE, .mode = mode & 07777 };

	return fsetattr_async(f, &a, cg, user, req_out);
}

int dafs_fchmod(struct dafs_file *f, mode_t mode)
{
	return (int)CLIENT_SYNC(dafs_fchmod_async, f, mode);
}

/* utimensat's times into setattr's mask; -EINVAL for a bad nanosecond value. */
int client_times(struct dafs_args_setattr *a, const struct timespec times[2]);
int client_times(struct dafs_args_setattr *a, const struct timespec times[2])
{
	static const uint32_t set[2] = { DAFS_SET_ATIME, DAFS_SET_MTIME };
	static const uint32_t now[2] = { DAFS_SET_ATIME_NOW, DAFS_SET_MTIME_NOW };
	struct dafs_time *t[2] = { &a->atime, &a->mtime };

	for (int i = 0; i < 2; i++) {
		if (!times || times[i].tv_nsec == UTIME_NOW) {
			a->mask |= now[i];
		} else if (times[i].tv_nsec != UTIME_OMIT) {
			if (times[i].tv_nsec < 0 || times[i].tv_nsec >= 1000000000)
				return -EINVAL;
			a->mask |= set[i];
			*t[i] = (struct dafs_time){ times[i].tv_sec, (uint32_t)times[i].tv_nsec };
		}
	}
	return 0;
}

int dafs_futimens_async(struct dafs_file *f, const struct timespec times[2],
			struct dafs_cg *cg, void *user, struct dafs_req **req_out)
{
	struct dafs_args_setattr a = { 0 };
	int rc = client_times(&a, times);

	return rc ? rc : fsetattr_async(f, &a, cg, user, req_out);
}

int dafs_futimens(struct dafs_file *f, const struct timespec times[2])
{
	return (int)CLIENT_SYNC(dafs_futimens_async, f, times);
}

static ssize_t finish_statfs(struct dafs_req *req, struct dafs_reply *rep)
{
	const struct dafs_res_statfs *r;
	int rc;

	if (!rep)
		return req->result;
	rc = client_errno_of(rep, 0);
	if (rc)
		return rc;
	r = &rep->res[0].r.statfs;
	*req->out.sv = (struct statvfs){
		.f_bsize = r->bsize, .f_frsize = r->frsize, .f_blocks = r->blocks,
		.f_bfree = r->bfree, .f_bavail = r->bavail, .f_files = r->files,
		.f_ffree = r->ffree, .f_favail = r->favail, .f_namemax = r->namemax,
	};
	return 0;
}

int dafs_fstatvfs_async(struct dafs_file *f, struct statvfs *sv,
			struct dafs_cg *cg, void *user, struct dafs_req **req_out)
{
	struct dafs_op op = { .opcode = DAFS_OP_STATFS, .a.fh.fh = f->fh };

	return client_submit_one(f->s, &op, finish_statfs, sv, 0, cg, user, req_out);
}

int dafs_fstatvfs(struct dafs_file *f, struct statvfs *sv)
{
	return (int)CLIENT_SYNC(dafs_fstatvfs_async, f, sv);
}

int dafs_statvfs_async(struct dafs_session *s, struct statvfs *sv,
		       struct dafs_cg *cg, void *user, struct dafs_req **req_out)
{
	struct dafs_op op = { .opcode = DAFS_OP_STATFS, .a.fh.fh = DAFS_FH_ROOT };

	return client_submit_one(s, &op, finish_statfs, sv, 0, cg, user, req_out);
}

int dafs_statvfs(struct dafs_session *s, struct statvfs *sv)
{
	return (int)CLIENT_SYNC(dafs_statvfs_async, s, sv);
}

int dafs_fadvise_async(struct dafs_file *f, off_t off, off_t len, int advice,
		       struct dafs_cg *cg, void *user, struct dafs_req **req_out)
{
	static const uint32_t map[] = {
		[POSIX_FADV_WILLNEED] = DAFS_HINT_WILLNEED, [POSIX_FADV_DONTNEED] = DAFS_HINT_DONTNEED,
		[POSIX_FADV_SEQUENTIAL] = DAFS_HINT_SEQUENTIAL, [POSIX_FADV_RANDOM] = DAFS_HINT_RANDOM,
	};
	struct dafs_op op = { .opcode = DAFS_OP_HINT };

	if (off < 0 || len < 0)
		return -EINVAL;
	/* NORMAL and NOREUSE ask nothing of the server: a NULL op completes
	 * them in order with the rest. */
	if (advice == POSIX_FADV_NORMAL || advice == POSIX_FADV_NOREUSE)
		op.opcode = DAFS_OP_NULL;
	else if (advice < 0 || advice >= (int)(sizeof(map) / sizeof(map[0])) || !map[advice])
		return -EINVAL;
	else
		op.a.hint = (struct dafs_args_hint){ f->fh, (uint64_t)off, (uint64_t)len, map[advice] };
	pthread_mutex_lock(&f->s->lock);
	cache_advise(f, off, len, advice);
	pthread_mutex_unlock(&f->s->lock);
	return client_submit_one(f->s, &op, client_finish_status, NULL, 0, cg, user, req_out);
}

int dafs_fadvise(struct dafs_file *f, off_t off, off_t len, int advice)
{
	return (int)CLIENT_SYNC(dafs_fadvise_async, f, off, len, advice);
}

/* ---- Batch I/O and chaining ------------------------------------------------ */

static ssize_t finish_batch(struct dafs_req *req, struct dafs_reply *rep)
{
	struct dafs_batch_item *items = req->out.items;
	unsigned n = (unsigned)req->out_len, ok = 0, chunk = 0;

	for (unsigned i = 0; i < n; i++) {
		struct dafs_batch_item *it = &items[i];
		bool bounced = req->bounce_items & (UINT64_C(1) << i);
		unsigned chunks = bounced ? (unsigned)((it->len + CLIENT_BOUNCE_CHUNK - 1) /
						       CLIENT_BOUNCE_CHUNK) : 0;

		it->result = rep ? client_errno_of(rep, i) : req->result;
		if (it->result == 0) {
			const struct dafs_result *r = &rep->res[i];
			it->result = it->is_write ? (ssize_t)r->r.write.count :
						    (ssize_t)r->r.read.count;
			if ((size_t)it->result > it->len)
				it->result = -EPROTO;
			else if (!it->is_write && r->r.read.data)
				memcpy(it->buf, r->r.read.data, r->r.read.count);
			else if (!it->is_write && bounced)
				client_copy_chunks(req, chunk, it->buf, (size_t)it->result);
		}
		chunk += chunks;
		if (it->result >= 0)
			ok++;
	}
	return ok;
}

int dafs_batch_submit(struct dafs_session *s, struct dafs_batch_item *items, unsigned n,
		      struct dafs_cg *cg, void *user, struct dafs_req **req_out)
{
	struct dafs_compound *rq;
	struct dafs_req *req;
	size_t inline_bytes = 0;
	int rc = 0;

	if (n == 0 || n > DAFS_COMPOUND_MAX)
		return -EINVAL;
	for (unsigned i = 0; i < n; i++) {
		if (!items[i].file || items[i].file->s != s || items[i].off < 0 ||
		    items[i].len > s->io_max)
			return -EINVAL;
		if (items[i].len <= s->inline_max)
			inline_bytes += items[i].len;
	}
	/* Inline data of all items rides in one message each way. */
	if (inline_bytes > DAFS_MSG_MAX - 8192)
		return -E2BIG;
	rq = compound_alloc();
	req = rq ? req_new(s, cg, user, req_out, finish_batch) : NULL;
	if (!req) {
		compound_free(rq);
		return rq ? -EINVAL : -ENOMEM;
	}
	req->out.items = items;
	req->out_len = n;
	rq->nops = (uint16_t)n;
	rq->hdr.flags = DAFS_HF_CONTINUE;
	pthread_mutex_lock(&s->lock);
	for (unsigned i = 0; i < n && !rc; i++) {
		struct dafs_batch_item *it = &items[i];
		unsigned before = req->nbounce;
		rc = fill_io(req, &rq->ops[i], it->file, it->buf, it->len, it->off, it->is_write);
		if (req->nbounce != before)
			req->bounce_items |= UINT64_C(1) << i;
	}
	if (rc)
		req_free(req);   /* the chunks of the items before go back locked */
	pthread_mutex_unlock(&s->lock);
	if (rc) {
		compound_free(rq);
		return rc;
	}
	rc = req_submit(req, rq);
	compound_free(rq);
	return rc;
}

ssize_t dafs_batch(struct dafs_session *s, struct dafs_batch_item *items, unsigned n)
{
	struct dafs_req *req;
	int rc = dafs_batch_submit(s, items, n, NULL, NULL, &req);

	return rc ? rc : dafs_req_wait(req, -1);
}

/* LOOKUP dir, OPEN name, READ: the file comes from the second result. */
static ssize_t finish_open_read(struct dafs_req *req, struct dafs_reply *rep)
{
	struct dafs_file *f;
	int rc;

	if (!rep)
		return req->result;
	rc = client_errno_of(rep, 0);
	if (rc == 0)
		rc = client_errno_of(rep, 1);
	if (rc)
		return rc;
	f = calloc(1, sizeof(*f));
	if (!f)
		return -ENOMEM;
	f->s = req->s;
	f->fh = rep->res[1].r.handle.fh;
	f->flags = O_RDONLY;
	cache_open(f, &rep->res[1].r.handle.attr);
	*req->out.file = f;
	return finish_read(req, rep);
}

ssize_t dafs_open_read(struct dafs_session *s, const char *path, void *buf, size_t len,
		       off_t off, struct dafs_file **out)
{
	struct dafs_compound *rq;
	struct dafs_req *req = NULL;
	char dir[DAFS_PATH_MAX];
	const char *slash, *name;
	ssize_t got;
	int rc;

	if (len > s->io_max || off < 0)
		return -EINVAL;
	if (strlen(path) >= sizeof(dir))
		return -ENAMETOOLONG;
	slash = strrchr(path, '/');
	name = slash ? slash + 1 : path;
	memcpy(dir, path, (size_t)(name - path));
	dir[name - path] = '\0';
	rq = compound_alloc();
	if (!rq || !req_new(s, NULL, NULL, &req, finish_open_read)) {
		compound_free(rq);
		return -ENOMEM;
	}
	*out = NULL;
	req->out.file = out;
	req->out_len = len;
	rq->nops = 3;
	/* The directory's handle lives only as long as this request. */
	rq->ops[0].opcode = DAFS_OP_LOOKUP;
	rq->ops[0].a.open = (struct dafs_args_open){ .dir = DAFS_FH_ROOT, .path = dir,
						     .flags = DAFS_L_TRANSIENT };
	fill_open(s, &rq->ops[1], name, O_RDONLY, 0);
	rq->ops[1].a.open.dir = DAFS_FH_CURRENT;
	pthread_mutex_lock(&s->lock);
	rc = fill_io(req, &rq->ops[2], &(struct dafs_file){ .fh = DAFS_FH_CURRENT }, buf, len,
		     off, false);
	pthread_mutex_unlock(&s->lock);
	if (rc) {
		req_free(req);
		compound_free(rq);
		return rc;
	}
	got = req_run(req, rq);
	if (got < 0 && *out) {
		/* Opened but the read failed: do not leave the file open. */
		dafs_close(*out);
		*out = NULL;
	}
	return got;
}

/* ---- Space allocation -------------------------------------------------------- */

/* fallocate(2)'s modes as the wire spells them; -EOPNOTSUPP for the others
 * (collapse, insert, unshare: nothing the shim's callers ask of a remote file). */
static int allocate_mode(int mode, uint32_t *wire)
{
	switch (mode) {
	case 0: *wire = 0; return 0;
	case FALLOC_FL_KEEP_SIZE: *wire = DAFS_ALLOC_KEEP_SIZE; return 0;
	case FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE:
		*wire = DAFS_ALLOC_PUNCH_HOLE | DAFS_ALLOC_KEEP_SIZE;
		return 0;
	case FALLOC_FL_ZERO_RANGE: *wire = DAFS_ALLOC_ZERO_RANGE; return 0;
	case FALLOC_FL_ZERO_RANGE | FALLOC_FL_KEEP_SIZE:
		*wire = DAFS_ALLOC_ZERO_RANGE | DAFS_ALLOC_KEEP_SIZE;
		return 0;
	default: return -EOPNOTSUPP;
	}
}

int dafs_fallocate_async(struct dafs_file *f, int mode, off_t off, off_t len,
			 struct dafs_cg *cg, void *user, struct dafs_req **req_out)
{
	struct dafs_op op = { .opcode = DAFS_OP_ALLOCATE };
	uint32_t wire;
	int rc;

	if (off < 0 || len <= 0)
		return -EINVAL;
	if (off > INT64_MAX - len)
		return -EFBIG;
	if ((rc = allocate_mode(mode, &wire)) < 0)
		return rc;
	op.a.allocate = (struct dafs_args_allocate){ f->fh, (uint64_t)off, (uint64_t)len, wire };
	pthread_mutex_lock(&f->s->lock);
	cache_invalidate(f);
	pthread_mutex_unlock(&f->s->lock);
	return client_submit_one(f->s, &op, finish_dropping_cache, f, 0, cg, user, req_out);
}

int dafs_fallocate(struct dafs_file *f, int mode, off_t off, off_t len)
{
	return (int)CLIENT_SYNC(dafs_fallocate_async, f, mode, off, len);
}
