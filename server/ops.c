/* ops.c — what each operation does on the exported file system.
 *
 * Metadata operations run to completion here with *at system calls on
 * descriptors confined beneath the export. Data operations (READ, WRITE,
 * COMMIT, ALLOCATE) go through io_uring and the fabric's RMA so that a slow disk or a
 * large transfer never holds up other clients of the worker: they return
 * -EINPROGRESS and finish in op_io_done / op_rma_done.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <sys/xattr.h>
#include <unistd.h>

#include "creds.h"
#include "procwatch.h"
#include "server.h"
#include "state.h"

static void attr_from_stat(struct dafs_attr *a, const struct stat *st)
{
	*a = (struct dafs_attr){
		.dev = st->st_dev, .ino = st->st_ino, .mode = st->st_mode,
		.nlink = (uint32_t)st->st_nlink, .uid = st->st_uid, .gid = st->st_gid,
		.rdev = st->st_rdev, .size = (uint64_t)st->st_size,
		.blocks = (uint64_t)st->st_blocks, .blksize = (uint32_t)st->st_blksize,
		.atime = { st->st_atim.tv_sec, (uint32_t)st->st_atim.tv_nsec },
		.mtime = { st->st_mtim.tv_sec, (uint32_t)st->st_mtim.tv_nsec },
		.ctime = { st->st_ctim.tv_sec, (uint32_t)st->st_ctim.tv_nsec },
	};
	/* ctime moves on every data or metadata change; with the size it is the
	 * change attribute clients revalidate against. */
	a->change = (uint64_t)st->st_ctim.tv_sec * 1000000000u + (uint64_t)st->st_ctim.tv_nsec;
}

static int fstat_attr(int fd, struct dafs_attr *a)
{
	struct stat st;

	if (fstat(fd, &st) < 0)
		return -errno;
	attr_from_stat(a, &st);
	return 0;
}

/* Memory a result points into until the reply is encoded; freed with the job. */
static void *keep_alloc(struct job *job, size_t len)
{
	void **slot = &job->keep[job->next_op];

	free(*slot);
	*slot = malloc(len ? len : 1);
	return *slot;
}

static uint64_t resolve_fh(struct job *job, uint64_t fh)
{
	return fh == DAFS_FH_CURRENT ? job->current_fh : fh;
}

/* The descriptor a handle number names: the export root for 0. */
static int handle_fd(struct job *job, uint64_t fh, struct handle **out)
{
	struct handle *h;

	fh = resolve_fh(job, fh);
	if (out)
		*out = NULL;
	if (fh == DAFS_FH_ROOT)
		return job->w->srv->export.root_fd;
	h = session_handle_get(job->sess, fh);
	if (!h)
		return -EBADF;
	if (out)
		*out = h;
	return h->fd;
}

static int open_flags_from_wire(uint32_t f)
{
	static const struct { uint32_t wire; int host; } map[] = {
		{ DAFS_O_CREAT, O_CREAT }, { DAFS_O_EXCL, O_EXCL }, { DAFS_O_TRUNC, O_TRUNC },
		{ DAFS_O_APPEND, O_APPEND }, { DAFS_O_DIRECTORY, O_DIRECTORY },
		{ DAFS_O_NOFOLLOW, O_NOFOLLOW }, { DAFS_O_SYNC, O_SYNC },
		{ DAFS_O_TMPFILE, O_TMPFILE }, { DAFS_O_NOATIME, O_NOATIME },
	};
	int flags = (f & DAFS_O_ACCMODE) == DAFS_O_WRONLY ? O_WRONLY :
		    (f & DAFS_O_ACCMODE) == DAFS_O_RDWR ? O_RDWR : O_RDONLY;

	for (size_t i = 0; i < sizeof(map) / sizeof(map[0]); i++)
		if (f & map[i].wire)
			flags |= map[i].host;
	/* O_DIRECT is the client cache's business; the server's buffers and the
	 * client's offsets need not meet the kernel's alignment rules. */
	return flags | O_CLOEXEC | O_NONBLOCK;
}

static int add_handle(struct job *job, int fd, uint32_t open_flags, struct dafs_res_handle *res)
{
	struct stat st;
	int rc;

	if (fstat(fd, &st) < 0) {
		rc = -errno;
		close(fd);
		return rc;
	}
	rc = admission_open_file(&job->w->srv->adm, job->sess);
	if (rc == 0)
		rc = session_handle_add(job->sess, fd, open_flags, S_ISDIR(st.st_mode),
					st.st_dev, st.st_ino, &res->fh);
	if (rc < 0) {
		close(fd);
		return rc;
	}
	attr_from_stat(&res->attr, &st);
	job->current_fh = res->fh;
	return 0;
}

/* Opens (dirfd, path) for OPEN without ever opening anything but a regular
 * file or a directory: a client can make device nodes (MKNOD), and opening
 * one here would hand it the server's device (or, for a tape or a tty, act
 * on it just by opening). The name is looked up with O_PATH, which opens
 * nothing, its type checked, and that same inode reopened through its /proc
 * link; a create is exclusive, so it can only make a new regular file. */
