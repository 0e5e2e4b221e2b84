/* wrap_names.c — attributes and names: the stat families, access, chmod,
 * times (utimensat and the older utimes, lutimes, futimes, futimesat and
 * utime, which glibc implements with internal calls the shim cannot see),
 * truncate, unlink, mkdir, rename, links, statfs.
 *
 * Paths route through shim_route (path.c); a call naming one DAFS and one
 * local path (rename, link) fails with EXDEV, as between two mounts.
 */
#include <stdlib.h>
#include <string.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include "shim.h"

_Static_assert(sizeof(struct stat) == sizeof(struct stat64), "x86_64 stat ABI");
_Static_assert(sizeof(struct statfs) == sizeof(struct statfs64), "x86_64 statfs ABI");

/* ---- stat ------------------------------------------------------------------ */

/* fstatat's rules: AT_EMPTY_PATH with "" means dirfd itself. */
static int dafs_statat(int dirfd, const char *path, struct stat *st, int flags, int *routed)
{
	char dp[SHIM_PATH_MAX];
	struct dafs_session *s;
	struct dfile *d;
	int r, rc;

	*routed = 1;
	if ((flags & AT_EMPTY_PATH) && path && !*path && shim_fd_maybe(dirfd) &&
	    (d = shim_fd_get(dirfd))) {
		rc = shim_fd_stat(d, st);
		shim_dfile_put(d);
		return rc;
	}
	r = shim_route(dirfd, path, dp);
	if (r <= 0) {
		*routed = r < 0;
		return r;
	}
	if (!(s = shim_session(&rc)))
		return rc;
	return shim_core.dafs_stat(s, dp, st, flags & AT_SYMLINK_NOFOLLOW);
}

#define STATAT(dirfd, path, st, flags, real_call)                          \
	do {                                                               \
		int routed_, rc_ = dafs_statat(dirfd, path, (struct stat *)(st), flags, &routed_); \
		if (!routed_)                                              \
			return real_call;                                  \
		return rc_ < 0 ? shim_err(rc_) : 0;                        \
	} while (0)

int stat(const char *path, struct stat *st)
{
	STATAT(AT_FDCWD, path, st, 0, REAL(stat)(path, st));
}

int stat64(const char *path, struct stat64 *st)
{
	STATAT(AT_FDCWD, path, st, 0, REAL(stat64)(path, st));
}

int lstat(const char *path, struct stat *st)
{
	STATAT(AT_FDCWD, path, st, AT_SYMLINK_NOFOLLOW, REAL(lstat)(path, st));
}

int lstat64(const char *path, struct stat64 *st)
{
	STATAT(AT_FDCWD, path, st, AT_SYMLINK_NOFOLLOW, REAL(lstat64)(path, st));
}

int fstatat(int dirfd, const char *path, struct stat *st, int flags)
{
	STATAT(dirfd, path, st, flags, REAL(fstatat)(dirfd, path, st, flags));
}

int fstatat64(int dirfd, const char *path, struct stat64 *st, int flags)
{
	STATAT(dirfd, path, st, flags, REAL(fstatat64)(dirfd, path, st, flags));
}

int __xstat(int ver, const char *path, struct stat *st)
{
	STATAT(AT_FDCWD, path, st, 0, REAL(__xstat)(ver, path, st));
}

int __xstat64(int ver, const char *path, struct stat64 *st)
{
	STATAT(AT_FDCWD, path, st, 0, REAL(__xstat64)(ver, path, st));
}

int __lxstat(int ver, const char *path, struct stat *st)
{
	STATAT(AT_FDCWD, path, st, AT_SYMLINK_NOFOLLOW, REAL(__lxstat)(ver, path, st));
}

int __lxstat64(int ver, const char *path, struct stat64 *st)
{
	STATAT(AT_FDCWD, path, st, AT_SYMLINK_NOFOLLOW, REAL(__lxstat64)(ver, path, st));
}

int __fxstatat(int ver, int dirfd, const char *path, struct stat *st, int flags)
{
	STATAT(dirfd, path, st, flags, REAL(__fxstatat)(ver, dirfd, path, st, flags));
}

int __fxstatat64(int ver, int dirfd, const char *path, struct stat64 *st, int flags)
{
	STATAT(dirfd, path, st, flags, REAL(__fxstatat64)(ver, dirfd, path, st, flags));
}

