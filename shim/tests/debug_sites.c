/* debug_sites.c — unsupported calls on a DAFS descriptor from two call
 * sites, for the DAFS_DEBUG test: ioctl twice from one site (a loop) and
 * once from another function, and each must fail with ENOTTY.
 *
 *   debug_sites FILE
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <termios.h>
#include <unistd.h>

#include "demo_check.h"

/* Read at run time, so that the compiler cannot unroll the loop into two
 * call sites (gcc -O2 with ASan did). */
static volatile int first_site_calls = 2;

__attribute__((noinline)) static int first_site(int fd)
{
	struct termios t;
	int bad = 0;

	for (int i = 0; i < first_site_calls; i++)
		bad += ioctl(fd, TCGETS, &t) != -1 || errno != ENOTTY;
	return bad;
}

__attribute__((noinline)) static int second_site(int fd)
{
	int n;

	return ioctl(fd, FIONREAD, &n) != -1 || errno != ENOTTY;
}

int main(int argc, char **argv)
{
	int fd = argc == 2 ? open(argv[1], O_RDONLY) : -1;

	CHECK(fd >= 0, "open: %s", strerror(errno));
	CHECK(first_site(fd) == 0, "ioctl from the first site: -1/ENOTTY twice");
	CHECK(second_site(fd) == 0, "ioctl from the second site: -1/ENOTTY");
	close(fd);
	printf(failures ? "FAILED\n" : "all ok\n");
	return failures != 0;
}
