/* client.h — libdafs-core's insides, shared by its files. Not installed; the
 * public interface is dafs.h. One file per concern:
 *   session.c  opening and closing a session, the lease thread;
 *   recover.c  riding through a lost server: reconnect, reopen, resend;
 *              session_lock.c its lock, checked in debug builds
 *   request.c  the request engine: slots, sending, replies, progress
 *   cg.c       completion groups
 *   memory.c   registered regions, bounce chunks, transfer segments
 *   file.c     open/close, reads and writes, the other calls on open files
 *   write.c    the write pipeline and write coalescing
 *   direct.c   direct reads; regcache.c the registrations they use
 *   cache.c    the page cache
 *   batch.c    batch I/O and the chained open-and-read
 *   names.c    names, directories, byte-range locks
 *   xattr.c    named attributes (extended attributes)
 *   cred.c     the credentials requests carry
 *   convert.c  POSIX to and from the wire (stat, open flags, times, errno)
 *   env.c      dafs_session_opts_from_env: the DAFS_* variables, read nowhere else
 *   stats.c    DAFS_STATS
 */
#ifndef DAFS_CLIENT_H
#define DAFS_CLIENT_H

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include <time.h>

#include "auth.h"
#include "bell.h"
#include "dafs.h"
#include "fabric.h"
#include "proto.h"
#include "wait.h"

#define CLIENT_RECVS         8         /* receives posted beyond the credits */
#define CLIENT_BOUNCE_CHUNK  (256u << 10)
#define CLIENT_BOUNCE_CHUNKS 32        /* 8 MiB of registered bounce memory */
#define CLIENT_PING_MS       1000      /* silence while waiting before a ping */
#define CLIENT_TIMEOUT_MS    5000      /* silence before the server is declared dead */
#define CLIENT_RECOVERY_S    600       /* then reconnecting, before requests fail */

/* Who may touch a field is written beside it (or its group):
 *   lock     only with the session's `lock` held;
 *   open     set by dafs_session_open before it returns (before the lease
 *            thread starts), read-only after, until dafs_session_close
 *            (which runs alone: nothing else may use a closing session);
 *   submit   a request's: written by the thread that makes it, before it
 *            is sent (nobody else knows of it yet), read-only after;
 *   caller   owned by the one thread using the object, like a DIR *.
 * Pointers marked "open" point at things whose contents are "lock" unless
 * said otherwise. Progress is made by whichever thread waits (request.c):
 * replies are handled, and `finish` called, by any thread, lock held. Debug
 * builds (DAFS_DEBUG_LOCKS: SAN=1 and TSAN=1) check that the functions
 * below marked "Session locked" are called with the lock held by the
 * calling thread (assert_session_locked, session_lock.c). */

struct msgbuf {
	struct dafs_fabric_ctx ctx;    /* open */
	void *buf;                     /* open (its bytes: lock) */
	size_t len;                    /* lock: of the frame last sent from it */
	bool busy;                     /* lock: posted to the fabric */
	uint64_t sends;                /* lock: frames sent from it so far */
};

struct cache;
struct client_op_stats;

struct dafs_mem {
	struct dafs_session *s;        /* set at registration, read-only */
	struct dafs_mr mr;             /* set at registration, read-only */
	struct dafs_mem *next;         /* lock (s->mems) */
};

struct client_slot {               /* lock */
	uint32_t seq;                  /* last sequence number sent */
	struct dafs_req *req;          /* waiting for its reply, or NULL */
	uint64_t sent_ms;              /* when its frame last went */
};

struct dafs_session {
	pthread_mutex_t lock;          /* error-checking in debug builds (session_lock.c) */
	/* open */
	struct dafs_fabric *fab;       /* its calls made under the lock, but for
					  the wait in client_progress */
	fi_addr_t server;
	uint64_t id;
	unsigned credits;
	/* lock */
	struct client_slot *slots;     /* the array: open; its entries: lock */
	unsigned slots_used;
	int last_slot;                 /* of the last request sent (tests replay it) */
	unsigned outstanding;          /* requests sent, reply not yet handled */

