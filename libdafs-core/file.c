/* file.c — operations on open files: open/close, reads and writes (the
 * synchronous forms split them to the session's limits; dafs_pread picks
 * direct, cached or plain), fsync, attributes of an open file, statvfs,
 * fadvise, and space allocation (fallocate(2) on the server). The write
 * pipeline is write.c, direct reads direct.c, batches batch.c. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "client.h"

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
	f->flags = (int)req->finish_arg;
	f->atime_due = true;
	file_opened(f, req, &rep->res[0].r.handle.attr);
	*req->out.opened = f;
	return 0;
}

void file_opened(struct dafs_file *f, struct dafs_req *req, const struct dafs_attr *a)
{
	struct dafs_session *s = f->s;

	f->path = req->path;
	req->path = NULL;
	f->dev = a->dev;
	f->ino = a->ino;
	f->next_open = s->files;
	if (s->files)
		s->files->prev_open = &f->next_open;
	f->prev_open = &s->files;
	s->files = f;
	cache_open(f, a);
}

/* The file is closed, its owners' locks released with it: off the
 * session's lists, and freed. Session locked. */
static void file_free(struct dafs_file *f)
{
	for (unsigned i = 0; i < f->nlock_owners; i++)
		held_locks_forget(f, f->lock_owners[i]);
	cache_close(f);
	*f->prev_open = f->next_open;
	if (f->next_open)
		f->next_open->prev_open = f->prev_open;
	free(f->path);
	free(f->wb);
	free(f);
}

void fill_open(struct dafs_session *s, struct dafs_op *op, const char *path, int flags,
		      mode_t mode)
{
	op->opcode = DAFS_OP_OPEN;
	op->a.open = (struct dafs_args_open){
		.dir = DAFS_FH_ROOT, .path = path, .flags = client_open_flags(flags),
		.mode = (uint32_t)(mode & 07777),
	};
}

int dafs_open_async(struct dafs_session *s, const char *path, int flags, mode_t mode,
		    struct dafs_file **out, struct dafs_cg *cg, void *user,
		    struct dafs_req **req_out)
{
	struct dafs_compound *rq = compound_alloc();
	struct dafs_req *req = rq ? req_new(s, cg, user, req_out, finish_open) : NULL;
	int rc;

	if (!req || !(req->path = strdup(path))) {
		rc = !rq || req ? -ENOMEM : -EINVAL;
		if (req)
			req_free(req);
		compound_free(rq);
		return rc;
	}
	req->out.opened = out;
	req->finish_arg = (uint64_t)flags;
	rq->nops = 1;
	fill_open(s, &rq->ops[0], path, flags, mode);
	rc = req_submit(req, rq);
	compound_free(rq);
	return rc;
}

int dafs_open(struct dafs_session *s, const char *path, int flags, mode_t mode,
	      struct dafs_file **out)
{
	return (int)CLIENT_SYNC(dafs_open_async, s, path, flags, mode, out);
}

static ssize_t finish_close(struct dafs_req *req, struct dafs_reply *rep)
{
	ssize_t rc = client_finish_status(req, rep);

	if (rc == 0)
		rc = take_write_err(req->file);
	file_free(req->file);
	return rc;
}

/* Close and free f without the server (it could not be asked). */
static void file_forget(struct dafs_file *f)
{
	struct dafs_session *s = f->s;

	pthread_mutex_lock(&s->lock);
	wb_unlink(f);
	file_free(f);
	pthread_mutex_unlock(&s->lock);
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

ssize_t finish_read(struct dafs_req *req, struct dafs_reply *rep)
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

ssize_t finish_write(struct dafs_req *req, struct dafs_reply *rep)
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
	if (req->out.where)
		*req->out.where = (off_t)r->offset;
	return r->count;
}

