/* wrap_exec.c — DAFS descriptors across exec.
 *
 * A placeholder without FD_CLOEXEC survives exec as any descriptor does,
 * but the new program's shim starts with an empty table. Before exec the
 * shim names the inheritable DAFS descriptors in DAFS_SHIM_FDS; the new
 * program's shim checks each (the placeholder carries a magic, the path
 * and the flags) and reopens the file by path on first use, sharing the
 * offset kept in the placeholder (`cat < /dafs/f` from a shell).
 */
#include <spawn.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "shim.h"

/* The variables the shim hands to the next program. */
#define FDS_VAR "DAFS_SHIM_FDS"
#define CWD_VAR "DAFS_SHIM_CWD"
#define PRELOAD_VAR "LD_PRELOAD"
#define MAX_KEPT 32

/* LD_PRELOAD and the DAFS_* settings this program started with, copied at
 * start (a program may clear or overwrite its environment): a new program
 * whose environment lacks them gets them back, so that it still runs under
 * the shim and reaches the same server (`env -i prog`). */
static char *kept[MAX_KEPT];
static size_t nkept;

static int is_var(const char *e, const char *var)
{
	size_t n = strlen(var);

	return strncmp(e, var, n) == 0 && e[n] == '=';
}

static size_t name_len(const char *e)
{
	const char *eq = strchr(e, '=');

	return eq ? (size_t)(eq - e) : strlen(e);
}

__attribute__((constructor(102))) static void keep_environment(void)
{
	for (char **e = environ; e && *e && nkept < MAX_KEPT; e++) {
		if (!is_var(*e, PRELOAD_VAR) && (strncmp(*e, "DAFS_", 5) != 0 ||
						 is_var(*e, FDS_VAR) || is_var(*e, CWD_VAR) ||
						 !strchr(*e, '=')))
			continue;
		if ((kept[nkept] = strdup(*e)))
			nkept++;
	}
}

/* Streams on DAFS files are flushed (exec drops their buffers), shared
 * mappings written back, and the session is closed, so that the server
 * does not keep it until its lease runs out. The new program (same pid)
 * opens its own; on shm that meets a transport limit, see shim_session().
 * A failed exec reopens lazily. */
static void before_exec(void)
{
	fflush(NULL);
	shim_mmap_flush_all();
	shim_session_end(0);
}

/* The environment a new program gets: envp with DAFS_SHIM_FDS naming the
 * inheritable DAFS descriptors and DAFS_SHIM_CWD the DAFS working directory
 * (each removed when there is none), and the kept variables it lacks. */
struct exec_env {
	char **env;             /* what to pass: envp itself or a malloc'ed copy */
	char *const *orig;
	char *preload;          /* a merged LD_PRELOAD, malloc'ed */
	char fds[256];
	char cwd[SHIM_PATH_MAX + sizeof(CWD_VAR)];
};

static const char *find_var(char *const envp[], const char *name, size_t len)
{
	for (size_t i = 0; envp && envp[i]; i++)
		if (strncmp(envp[i], name, len) == 0 && envp[i][len] == '=')
			return envp[i];
	return NULL;
}

/* extra_fds: descriptors to name as well ("0,1,2" for posix_spawn with file
 * actions, whose dup2s the shim cannot see; the new program's shim checks
 * each for a placeholder before it believes it). */
