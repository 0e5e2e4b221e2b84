/* recover.c — riding through a lost server. When the server stops
 * answering (request.c's server_lost: silence past the timeout, a frame
 * the fabric could not deliver, a ping answered "no such session", a
 * server stopping), requests in flight keep their slots and new ones wait,
 * while the lease thread reconnects on a new endpoint: CONNECT and
 * SESSION_OPEN resuming the session (proto.h, struct dafs_args_connect;
 * a keyed session proving itself again with its kept key), with a growing
 * pause between tries, until the recovery timeout. A server that still has
 * the session (the connection was cut) answers what it already ran from
 * its reply cache. One that restarted opens a new session of the same id,
 * into which our memory is registered again, our open files reopened at
 * their old handles (by path, refused when the name is another file now;
 * their cached pages kept if the file is as we read it) and our byte-range
 * locks taken again; its state directory answers what the last server ran
 * (server/state.h). Then every unanswered frame goes again exactly as it
 * was. A refusal (a fenced client, an ended session) is final: every
 * request fails with it.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "client.h"

#define RECOVER_PAUSE_MIN_MS  50
#define RECOVER_PAUSE_MAX_MS  2000
#define RECLAIM_OPS           6        /* REOPENs of the longest paths fit a frame */
#define RECLAIM_LOCKS         DAFS_COMPOUND_MAX

/* The statuses of a reclaim compound's operations, in order, and a
 * REOPEN's attributes. */
struct reclaim_result {
	unsigned n;
	int status[DAFS_COMPOUND_MAX];
	struct dafs_attr attr[DAFS_COMPOUND_MAX];
};

static ssize_t finish_reclaim(struct dafs_req *req, struct dafs_reply *rep)
{
	struct reclaim_result *r;

	if (!rep)
		return req->result;
	if (req->s->mac && !req->s->boot_sealed)
		return -EBADMSG;           /* a keyed session's answers come sealed */
	r = calloc(1, sizeof(*r));
	if (!r)
		return -ENOMEM;
	r->n = rep->nres;
	for (unsigned i = 0; i < rep->nres; i++) {
		r->status[i] = client_errno_of(rep, i);
		if (r->status[i] == 0 && rep->res[i].opcode == DAFS_OP_REOPEN)
			r->attr[i] = rep->res[i].r.handle.attr;
	}
	req->boot_out = r;
	return 0;
}

/* Sends the n operations of rq outside the slot table; *files (n entries,
 * NULL for a REGISTER) learn whether they came back. */
static int reclaim_send(struct dafs_session *s, struct dafs_compound *rq,
			struct dafs_file *const *files, unsigned n)
{
	struct reclaim_result *r = NULL;
	int rc;

	rq->nops = (uint16_t)n;
	rq->hdr.flags = DAFS_HF_CONTINUE;    /* each op answers for itself */
	rc = client_boot_call(s, rq, finish_reclaim, (void **)&r);
	for (unsigned i = 0; rc == 0 && i < n; i++) {
		int st = i < r->n ? r->status[i] : -EIO;
		if (st == 0 && files[i]) {
			pthread_mutex_lock(&s->lock);
			cache_revalidate(files[i], &r->attr[i]);
			pthread_mutex_unlock(&s->lock);
		}
		if (st == 0)
			continue;
		if (!files[i]) {
			rc = st;       /* memory the server must know */
			break;
		}
		/* Its handle is unknown to the new server: every later call on
		 * it fails (EBADF), as on a local file system whose file was
		 * replaced under an open descriptor it could not be. */
		fprintf(stderr, "libdafs: %s could not be reopened after the server restarted: %s\n",
			files[i]->path ? files[i]->path : "(an unnamed file)", strerror(-st));
	}
	free(r);
	memset(rq, 0, sizeof(*rq));
	return rc;
}

/* An open file of the lock's file, to take it through. */
static struct dafs_file *file_of(struct dafs_session *s, const struct held_lock *h)
{
	for (struct dafs_file *f = s->files; f; f = f->next_open)
		if (f->dev == h->dev && f->ino == h->ino)
			return f;
	return NULL;
}

/* Our locks again, from a server that lost them with its restart (its
 * grace period holds others' new locks off meanwhile: server/state.h). One
 * another client took anyway stays its: we say so, and forget ours. */
