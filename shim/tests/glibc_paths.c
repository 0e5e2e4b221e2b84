/* glibc_paths.c — glibc's functions that reach paths through its own
 * internal calls, run on a directory and printing what they saw, so that a
 * run on a local directory and one on DAFS under the shim can be compared
 * line by line.
 *
 *   glibc_paths DIR local|dafs
 *   glibc_paths realpath PATH...   (prints libc's realpath of each)
 *
 * Covers the mkstemp family, mkdtemp, mktemp, tempnam, realpath,
 * __realpath_chk, canonicalize_file_name, get_current_dir_name, getwd,
 * statvfs64, pathconf, fpathconf, nftw (FTW_PHYS, FTW_DEPTH, FTW_CHDIR,
 * FTW_ACTIONRETVAL, a dangling link), ftw, glob (absolute, relative,
 * GLOB_MARK, GLOB_ONLYDIR, no match), ftok, lchmod, lockf between two
 * processes, getdirentries, dprintf, syncfs and setmntent; with "dafs", the
 * calls the shim refuses there (fts_open, chroot, inotify_add_watch,
 * name_to_handle_at) fail with their errno. DIR must hold sub/deeper/empty,
 * lines.txt and sub/fruit.txt; the program works in DIR/gp. The output
 * names no temporary name and no directory order. Exit 0 when all is well.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <fts.h>
#include <ftw.h>
#include <glob.h>
#include <limits.h>
#include <mntent.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/inotify.h>
#include <sys/ipc.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <sys/wait.h>
#include <unistd.h>

#include "demo_check.h"

char *__realpath_chk(const char *path, char *resolved, size_t rl);

/* "what: result errno-text", the call made before errno is read. */
#define SHOW_INT(what, call)                                              \
	do {                                                              \
		long v_;                                                  \
		errno = 0;                                                \
		v_ = (long)(call);                                        \
		printf("%s: %ld %s\n", what, v_, strerror(errno));       \
	} while (0)
#define SHOW_PTR(what, call)                                              \
	do {                                                              \
		const void *v_;                                           \
		errno = 0;                                                \
		v_ = (call);                                              \
		printf("%s: %s %s\n", what, v_ ? "made" : "NULL", strerror(errno)); \
	} while (0)

static char dir[PATH_MAX];
static size_t dirlen;

/* path relative to DIR, for printing */
static const char *rel(const char *p)
{
	return strncmp(p, dir, dirlen) == 0 ? p + dirlen : p;
}

/* Six template characters replaced by letters or digits? */
static int replaced(const char *name, size_t at)
{
	for (size_t i = at; i < at + 6; i++)
		if (!name[i] || !strchr("abcdefghijklmnopqrstuvwxyz"
					"ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789", name[i]))
			return 0;
	/* Six X's can come out of the draw, but hardly ever. */
	return memcmp(name + at, "XXXXXX", 6) != 0;
}

