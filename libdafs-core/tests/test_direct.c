/* test_direct.c — direct reads (large reads straight into the caller's
 * buffer) and the registration cache behind them, against a real
 * dafs-server: the bytes equal the file's, end of file, a range the page
 * cache partly holds goes through it, a buffer read into again is not
 * registered again, the kept registrations stay bounded (and the server's
 * region table with them) over thousands of buffers, memory unmapped and
 * mapped again at the same address gets its data, a read sees pipelined
 * writes before it, O_DIRECT files, a sequential reader that moves from the
 * cache to direct reads, registration per read (regcache_entries negative,
 * what a pinning provider gets), and threads whose reads evict each other's
 * registrations.
 *
 * Files hold random bytes, kept in memory to compare with; figures come
 * from dafs_cache_stats. */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "check.h"
#include "dafs.h"
#include "server_fixture.h"

#define KiB 1024u
#define MiB (1024u * 1024u)

static struct server_fixture fx;

/* Writes `size` random bytes to the export as `name`; returns them. */
static unsigned char *put_random_file(const char *name, size_t size, unsigned seed)
{
	char path[PATH_MAX];
	unsigned char *bytes = malloc(size ? size : 1);
	FILE *f;

	for (size_t i = 0; i < size; i++)
		bytes[i] = (unsigned char)(rand_r(&seed) >> 7);
	snprintf(path, sizeof(path), "%s/%s", fx.export_dir, name);
	f = fopen(path, "w");
	if (!f || fwrite(bytes, 1, size, f) != size || fclose(f) != 0) {
		perror(path);
		exit(2);
	}
	return bytes;
}

static struct dafs_cache_stats stats(struct dafs_session *s)
{
	struct dafs_cache_stats st;

	dafs_cache_stats(s, &st);
	return st;
}

static struct dafs_session *session_keeping(long long cache_size, long long direct_read_min,
					   int regcache_entries)
{
	struct dafs_session_opts o = { .cache_size = cache_size,
				       .direct_read_min = direct_read_min,
				       .regcache_entries = regcache_entries };
	struct dafs_session *s = NULL;

	return dafs_session_open(fx.url, &o, &s) == 0 ? s : NULL;
}

static struct dafs_session *session(long long cache_size, long long direct_read_min)
{
	return session_keeping(cache_size, direct_read_min, 0);
}

static void *map(size_t len)
{
	void *p = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

	if (p == MAP_FAILED) {
		perror("mmap");
		exit(2);
	}
	return p;
}

static void test_data_and_eof(struct dafs_session *s)
{
	const size_t size = 9 * MiB + 1234;
	unsigned char *want = put_random_file("data", size, 1);
	unsigned char *buf = malloc(6 * MiB);
	struct dafs_cache_stats a, b;
	struct dafs_file *f;
	bool ok = true;
	unsigned seed = 3;

	CHECK_EQ(dafs_open(s, "/data", O_RDONLY, 0, &f), 0, "open a 9 MiB file of random bytes");
	a = stats(s);
	/* Sizes from 256 KiB to 2 MiB at any offset, none overlapping an
	 * earlier one (so none finds pages cached). */
	for (size_t off = 0; off + 2 * MiB <= size && ok; ) {
		size_t len = 256 * KiB + (size_t)rand_r(&seed) % (2 * MiB - 256 * KiB);
		off += (size_t)rand_r(&seed) % 5000;
		ok = dafs_pread(f, buf, len, (off_t)off) == (ssize_t)len &&
		     memcmp(buf, want + off, len) == 0;
		off += len;
	}
	b = stats(s);
	CHECK(ok, "reads of 256 KiB to 2 MiB at odd offsets equal the file");
	CHECK(b.direct_reads - a.direct_reads >= 4, "they were direct reads (%llu)",
	      (unsigned long long)(b.direct_reads - a.direct_reads));
	CHECK(b.misses == a.misses && b.fetched_bytes == a.fetched_bytes &&
	      b.readahead_bytes == a.readahead_bytes, "the page cache fetched nothing for them");

	CHECK_EQ(dafs_pread(f, buf, 1 * MiB, (off_t)(size - 1234)), 1234,
		 "a direct read across the end of file is short");
	CHECK(memcmp(buf, want + size - 1234, 1234) == 0, "and holds the file's last bytes");
	CHECK_EQ(dafs_pread(f, buf, 1 * MiB, (off_t)size), 0, "a direct read at the end returns 0");
	CHECK_EQ(dafs_pread(f, buf, 1 * MiB, (off_t)size + 5 * MiB), 0, "and past it");
	/* More than one READ op in the request (each at most the session's
	 * io_max, 4 MiB at most), the last one short. */
	memset(buf, 0, 6 * MiB);
	CHECK_EQ(dafs_pread(f, buf, 6 * MiB, (off_t)(size - 5 * MiB - 100)), 5 * MiB + 100,
		 "a 6 MiB read across the end returns what is there");
	CHECK(memcmp(buf, want + size - 5 * MiB - 100, 5 * MiB + 100) == 0, "all of it right");
	dafs_close(f);
	free(buf);
	free(want);
}