static int fd_stat(int fd, struct stat *st, int *routed)
{
	struct dfile *d;
	int rc;

	*routed = shim_fd_maybe(fd) && (d = shim_fd_get(fd));
	if (!*routed)
		return 0;
	rc = shim_fd_stat(d, st);
	shim_dfile_put(d);
	return rc < 0 ? shim_err(rc) : 0;
}

int fstat(int fd, struct stat *st)
{
	int routed, rc = fd_stat(fd, st, &routed);

	return routed ? rc : REAL(fstat)(fd, st);
}

int fstat64(int fd, struct stat64 *st)
{
	int routed, rc = fd_stat(fd, (struct stat *)st, &routed);

	return routed ? rc : REAL(fstat64)(fd, st);
}

int __fxstat(int ver, int fd, struct stat *st)
{
	int routed, rc = fd_stat(fd, st, &routed);

	return routed ? rc : REAL(__fxstat)(ver, fd, st);
}

int __fxstat64(int ver, int fd, struct stat64 *st)
{
	int routed, rc = fd_stat(fd, (struct stat *)st, &routed);

	return routed ? rc : REAL(__fxstat64)(ver, fd, st);
}

static void statx_from_stat(struct statx *x, const struct stat *st)
{
	memset(x, 0, sizeof(*x));
	x->stx_mask = STATX_BASIC_STATS;
	x->stx_blksize = (uint32_t)st->st_blksize;
	x->stx_nlink = (uint32_t)st->st_nlink;
	x->stx_uid = st->st_uid;
	x->stx_gid = st->st_gid;
	x->stx_mode = (uint16_t)st->st_mode;
	x->stx_ino = st->st_ino;
	x->stx_size = (uint64_t)st->st_size;
	x->stx_blocks = (uint64_t)st->st_blocks;
	x->stx_atime.tv_sec = st->st_atim.tv_sec;
	x->stx_atime.tv_nsec = (uint32_t)st->st_atim.tv_nsec;
	x->stx_mtime.tv_sec = st->st_mtim.tv_sec;
	x->stx_mtime.tv_nsec = (uint32_t)st->st_mtim.tv_nsec;
	x->stx_ctime.tv_sec = st->st_ctim.tv_sec;
	x->stx_ctime.tv_nsec = (uint32_t)st->st_ctim.tv_nsec;
	x->stx_rdev_major = major(st->st_rdev);
	x->stx_rdev_minor = minor(st->st_rdev);
	x->stx_dev_major = major(st->st_dev);
	x->stx_dev_minor = minor(st->st_dev);
}

int statx(int dirfd, const char *path, int flags, unsigned mask, struct statx *stx)
{
	struct stat st;
	int routed, rc = dafs_statat(dirfd, path, &st, flags, &routed);

	if (!routed)
		return REAL(statx)(dirfd, path, flags, mask, stx);
	if (rc < 0)
		return shim_err(rc);
	statx_from_stat(stx, &st);
	return 0;
}

/* ---- statfs ------------------------------------------------------------------ */

static long statfs_from_statvfs(struct statfs *sf, const struct statvfs *sv)
{
	memset(sf, 0, sizeof(*sf));
	sf->f_type = 0;     /* no magic number names DAFS */
	sf->f_bsize = (long)sv->f_bsize;
	sf->f_frsize = (long)sv->f_frsize;
	sf->f_blocks = sv->f_blocks;
	sf->f_bfree = sv->f_bfree;
	sf->f_bavail = sv->f_bavail;
	sf->f_files = sv->f_files;
	sf->f_ffree = sv->f_ffree;
	sf->f_namelen = (long)sv->f_namemax;
	sf->f_flags = (long)sv->f_flag;
	return 0;
}

static long fd_statfs(struct dafs_file *f, struct statfs *sf)
{
	struct statvfs sv;
	int rc = shim_core.dafs_fstatvfs(f, &sv);

	return rc < 0 ? rc : statfs_from_statvfs(sf, &sv);
}

/* The core's statvfs is the export's, whatever the path: the path must
 * still exist, as statfs(2) requires. */
static long path_statvfs(struct dafs_session *s, const char *dp, struct statvfs *sv)
{
	struct stat st;
	int rc = shim_core.dafs_stat(s, dp, &st, 0);

	return rc < 0 ? rc : shim_core.dafs_statvfs(s, sv);
}

static long path_statfs(struct dafs_session *s, const char *dp, struct statfs *sf)
{
	struct statvfs sv;
	long rc = path_statvfs(s, dp, &sv);

	return rc < 0 ? rc : statfs_from_statvfs(sf, &sv);
}

