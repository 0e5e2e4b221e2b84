/* test_env.c — the library's one configuration point:
 * dafs_session_opts_from_env parses every DAFS_* variable the library
 * honours into dafs_session_opts (sizes with suffixes, "0" for none or
 * never, malformed values left at what the caller had), and a session
 * opened with NULL or zeroed options takes the defaults whatever the
 * environment says. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "dafs.h"
#include "server_fixture.h"

static const char *const vars[] = {
	"DAFS_TIMEOUT_MS", "DAFS_CACHE_SIZE", "DAFS_WRITE_COALESCE", "DAFS_DIRECT_READ_MIN",
	"DAFS_REGCACHE_ENTRIES", "DAFS_DOORBELL", "DAFS_STATS", "DAFS_RECOVERY_TIMEOUT",
};

static void clear_env(void)
{
	for (size_t i = 0; i < sizeof(vars) / sizeof(vars[0]); i++)
		unsetenv(vars[i]);
}

/* Options as a caller sets them before asking the environment. */
static struct dafs_session_opts preset(void)
{
	return (struct dafs_session_opts){
		.name = "preset", .credits = 7, .timeout_ms = 1234, .cache_size = 3 << 20,
		.coalesce_writes = 1, .direct_read_min = 777, .regcache_entries = 5,
		.doorbells = 1, .stats = 1, .recovery_timeout_s = 9,
	};
}

static bool same_opts(const struct dafs_session_opts *a, const struct dafs_session_opts *b)
{
	return a->name == b->name && a->credits == b->credits && a->timeout_ms == b->timeout_ms &&
	       a->cache_size == b->cache_size && a->coalesce_writes == b->coalesce_writes &&
	       a->direct_read_min == b->direct_read_min &&
	       a->regcache_entries == b->regcache_entries && a->doorbells == b->doorbells &&
	       a->stats == b->stats && a->recovery_timeout_s == b->recovery_timeout_s;
}

static void test_unset(void)
{
	struct dafs_session_opts o = preset(), want = preset(), zero = {0};

	clear_env();
	CHECK_EQ(dafs_session_opts_from_env(&o), 0, "nothing set: 0");
	CHECK(same_opts(&o, &want), "nothing set: the caller's values stay");
	o = zero;
	dafs_session_opts_from_env(&o);
	CHECK(same_opts(&o, &zero), "nothing set: zeroed options stay zero (the defaults)");
	setenv("DAFS_CACHE_SIZE", "", 1);
	setenv("DAFS_STATS", "", 1);
	o = preset();
	CHECK_EQ(dafs_session_opts_from_env(&o), 0, "empty values: 0");
	CHECK(same_opts(&o, &want), "an empty value counts as unset");
	CHECK_EQ(dafs_session_opts_from_env(NULL), -EINVAL, "NULL: -EINVAL");
	clear_env();
}

static void test_values(void)
{
	struct dafs_session_opts o = {0};

	clear_env();
	setenv("DAFS_TIMEOUT_MS", "2000", 1);
	setenv("DAFS_CACHE_SIZE", "64M", 1);
	setenv("DAFS_WRITE_COALESCE", "1", 1);
	setenv("DAFS_DIRECT_READ_MIN", "512k", 1);
	setenv("DAFS_REGCACHE_ENTRIES", "2", 1);
	setenv("DAFS_DOORBELL", "0", 1);
	setenv("DAFS_STATS", "1", 1);
	setenv("DAFS_RECOVERY_TIMEOUT", "30", 1);
	CHECK_EQ(dafs_session_opts_from_env(&o), 0, "all set and well formed: 0");
	CHECK_EQ(o.recovery_timeout_s, 30, "DAFS_RECOVERY_TIMEOUT=30");
	CHECK_EQ(o.timeout_ms, 2000, "DAFS_TIMEOUT_MS=2000");
	CHECK_EQ(o.cache_size, 64ll << 20, "DAFS_CACHE_SIZE=64M");
	CHECK_EQ(o.coalesce_writes, 1, "DAFS_WRITE_COALESCE=1: on");
	CHECK_EQ(o.direct_read_min, 512 << 10, "DAFS_DIRECT_READ_MIN=512k");
	CHECK_EQ(o.regcache_entries, 2, "DAFS_REGCACHE_ENTRIES=2");
	CHECK(o.doorbells < 0, "DAFS_DOORBELL=0: none");
	CHECK(o.stats > 0, "DAFS_STATS=1: on");
	CHECK(o.name == NULL && o.credits == 0, "fields with no variable stay");

	setenv("DAFS_CACHE_SIZE", "1G", 1);
	setenv("DAFS_DIRECT_READ_MIN", "4096", 1);
	dafs_session_opts_from_env(&o);
	CHECK_EQ(o.cache_size, 1ll << 30, "DAFS_CACHE_SIZE=1G");
	CHECK_EQ(o.direct_read_min, 4096, "DAFS_DIRECT_READ_MIN=4096 (no suffix)");

	/* "0" says none, never or off: not "the default". */
	o = preset();
	setenv("DAFS_CACHE_SIZE", "0", 1);
	setenv("DAFS_WRITE_COALESCE", "0", 1);
	setenv("DAFS_DIRECT_READ_MIN", "0", 1);
	setenv("DAFS_REGCACHE_ENTRIES", "0", 1);
	setenv("DAFS_DOORBELL", "1", 1);
	setenv("DAFS_STATS", "0", 1);
	setenv("DAFS_RECOVERY_TIMEOUT", "0", 1);
	CHECK_EQ(dafs_session_opts_from_env(&o), 0, "zeros are well formed");
	CHECK(o.recovery_timeout_s < 0, "DAFS_RECOVERY_TIMEOUT=0: no recovery");
	CHECK(o.cache_size < 0, "DAFS_CACHE_SIZE=0: no cache");
	CHECK(o.coalesce_writes < 0, "DAFS_WRITE_COALESCE=0: off");
	CHECK(o.direct_read_min < 0, "DAFS_DIRECT_READ_MIN=0: never");
	CHECK(o.regcache_entries < 0, "DAFS_REGCACHE_ENTRIES=0: none kept");
	CHECK(o.doorbells > 0, "DAFS_DOORBELL=1: used");
	CHECK_EQ(o.stats, 0, "DAFS_STATS=0: off");
	clear_env();
}

