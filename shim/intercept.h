/* intercept.h — the one list of libc calls libdafsshim.so wraps.
 *
 * Each call appears once as X(return type, name, (parameters)). real.c
 * generates from it a pointer to the next definition (libc's) per call and
 * resolves them all with dlsym(RTLD_NEXT) in a constructor; the wrappers
 * (wrap_*.c) are the only other place a name appears. The prototypes must
 * match glibc's headers exactly where glibc declares the call; the ones it
 * no longer declares (__xstat...) get theirs from this table.
 *
 * These calls, and libaio's below, are all that libdafsshim.so exports: the
 * shim is compiled with -fvisibility=hidden and the prototypes generated
 * here mark each wrapper SHIM_EXPORT, so that no internal name of the shim
 * (shim_fd_get, real_open...) can meet a program's symbol of that name.
 * bats/exports.bats checks that the exports are exactly this list.
 *
 * x86_64 only: there struct stat == struct stat64, off_t == off64_t and
 * struct dirent == struct dirent64, so the 64-bit names share one body.
 * glibc (2.36) has no fortify (__*_chk) variant of preadv/pwritev and their
 * v2 forms, so none is listed.
 */
#ifndef SHIM_INTERCEPT_H
#define SHIM_INTERCEPT_H

#include <aio.h>
#include <dirent.h>
#include <dlfcn.h>
#include <fcntl.h>
#include <fts.h>
#include <ftw.h>
#include <glob.h>
#include <grp.h>
#include <mntent.h>
#include <stdarg.h>
#include <sys/fanotify.h>
#include <sys/fsuid.h>
#include <sys/inotify.h>
#include <sys/ipc.h>
#include <sys/mount.h>
#include <sys/quota.h>
#include <sys/swap.h>
#include <unistd.h>
#include <utmp.h>
#include <utmpx.h>
#include <stdio.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/statvfs.h>
#include <sys/time.h>
#include <sys/types.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <sys/xattr.h>
#include <stdint.h>
#include <spawn.h>
#include <utime.h>

