/* umask_modes — creates files and directories in the working directory
 * while changing its umask, and prints each one's mode: run once on a local
 * directory and once on /dafs under the shim (bats/shim_umask.bats), the
 * two outputs must be equal. The first create runs with the umask the
 * program was started with (the shim has not seen umask() called yet); the
 * later ones after umask() changed it, from this thread, from another
 * thread, and in a forked child, through every create path the shim has:
 * open, open64, openat, creat, fopen, freopen, mkdir and mkdirat.
 */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "demo_check.h"

static void show(const char *name)
{
	struct stat st;

	CHECK(stat(name, &st) == 0, "stat %s: %s", name, strerror(errno));
	printf("%s %04o\n", name, (unsigned)(st.st_mode & 07777));
}

static void create_file(const char *name, mode_t mode)
{
	int fd = open(name, O_WRONLY | O_CREAT | O_EXCL, mode);

	CHECK(fd >= 0, "open %s: %s", name, strerror(errno));
	if (fd >= 0)
		close(fd);
	show(name);
}

static void make_dir(const char *name, mode_t mode)
{
	CHECK(mkdir(name, mode) == 0, "mkdir %s: %s", name, strerror(errno));
	show(name);
}

static void set_umask(mode_t mask)
{
	mode_t old = umask(mask);

	printf("umask %04o (was %04o)\n", (unsigned)mask, (unsigned)old);
}

/* Every create path once, under the current umask. */
static void create_every_way(const char *tag)
{
	char name[64];
	int fd;
	FILE *f;

	snprintf(name, sizeof(name), "open-%s", tag);
	create_file(name, 0666);
	snprintf(name, sizeof(name), "open64-%s", tag);
	fd = open64(name, O_WRONLY | O_CREAT | O_TRUNC, 0666);
	CHECK(fd >= 0, "open64 %s: %s", name, strerror(errno));
	close(fd);
	show(name);
	snprintf(name, sizeof(name), "openat-%s", tag);
	fd = openat(AT_FDCWD, name, O_RDWR | O_CREAT, 0777);
	CHECK(fd >= 0, "openat %s: %s", name, strerror(errno));
	close(fd);
	show(name);
	snprintf(name, sizeof(name), "creat-%s", tag);
	fd = creat(name, 0640);
	CHECK(fd >= 0, "creat %s: %s", name, strerror(errno));
	close(fd);
	show(name);
	snprintf(name, sizeof(name), "fopen-%s", tag);
	f = fopen(name, "w");
	CHECK(f != NULL, "fopen %s: %s", name, strerror(errno));
	if (f)
		fclose(f);
	show(name);
	snprintf(name, sizeof(name), "freopen-%s", tag);
	f = freopen(name, "a", stdin);
	CHECK(f != NULL, "freopen %s: %s", name, strerror(errno));
	show(name);
	snprintf(name, sizeof(name), "mkdir-%s", tag);
	make_dir(name, 0777);
	snprintf(name, sizeof(name), "mkdirat-%s", tag);
	CHECK(mkdirat(AT_FDCWD, name, 0751) == 0, "mkdirat %s: %s", name, strerror(errno));
	show(name);
}

static void *set_umask_066(void *unused __attribute__((unused)))
{
	set_umask(066);
	return NULL;
}

int main(void)
{
	/* The first access: the umask the program started with. */
	create_file("first", 0666);
	make_dir("first-dir", 0777);

	set_umask(077);
	create_every_way("077");
	set_umask(0);
	create_every_way("000");
	create_file("exact-0754", 0754);
	/* Less restrictive again after a restrictive one. */
	set_umask(027);
	create_every_way("027");

	/* Set by another thread: the umask belongs to the process. */
	pthread_t t;
	CHECK(pthread_create(&t, NULL, set_umask_066, NULL) == 0, "pthread_create");
	pthread_join(t, NULL);
	create_file("after-thread", 0666);

	/* A forked child inherits the umask and changes its own only. */
	fflush(stdout);
	pid_t pid = fork();
	if (pid == 0) {
		create_file("child-inherited", 0666);
		set_umask(002);
		create_file("child-002", 0666);
		fflush(stdout);
		_exit(failures ? 1 : 0);
	}
	int status;
	CHECK(pid > 0 && waitpid(pid, &status, 0) == pid && WIFEXITED(status) &&
	      WEXITSTATUS(status) == 0, "child failed");
	create_file("parent-after-child", 0666);

	if (failures) {
		printf("%d failed\n", failures);
		return 1;
	}
	printf("all ok\n");
	return 0;
}
