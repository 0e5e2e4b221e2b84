/* test_replay.c — exactly-once against a real dafs-server: a request sent
 * twice with the same (slot, seq) gets the cached reply and runs once; also
 * credits, chaining, batch I/O and the completion-group waits.
 *
 * Starts build/dafs-server (the one beside this binary's directory) on a
 * private shm name and export directory, and stops it with SIGTERM. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "check.h"
#include "client.h"
#include "server_fixture.h"

static struct server_fixture fx;

static ssize_t finish_first_status(struct dafs_req *req, struct dafs_reply *rep)
{
	if (!rep)
		return req->result;
	if (rep->res[0].status)
		return -rep->res[0].status;
	return rep->res[0].opcode == DAFS_OP_WRITE ? (ssize_t)rep->res[0].r.write.count : 0;
}

/* Sends the last request of the session again, unchanged. */
static ssize_t replay_last(struct dafs_session *s)
{
	struct dafs_req *req = NULL;

	if (!req_new(s, NULL, NULL, &req, finish_first_status))
		return -ENOMEM;
	int rc = client_resend_slot(req, s->last_slot);
	if (rc) {
		req_free(req);
		return rc;
	}
	return dafs_req_wait(req, 5000);
}

static void test_exactly_once(struct dafs_session *s)
{
	struct dafs_file *f;
	struct stat st;
	char path[PATH_MAX];

	CHECK_EQ(dafs_mkdir(s, "/d", 0755), 0, "mkdir runs");
	CHECK_EQ(replay_last(s), 0, "the same mkdir again is answered from the cache, not EEXIST");
	CHECK_EQ(dafs_mkdir(s, "/d", 0755), -EEXIST, "a new mkdir of the same name is EEXIST");

	CHECK_EQ(dafs_open(s, "/log", O_WRONLY | O_CREAT | O_APPEND, 0644, &f), 0, "open append");
	CHECK_EQ(dafs_append(f, "abc", 3, NULL), 3, "append 3 bytes");
	CHECK_EQ(replay_last(s), 3, "the replayed append reports its 3 bytes");
	CHECK_EQ(dafs_stat(s, "/log", &st, 0), 0, "stat");
	CHECK_EQ(st.st_size, 3, "the append ran once: 3 bytes, not 6");
	snprintf(path, sizeof(path), "%s/log", fx.export_dir);
	CHECK(stat(path, &st) == 0 && st.st_size == 3, "the exported file has 3 bytes");
	CHECK_EQ(dafs_close(f), 0, "close");
	CHECK_EQ(dafs_unlink(s, "/log"), 0, "unlink");
	CHECK_EQ(replay_last(s), 0, "the replayed unlink is answered from the cache, not ENOENT");
}

static void test_async(struct dafs_session *s)
{
	struct dafs_file *f, *g = NULL;
	struct dafs_cg *cg;
	struct dafs_event ev[64];
	static char data[64][4096], back[64][4096];
	struct dafs_batch_item items[8];
	char buf[32];
	int n = 0;

	CHECK(s->credits == 32, "32 credits granted");
	CHECK_EQ(dafs_open(s, "/async", O_RDWR | O_CREAT | O_TRUNC, 0644, &f), 0, "open");
	CHECK_EQ(dafs_cg_create(s, &cg), 0, "completion group");
	/* More requests than credits: submission waits for a free slot. */
	for (int i = 0; i < 64; i++) {
		memset(data[i], 'a' + i % 26, sizeof(data[i]));
		if (dafs_write_async(f, data[i], 4096, (off_t)i * 4096, cg, (void *)(long)i, NULL) == 0)
			n++;
	}
	CHECK_EQ(n, 64, "64 writes submitted through 32 credits");
	CHECK_EQ(dafs_cg_wait_n(cg, 64, ev, 64, 10000), 64, "wait for all 64");
	n = 0;
	for (int i = 0; i < 64; i++)
		n += ev[i].result == 4096;
	CHECK_EQ(n, 64, "every write wrote 4096 bytes");
	for (int i = 0; i < 64; i++)
		dafs_read_async(f, back[i], 4096, (off_t)i * 4096, cg, (void *)(long)i, NULL);
	n = 0;
	for (int i = 0; i < 64; i++) {
		CHECK_EQ(dafs_cg_wait_any(cg, 10000, &ev[0]), 1, "wait any %d", i);
		long k = (long)ev[0].user;
		n += ev[0].result == 4096 && memcmp(back[k], data[k], 4096) == 0;
	}
	CHECK_EQ(n, 64, "every read returned its block");
	CHECK_EQ(dafs_cg_wait_any(cg, 0, &ev[0]), -ENOENT, "an empty group says so");
	CHECK_EQ(dafs_cg_destroy(cg), 0, "group destroyed");

	/* Batch: reads and writes in one request, one failure does not stop the rest. */
	for (int i = 0; i < 8; i++)
		items[i] = (struct dafs_batch_item){ .file = f, .is_write = i < 4, .buf = back[i],
						     .len = 4096, .off = (off_t)(i % 4) * 4096 };
	memset(back[0], 'X', 4096);
	items[5].off = 1 << 30;   /* beyond the end: a short (empty) read, not an error */
	CHECK_EQ(dafs_batch(s, items, 8), 8, "batch of 8 all ran");
	CHECK(items[0].result == 4096 && items[4].result == 4096 && memcmp(back[4], back[0], 4096) == 0,
	      "a batch read sees the batch's earlier write");
	CHECK_EQ(items[5].result, 0, "a read past the end reads 0 bytes");

	/* Chaining: lookup -> open -> read in one request. */
	CHECK_EQ(dafs_open_read(s, "/async", buf, sizeof(buf), 0, &g), (ssize_t)sizeof(buf),
		 "chained lookup-open-read");
	CHECK(g && memcmp(buf, back[0], sizeof(buf)) == 0, "the chain read the data");
	if (g)
		dafs_close(g);
	CHECK_EQ(dafs_open_read(s, "/nope/x", buf, sizeof(buf), 0, &g), -ENOENT,
		 "a chain stops at the first failure");
	dafs_close(f);
}

