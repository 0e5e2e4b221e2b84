/* admin.h — `dafs-server --admin SOCKET`: the administrator's UNIX socket
 * (mode 0600, peers checked with SO_PEERCRED: root or the server's own uid)
 * and the commands dafsctl sends over it, one line per connection:
 *
 *   sessions        one line per session (admin.c says which columns)
 *   fence NAME      every session of client NAME fails its next request
 *                   with EKEYREVOKED (final); its locks and files go now;
 *                   new sessions of NAME are refused until unfence
 *   unfence NAME
 *   evict ID        that session (hex id) fails its next request with
 *                   ECONNABORTED (final); its locks and files go now
 *   reload          re-read the --keys file; clients no longer in it are
 *                   fenced
 *
 * The answer is the command's output lines, then "ok" or "error: WHY".
 *
 * The socket has its own thread; sessions belong to workers, so it hands a
 * command to each worker in turn through the worker's mailbox
 * (worker->admin_cmd), which the worker's loop polls, and waits for it. */
#ifndef DAFS_SERVER_ADMIN_H
#define DAFS_SERVER_ADMIN_H

#include <stddef.h>
#include <stdint.h>

#include "keyfile.h"

struct server;
struct session;
struct worker;

enum admin_verb {
	ADMIN_SESSIONS,
	ADMIN_FENCE,
	ADMIN_UNFENCE,
	ADMIN_EVICT,
	ADMIN_RELOAD,
};

struct admin_request {
	enum admin_verb verb;
	char name[DAFS_KEY_NAME_MAX + 1];   /* fence, unfence */
	uint64_t session;                   /* evict */
};

/* One command line, without its newline: 0, or -EINVAL with `why`. */
int admin_parse(const char *line, struct admin_request *req, char *why, size_t why_len);

/* Creates the socket at `path` (replacing a stale socket there, nothing
 * else) and starts its thread: 0 or -errno with `why`. */
int admin_start(struct server *srv, const char *path, char *why, size_t why_len);
/* After the workers' loops ended: stops the thread, removes the socket. */
void admin_stop(struct server *srv);

/* A fenced or evicted session's locks and files go: now, and again when its
 * last request in flight is done (a running request keeps its descriptor
 * until then). */
void admin_release_revoked(struct worker *w, struct session *s);

/* A client's fabric address as text for `sessions`: HOST:PORT for IP
 * addresses, else the name's printable characters. */
void admin_format_addr(const void *addr, size_t len, char *out, size_t out_len);

/* The worker's loop: runs a command waiting in its mailbox, if any. */
void admin_worker_poll(struct worker *w);
/* The worker's loop ended: no more commands for it. */
void admin_worker_exit(struct worker *w);

#endif