	/* open (the buffers' busy, len and sends: lock) */
	void *msg_region;              /* receive and send buffers, registered once */
	struct dafs_mr msg_mr;
	unsigned nrecvs;
	struct msgbuf *recvs;
	struct msgbuf *sends;          /* one per slot, plus the last for pings */

	void *bounce;                  /* open: registered memory for unregistered buffers */
	struct dafs_mr bounce_mr;      /* open */
	uint64_t bounce_used;          /* lock: bitmap of CLIENT_BOUNCE_CHUNKS */

	struct dafs_mem *mems;         /* lock */
	uint32_t inline_max, io_max, lease_ms;   /* open */

	/* lock */
	struct dafs_req *boot_req;     /* CONNECT or SESSION_OPEN in flight */
	unsigned sends_busy;           /* send buffers posted, not completed */
	uint64_t last_tx_ms, last_ping_ms;
	uint64_t overdue_check_ms;     /* when resend_overdue last looked */
	uint64_t pending_since_ms;     /* when we last began waiting from idle */
	uint64_t last_rx_ns;           /* a reply: the server may nap after (wait.h) */
	uint64_t last_activity_ns;     /* a send or completion: we poll after (wait.h) */
	bool slept;                    /* we blocked since our last send (wait.h) */
	struct dafs_spin spin;         /* whether polling pays (wait.h) */
	uint64_t poll_until_ns;        /* an unflagged request is outstanding (wait.h) */
	uint64_t last_poll_ns;         /* this wait's last poll, 0 after a sleep or completion */
	int timeout_ms;                /* open */
	int dead;                      /* lock: negative errno once the server is gone */

	/* Recovery (recover.c). What reconnecting takes: open. */
	struct dafs_url url;           /* the server's listening address */
	uint8_t addr[DAFS_ADDR_MAX];   /* our endpoint's fabric name */
	size_t addr_len;
	bool doorbells;                /* we have a bell (session_endpoint) */
	char name[128];                /* how the server's log names us */
	uint64_t recovery_ms;          /* 0: none (dafs_session_opts.recovery_timeout_s) */
	/* lock */
	bool lost;                     /* the server stopped answering: the lease
					  thread reconnects, requests wait */
	pthread_cond_t back_cond;      /* broadcast when it is over, either way */
	bool recovering;               /* its exchanges are under way */
	bool resumed;                  /* the last SESSION_OPEN found our session */
	uint64_t lost_since_ms;
	unsigned recoveries;           /* times the session came back */
	struct dafs_file *files;       /* open files, reopened after a restart */
	struct held_lock *held_locks;  /* byte-range locks granted, reclaimed after one */

	pthread_t lease_thread;        /* open */
	pthread_cond_t lease_cond;     /* waited on and signalled with the lock held */
	bool lease_started;            /* the lease thread runs (set once, lock held) */
	bool lease_running;            /* open */
	bool closing;                  /* lock */

	struct dafs_cred cred;         /* lock: what requests carry (cred.c) */
	bool caller_creds;             /* open: the sending thread's instead */

	struct dafs_reply *reply;      /* open: where replies are decoded (lock) */
	/* A keyed session (auth.h): frames sent after set-up are sealed, and
	 * a reply is taken only sealed (during set-up, a refusal unsealed). */
	struct dafs_mac *mac;          /* NULL without a key; its counters: lock (a new
					  one each time the session is set up: recover.c) */
	struct dafs_key *key;          /* open: the key, kept to prove itself again
					  after a lost server (sodium_malloc'd), or NULL */
	bool boot_sealed;              /* lock: the last boot reply was sealed */
	struct cache *cache;           /* open: the page cache, or NULL (cache.c) */
	/* lock */
	unsigned writes_inflight;      /* pipelined writes not yet answered */
	bool coalesce_writes;          /* open: DAFS_WRITE_COALESCE (write.c) */
	struct dafs_file *wb_files;    /* files whose coalesced writes wait */
	unsigned wb_sending;           /* their buffers on the way (the lock let go) */
	bool lease_ticking;            /* the lease thread wakes every ms to send them */
	uint64_t write_sends, writes_coalesced;
	struct client_op_stats *stats; /* open: DAFS_STATS: per opcode, or NULL (stats.c) */
	/* open (the bells' sockets are used without the lock: the kernel's) */
	struct dafs_bell bell;         /* the server's doorbell (an address), when it has no wait fd */
	struct dafs_bell own_bell;     /* ours: slow replies ring it; its socket rings theirs */

