/* challenge.c — the challenge table and the check of a keyed SESSION_OPEN
 * (challenge.h, auth.h). */
#include <errno.h>
#include <sodium.h>
#include <stdio.h>
#include <string.h>

#include "challenge.h"
#include "server.h"

void challenge_table_init(struct challenge_table *t)
{
	memset(t, 0, sizeof(*t));
	pthread_mutex_init(&t->lock, NULL);
}

void challenge_table_fini(struct challenge_table *t)
{
	pthread_mutex_destroy(&t->lock);
}

void challenge_issue(struct challenge_table *t, uint64_t now_ms, uint8_t nonce[DAFS_NONCE_BYTES])
{
	struct challenge *c;

	randombytes_buf(nonce, DAFS_NONCE_BYTES);
	pthread_mutex_lock(&t->lock);
	c = &t->ent[t->next];
	t->next = (t->next + 1) % DAFS_CHALLENGES_MAX;
	memcpy(c->nonce, nonce, DAFS_NONCE_BYTES);
	c->issued_ms = now_ms;
	c->live = true;
	pthread_mutex_unlock(&t->lock);
}

bool challenge_take(struct challenge_table *t, uint64_t now_ms,
		    const uint8_t nonce[DAFS_NONCE_BYTES])
{
	bool found = false;

	pthread_mutex_lock(&t->lock);
	for (unsigned i = 0; i < DAFS_CHALLENGES_MAX; i++) {
		struct challenge *c = &t->ent[i];
		if (c->live && memcmp(c->nonce, nonce, DAFS_NONCE_BYTES) == 0) {
			c->live = false;
			found = now_ms - c->issued_ms < DAFS_CHALLENGE_LIFE_MS;
			break;
		}
	}
	pthread_mutex_unlock(&t->lock);
	return found;
}

int challenge_check_hello(struct server *srv, uint64_t now_ms, const void *auth,
			  uint32_t auth_len, uint64_t id, struct principal *who,
			  struct dafs_mac *mac, uint8_t proof[DAFS_PROOF_BYTES], const char **why)
{
	struct dafs_auth_hello hello;
	uint8_t expect[DAFS_PROOF_BYTES];
	const struct dafs_key *key;
	int rc = 0;

	if (dafs_auth_hello_decode(auth, auth_len, &hello) != 0) {
		*why = "malformed hello";
		return -EACCES;
	}
	/* The challenge is used up even when the rest fails: one try per nonce. */
	if (!challenge_take(&srv->challenges, now_ms, hello.server_nonce)) {
		*why = "unknown, used or expired challenge";
		return -EACCES;
	}
	pthread_mutex_lock(&srv->keys_lock);
	key = dafs_keys_find(&srv->keys, hello.name);
	if (!key) {
		*why = "no such key name";
		rc = -EACCES;
	} else {
		dafs_auth_client_proof(key->secret, &hello, expect);
		if (!dafs_auth_proof_equal(expect, hello.proof)) {
			*why = "wrong key";
			rc = -EACCES;
		}
	}
	if (rc == 0) {
		memset(who, 0, sizeof(*who));
		snprintf(who->name, sizeof(who->name), "%s", key->name);
		who->keyed = true;
		who->read_only = key->read_only;
		who->no_root_squash = key->no_root_squash;
		who->has_uid = key->has_uid;
		who->uid = key->uid;
		who->has_gid = key->has_gid;
		who->gid = key->gid;
		dafs_auth_session_keys(key->secret, &hello, true, mac);
		dafs_auth_server_proof(key->secret, &hello, id, proof);
	}
	pthread_mutex_unlock(&srv->keys_lock);
	sodium_memzero(expect, sizeof(expect));
	return rc;
}
