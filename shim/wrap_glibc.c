/* wrap_glibc.c — glibc's public functions that reach paths through its own
 * internal calls (__open_nocancel, __lstat64, __opendir, __statfs...), which
 * bind inside libc.so.6 and never meet the shim: the temporary-file family,
 * __realpath_chk, get_current_dir_name and getwd, statvfs64, pathconf, ftw
 * and nftw, glob, fts_open, mktemp, ftok, lchmod, syncfs, the dprintf
 * family and setmntent. (lockf and getdirentries, also glibc's internal
 * calls on a descriptor, are wrap_placeholder.c's.)
 *
 * Each wrapper routes its path first and calls libc's own function when it
 * is not DAFS, so local behaviour is glibc's. On DAFS it redoes what glibc
 * does on top of the shim's wrapped calls (open, mkdir, lstat, opendir...),
 * following glibc 2.36's code so that results match a local directory; a
 * function that cannot be redone (fts) fails with a clear errno and a
 * DAFS_DEBUG line. shim/AUDIT.tsv classifies every path-taking function of
 * libc.so.6; scripts/glibc-audit checks it against the library.
 */
#include <limits.h>
#include <mntent.h>
#include <search.h>
#include <stdio_ext.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>
#include <unistd.h>

#include "shim.h"

/* ---- temporary names ------------------------------------------------------ */

enum temp_kind { TEMP_FILE, TEMP_DIR, TEMP_NAME };

/* glibc's __gen_tempname: the six X's before a suffix of suffixlen bytes
 * become letters and digits until the create (or, for TEMP_NAME, a lstat
 * saying ENOENT) succeeds; here through the shim's open, mkdir and lstat,
 * which route the name to DAFS. Returns the descriptor, 0, or -1 (errno). */
static int dafs_tempname(char *tmpl, int suffixlen, int flags, enum temp_kind kind)
{
	static const char letters[] =
		"abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789";
	/* glibc's bound: 62**3 attempts. */
	const unsigned attempts = 62 * 62 * 62;
	size_t len = strlen(tmpl);
	char *x;

	if (suffixlen < 0 || len < 6 + (size_t)suffixlen ||
	    memcmp(tmpl + len - suffixlen - 6, "XXXXXX", 6) != 0) {
		errno = EINVAL;
		return -1;
	}
	x = tmpl + len - suffixlen - 6;
	for (unsigned i = 0; i < attempts; i++) {
		uint64_t v;
		struct stat st;
		int rc;

		if (getrandom(&v, sizeof(v), GRND_NONBLOCK) != sizeof(v)) {
			struct timespec ts;

			clock_gettime(CLOCK_MONOTONIC, &ts);
			v = ((uint64_t)ts.tv_nsec << 16) ^ (uint64_t)ts.tv_sec ^
			    ((uint64_t)getpid() << 40) ^ i;
		}
		for (int k = 0; k < 6; k++, v /= 62)
			x[k] = letters[v % 62];
		switch (kind) {
		case TEMP_FILE:
			rc = open(tmpl, (flags & ~O_ACCMODE) | O_RDWR | O_CREAT | O_EXCL,
				  S_IRUSR | S_IWUSR);
			break;
		case TEMP_DIR:
			rc = mkdir(tmpl, S_IRWXU);
			break;
		default:
			if (lstat(tmpl, &st) == 0) {
				errno = EEXIST;
				rc = -1;
			} else {
				rc = errno == ENOENT ? 0 : -1;
			}
			break;
		}
		if (rc >= 0)
			return rc;
		if (errno != EEXIST)
			return -1;
	}
	errno = EEXIST;
	return -1;
}

#define TEMPFD(tmpl, suffixlen, flags, real_call)                               \
	do {                                                                    \
		int r_ = shim_on_dafs(AT_FDCWD, tmpl);                                     \
		if (r_ == 0)                                                    \
			return real_call;                                       \
		return r_ < 0 ? -1 : dafs_tempname(tmpl, suffixlen, flags, TEMP_FILE); \
	} while (0)

int mkstemp(char *tmpl)
{
	TEMPFD(tmpl, 0, 0, REAL(mkstemp)(tmpl));
}

int mkstemp64(char *tmpl)
{
	TEMPFD(tmpl, 0, 0, REAL(mkstemp64)(tmpl));
}

int mkostemp(char *tmpl, int flags)
{
	TEMPFD(tmpl, 0, flags, REAL(mkostemp)(tmpl, flags));
}

int mkostemp64(char *tmpl, int flags)
{
	TEMPFD(tmpl, 0, flags, REAL(mkostemp64)(tmpl, flags));
}