static void temp_files(void)
{
	char t[PATH_MAX], u[PATH_MAX];
	struct stat st;
	int fd;

	snprintf(t, sizeof(t), "%s/gp/tXXXXXX", dir);
	fd = mkstemp(t);
	CHECK(fd >= 0, "mkstemp: %s", strerror(errno));
	CHECK(replaced(t, strlen(t) - 6), "mkstemp name %s", t);
	CHECK(write(fd, "abc", 3) == 3, "write");
	CHECK(fstat(fd, &st) == 0 && S_ISREG(st.st_mode), "fstat");
	printf("mkstemp mode %o size %ld\n", st.st_mode & 07777, (long)st.st_size);
	close(fd);
	CHECK(stat(t, &st) == 0 && st.st_size == 3, "stat of the mkstemp name");
	CHECK(unlink(t) == 0, "unlink %s", t);

	snprintf(t, sizeof(t), "%s/gp/oXXXXXX", dir);
	fd = mkostemp64(t, O_CLOEXEC | O_APPEND);
	CHECK(fd >= 0, "mkostemp64: %s", strerror(errno));
	printf("mkostemp64 cloexec %d append %d rdwr %d\n", !!(fcntl(fd, F_GETFD) & FD_CLOEXEC),
	       !!(fcntl(fd, F_GETFL) & O_APPEND), (fcntl(fd, F_GETFL) & O_ACCMODE) == O_RDWR);
	close(fd);

	snprintf(t, sizeof(t), "%s/gp/sXXXXXX.suf", dir);
	fd = mkstemps(t, 4);
	CHECK(fd >= 0 && strcmp(t + strlen(t) - 4, ".suf") == 0 && replaced(t, strlen(t) - 10),
	      "mkstemps %s", t);
	close(fd);
	snprintf(t, sizeof(t), "%s/gp/pXXXXXX.c", dir);
	fd = mkostemps64(t, 2, O_CLOEXEC);
	CHECK(fd >= 0 && strcmp(t + strlen(t) - 2, ".c") == 0, "mkostemps64 %s", t);
	close(fd);

	/* The errors glibc gives. */
	snprintf(t, sizeof(t), "%s/gp/bad", dir);
	SHOW_INT("mkstemp short template", mkstemp(t));
	snprintf(t, sizeof(t), "%s/gp/sXXXXXX.suf", dir);
	SHOW_INT("mkstemps wrong suffix", mkstemps(t, 3));
	snprintf(t, sizeof(t), "%s/gp/none/tXXXXXX", dir);
	SHOW_INT("mkstemp missing dir", mkstemp(t));

	/* Relative to the working directory. */
	CHECK(chdir(dir) == 0, "chdir %s", dir);
	snprintf(t, sizeof(t), "gp/rXXXXXX");
	fd = mkstemp64(t);
	CHECK(fd >= 0, "relative mkstemp64: %s", strerror(errno));
	snprintf(u, sizeof(u), "%s/%s", dir, t);
	CHECK(stat(u, &st) == 0, "relative mkstemp made %s", u);
	close(fd);

	snprintf(t, sizeof(t), "%s/gp/dXXXXXX", dir);
	CHECK(mkdtemp(t) == t, "mkdtemp: %s", strerror(errno));
	CHECK(stat(t, &st) == 0 && S_ISDIR(st.st_mode), "mkdtemp made %s", t);
	printf("mkdtemp mode %o\n", st.st_mode & 07777);
	snprintf(t, sizeof(t), "%s/gp/dXXXX", dir);
	SHOW_PTR("mkdtemp short template", mkdtemp(t));

	snprintf(t, sizeof(t), "%s/gp/mXXXXXX", dir);
	CHECK(mktemp(t) == t && replaced(t, strlen(t) - 6), "mktemp %s", t);
	CHECK(lstat(t, &st) < 0 && errno == ENOENT, "mktemp's name exists: %s", t);

	snprintf(u, sizeof(u), "%s/gp", dir);
	unsetenv("TMPDIR");
	char *n = tempnam(u, "pre");
	CHECK(n && strncmp(n, u, strlen(u)) == 0 && strncmp(n + strlen(u), "/preXXXXXX", 4) == 0 &&
	      strlen(n) == strlen(u) + 10, "tempnam %s", n ? n : "NULL");
	CHECK(n && lstat(n, &st) < 0 && errno == ENOENT, "tempnam's name exists");
	free(n);
	printf("temporary files ok\n");
}

static void names(void)
{
	char p[PATH_MAX], buf[PATH_MAX], *r;

	snprintf(p, sizeof(p), "%s/sub/../sub/./fruit.txt", dir);
	r = realpath(p, buf);
	printf("realpath: %s\n", r ? rel(r) : strerror(errno));
	r = __realpath_chk(p, buf, sizeof(buf));
	printf("__realpath_chk: %s\n", r ? rel(r) : strerror(errno));
	r = canonicalize_file_name(p);
	printf("canonicalize_file_name: %s\n", r ? rel(r) : strerror(errno));
	free(r);
	snprintf(p, sizeof(p), "%s/sub/nothing", dir);
	SHOW_PTR("realpath missing", realpath(p, buf));
	CHECK(chdir(dir) == 0 && chdir("sub") == 0, "chdir sub");
	r = realpath("fruit.txt", buf);
	printf("realpath relative: %s\n", r ? rel(r) : strerror(errno));
	r = get_current_dir_name();
	printf("get_current_dir_name: %s\n", r ? rel(r) : strerror(errno));
	free(r);
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wdeprecated-declarations"
	r = getwd(buf);
#pragma GCC diagnostic pop
	printf("getwd: %s\n", r ? rel(r) : buf);
	CHECK(chdir(dir) == 0, "chdir back");
}

