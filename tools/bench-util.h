/* bench-util.h — what the benchmark tools share: a monotonic clock, one
 * seeded generator, and the offset stamps that let a reader check that every
 * 4 KiB block it got is the block it asked for.
 *
 * A stamped file carries, in the first 8 bytes of each 4 KiB block, the
 * block's own offset XOR STAMP_MAGIC (host byte order). bench-mkdata writes
 * such files, bench-core writes and checks them, bench-read checks them: a
 * read that returned the wrong block (or zeros) is caught, so no figure is
 * ever a measurement of a failure.
 */
#ifndef DAFS_BENCH_UTIL_H
#define DAFS_BENCH_UTIL_H

#include <errno.h>
#include <inttypes.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define STAMP_BLOCK   ((size_t)4096)
#define STAMP_MAGIC   UINT64_C(0x4441465342454e43)   /* "DAFSBENC" */

static inline double bench_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

/* xorshift64*: fast, and the same sequence on every machine for one seed. */
struct bench_rng {
	uint64_t state;
};

static inline void bench_rng_seed(struct bench_rng *r, uint64_t seed)
{
	r->state = seed * UINT64_C(0x9E3779B97F4A7C15) + 1;   /* never 0 */
}

static inline uint64_t bench_rng_next(struct bench_rng *r)
{
	uint64_t x = r->state;

	x ^= x >> 12;
	x ^= x << 25;
	x ^= x >> 27;
	r->state = x;
	return x * UINT64_C(0x2545F4914F6CDD1D);
}

/* A new shuffled order of n blocks (Fisher-Yates). */
static inline void bench_shuffle(uint64_t *order, uint64_t n, struct bench_rng *rng)
{
	for (uint64_t i = 0; i < n; i++)
		order[i] = i;
	for (uint64_t i = n - 1; i > 0; i--) {
		uint64_t j = bench_rng_next(rng) % (i + 1), t = order[i];
		order[i] = order[j];
		order[j] = t;
	}
}

/* Stamps every 4 KiB block of buf, which holds the file's bytes from `off`
 * (a multiple of STAMP_BLOCK). */
static inline void bench_stamp(char *buf, size_t len, uint64_t off)
{
	for (size_t i = 0; i + sizeof(uint64_t) <= len; i += STAMP_BLOCK) {
		uint64_t v = (off + i) ^ STAMP_MAGIC;
		memcpy(buf + i, &v, sizeof(v));
	}
}

/* Checks the stamps of buf (the file's bytes from `off`): every stamp that
 * lies whole inside it, so a read that ended or began inside a block is
 * checked too. Returns true when all are right; otherwise false, with the
 * offset of the first wrong block in *bad_off and the offset its stamp
 * names in *says. */
static inline bool bench_stamp_ok(const char *buf, size_t len, uint64_t off, uint64_t *bad_off,
				  uint64_t *says)
{
	size_t first = (size_t)((STAMP_BLOCK - off % STAMP_BLOCK) % STAMP_BLOCK);

	for (size_t i = first; i + sizeof(uint64_t) <= len; i += STAMP_BLOCK) {
		uint64_t v;
		memcpy(&v, buf + i, sizeof(v));
		if (v != ((off + i) ^ STAMP_MAGIC)) {
			*bad_off = off + i;
			*says = v ^ STAMP_MAGIC;
			return false;
		}
	}
	return true;
}

/* Parses a decimal count within [min, max]; with `units`, a k, m or g
 * suffix multiplies it by 2^10, 2^20 or 2^30. Returns false for anything
 * else (signs, junk, overflow), leaving the message to the caller. */
static inline bool bench_parse_count(const char *v, bool units, uint64_t min, uint64_t max,
				     uint64_t *out)
{
	static const char suffixes[] = "kmg";
	const char *unit;
	char *end;
	unsigned long long n;

	errno = 0;
	n = strtoull(v, &end, 10);
	if (errno || end == v || v[0] == '-' || v[0] == '+')
		return false;
	if (units && *end && end[1] == 0 && (unit = strchr(suffixes, *end | 0x20)) != NULL) {
		unsigned shift = 10 * (unsigned)(unit - suffixes + 1);
		if (n > UINT64_MAX >> shift)
			return false;
		n <<= shift;
		end++;
	}
	if (*end || n < min || n > max)
		return false;
	*out = n;
	return true;
}

/* An option's count, as bench_parse_count reads it, or a message naming
 * the program, the option and the range, and exit status 2. */
static inline uint64_t bench_count_arg(const char *opt, const char *v, bool units, uint64_t min,
				       uint64_t max)
{
	uint64_t n;

	if (!bench_parse_count(v, units, min, max, &n)) {
		fprintf(stderr, "%s: bad %s value '%s' (want %" PRIu64 "..%" PRIu64 ")\n",
			program_invocation_short_name, opt, v, min, max);
		exit(2);
	}
	return n;
}

#endif
