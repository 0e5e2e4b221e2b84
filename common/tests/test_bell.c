/* test_bell.c — doorbells (bell.h): a ring through one bell's socket makes
 * another's readable and draining empties it; ringing a bell nobody
 * listens to is harmless; two bells cannot share a name; the name depends
 * on the whole fabric name; a bell without a socket rings nothing. */
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
	char name[64], ringer_name[64], other_name[64];
	struct dafs_bell listener, twin, ringer, peer, stranger, mute;

	setvbuf(stdout, NULL, _IOLBF, 0);
	snprintf(name, sizeof(name), "fi_shm://test-bell-%d", (int)getpid());
	snprintf(ringer_name, sizeof(ringer_name), "fi_shm://test-bell-%d-ringer", (int)getpid());
	snprintf(other_name, sizeof(other_name), "fi_shm://test-bell-%d-other", (int)getpid());
	CHECK_EQ(dafs_bell_listen(&listener, name, strlen(name)), 0, "a bell for an endpoint name");
	CHECK_EQ(dafs_bell_listen(&twin, name, strlen(name)), -EADDRINUSE,
		 "a second bell of the same name is refused");
	CHECK_EQ(twin.fd, -1, "and leaves no descriptor");
	CHECK_EQ(dafs_bell_listen(&ringer, ringer_name, strlen(ringer_name)), 0,
		 "the ringing side's own bell");
	dafs_bell_address(&peer, name, strlen(name));
	CHECK_EQ(peer.fd, -1, "a peer's bell is an address, no descriptor");
	CHECK_EQ(readable(&listener, 0), 0, "not rung: not readable");
	for (int i = 0; i < 1000; i++)
		dafs_bell_ring(&ringer, &peer);
	CHECK_EQ(readable(&listener, 1000), 1, "rung (1,000 times, the queue full): readable");
	CHECK_EQ(readable(&ringer, 0), 0, "the ringer's own bell is not");
	dafs_bell_drain(&listener);
	CHECK_EQ(readable(&listener, 0), 0, "drained: not readable");
	dafs_bell_ring(&ringer, &peer);
	CHECK_EQ(readable(&listener, 1000), 1, "rung again: readable again");
	dafs_bell_drain(&listener);

	dafs_bell_address(&stranger, other_name, strlen(other_name));
	dafs_bell_ring(&ringer, &stranger);
	CHECK_EQ(readable(&listener, 0), 0, "ringing a bell nobody listens to wakes nobody else");
	dafs_bell_address(&stranger, name, strlen(name) - 1);
	dafs_bell_ring(&ringer, &stranger);
	CHECK_EQ(readable(&listener, 0), 0, "a name one byte shorter is another bell");
	mute = (struct dafs_bell){ .fd = -1 };
	dafs_bell_ring(&mute, &peer);
	CHECK_EQ(readable(&listener, 0), 0, "with no socket of our own, nothing rings");
	dafs_bell_ring(&ringer, &(struct dafs_bell){ .fd = -1 });
	CHECK_EQ(readable(&listener, 0), 0, "nor does a peer with no address");
	dafs_bell_close(&ringer);
	dafs_bell_close(&listener);
	CHECK_EQ(listener.fd, -1, "closed");
	dafs_bell_drain(&listener);
	CHECK_EQ(dafs_bell_listen(&twin, name, strlen(name)), 0, "the name is free once closed");
	dafs_bell_close(&twin);
	return check_done();
}
