/* test_export.c — export.c's confinement: builds a temporary tree with an
 * export directory and files, directories and symlinks outside it, then checks
 * that ordinary paths open and every way out (.., absolute paths and symlinks,
 * climbing symlinks, symlinks to outside directories, magic links, renames
 * racing the walk) is refused without ever opening the outside file. */
#include "check.h"
#include "export.h"
#include "proto.h"

#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

static char top[512];
static char longp_static[PATH_MAX];

static void path_of(char *out, const char *rel)
{
	int n = snprintf(out, PATH_MAX, "%s/%s", top, rel);
	if (n < 0 || n >= PATH_MAX)
		exit(2);
}

static void put_file(const char *rel, const char *content)
{
	char p[PATH_MAX];
	path_of(p, rel);
	int fd = open(p, O_WRONLY | O_CREAT | O_TRUNC, 0644);
	if (fd < 0 || write(fd, content, strlen(content)) != (ssize_t)strlen(content)) {
		perror(p);
		exit(2);
	}
	close(fd);
}

static void put_dir(const char *rel)
{
	char p[PATH_MAX];
	path_of(p, rel);
	if (mkdir(p, 0755) < 0) {
		perror(p);
		exit(2);
	}
}

static void put_link(const char *target, const char *rel)
{
	char p[PATH_MAX];
	path_of(p, rel);
	if (symlink(target, p) < 0) {
		perror(p);
		exit(2);
	}
}

/* Reads what fd holds (small files only) into buf; "" on failure. */
static const char *content_of(int fd, char *buf, size_t size)
{
	ssize_t n = pread(fd, buf, size - 1, 0);
	buf[n > 0 ? n : 0] = '\0';
	return buf;
}

static int same_file(int a, int b)
{
	struct stat sa, sb;
	if (fstat(a, &sa) < 0 || fstat(b, &sb) < 0)
		return 0;
	return sa.st_dev == sb.st_dev && sa.st_ino == sb.st_ino;
}

static int rm_one(const char *p, const struct stat *st, int type, struct FTW *ftw)
{
	return remove(p);
}

static void test_opens(const struct dafs_export *ex)
{
	static const struct { const char *path, *want; } good[] = {
		{ "file.txt", "hello" },
		{ "/file.txt", "hello" },
		{ "//file.txt", "hello" },
		{ "dir/inner.txt", "inner" },
		{ "dir/../file.txt", "hello" },
		{ "dir/./sub2/../inner.txt", "inner" },
		{ "good_link", "inner" },
		{ "dir/up_link", "hello" },
		{ "dirlink/inner.txt", "inner" },
	};
	char buf[64];
	for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
		int fd = export_openat(ex, ex->root_fd, good[i].path, O_RDONLY, 0);
		CHECK(fd >= 0, "open %s", good[i].path);
		if (fd >= 0) {
			CHECK(strcmp(content_of(fd, buf, sizeof(buf)), good[i].want) == 0,
			      "%s reads %s", good[i].path, good[i].want);
			close(fd);
		}
	}

	/* "" and "/" reopen the directory itself. */
	const char *selves[] = { "", "/", "///", "." };
	for (size_t i = 0; i < 4; i++) {
		int fd = export_openat(ex, ex->root_fd, selves[i], O_RDONLY | O_DIRECTORY, 0);
		CHECK(fd >= 0 && same_file(fd, ex->root_fd), "\"%s\" reopens the root", selves[i]);
		if (fd >= 0)
			close(fd);
	}
}

