/* server.h — what the server's parts share: the server, its workers and the
 * job that carries one request from arrival to reply.
 *
 * Each worker thread owns a fabric endpoint, an io_uring and the sessions
 * assigned to it, and runs one event loop over both completion queues; only
 * the lock table and the export are shared between workers.
 *
 * Errors: every function of the server that can fail returns 0 or a negative
 * errno, and -EINPROGRESS where an operation finishes later (job_run is
 * called again). The statuses in job->rep follow the same convention; the
 * wire carries errno positive, and worker.c's encode_reply is the one place
 * that changes the sign. */
#ifndef DAFS_SERVER_H
#define DAFS_SERVER_H

#include <liburing.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

#include "admission.h"
#include "bell.h"
#include "bufpool.h"
#include "challenge.h"
#include "export.h"
#include "fabric.h"
#include "locks.h"
#include "proto.h"
#include "session.h"

#define WORKER_RECVS        64     /* receive buffers posted per worker */
#define WORKER_URING_DEPTH  256

struct server;
struct admin;
struct admin_cmd;

struct recv_buf {
	struct dafs_fabric_ctx ctx;
	void *buf;
	bool posted;
};

/* A job is ~38 KB (a whole request and reply); a few freed ones are reused
 * instead of calloc'ed per request. */
#define WORKER_SPARE_JOBS 32
#define WORKER_ENDED_SESSIONS 1024

struct worker {
	unsigned id;
	struct server *srv;
	pthread_t thread;
	struct dafs_fabric *fab;
	uint8_t name[DAFS_ADDR_MAX];   /* the endpoint's fabric name */
	size_t name_len;
	struct bufpool *pool;
	struct io_uring ring;
	unsigned uring_pending;        /* SQEs prepared and not yet submitted */
	bool uring_poll_armed;         /* a POLL_ADD on the fabric's wait fd is queued */
	bool shm;                      /* listens on shm:// (peers map each other's files) */
	struct dafs_bell bell;         /* what clients ring when we may nap (no wait fd) */
	struct recv_buf recvs[WORKER_RECVS];
	unsigned recvs_unposted;
	struct session *sessions;
	/* Sessions this worker ended (lease, fence, close), latest last: a
	 * client resuming one is refused (its files and locks are gone), not
	 * given a new session as after a restart. */
	uint64_t ended[WORKER_ENDED_SESSIONS];
	unsigned nended;
	int state_fd;                  /* its log in the state directory, or -1 (state.h) */
	uint64_t state_bytes;
	struct procwatch *watches;     /* every pidfd poll not yet completed (procwatch.c) */
	unsigned jobs;                 /* jobs in flight */
	struct job *stalled;           /* jobs waiting to post again after -EAGAIN */
	struct job *spare_jobs[WORKER_SPARE_JOBS];  /* freed jobs kept for reuse */
	unsigned nspare_jobs;
	uint64_t now_ns, now_ms;       /* at the top of the loop's turn */
	uint64_t last_poll_ns, prev_poll_ns;   /* the loop's last two fabric polls */
	/* A dafsctl command for this worker's sessions (admin.c), polled by
	 * its loop; admin_closed (admin.c's lock): the loop has ended. */
	_Atomic(struct admin_cmd *) admin_cmd;
	bool admin_closed;
};

struct server {
	struct dafs_export export;
	struct lock_table *locks;
	struct dafs_url url;
	unsigned nworkers;
	struct worker *workers;
	unsigned lease_ms;
	/* Clients' keys (--keys FILE); with none, only keyless local sessions
	 * exist. Workers read them at SESSION_OPEN and a reload replaces
	 * them, both under keys_lock. */
	const char *keys_path;
	struct dafs_keys keys;
	pthread_mutex_t keys_lock;
	struct challenge_table challenges;   /* CONNECT's nonces for keyed clients */
	struct admission adm;       /* limits and fences (admission.h) */
	struct state *state;        /* --state DIR, or NULL (state.h) */
	/* The grace period after a restart (state.h): CLOCK_MONOTONIC ms it
	 * ends by, 0 once over; sessions of the last run still to come back. */
	_Atomic uint64_t grace_until_ms;
	atomic_uint grace_awaited;
	struct admin *admin;        /* --admin SOCKET, or NULL (admin.h) */
	atomic_uint next_worker;
	atomic_uint_fast64_t next_session;
	/* Set by the SIGTERM/SIGINT handler on whichever thread took the
	 * signal, read by every worker: atomic (lock-free, so safe in a
	 * handler), not volatile sig_atomic_t, which orders nothing between
	 * threads (ThreadSanitizer reported the race). */
	atomic_int stopping;
};

