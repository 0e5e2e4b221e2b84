/* wrap_creds.c — changes of the process's identity. Every DAFS request
 * carries its thread's filesystem uid, gid and groups (libdafs-core's
 * caller_creds), which the library reads once per thread and again only
 * after dafs_creds_changed: these wrappers call it after each change, so a
 * program that drops to another user midway (setuid, su, a daemon's
 * privilege drop) is served as its new user from its next call on. A change
 * by a raw system call, not libc's function, is not seen. Before the first
 * DAFS access libdafs-core is not loaded and nothing needs telling.
 */
#include "shim.h"

static void creds_changed(void)
{
	if (shim_core.dafs_creds_changed)
		shim_core.dafs_creds_changed();
}

#define CRED_WRAPPER(name, params, args)              \
	int name params                               \
	{                                             \
		int rc = REAL(name) args;             \
		creds_changed();                      \
		return rc;                            \
	}

CRED_WRAPPER(setuid, (uid_t uid), (uid))
CRED_WRAPPER(seteuid, (uid_t uid), (uid))
CRED_WRAPPER(setreuid, (uid_t ruid, uid_t euid), (ruid, euid))
CRED_WRAPPER(setresuid, (uid_t ruid, uid_t euid, uid_t suid), (ruid, euid, suid))
CRED_WRAPPER(setgid, (gid_t gid), (gid))
CRED_WRAPPER(setegid, (gid_t gid), (gid))
CRED_WRAPPER(setregid, (gid_t rgid, gid_t egid), (rgid, egid))
CRED_WRAPPER(setresgid, (gid_t rgid, gid_t egid, gid_t sgid), (rgid, egid, sgid))
CRED_WRAPPER(setgroups, (size_t n, const gid_t *groups), (n, groups))
CRED_WRAPPER(initgroups, (const char *user, gid_t group), (user, group))
/* setfsuid and setfsgid return the previous id, never an error: the
 * thread's identity may have changed whatever they return. */
CRED_WRAPPER(setfsuid, (uid_t uid), (uid))
CRED_WRAPPER(setfsgid, (gid_t gid), (gid))
