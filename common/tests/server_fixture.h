/* server_fixture.h — starts the dafs-server that sits beside the test binary
 * (build/tests/X -> build/dafs-server, build-asan likewise) on a private shm
 * name and export directory, and stops it with SIGTERM. */
#ifndef DAFS_SERVER_FIXTURE_H
#define DAFS_SERVER_FIXTURE_H

#include <limits.h>
#include <stdbool.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "dafs.h"

struct server_fixture {
	pid_t pid;
	char export_dir[64];
	char url[64];
};

/* Starts the server on fx->export_dir, which exists, with the extra
 * arguments `extra` (NULL-terminated; NULL for none). */
static inline int fixture_spawn_args(struct server_fixture *fx, const char *name,
				     const char *const *extra)
{
	char exe[PATH_MAX], server[PATH_MAX + 32];
	const char *argv[16] = { server, "--export", fx->export_dir, "--listen", fx->url };
	unsigned argc = 5;
	ssize_t n = readlink("/proc/self/exe", exe, sizeof(exe) - 1);

	if (n < 0)
		return -1;
	exe[n] = '\0';
	*strrchr(exe, '/') = '\0';
	snprintf(server, sizeof(server), "%s/../dafs-server", exe);
	snprintf(fx->url, sizeof(fx->url), "shm://dafs-%s-%d", name, (int)getpid());
	for (; extra && *extra; extra++) {
		if (argc + 1 >= sizeof(argv) / sizeof(argv[0]))
			return -1;
		argv[argc++] = *extra;
	}
	fx->pid = fork();
	if (fx->pid == 0) {
		execv(server, (char *const *)argv);
		_exit(127);
	}
	return fx->pid > 0 ? 0 : -1;
}

static inline int fixture_spawn(struct server_fixture *fx, const char *name)
{
	return fixture_spawn_args(fx, name, NULL);
}

/* Makes a fresh export directory and starts the server on it. */
static inline int fixture_start(struct server_fixture *fx, const char *name)
{
	snprintf(fx->export_dir, sizeof(fx->export_dir), "/tmp/dafs-%s-XXXXXX", name);
	if (!mkdtemp(fx->export_dir))
		return -1;
	return fixture_spawn(fx, name);
}

/* Opens a session, retrying while the server creates its endpoint. */
static inline struct dafs_session *fixture_connect(struct server_fixture *fx)
{
	struct dafs_session *s = NULL;

	for (int i = 0; i < 100; i++) {
		if (dafs_session_open(fx->url, NULL, &s) == 0)
			return s;
		usleep(50000);
	}
	return NULL;
}

static inline bool fixture_alive(struct server_fixture *fx)
{
	return waitpid(fx->pid, NULL, WNOHANG) == 0;
}

/* Returns the server's wait status after SIGTERM, and removes the export. */
static inline int fixture_stop(struct server_fixture *fx)
{
	int status = -1;

	kill(fx->pid, SIGTERM);
	waitpid(fx->pid, &status, 0);
	if (fork() == 0) {
		execlp("rm", "rm", "-rf", fx->export_dir, (char *)NULL);
		_exit(127);
	}
	wait(NULL);
	return status;
}

#endif
