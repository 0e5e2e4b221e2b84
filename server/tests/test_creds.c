/* test_creds.c — the credentials policy (creds_effective, creds_check_op)
 * with principals filled by hand, and the thread's identity switch
 * (creds_switch) checked against what the kernel then allows. */
#include "check.h"
#include "creds.h"

#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <pthread.h>
#include <pwd.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

static struct dafs_cred asserted(uint32_t uid, uint32_t gid, unsigned n, ...)
{
	struct dafs_cred c = { .uid = uid, .gid = gid, .ngroups = (uint16_t)n };
	va_list ap;

	va_start(ap, n);
	for (unsigned i = 0; i < n; i++)
		c.groups[i] = va_arg(ap, uint32_t);
	va_end(ap);
	return c;
}

static bool has_group(const struct dafs_cred *c, uint32_t g)
{
	for (unsigned i = 0; i < c->ngroups; i++)
		if (c->groups[i] == g)
			return true;
	return false;
}

/* An id with no passwd or group entry. */
static uint32_t unused_id(void)
{
	for (uint32_t id = 4000000000u; ; id++)
		if (!getpwuid(id) && !getgrgid(id))
			return id;
}

static void test_policy(void)
{
	struct principal keyless = { .keyed = false };
	struct principal host = { .keyed = true };
	struct principal trusted = { .keyed = true, .no_root_squash = true };
	struct dafs_cred in, out;

	in = asserted(0, 0, 2, 0, 10);
	CHECK(creds_effective(&keyless, &in, &out) == 0 && out.uid == 0 && out.gid == 0 &&
	      out.ngroups == 2 && out.groups[0] == 0 && out.groups[1] == 10,
	      "keyless: root as asserted (local clients only)");
	in = asserted(1000, 100, 1, 27);
	CHECK(creds_effective(&keyless, &in, &out) == 0 && out.uid == 1000 && out.gid == 100 &&
	      out.ngroups == 1 && out.groups[0] == 27, "keyless: a user as asserted");

	in = asserted(0, 0, 3, 0, 5, 0);
	CHECK(creds_effective(&host, &in, &out) == 0 && out.uid == CREDS_NOBODY &&
	      out.gid == CREDS_NOBODY && out.ngroups == 3 && out.groups[0] == CREDS_NOBODY &&
	      out.groups[1] == 5 && out.groups[2] == CREDS_NOBODY,
	      "host key: uid, gid and group 0 squashed to 65534");
	in = asserted(1000, 100, 1, 27);
	CHECK(creds_effective(&host, &in, &out) == 0 && out.uid == 1000 && out.gid == 100 &&
	      out.ngroups == 1 && out.groups[0] == 27, "host key: other users as asserted");
	in = asserted(0, 0, 1, 0);
	CHECK(creds_effective(&trusted, &in, &out) == 0 && out.uid == 0 && out.gid == 0 &&
	      out.ngroups == 1 && out.groups[0] == 0, "host key with no_root_squash: root stays root");

	/* gid= alone: the gid pinned, no asserted groups, the uid squashed. */
	struct principal gidonly = { .keyed = true, .has_gid = true, .gid = 4242 };
	in = asserted(0, 0, 2, 0, 27);
	CHECK(creds_effective(&gidonly, &in, &out) == 0 && out.uid == CREDS_NOBODY &&
	      out.gid == 4242 && out.ngroups == 0, "gid= pins the gid and drops asserted groups");
	in = asserted(1000, 100, 0);
	CHECK(creds_effective(&gidonly, &in, &out) == 0 && out.uid == 1000 && out.gid == 4242,
	      "gid= keeps the asserted uid");

	/* uid= of a known user: that user whatever is asserted. root is in
	 * every passwd; its groups come from the group database. */
	struct principal pinned_root = { .keyed = true, .has_uid = true, .uid = 0 };
	struct passwd *pw = getpwuid(0);
	in = asserted(1000, 1000, 1, 1000);
	CHECK(pw && creds_effective(&pinned_root, &in, &out) == 0 && out.uid == 0 &&
	      out.gid == pw->pw_gid && !has_group(&out, 1000) && has_group(&out, pw->pw_gid),
	      "uid= of a known user: its uid, its primary gid and groups, not the asserted ones");

	pw = getpwnam("nobody");
	if (pw) {
		struct principal pinned_nobody = { .keyed = true, .has_uid = true, .uid = pw->pw_uid };
		in = asserted(0, 0, 1, 0);
		CHECK(creds_effective(&pinned_nobody, &in, &out) == 0 && out.uid == pw->pw_uid &&
		      out.gid == pw->pw_gid && !has_group(&out, 0),
		      "uid= nobody: an asserted root is not believed");
		pinned_nobody.has_gid = true;
		pinned_nobody.gid = 4242;
		CHECK(creds_effective(&pinned_nobody, &in, &out) == 0 && out.gid == 4242,
		      "uid= with gid=: the key's gid");
	} else {
		CHECK(0, "no nobody user on this host");
	}

	uint32_t ghost = unused_id();
	struct principal unknown = { .keyed = true, .has_uid = true, .uid = ghost };
	in = asserted(0, 0, 0);
	CHECK_EQ(creds_effective(&unknown, &in, &out), -EACCES,
		 "uid= of an unknown user without gid=: EACCES");
	CHECK_EQ(creds_effective(&unknown, &in, &out), -EACCES,
		 "and again from the cache: EACCES");
	unknown.has_gid = true;
	unknown.gid = 777;
	CHECK(creds_effective(&unknown, &in, &out) == 0 && out.uid == ghost && out.gid == 777 &&
	      out.ngroups == 0, "uid= of an unknown user with gid=: that uid and gid, no groups");
}

