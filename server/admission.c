/* admission.c — the server's limits and fence list (admission.h). */
#include "admission.h"

#include <errno.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>

/* Descriptors the server keeps for itself beyond its sessions' files: the
 * fabric, io_uring, pidfds, the admin socket, logs, a reopen in flight. */
#define FD_RESERVE 256

/* One client name the server knows: how many sessions it has, whether it is
 * fenced. Kept while either matters. */
struct admission_name {
	struct admission_name *next;
	unsigned sessions;
	bool fenced;
	char name[DAFS_KEY_NAME_MAX + 1];
};

void admission_init(struct admission *a)
{
	struct rlimit rl;

	memset(a, 0, sizeof(*a));
	a->lim = (struct admission_limits){
		.sessions_per_client = 256, .open_files = 4096, .regions = 4096,
		.session_memory = 16u << 20, .fd_budget = 1024 - FD_RESERVE,
	};
	/* Raise the soft limit to the hard one: the budget is what the server
	 * may really open, less its own reserve. */
	if (getrlimit(RLIMIT_NOFILE, &rl) == 0) {
		if (rl.rlim_cur < rl.rlim_max) {
			rl.rlim_cur = rl.rlim_max;
			if (setrlimit(RLIMIT_NOFILE, &rl) != 0)
				getrlimit(RLIMIT_NOFILE, &rl);
		}
		if (rl.rlim_cur != RLIM_INFINITY && rl.rlim_cur > 2 * FD_RESERVE)
			a->lim.fd_budget = rl.rlim_cur > 1u << 30 ? 1u << 30 :
					   (unsigned)(rl.rlim_cur - FD_RESERVE);
		else if (rl.rlim_cur != RLIM_INFINITY)
			a->lim.fd_budget = (unsigned)(rl.rlim_cur / 2);
	}
	pthread_mutex_init(&a->lock, NULL);
}

void admission_fini(struct admission *a)
{
	while (a->names) {
		struct admission_name *n = a->names;
		a->names = n->next;
		free(n);
	}
	pthread_mutex_destroy(&a->lock);
}

/* A count with an optional K, M or G (powers of 1024) suffix, 1..max. */
static int parse_count(const char *s, bool suffixes, unsigned long long max,
		       unsigned long long *out)
{
	unsigned long long v, mult = 1;
	char *end;

	if (*s < '0' || *s > '9')
		return -EINVAL;
	errno = 0;
	v = strtoull(s, &end, 10);
	if (errno)
		return -EINVAL;
	if (suffixes && *end && !end[1]) {
		switch (*end) {
		case 'k': case 'K': mult = 1ull << 10; end++; break;
		case 'm': case 'M': mult = 1ull << 20; end++; break;
		case 'g': case 'G': mult = 1ull << 30; end++; break;
		}
	}
	if (*end || v == 0 || v > max / mult)
		return -EINVAL;
	*out = v * mult;
	return 0;
}

int admission_set_option(struct admission *a, const char *name, const char *value)
{
	static const struct {
		const char *name;
		size_t off;
		unsigned long long max;
		bool is_size;          /* a size_t in bytes, with suffixes */
	} opts[] = {
		{ "max-sessions-per-client",
		  offsetof(struct admission_limits, sessions_per_client), 1u << 20, false },
		{ "max-open-files", offsetof(struct admission_limits, open_files),
		  SESSION_HANDLES_MAX, false },
		{ "max-regions", offsetof(struct admission_limits, regions), SESSION_REGIONS_MAX, false },
		{ "max-session-memory", offsetof(struct admission_limits, session_memory),
		  1ull << 40, true },
	};
	unsigned long long v;

	for (size_t i = 0; i < sizeof(opts) / sizeof(opts[0]); i++) {
		if (strcmp(name, opts[i].name) != 0)
			continue;
		if (parse_count(value, opts[i].is_size, opts[i].max, &v) != 0)
			return -EINVAL;
		if (opts[i].is_size)
			a->lim.session_memory = (size_t)v;
		else
			*(unsigned *)((char *)&a->lim + opts[i].off) = (unsigned)v;
		return 0;
	}
	return -ENOENT;
}

const char *admission_client_name(const struct session *s)
{
	return s->who.name[0] ? s->who.name : "local";
}

/* The entry of `client`, created when `create`. Locked. */
static struct admission_name *find_name(struct admission *a, const char *client, bool create)
{
	struct admission_name *n;

