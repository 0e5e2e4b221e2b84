/* worker.c — one worker thread's event loop: fabric completions (requests
 * arriving, replies sent, RMA transfers done) and io_uring completions (file
 * I/O done), and the life of a job between them.
 *
 * Worker 0 owns the listening address and answers CONNECT by naming the
 * worker (itself included) that will serve the client; SESSION_OPEN and all
 * later requests then go to that worker's own endpoint. Sessions never move
 * between workers, so nothing here takes a lock except the shared lock table.
 */
#include <errno.h>
#include <poll.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>
#include <unistd.h>

#include "admin.h"
#include "crash.h"
#include "creds.h"
#include "log.h"
#include "procwatch.h"
#include "server.h"
#include "state.h"
#include "wait.h"

#define POLL_TAG   ((void *)1)    /* io_uring user_data of the fabric fd poll */
#define STALL_GIVE_UP_MS 10000    /* a peer that takes nothing for this long is dead */
#define STOP_GIVE_UP_MS  10000    /* on SIGTERM, how long requests may take to finish */

static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

struct io_uring_sqe *worker_sqe(struct worker *w)
{
	struct io_uring_sqe *sqe = io_uring_get_sqe(&w->ring);

	if (!sqe) {
		io_uring_submit(&w->ring);
		w->uring_pending = 0;
		sqe = io_uring_get_sqe(&w->ring);
	}
	if (sqe)
		w->uring_pending++;
	return sqe;
}

/* A receive the provider had no room for stays unposted and is tried again
 * by the loop after it has read completions. */
static int post_recv(struct worker *w, struct recv_buf *rb)
{
	int rc = dafs_fabric_post_recv(w->fab, rb->buf, DAFS_MSG_MAX,
				       bufpool_desc(w->pool, rb->buf, DAFS_MSG_MAX), &rb->ctx);

	rb->posted = rc == 0;
	if (rc == -EAGAIN) {
		w->recvs_unposted++;
		return 0;
	}
	return rc;
}

static void repost_recvs(struct worker *w)
{
	unsigned n = w->recvs_unposted;

	w->recvs_unposted = 0;
	for (unsigned i = 0; i < WORKER_RECVS && n; i++) {
		if (w->recvs[i].posted)
			continue;
		n--;
		if (post_recv(w, &w->recvs[i]) != 0)
			log_msg("worker %u: cannot repost a receive buffer", w->id);
	}
}

int worker_init(struct worker *w, struct server *srv, unsigned id, bool listen)
{
	int rc;

	memset(w, 0, sizeof(*w));
	w->id = id;
	w->srv = srv;
	w->shm = strcmp(srv->url.scheme, "shm") == 0;
	w->bell.fd = -1;
	w->state_fd = -1;
	rc = dafs_fabric_open(&srv->url, listen, &w->fab);
	if (rc)
		return rc;
	w->name_len = sizeof(w->name);
	rc = dafs_fabric_getname(w->fab, w->name, &w->name_len);
	if (rc)
		goto fail_fab;
	/* No wait object (shm): idle, we nap a millisecond at a time; clients
	 * ring this bell to cut the nap short. Without it only the nap. */
	if (dafs_fabric_wait_fd(w->fab) < 0 &&
	    (rc = dafs_bell_listen(&w->bell, w->name, w->name_len)) != 0)
		log_msg("worker %u: no doorbell (%s): requests after a pause wait up to 1 ms",
			id, strerror(-rc));
	rc = bufpool_create(w->fab, &w->pool);
	if (rc)
		goto fail_fab;
	rc = io_uring_queue_init(WORKER_URING_DEPTH, &w->ring, 0);
	if (rc)
		goto fail_pool;
	for (unsigned i = 0; i < WORKER_RECVS; i++) {
		struct recv_buf *rb = &w->recvs[i];
		rb->ctx.owner = rb;
		rb->buf = bufpool_alloc(w->pool, DAFS_MSG_MAX);
		if (!rb->buf) {
			rc = -ENOMEM;
			goto fail_ring;
		}
		rc = post_recv(w, rb);
		if (rc)
			goto fail_ring;
	}
	return 0;
fail_ring:
	io_uring_queue_exit(&w->ring);
fail_pool:
	/* Closing the endpoint cancels posted receives before their memory goes. */
	dafs_fabric_close(w->fab);
	bufpool_destroy(w->pool);
	dafs_bell_close(&w->bell);
	return rc;
fail_fab:
	dafs_fabric_close(w->fab);
	dafs_bell_close(&w->bell);
	return rc;
}

void worker_fini(struct worker *w)
{
	struct session *s, *next;

	for (s = w->sessions; s; s = next) {
		next = s->next;
		log_msg("session %016llx closed: %s (server shutting down)",
			(unsigned long long)s->id, s->name);
		op_release_session(w, s, SESSION_SERVER_STOPS);
	}
	w->sessions = NULL;
	while (w->nspare_jobs)
		free(w->spare_jobs[--w->nspare_jobs]);
	io_uring_queue_exit(&w->ring);
	procwatch_fini(w);
	dafs_fabric_close(w->fab);
	bufpool_destroy(w->pool);
	dafs_bell_close(&w->bell);
}

/* ---- Jobs ------------------------------------------------------------------ */

/* A reused job is cleared except for the tails of its request and reply:
 * the decoder writes every op it reads, and job_run clears each result
 * before its op runs (the first here, for replies built by hand). */
static struct job *job_alloc(struct worker *w)
{
	struct job *job;

	if (!w->nspare_jobs)
		return calloc(1, sizeof(struct job));
	job = w->spare_jobs[--w->nspare_jobs];
	memset(job, 0, offsetof(struct job, req.ops));
	memset(job->req.ops, 0, 8 * sizeof(job->req.ops[0]));
	memset(&job->rep, 0, offsetof(struct dafs_reply, res) + sizeof(job->rep.res[0]));
	memset(&job->next_op, 0, sizeof(*job) - offsetof(struct job, next_op));
	return job;
}

