/* cache.c — the client's page cache: one region of 4 KiB pages registered
 * with the fabric (and announced to the server) once, at session start, so
 * that a miss is filled by the server's RDMA write straight into the page
 * that keeps the data, with no registration on the read path, and a hit is a
 * memcpy with no system call.
 *
 * Replacement is a segmented LRU. A page enters on probation; read again
 * (other than as the continuation of the same sequential run, and other than
 * the first read of a page fetched ahead) it moves to the protected segment,
 * which holds at most 3/4 of the pages and hands its oldest back to
 * probation. Victims come from probation's tail first, so a sequential scan,
 * or random reads never repeated (Berkeley DB missing in its own buffer
 * pool), push out each other and not what is read again.
 *
 * Pages are keyed by (file id, page index). A file's id changes when all its
 * pages must go (the server says it changed since they were read, it was
 * truncated, a write to it failed): the old pages are never found again and
 * age out of probation like any page read once.
 *
 * Everything here runs with the session locked; cache fills complete in the
 * reply handler, which holds the lock too. A reader waiting for a fill lets
 * the lock go while it waits, so it looks its pages up again afterwards.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <unistd.h>

#include "client.h"

#define CACHE_PAGE        4096u
#define CACHE_NIL         UINT32_MAX
#define CACHE_DEFAULT     (256ull << 20)
#define CACHE_MIN         (1ull << 20)
#define CACHE_FILES_MAX   4096          /* entries kept for files no longer open */
#define FILL_PAGES_MAX    (DAFS_COMPOUND_MAX * DAFS_SEGS_MAX)   /* one fill request */
#define READ_ATTEMPTS     8             /* before a read gives up on the cache */
#define EOF_TRUST_MS      100           /* a read past the end believes it this long */
#define RA_MIN            (128u << 10)  /* first read-ahead window */
#define RA_MAX            (8u << 20)    /* largest read-ahead window */

enum { L_NONE, L_FREE, L_PROBATION, L_PROTECTED, L_COUNT };
enum { P_FREE, P_FILLING, P_VALID };

struct cache_page {
	uint64_t id, index;
	uint32_t hnext;                 /* hash chain */
	uint32_t prev, next;            /* the list it is on */
	uint32_t valid;                 /* bytes of data from the page's start */
	uint8_t state, list;
	bool unread;                    /* fetched, not read yet: the first read is no re-read */
	bool readahead;                 /* fetched ahead of a reader */
	bool stale;                     /* a write overtook its fill */
};

struct cache_list {
	uint32_t head, tail, count;
};

struct cache_file {
	uint64_t dev, ino, id;
	uint64_t change, size;          /* the server's, at the last open */
	int64_t mtime_sec;
	uint32_t mtime_nsec;
	uint64_t known_size;            /* grows with our own writes */
	uint64_t size_seen_ms;          /* when the server last told it (open, a fill) */
	unsigned refs;                  /* open files and fills in flight */
	struct cache_file *next;
};

struct cache_fill {
	struct dafs_file *file;         /* waits in close until its fills are done */
	struct cache_file *cf;
	uint64_t id;                    /* cf's when sent: changed, what came is stale */
	bool readahead;
	unsigned nops, npages;
	unsigned op_segs;               /* segments of the last op so far */
	uint64_t op_offset[DAFS_COMPOUND_MAX];
	unsigned op_first[DAFS_COMPOUND_MAX + 1];  /* where op i's pages start in page[] */
	uint32_t page[FILL_PAGES_MAX];
};

struct cache {
	char *mem;
	uint32_t npages;
	struct dafs_mr mr;
	struct cache_page *pages;
	uint32_t *hash;
	uint32_t hash_mask;
	struct cache_list lists[L_COUNT];
	uint32_t protected_max;
	uint32_t op_pages_max;          /* pages one READ may carry (the session's io_max) */
	uint32_t ra_pages_inflight;
	struct cache_file **files;      /* hash of (dev, ino) */
	unsigned files_mask, nfiles;
	uint64_t next_id;
	struct cache_fill *spare_fill;  /* one kept for the next miss */
	struct dafs_cache_stats st;
};

/* ---- Lists and the hash ---------------------------------------------------- */

static void list_remove(struct cache *c, uint32_t i)
{
	struct cache_page *p = &c->pages[i];
	struct cache_list *l = &c->lists[p->list];

	if (p->list == L_NONE)
		return;
	if (p->prev != CACHE_NIL)
		c->pages[p->prev].next = p->next;
	else
		l->head = p->next;
	if (p->next != CACHE_NIL)
		c->pages[p->next].prev = p->prev;
	else
		l->tail = p->prev;
	l->count--;
	p->list = L_NONE;
	p->prev = p->next = CACHE_NIL;
}

static void list_push_head(struct cache *c, uint32_t i, uint8_t which)
{
	struct cache_page *p = &c->pages[i];
	struct cache_list *l = &c->lists[which];

	list_remove(c, i);
	p->list = which;
	p->prev = CACHE_NIL;
	p->next = l->head;
	if (l->head != CACHE_NIL)
		c->pages[l->head].prev = i;
	else
		l->tail = i;
	l->head = i;
	l->count++;
}

