/* shmreap.c — client endpoints' /dev/shm names: parsing them, telling
 * whether their process is gone, removing them (the reasons are in
 * shmreap.h). */
#include "shmreap.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#define SHM_DIR "/dev/shm"
/* A process's start time comes in clock ticks (10 ms) from boot, and the
 * clocks it is compared across may have been stepped a little: a process
 * counts as started after a name only by more than this. */
#define START_SLACK_NS 1000000000ull

int dafs_shm_client_name_parse(const void *addr, size_t len, struct dafs_shm_client_name *out)
{
	static const char prefix[] = "fi_shm://";
	const char *p = addr;
	char buf[sizeof(out->name)];
	unsigned long long named;
	unsigned counter;
	int pid, used = 0;

	len = strnlen(p, len);
	if (len >= sizeof(prefix) - 1 && memcmp(p, prefix, sizeof(prefix) - 1) == 0) {
		p += sizeof(prefix) - 1;
		len -= sizeof(prefix) - 1;
	}
	if (len == 0 || len >= sizeof(buf))
		return -EINVAL;
	memcpy(buf, p, len);
	buf[len] = '\0';
	/* All of it, nothing else: a name that merely starts like ours (or
	 * has a path in it) is not one. */
	if (sscanf(buf, "dafs-%d-%llx-%u%n", &pid, &named, &counter, &used) != 3 ||
	    (size_t)used != len || pid <= 0 || strchr(buf, '/'))
		return -EINVAL;
	out->pid = pid;
	out->named_ns = named;
	memcpy(out->name, buf, len + 1);
	return 0;
}

static uint64_t clock_ns(clockid_t id)
{
	struct timespec t;

	clock_gettime(id, &t);
	return (uint64_t)t.tv_sec * 1000000000ull + (uint64_t)t.tv_nsec;
}

/* When the process with this pid started, in CLOCK_REALTIME ns; 0 when
 * there is no such process (or /proc does not say). */
static uint64_t process_start_ns(int pid)
{
	char path[64], line[1024], *p;
	unsigned long long ticks;
	long hz = sysconf(_SC_CLK_TCK);
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%d/stat", pid);
	f = fopen(path, "re");
	if (!f)
		return 0;
	p = fgets(line, sizeof(line), f);
	fclose(f);
	/* The command name may hold spaces and parentheses: fields count from
	 * the last ')'. starttime is field 22, the 20th after it. */
	if (!p || !(p = strrchr(line, ')')))
		return 0;
	for (int field = 0; field < 20 && p; field++)
		p = strchr(p + 1, ' ');
	if (!p || sscanf(p + 1, "%llu", &ticks) != 1 || hz <= 0)
		return 0;
	return clock_ns(CLOCK_REALTIME) - clock_ns(CLOCK_BOOTTIME) +
	       ticks * (1000000000ull / (unsigned long long)hz);
}

int dafs_shm_client_gone(const struct dafs_shm_client_name *n)
{
	uint64_t started;

	if (kill(n->pid, 0) < 0 && errno == ESRCH)
		return 1;
	started = process_start_ns(n->pid);
	if (started == 0)
		return 0;              /* alive, but /proc will not say when it began */
	return started > n->named_ns + START_SLACK_NS;
}

int dafs_shm_client_unlink(const struct dafs_shm_client_name *n)
{
	char path[sizeof(SHM_DIR) + sizeof(n->name) + 1];

	snprintf(path, sizeof(path), SHM_DIR "/%s", n->name);
	return unlink(path) == 0 ? 0 : -errno;
}

int dafs_shm_reap_stale(void)
{
	DIR *d = opendir(SHM_DIR);
	struct dirent *e;
	uid_t me = geteuid();
	int removed = 0;

	if (!d)
		return 0;
	while ((e = readdir(d))) {
		struct dafs_shm_client_name n;
		struct stat st;

		if (dafs_shm_client_name_parse(e->d_name, sizeof(e->d_name), &n) != 0)
			continue;
		/* Only our own: another user's process may be in a pid
		 * namespace whose pids mean nothing here. */
		if (fstatat(dirfd(d), e->d_name, &st, AT_SYMLINK_NOFOLLOW) != 0 ||
		    !S_ISREG(st.st_mode) || st.st_uid != me)
			continue;
		if (dafs_shm_client_gone(&n) && dafs_shm_client_unlink(&n) == 0)
			removed++;
	}
	closedir(d);
	return removed;
}
