/* locks.c — the byte-range lock table behind the server's fcntl locks. Owns a
 * hash of files (dev, ino) -> unordered array of ranges, and a hash of
 * sessions -> how many ranges each holds (the memory bound). One mutex guards
 * both: lock operations are short, and a single lock keeps "check conflicts
 * then set" atomic across worker threads without ordering rules.
 *
 * Each owner's ranges are kept disjoint, and its same-type ranges are never
 * adjacent (they are coalesced), as the kernel keeps them; the algorithm in
 * locks_set() relies on that invariant.
 */
#include "locks.h"
#include "proto.h"      /* DAFS_WIRE_LOCK_OWNER_FLOCK */

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#define OFF_MAX ((uint64_t)INT64_MAX)

struct range {
	uint64_t start, end;    /* inclusive; end == OFF_MAX is "to infinity" */
	uint64_t session, owner;
	uint32_t pid;
	int type;
};

struct lfile {
	struct lfile *next;
	uint64_t dev, ino;
	struct range *r;
	size_t n, cap;
	/* Ranges of sessions that ended holding them (locks_release_session). */
	struct { uint64_t start, end; } broken[LOCKS_MAX_BROKEN_PER_FILE];
	unsigned nbroken;
};

struct sess {
	struct sess *next;
	uint64_t id;
	unsigned count;
};

struct lock_table {
	pthread_mutex_t mu;
	struct lfile **files;
	size_t nbuckets, nfiles;
	struct sess **sess;
	size_t nsbuckets, nsess;
};

#define INITIAL_BUCKETS 64

static uint64_t mix(uint64_t x)
{
	x ^= x >> 30;
	x *= 0xbf58476d1ce4e5b9ULL;
	x ^= x >> 27;
	x *= 0x94d049bb133111ebULL;
	x ^= x >> 31;
	return x;
}

static size_t file_bucket(size_t nbuckets, uint64_t dev, uint64_t ino)
{
	return (size_t)(mix(dev * 0x9e3779b97f4a7c15ULL ^ ino) & (nbuckets - 1));
}

int locks_create(struct lock_table **out)
{
	struct lock_table *lt = calloc(1, sizeof(*lt));
	if (!lt)
		return -ENOMEM;
	lt->files = calloc(INITIAL_BUCKETS, sizeof(*lt->files));
	lt->sess = calloc(INITIAL_BUCKETS, sizeof(*lt->sess));
	if (!lt->files || !lt->sess) {
		free(lt->files);
		free(lt->sess);
		free(lt);
		return -ENOMEM;
	}
	lt->nbuckets = lt->nsbuckets = INITIAL_BUCKETS;
	pthread_mutex_init(&lt->mu, NULL);
	*out = lt;
	return 0;
}

void locks_destroy(struct lock_table *lt)
{
	if (!lt)
		return;
	for (size_t b = 0; b < lt->nbuckets; b++) {
		struct lfile *f = lt->files[b];
		while (f) {
			struct lfile *next = f->next;
			free(f->r);
			free(f);
			f = next;
		}
	}
	for (size_t b = 0; b < lt->nsbuckets; b++) {
		struct sess *s = lt->sess[b];
		while (s) {
			struct sess *next = s->next;
			free(s);
			s = next;
		}
	}
	free(lt->files);
	free(lt->sess);
	pthread_mutex_destroy(&lt->mu);
	free(lt);
}

/* --- hashes. Growth failures are ignored: chains just get longer. */

static struct lfile **file_slot(struct lock_table *lt, uint64_t dev, uint64_t ino)
{
	struct lfile **pp = &lt->files[file_bucket(lt->nbuckets, dev, ino)];
	while (*pp && ((*pp)->dev != dev || (*pp)->ino != ino))
		pp = &(*pp)->next;
	return pp;
}

static void files_grow(struct lock_table *lt)
{
	size_t nb = lt->nbuckets * 2;
	struct lfile **nf = calloc(nb, sizeof(*nf));
	if (!nf)
		return;
	for (size_t b = 0; b < lt->nbuckets; b++) {
		struct lfile *f = lt->files[b];
		while (f) {
			struct lfile *next = f->next;
			size_t nbk = file_bucket(nb, f->dev, f->ino);
			f->next = nf[nbk];
			nf[nbk] = f;
			f = next;
		}
	}
	free(lt->files);
	lt->files = nf;
	lt->nbuckets = nb;
}