static void env_build(struct exec_env *x, char *const envp[], const char *extra_fds)
{
	size_t n, k = 0, vlen = strlen(FDS_VAR);
	const char *theirs;
	char dcwd[SHIM_PATH_MAX];
	char **out;

	x->orig = envp;
	x->env = (char **)envp;
	x->preload = NULL;
	snprintf(x->fds, sizeof(x->fds), FDS_VAR "=");
	shim_fd_inheritable(x->fds + vlen + 1, sizeof(x->fds) - vlen - 1);
	if (extra_fds) {
		size_t l = strlen(x->fds);
		snprintf(x->fds + l, sizeof(x->fds) - l, "%s%s", x->fds[vlen + 1] ? "," : "",
			 extra_fds);
	}
	x->cwd[0] = '\0';
	if (shim_cwd_get(dcwd))
		snprintf(x->cwd, sizeof(x->cwd), CWD_VAR "=%s", dcwd);
	for (n = 0; envp && envp[n]; n++)
		;
	if (!(out = malloc((n + 3 + nkept) * sizeof(*out))))
		return;         /* exec anyway: the files are then unreadable */
	for (size_t i = 0; i < n; i++)
		if (!is_var(envp[i], FDS_VAR) && !is_var(envp[i], CWD_VAR))
			out[k++] = envp[i];
	if (x->fds[vlen + 1])
		out[k++] = x->fds;
	if (x->cwd[0])
		out[k++] = x->cwd;
	for (size_t i = 0; i < nkept; i++) {
		size_t len = name_len(kept[i]);

		if (!(theirs = find_var(envp, kept[i], len))) {
			out[k++] = kept[i];
		} else if (is_var(kept[i], PRELOAD_VAR) && !strstr(theirs, "libdafsshim") &&
			   !x->preload) {
			/* Ours first: it may hold the sanitizer runtimes, which
			 * must come before everything else. */
			size_t sz = strlen(kept[i]) + strlen(theirs) + 2;

			if ((x->preload = malloc(sz))) {
				snprintf(x->preload, sz, "%s %s", kept[i], theirs + len + 1);
				for (size_t j = 0; j < k; j++)
					if (out[j] == theirs)
						out[j] = x->preload;
			}
		}
	}
	out[k] = NULL;
	x->env = out;
}

static void env_free(struct exec_env *x)
{
	int e = errno;

	if (x->env != (char **)x->orig)
		free(x->env);
	free(x->preload);
	errno = e;
}

/* A program named by a DAFS path (absolute, or relative to a DAFS working
 * directory) is not run: the kernel would look for it in the local working
 * directory instead. 0 when path is not DAFS, else the errno to fail with:
 * EACCES, as from a noexec mount, with a DAFS_DEBUG line. file: a name
 * without '/' is searched in PATH, not in the working directory. */
static int program_on_dafs(const char *call, const char *path, int search)
{
	char dp[SHIM_PATH_MAX];
	int r;

	if (!path || (search && !strchr(path, '/')))
		return 0;
	r = shim_route(AT_FDCWD, path, dp);
	if (r == 0)
		return 0;
	if (r < 0)
		return -r;
	shim_unsupported(call, -1, EACCES);
	return EACCES;
}

int execve(const char *path, char *const argv[], char *const envp[])
{
	struct exec_env x;
	int rc;

	if ((rc = program_on_dafs("execve (program on DAFS)", path, 0)))
		return shim_err(-rc);
	env_build(&x, envp, NULL);
	before_exec();
	rc = REAL(execve)(path, argv, x.env);
	env_free(&x);
	return rc;
}

int execvpe(const char *file, char *const argv[], char *const envp[])
{
	struct exec_env x;
	int rc;

	if ((rc = program_on_dafs("execvp (program on DAFS)", file, 1)))
		return shim_err(-rc);
	env_build(&x, envp, NULL);
	before_exec();
	rc = REAL(execvpe)(file, argv, x.env);
	env_free(&x);
	return rc;
}

int execv(const char *path, char *const argv[])
{
	return execve(path, argv, environ);
}

int execvp(const char *file, char *const argv[])
{
	return execvpe(file, argv, environ);
}

/* A program exec'ed from a DAFS descriptor would be the placeholder. */
int fexecve(int fd, char *const argv[], char *const envp[])
{
	struct exec_env x;
	int rc;

	if (shim_fd_maybe(fd))
		return shim_unsupported("fexecve", fd, ENOEXEC);
	env_build(&x, envp, NULL);
	before_exec();
	rc = REAL(fexecve)(fd, argv, x.env);
	env_free(&x);
	return rc;
}

