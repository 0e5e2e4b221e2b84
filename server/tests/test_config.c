/* test_config.c — config.c: the settings table, config_apply's checks, and
 * the --config file reader (names, comments, blanks, flags, and the file and
 * line in every refusal). */
#include "check.h"
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static char dir[] = "/tmp/dafs-test-config.XXXXXX";

/* Writes text to a file in dir; returns its path (static). */
static const char *file_with(const char *text)
{
	static char path[256];
	FILE *f;
	snprintf(path, sizeof(path), "%s/server.conf", dir);
	f = fopen(path, "w");
	if (!f || fputs(text, f) < 0 || fclose(f)) {
		perror(path);
		exit(2);
	}
	return path;
}

/* Reads text as a file into a fresh config; err gets the message. */
static int read_text(struct server_config *cfg, const char *text, char *err, size_t errlen)
{
	config_init(cfg);
	err[0] = '\0';
	return config_read_file(cfg, file_with(text), err, errlen);
}

static void test_file_settings(void)
{
	struct server_config cfg;
	char err[512];
	int rc;

	rc = read_text(&cfg,
		       "# dafs-server settings\n"
		       "\n"
		       "export = /srv/dafs\n"
		       "   listen=tcp://127.0.0.1:7000   \n"
		       "\t# an indented comment\n"
		       "threads = 4\n"
		       "lease = 90\n", err, sizeof(err));
	CHECK_EQ(rc, 0, "a file with every setting, comments and blank lines reads (%s)", err);
	CHECK(cfg.export_dir && !strcmp(cfg.export_dir, "/srv/dafs"), "export from the file");
	CHECK(cfg.listen_url && !strcmp(cfg.listen_url, "tcp://127.0.0.1:7000"),
	      "listen from the file, blanks around name and value trimmed");
	CHECK_EQ(cfg.nworkers, 4, "threads from the file");
	CHECK_EQ(cfg.lease_ms, 90000, "lease from the file, in milliseconds");
	config_free(&cfg);

	rc = read_text(&cfg, "export = /a dir/with spaces\n", err, sizeof(err));
	CHECK(rc == 0 && !strcmp(cfg.export_dir, "/a dir/with spaces"),
	      "a value keeps its inner spaces");
	config_free(&cfg);

	rc = read_text(&cfg, "", err, sizeof(err));
	CHECK(rc == 0 && cfg.nworkers == 1 && cfg.lease_ms == 30000 && !cfg.export_dir,
	      "an empty file leaves the defaults");
	config_free(&cfg);

	rc = read_text(&cfg, "threads = 2\nthreads = 3", err, sizeof(err));
	CHECK(rc == 0 && cfg.nworkers == 3, "a last line without a newline counts; later wins");
	config_free(&cfg);
}

/* Each bad file is refused with "FILE:LINE: " and what is wrong. */
static void test_file_refusals(void)
{
	static const struct {
		const char *text;
		unsigned line;
		const char *says;
	} bad[] = {
		{ "export = /x\nbogus = 1\n", 2, "unknown setting 'bogus'" },
		{ "# ok\nlisten tcp://h:1\n", 2, "expected 'name = value'" },
		{ "threads = 0\n", 1, "bad --threads value '0'" },
		{ "\n\nthreads = 65\n", 3, "bad --threads value '65'" },
		{ "lease = 10s\n", 1, "bad --lease value '10s'" },
		{ "lease = 86401\n", 1, "bad --lease value" },
		{ "export =\n", 1, "'export' has no value" },
		{ "= /x\n", 1, "unknown setting" },
		{ "config = /etc/other.conf\n", 1, "unknown setting 'config'" },
		{ "help = yes\n", 1, "unknown setting 'help'" },
		{ "Export = /x\n", 1, "unknown setting 'Export'" },
		{ "exports = /x\n", 1, "unknown setting 'exports'" },
	};
	struct server_config cfg;
	char err[512], want[256];

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		int rc = read_text(&cfg, bad[i].text, err, sizeof(err));
		snprintf(want, sizeof(want), "%s/server.conf:%u: ", dir, bad[i].line);
		CHECK(rc == -EINVAL && !strncmp(err, want, strlen(want)) && strstr(err, bad[i].says),
		      "refused with file and line: %s", err);
		config_free(&cfg);
	}

	config_init(&cfg);
	snprintf(want, sizeof(want), "%s/missing.conf", dir);
	CHECK(config_read_file(&cfg, want, err, sizeof(err)) == -ENOENT &&
	      strstr(err, "missing.conf") && strstr(err, strerror(ENOENT)),
	      "a missing file is ENOENT naming the file: %s", err);
	config_free(&cfg);
}