static void test_escapes(const struct dafs_export *ex)
{
	static const char *bad[] = {
		"..", "/..", "../outside.txt", "dir/../../outside.txt", "/../outside.txt",
		"dir/sub2/../../../outside.txt", "abs_link", "climb", "outdir_link/x.txt",
		"abs_dir_link/x.txt", "outdir_link", "dir/climb2", "../export/file.txt",
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		int fd = export_openat(ex, ex->root_fd, bad[i], O_RDONLY, 0);
		CHECK_EQ(fd, -EACCES, "escape %s refused with EACCES", bad[i]);
		if (fd >= 0)
			close(fd);
		fd = export_openat(ex, ex->root_fd, bad[i], O_PATH, 0);
		CHECK_EQ(fd, -EACCES, "escape %s refused with O_PATH too", bad[i]);
		if (fd >= 0)
			close(fd);
	}
	/* Creating through an escaping name must not create outside either. */
	int fd = export_openat(ex, ex->root_fd, "../created.txt", O_WRONLY | O_CREAT, 0644);
	CHECK_EQ(fd, -EACCES, "O_CREAT ../created.txt refused");
	char p[PATH_MAX];
	path_of(p, "created.txt");
	CHECK(access(p, F_OK) < 0, "nothing created outside");
	fd = export_openat(ex, ex->root_fd, "abs_link", O_WRONLY | O_TRUNC, 0);
	CHECK_EQ(fd, -EACCES, "O_TRUNC through an absolute symlink refused");

	/* Magic links: /proc/self/root resolved beneath a /proc dirfd. */
	int proc = open("/proc", O_PATH | O_DIRECTORY);
	if (proc >= 0) {
		fd = export_openat(ex, proc, "self/root", O_PATH, 0);
		CHECK_EQ(fd, -ELOOP, "magic link refused with ELOOP");
		if (fd >= 0)
			close(fd);
		close(proc);
	}
}

static void test_flags(const struct dafs_export *ex)
{
	int fd = export_openat(ex, ex->root_fd, "good_link", O_RDONLY | O_NOFOLLOW, 0);
	CHECK_EQ(fd, -ELOOP, "O_NOFOLLOW on a symlink gives ELOOP");
	fd = export_openat(ex, ex->root_fd, "abs_link", O_RDONLY | O_NOFOLLOW, 0);
	CHECK_EQ(fd, -ELOOP, "O_NOFOLLOW on an absolute symlink gives ELOOP");
	fd = export_openat(ex, ex->root_fd, "good_link", O_PATH | O_NOFOLLOW, 0);
	CHECK(fd >= 0, "O_PATH|O_NOFOLLOW opens the link itself");
	if (fd >= 0) {
		struct stat st;
		CHECK(fstatat(fd, "", &st, AT_EMPTY_PATH) == 0 && S_ISLNK(st.st_mode),
		      "and it is a symlink");
		char target[64];
		ssize_t n = readlinkat(fd, "", target, sizeof(target) - 1);
		CHECK(n == 13 && memcmp(target, "dir/inner.txt", 13) == 0, "readlink through it");
		close(fd);
	}

	fd = export_openat(ex, ex->root_fd, "file.txt", O_WRONLY | O_CREAT | O_EXCL, 0644);
	CHECK_EQ(fd, -EEXIST, "O_CREAT|O_EXCL on an existing file gives EEXIST");
	fd = export_openat(ex, ex->root_fd, "/dir/new.txt", O_RDWR | O_CREAT | O_EXCL,
			   S_IFREG | 0600);
	CHECK(fd >= 0, "O_CREAT|O_EXCL creates a new file");
	if (fd >= 0) {
		struct stat st;
		CHECK(fstat(fd, &st) == 0 && (st.st_mode & 0777) == (0600 & ~0022 & 0777),
		      "with the mode asked for");
		close(fd);
	}
	fd = export_openat(ex, ex->root_fd, "missing/x", O_RDONLY, 0);
	CHECK_EQ(fd, -ENOENT, "missing directory gives ENOENT");
	fd = export_openat(ex, ex->root_fd, "file.txt", O_RDONLY | O_DIRECTORY, 0);
	CHECK_EQ(fd, -ENOTDIR, "O_DIRECTORY on a file gives ENOTDIR");

	static char longp[DAFS_PATH_MAX + 8];
	memset(longp, 'a', sizeof(longp));
	for (size_t i = 100; i < sizeof(longp); i += 100)
		longp[i] = '/';
	longp[DAFS_PATH_MAX] = '\0';
	CHECK_EQ(export_openat(ex, ex->root_fd, longp, O_RDONLY, 0), -ENAMETOOLONG,
		 "DAFS_PATH_MAX-byte path gives ENAMETOOLONG");
	longp[PATH_MAX] = '\0';
	CHECK_EQ(export_openat(ex, ex->root_fd, longp, O_RDONLY, 0), -ENOENT,
		 "PATH_MAX-byte path is walked in pieces (ENOENT: none of it exists)");
	char comp[NAME_MAX + 2];
	memset(comp, 'b', NAME_MAX + 1);
	comp[NAME_MAX + 1] = '\0';
	CHECK_EQ(export_openat(ex, ex->root_fd, comp, O_RDONLY, 0), -ENAMETOOLONG,
		 "component of NAME_MAX+1 bytes gives ENAMETOOLONG");
	char nm[NAME_MAX + 1];
	CHECK_EQ(export_open_parent(ex, ex->root_fd, comp, nm), -ENAMETOOLONG,
		 "open_parent: long last component gives ENAMETOOLONG");
	comp[NAME_MAX] = '\0';
	CHECK_EQ(export_openat(ex, ex->root_fd, comp, O_RDONLY, 0), -ENOENT,
		 "component of NAME_MAX bytes is fine (ENOENT)");
	CHECK_EQ(export_openat(ex, -1, "file.txt", O_RDONLY, 0), -EBADF, "bad dirfd");
	fd = export_openat(ex, -1, "/file.txt", O_RDONLY, 0);
	CHECK(fd >= 0, "leading / ignores dirfd");
	if (fd >= 0)
		close(fd);
}