int mkstemps(char *tmpl, int suffixlen)
{
	TEMPFD(tmpl, suffixlen, 0, REAL(mkstemps)(tmpl, suffixlen));
}

int mkstemps64(char *tmpl, int suffixlen)
{
	TEMPFD(tmpl, suffixlen, 0, REAL(mkstemps64)(tmpl, suffixlen));
}

int mkostemps(char *tmpl, int suffixlen, int flags)
{
	TEMPFD(tmpl, suffixlen, flags, REAL(mkostemps)(tmpl, suffixlen, flags));
}

int mkostemps64(char *tmpl, int suffixlen, int flags)
{
	TEMPFD(tmpl, suffixlen, flags, REAL(mkostemps64)(tmpl, suffixlen, flags));
}

char *mkdtemp(char *tmpl)
{
	int r = shim_on_dafs(AT_FDCWD, tmpl);

	if (r == 0)
		return REAL(mkdtemp)(tmpl);
	return r < 0 || dafs_tempname(tmpl, 0, 0, TEMP_DIR) < 0 ? NULL : tmpl;
}

/* mktemp only names: glibc's checks the name is free with its internal
 * lstat, which sees no DAFS file. On failure the template becomes "". */
char *mktemp(char *tmpl)
{
	int r = shim_on_dafs(AT_FDCWD, tmpl);

	if (r == 0)
		return REAL(mktemp)(tmpl);
	if (r < 0 || dafs_tempname(tmpl, 0, 0, TEMP_NAME) < 0)
		tmpl[0] = '\0';
	return tmpl;
}

/* glibc's direxists, through the shim's stat. */
static int dir_exists(const char *dir)
{
	struct stat st;

	return stat(dir, &st) == 0 && S_ISDIR(st.st_mode);
}

/* glibc's __path_search for tempnam (TMPDIR, then dir, then P_tmpdir,
 * then /tmp), through the shim's stat; 0 with "DIR/PFXXXXXXX" in buf. */
static int temp_dir_search(char *buf, size_t size, const char *dir, const char *pfx)
{
	const char *env = secure_getenv("TMPDIR");
	size_t plen, dlen;

	if (!pfx || !*pfx)
		pfx = "file";
	plen = strlen(pfx);
	if (plen > 5)
		plen = 5;
	if (env && dir_exists(env))
		dir = env;
	else if (!dir || !dir_exists(dir))
		dir = dir_exists(P_tmpdir) ? P_tmpdir : NULL;
	if (!dir) {
		errno = ENOENT;
		return -1;
	}
	dlen = strlen(dir);
	while (dlen > 1 && dir[dlen - 1] == '/')
		dlen--;
	if (size < dlen + 1 + plen + 6 + 1) {
		errno = EINVAL;
		return -1;
	}
	snprintf(buf, size, "%.*s/%.*sXXXXXX", (int)dlen, dir, (int)plen, pfx);
	return 0;
}

/* Would glibc's search for a temporary directory look at DAFS? */
static int tmpdir_is_dafs(const char *dir)
{
	char dp[SHIM_PATH_MAX];
	const char *env = secure_getenv("TMPDIR");

	return (env && shim_route(AT_FDCWD, env, dp) > 0) ||
	       (dir && shim_route(AT_FDCWD, dir, dp) > 0) ||
	       shim_route(AT_FDCWD, P_tmpdir, dp) > 0;
}

char *tempnam(const char *dir, const char *pfx)
{
	char buf[FILENAME_MAX];

	if (!tmpdir_is_dafs(dir))
		return REAL(tempnam)(dir, pfx);
	if (temp_dir_search(buf, sizeof(buf), dir, pfx) < 0 ||
	    dafs_tempname(buf, 0, 0, TEMP_NAME) < 0)
		return NULL;
	return strdup(buf);
}

/* tmpfile and tmpnam use P_tmpdir alone; they reach DAFS only when the
 * mount prefix covers /tmp. tmpfile's file is glibc's: unnamed (O_TMPFILE)
 * in P_tmpdir, else created there and removed at once; here through the
 * shim's open, unlink and fdopen, and DAFS keeps such a file usable until
 * its last close. */
static FILE *dafs_tmpfile(void)
{
	char name[sizeof(P_tmpdir) + sizeof("/tmpfXXXXXX")];
	FILE *f;
	int fd = open(P_tmpdir, O_RDWR | O_TMPFILE | O_EXCL, S_IRUSR | S_IWUSR);

	if (fd < 0) {
		snprintf(name, sizeof(name), "%s/tmpfXXXXXX", P_tmpdir);
		if ((fd = dafs_tempname(name, 0, 0, TEMP_FILE)) < 0)
			return NULL;
		/* As glibc's: the file is usable whether or not the name goes. */
		(void)unlink(name);
	}
	if (!(f = fdopen(fd, "w+b"))) {
		int e = errno;

		close(fd);
		errno = e;
	}
	return f;
}