	/* Direct reads (direct.c): reads of at least direct_read_min bytes (0:
	 * never) go into the caller's buffer, registered through regcache. */
	size_t direct_read_min;        /* open */
	struct regcache *regcache;     /* open: registrations kept for them (regcache.c) */
	uint64_t direct_reads, direct_bytes;     /* lock */
};

/* A byte-range lock the server granted us (names.c keeps them as POSIX
 * does, per file and owner, split by unlocks and relocks), to take again
 * from a server that restarted (recover.c). */
struct held_lock {                 /* lock */
	uint64_t dev, ino, owner;
	uint64_t start, end;           /* end exclusive; UINT64_MAX: to the end and beyond */
	uint8_t type;                  /* DAFS_LOCK_READ or DAFS_LOCK_WRITE */
	struct held_lock *next;
};

struct dafs_cg {
	struct dafs_session *s;        /* set at creation, read-only */
	/* lock */
	unsigned outstanding;          /* submitted, not yet reaped */
	struct dafs_req *done_head, *done_tail;
};

/* What a reply means for the caller: called with the session locked, once,
 * with the decoded reply (or NULL when the request failed as a whole, with
 * req->result already set to the error). Returns the request's result. */
typedef ssize_t (*req_finish_fn)(struct dafs_req *req, struct dafs_reply *rep);

/* A request is its maker's until sent ("submit" fields, filled without the
 * lock); from then on "lock" fields change only with the lock held, and once
 * `done` (set under the lock) it is its reaper's: dafs_req_wait, the group's
 * dafs_cg_wait_n, or req_complete for an internal one. */
struct dafs_req {
	/* submit */
	struct dafs_session *s;
	struct dafs_cg *cg;
	void *user;
	bool standalone;               /* to be reaped by dafs_req_wait */
	bool internal;                 /* the library's own: freed when complete */
	bool pipelined;                /* a write that returned before its reply */
	/* lock */
	bool done;
	bool noslot;                   /* submit */
	int slot;
	ssize_t result;
	req_finish_fn finish;          /* submit */
	struct dafs_req *next_done;

	/* submit: where `finish` puts the operation's outputs, or what it acts
	 * on: the call that picks `finish` sets the member `finish` reads. */
	union req_out {
		struct stat *st;               /* client_finish_attr, or NULL */
		struct dafs_file **opened;     /* open, open-and-read: the new file */
		struct dafs_file *file;        /* fsync, truncate, fallocate, lock */
		struct dafs_dir *dir;          /* readdir */
		struct statvfs *sv;            /* statvfs */
		struct flock *fl;              /* F_GETLK */
		char *link;                    /* readlink */
		struct dafs_batch_item *items; /* batch */
		off_t *where;                  /* dafs_append: where the data landed */
		void *xattr;                   /* getxattr, listxattr: the caller's buffer */
	} out;
	size_t out_len;                /* bytes asked of a read or write; items of a batch */
	uint64_t finish_arg;           /* what `finish` needs besides `out` (client_submit_one) */
	/* lock (bounce chunks are taken and given back with it held) */
	void *user_buf;                /* read: where inline or bounced data go */
	unsigned nbounce;              /* bounce chunks held, in order */
	uint8_t bounce[CLIENT_BOUNCE_CHUNKS];
	uint64_t bounce_items;         /* batch: items that use bounce chunks */
	struct dafs_file *file;        /* submit */
	void *boot_out;                /* lock: CONNECT/SESSION_OPEN: copy of the result */
	char *path;                    /* submit: an open's path, for the file (file_opened) */
	struct dafs_args_lock lock;    /* submit: a LOCK's or UNLOCK's range (names.c) */
	struct cache_fill *fill;       /* lock: cache pages this read fills */
	uint16_t opcode;               /* lock: of its first op, for DAFS_STATS */
	uint64_t submit_ns;            /* lock: DAFS_STATS: when submitted, or 0 */
	uint64_t barrier_ns;           /* lock: DAFS_STATS: of that, waiting for writes */
};

