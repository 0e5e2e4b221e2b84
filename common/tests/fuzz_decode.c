/* fuzz_decode.c — libFuzzer target for the frame decoders (proto.c).
 *
 * Each input is decoded as a request, as a reply and as a bare header. Any
 * return other than 0 or a documented errno aborts. A frame that decodes is
 * checked further: every pointer in the decoded struct lies inside the input,
 * readdir entries walk cleanly and agree with their count, and re-encoding
 * the struct gives back exactly the input's bytes, which decode again. The
 * input is also tried with its header repaired (magic, version, body_len) so
 * that mutations reach the bodies, and walked as raw directory entries.
 * The set-up messages of keyed sessions (auth.h) are followed further: a
 * SESSION_OPEN's hello is decoded and must re-encode to its bytes, and every
 * input is offered to dafs_mac_open as a sealed frame.
 *
 *   clang ... -fsanitize=fuzzer,address,undefined common/tests/fuzz_decode.c common/proto.c \
 *     common/auth.c -lsodium
 *   build/fuzz_decode -max_len=70000 build/fuzz-corpus common/tests/fuzz-seeds
 */
#include "auth.h"
#include "proto.h"

#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define BUG(...) do {                                                      \
	fprintf(stderr, "fuzz_decode: %s:%d: ", __FILE__, __LINE__);       \
	fprintf(stderr, __VA_ARGS__);                                      \
	fprintf(stderr, "\n");                                             \
	abort();                                                           \
} while (0)

static void check_rc(int rc, const char *what)
{
	if (rc != 0 && rc != -EBADMSG && rc != -EPROTONOSUPPORT && rc != -EOPNOTSUPP && rc != -E2BIG)
		BUG("%s returned %d, not 0 or a documented errno", what, rc);
}

static void check_span(const uint8_t *base, size_t len, const void *p, size_t n, const char *what)
{
	uintptr_t b = (uintptr_t)base, q = (uintptr_t)p;

	if (!p) {
		if (n)
			BUG("%s: NULL with length %zu", what, n);
		return;
	}
	if (q < b || q > b + len || n > b + len - q)
		BUG("%s: %zu bytes at %p, outside the input [%p, +%zu)", what, n, p, (const void *)base, len);
}

static void check_str(const uint8_t *base, size_t len, const char *s, size_t max, const char *what)
{
	uintptr_t b = (uintptr_t)base, q = (uintptr_t)s;
	const char *nul;

	if (!s || q < b || q >= b + len)
		BUG("%s: string %p outside the input", what, (const void *)s);
	nul = memchr(s, '\0', b + len - q);
	if (!nul)
		BUG("%s: string without NUL inside the input", what);
	if ((size_t)(nul - s) + 1 > max)
		BUG("%s: string of %zu bytes over its limit %zu", what, (size_t)(nul - s) + 1, max);
}

/* Walk directory entries; returns how many, aborts on anything odd. With
 * `strict`, a malformed entry is a bug (the decoder already walked them). */
static uint32_t walk_dirents(const void *entries, size_t len, int strict)
{
	static uint8_t out[512];
	struct dafs_dirent e;
	size_t pos = 0, prev;
	uint32_t n = 0;
	int rc;

	for (;;) {
		prev = pos;
		rc = dafs_dirent_next(entries, len, &pos, &e);
		if (rc != 1)
			break;
		if (pos <= prev || pos > len)
			BUG("dafs_dirent_next moved from %zu to %zu of %zu", prev, pos, len);
		check_str(entries, len, e.name, DAFS_NAME_MAX + 1, "dirent name");
		if (!e.name[0] || strchr(e.name, '/'))
			BUG("dafs_dirent_next handed out a bad name \"%s\"", e.name);
		/* The entry re-encodes to the same bytes. */
		int w = dafs_dirent_put(out, sizeof out, 0, &e);
		if (w < 0 || (size_t)w != pos - prev ||
		    memcmp(out, (const uint8_t *)entries + prev, (size_t)w) != 0)
			BUG("a directory entry re-encodes to %d bytes, not the %zu it came from", w, pos - prev);
		n++;
	}
	if (rc == 0 && pos < len)
		BUG("dafs_dirent_next ended at %zu of %zu", pos, len);
	if (rc != 0 && rc != -EBADMSG)
		BUG("dafs_dirent_next returned %d", rc);
	if (rc != 0 && strict)
		BUG("entries the decoder accepted do not walk: %d", rc);
	if (rc == -EBADMSG && pos != prev)
		BUG("dafs_dirent_next moved pos on failure");
	return n;
}