FILE *tmpfile(void)
{
	char dp[SHIM_PATH_MAX];

	if (shim_route(AT_FDCWD, P_tmpdir, dp) <= 0)
		return REAL(tmpfile)();
	return dafs_tmpfile();
}

FILE *tmpfile64(void)
{
	char dp[SHIM_PATH_MAX];

	if (shim_route(AT_FDCWD, P_tmpdir, dp) <= 0)
		return REAL(tmpfile64)();
	return dafs_tmpfile();
}

static char *dafs_tmpnam(char *buf)
{
	static char own[L_tmpnam];
	char name[L_tmpnam];

	if (temp_dir_search(name, sizeof(name), P_tmpdir, NULL) < 0 ||
	    dafs_tempname(name, 0, 0, TEMP_NAME) < 0)
		return NULL;
	if (!buf)
		buf = own;
	memcpy(buf, name, strlen(name) + 1);
	return buf;
}

char *tmpnam(char buf[L_tmpnam])
{
	char dp[SHIM_PATH_MAX];

	if (shim_route(AT_FDCWD, P_tmpdir, dp) <= 0)
		return REAL(tmpnam)(buf);
	return dafs_tmpnam(buf);
}

char *tmpnam_r(char buf[L_tmpnam])
{
	char dp[SHIM_PATH_MAX];

	if (!buf || shim_route(AT_FDCWD, P_tmpdir, dp) <= 0)
		return REAL(tmpnam_r)(buf);
	return dafs_tmpnam(buf);
}

/* ---- names of files and of the working directory ----------------------- */

/* glibc's __realpath_chk calls its internal __realpath. */
char *__realpath_chk(const char *path, char *resolved, size_t rl)
{
	char dp[SHIM_PATH_MAX];

	if (shim_route(AT_FDCWD, path, dp) == 0)
		return REAL(__realpath_chk)(path, resolved, rl);
	if (resolved && rl < PATH_MAX)
		abort();   /* what glibc's __chk_fail amounts to */
	return realpath(path, resolved);
}

/* glibc's get_current_dir_name trusts $PWD after an internal stat of it
 * and ".", else its internal getcwd: both the local view. */
char *get_current_dir_name(void)
{
	if (!atomic_load(&shim_cwd_is_dafs))
		return REAL(get_current_dir_name)();
	return getcwd(NULL, 0);
}

/* getwd's contract: at most PATH_MAX bytes, and on failure the message in
 * buf. */
static char *dafs_getwd(char *buf)
{
	if (!getcwd(buf, PATH_MAX)) {
		snprintf(buf, PATH_MAX, "%s", strerror(errno));
		return NULL;
	}
	return buf;
}

char *getwd(char *buf)
{
	if (!atomic_load(&shim_cwd_is_dafs))
		return REAL(getwd)(buf);
	return dafs_getwd(buf);
}

char *__getwd_chk(char *buf, size_t bl)
{
	if (!atomic_load(&shim_cwd_is_dafs))
		return REAL(__getwd_chk)(buf, bl);
	if (bl < PATH_MAX)
		abort();
	return dafs_getwd(buf);
}

/* ---- file system limits --------------------------------------------------- */

_Static_assert(sizeof(struct statvfs) == sizeof(struct statvfs64), "x86_64 statvfs ABI");

int statvfs64(const char *path, struct statvfs64 *sv)
{
	char dp[SHIM_PATH_MAX];

	if (shim_route(AT_FDCWD, path, dp) == 0)
		return REAL(statvfs64)(path, sv);
	return statvfs(path, (struct statvfs *)sv);
}

/* glibc 2.36's Linux pathconf for the names that depend on the file, from
 * the DAFS server's answers; the file-independent names are glibc's
 * constants (want_file 0). glibc decides LINK_MAX and FILESIZEBITS by the
 * statfs magic number, and DAFS has none (f_type 0, as an unknown file
 * system): LINK_MAX is then glibc's default for unknown ones (127, what an
 * NFS mount answers too), FILESIZEBITS DAFS's own 64-bit offsets. */