int fstatfs(int fd, struct statfs *sf)
{
	FD_OR_REAL(fd, REAL(fstatfs)(fd, sf), fd_statfs(f, sf));
}

int fstatfs64(int fd, struct statfs64 *sf)
{
	FD_OR_REAL(fd, REAL(fstatfs64)(fd, sf), fd_statfs(f, (struct statfs *)sf));
}

int statfs(const char *path, struct statfs *sf)
{
	ROUTE_PATH(AT_FDCWD, path, REAL(statfs)(path, sf), path_statfs(s, dp, sf));
}

int statfs64(const char *path, struct statfs64 *sf)
{
	ROUTE_PATH(AT_FDCWD, path, REAL(statfs64)(path, sf), path_statfs(s, dp, (struct statfs *)sf));
}

int fstatvfs(int fd, struct statvfs *sv)
{
	FD_OR_REAL(fd, REAL(fstatvfs)(fd, sv), shim_core.dafs_fstatvfs(f, sv));
}

int statvfs(const char *path, struct statvfs *sv)
{
	ROUTE_PATH(AT_FDCWD, path, REAL(statvfs)(path, sv), path_statvfs(s, dp, sv));
}

/* ---- access ------------------------------------------------------------------ */

/* DAFS has no ACCESS operation: judge by the mode bits and the effective
 * ids (a first cut: supplementary groups are not consulted). */
static long dafs_access(struct dafs_session *s, const char *dp, int mode, int flags)
{
	struct stat st;
	uid_t uid = flags & AT_EACCESS ? geteuid() : getuid();
	gid_t gid = flags & AT_EACCESS ? getegid() : getgid();
	int rc = shim_core.dafs_stat(s, dp, &st, flags & AT_SYMLINK_NOFOLLOW), shift;

	if (rc < 0 || mode == F_OK)
		return rc;
	if (uid == 0) {
		if ((mode & X_OK) && !(st.st_mode & 0111) && !S_ISDIR(st.st_mode))
			return -EACCES;
		return 0;
	}
	shift = st.st_uid == uid ? 6 : st.st_gid == gid ? 3 : 0;
	return ((unsigned)(st.st_mode >> shift) & (unsigned)mode & 7) == ((unsigned)mode & 7) ?
	       0 : -EACCES;
}

int access(const char *path, int mode)
{
	ROUTE_PATH(AT_FDCWD, path, REAL(access)(path, mode), dafs_access(s, dp, mode, 0));
}

int faccessat(int dirfd, const char *path, int mode, int flags)
{
	ROUTE_PATH(dirfd, path, REAL(faccessat)(dirfd, path, mode, flags),
		   dafs_access(s, dp, mode, flags));
}

int euidaccess(const char *path, int mode)
{
	ROUTE_PATH(AT_FDCWD, path, REAL(euidaccess)(path, mode),
		   dafs_access(s, dp, mode, AT_EACCESS));
}

int eaccess(const char *path, int mode)
{
	ROUTE_PATH(AT_FDCWD, path, REAL(eaccess)(path, mode), dafs_access(s, dp, mode, AT_EACCESS));
}

/* ---- mode, owner, times, size ------------------------------------------------ */

int chmod(const char *path, mode_t mode)
{
	ROUTE_PATH(AT_FDCWD, path, REAL(chmod)(path, mode), shim_core.dafs_chmod(s, dp, mode));
}

int fchmod(int fd, mode_t mode)
{
	FD_OR_REAL(fd, REAL(fchmod)(fd, mode), shim_core.dafs_fchmod(f, mode));
}

int fchmodat(int dirfd, const char *path, mode_t mode, int flags)
{
	ROUTE_PATH(dirfd, path, REAL(fchmodat)(dirfd, path, mode, flags),
		   flags & AT_SYMLINK_NOFOLLOW ? -EOPNOTSUPP : shim_core.dafs_chmod(s, dp, mode));
}

/* Owners change on the server as the caller (every request carries the
 * calling thread's credentials), so the kernel's rule is the rule: root may
 * give a file to anyone, its owner may change the group to one of its own,
 * anyone else gets EPERM. */
static long path_chown(struct dafs_session *s, const char *dp, uid_t uid, gid_t gid, int flags)
{
	return shim_core.dafs_chown(s, dp, uid, gid, flags & AT_SYMLINK_NOFOLLOW);
}

