/* wrap_dlopen.c — dlopen and dlmopen of a library stored on DAFS.
 *
 * The dynamic loader maps real files: a DAFS library's bytes go into a
 * sealed memfd (shim_dafs_memfd) and the real dlopen gets its name,
 * "/proc/self/fd/N", with the caller's flags. The memfd stays open for the
 * life of the process, one per DAFS path, so that dlopen of the same path
 * again finds the library already loaded under the same name (RTLD_NOLOAD
 * included) instead of loading a second copy. A name without '/' is a
 * search of the library path, not a path: it goes to the real dlopen as it
 * is, as does every local path and the shim's own loads (libdafs-core,
 * libfabric's providers, libunwind).
 *
 * The wrappers are assembly because glibc's dlopen uses its caller's
 * return address to pick the caller's namespace and RUNPATH: a C wrapper
 * calling the real one would make every program's dlopen search the shim's
 * RUNPATH. Each saves its arguments, asks shim_dlopen_path which name to
 * load, and jumps to the real function with the program's return address
 * still on the stack. x86_64 only, as the rest of the shim.
 */
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "shim.h"

/* One memfd per DAFS library path loaded. */
struct library {
	struct library *next;
	char proc[32];          /* "/proc/self/fd/N": the name the loader knows */
	char dpath[];
};

static pthread_mutex_t libraries_lock = PTHREAD_MUTEX_INITIALIZER;
static struct library *libraries;

/* What dlopen is given when a DAFS library cannot be loaded: a name that
 * exists nowhere and that dlerror() then shows, with the reason. */
static __thread char failed[PATH_MAX + 64];

static const char *library_name(const char *file, const char *dp, int flags)
{
	struct library *l;
	int fd;

	pthread_mutex_lock(&libraries_lock);
	for (l = libraries; l; l = l->next)
		if (strcmp(l->dpath, dp) == 0)
			break;
	pthread_mutex_unlock(&libraries_lock);
	if (l)
		return l->proc;
	if (flags & RTLD_NOLOAD) {
		snprintf(failed, sizeof(failed), "%s (DAFS: not loaded)", file);
		return failed;
	}
	fd = shim_dafs_memfd(dp);
	if (fd < 0 || !(l = malloc(sizeof(*l) + strlen(dp) + 1))) {
		if (fd >= 0)
			REAL(close)(fd);
		fd = fd < 0 ? -fd : ENOMEM;
		if (shim_debug)
			shim_log("dlopen of %s: %s", file, strerror(fd));
		snprintf(failed, sizeof(failed), "%s (DAFS: %s)", file, strerror(fd));
		return failed;
	}
	snprintf(l->proc, sizeof(l->proc), "/proc/self/fd/%d", fd);
	strcpy(l->dpath, dp);
	pthread_mutex_lock(&libraries_lock);
	l->next = libraries;
	libraries = l;
	pthread_mutex_unlock(&libraries_lock);
	return l->proc;
}

/* Called by the assembly wrappers: the name to hand the real dlopen. Also
 * makes sure the real functions are resolved before the jump. */
__attribute__((used)) const char *shim_dlopen_path(const char *file, int flags);
__attribute__((used)) const char *shim_dlopen_path(const char *file, int flags)
{
	char dp[SHIM_PATH_MAX];
	int r;

	if (!real_dlopen || !real_dlmopen)
		shim_resolve_real();
	if (!file || !strchr(file, '/') || shim_in_core)
		return file;
	r = shim_route(AT_FDCWD, file, dp);
	if (r == 0)
		return file;
	if (r < 0) {
		snprintf(failed, sizeof(failed), "%s (DAFS: %s)", file, strerror(-r));
		return failed;
	}
	return library_name(file, dp, flags);
}

/* dlopen(file, flags): rdi, esi. One push keeps the stack 16-byte aligned
 * for the call. dlmopen(lmid, file, flags): rdi, rsi, edx. */
__asm__(
	"	.text\n"
	"	.globl dlopen\n"
	"	.type dlopen, @function\n"
	"dlopen:\n"
	"	.cfi_startproc\n"
	"	pushq %rsi\n"
	"	.cfi_adjust_cfa_offset 8\n"
	"	call shim_dlopen_path\n"
	"	popq %rsi\n"
	"	.cfi_adjust_cfa_offset -8\n"
	"	movq %rax, %rdi\n"
	"	jmp *real_dlopen(%rip)\n"
	"	.cfi_endproc\n"
	"	.size dlopen, .-dlopen\n"
	"\n"
	"	.globl dlmopen\n"
	"	.type dlmopen, @function\n"
	"dlmopen:\n"
	"	.cfi_startproc\n"
	"	pushq %rdi\n"
	"	.cfi_adjust_cfa_offset 8\n"
	"	pushq %rdx\n"
	"	.cfi_adjust_cfa_offset 8\n"
	"	subq $8, %rsp\n"
	"	.cfi_adjust_cfa_offset 8\n"
	"	movq %rsi, %rdi\n"
	"	movl %edx, %esi\n"
	"	call shim_dlopen_path\n"
	"	addq $8, %rsp\n"
	"	.cfi_adjust_cfa_offset -8\n"
	"	popq %rdx\n"
	"	.cfi_adjust_cfa_offset -8\n"
	"	popq %rdi\n"
	"	.cfi_adjust_cfa_offset -8\n"
	"	movq %rax, %rsi\n"
	"	jmp *real_dlmopen(%rip)\n"
	"	.cfi_endproc\n"
	"	.size dlmopen, .-dlmopen\n");
