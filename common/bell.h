/* bell.h — doorbells for transports with no wait object.
 *
 * shm gives a completion queue nothing to block on, so an idle peer naps a
 * millisecond at a time and a request that comes after a pause waits for
 * the nap to end: a stat after 5 ms of quiet took 0.75-0.9 ms, against 11
 * us back to back. A doorbell is a datagram socket in the abstract UNIX
 * namespace named after an endpoint's fabric address: the sleeper waits on
 * it (with its naps as the safety net), and a sender that may find the
 * peer asleep rings it after sending. Ringing is a hint: a bell that cannot
 * be made or reached costs nothing but the old nap. shm peers share a host
 * (and, for the abstract namespace, a network namespace; elsewhere the
 * ring finds nobody and the nap answers). */
#ifndef DAFS_BELL_H
#define DAFS_BELL_H

#include <stddef.h>
#include <sys/socket.h>
#include <sys/un.h>

struct dafs_bell {
	int fd;                        /* our bound socket, or -1 (a peer's bell, or none) */
	struct sockaddr_un addr;       /* the bell's name */
	socklen_t addr_len;
};

/* Our bell, for the endpoint named `name`: bound, readable once rung; its
 * socket also rings peers' bells. */
int dafs_bell_listen(struct dafs_bell *b, const void *name, size_t len);
/* The bell of the peer named `name` (an address only: no descriptor). */
void dafs_bell_address(struct dafs_bell *b, const void *name, size_t len);
/* Rings `peer` through our own bell's socket (nothing when we have none).
 * Ringing and draining leave errno as they found it: they run inside the
 * calls of programs that read errno after a call that succeeded (readdir's
 * end, pathconf's "no limit"). */
void dafs_bell_ring(const struct dafs_bell *ours, const struct dafs_bell *peer);
/* Empties a listening bell after it woke its owner. */
void dafs_bell_drain(const struct dafs_bell *b);
void dafs_bell_close(struct dafs_bell *b);

#endif
