/* bench-remove.c — bench-remove.so, the benchmark's stand-in for a
 * remove(3) wrapper the shim does not have yet.
 *
 * glibc's remove() calls its own internal unlink and rmdir, which no
 * LD_PRELOAD library can interpose, so under a shim without a remove
 * wrapper a program's remove("/dafs/x") goes to the kernel and fails with
 * ENOENT. PostMark deletes every file it made that way. scripts/bench
 * preloads this library ahead of the shim (only when the shim exports no
 * `remove` of its own): it is remove() as POSIX defines it, in terms of the
 * public unlink() and rmdir(), which the shim does wrap, so the work is the
 * same and only the route changes.
 */
#include <errno.h>
#include <stdio.h>
#include <unistd.h>

int remove(const char *path)
{
	if (unlink(path) == 0)
		return 0;
	/* unlink on a directory fails with EISDIR on Linux (EPERM elsewhere). */
	if (errno == EISDIR || errno == EPERM)
		return rmdir(path);
	return -1;
}