struct dafs_file {
	/* set at open, read-only until close (nothing else may use a file
	 * being closed) */
	struct dafs_session *s;
	uint64_t fh;
	int flags;                     /* O_* as opened */
	char *path;                    /* as opened, from the root: to reopen it (recover.c) */
	uint64_t dev, ino;             /* the file it is, to know it again */
	struct dafs_file *next_open, **prev_open;    /* lock: on s->files */
	/* lock (a granted lock's reply adds its owner); close reads them
	 * without it, when no request of f is in flight */
	uint64_t lock_owners[8];       /* owners that took locks here, released at close */
	unsigned nlock_owners;

	struct cache_file *cf;         /* set at open: what the cache knows of the
					  file, or NULL (its contents: lock) */
	/* lock */
	off_t ra_next;                 /* where a sequential read would start */
	off_t ra_end;                  /* read-ahead issued up to here */
	size_t ra_window;              /* 0: no sequential run */
	int advice;                    /* POSIX_FADV_* last given */

	/* lock. Pipelined writes (write.c): the first error of one that failed
	 * after write returned, reported by the next write, fsync or close; and
	 * the span of the ones in flight, which a write overlapping it waits
	 * out (the server may run requests in any order). */
	int write_err;
	unsigned writes_inflight;
	unsigned fills_inflight;       /* cache fills of this file not answered */
	off_t inflight_lo, inflight_hi;

	/* lock. Write coalescing (write.c): small writes continuing the last
	 * one, made while earlier ones are in flight, wait here to go as one. */
	char *wb;                      /* inline_max bytes, allocated on first use */
	size_t wb_len;
	off_t wb_off;
	uint64_t wb_since_ms;          /* when its first byte came */
	struct dafs_file *wb_next;     /* on s->wb_files while wb_len */
	unsigned wb_sending;           /* buffers of f being sent (lock dropped) */

	/* lock. A read served from the cache must still move the file's atime
	 * on the server as a local read would (time stamps are the server's
	 * file system's): true from open and after each write through the
	 * cache, until a cache hit has sent the server a one-byte READ, whose
	 * atime update the server's own rules (relatime) then decide. */
	bool atime_due;
};

struct dafs_dir {                  /* caller */
	struct dafs_file *file;
	uint64_t cookie;               /* where the next READDIR starts */
	uint64_t pos_cookie;           /* cookie of the last entry handed out */
	char *buf;                     /* copy of the last READDIR's entries */
	size_t len, pos;
	bool eof;
};

/* session_lock.c: the session lock, error-checking in debug builds; and
 * the check that the calling thread holds it, which release builds compile
 * away. */
void session_lock_init(struct dafs_session *s);
#ifdef DAFS_DEBUG_LOCKS
void session_assert_locked(const struct dafs_session *s, const char *func);
#define assert_session_locked(s) session_assert_locked((s), __func__)
#else
#define assert_session_locked(s) ((void)0)
#endif

/* request.c: the request engine. */
uint64_t client_now_ms(void);
/* CLOCK_REALTIME ms from now: a pthread_cond_timedwait deadline. */
struct timespec client_realtime_in_ms(unsigned ms);
uint64_t client_now_ns(void);
/* A request struct with room for DAFS_COMPOUND_MAX operations: header,
 * count and the first ops zeroed; fill every op used whole. Back with
 * compound_free. */
/* cred.c: the calling thread's filesystem identity; what a request of s
 * carries (Session locked). */
void client_thread_cred(struct dafs_cred *c);
void client_request_cred(struct dafs_session *s, struct dafs_compound *rq);
struct dafs_compound *compound_alloc(void);
void compound_free(struct dafs_compound *rq);
/* A request of s, not yet sent: no slot, no group. */
struct dafs_req *req_alloc(struct dafs_session *s, req_finish_fn finish);
/* Allocates a request; cg and req_out as in the public _async calls. */
struct dafs_req *req_new(struct dafs_session *s, struct dafs_cg *cg, void *user,
			 struct dafs_req **req_out, req_finish_fn finish);
