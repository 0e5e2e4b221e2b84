/* preadloop — N pread calls of one byte on a local file, for the shim's
 * overhead benchmark (scripts/bench-shim-overhead): a program that never
 * touches the DAFS prefix, so under LD_PRELOAD=libdafsshim.so every call
 * pays only the shim's routing test.
 *
 *   preadloop FILE [N]     (N defaults to 1000000)
 */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

int main(int argc, char **argv)
{
	long n = argc > 2 ? strtol(argv[2], NULL, 10) : 1000000;
	int fd = argc > 1 ? open(argv[1], O_RDONLY) : -1;
	char c;

	if (fd < 0 || n <= 0) {
		fprintf(stderr, "usage: preadloop FILE [N]\n");
		return 2;
	}
	for (long i = 0; i < n; i++)
		if (pread(fd, &c, 1, i & 4095) != 1) {
			perror("pread");
			return 1;
		}
	close(fd);
	return 0;
}