static long file_chown(struct dafs_file *f, uid_t uid, gid_t gid)
{
	return shim_core.dafs_fchown(f, uid, gid);
}

int chown(const char *path, uid_t uid, gid_t gid)
{
	ROUTE_PATH(AT_FDCWD, path, REAL(chown)(path, uid, gid), path_chown(s, dp, uid, gid, 0));
}

int lchown(const char *path, uid_t uid, gid_t gid)
{
	ROUTE_PATH(AT_FDCWD, path, REAL(lchown)(path, uid, gid),
		   path_chown(s, dp, uid, gid, AT_SYMLINK_NOFOLLOW));
}

int fchown(int fd, uid_t uid, gid_t gid)
{
	FD_OR_REAL(fd, REAL(fchown)(fd, uid, gid), file_chown(f, uid, gid));
}

int fchownat(int dirfd, const char *path, uid_t uid, gid_t gid, int flags)
{
	ROUTE_PATH(dirfd, path, REAL(fchownat)(dirfd, path, uid, gid, flags),
		   path_chown(s, dp, uid, gid, flags));
}

int utimensat(int dirfd, const char *path, const struct timespec times[2], int flags)
{
	const char *p = path;

	/* A NULL path is futimens on dirfd (glibc's futimens is this call).
	 * glibc declares path nonnull, so the compiler would drop a plain test:
	 * the empty asm hides where p came from. */
	__asm__("" : "+r"(p));
	if (!p)
		FD_OR_REAL(dirfd, REAL(utimensat)(dirfd, path, times, flags),
			   shim_core.dafs_futimens(f, times));
	ROUTE_PATH(dirfd, path, REAL(utimensat)(dirfd, path, times, flags),
		   shim_core.dafs_utimens(s, dp, times, flags & AT_SYMLINK_NOFOLLOW));
}

int futimens(int fd, const struct timespec times[2])
{
	FD_OR_REAL(fd, REAL(futimens)(fd, times), shim_core.dafs_futimens(f, times));
}

/* timeval pairs (NULL: now) as utimensat's timespecs; -EINVAL for a
 * microsecond value out of range, as the kernel says. */
static int times_from_timeval(const struct timeval tv[2], struct timespec ts[2],
			      const struct timespec **out)
{
	*out = NULL;
	if (!tv)
		return 0;
	for (int i = 0; i < 2; i++) {
		if (tv[i].tv_usec < 0 || tv[i].tv_usec >= 1000000)
			return -EINVAL;
		ts[i] = (struct timespec){ tv[i].tv_sec, tv[i].tv_usec * 1000 };
	}
	*out = ts;
	return 0;
}

static long path_utimes(struct dafs_session *s, const char *dp, const struct timeval tv[2],
			int nofollow)
{
	struct timespec ts[2];
	const struct timespec *t;
	int rc = times_from_timeval(tv, ts, &t);

	return rc < 0 ? rc : shim_core.dafs_utimens(s, dp, t, nofollow);
}

static long file_utimes(struct dafs_file *f, const struct timeval tv[2])
{
	struct timespec ts[2];
	const struct timespec *t;
	int rc = times_from_timeval(tv, ts, &t);

	return rc < 0 ? rc : shim_core.dafs_futimens(f, t);
}

int utimes(const char *path, const struct timeval tv[2])
{
	ROUTE_PATH(AT_FDCWD, path, REAL(utimes)(path, tv), path_utimes(s, dp, tv, 0));
}

int lutimes(const char *path, const struct timeval tv[2])
{
	ROUTE_PATH(AT_FDCWD, path, REAL(lutimes)(path, tv),
		   path_utimes(s, dp, tv, AT_SYMLINK_NOFOLLOW));
}

int futimes(int fd, const struct timeval tv[2])
{
	FD_OR_REAL(fd, REAL(futimes)(fd, tv), file_utimes(f, tv));
}

int futimesat(int dirfd, const char *path, const struct timeval tv[2])
{
	/* A NULL path means dirfd itself (what glibc's futimes once was). */
	if (!path)
		FD_OR_REAL(dirfd, REAL(futimesat)(dirfd, path, tv), file_utimes(f, tv));
	ROUTE_PATH(dirfd, path, REAL(futimesat)(dirfd, path, tv), path_utimes(s, dp, tv, 0));
}