static int open_served(const struct dafs_export *ex, int dirfd, const char *path, int flags,
		       mode_t mode)
{
	struct stat st;
	char proc[64];
	int pfd, fd;

	/* O_TMPFILE makes a new unnamed regular file in directory path: it opens
	 * nothing that exists, and its mode and O_EXCL must reach the kernel. */
	if ((flags & O_TMPFILE) == O_TMPFILE)
		return export_openat(ex, dirfd, path, flags, mode);
	for (int attempt = 0; attempt < 2; attempt++) {
		if (!(flags & O_CREAT) || !(flags & O_EXCL)) {
			pfd = export_openat(ex, dirfd, path,
					    O_PATH | (flags & (O_NOFOLLOW | O_DIRECTORY)), 0);
			if (pfd >= 0) {
				fd = fstat(pfd, &st) < 0 ? -errno :
				     S_ISLNK(st.st_mode) ? -ELOOP :  /* O_NOFOLLOW's answer */
				     !S_ISREG(st.st_mode) && !S_ISDIR(st.st_mode) ? -ENXIO :
				     /* open(2) refuses to create over a directory */
				     S_ISDIR(st.st_mode) && (flags & O_CREAT) ? -EISDIR : 0;
				if (fd == 0) {
					snprintf(proc, sizeof(proc), "/proc/self/fd/%d", pfd);
					fd = open(proc, flags & ~(O_CREAT | O_EXCL | O_NOFOLLOW));
					if (fd < 0)
						fd = -errno;
				}
				close(pfd);
				return fd;
			}
			if (pfd != -ENOENT || !(flags & O_CREAT))
				return pfd;
		}
		fd = export_openat(ex, dirfd, path, flags | O_EXCL, mode);
		if (fd != -EEXIST || (flags & O_EXCL))
			return fd;
		/* Made by someone else since the lookup (or a dangling symlink,
		 * whose target a plain create would make): look again. */
	}
	/* Still there and not found: a dangling symlink. Its target is created
	 * the ordinary way; do_open's type check stays as the last guard. */
	return export_openat(ex, dirfd, path, flags, mode);
}

static int do_open(struct job *job, const struct dafs_args_open *a, struct dafs_result *res)
{
	int dirfd = handle_fd(job, a->dir, NULL);
	int fd;
	struct stat st;

	if (dirfd < 0)
		return dirfd;
	/* O_NONBLOCK keeps a FIFO in the export from blocking the worker; only
	 * regular files and directories are served. */
	fd = open_served(&job->w->srv->export, dirfd, a->path, open_flags_from_wire(a->flags),
			 a->mode & 07777);
	if (fd < 0)
		return fd;
	if (fstat(fd, &st) < 0 || (!S_ISREG(st.st_mode) && !S_ISDIR(st.st_mode))) {
		close(fd);
		return -ENXIO;
	}
	if (fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) & ~O_NONBLOCK) < 0) {
		int rc = -errno;
		close(fd);
		return rc;
	}
	return add_handle(job, fd, a->flags, &res->r.handle);
}

/* REOPEN (proto.h): a lost session's file, found again by its path, at the
 * handle number the client knows it by. A handle that already is the file
 * is the answer of a REOPEN that ran before. */
static int do_reopen(struct job *job, const struct dafs_args_reopen *a, struct dafs_result *res)
{
	struct handle *h = session_handle_get(job->sess, a->fh);
	struct stat st;
	int fd, rc;

	if (h && h->dev == a->dev && h->ino == a->ino) {
		if (fstat(h->fd, &st) < 0)
			return -errno;
		res->r.handle.fh = a->fh;
		attr_from_stat(&res->r.handle.attr, &st);
		return 0;
	}
	fd = open_served(&job->w->srv->export, job->w->srv->export.root_fd, a->path,
			 open_flags_from_wire(a->flags), 0);
	if (fd < 0)
		return fd == -ENOENT ? -ESTALE : fd;
	if (fstat(fd, &st) < 0 || st.st_dev != a->dev || st.st_ino != a->ino ||
	    fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) & ~O_NONBLOCK) < 0) {
		close(fd);
		return -ESTALE;      /* another file has the name now */
	}
	rc = admission_open_file(&job->w->srv->adm, job->sess);
	if (rc == 0)
		rc = session_handle_place(job->sess, fd, a->flags, S_ISDIR(st.st_mode), st.st_dev,
					  st.st_ino, a->fh);
	if (rc) {
		close(fd);
		return rc;
	}
	res->r.handle.fh = a->fh;
	attr_from_stat(&res->r.handle.attr, &st);
	return 0;
}

static int do_lookup(struct job *job, const struct dafs_args_open *a, struct dafs_result *res)
{
	int dirfd = handle_fd(job, a->dir, NULL);
	int fd, rc;

	if (dirfd < 0)
		return dirfd;
	fd = export_openat(&job->w->srv->export, dirfd, a->path,
			   O_PATH | O_CLOEXEC | (a->flags & DAFS_L_NOFOLLOW ? O_NOFOLLOW : 0), 0);
	if (fd < 0)
		return fd;
	rc = add_handle(job, fd, 0, &res->r.handle);
	if (rc == 0 && (a->flags & DAFS_L_TRANSIENT))
		job->transient[job->ntransient++] = res->r.handle.fh;
	return rc;
}

/* Opens what (dir, path) names for an attribute operation; "" is dir itself.
 * *owned tells the caller to close the result. */
static int target_fd(struct job *job, uint64_t dir, const char *path, uint32_t lflags,
		     int oflags, bool *owned)
{
	int dirfd = handle_fd(job, dir, NULL);

	*owned = false;
	if (dirfd < 0 || path[0] == '\0')
		return dirfd;
	*owned = true;
	return export_openat(&job->w->srv->export, dirfd, path,
			     oflags | O_CLOEXEC | (lflags & DAFS_L_NOFOLLOW ? O_NOFOLLOW : 0), 0);
}

