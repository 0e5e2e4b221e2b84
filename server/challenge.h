/* challenge.h — the server's side of a keyed session's set-up (auth.h has
 * the protocol): the table of challenges (nonces) handed out with CONNECT
 * replies, and the check of a SESSION_OPEN's hello against them and the
 * keys file. CONNECT is answered by worker 0 and SESSION_OPEN by any
 * worker: the table is shared, under its own lock. */
#ifndef DAFS_SERVER_CHALLENGE_H
#define DAFS_SERVER_CHALLENGE_H

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>

#include "auth.h"
#include "session.h"

struct challenge {
	uint8_t nonce[DAFS_NONCE_BYTES];
	uint64_t issued_ms;
	bool live;                 /* issued, not yet used */
};

struct challenge_table {
	pthread_mutex_t lock;
	struct challenge ent[DAFS_CHALLENGES_MAX];   /* lock: a ring, next is the oldest */
	unsigned next;                               /* lock */
};

void challenge_table_init(struct challenge_table *t);
void challenge_table_fini(struct challenge_table *t);

/* A fresh random nonce, remembered (evicting the oldest when full). */
void challenge_issue(struct challenge_table *t, uint64_t now_ms, uint8_t nonce[DAFS_NONCE_BYTES]);
/* True when `nonce` was issued less than DAFS_CHALLENGE_LIFE_MS ago and not
 * taken before; it is forgotten either way. */
bool challenge_take(struct challenge_table *t, uint64_t now_ms,
		    const uint8_t nonce[DAFS_NONCE_BYTES]);

struct server;

/* Checks SESSION_OPEN's hello (auth, auth_len) for the session `id`: its
 * challenge, its key's name, its proof. On success fills `who` from the
 * key, `mac` with the session keys and `proof` with the server's proof,
 * and returns 0; else -EACCES, with `why` saying which check failed (for
 * the log only: the client learns no more than EACCES). */
int challenge_check_hello(struct server *srv, uint64_t now_ms, const void *auth,
			  uint32_t auth_len, uint64_t id, struct principal *who,
			  struct dafs_mac *mac, uint8_t proof[DAFS_PROOF_BYTES], const char **why);

#endif
