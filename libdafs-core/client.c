/* client.c — the client's session and request engine: connecting, the slot
 * table, sending requests and matching replies, progress, liveness (pings,
 * the dead-server timeout, lease renewal), completion groups, registered
 * memory and bounce buffers.
 *
 * One mutex guards a session. Progress is made by whichever thread waits:
 * it reads the completion queue under the lock and blocks on the fabric's
 * wait object without it, so other threads can submit meanwhile.
 */
#include <errno.h>
#include <poll.h>
#include <sched.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

#include "client.h"

uint64_t client_now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

uint64_t client_now_ms(void)
{
	return client_now_ns() / 1000000;
}

/* Requests are 27 KB (room for a full compound) and every call needs one
 * for a moment: a few are kept for reuse rather than calloc'ed and zeroed
 * each time. Callers fill each op they use whole, so only the header, the
 * count and the first ops are cleared. */
#define REQUEST_SPARES      16
#define REQUEST_OPS_CLEARED 8

static pthread_mutex_t spare_lock = PTHREAD_MUTEX_INITIALIZER;
static struct dafs_compound *spare_requests[REQUEST_SPARES];
static unsigned nspare_requests;

struct dafs_compound *compound_alloc(void)
{
	struct dafs_compound *rq = NULL;

	pthread_mutex_lock(&spare_lock);
	if (nspare_requests)
		rq = spare_requests[--nspare_requests];
	pthread_mutex_unlock(&spare_lock);
	if (!rq)
		return calloc(1, sizeof(struct dafs_compound));
	memset(rq, 0, offsetof(struct dafs_compound, ops) +
		      REQUEST_OPS_CLEARED * sizeof(rq->ops[0]));
	return rq;
}

void compound_free(struct dafs_compound *rq)
{
	if (!rq)
		return;
	pthread_mutex_lock(&spare_lock);
	if (nspare_requests < REQUEST_SPARES) {
		spare_requests[nspare_requests++] = rq;
		rq = NULL;
	}
	pthread_mutex_unlock(&spare_lock);
	free(rq);
}

/* ---- Requests ---------------------------------------------------------- */

/* A request of s, not yet sent: no slot, no group. */
static struct dafs_req *req_alloc(struct dafs_session *s, req_finish_fn finish)
{
	struct dafs_req *req = calloc(1, sizeof(*req));

	if (!req)
		return NULL;
	req->s = s;
	req->finish = finish;
	req->slot = -1;
	return req;
}

struct dafs_req *req_new(struct dafs_session *s, struct dafs_cg *cg, void *user,
			 struct dafs_req **req_out, req_finish_fn finish)
{
	struct dafs_req *req;

	if (!cg && !req_out)
		return NULL;
	req = req_alloc(s, finish);
	if (!req)
		return NULL;
	req->cg = cg;
	req->user = user;
	req->standalone = req_out != NULL;
	if (req_out)
		*req_out = req;
	return req;
}

struct dafs_req *req_new_internal(struct dafs_session *s, req_finish_fn finish)
{
	struct dafs_req *req = req_alloc(s, finish);

	if (req)
		req->internal = true;
	return req;
}

static void bounce_put(struct dafs_req *req)
{
	if (req->nbounce)
		assert_session_locked(req->s);
	for (unsigned i = 0; i < req->nbounce; i++)
		req->s->bounce_used &= ~(UINT64_C(1) << req->bounce[i]);
	req->nbounce = 0;
}

void req_free(struct dafs_req *req)
{
	bounce_put(req);
	free(req);
}

/* The request is over: its result is final and its resources go back. */
static void req_complete(struct dafs_req *req, ssize_t result)
{
	struct dafs_session *s = req->s;

	req->result = result;
	req->done = true;
	stats_request_done(s, req);
	bounce_put(req);
	if (req->slot >= 0) {
		s->slots[req->slot].req = NULL;
		s->slots_used--;
		req->slot = -1;
	}
	if (!req->noslot)
		s->outstanding--;
	if (req->cg && !req->standalone) {
		struct dafs_cg *cg = req->cg;
		req->next_done = NULL;
		if (cg->done_tail)
			cg->done_tail->next_done = req;
		else
			cg->done_head = req;
		cg->done_tail = req;
	}
	if (req->internal)
		req_free(req);
}

static void fail_all(struct dafs_session *s, int err)
{
	s->dead = err;
	for (unsigned i = 0; i < s->credits; i++) {
		struct dafs_req *req = s->slots[i].req;
		if (req) {
			req->result = err;
			req_complete(req, req->finish ? req->finish(req, NULL) : err);
		}
	}
	if (s->boot_req) {
		struct dafs_req *req = s->boot_req;
		s->boot_req = NULL;
		req->result = err;
		req_complete(req, err);
	}
}

