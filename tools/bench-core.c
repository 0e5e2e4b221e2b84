/* bench-core.c — throughput and ops/s of libdafs-core against the same work
 * on the local file system, one test per run, one machine-readable line out.
 *
 *   bench-core --local DIR | --server URL [options] TEST
 *
 * TEST is one of
 *   seqwrite   passes of 1 MiB writes from offset 0 over --size MiB, each
 *              pass followed by an fsync, for --seconds or until --cap MiB
 *              (default 4 x --size). The fsyncs are timed apart: the line
 *              gives the figure without them (seconds=, MBps=) and the one
 *              with them (fsync_s=, MBps_fsync=); each fsync flushes exactly
 *              the pass before it. The file is first brought to --size MiB
 *              and fsynced, untimed, so the writes overwrite cached pages:
 *              they measure the write path, not page-cache allocation (which
 *              in a VM whose host backs guest memory on demand swings
 *              between 0.4 and 2 GB/s from one run to the next).
 *   seqread    1 MiB reads from offset 0, wrapping at --size MiB, for
 *              --seconds (or until --cap MiB, when given).
 *   randread   4 KiB reads at uniformly random 4 KiB-aligned offsets below
 *              --size MiB, for --seconds.
 * Every test first brings the file up to --size MiB (untimed) when it is
 * shorter, so none needs another before it.
 *
 * DAFS (--server): one session, one file, one completion group; the I/O
 * buffers are one area registered with dafs_mem_register, so reads and writes
 * above the inline limit move by RDMA straight into and out of them; --depth
 * requests (default 8 for 1 MiB, 16 for 4 KiB) are kept in flight with
 * dafs_read_async / dafs_write_async and reaped with dafs_cg_wait_any.
 * Local (--local): pread/pwrite on a file in DIR, one at a time (depth 1):
 * the kernel page cache baseline.
 *
 * Every result is checked: an error, a short transfer or a timeout aborts
 * with a message and exit status 1. Each 4 KiB block written carries its own
 * offset in its first 8 bytes and reads check it (--no-verify skips that).
 *
 * Output (one line, on stdout; MB are 10^6 bytes):
 *   test=seqread target=shm provider=shm depth=8 bs=1048576 bytes=... seconds=...
 *   MBps=... ops=... opsps=... lat_us=...   [seqwrite: passes=... fsync_s=... MBps_fsync=...]
 * lat_us is the mean time from submitting a request to reaping it; seqwrite
 * also gives passes= (the last may be partial).
 * Exit status: 0 done, 1 a failure while running, 2 a usage error.
 */
#include "bench-util.h"
#include "dafs.h"

#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#define SEQ_BS        ((size_t)1 << 20)
#define RAND_BS       ((size_t)4096)
#define DEPTH_MAX     128
#define WAIT_MS       10000    /* a request silent this long aborts the run */

enum test { T_SEQWRITE, T_SEQREAD, T_RANDREAD };
static const char *const test_names[] = { "seqwrite", "seqread", "randread" };

struct opts {
	const char *local_dir, *url, *file, *label;
	enum test test;
	uint64_t size;          /* bytes */
	uint64_t cap;           /* bytes; 0: the test's default */
	double seconds;
	unsigned depth;         /* 0: the test's default */
	uint64_t seed;
	bool verify;
};

/* What one run talks to: a local fd, or a DAFS session and file. */
struct target {
	bool local;
	const char *label;
	const char *provider;
	int fd;
	char *path;
	struct dafs_session *s;
	struct dafs_file *f;
	struct dafs_cg *cg;
	struct dafs_mem *mem;
	/* local: the one completed request waiting to be reaped */
	bool local_done;
	unsigned local_slot;
	ssize_t local_result;
};

struct slot {
	char *buf;
	uint64_t off;
	size_t len;
	double t_submit;
	bool busy;
};

static const char *what = "bench-core";   /* "seqread over shm", for messages */
static struct dafs_session *open_session;  /* closed by die(), best effort */

static void die(const char *fmt, ...) __attribute__((format(printf, 1, 2), noreturn));
static void die(const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "bench-core: %s: ", what);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	if (open_session) {
		/* Lets the server drop the session now rather than at lease expiry,
		 * and the provider release what it holds (shm: a /dev/shm file). */
		struct dafs_session *s = open_session;
		open_session = NULL;
		dafs_session_close(s);
	}
	exit(1);
}

