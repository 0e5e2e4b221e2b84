/* test_cache.c — the client's page cache and write pipeline against a real
 * dafs-server: reads through the cache equal the file, hits cost no fetch,
 * random reads fetch only what they ask, sequential runs read ahead and
 * stop when the pattern breaks, a scan and one-off random reads do not push
 * out pages read again, close-to-open revalidation sees a second client's
 * change, write-through, end of file, O_DIRECT and fadvise, pipelined writes
 * and their deferred errors (ENOSPC on a small tmpfs export), and threads
 * reading while another writes.
 *
 * Figures come from dafs_cache_stats; the file contents are checked against
 * the export directory, which this process reads and writes directly as
 * "the server's disk". */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <unistd.h>

#include "check.h"
#include "dafs.h"
#include "server_fixture.h"

#define PAGE 4096

static struct server_fixture fx;

/* The byte at `off` of test file `seed`: varies within and across pages. */
static unsigned char pattern(unsigned seed, uint64_t off)
{
	uint64_t x = (off / 7) * 2654435761u + seed * 40503u + off;

	return (unsigned char)(x ^ x >> 11);
}

/* Writes `size` bytes of pattern `seed` to the export directly. */
static void put_file(const char *name, size_t size, unsigned seed)
{
	char path[PATH_MAX];
	unsigned char *buf = malloc(size ? size : 1);
	FILE *f;

	for (size_t i = 0; i < size; i++)
		buf[i] = pattern(seed, i);
	snprintf(path, sizeof(path), "%s/%s", fx.export_dir, name);
	f = fopen(path, "w");
	if (!f || fwrite(buf, 1, size, f) != size || fclose(f) != 0) {
		perror(path);
		exit(2);
	}
	free(buf);
}

static bool matches(const unsigned char *buf, size_t len, unsigned seed, uint64_t off)
{
	for (size_t i = 0; i < len; i++)
		if (buf[i] != pattern(seed, off + i))
			return false;
	return true;
}

static struct dafs_session *session_with_cache(long long bytes)
{
	struct dafs_session_opts o = { .cache_size = bytes };
	struct dafs_session *s = NULL;

	return dafs_session_open(fx.url, &o, &s) == 0 ? s : NULL;
}

static struct dafs_cache_stats stats(struct dafs_session *s)
{
	struct dafs_cache_stats st;

	dafs_cache_stats(s, &st);
	return st;
}

static void test_reads_equal_the_file(struct dafs_session *s)
{
	const size_t size = 3 * 1024 * 1024 + 1234;
	unsigned char *buf = malloc(1 << 20);
	struct dafs_file *f;
	bool all_ok = true;

	put_file("a", size, 1);
	CHECK_EQ(dafs_open(s, "/a", O_RDONLY, 0, &f), 0, "open a 3 MiB file");
	srand(7);
	for (int i = 0; i < 400; i++) {
		uint64_t off = (uint64_t)rand() % (size + 5000);
		size_t len = i % 10 == 0 ? (size_t)rand() % (1 << 20) : (size_t)rand() % 20000;
		ssize_t want = off >= size ? 0 : (ssize_t)(size - off < len ? size - off : len);
		ssize_t got = dafs_pread(f, buf, len, (off_t)off);
		if (got != want || !matches(buf, (size_t)got, 1, off)) {
			all_ok = false;
			printf("# read %zu at %llu: got %zd, want %zd\n", len,
			       (unsigned long long)off, got, want);
			break;
		}
	}
	CHECK(all_ok, "400 reads of random sizes and offsets (past the end too) equal the file");
	CHECK(stats(s).hits > 0, "some of them were cache hits");
	dafs_close(f);
	free(buf);
}

static void test_hit_costs_no_fetch(struct dafs_session *s)
{
	unsigned char buf[PAGE];
	struct dafs_file *f;
	struct dafs_cache_stats a, b;

	put_file("h", 64 * PAGE, 2);
	dafs_open(s, "/h", O_RDONLY, 0, &f);
	CHECK_EQ(dafs_pread(f, buf, 100, 10 * PAGE + 5), 100, "first read of a page");
	a = stats(s);
	CHECK_EQ(dafs_pread(f, buf, 100, 10 * PAGE + 5), 100, "the same read again");
	b = stats(s);
	CHECK(matches(buf, 100, 2, 10 * PAGE + 5), "it returns the file's bytes");
	CHECK_EQ(b.fetched_bytes + b.readahead_bytes, a.fetched_bytes + a.readahead_bytes,
		 "nothing was fetched for it");
	CHECK_EQ(b.hits, a.hits + 1, "it counted as one hit");
	dafs_close(f);
}

