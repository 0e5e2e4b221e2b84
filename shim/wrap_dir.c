/* wrap_dir.c — directory streams on DAFS directories.
 *
 * glibc's DIR is opaque, so a DAFS directory stream is a struct of our own
 * behind the same DIR * and every directory call is wrapped. It is told
 * apart from glibc's by its first word: glibc's DIR starts with its
 * descriptor, never negative; ours with a magic that is, as an int.
 *
 * glibc's scandir opens its stream with its internal opendir, which the shim
 * never sees, so scandir (and scandirat) are wrapped whole. getdents64 on a
 * DAFS directory descriptor reads a stream of the description's own, whose
 * position is the description's offset: d_off of a record is a cookie that
 * lseek(fd, d_off, SEEK_SET) resumes from, as on a kernel directory.
 */
#include <dirent.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "shim.h"

_Static_assert(sizeof(struct dirent) == sizeof(struct dirent64), "x86_64 dirent ABI");

#define DIR_MAGIC 0xdaf5d1a5u

struct shim_dir {
	uint32_t magic;
	int fd;                          /* a DAFS descriptor: dirfd(), fchdir() */
	unsigned gen;                    /* the generation dd belongs to */
	struct dafs_dir *dd;
	struct dirent ent;               /* what readdir returns */
};

static struct shim_dir *ours(DIR *d)
{
	return d && *(uint32_t *)d == DIR_MAGIC ? (struct shim_dir *)d : NULL;
}

/* A stream on DAFS directory descriptor fd (owned by the stream from now). */
static DIR *dir_from_fd(int fd, struct dfile *d)
{
	struct dafs_session *s;
	struct shim_dir *sd;
	struct stat st;
	int rc;

	if ((rc = shim_fd_stat(d, &st)) < 0)
		goto fail;
	if (!S_ISDIR(st.st_mode)) {
		rc = -ENOTDIR;
		goto fail;
	}
	if (!(s = shim_session(&rc)))
		goto fail;
	if (!(sd = calloc(1, sizeof(*sd)))) {
		rc = -ENOMEM;
		goto fail;
	}
	rc = shim_core.dafs_opendir(s, d->path, &sd->dd);
	if (rc < 0) {
		free(sd);
		goto fail;
	}
	sd->magic = DIR_MAGIC;
	sd->fd = fd;
	sd->gen = atomic_load(&shim_generation);
	return (DIR *)sd;
fail:
	errno = -rc;
	return NULL;
}

/* The stream of a DAFS directory, by its DAFS path. */
static DIR *dir_open_dafs(const char *dp)
{
	struct dfile *d;
	DIR *dir;
	int fd, e;

	fd = shim_open_dafs(dp, O_RDONLY | O_DIRECTORY | O_CLOEXEC, 0);
	if (fd < 0) {
		errno = -fd;
		return NULL;
	}
	d = shim_fd_get(fd);
	dir = d ? dir_from_fd(fd, d) : NULL;
	e = d ? errno : EBADF;
	if (d)
		shim_dfile_put(d);
	if (!dir) {
		close(fd);
		errno = e;
	}
	return dir;
}

DIR *opendir(const char *path)
{
	char dp[SHIM_PATH_MAX];
	int r = shim_route(AT_FDCWD, path, dp);

	if (r == 0)
		return REAL(opendir)(path);
	if (r < 0) {
		errno = -r;
		return NULL;
	}
	return dir_open_dafs(dp);
}

DIR *fdopendir(int fd)
{
	struct dfile *d;
	DIR *dir;

	if (!shim_fd_maybe(fd) || !(d = shim_fd_get(fd)))
		return REAL(fdopendir)(fd);
	dir = dir_from_fd(fd, d);
	shim_dfile_put(d);
	return dir;
}

static struct dirent *dafs_readdir_ent(struct shim_dir *sd)
{
	struct dafs_dirent_info info;
	int rc;

	if (sd->gen != atomic_load(&shim_generation)) {
		/* The stream was opened by the parent's session (fork). */
		errno = EBADF;
		return NULL;
	}
	rc = shim_core.dafs_readdir(sd->dd, &info);
	if (rc <= 0) {
		if (rc < 0)
			errno = -rc;
		return NULL;     /* at the end errno is left alone, as POSIX says */
	}
	sd->ent.d_ino = info.ino;
	sd->ent.d_off = info.cookie;
	sd->ent.d_type = info.type;
	snprintf(sd->ent.d_name, sizeof(sd->ent.d_name), "%s", info.name);
	sd->ent.d_reclen = (unsigned short)(offsetof(struct dirent, d_name) +
					    strlen(sd->ent.d_name) + 1);
	return &sd->ent;
}

struct dirent *readdir(DIR *d)
{
	struct shim_dir *sd = ours(d);

	return sd ? dafs_readdir_ent(sd) : REAL(readdir)(d);
}

struct dirent64 *readdir64(DIR *d)
{
	struct shim_dir *sd = ours(d);

	return sd ? (struct dirent64 *)dafs_readdir_ent(sd) : REAL(readdir64)(d);
}