static struct bench_rng rng;

/* ---- Data stamps ------------------------------------------------------------ */

static void check_stamp(const char *buf, size_t len, uint64_t off)
{
	uint64_t bad, says;

	if (!bench_stamp_ok(buf, len, off, &bad, &says))
		die("wrong data at offset %" PRIu64 ": the block says it was written at %" PRIu64,
		    bad, says);
}

/* ---- Targets ------------------------------------------------------------------ */

static void target_open(struct target *t, const struct opts *o)
{
	const int flags = O_RDWR | O_CREAT;

	if (t->local) {
		size_t n = strlen(o->local_dir) + strlen(o->file) + 2;
		t->path = malloc(n);
		if (!t->path)
			die("out of memory");
		snprintf(t->path, n, "%s/%s", o->local_dir, o->file);
		t->fd = open(t->path, flags | O_CLOEXEC, 0644);
		if (t->fd < 0)
			die("open %s: %s", t->path, strerror(errno));
		return;
	}
	size_t n = strlen(o->file) + 2;
	t->path = malloc(n);
	if (!t->path)
		die("out of memory");
	snprintf(t->path, n, "%s%s", o->file[0] == '/' ? "" : "/", o->file);
	int rc = dafs_open(t->s, t->path, flags, 0644, &t->f);
	if (rc)
		die("dafs_open %s: %s", t->path, dafs_strerror(rc));
}

static uint64_t target_size(struct target *t)
{
	struct stat st;

	if (t->local) {
		if (fstat(t->fd, &st) != 0)
			die("fstat %s: %s", t->path, strerror(errno));
	} else {
		int rc = dafs_fstat(t->f, &st);
		if (rc)
			die("dafs_fstat %s: %s", t->path, dafs_strerror(rc));
	}
	return (uint64_t)st.st_size;
}

/* Starts one request on slot `i`. Local I/O happens right here. */
static void target_submit(struct target *t, struct slot *sl, unsigned i, bool write)
{
	if (t->local) {
		ssize_t n = write ? pwrite(t->fd, sl->buf, sl->len, (off_t)sl->off) :
				    pread(t->fd, sl->buf, sl->len, (off_t)sl->off);
		t->local_done = true;
		t->local_slot = i;
		t->local_result = n < 0 ? -errno : n;
		return;
	}
	int rc = write ? dafs_write_async(t->f, sl->buf, sl->len, (off_t)sl->off, t->cg,
					  (void *)(uintptr_t)i, NULL) :
			 dafs_read_async(t->f, sl->buf, sl->len, (off_t)sl->off, t->cg,
					 (void *)(uintptr_t)i, NULL);
	if (rc)
		die("%s of %zu bytes at %" PRIu64 " not submitted: %s", write ? "write" : "read",
		    sl->len, sl->off, dafs_strerror(rc));
}

/* Reaps one completed request: its slot and result. */
static void target_reap(struct target *t, unsigned *slot, ssize_t *result)
{
	if (t->local) {
		if (!t->local_done)
			die("internal error: nothing in flight to reap");
		t->local_done = false;
		*slot = t->local_slot;
		*result = t->local_result;
		return;
	}
	struct dafs_event ev;
	int rc = dafs_cg_wait_any(t->cg, WAIT_MS, &ev);
	if (rc == 0)
		die("no request completed within %d ms", WAIT_MS);
	if (rc < 0)
		die("dafs_cg_wait_any: %s", dafs_strerror(rc));
	*slot = (unsigned)(uintptr_t)ev.user;
	*result = ev.result;
}

static void target_fsync(struct target *t)
{
	if (t->local) {
		if (fsync(t->fd) != 0)
			die("fsync %s: %s", t->path, strerror(errno));
		return;
	}
	int rc = dafs_fsync(t->f, 0);
	if (rc)
		die("dafs_fsync %s: %s", t->path, dafs_strerror(rc));
}