static long path_utime(struct dafs_session *s, const char *dp, const struct utimbuf *times)
{
	struct timespec ts[2];

	if (!times)
		return shim_core.dafs_utimens(s, dp, NULL, 0);
	ts[0] = (struct timespec){ times->actime, 0 };
	ts[1] = (struct timespec){ times->modtime, 0 };
	return shim_core.dafs_utimens(s, dp, ts, 0);
}

int utime(const char *path, const struct utimbuf *times)
{
	ROUTE_PATH(AT_FDCWD, path, REAL(utime)(path, times), path_utime(s, dp, times));
}

int truncate(const char *path, off_t len)
{
	ROUTE_PATH(AT_FDCWD, path, REAL(truncate)(path, len), shim_core.dafs_truncate(s, dp, len));
}

int truncate64(const char *path, off64_t len)
{
	ROUTE_PATH(AT_FDCWD, path, REAL(truncate64)(path, len), shim_core.dafs_truncate(s, dp, len));
}

/* ---- names --------------------------------------------------------------------- */

int unlink(const char *path)
{
	ROUTE_PATH(AT_FDCWD, path, REAL(unlink)(path), shim_core.dafs_unlink(s, dp));
}

int unlinkat(int dirfd, const char *path, int flags)
{
	ROUTE_PATH(dirfd, path, REAL(unlinkat)(dirfd, path, flags),
		   flags & AT_REMOVEDIR ? shim_core.dafs_rmdir(s, dp) : shim_core.dafs_unlink(s, dp));
}

/* glibc's remove calls its own unlink and rmdir, out of the shim's sight:
 * the same steps here (a directory's unlink is EISDIR, then rmdir). */
static int dafs_remove(struct dafs_session *s, const char *dp)
{
	int rc = shim_core.dafs_unlink(s, dp);

	return rc == -EISDIR ? shim_core.dafs_rmdir(s, dp) : rc;
}

int remove(const char *path)
{
	ROUTE_PATH(AT_FDCWD, path, REAL(remove)(path), dafs_remove(s, dp));
}

int mkdir(const char *path, mode_t mode)
{
	ROUTE_PATH(AT_FDCWD, path, REAL(mkdir)(path, mode),
		   shim_core.dafs_mkdir(s, dp, mode & ~shim_umask()));
}

int mkdirat(int dirfd, const char *path, mode_t mode)
{
	ROUTE_PATH(dirfd, path, REAL(mkdirat)(dirfd, path, mode),
		   shim_core.dafs_mkdir(s, dp, mode & ~shim_umask()));
}

int rmdir(const char *path)
{
	ROUTE_PATH(AT_FDCWD, path, REAL(rmdir)(path), shim_core.dafs_rmdir(s, dp));
}

/* Two paths: both DAFS, both local, or EXDEV. */
static int route_two(int fd1, const char *p1, int fd2, const char *p2,
		     char d1[SHIM_PATH_MAX], char d2[SHIM_PATH_MAX], struct dafs_session **s)
{
	int r1 = shim_route(fd1, p1, d1), r2, rc;

	if (r1 < 0)
		return r1;
	r2 = shim_route(fd2, p2, d2);
	if (r2 < 0)
		return r2;
	if (r1 != r2)
		return -EXDEV;
	if (r1 == 0)
		return 0;
	if (!(*s = shim_session(&rc)))
		return rc;
	return 1;
}

#define ROUTE_TWO(fd1, p1, fd2, p2, real_call, dafs_body)                      \
	do {                                                                   \
		char d1[SHIM_PATH_MAX], d2[SHIM_PATH_MAX];                               \
		struct dafs_session *s = NULL;                                 \
		int r_ = route_two(fd1, p1, fd2, p2, d1, d2, &s);              \
		if (r_ == 0)                                                   \
			return real_call;                                      \
		if (r_ < 0)                                                    \
			return shim_err(r_);                                   \
		r_ = (dafs_body);                                              \
		return r_ < 0 ? shim_err(r_) : 0;                              \
	} while (0)

int rename(const char *from, const char *to)
{
	ROUTE_TWO(AT_FDCWD, from, AT_FDCWD, to, REAL(rename)(from, to),
		  shim_core.dafs_rename(s, d1, d2, 0));
}

int renameat(int fromfd, const char *from, int tofd, const char *to)
{
	ROUTE_TWO(fromfd, from, tofd, to, REAL(renameat)(fromfd, from, tofd, to),
		  shim_core.dafs_rename(s, d1, d2, 0));
}

