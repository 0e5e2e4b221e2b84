/* bench-stall.c — how long a program pauses when its server goes away and
 * comes back (scripts/bench-restart kills and restarts the server under it).
 *
 *   bench-stall [--server URL] [--file NAME] [--no-verify] SECONDS
 *
 * One session (DAFS_SERVER, or --server; the other DAFS_* variables as the
 * dafs command reads them), one file of 1 MiB (created and filled when it is
 * shorter), then 4 KiB dafs_pread at random 4 KiB-aligned offsets, one at a
 * time, for at most SECONDS or until SIGTERM or SIGINT. Whenever more than
 * GAP_MS passed between two successive completed reads it prints
 *
 *   gap ms=<float>
 *
 * at once (flushed): across a restart, from the last answer of the old
 * server to the first of the new one, as the program saw it. Before the
 * first of those, once its first read completed, "reading provider=...
 * file=..." says that it runs; at the end "done reads=... gaps=...
 * max_gap_ms=... seconds=...".
 *
 * The client's page cache is off: a read it served would never notice that
 * the server is gone. Each block's offset stamp (bench-util.h) is checked,
 * so data that came back wrong after recovery is a failure too.
 *
 * Exit status: 0 done (SECONDS passed, or a signal asked it to stop), 1 any
 * failure, a failed read included (recovery is meant to hide the restart),
 * 2 a usage error.
 */
#include "bench-util.h"
#include "dafs.h"

#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <inttypes.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#define FILE_SIZE     ((uint64_t)1 << 20)
#define BS            ((size_t)4096)
#define GAP_MS        50.0

static struct dafs_session *open_session;  /* closed by die(), best effort */
static volatile sig_atomic_t stop_asked;

static void die(const char *fmt, ...) __attribute__((format(printf, 1, 2), noreturn));
static void die(const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "bench-stall: ");
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

static void on_stop(int sig)
{
	stop_asked = 1;
}

/* SIGTERM and SIGINT end the loop after the read in progress, so that the
 * caller can stop a run of unknown length and still get exit status 0 as
 * the proof that no read failed. SA_RESTART: the library's waits go on. */
static void catch_stop_signals(void)
{
	struct sigaction sa;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_stop;
	sa.sa_flags = SA_RESTART;
	sigemptyset(&sa.sa_mask);
	if (sigaction(SIGTERM, &sa, NULL) != 0 || sigaction(SIGINT, &sa, NULL) != 0)
		die("sigaction: %s", strerror(errno));
}

/* Brings the file up to FILE_SIZE with stamped blocks (untimed). */
static void fill(struct dafs_file *f, const char *path, char *buf, uint64_t from)
{
	for (uint64_t off = from / BS * BS; off < FILE_SIZE; off += BS) {
		bench_stamp(buf, BS, off);
		ssize_t got = dafs_pwrite(f, buf, BS, (off_t)off);
		if (got < 0)
			die("filling %s: dafs_pwrite at %" PRIu64 ": %s", path, off,
			    dafs_strerror((int)got));
		if ((size_t)got != BS)
			die("filling %s: short write at %" PRIu64 ": %zd of %zu bytes", path, off,
			    got, BS);
	}
	/* pwrite returns before the server answers: its errors come here. */
	int rc = dafs_flush(f);
	if (rc)
		die("filling %s: %s", path, dafs_strerror(rc));
}

static void usage(FILE *out)
{
	fprintf(out,
		"usage: bench-stall [--server URL] [--file NAME] [--no-verify] SECONDS\n"
		"\n"
		"4 KiB reads at random offsets of a 1 MiB file, one at a time, for at most\n"
		"SECONDS (or until SIGTERM/SIGINT); prints 'gap ms=X' whenever more than\n"
		"%.0f ms passed between two completed reads.\n"
		"\n"
		"  --server URL   shm://NAME or tcp://HOST:PORT (default: $DAFS_SERVER)\n"
		"  --file NAME    the file (default bench-stall.dat; created, filled to 1 MiB)\n"
		"  --no-verify    do not check the offset stamps of data read\n",
		GAP_MS);
}

