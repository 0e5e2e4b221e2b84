/* test_proto.c — the wire format (proto.c): round trips of every operation
 * and result, hand-built malformed frames that must be refused with the
 * documented error, encoder refusals that never write past `cap`, and a
 * seeded mutation run (decode -> encode -> decode must be stable, and every
 * pointer the decoder hands out must lie inside the input).
 *
 * Frames under test are placed at the very end of a heap block, so that under
 * AddressSanitizer a decoder reading even one byte past `len` is caught. */
#include "auth.h"
#include "check.h"
#include "proto.h"

#include <errno.h>
#include <ctype.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <stdbool.h>
#include <stdint.h>
#include <string.h>
#include <time.h>

#define BIG (DAFS_MSG_MAX + 8192)

/* ---- small helpers ---------------------------------------------------- */

static uint64_t rng_state = 0x9e3779b97f4a7c15ull;

static uint64_t rnd(void)
{
	/* xorshift64*: fixed seed, same sequence on every run. */
	rng_state ^= rng_state >> 12;
	rng_state ^= rng_state << 25;
	rng_state ^= rng_state >> 27;
	return rng_state * 0x2545f4914f6cdd1dull;
}

static uint32_t rndn(uint32_t n)
{
	return n ? (uint32_t)(rnd() % n) : 0;
}

/* A heap block whose end is the end of the frame being decoded. */
static uint8_t *tail_block;

static const uint8_t *at_tail(const void *frame, size_t len)
{
	uint8_t *p = tail_block + BIG - len;
	memmove(p, frame, len);
	return p;
}

static int dec_req(const void *frame, size_t len, struct dafs_compound *req)
{
	return dafs_decode_request(at_tail(frame, len), len, req);
}

static int dec_rep(const void *frame, size_t len, struct dafs_reply *rep)
{
	return dafs_decode_reply(at_tail(frame, len), len, rep);
}

static void put16(uint8_t *p, uint16_t v) { memcpy(p, &v, 2); }
static void put32(uint8_t *p, uint32_t v) { memcpy(p, &v, 4); }
static uint32_t get32(const uint8_t *p) { uint32_t v; memcpy(&v, p, 4); return v; }

/* Header offsets (the layout of codec_hdr). */
#define H_MAGIC    0
#define H_VERSION  4
#define H_FLAGS    6
#define H_STATUS   16
#define H_BODYLEN  20
/* Body of a request or an accepted reply: count, reserved, then items. */
#define B_COUNT    32
#define B_RESERVED 34
#define B_ITEMS    36
/* A request's body starts with the caller's credentials: uid, gid, ngroups,
 * a zero u16, the groups; with none, 12 bytes before the count. */
#define Q_CRED     32
#define Q_NGROUPS  40
#define Q_CRED_PAD 42
#define Q_COUNT    (B_COUNT + 12)
#define Q_RESERVED (B_RESERVED + 12)
#define Q_ITEMS    (B_ITEMS + 12)

static void fix_body_len(uint8_t *f, size_t len)
{
	if (len >= DAFS_HDR_SIZE)
		put32(f + H_BODYLEN, (uint32_t)(len - DAFS_HDR_SIZE));
}

/* ---- a raw frame writer, for frames the encoder would refuse ------------ */

struct wb {
	uint8_t b[BIG];
	size_t n;
};

static void wraw(struct wb *w, const void *p, size_t n) { memcpy(w->b + w->n, p, n); w->n += n; }
static void w8(struct wb *w, uint8_t v) { wraw(w, &v, 1); }
static void w16(struct wb *w, uint16_t v) { wraw(w, &v, 2); }
static void w32(struct wb *w, uint32_t v) { wraw(w, &v, 4); }
static void w64(struct wb *w, uint64_t v) { wraw(w, &v, 8); }

/* A string as the codec writes it: length with the NUL, then the bytes. */
static void wstr(struct wb *w, const char *s)
{
	w32(w, (uint32_t)strlen(s) + 1);
	wraw(w, s, strlen(s) + 1);
}

static void wtime(struct wb *w, int64_t sec, uint32_t nsec)
{
	w64(w, (uint64_t)sec);
	w32(w, nsec);
}

static void wattr(struct wb *w, uint32_t atime_nsec)
{
	w64(w, 1); w64(w, 2);                   /* dev, ino */
	w32(w, 0100644); w32(w, 1); w32(w, 0); w32(w, 0); /* mode nlink uid gid */
	w64(w, 0); w64(w, 10); w64(w, 8);       /* rdev size blocks */
	w32(w, 4096);                           /* blksize */
	wtime(w, 1, atime_nsec); wtime(w, 2, 0); wtime(w, 3, 0);
	w64(w, 99);                             /* change */
}

static void whdr(struct wb *w, uint16_t flags, int32_t status)
{
	w32(w, DAFS_MAGIC);
	w16(w, DAFS_VERSION);
	w16(w, flags);
	w16(w, 3);              /* slot */
	w16(w, 8);              /* credits */
	w32(w, 77);             /* seq */
	w32(w, (uint32_t)status);
	w32(w, 0);              /* body_len: fixed by wend() */
	w64(w, 0x1122334455667788ull);
}

static void wend(struct wb *w)
{
	fix_body_len(w->b, w->n);
}

/* A one-operation request frame around `body` (opcode, reserved, length). */
static void raw_req(struct wb *w, uint16_t opcode, const struct wb *body)
{
	w->n = 0;
	whdr(w, 0, 0);
	w32(w, 1000);          /* uid, gid, no groups, pad */
	w32(w, 100);
	w16(w, 0);
	w16(w, 0);
	w16(w, 1);
	w16(w, 0);
	w16(w, opcode);
	w16(w, 0);
	w32(w, (uint32_t)body->n);
	wraw(w, body->b, body->n);
	wend(w);
}

/* A one-result reply frame around `body`. */
static void raw_rep(struct wb *w, uint16_t opcode, int32_t status, const struct wb *body)
{
	w->n = 0;
	whdr(w, DAFS_HF_REPLY, 0);
	w16(w, 1);
	w16(w, 0);
	w16(w, opcode);
	w16(w, 0);
	w32(w, (uint32_t)status);
	w32(w, (uint32_t)body->n);
	wraw(w, body->b, body->n);
	wend(w);
}

/* ---- sample data -------------------------------------------------------- */

static char long_path[DAFS_PATH_MAX];       /* DAFS_PATH_MAX - 1 chars */
static char long_name[DAFS_NAME_MAX + 1];   /* DAFS_NAME_MAX chars */
static uint8_t inline_data[DAFS_INLINE_MAX];
static uint8_t xattr_value[DAFS_XATTR_SIZE_MAX];  /* includes zero bytes */
static char xattr_list[] = "user.a\0security.selinux\0system.posix_acl_access";
static uint8_t addr_bytes[DAFS_ADDR_MAX];
static uint8_t auth_bytes[DAFS_AUTH_MAX];
static uint8_t dirents[4096];
static int dirents_len;

static void init_samples(void)
{
	memset(long_path, 'p', sizeof long_path - 1);
	for (size_t i = 100; i < sizeof long_path - 1; i += 100)
		long_path[i] = '/';
	long_path[sizeof long_path - 1] = '\0';
	memset(long_name, 'n', sizeof long_name - 1);
	long_name[sizeof long_name - 1] = '\0';
	for (size_t i = 0; i < sizeof inline_data; i++)
		inline_data[i] = (uint8_t)(i * 7 + (i >> 8));
	for (size_t i = 0; i < sizeof xattr_value; i++)
		xattr_value[i] = (uint8_t)(i * 13 + (i >> 9));
	for (size_t i = 0; i < sizeof addr_bytes; i++)
		addr_bytes[i] = (uint8_t)(i ^ 0x5a);   /* includes zero bytes */
	for (size_t i = 0; i < sizeof auth_bytes; i++)
		auth_bytes[i] = (uint8_t)(255 - i);
}

static void fill_attr(struct dafs_attr *a, uint64_t seed)
{
	a->dev = 0x0803 + seed;
	a->ino = 0x123456789abcdefull ^ seed;
	a->mode = seed & 1 ? 040755 : 0100644;
	a->nlink = (uint32_t)(2 + seed);
	a->uid = 1000;
	a->gid = 0xfffffffeu;
	a->rdev = seed << 8;
	a->size = INT64_MAX - seed;
	a->blocks = 17;
	a->blksize = 4096;
	a->atime = (struct dafs_time){ -1, 999999999 };
	a->mtime = (struct dafs_time){ INT64_MAX, 0 };
	a->ctime = (struct dafs_time){ INT64_MIN, 500 };
	a->change = UINT64_MAX - seed;
}

/* Variant `v` of an operation with this opcode; false when there is none. */
static bool make_op(struct dafs_op *op, unsigned opcode, unsigned v)
{
	memset(op, 0, sizeof *op);
	op->opcode = (uint16_t)opcode;
	switch (opcode) {
	case DAFS_OP_NULL:
	case DAFS_OP_SESSION_CLOSE:
		return v == 0;
	case DAFS_OP_CONNECT:
	case DAFS_OP_PING:
		if (v == 0) {
			op->a.connect.addr = "fi_sockaddr_in://127.0.0.1:7070";
			op->a.connect.addr_len = 31;
		} else if (v == 1) {
			op->a.connect.addr = NULL;
			op->a.connect.addr_len = 0;
		} else if (v == 2) {
			op->a.connect.addr = addr_bytes;
			op->a.connect.addr_len = DAFS_ADDR_MAX;
			op->a.connect.resume = UINT64_MAX;
		} else {
			return false;
		}
		return true;
	case DAFS_OP_SESSION_OPEN: {
		struct dafs_args_session_open *s = &op->a.session_open;
		if (v > 1)
			return false;
		s->pid = 4242 + v;
		s->uid = v ? 0 : 1000;
		s->gid = 0xffffffffu;
		s->name = v ? long_name : "host1 dafs-test";
		s->addr = addr_bytes;
		s->addr_len = v ? DAFS_ADDR_MAX : 16;
		s->auth_method = (uint16_t)v;
		s->auth = v ? auth_bytes : NULL;
		s->auth_len = v ? DAFS_AUTH_MAX : 0;
		s->resume = v ? 0x8877665544332211ull : 0;
		return true;
	}
	case DAFS_OP_REOPEN:
		/* v0: a handle of the largest generation, read-write, append;
		 * v1: the longest path, read-only, every flag REOPEN takes */
		if (v > 1)
			return false;
		op->a.reopen = (struct dafs_args_reopen){ v ? 1 : UINT64_MAX - 1,
			v ? long_path : "logs/app.log",
			v ? DAFS_O_ALL & ~(DAFS_O_ACCMODE | DAFS_O_CREAT | DAFS_O_EXCL |
					   DAFS_O_TRUNC | DAFS_O_TMPFILE) : DAFS_O_RDWR | DAFS_O_APPEND,
			v ? UINT64_MAX : 0x803, v ? 0 : 123456789 };
		return true;
	case DAFS_OP_OPEN:
		if (v == 0) {
			op->a.open = (struct dafs_args_open){ 5, "a/b/c.txt",
				DAFS_O_RDWR | DAFS_O_CREAT | DAFS_O_EXCL | DAFS_O_TRUNC, 0644 };
		} else if (v == 1) {
			op->a.open = (struct dafs_args_open){ DAFS_FH_CURRENT, "",
				DAFS_O_RDONLY | DAFS_O_DIRECTORY, 0 };
		} else if (v == 2) {
			op->a.open = (struct dafs_args_open){ DAFS_FH_ROOT, long_path,
				(DAFS_O_ALL & ~(DAFS_O_ACCMODE | DAFS_O_TMPFILE)) | DAFS_O_WRONLY,
				07777 };
		} else if (v == 3) {
			op->a.open = (struct dafs_args_open){ 5, "dir",
				DAFS_O_TMPFILE | DAFS_O_RDWR | DAFS_O_EXCL, 0600 };
		} else {
			return false;
		}
		return true;
	case DAFS_OP_LOOKUP:
	case DAFS_OP_GETATTR:
		if (v > 1)
			return false;
		op->a.open = (struct dafs_args_open){ v ? 7 : DAFS_FH_ROOT, v ? "" : "etc/passwd",
			v ? 0 : DAFS_L_ALL, 0 };
		return true;
	case DAFS_OP_CLOSE:
	case DAFS_OP_STATFS:
		if (v > 1)
			return false;
		op->a.fh.fh = v ? DAFS_FH_CURRENT : 42;
		return true;
	case DAFS_OP_SETATTR: {
		struct dafs_args_setattr *s = &op->a.setattr;
		if (v > 1)
			return false;
		s->fh = v ? DAFS_FH_CURRENT : 9;
		s->path = v ? "" : "x/y";
		s->flags = v ? 0 : DAFS_L_NOFOLLOW;
		s->mask = v ? DAFS_SET_SIZE : DAFS_SET_ALL;
		s->size = v ? 0 : INT64_MAX;
		s->mode = v ? 0 : 07777;
		s->atime = (struct dafs_time){ -1, 999999999 };
		s->mtime = (struct dafs_time){ INT64_MAX, 0 };
		s->uid = v ? 0 : UINT32_MAX;
		s->gid = v ? 0 : 1234;
		return true;
	}
	case DAFS_OP_READ:
	case DAFS_OP_WRITE: {
		struct dafs_args_io *io = &op->a.io;
		io->fh = 11;
		io->offset = 4096;
		if (v == 0) {                   /* inline */
			io->len = opcode == DAFS_OP_WRITE ? 100 : 8192;
			io->data = opcode == DAFS_OP_WRITE ? inline_data : NULL;
		} else if (v == 1) {            /* direct, three segments */
			io->len = 3 * 65536 + 5;
			io->nsegs = 3;
			io->segs[0] = (struct dafs_seg){ 0x7f0000001000ull, 0xabc, 65536 };
			io->segs[1] = (struct dafs_seg){ 0x7f0000100000ull, 0xabd, 131072 };
			io->segs[2] = (struct dafs_seg){ UINT64_MAX, UINT64_MAX, 5 };
		} else if (v == 2) {            /* direct, every segment, the largest I/O */
			io->len = DAFS_IO_MAX;
			io->nsegs = DAFS_SEGS_MAX;
			io->offset = INT64_MAX - DAFS_IO_MAX;
			for (unsigned i = 0; i < DAFS_SEGS_MAX; i++)
				io->segs[i] = (struct dafs_seg){ 0x10000ull * i, i, DAFS_IO_MAX / DAFS_SEGS_MAX };
		} else if (v == 3) {            /* empty */
			io->len = 0;
			io->offset = INT64_MAX;
		} else if (v == 4) {            /* the largest inline transfer */
			io->len = DAFS_INLINE_MAX;
			io->data = opcode == DAFS_OP_WRITE ? inline_data : NULL;
		} else {
			return false;
		}
		return true;
	}
	case DAFS_OP_COMMIT:
		if (v > 1)
			return false;
		op->a.commit = (struct dafs_args_commit){ 12, v ? 0 : DAFS_COMMIT_DATASYNC };
		return true;
	case DAFS_OP_READDIR:
		if (v > 1)
			return false;
		op->a.readdir = (struct dafs_args_readdir){ 13, v ? UINT64_MAX : 0, v ? 0 : 65536 };
		return true;
	case DAFS_OP_MKDIR:
	case DAFS_OP_RMDIR:
	case DAFS_OP_REMOVE:
	case DAFS_OP_READLINK:
		if (v > 1)
			return false;
		op->a.path = (struct dafs_args_path){ v ? DAFS_FH_CURRENT : 3,
			v ? long_path : "newdir", opcode == DAFS_OP_MKDIR ? 0755 : 0 };
		return true;
	case DAFS_OP_RENAME:
	case DAFS_OP_LINK:
	case DAFS_OP_SYMLINK:
		if (v > 1)
			return false;
		op->a.two = (struct dafs_args_two_paths){ 4, opcode == DAFS_OP_SYMLINK ? "../target" : "old",
			v ? DAFS_FH_CURRENT : 5, v ? long_path : "new", 0 };
		if (opcode == DAFS_OP_RENAME)
			op->a.two.flags = v ? DAFS_RENAME_EXCHANGE : DAFS_RENAME_NOREPLACE;
		return true;
	case DAFS_OP_LOCK:
	case DAFS_OP_UNLOCK:
	case DAFS_OP_LOCKT:
		if (v == 0)
			op->a.lock = (struct dafs_args_lock){ 20, 0xdeadbeef, 0, 0, 777, DAFS_LOCK_WRITE };
		else if (v == 1)    /* the very last byte */
			op->a.lock = (struct dafs_args_lock){ 20, 1, INT64_MAX, 1, 1, DAFS_LOCK_READ };
		else if (v == 2)    /* everything */
			op->a.lock = (struct dafs_args_lock){ DAFS_FH_CURRENT, UINT64_MAX, 0, INT64_MAX, 0,
				DAFS_LOCK_READ };
		else
			return false;
		return true;
	case DAFS_OP_REGISTER:
	case DAFS_OP_UNREGISTER:
		if (v == 0)
			op->a.region = (struct dafs_args_region){ 0x7f0000001000ull, 8 << 20, 0x1234 };
		else if (v == 1)    /* up to the very last address */
			op->a.region = (struct dafs_args_region){ UINT64_MAX, 1, UINT64_MAX };
		else
			return false;
		return true;
	case DAFS_OP_ALLOCATE: {
		/* every mode the wire knows; the range up to INT64_MAX */
		static const uint32_t modes[] = { 0, DAFS_ALLOC_KEEP_SIZE,
			DAFS_ALLOC_PUNCH_HOLE | DAFS_ALLOC_KEEP_SIZE, DAFS_ALLOC_ZERO_RANGE,
			DAFS_ALLOC_ZERO_RANGE | DAFS_ALLOC_KEEP_SIZE };
		if (v >= 5)
			return false;
		op->a.allocate = (struct dafs_args_allocate){ v ? DAFS_FH_CURRENT : 22, v * 4096,
			v == 4 ? INT64_MAX - v * 4096 : 1 + v * 100, modes[v] };
		return true;
	}
	case DAFS_OP_MKNOD: {
		/* every type the wire knows; a device with the largest number */
		static const uint32_t modes[] = { DAFS_MKNOD_FIFO | 0644, DAFS_MKNOD_CHR | 0600,
			DAFS_MKNOD_BLK | 07777, DAFS_MKNOD_SOCK };
		if (v >= 4)
			return false;
		op->a.mknod = (struct dafs_args_mknod){ v ? DAFS_FH_CURRENT : 7,
			v == 1 ? long_path : "node", modes[v],
			v == 1 ? 0x0000000500000003ull : v == 2 ? UINT64_MAX : 0 };
		return true;
	}
	case DAFS_OP_HINT:
		if (v >= 4)
			return false;
		op->a.hint = (struct dafs_args_hint){ 21, v * 4096, v == 3 ? INT64_MAX - v * 4096 : v * 100,
			DAFS_HINT_WILLNEED + v };
		return true;
	case DAFS_OP_GETXATTR:
	case DAFS_OP_SETXATTR:
	case DAFS_OP_LISTXATTR:
	case DAFS_OP_REMOVEXATTR: {
		/* v0: by path, nofollow, short; v1: by handle, the longest name,
		 * the largest size or value; v2 (SETXATTR): an empty value, both
		 * flags (the kernel's to refuse, not the wire's). */
		struct dafs_args_xattr *x = &op->a.xattr;
		if (v > (opcode == DAFS_OP_SETXATTR ? 2u : 1u))
			return false;
		x->fh = v ? DAFS_FH_CURRENT : DAFS_FH_ROOT;
		x->path = v ? "" : "dir/file";
		x->flags = v ? 0 : DAFS_L_NOFOLLOW;
		if (opcode != DAFS_OP_LISTXATTR)
			x->name = v == 1 ? long_name : "user.mime_type";
		if (opcode == DAFS_OP_GETXATTR || opcode == DAFS_OP_LISTXATTR)
			x->size = v ? DAFS_XATTR_SIZE_MAX : 0;
		if (opcode == DAFS_OP_SETXATTR) {
			x->flags |= v == 0 ? DAFS_XATTR_CREATE :
				    v == 1 ? DAFS_XATTR_REPLACE : DAFS_XATTR_CREATE | DAFS_XATTR_REPLACE;
			x->value = v == 2 ? NULL : xattr_value;
			x->value_len = v == 0 ? 10 : v == 1 ? DAFS_XATTR_SIZE_MAX : 0;
		}
		return true;
	}
	}
	return false;
}

/* Variant `v` of a result for this opcode (variant 0 always succeeds; the
 * last variant of each is a failure). */
