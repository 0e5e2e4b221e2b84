/* wrap_io.c — opening, closing, reading and writing DAFS descriptors: the
 * read/write/pread/vector families (preadv2/pwritev2 flags included),
 * fsync, sync_file_range, fallocate and posix_fallocate, fcntl with its
 * process and OFD locks, flock, and the calls a DAFS descriptor refuses.
 *
 * Each wrapper routes and nothing more: a descriptor in the DAFS table (or a
 * path under the prefix) goes to libdafs-core, anything else to libc. The
 * file offset lives in the placeholder (fdtable.c), so reads and writes
 * through dup'ed descriptors and forked children move one shared offset.
 * Closing the last descriptor of a description writes back its shared
 * mappings (wrap_mmap.c); freeing the description releases its OFD locks.
 */
#include <stdarg.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/mman.h>
#include <unistd.h>

#include "shim.h"

int shim_open_dafs(const char *dpath, int flags, mode_t mode)
{
	struct dafs_session *s;
	struct dafs_file *f;
	int rc;

	if (!(s = shim_session(&rc)))
		return rc;
	/* O_TMPFILE: an unnamed file in directory dpath, as the kernel checks
	 * it (its bit includes O_DIRECTORY's: without the rest it is that). */
	if ((flags & O_TMPFILE) == O_TMPFILE &&
	    ((flags & O_CREAT) || (flags & O_ACCMODE) == O_RDONLY))
		return -EINVAL;
	if (flags & O_PATH)
		flags = (flags & ~(O_PATH | O_ACCMODE)) | O_RDONLY;
	if ((flags & O_CREAT) || (flags & O_TMPFILE) == O_TMPFILE)
		mode &= ~shim_umask();
	rc = shim_core.dafs_open(s, dpath, flags, mode, &f);
	/* The server opens only regular files and directories: a fifo, device
	 * or socket inode on DAFS cannot be opened (README, special files). */
	if (rc == -ENXIO && shim_debug)
		shim_log("open %s: a fifo, device or socket on DAFS cannot be opened (ENXIO)",
			 dpath);
	if (rc < 0)
		return rc;
	return shim_fd_install(f, dpath, flags);
}

/* The mode argument of open: present only when the flags ask for one. */
#define OPEN_MODE(flags, mode)                                \
	do {                                                  \
		if (__OPEN_NEEDS_MODE(flags)) {               \
			va_list ap_;                          \
			va_start(ap_, flags);                 \
			mode = (mode_t)va_arg(ap_, int);      \
			va_end(ap_);                          \
		}                                             \
	} while (0)

/* Routes an open; a descriptor libc returns may reuse the number of a DAFS
 * descriptor closed behind the shim's back (close_range, a raw syscall), so
 * its stale entry is dropped. */
#define ROUTE_OPEN(dirfd, path, flags, mode, real_call)                   \
	do {                                                              \
		char dp_[SHIM_PATH_MAX];                                       \
		int r_ = shim_route(dirfd, path, dp_), fd_;               \
		if (r_ < 0)                                               \
			return shim_err(r_);                              \
		if (r_ > 0) {                                             \
			fd_ = shim_open_dafs(dp_, flags, mode);           \
			return fd_ < 0 ? shim_err(fd_) : fd_;             \
		}                                                         \
		fd_ = real_call;                                          \
		if (fd_ >= 0)                                             \
			shim_fd_forget(fd_);                              \
		return fd_;                                               \
	} while (0)

int open(const char *path, int flags, ...)
{
	mode_t mode = 0;

	OPEN_MODE(flags, mode);
	ROUTE_OPEN(AT_FDCWD, path, flags, mode, REAL(open)(path, flags, mode));
}

int open64(const char *path, int flags, ...)
{
	mode_t mode = 0;

	OPEN_MODE(flags, mode);
	ROUTE_OPEN(AT_FDCWD, path, flags, mode, REAL(open64)(path, flags, mode));
}

int __open_2(const char *path, int flags)
{
	ROUTE_OPEN(AT_FDCWD, path, flags, 0, REAL(__open_2)(path, flags));
}

int __open64_2(const char *path, int flags)
{
	ROUTE_OPEN(AT_FDCWD, path, flags, 0, REAL(__open64_2)(path, flags));
}