static void handle_reply(struct dafs_session *s, const void *frame, size_t len)
{
	/* Replies are handled one at a time, with the session locked. */
	struct dafs_reply *rep = s->reply;
	struct dafs_req *req = NULL;
	int rc;

	rc = dafs_decode_reply(frame, len, rep);
	if (rc) {
		/* A reply we cannot read cannot be matched either; the request
		 * it answered times out. */
		fprintf(stderr, "libdafs: dropped a malformed reply: %s\n", strerror(-rc));
		return;
	}
	s->last_rx_ms = client_now_ms();
	if (rep->hdr.flags & DAFS_HF_NOSLOT) {
		req = s->boot_req;
		s->boot_req = NULL;
	} else if (rep->hdr.slot < s->credits && s->slots[rep->hdr.slot].req &&
		   s->slots[rep->hdr.slot].seq == rep->hdr.seq) {
		req = s->slots[rep->hdr.slot].req;
	}
	if (req) {
		ssize_t result;
		if (rep->hdr.status) {
			req->result = -rep->hdr.status;
			result = req->finish ? req->finish(req, NULL) : -rep->hdr.status;
		} else {
			result = req->finish ? req->finish(req, rep) : 0;
		}
		req_complete(req, result);
	}
}

/* Something is owed to us by the server: a reply, or a send completion. */
static bool pending(const struct dafs_session *s)
{
	return s->outstanding || s->boot_req || s->sends_busy;
}

static void set_send_busy(struct dafs_session *s, struct msgbuf *m, bool busy)
{
	if (m->busy != busy)
		s->sends_busy += busy ? 1 : -1;
	m->busy = busy;
}

/* The error requests fail with when the server stops answering: before the
 * session exists nobody is listening at the address; after, it died. */
static int dead_error(const struct dafs_session *s)
{
	return s->id ? -EIO : -ECONNREFUSED;
}

static int post_recv(struct dafs_session *s, struct msgbuf *m)
{
	int rc = dafs_fabric_post_recv(s->fab, m->buf, DAFS_MSG_MAX, s->msg_mr.desc, &m->ctx);

	m->busy = rc == 0;
	return rc;
}

static void handle_completion(struct dafs_session *s, struct dafs_completion *c)
{
	struct msgbuf *m;

	/* What completed is told by which buffer it was, not by the entry's
	 * flags: providers leave the flags of error entries unset. */
	if (!c->ctx)
		return;
	m = c->ctx->owner;
	if (m >= s->recvs && m < s->recvs + s->nrecvs) {
		m->busy = false;
		if (c->status == 0)
			handle_reply(s, m->buf, c->len);
		if (!s->dead)
			post_recv(s, m);
	} else if (m >= s->sends && m <= s->sends + s->credits) {
		set_send_busy(s, m, false);
		if (c->status && !s->dead)
			fail_all(s, dead_error(s));
	}
}

static void repost_recvs(struct dafs_session *s)
{
	for (unsigned i = 0; i < s->nrecvs; i++)
		if (!s->recvs[i].busy)
			post_recv(s, &s->recvs[i]);
}

static void send_ping(struct dafs_session *s)
{
	struct msgbuf *m = &s->sends[s->credits];
	struct dafs_compound *rq;
	int len;

	if (m->busy || !s->id)
		return;
	rq = compound_alloc();
	if (!rq)
		return;
	rq->hdr.session = s->id;
	rq->hdr.flags = DAFS_HF_NOSLOT;
	rq->nops = 1;
	rq->ops[0].opcode = DAFS_OP_NULL;
	len = dafs_encode_request(m->buf, DAFS_MSG_MAX, rq);
	compound_free(rq);
	if (len > 0 && dafs_fabric_send(s->fab, s->server, m->buf, (size_t)len,
					s->msg_mr.desc, &m->ctx) == 0) {
		if (!pending(s))
			s->pending_since_ms = client_now_ms();
		set_send_busy(s, m, true);
		s->last_ping_ms = s->last_tx_ms = client_now_ms();
	}
}

/* The nap of a transport with no wait object, a millisecond at most, cut
 * short when the server rings our bell with a slow request's reply. */
static void nap_on_bell(struct dafs_session *s)
{
	struct pollfd p = { .fd = s->own_bell.fd, .events = POLLIN };

	if (poll(&p, 1, 1) > 0)
		dafs_bell_drain(&s->own_bell);
}

