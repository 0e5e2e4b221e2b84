/* bench-bdb.c — Berkeley DB (Debian's libdb5.3, unchanged) random-read
 * transactions, the workload DAFS was built to serve: a database with its
 * own buffer pool reading pages it does not hold.
 *
 *   bench-bdb load --home DIR --mib N [--cache-mib C]
 *   bench-bdb run  --home DIR [--cache-mib C] [--seconds S] [--warmup S] [--seed N]
 *
 * load builds DIR/bench.db, a B-tree with 8 KiB pages of 100-byte records
 * under 8-byte keys 0, 1, 2... (big-endian, so the default comparison keeps
 * them in order and the tree is built by appends), until the file reaches N
 * MiB. It uses a memory-pool-only environment: the build is set-up, not
 * what is measured, and logging it would only write a log nobody reads.
 *
 * run opens DIR as a transactional environment (DB_CREATE | DB_INIT_MPOOL |
 * DB_INIT_TXN | DB_INIT_LOCK | DB_INIT_LOG) with a buffer pool of C MiB
 * (default 16; Berkeley DB adds its own overhead to it) and runs
 * single-threaded read transactions, each reading one uniformly random
 * record and checking it: --warmup seconds untimed, then --seconds timed.
 *
 * Both use DB_PRIVATE: the environment's regions (buffer pool, lock and
 * transaction tables) live in this process's heap instead of __db.00N files
 * mapped MAP_SHARED from DIR. One process uses the environment, so sharing
 * buys nothing, and the figure is then about the database file's I/O (the
 * pool's preads and pwrites), the same on a local directory and on /dafs,
 * rather than about shared mappings of region files.
 *
 * Output, one line on stdout:
 *   load: records=... db_bytes=... load_s=...
 *   run:  records=... db_bytes=... cache_bytes=... txns=... seconds=... tps=...
 *         cpu_us_per_txn=... mpool_hit_pct=...
 * Exit status: 0 done, 1 a failure, 2 a usage error.
 */
#include "bench-util.h"

#include <db.h>
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>

#define DB_FILE       "bench.db"
#define PAGE_SIZE     8192
#define RECORD_SIZE   100
#define RECORD_MAGIC  UINT64_C(0x4244425245434f52)   /* "BDBRECOR" */

struct opts {
	const char *home;
	uint64_t mib;
	uint64_t cache_mib;
	double seconds, warmup;
	uint64_t seed;
};