/* A request of the library itself: no group, nobody waits, freed when it
 * completes. */
struct dafs_req *req_new_internal(struct dafs_session *s, req_finish_fn finish);
/* Encodes and sends `rq` for `req` on a free slot. On failure the request is
 * freed and the error returned. */
int req_submit(struct dafs_req *req, struct dafs_compound *rq);
/* Submits with the session locked (the lock may be dropped and retaken
 * while waiting for a slot). */
int req_submit_locked(struct dafs_req *req, struct dafs_compound *rq);
/* req_submit_locked that leaves a request it could not send to the caller.
 * Session locked. */
int submit_locked(struct dafs_req *req, struct dafs_compound *rq);
/* Submits and waits: the synchronous form of any operation. */
ssize_t req_run(struct dafs_req *req, struct dafs_compound *rq);
void req_free(struct dafs_req *req);
/* Posts a receive buffer. Session locked, but at open (which runs alone:
 * session_endpoint posts the first ones before the session exists). */
int post_recv(struct dafs_session *s, struct msgbuf *m);
/* Sends a PING when nothing was sent for a while. Session locked. */
void send_ping(struct dafs_session *s);
/* Sends the last frame of `slot` again, unchanged, for `req`: what a client
 * does after losing a reply. The server must answer from its reply cache. */
int client_resend_slot(struct dafs_req *req, int slot);
/* Sends arbitrary bytes to the server, expecting nothing (tests of hostile
 * input); sealed as any frame of the session (sealed: false sends them as
 * they are, to replay or tamper with a sealed frame). */
int client_send_raw(struct dafs_session *s, const void *frame, size_t len);
int client_send_bytes(struct dafs_session *s, const void *frame, size_t len, bool sealed);
/* The largest frame the session may encode (room left for the seal). */
size_t client_msg_max(const struct dafs_session *s);
/* Reads completions; blocks up to timeout_ms when none. Session locked. */
void client_progress(struct dafs_session *s, int timeout_ms);
/* Sends the frame last sent from m again, unchanged. Session locked. */
int client_send_again(struct dafs_session *s, struct msgbuf *m);
/* Fails every request in flight, and all later ones, with err. Session locked. */
void client_fail_all(struct dafs_session *s, int err);

/* session.c: the greetings, for recover.c. */
/* One exchange outside the slot table (CONNECT, SESSION_OPEN, recovery's
 * set-up), waited for; *out: what `finish` left in req->boot_out. Takes
 * the session's lock. */
int client_boot_call(struct dafs_session *s, struct dafs_compound *rq, req_finish_fn finish,
		     void **out);
/* CONNECT and SESSION_OPEN again, resuming our session: s->resumed says
 * whether the server still had it. Session unlocked. */
int client_rejoin(struct dafs_session *s);
/* A new endpoint made ready: receives posted, its name in s->addr, and our
 * doorbell (s->doorbells) named after it. At open, and on each endpoint of
 * recovery's (recover.c). Session locked, but at open. */
int client_endpoint_ready(struct dafs_session *s);

/* recover.c: called by the lease thread while s->lost. Session locked. */
void client_recover(struct dafs_session *s);

/* One operation: submit (async) or run (submit and wait). `out` and
 * `finish_arg` are for `finish`: the member of `out` it reads, and a number
 * it needs (open's flags, setattr's mask, a lock's owner, the room at
 * out.link), or REQ_OUT_NONE and 0. */
#define REQ_OUT_NONE ((union req_out){ .st = NULL })
int client_submit_one(struct dafs_session *s, const struct dafs_op *op, req_finish_fn finish,
		      union req_out out, uint64_t finish_arg, struct dafs_cg *cg, void *user,
		      struct dafs_req **req_out);
ssize_t client_run_one(struct dafs_session *s, const struct dafs_op *op, req_finish_fn finish,
		       union req_out out, uint64_t finish_arg);
