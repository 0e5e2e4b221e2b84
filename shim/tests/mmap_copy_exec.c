/* mmap_copy_exec.c — drives the shim's mmap, copy and exec families
 * (wrap_mmap.c, wrap_copy.c, wrap_exec.c) for bats/shim_more.bats:
 *
 *   mmap_copy_exec mmap FILE          MAP_PRIVATE and MAP_SHARED on FILE
 *   mmap_copy_exec copy DAFSDIR LOCALDIR
 *                                     copy_file_range, sendfile, splice
 *   mmap_copy_exec envexec HOW FILE   exec with an emptied environment
 *   mmap_copy_exec spawn FILE         posix_spawn children, inherited fd
 *   mmap_copy_exec system FILE        system() and popen() after clearenv()
 *
 * Exits 1 at the first failed check (naming it), 0 when all went well. */
#include <errno.h>
#include <fcntl.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/sendfile.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

extern char **environ;

#define CHECK(c) do { if (!(c)) { fprintf(stderr, "%s:%d: %s failed: %s\n", __FILE__, __LINE__, #c, strerror(errno)); exit(1); } } while (0)

static void expect(long got, long want, const char *what)
{
	if (got != want) {
		fprintf(stderr, "%s: got %ld, want %ld (%s)\n", what, got, want, strerror(errno));
		exit(1);
	}
}

static char *slurp(const char *path, size_t *len)
{
	int fd = open(path, O_RDONLY);
	struct stat st;
	CHECK(fd >= 0 && fstat(fd, &st) == 0);
	char *b = malloc((size_t)st.st_size + 1);
	size_t got = 0;
	while (got < (size_t)st.st_size) {
		ssize_t r = read(fd, b + got, (size_t)st.st_size - got);
		CHECK(r > 0);
		got += (size_t)r;
	}
	close(fd);
	*len = got;
	return b;
}

