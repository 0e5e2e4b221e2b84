/* fabric.h — the transport: one libfabric FI_EP_RDM endpoint with its domain,
 * completion queue, address vector and memory registrations. Client and server
 * both use it; nothing above this file includes <rdma/fabric.h> details except
 * the context struct embedded in operations.
 *
 * The endpoint is driven by manual progress: nothing moves unless somebody
 * calls dafs_fabric_poll(). Every post may return -EAGAIN (rxm returns it while
 * a connection forms, any provider when its queues are full); the caller polls
 * and posts again.
 */
#ifndef DAFS_FABRIC_H
#define DAFS_FABRIC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <rdma/fabric.h>

/* A parsed transport URL: shm://NAME, tcp://HOST:PORT, verbs://HOST:PORT. */
struct dafs_url {
	char scheme[8];      /* "shm", "tcp", "verbs" */
	char node[256];      /* shm: the endpoint name; tcp/verbs: host */
	char service[16];    /* tcp/verbs: port; shm: empty */
};

/* Returns 0, or -EINVAL for an unknown scheme, a missing port or name, or a
 * component too long for its field. */
int dafs_url_parse(const char *url, struct dafs_url *out);

/* Every operation posted to the fabric carries one of these as its context.
 * Embed it (anywhere) in the caller's own operation struct and recover the
 * container from the completion's ctx. */
struct dafs_fabric_ctx {
	struct fi_context2 fi;   /* the provider's scratch space, FI_CONTEXT2 mode */
	void *owner;             /* the caller's own pointer, untouched here */
};

enum dafs_completion_kind {
	DAFS_CQ_SEND = 1,
	DAFS_CQ_RECV,
	DAFS_CQ_RMA_READ,
	DAFS_CQ_RMA_WRITE,
};

struct dafs_completion {
	struct dafs_fabric_ctx *ctx;
	enum dafs_completion_kind kind;
	int status;              /* 0, or -errno translated from the provider's error */
	size_t len;              /* bytes received, for DAFS_CQ_RECV */
};

/* A registered memory region. Peers address a byte p of it as
 * remote_base + (p - base) with key `key`; local operations pass `desc`. */
struct dafs_mr {
	void *base;
	size_t len;
	void *desc;              /* NULL when the provider does not need local descriptors */
	uint64_t key;
	uint64_t remote_base;    /* (uintptr_t)base with FI_MR_VIRT_ADDR, else 0 */
	struct fid_mr *mr;
};

enum dafs_mr_access {
	DAFS_MR_LOCAL = 1,       /* send/recv buffers and local side of RMA */
	DAFS_MR_REMOTE_READ = 2, /* peers may fi_read from it */
	DAFS_MR_REMOTE_WRITE = 4,/* peers may fi_write into it */
};

struct dafs_fabric;

/* Opens an endpoint for the URL's provider. With `listen`, the endpoint is bound
 * to the URL's address (the server's public address). Without, the provider
 * picks a private source address (clients, and a server's worker endpoints:
 * for those `url` still names the provider and, for tcp/verbs, the host). */
int dafs_fabric_open(const struct dafs_url *url, bool listen, struct dafs_fabric **out);
void dafs_fabric_close(struct dafs_fabric *f);

/* Removes a client endpoint's /dev/shm name once every peer that will talk
 * to it has mapped it (after SESSION_OPEN was answered): the memory lives on
 * while mapped and goes with the last mapping, however the process ends.
 * 0 for other endpoints, -errno if the unlink fails. */
int dafs_fabric_unlink_shm_name(struct dafs_fabric *f);
/* A client's endpoint anew on the same domain (its memory registrations,
 * and their keys, stay), with a new completion queue and address vector:
 * nothing posted before survives, no peer is known. Over shm it has a new
 * name (a server that restarted cannot map the old one, unlinked), over
 * tcp a new port. Not for listeners (-EINVAL). */
int dafs_fabric_renew_endpoint(struct dafs_fabric *f);
/* The provider's name of this endpoint, to send to a peer; *len in/out. */
int dafs_fabric_getname(struct dafs_fabric *f, void *addr, size_t *len);
/* Adds a peer by raw address (from getname) or by URL (the server's address). */
int dafs_fabric_av_insert(struct dafs_fabric *f, const void *addr, fi_addr_t *peer);
int dafs_fabric_av_insert_url(struct dafs_fabric *f, const struct dafs_url *url, fi_addr_t *peer);
int dafs_fabric_av_remove(struct dafs_fabric *f, fi_addr_t peer);

int dafs_fabric_mr_reg(struct dafs_fabric *f, void *buf, size_t len, unsigned access,
		       struct dafs_mr *out);
int dafs_fabric_mr_dereg(struct dafs_mr *mr);

int dafs_fabric_post_recv(struct dafs_fabric *f, void *buf, size_t len, void *desc,
			  struct dafs_fabric_ctx *ctx);
int dafs_fabric_send(struct dafs_fabric *f, fi_addr_t peer, const void *buf, size_t len,
		     void *desc, struct dafs_fabric_ctx *ctx);
/* RMA read from / write to the peer's registered memory at (raddr, rkey). `len`
 * may be at most dafs_fabric_max_rma(); callers split larger segments. */
int dafs_fabric_rma_read(struct dafs_fabric *f, fi_addr_t peer, void *local, size_t len,
			 void *desc, uint64_t raddr, uint64_t rkey, struct dafs_fabric_ctx *ctx);
int dafs_fabric_rma_write(struct dafs_fabric *f, fi_addr_t peer, const void *local, size_t len,
			  void *desc, uint64_t raddr, uint64_t rkey, struct dafs_fabric_ctx *ctx);

/* Reads up to `max` completions, driving progress. Returns how many, or -errno. */
int dafs_fabric_poll(struct dafs_fabric *f, struct dafs_completion *out, int max);
/* Blocks until a completion may be ready or timeout_ms passes (-1: forever).
 * Returns 0 either way, or -errno. Spurious wake-ups are allowed. */
int dafs_fabric_wait(struct dafs_fabric *f, int timeout_ms);
/* An fd that becomes readable when completions may be ready, or -1 when the
 * provider has none (callers then poll with short sleeps). Before blocking on
 * it, call dafs_fabric_trywait(): 0 means blocking is safe, -EAGAIN means poll. */
int dafs_fabric_wait_fd(struct dafs_fabric *f);
int dafs_fabric_trywait(struct dafs_fabric *f);

size_t dafs_fabric_max_msg(const struct dafs_fabric *f);
size_t dafs_fabric_max_rma(const struct dafs_fabric *f);
const char *dafs_fabric_provider(const struct dafs_fabric *f);
/* Whether a registration holds the physical pages it covered when it was
 * made (verbs), rather than whatever the virtual range maps at the time of
 * a transfer (shm, tcp): then memory unmapped and mapped again at the same
 * address needs a new registration. */
bool dafs_fabric_mr_pins(const struct dafs_fabric *f);

#endif
