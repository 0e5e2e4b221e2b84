/* export.c — path confinement beneath the exported directory. Owns the only
 * code that turns a network path into an fd: everything goes through
 * openat2(2) with RESOLVE_BENEATH | RESOLVE_NO_MAGICLINKS, so the kernel, not
 * string checks here, decides what is beneath the export (string checks
 * cannot see symlinks or renames that happen during the walk).
 */
#include "export.h"
#include "proto.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/openat2.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

/* openat2 with RESOLVE_BENEATH returns EAGAIN when a rename or mount changed
 * the tree while it walked `..`; it is always safe to try again, but a tree
 * that never stops changing must not keep a worker spinning forever. */
#define EXPORT_EAGAIN_RETRIES 64

static int beneath_one(int dirfd, const char *rel, int flags, mode_t mode)
{
	struct open_how how;
	memset(&how, 0, sizeof(how));
	how.flags = (uint64_t)(unsigned)(flags | O_CLOEXEC);
	/* openat2, unlike open, insists on mode 0 without O_CREAT/O_TMPFILE
	 * and on no bits beyond 07777 with them. */
	if ((flags & O_CREAT) || (flags & O_TMPFILE) == O_TMPFILE)
		how.mode = mode & 07777;
	how.resolve = RESOLVE_BENEATH | RESOLVE_NO_MAGICLINKS;

	for (int i = 0; i < EXPORT_EAGAIN_RETRIES; i++) {
		long fd = syscall(SYS_openat2, dirfd, rel, &how, sizeof(how));
		if (fd >= 0)
			return (int)fd;
		int err = errno;
		if (err == EAGAIN || err == EINTR)
			continue;
		/* EXDEV is how openat2 reports "would leave dirfd"; we never
		 * pass RESOLVE_NO_XDEV, so it has no other meaning here. */
		return err == EXDEV ? -EACCES : -err;
	}
	return -EAGAIN;
}

/* A client path may be longer than the PATH_MAX one openat2 takes: the shim
 * sends a path relative to a deep working directory joined onto it, and the
 * kernel's limit is per argument, not per file. Such a path is walked in
 * pieces of whole components, each beneath the directory the previous one
 * reached, so confinement holds at every step. The price: `..` or a symlink
 * in a later piece cannot climb above the directory where that piece starts
 * (EACCES as for an escape); the shim's paths carry no `..` (it resolves
 * them lexically). */
static int beneath(int dirfd, const char *rel, int flags, mode_t mode)
{
	char piece[PATH_MAX];
	const char *cut;
	int mid, fd;

	if (strlen(rel) < PATH_MAX)
		return beneath_one(dirfd, rel, flags, mode);
	cut = rel + PATH_MAX - 1;
	while (cut > rel && *cut != '/')
		cut--;
	if (cut == rel)
		return -ENAMETOOLONG;   /* start_of bounds components: cannot happen */
	memcpy(piece, rel, (size_t)(cut - rel));
	piece[cut - rel] = '\0';
	mid = beneath_one(dirfd, piece, O_PATH | O_DIRECTORY, 0);
	if (mid < 0)
		return mid;
	while (*cut == '/')
		cut++;
	fd = beneath(mid, *cut ? cut : ".", flags, mode);
	close(mid);
	return fd;
}

/* Checks the length limits and picks the starting fd: a leading '/' means the
 * export root. *rel is the rest without leading slashes ("" -> "."). */
static int start_of(const struct dafs_export *ex, int dirfd, const char *path,
		    int *startfd, const char **rel)
{
	if (!ex || !path)
		return -EINVAL;
	if (strnlen(path, DAFS_PATH_MAX) >= DAFS_PATH_MAX)
		return -ENAMETOOLONG;

	size_t comp = 0;
	for (const char *c = path; *c; c++) {
		comp = *c == '/' ? 0 : comp + 1;
		if (comp > NAME_MAX)
			return -ENAMETOOLONG;
	}

	if (path[0] == '/') {
		*startfd = ex->root_fd;
		while (*path == '/')
			path++;
	} else {
		*startfd = dirfd;
	}
	if (*startfd < 0)
		return -EBADF;
	*rel = *path ? path : ".";
	return 0;
}

int export_path_from_wire(const void *buf, size_t len, char *out)
{
	if (len >= PATH_MAX)
		return -ENAMETOOLONG;
	if (len && (!buf || memchr(buf, '\0', len)))
		return -EINVAL;
	if (len)
		memcpy(out, buf, len);
	out[len] = '\0';
	return 0;
}

int export_init(struct dafs_export *ex, const char *dir)
{
	ex->root_fd = -1;
	ex->path[0] = '\0';
	if (!dir || !*dir)
		return -EINVAL;
	if (!realpath(dir, ex->path))
		return -errno;
	int fd = open(ex->path, O_PATH | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	ex->root_fd = fd;
	return 0;
}

void export_fini(struct dafs_export *ex)
{
	if (ex->root_fd >= 0)
		close(ex->root_fd);
	ex->root_fd = -1;
}

int export_openat(const struct dafs_export *ex, int dirfd, const char *path, int flags,
		  mode_t mode)
{
	int startfd;
	const char *rel;
	int rc = start_of(ex, dirfd, path, &startfd, &rel);
	if (rc < 0)
		return rc;
	return beneath(startfd, rel, flags, mode);
}

int export_open_parent(const struct dafs_export *ex, int dirfd, const char *path, char *name)
{
	int startfd;
	const char *rel;
	int rc = start_of(ex, dirfd, path, &startfd, &rel);
	if (rc < 0)
		return rc;

	char buf[DAFS_PATH_MAX];
	size_t len = strlen(rel);
	memcpy(buf, rel, len + 1);
	while (len > 0 && buf[len - 1] == '/')
		buf[--len] = '\0';
	/* rel has no leading slash, so an empty remainder, or ".", is the
	 * starting directory itself: it has no parent beneath dirfd. */
	if (len == 0 || strcmp(buf, ".") == 0)
		return -EBUSY;

	char *slash = strrchr(buf, '/');
	char *last = slash ? slash + 1 : buf;
	if (strcmp(last, ".") == 0 || strcmp(last, "..") == 0)
		return -EINVAL;
	/* start_of() bounded every component by NAME_MAX. */
	memcpy(name, last, strlen(last) + 1);

	const char *parent = ".";
	if (slash) {
		*slash = '\0';
		parent = buf;  /* "a//b" leaves "a/", which openat2 takes as "a" */
	}
	return beneath(startfd, parent, O_PATH | O_DIRECTORY, 0);
}