static void test_random_reads_fetch_what_they_ask(struct dafs_session *s)
{
	unsigned char buf[PAGE];
	struct dafs_file *f;
	struct dafs_cache_stats a, b;
	const unsigned pages = 2048;
	bool ok = true;

	put_file("r", (size_t)pages * PAGE, 3);
	dafs_open(s, "/r", O_RDONLY, 0, &f);
	a = stats(s);
	/* 100 distinct pages, never the next one after the previous read. */
	for (unsigned i = 0; i < 100; i++) {
		unsigned page = (i * 613 + 11) % pages;
		ok &= dafs_pread(f, buf, PAGE, (off_t)page * PAGE) == PAGE &&
		      matches(buf, PAGE, 3, (uint64_t)page * PAGE);
	}
	b = stats(s);
	CHECK(ok, "100 random 4 KiB reads return the file's bytes");
	CHECK_EQ(b.fetched_bytes - a.fetched_bytes, 100 * PAGE,
		 "each fetched its own 4 KiB page and nothing more");
	CHECK_EQ(b.readahead_bytes - a.readahead_bytes, 0, "random reads started no read-ahead");
	dafs_close(f);
}

static void test_readahead_grows_and_stops(struct dafs_session *s)
{
	unsigned char buf[PAGE];
	struct dafs_file *f;
	struct dafs_cache_stats a, b, c;
	const size_t size = 8 << 20;
	bool ok = true;

	put_file("seq", size, 4);
	dafs_open(s, "/seq", O_RDONLY, 0, &f);
	a = stats(s);
	for (off_t off = 0; off < 4 << 20; off += PAGE)
		ok &= dafs_pread(f, buf, PAGE, off) == PAGE && matches(buf, PAGE, 4, (uint64_t)off);
	b = stats(s);
	CHECK(ok, "4 MiB read sequentially in 4 KiB reads equals the file");
	CHECK(b.readahead_bytes - a.readahead_bytes >= (3u << 20),
	      "read-ahead fetched most of it (%llu bytes)",
	      (unsigned long long)(b.readahead_bytes - a.readahead_bytes));
	CHECK(b.misses - a.misses <= 8, "the reader waited on at most a few misses (%llu)",
	      (unsigned long long)(b.misses - a.misses));
	CHECK(b.readahead_used_bytes - a.readahead_used_bytes >= (3u << 20),
	      "the pages fetched ahead were read");

	/* The pattern breaks: random reads start nothing new. */
	dafs_pread(f, buf, PAGE, 7 << 20);
	c = stats(s);
	for (int i = 0; i < 50; i++)
		dafs_pread(f, buf, PAGE, (off_t)((i * 37 % 1000) + 1200) * PAGE);
	b = stats(s);
	CHECK(b.readahead_bytes - c.readahead_bytes <= (1u << 20),
	      "after the run broke, read-ahead stopped (%llu bytes more, in flight at most)",
	      (unsigned long long)(b.readahead_bytes - c.readahead_bytes));
	dafs_close(f);
}

/* A 4 MiB cache: 512 KiB read twice (protected), then a 16 MiB scan and
 * 2,000 random reads of a third file never repeated, then the 512 KiB
 * again. */
static void test_scan_resistance(void)
{
	/* The scan's 1 MiB reads would go around the cache (direct reads):
	 * what is tested here is the cache's own resistance to them. */
	struct dafs_session_opts o = { .cache_size = 4 << 20, .direct_read_min = -1 };
	struct dafs_session *s = NULL;
	unsigned char *buf = malloc(1 << 20);
	struct dafs_file *hot, *scan, *rnd;
	struct dafs_cache_stats a, b;

	put_file("hot", 512 << 10, 5);
	put_file("scan", 16 << 20, 6);
	put_file("rand", 16 << 20, 10);
	dafs_session_open(fx.url, &o, &s);
	CHECK(s && stats(s).size == 4 << 20, "a session with a 4 MiB cache");
	if (!s)
		return;
	dafs_open(s, "/hot", O_RDONLY, 0, &hot);
	dafs_open(s, "/scan", O_RDONLY, 0, &scan);
	for (int pass = 0; pass < 2; pass++)
		for (off_t off = (512 << 10) - PAGE; off >= 0; off -= PAGE)
			dafs_pread(hot, buf, PAGE, off);     /* backwards: not a sequential run */
	CHECK(stats(s).protected_pages >= 128, "the pages read twice are protected (%llu)",
	      (unsigned long long)stats(s).protected_pages);
	for (off_t off = 0; off < 16 << 20; off += 1 << 20)
		dafs_pread(scan, buf, 1 << 20, off);
	/* 2,000 random pages of another 16 MiB file, each read once. */
	dafs_open(s, "/rand", O_RDONLY, 0, &rnd);
	for (int i = 0; i < 2000; i++)
		dafs_pread(rnd, buf, PAGE, (off_t)((i * 2897u + 5) % 4096) * PAGE);
	dafs_close(rnd);
	CHECK(stats(s).evictions > 4096, "the scan and the random reads evicted pages (%llu)",
	      (unsigned long long)stats(s).evictions);
	a = stats(s);
	for (off_t off = (512 << 10) - PAGE; off >= 0; off -= PAGE)
		dafs_pread(hot, buf, PAGE, off);
	b = stats(s);
	CHECK_EQ(b.misses - a.misses, 0, "every page read twice before is still cached");
	CHECK(matches(buf, PAGE, 5, 0), "and holds the file's bytes");
	dafs_close(hot);
	dafs_close(scan);
	dafs_session_close(s);
	free(buf);
}