/* execl and friends: glibc's call its internal execve, which the shim
 * cannot see; build the vector and take the wrapped path. */
#define ARGV_FROM_VA(arg, argv, envp_out)                                      \
	size_t argc_ = 1;                                                      \
	va_list ap_;                                                           \
	va_start(ap_, arg);                                                    \
	while (va_arg(ap_, const char *))                                      \
		argc_++;                                                       \
	va_end(ap_);                                                           \
	const char *argv[argc_ + 1];                                           \
	argv[0] = arg;                                                         \
	va_start(ap_, arg);                                                    \
	for (size_t i_ = 1; i_ <= argc_; i_++)                                 \
		argv[i_] = va_arg(ap_, const char *);                          \
	envp_out = va_arg(ap_, char *const *);                                 \
	va_end(ap_)

int execl(const char *path, const char *arg, ...)
{
	char *const *unused;

	ARGV_FROM_VA(arg, argv, unused);
	(void)unused;
	return execve(path, (char *const *)argv, environ);
}

int execlp(const char *file, const char *arg, ...)
{
	char *const *unused;

	ARGV_FROM_VA(arg, argv, unused);
	(void)unused;
	return execvpe(file, (char *const *)argv, environ);
}

int execle(const char *path, const char *arg, ...)
{
	char *const *envp;

	ARGV_FROM_VA(arg, argv, envp);
	return execve(path, (char *const *)argv, envp);
}

/* posix_spawn: the parent goes on, so its session stays; the child gets the
 * environment and the descriptor names an exec'ed program would. */
static int spawn(int (*real)(pid_t *, const char *, const posix_spawn_file_actions_t *,
			     const posix_spawnattr_t *, char *const[], char *const[]),
		 pid_t *pid, const char *path, const posix_spawn_file_actions_t *fa,
		 const posix_spawnattr_t *attr, char *const argv[], char *const envp[])
{
	struct exec_env x;
	int rc;

	if ((rc = program_on_dafs("posix_spawn (program on DAFS)", path,
				  real == REAL(posix_spawnp))))
		return rc;   /* posix_spawn returns the error number */
	env_build(&x, envp, fa ? "0,1,2" : NULL);
	fflush(NULL);
	shim_mmap_flush_all();
	rc = real(pid, path, fa, attr, argv, x.env);
	env_free(&x);
	return rc;
}

int posix_spawn(pid_t *pid, const char *path, const posix_spawn_file_actions_t *fa,
		const posix_spawnattr_t *attr, char *const argv[], char *const envp[])
{
	return spawn(REAL(posix_spawn), pid, path, fa, attr, argv, envp);
}

int posix_spawnp(pid_t *pid, const char *file, const posix_spawn_file_actions_t *fa,
		 const posix_spawnattr_t *attr, char *const argv[], char *const envp[])
{
	return spawn(REAL(posix_spawnp), pid, file, fa, attr, argv, envp);
}

/* system and popen run /bin/sh through glibc's internal posix_spawn with
 * the global environ: it is pointed at the child's environment for the
 * call (not safe against another thread changing the environment then). */
int system(const char *cmd)
{
	struct exec_env x;
	char **saved = environ;
	int rc;

	if (!cmd)
		return REAL(system)(cmd);
	env_build(&x, environ, NULL);
	fflush(NULL);
	shim_mmap_flush_all();
	environ = x.env;
	rc = REAL(system)(cmd);
	environ = saved;
	env_free(&x);
	return rc;
}

FILE *popen(const char *cmd, const char *mode)
{
	struct exec_env x;
	char **saved = environ;
	FILE *f;

	env_build(&x, environ, NULL);
	fflush(NULL);
	shim_mmap_flush_all();
	environ = x.env;
	f = REAL(popen)(cmd, mode);
	environ = saved;
	env_free(&x);
	return f;
}
