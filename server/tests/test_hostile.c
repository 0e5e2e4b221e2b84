/* test_hostile.c — a real dafs-server under hostile input: malformed frames,
 * random bytes, forged sessions, handles and slots, RMA descriptors that
 * point nowhere, and requests over every limit. The server must answer each
 * with an error (or drop it), keep serving, and leave the export intact. */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "check.h"
#include "client.h"
#include "server_fixture.h"

static struct server_fixture fx;

static ssize_t finish_first(struct dafs_req *req, struct dafs_reply *rep)
{
	if (!rep)
		return req->result;
	return rep->nres ? -rep->res[0].status : -EPROTO;
}

/* Runs one hand-built request through the normal slot machinery. */
static ssize_t run_raw_request(struct dafs_session *s, struct dafs_compound *rq)
{
	struct dafs_req *req = NULL;

	if (!req_new(s, NULL, NULL, &req, finish_first))
		return -ENOMEM;
	return req_run(req, rq);
}

static struct dafs_compound *one_op(uint16_t opcode)
{
	struct dafs_compound *rq = compound_alloc();

	rq->nops = 1;
	rq->ops[0].opcode = opcode;
	return rq;
}

static bool still_serving(struct dafs_session *s)
{
	struct stat st;

	return dafs_stat(s, "/", &st, 0) == 0 && S_ISDIR(st.st_mode);
}

static void test_garbage_frames(struct dafs_session *s)
{
	uint8_t frame[4096];
	unsigned seed = 1234;

	/* Random bytes, and random bytes behind a valid-looking header for our
	 * session and for sessions that do not exist. */
	for (int i = 0; i < 2000; i++) {
		size_t len = (size_t)(rand_r(&seed) % sizeof(frame));
		for (size_t j = 0; j < len; j++)
			frame[j] = (uint8_t)rand_r(&seed);
		if (i % 2 && len >= DAFS_HDR_SIZE) {
			struct dafs_hdr h = { .magic = DAFS_MAGIC, .version = DAFS_VERSION,
					      .slot = (uint16_t)rand_r(&seed),
					      .seq = (uint32_t)rand_r(&seed),
					      .body_len = (uint32_t)(len - DAFS_HDR_SIZE),
					      .session = i % 4 == 1 ? s->id : (uint64_t)rand_r(&seed) };
			memcpy(frame, &h, sizeof(h));   /* little-endian host: the wire layout */
		}
		if (client_send_raw(s, frame, len) != 0)
			break;
	}
	CHECK(still_serving(s), "the server still serves after 2,000 garbage frames");
}

static void test_forged_fields(struct dafs_session *s)
{
	struct dafs_compound *rq;
	static char buf[1 << 20];

	rq = one_op(DAFS_OP_READ);
	rq->ops[0].a.io = (struct dafs_args_io){ .fh = 0x1234500000007ull, .len = 16 };
	CHECK_EQ(run_raw_request(s, rq), -EBADF, "a forged handle is EBADF");

	rq = one_op(DAFS_OP_CLOSE);
	rq->ops[0].a.fh.fh = DAFS_FH_CURRENT;
	CHECK_EQ(run_raw_request(s, rq), -EBADF, "CURRENT with nothing current is EBADF");

	rq = one_op(DAFS_OP_SESSION_OPEN);
	rq->ops[0].a.session_open.name = "again";
	rq->nops = 2;
	rq->ops[1].opcode = DAFS_OP_NULL;
	CHECK_EQ(run_raw_request(s, rq), -EINVAL, "SESSION_OPEN inside a compound is refused");

	/* A direct read whose segment names memory the client never registered
	 * with the server is refused before any RDMA is tried. */
	struct dafs_file *f;
	CHECK_EQ(dafs_open(s, "/data", O_RDWR | O_CREAT, 0644, &f), 0, "open /data");
	CHECK_EQ(dafs_pwrite(f, buf, sizeof(buf), 0), (ssize_t)sizeof(buf), "write 1 MiB");
	rq = one_op(DAFS_OP_READ);
	rq->ops[0].a.io = (struct dafs_args_io){ .fh = f->fh, .len = 65536, .nsegs = 1,
		.segs = { { .addr = 0x10, .key = 0x5eed, .len = 65536 } } };
	CHECK_EQ(run_raw_request(s, rq), -EFAULT, "a read into unregistered client memory is EFAULT");
	rq = one_op(DAFS_OP_WRITE);
	rq->ops[0].a.io = (struct dafs_args_io){ .fh = f->fh, .len = 65536, .nsegs = 1,
		.segs = { { .addr = 0x10, .key = 0x5eed, .len = 65536 } } };
	CHECK_EQ(run_raw_request(s, rq), -EFAULT, "a write from unregistered client memory is EFAULT");
	struct stat st;
	CHECK(dafs_fstat(f, &st) == 0 && st.st_size == (off_t)sizeof(buf),
	      "the failed write left the file as it was");
	dafs_close(f);

	rq = one_op(DAFS_OP_READDIR);
	rq->ops[0].a.readdir = (struct dafs_args_readdir){ .fh = DAFS_FH_ROOT };
	CHECK_EQ(run_raw_request(s, rq), -ENOTDIR, "readdir wants an opened directory handle");

	rq = one_op(DAFS_OP_OPEN);
	rq->ops[0].a.open = (struct dafs_args_open){ .path = "../../etc/passwd" };
	CHECK_EQ(run_raw_request(s, rq), -EACCES, "a path climbing out is refused");
	CHECK(still_serving(s), "the server still serves after forged requests");
}

