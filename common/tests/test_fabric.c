/* test_fabric.c — fabric.c against real providers: shm and tcp;ofi_rxm on
 * 127.0.0.1. Each provider gets three processes: server S1 (hello, RMA, flood,
 * close and reopen in place, then dies without closing), server S2 (takes the
 * same URL the moment S1 is gone) and a client. Fabric objects do not survive
 * fork(), so the parent never opens one; children report their checks over a
 * pipe and the parent turns them into TAP lines. Every wait is bounded, and
 * every child has an alarm. */
#include "check.h"
#include "fabric.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdint.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define MiB (1u << 20)
#define RMA_OFF 4096u          /* the exchanged window starts inside the region */
#define REGION_LEN (MiB + 2 * RMA_OFF)
#define NRECV 64
#define MSG_SLOT 512
#define FLOOD_N 4000
#define CHILD_ALARM 25

enum msg_type { M_HELLO = 1, M_ACK, M_RMA_DONE, M_FLOOD, M_FLOOD_DONE, M_BYE, M_PING, M_PONG };
#define NPING 20

/* Flood messages are only FLOOD_LEN bytes: what they use comes first. */
struct msg {
	uint32_t magic;
	uint32_t type;
	uint32_t seq;
	uint32_t namelen;
	uint64_t sent_ns;        /* CLOCK_MONOTONIC is system-wide: comparable across processes */
	uint64_t w_addr, w_key, w_len;
	uint64_t r_addr, r_key, r_len;
	uint8_t name[256];
};
#define FLOOD_LEN 64
#define MAGIC 0xdaf5f00du

/* ---- reporting from children: "1|text", "0|text" or "#|text" lines ---- */

static int report_fd = -1;
static const char *role = "parent";

static void report_line(char tag, const char *text)
{
	char out[1024];
	int n = snprintf(out, sizeof(out), "%c|%s: %s\n", tag, role, text);

	if (n < 0)
		return;
	if (n > (int)sizeof(out) - 1) {
		n = (int)sizeof(out) - 1;
		out[n - 1] = '\n';
	}
	/* One write under PIPE_BUF, so lines from several children do not mix. */
	if (write(report_fd, out, (size_t)n) < 0)
		_exit(3);
}

static void __attribute__((format(printf, 4, 5)))
tcheck_(int ok, int line, const char *expr, const char *fmt, ...)
{
	char text[900];
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(text, sizeof(text), fmt, ap);
	va_end(ap);
	if (!ok && n >= 0 && (size_t)n < sizeof(text))
		snprintf(text + n, sizeof(text) - (size_t)n, " [line %d: %s]", line, expr);
	report_line(ok ? '1' : '0', text);
}
#define TCHECK(cond, ...) tcheck_(!!(cond), __LINE__, #cond, __VA_ARGS__)

static void __attribute__((format(printf, 1, 2))) note(const char *fmt, ...)
{
	char text[900];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(text, sizeof(text), fmt, ap);
	va_end(ap);
	report_line('#', text);
}

/* ---- time and small helpers ---- */

static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static double ms_since(uint64_t t0)
{
	return (double)(now_ns() - t0) / 1e6;
}

static uint8_t pat_a(size_t i) { return (uint8_t)(i * 31u + 7u); }
static uint8_t pat_b(size_t i) { return (uint8_t)((i * 13u + 101u) ^ (i >> 8)); }

/* Waits for one byte on a pipe; returns it, 0 on EOF, -1 on timeout. */
static int pipe_wait(int fd, int timeout_ms)
{
	struct pollfd p = { .fd = fd, .events = POLLIN };
	char c;

	if (poll(&p, 1, timeout_ms) <= 0)
		return -1;
	if (read(fd, &c, 1) != 1)
		return 0;
	return (unsigned char)c;
}

static void pipe_say(int fd, char c)
{
	if (write(fd, &c, 1) != 1)
		_exit(4);
}

static void *xaligned(size_t len)
{
	void *p = NULL;

	if (posix_memalign(&p, 4096, len))
		_exit(5);
	memset(p, 0, len);
	return p;
}

/* ---- operations ---- */

struct op {
	struct dafs_fabric_ctx ctx;
	int done;
	int status;
	size_t len;
	enum dafs_completion_kind kind;
	unsigned long order;     /* completion sequence: receive slots finish out of index order */
};

static void op_init(struct op *o)
{
	memset(o, 0, sizeof(*o));
	o->ctx.owner = o;
}

static int bad_completions;
static unsigned long completion_seq;

static int pump(struct dafs_fabric *f)
{
	struct dafs_completion c[16];
	int n = dafs_fabric_poll(f, c, 16);

	for (int i = 0; i < n; i++) {
		struct op *o;
		if (!c[i].ctx || !c[i].ctx->owner) {
			bad_completions++;
			continue;
		}
		o = c[i].ctx->owner;
		o->done = 1;
		o->status = c[i].status;
		o->len = c[i].len;
		o->kind = c[i].kind;
		o->order = ++completion_seq;
	}
	return n;
}

/* Drives progress until `o` completes: 0, -ETIMEDOUT, or a poll error. */
static int wait_op(struct dafs_fabric *f, struct op *o, int timeout_ms)
{
	uint64_t t0 = now_ns();

	while (!o->done) {
		int n = pump(f);
		double left;
		if (n < 0)
			return n;
		if (o->done || n > 0)
			continue;
		left = timeout_ms - ms_since(t0);
		if (left <= 0)
			return -ETIMEDOUT;
		dafs_fabric_wait(f, left > 100 ? 100 : (int)left + 1);
	}
	return 0;
}

/* Posts, and on -EAGAIN polls (as callers must) and posts again, for at most
 * 5 s. Counts the -EAGAINs seen. */
#define POST_RETRY(f, eagains, call) ({                                         \
	int r_;                                                                  \
	uint64_t t_ = now_ns();                                                  \
	while ((r_ = (call)) == -EAGAIN && ms_since(t_) < 5000) {                \
		(eagains)++;                                                     \
		pump(f);                                                         \
	}                                                                        \
	r_;                                                                      \
})