int renameat2(int fromfd, const char *from, int tofd, const char *to, unsigned flags)
{
	ROUTE_TWO(fromfd, from, tofd, to, REAL(renameat2)(fromfd, from, tofd, to, flags),
		  shim_core.dafs_rename(s, d1, d2, flags));
}

int link(const char *from, const char *to)
{
	ROUTE_TWO(AT_FDCWD, from, AT_FDCWD, to, REAL(link)(from, to), shim_core.dafs_link(s, d1, d2));
}

/* The DAFS descriptor a linkat source names as an open file rather than a
 * path: fromfd itself with AT_EMPTY_PATH and "", or the descriptor behind
 * /proc/self/fd/N (also /proc/PID/fd/N of this process, /dev/fd/N) with
 * AT_SYMLINK_FOLLOW. -1 when it names none. */
static int link_source_fd(int fromfd, const char *from, int flags)
{
	char self[32];
	const char *num = NULL;
	char *end;
	long fd;

	if ((flags & AT_EMPTY_PATH) && from[0] == '\0')
		return shim_fd_maybe(fromfd) ? fromfd : -1;
	if (!(flags & AT_SYMLINK_FOLLOW))
		return -1;
	snprintf(self, sizeof(self), "/proc/%d/fd/", (int)getpid());
	if (strncmp(from, "/proc/self/fd/", 14) == 0)
		num = from + 14;
	else if (strncmp(from, "/dev/fd/", 8) == 0)
		num = from + 8;
	else if (strncmp(from, self, strlen(self)) == 0)
		num = from + strlen(self);
	if (!num || *num < '0' || *num > '9')
		return -1;
	fd = strtol(num, &end, 10);
	if (*end || fd > INT_MAX || !shim_fd_maybe((int)fd))
		return -1;
	return (int)fd;
}

/* Names the open file of DAFS descriptor fd (an O_TMPFILE one included);
 * the server refuses one that may not be named again. */
static int link_open_file(int fd, int tofd, const char *to)
{
	char dp[SHIM_PATH_MAX];
	struct dafs_file *f;
	struct dfile *d;
	int r = shim_route(tofd, to, dp);

	if (r == 0)
		return shim_err(-EXDEV);
	if (r < 0)
		return shim_err(r);
	if (!(d = shim_fd_get(fd)))
		return shim_err(-EBADF);
	r = shim_dfile_handle(d, &f);
	if (r == 0)
		r = shim_core.dafs_link_file(f, dp);
	shim_dfile_put(d);
	return r < 0 ? shim_err(r) : 0;
}

int linkat(int fromfd, const char *from, int tofd, const char *to, int flags)
{
	int fd = link_source_fd(fromfd, from, flags);

	if (fd >= 0)
		return link_open_file(fd, tofd, to);
	ROUTE_TWO(fromfd, from, tofd, to, REAL(linkat)(fromfd, from, tofd, to, flags),
		  shim_core.dafs_link(s, d1, d2));
}

/* The target is stored as given, like the kernel's. */
int symlink(const char *target, const char *path)
{
	ROUTE_PATH(AT_FDCWD, path, REAL(symlink)(target, path), shim_core.dafs_symlink(s, target, dp));
}

int symlinkat(const char *target, int dirfd, const char *path)
{
	ROUTE_PATH(dirfd, path, REAL(symlinkat)(target, dirfd, path),
		   shim_core.dafs_symlink(s, target, dp));
}

ssize_t readlink(const char *path, char *buf, size_t n)
{
	ROUTE_PATH(AT_FDCWD, path, REAL(readlink)(path, buf, n), shim_core.dafs_readlink(s, dp, buf, n));
}

ssize_t readlinkat(int dirfd, const char *path, char *buf, size_t n)
{
	ROUTE_PATH(dirfd, path, REAL(readlinkat)(dirfd, path, buf, n),
		   shim_core.dafs_readlink(s, dp, buf, n));
}

ssize_t __readlink_chk(const char *path, char *buf, size_t n, size_t bl)
{
	ROUTE_PATH(AT_FDCWD, path, REAL(__readlink_chk)(path, buf, n, bl),
		   n > bl ? (abort(), 0) : shim_core.dafs_readlink(s, dp, buf, n));
}

ssize_t __readlinkat_chk(int dirfd, const char *path, char *buf, size_t n, size_t bl)
{
	ROUTE_PATH(dirfd, path, REAL(__readlinkat_chk)(dirfd, path, buf, n, bl),
		   n > bl ? (abort(), 0) : shim_core.dafs_readlink(s, dp, buf, n));
}
