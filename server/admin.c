/* admin.c — the administrator's socket and its commands (admin.h). */
#include "admin.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <inttypes.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "admission.h"
#include "log.h"
#include "server.h"

#define ADMIN_LINE_MAX   512
#define ADMIN_IO_MS      2000     /* a peer that neither writes nor reads is dropped */

struct admin {
	struct server *srv;
	int fd;
	char path[sizeof(((struct sockaddr_un *)0)->sun_path)];
	pthread_t thread;
	/* Guards every worker's admin_cmd/admin_closed and the command's
	 * `done`; `cond` says a worker finished one or left. */
	pthread_mutex_t lock;
	pthread_cond_t cond;
};

/* A command on its way through the workers, with what they found. */
struct admin_cmd {
	struct admin_request req;
	char *out;                 /* output lines, grown by out_printf */
	size_t len, cap;
	bool out_failed;           /* a line did not fit in memory */
	unsigned hits;             /* sessions the command acted on */
	bool done;                 /* lock: the worker ran it */
};

__attribute__((format(printf, 2, 3)))
static void out_printf(struct admin_cmd *cmd, const char *fmt, ...)
{
	va_list ap;
	int n;

	for (;;) {
		va_start(ap, fmt);
		n = vsnprintf(cmd->out + cmd->len, cmd->cap - cmd->len, fmt, ap);
		va_end(ap);
		if (n < 0)
			return;
		if ((size_t)n < cmd->cap - cmd->len) {
			cmd->len += (size_t)n;
			return;
		}
		size_t cap = (cmd->cap + (size_t)n + 1) * 2;
		char *grown = realloc(cmd->out, cap);
		if (!grown) {
			cmd->out_failed = true;
			return;
		}
		cmd->out = grown;
		cmd->cap = cap;
	}
}

/* ---- Parsing ---------------------------------------------------------- */

static bool valid_name(const char *s)
{
	size_t n = strlen(s);

	if (n == 0 || n > DAFS_KEY_NAME_MAX)
		return false;
	for (size_t i = 0; i < n; i++)
		if (!isalnum((unsigned char)s[i]) && !strchr("._@-", s[i]))
			return false;
	return true;
}

int admin_parse(const char *line, struct admin_request *req, char *why, size_t why_len)
{
	char verb[16], arg[DAFS_KEY_NAME_MAX + 2], extra[2];
	int n;

	memset(req, 0, sizeof(*req));
	n = sscanf(line, "%15s %65s %1s", verb, arg, extra);
	if (n < 1) {
		snprintf(why, why_len, "empty command");
		return -EINVAL;
	}
	if (strcmp(verb, "sessions") == 0 || strcmp(verb, "reload") == 0) {
		if (n != 1) {
			snprintf(why, why_len, "%s takes no argument", verb);
			return -EINVAL;
		}
		req->verb = verb[0] == 's' ? ADMIN_SESSIONS : ADMIN_RELOAD;
		return 0;
	}
	if (strcmp(verb, "fence") == 0 || strcmp(verb, "unfence") == 0) {
		if (n != 2 || !valid_name(arg)) {
			snprintf(why, why_len, "%s takes one client name (1 to %d of A-Z a-z 0-9 . _ @ -)",
				 verb, DAFS_KEY_NAME_MAX);
			return -EINVAL;
		}
		req->verb = verb[0] == 'f' ? ADMIN_FENCE : ADMIN_UNFENCE;
		strcpy(req->name, arg);
		return 0;
	}
	if (strcmp(verb, "evict") == 0) {
		char *end;
		if (n == 2 && strlen(arg) <= 16 && isxdigit((unsigned char)arg[0])) {
			req->session = strtoull(arg, &end, 16);
			if (*end == '\0' && req->session != 0) {
				req->verb = ADMIN_EVICT;
				return 0;
			}
		}
		snprintf(why, why_len, "evict takes one session id (hex, as `sessions` prints it)");
		return -EINVAL;
	}
	snprintf(why, why_len, "unknown command '%s' (sessions, fence, unfence, evict, reload)",
		 verb);
	return -EINVAL;
}