/* mmap FILE (a DAFS file of >= 3 pages) */
static int t_mmap(const char *path)
{
	size_t len, len2;
	char *orig = slurp(path, &len), *p, *now;
	long ps = sysconf(_SC_PAGESIZE);
	int fd = open(path, O_RDWR);
	CHECK(fd >= 0 && len > (size_t)ps * 2);

	/* private, read-only: the file's bytes */
	p = mmap(NULL, len, PROT_READ, MAP_PRIVATE, fd, 0);
	CHECK(p != MAP_FAILED);
	CHECK(memcmp(p, orig, len) == 0);
	CHECK(munmap(p, len) == 0);
	/* private, writable, at an offset: changes stay private */
	p = mmap(NULL, len - (size_t)ps, PROT_READ | PROT_WRITE, MAP_PRIVATE, fd, ps);
	CHECK(p != MAP_FAILED);
	CHECK(memcmp(p, orig + ps, len - (size_t)ps) == 0);
	memset(p, 'P', 100);
	CHECK(munmap(p, len - (size_t)ps) == 0);
	now = slurp(path, &len2);
	CHECK(len2 == len && memcmp(now, orig, len) == 0);
	free(now);
	/* shared: msync writes, munmap writes */
	p = mmap64(NULL, len, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	CHECK(p != MAP_FAILED);
	memcpy(p + 10, "SHARED-1", 8);
	memcpy(orig + 10, "SHARED-1", 8);
	CHECK(msync(p, len, MS_SYNC) == 0);
	now = slurp(path, &len2);
	CHECK(len2 == len && memcmp(now, orig, len) == 0);
	free(now);
	memcpy(p + 2 * ps + 1, "SHARED-2", 8);
	memcpy(orig + 2 * ps + 1, "SHARED-2", 8);
	CHECK(munmap(p, len) == 0);
	now = slurp(path, &len2);
	CHECK(len2 == len && memcmp(now, orig, len) == 0);
	free(now);
	/* errors: unaligned offset, shared writable on a read-only descriptor */
	CHECK(mmap(NULL, 10, PROT_READ, MAP_PRIVATE, fd, 1) == MAP_FAILED && errno == EINVAL);
	int ro = open(path, O_RDONLY);
	CHECK(mmap(NULL, 10, PROT_READ | PROT_WRITE, MAP_SHARED, ro, 0) == MAP_FAILED && errno == EACCES);
	/* shared, the descriptor closed, left mapped at exit: written then */
	p = mmap(NULL, (size_t)ps, PROT_READ | PROT_WRITE, MAP_SHARED, ro == -1 ? fd : fd, ps);
	CHECK(p != MAP_FAILED);
	close(fd);
	close(ro);
	memcpy(p, "AT-EXIT", 7);
	/* a local file still maps as usual */
	char tmpl[] = "/tmp/shimtest.XXXXXX";
	int lf = mkstemp(tmpl);
	CHECK(lf >= 0 && write(lf, "local", 5) == 5);
	char *lp = mmap(NULL, 5, PROT_READ, MAP_SHARED, lf, 0);
	CHECK(lp != MAP_FAILED && memcmp(lp, "local", 5) == 0);
	munmap(lp, 5);
	close(lf);
	unlink(tmpl);
	printf("mmap ok\n");
	return 0;
}

/* copy DAFSDIR LOCALDIR: both hold "src" (the same bytes) */
static int t_copy(const char *ddir, const char *ldir)
{
	char dsrc[4096], lsrc[4096], d1[4096], l1[4096], d2[4096];
	size_t len, n;
	snprintf(dsrc, sizeof dsrc, "%s/src", ddir);
	snprintf(lsrc, sizeof lsrc, "%s/src", ldir);
	snprintf(d1, sizeof d1, "%s/cfr", ddir);
	snprintf(l1, sizeof l1, "%s/cfr", ldir);
	snprintf(d2, sizeof d2, "%s/cfr2", ddir);
	char *orig = slurp(lsrc, &len), *b;
	int in, out, out2;
	off64_t io, oo;

	/* DAFS -> local, NULL offsets, in chunks the caller asks for */
	CHECK((in = open(dsrc, O_RDONLY)) >= 0);
	CHECK((out = open(l1, O_WRONLY | O_CREAT | O_TRUNC, 0644)) >= 0);
	expect(copy_file_range(in, NULL, out, NULL, 1000, 0), 1000, "cfr first");
	expect(lseek(in, 0, SEEK_CUR), 1000, "in offset");
	expect(lseek(out, 0, SEEK_CUR), 1000, "out offset");
	expect(copy_file_range(in, NULL, out, NULL, len * 2, 0), (long)len - 1000, "cfr rest");
	expect(copy_file_range(in, NULL, out, NULL, 100, 0), 0, "cfr eof");
	close(in); close(out);
	b = slurp(l1, &n);
	CHECK(n == len && memcmp(b, orig, len) == 0);
	free(b);
	/* local -> DAFS with offset pointers: the descriptors' offsets stay */
	CHECK((in = open(lsrc, O_RDONLY)) >= 0);
	CHECK((out = open(d1, O_RDWR | O_CREAT | O_TRUNC, 0644)) >= 0);
	io = 5; oo = 0;
	expect(copy_file_range(in, &io, out, &oo, len, 0), (long)len - 5, "cfr offsets");
	expect(io, (long)len, "*inoff");
	expect(oo, (long)len - 5, "*outoff");
	expect(lseek(in, 0, SEEK_CUR), 0, "in offset kept");
	expect(lseek(out, 0, SEEK_CUR), 0, "out offset kept");
	close(in); close(out);
	b = slurp(d1, &n);
	CHECK(n == len - 5 && memcmp(b, orig + 5, n) == 0);
	free(b);
	/* DAFS -> DAFS; bad flags; O_APPEND output */
	CHECK((in = open(dsrc, O_RDONLY)) >= 0);
	CHECK((out = open(d2, O_WRONLY | O_CREAT | O_TRUNC, 0644)) >= 0);
	expect(copy_file_range(in, NULL, out, NULL, 10, 1), -1, "cfr flags");
	CHECK(errno == EINVAL);
	expect(copy_file_range(in, NULL, out, NULL, len, 0), (long)len, "cfr dafs->dafs");
	close(out);
	CHECK((out = open(d2, O_WRONLY | O_APPEND)) >= 0);
	expect(copy_file_range(in, NULL, out, NULL, 10, 0), -1, "cfr append");
	CHECK(errno == EBADF);
	close(out);
	b = slurp(d2, &n);
	CHECK(n == len && memcmp(b, orig, len) == 0);
	free(b);

	/* sendfile DAFS -> socket (a stream) with and without an offset */
	int sv[2];
	CHECK(socketpair(AF_UNIX, SOCK_STREAM, 0, sv) == 0);
	off_t so = 7;
	expect(sendfile(sv[0], in, &so, 50), 50, "sendfile offset");
	expect(so, 57, "sendfile *off");
	expect(lseek(in, 0, SEEK_SET), 0, "rewind");
	expect(sendfile64(sv[0], in, NULL, 60), 60, "sendfile NULL");
	expect(lseek(in, 0, SEEK_CUR), 60, "sendfile moved offset");
	char sb[200];
	ssize_t got = 0;
	while (got < 110) {
		ssize_t r = read(sv[1], sb + got, sizeof(sb) - (size_t)got);
		CHECK(r > 0);
		got += r;
	}
	CHECK(got == 110 && memcmp(sb, orig + 7, 50) == 0 && memcmp(sb + 50, orig, 60) == 0);
	close(sv[0]); close(sv[1]);
	/* sendfile local -> DAFS */
	int lin;
	CHECK((lin = open(lsrc, O_RDONLY)) >= 0);
	CHECK((out = open(d2, O_WRONLY | O_TRUNC)) >= 0);
	expect(sendfile(out, lin, NULL, len + 10), (long)len, "sendfile into dafs");
	close(out); close(lin);
	b = slurp(d2, &n);
	CHECK(n == len && memcmp(b, orig, len) == 0);
	free(b);

	/* splice DAFS -> pipe -> DAFS, one thread: never more than the pipe holds */
	int pfd[2];
	CHECK(pipe(pfd) == 0);
	CHECK((out2 = open(d2, O_WRONLY | O_TRUNC)) >= 0);
	io = 0;
	size_t moved = 0;
	while (moved < len) {
		ssize_t a = splice(in, &io, pfd[1], NULL, len - moved, 0);
		CHECK(a > 0);
		ssize_t bsp = 0;
		while (bsp < a) {
			ssize_t r = splice(pfd[0], NULL, out2, NULL, (size_t)(a - bsp), 0);
			CHECK(r > 0);
			bsp += r;
		}
		moved += (size_t)a;
	}
	expect(io, (long)len, "splice *inoff");
	expect(splice(in, &io, pfd[1], NULL, 10, 0), 0, "splice eof");
	/* no pipe on either side */
	expect(splice(in, NULL, out2, NULL, 10, 0), -1, "splice no pipe");
	CHECK(errno == EINVAL);
	close(out2); close(in); close(pfd[0]); close(pfd[1]);
	b = slurp(d2, &n);
	CHECK(n == len && memcmp(b, orig, len) == 0);
	free(b);
	printf("copy ok\n");
	return 0;
}

/* envexec FILE: exec cat FILE with an empty environment, by execve and execle */
static int t_envexec(const char *how, const char *path)
{
	char *const argv[] = { "cat", (char *)path, NULL };
	char *const empty[] = { NULL };
	if (strcmp(how, "execve") == 0)
		execve("/bin/cat", argv, empty);
	else if (strcmp(how, "execle") == 0)
		execle("/bin/cat", "cat", path, (char *)NULL, empty);
	else if (strcmp(how, "clearenv-execlp") == 0) {
		clearenv();
		execlp("cat", "cat", path, (char *)NULL);
	} else if (strcmp(how, "clearenv-execvp") == 0) {
		clearenv();
		setenv("PATH", "/usr/bin:/bin", 1);
		execvp("cat", argv);
	}
	perror(how);
	return 127;
}

/* spawn FILE: posix_spawn children reading an inherited DAFS descriptor */
static int t_spawn(const char *path)
{
	int fd = open(path, O_RDONLY), st;
	pid_t pid;
	char cmd[64];
	CHECK(fd >= 0);
	/* the descriptor as stdin through a file action */
	posix_spawn_file_actions_t fa;
	posix_spawn_file_actions_init(&fa);
	posix_spawn_file_actions_adddup2(&fa, fd, 0);
	char *const a1[] = { "head", "-c", "5", NULL };
	CHECK(posix_spawnp(&pid, "head", &fa, NULL, a1, environ) == 0);
	CHECK(waitpid(pid, &st, 0) == pid && WIFEXITED(st) && WEXITSTATUS(st) == 0);
	posix_spawn_file_actions_destroy(&fa);
	printf("|\n");
	fflush(stdout);
	/* inherited by number, read from where the first child left the offset */
	snprintf(cmd, sizeof cmd, "head -c 5 <&%d", fd);
	char *const a2[] = { "sh", "-c", cmd, NULL };
	char *const empty[] = { NULL };
	CHECK(posix_spawn(&pid, "/bin/sh", NULL, NULL, a2, empty) == 0);
	CHECK(waitpid(pid, &st, 0) == pid && WIFEXITED(st) && WEXITSTATUS(st) == 0);
	printf("|\n");
	return 0;
}

/* system FILE: system() and popen() children, after clearenv() */
static int t_system(const char *path)
{
	char cmd[4200], buf[256];
	int fd = open(path, O_RDONLY);
	CHECK(fd >= 0);
	clearenv();
	setenv("PATH", "/usr/bin:/bin", 1);
	snprintf(cmd, sizeof cmd, "cat %s", path);
	fflush(stdout);
	CHECK(system(cmd) == 0);
	snprintf(cmd, sizeof cmd, "head -c 3 <&%d", fd);
	fflush(stdout);
	CHECK(system(cmd) == 0);
	printf("|\n");
	snprintf(cmd, sizeof cmd, "cat %s", path);
	FILE *p = popen(cmd, "r");
	CHECK(p);
	size_t n = fread(buf, 1, sizeof(buf) - 1, p);
	buf[n] = 0;
	CHECK(pclose(p) == 0);
	printf("popen: %s", buf);
	return 0;
}

int main(int argc, char **argv)
{
	setvbuf(stdout, NULL, _IONBF, 0);
	if (argc == 3 && !strcmp(argv[1], "mmap")) return t_mmap(argv[2]);
	if (argc == 4 && !strcmp(argv[1], "copy")) return t_copy(argv[2], argv[3]);
	if (argc == 4 && !strcmp(argv[1], "envexec")) return t_envexec(argv[2], argv[3]);
	if (argc == 3 && !strcmp(argv[1], "spawn")) return t_spawn(argv[2]);
	if (argc == 3 && !strcmp(argv[1], "system")) return t_system(argv[2]);
	fprintf(stderr, "usage\n");
	return 2;
}