static void test_partly_cached_range_uses_the_cache(struct dafs_session *s)
{
	unsigned char *want = put_random_file("partly", 4 * MiB, 4);
	unsigned char *buf = malloc(1 * MiB);
	struct dafs_cache_stats a, b;
	struct dafs_file *f;

	dafs_open(s, "/partly", O_RDONLY, 0, &f);
	CHECK_EQ(dafs_pread(f, buf, 100, 700 * KiB), 100, "a small read caches a page");
	a = stats(s);
	CHECK_EQ(dafs_pread(f, buf, 1 * MiB, 0), 1 * MiB, "a 1 MiB read over that page");
	b = stats(s);
	CHECK(memcmp(buf, want, 1 * MiB) == 0, "equals the file");
	CHECK_EQ(b.direct_reads, a.direct_reads, "it went through the cache, not direct");
	CHECK(b.hits > a.hits, "and found the cached page there");

	/* A page written through the cache is cached: a large read over it
	 * gets the written bytes from the cache, not a direct read. */
	dafs_close(f);
	dafs_open(s, "/partly", O_RDWR, 0, &f);
	dafs_pread(f, buf, 10, 3 * MiB);
	CHECK_EQ(dafs_pwrite(f, "written", 7, 3 * MiB + 5), 7, "write into a cached page");
	a = stats(s);
	CHECK_EQ(dafs_pread(f, buf, 1 * MiB, 3 * MiB), 1 * MiB, "read 1 MiB over it");
	b = stats(s);
	CHECK(memcmp(buf + 5, "written", 7) == 0 && memcmp(buf, want + 3 * MiB, 5) == 0 &&
	      memcmp(buf + 12, want + 3 * MiB + 12, 1 * MiB - 12) == 0, "it sees the write");
	CHECK_EQ(b.direct_reads, a.direct_reads, "through the cache");
	dafs_close(f);
	free(buf);
	free(want);
}

static void test_registration_reused(struct dafs_session *s)
{
	unsigned char *want = put_random_file("reuse", 4 * MiB, 5);
	unsigned char *buf = malloc(1 * MiB + 100);
	struct dafs_cache_stats a, b, c;
	struct dafs_file *f;
	bool ok = true;

	dafs_open(s, "/reuse", O_RDONLY, 0, &f);
	a = stats(s);
	CHECK_EQ(dafs_pread(f, buf, 1 * MiB, 0), 1 * MiB, "a direct read into a buffer");
	b = stats(s);
	CHECK_EQ(b.registrations - a.registrations, 1, "registers it once");
	for (int i = 1; i < 4; i++)
		ok &= dafs_pread(f, buf, 1 * MiB, (off_t)i * MiB) == 1 * MiB &&
		      memcmp(buf, want + (size_t)i * MiB, 1 * MiB) == 0;
	/* Part of the same buffer, at an odd address: inside the registration. */
	ok &= dafs_pread(f, buf + 100, 512 * KiB, 0) == 512 * KiB &&
	      memcmp(buf + 100, want, 512 * KiB) == 0;
	c = stats(s);
	CHECK(ok, "four more reads into it, one into part of it, equal the file");
	CHECK_EQ(c.registrations, b.registrations, "and register nothing more");
	CHECK_EQ(c.direct_reads - b.direct_reads, 4, "they were direct reads");
	dafs_close(f);
	free(buf);
	free(want);
}

/* 4,200 distinct ranges, one read each: more than the server keeps regions
 * for a session (4,096), so the cache must release what it drops. */
