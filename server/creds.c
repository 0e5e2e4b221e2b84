/* creds.c — the credentials policy (whom a request acts as) and the switch
 * of a worker thread's filesystem identity to them (creds.h).
 *
 * Policy, by the session's principal:
 *   keyless      the asserted credentials as they are, root included. Only
 *                shm and loopback clients get keyless sessions: they run on
 *                this host, where a local user could as well run a program
 *                of their own against the export's files; the assertion is
 *                as trustworthy as the host's users are (as NFS AUTH_SYS
 *                from a trusted host, and today's local use).
 *   keyed, uid=  that user, whatever is asserted: its primary gid (or the
 *                key's gid=) and its groups from the group database. A uid
 *                with no passwd entry needs gid= (else EACCES) and gets no
 *                supplementary groups.
 *   keyed, gid=  (without uid=) the asserted uid, root squashed, with that
 *                gid and no supplementary groups: the pin would mean
 *                nothing if an asserted group could stand in for it.
 *   keyed host   (neither) the asserted credentials, root squashed: uid 0,
 *                gid 0 and a supplementary group 0 become 65534, unless
 *                the key says no_root_squash.
 *   ro           every change fails with EROFS, checked in one place
 *                (creds_check_op), whatever the credentials.
 */
#include "creds.h"

#include <errno.h>
#include <grp.h>
#include <liburing.h>
#include <pthread.h>
#include <pwd.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

/* ---- policy ------------------------------------------------------------ */

#define PIN_CACHE      4          /* resolved pinned users kept per thread */
#define PIN_CACHE_SECS 60         /* a pinned user's groups are re-read this often */

struct pin_entry {
	bool used;
	struct principal key;      /* has_uid, uid, has_gid, gid: what was resolved */
	time_t resolved_at;
	int err;
	struct dafs_cred cred;
};

static __thread struct pin_entry pin_cache[PIN_CACHE];
static __thread unsigned pin_next;

static time_t now_secs(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC_COARSE, &ts);
	return ts.tv_sec;
}

/* A key pinned to uid= (and maybe gid=): the group database says the rest.
 * getpwuid_r and getgrouplist read files (or NSS): cached per thread. */
static int resolve_pinned(const struct principal *who, struct dafs_cred *out)
{
	struct pin_entry *e;
	struct passwd pw, *pwp = NULL;
	char buf[4096];
	gid_t groups[DAFS_GROUPS_MAX];
	int n = DAFS_GROUPS_MAX;
	time_t now = now_secs();

	for (unsigned i = 0; i < PIN_CACHE; i++) {
		e = &pin_cache[i];
		if (e->used && e->key.uid == who->uid && e->key.has_gid == who->has_gid &&
		    (!who->has_gid || e->key.gid == who->gid) &&
		    now - e->resolved_at < PIN_CACHE_SECS) {
			*out = e->cred;
			return e->err;
		}
	}
	e = &pin_cache[pin_next++ % PIN_CACHE];
	memset(e, 0, sizeof(*e));
	e->used = true;
	e->key.uid = who->uid;
	e->key.has_gid = who->has_gid;
	e->key.gid = who->gid;
	e->resolved_at = now;
	e->cred.uid = who->uid;
	if (getpwuid_r(who->uid, &pw, buf, sizeof(buf), &pwp) != 0 || !pwp) {
		/* No such user: only the key's gid= can say which group. */
		if (!who->has_gid)
			e->err = -EACCES;
		e->cred.gid = who->gid;
	} else {
		e->cred.gid = who->has_gid ? who->gid : pw.pw_gid;
		/* More groups than fit: the first DAFS_GROUPS_MAX (n is then
		 * the total, and the array holds the first ones). */
		if (getgrouplist(pw.pw_name, e->cred.gid, groups, &n) < 0)
			n = DAFS_GROUPS_MAX;
		e->cred.ngroups = (uint16_t)(n < DAFS_GROUPS_MAX ? n : DAFS_GROUPS_MAX);
		for (unsigned i = 0; i < e->cred.ngroups; i++)
			e->cred.groups[i] = groups[i];
	}
	*out = e->cred;
	return e->err;
}