	for (n = a->names; n; n = n->next)
		if (strcmp(n->name, client) == 0)
			return n;
	if (!create || strlen(client) > DAFS_KEY_NAME_MAX)
		return NULL;
	n = calloc(1, sizeof(*n));
	if (!n)
		return NULL;
	strcpy(n->name, client);
	n->next = a->names;
	a->names = n;
	return n;
}

/* Drops an entry that neither counts sessions nor fences. Locked. */
static void forget_if_unused(struct admission *a, struct admission_name *gone)
{
	if (gone->sessions || gone->fenced)
		return;
	for (struct admission_name **p = &a->names; *p; p = &(*p)->next) {
		if (*p == gone) {
			*p = gone->next;
			free(gone);
			return;
		}
	}
}

static size_t slot_memory(void)
{
	return sizeof(struct slot) + DAFS_MSG_MAX;
}

size_t admission_session_memory(const struct session *s)
{
	return sizeof(*s) + s->nslots * slot_memory() + s->handles_cap * sizeof(struct handle) +
	       s->regions_cap * sizeof(struct region);
}

int admission_session_open(struct admission *a, const char *client, unsigned *credits)
{
	size_t room = a->lim.session_memory > sizeof(struct session) ?
		      a->lim.session_memory - sizeof(struct session) : 0;
	size_t fit = room / slot_memory();
	struct admission_name *n;
	int rc = 0;

	if (fit == 0)
		return -ENOMEM;
	pthread_mutex_lock(&a->lock);
	n = find_name(a, client, true);
	if (!n)
		rc = -ENOMEM;
	else if (n->fenced)
		rc = -EKEYREVOKED;
	else if (n->sessions >= a->lim.sessions_per_client)
		rc = -EUSERS;
	else
		n->sessions++;
	if (rc && n)
		forget_if_unused(a, n);
	pthread_mutex_unlock(&a->lock);
	if (rc == 0 && *credits > fit)
		*credits = (unsigned)fit;
	return rc;
}

void admission_session_close(struct admission *a, const char *client)
{
	struct admission_name *n;

	pthread_mutex_lock(&a->lock);
	n = find_name(a, client, false);
	if (n && n->sessions) {
		n->sessions--;
		forget_if_unused(a, n);
	}
	pthread_mutex_unlock(&a->lock);
}

int admission_open_file(struct admission *a, const struct session *s)
{
	if (s->nopen >= a->lim.open_files)
		return -EMFILE;
	if (session_open_fds() >= a->lim.fd_budget)
		return -ENFILE;
	/* The table grows (doubles) only when every entry is in use. */
	if (s->nopen == s->nhandles && s->nhandles == s->handles_cap) {
		size_t grow = (s->handles_cap ? s->handles_cap : 16) * sizeof(struct handle);
		if (admission_session_memory(s) + grow > a->lim.session_memory)
			return -ENOMEM;
	}
	return 0;
}

int admission_add_region(struct admission *a, const struct session *s)
{
	if (s->nregions >= a->lim.regions)
		return -ENOSPC;
	if (s->nregions == s->regions_cap) {
		size_t grow = (s->regions_cap ? s->regions_cap : 8) * sizeof(struct region);
		if (admission_session_memory(s) + grow > a->lim.session_memory)
			return -ENOMEM;
	}
	return 0;
}

int admission_fence(struct admission *a, const char *client)
{
	struct admission_name *n;

	pthread_mutex_lock(&a->lock);
	n = find_name(a, client, true);
	if (n)
		n->fenced = true;
	pthread_mutex_unlock(&a->lock);
	return n ? 0 : -ENOMEM;
}

int admission_unfence(struct admission *a, const char *client)
{
	struct admission_name *n;
	int rc = -ENOENT;

	pthread_mutex_lock(&a->lock);
	n = find_name(a, client, false);
	if (n && n->fenced) {
		n->fenced = false;
		forget_if_unused(a, n);
		rc = 0;
	}
	pthread_mutex_unlock(&a->lock);
	return rc;
}

bool admission_is_fenced(struct admission *a, const char *client)
{
	struct admission_name *n;
	bool fenced;

	pthread_mutex_lock(&a->lock);
	n = find_name(a, client, false);
	fenced = n && n->fenced;
	pthread_mutex_unlock(&a->lock);
	return fenced;
}
