/* test_wait.c — the client's spin (wait.h): it polls about four times the
 * wait its replies take while they are quick, never longer than
 * DAFS_SPIN_NS, stops polling once replies take that long (a slow server
 * or a CPU shared by more clients than cores), starts again when they are
 * quick again, and one long wait does not stop it. */
#include <stdio.h>

#include "check.h"
#include "wait.h"

static void learn_n(struct dafs_spin *sp, unsigned n, uint64_t waited_ns)
{
	for (unsigned i = 0; i < n; i++)
		dafs_spin_learn(sp, waited_ns);
}

int main(void)
{
	struct dafs_spin sp = { 0 };
	uint64_t budget;

	setvbuf(stdout, NULL, _IOLBF, 0);
	CHECK_EQ(dafs_spin_budget(&sp), 0, "nothing learnt yet: no poll");

	learn_n(&sp, 100, 12000);
	budget = dafs_spin_budget(&sp);
	CHECK(budget >= 40000 && budget <= 48000,
	      "12 us replies: polls about 48 us (%llu ns)", (unsigned long long)budget);

	learn_n(&sp, 100, 60000);
	CHECK_EQ(dafs_spin_budget(&sp), DAFS_SPIN_NS, "60 us replies: the longest poll");

	learn_n(&sp, 100, 12000);
	dafs_spin_learn(&sp, 5000000000u);
	CHECK(dafs_spin_budget(&sp) > 0,
	      "one 5 s wait among quick ones does not stop the polling (%llu ns)",
	      (unsigned long long)dafs_spin_budget(&sp));

	learn_n(&sp, 30, 2000000);
	CHECK_EQ(dafs_spin_budget(&sp), 0, "2 ms replies: no poll, sleep at once");

	learn_n(&sp, 40, 12000);
	CHECK(dafs_spin_budget(&sp) > 0 && dafs_spin_budget(&sp) < DAFS_SPIN_NS,
	      "quick replies again: polling again (%llu ns)",
	      (unsigned long long)dafs_spin_budget(&sp));
	return check_done();
}
