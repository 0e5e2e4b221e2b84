/* bell.c — doorbells for transports with no wait object (see bell.h). */
#include "bell.h"

#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

/* "\0dafs-bell-" and a 64-bit FNV-1a hash of the fabric name: the same on
 * both sides, and short enough for sun_path whatever the provider's names. */
static void bell_name(struct dafs_bell *b, const void *name, size_t len)
{
	const unsigned char *p = name;
	uint64_t h = UINT64_C(0xcbf29ce484222325);
	int n;

	for (size_t i = 0; i < len; i++)
		h = (h ^ p[i]) * UINT64_C(0x100000001b3);
	memset(&b->addr, 0, sizeof(b->addr));
	b->addr.sun_family = AF_UNIX;
	n = snprintf(b->addr.sun_path + 1, sizeof(b->addr.sun_path) - 1, "dafs-bell-%016llx",
		     (unsigned long long)h);
	b->addr_len = (socklen_t)(offsetof(struct sockaddr_un, sun_path) + 1 + (size_t)n);
}

int dafs_bell_listen(struct dafs_bell *b, const void *name, size_t len)
{
	int rc = 0;

	bell_name(b, name, len);
	b->fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (b->fd < 0)
		return -errno;
	if (bind(b->fd, (struct sockaddr *)&b->addr, b->addr_len) != 0) {
		rc = -errno;
		dafs_bell_close(b);
	}
	return rc;
}

void dafs_bell_address(struct dafs_bell *b, const void *name, size_t len)
{
	b->fd = -1;
	bell_name(b, name, len);
}

void dafs_bell_ring(const struct dafs_bell *ours, const struct dafs_bell *peer)
{
	static const char ding = 1;
	int saved_errno = errno;

	/* A full queue means it is rung already; nobody there, nothing lost. */
	if (ours->fd >= 0 && peer->addr_len)
		(void)!sendto(ours->fd, &ding, 1, MSG_DONTWAIT, (const struct sockaddr *)&peer->addr,
			      peer->addr_len);
	errno = saved_errno;
}

void dafs_bell_drain(const struct dafs_bell *b)
{
	char buf[64];
	int saved_errno = errno;

	while (b->fd >= 0 && recv(b->fd, buf, sizeof(buf), MSG_DONTWAIT) > 0)
		;
	errno = saved_errno;   /* the EAGAIN that ends it is nobody's business */
}

void dafs_bell_close(struct dafs_bell *b)
{
	if (b->fd >= 0)
		close(b->fd);
	b->fd = -1;
}
