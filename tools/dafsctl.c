/* dafsctl.c — the administrator's tool: sends one command to a running
 * dafs-server over its --admin socket and prints the answer.
 *
 *   dafsctl --admin SOCKET sessions      one line per session (a header first)
 *   dafsctl --admin SOCKET fence NAME    cut client NAME off, refuse its new sessions
 *   dafsctl --admin SOCKET unfence NAME
 *   dafsctl --admin SOCKET evict ID      end one session (ID as `sessions` prints it)
 *   dafsctl --admin SOCKET reload        re-read the server's --keys file
 *
 * Exit status: 0 done, 1 the server refused the command (its reason on
 * stderr), 2 usage, 3 the server could not be reached or refused us.
 * It links nothing of ours: the protocol is one line each way and "ok" or
 * "error: WHY" at the end (server/admin.h). */
#include <errno.h>
#include <poll.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#define ANSWER_TIMEOUT_MS 10000

static void usage(FILE *out)
{
	fprintf(out,
		"usage: dafsctl --admin SOCKET COMMAND\n"
		"\n"
		"Administers a running dafs-server through its --admin socket (root or the\n"
		"server's own user only).\n"
		"\n"
		"  sessions        list sessions: id, client name, address, pid, uid, open\n"
		"                  files, locks, requests, bytes in, bytes out, idle seconds\n"
		"  fence NAME      every session of client NAME fails its next request with\n"
		"                  EKEYREVOKED, its locks and files are released, and new\n"
		"                  sessions of NAME are refused until unfence\n"
		"  unfence NAME    accept NAME again\n"
		"  evict ID        end one session: its next request fails with ECONNABORTED\n"
		"  reload          re-read the server's --keys file; removed clients are fenced\n"
		"\n"
		"Exit status: 0 done, 1 refused by the server, 2 usage, 3 server unreachable.\n");
}

static int connect_admin(const char *path)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	int fd;

	if (strlen(path) >= sizeof(sa.sun_path)) {
		fprintf(stderr, "dafsctl: %s: path too long for a UNIX socket\n", path);
		return -1;
	}
	strcpy(sa.sun_path, path);
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0 || connect(fd, (struct sockaddr *)&sa, sizeof(sa)) != 0) {
		int err = errno;
		fprintf(stderr, "dafsctl: cannot reach the server at %s: %s%s\n", path,
			strerror(err), err == EACCES ? " (root or the server's user only)" :
			err == ENOENT || err == ECONNREFUSED ? " (is dafs-server running with "
			"--admin?)" : "");
		if (fd >= 0)
			close(fd);
		return -1;
	}
	return fd;
}

/* Prints the answer's lines up to the last one, which says how it went:
 * 0 ok, 1 an error from the command, 3 refused or cut short. */
static int print_answer(int fd, bool header)
{
	char buf[65536], *line;
	size_t len = 0;
	bool printed_header = false;

	for (;;) {
		struct pollfd p = { .fd = fd, .events = POLLIN };
		ssize_t n;
		if (len == sizeof(buf) - 1) {
			fprintf(stderr, "dafsctl: an answer line too long\n");
			return 3;
		}
		if (poll(&p, 1, ANSWER_TIMEOUT_MS) <= 0) {
			fprintf(stderr, "dafsctl: no answer from the server within %d s\n",
				ANSWER_TIMEOUT_MS / 1000);
			return 3;
		}
		n = read(fd, buf + len, sizeof(buf) - 1 - len);
		if (n <= 0) {
			fprintf(stderr, "dafsctl: the server closed the connection mid-answer\n");
			return 3;
		}
		len += (size_t)n;
		buf[len] = '\0';
		char *nl;
		while ((nl = strchr(buf, '\n'))) {
			*nl = '\0';
			line = buf;
			if (strncmp(line, "error: ", 7) == 0) {
				fprintf(stderr, "dafsctl: %s\n", line + 7);
				/* The socket's own refusal (SO_PEERCRED) is not the command's. */
				return strncmp(line + 7, "permission denied", 17) == 0 ? 3 : 1;
			}
			/* The header once, before the first line or alone. */
			if (header && !printed_header) {
				printf("%-16s %-12s %-24s %7s %6s %5s %5s %9s %12s %12s %7s\n", "ID",
				       "CLIENT", "ADDRESS", "PID", "UID", "FILES", "LOCKS", "REQUESTS",
				       "BYTES_IN", "BYTES_OUT", "IDLE_S");
				printed_header = true;
			}
			if (strcmp(line, "ok") == 0)
				return 0;
			puts(line);
			len -= (size_t)(nl + 1 - buf);
			memmove(buf, nl + 1, len + 1);
		}
	}
}

int main(int argc, char **argv)
{
	const char *path = NULL;
	char cmd[256];
	int i = 1, fd, rc, n;

	if (argc >= 2 && (!strcmp(argv[1], "-h") || !strcmp(argv[1], "--help"))) {
		usage(stdout);
		return 0;
	}
	if (argc >= 3 && !strcmp(argv[1], "--admin")) {
		path = argv[2];
		i = 3;
	} else if (argc >= 2 && !strncmp(argv[1], "--admin=", 8)) {
		path = argv[1] + 8;
		i = 2;
	}
	if (!path || i >= argc) {
		usage(stderr);
		return 2;
	}
	const char *verb = argv[i];
	int want = !strcmp(verb, "sessions") || !strcmp(verb, "reload") ? 0 :
		   !strcmp(verb, "fence") || !strcmp(verb, "unfence") || !strcmp(verb, "evict") ? 1 :
		   -1;
	if (want < 0 || argc - i - 1 != want) {
		fprintf(stderr, want < 0 ? "dafsctl: unknown command '%s'\n" :
			"dafsctl: %s takes %s\n", verb, want ? "one argument" : "no argument");
		usage(stderr);
		return 2;
	}
	n = snprintf(cmd, sizeof(cmd), "%s%s%s\n", verb, want ? " " : "", want ? argv[i + 1] : "");
	if (n < 0 || (size_t)n >= sizeof(cmd) || strchr(want ? argv[i + 1] : "", '\n')) {
		fprintf(stderr, "dafsctl: argument too long\n");
		return 2;
	}
	fd = connect_admin(path);
	if (fd < 0)
		return 3;
	if (send(fd, cmd, (size_t)n, MSG_NOSIGNAL) != n) {
		/* A refused peer may be told so and closed before it writes. */
		rc = print_answer(fd, false);
		close(fd);
		if (rc == 0 || rc == 1)
			rc = 3;
		return rc;
	}
	rc = print_answer(fd, !strcmp(verb, "sessions"));
	close(fd);
	return rc;
}