/* ---- the two sides ---- */

struct side {
	struct dafs_url url;
	const char *want_prov;
	struct dafs_fabric *f;
	struct dafs_mr rmr;      /* NRECV receive slots */
	uint8_t *rbuf;
	struct op rop[NRECV];
	struct dafs_mr smr;      /* one send slot */
	uint8_t *sbuf;
	long eagains;
};

static int post_slot(struct side *s, int i)
{
	op_init(&s->rop[i]);
	return POST_RETRY(s->f, s->eagains,
			  dafs_fabric_post_recv(s->f, s->rbuf + (size_t)i * MSG_SLOT, MSG_SLOT,
						s->rmr.desc, &s->rop[i].ctx));
}

static int side_setup(struct side *s)
{
	int ret;

	s->rbuf = xaligned((size_t)NRECV * MSG_SLOT);
	s->sbuf = xaligned(MSG_SLOT);
	ret = dafs_fabric_mr_reg(s->f, s->rbuf, (size_t)NRECV * MSG_SLOT, DAFS_MR_LOCAL, &s->rmr);
	if (ret)
		return ret;
	ret = dafs_fabric_mr_reg(s->f, s->sbuf, MSG_SLOT, DAFS_MR_LOCAL, &s->smr);
	if (ret)
		return ret;
	for (int i = 0; i < NRECV; i++) {
		ret = post_slot(s, i);
		if (ret)
			return ret;
	}
	return 0;
}

static void side_teardown(struct side *s)
{
	if (s->rmr.mr)
		dafs_fabric_mr_dereg(&s->rmr);
	if (s->smr.mr)
		dafs_fabric_mr_dereg(&s->smr);
	dafs_fabric_close(s->f);
	s->f = NULL;
	free(s->rbuf);
	free(s->sbuf);
	s->rbuf = s->sbuf = NULL;
}

/* Waits for the next received message (any slot), reposting the slot after
 * copying the message out. Blocks in dafs_fabric_wait with a long timeout, so
 * a wait that does not wake shows up as a late message. */
static int recv_msg(struct side *s, struct msg *m, int timeout_ms, int wait_slice_ms)
{
	uint64_t t0 = now_ns();

	for (;;) {
		int n, i = -1;
		for (int j = 0; j < NRECV; j++)
			if (s->rop[j].done && (i < 0 || s->rop[j].order < s->rop[i].order))
				i = j;
		if (i >= 0) {
			if (s->rop[i].status) {
				int st = s->rop[i].status;
				post_slot(s, i);
				return st;
			}
			memset(m, 0, sizeof(*m));
			memcpy(m, s->rbuf + (size_t)i * MSG_SLOT,
			       s->rop[i].len < sizeof(*m) ? s->rop[i].len : sizeof(*m));
			return post_slot(s, i);
		}
		n = pump(s->f);
		if (n < 0)
			return n;
		if (n == 0) {
			double left = timeout_ms - ms_since(t0);
			if (left <= 0)
				return -ETIMEDOUT;
			dafs_fabric_wait(s->f, left < wait_slice_ms ? (int)left + 1 : wait_slice_ms);
		}
	}
}

static int send_msg(struct side *s, fi_addr_t peer, const struct msg *m)
{
	struct op o;
	int ret;

	memcpy(s->sbuf, m, sizeof(*m));
	op_init(&o);
	ret = POST_RETRY(s->f, s->eagains,
			 dafs_fabric_send(s->f, peer, s->sbuf, sizeof(*m), s->smr.desc, &o.ctx));
	if (ret)
		return ret;
	ret = wait_op(s->f, &o, 5000);
	return ret ? ret : o.status;
}

static int open_side(struct side *s, bool listen)
{
	int ret = dafs_fabric_open(&s->url, listen, &s->f);

	if (ret)
		return ret;
	return side_setup(s);
}

/* Serves one hello: replies M_ACK. Returns the peer through *peer. */
static void serve_hello(struct side *s, const char *what, fi_addr_t *peer, int wait_slice_ms)
{
	struct msg m, ack;
	int ret = recv_msg(s, &m, 8000, wait_slice_ms);

	TCHECK(ret == 0 && m.magic == MAGIC && m.type == M_HELLO,
	       "%s: hello received (ret %d, type %u)", what, ret, m.type);
	if (ret)
		return;
	ret = dafs_fabric_av_insert(s->f, m.name, peer);
	TCHECK(ret == 0, "%s: av_insert of the client's getname address (ret %d)", what, ret);
	if (ret)
		return;
	memset(&ack, 0, sizeof(ack));
	ack.magic = MAGIC;
	ack.type = M_ACK;
	ack.seq = m.seq;
	ret = send_msg(s, *peer, &ack);
	TCHECK(ret == 0, "%s: ack sent (ret %d)", what, ret);
}