/* Paths longer than PATH_MAX (a deep working directory plus a relative path
 * of up to PATH_MAX - 1): walked in pieces, each beneath the last. */
static void test_long_paths(const struct dafs_export *ex)
{
	static char rel[DAFS_PATH_MAX], p[DAFS_PATH_MAX + 600];
	char name[NAME_MAX + 1], comp[201];
	size_t len = 0;
	int fd, pfd;

	memset(comp, 'd', 200);
	comp[200] = '\0';
	/* 30 levels of 200-byte names: about 6000 bytes below the export, each
	 * made from its parent's descriptor (mkdir(2) takes PATH_MAX). */
	int cur = dup(ex->root_fd);
	for (int i = 0; i < 30 && cur >= 0; i++) {
		len += (size_t)snprintf(rel + len, sizeof(rel) - len, "%s%s", i ? "/" : "", comp);
		int next = mkdirat(cur, comp, 0755) == 0 ?
			   openat(cur, comp, O_PATH | O_DIRECTORY | O_CLOEXEC) : -1;
		close(cur);
		cur = next;
	}
	CHECK(cur >= 0, "deep tree made");
	if (cur >= 0)
		close(cur);
	CHECK(len > PATH_MAX, "the deep path is %zu bytes", len);
	snprintf(rel + len, sizeof(rel) - len, "/file");
	fd = export_openat(ex, ex->root_fd, rel, O_WRONLY | O_CREAT | O_EXCL, 0644);
	CHECK(fd >= 0, "a file %zu bytes deep is created (%d)", len + 5, fd);
	if (fd >= 0)
		close(fd);
	pfd = export_open_parent(ex, ex->root_fd, rel, name);
	CHECK(pfd >= 0 && strcmp(name, "file") == 0, "its parent opens, name \"%s\"", name);
	if (pfd >= 0) {
		CHECK_EQ(faccessat(pfd, "file", F_OK, 0), 0, "and holds it");
		close(pfd);
	}
	/* A symlink in a later piece still cannot leave the export. */
	snprintf(rel + len, sizeof(rel) - len, "/out");
	snprintf(p, sizeof(p), "%s/outside.txt", top);
	pfd = export_open_parent(ex, ex->root_fd, rel, name);
	if (pfd >= 0) {
		CHECK_EQ(symlinkat(p, pfd, "out"), 0, "absolute symlink deep down");
		close(pfd);
	}
	CHECK_EQ(export_openat(ex, ex->root_fd, rel, O_RDONLY, 0), -EACCES,
		 "absolute symlink in a later piece refused");
	snprintf(rel + len, sizeof(rel) - len, "/../../file");
	CHECK_EQ(export_openat(ex, ex->root_fd, rel, O_RDONLY, 0) < 0, 1,
		 "'..' climbing out of a later piece does not open");
	/* nftw cannot remove what lies past PATH_MAX: take the tree down from
	 * the bottom, each level from its parent's descriptor. */
	for (int depth = 30; depth > 0; depth--) {
		int dir = dup(ex->root_fd);
		for (int i = 0; i < depth - 1 && dir >= 0; i++) {
			int next = openat(dir, comp, O_PATH | O_DIRECTORY | O_CLOEXEC);
			close(dir);
			dir = next;
		}
		if (dir < 0)
			break;
		if (depth == 30) {
			int last = openat(dir, comp, O_PATH | O_DIRECTORY | O_CLOEXEC);
			if (last >= 0) {
				unlinkat(last, "file", 0);
				unlinkat(last, "out", 0);
				close(last);
			}
		}
		CHECK_EQ(unlinkat(dir, comp, AT_REMOVEDIR), 0, "level %d removed", depth);
		close(dir);
	}
}