static void test_close_to_open(struct dafs_session *s)
{
	struct dafs_session *other = session_with_cache(0);
	struct dafs_file *f, *g;
	unsigned char buf[PAGE];
	struct dafs_cache_stats a, b;

	put_file("cto", 8 * PAGE, 7);
	dafs_open(s, "/cto", O_RDONLY, 0, &f);
	dafs_pread(f, buf, PAGE, 0);
	dafs_close(f);

	dafs_open(s, "/cto", O_RDONLY, 0, &f);
	a = stats(s);
	dafs_pread(f, buf, PAGE, 0);
	b = stats(s);
	dafs_close(f);
	CHECK_EQ(b.misses, a.misses, "reopened unchanged: the cached page is used");

	CHECK(other != NULL, "a second client");
	if (!other)
		return;
	memset(buf, 'Z', PAGE);
	dafs_open(other, "/cto", O_WRONLY, 0, &g);
	CHECK_EQ(dafs_pwrite(g, buf, 10, 0), 10, "the second client overwrites 10 bytes");
	CHECK_EQ(dafs_close(g), 0, "and closes");
	dafs_session_close(other);

	dafs_open(s, "/cto", O_RDONLY, 0, &f);
	CHECK_EQ(dafs_pread(f, buf, PAGE, 0), PAGE, "the first client reopens and reads");
	CHECK(memcmp(buf, "ZZZZZZZZZZ", 10) == 0 && matches(buf + 10, PAGE - 10, 7, 10),
	      "it sees the second client's bytes");
	dafs_close(f);
}

static void test_write_through_and_eof(struct dafs_session *s)
{
	unsigned char buf[3 * PAGE], zeros[3000] = { 0 };
	struct dafs_file *f;
	struct dafs_cache_stats a, b;

	put_file("w", 10000, 8);
	dafs_open(s, "/w", O_RDWR, 0, &f);
	CHECK_EQ(dafs_pread(f, buf, 200, 0), 200, "read the first page into the cache");
	CHECK_EQ(dafs_pread(f, buf, sizeof(buf), 8192), 10000 - 8192, "a read across the end is short");
	CHECK_EQ(dafs_pread(f, buf, 100, 20000), 0, "a read past the end returns 0");
	CHECK_EQ(dafs_pwrite(f, "hello", 5, 100), 5, "overwrite 5 bytes of a cached page");
	a = stats(s);
	CHECK_EQ(dafs_pread(f, buf, 10, 98), 10, "read them back");
	b = stats(s);
	CHECK(memcmp(buf + 2, "hello", 5) == 0 && buf[0] == pattern(8, 98),
	      "the read sees the write");
	CHECK_EQ(b.misses, a.misses, "from the cache");
	CHECK_EQ(dafs_pwrite(f, "tail", 4, 13000), 4, "write past the end, leaving a hole");
	CHECK_EQ(dafs_pread(f, buf, sizeof(buf), 8192), 13004 - 8192,
		 "the cached short page is not taken for the end of file any more");
	CHECK(matches(buf, 10000 - 8192, 8, 8192) && memcmp(buf + 1808, zeros, 3000) == 0 &&
	      memcmp(buf + 4808, "tail", 4) == 0, "old bytes, the hole's zeros, the new tail");
	CHECK_EQ(dafs_ftruncate(f, 50), 0, "truncate to 50 bytes");
	CHECK_EQ(dafs_pread(f, buf, 200, 0), 50, "a read sees the truncation");
	CHECK(matches(buf, 50, 8, 0), "and its 50 bytes are the file's first 50");
	dafs_close(f);
}

/* A read at the end of file is answered from what the server said of the
 * size moments ago; our own truncate that extends the file, and another
 * client's growth after EOF_TRUST_MS (100 ms), are seen. */