/* A CONNECT from the address of a live session (a client that lost track,
 * or a hostile one): the server inserts that address into its address
 * vector a second time and removes it after the reply. Over shm, libfabric
 * must not lose the session's own entry to that removal (it crashed the
 * server on the session's next reply). */
static void test_connect_from_live_session(struct dafs_session *s)
{
	static uint8_t frame[DAFS_MSG_MAX];
	uint8_t name[DAFS_ADDR_MAX];
	size_t name_len = sizeof(name);
	struct dafs_compound *rq = one_op(DAFS_OP_CONNECT);
	int len;

	CHECK_EQ(dafs_fabric_getname(s->fab, name, &name_len), 0, "our own fabric name");
	rq->hdr.flags = DAFS_HF_NOSLOT;
	rq->ops[0].a.connect = (struct dafs_args_connect){ name, (uint32_t)name_len, 0 };
	len = dafs_encode_request(frame, sizeof(frame), rq);
	compound_free(rq);
	CHECK(len > 0, "CONNECT encoded");
	for (int i = 0; i < 3 && len > 0; i++) {
		CHECK_EQ(client_send_raw(s, frame, (size_t)len), 0, "CONNECT %d sent", i + 1);
		usleep(50 * 1000);
		CHECK(still_serving(s), "the session is served after CONNECT %d from its address",
		      i + 1);
	}
	CHECK(fixture_alive(&fx), "the server survived CONNECTs from a live session's address");
}

/* Drops an exported file's pages from the server's page cache (it runs on
 * this host): 0 or an errno. */
static int drop_export_cache(struct server_fixture *f, const char *name)
{
	char path[128];
	int fd, rc;

	snprintf(path, sizeof(path), "%s/%s", f->export_dir, name);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return errno;
	rc = posix_fadvise(fd, 0, 0, POSIX_FADV_DONTNEED);
	close(fd);
	return rc;
}

/* A segment inside memory the client did register with the server, but
 * which is not mapped any more: the checks pass, the RDMA write itself fails.
 * The read must come back as an error, never as success with the data
 * missing, whether the file's pages were in the server's page cache (the
 * write is posted at once) or not (after io_uring). */
static void test_rma_failure(struct dafs_session *s)
{
	size_t page = (size_t)sysconf(_SC_PAGESIZE);
	struct dafs_compound *rq;
	struct dafs_file *f;
	static char buf[65536];
	void *gone = mmap(NULL, 2 * page, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS,
			  -1, 0);

	CHECK(gone != MAP_FAILED, "map two pages");
	if (gone == MAP_FAILED)
		return;
	munmap(gone, 2 * page);
	memset(buf, 'x', sizeof(buf));
	CHECK_EQ(dafs_open(s, "/rma", O_RDWR | O_CREAT, 0644, &f), 0, "open /rma");
	CHECK_EQ(dafs_pwrite(f, buf, sizeof(buf), 0), (ssize_t)sizeof(buf), "write 64 KiB");
	rq = one_op(DAFS_OP_REGISTER);
	rq->ops[0].a.region = (struct dafs_args_region){ .addr = (uintptr_t)gone,
							 .len = 2 * page, .key = 0x5eed };
	CHECK_EQ(run_raw_request(s, rq), 0, "register the unmapped pages");
	for (int i = 0; i < 2; i++) {
		ssize_t rc;

		if (i == 1)   /* the second time from the disk, through io_uring */
			CHECK_EQ(dafs_fsync(f, 0), 0, "fsync /rma");
		if (i == 1)
			CHECK_EQ(drop_export_cache(&fx, "rma"), 0, "drop /rma from the page cache");
		rq = one_op(DAFS_OP_READ);
		rq->ops[0].a.io = (struct dafs_args_io){ .fh = f->fh, .len = (uint32_t)page,
			.nsegs = 1, .segs = { { .addr = (uintptr_t)gone, .key = 0x5eed,
						.len = (uint32_t)page } } };
		rc = run_raw_request(s, rq);
		CHECK(rc < 0, "a read whose RDMA write fails is an error (%s)",
		      i ? "cold" : "cached");
	}
	dafs_close(f);
	CHECK(still_serving(s), "the server still serves after failed RDMA writes");
}

