/* dafs-limittest.c — a client for bats/admin.bats that pushes against the
 * server's limits and stands in for a running program to fence or evict
 * (the dafs command holds nothing open). It owns nothing else.
 *
 *   dafs-limittest URL sessions N         open N sessions and keep them
 *   dafs-limittest URL files PATH N       open PATH N times and keep them
 *   dafs-limittest URL regions N          register N buffers with the server
 *   dafs-limittest URL loop PATH          read PATH over and over until a
 *                                         request fails, then try once more
 *   dafs-limittest URL idle PATH          open PATH, then wait to be killed
 *
 * The first three print "opened N" and exit 0, or "failed after K: ENAME"
 * (the errno's name) and exit 1. loop prints "ready" after its first read
 * and, when a read fails, "stopped after K reads: ENAME", then what one
 * more call got ("then: ENAME": the library must not retry a final error),
 * and exits 1. idle prints "ready". Setup failures exit 2. */
#include "dafs.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

static const char *ename(int rc)
{
	const char *n = strerrorname_np(rc < 0 ? -rc : rc);
	return n ? n : "E?";
}

static int open_session(const char *url, struct dafs_session **s)
{
	struct dafs_session_opts opts = { 0 };

	dafs_session_opts_from_env(&opts);
	return dafs_session_open(url, &opts, s);
}

static int report(const char *what, long done, long want, int rc)
{
	if (rc) {
		printf("failed after %ld: %s\n", done, ename(rc));
		fprintf(stderr, "dafs-limittest: %s %ld: %s\n", what, done + 1, dafs_strerror(rc));
		return 1;
	}
	printf("opened %ld\n", want);
	return 0;
}

static int many_sessions(const char *url, long n)
{
	struct dafs_session *s;
	long i;
	int rc = 0;

	for (i = 0; i < n && rc == 0; i++)
		rc = open_session(url, &s);    /* kept open: the process's exit ends them */
	return report("session", rc ? i - 1 : i, n, rc);
}

static int many_files(struct dafs_session *s, const char *path, long n)
{
	struct dafs_file *f;
	long i;
	int rc = 0;

	for (i = 0; i < n && rc == 0; i++)
		rc = dafs_open(s, path, O_RDONLY | O_CREAT, 0644, &f);
	return report("open", rc ? i - 1 : i, n, rc);
}

static int many_regions(struct dafs_session *s, long n)
{
	long page = sysconf(_SC_PAGESIZE), i;
	char *buf = mmap(NULL, (size_t)(n * page), PROT_READ | PROT_WRITE,
			 MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	struct dafs_mem *m;
	int rc = 0;

	if (buf == MAP_FAILED)
		return 2;
	for (i = 0; i < n && rc == 0; i++)
		rc = dafs_mem_register(s, buf + i * page, (size_t)page, &m);
	return report("region", rc ? i - 1 : i, n, rc);
}

static int read_loop(struct dafs_session *s, const char *path)
{
	struct dafs_file *f;
	struct stat st;
	char buf[4096];
	long reads = 0;
	ssize_t n;
	int rc = dafs_open(s, path, O_RDONLY, 0, &f);

	if (rc) {
		fprintf(stderr, "dafs-limittest: %s: %s\n", path, dafs_strerror(rc));
		return 2;
	}
	for (;;) {
		n = dafs_pread(f, buf, sizeof(buf), 0);
		if (n < 0)
			break;
		if (reads++ == 0) {
			printf("ready\n");
			fflush(stdout);
		}
		usleep(1000);
	}
	printf("stopped after %ld reads: %s\n", reads, ename((int)n));
	rc = dafs_stat(s, path, &st, 0);
	printf("then: %s\n", rc ? ename(rc) : "success");
	return 1;
}

int main(int argc, char **argv)
{
	struct dafs_session *s;
	struct dafs_file *f;
	int rc;

	setvbuf(stdout, NULL, _IOLBF, 0);
	if (argc == 4 && !strcmp(argv[2], "sessions"))
		return many_sessions(argv[1], atol(argv[3]));
	if (argc < 4 || argc > 5) {
		fprintf(stderr, "usage: dafs-limittest URL sessions N | files PATH N | regions N | "
			"loop PATH | idle PATH\n");
		return 2;
	}
	rc = open_session(argv[1], &s);
	if (rc) {
		fprintf(stderr, "dafs-limittest: session on %s: %s\n", argv[1], dafs_strerror(rc));
		printf("failed after 0: %s\n", ename(rc));
		return 2;
	}
	if (argc == 5 && !strcmp(argv[2], "files"))
		return many_files(s, argv[3], atol(argv[4]));
	if (argc == 4 && !strcmp(argv[2], "regions"))
		return many_regions(s, atol(argv[3]));
	if (argc == 4 && !strcmp(argv[2], "loop"))
		return read_loop(s, argv[3]);
	if (argc == 4 && !strcmp(argv[2], "idle")) {
		rc = dafs_open(s, argv[3], O_RDONLY | O_CREAT, 0644, &f);
		if (rc) {
			fprintf(stderr, "dafs-limittest: %s: %s\n", argv[3], dafs_strerror(rc));
			return 2;
		}
		printf("ready\n");
		for (;;)
			pause();
	}
	fprintf(stderr, "dafs-limittest: unknown mode '%s'\n", argv[2]);
	return 2;
}