static bool make_res(struct dafs_result *r, unsigned opcode, unsigned v)
{
	memset(r, 0, sizeof *r);
	r->opcode = (uint16_t)opcode;
	switch (opcode) {
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
		if (v == 1)
			r->status = opcode == DAFS_OP_HINT ? EINVAL :
				    opcode == DAFS_OP_ALLOCATE ? ENOSPC : ENOENT;
		return v <= 1;
	case DAFS_OP_CONNECT:
		if (v == 0) {
			r->r.connect = (struct dafs_res_connect){ "fi_sockaddr_in://127.0.0.1:7071", 31,
				auth_bytes, 32 };
		} else if (v == 1) {
			r->r.connect = (struct dafs_res_connect){ addr_bytes, DAFS_ADDR_MAX,
				auth_bytes, DAFS_AUTH_MAX };
		} else if (v == 2) {
			r->r.connect = (struct dafs_res_connect){ "x", 1, NULL, 0 };
		} else if (v == 3) {
			r->status = ECONNREFUSED;
		} else {
			return false;
		}
		return true;
	case DAFS_OP_SESSION_OPEN:
		if (v == 0)
			r->r.session_open = (struct dafs_res_session_open){ 0x0102030405060708ull, 1, 30000,
				DAFS_MSG_MAX, DAFS_INLINE_MAX, DAFS_IO_MAX, NULL, 0, 0 };
		else if (v == 1)
			r->r.session_open = (struct dafs_res_session_open){ UINT64_MAX, DAFS_SLOTS_MAX, 0,
				0, 0, 0, auth_bytes, 32, 1 };   /* a server's proof (auth.h); resumed */
		else if (v == 2)
			r->status = EACCES;
		else
			return false;
		return true;
	case DAFS_OP_OPEN:
	case DAFS_OP_LOOKUP:
	case DAFS_OP_REOPEN:
		if (v == 0) {
			r->r.handle.fh = 100;
			fill_attr(&r->r.handle.attr, 1);
		} else if (v == 1) {
			r->status = ENOENT;
		} else {
			return false;
		}
		return true;
	case DAFS_OP_GETATTR:
	case DAFS_OP_SETATTR:
	case DAFS_OP_MKDIR:
	case DAFS_OP_SYMLINK:
	case DAFS_OP_LINK:
	case DAFS_OP_MKNOD:
		if (v == 0)
			fill_attr(&r->r.attr.attr, opcode);
		else if (v == 1)
			r->status = 4095;   /* the largest status the format allows */
		else
			return false;
		return true;
	case DAFS_OP_READ:
		if (v == 0)
			r->r.read = (struct dafs_res_read){ 100, 1, inline_data };
		else if (v == 1)    /* direct: the data went by RDMA */
			r->r.read = (struct dafs_res_read){ DAFS_IO_MAX, 0, NULL };
		else if (v == 2)    /* empty, at the end */
			r->r.read = (struct dafs_res_read){ 0, 1, NULL };
		else if (v == 3)
			r->r.read = (struct dafs_res_read){ DAFS_INLINE_MAX, 0, inline_data };
		else if (v == 4)
			r->status = EIO;
		else
			return false;
		return true;
	case DAFS_OP_WRITE:
		if (v == 0)
			r->r.write = (struct dafs_res_write){ 100, 4096, 4196 };
		else if (v == 1)
			r->r.write = (struct dafs_res_write){ DAFS_IO_MAX, UINT64_MAX, UINT64_MAX };
		else if (v == 2)
			r->status = ENOSPC;
		else
			return false;
		return true;
	case DAFS_OP_READDIR:
		if (v == 0)
			r->r.readdir = (struct dafs_res_readdir){ 3, 1, dirents, (uint32_t)dirents_len };
		else if (v == 1)
			r->r.readdir = (struct dafs_res_readdir){ 0, 1, NULL, 0 };
		else if (v == 2)
			r->status = ENOTDIR;
		else
			return false;
		return true;
	case DAFS_OP_READLINK:
		if (v == 0)
			r->r.readlink.target = "../some/target";
		else if (v == 1)
			r->r.readlink.target = long_path;
		else if (v == 2)
			r->r.readlink.target = "";
		else if (v == 3)
			r->status = EINVAL;
		else
			return false;
		return true;
	case DAFS_OP_STATFS:
		if (v == 0)
			r->r.statfs = (struct dafs_res_statfs){ 4096, 4096, 1u << 30, 1u << 29, 1u << 28,
				UINT64_MAX, 5, 4, 255 };
		else if (v == 1)
			r->status = ENOSYS;
		else
			return false;
		return true;
	case DAFS_OP_LOCK:
		if (v == 0)         /* granted: whether it took over broken locks, alone */
			return true;
		if (v == 1) {       /* refused: the conflict travels */
			r->status = EAGAIN;
			r->r.lock = (struct dafs_res_lock){ DAFS_LOCK_WRITE, 100, 0, 31337, 0 };
			return true;
		}
		if (v == 2) {
			r->status = EDEADLK;
			return true;
		}
		if (v == 3) {       /* granted over a dead holder's range */
			r->r.lock.broken = 1;
			return true;
		}
		return false;
	case DAFS_OP_LOCKT:
		if (v == 0)
			r->r.lock = (struct dafs_res_lock){ DAFS_LOCK_NONE, 0, 0, 0, 0 };
		else if (v == 1)
			r->r.lock = (struct dafs_res_lock){ DAFS_LOCK_READ, INT64_MAX, 1, 99, 0 };
		else if (v == 2)
			r->status = EBADF;
		else
			return false;
		return true;
	case DAFS_OP_SETXATTR:
	case DAFS_OP_REMOVEXATTR:
		if (v == 1)
			r->status = opcode == DAFS_OP_SETXATTR ? EEXIST : ENODATA;
		return v <= 1;
	case DAFS_OP_GETXATTR:
		if (v == 0)         /* a value */
			r->r.xattr = (struct dafs_res_xattr){ 10, xattr_value, 10 };
		else if (v == 1)    /* a size query's answer */
			r->r.xattr = (struct dafs_res_xattr){ DAFS_XATTR_SIZE_MAX, NULL, 0 };
		else if (v == 2)    /* the largest value */
			r->r.xattr = (struct dafs_res_xattr){ DAFS_XATTR_SIZE_MAX, xattr_value,
							      DAFS_XATTR_SIZE_MAX };
		else if (v == 3)
			r->status = ERANGE;
		else
			return false;
		return true;
	case DAFS_OP_LISTXATTR:
		if (v == 0)
			r->r.xattr = (struct dafs_res_xattr){ sizeof xattr_list, xattr_list,
							      sizeof xattr_list };
		else if (v == 1)    /* no names at all */
			r->r.xattr = (struct dafs_res_xattr){ 0, NULL, 0 };
		else if (v == 2)
			r->status = ENOTSUP;
		else
			return false;
		return true;
	}
	return false;
}

/* ---- comparison --------------------------------------------------------- */

static bool eq_mem(const void *a, uint32_t alen, const void *b, uint32_t blen)
{
	if (alen != blen)
		return false;
	if (alen == 0)
		return true;
	return a && b && memcmp(a, b, alen) == 0;
}

static bool eq_str(const char *a, const char *b)
{
	return a && b && strcmp(a, b) == 0;
}

static bool eq_time(const struct dafs_time *a, const struct dafs_time *b)
{
	return a->sec == b->sec && a->nsec == b->nsec;
}

static bool eq_attr(const struct dafs_attr *a, const struct dafs_attr *b)
{
	return a->dev == b->dev && a->ino == b->ino && a->mode == b->mode &&
	       a->nlink == b->nlink && a->uid == b->uid && a->gid == b->gid &&
	       a->rdev == b->rdev && a->size == b->size && a->blocks == b->blocks &&
	       a->blksize == b->blksize && eq_time(&a->atime, &b->atime) &&
	       eq_time(&a->mtime, &b->mtime) && eq_time(&a->ctime, &b->ctime) &&
	       a->change == b->change;
}

static bool eq_hdr(const struct dafs_hdr *a, const struct dafs_hdr *b)
{
	return a->magic == b->magic && a->version == b->version && a->flags == b->flags &&
	       a->slot == b->slot && a->credits == b->credits && a->seq == b->seq &&
	       a->status == b->status && a->body_len == b->body_len &&
	       a->session == b->session;
}

static bool eq_op(const struct dafs_op *a, const struct dafs_op *b)
{
	if (a->opcode != b->opcode)
		return false;
	switch (a->opcode) {
	case DAFS_OP_NULL:
	case DAFS_OP_SESSION_CLOSE:
		return true;
	case DAFS_OP_CONNECT:
	case DAFS_OP_PING:
		return eq_mem(a->a.connect.addr, a->a.connect.addr_len,
			      b->a.connect.addr, b->a.connect.addr_len) &&
		       a->a.connect.resume == b->a.connect.resume;
	case DAFS_OP_SESSION_OPEN: {
		const struct dafs_args_session_open *x = &a->a.session_open, *y = &b->a.session_open;
		return x->pid == y->pid && x->uid == y->uid && x->gid == y->gid &&
		       eq_str(x->name, y->name) && eq_mem(x->addr, x->addr_len, y->addr, y->addr_len) &&
		       x->auth_method == y->auth_method &&
		       eq_mem(x->auth, x->auth_len, y->auth, y->auth_len) && x->resume == y->resume;
	}
	case DAFS_OP_REOPEN:
		return a->a.reopen.fh == b->a.reopen.fh && eq_str(a->a.reopen.path, b->a.reopen.path) &&
		       a->a.reopen.flags == b->a.reopen.flags && a->a.reopen.dev == b->a.reopen.dev &&
		       a->a.reopen.ino == b->a.reopen.ino;
	case DAFS_OP_OPEN:
	case DAFS_OP_LOOKUP:
	case DAFS_OP_GETATTR:
		return a->a.open.dir == b->a.open.dir && eq_str(a->a.open.path, b->a.open.path) &&
		       a->a.open.flags == b->a.open.flags && a->a.open.mode == b->a.open.mode;
	case DAFS_OP_CLOSE:
	case DAFS_OP_STATFS:
		return a->a.fh.fh == b->a.fh.fh;
	case DAFS_OP_SETATTR: {
		const struct dafs_args_setattr *x = &a->a.setattr, *y = &b->a.setattr;
		return x->fh == y->fh && eq_str(x->path, y->path) && x->flags == y->flags &&
		       x->mask == y->mask && x->size == y->size && x->mode == y->mode &&
		       eq_time(&x->atime, &y->atime) && eq_time(&x->mtime, &y->mtime) &&
		       x->uid == y->uid && x->gid == y->gid;
	}
	case DAFS_OP_READ:
	case DAFS_OP_WRITE: {
		const struct dafs_args_io *x = &a->a.io, *y = &b->a.io;
		if (x->fh != y->fh || x->offset != y->offset || x->len != y->len || x->nsegs != y->nsegs)
			return false;
		for (unsigned i = 0; i < x->nsegs && i < DAFS_SEGS_MAX; i++)
			if (x->segs[i].addr != y->segs[i].addr || x->segs[i].key != y->segs[i].key ||
			    x->segs[i].len != y->segs[i].len)
				return false;
		if (x->nsegs || a->opcode == DAFS_OP_READ)
			return y->data == NULL;
		return eq_mem(x->data, x->len, y->data, y->len) && (y->len || !y->data);
	}
	case DAFS_OP_COMMIT:
		return a->a.commit.fh == b->a.commit.fh && a->a.commit.flags == b->a.commit.flags;
	case DAFS_OP_READDIR:
		return a->a.readdir.fh == b->a.readdir.fh && a->a.readdir.cookie == b->a.readdir.cookie &&
		       a->a.readdir.max_bytes == b->a.readdir.max_bytes;
	case DAFS_OP_MKDIR:
	case DAFS_OP_RMDIR:
	case DAFS_OP_REMOVE:
	case DAFS_OP_READLINK:
		return a->a.path.dir == b->a.path.dir && eq_str(a->a.path.path, b->a.path.path) &&
		       a->a.path.mode == b->a.path.mode;
	case DAFS_OP_RENAME:
	case DAFS_OP_LINK:
	case DAFS_OP_SYMLINK:
		return a->a.two.dir1 == b->a.two.dir1 && eq_str(a->a.two.path1, b->a.two.path1) &&
		       a->a.two.dir2 == b->a.two.dir2 && eq_str(a->a.two.path2, b->a.two.path2) &&
		       a->a.two.flags == b->a.two.flags;
	case DAFS_OP_LOCK:
	case DAFS_OP_UNLOCK:
	case DAFS_OP_LOCKT:
		return a->a.lock.fh == b->a.lock.fh && a->a.lock.owner == b->a.lock.owner &&
		       a->a.lock.start == b->a.lock.start && a->a.lock.len == b->a.lock.len &&
		       a->a.lock.pid == b->a.lock.pid && a->a.lock.type == b->a.lock.type;
	case DAFS_OP_HINT:
		return a->a.hint.fh == b->a.hint.fh && a->a.hint.offset == b->a.hint.offset &&
		       a->a.hint.len == b->a.hint.len && a->a.hint.advice == b->a.hint.advice;
	case DAFS_OP_REGISTER:
	case DAFS_OP_UNREGISTER:
		return a->a.region.addr == b->a.region.addr && a->a.region.len == b->a.region.len &&
		       a->a.region.key == b->a.region.key;
	case DAFS_OP_MKNOD:
		return a->a.mknod.dir == b->a.mknod.dir && eq_str(a->a.mknod.path, b->a.mknod.path) &&
		       a->a.mknod.mode == b->a.mknod.mode && a->a.mknod.rdev == b->a.mknod.rdev;
	case DAFS_OP_ALLOCATE:
		return a->a.allocate.fh == b->a.allocate.fh &&
		       a->a.allocate.offset == b->a.allocate.offset &&
		       a->a.allocate.len == b->a.allocate.len && a->a.allocate.mode == b->a.allocate.mode;
	case DAFS_OP_GETXATTR:
	case DAFS_OP_SETXATTR:
	case DAFS_OP_LISTXATTR:
	case DAFS_OP_REMOVEXATTR: {
		const struct dafs_args_xattr *x = &a->a.xattr, *y = &b->a.xattr;
		bool named = a->opcode != DAFS_OP_LISTXATTR;
		bool sized = a->opcode == DAFS_OP_GETXATTR || a->opcode == DAFS_OP_LISTXATTR;
		return x->fh == y->fh && eq_str(x->path, y->path) && x->flags == y->flags &&
		       (named ? eq_str(x->name, y->name) : y->name == NULL) &&
		       (sized ? x->size == y->size : y->size == 0) &&
		       eq_mem(x->value, x->value_len, y->value, y->value_len) &&
		       (y->value_len || !y->value);
	}
	}
	return false;
}

/* Does this result carry a body? (A failed op carries none, except LOCK's
 * conflict; a granted LOCK carries none either.) */
static bool res_has_body(const struct dafs_result *r)
{
	return r->status == 0 || (r->opcode == DAFS_OP_LOCK && r->status == EAGAIN);
}

static bool eq_res(const struct dafs_result *a, const struct dafs_result *b)
{
	if (a->opcode != b->opcode || a->status != b->status)
		return false;
	if (!res_has_body(a))
		return true;
	switch (a->opcode) {
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
		return true;
	case DAFS_OP_CONNECT:
		return eq_mem(a->r.connect.addr, a->r.connect.addr_len,
			      b->r.connect.addr, b->r.connect.addr_len) &&
		       eq_mem(a->r.connect.nonce, a->r.connect.nonce_len,
			      b->r.connect.nonce, b->r.connect.nonce_len);
	case DAFS_OP_SESSION_OPEN: {
		const struct dafs_res_session_open *x = &a->r.session_open, *y = &b->r.session_open;
		return x->session == y->session && x->credits == y->credits &&
		       x->lease_ms == y->lease_ms && x->msg_max == y->msg_max &&
		       x->inline_max == y->inline_max && x->io_max == y->io_max &&
		       eq_mem(x->auth, x->auth_len, y->auth, y->auth_len) && x->resumed == y->resumed;
	}
	case DAFS_OP_OPEN:
	case DAFS_OP_LOOKUP:
	case DAFS_OP_REOPEN:
		return a->r.handle.fh == b->r.handle.fh && eq_attr(&a->r.handle.attr, &b->r.handle.attr);
	case DAFS_OP_GETATTR:
	case DAFS_OP_SETATTR:
	case DAFS_OP_MKDIR:
	case DAFS_OP_SYMLINK:
	case DAFS_OP_LINK:
	case DAFS_OP_MKNOD:
		return eq_attr(&a->r.attr.attr, &b->r.attr.attr);
	case DAFS_OP_READ: {
		const struct dafs_res_read *x = &a->r.read, *y = &b->r.read;
		if (x->count != y->count || x->eof != y->eof)
			return false;
		if (!x->data || !x->count)
			return y->data == NULL;
		return y->data && memcmp(x->data, y->data, x->count) == 0;
	}
	case DAFS_OP_WRITE:
		return a->r.write.count == b->r.write.count && a->r.write.offset == b->r.write.offset &&
		       a->r.write.size == b->r.write.size;
	case DAFS_OP_READDIR:
		return a->r.readdir.count == b->r.readdir.count && a->r.readdir.eof == b->r.readdir.eof &&
		       eq_mem(a->r.readdir.entries, a->r.readdir.entries_len,
			      b->r.readdir.entries, b->r.readdir.entries_len);
	case DAFS_OP_READLINK:
		return eq_str(a->r.readlink.target, b->r.readlink.target);
	case DAFS_OP_STATFS: {
		const struct dafs_res_statfs *x = &a->r.statfs, *y = &b->r.statfs;
		return x->bsize == y->bsize && x->frsize == y->frsize && x->blocks == y->blocks &&
		       x->bfree == y->bfree && x->bavail == y->bavail && x->files == y->files &&
		       x->ffree == y->ffree && x->favail == y->favail && x->namemax == y->namemax;
	}
	case DAFS_OP_LOCK:
		if (a->status == 0)
			return a->r.lock.broken == b->r.lock.broken;
		/* A refusal carries the conflict, as LOCKT. */
		__attribute__((fallthrough));
	case DAFS_OP_LOCKT:
		return a->r.lock.type == b->r.lock.type && a->r.lock.start == b->r.lock.start &&
		       a->r.lock.len == b->r.lock.len && a->r.lock.pid == b->r.lock.pid;
	case DAFS_OP_SETXATTR:
	case DAFS_OP_REMOVEXATTR:
		return true;
	case DAFS_OP_GETXATTR:
	case DAFS_OP_LISTXATTR:
		return a->r.xattr.size == b->r.xattr.size &&
		       eq_mem(a->r.xattr.value, a->r.xattr.value_len,
			      b->r.xattr.value, b->r.xattr.value_len) &&
		       (b->r.xattr.value_len || !b->r.xattr.value);
	}
	return false;
}

static bool eq_req(const struct dafs_compound *a, const struct dafs_compound *b)
{
	if (!eq_hdr(&a->hdr, &b->hdr) || a->nops != b->nops ||
	    a->cred.uid != b->cred.uid || a->cred.gid != b->cred.gid ||
	    a->cred.ngroups != b->cred.ngroups ||
	    memcmp(a->cred.groups, b->cred.groups,
		   (a->cred.ngroups <= DAFS_GROUPS_MAX ? a->cred.ngroups : 0) * sizeof(uint32_t)))
		return false;
	for (unsigned i = 0; i < a->nops && i < DAFS_COMPOUND_MAX; i++)
		if (!eq_op(&a->ops[i], &b->ops[i]))
			return false;
	return true;
}

static bool eq_rep(const struct dafs_reply *a, const struct dafs_reply *b)
{
	if (!eq_hdr(&a->hdr, &b->hdr) || a->nres != b->nres)
		return false;
	for (unsigned i = 0; i < a->nres && i < DAFS_COMPOUND_MAX; i++)
		if (!eq_res(&a->res[i], &b->res[i]))
			return false;
	return true;
}

/* ---- pointers the decoder hands out must lie inside the input ----------- */

static bool in_buf(const void *base, size_t len, const void *p, size_t n)
{
	uintptr_t b = (uintptr_t)base, q = (uintptr_t)p;
	if (!p)
		return n == 0;
	return q >= b && q <= b + len && n <= b + len - q;
}

static bool str_in_buf(const void *base, size_t len, const char *s)
{
	uintptr_t b = (uintptr_t)base, q = (uintptr_t)s;
	if (!s || q < b || q >= b + len)
		return false;
	/* The NUL must be inside too (memchr never reads past the buffer). */
	return memchr(s, '\0', b + len - q) != NULL;
}

static bool op_ptrs_ok(const void *base, size_t len, const struct dafs_op *op)
{
	switch (op->opcode) {
	case DAFS_OP_CONNECT:
	case DAFS_OP_PING:
		return in_buf(base, len, op->a.connect.addr, op->a.connect.addr_len);
	case DAFS_OP_SESSION_OPEN:
		return str_in_buf(base, len, op->a.session_open.name) &&
		       in_buf(base, len, op->a.session_open.addr, op->a.session_open.addr_len) &&
		       in_buf(base, len, op->a.session_open.auth, op->a.session_open.auth_len);
	case DAFS_OP_OPEN:
	case DAFS_OP_LOOKUP:
	case DAFS_OP_GETATTR:
		return str_in_buf(base, len, op->a.open.path);
	case DAFS_OP_REOPEN:
		return str_in_buf(base, len, op->a.reopen.path);
	case DAFS_OP_SETATTR:
		return str_in_buf(base, len, op->a.setattr.path);
	case DAFS_OP_READ:
		return op->a.io.data == NULL;
	case DAFS_OP_WRITE:
		if (op->a.io.nsegs)
			return op->a.io.data == NULL;
		return in_buf(base, len, op->a.io.data, op->a.io.len);
	case DAFS_OP_MKDIR:
	case DAFS_OP_RMDIR:
	case DAFS_OP_REMOVE:
	case DAFS_OP_READLINK:
		return str_in_buf(base, len, op->a.path.path);
	case DAFS_OP_MKNOD:
		return str_in_buf(base, len, op->a.mknod.path);
	case DAFS_OP_RENAME:
	case DAFS_OP_LINK:
	case DAFS_OP_SYMLINK:
		return str_in_buf(base, len, op->a.two.path1) && str_in_buf(base, len, op->a.two.path2);
	case DAFS_OP_GETXATTR:
	case DAFS_OP_SETXATTR:
	case DAFS_OP_LISTXATTR:
	case DAFS_OP_REMOVEXATTR:
		return str_in_buf(base, len, op->a.xattr.path) &&
		       (op->opcode == DAFS_OP_LISTXATTR ? op->a.xattr.name == NULL :
			str_in_buf(base, len, op->a.xattr.name)) &&
		       in_buf(base, len, op->a.xattr.value, op->a.xattr.value_len);
	}
	return true;
}