static void test_read_only(void)
{
	struct principal ro = { .keyed = true, .read_only = true };
	struct principal rw = { .keyed = true };
	struct dafs_op op;
	static const uint16_t changes[] = {
		DAFS_OP_SETATTR, DAFS_OP_WRITE, DAFS_OP_ALLOCATE, DAFS_OP_MKDIR, DAFS_OP_RMDIR,
		DAFS_OP_REMOVE, DAFS_OP_RENAME, DAFS_OP_LINK, DAFS_OP_SYMLINK, DAFS_OP_MKNOD,
		DAFS_OP_SETXATTR, DAFS_OP_REMOVEXATTR,
	};
	static const uint16_t reads[] = {
		DAFS_OP_NULL, DAFS_OP_LOOKUP, DAFS_OP_GETATTR, DAFS_OP_READ, DAFS_OP_READDIR,
		DAFS_OP_READLINK, DAFS_OP_STATFS, DAFS_OP_CLOSE, DAFS_OP_GETXATTR,
		DAFS_OP_LISTXATTR, DAFS_OP_LOCKT, DAFS_OP_COMMIT,
	};
	bool ok = true;

	for (size_t i = 0; i < sizeof(changes) / sizeof(changes[0]); i++) {
		memset(&op, 0, sizeof(op));
		op.opcode = changes[i];
		ok = ok && creds_check_op(&ro, &op) == -EROFS && creds_check_op(&rw, &op) == 0;
	}
	CHECK(ok, "ro: every change is EROFS (and allowed without ro)");
	ok = true;
	for (size_t i = 0; i < sizeof(reads) / sizeof(reads[0]); i++) {
		memset(&op, 0, sizeof(op));
		op.opcode = reads[i];
		ok = ok && creds_check_op(&ro, &op) == 0;
	}
	CHECK(ok, "ro: reads and lookups are allowed");

	memset(&op, 0, sizeof(op));
	op.opcode = DAFS_OP_OPEN;
	op.a.open.flags = DAFS_O_RDONLY;
	CHECK_EQ(creds_check_op(&ro, &op), 0, "ro: OPEN read-only is allowed");
	op.a.open.flags = DAFS_O_WRONLY;
	CHECK_EQ(creds_check_op(&ro, &op), -EROFS, "ro: OPEN for writing is EROFS");
	op.a.open.flags = DAFS_O_RDWR;
	CHECK_EQ(creds_check_op(&ro, &op), -EROFS, "ro: OPEN read-write is EROFS");
	op.a.open.flags = DAFS_O_RDONLY | DAFS_O_CREAT;
	CHECK_EQ(creds_check_op(&ro, &op), -EROFS, "ro: OPEN with CREAT is EROFS");
	op.a.open.flags = DAFS_O_RDONLY | DAFS_O_TRUNC;
	CHECK_EQ(creds_check_op(&ro, &op), -EROFS, "ro: OPEN with TRUNC is EROFS");
}

/* ---- the switch: what the kernel allows afterwards ------------------------ */

struct switch_case {
	const char *dir;
	int results[10];
};

static uid_t fsuid_now(void) { return (uid_t)syscall(SYS_setfsuid, (uid_t)-1); }
static gid_t fsgid_now(void) { return (gid_t)syscall(SYS_setfsgid, (gid_t)-1); }

