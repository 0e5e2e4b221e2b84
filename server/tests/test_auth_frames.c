/* test_auth_frames.c — a real dafs-server with --keys (auth.h): sessions
 * without a key, with a key of a name it does not know or with the wrong
 * secret are refused with EACCES; a keyed session's frames with a bit
 * flipped in the header, the body or the inline data, a replayed frame,
 * and a frame that names the session from another authenticated client
 * are refused (the server's log says so) and change nothing, while the
 * session goes on working; a request of the session's own whose frame was
 * damaged fails at once with EBADMSG. */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "check.h"
#include "client.h"
#include "server_fixture.h"

static struct server_fixture fx;
static char dir[] = "/tmp/test-authf-XXXXXX";
static char log_path[128];

static void write_file(const char *path, const char *text)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600);

	if (fd < 0 || write(fd, text, strlen(text)) != (ssize_t)strlen(text)) {
		perror(path);
		exit(1);
	}
	close(fd);
}

/* A file in dir holding `text`, mode 0600; its path. */
static const char *key_file(const char *name, const char *text)
{
	static char paths[8][128];
	static unsigned n;
	char *p = paths[n++ % 8];

	snprintf(p, 128, "%s/%s", dir, name);
	write_file(p, text);
	return p;
}

static int open_with(const char *key, struct dafs_session **s)
{
	struct dafs_session_opts o = { .key_file = key, .timeout_ms = 3000 };
	int rc = -1;

	/* Retried while the server creates its endpoint; a refusal is final. */
	for (int i = 0; i < 100; i++) {
		rc = dafs_session_open(fx.url, key ? &o : NULL, s);
		if (rc == 0 || rc == -EACCES)
			return rc;
		usleep(50000);
	}
	return rc;
}

/* How many times the server's log holds `what`, waiting up to 2 s for
 * `want` of them. */
static int logged(const char *what, int want)
{
	int n = 0;

	for (int tries = 0; tries < 200; tries++) {
		char buf[1 << 16];
		FILE *f = fopen(log_path, "r");
		n = 0;
		while (f && fgets(buf, sizeof(buf), f))
			n += strstr(buf, what) != NULL;
		if (f)
			fclose(f);
		if (n >= want)
			break;
		usleep(10000);
	}
	return n;
}

/* The first 8 bytes of /f, read through a fresh open (no cached pages). */
static const char *contents(struct dafs_session *s)
{
	static char buf[9];
	struct dafs_file *f;

	memset(buf, 0, sizeof(buf));
	if (dafs_open(s, "/f", O_RDONLY, 0, &f) != 0)
		return "(no open)";
	if (dafs_pread(f, buf, 8, 0) != 8)
		strcpy(buf, "(short)");
	dafs_close(f);
	return buf;
}

/* OPEN /f and WRITE "EVIL" over its start, for session `id`, on the last
 * slot of s, sealed with s's key. Returns the sealed length. */
static size_t sealed_write(struct dafs_session *s, uint64_t id, uint8_t *buf)
{
	struct dafs_compound *rq = compound_alloc();
	unsigned slot = s->credits - 1;
	int len;

	rq->hdr.session = id;
	rq->hdr.slot = (uint16_t)slot;
	rq->hdr.seq = s->slots[slot].seq + 1;
	rq->hdr.credits = (uint16_t)s->credits;
	rq->nops = 2;
	rq->ops[0].opcode = DAFS_OP_OPEN;
	rq->ops[0].a.open = (struct dafs_args_open){ .dir = DAFS_FH_ROOT, .path = "/f",
						     .flags = DAFS_O_WRONLY };
	rq->ops[1].opcode = DAFS_OP_WRITE;
	rq->ops[1].a.io = (struct dafs_args_io){ .fh = DAFS_FH_CURRENT, .len = 4, .data = "EVIL" };
	len = dafs_encode_request(buf, client_msg_max(s), rq);
	compound_free(rq);
	if (len < 0)
		return 0;
	pthread_mutex_lock(&s->lock);
	size_t sealed = dafs_mac_seal(s->mac, buf, (size_t)len);
	pthread_mutex_unlock(&s->lock);
	return sealed;
}

