/* wrap_refuse.c — path calls DAFS cannot serve (mounts, swap, accounting,
 * chroot, inotify and fanotify marks, file handles, utmp files, spawn file
 * actions run in the child by libc's internal calls): on a DAFS path or
 * descriptor they fail with a clear errno and a DAFS_DEBUG line
 * (shim_unsupported) instead of reaching the kernel, which would resolve
 * the path on the local disk (a relative one from the process's real
 * working directory, not the DAFS one). Other paths go to libc.
 */
#include "shim.h"

/* libc's call for a local path, else the refusal. */
#define REFUSE(dirfd, path, err, real_call)                                  \
	do {                                                                 \
		int r_ = shim_on_dafs(dirfd, path);                               \
		if (r_ == 0)                                                 \
			return real_call;                                    \
		if (r_ < 0)                                                  \
			return -1;                                           \
		return shim_unsupported(__func__, -1, err);                  \
	} while (0)

int chroot(const char *path)
{
	REFUSE(AT_FDCWD, path, EPERM, REAL(chroot)(path));
}

int acct(const char *path)
{
	REFUSE(AT_FDCWD, path, EOPNOTSUPP, REAL(acct)(path));
}

int mount(const char *src, const char *dir, const char *type, unsigned long flags,
	  const void *data)
{
	/* The source is a device or a name for most types; a bind mount's is
	 * a path, so either on DAFS is refused. */
	if (shim_on_dafs(AT_FDCWD, src) > 0)
		return shim_unsupported("mount", -1, EOPNOTSUPP);
	REFUSE(AT_FDCWD, dir, EOPNOTSUPP, REAL(mount)(src, dir, type, flags, data));
}

int umount(const char *dir)
{
	REFUSE(AT_FDCWD, dir, EINVAL, REAL(umount)(dir));
}

int umount2(const char *dir, int flags)
{
	REFUSE(AT_FDCWD, dir, EINVAL, REAL(umount2)(dir, flags));
}

int swapon(const char *path, int flags)
{
	REFUSE(AT_FDCWD, path, EINVAL, REAL(swapon)(path, flags));
}

int swapoff(const char *path)
{
	REFUSE(AT_FDCWD, path, EINVAL, REAL(swapoff)(path));
}

int quotactl(int cmd, const char *special, int id, caddr_t addr)
{
	REFUSE(AT_FDCWD, special, EOPNOTSUPP, REAL(quotactl)(cmd, special, id, addr));
}

int open_tree(int dirfd, const char *path, unsigned flags)
{
	REFUSE(dirfd, path, EOPNOTSUPP, REAL(open_tree)(dirfd, path, flags));
}

int fspick(int dirfd, const char *path, unsigned flags)
{
	REFUSE(dirfd, path, EOPNOTSUPP, REAL(fspick)(dirfd, path, flags));
}

/* DAFS sends no change notifications: a watch would never fire. */
int inotify_add_watch(int fd, const char *path, uint32_t mask)
{
	REFUSE(AT_FDCWD, path, EOPNOTSUPP, REAL(inotify_add_watch)(fd, path, mask));
}

int fanotify_mark(int fd, unsigned flags, uint64_t mask, int dirfd, const char *path)
{
	struct dfile *d;

	if (!path && shim_fd_maybe(dirfd) && (d = shim_fd_get(dirfd))) {
		shim_dfile_put(d);
		return shim_unsupported("fanotify_mark", dirfd, EOPNOTSUPP);
	}
	REFUSE(dirfd, path, EOPNOTSUPP, REAL(fanotify_mark)(fd, flags, mask, dirfd, path));
}

/* A DAFS file has no kernel file handle. */
int name_to_handle_at(int dirfd, const char *path, struct file_handle *handle,
		      int *mount_id, int flags)
{
	struct dfile *d;

	if ((flags & AT_EMPTY_PATH) && path && !*path && shim_fd_maybe(dirfd) &&
	    (d = shim_fd_get(dirfd))) {
		shim_dfile_put(d);
		return shim_unsupported("name_to_handle_at", dirfd, EOPNOTSUPP);
	}
	REFUSE(dirfd, path, EOPNOTSUPP,
	       REAL(name_to_handle_at)(dirfd, path, handle, mount_id, flags));
}

/* glibc opens the utmp file later, with its internal open. */
int utmpname(const char *path)
{
	REFUSE(AT_FDCWD, path, EOPNOTSUPP, REAL(utmpname)(path));
}

int utmpxname(const char *path)
{
	REFUSE(AT_FDCWD, path, EOPNOTSUPP, REAL(utmpxname)(path));
}

/* posix_spawn's file actions run in the child with libc's internal open,
 * chdir and fchdir: refused when they are added. These return an error
 * number, not -1. */
int posix_spawn_file_actions_addopen(posix_spawn_file_actions_t *fa, int fd, const char *path,
				     int flags, mode_t mode)
{
	int r = shim_on_dafs(AT_FDCWD, path);

	if (r == 0)
		return REAL(posix_spawn_file_actions_addopen)(fa, fd, path, flags, mode);
	if (r > 0)
		shim_unsupported("posix_spawn_file_actions_addopen", -1, EOPNOTSUPP);
	return errno;
}

int posix_spawn_file_actions_addchdir_np(posix_spawn_file_actions_t *fa, const char *path)
{
	int r = shim_on_dafs(AT_FDCWD, path);

	if (r == 0)
		return REAL(posix_spawn_file_actions_addchdir_np)(fa, path);
	if (r > 0)
		shim_unsupported("posix_spawn_file_actions_addchdir_np", -1, EOPNOTSUPP);
	return errno;
}

int posix_spawn_file_actions_addfchdir_np(posix_spawn_file_actions_t *fa, int fd)
{
	struct dfile *d;

	if (!shim_fd_maybe(fd) || !(d = shim_fd_get(fd)))
		return REAL(posix_spawn_file_actions_addfchdir_np)(fa, fd);
	shim_dfile_put(d);
	shim_unsupported("posix_spawn_file_actions_addfchdir_np", fd, EOPNOTSUPP);
	return errno;
}