static void test_registrations_bounded(void)
{
	struct dafs_session *s = session(0, 64 * KiB);
	const unsigned nbuf = 4200;
	unsigned char *want = put_random_file("many", 2 * MiB, 6);
	unsigned char *region = map((size_t)nbuf * 4096 + 64 * KiB);
	struct dafs_cache_stats a, b;
	struct dafs_file *f;
	bool ok = true;

	CHECK(s != NULL, "a session reading directly from 64 KiB");
	if (!s)
		return;
	dafs_open(s, "/many", O_RDONLY, 0, &f);
	a = stats(s);
	for (unsigned i = 0; i < nbuf && ok; i++) {
		size_t off = (size_t)i * 4096 % (2 * MiB - 64 * KiB);
		unsigned char *p = region + (size_t)i * 4096;
		ok = dafs_pread(f, p, 64 * KiB, (off_t)off) == 64 * KiB &&
		     memcmp(p, want + off, 64 * KiB) == 0;
		if (!ok)
			printf("# read %u failed\n", i);
	}
	b = stats(s);
	CHECK(ok, "%u reads into %u different ranges equal the file", nbuf, nbuf);
	CHECK_EQ(b.direct_reads - a.direct_reads, nbuf, "all of them direct");
	CHECK_EQ(b.registrations - a.registrations, nbuf, "each registered its range");
	CHECK(b.registrations_kept <= 32 && b.registrations_kept > 0,
	      "at most 32 registrations kept (%llu)", (unsigned long long)b.registrations_kept);
	CHECK(b.registered_bytes <= 32 * 68 * KiB, "covering what those cover (%llu bytes)",
	      (unsigned long long)b.registered_bytes);
	dafs_close(f);
	CHECK_EQ(dafs_session_close(s), 0, "the session closes");
	munmap(region, (size_t)nbuf * 4096 + 64 * KiB);
	free(want);
}

/* The application unmaps its buffer and maps other memory at the same
 * address; malloc hands a freed block out again. */
static void test_memory_reused(struct dafs_session *s)
{
	unsigned char *one = put_random_file("one", 2 * MiB, 7);
	unsigned char *two = put_random_file("two", 2 * MiB, 8);
	struct dafs_file *f, *g;
	struct dafs_cache_stats a, b;
	unsigned char *p, *q, *m;

	dafs_open(s, "/one", O_RDONLY, 0, &f);
	dafs_open(s, "/two", O_RDONLY, 0, &g);
	p = map(1 * MiB);
	CHECK_EQ(dafs_pread(f, p, 1 * MiB, 0), 1 * MiB, "a direct read into mapped memory");
	CHECK(memcmp(p, one, 1 * MiB) == 0, "equals the file");
	munmap(p, 1 * MiB);
	q = mmap(p, 1 * MiB, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED_NOREPLACE,
		 -1, 0);
	CHECK(q == p, "the memory is unmapped and new memory mapped at its address");
	if (q != p)
		return;
	memset(q, 0xAA, 1 * MiB);
	a = stats(s);
	CHECK_EQ(dafs_pread(g, q, 1 * MiB, 1 * MiB), 1 * MiB, "a direct read into the new memory");
	b = stats(s);
	CHECK(memcmp(q, two + 1 * MiB, 1 * MiB) == 0, "the new memory holds the other file's bytes");
	CHECK_EQ(b.direct_reads - a.direct_reads, 1, "it was a direct read");
	munmap(q, 1 * MiB);

	m = malloc(1 * MiB);
	dafs_pread(f, m, 1 * MiB, 1 * MiB);
	free(m);
	m = malloc(1 * MiB);
	memset(m, 0x55, 1 * MiB);
	CHECK_EQ(dafs_pread(g, m, 1 * MiB, 0), 1 * MiB, "malloc, read, free, malloc, read");
	CHECK(memcmp(m, two, 1 * MiB) == 0, "the second block holds its read's bytes");
	free(m);
	dafs_close(f);
	dafs_close(g);
	free(one);
	free(two);
}

static void test_read_after_pipelined_writes(struct dafs_session *s)
{
	unsigned char *want = put_random_file("piped", 2 * MiB, 9);
	unsigned char *buf = malloc(1 * MiB);
	struct dafs_cache_stats a, b;
	struct dafs_file *f;
	bool ok = true;

	dafs_open(s, "/piped", O_RDWR, 0, &f);
	/* Pipelined (they return before the server answers), to pages the
	 * cache does not hold: nothing of the range is cached afterwards. */
	for (unsigned i = 0; i < 8; i++) {
		memset(want + 128 * KiB + i * 32 * KiB, 'a' + (int)i, 32 * KiB);
		ok &= dafs_pwrite(f, want + 128 * KiB + i * 32 * KiB, 32 * KiB,
				  (off_t)(128 * KiB + i * 32 * KiB)) == 32 * KiB;
	}
	CHECK(ok, "eight pipelined 32 KiB writes");
	a = stats(s);
	CHECK_EQ(dafs_pread(f, buf, 1 * MiB, 0), 1 * MiB, "then a 1 MiB read over them");
	b = stats(s);
	CHECK(memcmp(buf, want, 1 * MiB) == 0, "sees every written byte");
	CHECK_EQ(b.direct_reads - a.direct_reads, 1, "as a direct read");
	CHECK_EQ(dafs_close(f), 0, "close reports no write error");
	free(buf);
	free(want);
}

