/* proto.c — encoding and decoding of DAFS frames.
 *
 * Each operation's layout is written once, as a function over a codec that
 * either writes fields (encode) or reads and checks them (decode). Encoder and
 * decoder therefore cannot drift apart, and every check the decoder makes on
 * network input is also made on what we send.
 *
 * The codec never reads or writes past its buffer: the first failure latches
 * an error and every later field becomes a no-op.
 */
#include "proto.h"
#include "auth.h"

#include <errno.h>
#include <string.h>

struct codec {
	uint8_t *buf;      /* encode: written; decode: read (never written) */
	size_t len;        /* bytes available */
	size_t pos;
	bool encode;
	int err;           /* first error, negative errno */
};

static void fail(struct codec *c, int err)
{
	if (!c->err)
		c->err = err;
}

static bool room(struct codec *c, size_t n)
{
	if (c->err)
		return false;
	if (n > c->len - c->pos) {
		fail(c, c->encode ? -EMSGSIZE : -EBADMSG);
		return false;
	}
	return true;
}

static void raw(struct codec *c, void *v, size_t n)
{
	if (!room(c, n))
		return;
	if (c->encode)
		memcpy(c->buf + c->pos, v, n);
	else
		memcpy(v, c->buf + c->pos, n);
	c->pos += n;
}

/* Integers are little-endian on the wire; this build is for little-endian
 * hosts (x86-64, aarch64), checked at compile time. */
_Static_assert(__BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__, "little-endian hosts only");

static void u8(struct codec *c, uint8_t *v) { raw(c, v, 1); }
static void u16(struct codec *c, uint16_t *v) { raw(c, v, 2); }
static void u32(struct codec *c, uint32_t *v) { raw(c, v, 4); }
static void i32(struct codec *c, int32_t *v) { raw(c, v, 4); }
static void u64(struct codec *c, uint64_t *v) { raw(c, v, 8); }
static void i64(struct codec *c, int64_t *v) { raw(c, v, 8); }

/* Opaque bytes: a u32 length, then the bytes. */
static void bytes(struct codec *c, const void **p, uint32_t *n, uint32_t max)
{
	if (c->encode && (*n > max || (*n && !*p))) {
		fail(c, -EINVAL);
		return;
	}
	u32(c, n);
	if (c->err)
		return;
	if (*n > max) {
		fail(c, -E2BIG);
		return;
	}
	if (!room(c, *n))
		return;
	if (c->encode) {
		if (*n)     /* *p may be NULL when empty; memcpy(.., NULL, 0) is UB */
			memcpy(c->buf + c->pos, *p, *n);
	} else {
		*p = *n ? c->buf + c->pos : NULL;
	}
	c->pos += *n;
}

/* A string: u32 length including the terminating NUL, then the bytes. The
 * decoder insists on exactly one NUL, at the end, so the pointer it hands out
 * is a proper C string of the length the sender meant. */
static void str(struct codec *c, const char **s, uint32_t max)
{
	uint32_t n = 0;

	if (c->encode) {
		if (!*s) {
			fail(c, -EINVAL);
			return;
		}
		n = (uint32_t)strnlen(*s, max) + 1;
		if (n > max) {
			fail(c, -EINVAL);
			return;
		}
	}
	u32(c, &n);
	if (c->err)
		return;
	if (n == 0 || n > max) {
		fail(c, n ? -E2BIG : -EBADMSG);
		return;
	}
	if (!room(c, n))
		return;
	if (c->encode) {
		memcpy(c->buf + c->pos, *s, n);
	} else {
		const char *p = (const char *)c->buf + c->pos;
		if (p[n - 1] != '\0' || memchr(p, '\0', n - 1)) {
			fail(c, -EBADMSG);
			return;
		}
		*s = p;
	}
	c->pos += n;
}

/* A check that holds for valid frames; on the decode side it is input
 * validation, on the encode side it catches our own bugs before they travel. */
static void require(struct codec *c, bool ok, int err)
{
	if (!ok)
		fail(c, c->encode ? -EINVAL : err);
}

static void codec_hdr(struct codec *c, struct dafs_hdr *h)
{
	u32(c, &h->magic);
	u16(c, &h->version);
	u16(c, &h->flags);
	u16(c, &h->slot);
	u16(c, &h->credits);
	u32(c, &h->seq);
	i32(c, &h->status);
	u32(c, &h->body_len);
	u64(c, &h->session);
}