static uint32_t squash(uint32_t id)
{
	return id == 0 ? CREDS_NOBODY : id;
}

int creds_effective(const struct principal *who, const struct dafs_cred *asserted,
		    struct dafs_cred *out)
{
	unsigned n = asserted->ngroups <= DAFS_GROUPS_MAX ? asserted->ngroups : DAFS_GROUPS_MAX;
	bool squashing = who->keyed && !who->no_root_squash;

	if (!who->keyed) {
		*out = *asserted;
		out->ngroups = (uint16_t)n;
		return 0;
	}
	if (who->has_uid)
		return resolve_pinned(who, out);
	memset(out, 0, sizeof(*out));
	out->uid = squashing ? squash(asserted->uid) : asserted->uid;
	if (who->has_gid) {
		out->gid = who->gid;
		return 0;
	}
	out->gid = squashing ? squash(asserted->gid) : asserted->gid;
	out->ngroups = (uint16_t)n;
	for (unsigned i = 0; i < n; i++)
		out->groups[i] = squashing ? squash(asserted->groups[i]) : asserted->groups[i];
	return 0;
}

bool creds_op_changes(const struct dafs_op *op)
{
	switch (op->opcode) {
	case DAFS_OP_OPEN:
		return (op->a.open.flags & DAFS_O_ACCMODE) != DAFS_O_RDONLY ||
		       (op->a.open.flags & (DAFS_O_CREAT | DAFS_O_TRUNC | DAFS_O_TMPFILE));
	case DAFS_OP_REOPEN:
		return (op->a.reopen.flags & DAFS_O_ACCMODE) != DAFS_O_RDONLY;
	case DAFS_OP_SETATTR:
	case DAFS_OP_WRITE:
	case DAFS_OP_ALLOCATE:
	case DAFS_OP_MKDIR:
	case DAFS_OP_RMDIR:
	case DAFS_OP_REMOVE:
	case DAFS_OP_RENAME:
	case DAFS_OP_LINK:
	case DAFS_OP_SYMLINK:
	case DAFS_OP_MKNOD:
	case DAFS_OP_SETXATTR:
	case DAFS_OP_REMOVEXATTR:
		return true;
	default:
		return false;
	}
}

bool creds_op_acts(const struct dafs_op *op)
{
	switch (op->opcode) {
	case DAFS_OP_NULL:
	case DAFS_OP_PING:
	case DAFS_OP_SESSION_CLOSE:
	case DAFS_OP_CLOSE:
	case DAFS_OP_UNLOCK:
	case DAFS_OP_HINT:
	case DAFS_OP_REGISTER:
	case DAFS_OP_UNREGISTER:
		return false;
	default:
		return true;
	}
}

int creds_check_op(const struct principal *who, const struct dafs_op *op)
{
	return who->read_only && creds_op_changes(op) ? -EROFS : 0;
}

/* ---- the thread's identity ---------------------------------------------- */

/* The server's own identity, read once: what creds_switch_own restores. */
static struct {
	pthread_once_t once;
	bool can_switch;
	uid_t uid;
	gid_t gid;
	int ngroups;
	gid_t groups[256];
} own = { .once = PTHREAD_ONCE_INIT };

/* What this thread's filesystem identity is now, when it is not the
 * server's own (`valid` false: the server's own). */
static __thread struct {
	bool valid;
	struct dafs_cred cred;
} current;

/* setfsuid(2) returns the previous fsuid and no error: asking with an
 * invalid id (-1) reads the current one without changing it. */
static uid_t thread_fsuid(void)
{
	return (uid_t)syscall(SYS_setfsuid, (uid_t)-1);
}

static void probe_own(void)
{
	uid_t probe = geteuid() == CREDS_NOBODY ? CREDS_NOBODY - 1 : CREDS_NOBODY;

	own.uid = geteuid();
	own.gid = getegid();
	own.ngroups = getgroups(256, own.groups);
	if (own.ngroups < 0)
		own.ngroups = 0;
	/* The kernel says whether we may: a switch that is not allowed
	 * leaves the fsuid as it was. Probed on this thread and undone. */
	syscall(SYS_setfsuid, probe);
	own.can_switch = thread_fsuid() == probe;
	syscall(SYS_setfsuid, own.uid);
}

