/* path.c — which calls go to DAFS, and the DAFS working directory.
 *
 * An absolute path under the prefix ("/dafs/a/b") is DAFS path "/a/b". A
 * relative one is DAFS when the working directory is (after chdir into the
 * prefix, which the kernel never sees: /dafs need not exist locally) or when
 * it is relative to a DAFS directory descriptor. "." and ".." are resolved
 * lexically within the DAFS namespace; ".." at its root stays there.
 */
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "shim.h"

char shim_prefix[PATH_MAX];
size_t shim_prefix_len;
_Atomic int shim_cwd_is_dafs;
__thread int shim_in_core __attribute__((tls_model("initial-exec")));

static pthread_mutex_t cwd_lock = PTHREAD_MUTEX_INITIALIZER;
static char cwd[SHIM_PATH_MAX] = "/";         /* DAFS path, valid if shim_cwd_is_dafs */

int shim_path_join(const char *base, const char *rel, char out[SHIM_PATH_MAX])
{
	size_t len = 0;
	const char *p;
	int pass;

	out[0] = '\0';
	/* Pass 0 walks base (unless rel is absolute), pass 1 walks rel. */
	for (pass = rel[0] == '/' ? 1 : 0; pass < 2; pass++) {
		p = pass ? rel : base;
		while (*p) {
			const char *e;
			size_t n;

			while (*p == '/')
				p++;
			e = p;
			while (*e && *e != '/')
				e++;
			n = (size_t)(e - p);
			if (n == 0 || (n == 1 && p[0] == '.')) {
				/* nothing */
			} else if (n == 2 && p[0] == '.' && p[1] == '.') {
				while (len > 0 && out[len - 1] != '/')
					len--;
				if (len > 0)
					len--;          /* the '/' before it */
			} else {
				if (len + 1 + n >= SHIM_PATH_MAX)
					return -ENAMETOOLONG;
				out[len++] = '/';
				memcpy(out + len, p, n);
				len += n;
			}
			p = e;
		}
	}
	if (len == 0)
		out[len++] = '/';
	out[len] = '\0';
	return 1;
}

/* The kernel's checks of one path argument: ENAMETOOLONG for PATH_MAX
 * bytes or more (NUL included) or a component over NAME_MAX. */
static int argument_fits(const char *path)
{
	size_t comp = 0;

	if (strnlen(path, PATH_MAX) >= PATH_MAX)
		return -ENAMETOOLONG;
	for (const char *c = path; *c; c++) {
		comp = *c == '/' ? 0 : comp + 1;
		if (comp > NAME_MAX)
			return -ENAMETOOLONG;
	}
	return 0;
}

/* A path relative to a local directory descriptor can still lead into the
 * prefix: rsync resolves "/dafs/dst" as fstatat(open("/"), "dafs/dst"). It
 * does when path begins with the prefix's last components and dirfd is the
 * directory holding them (compared by device and inode, and only once the
 * names match, so that local *at calls pay a string compare). */
static int route_below_local_dir(int dirfd, const char *path, char out[SHIM_PATH_MAX])
{
	for (size_t i = 0; i < shim_prefix_len; i++) {
		const char *tail = shim_prefix + i + 1;
		size_t n = shim_prefix_len - i - 1;
		char dir[PATH_MAX];
		struct stat st, dst;

		if (shim_prefix[i] != '/' || strncmp(path, tail, n) != 0 ||
		    (path[n] != '/' && path[n] != '\0'))
			continue;
		memcpy(dir, shim_prefix, i ? i : 1);
		dir[i ? i : 1] = '\0';
		if (REAL(fstat)(dirfd, &st) < 0 || REAL(stat)(dir, &dst) < 0 ||
		    st.st_dev != dst.st_dev || st.st_ino != dst.st_ino)
			return 0;
		return argument_fits(path) ?: shim_path_join("/", path + n, out);
	}
	return 0;
}

int shim_route_slow(int dirfd, const char *path, char out[SHIM_PATH_MAX])
{
	struct dfile *d;
	int rc;

	if (path[0] == '/') {
		if (strncmp(path, shim_prefix, shim_prefix_len) != 0 ||
		    (path[shim_prefix_len] != '/' && path[shim_prefix_len] != '\0'))
			return 0;
		rc = argument_fits(path);
		return rc < 0 ? rc : shim_path_join("/", path + shim_prefix_len, out);
	}
	/* libfabric's and the core's own relative paths are theirs. */
	if (shim_in_core)
		return 0;
	/* Joined where the base lives (no copy: these buffers are large, and
	 * a wrapper may run on a small thread stack). */
	if (dirfd == AT_FDCWD) {
		pthread_mutex_lock(&cwd_lock);
		if (!shim_cwd_is_dafs) {
			pthread_mutex_unlock(&cwd_lock);
			return 0;
		}
		rc = path[0] == '\0' ? -ENOENT : argument_fits(path);
		if (rc == 0)
			rc = shim_path_join(cwd, path, out);
		pthread_mutex_unlock(&cwd_lock);
		return rc;
	}
	if (!shim_fd_maybe(dirfd) || !(d = shim_fd_get(dirfd)))
		return route_below_local_dir(dirfd, path, out);
	rc = path[0] == '\0' ? -ENOENT : argument_fits(path);
	if (rc == 0)
		rc = shim_path_join(d->path, path, out);
	shim_dfile_put(d);
	return rc;
}