/* ---- On the workers --------------------------------------------------- */

/* Locks and files of a revoked session go now, or when its last request in
 * flight is done (worker.c's job_free calls again): a request running on
 * a descriptor keeps it until then. */
void admin_release_revoked(struct worker *w, struct session *s)
{
	locks_release_session(w->srv->locks, s->id, true);
	if (s->jobs == 0)
		session_close_handles(s);
}

static void revoke_session(struct worker *w, struct session *s, int err)
{
	if (s->revoked)
		return;
	s->revoked = err;
	log_msg("session %016llx %s: %s (%s)", (unsigned long long)s->id,
		err == -EKEYREVOKED ? "fenced" : "evicted", s->name, admission_client_name(s));
	admin_release_revoked(w, s);
}

static void list_session(struct worker *w, struct session *s, struct admin_cmd *cmd)
{
	char uid[16] = "-";

	/* Whom it acts as: its last request's user, else the key's uid=. */
	if (s->acted)
		snprintf(uid, sizeof(uid), "%u", s->last_uid);
	else if (s->who.has_uid)
		snprintf(uid, sizeof(uid), "%u", s->who.uid);
	out_printf(cmd, "%016" PRIx64 " %s %s %u %s %u %u %" PRIu64 " %" PRIu64 " %" PRIu64
		   " %.1f%s\n", s->id, admission_client_name(s), s->addr[0] ? s->addr : "-",
		   s->pid, uid, s->nopen, locks_session_count(w->srv->locks, s->id),
		   s->requests, s->bytes_in, s->bytes_out,
		   (double)(w->now_ms - s->last_seen_ms) / 1000.0,
		   s->revoked == -EKEYREVOKED ? " fenced" : s->revoked ? " evicted" : "");
}

static void run_on_worker(struct worker *w, struct admin_cmd *cmd)
{
	for (struct session *s = w->sessions; s; s = s->next) {
		switch (cmd->req.verb) {
		case ADMIN_SESSIONS:
			if (!s->closing)
				list_session(w, s, cmd);
			break;
		case ADMIN_FENCE:
		case ADMIN_RELOAD:   /* fences the names reload removed, one at a time */
			if (strcmp(admission_client_name(s), cmd->req.name) == 0 && !s->revoked) {
				revoke_session(w, s, -EKEYREVOKED);
				cmd->hits++;
			}
			break;
		case ADMIN_EVICT:
			if (s->id == cmd->req.session && !s->closing && !s->revoked) {
				revoke_session(w, s, -ECONNABORTED);
				cmd->hits++;
			}
			break;
		case ADMIN_UNFENCE:
			break;
		}
	}
}

/* Runs what the mailbox holds and says so. Locked. */
static void run_mailbox(struct admin *adm, struct worker *w)
{
	struct admin_cmd *cmd = atomic_load_explicit(&w->admin_cmd, memory_order_acquire);

	if (!cmd)
		return;
	run_on_worker(w, cmd);
	cmd->done = true;
	atomic_store_explicit(&w->admin_cmd, NULL, memory_order_release);
	pthread_cond_broadcast(&adm->cond);
}

void admin_worker_poll(struct worker *w)
{
	struct admin *adm = w->srv->admin;

	if (!adm || !atomic_load_explicit(&w->admin_cmd, memory_order_acquire))
		return;
	pthread_mutex_lock(&adm->lock);
	run_mailbox(adm, w);
	pthread_mutex_unlock(&adm->lock);
}

void admin_worker_exit(struct worker *w)
{
	struct admin *adm = w->srv->admin;

	if (!adm)
		return;
	pthread_mutex_lock(&adm->lock);
	run_mailbox(adm, w);
	w->admin_closed = true;
	pthread_mutex_unlock(&adm->lock);
}

/* Hands `cmd` to every worker in turn and waits for each. A worker whose
 * loop has ended has no sessions to act on. */