void client_progress(struct dafs_session *s, int timeout_ms)
{
	struct dafs_completion comps[16];
	uint64_t now, last_activity;
	int n;

	assert_session_locked(s);
	n = dafs_fabric_poll(s->fab, comps, 16);
	for (int i = 0; i < n; i++)
		handle_completion(s, &comps[i]);
	repost_recvs(s);
	now = client_now_ms();
	if (n > 0)
		s->last_completion_ms = now;
	if (n > 0 || s->dead)
		return;
	if (n < 0) {
		fail_all(s, dead_error(s));
		return;
	}
	if (pending(s) && timeout_ms != 0) {
		/* Silence while somebody waits: ping, and give up once the server
		 * has said nothing at all for the timeout since we began to wait. */
		uint64_t quiet_since = s->last_rx_ms > s->pending_since_ms ? s->last_rx_ms :
					s->pending_since_ms;
		if (now - quiet_since > (uint64_t)s->timeout_ms) {
			fail_all(s, dead_error(s));
			return;
		}
		if (now - quiet_since > CLIENT_PING_MS && now - s->last_ping_ms > CLIENT_PING_MS)
			send_ping(s);
	}
	if (timeout_ms == 0)
		return;
	/* Replies come within microseconds on shm, which has no wait object to
	 * block on: yield rather than sleep for a while after the last
	 * completion or send, then block (or sleep) to leave the CPU alone. A
	 * request sent after the program computed for a while must not start
	 * with a nap: it measured 789 1-ms naps in a 3 s PostMark run. */
	last_activity = s->last_completion_ms > s->last_tx_ms ? s->last_completion_ms :
			s->last_tx_ms;     /* read before the lock goes */
	pthread_mutex_unlock(&s->lock);
	if (now - last_activity < CLIENT_SPIN_MS && dafs_fabric_wait_fd(s->fab) < 0)
		sched_yield();
	else if (s->own_bell.fd >= 0)
		nap_on_bell(s);
	else
		dafs_fabric_wait(s->fab, timeout_ms < 0 || timeout_ms > 100 ? 100 : timeout_ms);
	pthread_mutex_lock(&s->lock);
}

static int free_slot(struct dafs_session *s)
{
	for (unsigned i = 0; i < s->credits; i++)
		if (!s->slots[i].req && !s->sends[i].busy)
			return (int)i;
	return -1;
}

static int send_frame(struct dafs_session *s, struct msgbuf *m, size_t len)
{
	uint64_t start = client_now_ms();
	int rc;

	if (!pending(s))
		s->pending_since_ms = start;
	/* rxm answers -EAGAIN while a connection forms, shm while the peer's
	 * queue is full; only reading the CQ moves them on. A peer that never
	 * takes the message is as dead as one that never answers. */
	while ((rc = dafs_fabric_send(s->fab, s->server, m->buf, len, s->msg_mr.desc,
				      &m->ctx)) == -EAGAIN) {
		client_progress(s, 1);
		if (s->dead)
			return s->dead;
		if (client_now_ms() - start > (uint64_t)s->timeout_ms) {
			fail_all(s, dead_error(s));
			return s->dead;
		}
	}
	if (rc == 0) {
		set_send_busy(s, m, true);
		m->sends++;
		m->len = len;
		s->last_tx_ms = client_now_ms();
		/* The server spins for 2 ms after its last work, then naps: a
		 * client that heard nothing from it for a millisecond or more
		 * may find it asleep (what another client keeps it doing, we
		 * cannot know; a needless ring costs one datagram). */
		if (s->last_tx_ms - s->last_rx_ms >= 1)
			dafs_bell_ring(&s->own_bell, &s->bell);
	}
	return rc;
}

static int submit_locked(struct dafs_req *req, struct dafs_compound *rq)
{
	struct dafs_session *s = req->s;
	struct msgbuf *m;
	int slot, len, rc;

	if (s->dead)
		return s->dead;
	if (s->stats) {
		req->opcode = rq->nops ? rq->ops[0].opcode : DAFS_OP_NULL;
		req->submit_ns = client_now_ns();
	}
	/* Writes that returned before their reply may be run by the server in
	 * any order with what follows: everything else sends those still
	 * coalescing and waits them all out, so a read, a stat or a close
	 * sees them. */
	if (!req->pipelined && !req->noslot)
		client_wait_writes(s);
	if (s->stats)
		req->barrier_ns = client_now_ns() - req->submit_ns;
	if (s->dead)
		return s->dead;
	if (req->noslot) {
		/* Bootstrap requests go before any slot exists. */
		m = &s->sends[0];
		while (m->busy && !s->dead)
			client_progress(s, 10);
	} else {
		while ((slot = free_slot(s)) < 0 && !s->dead)
			client_progress(s, 10);
		if (s->dead)
			return s->dead;
		m = &s->sends[slot];
		rq->hdr.slot = (uint16_t)slot;
		rq->hdr.seq = s->slots[slot].seq + 1;
	}
	rq->hdr.session = s->id;
	rq->hdr.credits = (uint16_t)s->credits;
	rq->hdr.flags |= req->noslot ? DAFS_HF_NOSLOT : 0;
	len = dafs_encode_request(m->buf, DAFS_MSG_MAX, rq);
	if (len < 0)
		return len;
	rc = send_frame(s, m, (size_t)len);
	if (rc)
		return rc;
	if (req->noslot) {
		s->boot_req = req;
	} else {
		req->slot = rq->hdr.slot;
		s->last_slot = req->slot;
		s->slots[req->slot].seq = rq->hdr.seq;
		s->slots[req->slot].req = req;
		s->slots_used++;
		s->outstanding++;
	}
	if (req->cg)
		req->cg->outstanding++;
	return 0;
}

