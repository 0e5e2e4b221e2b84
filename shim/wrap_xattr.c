/* wrap_xattr.c — named attributes (extended attributes) of DAFS files:
 * getxattr, setxattr, listxattr and removexattr in their path, l- (the
 * symlink itself) and f- (an open descriptor) forms, served by the server's
 * file system (dafs.h). POSIX ACLs are attributes (system.posix_acl_*), so
 * setfacl, getfacl and the ACL and mode copying of cp -a / cp -p work
 * through these; before them, an f-call landed on the placeholder memfd and
 * "succeeded" without touching the file.
 */
#include <sys/xattr.h>

#include "shim.h"

ssize_t getxattr(const char *path, const char *name, void *v, size_t n)
{
	ROUTE_PATH(AT_FDCWD, path, REAL(getxattr)(path, name, v, n),
		   shim_core.dafs_getxattr(s, dp, name, v, n, 0));
}

ssize_t lgetxattr(const char *path, const char *name, void *v, size_t n)
{
	ROUTE_PATH(AT_FDCWD, path, REAL(lgetxattr)(path, name, v, n),
		   shim_core.dafs_getxattr(s, dp, name, v, n, AT_SYMLINK_NOFOLLOW));
}

ssize_t fgetxattr(int fd, const char *name, void *v, size_t n)
{
	FD_OR_REAL(fd, REAL(fgetxattr)(fd, name, v, n), shim_core.dafs_fgetxattr(f, name, v, n));
}

int setxattr(const char *path, const char *name, const void *v, size_t n, int flags)
{
	ROUTE_PATH(AT_FDCWD, path, REAL(setxattr)(path, name, v, n, flags),
		   shim_core.dafs_setxattr(s, dp, name, v, n, flags, 0));
}

int lsetxattr(const char *path, const char *name, const void *v, size_t n, int flags)
{
	ROUTE_PATH(AT_FDCWD, path, REAL(lsetxattr)(path, name, v, n, flags),
		   shim_core.dafs_setxattr(s, dp, name, v, n, flags, AT_SYMLINK_NOFOLLOW));
}

int fsetxattr(int fd, const char *name, const void *v, size_t n, int flags)
{
	FD_OR_REAL(fd, REAL(fsetxattr)(fd, name, v, n, flags),
		 shim_core.dafs_fsetxattr(f, name, v, n, flags));
}

ssize_t listxattr(const char *path, char *list, size_t n)
{
	ROUTE_PATH(AT_FDCWD, path, REAL(listxattr)(path, list, n),
		   shim_core.dafs_listxattr(s, dp, list, n, 0));
}

ssize_t llistxattr(const char *path, char *list, size_t n)
{
	ROUTE_PATH(AT_FDCWD, path, REAL(llistxattr)(path, list, n),
		   shim_core.dafs_listxattr(s, dp, list, n, AT_SYMLINK_NOFOLLOW));
}

ssize_t flistxattr(int fd, char *list, size_t n)
{
	FD_OR_REAL(fd, REAL(flistxattr)(fd, list, n), shim_core.dafs_flistxattr(f, list, n));
}

int removexattr(const char *path, const char *name)
{
	ROUTE_PATH(AT_FDCWD, path, REAL(removexattr)(path, name), shim_core.dafs_removexattr(s, dp, name, 0));
}

int lremovexattr(const char *path, const char *name)
{
	ROUTE_PATH(AT_FDCWD, path, REAL(lremovexattr)(path, name),
		   shim_core.dafs_removexattr(s, dp, name, AT_SYMLINK_NOFOLLOW));
}

int fremovexattr(int fd, const char *name)
{
	FD_OR_REAL(fd, REAL(fremovexattr)(fd, name), shim_core.dafs_fremovexattr(f, name));
}