static struct job *job_new(struct worker *w, struct session *sess, fi_addr_t peer)
{
	struct job *job = job_alloc(w);

	if (!job)
		return NULL;
	job->w = w;
	job->sess = sess;
	job->peer = peer;
	job->started_ns = w->prev_poll_ns;
	job->send_ctx.owner = job;
	for (unsigned i = 0; i < DAFS_SEGS_MAX; i++)
		job->rma_ctx[i].owner = job;
	w->jobs++;
	if (sess)
		sess->jobs++;
	return job;
}

static void session_unlink(struct worker *w, struct session *s)
{
	for (struct session **p = &w->sessions; *p; p = &(*p)->next) {
		if (*p == s) {
			*p = s->next;
			return;
		}
	}
}

/* A closing session whose last request is done goes: out of the worker's
 * list, its end logged (with why, when it was not a SESSION_CLOSE), its
 * files, locks and peer released. */
static void session_finish(struct worker *w, struct session *s)
{
	session_unlink(w, s);
	if (s->closing_why)
		log_msg("session %016llx closed: %s (%s)", (unsigned long long)s->id, s->name,
			s->closing_why);
	else
		log_msg("session %016llx closed: %s", (unsigned long long)s->id, s->name);
	op_release_session(w, s, s->closing_why ? SESSION_LOST : SESSION_CLOSED);
}

void worker_end_session(struct worker *w, struct session *s, const char *why)
{
	s->closing = true;
	s->closing_why = why;
	if (s->jobs == 0)
		session_finish(w, s);  /* else job_free does, after the last one */
}

static void release_job_data(struct job *job)
{
	if (job->data)
		bufpool_free(job->w->pool, job->data);
	job->data = NULL;
}

static void job_free(struct job *job)
{
	struct worker *w = job->w;
	struct session *s = job->sess;

	/* A request that ends without a reply (its client went away) frees its
	 * slot; a retry then gets EINVAL rather than waiting forever. */
	if (job->owns_slot && s && s->slots[job->req.hdr.slot].state == SLOT_BUSY)
		s->slots[job->req.hdr.slot].state = SLOT_IDLE;
	release_job_data(job);
	if (job->send_buf)
		bufpool_free(w->pool, job->send_buf);
	for (unsigned i = 0; i < DAFS_COMPOUND_MAX; i++)
		free(job->keep[i]);
	for (unsigned i = 0; i < job->ntransient; i++)
		session_handle_close(s, job->transient[i], NULL);
	if (job->remove_peer)
		dafs_fabric_av_remove(w->fab, job->peer);
	free(job->frame);
	w->jobs--;
	if (s && --s->jobs == 0 && s->closing)
		session_finish(w, s);
	else if (s && s->jobs == 0 && s->revoked)
		admin_release_revoked(w, s);
	if (w->nspare_jobs < WORKER_SPARE_JOBS)
		w->spare_jobs[w->nspare_jobs++] = job;
	else
		free(job);
}

/* Whether the ops before the current one may run again with the same
 * outcome: reads, writes at offsets, lookups, opens that create nothing
 * (a second handle of such an open lives until the session ends). */
static bool earlier_ops_repeatable(const struct job *job)
{
	for (unsigned i = 0; i < job->next_op; i++) {
		const struct dafs_op *op = &job->req.ops[i];
		bool ok = op->opcode == DAFS_OP_READ || op->opcode == DAFS_OP_LOOKUP ||
			  op->opcode == DAFS_OP_GETATTR ||
			  (op->opcode == DAFS_OP_OPEN &&
			   !(op->a.open.flags & (DAFS_O_CREAT | DAFS_O_TRUNC | DAFS_O_TMPFILE)));
		if (!ok)
			return false;
	}
	return true;
}

/* A request dropped before its current op could run (its data never
 * came): a retry of it runs it (session_slot_check), when what ran before
 * may run again. */
static void job_drop_undone(struct job *job)
{
	struct session *s = job->sess;

	if (job->owns_slot && s && s->slots[job->req.hdr.slot].state == SLOT_BUSY &&
	    earlier_ops_repeatable(job))
		s->slots[job->req.hdr.slot].undone = true;
	release_job_data(job);
	job_free(job);
}

static void stall(struct job *job)
{
	if (!job->is_stalled && !job->stalled_since_ms)
		job->stalled_since_ms = job->w->now_ms;
	job->is_stalled = true;
	job->next_stalled = job->w->stalled;
	job->w->stalled = job;
}

static void job_send(struct job *job)
{
	/* A session's reply goes where its client is now (session_take_over). */
	fi_addr_t to = job->sess && !job->remove_peer ? job->sess->peer : job->peer;
	int rc = dafs_fabric_send(job->w->fab, to, job->send_buf, job->send_len,
				  bufpool_desc(job->w->pool, job->send_buf, job->send_len),
				  &job->send_ctx);

	job->phase = JOB_SENDING;
	if (rc == -EAGAIN) {
		stall(job);
		return;
	}
	job->stalled_since_ms = 0;
	if (job->sess && rc == 0)
		job->sess->bytes_out += job->send_len;
	if (rc) {
		log_msg("send to %s failed: %s", job->sess ? job->sess->name : "client",
			strerror(-rc));
		job_free(job);
		return;
	}
	/* The client polls for a moment after its send, then sleeps (wait.h). */
	if (job->sess && job->w->shm &&
	    ((job->req.hdr.flags & DAFS_HF_RING) ||
	     now_ns() - job->started_ns >= DAFS_RING_AFTER_NS))
		dafs_bell_ring(&job->w->bell, &job->sess->bell);
}