static int do_getattr(struct job *job, const struct dafs_args_open *a, struct dafs_result *res)
{
	bool owned;
	int fd = target_fd(job, a->dir, a->path, a->flags, O_PATH, &owned);
	int rc;

	if (fd < 0)
		return fd;
	rc = fstat_attr(fd, &res->r.attr.attr);
	if (owned)
		close(fd);
	return rc;
}

static int do_setattr(struct job *job, const struct dafs_args_setattr *a, struct dafs_result *res)
{
	struct handle *h = NULL;
	bool owned = false;
	int fd, rc = 0;
	char proc[64];

	if (a->path[0] == '\0') {
		fd = handle_fd(job, a->fh, &h);
	} else {
		/* truncate(2) needs write permission; other changes need only
		 * the name, and O_PATH works for directories too. */
		fd = target_fd(job, a->fh, a->path, a->flags,
			       a->mask & DAFS_SET_SIZE ? O_WRONLY | O_NONBLOCK : O_PATH, &owned);
	}
	if (fd < 0)
		return fd;
	if (a->mask & DAFS_SET_SIZE) {
		if (h && !h->writable)
			rc = -EINVAL;
		else if (ftruncate(fd, (off_t)a->size) < 0)
			rc = -errno;
	}
	/* An O_PATH descriptor cannot be fchmod'ed; its /proc link can, and it
	 * stays the confined file because the descriptor is already open. */
	snprintf(proc, sizeof(proc), "/proc/self/fd/%d", fd);
	if (!rc && (a->mask & DAFS_SET_MODE) && chmod(proc, a->mode & 07777) < 0)
		rc = -errno;
	/* Before the times: a chown moves the ctime, not the times it sets. An
	 * O_PATH descriptor (a symlink's own, for lchown) takes AT_EMPTY_PATH. */
	if (!rc && (a->mask & (DAFS_SET_UID | DAFS_SET_GID)) &&
	    fchownat(fd, "", a->mask & DAFS_SET_UID ? (uid_t)a->uid : (uid_t)-1,
		     a->mask & DAFS_SET_GID ? (gid_t)a->gid : (gid_t)-1, AT_EMPTY_PATH) < 0)
		rc = -errno;
	if (!rc && (a->mask & (DAFS_SET_ATIME | DAFS_SET_MTIME | DAFS_SET_ATIME_NOW |
			       DAFS_SET_MTIME_NOW))) {
		struct timespec ts[2] = { { 0, UTIME_OMIT }, { 0, UTIME_OMIT } };
		if (a->mask & DAFS_SET_ATIME)
			ts[0] = (struct timespec){ a->atime.sec, a->atime.nsec };
		if (a->mask & DAFS_SET_ATIME_NOW)
			ts[0].tv_nsec = UTIME_NOW;
		if (a->mask & DAFS_SET_MTIME)
			ts[1] = (struct timespec){ a->mtime.sec, a->mtime.nsec };
		if (a->mask & DAFS_SET_MTIME_NOW)
			ts[1].tv_nsec = UTIME_NOW;
		if (utimensat(AT_FDCWD, proc, ts, 0) < 0)
			rc = -errno;
	}
	if (!rc)
		rc = fstat_attr(fd, &res->r.attr.attr);
	if (owned)
		close(fd);
	return rc;
}

/* For operations on a name: the confined parent directory and the last
 * component. Returns the parent descriptor (the caller closes it) or -errno. */
static int parent_of(struct job *job, uint64_t dir, const char *path, char *name)
{
	int dirfd = handle_fd(job, dir, NULL);

	if (dirfd < 0)
		return dirfd;
	return export_open_parent(&job->w->srv->export, dirfd, path, name);
}

static int stat_name(int pfd, const char *name, struct dafs_attr *a)
{
	struct stat st;

	if (fstatat(pfd, name, &st, AT_SYMLINK_NOFOLLOW) < 0)
		return -errno;
	attr_from_stat(a, &st);
	return 0;
}

static int do_name_op(struct job *job, uint16_t opcode, const struct dafs_args_path *a,
		      struct dafs_result *res)
{
	char name[DAFS_NAME_MAX + 1];
	char target[DAFS_PATH_MAX];
	int pfd = parent_of(job, a->dir, a->path, name);
	int rc = 0;
	ssize_t n;

	/* The directory itself has no parent here (EBUSY, right for RMDIR):
	 * making it is making what exists, EEXIST as mkdir("/") says. */
	if (pfd == -EBUSY && opcode == DAFS_OP_MKDIR)
		return -EEXIST;
	/* Nor is it a symbolic link: EINVAL, as readlink("/") says (gnulib's
	 * canonicalize, in realpath and readlink -f, reads every component). */
	if (pfd == -EBUSY && opcode == DAFS_OP_READLINK)
		return -EINVAL;
	if (pfd < 0)
		return pfd;
	switch (opcode) {
	case DAFS_OP_MKDIR:
		if (mkdirat(pfd, name, a->mode & 07777) < 0)
			rc = -errno;
		else
			rc = stat_name(pfd, name, &res->r.attr.attr);
		break;
	case DAFS_OP_RMDIR:
		if (unlinkat(pfd, name, AT_REMOVEDIR) < 0)
			rc = -errno;
		break;
	case DAFS_OP_REMOVE:
		if (unlinkat(pfd, name, 0) < 0)
			rc = -errno;
		break;
	case DAFS_OP_READLINK:
		n = readlinkat(pfd, name, target, sizeof(target) - 1);
		if (n < 0) {
			rc = -errno;
			break;
		}
		/* The target must outlive this function: it goes into the reply. */
		target[n] = '\0';
		res->r.readlink.target = keep_alloc(job, (size_t)n + 1);
		if (!res->r.readlink.target)
			rc = -ENOMEM;
		else
			memcpy((char *)res->r.readlink.target, target, (size_t)n + 1);
		break;
	}
	close(pfd);
	return rc;
}