/* readdir_r: the entry copied into the caller's buffer; errors returned. */
static int dafs_readdir_r(struct shim_dir *sd, struct dirent *ent, struct dirent **res)
{
	int saved = errno, rc = 0;
	struct dirent *e;

	errno = 0;
	e = dafs_readdir_ent(sd);
	if (e)
		memcpy(ent, e, e->d_reclen);
	else
		rc = errno;
	errno = saved;
	*res = e ? ent : NULL;
	return rc;
}

int readdir_r(DIR *d, struct dirent *ent, struct dirent **res)
{
	struct shim_dir *sd = ours(d);

	return sd ? dafs_readdir_r(sd, ent, res) : REAL(readdir_r)(d, ent, res);
}

int readdir64_r(DIR *d, struct dirent64 *ent, struct dirent64 **res)
{
	struct shim_dir *sd = ours(d);

	return sd ? dafs_readdir_r(sd, (struct dirent *)ent, (struct dirent **)res) :
		    REAL(readdir64_r)(d, ent, res);
}

int closedir(DIR *d)
{
	struct shim_dir *sd = ours(d);
	int rc = 0;

	if (!sd)
		return REAL(closedir)(d);
	if (sd->gen == atomic_load(&shim_generation))
		rc = shim_core.dafs_closedir(sd->dd);
	close(sd->fd);
	sd->magic = 0;
	free(sd);
	return rc < 0 ? shim_err(rc) : 0;
}

void rewinddir(DIR *d)
{
	struct shim_dir *sd = ours(d);

	if (!sd)
		REAL(rewinddir)(d);
	else if (sd->gen == atomic_load(&shim_generation))
		shim_core.dafs_rewinddir(sd->dd);
}

long telldir(DIR *d)
{
	struct shim_dir *sd = ours(d);

	if (!sd)
		return REAL(telldir)(d);
	if (sd->gen != atomic_load(&shim_generation))
		return shim_err(-EBADF);
	return (long)shim_core.dafs_telldir(sd->dd);
}

void seekdir(DIR *d, long pos)
{
	struct shim_dir *sd = ours(d);

	if (!sd)
		REAL(seekdir)(d, pos);
	else if (sd->gen == atomic_load(&shim_generation))
		shim_core.dafs_seekdir(sd->dd, (off_t)pos);
}

int dirfd(DIR *d)
{
	struct shim_dir *sd = ours(d);

	return sd ? sd->fd : REAL(dirfd)(d);
}

/* ---- scandir ------------------------------------------------------------------ */

typedef int scan_filter(const struct dirent *);
typedef int scan_compar(const struct dirent **, const struct dirent **);

/* qsort hands out pointers to the array's elements; compar wants them as
 * glibc's scandir passes them. */
static int compar_trampoline(const void *a, const void *b, void *compar)
{
	return ((scan_compar *)compar)((const struct dirent **)a, (const struct dirent **)b);
}

/* scandir on the DAFS directory dp: the entries filter keeps, each in its
 * own malloc'ed block (the caller frees them and the array), sorted by
 * compar when given. Returns the count or -1 with errno. */
static int dafs_scandir(const char *dp, struct dirent ***list, scan_filter *filter,
			scan_compar *compar)
{
	struct dirent **v = NULL, *e;
	size_t n = 0, cap = 0;
	DIR *dir;
	int err = 0;

	if (!(dir = dir_open_dafs(dp)))
		return -1;
	for (;;) {
		errno = 0;
		if (!(e = readdir(dir))) {
			err = errno;
			break;
		}
		if (filter && !filter(e))
			continue;
		if (n == cap) {
			struct dirent **nv = realloc(v, (cap = cap ? 2 * cap : 16) * sizeof(*v));
			if (!nv) {
				err = ENOMEM;
				break;
			}
			v = nv;
		}
		if (!(v[n] = malloc(e->d_reclen))) {
			err = ENOMEM;
			break;
		}
		memcpy(v[n++], e, e->d_reclen);
	}
	closedir(dir);
	if (err) {
		while (n)
			free(v[--n]);
		free(v);
		errno = err;
		return -1;
	}
	if (compar && n > 1)
		qsort_r(v, n, sizeof(*v), compar_trampoline, (void *)compar);
	*list = v;
	return (int)n;
}

#define SCANDIR(dirfd, path, list, filter, compar, real_call)                          \
	do {                                                                           \
		char dp_[SHIM_PATH_MAX];                                                    \
		int r_ = shim_route(dirfd, path, dp_);                                 \
		if (r_ == 0)                                                           \
			return real_call;                                              \
		if (r_ < 0)                                                            \
			return shim_err(r_);                                           \
		return dafs_scandir(dp_, (struct dirent ***)(list), (scan_filter *)(filter), \
				    (scan_compar *)(compar));                          \
	} while (0)

int scandir(const char *path, struct dirent ***list, int (*filter)(const struct dirent *),
	    int (*compar)(const struct dirent **, const struct dirent **))
{
	SCANDIR(AT_FDCWD, path, list, filter, compar, REAL(scandir)(path, list, filter, compar));
}