int shim_on_dafs(int dirfd, const char *path)
{
	char dp[SHIM_PATH_MAX];
	int r = shim_route(dirfd, path, dp);

	if (r < 0) {
		errno = -r;
		return -1;
	}
	return r;
}

int shim_path_local(const char *dpath, char *buf, size_t size)
{
	int n = snprintf(buf, size, "%s%s", shim_prefix, strcmp(dpath, "/") ? dpath : "");

	return n < 0 || (size_t)n >= size ? -ERANGE : n;
}

/* ---- the working directory ---------------------------------------------- */

/* After exec: the previous program's DAFS working directory (trusted, it
 * was checked when it was entered). */
void shim_cwd_adopt(const char *dpath)
{
	if (dpath[0] != '/' || strlen(dpath) >= sizeof(cwd))
		return;
	pthread_mutex_lock(&cwd_lock);
	snprintf(cwd, sizeof(cwd), "%s", dpath);
	atomic_store(&shim_cwd_is_dafs, 1);
	pthread_mutex_unlock(&cwd_lock);
}

int shim_cwd_get(char buf[SHIM_PATH_MAX])
{
	int dafs;

	pthread_mutex_lock(&cwd_lock);
	dafs = shim_cwd_is_dafs;
	if (dafs)
		memcpy(buf, cwd, SHIM_PATH_MAX);
	pthread_mutex_unlock(&cwd_lock);
	return dafs;
}

static int set_dafs_cwd(const char *dpath)
{
	struct dafs_session *s;
	struct stat st;
	int rc;

	if (!(s = shim_session(&rc)))
		return shim_err(rc);
	rc = shim_core.dafs_stat(s, dpath, &st, 0);
	if (rc < 0)
		return shim_err(rc);
	if (!S_ISDIR(st.st_mode))
		return shim_err(-ENOTDIR);
	pthread_mutex_lock(&cwd_lock);
	snprintf(cwd, sizeof(cwd), "%s", dpath);
	atomic_store(&shim_cwd_is_dafs, 1);
	pthread_mutex_unlock(&cwd_lock);
	return 0;
}

int chdir(const char *path)
{
	char dp[SHIM_PATH_MAX];
	int r = shim_route(AT_FDCWD, path, dp), rc;

	if (r < 0)
		return shim_err(r);
	if (r > 0)
		return set_dafs_cwd(dp);
	rc = REAL(chdir)(path);
	if (rc == 0)
		atomic_store(&shim_cwd_is_dafs, 0);
	return rc;
}

int fchdir(int fd)
{
	struct dfile *d;
	int rc;

	if (shim_fd_maybe(fd) && (d = shim_fd_get(fd))) {
		rc = set_dafs_cwd(d->path);
		shim_dfile_put(d);
		return rc;
	}
	rc = REAL(fchdir)(fd);
	if (rc == 0)
		atomic_store(&shim_cwd_is_dafs, 0);
	return rc;
}

char *getcwd(char *buf, size_t size)
{
	char local[PATH_MAX];
	int n;

	if (!atomic_load(&shim_cwd_is_dafs))
		return REAL(getcwd)(buf, size);
	pthread_mutex_lock(&cwd_lock);
	n = shim_path_local(cwd, local, sizeof(local));
	pthread_mutex_unlock(&cwd_lock);
	if (n < 0) {
		errno = ENAMETOOLONG;
		return NULL;
	}
	if (!buf) {
		/* glibc's extension: size 0 means as large as needed. */
		size_t want = size ? size : (size_t)n + 1;
		if (want < (size_t)n + 1) {
			errno = ERANGE;
			return NULL;
		}
		if (!(buf = malloc(want)))
			return NULL;
	} else if (size < (size_t)n + 1) {
		errno = size ? ERANGE : EINVAL;
		return NULL;
	}
	memcpy(buf, local, (size_t)n + 1);
	return buf;
}

char *__getcwd_chk(char *buf, size_t size, size_t bl)
{
	if (!atomic_load(&shim_cwd_is_dafs))
		return REAL(__getcwd_chk)(buf, size, bl);
	if (size > bl)
		abort();   /* what glibc's __chk_fail amounts to */
	return getcwd(buf, size);
}

char *realpath(const char *path, char *resolved)
{
	char dp[SHIM_PATH_MAX];
	int r = shim_route(AT_FDCWD, path, dp);

	if (r == 0) {
		char *res = REAL(realpath)(path, resolved);

		/* A local link may lead into the prefix, which libc's own
		 * lstat cannot follow. */
		if (!res && (errno == ENOENT || errno == ENOTDIR) && shim_prefix_len) {
			int err = errno;

			res = shim_realpath_walk(path, resolved);
			/* Not a way into DAFS after all: libc's answer stands. */
			if (!res)
				errno = err;
		}
		return res;
	}
	if (r < 0) {
		errno = -r;
		return NULL;
	}
	return shim_realpath_walk(path, resolved);
}

char *canonicalize_file_name(const char *path)
{
	return realpath(path, NULL);
}
