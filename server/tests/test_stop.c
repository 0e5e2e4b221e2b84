/* test_stop.c — SIGTERM stops a dafs-server with two workers cleanly, after
 * serving a client: exit status 0, every worker having seen the stop. The flag the signal handler sets is read by the other worker's
 * thread; under ThreadSanitizer (make tsan) a flag that orders nothing
 * between threads shows up as a race in the server. */
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "check.h"
#include "dafs.h"
#include "server_fixture.h"

int main(void)
{
	struct server_fixture fx;
	struct dafs_session *s;
	struct dafs_file *f;
	int status;

	snprintf(fx.export_dir, sizeof(fx.export_dir), "/tmp/dafs-stop-XXXXXX");
	if (!mkdtemp(fx.export_dir) ||
	    fixture_spawn_args(&fx, "stop", (const char *const[]){ "--threads", "2", NULL }) != 0) {
		CHECK(0, "start a server with two workers");
		return check_done();
	}
	s = fixture_connect(&fx);
	CHECK(s != NULL, "a client connects");
	if (s) {
		CHECK_EQ(dafs_open(s, "/f", O_WRONLY | O_CREAT, 0644, &f), 0, "and opens a file");
		dafs_close(f);
		dafs_session_close(s);
	}
	/* Both workers run: the one that takes SIGTERM and the other. */
	status = fixture_stop(&fx);
	CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 0, "SIGTERM: the server exits 0");
	return check_done();
}