/* LINK of a handle: its /proc/self/fd link followed, which needs no
 * capability (AT_EMPTY_PATH would want CAP_DAC_READ_SEARCH). The handle is
 * a file the server opened beneath the export, so the new name cannot
 * reach outside it; the kernel refuses a file opened O_TMPFILE|O_EXCL, or
 * whose last name went, with ENOENT, as it would locally. */
static int link_handle(struct job *job, const struct dafs_args_two_paths *a,
		       struct dafs_result *res)
{
	char name[DAFS_NAME_MAX + 1], proc[64];
	int fd = handle_fd(job, a->dir1, NULL), pfd, rc = 0;

	if (fd < 0)
		return fd;
	if (resolve_fh(job, a->dir1) == DAFS_FH_ROOT)
		return -EPERM;          /* a directory, as link(2) says */
	pfd = parent_of(job, a->dir2, a->path2, name);
	if (pfd < 0)
		return pfd;
	snprintf(proc, sizeof(proc), "/proc/self/fd/%d", fd);
	if (linkat(AT_FDCWD, proc, pfd, name, AT_SYMLINK_FOLLOW) < 0)
		rc = -errno;
	else
		rc = stat_name(pfd, name, &res->r.attr.attr);
	close(pfd);
	return rc;
}

static int do_two_paths(struct job *job, uint16_t opcode, const struct dafs_args_two_paths *a,
			struct dafs_result *res)
{
	char name1[DAFS_NAME_MAX + 1], name2[DAFS_NAME_MAX + 1];
	int p1 = -1, p2, rc = 0;

	if (opcode == DAFS_OP_LINK && a->path1[0] == '\0')
		return link_handle(job, a, res);
	if (opcode != DAFS_OP_SYMLINK) {
		p1 = parent_of(job, a->dir1, a->path1, name1);
		if (p1 < 0)
			return p1;
	}
	p2 = parent_of(job, a->dir2, a->path2, name2);
	if (p2 < 0) {
		if (p1 >= 0)
			close(p1);
		return p2;
	}
	switch (opcode) {
	case DAFS_OP_RENAME: {
		unsigned flags = (a->flags & DAFS_RENAME_NOREPLACE ? RENAME_NOREPLACE : 0) |
				 (a->flags & DAFS_RENAME_EXCHANGE ? RENAME_EXCHANGE : 0);
		if (renameat2(p1, name1, p2, name2, flags) < 0)
			rc = -errno;
		break;
	}
	case DAFS_OP_LINK:
		/* No AT_SYMLINK_FOLLOW: a link names the symlink itself, so it can
		 * never reach a file outside the export. */
		if (linkat(p1, name1, p2, name2, 0) < 0)
			rc = -errno;
		else
			rc = stat_name(p2, name2, &res->r.attr.attr);
		break;
	case DAFS_OP_SYMLINK:
		/* The link's text is stored as given; it is only ever followed by
		 * openat2 beneath the export, which refuses escapes. */
		if (symlinkat(a->path1, p2, name2) < 0)
			rc = -errno;
		else
			rc = stat_name(p2, name2, &res->r.attr.attr);
		break;
	}
	if (p1 >= 0)
		close(p1);
	close(p2);
	return rc;
}

/* MKNOD: the inode alone, in the confined parent like every create. The
 * server never opens it (do_open serves regular files and directories
 * only), so a device node here gives no client a way to the server's
 * devices; creating one still needs the server's CAP_MKNOD, as locally. */
static int do_mknod(struct job *job, const struct dafs_args_mknod *a, struct dafs_result *res)
{
	char name[DAFS_NAME_MAX + 1];
	int pfd = parent_of(job, a->dir, a->path, name);
	int rc = 0;

	if (pfd == -EBUSY)
		return -EEXIST;   /* the starting directory itself exists */
	if (pfd < 0)
		return pfd;
	if (mknodat(pfd, name, (mode_t)a->mode, (dev_t)a->rdev) < 0)
		rc = -errno;
	else
		rc = stat_name(pfd, name, &res->r.attr.attr);
	close(pfd);
	return rc;
}