static void test_apply(void)
{
	struct server_config cfg;
	char err[256];

	config_init(&cfg);
	CHECK_EQ(config_apply(&cfg, 't', "64", err, sizeof(err)), 0, "threads 64 is allowed");
	CHECK_EQ(config_apply(&cfg, 't', "-1", err, sizeof(err)), -EINVAL, "threads -1 refused");
	CHECK_EQ(config_apply(&cfg, 't', "", err, sizeof(err)), -EINVAL, "an empty threads refused");
	CHECK_EQ(config_apply(&cfg, 't', "99999999999999999999", err, sizeof(err)), -EINVAL,
		 "an overflowing number refused");
	CHECK_EQ(cfg.nworkers, 64, "refusals leave the earlier value");
	CHECK_EQ(config_apply(&cfg, 'e', "/one", err, sizeof(err)), 0, "export once");
	CHECK_EQ(config_apply(&cfg, 'e', "/two", err, sizeof(err)), 0, "export again");
	CHECK(!strcmp(cfg.export_dir, "/two"), "a later value replaces an earlier one");
	CHECK_EQ(config_apply(&cfg, 'Z', "x", err, sizeof(err)), -EINVAL, "an unknown letter");
	config_free(&cfg);
	CHECK(!cfg.export_dir && cfg.nworkers == 1, "config_free leaves the defaults");
}

static void test_flags(void)
{
	bool on = false;
	CHECK(config_parse_flag("yes", &on) == 0 && on, "yes is on");
	CHECK(config_parse_flag("no", &on) == 0 && !on, "no is off");
	CHECK(config_parse_flag("on", &on) == 0 && on, "on is on");
	CHECK(config_parse_flag("0", &on) == 0 && !on, "0 is off");
	CHECK_EQ(config_parse_flag("maybe", &on), -EINVAL, "maybe is refused");
	CHECK_EQ(config_parse_flag("", &on), -EINVAL, "empty is refused");
}

/* The table is sound: names unique, letters unique, every row has help, and
 * getopt's tables come out of it whole. */
static void test_table(void)
{
	struct option longopts[64];
	char shortopts[3 * 64];
	size_t n = 0;
	int sound = 1;

	for (const struct config_option *o = config_options; o->name; o++, n++) {
		for (const struct config_option *p = o + 1; p->name; p++)
			if (!strcmp(o->name, p->name) || o->letter == p->letter)
				sound = 0;
		if (!o->help || (o->has_value && !o->arg))
			sound = 0;
	}
	CHECK(sound, "%zu settings: unique names and letters, each with help", n);
	CHECK_EQ(config_getopt_tables(longopts, 64, shortopts), 0, "getopt tables built");
	CHECK(longopts[n].name == NULL && !strcmp(longopts[0].name, config_options[0].name),
	      "getopt's long table has every row and its end");
	CHECK(strstr(shortopts, "e:") && strstr(shortopts, "h") && !strstr(shortopts, "h:"),
	      "short options: value-taking ones with ':' (%s)", shortopts);
	CHECK_EQ(config_getopt_tables(longopts, 2, shortopts), -ENOSPC, "a small table refused");
	CHECK(config_option_by_name("lease", 5) && !config_option_by_name("leas", 4),
	      "lookup by name is exact");
}

int main(void)
{
	if (!mkdtemp(dir)) {
		perror("mkdtemp");
		return 2;
	}
	test_file_settings();
	test_file_refusals();
	test_apply();
	test_flags();
	test_table();
	char path[256];
	snprintf(path, sizeof(path), "%s/server.conf", dir);
	unlink(path);
	rmdir(dir);
	return check_done();
}