int openat(int dirfd, const char *path, int flags, ...)
{
	mode_t mode = 0;

	OPEN_MODE(flags, mode);
	ROUTE_OPEN(dirfd, path, flags, mode, REAL(openat)(dirfd, path, flags, mode));
}

int openat64(int dirfd, const char *path, int flags, ...)
{
	mode_t mode = 0;

	OPEN_MODE(flags, mode);
	ROUTE_OPEN(dirfd, path, flags, mode, REAL(openat64)(dirfd, path, flags, mode));
}

int __openat_2(int dirfd, const char *path, int flags)
{
	ROUTE_OPEN(dirfd, path, flags, 0, REAL(__openat_2)(dirfd, path, flags));
}

int __openat64_2(int dirfd, const char *path, int flags)
{
	ROUTE_OPEN(dirfd, path, flags, 0, REAL(__openat64_2)(dirfd, path, flags));
}

int creat(const char *path, mode_t mode)
{
	ROUTE_OPEN(AT_FDCWD, path, O_WRONLY | O_CREAT | O_TRUNC, mode, REAL(creat)(path, mode));
}

int creat64(const char *path, mode_t mode)
{
	ROUTE_OPEN(AT_FDCWD, path, O_WRONLY | O_CREAT | O_TRUNC, mode, REAL(creat64)(path, mode));
}

int close(int fd)
{
	struct dfile *d = NULL;
	int flush_err = 0, rc;

	/* Forget before closing: once the kernel frees the number, another
	 * thread's open may take it and install its own entry. */
	if (fd <= 2)
		shim_std_flush(fd);
	if (shim_fd_maybe(fd))
		d = shim_fd_get(fd);
	shim_fd_forget(fd);
	/* The last descriptor of the description is gone: shared mappings of
	 * it reach the file now, so that a process opening it after this close
	 * sees the stores made before it (the mappings themselves stay). */
	if (d) {
		if (atomic_load(&d->nfds) == 0)
			shim_mmap_writeback_dfile(d);
		/* Writes that returned before the server answered them are
		 * answered now; one that failed (ENOSPC, EIO) fails the close,
		 * as on NFS. The descriptor is closed either way. */
		if (d->f && d->gen == atomic_load(&shim_generation))
			flush_err = shim_core.dafs_flush(d->f);
		shim_dfile_put(d);
	}
	rc = REAL(close)(fd);
	return flush_err ? shim_err(flush_err) : rc;
}

/* ---- data ---------------------------------------------------------------- */

/* d for a DAFS descriptor (with a reference), or return real_call. */
#define DFILE_OR_REAL(d, fd, real_call)                            \
	struct dfile *d;                                           \
	if (!shim_fd_maybe(fd) || !(d = shim_fd_get(fd)))          \
		return real_call

static long done(struct dfile *d, long r)
{
	shim_dfile_put(d);
	return r < 0 ? shim_err((int)r) : r;
}

ssize_t shim_fd_read(struct dfile *d, void *buf, size_t n)
{
	struct dafs_file *f;
	ssize_t r;
	off_t off;
	int rc = shim_dfile_handle(d, &f);

	if (rc < 0)
		return rc;
	/* The lock stands in for the kernel's f_pos lock: concurrent reads of
	 * one description do not return the same bytes twice. */
	pthread_mutex_lock(&d->lock);
	off = atomic_load(&d->ph->offset);
	r = shim_core.dafs_pread(f, buf, n, off);
	if (r > 0)
		atomic_store(&d->ph->offset, off + r);
	pthread_mutex_unlock(&d->lock);
	return r;
}

ssize_t shim_fd_write(struct dfile *d, const void *buf, size_t n)
{
	struct dafs_file *f;
	struct stat st;
	ssize_t r;
	off_t off;
	int rc = shim_dfile_handle(d, &f);

	if (rc < 0)
		return rc;
	pthread_mutex_lock(&d->lock);
	if ((d->flags & O_APPEND) && (d->fflags & O_APPEND)) {
		r = shim_core.dafs_append(f, buf, n, &off);
	} else if (d->flags & O_APPEND) {
		/* O_APPEND set by F_SETFL on a file opened without it: the
		 * server does not append for this handle, so this is not atomic
		 * against other writers. */
		r = shim_core.dafs_fstat(f, &st);
		off = st.st_size;
		if (r == 0)
			r = shim_core.dafs_pwrite(f, buf, n, off);
	} else {
		off = atomic_load(&d->ph->offset);
		r = shim_core.dafs_pwrite(f, buf, n, off);
	}
	if (r > 0)
		atomic_store(&d->ph->offset, off + r);
	pthread_mutex_unlock(&d->lock);
	return r;
}

