/* state.h — the server's state directory (--state DIR): what makes a retried
 * request run once even across a server crash.
 *
 * The reply cache (session.h) answers a retry within one server process.
 * After a crash or a restart a client sends its unanswered requests again
 * (libdafs-core's recover.c), and one the dead server had run but not
 * answered would run twice: an exclusive create would fail with EEXIST, a
 * remove with ENOENT, an appended line would appear twice. So the reply of
 * every request that must not run twice (state_runs_once) is appended to
 * the worker's log in DIR before it is sent, and a session reopened after a
 * restart (a resume the server does not know) gets its slots' replies back
 * from it: the retry is answered from them.
 *
 * The append is a write(2) to the file, no fsync: the record then survives
 * the server process (a kill, a crash, a restart), not the machine, which is
 * as durable as the operations it records (the server does not fsync a
 * rename or a create either). A session's end is recorded too, so that a
 * client whose session ended is refused (ESTALE) after a restart as before
 * it. The logs are compacted at start (the last reply of each slot, records
 * younger than STATE_KEEP_S) and by a worker whose log passes
 * STATE_COMPACT_BYTES.
 */
#ifndef DAFS_SERVER_STATE_H
#define DAFS_SERVER_STATE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct server;
struct worker;
struct session;
struct job;

/* Loads and compacts what DIR holds (creating it, mode 0700), and opens
 * each worker's log. 0, or -errno with why filled in. */
int state_open(struct server *srv, const char *dir, char *why, size_t why_len);
void state_close(struct server *srv);

/* Whether the job's request must not run twice: its reply is recorded. */
bool state_runs_once(const struct job *job);
/* Appends the reply of (session, slot, seq), before it is sent. A failed
 * append is logged; the reply goes all the same. */
void state_record_reply(struct worker *w, struct session *s, uint16_t slot, uint32_t seq,
			const void *reply, size_t len);
/* The session ended (closed, expired, fenced): a resume of it is refused. */
void state_record_end(struct worker *w, const struct session *s);
/* A session reopened for a client resuming `s->id` after a restart: its
 * slots get the recorded replies back. -ESTALE when it had ended. */
int state_restore(struct server *srv, struct session *s);

/* The grace period. A server that finds sessions of its last run in DIR
 * (ones that recorded something and did not end) refuses new locks and
 * lock tests (EBUSY, which clients wait out) until each of them has sent
 * its first request after taking its locks back, or for a lease at most,
 * as NFSv4's grace period: else a lock a returning client held could go to
 * another first. */
bool state_in_grace(struct worker *w);
/* s, awaited, sent its first request after its set-up. */
void state_session_back(struct worker *w, struct session *s);

#endif
