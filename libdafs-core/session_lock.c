/* session_lock.c — the session lock's set-up and, in debug builds
 * (DAFS_DEBUG_LOCKS, defined by SAN=1 and TSAN=1), the check that the
 * calling thread holds it: assert_session_locked at the entry of functions
 * documented "Session locked" (client.h says which fields it guards). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "client.h"

void session_lock_init(struct dafs_session *s)
{
#ifdef DAFS_DEBUG_LOCKS
	/* Error-checking: a lock by its owner answers EDEADLK instead of
	 * hanging, which is what session_assert_locked asks it. (Callers do
	 * not check what lock returns: a second lock by the owner, a hang in
	 * release builds, goes on here, and after its unlock the outer holder
	 * runs unlocked, which the next check on its way reports.) */
	pthread_mutexattr_t attr;

	pthread_mutexattr_init(&attr);
	pthread_mutexattr_settype(&attr, PTHREAD_MUTEX_ERRORCHECK);
	pthread_mutex_init(&s->lock, &attr);
	pthread_mutexattr_destroy(&attr);
#else
	pthread_mutex_init(&s->lock, NULL);
#endif
}

#ifdef DAFS_DEBUG_LOCKS
void session_assert_locked(const struct dafs_session *s, const char *func)
{
	/* A deadline already past makes the answer immediate: EDEADLK, we
	 * hold it (nothing changes); ETIMEDOUT, another thread does; 0,
	 * nobody did, and now we do (reported just the same). */
	static const struct timespec past = { 0, 0 };
	int rc = pthread_mutex_timedlock((pthread_mutex_t *)&s->lock, &past);

	if (rc == EDEADLK)
		return;
	fprintf(stderr, "libdafs: %s called without the session lock (%s)\n", func,
		rc == 0 ? "nobody held it" : rc == ETIMEDOUT ? "another thread holds it" :
		strerror(rc));
	abort();
}
#endif
