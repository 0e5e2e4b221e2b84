/* env.c — the library's one reading of the environment:
 * dafs_session_opts_from_env, for programs (the shim, the dafs command)
 * whose users configure them with DAFS_* variables. The variables, their
 * syntax and their defaults are documented beside the call in dafs.h; the
 * rest of the library takes its settings from dafs_session_opts only. */
#include <errno.h>
#include <limits.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dafs.h"

/* A variable's value, or NULL when unset or empty (the same thing here). */
static const char *env_value(const char *name)
{
	const char *v = getenv(name);

	return v && *v ? v : NULL;
}

/* A size: "4096", "64K", "64M", "1G" (suffixes in either case). Negative
 * when it is none of these, or more than a long long holds. */
static long long parse_size(const char *v)
{
	char *end;
	long long n;
	unsigned shift = 0;

	errno = 0;
	n = strtoll(v, &end, 10);
	if (n < 0 || end == v || errno == ERANGE)
		return -1;
	switch (*end) {
	case 'k': case 'K': shift = 10; end++; break;
	case 'm': case 'M': shift = 20; end++; break;
	case 'g': case 'G': shift = 30; end++; break;
	default: break;
	}
	if (*end || n > LLONG_MAX >> shift)
		return -1;
	return n << shift;
}

/* A count of milliseconds, 1 to an hour. Negative when it is not one. */
static int parse_ms(const char *v)
{
	char *end;
	long n = strtol(v, &end, 10);

	return end == v || *end || n <= 0 || n > 3600000 ? -1 : (int)n;
}

/* A size variable: n (> 0) into *field, "0" as `zero`; true unless malformed. */
static bool size_from_env(const char *name, long long zero, long long *field)
{
	const char *v = env_value(name);
	long long n;

	if (!v)
		return true;
	n = parse_size(v);
	if (n < 0)
		return false;
	*field = n ? n : zero;
	return true;
}

int dafs_session_opts_from_env(struct dafs_session_opts *opts)
{
	const char *v;
	long long n;
	int rc = 0;

	if (!opts)
		return -EINVAL;
	if ((v = env_value("DAFS_TIMEOUT_MS"))) {
		int ms = parse_ms(v);
		if (ms > 0)
			opts->timeout_ms = ms;
		else
			rc = -EINVAL;
	}
	if (!size_from_env("DAFS_CACHE_SIZE", -1, &opts->cache_size)) {
		fprintf(stderr, "libdafs: DAFS_CACHE_SIZE=%s is not a size; using the default\n",
			getenv("DAFS_CACHE_SIZE"));
		rc = -EINVAL;
	}
	if ((v = env_value("DAFS_WRITE_COALESCE"))) {
		char *end;
		long on = strtol(v, &end, 10);
		if (end != v && !*end)
			opts->coalesce_writes = on == 1 ? 1 : -1;
		else
			rc = -EINVAL;
	}
	if (!size_from_env("DAFS_DIRECT_READ_MIN", -1, &opts->direct_read_min))
		rc = -EINVAL;
	n = opts->regcache_entries;
	if (size_from_env("DAFS_REGCACHE_ENTRIES", -1, &n))
		opts->regcache_entries = n > INT_MAX ? INT_MAX : (int)n;
	else
		rc = -EINVAL;
	if ((v = env_value("DAFS_DOORBELL")))
		opts->doorbells = strcmp(v, "0") == 0 ? -1 : 1;
	if ((v = env_value("DAFS_STATS")))
		opts->stats = *v != '0';
	if ((v = env_value("DAFS_KEY_FILE")))
		opts->key_file = v;
	if ((v = env_value("DAFS_RECOVERY_TIMEOUT"))) {
		char *end;
		long secs = strtol(v, &end, 10);
		if (end != v && !*end && secs >= 0 && secs <= 86400)
			opts->recovery_timeout_s = secs ? (int)secs : -1;
		else
			rc = -EINVAL;
	}
	return rc;
}
