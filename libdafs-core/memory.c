/* memory.c — memory the server transfers to and from: the caller's regions
 * registered with dafs_mem_register, the session's bounce chunks for buffers
 * in no region, and the segments of a transfer built from either. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "client.h"

void bounce_put(struct dafs_req *req)
{
	if (req->nbounce)
		assert_session_locked(req->s);
	for (unsigned i = 0; i < req->nbounce; i++)
		req->s->bounce_used &= ~(UINT64_C(1) << req->bounce[i]);
	req->nbounce = 0;
}

/* Tells the server that it may (or may no longer) transfer to and from a
 * registered region: it refuses segments outside the regions it was told. */
int client_region_op(struct dafs_session *s, uint16_t opcode, const struct dafs_mr *mr)
{
	struct dafs_op op = { .opcode = opcode,
			      .a.region = { mr->remote_base, mr->len, mr->key } };

	return (int)client_run_one(s, &op, client_finish_status, REQ_OUT_NONE, 0);
}

int dafs_mem_register(struct dafs_session *s, void *buf, size_t len, struct dafs_mem **out)
{
	struct dafs_mem *m = calloc(1, sizeof(*m));
	int rc;

	if (!m)
		return -ENOMEM;
	if (!buf || !len) {
		free(m);
		return -EINVAL;
	}
	pthread_mutex_lock(&s->lock);
	rc = dafs_fabric_mr_reg(s->fab, buf, len,
				DAFS_MR_LOCAL | DAFS_MR_REMOTE_READ | DAFS_MR_REMOTE_WRITE, &m->mr);
	pthread_mutex_unlock(&s->lock);
	if (rc == 0) {
		rc = client_region_op(s, DAFS_OP_REGISTER, &m->mr);
		if (rc)
			dafs_fabric_mr_dereg(&m->mr);
	}
	if (rc) {
		free(m);
		return rc;
	}
	m->s = s;
	pthread_mutex_lock(&s->lock);
	m->next = s->mems;
	s->mems = m;
	pthread_mutex_unlock(&s->lock);
	*out = m;
	return 0;
}

int dafs_mem_deregister(struct dafs_mem *m)
{
	struct dafs_session *s = m->s;
	bool server_gone;
	int rc;

	pthread_mutex_lock(&s->lock);
	for (struct dafs_mem **p = &s->mems; *p; p = &(*p)->next) {
		if (*p == m) {
			*p = m->next;
			break;
		}
	}
	server_gone = s->dead || s->closing;
	pthread_mutex_unlock(&s->lock);
	/* The server forgets the region before the memory stops being
	 * registered; a dead server has forgotten it already. */
	if (!server_gone)
		client_region_op(s, DAFS_OP_UNREGISTER, &m->mr);
	pthread_mutex_lock(&s->lock);
	rc = dafs_fabric_mr_dereg(&m->mr);
	pthread_mutex_unlock(&s->lock);
	free(m);
	return rc;
}

void *bounce_addr(struct dafs_session *s, unsigned chunk)
{
	return (char *)s->bounce + (size_t)chunk * CLIENT_BOUNCE_CHUNK;
}

int bounce_get(struct dafs_req *req, size_t len)
{
	struct dafs_session *s = req->s;
	unsigned need = (unsigned)((len + CLIENT_BOUNCE_CHUNK - 1) / CLIENT_BOUNCE_CHUNK);
	unsigned want = req->nbounce + need;

	assert_session_locked(s);
	if (need > DAFS_SEGS_MAX || want > CLIENT_BOUNCE_CHUNKS)
		return -E2BIG;
	/* Waiting while holding chunks could deadlock two requests that each
	 * wait for the other's: a request takes all it needs at once. */
	while ((unsigned)__builtin_popcountll(~s->bounce_used) < need) {
		if (s->dead)
			return s->dead;
		if (req->nbounce)
			return -E2BIG;
		client_progress(s, 10);
	}
	for (unsigned i = 0; i < CLIENT_BOUNCE_CHUNKS && req->nbounce < want; i++) {
		if (!(s->bounce_used & (UINT64_C(1) << i))) {
			s->bounce_used |= UINT64_C(1) << i;
			req->bounce[req->nbounce++] = (uint8_t)i;
		}
	}
	return 0;
}

static struct dafs_mem *registered(struct dafs_session *s, const void *buf, size_t len)
{
	for (struct dafs_mem *m = s->mems; m; m = m->next) {
		const char *base = m->mr.base;
		if ((const char *)buf >= base && len <= m->mr.len &&
		    (size_t)((const char *)buf - base) <= m->mr.len - len)
			return m;
	}
	return NULL;
}

int client_segments(struct dafs_req *req, void *buf, size_t len, bool to_server,
		    struct dafs_args_io *io)
{
	struct dafs_session *s = req->s;
	struct dafs_mem *m = registered(s, buf, len);
	unsigned first;
	int rc;

	assert_session_locked(s);
	io->len = (uint32_t)len;
	if (m) {
		io->nsegs = 1;
		io->segs[0] = (struct dafs_seg){
			.addr = m->mr.remote_base + (uint64_t)((char *)buf - (char *)m->mr.base),
			.key = m->mr.key, .len = (uint32_t)len,
		};
		return 0;
	}
	first = req->nbounce;
	rc = bounce_get(req, len);
	if (rc)
		return rc;
	io->nsegs = (uint16_t)(req->nbounce - first);
	for (unsigned i = 0; i < io->nsegs; i++) {
		size_t off = (size_t)i * CLIENT_BOUNCE_CHUNK;
		size_t n = len - off < CLIENT_BOUNCE_CHUNK ? len - off : CLIENT_BOUNCE_CHUNK;
		char *chunk = bounce_addr(s, req->bounce[first + i]);
		if (to_server)
			memcpy(chunk, (char *)buf + off, n);
		io->segs[i] = (struct dafs_seg){
			.addr = s->bounce_mr.remote_base + (uint64_t)(chunk - (char *)s->bounce),
			.key = s->bounce_mr.key, .len = (uint32_t)n,
		};
	}
	req->user_buf = buf;
	return 0;
}

void client_copy_chunks(struct dafs_req *req, unsigned first, void *dst, size_t len)
{
	for (unsigned i = first; i < req->nbounce && len; i++) {
		size_t n = len < CLIENT_BOUNCE_CHUNK ? len : CLIENT_BOUNCE_CHUNK;
		memcpy((char *)dst + (size_t)(i - first) * CLIENT_BOUNCE_CHUNK,
		       bounce_addr(req->s, req->bounce[i]), n);
		len -= n;
	}
}