/* Fills a READ or WRITE op: inline when small, else direct. Session locked. */
int fill_io(struct dafs_req *req, struct dafs_op *op, struct dafs_file *f, void *buf,
		   size_t len, off_t off, bool write)
{
	assert_session_locked(req->s);
	op->opcode = write ? DAFS_OP_WRITE : DAFS_OP_READ;
	op->a.io = (struct dafs_args_io){ .fh = f->fh, .offset = (uint64_t)off,
					  .len = (uint32_t)len };
	if (write && (f->flags & O_APPEND))
		cache_invalidate(f);   /* where the data lands is the server's choice */
	else if (write) {
		cache_write(f, buf, len, off);
		f->atime_due = true;
	}
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
	req->out.where = where;
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
ssize_t io_sync(struct dafs_file *f, void *buf, size_t len, off_t off, bool write,
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

/* Direct when large and uncached (direct.c), else through the page cache,
 * else plain READs; -ENOBUFS from one means "try the next". */
ssize_t dafs_pread(struct dafs_file *f, void *buf, size_t len, off_t off)
{
	ssize_t got;

	if (off < 0)
		return -EINVAL;
	got = client_read_direct(f, buf, len, off);
	if (got != -ENOBUFS)
		return got;
	if (cache_enabled(f)) {
		bool touch;

		pthread_mutex_lock(&f->s->lock);
		got = cache_read(f, buf, len, off);
		touch = got > 0 && f->atime_due;
		if (touch)
			f->atime_due = false;
		pthread_mutex_unlock(&f->s->lock);
		if (touch) {
			char byte;

			/* The read itself succeeded: the atime is a side effect,
			 * and a failure of this READ changes nothing for it. */
			(void)io_sync(f, &byte, 1, off, false, NULL);
		}
		if (got != -ENOBUFS)
			return got;
	}
	return io_sync(f, buf, len, off, false, NULL);
}

/* ---- Other operations on an open file ------------------------------------ */

/* fsync reports a pipelined write's failure even when the commit worked:
 * the data it was asked to make durable is not all there. */
static ssize_t finish_commit(struct dafs_req *req, struct dafs_reply *rep)
{
	ssize_t rc = client_finish_status(req, rep);
	int err = take_write_err(req->out.file);

	return err ? err : rc;
}

int dafs_fsync_async(struct dafs_file *f, int datasync,
		     struct dafs_cg *cg, void *user, struct dafs_req **req_out)
{
	struct dafs_op op = { .opcode = DAFS_OP_COMMIT, .a.commit = {
		.fh = f->fh, .flags = datasync ? DAFS_COMMIT_DATASYNC : 0 } };

	return client_submit_one(f->s, &op, finish_commit, (union req_out){ .file = f }, 0, cg,
				 user, req_out);
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

	return client_submit_one(f->s, &op, client_finish_attr, (union req_out){ .st = st }, 0,
				 cg, user, req_out);
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

	cache_invalidate(req->out.file);
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
		return client_submit_one(f->s, &op, finish_dropping_cache,
					 (union req_out){ .file = f }, 0, cg, user, req_out);
	return client_submit_one(f->s, &op, client_finish_attr, REQ_OUT_NONE, 0, cg, user, req_out);
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

static int fchown_async(struct dafs_file *f, uid_t uid, gid_t gid,
			struct dafs_cg *cg, void *user, struct dafs_req **req_out)
{
	struct dafs_args_setattr a = { 0 };

	client_owner(&a, uid, gid);
	return fsetattr_async(f, &a, cg, user, req_out);
}

int dafs_fchown(struct dafs_file *f, uid_t uid, gid_t gid)
{
	return (int)CLIENT_SYNC(fchown_async, f, uid, gid);
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

	return client_submit_one(f->s, &op, finish_statfs, (union req_out){ .sv = sv }, 0, cg,
				 user, req_out);
}

int dafs_fstatvfs(struct dafs_file *f, struct statvfs *sv)
{
	return (int)CLIENT_SYNC(dafs_fstatvfs_async, f, sv);
}

int dafs_statvfs_async(struct dafs_session *s, struct statvfs *sv,
		       struct dafs_cg *cg, void *user, struct dafs_req **req_out)
{
	struct dafs_op op = { .opcode = DAFS_OP_STATFS, .a.fh.fh = DAFS_FH_ROOT };

	return client_submit_one(s, &op, finish_statfs, (union req_out){ .sv = sv }, 0, cg, user,
				 req_out);
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
	return client_submit_one(f->s, &op, client_finish_status, REQ_OUT_NONE, 0, cg, user,
				 req_out);
}

int dafs_fadvise(struct dafs_file *f, off_t off, off_t len, int advice)
{
	return (int)CLIENT_SYNC(dafs_fadvise_async, f, off, len, advice);
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
	return client_submit_one(f->s, &op, finish_dropping_cache,
					 (union req_out){ .file = f }, 0, cg, user, req_out);
}

int dafs_fallocate(struct dafs_file *f, int mode, off_t off, off_t len)
{
	return (int)CLIENT_SYNC(dafs_fallocate_async, f, mode, off, len);
}
