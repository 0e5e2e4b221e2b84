/* session.c — a session's life: opening it (CONNECT, SESSION_OPEN, its
 * memory, page cache and registration cache), the lease thread that keeps
 * it alive and sends coalesced writes, and closing it. */
#include <errno.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

#include "client.h"
#include "shmreap.h"

static void *lease_main(void *arg)
{
	struct dafs_session *s = arg;

	pthread_mutex_lock(&s->lock);
	s->lease_started = true;
	pthread_cond_broadcast(&s->lease_cond);
	while (!s->closing && !s->dead) {
		/* Coalesced writes wait about a millisecond at most: while
		 * there are any, tick every millisecond and send those due. */
		s->lease_ticking = s->wb_files != NULL;
		struct timespec until = client_realtime_in_ms(s->lease_ticking ? 1 : s->lease_ms / 3);
		pthread_cond_timedwait(&s->lease_cond, &s->lock, &until);
		if (s->closing || s->dead)
			break;
		if (s->lost) {
			client_recover(s);
			continue;
		}
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

/* CONNECT's answer: the fabric name of the worker that will serve us, and
 * the server's challenge when it takes keys (auth.h). */
struct worker_addr {
	size_t len;
	uint8_t addr[DAFS_ADDR_MAX];
	bool has_nonce;
	uint8_t nonce[DAFS_NONCE_BYTES];
};

/* SESSION_OPEN's answer, with the server's proof copied out of the frame. */
struct granted {
	struct dafs_res_session_open res;
	bool sealed;                   /* the reply was sealed with our session key */
	bool has_proof;
	uint8_t proof[DAFS_PROOF_BYTES];
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
		copy->has_nonce = c->nonce_len == DAFS_NONCE_BYTES;
		if (copy->has_nonce)
			memcpy(copy->nonce, c->nonce, DAFS_NONCE_BYTES);
		req->boot_out = copy;
		return 0;
	}
	struct granted *g = calloc(1, sizeof(*g));
	if (!g)
		return -ENOMEM;
	g->res = rep->res[0].r.session_open;
	g->sealed = req->s->boot_sealed;
	g->has_proof = g->res.auth_len == DAFS_PROOF_BYTES;
	if (g->has_proof)
		memcpy(g->proof, g->res.auth, DAFS_PROOF_BYTES);
	g->res.auth = NULL;
	g->res.auth_len = 0;
	req->boot_out = g;
	return 0;
}

static int boot_call(struct dafs_session *s, struct dafs_compound *rq, void **out)
{
	return client_boot_call(s, rq, finish_boot, out);
}

int client_boot_call(struct dafs_session *s, struct dafs_compound *rq, req_finish_fn finish,
		     void **out)
{
	struct dafs_req *req;
	ssize_t rc;

	req = req_alloc(s, finish);
	if (!req)
		return -ENOMEM;
	req->standalone = true;
	req->noslot = true;
	pthread_mutex_lock(&s->lock);
	/* Recovery's exchanges have the timeout to themselves: the requests
	 * that wait meanwhile have been waiting since the server was lost. */
	if (s->recovering)
		s->pending_since_ms = client_now_ms();
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
	held_locks_free(s);
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
	if (s->mac) {
		dafs_mac_wipe(s->mac);
		free(s->mac);
	}
	if (s->key) {
		dafs_key_wipe(s->key);
		sodium_free(s->key);
	}
	dafs_bell_close(&s->own_bell);
	pthread_cond_destroy(&s->lease_cond);
	pthread_cond_destroy(&s->back_cond);
	pthread_mutex_destroy(&s->lock);
	free(s);
}

/* Reads this large and larger go straight into the caller's buffer (0:
 * never). Off unless asked for: on shm and tcp here, streaming 256 KiB to
 * 1 MiB reads went no faster that way than through the page cache, whose
 * read-ahead keeps the server busy while the reader copies; it saves
 * client CPU only (README, "Direct reads", has the figures). */
#define DIRECT_READ_DEFAULT 0

static size_t direct_read_min(const struct dafs_session_opts *opts)
{
	return opts && opts->direct_read_min > 0 ? (size_t)opts->direct_read_min :
						    DIRECT_READ_DEFAULT;
}

/* The endpoint and its memory: receives posted, our fabric address in
 * addr, the server's listening endpoint addressed, and our doorbell up
 * when it has one (*doorbells). */
static int session_endpoint(struct dafs_session *s, const struct dafs_url *parsed,
			    const struct dafs_session_opts *opts)
{
	int rc;

	rc = dafs_fabric_open(parsed, false, &s->fab);
	if (rc)
		return rc;
	rc = session_setup_memory(s);
	if (rc)
		return rc;
	/* No wait object (shm): our naps while a slow request runs end when
	 * the server rings this bell with its reply. opts->doorbells < 0
	 * (DAFS_DOORBELL=0) goes without, both ways (scripts/bench-latency's
	 * baseline). */
	s->doorbells = dafs_fabric_wait_fd(s->fab) < 0 && !(opts && opts->doorbells < 0);
	rc = client_endpoint_ready(s);
	if (rc)
		return rc;
	return dafs_fabric_av_insert_url(s->fab, parsed, &s->server);
}

int client_endpoint_ready(struct dafs_session *s)
{
	int rc = 0;

	for (unsigned i = 0; i < s->nrecvs && rc == 0; i++)
		rc = post_recv(s, &s->recvs[i]);
	s->addr_len = sizeof(s->addr);
	if (rc == 0)
		rc = dafs_fabric_getname(s->fab, s->addr, &s->addr_len);
	if (rc == 0 && s->doorbells) {
		dafs_bell_close(&s->own_bell);
		dafs_bell_listen(&s->own_bell, s->addr, s->addr_len);
	}
	return rc;
}

/* CONNECT asks the listening endpoint which worker will serve us (the one
 * with session `resume`, if not 0); that worker is the server from then
 * on. With a key, its challenge goes into the hello. */
static int session_connect(struct dafs_session *s, struct dafs_auth_hello *hello,
			   uint64_t resume)
{
	fi_addr_t listener = s->server;
	struct dafs_compound *rq = compound_alloc();
	struct worker_addr *worker = NULL;
	int rc;

	if (!rq)
		return -ENOMEM;
	rq->nops = 1;
	rq->ops[0].opcode = DAFS_OP_CONNECT;
	rq->ops[0].a.connect = (struct dafs_args_connect){ s->addr, (uint32_t)s->addr_len,
							    resume };
	rc = boot_call(s, rq, (void **)&worker);
	compound_free(rq);
	if (rc)
		return rc;
	rc = dafs_fabric_av_insert(s->fab, worker->addr, &s->server);
	/* Recovery's listener address is its own to drop (recover.c). */
	if (rc == 0 && resume)
		dafs_fabric_av_remove(s->fab, listener);
	/* No wait object at the server's end (shm): ring it when it may be
	 * napping (send_frame). */
	if (rc == 0 && s->doorbells)
		dafs_bell_address(&s->bell, worker->addr, worker->len);
	if (rc == 0 && hello && !worker->has_nonce) {
		fprintf(stderr, "libdafs: the server takes no keys (no --keys): "
			"it cannot prove it is the one this key is for\n");
		rc = -EACCES;
	}
	if (rc == 0 && hello)
		memcpy(hello->server_nonce, worker->nonce, DAFS_NONCE_BYTES);
	free(worker);
	return rc;
}

/* SESSION_OPEN introduces us to the worker, which grants the session its
 * id, credits and limits; or, with `resume`, gives us back that session
 * (s->resumed) or a new one of its id. */
static int session_introduce(struct dafs_session *s, const struct dafs_key *key,
			     struct dafs_auth_hello *hello, uint64_t resume)
{
	struct dafs_compound *rq = compound_alloc();
	struct granted *g = NULL;
	struct dafs_res_session_open *granted;
	uint8_t auth[DAFS_AUTH_MAX], expect[DAFS_PROOF_BYTES];
	int rc, auth_len = 0;

	if (!rq)
		return -ENOMEM;
	rq->nops = 1;
	rq->ops[0].opcode = DAFS_OP_SESSION_OPEN;
	rq->ops[0].a.session_open = (struct dafs_args_session_open){
		.pid = (uint32_t)getpid(), .uid = (uint32_t)getuid(), .gid = (uint32_t)getgid(),
		.name = s->name, .addr = s->addr, .addr_len = (uint32_t)s->addr_len,
		.resume = resume,
	};
	if (key) {
		/* auth.h: our nonce and proof; the session keys are ready before
		 * the reply, which comes sealed with them. */
		snprintf(hello->name, sizeof(hello->name), "%s", key->name);
		randombytes_buf(hello->client_nonce, DAFS_NONCE_BYTES);
		dafs_auth_client_proof(key->secret, hello, hello->proof);
		auth_len = dafs_auth_hello_encode(hello, auth, sizeof(auth));
		if (s->mac) {               /* the last server's (recover.c) */
			dafs_mac_wipe(s->mac);
			free(s->mac);
		}
		s->mac = malloc(sizeof(*s->mac));
		if (auth_len < 0 || !s->mac) {
			compound_free(rq);
			return auth_len < 0 ? auth_len : -ENOMEM;
		}
		dafs_auth_session_keys(key->secret, hello, false, s->mac);
		rq->ops[0].a.session_open.auth_method = DAFS_AUTH_KEY;
		rq->ops[0].a.session_open.auth = auth;
		rq->ops[0].a.session_open.auth_len = (uint32_t)auth_len;
	}
	rc = boot_call(s, rq, (void **)&g);
	compound_free(rq);
	if (rc == -EACCES && key)
		fprintf(stderr, "libdafs: the server refused the key '%s'\n", key->name);
	if (rc)
		return rc;
	granted = &g->res;
	if (key) {
		dafs_auth_server_proof(key->secret, hello, granted->session, expect);
		if (!g->sealed || !g->has_proof || !dafs_auth_proof_equal(expect, g->proof)) {
			fprintf(stderr, "libdafs: the server did not prove it knows the key '%s'\n",
				key->name);
			free(g);
			return -EACCES;
		}
	}
	if (resume) {
		/* Our slots and frames stay as they are: the session must too. */
		rc = granted->session == resume && granted->credits >= s->credits ? 0 : -EPROTO;
		s->resumed = granted->resumed;
		free(g);
		return rc;
	}
	s->id = granted->session;
	if (granted->credits < s->credits)
		s->credits = granted->credits;
	s->inline_max = granted->inline_max < DAFS_INLINE_MAX ? granted->inline_max : DAFS_INLINE_MAX;
	s->io_max = granted->io_max < DAFS_IO_MAX ? granted->io_max : DAFS_IO_MAX;
	if (s->io_max < CLIENT_BOUNCE_CHUNK)
		s->io_max = CLIENT_BOUNCE_CHUNK;
	s->lease_ms = granted->lease_ms ? granted->lease_ms : 30000;
	free(g);
	return 0;
}

int client_rejoin(struct dafs_session *s)
{
	struct dafs_auth_hello hello;
	int rc = session_connect(s, s->key ? &hello : NULL, s->id);

	if (rc == 0)
		rc = session_introduce(s, s->key, &hello, s->id);
	sodium_memzero(&hello, sizeof(hello));
	return rc;
}

/* What the session's I/O rests on once it is open: the bounce chunks and
 * the page cache announced to the server, the registration cache for
 * direct reads, write coalescing as asked, and the lease thread. */
static int session_start(struct dafs_session *s, const struct dafs_session_opts *opts)
{
	int rc = client_region_op(s, DAFS_OP_REGISTER, &s->bounce_mr);

	if (rc)
		return rc;
	cache_setup(s, opts ? opts->cache_size : 0);
	s->coalesce_writes = opts && opts->coalesce_writes > 0;
	if (cache_region(s) && client_region_op(s, DAFS_OP_REGISTER, cache_region(s)) != 0) {
		fprintf(stderr, "libdafs: no page cache: the server refused its region\n");
		cache_teardown(s);
	}
	regcache_setup(s, opts ? opts->regcache_entries : 0);
	s->direct_read_min = direct_read_min(opts);
	if (pthread_create(&s->lease_thread, NULL, lease_main, s) == 0) {
		s->lease_running = true;
		/* The open returns once the thread runs. Its start-up allocates
		 * (a sanitizer's thread set-up does), and a fork at that moment
		 * copies the allocator locked for good: the shim's program loader
		 * forks from a vfork child of a process whose session is new. */
		pthread_mutex_lock(&s->lock);
		while (!s->lease_started)
			pthread_cond_wait(&s->lease_cond, &s->lock);
		pthread_mutex_unlock(&s->lock);
	}
	return 0;
}

/* The client's key (keyfile.h), with its refusal said on stderr: a user
 * who set DAFS_KEY_FILE must learn why nothing connects. */
static int load_key(const char *path, struct dafs_key *key)
{
	char why[512];
	int rc = dafs_auth_init();

	if (rc == 0)
		rc = dafs_key_load_client(path, key, why, sizeof(why));
	else
		snprintf(why, sizeof(why), "libsodium does not start");
	if (rc)
		fprintf(stderr, "libdafs: %s\n", why);
	return rc;
}

int dafs_session_open(const char *url, const struct dafs_session_opts *opts,
		      struct dafs_session **out)
{
	struct dafs_url parsed;
	struct dafs_session *s;
	struct dafs_key key = { .name = "" };
	char host[64] = "";
	struct dafs_auth_hello hello;
	int rc;

	if (!url || dafs_url_parse(url, &parsed) != 0)
		return -EINVAL;
	s = calloc(1, sizeof(*s));
	if (!s)
		return -ENOMEM;
	session_lock_init(s);
	pthread_cond_init(&s->lease_cond, NULL);
	pthread_cond_init(&s->back_cond, NULL);
	s->bell.fd = s->own_bell.fd = -1;
	stats_setup(s, opts && opts->stats > 0);
	s->credits = opts && opts->credits ? opts->credits : 32;
	if (s->credits > 128)
		s->credits = 128;
	s->nrecvs = s->credits + CLIENT_RECVS;
	s->timeout_ms = opts && opts->timeout_ms > 0 ? opts->timeout_ms : CLIENT_TIMEOUT_MS;
	s->caller_creds = opts && opts->caller_creds > 0;
	s->url = parsed;
	gethostname(host, sizeof(host) - 1);
	snprintf(s->name, sizeof(s->name), "%s", opts && opts->name ? opts->name : "");
	if (!s->name[0])
		snprintf(s->name, sizeof(s->name), "%s:%d", host, (int)getpid());
	if (!(opts && opts->recovery_timeout_s < 0))
		s->recovery_ms = (uint64_t)(opts && opts->recovery_timeout_s > 0 ?
					    opts->recovery_timeout_s : CLIENT_RECOVERY_S) * 1000;
	client_thread_cred(&s->cred);     /* the opener's, until dafs_session_set_cred */

	/* What processes of ours that died before reaching a server left in
	 * /dev/shm (shmreap.h). */
	if (strcmp(parsed.scheme, "shm") == 0)
		dafs_shm_reap_stale();
	rc = opts && opts->key_file ? load_key(opts->key_file, &key) : 0;
	if (rc) {
		session_free(s);
		return rc;
	}
	rc = session_endpoint(s, &parsed, opts);
	if (rc == 0)
		rc = session_connect(s, opts && opts->key_file ? &hello : NULL, 0);
	if (rc == 0)
		rc = session_introduce(s, opts && opts->key_file ? &key : NULL, &hello, 0);
	/* A keyed session that rides through a lost server proves itself to
	 * the next one with the same key: kept in guarded, locked memory. */
	if (rc == 0 && opts && opts->key_file && s->recovery_ms) {
		s->key = sodium_malloc(sizeof(*s->key));
		if (s->key)
			*s->key = key;
		else
			rc = -ENOMEM;
	}
	dafs_key_wipe(&key);
	sodium_memzero(&hello, sizeof(hello));
	/* Both of the server's endpoints have mapped ours now: its name can go,
	 * so that nothing of it outlives this process, however it ends. */
	if (rc == 0)
		rc = dafs_fabric_unlink_shm_name(s->fab);
	if (rc == 0)
		rc = session_start(s, opts);
	if (rc) {
		session_free(s);
		return rc;
	}
	*out = s;
	return 0;
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
