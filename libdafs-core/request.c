/* request.c — the request engine: allocating requests and their compounds,
 * the slot table, sending frames and matching replies, progress over the
 * fabric's completions, liveness (pings, the dead-server timeout), and the
 * one-operation helpers the operations are built on.
 *
 * One mutex guards a session. Progress is made by whichever thread waits:
 * it reads the completion queue under the lock and blocks on the fabric's
 * wait object without it, so other threads can submit meanwhile.
 */
#include <errno.h>
#include <poll.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
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

struct timespec client_realtime_in_ms(unsigned ms)
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
struct dafs_req *req_alloc(struct dafs_session *s, req_finish_fn finish)
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

void req_free(struct dafs_req *req)
{
	bounce_put(req);
	free(req->path);
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

void client_fail_all(struct dafs_session *s, int err)
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

size_t client_msg_max(const struct dafs_session *s)
{
	return DAFS_MSG_MAX - (s->mac ? DAFS_MAC_TRAILER : 0);
}

/* A keyed session takes sealed replies, checked before decoding, and one
 * unsealed kind: the server's EBADMSG for a frame of ours it refused
 * (auth.h), which fails that request at once rather than leave it waiting.
 * Forging one takes our session id, which only the path to the server
 * sees, and could do no more than what dropping our frames does. During
 * set-up an unsealed reply may refuse the session, never grant it
 * (session.c checks boot_sealed). */
static bool reply_admitted(struct dafs_session *s, void *frame, size_t *len)
{
	struct dafs_hdr hdr;
	int rc;

	s->boot_sealed = false;
	if (!s->mac)
		return true;
	rc = dafs_mac_open(s->mac, frame, *len, len);
	if (rc == 0) {
		s->boot_sealed = true;
		return true;
	}
	/* Set-up again after a lost server (recover.c): as at the start, for
	 * the exchanges outside the slot table alone. */
	if (!s->id || (s->recovering && dafs_decode_hdr(frame, *len, &hdr) == 0 &&
		       (hdr.flags & DAFS_HF_NOSLOT)))
		return true;
	if (rc == -EBADMSG && dafs_decode_hdr(frame, *len, &hdr) == 0 &&
	    !(hdr.flags & DAFS_HF_MAC) && hdr.status == EBADMSG && hdr.body_len == 0 &&
	    hdr.session == s->id)
		return true;
	fprintf(stderr, "libdafs: dropped a reply: %s\n",
		rc == -EALREADY ? "replayed" : "bad or missing MAC");
	return false;
}

/* The server stopped answering (silence, or a frame it did not take).
 * With recovery, requests wait while the lease thread reconnects
 * (recover.c); during its exchanges only the one in flight fails, and it
 * tries again. Without, or before the session exists, all fail now. */
static void server_lost(struct dafs_session *s, int err)
{
	if (s->recovering) {
		struct dafs_req *req = s->boot_req;
		if (req) {
			s->boot_req = NULL;
			req->result = err;
			req_complete(req, err);
		}
		return;
	}
	if (!s->id || !s->recovery_ms || !s->lease_running || s->closing) {
		client_fail_all(s, err);
		return;
	}
	if (s->lost)
		return;
	s->lost = true;
	/* Since when we have waited in silence: the outage as the caller saw
	 * it, which recovery's timeout and its "back after" count from. */
	s->lost_since_ms = s->last_rx_ns / 1000000 > s->pending_since_ms ?
			   s->last_rx_ns / 1000000 : s->pending_since_ms;
	if (s->lost_since_ms > client_now_ms())
		s->lost_since_ms = client_now_ms();
	/* Said once per outage, as NFS's "server not responding, still trying". */
	fprintf(stderr, "libdafs: the server stopped answering; still trying for up to %llu s\n",
		(unsigned long long)(s->recovery_ms / 1000));
	pthread_cond_broadcast(&s->lease_cond);
}

static void handle_reply(struct dafs_session *s, void *frame, size_t len)
{
	/* Replies are handled one at a time, with the session locked. */
	struct dafs_reply *rep = s->reply;
	struct dafs_req *req = NULL;
	int rc;

	if (!reply_admitted(s, frame, &len))
		return;
	rc = dafs_decode_reply(frame, len, rep);
	if (rc) {
		/* A reply we cannot read cannot be matched either; the request
		 * it answered times out. */
		fprintf(stderr, "libdafs: dropped a malformed reply: %s\n", strerror(-rc));
		return;
	}
	/* A server that does not know our session (it restarted, or ended
	 * it) answers our ping so: we come back now (SESSION_OPEN says
	 * whether we may), not after the timeout. */
	if ((rep->hdr.flags & DAFS_HF_NOSLOT) && rep->hdr.status == DAFS_STATUS_NO_SESSION &&
	    s->id && rep->hdr.session == s->id) {
		if (!s->recovering)
			server_lost(s, -EIO);
		return;
	}
	s->last_rx_ns = client_now_ns();
	if (rep->hdr.flags & DAFS_HF_NOSLOT) {
		req = s->boot_req;
		s->boot_req = NULL;
	} else if (rep->hdr.slot < s->credits && s->slots[rep->hdr.slot].req &&
		   s->slots[rep->hdr.slot].seq == rep->hdr.seq) {
		req = s->slots[rep->hdr.slot].req;
	}
	/* A server on its way down refuses what it has not started: the
	 * request waits for its return (or its successor) like the others. */
	if (req && rep->hdr.status == ESHUTDOWN && !(rep->hdr.flags & DAFS_HF_NOSLOT) &&
	    s->recovery_ms && s->lease_running && !s->closing) {
		server_lost(s, -ESHUTDOWN);
		return;
	}
	if (req) {
		ssize_t result;
		dafs_spin_replied(&s->spin);
		if (rep->hdr.status) {
			req->result = -rep->hdr.status;
			result = req->finish ? req->finish(req, NULL) : -rep->hdr.status;
		} else {
			result = req->finish ? req->finish(req, rep) : 0;
		}
		req_complete(req, result);
	}
	/* The server fenced (EKEYREVOKED) or evicted (ECONNABORTED) this
	 * session: final, so every request outstanding and later fails with
	 * it at once, and nothing is retried. */
	if ((rep->hdr.status == EKEYREVOKED || rep->hdr.status == ECONNABORTED) &&
	    s->id && rep->hdr.session == s->id && !s->dead)
		client_fail_all(s, -(int)rep->hdr.status);
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

int post_recv(struct dafs_session *s, struct msgbuf *m)
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
			server_lost(s, dead_error(s));
	}
}