/* A keyed session's replies are sealed (auth.h), each with a sequence of
 * its own: a reply from the cache is sealed afresh. */
static bool job_seals(const struct job *job)
{
	return job->sess && job->sess->mac && !job->no_seal;
}

/* Sends bytes already encoded (a cached reply, unsealed). */
static void send_bytes(struct job *job, const void *frame, size_t len)
{
	job->send_buf = bufpool_alloc(job->w->pool, len + DAFS_MAC_TRAILER);
	if (!job->send_buf) {
		job_free(job);
		return;
	}
	memcpy(job->send_buf, frame, len);
	job->send_len = job_seals(job) ? dafs_mac_seal(job->sess->mac, job->send_buf, len) : len;
	job_send(job);
}

/* Encodes a reply whose statuses are the server's negative errno (server.h).
 * The wire carries them positive (proto.h: "0 or an errno"): this is the one
 * place where they change sign, on a copy of the statuses so that `rep`
 * keeps the server's convention. */
static int encode_reply(void *buf, size_t cap, struct dafs_reply *rep)
{
	int32_t hdr_status = rep->hdr.status;
	int32_t res_status[DAFS_COMPOUND_MAX];
	int len;

	rep->hdr.status = -hdr_status;
	for (unsigned i = 0; i < rep->nres; i++) {
		res_status[i] = rep->res[i].status;
		rep->res[i].status = -res_status[i];
	}
	len = dafs_encode_reply(buf, cap, rep);
	rep->hdr.status = hdr_status;
	for (unsigned i = 0; i < rep->nres; i++)
		rep->res[i].status = res_status[i];
	return len;
}

static void job_reply(struct job *job)
{
	struct dafs_reply *rep = &job->rep;
	size_t cap = DAFS_MSG_MAX - (job_seals(job) ? DAFS_MAC_TRAILER : 0);
	int len;

	rep->hdr.slot = job->req.hdr.slot;
	rep->hdr.seq = job->req.hdr.seq;
	rep->hdr.session = job->req.hdr.session;
	rep->hdr.credits = job->sess ? (uint16_t)job->sess->nslots : 0;
	rep->hdr.flags = job->req.hdr.flags & DAFS_HF_NOSLOT;
	job->send_buf = bufpool_alloc(job->w->pool, DAFS_MSG_MAX);
	if (!job->send_buf) {
		job_free(job);
		return;
	}
	len = encode_reply(job->send_buf, cap, rep);
	if (len < 0) {
		/* Too much inline data for one reply: refuse the request as a
		 * whole so the client can split it. */
		rep->hdr.status = len == -EMSGSIZE ? -E2BIG : -EIO;
		rep->nres = 0;
		len = encode_reply(job->send_buf, cap, rep);
	}
	if (len < 0) {
		log_msg("cannot encode a reply: %s", strerror(-len));
		job_free(job);
		return;
	}
	job->send_len = (size_t)len;
	/* Only a request that took its slot leaves a reply there: a refused or
	 * malformed frame's slot number is not to be trusted. */
	if (job->owns_slot)
		session_slot_finish(job->sess, job->req.hdr.slot, job->send_buf, job->send_len);
	if (job->owns_slot && job->w->state_fd >= 0 && state_runs_once(job))
		state_record_reply(job->w, job->sess, job->req.hdr.slot, job->req.hdr.seq,
				   job->send_buf, job->send_len);
	if (job_seals(job))
		job->send_len = dafs_mac_seal(job->sess->mac, job->send_buf, job->send_len);
	job_send(job);
}

/* Records how the current operation ended and moves to the next. */
static bool op_finished(struct job *job, int status)
{
	struct dafs_result *res = &job->rep.res[job->next_op];

	res->status = status;
	job->next_op++;
	job->rep.nres = (uint16_t)job->next_op;
	return status == 0 || (job->req.hdr.flags & DAFS_HF_CONTINUE);
}

void job_run(struct job *job)
{
	while (job->next_op < job->req.nops) {
		struct dafs_op *op = &job->req.ops[job->next_op];
		struct dafs_result *res = &job->rep.res[job->next_op];
		int rc;

		memset(res, 0, sizeof(*res));
		res->opcode = op->opcode;
		rc = op_run(job, op, res);
		if (rc == -EINPROGRESS)
			return;
		if (!op_finished(job, rc))
			break;
	}
	job_reply(job);
}

static void job_continue_op(struct job *job, int rc)
{
	if (rc == -EINPROGRESS)
		return;
	if (op_finished(job, rc))
		job_run(job);
	else
		job_reply(job);
}

/* A transfer's error that says the client cannot be reached now (it may
 * come back: recover.c), not that the request was wrong. */
static bool peer_unreachable(int err)
{
	return err == -ENOTCONN || err == -ECONNRESET || err == -ECONNABORTED ||
	       err == -EPIPE || err == -EHOSTUNREACH || err == -ETIMEDOUT || err == -ECANCELED;
}

/* Posts the transfers of the current READ (server writes into the client) or
 * WRITE (server reads from the client), as many as the provider takes. */
