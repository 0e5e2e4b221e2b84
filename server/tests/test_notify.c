/* test_notify.c — notify.c speaks systemd's sd_notify protocol: a datagram
 * "READY=1" (with a STATUS) and "STOPPING=1" on $NOTIFY_SOCKET, and nothing
 * at all, without failing, when the variable is unset. */
#include "check.h"
#include "notify.h"

#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

/* One datagram from fd within a second, as a string ("" if none). */
static const char *receive(int fd)
{
	static char buf[512];
	struct pollfd p = { .fd = fd, .events = POLLIN };
	ssize_t n;
	buf[0] = '\0';
	if (poll(&p, 1, 1000) != 1)
		return buf;
	n = recv(fd, buf, sizeof(buf) - 1, 0);
	buf[n > 0 ? n : 0] = '\0';
	return buf;
}

int main(void)
{
	char dir[] = "/tmp/dafs-test-notify.XXXXXX";
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	const char *got;
	int fd;

	if (!mkdtemp(dir)) {
		perror("mkdtemp");
		return 2;
	}
	snprintf(sa.sun_path, sizeof(sa.sun_path), "%s/notify", dir);
	fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (fd < 0 || bind(fd, (struct sockaddr *)&sa, sizeof(sa))) {
		perror("notify socket");
		return 2;
	}

	unsetenv("NOTIFY_SOCKET");
	CHECK_EQ(notify_ready("/srv", "shm://x"), 0, "no NOTIFY_SOCKET: nothing sent, no error");
	CHECK_EQ(notify_stopping(), 0, "no NOTIFY_SOCKET: stopping is a no-op too");

	setenv("NOTIFY_SOCKET", sa.sun_path, 1);
	CHECK(notify_ready("/srv/data", "tcp://127.0.0.1:7000") > 0, "ready sent");
	got = receive(fd);
	CHECK(!strncmp(got, "READY=1\n", 8), "the manager hears READY=1 first");
	CHECK(strstr(got, "STATUS=exporting /srv/data on tcp://127.0.0.1:7000") != NULL,
	      "with a STATUS naming the export and URL");
	CHECK(notify_stopping() > 0, "stopping sent");
	got = receive(fd);
	CHECK(!strcmp(got, "STOPPING=1"), "the manager hears STOPPING=1 (%s)", got);

	/* A socket that is gone: an error, not a crash or a hang. */
	unlink(sa.sun_path);
	CHECK(notify_ready("/srv", "shm://x") < 0, "a vanished socket is an error");

	close(fd);
	unsetenv("NOTIFY_SOCKET");
	rmdir(dir);
	return check_done();
}