/* A keyed SESSION_OPEN's hello: decodes strictly, and what decodes
 * re-encodes to the same bytes. */
static void check_hello(const void *auth, uint32_t len)
{
	struct dafs_auth_hello h;
	uint8_t out[DAFS_AUTH_MAX];
	int rc = dafs_auth_hello_decode(auth, len, &h), n;

	if (rc != 0 && rc != -EBADMSG)
		BUG("dafs_auth_hello_decode returned %d", rc);
	if (rc)
		return;
	if (!h.name[0] || strlen(h.name) > DAFS_KEY_NAME_MAX)
		BUG("a hello decoded with a name of %zu bytes", strlen(h.name));
	n = dafs_auth_hello_encode(&h, out, sizeof(out));
	if (n < 0 || (uint32_t)n != len || memcmp(out, auth, len) != 0)
		BUG("a decoded hello re-encodes to %d bytes, not its %u", n, len);
}

/* Any bytes as a sealed frame of a session: refused, or opened and then no
 * longer sealed; a refusal leaves the window as it was. */
static void check_mac_open(const uint8_t *data, size_t size)
{
	static struct dafs_mac mac;
	static uint8_t copy[DAFS_MSG_MAX];
	struct dafs_mac before;
	size_t out = 0;
	int rc;

	if (size > sizeof(copy))
		return;
	memcpy(copy, data, size);
	before = mac;
	rc = dafs_mac_open(&mac, copy, size, &out);
	if (rc != 0 && rc != -EBADMSG && rc != -EALREADY)
		BUG("dafs_mac_open returned %d", rc);
	if (rc && memcmp(&before, &mac, sizeof(mac)) != 0)
		BUG("a refused frame moved the replay window");
	if (rc == 0 && (out + DAFS_MAC_TRAILER != size || (copy[6] & DAFS_HF_MAC)))
		BUG("an opened frame of %zu bytes says %zu, flag %d", size, out, copy[6] & DAFS_HF_MAC);
}