/* The injected request took its slot's next sequence: the session's own
 * requests must not reuse it. */
static void slot_used(struct dafs_session *s)
{
	pthread_mutex_lock(&s->lock);
	s->slots[s->credits - 1].seq++;
	pthread_mutex_unlock(&s->lock);
}

static void send_flipped(struct dafs_session *s, const uint8_t *frame, size_t len, size_t at)
{
	uint8_t copy[1024];

	memcpy(copy, frame, len);
	copy[at] ^= 0x04;
	client_send_bytes(s, copy, len, false);
}

static ssize_t finish_status(struct dafs_req *req, struct dafs_reply *rep)
{
	if (!rep)
		return req->result;
	return rep->nres ? -rep->res[rep->nres - 1].status : -EPROTO;
}

/* A request of alice's own whose frame was damaged on the way fails at
 * once with EBADMSG (the server's unsealed refusal), not after a timeout. */
static void damaged_request(struct dafs_session *alice)
{
	static uint8_t frame[DAFS_MSG_MAX];
	size_t len = sealed_write(alice, alice->id, frame);
	unsigned slot = alice->credits - 1;
	struct dafs_req *req = NULL;

	if (!len || !req_new(alice, NULL, NULL, &req, finish_status)) {
		CHECK(0, "a request to damage is built");
		return;
	}
	frame[len - 1] ^= 0x01;                  /* the tag */
	pthread_mutex_lock(&alice->lock);
	alice->slots[slot].seq++;
	alice->slots[slot].req = req;
	req->slot = (int)slot;
	alice->slots_used++;
	alice->outstanding++;
	pthread_mutex_unlock(&alice->lock);
	client_send_bytes(alice, frame, len, false);
	CHECK_EQ(dafs_req_wait(req, 2000), -EBADMSG,
		 "a request whose frame was damaged fails at once with EBADMSG");
	CHECK(strcmp(contents(alice), "original") == 0, "and changes nothing");
}

static void tampering(struct dafs_session *alice, struct dafs_session *bob)
{
	static uint8_t frame[DAFS_MSG_MAX];
	uint8_t copy[1024];
	size_t len = sealed_write(alice, alice->id, frame);
	const uint8_t *data = memmem(frame, len, "EVIL", 4);
	struct dafs_file *f;

	CHECK(len > 0 && len < sizeof(copy) && data, "a sealed OPEN+WRITE frame is built");
	if (!len || len >= sizeof(copy) || !data)
		return;
	send_flipped(alice, frame, len, 10);                      /* header: credits */
	send_flipped(alice, frame, len, DAFS_HDR_SIZE + 8);       /* body: first op */
	send_flipped(alice, frame, len, (size_t)(data - frame));  /* inline data */
	CHECK_EQ(logged("bad MAC", 3), 3, "a bit flipped in header, body, inline data: 3 refusals");
	CHECK(strcmp(contents(alice), "original") == 0, "and the file is unchanged");

	memcpy(copy, frame, len);
	client_send_bytes(alice, copy, len, false);
	slot_used(alice);
	for (int i = 0; i < 200 && strcmp(contents(alice), "EVILinal") != 0; i++)
		usleep(10000);
	CHECK(strcmp(contents(alice), "EVILinal") == 0, "the same frame untouched is carried out");

	CHECK(dafs_open(alice, "/f", O_WRONLY, 0, &f) == 0 && dafs_pwrite(f, "orig", 4, 0) == 4 &&
	      dafs_close(f) == 0, "the file is put back");
	memcpy(copy, frame, len);
	client_send_bytes(alice, copy, len, false);
	CHECK_EQ(logged("replayed", 1), 1, "the frame sent again is refused as a replay");
	CHECK(strcmp(contents(alice), "original") == 0, "and changes nothing");

	/* Bob's sequence put ahead of alice's, so that the window (which an
	 * older sequence fails first) lets the frame reach the tag check. */
	pthread_mutex_lock(&bob->lock);
	bob->mac->tx_seq += 1000;
	pthread_mutex_unlock(&bob->lock);
	len = sealed_write(bob, alice->id, frame);
	memcpy(copy, frame, len);
	client_send_bytes(bob, copy, len, false);
	slot_used(bob);
	CHECK_EQ(logged("bad MAC", 4), 4,
		 "a frame naming alice's session from bob's, sealed with bob's key, is refused");
	CHECK(strcmp(contents(alice), "original") == 0, "and changes nothing");
	CHECK(strcmp(contents(bob), "original") == 0, "both sessions go on working");
}

