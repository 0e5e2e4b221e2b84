/* test_bufpool.c — bufpool.c against a fake fabric: registrations are recorded
 * here (struct bufpool_ops), so the test needs no provider. Thousands of
 * buffers of random sizes (64 B .. 4 MiB) are allocated, stamped, freed and
 * reallocated; each must lie inside exactly one registration, and
 * bufpool_find / bufpool_desc must name that one. Destroy must deregister and
 * unmap every chunk it registered. */
#include "check.h"
#include "bufpool.h"

#include <errno.h>
#include <stdint.h>
#include <sys/mman.h>
#include <unistd.h>

/* bufpool.c refers to the real registration functions; when this test is
 * linked without fabric.c these stand in (weak, so the real ones win when it
 * is there). The test itself always goes through its own fake ops. */
__attribute__((weak)) int dafs_fabric_mr_reg(struct dafs_fabric *f, void *buf, size_t len,
					      unsigned access, struct dafs_mr *out)
{
	return -ENOSYS;
}

__attribute__((weak)) int dafs_fabric_mr_dereg(struct dafs_mr *mr)
{
	return -ENOSYS;
}

#define MAX_FAKE 4096

struct fake_reg {
	uintptr_t base;
	size_t len;
	uint64_t key;
	int live;
};

struct fake {
	struct fake_reg regs[MAX_FAKE];
	int n, live, deregs, bad_deregs, fail;
};

static int fake_reg(void *ctx, void *buf, size_t len, struct dafs_mr *out)
{
	struct fake *fk = ctx;
	if (fk->fail || fk->n >= MAX_FAKE)
		return -ENOMEM;
	struct fake_reg *r = &fk->regs[fk->n];
	r->base = (uintptr_t)buf;
	r->len = len;
	r->key = 1000 + (uint64_t)fk->n;
	r->live = 1;
	out->base = buf;
	out->len = len;
	out->key = r->key;
	out->desc = (void *)(uintptr_t)(0x10000 + 16 * (uint64_t)fk->n);
	out->remote_base = (uintptr_t)buf;
	out->mr = NULL;
	fk->n++;
	fk->live++;
	return 0;
}

static int fake_dereg(void *ctx, struct dafs_mr *mr)
{
	struct fake *fk = ctx;
	uint64_t i = mr->key - 1000;
	if (i >= (uint64_t)fk->n || !fk->regs[i].live || fk->regs[i].base != (uintptr_t)mr->base) {
		fk->bad_deregs++;
		return -EINVAL;
	}
	fk->regs[i].live = 0;
	fk->live--;
	fk->deregs++;
	return 0;
}

/* How many live fake registrations cover [p, p+len), and the last one. */
static int covering(const struct fake *fk, const void *p, size_t len, const struct fake_reg **which)
{
	uintptr_t a = (uintptr_t)p;
	int n = 0;
	for (int i = 0; i < fk->n; i++) {
		const struct fake_reg *r = &fk->regs[i];
		if (r->live && a >= r->base && a + len <= r->base + r->len) {
			n++;
			*which = r;
		}
	}
	return n;
}

static uint64_t rng = 88172645463325252ULL;

static uint64_t rnd(void)
{
	rng ^= rng << 13;
	rng ^= rng >> 7;
	rng ^= rng << 17;
	return rng;
}

/* Log-uniform in [64, 4 MiB] so small and large sizes both appear often. */
static size_t rnd_size(void)
{
	unsigned shift = 6 + (unsigned)(rnd() % 17);   /* 2^6 .. 2^22 */
	size_t lo = (size_t)1 << shift;
	return lo + (size_t)(rnd() % lo) * (shift < 22);
}

#define SLOTS 48

struct slot {
	unsigned char *p;
	size_t size;
	uint64_t stamp;
};

static void stamp_put(struct slot *s)
{
	memcpy(s->p, &s->stamp, 8);
	memcpy(s->p + s->size - 8, &s->stamp, 8);
	s->p[s->size / 2] = (unsigned char)s->stamp;
}

