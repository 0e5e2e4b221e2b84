/* admission.h — the server's limits against a hostile or broken client, in
 * one place: sessions per client name, open files, registered regions and
 * memory per session, and a descriptor budget for the whole server, plus the
 * fence list (names whose new sessions are refused). Each limit gives the
 * client its own errno:
 *
 *   sessions of one client name     --max-sessions-per-client  EUSERS
 *   open files of one session       --max-open-files           EMFILE
 *   registered regions, per session --max-regions              ENOSPC
 *   memory the server spends on one --max-session-memory       ENOMEM
 *   session (reply cache, tables)
 *   descriptors of all sessions     (from RLIMIT_NOFILE)       ENFILE
 *   a fenced client's new session   (dafsctl fence)            EKEYREVOKED
 *
 * The counters of one session live in the session (its worker's alone); the
 * per-name counts and the fence list are shared by every worker and the
 * admin thread, under `lock`. */
#ifndef DAFS_SERVER_ADMISSION_H
#define DAFS_SERVER_ADMISSION_H

#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>

#include "session.h"

struct admission_limits {
	unsigned sessions_per_client;
	unsigned open_files;       /* per session */
	unsigned regions;          /* per session */
	size_t session_memory;     /* bytes per session */
	unsigned fd_budget;        /* descriptors all sessions may hold together */
};

struct admission_name;

struct admission {
	struct admission_limits lim;
	pthread_mutex_t lock;
	struct admission_name *names;   /* lock: session counts and fences by name */
};

/* Defaults (256 sessions, 4096 files, 4096 regions, 16 MiB) and a budget
 * of descriptors that leaves the server room for its own. */
void admission_init(struct admission *a);
void admission_fini(struct admission *a);

/* The command-line option `name` (without its dashes) set to `value`:
 * 0, -ENOENT for a name that is not a limit, -EINVAL for a bad value. */
int admission_set_option(struct admission *a, const char *name, const char *value);

/* The name fencing and the per-client count go by: the key's name, or
 * "local" for a keyless (shm or loopback) session. */
const char *admission_client_name(const struct session *s);

/* A new session of `client` with `*credits` slots wanted: 0 and the session
 * counted (admission_session_close uncounts it), *credits lowered to what
 * the memory limit allows; -EKEYREVOKED (fenced), -EUSERS (too many
 * sessions of that client) or -ENOMEM (not even one slot fits). */
int admission_session_open(struct admission *a, const char *client, unsigned *credits);
void admission_session_close(struct admission *a, const char *client);

/* 0, or the errno for one more open file (EMFILE, ENFILE, ENOMEM) or one
 * more registered region (ENOSPC, ENOMEM) of `s`. */
int admission_open_file(struct admission *a, const struct session *s);
int admission_add_region(struct admission *a, const struct session *s);

/* What the server holds for `s`: the session, its slots with a full reply
 * cached in each (the most a client can make it keep), its tables. */
size_t admission_session_memory(const struct session *s);

/* Fence list. fence: 0 (also when already fenced), -ENOMEM;
 * unfence: 0, -ENOENT when `client` is not fenced. */
int admission_fence(struct admission *a, const char *client);
int admission_unfence(struct admission *a, const char *client);
bool admission_is_fenced(struct admission *a, const char *client);

#endif
