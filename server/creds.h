/* creds.h — whom each request acts as, and running it as them.
 *
 * Every request carries the credentials its caller asserts (proto.h's
 * struct dafs_cred). What the server believes of them depends on the
 * session's principal (session.h's struct principal, filled from its key);
 * the server then performs the request with the resulting filesystem uid,
 * gid and groups, so that the kernel's own checks (modes, ACLs, sticky
 * directories, O_NOATIME, the owner of what is created) are the checks. */
#ifndef DAFS_SERVER_CREDS_H
#define DAFS_SERVER_CREDS_H

#include <stdbool.h>
#include <stdint.h>

#include "proto.h"
#include "session.h"

#define CREDS_NOBODY 65534u       /* what root squash makes of uid and gid 0 */

/* The credentials a request of `who` runs with, given what its caller
 * asserts. 0, or -EACCES for a key pinned to a uid the server cannot
 * resolve (no such user and no gid= on the key line). */
int creds_effective(const struct principal *who, const struct dafs_cred *asserted,
		    struct dafs_cred *out);

/* Whether `op` may run for `who` at all: -EROFS for a change by a
 * read-only principal, else 0. The one place that says what a change is. */
int creds_check_op(const struct principal *who, const struct dafs_op *op);
bool creds_op_changes(const struct dafs_op *op);
/* Whether `op` touches the file system, and so runs as its caller; the
 * session's own bookkeeping (CLOSE, UNLOCK, REGISTER...) does not. */
bool creds_op_acts(const struct dafs_op *op);

/* Makes the calling thread's filesystem identity `c` (raw setfsuid,
 * setfsgid and setgroups: per thread, unlike glibc's wrappers), doing
 * nothing when it already is. A server that cannot switch (not root)
 * serves its own user and root, both as itself: -EACCES for anyone else. */
int creds_switch(const struct dafs_cred *c);
/* Back to the server's own identity (before the server acts for itself:
 * a new peer's address, its shm region). */
void creds_switch_own(void);
/* Whether this process can act as other users (probed once). */
bool creds_can_switch(void);

/* An io_uring personality for the thread's current credentials in `ring`
 * (registered once per distinct identity, a few kept per ring), or 0 when
 * it is the server's own or none could be registered. */
struct io_uring;
uint16_t creds_personality(struct io_uring *ring);

#endif