int shim_fd_stat(struct dfile *d, struct stat *st)
{
	struct dafs_file *f;
	int rc = shim_dfile_handle(d, &f);

	return rc < 0 ? rc : shim_core.dafs_fstat(f, st);
}

off_t shim_fd_seek(struct dfile *d, off_t off, int whence)
{
	struct stat st;
	off_t pos, size = 0;
	int rc;

	if (whence == SEEK_END || whence == SEEK_DATA || whence == SEEK_HOLE) {
		if ((rc = shim_fd_stat(d, &st)) < 0)
			return rc;
		size = st.st_size;
	}
	pthread_mutex_lock(&d->lock);
	switch (whence) {
	case SEEK_SET: pos = off; break;
	case SEEK_CUR: pos = atomic_load(&d->ph->offset) + off; break;
	case SEEK_END: pos = size + off; break;
	/* No holes are visible through DAFS: all data, one hole at the end. */
	case SEEK_DATA: pos = off < size ? off : -ENXIO; break;
	case SEEK_HOLE: pos = off < size ? size : -ENXIO; break;
	default: pos = -EINVAL; break;
	}
	if (pos >= 0 || whence == SEEK_SET || whence == SEEK_CUR || whence == SEEK_END) {
		if (pos < 0 && pos != -ENXIO)
			pos = -EINVAL;
		if (pos >= 0)
			atomic_store(&d->ph->offset, pos);
	}
	pthread_mutex_unlock(&d->lock);
	return pos;
}

static ssize_t fd_pread(struct dfile *d, void *buf, size_t n, off_t off)
{
	struct dafs_file *f;
	int rc = shim_dfile_handle(d, &f);

	if (rc < 0)
		return rc;
	return off < 0 ? -EINVAL : shim_core.dafs_pread(f, buf, n, off);
}

static ssize_t fd_pwrite(struct dfile *d, const void *buf, size_t n, off_t off)
{
	struct dafs_file *f;
	int rc = shim_dfile_handle(d, &f);

	if (rc < 0)
		return rc;
	return off < 0 ? -EINVAL : shim_core.dafs_pwrite(f, buf, n, off);
}

ssize_t read(int fd, void *buf, size_t n)
{
	DFILE_OR_REAL(d, fd, REAL(read)(fd, buf, n));
	return done(d, shim_fd_read(d, buf, n));
}

ssize_t __read_chk(int fd, void *buf, size_t n, size_t buflen)
{
	DFILE_OR_REAL(d, fd, REAL(__read_chk)(fd, buf, n, buflen));
	if (n > buflen)
		abort();   /* what glibc's __chk_fail amounts to */
	return done(d, shim_fd_read(d, buf, n));
}

ssize_t write(int fd, const void *buf, size_t n)
{
	DFILE_OR_REAL(d, fd, REAL(write)(fd, buf, n));
	return done(d, shim_fd_write(d, buf, n));
}

ssize_t pread(int fd, void *buf, size_t n, off_t off)
{
	DFILE_OR_REAL(d, fd, REAL(pread)(fd, buf, n, off));
	return done(d, fd_pread(d, buf, n, off));
}

ssize_t pread64(int fd, void *buf, size_t n, off64_t off)
{
	DFILE_OR_REAL(d, fd, REAL(pread64)(fd, buf, n, off));
	return done(d, fd_pread(d, buf, n, off));
}

ssize_t __pread_chk(int fd, void *buf, size_t n, off_t off, size_t bl)
{
	DFILE_OR_REAL(d, fd, REAL(__pread_chk)(fd, buf, n, off, bl));
	if (n > bl)
		abort();
	return done(d, fd_pread(d, buf, n, off));
}

ssize_t __pread64_chk(int fd, void *buf, size_t n, off64_t off, size_t bl)
{
	DFILE_OR_REAL(d, fd, REAL(__pread64_chk)(fd, buf, n, off, bl));
	if (n > bl)
		abort();
	return done(d, fd_pread(d, buf, n, off));
}