/* LINK of a handle (path1 ""): names an O_TMPFILE file, stays beneath the
 * export, and refuses what link(2) refuses. */
static void test_link_handle(struct dafs_session *s)
{
	struct dafs_compound *rq;
	struct dafs_file *f;
	struct stat st;
	char path[160];

	CHECK_EQ(dafs_open(s, "/", O_TMPFILE | O_RDWR, 0600, &f), 0, "O_TMPFILE in the root");
	CHECK_EQ(dafs_pwrite(f, "unnamed", 7, 0), 7, "write the unnamed file");
	CHECK(dafs_fstat(f, &st) == 0 && st.st_nlink == 0, "it has no name: nlink 0");
	rq = one_op(DAFS_OP_LINK);
	rq->ops[0].a.two = (struct dafs_args_two_paths){ .dir1 = f->fh, .path1 = "",
		.dir2 = DAFS_FH_ROOT, .path2 = "../../escaped" };
	CHECK_EQ(run_raw_request(s, rq), -EACCES, "a new name climbing out is refused");
	snprintf(path, sizeof(path), "%s/../escaped", fx.export_dir);
	CHECK(access(path, F_OK) != 0, "nothing appeared beside the export");
	CHECK_EQ(dafs_link_file(f, "/named"), 0, "LINK of the handle names it");
	CHECK(dafs_stat(s, "/named", &st, 0) == 0 && st.st_size == 7 && st.st_nlink == 1,
	      "the name leads to the file");
	CHECK_EQ(dafs_link_file(f, "/named"), -EEXIST, "an existing name: EEXIST");
	dafs_close(f);
	rq = one_op(DAFS_OP_LINK);
	rq->ops[0].a.two = (struct dafs_args_two_paths){ .dir1 = DAFS_FH_ROOT, .path1 = "",
		.dir2 = DAFS_FH_ROOT, .path2 = "root-again" };
	CHECK_EQ(run_raw_request(s, rq), -EPERM, "LINK of the export root: EPERM");
	rq = one_op(DAFS_OP_LINK);
	rq->ops[0].a.two = (struct dafs_args_two_paths){ .dir1 = 0x7777, .path1 = "",
		.dir2 = DAFS_FH_ROOT, .path2 = "nothing" };
	CHECK_EQ(run_raw_request(s, rq), -EBADF, "LINK of a handle that does not exist: EBADF");
	CHECK_EQ(dafs_open(s, "/", O_TMPFILE | O_RDWR | O_EXCL, 0600, &f), 0, "O_TMPFILE|O_EXCL");
	CHECK_EQ(dafs_link_file(f, "/never"), -ENOENT, "an O_EXCL unnamed file cannot be named");
	dafs_close(f);
}

int main(void)
{
	struct dafs_session *s;
	int status;

	alarm(120);
	CHECK_EQ(fixture_start(&fx, "hostile"), 0, "server started");
	s = fixture_connect(&fx);
	CHECK(s != NULL, "session opened");
	if (s) {
		test_garbage_frames(s);
		test_forged_fields(s);
		test_rma_failure(s);
		test_link_handle(s);
		test_connect_from_live_session(s);
		CHECK(fixture_alive(&fx), "the server process is alive");
		dafs_session_close(s);
	}
	status = fixture_stop(&fx);
	CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 0, "server exits 0 on SIGTERM");
	return check_done();
}
