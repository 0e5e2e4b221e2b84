/* wrap_stdio.c — FILE streams on DAFS files.
 *
 * fopen and fdopen of a DAFS path or descriptor return a real FILE built
 * with fopencookie, whose reads, writes, seeks and close go through the
 * descriptor operations of wrap_io.c; everything else about the stream
 * (buffering, fgets, fprintf, ftell) is libc's own.
 */
#include <stdio_ext.h>
#include <string.h>
#include <unistd.h>

#include "shim.h"

static ssize_t cookie_read(void *c, char *buf, size_t n)
{
	return read((int)(intptr_t)c, buf, n);
}

static ssize_t cookie_write(void *c, const char *buf, size_t n)
{
	return write((int)(intptr_t)c, buf, n);
}

static int cookie_seek(void *c, off64_t *pos, int whence)
{
	off64_t r = lseek((int)(intptr_t)c, *pos, whence);

	if (r < 0)
		return -1;
	*pos = r;
	return 0;
}

/* Cookies of standard streams carry this bit: closing the stream (when
 * the descriptor stops being DAFS) must not close the descriptor. */
#define STD_COOKIE ((intptr_t)1 << 40)

static int cookie_close(void *c)
{
	if ((intptr_t)c & STD_COOKIE)
		return 0;
	return close((int)(intptr_t)c);
}

/* fopen's mode string as open flags; -1 if it is not one. */
static int mode_flags(const char *mode)
{
	int flags;

	switch (mode[0]) {
	case 'r': flags = O_RDONLY; break;
	case 'w': flags = O_WRONLY | O_CREAT | O_TRUNC; break;
	case 'a': flags = O_WRONLY | O_CREAT | O_APPEND; break;
	default: return -1;
	}
	for (const char *p = mode + 1; *p && *p != ','; p++) {
		if (*p == '+')
			flags = (flags & ~O_ACCMODE) | O_RDWR;
		else if (*p == 'x')
			flags |= O_EXCL;
		else if (*p == 'e')
			flags |= O_CLOEXEC;
	}
	return flags;
}

static FILE *cookie_stream(intptr_t cookie, int fd, const char *mode)
{
	static const cookie_io_functions_t io = {
		.read = cookie_read, .write = cookie_write,
		.seek = cookie_seek, .close = cookie_close,
	};
	FILE *fp = fopencookie((void *)cookie, mode, io);

	/* glibc marks cookie streams with _fileno -2, so fileno() would fail;
	 * with the descriptor there it answers as for any file stream. libc's
	 * own I/O on the stream still goes through the cookie's functions. */
	if (fp)
		fp->_fileno = fd;
	return fp;
}

static FILE *stream_on(int fd, const char *mode)
{
	return cookie_stream(fd, fd, mode);
}

/* ---- standard streams -------------------------------------------------- */

static FILE *std_orig[3], *std_ours[3];

static FILE **std_var(int fd)
{
	return fd == 0 ? &stdin : fd == 1 ? &stdout : &stderr;
}

void shim_std_flush(int fd)
{
	/* Only output is flushed: fflush on a stream that has been reading
	 * seeks the descriptor back to the stream's logical position, and the
	 * offset is shared, so a child closing stdin (xargs before exec) would
	 * rewind its parent's input. */
	if (fd >= 0 && fd <= 2 && std_ours[fd] && __fwriting(std_ours[fd]))
		fflush(std_ours[fd]);
}

void shim_std_sync(int fd, struct dfile *d)
{
	FILE **var = std_var(fd), *fp;

	if (d && !std_ours[fd]) {
		const char *mode = (d->flags & O_ACCMODE) == O_RDWR ? "r+" :
				   (d->flags & O_ACCMODE) == O_WRONLY ? "w" : "r";
		/* What libc's stream still buffers was meant for the old
		 * descriptor, which is gone; written now it would hit the
		 * placeholder. */
		__fpurge(*var);
		fp = cookie_stream(fd | STD_COOKIE, fd, mode);
		if (!fp)
			return;
		if (fd == 2)
			setvbuf(fp, NULL, _IONBF, 0);
		else if (fd == 1 && isatty(1))
			setvbuf(fp, NULL, _IOLBF, 0);
		std_orig[fd] = *var;
		std_ours[fd] = fp;
		*var = fp;
	} else if (!d && std_ours[fd]) {
		fp = std_ours[fd];
		std_ours[fd] = NULL;
		if (*var == fp)
			*var = std_orig[fd];
		/* Its buffer went out in shim_std_flush; nothing left to lose. */
		__fpurge(fp);
		fclose(fp);
	}
}