static void test_odirect(struct dafs_session *s)
{
	unsigned char *want = put_random_file("odirect", 2 * MiB, 10);
	unsigned char *buf = malloc(2 * MiB);
	struct dafs_cache_stats a, b;
	struct dafs_file *f;

	dafs_open(s, "/odirect", O_RDONLY | O_DIRECT, 0, &f);
	a = stats(s);
	CHECK_EQ(dafs_pread(f, buf, 2 * MiB, 0), 2 * MiB, "a 2 MiB read of an O_DIRECT file");
	CHECK_EQ(dafs_pread(f, buf + 1 * MiB, 4 * KiB, 12 * KiB), 4 * KiB, "and a 4 KiB one");
	b = stats(s);
	CHECK(memcmp(buf, want, 1 * MiB) == 0 && memcmp(buf + 1 * MiB, want + 12 * KiB, 4 * KiB) == 0,
	      "equal the file");
	CHECK_EQ(b.direct_reads - a.direct_reads, 1, "the large one went into the buffer directly");
	CHECK(b.misses == a.misses && b.hits == a.hits, "neither touched the page cache");
	dafs_close(f);
	free(buf);
	free(want);
}

/* 4 KiB reads start read-ahead; the reader then reads 1 MiB at a time from
 * where it was: through the cache while read-ahead pages are in the way,
 * directly after them. */
static void test_sequential_reader_switches(struct dafs_session *s)
{
	const size_t size = 24 * MiB;
	unsigned char *want = put_random_file("stream", size, 11);
	unsigned char *buf = malloc(1 * MiB);
	struct dafs_cache_stats a, b;
	struct dafs_file *f;
	size_t off = 0;
	bool ok = true;

	dafs_open(s, "/stream", O_RDONLY, 0, &f);
	a = stats(s);
	for (; off < 512 * KiB; off += 4 * KiB)
		ok &= dafs_pread(f, buf, 4 * KiB, (off_t)off) == 4 * KiB &&
		      memcmp(buf, want + off, 4 * KiB) == 0;
	for (; off + 1 * MiB <= size && ok; off += 1 * MiB) {
		ssize_t got = dafs_pread(f, buf, 1 * MiB, (off_t)off);
		ok = got == 1 * MiB && memcmp(buf, want + off, 1 * MiB) == 0;
		if (!ok)
			printf("# 1 MiB at %zu: got %zd\n", off, got);
	}
	b = stats(s);
	CHECK(ok, "4 KiB reads, then 1 MiB reads, sequentially: the whole file right");
	CHECK(b.readahead_bytes > a.readahead_bytes, "the small reads started read-ahead");
	CHECK(b.direct_reads - a.direct_reads >= 8, "later large reads were direct (%llu of 23)",
	      (unsigned long long)(b.direct_reads - a.direct_reads));
	CHECK_EQ(dafs_pread(f, buf, 1 * MiB, 0), 1 * MiB, "back to the start");
	CHECK(memcmp(buf, want, 1 * MiB) == 0, "right too");
	dafs_close(f);
	free(buf);
	free(want);
}

static void test_direct_off(void)
{
	struct dafs_session *s = session(0, -1);
	unsigned char *want = put_random_file("off", 2 * MiB, 12);
	unsigned char *buf = malloc(1 * MiB);
	struct dafs_file *f;

	CHECK(s != NULL, "a session with direct reads off");
	if (!s)
		return;
	dafs_open(s, "/off", O_RDONLY, 0, &f);
	CHECK_EQ(dafs_pread(f, buf, 1 * MiB, 0), 1 * MiB, "a 1 MiB read");
	CHECK(memcmp(buf, want, 1 * MiB) == 0, "equals the file");
	CHECK(stats(s).direct_reads == 0 && stats(s).misses > 0, "through the page cache");
	dafs_close(f);
	dafs_session_close(s);
	free(buf);
	free(want);
}

/* What a provider that pins pages gets: each read registers its buffer
 * and releases it afterwards. */