void job_start_rma(struct job *job)
{
	struct dafs_args_io *a = &job->req.ops[job->next_op].a.io;
	size_t limit = job->rma_is_write ? job->io_done : a->len;
	size_t off = 0;

	for (unsigned i = 0; i < job->rma_next; i++)
		off += a->segs[i].len;
	while (job->rma_next < a->nsegs && off < limit && !job->rma_err) {
		struct dafs_seg *seg = &a->segs[job->rma_next];
		size_t len = seg->len < limit - off ? seg->len : limit - off;
		char *local = (char *)job->data + off;
		void *desc = bufpool_desc(job->w->pool, local, len);
		struct dafs_fabric_ctx *ctx = &job->rma_ctx[job->rma_next];
		int rc = job->rma_is_write ?
			dafs_fabric_rma_write(job->w->fab, job->peer, local, len, desc,
					      seg->addr, seg->key, ctx) :
			dafs_fabric_rma_read(job->w->fab, job->peer, local, len, desc,
					     seg->addr, seg->key, ctx);
		if (rc == -EAGAIN) {
			stall(job);
			return;
		}
		if (rc) {
			job->rma_err = rc;
			break;
		}
		job->stalled_since_ms = 0;
		if (job->rma_is_write)
			job->sess->bytes_out += len;
		else
			job->sess->bytes_in += len;
		job->rma_next++;
		job->rma_busy++;
		off += seg->len;
	}
	if (job->rma_busy == 0 && peer_unreachable(job->rma_err)) {
		/* The data never moved: no reply, so that the client's resend,
		 * once it is back, runs the request anew (session_slot_check). */
		log_msg("dropped a request of %s: its transfer failed (%s)",
			job->sess ? job->sess->name : "a client", strerror(-job->rma_err));
		job_drop_undone(job);
		return;
	}
	if (job->rma_busy == 0)
		job_continue_op(job, op_rma_done(job));
}

static void retry_stalled(struct worker *w)
{
	struct job *list = w->stalled;

	w->stalled = NULL;
	while (list) {
		struct job *job = list;
		list = job->next_stalled;
		job->is_stalled = false;
		/* A peer that has not taken a message for this long is gone; a
		 * job with no transfer in flight can be dropped safely. */
		if (w->now_ms - job->stalled_since_ms > STALL_GIVE_UP_MS && job->rma_busy == 0) {
			log_msg("dropped a request for %s: its client stopped taking data",
				job->sess ? job->sess->name : "a client");
			if (job->phase == JOB_RMA)
				job_drop_undone(job);
			else
				job_free(job);
			continue;
		}
		if (job->phase == JOB_SENDING)
			job_send(job);
		else
			job_start_rma(job);
	}
}

/* ---- Requests ---------------------------------------------------------- */

static struct session *find_session(struct worker *w, uint64_t id)
{
	for (struct session *s = w->sessions; s; s = s->next)
		if (s->id == id)
			return s;
	return NULL;
}

/* A session's id names its worker in its low byte, so that CONNECT can send
 * a client resuming it there (any worker, after a restart with fewer). */
#define SESSION_ID_WORKER_MASK 0xffu

static struct worker *session_worker(struct server *srv, uint64_t id)
{
	return &srv->workers[(id & SESSION_ID_WORKER_MASK) % srv->nworkers];
}

static uint64_t new_session_id(struct worker *w)
{
	uint64_t id = 0;

	/* Unguessable, so that a session cannot be used by another client. */
	if (getrandom(&id, sizeof(id), 0) != sizeof(id))
		id = atomic_fetch_add(&w->srv->next_session, 1) * 0x9e3779b97f4a7c15ull;
	id = (id & ~(uint64_t)SESSION_ID_WORKER_MASK) | w->id;
	return id ? id : (uint64_t)SESSION_ID_WORKER_MASK + 1;
}

static void handle_connect(struct worker *w, struct dafs_compound *req)
{
	struct server *srv = w->srv;
	const struct dafs_args_connect *a = &req->ops[0].a.connect;
	struct worker *target;
	uint8_t nonce[DAFS_NONCE_BYTES];
	struct job *job;
	fi_addr_t peer;

	creds_switch_own();    /* the peer's address is the server's business */
	if (w->id != 0 || dafs_fabric_av_insert(w->fab, a->addr, &peer) != 0)
		return;
	job = job_new(w, NULL, peer);
	if (!job) {
		dafs_fabric_av_remove(w->fab, peer);
		return;
	}
	job->remove_peer = true;
	job->req.hdr = req->hdr;
	/* A client resuming a session goes back to the worker that has it. */
	target = a->resume ? session_worker(srv, a->resume) :
		 &srv->workers[atomic_fetch_add(&srv->next_worker, 1) % srv->nworkers];
	job->rep.nres = 1;
	job->rep.res[0].opcode = DAFS_OP_CONNECT;
	job->rep.res[0].r.connect.addr = target->name;
	job->rep.res[0].r.connect.addr_len = (uint32_t)target->name_len;
	/* With keys, the challenge a keyed SESSION_OPEN must answer (auth.h). */
	if (srv->keys_path) {
		challenge_issue(&srv->challenges, w->now_ms, nonce);
		job->rep.res[0].r.connect.nonce = nonce;
		job->rep.res[0].r.connect.nonce_len = sizeof(nonce);
	}
	if (srv->stopping)
		job->rep.res[0].status = -ESHUTDOWN;
	job_reply(job);
}

/* The refusal goes to peer, which leaves the address vector after it
 * unless it is a living session's (own_peer false). */
static void refuse_session_open(struct worker *w, struct dafs_compound *req, fi_addr_t peer,
				bool own_peer, int status)
{
	struct job *job = job_new(w, NULL, peer);

	if (!job) {
		if (own_peer)
			dafs_fabric_av_remove(w->fab, peer);
		return;
	}
	job->remove_peer = own_peer;
	job->req.hdr = req->hdr;
	job->rep.nres = 1;
	job->rep.res[0].opcode = DAFS_OP_SESSION_OPEN;
	job->rep.res[0].status = status;
	job_reply(job);
}

/* Who a SESSION_OPEN is from. A server with keys takes keyed clients only
 * (auth.h); one without takes keyless ones only (it listens on shm or
 * loopback alone, unless --insecure: main.c). Returns 0 or the refusal. */
