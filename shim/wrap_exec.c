/* wrap_exec.c — DAFS descriptors across exec.
 *
 * A placeholder without FD_CLOEXEC survives exec as any descriptor does,
 * but the new program's shim starts with an empty table. Before exec the
 * shim names the inheritable DAFS descriptors in DAFS_SHIM_FDS; the new
 * program's shim checks each (the placeholder carries a magic, the path
 * and the flags) and reopens the file by path on first use, sharing the
 * offset kept in the placeholder (`cat < /dafs/f` from a shell).
 *
 * A program stored on DAFS is not a file the kernel can open: the exec and
 * spawn wrappers copy its bytes into a sealed memfd and run that (execveat
 * with AT_EMPTY_PATH, or /proc/self/fd/N for posix_spawn). A `#!` script is
 * taken apart here as the kernel would (interpreter, optional argument,
 * script path, arguments) and its interpreter run instead, itself loaded
 * the same way when it lives on DAFS; the interpreter inherits the shim and
 * opens the script by its DAFS path, so $0 is what it is locally.
 */
#include <spawn.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
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

/* This process's pid, kept by fork's child handler: a vfork child (Python's
 * subprocess, for one) runs the exec wrappers in its parent's memory with
 * a pid of its own, and must not touch the parent's session. */
static pid_t own_pid;

static void note_pid(void)
{
	own_pid = getpid();
}

static int in_vfork_child(void)
{
	return getpid() != own_pid;
}