/* Also walks readdir entries: every name must be inside, and the walk must
 * agree with count. */
static bool res_ptrs_ok(const void *base, size_t len, const struct dafs_result *r)
{
	if (!res_has_body(r))
		return true;
	switch (r->opcode) {
	case DAFS_OP_CONNECT:
		return in_buf(base, len, r->r.connect.addr, r->r.connect.addr_len) &&
		       in_buf(base, len, r->r.connect.nonce, r->r.connect.nonce_len);
	case DAFS_OP_SESSION_OPEN:
		return in_buf(base, len, r->r.session_open.auth, r->r.session_open.auth_len);
	case DAFS_OP_READ:
		return r->r.read.data == NULL ||
		       (r->r.read.count && in_buf(base, len, r->r.read.data, r->r.read.count));
	case DAFS_OP_READDIR: {
		const struct dafs_res_readdir *d = &r->r.readdir;
		struct dafs_dirent e;
		size_t pos = 0;
		uint32_t n = 0;
		int rc;
		if (!in_buf(base, len, d->entries, d->entries_len))
			return false;
		while ((rc = dafs_dirent_next(d->entries, d->entries_len, &pos, &e)) == 1) {
			if (!str_in_buf(d->entries, d->entries_len, e.name) || !e.name[0] ||
			    strchr(e.name, '/') || strlen(e.name) > DAFS_NAME_MAX)
				return false;
			n++;
		}
		return rc == 0 && n == d->count && pos == d->entries_len;
	}
	case DAFS_OP_READLINK:
		return str_in_buf(base, len, r->r.readlink.target);
	case DAFS_OP_GETXATTR:
	case DAFS_OP_LISTXATTR:
		return in_buf(base, len, r->r.xattr.value, r->r.xattr.value_len);
	}
	return true;
}

static bool req_ptrs_ok(const void *base, size_t len, const struct dafs_compound *req)
{
	for (unsigned i = 0; i < req->nops; i++)
		if (!op_ptrs_ok(base, len, &req->ops[i]))
			return false;
	return true;
}

static bool rep_ptrs_ok(const void *base, size_t len, const struct dafs_reply *rep)
{
	for (unsigned i = 0; i < rep->nres; i++)
		if (!res_ptrs_ok(base, len, &rep->res[i]))
			return false;
	return true;
}

/* ---- round trips -------------------------------------------------------- */

static uint8_t enc[BIG], enc2[BIG];

static void init_hdr(struct dafs_hdr *h, uint16_t flags)
{
	memset(h, 0, sizeof *h);
	h->flags = flags;
	h->slot = 5;
	h->credits = 16;
	h->seq = 0xfeedfaceu;
	h->session = 0xabcdef0123456789ull;
}

/* What the round trip needs to know of a kind of frame. */
struct frame_kind {
	const char *name;
	size_t size;
	struct dafs_hdr *(*hdr)(void *msg);
	int (*encode)(void *buf, size_t cap, void *msg);
	int (*decode)(const void *buf, size_t len, void *msg);
	bool (*eq)(const void *a, const void *b);
	bool (*ptrs_ok)(const void *base, size_t len, const void *msg);
};

static struct dafs_hdr *req_hdr(void *m) { return &((struct dafs_compound *)m)->hdr; }
static struct dafs_hdr *rep_hdr(void *m) { return &((struct dafs_reply *)m)->hdr; }
static int enc_req(void *b, size_t c, void *m) { return dafs_encode_request(b, c, m); }
static int enc_rep(void *b, size_t c, void *m) { return dafs_encode_reply(b, c, m); }
static int dec_req_any(const void *b, size_t l, void *m) { return dafs_decode_request(b, l, m); }
static int dec_rep_any(const void *b, size_t l, void *m) { return dafs_decode_reply(b, l, m); }
static bool eq_req_any(const void *a, const void *b) { return eq_req(a, b); }
static bool eq_rep_any(const void *a, const void *b) { return eq_rep(a, b); }
static bool req_ptrs_any(const void *f, size_t n, const void *m) { return req_ptrs_ok(f, n, m); }
static bool rep_ptrs_any(const void *f, size_t n, const void *m) { return rep_ptrs_ok(f, n, m); }

static const struct frame_kind request_kind = {
	"request", sizeof(struct dafs_compound), req_hdr, enc_req, dec_req_any, eq_req_any,
	req_ptrs_any,
};
static const struct frame_kind reply_kind = {
	"reply", sizeof(struct dafs_reply), rep_hdr, enc_rep, dec_rep_any, eq_rep_any,
	rep_ptrs_any,
};

/* Encode, decode (from the end of a heap block), compare every field, check
 * the pointers, then re-encode what was decoded: the bytes must be the same.
 * One CHECK; returns the frame's length or the failing rc. */
static int roundtrip(const struct frame_kind *k, void *in, const char *what)
{
	static union { struct dafs_compound req; struct dafs_reply rep; } out;
	const char *why = NULL;
	int n, rc = 0, n2 = 0;

	n = k->encode(enc, sizeof enc, in);
	if (n < 0) {
		why = "encode failed";
	} else {
		const uint8_t *f = at_tail(enc, (size_t)n);
		uint32_t body_len = k->hdr(in)->body_len;
		memset(&out, 0xee, k->size);
		rc = k->decode(f, (size_t)n, &out);
		if (rc)
			why = "decode failed";
		else if (body_len != (uint32_t)n - DAFS_HDR_SIZE || get32(f + H_BODYLEN) != body_len)
			why = "body_len wrong";
		else if (!k->eq(in, &out))
			why = "fields differ";
		else if (!k->ptrs_ok(f, (size_t)n, &out))
			why = "pointer outside the frame";
		else if ((n2 = k->encode(enc2, sizeof enc2, &out)) != n ||
			 memcmp(enc2, f, (size_t)n) != 0)
			why = "re-encoding differs";
	}
	CHECK(why == NULL, "%s round trip: %s (%d bytes)", k->name, what, n);
	if (why)
		printf("#   %s: encode %d, decode %d, re-encode %d\n", why, n, rc, n2);
	return why ? (n < 0 ? n : -1) : n;
}

static int roundtrip_req(struct dafs_compound *in, const char *what)
{
	return roundtrip(&request_kind, in, what);
}

static int roundtrip_rep(struct dafs_reply *in, const char *what)
{
	return roundtrip(&reply_kind, in, what);
}

static void build_dirents(void)
{
	const struct dafs_dirent ents[3] = {
		{ 2, 1, DAFS_TYPE_DIR, "." },
		{ 1, 2, DAFS_TYPE_DIR, ".." },
		{ 0x123456789ull, UINT64_MAX, DAFS_TYPE_REG, long_name },
	};
	int pos = 0;

	for (unsigned i = 0; i < 3; i++) {
		pos = dafs_dirent_put(dirents, sizeof dirents, (size_t)pos, &ents[i]);
		if (pos < 0)
			break;
	}
	CHECK(pos > 0, "dafs_dirent_put builds three entries (%d bytes)", pos);
	dirents_len = pos > 0 ? pos : 0;

	/* Walk them back. */
	struct dafs_dirent e;
	size_t p = 0;
	unsigned n = 0;
	bool same = true;
	int rc;
	while ((rc = dafs_dirent_next(dirents, (size_t)dirents_len, &p, &e)) == 1) {
		if (n >= 3 || e.ino != ents[n].ino || e.cookie != ents[n].cookie ||
		    e.type != ents[n].type || strcmp(e.name, ents[n].name) != 0 ||
		    !str_in_buf(dirents, (size_t)dirents_len, e.name))
			same = false;
		n++;
	}
	CHECK(rc == 0 && n == 3 && same && p == (size_t)dirents_len,
	      "dafs_dirent_next walks the same three entries back");
	p = (size_t)dirents_len + 5;
	CHECK_EQ(dafs_dirent_next(dirents, (size_t)dirents_len, &p, &e), 0,
		 "dafs_dirent_next past the end is the end");
	p = 0;
	CHECK_EQ(dafs_dirent_next(NULL, 0, &p, &e), 0, "no entries at all: the end");
}

static void test_roundtrip_single(void)
{
	static struct dafs_compound req;
	static struct dafs_reply rep;
	char what[96];
	unsigned nreq = 0, nrep = 0;

	for (unsigned op = 0; op < DAFS_OP_COUNT; op++) {
		unsigned v;
		for (v = 0; ; v++) {
			init_hdr(&req.hdr, op == DAFS_OP_NULL || op == DAFS_OP_CONNECT ? DAFS_HF_NOSLOT : 0);
			req.nops = 1;
			if (!make_op(&req.ops[0], op, v))
				break;
			snprintf(what, sizeof what, "%s variant %u", dafs_opcode_name(op), v);
			roundtrip_req(&req, what);
			nreq++;
		}
		CHECK(v > 0, "%s has a request sample", dafs_opcode_name(op));
		for (v = 0; ; v++) {
			init_hdr(&rep.hdr, 0);
			rep.nres = 1;
			if (!make_res(&rep.res[0], op, v))
				break;
			snprintf(what, sizeof what, "%s result variant %u (status %d)",
				 dafs_opcode_name(op), v, rep.res[0].status);
			roundtrip_rep(&rep, what);
			nrep++;
		}
		CHECK(v > 1, "%s has a success and a failure reply sample", dafs_opcode_name(op));
	}
	printf("# %u request and %u reply samples\n", nreq, nrep);
}

/* Many operations of every kind in one compound, and as many results. */
static void test_roundtrip_compound(void)
{
	static struct dafs_compound req;
	static struct dafs_reply rep;
	static struct dafs_op small_ops[256];
	static struct dafs_result small_res[256];
	unsigned nops = 0, nres = 0;

	/* Every sample whose encoding is small enough that 64 of them fit. */
	for (unsigned op = 0; op < DAFS_OP_COUNT; op++) {
		for (unsigned v = 0; nops < 256; v++) {
			init_hdr(&req.hdr, 0);
			req.nops = 1;
			if (!make_op(&req.ops[0], op, v))
				break;
			int n = dafs_encode_request(enc, sizeof enc, &req);
			if (n > 0 && n < 600)
				small_ops[nops++] = req.ops[0];
		}
		for (unsigned v = 0; nres < 256; v++) {
			init_hdr(&rep.hdr, 0);
			rep.nres = 1;
			if (!make_res(&rep.res[0], op, v))
				break;
			int n = dafs_encode_reply(enc, sizeof enc, &rep);
			if (n > 0 && n < 600)
				small_res[nres++] = rep.res[0];
		}
	}
	CHECK(nops >= DAFS_OP_COUNT && nres >= 2 * DAFS_OP_COUNT, "%u small ops, %u small results",
	      nops, nres);

	/* Several compounds of DAFS_COMPOUND_MAX, so every small sample is used. */
	for (unsigned start = 0; start < nops; start += DAFS_COMPOUND_MAX) {
		char what[64];
		init_hdr(&req.hdr, 0);
		req.nops = DAFS_COMPOUND_MAX;
		for (unsigned i = 0; i < DAFS_COMPOUND_MAX; i++)
			req.ops[i] = small_ops[(start + i) % nops];
		snprintf(what, sizeof what, "compound of %d ops from sample %u", DAFS_COMPOUND_MAX, start);
		roundtrip_req(&req, what);
	}
	for (unsigned start = 0; start < nres; start += DAFS_COMPOUND_MAX) {
		char what[64];
		init_hdr(&rep.hdr, DAFS_HF_CONTINUE);
		rep.nres = DAFS_COMPOUND_MAX;
		for (unsigned i = 0; i < DAFS_COMPOUND_MAX; i++)
			rep.res[i] = small_res[(start + i) % nres];
		snprintf(what, sizeof what, "%d results from sample %u", DAFS_COMPOUND_MAX, start);
		roundtrip_rep(&rep, what);
	}

	/* A reply may be shorter than its request (the compound stopped), even empty. */
	init_hdr(&rep.hdr, 0);
	rep.nres = 0;
	roundtrip_rep(&rep, "no results (nothing ran)");
}

/* LOOKUP (transient) -> OPEN -> READ -> CLOSE, each on the previous handle. */
static void test_chaining(void)
{
	static struct dafs_compound req, out;
	static struct dafs_reply rep;

	init_hdr(&req.hdr, 0);
	req.nops = 4;
	memset(req.ops, 0, 4 * sizeof req.ops[0]);
	req.ops[0].opcode = DAFS_OP_LOOKUP;
	req.ops[0].a.open = (struct dafs_args_open){ DAFS_FH_ROOT, "dir/sub", DAFS_L_TRANSIENT, 0 };
	req.ops[1].opcode = DAFS_OP_OPEN;
	req.ops[1].a.open = (struct dafs_args_open){ DAFS_FH_CURRENT, "file.dat", DAFS_O_RDONLY, 0 };
	req.ops[2].opcode = DAFS_OP_READ;
	req.ops[2].a.io.fh = DAFS_FH_CURRENT;
	req.ops[2].a.io.offset = 0;
	req.ops[2].a.io.len = 4096;
	req.ops[3].opcode = DAFS_OP_CLOSE;
	req.ops[3].a.fh.fh = DAFS_FH_CURRENT;
	int n = roundtrip_req(&req, "chain LOOKUP(transient) -> OPEN -> READ -> CLOSE");
	if (n > 0) {
		int rc = dec_req(enc, (size_t)n, &out);
		CHECK(rc == 0 && out.nops == 4 && out.ops[0].a.open.flags == DAFS_L_TRANSIENT &&
		      out.ops[1].a.open.dir == DAFS_FH_CURRENT && out.ops[2].a.io.fh == DAFS_FH_CURRENT &&
		      out.ops[3].a.fh.fh == DAFS_FH_CURRENT && out.ops[2].a.io.data == NULL,
		      "chained ops decode with DAFS_FH_CURRENT and the transient flag");
	}

	init_hdr(&rep.hdr, 0);
	rep.nres = 4;
	make_res(&rep.res[0], DAFS_OP_LOOKUP, 0);
	make_res(&rep.res[1], DAFS_OP_OPEN, 0);
	rep.res[1].r.handle.fh = 101;
	make_res(&rep.res[2], DAFS_OP_READ, 0);
	rep.res[2].r.read = (struct dafs_res_read){ 4096, 1, inline_data };
	make_res(&rep.res[3], DAFS_OP_CLOSE, 0);
	roundtrip_rep(&rep, "chain reply: handle, handle, 4096 bytes inline, close");

	/* The chain broken at OPEN: the reply ends at the failure. */
	rep.nres = 2;
	make_res(&rep.res[1], DAFS_OP_OPEN, 1);
	roundtrip_rep(&rep, "chain reply stopped at a failed OPEN");
}

/* Batch I/O: reads and writes, inline and direct, with DAFS_HF_CONTINUE. */
static void test_batch(void)
{
	static struct dafs_compound req, out;
	static struct dafs_reply rep, rout;

	init_hdr(&req.hdr, DAFS_HF_CONTINUE);
	req.nops = 16;
	for (unsigned i = 0; i < req.nops; i++) {
		struct dafs_op *op = &req.ops[i];
		memset(op, 0, sizeof *op);
		op->opcode = i % 2 ? DAFS_OP_WRITE : DAFS_OP_READ;
		op->a.io.fh = 30 + i;
		op->a.io.offset = (uint64_t)i << 20;
		if (i % 4 < 2) {              /* inline */
			op->a.io.len = 512 + i;
			op->a.io.data = op->opcode == DAFS_OP_WRITE ? inline_data + i : NULL;
		} else {                      /* direct, i % 3 + 1 segments */
			op->a.io.nsegs = (uint16_t)(i % 3 + 1);
			op->a.io.len = 0;
			for (unsigned s = 0; s < op->a.io.nsegs; s++) {
				op->a.io.segs[s] = (struct dafs_seg){ 0x7f00000000ull + (s << 16), 0x55 + s,
					4096 * (s + 1) };
				op->a.io.len += 4096 * (s + 1);
			}
		}
	}
	int n = roundtrip_req(&req, "batch of 16 reads and writes with DAFS_HF_CONTINUE");
	if (n > 0) {
		int rc = dec_req(enc, (size_t)n, &out);
		CHECK(rc == 0 && out.hdr.flags == DAFS_HF_CONTINUE && out.ops[1].a.io.data &&
		      memcmp(out.ops[1].a.io.data, inline_data + 1, 513) == 0 && out.ops[2].a.io.nsegs == 3,
		      "batch decodes: CONTINUE kept, inline write data intact, segments there");
	}

	init_hdr(&rep.hdr, DAFS_HF_CONTINUE);
	rep.nres = 16;
	for (unsigned i = 0; i < rep.nres; i++) {
		struct dafs_result *r = &rep.res[i];
		memset(r, 0, sizeof *r);
		r->opcode = req.ops[i].opcode;
		if (i % 5 == 3) {
			r->status = EIO;
		} else if (r->opcode == DAFS_OP_READ) {
			r->r.read.count = req.ops[i].a.io.len;
			r->r.read.data = req.ops[i].a.io.nsegs ? NULL : inline_data;
		} else {
			r->r.write = (struct dafs_res_write){ req.ops[i].a.io.len, req.ops[i].a.io.offset,
				req.ops[i].a.io.offset + req.ops[i].a.io.len };
		}
	}
	n = roundtrip_rep(&rep, "batch reply: 16 results, some failed, all reported");
	if (n > 0) {
		int rc = dec_rep(enc, (size_t)n, &rout);
		CHECK(rc == 0 && rout.hdr.flags == (DAFS_HF_CONTINUE | DAFS_HF_REPLY) &&
		      rout.nres == 16 && rout.res[3].status == EIO && rout.res[8].status == EIO,
		      "batch reply decodes with the failures in place");
	}
}

static void test_special_replies(void)
{
	static struct dafs_reply rep, out;
	int n;

	/* The whole request refused: a bare header, no results. */
	init_hdr(&rep.hdr, 0);
	rep.hdr.status = E2BIG;
	rep.nres = 5;               /* ignored: a refusal carries none */
	make_res(&rep.res[0], DAFS_OP_READ, 0);
	n = dafs_encode_reply(enc, sizeof enc, &rep);
	CHECK_EQ(n, DAFS_HDR_SIZE, "a refused request's reply is a bare header");
	CHECK_EQ(rep.nres, 0, "the encoder cleared nres of a refusal");
	if (n > 0) {
		int rc = dec_rep(enc, (size_t)n, &out);
		CHECK(rc == 0 && out.hdr.status == E2BIG && out.nres == 0 &&
		      (out.hdr.flags & DAFS_HF_REPLY), "refusal decodes: status E2BIG, no results");
	}
	rep.hdr.status = EINVAL;
	roundtrip_rep(&rep, "refusal with EINVAL");

	/* LOCK refused with EAGAIN carries the conflict. */
	init_hdr(&rep.hdr, 0);
	rep.nres = 1;
	memset(&rep.res[0], 0, sizeof rep.res[0]);
	rep.res[0].opcode = DAFS_OP_LOCK;
	rep.res[0].status = EAGAIN;
	rep.res[0].r.lock = (struct dafs_res_lock){ DAFS_LOCK_READ, 1000, 24, 4321, 0 };
	n = roundtrip_rep(&rep, "LOCK refused with EAGAIN and the conflict");
	if (n > 0) {
		int rc = dec_rep(enc, (size_t)n, &out);
		CHECK(rc == 0 && out.res[0].status == EAGAIN && out.res[0].r.lock.type == DAFS_LOCK_READ &&
		      out.res[0].r.lock.start == 1000 && out.res[0].r.lock.len == 24 &&
		      out.res[0].r.lock.pid == 4321, "the conflict's type, range and pid arrive");
		CHECK_EQ(n, DAFS_HDR_SIZE + 4 + 12 + 1 + 8 + 8 + 4, "the conflict is 21 bytes of body");
	}
	/* A granted LOCK carries its broken byte alone, whatever else the
	 * struct holds. */
	rep.res[0].status = 0;
	rep.res[0].r.lock.broken = 1;
	n = dafs_encode_reply(enc, sizeof enc, &rep);
	CHECK_EQ(n, DAFS_HDR_SIZE + 4 + 12 + 1, "a granted LOCK's body is one byte");
	CHECK(dafs_decode_reply(enc, (size_t)n, &out) == 0 && out.res[0].r.lock.broken == 1,
	      "and it says broken");
	rep.res[0].r.lock.broken = 0;
	/* Another error: no body either. */
	rep.res[0].status = EDEADLK;
	n = dafs_encode_reply(enc, sizeof enc, &rep);
	CHECK_EQ(n, DAFS_HDR_SIZE + 4 + 12, "LOCK failing with EDEADLK has no body");
}