static void server_s1(const char *urlstr, int ready_fd)
{
	struct side s;
	struct msg m, hello;
	fi_addr_t peer = FI_ADDR_NOTAVAIL;
	uint8_t *wsrc, *rdst;
	struct dafs_mr wmr, rdmr;
	struct op o;
	uint64_t t0;
	int ret, got;

	memset(&s, 0, sizeof(s));
	role = "S1";
	ret = dafs_url_parse(urlstr, &s.url);
	ret = ret ? ret : open_side(&s, true);
	TCHECK(ret == 0, "listening endpoint opened on %s (ret %d)", urlstr, ret);
	if (ret)
		_exit(1);
	note("provider %s, max_msg %zu, max_rma %zu, wait fd %d", dafs_fabric_provider(s.f),
	     dafs_fabric_max_msg(s.f), dafs_fabric_max_rma(s.f), dafs_fabric_wait_fd(s.f));

	/* An idle wait with an fd must block for the timeout; without one it
	 * naps about a millisecond. */
	t0 = now_ns();
	ret = dafs_fabric_wait(s.f, 200);
	{
		double el = ms_since(t0);
		if (dafs_fabric_wait_fd(s.f) >= 0)
			TCHECK(ret == 0 && el >= 100 && el < 1000,
			       "idle wait with an fd blocks ~200 ms (%.1f ms)", el);
		else
			TCHECK(ret == 0 && el < 100, "idle wait without an fd naps briefly (%.2f ms)", el);
	}
	pipe_say(ready_fd, 'R');

	/* Hello, waited for with one long blocking wait: the client sends it
	 * 300 ms after our ready. */
	ret = recv_msg(&s, &m, 8000, 5000);
	{
		double lat = (double)(now_ns() - m.sent_ns) / 1e6;
		TCHECK(ret == 0 && m.magic == MAGIC && m.type == M_HELLO,
		       "hello received (ret %d)", ret);
		TCHECK(ret == 0 && lat < 1000,
		       "blocking wait (5 s slices) woke for the first message: %.2f ms after send",
		       lat);
		note("first message latency incl. connection setup: %.2f ms", lat);
	}
	if (ret)
		_exit(1);
	hello = m;
	ret = dafs_fabric_av_insert(s.f, m.name, &peer);
	TCHECK(ret == 0, "av_insert of the client's getname address (ret %d)", ret);
	{
		struct msg ack = { .magic = MAGIC, .type = M_ACK, .sent_ns = now_ns() };
		ret = send_msg(&s, peer, &ack);
		TCHECK(ret == 0, "ack sent (ret %d)", ret);
	}

	/* Ping-pong, each side blocked in dafs_fabric_wait (5 s slices) while
	 * the other's message is on its way. */
	got = 0;
	for (int i = 0; i < NPING; i++) {
		struct msg pong = { .magic = MAGIC, .type = M_PONG };
		ret = recv_msg(&s, &m, 8000, 5000);
		if (ret || m.type != M_PING)
			break;
		pong.seq = m.seq;
		if (send_msg(&s, peer, &pong))
			break;
		got++;
	}
	TCHECK(got == NPING, "answered %d pings (%d)", NPING, got);

	/* RMA: write pattern A into the client's window, read pattern B from its
	 * other window, then read the written window back. */
	wsrc = xaligned(MiB);
	rdst = xaligned(MiB);
	for (size_t i = 0; i < MiB; i++)
		wsrc[i] = pat_a(i);
	ret = dafs_fabric_mr_reg(s.f, wsrc, MiB, DAFS_MR_LOCAL, &wmr);
	TCHECK(ret == 0, "local source region registered (ret %d)", ret);
	ret = dafs_fabric_mr_reg(s.f, rdst, MiB, DAFS_MR_LOCAL, &rdmr);
	TCHECK(ret == 0, "local sink region registered (ret %d)", ret);
	m = hello;
	TCHECK(m.w_len == MiB && m.r_len == MiB, "client offered 1 MiB windows");

	op_init(&o);
	ret = POST_RETRY(s.f, s.eagains, dafs_fabric_rma_write(s.f, peer, wsrc, MiB, wmr.desc,
							       m.w_addr, m.w_key, &o.ctx));
	if (ret == 0)
		ret = wait_op(s.f, &o, 5000);
	TCHECK(ret == 0 && o.status == 0 && o.kind == DAFS_CQ_RMA_WRITE,
	       "1 MiB RMA write completed (ret %d, status %d, kind %d)", ret, o.status, o.kind);

	op_init(&o);
	ret = POST_RETRY(s.f, s.eagains, dafs_fabric_rma_read(s.f, peer, rdst, MiB, rdmr.desc,
							      m.r_addr, m.r_key, &o.ctx));
	if (ret == 0)
		ret = wait_op(s.f, &o, 5000);
	TCHECK(ret == 0 && o.status == 0 && o.kind == DAFS_CQ_RMA_READ,
	       "1 MiB RMA read completed (ret %d, status %d, kind %d)", ret, o.status, o.kind);
	got = 0;
	for (size_t i = 0; i < MiB; i++)
		if (rdst[i] != pat_b(i)) {
			got++;
			break;
		}
	TCHECK(got == 0, "RMA-read data matches the client's pattern byte for byte");

	memset(rdst, 0, MiB);
	op_init(&o);
	ret = POST_RETRY(s.f, s.eagains, dafs_fabric_rma_read(s.f, peer, rdst, MiB, rdmr.desc,
							      m.w_addr, m.w_key, &o.ctx));
	if (ret == 0)
		ret = wait_op(s.f, &o, 5000);
	/* The window was registered remote-write only on the client: a read of
	 * it may be refused (shm and tcp do not enforce it) -- either way, no hang. */
	if (ret == 0 && o.status == 0)
		TCHECK(memcmp(rdst, wsrc, MiB) == 0, "read-back of the written window matches");
	else
		note("read-back of a write-only window: ret %d status %d", ret, o.status);
	{
		struct msg done = { .magic = MAGIC, .type = M_RMA_DONE };
		ret = send_msg(&s, peer, &done);
		TCHECK(ret == 0, "rma-done sent (ret %d)", ret);
	}
	dafs_fabric_mr_dereg(&wmr);
	dafs_fabric_mr_dereg(&rdmr);
	free(wsrc);
	free(rdst);

	/* Flood: the client sends FLOOD_N messages as fast as its queues let it.
	 * We start late so that its queues surely fill and it sees -EAGAIN. */
	usleep(300 * 1000);
	got = 0;
	while (got < FLOOD_N) {
		ret = recv_msg(&s, &m, 8000, 100);
		if (ret || m.type != M_FLOOD || m.seq != (uint32_t)got)
			break;
		got++;
	}
	TCHECK(got == FLOOD_N, "all %d flood messages received in order (%d, ret %d)", FLOOD_N,
	       got, ret);
	{
		struct msg done = { .magic = MAGIC, .type = M_FLOOD_DONE, .seq = (uint32_t)got };
		ret = send_msg(&s, peer, &done);
		TCHECK(ret == 0, "flood-done sent (ret %d)", ret);
	}
	TCHECK(bad_completions == 0, "every completion carried its context");

	/* Close and reopen on the same URL in the same process. */
	side_teardown(&s);
	ret = open_side(&s, true);
	TCHECK(ret == 0, "listening endpoint reopened on the same URL after close (ret %d)", ret);
	if (ret)
		_exit(1);
	pipe_say(ready_fd, 'R');
	serve_hello(&s, "reopened", &peer, 100);

	/* Die without closing anything: the stale state is S2's problem. Give
	 * the ack time to leave first. */
	{
		uint64_t t = now_ns();
		while (ms_since(t) < 200) {
			pump(s.f);
			usleep(1000);
		}
	}
	_exit(0);
}

