/* shim.h — what the parts of libdafsshim.so share: the lazily loaded core
 * (core.c), path routing and the DAFS working directory (path.c), the table
 * of DAFS descriptors (fdtable.c), the descriptor operations the stdio and
 * directory wrappers reuse (wrap_io.c), and the umask (wrap_umask.c).
 */
#ifndef SHIM_H
#define SHIM_H

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "dafs.h"
#include "intercept.h"

/* ---- core.c: libdafs-core, loaded on first use -------------------------- */

#define FOREACH_CORE_CALL(X)                                                     \
	X(dafs_session_opts_from_env)                                            \
	X(dafs_session_open) X(dafs_session_close) X(dafs_session_sync)           \
	X(dafs_open) X(dafs_close) X(dafs_flush)                                 \
	X(dafs_pread) X(dafs_pwrite) X(dafs_append) X(dafs_fsync) X(dafs_fstat)  \
	X(dafs_ftruncate) X(dafs_fchmod) X(dafs_fchown) X(dafs_futimens) X(dafs_fstatvfs)       \
	X(dafs_fadvise) X(dafs_fallocate) X(dafs_lock) X(dafs_stat)              \
	X(dafs_truncate) X(dafs_chmod) X(dafs_chown) X(dafs_utimens) X(dafs_mkdir)             \
	X(dafs_rmdir) X(dafs_unlink)                                             \
	X(dafs_rename) X(dafs_link) X(dafs_symlink) X(dafs_readlink)             \
	X(dafs_statvfs) X(dafs_opendir) X(dafs_readdir) X(dafs_rewinddir)        \
	X(dafs_seekdir) X(dafs_telldir) X(dafs_closedir)                         \
	X(dafs_link_file) X(dafs_mknod)                                         \
	X(dafs_getxattr) X(dafs_setxattr) X(dafs_listxattr) X(dafs_removexattr) \
	X(dafs_fgetxattr) X(dafs_fsetxattr) X(dafs_flistxattr) X(dafs_fremovexattr) \
	X(dafs_creds_changed)

struct shim_core {
#define SHIM_CORE_FIELD(name) __typeof__(name) *name;
	FOREACH_CORE_CALL(SHIM_CORE_FIELD)
#undef SHIM_CORE_FIELD
};

/* Filled by shim_session(); valid once it has returned a session. */
extern struct shim_core shim_core;

/* The process's session, opened on first use (and again in a forked
 * child). NULL with *err a negative errno when there is none. */
struct dafs_session *shim_session(int *err);
/* Closes the session: at exit (final: no new one), before exec (the new
 * program, same pid, opens its own; the transport names endpoints by pid). */
void shim_session_end(int final);
/* Bumped in a forked child: handles of older generations belong to the
 * parent's session and must not be used. */
extern _Atomic unsigned shim_generation;

/* True for a file libfabric's start-up reads that this session does not
 * need (core.c says which and why): its open fails with EACCES. */
bool shim_startup_refuses(const char *path);

