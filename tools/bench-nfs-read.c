/* bench-nfs-read.c — the reader of the benchmark's NFS peer rows (scripts/bench,
 * section i): reads one file in blocks of one size, at random offsets or
 * sequentially, one read at a time (QD1, like fio's psync engine), and times
 * every read, so that each row has its latency distribution and not only a
 * rate. The same loop reads through either of two paths:
 *
 *   nfs://HOST/EXPORT/FILE?version=4&nfsport=PORT
 *           libnfs's synchronous API (nfs_pread): a user-space NFS client,
 *           talking to the harness's private nfs-ganesha
 *   any other argument
 *           a file path, open() and pread(): the local file, or a file in
 *           /dafs when run under libdafsshim.so (the DAFS rows)
 *
 *   bench-nfs-read [options] FILE-OR-URL
 *
 * Random: block-aligned offsets in a shuffled order, every block once per
 * pass and a new order each pass (as bench-read does), so the first pass
 * over a file larger than a client cache is all misses. Sequential: the
 * file from offset 0 to its end, then again, with pread at the running
 * offset. Both stop at --seconds or after --passes passes, whichever is
 * first. Every block read is checked against bench-mkdata's offset stamps
 * (bench-util.h) unless --no-verify: a wrong block, an error or a short
 * random read ends the run with status 1, so no figure measures a failure.
 * A short sequential read (libnfs returns at most the server's maximum
 * read size) just continues from where it ended.
 *
 * Output, one line on stdout (MB = 10^6 bytes, MiB = 2^20; latencies of
 * single reads in microseconds, nearest rank):
 *   via=nfs|posix bs=... pattern=rand|seq bytes=... ops=... seconds=...
 *   MBps=... MiBps=... opsps=... p50_us=... p99_us=... p999_us=...
 *   max_us=... passes=...
 * Exit status: 0 done, 1 a failure while running, 2 a usage error.
 */
#include "bench-util.h"

#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <nfsc/libnfs.h>

#define BS_MAX ((size_t)64 << 20)
/* libnfs's synchronous calls wait this long for a reply, then fail: a dead
 * or stuck server ends the run instead of hanging it. */
#define NFS_TIMEOUT_MS 20000

struct opts {
	const char *target;
	size_t bs;
	bool random;
	double seconds;
	uint64_t passes;      /* 0: no bound but the time */
	bool verify;
	uint64_t seed;
};

/* One open file, through libnfs (nfs != NULL) or POSIX (fd). */
struct source {
	struct nfs_context *nfs;
	struct nfsfh *fh;
	int fd;
	uint64_t size;
};

static const char *target_for_msgs = "bench-nfs-read";

static void die(const char *fmt, ...) __attribute__((format(printf, 1, 2), noreturn));
static void die(const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "bench-nfs-read: %s: ", target_for_msgs);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	exit(1);
}

static void open_nfs(struct source *s, const char *url_text)
{
	struct nfs_url *url;
	struct nfs_stat_64 st;

	s->nfs = nfs_init_context();
	if (!s->nfs)
		die("nfs_init_context failed");
	nfs_set_timeout(s->nfs, NFS_TIMEOUT_MS);
	/* A lost connection is a failed run, not a silent retry inside the
	 * timed loop. */
	nfs_set_autoreconnect(s->nfs, 0);
	url = nfs_parse_url_full(s->nfs, url_text);
	if (!url)
		die("not an NFS URL: %s", nfs_get_error(s->nfs));
	if (nfs_mount(s->nfs, url->server, url->path) != 0)
		die("mount %s:%s: %s", url->server, url->path, nfs_get_error(s->nfs));
	if (nfs_open(s->nfs, url->file, O_RDONLY, &s->fh) != 0)
		die("open %s: %s", url->file, nfs_get_error(s->nfs));
	if (nfs_fstat64(s->nfs, s->fh, &st) != 0)
		die("fstat: %s", nfs_get_error(s->nfs));
	s->size = st.nfs_size;
	nfs_destroy_url(url);
}

static void open_source(struct source *s, const char *target)
{
	struct stat st;

	memset(s, 0, sizeof(*s));
	s->fd = -1;
	if (!strncmp(target, "nfs://", 6)) {
		open_nfs(s, target);
		return;
	}
	s->fd = open(target, O_RDONLY | O_CLOEXEC);
	if (s->fd < 0)
		die("open: %s", strerror(errno));
	if (fstat(s->fd, &st) != 0)
		die("fstat: %s", strerror(errno));
	s->size = (uint64_t)st.st_size;
}