ssize_t pwrite(int fd, const void *buf, size_t n, off_t off)
{
	DFILE_OR_REAL(d, fd, REAL(pwrite)(fd, buf, n, off));
	return done(d, fd_pwrite(d, buf, n, off));
}

ssize_t pwrite64(int fd, const void *buf, size_t n, off64_t off)
{
	DFILE_OR_REAL(d, fd, REAL(pwrite64)(fd, buf, n, off));
	return done(d, fd_pwrite(d, buf, n, off));
}

/* Vectors go one element at a time: not atomic as the kernel's are, but the
 * bytes land where they would. */
static ssize_t vector_io(struct dfile *d, const struct iovec *iov, int cnt, bool write)
{
	ssize_t total = 0, r = 0;

	if (cnt < 0 || cnt > IOV_MAX)
		return -EINVAL;
	for (int i = 0; i < cnt; i++) {
		r = write ? shim_fd_write(d, iov[i].iov_base, iov[i].iov_len) :
			    shim_fd_read(d, iov[i].iov_base, iov[i].iov_len);
		if (r < 0)
			break;
		total += r;
		if ((size_t)r < iov[i].iov_len)
			break;
	}
	return total > 0 || r >= 0 ? total : r;
}

/* preadv/pwritev: the same, at an explicit offset the file's own offset
 * does not follow. */
static ssize_t vector_at(struct dfile *d, const struct iovec *iov, int cnt, off_t off,
			 bool write)
{
	ssize_t total = 0, r = 0;

	if (cnt < 0 || cnt > IOV_MAX || off < 0)
		return -EINVAL;
	for (int i = 0; i < cnt; i++) {
		r = write ? fd_pwrite(d, iov[i].iov_base, iov[i].iov_len, off + total) :
			    fd_pread(d, iov[i].iov_base, iov[i].iov_len, off + total);
		if (r < 0)
			break;
		total += r;
		if ((size_t)r < iov[i].iov_len)
			break;
	}
	return total > 0 || r >= 0 ? total : r;
}

/* pwritev2 with RWF_APPEND: each element at the end of the file, whatever
 * the offset says; with offset -1 the file offset follows, as the kernel's. */
static ssize_t vector_append(struct dfile *d, const struct iovec *iov, int cnt, bool move)
{
	struct dafs_file *f;
	struct stat st;
	ssize_t total = 0, r = 0;
	off_t where = 0;
	int rc = shim_dfile_handle(d, &f);

	if (rc < 0)
		return rc;
	if (cnt < 0 || cnt > IOV_MAX)
		return -EINVAL;
	pthread_mutex_lock(&d->lock);
	for (int i = 0; i < cnt; i++) {
		if (d->fflags & O_APPEND) {
			r = shim_core.dafs_append(f, iov[i].iov_base, iov[i].iov_len, &where);
		} else {
			/* Not atomic against other writers: the server appends
			 * only for handles opened with O_APPEND. */
			r = shim_core.dafs_fstat(f, &st);
			where = st.st_size;
			if (r == 0)
				r = shim_core.dafs_pwrite(f, iov[i].iov_base, iov[i].iov_len, where);
		}
		if (r < 0)
			break;
		total += r;
		if (move)
			atomic_store(&d->ph->offset, where + r);
		if ((size_t)r < iov[i].iov_len)
			break;
	}
	pthread_mutex_unlock(&d->lock);
	return total > 0 || r >= 0 ? total : r;
}

/* preadv2/pwritev2. Offset -1 means the file offset. RWF_HIPRI asks the
 * kernel to poll a fast device: only a hint, ignored. RWF_DSYNC/RWF_SYNC
 * make a write durable before it returns: an fsync on the server after it.
 * RWF_NOWAIT cannot be honoured (whether a DAFS request would wait is not
 * known before it is sent), so it fails with EOPNOTSUPP, which callers
 * take as "try without"; so do flags this shim does not know. */