static void test_readdir_reply(void)
{
	static struct dafs_reply rep, out;
	int n;

	init_hdr(&rep.hdr, 0);
	rep.nres = 1;
	make_res(&rep.res[0], DAFS_OP_READDIR, 0);
	n = roundtrip_rep(&rep, "READDIR with three entries");
	if (n <= 0)
		return;
	const uint8_t *f = at_tail(enc, (size_t)n);
	int rc = dafs_decode_reply(f, (size_t)n, &out);
	const struct dafs_res_readdir *d = &out.res[0].r.readdir;
	struct dafs_dirent e;
	size_t pos = 0;
	const char *names[3] = { ".", "..", long_name };
	unsigned i = 0;
	bool ok = rc == 0 && d->count == 3 && d->eof == 1;
	while (ok && (rc = dafs_dirent_next(d->entries, d->entries_len, &pos, &e)) == 1) {
		ok = i < 3 && strcmp(e.name, names[i]) == 0 && str_in_buf(f, (size_t)n, e.name);
		i++;
	}
	CHECK(ok && rc == 0 && i == 3, "the decoded reply's entries walk back: ., .., a 255-byte name");

	/* More entries than fit one message: dafs_dirent_put says so. */
	static uint8_t page[1024];
	struct dafs_dirent ent = { 1, 1, DAFS_TYPE_REG, long_name };
	int pos2 = 0, last = 0, count = 0;
	while ((pos2 = dafs_dirent_put(page, sizeof page, (size_t)last, &ent)) > 0) {
		last = pos2;
		count++;
	}
	CHECK(pos2 == -EMSGSIZE && count == (int)(sizeof page / (8 + 8 + 1 + 4 + DAFS_NAME_MAX + 1)),
	      "dafs_dirent_put fills a page then says -EMSGSIZE (%d entries, rc %d)", count, pos2);
	rep.res[0].r.readdir = (struct dafs_res_readdir){ (uint32_t)count, 0, page, (uint32_t)last };
	roundtrip_rep(&rep, "READDIR with a full page of long names");
}

static void test_names_and_hdr(void)
{
	bool ok = true;
	for (unsigned i = 0; i < DAFS_OP_COUNT; i++) {
		const char *s = dafs_opcode_name(i);
		ok = ok && s && strcmp(s, "UNKNOWN") != 0;
		for (unsigned j = 0; j < i; j++)
			ok = ok && strcmp(s, dafs_opcode_name(j)) != 0;
	}
	CHECK(ok, "every opcode has its own name");
	CHECK(strcmp(dafs_opcode_name(DAFS_OP_COUNT), "UNKNOWN") == 0 &&
	      strcmp(dafs_opcode_name(0xffff), "UNKNOWN") == 0 &&
	      strcmp(dafs_opcode_name(~0u), "UNKNOWN") == 0, "unknown opcodes are UNKNOWN");

	static struct dafs_compound req;
	struct dafs_hdr h;
	init_hdr(&req.hdr, DAFS_HF_NOSLOT);
	req.nops = 1;
	make_op(&req.ops[0], DAFS_OP_NULL, 0);
	int n = dafs_encode_request(enc, sizeof enc, &req);
	CHECK_EQ(n, DAFS_HDR_SIZE + 12 + 4 + 8, "a ping is 56 bytes (credentials without groups)");
	const uint8_t *f = at_tail(enc, (size_t)n);
	CHECK(dafs_decode_hdr(f, (size_t)n, &h) == 0 && h.magic == DAFS_MAGIC &&
	      h.version == DAFS_VERSION && h.flags == DAFS_HF_NOSLOT && h.slot == 5 &&
	      h.credits == 16 && h.seq == 0xfeedfaceu && h.status == 0 && h.body_len == 24 &&
	      h.session == 0xabcdef0123456789ull, "dafs_decode_hdr reads every header field");
	CHECK(memcmp(f, "DAFS", 4) == 0, "the magic reads \"DAFS\" on the wire");
	CHECK(get32(f + H_BODYLEN) == 24 && f[H_VERSION] == DAFS_VERSION && f[H_FLAGS] == DAFS_HF_NOSLOT,
	      "header layout: version at 4, flags at 6, body_len at 20");
}

/* ---- malformed frames --------------------------------------------------- */

static struct wb W, B;     /* a frame, and an operation's body */

static int req_rc(const struct wb *w)
{
	static struct dafs_compound r;
	return dec_req(w->b, w->n, &r);
}

static int rep_rc(const struct wb *w)
{
	static struct dafs_reply r;
	return dec_rep(w->b, w->n, &r);
}

/* Decode the one-op request around body B, expecting `want`. */
#define REQ_B(opcode, want, ...) do {                                      \
	raw_req(&W, (opcode), &B);                                         \
	CHECK_EQ(req_rc(&W), (want), __VA_ARGS__);                         \
} while (0)

#define REP_B(opcode, status, want, ...) do {                              \
	raw_rep(&W, (opcode), (status), &B);                               \
	CHECK_EQ(rep_rc(&W), (want), __VA_ARGS__);                         \
} while (0)

static void b_open(struct wb *b, uint32_t flags)
{
	b->n = 0;
	w64(b, 1);
	wstr(b, "some/file");
	w32(b, flags);
	w32(b, 0644);
}

/* READ/WRITE arguments; seg lengths from `seglens`, data not included. */
static void b_io(struct wb *b, uint64_t off, uint32_t len, uint16_t nsegs, const uint32_t *seglens)
{
	b->n = 0;
	w64(b, 1);
	w64(b, off);
	w32(b, len);
	w16(b, nsegs);
	for (unsigned i = 0; i < nsegs; i++) {
		w64(b, 0x1000 * i);
		w64(b, 7);
		w32(b, seglens[i]);
	}
}

static void b_lock(struct wb *b, uint64_t start, uint64_t len, uint8_t type)
{
	b->n = 0;
	w64(b, 1);
	w64(b, 2);
	w64(b, start);
	w64(b, len);
	w32(b, 99);
	w8(b, type);
}

static void b_hint(struct wb *b, uint64_t off, uint64_t len, uint32_t advice)
{
	b->n = 0;
	w64(b, 1);
	w64(b, off);
	w64(b, len);
	w32(b, advice);
}

static void b_allocate(struct wb *b, uint64_t off, uint64_t len, uint32_t mode)
{
	b->n = 0;
	w64(b, 1);
	w64(b, off);
	w64(b, len);
	w32(b, mode);
}

static void b_setattr(struct wb *b, uint32_t flags, uint32_t mask, uint64_t size, uint32_t mode,
		      uint32_t ansec, uint32_t mnsec)
{
	b->n = 0;
	w64(b, 1);
	wstr(b, "f");
	w32(b, flags);
	w32(b, mask);
	w64(b, size);
	w32(b, mode);
	wtime(b, 5, ansec);
	wtime(b, 6, mnsec);
	w32(b, 1000);
	w32(b, 100);
}

static void b_mknod(struct wb *b, uint32_t mode, uint64_t rdev)
{
	b->n = 0;
	w64(b, 1);
	wstr(b, "node");
	w32(b, mode);
	w64(b, rdev);
}

/* A readdir result body around raw entries. */
static void b_readdir(struct wb *b, uint32_t count, uint8_t eof, const struct wb *ents)
{
	b->n = 0;
	w32(b, count);
	w8(b, eof);
	w32(b, (uint32_t)ents->n);
	wraw(b, ents->b, ents->n);
}

static void went(struct wb *e, const void *name, uint32_t n)
{
	w64(e, 5);
	w64(e, 6);
	w8(e, DAFS_TYPE_REG);
	w32(e, n);
	wraw(e, name, n);
}

static void test_bad_headers(void)
{
	static struct dafs_compound req;
	static struct dafs_reply rep;
	static uint8_t f[BIG];
	struct dafs_hdr h;
	int n, rn;

	init_hdr(&req.hdr, 0);
	req.nops = 1;
	make_op(&req.ops[0], DAFS_OP_GETATTR, 0);
	n = dafs_encode_request(f, sizeof f, &req);
	CHECK(n > 0 && req_rc(&(struct wb){ .n = 0 }) == -EBADMSG, "base request encodes; empty input is short");

	/* Magic: every byte matters. */
	bool ok = true;
	for (int i = 0; i < 4; i++) {
		f[H_MAGIC + i] ^= 0x20;
		ok = ok && dec_req(f, (size_t)n, &req) == -EBADMSG &&
		     dafs_decode_hdr(at_tail(f, (size_t)n), (size_t)n, &h) == -EBADMSG &&
		     dec_rep(f, (size_t)n, &rep) == -EBADMSG;
		f[H_MAGIC + i] ^= 0x20;
	}
	CHECK(ok, "bad magic (any byte): -EBADMSG from all three decoders");

	/* Version. */
	const uint16_t versions[] = { 0, DAFS_VERSION - 1, DAFS_VERSION + 1, 0xffff };
	ok = true;
	for (unsigned i = 0; i < 4; i++) {
		put16(f + H_VERSION, versions[i]);
		ok = ok && dec_req(f, (size_t)n, &req) == -EPROTONOSUPPORT &&
		     dafs_decode_hdr(at_tail(f, (size_t)n), (size_t)n, &h) == -EPROTONOSUPPORT &&
		     dec_rep(f, (size_t)n, &rep) == -EPROTONOSUPPORT;
	}
	put16(f + H_VERSION, DAFS_VERSION);
	CHECK(ok, "wrong version (0, the one before, the one after, 0xffff): -EPROTONOSUPPORT");
	CHECK_EQ(dec_req(f, (size_t)n, &req), 0, "restored frame decodes again");

	/* body_len must be the frame's length less the header. */
	const uint32_t body_lens[] = { 0, 1, (uint32_t)n - DAFS_HDR_SIZE - 1, (uint32_t)n - DAFS_HDR_SIZE + 1,
				       (uint32_t)n, UINT32_MAX, 0x80000000u };
	ok = true;
	for (unsigned i = 0; i < sizeof body_lens / sizeof body_lens[0]; i++) {
		put32(f + H_BODYLEN, body_lens[i]);
		ok = ok && dec_req(f, (size_t)n, &req) == -EBADMSG &&
		     dafs_decode_hdr(at_tail(f, (size_t)n), (size_t)n, &h) == -EBADMSG;
	}
	fix_body_len(f, (size_t)n);
	CHECK(ok, "body_len mismatch (7 values): -EBADMSG");

	/* Unknown header flags, one bit at a time. */
	ok = true;
	for (unsigned bit = 5; bit < 16; bit++) {
		put16(f + H_FLAGS, (uint16_t)(1u << bit));
		ok = ok && dec_req(f, (size_t)n, &req) == -EBADMSG &&
		     dafs_decode_hdr(at_tail(f, (size_t)n), (size_t)n, &h) == -EBADMSG;
	}
	/* DAFS_HF_MAC: the full decoders take only frames dafs_mac_open
	 * unsealed (test_auth.c); the header decoder wants the trailer. */
	put16(f + H_FLAGS, DAFS_HF_MAC);
	CHECK(dec_req(f, (size_t)n, &req) == -EBADMSG && dec_rep(f, (size_t)n, &rep) == -EBADMSG,
	      "a frame flagged sealed does not decode as a request or a reply");
	put32(f + H_BODYLEN, (uint32_t)n - DAFS_HDR_SIZE - DAFS_MAC_TRAILER);
	CHECK(dafs_decode_hdr(at_tail(f, (size_t)n), (size_t)n, &h) == 0 && (h.flags & DAFS_HF_MAC),
	      "its header decodes when body_len leaves room for the trailer");
	put32(f + H_BODYLEN, (uint32_t)n - DAFS_HDR_SIZE);
	CHECK(dafs_decode_hdr(at_tail(f, (size_t)n), (size_t)n, &h) == -EBADMSG,
	      "and not when it does not");
	fix_body_len(f, (size_t)n);
	put16(f + H_FLAGS, DAFS_HF_NOSLOT | DAFS_HF_CONTINUE | DAFS_HF_RING);
	CHECK(ok && dec_req(f, (size_t)n, &req) == 0 &&
	      req.hdr.flags == (DAFS_HF_NOSLOT | DAFS_HF_CONTINUE | DAFS_HF_RING),
	      "unknown header flags: -EBADMSG; the known ones decode");
	put16(f + H_FLAGS, 0);

	/* Direction. */
	CHECK_EQ(dec_rep(f, (size_t)n, &rep), -EBADMSG, "a request decoded as a reply: -EBADMSG");
	init_hdr(&rep.hdr, 0);
	rep.nres = 1;
	make_res(&rep.res[0], DAFS_OP_GETATTR, 0);
	rn = dafs_encode_reply(enc, sizeof enc, &rep);
	CHECK(rn > 0 && dec_req(enc, (size_t)rn, &req) == -EBADMSG,
	      "a reply decoded as a request: -EBADMSG");
	put16(f + H_FLAGS, DAFS_HF_REPLY);
	CHECK_EQ(dec_req(f, (size_t)n, &req), -EBADMSG, "a request with the REPLY flag: -EBADMSG");
	put16(f + H_FLAGS, 0);
	/* A refusal (bare header) is a reply, never a request. */
	init_hdr(&rep.hdr, 0);
	rep.hdr.status = EBUSY;
	rn = dafs_encode_reply(enc, sizeof enc, &rep);
	CHECK(rn == DAFS_HDR_SIZE && dec_req(enc, (size_t)rn, &req) == -EBADMSG,
	      "a refusal decoded as a request: -EBADMSG");

	/* Short header: every length below 32 (and the hdr decoder too). */
	ok = true;
	for (size_t len = 0; len < DAFS_HDR_SIZE; len++)
		ok = ok && dafs_decode_hdr(at_tail(f, len), len, &h) == -EBADMSG &&
		     dec_req(f, len, &req) == -EBADMSG && dec_rep(f, len, &rep) == -EBADMSG;
	CHECK(ok, "frames shorter than a header: -EBADMSG");
	CHECK_EQ(dafs_decode_hdr(NULL, 0, &h), -EBADMSG, "dafs_decode_hdr(NULL, 0): -EBADMSG");
	CHECK_EQ(dafs_decode_request(NULL, 0, &req), -EBADMSG, "dafs_decode_request(NULL, 0): -EBADMSG");
	CHECK_EQ(dafs_decode_reply(NULL, 0, &rep), -EBADMSG, "dafs_decode_reply(NULL, 0): -EBADMSG");

	/* Trailing bytes after the frame's last op. */
	memcpy(f + n, "\0\0\0\0", 4);
	ok = true;
	for (int extra = 1; extra <= 4; extra++) {
		fix_body_len(f, (size_t)n + extra);
		ok = ok && dec_req(f, (size_t)n + extra, &req) == -EBADMSG;
	}
	fix_body_len(f, (size_t)n);
	CHECK(ok, "trailing bytes after the last op (body_len covering them): -EBADMSG");

	/* Count and its reserved neighbour. */
	put16(f + Q_COUNT, 0);
	CHECK_EQ(dec_req(f, (size_t)n, &req), -EBADMSG, "nops 0: -EBADMSG");
	put16(f + Q_COUNT, 2);
	CHECK_EQ(dec_req(f, (size_t)n, &req), -EBADMSG, "nops 2 with one op present: -EBADMSG");
	put16(f + Q_COUNT, DAFS_COMPOUND_MAX + 1);
	CHECK_EQ(dec_req(f, (size_t)n, &req), -E2BIG, "nops over DAFS_COMPOUND_MAX: -E2BIG");
	put16(f + Q_COUNT, 0xffff);
	CHECK_EQ(dec_req(f, (size_t)n, &req), -E2BIG, "nops 65535: -E2BIG");
	put16(f + Q_COUNT, 1);
	put16(f + Q_RESERVED, 1);
	CHECK_EQ(dec_req(f, (size_t)n, &req), -EBADMSG, "reserved after nops non-zero: -EBADMSG");
	put16(f + Q_RESERVED, 0x8000);
	CHECK_EQ(dec_req(f, (size_t)n, &req), -EBADMSG, "reserved after nops 0x8000: -EBADMSG");
	put16(f + Q_RESERVED, 0);
	put16(f + Q_ITEMS + 2, 1);
	CHECK_EQ(dec_req(f, (size_t)n, &req), -EBADMSG, "reserved after an opcode non-zero: -EBADMSG");
	put16(f + Q_ITEMS + 2, 0);
	CHECK_EQ(dec_req(f, (size_t)n, &req), 0, "restored frame decodes again");

	/* Unknown opcodes. */
	const uint16_t bad_ops[] = { DAFS_OP_COUNT, DAFS_OP_COUNT + 1, 0x100, 0xffff };
	ok = true;
	for (unsigned i = 0; i < 4; i++) {
		put16(f + Q_ITEMS, bad_ops[i]);
		ok = ok && dec_req(f, (size_t)n, &req) == -EOPNOTSUPP;
	}
	CHECK(ok, "unknown opcode in a request: -EOPNOTSUPP");
	B.n = 0;
	REP_B(DAFS_OP_COUNT, 0, -EOPNOTSUPP, "unknown opcode in a reply: -EOPNOTSUPP");
	REP_B(0xffff, ENOENT, -EOPNOTSUPP, "unknown opcode in a failed result: -EOPNOTSUPP");

	/* An op's length past the end of the frame, or short of its body. */
	raw_req(&W, DAFS_OP_GETATTR, &(struct wb){ .n = 0 });
	b_open(&B, 0);
	raw_req(&W, DAFS_OP_GETATTR, &B);
	CHECK_EQ(req_rc(&W), 0, "hand-built GETATTR decodes");
	put32(W.b + Q_ITEMS + 4, (uint32_t)B.n + 1);
	CHECK_EQ(req_rc(&W), -EBADMSG, "op body_len one past the frame: -EBADMSG");
	put32(W.b + Q_ITEMS + 4, UINT32_MAX);
	CHECK_EQ(req_rc(&W), -EBADMSG, "op body_len 0xffffffff: -EBADMSG");
	put32(W.b + Q_ITEMS + 4, (uint32_t)B.n - 1);
	CHECK_EQ(req_rc(&W), -EBADMSG, "op body_len one short of the body: -EBADMSG");
	put32(W.b + Q_ITEMS + 4, 0);
	CHECK_EQ(req_rc(&W), -EBADMSG, "op body_len 0 for GETATTR: -EBADMSG");
	w8(&B, 0);
	REQ_B(DAFS_OP_GETATTR, -EBADMSG, "a trailing byte inside an op body: -EBADMSG");
	B.n = 1;
	B.b[0] = 0;
	REQ_B(DAFS_OP_NULL, -EBADMSG, "NULL with a one-byte body: -EBADMSG");
	B.n = 0;
	REQ_B(DAFS_OP_NULL, 0, "NULL with an empty body decodes");

	/* Over DAFS_MSG_MAX. */
	static uint8_t huge[DAFS_MSG_MAX + 1];
	memcpy(huge, f, (size_t)n);
	fix_body_len(huge, sizeof huge);
	CHECK_EQ(dafs_decode_request(huge, sizeof huge, &req), -E2BIG, "request over DAFS_MSG_MAX: -E2BIG");
	CHECK_EQ(dafs_decode_reply(huge, sizeof huge, &rep), -E2BIG, "reply over DAFS_MSG_MAX: -E2BIG");
	CHECK_EQ(dafs_decode_hdr(huge, sizeof huge, &h), -E2BIG, "header of a frame over DAFS_MSG_MAX: -E2BIG");
	CHECK_EQ(dafs_decode_request(huge, SIZE_MAX, &req), -E2BIG, "len SIZE_MAX: -E2BIG");
}

/* The caller's credentials at the start of every request body. */
static void test_cred(void)
{
	static struct dafs_compound req, out;
	int n;

	init_hdr(&req.hdr, 0);
	req.nops = 1;
	make_op(&req.ops[0], DAFS_OP_GETATTR, 0);
	req.cred = (struct dafs_cred){ .uid = 65534, .gid = 65533, .ngroups = DAFS_GROUPS_MAX };
	for (unsigned i = 0; i < DAFS_GROUPS_MAX; i++)
		req.cred.groups[i] = UINT32_MAX - i;
	n = roundtrip(&request_kind, &req, "credentials with DAFS_GROUPS_MAX groups");
	CHECK(n > 0, "credentials with DAFS_GROUPS_MAX groups round-trip");
	n = dafs_encode_request(enc, sizeof enc, &req);
	CHECK(n > 0 && get32(enc + Q_CRED) == 65534 && get32(enc + Q_CRED + 4) == 65533 &&
	      enc[Q_NGROUPS] == DAFS_GROUPS_MAX && get32(enc + Q_CRED_PAD + 2) == UINT32_MAX &&
	      get32(enc + Q_CRED_PAD + 2 + 4 * (DAFS_GROUPS_MAX - 1)) == UINT32_MAX - 31,
	      "credentials on the wire: uid, gid, ngroups, pad, the groups in order");

	req.cred.ngroups = DAFS_GROUPS_MAX + 1;
	CHECK_EQ(dafs_encode_request(enc, sizeof enc, &req), -EINVAL,
		 "the encoder refuses more than DAFS_GROUPS_MAX groups");

	req.cred.ngroups = 0;
	n = dafs_encode_request(enc, sizeof enc, &req);
	CHECK(n > 0 && dec_req(enc, (size_t)n, &out) == 0 && out.cred.uid == 65534 &&
	      out.cred.gid == 65533 && out.cred.ngroups == 0,
	      "credentials without groups decode");
	put16(enc + Q_CRED_PAD, 1);
	CHECK_EQ(dec_req(enc, (size_t)n, &out), -EBADMSG, "credentials' pad non-zero: -EBADMSG");
	put16(enc + Q_CRED_PAD, 0);
	put16(enc + Q_NGROUPS, DAFS_GROUPS_MAX + 1);
	CHECK_EQ(dec_req(enc, (size_t)n, &out), -E2BIG, "ngroups over DAFS_GROUPS_MAX: -E2BIG");
	put16(enc + Q_NGROUPS, 0xffff);
	CHECK_EQ(dec_req(enc, (size_t)n, &out), -E2BIG, "ngroups 65535: -E2BIG");
	put16(enc + Q_NGROUPS, 3);
	CHECK_EQ(dec_req(enc, (size_t)n, &out), -EBADMSG,
		 "groups that eat the operations: -EBADMSG");
	put16(enc + Q_NGROUPS, 0);
	CHECK_EQ(dec_req(enc, (size_t)n, &out), 0, "restored frame decodes again");
	CHECK_EQ(dec_req(enc, Q_NGROUPS, &out), -EBADMSG, "a frame cut inside the credentials: -EBADMSG");
	memset(&req.cred, 0, sizeof req.cred);
}