static void test_end_of_file_known(struct dafs_session *s)
{
	struct dafs_session *other = session_with_cache(0);
	unsigned char buf[PAGE];
	struct dafs_cache_stats a, b;
	struct dafs_file *f, *g;
	bool grown = false;

	put_file("eof", 3 * PAGE, 12);
	dafs_open(s, "/eof", O_RDWR, 0, &f);
	a = stats(s);
	for (int i = 0; i < 100; i++)
		dafs_pread(f, buf, PAGE, 3 * PAGE);
	b = stats(s);
	CHECK_EQ(b.misses, a.misses, "100 reads at the end of file fetch nothing");
	CHECK_EQ(dafs_ftruncate(f, 5 * PAGE), 0, "our own truncate extends the file");
	CHECK(dafs_pread(f, buf, PAGE, 4 * PAGE) == PAGE && buf[0] == 0 && buf[PAGE - 1] == 0,
	      "a read past the old end sees the new zeros");
	CHECK(other != NULL, "a second client");
	if (!other)
		return;
	dafs_open(other, "/eof", O_WRONLY, 0, &g);
	memset(buf, 'G', PAGE);
	CHECK_EQ(dafs_pwrite(g, buf, PAGE, 5 * PAGE), PAGE, "the second client appends a page");
	CHECK_EQ(dafs_close(g), 0, "and closes");
	for (int i = 0; i < 40 && !grown; i++) {
		usleep(10000);
		grown = dafs_pread(f, buf, PAGE, 5 * PAGE) == PAGE && buf[0] == 'G';
	}
	CHECK(grown, "the first client, still open, reads the new page within 400 ms");
	dafs_close(f);
	dafs_session_close(other);
}

/* Closing a read-only file does not wait for the server's answer: many
 * open/read/close cycles stay right, and the file can be removed (and the
 * session closed) right after. */
static void test_unanswered_read_only_close(void)
{
	struct dafs_session *s = session_with_cache(0);
	unsigned char buf[3000];
	struct dafs_file *f;
	bool ok = true;
	char path[PATH_MAX];

	CHECK(s != NULL, "a session");
	if (!s)
		return;
	put_file("ro", sizeof(buf), 13);
	for (int i = 0; i < 2000 && ok; i++) {
		ok = dafs_open(s, "/ro", O_RDONLY, 0, &f) == 0 &&
		     dafs_pread(f, buf, sizeof(buf), 0) == (ssize_t)sizeof(buf) &&
		     matches(buf, sizeof(buf), 13, 0);
		ok = dafs_close(f) == 0 && ok;
	}
	CHECK(ok, "2,000 read-only open, read, close: every close returns 0, every read right");
	CHECK_EQ(dafs_unlink(s, "/ro"), 0, "the file is removed right after");
	snprintf(path, sizeof(path), "%s/ro", fx.export_dir);
	CHECK(access(path, F_OK) != 0, "and is gone from the server's disk");
	CHECK_EQ(dafs_session_close(s), 0, "the session closes cleanly after the unanswered closes");
}

static void test_odirect_and_advice(struct dafs_session *s)
{
	unsigned char buf[PAGE];
	struct dafs_file *f;
	struct dafs_cache_stats a, b;

	put_file("dio", 256 * PAGE, 9);
	dafs_open(s, "/dio", O_RDONLY | O_DIRECT, 0, &f);
	a = stats(s);
	CHECK_EQ(dafs_pread(f, buf, PAGE, 5 * PAGE), PAGE, "an O_DIRECT read");
	CHECK_EQ(dafs_pread(f, buf, PAGE, 5 * PAGE), PAGE, "and again");
	b = stats(s);
	CHECK(matches(buf, PAGE, 9, 5 * PAGE), "returns the file's bytes");
	CHECK(b.misses == a.misses && b.hits == a.hits && b.fetched_bytes == a.fetched_bytes,
	      "and does not touch the cache");
	dafs_close(f);

	dafs_open(s, "/dio", O_RDONLY, 0, &f);
	a = stats(s);
	CHECK_EQ(dafs_fadvise(f, 64 * PAGE, 32 * PAGE, POSIX_FADV_WILLNEED), 0, "WILLNEED 128 KiB");
	for (int i = 0; i < 32; i++)
		dafs_pread(f, buf, PAGE, (off_t)(95 - i) * PAGE);
	b = stats(s);
	CHECK_EQ(b.readahead_bytes - a.readahead_bytes, 32 * PAGE, "it fetched those 128 KiB ahead");
	CHECK_EQ(b.misses, a.misses, "and the reads that followed all hit");
	CHECK_EQ(dafs_fadvise(f, 64 * PAGE, 32 * PAGE, POSIX_FADV_DONTNEED), 0, "DONTNEED them");
	a = stats(s);
	dafs_pread(f, buf, PAGE, 70 * PAGE);
	b = stats(s);
	CHECK_EQ(b.misses - a.misses, 1, "a dropped page is fetched again");
	CHECK_EQ(dafs_fadvise(f, 0, 0, POSIX_FADV_RANDOM), 0, "RANDOM");
	a = stats(s);
	for (off_t off = 0; off < 16 * PAGE; off += PAGE)
		dafs_pread(f, buf, PAGE, off);
	b = stats(s);
	CHECK_EQ(b.readahead_bytes, a.readahead_bytes, "no read-ahead for a file advised RANDOM");
	dafs_close(f);
}