/* Untimed: writes stamped blocks over [from, to) synchronously. */
static void target_fill(struct target *t, char *buf, size_t bs, uint64_t from, uint64_t to)
{
	for (uint64_t off = from; off < to; off += bs) {
		size_t n = to - off < bs ? (size_t)(to - off) : bs;
		ssize_t got;
		bench_stamp(buf, n, off);
		if (t->local) {
			got = pwrite(t->fd, buf, n, (off_t)off);
			if (got < 0)
				die("filling %s: pwrite at %" PRIu64 ": %s", t->path, off,
				    strerror(errno));
		} else {
			got = dafs_pwrite(t->f, buf, n, (off_t)off);
			if (got < 0)
				die("filling %s: dafs_pwrite at %" PRIu64 ": %s", t->path, off,
				    dafs_strerror((int)got));
		}
		if ((size_t)got != n)
			die("filling %s: short write at %" PRIu64 ": %zd of %zu bytes", t->path,
			    off, got, n);
	}
}

static void target_close(struct target *t)
{
	int rc;

	if (t->local) {
		if (close(t->fd) != 0)
			die("close %s: %s", t->path, strerror(errno));
		free(t->path);
		return;
	}
	rc = dafs_cg_destroy(t->cg);
	if (rc)
		die("dafs_cg_destroy: %s", dafs_strerror(rc));
	rc = dafs_close(t->f);
	if (rc)
		die("dafs_close %s: %s", t->path, dafs_strerror(rc));
	rc = dafs_mem_deregister(t->mem);
	if (rc)
		die("dafs_mem_deregister: %s", dafs_strerror(rc));
	open_session = NULL;
	rc = dafs_session_close(t->s);
	if (rc)
		die("dafs_session_close: %s", dafs_strerror(rc));
	free(t->path);
}

/* ---- The run ------------------------------------------------------------------- */

