/* wrap_special.c — special files on DAFS: mknod and mkfifo (and glibc's
 * older __xmknod forms) create fifo, device and socket inodes on the server
 * with MKNOD; UNIX-domain sockets cannot live on a DAFS path, so bind and
 * connect refuse a sun_path that routes to DAFS with a clear errno instead
 * of creating or finding the socket in the local working directory.
 *
 * Opening such an inode is refused by the server (ENXIO, see shim_open_dafs):
 * a fifo's pipe or a device exists only in a kernel, and the server must
 * never open a device a client named.
 */
#include <stddef.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "shim.h"

/* mknod(2)'s rules on a DAFS path: a regular file (type 0 or S_IFREG) is an
 * exclusive create, a directory is EPERM as the kernel says, and the
 * permission bits lose the umask as for every create. */
static int dafs_mknod_at(int dirfd, const char *path, mode_t mode, dev_t dev, int *routed)
{
	char dp[SHIM_PATH_MAX];
	struct dafs_session *s;
	mode_t perm = mode & 07777 & ~shim_umask();
	int r = shim_route(dirfd, path, dp), rc;

	*routed = r != 0;
	if (r <= 0)
		return r;
	switch (mode & S_IFMT) {
	case 0:
	case S_IFREG:
		rc = shim_open_dafs(dp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, mode & 07777);
		if (rc >= 0)
			close(rc);
		return rc < 0 ? rc : 0;
	case S_IFDIR:
		return -EPERM;
	case S_IFIFO:
	case S_IFCHR:
	case S_IFBLK:
	case S_IFSOCK:
		break;
	default:
		return -EINVAL;
	}
	if (!(s = shim_session(&rc)))
		return rc;
	rc = shim_core.dafs_mknod(s, dp, (mode & S_IFMT) | perm, dev);
	if (rc < 0 && shim_debug)
		shim_log("mknod %s (type 0%o): %s", dp, (unsigned)(mode & S_IFMT), strerror(-rc));
	return rc;
}

#define MKNOD_AT(dirfd, path, mode, dev, real_call)                                 \
	do {                                                                        \
		int routed_, rc_ = dafs_mknod_at(dirfd, path, mode, dev, &routed_); \
		if (!routed_)                                                       \
			return real_call;                                           \
		return rc_ < 0 ? shim_err(rc_) : 0;                                 \
	} while (0)

int mknod(const char *path, mode_t mode, dev_t dev)
{
	MKNOD_AT(AT_FDCWD, path, mode, dev, REAL(mknod)(path, mode, dev));
}

int mknodat(int dirfd, const char *path, mode_t mode, dev_t dev)
{
	MKNOD_AT(dirfd, path, mode, dev, REAL(mknodat)(dirfd, path, mode, dev));
}

/* glibc before 2.33 compiled mknod into these; ver is _MKNOD_VER (0). */
int __xmknod(int ver, const char *path, mode_t mode, dev_t *dev)
{
	if (ver != 0)
		return REAL(__xmknod)(ver, path, mode, dev);
	MKNOD_AT(AT_FDCWD, path, mode, dev ? *dev : 0, REAL(__xmknod)(ver, path, mode, dev));
}

int __xmknodat(int ver, int dirfd, const char *path, mode_t mode, dev_t *dev)
{
	if (ver != 0)
		return REAL(__xmknodat)(ver, dirfd, path, mode, dev);
	MKNOD_AT(dirfd, path, mode, dev ? *dev : 0,
		 REAL(__xmknodat)(ver, dirfd, path, mode, dev));
}

/* glibc's mkfifo is mknodat inside libc, out of the shim's sight. */
int mkfifo(const char *path, mode_t mode)
{
	MKNOD_AT(AT_FDCWD, path, S_IFIFO | (mode & 07777), 0, REAL(mkfifo)(path, mode));
}

int mkfifoat(int dirfd, const char *path, mode_t mode)
{
	MKNOD_AT(dirfd, path, S_IFIFO | (mode & 07777), 0, REAL(mkfifoat)(dirfd, path, mode));
}

/* ---- UNIX-domain sockets ------------------------------------------------ */

/* Does this address name a file-system socket on DAFS? 1 with its DAFS
 * path in dp, 0 not (another family, an abstract or unnamed socket, a local
 * path), or a negative errno. sun_path need not be NUL-terminated. */
static int unix_route(const struct sockaddr *sa, socklen_t len, char dp[SHIM_PATH_MAX])
{
	const struct sockaddr_un *un = (const struct sockaddr_un *)sa;
	size_t off = offsetof(struct sockaddr_un, sun_path), n;
	char path[sizeof(un->sun_path) + 1];

	if (!sa || len <= off || sa->sa_family != AF_UNIX || un->sun_path[0] == '\0')
		return 0;
	n = len - off;
	if (n > sizeof(un->sun_path))
		n = sizeof(un->sun_path);
	memcpy(path, un->sun_path, n);
	path[n] = '\0';
	return shim_route(AT_FDCWD, path, dp);
}

int bind(int fd, __CONST_SOCKADDR_ARG addr, socklen_t len)
{
	char dp[SHIM_PATH_MAX];
	int r = unix_route(addr.__sockaddr__, len, dp);

	if (r == 0)
		return REAL(bind)(fd, addr, len);
	if (r < 0)
		return shim_err(r);
	/* A listening socket is a kernel object: the server cannot hold one for
	 * this client, and one made in the local directory would be invisible
	 * to every other client of the same DAFS name. */
	return shim_unsupported("bind (AF_UNIX socket on DAFS)", -1, EOPNOTSUPP);
}

int connect(int fd, __CONST_SOCKADDR_ARG addr, socklen_t len)
{
	char dp[SHIM_PATH_MAX];
	struct dafs_session *s;
	struct stat st;
	int r = unix_route(addr.__sockaddr__, len, dp), rc;

	if (r == 0)
		return REAL(connect)(fd, addr, len);
	if (r < 0)
		return shim_err(r);
	/* As locally for a missing name or a non-socket; a socket inode on DAFS
	 * has no listener this client could reach (bind refuses one). */
	if (!(s = shim_session(&rc)))
		return shim_err(rc);
	rc = shim_core.dafs_stat(s, dp, &st, 0);
	if (rc < 0)
		return shim_err(rc);
	return shim_unsupported("connect (AF_UNIX socket on DAFS)", -1, ECONNREFUSED);
}
