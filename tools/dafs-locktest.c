/* dafs-locktest.c — a tiny lock client for the BATS suite, which needs a
 * process that takes, tries or waits for a POSIX write lock on a remote file
 * (the dafs command has no lock subcommand). It owns nothing else.
 *
 *   dafs-locktest URL PATH hold SECONDS   lock (F_SETLK), print "locked", hold, exit 0
 *   dafs-locktest URL PATH try            F_SETLK once: "acquired" (0) or "busy" (1)
 *   dafs-locktest URL PATH wait           F_SETLKW: "acquired after N ms" (0)
 *   dafs-locktest URL PATH wait-clock     F_SETLKW: "acquired at T" (0), T in ms
 *                                         since the epoch, for a test to compare
 *                                         with when it freed the lock
 *
 * A lock granted over one whose holder's session ended without letting it
 * go (DAFS_LOCK_BROKEN) says so: "locked (broken)", "acquired (broken)",
 * "acquired after N ms (broken)", "acquired at T (broken)".
 *
 * The lock covers the whole file; PATH is created if missing. Any other
 * failure prints "dafs-locktest: ..." and exits 2, so tests can tell it from
 * "busy".
 */
#include "dafs.h"

#include <errno.h>
#include <stdbool.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

/* How often a holder talks to the server while it sleeps. The library only
 * makes progress inside calls, so an idle session could look dead to the
 * server and lose its lease (and with it the lock) before SECONDS are up. */
#define HOLD_TICK_MS 250

static int fail(const char *what, int rc)
{
	fprintf(stderr, "dafs-locktest: %s: %s\n", what, dafs_strerror(rc));
	return 2;
}

static long now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000L + ts.tv_nsec / 1000000L;
}

static int lock_whole_file(struct dafs_file *f, int cmd)
{
	struct flock fl = { .l_type = F_WRLCK, .l_whence = SEEK_SET, .l_start = 0, .l_len = 0 };
	/* The process is the owner, as with fcntl(2) locks. */
	return dafs_lock(f, cmd, &fl, (uint64_t)getpid());
}

static const char *broken(int rc)
{
	return rc == DAFS_LOCK_BROKEN ? " (broken)" : "";
}

static int hold(struct dafs_file *f, const char *path, long seconds)
{
	int rc = lock_whole_file(f, F_SETLK);
	if (rc < 0)
		return fail(path, rc);
	printf("locked%s\n", broken(rc));
	fflush(stdout);

	struct timespec tick = { .tv_sec = 0, .tv_nsec = HOLD_TICK_MS * 1000000L };
	struct stat st;
	for (long end = now_ms() + seconds * 1000; now_ms() < end;) {
		nanosleep(&tick, NULL);
		rc = dafs_fstat(f, &st);
		if (rc < 0)
			return fail(path, rc);
	}
	return 0;
}

static int try_once(struct dafs_file *f, const char *path)
{
	int rc = lock_whole_file(f, F_SETLK);
	if (rc == -EAGAIN || rc == -EACCES) {
		printf("busy\n");
		return 1;
	}
	if (rc < 0)
		return fail(path, rc);
	printf("acquired%s\n", broken(rc));
	return 0;
}

static int wait_for(struct dafs_file *f, const char *path, bool wall_clock)
{
	long start = now_ms();
	int rc = lock_whole_file(f, F_SETLKW);
	if (rc < 0)
		return fail(path, rc);
	if (wall_clock) {
		struct timespec ts;
		clock_gettime(CLOCK_REALTIME, &ts);
		printf("acquired at %lld%s\n", (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000,
		       broken(rc));
	} else {
		printf("acquired after %ld ms%s\n", now_ms() - start, broken(rc));
	}
	return 0;
}

static int usage(void)
{
	fprintf(stderr, "usage: dafs-locktest URL PATH hold SECONDS\n"
			"       dafs-locktest URL PATH try\n"
			"       dafs-locktest URL PATH wait\n"
			"       dafs-locktest URL PATH wait-clock\n");
	return 2;
}

int main(int argc, char **argv)
{
	if (argc < 4)
		return usage();
	const char *url = argv[1], *path = argv[2], *mode = argv[3];
	long seconds = 0;
	if (!strcmp(mode, "hold")) {
		char *end;
		if (argc != 5 || (seconds = strtol(argv[4], &end, 10)) < 0 || *end || end == argv[4])
			return usage();
	} else if ((strcmp(mode, "try") && strcmp(mode, "wait") && strcmp(mode, "wait-clock")) ||
		   argc != 4) {
		return usage();
	}

	struct dafs_session_opts opts = {0};
	struct dafs_session *s;
	dafs_session_opts_from_env(&opts);   /* malformed: defaults, as for dafs(1) */
	int rc = dafs_session_open(url, &opts, &s);
	if (rc < 0)
		return fail(url, rc);
	struct dafs_file *f;
	rc = dafs_open(s, path, O_RDWR | O_CREAT, 0644, &f);
	if (rc < 0) {
		dafs_session_close(s);
		return fail(path, rc);
	}

	int status = !strcmp(mode, "hold") ? hold(f, path, seconds)
		   : !strcmp(mode, "try")  ? try_once(f, path)
		   : wait_for(f, path, !strcmp(mode, "wait-clock"));

	/* Closing the file releases the lock; the session close would too. */
	dafs_close(f);
	dafs_session_close(s);
	return status;
}