static int do_readdir(struct job *job, const struct dafs_args_readdir *a, struct dafs_result *res)
{
	struct handle *h;
	int fd = handle_fd(job, a->fh, &h);
	size_t cap = a->max_bytes, pos = 0;
	char raw[32768];
	void *entries;
	struct dafs_res_readdir *out = &res->r.readdir;

	if (fd < 0)
		return fd;
	if (!h || !h->is_dir)
		return -ENOTDIR;
	if (cap > DAFS_MSG_MAX - 1024)
		cap = DAFS_MSG_MAX - 1024;
	if (cap < 512)
		cap = 512;
	entries = keep_alloc(job, cap);
	if (!entries)
		return -ENOMEM;
	if (lseek(fd, (off_t)a->cookie, SEEK_SET) < 0)
		return -errno;
	*out = (struct dafs_res_readdir){ .entries = entries };
	for (;;) {
		long n = syscall(SYS_getdents64, fd, raw, sizeof(raw));
		if (n < 0)
			return -errno;
		if (n == 0) {
			out->eof = 1;
			break;
		}
		for (long off = 0; off < n;) {
			/* getdents64 records have glibc's struct dirent64 layout. */
			struct dirent64 *d = (struct dirent64 *)(raw + off);
			struct dafs_dirent e = { d->d_ino, (uint64_t)d->d_off, d->d_type, d->d_name };
			int end = dafs_dirent_put(entries, cap, pos, &e);
			if (end < 0)
				goto full;
			pos = (size_t)end;
			out->count++;
			off += d->d_reclen;
		}
	}
full:
	if (out->count == 0 && !out->eof)
		return -EOVERFLOW;
	out->entries_len = (uint32_t)pos;
	return 0;
}

static int do_statfs(struct job *job, const struct dafs_args_fh *a, struct dafs_result *res)
{
	int fd = handle_fd(job, a->fh, NULL);
	struct statvfs sv;

	if (fd < 0)
		return fd;
	if (fstatvfs(fd, &sv) < 0)
		return -errno;
	res->r.statfs = (struct dafs_res_statfs){
		.bsize = sv.f_bsize, .frsize = sv.f_frsize, .blocks = sv.f_blocks,
		.bfree = sv.f_bfree, .bavail = sv.f_bavail, .files = sv.f_files,
		.ffree = sv.f_ffree, .favail = sv.f_favail, .namemax = (uint32_t)sv.f_namemax,
	};
	return 0;
}

static int do_lock(struct job *job, uint16_t opcode, const struct dafs_args_lock *a,
		   struct dafs_result *res)
{
	struct handle *h;
	int fd = handle_fd(job, a->fh, &h);
	struct lock_desc want = {
		.type = a->type == DAFS_LOCK_READ ? F_RDLCK : F_WRLCK,
		.start = a->start, .len = a->len,
		.session = job->sess->id, .owner = a->owner, .pid = a->pid,
	};
	struct lock_desc conflict = { .type = F_UNLCK };
	int rc;

	if (fd < 0)
		return fd;
	if (!h || h->is_dir)
		return -EBADF;
	/* As fcntl: a read lock needs a readable descriptor, a write lock a
	 * writable one; flock asks neither. */
	if (opcode == DAFS_OP_LOCK && !(a->owner & DAFS_WIRE_LOCK_OWNER_FLOCK) &&
	    ((want.type == F_RDLCK && !h->readable) || (want.type == F_WRLCK && !h->writable)))
		return -EBADF;
	if (opcode == DAFS_OP_UNLOCK)
		want.type = F_UNLCK;
	/* Until the clients of the last run have taken their locks back, a
	 * new lock or test could find a range free that one of them holds. */
	if (opcode != DAFS_OP_UNLOCK && !job->reclaim && state_in_grace(job->w))
		return -EBUSY;
	if (opcode == DAFS_OP_LOCKT)
		rc = locks_test(job->w->srv->locks, h->dev, h->ino, &want, &conflict);
	else
		rc = locks_set(job->w->srv->locks, h->dev, h->ino, &want, &conflict);
	if (rc == 0 && opcode == DAFS_OP_LOCK) {
		h->locked = true;
		res->r.lock.broken = (uint8_t)locks_take_broken(job->w->srv->locks, h->dev, h->ino,
							       a->start, a->len);
	}
	if (rc == 0 && opcode != DAFS_OP_LOCKT)
		return 0;
	if (rc < 0 && rc != -EAGAIN)
		return rc;
	res->r.lock = (struct dafs_res_lock){
		.type = conflict.type == F_RDLCK ? DAFS_LOCK_READ :
			conflict.type == F_WRLCK ? DAFS_LOCK_WRITE : DAFS_LOCK_NONE,
		.start = conflict.start, .len = conflict.len, .pid = conflict.pid,
	};
	return rc;  /* 0, or -EAGAIN with the conflicting lock filled in */
}

static int do_hint(struct job *job, const struct dafs_args_hint *a)
{
	static const int advice[] = {
		[DAFS_HINT_WILLNEED] = POSIX_FADV_WILLNEED, [DAFS_HINT_DONTNEED] = POSIX_FADV_DONTNEED,
		[DAFS_HINT_SEQUENTIAL] = POSIX_FADV_SEQUENTIAL, [DAFS_HINT_RANDOM] = POSIX_FADV_RANDOM,
	};
	struct handle *h;
	int fd = handle_fd(job, a->fh, &h);

	if (fd < 0)
		return fd;
	if (!h || h->is_dir)
		return -EBADF;
	return -posix_fadvise(fd, (off_t)a->offset, (off_t)a->len, advice[a->advice]);
}

static int do_close(struct job *job, const struct dafs_args_fh *a)
{
	return session_handle_close(job->sess, resolve_fh(job, a->fh), NULL);
}

/* ---- Named attributes ------------------------------------------------------ */

