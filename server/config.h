/* config.h — dafs-server's settings, from the command line and from a
 * configuration file (--config FILE), through one table.
 *
 * Every setting is one row of config_options[]: its long option name (also
 * its name in the file), its getopt letter, whether it takes a value, and its
 * help line. main.c builds getopt_long's table from it, config_read_file
 * accepts exactly its names, and config_apply is the one place a value is
 * checked and stored. Adding a setting: a row in config_options[] (config.c),
 * a field in struct server_config, a case in config_apply (a flag's case gets
 * "yes" or "no": config_parse_flag), and main.c's use of the field.
 *
 * The file: one "name = value" per line; blank lines and lines whose first
 * non-blank character is '#' are ignored; a flag's value is yes or no. The
 * command line overrides the file: main reads the file first, then applies
 * argv over it. */
#ifndef DAFS_SERVER_CONFIG_H
#define DAFS_SERVER_CONFIG_H

#include <getopt.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

struct admission;

/* What the settings say; the caller owns it. Strings are the struct's own
 * copies (config_free releases them). */
struct server_config {
	char *export_dir;       /* --export: the directory served */
	char *listen_url;       /* --listen: shm://NAME, tcp://HOST:PORT, ... */
	unsigned nworkers;      /* --threads: worker threads, 1..64 */
	unsigned lease_ms;      /* --lease: a silent client's session lifetime */
	char *config_file;      /* --config: the file read, if any */
	char *keys_file;        /* --keys: clients' keys (keyfile.h); NULL: keyless */
	bool insecure;          /* --insecure: keyless on a non-loopback address */
	char *admin_socket;     /* --admin: dafsctl's UNIX socket (admin.h) */
	char *state_dir;        /* --state: the state directory (state.h); NULL: the
				   default, "none": none */
	struct admission *adm;  /* the limits (--max-...) are set here (admission.h);
				   the caller points it at the server's */
};

/* Letters of settings that have no short option start here:
 * enum { OPT_SOMETHING = CONFIG_LONG_ONLY, ... }. */
#define CONFIG_LONG_ONLY 256

/* Where a setting may appear. */
enum config_where {
	CONFIG_ANYWHERE,        /* the command line and the file */
	CONFIG_CLI_ONLY,        /* the command line only (--config, --help) */
};

struct config_option {
	const char *name;       /* --NAME and "NAME = value" */
	int letter;             /* config_apply's key, and getopt's short option when
				   below 128 (long-only settings use 256 and up) */
	bool has_value;         /* false: a flag (no argument; yes/no in a file) */
	enum config_where where;
	const char *arg;        /* the value's name in the help text */
	const char *help;       /* one line; "\n" continues it */
};

/* The table, ended by a row whose name is NULL. */
extern const struct config_option config_options[];

/* Defaults: one worker, a 30 s lease, nothing else set. */
void config_init(struct server_config *cfg);
void config_free(struct server_config *cfg);

/* Checks and stores one setting. value is the option's argument; for a flag
 * "yes" or "no" (the command line passes "yes", a file line its yes or no). Returns 0, or -EINVAL with a
 * message in err ("bad --threads value 'x' (want 1..64)"). */
int config_apply(struct server_config *cfg, int letter, const char *value, char *err,
		 size_t errlen);

/* Reads "name = value" lines from path and applies each. Returns 0, or a
 * negative errno with a message naming path and line in err. */
int config_read_file(struct server_config *cfg, const char *path, char *err, size_t errlen);

/* getopt_long's tables built from config_options[]: longopts has room for
 * nopts entries (including the terminating one), shortopts for 3 * nopts
 * characters. Returns 0 or -ENOSPC. */
int config_getopt_tables(struct option *longopts, size_t nopts, char *shortopts);

/* The options' help lines, aligned. */
void config_print_options(FILE *out);

/* A flag's value: "yes" or "no" (also true/false, on/off, 1/0). Returns
 * 0 or -EINVAL. */
int config_parse_flag(const char *value, bool *out);

/* The row for a letter or a name, or NULL. */
const struct config_option *config_option_by_letter(int letter);
const struct config_option *config_option_by_name(const char *name, size_t len);

#endif