static long dafs_pathconf(const char *path, int fd, int name, int *want_file)
{
	struct statvfs sv;
	struct stat st;

	*want_file = 1;
	switch (name) {
	case _PC_LINK_MAX:
	case _PC_FILESIZEBITS:
	case _PC_2_SYMLINKS:
	case _PC_CHOWN_RESTRICTED:
	case _PC_ASYNC_IO:
		if ((path ? stat(path, &st) : fstat(fd, &st)) < 0)
			return -1;
		return name == _PC_LINK_MAX ? 127 : name == _PC_FILESIZEBITS ? 64 :
		       name != _PC_ASYNC_IO || S_ISREG(st.st_mode) || S_ISBLK(st.st_mode) ? 1 : -1;
	case _PC_NAME_MAX:
	case _PC_REC_MIN_XFER_SIZE:
	case _PC_REC_XFER_ALIGN:
	case _PC_ALLOC_SIZE_MIN:
		if ((path ? statvfs(path, &sv) : fstatvfs(fd, &sv)) < 0)
			return -1;
		return name == _PC_NAME_MAX ? (long)sv.f_namemax :
		       name == _PC_REC_MIN_XFER_SIZE ? (long)sv.f_bsize : (long)sv.f_frsize;
	default:
		*want_file = 0;
		return 0;
	}
}

long pathconf(const char *path, int name)
{
	char dp[SHIM_PATH_MAX];
	int want_file;
	long v;

	if (shim_route(AT_FDCWD, path, dp) == 0)
		return REAL(pathconf)(path, name);
	v = dafs_pathconf(path, -1, name, &want_file);
	/* The other names are constants: glibc does not look at the file. */
	return want_file ? v : REAL(pathconf)("/", name);
}

long fpathconf(int fd, int name)
{
	struct dfile *d;
	int want_file;
	long v;

	if (!shim_fd_maybe(fd) || !(d = shim_fd_get(fd)))
		return REAL(fpathconf)(fd, name);
	shim_dfile_put(d);
	v = dafs_pathconf(NULL, fd, name, &want_file);
	return want_file ? v : REAL(pathconf)("/", name);
}

/* ---- ftw and nftw ---------------------------------------------------------- */

/* glibc's io/ftw.c, on the shim's lstat, stat, opendir, readdir and chdir:
 * the same order of calls (pre- or post-order, readdir order within a
 * directory), the same flags (FTW_PHYS, FTW_MOUNT, FTW_DEPTH, FTW_CHDIR,
 * FTW_ACTIONRETVAL), the same loop check without FTW_PHYS (a directory seen
 * before, by device and inode, is not walked again). */
struct walk {
	int flags;
	int is_ftw;             /* ftw(): three-argument callback, its flags */
	void (*fn)(void);       /* __nftw_func_t or __ftw_func_t */
	dev_t dev;              /* of the start, for FTW_MOUNT */
	void *seen;             /* tsearch tree of struct walk_id */
	size_t len;             /* of path */
	char path[PATH_MAX];    /* as the callback sees it */
	/* With FTW_CHDIR the working directory moves: relative paths are
	 * then used from the one the walk started in. */
	char start_cwd[PATH_MAX];
	char sys[SHIM_PATH_MAX];
};

/* w->path for the shim's calls. */
static const char *sys_path(struct walk *w)
{
	if (!(w->flags & FTW_CHDIR) || w->path[0] == '/')
		return w->path;
	if (shim_path_join(w->start_cwd, w->path, w->sys) < 0)
		return w->path;
	return w->sys;
}

/* With FTW_CHDIR: into the directory holding w->path. */
static int chdir_parent(struct walk *w)
{
	char up[SHIM_PATH_MAX];
	char *slash;

	if (!(w->flags & FTW_CHDIR))
		return 0;
	snprintf(up, sizeof(up), "%s", sys_path(w));
	slash = strrchr(up, '/');
	if (slash == up)
		up[1] = '\0';
	else if (slash)
		*slash = '\0';
	return chdir(up);
}

struct walk_id {
	dev_t dev;
	ino_t ino;
};

static int id_cmp(const void *a, const void *b)
{
	const struct walk_id *x = a, *y = b;

	if (x->dev != y->dev)
		return x->dev < y->dev ? -1 : 1;
	return x->ino < y->ino ? -1 : x->ino > y->ino;
}

/* 1 if st's directory was walked before; else remembers it (0, or -1). */
static int walk_seen(struct walk *w, const struct stat *st)
{
	struct walk_id key = { st->st_dev, st->st_ino }, *id;

	if (w->flags & FTW_PHYS)
		return 0;
	if (tfind(&key, &w->seen, id_cmp))
		return 1;
	if (!(id = malloc(sizeof(*id))))
		return -1;
	*id = key;
	if (!tsearch(id, &w->seen, id_cmp)) {
		free(id);
		return -1;
	}
	return 0;
}