bool creds_can_switch(void)
{
	pthread_once(&own.once, probe_own);
	return own.can_switch;
}

static bool same_cred(const struct dafs_cred *a, const struct dafs_cred *b)
{
	return a->uid == b->uid && a->gid == b->gid && a->ngroups == b->ngroups &&
	       memcmp(a->groups, b->groups, a->ngroups * sizeof(a->groups[0])) == 0;
}

void creds_switch_own(void)
{
	if (!current.valid)
		return;
	syscall(SYS_setfsuid, own.uid);
	syscall(SYS_setfsgid, own.gid);
	syscall(SYS_setgroups, (size_t)own.ngroups, own.groups);
	current.valid = false;
}

int creds_switch(const struct dafs_cred *c)
{
	gid_t groups[DAFS_GROUPS_MAX];

	if (!creds_can_switch()) {
		/* Not root: it can be no one but itself. Its own user is served
		 * as itself (groups as the server's), and so is root, squashed
		 * to it (root could as well act as that user); anyone else is
		 * refused rather than served with another user's rights. */
		return c->uid == own.uid || c->uid == 0 ? 0 : -EACCES;
	}
	if (current.valid && same_cred(&current.cred, c))
		return 0;
	if (!current.valid && c->uid == own.uid && c->gid == own.gid &&
	    c->ngroups == (unsigned)own.ngroups) {
		bool same = true;
		for (unsigned i = 0; i < c->ngroups; i++)
			same = same && c->groups[i] == own.groups[i];
		if (same)
			return 0;
	}
	/* A non-root fsuid takes only the file capabilities (DAC_OVERRIDE,
	 * FOWNER, ...) from the thread: SETUID and SETGID stay, so one user's
	 * identity goes straight to another's. Groups and gid before the uid,
	 * whose check below says the switch took. */
	for (unsigned i = 0; i < c->ngroups; i++)
		groups[i] = c->groups[i];
	if (syscall(SYS_setgroups, (size_t)c->ngroups, groups) != 0)
		return -EPERM;
	current.valid = true;      /* from here on something differs from ours */
	current.cred = *c;
	syscall(SYS_setfsgid, c->gid);
	syscall(SYS_setfsuid, c->uid);
	/* The kernel refuses an invalid id ((uid_t)-1) without a word and
	 * leaves the previous one, which may be root's or another caller's:
	 * both are read back. */
	if (thread_fsuid() != c->uid || (gid_t)syscall(SYS_setfsgid, (gid_t)-1) != c->gid) {
		creds_switch_own();
		return -EPERM;
	}
	return 0;
}

/* ---- io_uring personalities --------------------------------------------- */

#define PERSONALITIES 16          /* per worker ring */

static __thread struct {
	struct io_uring *ring;
	unsigned next;
	struct {
		bool used;
		uint16_t id;
		struct dafs_cred cred;
	} e[PERSONALITIES];
} personas;

uint16_t creds_personality(struct io_uring *ring)
{
	unsigned i;
	int id;

	if (!current.valid)
		return 0;
	if (personas.ring != ring) {
		memset(&personas, 0, sizeof(personas));
		personas.ring = ring;
	}
	for (i = 0; i < PERSONALITIES; i++)
		if (personas.e[i].used && same_cred(&personas.e[i].cred, &current.cred))
			return personas.e[i].id;
	i = personas.next++ % PERSONALITIES;
	if (personas.e[i].used) {
		/* Prepared entries may name the old one: send them first. */
		io_uring_submit(ring);
		io_uring_unregister_personality(ring, personas.e[i].id);
		personas.e[i].used = false;
	}
	/* The personality is the thread's credentials now: ours were switched
	 * to the caller's, so io_uring's own workers act as the caller too. */
	id = io_uring_register_personality(ring);
	if (id <= 0)
		return 0;
	personas.e[i].used = true;
	personas.e[i].id = (uint16_t)id;
	personas.e[i].cred = current.cred;
	return (uint16_t)id;
}
