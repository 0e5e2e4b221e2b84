/* test_challenge.c — the server's challenge table (challenge.h): a nonce
 * is good once, only while fresh, and the oldest go when the table is full. */
#include <string.h>

#include "challenge.h"
#include "check.h"

int main(void)
{
	static struct challenge_table t;
	uint8_t a[DAFS_NONCE_BYTES], b[DAFS_NONCE_BYTES], never[DAFS_NONCE_BYTES] = { 0 };
	uint8_t first[DAFS_NONCE_BYTES], last[DAFS_NONCE_BYTES];

	if (dafs_auth_init() != 0)
		return 1;
	challenge_table_init(&t);
	challenge_issue(&t, 1000, a);
	challenge_issue(&t, 1000, b);
	CHECK(memcmp(a, b, sizeof(a)) != 0, "two challenges differ");
	CHECK(!challenge_take(&t, 1000, never), "a nonce never issued is refused");
	CHECK(challenge_take(&t, 1500, a), "an issued nonce is taken");
	CHECK(!challenge_take(&t, 1500, a), "but only once");
	CHECK(!challenge_take(&t, 1000 + DAFS_CHALLENGE_LIFE_MS, b),
	      "a nonce as old as DAFS_CHALLENGE_LIFE_MS is refused");
	CHECK(!challenge_take(&t, 1000, b), "and it is gone even so");

	challenge_issue(&t, 2000, first);
	for (unsigned i = 0; i < DAFS_CHALLENGES_MAX - 1; i++)
		challenge_issue(&t, 2000, last);
	CHECK(challenge_take(&t, 2000, first),
	      "the oldest of DAFS_CHALLENGES_MAX outstanding is still there");
	challenge_issue(&t, 2000, first);
	challenge_issue(&t, 2000, a);
	for (unsigned i = 0; i < DAFS_CHALLENGES_MAX; i++)
		challenge_issue(&t, 2000, b);
	CHECK(!challenge_take(&t, 2000, a), "a nonce pushed out by DAFS_CHALLENGES_MAX newer is refused");
	CHECK(challenge_take(&t, 2000, b), "the newest is there");
	challenge_table_fini(&t);
	return check_done();
}
