/* bufpool.c — registered transfer buffers from a private jemalloc arena. Owns
 * the arena's extent hooks and the table of chunks they mapped and
 * registered: alloc maps + registers + records; merge is refused so no extent
 * ever spans two registrations; split is allowed (both halves stay inside the
 * original registration); dalloc, decommit and purge are refused so chunks stay
 * mapped, resident and registered until bufpool_destroy, which destroys the
 * arena and only then deregisters and unmaps everything.
 *
 * jemalloc 5.3 also allocates the arena's own metadata through these hooks;
 * those chunks are registered too (harmless) and released the same way.
 */
#include "bufpool.h"

#include <errno.h>
#include <jemalloc/jemalloc.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

struct region {
	uintptr_t base;
	size_t len;
	struct dafs_mr mr;
};

struct bufpool {
	extent_hooks_t hooks;     /* first: jemalloc hands this pointer back */
	struct bufpool_ops ops;
	unsigned arena;
	int flags;                /* mallocx flags */
	pthread_mutex_t mu;
	/* Sorted by base; fixed capacity, allocated up front so the hooks,
	 * which run inside jemalloc, never allocate. */
	struct region *regions;
	size_t nregions;
};

static struct bufpool *pool_of(extent_hooks_t *h)
{
	return (struct bufpool *)((char *)h - offsetof(struct bufpool, hooks));
}

