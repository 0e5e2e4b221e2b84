/* keygen.c — dafs_keygen: a new client key as the line keys files hold
 * (keyfile.h), checked by the same parser that will read it. */
#include <errno.h>
#include <sodium.h>
#include <stdio.h>
#include <string.h>

#include "auth.h"
#include "dafs.h"
#include "keyfile.h"

int dafs_keygen(const char *name, char *line, size_t cap)
{
	uint8_t secret[DAFS_KEY_BYTES];
	char hex[2 * DAFS_KEY_BYTES + 1], why[256];
	struct dafs_key key;
	int n, rc;

	if (!name || !line || dafs_auth_init() != 0)
		return -EINVAL;
	randombytes_buf(secret, sizeof(secret));
	sodium_bin2hex(hex, sizeof(hex), secret, sizeof(secret));
	sodium_memzero(secret, sizeof(secret));
	n = snprintf(line, cap, "%s %s", name, hex);
	sodium_memzero(hex, sizeof(hex));
	if (n < 0 || (size_t)n + 2 > cap) {
		sodium_memzero(line, cap);
		return -ENOSPC;
	}
	/* A name with a space or another character a keys file refuses. */
	rc = dafs_key_parse_line(line, &key, why, sizeof(why));
	if (rc == 1 && strcmp(key.name, name) != 0)
		rc = -EINVAL;
	dafs_key_wipe(&key);
	if (rc != 1) {
		sodium_memzero(line, cap);
		return -EINVAL;
	}
	line[n] = '\n';
	line[n + 1] = '\0';
	return 0;
}