static int walk_call(struct walk *w, const struct stat *st, int flag, struct FTW *ftw)
{
	if (w->is_ftw) {
		/* ftw knows no FTW_SL, FTW_DP, FTW_SLN: glibc's ftw_arr. */
		flag = flag == FTW_SL ? FTW_F : flag == FTW_DP ? FTW_D :
		       flag == FTW_SLN ? FTW_NS : flag;
		return ((__ftw_func_t)w->fn)(w->path, st, flag);
	}
	return ((__nftw_func_t)w->fn)(w->path, st, flag, ftw);
}

static int walk_entry(struct walk *w, int level);

/* The directory at w->path (st its attributes): FTW_D, its entries, FTW_DP. */
static int walk_dir(struct walk *w, const struct stat *st, int level)
{
	struct FTW ftw = { .level = level };
	size_t len = w->len;
	struct dirent *e;
	DIR *dir;
	int rc = 0;

	ftw.base = (int)(strrchr(w->path, '/') && len > 1 ?
			 strrchr(w->path, '/') - w->path + 1 : 0);
	if (!(dir = opendir(sys_path(w)))) {
		if (errno == EACCES)
			return walk_call(w, st, FTW_DNR, &ftw);
		return -1;
	}
	if (!(w->flags & FTW_DEPTH)) {
		rc = walk_call(w, st, FTW_D, &ftw);
		if (rc != 0) {
			closedir(dir);
			return rc;
		}
	}
	if ((w->flags & FTW_CHDIR) && chdir(sys_path(w)) < 0) {
		closedir(dir);
		return -1;
	}
	while ((errno = 0, e = readdir(dir))) {
		size_t n = strlen(e->d_name);

		if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, ".."))
			continue;
		if (len + 1 + n >= sizeof(w->path)) {
			errno = ENAMETOOLONG;
			rc = -1;
			break;
		}
		w->path[len] = '/';
		memcpy(w->path + len + 1, e->d_name, n + 1);
		w->len = len + 1 + n;
		rc = walk_entry(w, level + 1);
		w->path[len] = '\0';
		w->len = len;
		if (rc != 0)
			break;
	}
	closedir(dir);
	if ((w->flags & FTW_ACTIONRETVAL) && rc == FTW_SKIP_SIBLINGS)
		rc = 0;
	if (rc == 0 && chdir_parent(w) < 0)
		return -1;
	if (rc == 0 && (w->flags & FTW_DEPTH))
		rc = walk_call(w, st, FTW_DP, &ftw);
	return rc;
}

/* The object at w->path, found in a directory walked at level-1. */
static int walk_entry(struct walk *w, int level)
{
	struct FTW ftw = { .level = level };
	struct stat st;
	const char *slash = strrchr(w->path, '/');
	const char *p = sys_path(w);
	int flag, rc = 0;

	ftw.base = slash ? (int)(slash - w->path + 1) : 0;

	if (((w->flags & FTW_PHYS) ? lstat(p, &st) : stat(p, &st)) < 0) {
		if (errno != EACCES && errno != ENOENT)
			return -1;
		if (w->flags & FTW_PHYS)
			flag = FTW_NS;
		else
			flag = lstat(p, &st) == 0 && S_ISLNK(st.st_mode) ? FTW_SLN : FTW_NS;
	} else {
		flag = S_ISDIR(st.st_mode) ? FTW_D : S_ISLNK(st.st_mode) ? FTW_SL : FTW_F;
	}
	if (flag != FTW_NS && (w->flags & FTW_MOUNT) && st.st_dev != w->dev)
		return 0;
	if (flag == FTW_D) {
		int seen = walk_seen(w, &st);

		if (seen < 0)
			return -1;
		if (!seen)
			rc = walk_dir(w, &st, level);
	} else {
		rc = walk_call(w, &st, flag, &ftw);
	}
	if ((w->flags & FTW_ACTIONRETVAL) && rc == FTW_SKIP_SUBTREE)
		rc = 0;
	return rc;
}