static void codec_cred(struct codec *c, struct dafs_cred *cr)
{
	uint16_t pad = 0;

	u32(c, &cr->uid);
	u32(c, &cr->gid);
	u16(c, &cr->ngroups);
	u16(c, &pad);
	if (c->err)
		return;
	require(c, pad == 0, -EBADMSG);
	require(c, cr->ngroups <= DAFS_GROUPS_MAX, -E2BIG);
	for (unsigned i = 0; i < cr->ngroups && !c->err; i++)
		u32(c, &cr->groups[i]);
}

static void codec_time(struct codec *c, struct dafs_time *t)
{
	i64(c, &t->sec);
	u32(c, &t->nsec);
	require(c, t->nsec < 1000000000u, -EBADMSG);
}

static void codec_attr(struct codec *c, struct dafs_attr *a)
{
	u64(c, &a->dev);
	u64(c, &a->ino);
	u32(c, &a->mode);
	u32(c, &a->nlink);
	u32(c, &a->uid);
	u32(c, &a->gid);
	u64(c, &a->rdev);
	u64(c, &a->size);
	u64(c, &a->blocks);
	u32(c, &a->blksize);
	codec_time(c, &a->atime);
	codec_time(c, &a->mtime);
	codec_time(c, &a->ctime);
	u64(c, &a->change);
}

static void codec_io(struct codec *c, uint16_t opcode, struct dafs_args_io *io)
{
	uint64_t total = 0;

	u64(c, &io->fh);
	u64(c, &io->offset);
	u32(c, &io->len);
	u16(c, &io->nsegs);
	if (c->err)
		return;
	require(c, io->len <= DAFS_IO_MAX, -E2BIG);
	require(c, io->nsegs <= DAFS_SEGS_MAX, -E2BIG);
	require(c, io->offset <= INT64_MAX && io->len <= INT64_MAX - io->offset, -EBADMSG);
	if (c->err)
		return;
	for (unsigned i = 0; i < io->nsegs; i++) {
		u64(c, &io->segs[i].addr);
		u64(c, &io->segs[i].key);
		u32(c, &io->segs[i].len);
		total += io->segs[i].len;
	}
	if (io->nsegs) {
		require(c, total == io->len, -EBADMSG);
		io->data = NULL;
		return;
	}
	require(c, io->len <= DAFS_INLINE_MAX, -E2BIG);
	if (opcode == DAFS_OP_WRITE) {
		uint32_t n = io->len;
		bytes(c, &io->data, &n, DAFS_INLINE_MAX);
		require(c, n == io->len, -EBADMSG);
	} else {
		io->data = NULL;
	}
}

static void codec_lock_type(struct codec *c, uint8_t *type, bool none_ok)
{
	u8(c, type);
	require(c, *type == DAFS_LOCK_READ || *type == DAFS_LOCK_WRITE ||
		   (none_ok && *type == DAFS_LOCK_NONE), -EBADMSG);
}

/* A named attribute's operation: the object (fh, path, flags), then only
 * the fields the opcode uses, so a frame carries nothing unchecked. */
static void codec_xattr_args(struct codec *c, uint16_t opcode, struct dafs_args_xattr *x)
{
	uint32_t allowed = DAFS_L_NOFOLLOW;

	if (opcode == DAFS_OP_SETXATTR)
		allowed |= DAFS_XATTR_CREATE | DAFS_XATTR_REPLACE;
	u64(c, &x->fh);
	str(c, &x->path, DAFS_PATH_MAX);
	u32(c, &x->flags);
	require(c, !(x->flags & ~allowed), -EBADMSG);
	if (opcode != DAFS_OP_LISTXATTR) {
		str(c, &x->name, DAFS_XATTR_NAME_MAX + 1);
		/* getxattr(2) refuses an empty name (ERANGE): so does the wire. */
		if (!c->err)
			require(c, x->name[0] != '\0', -EBADMSG);
	} else if (!c->encode) {
		x->name = NULL;
	}
	if (opcode == DAFS_OP_GETXATTR || opcode == DAFS_OP_LISTXATTR) {
		u32(c, &x->size);
		require(c, x->size <= (opcode == DAFS_OP_GETXATTR ? DAFS_XATTR_SIZE_MAX :
						     DAFS_XATTR_LIST_MAX), -E2BIG);
	} else if (!c->encode) {
		x->size = 0;
	}
	if (opcode == DAFS_OP_SETXATTR) {
		bytes(c, &x->value, &x->value_len, DAFS_XATTR_SIZE_MAX);
	} else if (!c->encode) {
		x->value = NULL;
		x->value_len = 0;
	}
}

