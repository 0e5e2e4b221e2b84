/* wrap_copy.c — copy_file_range, sendfile and splice with DAFS descriptors.
 *
 * The kernel cannot move bytes to or from a DAFS file, so when either side
 * is one the shim copies through a buffer, a chunk (1 MiB) at a time, with
 * the same descriptor paths read and write use: offsets given by pointer
 * are used and updated, a NULL pointer means the descriptor's own offset
 * (the placeholder's for DAFS, the kernel's otherwise), and the count
 * returned is the bytes that reached the output, as the kernel returns.
 * Offsets only advance by what was written, so a short write loses nothing.
 * Calls with no DAFS descriptor go to libc untouched.
 */
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <unistd.h>

#include "shim.h"

#define CHUNK (1 << 20)

/* One end of a copy. */
struct end {
	int fd;
	struct dfile *d;        /* NULL: a kernel descriptor */
	struct dafs_file *f;    /* d's handle */
	off64_t *offp;          /* the caller's offset, or NULL */
	off64_t pos;            /* where the next byte goes or comes from */
	bool stream;            /* not seekable (pipe, socket): read/write */
	bool pipe;
};

static int end_open(struct end *e, int fd, off64_t *offp, bool out)
{
	struct stat st;
	int rc;

	memset(e, 0, sizeof(*e));
	e->fd = fd;
	e->offp = offp;
	if (shim_fd_maybe(fd) && (e->d = shim_fd_get(fd))) {
		int acc = e->d->flags & O_ACCMODE;

		if (out ? acc == O_RDONLY : acc == O_WRONLY)
			return -EBADF;
		if ((rc = shim_dfile_handle(e->d, &e->f)) < 0)
			return rc;
		if (offp) {
			if (*offp < 0)
				return -EINVAL;
			e->pos = *offp;
		} else {
			e->pos = atomic_load(&e->d->ph->offset);
		}
		return 0;
	}
	if (REAL(fstat)(fd, &st) < 0)
		return -errno;
	e->pipe = S_ISFIFO(st.st_mode);
	e->stream = e->pipe || S_ISSOCK(st.st_mode) || S_ISCHR(st.st_mode);
	if (e->stream) {
		if (offp)
			return -ESPIPE;
		return 0;
	}
	if (offp) {
		if (*offp < 0)
			return -EINVAL;
		e->pos = *offp;
	} else if ((e->pos = REAL(lseek64)(fd, 0, SEEK_CUR)) < 0) {
		return -errno;
	}
	return 0;
}

static void end_close(struct end *e)
{
	if (e->d)
		shim_dfile_put(e->d);
}

static ssize_t end_read(struct end *e, void *buf, size_t n)
{
	ssize_t r;

	if (e->d)
		return shim_core.dafs_pread(e->f, buf, n, e->pos);
	if (e->stream)
		r = REAL(read)(e->fd, buf, n);
	else
		r = REAL(pread64)(e->fd, buf, n, e->pos);
	return r < 0 ? -errno : r;
}

static ssize_t end_write(struct end *e, const void *buf, size_t n)
{
	ssize_t r;

	if (e->d) {
		/* Through the descriptor path: O_APPEND and the shared offset
		 * behave as for write(). */
		if (!e->offp)
			return shim_fd_write(e->d, buf, n);
		return shim_core.dafs_pwrite(e->f, buf, n, e->pos);
	}
	if (e->stream || !e->offp)
		r = REAL(write)(e->fd, buf, n);    /* honours O_APPEND too */
	else
		r = REAL(pwrite64)(e->fd, buf, n, e->pos);
	return r < 0 ? -errno : r;
}

/* What a write to a pipe can take without blocking for a reader the caller
 * may be about to become (splice file -> pipe -> file in one thread): the
 * free space, or one atomic PIPE_BUF when it is full (that write blocks, as
 * the kernel's splice would). */
static size_t pipe_room(int fd, size_t want)
{
	int size = REAL(fcntl)(fd, F_GETPIPE_SZ), queued = 0;

	if (size <= 0)
		return want < PIPE_BUF ? want : PIPE_BUF;
	if (REAL(ioctl)(fd, FIONREAD, &queued) < 0 || queued < 0)
		queued = 0;
	size_t room = size > queued ? (size_t)(size - queued) : 0;

	if (room == 0)
		room = PIPE_BUF;
	return want < room ? want : room;
}

/* Copies up to len bytes; returns the count written or a negative errno
 * (only when nothing was written). */