static void test_pipelined_writes(struct dafs_session *s)
{
	char path[PATH_MAX], *buf = malloc(1 << 20);
	struct dafs_file *f;
	struct stat st;
	bool ok = true;

	dafs_open(s, "/pipe", O_WRONLY | O_CREAT | O_TRUNC, 0644, &f);
	for (unsigned i = 0; i < 4096; i++) {
		char rec[256];
		memset(rec, 'a' + (int)(i % 26), sizeof(rec));
		ok &= dafs_pwrite(f, rec, sizeof(rec), (off_t)i * 256) == 256;
	}
	CHECK(ok, "4,096 small writes return at once");
	CHECK_EQ(dafs_fsync(f, 0), 0, "fsync waits for them");
	snprintf(path, sizeof(path), "%s/pipe", fx.export_dir);
	CHECK(stat(path, &st) == 0 && st.st_size == 4096 * 256, "all 1 MiB is on the server's disk");
	FILE *in = fopen(path, "r");
	size_t n = in ? fread(buf, 1, 1 << 20, in) : 0;
	if (in)
		fclose(in);
	ok = n == 1 << 20;
	for (size_t i = 0; ok && i < n; i++)
		ok = buf[i] == 'a' + (int)(i / 256 % 26);
	CHECK(ok, "in the order written");
	/* Overwrites of a range still in flight land in order. */
	for (int i = 0; i < 200; i++) {
		char c = (char)('A' + i % 26);
		dafs_pwrite(f, &c, 1, 7);
	}
	CHECK_EQ(dafs_close(f), 0, "close");
	in = fopen(path, "r");
	if (in) {
		fseek(in, 7, SEEK_SET);
		n = (size_t)fgetc(in);
		fclose(in);
	}
	CHECK_EQ(n, 'A' + 199 % 26, "200 writes of one byte in a row: the last one stays");
	free(buf);
}

/* A small tmpfs as the export: ENOSPC from writes that already returned
 * comes back from a later write or fsync, once; with coalescing on, from
 * writes that waited in the buffer too (written `chunk` bytes at a time). */
static void test_deferred_enospc(size_t chunk_len, bool coalesce)
{
	struct server_fixture small = { 0 };
	struct dafs_session_opts o = { .coalesce_writes = coalesce ? 1 : -1 };
	struct dafs_session *s = NULL;
	struct dafs_file *f;
	char chunk[16384];
	int err = 0, where = -1;
	unsigned writes = (unsigned)((3u << 20) / chunk_len);

	if (geteuid() != 0) {
		printf("ok %d # SKIP ENOSPC needs root to mount a tmpfs\n", ++check_count);
		return;
	}
	snprintf(small.export_dir, sizeof(small.export_dir), "/tmp/dafs-nospc-XXXXXX");
	if (!mkdtemp(small.export_dir))
		return;
	CHECK(mount("tmpfs", small.export_dir, "tmpfs", 0, "size=1m") == 0,
	      "a 1 MiB tmpfs export");
	if (fixture_spawn(&small, "nospc") != 0)
		return;
	for (int i = 0; i < 100 && dafs_session_open(small.url, &o, &s) != 0; i++)
		usleep(50000);
	CHECK(s != NULL, "a session on it%s", coalesce ? " (coalescing writes)" : "");
	if (s && dafs_open(s, "/big", O_WRONLY | O_CREAT, 0644, &f) == 0) {
		memset(chunk, 'x', sizeof(chunk));
		for (unsigned i = 0; i < writes && !err; i++) {
			ssize_t rc = dafs_pwrite(f, chunk, chunk_len, (off_t)i * (off_t)chunk_len);
			if (rc < 0) {
				err = (int)rc;
				where = 0;
			}
		}
		if (!err) {
			err = dafs_fsync(f, 0);
			where = 1;
		}
		CHECK_EQ(err, -ENOSPC, "3 MiB into 1 MiB, %zu bytes a write: ENOSPC comes back "
			 "(from a %s)", chunk_len, where == 0 ? "write" : "fsync");
		/* Writes still in flight when the error came back may fail too;
		 * fsync waits for them and reports theirs. Then it is over. */
		dafs_fsync(f, 0);
		CHECK_EQ(dafs_fsync(f, 0), 0, "each error is reported once: then fsync is clean");
		dafs_close(f);
	}
	if (s)
		dafs_session_close(s);
	kill(small.pid, SIGTERM);
	waitpid(small.pid, NULL, 0);
	umount(small.export_dir);
	rmdir(small.export_dir);
}

