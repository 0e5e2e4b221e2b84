/* test_bell.c — doorbells (bell.h): a ring makes the listener's fd readable
 * and draining empties it; ringing a bell nobody listens to is harmless;
 * two listeners cannot share a name; the name depends on the whole fabric
 * name. */
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "bell.h"
#include "check.h"

static int readable(const struct dafs_bell *b, int timeout_ms)
{
	struct pollfd p = { .fd = b->fd, .events = POLLIN };

	return poll(&p, 1, timeout_ms);
}

int main(void)
{
	char name[64], other_name[64];
	struct dafs_bell listener, twin, ringer, stranger;

	setvbuf(stdout, NULL, _IOLBF, 0);
	snprintf(name, sizeof(name), "fi_shm://test-bell-%d", (int)getpid());
	snprintf(other_name, sizeof(other_name), "fi_shm://test-bell-%d-other", (int)getpid());
	CHECK_EQ(dafs_bell_listen(&listener, name, strlen(name)), 0, "a bell for an endpoint name");
	CHECK_EQ(dafs_bell_listen(&twin, name, strlen(name)), -EADDRINUSE,
		 "a second bell of the same name is refused");
	CHECK_EQ(twin.fd, -1, "and leaves no descriptor");
	CHECK_EQ(dafs_bell_connect(&ringer, name, strlen(name)), 0, "a ringer for it");
	CHECK_EQ(readable(&listener, 0), 0, "not rung: not readable");
	for (int i = 0; i < 1000; i++)
		dafs_bell_ring(&ringer);
	CHECK_EQ(readable(&listener, 1000), 1, "rung (1,000 times, the queue full): readable");
	dafs_bell_drain(&listener);
	CHECK_EQ(readable(&listener, 0), 0, "drained: not readable");
	dafs_bell_ring(&ringer);
	CHECK_EQ(readable(&listener, 1000), 1, "rung again: readable again");
	dafs_bell_drain(&listener);

	CHECK_EQ(dafs_bell_connect(&stranger, other_name, strlen(other_name)), 0,
		 "a ringer for a name nobody listens to");
	dafs_bell_ring(&stranger);
	CHECK_EQ(readable(&listener, 0), 0, "ringing it wakes nobody else (and fails quietly)");
	CHECK_EQ(dafs_bell_connect(&stranger, name, strlen(name) - 1), 0,
		 "a ringer for a name one byte shorter");
	dafs_bell_ring(&stranger);
	CHECK_EQ(readable(&listener, 0), 0, "is another bell");
	dafs_bell_close(&stranger);
	dafs_bell_close(&ringer);
	dafs_bell_close(&listener);
	CHECK_EQ(listener.fd, -1, "closed");
	dafs_bell_ring(&listener);
	dafs_bell_drain(&listener);
	CHECK_EQ(dafs_bell_listen(&twin, name, strlen(name)), 0, "the name is free once closed");
	dafs_bell_close(&twin);
	return check_done();
}