static int stamp_ok(const struct slot *s)
{
	uint64_t a, b;
	memcpy(&a, s->p, 8);
	memcpy(&b, s->p + s->size - 8, 8);
	return a == s->stamp && b == s->stamp && s->p[s->size / 2] == (unsigned char)s->stamp;
}

static void churn(struct bufpool *bp, struct fake *fk, int ops, const char *what)
{
	struct slot slots[SLOTS];
	memset(slots, 0, sizeof(slots));
	int nulls = 0, misaligned = 0, cover_bad = 0, desc_bad = 0, stamps_bad = 0, allocs = 0;
	for (int op = 0; op < ops; op++) {
		struct slot *s = &slots[rnd() % SLOTS];
		if (s->p) {
			stamps_bad += !stamp_ok(s);
			bufpool_free(bp, s->p);
			s->p = NULL;
		}
		s->size = rnd_size();
		s->p = bufpool_alloc(bp, s->size);
		allocs++;
		if (!s->p) {
			nulls++;
			continue;
		}
		misaligned += ((uintptr_t)s->p % BUFPOOL_ALIGN) != 0;
		s->stamp = rnd() | 1;
		stamp_put(s);

		const struct fake_reg *r = NULL;
		if (covering(fk, s->p, s->size, &r) != 1) {
			cover_bad++;
			continue;
		}
		struct dafs_mr mr;
		if (bufpool_find(bp, s->p, s->size, &mr) != 0 || mr.key != r->key
		    || mr.base != (void *)r->base
		    || bufpool_desc(bp, s->p, s->size) != mr.desc
		    || bufpool_desc(bp, s->p + s->size - 1, 1) != mr.desc)
			desc_bad++;
	}
	for (int i = 0; i < SLOTS; i++) {
		if (slots[i].p) {
			stamps_bad += !stamp_ok(&slots[i]);
			bufpool_free(bp, slots[i].p);
		}
	}
	CHECK_EQ(nulls, 0, "%s: %d allocations of 64 B .. 4 MiB succeed", what, allocs);
	CHECK_EQ(misaligned, 0, "%s: all %d-byte aligned", what, BUFPOOL_ALIGN);
	CHECK_EQ(cover_bad, 0, "%s: each inside exactly one registration", what);
	CHECK_EQ(desc_bad, 0, "%s: bufpool_find/desc name that registration", what);
	CHECK_EQ(stamps_bad, 0, "%s: no buffer overwrote another", what);
}