static void repost_recvs(struct dafs_session *s)
{
	for (unsigned i = 0; i < s->nrecvs; i++)
		if (!s->recvs[i].busy)
			post_recv(s, &s->recvs[i]);
}

void send_ping(struct dafs_session *s)
{
	struct msgbuf *m = &s->sends[s->credits];
	struct dafs_compound *rq;
	int len;

	assert_session_locked(s);
	if (m->busy || !s->id)
		return;
	rq = compound_alloc();
	if (!rq)
		return;
	rq->hdr.session = s->id;
	rq->hdr.flags = DAFS_HF_NOSLOT;
	rq->nops = 1;
	/* With our address: a server that lost our session can say so. */
	rq->ops[0].opcode = DAFS_OP_PING;
	rq->ops[0].a.connect = (struct dafs_args_connect){ s->addr, (uint32_t)s->addr_len, 0 };
	len = dafs_encode_request(m->buf, client_msg_max(s), rq);
	compound_free(rq);
	if (len > 0 && s->mac)
		len = (int)dafs_mac_seal(s->mac, m->buf, (size_t)len);
	if (len > 0 && dafs_fabric_send(s->fab, s->server, m->buf, (size_t)len,
					s->msg_mr.desc, &m->ctx) == 0) {
		if (!pending(s))
			s->pending_since_ms = client_now_ms();
		set_send_busy(s, m, true);
		s->last_ping_ms = s->last_tx_ms = client_now_ms();
	}
}

/* A request unanswered for the timeout while the server answers others
 * (pings) may have been lost with a connection the provider quietly made
 * again, or dropped by the server when it could not reach us (worker.c):
 * it goes again, as it was. The server answers a copy of one it ran from
 * its reply cache and drops one of a request still running. */
