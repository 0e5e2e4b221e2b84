/* dafs.c — the `dafs` command: a user-level client for one dafs-server export,
 * in the spirit of nfs-cat and nfs-ls. It owns the command line, the copying
 * between local files and the export (cat, get, put) and the thin wrappers
 * around the name operations (ls, stat, rm, mkdir, rmdir, mv, ln). Everything
 * that talks to the server is libdafs-core's (dafs.h).
 *
 * Copies keep XFER_SLOTS requests of XFER_BLOCK bytes in flight through one
 * completion group, in buffers registered once with dafs_mem_register, so the
 * data moves by RDMA straight between the server and those buffers and the
 * link never idles waiting for one round trip at a time.
 *
 * Exit status: 0 when everything worked; 1 when any operation failed (the
 * remaining arguments are still processed, as rm and cat do); 2 on a usage
 * error, which is reported before any connection is made.
 */
#include "dafs.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <limits.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#define DAFS_TOOL_VERSION "0.1"

#define XFER_BLOCK      ((size_t)1 << 20)  /* one read or write request */
#define XFER_SLOTS      8                  /* requests kept in flight */
#define WAIT_SLICE_MS   1000               /* see reap() */
#define STAT_WINDOW     16                 /* ls -l: stats kept in flight */

/* The subcommand being run, for messages ("dafs: put: /x: ..."). */
static const char *cmd_name = "dafs";
/* The process's umask, which mkdir applies as mkdir(1) does: libdafs-core
 * sends the mode it is given. (put gives a file the local file's mode,
 * unmasked, as cp -p would.) */
static mode_t cmd_umask;

/* ---- Messages ----------------------------------------------------------- */

/* Reports a failed libdafs-core call (rc is a negative errno); returns the
 * exit status, so callers can write `return report(path, rc);`. */
static int report(const char *what, int rc)
{
	fprintf(stderr, "dafs: %s: %s: %s\n", cmd_name, what, dafs_strerror(rc));
	return 1;
}

/* The same for a failed local system call, from errno. */
static int report_local(const char *what)
{
	fprintf(stderr, "dafs: %s: %s: %s\n", cmd_name, what, strerror(errno));
	return 1;
}

/* For operations on two names (mv, ln). */
static int report2(const char *from, const char *to, int rc)
{
	fprintf(stderr, "dafs: %s: %s -> %s: %s\n", cmd_name, from, to, dafs_strerror(rc));
	return 1;
}

static void *xmalloc(size_t n)
{
	void *p = malloc(n ? n : 1);
	if (!p) {
		fprintf(stderr, "dafs: out of memory\n");
		exit(1);
	}
	return p;
}

static char *xstrdup(const char *s)
{
	return strcpy(xmalloc(strlen(s) + 1), s);
}

/* ---- Paths -------------------------------------------------------------- */

/* dir + "/" + name, without doubling a slash dir already ends with. */
static char *path_join(const char *dir, const char *name)
{
	size_t dl = strlen(dir);
	while (dl > 0 && dir[dl - 1] == '/')
		dl--;
	char *p = xmalloc(dl + 1 + strlen(name) + 1);
	memcpy(p, dir, dl);
	p[dl] = '/';
	strcpy(p + dl + 1, name);
	return p;
}

/* The last component of a path, trailing slashes ignored; "" for "/". */
static char *last_component(const char *path)
{
	size_t end = strlen(path);
	while (end > 0 && path[end - 1] == '/')
		end--;
	size_t start = end;
	while (start > 0 && path[start - 1] != '/')
		start--;
	char *c = xmalloc(end - start + 1);
	memcpy(c, path + start, end - start);
	c[end - start] = '\0';
	return c;
}

/* rm -r must never be pointed at the export root or at "." / "..", which
 * would empty the directory the user is standing in rather than the one
 * they named (GNU rm refuses the same). */
static bool unsafe_to_remove(const char *path)
{
	char *last = last_component(path);
	bool unsafe = !strcmp(last, "") || !strcmp(last, ".") || !strcmp(last, "..");
	free(last);
	return unsafe;
}

static bool remote_is_dir(struct dafs_session *s, const char *path)
{
	struct stat st;
	return dafs_stat(s, path, &st, 0) == 0 && S_ISDIR(st.st_mode);
}

static bool local_is_dir(const char *path)
{
	struct stat st;
	return stat(path, &st) == 0 && S_ISDIR(st.st_mode);
}

/* Where a copy, move or link of `src` named `dst` goes: inside dst when dst
 * is a directory (`into_dir`), as cp, mv and ln do; else dst itself. */
static char *target_path(const char *dst, const char *src, bool into_dir)
{
	if (!into_dir)
		return xstrdup(dst);
	char *base = last_component(src);
	char *p = path_join(dst, base);
	free(base);
	return p;
}

/* ---- Local I/O ---------------------------------------------------------- */

/* Reads until `len` bytes or end of file, so that a short count means EOF
 * even on pipes. Returns the count or -1 with errno. */
static ssize_t read_full(int fd, char *buf, size_t len)
{
	size_t got = 0;
	while (got < len) {
		ssize_t n = read(fd, buf + got, len - got);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -1;
		if (n == 0)
			break;
		got += (size_t)n;
	}
	return (ssize_t)got;
}