/* Every kind of operation can go asynchronously through one group. */
static void test_async_names(struct dafs_session *s)
{
	struct dafs_cg *cg;
	struct dafs_event ev[8];
	struct dafs_file *f = NULL;
	struct stat st, lst;
	struct statvfs sv;
	struct flock fl = { .l_type = F_WRLCK, .l_whence = SEEK_SET };
	char link[64];
	int n, ok;

	CHECK_EQ(dafs_cg_create(s, &cg), 0, "group");
	CHECK_EQ(dafs_open_async(s, "/an", O_RDWR | O_CREAT, 0600, &f, cg, NULL, NULL), 0,
		 "open async");
	CHECK_EQ(dafs_cg_wait_any(cg, 5000, &ev[0]), 1, "open completes");
	CHECK(ev[0].result == 0 && f != NULL, "open async made a file");
	dafs_fstat_async(f, &st, cg, (void *)1, NULL);
	dafs_ftruncate_async(f, 12345, cg, (void *)2, NULL);
	dafs_symlink_async(s, "an", "/an.link", cg, (void *)3, NULL);
	dafs_statvfs_async(s, &sv, cg, (void *)4, NULL);
	dafs_lock_async(f, F_SETLK, &fl, 77, cg, (void *)5, NULL);
	n = dafs_cg_wait_n(cg, 5, ev, 8, 5000);
	ok = 0;
	for (int i = 0; i < n; i++)
		ok += ev[i].result == 0;
	CHECK(n == 5 && ok == 5, "five different async operations completed (%d, %d ok)", n, ok);
	CHECK(S_ISREG(st.st_mode) && sv.f_bsize > 0, "their outputs were filled in");
	CHECK_EQ(f->nlock_owners, 1, "the async lock's owner is remembered for close");
	dafs_readlink_async(s, "/an.link", link, sizeof(link), cg, NULL, NULL);
	dafs_stat_async(s, "/an.link", &lst, AT_SYMLINK_NOFOLLOW, cg, NULL, NULL);
	n = dafs_cg_wait_n(cg, 2, ev, 8, 5000);
	CHECK(n == 2 && S_ISLNK(lst.st_mode), "readlink and lstat async");
	CHECK(dafs_stat(s, "/an", &st, 0) == 0 && st.st_size == 12345, "async truncate took effect");
	CHECK_EQ(dafs_close_async(f, cg, NULL, NULL), 0, "close async");
	CHECK_EQ(dafs_cg_wait_any(cg, 5000, &ev[0]), 1, "close completes");
	CHECK_EQ(ev[0].result, 0, "close succeeded");
	CHECK_EQ(dafs_cg_destroy(cg), 0, "group destroyed");
}

/* The server forgets a session's peer when the session ends: shm's address
 * vector holds 256 peers, and a long-lived server sees far more clients. */
static void test_many_sessions(void)
{
	int opened = 0;

	for (int i = 0; i < 300; i++) {
		struct dafs_session *s = NULL;
		struct stat st;
		if (dafs_session_open(fx.url, NULL, &s) != 0)
			break;
		opened += dafs_stat(s, "/", &st, 0) == 0;
		dafs_session_close(s);
	}
	CHECK_EQ(opened, 300, "300 sessions one after another all served");
}

int main(void)
{
	struct dafs_session *s;
	int status;

	alarm(60);
	CHECK_EQ(fixture_start(&fx, "replay"), 0, "server started");
	s = fixture_connect(&fx);
	CHECK(s != NULL, "session opened on %s", fx.url);
	if (s) {
		test_exactly_once(s);
		test_async(s);
		test_async_names(s);
		CHECK_EQ(dafs_session_close(s), 0, "session closed");
		test_many_sessions();
	}
	status = fixture_stop(&fx);
	CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 0, "server exits 0 on SIGTERM");
	return check_done();
}