static int authenticate(struct worker *w, const struct dafs_args_session_open *a, uint64_t id,
			struct principal *who, struct dafs_mac **mac, uint8_t proof[DAFS_PROOF_BYTES])
{
	const char *why = NULL;
	int rc;

	if (a->auth_method == DAFS_AUTH_NONE && !w->srv->keys_path)
		return 0;
	if (a->auth_method == DAFS_AUTH_NONE || a->auth_method == DAFS_AUTH_KEY) {
		if (!w->srv->keys_path)
			why = "a key, and this server has no --keys";
		else if (a->auth_method == DAFS_AUTH_NONE)
			why = "no key";
		else if (!(*mac = malloc(sizeof(**mac))))
			return -ENOMEM;
		else if ((rc = challenge_check_hello(w->srv, w->now_ms, a->auth, a->auth_len, id,
						     who, *mac, proof, &why)) == 0)
			return 0;
		log_msg("refused a session of %s: %s", a->name, why);
		return -EACCES;
	}
	return -EPROTONOSUPPORT;
}

/* A client that lost us takes its session over again (struct
 * dafs_args_connect says how): the same principal, a fresh MAC, its peer
 * address anew if it changed. Slots, replies and handles stay. */
static int session_take_over(struct worker *w, struct session *s, const struct principal *who,
			     struct dafs_mac **mac, const struct dafs_args_session_open *a,
			     fi_addr_t peer)
{
	if (s->closing || s->revoked)
		return -ESTALE;
	if (strcmp(s->who.name, who->name) != 0 || s->who.keyed != who->keyed)
		return -EACCES;
	if (peer != s->peer) {
		/* Jobs in flight answer the session's peer (job_send). */
		dafs_fabric_av_remove(w->fab, s->peer);
		s->peer = peer;
		memcpy(s->peer_name, a->addr, a->addr_len);
		s->peer_name_len = a->addr_len;
		admin_format_addr(a->addr, a->addr_len, s->addr, sizeof(s->addr));
	}
	if (s->mac) {
		dafs_mac_wipe(s->mac);
		free(s->mac);
	}
	s->mac = *mac;
	*mac = NULL;
	s->last_seen_ms = w->now_ms;
	s->resumes++;
	log_msg("session %016llx resumed: %s (pid %u)", (unsigned long long)s->id, s->name, a->pid);
	return 0;
}

static struct session *session_open_new(struct worker *w, uint64_t id, fi_addr_t peer,
					const struct dafs_args_session_open *a,
					const struct principal *who, struct dafs_mac **mac,
					unsigned *credits, int *rc)
{
	const char *client = who->name[0] ? who->name : "local";
	struct session *s;

	/* Fenced names, sessions per name and memory per session go by the
	 * name the key proved. */
	*rc = admission_session_open(&w->srv->adm, client, credits);
	if (*rc) {
		log_msg("refused a session of %s (%s, pid %u): %s", client, a->name, a->pid,
			strerror(-*rc));
		return NULL;
	}
	s = session_create(id, peer, *credits);
	if (!s) {
		admission_session_close(&w->srv->adm, client);
		*rc = -ENOMEM;
		return NULL;
	}
	/* A session of a client whose server restarted: its slots go on from
	 * where the client's are (session_slot_check), answering what the
	 * last server ran from the state directory. */
	s->reclaimed = a->resume != 0;
	*rc = s->reclaimed ? state_restore(w->srv, s) : 0;
	if (*rc) {
		log_msg("refused to reopen session %016llx of %s: %s", (unsigned long long)id,
			a->name, *rc == -ESTALE ? "it had ended" : strerror(-*rc));
		session_destroy(s);
		admission_session_close(&w->srv->adm, client);
		return NULL;
	}
	s->who = *who;
	s->mac = *mac;
	*mac = NULL;
	memcpy(s->peer_name, a->addr, a->addr_len);
	s->peer_name_len = a->addr_len;
	admin_format_addr(a->addr, a->addr_len, s->addr, sizeof(s->addr));
	/* No wait object (shm): the client naps while a slow request runs;
	 * its bell, named after its fabric address, cuts the nap short. */
	if (w->bell.fd >= 0)
		dafs_bell_address(&s->bell, a->addr, a->addr_len);
	snprintf(s->name, sizeof(s->name), "%s", a->name);
	s->pid = a->pid;
	s->last_seen_ms = w->now_ms;
	s->next = w->sessions;
	w->sessions = s;
	log_msg("session %016llx %s: %s (pid %u, %u credits, worker %u, %s, %s%s)",
		(unsigned long long)s->id, s->reclaimed ? "reopened after a restart" : "opened",
		s->name, s->pid, *credits, w->id, dafs_fabric_provider(w->fab),
		s->mac ? "key " : "no key", s->who.name);
	if (w->shm)
		procwatch_start(w, s, a->addr, a->addr_len);
	return s;
}

static bool session_ended(const struct worker *w, uint64_t id)
{
	unsigned n = w->nended < WORKER_ENDED_SESSIONS ? w->nended : WORKER_ENDED_SESSIONS;

	for (unsigned i = 0; i < n; i++)
		if (w->ended[i] == id)
			return true;
	return false;
}

