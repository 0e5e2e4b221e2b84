/* names.c — operations on names (stat, mkdir, unlink, rename, links...),
 * directories, and byte-range locks. Each synchronous call is its _async
 * form plus a wait, through one helper per shape of request. */
#include <errno.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <linux/fs.h>

#include "client.h"

/* ---- Names -------------------------------------------------------------- */

int dafs_stat_async(struct dafs_session *s, const char *path, struct stat *st, int flags,
		    struct dafs_cg *cg, void *user, struct dafs_req **req_out)
{
	struct dafs_op op = { .opcode = DAFS_OP_GETATTR, .a.open = {
		.dir = DAFS_FH_ROOT, .path = path,
		.flags = flags & AT_SYMLINK_NOFOLLOW ? DAFS_L_NOFOLLOW : 0 } };

	/* "" means the root here, as the export's own attributes. */
	if (!path[0])
		op.a.open.path = "/";
	return client_submit_one(s, &op, client_finish_attr, (union req_out){ .st = st }, 0, cg,
				 user, req_out);
}

int dafs_stat(struct dafs_session *s, const char *path, struct stat *st, int flags)
{
	return (int)CLIENT_SYNC(dafs_stat_async, s, path, st, flags);
}

/* A truncation by name drops what the cache holds of the file. */
static ssize_t finish_path_setattr(struct dafs_req *req, struct dafs_reply *rep)
{
	ssize_t rc = client_finish_attr(req, rep);

	if (rc == 0 && (req->finish_arg & DAFS_SET_SIZE))
		cache_invalidate_attr(req->s, &rep->res[0].r.attr.attr);
	return rc;
}

static int setattr_path_async(struct dafs_session *s, const char *path,
			      struct dafs_args_setattr *a, struct dafs_cg *cg, void *user,
			      struct dafs_req **req_out)
{
	struct dafs_op op = { .opcode = DAFS_OP_SETATTR };

	a->fh = DAFS_FH_ROOT;
	a->path = path[0] ? path : "/";
	op.a.setattr = *a;
	return client_submit_one(s, &op, finish_path_setattr, REQ_OUT_NONE, a->mask, cg, user,
				 req_out);
}

int dafs_truncate_async(struct dafs_session *s, const char *path, off_t size,
			struct dafs_cg *cg, void *user, struct dafs_req **req_out)
{
	struct dafs_args_setattr a = { .mask = DAFS_SET_SIZE, .size = (uint64_t)size };

	if (size < 0)
		return -EINVAL;
	return setattr_path_async(s, path, &a, cg, user, req_out);
}

int dafs_truncate(struct dafs_session *s, const char *path, off_t size)
{
	return (int)CLIENT_SYNC(dafs_truncate_async, s, path, size);
}

int dafs_chmod_async(struct dafs_session *s, const char *path, mode_t mode,
		     struct dafs_cg *cg, void *user, struct dafs_req **req_out)
{
	struct dafs_args_setattr a = { .mask = DAFS_SET_MODE, .mode = mode & 07777 };

	return setattr_path_async(s, path, &a, cg, user, req_out);
}

int dafs_chmod(struct dafs_session *s, const char *path, mode_t mode)
{
	return (int)CLIENT_SYNC(dafs_chmod_async, s, path, mode);
}

static int chown_async(struct dafs_session *s, const char *path, uid_t uid, gid_t gid,
		       int flags, struct dafs_cg *cg, void *user, struct dafs_req **req_out)
{
	struct dafs_args_setattr a = { .flags = flags & AT_SYMLINK_NOFOLLOW ? DAFS_L_NOFOLLOW : 0 };

	client_owner(&a, uid, gid);
	return setattr_path_async(s, path, &a, cg, user, req_out);
}

int dafs_chown(struct dafs_session *s, const char *path, uid_t uid, gid_t gid, int flags)
{
	return (int)CLIENT_SYNC(chown_async, s, path, uid, gid, flags);
}

int dafs_utimens_async(struct dafs_session *s, const char *path, const struct timespec times[2],
		       int flags, struct dafs_cg *cg, void *user, struct dafs_req **req_out)
{
	struct dafs_args_setattr a = { .flags = flags & AT_SYMLINK_NOFOLLOW ? DAFS_L_NOFOLLOW : 0 };
	int rc = client_times(&a, times);

	return rc ? rc : setattr_path_async(s, path, &a, cg, user, req_out);
}

