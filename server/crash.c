/* crash.c — the fatal-signal handler: report, backtrace, re-raise. Owns the
 * per-thread alternate signal stacks. Everything the handler calls is
 * async-signal-safe: write(2), sigaction, raise, nanosleep, and libunwind's
 * local unwinding (documented as safe in signal handlers); numbers are
 * formatted by hand because printf is not.
 */
#define UNW_LOCAL_ONLY
#include "crash.h"

#include <errno.h>
#include <libunwind.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdint.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>
#include <ucontext.h>
#include <unistd.h>

#define MAX_FRAMES 64
/* Generous: libunwind parses DWARF on this stack, and sanitizer builds use
 * more per frame than SIGSTKSZ foresees. */
#define ALTSTACK_SIZE (256 * 1024)

static const int fatal_signals[] = { SIGSEGV, SIGBUS, SIGFPE, SIGILL, SIGABRT };

static atomic_int reporting;
static __thread char *altstack_map;   /* guard page + stack, for crash_thread_fini */
static __thread size_t altstack_len;

/* --- async-signal-safe output */

struct out {
	char buf[512];
	size_t n;
};

static void out_flush(struct out *o)
{
	size_t done = 0;
	while (done < o->n) {
		ssize_t w = write(STDERR_FILENO, o->buf + done, o->n - done);
		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			break;
		done += (size_t)w;
	}
	o->n = 0;
}

static void out_str(struct out *o, const char *s)
{
	for (; *s; s++) {
		if (o->n == sizeof(o->buf))
			out_flush(o);
		o->buf[o->n++] = *s;
	}
}

static void out_dec(struct out *o, unsigned long v)
{
	char tmp[24];
	int i = (int)sizeof(tmp) - 1;
	tmp[i] = '\0';
	do {
		tmp[--i] = (char)('0' + v % 10);
		v /= 10;
	} while (v && i > 0);
	out_str(o, &tmp[i]);
}

static void out_hex(struct out *o, uintptr_t v)
{
	char tmp[24];
	int i = (int)sizeof(tmp) - 1;
	tmp[i] = '\0';
	do {
		tmp[--i] = "0123456789abcdef"[v & 15];
		v >>= 4;
	} while (v && i > 2);
	tmp[--i] = 'x';
	tmp[--i] = '0';
	out_str(o, &tmp[i]);
}

static const char *signal_name(int sig)
{
	switch (sig) {
	case SIGSEGV: return "SIGSEGV";
	case SIGBUS: return "SIGBUS";
	case SIGFPE: return "SIGFPE";
	case SIGILL: return "SIGILL";
	case SIGABRT: return "SIGABRT";
	default: return "?";
	}
}

/* --- the report */

/* Where the signal hit, from the kernel's saved context; 0 if unknown. */
static uintptr_t signal_pc(const void *uctx)
{
	const ucontext_t *uc = uctx;
	if (!uc)
		return 0;
#if defined(__x86_64__)
	return (uintptr_t)uc->uc_mcontext.gregs[REG_RIP];
#elif defined(__aarch64__)
	return (uintptr_t)uc->uc_mcontext.pc;
#else
	return 0;
#endif
}

static void backtrace_to(struct out *o, const void *uctx)
{
	unw_context_t ctx;
	unw_cursor_t cur;
	if (unw_getcontext(&ctx) != 0 || unw_init_local(&cur, &ctx) != 0) {
		out_str(o, "  (no backtrace: libunwind could not start)\n");
		return;
	}
	/* The first frames are this handler and the kernel's signal
	 * trampoline: skip to the frame where the signal hit, found by its
	 * saved pc (sturdier than unw_is_signal_frame, whose frame of choice
	 * differs between libunwind versions). If it is not among the first
	 * few frames, print them all. A cursor may be copied by assignment. */
	uintptr_t pc = signal_pc(uctx);
	unw_cursor_t probe = cur;
	for (int i = 0; pc && i < 8; i++) {
		unw_word_t ip = 0;
		if (unw_get_reg(&probe, UNW_REG_IP, &ip) < 0)
			break;
		if ((uintptr_t)ip == pc) {
			cur = probe;
			break;
		}
		if (unw_step(&probe) <= 0)
			break;
	}

	for (int depth = 0; depth < MAX_FRAMES; depth++) {
		unw_word_t ip = 0, off = 0;
		if (unw_get_reg(&cur, UNW_REG_IP, &ip) < 0)
			break;
		char name[256];
		out_str(o, "  #");
		out_dec(o, (unsigned long)depth);
		out_str(o, depth < 10 ? "  " : " ");
		out_hex(o, (uintptr_t)ip);
		if (unw_get_proc_name(&cur, name, sizeof(name), &off) == 0) {
			name[sizeof(name) - 1] = '\0';
			out_str(o, " ");
			out_str(o, name);
			out_str(o, "+");
			out_hex(o, (uintptr_t)off);
		} else {
			out_str(o, " ?");
		}
		out_str(o, "\n");
		if (unw_step(&cur) <= 0)
			return;
	}
	out_str(o, "  ...\n");
}

