/* check.h — the unit tests' few macros. Each test binary prints TAP lines
 * ("ok N - what" / "not ok N - what") that scripts/run-tests counts, and exits
 * non-zero when any check failed. */
#ifndef DAFS_CHECK_H
#define DAFS_CHECK_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int check_count;
static int check_failed;

#define CHECK(cond, ...) do {                                              \
	check_count++;                                                     \
	if (cond) {                                                        \
		printf("ok %d - ", check_count);                           \
	} else {                                                           \
		check_failed++;                                            \
		printf("not ok %d - %s:%d: (%s) ", check_count, __FILE__,  \
		       __LINE__, #cond);                                   \
	}                                                                  \
	printf(__VA_ARGS__);                                               \
	printf("\n");                                                      \
} while (0)

#define CHECK_EQ(a, b, ...) do {                                           \
	long long check_a_ = (long long)(a), check_b_ = (long long)(b);    \
	CHECK(check_a_ == check_b_, __VA_ARGS__);                          \
	if (check_a_ != check_b_)                                          \
		printf("#   got %lld, want %lld\n", check_a_, check_b_);       \
} while (0)

static inline int check_done(void)
{
	printf("1..%d\n", check_count);
	return check_failed ? 1 : 0;
}

#endif
