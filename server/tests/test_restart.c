/* test_restart.c — exactly once across a server crash: a request the server
 * ran and answered, sent again (same slot and sequence) after the server
 * was killed and started again, is answered from the state directory
 * (--state), not run again; without one it runs again (the control that
 * shows the test can fail). The client rides through the restart as any
 * program does (libdafs-core's recover.c).
 *
 * Starts build/dafs-server on a private shm name and export directory,
 * kills and restarts it, and stops it with SIGTERM. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "check.h"
#include "client.h"
#include "server_fixture.h"

static struct server_fixture fx;
static char state_dir[64];

static ssize_t finish_first_status(struct dafs_req *req, struct dafs_reply *rep)
{
	if (!rep)
		return req->result;
	if (rep->res[0].status)
		return -rep->res[0].status;
	return rep->res[0].opcode == DAFS_OP_WRITE ? (ssize_t)rep->res[0].r.write.count : 0;
}

static int start(bool with_state)
{
	const char *const args[] = { "--state", state_dir, NULL };

	return fixture_spawn_args(&fx, "restart", with_state ? args : NULL);
}

/* SIGKILL, and the same server again. */
static void crash_and_restart(bool with_state)
{
	kill(fx.pid, SIGKILL);
	waitpid(fx.pid, NULL, 0);
	CHECK_EQ(start(with_state), 0, "the server started again");
}

/* The session's last request again, unchanged, to the restarted server:
 * the client finds it gone, reconnects and sends it there. */
static ssize_t replay_last_after_crash(struct dafs_session *s, bool with_state)
{
	struct dafs_req *req = NULL;
	int slot = s->last_slot;

	crash_and_restart(with_state);
	if (!req_new(s, NULL, NULL, &req, finish_first_status))
		return -ENOMEM;
	int rc = client_resend_slot(req, slot);
	if (rc) {
		req_free(req);
		return rc;
	}
	return dafs_req_wait(req, 30000);
}

static struct dafs_session *connect_quick(void)
{
	struct dafs_session_opts opts = { .timeout_ms = 1000 };
	struct dafs_session *s = NULL;

	for (int i = 0; i < 100; i++) {
		if (dafs_session_open(fx.url, &opts, &s) == 0)
			return s;
		usleep(50000);
	}
	return NULL;
}

static void test_once(bool with_state)
{
	const char *how = with_state ? "with --state" : "without --state";
	struct dafs_session *s = connect_quick();
	struct dafs_file *f;
	struct stat st;
	char path[PATH_MAX];

	CHECK(s != NULL, "%s: session", how);
	if (!s)
		return;
	CHECK_EQ(dafs_mkdir(s, "/d", 0755), 0, "%s: mkdir runs", how);
	CHECK_EQ(replay_last_after_crash(s, with_state), with_state ? 0 : -EEXIST,
		 "%s: the same mkdir after a crash is %s", how,
		 with_state ? "answered from the state directory" : "run again: EEXIST");

	CHECK_EQ(dafs_open(s, "/log", O_WRONLY | O_CREAT | O_APPEND, 0644, &f), 0, "%s: open", how);
	CHECK_EQ(dafs_append(f, "abc", 3, NULL), 3, "%s: append 3 bytes", how);
	CHECK_EQ(replay_last_after_crash(s, with_state), 3, "%s: the append after a crash: 3", how);
	snprintf(path, sizeof(path), "%s/log", fx.export_dir);
	CHECK(stat(path, &st) == 0 && st.st_size == (with_state ? 3 : 6),
	      "%s: the exported file has %d bytes", how, with_state ? 3 : 6);
	CHECK_EQ(dafs_close(f), 0, "%s: close (the file was reopened)", how);

	CHECK_EQ(dafs_unlink(s, "/log"), 0, "%s: unlink", how);
	CHECK_EQ(replay_last_after_crash(s, with_state), with_state ? 0 : -ENOENT,
		 "%s: the same unlink after a crash is %s", how,
		 with_state ? "answered from the state directory" : "run again: ENOENT");
	CHECK_EQ(dafs_rmdir(s, "/d"), 0, "%s: the session goes on", how);
	CHECK_EQ(dafs_session_close(s), 0, "%s: session closed", how);
}

int main(void)
{
	snprintf(state_dir, sizeof(state_dir), "/tmp/dafs-state-XXXXXX");
	snprintf(fx.export_dir, sizeof(fx.export_dir), "/tmp/dafs-restart-XXXXXX");
	if (!mkdtemp(state_dir) || !mkdtemp(fx.export_dir))
		return 1;
	CHECK_EQ(start(true), 0, "server started with --state");
	test_once(true);
	kill(fx.pid, SIGKILL);
	waitpid(fx.pid, NULL, 0);
	CHECK_EQ(start(false), 0, "server started without --state");
	test_once(false);
	CHECK_EQ(fixture_stop(&fx), 0, "server stopped cleanly");
	if (fork() == 0) {
		execlp("rm", "rm", "-rf", state_dir, (char *)NULL);
		_exit(127);
	}
	wait(NULL);
	return check_done();
}
