/* test_shmreap.c — client endpoint names (shmreap.h): only whole
 * "dafs-PID-TIME-N" names parse, with or without the provider's prefix; a
 * name's process is gone when its pid is dead or belongs to a process that
 * started after the name was made; the reaper removes the names of gone
 * processes that belong to us and keeps everything else. */
#include <errno.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "check.h"
#include "shmreap.h"

static unsigned long long realtime_ns(void)
{
	struct timespec t;

	clock_gettime(CLOCK_REALTIME, &t);
	return (unsigned long long)t.tv_sec * 1000000000ull + (unsigned long long)t.tv_nsec;
}

static int parse(const char *s, struct dafs_shm_client_name *n)
{
	return dafs_shm_client_name_parse(s, strlen(s) + 1, n);
}

static pid_t dead_pid(void)
{
	pid_t pid = fork();

	if (pid == 0)
		_exit(0);
	waitpid(pid, NULL, 0);
	return pid;
}

static int make_file(const char *name)
{
	char path[128];
	FILE *f;

	snprintf(path, sizeof(path), "/dev/shm/%s", name);
	f = fopen(path, "w");
	if (!f)
		return -1;
	fclose(f);
	return 0;
}

static bool exists(const char *name)
{
	char path[128];

	snprintf(path, sizeof(path), "/dev/shm/%s", name);
	return access(path, F_OK) == 0;
}

int main(void)
{
	struct dafs_shm_client_name n;
	char name[64], dead[64], reused[64], mine[64];
	/* Named 10 s before this process started: long enough for the start
	 * time's slack, short enough that a start time read wrong (the boot
	 * time, say) is not also "after" it. */
	unsigned long long now = realtime_ns(), earlier = now - 10ull * 1000000000ull;

	setvbuf(stdout, NULL, _IOLBF, 0);
	CHECK_EQ(parse("dafs-123-18edc06858ee2447-7", &n), 0, "a client name parses");
	CHECK_EQ(n.pid, 123, "its pid");
	CHECK(n.named_ns == 0x18edc06858ee2447ull, "its time");
	CHECK(strcmp(n.name, "dafs-123-18edc06858ee2447-7") == 0, "its file name");
	CHECK_EQ(parse("fi_shm://dafs-123-ab-0", &n), 0, "with the provider's prefix");
	CHECK(strcmp(n.name, "dafs-123-ab-0") == 0, "the file name without the prefix");
	CHECK_EQ(parse("dafs-123-ab-0x", &n), -EINVAL, "trailing bytes");
	CHECK_EQ(parse("dafs-123-ab", &n), -EINVAL, "no counter");
	CHECK_EQ(parse("dafs--5-ab-0", &n), -EINVAL, "a negative pid");
	CHECK_EQ(parse("dafs-0-ab-0", &n), -EINVAL, "pid 0");
	CHECK_EQ(parse("dafs-1-ab-0/../x", &n), -EINVAL, "a path");
	CHECK_EQ(parse("myserver", &n), -EINVAL, "a server's name");
	CHECK_EQ(parse("", &n), -EINVAL, "empty");
	CHECK_EQ(dafs_shm_client_name_parse("dafs-1-ab-0", 6, &n), -EINVAL, "cut short by len");

	snprintf(name, sizeof(name), "dafs-%d-%llx-0", (int)getpid(), now);
	parse(name, &n);
	CHECK_EQ(dafs_shm_client_gone(&n), 0, "our own name: alive");
	snprintf(name, sizeof(name), "dafs-%d-%llx-0", (int)getpid(), earlier);
	parse(name, &n);
	CHECK_EQ(dafs_shm_client_gone(&n), 1, "our pid, named 10 s before we started: a reused pid");
	snprintf(name, sizeof(name), "dafs-%d-%llx-0", (int)dead_pid(), now);
	parse(name, &n);
	CHECK_EQ(dafs_shm_client_gone(&n), 1, "a dead pid");

	/* The reaper: a dead pid's and a reused pid's go, ours and what is
	 * not a client name stay. */
	snprintf(dead, sizeof(dead), "dafs-%d-%llx-0", (int)dead_pid(), now);
	snprintf(reused, sizeof(reused), "dafs-%d-%llx-1", (int)getpid(), earlier);
	snprintf(mine, sizeof(mine), "dafs-%d-%llx-2", (int)getpid(), now);
	CHECK(make_file(dead) == 0 && make_file(reused) == 0 && make_file(mine) == 0 &&
	      make_file("dafs-not-a-client") == 0, "fixture files in /dev/shm");
	CHECK(dafs_shm_reap_stale() >= 2, "the reaper removed at least the two stale names");
	CHECK(!exists(dead), "the dead pid's name is gone");
	CHECK(!exists(reused), "the reused pid's name is gone");
	CHECK(exists(mine), "a live owner's name stays");
	CHECK(exists("dafs-not-a-client"), "a name that is not a client's stays");
	parse(mine, &n);
	CHECK_EQ(dafs_shm_client_unlink(&n), 0, "unlink by name");
	CHECK_EQ(dafs_shm_client_unlink(&n), -ENOENT, "a second unlink: ENOENT");
	unlink("/dev/shm/dafs-not-a-client");
	return check_done();
}