int dafs_utimens(struct dafs_session *s, const char *path, const struct timespec times[2],
		 int flags)
{
	return (int)CLIENT_SYNC(dafs_utimens_async, s, path, times, flags);
}

static int path_op_async(struct dafs_session *s, uint16_t opcode, const char *path,
			 mode_t mode, struct dafs_cg *cg, void *user, struct dafs_req **req_out)
{
	struct dafs_op op = { .opcode = opcode, .a.path = {
		.dir = DAFS_FH_ROOT, .path = path, .mode = (uint32_t)(mode & 07777) } };

	return client_submit_one(s, &op, opcode == DAFS_OP_MKDIR ? client_finish_attr :
				 client_finish_status, REQ_OUT_NONE, 0, cg, user, req_out);
}

int dafs_mkdir_async(struct dafs_session *s, const char *path, mode_t mode,
		     struct dafs_cg *cg, void *user, struct dafs_req **req_out)
{
	return path_op_async(s, DAFS_OP_MKDIR, path, mode, cg, user, req_out);
}

int dafs_unlink_async(struct dafs_session *s, const char *path,
		      struct dafs_cg *cg, void *user, struct dafs_req **req_out)
{
	return path_op_async(s, DAFS_OP_REMOVE, path, 0, cg, user, req_out);
}

int dafs_rmdir_async(struct dafs_session *s, const char *path,
		     struct dafs_cg *cg, void *user, struct dafs_req **req_out)
{
	return path_op_async(s, DAFS_OP_RMDIR, path, 0, cg, user, req_out);
}

int dafs_mkdir(struct dafs_session *s, const char *path, mode_t mode)
{
	return (int)CLIENT_SYNC(dafs_mkdir_async, s, path, mode);
}

int dafs_rmdir(struct dafs_session *s, const char *path)
{
	return (int)CLIENT_SYNC(dafs_rmdir_async, s, path);
}

int dafs_unlink(struct dafs_session *s, const char *path)
{
	return (int)CLIENT_SYNC(dafs_unlink_async, s, path);
}

static int two_paths_async(struct dafs_session *s, uint16_t opcode, const char *p1,
			   const char *p2, unsigned flags, struct dafs_cg *cg, void *user,
			   struct dafs_req **req_out)
{
	struct dafs_op op = { .opcode = opcode, .a.two = {
		.dir1 = DAFS_FH_ROOT, .path1 = p1, .dir2 = DAFS_FH_ROOT, .path2 = p2,
		.flags = flags } };

	return client_submit_one(s, &op, client_finish_status, REQ_OUT_NONE, 0, cg, user, req_out);
}

int dafs_rename_async(struct dafs_session *s, const char *from, const char *to,
		      unsigned flags, struct dafs_cg *cg, void *user, struct dafs_req **req_out)
{
	if (flags & ~(unsigned)(RENAME_NOREPLACE | RENAME_EXCHANGE))
		return -EINVAL;
	return two_paths_async(s, DAFS_OP_RENAME, from, to,
			       (flags & RENAME_NOREPLACE ? DAFS_RENAME_NOREPLACE : 0) |
			       (flags & RENAME_EXCHANGE ? DAFS_RENAME_EXCHANGE : 0),
			       cg, user, req_out);
}

int dafs_rename(struct dafs_session *s, const char *from, const char *to, unsigned flags)
{
	return (int)CLIENT_SYNC(dafs_rename_async, s, from, to, flags);
}

int dafs_link_async(struct dafs_session *s, const char *existing, const char *newpath,
		    struct dafs_cg *cg, void *user, struct dafs_req **req_out)
{
	return two_paths_async(s, DAFS_OP_LINK, existing, newpath, 0, cg, user, req_out);
}

int dafs_link(struct dafs_session *s, const char *existing, const char *newpath)
{
	return (int)CLIENT_SYNC(dafs_link_async, s, existing, newpath);
}

int dafs_link_file_async(struct dafs_file *f, const char *newpath,
			 struct dafs_cg *cg, void *user, struct dafs_req **req_out)
{
	struct dafs_op op = { .opcode = DAFS_OP_LINK, .a.two = {
		.dir1 = f->fh, .path1 = "", .dir2 = DAFS_FH_ROOT, .path2 = newpath } };