static ssize_t vector_v2(struct dfile *d, const struct iovec *iov, int cnt, off_t off, int flags,
			 bool write)
{
	const int known = RWF_HIPRI | RWF_DSYNC | RWF_SYNC | RWF_APPEND;
	struct dafs_file *f;
	ssize_t r;
	int rc;

	if ((flags & ~known) || (flags & RWF_NOWAIT))
		return -EOPNOTSUPP;
	if (off < -1)
		return -EINVAL;
	if (write && (flags & RWF_APPEND))
		r = vector_append(d, iov, cnt, off == -1);
	else if (off == -1)
		r = vector_io(d, iov, cnt, write);
	else
		r = vector_at(d, iov, cnt, off, write);
	if (r > 0 && write && (flags & (RWF_DSYNC | RWF_SYNC))) {
		rc = shim_dfile_handle(d, &f);
		if (rc == 0)
			rc = shim_core.dafs_fsync(f, !(flags & RWF_SYNC));
		if (rc < 0)
			r = rc;
	}
	return r;
}

ssize_t readv(int fd, const struct iovec *iov, int cnt)
{
	DFILE_OR_REAL(d, fd, REAL(readv)(fd, iov, cnt));
	return done(d, vector_io(d, iov, cnt, false));
}

ssize_t writev(int fd, const struct iovec *iov, int cnt)
{
	DFILE_OR_REAL(d, fd, REAL(writev)(fd, iov, cnt));
	return done(d, vector_io(d, iov, cnt, true));
}

ssize_t preadv(int fd, const struct iovec *iov, int cnt, off_t off)
{
	DFILE_OR_REAL(d, fd, REAL(preadv)(fd, iov, cnt, off));
	return done(d, vector_at(d, iov, cnt, off, false));
}

ssize_t preadv64(int fd, const struct iovec *iov, int cnt, off64_t off)
{
	DFILE_OR_REAL(d, fd, REAL(preadv64)(fd, iov, cnt, off));
	return done(d, vector_at(d, iov, cnt, off, false));
}

ssize_t pwritev(int fd, const struct iovec *iov, int cnt, off_t off)
{
	DFILE_OR_REAL(d, fd, REAL(pwritev)(fd, iov, cnt, off));
	return done(d, vector_at(d, iov, cnt, off, true));
}

ssize_t pwritev64(int fd, const struct iovec *iov, int cnt, off64_t off)
{
	DFILE_OR_REAL(d, fd, REAL(pwritev64)(fd, iov, cnt, off));
	return done(d, vector_at(d, iov, cnt, off, true));
}

ssize_t preadv2(int fd, const struct iovec *iov, int cnt, off_t off, int flags)
{
	DFILE_OR_REAL(d, fd, REAL(preadv2)(fd, iov, cnt, off, flags));
	return done(d, vector_v2(d, iov, cnt, off, flags, false));
}

ssize_t preadv64v2(int fd, const struct iovec *iov, int cnt, off64_t off, int flags)
{
	DFILE_OR_REAL(d, fd, REAL(preadv64v2)(fd, iov, cnt, off, flags));
	return done(d, vector_v2(d, iov, cnt, off, flags, false));
}

ssize_t pwritev2(int fd, const struct iovec *iov, int cnt, off_t off, int flags)
{
	DFILE_OR_REAL(d, fd, REAL(pwritev2)(fd, iov, cnt, off, flags));
	return done(d, vector_v2(d, iov, cnt, off, flags, true));
}

ssize_t pwritev64v2(int fd, const struct iovec *iov, int cnt, off64_t off, int flags)
{
	DFILE_OR_REAL(d, fd, REAL(pwritev64v2)(fd, iov, cnt, off, flags));
	return done(d, vector_v2(d, iov, cnt, off, flags, true));
}

off_t lseek(int fd, off_t off, int whence)
{
	DFILE_OR_REAL(d, fd, REAL(lseek)(fd, off, whence));
	return done(d, shim_fd_seek(d, off, whence));
}

off64_t lseek64(int fd, off64_t off, int whence)
{
	DFILE_OR_REAL(d, fd, REAL(lseek64)(fd, off, whence));
	return done(d, shim_fd_seek(d, off, whence));
}

static int fd_truncate(struct dfile *d, off_t len)
{
	struct dafs_file *f;
	int rc = shim_dfile_handle(d, &f);

	if (rc < 0)
		return rc;
	return len < 0 ? -EINVAL : shim_core.dafs_ftruncate(f, len);
}

int ftruncate(int fd, off_t len)
{
	DFILE_OR_REAL(d, fd, REAL(ftruncate)(fd, len));
	return (int)done(d, fd_truncate(d, len));
}

int ftruncate64(int fd, off64_t len)
{
	DFILE_OR_REAL(d, fd, REAL(ftruncate64)(fd, len));
	return (int)done(d, fd_truncate(d, len));
}