int scandir64(const char *path, struct dirent64 ***list, int (*filter)(const struct dirent64 *),
	      int (*compar)(const struct dirent64 **, const struct dirent64 **))
{
	SCANDIR(AT_FDCWD, path, list, filter, compar, REAL(scandir64)(path, list, filter, compar));
}

int scandirat(int dirfd, const char *path, struct dirent ***list,
	      int (*filter)(const struct dirent *),
	      int (*compar)(const struct dirent **, const struct dirent **))
{
	SCANDIR(dirfd, path, list, filter, compar,
		REAL(scandirat)(dirfd, path, list, filter, compar));
}

int scandirat64(int dirfd, const char *path, struct dirent64 ***list,
		int (*filter)(const struct dirent64 *),
		int (*compar)(const struct dirent64 **, const struct dirent64 **))
{
	SCANDIR(dirfd, path, list, filter, compar,
		REAL(scandirat64)(dirfd, path, list, filter, compar));
}

/* ---- getdents64 ------------------------------------------------------------- */

/* The stream getdents64 reads for one open directory description. pos is
 * the cookie after the last record handed out; when the description's
 * offset no longer says the same (an lseek), the stream seeks there. An
 * entry read that did not fit the caller's buffer waits in `held`. */
struct shim_dirstate {
	struct dafs_dir *dd;
	unsigned gen;                    /* the generation dd belongs to */
	off_t pos;
	bool has_held;
	struct dafs_dirent_info held;
};

void shim_dirstate_free(struct dfile *d)
{
	struct shim_dirstate *ds = d->dir;

	/* A stream of an older generation belongs to a session that is not
	 * ours to use (the parent's): only its memory goes. */
	if (ds->dd && ds->gen == atomic_load(&shim_generation))
		shim_core.dafs_closedir(ds->dd);
	free(ds);
	d->dir = NULL;
}

/* d->lock held. The stream of d, opened or reopened (after fork) as needed
 * and positioned at the description's offset. */
static int dirstate_ready(struct dfile *d, struct shim_dirstate **out)
{
	struct shim_dirstate *ds = d->dir;
	unsigned gen = atomic_load(&shim_generation);
	off_t want = atomic_load(&d->ph->offset);
	struct dafs_session *s;
	struct stat st;
	int rc;

	if (!ds) {
		if ((rc = shim_fd_stat(d, &st)) < 0)
			return rc;
		if (!S_ISDIR(st.st_mode))
			return -ENOTDIR;
		if (!(ds = calloc(1, sizeof(*ds))))
			return -ENOMEM;
		d->dir = ds;
	}
	if (!ds->dd || ds->gen != gen) {
		ds->dd = NULL;
		if (!(s = shim_session(&rc)))
			return rc;
		if ((rc = shim_core.dafs_opendir(s, d->path, &ds->dd)) < 0) {
			ds->dd = NULL;
			return rc;
		}
		ds->gen = gen;
		ds->pos = 0;
		ds->has_held = false;
	}
	if (want != ds->pos) {
		shim_core.dafs_seekdir(ds->dd, want);
		ds->pos = want;
		ds->has_held = false;
	}
	*out = ds;
	return 0;
}

static ssize_t dafs_getdents(struct dfile *d, void *buf, size_t n)
{
	struct shim_dirstate *ds = NULL;
	size_t used = 0;
	int rc;

	pthread_mutex_lock(&d->lock);
	rc = dirstate_ready(d, &ds);
	while (rc == 0) {
		struct dafs_dirent_info *e = &ds->held;
		struct dirent64 *rec;
		size_t len;

		if (!ds->has_held) {
			rc = shim_core.dafs_readdir(ds->dd, e);
			if (rc <= 0)
				break;
			rc = 0;
			ds->has_held = true;
		}
		/* Records are glibc's struct dirent64 cut to the name's length,
		 * 8-byte aligned, as the kernel's. */
		len = (offsetof(struct dirent64, d_name) + strlen(e->name) + 1 + 7) & ~(size_t)7;
		if (used + len > n) {
			if (used == 0)
				rc = -EINVAL;   /* the kernel's answer to a buffer too small */
			break;
		}
		rec = (struct dirent64 *)((char *)buf + used);
		memset(rec, 0, len);
		rec->d_ino = e->ino;
		rec->d_off = e->cookie;
		rec->d_reclen = (unsigned short)len;
		rec->d_type = e->type;
		memcpy(rec->d_name, e->name, strlen(e->name) + 1);
		used += len;
		ds->has_held = false;
		ds->pos = e->cookie;
	}
	if (rc == 0 || used > 0)
		atomic_store(&d->ph->offset, ds->pos);
	pthread_mutex_unlock(&d->lock);
	return used > 0 ? (ssize_t)used : rc;
}

ssize_t getdents64(int fd, void *buf, size_t n)
{
	struct dfile *d;
	ssize_t r;

	if (!shim_fd_maybe(fd) || !(d = shim_fd_get(fd)))
		return REAL(getdents64)(fd, buf, n);
	r = dafs_getdents(d, buf, n);
	shim_dfile_put(d);
	return r < 0 ? shim_err((int)r) : r;
}