static void check_request(const uint8_t *buf, size_t len, const struct dafs_compound *req)
{
	if (req->nops < 1 || req->nops > DAFS_COMPOUND_MAX)
		BUG("decoded request with %u ops", req->nops);
	for (unsigned i = 0; i < req->nops; i++) {
		const struct dafs_op *op = &req->ops[i];
		if (op->opcode >= DAFS_OP_COUNT || !dafs_opcode_name(op->opcode))
			BUG("decoded opcode %u", op->opcode);
		switch (op->opcode) {
		case DAFS_OP_CONNECT:
			check_span(buf, len, op->a.connect.addr, op->a.connect.addr_len, "CONNECT addr");
			break;
		case DAFS_OP_SESSION_OPEN:
			check_str(buf, len, op->a.session_open.name, 256, "SESSION_OPEN name");
			check_span(buf, len, op->a.session_open.addr, op->a.session_open.addr_len,
				   "SESSION_OPEN addr");
			check_span(buf, len, op->a.session_open.auth, op->a.session_open.auth_len,
				   "SESSION_OPEN auth");
			check_hello(op->a.session_open.auth, op->a.session_open.auth_len);
			break;
		case DAFS_OP_OPEN:
		case DAFS_OP_LOOKUP:
		case DAFS_OP_GETATTR:
			check_str(buf, len, op->a.open.path, DAFS_PATH_MAX, "path");
			break;
		case DAFS_OP_SETATTR:
			check_str(buf, len, op->a.setattr.path, DAFS_PATH_MAX, "SETATTR path");
			break;
		case DAFS_OP_READ:
		case DAFS_OP_WRITE: {
			const struct dafs_args_io *io = &op->a.io;
			uint64_t total = 0;
			if (io->nsegs > DAFS_SEGS_MAX || io->len > DAFS_IO_MAX)
				BUG("io with %u segments, %u bytes", io->nsegs, io->len);
			for (unsigned s = 0; s < io->nsegs; s++)
				total += io->segs[s].len;
			if (io->nsegs && total != io->len)
				BUG("segments sum to %llu, not %u", (unsigned long long)total, io->len);
			if (io->nsegs || op->opcode == DAFS_OP_READ) {
				if (io->data)
					BUG("io data without inline data");
			} else {
				if (io->len > DAFS_INLINE_MAX)
					BUG("inline io of %u bytes", io->len);
				check_span(buf, len, io->data, io->len, "WRITE data");
			}
			break;
		}
		case DAFS_OP_MKDIR:
		case DAFS_OP_RMDIR:
		case DAFS_OP_REMOVE:
		case DAFS_OP_READLINK:
			check_str(buf, len, op->a.path.path, DAFS_PATH_MAX, "path");
			break;
		case DAFS_OP_MKNOD:
			check_str(buf, len, op->a.mknod.path, DAFS_PATH_MAX, "MKNOD path");
			break;
		case DAFS_OP_RENAME:
		case DAFS_OP_LINK:
		case DAFS_OP_SYMLINK:
			check_str(buf, len, op->a.two.path1, DAFS_PATH_MAX, "path1");
			check_str(buf, len, op->a.two.path2, DAFS_PATH_MAX, "path2");
			break;
		case DAFS_OP_GETXATTR:
		case DAFS_OP_SETXATTR:
		case DAFS_OP_LISTXATTR:
		case DAFS_OP_REMOVEXATTR: {
			const struct dafs_args_xattr *x = &op->a.xattr;
			check_str(buf, len, x->path, DAFS_PATH_MAX, "xattr path");
			if (op->opcode != DAFS_OP_LISTXATTR)
				check_str(buf, len, x->name, DAFS_XATTR_NAME_MAX + 1, "xattr name");
			else if (x->name)
				BUG("LISTXATTR with a name");
			if (x->size > DAFS_XATTR_SIZE_MAX || x->value_len > DAFS_XATTR_SIZE_MAX)
				BUG("xattr size %u, value %u", x->size, x->value_len);
			check_span(buf, len, x->value, x->value_len, "SETXATTR value");
			break;
		}
		}
	}
}

static void check_reply(const uint8_t *buf, size_t len, const struct dafs_reply *rep)
{
	if (rep->nres > DAFS_COMPOUND_MAX || (rep->hdr.status && rep->nres))
		BUG("decoded reply with %u results, status %d", rep->nres, rep->hdr.status);
	for (unsigned i = 0; i < rep->nres; i++) {
		const struct dafs_result *r = &rep->res[i];
		if (r->opcode >= DAFS_OP_COUNT || r->status < 0 || r->status >= 4096)
			BUG("decoded result opcode %u status %d", r->opcode, r->status);
		if (r->status)
			continue;
		switch (r->opcode) {
		case DAFS_OP_CONNECT:
			check_span(buf, len, r->r.connect.addr, r->r.connect.addr_len, "CONNECT addr");
			check_span(buf, len, r->r.connect.nonce, r->r.connect.nonce_len, "CONNECT nonce");
			break;
		case DAFS_OP_SESSION_OPEN:
			check_span(buf, len, r->r.session_open.auth, r->r.session_open.auth_len,
				   "SESSION_OPEN proof");
			break;
		case DAFS_OP_READ:
			if (r->r.read.data) {
				if (!r->r.read.count || r->r.read.count > DAFS_INLINE_MAX)
					BUG("inline read data of %u bytes", r->r.read.count);
				check_span(buf, len, r->r.read.data, r->r.read.count, "READ data");
			}
			break;
		case DAFS_OP_READDIR: {
			const struct dafs_res_readdir *d = &r->r.readdir;
			check_span(buf, len, d->entries, d->entries_len, "READDIR entries");
			uint32_t n = walk_dirents(d->entries, d->entries_len, 1);
			if (n != d->count)
				BUG("READDIR count %u, %u entries", d->count, n);
			break;
		}
		case DAFS_OP_READLINK:
			check_str(buf, len, r->r.readlink.target, DAFS_PATH_MAX, "READLINK target");
			break;
		case DAFS_OP_GETXATTR:
		case DAFS_OP_LISTXATTR:
			if (r->r.xattr.value_len && r->r.xattr.value_len != r->r.xattr.size)
				BUG("xattr value of %u bytes, size %u", r->r.xattr.value_len,
				    r->r.xattr.size);
			check_span(buf, len, r->r.xattr.value, r->r.xattr.value_len, "xattr value");
			break;
		}
	}
}

