/* tmpfile_unlink.c — unnamed files and files removed while open, in the
 * directory given as argv[1]: prints what each step saw, so that
 * bats/shim_exec_tmpfile.bats can compare a run on /dafs with a run on a
 * local directory line for line.
 *
 *   tmpfile_unlink DIR tmpfile   O_TMPFILE, then linkat by AT_EMPTY_PATH and
 *                                by /proc/self/fd; O_EXCL; O_RDONLY
 *   tmpfile_unlink DIR unlinked  unlink while open: this process, and another
 *                                program (own session) removing it or holding it
 *   tmpfile_unlink DIR forked    unlink while open, then a forked child uses it
 *   tmpfile_unlink DIR hold F    (helper) opens F, says so, waits for a line
 *                                on stdin, then reads, writes and fstats it
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

static char dir[4096];

static const char *in_dir(const char *name)
{
	static char buf[2][4200];
	static int i;

	i ^= 1;
	snprintf(buf[i], sizeof(buf[i]), "%s/%s", dir, name);
	return buf[i];
}

static void said(const char *what, long rc)
{
	if (rc < 0)
		printf("%s: %s\n", what, strerrorname_np(errno));
	else
		printf("%s: %ld\n", what, rc);
	fflush(stdout);
}

/* size, link count and contents through fd */
static void show(const char *what, int fd)
{
	struct stat st;
	char buf[256];
	ssize_t n;

	if (fstat(fd, &st) < 0) {
		said(what, -1);
		return;
	}
	n = pread(fd, buf, sizeof(buf) - 1, 0);
	buf[n > 0 ? n : 0] = '\0';
	printf("%s: size %lld nlink %lu mode %o data '%s'\n", what, (long long)st.st_size,
	       (unsigned long)st.st_nlink, st.st_mode & 07777, buf);
	fflush(stdout);
}

static void show_path(const char *what, const char *name)
{
	int fd = open(in_dir(name), O_RDONLY);

	if (fd < 0) {
		said(what, -1);
		return;
	}
	show(what, fd);
	close(fd);
}

static int tmpfile_cases(void)
{
	char proc[64];
	int fd;

	umask(022);
	fd = open(dir, O_TMPFILE | O_RDWR, 0640);
	said("tmpfile open", fd < 0 ? -1 : 0);
	if (fd < 0)
		return 1;
	said("write", write(fd, "unnamed", 7));
	show("tmpfile", fd);
	said("linkat AT_EMPTY_PATH", linkat(fd, "", AT_FDCWD, in_dir("named1"), AT_EMPTY_PATH));
	show("tmpfile after link", fd);
	said("write after link", pwrite(fd, "!", 1, 7));
	show_path("named1", "named1");
	said("linkat over an existing name",
	     linkat(fd, "", AT_FDCWD, in_dir("named1"), AT_EMPTY_PATH));
	close(fd);

	fd = open(dir, O_TMPFILE | O_WRONLY, 0600);
	said("write", write(fd, "second", 6));
	snprintf(proc, sizeof(proc), "/proc/self/fd/%d", fd);
	said("linkat /proc/self/fd", linkat(AT_FDCWD, proc, AT_FDCWD, in_dir("named2"),
					    AT_SYMLINK_FOLLOW));
	show_path("named2", "named2");
	said("unlink named2", unlink(in_dir("named2")));
	said("linkat again after unlink", linkat(AT_FDCWD, proc, AT_FDCWD, in_dir("named3"),
						 AT_SYMLINK_FOLLOW));
	close(fd);

	fd = open(dir, O_TMPFILE | O_RDWR | O_EXCL, 0600);
	said("O_EXCL write", write(fd, "x", 1));
	said("O_EXCL linkat", linkat(fd, "", AT_FDCWD, in_dir("never"), AT_EMPTY_PATH));
	close(fd);

	said("O_TMPFILE|O_RDONLY", open(dir, O_TMPFILE | O_RDONLY, 0600));
	said("O_TMPFILE|O_CREAT", open(dir, O_TMPFILE | O_CREAT | O_RDWR, 0600));
	said("O_TMPFILE on a file", open(in_dir("named1"), O_TMPFILE | O_RDWR, 0600));
	said("O_TMPFILE in no directory", open(in_dir("nodir"), O_TMPFILE | O_RDWR, 0600));
	return 0;
}

/* Runs this program again (a program of its own: its own session on
 * DAFS) as `hold F`, connected by two pipes. */
