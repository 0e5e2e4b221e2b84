/* direct.c — direct reads: large reads into the caller's own buffer,
 * registered through regcache.c, around the page cache. */
#include <errno.h>

#include "client.h"

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

ssize_t client_read_direct(struct dafs_file *f, void *buf, size_t len, off_t off)
{
	if (!direct_read_fits(f, len, off))
		return -ENOBUFS;
	return direct_read(f, buf, len, off);
}