static int fd_sync(struct dfile *d, int datasync)
{
	struct dafs_file *f;
	int rc = shim_dfile_handle(d, &f);

	return rc < 0 ? rc : shim_core.dafs_fsync(f, datasync);
}

int fsync(int fd)
{
	DFILE_OR_REAL(d, fd, REAL(fsync)(fd));
	return (int)done(d, fd_sync(d, 0));
}

int fdatasync(int fd)
{
	DFILE_OR_REAL(d, fd, REAL(fdatasync)(fd));
	return (int)done(d, fd_sync(d, 1));
}

/* sync_file_range has no finer counterpart on the server: any request to
 * write or wait makes the whole file's data durable (fdatasync), which is
 * never less than was asked. Flags 0 is a no-op, as in the kernel. */
static int fd_sync_range(struct dfile *d, off64_t off, off64_t n, unsigned flags)
{
	const unsigned known = SYNC_FILE_RANGE_WAIT_BEFORE | SYNC_FILE_RANGE_WRITE |
			       SYNC_FILE_RANGE_WAIT_AFTER;

	if ((flags & ~known) || off < 0 || n < 0 || off > INT64_MAX - n)
		return -EINVAL;
	return flags ? fd_sync(d, 1) : 0;
}

int sync_file_range(int fd, off64_t off, off64_t n, unsigned flags)
{
	DFILE_OR_REAL(d, fd, REAL(sync_file_range)(fd, off, n, flags));
	return (int)done(d, fd_sync_range(d, off, n, flags));
}

/* fallocate on the server's file (modes: dafs_fallocate in dafs.h). */
static int fd_allocate(struct dfile *d, int fd, int mode, off_t off, off_t len)
{
	struct dafs_file *f;
	int rc;

	if ((d->flags & O_ACCMODE) == O_RDONLY)
		return -EBADF;
	if ((rc = shim_dfile_handle(d, &f)) < 0)
		return rc;
	rc = shim_core.dafs_fallocate(f, mode, off, len);
	if (rc == -EOPNOTSUPP)
		shim_unsupported("fallocate", fd, EOPNOTSUPP);
	return rc;
}

int fallocate(int fd, int mode, off_t off, off_t len)
{
	DFILE_OR_REAL(d, fd, REAL(fallocate)(fd, mode, off, len));
	return (int)done(d, fd_allocate(d, fd, mode, off, len));
}

int fallocate64(int fd, int mode, off64_t off, off64_t len)
{
	DFILE_OR_REAL(d, fd, REAL(fallocate64)(fd, mode, off, len));
	return (int)done(d, fd_allocate(d, fd, mode, off, len));
}

/* posix_fallocate returns the error number and leaves errno alone. */
int posix_fallocate(int fd, off_t off, off_t len)
{
	int rc;

	DFILE_OR_REAL(d, fd, REAL(posix_fallocate)(fd, off, len));
	rc = fd_allocate(d, fd, 0, off, len);
	shim_dfile_put(d);
	return -rc;
}

int posix_fallocate64(int fd, off64_t off, off64_t len)
{
	int rc;

	DFILE_OR_REAL(d, fd, REAL(posix_fallocate64)(fd, off, len));
	rc = fd_allocate(d, fd, 0, off, len);
	shim_dfile_put(d);
	return -rc;
}

/* posix_fadvise returns the error number instead of setting errno. */
static int fd_fadvise(struct dfile *d, off_t off, off_t len, int advice)
{
	struct dafs_file *f;
	int rc = shim_dfile_handle(d, &f);

	if (rc == 0)
		rc = shim_core.dafs_fadvise(f, off, len, advice);
	shim_dfile_put(d);
	return -rc;
}

int posix_fadvise(int fd, off_t off, off_t len, int advice)
{
	DFILE_OR_REAL(d, fd, REAL(posix_fadvise)(fd, off, len, advice));
	return fd_fadvise(d, off, len, advice);
}

int posix_fadvise64(int fd, off64_t off, off64_t len, int advice)
{
	DFILE_OR_REAL(d, fd, REAL(posix_fadvise64)(fd, off, len, advice));
	return fd_fadvise(d, off, len, advice);
}

/* ---- descriptors ---------------------------------------------------------- */