static ssize_t copy(struct end *in, struct end *out, size_t len)
{
	size_t total = 0;
	ssize_t r = 0;
	char *buf;

	if (len == 0)
		return 0;
	if (len > SSIZE_MAX)
		len = SSIZE_MAX;
	if (out->pipe)
		len = pipe_room(out->fd, len);
	if (!(buf = malloc(len < CHUNK ? len : CHUNK)))
		return -ENOMEM;
	while (total < len) {
		size_t want = len - total < CHUNK ? len - total : CHUNK, put = 0;
		ssize_t got = end_read(in, buf, want);

		if (got <= 0) {
			r = got;
			break;
		}
		while (put < (size_t)got) {
			r = end_write(out, buf + put, (size_t)got - put);
			if (r <= 0)
				break;
			put += (size_t)r;
			out->pos += r;
		}
		in->pos += (off64_t)put;
		total += put;
		if (r < 0 || put < (size_t)got)
			break;
		/* A stream gives what it has: do not block for more. */
		if (in->stream || (size_t)got < want)
			break;
	}
	free(buf);
	if (r == 0 && total == 0)
		return 0;
	if (total == 0 && r < 0)
		return r;
	/* Offsets: the caller's pointers, the DAFS input's shared offset, and
	 * a seekable kernel input read with pread. Outputs without a pointer
	 * were written with write(), which moved their offset. */
	if (in->offp)
		*in->offp = in->pos;
	else if (in->d)
		atomic_fetch_add(&in->d->ph->offset, (int64_t)total);
	else if (!in->stream)
		REAL(lseek64)(in->fd, in->pos, SEEK_SET);
	if (out->offp)
		*out->offp = out->pos;
	return (ssize_t)total;
}

static ssize_t finish(struct end *in, struct end *out, ssize_t r)
{
	end_close(in);
	end_close(out);
	if (r < 0) {
		errno = (int)-r;
		return -1;
	}
	return r;
}

static bool involves_dafs(int a, int b)
{
	return shim_fd_maybe(a) || shim_fd_maybe(b);
}

ssize_t copy_file_range(int in, off64_t *inoff, int out, off64_t *outoff, size_t len,
			unsigned flags)
{
	struct end i, o;
	ssize_t r;

	if (!involves_dafs(in, out))
		return REAL(copy_file_range)(in, inoff, out, outoff, len, flags);
	memset(&o, 0, sizeof(o));
	if (flags != 0) {
		errno = EINVAL;
		return -1;
	}
	if ((r = end_open(&i, in, inoff, false)) < 0 || (r = end_open(&o, out, outoff, true)) < 0)
		return finish(&i, &o, r);
	/* Both must be regular files; an O_APPEND output is refused. */
	if (i.stream || o.stream)
		r = -EINVAL;
	else if (o.d ? (o.d->flags & O_APPEND) : (REAL(fcntl)(out, F_GETFL) & O_APPEND))
		r = -EBADF;
	else
		r = copy(&i, &o, len);
	return finish(&i, &o, r);
}

static ssize_t do_sendfile(int out, int in, off64_t *off, size_t n)
{
	struct end i, o;
	ssize_t r;

	memset(&o, 0, sizeof(o));
	if ((r = end_open(&i, in, off, false)) < 0 || (r = end_open(&o, out, NULL, true)) < 0)
		return finish(&i, &o, r);
	r = i.stream ? -EINVAL : copy(&i, &o, n);
	return finish(&i, &o, r);
}

ssize_t sendfile(int out, int in, off_t *off, size_t n)
{
	if (!involves_dafs(in, out))
		return REAL(sendfile)(out, in, off, n);
	return do_sendfile(out, in, (off64_t *)off, n);
}

ssize_t sendfile64(int out, int in, off64_t *off, size_t n)
{
	if (!involves_dafs(in, out))
		return REAL(sendfile64)(out, in, off, n);
	return do_sendfile(out, in, off, n);
}

ssize_t splice(int in, off64_t *inoff, int out, off64_t *outoff, size_t len, unsigned flags)
{
	struct end i, o;
	ssize_t r;

	if (!involves_dafs(in, out))
		return REAL(splice)(in, inoff, out, outoff, len, flags);
	memset(&o, 0, sizeof(o));
	if ((r = end_open(&i, in, inoff, false)) < 0 || (r = end_open(&o, out, outoff, true)) < 0)
		return finish(&i, &o, r);
	/* One side must be a pipe; the DAFS side is a file. */
	r = !i.pipe && !o.pipe ? -EINVAL : copy(&i, &o, len);
	return finish(&i, &o, r);
}
