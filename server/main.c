/* main.c — dafs-server: command line, start-up of the workers, and the clean
 * shutdown on SIGTERM/SIGINT (in-flight requests finish, files close). */
#include <errno.h>
#include <getopt.h>
#include <netdb.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "admin.h"
#include "crash.h"
#include "log.h"
#include "server.h"

static struct server *the_server;

static void on_stop_signal(int sig)
{
	(void)sig;
	if (the_server)
		the_server->stopping = 1;
}

/* Only this host can reach the address: shm, or a host name all of whose
 * addresses are loopback (127.0.0.0/8, ::1). */
static bool listens_locally(const struct dafs_url *url)
{
	struct addrinfo hints = { .ai_family = AF_UNSPEC }, *res, *ai;
	bool local = true;

	if (strcmp(url->scheme, "shm") == 0)
		return true;
	if (getaddrinfo(url->node, NULL, &hints, &res) != 0)
		return false;
	for (ai = res; ai; ai = ai->ai_next) {
		if (ai->ai_family == AF_INET) {
			const struct sockaddr_in *in = (const void *)ai->ai_addr;
			local &= (ntohl(in->sin_addr.s_addr) >> 24) == 127;
		} else if (ai->ai_family == AF_INET6) {
			const struct sockaddr_in6 *in6 = (const void *)ai->ai_addr;
			local &= IN6_IS_ADDR_LOOPBACK(&in6->sin6_addr);
		} else {
			local = false;
		}
	}
	freeaddrinfo(res);
	return local;
}

