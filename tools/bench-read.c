/* bench-read.c — a plain POSIX reader for the benchmark: open a file, then
 * read it in blocks of one size, sequentially or at random offsets, for a
 * time or a number of passes, and say how fast it went and how much CPU each
 * read cost this process. It knows nothing of DAFS: scripts/bench runs it
 * unchanged on a local file and, under libdafsshim.so, on a file in /dafs.
 *
 *   bench-read [options] FILE
 *
 * Sequential: read() from the file offset, rewinding with lseek at the end
 * of the file (the shape of `cat` or of a program streaming its input).
 * Random: pread() at block-aligned offsets in a shuffled order, every block
 * once per pass and a new order each pass, so the first pass over a cold
 * file is all misses and none of them repeats a block already fetched.
 *
 * --warm reads the whole file once, sequentially, before the timed part (a
 * cache, the kernel's or the DAFS client's, then holds what fits). --drop
 * instead empties the kernel page cache of the file (fdatasync, then
 * posix_fadvise DONTNEED; then FADV_RANDOM so that no read-ahead turns a
 * miss into a hit) and reports what stayed resident (mincore): meant for a
 * local file, to time kernel cache misses.
 *
 * Every block read is checked against the offset stamps bench-mkdata wrote
 * (bench-util.h) unless --no-verify: a wrong block, a short read or an error
 * aborts with exit status 1. CPU is this process's user + system time from
 * getrusage over the timed part only, all threads included (libdafs-core's
 * too, when under the shim).
 *
 * Output, one line on stdout (MB = 10^6 bytes):
 *   bs=4096 pattern=rand bytes=... ops=... seconds=... MBps=... opsps=...
 *   cpu_us_per_op=... user_s=... sys_s=... passes=... [resident_pct=...]
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
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#define BS_MAX ((size_t)64 << 20)

struct opts {
	const char *path;
	size_t bs;
	bool random;
	double seconds;
	uint64_t passes;      /* 0: no bound but the time */
	bool warm, drop, verify;
	uint64_t seed;
};

static const char *path_for_msgs = "bench-read";

static void die(const char *fmt, ...) __attribute__((format(printf, 1, 2), noreturn));
static void die(const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "bench-read: %s: ", path_for_msgs);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	exit(1);
}

static void cpu_times(double *user, double *sys)
{
	struct rusage ru;

	if (getrusage(RUSAGE_SELF, &ru) != 0)
		die("getrusage: %s", strerror(errno));
	*user = (double)ru.ru_utime.tv_sec + (double)ru.ru_utime.tv_usec * 1e-6;
	*sys = (double)ru.ru_stime.tv_sec + (double)ru.ru_stime.tv_usec * 1e-6;
}

static void check_block(const struct opts *o, const char *buf, size_t len, uint64_t off)
{
	uint64_t bad, says;

	if (o->verify && !bench_stamp_ok(buf, len, off, &bad, &says))
		die("wrong data at offset %" PRIu64 ": the block says it is at %" PRIu64
		    " (was the file written by bench-mkdata without --text?)", bad, says);
}

/* Reads the whole file once, untimed, so that a cache holds what fits. */
static void warm(int fd, char *buf, size_t bs, uint64_t size)
{
	for (uint64_t off = 0; off < size;) {
		ssize_t n = pread(fd, buf, bs, (off_t)off);
		if (n < 0)
			die("warming: pread at %" PRIu64 ": %s", off, strerror(errno));
		if (n == 0)
			die("warming: end of file at %" PRIu64 ", %" PRIu64 " expected", off, size);
		off += (uint64_t)n;
	}
}

/* Empties the kernel page cache of the file and returns the percentage of
 * its pages still resident afterwards. */
static double drop_cache(int fd, uint64_t size)
{
	long page = sysconf(_SC_PAGESIZE);
	size_t pages = (size_t)((size + (uint64_t)page - 1) / (uint64_t)page), resident = 0;
	int rc;

	if (fdatasync(fd) != 0)
		die("fdatasync: %s", strerror(errno));
	rc = posix_fadvise(fd, 0, 0, POSIX_FADV_DONTNEED);
	if (rc)
		die("posix_fadvise DONTNEED: %s", strerror(rc));
	rc = posix_fadvise(fd, 0, 0, POSIX_FADV_RANDOM);
	if (rc)
		die("posix_fadvise RANDOM: %s", strerror(rc));
	void *map = mmap(NULL, size, PROT_READ, MAP_SHARED, fd, 0);
	if (map == MAP_FAILED)
		die("mmap to count resident pages: %s", strerror(errno));
	unsigned char *vec = malloc(pages);
	if (!vec)
		die("out of memory");
	if (mincore(map, size, vec) != 0)
		die("mincore: %s", strerror(errno));
	for (size_t i = 0; i < pages; i++)
		resident += vec[i] & 1;
	free(vec);
	munmap(map, size);
	return 100.0 * (double)resident / (double)pages;
}