static uint32_t hash_of(const struct cache *c, uint64_t id, uint64_t index)
{
	uint64_t h = id * UINT64_C(0x9e3779b97f4a7c15) ^ index * UINT64_C(0xc2b2ae3d27d4eb4f);

	return (uint32_t)(h ^ h >> 31) & c->hash_mask;
}

static uint32_t lookup(const struct cache *c, uint64_t id, uint64_t index)
{
	for (uint32_t i = c->hash[hash_of(c, id, index)]; i != CACHE_NIL; i = c->pages[i].hnext)
		if (c->pages[i].id == id && c->pages[i].index == index)
			return i;
	return CACHE_NIL;
}

static void hash_remove(struct cache *c, uint32_t i)
{
	uint32_t *link = &c->hash[hash_of(c, c->pages[i].id, c->pages[i].index)];

	while (*link != CACHE_NIL && *link != i)
		link = &c->pages[*link].hnext;
	if (*link == i)
		*link = c->pages[i].hnext;
	c->pages[i].hnext = CACHE_NIL;
}

/* ---- Pages ----------------------------------------------------------------- */

static char *page_mem(const struct cache *c, uint32_t i)
{
	return c->mem + (size_t)i * CACHE_PAGE;
}

static void page_release(struct cache *c, uint32_t i)
{
	struct cache_page *p = &c->pages[i];

	if (p->state == P_FREE)
		return;
	hash_remove(c, i);
	p->state = P_FREE;
	p->unread = p->readahead = p->stale = false;
	p->valid = 0;
	list_push_head(c, i, L_FREE);
}

/* A page for (id, index), in the hash and FILLING, taken from the free list
 * or from the oldest page on probation (then protected); CACHE_NIL when
 * every page is being filled. */
static uint32_t page_alloc(struct cache *c, uint64_t id, uint64_t index)
{
	uint32_t i = c->lists[L_FREE].tail;
	struct cache_page *p;

	if (i == CACHE_NIL)
		i = c->lists[L_PROBATION].tail;
	if (i == CACHE_NIL)
		i = c->lists[L_PROTECTED].tail;
	if (i == CACHE_NIL)
		return CACHE_NIL;
	p = &c->pages[i];
	if (p->state == P_VALID) {
		hash_remove(c, i);
		c->st.evictions++;
	}
	list_remove(c, i);
	*p = (struct cache_page){ .id = id, .index = index, .state = P_FILLING, .list = L_NONE,
				  .prev = CACHE_NIL, .next = CACHE_NIL };
	p->hnext = c->hash[hash_of(c, id, index)];
	c->hash[hash_of(c, id, index)] = i;
	return i;
}

/* A read found page i: decide whether it has earned protection (a second
 * read, not the continuation of a sequential run). */
static void page_touched(struct cache *c, uint32_t i, bool sequential)
{
	struct cache_page *p = &c->pages[i];

	if (p->unread) {
		p->unread = false;
		if (p->readahead)
			c->st.readahead_used_bytes += p->valid;
	} else if (p->list == L_PROTECTED) {
		list_push_head(c, i, L_PROTECTED);
	} else if (!sequential) {
		list_push_head(c, i, L_PROTECTED);
		if (c->lists[L_PROTECTED].count > c->protected_max)
			list_push_head(c, c->lists[L_PROTECTED].tail, L_PROBATION);
	}
}

/* ---- Files ----------------------------------------------------------------- */

static struct cache_file **file_slot(struct cache *c, uint64_t dev, uint64_t ino)
{
	uint64_t h = (dev * UINT64_C(0x9e3779b97f4a7c15)) ^ ino;

	return &c->files[(unsigned)(h ^ h >> 29) & c->files_mask];
}

/* Entries of files neither open nor being filled go when there are too
 * many; their pages are unreachable from then on and age out. */
static void files_trim(struct cache *c)
{
	for (unsigned b = 0; b <= c->files_mask && c->nfiles > CACHE_FILES_MAX / 2; b++) {
		struct cache_file **link = &c->files[b];
		while (*link) {
			struct cache_file *cf = *link;
			if (cf->refs == 0) {
				*link = cf->next;
				free(cf);
				c->nfiles--;
			} else {
				link = &cf->next;
			}
		}
	}
}

static struct cache_file *file_get(struct cache *c, uint64_t dev, uint64_t ino)
{
	struct cache_file **slot = file_slot(c, dev, ino), *cf;

	for (cf = *slot; cf; cf = cf->next)
		if (cf->dev == dev && cf->ino == ino)
			return cf;
	if (c->nfiles >= CACHE_FILES_MAX)
		files_trim(c);
	cf = calloc(1, sizeof(*cf));
	if (!cf)
		return NULL;
	cf->dev = dev;
	cf->ino = ino;
	cf->id = c->next_id++;
	cf->next = *slot;
	*slot = cf;
	c->nfiles++;
	return cf;
}

static void file_drop_pages(struct cache *c, struct cache_file *cf)
{
	cf->id = c->next_id++;
	cf->size_seen_ms = 0;    /* truncated, extended, locked: ask again */
	c->st.invalidations++;
}