static void test_churn(void)
{
	static struct fake fk;
	memset(&fk, 0, sizeof(fk));
	struct bufpool_ops ops = { .reg = fake_reg, .dereg = fake_dereg, .ctx = &fk };
	struct bufpool *bp = NULL;
	CHECK_EQ(bufpool_create_ops(&ops, &bp), 0, "bufpool_create_ops");
	if (!bp)
		return;

	churn(bp, &fk, 3000, "round 1");
	int after1 = fk.n;
	churn(bp, &fk, 3000, "round 2");
	CHECK(fk.n <= after1 + after1 / 2 + 4,
	      "memory is reused: %d registrations after round 1, %d after round 2", after1, fk.n);
	CHECK_EQ(fk.deregs, 0, "nothing deregistered while the pool lives");

	/* Lookups of memory that is not ours. */
	int local = 0;
	struct dafs_mr mr;
	CHECK_EQ(bufpool_find(bp, &local, sizeof(local), &mr), -ENOENT, "stack memory: not found");
	CHECK(bufpool_desc(bp, &local, sizeof(local)) == NULL, "stack memory: no desc");
	CHECK_EQ(bufpool_find(bp, NULL, 1, &mr), -ENOENT, "NULL: not found");
	const struct fake_reg *r0 = &fk.regs[0];
	CHECK_EQ(bufpool_find(bp, (void *)(r0->base + r0->len - 1), 2, &mr), -ENOENT,
		 "a range running off the end of a registration is not covered");
	CHECK_EQ(bufpool_find(bp, (void *)(r0->base + r0->len - 1), 1, &mr), 0,
		 "its last byte is");
	CHECK_EQ(bufpool_find(bp, (void *)r0->base, SIZE_MAX, &mr), -ENOENT, "huge len");
	CHECK(bufpool_alloc(bp, 0) == NULL, "size 0 gives NULL");
	bufpool_free(bp, NULL);

	/* A registration failure is an allocation failure, not a crash. */
	fk.fail = 1;
	void *big = bufpool_alloc(bp, (size_t)64 << 20);
	CHECK(big == NULL, "failed registration: bufpool_alloc gives NULL");
	fk.fail = 0;
	big = bufpool_alloc(bp, (size_t)64 << 20);
	CHECK(big != NULL, "and works again after");
	const struct fake_reg *r = NULL;
	CHECK(big && covering(&fk, big, (size_t)64 << 20, &r) == 1, "64 MiB in one registration");
	bufpool_free(bp, big);

	int regs = fk.n;
	bufpool_destroy(bp);
	/* Check unmapping before anything else can map over those addresses. */
	int still_mapped = 0;
	for (int i = 0; i < fk.n; i++)
		still_mapped += msync((void *)fk.regs[i].base, 1, MS_ASYNC) == 0;
	CHECK_EQ(fk.deregs, regs, "destroy deregistered all %d registrations", regs);
	CHECK_EQ(fk.bad_deregs, 0, "each once, with its own mr");
	CHECK_EQ(still_mapped, 0, "and unmapped them");
}

static void test_two_pools(void)
{
	static struct fake fa, fb;
	memset(&fa, 0, sizeof(fa));
	memset(&fb, 0, sizeof(fb));
	struct bufpool_ops oa = { .reg = fake_reg, .dereg = fake_dereg, .ctx = &fa };
	struct bufpool_ops ob = { .reg = fake_reg, .dereg = fake_dereg, .ctx = &fb };
	struct bufpool *a = NULL, *b = NULL;
	CHECK(bufpool_create_ops(&oa, &a) == 0 && bufpool_create_ops(&ob, &b) == 0, "two pools");
	if (!a || !b)
		return;
	void *pa = bufpool_alloc(a, 4096), *pb = bufpool_alloc(b, 4096);
	const struct fake_reg *r;
	CHECK(pa && pb && covering(&fa, pa, 4096, &r) == 1 && covering(&fb, pb, 4096, &r) == 1,
	      "each pool registers with its own fabric");
	struct dafs_mr mr;
	CHECK(bufpool_find(a, pb, 4096, &mr) == -ENOENT && bufpool_find(b, pa, 4096, &mr) == -ENOENT,
	      "and does not claim the other's buffers");
	bufpool_free(a, pa);
	bufpool_free(b, pb);
	bufpool_destroy(a);
	bufpool_destroy(b);
	CHECK(fa.live == 0 && fb.live == 0, "both released everything");

	/* Arena indexes get recycled: create and destroy a few more. */
	int ok = 1;
	for (int i = 0; i < 4; i++) {
		struct bufpool *c = NULL;
		ok &= bufpool_create_ops(&oa, &c) == 0;
		void *p = c ? bufpool_alloc(c, 100000) : NULL;
		ok &= p != NULL;
		bufpool_free(c, p);
		bufpool_destroy(c);
	}
	CHECK(ok && fa.live == 0, "create/destroy cycles");
	struct bufpool_ops bad = { .reg = NULL, .dereg = fake_dereg, .ctx = &fa };
	struct bufpool *none = NULL;
	CHECK_EQ(bufpool_create_ops(&bad, &none), -EINVAL, "ops without reg");
}

int main(void)
{
	struct bufpool *bp = NULL;
	CHECK_EQ(bufpool_create(NULL, &bp), -EINVAL, "bufpool_create needs a fabric");
	test_churn();
	test_two_pools();
	bufpool_destroy(NULL);
	return check_done();
}