	return client_submit_one(f->s, &op, client_finish_status, REQ_OUT_NONE, 0, cg, user,
				 req_out);
}

int dafs_link_file(struct dafs_file *f, const char *newpath)
{
	return (int)CLIENT_SYNC(dafs_link_file_async, f, newpath);
}

int dafs_symlink_async(struct dafs_session *s, const char *target, const char *linkpath,
		       struct dafs_cg *cg, void *user, struct dafs_req **req_out)
{
	return two_paths_async(s, DAFS_OP_SYMLINK, target, linkpath, 0, cg, user, req_out);
}

int dafs_symlink(struct dafs_session *s, const char *target, const char *linkpath)
{
	return (int)CLIENT_SYNC(dafs_symlink_async, s, target, linkpath);
}

static ssize_t finish_readlink(struct dafs_req *req, struct dafs_reply *rep)
{
	size_t n;
	int rc;

	if (!rep)
		return req->result;
	rc = client_errno_of(rep, 0);
	if (rc)
		return rc;
	n = strlen(rep->res[0].r.readlink.target);
	if (n > req->finish_arg)
		n = req->finish_arg;   /* readlink(2) truncates silently */
	memcpy(req->out.link, rep->res[0].r.readlink.target, n);
	return (ssize_t)n;
}

int dafs_readlink_async(struct dafs_session *s, const char *path, char *buf, size_t size,
			struct dafs_cg *cg, void *user, struct dafs_req **req_out)
{
	struct dafs_op op = { .opcode = DAFS_OP_READLINK,
			      .a.path = { .dir = DAFS_FH_ROOT, .path = path } };

	return client_submit_one(s, &op, finish_readlink, (union req_out){ .link = buf }, size, cg,
				 user, req_out);
}

ssize_t dafs_readlink(struct dafs_session *s, const char *path, char *buf, size_t size)
{
	return CLIENT_SYNC(dafs_readlink_async, s, path, buf, size);
}

/* ---- Special files ------------------------------------------------------- */

int dafs_mknod_async(struct dafs_session *s, const char *path, mode_t mode, dev_t dev,
		     struct dafs_cg *cg, void *user, struct dafs_req **req_out)
{
	/* st_mode's type bits are the wire's (Linux) values. */
	struct dafs_op op = { .opcode = DAFS_OP_MKNOD, .a.mknod = {
		.dir = DAFS_FH_ROOT, .path = path, .mode = (uint32_t)(mode & (S_IFMT | 07777)) } };

	switch (mode & S_IFMT) {
	case S_IFCHR:
	case S_IFBLK:
		op.a.mknod.rdev = (uint64_t)dev;
		break;
	case S_IFIFO:
	case S_IFSOCK:
		break;              /* mknod(2) ignores dev for these */
	default:
		return -EINVAL;
	}
	return client_submit_one(s, &op, client_finish_status, REQ_OUT_NONE, 0, cg, user, req_out);
}

int dafs_mknod(struct dafs_session *s, const char *path, mode_t mode, dev_t dev)
{
	return (int)CLIENT_SYNC(dafs_mknod_async, s, path, mode, dev);
}

/* ---- Directories --------------------------------------------------------- */

int dafs_opendir(struct dafs_session *s, const char *path, struct dafs_dir **out)
{
	struct dafs_dir *d = calloc(1, sizeof(*d));
	int rc;

	if (!d)
		return -ENOMEM;
	rc = dafs_open(s, path[0] ? path : "/", O_RDONLY | O_DIRECTORY, 0, &d->file);
	if (rc) {
		free(d);
		return rc;
	}
	*out = d;
	return 0;
}

static ssize_t finish_readdir(struct dafs_req *req, struct dafs_reply *rep)
{
	struct dafs_dir *d = req->out.dir;
	const struct dafs_res_readdir *r;
	int rc;

	if (!rep)
		return req->result;
	rc = client_errno_of(rep, 0);
	if (rc)
		return rc;
	r = &rep->res[0].r.readdir;
	free(d->buf);
	d->buf = malloc(r->entries_len ? r->entries_len : 1);
	if (!d->buf)
		return -ENOMEM;
	memcpy(d->buf, r->entries, r->entries_len);
	d->len = r->entries_len;
	d->pos = 0;
	d->eof = r->eof;
	return r->count;
}

