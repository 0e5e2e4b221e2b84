/* config.c — dafs-server's settings table, the one function that checks and
 * stores a setting, and the configuration file reader (config.h). */
#include "config.h"

#include "admission.h"

#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

/* Settings without a short option. */
enum {
	OPT_MAX_SESSIONS = CONFIG_LONG_ONLY,
	OPT_MAX_OPEN_FILES,
	OPT_MAX_REGIONS,
	OPT_MAX_SESSION_MEMORY,
	OPT_STATE,
};

/* The settings, in the order --help lists them. */
const struct config_option config_options[] = {
	{ "export", 'e', true, CONFIG_ANYWHERE, "DIR",
	  "the directory to export; nothing outside it is reachable" },
	{ "listen", 'l', true, CONFIG_ANYWHERE, "URL",
	  "shm://NAME, tcp://HOST:PORT or verbs://HOST:PORT" },
	{ "threads", 't', true, CONFIG_ANYWHERE, "N",
	  "worker threads, each with its own endpoint (default 1)" },
	{ "lease", 'L', true, CONFIG_ANYWHERE, "SECONDS",
	  "a silent client's session, files and locks are dropped\nafter this long (default 30)" },
	{ "keys", 'k', true, CONFIG_ANYWHERE, "FILE",
	  "clients' keys, one 'NAME KEY [ro] [no_root_squash] [uid=N]\n[gid=N]' a line "
	  "('dafs keygen NAME' makes one): only\nclients with one of them get a session, "
	  "and every\nmessage of theirs is authenticated" },
	{ "insecure", 'I', false, CONFIG_ANYWHERE, NULL,
	  "without --keys, listen on a non-loopback address anyway:\nanyone who can reach "
	  "it reads and writes the export" },
	{ "state", OPT_STATE, true, CONFIG_ANYWHERE, "DIR",
	  "where replies of requests that must not run twice are\nrecorded, so that a client "
	  "retrying one after a restart\nis answered, not run again (default: $STATE_DIRECTORY,\n"
	  "as systemd sets it; none: not kept)" },
	{ "admin", 'a', true, CONFIG_ANYWHERE, "SOCKET",
	  "serve dafsctl on this UNIX socket (mode 0600; root and\nthe server's own user only)" },
	{ "max-sessions-per-client", OPT_MAX_SESSIONS, true, CONFIG_ANYWHERE, "N",
	  "sessions one client name may hold (default 256;\nmore get EUSERS)" },
	{ "max-open-files", OPT_MAX_OPEN_FILES, true, CONFIG_ANYWHERE, "N",
	  "open files per session (default 4096; EMFILE)" },
	{ "max-regions", OPT_MAX_REGIONS, true, CONFIG_ANYWHERE, "N",
	  "registered memory regions per session\n(default 4096; ENOSPC)" },
	{ "max-session-memory", OPT_MAX_SESSION_MEMORY, true, CONFIG_ANYWHERE, "BYTES",
	  "memory the server spends on one session: reply\ncache and tables (default 16M; "
	  "K, M, G suffixes;\nENOMEM)" },
	{ "config", 'c', true, CONFIG_CLI_ONLY, "FILE",
	  "read settings from FILE first (name = value lines);\nthe command line overrides them" },
	{ "help", 'h', false, CONFIG_CLI_ONLY, NULL, "this text" },
	{ NULL, 0, false, CONFIG_ANYWHERE, NULL, NULL },
};

void config_init(struct server_config *cfg)
{
	*cfg = (struct server_config){ .nworkers = 1, .lease_ms = 30000 };
}

void config_free(struct server_config *cfg)
{
	free(cfg->export_dir);
	free(cfg->listen_url);
	free(cfg->config_file);
	free(cfg->keys_file);
	free(cfg->admin_socket);
	free(cfg->state_dir);
	config_init(cfg);
}

__attribute__((format(printf, 3, 4)))
static int fail(char *err, size_t errlen, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(err, errlen, fmt, ap);
	va_end(ap);
	return -EINVAL;
}