static void test_parent(const struct dafs_export *ex)
{
	char name[NAME_MAX + 1];
	int dir = export_openat(ex, ex->root_fd, "dir", O_PATH | O_DIRECTORY, 0);
	CHECK(dir >= 0, "open dir O_PATH");

	static const struct { const char *path, *parent, *name; } ok[] = {
		{ "dir/inner.txt", "dir", "inner.txt" },
		{ "/dir/inner.txt", "dir", "inner.txt" },
		{ "dir/sub2/", "dir", "sub2" },
		{ "dir//sub2//", "dir", "sub2" },
		{ "file.txt", "", "file.txt" },
		{ "/file.txt", "", "file.txt" },
		{ "dir/sub2/../inner.txt", "dir", "inner.txt" },
		{ "dirlink/x", "dir", "x" },
		{ "climb", "", "climb" },   /* the name itself is not followed */
	};
	for (size_t i = 0; i < sizeof(ok) / sizeof(ok[0]); i++) {
		memset(name, 'X', sizeof(name));
		int fd = export_open_parent(ex, ex->root_fd, ok[i].path, name);
		CHECK(fd >= 0, "open_parent %s", ok[i].path);
		if (fd < 0)
			continue;
		CHECK(strcmp(name, ok[i].name) == 0, "%s: name %s (got %s)", ok[i].path,
		      ok[i].name, name);
		int want = *ok[i].parent ? dir : ex->root_fd;
		CHECK(same_file(fd, want), "%s: parent %s", ok[i].path,
		      *ok[i].parent ? ok[i].parent : "root");
		close(fd);
	}

	static const struct { const char *path; int err; } bad[] = {
		{ "", -EBUSY }, { "/", -EBUSY }, { "//", -EBUSY }, { ".", -EBUSY }, { "./", -EBUSY },
		{ "..", -EINVAL }, { "dir/.", -EINVAL }, { "dir/..", -EINVAL }, { "/..", -EINVAL },
		{ "../x", -EACCES }, { "dir/../../x", -EACCES }, { "climb/x", -EACCES },
		{ "outdir_link/x.txt", -EACCES }, { "abs_dir_link/x.txt", -EACCES },
		{ "file.txt/x", -ENOTDIR }, { "nope/x", -ENOENT },
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		int fd = export_open_parent(ex, ex->root_fd, bad[i].path, name);
		CHECK_EQ(fd, bad[i].err, "open_parent \"%s\" refused", bad[i].path);
		if (fd >= 0)
			close(fd);
	}
	if (dir >= 0)
		close(dir);
}