/* Fetches the directory's next entries into d, so that dafs_readdir hands
 * them out without a round trip. -EBUSY while fetched entries remain. */
int dafs_readdir_async(struct dafs_dir *d, struct dafs_cg *cg, void *user,
		       struct dafs_req **req_out)
{
	struct dafs_op op = { .opcode = DAFS_OP_READDIR, .a.readdir = {
		.fh = d->file->fh, .cookie = d->cookie, .max_bytes = 32768 } };

	if (d->buf && d->pos < d->len)
		return -EBUSY;
	return client_submit_one(d->file->s, &op, finish_readdir, (union req_out){ .dir = d }, 0,
				 cg, user, req_out);
}

int dafs_readdir(struct dafs_dir *d, struct dafs_dirent_info *ent)
{
	struct dafs_dirent e;
	int rc;

	for (;;) {
		rc = d->buf ? dafs_dirent_next(d->buf, d->len, &d->pos, &e) : 0;
		if (rc < 0)
			return -EPROTO;
		if (rc == 1)
			break;
		if (d->eof)
			return 0;
		ssize_t n = CLIENT_SYNC(dafs_readdir_async, d);
		if (n < 0)
			return (int)n;
		if (n == 0 && !d->eof)
			return -EPROTO;
	}
	ent->ino = e.ino;
	ent->type = e.type;
	ent->cookie = (off_t)e.cookie;
	snprintf(ent->name, sizeof(ent->name), "%s", e.name);
	d->cookie = d->pos_cookie = e.cookie;
	return 1;
}

void dafs_seekdir(struct dafs_dir *d, off_t cookie)
{
	free(d->buf);
	d->buf = NULL;
	d->len = d->pos = 0;
	d->eof = false;
	d->cookie = d->pos_cookie = (uint64_t)cookie;
}

void dafs_rewinddir(struct dafs_dir *d)
{
	dafs_seekdir(d, 0);
}

off_t dafs_telldir(struct dafs_dir *d)
{
	return (off_t)d->pos_cookie;
}

int dafs_closedir(struct dafs_dir *d)
{
	int rc = dafs_close(d->file);

	free(d->buf);
	free(d);
	return rc;
}

/* ---- Locks ---------------------------------------------------------------- */

static ssize_t finish_lock(struct dafs_req *req, struct dafs_reply *rep)
{
	const struct dafs_res_lock *r;
	struct flock *fl = req->out.fl;
	int rc;

	if (!rep)
		return req->result;
	rc = client_errno_of(rep, 0);
	if (rc && rc != -EAGAIN)
		return rc;
	if (!fl)
		return rc;
	r = &rep->res[0].r.lock;
	if (r->type == DAFS_LOCK_NONE) {
		fl->l_type = F_UNLCK;
	} else {
		fl->l_type = r->type == DAFS_LOCK_READ ? F_RDLCK : F_WRLCK;
		fl->l_whence = SEEK_SET;
		fl->l_start = (off_t)r->start;
		fl->l_len = (off_t)r->len;
		fl->l_pid = (pid_t)r->pid;
	}
	return rc;
}

/* close() must release every owner's locks, so the file remembers them; one
 * owner too many gets ENOLCK rather than a lock that outlives close. */
static bool owner_room(struct dafs_file *f, uint64_t owner)
{
	for (unsigned i = 0; i < f->nlock_owners; i++)
		if (f->lock_owners[i] == owner)
			return true;
	return f->nlock_owners < sizeof(f->lock_owners) / sizeof(f->lock_owners[0]);
}

static void remember_owner(struct dafs_file *f, uint64_t owner)
{
	for (unsigned i = 0; i < f->nlock_owners; i++)
		if (f->lock_owners[i] == owner)
			return;
	f->lock_owners[f->nlock_owners++] = owner;
}

/* Records that owner's range [start, start + len) of the file (dev, ino)
 * is now `type` (DAFS_LOCK_NONE: unlocked): what it held there before goes,
 * its parts outside the range stay, as fcntl's locks behave. */