static struct lfile *file_add(struct lock_table *lt, uint64_t dev, uint64_t ino)
{
	struct lfile *f = calloc(1, sizeof(*f));
	if (!f)
		return NULL;
	f->dev = dev;
	f->ino = ino;
	if (lt->nfiles >= lt->nbuckets)
		files_grow(lt);
	struct lfile **pp = &lt->files[file_bucket(lt->nbuckets, dev, ino)];
	f->next = *pp;
	*pp = f;
	lt->nfiles++;
	return f;
}

static void file_drop_if_empty(struct lock_table *lt, struct lfile *f)
{
	if (f->n || f->nbroken)
		return;
	struct lfile **pp = file_slot(lt, f->dev, f->ino);
	*pp = f->next;
	lt->nfiles--;
	free(f->r);
	free(f);
}

static struct sess **sess_slot(struct lock_table *lt, uint64_t id)
{
	struct sess **pp = &lt->sess[mix(id) & (lt->nsbuckets - 1)];
	while (*pp && (*pp)->id != id)
		pp = &(*pp)->next;
	return pp;
}

static void sess_grow(struct lock_table *lt)
{
	size_t nb = lt->nsbuckets * 2;
	struct sess **ns = calloc(nb, sizeof(*ns));
	if (!ns)
		return;
	for (size_t b = 0; b < lt->nsbuckets; b++) {
		struct sess *s = lt->sess[b];
		while (s) {
			struct sess *next = s->next;
			size_t nbk = mix(s->id) & (nb - 1);
			s->next = ns[nbk];
			ns[nbk] = s;
			s = next;
		}
	}
	free(lt->sess);
	lt->sess = ns;
	lt->nsbuckets = nb;
}

static struct sess *sess_add(struct lock_table *lt, uint64_t id)
{
	struct sess *s = calloc(1, sizeof(*s));
	if (!s)
		return NULL;
	s->id = id;
	if (lt->nsess >= lt->nsbuckets)
		sess_grow(lt);
	struct sess **pp = &lt->sess[mix(id) & (lt->nsbuckets - 1)];
	s->next = *pp;
	*pp = s;
	lt->nsess++;
	return s;
}

/* Subtracts `removed` ranges from the session's count, dropping the entry at 0. */
static void sess_sub(struct lock_table *lt, uint64_t id, unsigned removed)
{
	if (!removed)
		return;
	struct sess **pp = sess_slot(lt, id);
	struct sess *s = *pp;
	if (!s)
		return;
	s->count = s->count > removed ? s->count - removed : 0;
	if (s->count == 0) {
		*pp = s->next;
		lt->nsess--;
		free(s);
	}
}

/* --- ranges */

static int range_of(const struct lock_desc *d, uint64_t *start, uint64_t *end)
{
	if (d->start > OFF_MAX)
		return -EINVAL;
	if (d->len == 0) {
		*end = OFF_MAX;
	} else {
		if (d->len - 1 > OFF_MAX - d->start)
			return -EINVAL;
		*end = d->start + (d->len - 1);
	}
	*start = d->start;
	return 0;
}

static void describe(const struct range *r, struct lock_desc *out)
{
	out->type = r->type;
	out->start = r->start;
	out->len = r->end == OFF_MAX ? 0 : r->end - r->start + 1;
	out->session = r->session;
	out->owner = r->owner;
	out->pid = r->pid;
}

static bool same_owner(const struct range *r, const struct lock_desc *d)
{
	return r->session == d->session && r->owner == d->owner;
}

/* First lock of another owner that keeps `type` from being set on [s, e]. */
static const struct range *find_conflict(const struct lfile *f, const struct lock_desc *want,
					 uint64_t s, uint64_t e)
{
	if (!f)
		return NULL;
	for (size_t i = 0; i < f->n; i++) {
		const struct range *r = &f->r[i];
		if (same_owner(r, want) || r->end < s || r->start > e ||
		    ((r->owner ^ want->owner) & DAFS_WIRE_LOCK_OWNER_FLOCK))
			continue;       /* flock and fcntl locks never meet */
		if (want->type == F_WRLCK || r->type == F_WRLCK)
			return r;
	}
	return NULL;
}

/* How one of the owner's existing ranges is affected by setting [s, e]. */
enum fate { KEEP, MERGE, CUT };