static void run_on_workers(struct admin *adm, struct admin_cmd *cmd)
{
	struct server *srv = adm->srv;

	for (unsigned i = 0; i < srv->nworkers; i++) {
		struct worker *w = &srv->workers[i];
		pthread_mutex_lock(&adm->lock);
		if (!w->admin_closed) {
			cmd->done = false;
			atomic_store_explicit(&w->admin_cmd, cmd, memory_order_release);
			while (!cmd->done)
				pthread_cond_wait(&adm->cond, &adm->lock);
		}
		pthread_mutex_unlock(&adm->lock);
	}
}

/* ---- Commands --------------------------------------------------------- */

static int fence_name(struct admin *adm, struct admin_cmd *cmd, const char *name)
{
	int rc = admission_fence(&adm->srv->adm, name);

	if (rc)
		return rc;
	if (name != cmd->req.name)
		snprintf(cmd->req.name, sizeof(cmd->req.name), "%s", name);
	cmd->hits = 0;
	run_on_workers(adm, cmd);
	log_msg("admin: fenced %s (%u session%s cut off)", name, cmd->hits,
		cmd->hits == 1 ? "" : "s");
	return 0;
}

/* Re-reads the --keys file; every client the new file no longer names is
 * fenced. The keys table is srv->keys, under srv->keys_lock. */
static int reload_keys(struct admin *adm, struct admin_cmd *cmd, char *why, size_t why_len)
{
	struct server *srv = adm->srv;
	struct dafs_keys fresh = { 0 }, old;
	int rc;

	if (!srv->keys_path) {
		snprintf(why, why_len, "the server runs without --keys: there is no keys file to reload");
		return -ENOENT;
	}
	rc = dafs_keys_load(srv->keys_path, &fresh, why, why_len);
	if (rc)
		return rc;
	pthread_mutex_lock(&srv->keys_lock);
	old = srv->keys;
	srv->keys = fresh;
	pthread_mutex_unlock(&srv->keys_lock);
	for (size_t i = 0; i < old.count; i++) {
		if (dafs_keys_find(&fresh, old.keys[i].name))
			continue;
		rc = fence_name(adm, cmd, old.keys[i].name);
		if (rc)
			break;
		out_printf(cmd, "removed %s: fenced (%u session%s)\n", old.keys[i].name, cmd->hits,
			   cmd->hits == 1 ? "" : "s");
	}
	out_printf(cmd, "%zu client%s in %s\n", fresh.count, fresh.count == 1 ? "" : "s",
		   srv->keys_path);
	log_msg("admin: reloaded %s (%zu clients)", srv->keys_path, fresh.count);
	dafs_keys_free(&old);
	if (rc)
		snprintf(why, why_len, "cannot fence a removed client: %s", strerror(-rc));
	return rc;
}

static int run_command(struct admin *adm, struct admin_cmd *cmd, char *why, size_t why_len)
{
	struct server *srv = adm->srv;
	int rc = 0;

	switch (cmd->req.verb) {
	case ADMIN_SESSIONS:
		run_on_workers(adm, cmd);
		break;
	case ADMIN_FENCE:
		rc = fence_name(adm, cmd, cmd->req.name);
		if (rc == 0)
			out_printf(cmd, "fenced %s: %u session%s cut off\n", cmd->req.name, cmd->hits,
				   cmd->hits == 1 ? "" : "s");
		break;
	case ADMIN_UNFENCE:
		rc = admission_unfence(&srv->adm, cmd->req.name);
		if (rc == -ENOENT)
			snprintf(why, why_len, "%s is not fenced", cmd->req.name);
		else if (rc == 0)
			log_msg("admin: unfenced %s", cmd->req.name);
		break;
	case ADMIN_EVICT:
		run_on_workers(adm, cmd);
		if (cmd->hits == 0) {
			snprintf(why, why_len, "no session %016" PRIx64, cmd->req.session);
			rc = -ENOENT;
		} else {
			log_msg("admin: evicted session %016" PRIx64, cmd->req.session);
		}
		break;
	case ADMIN_RELOAD:
		rc = reload_keys(adm, cmd, why, why_len);
		break;
	}
	if (rc && !why[0])
		snprintf(why, why_len, "%s", strerror(-rc));
	if (rc == 0 && cmd->out_failed) {
		snprintf(why, why_len, "out of memory for the answer");
		rc = -ENOMEM;
	}
	return rc;
}