static FILE *dafs_fopen(const char *dp, const char *mode)
{
	int flags = mode_flags(mode), fd;
	FILE *fp;

	if (flags < 0) {
		errno = EINVAL;
		return NULL;
	}
	fd = shim_open_dafs(dp, flags, 0666);
	if (fd < 0) {
		errno = -fd;
		return NULL;
	}
	if (!(fp = stream_on(fd, mode))) {
		int e = errno;
		close(fd);
		errno = e;
	}
	return fp;
}

/* fopen and fopen64: DAFS paths get a cookie stream, others libc's. */
static FILE *open_stream(const char *path, const char *mode,
			 FILE *(*libc_open)(const char *, const char *))
{
	char dp[SHIM_PATH_MAX];
	int r = shim_route(AT_FDCWD, path, dp);
	FILE *fp;

	if (__builtin_expect(shim_in_core, 0) && path && shim_startup_refuses(path)) {
		errno = EACCES;
		return NULL;
	}
	if (r == 0) {
		fp = libc_open(path, mode);
		if (fp)
			shim_fd_forget(fileno(fp));
		return fp;
	}
	if (r < 0) {
		errno = -r;
		return NULL;
	}
	return dafs_fopen(dp, mode);
}

FILE *fopen(const char *path, const char *mode)
{
	return open_stream(path, mode, REAL(fopen));
}

FILE *fopen64(const char *path, const char *mode)
{
	return open_stream(path, mode, REAL(fopen64));
}

FILE *fdopen(int fd, const char *mode)
{
	if (!shim_fd_maybe(fd))
		return REAL(fdopen)(fd, mode);
	if (mode_flags(mode) < 0) {
		errno = EINVAL;
		return NULL;
	}
	return stream_on(fd, mode);
}

/* freopen and freopen64 (db_load -f reopens stdin on its input file). A
 * DAFS path on a standard stream: the new file is dup2'ed onto the stream's
 * descriptor, which points the stream variable at a cookie stream on it
 * (shim_std_sync), and that stream is returned. A DAFS path on any other
 * stream: the old stream is closed and a new cookie stream returned (libc's
 * own FILE cannot read a DAFS descriptor). Everything else is libc's. */
static FILE *reopen_stream(const char *path, const char *mode, FILE *fp,
			   FILE *(*libc_reopen)(const char *, const char *, FILE *))
{
	char dp[SHIM_PATH_MAX];
	int r = path ? shim_route(AT_FDCWD, path, dp) : 0, flags, fd, std = -1;
	FILE *nfp;

	if (r == 0) {
		nfp = libc_reopen(path, mode, fp);
		if (nfp && path)
			shim_fd_forget(fileno(nfp));
		return nfp;
	}
	if (r < 0) {
		errno = -r;
		return NULL;
	}
	if ((flags = mode_flags(mode)) < 0) {
		errno = EINVAL;
		return NULL;
	}
	for (int i = 0; i < 3; i++)
		if (fp == *std_var(i) || fp == std_orig[i])
			std = i;
	fflush(fp);
	fd = shim_open_dafs(dp, flags, 0666);
	if (fd < 0) {
		errno = -fd;
		return NULL;
	}
	if (std >= 0) {
		if (dup2(fd, std) < 0) {
			int e = errno;
			close(fd);
			errno = e;
			return NULL;
		}
		close(fd);
		return *std_var(std);
	}
	fclose(fp);
	if (!(nfp = stream_on(fd, mode))) {
		int e = errno;
		close(fd);
		errno = e;
	}
	return nfp;
}

FILE *freopen(const char *path, const char *mode, FILE *fp)
{
	return reopen_stream(path, mode, fp, REAL(freopen));
}

FILE *freopen64(const char *path, const char *mode, FILE *fp)
{
	return reopen_stream(path, mode, fp, REAL(freopen64));
}