static enum fate fate_of(const struct range *r, int type, uint64_t s, uint64_t e)
{
	bool overlaps = r->start <= e && r->end >= s;
	/* end+1 cannot overflow: ends are at most OFF_MAX. */
	bool touches = overlaps || r->end + 1 == s || r->start == e + 1;
	if (type != F_UNLCK && r->type == type)
		return touches ? MERGE : KEEP;
	return overlaps ? CUT : KEEP;
}

int locks_set(struct lock_table *lt, uint64_t dev, uint64_t ino, const struct lock_desc *want,
	      struct lock_desc *conflict)
{
	if (!want || (want->type != F_RDLCK && want->type != F_WRLCK && want->type != F_UNLCK))
		return -EINVAL;
	uint64_t s, e;
	int rc = range_of(want, &s, &e);
	if (rc < 0)
		return rc;

	pthread_mutex_lock(&lt->mu);
	struct lfile *f = *file_slot(lt, dev, ino);
	if (!f && want->type == F_UNLCK)
		goto out;

	if (want->type != F_UNLCK) {
		const struct range *c = find_conflict(f, want, s, e);
		if (c) {
			if (conflict)
				describe(c, conflict);
			rc = -EAGAIN;
			goto out;
		}
	}

	/* Count first, change later: a refusal (ENOLCK, ENOMEM) must leave the
	 * table as it was. A CUT leaves at most a piece on each side; the
	 * owner's ranges being disjoint, at most one range holds s-1 and one
	 * holds e+1, so at most two pieces in all. */
	size_t removed = 0, pieces = 0;
	for (size_t i = 0; f && i < f->n; i++) {
		if (!same_owner(&f->r[i], want))
			continue;
		enum fate fa = fate_of(&f->r[i], want->type, s, e);
		if (fa == KEEP)
			continue;
		removed++;
		if (fa == CUT)
			pieces += (f->r[i].start < s) + (f->r[i].end > e);
	}
	size_t added = pieces + (want->type != F_UNLCK);
	if (added == 0 && removed == 0)
		goto out;

	struct sess *ss = *sess_slot(lt, want->session);
	size_t held = ss ? ss->count : 0;
	if (added > removed && held + (added - removed) > LOCKS_MAX_PER_SESSION) {
		rc = -ENOLCK;
		goto out;
	}

	bool new_file = false;
	if (!f) {
		f = file_add(lt, dev, ino);
		if (!f) {
			rc = -ENOMEM;
			goto out;
		}
		new_file = true;
	}
	if (f->n + added > f->cap) {
		size_t cap = f->cap ? f->cap * 2 : 4;
		while (cap < f->n + added)
			cap *= 2;
		struct range *nr = realloc(f->r, cap * sizeof(*nr));
		if (!nr) {
			if (new_file)
				file_drop_if_empty(lt, f);
			rc = -ENOMEM;
			goto out;
		}
		f->r = nr;
		f->cap = cap;
	}
	if (!ss && added > removed) {
		ss = sess_add(lt, want->session);
		if (!ss) {
			if (new_file)
				file_drop_if_empty(lt, f);
			rc = -ENOMEM;
			goto out;
		}
	}

	/* Apply. Merging only grows the new range over same-type ranges, which
	 * are disjoint from the owner's other ranges, so the fates counted
	 * against [s, e] above stay right for the grown range. */
	struct range add = {
		.start = s, .end = e, .session = want->session, .owner = want->owner,
		.pid = want->pid, .type = want->type,
	};
	struct range cut[2];
	size_t ncut = 0, j = 0;
	for (size_t i = 0; i < f->n; i++) {
		struct range r = f->r[i];
		enum fate fa = same_owner(&r, want) ? fate_of(&r, want->type, s, e) : KEEP;
		if (fa == KEEP) {
			f->r[j++] = r;
		} else if (fa == MERGE) {
			if (r.start < add.start)
				add.start = r.start;
			if (r.end > add.end)
				add.end = r.end;
		} else {
			if (r.start < s && ncut < 2) {
				cut[ncut] = r;
				cut[ncut++].end = s - 1;
			}
			if (r.end > e && ncut < 2) {
				cut[ncut] = r;
				cut[ncut++].start = e + 1;
			}
		}
	}
	for (size_t i = 0; i < ncut; i++)
		f->r[j++] = cut[i];
	if (want->type != F_UNLCK)
		f->r[j++] = add;
	f->n = j;