static void test_malformed(void)
{
	static const struct { const char *var, *value; } bad[] = {
		{ "DAFS_TIMEOUT_MS", "soon" }, { "DAFS_TIMEOUT_MS", "0" },
		{ "DAFS_TIMEOUT_MS", "-5" }, { "DAFS_TIMEOUT_MS", "3600001" },
		{ "DAFS_TIMEOUT_MS", "100ms" }, { "DAFS_CACHE_SIZE", "big" },
		{ "DAFS_CACHE_SIZE", "64MB" }, { "DAFS_CACHE_SIZE", "-1" },
		{ "DAFS_CACHE_SIZE", "99999999999G" }, { "DAFS_CACHE_SIZE", "99999999999999999999" },
		{ "DAFS_WRITE_COALESCE", "yes" }, { "DAFS_DIRECT_READ_MIN", "1T" },
		{ "DAFS_REGCACHE_ENTRIES", "many" }, { "DAFS_RECOVERY_TIMEOUT", "10m" },
		{ "DAFS_RECOVERY_TIMEOUT", "-1" }, { "DAFS_RECOVERY_TIMEOUT", "86401" },
	};
	struct dafs_session_opts want = preset();

	clear_env();
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		struct dafs_session_opts o = preset();
		setenv(bad[i].var, bad[i].value, 1);
		CHECK_EQ(dafs_session_opts_from_env(&o), -EINVAL, "%s=%s: -EINVAL", bad[i].var,
			 bad[i].value);
		CHECK(same_opts(&o, &want), "%s=%s: the field keeps its value", bad[i].var,
		      bad[i].value);
		unsetenv(bad[i].var);
	}
	/* One bad value does not stop the others. */
	struct dafs_session_opts o = {0};
	setenv("DAFS_TIMEOUT_MS", "x", 1);
	setenv("DAFS_CACHE_SIZE", "8M", 1);
	CHECK_EQ(dafs_session_opts_from_env(&o), -EINVAL, "one malformed among good ones: -EINVAL");
	CHECK_EQ(o.cache_size, 8 << 20, "and the good ones are filled");
	/* Any other number turns coalescing off, as it always did. */
	setenv("DAFS_WRITE_COALESCE", "2", 1);
	o = preset();
	unsetenv("DAFS_TIMEOUT_MS");
	CHECK_EQ(dafs_session_opts_from_env(&o), 0, "DAFS_WRITE_COALESCE=2 is a number");
	CHECK(o.coalesce_writes < 0, "DAFS_WRITE_COALESCE=2: off");
	clear_env();
}

/* The library reads the environment only when asked: NULL or zeroed
 * options mean the defaults even with variables set. */
static void test_session_ignores_env(void)
{
	struct server_fixture fx;
	struct dafs_session_opts o = {0};
	struct dafs_cache_stats st;
	struct dafs_session *s;

	if (fixture_start(&fx, "env") != 0) {
		CHECK(0, "start the server");
		return;
	}
	setenv("DAFS_CACHE_SIZE", "0", 1);
	s = fixture_connect(&fx);
	CHECK(s != NULL, "a session with opts NULL");
	if (s) {
		dafs_cache_stats(s, &st);
		CHECK(st.size > 0, "DAFS_CACHE_SIZE=0 set, opts NULL: the default cache (%llu bytes)",
		      (unsigned long long)st.size);
		dafs_session_close(s);
	}
	s = NULL;
	dafs_session_opts_from_env(&o);
	CHECK(dafs_session_open(fx.url, &o, &s) == 0, "a session with the environment's options");
	if (s) {
		dafs_cache_stats(s, &st);
		CHECK_EQ(st.size, 0, "DAFS_CACHE_SIZE=0 through dafs_session_opts_from_env: no cache");
		dafs_session_close(s);
	}
	clear_env();
	CHECK_EQ(fixture_stop(&fx), 0, "the server stops cleanly");
}

int main(void)
{
	setvbuf(stdout, NULL, _IOLBF, 0);
	test_unset();
	test_values();
	test_malformed();
	test_session_ignores_env();
	return check_done();
}