/* Runs on its own thread: a switch is the calling thread's alone. */
static void *switch_thread(void *arg)
{
	struct switch_case *t = arg;
	char path[4096];
	struct dafs_cred nobody = { .uid = CREDS_NOBODY, .gid = CREDS_NOBODY };
	struct dafs_cred root = { .uid = 0, .gid = 0 };
	struct stat st;
	int fd;

	t->results[0] = creds_switch(&nobody);
	snprintf(path, sizeof(path), "%s/secret", t->dir);
	fd = open(path, O_RDONLY);
	t->results[1] = fd < 0 ? -errno : 0;
	if (fd >= 0)
		close(fd);
	snprintf(path, sizeof(path), "%s/made", t->dir);
	fd = open(path, O_CREAT | O_WRONLY | O_EXCL, 0644);
	t->results[2] = fd < 0 ? -errno : (fstat(fd, &st) == 0 ? (int)st.st_uid : -1);
	if (fd >= 0)
		close(fd);
	t->results[3] = (int)fsuid_now() == CREDS_NOBODY && (int)fsgid_now() == CREDS_NOBODY;
	t->results[4] = creds_switch(&root);
	snprintf(path, sizeof(path), "%s/secret", t->dir);
	fd = open(path, O_RDONLY);
	t->results[5] = fd < 0 ? -errno : 0;
	if (fd >= 0)
		close(fd);
	/* An invalid id is refused and leaves the thread as the server. */
	struct dafs_cred bad_uid = { .uid = UINT32_MAX, .gid = CREDS_NOBODY };
	struct dafs_cred bad_gid = { .uid = CREDS_NOBODY, .gid = UINT32_MAX };
	creds_switch(&nobody);
	t->results[6] = creds_switch(&bad_uid);
	t->results[7] = fsuid_now() == geteuid() && fsgid_now() == getegid();
	creds_switch(&nobody);
	t->results[8] = creds_switch(&bad_gid);
	t->results[9] = fsuid_now() == geteuid() && fsgid_now() == getegid();
	creds_switch_own();
	return NULL;
}

static void test_switch(void)
{
	char dir[] = "/tmp/test_creds.XXXXXX", path[4096];
	struct switch_case t = { .dir = dir };
	pthread_t th;
	int fd;

	if (!creds_can_switch()) {
		/* Not root: only our own uid is served, and root as us. */
		struct dafs_cred me = { .uid = geteuid(), .gid = getegid() };
		struct dafs_cred root = { .uid = 0, .gid = 0 };
		struct dafs_cred other = { .uid = geteuid() + 1, .gid = getegid() };
		CHECK_EQ(creds_switch(&me), 0, "unprivileged: our own uid is served");
		CHECK_EQ(creds_switch(&root), 0, "unprivileged: root is served as us");
		CHECK_EQ(creds_switch(&other), -EACCES, "unprivileged: another uid is EACCES");
		return;
	}
	if (!mkdtemp(dir)) {
		CHECK(0, "mkdtemp");
		return;
	}
	chmod(dir, 01777);
	snprintf(path, sizeof(path), "%s/secret", dir);
	fd = open(path, O_CREAT | O_WRONLY, 0600);
	if (fd >= 0)
		close(fd);
	pthread_create(&th, NULL, switch_thread, &t);
	pthread_join(th, NULL);
	CHECK_EQ(t.results[0], 0, "switch to nobody");
	CHECK_EQ(t.results[1], -EACCES, "as nobody, a root 0600 file is EACCES");
	CHECK_EQ(t.results[2], CREDS_NOBODY, "as nobody, a new file is owned by nobody");
	CHECK_EQ(t.results[3], 1, "the thread's fsuid and fsgid are nobody's");
	CHECK_EQ(t.results[4], 0, "switch back to root");
	CHECK_EQ(t.results[5], 0, "as root again, the 0600 file opens");
	CHECK_EQ(t.results[6], -EPERM, "uid (uid_t)-1 is refused");
	CHECK_EQ(t.results[7], 1, "and leaves the thread the server's, not nobody's");
	CHECK_EQ(t.results[8], -EPERM, "gid (gid_t)-1 is refused");
	CHECK_EQ(t.results[9], 1, "and leaves the thread the server's");
	CHECK(fsuid_now() == geteuid(), "the main thread's fsuid never changed");
	snprintf(path, sizeof(path), "%s/made", dir);
	unlink(path);
	snprintf(path, sizeof(path), "%s/secret", dir);
	unlink(path);
	rmdir(dir);
}

int main(void)
{
	test_policy();
	test_read_only();
	test_switch();
	return check_done();
}