/* ---- Setup ----------------------------------------------------------------- */

/* What the process can afford: a quarter of physical memory at most, and
 * of the address space when that is limited. */
static unsigned long long cache_affordable(void)
{
	unsigned long long phys = (unsigned long long)sysconf(_SC_PHYS_PAGES) *
				  (unsigned long long)sysconf(_SC_PAGESIZE);
	unsigned long long most = phys / 4;
	struct rlimit rl;

	if (getrlimit(RLIMIT_AS, &rl) == 0 && rl.rlim_cur != RLIM_INFINITY &&
	    rl.rlim_cur / 4 < most)
		most = rl.rlim_cur / 4;
	return most;
}

void cache_setup(struct dafs_session *s, long long want)
{
	unsigned long long size, most = cache_affordable();
	struct cache *c;
	uint32_t nhash = 1;

	if (want < 0)
		return;
	if (want == 0)
		want = (long long)CACHE_DEFAULT;
	size = (unsigned long long)want;
	if (size > most)
		size = most;
	if (size < CACHE_MIN)
		size = CACHE_MIN;
	size -= size % CACHE_PAGE;
	if (size / CACHE_PAGE >= CACHE_NIL)
		size = (unsigned long long)(CACHE_NIL - 1) * CACHE_PAGE;

	c = calloc(1, sizeof(*c));
	if (!c)
		return;
	c->npages = (uint32_t)(size / CACHE_PAGE);
	while (nhash < c->npages)
		nhash <<= 1;
	c->hash_mask = nhash - 1;
	c->files_mask = 1023;
	c->next_id = 1;
	c->protected_max = c->npages / 4 * 3;
	c->op_pages_max = s->io_max / CACHE_PAGE;
	c->mem = mmap(NULL, size, PROT_READ | PROT_WRITE,
		      MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	/* Huge pages where the kernel has them: hits copy runs of pages, and a
	 * 4 KiB mapping costs a TLB miss every page of the run. */
	if (c->mem != MAP_FAILED)
		madvise(c->mem, size, MADV_HUGEPAGE);
	c->pages = calloc(c->npages, sizeof(*c->pages));
	c->hash = malloc(nhash * sizeof(*c->hash));
	c->files = calloc(c->files_mask + 1, sizeof(*c->files));
	if (c->mem == MAP_FAILED || !c->pages || !c->hash || !c->files ||
	    dafs_fabric_mr_reg(s->fab, c->mem, size, DAFS_MR_LOCAL | DAFS_MR_REMOTE_WRITE,
			       &c->mr) != 0) {
		if (c->mem == MAP_FAILED)
			c->mem = NULL;
		fprintf(stderr, "libdafs: no page cache: could not set up %llu bytes\n", size);
		s->cache = c;
		cache_teardown(s);
		return;
	}
	memset(c->hash, 0xff, nhash * sizeof(*c->hash));
	for (uint32_t l = 0; l < L_COUNT; l++)
		c->lists[l] = (struct cache_list){ CACHE_NIL, CACHE_NIL, 0 };
	for (uint32_t i = 0; i < c->npages; i++)
		c->pages[i] = (struct cache_page){ .hnext = CACHE_NIL, .prev = CACHE_NIL,
						   .next = CACHE_NIL, .list = L_NONE };
	/* page_alloc takes the free list's tail: pushing in address order
	 * hands fresh pages out in address order, and a run of them merges
	 * into one segment. */
	for (uint32_t i = 0; i < c->npages; i++)
		list_push_head(c, i, L_FREE);
	c->st.size = size;
	s->cache = c;
}

const struct dafs_mr *cache_region(const struct dafs_session *s)
{
	return s->cache ? &s->cache->mr : NULL;
}

void cache_teardown(struct dafs_session *s)
{
	struct cache *c = s->cache;

	if (!c)
		return;
	if (c->mr.mr)
		dafs_fabric_mr_dereg(&c->mr);
	if (c->mem)
		munmap(c->mem, (size_t)c->npages * CACHE_PAGE);
	if (c->files) {
		for (unsigned b = 0; b <= c->files_mask; b++) {
			while (c->files[b]) {
				struct cache_file *cf = c->files[b];
				c->files[b] = cf->next;
				free(cf);
			}
		}
	}
	free(c->files);
	free(c->spare_fill);
	free(c->pages);
	free(c->hash);
	free(c);
	s->cache = NULL;
}

/* ---- Opening and closing ---------------------------------------------------- */

/* Close-to-open: what we hold of the file is good only if it has not
 * changed since we read it. */
static void revalidate(struct cache *c, struct cache_file *cf, const struct dafs_attr *a)
{
	if (cf->change != a->change || cf->size != a->size || cf->mtime_sec != a->mtime.sec ||
	    cf->mtime_nsec != a->mtime.nsec)
		file_drop_pages(c, cf);
	cf->change = a->change;
	cf->size = a->size;
	cf->mtime_sec = a->mtime.sec;
	cf->mtime_nsec = a->mtime.nsec;
	/* Open elsewhere in this process, the file may have grown by writes
	 * of ours the server had not run when it answered. */
	if (!cf->refs || a->size > cf->known_size)
		cf->known_size = a->size;
	cf->size_seen_ms = client_now_ms();
}

void cache_open(struct dafs_file *f, const struct dafs_attr *a)
{
	struct cache *c = f->s->cache;
	struct cache_file *cf;

	assert_session_locked(f->s);
	f->cf = NULL;
	f->ra_next = 0;
	f->ra_end = 0;
	f->ra_window = 0;
	f->advice = POSIX_FADV_NORMAL;
	if (!c || !S_ISREG(a->mode))
		return;
	cf = file_get(c, a->dev, a->ino);
	if (!cf)
		return;
	revalidate(c, cf, a);
	cf->refs++;
	f->cf = cf;
}

void cache_revalidate(struct dafs_file *f, const struct dafs_attr *a)
{
	assert_session_locked(f->s);
	if (f->cf)
		revalidate(f->s->cache, f->cf, a);
}

void cache_close(struct dafs_file *f)
{
	assert_session_locked(f->s);
	if (f->cf)
		f->cf->refs--;
	f->cf = NULL;
}

bool cache_enabled(const struct dafs_file *f)
{
	return f->cf && f->s->cache && !(f->flags & O_DIRECT);
}

bool cache_range_absent(const struct dafs_file *f, off_t off, size_t len)
{
	const struct cache *c = f->s->cache;
	uint64_t end = (uint64_t)off + len;

	assert_session_locked(f->s);
	if (!f->cf || !c)
		return true;
	for (uint64_t index = (uint64_t)off / CACHE_PAGE; index * CACHE_PAGE < end; index++)
		if (lookup(c, f->cf->id, index) != CACHE_NIL)
			return false;
	return true;
}

void cache_read_bypassed(struct dafs_file *f, off_t end)
{
	assert_session_locked(f->s);
	/* The window starts again from the reader's position the next time
	 * it reads through the cache: read-ahead issued before the bypass
	 * only ever fills cache pages, never the reader's buffer. */
	f->ra_next = end;
	f->ra_end = 0;
	f->ra_window = 0;
}

void cache_invalidate(struct dafs_file *f)
{
	assert_session_locked(f->s);
	if (f->cf && f->s->cache)
		file_drop_pages(f->s->cache, f->cf);
	f->ra_end = 0;
	f->ra_window = 0;
}

void cache_invalidate_attr(struct dafs_session *s, const struct dafs_attr *a)
{
	struct cache *c = s->cache;

	assert_session_locked(s);
	if (!c)
		return;
	for (struct cache_file *cf = *file_slot(c, a->dev, a->ino); cf; cf = cf->next)
		if (cf->dev == a->dev && cf->ino == a->ino)
			file_drop_pages(c, cf);
}

/* ---- Fills ------------------------------------------------------------------ */

/* A fill's bookkeeping (5 KB) is reused, not allocated per miss: only its
 * counts need clearing, the arrays are written before they are read. */
static struct cache_fill *fill_new(struct cache *c)
{
	struct cache_fill *fl = c->spare_fill;

	if (!fl)
		return calloc(1, sizeof(*fl));
	c->spare_fill = NULL;
	fl->file = NULL;
	fl->cf = NULL;
	fl->readahead = false;
	fl->nops = fl->npages = fl->op_segs = 0;
	fl->op_first[0] = 0;
	return fl;
}

static void fill_free(struct cache *c, struct cache_fill *fl)
{
	if (!c->spare_fill)
		c->spare_fill = fl;
	else
		free(fl);
}

/* Marks the fill's pages valid with what the server wrote into them; pages
 * past the end of file, of a failed op, of a file dropped meanwhile, or
 * overtaken by a write go back. The result is the lowest offset at which a
 * READ came back short (end of file; INT64_MAX if none), or the first error. */
static ssize_t finish_fill(struct dafs_req *req, struct dafs_reply *rep)
{
	struct cache *c = req->s->cache;
	struct cache_fill *fl = req->fill;
	ssize_t eof = INT64_MAX;
	int first_err = 0;

	req->fill = NULL;
	for (unsigned op = 0; op < fl->nops; op++) {
		int err = rep ? client_errno_of(rep, op) : (int)req->result;
		unsigned npages = fl->op_first[op + 1] - fl->op_first[op];
		uint64_t count = 0;

		if (!err) {
			count = rep->res[op].r.read.count;
			if (count > (uint64_t)npages * CACHE_PAGE)
				err = -EPROTO;
			else if (count < (uint64_t)npages * CACHE_PAGE &&
				 (ssize_t)(fl->op_offset[op] + count) < eof)
				eof = (ssize_t)(fl->op_offset[op] + count);
			/* Only grown: writes of ours sent after this fill may
			 * already reach further. */
			if (fl->id == fl->cf->id && fl->op_offset[op] + count > fl->cf->known_size)
				fl->cf->known_size = fl->op_offset[op] + count;
		}
		if (err && !first_err)
			first_err = err;
		for (unsigned j = 0; j < npages; j++) {
			uint32_t i = fl->page[fl->op_first[op] + j];
			struct cache_page *p = &c->pages[i];
			uint64_t start = (uint64_t)j * CACHE_PAGE;
			uint32_t bytes = err || count <= start ? 0 :
					 count - start >= CACHE_PAGE ? CACHE_PAGE :
					 (uint32_t)(count - start);
			if (!bytes || p->stale || p->id != fl->cf->id) {
				page_release(c, i);
				continue;
			}
			p->state = P_VALID;
			p->valid = bytes;
			p->unread = true;
			p->readahead = fl->readahead;
			list_push_head(c, i, L_PROBATION);
			if (fl->readahead)
				c->st.readahead_bytes += bytes;
			else
				c->st.fetched_bytes += bytes;
		}
	}
	if (!first_err && eof != INT64_MAX && fl->id == fl->cf->id)
		fl->cf->size_seen_ms = client_now_ms();   /* it reached the end */
	if (fl->readahead)
		c->ra_pages_inflight -= fl->npages;
	fl->cf->refs--;
	fl->file->fills_inflight--;
	fill_free(c, fl);
	return first_err ? first_err : eof;
}

static void fill_abort(struct cache *c, struct cache_fill *fl)
{
	for (unsigned j = 0; j < fl->npages; j++)
		page_release(c, fl->page[j]);
	if (fl->readahead)
		c->ra_pages_inflight -= fl->npages;
	fill_free(c, fl);
}

/* Sends one request filling the pages of `fl`: READ ops over runs of
 * consecutive file pages, segments over the pages' memory (merged where
 * pages are adjacent). A demand fill (req_out) is waited for by its reader;
 * read-ahead is the library's own. On failure the pages go back. */
static int fill_submit(struct dafs_file *f, struct cache_fill *fl, struct dafs_req **req_out)
{
	struct dafs_session *s = f->s;
	struct cache *c = s->cache;
	struct dafs_compound *rq = compound_alloc();
	struct dafs_req *req = NULL;
	int rc;

	if (rq)
		req = req_out ? req_new(s, NULL, NULL, req_out, finish_fill) :
				req_new_internal(s, finish_fill);
	if (!req) {
		compound_free(rq);
		fill_abort(c, fl);
		return -ENOMEM;
	}
	rq->nops = (uint16_t)fl->nops;
	rq->hdr.flags = DAFS_HF_CONTINUE;
	for (unsigned op = 0; op < fl->nops; op++) {
		struct dafs_args_io *io = &rq->ops[op].a.io;
		rq->ops[op].opcode = DAFS_OP_READ;
		*io = (struct dafs_args_io){
			.fh = f->fh, .offset = fl->op_offset[op],
			.len = (fl->op_first[op + 1] - fl->op_first[op]) * CACHE_PAGE,
		};
		for (unsigned j = fl->op_first[op]; j < fl->op_first[op + 1]; j++) {
			uint64_t addr = c->mr.remote_base +
					(uint64_t)(page_mem(c, fl->page[j]) - c->mem);
			struct dafs_seg *last = io->nsegs ? &io->segs[io->nsegs - 1] : NULL;
			if (last && last->addr + last->len == addr) {
				last->len += CACHE_PAGE;
				continue;
			}
			io->segs[io->nsegs++] = (struct dafs_seg){ .addr = addr, .key = c->mr.key,
								   .len = CACHE_PAGE };
		}
	}
	req->fill = fl;
	fl->file = f;
	fl->cf = f->cf;
	fl->id = f->cf->id;
	rc = req_submit_locked(req, rq);
	compound_free(rq);
	if (rc) {
		fill_abort(c, fl);
		return rc;
	}
	f->cf->refs++;
	f->fills_inflight++;
	return 0;
}

/* Appends page i (file page `index`) to the fill, opening a new READ op
 * when the file pages stop being consecutive or the op's segments are used
 * up. Returns false when the fill is full. */
static bool fill_add(struct cache *c, struct cache_fill *fl, uint32_t i, uint64_t index)
{
	unsigned op = fl->nops - 1;
	bool new_op = fl->nops == 0, new_seg = true;

	if (!new_op) {
		unsigned n = fl->npages - fl->op_first[op];
		new_seg = i != fl->page[fl->npages - 1] + 1;
		new_op = fl->op_offset[op] / CACHE_PAGE + n != index ||
			 (new_seg && fl->op_segs == DAFS_SEGS_MAX) || n == c->op_pages_max;
	}
	if (fl->npages == FILL_PAGES_MAX || (new_op && fl->nops == DAFS_COMPOUND_MAX))
		return false;
	if (new_op) {
		fl->op_offset[fl->nops] = index * CACHE_PAGE;
		fl->op_first[fl->nops] = fl->npages;
		fl->nops++;
		fl->op_segs = 0;
		new_seg = true;
	}
	fl->op_segs += new_seg;
	fl->page[fl->npages++] = i;
	fl->op_first[fl->nops] = fl->npages;
	return true;
}

/* Read-ahead of file pages [from, to) not cached yet, as far as pages and
 * the read-ahead budget go. Returns the offset up to which it was issued. */
static uint64_t fill_ahead(struct dafs_file *f, uint64_t from, uint64_t to)
{
	struct cache *c = f->s->cache;
	struct cache_fill *fl = fill_new(c);
	uint64_t index = from / CACHE_PAGE;

	if (!fl)
		return from;
	fl->readahead = true;
	for (; index * CACHE_PAGE < to; index++) {
		uint32_t i;
		if (c->ra_pages_inflight + fl->npages >= c->npages / 4)
			break;
		if (lookup(c, f->cf->id, index) != CACHE_NIL)
			continue;
		i = page_alloc(c, f->cf->id, index);
		if (i == CACHE_NIL)
			break;
		if (!fill_add(c, fl, i, index)) {
			page_release(c, i);
			break;
		}
	}
	if (fl->npages == 0) {
		fill_free(c, fl);
		return index * CACHE_PAGE;
	}
	c->ra_pages_inflight += fl->npages;
	if (fill_submit(f, fl, NULL) != 0)
		return from;
	return index * CACHE_PAGE;
}

/* ---- Reads ------------------------------------------------------------------ */

/* Sequential runs get a window of read-ahead that doubles (up to RA_MAX or
 * an eighth of the cache) each time the reader gets within half a window of
 * its end; anything else ends the run, and pages fetched ahead and never
 * read age out of probation first. */
static void start_readahead(struct dafs_file *f, uint64_t off, size_t len, bool sequential)
{
	struct cache *c = f->s->cache;
	uint64_t end = off + len, most = (uint64_t)c->npages * CACHE_PAGE / 8, target;

	if (most > RA_MAX)
		most = RA_MAX;
	/* A read large enough to go direct finds its range cached only where
	 * read-ahead got there first: reading ahead of it again would keep a
	 * streaming reader off direct reads for good. */
	if (f->advice == POSIX_FADV_RANDOM || !sequential || most < RA_MIN ||
	    client_direct_read_size(f->s, len)) {
		f->ra_window = 0;
		f->ra_end = 0;
		return;
	}
	if (f->ra_window == 0) {
		f->ra_window = f->advice == POSIX_FADV_SEQUENTIAL ? most :
			       len * 4 > RA_MIN ? len * 4 : RA_MIN;
		if (f->ra_window > most)
			f->ra_window = most;
	} else if ((uint64_t)f->ra_end < end + f->ra_window / 2 && f->ra_window < most) {
		f->ra_window = f->ra_window * 2 < most ? f->ra_window * 2 : most;
	}
	if ((uint64_t)f->ra_end < end)
		f->ra_end = (off_t)end;
	target = end + f->ra_window;
	/* Nothing past the end of file as we know it (close-to-open: another
	 * client's growth is seen at the next open). */
	if (target > (f->cf->known_size + CACHE_PAGE - 1) / CACHE_PAGE * CACHE_PAGE)
		target = (f->cf->known_size + CACHE_PAGE - 1) / CACHE_PAGE * CACHE_PAGE;
	/* Issue in batches of a quarter window, not a page per read. */
	if (target <= (uint64_t)f->ra_end || target - (uint64_t)f->ra_end < f->ra_window / 4)
		return;
	f->ra_end = (off_t)fill_ahead(f, (uint64_t)f->ra_end, target);
}

/* Waits, with the lock let go meanwhile, for a request to complete, then
 * frees it. */
static ssize_t wait_req(struct dafs_session *s, struct dafs_req *req)
{
	ssize_t rc;

	while (!req->done)
		client_progress(s, 100);
	rc = req->result;
	req_free(req);
	return rc;
}

/* A read through the cache, as its steps share it. */
struct cache_read_op {
	struct dafs_file *f;
	char *buf;
	uint64_t off, len;
	uint64_t first, last;          /* the pages it spans */
	uint64_t eof;                  /* where a fill found the file to end */
	uint64_t end;                  /* off + len, or eof when before that */
	bool sequential;               /* continues the file's last read */
	/* The pages the look-up pass found, for the copy: one hash look-up
	 * per page, not two (a 1 MiB read is 256 pages). An unaligned read
	 * of DAFS_IO_MAX spans one page more. */
	uint32_t found[DAFS_IO_MAX / CACHE_PAGE + 1];
};

/* At or past the end of file as the server told it a moment ago (or as our
 * own writes made it): nothing to read, without asking again. A reader that
 * rewinds at the end asked the server once a pass, which cost a quarter of
 * the time of a warm 64 MiB file read 1 MiB at a time. Another client's
 * growth shows after EOF_TRUST_MS at most (NFS clients trust cached
 * attributes for seconds). Not for a size of 0: what /proc and its kind
 * say of files that do hold bytes. */
static bool past_known_eof(const struct dafs_file *f, off_t off)
{
	return (uint64_t)off >= f->cf->known_size && f->cf->known_size &&
	       client_now_ms() - f->cf->size_seen_ms < EOF_TRUST_MS;
}

/* The common hit: one page, there and holding what is asked. Copies it and
 * returns true, or returns false having done nothing. */
static bool read_one_page_hit(struct cache_read_op *r)
{
	struct cache *c = r->f->s->cache;
	uint32_t i = lookup(c, r->f->cf->id, r->first);
	uint64_t from = r->off - r->first * CACHE_PAGE;

	if (i == CACHE_NIL || c->pages[i].state != P_VALID || c->pages[i].valid < from + r->len)
		return false;
	memcpy(r->buf, page_mem(c, i) + from, r->len);
	page_touched(c, i, r->sequential);
	c->st.hits++;
	return true;
}

/* The look-up pass: finds each page of the range (into r->found) or
 * allocates it into a new fill, returned in *fill (NULL: every page was
 * there). *waiting: some page is being filled by another request.
 * -ENOBUFS: more than the cache can hold at once, nothing left allocated. */
static int find_pages(struct cache_read_op *r, struct cache_fill **fill, bool *waiting)
{
	struct dafs_file *f = r->f;
	struct cache *c = f->s->cache;
	struct cache_fill *fl = NULL;

	*waiting = false;
	r->end = r->off + r->len < r->eof ? r->off + r->len : r->eof;
	for (uint64_t index = r->first; index <= r->last && index * CACHE_PAGE < r->end; index++) {
		uint64_t start = index * CACHE_PAGE;
		uint64_t need = (r->end < start + CACHE_PAGE ? r->end : start + CACHE_PAGE) - start;
		uint32_t i = lookup(c, f->cf->id, index);
		r->found[index - r->first] = i;
		if (i != CACHE_NIL && c->pages[i].state == P_VALID && c->pages[i].valid < need) {
			/* A short page is the end of file, unless the file
			 * has grown since (our own writes past it). */
			if (f->cf->known_size <= start + c->pages[i].valid)
				break;
			page_release(c, i);
			i = CACHE_NIL;
		}
		if (i != CACHE_NIL) {
			*waiting |= c->pages[i].state == P_FILLING;
			continue;
		}
		/* A fill's bookkeeping is allocated at the first miss only:
		 * hits allocate nothing. */
		if (!fl && !(fl = fill_new(c)))
			return -ENOBUFS;
		i = page_alloc(c, f->cf->id, index);
		if (i == CACHE_NIL || !fill_add(c, fl, i, index)) {
			if (i != CACHE_NIL)
				page_release(c, i);
			fill_abort(c, fl);
			return -ENOBUFS;
		}
	}
	*fill = fl;
	return 0;
}

/* Every page of the range is here, as the look-up pass found them (nothing
 * ran since): copies, one memcpy per run of pages adjacent in the cache's
 * memory, up to the end of file. Returns the bytes copied. */
static size_t copy_found_pages(struct cache_read_op *r)
{
	struct cache *c = r->f->s->cache;
	size_t copied = 0, run_len = 0;
	const char *run = NULL;

	for (uint64_t index = r->first; index <= r->last && index * CACHE_PAGE < r->end; index++) {
		uint64_t start = index * CACHE_PAGE;
		uint32_t i = r->found[index - r->first];
		struct cache_page *p = &c->pages[i];
		uint64_t from = index == r->first ? r->off - start : 0;
		uint64_t to = r->end - start < CACHE_PAGE ? r->end - start : CACHE_PAGE;
		if (to > p->valid)
			to = p->valid;
		if (to > from) {
			const char *src = page_mem(c, i) + from;
			if (run && run + run_len != src) {
				memcpy(r->buf + copied, run, run_len);
				copied += run_len;
				run_len = 0;
			}
			if (!run_len)
				run = src;
			run_len += to - from;
		}
		page_touched(c, i, r->sequential);
		if (p->valid < CACHE_PAGE && to < CACHE_PAGE)
			break;
	}
	if (run_len) {
		memcpy(r->buf + copied, run, run_len);
		copied += run_len;
	}
	return copied;
}

/* Look up every page; send a fill for those missing and wait for it, or
 * wait for other requests' fills of them; once all are there, copy. */
ssize_t cache_read(struct dafs_file *f, void *buf, size_t len, off_t off)
{
	struct dafs_session *s = f->s;
	struct cache *c = s->cache;
	struct cache_read_op r;
	uint64_t fetched = 0;
	bool readahead_started = false;

	assert_session_locked(s);
	if (len == 0)
		return 0;
	if (past_known_eof(f, off))
		return 0;
	if (len > (uint64_t)c->npages * CACHE_PAGE / 4 || len > DAFS_IO_MAX)
		return -ENOBUFS;
	r.f = f;
	r.buf = buf;
	r.off = (uint64_t)off;
	r.len = len;
	r.first = r.off / CACHE_PAGE;
	r.last = (r.off + len - 1) / CACHE_PAGE;
	r.eof = INT64_MAX;
	r.sequential = off == f->ra_next;
	if (r.first == r.last && read_one_page_hit(&r)) {
		start_readahead(f, r.off, len, r.sequential);
		f->ra_next = off + (off_t)len;
		return (ssize_t)len;
	}
	for (int attempt = 0; attempt < READ_ATTEMPTS; attempt++) {
		struct cache_fill *fl;
		struct dafs_req *req = NULL;
		bool waiting;
		int rc = find_pages(&r, &fl, &waiting);

		if (rc)
			return rc;   /* -ENOBUFS: the caller reads directly */
		if (fl && fl->npages) {
			fetched += fl->npages;
			c->st.misses += fl->npages;
			rc = fill_submit(f, fl, &req);
			if (rc)
				return rc;
		} else {
			fill_free(c, fl);
		}
		/* While we wait, read-ahead goes out too; with nothing to wait
		 * for it waits until the copy, which must find the pages the
		 * pass above found (read-ahead may evict them). */
		if (attempt == 0 && (req || waiting)) {
			start_readahead(f, r.off, len, r.sequential);
			readahead_started = true;
		}
		if (req) {
			ssize_t got = wait_req(s, req);
			if (got < 0)
				return got;
			if ((uint64_t)got < r.eof)
				r.eof = (uint64_t)got;
			continue;
		}
		if (waiting) {
			client_progress(s, 10);
			attempt--;   /* someone else's fill: not a failed attempt */
			continue;
		}

		size_t copied = copy_found_pages(&r);
		c->st.hits += (r.last - r.first + 1) > fetched ? (r.last - r.first + 1) - fetched : 0;
		if (!readahead_started)
			start_readahead(f, r.off, len, r.sequential);
		f->ra_next = off + (off_t)copied;
		return (ssize_t)copied;
	}
	return -ENOBUFS;
}

/* ---- Writes, advice, figures ------------------------------------------------- */

void cache_write(struct dafs_file *f, const void *buf, size_t len, off_t off)
{
	struct cache *c = f->s->cache;
	uint64_t end = (uint64_t)off + len;

	assert_session_locked(f->s);
	if (!f->cf || !c || len == 0)
		return;
	for (uint64_t index = (uint64_t)off / CACHE_PAGE; index * CACHE_PAGE < end; index++) {
		uint32_t i = lookup(c, f->cf->id, index);
		uint64_t start = index * CACHE_PAGE;
		uint64_t from = (uint64_t)off > start ? (uint64_t)off - start : 0;
		uint64_t to = end - start < CACHE_PAGE ? end - start : CACHE_PAGE;
		struct cache_page *p;

		if (i == CACHE_NIL)
			continue;
		p = &c->pages[i];
		if (p->state == P_FILLING) {
			p->stale = true;
		} else if (from > p->valid) {
			page_release(c, i);     /* the gap would read as zeros */
		} else {
			memcpy(page_mem(c, i) + from, (const char *)buf + (start + from - (uint64_t)off),
			       to - from);
			if (to > p->valid)
				p->valid = (uint32_t)to;
		}
	}
	if (end > f->cf->known_size)
		f->cf->known_size = end;
}

void cache_advise(struct dafs_file *f, off_t off, off_t len, int advice)
{
	struct cache *c = f->s->cache;
	uint64_t end;

	assert_session_locked(f->s);
	if (!cache_enabled(f))
		return;
	end = len ? (uint64_t)off + (uint64_t)len : f->cf->known_size;
	switch (advice) {
	case POSIX_FADV_NORMAL:
	case POSIX_FADV_SEQUENTIAL:
	case POSIX_FADV_RANDOM:
		f->advice = advice;
		f->ra_window = 0;
		f->ra_end = 0;
		break;
	case POSIX_FADV_WILLNEED:
		if (end > (uint64_t)off + (uint64_t)c->npages * CACHE_PAGE / 4)
			end = (uint64_t)off + (uint64_t)c->npages * CACHE_PAGE / 4;
		if (end > f->cf->known_size)
			end = f->cf->known_size;
		if (end > (uint64_t)off)
			fill_ahead(f, (uint64_t)off / CACHE_PAGE * CACHE_PAGE, end);
		break;
	case POSIX_FADV_DONTNEED:
		if ((end - (uint64_t)off) / CACHE_PAGE >= c->npages) {
			file_drop_pages(c, f->cf);
			break;
		}
		for (uint64_t index = (uint64_t)off / CACHE_PAGE; index * CACHE_PAGE < end; index++) {
			uint32_t i = lookup(c, f->cf->id, index);
			if (i != CACHE_NIL && c->pages[i].state == P_VALID)
				page_release(c, i);
			else if (i != CACHE_NIL)
				c->pages[i].stale = true;
		}
		break;
	default:
		break;
	}
}

int dafs_cache_stats(struct dafs_session *s, struct dafs_cache_stats *out)
{
	pthread_mutex_lock(&s->lock);
	if (s->cache) {
		*out = s->cache->st;
		out->protected_pages = s->cache->lists[L_PROTECTED].count;
	} else {
		*out = (struct dafs_cache_stats){ 0 };
	}
	out->write_sends = s->write_sends;
	out->writes_coalesced = s->writes_coalesced;
	out->direct_reads = s->direct_reads;
	out->direct_bytes = s->direct_bytes;
	regcache_stats(s, out);
	pthread_mutex_unlock(&s->lock);
	return 0;
}
