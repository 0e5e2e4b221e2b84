/* regcache.c — registrations of callers' buffers for direct reads (direct.c):
 * a large read may go straight into the caller's memory, which must then be
 * registered with the fabric and announced to the server (REGISTER: it
 * refuses segments outside the regions it was told). Both cost a system
 * call or a round trip, so a session keeps the registrations it made, keyed
 * by page-aligned range, and a program reading into the same buffer again
 * (the usual shape: one buffer, read after read) registers it once.
 *
 * Kept only where that is sound. A registration names a virtual range; the
 * application may free it and later get other memory at the same address.
 * shm and tcp transfer by virtual address at the time of the transfer, so
 * the data lands in whatever is mapped there now, which is the buffer the
 * read was given: a cached registration is never stale for them. verbs pins
 * the physical pages: a registration kept across free and reuse of the
 * address would send the data into the old pages. Watching for that is not
 * possible from here: glibc's free() unmaps large blocks by its internal
 * munmap, which no LD_PRELOAD wrapper sees, and libfabric's own MR cache
 * (FI_MR_CACHE_MONITOR) only invalidates entries nobody holds open. So on a
 * provider that pins (dafs_fabric_mr_pins), and when regcache_entries is
 * negative (DAFS_REGCACHE_ENTRIES=0), each direct read registers its buffer
 * for its own length and releases it after (on verbs libfabric's MR cache,
 * whose memory monitor does watch unmaps, then keeps the fabric side cheap).
 *
 * The cache is an LRU list bounded in entries and in bytes; a registration
 * in use by a read in flight (refs) is never released. Every call here takes
 * the session lock itself: REGISTER and UNREGISTER are requests, which take
 * it too. */
#include <errno.h>
#include <stdlib.h>

#include "client.h"

#define REGCACHE_PAGE            4096u
#define REGCACHE_ENTRIES_DEFAULT 32
#define REGCACHE_ENTRIES_MAX     1024      /* the server keeps 4,096 regions a session */
#define REGCACHE_BYTES_MAX       (1ull << 30)

struct regcache_entry {
	struct dafs_mr mr;              /* page-aligned, announced to the server */
	unsigned refs;                  /* direct reads using it now */
	bool kept;                      /* on the LRU list, else released at the last put */
	struct regcache_entry *prev, *next;
};

struct regcache {
	struct regcache_entry *head, *tail;   /* most recently used first */
	unsigned count, max_entries;
	uint64_t bytes, max_bytes;
	uint64_t registrations;         /* made since the session opened */
};

void regcache_setup(struct dafs_session *s, int entries)
{
	struct regcache *rc = calloc(1, sizeof(*rc));

	if (!rc)
		return;    /* direct reads then register per read (regcache_get) */
	rc->max_entries = entries == 0 ? REGCACHE_ENTRIES_DEFAULT :
			  entries < 0 ? 0 :
			  entries > REGCACHE_ENTRIES_MAX ? REGCACHE_ENTRIES_MAX : (unsigned)entries;
	if (dafs_fabric_mr_pins(s->fab))
		rc->max_entries = 0;
	rc->max_bytes = REGCACHE_BYTES_MAX;
	s->regcache = rc;
}

static void lru_unlink(struct regcache *rc, struct regcache_entry *e)
{
	if (e->prev)
		e->prev->next = e->next;
	else
		rc->head = e->next;
	if (e->next)
		e->next->prev = e->prev;
	else
		rc->tail = e->prev;
	e->prev = e->next = NULL;
}

static void lru_push_head(struct regcache *rc, struct regcache_entry *e)
{
	e->prev = NULL;
	e->next = rc->head;
	if (rc->head)
		rc->head->prev = e;
	else
		rc->tail = e;
	rc->head = e;
}

/* Takes entries nobody uses off the list, oldest first, until it is within
 * its bounds; returns them chained by `next`, to be released unlocked.
 * Session locked. */
static struct regcache_entry *trim_locked(struct regcache *rc)
{
	struct regcache_entry *victims = NULL, *e = rc->tail;

	while (e && (rc->count > rc->max_entries || rc->bytes > rc->max_bytes)) {
		struct regcache_entry *older = e->prev;
		if (e->refs == 0) {
			lru_unlink(rc, e);
			e->kept = false;
			rc->count--;
			rc->bytes -= e->mr.len;
			e->next = victims;
			victims = e;
		}
		e = older;
	}
	return victims;
}