int req_submit_locked(struct dafs_req *req, struct dafs_compound *rq)
{
	int rc;

	assert_session_locked(req->s);
	rc = submit_locked(req, rq);
	if (rc)
		req_free(req);
	return rc;
}

int req_submit(struct dafs_req *req, struct dafs_compound *rq)
{
	struct dafs_session *s = req->s;
	int rc;

	pthread_mutex_lock(&s->lock);
	rc = req_submit_locked(req, rq);   /* a failed one's bounce chunks go back locked */
	pthread_mutex_unlock(&s->lock);
	return rc;
}

int client_resend_slot(struct dafs_req *req, int slot)
{
	struct dafs_session *s = req->s;
	int rc;

	pthread_mutex_lock(&s->lock);
	while (s->sends[slot].busy && !s->dead)
		client_progress(s, 10);
	rc = s->slots[slot].req ? -EBUSY : s->dead;
	if (rc == 0)
		rc = send_frame(s, &s->sends[slot], s->sends[slot].len);
	if (rc == 0) {
		req->slot = slot;
		s->slots[slot].req = req;
		s->slots_used++;
		s->outstanding++;
	}
	pthread_mutex_unlock(&s->lock);
	return rc;
}

int client_send_raw(struct dafs_session *s, const void *frame, size_t len)
{
	struct msgbuf *m = &s->sends[s->credits];
	int rc;

	if (len > DAFS_MSG_MAX)
		return -EMSGSIZE;
	pthread_mutex_lock(&s->lock);
	while (m->busy && !s->dead)
		client_progress(s, 10);
	memcpy(m->buf, frame, len);
	rc = s->dead ? s->dead : send_frame(s, m, len);
	pthread_mutex_unlock(&s->lock);
	return rc;
}

ssize_t dafs_req_wait(struct dafs_req *req, int timeout_ms)
{
	struct dafs_session *s = req->s;
	uint64_t deadline = client_now_ms() + (uint64_t)(timeout_ms < 0 ? 0 : timeout_ms);
	ssize_t result;

	pthread_mutex_lock(&s->lock);
	while (!req->done) {
		if (timeout_ms >= 0 && client_now_ms() >= deadline) {
			pthread_mutex_unlock(&s->lock);
			return -ETIMEDOUT;
		}
		client_progress(s, timeout_ms < 0 ? 100 : (int)(deadline - client_now_ms()));
	}
	if (req->cg)
		req->cg->outstanding--;
	result = req->result;
	pthread_mutex_unlock(&s->lock);
	req_free(req);
	return result;
}

ssize_t req_run(struct dafs_req *req, struct dafs_compound *rq)
{
	int rc = req_submit(req, rq);

	compound_free(rq);
	if (rc)
		return rc;
	return dafs_req_wait(req, -1);
}

ssize_t client_finish_status(struct dafs_req *req, struct dafs_reply *rep)
{
	if (!rep)
		return req->result;
	/* The last operation that ran decides (a compound of unlocks + close). */
	return client_errno_of(rep, rep->nres ? rep->nres - 1u : 0);
}

ssize_t client_finish_attr(struct dafs_req *req, struct dafs_reply *rep)
{
	int rc;

	if (!rep)
		return req->result;
	rc = client_errno_of(rep, 0);
	if (rc == 0 && req->out.st)
		client_stat_from_attr(req->out.st, &rep->res[0].r.attr.attr);
	return rc;
}

int client_submit_one(struct dafs_session *s, const struct dafs_op *op, req_finish_fn finish,
		      void *out, size_t out_len, struct dafs_cg *cg, void *user,
		      struct dafs_req **req_out)
{
	struct dafs_compound *rq = compound_alloc();
	struct dafs_req *req = rq ? req_new(s, cg, user, req_out, finish) : NULL;
	int rc;