static int dafs_walk(const char *dir, void (*fn)(void), int flags, int is_ftw)
{
	struct walk *w;
	struct stat st;
	char saved[PATH_MAX];
	int rc;

	if (!*dir) {
		errno = ENOENT;
		return -1;
	}
	if (!(w = calloc(1, sizeof(*w))))
		return -1;
	w->flags = flags;
	w->is_ftw = is_ftw;
	w->fn = fn;
	w->len = strlen(dir);
	if (w->len >= sizeof(w->path)) {
		free(w);
		errno = ENAMETOOLONG;
		return -1;
	}
	memcpy(w->path, dir, w->len + 1);
	while (w->len > 1 && w->path[w->len - 1] == '/')
		w->path[--w->len] = '\0';
	if (flags & FTW_CHDIR) {
		if (!getcwd(saved, sizeof(saved))) {
			free(w);
			return -1;
		}
		memcpy(w->start_cwd, saved, sizeof(saved));
		if (chdir_parent(w) < 0) {
			free(w);
			return -1;
		}
	}
	if (((flags & FTW_PHYS) ? lstat(sys_path(w), &st) : stat(sys_path(w), &st)) < 0) {
		struct FTW ftw = { 0, 0 };
		const char *slash = strrchr(w->path, '/');

		ftw.base = slash ? (int)(slash - w->path + 1) : 0;
		if (!(flags & FTW_PHYS) && errno == ENOENT && lstat(sys_path(w), &st) == 0 &&
		    S_ISLNK(st.st_mode))
			rc = walk_call(w, &st, FTW_SLN, &ftw);
		else
			rc = -1;
	} else {
		w->dev = st.st_dev;
		if (S_ISDIR(st.st_mode)) {
			rc = walk_seen(w, &st);
			if (rc == 0)
				rc = walk_dir(w, &st, 0);
		} else {
			struct FTW ftw = { 0, 0 };
			const char *slash = strrchr(w->path, '/');

			ftw.base = slash ? (int)(slash - w->path + 1) : 0;
			rc = walk_call(w, &st, S_ISLNK(st.st_mode) ? FTW_SL : FTW_F, &ftw);
		}
		if ((flags & FTW_ACTIONRETVAL) &&
		    (rc == FTW_SKIP_SUBTREE || rc == FTW_SKIP_SIBLINGS))
			rc = 0;
	}
	if (flags & FTW_CHDIR) {
		int e = errno;

		if (chdir(saved) < 0 && rc == 0)
			rc = -1;
		else
			errno = e;
	}
	tdestroy(w->seen, free);
	free(w);
	return rc;
}

/* The callback types differ only in struct stat vs stat64, one type here. */
#define FN(f) ((void (*)(void))(f))

int ftw(const char *dir, __ftw_func_t fn, int nopenfd)
{
	char dp[SHIM_PATH_MAX];

	if (shim_route(AT_FDCWD, dir, dp) == 0)
		return REAL(ftw)(dir, fn, nopenfd);
	return dafs_walk(dir, FN(fn), 0, 1);
}

int ftw64(const char *dir, __ftw64_func_t fn, int nopenfd)
{
	char dp[SHIM_PATH_MAX];

	if (shim_route(AT_FDCWD, dir, dp) == 0)
		return REAL(ftw64)(dir, fn, nopenfd);
	return dafs_walk(dir, FN(fn), 0, 1);
}

int nftw(const char *dir, __nftw_func_t fn, int nopenfd, int flags)
{
	char dp[SHIM_PATH_MAX];

	if (shim_route(AT_FDCWD, dir, dp) == 0)
		return REAL(nftw)(dir, fn, nopenfd, flags);
	return dafs_walk(dir, FN(fn), flags, 0);
}

int nftw64(const char *dir, __nftw64_func_t fn, int nopenfd, int flags)
{
	char dp[SHIM_PATH_MAX];

	if (shim_route(AT_FDCWD, dir, dp) == 0)
		return REAL(nftw64)(dir, fn, nopenfd, flags);
	return dafs_walk(dir, FN(fn), flags, 0);
}

/* ---- glob ------------------------------------------------------------------ */

/* glob's own directory reading and stat calls are internal; GLOB_ALTDIRFUNC
 * makes it use these instead, the shim's, which route each name. */
static void *glob_opendir(const char *path)
{
	return opendir(path);
}

static struct dirent *glob_readdir(void *dir)
{
	return readdir(dir);
}

static struct dirent64 *glob_readdir64(void *dir)
{
	return readdir64(dir);
}

static void glob_closedir(void *dir)
{
	/* glob has nothing to do with a close error; neither has libc's. */
	(void)closedir(dir);
}

static int glob_lstat(const char *path, struct stat *st)
{
	return lstat(path, st);
}

static int glob_stat(const char *path, struct stat *st)
{
	return stat(path, st);
}

static int glob_lstat64(const char *path, struct stat64 *st)
{
	return lstat64(path, st);
}

static int glob_stat64(const char *path, struct stat64 *st)
{
	return stat64(path, st);
}

/* A pattern whose leading literal part routes to DAFS (or relative in a
 * DAFS working directory), and no directory functions of the caller's. */
static int glob_on_dafs(const char *pattern, int flags)
{
	char dp[SHIM_PATH_MAX];

	return !(flags & GLOB_ALTDIRFUNC) && shim_route(AT_FDCWD, pattern, dp) != 0;
}

