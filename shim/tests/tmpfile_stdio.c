/* tmpfile_stdio.c — tmpfile(3) and tmpfile64: an unnamed file in P_tmpdir,
 * written and read back through its stream. bats/shim_exec_tmpfile.bats runs
 * it locally and under the shim with the mount prefix /tmp (so that
 * P_tmpdir is DAFS), compares the lines and checks that no name is left.
 */
#include <stdio.h>
#include <sys/stat.h>

static int try(const char *what, FILE *f)
{
	char line[32] = "";
	struct stat st;

	if (!f) {
		printf("%s: %m\n", what);
		return 1;
	}
	if (fputs("hello\n", f) < 0 || fflush(f) < 0 || fstat(fileno(f), &st) < 0) {
		printf("%s: write: %m\n", what);
		return 1;
	}
	rewind(f);
	if (!fgets(line, sizeof(line), f))
		printf("%s: read: %m\n", what);
	printf("%s: read %s", what, line);
	printf("%s: size %lld nlink %lu mode %o\n", what, (long long)st.st_size,
	       (unsigned long)st.st_nlink, (unsigned)(st.st_mode & 07777));
	return fclose(f) != 0;
}

int main(void)
{
	return try("tmpfile", tmpfile()) | try("tmpfile64", tmpfile64());
}