/* GETXATTR, SETXATTR, LISTXATTR, REMOVEXATTR. The object is opened O_PATH
 * beneath the export (O_NOFOLLOW for the l-forms: a symlink itself), or is
 * the handle; the call then goes through its /proc/self/fd link, which
 * reaches exactly that inode without following it further (an O_PATH
 * descriptor refuses the f*xattr calls, and the link is the only way to a
 * symlink's own attributes). Errors are the kernel's, as a local caller
 * gets them: ENODATA, ERANGE for a small buffer, EEXIST / ENODATA for the
 * create / replace flags, ENOTSUP where the file system has no such
 * namespace, EPERM for user.* on a symlink. */
static int do_xattr(struct job *job, uint16_t opcode, const struct dafs_args_xattr *a,
		    struct dafs_result *res)
{
	bool owned;
	int fd = target_fd(job, a->fh, a->path, a->flags, O_PATH, &owned);
	int flags = (a->flags & DAFS_XATTR_CREATE ? XATTR_CREATE : 0) |
		    (a->flags & DAFS_XATTR_REPLACE ? XATTR_REPLACE : 0);
	char proc[64];
	void *buf = NULL;
	ssize_t n = 0;

	if (fd < 0)
		return fd;
	snprintf(proc, sizeof(proc), "/proc/self/fd/%d", fd);
	if ((opcode == DAFS_OP_GETXATTR || opcode == DAFS_OP_LISTXATTR) && a->size &&
	    !(buf = keep_alloc(job, a->size))) {
		n = -ENOMEM;
	} else if (opcode == DAFS_OP_GETXATTR) {
		n = getxattr(proc, a->name, buf, a->size);
	} else if (opcode == DAFS_OP_LISTXATTR) {
		n = listxattr(proc, buf, a->size);
	} else if (opcode == DAFS_OP_SETXATTR) {
		n = setxattr(proc, a->name, a->value, a->value_len, flags);
	} else {
		n = removexattr(proc, a->name);
	}
	if (n == -1)
		n = -errno;
	if (owned)
		close(fd);
	if (n < 0)
		return (int)n;
	if (opcode == DAFS_OP_GETXATTR || opcode == DAFS_OP_LISTXATTR)
		res->r.xattr = (struct dafs_res_xattr){
			.size = (uint32_t)n, .value = a->size ? buf : NULL,
			.value_len = a->size ? (uint32_t)n : 0,
		};
	return 0;
}

/* ---- Data operations ---------------------------------------------------- */

static int io_buffer(struct job *job, size_t len)
{
	job->data_len = len ? len : 1;
	job->data = bufpool_alloc(job->w->pool, job->data_len);
	job->io_done = 0;
	job->rma_next = job->rma_busy = 0;
	job->rma_err = 0;
	return job->data ? 0 : -ENOMEM;
}

static int submit_rw(struct job *job, bool write, int fd, void *buf, unsigned len, uint64_t off)
{
	struct io_uring_sqe *sqe = worker_sqe(job->w);

	if (!sqe)
		return -EAGAIN;
	if (write)
		io_uring_prep_write(sqe, fd, buf, len, off);
	else
		io_uring_prep_read(sqe, fd, buf, len, off);
	io_uring_sqe_set_data(sqe, job);
	sqe->personality = creds_personality(&job->w->ring);
	job->phase = JOB_IO;
	return -EINPROGRESS;
}

/* Every segment must lie in memory the client registered with us. */
static bool segments_allowed(struct job *job, const struct dafs_args_io *a)
{
	for (unsigned i = 0; i < a->nsegs; i++)
		if (!session_segment_allowed(job->sess, &a->segs[i]))
			return false;
	return true;
}

static int do_region(struct job *job, uint16_t opcode, const struct dafs_args_region *a)
{
	int rc;

	if (opcode != DAFS_OP_REGISTER)
		return session_region_remove(job->sess, a->addr, a->len, a->key);
	rc = admission_add_region(&job->w->srv->adm, job->sess);
	return rc ? rc : session_region_add(job->sess, a->addr, a->len, a->key);
}

/* Reads what the server's page cache already holds with one system call,
 * straight into `buf`, and leaves the rest (a cold page, or the end of the
 * file) to io_uring. A cache hit then costs neither an io_uring submission
 * nor a trip round the event loop, and a cold disk still never blocks the
 * worker: RWF_NOWAIT returns what it copied without waiting, or EAGAIN (it
 * is the same attempt io_uring_enter makes inline before it punts a read to
 * its workers). The bytes read here count in io_done, which the io_uring
 * completion adds to.
 * Returns what op_io_done returns when the page cache had it all, else what
 * submit_rw returns. */
static int read_file(struct job *job, struct handle *h, void *buf, size_t len, uint64_t off)
{
	struct iovec iov = { buf, len };
	ssize_t n;

	job->io_done = 0;
	if (!h->no_nowait) {
		n = preadv2(h->fd, &iov, 1, (off_t)off, RWF_NOWAIT);
		if (n == (ssize_t)len)
			return op_io_done(job, (int)n);
		if (n > 0)
			job->io_done = (size_t)n;
		else if (n < 0 && errno == EOPNOTSUPP)
			h->no_nowait = true;
		/* Any other error is io_uring's to report: it may be the
		 * NOWAIT attempt's alone (EAGAIN), and a real one comes back. */
	}
	return submit_rw(job, false, h->fd, (char *)buf + job->io_done,
			 (unsigned)(len - job->io_done), off + job->io_done);
}

