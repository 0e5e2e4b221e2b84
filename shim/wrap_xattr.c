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

/* A path form: libc for a local path; else body, an expression of the DAFS
 * path dp and session s, giving a count or a negative errno. */
#define XATTR_PATH(path, real_call, body)                                   \
	do {                                                                \
		char dp[SHIM_PATH_MAX];                                          \
		struct dafs_session *s;                                     \
		int r_ = shim_route(AT_FDCWD, path, dp), e_;                \
		ssize_t v_;                                                 \
		if (r_ == 0)                                                \
			return real_call;                                   \
		if (r_ < 0)                                                 \
			return shim_err(r_);                                \
		if (!(s = shim_session(&e_)))                               \
			return shim_err(e_);                                \
		v_ = (body);                                                \
		return v_ < 0 ? shim_err((int)v_) : v_;                     \
	} while (0)

/* An f-form: libc for a local descriptor; else body, an expression of the
 * core's file f. */
#define XATTR_FD(fd, real_call, body)                                       \
	do {                                                                \
		struct dfile *d;                                            \
		struct dafs_file *f;                                        \
		ssize_t v_;                                                 \
		if (!shim_fd_maybe(fd) || !(d = shim_fd_get(fd)))           \
			return real_call;                                   \
		v_ = shim_dfile_handle(d, &f);                              \
		if (v_ == 0)                                                \
			v_ = (body);                                        \
		shim_dfile_put(d);                                          \
		return v_ < 0 ? shim_err((int)v_) : v_;                     \
	} while (0)

ssize_t getxattr(const char *path, const char *name, void *v, size_t n)
{
	XATTR_PATH(path, REAL(getxattr)(path, name, v, n),
		   shim_core.dafs_getxattr(s, dp, name, v, n, 0));
}

ssize_t lgetxattr(const char *path, const char *name, void *v, size_t n)
{
	XATTR_PATH(path, REAL(lgetxattr)(path, name, v, n),
		   shim_core.dafs_getxattr(s, dp, name, v, n, AT_SYMLINK_NOFOLLOW));
}

ssize_t fgetxattr(int fd, const char *name, void *v, size_t n)
{
	XATTR_FD(fd, REAL(fgetxattr)(fd, name, v, n), shim_core.dafs_fgetxattr(f, name, v, n));
}

int setxattr(const char *path, const char *name, const void *v, size_t n, int flags)
{
	XATTR_PATH(path, REAL(setxattr)(path, name, v, n, flags),
		   shim_core.dafs_setxattr(s, dp, name, v, n, flags, 0));
}

int lsetxattr(const char *path, const char *name, const void *v, size_t n, int flags)
{
	XATTR_PATH(path, REAL(lsetxattr)(path, name, v, n, flags),
		   shim_core.dafs_setxattr(s, dp, name, v, n, flags, AT_SYMLINK_NOFOLLOW));
}

int fsetxattr(int fd, const char *name, const void *v, size_t n, int flags)
{
	XATTR_FD(fd, REAL(fsetxattr)(fd, name, v, n, flags),
		 shim_core.dafs_fsetxattr(f, name, v, n, flags));
}

ssize_t listxattr(const char *path, char *list, size_t n)
{
	XATTR_PATH(path, REAL(listxattr)(path, list, n),
		   shim_core.dafs_listxattr(s, dp, list, n, 0));
}

ssize_t llistxattr(const char *path, char *list, size_t n)
{
	XATTR_PATH(path, REAL(llistxattr)(path, list, n),
		   shim_core.dafs_listxattr(s, dp, list, n, AT_SYMLINK_NOFOLLOW));
}

ssize_t flistxattr(int fd, char *list, size_t n)
{
	XATTR_FD(fd, REAL(flistxattr)(fd, list, n), shim_core.dafs_flistxattr(f, list, n));
}

int removexattr(const char *path, const char *name)
{
	XATTR_PATH(path, REAL(removexattr)(path, name), shim_core.dafs_removexattr(s, dp, name, 0));
}

int lremovexattr(const char *path, const char *name)
{
	XATTR_PATH(path, REAL(lremovexattr)(path, name),
		   shim_core.dafs_removexattr(s, dp, name, AT_SYMLINK_NOFOLLOW));
}

int fremovexattr(int fd, const char *name)
{
	XATTR_FD(fd, REAL(fremovexattr)(fd, name), shim_core.dafs_fremovexattr(f, name));
}
