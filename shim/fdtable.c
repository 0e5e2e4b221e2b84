/* fdtable.c — DAFS descriptors.
 *
 * Every open DAFS file is a real kernel descriptor: a memfd placeholder, so
 * that calls the shim does not wrap fail on it instead of reaching another
 * file, and dup/close/exec behave. The table maps descriptor -> dfile (one
 * per open file description, shared by dup'ed descriptors, which counts its
 * descriptors apart from its other references). Its first level
 * is static and its chunks are allocated on first use, so a program that
 * opens nothing under the prefix allocates nothing, and a lookup for a
 * non-DAFS descriptor is two loads.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "shim.h"

#define CHUNK 1024
#define NCHUNKS 1024                     /* descriptors below 1 Mi */

typedef struct dfile *_Atomic slot_t;
static slot_t *_Atomic table[NCHUNKS];
/* Entries change and take references under this lock, so that a close in
 * one thread cannot free a dfile another thread is about to use. */
static pthread_mutex_t table_lock = PTHREAD_MUTEX_INITIALIZER;

static slot_t *slot(int fd, int create)
{
	slot_t *c;

	if (fd < 0 || fd >= CHUNK * NCHUNKS)
		return NULL;
	c = atomic_load_explicit(&table[fd / CHUNK], memory_order_acquire);
	if (!c && create) {
		c = calloc(CHUNK, sizeof(*c));
		if (!c)
			return NULL;
		atomic_store_explicit(&table[fd / CHUNK], c, memory_order_release);
	}
	return c ? &c[fd % CHUNK] : NULL;
}

int shim_fd_maybe(int fd)
{
	slot_t *s = slot(fd, 0);

	return s && atomic_load_explicit(s, memory_order_relaxed);
}

struct dfile *shim_fd_get(int fd)
{
	struct dfile *d = NULL;
	slot_t *s;

	pthread_mutex_lock(&table_lock);
	s = slot(fd, 0);
	if (s && (d = atomic_load(s)))
		atomic_fetch_add(&d->refs, 1);
	pthread_mutex_unlock(&table_lock);
	return d;
}

void shim_dfile_put(struct dfile *d)
{
	if (atomic_fetch_sub(&d->refs, 1) != 1)
		return;
	/* A handle of an older generation belongs to a session this process
	 * does not own (the parent's, or one closed at exit). */
	if (d->dir)
		shim_dirstate_free(d);
	if (d->f && d->gen == atomic_load(&shim_generation))
		shim_core.dafs_close(d->f);
	munmap(d->ph, SHIM_PH_SIZE);
	pthread_mutex_destroy(&d->lock);
	free(d);
}

/* Puts d at fd (d's reference passes to the table) and drops what was there. */
static void set_slot(int fd, struct dfile *d)
{
	struct dfile *old = NULL;
	slot_t *s;

	pthread_mutex_lock(&table_lock);
	s = slot(fd, d != NULL);
	if (s)
		old = atomic_exchange(s, d);
	if (s && d)
		atomic_fetch_add(&d->nfds, 1);
	if (old)
		atomic_fetch_sub(&old->nfds, 1);
	pthread_mutex_unlock(&table_lock);
	if (old)
		shim_dfile_put(old);
	if (fd <= 2 && (old != NULL) != (d != NULL))
		shim_std_sync(fd, d);
}

void shim_fd_dup(struct dfile *d, int fd2)
{
	atomic_fetch_add(&d->refs, 1);
	set_slot(fd2, d);
}

void shim_fd_forget(int fd)
{
	if (shim_fd_maybe(fd))
		set_slot(fd, NULL);
}

static struct dfile *dfile_new(int fd, struct shim_ph *ph, const char *dpath, int flags)
{
	size_t len = strlen(dpath);
	struct dfile *d = calloc(1, sizeof(*d) + len + 1);

	if (!d)
		return NULL;
	atomic_init(&d->refs, 1);
	pthread_mutex_init(&d->lock, NULL);
	d->flags = flags;
	d->ph = ph;
	memcpy(d->path, dpath, len + 1);
	set_slot(fd, d);
	if (!shim_fd_maybe(fd)) {    /* the chunk could not be allocated */
		pthread_mutex_destroy(&d->lock);
		free(d);
		return NULL;
	}
	return d;
}

