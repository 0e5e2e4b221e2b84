/* wrap_umask.c — the process's umask, which the shim applies to every file
 * and directory it creates on DAFS.
 *
 * The kernel applies a process's umask to its local creates; a DAFS create
 * is made by the server, which creates with the mode it is sent, and
 * libdafs-core sends the mode it is given (dafs.h). So the shim is the one
 * owner of the umask: each create sends mode & ~shim_umask(). The creates
 * are shim_open_dafs with O_CREAT (wrap_io.c: the open, openat and creat
 * families, fortified forms included, and fopen and freopen through it)
 * and mkdir and mkdirat (wrap_names.c); a symlink has no mode to mask, and
 * mknod and mkfifo are not wrapped.
 *
 * The value must be the current one (a program may change it after its
 * first DAFS access), and umask(2) can only be read by setting it: a
 * set-and-restore around each create would hand another thread's local
 * create the wrong mask in between. Reading /proc/self/status ("Umask:")
 * at each create is race-free but adds about 25 us to every create (open,
 * read and close of a file the kernel formats; measured on the development
 * VM). So the shim tracks it: umask() is wrapped and records each value
 * the program sets; until the program sets one, the value is read once
 * from /proc/self/status, when a create first needs it (a program that never
 * creates on DAFS never pays for it). A umask set by a raw syscall, not
 * libc's umask(), is not seen.
 */
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "shim.h"

#define UMASK_UNKNOWN (-1)

/* The process's umask, or UMASK_UNKNOWN until first needed or set. Written
 * under umask_lock, so that the value left is the one the kernel was left
 * with when threads set it at once; read without it. */
static _Atomic int tracked_umask = UMASK_UNKNOWN;
static pthread_mutex_t umask_lock = PTHREAD_MUTEX_INITIALIZER;

/* A fork while another thread holds the lock would leave the child's copy
 * locked: fork waits for it instead. */
static void umask_lock_acquire(void)
{
	pthread_mutex_lock(&umask_lock);
}

static void umask_lock_release(void)
{
	pthread_mutex_unlock(&umask_lock);
}

__attribute__((constructor)) static void umask_register_fork_handlers(void)
{
	/* Without the handlers only a fork racing a umask() call can hang
	 * its child; nothing better to do if registering fails. */
	(void)!pthread_atfork(umask_lock_acquire, umask_lock_release, umask_lock_release);
}

/* "Umask:\t0022" in /proc/self/status (Linux 4.7 and later); -1 if absent. */
static int umask_from_proc(void)
{
	char buf[4096];
	size_t len = 0;
	ssize_t n;
	int fd = REAL(open)("/proc/self/status", O_RDONLY | O_CLOEXEC);

	if (fd < 0)
		return -1;
	while (len < sizeof(buf) - 1 &&
	       (n = REAL(read)(fd, buf + len, sizeof(buf) - 1 - len)) > 0)
		len += (size_t)n;
	REAL(close)(fd);
	buf[len] = '\0';

	const char *line = strstr(buf, "\nUmask:");
	if (!line)
		return -1;
	char *end;
	long mask = strtol(line + strlen("\nUmask:"), &end, 8);
	return end == line + strlen("\nUmask:") || mask < 0 || mask > 0777 ? -1 : (int)mask;
}

mode_t shim_umask(void)
{
	int mask = atomic_load_explicit(&tracked_umask, memory_order_relaxed);

	if (__builtin_expect(mask != UMASK_UNKNOWN, 1))
		return (mode_t)mask;
	umask_lock_acquire();
	mask = atomic_load_explicit(&tracked_umask, memory_order_relaxed);
	if (mask == UMASK_UNKNOWN) {
		mask = umask_from_proc();
		if (mask < 0) {
			/* No /proc: the one read umask(2) offers, once. */
			mask = (int)REAL(umask)(022);
			REAL(umask)((mode_t)mask);
		}
		atomic_store_explicit(&tracked_umask, mask, memory_order_relaxed);
	}
	umask_lock_release();
	return (mode_t)mask;
}

mode_t umask(mode_t mask)
{
	umask_lock_acquire();
	mode_t old = REAL(umask)(mask);
	atomic_store_explicit(&tracked_umask, (int)(mask & 0777), memory_order_relaxed);
	umask_lock_release();
	return old;
}