static void die(const char *fmt, ...) __attribute__((format(printf, 1, 2), noreturn));
static void die(const char *fmt, ...)
{
	va_list ap;

	fputs("bench-bdb: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	exit(1);
}

/* Dies with Berkeley DB's message for a non-zero return. */
static void check(int rc, const char *what)
{
	if (rc)
		die("%s: %s", what, db_strerror(rc));
}

static void key_of(uint64_t i, unsigned char out[8])
{
	for (int b = 7; b >= 0; b--, i >>= 8)
		out[b] = (unsigned char)i;
}

/* A record says which key it belongs to, so a read of the wrong page or a
 * torn one cannot pass for a good read. */
static void record_of(uint64_t i, unsigned char out[RECORD_SIZE])
{
	uint64_t tag = i ^ RECORD_MAGIC;

	memcpy(out, &tag, sizeof(tag));
	for (size_t b = sizeof(tag); b < RECORD_SIZE; b++)
		out[b] = (unsigned char)(i * 31 + b);
}

static DB_ENV *env_open(const struct opts *o, uint32_t flags)
{
	DB_ENV *env;

	check(db_env_create(&env, 0), "db_env_create");
	env->set_errfile(env, stderr);
	env->set_errpfx(env, "bench-bdb");
	check(env->set_cachesize(env, 0, (uint32_t)(o->cache_mib << 20), 1), "set_cachesize");
	check(env->open(env, o->home, flags | DB_CREATE | DB_PRIVATE | DB_INIT_MPOOL, 0),
	      "DB_ENV->open");
	return env;
}

static uint64_t file_bytes(const struct opts *o)
{
	char path[4096];
	struct stat st;

	snprintf(path, sizeof(path), "%s/%s", o->home, DB_FILE);
	if (stat(path, &st) != 0)
		die("stat %s: %s", path, strerror(errno));
	return (uint64_t)st.st_size;
}

static void load(const struct opts *o)
{
	const uint64_t target = o->mib << 20;
	unsigned char k[8], v[RECORD_SIZE];
	DBT key = { .data = k, .size = sizeof(k) }, val = { .data = v, .size = sizeof(v) };
	DB_MPOOLFILE *mpf;
	db_pgno_t last = 0;
	uint64_t n = 0;
	double t0 = bench_now();
	DB_ENV *env = env_open(o, 0);
	DB *db;

	check(db_create(&db, env, 0), "db_create");
	check(db->set_pagesize(db, PAGE_SIZE), "set_pagesize");
	check(db->open(db, NULL, DB_FILE, NULL, DB_BTREE, DB_CREATE | DB_EXCL, 0644),
	      "DB->open " DB_FILE " (a fresh --home is needed)");
	mpf = db->get_mpf(db);
	for (;;) {
		/* The page count is looked at every 1024 records: the file
		 * overshoots the target by at most a few pages. */
		if (n % 1024 == 0) {
			check(mpf->get_last_pgno(mpf, &last), "get_last_pgno");
			if (((uint64_t)last + 1) * PAGE_SIZE >= target)
				break;
		}
		key_of(n, k);
		record_of(n, v);
		check(db->put(db, NULL, &key, &val, 0), "DB->put");
		n++;
	}
	check(db->close(db, 0), "DB->close");   /* writes back every dirty page */
	check(env->close(env, 0), "DB_ENV->close");
	printf("records=%" PRIu64 " db_bytes=%" PRIu64 " load_s=%.3f\n", n, file_bytes(o),
	       bench_now() - t0);
}

static double cpu_seconds(void)
{
	struct rusage ru;

	if (getrusage(RUSAGE_SELF, &ru) != 0)
		die("getrusage: %s", strerror(errno));
	return (double)(ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) +
	       (double)(ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) * 1e-6;
}

/* Reads one random record in its own transaction. */
static void read_txn(DB_ENV *env, DB *db, uint64_t records, struct bench_rng *rng)
{
	uint64_t i = bench_rng_next(rng) % records;
	unsigned char k[8], want[RECORD_SIZE], got[RECORD_SIZE] = { 0 };
	DBT key = { .data = k, .size = sizeof(k) };
	DBT val = { .data = got, .ulen = sizeof(got), .flags = DB_DBT_USERMEM };
	DB_TXN *txn;

	key_of(i, k);
	check(env->txn_begin(env, NULL, &txn, 0), "txn_begin");
	int rc = db->get(db, txn, &key, &val, 0);
	if (rc) {
		txn->abort(txn);
		die("DB->get of record %" PRIu64 ": %s", i, db_strerror(rc));
	}
	check(txn->commit(txn, 0), "DB_TXN->commit");
	record_of(i, want);
	if (val.size != RECORD_SIZE || memcmp(got, want, RECORD_SIZE) != 0)
		die("record %" PRIu64 " came back wrong (%u bytes)", i, val.size);
}

static void run(const struct opts *o)
{
	DB_ENV *env = env_open(o, DB_INIT_TXN | DB_INIT_LOCK | DB_INIT_LOG);
	unsigned char last_key[8] = { 0 };
	DBT key = { .data = last_key, .ulen = sizeof(last_key), .flags = DB_DBT_USERMEM };
	DBT val = { .flags = DB_DBT_PARTIAL };   /* the last key only, no data */
	DB_MPOOL_STAT *ms;
	struct bench_rng rng;
	uint64_t records = 0, txns = 0;
	uint32_t gbytes, bytes;
	int ncache;
	DBC *cur;
	DB *db;

	check(db_create(&db, env, 0), "db_create");
	check(db->open(db, NULL, DB_FILE, NULL, DB_BTREE, DB_AUTO_COMMIT, 0), "DB->open " DB_FILE);
	check(db->cursor(db, NULL, &cur, 0), "DB->cursor");
	check(cur->get(cur, &key, &val, DB_LAST), "DBC->get DB_LAST (is the database empty?)");
	check(cur->close(cur), "DBC->close");
	for (unsigned b = 0; b < key.size; b++)
		records = records << 8 | last_key[b];
	records++;
	check(env->get_cachesize(env, &gbytes, &bytes, &ncache), "get_cachesize");
	bench_rng_seed(&rng, o->seed);

	for (double end = bench_now() + o->warmup; bench_now() < end;)
		for (int i = 0; i < 64; i++)
			read_txn(env, db, records, &rng);
	check(env->memp_stat(env, &ms, NULL, DB_STAT_CLEAR), "memp_stat");
	free(ms);

	double cpu0 = cpu_seconds(), t0 = bench_now(), deadline = t0 + o->seconds, t1;
	do {
		for (int i = 0; i < 64; i++)
			read_txn(env, db, records, &rng);
		txns += 64;
	} while ((t1 = bench_now()) < deadline);
	double cpu = cpu_seconds() - cpu0, secs = t1 - t0;

	check(env->memp_stat(env, &ms, NULL, 0), "memp_stat");
	double lookups = (double)(ms->st_cache_hit + ms->st_cache_miss);
	double hit_pct = lookups > 0 ? 100.0 * (double)ms->st_cache_hit / lookups : 0;
	free(ms);
	check(db->close(db, 0), "DB->close");
	check(env->close(env, 0), "DB_ENV->close");
	printf("records=%" PRIu64 " db_bytes=%" PRIu64 " cache_bytes=%" PRIu64 " txns=%" PRIu64
	       " seconds=%.3f tps=%.0f cpu_us_per_txn=%.2f mpool_hit_pct=%.1f\n",
	       records, file_bytes(o), ((uint64_t)gbytes << 30) + bytes, txns, secs,
	       (double)txns / secs, cpu / (double)txns * 1e6, hit_pct);
}

static void usage(FILE *out)
{
	fprintf(out,
		"usage: bench-bdb load --home DIR --mib N [--cache-mib C]\n"
		"       bench-bdb run  --home DIR [--cache-mib C] [--seconds S] [--warmup S]"
		" [--seed N]\n");
}

static double parse_seconds(const char *opt, const char *v)
{
	char *end;
	double s = strtod(v, &end);

	if (*end || end == v || !(s >= 0 && s <= 3600)) {
		fprintf(stderr, "bench-bdb: bad %s value '%s'\n", opt, v);
		exit(2);
	}
	return s;
}

int main(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "home", required_argument, NULL, 'H' },
		{ "mib", required_argument, NULL, 'm' },
		{ "cache-mib", required_argument, NULL, 'c' },
		{ "seconds", required_argument, NULL, 't' },
		{ "warmup", required_argument, NULL, 'w' },
		{ "seed", required_argument, NULL, 'r' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct opts o = { .cache_mib = 16, .seconds = 3, .warmup = 1, .seed = 1 };
	int c;

	while ((c = getopt_long(argc, argv, "h", longopts, NULL)) != -1) {
		switch (c) {
		case 'H': o.home = optarg; break;
		case 'm': o.mib = bench_count_arg("--mib", optarg, false, 1, 4095); break;
		case 'c': o.cache_mib = bench_count_arg("--cache-mib", optarg, false, 1, 4095); break;
		case 't': o.seconds = parse_seconds("--seconds", optarg); break;
		case 'w': o.warmup = parse_seconds("--warmup", optarg); break;
		case 'r': o.seed = bench_count_arg("--seed", optarg, false, 0, UINT64_MAX); break;
		case 'h': usage(stdout); return 0;
		default: usage(stderr); return 2;
		}
	}
	if (optind != argc - 1 || !o.home) {
		usage(stderr);
		return 2;
	}
	if (!strcmp(argv[optind], "load")) {
		if (!o.mib) {
			fprintf(stderr, "bench-bdb: load needs --mib\n");
			return 2;
		}
		load(&o);
	} else if (!strcmp(argv[optind], "run")) {
		if (!(o.seconds > 0)) {
			fprintf(stderr, "bench-bdb: run needs --seconds above 0\n");
			return 2;
		}
		run(&o);
	} else {
		usage(stderr);
		return 2;
	}
	return 0;
}
