/* export.h — path confinement beneath the exported directory. Every path that
 * arrives from the network is resolved here, by the kernel, with openat2(2)
 * RESOLVE_BENEATH | RESOLVE_NO_MAGICLINKS, so `..`, absolute paths, absolute
 * symlinks, symlinks that climb out and concurrent renames can never make the
 * server open anything outside the export.
 *
 * Errors: an attempt to leave the starting directory (openat2's EXDEV) is
 * reported as -EACCES, always, so a client sees "Permission denied" and tools
 * such as mv(1) never mistake it for a cross-device rename worth copying.
 * Magic links (/proc/self/fd/N style) give -ELOOP.
 */
#ifndef DAFS_EXPORT_H
#define DAFS_EXPORT_H

#include <limits.h>
#include <stddef.h>
#include <sys/types.h>

struct dafs_export {
	int root_fd;            /* O_PATH|O_DIRECTORY fd of the exported directory */
	char path[PATH_MAX];    /* its canonical path, for logs */
};

/* Copies a path received as (buf, len) bytes, not NUL-terminated, into out
 * (PATH_MAX bytes) as a C string. 0, -EINVAL when it contains a NUL byte (the
 * rest would be silently ignored by every system call), -ENAMETOOLONG when
 * len >= PATH_MAX. */
int export_path_from_wire(const void *buf, size_t len, char *out);

/* Opens `dir` (O_PATH|O_DIRECTORY) as the export root. 0 or -errno; on error
 * ex->root_fd is -1. */
int export_init(struct dafs_export *ex, const char *dir);
/* Closes the root fd; safe to call twice. */
void export_fini(struct dafs_export *ex);

/* Opens `path` beneath `dirfd`, which is ex->root_fd or a directory fd the
 * server itself opened beneath the export. A leading '/' starts at the export
 * root instead of dirfd (client paths are absolute from the export root); ""
 * or "/" reopens the starting directory itself with `flags`. `..` may move
 * around inside the starting directory but never above it: from a subdirectory
 * fd, "../x" is refused even when x is inside the export.
 *
 * flags are open(2) flags (O_CLOEXEC is always added); mode is used with
 * O_CREAT / O_TMPFILE only. O_NOFOLLOW on a final-component symlink gives
 * -ELOOP as open(2) does, or opens the link itself with O_PATH.
 * A path longer than PATH_MAX is walked in pieces (export.c, beneath()).
 * Returns the fd or -errno: -EACCES for an escape, -ENAMETOOLONG for a path of
 * DAFS_PATH_MAX bytes or more or a component longer than NAME_MAX, -EAGAIN when
 * concurrent renames kept the kernel from resolving safely after a bounded
 * number of retries, else whatever openat2 said. */
int export_openat(const struct dafs_export *ex, int dirfd, const char *path, int flags,
		  mode_t mode);

/* For operations on a name (mkdir, rmdir, unlink, rename, link, symlink,
 * readlink, lstat): opens the parent directory of `path` beneath dirfd (same
 * rules as export_openat) as O_PATH|O_DIRECTORY, and copies the last component
 * into `name` (NAME_MAX + 1 bytes). Trailing slashes are dropped ("a/b/" ->
 * parent "a", name "b"); a caller that needs the directory-only meaning of a
 * trailing slash checks the type itself. Returns the parent fd or -errno:
 * -EBUSY when the path names the starting directory itself ("", "/", "///"),
 * as rmdir("/") does; -EINVAL when the last component is "." or "..". */
int export_open_parent(const struct dafs_export *ex, int dirfd, const char *path, char *name);

#endif