static void test_dirfd(const struct dafs_export *ex)
{
	char buf[64], name[NAME_MAX + 1];
	int d = export_openat(ex, ex->root_fd, "dir", O_RDONLY | O_DIRECTORY, 0);
	CHECK(d >= 0, "export_openat O_DIRECTORY gives a dirfd");
	if (d < 0)
		return;
	int fd = export_openat(ex, d, "inner.txt", O_RDONLY, 0);
	CHECK(fd >= 0 && strcmp(content_of(fd, buf, sizeof(buf)), "inner") == 0,
	      "open relative to the dirfd");
	if (fd >= 0)
		close(fd);
	static const char *bad[] = { "..", "../file.txt", "sub2/../../file.txt",
				     "../../outside.txt", "up_link", "climb2" };
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		fd = export_openat(ex, d, bad[i], O_RDONLY, 0);
		CHECK_EQ(fd, -EACCES, "dirfd cannot climb: %s", bad[i]);
		if (fd >= 0)
			close(fd);
	}
	fd = export_openat(ex, d, "/file.txt", O_RDONLY, 0);
	CHECK(fd >= 0 && strcmp(content_of(fd, buf, sizeof(buf)), "hello") == 0,
	      "a leading / from a dirfd means the export root");
	if (fd >= 0)
		close(fd);
	fd = export_openat(ex, d, "", O_PATH | O_DIRECTORY, 0);
	CHECK(fd >= 0 && same_file(fd, d), "\"\" reopens the dirfd");
	if (fd >= 0)
		close(fd);
	fd = export_open_parent(ex, d, "sub2", name);
	CHECK(fd >= 0 && same_file(fd, d) && strcmp(name, "sub2") == 0,
	      "open_parent relative to the dirfd");
	if (fd >= 0)
		close(fd);
	CHECK_EQ(export_open_parent(ex, d, "../x", name), -EACCES, "open_parent ../x from dirfd");
	close(d);
}

/* --- the race: a thread moves export/sub out of the export and back, and
 * swaps a symlink between an inside and an outside target, while the main
 * thread walks through them. */

static atomic_int stop;
static unsigned long moves;

static void *mover(void *arg)
{
	char in[PATH_MAX], out[PATH_MAX], flip[PATH_MAX], tmp_in[PATH_MAX], tmp_out[PATH_MAX];
	path_of(in, "export/sub");
	path_of(out, "out/sub");
	path_of(flip, "export/flip");
	path_of(tmp_in, "export/flip.in");
	path_of(tmp_out, "export/flip.out");
	while (!atomic_load(&stop)) {
		rename(in, out);
		rename(out, in);
		/* Atomically replace flip with a link out, then with a link in. */
		unlink(tmp_out);
		if (symlink("../out/secret", tmp_out) == 0)
			rename(tmp_out, flip);
		unlink(tmp_in);
		if (symlink("secret", tmp_in) == 0)
			rename(tmp_in, flip);
		moves++;
	}
	return NULL;
}

static void test_race(const struct dafs_export *ex)
{
	put_dir("export/sub");
	put_dir("export/sub/inner");
	put_dir("out");
	put_file("export/secret", "INSIDE");
	put_file("out/secret", "OUTSIDE");
	put_link("secret", "export/flip");

	pthread_t th;
	atomic_store(&stop, 0);
	if (pthread_create(&th, NULL, mover, NULL) != 0) {
		CHECK(0, "pthread_create");
		return;
	}
	int leaks = 0, opened = 0, refused = 0;
	char buf[64], name[NAME_MAX + 1];
	struct timespec t0, t;
	clock_gettime(CLOCK_MONOTONIC, &t0);
	for (int i = 0; i < 2000; i++) {
		int fd = export_openat(ex, ex->root_fd, "sub/inner/../../secret", O_RDONLY, 0);
		if (fd >= 0) {
			opened++;
			if (strcmp(content_of(fd, buf, sizeof(buf)), "INSIDE") != 0)
				leaks++;
			close(fd);
		} else {
			refused++;
		}

		int p = export_open_parent(ex, ex->root_fd, "sub/inner/../../secret", name);
		if (p >= 0) {
			if (!same_file(p, ex->root_fd))
				leaks++;
			fd = openat(p, name, O_RDONLY);
			if (fd >= 0) {
				if (strcmp(content_of(fd, buf, sizeof(buf)), "INSIDE") != 0)
					leaks++;
				close(fd);
			}
			close(p);
		}

		/* Through a dirfd of sub that may be outside while we use it:
		 * climbing from it must fail every time. */
		int d = export_openat(ex, ex->root_fd, "sub", O_PATH | O_DIRECTORY, 0);
		if (d >= 0) {
			fd = export_openat(ex, d, "inner/../../secret", O_RDONLY, 0);
			if (fd >= 0) {
				leaks++;
				close(fd);
			}
			close(d);
		}

		fd = export_openat(ex, ex->root_fd, "flip", O_RDONLY, 0);
		if (fd >= 0) {
			if (strcmp(content_of(fd, buf, sizeof(buf)), "INSIDE") != 0)
				leaks++;
			close(fd);
		}

		clock_gettime(CLOCK_MONOTONIC, &t);
		if (t.tv_sec - t0.tv_sec > 10)
			break;
	}
	atomic_store(&stop, 1);
	pthread_join(th, NULL);
	CHECK_EQ(leaks, 0, "2000 walks during renames never reached outside "
		 "(%d opened, %d refused, %lu moves)", opened, refused, moves);
	CHECK(opened > 0, "some walks still succeeded");
}