/* A frame of exactly DAFS_MSG_MAX, and one byte more. */
static void test_msg_max(void)
{
	static struct dafs_compound req, out;
	uint32_t overhead = DAFS_HDR_SIZE + 12 + 4 + 3 * (8 + 8 + 8 + 4 + 2 + 4);
	uint32_t rest = DAFS_MSG_MAX - overhead - 2 * DAFS_INLINE_MAX;

	init_hdr(&req.hdr, DAFS_HF_CONTINUE);
	req.nops = 3;
	for (unsigned i = 0; i < 3; i++) {
		memset(&req.ops[i], 0, sizeof req.ops[i]);
		req.ops[i].opcode = DAFS_OP_WRITE;
		req.ops[i].a.io.len = i < 2 ? DAFS_INLINE_MAX : rest;
		req.ops[i].a.io.data = inline_data;
	}
	int n = dafs_encode_request(enc, sizeof enc, &req);
	CHECK_EQ(n, DAFS_MSG_MAX, "three inline writes make a frame of exactly DAFS_MSG_MAX");
	CHECK(n > 0 && dec_req(enc, (size_t)n, &out) == 0 && eq_req(&req, &out),
	      "a frame of exactly DAFS_MSG_MAX decodes");
	req.ops[2].a.io.len++;
	n = dafs_encode_request(enc, sizeof enc, &req);
	CHECK_EQ(n, -EMSGSIZE, "one byte more: the encoder says -EMSGSIZE even with room in cap");
}

static void test_bad_strings(void)
{
	static char big[DAFS_PATH_MAX + 8];

	/* Base: OPEN with a good path. */
	b_open(&B, DAFS_O_RDONLY);
	REQ_B(DAFS_OP_OPEN, 0, "hand-built OPEN decodes");

	struct { const char *s; uint32_t n; int want; const char *what; } cases[] = {
		{ "abc", 3, -EBADMSG, "string without NUL" },
		{ "a\0b", 4, -EBADMSG, "string with an embedded NUL" },
		{ "\0\0", 2, -EBADMSG, "string of two NULs" },
		{ "", 0, -EBADMSG, "string of length 0" },
		{ "", 1, 0, "empty string (just the NUL) decodes" },
	};
	for (unsigned i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		B.n = 0;
		w64(&B, 1);
		w32(&B, cases[i].n);
		wraw(&B, cases[i].s, cases[i].n);
		w32(&B, 0);
		w32(&B, 0);
		REQ_B(DAFS_OP_OPEN, cases[i].want, "OPEN path: %s", cases[i].what);
	}

	/* Length limits: DAFS_PATH_MAX with the NUL is fine, one more is not. */
	memset(big, 'a', sizeof big);
	for (uint32_t len = DAFS_PATH_MAX - 1; len <= DAFS_PATH_MAX + 1; len++) {
		B.n = 0;
		w64(&B, 1);
		w32(&B, len);
		big[len - 1] = '\0';
		wraw(&B, big, len);
		big[len - 1] = 'a';
		w32(&B, 0755);
		REQ_B(DAFS_OP_MKDIR, len <= DAFS_PATH_MAX ? 0 : -E2BIG, "MKDIR path of %u bytes with NUL", len);
	}
	B.n = 0;
	w64(&B, 1);
	w32(&B, UINT32_MAX);
	REQ_B(DAFS_OP_REMOVE, -E2BIG, "string length 0xffffffff: -E2BIG");
	B.n = 0;
	w64(&B, 1);
	w32(&B, 100);
	wraw(&B, "short\0", 6);
	REQ_B(DAFS_OP_REMOVE, -EBADMSG, "string length past the end of the body: -EBADMSG");
	B.n = 0;
	w64(&B, 1);
	wstr(&B, "a");
	w32(&B, 0);
	w32(&B, 0);
	B.n -= 1;
	REQ_B(DAFS_OP_REMOVE, -EBADMSG, "op body one byte short: -EBADMSG");

	/* The second string of RENAME. */
	B.n = 0;
	w64(&B, 1);
	wstr(&B, "from");
	w64(&B, 2);
	w32(&B, 3);
	wraw(&B, "t\0o", 3);
	w32(&B, 0);
	REQ_B(DAFS_OP_RENAME, -EBADMSG, "RENAME's second path with an embedded NUL: -EBADMSG");

	/* SESSION_OPEN: name at most 256 with the NUL; addr and auth at most 256. */
	for (uint32_t len = 256; len <= 257; len++) {
		B.n = 0;
		w32(&B, 1); w32(&B, 2); w32(&B, 3);
		w32(&B, len);
		big[len - 1] = '\0';
		wraw(&B, big, len);
		big[len - 1] = 'a';
		w32(&B, 0);
		w16(&B, 0);
		w32(&B, 0);
		w64(&B, 0);   /* resume */
		REQ_B(DAFS_OP_SESSION_OPEN, len == 256 ? 0 : -E2BIG, "SESSION_OPEN name of %u bytes", len);
	}
	for (int which = 0; which < 2; which++) {
		for (uint32_t len = DAFS_ADDR_MAX; len <= DAFS_ADDR_MAX + 1; len++) {
			B.n = 0;
			w32(&B, 1); w32(&B, 2); w32(&B, 3);
			wstr(&B, "me");
			w32(&B, which ? 0 : len);           /* addr */
			if (!which)
				wraw(&B, big, len);
			w16(&B, 1);
			w32(&B, which ? len : 0);           /* auth */
			if (which)
				wraw(&B, big, len);
			w64(&B, 0);   /* resume */
			REQ_B(DAFS_OP_SESSION_OPEN, len == DAFS_ADDR_MAX ? 0 : -E2BIG,
			      "SESSION_OPEN %s of %u bytes", which ? "auth" : "addr", len);
		}
	}
	B.n = 0;
	w32(&B, DAFS_ADDR_MAX + 1);
	wraw(&B, addr_bytes, DAFS_ADDR_MAX);
	w8(&B, 0);
	REQ_B(DAFS_OP_CONNECT, -E2BIG, "CONNECT addr of 257 bytes: -E2BIG");
	B.n = 0;
	w32(&B, 10);
	wraw(&B, addr_bytes, 9);
	REQ_B(DAFS_OP_CONNECT, -EBADMSG, "CONNECT addr length past the end: -EBADMSG");
	B.n = 0;
	w32(&B, 0);
	w64(&B, 0);   /* resume */
	REQ_B(DAFS_OP_CONNECT, 0, "CONNECT with an empty addr decodes");
	B.n = 0;
	w32(&B, 0);
	w32(&B, 0);
	REQ_B(DAFS_OP_CONNECT, -EBADMSG, "CONNECT with half a resume: -EBADMSG");
	B.n = 0;
	w16(&B, 0);
	REQ_B(DAFS_OP_CONNECT, -EBADMSG, "CONNECT body too short for its length: -EBADMSG");
}

static void test_bad_io(void)
{
	const uint32_t three[3] = { 100, 200, 300 };
	uint32_t segs17[DAFS_SEGS_MAX + 1];
	for (unsigned i = 0; i <= DAFS_SEGS_MAX; i++)
		segs17[i] = 1;

	b_io(&B, 0, 600, 3, three);
	REQ_B(DAFS_OP_READ, 0, "hand-built direct READ decodes");
	REQ_B(DAFS_OP_WRITE, 0, "hand-built direct WRITE decodes");
	b_io(&B, 0, 601, 3, three);
	REQ_B(DAFS_OP_READ, -EBADMSG, "segments summing to less than len: -EBADMSG");
	b_io(&B, 0, 599, 3, three);
	REQ_B(DAFS_OP_WRITE, -EBADMSG, "segments summing to more than len: -EBADMSG");
	const uint32_t wrap[2] = { 0x80000000u, 0x80000000u };
	b_io(&B, 0, 0, 2, wrap);
	REQ_B(DAFS_OP_READ, -EBADMSG, "segments summing to 2^32 with len 0 (no 32-bit wrap): -EBADMSG");
	b_io(&B, 0, 600, 3, three);
	w8(&B, 0);
	REQ_B(DAFS_OP_WRITE, -EBADMSG, "bytes after a direct WRITE's segments: -EBADMSG");
	b_io(&B, 0, 600, 3, three);
	B.n -= 1;
	REQ_B(DAFS_OP_READ, -EBADMSG, "last segment cut short: -EBADMSG");

	b_io(&B, 0, DAFS_SEGS_MAX, DAFS_SEGS_MAX, segs17);
	REQ_B(DAFS_OP_READ, 0, "DAFS_SEGS_MAX segments decode");
	b_io(&B, 0, DAFS_SEGS_MAX + 1, DAFS_SEGS_MAX + 1, segs17);
	REQ_B(DAFS_OP_READ, -E2BIG, "nsegs over DAFS_SEGS_MAX: -E2BIG");
	b_io(&B, 0, 1, 0, NULL);
	put16(B.b + 8 + 8 + 4, 0xffff);
	for (unsigned i = 0; i < DAFS_SEGS_MAX + 1; i++) {
		w64(&B, 0); w64(&B, 0); w32(&B, 1);
	}
	REQ_B(DAFS_OP_WRITE, -E2BIG, "nsegs 65535: -E2BIG");

	uint32_t quarter[4] = { DAFS_IO_MAX / 4, DAFS_IO_MAX / 4, DAFS_IO_MAX / 4, DAFS_IO_MAX / 4 };
	b_io(&B, 0, DAFS_IO_MAX, 4, quarter);
	REQ_B(DAFS_OP_READ, 0, "direct READ of DAFS_IO_MAX decodes");
	quarter[3]++;
	b_io(&B, 0, DAFS_IO_MAX + 1, 4, quarter);
	REQ_B(DAFS_OP_READ, -E2BIG, "direct READ over DAFS_IO_MAX: -E2BIG");
	REQ_B(DAFS_OP_WRITE, -E2BIG, "direct WRITE over DAFS_IO_MAX: -E2BIG");
	b_io(&B, 0, UINT32_MAX, 0, NULL);
	REQ_B(DAFS_OP_READ, -E2BIG, "READ len 0xffffffff: -E2BIG");

	/* Inline. */
	b_io(&B, 0, DAFS_INLINE_MAX, 0, NULL);
	REQ_B(DAFS_OP_READ, 0, "inline READ of DAFS_INLINE_MAX decodes");
	b_io(&B, 0, DAFS_INLINE_MAX + 1, 0, NULL);
	REQ_B(DAFS_OP_READ, -E2BIG, "inline READ over DAFS_INLINE_MAX: -E2BIG");
	b_io(&B, 0, DAFS_INLINE_MAX + 1, 0, NULL);
	w32(&B, DAFS_INLINE_MAX + 1);
	wraw(&B, inline_data, DAFS_INLINE_MAX);
	w8(&B, 0);
	REQ_B(DAFS_OP_WRITE, -E2BIG, "inline WRITE over DAFS_INLINE_MAX: -E2BIG");
	b_io(&B, 0, 10, 0, NULL);
	w32(&B, 10);
	wraw(&B, inline_data, 10);
	REQ_B(DAFS_OP_WRITE, 0, "inline WRITE of 10 bytes decodes");
	b_io(&B, 0, 10, 0, NULL);
	w32(&B, 9);
	wraw(&B, inline_data, 9);
	REQ_B(DAFS_OP_WRITE, -EBADMSG, "inline WRITE carrying 9 of 10 bytes: -EBADMSG");
	b_io(&B, 0, 10, 0, NULL);
	w32(&B, 11);
	wraw(&B, inline_data, 11);
	REQ_B(DAFS_OP_WRITE, -EBADMSG, "inline WRITE carrying 11 of 10 bytes: -EBADMSG");
	b_io(&B, 0, 10, 0, NULL);
	w32(&B, 10);
	wraw(&B, inline_data, 5);
	REQ_B(DAFS_OP_WRITE, -EBADMSG, "inline WRITE data past the end: -EBADMSG");
	b_io(&B, 0, 10, 0, NULL);
	REQ_B(DAFS_OP_WRITE, -EBADMSG, "inline WRITE without its data: -EBADMSG");
	b_io(&B, 0, 10, 0, NULL);
	w32(&B, 10);
	wraw(&B, inline_data, 10);
	REQ_B(DAFS_OP_READ, -EBADMSG, "READ carrying data (trailing bytes): -EBADMSG");

	/* Offset and offset + len. */
	b_io(&B, INT64_MAX, 0, 0, NULL);
	REQ_B(DAFS_OP_READ, 0, "READ of 0 bytes at INT64_MAX decodes");
	b_io(&B, INT64_MAX, 1, 0, NULL);
	REQ_B(DAFS_OP_READ, -EBADMSG, "READ offset + len past INT64_MAX: -EBADMSG");
	b_io(&B, INT64_MAX - 100, 100, 0, NULL);
	REQ_B(DAFS_OP_READ, 0, "READ ending exactly at INT64_MAX (its last byte at INT64_MAX - 1) decodes");
	b_io(&B, INT64_MAX - 99, 100, 0, NULL);
	REQ_B(DAFS_OP_READ, -EBADMSG, "READ whose end is INT64_MAX + 1: -EBADMSG");
	b_io(&B, (uint64_t)INT64_MAX + 1, 0, 0, NULL);
	REQ_B(DAFS_OP_READ, -EBADMSG, "READ offset over INT64_MAX: -EBADMSG");
	b_io(&B, UINT64_MAX, 1, 1, three);
	REQ_B(DAFS_OP_WRITE, -EBADMSG, "WRITE offset UINT64_MAX: -EBADMSG");
	b_io(&B, UINT64_MAX - 5, 10, 0, NULL);
	w32(&B, 10);
	wraw(&B, inline_data, 10);
	REQ_B(DAFS_OP_WRITE, -EBADMSG, "WRITE offset + len wrapping 64 bits: -EBADMSG");
}

