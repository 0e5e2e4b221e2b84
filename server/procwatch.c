/* procwatch.c — a pidfd per shm session, polled through the worker's
 * io_uring (why and when: procwatch.h). */
#include "procwatch.h"

#include <errno.h>
#include <poll.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "log.h"
#include "server.h"
#include "shmreap.h"

/* io_uring user_data: a watch's address with this bit set (jobs and the
 * other tags are even, or below any heap address). */
#define WATCH_BIT ((uintptr_t)2)
/* The completion of a POLL_REMOVE itself: nothing to do. */
#define WATCH_REMOVED_TAG ((void *)6)

struct procwatch {
	struct session *s;             /* NULL once the session ended first */
	int pidfd;
	struct dafs_shm_client_name client;
	struct procwatch *next;        /* on w->watches until its poll completes */
};

static void watch_free(struct worker *w, struct procwatch *pw)
{
	for (struct procwatch **p = &w->watches; *p; p = &(*p)->next) {
		if (*p == pw) {
			*p = pw->next;
			break;
		}
	}
	close(pw->pidfd);
	free(pw);
}

void procwatch_fini(struct worker *w)
{
	while (w->watches)
		watch_free(w, w->watches);
}

static void *watch_tag(struct procwatch *pw)
{
	return (void *)((uintptr_t)pw | WATCH_BIT);
}

bool procwatch_owns(const void *user_data)
{
	return user_data == WATCH_REMOVED_TAG ||
	       ((uintptr_t)user_data & WATCH_BIT && (uintptr_t)user_data > 4096);
}

/* 1 when /proc/PID/maps shows the client's /dev/shm file, 0 when not,
 * negative when it cannot be read (another user's process, for a server
 * that is not root). */
static int maps_endpoint(const struct dafs_shm_client_name *n)
{
	char path[64], line[512], want[96];
	size_t want_len;
	int found = 0;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%d/maps", n->pid);
	want_len = (size_t)snprintf(want, sizeof(want), " /dev/shm/%s\n", n->name);
	f = fopen(path, "re");
	if (!f)
		return -errno;
	while (!found && fgets(line, sizeof(line), f)) {
		size_t len = strlen(line);
		found = len >= want_len && memcmp(line + len - want_len, want, want_len) == 0;
	}
	fclose(f);
	return found;
}

void procwatch_start(struct worker *w, struct session *s, const void *addr, size_t len)
{
	struct procwatch *pw;
	struct io_uring_sqe *sqe;
	int pidfd;

	pw = calloc(1, sizeof(*pw));
	if (!pw)
		return;
	if (dafs_shm_client_name_parse(addr, len, &pw->client) != 0 ||
	    (uint32_t)pw->client.pid != s->pid) {
		free(pw);
		return;
	}
	/* The pidfd first: it stays bound to this process even if it dies
	 * and its pid is reused before the checks below. */
	pidfd = (int)syscall(SYS_pidfd_open, pw->client.pid, 0);
	if (pidfd < 0) {
		free(pw);
		return;
	}
	if (dafs_shm_client_gone(&pw->client) || maps_endpoint(&pw->client) != 1) {
		log_msg("session %016llx: pid %u not verified (%s); its lease applies",
			(unsigned long long)s->id, s->pid, pw->client.name);
		close(pidfd);
		free(pw);
		return;
	}
	sqe = worker_sqe(w);
	if (!sqe) {
		close(pidfd);
		free(pw);
		return;
	}
	pw->s = s;
	pw->pidfd = pidfd;
	pw->next = w->watches;
	w->watches = pw;
	io_uring_prep_poll_add(sqe, pidfd, POLLIN);
	io_uring_sqe_set_data(sqe, watch_tag(pw));
	s->watch = pw;
}

void procwatch_stop(struct worker *w, struct session *s)
{
	struct procwatch *pw = s->watch;
	struct io_uring_sqe *sqe;

	if (!pw)
		return;
	s->watch = NULL;
	pw->s = NULL;
	/* The poll completes (-ECANCELED) after the remove: the watch is freed
	 * then, in procwatch_done. Without an SQE it completes when the process
	 * ends, which frees it all the same. */
	sqe = worker_sqe(w);
	if (sqe) {
		io_uring_prep_poll_remove(sqe, (uint64_t)(uintptr_t)watch_tag(pw));
		io_uring_sqe_set_data(sqe, WATCH_REMOVED_TAG);
	}
}

void procwatch_done(struct worker *w, void *user_data, int res)
{
	struct procwatch *pw;
	struct session *s;

	if (user_data == WATCH_REMOVED_TAG)
		return;
	pw = (struct procwatch *)((uintptr_t)user_data & ~WATCH_BIT);
	s = pw->s;
	if (s && res > 0) {
		/* Whatever the client had not unlinked yet goes now. */
		dafs_shm_client_unlink(&pw->client);
		s->watch = NULL;
		worker_end_session(w, s, "client process exited");
	} else if (s) {
		/* The poll failed without the process ending: keep the lease. */
		s->watch = NULL;
	}
	watch_free(w, pw);
}
