/* wrap_mmap.c — mmap of DAFS descriptors.
 *
 * The kernel cannot map a DAFS file (the descriptor is a placeholder), so
 * the shim maps anonymous memory of the length, fills it from the file at
 * the offset and then applies the protection asked for.
 *
 * MAP_PRIVATE needs nothing more. A writable MAP_SHARED mapping is tracked
 * (address, length, file, offset) with a shadow copy of what the file held:
 * on msync, munmap, a MAP_FIXED mapping over it, the close of the last
 * descriptor of the open file it was made through, exec and exit the pages
 * that differ from the shadow are written to the file (never past its
 * current end, as the kernel drops what lies beyond EOF) and the shadow is
 * updated. The mapping holds a reference to the open file, so closing the
 * descriptor does not end it. Its memory is MAP_SHARED anonymous, so a
 * forked child shares it as it would a file mapping.
 *
 * Not the kernel's page cache: other processes and read() see the changes
 * only once written back; mprotect() adding PROT_WRITE to a mapping made
 * without it, and mremap(), are not followed.
 */
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "shim.h"

struct map {
	struct map *next;
	char *addr;
	size_t len;             /* whole pages */
	off64_t off;            /* file offset of addr */
	struct dfile *d;        /* a reference */
	char *shadow;           /* len bytes, what the file held */
};

/* maps_lock guards the list and is held only briefly: the core maps and
 * unmaps its own memory (from its threads too) while a write-back waits on
 * it. wb_lock serializes write-backs and the freeing of entries, so an
 * entry msync is writing stays alive until it is done. Neither is taken by
 * an mmap or munmap of memory no tracked mapping overlaps. */
static pthread_mutex_t maps_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_mutex_t wb_lock = PTHREAD_MUTEX_INITIALIZER;
static struct map *maps;
static _Atomic int nmaps;
static int exit_hook;

static size_t page_size(void)
{
	static size_t ps;

	if (!ps)
		ps = (size_t)sysconf(_SC_PAGESIZE);
	return ps;
}

static size_t round_up(size_t n)
{
	return (n + page_size() - 1) & ~(page_size() - 1);
}

/* Writes the pages of m in [from, to) that differ from the shadow. */
static int writeback(struct map *m, size_t from, size_t to, bool sync)
{
	struct dafs_file *f;
	struct stat st;
	size_t ps = page_size(), limit, p;
	int rc = shim_dfile_handle(m->d, &f);

	if (rc < 0)
		return rc;
	if ((rc = shim_core.dafs_fstat(f, &st)) < 0)
		return rc;
	limit = st.st_size > m->off ? (size_t)(st.st_size - m->off) : 0;
	if (to > limit)
		to = limit;
	for (p = from; p < to;) {
		size_t q, n;

		if (memcmp(m->addr + p, m->shadow + p, ps < to - p ? ps : to - p) == 0) {
			p += ps;
			continue;
		}
		for (q = p + ps; q < to && memcmp(m->addr + q, m->shadow + q,
						  ps < to - q ? ps : to - q) != 0;)
			q += ps;
		if (q > to)
			q = to;
		n = q - p;
		/* Copy first: a store racing the write is then seen next time. */
		memcpy(m->shadow + p, m->addr + p, n);
		for (size_t done = 0; done < n;) {
			ssize_t w = shim_core.dafs_pwrite(f, m->shadow + p + done, n - done,
						     m->off + (off64_t)(p + done));
			if (w <= 0)
				return w < 0 ? (int)w : -EIO;
			done += (size_t)w;
		}
		p = q;
	}
	if (sync)
		rc = shim_core.dafs_fsync(f, 0);
	return rc;
}

/* Every tracked mapping overlapping [a, a+len) leaves the list (written
 * back first when wb) and what lies outside the range comes back. The list
 * lock is not held while writing: the core may map and unmap meanwhile. */