/* ---- The socket ------------------------------------------------------- */

static bool peer_allowed(int fd, uid_t *uid)
{
	struct ucred cred;
	socklen_t len = sizeof(cred);

	if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &len) != 0)
		return false;
	*uid = cred.uid;
	return cred.uid == 0 || cred.uid == geteuid();
}

/* Reads one line (up to its newline) within ADMIN_IO_MS. */
static int read_line(int fd, char *line, size_t size)
{
	size_t len = 0;

	while (len + 1 < size) {
		struct pollfd p = { .fd = fd, .events = POLLIN };
		ssize_t n;
		if (poll(&p, 1, ADMIN_IO_MS) <= 0)
			return -ETIMEDOUT;
		n = read(fd, line + len, size - 1 - len);
		if (n <= 0)
			return n == 0 ? -ECONNRESET : -errno;
		len += (size_t)n;
		line[len] = '\0';
		char *nl = strchr(line, '\n');
		if (nl) {
			*nl = '\0';
			return 0;
		}
	}
	return -E2BIG;
}

static void write_all(int fd, const char *buf, size_t len)
{
	while (len) {
		ssize_t n = send(fd, buf, len, MSG_NOSIGNAL);
		if (n <= 0)
			return;   /* the peer went away or stopped reading: its loss */
		buf += n;
		len -= (size_t)n;
	}
}

static void serve_peer(struct admin *adm, int fd)
{
	struct timeval tv = { ADMIN_IO_MS / 1000, 0 };
	char line[ADMIN_LINE_MAX], why[512] = "";
	struct admin_cmd cmd = { 0 };
	uid_t uid = (uid_t)-1;
	int rc;

	setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
	if (!peer_allowed(fd, &uid)) {
		log_msg("admin: refused a peer with uid %d (neither root nor the server's user)",
			(int)uid);
		snprintf(why, sizeof(why), "error: permission denied: uid %d is neither root nor "
			 "the server's user\n", (int)uid);
		write_all(fd, why, strlen(why));
		return;
	}
	rc = read_line(fd, line, sizeof(line));
	if (rc) {
		snprintf(why, sizeof(why), "error: no command read: %s\n", strerror(-rc));
		write_all(fd, why, strlen(why));
		return;
	}
	rc = admin_parse(line, &cmd.req, why, sizeof(why));
	if (rc == 0)
		rc = run_command(adm, &cmd, why, sizeof(why));
	if (cmd.len)
		write_all(fd, cmd.out, cmd.len);
	free(cmd.out);
	if (rc) {
		write_all(fd, "error: ", 7);
		write_all(fd, why, strlen(why));
		write_all(fd, "\n", 1);
	} else {
		write_all(fd, "ok\n", 3);
	}
}

static void *admin_main(void *arg)
{
	struct admin *adm = arg;

	while (!adm->srv->stopping) {
		struct pollfd p = { .fd = adm->fd, .events = POLLIN };
		int fd;
		if (poll(&p, 1, 200) <= 0)
			continue;
		fd = accept4(adm->fd, NULL, NULL, SOCK_CLOEXEC);
		if (fd < 0)
			continue;
		serve_peer(adm, fd);
		close(fd);
	}
	return NULL;
}

/* A socket file at `path` that nobody answers on is a dead server's. */
static int clear_stale_socket(const struct sockaddr_un *sa)
{
	struct stat st;
	int fd, rc;

	if (lstat(sa->sun_path, &st) != 0)
		return errno == ENOENT ? 0 : -errno;
	if (!S_ISSOCK(st.st_mode))
		return -EEXIST;
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	rc = connect(fd, (const struct sockaddr *)sa, sizeof(*sa));
	close(fd);
	if (rc == 0)
		return -EADDRINUSE;
	return unlink(sa->sun_path) == 0 ? 0 : -errno;
}