static void test_register_per_read(void)
{
	struct dafs_session *s;
	unsigned char *want = put_random_file("perread", 4 * MiB, 13);
	unsigned char *buf = malloc(1 * MiB);
	struct dafs_cache_stats a, b;
	struct dafs_file *f;
	bool ok = true;

	s = session_keeping(0, 256 * KiB, -1);
	CHECK(s != NULL, "a session keeping no registrations");
	if (!s)
		return;
	dafs_open(s, "/perread", O_RDONLY, 0, &f);
	a = stats(s);
	for (int i = 0; i < 4; i++)
		ok &= dafs_pread(f, buf, 1 * MiB, (off_t)i * MiB) == 1 * MiB &&
		      memcmp(buf, want + (size_t)i * MiB, 1 * MiB) == 0;
	b = stats(s);
	CHECK(ok, "four direct reads into one buffer equal the file");
	CHECK_EQ(b.direct_reads - a.direct_reads, 4, "all direct");
	CHECK_EQ(b.registrations - a.registrations, 4, "each registered the buffer");
	CHECK_EQ(b.registrations_kept, 0, "and none was kept");
	dafs_close(f);
	dafs_session_close(s);
	free(buf);
	free(want);
}

struct reader {
	struct dafs_session *s;
	const unsigned char *want;
	unsigned seed;
	bool ok;
};

static void *reader_main(void *arg)
{
	struct reader *r = arg;
	unsigned char *bufs[6];
	struct dafs_file *f;

	r->ok = dafs_open(r->s, "/threads", O_RDONLY, 0, &f) == 0;
	for (int i = 0; i < 6; i++)
		bufs[i] = malloc(512 * KiB);
	for (int i = 0; i < 300 && r->ok; i++) {
		unsigned char *b = bufs[rand_r(&r->seed) % 6];
		size_t off = (size_t)(rand_r(&r->seed) % 56) * 64 * KiB;   /* 4 MiB file */
		ssize_t got = dafs_pread(f, b, 512 * KiB, (off_t)off);
		r->ok = got == 512 * KiB && memcmp(b, r->want + off, 512 * KiB) == 0;
		if (!r->ok)
			printf("# 512 KiB at %zu: got %zd\n", off, got);
	}
	for (int i = 0; i < 6; i++)
		free(bufs[i]);
	dafs_close(f);
	return NULL;
}

/* Four threads, six buffers each, two registrations kept: every read
 * evicts one another thread may be using (refs keep it until it is done). */
static void test_threads_evicting(void)
{
	struct dafs_session *s;
	unsigned char *want = put_random_file("threads", 4 * MiB, 14);
	struct reader r[4];
	pthread_t t[4];
	bool ok = true;

	s = session_keeping(-1, 256 * KiB, 2);
	CHECK(s != NULL, "a session keeping 2 registrations, no page cache");
	if (!s)
		return;
	for (int i = 0; i < 4; i++) {
		r[i] = (struct reader){ .s = s, .want = want, .seed = (unsigned)i + 1 };
		pthread_create(&t[i], NULL, reader_main, &r[i]);
	}
	for (int i = 0; i < 4; i++) {
		pthread_join(t[i], NULL);
		ok &= r[i].ok;
	}
	CHECK(ok, "4 threads x 300 direct 512 KiB reads into 6 buffers each equal the file");
	CHECK(stats(s).registrations_kept <= 2, "2 registrations kept at most afterwards");
	CHECK(stats(s).direct_reads == 1200, "all of them direct (%llu)",
	      (unsigned long long)stats(s).direct_reads);
	CHECK_EQ(dafs_session_close(s), 0, "the session closes");
	free(want);
}

int main(void)
{
	struct dafs_session *s;

	setvbuf(stdout, NULL, _IOLBF, 0);
	if (fixture_start(&fx, "direct") != 0) {
		printf("not ok 1 - start the server\n");
		return 1;
	}
	/* A 64 MiB cache; direct reads from 256 KiB. */
	s = session(64 * MiB, 256 * KiB);
	CHECK(s != NULL, "a session");
	if (!s) {
		fixture_stop(&fx);
		return check_done();
	}
	test_data_and_eof(s);
	test_partly_cached_range_uses_the_cache(s);
	test_registration_reused(s);
	test_memory_reused(s);
	test_read_after_pipelined_writes(s);
	test_odirect(s);
	test_sequential_reader_switches(s);
	CHECK_EQ(dafs_session_close(s), 0, "the session closes");
	test_registrations_bounded();
	test_direct_off();
	test_register_per_read();
	test_threads_evicting();
	CHECK_EQ(WEXITSTATUS(fixture_stop(&fx)), 0, "the server exits 0");
	return check_done();
}