	if (!req) {
		compound_free(rq);
		return rq ? -EINVAL : -ENOMEM;
	}
	req->out.st = out;
	req->out_len = out_len;
	rq->nops = 1;
	rq->ops[0] = *op;
	rc = req_submit(req, rq);
	compound_free(rq);
	return rc;
}

ssize_t client_run_one(struct dafs_session *s, const struct dafs_op *op, req_finish_fn finish,
		       void *out, size_t out_len)
{
	struct dafs_req *req;
	int rc = client_submit_one(s, op, finish, out, out_len, NULL, NULL, &req);

	return rc ? rc : dafs_req_wait(req, -1);
}

/* ---- Completion groups ------------------------------------------------- */

int dafs_cg_create(struct dafs_session *s, struct dafs_cg **out)
{
	struct dafs_cg *cg = calloc(1, sizeof(*cg));

	if (!cg)
		return -ENOMEM;
	cg->s = s;
	*out = cg;
	return 0;
}

int dafs_cg_destroy(struct dafs_cg *cg)
{
	if (!cg)
		return 0;
	if (dafs_cg_outstanding(cg))
		return -EBUSY;
	free(cg);
	return 0;
}

unsigned dafs_cg_outstanding(const struct dafs_cg *cg)
{
	unsigned n;

	pthread_mutex_lock(&cg->s->lock);
	n = cg->outstanding;
	pthread_mutex_unlock(&cg->s->lock);
	return n;
}

static bool reap(struct dafs_cg *cg, struct dafs_event *ev)
{
	struct dafs_req *req = cg->done_head;

	if (!req)
		return false;
	cg->done_head = req->next_done;
	if (!cg->done_head)
		cg->done_tail = NULL;
	cg->outstanding--;
	ev->user = req->user;
	ev->result = req->result;
	req_free(req);
	return true;
}

int dafs_cg_wait_n(struct dafs_cg *cg, unsigned n, struct dafs_event *evs, unsigned max,
		   int timeout_ms)
{
	struct dafs_session *s = cg->s;
	uint64_t deadline = client_now_ms() + (uint64_t)(timeout_ms < 0 ? 0 : timeout_ms);
	unsigned got = 0;

	if (n > max)
		n = max;
	pthread_mutex_lock(&s->lock);
	while (got < max) {
		if (reap(cg, &evs[got])) {
			got++;
			continue;
		}
		if (got >= n || cg->outstanding == 0)
			break;
		if (timeout_ms >= 0 && client_now_ms() >= deadline)
			break;
		client_progress(s, timeout_ms < 0 ? 100 : (int)(deadline - client_now_ms()));
	}
	pthread_mutex_unlock(&s->lock);
	return (int)got;
}

int dafs_cg_wait_any(struct dafs_cg *cg, int timeout_ms, struct dafs_event *ev)
{
	if (dafs_cg_outstanding(cg) == 0)
		return -ENOENT;
	return dafs_cg_wait_n(cg, 1, ev, 1, timeout_ms);
}

/* ---- Memory ------------------------------------------------------------ */

/* Tells the server that it may (or may no longer) transfer to and from a
 * registered region: it refuses segments outside the regions it was told. */
