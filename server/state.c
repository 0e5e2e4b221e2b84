/* state.c — the state directory's logs (state.h says what and why). A log
 * is a sequence of records: a fixed header, then the encoded reply. A torn
 * record at the end (the server died in its write) ends the log. */
#include "state.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "log.h"
#include "server.h"

#define STATE_MAGIC          0x31525344u        /* "DSR1" */
#define STATE_KEEP_S         (24 * 3600)        /* older records are dropped */
#define STATE_COMPACT_BYTES  (64u << 20)
#define STATE_END_SLOT       UINT16_MAX         /* a session-end record's slot */

struct record_hdr {
	uint32_t magic;
	uint32_t len;              /* of the reply that follows; 0 for an end */
	uint64_t session;
	uint64_t stamp_ns;         /* CLOCK_REALTIME: the latest record of a slot wins */
	uint32_t seq;
	uint16_t slot;             /* STATE_END_SLOT: the session ended */
	uint16_t pad;
};

struct record {
	struct record_hdr h;
	void *reply;
};

struct state {
	char dir[4096];
	int dirfd;
	struct record *recs;       /* what the last run left, sorted by (session, slot);
				      read-only once the workers run */
	size_t nrecs;
};

static uint64_t realtime_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static int by_key_then_stamp(const void *a, const void *b)
{
	const struct record_hdr *x = &((const struct record *)a)->h;
	const struct record_hdr *y = &((const struct record *)b)->h;

	if (x->session != y->session)
		return x->session < y->session ? -1 : 1;
	if (x->slot != y->slot)
		return x->slot < y->slot ? -1 : 1;
	return x->stamp_ns < y->stamp_ns ? -1 : x->stamp_ns > y->stamp_ns;
}

/* Adds the records of one log file to st->recs (young enough ones). */
static int load_file(struct state *st, int fd, uint64_t oldest_ns)
{
	struct stat sb;
	uint8_t *buf;
	size_t pos = 0;

	if (fstat(fd, &sb) < 0)
		return -errno;
	buf = malloc((size_t)sb.st_size + 1);
	if (!buf)
		return -ENOMEM;
	if (pread(fd, buf, (size_t)sb.st_size, 0) != sb.st_size) {
		free(buf);
		return -EIO;
	}
	while ((size_t)sb.st_size - pos >= sizeof(struct record_hdr)) {
		struct record_hdr h;
		memcpy(&h, buf + pos, sizeof(h));
		if (h.magic != STATE_MAGIC || h.len > DAFS_MSG_MAX ||
		    (size_t)sb.st_size - pos - sizeof(h) < h.len)
			break;
		pos += sizeof(h);
		if (h.stamp_ns >= oldest_ns) {
			struct record *grown = realloc(st->recs, (st->nrecs + 1) * sizeof(*grown));
			void *reply = h.len ? malloc(h.len) : NULL;
			if (!grown || (h.len && !reply)) {
				free(reply);
				if (grown)
					st->recs = grown;
				free(buf);
				return -ENOMEM;
			}
			st->recs = grown;
			if (h.len)
				memcpy(reply, buf + pos, h.len);
			st->recs[st->nrecs++] = (struct record){ h, reply };
		}
		pos += h.len;
	}
	free(buf);
	return 0;
}

/* Keeps, per (session, slot), the latest record; of an ended session, its
 * end alone. */
static void keep_latest(struct state *st)
{
	size_t out = 0;

	if (st->nrecs)
		qsort(st->recs, st->nrecs, sizeof(*st->recs), by_key_then_stamp);
	for (size_t first = 0, end; first < st->nrecs; first = end) {
		for (end = first; end < st->nrecs && st->recs[end].h.session == st->recs[first].h.session;)
			end++;
		/* An end sorts last within its session (slot STATE_END_SLOT). */
		bool ended = st->recs[end - 1].h.slot == STATE_END_SLOT;
		for (size_t i = first; i < end; i++) {
			struct record *r = &st->recs[i];
			bool superseded = i + 1 < end && st->recs[i + 1].h.slot == r->h.slot;
			if (superseded || (ended && r->h.slot != STATE_END_SLOT))
				free(r->reply);
			else
				st->recs[out++] = *r;
		}
	}
	st->nrecs = out;
}

