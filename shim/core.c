/* core.c — start-up of the shim and the lazily opened DAFS session.
 *
 * A program that never touches the mount prefix pays for nothing here: the
 * constructor reads three environment variables. The first access to a DAFS
 * path dlopen()s libdafs-core.so.0 from the shim's own directory (and with
 * it libfabric: see "what libfabric's start-up costs" below), resolves the
 * dafs_* calls into `shim_core`, and opens one session on $DAFS_SERVER for
 * the process. A forked child gets a session of its own on its first DAFS
 * access.
 *
 * Diagnostics (DAFS_DEBUG=1) name the call site of an unsupported call. The
 * shim does not link libunwind, which would load it into every program: it
 * dlopen()s libunwind.so.8 the first time a call site is wanted, and falls
 * back to the wrapper's return address and dladdr() when it is absent.
 */
#include <dlfcn.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "shim.h"

/* Types and symbol names only: nothing of libunwind is linked. */
#define UNW_LOCAL_ONLY
#include <libunwind.h>

struct shim_core shim_core;
_Atomic unsigned shim_generation = 1;
int shim_debug;
int shim_ready;

static pthread_mutex_t session_lock = PTHREAD_MUTEX_INITIALIZER;
static struct dafs_session *_Atomic session;
static int session_err;          /* why the last start failed (negative errno) */
static pid_t session_pid;        /* the process that opened it */
static int core_loaded;
static int hooks_registered;

void shim_log(const char *fmt, ...)
{
	char line[512];
	va_list ap;
	int n = snprintf(line, sizeof(line), "dafs-shim[%d]: ", (int)getpid());

	va_start(ap, fmt);
	n += vsnprintf(line + n, sizeof(line) - (size_t)n - 1, fmt, ap);
	va_end(ap);
	if (n > (int)sizeof(line) - 2)
		n = (int)sizeof(line) - 2;
	line[n++] = '\n';
	/* A diagnostic that cannot be written has nowhere else to go. */
	(void)!REAL(write)(2, line, (size_t)n);
}

/* ---- call sites of unsupported calls --------------------------------------- */

#define NAME_OF(sym) NAME_OF_(sym)
#define NAME_OF_(sym) #sym

static struct {
	int (*getcontext)(unw_context_t *);
	int (*init_local)(unw_cursor_t *, unw_context_t *);
	int (*step)(unw_cursor_t *);
	int (*get_reg)(unw_cursor_t *, unw_regnum_t, unw_word_t *);
	int (*get_proc_name)(unw_cursor_t *, char *, size_t, unw_word_t *);
} unw;
static bool unw_loaded;
static pthread_once_t unw_once = PTHREAD_ONCE_INIT;

static void load_unwind(void)
{
	void *h = dlopen("libunwind.so.8", RTLD_NOW | RTLD_LOCAL);

	if (!h) {
		shim_log("libunwind.so.8 not loaded (%s): call sites by return address", dlerror());
		return;
	}
	*(void **)&unw.getcontext = dlsym(h, NAME_OF(unw_tdep_getcontext));
	*(void **)&unw.init_local = dlsym(h, NAME_OF(unw_init_local));
	*(void **)&unw.step = dlsym(h, NAME_OF(unw_step));
	*(void **)&unw.get_reg = dlsym(h, NAME_OF(unw_get_reg));
	*(void **)&unw.get_proc_name = dlsym(h, NAME_OF(unw_get_proc_name));
	unw_loaded = unw.getcontext && unw.init_local && unw.step && unw.get_reg &&
		     unw.get_proc_name;
}

/* Code of the shim, or of a library preloaded before it (the sanitizer
 * runtimes intercept ioctl and friends and then call the shim): not the
 * program's call site. */
static bool interposer(const void *ip)
{
	static Dl_info self;
	const char *pre = getenv("LD_PRELOAD"), *p;
	Dl_info info;
	size_t n;

	if (!self.dli_fbase && !dladdr((void *)&shim_session, &self))
		return false;
	if (!dladdr(ip, &info) || !info.dli_fname)
		return false;
	if (info.dli_fbase == self.dli_fbase)
		return true;
	n = strlen(info.dli_fname);
	for (p = pre; p && n && (p = strstr(p, info.dli_fname)); p += n)
		if ((p == pre || p[-1] == ' ' || p[-1] == ':') &&
		    (p[n] == '\0' || p[n] == ' ' || p[n] == ':'))
			return true;
	return false;
}

/* Where the program called: the first frame outside the interposers, by
 * libunwind (its procedure name from the symbol table); *ip is its address. */