/* Decode `buf` every way; re-encode whatever decodes. */
static void one(const uint8_t *buf, size_t len)
{
	static struct dafs_compound req, req2;
	static struct dafs_reply rep, rep2;
	static uint8_t out[DAFS_MSG_MAX + 16];
	struct dafs_hdr h;
	int rq, rp, rh, n;

	rq = dafs_decode_request(buf, len, &req);
	check_rc(rq, "dafs_decode_request");
	rp = dafs_decode_reply(buf, len, &rep);
	check_rc(rp, "dafs_decode_reply");
	rh = dafs_decode_hdr(buf, len, &h);
	check_rc(rh, "dafs_decode_hdr");
	if (rq == 0 && rp == 0)
		BUG("a frame decodes both as a request and as a reply");
	if ((rq == 0 || rp == 0) && rh != 0)
		BUG("dafs_decode_hdr refuses (%d) a frame a full decoder accepts", rh);
	if (rh == 0 && (h.magic != DAFS_MAGIC || h.version != DAFS_VERSION ||
			h.body_len != len - DAFS_HDR_SIZE -
				      (h.flags & DAFS_HF_MAC ? DAFS_MAC_TRAILER : 0) ||
			(h.flags & ~DAFS_HF_ALL)))
		BUG("dafs_decode_hdr accepted a bad header");

	if (rq == 0) {
		check_request(buf, len, &req);
		n = dafs_encode_request(out, sizeof out, &req);
		if (n < 0 || (size_t)n != len)
			BUG("a decoded request re-encodes to %d bytes, not %zu", n, len);
		if (memcmp(out, buf, len) != 0)
			BUG("a decoded request re-encodes to different bytes");
		if (dafs_decode_request(out, (size_t)n, &req2) != 0 || req2.nops != req.nops)
			BUG("a re-encoded request does not decode again");
		/* Too small a buffer is refused, never overrun. */
		if (dafs_encode_request(out, len - 1, &req) != -EMSGSIZE)
			BUG("encoding into len - 1 bytes did not say -EMSGSIZE");
	}
	if (rp == 0) {
		check_reply(buf, len, &rep);
		n = dafs_encode_reply(out, sizeof out, &rep);
		if (n < 0 || (size_t)n != len)
			BUG("a decoded reply re-encodes to %d bytes, not %zu", n, len);
		if (memcmp(out, buf, len) != 0)
			BUG("a decoded reply re-encodes to different bytes");
		if (dafs_decode_reply(out, (size_t)n, &rep2) != 0 || rep2.nres != rep.nres)
			BUG("a re-encoded reply does not decode again");
		if (dafs_encode_reply(out, len - 1, &rep) != -EMSGSIZE)
			BUG("encoding into len - 1 bytes did not say -EMSGSIZE");
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static int sodium_ready;

	if (!sodium_ready++ && dafs_auth_init() != 0)
		BUG("libsodium does not start");
	/* As given (libFuzzer's buffer is exactly `size` bytes on the heap, so
	 * AddressSanitizer sees any read past the end). */
	one(data, size);

	/* The same bytes with a header that passes, so mutations of the body
	 * are looked at even when they changed the length. */
	if (size >= DAFS_HDR_SIZE && size <= DAFS_MSG_MAX) {
		uint8_t *copy = malloc(size);
		uint32_t magic = DAFS_MAGIC, body_len = (uint32_t)(size - DAFS_HDR_SIZE);
		uint16_t version = DAFS_VERSION;
		if (!copy)
			return 0;
		memcpy(copy, data, size);
		memcpy(copy + 0, &magic, 4);
		memcpy(copy + 4, &version, 2);
		memcpy(copy + 20, &body_len, 4);
		if (memcmp(copy, data, size) != 0)
			one(copy, size);
		free(copy);
	}

	/* The bytes as a run of directory entries, and as a sealed frame. */
	walk_dirents(size ? data : NULL, size, 0);
	check_mac_open(data, size);
	return 0;
}
