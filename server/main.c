/* main.c — dafs-server: command line, start-up of the workers, and the clean
 * shutdown on SIGTERM/SIGINT (in-flight requests finish, files close). */
#include <errno.h>
#include <netdb.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "admin.h"
#include "config.h"
#include "crash.h"
#include "log.h"
#include "notify.h"
#include "server.h"
#include "state.h"

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
		"usage: dafs-server [--config FILE] --export DIR --listen URL [--threads N]\n"
		"                   [--lease SECONDS] [--keys FILE] [--insecure] [--admin SOCKET]\n"
		"                   [--max-...]\n"
		"\n"
		"Serves DIR to DAFS clients over libfabric.\n"
		"\n");
	config_print_options(out);
	fprintf(out,
		"\n"
		"Every option but --config and --help may instead be a 'name = value' line of\n"
		"the --config file; the command line overrides the file.\n"
		"SIGTERM or SIGINT: finish the requests in flight, close every file, exit 0.\n");
}

/* Reads the settings: the --config file first, then the command line over it.
 * Returns -1 to go on, else the exit status (0 after --help). */
static int read_settings(int argc, char **argv, struct server_config *cfg)
{
	struct option longopts[64];
	char shortopts[3 * 64], err[512];
	int c;

	if (config_getopt_tables(longopts, 64, shortopts))
		return 1;
	/* First pass: only --config and --help; a bad option stops us here. */
	while ((c = getopt_long(argc, argv, shortopts, longopts, NULL)) != -1) {
		if (c == 'h') {
			usage(stdout);
			return 0;
		}
		if (c == '?') {
			usage(stderr);
			return 2;
		}
		if (c == 'c' && config_apply(cfg, c, optarg, err, sizeof(err)))
			goto bad;
	}
	if (optind != argc) {
		usage(stderr);
		return 2;
	}
	if (cfg->config_file && config_read_file(cfg, cfg->config_file, err, sizeof(err)))
		goto bad;
	optind = 0;     /* GNU getopt: start over */
	while ((c = getopt_long(argc, argv, shortopts, longopts, NULL)) != -1) {
		const struct config_option *o = config_option_by_letter(c);
		if (c == 'c')
			continue;
		if (config_apply(cfg, c, o && o->has_value ? optarg : "yes", err, sizeof(err)))
			goto bad;
	}
	if (!cfg->export_dir || !cfg->listen_url) {
		fprintf(stderr, "dafs-server: --export and --listen are needed (on the command "
			"line or in the --config file)\n");
		usage(stderr);
		return 2;
	}
	return -1;
bad:
	fprintf(stderr, "dafs-server: %s\n", err);
	return 2;
}

int main(int argc, char **argv)
{
	struct server_config cfg;
	const char *export_dir, *listen_url, *state_dir;
	struct server srv = { 0 };
	struct sigaction sa = { .sa_handler = on_stop_signal };
	char why[512];
	int rc;

	admission_init(&srv.adm);
	config_init(&cfg);
	cfg.adm = &srv.adm;
	rc = read_settings(argc, argv, &cfg);
	if (rc >= 0) {
		config_free(&cfg);
		return rc;
	}
	export_dir = cfg.export_dir;
	listen_url = cfg.listen_url;
	srv.nworkers = cfg.nworkers;
	srv.lease_ms = cfg.lease_ms;
	if (dafs_url_parse(listen_url, &srv.url) != 0) {
		fprintf(stderr, "dafs-server: bad URL '%s' (want shm://NAME, tcp://HOST:PORT "
			"or verbs://HOST:PORT)\n", listen_url);
		return 2;
	}
	if (dafs_auth_init() != 0) {
		fprintf(stderr, "dafs-server: libsodium does not start\n");
		return 1;
	}
	srv.keys_path = cfg.keys_file;
	if (srv.keys_path) {
		rc = dafs_keys_load(srv.keys_path, &srv.keys, why, sizeof(why));
		if (rc) {
			fprintf(stderr, "dafs-server: %s\n", why);
			return 1;
		}
	} else if (!listens_locally(&srv.url)) {
		if (!cfg.insecure) {
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
	state_dir = cfg.state_dir ? cfg.state_dir : getenv("STATE_DIRECTORY");
	if (state_dir && strcmp(state_dir, "none") != 0 &&
	    (rc = state_open(&srv, state_dir, why, sizeof(why))) != 0) {
		fprintf(stderr, "dafs-server: cannot keep --state %s\n", why);
		for (unsigned i = 0; i < srv.nworkers; i++)
			worker_fini(&srv.workers[i]);
		return 1;
	}
	if (cfg.admin_socket &&
	    (rc = admin_start(&srv, cfg.admin_socket, why, sizeof(why))) != 0) {
		fprintf(stderr, "dafs-server: cannot serve --admin %s\n", why);
		/* Closing the endpoints gives back the shm name. */
		for (unsigned i = 0; i < srv.nworkers; i++)
			worker_fini(&srv.workers[i]);
		state_close(&srv);
		return 1;
	}
	log_msg("exporting %s on %s (%s, %u worker%s, lease %us, %s%s)", export_dir, listen_url,
		dafs_fabric_provider(srv.workers[0].fab), srv.nworkers,
		srv.nworkers == 1 ? "" : "s", srv.lease_ms / 1000,
		srv.state ? "state in " : "no state: a retry after a restart may run twice",
		srv.state ? state_dir : "");
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
	notify_ready(export_dir, listen_url);
	worker_main(&srv.workers[0]);
	notify_stopping();
	for (unsigned i = 1; i < srv.nworkers; i++)
		pthread_join(srv.workers[i].thread, NULL);
	admin_stop(&srv);
	for (unsigned i = 0; i < srv.nworkers; i++)
		worker_fini(&srv.workers[i]);
	state_close(&srv);
	admission_fini(&srv.adm);
	free(srv.workers);
	locks_destroy(srv.locks);
	export_fini(&srv.export);
	challenge_table_fini(&srv.challenges);
	dafs_keys_free(&srv.keys);
	log_msg("stopped");
	config_free(&cfg);
	return 0;
}