static void untrack(char *a, size_t len, bool wb)
{
	struct map **pp, *m, *taken = NULL;
	char *e = a + len;

	if (atomic_load(&nmaps) == 0)
		return;
	pthread_mutex_lock(&maps_lock);
	for (pp = &maps; (m = *pp);) {
		if (m->addr < e && a < m->addr + m->len) {
			*pp = m->next;
			m->next = taken;
			taken = m;
			atomic_fetch_sub(&nmaps, 1);
		} else {
			pp = &m->next;
		}
	}
	pthread_mutex_unlock(&maps_lock);
	if (!taken)
		return;
	pthread_mutex_lock(&wb_lock);
	while ((m = taken)) {
		char *ms = m->addr, *me = m->addr + m->len;
		char *cs = a > ms ? a : ms, *ce = e < me ? e : me;
		struct map *tail = NULL;
		int rc;

		taken = m->next;
		if (wb && (rc = writeback(m, 0, m->len, false)) < 0)
			shim_log("writing back a mapping of %s%s failed: %s", shim_prefix,
				 m->d->path, strerror(-rc));
		/* The part after the range keeps its own piece of the shadow. */
		if (ce < me && (tail = malloc(sizeof(*tail)))) {
			*tail = *m;
			tail->addr = ce;
			tail->len = (size_t)(me - ce);
			tail->off = m->off + (ce - ms);
			tail->shadow = m->shadow + (ce - ms);
			atomic_fetch_add(&tail->d->refs, 1);
		} else if (ce < me) {
			REAL(munmap)(m->shadow + (ce - ms), (size_t)(me - ce));
		}
		REAL(munmap)(m->shadow + (cs - ms), (size_t)(ce - cs));
		m->len = (size_t)(cs - ms);
		pthread_mutex_lock(&maps_lock);
		if (tail) {
			tail->next = maps;
			maps = tail;
			atomic_fetch_add(&nmaps, 1);
		}
		if (m->len) {
			m->next = maps;
			maps = m;
			atomic_fetch_add(&nmaps, 1);
		}
		pthread_mutex_unlock(&maps_lock);
		if (!m->len) {
			shim_dfile_put(m->d);
			free(m);
		}
	}
	pthread_mutex_unlock(&wb_lock);
}

/* The tracked mappings overlapping [a, e), in a malloc'ed array (count in
 * *n); the caller holds wb_lock, which keeps them alive. */
static struct map **overlapping(char *a, char *e, size_t *n)
{
	struct map *m, **v = NULL;
	size_t k = 0, cap = 0;

	pthread_mutex_lock(&maps_lock);
	for (m = maps; m; m = m->next) {
		if (m->addr >= e || a >= m->addr + m->len)
			continue;
		if (k == cap) {
			struct map **nv = realloc(v, (cap = cap ? 2 * cap : 8) * sizeof(*v));
			if (!nv)
				break;
			v = nv;
		}
		v[k++] = m;
	}
	pthread_mutex_unlock(&maps_lock);
	*n = k;
	return v;
}

/* Writes every shared mapping of d (of any file when d is NULL) to its file. */
static void writeback_maps_of(const struct dfile *d)
{
	struct map **v;
	size_t n;
	int rc;

	if (atomic_load(&nmaps) == 0)
		return;
	pthread_mutex_lock(&wb_lock);
	v = overlapping(NULL, (char *)UINTPTR_MAX, &n);
	for (size_t i = 0; i < n; i++)
		if ((!d || v[i]->d == d) && (rc = writeback(v[i], 0, v[i]->len, false)) < 0)
			shim_log("writing back a mapping of %s%s failed: %s", shim_prefix,
				 v[i]->d->path, strerror(-rc));
	pthread_mutex_unlock(&wb_lock);
	free(v);
}

/* Before exec and at exit: every shared mapping reaches its file. */
void shim_mmap_flush_all(void)
{
	writeback_maps_of(NULL);
}

void shim_mmap_writeback_dfile(struct dfile *d)
{
	writeback_maps_of(d);
}