static void codec_args(struct codec *c, struct dafs_op *op)
{
	switch (op->opcode) {
	case DAFS_OP_NULL:
	case DAFS_OP_SESSION_CLOSE:
		break;
	case DAFS_OP_CONNECT:
	case DAFS_OP_PING:
		bytes(c, &op->a.connect.addr, &op->a.connect.addr_len, DAFS_ADDR_MAX);
		u64(c, &op->a.connect.resume);
		break;
	case DAFS_OP_SESSION_OPEN: {
		struct dafs_args_session_open *s = &op->a.session_open;
		u32(c, &s->pid);
		u32(c, &s->uid);
		u32(c, &s->gid);
		str(c, &s->name, 256);
		bytes(c, &s->addr, &s->addr_len, DAFS_ADDR_MAX);
		u16(c, &s->auth_method);
		bytes(c, &s->auth, &s->auth_len, DAFS_AUTH_MAX);
		u64(c, &s->resume);
		break;
	}
	case DAFS_OP_REOPEN: {
		struct dafs_args_reopen *r = &op->a.reopen;
		u64(c, &r->fh);
		str(c, &r->path, DAFS_PATH_MAX);
		u32(c, &r->flags);
		u64(c, &r->dev);
		u64(c, &r->ino);
		require(c, !(r->flags & ~DAFS_O_ALL) &&
			   !(r->flags & (DAFS_O_CREAT | DAFS_O_EXCL | DAFS_O_TRUNC | DAFS_O_TMPFILE)) &&
			   (r->flags & DAFS_O_ACCMODE) != DAFS_O_ACCMODE, -EBADMSG);
		break;
	}
	case DAFS_OP_OPEN:
	case DAFS_OP_LOOKUP:
	case DAFS_OP_GETATTR:
		u64(c, &op->a.open.dir);
		str(c, &op->a.open.path, DAFS_PATH_MAX);
		u32(c, &op->a.open.flags);
		u32(c, &op->a.open.mode);
		require(c, !(op->a.open.flags & ~(op->opcode == DAFS_OP_OPEN ?
						  DAFS_O_ALL : DAFS_L_ALL)),
			-EBADMSG);
		require(c, (op->a.open.flags & DAFS_O_ACCMODE) != DAFS_O_ACCMODE ||
			   op->opcode != DAFS_OP_OPEN, -EBADMSG);
		require(c, !(op->a.open.flags & DAFS_O_TMPFILE) || op->opcode != DAFS_OP_OPEN ||
			   ((op->a.open.flags & DAFS_O_ACCMODE) != DAFS_O_RDONLY &&
			    !(op->a.open.flags & (DAFS_O_CREAT | DAFS_O_DIRECTORY))), -EBADMSG);
		break;
	case DAFS_OP_CLOSE:
	case DAFS_OP_STATFS:
		u64(c, &op->a.fh.fh);
		break;
	case DAFS_OP_SETATTR: {
		struct dafs_args_setattr *s = &op->a.setattr;
		u64(c, &s->fh);
		str(c, &s->path, DAFS_PATH_MAX);
		u32(c, &s->flags);
		u32(c, &s->mask);
		u64(c, &s->size);
		u32(c, &s->mode);
		codec_time(c, &s->atime);
		codec_time(c, &s->mtime);
		u32(c, &s->uid);
		u32(c, &s->gid);
		require(c, !(s->flags & ~DAFS_L_NOFOLLOW) && !(s->mask & ~DAFS_SET_ALL) &&
			   s->size <= INT64_MAX && !(s->mode & ~07777u), -EBADMSG);
		break;
	}
	case DAFS_OP_READ:
	case DAFS_OP_WRITE:
		codec_io(c, op->opcode, &op->a.io);
		break;
	case DAFS_OP_COMMIT:
		u64(c, &op->a.commit.fh);
		u32(c, &op->a.commit.flags);
		require(c, !(op->a.commit.flags & ~DAFS_COMMIT_DATASYNC), -EBADMSG);
		break;
	case DAFS_OP_READDIR:
		u64(c, &op->a.readdir.fh);
		u64(c, &op->a.readdir.cookie);
		u32(c, &op->a.readdir.max_bytes);
		break;
	case DAFS_OP_MKDIR:
	case DAFS_OP_RMDIR:
	case DAFS_OP_REMOVE:
	case DAFS_OP_READLINK:
		u64(c, &op->a.path.dir);
		str(c, &op->a.path.path, DAFS_PATH_MAX);
		u32(c, &op->a.path.mode);
		require(c, !(op->a.path.mode & ~07777u), -EBADMSG);
		break;
	case DAFS_OP_RENAME:
	case DAFS_OP_LINK:
	case DAFS_OP_SYMLINK:
		u64(c, &op->a.two.dir1);
		str(c, &op->a.two.path1, DAFS_PATH_MAX);
		u64(c, &op->a.two.dir2);
		str(c, &op->a.two.path2, DAFS_PATH_MAX);
		u32(c, &op->a.two.flags);
		require(c, !(op->a.two.flags & ~(op->opcode == DAFS_OP_RENAME ?
			   (uint32_t)(DAFS_RENAME_NOREPLACE | DAFS_RENAME_EXCHANGE) : 0u)),
			-EBADMSG);
		break;
	case DAFS_OP_LOCK:
	case DAFS_OP_UNLOCK:
	case DAFS_OP_LOCKT:
		u64(c, &op->a.lock.fh);
		u64(c, &op->a.lock.owner);
		u64(c, &op->a.lock.start);
		u64(c, &op->a.lock.len);
		u32(c, &op->a.lock.pid);
		codec_lock_type(c, &op->a.lock.type, false);
		require(c, op->a.lock.start <= INT64_MAX && op->a.lock.len <= INT64_MAX &&
			   (op->a.lock.len == 0 ||
			    op->a.lock.len - 1 <= (uint64_t)INT64_MAX - op->a.lock.start),
			-EBADMSG);
		break;
	case DAFS_OP_HINT:
		u64(c, &op->a.hint.fh);
		u64(c, &op->a.hint.offset);
		u64(c, &op->a.hint.len);
		u32(c, &op->a.hint.advice);
		require(c, op->a.hint.advice >= DAFS_HINT_WILLNEED &&
			   op->a.hint.advice <= DAFS_HINT_RANDOM, -EBADMSG);
		/* len 0: to the end of the file, as posix_fadvise. */
		require(c, op->a.hint.offset <= INT64_MAX &&
			   op->a.hint.len <= (uint64_t)INT64_MAX - op->a.hint.offset, -EBADMSG);
		break;
	case DAFS_OP_ALLOCATE: {
		struct dafs_args_allocate *a = &op->a.allocate;
		uint32_t m;
		u64(c, &a->fh);
		u64(c, &a->offset);
		u64(c, &a->len);
		u32(c, &a->mode);
		m = a->mode & ~(uint32_t)DAFS_ALLOC_KEEP_SIZE;
		require(c, m == 0 || m == DAFS_ALLOC_ZERO_RANGE ||
			   a->mode == (DAFS_ALLOC_PUNCH_HOLE | DAFS_ALLOC_KEEP_SIZE), -EBADMSG);
		/* fallocate(2) refuses an empty range: so does the wire. */
		require(c, a->len >= 1 && a->offset <= INT64_MAX &&
			   a->len <= (uint64_t)INT64_MAX - a->offset, -EBADMSG);
		break;
	}
	case DAFS_OP_MKNOD: {
		struct dafs_args_mknod *m = &op->a.mknod;
		uint32_t type;
		u64(c, &m->dir);
		str(c, &m->path, DAFS_PATH_MAX);
		u32(c, &m->mode);
		u64(c, &m->rdev);
		type = m->mode & DAFS_MKNOD_TYPE;
		require(c, !(m->mode & ~(DAFS_MKNOD_TYPE | 07777u)) &&
			   (type == DAFS_MKNOD_FIFO || type == DAFS_MKNOD_CHR ||
			    type == DAFS_MKNOD_BLK || type == DAFS_MKNOD_SOCK), -EBADMSG);
		/* A device number means something only for a device. */
		require(c, m->rdev == 0 || type == DAFS_MKNOD_CHR || type == DAFS_MKNOD_BLK,
			-EBADMSG);
		break;
	}
	case DAFS_OP_GETXATTR:
	case DAFS_OP_SETXATTR:
	case DAFS_OP_LISTXATTR:
	case DAFS_OP_REMOVEXATTR:
		codec_xattr_args(c, op->opcode, &op->a.xattr);
		break;
	case DAFS_OP_REGISTER:
	case DAFS_OP_UNREGISTER:
		u64(c, &op->a.region.addr);
		u64(c, &op->a.region.len);
		u64(c, &op->a.region.key);
		require(c, op->a.region.len > 0 &&
			   op->a.region.len - 1 <= UINT64_MAX - op->a.region.addr, -EBADMSG);
		break;
	default:
		fail(c, c->encode ? -EINVAL : -EOPNOTSUPP);
	}
}