#define FOREACH_INTERCEPT(X)                                                         \
	/* opening and closing */                                                    \
	X(int, open, (const char *path, int flags, ...))                             \
	X(int, open64, (const char *path, int flags, ...))                           \
	X(int, __open_2, (const char *path, int flags))                              \
	X(int, __open64_2, (const char *path, int flags))                            \
	X(int, openat, (int dirfd, const char *path, int flags, ...))                \
	X(int, openat64, (int dirfd, const char *path, int flags, ...))              \
	X(int, __openat_2, (int dirfd, const char *path, int flags))                 \
	X(int, __openat64_2, (int dirfd, const char *path, int flags))               \
	X(int, creat, (const char *path, mode_t mode))                               \
	X(int, creat64, (const char *path, mode_t mode))                             \
	X(int, close, (int fd))                                                      \
	/* data */                                                                   \
	X(ssize_t, read, (int fd, void *buf, size_t n))                              \
	X(ssize_t, __read_chk, (int fd, void *buf, size_t n, size_t buflen))         \
	X(ssize_t, write, (int fd, const void *buf, size_t n))                       \
	X(ssize_t, pread, (int fd, void *buf, size_t n, off_t off))                  \
	X(ssize_t, pread64, (int fd, void *buf, size_t n, off64_t off))              \
	X(ssize_t, __pread_chk, (int fd, void *buf, size_t n, off_t off, size_t bl)) \
	X(ssize_t, __pread64_chk, (int fd, void *buf, size_t n, off64_t off,         \
				   size_t bl))                                       \
	X(ssize_t, pwrite, (int fd, const void *buf, size_t n, off_t off))           \
	X(ssize_t, pwrite64, (int fd, const void *buf, size_t n, off64_t off))       \
	X(ssize_t, readv, (int fd, const struct iovec *iov, int cnt))                \
	X(ssize_t, writev, (int fd, const struct iovec *iov, int cnt))               \
	X(ssize_t, preadv, (int fd, const struct iovec *iov, int cnt, off_t off))    \
	X(ssize_t, preadv64, (int fd, const struct iovec *iov, int cnt,              \
			      off64_t off))                                          \
	X(ssize_t, pwritev, (int fd, const struct iovec *iov, int cnt, off_t off))   \
	X(ssize_t, pwritev64, (int fd, const struct iovec *iov, int cnt,             \
			       off64_t off))                                         \
	X(ssize_t, preadv2, (int fd, const struct iovec *iov, int cnt, off_t off,    \
			     int flags))                                             \
	X(ssize_t, preadv64v2, (int fd, const struct iovec *iov, int cnt,            \
				off64_t off, int flags))                             \
	X(ssize_t, pwritev2, (int fd, const struct iovec *iov, int cnt, off_t off,   \
			      int flags))                                            \
	X(ssize_t, pwritev64v2, (int fd, const struct iovec *iov, int cnt,           \
				 off64_t off, int flags))                            \
	X(off_t, lseek, (int fd, off_t off, int whence))                             \
	X(off64_t, lseek64, (int fd, off64_t off, int whence))                       \
	X(int, ftruncate, (int fd, off_t len))                                       \
	X(int, ftruncate64, (int fd, off64_t len))                                   \
	X(int, fsync, (int fd))                                                      \
	X(int, fdatasync, (int fd))                                                  \
	X(int, sync_file_range, (int fd, off64_t off, off64_t n, unsigned flags))    \
	X(int, fallocate, (int fd, int mode, off_t off, off_t len))                  \
	X(int, fallocate64, (int fd, int mode, off64_t off, off64_t len))            \
	X(int, posix_fallocate, (int fd, off_t off, off_t len))                      \
	X(int, posix_fallocate64, (int fd, off64_t off, off64_t len))                \
	X(int, posix_fadvise, (int fd, off_t off, off_t len, int advice))            \
	X(int, posix_fadvise64, (int fd, off64_t off, off64_t len, int advice))      \
	/* POSIX aio (libc.so.6 since glibc 2.34): wrap_aio.c */                     \
	X(int, aio_read, (struct aiocb *cb))                                         \
	X(int, aio_read64, (struct aiocb64 *cb))                                     \
	X(int, aio_write, (struct aiocb *cb))                                        \
	X(int, aio_write64, (struct aiocb64 *cb))                                    \
	X(int, aio_fsync, (int op, struct aiocb *cb))                                \
	X(int, aio_fsync64, (int op, struct aiocb64 *cb))                            \
	X(int, aio_error, (const struct aiocb *cb))                                  \
	X(int, aio_error64, (const struct aiocb64 *cb))                              \
	X(ssize_t, aio_return, (struct aiocb *cb))                                   \
	X(ssize_t, aio_return64, (struct aiocb64 *cb))                               \
	X(int, aio_suspend, (const struct aiocb *const list[], int n,                \
			       const struct timespec *timeout))                      \
	X(int, aio_suspend64, (const struct aiocb64 *const list[], int n,            \
				 const struct timespec *timeout))                    \
	X(int, aio_cancel, (int fd, struct aiocb *cb))                               \
	X(int, aio_cancel64, (int fd, struct aiocb64 *cb))                           \
	X(int, lio_listio, (int mode, struct aiocb *const list[], int n,             \
			      struct sigevent *sev))                                 \
	X(int, lio_listio64, (int mode, struct aiocb64 *const list[], int n,         \
				struct sigevent *sev))                               \
	/* descriptors */                                                            \
	X(int, dup, (int fd))                                                        \
	X(int, dup2, (int fd, int fd2))                                              \
	X(int, dup3, (int fd, int fd2, int flags))                                   \
	X(int, fcntl, (int fd, int cmd, ...))                                        \
	X(int, fcntl64, (int fd, int cmd, ...))                                      \
	/* copying (wrap_copy.c) and mapping (wrap_mmap.c) through the shim */     \
	X(ssize_t, copy_file_range, (int in, off64_t *inoff, int out,                \
				     off64_t *outoff, size_t len, unsigned flags))   \
	X(ssize_t, sendfile, (int out, int in, off_t *off, size_t n))                \
	X(ssize_t, sendfile64, (int out, int in, off64_t *off, size_t n))            \
	X(ssize_t, splice, (int in, off64_t *inoff, int out, off64_t *outoff,        \
			    size_t len, unsigned flags))                             \
	X(void *, mmap, (void *addr, size_t len, int prot, int flags, int fd,        \
			 off_t off))                                                 \
	X(void *, mmap64, (void *addr, size_t len, int prot, int flags, int fd,      \
			   off64_t off))                                             \
	X(int, munmap, (void *addr, size_t len))                                     \
	X(int, msync, (void *addr, size_t len, int flags))                           \
	/* calls a DAFS descriptor does not support (ENOTSUP and friends) */         \
	X(int, ioctl, (int fd, unsigned long req, ...))                              \
	X(int, flock, (int fd, int op))                                              \
	/* named attributes: the path, l- and f-forms (wrap_xattr.c) */              \
	X(ssize_t, getxattr, (const char *path, const char *name, void *v,           \
			      size_t n))                                             \
	X(ssize_t, lgetxattr, (const char *path, const char *name, void *v,          \
			       size_t n))                                            \
	X(ssize_t, fgetxattr, (int fd, const char *name, void *v, size_t n))         \
	X(int, setxattr, (const char *path, const char *name, const void *v,         \
			  size_t n, int flags))                                      \
	X(int, lsetxattr, (const char *path, const char *name, const void *v,        \
			   size_t n, int flags))                                     \
	X(int, fsetxattr, (int fd, const char *name, const void *v, size_t n,        \
			   int flags))                                               \
	X(ssize_t, listxattr, (const char *path, char *list, size_t n))              \
	X(ssize_t, llistxattr, (const char *path, char *list, size_t n))             \
	X(ssize_t, flistxattr, (int fd, char *list, size_t n))                       \
	X(int, removexattr, (const char *path, const char *name))                    \
	X(int, lremovexattr, (const char *path, const char *name))                   \
	X(int, fremovexattr, (int fd, const char *name))                             \
	/* found by the descriptor audit (wrap_placeholder.c, shim/AUDIT-fd.md) */   \
	X(ssize_t, readahead, (int fd, off64_t off, size_t n))                       \
	X(int, lockf, (int fd, int cmd, off_t len))                                  \
	X(int, lockf64, (int fd, int cmd, off64_t len))                              \
	X(int, fstatvfs64, (int fd, struct statvfs64 *sv))                           \
	X(ssize_t, getdirentries, (int fd, char *buf, size_t n, off_t *basep))       \
	X(ssize_t, getdirentries64, (int fd, char *buf, size_t n,                    \
				     off64_t *basep))                                \
	/* attributes */                                                             \
	X(int, fstat, (int fd, struct stat *st))                                     \
	X(int, fstat64, (int fd, struct stat64 *st))                                 \
	X(int, stat, (const char *path, struct stat *st))                            \
	X(int, stat64, (const char *path, struct stat64 *st))                        \
	X(int, lstat, (const char *path, struct stat *st))                           \
	X(int, lstat64, (const char *path, struct stat64 *st))                       \
	X(int, fstatat, (int dirfd, const char *path, struct stat *st, int flags))   \
	X(int, fstatat64, (int dirfd, const char *path, struct stat64 *st,           \
			   int flags))                                               \
	X(int, __xstat, (int ver, const char *path, struct stat *st))                \
	X(int, __xstat64, (int ver, const char *path, struct stat64 *st))            \
	X(int, __lxstat, (int ver, const char *path, struct stat *st))               \
	X(int, __lxstat64, (int ver, const char *path, struct stat64 *st))           \
	X(int, __fxstat, (int ver, int fd, struct stat *st))                         \
	X(int, __fxstat64, (int ver, int fd, struct stat64 *st))                     \
	X(int, __fxstatat, (int ver, int dirfd, const char *path, struct stat *st,   \
			    int flags))                                              \
	X(int, __fxstatat64, (int ver, int dirfd, const char *path,                  \
			      struct stat64 *st, int flags))                         \
	X(int, statx, (int dirfd, const char *path, int flags, unsigned mask,        \
		       struct statx *stx))                                           \
	X(int, fstatfs, (int fd, struct statfs *sf))                                 \
	X(int, fstatfs64, (int fd, struct statfs64 *sf))                             \
	X(int, statfs, (const char *path, struct statfs *sf))                        \
	X(int, statfs64, (const char *path, struct statfs64 *sf))                    \
	X(int, fstatvfs, (int fd, struct statvfs *sv))                               \
	X(int, statvfs, (const char *path, struct statvfs *sv))                      \
	X(int, access, (const char *path, int mode))                                 \
	X(int, faccessat, (int dirfd, const char *path, int mode, int flags))        \
	X(int, euidaccess, (const char *path, int mode))                             \
	X(int, eaccess, (const char *path, int mode))                                \
	X(mode_t, umask, (mode_t mask))   /* tracked: wrap_umask.c */                \
	X(int, setuid, (uid_t uid))       /* identity changes: wrap_creds.c */       \
	X(int, seteuid, (uid_t uid))                                                 \
	X(int, setreuid, (uid_t ruid, uid_t euid))                                   \
	X(int, setresuid, (uid_t ruid, uid_t euid, uid_t suid))                      \
	X(int, setgid, (gid_t gid))                                                  \
	X(int, setegid, (gid_t gid))                                                 \
	X(int, setregid, (gid_t rgid, gid_t egid))                                   \
	X(int, setresgid, (gid_t rgid, gid_t egid, gid_t sgid))                      \
	X(int, setgroups, (size_t n, const gid_t *groups))                           \
	X(int, initgroups, (const char *user, gid_t group))                          \
	X(int, setfsuid, (uid_t uid))                                                \
	X(int, setfsgid, (gid_t gid))                                                \
	X(int, chmod, (const char *path, mode_t mode))                               \
	X(int, fchmod, (int fd, mode_t mode))                                        \
	X(int, fchmodat, (int dirfd, const char *path, mode_t mode, int flags))      \
	X(int, chown, (const char *path, uid_t uid, gid_t gid))                      \
	X(int, lchown, (const char *path, uid_t uid, gid_t gid))                     \
	X(int, fchown, (int fd, uid_t uid, gid_t gid))                               \
	X(int, fchownat, (int dirfd, const char *path, uid_t uid, gid_t gid,         \
			  int flags))                                                \
	X(int, utimensat, (int dirfd, const char *path,                              \
			   const struct timespec times[2], int flags))               \
	X(int, futimens, (int fd, const struct timespec times[2]))                   \
	X(int, utimes, (const char *path, const struct timeval tv[2]))               \
	X(int, lutimes, (const char *path, const struct timeval tv[2]))              \
	X(int, futimes, (int fd, const struct timeval tv[2]))                        \
	X(int, futimesat, (int dirfd, const char *path, const struct timeval tv[2])) \
	X(int, utime, (const char *path, const struct utimbuf *times))               \
	X(int, truncate, (const char *path, off_t len))                              \
	X(int, truncate64, (const char *path, off64_t len))                          \
	/* names */                                                                  \
	X(int, unlink, (const char *path))                                           \
	X(int, remove, (const char *path))                                           \
	X(int, unlinkat, (int dirfd, const char *path, int flags))                   \
	X(int, mkdir, (const char *path, mode_t mode))                               \
	X(int, mkdirat, (int dirfd, const char *path, mode_t mode))                  \
	X(int, rmdir, (const char *path))                                            \
	X(int, rename, (const char *from, const char *to))                           \
	X(int, renameat, (int fromfd, const char *from, int tofd, const char *to))   \
	X(int, renameat2, (int fromfd, const char *from, int tofd, const char *to,   \
			   unsigned flags))                                          \
	X(int, link, (const char *from, const char *to))                             \
	X(int, linkat, (int fromfd, const char *from, int tofd, const char *to,      \
			int flags))                                                  \
	X(int, symlink, (const char *target, const char *path))                      \
	X(int, symlinkat, (const char *target, int dirfd, const char *path))         \
	X(ssize_t, readlink, (const char *path, char *buf, size_t n))                \
	X(ssize_t, readlinkat, (int dirfd, const char *path, char *buf, size_t n))   \
	X(ssize_t, __readlink_chk, (const char *path, char *buf, size_t n,           \
				    size_t bl))                                      \
	X(ssize_t, __readlinkat_chk, (int dirfd, const char *path, char *buf,        \
				      size_t n, size_t bl))                          \
	X(char *, realpath, (const char *path, char *resolved))                      \
	X(char *, canonicalize_file_name, (const char *path))                        \
	/* directories and the working directory */                                  \
	X(DIR *, opendir, (const char *path))                                        \
	X(DIR *, fdopendir, (int fd))                                                \
	X(struct dirent *, readdir, (DIR *d))                                        \
	X(struct dirent64 *, readdir64, (DIR *d))                                    \
	X(int, readdir_r, (DIR *d, struct dirent *ent, struct dirent **res))         \
	X(int, readdir64_r, (DIR *d, struct dirent64 *ent, struct dirent64 **res))   \
	X(int, scandir, (const char *path, struct dirent ***list,                    \
			 int (*filter)(const struct dirent *),                       \
			 int (*compar)(const struct dirent **,                       \
				       const struct dirent **)))                     \
	X(int, scandir64, (const char *path, struct dirent64 ***list,                \
			   int (*filter)(const struct dirent64 *),                   \
			   int (*compar)(const struct dirent64 **,                   \
					 const struct dirent64 **)))                 \
	X(int, scandirat, (int dirfd, const char *path, struct dirent ***list,       \
			   int (*filter)(const struct dirent *),                     \
			   int (*compar)(const struct dirent **,                     \
					 const struct dirent **)))                   \
	X(int, scandirat64, (int dirfd, const char *path, struct dirent64 ***list,   \
			     int (*filter)(const struct dirent64 *),                 \
			     int (*compar)(const struct dirent64 **,                 \
					   const struct dirent64 **)))               \
	X(ssize_t, getdents64, (int fd, void *buf, size_t n))                        \
	X(int, closedir, (DIR *d))                                                   \
	X(void, rewinddir, (DIR *d))                                                 \
	X(long, telldir, (DIR *d))                                                   \
	X(void, seekdir, (DIR *d, long pos))                                         \
	X(int, dirfd, (DIR *d))                                                      \
	X(int, chdir, (const char *path))                                            \
	X(int, fchdir, (int fd))                                                     \
	X(char *, getcwd, (char *buf, size_t size))                                  \
	X(char *, __getcwd_chk, (char *buf, size_t size, size_t bl))                 \
	/* glibc functions that reach paths through its internal calls, past  \
	 * interposition: redone on the shim's calls for DAFS (wrap_glibc.c) */ \
	X(int, mkstemp, (char *tmpl))                                                \
	X(int, mkstemp64, (char *tmpl))                                              \
	X(int, mkostemp, (char *tmpl, int flags))                                    \
	X(int, mkostemp64, (char *tmpl, int flags))                                  \
	X(int, mkstemps, (char *tmpl, int suffixlen))                                \
	X(int, mkstemps64, (char *tmpl, int suffixlen))                              \
	X(int, mkostemps, (char *tmpl, int suffixlen, int flags))                    \
	X(int, mkostemps64, (char *tmpl, int suffixlen, int flags))                  \
	X(char *, mkdtemp, (char *tmpl))                                             \
	X(char *, tempnam, (const char *dir, const char *pfx))                       \
	X(FILE *, tmpfile, (void))                                                   \
	X(FILE *, tmpfile64, (void))                                                 \
	X(char *, tmpnam, (char buf[L_tmpnam]))                                      \
	X(char *, tmpnam_r, (char buf[L_tmpnam]))                                    \
	X(char *, __realpath_chk, (const char *path, char *resolved, size_t rl))     \
	X(char *, get_current_dir_name, (void))                                      \
	X(char *, getwd, (char *buf))                                                \
	X(char *, __getwd_chk, (char *buf, size_t bl))                               \
	X(int, statvfs64, (const char *path, struct statvfs64 *sv))                  \
	X(long, pathconf, (const char *path, int name))                              \
	X(long, fpathconf, (int fd, int name))                                       \
	X(int, ftw, (const char *dir, __ftw_func_t fn, int nopenfd))                 \
	X(int, ftw64, (const char *dir, __ftw64_func_t fn, int nopenfd))             \
	X(int, nftw, (const char *dir, __nftw_func_t fn, int nopenfd, int flags))    \
	X(int, nftw64, (const char *dir, __nftw64_func_t fn, int nopenfd,            \
			int flags))                                                  \
	X(int, glob, (const char *pattern, int flags,                                \
		      int (*errfunc)(const char *, int), glob_t *pglob))             \
	X(int, glob64, (const char *pattern, int flags,                              \
			int (*errfunc)(const char *, int), glob64_t *pglob))         \
	X(FTS *, fts_open, (char *const *argv, int options,                          \
			    int (*compar)(const FTSENT **, const FTSENT **)))        \
	X(FTS64 *, fts64_open, (char *const *argv, int options,                      \
				int (*compar)(const FTSENT64 **,                     \
					      const FTSENT64 **)))                   \
	X(char *, mktemp, (char *tmpl))                                              \
	X(key_t, ftok, (const char *path, int id))                                   \
	X(int, lchmod, (const char *path, mode_t mode))                              \
	X(int, syncfs, (int fd))                                                     \
	X(int, dprintf, (int fd, const char *fmt, ...))                              \
	X(int, vdprintf, (int fd, const char *fmt, va_list ap))                      \
	X(int, __dprintf_chk, (int fd, int flag, const char *fmt, ...))              \
	X(int, __vdprintf_chk, (int fd, int flag, const char *fmt, va_list ap))      \
	X(FILE *, setmntent, (const char *path, const char *mode))                   \
	/* paths DAFS cannot serve: a clear errno, not the local disk (wrap_refuse.c) */ \
	X(int, chroot, (const char *path))                                           \
	X(int, acct, (const char *path))                                             \
	X(int, mount, (const char *src, const char *dir, const char *type,           \
		       unsigned long flags, const void *data))                       \
	X(int, umount, (const char *dir))                                            \
	X(int, umount2, (const char *dir, int flags))                                \
	X(int, swapon, (const char *path, int flags))                                \
	X(int, swapoff, (const char *path))                                          \
	X(int, quotactl, (int cmd, const char *special, int id, caddr_t addr))       \
	X(int, open_tree, (int dirfd, const char *path, unsigned flags))             \
	X(int, fspick, (int dirfd, const char *path, unsigned flags))                \
	X(int, inotify_add_watch, (int fd, const char *path, uint32_t mask))         \
	X(int, fanotify_mark, (int fd, unsigned flags, uint64_t mask, int dirfd,     \
			       const char *path))                                    \
	X(int, name_to_handle_at, (int dirfd, const char *path,                      \
				   struct file_handle *handle, int *mount_id,        \
				   int flags))                                       \
	X(int, utmpname, (const char *path))                                         \
	X(int, utmpxname, (const char *path))                                        \
	X(int, posix_spawn_file_actions_addopen, (posix_spawn_file_actions_t *fa,    \
						  int fd, const char *path,          \
						  int flags, mode_t mode))           \
	X(int, posix_spawn_file_actions_addchdir_np,                                 \
	  (posix_spawn_file_actions_t *fa, const char *path))                        \
	X(int, posix_spawn_file_actions_addfchdir_np,                                \
	  (posix_spawn_file_actions_t *fa, int fd))                                  \
	/* stdio */                                                                  \
	X(FILE *, fopen, (const char *path, const char *mode))                       \
	X(FILE *, fopen64, (const char *path, const char *mode))                     \
	X(FILE *, fdopen, (int fd, const char *mode))                                \
	X(FILE *, freopen, (const char *path, const char *mode, FILE *fp))           \
	X(FILE *, freopen64, (const char *path, const char *mode, FILE *fp))         \
	/* exec: DAFS descriptors a new program inherits are named to its shim */    \
	X(int, execve, (const char *path, char *const argv[], char *const envp[]))   \
	X(int, execv, (const char *path, char *const argv[]))                        \
	X(int, execvp, (const char *file, char *const argv[]))                       \
	X(int, execvpe, (const char *file, char *const argv[],                       \
			 char *const envp[]))                                        \
	X(int, execl, (const char *path, const char *arg, ...))                      \
	X(int, execlp, (const char *file, const char *arg, ...))                     \
	X(int, execle, (const char *path, const char *arg, ...))                     \
	X(int, fexecve, (int fd, char *const argv[], char *const envp[]))            \
	X(int, posix_spawn, (pid_t *pid, const char *path,                           \
			     const posix_spawn_file_actions_t *fa,                   \
			     const posix_spawnattr_t *attr, char *const argv[],      \
			     char *const envp[]))                                    \
	X(int, posix_spawnp, (pid_t *pid, const char *file,                          \
			      const posix_spawn_file_actions_t *fa,                  \
			      const posix_spawnattr_t *attr, char *const argv[],     \
			      char *const envp[]))                                   \
	X(int, system, (const char *cmd))                                            \
	X(FILE *, popen, (const char *cmd, const char *mode))                        \
	/* libraries on DAFS (wrap_dlopen.c: the wrappers are assembly) */           \
	X(void *, dlopen, (const char *file, int flags))                             \
	X(void *, dlmopen, (Lmid_t lmid, const char *file, int flags))             \
	/* special files (wrap_special.c): fifo, device and socket inodes */         \
	X(int, mknod, (const char *path, mode_t mode, dev_t dev))                    \
	X(int, mknodat, (int dirfd, const char *path, mode_t mode, dev_t dev))       \
	X(int, __xmknod, (int ver, const char *path, mode_t mode, dev_t *dev))       \
	X(int, __xmknodat, (int ver, int dirfd, const char *path, mode_t mode,       \
			    dev_t *dev))                                             \
	X(int, mkfifo, (const char *path, mode_t mode))                              \
	X(int, mkfifoat, (int dirfd, const char *path, mode_t mode))                 \
	X(int, bind, (int fd, __CONST_SOCKADDR_ARG addr, socklen_t len))             \
	X(int, connect, (int fd, __CONST_SOCKADDR_ARG addr, socklen_t len))