static void unwound_site(void **ip, char *name, size_t size, unw_word_t *off)
{
	unw_context_t ctx;
	unw_cursor_t cur;
	unw_word_t pc;

	name[0] = '\0';
	if (unw.getcontext(&ctx) != 0 || unw.init_local(&cur, &ctx) != 0)
		return;
	for (int depth = 0; depth < 32 && unw.step(&cur) > 0; depth++) {
		if (unw.get_reg(&cur, UNW_REG_IP, &pc) != 0)
			return;
		if (interposer((void *)pc))
			continue;
		*ip = (void *)pc;
		if (unw.get_proc_name(&cur, name, size, off) != 0)
			name[0] = '\0';
		return;
	}
}

/* One line per distinct (call, site); past the table's size every call is
 * logged (debug output too long beats a site never shown). */
static bool first_time(const char *call, const void *site)
{
	static struct { const char *call; const void *site; } seen[256];
	static unsigned nseen;
	static pthread_mutex_t seen_lock = PTHREAD_MUTEX_INITIALIZER;
	bool fresh = true;

	pthread_mutex_lock(&seen_lock);
	for (unsigned i = 0; i < nseen && fresh; i++)
		if (seen[i].site == site && strcmp(seen[i].call, call) == 0)
			fresh = false;
	if (fresh && nseen < sizeof(seen) / sizeof(seen[0]))
		seen[nseen++] = (typeof(seen[0])){ call, site };
	pthread_mutex_unlock(&seen_lock);
	return fresh;
}

static void log_unsupported(const char *call, int fd, int err, void *ret)
{
	char name[128] = "", where[64];
	unw_word_t off = 0;
	void *site = ret;
	Dl_info info;

	pthread_once(&unw_once, load_unwind);
	if (unw_loaded)
		unwound_site(&site, name, sizeof(name), &off);
	if (!first_time(call, site))
		return;
	if (fd >= 0)
		snprintf(where, sizeof(where), "on DAFS descriptor %d", fd);
	else
		snprintf(where, sizeof(where), "on a DAFS path");
	if (!dladdr(site, &info) || !info.dli_fname)
		info = (Dl_info){ "?", NULL, NULL, NULL };
	if (!name[0] && info.dli_sname) {
		snprintf(name, sizeof(name), "%s", info.dli_sname);
		off = (unw_word_t)((char *)site - (char *)info.dli_saddr);
	}
	if (name[0])
		shim_log("%s %s is not supported (%s), called from %s+0x%lx in %s", call, where,
			 strerror(err), name, (unsigned long)off, info.dli_fname);
	else
		shim_log("%s %s is not supported (%s), called from %p (%s+0x%lx)", call, where,
			 strerror(err), site, info.dli_fname,
			 (unsigned long)((char *)site - (char *)info.dli_fbase));
}

int shim_unsupported_at(const char *call, int fd, int err, void *ret)
{
	if (shim_debug)
		log_unsupported(call, fd, err, ret);
	errno = err;
	return -1;
}

void shim_init(void)
{
	const char *m, *dbg, *fds;
	size_t len;

	if (shim_ready)
		return;
	shim_resolve_real();
	m = getenv("DAFS_MOUNT");
	if (!m || !*m)
		m = "/dafs";
	len = strlen(m);
	while (len > 1 && m[len - 1] == '/')
		len--;
	/* The prefix must be an absolute path below "/": "/" itself would
	 * send every file of the system to the server. */
	if (m[0] == '/' && len > 1 && len < sizeof(shim_prefix)) {
		memcpy(shim_prefix, m, len);
		shim_prefix[len] = '\0';
		shim_prefix_len = len;
	}
	dbg = getenv("DAFS_DEBUG");
	shim_debug = dbg && *dbg && strcmp(dbg, "0") != 0;
	shim_ready = 1;
	m = getenv("DAFS_SHIM_CWD");
	if (m && *m)
		shim_cwd_adopt(m);
	fds = getenv("DAFS_SHIM_FDS");
	if (fds && *fds)
		shim_fd_adopt(fds);
}

