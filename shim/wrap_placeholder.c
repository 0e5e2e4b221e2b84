/* wrap_placeholder.c — calls found by the descriptor audit (shim/AUDIT-fd.md)
 * that had no wrapper: on a DAFS descriptor they reached the placeholder
 * memfd (lockf locked it, fstatvfs64 described its tmpfs). Each now does
 * the DAFS thing. (Calls refused on DAFS objects are wrap_refuse.c's;
 * syncfs is wrap_glibc.c's.)
 */
#include <unistd.h>

#include "shim.h"

_Static_assert(sizeof(struct statvfs) == sizeof(struct statvfs64), "x86_64 statvfs ABI");

/* readahead(2) is the server's to do: the WILLNEED hint. As the kernel, a
 * descriptor not open for reading is EBADF. */
ssize_t readahead(int fd, off64_t off, size_t n)
{
	struct dfile *d;
	struct dafs_file *f;
	int rc;

	if (!shim_fd_maybe(fd) || !(d = shim_fd_get(fd)))
		return REAL(readahead)(fd, off, n);
	rc = (d->flags & O_ACCMODE) == O_WRONLY ? -EBADF : shim_dfile_handle(d, &f);
	if (rc == 0)
		rc = off < 0 ? -EINVAL :
		     shim_core.dafs_fadvise(f, off, (off_t)(n > INT64_MAX ? 0 : n), POSIX_FADV_WILLNEED);
	shim_dfile_put(d);
	return rc < 0 ? shim_err(rc) : 0;
}

/* lockf is fcntl locking from the current offset; glibc's calls its own
 * fcntl, past the shim, so on a DAFS descriptor it locked the placeholder.
 * Here it goes through the shim's fcntl (the DAFS byte-range locks), as
 * glibc's implementation reads. */
static int dafs_lockf(int fd, int cmd, off64_t len)
{
	struct flock fl = { .l_type = F_WRLCK, .l_whence = SEEK_CUR, .l_start = 0, .l_len = len };

	switch (cmd) {
	case F_TEST:
		fl.l_type = F_RDLCK;
		if (fcntl(fd, F_GETLK, &fl) < 0)
			return -1;
		if (fl.l_type == F_UNLCK || fl.l_pid == getpid())
			return 0;
		errno = EACCES;
		return -1;
	case F_ULOCK:
		fl.l_type = F_UNLCK;
		return fcntl(fd, F_SETLK, &fl);
	case F_LOCK:
		return fcntl(fd, F_SETLKW, &fl);
	case F_TLOCK:
		return fcntl(fd, F_SETLK, &fl);
	}
	errno = EINVAL;
	return -1;
}

int lockf(int fd, int cmd, off_t len)
{
	if (!shim_fd_maybe(fd))
		return REAL(lockf)(fd, cmd, len);
	return dafs_lockf(fd, cmd, len);
}

int lockf64(int fd, int cmd, off64_t len)
{
	if (!shim_fd_maybe(fd))
		return REAL(lockf64)(fd, cmd, len);
	return dafs_lockf(fd, cmd, len);
}

/* fstatvfs64 is fstatvfs's other name (programs built with 64-bit offsets
 * call it), and described the placeholder's tmpfs. */
int fstatvfs64(int fd, struct statvfs64 *sv)
{
	struct dfile *d;
	struct dafs_file *f;
	int rc;

	if (!shim_fd_maybe(fd) || !(d = shim_fd_get(fd)))
		return REAL(fstatvfs64)(fd, sv);
	rc = shim_dfile_handle(d, &f);
	if (rc == 0)
		rc = shim_core.dafs_fstatvfs(f, (struct statvfs *)sv);
	shim_dfile_put(d);
	return rc < 0 ? shim_err(rc) : 0;
}

/* getdirentries is lseek and getdents64 (glibc's own, past the shim: on a
 * DAFS directory descriptor they read the memfd, ENOTDIR); through the
 * shim's, the DAFS directory's entries and position. */
static ssize_t dafs_getdirentries(int fd, char *buf, size_t n, off64_t *basep)
{
	off64_t base = lseek64(fd, 0, SEEK_CUR);
	ssize_t r;

	if (base < 0)
		return -1;
	r = getdents64(fd, buf, n);
	if (r >= 0 && basep)
		*basep = base;
	return r;
}

ssize_t getdirentries(int fd, char *buf, size_t n, off_t *basep)
{
	if (!shim_fd_maybe(fd))
		return REAL(getdirentries)(fd, buf, n, basep);
	return dafs_getdirentries(fd, buf, n, (off64_t *)basep);
}

ssize_t getdirentries64(int fd, char *buf, size_t n, off64_t *basep)
{
	if (!shim_fd_maybe(fd))
		return REAL(getdirentries64)(fd, buf, n, basep);
	return dafs_getdirentries(fd, buf, n, basep);
}
