/* bench-mkdata.c — writes the benchmark's input files, the same bytes on
 * every machine for one seed.
 *
 *   bench-mkdata --size N[k|m|g] [--text] [--seed N] FILE
 *
 * Default (stamped): every 4 KiB block starts with its offset stamp
 * (bench-util.h) and is otherwise random, so readers can check each block
 * they get and no layer can compress or deduplicate it.
 *
 * --text: data that compresses the way real files do, for gzip: mostly text
 * lines (words from a fixed, skewed vocabulary, numbers, punctuation), with
 * every few kilobytes a run of fixed-size binary records (counters, small
 * enums, a few random bytes), like a log interleaved with a table dump.
 * gzip -6 makes it about a third of its size.
 *
 * The file is created or truncated, written in 1 MiB chunks and fdatasync'd,
 * so that no write-back of it is still going on when the timing starts.
 * Exit status: 0 done, 1 an I/O error, 2 a usage error.
 */
#include "bench-util.h"

#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define CHUNK       ((size_t)1 << 20)
#define VOCABULARY  2048
#define WORD_MAX    12

struct text_gen {
	struct bench_rng rng;
	char words[VOCABULARY][WORD_MAX];
	unsigned char lens[VOCABULARY];
	uint64_t record_seq;
	unsigned lines_to_records;
};

static void text_init(struct text_gen *g, uint64_t seed)
{
	static const char letters[] = "etaoinshrdlcumwfgypbvkjxqz";

	bench_rng_seed(&g->rng, seed);
	for (unsigned i = 0; i < VOCABULARY; i++) {
		unsigned len = 2 + (unsigned)(bench_rng_next(&g->rng) % 9);
		for (unsigned j = 0; j < len; j++) {
			/* Squaring the draw favours the common letters. */
			uint64_t r = bench_rng_next(&g->rng) % 26;
			g->words[i][j] = letters[r * r / 26];
		}
		g->lens[i] = (unsigned char)len;
	}
	g->record_seq = 0;
	g->lines_to_records = 40;
}

/* Appends one line or one run of records to buf (which has room for
 * TEXT_PIECE_MAX more bytes) and returns the bytes it added. */
#define TEXT_PIECE_MAX 1024
static size_t text_piece(struct text_gen *g, char *buf)
{
	size_t n = 0;

	if (g->lines_to_records-- == 0) {
		/* 24 records of 32 bytes: sequence number, an enum, a small count,
		 * a timestamp that creeps forward, 8 random bytes. */
		for (unsigned i = 0; i < 24; i++) {
			uint64_t seq = g->record_seq++, stamp = 1700000000000ull + seq * 37;
			uint64_t r = bench_rng_next(&g->rng);
			uint32_t kind = (uint32_t)(r % 5), count = (uint32_t)(r >> 8) % 1000;
			memcpy(buf + n, &seq, 8);
			memcpy(buf + n + 8, &kind, 4);
			memcpy(buf + n + 12, &count, 4);
			memcpy(buf + n + 16, &stamp, 8);
			r = bench_rng_next(&g->rng);
			memcpy(buf + n + 24, &r, 8);
			n += 32;
		}
		g->lines_to_records = 20 + (unsigned)(bench_rng_next(&g->rng) % 40);
		return n;
	}
	unsigned words = 6 + (unsigned)(bench_rng_next(&g->rng) % 10);
	for (unsigned w = 0; w < words; w++) {
		uint64_t r = bench_rng_next(&g->rng);
		if (r % 16 == 0) {   /* a number now and then */
			n += (size_t)sprintf(buf + n, "%u", (unsigned)(r >> 32) % 100000);
		} else {
			/* The product of two draws favours the first words, as
			 * in real text a few words make most of it. */
			uint64_t a = (r >> 8) % VOCABULARY, b = (r >> 24) % VOCABULARY;
			unsigned i = (unsigned)(a * b / VOCABULARY);
			memcpy(buf + n, g->words[i], g->lens[i]);
			n += g->lens[i];
		}
		buf[n++] = (r >> 40) % 12 == 0 ? ',' : ' ';
	}
	buf[n - 1] = '.';
	buf[n++] = '\n';
	return n;
}

static void write_all(int fd, const char *path, const char *buf, size_t len)
{
	while (len) {
		ssize_t n = write(fd, buf, len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			fprintf(stderr, "bench-mkdata: %s: write: %s\n", path,
				n < 0 ? strerror(errno) : "wrote nothing");
			exit(1);
		}
		buf += n;
		len -= (size_t)n;
	}
}

static void usage(FILE *out)
{
	fprintf(out, "usage: bench-mkdata --size N[k|m|g] [--text] [--seed N] FILE\n");
}

int main(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "size", required_argument, NULL, 's' },
		{ "text", no_argument, NULL, 't' },
		{ "seed", required_argument, NULL, 'r' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	uint64_t size = 0, seed = 1;
	bool text = false;
	int c;

	while ((c = getopt_long(argc, argv, "h", longopts, NULL)) != -1) {
		switch (c) {
		case 's':
			size = bench_count_arg("--size", optarg, true, 1, UINT64_C(1) << 40);
			break;
		case 'r': seed = bench_count_arg("--seed", optarg, false, 0, UINT64_MAX); break;
		case 't': text = true; break;
		case 'h': usage(stdout); return 0;
		default: usage(stderr); return 2;
		}
	}
	if (size == 0 || optind != argc - 1) {
		usage(stderr);
		return 2;
	}
	const char *path = argv[optind];
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (fd < 0) {
		fprintf(stderr, "bench-mkdata: %s: %s\n", path, strerror(errno));
		return 1;
	}
	/* Text pieces may overrun a chunk by one piece; the rest carries over. */
	/* Zeroed: a stamped tail shorter than 8 bytes is never written by the
	 * generator, and the file must not depend on what malloc left there. */
	char *buf = calloc(1, CHUNK + TEXT_PIECE_MAX);
	struct text_gen *gen = malloc(sizeof(*gen));
	struct bench_rng rng;
	if (!buf || !gen) {
		fprintf(stderr, "bench-mkdata: out of memory\n");
		return 1;
	}
	bench_rng_seed(&rng, seed);
	text_init(gen, seed);

	size_t have = 0;   /* text: bytes generated beyond what was written */
	for (uint64_t off = 0; off < size;) {
		size_t len = size - off < CHUNK ? (size_t)(size - off) : CHUNK;
		if (text) {
			while (have < len)
				have += text_piece(gen, buf + have);
		} else {
			for (size_t i = 0; i + 8 <= len; i += 8) {
				uint64_t r = bench_rng_next(&rng);
				memcpy(buf + i, &r, 8);
			}
			bench_stamp(buf, len, off);
		}
		write_all(fd, path, buf, len);
		if (text) {
			memmove(buf, buf + len, have - len);
			have -= len;
		}
		off += len;
	}
	if (fdatasync(fd) != 0 || close(fd) != 0) {
		fprintf(stderr, "bench-mkdata: %s: %s\n", path, strerror(errno));
		return 1;
	}
	free(gen);
	free(buf);
	return 0;
}