/* libaio's calls (libaio.so.1, not libc): wrapped like the others, but
 * resolved by wrap_aio.c on first use, since a program without libaio has no
 * definition for real.c to find. */
typedef struct io_context *io_context_t;
struct iocb;
struct io_event;
#define FOREACH_LIBAIO_INTERCEPT(X)                                                  \
	X(int, io_setup, (int maxevents, io_context_t *ctxp))                        \
	X(int, io_destroy, (io_context_t ctx))                                       \
	X(int, io_submit, (io_context_t ctx, long nr, struct iocb *ios[]))           \
	X(int, io_cancel, (io_context_t ctx, struct iocb *iocb,                      \
			   struct io_event *evt))                                    \
	X(int, io_getevents, (io_context_t ctx, long min_nr, long nr,                \
			      struct io_event *events, struct timespec *timeout))

/* Pointers to the next definition of each call (libc's), never NULL after
 * shim_resolve_real(): a missing symbol aborts with a message. */
#define SHIM_DECLARE_REAL(ret, name, params) extern ret(*real_##name) params;
FOREACH_INTERCEPT(SHIM_DECLARE_REAL)
#undef SHIM_DECLARE_REAL

/* Prototypes of the wrappers, exported (everything else in the shim is
 * hidden); they also declare the names glibc's headers no longer do. */
#define SHIM_EXPORT __attribute__((visibility("default")))
#define SHIM_DECLARE_WRAPPER(ret, name, params) SHIM_EXPORT ret name params;
FOREACH_INTERCEPT(SHIM_DECLARE_WRAPPER)
FOREACH_LIBAIO_INTERCEPT(SHIM_DECLARE_WRAPPER)
#undef SHIM_DECLARE_WRAPPER

void shim_resolve_real(void);

/* REAL(open)(...): libc's open, resolved first if a wrapper runs before the
 * shim's constructor (another library's constructor can call us that early). */
#define REAL(name) (__builtin_expect(real_##name != NULL, 1) ? real_##name : \
		    (shim_resolve_real(), real_##name))

#endif