/* Index of the first region whose base is > p. */
static size_t upper_bound(const struct bufpool *bp, uintptr_t p)
{
	size_t lo = 0, hi = bp->nregions;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		if (bp->regions[mid].base <= p)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

/* mmap `size` bytes aligned to `align` (a power of two), trimming the slack. */
static void *map_aligned(size_t size, size_t align)
{
	size_t page = (size_t)sysconf(_SC_PAGESIZE);
	if (align <= page) {
		void *p = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS,
			       -1, 0);
		return p == MAP_FAILED ? NULL : p;
	}
	if (size > SIZE_MAX - align)
		return NULL;
	size_t span = size + align - page;
	char *raw = mmap(NULL, span, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (raw == MAP_FAILED)
		return NULL;
	uintptr_t start = ((uintptr_t)raw + align - 1) & ~(uintptr_t)(align - 1);
	size_t head = start - (uintptr_t)raw;
	size_t tail = span - head - size;
	if (head)
		munmap(raw, head);
	if (tail)
		munmap((char *)start + size, tail);
	return (void *)start;
}

static void *hook_alloc(extent_hooks_t *h, void *new_addr, size_t size, size_t alignment,
			bool *zero, bool *commit, unsigned arena_ind)
{
	struct bufpool *bp = pool_of(h);
	/* Growing in place would need merging, which we refuse anyway. */
	if (new_addr)
		return NULL;

	pthread_mutex_lock(&bp->mu);
	void *p = NULL;
	if (bp->nregions >= BUFPOOL_MAX_REGIONS)
		goto out;
	p = map_aligned(size, alignment);
	if (!p)
		goto out;
	struct dafs_mr mr;
	memset(&mr, 0, sizeof(mr));
	if (bp->ops.reg(bp->ops.ctx, p, size, &mr) != 0) {
		munmap(p, size);
		p = NULL;
		goto out;
	}
	size_t at = upper_bound(bp, (uintptr_t)p);
	memmove(&bp->regions[at + 1], &bp->regions[at],
		(bp->nregions - at) * sizeof(bp->regions[0]));
	bp->regions[at] = (struct region){ .base = (uintptr_t)p, .len = size, .mr = mr };
	bp->nregions++;
	/* Fresh anonymous mappings are zeroed and (by overcommit) committed. */
	*zero = true;
	*commit = true;
out:
	pthread_mutex_unlock(&bp->mu);
	return p;
}

/* Opt out: the chunk stays mapped and registered; jemalloc retains it. */
static bool hook_dalloc(extent_hooks_t *h, void *addr, size_t size, bool committed,
			unsigned arena_ind)
{
	return true;
}

/* Called for retained extents (possibly pieces of a chunk) while the arena is
 * destroyed: the chunks are released whole by bufpool_destroy afterwards. */
static void hook_destroy(extent_hooks_t *h, void *addr, size_t size, bool committed,
			 unsigned arena_ind)
{
}

static bool hook_split(extent_hooks_t *h, void *addr, size_t size, size_t size_a,
		       size_t size_b, bool committed, unsigned arena_ind)
{
	return false;
}

/* Refused: two chunks are two registrations; a buffer spanning both could
 * not be described by one descriptor. */
static bool hook_merge(extent_hooks_t *h, void *addr_a, size_t size_a, void *addr_b,
		       size_t size_b, bool committed, unsigned arena_ind)
{
	return true;
}

static int fabric_reg(void *ctx, void *buf, size_t len, struct dafs_mr *out)
{
	return dafs_fabric_mr_reg(ctx, buf, len,
				  DAFS_MR_LOCAL | DAFS_MR_REMOTE_READ | DAFS_MR_REMOTE_WRITE, out);
}

static int fabric_dereg(void *ctx, struct dafs_mr *mr)
{
	return dafs_fabric_mr_dereg(mr);
}

int bufpool_create(struct dafs_fabric *f, struct bufpool **out)
{
	if (!f)
		return -EINVAL;
	struct bufpool_ops ops = { .reg = fabric_reg, .dereg = fabric_dereg, .ctx = f };
	return bufpool_create_ops(&ops, out);
}

static void release_regions(struct bufpool *bp)
{
	for (size_t i = 0; i < bp->nregions; i++) {
		bp->ops.dereg(bp->ops.ctx, &bp->regions[i].mr);
		munmap((void *)bp->regions[i].base, bp->regions[i].len);
	}
	bp->nregions = 0;
}

/* mallctl returns a positive errno; this returns 0 or -errno, as the rest
 * of the server does. */
static int arena_ctl(unsigned arena, const char *what, void *newp, size_t newlen)
{
	char name[64];
	snprintf(name, sizeof(name), "arena.%u.%s", arena, what);
	return -mallctl(name, NULL, NULL, newp, newlen);
}

int bufpool_create_ops(const struct bufpool_ops *ops, struct bufpool **out)
{
	if (!ops || !ops->reg || !ops->dereg || !out)
		return -EINVAL;
	struct bufpool *bp = calloc(1, sizeof(*bp));
	if (!bp)
		return -ENOMEM;
	bp->regions = calloc(BUFPOOL_MAX_REGIONS, sizeof(*bp->regions));
	if (!bp->regions) {
		free(bp);
		return -ENOMEM;
	}
	bp->ops = *ops;
	pthread_mutex_init(&bp->mu, NULL);
	/* NULL members opt out: no commit/decommit/purge, so pages are never
	 * discarded from under a registration. */
	bp->hooks = (extent_hooks_t){
		.alloc = hook_alloc,
		.dalloc = hook_dalloc,
		.destroy = hook_destroy,
		.split = hook_split,
		.merge = hook_merge,
	};

	extent_hooks_t *hp = &bp->hooks;
	unsigned ind;
	size_t sz = sizeof(ind);
	int rc = mallctl("arenas.create", &ind, &sz, &hp, sizeof(hp));
	if (rc != 0) {
		release_regions(bp);
		pthread_mutex_destroy(&bp->mu);
		free(bp->regions);
		free(bp);
		return -rc;
	}
	bp->arena = ind;
	bp->flags = (int)(MALLOCX_ARENA(ind) | MALLOCX_TCACHE_NONE | MALLOCX_ALIGN(BUFPOOL_ALIGN));
	/* Decay would only cascade into hooks that refuse; -1 skips the work.
	 * Failure is harmless for the same reason. */
	ssize_t never = -1;
	arena_ctl(ind, "dirty_decay_ms", &never, sizeof(never));
	arena_ctl(ind, "muzzy_decay_ms", &never, sizeof(never));
	*out = bp;
	return 0;
}

void *bufpool_alloc(struct bufpool *bp, size_t size)
{
	if (!bp || size == 0)
		return NULL;
	return mallocx(size, bp->flags);
}

void bufpool_free(struct bufpool *bp, void *p)
{
	if (p)
		dallocx(p, MALLOCX_TCACHE_NONE);
}

int bufpool_find(struct bufpool *bp, const void *p, size_t len, struct dafs_mr *out)
{
	uintptr_t a = (uintptr_t)p;
	if (!bp || !p || len > UINTPTR_MAX - a)
		return -ENOENT;
	int rc = -ENOENT;
	pthread_mutex_lock(&bp->mu);
	size_t i = upper_bound(bp, a);
	if (i > 0) {
		const struct region *r = &bp->regions[i - 1];
		if (a - r->base < r->len && len <= r->len - (a - r->base)) {
			if (out)
				*out = r->mr;
			rc = 0;
		}
	}
	pthread_mutex_unlock(&bp->mu);
	return rc;
}

void *bufpool_desc(struct bufpool *bp, const void *p, size_t len)
{
	struct dafs_mr mr;
	return bufpool_find(bp, p, len, &mr) == 0 ? mr.desc : NULL;
}

void bufpool_destroy(struct bufpool *bp)
{
	if (!bp)
		return;
	if (arena_ctl(bp->arena, "destroy", NULL, 0) != 0) {
		/* The arena lives on and may still call our hooks and use the
		 * chunks: leaking all of it is the only safe choice. */
		return;
	}
	release_regions(bp);
	pthread_mutex_destroy(&bp->mu);
	free(bp->regions);
	free(bp);
}