static void handle_session_open(struct worker *w, struct dafs_compound *req)
{
	const struct dafs_args_session_open *a = &req->ops[0].a.session_open;
	unsigned credits = req->hdr.credits;
	uint8_t proof[DAFS_PROOF_BYTES];
	struct principal who = { .name = "" };
	struct dafs_mac *mac = NULL;
	struct session *s = a->resume ? find_session(w, a->resume) : NULL;
	bool resumed = s != NULL;
	struct job *job;
	fi_addr_t peer;
	uint64_t id;
	int rc;

	creds_switch_own();    /* mapping the peer (its shm region) is the server's business */
	if (s && s->peer_name_len == a->addr_len && memcmp(s->peer_name, a->addr, a->addr_len) == 0)
		peer = s->peer;
	else if (dafs_fabric_av_insert(w->fab, a->addr, &peer) != 0)
		return;
	if (credits == 0 || credits > 128)
		credits = credits ? 128 : 1;
	rc = w->srv->stopping ? -ESHUTDOWN : 0;
	/* A session is resumed where CONNECT sends it: ids are per worker. */
	if (rc == 0 && a->resume && session_worker(w->srv, a->resume) != w)
		rc = -EINVAL;
	if (rc == 0 && a->resume && !s && session_ended(w, a->resume))
		rc = -ESTALE;
	id = a->resume ? a->resume : new_session_id(w);
	if (rc == 0)
		rc = authenticate(w, a, id, &who, &mac, proof);
	if (rc == 0 && s)
		rc = session_take_over(w, s, &who, &mac, a, peer);
	else if (rc == 0)
		s = session_open_new(w, id, peer, a, &who, &mac, &credits, &rc);
	if (rc) {
		if (mac) {
			dafs_mac_wipe(mac);
			free(mac);
		}
		refuse_session_open(w, req, peer, !s || peer != s->peer, rc);
		return;
	}
	job = job_new(w, s, peer);
	if (!job)
		return;
	job->req.hdr = req->hdr;
	job->req.hdr.session = s->id;
	job->req.hdr.flags |= DAFS_HF_NOSLOT;
	job->rep.nres = 1;
	job->rep.res[0].opcode = DAFS_OP_SESSION_OPEN;
	job->rep.res[0].r.session_open = (struct dafs_res_session_open){
		.session = s->id, .credits = s->nslots, .lease_ms = w->srv->lease_ms,
		.msg_max = DAFS_MSG_MAX, .inline_max = DAFS_INLINE_MAX,
		.io_max = (uint32_t)(dafs_fabric_max_rma(w->fab) < DAFS_IO_MAX ?
				     dafs_fabric_max_rma(w->fab) : DAFS_IO_MAX),
		.resumed = resumed,
	};
	if (s->mac) {
		job->rep.res[0].r.session_open.auth = proof;
		job->rep.res[0].r.session_open.auth_len = sizeof(proof);
	}
	job_reply(job);
}

/* Operations that only make sense alone in a request. */
static bool is_solitary(uint16_t opcode)
{
	return opcode == DAFS_OP_CONNECT || opcode == DAFS_OP_SESSION_OPEN ||
	       opcode == DAFS_OP_SESSION_CLOSE;
}

/* What a client that resumed a session after a restart sends before its
 * slots are free again (its unanswered requests hold them): its memory
 * registered, its files reopened and its locks taken again, outside the
 * slot table. Each may run twice harmlessly (do_reopen takes a handle that
 * is already the file; a lock its owner holds is granted again). */
static bool is_reclaim(const struct dafs_compound *req)
{
	for (unsigned i = 0; i < req->nops; i++)
		if (req->ops[i].opcode != DAFS_OP_REGISTER && req->ops[i].opcode != DAFS_OP_REOPEN &&
		    req->ops[i].opcode != DAFS_OP_LOCK)
			return false;
	return req->nops > 0;
}

/* Decodes the job's frame; CONNECT, SESSION_OPEN and SESSION_CLOSE must
 * stand alone in their request. */
static int decode_body(struct job *job)
{
	int rc = dafs_decode_request(job->frame, job->frame_len, &job->req);

	if (rc == 0 && job->req.nops > 1)
		for (unsigned i = 0; i < job->req.nops; i++)
			if (is_solitary(job->req.ops[i].opcode))
				return -EINVAL;
	return rc;
}

/* A PING of a session we do not know (we restarted, or it ended): told so
 * (DAFS_STATUS_NO_SESSION), at the address it carries, so that its client
 * comes back at once rather than after its timeout. Whether it may is
 * SESSION_OPEN's to say. Returns whether it was one. */
static bool answer_unknown_ping(struct worker *w, const void *frame, size_t len,
				const struct dafs_hdr *hdr)
{
	struct dafs_compound *req;
	struct job *job;
	fi_addr_t peer;
	bool ping;

	/* Over shm the address is a name its client unlinked once its first
	 * server had mapped it, and mapping a name this process mapped and
	 * removed before crashes libfabric 1.17's shm: never there. Nor with
	 * --keys: keyed clients' pings come sealed with keys we lost, and an
	 * unsealed one's address could be anybody's, for us to connect to. */
	if (w->shm || w->srv->keys_path || !(hdr->flags & DAFS_HF_NOSLOT) ||
	    (hdr->flags & DAFS_HF_MAC))
		return false;
	req = malloc(sizeof(*req));
	ping = req && dafs_decode_request(frame, len, req) == 0 && req->nops == 1 &&
	       req->ops[0].opcode == DAFS_OP_PING && req->ops[0].a.connect.addr_len > 0;
	creds_switch_own();    /* mapping the peer is the server's business */
	if (!ping || dafs_fabric_av_insert(w->fab, req->ops[0].a.connect.addr, &peer) != 0) {
		free(req);
		return ping;
	}
	free(req);
	job = job_new(w, NULL, peer);
	if (!job) {
		dafs_fabric_av_remove(w->fab, peer);
		return true;
	}
	job->remove_peer = true;
	job->req.hdr = *hdr;
	job->rep.hdr.status = -DAFS_STATUS_NO_SESSION;
	job_reply(job);
	return true;
}