int main(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "server", required_argument, NULL, 's' },
		{ "file", required_argument, NULL, 'f' },
		{ "no-verify", no_argument, NULL, 'n' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	const char *url = getenv("DAFS_SERVER"), *name = "bench-stall.dat";
	bool verify = true;
	double seconds;
	char path[256], *end;
	int c, rc;

	while ((c = getopt_long(argc, argv, "h", longopts, NULL)) != -1) {
		switch (c) {
		case 's': url = optarg; break;
		case 'f': name = optarg; break;
		case 'n': verify = false; break;
		case 'h': usage(stdout); return 0;
		default: usage(stderr); return 2;
		}
	}
	if (optind != argc - 1) {
		usage(stderr);
		return 2;
	}
	seconds = strtod(argv[optind], &end);
	if (*end || end == argv[optind] || !(seconds > 0 && seconds <= 86400)) {
		fprintf(stderr, "bench-stall: bad SECONDS '%s' (want more than 0, at most 86400)\n",
			argv[optind]);
		return 2;
	}
	if (!url || !url[0]) {
		fprintf(stderr, "bench-stall: no server: use --server URL or set DAFS_SERVER\n");
		return 2;
	}
	if (!name[0] || strchr(name + 1, '/') || strlen(name) + 2 > sizeof(path)) {
		fprintf(stderr, "bench-stall: --file wants a plain name\n");
		return 2;
	}
	snprintf(path, sizeof(path), "%s%s", name[0] == '/' ? "" : "/", name);
	catch_stop_signals();

	/* The environment's timeouts (none set: the library's defaults, what
	 * users get); the page cache off whatever it says, so that every read
	 * goes to the server (see the top of the file). */
	struct dafs_session_opts so = { .name = "bench-stall" };
	dafs_session_opts_from_env(&so);   /* malformed: defaults, as for dafs(1) */
	so.cache_size = -1;
	struct dafs_session *s;
	rc = dafs_session_open(url, &so, &s);
	if (rc)
		die("dafs_session_open %s: %s", url, dafs_strerror(rc));
	open_session = s;

	char *buf = aligned_alloc(BS, BS);
	if (!buf)
		die("out of memory");
	struct dafs_file *f;
	rc = dafs_open(s, path, O_RDWR | O_CREAT, 0644, &f);
	if (rc)
		die("dafs_open %s: %s", path, dafs_strerror(rc));
	struct stat st;
	rc = dafs_fstat(f, &st);
	if (rc)
		die("dafs_fstat %s: %s", path, dafs_strerror(rc));
	if ((uint64_t)st.st_size < FILE_SIZE)
		fill(f, path, buf, (uint64_t)st.st_size);

	struct bench_rng rng;
	bench_rng_seed(&rng, 1);
	uint64_t reads = 0, gaps = 0;
	double max_gap_ms = 0, t0 = bench_now(), deadline = t0 + seconds, last = 0;
	while (!stop_asked) {
		uint64_t off = bench_rng_next(&rng) % (FILE_SIZE / BS) * BS, bad, says;
		ssize_t got = dafs_pread(f, buf, BS, (off_t)off);
		double now = bench_now();
		if (got < 0)
			die("read of %zu bytes at %" PRIu64 " (after %" PRIu64 " reads): %s", BS, off,
			    reads, dafs_strerror((int)got));
		if ((size_t)got != BS)
			die("short read at %" PRIu64 ": %zd of %zu bytes", off, got, BS);
		if (verify && !bench_stamp_ok(buf, BS, off, &bad, &says))
			die("wrong data at offset %" PRIu64 ": the block says it was written at %" PRIu64,
			    bad, says);
		if (reads++ == 0) {
			printf("reading provider=%s file=%s\n", dafs_session_provider(s), path);
			fflush(stdout);
		} else if ((now - last) * 1000 > GAP_MS) {
			double ms = (now - last) * 1000;
			gaps++;
			if (ms > max_gap_ms)
				max_gap_ms = ms;
			printf("gap ms=%.1f\n", ms);
			fflush(stdout);
		}
		last = now;
		if (now >= deadline)
			break;
	}
	printf("done reads=%" PRIu64 " gaps=%" PRIu64 " max_gap_ms=%.1f seconds=%.3f\n", reads,
	       gaps, max_gap_ms, bench_now() - t0);
	fflush(stdout);

	rc = dafs_close(f);
	if (rc)
		die("dafs_close %s: %s", path, dafs_strerror(rc));
	open_session = NULL;
	rc = dafs_session_close(s);
	if (rc)
		die("dafs_session_close: %s", dafs_strerror(rc));
	free(buf);
	return 0;
}
