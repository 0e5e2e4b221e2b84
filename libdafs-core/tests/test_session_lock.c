/* test_session_lock.c — the debug builds' check of the session lock
 * (session_lock.c, DAFS_DEBUG_LOCKS): quiet when the calling thread holds
 * the lock; an abort naming the function when nobody holds it or another
 * thread does; and a function documented "Session locked" (cache_invalidate)
 * makes the check. Release builds compile the check away: skipped there. */
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "check.h"
#include "client.h"

#ifdef DAFS_DEBUG_LOCKS
static struct dafs_session session;
static struct dafs_file file = { .s = &session };
static pthread_mutex_t held_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t held_cond = PTHREAD_COND_INITIALIZER;
static int held;

static void *hold_session_lock(void *arg)
{
	pthread_mutex_lock(&session.lock);
	pthread_mutex_lock(&held_lock);
	held = 1;
	pthread_cond_signal(&held_cond);
	pthread_mutex_unlock(&held_lock);
	pause();   /* holds it until the process ends */
	return arg;
}

enum how { LOCKED, UNLOCKED, OTHER_THREAD };

/* Calls cache_invalidate in a child process, the lock as `how` says.
 * Returns the child's wait status; its stderr goes into `err`. */
static int invalidate_in_child(enum how how, char *err, size_t errlen)
{
	int fds[2], status = 0;
	ssize_t n, got = 0;
	pid_t pid;

	if (pipe(fds) != 0)
		return -1;
	fflush(stdout);    /* the child must not print what the parent has buffered */
	pid = fork();
	if (pid == 0) {
		pthread_t t;

		dup2(fds[1], 2);
		close(fds[0]);
		/* libfabric's psm provider (libinfinipath) catches SIGABRT to
		 * print a backtrace, and ends the process another way. */
		signal(SIGABRT, SIG_DFL);
		if (how == LOCKED)
			pthread_mutex_lock(&session.lock);
		if (how == OTHER_THREAD) {
			pthread_create(&t, NULL, hold_session_lock, NULL);
			pthread_mutex_lock(&held_lock);
			while (!held)
				pthread_cond_wait(&held_cond, &held_lock);
			pthread_mutex_unlock(&held_lock);
		}
		cache_invalidate(&file);
		_exit(0);
	}
	close(fds[1]);
	while (got < (ssize_t)errlen - 1 && (n = read(fds[0], err + got, errlen - 1 - (size_t)got)) > 0)
		got += n;
	err[got] = '\0';
	close(fds[0]);
	waitpid(pid, &status, 0);
	return status;
}

int main(void)
{
	char err[512];
	int status;

	session_lock_init(&session);

	status = invalidate_in_child(LOCKED, err, sizeof(err));
	CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 0,
	      "a Session-locked function called with the lock held runs");

	status = invalidate_in_child(UNLOCKED, err, sizeof(err));
	CHECK(WIFSIGNALED(status) && WTERMSIG(status) == SIGABRT,
	      "called with nobody holding the lock, it aborts");
	CHECK(strstr(err, "cache_invalidate called without the session lock (nobody held it)"),
	      "and says which function, and that nobody held it");

	status = invalidate_in_child(OTHER_THREAD, err, sizeof(err));
	CHECK(WIFSIGNALED(status) && WTERMSIG(status) == SIGABRT,
	      "called while another thread holds the lock, it aborts");
	CHECK(strstr(err, "another thread holds it"), "and says another thread holds it");
	return check_done();
}
#else
int main(void)
{
	printf("ok 1 # skip the session lock check is in debug builds only (SAN=1, TSAN=1)\n");
	printf("1..1\n");
	return 0;
}
#endif