static void test_bad_enums(void)
{
	/* OPEN flags. */
	b_open(&B, (DAFS_O_ALL & ~(DAFS_O_ACCMODE | DAFS_O_TMPFILE)) | DAFS_O_RDWR);
	REQ_B(DAFS_OP_OPEN, 0, "OPEN with every known flag but TMPFILE decodes");
	b_open(&B, DAFS_O_TMPFILE | DAFS_O_WRONLY | DAFS_O_EXCL | DAFS_O_APPEND);
	REQ_B(DAFS_OP_OPEN, 0, "OPEN TMPFILE|WRONLY with EXCL and APPEND decodes");
	b_open(&B, DAFS_O_TMPFILE | DAFS_O_RDONLY);
	REQ_B(DAFS_OP_OPEN, -EBADMSG, "OPEN TMPFILE read-only: -EBADMSG");
	b_open(&B, DAFS_O_TMPFILE | DAFS_O_RDWR | DAFS_O_CREAT);
	REQ_B(DAFS_OP_OPEN, -EBADMSG, "OPEN TMPFILE|CREAT: -EBADMSG");
	b_open(&B, DAFS_O_TMPFILE | DAFS_O_RDWR | DAFS_O_DIRECTORY);
	REQ_B(DAFS_OP_OPEN, -EBADMSG, "OPEN TMPFILE|DIRECTORY: -EBADMSG");
	bool ok = true;
	for (unsigned bit = 0; bit < 32; bit++) {
		uint32_t fl = 1u << bit;
		if (fl & DAFS_O_ALL)
			continue;
		b_open(&B, fl);
		raw_req(&W, DAFS_OP_OPEN, &B);
		ok = ok && req_rc(&W) == -EBADMSG;
	}
	CHECK(ok, "OPEN with any unknown flag bit: -EBADMSG");
	b_open(&B, DAFS_O_ACCMODE);
	REQ_B(DAFS_OP_OPEN, -EBADMSG, "OPEN with access mode 3: -EBADMSG");
	b_open(&B, DAFS_L_ALL);
	REQ_B(DAFS_OP_LOOKUP, 0, "LOOKUP with every DAFS_L_ flag decodes");
	b_open(&B, DAFS_L_ALL + 1);
	REQ_B(DAFS_OP_LOOKUP, -EBADMSG, "LOOKUP with an unknown flag: -EBADMSG");
	b_open(&B, DAFS_O_CREAT);
	REQ_B(DAFS_OP_GETATTR, -EBADMSG, "GETATTR with an OPEN flag: -EBADMSG");
	b_open(&B, DAFS_O_ACCMODE);
	REQ_B(DAFS_OP_LOOKUP, 0, "LOOKUP flags 3 (NOFOLLOW|TRANSIENT) are not an access mode");

	/* MKNOD: the four special types, a device number only for devices. */
	b_mknod(&B, DAFS_MKNOD_CHR | 07777, UINT64_MAX);
	REQ_B(DAFS_OP_MKNOD, 0, "MKNOD of a character device with every bit decodes");
	b_mknod(&B, DAFS_MKNOD_SOCK | 0600, 0);
	REQ_B(DAFS_OP_MKNOD, 0, "MKNOD of a socket decodes");
	b_mknod(&B, 0100644, 0);
	REQ_B(DAFS_OP_MKNOD, -EBADMSG, "MKNOD of a regular file: -EBADMSG");
	b_mknod(&B, 040755, 0);
	REQ_B(DAFS_OP_MKNOD, -EBADMSG, "MKNOD of a directory: -EBADMSG");
	b_mknod(&B, 0644, 0);
	REQ_B(DAFS_OP_MKNOD, -EBADMSG, "MKNOD without a type: -EBADMSG");
	b_mknod(&B, DAFS_MKNOD_FIFO | 010000 << 4, 0);
	REQ_B(DAFS_OP_MKNOD, -EBADMSG, "MKNOD with a bit above the type: -EBADMSG");
	b_mknod(&B, DAFS_MKNOD_FIFO | 0644, 3);
	REQ_B(DAFS_OP_MKNOD, -EBADMSG, "MKNOD of a fifo with a device number: -EBADMSG");
	b_mknod(&B, DAFS_MKNOD_BLK | 0644, 0x803);
	B.n -= 1;
	REQ_B(DAFS_OP_MKNOD, -EBADMSG, "MKNOD cut short: -EBADMSG");

	/* SETATTR. */
	b_setattr(&B, DAFS_L_NOFOLLOW, DAFS_SET_ALL, INT64_MAX, 07777, 999999999, 0);
	REQ_B(DAFS_OP_SETATTR, 0, "SETATTR at every limit decodes");
	b_setattr(&B, DAFS_L_TRANSIENT, 0, 0, 0, 0, 0);
	REQ_B(DAFS_OP_SETATTR, -EBADMSG, "SETATTR with DAFS_L_TRANSIENT: -EBADMSG");
	b_setattr(&B, 0, DAFS_SET_ALL + 1, 0, 0, 0, 0);
	REQ_B(DAFS_OP_SETATTR, -EBADMSG, "SETATTR with an unknown mask bit: -EBADMSG");
	b_setattr(&B, 0, 0, (uint64_t)INT64_MAX + 1, 0, 0, 0);
	REQ_B(DAFS_OP_SETATTR, -EBADMSG, "SETATTR size over INT64_MAX: -EBADMSG");
	b_setattr(&B, 0, 0, 0, 010000, 0, 0);
	REQ_B(DAFS_OP_SETATTR, -EBADMSG, "SETATTR mode with a type bit: -EBADMSG");
	b_setattr(&B, 0, 0, 0, 0, 1000000000, 0);
	REQ_B(DAFS_OP_SETATTR, -EBADMSG, "SETATTR atime nsec 1e9: -EBADMSG");
	b_setattr(&B, 0, 0, 0, 0, 0, UINT32_MAX);
	REQ_B(DAFS_OP_SETATTR, -EBADMSG, "SETATTR mtime nsec 0xffffffff: -EBADMSG");

	/* COMMIT, MKDIR, RENAME, LINK, SYMLINK. */
	B.n = 0; w64(&B, 1); w32(&B, 2);
	REQ_B(DAFS_OP_COMMIT, -EBADMSG, "COMMIT with an unknown flag: -EBADMSG");
	B.n = 0; w64(&B, 1); wstr(&B, "d"); w32(&B, 010755);
	REQ_B(DAFS_OP_MKDIR, -EBADMSG, "MKDIR mode with a type bit: -EBADMSG");
	B.n = 0; w64(&B, 1); wstr(&B, "d"); w32(&B, 0x80000000u);
	REQ_B(DAFS_OP_RMDIR, -EBADMSG, "RMDIR mode high bit: -EBADMSG");
	const struct { uint16_t op; uint32_t flags; int want; } two[] = {
		{ DAFS_OP_RENAME, DAFS_RENAME_NOREPLACE | DAFS_RENAME_EXCHANGE, 0 },
		{ DAFS_OP_RENAME, 4, -EBADMSG },
		{ DAFS_OP_LINK, 1, -EBADMSG },
		{ DAFS_OP_SYMLINK, DAFS_RENAME_NOREPLACE, -EBADMSG },
		{ DAFS_OP_LINK, 0, 0 },
	};
	for (unsigned i = 0; i < sizeof two / sizeof two[0]; i++) {
		B.n = 0; w64(&B, 1); wstr(&B, "a"); w64(&B, 2); wstr(&B, "b"); w32(&B, two[i].flags);
		REQ_B(two[i].op, two[i].want, "%s flags 0x%x", dafs_opcode_name(two[i].op), two[i].flags);
	}

	/* Locks. */
	const uint8_t types[] = { 0, DAFS_LOCK_NONE, 4, 0xff };
	const uint16_t lock_ops[] = { DAFS_OP_LOCK, DAFS_OP_UNLOCK, DAFS_OP_LOCKT };
	ok = true;
	for (unsigned o = 0; o < 3; o++) {
		for (unsigned t = 0; t < sizeof types; t++) {
			b_lock(&B, 0, 0, types[t]);
			raw_req(&W, lock_ops[o], &B);
			ok = ok && req_rc(&W) == -EBADMSG;
		}
		b_lock(&B, 0, 0, DAFS_LOCK_READ);
		raw_req(&W, lock_ops[o], &B);
		ok = ok && req_rc(&W) == 0;
	}
	CHECK(ok, "LOCK/UNLOCK/LOCKT type 0, NONE, 4, 255: -EBADMSG; READ decodes");
	b_lock(&B, (uint64_t)INT64_MAX + 1, 0, DAFS_LOCK_WRITE);
	REQ_B(DAFS_OP_LOCK, -EBADMSG, "lock start over INT64_MAX: -EBADMSG");
	b_lock(&B, 0, (uint64_t)INT64_MAX + 1, DAFS_LOCK_WRITE);
	REQ_B(DAFS_OP_LOCK, -EBADMSG, "lock len over INT64_MAX: -EBADMSG");
	b_lock(&B, 1, INT64_MAX, DAFS_LOCK_WRITE);
	REQ_B(DAFS_OP_LOCKT, 0, "lock whose last byte is INT64_MAX decodes (as fcntl)");
	b_lock(&B, 2, INT64_MAX, DAFS_LOCK_WRITE);
	REQ_B(DAFS_OP_LOCKT, -EBADMSG, "lock whose last byte is past INT64_MAX: -EBADMSG");
	b_lock(&B, 0, INT64_MAX, DAFS_LOCK_WRITE);
	REQ_B(DAFS_OP_LOCK, 0, "lock [0, INT64_MAX) decodes");
	b_lock(&B, INT64_MAX, 0, DAFS_LOCK_WRITE);
	REQ_B(DAFS_OP_UNLOCK, 0, "lock from INT64_MAX to the end decodes");
	b_lock(&B, INT64_MAX, 2, DAFS_LOCK_WRITE);
	REQ_B(DAFS_OP_UNLOCK, -EBADMSG, "lock of 2 bytes at INT64_MAX: -EBADMSG");

	/* Hints. */
	ok = true;
	for (uint32_t adv = DAFS_HINT_WILLNEED; adv <= DAFS_HINT_RANDOM; adv++) {
		b_hint(&B, 0, 0, adv);
		raw_req(&W, DAFS_OP_HINT, &B);
		ok = ok && req_rc(&W) == 0;
	}
	CHECK(ok, "HINT with each known advice decodes");
	const uint32_t bad_adv[] = { 0, DAFS_HINT_RANDOM + 1, 0x100, UINT32_MAX };
	ok = true;
	for (unsigned i = 0; i < 4; i++) {
		b_hint(&B, 0, 0, bad_adv[i]);
		raw_req(&W, DAFS_OP_HINT, &B);
		ok = ok && req_rc(&W) == -EBADMSG;
	}
	CHECK(ok, "HINT with advice 0, 5, 0x100, 0xffffffff: -EBADMSG");
	b_hint(&B, 10, INT64_MAX - 9, DAFS_HINT_RANDOM);
	REQ_B(DAFS_OP_HINT, -EBADMSG, "HINT offset + len past INT64_MAX: -EBADMSG");
	b_hint(&B, (uint64_t)INT64_MAX + 1, 0, DAFS_HINT_RANDOM);
	REQ_B(DAFS_OP_HINT, -EBADMSG, "HINT offset over INT64_MAX: -EBADMSG");
	b_hint(&B, 10, INT64_MAX - 10, DAFS_HINT_RANDOM);
	REQ_B(DAFS_OP_HINT, 0, "HINT reaching exactly INT64_MAX decodes");

	/* Allocate: only the five modes fallocate(2) is asked for, a non-empty range. */
	const uint32_t good_mode[] = { 0, DAFS_ALLOC_KEEP_SIZE,
		DAFS_ALLOC_PUNCH_HOLE | DAFS_ALLOC_KEEP_SIZE, DAFS_ALLOC_ZERO_RANGE,
		DAFS_ALLOC_ZERO_RANGE | DAFS_ALLOC_KEEP_SIZE };
	ok = true;
	for (unsigned i = 0; i < 5; i++) {
		b_allocate(&B, 0, 1, good_mode[i]);
		raw_req(&W, DAFS_OP_ALLOCATE, &B);
		ok = ok && req_rc(&W) == 0;
	}
	CHECK(ok, "ALLOCATE with each known mode decodes");
	const uint32_t bad_mode[] = { DAFS_ALLOC_PUNCH_HOLE, DAFS_ALLOC_PUNCH_HOLE | DAFS_ALLOC_ZERO_RANGE,
		DAFS_ALLOC_PUNCH_HOLE | DAFS_ALLOC_ZERO_RANGE | DAFS_ALLOC_KEEP_SIZE, 0x8, 0x100,
		UINT32_MAX };
	ok = true;
	for (unsigned i = 0; i < 6; i++) {
		b_allocate(&B, 0, 1, bad_mode[i]);
		raw_req(&W, DAFS_OP_ALLOCATE, &B);
		ok = ok && req_rc(&W) == -EBADMSG;
	}
	CHECK(ok, "ALLOCATE punch without keep-size, punch with zero, unknown bits: -EBADMSG");
	b_allocate(&B, 0, 0, 0);
	REQ_B(DAFS_OP_ALLOCATE, -EBADMSG, "ALLOCATE of an empty range: -EBADMSG");
	b_allocate(&B, 10, INT64_MAX - 9, 0);
	REQ_B(DAFS_OP_ALLOCATE, -EBADMSG, "ALLOCATE offset + len past INT64_MAX: -EBADMSG");
	b_allocate(&B, (uint64_t)INT64_MAX + 1, 1, 0);
	REQ_B(DAFS_OP_ALLOCATE, -EBADMSG, "ALLOCATE offset over INT64_MAX: -EBADMSG");
	b_allocate(&B, 10, INT64_MAX - 10, DAFS_ALLOC_KEEP_SIZE);
	REQ_B(DAFS_OP_ALLOCATE, 0, "ALLOCATE reaching exactly INT64_MAX decodes");
}

/* Named attributes: every field the decoder checks, one way to break it. */
static void b_xattr(struct wb *b, uint16_t opcode, uint32_t flags, const char *name, uint32_t size,
		    uint32_t value_len)
{
	b->n = 0;
	w64(b, DAFS_FH_ROOT);
	wstr(b, "f");
	w32(b, flags);
	if (opcode != DAFS_OP_LISTXATTR)
		wstr(b, name);
	if (opcode == DAFS_OP_GETXATTR || opcode == DAFS_OP_LISTXATTR)
		w32(b, size);
	if (opcode == DAFS_OP_SETXATTR) {
		w32(b, value_len);
		wraw(b, xattr_value, value_len < sizeof xattr_value ? value_len : sizeof xattr_value);
	}
}

static void test_bad_xattr(void)
{
	static char name256[DAFS_XATTR_NAME_MAX + 2];

	memset(name256, 'x', DAFS_XATTR_NAME_MAX + 1);
	b_xattr(&B, DAFS_OP_GETXATTR, DAFS_L_NOFOLLOW, long_name, DAFS_XATTR_SIZE_MAX, 0);
	REQ_B(DAFS_OP_GETXATTR, 0, "GETXATTR: 255-byte name, size XATTR_SIZE_MAX decodes");
	b_xattr(&B, DAFS_OP_GETXATTR, 0, name256, 0, 0);
	REQ_B(DAFS_OP_GETXATTR, -E2BIG, "GETXATTR: a 256-byte name: -E2BIG");
	b_xattr(&B, DAFS_OP_GETXATTR, 0, "", 0, 0);
	REQ_B(DAFS_OP_GETXATTR, -EBADMSG, "GETXATTR: an empty name: -EBADMSG");
	b_xattr(&B, DAFS_OP_REMOVEXATTR, 0, "", 0, 0);
	REQ_B(DAFS_OP_REMOVEXATTR, -EBADMSG, "REMOVEXATTR: an empty name: -EBADMSG");
	b_xattr(&B, DAFS_OP_GETXATTR, 0, "user.a", DAFS_XATTR_SIZE_MAX + 1, 0);
	REQ_B(DAFS_OP_GETXATTR, -E2BIG, "GETXATTR: size over XATTR_SIZE_MAX: -E2BIG");
	b_xattr(&B, DAFS_OP_LISTXATTR, 0, NULL, DAFS_XATTR_LIST_MAX + 1, 0);
	REQ_B(DAFS_OP_LISTXATTR, -E2BIG, "LISTXATTR: size over XATTR_LIST_MAX: -E2BIG");
	b_xattr(&B, DAFS_OP_GETXATTR, DAFS_XATTR_CREATE, "user.a", 0, 0);
	REQ_B(DAFS_OP_GETXATTR, -EBADMSG, "GETXATTR with XATTR_CREATE: -EBADMSG");
	b_xattr(&B, DAFS_OP_LISTXATTR, DAFS_L_TRANSIENT, NULL, 0, 0);
	REQ_B(DAFS_OP_LISTXATTR, -EBADMSG, "LISTXATTR with DAFS_L_TRANSIENT: -EBADMSG");
	b_xattr(&B, DAFS_OP_SETXATTR, DAFS_L_NOFOLLOW | DAFS_XATTR_CREATE | DAFS_XATTR_REPLACE,
		"user.a", 0, DAFS_XATTR_SIZE_MAX);
	REQ_B(DAFS_OP_SETXATTR, 0, "SETXATTR: every flag, the largest value decodes");
	b_xattr(&B, DAFS_OP_SETXATTR, 0x40, "user.a", 0, 1);
	REQ_B(DAFS_OP_SETXATTR, -EBADMSG, "SETXATTR with an unknown flag: -EBADMSG");
	b_xattr(&B, DAFS_OP_SETXATTR, 0, "user.a", 0, DAFS_XATTR_SIZE_MAX);
	put32(B.b + B.n - DAFS_XATTR_SIZE_MAX - 4, DAFS_XATTR_SIZE_MAX + 1);
	w8(&B, 0);
	REQ_B(DAFS_OP_SETXATTR, -E2BIG, "SETXATTR value over XATTR_SIZE_MAX: -E2BIG");
	b_xattr(&B, DAFS_OP_SETXATTR, 0, "user.a", 0, 10);
	B.n -= 1;
	REQ_B(DAFS_OP_SETXATTR, -EBADMSG, "SETXATTR value shorter than its length: -EBADMSG");
	b_xattr(&B, DAFS_OP_SETXATTR, 0, "user.a", 0, 10);
	w8(&B, 0);
	REQ_B(DAFS_OP_SETXATTR, -EBADMSG, "SETXATTR with a trailing byte: -EBADMSG");
	b_xattr(&B, DAFS_OP_REMOVEXATTR, 0, "user.a", 0, 0);
	w32(&B, 0);
	REQ_B(DAFS_OP_REMOVEXATTR, -EBADMSG, "REMOVEXATTR with a size field: -EBADMSG");

	/* Results. */
	B.n = 0; w32(&B, 4); w32(&B, 4); wraw(&B, "abcd", 4);
	REP_B(DAFS_OP_GETXATTR, 0, 0, "GETXATTR result of 4 bytes decodes");
	B.n = 0; w32(&B, 5); w32(&B, 4); wraw(&B, "abcd", 4);
	REP_B(DAFS_OP_GETXATTR, 0, -EBADMSG, "GETXATTR result: size 5, 4 bytes: -EBADMSG");
	B.n = 0; w32(&B, DAFS_XATTR_SIZE_MAX + 1); w32(&B, 0);
	REP_B(DAFS_OP_GETXATTR, 0, -E2BIG, "GETXATTR result size over XATTR_SIZE_MAX: -E2BIG");
	B.n = 0; w32(&B, 4); w32(&B, 4); wraw(&B, "ab\0c", 4);
	REP_B(DAFS_OP_LISTXATTR, 0, -EBADMSG, "LISTXATTR result without a final NUL: -EBADMSG");
	B.n = 0; w32(&B, 4); w32(&B, 4); wraw(&B, "abc", 4);
	REP_B(DAFS_OP_LISTXATTR, 0, 0, "LISTXATTR result ending in a NUL decodes");
	B.n = 0; w32(&B, 0);
	REP_B(DAFS_OP_SETXATTR, 0, -EBADMSG, "SETXATTR result with a body: -EBADMSG");
	B.n = 0;
	REP_B(DAFS_OP_REMOVEXATTR, ENODATA, 0, "REMOVEXATTR refused (ENODATA), no body, decodes");
}

static void test_bad_results(void)
{
	static struct dafs_reply rep;

	/* Statuses. */
	B.n = 0;
	REP_B(DAFS_OP_CLOSE, 0, 0, "hand-built CLOSE result decodes");
	REP_B(DAFS_OP_CLOSE, 4095, 0, "result status 4095 decodes");
	REP_B(DAFS_OP_CLOSE, -1, -EBADMSG, "result status -1: -EBADMSG");
	REP_B(DAFS_OP_CLOSE, -EIO, -EBADMSG, "result status -EIO: -EBADMSG");
	REP_B(DAFS_OP_CLOSE, 4096, -EBADMSG, "result status 4096: -EBADMSG");
	REP_B(DAFS_OP_CLOSE, INT32_MIN, -EBADMSG, "result status INT32_MIN: -EBADMSG");
	w8(&B, 0);
	REP_B(DAFS_OP_CLOSE, 0, -EBADMSG, "CLOSE result with a body byte: -EBADMSG");
	B.n = 0;
	wattr(&B, 0);
	REP_B(DAFS_OP_GETATTR, 0, 0, "hand-built GETATTR result decodes");
	REP_B(DAFS_OP_GETATTR, ENOENT, -EBADMSG, "a failed GETATTR carrying attributes: -EBADMSG");
	REP_B(DAFS_OP_GETATTR, EAGAIN, -EBADMSG, "EAGAIN carries a body for LOCK only: -EBADMSG");

	/* The header's whole-request status. */
	raw_rep(&W, DAFS_OP_CLOSE, 0, &(struct wb){ .n = 0 });
	W.n = DAFS_HDR_SIZE;
	fix_body_len(W.b, W.n);
	put32(W.b + H_STATUS, ENOMEM);
	CHECK_EQ(rep_rc(&W), 0, "a bare refusal decodes");
	CHECK(dec_rep(W.b, W.n, &rep) == 0 && rep.nres == 0 && rep.hdr.status == ENOMEM,
	      "a bare refusal has no results");
	put32(W.b + H_STATUS, (uint32_t)-ENOMEM);
	CHECK_EQ(rep_rc(&W), -EBADMSG, "reply header status negative: -EBADMSG");
	put32(W.b + H_STATUS, 4096);
	CHECK_EQ(rep_rc(&W), -EBADMSG, "reply header status 4096: -EBADMSG");
	raw_rep(&W, DAFS_OP_CLOSE, 0, &(struct wb){ .n = 0 });
	put32(W.b + H_STATUS, EINVAL);
	CHECK_EQ(rep_rc(&W), -EBADMSG, "a refusal followed by results: -EBADMSG");
	W.n = DAFS_HDR_SIZE + 1;
	fix_body_len(W.b, W.n);
	CHECK_EQ(rep_rc(&W), -EBADMSG, "a refusal with one trailing byte: -EBADMSG");
	raw_rep(&W, DAFS_OP_CLOSE, 0, &(struct wb){ .n = 0 });
	put16(W.b + B_COUNT, DAFS_COMPOUND_MAX + 1);
	CHECK_EQ(rep_rc(&W), -E2BIG, "nres over DAFS_COMPOUND_MAX: -E2BIG");
	put16(W.b + B_COUNT, 1);
	put16(W.b + B_RESERVED, 7);
	CHECK_EQ(rep_rc(&W), -EBADMSG, "reserved after nres non-zero: -EBADMSG");
	put16(W.b + B_RESERVED, 0);
	put16(W.b + B_ITEMS + 2, 0x100);
	CHECK_EQ(rep_rc(&W), -EBADMSG, "reserved after a result's opcode non-zero: -EBADMSG");
	put16(W.b + B_ITEMS + 2, 0);
	put32(W.b + B_ITEMS + 8, 1);
	CHECK_EQ(rep_rc(&W), -EBADMSG, "result body_len past the frame: -EBADMSG");

	/* Attributes: nsec. */
	B.n = 0;
	wattr(&B, 1000000000);
	REP_B(DAFS_OP_MKDIR, 0, -EBADMSG, "attr atime nsec 1e9: -EBADMSG");
	B.n = 0;
	w64(&B, 5);
	wattr(&B, UINT32_MAX);
	REP_B(DAFS_OP_OPEN, 0, -EBADMSG, "handle attr nsec 0xffffffff: -EBADMSG");
	B.n = 0;
	w64(&B, 5);
	wattr(&B, 999999999);
	REP_B(DAFS_OP_LOOKUP, 0, 0, "handle attr nsec 999999999 decodes");

	/* SESSION_OPEN credits. */
	for (uint32_t cr = 0; cr <= DAFS_SLOTS_MAX + 1; cr += DAFS_SLOTS_MAX) {
		for (uint32_t d = 0; d < 2; d++) {
			B.n = 0;
			w64(&B, 1); w32(&B, cr + d); w32(&B, 1000);
			w32(&B, DAFS_MSG_MAX); w32(&B, DAFS_INLINE_MAX); w32(&B, DAFS_IO_MAX);
			w32(&B, 0);   /* no server proof */
			w8(&B, 0);    /* not resumed */
			REP_B(DAFS_OP_SESSION_OPEN, 0, cr + d >= 1 && cr + d <= DAFS_SLOTS_MAX ? 0 : -EBADMSG,
			      "SESSION_OPEN credits %u", cr + d);
		}
	}

	/* CONNECT. */
	B.n = 0; w32(&B, 3); wraw(&B, "abc", 3); w32(&B, DAFS_AUTH_MAX + 1);
	wraw(&B, addr_bytes, DAFS_AUTH_MAX); w8(&B, 1);
	REP_B(DAFS_OP_CONNECT, 0, -E2BIG, "CONNECT nonce of 257 bytes: -E2BIG");
	B.n = 0; w32(&B, 3); wraw(&B, "abc", 3);
	REP_B(DAFS_OP_CONNECT, 0, -EBADMSG, "CONNECT result without its nonce length: -EBADMSG");

	/* READ. */
	B.n = 0; w32(&B, 5); w8(&B, 1); w32(&B, 5); wraw(&B, "hello", 5);
	REP_B(DAFS_OP_READ, 0, 0, "hand-built inline READ result decodes");
	B.n = 0; w32(&B, 5); w8(&B, 1); w32(&B, 4); wraw(&B, "hell", 4);
	REP_B(DAFS_OP_READ, 0, -EBADMSG, "READ result carrying 4 of count 5 bytes: -EBADMSG");
	B.n = 0; w32(&B, 5); w8(&B, 1); w32(&B, 0);
	REP_B(DAFS_OP_READ, 0, 0, "READ result with count 5 and no data (direct) decodes");
	B.n = 0; w32(&B, 5); w8(&B, 2); w32(&B, 0);
	REP_B(DAFS_OP_READ, 0, -EBADMSG, "READ result eof 2: -EBADMSG");
	B.n = 0; w32(&B, DAFS_IO_MAX + 1); w8(&B, 0); w32(&B, 0);
	REP_B(DAFS_OP_READ, 0, -E2BIG, "READ result count over DAFS_IO_MAX: -E2BIG");
	B.n = 0; w32(&B, DAFS_INLINE_MAX + 1); w8(&B, 0); w32(&B, DAFS_INLINE_MAX + 1);
	wraw(&B, inline_data, DAFS_INLINE_MAX); w8(&B, 0);
	REP_B(DAFS_OP_READ, 0, -E2BIG, "READ result inline over DAFS_INLINE_MAX: -E2BIG");
	B.n = 0; w32(&B, 5); w8(&B, 1); w32(&B, 5); wraw(&B, "hel", 3);
	REP_B(DAFS_OP_READ, 0, -EBADMSG, "READ result data past the end: -EBADMSG");
	B.n = 0; w32(&B, DAFS_IO_MAX + 1); w64(&B, 0); w64(&B, 0);
	REP_B(DAFS_OP_WRITE, 0, -E2BIG, "WRITE result count over DAFS_IO_MAX: -E2BIG");

	/* READLINK. */
	B.n = 0; w32(&B, 2); wraw(&B, "ab", 2);
	REP_B(DAFS_OP_READLINK, 0, -EBADMSG, "READLINK target without NUL: -EBADMSG");
	B.n = 0; w32(&B, DAFS_PATH_MAX + 1);
	REP_B(DAFS_OP_READLINK, 0, -E2BIG, "READLINK target over DAFS_PATH_MAX: -E2BIG");

	/* LOCK and LOCKT. */
	B.n = 0; w8(&B, DAFS_LOCK_WRITE); w64(&B, 0); w64(&B, 0); w32(&B, 1);
	REP_B(DAFS_OP_LOCK, EAGAIN, 0, "LOCK EAGAIN with a conflict decodes");
	REP_B(DAFS_OP_LOCKT, 0, 0, "LOCKT with a conflict decodes");
	REP_B(DAFS_OP_LOCK, 0, -EBADMSG, "a granted LOCK with a body: -EBADMSG");
	REP_B(DAFS_OP_LOCK, EDEADLK, -EBADMSG, "LOCK EDEADLK with a body: -EBADMSG");
	REP_B(DAFS_OP_UNLOCK, 0, -EBADMSG, "UNLOCK result with a body: -EBADMSG");
	B.n = 0;
	REP_B(DAFS_OP_LOCK, EAGAIN, -EBADMSG, "LOCK EAGAIN without the conflict: -EBADMSG");
	REP_B(DAFS_OP_LOCKT, 0, -EBADMSG, "LOCKT without its answer: -EBADMSG");
	REP_B(DAFS_OP_LOCK, 0, -EBADMSG, "granted LOCK without its broken byte: -EBADMSG");
	B.n = 0; w8(&B, 1);
	REP_B(DAFS_OP_LOCK, 0, 0, "granted LOCK, broken, decodes");
	B.n = 0; w8(&B, 2);
	REP_B(DAFS_OP_LOCK, 0, -EBADMSG, "granted LOCK, broken 2: -EBADMSG");
	const uint8_t bad_types[] = { 0, 4, 0xff };
	bool ok = true;
	for (unsigned i = 0; i < 3; i++) {
		B.n = 0; w8(&B, bad_types[i]); w64(&B, 0); w64(&B, 0); w32(&B, 1);
		raw_rep(&W, DAFS_OP_LOCKT, 0, &B);
		ok = ok && rep_rc(&W) == -EBADMSG;
		raw_rep(&W, DAFS_OP_LOCK, EAGAIN, &B);
		ok = ok && rep_rc(&W) == -EBADMSG;
	}
	CHECK(ok, "lock result type 0, 4, 255: -EBADMSG");
}