static void codec_result(struct codec *c, struct dafs_result *r)
{
	/* A failed operation carries no body, except a refused lock, which says
	 * who holds the conflicting range (F_GETLK needs it). */
	if (r->status != 0 && !(r->status == EAGAIN && r->opcode == DAFS_OP_LOCK))
		return;
	/* A granted LOCK says only whether it took over broken locks (struct
	 * dafs_res_lock's other fields are for the conflict and for LOCKT). */
	if (r->status == 0 && r->opcode == DAFS_OP_LOCK) {
		u8(c, &r->r.lock.broken);
		require(c, r->r.lock.broken <= 1, -EBADMSG);
		return;
	}
	switch (r->opcode) {
	case DAFS_OP_NULL:
	case DAFS_OP_PING:
	case DAFS_OP_SESSION_CLOSE:
	case DAFS_OP_CLOSE:
	case DAFS_OP_COMMIT:
	case DAFS_OP_RMDIR:
	case DAFS_OP_REMOVE:
	case DAFS_OP_RENAME:
	case DAFS_OP_UNLOCK:
	case DAFS_OP_HINT:
	case DAFS_OP_REGISTER:
	case DAFS_OP_UNREGISTER:
	case DAFS_OP_ALLOCATE:
		break;
	case DAFS_OP_CONNECT:
		bytes(c, &r->r.connect.addr, &r->r.connect.addr_len, DAFS_ADDR_MAX);
		bytes(c, &r->r.connect.nonce, &r->r.connect.nonce_len, DAFS_AUTH_MAX);
		break;
	case DAFS_OP_SESSION_OPEN: {
		struct dafs_res_session_open *s = &r->r.session_open;
		u64(c, &s->session);
		u32(c, &s->credits);
		u32(c, &s->lease_ms);
		u32(c, &s->msg_max);
		u32(c, &s->inline_max);
		u32(c, &s->io_max);
		bytes(c, &s->auth, &s->auth_len, DAFS_AUTH_MAX);
		u8(c, &s->resumed);
		require(c, s->credits >= 1 && s->credits <= DAFS_SLOTS_MAX, -EBADMSG);
		require(c, s->resumed <= 1, -EBADMSG);
		break;
	}
	case DAFS_OP_OPEN:
	case DAFS_OP_LOOKUP:
	case DAFS_OP_REOPEN:
		u64(c, &r->r.handle.fh);
		codec_attr(c, &r->r.handle.attr);
		break;
	case DAFS_OP_GETATTR:
	case DAFS_OP_SETATTR:
	case DAFS_OP_MKDIR:
	case DAFS_OP_SYMLINK:
	case DAFS_OP_LINK:
	case DAFS_OP_MKNOD:
		codec_attr(c, &r->r.attr.attr);
		break;
	case DAFS_OP_READ: {
		/* Inline data follows when present; a direct read has none. */
		uint32_t n = c->encode && r->r.read.data ? r->r.read.count : 0;
		u32(c, &r->r.read.count);
		u8(c, &r->r.read.eof);
		require(c, r->r.read.count <= DAFS_IO_MAX, -E2BIG);
		require(c, r->r.read.eof <= 1, -EBADMSG);
		bytes(c, &r->r.read.data, &n, DAFS_INLINE_MAX);
		require(c, n == 0 || n == r->r.read.count, -EBADMSG);
		break;
	}
	case DAFS_OP_WRITE:
		u32(c, &r->r.write.count);
		u64(c, &r->r.write.offset);
		u64(c, &r->r.write.size);
		require(c, r->r.write.count <= DAFS_IO_MAX, -E2BIG);
		break;
	case DAFS_OP_READDIR: {
		struct dafs_res_readdir *d = &r->r.readdir;
		u32(c, &d->count);
		u8(c, &d->eof);
		bytes(c, &d->entries, &d->entries_len, DAFS_MSG_MAX);
		require(c, d->eof <= 1, -EBADMSG);
		if (!c->err) {
			/* Walk once now so consumers can trust count and entries (and
			 * so the encoder refuses what the decoder would). */
			struct dafs_dirent e;
			size_t pos = 0;
			uint32_t seen = 0;
			int rc;
			while ((rc = dafs_dirent_next(d->entries, d->entries_len, &pos, &e)) == 1)
				seen++;
			require(c, rc == 0 && seen == d->count, -EBADMSG);
		}
		break;
	}
	case DAFS_OP_READLINK:
		str(c, &r->r.readlink.target, DAFS_PATH_MAX);
		break;
	case DAFS_OP_STATFS: {
		struct dafs_res_statfs *s = &r->r.statfs;
		u64(c, &s->bsize);
		u64(c, &s->frsize);
		u64(c, &s->blocks);
		u64(c, &s->bfree);
		u64(c, &s->bavail);
		u64(c, &s->files);
		u64(c, &s->ffree);
		u64(c, &s->favail);
		u32(c, &s->namemax);
		break;
	}
	case DAFS_OP_LOCK:
	case DAFS_OP_LOCKT:
		codec_lock_type(c, &r->r.lock.type, true);
		u64(c, &r->r.lock.start);
		u64(c, &r->r.lock.len);
		u32(c, &r->r.lock.pid);
		break;
	case DAFS_OP_SETXATTR:
	case DAFS_OP_REMOVEXATTR:
		break;
	case DAFS_OP_GETXATTR:
	case DAFS_OP_LISTXATTR: {
		/* The value comes whole or not at all (a size query). */
		struct dafs_res_xattr *x = &r->r.xattr;
		uint32_t max = r->opcode == DAFS_OP_GETXATTR ? DAFS_XATTR_SIZE_MAX :
							       DAFS_XATTR_LIST_MAX;
		u32(c, &x->size);
		require(c, x->size <= max, -E2BIG);
		bytes(c, &x->value, &x->value_len, max);
		require(c, x->value_len == 0 || x->value_len == x->size, -EBADMSG);
		/* A list is names, each with its NUL: the last byte is one. */
		if (!c->err && r->opcode == DAFS_OP_LISTXATTR && x->value_len)
			require(c, ((const uint8_t *)x->value)[x->value_len - 1] == 0, -EBADMSG);
		break;
	}
	default:
		fail(c, c->encode ? -EINVAL : -EOPNOTSUPP);
	}
}