static void limits(const char *mode)
{
	static const struct { int name; const char *label; } pcs[] = {
		{ _PC_LINK_MAX, "LINK_MAX" }, { _PC_NAME_MAX, "NAME_MAX" },
		{ _PC_PATH_MAX, "PATH_MAX" }, { _PC_PIPE_BUF, "PIPE_BUF" },
		{ _PC_FILESIZEBITS, "FILESIZEBITS" }, { _PC_2_SYMLINKS, "2_SYMLINKS" },
		{ _PC_CHOWN_RESTRICTED, "CHOWN_RESTRICTED" }, { _PC_NO_TRUNC, "NO_TRUNC" },
		{ _PC_ASYNC_IO, "ASYNC_IO" }, { _PC_REC_XFER_ALIGN, "REC_XFER_ALIGN" },
		{ _PC_SYMLINK_MAX, "SYMLINK_MAX" },
	};
	char p[PATH_MAX];
	struct statvfs64 sv, fsv;
	int fd;

	snprintf(p, sizeof(p), "%s/lines.txt", dir);
	fd = open(p, O_RDONLY);
	CHECK(fd >= 0, "open %s", p);
	CHECK(statvfs64(p, &sv) == 0 && fstatvfs64(fd, &fsv) == 0, "statvfs64: %s", strerror(errno));
	printf("statvfs64 namemax %lu bsize %lu, fstatvfs64 namemax %lu\n", sv.f_namemax,
	       sv.f_bsize, fsv.f_namemax);
	for (size_t i = 0; i < sizeof(pcs) / sizeof(pcs[0]); i++) {
		long a, b;

		errno = 0;
		a = pathconf(p, pcs[i].name);
		b = fpathconf(fd, pcs[i].name);
		/* glibc derives these two from the statfs magic number; DAFS
		 * has none and answers as glibc does for an unknown file
		 * system, but with its 64-bit offsets (README). */
		if (pcs[i].name == _PC_LINK_MAX || pcs[i].name == _PC_FILESIZEBITS) {
			if (strcmp(mode, "dafs") == 0)
				CHECK(a == b && a == (pcs[i].name == _PC_LINK_MAX ? 127 : 64),
				      "pathconf %s on DAFS: %ld %ld", pcs[i].label, a, b);
			else
				CHECK(a == b && a > 0, "pathconf %s: %ld %ld", pcs[i].label, a, b);
			continue;
		}
		printf("pathconf %s %ld fpathconf %ld errno %d\n", pcs[i].label, a, b, errno);
	}
	close(fd);
	snprintf(p, sizeof(p), "%s/sub/nothing", dir);
	SHOW_INT("pathconf missing NAME_MAX", pathconf(p, _PC_NAME_MAX));
	SHOW_INT("pathconf missing LINK_MAX", pathconf(p, _PC_LINK_MAX));
	SHOW_INT("pathconf missing PATH_MAX", pathconf(p, _PC_PATH_MAX));
	SHOW_INT("statvfs missing", statvfs64(p, &sv));
}

/* nftw's visits, collected and sorted (readdir order is the file system's). */
static char visits[64][PATH_MAX + 64];
static int nvisits, skip_sub, chdir_ok;

static int visit(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	if (nvisits < 64)
		snprintf(visits[nvisits++], sizeof(visits[0]), "%s flag %d level %d base %s", rel(path),
			 flag, ftw->level, path + ftw->base);
	if (chdir_ok >= 0) {
		struct stat here;
		/* FTW_CHDIR: the working directory is the object's parent. */
		if (lstat(path + ftw->base, &here) != 0 || here.st_ino != st->st_ino)
			chdir_ok = 0;
	}
	if (skip_sub && flag == FTW_D && strcmp(path + ftw->base, "sub") == 0)
		return FTW_SKIP_SUBTREE;
	return FTW_CONTINUE;
}

