/* keyfile.c — reading keys (keyfile.h says the format). Secrets are held in
 * memory libsodium wipes, and a file is checked before a byte of it is read. */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "keyfile.h"

/* A keys file longer than this is not one (a few thousand clients fit). */
#define KEYS_FILE_MAX (1 << 20)

static bool name_char(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
	       c == '.' || c == '_' || c == '@' || c == '-';
}

static int parse_id(const char *text, uint32_t *out)
{
	char *end;
	unsigned long v;

	if (*text < '0' || *text > '9')
		return -EINVAL;
	errno = 0;
	v = strtoul(text, &end, 10);
	/* (uint32_t)-1 means "no change" to chown(2): never a user. */
	if (errno || *end || v >= UINT32_MAX)
		return -EINVAL;
	*out = (uint32_t)v;
	return 0;
}

static int bad(char *why, size_t why_len, const char *fmt, const char *what)
{
	snprintf(why, why_len, fmt, what);
	return -EINVAL;
}

/* The words of a line, in `words` (a copy the caller wipes: it holds the
 * key's hex digits). */
static int parse_words(char *words, struct dafs_key *key, char *why, size_t why_len)
{
	char *save = NULL, *word;
	const char *hex_end;

	word = strtok_r(words, " \t\r", &save);
	if (!word || word[0] == '#')
		return 0;
	if (strlen(word) > DAFS_KEY_NAME_MAX)
		return bad(why, why_len, "client name '%.64s...' is too long", word);
	for (const char *p = word; *p; p++)
		if (!name_char(*p))
			return bad(why, why_len, "client name '%s' has a character other than "
				   "letters, digits and . _ @ -", word);
	strcpy(key->name, word);
	word = strtok_r(NULL, " \t\r", &save);
	if (!word)
		return bad(why, why_len, "client '%s' has no key", key->name);
	if (strlen(word) != 2 * DAFS_KEY_BYTES ||
	    sodium_hex2bin(key->secret, sizeof(key->secret), word, strlen(word), NULL, NULL,
			   &hex_end) != 0 || *hex_end)
		return bad(why, why_len, "the key is not %s hex digits", "64");
	while ((word = strtok_r(NULL, " \t\r", &save)) && word[0] != '#') {
		if (strcmp(word, "ro") == 0)
			key->read_only = true;
		else if (strcmp(word, "no_root_squash") == 0)
			key->no_root_squash = true;
		else if (strncmp(word, "uid=", 4) == 0 && parse_id(word + 4, &key->uid) == 0)
			key->has_uid = true;
		else if (strncmp(word, "gid=", 4) == 0 && parse_id(word + 4, &key->gid) == 0)
			key->has_gid = true;
		else
			return bad(why, why_len, "unknown option '%.64s' (want ro, no_root_squash, "
				   "uid=N or gid=N)", word);
	}
	return 1;
}

int dafs_key_parse_line(const char *line, struct dafs_key *key, char *why, size_t why_len)
{
	char words[1024];
	int rc;

	memset(key, 0, sizeof(*key));
	if (strlen(line) >= sizeof(words))
		return bad(why, why_len, "%s", "line too long");
	strcpy(words, line);
	rc = parse_words(words, key, why, why_len);
	sodium_memzero(words, sizeof(words));
	if (rc < 0)
		dafs_key_wipe(key);
	return rc;
}

/* Reads a whole keys file into a NUL-terminated buffer, refusing one that
 * anyone but its owner may read. */