/* Reads up to len bytes at off: the count read (0 at the end of the file). */
static size_t read_at(struct source *s, char *buf, size_t len, uint64_t off)
{
	if (s->nfs) {
		int n = nfs_pread(s->nfs, s->fh, off, len, buf);
		if (n < 0)
			die("nfs_pread at %" PRIu64 ": %s", off, nfs_get_error(s->nfs));
		return (size_t)n;
	}
	ssize_t n = pread(s->fd, buf, len, (off_t)off);
	if (n < 0)
		die("pread at %" PRIu64 ": %s", off, strerror(errno));
	return (size_t)n;
}

static void close_source(struct source *s)
{
	if (s->nfs) {
		if (nfs_close(s->nfs, s->fh) != 0)
			die("nfs_close: %s", nfs_get_error(s->nfs));
		/* NFSv4 has no MOUNT protocol; umount only tears down the
		 * session, and its answer changes nothing for the figures. */
		(void)nfs_umount(s->nfs);
		nfs_destroy_context(s->nfs);
	} else if (close(s->fd) != 0) {
		die("close: %s", strerror(errno));
	}
}

/* Every read's latency in nanoseconds, grown as the run goes. */
struct lat_log {
	uint64_t *ns;
	size_t n, cap;
};

static void lat_add(struct lat_log *l, uint64_t ns)
{
	if (l->n == l->cap) {
		size_t cap = l->cap ? l->cap * 2 : 1 << 16;
		uint64_t *p = realloc(l->ns, cap * sizeof(*p));
		if (!p)
			die("out of memory for %zu latencies", cap);
		l->ns = p;
		l->cap = cap;
	}
	l->ns[l->n++] = ns;
}

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return (x > y) - (x < y);
}

/* The nearest-rank percentile p (0 < p <= 1) of a sorted log, in µs. */
static double lat_pct_us(const struct lat_log *l, double p)
{
	size_t rank = (size_t)((double)l->n * p + 0.999999);

	if (rank < 1)
		rank = 1;
	if (rank > l->n)
		rank = l->n;
	return (double)l->ns[rank - 1] / 1e3;
}

static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * UINT64_C(1000000000) + (uint64_t)ts.tv_nsec;
}

static void run(const struct opts *o)
{
	struct source src;
	struct bench_rng rng;
	struct lat_log lat = { 0 };
	uint64_t *order = NULL, nblocks, bytes = 0, passes = 0, next = 0, seq_off = 0;
	uint64_t t0, t1, deadline, bad, says;
	char *buf;

	open_source(&src, o->target);
	nblocks = src.size / o->bs;
	if (nblocks == 0)
		die("the file (%" PRIu64 " bytes) is smaller than one %zu-byte block", src.size,
		    o->bs);
	if (posix_memalign((void **)&buf, 4096, o->bs) != 0)
		die("out of memory for a %zu-byte buffer", o->bs);
	memset(buf, 0, o->bs);   /* faulted in before timing */
	bench_rng_seed(&rng, o->seed);
	if (o->random) {
		order = malloc(nblocks * sizeof(*order));
		if (!order)
			die("out of memory for %" PRIu64 " block numbers", nblocks);
		bench_shuffle(order, nblocks, &rng);   /* untimed: its cost is not a read's */
	}

	t0 = now_ns();
	deadline = t0 + (uint64_t)(o->seconds * 1e9);
	for (uint64_t start = t0; start < deadline;) {
		uint64_t off;
		size_t want, n;

		if (o->random) {
			if (next == nblocks) {
				if (++passes == o->passes)
					break;
				bench_shuffle(order, nblocks, &rng);
				next = 0;
			}
			off = order[next++] * o->bs;
			want = o->bs;
		} else {
			if (seq_off == src.size) {
				if (++passes == o->passes)
					break;
				seq_off = 0;
			}
			off = seq_off;
			want = src.size - off < o->bs ? (size_t)(src.size - off) : o->bs;
		}
		n = read_at(&src, buf, want, off);
		/* The end time of one read is the start of the next: every
		 * nanosecond of the run is in some read's latency. */
		uint64_t end = now_ns();
		lat_add(&lat, end - start);
		start = end;
		if (n == 0 || (o->random && n != want))
			die("short read at %" PRIu64 ": %zu of %zu bytes (file size %" PRIu64 ")",
			    off, n, want, src.size);
		if (o->verify && !bench_stamp_ok(buf, n, off, &bad, &says))
			die("wrong data at offset %" PRIu64 ": the block says it is at %" PRIu64
			    " (was the file written by bench-mkdata without --text?)", bad, says);
		if (!o->random)
			seq_off += n;
		bytes += n;
	}
	t1 = now_ns();
	if (lat.n == 0)
		die("no read completed in %.3f s", (double)(t1 - t0) / 1e9);

	double secs = (double)(t1 - t0) / 1e9;
	qsort(lat.ns, lat.n, sizeof(*lat.ns), cmp_u64);
	printf("via=%s bs=%zu pattern=%s bytes=%" PRIu64 " ops=%zu seconds=%.3f MBps=%.1f"
	       " MiBps=%.1f opsps=%.0f p50_us=%.1f p99_us=%.1f p999_us=%.1f max_us=%.1f"
	       " passes=%" PRIu64 "\n",
	       src.nfs ? "nfs" : "posix", o->bs, o->random ? "rand" : "seq", bytes, lat.n, secs,
	       (double)bytes / secs / 1e6, (double)bytes / secs / (1 << 20),
	       (double)lat.n / secs, lat_pct_us(&lat, 0.50), lat_pct_us(&lat, 0.99),
	       lat_pct_us(&lat, 0.999), (double)lat.ns[lat.n - 1] / 1e3, passes);
	if (fflush(stdout) != 0 || ferror(stdout))
		die("writing the result: %s", strerror(errno));
	close_source(&src);
	free(lat.ns);
	free(order);
	free(buf);
}

