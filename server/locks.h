/* locks.h — the server's byte-range lock table, with POSIX fcntl() semantics,
 * shared by all worker threads (one mutex inside). Locks are keyed by file
 * identity (dev, ino) and owned by (session, owner): the client session and the
 * client's own owner id (its process or open file description). Only different
 * owners conflict, and owners with DAFS_WIRE_LOCK_OWNER_FLOCK (flock) only with
 * each other; an owner's own locks are replaced, merged, split, upgraded
 * and downgraded exactly as fcntl(F_SETLK) does.
 *
 * Ranges: offsets are those of off_t, 0 .. INT64_MAX. len 0 means "from start
 * to the end of the file and beyond"; a range that would end past INT64_MAX,
 * or a start past it, is -EINVAL (the wire carries u64, the client normalises
 * negative l_len before sending). A range that reaches INT64_MAX is reported
 * back with len 0, as F_GETLK does.
 *
 * Memory is bounded: one session may hold at most LOCKS_MAX_PER_SESSION ranges;
 * an operation that would go past it fails with -ENOLCK and changes nothing.
 */
#ifndef DAFS_LOCKS_H
#define DAFS_LOCKS_H

#include <stdbool.h>
#include <stdint.h>

#define LOCKS_MAX_PER_SESSION 10000
#define LOCKS_MAX_BROKEN_PER_FILE 16

struct lock_table;

struct lock_desc {
	int type;               /* F_RDLCK, F_WRLCK, F_UNLCK */
	uint64_t start, len;    /* len 0: to infinity */
	uint64_t session, owner;
	uint32_t pid;           /* the client's pid, only reported back */
};

/* 0 or -ENOMEM. */
int locks_create(struct lock_table **out);
void locks_destroy(struct lock_table *lt);

/* F_SETLK: sets want->type over the range for (want->session, want->owner);
 * F_UNLCK unlocks. Returns 0, -EAGAIN with *conflict (if not NULL) describing
 * one conflicting lock of another owner, -EINVAL for a bad type or range,
 * -ENOLCK past the session's limit, or -ENOMEM. Never blocks: waiting is
 * the caller's business (retry after a release). */
int locks_set(struct lock_table *lt, uint64_t dev, uint64_t ino, const struct lock_desc *want,
	      struct lock_desc *conflict);

/* F_GETLK: 0 with *conflict (required) set to one conflicting lock, or to
 * *want with type F_UNLCK when want (F_RDLCK or F_WRLCK) could be set.
 * -EINVAL for F_UNLCK, a bad range or a NULL conflict. */
int locks_test(struct lock_table *lt, uint64_t dev, uint64_t ino, const struct lock_desc *want,
	       struct lock_desc *conflict);

/* close() semantics: drops every lock of (session, owner) on that file. */
void locks_release_owner(struct lock_table *lt, uint64_t dev, uint64_t ino, uint64_t session,
			 uint64_t owner);
/* The session ended or died: drops all its locks on every file. `broken`:
 * it ended without letting them go (its client died, was fenced or went
 * silent past its lease): their ranges are remembered as broken, for the
 * next holder to be told (DAFS's auto-recovery locks), up to
 * LOCKS_MAX_BROKEN_PER_FILE a file. */
void locks_release_session(struct lock_table *lt, uint64_t session, bool broken);
/* A lock was just granted over [start, start + len) (len 0: to infinity):
 * 1 when it overlaps broken ranges, which are forgotten (told once), else 0. */
int locks_take_broken(struct lock_table *lt, uint64_t dev, uint64_t ino, uint64_t start,
		      uint64_t len);

/* How many ranges the session holds now (for tests and stats). */
unsigned locks_session_count(struct lock_table *lt, uint64_t session);

#endif