static int read_secret_file(const char *path, char **text, char *why, size_t why_len)
{
	struct stat st;
	ssize_t n;
	int fd, rc;
	char *buf;

	fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
	if (fd < 0) {
		rc = -errno;
		snprintf(why, why_len, "%s: %s", path, strerror(-rc));
		return rc;
	}
	if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
		close(fd);
		snprintf(why, why_len, "%s: not a regular file", path);
		return -EACCES;
	}
	if (st.st_mode & (S_IRWXG | S_IRWXO)) {
		close(fd);
		snprintf(why, why_len, "%s: holds keys but its mode is %04o: anyone but its "
			 "owner may use it (chmod 600 %s)", path, (unsigned)(st.st_mode & 07777), path);
		return -EACCES;
	}
	if (st.st_size > KEYS_FILE_MAX) {
		close(fd);
		snprintf(why, why_len, "%s: too big for a keys file", path);
		return -EFBIG;
	}
	buf = sodium_malloc((size_t)st.st_size + 1);
	if (!buf) {
		close(fd);
		snprintf(why, why_len, "%s: out of memory", path);
		return -ENOMEM;
	}
	n = read(fd, buf, (size_t)st.st_size);
	rc = n < 0 ? -errno : 0;
	close(fd);
	if (rc || n != st.st_size) {
		sodium_free(buf);
		snprintf(why, why_len, "%s: %s", path, rc ? strerror(-rc) : "changed while read");
		return rc ? rc : -EIO;
	}
	buf[n] = '\0';
	*text = buf;
	return 0;
}

int dafs_keys_load(const char *path, struct dafs_keys *keys, char *why, size_t why_len)
{
	char *text = NULL, *line, *next, reason[256];
	unsigned line_no = 0;
	struct dafs_key key;
	size_t cap = 0;
	int rc;

	keys->keys = NULL;
	keys->count = 0;
	/* sodium_malloc needs it; it is idempotent and thread-safe. */
	if (sodium_init() < 0) {
		snprintf(why, why_len, "%s: libsodium cannot start", path);
		return -EIO;
	}
	rc = read_secret_file(path, &text, why, why_len);
	if (rc)
		return rc;
	for (line = text; line; line = next) {
		next = strchr(line, '\n');
		if (next)
			*next++ = '\0';
		line_no++;
		rc = dafs_key_parse_line(line, &key, reason, sizeof(reason));
		if (rc < 0) {
			snprintf(why, why_len, "%s:%u: %s", path, line_no, reason);
			break;
		}
		if (rc == 0)
			continue;
		rc = 0;
		if (dafs_keys_find(keys, key.name)) {
			snprintf(why, why_len, "%s:%u: client '%s' is named twice", path, line_no,
				 key.name);
			rc = -EINVAL;
			break;
		}
		if (keys->count == cap) {
			size_t ncap = cap ? 2 * cap : 16;
			struct dafs_key *grown = sodium_allocarray(ncap, sizeof(*grown));

			if (!grown) {
				snprintf(why, why_len, "%s: out of memory", path);
				rc = -ENOMEM;
				break;
			}
			if (keys->count)
				memcpy(grown, keys->keys, keys->count * sizeof(*grown));
			sodium_free(keys->keys);
			keys->keys = grown;
			cap = ncap;
		}
		keys->keys[keys->count++] = key;
	}
	dafs_key_wipe(&key);
	sodium_free(text);
	if (rc)
		dafs_keys_free(keys);
	return rc;
}

int dafs_key_load_client(const char *path, struct dafs_key *key, char *why, size_t why_len)
{
	struct dafs_keys keys;
	int rc = dafs_keys_load(path, &keys, why, why_len);

	if (rc)
		return rc;
	if (keys.count != 1) {
		snprintf(why, why_len, "%s: a client's key file holds one 'NAME KEY' line "
			 "(as 'dafs keygen NAME' prints), not %zu", path, keys.count);
		dafs_keys_free(&keys);
		return -EINVAL;
	}
	*key = keys.keys[0];
	dafs_keys_free(&keys);
	return 0;
}

const struct dafs_key *dafs_keys_find(const struct dafs_keys *keys, const char *name)
{
	for (size_t i = 0; i < keys->count; i++)
		if (strcmp(keys->keys[i].name, name) == 0)
			return &keys->keys[i];
	return NULL;
}

void dafs_keys_free(struct dafs_keys *keys)
{
	/* sodium_free wipes the whole allocation. */
	sodium_free(keys->keys);
	keys->keys = NULL;
	keys->count = 0;
}

void dafs_key_wipe(struct dafs_key *key)
{
	sodium_memzero(key, sizeof(*key));
}