/* Replaces *slot with a copy of value. */
static int set_string(char **slot, const char *value, char *err, size_t errlen)
{
	char *copy = strdup(value);
	if (!copy) {
		snprintf(err, errlen, "out of memory");
		return -ENOMEM;
	}
	free(*slot);
	*slot = copy;
	return 0;
}

/* A whole decimal number in [min, max]. */
static int parse_number(const char *value, long min, long max, long *out)
{
	char *end;
	long v;
	errno = 0;
	v = strtol(value, &end, 10);
	if (!*value || *end || errno || v < min || v > max)
		return -EINVAL;
	*out = v;
	return 0;
}

int config_parse_flag(const char *value, bool *out)
{
	static const char *const yes[] = { "yes", "true", "on", "1" };
	static const char *const no[] = { "no", "false", "off", "0" };
	for (size_t i = 0; i < sizeof(yes) / sizeof(yes[0]); i++) {
		if (!strcmp(value, yes[i]) || !strcmp(value, no[i])) {
			*out = !strcmp(value, yes[i]);
			return 0;
		}
	}
	return -EINVAL;
}

int config_apply(struct server_config *cfg, int letter, const char *value, char *err,
		 size_t errlen)
{
	const struct config_option *o = config_option_by_letter(letter);
	long v;

	if (!o)
		return fail(err, errlen, "unknown option");
	if (o->has_value && !*value)
		return fail(err, errlen, "--%s needs a value", o->name);
	switch (letter) {
	case 'e':
		return set_string(&cfg->export_dir, value, err, errlen);
	case 'l':
		return set_string(&cfg->listen_url, value, err, errlen);
	case 't':
		if (parse_number(value, 1, 64, &v))
			return fail(err, errlen, "bad --threads value '%s' (want 1..64)", value);
		cfg->nworkers = (unsigned)v;
		return 0;
	case 'L':
		if (parse_number(value, 1, 86400, &v))
			return fail(err, errlen, "bad --lease value '%s' (want 1..86400 seconds)",
				    value);
		cfg->lease_ms = (unsigned)v * 1000;
		return 0;
	case 'c':
		return set_string(&cfg->config_file, value, err, errlen);
	case 'k':
		return set_string(&cfg->keys_file, value, err, errlen);
	case 'I':
		if (config_parse_flag(value, &cfg->insecure))
			return fail(err, errlen, "bad --insecure value '%s' (want yes or no)", value);
		return 0;
	case 'a':
		return set_string(&cfg->admin_socket, value, err, errlen);
	case OPT_STATE:
		return set_string(&cfg->state_dir, value, err, errlen);
	case OPT_MAX_SESSIONS:
	case OPT_MAX_OPEN_FILES:
	case OPT_MAX_REGIONS:
	case OPT_MAX_SESSION_MEMORY:
		/* admission.c knows each limit's range and units. */
		if (!cfg->adm)
			return fail(err, errlen, "--%s: no limits to set", o->name);
		if (admission_set_option(cfg->adm, o->name, value))
			return fail(err, errlen, "bad --%s value '%s'", o->name, value);
		return 0;
	}
	return fail(err, errlen, "--%s is not a setting", o->name);
}

const struct config_option *config_option_by_letter(int letter)
{
	for (const struct config_option *o = config_options; o->name; o++)
		if (o->letter == letter)
			return o;
	return NULL;
}

const struct config_option *config_option_by_name(const char *name, size_t len)
{
	for (const struct config_option *o = config_options; o->name; o++)
		if (strlen(o->name) == len && !memcmp(o->name, name, len))
			return o;
	return NULL;
}

/* One line of the file (its newline removed): blank, a comment, or
 * "name = value". Returns 0 or -EINVAL with err saying what is wrong (the
 * caller adds the file and line). */