__attribute__((constructor(102))) static void keep_environment(void)
{
	note_pid();
	/* Fails only for lack of memory; then every fork child takes the
	 * slower vfork path of prepare_dafs, which still works. */
	(void)!pthread_atfork(NULL, NULL, note_pid);
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
	/* A vfork child's session and mappings are its parent's, which goes on
	 * using them; the new program has a pid, and so endpoints, of its own. */
	if (in_vfork_child())
		return;
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

/* ---- programs stored on DAFS ---------------------------------------------- */

/* The kernel's limits for #! (binfmt_script): the line as far as it reads
 * it, and how deep interpreters may themselves be scripts. */
#define SHEBANG_MAX 256
#define SCRIPT_DEPTH_MAX 4

/* What to run instead of the path a program asked for. */
struct program {
	int memfd;              /* a DAFS program's bytes, or -1: run `path` */
	const char *path;       /* a local path (the caller's, or an interpreter) */
	char *const *argv;      /* the caller's, or `own` */
	char **own;             /* argv rewritten for #! lines, malloc'ed */
	char *lines[SCRIPT_DEPTH_MAX];  /* the #! lines `own` points into */
	char proc[32];          /* "/proc/self/fd/N" of memfd */
	char outside[PATH_MAX]; /* where a DAFS symlink led out of DAFS */
};

static void program_free(struct program *p)
{
	int e = errno;

	if (p->memfd >= 0)
		REAL(close)(p->memfd);
	free(p->own);
	for (int i = 0; i < SCRIPT_DEPTH_MAX; i++)
		free(p->lines[i]);
	errno = e;
}

/* A close-on-exec memfd named after DAFS path dp (what /proc/self/exe
 * shows). Close-on-exec is safe because scripts never reach the kernel from
 * here: it would pass /dev/fd/N, closed by then, to the interpreter
 * (fexecve(3)). */
static int new_memfd(const char *dp)
{
	char name[250];
	int fd;

	/* Truncated to what memfd_create takes: a name for people only. */
	snprintf(name, sizeof(name), "dafs:%.60s%.180s", shim_prefix, dp);
	fd = memfd_create(name, MFD_CLOEXEC | MFD_ALLOW_SEALING);
	return fd < 0 ? -errno : fd;
}

/* Nothing can change the bytes once they are checked and run. */
static int seal_memfd(int fd)
{
	if (REAL(fcntl)(fd, F_ADD_SEALS, F_SEAL_WRITE | F_SEAL_GROW | F_SEAL_SHRINK |
					 F_SEAL_SEAL) < 0) {
		int rc = -errno;
		REAL(close)(fd);
		return rc;
	}
	return fd;
}

/* Copies the size bytes of f into fd. */
static int fill_memfd(int fd, struct dafs_file *f, off_t size)
{
	char buf[65536];
	off_t off = 0;

	while (off < size) {
		ssize_t n = shim_core.dafs_pread(f, buf, sizeof(buf), off), w;

		if (n == 0)
			break;          /* shrunk meanwhile: run what there is */
		if (n < 0)
			return (int)n;
		for (ssize_t done = 0; done < n; done += w)
			if ((w = REAL(write)(fd, buf + done, (size_t)(n - done))) < 0)
				return -errno;
		off += n;
	}
	return 0;
}

/* Copies DAFS file dp into fd; with `program`, only after judging path as
 * execve does (a regular file the caller may execute). */
static int copy_dafs_file(const char *path, const char *dp, int fd, int program)
{
	struct dafs_session *s;
	struct dafs_file *f;
	struct stat st;
	int rc;

	if (!(s = shim_session(&rc)))
		return rc;
	if ((rc = shim_core.dafs_stat(s, dp, &st, 0)) < 0)
		return rc;
	if (!S_ISREG(st.st_mode))
		return program ? -EACCES : -EISDIR;
	if (program && faccessat(AT_FDCWD, path, X_OK, AT_EACCESS) < 0)
		return -errno;
	if ((rc = shim_core.dafs_open(s, dp, O_RDONLY, 0, &f)) < 0)
		return rc;
	rc = fill_memfd(fd, f, st.st_size);
	shim_core.dafs_close(f);
	return rc;
}

int shim_dafs_memfd(const char *dp)
{
	int fd = new_memfd(dp), rc;

	if (fd < 0)
		return fd;
	if ((rc = copy_dafs_file(NULL, dp, fd, 0)) < 0) {
		REAL(close)(fd);
		return rc;
	}
	return seal_memfd(fd);
}

/* A DAFS program's bytes in a sealed memfd. A vfork child cannot use the
 * session (its parent's, whose descriptors it may well have closed, as
 * Python's subprocess does) nor open one (it would be stored in the
 * parent's memory): a forked helper, a process of its own with a session
 * of its own, copies the file into the memfd made here. */
static int load_program(const char *path, const char *dp)
{
	int fd = new_memfd(dp), rc, status;
	pid_t pid;

	if (fd < 0)
		return fd;
	if (!in_vfork_child()) {
		rc = copy_dafs_file(path, dp, fd, 1);
	} else if ((pid = fork()) == 0) {
		rc = copy_dafs_file(path, dp, fd, 1);
		shim_session_end(1);
		_exit(rc < 0 ? -rc : 0);
	} else if (pid < 0) {
		rc = -errno;
	} else {
		pid_t w;

		while ((w = waitpid(pid, &status, 0)) < 0 && errno == EINTR)
			;
		rc = w < 0 ? -errno : WIFEXITED(status) ? -WEXITSTATUS(status) : -EIO;
	}
	if (rc < 0) {
		REAL(close)(fd);
		return rc;
	}
	return seal_memfd(fd);
}

/* "#!interp arg\n" as binfmt_script reads it: the interpreter up to the first
 * blank, the rest (trimmed) one optional argument. 1 with *interp (and *arg,
 * possibly NULL) pointing into line, 0 when line is not a script, -ENOEXEC
 * when it is one without an interpreter. */
static int parse_shebang(char *line, size_t n, char **interp, char **arg)
{
	char *p, *end;

	if (n < 2 || line[0] != '#' || line[1] != '!')
		return 0;
	line[n] = '\0';
	if ((end = strchr(line, '\n')))
		*end = '\0';
	else
		end = line + n;
	while (end > line + 2 && (end[-1] == ' ' || end[-1] == '\t'))
		*--end = '\0';
	for (p = line + 2; *p == ' ' || *p == '\t'; p++)
		;
	if (!*p)
		return -ENOEXEC;
	*interp = p;
	while (*p && *p != ' ' && *p != '\t')
		p++;
	*arg = NULL;
	if (*p) {
		*p++ = '\0';
		while (*p == ' ' || *p == '\t')
			p++;
		if (*p)
			*arg = p;
	}
	return 1;
}

/* argv for the interpreter: interp [arg] script argv[1..]. */
static char **script_argv(char *interp, char *arg, const char *script, char *const argv[])
{
	size_t n = 0, k = 0;
	char **out;

	while (argv && argv[n])
		n++;
	if (!(out = malloc((n + 3) * sizeof(*out))))
		return NULL;
	out[k++] = interp;
	if (arg)
		out[k++] = arg;
	out[k++] = (char *)script;
	for (size_t i = 1; i < n; i++)
		out[k++] = argv[i];
	out[k] = NULL;
	return out;
}

static int prepare_program(const char *path, char *const argv[], struct program *p, int depth);

/* A DAFS program: its bytes in a memfd, then either a #! script, whose
 * interpreter is prepared in its place, or the memfd to run. */
static int prepare_dafs(const char *path, const char *dp, char *const argv[],
			struct program *p, int depth)
{
	char *line, *interp = NULL, *arg = NULL, **nargv;
	ssize_t n;
	int fd = load_program(path, dp), rc;

	if (fd < 0)
		return fd;
	if (!(line = malloc(SHEBANG_MAX + 1))) {
		REAL(close)(fd);
		return -ENOMEM;
	}
	n = REAL(pread)(fd, line, SHEBANG_MAX, 0);
	rc = n < 0 ? -errno : parse_shebang(line, (size_t)n, &interp, &arg);
	if (rc == 0) {
		free(line);
		p->memfd = fd;
		snprintf(p->proc, sizeof(p->proc), "/proc/self/fd/%d", fd);
		p->path = p->proc;
		return 0;
	}
	REAL(close)(fd);
	if (rc < 0 || depth + 1 >= SCRIPT_DEPTH_MAX) {
		free(line);
		return rc < 0 ? rc : -ELOOP;
	}
	p->lines[depth] = line;
	if (!(nargv = script_argv(interp, arg, path, argv)))
		return -ENOMEM;
	free(p->own);
	p->own = nargv;
	p->argv = nargv;
	return prepare_program(interp, p->argv, p, depth + 1);
}

/* Fills p with what to run for path: unchanged for a local path. */
static int prepare_program(const char *path, char *const argv[], struct program *p, int depth)
{
	char dp[SHIM_PATH_MAX];
	int r;

	if (depth == 0)
		*p = (struct program){ .memfd = -1, .path = path, .argv = argv };
	p->path = path;
	r = shim_route(AT_FDCWD, path, dp);
	if (r <= 0)
		return r;
	/* A DAFS symlink to a local program (a venv's bin/python ->
	 * /usr/bin/python3): the server will not follow a link out of its
	 * export, so it is resolved here, as an NFS client does, and the local
	 * program runs. */
	if (realpath(path, p->outside) && shim_route(AT_FDCWD, p->outside, dp) == 0) {
		p->path = p->outside;
		return 0;
	}
	r = prepare_dafs(path, dp, argv, p, depth);
	if (r < 0 && shim_debug)
		shim_log("cannot run %s: %s", path, strerror(-r));
	return r;
}

/* Runs a prepared program; returns only on failure. */
static int exec_program(struct program *p, char *const envp[])
{
	if (p->memfd >= 0)
		return (int)syscall(SYS_execveat, p->memfd, "", p->argv, envp, AT_EMPTY_PATH);
	return REAL(execve)(p->path, p->argv, envp);
}

int execve(const char *path, char *const argv[], char *const envp[])
{
	struct exec_env x;
	struct program p;
	int rc = prepare_program(path, argv, &p, 0);

	if (rc < 0) {
		program_free(&p);
		return shim_err(rc);
	}
	env_build(&x, envp, NULL);
	before_exec();
	rc = exec_program(&p, x.env);
	env_free(&x);
	program_free(&p);
	return rc;
}

/* A file that exists and that the caller may run, local or DAFS. */
static int runnable(const char *path)
{
	struct stat st;

	return stat(path, &st) == 0 && S_ISREG(st.st_mode) &&
	       faccessat(AT_FDCWD, path, X_OK, AT_EACCESS) == 0;
}

/* glibc's PATH search runs its internal execve, out of the shim's sight: when
 * PATH names a DAFS directory (or "." and the like under a DAFS working
 * directory), the search is done here with the wrapped calls instead. Fills
 * out with the first runnable candidate; 0 when PATH has no DAFS directory
 * (leave it to libc), 1 when found, else a negative errno (EACCES when a
 * candidate existed but could not be run, as glibc reports). */
static int search_dafs_path(const char *file, char out[PATH_MAX])
{
	const char *path = getenv("PATH"), *p, *e;
	char dp[SHIM_PATH_MAX], dir[PATH_MAX];
	int dafs = 0, eacces = 0;

	if (!path)
		path = "/bin:/usr/bin";
	for (int pass = 0; pass < 2; pass++) {
		for (p = path;; p = e + 1) {
			size_t n;

			e = strchrnul(p, ':');
			n = (size_t)(e - p);
			snprintf(dir, sizeof(dir), "%.*s", (int)n, n ? p : ".");
			if (pass == 0) {
				dafs |= shim_route(AT_FDCWD, dir, dp) != 0;
			} else if ((size_t)snprintf(out, PATH_MAX, "%s/%s", dir, file) < PATH_MAX) {
				if (runnable(out))
					return 1;
				eacces |= errno == EACCES;
			}
			if (!*e)
				break;
		}
		if (!dafs)
			return 0;
	}
	return eacces ? -EACCES : -ENOENT;
}

/* execvpe with a path: a file that is no program (ENOEXEC) runs with
 * /bin/sh, as glibc does. */
static int execve_or_sh(const char *path, char *const argv[], char *const envp[])
{
	size_t n = 0;

	execve(path, argv, envp);
	if (errno != ENOEXEC)
		return -1;
	while (argv && argv[n])
		n++;
	{
		char *sh_argv[n + 3];

		sh_argv[0] = (char *)"/bin/sh";
		sh_argv[1] = (char *)path;
		for (size_t i = 1; i <= n; i++)
			sh_argv[i + 1] = argv[i];
		if (n == 0)
			sh_argv[2] = NULL;
		return execve(sh_argv[0], sh_argv, envp);
	}
}

int execvpe(const char *file, char *const argv[], char *const envp[])
{
	struct exec_env x;
	char found[PATH_MAX], dp[SHIM_PATH_MAX];
	int rc;

	if (*file && strchr(file, '/')) {
		if (shim_route(AT_FDCWD, file, dp) != 0)
			return execve_or_sh(file, argv, envp);
	} else if (*file) {
		rc = search_dafs_path(file, found);
		if (rc < 0)
			return shim_err(rc);
		if (rc > 0)
			return execve_or_sh(found, argv, envp);
	}
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

/* fexecve of a DAFS descriptor runs the file it names (the placeholder
 * itself is no program). */
int fexecve(int fd, char *const argv[], char *const envp[])
{
	struct exec_env x;
	struct dfile *d;
	char local[SHIM_PATH_MAX];
	int rc;

	if (shim_fd_maybe(fd) && (d = shim_fd_get(fd))) {
		rc = shim_path_local(d->path, local, sizeof(local));
		shim_dfile_put(d);
		if (rc < 0)
			return shim_err(rc);
		return execve(local, argv, envp);
	}
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
	struct program p;
	int rc = prepare_program(path, argv, &p, 0);

	/* posix_spawn reports errors as its value, errno untouched. */
	if (rc < 0) {
		program_free(&p);
		return -rc;
	}
	env_build(&x, envp, fa ? "0,1,2" : NULL);
	fflush(NULL);
	shim_mmap_flush_all();
	/* The child's exec opens /proc/self/fd/N before close-on-exec closes
	 * the memfd; the parent's copy goes when the call returns. */
	rc = real(pid, p.path, fa, attr, p.argv, x.env);
	env_free(&x);
	program_free(&p);
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
	char found[PATH_MAX];
	int rc;

	if (*file && !strchr(file, '/')) {
		int e = errno;

		rc = search_dafs_path(file, found);
		errno = e;
		if (rc < 0)
			return -rc;
		if (rc > 0)
			return spawn(REAL(posix_spawn), pid, found, fa, attr, argv, envp);
	}
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