struct rw_state {
	struct dafs_session *s;
	atomic_bool stop;              /* the writer tells the readers to end */
	bool torn;
	unsigned char last[64];
};

/* Each page holds one byte value throughout: a reader must never see two. */
static void *reader_main(void *arg)
{
	struct rw_state *rw = arg;
	unsigned char buf[PAGE];
	struct dafs_file *f;
	unsigned seed = (unsigned)(uintptr_t)pthread_self();

	if (dafs_open(rw->s, "/rw", O_RDONLY, 0, &f) != 0)
		return NULL;
	while (!rw->stop) {
		unsigned page = (unsigned)rand_r(&seed) % 64;
		if (dafs_pread(f, buf, PAGE, (off_t)page * PAGE) != PAGE) {
			rw->torn = true;
			break;
		}
		for (int i = 1; i < PAGE; i++)
			if (buf[i] != buf[0])
				rw->torn = true;
	}
	dafs_close(f);
	return NULL;
}

static void test_concurrent_readers_and_writer(struct dafs_session *s)
{
	struct rw_state rw = { .s = s };
	pthread_t readers[3];
	unsigned char page[PAGE];
	struct dafs_file *f;
	bool ok = true;

	dafs_open(s, "/rw", O_RDWR | O_CREAT | O_TRUNC, 0644, &f);
	memset(page, 0, PAGE);
	for (int p = 0; p < 64; p++)
		dafs_pwrite(f, page, PAGE, (off_t)p * PAGE);
	dafs_fsync(f, 0);
	for (int i = 0; i < 3; i++)
		pthread_create(&readers[i], NULL, reader_main, &rw);
	for (int i = 0; i < 3000; i++) {
		unsigned p = (unsigned)(i * 13) % 64;
		memset(page, 1 + i % 250, PAGE);
		rw.last[p] = page[0];
		dafs_pwrite(f, page, PAGE, (off_t)p * PAGE);
	}
	rw.stop = true;
	for (int i = 0; i < 3; i++)
		pthread_join(readers[i], NULL);
	CHECK(!rw.torn, "3 readers never saw a page mixing two writes (or a short read)");
	for (int p = 0; p < 64 && ok; p++)
		ok = dafs_pread(f, page, PAGE, (off_t)p * PAGE) == PAGE && page[0] == rw.last[p] &&
		     page[PAGE - 1] == rw.last[p];
	CHECK(ok, "afterwards every page holds its last write");
	dafs_close(f);
}

/* ---- Write coalescing (off by default) ---------------------------------- */

static struct dafs_session *session_coalescing(long long cache_bytes)
{
	struct dafs_session_opts o = { .cache_size = cache_bytes, .coalesce_writes = 1 };
	struct dafs_session *s = NULL;

	return dafs_session_open(fx.url, &o, &s) == 0 ? s : NULL;
}

/* Writes `n` records of `len` bytes of pattern `seed` one after another. */
static bool write_records(struct dafs_file *f, unsigned n, size_t len, unsigned seed)
{
	unsigned char rec[4096];
	bool ok = true;

	for (unsigned i = 0; i < n; i++) {
		uint64_t off = (uint64_t)i * len;
		for (size_t j = 0; j < len; j++)
			rec[j] = pattern(seed, off + j);
		ok &= dafs_pwrite(f, rec, len, (off_t)off) == (ssize_t)len;
	}
	return ok;
}

/* The export's copy of `name` (the server's disk) is `size` bytes of
 * pattern `seed`. */
static bool disk_matches(const char *name, size_t size, unsigned seed)
{
	char path[PATH_MAX];
	unsigned char *buf = malloc(size + 1);
	FILE *in;
	size_t n = 0;

	snprintf(path, sizeof(path), "%s/%s", fx.export_dir, name);
	in = fopen(path, "r");
	if (in) {
		n = fread(buf, 1, size + 1, in);
		fclose(in);
	}
	bool ok = n == size && matches(buf, size, seed, 0);
	free(buf);
	return ok;
}