/* True once `pid` has finished exiting: all its descriptors (and with them its
 * locks and sockets) are closed when it turns zombie. */
static bool process_gone(pid_t pid, int timeout_ms)
{
	uint64_t t0 = now_ns();

	while (ms_since(t0) < timeout_ms) {
		char path[64], buf[512];
		const char *p;
		FILE *fp;
		size_t n;

		snprintf(path, sizeof(path), "/proc/%d/stat", (int)pid);
		fp = fopen(path, "r");
		if (!fp)
			return true;
		n = fread(buf, 1, sizeof(buf) - 1, fp);
		fclose(fp);
		buf[n] = 0;
		p = strrchr(buf, ')');
		if (!p || p[1] == 0 || p[2] == 'Z' || p[2] == 'X')
			return true;
		usleep(1000);
	}
	return false;
}

static void server_s2(const char *urlstr, int ready_fd, int s1_death_fd, int go_fd, pid_t s1)
{
	struct side s;
	struct msg m;
	fi_addr_t peer = FI_ADDR_NOTAVAIL;
	int ret;

	memset(&s, 0, sizeof(s));
	role = "S2";
	/* S1 holds the only write end of this pipe: EOF means it is dying. */
	ret = pipe_wait(s1_death_fd, 20000);
	TCHECK(ret == 0 && process_gone(s1, 5000), "saw S1 die (%d)", ret);
	/* The client first probes the dead S1; a new server on the same
	 * address would answer in its place. */
	ret = pipe_wait(go_fd, 10000);
	TCHECK(ret == 'G', "client done with the dead server (%d)", ret);
	ret = dafs_url_parse(urlstr, &s.url);
	ret = ret ? ret : open_side(&s, true);
	TCHECK(ret == 0, "new process took the URL right after the old server died (ret %d)",
	       ret);
	if (ret)
		_exit(1);
	pipe_say(ready_fd, 'R');
	serve_hello(&s, "S2", &peer, 100);
	ret = recv_msg(&s, &m, 8000, 100);
	TCHECK(ret == 0 && m.type == M_BYE, "bye received (ret %d)", ret);
	side_teardown(&s);
	_exit(0);
}

static int say_hello(struct side *s, fi_addr_t peer, const char *what)
{
	struct msg m, r;
	size_t nlen = sizeof(m.name);
	int ret;

	memset(&m, 0, sizeof(m));
	m.magic = MAGIC;
	m.type = M_HELLO;
	ret = dafs_fabric_getname(s->f, m.name, &nlen);
	m.namelen = (uint32_t)nlen;
	if (ret)
		return ret;
	m.sent_ns = now_ns();
	ret = send_msg(s, peer, &m);
	TCHECK(ret == 0, "%s: hello sent (ret %d)", what, ret);
	if (ret)
		return ret;
	ret = recv_msg(s, &r, 8000, 100);
	TCHECK(ret == 0 && r.type == M_ACK, "%s: ack received (ret %d)", what, ret);
	return ret;
}

/* A port nobody listens on right now: bind to port 0, read it, close. */
static int free_tcp_port(int family)
{
	struct sockaddr_storage ss;
	socklen_t len = sizeof(ss);
	int fd = socket(family, SOCK_STREAM, 0), port = -1;

	if (fd < 0)
		return -1;
	memset(&ss, 0, sizeof(ss));
	if (family == AF_INET) {
		struct sockaddr_in *a = (struct sockaddr_in *)&ss;
		a->sin_family = AF_INET;
		a->sin_addr.s_addr = htonl(INADDR_LOOPBACK);
		len = sizeof(*a);
	} else {
		struct sockaddr_in6 *a = (struct sockaddr_in6 *)&ss;
		a->sin6_family = AF_INET6;
		a->sin6_addr = in6addr_loopback;
		len = sizeof(*a);
	}
	if (bind(fd, (struct sockaddr *)&ss, len) == 0 &&
	    getsockname(fd, (struct sockaddr *)&ss, &len) == 0)
		port = ntohs(family == AF_INET ? ((struct sockaddr_in *)&ss)->sin_port
					       : ((struct sockaddr_in6 *)&ss)->sin6_port);
	close(fd);
	return port;
}

/* Server and client endpoints in one process: the client sends one message
 * to the listener found by URL. Both are driven, since either may need
 * progress for the connection to form. */
static int inproc_exchange(struct dafs_fabric *srv, struct dafs_fabric *cli,
			   const struct dafs_url *u)
{
	static char sbuf[64] = "inproc hello", rbuf[64];
	struct dafs_mr smr, rmr;
	struct op so, ro;
	fi_addr_t p = FI_ADDR_NOTAVAIL;
	uint64_t t0 = now_ns();
	int ret;

	ret = dafs_fabric_av_insert_url(cli, u, &p);
	if (ret)
		return ret;
	if (dafs_fabric_mr_reg(srv, rbuf, sizeof(rbuf), DAFS_MR_LOCAL, &rmr))
		return -EIO;
	if (dafs_fabric_mr_reg(cli, sbuf, sizeof(sbuf), DAFS_MR_LOCAL, &smr)) {
		dafs_fabric_mr_dereg(&rmr);
		return -EIO;
	}
	memset(rbuf, 0, sizeof(rbuf));
	op_init(&so);
	op_init(&ro);
	ret = dafs_fabric_post_recv(srv, rbuf, sizeof(rbuf), rmr.desc, &ro.ctx);
	if (ret == 0) {
		while ((ret = dafs_fabric_send(cli, p, sbuf, sizeof(sbuf), smr.desc, &so.ctx)) ==
			       -EAGAIN && ms_since(t0) < 5000) {
			pump(cli);
			pump(srv);
		}
	}
	while (ret == 0 && !(so.done && ro.done)) {
		if (ms_since(t0) > 5000) {
			ret = -ETIMEDOUT;
			break;
		}
		pump(cli);
		pump(srv);
	}
	if (ret == 0)
		ret = so.status ? so.status : ro.status;
	if (ret == 0 && (ro.len != sizeof(sbuf) || strcmp(rbuf, sbuf) != 0))
		ret = -EBADMSG;
	/* Unposted or finished: nothing refers to the buffers any more once
	 * the endpoints close, which callers do next. */
	dafs_fabric_mr_dereg(&smr);
	dafs_fabric_mr_dereg(&rmr);
	dafs_fabric_av_remove(cli, p);
	return ret;
}

