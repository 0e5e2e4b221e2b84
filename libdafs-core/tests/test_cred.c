/* test_cred.c — the credentials a session's requests carry: the opener's
 * by default, dafs_session_set_cred's once set, and with caller_creds each
 * sending thread's, read again after dafs_creds_changed. Checked through
 * what the server (root, beside the test) then lets the request do. */
#include "check.h"
#include "server_fixture.h"

#include <errno.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#define NOBODY 65534

static struct server_fixture fx = { .export_dir = "/tmp/dafs-cred-XXXXXX" };

static int try_open(struct dafs_session *s, const char *path, int flags)
{
	struct dafs_file *f;
	int rc = dafs_open(s, path, flags, 0644, &f);

	if (rc == 0)
		dafs_close(f);
	return rc;
}

static void owner_of(const char *name, uid_t *uid)
{
	char path[128];
	struct stat st;

	snprintf(path, sizeof(path), "%s/%s", fx.export_dir, name);
	*uid = stat(path, &st) == 0 ? st.st_uid : (uid_t)-1;
}

int main(void)
{
	struct dafs_session *s;
	struct dafs_session_opts follow = { .caller_creds = 1 };
	char path[128];
	gid_t none[1] = { 0 };
	uid_t uid;
	int fd;

	alarm(60);
	if (geteuid() != 0) {
		CHECK(1, "# SKIP not root: the server cannot act as other users");
		return check_done();
	}
	if (!mkdtemp(fx.export_dir) || fixture_spawn(&fx, "cred") < 0) {
		CHECK(0, "start a server");
		return check_done();
	}
	chmod(fx.export_dir, 01777);
	snprintf(path, sizeof(path), "%s/secret", fx.export_dir);
	fd = open(path, O_CREAT | O_WRONLY, 0600);
	if (fd >= 0)
		close(fd);

	s = fixture_connect(&fx);
	CHECK(s != NULL, "session");
	if (s) {
		CHECK_EQ(try_open(s, "/secret", O_RDONLY), 0, "the opener's (root's) credentials by default");
		CHECK_EQ(dafs_session_set_cred(s, NOBODY, NOBODY, 0, NULL), 0, "set nobody's");
		CHECK_EQ(try_open(s, "/secret", O_RDONLY), -EACCES, "as nobody: a root 0600 file is EACCES");
		CHECK_EQ(try_open(s, "/by-nobody", O_CREAT | O_WRONLY), 0, "as nobody: a create");
		owner_of("by-nobody", &uid);
		CHECK_EQ(uid, NOBODY, "owned by nobody");
		CHECK_EQ(dafs_session_set_cred(s, 0, 0, 1, none), 0, "root's again, with one group");
		CHECK_EQ(try_open(s, "/secret", O_RDONLY), 0, "as root: the file opens");
		CHECK_EQ(dafs_session_set_cred(s, 0, 0, DAFS_CRED_GROUPS_MAX + 1, none), -EINVAL,
			 "more than DAFS_CRED_GROUPS_MAX groups: EINVAL");
		dafs_session_close(s);
	}

	/* caller_creds: the thread's fsuid, re-read after dafs_creds_changed. */
	CHECK_EQ(dafs_session_open(fx.url, &follow, &s), 0, "session following its callers");
	if (s) {
		CHECK_EQ(try_open(s, "/secret", O_RDONLY), 0, "as this thread (root)");
		syscall(SYS_setfsuid, NOBODY);
		CHECK_EQ(try_open(s, "/secret", O_RDONLY), 0,
			 "a raw change not announced is not seen (the documented limit)");
		dafs_creds_changed();
		CHECK_EQ(try_open(s, "/secret", O_RDONLY), -EACCES,
			 "after dafs_creds_changed: this thread's fsuid, nobody");
		syscall(SYS_setfsuid, 0);
		dafs_creds_changed();
		CHECK_EQ(try_open(s, "/secret", O_RDONLY), 0, "and back to root");
		dafs_session_close(s);
	}
	fixture_stop(&fx);
	if (fork() == 0) {
		execlp("rm", "rm", "-rf", fx.export_dir, (char *)NULL);
		_exit(127);
	}
	wait(NULL);
	return check_done();
}