static void handle_frame(struct worker *w, const void *frame, size_t len)
{
	struct dafs_hdr hdr;
	struct session *s;
	struct job *job;
	int rc = dafs_decode_hdr(frame, len, &hdr);

	if (rc) {
		log_msg("dropped a malformed frame of %zu bytes: %s", len, strerror(-rc));
		return;
	}
	s = hdr.session ? find_session(w, hdr.session) : NULL;
	if (hdr.session && !s) {
		/* No session, no address to answer to, but a PING's own. */
		if (!answer_unknown_ping(w, frame, len, &hdr))
			log_msg("dropped a request for unknown session %016llx",
				(unsigned long long)hdr.session);
		return;
	}
	job = job_new(w, s, s ? s->peer : 0);
	if (!job)
		return;
	job->frame = malloc(len);
	if (!job->frame) {
		job_free(job);
		return;
	}
	memcpy(job->frame, frame, len);
	job->frame_len = len;
	job->req.hdr = hdr;
	/* A keyed session's frame is checked before anything past its header
	 * is read; a refused one changes nothing (not even the lease) and is
	 * answered unsealed. So is a sealed frame for a keyless session. */
	if (s && (s->mac || (hdr.flags & DAFS_HF_MAC))) {
		rc = s->mac ? dafs_mac_open(s->mac, job->frame, len, &job->frame_len) : -EBADMSG;
		if (rc) {
			log_msg("refused a frame for session %016llx (%s): %s",
				(unsigned long long)s->id, s->name,
				rc == -EALREADY ? "replayed or too old" : "bad MAC");
			job->no_seal = true;
			job->rep.hdr.status = -EBADMSG;
			job_reply(job);
			return;
		}
		hdr.flags &= (uint16_t)~DAFS_HF_MAC;
		job->req.hdr = hdr;
	}
	if (!s) {
		/* Before a session: CONNECT and SESSION_OPEN, nothing else. */
		rc = decode_body(job);
		if (rc == 0 && job->req.ops[0].opcode == DAFS_OP_CONNECT)
			handle_connect(w, &job->req);
		else if (rc == 0 && job->req.ops[0].opcode == DAFS_OP_SESSION_OPEN)
			handle_session_open(w, &job->req);
		else
			log_msg("dropped a sessionless frame: %s",
				rc ? strerror(-rc) : "not CONNECT or SESSION_OPEN");
		job_free(job);
		return;
	}
	s->last_seen_ms = w->now_ms;
	s->requests++;
	s->bytes_in += len;
	if (s->revoked) {
		/* Fenced or evicted (dafsctl): this request's answer is the
		 * final error, and the session ends. */
		job->rep.hdr.status = s->revoked;
		job_reply(job);
		worker_end_session(w, s, s->revoked == -EKEYREVOKED ? "fenced" : "evicted");
		return;
	}
	/* The slot is taken before the body is decoded, so that a refused
	 * request still moves the slot's sequence on, as the client expects,
	 * and a retry of it is answered from the cache like any other. */
	if (!(hdr.flags & DAFS_HF_NOSLOT)) {
		switch (session_slot_check(s, hdr.slot, hdr.seq)) {
		case SLOT_REPLAY:
			send_bytes(job, s->slots[hdr.slot].reply, s->slots[hdr.slot].reply_len);
			return;
		case SLOT_IN_PROGRESS:
			job_free(job);
			return;
		case SLOT_BAD:
			job->rep.hdr.status = -EINVAL;
			job_reply(job);
			return;
		case SLOT_NEW:
			job->owns_slot = true;
			break;
		}
	}
	rc = decode_body(job);
	if (rc) {
		job->req.hdr = hdr;
		job->rep.hdr.status = rc;
		job_reply(job);
		return;
	}
	job->reclaim = (hdr.flags & DAFS_HF_NOSLOT) && is_reclaim(&job->req);
	if (!job->reclaim && s->awaited)
		state_session_back(w, s);
	if ((hdr.flags & DAFS_HF_NOSLOT) && !job->reclaim) {
		/* Pings renew the lease; nothing else may skip the slot table
		 * but a resumed session's set-up. */
		if (job->req.nops != 1 || (job->req.ops[0].opcode != DAFS_OP_NULL &&
					   job->req.ops[0].opcode != DAFS_OP_PING))
			job->rep.hdr.status = -EINVAL;
		else
			job->rep.nres = 1;
		job_reply(job);
		return;
	}
	if (w->srv->stopping) {
		job->rep.hdr.status = -ESHUTDOWN;
		job_reply(job);
		return;
	}
	if (job->req.ops[0].opcode == DAFS_OP_SESSION_CLOSE) {
		s->closing = true;
		job->rep.nres = 1;
		job->rep.res[0].opcode = DAFS_OP_SESSION_CLOSE;
		job_reply(job);
		return;
	}
	/* Whom it runs as: what its caller asserts, as the session's key
	 * allows (creds.c). */
	rc = creds_effective(&s->who, &job->req.cred, &job->cred);
	if (rc) {
		job->rep.hdr.status = rc;
		job_reply(job);
		return;
	}
	s->acted = true;
	s->last_uid = job->cred.uid;
	job_run(job);
}

/* ---- Completions ------------------------------------------------------- */

static bool is_recv_ctx(struct worker *w, struct dafs_fabric_ctx *ctx)
{
	return (void *)ctx >= (void *)w->recvs && (void *)ctx < (void *)(w->recvs + WORKER_RECVS);
}