int dup(int fd)
{
	struct dfile *d = shim_fd_maybe(fd) ? shim_fd_get(fd) : NULL;
	int nfd = REAL(dup)(fd);

	if (nfd >= 0) {
		if (d)
			shim_fd_dup(d, nfd);
		else
			shim_fd_forget(nfd);
	}
	if (d)
		shim_dfile_put(d);
	return nfd;
}

/* After the kernel made fd2 a copy of fd: fd2 now means what fd means. */
static int after_dup(int fd, int fd2, int rc)
{
	struct dfile *d;

	if (rc < 0 || fd == fd2)
		return rc;
	if (shim_fd_maybe(fd) && (d = shim_fd_get(fd))) {
		shim_fd_dup(d, fd2);
		shim_dfile_put(d);
	} else {
		shim_fd_forget(fd2);
	}
	return rc;
}

int dup2(int fd, int fd2)
{
	if (fd2 <= 2 && fd != fd2)
		shim_std_flush(fd2);
	return after_dup(fd, fd2, REAL(dup2)(fd, fd2));
}

int dup3(int fd, int fd2, int flags)
{
	if (fd2 <= 2 && fd != fd2)
		shim_std_flush(fd2);
	return after_dup(fd, fd2, REAL(dup3)(fd, fd2, flags));
}

/* Lock owners on the server: the process for fcntl's POSIX locks; the open
 * file description (the dfile's address, tagged so that it can never equal
 * a pid or the other kind) for OFD locks and flock. User-space addresses
 * stay below 2^47, so the tags are free bits. */
#define OWNER_FLOCK DAFS_LOCK_OWNER_FLOCK
#define OWNER_OFD   (1ULL << 62)

static uint64_t description_owner(struct dfile *d, uint64_t tag)
{
	return (uint64_t)(uintptr_t)d | tag;
}

/* Byte-range locks: POSIX semantics, one owner per process; OFD locks
 * (F_OFD_*) belong to the description and go when its last descriptor
 * closes (dafs_close of its handle releases them). */
static int fd_lock(struct dfile *d, int cmd, struct flock *fl)
{
	struct dafs_file *f;
	struct flock l = *fl;
	struct stat st;
	uint64_t owner = (uint64_t)getpid();
	int rc = shim_dfile_handle(d, &f);

	if (rc < 0)
		return rc;
	if (cmd == F_OFD_GETLK || cmd == F_OFD_SETLK || cmd == F_OFD_SETLKW) {
		/* As the kernel: l_pid must be 0 on the way in. */
		if (l.l_pid != 0)
			return -EINVAL;
		owner = description_owner(d, OWNER_OFD);
		cmd = cmd == F_OFD_GETLK ? F_GETLK : cmd == F_OFD_SETLK ? F_SETLK : F_SETLKW;
	}
	if (l.l_whence == SEEK_CUR) {
		l.l_start += atomic_load(&d->ph->offset);
	} else if (l.l_whence == SEEK_END) {
		if ((rc = shim_core.dafs_fstat(f, &st)) < 0)
			return rc;
		l.l_start += st.st_size;
	}
	l.l_whence = SEEK_SET;
	rc = shim_core.dafs_lock(f, cmd, &l, owner);
	if (rc == DAFS_LOCK_BROKEN)
		rc = 0;            /* fcntl has no such answer: POSIX semantics */
	if (rc == 0 && cmd == F_GETLK)
		*fl = l;
	return rc;
}

/* O_DIRECT and O_NOATIME are kept for F_GETFL (and a reopen after fork or
 * exec) but the open core file keeps the cache mode it was opened with:
 * they change how, not what, and dd turns O_DIRECT off for a short last
 * block. */
#define STATUS_FLAGS (O_APPEND | O_NONBLOCK | O_DIRECT | O_NOATIME)