int main(void)
{
	char alice_line[160], bob_line[160], carol_line[160], keys[400];
	struct dafs_session *alice = NULL, *bob = NULL, *s = NULL;
	const char *extra[] = { "--keys", NULL, NULL };
	int saved_stderr, log_fd;
	struct dafs_file *f;

	if (!mkdtemp(dir))
		return 1;
	if (dafs_keygen("alice", alice_line, sizeof(alice_line)) != 0 ||
	    dafs_keygen("bob", bob_line, sizeof(bob_line)) != 0 ||
	    dafs_keygen("carol", carol_line, sizeof(carol_line)) != 0)
		return 1;
	/* The test runs as root, and the keys are a trusted host's: without
	 * no_root_squash its requests would run as 65534 (creds.h). */
	snprintf(keys, sizeof(keys), "%.*s no_root_squash\n%.*s no_root_squash\n",
		 (int)strcspn(alice_line, "\n"), alice_line, (int)strcspn(bob_line, "\n"), bob_line);
	extra[1] = key_file("keys", keys);

	/* The server's log goes to a file the checks read. */
	snprintf(log_path, sizeof(log_path), "%s/server.log", dir);
	log_fd = open(log_path, O_WRONLY | O_CREAT | O_TRUNC | O_APPEND, 0600);
	saved_stderr = dup(2);
	snprintf(fx.export_dir, sizeof(fx.export_dir), "%s/export", dir);
	if (log_fd < 0 || saved_stderr < 0 || mkdir(fx.export_dir, 0700) != 0)
		return 1;
	dup2(log_fd, 2);
	int rc = fixture_spawn_args(&fx, "authf", extra);
	dup2(saved_stderr, 2);
	close(log_fd);
	if (rc != 0)
		return 1;

	CHECK_EQ(open_with(NULL, &s), -EACCES, "a session without a key is refused");
	CHECK_EQ(open_with(key_file("carol.key", carol_line), &s), -EACCES,
		 "a key of a name the server does not know is refused");
	char wrong[200];
	snprintf(wrong, sizeof(wrong), "alice %s", bob_line + 4);   /* bob's secret */
	CHECK_EQ(open_with(key_file("wrong.key", wrong), &s), -EACCES,
		 "alice's name with another secret is refused");
	CHECK_EQ(open_with(key_file("alice.key", alice_line), &alice), 0, "alice's key opens a session");
	CHECK_EQ(open_with(key_file("bob.key", bob_line), &bob), 0, "bob's key opens a session");
	if (!alice || !bob)
		return check_done();
	CHECK(dafs_open(alice, "/f", O_WRONLY | O_CREAT, 0644, &f) == 0 &&
	      dafs_pwrite(f, "original", 8, 0) == 8 && dafs_close(f) == 0,
	      "alice writes through her sealed session");
	CHECK(strcmp(contents(bob), "original") == 0, "bob reads it through his");

	tampering(alice, bob);
	damaged_request(alice);

	CHECK_EQ(dafs_session_close(alice), 0, "alice's session closes");
	CHECK_EQ(dafs_session_close(bob), 0, "bob's session closes");
	CHECK(WIFEXITED(fixture_stop(&fx)), "the server exits cleanly");
	if (check_failed && fork() == 0) {   /* the server's log, to see why */
		execlp("cat", "cat", log_path, (char *)NULL);
		_exit(127);
	}
	wait(NULL);
	if (fork() == 0) {
		execlp("rm", "rm", "-rf", dir, (char *)NULL);
		_exit(127);
	}
	wait(NULL);
	return check_done();
}
