/* batch.c — compounds the caller builds: batch I/O (dafs_batch) and the
 * chained open-and-read (dafs_open_read). */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "client.h"

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
	file_opened(f, req, &rep->res[1].r.handle.attr);
	*req->out.opened = f;
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
	if (!rq || !req_new(s, NULL, NULL, &req, finish_open_read) ||
	    !(req->path = strdup(path))) {
		if (req)
			req_free(req);
		compound_free(rq);
		return -ENOMEM;
	}
	*out = NULL;
	req->out.opened = out;
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