/* ---- what libfabric's start-up costs ------------------------------------------
 *
 * Measured on Debian 12's libfabric 1.17 (scripts/bench-startup; the README's
 * "Start-up cost" says what it means for a program):
 *  - dlopen: ~200 ms. libfabric.so.1 links the psm and psm2 providers in, so
 *    loading it loads libinfinipath.so.4 and libpsm2.so.2, and each has a
 *    constructor, init_picos_per_cycle (infinipath-psm ipath/ipath_time.c,
 *    opa-psm2 opa/opa_time.c), that pins the thread to CPU 0 and sleeps in
 *    125 us steps until gettimeofday has moved 100 ms, to calibrate the TSC.
 *    Unconditionally: no variable, device or sysfs file skips it. Nothing
 *    short of a libfabric built without them (or with them as DSO providers)
 *    avoids it; the shim pays it and does not fake the clock.
 *  - the first fi_getinfo: ~140 ms, nearly all of it the verbs provider's
 *    initialization (fi_ini runs every built-in provider's, whatever
 *    FI_PROVIDER or the hints say), which reads all of /proc/kallsyms twice
 *    (vrb_set_peer_mem_support, vrb_set_dmabuf_support: does the kernel have
 *    ib_register_peer_memory_client, ib_umem_dmabuf_get). The answers only
 *    matter for registering device (GPU) memory with verbs. A session over
 *    shm or tcp uses neither, so while it opens the session's thread gets
 *    EACCES for that file, as on a kernel that hides it (libfabric then
 *    reports neither feature). Over verbs, or any other scheme, nothing is
 *    skipped. Neither when the program has its own libfabric loaded (it may
 *    use verbs itself), nor with DAFS_FULL_FABRIC_INIT=1 (a program that
 *    loads libfabric later and wants GPU memory over verbs).
 * Everything else in loading and the first fi_getinfo takes a few ms. */

/* Set on the thread that opens the session, while it does, when the
 * probe above may be skipped. */
static __thread bool skip_verbs_probe;

static bool probe_skippable(const char *url)
{
	const char *full = getenv("DAFS_FULL_FABRIC_INIT");
	void *own;

	if (strncmp(url, "shm://", 6) != 0 && strncmp(url, "tcp://", 6) != 0)
		return false;
	if (full && *full && strcmp(full, "0") != 0)
		return false;
	own = dlopen("libfabric.so.1", RTLD_LAZY | RTLD_NOLOAD);
	if (own) {
		/* Only a reference count taken by RTLD_NOLOAD is dropped. */
		(void)!dlclose(own);
		return false;
	}
	return true;
}

bool shim_startup_refuses(const char *path)
{
	static _Atomic bool logged;

	if (!skip_verbs_probe || strcmp(path, "/proc/kallsyms") != 0)
		return false;
	if (shim_debug && !atomic_exchange(&logged, true))
		shim_log("session over %s: libfabric's verbs probe of /proc/kallsyms refused "
			 "(device-memory support not probed; DAFS_FULL_FABRIC_INIT=1 allows it)",
			 getenv("DAFS_SERVER"));
	return true;
}

/* The library next to the shim: build/libdafsshim.so uses
 * build/libdafs-core.so.0, build-asan/ its own. Installed, the shim lives in
 * LIBDIR/dafs/ and the library in LIBDIR: then the dynamic linker finds it
 * by its soname. */