static int reclaim_locks(struct dafs_session *s, struct dafs_compound *rq)
{
	struct held_lock *batch[RECLAIM_LOCKS];
	struct reclaim_result *r;
	unsigned n = 0;
	int rc = 0;

	pthread_mutex_lock(&s->lock);
	for (struct held_lock *h = s->held_locks; h || n; h = h ? h->next : NULL) {
		struct dafs_file *f = h ? file_of(s, h) : NULL;
		if (f) {
			batch[n] = h;
			rq->ops[n].opcode = DAFS_OP_LOCK;
			rq->ops[n++].a.lock = (struct dafs_args_lock){
				.fh = f->fh, .owner = h->owner, .start = h->start,
				.len = h->end == UINT64_MAX ? 0 : h->end - h->start,
				.pid = (uint32_t)getpid(), .type = h->type,
			};
		}
		if (n == 0 || (h && n < RECLAIM_LOCKS))
			continue;
		rq->nops = (uint16_t)n;
		rq->hdr.flags = DAFS_HF_CONTINUE;
		pthread_mutex_unlock(&s->lock);
		r = NULL;
		rc = client_boot_call(s, rq, finish_reclaim, (void **)&r);
		pthread_mutex_lock(&s->lock);
		for (unsigned i = 0; rc == 0 && i < n; i++) {
			int st = i < r->n ? r->status[i] : -EIO;
			if (st == 0)
				continue;
			fprintf(stderr, "libdafs: a lock held before the server restarted was not "
				"taken back (bytes %llu to %s of inode %llu): %s\n",
				(unsigned long long)batch[i]->start,
				batch[i]->end == UINT64_MAX ? "the end" : "an offset",
				(unsigned long long)batch[i]->ino, strerror(-st));
			batch[i]->type = 0;       /* forgotten below */
		}
		free(r);
		memset(rq, 0, sizeof(*rq));
		n = 0;
		if (rc)
			break;
	}
	for (struct held_lock **p = &s->held_locks; *p;) {
		struct held_lock *h = *p;
		if (h->type == 0) {
			*p = h->next;
			free(h);
		} else {
			p = &h->next;
		}
	}
	pthread_mutex_unlock(&s->lock);
	return rc;
}

static void add_register(struct dafs_compound *rq, unsigned i, const struct dafs_mr *mr)
{
	rq->ops[i].opcode = DAFS_OP_REGISTER;
	rq->ops[i].a.region = (struct dafs_args_region){ mr->remote_base, mr->len, mr->key };
}

/* A restarted server knows nothing of us: our memory, then our files. */
static int reclaim(struct dafs_session *s)
{
	struct dafs_compound *rq = compound_alloc();
	struct dafs_file *files[DAFS_COMPOUND_MAX];
	unsigned n = 0;
	int rc = 0;

	if (!rq)
		return -ENOMEM;
	memset(rq, 0, sizeof(*rq));
	pthread_mutex_lock(&s->lock);
	files[n] = NULL;
	add_register(rq, n++, &s->bounce_mr);
	if (cache_region(s)) {
		files[n] = NULL;
		add_register(rq, n++, cache_region(s));
	}
	for (struct dafs_mem *m = s->mems; m && rc == 0; m = m->next) {
		files[n] = NULL;
		add_register(rq, n++, &m->mr);
		if (n == DAFS_COMPOUND_MAX) {
			pthread_mutex_unlock(&s->lock);
			rc = reclaim_send(s, rq, files, n);
			pthread_mutex_lock(&s->lock);
			n = 0;
		}
	}
	pthread_mutex_unlock(&s->lock);
	if (rc == 0 && n)
		rc = reclaim_send(s, rq, files, n);
	n = 0;
	/* No file opens or closes while the server is lost (their requests
	 * wait in submit_locked): the list holds still while we let go. */
	pthread_mutex_lock(&s->lock);
	for (struct dafs_file *f = s->files; f && rc == 0; f = f->next_open) {
		files[n] = f;
		rq->ops[n].opcode = DAFS_OP_REOPEN;
		rq->ops[n++].a.reopen = (struct dafs_args_reopen){
			.fh = f->fh, .path = f->path ? f->path : "",
			.flags = client_open_flags(f->flags) &
				 ~(uint32_t)(DAFS_O_CREAT | DAFS_O_EXCL | DAFS_O_TRUNC | DAFS_O_TMPFILE),
			.dev = f->dev, .ino = f->ino,
		};
		if (n == RECLAIM_OPS || !f->next_open) {
			pthread_mutex_unlock(&s->lock);
			rc = reclaim_send(s, rq, files, n);
			pthread_mutex_lock(&s->lock);
			n = 0;
		}
	}
	pthread_mutex_unlock(&s->lock);
	if (rc == 0)
		rc = reclaim_locks(s, rq);
	compound_free(rq);
	return rc;
}