/* Finishers shared by many operations: the status of the last op that ran;
 * that and the attributes of the first into req->out.st. */
ssize_t client_finish_status(struct dafs_req *req, struct dafs_reply *rep);
ssize_t client_finish_attr(struct dafs_req *req, struct dafs_reply *rep);

/* The synchronous form of an _async call whose last arguments are
 * (cg, user, req_out): submit with no group, then wait for the result. */
#define CLIENT_SYNC(async_fn, ...) ({                                         \
	struct dafs_req *sync_req_;                                           \
	int sync_rc_ = async_fn(__VA_ARGS__, NULL, NULL, &sync_req_);         \
	sync_rc_ ? (ssize_t)sync_rc_ : dafs_req_wait(sync_req_, -1);          \
})

/* memory.c: registered regions and bounce memory. */
/* REGISTER or UNREGISTER a region with the server, synchronously. */
int client_region_op(struct dafs_session *s, uint16_t opcode, const struct dafs_mr *mr);
/* Bounce memory, in CLIENT_BOUNCE_CHUNK pieces. Session locked; waits for
 * requests in flight to return chunks when none are free. */
int bounce_get(struct dafs_req *req, size_t len);
/* Gives the request's chunks back. Session locked. */
void bounce_put(struct dafs_req *req);
void *bounce_addr(struct dafs_session *s, unsigned chunk);
/* Fills segments for a transfer of len bytes at buf: straight from a
 * registered region of the caller when buf lies in one, else from bounce
 * chunks (copying `buf` in when to_server). Session locked. */
int client_segments(struct dafs_req *req, void *buf, size_t len, bool to_server,
		    struct dafs_args_io *io);
/* Copies len bytes out of the request's bounce chunks, from chunk `first`. */
void client_copy_chunks(struct dafs_req *req, unsigned first, void *dst, size_t len);

/* names.c: the locks we hold. */
/* f's file's locks of `owner` are gone (f's close released them). Session locked. */
void held_locks_forget(struct dafs_file *f, uint64_t owner);
/* Frees the list (session close). */
void held_locks_free(struct dafs_session *s);

/* file.c: what write.c and batch.c build on. */
/* A new file of req's session: the open's path (taken from req), what file
 * it is, and its place among the session's open files. Session locked. */
void file_opened(struct dafs_file *f, struct dafs_req *req, const struct dafs_attr *a);
void fill_open(struct dafs_session *s, struct dafs_op *op, const char *path, int flags,
	       mode_t mode);
/* One READ or WRITE op of f into op, its data inline or in segments. */
int fill_io(struct dafs_req *req, struct dafs_op *op, struct dafs_file *f, void *buf,
	    size_t len, off_t off, bool write);
ssize_t finish_read(struct dafs_req *req, struct dafs_reply *rep);
ssize_t finish_write(struct dafs_req *req, struct dafs_reply *rep);
/* A read or write waiting for its replies, split to the session's limits. */
ssize_t io_sync(struct dafs_file *f, void *buf, size_t len, off_t off, bool write,
		off_t *where);

/* direct.c: direct reads. */
/* Whether a read of len bytes is large enough to go direct. */
bool client_direct_read_size(const struct dafs_session *s, size_t len);
/* A read of f straight into buf when it is large enough, no page of its
 * range is cached and buf can be registered; -ENOBUFS, having sent
 * nothing, when not: the caller then reads another way. */
ssize_t client_read_direct(struct dafs_file *f, void *buf, size_t len, off_t off);

/* write.c: the write pipeline. Every call with the session locked. */
/* The error of a write that failed after it returned, once. */
int take_write_err(struct dafs_file *f);
/* Sends f's coalesced writes, then waits until the server answered every
 * pipelined write of f. */
void wait_file_writes(struct dafs_file *f);
/* Takes f off the session's list of files with coalesced writes waiting. */
void wb_unlink(struct dafs_file *f);
/* Sends the coalesced writes that waited at least older_than_ms. */
void client_send_coalesced(struct dafs_session *s, uint64_t older_than_ms);
/* Sends every coalesced write, then waits until the server answered every
 * pipelined write of the session. */