static int write_full(int fd, const char *buf, size_t len)
{
	while (len > 0) {
		ssize_t n = write(fd, buf, len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -1;
		buf += n;
		len -= (size_t)n;
	}
	return 0;
}

/* ---- Pipelined transfers ------------------------------------------------ */

struct slot {
	char *buf;              /* XFER_BLOCK bytes inside xfer.area */
	off_t off;              /* where in the remote file */
	size_t len;             /* bytes asked for */
	size_t done;            /* writes: bytes the server already took */
	ssize_t result;         /* reads: the completed request's result */
	bool busy;              /* submitted and not reaped yet */
};

/* What cat, get and put share: one completion group and one registered
 * area cut into slots, set up once per command rather than once per file
 * (registration pins the pages and costs system calls). */
struct xfer {
	struct dafs_cg *cg;
	struct dafs_mem *mem;   /* NULL: not registered, bounce buffers are used */
	char *area;
	struct slot slot[XFER_SLOTS];
};

static int xfer_open(struct dafs_session *s, struct xfer *x)
{
	memset(x, 0, sizeof(*x));
	int rc = posix_memalign((void **)&x->area, 4096, XFER_SLOTS * XFER_BLOCK);
	if (rc)
		return -rc;
	rc = dafs_cg_create(s, &x->cg);
	if (rc < 0) {
		free(x->area);
		return rc;
	}
	/* Registration only makes transfers direct; without it the library
	 * copies through its own registered memory. A provider or a memlock
	 * limit that refuses it must not make the copy fail. */
	if (dafs_mem_register(s, x->area, XFER_SLOTS * XFER_BLOCK, &x->mem) < 0)
		x->mem = NULL;
	for (unsigned i = 0; i < XFER_SLOTS; i++)
		x->slot[i].buf = x->area + i * XFER_BLOCK;
	return 0;
}

static void xfer_close(struct xfer *x)
{
	/* -EBUSY means a failed drain left requests behind that may still
	 * move data into the area: then it stays registered and allocated,
	 * and the session close reclaims the requests. */
	if (dafs_cg_destroy(x->cg) < 0)
		return;
	if (x->mem)
		dafs_mem_deregister(x->mem);
	free(x->area);
}

/* Waits for the next completion. dafs.h gives no "wait forever" value, so
 * this waits in slices; a dead server is the library's to detect (it fails
 * the requests after the session timeout), which ends the loop. */
static int reap(struct xfer *x, struct slot **sl, ssize_t *result)
{
	struct dafs_event ev;
	int rc;
	do
		rc = dafs_cg_wait_any(x->cg, WAIT_SLICE_MS, &ev);
	while (rc == 0);
	if (rc < 0)
		return rc;
	*sl = ev.user;
	*result = ev.result;
	(*sl)->busy = false;
	return 0;
}

/* Reaps everything still in flight, discarding results: after an error the
 * buffers must not be reused or freed while the server may still fill them. */
static void xfer_drain(struct xfer *x)
{
	struct slot *sl;
	ssize_t result;
	while (dafs_cg_outstanding(x->cg) > 0 && reap(x, &sl, &result) == 0)
		;
	for (unsigned i = 0; i < XFER_SLOTS; i++)
		x->slot[i].busy = false;
}

static int submit_read(struct xfer *x, struct dafs_file *f, struct slot *sl, off_t off)
{
	sl->off = off;
	sl->len = XFER_BLOCK;
	sl->busy = true;
	int rc = dafs_read_async(f, sl->buf, sl->len, off, x->cg, sl, NULL);
	if (rc < 0)
		sl->busy = false;
	return rc;
}

/* Sends what of the slot the server has not taken yet. */
static int submit_write(struct xfer *x, struct dafs_file *f, struct slot *sl)
{
	sl->busy = true;
	int rc = dafs_write_async(f, sl->buf + sl->done, sl->len - sl->done,
				  sl->off + (off_t)sl->done, x->cg, sl, NULL);
	if (rc < 0)
		sl->busy = false;
	return rc;
}

/* Copies the remote file f to fd. `size` (from fstat) only decides how far
 * ahead to read; the data decides where the file ends. The slots are used as
 * a ring in offset order and written out strictly in that order, because fd
 * may be a pipe. Returns 0 or a negative errno; *local_err tells whether fd
 * (rather than the server) failed. */
static int copy_from_remote(struct xfer *x, struct dafs_file *f, off_t size, int fd,
			    bool *local_err)
{
	unsigned head = 0, used = 0;    /* slots [head, head + used) are in flight or done */
	off_t next = 0;                 /* offset of the next read to submit */
	bool eof = false;
	int rc = 0;

	*local_err = false;
	for (;;) {
		/* Read ahead within the known size; past it, one read at a
		 * time finds out whether the file grew. */
		while (!eof && used < XFER_SLOTS && (next < size || used == 0)) {
			rc = submit_read(x, f, &x->slot[(head + used) % XFER_SLOTS], next);
			if (rc < 0)
				goto out;
			used++;
			next += (off_t)XFER_BLOCK;
		}
		if (used == 0)
			break;

		struct slot *h = &x->slot[head];
		while (h->busy) {
			struct slot *done;
			ssize_t result;
			rc = reap(x, &done, &result);
			if (rc < 0)
				goto out;
			done->result = result;
		}
		if (h->result < 0) {
			rc = (int)h->result;
			goto out;
		}
		if (write_full(fd, h->buf, (size_t)h->result) < 0) {
			rc = -errno;
			*local_err = true;
			goto out;
		}
		head = (head + 1) % XFER_SLOTS;
		used--;

		if ((size_t)h->result < h->len) {
			/* A short read is the end of the file, unless it came
			 * before the size fstat saw (a truncation, or a server
			 * that returns less): then the reads already sent
			 * ahead are for the wrong offsets; drop them and go on
			 * from where this one stopped. */
			off_t end = h->off + h->result;
			xfer_drain(x);
			head = used = 0;
			if (h->result == 0 || end >= size)
				eof = true;
			else
				next = end;
		}
	}
out:
	xfer_drain(x);
	return rc;
}

static struct slot *free_slot(struct xfer *x)
{
	for (unsigned i = 0; i < XFER_SLOTS; i++)
		if (!x->slot[i].busy)
			return &x->slot[i];
	return NULL;
}

/* Copies fd to the remote file f from offset 0. Writes may complete in any
 * order, so any free slot is refilled. Same return convention as
 * copy_from_remote. */
static int copy_to_remote(struct xfer *x, int fd, struct dafs_file *f, bool *local_err)
{
	off_t next = 0;
	unsigned in_flight = 0;
	bool eof = false;
	struct slot *sl;
	int rc = 0;

	*local_err = false;
	for (;;) {
		while (!eof && (sl = free_slot(x)) != NULL) {
			ssize_t n = read_full(fd, sl->buf, XFER_BLOCK);
			if (n < 0) {
				rc = -errno;
				*local_err = true;
				goto out;
			}
			eof = (size_t)n < XFER_BLOCK;
			if (n == 0)
				break;
			sl->off = next;
			sl->len = (size_t)n;
			sl->done = 0;
			rc = submit_write(x, f, sl);
			if (rc < 0)
				goto out;
			in_flight++;
			next += n;
		}
		if (in_flight == 0)
			break;

		ssize_t result;
		rc = reap(x, &sl, &result);
		if (rc < 0)
			goto out;
		in_flight--;
		if (result < 0) {
			rc = (int)result;
			goto out;
		}
		if (result == 0) {
			rc = -EIO;      /* no progress: would loop forever */
			goto out;
		}
		sl->done += (size_t)result;
		if (sl->done < sl->len) {
			rc = submit_write(x, f, sl);
			if (rc < 0)
				goto out;
			in_flight++;
		}
	}
out:
	xfer_drain(x);
	return rc;
}

/* ---- Remote files ------------------------------------------------------- */

/* Opens a remote file for reading and says what it is. Directories are
 * refused here rather than left to the read, whose error for them is the
 * server's filesystem's business. */
static int open_remote_read(struct dafs_session *s, const char *path, struct dafs_file **f,
			    struct stat *st)
{
	int rc = dafs_open(s, path, O_RDONLY, 0, f);
	if (rc < 0)
		return rc;
	rc = dafs_fstat(*f, st);
	if (rc == 0 && S_ISDIR(st->st_mode))
		rc = -EISDIR;
	if (rc < 0)
		dafs_close(*f);
	return rc;
}

/* Copies one remote file to an open local fd; reports under `remote` or
 * `local` depending on which side failed. */
static int download(struct xfer *x, const char *remote, struct dafs_file *f,
		    const struct stat *st, int fd, const char *local)
{
	bool local_err;
	int rc = copy_from_remote(x, f, st->st_size, fd, &local_err);
	int crc = dafs_close(f);
	if (rc < 0) {
		errno = -rc;
		return local_err ? report_local(local) : report(remote, rc);
	}
	if (crc < 0)
		return report(remote, crc);
	return 0;
}

/* ---- Commands ----------------------------------------------------------- */

struct flags {
	bool long_format;       /* ls -l */
	bool recursive;         /* rm -r */
	bool parents;           /* mkdir -p */
	bool symbolic;          /* ln -s */
};

static int cmd_cat(struct dafs_session *s, const struct flags *fl, int argc, char **argv)
{
	struct xfer x;
	int rc = xfer_open(s, &x);
	if (rc < 0)
		return report("transfer buffers", rc);

	int status = 0;
	for (int i = 0; i < argc; i++) {
		struct dafs_file *f;
		struct stat st;
		rc = open_remote_read(s, argv[i], &f, &st);
		if (rc < 0)
			status |= report(argv[i], rc);
		else
			status |= download(&x, argv[i], f, &st, STDOUT_FILENO, "stdout");
	}
	xfer_close(&x);
	return status;
}

/* get REMOTE... LOCAL: "-" as LOCAL is stdout. */
static int get_one(struct dafs_session *s, struct xfer *x, const char *remote,
		   const char *local, bool into_dir)
{
	struct dafs_file *f;
	struct stat st;
	/* Remote first: a missing remote file must not truncate the local one. */
	int rc = open_remote_read(s, remote, &f, &st);
	if (rc < 0)
		return report(remote, rc);

	if (!strcmp(local, "-"))
		return download(x, remote, f, &st, STDOUT_FILENO, "stdout");

	char *dst = target_path(local, remote, into_dir);
	int status;
	int fd = open(dst, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, st.st_mode & 0777);
	if (fd < 0) {
		status = report_local(dst);
		dafs_close(f);
	} else {
		status = download(x, remote, f, &st, fd, dst);
		if (close(fd) < 0 && status == 0)
			status = report_local(dst);
	}
	free(dst);
	return status;
}

static int cmd_get(struct dafs_session *s, const struct flags *fl, int argc, char **argv)
{
	const char *local = argv[argc - 1];
	bool to_stdout = !strcmp(local, "-");
	bool into_dir = !to_stdout && local_is_dir(local);
	if (argc > 2 && !into_dir && !to_stdout) {
		errno = ENOTDIR;
		return report_local(local);
	}

	struct xfer x;
	int rc = xfer_open(s, &x);
	if (rc < 0)
		return report("transfer buffers", rc);
	int status = 0;
	for (int i = 0; i < argc - 1; i++)
		status |= get_one(s, &x, argv[i], local, into_dir);
	xfer_close(&x);
	return status;
}

/* Gives the remote file the local file's permission bits even when it
 * already existed (O_CREAT's mode applies only to new files). */
static int copy_mode(struct dafs_file *f, mode_t mode)
{
	struct stat st;
	int rc = dafs_fstat(f, &st);
	if (rc == 0 && (st.st_mode & 07777) != mode)
		rc = dafs_fchmod(f, mode);
	return rc;
}

/* Copies an open local fd to `remote`, created or truncated. */
static int upload(struct dafs_session *s, struct xfer *x, int fd, const char *local,
		  mode_t mode, const char *remote)
{
	struct dafs_file *f;
	int rc = dafs_open(s, remote, O_WRONLY | O_CREAT | O_TRUNC, mode, &f);
	if (rc < 0)
		return report(remote, rc);

	bool local_err;
	rc = copy_to_remote(x, fd, f, &local_err);
	if (rc == 0)
		rc = copy_mode(f, mode);
	/* Close even after a failure (it releases the server's handle), but
	 * its own error only matters when everything else worked. */
	int crc = dafs_close(f);
	if (rc < 0) {
		errno = -rc;
		return local_err ? report_local(local) : report(remote, rc);
	}
	return crc < 0 ? report(remote, crc) : 0;
}

/* put LOCAL... REMOTE: "-" as LOCAL is stdin. */
static int put_one(struct dafs_session *s, struct xfer *x, const char *local,
		   const char *remote, bool into_dir)
{
	if (!strcmp(local, "-"))
		return upload(s, x, STDIN_FILENO, "stdin", 0644, remote);

	int fd = open(local, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return report_local(local);
	struct stat st;
	int status;
	if (fstat(fd, &st) < 0) {
		status = report_local(local);
	} else if (S_ISDIR(st.st_mode)) {
		errno = EISDIR;
		status = report_local(local);
	} else {
		char *dst = target_path(remote, local, into_dir);
		status = upload(s, x, fd, local, st.st_mode & 07777, dst);
		free(dst);
	}
	close(fd);
	return status;
}

static int cmd_put(struct dafs_session *s, const struct flags *fl, int argc, char **argv)
{
	const char *remote = argv[argc - 1];
	bool into_dir = remote_is_dir(s, remote);
	if (argc > 2 && !into_dir)
		return report(remote, -ENOTDIR);

	struct xfer x;
	int rc = xfer_open(s, &x);
	if (rc < 0)
		return report("transfer buffers", rc);
	int status = 0;
	for (int i = 0; i < argc - 1; i++)
		status |= put_one(s, &x, argv[i], remote, into_dir);
	xfer_close(&x);
	return status;
}

/* ---- Directory listings ------------------------------------------------- */

struct entry {
	char *name;
	char *path;             /* dir/name, alive until its stat completes */
	unsigned char type;     /* DT_* from readdir */
	struct stat st;
	int stat_rc;
};

struct listing {
	struct entry *ent;
	size_t n, cap;
};

static void listing_free(struct listing *l)
{
	for (size_t i = 0; i < l->n; i++) {
		free(l->ent[i].name);
		free(l->ent[i].path);
	}
	free(l->ent);
	memset(l, 0, sizeof(*l));
}

static void listing_add(struct listing *l, const char *dir, const char *name,
			unsigned char type)
{
	if (l->n == l->cap) {
		l->cap = l->cap ? 2 * l->cap : 64;
		struct entry *e = realloc(l->ent, l->cap * sizeof(*e));
		if (!e) {
			fprintf(stderr, "dafs: out of memory\n");
			exit(1);
		}
		l->ent = e;
	}
	struct entry *e = &l->ent[l->n++];
	memset(e, 0, sizeof(*e));
	e->name = xstrdup(name);
	e->path = path_join(dir, name);
	e->type = type;
}

static int by_name(const void *a, const void *b)
{
	return strcmp(((const struct entry *)a)->name, ((const struct entry *)b)->name);
}

/* Reads a whole directory, without "." and "..", sorted by name. The whole
 * list is read before anything acts on it, so rm -r never removes entries
 * from under an open listing. */
static int read_dir(struct dafs_session *s, const char *dir, struct listing *l)
{
	struct dafs_dir *d;
	int rc = dafs_opendir(s, dir, &d);
	if (rc < 0)
		return rc;
	struct dafs_dirent_info de;
	while ((rc = dafs_readdir(d, &de)) > 0)
		if (strcmp(de.name, ".") && strcmp(de.name, ".."))
			listing_add(l, dir, de.name, de.type);
	dafs_closedir(d);
	if (rc < 0) {
		listing_free(l);
		return rc;
	}
	if (l->n > 1)           /* an empty listing has no array to sort */
		qsort(l->ent, l->n, sizeof(*l->ent), by_name);
	return 0;
}

/* lstat of every entry, STAT_WINDOW at a time: a long listing of a big
 * directory would otherwise cost one round trip per entry. */
static int stat_entries(struct dafs_session *s, struct listing *l)
{
	struct dafs_cg *cg;
	int rc = dafs_cg_create(s, &cg);
	if (rc < 0)
		return rc;

	size_t next = 0;
	struct dafs_event ev;
	while (next < l->n || dafs_cg_outstanding(cg) > 0) {
		while (next < l->n && dafs_cg_outstanding(cg) < STAT_WINDOW) {
			struct entry *e = &l->ent[next++];
			e->stat_rc = dafs_stat_async(s, e->path, &e->st, AT_SYMLINK_NOFOLLOW, cg,
						     e, NULL);
		}
		if (dafs_cg_outstanding(cg) == 0)
			continue;
		rc = dafs_cg_wait_any(cg, WAIT_SLICE_MS, &ev);
		if (rc < 0)
			break;
		if (rc == 1)
			((struct entry *)ev.user)->stat_rc = (int)ev.result;
	}
	dafs_cg_destroy(cg);
	return rc < 0 ? rc : 0;
}

static void mode_string(mode_t m, char out[11])
{
	out[0] = S_ISDIR(m) ? 'd' : S_ISLNK(m) ? 'l' : S_ISCHR(m) ? 'c' : S_ISBLK(m) ? 'b' :
		 S_ISFIFO(m) ? 'p' : S_ISSOCK(m) ? 's' : '-';
	const char *rwx = "rwxrwxrwx";
	for (int i = 0; i < 9; i++)
		out[1 + i] = (m & (0400 >> i)) ? rwx[i] : '-';
	if (m & S_ISUID)
		out[3] = (m & S_IXUSR) ? 's' : 'S';
	if (m & S_ISGID)
		out[6] = (m & S_IXGRP) ? 's' : 'S';
	if (m & S_ISVTX)
		out[9] = (m & S_IXOTH) ? 't' : 'T';
	out[10] = '\0';
}

static void format_time(const struct timespec *ts, const char *fmt, char *buf, size_t len)
{
	struct tm tm;
	time_t t = ts->tv_sec;
	if (!localtime_r(&t, &tm) || !strftime(buf, len, fmt, &tm))
		snprintf(buf, len, "%lld", (long long)t);
}

/* One `ls -l` line: mode, size, mtime, name and a symlink's target. */
static int print_long(struct dafs_session *s, const char *path, const char *name,
		      const struct stat *st, int size_width)
{
	char mode[11], when[32];
	mode_string(st->st_mode, mode);
	format_time(&st->st_mtim, "%Y-%m-%d %H:%M", when, sizeof(when));
	printf("%s %*lld %s %s", mode, size_width, (long long)st->st_size, when, name);

	int status = 0;
	if (S_ISLNK(st->st_mode)) {
		char target[PATH_MAX];
		ssize_t n = dafs_readlink(s, path, target, sizeof(target) - 1);
		if (n >= 0)
			printf(" -> %.*s", (int)n, target);
		else
			status = report(path, (int)n);
	}
	printf("\n");
	return status;
}

static int digits(long long v)
{
	int d = 1;
	while (v >= 10) {
		v /= 10;
		d++;
	}
	return d;
}

static int list_dir(struct dafs_session *s, const char *dir, bool long_format)
{
	struct listing l = {0};
	int rc = read_dir(s, dir, &l);
	if (rc < 0)
		return report(dir, rc);

	int status = 0;
	if (!long_format) {
		for (size_t i = 0; i < l.n; i++)
			printf("%s\n", l.ent[i].name);
		listing_free(&l);
		return 0;
	}

	rc = stat_entries(s, &l);
	if (rc < 0)
		status = report(dir, rc);
	int width = 1;
	for (size_t i = 0; i < l.n; i++)
		if (l.ent[i].stat_rc == 0 && digits(l.ent[i].st.st_size) > width)
			width = digits(l.ent[i].st.st_size);
	for (size_t i = 0; i < l.n && rc == 0; i++) {
		struct entry *e = &l.ent[i];
		/* An entry removed between readdir and stat is reported,
		 * as ls does, and the rest still listed. */
		if (e->stat_rc < 0)
			status |= report(e->path, e->stat_rc);
		else
			status |= print_long(s, e->path, e->name, &e->st, width);
	}
	listing_free(&l);
	return status;
}

/* ls PATH: a directory lists its entries, anything else itself. With -l,
 * a symlink is shown as itself (as ls -l does); without, it is followed,
 * except when dangling. With several paths each directory gets a header,
 * and listings are set apart by a blank line (*printed: whether anything
 * came before). */
static int ls_one(struct dafs_session *s, const char *path, bool long_format, bool header,
		  bool *printed)
{
	struct stat st;
	int rc = dafs_stat(s, path, &st, long_format ? AT_SYMLINK_NOFOLLOW : 0);
	if (rc == -ENOENT && !long_format)
		rc = dafs_stat(s, path, &st, AT_SYMLINK_NOFOLLOW);
	if (rc < 0)
		return report(path, rc);

	if (!S_ISDIR(st.st_mode)) {
		*printed = true;
		if (!long_format) {
			printf("%s\n", path);
			return 0;
		}
		return print_long(s, path, path, &st, 1);
	}
	if (header)
		printf("%s%s:\n", *printed ? "\n" : "", path);
	*printed = true;
	return list_dir(s, path, long_format);
}

static int cmd_ls(struct dafs_session *s, const struct flags *fl, int argc, char **argv)
{
	bool printed = false;
	if (argc == 0)
		return ls_one(s, "/", fl->long_format, false, &printed);
	int status = 0;
	for (int i = 0; i < argc; i++)
		status |= ls_one(s, argv[i], fl->long_format, argc > 1, &printed);
	return status;
}

/* ---- stat --------------------------------------------------------------- */

static const char *type_name(mode_t m)
{
	if (S_ISREG(m))
		return "regular file";
	if (S_ISDIR(m))
		return "directory";
	if (S_ISLNK(m))
		return "symbolic link";
	if (S_ISFIFO(m))
		return "fifo";
	if (S_ISSOCK(m))
		return "socket";
	if (S_ISCHR(m))
		return "character special file";
	if (S_ISBLK(m))
		return "block special file";
	return "unknown";
}

static void print_time(const char *label, const struct timespec *ts)
{
	char when[64], zone[8];
	format_time(ts, "%Y-%m-%d %H:%M:%S", when, sizeof(when));
	format_time(ts, "%z", zone, sizeof(zone));
	printf("%s: %s.%09ld %s\n", label, when, ts->tv_nsec, zone);
}

/* Like stat(1): the name itself, not what a symlink points to. */
static int stat_one(struct dafs_session *s, const char *path)
{
	struct stat st;
	int rc = dafs_stat(s, path, &st, AT_SYMLINK_NOFOLLOW);
	if (rc < 0)
		return report(path, rc);

	int status = 0;
	printf("  File: %s", path);
	if (S_ISLNK(st.st_mode)) {
		char target[PATH_MAX];
		ssize_t n = dafs_readlink(s, path, target, sizeof(target) - 1);
		if (n >= 0)
			printf(" -> %.*s", (int)n, target);
		else
			status = report(path, (int)n);
	}
	char mode[11];
	mode_string(st.st_mode, mode);
	printf("\n  Type: %s\n", type_name(st.st_mode));
	printf("  Size: %-12lld Inode: %-12llu Links: %llu\n", (long long)st.st_size,
	       (unsigned long long)st.st_ino, (unsigned long long)st.st_nlink);
	printf("  Mode: %04o (%s)  Uid: %u  Gid: %u\n", (unsigned)(st.st_mode & 07777), mode,
	       (unsigned)st.st_uid, (unsigned)st.st_gid);
	print_time("Access", &st.st_atim);
	print_time("Modify", &st.st_mtim);
	print_time("Change", &st.st_ctim);
	return status;
}

static int cmd_stat(struct dafs_session *s, const struct flags *fl, int argc, char **argv)
{
	int status = 0;
	for (int i = 0; i < argc; i++)
		status |= stat_one(s, argv[i]);
	return status;
}

/* ---- rm, mkdir, rmdir, mv, ln ------------------------------------------- */

static int rm_path(struct dafs_session *s, const char *path, bool recursive);

/* Empties and removes a directory. A child that cannot be removed is
 * reported and the rest still go; the final rmdir then reports the
 * directory as not empty, as rm -r does. */
static int rm_tree(struct dafs_session *s, const char *dir)
{
	struct listing l = {0};
	int rc = read_dir(s, dir, &l);
	if (rc < 0)
		return report(dir, rc);

	int status = 0;
	for (size_t i = 0; i < l.n; i++) {
		struct entry *e = &l.ent[i];
		if (e->type == DT_DIR)
			status |= rm_tree(s, e->path);
		else if (e->type == DT_UNKNOWN)
			status |= rm_path(s, e->path, true);
		else if ((rc = dafs_unlink(s, e->path)) < 0)
			status |= report(e->path, rc);
	}
	listing_free(&l);
	rc = dafs_rmdir(s, dir);
	return rc < 0 ? report(dir, rc) : status;
}

/* With -r, a directory is emptied first; a symlink is always removed
 * itself (lstat), never followed, so rm -r cannot wander out through one. */
static int rm_path(struct dafs_session *s, const char *path, bool recursive)
{
	if (recursive) {
		struct stat st;
		int rc = dafs_stat(s, path, &st, AT_SYMLINK_NOFOLLOW);
		if (rc < 0)
			return report(path, rc);
		if (S_ISDIR(st.st_mode))
			return rm_tree(s, path);
	}
	int rc = dafs_unlink(s, path);
	return rc < 0 ? report(path, rc) : 0;
}

static int cmd_rm(struct dafs_session *s, const struct flags *fl, int argc, char **argv)
{
	int status = 0;
	for (int i = 0; i < argc; i++) {
		if (unsafe_to_remove(argv[i])) {
			fprintf(stderr, "dafs: rm: refusing to remove '%s'\n", argv[i]);
			status = 1;
			continue;
		}
		status |= rm_path(s, argv[i], fl->recursive);
	}
	return status;
}

/* mkdir that accepts an existing directory, for mkdir -p. */
static int mkdir_or_exists(struct dafs_session *s, const char *path)
{
	int rc = dafs_mkdir(s, path, 0777 & ~cmd_umask);
	if (rc == -EEXIST && remote_is_dir(s, path))
		rc = 0;
	return rc;
}

/* mkdir -p: the whole path first (one round trip in the usual case), then
 * each prefix from the top when a parent was missing. */
static int mkdir_parents(struct dafs_session *s, const char *path)
{
	int rc = mkdir_or_exists(s, path);
	if (rc != -ENOENT)
		return rc;

	char *prefix = xstrdup(path);
	size_t len = strlen(prefix);
	for (size_t end = 1; end <= len; end++) {
		/* Each component's end, skipping the empty ones of "a//b". */
		if ((prefix[end] != '/' && prefix[end] != '\0') || prefix[end - 1] == '/')
			continue;
		char saved = prefix[end];
		prefix[end] = '\0';
		rc = mkdir_or_exists(s, prefix);
		prefix[end] = saved;
		if (rc < 0)
			break;
	}
	free(prefix);
	return rc;
}

static int cmd_mkdir(struct dafs_session *s, const struct flags *fl, int argc, char **argv)
{
	int status = 0;
	for (int i = 0; i < argc; i++) {
		int rc = fl->parents ? mkdir_parents(s, argv[i]) :
				       dafs_mkdir(s, argv[i], 0777 & ~cmd_umask);
		if (rc < 0)
			status |= report(argv[i], rc);
	}
	return status;
}

static int cmd_rmdir(struct dafs_session *s, const struct flags *fl, int argc, char **argv)
{
	int status = 0;
	for (int i = 0; i < argc; i++) {
		int rc = dafs_rmdir(s, argv[i]);
		if (rc < 0)
			status |= report(argv[i], rc);
	}
	return status;
}

static int cmd_mv(struct dafs_session *s, const struct flags *fl, int argc, char **argv)
{
	char *to = target_path(argv[1], argv[0], remote_is_dir(s, argv[1]));
	int rc = dafs_rename(s, argv[0], to, 0);
	int status = rc < 0 ? report2(argv[0], to, rc) : 0;
	free(to);
	return status;
}

static int cmd_ln(struct dafs_session *s, const struct flags *fl, int argc, char **argv)
{
	const char *target = argv[0];
	char *link = target_path(argv[1], target, remote_is_dir(s, argv[1]));
	int rc = fl->symbolic ? dafs_symlink(s, target, link) : dafs_link(s, target, link);
	int status = rc < 0 ? report2(link, target, rc) : 0;
	free(link);
	return status;
}

/* ---- Command line ------------------------------------------------------- */

struct command {
	const char *name;
	const char *options;    /* getopt letters, see parse_flags */
	int min_args, max_args; /* max -1: any number */
	int (*run)(struct dafs_session *s, const struct flags *fl, int argc, char **argv);
	const char *args;       /* for usage messages */
	const char *help;
};

static const struct command commands[] = {
	{ "cat",   "",   1, -1, cmd_cat,   "PATH...",          "print remote files" },
	{ "put",   "",   2, -1, cmd_put,   "LOCAL... REMOTE",  "upload (LOCAL - is stdin)" },
	{ "get",   "",   2, -1, cmd_get,   "REMOTE... LOCAL",  "download (LOCAL - is stdout)" },
	{ "ls",    "l",  0, -1, cmd_ls,    "[-l] [PATH...]",   "list directories (default /)" },
	{ "stat",  "",   1, -1, cmd_stat,  "PATH...",          "show file status" },
	{ "rm",    "rR", 1, -1, cmd_rm,    "[-r] PATH...",     "remove files (-r: and directories)" },
	{ "mkdir", "p",  1, -1, cmd_mkdir, "[-p] PATH...",     "make directories (-p: with parents)" },
	{ "rmdir", "",   1, -1, cmd_rmdir, "PATH...",          "remove empty directories" },
	{ "mv",    "",   2, 2,  cmd_mv,    "FROM TO",          "rename" },
	{ "ln",    "s",  2, 2,  cmd_ln,    "[-s] TARGET LINK", "hard link (-s: symbolic link)" },
};
#define NCOMMANDS (sizeof(commands) / sizeof(commands[0]))

static void print_help(FILE *out)
{
	fprintf(out,
		"usage: dafs [--server URL] [--key-file FILE] COMMAND [ARGS...]\n"
		"       dafs keygen NAME\n"
		"\n"
		"Works on the files of a dafs-server export. Remote paths are absolute\n"
		"from the export's root. URL is shm://NAME, tcp://HOST:PORT or\n"
		"verbs://HOST:PORT; the default comes from $DAFS_SERVER.\n"
		"\n"
		"Commands:\n");
	for (size_t i = 0; i < NCOMMANDS; i++) {
		char synopsis[64];
		snprintf(synopsis, sizeof(synopsis), "%s %s", commands[i].name, commands[i].args);
		fprintf(out, "  %-26s %s\n", synopsis, commands[i].help);
	}
	fprintf(out,
		"\n"
		"put and get copy into a directory when the last argument is one.\n"
		"keygen prints a new client key, 'NAME KEY': keep the line in a file only\n"
		"its owner may read (the client's --key-file or DAFS_KEY_FILE) and add it\n"
		"to the server's --keys file.\n"
		"Environment: DAFS_SERVER, DAFS_KEY_FILE, DAFS_TIMEOUT_MS (server silence,\n"
		"in ms, after which a command gives up; default 5000).\n"
		"Exit status: 0 on success, 1 if anything failed, 2 on a usage error.\n");
}

/* Prints "dafs: MESSAGE" and how to get it right; returns exit status 2. */
__attribute__((format(printf, 2, 3)))
static int usage_error(const struct command *c, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	fprintf(stderr, "dafs: ");
	vfprintf(stderr, fmt, ap);
	fprintf(stderr, "\n");
	va_end(ap);
	if (c)
		fprintf(stderr, "usage: dafs %s %s\n", c->name, c->args);
	else
		fprintf(stderr, "Try 'dafs --help'.\n");
	return 2;
}

static const struct command *find_command(const char *name)
{
	for (size_t i = 0; i < NCOMMANDS; i++)
		if (!strcmp(commands[i].name, name))
			return &commands[i];
	return NULL;
}

/* The command's own options; argv[0] is the command name. Options stop at
 * the first operand ('+'), so a remote name after it is never taken for
 * one. Returns the index of the first operand, or -1 after a usage error. */
static int parse_flags(const struct command *c, int argc, char **argv, struct flags *fl)
{
	char optstring[16];
	snprintf(optstring, sizeof(optstring), "+%s", c->options);
	opterr = 0;             /* our own message, which names the command */
	optind = 1;
	int opt;
	while ((opt = getopt(argc, argv, optstring)) != -1) {
		switch (opt) {
		case 'l': fl->long_format = true; break;
		case 'r': case 'R': fl->recursive = true; break;
		case 'p': fl->parents = true; break;
		case 's': fl->symbolic = true; break;
		default:
			usage_error(c, "%s: invalid option -- '%c'", c->name, optopt);
			return -1;
		}
	}
	return optind;
}

/* The global options before the command. Sets *cmd to the command's index
 * and returns -1 to go on, or returns the exit status when done already
 * (--help, --version, a usage error). */
static int parse_global(int argc, char **argv, const char **server, const char **key_file,
			int *cmd)
{
	int i = 1;
	while (i < argc && argv[i][0] == '-') {
		const char *a = argv[i];
		if (!strcmp(a, "--")) {
			i++;
			break;
		} else if (!strcmp(a, "-h") || !strcmp(a, "--help")) {
			print_help(stdout);
			return 0;
		} else if (!strcmp(a, "--version")) {
			printf("dafs %s\n", DAFS_TOOL_VERSION);
			return 0;
		} else if (!strcmp(a, "--server") && i + 1 < argc) {
			*server = argv[i + 1];
			i += 2;
		} else if (!strncmp(a, "--server=", 9)) {
			*server = a + 9;
			i++;
		} else if (!strcmp(a, "--key-file") && i + 1 < argc) {
			*key_file = argv[i + 1];
			i += 2;
		} else if (!strncmp(a, "--key-file=", 11)) {
			*key_file = a + 11;
			i++;
		} else {
			return usage_error(NULL, "%s: unknown option or missing value", a);
		}
	}
	*cmd = i;
	return -1;
}

/* dafs keygen NAME: needs no server. */
static int keygen(int argc, char **argv)
{
	char line[160];
	int rc;

	if (argc != 2) {
		fprintf(stderr, "usage: dafs keygen NAME\n");
		return 2;
	}
	rc = dafs_keygen(argv[1], line, sizeof(line));
	if (rc == -EINVAL) {
		fprintf(stderr, "dafs: keygen: '%s' cannot name a key (1 to 64 of "
			"A-Z a-z 0-9 . _ @ -)\n", argv[1]);
		return 2;
	}
	if (rc) {
		fprintf(stderr, "dafs: keygen: %s\n", dafs_strerror(rc));
		return 1;
	}
	fputs(line, stdout);
	return fflush(stdout) == 0 ? 0 : 1;
}

int main(int argc, char **argv)
{
	const char *server = NULL, *key_file = NULL;
	int i = 1;
	int done = parse_global(argc, argv, &server, &key_file, &i);
	if (done >= 0)
		return done;
	if (i >= argc)
		return usage_error(NULL, "missing command");
	if (!strcmp(argv[i], "keygen"))
		return keygen(argc - i, argv + i);

	const struct command *c = find_command(argv[i]);
	if (!c)
		return usage_error(NULL, "%s: unknown command", argv[i]);
	cmd_name = c->name;
	/* umask(2) is read by setting it: here, before the session starts
	 * threads that could create a file in between. */
	cmd_umask = umask(0);
	umask(cmd_umask);

	struct flags fl = {0};
	int first = parse_flags(c, argc - i, argv + i, &fl);
	if (first < 0)
		return 2;
	int nargs = argc - i - first;
	char **args = argv + i + first;
	if (nargs < c->min_args || (c->max_args >= 0 && nargs > c->max_args))
		return usage_error(c, "%s: wrong number of arguments", c->name);

	if (!server)
		server = getenv("DAFS_SERVER");
	if (!server || !*server)
		return usage_error(NULL, "no server: use --server URL or set DAFS_SERVER");

	struct dafs_session_opts opts = {0};
	struct dafs_session *s;
	/* Its error is a malformed DAFS_* variable, which keeps its default:
	 * the session opens all the same. */
	dafs_session_opts_from_env(&opts);
	if (key_file)
		opts.key_file = key_file;
	int rc = dafs_session_open(server, &opts, &s);
	if (rc < 0) {
		fprintf(stderr, "dafs: %s: %s\n", server, dafs_strerror(rc));
		return 1;
	}

	int status = c->run(s, &fl, nargs, args);
	if (fflush(stdout) != 0) {
		fprintf(stderr, "dafs: %s: stdout: %s\n", c->name, strerror(errno));
		status = 1;
	}
	/* After a failure (typically a dead server) the close's own error says
	 * nothing new; after success it still matters. */
	rc = dafs_session_close(s);
	if (rc < 0 && status == 0) {
		fprintf(stderr, "dafs: %s: %s\n", server, dafs_strerror(rc));
		status = 1;
	}
	return status;
}
