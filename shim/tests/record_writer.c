/* record_writer.c — what bats/shim_programs.bats kills with SIGKILL to see
 * that writes that returned survive: writes 4 KiB records to FILE for ever.
 *
 *   record_writer FILE
 */
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
/* Record i is filled with byte i % 251; the running total is printed after
 * each write that returned. */
int main(int argc, char **argv)
{
	char buf[4096];
	long total = 0;
	int fd = open(argv[1], O_WRONLY | O_CREAT | O_TRUNC, 0644);

	if (fd < 0) { perror(argv[1]); return 1; }
	setvbuf(stdout, NULL, _IONBF, 0);
	for (unsigned i = 0;; i++) {
		memset(buf, (int)(i % 251), sizeof buf);
		ssize_t w = write(fd, buf, sizeof buf);
		if (w != (ssize_t)sizeof buf) { perror("write"); return 1; }
		total += w;
		printf("%ld\n", total);
	}
}