static void usage(FILE *out)
{
	fprintf(out,
		"usage: dafs-server --export DIR --listen URL [--threads N] [--lease SECONDS]\n"
		"                   [--keys FILE] [--insecure] [--admin SOCKET] [limits]\n"
		"\n"
		"Serves DIR to DAFS clients over libfabric.\n"
		"\n"
		"  --export DIR      the directory to export; nothing outside it is reachable\n"
		"  --listen URL      shm://NAME, tcp://HOST:PORT or verbs://HOST:PORT\n"
		"  --threads N       worker threads, each with its own endpoint (default 1)\n"
		"  --lease SECONDS   a silent client's session, files and locks are dropped\n"
		"                    after this long (default 30)\n"
		"  --keys FILE       clients' keys, one 'NAME KEY [ro] [no_root_squash] [uid=N]\n"
		"                    [gid=N]' a line ('dafs keygen NAME' makes one): only\n"
		"                    clients with one of them get a session, and every\n"
		"                    message of theirs is authenticated\n"
		"  --insecure        without --keys, listen on a non-loopback address anyway:\n"
		"                    anyone who can reach it reads and writes the export\n"
		"  --admin SOCKET    serve dafsctl on this UNIX socket (mode 0600; root and\n"
		"                    the server's own user only)\n"
		"  --help            this text\n"
		"\n"
		"Limits against a hostile or broken client:\n"
		"%s", admission_usage);
	fprintf(out,
		"\n"
		"SIGTERM or SIGINT: finish the requests in flight, close every file, exit 0.\n");
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "export", required_argument, NULL, 'e' },
		{ "listen", required_argument, NULL, 'l' },
		{ "threads", required_argument, NULL, 't' },
		{ "lease", required_argument, NULL, 'L' },
		{ "keys", required_argument, NULL, 'k' },
		{ "insecure", no_argument, NULL, 'I' },
		{ "admin", required_argument, NULL, 'a' },
		{ "max-sessions-per-client", required_argument, NULL, 'X' },
		{ "max-open-files", required_argument, NULL, 'X' },
		{ "max-regions", required_argument, NULL, 'X' },
		{ "max-session-memory", required_argument, NULL, 'X' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	const char *export_dir = NULL, *listen_url = NULL, *admin_path = NULL;
	char why[512];
	struct server srv = { .nworkers = 1, .lease_ms = 30000 };
	struct sigaction sa = { .sa_handler = on_stop_signal };
	bool insecure = false;
	int c, rc, idx;

	admission_init(&srv.adm);
	while ((c = getopt_long(argc, argv, "e:l:t:L:k:Ih", opts, &idx)) != -1) {
		char *end;
		long v;
		switch (c) {
		case 'e':
			export_dir = optarg;
			break;
		case 'l':
			listen_url = optarg;
			break;
		case 't':
		case 'L':
			v = strtol(optarg, &end, 10);
			if (*end || v < 1 || v > (c == 't' ? 64 : 86400)) {
				fprintf(stderr, "dafs-server: bad --%s value '%s'\n",
					c == 't' ? "threads" : "lease", optarg);
				return 2;
			}
			if (c == 't')
				srv.nworkers = (unsigned)v;
			else
				srv.lease_ms = (unsigned)v * 1000;
			break;
		case 'k':
			srv.keys_path = optarg;
			break;
		case 'I':
			insecure = true;
			break;
		case 'a':
			admin_path = optarg;
			break;
		case 'X':
			/* The limits: admission.c parses its own. */
			if (admission_set_option(&srv.adm, opts[idx].name, optarg) != 0) {
				fprintf(stderr, "dafs-server: bad --%s value '%s'\n", opts[idx].name,
					optarg);
				return 2;
			}
			break;
		case 'h':
			usage(stdout);
			return 0;
		default:
			usage(stderr);
			return 2;
		}
	}
	if (!export_dir || !listen_url || optind != argc) {
		usage(stderr);
		return 2;
	}
	if (dafs_url_parse(listen_url, &srv.url) != 0) {
		fprintf(stderr, "dafs-server: bad URL '%s' (want shm://NAME, tcp://HOST:PORT "
			"or verbs://HOST:PORT)\n", listen_url);
		return 2;
	}
	if (dafs_auth_init() != 0) {
		fprintf(stderr, "dafs-server: libsodium does not start\n");
		return 1;
	}
	if (srv.keys_path) {
		rc = dafs_keys_load(srv.keys_path, &srv.keys, why, sizeof(why));
		if (rc) {
			fprintf(stderr, "dafs-server: %s\n", why);
			return 1;
		}
	} else if (!listens_locally(&srv.url)) {
		if (!insecure) {
			fprintf(stderr, "dafs-server: %s is not a loopback address: give the "
				"clients keys (--keys FILE), or --insecure to serve anyone who "
				"can reach it\n", listen_url);
			return 1;
		}
		log_msg("warning: --insecure: anyone who can reach %s reads and writes %s",
			listen_url, export_dir);
	}
	challenge_table_init(&srv.challenges);
	rc = export_init(&srv.export, export_dir);
	if (rc) {
		fprintf(stderr, "dafs-server: cannot export %s: %s\n", export_dir, strerror(-rc));
		return 1;
	}
	pthread_mutex_init(&srv.keys_lock, NULL);
	rc = locks_create(&srv.locks);
	if (rc) {
		fprintf(stderr, "dafs-server: %s\n", strerror(-rc));
		return 1;
	}
	crash_install_handlers();
	/* Clients apply their own umask; the modes they send are final. */
	umask(0);
	signal(SIGPIPE, SIG_IGN);
	the_server = &srv;
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);

	srv.workers = calloc(srv.nworkers, sizeof(*srv.workers));
	if (!srv.workers)
		return 1;
	for (unsigned i = 0; i < srv.nworkers; i++) {
		rc = worker_init(&srv.workers[i], &srv, i, i == 0);
		if (rc == -ENODATA) {
			/* fi_getinfo found no provider for the scheme. */
			fprintf(stderr, "dafs-server: cannot listen on %s: libfabric has no usable "
				"%s provider here%s\n", listen_url, srv.url.scheme,
				strcmp(srv.url.scheme, "verbs") == 0 ? " (no RDMA device?)" : "");
			return 1;
		}
		if (rc) {
			fprintf(stderr, "dafs-server: cannot listen on %s: %s\n", listen_url,
				strerror(-rc));
			return 1;
		}
	}
	if (admin_path && (rc = admin_start(&srv, admin_path, why, sizeof(why))) != 0) {
		fprintf(stderr, "dafs-server: cannot serve --admin %s\n", why);
		/* Closing the endpoints gives back the shm name. */
		for (unsigned i = 0; i < srv.nworkers; i++)
			worker_fini(&srv.workers[i]);
		return 1;
	}
	log_msg("exporting %s on %s (%s, %u worker%s, lease %us)", export_dir, listen_url,
		dafs_fabric_provider(srv.workers[0].fab), srv.nworkers,
		srv.nworkers == 1 ? "" : "s", srv.lease_ms / 1000);
	for (unsigned i = 1; i < srv.nworkers; i++) {
		/* pthread_create returns a positive errno. */
		rc = -pthread_create(&srv.workers[i].thread, NULL, worker_main, &srv.workers[i]);
		if (rc) {
			fprintf(stderr, "dafs-server: cannot start a worker: %s\n", strerror(-rc));
			srv.stopping = 1;
			srv.nworkers = i;
			break;
		}
	}
	worker_main(&srv.workers[0]);
	for (unsigned i = 1; i < srv.nworkers; i++)
		pthread_join(srv.workers[i].thread, NULL);
	admin_stop(&srv);
	for (unsigned i = 0; i < srv.nworkers; i++)
		worker_fini(&srv.workers[i]);
	admission_fini(&srv.adm);
	free(srv.workers);
	locks_destroy(srv.locks);
	export_fini(&srv.export);
	challenge_table_fini(&srv.challenges);
	dafs_keys_free(&srv.keys);
	log_msg("stopped");
	return 0;
}