enum job_phase {
	JOB_RUNNING,       /* running operations */
	JOB_IO,            /* an io_uring operation is in flight */
	JOB_RMA,           /* RMA transfers are in flight or waiting to be posted */
	JOB_SENDING,       /* the reply is being sent */
};

/* One request, from arrival to the completion of its reply's send. */
struct job {
	struct worker *w;
	struct session *sess;      /* NULL for CONNECT and refusals */
	fi_addr_t peer;
	bool remove_peer;          /* drop `peer` from the AV once the reply is sent */
	bool owns_slot;            /* took (slot, seq): its reply is cached there */
	bool reclaim;              /* a resumed session's set-up, outside the slots */
	bool no_seal;              /* a keyed session's refused frame: the reply goes unsealed */
	struct dafs_cred cred;     /* what the request runs as (creds.c) */
	enum job_phase phase;
	void *frame;               /* a private copy of the request frame */
	size_t frame_len;
	struct dafs_compound req;
	struct dafs_reply rep;
	unsigned next_op;
	uint64_t current_fh;

	/* The data operation in progress. */
	void *data;                /* registered transfer buffer, from the bufpool */
	size_t data_len;
	size_t io_done;            /* bytes read or written so far */
	unsigned rma_next;         /* next segment to post */
	unsigned rma_busy;         /* segments posted, not completed */
	int rma_err;
	bool rma_is_write;         /* server writes into client memory (READ op) */
	struct dafs_fabric_ctx rma_ctx[DAFS_SEGS_MAX];

	void *keep[DAFS_COMPOUND_MAX];  /* per-op memory results point into */
	uint64_t transient[DAFS_COMPOUND_MAX];  /* LOOKUP handles closed at the end */
	unsigned ntransient;

	void *send_buf;
	size_t send_len;
	struct dafs_fabric_ctx send_ctx;
	uint64_t started_ns;       /* the request came after this (a late reply rings) */
	bool is_stalled;
	uint64_t stalled_since_ms;     /* first -EAGAIN of the current post */
	struct job *next_stalled;
};

/* worker.c */
int worker_init(struct worker *w, struct server *srv, unsigned id, bool listen);
void worker_fini(struct worker *w);
void *worker_main(void *arg);
/* Continues a job after an operation finished (or at its start). */
void job_run(struct job *job);
struct io_uring_sqe *worker_sqe(struct worker *w);
void job_start_rma(struct job *job);
/* Ends a session for `why` (logged): no new work, released once its
 * requests in flight are done. */
void worker_end_session(struct worker *w, struct session *s, const char *why);

/* ops.c: runs one operation. Returns 0 when the result is filled in, -errno
 * for a failed operation, or -EINPROGRESS when it went asynchronous. */
int op_run(struct job *job, struct dafs_op *op, struct dafs_result *res);
/* Completion of an async step of the current operation. */
int op_io_done(struct job *job, int cqe_res);
int op_rma_done(struct job *job);
/* How a session ends, for what it leaves behind. */
enum session_end {
	SESSION_CLOSED,            /* its client closed it (SESSION_CLOSE) */
	SESSION_LOST,              /* its client died, was fenced or evicted, or went
				      silent past its lease: its locks are broken */
	SESSION_SERVER_STOPS,      /* the server stops: its client may come back */
};
void op_release_session(struct worker *w, struct session *s, enum session_end how);

#endif