static int dafs_fcntl(struct dfile *d, int fd, int cmd, void *arg)
{
	int rc;

	switch (cmd) {
	case F_DUPFD:
	case F_DUPFD_CLOEXEC:
		rc = REAL(fcntl)(fd, cmd, arg);
		if (rc >= 0)
			shim_fd_dup(d, rc);
		return rc < 0 ? -errno : rc;
	case F_GETFD:
	case F_SETFD:
		rc = REAL(fcntl)(fd, cmd, arg);
		return rc < 0 ? -errno : rc;
	case F_GETFL:
		return d->flags | O_LARGEFILE;
	case F_SETFL:
		/* O_ASYNC asks for SIGIO, which no DAFS file sends: refused,
		 * not ignored. */
		if ((int)(intptr_t)arg & O_ASYNC) {
			shim_unsupported("fcntl(F_SETFL)", fd, ENOTSUP);
			return -ENOTSUP;
		}
		pthread_mutex_lock(&d->lock);
		d->flags = (d->flags & ~STATUS_FLAGS) | ((int)(intptr_t)arg & STATUS_FLAGS);
		d->ph->flags = d->flags;
		pthread_mutex_unlock(&d->lock);
		return 0;
	case F_GETLK:
	case F_SETLK:
	case F_SETLKW:
	case F_OFD_GETLK:
	case F_OFD_SETLK:
	case F_OFD_SETLKW:
		return arg ? fd_lock(d, cmd, arg) : -EFAULT;
	/* What a regular file of a disk file system answers (the placeholder
	 * is a memfd: its seals and pipe size must not show through). */
	case F_ADD_SEALS:
	case F_GET_SEALS:
		return -EINVAL;
	case F_GETPIPE_SZ:
	case F_SETPIPE_SZ:
		return -EBADF;
	default:
		/* Leases and directory notification need the server to call
		 * back, which it cannot; owners and signals of O_ASYNC, write
		 * hints: nothing on the server to apply them to. */
		shim_unsupported("fcntl", fd, ENOTSUP);
		return -ENOTSUP;
	}
}

static int fcntl_common(int fd, int cmd, void *arg, int (*real)(int, int, ...))
{
	struct dfile *d;
	int rc;

	if (!shim_fd_maybe(fd) || !(d = shim_fd_get(fd))) {
		rc = real(fd, cmd, arg);
		if (rc >= 0 && (cmd == F_DUPFD || cmd == F_DUPFD_CLOEXEC))
			shim_fd_forget(rc);
		return rc;
	}
	return (int)done(d, dafs_fcntl(d, fd, cmd, arg));
}

/* Like glibc's own fcntl, take the one optional argument as a pointer: on
 * x86_64 an int passed there reads back intact. */
int fcntl(int fd, int cmd, ...)
{
	va_list ap;
	void *arg;

	va_start(ap, cmd);
	arg = va_arg(ap, void *);
	va_end(ap);
	return fcntl_common(fd, cmd, arg, REAL(fcntl));
}

int fcntl64(int fd, int cmd, ...)
{
	va_list ap;
	void *arg;

	va_start(ap, cmd);
	arg = va_arg(ap, void *);
	va_end(ap);
	return fcntl_common(fd, cmd, arg, REAL(fcntl64));
}

int flock(int fd, int op)
{
	struct flock fl = { .l_whence = SEEK_SET };
	struct dafs_file *f;
	int rc;

	DFILE_OR_REAL(d, fd, REAL(flock)(fd, op));
	/* flock locks belong to the open file description; the server keeps
	 * them apart from fcntl locks, as Linux does (DAFS_LOCK_OWNER_FLOCK). */
	switch (op & ~LOCK_NB) {
	case LOCK_SH: fl.l_type = F_RDLCK; break;
	case LOCK_EX: fl.l_type = F_WRLCK; break;
	case LOCK_UN: fl.l_type = F_UNLCK; break;
	default: return (int)done(d, -EINVAL);
	}
	rc = shim_dfile_handle(d, &f);
	if (rc == 0)
		rc = shim_core.dafs_lock(f, op & LOCK_NB ? F_SETLK : F_SETLKW, &fl,
				    description_owner(d, OWNER_FLOCK));
	if (rc == DAFS_LOCK_BROKEN)
		rc = 0;            /* flock has no such answer */
	return (int)done(d, rc);
}

/* ---- what a DAFS descriptor does not do ------------------------------------ */

/* copy_file_range, sendfile and splice: wrap_copy.c; mmap: wrap_mmap.c. */

int ioctl(int fd, unsigned long req, ...)
{
	va_list ap;
	void *arg;

	va_start(ap, req);
	arg = va_arg(ap, void *);
	va_end(ap);
	if (shim_fd_maybe(fd))
		return shim_unsupported("ioctl", fd, ENOTTY);
	return REAL(ioctl)(fd, req, arg);
}
