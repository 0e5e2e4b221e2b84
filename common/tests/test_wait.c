/* test_wait.c — the client's spin (wait.h): the full poll until it misses,
 * then DAFS_SPIN_SKIP replies waited for asleep, then the full poll again;
 * a miss while skipping starts the count anew. */
#include <stdio.h>

#include "check.h"
#include "wait.h"

int main(void)
{
	struct dafs_spin sp = { 0 };

	setvbuf(stdout, NULL, _IOLBF, 0);
	CHECK_EQ(dafs_spin_budget(&sp), DAFS_SPIN_NS, "a new session polls");
	dafs_spin_replied(&sp);
	CHECK_EQ(dafs_spin_budget(&sp), DAFS_SPIN_NS, "and goes on polling while it pays");
	dafs_spin_missed(&sp);
	for (unsigned i = 0; i < DAFS_SPIN_SKIP; i++) {
		CHECK_EQ(dafs_spin_budget(&sp), 0, "a miss: reply %u of %u waited for asleep",
			 i + 1, DAFS_SPIN_SKIP);
		dafs_spin_replied(&sp);
	}
	CHECK_EQ(dafs_spin_budget(&sp), DAFS_SPIN_NS, "then polling is tried again");
	dafs_spin_missed(&sp);
	dafs_spin_replied(&sp);
	dafs_spin_missed(&sp);
	for (unsigned i = 0; i < DAFS_SPIN_SKIP - 1; i++)
		dafs_spin_replied(&sp);
	CHECK_EQ(dafs_spin_budget(&sp), 0, "a miss while skipping starts the count anew");
	dafs_spin_replied(&sp);
	CHECK_EQ(dafs_spin_budget(&sp), DAFS_SPIN_NS, "and it ends as counted");
	return check_done();
}