static void *dafs_mmap(struct dfile *d, void *addr, size_t len, int prot, int flags, off64_t off)
{
	int type = flags & MAP_TYPE, acc = d->flags & O_ACCMODE, rc;
	int keep = flags & (MAP_FIXED | MAP_FIXED_NOREPLACE | MAP_NORESERVE | MAP_POPULATE |
			    MAP_LOCKED | MAP_STACK | MAP_NONBLOCK);
	bool shared = type == MAP_SHARED || type == MAP_SHARED_VALIDATE;
	struct dafs_file *f;
	struct map *m = NULL;
	struct stat st;
	size_t fill = 0;
	char *p;

	if (len == 0 || off < 0 || ((size_t)off & (page_size() - 1)) ||
	    (!shared && type != MAP_PRIVATE)) {
		rc = -EINVAL;
		goto fail;
	}
	if (acc == O_WRONLY || (shared && (prot & PROT_WRITE) && acc != O_RDWR)) {
		rc = -EACCES;
		goto fail;
	}
	if ((rc = shim_dfile_handle(d, &f)) < 0 || (rc = shim_core.dafs_fstat(f, &st)) < 0)
		goto fail;
	len = round_up(len);
	if (shared && (prot & PROT_WRITE) && !(m = calloc(1, sizeof(*m)))) {
		rc = -ENOMEM;
		goto fail;
	}
	if (flags & MAP_FIXED)
		untrack(addr, len, true);
	p = REAL(mmap)(addr, len, PROT_READ | PROT_WRITE,
		       keep | (shared ? MAP_SHARED : MAP_PRIVATE) | MAP_ANONYMOUS, -1, 0);
	if (p == MAP_FAILED) {
		rc = -errno;
		goto fail;
	}
	if (st.st_size > off)
		fill = (uint64_t)(st.st_size - off) < len ? (size_t)(st.st_size - off) : len;
	for (size_t got = 0; got < fill;) {
		ssize_t r = shim_core.dafs_pread(f, p + got, fill - got, off + (off64_t)got);
		if (r < 0) {
			rc = (int)r;
			REAL(munmap)(p, len);
			goto fail;
		}
		if (r == 0)
			break;          /* shrunk meanwhile: the rest reads as zeros */
		got += (size_t)r;
	}
	if (m) {
		m->shadow = REAL(mmap)(NULL, len, PROT_READ | PROT_WRITE,
				       MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
		if (m->shadow == MAP_FAILED) {
			rc = -errno;
			REAL(munmap)(p, len);
			goto fail;
		}
		memcpy(m->shadow, p, len);
	}
	if (prot != (PROT_READ | PROT_WRITE) && mprotect(p, len, prot) < 0) {
		rc = -errno;
		if (m)
			REAL(munmap)(m->shadow, len);
		REAL(munmap)(p, len);
		goto fail;
	}
	if (!m) {
		shim_dfile_put(d);
		return p;
	}
	m->addr = p;
	m->len = len;
	m->off = off;
	m->d = d;               /* the reference passes to the mapping */
	pthread_mutex_lock(&maps_lock);
	m->next = maps;
	maps = m;
	atomic_fetch_add(&nmaps, 1);
	/* After the session opened, so it runs before the session closes at
	 * exit (atexit handlers run last registered first). */
	if (!exit_hook) {
		exit_hook = 1;
		(void)!atexit(shim_mmap_flush_all);
	}
	pthread_mutex_unlock(&maps_lock);
	return p;
fail:
	free(m);
	shim_dfile_put(d);
	errno = -rc;
	return MAP_FAILED;
}

static void *route_mmap(void *addr, size_t len, int prot, int flags, int fd, off64_t off,
			void *(*real)(void *, size_t, int, int, int, off64_t))
{
	struct dfile *d;

	if (!(flags & MAP_ANONYMOUS) && shim_fd_maybe(fd) && (d = shim_fd_get(fd)))
		return dafs_mmap(d, addr, len, prot, flags, off);
	if ((flags & MAP_FIXED) && atomic_load(&nmaps))
		untrack(addr, round_up(len), true);
	return real(addr, len, prot, flags, fd, off);
}

void *mmap(void *addr, size_t len, int prot, int flags, int fd, off_t off)
{
	return route_mmap(addr, len, prot, flags, fd, off, REAL(mmap));
}

void *mmap64(void *addr, size_t len, int prot, int flags, int fd, off64_t off)
{
	return route_mmap(addr, len, prot, flags, fd, off, REAL(mmap64));
}

int munmap(void *addr, size_t len)
{
	if (atomic_load(&nmaps) && ((uintptr_t)addr & (page_size() - 1)) == 0 && len)
		untrack(addr, round_up(len), true);
	return REAL(munmap)(addr, len);
}

int msync(void *addr, size_t len, int flags)
{
	char *a = addr, *e;
	struct map **v;
	size_t n;
	int rc, err = 0;

	if (atomic_load(&nmaps) == 0 || ((uintptr_t)addr & (page_size() - 1)))
		return REAL(msync)(addr, len, flags);
	if ((rc = REAL(msync)(addr, len, flags)) < 0)
		return rc;
	if (!(flags & (MS_SYNC | MS_ASYNC)))
		return 0;       /* MS_INVALIDATE alone */
	e = a + round_up(len);
	pthread_mutex_lock(&wb_lock);
	v = overlapping(a, e, &n);
	for (size_t i = 0; i < n; i++) {
		struct map *m = v[i];
		size_t from = a > m->addr ? (size_t)(a - m->addr) : 0;
		size_t to = e < m->addr + m->len ? (size_t)(e - m->addr) : m->len;

		if ((rc = writeback(m, from, to, flags & MS_SYNC)) < 0 && !err)
			err = rc;
	}
	pthread_mutex_unlock(&wb_lock);
	free(v);
	return err ? shim_err(err) : 0;
}