static int write_all(int fd, const void *buf, size_t len)
{
	const uint8_t *p = buf;

	while (len) {
		ssize_t n = write(fd, p, len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return n < 0 ? -errno : -EIO;
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

static int append_record(int fd, const struct record_hdr *h, const void *reply)
{
	uint8_t buf[sizeof(*h) + DAFS_MSG_MAX];

	/* One write, so that a record is never interleaved with another. */
	memcpy(buf, h, sizeof(*h));
	if (h->len)
		memcpy(buf + sizeof(*h), reply, h->len);
	return write_all(fd, buf, sizeof(*h) + h->len);
}

/* Writes recs into DIR/name through a temporary file renamed over it. */
static int write_log(struct state *st, const char *name, const struct record *recs, size_t n,
		     struct worker *w)
{
	char tmp[64];
	int fd, rc = 0;

	snprintf(tmp, sizeof(tmp), "%s.new", name);
	fd = openat(st->dirfd, tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	if (fd < 0)
		return -errno;
	for (size_t i = 0; i < n && rc == 0; i++)
		rc = append_record(fd, &recs[i].h, recs[i].reply);
	if (rc == 0 && w) {
		/* A worker's own: its live sessions' recorded replies, its ends. */
		for (struct session *s = w->sessions; s && rc == 0; s = s->next)
			for (unsigned i = 0; i < s->nslots && rc == 0; i++) {
				struct slot *sl = &s->slots[i];
				struct record_hdr h = { STATE_MAGIC, (uint32_t)sl->reply_len, s->id,
							realtime_ns(), sl->seq, (uint16_t)i, 0 };
				if (sl->recorded && sl->has_reply)
					rc = append_record(fd, &h, sl->reply);
			}
		unsigned nended = w->nended < WORKER_ENDED_SESSIONS ? w->nended : WORKER_ENDED_SESSIONS;
		for (unsigned i = 0; i < nended && rc == 0; i++) {
			struct record_hdr h = { STATE_MAGIC, 0, w->ended[i], realtime_ns(), 0,
						STATE_END_SLOT, 0 };
			rc = append_record(fd, &h, NULL);
		}
	}
	if (rc == 0 && renameat(st->dirfd, tmp, st->dirfd, name) < 0)
		rc = -errno;
	close(fd);
	if (rc)
		unlinkat(st->dirfd, tmp, 0);
	return rc;
}

static void log_name(char *out, size_t len, unsigned worker)
{
	snprintf(out, len, "replies-%u.log", worker);
}

/* Every replies-*.log of the last run, loaded, compacted into replies-0.log
 * (the others removed). */
static int load_and_compact(struct state *st)
{
	uint64_t oldest = realtime_ns() - (uint64_t)STATE_KEEP_S * 1000000000u;
	int dfd = dup(st->dirfd);
	DIR *d = dfd >= 0 ? fdopendir(dfd) : NULL;
	struct dirent *e;
	int rc = 0;

	if (!d) {
		if (dfd >= 0)
			close(dfd);
		return -errno;
	}
	while (rc == 0 && (e = readdir(d))) {
		unsigned n;
		char end;
		if (sscanf(e->d_name, "replies-%u.lo%c", &n, &end) != 2 || end != 'g')
			continue;
		int fd = openat(st->dirfd, e->d_name, O_RDONLY | O_CLOEXEC);
		rc = fd < 0 ? -errno : load_file(st, fd, oldest);
		if (fd >= 0)
			close(fd);
	}
	keep_latest(st);
	if (rc == 0) {
		char name[64];
		log_name(name, sizeof(name), 0);
		rc = write_log(st, name, st->recs, st->nrecs, NULL);
	}
	rewinddir(d);
	while (rc == 0 && (e = readdir(d))) {
		unsigned n;
		char end;
		if (sscanf(e->d_name, "replies-%u.lo%c", &n, &end) == 2 && end == 'g' && n != 0)
			unlinkat(st->dirfd, e->d_name, 0);
	}
	closedir(d);
	return rc;
}

static int open_worker_log(struct state *st, struct worker *w)
{
	char name[64];
	struct stat sb;

	log_name(name, sizeof(name), w->id);
	w->state_fd = openat(st->dirfd, name, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
	if (w->state_fd < 0)
		return -errno;
	w->state_bytes = fstat(w->state_fd, &sb) == 0 ? (uint64_t)sb.st_size : 0;
	return 0;
}

/* Sessions of the last run that may come back: records, no end. */
static unsigned sessions_awaited(const struct state *st)
{
	unsigned n = 0;

	for (size_t i = 0; i < st->nrecs; i++) {
		bool last_of_session = i + 1 == st->nrecs ||
				       st->recs[i + 1].h.session != st->recs[i].h.session;
		if (last_of_session && st->recs[i].h.slot != STATE_END_SLOT)
			n++;
	}
	return n;
}

static void grace_start(struct server *srv)
{
	struct timespec ts;
	unsigned n = sessions_awaited(srv->state);

	if (!n)
		return;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	atomic_store(&srv->grace_awaited, n);
	atomic_store(&srv->grace_until_ms,
		     (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000 + srv->lease_ms);
	log_msg("grace period: new locks wait up to %u s for %u session%s of the last run to "
		"take theirs back", srv->lease_ms / 1000, n, n == 1 ? "" : "s");
}

int state_open(struct server *srv, const char *dir, char *why, size_t why_len)
{
	struct state *st = calloc(1, sizeof(*st));
	int rc = 0;

	if (!st)
		return -ENOMEM;
	snprintf(st->dir, sizeof(st->dir), "%s", dir);
	if (mkdir(dir, 0700) < 0 && errno != EEXIST)
		rc = -errno;
	st->dirfd = rc ? -1 : open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (rc == 0 && st->dirfd < 0)
		rc = -errno;
	if (rc == 0)
		rc = load_and_compact(st);
	for (unsigned i = 0; rc == 0 && i < srv->nworkers; i++)
		rc = open_worker_log(st, &srv->workers[i]);
	srv->state = st;
	if (rc == 0)
		grace_start(srv);
	if (rc) {
		snprintf(why, why_len, "%s: %s", dir, strerror(-rc));
		state_close(srv);
		return rc;
	}
	return 0;
}

void state_close(struct server *srv)
{
	struct state *st = srv->state;

	if (!st)
		return;
	for (unsigned i = 0; i < srv->nworkers; i++) {
		if (srv->workers[i].state_fd >= 0)
			close(srv->workers[i].state_fd);
		srv->workers[i].state_fd = -1;
	}
	for (size_t i = 0; i < st->nrecs; i++)
		free(st->recs[i].reply);
	free(st->recs);
	if (st->dirfd >= 0)
		close(st->dirfd);
	free(st);
	srv->state = NULL;
}

bool state_runs_once(const struct job *job)
{
	for (unsigned i = 0; i < job->req.nops; i++) {
		const struct dafs_op *op = &job->req.ops[i];
		const struct handle *h;
		switch (op->opcode) {
		case DAFS_OP_OPEN:
			if (op->a.open.flags & (DAFS_O_EXCL | DAFS_O_TMPFILE))
				return true;
			break;
		case DAFS_OP_REMOVE:
		case DAFS_OP_RENAME:
		case DAFS_OP_LINK:
		case DAFS_OP_MKDIR:
		case DAFS_OP_RMDIR:
		case DAFS_OP_SYMLINK:
		case DAFS_OP_MKNOD:
		case DAFS_OP_LOCK:
		case DAFS_OP_UNLOCK:
		case DAFS_OP_REMOVEXATTR:
			return true;
		case DAFS_OP_SETATTR:
			if (op->a.setattr.mask & DAFS_SET_SIZE)
				return true;
			break;
		case DAFS_OP_SETXATTR:
			if (op->a.xattr.flags & DAFS_XATTR_CREATE)
				return true;
			break;
		case DAFS_OP_WRITE:
			/* Where an appending write lands depends on what ran before. */
			h = op->a.io.fh == DAFS_FH_CURRENT ? NULL :
			    session_handle_get(job->sess, op->a.io.fh);
			if (!h || (h->open_flags & DAFS_O_APPEND))
				return true;
			break;
		}
	}
	return false;
}

/* Rewrites w's log from what it must keep, once it has grown past
 * STATE_COMPACT_BYTES. Worker 0's keeps the last run's records too (a
 * client may still come back for them). */
static void compact_worker_log(struct worker *w)
{
	struct state *st = w->srv->state;
	char name[64];
	int rc;

	log_name(name, sizeof(name), w->id);
	rc = write_log(st, name, st->recs, w->id == 0 ? st->nrecs : 0, w);
	if (rc == 0) {
		close(w->state_fd);
		rc = open_worker_log(st, w);
	}
	if (rc)
		log_msg("worker %u: cannot compact %s/%s: %s", w->id, st->dir, name, strerror(-rc));
}

static void record(struct worker *w, const struct record_hdr *h, const void *reply)
{
	int rc;

	if (w->state_fd < 0)
		return;
	rc = append_record(w->state_fd, h, reply);
	if (rc) {
		log_msg("worker %u: cannot record a reply in %s: %s (a retry after a restart "
			"may run it again)", w->id, w->srv->state->dir, strerror(-rc));
		return;
	}
	w->state_bytes += sizeof(*h) + h->len;
	if (w->state_bytes > STATE_COMPACT_BYTES)
		compact_worker_log(w);
}

void state_record_reply(struct worker *w, struct session *s, uint16_t slot, uint32_t seq,
			const void *reply, size_t len)
{
	struct record_hdr h = { STATE_MAGIC, (uint32_t)len, s->id, realtime_ns(), seq, slot, 0 };

	s->slots[slot].recorded = true;
	s->recorded = true;
	record(w, &h, reply);
}

void state_record_end(struct worker *w, const struct session *s)
{
	struct record_hdr h = { STATE_MAGIC, 0, s->id, realtime_ns(), 0, STATE_END_SLOT, 0 };

	if (s->recorded || s->reclaimed)
		record(w, &h, NULL);
}

int state_restore(struct server *srv, struct session *s)
{
	struct state *st = srv->state;
	size_t lo = 0, hi = st ? st->nrecs : 0;

	while (lo < hi) {          /* the first record of s->id */
		size_t mid = lo + (hi - lo) / 2;
		if (st->recs[mid].h.session < s->id)
			lo = mid + 1;
		else
			hi = mid;
	}
	for (size_t i = lo; st && i < st->nrecs && st->recs[i].h.session == s->id; i++) {
		const struct record *r = &st->recs[i];
		struct slot *sl;
		if (r->h.slot == STATE_END_SLOT)
			return -ESTALE;
		if (r->h.slot >= s->nslots)
			continue;
		sl = &s->slots[r->h.slot];
		free(sl->reply);
		sl->reply = malloc(r->h.len);
		if (!sl->reply)
			return -ENOMEM;
		memcpy(sl->reply, r->reply, r->h.len);
		sl->reply_len = r->h.len;
		sl->has_reply = true;
		sl->used = true;
		sl->seq = r->h.seq;
		sl->state = SLOT_IDLE;
		sl->restored = true;
		sl->recorded = true;
		s->awaited = true;
	}
	return 0;
}

bool state_in_grace(struct worker *w)
{
	uint64_t until = atomic_load(&w->srv->grace_until_ms);

	if (!until)
		return false;
	if (w->now_ms < until)
		return true;
	if (atomic_exchange(&w->srv->grace_until_ms, 0))
		log_msg("grace period over: %u session%s of the last run did not come back",
			atomic_load(&w->srv->grace_awaited),
			atomic_load(&w->srv->grace_awaited) == 1 ? "" : "s");
	return false;
}

void state_session_back(struct worker *w, struct session *s)
{
	s->awaited = false;
	if (atomic_fetch_sub(&w->srv->grace_awaited, 1) == 1 &&
	    atomic_exchange(&w->srv->grace_until_ms, 0))
		log_msg("grace period over: every session of the last run came back");
}