static pid_t start_holder(const char *self, const char *name, int *to, int *from)
{
	int in[2], out[2];
	pid_t pid;

	if (pipe(in) < 0 || pipe(out) < 0)
		return -1;
	pid = fork();
	if (pid == 0) {
		dup2(in[0], 0);
		dup2(out[1], 1);
		close(in[1]);
		close(out[0]);
		execl(self, self, dir, "hold", in_dir(name), (char *)NULL);
		_exit(127);
	}
	close(in[0]);
	close(out[1]);
	*to = in[1];
	*from = out[0];
	return pid;
}

/* Copies the holder's lines until it ends. */
static void finish_holder(pid_t pid, int to, int from)
{
	char buf[1024];
	ssize_t n;
	int status;

	said("tell holder", write(to, "go\n", 3) == 3 ? 0 : -1);
	close(to);
	while ((n = read(from, buf, sizeof(buf))) > 0)
		fwrite(buf, 1, (size_t)n, stdout);
	close(from);
	waitpid(pid, &status, 0);
	printf("holder status %d\n", WIFEXITED(status) ? WEXITSTATUS(status) : -1);
	fflush(stdout);
}

/* A forked child shares the descriptor of a removed file. */
static int forked_case(void)
{
	int fd = open(in_dir("forked"), O_CREAT | O_RDWR | O_TRUNC, 0644), status;
	pid_t pid;

	said("write", write(fd, "parent", 6));
	said("unlink", unlink(in_dir("forked")));
	pid = fork();
	if (pid == 0) {
		show("child", fd);
		said("child write", pwrite(fd, "+child", 6, 6));
		_exit(0);
	}
	waitpid(pid, &status, 0);
	show("parent after child", fd);
	return close(fd) < 0;
}

static int unlinked_cases(const char *self)
{
	int fd, to = -1, from = -1;
	char line[64];
	pid_t pid;
	FILE *f;

	/* This process removes a file it has open. */
	fd = open(in_dir("gone"), O_CREAT | O_RDWR | O_TRUNC, 0644);
	said("write", write(fd, "before", 6));
	said("unlink", unlink(in_dir("gone")));
	said("stat after unlink", access(in_dir("gone"), F_OK));
	said("write after unlink", write(fd, "+after", 6));
	show("open after unlink", fd);

	close(fd);

	/* Another program removes a file this one has open. */
	fd = open(in_dir("theirs"), O_CREAT | O_RDWR | O_TRUNC, 0644);
	said("write", write(fd, "mine", 4));
	snprintf(line, sizeof(line), "rm %s", in_dir("theirs"));
	said("other program removes it", system(line));
	said("write after their unlink", write(fd, "+still", 6));
	show("open after their unlink", fd);
	close(fd);

	/* Another program holds a file this one removes. */
	fd = open(in_dir("held"), O_CREAT | O_WRONLY | O_TRUNC, 0644);
	said("write", write(fd, "held", 4));
	close(fd);
	pid = start_holder(self, "held", &to, &from);
	f = fdopen(dup(from), "r");
	if (!f || !fgets(line, sizeof(line), f))
		line[0] = '\0';
	printf("holder said: %s", line);
	said("unlink held", unlink(in_dir("held")));
	fclose(f);
	finish_holder(pid, to, from);
	said("held is gone", access(in_dir("held"), F_OK));
	return 0;
}

static int hold(const char *path)
{
	char line[16];
	int fd = open(path, O_RDWR);

	printf("%s\n", fd < 0 ? "cannot open" : "opened");
	fflush(stdout);
	if (!fgets(line, sizeof(line), stdin))
		return 1;
	show("holder before write", fd);
	said("holder write", pwrite(fd, "+held on", 8, 4));
	show("holder after write", fd);
	return close(fd) < 0;
}

int main(int argc, char **argv)
{
	if (argc < 3) {
		fprintf(stderr, "usage: %s DIR tmpfile|unlinked|forked|hold FILE\n", argv[0]);
		return 2;
	}
	snprintf(dir, sizeof(dir), "%s", argv[1]);
	if (strcmp(argv[2], "tmpfile") == 0)
		return tmpfile_cases();
	if (strcmp(argv[2], "unlinked") == 0)
		return unlinked_cases(argv[0]);
	if (strcmp(argv[2], "forked") == 0)
		return forked_case();
	if (strcmp(argv[2], "hold") == 0 && argc == 4)
		return hold(argv[3]);
	return 2;
}