static void on_fabric(struct worker *w, struct dafs_completion *c)
{
	struct job *job;

	/* What completed is told by which context it was, not by the entry's
	 * flags: providers leave the flags of error entries unset. */
	if (!c->ctx) {
		log_msg("worker %u: a completion without context (status %d)", w->id, c->status);
		return;
	}
	if (is_recv_ctx(w, c->ctx)) {
		struct recv_buf *rb = c->ctx->owner;
		rb->posted = false;
		if (c->status == 0)
			handle_frame(w, rb->buf, c->len);
		if (!w->srv->stopping || c->status == 0)
			if (post_recv(w, rb) != 0)
				log_msg("worker %u: cannot repost a receive buffer", w->id);
		return;
	}
	job = c->ctx->owner;
	if (c->ctx == &job->send_ctx) {
		if (c->status)
			log_msg("reply to %s not delivered: %s", job->sess ? job->sess->name : "a client",
				strerror(-c->status));
		job_free(job);
		return;
	}
	job->rma_busy--;
	if (c->status && !job->rma_err)
		job->rma_err = c->status;
	/* Wait for every posted transfer before reusing the buffer; a stalled
	 * job is resumed by retry_stalled instead. */
	if (job->rma_busy == 0 && !job->is_stalled)
		job_start_rma(job);
}

static void on_uring(struct worker *w, struct io_uring_cqe *cqe)
{
	void *data = io_uring_cqe_get_data(cqe);
	int res = cqe->res;

	io_uring_cqe_seen(&w->ring, cqe);
	if (data == POLL_TAG) {
		w->uring_poll_armed = false;
		dafs_bell_drain(&w->bell);
		return;
	}
	if (procwatch_owns(data)) {
		procwatch_done(w, data, res);
		return;
	}
	struct job *job = data;
	job_continue_op(job, op_io_done(job, res));
}

static void expire_sessions(struct worker *w)
{
	struct session **p = &w->sessions;

	while (*p) {
		struct session *s = *p;
		if (s->jobs == 0 && (s->closing || w->now_ms - s->last_seen_ms > w->srv->lease_ms)) {
			*p = s->next;
			log_msg("session %016llx closed: %s (lease expired)",
				(unsigned long long)s->id, s->name);
			op_release_session(w, s, s->closing && !s->closing_why ? SESSION_CLOSED :
						 SESSION_LOST);
			continue;
		}
		p = &s->next;
	}
}

/* Blocks until the fabric or the ring has something, or `timeout_ms`. */
static void wait_for_work(struct worker *w, int timeout_ms)
{
	int fd = dafs_fabric_wait_fd(w->fab);
	bool napping = fd < 0;         /* nothing to block on: wake every ms */
	struct __kernel_timespec ts = { timeout_ms / 1000, (long long)(timeout_ms % 1000) * 1000000 };
	struct io_uring_cqe *cqe;

	if (napping)
		fd = w->bell.fd;       /* a ring ends the nap early */
	if (fd >= 0) {
		if (!w->uring_poll_armed) {
			struct io_uring_sqe *sqe = worker_sqe(w);
			if (!sqe)
				return;
			io_uring_prep_poll_add(sqe, fd, POLLIN);
			io_uring_sqe_set_data(sqe, POLL_TAG);
			w->uring_poll_armed = true;
		}
		if (!napping && dafs_fabric_trywait(w->fab) != 0)
			return;
	}
	if (napping && timeout_ms > 1)
		ts = (struct __kernel_timespec){ 0, 1000000 };
	io_uring_submit(&w->ring);
	w->uring_pending = 0;
	io_uring_wait_cqe_timeout(&w->ring, &cqe, &ts);
}

void *worker_main(void *arg)
{
	struct worker *w = arg;
	struct dafs_completion comps[32];
	uint64_t last_expiry = 0, stop_seen = 0, last_busy_ns = 0;

	/* Alternate signal stacks are per thread: without one a stack overflow
	 * here would die without its backtrace. */
	if (w->id != 0 && crash_thread_init() != 0)
		log_msg("worker %u: no alternate signal stack", w->id);

	for (;;) {
		struct io_uring_cqe *cqe;
		int n, busy = 0;

		w->now_ns = now_ns();
		w->now_ms = w->now_ns / 1000000;
		/* libfabric's shm provider maps a new peer's region (a 0600 file
		 * of the client's user in /dev/shm) inside the poll: as the last
		 * caller that would fail, and the provider then crashes. Free
		 * when the thread is already the server's own. */
		if (w->shm)
			creds_switch_own();
		/* What this poll finds came after the last one. */
		w->prev_poll_ns = w->last_poll_ns;
		w->last_poll_ns = w->now_ns;
		n = dafs_fabric_poll(w->fab, comps, 32);
		for (int i = 0; i < n; i++)
			on_fabric(w, &comps[i]);
		busy += n > 0 ? n : 0;
		if (w->stalled)
			retry_stalled(w);
		if (w->recvs_unposted)
			repost_recvs(w);
		if (w->uring_pending) {
			io_uring_submit(&w->ring);
			w->uring_pending = 0;
		}
		while (io_uring_peek_cqe(&w->ring, &cqe) == 0) {
			on_uring(w, cqe);
			busy++;
		}
		admin_worker_poll(w);
		if (w->now_ms - last_expiry >= 250) {
			last_expiry = w->now_ms;
			expire_sessions(w);
		}
		if (w->srv->stopping && !stop_seen)
			stop_seen = w->now_ms;
		if (w->srv->stopping && w->jobs == 0)
			break;
		if (stop_seen && w->now_ms - stop_seen > STOP_GIVE_UP_MS) {
			log_msg("worker %u: abandoning %u requests whose clients do not answer",
				w->id, w->jobs);
			break;
		}
		if (busy) {
			last_busy_ns = w->now_ns;
			continue;
		}
		/* Requests come in runs: poll on for a moment after the last
		 * piece of work, then sleep (wait.h). */
		if (w->now_ns - last_busy_ns < DAFS_SPIN_NS) {
			dafs_cpu_relax();
			continue;
		}
		wait_for_work(w, w->stalled || w->recvs_unposted ? 1 : 100);
	}
	admin_worker_exit(w);
	if (w->id != 0)
		crash_thread_fini();
	return NULL;
}
