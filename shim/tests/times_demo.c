/* times_demo.c — which time stamps each operation moves, of the file and of
 * its directory, as a stat right after the operation shows them (while the
 * file is still open, so that a client's write-behind or caching would
 * show). Prints, per operation, the stamps that changed (a m c for the file,
 * A M C for the directory), naming no values and no paths, so that a run in
 * a local directory and one in a DAFS directory under the shim compare line
 * by line. Runs in the working directory, in a subdirectory "t" it makes.
 */
#include <dirent.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

static struct stat file_before, dir_before;
static const char *file_name = "t/f";

static int same(struct timespec a, struct timespec b)
{
	return a.tv_sec == b.tv_sec && a.tv_nsec == b.tv_nsec;
}

/* The clock the kernel stamps with is coarse: let it move between steps. */
static void tick(void)
{
	struct timespec ts = { 0, 30 * 1000 * 1000 };

	nanosleep(&ts, NULL);
}

static void snap(void)
{
	if (lstat(file_name, &file_before) < 0)
		memset(&file_before, 0, sizeof(file_before));
	if (stat("t", &dir_before) < 0)
		memset(&dir_before, 0, sizeof(dir_before));
	tick();
}

static void report(const char *op)
{
	struct stat f, d;
	int have_f = lstat(file_name, &f) == 0;

	stat("t", &d);
	printf("%-28s file %c%c%c dir %c%c%c\n", op,
	       have_f && !same(f.st_atim, file_before.st_atim) ? 'a' : '-',
	       have_f && !same(f.st_mtim, file_before.st_mtim) ? 'm' : '-',
	       have_f && !same(f.st_ctim, file_before.st_ctim) ? 'c' : '-',
	       !same(d.st_atim, dir_before.st_atim) ? 'A' : '-',
	       !same(d.st_mtim, dir_before.st_mtim) ? 'M' : '-',
	       !same(d.st_ctim, dir_before.st_ctim) ? 'C' : '-');
}

#define STEP(op, call)          \
	do {                    \
		snap();         \
		(void)(call);   \
		report(op);     \
	} while (0)

int main(void)
{
	struct timespec times[2] = { { 1000000000, 0 }, { 1000000000, 0 } };
	char buf[64];
	DIR *dir;
	int fd;

	if (mkdir("t", 0755) < 0)
		return 1;
	snap();
	fd = open(file_name, O_RDWR | O_CREAT | O_EXCL, 0644);
	report("create");
	STEP("write", write(fd, "0123456789", 10));
	STEP("pwrite past the end", pwrite(fd, "abc", 3, 100));
	STEP("ftruncate", ftruncate(fd, 50));
	STEP("fchmod", fchmod(fd, 0600));
	STEP("pread", pread(fd, buf, 10, 0));
	STEP("pread again", pread(fd, buf, 10, 0));
	STEP("pwrite over it", pwrite(fd, "xyz", 3, 2));
	STEP("pread after the write", pread(fd, buf, 10, 0));
	STEP("fsync", fsync(fd));
	STEP("close", close(fd));
	STEP("chmod", chmod(file_name, 0644));
	STEP("utimensat (set)", utimensat(AT_FDCWD, file_name, times, 0));
	STEP("utimensat (now)", utimensat(AT_FDCWD, file_name, NULL, 0));
	STEP("truncate", truncate(file_name, 5));
	STEP("open O_TRUNC", close(open(file_name, O_WRONLY | O_TRUNC)));
	STEP("open and read", (fd = open(file_name, O_RDONLY), read(fd, buf, 1), close(fd)));
	STEP("link", link(file_name, "t/g"));
	STEP("rename", rename("t/g", "t/h"));
	STEP("unlink the link", unlink("t/h"));
	STEP("mkdir", mkdir("t/sub", 0755));
	STEP("rmdir", rmdir("t/sub"));
	STEP("mkfifo", mkfifo("t/fifo", 0644));
	STEP("symlink", symlink("f", "t/sym"));
	STEP("readdir", (dir = opendir("t"), readdir(dir), closedir(dir)));
	STEP("rename over", rename("t/sym", "t/fifo"));
	STEP("unlink", unlink(file_name));
	return unlink("t/fifo") < 0;   /* a dangling symlink now: diff -r cannot follow it */
}
