/* test_xattr.c — named attributes through a real dafs-server, each call
 * compared with the same call on a local twin directory of the same file
 * system as the export (its result or errno, and the bytes it returned):
 * get/set/list/remove by path, on a symlink itself (AT_SYMLINK_NOFOLLOW) and
 * on an open file; the create/replace flags, size queries, a buffer too
 * small, names of 0 and 256 bytes, values over 64 KiB, and a 64 KiB value
 * where the file system holds one. Run twice: export on /tmp (ext4 here)
 * and on /dev/shm (tmpfs), whose attribute limits differ. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/xattr.h>
#include <unistd.h>

#include "check.h"
#include "dafs.h"
#include "server_fixture.h"

static struct server_fixture fx;
static struct dafs_session *sess;
static char local_dir[64];
static char big[65537];

/* A local call's result the library's way: a count, or a negative errno. */
static long local_rc(long rc)
{
	return rc < 0 ? -errno : rc;
}

static const char *lpath(const char *name, char buf[PATH_MAX])
{
	snprintf(buf, PATH_MAX, "%s/%s", local_dir, name);
	return buf;
}

/* Makes name on both sides: a file with content, a symlink to "f", a dir. */
static void make_both(void)
{
	char p[PATH_MAX];
	const char *dirs[2] = { fx.export_dir, local_dir };

	for (int i = 0; i < 2; i++) {
		snprintf(p, sizeof p, "%s/f", dirs[i]);
		int fd = open(p, O_CREAT | O_WRONLY | O_TRUNC, 0644);
		if (fd >= 0) {
			if (write(fd, "data\n", 5) != 5)
				perror("write");
			close(fd);
		}
		snprintf(p, sizeof p, "%s/l", dirs[i]);
		if (symlink("f", p) < 0)
			perror("symlink");
		snprintf(p, sizeof p, "%s/d", dirs[i]);
		if (mkdir(p, 0755) < 0)
			perror("mkdir");
	}
}

#define SAME(dafs_call, local_call, what) do {                                 \
	long d_ = (long)(dafs_call), l_ = local_rc((long)(local_call));        \
	CHECK(d_ == l_, "%s: %s: dafs %ld, local %ld", fsname, what, d_, l_);  \
} while (0)