static void run(const struct opts *o, struct target *t)
{
	const bool write = o->test == T_SEQWRITE;
	const bool random = o->test == T_RANDREAD;
	const size_t bs = random ? RAND_BS : SEQ_BS;
	unsigned depth = o->depth ? o->depth : random ? 16 : 8;
	uint64_t cap = o->cap ? o->cap : o->test == T_SEQWRITE ? 4 * o->size : UINT64_MAX;
	const uint64_t nblocks = o->size / bs;
	struct slot slots[DEPTH_MAX];
	uint64_t pos = 0, bytes = 0, ops = 0, submitted = 0;
	unsigned inflight = 0, passes = 0;
	bool pass_done = false, dirty = false;   /* seqwrite: pass submitted; unsynced writes */
	double lat_sum = 0, t0, t_end, deadline, fsync_s = 0;
	size_t area_len;
	char *area;

	if (t->local && depth != 1) {
		if (o->depth)
			fprintf(stderr, "bench-core: --depth %u ignored: local I/O is one "
				"plain syscall at a time\n", depth);
		depth = 1;
	}
	if (o->size < bs || o->size % bs)
		die("--size must be a whole number of %zu-byte blocks", bs);

	/* At least one 1 MiB block: the untimed fill writes in those. */
	area_len = (size_t)depth * bs < SEQ_BS ? SEQ_BS : (size_t)depth * bs;
	area = mmap(NULL, area_len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (area == MAP_FAILED)
		die("mmap %zu bytes: %s", area_len, strerror(errno));
	/* Incompressible filler, faulted in before registration and timing. */
	for (size_t i = 0; i < area_len; i += sizeof(uint64_t)) {
		uint64_t v = bench_rng_next(&rng);
		memcpy(area + i, &v, sizeof(v));
	}
	if (!t->local) {
		int rc = dafs_mem_register(t->s, area, area_len, &t->mem);
		if (rc)
			die("dafs_mem_register of %zu bytes: %s", area_len, dafs_strerror(rc));
		rc = dafs_cg_create(t->s, &t->cg);
		if (rc)
			die("dafs_cg_create: %s", dafs_strerror(rc));
	}
	for (unsigned i = 0; i < depth; i++)
		slots[i] = (struct slot){ .buf = area + (size_t)i * bs, .len = bs };

	target_open(t, o);
	uint64_t have = target_size(t);
	if (have < o->size) {
		if (!write)   /* expected before a first seqwrite, worth a word before a read */
			fprintf(stderr, "bench-core: %s: filling %s from %" PRIu64 " to %" PRIu64
				" bytes first (untimed)\n", what, t->path, have, o->size);
		target_fill(t, area, SEQ_BS, have / SEQ_BS * SEQ_BS, o->size);
	}
	if (write)
		target_fsync(t);   /* the timed fsync then flushes only the timed writes */

	t0 = bench_now();
	deadline = t0 + o->seconds;
	for (;;) {
		/* Keep `depth` requests in flight while time and the cap allow. */
		double now = bench_now();
		for (unsigned i = 0; i < depth && now < deadline && submitted < cap && !pass_done;
		     i++) {
			struct slot *sl = &slots[i];
			if (sl->busy)
				continue;
			if (random) {
				sl->off = (bench_rng_next(&rng) % nblocks) * bs;
			} else {
				sl->off = pos % o->size;
				pos += bs;
			}
			if (write) {
				bench_stamp(sl->buf, bs, sl->off);
				dirty = true;
				pass_done = pos % o->size == 0;
			}
			sl->busy = true;
			sl->t_submit = now;
			submitted += bs;
			inflight++;
			target_submit(t, sl, i, write);
			if (t->local)
				break;   /* reap it before the next */
		}
		if (inflight == 0 && dirty) {
			/* seqwrite: a pass (or the last, partial one) has landed:
			 * fsync, so that each fsync flushes one pass's writes. */
			double t_sync = bench_now();
			target_fsync(t);
			fsync_s += bench_now() - t_sync;
			dirty = pass_done = false;
			passes++;
			continue;
		}
		if (inflight == 0)
			break;

		unsigned i;
		ssize_t result;
		target_reap(t, &i, &result);
		if (i >= depth || !slots[i].busy)
			die("a completion for slot %u, which has nothing in flight", i);
		struct slot *sl = &slots[i];
		if (result < 0)
			die("%s of %zu bytes at %" PRIu64 ": %s", write ? "write" : "read", sl->len,
			    sl->off, strerror((int)-result));
		if ((size_t)result != sl->len)
			die("short %s at %" PRIu64 ": %zd of %zu bytes", write ? "write" : "read",
			    sl->off, result, sl->len);
		if (!write && o->verify)
			check_stamp(sl->buf, sl->len, sl->off);
		sl->busy = false;
		inflight--;
		ops++;
		bytes += (uint64_t)result;
		lat_sum += bench_now() - sl->t_submit;
	}
	t_end = bench_now();

	double secs = t_end - t0 - fsync_s;   /* seqwrite: the writes' share */
	printf("test=%s target=%s provider=%s depth=%u bs=%zu bytes=%" PRIu64
	       " seconds=%.3f MBps=%.1f ops=%" PRIu64 " opsps=%.0f lat_us=%.1f",
	       test_names[o->test], t->label, t->provider, depth, bs, bytes, secs,
	       (double)bytes / secs / 1e6, ops, (double)ops / secs,
	       ops ? lat_sum / (double)ops * 1e6 : 0.0);
	if (write)
		printf(" passes=%u fsync_s=%.3f MBps_fsync=%.1f", passes, fsync_s,
		       (double)bytes / (secs + fsync_s) / 1e6);
	printf("\n");
	fflush(stdout);

	target_close(t);
	munmap(area, area_len);
}

/* ---- Command line ----------------------------------------------------------------- */

static void usage(FILE *out)
{
	fprintf(out,
		"usage: bench-core (--local DIR | --server URL) [options] TEST\n"
		"\n"
		"TEST: seqwrite | seqread (1 MiB blocks) | randread (4 KiB, random offsets)\n"
		"\n"
		"  --local DIR       pread/pwrite on DIR/NAME, one at a time (page-cache baseline)\n"
		"  --server URL      libdafs-core on shm://NAME or tcp://HOST:PORT\n"
		"  --file NAME       the file (default bench-core.dat)\n"
		"  --size MiB        file size (default 256)\n"
		"  --seconds S       time bound of the timed part (default 3)\n"
		"  --cap MiB         stop after this much (default: seqwrite 4 x --size;\n"
		"                    reads none, --seconds bounds them)\n"
		"  --depth N         DAFS requests in flight (default 8 seq, 16 random; 1..%d)\n"
		"  --label NAME      target= in the output (default local, or the URL scheme)\n"
		"  --seed N          random offsets' seed (default 1)\n"
		"  --no-verify       do not check the offset stamps of data read\n",
		DEPTH_MAX);
}

int main(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "local", required_argument, NULL, 'l' },
		{ "server", required_argument, NULL, 's' },
		{ "file", required_argument, NULL, 'f' },
		{ "size", required_argument, NULL, 'z' },
		{ "seconds", required_argument, NULL, 't' },
		{ "cap", required_argument, NULL, 'c' },
		{ "depth", required_argument, NULL, 'd' },
		{ "label", required_argument, NULL, 'L' },
		{ "seed", required_argument, NULL, 'r' },
		{ "no-verify", no_argument, NULL, 'n' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct opts o = { .file = "bench-core.dat", .size = 256ull << 20, .seconds = 3,
			  .seed = 1, .verify = true };
	struct target t = { .fd = -1 };
	char label[16], msg[96];
	int c;

	while ((c = getopt_long(argc, argv, "h", longopts, NULL)) != -1) {
		char *end;
		switch (c) {
		case 'l': o.local_dir = optarg; break;
		case 's': o.url = optarg; break;
		case 'f': o.file = optarg; break;
		case 'z': o.size = bench_count_arg("--size", optarg, false, 1, 1 << 20) << 20; break;
		case 'c': o.cap = bench_count_arg("--cap", optarg, false, 1, 1ull << 30) << 20; break;
		case 'd': o.depth = (unsigned)bench_count_arg("--depth", optarg, false, 1, DEPTH_MAX); break;
		case 'L': o.label = optarg; break;
		case 'r': o.seed = bench_count_arg("--seed", optarg, false, 0, UINT64_MAX); break;
		case 'n': o.verify = false; break;
		case 't':
			o.seconds = strtod(optarg, &end);
			if (*end || end == optarg || !(o.seconds > 0 && o.seconds <= 3600)) {
				fprintf(stderr, "bench-core: bad --seconds value '%s'\n", optarg);
				return 2;
			}
			break;
		case 'h': usage(stdout); return 0;
		default: usage(stderr); return 2;
		}
	}
	if (!o.local_dir == !o.url || optind != argc - 1) {
		usage(stderr);
		return 2;
	}
	for (c = 0; c < 3; c++)
		if (!strcmp(argv[optind], test_names[c]))
			break;
	if (c == 3) {
		fprintf(stderr, "bench-core: unknown test '%s'\n", argv[optind]);
		usage(stderr);
		return 2;
	}
	o.test = (enum test)c;
	if (!o.file[0] || strchr(o.file + 1, '/')) {
		fprintf(stderr, "bench-core: --file wants a plain name\n");
		return 2;
	}
	bench_rng_seed(&rng, o.seed);

	if (o.local_dir) {
		t.local = true;
		t.label = o.label ? o.label : "local";
		t.provider = "posix";
	} else {
		const char *sep = strstr(o.url, "://");
		size_t n = sep ? (size_t)(sep - o.url) : 0;
		snprintf(label, sizeof(label), "%.*s", (int)(n < sizeof(label) ? n : 0), o.url);
		t.label = o.label ? o.label : label[0] ? label : "dafs";
	}
	snprintf(msg, sizeof(msg), "%s over %s", test_names[o.test], t.label);
	what = msg;
	if (!t.local) {
		struct dafs_session_opts so = { .name = "bench-core" };
		/* scripts/bench sets DAFS_CACHE_SIZE and the like; malformed
		 * ones keep their defaults. */
		dafs_session_opts_from_env(&so);
		unsigned depth = o.depth ? o.depth : o.test == T_RANDREAD ? 16 : 8;
		if (depth > 32)
			so.credits = depth;
		int rc = dafs_session_open(o.url, &so, &t.s);
		if (rc)
			die("dafs_session_open %s: %s", o.url, dafs_strerror(rc));
		open_session = t.s;
		t.provider = dafs_session_provider(t.s);
	}
	run(&o, &t);
	return 0;
}
