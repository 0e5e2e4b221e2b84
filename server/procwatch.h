/* procwatch.h — the server learns at once that a client process on this host
 * died. Over shm the client is a process of this host: its session watches
 * a pidfd of it through the worker's io_uring, and when the process ends,
 * however it ends (exit, _exit, a signal, SIGKILL), the session ends with it
 * (locks released, files closed, its /dev/shm name removed) instead of
 * holding them until the lease runs out. Over tcp and verbs the peer may be
 * another host: the lease stays the rule there.
 *
 * The pid a client announces is trusted only when it checks out: the process
 * exists here, started before the client named its endpoint (so the pid was
 * not reused), and maps that endpoint's /dev/shm file (so it is not another
 * pid namespace's process of the same number). Otherwise the session has no
 * watch and the lease applies. */
#ifndef DAFS_SERVER_PROCWATCH_H
#define DAFS_SERVER_PROCWATCH_H

#include <stdbool.h>
#include <stddef.h>

struct worker;
struct session;

/* Starts watching the process behind s, whose endpoint address is addr. */
void procwatch_start(struct worker *w, struct session *s, const void *addr, size_t len);
/* The session ends for another reason: the watch goes too. */
void procwatch_stop(struct worker *w, struct session *s);
/* Whether an io_uring completion belongs to a watch; then procwatch_done
 * handles it. */
bool procwatch_owns(const void *user_data);
void procwatch_done(struct worker *w, void *user_data, int res);
/* The worker stops (its ring is gone): every watch left goes. */
void procwatch_fini(struct worker *w);

#endif