static void run_cases(const char *fsname)
{
	char p[PATH_MAX], dv[70000], lv[70000];
	struct dafs_file *f;
	int lfd;
	long dn, ln;

	make_both();
	SAME(dafs_getxattr(sess, "/f", "user.a", dv, sizeof dv, 0),
	     getxattr(lpath("f", p), "user.a", lv, sizeof lv), "get of a missing name: ENODATA");
	SAME(dafs_setxattr(sess, "/f", "user.a", "hello", 5, 0, 0),
	     setxattr(lpath("f", p), "user.a", "hello", 5, 0), "set");
	SAME(dafs_setxattr(sess, "/f", "user.a", "x", 1, XATTR_CREATE, 0),
	     setxattr(lpath("f", p), "user.a", "x", 1, XATTR_CREATE), "XATTR_CREATE of an existing name");
	SAME(dafs_setxattr(sess, "/f", "user.b", "x", 1, XATTR_REPLACE, 0),
	     setxattr(lpath("f", p), "user.b", "x", 1, XATTR_REPLACE), "XATTR_REPLACE of a missing name");
	SAME(dafs_setxattr(sess, "/f", "user.e", "", 0, XATTR_CREATE, 0),
	     setxattr(lpath("f", p), "user.e", "", 0, XATTR_CREATE), "XATTR_CREATE of an empty value");
	SAME(dafs_setxattr(sess, "/f", "user.a", "x", 1, 4, 0),
	     setxattr(lpath("f", p), "user.a", "x", 1, 4), "unknown set flag: EINVAL");
	SAME(dafs_getxattr(sess, "/f", "user.a", NULL, 0, 0),
	     getxattr(lpath("f", p), "user.a", NULL, 0), "size query");
	SAME(dafs_getxattr(sess, "/f", "user.a", dv, 2, 0),
	     getxattr(lpath("f", p), "user.a", lv, 2), "buffer too small: ERANGE");
	memset(dv, 0, sizeof dv);
	memset(lv, 0, sizeof lv);
	dn = dafs_getxattr(sess, "/f", "user.a", dv, sizeof dv, 0);
	ln = local_rc(getxattr(lpath("f", p), "user.a", lv, sizeof lv));
	CHECK(dn == ln && dn == 5 && memcmp(dv, lv, 5) == 0, "%s: get returns the value (%ld, %ld)",
	      fsname, dn, ln);
	SAME(dafs_getxattr(sess, "/f", "user.e", dv, sizeof dv, 0),
	     getxattr(lpath("f", p), "user.e", lv, sizeof lv), "an empty value");
	SAME(dafs_getxattr(sess, "/f", "", dv, sizeof dv, 0),
	     getxattr(lpath("f", p), "", lv, sizeof lv), "an empty name: ERANGE");
	memset(big, 'n', 256);
	big[256] = '\0';
	SAME(dafs_getxattr(sess, "/f", big, dv, sizeof dv, 0),
	     getxattr(lpath("f", p), big, lv, sizeof lv), "a 256-byte name: ERANGE");
	big[255] = '\0';
	memcpy(big, "user.", 5);
	SAME(dafs_getxattr(sess, "/f", big, dv, sizeof dv, 0),
	     getxattr(lpath("f", p), big, lv, sizeof lv), "a 255-byte name: ENODATA");
	memset(big, 'v', sizeof big);
	SAME(dafs_setxattr(sess, "/f", "user.big", big, 65537, 0, 0),
	     setxattr(lpath("f", p), "user.big", big, 65537, 0), "a value over 64 KiB: E2BIG");
	SAME(dafs_setxattr(sess, "/f", "user.big", big, 65536, 0, 0),
	     setxattr(lpath("f", p), "user.big", big, 65536, 0), "a value of 64 KiB");
	memset(dv, 0, sizeof dv);
	memset(lv, 0, sizeof lv);
	dn = dafs_getxattr(sess, "/f", "user.big", dv, sizeof dv, 0);
	ln = local_rc(getxattr(lpath("f", p), "user.big", lv, sizeof lv));
	CHECK(dn == ln && (dn < 0 || memcmp(dv, lv, (size_t)dn) == 0),
	      "%s: reading the 64 KiB value back (%ld, %ld)", fsname, dn, ln);
	SAME(dafs_getxattr(sess, "/nowhere", "user.a", dv, sizeof dv, 0),
	     getxattr(lpath("nowhere", p), "user.a", lv, sizeof lv), "a missing file: ENOENT");

	/* Lists: names in the file system's order, compared whole. */
	SAME(dafs_listxattr(sess, "/f", NULL, 0, 0), listxattr(lpath("f", p), NULL, 0),
	     "list size query");
	SAME(dafs_listxattr(sess, "/f", dv, 3, 0), listxattr(lpath("f", p), lv, 3),
	     "list into a small buffer: ERANGE");
	dn = dafs_listxattr(sess, "/f", dv, sizeof dv, 0);
	ln = local_rc(listxattr(lpath("f", p), lv, sizeof lv));
	CHECK(dn == ln && dn > 0 && memcmp(dv, lv, (size_t)dn) == 0, "%s: list (%ld, %ld bytes)",
	      fsname, dn, ln);
	SAME(dafs_removexattr(sess, "/f", "user.e", 0), removexattr(lpath("f", p), "user.e"),
	     "remove");
	SAME(dafs_removexattr(sess, "/f", "user.e", 0), removexattr(lpath("f", p), "user.e"),
	     "remove again: ENODATA");

	/* Symlinks: following reads the file's; the link's own (l-forms)
	 * refuse user.* (EPERM) and hold trusted.* for root. */
	SAME(dafs_getxattr(sess, "/l", "user.a", dv, sizeof dv, 0),
	     getxattr(lpath("l", p), "user.a", lv, sizeof lv), "get through a symlink");
	SAME(dafs_getxattr(sess, "/l", "user.a", dv, sizeof dv, AT_SYMLINK_NOFOLLOW),
	     lgetxattr(lpath("l", p), "user.a", lv, sizeof lv), "lget on the symlink: ENODATA");
	SAME(dafs_setxattr(sess, "/l", "user.x", "1", 1, 0, AT_SYMLINK_NOFOLLOW),
	     lsetxattr(lpath("l", p), "user.x", "1", 1, 0), "lset user.* on a symlink: EPERM");
	SAME(dafs_setxattr(sess, "/l", "trusted.t", "12", 2, 0, AT_SYMLINK_NOFOLLOW),
	     lsetxattr(lpath("l", p), "trusted.t", "12", 2, 0), "lset trusted.* on a symlink");
	SAME(dafs_getxattr(sess, "/l", "trusted.t", dv, sizeof dv, AT_SYMLINK_NOFOLLOW),
	     lgetxattr(lpath("l", p), "trusted.t", lv, sizeof lv), "lget trusted.* of the symlink");
	SAME(dafs_getxattr(sess, "/f", "trusted.t", dv, sizeof dv, 0),
	     getxattr(lpath("f", p), "trusted.t", lv, sizeof lv), "...not set on its target");
	SAME(dafs_listxattr(sess, "/l", dv, sizeof dv, AT_SYMLINK_NOFOLLOW),
	     llistxattr(lpath("l", p), lv, sizeof lv), "llist of the symlink");
	SAME(dafs_removexattr(sess, "/l", "trusted.t", AT_SYMLINK_NOFOLLOW),
	     lremovexattr(lpath("l", p), "trusted.t"), "lremove of the symlink's");
	SAME(dafs_setxattr(sess, "/d", "user.dir", "1", 1, 0, 0),
	     setxattr(lpath("d", p), "user.dir", "1", 1, 0), "set on a directory");
	SAME(dafs_setxattr(sess, "/f", "bogus.x", "1", 1, 0, 0),
	     setxattr(lpath("f", p), "bogus.x", "1", 1, 0), "an unknown namespace: ENOTSUP");

	/* On an open file: a read-only one may be given attributes, as
	 * fsetxattr(2) allows. */
	CHECK_EQ(dafs_open(sess, "/f", O_RDONLY, 0, &f), 0, "%s: open /f", fsname);
	lfd = open(lpath("f", p), O_RDONLY);
	SAME(dafs_fsetxattr(f, "user.f", "abc", 3, XATTR_CREATE),
	     fsetxattr(lfd, "user.f", "abc", 3, XATTR_CREATE), "fsetxattr on a read-only file");
	SAME(dafs_fgetxattr(f, "user.f", dv, sizeof dv), fgetxattr(lfd, "user.f", lv, sizeof lv),
	     "fgetxattr");
	SAME(dafs_fgetxattr(f, "user.f", dv, 1), fgetxattr(lfd, "user.f", lv, 1),
	     "fgetxattr into a small buffer: ERANGE");
	dn = dafs_flistxattr(f, dv, sizeof dv);
	ln = local_rc(flistxattr(lfd, lv, sizeof lv));
	CHECK(dn == ln && dn > 0 && memcmp(dv, lv, (size_t)dn) == 0, "%s: flistxattr (%ld, %ld)",
	      fsname, dn, ln);
	SAME(dafs_fremovexattr(f, "user.f"), fremovexattr(lfd, "user.f"), "fremovexattr");
	SAME(dafs_fremovexattr(f, "user.f"), fremovexattr(lfd, "user.f"), "fremovexattr again");
	SAME(dafs_fsetxattr(f, "user.big", big, 65536, 0),
	     fsetxattr(lfd, "user.big", big, 65536, 0), "fsetxattr of 64 KiB");
	dafs_close(f);
	close(lfd);

	/* Confinement, as every other path: a name that climbs out of the
	 * export and a symlink pointing out are refused (EACCES), never read
	 * or written outside; the symlink's own attributes are the export's. */
	snprintf(p, sizeof p, "%s/out", fx.export_dir);
	CHECK(symlink(local_dir, p) == 0, "%s: a symlink out of the export", fsname);
	CHECK_EQ(dafs_setxattr(sess, "/out", "user.esc", "1", 1, 0, 0), -EACCES,
		 "%s: set through a symlink out of the export: EACCES", fsname);
	CHECK_EQ(dafs_getxattr(sess, "../x", "user.a", dv, sizeof dv, 0), -EACCES,
		 "%s: get of ../x: EACCES", fsname);
	CHECK_EQ(dafs_listxattr(sess, "/d/../../x", dv, sizeof dv, 0), -EACCES,
		 "%s: list of /d/../../x: EACCES", fsname);
	CHECK_EQ(dafs_getxattr(sess, "/out", "user.a", dv, sizeof dv, AT_SYMLINK_NOFOLLOW),
		 -ENODATA, "%s: the symlink's own attributes (lget): ENODATA", fsname);
	CHECK_EQ(getxattr(local_dir, "user.esc", lv, sizeof lv), -1,
		 "%s: nothing was set outside the export", fsname);

	/* By path, a 64 KiB value beside a path near PATH_MAX does not fit one
	 * message: the documented E2BIG, before anything is sent. */
	memset(p, 'a', 4090);
	for (int i = 0; i < 4090; i += 100)
		p[i] = '/';
	p[4090] = '\0';
	CHECK_EQ(dafs_setxattr(sess, p, "user.big", big, 65536, 0, 0), -E2BIG,
		 "%s: 64 KiB by a 4090-byte path: E2BIG", fsname);
}

static int run_on(const char *base, const char *fsname)
{
	snprintf(fx.export_dir, sizeof fx.export_dir, "%s/dafs-xattr-XXXXXX", base);
	snprintf(local_dir, sizeof local_dir, "%s/dafs-xattr-local-XXXXXX", base);
	if (!mkdtemp(fx.export_dir) || !mkdtemp(local_dir) || fixture_spawn(&fx, "xattr") < 0) {
		CHECK(0, "%s: start a server", fsname);
		return -1;
	}
	sess = fixture_connect(&fx);
	CHECK(sess != NULL, "%s: session", fsname);
	if (sess) {
		run_cases(fsname);
		dafs_session_close(sess);
	}
	fixture_stop(&fx);
	if (fork() == 0) {
		execlp("rm", "rm", "-rf", local_dir, (char *)NULL);
		_exit(127);
	}
	wait(NULL);
	return 0;
}

int main(void)
{
	run_on("/tmp", "/tmp");
	run_on("/dev/shm", "/dev/shm");
	return check_done();
}