/* One operation or result is framed as opcode, (status), length, body; the
 * length lets the decoder confine each body and refuse trailing bytes. */
static void codec_framed(struct codec *c, uint16_t *opcode, int32_t *status,
			 void *item, bool is_result)
{
	uint16_t reserved = 0;
	uint32_t body_len = 0;
	size_t len_pos, body_start;

	u16(c, opcode);
	u16(c, &reserved);
	if (is_result) {
		i32(c, status);
		require(c, *status >= 0 && *status < 4096, -EBADMSG);
	}
	len_pos = c->pos;
	u32(c, &body_len);
	if (c->err)
		return;
	require(c, reserved == 0, -EBADMSG);
	if (*opcode >= DAFS_OP_COUNT)
		fail(c, c->encode ? -EINVAL : -EOPNOTSUPP);
	if (c->err)
		return;
	body_start = c->pos;
	if (!c->encode) {
		/* Confine the body: the codec may not read past its own length. */
		if (body_len > c->len - c->pos) {
			fail(c, -EBADMSG);
			return;
		}
		struct codec sub = { c->buf + c->pos, body_len, 0, false, 0 };
		if (is_result)
			codec_result(&sub, item);
		else
			codec_args(&sub, item);
		if (!sub.err && sub.pos != body_len)
			sub.err = -EBADMSG;
		fail(c, sub.err);
		c->pos += body_len;
		return;
	}
	if (is_result)
		codec_result(c, item);
	else
		codec_args(c, item);
	if (c->err)
		return;
	body_len = (uint32_t)(c->pos - body_start);
	memcpy(c->buf + len_pos, &body_len, 4);
}