static void held_locks_set(struct dafs_session *s, uint64_t dev, uint64_t ino,
			   const struct dafs_args_lock *a, uint8_t type)
{
	uint64_t start = a->start;
	uint64_t end = a->len == 0 || a->len > UINT64_MAX - start ? UINT64_MAX : start + a->len;
	struct held_lock **p = &s->held_locks, *h;

	while ((h = *p)) {
		if (h->dev != dev || h->ino != ino || h->owner != a->owner ||
		    h->end <= start || h->start >= end) {
			p = &h->next;
			continue;
		}
		/* What sticks out on either side stays. */
		if (h->start < start && h->end > end) {
			struct held_lock *right = malloc(sizeof(*right));
			if (right) {
				*right = *h;
				right->start = end;
				h->next = right;
			}
			h->end = start;
			p = &h->next;
		} else if (h->start < start) {
			h->end = start;
			p = &h->next;
		} else if (h->end > end) {
			h->start = end;
			p = &h->next;
		} else {
			*p = h->next;
			free(h);
		}
	}
	if (type == DAFS_LOCK_NONE)
		return;
	h = malloc(sizeof(*h));
	if (!h) {
		/* Not reclaimed after a restart, then: said then (recover.c
		 * cannot know), so say it now. */
		fprintf(stderr, "libdafs: out of memory: a lock will not survive a server restart\n");
		return;
	}
	*h = (struct held_lock){ dev, ino, a->owner, start, end, type, s->held_locks };
	s->held_locks = h;
}

void held_locks_forget(struct dafs_file *f, uint64_t owner)
{
	struct dafs_args_lock all = { .owner = owner };

	held_locks_set(f->s, f->dev, f->ino, &all, DAFS_LOCK_NONE);
}

void held_locks_free(struct dafs_session *s)
{
	while (s->held_locks) {
		struct held_lock *h = s->held_locks;
		s->held_locks = h->next;
		free(h);
	}
}

/* A granted lock: remember its owner so close() can release it, and its
 * range so that a restarted server gets it back. */
static ssize_t finish_lock_taken(struct dafs_req *req, struct dafs_reply *rep)
{
	ssize_t rc = client_finish_status(req, rep);
	struct dafs_file *f = req->out.file;

	if (rc == 0 && rep) {
		remember_owner(f, req->lock.owner);
		held_locks_set(f->s, f->dev, f->ino, &req->lock, req->lock.type);
		if (rep->res[0].r.lock.broken)
			rc = DAFS_LOCK_BROKEN;
	}
	return rc;
}

static ssize_t finish_unlock(struct dafs_req *req, struct dafs_reply *rep)
{
	ssize_t rc = client_finish_status(req, rep);
	struct dafs_file *f = req->out.file;

	if (rc == 0 && rep)
		held_locks_set(f->s, f->dev, f->ino, &req->lock, DAFS_LOCK_NONE);
	return rc;
}

/* LOCK or UNLOCK of f, the range kept in the request for its finisher. */
static int lock_submit(struct dafs_file *f, const struct dafs_op *op, req_finish_fn finish,
		       struct dafs_cg *cg, void *user, struct dafs_req **req_out)
{
	struct dafs_compound *rq = compound_alloc();
	struct dafs_req *req = rq ? req_new(f->s, cg, user, req_out, finish) : NULL;
	int rc;

	if (!req) {
		compound_free(rq);
		return rq ? -EINVAL : -ENOMEM;
	}
	req->out.file = f;
	req->lock = op->a.lock;
	rq->nops = 1;
	rq->ops[0] = *op;
	rc = req_submit(req, rq);
	compound_free(rq);
	return rc;
}

_Static_assert(DAFS_LOCK_OWNER_FLOCK == DAFS_WIRE_LOCK_OWNER_FLOCK,
	       "dafs.h's flock owner bit is the wire's");

int dafs_lock_async(struct dafs_file *f, int cmd, struct flock *fl, uint64_t owner,
		    struct dafs_cg *cg, void *user, struct dafs_req **req_out)
{
	struct dafs_op op = { .opcode = DAFS_OP_LOCK };
	int64_t start = fl->l_start, len = fl->l_len;
	int rc;