static void on_fatal(int sig, siginfo_t *si, void *uctx)
{
	int saved_errno = errno;

	/* One report at a time: a second thread dying at once gives the first
	 * a moment to finish, then dies too. */
	if (atomic_exchange(&reporting, 1)) {
		struct timespec ts = { .tv_sec = 2, .tv_nsec = 0 };
		nanosleep(&ts, NULL);
	} else {
		struct out o;
		o.n = 0;
		out_str(&o, "dafs-server: fatal signal ");
		out_dec(&o, (unsigned long)sig);
		out_str(&o, " (");
		out_str(&o, signal_name(sig));
		out_str(&o, ")");
		if (si && sig != SIGABRT) {
			out_str(&o, " at address ");
			out_hex(&o, (uintptr_t)si->si_addr);
		}
		out_str(&o, "\n");
		out_flush(&o);
		backtrace_to(&o, uctx);
		out_flush(&o);
	}

	/* SA_RESETHAND already restored the default action; say so again in
	 * case the handler was installed some other way. The signal stays
	 * blocked until we return, so raise() leaves it pending and the
	 * default action runs on return; a fault would also simply recur. */
	struct sigaction dfl;
	memset(&dfl, 0, sizeof(dfl));
	dfl.sa_handler = SIG_DFL;
	sigemptyset(&dfl.sa_mask);
	sigaction(sig, &dfl, NULL);
	raise(sig);
	errno = saved_errno;
}

int crash_thread_init(void)
{
	if (altstack_map)
		return 0;
	size_t page = (size_t)sysconf(_SC_PAGESIZE);
	size_t size = ALTSTACK_SIZE;
	long min = sysconf(_SC_MINSIGSTKSZ);
	if (min > 0 && (size_t)min * 4 > size)
		size = ((size_t)min * 4 + page - 1) & ~(page - 1);
	/* A PROT_NONE guard page below, so a handler overflowing its own
	 * stack faults (and dies) instead of scribbling on the heap. */
	char *m = mmap(NULL, size + page, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS,
		       -1, 0);
	if (m == MAP_FAILED)
		return -errno;
	if (mprotect(m, page, PROT_NONE) != 0) {
		int err = errno;
		munmap(m, size + page);
		return -err;
	}
	stack_t ss;
	memset(&ss, 0, sizeof(ss));
	ss.ss_sp = m + page;
	ss.ss_size = size;
	if (sigaltstack(&ss, NULL) != 0) {
		int err = errno;
		munmap(m, size + page);
		return -err;
	}
	altstack_map = m;
	altstack_len = size + page;
	return 0;
}

void crash_thread_fini(void)
{
	if (!altstack_map)
		return;
	size_t page = (size_t)sysconf(_SC_PAGESIZE);
	stack_t ss, old;
	memset(&ss, 0, sizeof(ss));
	ss.ss_flags = SS_DISABLE;
	if (sigaltstack(&ss, &old) != 0)
		return;  /* running on it right now: keep it */
	if (old.ss_sp != altstack_map + page && !(old.ss_flags & SS_DISABLE))
		sigaltstack(&old, NULL);  /* somebody else's stack: put it back */
	munmap(altstack_map, altstack_len);
	altstack_map = NULL;
	altstack_len = 0;
}

void crash_install_handlers(void)
{
	crash_thread_init();
	struct sigaction sa;
	memset(&sa, 0, sizeof(sa));
	sa.sa_sigaction = on_fatal;
	sa.sa_flags = SA_SIGINFO | SA_ONSTACK | SA_RESETHAND;
	/* Block the other fatal signals while reporting: a fault inside the
	 * handler then kills the process at once instead of recursing. */
	sigemptyset(&sa.sa_mask);
	for (size_t i = 0; i < sizeof(fatal_signals) / sizeof(fatal_signals[0]); i++)
		sigaddset(&sa.sa_mask, fatal_signals[i]);
	for (size_t i = 0; i < sizeof(fatal_signals) / sizeof(fatal_signals[0]); i++)
		sigaction(fatal_signals[i], &sa, NULL);
}
