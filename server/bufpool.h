/* bufpool.h — the server's transfer buffers: memory that is registered with
 * the fabric before anybody gets it, handed out by a private jemalloc arena
 * whose extent hooks map and register every chunk jemalloc asks for. A buffer
 * therefore never needs registering per I/O, and always lies inside exactly
 * one registration (the hooks refuse to merge chunks).
 *
 * Each worker thread has its own fabric domain, so each has its own bufpool;
 * a bufpool may still be used from several threads (a mutex guards its table).
 * Memory only grows: chunks stay mapped and registered until bufpool_destroy,
 * and jemalloc is told never to purge them (purging would swap the pages
 * under a registration the NIC still holds).
 */
#ifndef DAFS_BUFPOOL_H
#define DAFS_BUFPOOL_H

#include <stddef.h>

#include "fabric.h"

/* At most this many registered chunks per pool; jemalloc grows its chunks
 * geometrically, so this is far more than the address space needs. Past it
 * bufpool_alloc returns NULL. */
#define BUFPOOL_MAX_REGIONS 1024
/* Every buffer is aligned to at least this. */
#define BUFPOOL_ALIGN 64

struct bufpool;

/* How chunks are registered: bufpool_create uses dafs_fabric_mr_reg /
 * dafs_fabric_mr_dereg with LOCAL | REMOTE_READ | REMOTE_WRITE access;
 * tests pass their own. reg returns 0 or -errno. */
struct bufpool_ops {
	int (*reg)(void *ctx, void *buf, size_t len, struct dafs_mr *out);
	int (*dereg)(void *ctx, struct dafs_mr *mr);
	void *ctx;
};

/* 0 or -errno (-ENOMEM, or what arena creation or registration said). */
int bufpool_create(struct dafs_fabric *f, struct bufpool **out);
int bufpool_create_ops(const struct bufpool_ops *ops, struct bufpool **out);

/* A buffer of size bytes (BUFPOOL_ALIGN-aligned), or NULL when size is 0 or
 * memory or registrations ran out. */
void *bufpool_alloc(struct bufpool *bp, size_t size);
/* p from bufpool_alloc of this pool, or NULL. */
void bufpool_free(struct bufpool *bp, void *p);

/* The registration covering [p, p + len): 0 with a copy in *out, or -ENOENT
 * when no single registration of this pool covers it. */
int bufpool_find(struct bufpool *bp, const void *p, size_t len, struct dafs_mr *out);
/* Just its local descriptor: NULL when not found, and also when the provider
 * needs no descriptors — use bufpool_find to tell the two apart. */
void *bufpool_desc(struct bufpool *bp, const void *p, size_t len);

/* Destroys the arena (every buffer of it becomes invalid), deregisters and
 * unmaps all chunks. NULL is fine. */
void bufpool_destroy(struct bufpool *bp);

#endif
