/* session.h — a client session on the server: its slot table with the reply
 * cache that makes retries exactly-once, and its handle table of open files.
 * A session belongs to one worker thread and is touched only by it. */
#ifndef DAFS_SERVER_SESSION_H
#define DAFS_SERVER_SESSION_H

#include "bell.h"
#include <rdma/fabric.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "auth.h"
#include "keyfile.h"
#include "proto.h"

#define SESSION_HANDLES_MAX 65536
#define SESSION_REGIONS_MAX 4096

enum slot_state {
	SLOT_IDLE,        /* nothing run yet, or the last reply is cached */
	SLOT_BUSY,        /* the request with `seq` is running */
};

struct slot {
	enum slot_state state;
	bool used;         /* a request was ever accepted on it */
	uint32_t seq;      /* last sequence number accepted */
	bool has_reply;
	bool undone;       /* `seq` was dropped before it could run: a retry runs it */
	bool recorded;     /* its reply is in the state directory too (state.h) */
	bool restored;     /* its reply came from there: another seq is a new request */
	void *reply;       /* cached encoded reply for `seq` */
	size_t reply_len;
};

struct handle {
	int fd;            /* -1: free */
	uint32_t gen;      /* bumped on reuse so stale handles fail with EBADF */
	uint32_t open_flags;  /* DAFS_O_* the client opened with; 0 for lookups */
	bool readable, writable, is_dir;
	uint64_t dev, ino;
	bool locked;       /* some lock owner of ours may hold locks on dev/ino */
	bool no_nowait;    /* preadv2 said RWF_NOWAIT is not supported on it */
};

/* Client memory the client said the server may transfer to and from. */
struct region {
	uint64_t addr, len, key;
};

/* Who a session acts for: the client its key names, and what that key
 * allows (keyfile.h's options). A keyless session, which only shm and
 * loopback clients get, has the name "" and keyed false. */
struct principal {
	char name[DAFS_KEY_NAME_MAX + 1];
	bool keyed;
	bool read_only, no_root_squash;
	bool has_uid, has_gid;     /* acts only as this user, whatever it asserts */
	uint32_t uid, gid;
};

struct session {
	uint64_t id;
	fi_addr_t peer;
	uint8_t peer_name[DAFS_ADDR_MAX];  /* the client endpoint's fabric name */
	size_t peer_name_len;
	bool reclaimed;            /* opened to resume a session a restart lost */
	bool recorded;             /* a reply of it is in the state directory (state.h) */
	bool awaited;              /* the grace period waits for its first request */
	unsigned resumes;          /* times its client took it over again */
	char name[128];            /* the client's own description (SESSION_OPEN) */
	struct principal who;
	struct dafs_mac *mac;      /* keyed: frames both ways are sealed (auth.h); else NULL */
	uint32_t pid;
	unsigned nslots;
	struct slot *slots;
	struct handle *handles;
	unsigned nhandles, handles_cap;
	unsigned nopen;            /* handles in use (admission.h's limit) */
	struct region *regions;
	unsigned nregions, regions_cap;
	unsigned jobs;     /* requests of this session in progress */
	bool closing;      /* SESSION_CLOSE seen or lease expired: no new work */
	const char *closing_why;  /* when not a SESSION_CLOSE, why (a literal), logged */
	uint64_t last_seen_ms;
	/* For dafsctl sessions (admin.c). */
	char addr[64];             /* the client's fabric address, printable */
	uint64_t requests, bytes_in, bytes_out;
	bool acted;                /* a request has run: last_uid is whom as */
	uint32_t last_uid;         /* the uid the last request ran as (creds.c) */
	/* Set by dafsctl fence (-EKEYREVOKED) or evict (-ECONNABORTED): the
	 * next request gets it as its final error and the session ends. */
	int revoked;
	struct dafs_bell bell;   /* the client's doorbell's address (shm), rung for slow replies */
	struct procwatch *watch; /* the client process's pidfd (shm), or NULL: procwatch.h */
	struct session *next;
};

/* What the slot table says about an incoming (slot, seq). */
enum slot_verdict {
	SLOT_NEW,          /* run it */
	SLOT_REPLAY,       /* the cached reply answers it */
	SLOT_IN_PROGRESS,  /* a retry of the request still running: drop it */
	SLOT_BAD,          /* slot out of range or seq misordered */
};

struct session *session_create(uint64_t id, fi_addr_t peer, unsigned nslots);
void session_destroy(struct session *s);   /* closes every handle */

/* Descriptors the handles of all sessions hold (admission.h's budget). */
unsigned session_open_fds(void);
/* Closes every handle now (a fenced or evicted session's files). */
void session_close_handles(struct session *s);

/* A reclaimed session's slot takes any sequence number first: the client
 * sends again, as they were, requests the lost session never answered. */
enum slot_verdict session_slot_check(struct session *s, uint16_t slot, uint32_t seq);
/* Keeps a copy of the reply for replays and frees the slot. -ENOMEM leaves
 * the slot without a cached reply (a replay then gets EIO-free refusal). */
int session_slot_finish(struct session *s, uint16_t slot, const void *reply, size_t len);

/* Handles: 64-bit numbers (generation << 32 | index + 1), never 0. */
int session_handle_add(struct session *s, int fd, uint32_t open_flags, bool is_dir,
		       uint64_t dev, uint64_t ino, uint64_t *fh);
/* The same at the number fh (REOPEN): -EEXIST when it is taken. */
int session_handle_place(struct session *s, int fd, uint32_t open_flags, bool is_dir,
			 uint64_t dev, uint64_t ino, uint64_t fh);
struct handle *session_handle_get(struct session *s, uint64_t fh);
/* Closes the descriptor; returns the handle's former contents in *old. */
int session_handle_close(struct session *s, uint64_t fh, struct handle *old);

/* Regions: the server RDMAs only into and out of memory a client declared,
 * so that a wrong or hostile descriptor is refused before it reaches the
 * provider. */
int session_region_add(struct session *s, uint64_t addr, uint64_t len, uint64_t key);
int session_region_remove(struct session *s, uint64_t addr, uint64_t len, uint64_t key);
bool session_segment_allowed(const struct session *s, const struct dafs_seg *seg);

#endif
