/* shmreap.h — the /dev/shm names of shm client endpoints, and the removal
 * of those their process left behind. libfabric's shm provider keeps an
 * endpoint's memory as the file /dev/shm/NAME, which it unlinks only when the
 * endpoint is closed: a process that ends with _exit or a signal leaves it.
 * Three things remove it instead (see dafs_fabric_unlink_shm_name):
 *   - the client itself, as soon as the server has mapped it (SESSION_OPEN
 *     answered): from then on the memory goes with the last mapping;
 *   - the server, when it learns that the client died before that;
 *   - the next client of the same user, for a process that died before it
 *     reached the server (dafs_shm_reap_stale at session open).
 * Client names are "dafs-PID-TIME-N" (common/fabric.c, shm_client_name):
 * TIME, CLOCK_REALTIME in ns when named, tells a reused pid from its owner. */
#ifndef DAFS_SHMREAP_H
#define DAFS_SHMREAP_H

#include <stddef.h>
#include <stdint.h>

struct dafs_shm_client_name {
	int pid;
	uint64_t named_ns;
	char name[64];                 /* without the "fi_shm://" prefix */
};

/* Parses a client endpoint's address, with or without the "fi_shm://"
 * prefix (at most len bytes); -EINVAL when it is not one. */
int dafs_shm_client_name_parse(const void *addr, size_t len, struct dafs_shm_client_name *out);
/* Whether the name's process is gone: no process has its pid, or the one
 * that has it started after the name was made (the pid was reused). A
 * process we may not look at (another user's, where /proc hides it) counts
 * as alive. */
int dafs_shm_client_gone(const struct dafs_shm_client_name *n);
/* Removes /dev/shm/NAME; 0 or -errno (-ENOENT: already gone). */
int dafs_shm_client_unlink(const struct dafs_shm_client_name *n);
/* Removes the /dev/shm names of client endpoints whose process is gone.
 * Returns how many it removed. */
int dafs_shm_reap_stale(void);

#endif