int glob(const char *pattern, int flags, int (*errfunc)(const char *, int), glob_t *pglob)
{
	if (!glob_on_dafs(pattern, flags))
		return REAL(glob)(pattern, flags, errfunc, pglob);
	pglob->gl_opendir = glob_opendir;
	pglob->gl_readdir = glob_readdir;
	pglob->gl_closedir = glob_closedir;
	pglob->gl_lstat = glob_lstat;
	pglob->gl_stat = glob_stat;
	return REAL(glob)(pattern, flags | GLOB_ALTDIRFUNC, errfunc, pglob);
}

int glob64(const char *pattern, int flags, int (*errfunc)(const char *, int), glob64_t *pglob)
{
	if (!glob_on_dafs(pattern, flags))
		return REAL(glob64)(pattern, flags, errfunc, pglob);
	pglob->gl_opendir = glob_opendir;
	pglob->gl_readdir = glob_readdir64;
	pglob->gl_closedir = glob_closedir;
	pglob->gl_lstat = glob_lstat64;
	pglob->gl_stat = glob_stat64;
	return REAL(glob64)(pattern, flags | GLOB_ALTDIRFUNC, errfunc, pglob);
}

/* ---- fts ------------------------------------------------------------------- */

/* glibc's fts opens, stats and fchdirs with internal calls throughout
 * fts_read; it is not redone here (coreutils and findutils carry gnulib's
 * fts, built on openat and fstatat, which the shim wraps). A DAFS root
 * fails at fts_open, before anything is read locally. */
static int fts_any_dafs(char *const *argv)
{
	char dp[SHIM_PATH_MAX];

	for (; argv && *argv; argv++)
		if (shim_route(AT_FDCWD, *argv, dp) != 0)
			return 1;
	return 0;
}

FTS *fts_open(char *const *argv, int options,
	      int (*compar)(const FTSENT **, const FTSENT **))
{
	if (!fts_any_dafs(argv))
		return REAL(fts_open)(argv, options, compar);
	shim_unsupported("fts_open", -1, EOPNOTSUPP);
	return NULL;
}

FTS64 *fts64_open(char *const *argv, int options,
		  int (*compar)(const FTSENT64 **, const FTSENT64 **))
{
	if (!fts_any_dafs(argv))
		return REAL(fts64_open)(argv, options, compar);
	shim_unsupported("fts64_open", -1, EOPNOTSUPP);
	return NULL;
}

/* ---- small calls on a DAFS path or descriptor ------------------------------ */

/* glibc's ftok, on the shim's stat. */
key_t ftok(const char *path, int id)
{
	char dp[SHIM_PATH_MAX];
	struct stat st;

	if (shim_route(AT_FDCWD, path, dp) == 0)
		return REAL(ftok)(path, id);
	if (stat(path, &st) < 0)
		return -1;
	return (key_t)(((unsigned)id & 0xff) << 24 | (st.st_dev & 0xff) << 16 |
		       (st.st_ino & 0xffff));
}

/* glibc's lchmod is fchmodat(AT_SYMLINK_NOFOLLOW), which changes a file
 * that is not a symbolic link and refuses one (EOPNOTSUPP). */
int lchmod(const char *path, mode_t mode)
{
	char dp[SHIM_PATH_MAX];
	struct stat st;

	if (shim_route(AT_FDCWD, path, dp) == 0)
		return REAL(lchmod)(path, mode);
	if (lstat(path, &st) < 0)
		return -1;
	if (S_ISLNK(st.st_mode)) {
		errno = EOPNOTSUPP;
		return -1;
	}
	return chmod(path, mode);
}

/* syncfs of a DAFS file: every write this session made reaches the server
 * (the session sync), and this file reaches the server's disk (its fsync).
 * Other files are on the server but not forced to its disk: the protocol
 * has no "sync the export" operation. */
int syncfs(int fd)
{
	struct dafs_session *s;
	struct dafs_file *f;
	struct dfile *d;
	int rc;

	if (!shim_fd_maybe(fd) || !(d = shim_fd_get(fd)))
		return REAL(syncfs)(fd);
	rc = shim_dfile_handle(d, &f);
	if (rc == 0 && (s = shim_session(&rc)))
		rc = shim_core.dafs_session_sync(s);
	if (rc == 0)
		rc = shim_core.dafs_fsync(f, 0);
	shim_dfile_put(d);
	return rc < 0 ? shim_err(rc) : 0;
}

/* dprintf writes with glibc's internal write, into the placeholder: format
 * here, write with the shim's. */
static int dafs_vdprintf(int fd, const char *fmt, va_list ap)
{
	char *text;
	int n = vasprintf(&text, fmt, ap), done = 0;

	if (n < 0)
		return -1;
	while (done < n) {
		ssize_t w = write(fd, text + done, (size_t)(n - done));

		if (w < 0) {
			if (errno == EINTR)
				continue;
			free(text);
			return -1;
		}
		done += (int)w;
	}
	free(text);
	return n;
}