/* READDIR results: entries must walk cleanly and agree with count. */
static void test_bad_dirents(void)
{
	static struct wb E;
	struct dafs_dirent d;
	size_t pos;

	E.n = 0;
	went(&E, "a", 2);
	went(&E, "bb", 3);
	b_readdir(&B, 2, 1, &E);
	REP_B(DAFS_OP_READDIR, 0, 0, "hand-built READDIR result decodes");
	b_readdir(&B, 1, 1, &E);
	REP_B(DAFS_OP_READDIR, 0, -EBADMSG, "READDIR count 1 with 2 entries: -EBADMSG");
	b_readdir(&B, 3, 1, &E);
	REP_B(DAFS_OP_READDIR, 0, -EBADMSG, "READDIR count 3 with 2 entries: -EBADMSG");
	b_readdir(&B, 0, 1, &E);
	REP_B(DAFS_OP_READDIR, 0, -EBADMSG, "READDIR count 0 with 2 entries: -EBADMSG");
	b_readdir(&B, 2, 2, &E);
	REP_B(DAFS_OP_READDIR, 0, -EBADMSG, "READDIR eof 2: -EBADMSG");
	E.n = 0;
	b_readdir(&B, 1, 1, &E);
	REP_B(DAFS_OP_READDIR, 0, -EBADMSG, "READDIR count 1 with no entries: -EBADMSG");
	B.n = 0; w32(&B, 0); w8(&B, 0); w32(&B, DAFS_MSG_MAX + 1);
	REP_B(DAFS_OP_READDIR, 0, -E2BIG, "READDIR entries_len over DAFS_MSG_MAX: -E2BIG");
	B.n = 0; w32(&B, 0); w8(&B, 0); w32(&B, 100);
	REP_B(DAFS_OP_READDIR, 0, -EBADMSG, "READDIR entries_len past the end: -EBADMSG");

	struct { const char *name; uint32_t n; const char *what; } bad[] = {
		{ "", 1, "an empty name" },
		{ "a/b", 4, "a name with '/'" },
		{ "/", 2, "the name \"/\"" },
		{ "ab", 2, "a name without NUL" },
		{ "a\0b", 4, "a name with an embedded NUL" },
		{ "", 0, "a name of length 0" },
	};
	for (unsigned i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		E.n = 0;
		went(&E, "ok", 3);
		went(&E, bad[i].name, bad[i].n);
		b_readdir(&B, 2, 0, &E);
		REP_B(DAFS_OP_READDIR, 0, -EBADMSG, "READDIR with %s: -EBADMSG", bad[i].what);
		pos = 0;
		int r1 = dafs_dirent_next(E.b, E.n, &pos, &d);
		size_t after_first = pos;
		int r2 = dafs_dirent_next(E.b, E.n, &pos, &d);
		CHECK(r1 == 1 && r2 == -EBADMSG && pos == after_first,
		      "dafs_dirent_next: the good entry, then -EBADMSG for %s (pos unmoved)", bad[i].what);
	}

	/* Name length limit: DAFS_NAME_MAX bytes plus the NUL, no more. */
	static char nm[DAFS_NAME_MAX + 2];
	memset(nm, 'x', sizeof nm);
	nm[DAFS_NAME_MAX] = '\0';
	E.n = 0;
	went(&E, nm, DAFS_NAME_MAX + 1);
	b_readdir(&B, 1, 1, &E);
	REP_B(DAFS_OP_READDIR, 0, 0, "READDIR with a %d-byte name decodes", DAFS_NAME_MAX);
	nm[DAFS_NAME_MAX] = 'x';
	nm[DAFS_NAME_MAX + 1] = '\0';
	E.n = 0;
	went(&E, nm, DAFS_NAME_MAX + 2);
	b_readdir(&B, 1, 1, &E);
	REP_B(DAFS_OP_READDIR, 0, -EBADMSG, "READDIR with a %d-byte name: -EBADMSG", DAFS_NAME_MAX + 1);

	/* A truncated entry, at every length. */
	E.n = 0;
	went(&E, "name", 5);
	bool ok = true;
	for (size_t len = 1; len < E.n; len++) {
		pos = 0;
		ok = ok && dafs_dirent_next(E.b, len, &pos, &d) == -EBADMSG && pos == 0;
		struct wb part = { .n = 0 };
		wraw(&part, E.b, len);
		b_readdir(&B, 1, 1, &part);
		raw_rep(&W, DAFS_OP_READDIR, 0, &B);
		ok = ok && rep_rc(&W) == -EBADMSG;
	}
	CHECK(ok, "an entry cut at any of its %zu lengths: -EBADMSG from dafs_dirent_next and the decoder",
	      E.n - 1);
}

/* ---- the encoder: refusals, and never a byte past cap -------------------- */

#define GUARD 64
static uint8_t gbuf[BIG + GUARD];

/* Fill gbuf, encode with `cap`, and say whether everything from cap on is
 * still the fill pattern. */
static bool encode_guarded(bool reply, void *msg, size_t cap, int *rc)
{
	memset(gbuf, 0xa5, cap + GUARD);
	*rc = reply ? dafs_encode_reply(gbuf, cap, msg) : dafs_encode_request(gbuf, cap, msg);
	for (size_t i = cap; i < cap + GUARD; i++)
		if (gbuf[i] != 0xa5)
			return false;
	return true;
}

static void test_encoder_einval(void)
{
	static struct dafs_compound req;
	static struct dafs_reply rep;
	static char toolong[DAFS_PATH_MAX + 1];
	int rc;

	memset(toolong, 'z', DAFS_PATH_MAX);
	toolong[DAFS_PATH_MAX] = '\0';

#define BAD_REQ(setup, ...) do {                                           \
	init_hdr(&req.hdr, 0);                                             \
	req.nops = 1;                                                      \
	make_op(&req.ops[0], DAFS_OP_NULL, 0);                             \
	setup;                                                             \
	bool g_ = encode_guarded(false, &req, 4096, &rc);                  \
	CHECK(rc == -EINVAL && g_, "encoder refuses " __VA_ARGS__);        \
	if (rc != -EINVAL)                                                 \
		printf("#   got %d\n", rc);                                 \
} while (0)
#define BAD_REP(setup, ...) do {                                           \
	init_hdr(&rep.hdr, 0);                                             \
	rep.nres = 1;                                                      \
	make_res(&rep.res[0], DAFS_OP_NULL, 0);                            \
	setup;                                                             \
	bool g_ = encode_guarded(true, &rep, 4096, &rc);                   \
	CHECK(rc == -EINVAL && g_, "encoder refuses " __VA_ARGS__);        \
	if (rc != -EINVAL)                                                 \
		printf("#   got %d\n", rc);                                 \
} while (0)
#define OP(o, v) make_op(&req.ops[0], (o), (v))
#define RES(o, v) make_res(&rep.res[0], (o), (v))

	BAD_REQ(req.nops = 0, "nops 0");
	BAD_REQ((req.nops = DAFS_COMPOUND_MAX + 1, memset(req.ops, 0, sizeof req.ops)), "nops 65");
	BAD_REQ(req.hdr.flags = 0x0008, "unknown header flag 0x8");
	BAD_REQ(req.hdr.flags = 0x8000, "unknown header flag 0x8000");
	BAD_REQ(req.ops[0].opcode = DAFS_OP_COUNT, "opcode DAFS_OP_COUNT");
	BAD_REQ(req.ops[0].opcode = 0xffff, "opcode 0xffff");
	BAD_REQ((OP(DAFS_OP_CONNECT, 0), req.ops[0].a.connect.addr_len = DAFS_ADDR_MAX + 1),
		"CONNECT addr over DAFS_ADDR_MAX");
	BAD_REQ((OP(DAFS_OP_CONNECT, 1), req.ops[0].a.connect.addr_len = 4), "CONNECT addr NULL with length 4");
	BAD_REQ((OP(DAFS_OP_SESSION_OPEN, 0), req.ops[0].a.session_open.name = NULL), "SESSION_OPEN name NULL");
	BAD_REQ((OP(DAFS_OP_SESSION_OPEN, 0), req.ops[0].a.session_open.name = toolong + DAFS_PATH_MAX - 256),
		"SESSION_OPEN name of 256 chars");
	BAD_REQ((OP(DAFS_OP_SESSION_OPEN, 0), req.ops[0].a.session_open.auth_len = DAFS_AUTH_MAX + 1,
		 req.ops[0].a.session_open.auth = toolong), "SESSION_OPEN auth over DAFS_AUTH_MAX");
	BAD_REQ((OP(DAFS_OP_OPEN, 0), req.ops[0].a.open.path = NULL), "OPEN path NULL");
	BAD_REQ((OP(DAFS_OP_OPEN, 0), req.ops[0].a.open.path = toolong), "OPEN path of DAFS_PATH_MAX chars");
	BAD_REQ((OP(DAFS_OP_OPEN, 0), req.ops[0].a.open.flags = 0x1000), "OPEN flag 0x1000");
	BAD_REQ((OP(DAFS_OP_OPEN, 0), req.ops[0].a.open.flags = DAFS_O_ACCMODE), "OPEN access mode 3");
	BAD_REQ((OP(DAFS_OP_LOOKUP, 0), req.ops[0].a.open.flags = DAFS_O_CREAT), "LOOKUP with DAFS_O_CREAT");
	BAD_REQ((OP(DAFS_OP_SETATTR, 0), req.ops[0].a.setattr.atime.nsec = 1000000000), "SETATTR nsec 1e9");
	BAD_REQ((OP(DAFS_OP_SETATTR, 0), req.ops[0].a.setattr.mask = DAFS_SET_ALL + 1), "SETATTR mask above DAFS_SET_ALL");
	BAD_REQ((OP(DAFS_OP_SETATTR, 0), req.ops[0].a.setattr.size = UINT64_MAX), "SETATTR size UINT64_MAX");
	BAD_REQ((OP(DAFS_OP_READ, 1), req.ops[0].a.io.nsegs = DAFS_SEGS_MAX + 1), "READ nsegs 17");
	BAD_REQ((OP(DAFS_OP_READ, 1), req.ops[0].a.io.len++), "READ segments not summing to len");
	BAD_REQ((OP(DAFS_OP_READ, 2), req.ops[0].a.io.len++, req.ops[0].a.io.segs[0].len++),
		"READ over DAFS_IO_MAX");
	BAD_REQ((OP(DAFS_OP_READ, 4), req.ops[0].a.io.len++), "inline READ over DAFS_INLINE_MAX");
	BAD_REQ((OP(DAFS_OP_READ, 0), req.ops[0].a.io.offset = INT64_MAX), "READ offset + len overflow");
	BAD_REQ((OP(DAFS_OP_WRITE, 0), req.ops[0].a.io.data = NULL), "inline WRITE with data NULL");
	BAD_REQ((OP(DAFS_OP_WRITE, 4), req.ops[0].a.io.len++), "inline WRITE over DAFS_INLINE_MAX");
	BAD_REQ((OP(DAFS_OP_COMMIT, 0), req.ops[0].a.commit.flags = 2), "COMMIT flags 2");
	BAD_REQ((OP(DAFS_OP_MKDIR, 0), req.ops[0].a.path.mode = 040755), "MKDIR mode with type bits");
	BAD_REQ((OP(DAFS_OP_RENAME, 0), req.ops[0].a.two.flags = 4), "RENAME flags 4");
	BAD_REQ((OP(DAFS_OP_MKNOD, 0), req.ops[0].a.mknod.mode = 0100644), "MKNOD of a regular file");
	BAD_REQ((OP(DAFS_OP_MKNOD, 0), req.ops[0].a.mknod.mode = 040755), "MKNOD of a directory");
	BAD_REQ((OP(DAFS_OP_MKNOD, 0), req.ops[0].a.mknod.mode = 0644), "MKNOD without a type");
	BAD_REQ((OP(DAFS_OP_MKNOD, 0), req.ops[0].a.mknod.mode = 0170644), "MKNOD of type 017");
	BAD_REQ((OP(DAFS_OP_MKNOD, 0), req.ops[0].a.mknod.rdev = 1), "MKNOD of a fifo with a device number");
	BAD_REQ((OP(DAFS_OP_MKNOD, 3), req.ops[0].a.mknod.rdev = 1), "MKNOD of a socket with a device number");
	BAD_REQ((OP(DAFS_OP_MKNOD, 0), req.ops[0].a.mknod.path = NULL), "MKNOD path NULL");
	BAD_REQ((OP(DAFS_OP_LINK, 0), req.ops[0].a.two.flags = 1), "LINK flags 1");
	BAD_REQ((OP(DAFS_OP_SYMLINK, 0), req.ops[0].a.two.path2 = NULL), "SYMLINK path2 NULL");
	BAD_REQ((OP(DAFS_OP_LOCK, 0), req.ops[0].a.lock.type = DAFS_LOCK_NONE), "LOCK type NONE");
	BAD_REQ((OP(DAFS_OP_UNLOCK, 0), req.ops[0].a.lock.type = 0), "UNLOCK type 0");
	BAD_REQ((OP(DAFS_OP_LOCKT, 1), req.ops[0].a.lock.len = 2), "LOCKT range past INT64_MAX");
	BAD_REQ((OP(DAFS_OP_HINT, 0), req.ops[0].a.hint.advice = 0), "HINT advice 0");
	BAD_REQ((OP(DAFS_OP_HINT, 3), req.ops[0].a.hint.len++), "HINT range past INT64_MAX");
	BAD_REQ((OP(DAFS_OP_ALLOCATE, 0), req.ops[0].a.allocate.mode = DAFS_ALLOC_PUNCH_HOLE),
		"ALLOCATE punch without keep-size");
	BAD_REQ((OP(DAFS_OP_ALLOCATE, 0), req.ops[0].a.allocate.len = 0), "ALLOCATE len 0");
	BAD_REQ((OP(DAFS_OP_ALLOCATE, 4), req.ops[0].a.allocate.len++), "ALLOCATE range past INT64_MAX");
	/* A bad op late in a compound. */
	BAD_REQ((req.nops = 10, memset(req.ops, 0, 10 * sizeof req.ops[0]),
		 OP(DAFS_OP_NULL, 0), req.ops[9].opcode = DAFS_OP_LOCK, req.ops[9].a.lock.type = 9),
		"a bad 10th op in a compound");

	BAD_REP(rep.nres = DAFS_COMPOUND_MAX + 1, "nres 65");
	BAD_REP(rep.hdr.status = -EIO, "reply header status -EIO");
	BAD_REP(rep.hdr.status = 4096, "reply header status 4096");
	BAD_REP(rep.hdr.flags = 0x20, "reply header flag 0x20");
	BAD_REP(rep.res[0].status = -1, "result status -1");
	BAD_REP(rep.res[0].status = 4096, "result status 4096");
	BAD_REP(rep.res[0].opcode = DAFS_OP_COUNT, "result opcode DAFS_OP_COUNT");
	BAD_REP((RES(DAFS_OP_CONNECT, 0), rep.res[0].r.connect.nonce = NULL), "CONNECT nonce NULL with length");
	BAD_REP((RES(DAFS_OP_SESSION_OPEN, 0), rep.res[0].r.session_open.credits = 0), "SESSION_OPEN credits 0");
	BAD_REP((RES(DAFS_OP_SESSION_OPEN, 1), rep.res[0].r.session_open.credits++), "SESSION_OPEN credits 257");
	BAD_REP((RES(DAFS_OP_OPEN, 0), rep.res[0].r.handle.attr.ctime.nsec = 1000000000), "attr ctime nsec 1e9");
	BAD_REP((RES(DAFS_OP_READ, 3), rep.res[0].r.read.count++), "READ result inline over DAFS_INLINE_MAX");
	BAD_REP((RES(DAFS_OP_READ, 1), rep.res[0].r.read.count++), "READ result count over DAFS_IO_MAX");
	BAD_REP((RES(DAFS_OP_READ, 0), rep.res[0].r.read.eof = 2), "READ result eof 2");
	BAD_REP((RES(DAFS_OP_WRITE, 1), rep.res[0].r.write.count++), "WRITE result count over DAFS_IO_MAX");
	BAD_REP((RES(DAFS_OP_READDIR, 0), rep.res[0].r.readdir.count = 2), "READDIR count 2 for 3 entries");
	BAD_REP((RES(DAFS_OP_READDIR, 0), rep.res[0].r.readdir.entries_len--), "READDIR entries cut short");
	BAD_REP((RES(DAFS_OP_READDIR, 1), rep.res[0].r.readdir.entries_len = 8), "READDIR entries NULL, length 8");
	BAD_REP((RES(DAFS_OP_READDIR, 0), rep.res[0].r.readdir.eof = 3), "READDIR eof 3");
	BAD_REP((RES(DAFS_OP_READLINK, 0), rep.res[0].r.readlink.target = NULL), "READLINK target NULL");
	BAD_REP((RES(DAFS_OP_READLINK, 0), rep.res[0].r.readlink.target = toolong), "READLINK target too long");
	BAD_REP((RES(DAFS_OP_LOCKT, 0), rep.res[0].r.lock.type = 0), "LOCKT answer type 0");
	BAD_REP((RES(DAFS_OP_LOCK, 1), rep.res[0].r.lock.type = 7), "LOCK conflict type 7");

	/* A directory entry the decoder would refuse. */
	static uint8_t page[64 + GUARD];
	const struct { const char *name; const char *what; } bad[] = {
		{ "", "an empty name" }, { "a/b", "a name with '/'" }, { NULL, "a NULL name" },
		{ toolong + DAFS_PATH_MAX - (DAFS_NAME_MAX + 1), "a 256-byte name" },
	};
	for (unsigned i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		struct dafs_dirent e = { 1, 2, DAFS_TYPE_REG, bad[i].name };
		memset(page, 0xa5, sizeof page);
		rc = dafs_dirent_put(page, 32, 0, &e);
		bool g = true;
		for (size_t k = 32; k < sizeof page; k++)
			g = g && page[k] == 0xa5;
		CHECK(rc == -EINVAL && g, "dafs_dirent_put refuses %s (rc %d)", bad[i].what, rc);
	}
	struct dafs_dirent e = { 1, 2, DAFS_TYPE_REG, "name" };   /* 8+8+1+4+5 = 26 bytes */
	bool ok = true;
	for (size_t cap = 0; cap < 26; cap++) {
		memset(page, 0xa5, sizeof page);
		ok = ok && dafs_dirent_put(page, cap, 0, &e) == -EMSGSIZE;
		for (size_t k = cap; k < sizeof page; k++)
			ok = ok && page[k] == 0xa5;
	}
	CHECK(ok, "dafs_dirent_put with cap 0..25 for a 26-byte entry: -EMSGSIZE, nothing past cap");
	CHECK_EQ(dafs_dirent_put(page, 26, 0, &e), 26, "dafs_dirent_put with cap 26: 26");
	CHECK_EQ(dafs_dirent_put(page, 52, 26, &e), 52, "a second entry appends at pos");
	CHECK_EQ(dafs_dirent_put(page, 52, 27, &e), -EMSGSIZE, "no room after pos: -EMSGSIZE");
	CHECK_EQ(dafs_dirent_put(page, 10, 11, &e), -EINVAL, "pos past cap: -EINVAL");
	CHECK_EQ(dafs_dirent_put(NULL, 0, 0, &e), -EMSGSIZE, "NULL buffer, cap 0: -EMSGSIZE");