static void run(const struct opts *o)
{
	struct bench_rng rng;
	struct stat st;
	uint64_t *order = NULL, nblocks, size, bytes = 0, ops = 0, passes = 0, next = 0;
	uint64_t seq_off = 0;
	double resident = -1, user0, sys0, user1, sys1, t0, t1, deadline;
	char *buf;
	int fd;

	fd = open(o->path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		die("open: %s", strerror(errno));
	if (fstat(fd, &st) != 0)
		die("fstat: %s", strerror(errno));
	size = (uint64_t)st.st_size;
	nblocks = size / o->bs;
	if (nblocks == 0)
		die("the file (%" PRIu64 " bytes) is smaller than one %zu-byte block", size, o->bs);
	/* Random offsets stay below the last whole block; sequential reads
	 * take the file as it is, tail included. */
	if (posix_memalign((void **)&buf, 4096, o->bs) != 0)
		die("out of memory for a %zu-byte buffer", o->bs);
	memset(buf, 0, o->bs);   /* faulted in before timing */
	if (o->random) {
		order = malloc(nblocks * sizeof(*order));
		if (!order)
			die("out of memory for %" PRIu64 " block numbers", nblocks);
	}
	bench_rng_seed(&rng, o->seed);

	if (o->warm)
		warm(fd, buf, o->bs, size);
	if (o->drop)
		resident = drop_cache(fd, size);
	if (o->random)
		bench_shuffle(order, nblocks, &rng);   /* untimed: its cost is not a read's */

	cpu_times(&user0, &sys0);
	t0 = bench_now();
	deadline = t0 + o->seconds;
	for (;;) {
		/* The clock is read every 64 operations: often enough for a
		 * bound of a second, rarely enough not to be what is measured. */
		if ((ops & 63) == 0 && bench_now() >= deadline)
			break;
		ssize_t n;
		uint64_t off;
		if (o->random) {
			if (next == nblocks) {
				if (++passes == o->passes)
					break;
				/* Timed, but about 5 ns a block: under 1 % of
				 * the fastest read measured here. */
				bench_shuffle(order, nblocks, &rng);
				next = 0;
			}
			off = order[next++] * o->bs;
			n = pread(fd, buf, o->bs, (off_t)off);
			if (n >= 0 && (size_t)n != o->bs)
				die("short pread at %" PRIu64 ": %zd of %zu bytes", off, n, o->bs);
		} else {
			off = seq_off;
			n = read(fd, buf, o->bs);
			if (n == 0) {   /* end of file: a pass is done */
				if (seq_off != size)
					die("end of file at %" PRIu64 ", %" PRIu64 " expected",
					    seq_off, size);
				if (++passes == o->passes)
					break;
				if (lseek(fd, 0, SEEK_SET) != 0)
					die("lseek to 0: %s", strerror(errno));
				seq_off = 0;
				continue;
			}
		}
		if (n < 0)
			die("%s at %" PRIu64 ": %s", o->random ? "pread" : "read", off,
			    strerror(errno));
		check_block(o, buf, (size_t)n, off);
		if (!o->random)
			seq_off += (uint64_t)n;
		bytes += (uint64_t)n;
		ops++;
	}
	t1 = bench_now();
	cpu_times(&user1, &sys1);
	if (ops == 0)
		die("no read completed in %.3f s", t1 - t0);

	double secs = t1 - t0, user = user1 - user0, sys = sys1 - sys0;
	printf("bs=%zu pattern=%s bytes=%" PRIu64 " ops=%" PRIu64 " seconds=%.3f MBps=%.1f"
	       " opsps=%.0f cpu_us_per_op=%.3f user_s=%.3f sys_s=%.3f passes=%" PRIu64,
	       o->bs, o->random ? "rand" : "seq", bytes, ops, secs, (double)bytes / secs / 1e6,
	       (double)ops / secs, (user + sys) / (double)ops * 1e6, user, sys, passes);
	if (resident >= 0)
		printf(" resident_pct=%.1f", resident);
	printf("\n");
	if (fflush(stdout) != 0 || ferror(stdout))
		die("writing the result: %s", strerror(errno));
	if (close(fd) != 0)
		die("close: %s", strerror(errno));
	free(order);
	free(buf);
}

static void usage(FILE *out)
{
	fprintf(out,
		"usage: bench-read [options] FILE\n"
		"\n"
		"  --bs N[k|m]       block size in bytes, KiB or MiB (default 4k)\n"
		"  --pattern P       seq (read, rewinding at the end) or rand (pread in a\n"
		"                    shuffled order, each block once per pass); default seq\n"
		"  --seconds S       time bound of the timed part (default 3)\n"
		"  --passes N        stop after N passes over the file (default: time only)\n"
		"  --warm            read the whole file once before timing\n"
		"  --drop            drop the file from the kernel page cache before timing\n"
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
		{ "warm", no_argument, NULL, 'w' },
		{ "drop", no_argument, NULL, 'd' },
		{ "seed", required_argument, NULL, 'r' },
		{ "no-verify", no_argument, NULL, 'V' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct opts o = { .bs = 4096, .seconds = 3, .verify = true, .seed = 1 };
	char *end;
	int c;

	while ((c = getopt_long(argc, argv, "h", longopts, NULL)) != -1) {
		switch (c) {
		case 'b': o.bs = (size_t)bench_count_arg("--bs", optarg, true, 1, BS_MAX); break;
		case 'n': o.passes = bench_count_arg("--passes", optarg, false, 1, UINT32_MAX); break;
		case 'r': o.seed = bench_count_arg("--seed", optarg, false, 0, UINT64_MAX); break;
		case 'w': o.warm = true; break;
		case 'd': o.drop = true; break;
		case 'V': o.verify = false; break;
		case 'p':
			if (strcmp(optarg, "seq") && strcmp(optarg, "rand")) {
				fprintf(stderr, "bench-read: --pattern is seq or rand\n");
				return 2;
			}
			o.random = !strcmp(optarg, "rand");
			break;
		case 't':
			o.seconds = strtod(optarg, &end);
			if (*end || end == optarg || !(o.seconds > 0 && o.seconds <= 3600)) {
				fprintf(stderr, "bench-read: bad --seconds value '%s'\n", optarg);
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
	if (o.warm && o.drop) {
		fprintf(stderr, "bench-read: --warm and --drop contradict each other\n");
		return 2;
	}
	o.path = argv[optind];
	path_for_msgs = o.path;
	run(&o);
	return 0;
}
