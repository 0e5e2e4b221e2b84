/* mmap_close.c — stores through a MAP_SHARED mapping of a DAFS file reach
 * the file when the last descriptor of its open file description closes,
 * while the mapping lives on (as on Linux, where a mapping outlives close).
 *
 *   mmap_close FILE CHECKCMD...
 *
 * Maps FILE (at least one page), stores "STORE-1" at 0 and closes a dup'ed
 * descriptor (the description stays open), then stores "STORE-2" at 100 and
 * closes the last descriptor, then runs CHECKCMD (another process, which
 * opens the file and shows it) before the mapping is unmapped or the program
 * exits. Then a store after close still reaches the file at munmap.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

#include "demo_check.h"

static void run(char **cmd)
{
	pid_t pid;
	int st;

	fflush(stdout);
	pid = fork();
	if (pid == 0) {
		execvp(cmd[0], cmd);
		_exit(127);
	}
	CHECK(pid > 0 && waitpid(pid, &st, 0) == pid && WIFEXITED(st) && WEXITSTATUS(st) == 0,
	      "%s ran", cmd[0]);
}

int main(int argc, char **argv)
{
	int fd = argc >= 3 ? open(argv[1], O_RDWR) : -1, fd2;
	long ps = sysconf(_SC_PAGESIZE);
	char *p;

	CHECK(fd >= 0, "open: %s", strerror(errno));
	if (fd < 0)
		return 1;
	p = mmap(NULL, (size_t)ps, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	CHECK(p != MAP_FAILED, "mmap: %s", strerror(errno));
	if (p == MAP_FAILED)
		return 1;
	fd2 = dup(fd);
	memcpy(p, "STORE-1", 7);
	close(fd2);
	memcpy(p + 100, "STORE-2", 7);
	close(fd);
	printf("closed\n");
	run(argv + 2);
	memcpy(p + 200, "STORE-3", 7);
	CHECK(munmap(p, (size_t)ps) == 0, "munmap");
	printf(failures ? "FAILED\n" : "all ok\n");
	return failures != 0;
}