static void test_coalescing_merges_small_writes(void)
{
	struct dafs_session *plain = session_with_cache(0), *s = session_coalescing(0);
	struct dafs_cache_stats a, b;
	struct dafs_file *f;

	CHECK(plain && s, "sessions without and with coalescing");
	if (!plain || !s)
		return;
	dafs_open(plain, "/one-by-one", O_WRONLY | O_CREAT | O_TRUNC, 0644, &f);
	a = stats(plain);
	CHECK(write_records(f, 2000, 100, 5), "2,000 writes of 100 bytes, coalescing off");
	CHECK_EQ(dafs_close(f), 0, "close");
	b = stats(plain);
	CHECK_EQ(b.writes_coalesced, 0, "off by default: nothing coalesced");
	CHECK_EQ(b.write_sends - a.write_sends, 2000, "a WRITE per write");
	CHECK(disk_matches("one-by-one", 200000, 5), "the file is right");

	dafs_open(s, "/merged", O_WRONLY | O_CREAT | O_TRUNC, 0644, &f);
	a = stats(s);
	CHECK(write_records(f, 20000, 100, 6), "20,000 writes of 100 bytes, coalescing on");
	CHECK_EQ(dafs_close(f), 0, "close (sends what waits)");
	b = stats(s);
	CHECK(b.write_sends - a.write_sends <= 20000 / 4,
	      "at most a WRITE per 4 writes (%llu WRITEs, %llu writes coalesced)",
	      (unsigned long long)(b.write_sends - a.write_sends),
	      (unsigned long long)(b.writes_coalesced - a.writes_coalesced));
	CHECK(disk_matches("merged", 2000000, 6), "the file is right, in order");
	dafs_session_close(plain);
	dafs_session_close(s);
}

/* What waits in the buffer is what the writer (and, once it went, anyone)
 * reads: from the cache, from the server when there is no cache, in the
 * size fstat reports, and on the server's disk within milliseconds even if
 * the writer does nothing more. */
static void test_coalesced_writes_are_seen(long long cache_bytes)
{
	struct dafs_session *s = session_coalescing(cache_bytes);
	unsigned char buf[8192];
	struct dafs_cache_stats a, b;
	struct dafs_file *f;
	struct stat st;
	const char *with = cache_bytes < 0 ? "without a cache" : "with a cache";
	bool waited = false;

	CHECK(s != NULL, "a coalescing session %s", with);
	if (!s)
		return;
	dafs_open(s, "/seen", O_RDWR | O_CREAT | O_TRUNC, 0644, &f);
	/* Writes follow each other until some wait in the buffer. */
	a = stats(s);
	unsigned n = 0;
	do {
		n += 8;
		write_records(f, n, 100, 9);
		b = stats(s);
	} while (b.writes_coalesced == a.writes_coalesced && n < 800);
	CHECK(b.writes_coalesced > a.writes_coalesced, "writes waited in the buffer (%s)", with);
	size_t size = (size_t)n * 100;
	CHECK(dafs_pread(f, buf, 800, (off_t)size - 800) == 800 && matches(buf, 800, 9, size - 800),
	      "the writer reads its last writes back at once (%s)", with);
	CHECK(dafs_fstat(f, &st) == 0 && (size_t)st.st_size == size, "fstat: %zu bytes", size);
	/* More, then nothing: the session sends them by itself. */
	write_records(f, n + 40, 100, 9);
	size = (size_t)(n + 40) * 100;
	for (int i = 0; i < 200 && !waited; i++) {
		usleep(1000);
		waited = disk_matches("seen", size, 9);
	}
	CHECK(waited, "without fsync or close, the server's disk has them within 200 ms (%s)",
	      with);
	/* An overlapping write that does not continue the buffer goes after it. */
	memset(buf, 'Z', 150);
	dafs_pwrite(f, buf, 150, 50);
	CHECK_EQ(dafs_close(f), 0, "close");
	CHECK(dafs_open(s, "/seen", O_RDONLY, 0, &f) == 0 &&
	      dafs_pread(f, buf, 300, 0) == 300 && matches(buf, 50, 9, 0) && buf[50] == 'Z' &&
	      buf[199] == 'Z' && matches(buf + 200, 100, 9, 200),
	      "an overwrite of part of the buffered range lands on top of it (%s)", with);
	dafs_close(f);
	dafs_session_close(s);
}

struct coalesce_writer {
	struct dafs_session *s;
	unsigned seed;
	bool ok;
};

static void *coalesce_writer_main(void *arg)
{
	struct coalesce_writer *w = arg;
	char name[32];
	struct dafs_file *f;

	snprintf(name, sizeof(name), "/thread-%u", w->seed);
	w->ok = dafs_open(w->s, name, O_WRONLY | O_CREAT | O_TRUNC, 0644, &f) == 0 &&
		write_records(f, 5000, 333, w->seed) && dafs_close(f) == 0;
	return NULL;
}

/* Threads writing to one file, each its own region in small pieces: a
 * buffer sent while another thread starts the next one (the lock is let go
 * while sending) must neither overflow nor land in the wrong place. */
struct shared_writer {
	struct dafs_file *f;
	unsigned index;
	bool ok;
};

static void *shared_writer_main(void *arg)
{
	struct shared_writer *w = arg;
	unsigned char rec[200];
	const uint64_t region = 1 << 20;

	w->ok = true;
	for (uint64_t off = 0; off < region; off += sizeof(rec)) {
		uint64_t at = w->index * region + off;
		size_t n = region - off < sizeof(rec) ? region - off : sizeof(rec);
		for (size_t j = 0; j < n; j++)
			rec[j] = pattern(30, at + j);
		w->ok &= dafs_pwrite(w->f, rec, n, (off_t)at) == (ssize_t)n;
	}
	return NULL;
}