	if (added > removed)
		ss->count += (unsigned)(added - removed);
	else
		sess_sub(lt, want->session, (unsigned)(removed - added));
	file_drop_if_empty(lt, f);
out:
	pthread_mutex_unlock(&lt->mu);
	return rc;
}

int locks_test(struct lock_table *lt, uint64_t dev, uint64_t ino, const struct lock_desc *want,
	       struct lock_desc *conflict)
{
	if (!want || !conflict || (want->type != F_RDLCK && want->type != F_WRLCK))
		return -EINVAL;
	uint64_t s, e;
	int rc = range_of(want, &s, &e);
	if (rc < 0)
		return rc;

	pthread_mutex_lock(&lt->mu);
	const struct range *c = find_conflict(*file_slot(lt, dev, ino), want, s, e);
	if (c) {
		describe(c, conflict);
	} else {
		*conflict = *want;
		conflict->type = F_UNLCK;
	}
	pthread_mutex_unlock(&lt->mu);
	return 0;
}

/* Drops the ranges of f that match (session, and owner unless any_owner);
 * returns how many. */
static unsigned drop_matching(struct lfile *f, uint64_t session, uint64_t owner, bool any_owner,
			      bool broken)
{
	size_t j = 0;
	unsigned dropped = 0;
	for (size_t i = 0; i < f->n; i++) {
		const struct range *r = &f->r[i];
		if (r->session == session && (any_owner || r->owner == owner)) {
			dropped++;
			if (broken && f->nbroken < LOCKS_MAX_BROKEN_PER_FILE) {
				f->broken[f->nbroken].start = r->start;
				f->broken[f->nbroken++].end = r->end;
			}
		} else {
			f->r[j++] = *r;
		}
	}
	f->n = j;
	return dropped;
}

void locks_release_owner(struct lock_table *lt, uint64_t dev, uint64_t ino, uint64_t session,
			 uint64_t owner)
{
	pthread_mutex_lock(&lt->mu);
	struct lfile *f = *file_slot(lt, dev, ino);
	if (f) {
		sess_sub(lt, session, drop_matching(f, session, owner, false, false));
		file_drop_if_empty(lt, f);
	}
	pthread_mutex_unlock(&lt->mu);
}

void locks_release_session(struct lock_table *lt, uint64_t session, bool broken)
{
	pthread_mutex_lock(&lt->mu);
	struct sess **sp = sess_slot(lt, session);
	/* Without an entry the session holds nothing: skip the walk. */
	if (*sp) {
		for (size_t b = 0; b < lt->nbuckets; b++) {
			struct lfile **pp = &lt->files[b];
			while (*pp) {
				struct lfile *f = *pp;
				drop_matching(f, session, 0, true, broken);
				if (f->n == 0 && f->nbroken == 0) {
					*pp = f->next;
					lt->nfiles--;
					free(f->r);
					free(f);
				} else {
					pp = &f->next;
				}
			}
		}
		struct sess *s = *sp;
		*sp = s->next;
		lt->nsess--;
		free(s);
	}
	pthread_mutex_unlock(&lt->mu);
}

int locks_take_broken(struct lock_table *lt, uint64_t dev, uint64_t ino, uint64_t start,
		      uint64_t len)
{
	uint64_t end = len == 0 || len - 1 > OFF_MAX - start ? OFF_MAX : start + len - 1;
	int told = 0;

	pthread_mutex_lock(&lt->mu);
	struct lfile *f = *file_slot(lt, dev, ino);
	if (f) {
		unsigned j = 0;
		for (unsigned i = 0; i < f->nbroken; i++) {
			if (f->broken[i].start <= end && start <= f->broken[i].end)
				told = 1;
			else
				f->broken[j++] = f->broken[i];
		}
		f->nbroken = j;
		file_drop_if_empty(lt, f);
	}
	pthread_mutex_unlock(&lt->mu);
	return told;
}

unsigned locks_session_count(struct lock_table *lt, uint64_t session)
{
	pthread_mutex_lock(&lt->mu);
	struct sess *s = *sess_slot(lt, session);
	unsigned n = s ? s->count : 0;
	pthread_mutex_unlock(&lt->mu);
	return n;
}