int shim_fd_install(struct dafs_file *f, const char *dpath, int flags)
{
	struct shim_ph *ph;
	struct dfile *d;
	int fd, rc;

	if (strlen(dpath) >= sizeof(ph->path)) {
		rc = -ENAMETOOLONG;
		goto fail;
	}
	fd = memfd_create("dafs", MFD_ALLOW_SEALING | (flags & O_CLOEXEC ? MFD_CLOEXEC : 0));
	if (fd < 0) {
		rc = -errno;
		goto fail;
	}
	if (REAL(ftruncate)(fd, SHIM_PH_SIZE) < 0 ||
	    (ph = REAL(mmap)(NULL, SHIM_PH_SIZE, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0)) ==
	    MAP_FAILED) {
		rc = -errno;
		REAL(close)(fd);
		goto fail;
	}
	/* The kernel's own offset of the placeholder sits at its end and the
	 * size is sealed: I/O that bypasses the shim (libc's stdio internals,
	 * a static binary) reads EOF and fails to write with EPERM instead of
	 * reaching the header or another file. The shared mapping stays. */
	if (REAL(lseek)(fd, SHIM_PH_SIZE, SEEK_SET) < 0 ||
	    REAL(fcntl)(fd, F_ADD_SEALS, F_SEAL_GROW | F_SEAL_SHRINK | F_SEAL_SEAL) < 0) {
		rc = -errno;
		munmap(ph, SHIM_PH_SIZE);
		REAL(close)(fd);
		goto fail;
	}
	ph->magic = SHIM_PH_MAGIC;
	ph->flags = flags & ~(O_CREAT | O_EXCL | O_TRUNC | O_CLOEXEC);
	atomic_store(&ph->offset, 0);
	memcpy(ph->path, dpath, strlen(dpath) + 1);
	d = dfile_new(fd, ph, dpath, flags & ~(O_CREAT | O_EXCL | O_TRUNC | O_CLOEXEC));
	if (!d) {
		munmap(ph, SHIM_PH_SIZE);
		REAL(close)(fd);
		rc = -ENOMEM;
		goto fail;
	}
	d->f = f;
	d->fflags = d->flags;
	d->gen = atomic_load(&shim_generation);
	return fd;
fail:
	shim_core.dafs_close(f);
	return rc;
}

int shim_dfile_handle(struct dfile *d, struct dafs_file **out)
{
	unsigned gen = atomic_load(&shim_generation);
	struct dafs_session *s;
	int rc = 0;

	if (__builtin_expect(d->f && d->gen == gen, 1)) {
		*out = d->f;
		return 0;
	}
	pthread_mutex_lock(&d->lock);
	if (!d->f || d->gen != gen) {
		/* Reopen by path in this process: after fork or exec. The old
		 * handle is the parent's and is left alone. */
		d->f = NULL;
		/* An O_TMPFILE file's path is its directory: opened again it
		 * would be a new, empty file. */
		if ((d->flags & O_TMPFILE) == O_TMPFILE) {
			rc = -ESTALE;
			if (shim_debug)
				shim_log("an unnamed (O_TMPFILE) file in %s%s cannot be reopened "
					 "in a new process: %s", shim_prefix, d->path, strerror(-rc));
			goto out;
		}
		if (!(s = shim_session(&rc)))
			goto out;
		rc = shim_core.dafs_open(s, d->path, d->flags & ~(O_CREAT | O_EXCL | O_TRUNC), 0, &d->f);
		if (rc < 0) {
			d->f = NULL;
			if (shim_debug)
				shim_log("reopening %s%s failed: %s", shim_prefix, d->path,
					 strerror(-rc));
			goto out;
		}
		d->gen = gen;
		d->fflags = d->flags;
	}
	*out = d->f;
out:
	pthread_mutex_unlock(&d->lock);
	return rc;
}

void shim_fd_inheritable(char *buf, size_t size)
{
	size_t len = 0;
	int c, i;

	buf[0] = '\0';
	for (c = 0; c < NCHUNKS; c++) {
		slot_t *chunk = atomic_load(&table[c]);
		if (!chunk)
			continue;
		for (i = 0; i < CHUNK; i++) {
			int fd = c * CHUNK + i, fl;
			if (!atomic_load(&chunk[i]))
				continue;
			fl = REAL(fcntl)(fd, F_GETFD);
			if (fl < 0 || (fl & FD_CLOEXEC))
				continue;
			int n = snprintf(buf + len, size - len, "%s%d", len ? "," : "", fd);
			if (n < 0 || (size_t)n >= size - len)
				return;
			len += (size_t)n;
		}
	}
}

/* After exec: the previous program named its DAFS descriptors. Each is
 * checked (a regular file carrying our magic) before it is believed, since
 * the variable may have been inherited further than the descriptors. */
void shim_fd_adopt(const char *list)
{
	const char *p = list;

	while (*p) {
		char *end;
		long fd = strtol(p, &end, 10);
		struct stat st;
		struct shim_ph *ph;

		if (end == p)
			break;
		p = *end == ',' ? end + 1 : end;
		if (fd < 0 || fd > INT_MAX || REAL(fstat)((int)fd, &st) < 0 ||
		    !S_ISREG(st.st_mode) || st.st_size != SHIM_PH_SIZE)
			continue;
		ph = REAL(mmap)(NULL, SHIM_PH_SIZE, PROT_READ | PROT_WRITE, MAP_SHARED, (int)fd, 0);
		if (ph == MAP_FAILED)
			continue;
		if (ph->magic != SHIM_PH_MAGIC || !memchr(ph->path, '\0', sizeof(ph->path)) ||
		    !dfile_new((int)fd, ph, ph->path, ph->flags))
			munmap(ph, SHIM_PH_SIZE);
		/* d->f stays NULL: the file is reopened on first use. */
	}
}
