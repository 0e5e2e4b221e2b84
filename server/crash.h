/* crash.h — last words of a dying server. On SIGSEGV, SIGBUS, SIGFPE, SIGILL
 * and SIGABRT a handler writes "dafs-server: fatal signal N (NAME)" and a
 * libunwind backtrace to stderr, using only async-signal-safe calls, on an
 * alternate signal stack (so a stack overflow is reported too), then lets the
 * signal kill the process as it would have (core dump, exit status).
 */
#ifndef DAFS_CRASH_H
#define DAFS_CRASH_H

/* Installs the handlers (process-wide) and an alternate signal stack for the
 * calling thread. Call once, early, from the main thread. Failures are
 * silent: the server then simply dies without a report. */
void crash_install_handlers(void);

/* Alternate signal stacks are per thread: every other thread that should get
 * reports for its own stack overflows calls crash_thread_init when it starts
 * (0 or -errno) and crash_thread_fini before it exits (frees the stack). */
int crash_thread_init(void);
void crash_thread_fini(void);

#endif
