/* demo_check.h — the shim test programs' one check macro: a failed check
 * prints its line and is counted; main returns non-zero when any failed. */
#ifndef DAFS_DEMO_CHECK_H
#define DAFS_DEMO_CHECK_H

#include <stdio.h>

static int failures;

#define CHECK(cond, ...)                                        \
	do {                                                    \
		if (!(cond)) {                                  \
			printf("FAIL line %d: ", __LINE__);     \
			printf(__VA_ARGS__);                    \
			printf("\n");                           \
			failures++;                             \
		}                                               \
	} while (0)

#endif