int admin_start(struct server *srv, const char *path, char *why, size_t why_len)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	struct admin *adm;
	mode_t old_mask;
	int rc;

	if (strlen(path) >= sizeof(sa.sun_path)) {
		snprintf(why, why_len, "%s: path too long for a UNIX socket", path);
		return -ENAMETOOLONG;
	}
	strcpy(sa.sun_path, path);
	rc = clear_stale_socket(&sa);
	if (rc) {
		snprintf(why, why_len, "%s: %s", path, rc == -EEXIST ? "exists and is not a socket" :
			 rc == -EADDRINUSE ? "another server answers on it" : strerror(-rc));
		return rc;
	}
	adm = calloc(1, sizeof(*adm));
	if (!adm)
		return -ENOMEM;
	adm->srv = srv;
	strcpy(adm->path, path);
	adm->fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (adm->fd < 0) {
		rc = -errno;
		goto fail;
	}
	/* 0600 from the start: no moment in which others may connect. Called
	 * before the worker threads exist, so the umask is ours alone. */
	old_mask = umask(0177);
	rc = bind(adm->fd, (struct sockaddr *)&sa, sizeof(sa)) == 0 ? 0 : -errno;
	umask(old_mask);
	if (rc == 0 && chmod(path, 0600) != 0)
		rc = -errno;
	if (rc == 0 && listen(adm->fd, 8) != 0)
		rc = -errno;
	if (rc)
		goto fail_fd;
	pthread_mutex_init(&adm->lock, NULL);
	pthread_cond_init(&adm->cond, NULL);
	srv->admin = adm;
	rc = -pthread_create(&adm->thread, NULL, admin_main, adm);
	if (rc) {
		srv->admin = NULL;
		pthread_cond_destroy(&adm->cond);
		pthread_mutex_destroy(&adm->lock);
		unlink(path);
		goto fail_fd;
	}
	return 0;
fail_fd:
	close(adm->fd);
fail:
	snprintf(why, why_len, "%s: %s", path, strerror(-rc));
	free(adm);
	return rc;
}

void admin_stop(struct server *srv)
{
	struct admin *adm = srv->admin;

	if (!adm)
		return;
	pthread_join(adm->thread, NULL);
	close(adm->fd);
	unlink(adm->path);
	pthread_cond_destroy(&adm->cond);
	pthread_mutex_destroy(&adm->lock);
	srv->admin = NULL;
	free(adm);
}

/* ---- Addresses -------------------------------------------------------- */

void admin_format_addr(const void *addr, size_t len, char *out, size_t out_len)
{
	struct sockaddr_storage ss;     /* the wire's bytes need not be aligned */
	char host[INET6_ADDRSTRLEN];
	size_t j = 0;

	memset(&ss, 0, sizeof(ss));
	memcpy(&ss, addr, len < sizeof(ss) ? len : sizeof(ss));
	if (len >= sizeof(struct sockaddr_in) && ss.ss_family == AF_INET) {
		const struct sockaddr_in *in = (const struct sockaddr_in *)&ss;
		inet_ntop(AF_INET, &in->sin_addr, host, sizeof(host));
		snprintf(out, out_len, "%s:%u", host, ntohs(in->sin_port));
		return;
	}
	if (len >= sizeof(struct sockaddr_in6) && ss.ss_family == AF_INET6) {
		const struct sockaddr_in6 *in6 = (const struct sockaddr_in6 *)&ss;
		inet_ntop(AF_INET6, &in6->sin6_addr, host, sizeof(host));
		snprintf(out, out_len, "[%s]:%u", host, ntohs(in6->sin6_port));
		return;
	}
	/* A name (shm): its printable characters up to its end. */
	for (size_t i = 0; i < len && j + 1 < out_len; i++) {
		unsigned char c = ((const unsigned char *)addr)[i];
		if (c == '\0')
			break;
		out[j++] = isgraph(c) ? (char)c : '?';
	}
	out[j] = '\0';
}