	if (cmd != F_GETLK && cmd != F_SETLK)
		return -EINVAL;
	if (fl->l_type != F_RDLCK && fl->l_type != F_WRLCK && fl->l_type != F_UNLCK)
		return -EINVAL;
	if (fl->l_whence == SEEK_END) {
		struct stat st;
		rc = dafs_fstat(f, &st);
		if (rc)
			return rc;
		start += st.st_size;
	} else if (fl->l_whence != SEEK_SET && fl->l_whence != SEEK_CUR) {
		return -EINVAL;
	}
	/* A negative length covers the bytes before start, as fcntl allows. */
	if (len < 0) {
		start += len;
		len = -len;
	}
	if (start < 0)
		return -EINVAL;
	op.a.lock = (struct dafs_args_lock){
		.fh = f->fh, .owner = owner, .start = (uint64_t)start, .len = (uint64_t)len,
		.pid = (uint32_t)getpid(),
		.type = fl->l_type == F_RDLCK ? DAFS_LOCK_READ : DAFS_LOCK_WRITE,
	};
	if (cmd == F_GETLK) {
		if (fl->l_type == F_UNLCK)
			return -EINVAL;
		op.opcode = DAFS_OP_LOCKT;
		return client_submit_one(f->s, &op, finish_lock, (union req_out){ .fl = fl }, 0, cg,
					 user, req_out);
	}
	if (fl->l_type == F_UNLCK) {
		op.opcode = DAFS_OP_UNLOCK;
		return lock_submit(f, &op, finish_unlock, cg, user, req_out);
	}
	pthread_mutex_lock(&f->s->lock);   /* a granted lock's reply adds owners */
	rc = owner_room(f, owner) ? 0 : -ENOLCK;
	pthread_mutex_unlock(&f->s->lock);
	if (rc)
		return rc;
	return lock_submit(f, &op, finish_lock_taken, cg, user, req_out);
}

/* The longest pause between two tries of a waiting lock (F_SETLKW). */
#define LOCK_POLL_MAX_MS 16

/* Whether a signal handler that interrupted a waiting lock's pause should
 * end the wait with EINTR, as the kernel's F_SETLKW and flock do for a
 * handler installed without SA_RESTART (flock(1) -w and shell timeouts
 * rely on it). The pause cannot tell which signal it was, so any handler
 * without SA_RESTART counts; handlers with it let the wait go on. */
static bool wait_interrupted(void)
{
	struct sigaction sa;
	int sig;

	for (sig = 1; sig < NSIG; sig++) {
		if (sigaction(sig, NULL, &sa) < 0 || sa.sa_handler == SIG_DFL ||
		    sa.sa_handler == SIG_IGN)
			continue;
		if (!(sa.sa_flags & SA_RESTART))
			return true;
	}
	return false;
}

int dafs_lock(struct dafs_file *f, int cmd, struct flock *fl, uint64_t owner)
{
	unsigned delay_ms = 2;
	int rc;

	if (cmd != F_SETLKW) {
		/* A restarted server's grace period (EBUSY) is waited out: the
		 * answer after it is the one the caller asked for. */
		while ((rc = (int)CLIENT_SYNC(dafs_lock_async, f, cmd, fl, owner)) == -EBUSY)
			usleep(LOCK_POLL_MAX_MS * 1000);
	} else {
		/* The server never holds a request for a lock: a waiting lock
		 * polls, backing off, as NFSv4 clients do, but only up to
		 * LOCK_POLL_MAX_MS: a lock whose holder died is free the moment
		 * the server learns of it (server/procwatch.h), and a waiter
		 * should not sleep much past that. */
		while ((rc = (int)CLIENT_SYNC(dafs_lock_async, f, F_SETLK, fl, owner)) == -EAGAIN ||
		       rc == -EBUSY) {
			if (usleep(delay_ms * 1000) < 0 && errno == EINTR && wait_interrupted())
				return -EINTR;
			if (delay_ms < LOCK_POLL_MAX_MS)
				delay_ms *= 2;
		}
	}
	/* Programs that share a file under locks (sqlite, Berkeley DB) expect
	 * to see what the last holder wrote: a lock taken drops the cached
	 * pages, as NFS clients revalidate at lock time. (Writes reach the
	 * server before an unlock does: every request waits for them.) */
	if (rc >= 0 && cmd != F_GETLK && fl->l_type != F_UNLCK) {
		pthread_mutex_lock(&f->s->lock);
		cache_invalidate(f);
		pthread_mutex_unlock(&f->s->lock);
	}
	return rc;
}