extern int shim_debug;
/* One line on stderr when DAFS_DEBUG=1. */
void shim_log(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* A call the shim does not support on a DAFS descriptor (fd >= 0) or path
 * (fd -1): sets errno to err and returns -1. With DAFS_DEBUG it logs one
 * line per distinct (call, call site): the first frame outside the shim
 * and the sanitizer runtimes preloaded before it, found with libunwind when
 * it can be loaded, else `ret`. A macro so that `ret` is the return address
 * of the wrapper that calls it: its caller's call site. */
int shim_unsupported_at(const char *call, int fd, int err, void *ret);
#define shim_unsupported(call, fd, err) \
	shim_unsupported_at(call, fd, err, __builtin_return_address(0))

/* ---- path.c: routing ---------------------------------------------------- */

extern char shim_prefix[PATH_MAX];      /* DAFS_MOUNT without trailing '/' */
extern size_t shim_prefix_len;
extern _Atomic int shim_cwd_is_dafs;
/* Set while the shim runs libfabric's and the core's start-up, whose own
 * file accesses always go to libc. */
extern __thread int shim_in_core __attribute__((tls_model("initial-exec")));

void shim_init(void);
extern int shim_ready;

/* A DAFS path from the export root: longer than PATH_MAX, since a relative
 * path of up to PATH_MAX - 1 bytes (the kernel's limit per argument) joined
 * onto a deep DAFS working directory is legal locally. The wire's
 * DAFS_PATH_MAX (common/proto.h) is the same; the server walks such a path
 * in pieces. Every buffer shim_route fills is this large: the parameter's
 * bound lets the compiler refuse a PATH_MAX one. */
#define SHIM_PATH_MAX (2 * 4096)

/* Where `path` (relative to dirfd) lives: 0 not DAFS (call libc), 1 DAFS
 * with the normalized DAFS path in out, or a negative errno. The ONE
 * routing function for every path-taking call: absolute under the prefix,
 * relative to the DAFS working directory, or relative to a DAFS directory
 * descriptor. A DAFS path argument is held to the kernel's limits (PATH_MAX
 * bytes with its NUL, NAME_MAX per component: ENAMETOOLONG), not the
 * joined result. */
int shim_route_slow(int dirfd, const char *path, char out[SHIM_PATH_MAX]);

static inline int shim_route(int dirfd, const char *path, char out[SHIM_PATH_MAX])
{
	if (__builtin_expect(!shim_ready, 0))
		shim_init();
	if (!path)
		return 0;
	if (path[0] == '/') {
		if (path[1] != shim_prefix[1] || shim_prefix_len == 0)
			return 0;
	} else if (dirfd == AT_FDCWD && !atomic_load_explicit(&shim_cwd_is_dafs,
							       memory_order_relaxed)) {
		return 0;
	}
	return shim_route_slow(dirfd, path, out);
}

/* Whether (dirfd, path) is DAFS, for a caller that needs no DAFS path: 1,
 * 0, or -1 with errno set (an argument over the path limits). */
int shim_on_dafs(int dirfd, const char *path);

/* base + "/" + rel, with "." and ".." resolved lexically; out is absolute
 * from the export root. */
int shim_path_join(const char *base, const char *rel, char out[SHIM_PATH_MAX]);
/* The DAFS working directory across exec. */
void shim_cwd_adopt(const char *dpath);
int shim_cwd_get(char buf[SHIM_PATH_MAX]);
/* The prefix-ed local spelling of a DAFS path, for getcwd and realpath. */
int shim_path_local(const char *dpath, char *buf, size_t size);

/* ---- wrapper bodies (wrap_names.c, wrap_xattr.c) ------------------------ */

/* Routes path; on DAFS runs `dafs_body` (an expression of dp and s giving
 * 0/count or a negative errno) and returns its result the libc way. */
#define ROUTE_PATH(dirfd, path, real_call, dafs_body)                       \
	do {                                                                \
		char dp[SHIM_PATH_MAX];                                          \
		struct dafs_session *s;                                     \
		int r_ = shim_route(dirfd, path, dp), e_;                   \
		long v_;                                                    \
		if (r_ == 0)                                                \
			return real_call;                                   \
		if (r_ < 0)                                                 \
			return shim_err(r_);                                \
		if (!(s = shim_session(&e_)))                               \
			return shim_err(e_);                                \
		v_ = (dafs_body);                                           \
		return v_ < 0 ? shim_err((int)v_) : v_;                     \
	} while (0)

/* The DAFS file behind fd, or return real_call. */
#define FD_OR_REAL(fd, real_call, dafs_body)                                \
	do {                                                                \
		struct dfile *d;                                            \
		struct dafs_file *f;                                        \
		long v_;                                                    \
		if (!shim_fd_maybe(fd) || !(d = shim_fd_get(fd)))           \
			return real_call;                                   \
		v_ = shim_dfile_handle(d, &f);                              \
		if (v_ == 0)                                                \
			v_ = (dafs_body);                                   \
		shim_dfile_put(d);                                          \
		return v_ < 0 ? shim_err((int)v_) : v_;                     \
	} while (0)

/* ---- fdtable.c: DAFS descriptors -------------------------------------- */

/* The placeholder memfd's contents, mapped shared: the offset lives here so
 * that dup'ed descriptors and forked children share it as they would a
 * kernel file's, and the path and flags let an exec'ed program reopen it. */
#define SHIM_PH_MAGIC 0x6d69687373666164ULL   /* "dafsshim" */
/* Pages enough for any DAFS path (SHIM_PATH_MAX); only those a path
 * reaches are ever touched. */
#define SHIM_PH_SIZE (SHIM_PATH_MAX + 4096)
struct shim_ph {
	uint64_t magic;
	_Atomic int64_t offset;
	int32_t flags;
	char path[SHIM_PH_SIZE - 20];
};
_Static_assert(sizeof(struct shim_ph) == SHIM_PH_SIZE, "one placeholder");

/* One open file description (shared by dup'ed descriptors). */
struct dfile {
	_Atomic int refs;               /* descriptors + calls in progress */
	_Atomic int nfds;               /* descriptors alone (table entries) */
	pthread_mutex_t lock;           /* serializes offset updates, reopen */
	int flags;                      /* O_ACCMODE, O_APPEND, O_NONBLOCK... */
	int fflags;                     /* the flags f was opened with */
	unsigned gen;                   /* shim_generation that opened f */
	struct dafs_file *f;            /* NULL until (re)opened in this process */
	struct shim_ph *ph;
	struct shim_dirstate *dir;      /* getdents64's stream, made on first use */
	char path[];                    /* DAFS path */
};

/* Creates the placeholder and the table entry for an open DAFS file;
 * returns the descriptor or a negative errno (closing f on failure). */
int shim_fd_install(struct dafs_file *f, const char *dpath, int flags);
/* The entry of a DAFS descriptor, with a reference held (NULL: not DAFS). */
struct dfile *shim_fd_get(int fd);
void shim_dfile_put(struct dfile *d);
/* Maps fd2 to fd's file after a kernel dup; drops what fd2 was. */
void shim_fd_dup(struct dfile *d, int fd2);
/* Forgets fd (the kernel descriptor was closed or reused). */
void shim_fd_forget(int fd);
/* The core handle of d in this process, reopened after fork or exec. */
int shim_dfile_handle(struct dfile *d, struct dafs_file **out);
/* Quick test without a reference: might fd be a DAFS descriptor? */
int shim_fd_maybe(int fd);
/* "3,5,7": the DAFS descriptors an exec'ed program inherits. */
void shim_fd_inheritable(char *buf, size_t size);
/* Rebuilds the entries named by DAFS_SHIM_FDS (after exec). */
void shim_fd_adopt(const char *list);

/* ---- wrap_io.c: descriptor operations shared with stdio and dirs -------- */

int shim_open_dafs(const char *dpath, int flags, mode_t mode);
ssize_t shim_fd_read(struct dfile *d, void *buf, size_t n);
ssize_t shim_fd_write(struct dfile *d, const void *buf, size_t n);
off_t shim_fd_seek(struct dfile *d, off_t off, int whence);
int shim_fd_stat(struct dfile *d, struct stat *st);

/* ---- wrap_umask.c ------------------------------------------------------- */

/* The process's current umask, which every DAFS create applies to its mode
 * (the library applies none). */
mode_t shim_umask(void);

/* ---- wrap_stdio.c: stdin, stdout, stderr on DAFS descriptors ---------- */

/* libc's stdio writes its standard streams with internal calls the shim
 * cannot see: when descriptor 0, 1 or 2 becomes DAFS (dup2, exec with a
 * redirection) the stream variable is pointed at a cookie stream on it, and
 * back when it stops being DAFS. shim_std_flush runs before a descriptor
 * changes, while the cookie stream's buffer can still reach its file. */
void shim_std_sync(int fd, struct dfile *d);
void shim_std_flush(int fd);

/* ---- wrap_mmap.c: shared mappings of DAFS files ----------------------- */

/* Writes what changed in every MAP_SHARED mapping of a DAFS file to the
 * file: before exec (and at exit, registered by wrap_mmap.c itself). */
void shim_mmap_flush_all(void);
/* Writes back the shared mappings made through d: when its last
 * descriptor closes. */
void shim_mmap_writeback_dfile(struct dfile *d);

/* ---- wrap_dir.c ---------------------------------------------------------- */

/* Releases the getdents64 stream of a description (when it is freed). */
void shim_dirstate_free(struct dfile *d);

/* ---- wrap_exec.c: programs and libraries stored on DAFS ---------------- */

/* A sealed close-on-exec memfd holding the bytes of DAFS file dp (for exec
 * and dlopen, which need a file the kernel can map), or a negative errno. */
int shim_dafs_memfd(const char *dp);

/* ---- wrap_glibc.c -------------------------------------------------------- */

/* realpath(3) on the shim's lstat and readlink: links followed into, within
 * and out of DAFS. */
char *shim_realpath_walk(const char *path, char *resolved);

/* ---- errors ------------------------------------------------------------- */

/* -1 with errno = -rc (rc a negative errno). */
static inline int shim_err(int rc)
{
	errno = -rc;
	return -1;
}

#endif