static int old_visit(const char *path, const struct stat *st, int flag)
{
	if (nvisits < 64)
		snprintf(visits[nvisits++], sizeof(visits[0]), "%s flag %d", rel(path), flag);
	return 0;
}

static int by_name(const void *a, const void *b)
{
	return strcmp(a, b);
}

static void show_visits(const char *what, int rc)
{
	qsort(visits, (size_t)nvisits, sizeof(visits[0]), by_name);
	printf("%s: rc %d, %d visits\n", what, rc, nvisits);
	for (int i = 0; i < nvisits; i++)
		printf("  %s\n", visits[i]);
	nvisits = 0;
}

static void walks(void)
{
	char p[PATH_MAX], q[PATH_MAX];
	int rc;

	snprintf(p, sizeof(p), "%s/gp/tree", dir);
	CHECK(mkdir(p, 0755) == 0, "mkdir tree");
	snprintf(q, sizeof(q), "%s/gp/tree/sub", dir);
	CHECK(mkdir(q, 0755) == 0, "mkdir tree/sub");
	snprintf(q, sizeof(q), "%s/gp/tree/sub/f", dir);
	CHECK(close(open(q, O_CREAT | O_WRONLY, 0644)) == 0, "create f");
	snprintf(q, sizeof(q), "%s/gp/tree/dangling", dir);
	CHECK(symlink("nowhere", q) == 0, "symlink dangling");
	snprintf(q, sizeof(q), "%s/gp/tree/tosub", dir);
	CHECK(symlink("sub", q) == 0, "symlink tosub");

	chdir_ok = -1;
	rc = nftw(p, visit, 8, FTW_PHYS);
	show_visits("nftw FTW_PHYS", rc);
	rc = nftw(p, visit, 8, 0);
	show_visits("nftw follow", rc);
	rc = nftw64(p, (__nftw64_func_t)(void (*)(void))visit, 8, FTW_PHYS | FTW_DEPTH);
	/* Post-order: the start comes last. */
	CHECK(nvisits > 0 && strstr(visits[nvisits - 1], "flag 5 level 0"), "FTW_DEPTH order: %s",
	      nvisits ? visits[nvisits - 1] : "none");
	show_visits("nftw64 FTW_DEPTH", rc);
	chdir_ok = 1;
	CHECK(chdir(dir) == 0, "chdir");
	rc = nftw("gp/tree", visit, 8, FTW_PHYS | FTW_CHDIR);
	printf("FTW_CHDIR: cwd was each object's parent: %d\n", chdir_ok);
	getcwd(q, sizeof(q));
	printf("FTW_CHDIR: cwd restored: %s\n", rel(q));
	chdir_ok = -1;
	show_visits("nftw relative FTW_CHDIR", rc);
	skip_sub = 1;
	rc = nftw(p, visit, 8, FTW_PHYS | FTW_ACTIONRETVAL);
	skip_sub = 0;
	show_visits("nftw FTW_SKIP_SUBTREE", rc);
	rc = ftw(p, old_visit, 8);
	show_visits("ftw", rc);
	snprintf(q, sizeof(q), "%s/gp/tree/nothing", dir);
	SHOW_INT("nftw missing", nftw(q, visit, 8, 0));
}