static int check_hdr(const struct dafs_hdr *h, size_t frame_len)
{
	if (h->magic != DAFS_MAGIC)
		return -EBADMSG;
	if (h->version != DAFS_VERSION)
		return -EPROTONOSUPPORT;
	if (h->flags & ~DAFS_HF_ALL)
		return -EBADMSG;
	/* A sealed frame's trailer (auth.h: a sequence and a tag) follows the
	 * body. */
	if (h->flags & DAFS_HF_MAC) {
		if (frame_len < DAFS_HDR_SIZE + DAFS_MAC_TRAILER)
			return -EBADMSG;
		frame_len -= DAFS_MAC_TRAILER;
	}
	if (h->body_len != frame_len - DAFS_HDR_SIZE)
		return -EBADMSG;
	return 0;
}

int dafs_decode_hdr(const void *buf, size_t len, struct dafs_hdr *hdr)
{
	struct codec c = { (uint8_t *)buf, len, 0, false, 0 };

	if (len > DAFS_MSG_MAX)
		return -E2BIG;
	codec_hdr(&c, hdr);
	if (c.err)
		return c.err;
	return check_hdr(hdr, len);
}

static int codec_message(struct codec *c, struct dafs_hdr *hdr, struct dafs_cred *cred,
			 uint16_t *count, bool is_reply, void *items)
{
	uint16_t reserved = 0;

	codec_hdr(c, hdr);
	if (c->err)
		return c->err;
	if (!c->encode) {
		int rc = check_hdr(hdr, c->len);
		if (rc)
			return rc;
		/* Only a frame dafs_mac_open checked (and unsealed) decodes. */
		if (hdr->flags & DAFS_HF_MAC)
			return -EBADMSG;
		if (!!(hdr->flags & DAFS_HF_REPLY) != is_reply)
			return -EBADMSG;
	} else {
		/* Sealing is dafs_mac_seal's, after encoding. */
		require(c, !(hdr->flags & ~DAFS_HF_ALL) && !(hdr->flags & DAFS_HF_MAC), -EBADMSG);
	}
	/* A reply that refuses the whole request carries no operations. */
	if (is_reply && hdr->status != 0) {
		require(c, hdr->status > 0 && hdr->status < 4096, -EBADMSG);
		if (!c->encode && c->pos != c->len)
			fail(c, -EBADMSG);
		*count = 0;
		return c->err;
	}
	if (!is_reply)
		codec_cred(c, cred);
	u16(c, count);
	u16(c, &reserved);
	if (c->err)
		return c->err;
	require(c, reserved == 0, -EBADMSG);
	require(c, *count <= DAFS_COMPOUND_MAX, -E2BIG);
	require(c, *count >= 1 || is_reply, -EBADMSG);
	for (unsigned i = 0; i < *count && !c->err; i++) {
		if (is_reply) {
			struct dafs_result *r = &((struct dafs_result *)items)[i];
			codec_framed(c, &r->opcode, &r->status, r, true);
		} else {
			struct dafs_op *op = &((struct dafs_op *)items)[i];
			codec_framed(c, &op->opcode, NULL, op, false);
		}
	}
	if (!c->encode && !c->err && c->pos != c->len)
		fail(c, -EBADMSG);
	return c->err;
}