static void test_coalescing_threads_one_file(void)
{
	struct dafs_session *s = session_coalescing(0);
	struct shared_writer w[4];
	struct dafs_file *f;
	pthread_t t[4];
	bool ok = true;

	CHECK(s != NULL, "a coalescing session for 4 threads on one file");
	if (!s || dafs_open(s, "/shared", O_WRONLY | O_CREAT | O_TRUNC, 0644, &f) != 0)
		return;
	for (unsigned i = 0; i < 4; i++) {
		w[i] = (struct shared_writer){ .f = f, .index = i };
		pthread_create(&t[i], NULL, shared_writer_main, &w[i]);
	}
	for (unsigned i = 0; i < 4; i++) {
		pthread_join(t[i], NULL);
		ok &= w[i].ok;
	}
	CHECK(ok, "4 threads, 200-byte writes to their own MiB of one file: all returned");
	CHECK_EQ(dafs_close(f), 0, "close");
	CHECK(disk_matches("shared", 4 << 20, 30), "every byte where it was written");
	dafs_session_close(s);
}

/* A read of DAFS_IO_MAX (4 MiB) that does not start on a page spans one
 * page more than 4 MiB holds. */
static void test_largest_unaligned_read(struct dafs_session *s)
{
	const size_t size = 5 << 20, len = 4 << 20;
	unsigned char *buf = malloc(len);
	struct dafs_file *f;

	put_file("large", size, 31);
	dafs_open(s, "/large", O_RDONLY, 0, &f);
	CHECK(dafs_pread(f, buf, len, 100) == (ssize_t)len && matches(buf, len, 31, 100),
	      "a 4 MiB read at offset 100 (1,025 pages) is right");
	CHECK(dafs_pread(f, buf, len, 100) == (ssize_t)len && matches(buf, len, 31, 100),
	      "and again, from the cache");
	dafs_close(f);
	free(buf);
}

static void test_coalescing_threads(void)
{
	struct dafs_session *s = session_coalescing(0);
	struct coalesce_writer w[4];
	pthread_t t[4];
	bool ok = true;

	CHECK(s != NULL, "a coalescing session for 4 threads");
	if (!s)
		return;
	for (unsigned i = 0; i < 4; i++) {
		w[i] = (struct coalesce_writer){ .s = s, .seed = 20 + i };
		pthread_create(&t[i], NULL, coalesce_writer_main, &w[i]);
	}
	for (unsigned i = 0; i < 4; i++) {
		char name[32];
		pthread_join(t[i], NULL);
		snprintf(name, sizeof(name), "thread-%u", w[i].seed);
		ok &= w[i].ok && disk_matches(name, 5000 * 333, w[i].seed);
	}
	CHECK(ok, "4 threads writing 333 bytes at a time to 4 files: every file right");
	dafs_session_close(s);
}

int main(void)
{
	struct dafs_session *s;

	setvbuf(stdout, NULL, _IOLBF, 0);
	if (fixture_start(&fx, "cache") != 0) {
		printf("not ok 1 - start the server\n");
		return 1;
	}
	s = fixture_connect(&fx);
	CHECK(s != NULL, "a session");
	if (!s) {
		fixture_stop(&fx);
		return check_done();
	}
	CHECK(stats(s).size >= (64u << 20), "a default cache of at least 64 MiB (%llu)",
	      (unsigned long long)stats(s).size);
	test_deferred_enospc(16384, false);
	test_deferred_enospc(512, true);
	test_reads_equal_the_file(s);
	test_hit_costs_no_fetch(s);
	test_random_reads_fetch_what_they_ask(s);
	test_readahead_grows_and_stops(s);
	test_scan_resistance();
	test_close_to_open(s);
	test_write_through_and_eof(s);
	test_end_of_file_known(s);
	test_largest_unaligned_read(s);
	test_unanswered_read_only_close();
	test_odirect_and_advice(s);
	test_pipelined_writes(s);
	test_concurrent_readers_and_writer(s);
	test_coalescing_merges_small_writes();
	test_coalesced_writes_are_seen(0);
	test_coalesced_writes_are_seen(-1);
	test_coalescing_threads();
	test_coalescing_threads_one_file();
	dafs_session_close(s);
	{
		struct dafs_session *none = session_with_cache(-1);
		CHECK(none && stats(none).size == 0, "cache_size < 0: a session with no cache");
		if (none)
			dafs_session_close(none);
	}
	CHECK_EQ(WEXITSTATUS(fixture_stop(&fx)), 0, "the server exits 0");
	return check_done();
}