static void globs(void)
{
	char p[PATH_MAX];
	glob_t g;
	int rc;

	snprintf(p, sizeof(p), "%s/*.txt", dir);
	rc = glob(p, 0, NULL, &g);
	printf("glob *.txt: %d", rc);
	for (size_t i = 0; rc == 0 && i < g.gl_pathc; i++)
		printf(" %s", rel(g.gl_pathv[i]));
	printf("\n");
	globfree(&g);
	snprintf(p, sizeof(p), "%s/s*", dir);
	rc = glob(p, GLOB_MARK, NULL, &g);
	printf("glob s* GLOB_MARK: %d", rc);
	for (size_t i = 0; rc == 0 && i < g.gl_pathc; i++)
		printf(" %s", rel(g.gl_pathv[i]));
	printf("\n");
	globfree(&g);
	CHECK(chdir(dir) == 0, "chdir");
	rc = glob("[gs]*/[!d]*", GLOB_ONLYDIR, NULL, &g);
	printf("glob relative [gs]*/[!d]* GLOB_ONLYDIR: %d", rc);
	for (size_t i = 0; rc == 0 && i < g.gl_pathc; i++)
		printf(" %s", g.gl_pathv[i]);
	printf("\n");
	globfree(&g);
	rc = glob("nothing*", 0, NULL, &g);
	printf("glob no match: %d\n", rc == GLOB_NOMATCH);
	rc = glob("nothing*", GLOB_NOCHECK, NULL, &g);
	printf("glob GLOB_NOCHECK: %d %s\n", rc, rc == 0 ? g.gl_pathv[0] : "");
	globfree(&g);
}