static int encode_message(void *buf, size_t cap, struct dafs_hdr *hdr, struct dafs_cred *cred,
			  uint16_t *count, bool is_reply, void *items)
{
	struct codec c = { buf, cap < DAFS_MSG_MAX ? cap : DAFS_MSG_MAX, 0, true, 0 };
	int rc;

	hdr->magic = DAFS_MAGIC;
	hdr->version = DAFS_VERSION;
	hdr->body_len = 0;
	if (is_reply)
		hdr->flags |= DAFS_HF_REPLY;
	else
		hdr->flags &= (uint16_t)~DAFS_HF_REPLY;
	rc = codec_message(&c, hdr, cred, count, is_reply, items);
	if (rc)
		return rc;
	/* Rewrite the header now that body_len is known (its layout lives only
	 * in codec_hdr; body_len is at offset 20, not 24). */
	hdr->body_len = (uint32_t)(c.pos - DAFS_HDR_SIZE);
	struct codec h = { buf, DAFS_HDR_SIZE, 0, true, 0 };
	codec_hdr(&h, hdr);
	return (int)c.pos;
}

int dafs_encode_request(void *buf, size_t cap, struct dafs_compound *req)
{
	return encode_message(buf, cap, &req->hdr, &req->cred, &req->nops, false, req->ops);
}