static void client(const char *urlstr, const char *want_prov, int s1_ready, int s2_ready,
		   int s2_go)
{
	struct side s;
	struct msg m, r;
	struct dafs_fabric *c2 = NULL;
	uint8_t *wreg, *rreg;
	struct dafs_mr wmr, rmr;
	fi_addr_t peer = FI_ADDR_NOTAVAIL;
	char n1[256], n2[256];
	size_t l1 = sizeof(n1), l2 = sizeof(n2);
	uint64_t t0;
	int ret;

	memset(&s, 0, sizeof(s));
	role = "client";
	ret = dafs_url_parse(urlstr, &s.url);
	ret = ret ? ret : open_side(&s, false);
	TCHECK(ret == 0, "client endpoint opened (ret %d)", ret);
	if (ret)
		_exit(1);
	TCHECK(strcmp(dafs_fabric_provider(s.f), want_prov) == 0, "provider is %s (%s)",
	       want_prov, dafs_fabric_provider(s.f));
	TCHECK(dafs_fabric_max_rma(s.f) >= MiB && dafs_fabric_max_msg(s.f) >= MSG_SLOT,
	       "max_rma %zu and max_msg %zu are usable", dafs_fabric_max_rma(s.f),
	       dafs_fabric_max_msg(s.f));
	if (dafs_fabric_wait_fd(s.f) >= 0) {
		ret = dafs_fabric_trywait(s.f);
		TCHECK(ret == 0 || ret == -EAGAIN, "trywait answers 0 or -EAGAIN (%d)", ret);
	} else {
		TCHECK(dafs_fabric_trywait(s.f) == -EAGAIN, "trywait without an fd says poll");
	}

	/* verbs needs an RDMA device: without one, open must fail cleanly. */
	{
		struct dafs_url uv;
		struct dafs_fabric *fv = NULL;
		ret = dafs_url_parse("verbs://127.0.0.1:7471", &uv);
		ret = ret ? ret : dafs_fabric_open(&uv, false, &fv);
		note("verbs;ofi_rxm open here: %d (%s)", ret, ret ? strerror(-ret) : "ok");
		TCHECK(ret <= 0 && (ret == 0) == (fv != NULL), "verbs open fails cleanly or works (%d)",
		       ret);
		dafs_fabric_close(fv);
	}

	/* A second client endpoint in the same process gets its own address. */
	ret = dafs_fabric_open(&s.url, false, &c2);
	TCHECK(ret == 0, "second client endpoint in one process (ret %d)", ret);
	if (ret == 0) {
		int a = dafs_fabric_getname(s.f, n1, &l1), b = dafs_fabric_getname(c2, n2, &l2);
		TCHECK(a == 0 && b == 0 && (l1 != l2 || memcmp(n1, n2, l1) != 0),
		       "two client endpoints have distinct addresses");
		if (s.url.scheme[0] == 's')
			note("shm client names: %.*s and %.*s", (int)l1, n1, (int)l2, n2);
		dafs_fabric_close(c2);
	}
	{
		char small[2];
		size_t sl = sizeof(small);
		ret = dafs_fabric_getname(s.f, small, &sl);
		TCHECK(ret < 0 && sl > sizeof(small), "getname into a small buffer fails and says the size (%d, %zu)", ret, sl);
	}

	/* The windows start RMA_OFF into their regions so that the peer's
	 * addressing (remote_base + offset) is really exercised. */
	wreg = xaligned(REGION_LEN);
	rreg = xaligned(REGION_LEN);
	for (size_t i = 0; i < MiB; i++)
		rreg[RMA_OFF + i] = pat_b(i);
	ret = dafs_fabric_mr_reg(s.f, wreg, REGION_LEN, DAFS_MR_REMOTE_WRITE | DAFS_MR_LOCAL, &wmr);
	TCHECK(ret == 0, "write window registered (ret %d)", ret);
	ret = dafs_fabric_mr_reg(s.f, rreg, REGION_LEN, DAFS_MR_REMOTE_READ, &rmr);
	TCHECK(ret == 0, "read window registered (ret %d)", ret);
	TCHECK(wmr.key != rmr.key, "distinct keys for two regions (%#llx, %#llx)",
	       (unsigned long long)wmr.key, (unsigned long long)rmr.key);
	note("keys %#llx %#llx, remote_base %#llx, desc %p", (unsigned long long)wmr.key,
	     (unsigned long long)rmr.key, (unsigned long long)wmr.remote_base, wmr.desc);

	ret = pipe_wait(s1_ready, 10000);
	TCHECK(ret == 'R', "S1 ready (%d)", ret);
	if (ret != 'R')
		_exit(1);
	ret = dafs_fabric_av_insert_url(s.f, &s.url, &peer);
	TCHECK(ret == 0, "server inserted by URL (ret %d)", ret);
	/* Let S1 settle into its long blocking wait. */
	usleep(300 * 1000);

	memset(&m, 0, sizeof(m));
	m.magic = MAGIC;
	m.type = M_HELLO;
	{
		size_t nl = sizeof(m.name);
		ret = dafs_fabric_getname(s.f, m.name, &nl);
		TCHECK(ret == 0, "getname (ret %d, %zu bytes)", ret, nl);
		m.namelen = (uint32_t)nl;
	}
	m.w_addr = wmr.remote_base + RMA_OFF;
	m.w_key = wmr.key;
	m.w_len = MiB;
	m.r_addr = rmr.remote_base + RMA_OFF;
	m.r_key = rmr.key;
	m.r_len = MiB;
	m.sent_ns = now_ns();
	ret = send_msg(&s, peer, &m);
	TCHECK(ret == 0, "hello sent (ret %d, %ld EAGAIN while connecting)", ret, s.eagains);
	note("EAGAINs on the first send (connection setup): %ld", s.eagains);
	ret = recv_msg(&s, &r, 8000, 5000);
	{
		double lat = (double)(now_ns() - r.sent_ns) / 1e6;
		TCHECK(ret == 0 && r.type == M_ACK && lat < 1000,
		       "ack woke a blocking wait %.2f ms after it was sent (ret %d)", lat, ret);
	}

	{
		double rtt[NPING], worst = 0, sum = 0;
		int n = 0;
		for (int i = 0; i < NPING; i++) {
			struct msg ping = { .magic = MAGIC, .type = M_PING, .seq = (uint32_t)i };
			uint64_t t = now_ns();
			if (send_msg(&s, peer, &ping) || recv_msg(&s, &r, 8000, 5000) ||
			    r.type != M_PONG || r.seq != (uint32_t)i)
				break;
			rtt[n] = ms_since(t);
			sum += rtt[n];
			if (rtt[n] > worst)
				worst = rtt[n];
			n++;
		}
		TCHECK(n == NPING && worst < 1000,
		       "%d round trips through blocking waits (5 s slices): mean %.3f ms, worst %.3f ms",
		       NPING, n ? sum / n : 0.0, worst);
	}

	ret = recv_msg(&s, &r, 8000, 100);
	TCHECK(ret == 0 && r.type == M_RMA_DONE, "rma-done received (ret %d)", ret);
	{
		size_t bad = MiB;
		for (size_t i = 0; i < MiB; i++)
			if (wreg[RMA_OFF + i] != pat_a(i)) {
				bad = i;
				break;
			}
		TCHECK(bad == MiB, "RMA-written data is in the window byte for byte (first bad %zu)",
		       bad);
		bad = 0;
		for (size_t i = 0; i < RMA_OFF; i++)
			bad += wreg[i] != 0 || wreg[RMA_OFF + MiB + i] != 0;
		TCHECK(bad == 0, "nothing written outside the window");
	}

	/* Flood without waiting: the queues fill, posts say -EAGAIN, we poll
	 * and post again. */
	{
		struct op *ops = calloc(FLOOD_N, sizeof(*ops));
		uint8_t *fbuf = xaligned((size_t)FLOOD_N * FLOOD_LEN);
		struct dafs_mr fmr;
		long before = s.eagains;
		int posted = 0, done = 0, errs = 0;

		ret = dafs_fabric_mr_reg(s.f, fbuf, (size_t)FLOOD_N * FLOOD_LEN, DAFS_MR_LOCAL, &fmr);
		TCHECK(ret == 0 && ops, "flood buffers registered (ret %d)", ret);
		t0 = now_ns();
		for (int i = 0; i < FLOOD_N && ret == 0; i++) {
			struct msg *fm = (struct msg *)(fbuf + (size_t)i * FLOOD_LEN);
			memset(fm, 0, FLOOD_LEN);
			fm->magic = MAGIC;
			fm->type = M_FLOOD;
			fm->seq = (uint32_t)i;
			op_init(&ops[i]);
			ret = POST_RETRY(s.f, s.eagains,
					 dafs_fabric_send(s.f, peer, fm, FLOOD_LEN, fmr.desc, &ops[i].ctx));
			if (ret == 0)
				posted++;
		}
		TCHECK(posted == FLOOD_N, "all flood sends posted (%d, ret %d)", posted, ret);
		TCHECK(s.eagains > before,
		       "a full send queue said -EAGAIN and the post succeeded after polling (%ld times)",
		       s.eagains - before);
		for (int i = 0; i < posted; i++) {
			if (wait_op(s.f, &ops[i], 8000))
				break;
			done++;
			errs += ops[i].status != 0;
		}
		TCHECK(done == posted && errs == 0, "all flood sends completed (%d, %d errors)", done,
		       errs);
		note("flood: %d sends in %.1f ms, %ld EAGAINs", posted, ms_since(t0),
		     s.eagains - before);
		ret = recv_msg(&s, &r, 8000, 100);
		TCHECK(ret == 0 && r.type == M_FLOOD_DONE && r.seq == FLOOD_N,
		       "server counted the whole flood (ret %d, %u)", ret, r.seq);
		dafs_fabric_mr_dereg(&fmr);
		free(fbuf);
		free(ops);
	}
	dafs_fabric_mr_dereg(&wmr);
	dafs_fabric_mr_dereg(&rmr);
	free(wreg);
	free(rreg);

	/* S1 reopens in place. A restarted server is reached through a fresh
	 * endpoint: rxm keeps a removed AV entry's connection (unless
	 * FI_AV_REMOVE_CLEANUP, which in turn drops replies still in flight
	 * when a server removes a peer right after answering), so the same
	 * address inserted again could reuse the dead connection. */
	ret = pipe_wait(s1_ready, 10000);
	TCHECK(ret == 'R', "S1 reopened (%d)", ret);
	TCHECK(dafs_fabric_av_remove(s.f, peer) == 0, "old server address removed");
	side_teardown(&s);
	ret = open_side(&s, false);
	TCHECK(ret == 0, "fresh client endpoint (ret %d)", ret);
	if (ret)
		_exit(1);
	ret = dafs_fabric_av_insert_url(s.f, &s.url, &peer);
	TCHECK(ret == 0, "reopened server inserted by URL (ret %d)", ret);
	say_hello(&s, peer, "reopened S1");

	/* S1 now dies without closing. What does sending to it say? */
	ret = pipe_wait(s1_ready, 10000);
	TCHECK(ret == 0, "S1 died (%d)", ret);
	{
		/* static: a send still queued to the dead peer may complete
		 * later, and its context must stay valid until the endpoint
		 * closes. */
		static struct op o;
		int status = 0, sends = 0;
		uint64_t t = now_ns();

		memset(&m, 0, sizeof(m));
		m.magic = MAGIC;
		m.type = M_BYE;
		memcpy(s.sbuf, &m, sizeof(m));
		while (status == 0 && ms_since(t) < 1000) {
			op_init(&o);
			ret = POST_RETRY(s.f, s.eagains,
					 dafs_fabric_send(s.f, peer, s.sbuf, sizeof(m), s.smr.desc,
							  &o.ctx));
			if (ret == 0)
				ret = wait_op(s.f, &o, 500);
			sends++;
			if (ret)
				break;
			status = o.status;
			usleep(10000);
		}
		note("sends to the dead server: %d, last post/wait %d, status %d (%s)", sends, ret,
		     status, status ? strerror(-status) : "none");
		if (s.url.scheme[0] == 't')
			TCHECK(status == -ENOTCONN || status == -ECONNRESET || status == -EPIPE ||
			       status == -ECONNREFUSED,
			       "tcp: the dead peer surfaced as an error completion (%d)", status);
		else
			TCHECK(ret == 0 || ret == -ETIMEDOUT || ret == -EAGAIN,
			       "shm: sending to a dead peer does not hang or crash (%d)", ret);
		dafs_fabric_av_remove(s.f, peer);
		peer = FI_ADDR_NOTAVAIL;
	}
	pipe_say(s2_go, 'G');

	/* Listener and client in one process. For shm, then reuse of the closed
	 * listener's name from this process: shm 1.17 would crash mapping it, so
	 * fabric.c refuses. For tcp, the same over IPv6 [::1]. */
	if (s.url.scheme[0] == 's') {
		struct dafs_url u2;
		struct dafs_fabric *l = NULL;
		fi_addr_t p2 = FI_ADDR_NOTAVAIL;
		char u2s[300];
		snprintf(u2s, sizeof(u2s), "%s-inproc", urlstr);
		ret = dafs_url_parse(u2s, &u2);
		ret = ret ? ret : dafs_fabric_open(&u2, true, &l);
		TCHECK(ret == 0, "in-process listener opened (ret %d)", ret);
		if (ret == 0) {
			ret = inproc_exchange(l, s.f, &u2);
			TCHECK(ret == 0, "in-process listener and client exchange a message (%d)", ret);
			dafs_fabric_close(l);
			ret = dafs_fabric_av_insert_url(s.f, &u2, &p2);
			TCHECK(ret == -EADDRNOTAVAIL,
			       "a closed in-process shm listener's name is refused, not crashed on (%d)",
			       ret);
		}
	} else {
		int p6 = free_tcp_port(AF_INET6);
		if (p6 <= 0) {
			note("no IPv6 loopback here: [::1] not tested");
		} else {
			struct dafs_url u6;
			struct dafs_fabric *l = NULL, *c6 = NULL;
			char u6s[64];
			snprintf(u6s, sizeof(u6s), "tcp://[::1]:%d", p6);
			ret = dafs_url_parse(u6s, &u6);
			ret = ret ? ret : dafs_fabric_open(&u6, true, &l);
			ret = ret ? ret : dafs_fabric_open(&u6, false, &c6);
			ret = ret ? ret : inproc_exchange(l, c6, &u6);
			TCHECK(ret == 0, "IPv6 %s: in-process listener and client exchange a message (%d)",
			       u6s, ret);
			dafs_fabric_close(c6);
			dafs_fabric_close(l);
		}
	}

	/* S2 takes over the URL; a second server on it now must be refused,
	 * without harming S2. */
	ret = pipe_wait(s2_ready, 15000);
	TCHECK(ret == 'R', "S2 ready (%d)", ret);
	{
		struct dafs_fabric *dup = NULL;
		ret = dafs_fabric_open(&s.url, true, &dup);
		TCHECK(ret == -EADDRINUSE, "a second listener on a live URL is refused (ret %d)", ret);
		if (ret == 0)
			dafs_fabric_close(dup);
	}
	side_teardown(&s);
	ret = open_side(&s, false);
	TCHECK(ret == 0, "fresh client endpoint (ret %d)", ret);
	if (ret)
		_exit(1);
	ret = dafs_fabric_av_insert_url(s.f, &s.url, &peer);
	TCHECK(ret == 0, "S2 inserted by URL (ret %d)", ret);
	if (say_hello(&s, peer, "S2, after the refused listener") == 0) {
		memset(&m, 0, sizeof(m));
		m.magic = MAGIC;
		m.type = M_BYE;
		ret = send_msg(&s, peer, &m);
		TCHECK(ret == 0, "bye sent (ret %d)", ret);
	}
	TCHECK(bad_completions == 0, "every completion carried its context");
	side_teardown(&s);
	_exit(0);
}