static int start_read(struct job *job, const struct dafs_args_io *a)
{
	struct handle *h;
	int fd = handle_fd(job, a->fh, &h), rc;

	if (fd < 0)
		return fd;
	if (!h)
		return -EISDIR;
	if (h->is_dir)
		return -EISDIR;
	if (!h->readable)
		return -EBADF;
	if (!segments_allowed(job, a))
		return -EFAULT;
	if (a->nsegs == 0) {
		/* Inline: read straight into memory the reply will copy from. */
		job->io_done = 0;
		if (!keep_alloc(job, a->len))
			return -ENOMEM;
		if (a->len == 0)
			return op_io_done(job, 0);
		return read_file(job, h, job->keep[job->next_op], a->len, a->offset);
	}
	rc = io_buffer(job, a->len);
	if (rc)
		return rc;
	return read_file(job, h, job->data, a->len, a->offset);
}

static int start_write(struct job *job, const struct dafs_args_io *a)
{
	struct handle *h;
	int fd = handle_fd(job, a->fh, &h), rc;

	if (fd < 0)
		return fd;
	if (!h || h->is_dir)
		return -EISDIR;
	if (!h->writable)
		return -EBADF;
	if (!segments_allowed(job, a))
		return -EFAULT;
	rc = io_buffer(job, a->len);
	if (rc)
		return rc;
	if (a->nsegs) {
		/* Pull the data from the client's memory first. */
		job->rma_is_write = false;
		job->phase = JOB_RMA;
		job_start_rma(job);
		return -EINPROGRESS;
	}
	memcpy(job->data, a->data, a->len);
	if (a->len == 0)
		return op_io_done(job, 0);
	/* O_APPEND descriptors append whatever the offset; -1 says so to io_uring
	 * and keeps the descriptor's position, which tells where the data went. */
	return submit_rw(job, true, fd, job->data, a->len,
			 h->open_flags & DAFS_O_APPEND ? (uint64_t)-1 : a->offset);
}

static int start_commit(struct job *job, const struct dafs_args_commit *a)
{
	struct handle *h;
	int fd = handle_fd(job, a->fh, &h);
	struct io_uring_sqe *sqe;

	if (fd < 0)
		return fd;
	if (!h)
		return -EBADF;
	sqe = worker_sqe(job->w);
	if (!sqe)
		return -EAGAIN;
	io_uring_prep_fsync(sqe, fd, a->flags & DAFS_COMMIT_DATASYNC ? IORING_FSYNC_DATASYNC : 0);
	io_uring_sqe_set_data(sqe, job);
	sqe->personality = creds_personality(&job->w->ring);
	job->phase = JOB_IO;
	return -EINPROGRESS;
}

/* fallocate(2) on an open, writable file. Its errors (ENOSPC, EOPNOTSUPP
 * from a file system that cannot punch or zero, EFBIG) go to the client as
 * they are. */
static int start_allocate(struct job *job, const struct dafs_args_allocate *a)
{
	struct handle *h;
	int fd = handle_fd(job, a->fh, &h), mode = 0;
	struct io_uring_sqe *sqe;

	if (fd < 0)
		return fd;
	if (!h || h->is_dir)
		return h ? -EISDIR : -EBADF;
	if (!h->writable)
		return -EBADF;
	if (a->mode & DAFS_ALLOC_KEEP_SIZE)
		mode |= FALLOC_FL_KEEP_SIZE;
	if (a->mode & DAFS_ALLOC_PUNCH_HOLE)
		mode |= FALLOC_FL_PUNCH_HOLE;
	if (a->mode & DAFS_ALLOC_ZERO_RANGE)
		mode |= FALLOC_FL_ZERO_RANGE;
	sqe = worker_sqe(job->w);
	if (!sqe)
		return -EAGAIN;
	io_uring_prep_fallocate(sqe, fd, mode, (off_t)a->offset, (off_t)a->len);
	io_uring_sqe_set_data(sqe, job);
	sqe->personality = creds_personality(&job->w->ring);
	job->phase = JOB_IO;
	return -EINPROGRESS;
}

static void release_data(struct job *job)
{
	if (job->data)
		bufpool_free(job->w->pool, job->data);
	job->data = NULL;
}

int op_io_done(struct job *job, int cqe_res)
{
	struct dafs_op *op = &job->req.ops[job->next_op];
	struct dafs_result *res = &job->rep.res[job->next_op];
	struct dafs_args_io *a = &op->a.io;
	struct handle *h;
	int fd;

	job->phase = JOB_RUNNING;
	/* Other requests ran on this thread meanwhile: back to this one's
	 * caller ((void): the same switch succeeded when the operation began). */
	(void)creds_switch(&job->cred);
	if (op->opcode == DAFS_OP_COMMIT || op->opcode == DAFS_OP_ALLOCATE)
		return cqe_res < 0 ? cqe_res : 0;
	if (cqe_res < 0) {
		release_data(job);
		return cqe_res;
	}
	fd = handle_fd(job, a->fh, &h);
	if (fd < 0) {
		release_data(job);
		return -EBADF;
	}
	job->io_done += (size_t)cqe_res;
	if (op->opcode == DAFS_OP_READ) {
		/* A short read of a regular file means end of file. */
		res->r.read.count = (uint32_t)job->io_done;
		res->r.read.eof = job->io_done < a->len;
		if (a->nsegs == 0) {
			res->r.read.data = job->keep[job->next_op];
			return 0;
		}
		res->r.read.data = NULL;
		if (job->io_done == 0) {
			release_data(job);
			return 0;
		}
		job->rma_is_write = true;
		job->phase = JOB_RMA;
		job_start_rma(job);
		return -EINPROGRESS;
	}
	/* WRITE: a short write continues where it stopped (ENOSPC shows up as
	 * the error of the next attempt). */
	if (job->io_done < a->len && cqe_res > 0) {
		bool append = h->open_flags & DAFS_O_APPEND;
		return submit_rw(job, true, fd, (char *)job->data + job->io_done,
				 (unsigned)(a->len - job->io_done),
				 append ? (uint64_t)-1 : a->offset + job->io_done);
	}
	if (job->io_done < a->len) {
		release_data(job);
		return -ENOSPC;
	}
	res->r.write.count = (uint32_t)job->io_done;
	res->r.write.offset = a->offset;
	if (h->open_flags & DAFS_O_APPEND) {
		off_t end = lseek(fd, 0, SEEK_CUR);
		res->r.write.offset = end >= (off_t)job->io_done ? (uint64_t)end - job->io_done : 0;
	}
	struct stat st;
	res->r.write.size = fstat(fd, &st) == 0 ? (uint64_t)st.st_size : 0;
	release_data(job);
	return 0;
}