int dafs_encode_reply(void *buf, size_t cap, struct dafs_reply *rep)
{
	return encode_message(buf, cap, &rep->hdr, NULL, &rep->nres, true, rep->res);
}

int dafs_decode_request(const void *buf, size_t len, struct dafs_compound *req)
{
	struct codec c = { (uint8_t *)buf, len, 0, false, 0 };

	if (len > DAFS_MSG_MAX)
		return -E2BIG;
	return codec_message(&c, &req->hdr, &req->cred, &req->nops, false, req->ops);
}

int dafs_decode_reply(const void *buf, size_t len, struct dafs_reply *rep)
{
	struct codec c = { (uint8_t *)buf, len, 0, false, 0 };

	if (len > DAFS_MSG_MAX)
		return -E2BIG;
	return codec_message(&c, &rep->hdr, NULL, &rep->nres, true, rep->res);
}

static void codec_dirent(struct codec *c, struct dafs_dirent *e)
{
	u64(c, &e->ino);
	u64(c, &e->cookie);
	u8(c, &e->type);
	str(c, &e->name, DAFS_NAME_MAX + 1);
	if (!c->err)
		require(c, e->name[0] != '\0' && !strchr(e->name, '/'), -EBADMSG);
}

int dafs_dirent_put(void *buf, size_t cap, size_t pos, const struct dafs_dirent *ent)
{
	struct dafs_dirent copy = *ent;
	struct codec c = { buf, cap, pos, true, 0 };

	if (pos > cap)
		return -EINVAL;
	codec_dirent(&c, &copy);
	if (c.err)
		return c.err;
	return (int)c.pos;
}

int dafs_dirent_next(const void *entries, size_t len, size_t *pos, struct dafs_dirent *ent)
{
	struct codec c = { (uint8_t *)entries, len, *pos, false, 0 };

	if (*pos >= len)
		return 0;
	codec_dirent(&c, ent);
	if (c.err)
		return -EBADMSG;
	*pos = c.pos;
	return 1;
}

const char *dafs_opcode_name(unsigned opcode)
{
	static const char *const names[DAFS_OP_COUNT] = {
		[DAFS_OP_NULL] = "NULL", [DAFS_OP_CONNECT] = "CONNECT",
		[DAFS_OP_SESSION_OPEN] = "SESSION_OPEN", [DAFS_OP_SESSION_CLOSE] = "SESSION_CLOSE",
		[DAFS_OP_OPEN] = "OPEN", [DAFS_OP_CLOSE] = "CLOSE", [DAFS_OP_LOOKUP] = "LOOKUP",
		[DAFS_OP_GETATTR] = "GETATTR", [DAFS_OP_SETATTR] = "SETATTR",
		[DAFS_OP_READ] = "READ", [DAFS_OP_WRITE] = "WRITE", [DAFS_OP_COMMIT] = "COMMIT",
		[DAFS_OP_READDIR] = "READDIR", [DAFS_OP_MKDIR] = "MKDIR", [DAFS_OP_RMDIR] = "RMDIR",
		[DAFS_OP_REMOVE] = "REMOVE", [DAFS_OP_RENAME] = "RENAME", [DAFS_OP_LINK] = "LINK",
		[DAFS_OP_SYMLINK] = "SYMLINK", [DAFS_OP_READLINK] = "READLINK",
		[DAFS_OP_STATFS] = "STATFS", [DAFS_OP_LOCK] = "LOCK", [DAFS_OP_UNLOCK] = "UNLOCK",
		[DAFS_OP_LOCKT] = "LOCKT", [DAFS_OP_HINT] = "HINT",
		[DAFS_OP_REGISTER] = "REGISTER", [DAFS_OP_UNREGISTER] = "UNREGISTER",
		[DAFS_OP_ALLOCATE] = "ALLOCATE", [DAFS_OP_MKNOD] = "MKNOD",
		[DAFS_OP_GETXATTR] = "GETXATTR", [DAFS_OP_SETXATTR] = "SETXATTR",
		[DAFS_OP_LISTXATTR] = "LISTXATTR", [DAFS_OP_REMOVEXATTR] = "REMOVEXATTR",
		[DAFS_OP_REOPEN] = "REOPEN", [DAFS_OP_PING] = "PING",
	};
	return opcode < DAFS_OP_COUNT ? names[opcode] : "UNKNOWN";
}