/* Every request still waiting for its answer goes again, as it was: the
 * server answers one it already ran from its reply cache. */
static int resend(struct dafs_session *s)
{
	int rc = 0;

	s->pending_since_ms = client_now_ms();
	s->last_rx_ns = client_now_ns();
	for (unsigned i = 0; i < s->credits && rc == 0; i++) {
		struct msgbuf *m = &s->sends[i];
		if (!s->slots[i].req)
			continue;
		s->slots[i].sent_ms = client_now_ms();
		rc = client_send_again(s, m);
	}
	return rc;
}

/* A new endpoint on the same memory, nothing in flight, made ready as at
 * open: what was posted to the lost server may never complete (tcp), and
 * over shm a restarted server cannot map our old endpoint, whose name is
 * gone (session.c unlinks it). */
static int renew_endpoint(struct dafs_session *s)
{
	int rc = dafs_fabric_renew_endpoint(s->fab);

	s->server = FI_ADDR_NOTAVAIL;
	s->sends_busy = 0;
	for (unsigned i = 0; i <= s->credits; i++)
		s->sends[i].busy = false;
	return rc ? rc : client_endpoint_ready(s);
}

/* One try: a new endpoint, and the listener greeted again. Session locked
 * (let go meanwhile). */
static int reconnect(struct dafs_session *s)
{
	int rc;

	s->recovering = true;
	rc = renew_endpoint(s);
	if (rc == 0)
		rc = dafs_fabric_av_insert_url(s->fab, &s->url, &s->server);
	if (rc)
		s->server = FI_ADDR_NOTAVAIL;
	if (rc == 0) {
		pthread_mutex_unlock(&s->lock);
		rc = client_rejoin(s);
		if (rc == 0 && !s->resumed)
			rc = reclaim(s);
		pthread_mutex_lock(&s->lock);
	}
	/* The server has mapped our new endpoint: its name can go (session.c). */
	if (rc == 0)
		rc = dafs_fabric_unlink_shm_name(s->fab);
	if (rc == 0)
		rc = resend(s);
	s->recovering = false;
	return rc;
}

/* Answers that end recovery: the server will not have us back. */
static bool refused(int rc)
{
	return rc == -EACCES || rc == -EKEYREVOKED || rc == -ECONNABORTED || rc == -ESTALE ||
	       rc == -EPROTO || rc == -ENOMEM;
}

static void recovered(struct dafs_session *s)
{
	s->lost = false;
	pthread_cond_broadcast(&s->back_cond);
}

void client_recover(struct dafs_session *s)
{
	unsigned pause_ms = RECOVER_PAUSE_MIN_MS;

	assert_session_locked(s);
	while (s->lost && !s->closing && !s->dead) {
		uint64_t waited = client_now_ms() - s->lost_since_ms;
		int rc;

		if (waited >= s->recovery_ms) {
			fprintf(stderr, "libdafs: the server did not come back in %llu s: giving up\n",
				(unsigned long long)(s->recovery_ms / 1000));
			recovered(s);
			client_fail_all(s, -EIO);
			return;
		}
		rc = reconnect(s);
		if (rc == 0) {
			recovered(s);
			s->recoveries++;
			fprintf(stderr, "libdafs: the server is back after %llu ms (%s)\n",
				(unsigned long long)(client_now_ms() - s->lost_since_ms),
				s->resumed ? "session resumed" : "it restarted: files reopened");
			return;
		}
		if (refused(rc)) {
			fprintf(stderr, "libdafs: the server refused to take the session back: %s\n",
				strerror(-rc));
			recovered(s);
			client_fail_all(s, rc);
			return;
		}
		struct timespec until = client_realtime_in_ms(pause_ms);
		pthread_cond_timedwait(&s->lease_cond, &s->lock, &until);
		pause_ms = pause_ms * 2 > RECOVER_PAUSE_MAX_MS ? RECOVER_PAUSE_MAX_MS : pause_ms * 2;
	}
}
