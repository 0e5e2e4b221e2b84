/* real.c — libc's definitions of the wrapped calls, resolved once.
 *
 * Everything here runs before malloc may be used: dlsym(RTLD_NEXT) of a
 * name that exists allocates nothing, so the table is resolved in a
 * constructor (and on demand, should a wrapper run before it) without the
 * dlsym -> malloc -> wrapper -> dlsym recursion that has hung other shims.
 */
#include <dlfcn.h>
#include <string.h>
#include <unistd.h>
#include <sys/syscall.h>

#include "shim.h"

#define SHIM_DEFINE_REAL(ret, name, params) ret(*real_##name) params;
FOREACH_INTERCEPT(SHIM_DEFINE_REAL)
#undef SHIM_DEFINE_REAL

/* A libc without one of these cannot run the shim at all: say so and stop
 * rather than crash on a NULL call later. Raw syscall: write may be the
 * missing one. */
static void missing(const char *name)
{
	static const char pre[] = "dafs-shim: libc has no ";
	syscall(SYS_write, 2, pre, sizeof(pre) - 1);
	syscall(SYS_write, 2, name, strlen(name));
	syscall(SYS_write, 2, "\n", 1);
	_exit(127);
}

void shim_resolve_real(void)
{
#define SHIM_RESOLVE(ret, name, params)                                   \
	if (!real_##name) {                                               \
		void *p_ = dlsym(RTLD_NEXT, #name);                       \
		if (!p_)                                                  \
			missing(#name);                                   \
		*(void **)&real_##name = p_;                              \
	}
	FOREACH_INTERCEPT(SHIM_RESOLVE)
#undef SHIM_RESOLVE
}

__attribute__((constructor(101))) static void shim_constructor(void)
{
	shim_resolve_real();
	shim_init();
}
