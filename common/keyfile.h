/* keyfile.h — client keys: the line `dafs keygen NAME` prints (`NAME KEY`),
 * a client's key file (that one line) and the server's keys file (one line
 * per client, with what the client may do):
 *
 *     # comment
 *     NAME KEY [ro] [no_root_squash] [uid=N] [gid=N]
 *
 * NAME is 1..DAFS_KEY_NAME_MAX of [A-Za-z0-9._@-]; KEY is DAFS_KEY_BYTES as
 * lowercase or uppercase hex. A key is a secret: a file that holds keys and
 * that anyone but its owner may read is refused, on both sides. */
#ifndef DAFS_KEYFILE_H
#define DAFS_KEYFILE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define DAFS_KEY_BYTES    32
#define DAFS_KEY_NAME_MAX 64

struct dafs_key {
	char name[DAFS_KEY_NAME_MAX + 1];
	uint8_t secret[DAFS_KEY_BYTES];
	bool read_only;          /* ro: every change gets EROFS */
	bool no_root_squash;     /* uid 0 stays 0 (else it becomes 65534) */
	bool has_uid, has_gid;   /* uid=N, gid=N: the client acts only as this user */
	uint32_t uid, gid;
};

struct dafs_keys {
	struct dafs_key *keys;
	size_t count;
};

/* One line, without its newline. Returns 1 with *key filled, 0 for a blank
 * or comment line, -EINVAL for anything else, with `why` saying what is
 * wrong (no file or line number: the caller adds them). */
int dafs_key_parse_line(const char *line, struct dafs_key *key, char *why, size_t why_len);

/* A whole keys file. Returns 0, or -errno with `why` naming the file, the
 * line and the fault: -EACCES for a file anyone but its owner may read (or
 * not a regular file), -EINVAL for a malformed line or a name given twice,
 * or the error of opening or reading it. */
int dafs_keys_load(const char *path, struct dafs_keys *keys, char *why, size_t why_len);

/* A client's key file: as dafs_keys_load, and exactly one key (options on
 * its line are the server's business and ignored here). */
int dafs_key_load_client(const char *path, struct dafs_key *key, char *why, size_t why_len);

const struct dafs_key *dafs_keys_find(const struct dafs_keys *keys, const char *name);

/* Wipes the secrets and frees them. */
void dafs_keys_free(struct dafs_keys *keys);
void dafs_key_wipe(struct dafs_key *key);

#endif