#undef BAD_REQ
#undef BAD_REP
#undef OP
#undef RES
}

/* ---- a corpus of valid frames ------------------------------------------- */

struct frame {
	uint8_t *b;
	size_t n;
	bool reply;
};

#define CORPUS_MAX 512
static struct frame corpus[CORPUS_MAX];
static unsigned ncorpus;

static void corpus_add(const void *b, int n, bool reply)
{
	if (n <= 0 || ncorpus >= CORPUS_MAX)
		return;
	corpus[ncorpus].b = malloc((size_t)n);
	if (!corpus[ncorpus].b)
		return;
	memcpy(corpus[ncorpus].b, b, (size_t)n);
	corpus[ncorpus].n = (size_t)n;
	corpus[ncorpus].reply = reply;
	ncorpus++;
}

static void corpus_free(void)
{
	for (unsigned i = 0; i < ncorpus; i++)
		free(corpus[i].b);
	ncorpus = 0;
}

/* DAFS_WRITE_SEEDS=DIR writes each opcode's first two samples there as
 * the fuzzer's seeds (common/tests/fuzz-seeds: req-getattr-0.bin, ...), so
 * that a change of the wire layout regenerates them instead of leaving
 * seeds the decoder refuses at once. */
static void write_seed_named(const void *b, int n, bool reply, const char *what, unsigned v)
{
	const char *dir = getenv("DAFS_WRITE_SEEDS");
	char name[64], path[4096];
	FILE *f;

	if (!dir || n <= 0)
		return;
	snprintf(name, sizeof name, "%s", what);
	for (char *c = name; *c; c++)
		*c = (char)tolower((unsigned char)*c);
	snprintf(path, sizeof path, "%s/%s-%s-%u.bin", dir, reply ? "rep" : "req", name, v);
	f = fopen(path, "wb");
	if (!f || fwrite(b, 1, (size_t)n, f) != (size_t)n)
		fprintf(stderr, "test_proto: cannot write %s\n", path);
	if (f)
		fclose(f);
}

static void write_seed(const void *b, int n, bool reply, unsigned op, unsigned v)
{
	if (v <= 1)
		write_seed_named(b, n, reply, dafs_opcode_name(op), v);
}

static void build_corpus(void)
{
	static struct dafs_compound req;
	static struct dafs_reply rep;
	static struct dafs_op ops[256];
	static struct dafs_result res[256];
	unsigned nops = 0, nres = 0;

	for (unsigned op = 0; op < DAFS_OP_COUNT; op++) {
		for (unsigned v = 0; ; v++) {
			init_hdr(&req.hdr, (uint16_t)(v % 3 == 2 ? DAFS_HF_CONTINUE : 0));
			req.nops = 1;
			if (!make_op(&req.ops[0], op, v))
				break;
			int n = dafs_encode_request(enc, sizeof enc, &req);
			corpus_add(enc, n, false);
			write_seed(enc, n, false, op, v);
			if (n > 0 && n < 400 && nops < 256)
				ops[nops++] = req.ops[0];
		}
		for (unsigned v = 0; ; v++) {
			init_hdr(&rep.hdr, 0);
			rep.nres = 1;
			if (!make_res(&rep.res[0], op, v))
				break;
			int n = dafs_encode_reply(enc, sizeof enc, &rep);
			corpus_add(enc, n, true);
			write_seed(enc, n, true, op, v);
			if (n > 0 && n < 400 && nres < 256)
				res[nres++] = rep.res[0];
		}
	}
	/* Compounds of 2..8 small items, mixed. */
	for (unsigned k = 0; k < 40 && nops && nres; k++) {
		unsigned cnt = 2 + k % 7;
		init_hdr(&req.hdr, k % 2 ? DAFS_HF_CONTINUE : 0);
		req.nops = (uint16_t)cnt;
		for (unsigned i = 0; i < cnt; i++)
			req.ops[i] = ops[(k * 7 + i * 13) % nops];
		/* Credentials with 0..DAFS_GROUPS_MAX groups, so mutations reach them. */
		req.cred.uid = 1000 + k;
		req.cred.gid = 100 + k;
		req.cred.ngroups = (uint16_t)(k * 5 % (DAFS_GROUPS_MAX + 1));
		for (unsigned i = 0; i < req.cred.ngroups; i++)
			req.cred.groups[i] = 2000 + i;
		int n = dafs_encode_request(enc, sizeof enc, &req);
		corpus_add(enc, n, false);
		if (k < 3)     /* compounds of 2, 3 and 4 ops with 0, 5 and 10 groups */
			write_seed_named(enc, n, false, "compound", k);
		init_hdr(&rep.hdr, k % 2 ? DAFS_HF_CONTINUE : 0);
		rep.nres = (uint16_t)cnt;
		for (unsigned i = 0; i < cnt; i++)
			rep.res[i] = res[(k * 5 + i * 11) % nres];
		corpus_add(enc, dafs_encode_reply(enc, sizeof enc, &rep), true);
	}
	/* A refusal, and an empty reply. */
	init_hdr(&rep.hdr, 0);
	rep.hdr.status = EINVAL;
	corpus_add(enc, dafs_encode_reply(enc, sizeof enc, &rep), true);
	init_hdr(&rep.hdr, 0);
	rep.nres = 0;
	corpus_add(enc, dafs_encode_reply(enc, sizeof enc, &rep), true);
}

static int decode_any(const struct frame *f, const uint8_t *p, size_t n)
{
	static struct dafs_compound req;
	static struct dafs_reply rep;
	return f->reply ? dafs_decode_reply(p, n, &rep) : dafs_decode_request(p, n, &req);
}

/* Every truncation of every valid frame fails, whether body_len still says
 * the old length or was fixed to match. */
static void test_truncation(void)
{
	static uint8_t tmp[BIG];
	unsigned long tried = 0, accepted = 0, accepted_fixed = 0, checked_whole = 0;

	for (unsigned i = 0; i < ncorpus; i++) {
		const struct frame *f = &corpus[i];
		checked_whole += decode_any(f, at_tail(f->b, f->n), f->n) == 0;
		for (size_t len = 0; len < f->n; len++) {
			/* Big frames: exact placement only near the ends (a
			 * memmove per length would be quadratic). */
			bool exact = f->n <= 8192 || len < 4096 || len > f->n - 4096;
			const uint8_t *p = exact ? at_tail(f->b, len) : f->b;
			tried++;
			if (decode_any(f, p, len) != -EBADMSG)
				accepted++;
			if (len >= DAFS_HDR_SIZE && exact) {
				memcpy(tmp, f->b, len);
				fix_body_len(tmp, len);
				int rc = decode_any(f, at_tail(tmp, len), len);
				if (rc != -EBADMSG)
					accepted_fixed++;
			}
		}
	}
	CHECK_EQ(checked_whole, ncorpus, "all %u corpus frames decode whole", ncorpus);
	CHECK_EQ(accepted, 0, "every truncation (%lu, of %u frames) fails with -EBADMSG", tried, ncorpus);
	CHECK_EQ(accepted_fixed, 0, "every truncation with body_len fixed up fails with -EBADMSG");
}

/* For every corpus frame and every cap short of its length: -EMSGSIZE and
 * not one byte written at or past cap; at exactly its length, success. */
static void test_encoder_caps(void)
{
	static struct dafs_compound req;
	static struct dafs_reply rep;
	unsigned long tried = 0, bad_rc = 0, overwrote = 0, exact_bad = 0;

	for (unsigned i = 0; i < ncorpus; i++) {
		const struct frame *f = &corpus[i];
		void *msg = f->reply ? (void *)&rep : (void *)&req;
		int rc = decode_any(f, f->b, f->n);
		if (rc)
			continue;
		/* decode_any decoded into its own statics; decode here into ours. */
		rc = f->reply ? dafs_decode_reply(f->b, f->n, &rep) : dafs_decode_request(f->b, f->n, &req);
		if (rc)
			continue;
		size_t step = f->n > 4096 ? f->n / 512 : 1;
		for (size_t cap = 0; cap < f->n; cap += (cap < 128 || cap + 128 > f->n) ? 1 : step) {
			tried++;
			if (!encode_guarded(f->reply, msg, cap, &rc))
				overwrote++;
			if (rc != -EMSGSIZE)
				bad_rc++;
		}
		if (!encode_guarded(f->reply, msg, f->n, &rc) || rc != (int)f->n ||
		    memcmp(gbuf, f->b, f->n) != 0)
			exact_bad++;
	}
	CHECK_EQ(bad_rc, 0, "cap short of the frame: -EMSGSIZE (%lu caps tried)", tried);
	CHECK_EQ(overwrote, 0, "cap short of the frame: nothing written at or past cap");
	CHECK_EQ(exact_bad, 0, "cap exactly the frame's length: the same bytes");

	int rc = dafs_encode_request(NULL, 0, &req);
	CHECK_EQ(rc, -EMSGSIZE, "dafs_encode_request(NULL, 0): -EMSGSIZE");
}

/* ---- random mutation ---------------------------------------------------- */

#define MUTATIONS 300000

/* Where each item (op or result) of a valid frame is. */
struct span {
	size_t len_off, body, body_len;
};

static unsigned item_spans(const uint8_t *b, size_t n, bool reply, struct span *sp)
{
	uint16_t cnt;
	size_t pos = B_ITEMS, hl = reply ? 12 : 8;
	unsigned k;

	if (n < B_ITEMS || (reply && get32(b + H_STATUS) != 0))
		return 0;
	memcpy(&cnt, b + B_COUNT, 2);
	for (k = 0; k < cnt && k < DAFS_COMPOUND_MAX && pos + hl <= n; k++) {
		sp[k].len_off = pos + hl - 4;
		sp[k].body = pos + hl;
		sp[k].body_len = get32(b + sp[k].len_off);
		pos += hl + sp[k].body_len;
	}
	return k;
}

static const uint64_t interesting[] = {
	0, 1, 2, 3, 4, 7, 8, 0x7f, 0x80, 0xff, 0x100, 0xfff, 0x1000, 0x1001, 0x7fff, 0x8000, 0xffff,
	0x10000, DAFS_COMPOUND_MAX, DAFS_COMPOUND_MAX + 1, DAFS_SEGS_MAX, DAFS_SEGS_MAX + 1,
	DAFS_NAME_MAX, DAFS_NAME_MAX + 1, DAFS_NAME_MAX + 2, DAFS_PATH_MAX, DAFS_PATH_MAX + 1,
	DAFS_INLINE_MAX, DAFS_INLINE_MAX + 1, DAFS_IO_MAX, DAFS_IO_MAX + 1, DAFS_MSG_MAX,
	DAFS_MSG_MAX + 1, DAFS_SLOTS_MAX + 1, 4095, 4096, 999999999, 1000000000, 0x7fffffff,
	0x80000000u, 0xffffffffu, 0x100000000ull, INT64_MAX, (uint64_t)INT64_MAX + 1, UINT64_MAX,
	EAGAIN, DAFS_OP_COUNT, DAFS_OP_COUNT - 1, DAFS_HF_ALL, DAFS_HF_ALL + 1, DAFS_O_ALL,
	DAFS_LOCK_NONE, '/',
};

/* Change `m` (length *len, capacity BIG) in place. Returns the change in
 * length, so a caller confining the change to one item can fix its length. */
static long mutate(uint8_t *m, size_t *len, size_t lo, size_t hi)
{
	size_t n = *len, p, k;
	unsigned kind = rndn(7);

	if (hi > n)
		hi = n;
	if (lo > n)
		lo = n;
	if (lo >= hi && kind != 3 && kind != 6)
		kind = 3;
	p = lo + (hi > lo ? rndn((uint32_t)(hi - lo)) : 0);
	switch (kind) {
	case 0:         /* flip a bit */
		m[p] ^= (uint8_t)(1u << rndn(8));
		return 0;
	case 1:         /* overwrite a few bytes */
		for (k = 1 + rndn(4); k && p < hi; k--, p++)
			m[p] = (uint8_t)rnd();
		return 0;
	case 2: {       /* an interesting value, or a small step from what is there */
		static const unsigned widths[] = { 1, 2, 4, 8 };
		unsigned w = widths[rndn(4)];
		uint64_t v = 0;
		if (p + w > hi)
			return 0;
		if (rndn(3)) {
			v = interesting[rndn(sizeof interesting / sizeof interesting[0])];
		} else {
			memcpy(&v, m + p, w);
			v += (uint64_t)(int64_t)((int)rndn(9) - 4);
		}
		memcpy(m + p, &v, w);   /* little-endian: the low bytes */
		return 0;
	}
	case 4:         /* truncate */
		if (rndn(2) && hi > lo) {
			k = 1 + rndn((uint32_t)(hi - p < 16 ? hi - p : 16));
			memmove(m + p, m + p + k, n - p - k);
			*len = n - k;
			return -(long)k;
		}
		*len = p;
		return (long)p - (long)n;
	case 5:         /* duplicate a range */
		if (hi - p < 1)
			return 0;
		k = 1 + rndn((uint32_t)(hi - p < 32 ? hi - p : 32));
		if (n + k > BIG - 64)
			return 0;
		memmove(m + p + k, m + p, n - p);
		*len = n + k;
		return (long)k;
	default:        /* insert random bytes (at the end when lo == hi == n) */
		k = 1 + rndn(16);
		if (kind == 3 && rndn(2))
			p = hi;
		if (n + k > BIG - 64)
			return 0;
		memmove(m + p + k, m + p, n - p);
		for (size_t i = 0; i < k; i++)
			m[p + i] = (uint8_t)(rndn(4) ? rnd() : 0);
		*len = n + k;
		return (long)k;
	}
}

struct mut_stats {
	unsigned long runs, acc_req, acc_rep, both, bad_rc, bad_ptr, bad_reenc, bad_redec,
		wrote_input, hdr_disagrees, by_err[5];
	unsigned long acc_op[DAFS_OP_COUNT];
};

static void note_rc(struct mut_stats *st, int rc, const uint8_t *p, size_t len)
{
	static const int allowed[] = { 0, -EBADMSG, -EPROTONOSUPPORT, -EOPNOTSUPP, -E2BIG };
	for (unsigned i = 0; i < 5; i++)
		if (rc == allowed[i]) {
			st->by_err[i]++;
			return;
		}
	if (st->bad_rc++ < 5)
		printf("#   unexpected rc %d for a %zu-byte frame\n", rc, len);
}

static void test_mutation(void)
{
	static uint8_t m[BIG];
	static struct dafs_compound req, req2;
	static struct dafs_reply rep, rep2;
	static struct span sp[DAFS_COMPOUND_MAX];
	static unsigned small[CORPUS_MAX];
	unsigned nsmall = 0;
	struct mut_stats st;
	struct timespec t0, t1;

	memset(&st, 0, sizeof st);
	for (unsigned i = 0; i < ncorpus; i++)
		if (corpus[i].n <= 4096)
			small[nsmall++] = i;
	CHECK(nsmall > 50, "%u small frames to mutate", nsmall);
	if (!nsmall)
		return;

	rng_state = 0x5eed0fda75ull;
	clock_gettime(CLOCK_MONOTONIC, &t0);
	for (unsigned long it = 0; it < MUTATIONS; it++) {
		const struct frame *f = &corpus[small[rndn(nsmall)]];
		size_t len = f->n;
		memcpy(m, f->b, len);

		unsigned nmut = 1 + (rndn(4) == 0 ? rndn(4) : 0);
		unsigned nitems = item_spans(f->b, f->n, f->reply, sp);
		if (nitems && rndn(2)) {
			/* Inside one item's body, keeping its length right most of the time. */
			struct span *s = &sp[rndn(nitems)];
			long delta = 0;
			for (unsigned j = 0; j < nmut; j++)
				delta += mutate(m, &len, s->body, s->body + (size_t)((long)s->body_len + delta));
			if (rndn(8) && s->len_off + 4 <= len)
				put32(m + s->len_off, (uint32_t)((long)s->body_len + delta));
		} else {
			for (unsigned j = 0; j < nmut; j++)
				mutate(m, &len, 0, len);
		}
		if (rndn(4) && len >= DAFS_HDR_SIZE) {
			/* Keep the header plausible so the body gets looked at. */
			memcpy(m + H_MAGIC, f->b + H_MAGIC, 6);
			fix_body_len(m, len);
		}

		const uint8_t *p = at_tail(m, len);
		struct dafs_hdr h;
		int rq = dafs_decode_request(p, len, &req);
		int rp = dafs_decode_reply(p, len, &rep);
		int rh = dafs_decode_hdr(p, len, &h);
		st.runs++;
		note_rc(&st, rq, p, len);
		note_rc(&st, rp, p, len);
		if (memcmp(p, m, len) != 0)
			st.wrote_input++;
		if (rq == 0 && rp == 0)
			st.both++;
		if ((rq == 0 || rp == 0) && rh != 0)
			st.hdr_disagrees++;
		if (rq == 0) {
			st.acc_req++;
			for (unsigned i = 0; i < req.nops; i++)
				if (req.ops[i].opcode < DAFS_OP_COUNT)
					st.acc_op[req.ops[i].opcode]++;
			if (!req_ptrs_ok(p, len, &req))
				st.bad_ptr++;
			int n2 = dafs_encode_request(enc2, sizeof enc2, &req);
			if (n2 != (int)len || memcmp(enc2, p, len) != 0) {
				if (st.bad_reenc++ < 5)
					printf("#   request re-encodes to %d, not %zu bytes\n", n2, len);
			} else if (dafs_decode_request(at_tail(enc2, (size_t)n2), (size_t)n2, &req2) != 0 ||
				   !eq_req(&req, &req2)) {
				st.bad_redec++;
			}
		}
		if (rp == 0) {
			st.acc_rep++;
			for (unsigned i = 0; i < rep.nres; i++)
				if (rep.res[i].opcode < DAFS_OP_COUNT)
					st.acc_op[rep.res[i].opcode]++;
			if (!rep_ptrs_ok(p, len, &rep))
				st.bad_ptr++;
			int n2 = dafs_encode_reply(enc2, sizeof enc2, &rep);
			if (n2 != (int)len || memcmp(enc2, p, len) != 0) {
				if (st.bad_reenc++ < 5)
					printf("#   reply re-encodes to %d, not %zu bytes\n", n2, len);
			} else if (dafs_decode_reply(at_tail(enc2, (size_t)n2), (size_t)n2, &rep2) != 0 ||
				   !eq_rep(&rep, &rep2)) {
				st.bad_redec++;
			}
		}
	}
	clock_gettime(CLOCK_MONOTONIC, &t1);

	double secs = (double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) / 1e9;
	printf("# mutation: %lu frames in %.2f s; accepted %lu requests, %lu replies\n",
	       st.runs, secs, st.acc_req, st.acc_rep);
	printf("# decoder answers: 0 x%lu, EBADMSG x%lu, EPROTONOSUPPORT x%lu, EOPNOTSUPP x%lu, E2BIG x%lu\n",
	       st.by_err[0], st.by_err[1], st.by_err[2], st.by_err[3], st.by_err[4]);
	unsigned unseen = 0;
	for (unsigned o = 0; o < DAFS_OP_COUNT; o++)
		unseen += st.acc_op[o] == 0;

	CHECK_EQ(st.bad_rc, 0, "%lu mutated frames: every decode returned 0 or a documented errno", st.runs);
	CHECK_EQ(st.wrote_input, 0, "the decoders never wrote to their input");
	CHECK_EQ(st.both, 0, "no frame decoded both as a request and as a reply");
	CHECK_EQ(st.hdr_disagrees, 0, "dafs_decode_hdr accepts every frame a full decoder accepts");
	CHECK_EQ(st.bad_ptr, 0, "every pointer in every decoded struct lies inside the input");
	CHECK_EQ(st.bad_reenc, 0, "every accepted frame re-encodes to the same bytes");
	CHECK_EQ(st.bad_redec, 0, "and decodes again to the same struct");
	CHECK(st.acc_req > MUTATIONS / 50 && st.acc_rep > MUTATIONS / 50 && unseen == 0,
	      "the mutations reach deep: %lu and %lu accepted, every opcode among them", st.acc_req,
	      st.acc_rep);
	CHECK(st.by_err[1] && st.by_err[2] && st.by_err[3] && st.by_err[4],
	      "the mutations provoke every decoder error");
}

int main(void)
{
	tail_block = malloc(BIG);
	if (!tail_block)
		return 99;
	init_samples();
	build_dirents();

	test_names_and_hdr();
	test_roundtrip_single();
	test_roundtrip_compound();
	test_chaining();
	test_batch();
	test_special_replies();
	test_readdir_reply();

	test_bad_headers();
	test_cred();
	test_msg_max();
	test_bad_strings();
	test_bad_io();
	test_bad_enums();
	test_bad_results();
	test_bad_dirents();
	test_bad_xattr();

	test_encoder_einval();
	build_corpus();
	test_truncation();
	test_encoder_caps();
	test_mutation();

	corpus_free();
	free(tail_block);
	return check_done();
}
