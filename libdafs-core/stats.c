/* stats.c — dafs_session_opts.stats (DAFS_STATS=1): what each kind of
 * request cost this session, printed to stderr when the session closes.
 * For finding where a program's time goes (how many round trips an open
 * costs, which requests wait on pipelined writes) without a profiler,
 * which this library's spinning waits defeat. Off unless asked for: then
 * each request costs two clock reads. */
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "client.h"

#define STATS_BUCKETS 32               /* log2 of nanoseconds */

struct client_op_stats {
	uint64_t count, total_ns, max_ns, barrier_ns;
	uint64_t hist[STATS_BUCKETS];
};

void stats_setup(struct dafs_session *s, bool on)
{
	if (on)
		s->stats = calloc(DAFS_OP_COUNT, sizeof(*s->stats));
}

void stats_request_done(struct dafs_session *s, const struct dafs_req *req)
{
	struct client_op_stats *st;
	uint64_t ns;
	unsigned bucket = 0;

	assert_session_locked(s);
	if (!s->stats || !req->submit_ns || req->opcode >= DAFS_OP_COUNT)
		return;
	st = &s->stats[req->opcode];
	ns = client_now_ns() - req->submit_ns;
	st->count++;
	st->total_ns += ns;
	st->barrier_ns += req->barrier_ns;
	if (ns > st->max_ns)
		st->max_ns = ns;
	while (bucket + 1 < STATS_BUCKETS && (UINT64_C(2) << bucket) <= ns)
		bucket++;
	st->hist[bucket]++;
}

/* The upper bound of the bucket the p-th fraction of requests fell in. */
static uint64_t percentile_ns(const struct client_op_stats *st, double p)
{
	uint64_t want = (uint64_t)((double)st->count * p), seen = 0;

	for (unsigned b = 0; b < STATS_BUCKETS; b++) {
		seen += st->hist[b];
		if (seen > want)
			return UINT64_C(2) << b;
	}
	return st->max_ns;
}

void stats_print(struct dafs_session *s)
{
	if (!s->stats)
		return;
	fprintf(stderr, "libdafs stats (pid %d): op count mean_us p50<us p99<us max_us "
		"waited_for_writes_us\n", (int)getpid());
	for (unsigned op = 0; op < DAFS_OP_COUNT; op++) {
		const struct client_op_stats *st = &s->stats[op];
		if (!st->count)
			continue;
		fprintf(stderr, "libdafs stats: %s %llu %.1f %.1f %.1f %.1f %.1f\n",
			dafs_opcode_name(op), (unsigned long long)st->count,
			(double)st->total_ns / (double)st->count / 1e3,
			(double)percentile_ns(st, 0.5) / 1e3, (double)percentile_ns(st, 0.99) / 1e3,
			(double)st->max_ns / 1e3, (double)st->barrier_ns / 1e3);
	}
	free(s->stats);
	s->stats = NULL;
}