int client_region_op(struct dafs_session *s, uint16_t opcode, const struct dafs_mr *mr)
{
	struct dafs_op op = { .opcode = opcode,
			      .a.region = { mr->remote_base, mr->len, mr->key } };

	return (int)client_run_one(s, &op, client_finish_status, NULL, 0);
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

/* ---- Sessions ------------------------------------------------------------ */

static mode_t process_umask(void)
{
	/* Reading it from /proc avoids umask()'s set-and-restore race with
	 * other threads. */
	FILE *f = fopen("/proc/self/status", "re");
	char line[128];
	unsigned mask = 022;

	if (!f)
		return 022;
	while (fgets(line, sizeof(line), f))
		if (sscanf(line, "Umask: %o", &mask) == 1)
			break;
	fclose(f);
	return (mode_t)mask;
}

static struct timespec realtime_in_ms(unsigned ms)
{
	struct timespec t;

	clock_gettime(CLOCK_REALTIME, &t);
	t.tv_sec += ms / 1000;
	t.tv_nsec += (long)(ms % 1000) * 1000000;
	if (t.tv_nsec >= 1000000000) {
		t.tv_sec++;
		t.tv_nsec -= 1000000000;
	}
	return t;
}

static void *lease_main(void *arg)
{
	struct dafs_session *s = arg;

	pthread_mutex_lock(&s->lock);
	while (!s->closing && !s->dead) {
		/* Coalesced writes wait about a millisecond at most: while
		 * there are any, tick every millisecond and send those due. */
		s->lease_ticking = s->wb_files != NULL;
		struct timespec until = realtime_in_ms(s->lease_ticking ? 1 : s->lease_ms / 3);
		pthread_cond_timedwait(&s->lease_cond, &s->lock, &until);
		if (s->closing || s->dead)
			break;
		if (s->wb_files)
			client_send_coalesced(s, 1);
		/* Any request renews the lease; an idle client (one holding a
		 * lock while it sleeps, say) pings so that it keeps its locks. */
		if (client_now_ms() - s->last_tx_ms >= s->lease_ms / 3)
			send_ping(s);
		client_progress(s, 0);
	}
	pthread_mutex_unlock(&s->lock);
	return NULL;
}

/* CONNECT's answer: the fabric name of the worker that will serve us. */
struct worker_addr {
	size_t len;
	uint8_t addr[DAFS_ADDR_MAX];
};

static ssize_t finish_boot(struct dafs_req *req, struct dafs_reply *rep)
{
	if (!rep)
		return req->result;
	if (rep->nres != 1)
		return -EPROTO;
	if (rep->res[0].status)
		return -rep->res[0].status;
	if (rep->res[0].opcode == DAFS_OP_CONNECT) {
		const struct dafs_res_connect *c = &rep->res[0].r.connect;
		struct worker_addr *copy = malloc(sizeof(*copy));
		if (!copy || c->addr_len == 0 || c->addr_len > DAFS_ADDR_MAX) {
			free(copy);
			return -EPROTO;
		}
		memcpy(copy->addr, c->addr, c->addr_len);
		copy->len = c->addr_len;
		req->boot_out = copy;
		return 0;
	}
	struct dafs_res_session_open *so = malloc(sizeof(*so));
	if (!so)
		return -ENOMEM;
	*so = rep->res[0].r.session_open;
	req->boot_out = so;
	return 0;
}

/* One bootstrap exchange: CONNECT or SESSION_OPEN, NOSLOT, synchronous. */
static int boot_call(struct dafs_session *s, struct dafs_compound *rq, void **out)
{
	struct dafs_req *req;
	ssize_t rc;

	req = req_alloc(s, finish_boot);
	if (!req)
		return -ENOMEM;
	req->standalone = true;
	req->noslot = true;
	pthread_mutex_lock(&s->lock);
	rc = submit_locked(req, rq);
	while (rc == 0 && !req->done)
		client_progress(s, 100);
	pthread_mutex_unlock(&s->lock);
	if (rc == 0)
		rc = req->result;
	*out = rc == 0 ? req->boot_out : NULL;
	if (rc)
		free(req->boot_out);
	free(req);
	return (int)rc;
}

static int session_setup_memory(struct dafs_session *s)
{
	size_t nsends = s->credits + 1;
	size_t region = (s->nrecvs + nsends) * (size_t)DAFS_MSG_MAX;
	int rc;

	s->recvs = calloc(s->nrecvs, sizeof(*s->recvs));
	s->sends = calloc(nsends, sizeof(*s->sends));
	s->slots = calloc(s->credits, sizeof(*s->slots));
	s->reply = malloc(sizeof(*s->reply));
	if (!s->recvs || !s->sends || !s->slots || !s->reply)
		return -ENOMEM;
	s->msg_region = mmap(NULL, region, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS,
			     -1, 0);
	if (s->msg_region == MAP_FAILED) {
		s->msg_region = NULL;
		return -ENOMEM;
	}
	rc = dafs_fabric_mr_reg(s->fab, s->msg_region, region, DAFS_MR_LOCAL, &s->msg_mr);
	if (rc)
		return rc;
	for (size_t i = 0; i < s->nrecvs + nsends; i++) {
		struct msgbuf *m = i < s->nrecvs ? &s->recvs[i] : &s->sends[i - s->nrecvs];
		m->buf = (char *)s->msg_region + i * DAFS_MSG_MAX;
		m->ctx.owner = m;
	}
	s->bounce = mmap(NULL, (size_t)CLIENT_BOUNCE_CHUNK * CLIENT_BOUNCE_CHUNKS,
			 PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (s->bounce == MAP_FAILED) {
		s->bounce = NULL;
		return -ENOMEM;
	}
	return dafs_fabric_mr_reg(s->fab, s->bounce,
				  (size_t)CLIENT_BOUNCE_CHUNK * CLIENT_BOUNCE_CHUNKS,
				  DAFS_MR_LOCAL | DAFS_MR_REMOTE_READ | DAFS_MR_REMOTE_WRITE,
				  &s->bounce_mr);
}

static void session_free(struct dafs_session *s)
{
	size_t nsends = s->credits + 1;

	stats_print(s);
	while (s->mems)
		dafs_mem_deregister(s->mems);
	regcache_teardown(s);
	/* The endpoint goes first: it cancels receives still posted into the
	 * memory released below. */
	if (s->fab)
		dafs_fabric_close(s->fab);
	if (s->msg_mr.mr)
		dafs_fabric_mr_dereg(&s->msg_mr);
	if (s->bounce_mr.mr)
		dafs_fabric_mr_dereg(&s->bounce_mr);
	cache_teardown(s);
	if (s->msg_region)
		munmap(s->msg_region, (s->nrecvs + nsends) * (size_t)DAFS_MSG_MAX);
	if (s->bounce)
		munmap(s->bounce, (size_t)CLIENT_BOUNCE_CHUNK * CLIENT_BOUNCE_CHUNKS);
	free(s->recvs);
	free(s->sends);
	free(s->slots);
	free(s->reply);
	dafs_bell_close(&s->own_bell);
	pthread_cond_destroy(&s->lease_cond);
	pthread_mutex_destroy(&s->lock);
	free(s);
}

long long client_env_size(const char *name)
{
	const char *v = getenv(name);
	char *end;
	long long n;

	if (!v || !*v)
		return -1;
	n = strtoll(v, &end, 10);
	if (n < 0 || end == v)
		return -1;
	switch (*end) {
	case 'k': case 'K': n <<= 10; end++; break;
	case 'm': case 'M': n <<= 20; end++; break;
	case 'g': case 'G': n <<= 30; end++; break;
	default: break;
	}
	return *end ? -1 : n;
}

static int env_int(const char *name, int fallback)
{
	const char *v = getenv(name);
	char *end;
	long n;

	if (!v || !*v)
		return fallback;
	n = strtol(v, &end, 10);
	return *end || n <= 0 || n > 3600000 ? fallback : (int)n;
}

/* Reads this large and larger go straight into the caller's buffer (0:
 * never). Off unless asked for: on shm and tcp here, streaming 256 KiB to
 * 1 MiB reads went no faster that way than through the page cache, whose
 * read-ahead keeps the server busy while the reader copies; it saves
 * client CPU only (README, "Direct reads", has the figures). */
#define DIRECT_READ_DEFAULT 0

static size_t direct_read_min(const struct dafs_session_opts *opts)
{
	long long n = opts ? opts->direct_read_min : 0;

	if (n < 0)
		return 0;
	if (n == 0)
		n = client_env_size("DAFS_DIRECT_READ_MIN");
	return n < 0 ? DIRECT_READ_DEFAULT : (size_t)n;
}

static bool env_is(const char *name, const char *value)
{
	const char *v = getenv(name);

	return v && strcmp(v, value) == 0;
}

int dafs_session_open(const char *url, const struct dafs_session_opts *opts,
		      struct dafs_session **out)
{
	struct dafs_url parsed;
	struct dafs_session *s;
	struct dafs_compound *rq = NULL;
	struct dafs_res_session_open *granted = NULL;
	uint8_t addr[DAFS_ADDR_MAX];
	struct worker_addr *worker = NULL;
	size_t addr_len = sizeof(addr);
	char name[128], host[64] = "";
	bool doorbells;
	int rc;

	if (!url || dafs_url_parse(url, &parsed) != 0)
		return -EINVAL;
	s = calloc(1, sizeof(*s));
	if (!s)
		return -ENOMEM;
	session_lock_init(s);
	pthread_cond_init(&s->lease_cond, NULL);
	s->bell.fd = s->own_bell.fd = -1;
	stats_setup(s);
	s->credits = opts && opts->credits ? opts->credits : 32;
	if (s->credits > 128)
		s->credits = 128;
	s->nrecvs = s->credits + CLIENT_RECVS;
	s->timeout_ms = opts && opts->timeout_ms > 0 ? opts->timeout_ms :
			env_int("DAFS_TIMEOUT_MS", 5000);
	s->umask = process_umask();

	rc = dafs_fabric_open(&parsed, false, &s->fab);
	if (rc)
		goto fail;
	rc = session_setup_memory(s);
	if (rc)
		goto fail;
	for (unsigned i = 0; i < s->nrecvs; i++) {
		rc = post_recv(s, &s->recvs[i]);
		if (rc)
			goto fail;
	}
	rc = dafs_fabric_getname(s->fab, addr, &addr_len);
	if (rc)
		goto fail;
	/* No wait object (shm): our naps while a slow request runs end when
	 * the server rings this bell with its reply. DAFS_DOORBELL=0 goes
	 * without, both ways (scripts/bench-latency's baseline). */
	doorbells = dafs_fabric_wait_fd(s->fab) < 0 && !env_is("DAFS_DOORBELL", "0");
	if (doorbells)
		dafs_bell_listen(&s->own_bell, addr, addr_len);
	rc = dafs_fabric_av_insert_url(s->fab, &parsed, &s->server);
	if (rc)
		goto fail;

	/* CONNECT asks the listening endpoint which worker will serve us. */
	rc = -ENOMEM;
	rq = compound_alloc();
	if (!rq)
		goto fail;
	rq->nops = 1;
	rq->ops[0].opcode = DAFS_OP_CONNECT;
	rq->ops[0].a.connect = (struct dafs_args_connect){ addr, (uint32_t)addr_len };
	rc = boot_call(s, rq, (void **)&worker);
	if (rc)
		goto fail;
	rc = dafs_fabric_av_insert(s->fab, worker->addr, &s->server);
	/* No wait object at the server's end (shm): ring it when it may be
	 * napping (send_frame). */
	if (rc == 0 && doorbells)
		dafs_bell_address(&s->bell, worker->addr, worker->len);
	free(worker);
	if (rc)
		goto fail;

	gethostname(host, sizeof(host) - 1);
	snprintf(name, sizeof(name), "%s", opts && opts->name ? opts->name : "");
	if (!name[0])
		snprintf(name, sizeof(name), "%s:%d", host, (int)getpid());
	memset(rq, 0, sizeof(*rq));
	rq->nops = 1;
	rq->ops[0].opcode = DAFS_OP_SESSION_OPEN;
	rq->ops[0].a.session_open = (struct dafs_args_session_open){
		.pid = (uint32_t)getpid(), .uid = (uint32_t)getuid(), .gid = (uint32_t)getgid(),
		.name = name, .addr = addr, .addr_len = (uint32_t)addr_len,
	};
	rc = boot_call(s, rq, (void **)&granted);
	if (rc)
		goto fail;
	s->id = granted->session;
	if (granted->credits < s->credits)
		s->credits = granted->credits;
	s->inline_max = granted->inline_max < DAFS_INLINE_MAX ? granted->inline_max : DAFS_INLINE_MAX;
	s->io_max = granted->io_max < DAFS_IO_MAX ? granted->io_max : DAFS_IO_MAX;
	if (s->io_max < CLIENT_BOUNCE_CHUNK)
		s->io_max = CLIENT_BOUNCE_CHUNK;
	s->lease_ms = granted->lease_ms ? granted->lease_ms : 30000;
	free(granted);
	compound_free(rq);
	rq = NULL;
	rc = client_region_op(s, DAFS_OP_REGISTER, &s->bounce_mr);
	if (rc)
		goto fail;
	cache_setup(s, opts ? opts->cache_size : 0);
	s->coalesce_writes = opts && opts->coalesce_writes ? opts->coalesce_writes > 0 :
			     env_int("DAFS_WRITE_COALESCE", 0) == 1;
	if (cache_region(s) && client_region_op(s, DAFS_OP_REGISTER, cache_region(s)) != 0) {
		fprintf(stderr, "libdafs: no page cache: the server refused its region\n");
		cache_teardown(s);
	}
	regcache_setup(s);
	s->direct_read_min = direct_read_min(opts);
	if (pthread_create(&s->lease_thread, NULL, lease_main, s) == 0)
		s->lease_running = true;
	*out = s;
	return 0;
fail:
	compound_free(rq);
	session_free(s);
	return rc;
}

int dafs_session_close(struct dafs_session *s)
{
	struct dafs_compound *rq;
	struct dafs_req *req = NULL;
	int rc = 0, dead;

	if (!s)
		return 0;
	pthread_mutex_lock(&s->lock);
	/* Requests still in flight finish first (or fail with the session). */
	client_wait_writes(s);
	while (s->outstanding && !s->dead)
		client_progress(s, 100);
	dead = s->dead;
	pthread_mutex_unlock(&s->lock);
	rq = compound_alloc();
	if (!dead && rq && (req = req_new(s, NULL, NULL, &req, NULL))) {
		rq->nops = 1;
		rq->ops[0].opcode = DAFS_OP_SESSION_CLOSE;
		rc = (int)req_run(req, rq);
		rq = NULL;
	}
	compound_free(rq);
	pthread_mutex_lock(&s->lock);
	s->closing = true;
	pthread_cond_signal(&s->lease_cond);
	pthread_mutex_unlock(&s->lock);
	if (s->lease_running)
		pthread_join(s->lease_thread, NULL);
	session_free(s);
	return rc;
}

const char *dafs_session_provider(const struct dafs_session *s)
{
	return dafs_fabric_provider(s->fab);
}

const char *dafs_strerror(int rc)
{
	return strerror(rc < 0 ? -rc : rc);
}
