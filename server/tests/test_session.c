/* test_session.c — the slot table (exactly-once replies) and handle table. */
#include <errno.h>
#include <fcntl.h>
#include <unistd.h>
#include <stdint.h>

#include "check.h"
#include "session.h"

static void test_slots(void)
{
	struct session *s = session_create(42, 0, 4);
	const char reply[] = "cached reply";

	CHECK(s != NULL, "session created");
	CHECK_EQ(session_slot_check(s, 0, 0), SLOT_BAD, "seq 0 is never valid on a fresh slot");
	CHECK_EQ(session_slot_check(s, 0, 2), SLOT_BAD, "a slot starts at seq 1");
	CHECK_EQ(session_slot_check(s, 4, 1), SLOT_BAD, "slot beyond the granted credits");
	CHECK_EQ(session_slot_check(s, 0, 1), SLOT_NEW, "seq 1 runs");
	CHECK_EQ(session_slot_check(s, 0, 1), SLOT_IN_PROGRESS, "retry while running is dropped");
	CHECK_EQ(session_slot_check(s, 0, 2), SLOT_BAD, "next seq before the reply is misordered");
	CHECK_EQ(session_slot_finish(s, 0, reply, sizeof(reply)), 0, "reply cached");
	CHECK_EQ(session_slot_check(s, 0, 1), SLOT_REPLAY, "retry after the reply replays it");
	CHECK(s->slots[0].reply_len == sizeof(reply) &&
	      memcmp(s->slots[0].reply, reply, sizeof(reply)) == 0, "the cached bytes are the reply");
	CHECK_EQ(session_slot_check(s, 0, 1), SLOT_REPLAY, "a replay does not consume the cache");
	CHECK_EQ(session_slot_check(s, 0, 3), SLOT_BAD, "skipping a seq is misordered");
	CHECK_EQ(session_slot_check(s, 1, 1), SLOT_NEW, "slots are independent");
	CHECK_EQ(session_slot_check(s, 0, 2), SLOT_NEW, "next seq runs");
	CHECK(s->slots[0].reply == NULL, "the old reply is dropped when the next request runs");
	CHECK_EQ(session_slot_finish(s, 0, reply, 1), 0, "second reply cached");
	CHECK_EQ(session_slot_check(s, 0, 1), SLOT_BAD, "an older seq than the cached one is refused");

	/* Sequence numbers wrap. */
	s->slots[2].used = true;
	s->slots[2].seq = UINT32_MAX;
	CHECK_EQ(session_slot_check(s, 2, 0), SLOT_NEW, "seq wraps from UINT32_MAX to 0");
	session_destroy(s);
}

static void test_handles(void)
{
	struct session *s = session_create(7, 0, 1);
	uint64_t fh1, fh2, fh3;
	struct handle old;
	int fd1 = open("/dev/null", O_RDONLY), fd2 = open("/dev/null", O_RDONLY);

	CHECK_EQ(session_handle_add(s, fd1, DAFS_O_RDONLY, false, 1, 2, &fh1), 0, "handle added");
	CHECK(fh1 != DAFS_FH_ROOT && fh1 != DAFS_FH_CURRENT, "handles never collide with 0 or CURRENT");
	CHECK(session_handle_get(s, fh1) && session_handle_get(s, fh1)->readable &&
	      !session_handle_get(s, fh1)->writable, "read-only handle is readable, not writable");
	CHECK_EQ(session_handle_close(s, fh1, &old), 0, "handle closed");
	CHECK_EQ(old.ino, 2, "close returns the handle's identity");
	CHECK(session_handle_get(s, fh1) == NULL, "a closed handle is gone");
	CHECK_EQ(session_handle_close(s, fh1, NULL), -EBADF, "closing twice is EBADF");
	CHECK_EQ(session_handle_add(s, fd2, DAFS_O_RDWR, false, 1, 3, &fh2), 0, "slot reused");
	CHECK(fh2 != fh1, "a reused slot gets a new generation");
	CHECK(session_handle_get(s, fh1) == NULL, "the stale number does not reach the new file");
	CHECK(session_handle_get(s, 0xdead00000001ull) == NULL, "a forged number is refused");
	CHECK(session_handle_get(s, 0) == NULL && session_handle_get(s, 1000) == NULL,
	      "out-of-range numbers are refused");
	CHECK_EQ(session_handle_add(s, open("/dev/null", O_RDONLY), DAFS_O_RDONLY, true, 1, 4, &fh3),
		 0, "directory handle added");
	CHECK(!session_handle_get(s, fh3)->readable, "a directory handle is not readable as a file");
	session_destroy(s);   /* closes what is left */
}

/* Recovery's slots: a reclaimed session (its client lost a server that
 * restarted) takes the client's sequence numbers as they come; a request
 * dropped undone (its transfer failed) runs again when retried. */
static void test_recovery_slots(void)
{
	struct session *s = session_create(43, 0, 2);

	s->reclaimed = true;
	CHECK_EQ(session_slot_check(s, 0, 77), SLOT_NEW, "a reclaimed slot takes any first seq");
	CHECK_EQ(session_slot_check(s, 0, 77), SLOT_IN_PROGRESS, "and then numbers on from it");
	CHECK_EQ(session_slot_finish(s, 0, "r", 1), 0, "reply cached");
	CHECK_EQ(session_slot_check(s, 0, 79), SLOT_BAD, "skipping a seq is still misordered");
	CHECK_EQ(session_slot_check(s, 1, 1), SLOT_NEW, "seq 1 runs");
	s->slots[1].state = SLOT_IDLE;           /* ended unanswered... */
	CHECK_EQ(session_slot_check(s, 1, 1), SLOT_BAD, "a retry of one that ended unanswered is refused");
	s->slots[1].undone = true;               /* ...before it could run */
	CHECK_EQ(session_slot_check(s, 1, 1), SLOT_NEW, "a retry of one dropped undone runs");
	CHECK(!s->slots[1].undone, "once");
	session_destroy(s);
}

/* REOPEN's placement: a handle at the number the client knows. */
static void test_handle_place(void)
{
	struct session *s = session_create(44, 0, 1);
	uint64_t fh = (UINT64_C(5) << 32) | 3, next;

	CHECK_EQ(session_handle_place(s, open("/dev/null", O_RDONLY), DAFS_O_RDONLY, false, 1, 9, fh),
		 0, "placed at index 3, generation 5");
	CHECK(session_handle_get(s, fh) && session_handle_get(s, fh)->ino == 9, "found by that number");
	int fd = open("/dev/null", O_RDONLY);
	CHECK_EQ(session_handle_place(s, fd, DAFS_O_RDONLY, false, 1, 9, fh), -EEXIST,
		 "a taken number is refused");
	close(fd);
	CHECK_EQ(session_handle_place(s, -1, 0, false, 0, 0, 0), -EBADF, "number 0 is refused");
	CHECK_EQ(session_handle_add(s, open("/dev/null", O_RDONLY), DAFS_O_RDONLY, false, 1, 10, &next),
		 0, "a new handle beside it");
	CHECK(next != fh && (next & 0xffffffffu) < 3, "takes a free index below it");
	session_destroy(s);
}

int main(void)
{
	test_slots();
	test_handles();
	test_recovery_slots();
	test_handle_place();
	return check_done();
}