/* ---- parent ---- */

static void test_url_parse(void)
{
	struct dafs_url u;
	static const char *bad[] = {
		"", "shm://", "shm:/x", "shm//x", "shm://a:1", "shm://a/b", "shm://.x",
		"tcp://", "tcp://host", "tcp://host:", "tcp://:80", "tcp://host:0",
		"tcp://host:65536", "tcp://host:8x", "tcp://host:80/", "tcp://::1:80",
		"tcp://[::1]", "tcp://[::1]80", "tcp://[::1:80", "udp://host:80",
		"verbs://host", "TCP://host:80", "tcp://ho st:80",
	};
	char longname[300];

	CHECK_EQ(dafs_url_parse("shm://dafs-test", &u), 0, "parse shm://dafs-test");
	CHECK(strcmp(u.scheme, "shm") == 0 && strcmp(u.node, "dafs-test") == 0 && u.service[0] == 0,
	      "shm URL fields");
	CHECK_EQ(dafs_url_parse("tcp://127.0.0.1:7000", &u), 0, "parse tcp://127.0.0.1:7000");
	CHECK(strcmp(u.scheme, "tcp") == 0 && strcmp(u.node, "127.0.0.1") == 0 &&
	      strcmp(u.service, "7000") == 0, "tcp URL fields");
	CHECK_EQ(dafs_url_parse("tcp://[::1]:7001", &u), 0, "parse tcp://[::1]:7001");
	CHECK(strcmp(u.node, "::1") == 0 && strcmp(u.service, "7001") == 0, "IPv6 brackets stripped");
	CHECK_EQ(dafs_url_parse("verbs://node-1.example:65535", &u), 0, "parse verbs URL");
	CHECK(strcmp(u.scheme, "verbs") == 0 && strcmp(u.node, "node-1.example") == 0 &&
	      strcmp(u.service, "65535") == 0, "verbs URL fields");
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		CHECK_EQ(dafs_url_parse(bad[i], &u), -EINVAL, "reject \"%s\"", bad[i]);
	CHECK_EQ(dafs_url_parse(NULL, &u), -EINVAL, "reject NULL");
	memcpy(longname, "shm://", 6);
	memset(longname + 6, 'a', 280);
	longname[286] = 0;
	CHECK_EQ(dafs_url_parse(longname, &u), -EINVAL, "reject a too long shm name");
	memcpy(longname, "tcp://", 6);
	memset(longname + 6, 'h', 270);
	memcpy(longname + 276, ":80", 4);
	CHECK_EQ(dafs_url_parse(longname, &u), -EINVAL, "reject a too long host");
	CHECK_EQ(dafs_url_parse("shm://x.dafs-lock", &u), -EINVAL,
		 "reject an shm name that looks like a lock file");
}