int op_rma_done(struct job *job)
{
	struct dafs_op *op = &job->req.ops[job->next_op];
	struct handle *h;
	int fd;

	job->phase = JOB_RUNNING;
	(void)creds_switch(&job->cred);    /* as in op_io_done */
	if (job->rma_err) {
		release_data(job);
		return -EIO;
	}
	if (op->opcode == DAFS_OP_READ) {
		release_data(job);
		return 0;
	}
	fd = handle_fd(job, op->a.io.fh, &h);
	if (fd < 0) {
		release_data(job);
		return -EBADF;
	}
	if (op->a.io.len == 0)
		return op_io_done(job, 0);
	return submit_rw(job, true, fd, job->data, op->a.io.len,
			 h->open_flags & DAFS_O_APPEND ? (uint64_t)-1 : op->a.io.offset);
}

int op_run(struct job *job, struct dafs_op *op, struct dafs_result *res)
{
	/* As its caller (creds.c), so that the kernel's checks are the checks. */
	int rc = creds_check_op(&job->sess->who, op);

	if (rc == 0 && creds_op_acts(op))
		rc = creds_switch(&job->cred);
	if (rc)
		return rc;
	switch (op->opcode) {
	case DAFS_OP_NULL:
	case DAFS_OP_PING:
		return 0;
	case DAFS_OP_OPEN:
		return do_open(job, &op->a.open, res);
	case DAFS_OP_LOOKUP:
		return do_lookup(job, &op->a.open, res);
	case DAFS_OP_REOPEN:
		return do_reopen(job, &op->a.reopen, res);
	case DAFS_OP_GETATTR:
		return do_getattr(job, &op->a.open, res);
	case DAFS_OP_SETATTR:
		return do_setattr(job, &op->a.setattr, res);
	case DAFS_OP_CLOSE:
		return do_close(job, &op->a.fh);
	case DAFS_OP_READ:
		return start_read(job, &op->a.io);
	case DAFS_OP_WRITE:
		return start_write(job, &op->a.io);
	case DAFS_OP_COMMIT:
		return start_commit(job, &op->a.commit);
	case DAFS_OP_ALLOCATE:
		return start_allocate(job, &op->a.allocate);
	case DAFS_OP_READDIR:
		return do_readdir(job, &op->a.readdir, res);
	case DAFS_OP_MKDIR:
	case DAFS_OP_RMDIR:
	case DAFS_OP_REMOVE:
	case DAFS_OP_READLINK:
		return do_name_op(job, op->opcode, &op->a.path, res);
	case DAFS_OP_RENAME:
	case DAFS_OP_LINK:
	case DAFS_OP_SYMLINK:
		return do_two_paths(job, op->opcode, &op->a.two, res);
	case DAFS_OP_STATFS:
		return do_statfs(job, &op->a.fh, res);
	case DAFS_OP_MKNOD:
		return do_mknod(job, &op->a.mknod, res);
	case DAFS_OP_LOCK:
	case DAFS_OP_UNLOCK:
	case DAFS_OP_LOCKT:
		return do_lock(job, op->opcode, &op->a.lock, res);
	case DAFS_OP_HINT:
		return do_hint(job, &op->a.hint);
	case DAFS_OP_REGISTER:
	case DAFS_OP_UNREGISTER:
		return do_region(job, op->opcode, &op->a.region);
	case DAFS_OP_GETXATTR:
	case DAFS_OP_SETXATTR:
	case DAFS_OP_LISTXATTR:
	case DAFS_OP_REMOVEXATTR:
		return do_xattr(job, op->opcode, &op->a.xattr, res);
	default:
		/* CONNECT, SESSION_OPEN and SESSION_CLOSE are the worker's, and
		 * only valid alone. */
		return -EINVAL;
	}
}

void op_release_session(struct worker *w, struct session *s, enum session_end how)
{
	if (how != SESSION_SERVER_STOPS) {
		w->ended[w->nended++ % WORKER_ENDED_SESSIONS] = s->id;
		state_record_end(w, s);
	}
	procwatch_stop(w, s);
	locks_release_session(w->srv->locks, s->id, how == SESSION_LOST);
	admission_session_close(&w->srv->adm, admission_client_name(s));
	/* Address vectors are finite (shm's holds 256 peers): a session's peer
	 * leaves with it, or the server stops accepting clients. */
	dafs_fabric_av_remove(w->fab, s->peer);
	session_destroy(s);
}