static int apply_line(struct server_config *cfg, char *line, char *err, size_t errlen)
{
	const struct config_option *o;
	char *name, *eq, *value, *end;
	size_t nlen;

	name = line;
	while (isspace((unsigned char)*name))
		name++;
	if (!*name || *name == '#')
		return 0;
	eq = strchr(name, '=');
	if (!eq)
		return fail(err, errlen, "expected 'name = value'");
	end = eq;
	while (end > name && isspace((unsigned char)end[-1]))
		end--;
	nlen = (size_t)(end - name);
	value = eq + 1;
	while (isspace((unsigned char)*value))
		value++;
	end = value + strlen(value);
	while (end > value && isspace((unsigned char)end[-1]))
		end--;
	*end = '\0';

	o = nlen ? config_option_by_name(name, nlen) : NULL;
	if (!o || o->where == CONFIG_CLI_ONLY)
		return fail(err, errlen, "unknown setting '%.*s'", (int)(nlen ? nlen : 1),
			    nlen ? name : "=");
	if (!*value)
		return fail(err, errlen, "'%s' has no value", o->name);
	if (!o->has_value) {
		bool on;
		if (config_parse_flag(value, &on))
			return fail(err, errlen, "'%s' wants yes or no, not '%s'", o->name, value);
		return config_apply(cfg, o->letter, on ? "yes" : "no", err, errlen);
	}
	return config_apply(cfg, o->letter, value, err, errlen);
}

int config_read_file(struct server_config *cfg, const char *path, char *err, size_t errlen)
{
	FILE *f = fopen(path, "re");
	char *line = NULL, why[256];
	size_t cap = 0;
	unsigned lineno = 0;
	ssize_t n;
	int rc = 0;

	if (!f) {
		rc = -errno;
		snprintf(err, errlen, "cannot read %s: %s", path, strerror(-rc));
		return rc;
	}
	while ((n = getline(&line, &cap, f)) >= 0) {
		lineno++;
		if (n > 0 && line[n - 1] == '\n')
			line[--n] = '\0';
		if (strlen(line) != (size_t)n) {
			snprintf(why, sizeof(why), "a NUL byte in the line");
			rc = -EINVAL;
		} else {
			rc = apply_line(cfg, line, why, sizeof(why));
		}
		if (rc) {
			snprintf(err, errlen, "%s:%u: %s", path, lineno, why);
			break;
		}
	}
	if (!rc && ferror(f)) {
		rc = -EIO;
		snprintf(err, errlen, "cannot read %s: %s", path, strerror(EIO));
	}
	free(line);
	fclose(f);
	return rc;
}

int config_getopt_tables(struct option *longopts, size_t nopts, char *shortopts)
{
	size_t i = 0;
	char *s = shortopts;

	for (const struct config_option *o = config_options; o->name; o++, i++) {
		if (i + 1 >= nopts)
			return -ENOSPC;
		longopts[i] = (struct option){ o->name, o->has_value ? required_argument :
					       no_argument, NULL, o->letter };
		if (o->letter > 0 && o->letter < 128) {
			*s++ = (char)o->letter;
			if (o->has_value)
				*s++ = ':';
		}
	}
	longopts[i] = (struct option){ NULL, 0, NULL, 0 };
	*s = '\0';
	return 0;
}

void config_print_options(FILE *out)
{
	for (const struct config_option *o = config_options; o->name; o++) {
		char head[64];
		const char *h = o->help, *nl;
		int first = 1;
		snprintf(head, sizeof(head), "--%s%s%s", o->name, o->arg ? " " : "",
			 o->arg ? o->arg : "");
		if (strlen(head) > 20) {        /* too wide for the column: a line of its own */
			fprintf(out, "  %s\n", head);
			first = 0;
		}
		for (; h; first = 0) {
			nl = strchr(h, '\n');
			fprintf(out, "  %-20s %.*s\n", first ? head : "",
				nl ? (int)(nl - h) : (int)strlen(h), h);
			h = nl ? nl + 1 : NULL;
		}
	}
}
