/* wrap_dir.c — directory streams on DAFS directories.
 *
 * glibc's DIR is opaque, so a DAFS directory stream is a struct of our own
 * behind the same DIR * and every directory call is wrapped. It is told
 * apart from glibc's by its first word: glibc's DIR starts with its
 * descriptor, never negative; ours with a magic that is, as an int.
 */
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
	rc = core.dafs_opendir(s, d->path, &sd->dd);
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

DIR *opendir(const char *path)
{
	char dp[PATH_MAX];
	struct dfile *d;
	DIR *dir;
	int r = shim_route(AT_FDCWD, path, dp), fd, e;

	if (r == 0)
		return REAL(opendir)(path);
	if (r < 0) {
		errno = -r;
		return NULL;
	}
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
	rc = core.dafs_readdir(sd->dd, &info);
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

int closedir(DIR *d)
{
	struct shim_dir *sd = ours(d);
	int rc = 0;

	if (!sd)
		return REAL(closedir)(d);
	if (sd->gen == atomic_load(&shim_generation))
		rc = core.dafs_closedir(sd->dd);
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
		core.dafs_rewinddir(sd->dd);
}

long telldir(DIR *d)
{
	struct shim_dir *sd = ours(d);

	if (!sd)
		return REAL(telldir)(d);
	if (sd->gen != atomic_load(&shim_generation))
		return shim_err(-EBADF);
	return (long)core.dafs_telldir(sd->dd);
}

void seekdir(DIR *d, long pos)
{
	struct shim_dir *sd = ours(d);

	if (!sd)
		REAL(seekdir)(d, pos);
	else if (sd->gen == atomic_load(&shim_generation))
		core.dafs_seekdir(sd->dd, (off_t)pos);
}

int dirfd(DIR *d)
{
	struct shim_dir *sd = ours(d);

	return sd ? sd->fd : REAL(dirfd)(d);
}