/* The server forgets the region before the fabric does (a transfer it
 * started meanwhile would fail, not write into unregistered memory); a
 * dead or closing session's server has forgotten it already. */
static void entry_release(struct dafs_session *s, struct regcache_entry *e)
{
	bool server_gone;

	pthread_mutex_lock(&s->lock);
	server_gone = s->dead || s->closing;
	pthread_mutex_unlock(&s->lock);
	if (!server_gone)
		client_region_op(s, DAFS_OP_UNREGISTER, &e->mr);
	pthread_mutex_lock(&s->lock);
	dafs_fabric_mr_dereg(&e->mr);
	pthread_mutex_unlock(&s->lock);
	free(e);
}

static void release_all(struct dafs_session *s, struct regcache_entry *victims)
{
	while (victims) {
		struct regcache_entry *next = victims->next;
		entry_release(s, victims);
		victims = next;
	}
}

int regcache_get(struct dafs_session *s, void *buf, size_t len, struct regcache_entry **out)
{
	struct regcache *rc = s->regcache;
	uintptr_t lo = (uintptr_t)buf & ~(uintptr_t)(REGCACHE_PAGE - 1);
	uintptr_t hi = ((uintptr_t)buf + len + REGCACHE_PAGE - 1) & ~(uintptr_t)(REGCACHE_PAGE - 1);
	struct regcache_entry *e, *victims = NULL;
	int err;

	pthread_mutex_lock(&s->lock);
	for (e = rc ? rc->head : NULL; e; e = e->next) {
		uintptr_t base = (uintptr_t)e->mr.base;
		if (lo >= base && hi <= base + e->mr.len) {
			e->refs++;
			lru_unlink(rc, e);
			lru_push_head(rc, e);
			pthread_mutex_unlock(&s->lock);
			*out = e;
			return 0;
		}
	}
	pthread_mutex_unlock(&s->lock);

	e = calloc(1, sizeof(*e));
	if (!e)
		return -ENOMEM;
	pthread_mutex_lock(&s->lock);
	/* The server writes into it (READ); nothing here sends from it. */
	err = dafs_fabric_mr_reg(s->fab, (void *)lo, hi - lo,
				 DAFS_MR_LOCAL | DAFS_MR_REMOTE_WRITE, &e->mr);
	pthread_mutex_unlock(&s->lock);
	if (!err) {
		err = client_region_op(s, DAFS_OP_REGISTER, &e->mr);
		if (err) {
			pthread_mutex_lock(&s->lock);
			dafs_fabric_mr_dereg(&e->mr);
			pthread_mutex_unlock(&s->lock);
		}
	}
	if (err) {
		free(e);
		return err;
	}
	e->refs = 1;
	pthread_mutex_lock(&s->lock);
	if (rc) {
		rc->registrations++;
		if (rc->max_entries && hi - lo <= rc->max_bytes) {
			e->kept = true;
			lru_push_head(rc, e);
			rc->count++;
			rc->bytes += e->mr.len;
			victims = trim_locked(rc);
		}
	}
	pthread_mutex_unlock(&s->lock);
	release_all(s, victims);
	*out = e;
	return 0;
}

void regcache_put(struct dafs_session *s, struct regcache_entry *e)
{
	struct regcache_entry *victims = NULL;

	pthread_mutex_lock(&s->lock);
	e->refs--;
	if (e->kept) {
		/* Another thread may free e from here on: e is not read again. */
		victims = trim_locked(s->regcache);   /* it may have waited on e */
	} else if (e->refs == 0) {
		e->next = NULL;
		victims = e;
	}
	pthread_mutex_unlock(&s->lock);
	release_all(s, victims);
}

const struct dafs_mr *regcache_mr(const struct regcache_entry *e)
{
	return &e->mr;
}

void regcache_stats(struct dafs_session *s, struct dafs_cache_stats *out)
{
	const struct regcache *rc = s->regcache;

	assert_session_locked(s);
	if (!rc)
		return;
	out->registrations = rc->registrations;
	out->registrations_kept = rc->count;
	out->registered_bytes = rc->bytes;
}

/* At session close, after SESSION_CLOSE (the server forgot the regions):
 * only the fabric's side remains. Reads are over by then. */
void regcache_teardown(struct dafs_session *s)
{
	struct regcache *rc = s->regcache;

	if (!rc)
		return;
	while (rc->head) {
		struct regcache_entry *e = rc->head;
		lru_unlink(rc, e);
		dafs_fabric_mr_dereg(&e->mr);
		free(e);
	}
	free(rc);
	s->regcache = NULL;
}
