/* wrap_exec.c — DAFS descriptors across exec.
 *
 * A placeholder without FD_CLOEXEC survives exec as any descriptor does,
 * but the new program's shim starts with an empty table. Before exec the
 * shim names the inheritable DAFS descriptors in DAFS_SHIM_FDS; the new
 * program's shim checks each (the placeholder carries a magic, the path
 * and the flags) and reopens the file by path on first use, sharing the
 * offset kept in the placeholder (`cat < /dafs/f` from a shell).
 */
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "shim.h"

/* The variables the shim hands to the next program. */
#define FDS_VAR "DAFS_SHIM_FDS"
#define CWD_VAR "DAFS_SHIM_CWD"

/* Streams on DAFS files are flushed (exec drops their buffers) and the
 * session is closed, so that the server does not keep it until its lease
 * runs out. The new program (same pid) opens its own; on shm that meets a
 * transport limit, see shim_session(). A failed exec reopens lazily. */
static void before_exec(void)
{
	fflush(NULL);
	shim_session_end(0);
}

static int is_var(const char *e, const char *var)
{
	size_t n = strlen(var);

	return strncmp(e, var, n) == 0 && e[n] == '=';
}

/* envp with DAFS_SHIM_FDS naming the inheritable DAFS descriptors and
 * DAFS_SHIM_CWD the DAFS working directory (each removed when there is
 * none). Returns envp itself when nothing changes, else a malloc'ed copy. */
static char *const *env_for_exec(char *const envp[], char *fds, size_t fsize,
				 char cwd[PATH_MAX + sizeof(CWD_VAR)])
{
	size_t n, k = 0, vlen = strlen(FDS_VAR);
	char dcwd[PATH_MAX];
	int had = 0;
	char **out;

	snprintf(fds, fsize, FDS_VAR "=");
	shim_fd_inheritable(fds + vlen + 1, fsize - vlen - 1);
	cwd[0] = '\0';
	if (shim_cwd_get(dcwd))
		snprintf(cwd, PATH_MAX + sizeof(CWD_VAR), CWD_VAR "=%s", dcwd);
	for (n = 0; envp && envp[n]; n++)
		had |= is_var(envp[n], FDS_VAR) || is_var(envp[n], CWD_VAR);
	if (!had && fds[vlen + 1] == '\0' && !cwd[0])
		return envp;
	if (!(out = malloc((n + 3) * sizeof(*out))))
		return envp;    /* exec anyway: the files are then unreadable */
	for (size_t i = 0; i < n; i++)
		if (!is_var(envp[i], FDS_VAR) && !is_var(envp[i], CWD_VAR))
			out[k++] = envp[i];
	if (fds[vlen + 1])
		out[k++] = fds;
	if (cwd[0])
		out[k++] = cwd;
	out[k] = NULL;
	return out;
}

int execve(const char *path, char *const argv[], char *const envp[])
{
	char fds[256], cwd[PATH_MAX + sizeof(CWD_VAR)];
	char *const *env = env_for_exec(envp, fds, sizeof(fds), cwd);
	int rc;

	before_exec();
	rc = REAL(execve)(path, argv, env);
	int e = errno;

	if (env != envp)
		free((void *)env);
	errno = e;
	return rc;
}

int execvpe(const char *file, char *const argv[], char *const envp[])
{
	char fds[256], cwd[PATH_MAX + sizeof(CWD_VAR)];
	char *const *env = env_for_exec(envp, fds, sizeof(fds), cwd);
	int rc;

	before_exec();
	rc = REAL(execvpe)(file, argv, env);
	int e = errno;

	if (env != envp)
		free((void *)env);
	errno = e;
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