static int load_core(void)
{
	Dl_info info;
	char path[PATH_MAX];
	const char *slash;
	void *h;

	if (!dladdr((void *)&shim_session, &info) || !info.dli_fname)
		return -ELIBACC;
	slash = strrchr(info.dli_fname, '/');
	if (slash)
		snprintf(path, sizeof(path), "%.*s/libdafs-core.so.0",
			 (int)(slash - info.dli_fname), info.dli_fname);
	else
		snprintf(path, sizeof(path), "libdafs-core.so.0");
	h = dlopen(path, RTLD_NOW | RTLD_LOCAL);
	if (!h && slash) {
		snprintf(path, sizeof(path), "libdafs-core.so.0");
		h = dlopen(path, RTLD_NOW | RTLD_LOCAL);
	}
	if (!h) {
		shim_log("cannot load %s: %s", path, dlerror());
		return -ELIBACC;
	}
#define SHIM_CORE_RESOLVE(name)                                              \
	if (!(*(void **)&shim_core.name = dlsym(h, #name))) {                \
		shim_log("%s has no %s", path, #name);                       \
		return -ELIBBAD;                                             \
	}
	FOREACH_CORE_CALL(SHIM_CORE_RESOLVE)
#undef SHIM_CORE_RESOLVE
	return 0;
}

/* Loading libfabric runs the constructors of the libraries it links, and
 * libinfinipath's (PSM) sets its own handlers for SIGINT, SIGILL, SIGABRT,
 * SIGBUS, SIGSEGV and SIGTERM, replacing the program's: SIGTERM then ends
 * the program with exit status 1 instead of the signal, and a handler the
 * program had set is gone. The program's dispositions are kept across the
 * start of the session and put back afterwards. */
static void keep_signal_dispositions(struct sigaction *saved)
{
	for (int sig = 1; sig < NSIG; sig++)
		if (sigaction(sig, NULL, &saved[sig]) != 0)
			saved[sig].sa_handler = SIG_ERR;   /* not a signal one can catch */
}

static void restore_signal_dispositions(const struct sigaction *saved)
{
	for (int sig = 1; sig < NSIG; sig++) {
		struct sigaction now;

		if (saved[sig].sa_handler == SIG_ERR || sigaction(sig, NULL, &now) != 0)
			continue;
		if (now.sa_handler != saved[sig].sa_handler || now.sa_flags != saved[sig].sa_flags)
			sigaction(sig, &saved[sig], NULL);
	}
}

/* Writes that returned before the server answered them are answered
 * before a child exists, so that what it reads (or a program it runs) sees
 * them, as it would with a kernel file. */
static void before_fork(void)
{
	struct dafs_session *s = atomic_load(&session);

	/* A vfork child that forks (wrap_exec.c's helper) shares its parent's
	 * session without being its process: the parent syncs its own. */
	if (s && getpid() == session_pid)
		shim_core.dafs_session_sync(s);
}

/* The child must not touch the parent's fabric objects: it forgets the
 * session (leaking its memory; closing it would talk on the parent's
 * endpoint) and every handle of the old generation is reopened by path. */
static void after_fork_child(void)
{
	pthread_mutex_init(&session_lock, NULL);
	atomic_store(&session, NULL);
	session_err = 0;
	atomic_fetch_add(&shim_generation, 1);
}

void shim_session_end(int final)
{
	struct dafs_session *s;

	pthread_mutex_lock(&session_lock);
	s = atomic_exchange(&session, NULL);
	if (final)
		session_err = -ESHUTDOWN;
	/* Handles of the closed session must be neither used nor closed later
	 * (by an exit handler such as close_stdout, or after a failed exec):
	 * make them all stale; they reopen by path if used again. */
	if (s)
		atomic_fetch_add(&shim_generation, 1);
	pthread_mutex_unlock(&session_lock);
	if (s)
		shim_core.dafs_session_close(s);
}

/* Streams built on DAFS descriptors are flushed before the session goes,
 * since libc flushes the rest only after the exit handlers ran. */
static void at_exit(void)
{
	fflush(NULL);
	shim_session_end(1);
}

struct dafs_session *shim_session(int *err)
{
	struct dafs_session *s = atomic_load(&session);
	struct dafs_session_opts opts = {0};
	struct sigaction saved_dispositions[NSIG];
	const char *url;
	int rc;

	if (s)
		return s;
	pthread_mutex_lock(&session_lock);
	s = atomic_load(&session);
	if (s || session_err) {
		rc = session_err;
		goto out;
	}
	url = getenv("DAFS_SERVER");
	if (!url || !*url) {
		shim_log("DAFS_SERVER is not set: files under %s are unreachable", shim_prefix);
		rc = session_err = -ENXIO;
		goto out;
	}
	shim_in_core = 1;
	skip_verbs_probe = !core_loaded && probe_skippable(url);
	keep_signal_dispositions(saved_dispositions);
	rc = core_loaded ? 0 : load_core();
	if (rc == 0) {
		core_loaded = 1;
		/* Its error is a malformed DAFS_* variable, which keeps its
		 * default: the session opens all the same. */
		shim_core.dafs_session_opts_from_env(&opts);
		/* Each call carries its thread's identity at the time. */
		opts.caller_creds = 1;
		rc = shim_core.dafs_session_open(url, &opts, &s);
		/* A refused or busy attempt is made again, three times at most.
		 * (Over shm a client's endpoint name is unique per session,
		 * common/fabric.c's "dafs-PID-TIME-N", so an exec'ed program,
		 * same pid, does not meet its predecessor's name.) */
		for (int i = 0; i < 3 && (rc == -ECONNREFUSED || rc == -EBUSY); i++) {
			if (shim_debug)
				shim_log("session on %s: %s; trying again", url, strerror(-rc));
			rc = shim_core.dafs_session_open(url, &opts, &s);
		}
		if (rc < 0)
			shim_log("cannot open a session on %s: %s", url, strerror(-rc));
	}
	restore_signal_dispositions(saved_dispositions);
	skip_verbs_probe = false;
	shim_in_core = 0;
	if (rc < 0) {
		session_err = rc;
		s = NULL;
		goto out;
	}
	if (!hooks_registered) {
		hooks_registered = 1;
		/* Neither can fail but for lack of memory, and then the cost is
		 * only a missing flush or a child using a fresh generation late. */
		(void)!pthread_atfork(before_fork, NULL, after_fork_child);
		(void)!atexit(at_exit);
	}
	session_pid = getpid();
	atomic_store(&session, s);
out:
	pthread_mutex_unlock(&session_lock);
	if (!s)
		*err = rc;
	return s;
}