int vdprintf(int fd, const char *fmt, va_list ap)
{
	if (!shim_fd_maybe(fd))
		return REAL(vdprintf)(fd, fmt, ap);
	return dafs_vdprintf(fd, fmt, ap);
}

int __vdprintf_chk(int fd, int flag, const char *fmt, va_list ap)
{
	if (!shim_fd_maybe(fd))
		return REAL(__vdprintf_chk)(fd, flag, fmt, ap);
	return dafs_vdprintf(fd, fmt, ap);
}

int dprintf(int fd, const char *fmt, ...)
{
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = shim_fd_maybe(fd) ? dafs_vdprintf(fd, fmt, ap) : REAL(vdprintf)(fd, fmt, ap);
	va_end(ap);
	return n;
}

int __dprintf_chk(int fd, int flag, const char *fmt, ...)
{
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = shim_fd_maybe(fd) ? dafs_vdprintf(fd, fmt, ap) :
				REAL(__vdprintf_chk)(fd, flag, fmt, ap);
	va_end(ap);
	return n;
}

/* glibc's setmntent: its internal fopen with "ce" added, unlocked. */
FILE *setmntent(const char *path, const char *mode)
{
	char dp[SHIM_PATH_MAX], m[16];
	FILE *f;

	if (shim_route(AT_FDCWD, path, dp) == 0)
		return REAL(setmntent)(path, mode);
	if (snprintf(m, sizeof(m), "%sce", mode) >= (int)sizeof(m)) {
		errno = EINVAL;
		return NULL;
	}
	if ((f = fopen(path, m)))
		__fsetlocking(f, FSETLOCKING_BYCALLER);
	return f;
}

/* ---- realpath, walked with the shim's calls ------------------------------- */

/* realpath(3) as glibc's, but each component looked at with the shim's
 * lstat and readlink, so that links are followed wherever they lead: from a
 * local path into the prefix ("/home/u/data" -> "/dafs/data", which glibc's
 * internal lstat cannot see), within DAFS, and out of it ("/dafs/venv/bin/
 * python" -> "/usr/bin/python3", a link the server will not follow out of
 * its export: the client resolves it, as an NFS client does). */
char *shim_realpath_walk(const char *path, char *resolved)
{
	char done[PATH_MAX], todo[PATH_MAX], link[PATH_MAX], joined[SHIM_PATH_MAX];
	int links = 0;

	if (!path) {
		errno = EINVAL;
		return NULL;
	}
	if (!*path) {
		errno = ENOENT;
		return NULL;
	}
	if (path[0] == '/')
		snprintf(done, sizeof(done), "/");
	else if (!getcwd(done, sizeof(done)))
		return NULL;
	if (snprintf(todo, sizeof(todo), "%s", path) >= (int)sizeof(todo))
		goto too_long;
	for (;;) {
		char *p = todo, *name;
		struct stat st;
		ssize_t n;

		while (*p == '/')
			p++;
		if (!*p)
			break;
		name = p;
		while (*p && *p != '/')
			p++;
		if (*p)
			*p++ = '\0';
		if (strlen(done) + 1 + strlen(name) >= sizeof(done))
			goto too_long;
		if (!strcmp(name, "..")) {
			char *slash = strrchr(done, '/');

			slash[slash == done] = '\0';
		} else if (strcmp(name, ".")) {
			if (strcmp(done, "/"))
				strcat(done, "/");
			strcat(done, name);
		}
		memmove(todo, p, strlen(p) + 1);   /* todo is now the rest */
		if (!strcmp(done, "/"))
			continue;
		if (lstat(done, &st) < 0)
			return NULL;
		if (!S_ISLNK(st.st_mode)) {
			if (*todo && !S_ISDIR(st.st_mode)) {
				errno = ENOTDIR;
				return NULL;
			}
			continue;
		}
		if (++links > 40) {
			errno = ELOOP;
			return NULL;
		}
		if ((n = readlink(done, link, sizeof(link) - 1)) < 0)
			return NULL;
		link[n] = '\0';
		if (snprintf(joined, sizeof(joined), "%s/%s", link, todo) >= (int)sizeof(todo))
			goto too_long;
		memcpy(todo, joined, strlen(joined) + 1);
		if (link[0] == '/')
			snprintf(done, sizeof(done), "/");
		else
			*(strrchr(done, '/') + (strrchr(done, '/') == done)) = '\0';
	}
	if (resolved) {
		memcpy(resolved, done, strlen(done) + 1);
		return resolved;
	}
	return strdup(done);
too_long:
	errno = ENAMETOOLONG;
	return NULL;
}