static void small_calls(const char *mode)
{
	char p[PATH_MAX], buf[64];
	struct stat st;
	int fd;

	snprintf(p, sizeof(p), "%s/lines.txt", dir);
	printf("ftok: %s\n", ftok(p, 7) == (key_t)-1 ? strerror(errno) : "a key");
	snprintf(p, sizeof(p), "%s/nothing", dir);
	SHOW_INT("ftok missing", ftok(p, 7));

	/* The effective-id access checks (glibc's euidaccess is its own
	 * internal stat when the ids are equal). */
	snprintf(p, sizeof(p), "%s/lines.txt", dir);
	SHOW_INT("euidaccess R_OK|W_OK", euidaccess(p, R_OK | W_OK));
	SHOW_INT("eaccess X_OK of a 0644 file", eaccess(p, X_OK));
	SHOW_INT("faccessat AT_EACCESS X_OK of sub", faccessat(AT_FDCWD, "sub", X_OK, AT_EACCESS));
	snprintf(p, sizeof(p), "%s/nothing", dir);
	SHOW_INT("euidaccess missing", euidaccess(p, F_OK));

	snprintf(p, sizeof(p), "%s/gp/lch", dir);
	CHECK(close(open(p, O_CREAT | O_WRONLY, 0644)) == 0, "create lch");
	printf("lchmod file: %d", lchmod(p, 0600));
	CHECK(stat(p, &st) == 0, "stat lch");
	printf(" mode %o\n", st.st_mode & 07777);
	snprintf(p, sizeof(p), "%s/gp/tree/dangling", dir);
	SHOW_INT("lchmod symlink", lchmod(p, 0600));

	/* dprintf, syncfs, lockf on one file. */
	snprintf(p, sizeof(p), "%s/gp/dp", dir);
	fd = open(p, O_CREAT | O_RDWR | O_TRUNC, 0644);
	CHECK(fd >= 0, "open dp");
	printf("dprintf: %d\n", dprintf(fd, "x=%d %s\n", 42, "dafs"));
	printf("syncfs: %d\n", syncfs(fd));
	memset(buf, 0, sizeof(buf));
	CHECK(pread(fd, buf, sizeof(buf) - 1, 0) == 10, "pread dp");
	printf("dp holds: %s", buf);
	printf("lockf F_TLOCK: %d\n", lockf(fd, F_TLOCK, 0));
	pid_t pid = fork();
	if (pid == 0) {
		int cfd = open(p, O_RDWR);
		int t = lockf(cfd, F_TEST, 0), e = errno;
		int l = lockf(cfd, F_TLOCK, 0), e2 = errno;
		_exit(t == -1 && e == EACCES && l == -1 && (e2 == EACCES || e2 == EAGAIN) ? 0 : 1);
	}
	int status;
	CHECK(waitpid(pid, &status, 0) == pid, "waitpid");
	printf("lockf held against another process: %d\n", WIFEXITED(status) && !WEXITSTATUS(status));
	printf("lockf F_ULOCK: %d, F_TEST: %d\n", lockf(fd, F_ULOCK, 0), lockf(fd, F_TEST, 0));
	close(fd);

	snprintf(p, sizeof(p), "%s/sub", dir);
	fd = open(p, O_RDONLY | O_DIRECTORY);
	CHECK(fd >= 0, "open sub");
	{
		char dbuf[4096];
		off_t base = -1;
		ssize_t n = getdirentries(fd, dbuf, sizeof(dbuf), &base);
		int count = 0;

		for (ssize_t off = 0; off < n;) {
			struct dirent *e = (struct dirent *)(dbuf + off);
			count += strcmp(e->d_name, ".") && strcmp(e->d_name, "..");
			off += e->d_reclen;
		}
		printf("getdirentries: %d names, base %ld\n", count, (long)base);
	}
	close(fd);

	snprintf(p, sizeof(p), "%s/gp/fstab", dir);
	fd = open(p, O_CREAT | O_WRONLY | O_TRUNC, 0644);
	dprintf(fd, "/dev/x /mnt ext4 rw 0 2\n");
	close(fd);
	FILE *m = setmntent(p, "r");
	struct mntent *e = m ? getmntent(m) : NULL;
	printf("setmntent: %s %s %s %d\n", e ? e->mnt_fsname : "-", e ? e->mnt_dir : "-",
	       e ? e->mnt_type : strerror(errno), e ? e->mnt_passno : -1);
	if (m)
		endmntent(m);

	/* What DAFS refuses, with the errno the shim documents. */
	if (strcmp(mode, "dafs") == 0) {
		char *argv[] = { dir, NULL };
		struct file_handle *h = calloc(1, sizeof(*h) + 128);
		int mnt, ifd = inotify_init1(IN_CLOEXEC);

		errno = 0;
		CHECK(fts_open(argv, FTS_PHYSICAL, NULL) == NULL && errno == EOPNOTSUPP,
		      "fts_open on DAFS: %s", strerror(errno));
		snprintf(p, sizeof(p), "%s/sub", dir);
		errno = 0;
		CHECK(chroot(p) == -1 && errno == EPERM, "chroot on DAFS: %s", strerror(errno));
		errno = 0;
		CHECK(inotify_add_watch(ifd, p, IN_ALL_EVENTS) == -1 && errno == EOPNOTSUPP,
		      "inotify_add_watch on DAFS: %s", strerror(errno));
		h->handle_bytes = 128;
		errno = 0;
		CHECK(name_to_handle_at(AT_FDCWD, p, h, &mnt, 0) == -1 && errno == EOPNOTSUPP,
		      "name_to_handle_at on DAFS: %s", strerror(errno));
		close(ifd);
		free(h);
	} else {
		char *argv[] = { dir, NULL };
		FTS *f = fts_open(argv, FTS_PHYSICAL, NULL);

		CHECK(f != NULL, "fts_open locally");
		if (f)
			fts_close(f);
	}
	printf("refusals ok\n");
}

int main(int argc, char **argv)
{
	char gp[PATH_MAX];

	if (argc > 1 && strcmp(argv[1], "realpath") == 0) {
		for (int i = 2; i < argc; i++) {
			char *r = realpath(argv[i], NULL);

			printf("%s\n", r ? r : strerror(errno));
			free(r);
		}
		return 0;
	}
	if (argc != 3) {
		fprintf(stderr, "usage: glibc_paths DIR local|dafs\n");
		return 2;
	}
	snprintf(dir, sizeof(dir), "%s", argv[1]);
	dirlen = strlen(dir);
	umask(022);
	snprintf(gp, sizeof(gp), "%s/gp", dir);
	CHECK(mkdir(gp, 0755) == 0, "mkdir %s: %s", gp, strerror(errno));
	temp_files();
	names();
	limits(argv[2]);
	walks();
	globs();
	small_calls(argv[2]);
	/* Things inside DIR/gp made by the calls above, and nothing more. */
	printf("failures %d\n", failures);
	return failures != 0;
}