void client_wait_writes(struct dafs_session *s);

/* cache.c: the page cache. Every call with the session locked but
 * cache_setup, cache_region and cache_teardown (session open and close,
 * which run alone) and cache_enabled (it reads what is set at open). */
struct dafs_attr;
/* Sets up the region at session start: `want` bytes, 0 for the default,
 * negative for none; no cache when that fails. */
void cache_setup(struct dafs_session *s, long long want);
/* The region to announce to the server (NULL: no cache). */
const struct dafs_mr *cache_region(const struct dafs_session *s);
void cache_teardown(struct dafs_session *s);
/* An open: links f to the file's cache entry, dropping its pages when the
 * server's attributes say the file changed since they were read. */
void cache_open(struct dafs_file *f, const struct dafs_attr *a);
void cache_close(struct dafs_file *f);
/* f was reopened (a restarted server, recover.c): its pages stay if the
 * attributes say the file is as we read it, else they go. */
void cache_revalidate(struct dafs_file *f, const struct dafs_attr *a);
/* Whether reads of f go through the cache (not O_DIRECT, cache on). */
bool cache_enabled(const struct dafs_file *f);
/* Whether no page of [off, off + len) of f's file is cached or being
 * filled: a read of it then owes nothing to the cache. */
bool cache_range_absent(const struct dafs_file *f, off_t off, size_t len);
/* A read went around the cache and ended at `end`: a read starting there
 * continues the sequential run, with no read-ahead of its own in flight. */
void cache_read_bypassed(struct dafs_file *f, off_t end);
/* A read through the cache: hits copied, misses filled by the server into
 * cache pages, read-ahead started for sequential runs. Returns the byte
 * count, or a negative errno; -ENOBUFS: the cache cannot take this read
 * (the caller reads directly). */
ssize_t cache_read(struct dafs_file *f, void *buf, size_t len, off_t off);
/* A write of f is on its way: cached pages take the new bytes. */
void cache_write(struct dafs_file *f, const void *buf, size_t len, off_t off);
/* Forgets every cached page of f's file (a failed write, a truncation). */
void cache_invalidate(struct dafs_file *f);
/* The same for the file the attributes describe (truncate by name). */
void cache_invalidate_attr(struct dafs_session *s, const struct dafs_attr *a);
/* posix_fadvise as client behaviour. */
void cache_advise(struct dafs_file *f, off_t off, off_t len, int advice);

/* regcache.c: registrations of callers' buffers for direct reads. Every
 * call with the session unlocked (REGISTER and UNREGISTER are requests). */
struct regcache_entry;
/* Keeps up to `entries` registrations: 0 for the default, negative none. */
void regcache_setup(struct dafs_session *s, int entries);
void regcache_teardown(struct dafs_session *s);
/* A registration covering [buf, buf + len), known to the server, held until
 * regcache_put: a kept one found again, else a new one. */
int regcache_get(struct dafs_session *s, void *buf, size_t len, struct regcache_entry **out);
void regcache_put(struct dafs_session *s, struct regcache_entry *e);
const struct dafs_mr *regcache_mr(const struct regcache_entry *e);
/* Its figures into the stats (session locked). */
void regcache_stats(struct dafs_session *s, struct dafs_cache_stats *out);

/* convert.c: POSIX and the wire. */
/* utimensat's times into setattr's mask; -EINVAL for a bad nanosecond value. */
int client_times(struct dafs_args_setattr *a, const struct timespec times[2]);
/* chown's ids into setattr's mask ((uid_t)-1, (gid_t)-1: unchanged). */
void client_owner(struct dafs_args_setattr *a, uid_t uid, gid_t gid);
int client_errno_of(struct dafs_reply *rep, unsigned i);
void client_stat_from_attr(struct stat *st, const struct dafs_attr *a);
uint32_t client_open_flags(int flags);

/* stats.c */
/* Counts this session's requests when `on`. */
void stats_setup(struct dafs_session *s, bool on);
void stats_request_done(struct dafs_session *s, const struct dafs_req *req);
void stats_print(struct dafs_session *s);

#endif