static void usage(FILE *out)
{
	fprintf(out,
		"usage: bench-nfs-read [options] FILE | nfs://HOST/EXPORT/FILE?version=4&nfsport=PORT\n"
		"\n"
		"  --bs N[k|m]       block size in bytes, KiB or MiB (default 4k)\n"
		"  --pattern P       rand (a shuffled order, each block once per pass) or\n"
		"                    seq (the file from start to end); default rand\n"
		"  --seconds S       time bound (default 3)\n"
		"  --passes N        stop after N passes over the file (default: time only)\n"
		"  --seed N          the shuffle's seed (default 1)\n"
		"  --no-verify       do not check the blocks' offset stamps\n");
}

int main(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "bs", required_argument, NULL, 'b' },
		{ "pattern", required_argument, NULL, 'p' },
		{ "seconds", required_argument, NULL, 't' },
		{ "passes", required_argument, NULL, 'n' },
		{ "seed", required_argument, NULL, 'r' },
		{ "no-verify", no_argument, NULL, 'V' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct opts o = { .bs = 4096, .random = true, .seconds = 3, .verify = true, .seed = 1 };
	char *end;
	int c;

	while ((c = getopt_long(argc, argv, "h", longopts, NULL)) != -1) {
		switch (c) {
		case 'b': o.bs = (size_t)bench_count_arg("--bs", optarg, true, 1, BS_MAX); break;
		case 'n': o.passes = bench_count_arg("--passes", optarg, false, 1, UINT32_MAX); break;
		case 'r': o.seed = bench_count_arg("--seed", optarg, false, 0, UINT64_MAX); break;
		case 'V': o.verify = false; break;
		case 'p':
			if (strcmp(optarg, "seq") && strcmp(optarg, "rand")) {
				fprintf(stderr, "bench-nfs-read: --pattern is seq or rand\n");
				return 2;
			}
			o.random = !strcmp(optarg, "rand");
			break;
		case 't':
			o.seconds = strtod(optarg, &end);
			if (*end || end == optarg || !(o.seconds > 0 && o.seconds <= 3600)) {
				fprintf(stderr, "bench-nfs-read: bad --seconds value '%s'\n", optarg);
				return 2;
			}
			break;
		case 'h': usage(stdout); return 0;
		default: usage(stderr); return 2;
		}
	}
	if (optind != argc - 1) {
		usage(stderr);
		return 2;
	}
	o.target = argv[optind];
	target_for_msgs = o.target;
	run(&o);
	return 0;
}