/* Argument checks that never reach libfabric, so the parent may run them. */
static void test_bad_args(void)
{
	struct dafs_url u;
	struct dafs_fabric *f = (struct dafs_fabric *)&u;

	memset(&u, 0, sizeof(u));
	CHECK_EQ(dafs_fabric_open(NULL, false, &f), -EINVAL, "open without a URL");
	CHECK(f == (struct dafs_fabric *)&u, "open without a URL leaves *out alone");
	strcpy(u.scheme, "udp");
	strcpy(u.node, "x");
	CHECK_EQ(dafs_fabric_open(&u, true, &f), -EINVAL, "open with an unknown scheme");
	CHECK(f == NULL, "a failed open clears *out");
	strcpy(u.scheme, "tcp");
	CHECK_EQ(dafs_fabric_open(&u, true, &f), -EINVAL, "open tcp without a port");
	strcpy(u.scheme, "shm");
	strcpy(u.node, "a/b");
	CHECK_EQ(dafs_fabric_open(&u, true, &f), -EINVAL, "open shm with a bad name");
	dafs_fabric_close(NULL);
	CHECK_EQ(dafs_fabric_wait_fd(NULL), -1, "no wait fd without a fabric");
}

static void run_provider(const char *url, const char *prov)
{
	int rep[2], r1[2], r2[2], d1[2], g2[2];
	pid_t s1, s2, c;
	FILE *in;
	char line[1200];
	int st;

	printf("# %s over %s\n", prov, url);
	fflush(stdout);
	/* rep: reports to us; r1/r2: "ready" bytes from S1/S2 to the client,
	 * whose EOF also tells the client S1 died; d1: never written, S1 holds
	 * the only write end, so S2 sees EOF the moment S1 is gone; g2: the
	 * client's go-ahead to S2. */
	if (pipe(rep) || pipe(r1) || pipe(r2) || pipe(d1) || pipe(g2)) {
		CHECK(0, "pipes");
		return;
	}
	s1 = fork();
	if (s1 == 0) {
		alarm(CHILD_ALARM);
		close(rep[0]); close(r1[0]); close(r2[0]); close(r2[1]); close(d1[0]);
		close(g2[0]); close(g2[1]);
		report_fd = rep[1];
		server_s1(url, r1[1]);
	}
	close(d1[1]);
	s2 = fork();
	if (s2 == 0) {
		alarm(CHILD_ALARM);
		close(rep[0]); close(r1[0]); close(r1[1]); close(r2[0]); close(g2[1]);
		report_fd = rep[1];
		server_s2(url, r2[1], d1[0], g2[0], s1);
	}
	close(d1[0]);
	c = fork();
	if (c == 0) {
		alarm(CHILD_ALARM);
		close(rep[0]); close(r1[1]); close(r2[1]); close(g2[0]);
		report_fd = rep[1];
		client(url, prov, r1[0], r2[0], g2[1]);
	}
	close(rep[1]); close(r1[0]); close(r1[1]); close(r2[0]); close(r2[1]);
	close(g2[0]); close(g2[1]);
	in = fdopen(rep[0], "r");
	while (in && fgets(line, sizeof(line), in)) {
		line[strcspn(line, "\n")] = 0;
		if (line[0] == '#')
			printf("# %s\n", line + 2);
		else
			CHECK(line[0] == '1', "%s: %s", prov, line + 2);
		fflush(stdout);
	}
	if (in)
		fclose(in);
	CHECK(waitpid(s1, &st, 0) == s1 && WIFEXITED(st) && WEXITSTATUS(st) == 0,
	      "%s: S1 exited cleanly (status %#x)", prov, st);
	CHECK(waitpid(s2, &st, 0) == s2 && WIFEXITED(st) && WEXITSTATUS(st) == 0,
	      "%s: S2 exited cleanly (status %#x)", prov, st);
	CHECK(waitpid(c, &st, 0) == c && WIFEXITED(st) && WEXITSTATUS(st) == 0,
	      "%s: client exited cleanly (status %#x)", prov, st);
}

int main(void)
{
	char url[64];
	int port;

	setvbuf(stdout, NULL, _IOLBF, 0);
	alarm(90);
	test_url_parse();
	test_bad_args();

	snprintf(url, sizeof(url), "shm://dafs-test-%d", (int)getpid());
	run_provider(url, "shm");

	port = free_tcp_port(AF_INET);
	CHECK(port > 0, "found a free tcp port (%d)", port);
	if (port > 0) {
		snprintf(url, sizeof(url), "tcp://127.0.0.1:%d", port);
		run_provider(url, "tcp;ofi_rxm");
	}
	return check_done();
}