static void resend_overdue(struct dafs_session *s, uint64_t now)
{
	for (unsigned i = 0; i < s->credits; i++) {
		struct client_slot *slot = &s->slots[i];
		if (!slot->req || s->sends[i].busy || now - slot->sent_ms <= (uint64_t)s->timeout_ms)
			continue;
		slot->sent_ms = now;
		client_send_again(s, &s->sends[i]);
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

static void progress_and_wait(struct dafs_session *s, int timeout_ms)
{
	struct dafs_completion comps[16];
	uint64_t now, now_ns, budget;
	bool polling;
	int n;

	assert_session_locked(s);
	/* While the server is lost the fabric is the lease thread's alone
	 * (recover.c): a waiter polling a dead peer's errors would keep the
	 * lock from it. */
	if (s->lost && !pthread_equal(pthread_self(), s->lease_thread)) {
		struct timespec until = client_realtime_in_ms(100);
		pthread_cond_timedwait(&s->back_cond, &s->lock, &until);
		return;
	}
	n = dafs_fabric_poll(s->fab, comps, 16);
	for (int i = 0; i < n; i++)
		handle_completion(s, &comps[i]);
	repost_recvs(s);
	now_ns = client_now_ns();
	now = now_ns / 1000000;
	if (n > 0) {
		s->last_activity_ns = now_ns;
		s->last_poll_ns = 0;
	}
	if (n > 0 || s->dead)
		return;
	if (n < 0) {
		server_lost(s, dead_error(s));
		return;
	}
	if (pending(s) && timeout_ms != 0 && (!s->lost || s->recovering)) {
		/* Silence while somebody waits: ping, and give up once the server
		 * has said nothing at all for the timeout since we began to wait. */
		uint64_t last_rx_ms = s->last_rx_ns / 1000000;
		uint64_t quiet_since = last_rx_ms > s->pending_since_ms ? last_rx_ms :
					s->pending_since_ms;
		if (now - quiet_since > (uint64_t)s->timeout_ms) {
			server_lost(s, dead_error(s));
			return;
		}
		if (now - quiet_since > CLIENT_PING_MS && now - s->last_ping_ms > CLIENT_PING_MS &&
		    !s->lost)
			send_ping(s);
		if (!s->lost && now - s->overdue_check_ms >= CLIENT_PING_MS) {
			s->overdue_check_ms = now;
			resend_overdue(s, now);
		}
	}
	if (timeout_ms == 0)
		return;
	/* Poll on for a moment after the last send or completion, then block
	 * (wait.h). A request sent after the program computed for a while
	 * starts with the poll too: it is the send that counts. */
	budget = dafs_spin_budget(&s->spin);
	/* The lease thread bringing the server back waits asleep. */
	polling = !s->lost &&
		  (now_ns - s->last_activity_ns < budget || now_ns < s->poll_until_ns);
	if (polling) {
		if (s->last_poll_ns && now_ns - s->last_poll_ns > DAFS_PREEMPTED_NS)
			dafs_spin_missed(&s->spin);      /* the CPU was taken from us */
		s->last_poll_ns = now_ns;
	} else {
		if (budget)
			dafs_spin_missed(&s->spin);      /* we polled in vain */
		s->last_poll_ns = 0;
		s->slept = true;
	}
	pthread_mutex_unlock(&s->lock);
	if (polling)
		dafs_cpu_relax();
	else if (s->own_bell.fd >= 0)
		nap_on_bell(s);
	else
		dafs_fabric_wait(s->fab, timeout_ms < 0 || timeout_ms > 100 ? 100 : timeout_ms);
	pthread_mutex_lock(&s->lock);
}

/* Progress and the wait leave errno as they found it:
 * programs read errno after calls that succeeded (readdir's end,
 * pathconf's "no limit"), and a provider's EAGAIN or a poll's EINTR is
 * none of their business. */
void client_progress(struct dafs_session *s, int timeout_ms)
{
	int saved_errno = errno;

	progress_and_wait(s, timeout_ms);
	errno = saved_errno;
}

static int free_slot(struct dafs_session *s)
{
	for (unsigned i = 0; i < s->credits; i++)
		if (!s->slots[i].req && !s->sends[i].busy)
			return (int)i;
	return -1;
}

/* Sends the frame of `len` bytes in m, sealed once the keyed session is
 * set up (afresh each time: a resent frame gets a new sequence). */
static int send_frame_as(struct dafs_session *s, struct msgbuf *m, size_t len, bool seal)
{
	uint64_t start = client_now_ms();
	size_t wire_len = seal ? dafs_mac_seal(s->mac, m->buf, len) : len;
	int rc;

	m->len = len;      /* what recovery sends again (recover.c) */
	if (!pending(s))
		s->pending_since_ms = start;
	/* rxm answers -EAGAIN while a connection forms, shm while the peer's
	 * queue is full; only reading the CQ moves them on. A peer that never
	 * takes the message is as dead as one that never answers. */
	while ((rc = dafs_fabric_send(s->fab, s->server, m->buf, wire_len, s->msg_mr.desc,
				      &m->ctx)) == -EAGAIN) {
		client_progress(s, 1);
		if (s->dead)
			return s->dead;
		if (client_now_ms() - start > (uint64_t)s->timeout_ms) {
			server_lost(s, dead_error(s));
			return s->dead ? s->dead : -EAGAIN;
		}
	}
	if (rc == 0) {
		set_send_busy(s, m, true);
		m->sends++;
		s->last_activity_ns = client_now_ns();
		s->last_tx_ms = s->last_activity_ns / 1000000;
		/* A server we have not heard from for a while, or whose last
		 * reply we found only after sleeping, may be asleep (wait.h;
		 * what another client keeps it doing, we cannot know; a
		 * needless ring costs one datagram). */
		if (s->slept || s->last_activity_ns - s->last_rx_ns >= DAFS_RING_AFTER_NS)
			dafs_bell_ring(&s->own_bell, &s->bell);
		s->slept = false;
	}
	return rc;
}

static int send_frame(struct dafs_session *s, struct msgbuf *m, size_t len)
{
	return send_frame_as(s, m, len, s->mac && s->id);
}

int client_send_again(struct dafs_session *s, struct msgbuf *m)
{
	assert_session_locked(s);
	return send_frame(s, m, m->len);
}

int submit_locked(struct dafs_req *req, struct dafs_compound *rq)
{
	struct dafs_session *s = req->s;
	struct msgbuf *m;
	int slot, len, rc;
	bool ring;

	assert_session_locked(s);
	/* While the server is lost, new requests wait for it to come back;
	 * the set-up of its return goes outside the slot table (noslot). */
	while (s->lost && !req->noslot && !s->dead)
		client_progress(s, 10);
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
		/* Bootstrap requests go before any slot exists; recovery's, in
		 * the ping's buffer (pings wait while the server is lost). */
		m = &s->sends[s->id ? s->credits : 0];
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
	/* A greeting names the session in its body (resume), not its header. */
	rq->hdr.session = req->noslot && (rq->ops[0].opcode == DAFS_OP_CONNECT ||
					  rq->ops[0].opcode == DAFS_OP_SESSION_OPEN) ? 0 : s->id;
	rq->hdr.credits = (uint16_t)s->credits;
	rq->hdr.flags |= req->noslot ? DAFS_HF_NOSLOT : 0;
	/* We may sleep before the server's ring-after time (wait.h). */
	ring = dafs_spin_budget(&s->spin) < DAFS_SPIN_NS;
	if (ring)
		rq->hdr.flags |= DAFS_HF_RING;
	client_request_cred(s, rq);
	len = dafs_encode_request(m->buf, client_msg_max(s), rq);
	if (len < 0)
		return len;
	/* A greeting goes unsealed: the session's keys come from it. */
	rc = req->noslot && !rq->hdr.session ? send_frame_as(s, m, (size_t)len, false) :
					      send_frame(s, m, (size_t)len);
	/* Lost on its way: it goes with the others when the server is back. */
	if (rc == -EAGAIN && s->lost && !req->noslot)
		rc = 0;
	if (rc)
		return rc;
	/* Unflagged, it is answered without a ring unless late: we poll. */
	if (!ring && s->poll_until_ns < s->last_activity_ns + DAFS_SPIN_NS)
		s->poll_until_ns = s->last_activity_ns + DAFS_SPIN_NS;
	if (req->noslot) {
		s->boot_req = req;
	} else {
		req->slot = rq->hdr.slot;
		s->last_slot = req->slot;
		s->slots[req->slot].seq = rq->hdr.seq;
		s->slots[req->slot].req = req;
		s->slots[req->slot].sent_ms = s->last_tx_ms;
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
		rc = client_send_again(s, &s->sends[slot]);
	if (rc == 0) {
		req->slot = slot;
		s->slots[slot].req = req;
		s->slots_used++;
		s->outstanding++;
	}
	pthread_mutex_unlock(&s->lock);
	return rc;
}

int client_send_bytes(struct dafs_session *s, const void *frame, size_t len, bool sealed)
{
	struct msgbuf *m = &s->sends[s->credits];
	int rc;

	if (len > (sealed ? client_msg_max(s) : DAFS_MSG_MAX))
		return -EMSGSIZE;
	pthread_mutex_lock(&s->lock);
	while (m->busy && !s->dead)
		client_progress(s, 10);
	memcpy(m->buf, frame, len);
	rc = s->dead ? s->dead : send_frame_as(s, m, len, sealed && s->mac && s->id);
	pthread_mutex_unlock(&s->lock);
	return rc;
}

int client_send_raw(struct dafs_session *s, const void *frame, size_t len)
{
	return client_send_bytes(s, frame, len, true);
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
		      union req_out out, uint64_t finish_arg, struct dafs_cg *cg, void *user,
		      struct dafs_req **req_out)
{
	struct dafs_compound *rq = compound_alloc();
	struct dafs_req *req = rq ? req_new(s, cg, user, req_out, finish) : NULL;
	int rc;

	if (!req) {
		compound_free(rq);
		return rq ? -EINVAL : -ENOMEM;
	}
	req->out = out;
	req->finish_arg = finish_arg;
	rq->nops = 1;
	rq->ops[0] = *op;
	rc = req_submit(req, rq);
	compound_free(rq);
	return rc;
}

ssize_t client_run_one(struct dafs_session *s, const struct dafs_op *op, req_finish_fn finish,
		       union req_out out, uint64_t finish_arg)
{
	struct dafs_req *req;
	int rc = client_submit_one(s, op, finish, out, finish_arg, NULL, NULL, &req);

	return rc ? rc : dafs_req_wait(req, -1);
}