int main(void)
{
	const char *tmp = getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp";
	int n = snprintf(top, sizeof(top), "%s/dafs-export-XXXXXX", tmp);
	if (n < 0 || n >= (int)sizeof(top) || !mkdtemp(top)) {
		perror("mkdtemp");
		return 2;
	}
	char p[PATH_MAX];
	put_dir("export");
	put_dir("export/dir");
	put_dir("export/dir/sub2");
	put_dir("outdir");
	put_file("export/file.txt", "hello");
	put_file("export/dir/inner.txt", "inner");
	put_file("outside.txt", "OUTSIDE");
	put_file("outdir/x.txt", "OUTSIDE");
	put_link("/etc/passwd", "export/abs_link");
	put_link("../outside.txt", "export/climb");
	put_link("../../outside.txt", "export/dir/climb2");
	put_link("dir/inner.txt", "export/good_link");
	put_link("../file.txt", "export/dir/up_link");
	put_link("dir", "export/dirlink");
	put_link("../outdir", "export/outdir_link");
	path_of(p, "outdir");
	put_link(p, "export/abs_dir_link");

	memset(longp_static, 'a', sizeof(longp_static));
	struct dafs_export ex;
	path_of(p, "nope");
	CHECK_EQ(export_init(&ex, p), -ENOENT, "export_init of a missing dir");
	CHECK_EQ(ex.root_fd, -1, "leaves root_fd -1");
	path_of(p, "outside.txt");
	CHECK_EQ(export_init(&ex, p), -ENOTDIR, "export_init of a file");
	path_of(p, "export/../export/");
	CHECK_EQ(export_init(&ex, p), 0, "export_init");
	path_of(p, "export");
	CHECK(strcmp(ex.path, p) == 0, "canonical path %s", ex.path);

	char wire[PATH_MAX];
	CHECK_EQ(export_path_from_wire("dir/x", 5, wire), 0, "wire path copied");
	CHECK(strcmp(wire, "dir/x") == 0, "and terminated");
	CHECK_EQ(export_path_from_wire("a\0../../x", 9, wire), -EINVAL, "wire path with a NUL");
	CHECK_EQ(export_path_from_wire("", 0, wire) == 0 && wire[0] == '\0', 1, "empty wire path");
	CHECK_EQ(export_path_from_wire(longp_static, PATH_MAX, wire), -ENAMETOOLONG,
		 "wire path of PATH_MAX bytes");

	umask(022);
	test_opens(&ex);
	test_escapes(&ex);
	test_flags(&ex);
	test_parent(&ex);
	test_dirfd(&ex);
	test_race(&ex);
	test_long_paths(&ex);

	export_fini(&ex);
	export_fini(&ex);
	CHECK_EQ(ex.root_fd, -1, "export_fini twice is fine");
	nftw(top, rm_one, 16, FTW_DEPTH | FTW_PHYS);
	return check_done();
}
