/* test_crash.c — crash.c's reports: children that install the handlers and
 * then die (NULL write, stack overflow on the main thread and on a worker
 * thread, abort, a raised SIGFPE); the parent reads each child's stderr
 * through a pipe and checks the report names the signal and the function that
 * died, and that the child still died of that signal. */
#include "check.h"
#include "crash.h"

#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdint.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

/* Not static, so they have plain global symbols for the unwinder to name. */
void crash_test_null_write(void);
void crash_test_overflow(unsigned depth);
void crash_test_abort(void);
void crash_test_fpe(void);

/* The sanitizers would report these themselves (UBSan a null store) or
 * abort first: keep them out of the way so the real signal arrives. */
#define RAW __attribute__((noinline, no_sanitize("undefined"), no_sanitize_address))

volatile int keep_going = 1;
static int *volatile null_ptr;

RAW void crash_test_null_write(void)
{
	*null_ptr = 42;
}

RAW void crash_test_overflow(unsigned depth)
{
	volatile char pad[1024];
	pad[0] = (char)depth;
	pad[sizeof(pad) - 1] = (char)depth;
	if (keep_going)
		crash_test_overflow(depth + 1);
	pad[1] = pad[0];  /* no tail call */
}

RAW void crash_test_abort(void)
{
	abort();
}

RAW void crash_test_fpe(void)
{
	raise(SIGFPE);
	keep_going = 2;  /* no tail call: keep this frame on the stack */
}

static void *overflow_thread(void *arg)
{
	if (crash_thread_init() != 0)
		_exit(3);
	crash_test_overflow(0);
	return NULL;
}

static void die_in_thread(void)
{
	pthread_t th;
	if (pthread_create(&th, NULL, overflow_thread, NULL) != 0)
		_exit(3);
	pthread_join(th, NULL);
}

/* Runs fn in a child with the handlers installed; returns its wait status and
 * its stderr in buf. */
static int run_child(void (*fn)(void), char *buf, size_t size)
{
	int p[2];
	buf[0] = '\0';
	if (pipe(p) != 0)
		return -1;
	fflush(stdout);
	pid_t pid = fork();
	if (pid < 0)
		return -1;
	if (pid == 0) {
		close(p[0]);
		dup2(p[1], STDERR_FILENO);
		close(p[1]);
		alarm(10);  /* a hung handler dies of SIGALRM and fails the test */
		crash_install_handlers();
		fn();
		_exit(0);
	}
	close(p[1]);
	size_t n = 0;
	struct timespec t0, t;
	clock_gettime(CLOCK_MONOTONIC, &t0);
	for (;;) {
		struct pollfd pfd = { .fd = p[0], .events = POLLIN };
		int r = poll(&pfd, 1, 1000);
		clock_gettime(CLOCK_MONOTONIC, &t);
		if (t.tv_sec - t0.tv_sec > 12) {
			kill(pid, SIGKILL);
			break;
		}
		if (r <= 0)
			continue;
		ssize_t got = read(p[0], buf + n, size - 1 - n);
		if (got <= 0)
			break;
		n += (size_t)got;
		if (n == size - 1)
			break;
	}
	buf[n] = '\0';
	close(p[0]);
	int status = 0;
	while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
		;
	return status;
}

static void expect(const char *what, void (*fn)(void), int sig, const char *line,
		   const char *func)
{
	static char out[65536];
	int st = run_child(fn, out, sizeof(out));
	CHECK(WIFSIGNALED(st) && WTERMSIG(st) == sig, "%s: child died of signal %d (status %#x)",
	      what, sig, st);
	CHECK(strstr(out, line) != NULL, "%s: stderr has \"%s\"", what, line);
	if (func)
		CHECK(strstr(out, func) != NULL, "%s: backtrace names %s", what, func);
	CHECK(strstr(out, "  #0  0x") != NULL, "%s: frames with addresses", what);
	if (!strstr(out, line) || (func && !strstr(out, func))) {
		printf("# child stderr:\n");
		for (char *l = strtok(out, "\n"); l; l = strtok(NULL, "\n"))
			printf("#   %s\n", l);
	}
}

static void main_overflow(void)
{
	crash_test_overflow(0);
}

static void *init_fini_thread(void *arg)
{
	int *rc = arg;
	rc[0] = crash_thread_init();
	rc[1] = crash_thread_init();  /* twice is fine */
	crash_thread_fini();
	crash_thread_fini();
	return NULL;
}

int main(void)
{
	expect("NULL write", crash_test_null_write, SIGSEGV, "dafs-server: fatal signal 11 (SIGSEGV)",
	       "crash_test_null_write");
	expect("stack overflow", main_overflow, SIGSEGV, "dafs-server: fatal signal 11 (SIGSEGV)",
	       "crash_test_overflow");
	expect("overflow in a thread", die_in_thread, SIGSEGV,
	       "dafs-server: fatal signal 11 (SIGSEGV)", "crash_test_overflow");
	expect("abort", crash_test_abort, SIGABRT, "dafs-server: fatal signal 6 (SIGABRT)",
	       "crash_test_abort");
	expect("raise SIGFPE", crash_test_fpe, SIGFPE, "dafs-server: fatal signal 8 (SIGFPE)",
	       "crash_test_fpe");

	int rc[2] = { -1, -1 };
	pthread_t th;
	CHECK(pthread_create(&th, NULL, init_fini_thread, rc) == 0 && pthread_join(th, NULL) == 0,
	      "thread with its own alternate stack");
	CHECK(rc[0] == 0 && rc[1] == 0, "crash_thread_init gives 0");
	return check_done();
}
