/* end_ways.c — processes that touch a DAFS file and end every way a process
 * ends, for bats/leave_nothing.bats.
 *
 *   end_ways PATH COUNT
 *
 * Reads PATH (the parent's first DAFS access), then forks COUNT children,
 * four at a time; child i reads PATH (its own session: fabric objects do not
 * survive fork) and ends by exit(0), _exit(0), SIGTERM or SIGKILL for
 * i % 4 = 0, 1, 2, 3, without closing anything. Prints each child's pid, one
 * a line, and exits 0 when every child read the file and ended as told,
 * else 1 with the reason on stderr. */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#define AT_ONCE 4

static int read_some(const char *path)
{
	char buf[64];
	int fd = open(path, O_RDONLY);

	if (fd < 0)
		return -errno;
	if (read(fd, buf, sizeof(buf)) < 0)
		return -errno;
	return fd;                     /* left open: the ending must clean up */
}

static void child(const char *path, int way)
{
	if (read_some(path) < 0)
		_exit(3);
	switch (way) {
	case 0: exit(0);
	case 1: _exit(0);
	case 2: raise(SIGTERM); break;
	default: raise(SIGKILL); break;
	}
	_exit(4);                      /* the signal did not end it */
}

/* Whether a child of `way` ended the way it was told to. */
static int ended_as_told(int status, int way)
{
	switch (way) {
	case 0:
	case 1: return WIFEXITED(status) && WEXITSTATUS(status) == 0;
	case 2: return WIFSIGNALED(status) && WTERMSIG(status) == SIGTERM;
	default: return WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL;
	}
}

int main(int argc, char **argv)
{
	pid_t pids[AT_ONCE];
	int count, failed = 0;

	if (argc != 3 || (count = atoi(argv[2])) <= 0) {
		fprintf(stderr, "usage: end_ways PATH COUNT\n");
		return 2;
	}
	if (read_some(argv[1]) < 0) {
		fprintf(stderr, "end_ways: %s: %s\n", argv[1], strerror(errno));
		return 1;
	}
	for (int first = 0; first < count; first += AT_ONCE) {
		int n = count - first < AT_ONCE ? count - first : AT_ONCE;

		fflush(stdout);
		for (int k = 0; k < n; k++) {
			pids[k] = fork();
			if (pids[k] < 0) {
				perror("end_ways: fork");
				return 1;
			}
			if (pids[k] == 0)
				child(argv[1], (first + k) % 4);
			printf("%d\n", (int)pids[k]);
		}
		for (int k = 0; k < n; k++) {
			int status;

			if (waitpid(pids[k], &status, 0) < 0 || !ended_as_told(status, (first + k) % 4)) {
				fprintf(stderr, "end_ways: child %d (way %d) ended with status %#x\n",
					(int)pids[k], (first + k) % 4, status);
				failed = 1;
			}
		}
	}
	return failed;
}
