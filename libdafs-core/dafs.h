/* dafs.h — libdafs-core, the user-level DAFS client.
 *
 * A session connects to one dafs-server export. Paths are absolute from the
 * export's root ("/a/b"; a missing leading '/' means the same). Every call
 * returns 0 or a count on success and a negative errno on failure.
 *
 * Asynchronous first: each operation has a _async form that takes a completion
 * group (or none) and a user pointer, and returns at once; the synchronous
 * form is the async one followed by a wait. Progress is made by the threads
 * that wait, so an async request only moves while somebody waits, polls, or
 * submits. A session may be shared by threads.
 *
 * Handles do not survive fork(): a child process opens its own session.
 */
#ifndef DAFS_H
#define DAFS_H

#include <stddef.h>
#include <stdint.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <sys/types.h>
#include <fcntl.h>
#include <time.h>

#ifdef __cplusplus
extern "C" {
#endif

struct dafs_session;
struct dafs_file;
struct dafs_dir;
struct dafs_cg;
struct dafs_req;
struct dafs_mem;

/* A session's settings. Zero in any field means the library's default, so
 * `{0}` (or opts NULL in dafs_session_open) is a session with defaults; the
 * library never reads the environment on its own (see
 * dafs_session_opts_from_env). */
struct dafs_session_opts {
	const char *name;       /* how the server's log names us; default: host and pid */
	unsigned credits;       /* requests in flight wanted; 0: default (32) */
	int timeout_ms;         /* silence after which the server is declared dead;
				   0 or negative: default (5000) */
	long long cache_size;   /* bytes of page cache; 0: default (see
				   dafs_cache_stats); negative: none */
	int coalesce_writes;    /* 1: gather small sequential writes made while
				   earlier ones are in flight (see dafs_pwrite);
				   0 (default) or negative: off */
	long long direct_read_min;      /* reads of this many bytes or more go
				   straight into the caller's buffer when the page
				   cache holds none of their range; 0 (default) or
				   negative: never */
	int regcache_entries;   /* registrations of callers' buffers kept for
				   direct reads; 0: default (32), at most 1024;
				   negative: none (each read registers its buffer) */
	int doorbells;          /* where the transport has no wait object (shm):
				   0 or positive: a doorbell socket wakes a client
				   napping for a slow reply, and the server; negative:
				   none, the naps alone */
	int stats;              /* positive: print what each kind of request cost
				   to stderr when the session closes; 0: off */
	const char *key_file;   /* the client's key ('dafs keygen NAME' > FILE,
				   readable by its owner alone): the session is
				   authenticated and every message MACed; NULL:
				   none (shm and loopback servers without --keys).
				   A key file that cannot be used fails the open
				   with its errno (-EACCES: others may read it),
				   and a refused key with -EACCES */
	int caller_creds;       /* positive: each request carries the filesystem
				   uid, gid and groups of the thread that sends it,
				   read at its first request and again after each
				   dafs_creds_changed (the shim: setuid and su-like
				   programs are honoured); 0 (default): the
				   session's, see dafs_session_set_cred */
	int recovery_timeout_s; /* when the server stops answering (a lost
				   connection, a restart): seconds to keep
				   reconnecting, calls waiting meanwhile, before
				   they fail with -EIO; 0: default (600);
				   negative: no recovery (-EIO after timeout_ms
				   of silence). A keyed session keeps its key
				   in locked memory meanwhile, to prove itself
				   to the next server (README, "What survives
				   what") */
};

/* Fills opts from the environment, for programs configured that way (the
 * shim, the dafs command): each variable set and not empty overrides its
 * field, the others are left as they are, so call it first and set what
 * the program insists on afterwards.
 *
 *   DAFS_TIMEOUT_MS        timeout_ms: 1 to 3600000
 *   DAFS_CACHE_SIZE        cache_size: a size ("4096", "64K", "64M", "1G");
 *                          "0": no page cache
 *   DAFS_WRITE_COALESCE    coalesce_writes: "1" on, another number off
 *   DAFS_DIRECT_READ_MIN   direct_read_min: a size ("512K"); "0": never
 *   DAFS_REGCACHE_ENTRIES  regcache_entries: a count (a size's syntax);
 *                          "0": none kept
 *   DAFS_DOORBELL          doorbells: "0" none; anything else: used
 *   DAFS_STATS             stats: on unless it starts with '0'
 *   DAFS_KEY_FILE          key_file: the client's key file
 *   DAFS_RECOVERY_TIMEOUT  recovery_timeout_s: seconds, 1 to 86400; "0":
 *                          no recovery
 *
 * A malformed value leaves its field as it was (the default, unless the
 * caller set it): DAFS_CACHE_SIZE says so on stderr, the others silently.
 * Returns 0, or -EINVAL when opts is NULL or some value was malformed (the
 * others are filled all the same: a caller may ignore it, as the shim and
 * the dafs command do). */
int dafs_session_opts_from_env(struct dafs_session_opts *opts);

/* url: shm://NAME, tcp://HOST:PORT or verbs://HOST:PORT. opts NULL: every
 * default. */
int dafs_session_open(const char *url, const struct dafs_session_opts *opts,
		      struct dafs_session **out);
/* The credentials the session's requests carry: by default the filesystem
 * uid, gid and supplementary groups of the thread that opened it. The
 * server acts as them, as its key for this client allows (README,
 * Security): a request it may not do fails with EACCES, EPERM or EROFS.
 * -EINVAL for more than DAFS_CRED_GROUPS_MAX groups. Ignored when the
 * session follows its callers (dafs_session_opts.caller_creds). */
#define DAFS_CRED_GROUPS_MAX 32
int dafs_session_set_cred(struct dafs_session *s, uid_t uid, gid_t gid, size_t ngroups,
			  const gid_t *groups);
/* Tells the library that the process's (or a thread's) credentials changed:
 * sessions with caller_creds read each thread's again before its next
 * request. Call it after setuid, setgroups, setfsuid and the like. */
void dafs_creds_changed(void);
/* Waits for requests in flight, releases the session's locks and files. */
int dafs_session_close(struct dafs_session *s);
/* The transport the session runs on ("shm", "tcp;ofi_rxm", ...). */
const char *dafs_session_provider(const struct dafs_session *s);
/* A new client key: writes "NAME KEY\n" (KEY: 256 random bits in hex) into
 * line, the line of a client's key file and of the server's --keys file.
 * Returns 0, -EINVAL for a name a keys file cannot hold (1 to 64 of
 * A-Z a-z 0-9 . _ @ -), -ENOSPC when cap is too small (140 suffice). */
int dafs_keygen(const char *name, char *line, size_t cap);

/* ---- Completion groups and requests ---------------------------------- */

struct dafs_event {
	void *user;             /* as passed to the _async call */
	ssize_t result;         /* what the synchronous form would return */
};

int dafs_cg_create(struct dafs_session *s, struct dafs_cg **out);
/* Fails with -EBUSY while requests of the group are outstanding. */
int dafs_cg_destroy(struct dafs_cg *cg);
/* Waits for one completed request of the group. Returns 1 with *ev filled,
 * 0 on timeout, -ENOENT when the group has nothing outstanding. */
int dafs_cg_wait_any(struct dafs_cg *cg, int timeout_ms, struct dafs_event *ev);
/* Waits until `n` requests of the group completed (or timeout); fills up to
 * `max` events and returns how many. */
int dafs_cg_wait_n(struct dafs_cg *cg, unsigned n, struct dafs_event *evs, unsigned max,
		   int timeout_ms);
/* How many requests of the group have not been reaped yet. */
unsigned dafs_cg_outstanding(const struct dafs_cg *cg);

/* A request submitted with req_out != NULL and cg == NULL must be waited for
 * with dafs_req_wait, which returns its result and releases it. Returns
 * -ETIMEDOUT when timeout_ms passes first (the request stays valid). */
ssize_t dafs_req_wait(struct dafs_req *req, int timeout_ms);

/* ---- Memory registration --------------------------------------------- */

/* Registers a caller buffer for direct transfer: reads and writes whose
 * buffer lies inside it move by RDMA straight to and from it. Other buffers
 * go through the session's own registered bounce memory. */
int dafs_mem_register(struct dafs_session *s, void *buf, size_t len, struct dafs_mem **out);
int dafs_mem_deregister(struct dafs_mem *m);

/* ---- Files ------------------------------------------------------------ */

/* flags: O_RDONLY/O_WRONLY/O_RDWR with O_CREAT, O_EXCL, O_TRUNC, O_APPEND,
 * O_DIRECTORY, O_NOFOLLOW, O_DIRECT, O_SYNC; others are ignored.
 * mode (with O_CREAT, and dafs_mkdir's) is the final mode: the library
 * applies no umask, as the server's own system calls apply none. A caller
 * that wants the process's umask applies it (libdafsshim.so does). */
int dafs_open(struct dafs_session *s, const char *path, int flags, mode_t mode,
	      struct dafs_file **out);
int dafs_close(struct dafs_file *f);
ssize_t dafs_pread(struct dafs_file *f, void *buf, size_t len, off_t off);
/* Returns once the data has left the process (a killed caller loses
 * nothing it returned for) when len <= 256 KiB and the file is not O_APPEND,
 * O_SYNC, O_DSYNC or O_DIRECT; else when the server has written it. An
 * error the server reports later comes back from the next dafs_pwrite,
 * dafs_fsync or dafs_close of the file. Reads, stats and every other
 * request of the session wait for such writes first.
 *
 * With write coalescing on (dafs_session_opts.coalesce_writes or
 * DAFS_WRITE_COALESCE=1), a write shorter than the inline limit (32 KiB)
 * that continues the file's last one, made while earlier writes of the file
 * are in flight, is copied into a per-file buffer and returns at once (as
 * Nagle's algorithm holds back small TCP segments while earlier ones are
 * unacknowledged); the buffer goes as one WRITE when it is full, when the
 * writes in flight are answered, before any other request of the session,
 * at dafs_flush, dafs_close and dafs_session_sync, and within about 2 ms in
 * any case. The price: until it goes, the data is in this process only, so
 * a caller killed in those milliseconds loses it. Off by default. */
ssize_t dafs_pwrite(struct dafs_file *f, const void *buf, size_t len, off_t off);
/* Waits until the server has answered the writes of f that returned early
 * and returns, once, the first error one of them met (what close(2) of an
 * NFS file reports). */
int dafs_flush(struct dafs_file *f);
/* Waits until the server has answered every write of the session that
 * returned early (before fork or exec, so that the next program sees them).
 * Their errors stay with their files. */
int dafs_session_sync(struct dafs_session *s);
/* O_APPEND files: writes go to the end whatever `off` says; dafs_append also
 * tells where the data landed. */
ssize_t dafs_append(struct dafs_file *f, const void *buf, size_t len, off_t *where);
int dafs_fsync(struct dafs_file *f, int datasync);
int dafs_fstat(struct dafs_file *f, struct stat *st);
int dafs_ftruncate(struct dafs_file *f, off_t size);
int dafs_fchmod(struct dafs_file *f, mode_t mode);
/* uid or gid (uid_t)-1 / (gid_t)-1: unchanged, as chown(2). */
int dafs_fchown(struct dafs_file *f, uid_t uid, gid_t gid);
/* times as utimensat(2): NULL for now, UTIME_NOW / UTIME_OMIT allowed. */
int dafs_futimens(struct dafs_file *f, const struct timespec times[2]);
int dafs_fstatvfs(struct dafs_file *f, struct statvfs *sv);
/* POSIX advice (POSIX_FADV_*), passed to the server's cache. */
int dafs_fadvise(struct dafs_file *f, off_t off, off_t len, int advice);
/* fallocate(2) on the server's file. mode: 0, FALLOC_FL_KEEP_SIZE,
 * FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE, FALLOC_FL_ZERO_RANGE (with or
 * without KEEP_SIZE); others -EOPNOTSUPP. len must be > 0 (-EINVAL). The
 * server's errors (ENOSPC, EOPNOTSUPP of its file system) come back as such. */
int dafs_fallocate(struct dafs_file *f, int mode, off_t off, off_t len);

/* The asynchronous forms: same arguments, then (cg, user, req_out); the
 * event's result is what the synchronous form returns, and outputs (the file,
 * the stat...) are filled in when the request completes. */
int dafs_open_async(struct dafs_session *s, const char *path, int flags, mode_t mode,
		    struct dafs_file **out, struct dafs_cg *cg, void *user,
		    struct dafs_req **req_out);
/* The file is released when the request completes (or fails to submit). */
int dafs_close_async(struct dafs_file *f, struct dafs_cg *cg, void *user,
		     struct dafs_req **req_out);
int dafs_fstat_async(struct dafs_file *f, struct stat *st,
		     struct dafs_cg *cg, void *user, struct dafs_req **req_out);
int dafs_ftruncate_async(struct dafs_file *f, off_t size,
			 struct dafs_cg *cg, void *user, struct dafs_req **req_out);
int dafs_fchmod_async(struct dafs_file *f, mode_t mode,
		      struct dafs_cg *cg, void *user, struct dafs_req **req_out);
int dafs_futimens_async(struct dafs_file *f, const struct timespec times[2],
			struct dafs_cg *cg, void *user, struct dafs_req **req_out);
int dafs_fstatvfs_async(struct dafs_file *f, struct statvfs *sv,
			struct dafs_cg *cg, void *user, struct dafs_req **req_out);
int dafs_fadvise_async(struct dafs_file *f, off_t off, off_t len, int advice,
		       struct dafs_cg *cg, void *user, struct dafs_req **req_out);
int dafs_fallocate_async(struct dafs_file *f, int mode, off_t off, off_t len,
			 struct dafs_cg *cg, void *user, struct dafs_req **req_out);
int dafs_read_async(struct dafs_file *f, void *buf, size_t len, off_t off,
		    struct dafs_cg *cg, void *user, struct dafs_req **req_out);
int dafs_write_async(struct dafs_file *f, const void *buf, size_t len, off_t off,
		     struct dafs_cg *cg, void *user, struct dafs_req **req_out);
int dafs_fsync_async(struct dafs_file *f, int datasync,
		     struct dafs_cg *cg, void *user, struct dafs_req **req_out);

/* Batch I/O: many reads and writes of one file set, sent as one request. Each
 * item's result is set when the request completes (all or some may fail; one
 * failure does not stop the others). The event's result is the number of
 * items that succeeded. At most 64 items. */
struct dafs_batch_item {
	struct dafs_file *file;
	int is_write;
	void *buf;
	size_t len;
	off_t off;
	ssize_t result;
};
int dafs_batch_submit(struct dafs_session *s, struct dafs_batch_item *items, unsigned n,
		      struct dafs_cg *cg, void *user, struct dafs_req **req_out);
ssize_t dafs_batch(struct dafs_session *s, struct dafs_batch_item *items, unsigned n);

/* Chained lookup -> open -> read in one round trip: opens `path` (read-only)
 * and reads up to len bytes at off. On success *out is the open file and the
 * return value the byte count. */
ssize_t dafs_open_read(struct dafs_session *s, const char *path, void *buf, size_t len,
		       off_t off, struct dafs_file **out);

/* F_SETLK and F_GETLK only (a waiting lock is a loop: dafs_lock). -EBUSY:
 * the server restarted and waits for its clients to take their locks back
 * (its grace period, a lease at most): ask again later. */
int dafs_lock_async(struct dafs_file *f, int cmd, struct flock *fl, uint64_t owner,
		    struct dafs_cg *cg, void *user, struct dafs_req **req_out);

/* ---- Locks (POSIX byte-range, released when the owner closes the file or
 * the session ends) ------------------------------------------------------ */

/* cmd: F_SETLK, F_SETLKW (waits, polling the server; -EINTR when a signal
 * handler installed without SA_RESTART interrupts the wait), F_GETLK; all
 * three wait out a restarted server's grace period. owner names
 * the lock owner (a process or an open file description); l_whence must be
 * SEEK_SET or SEEK_CUR (0 offset) here. F_SETLK on a conflict: -EAGAIN.
 * An owner with DAFS_LOCK_OWNER_FLOCK set holds flock(2) locks: they meet
 * only each other, never byte-range locks, and a shared one needs no
 * readable file (the other bits still name the owner). */
#define DAFS_LOCK_OWNER_FLOCK (1ULL << 63)
/* What F_SETLK and F_SETLKW return, instead of 0, for a lock granted over a
 * range whose last holder's session ended without letting it go (its
 * client crashed, was fenced, or went silent past its lease): DAFS's
 * auto-recovery locks. What that holder was doing under the lock may be
 * half done: check the data. Each broken range is told once, to the first
 * lock that overlaps it, and only while the server runs. */
#define DAFS_LOCK_BROKEN 1
int dafs_lock(struct dafs_file *f, int cmd, struct flock *fl, uint64_t owner);

/* ---- Names ------------------------------------------------------------- */

/* flags: AT_SYMLINK_NOFOLLOW or 0. */
int dafs_stat(struct dafs_session *s, const char *path, struct stat *st, int flags);
int dafs_truncate(struct dafs_session *s, const char *path, off_t size);
int dafs_chmod(struct dafs_session *s, const char *path, mode_t mode);
/* flags: AT_SYMLINK_NOFOLLOW (lchown) or 0. */
int dafs_chown(struct dafs_session *s, const char *path, uid_t uid, gid_t gid, int flags);
int dafs_utimens(struct dafs_session *s, const char *path, const struct timespec times[2],
		 int flags);
/* mode: final, no umask applied (see dafs_open). */
int dafs_mkdir(struct dafs_session *s, const char *path, mode_t mode);
int dafs_rmdir(struct dafs_session *s, const char *path);
int dafs_unlink(struct dafs_session *s, const char *path);
/* flags: 0, RENAME_NOREPLACE or RENAME_EXCHANGE. */
int dafs_rename(struct dafs_session *s, const char *from, const char *to, unsigned flags);
int dafs_link(struct dafs_session *s, const char *existing, const char *newpath);
int dafs_symlink(struct dafs_session *s, const char *target, const char *linkpath);
/* Like readlink(2): no NUL added; returns the length. */
ssize_t dafs_readlink(struct dafs_session *s, const char *path, char *buf, size_t size);
int dafs_statvfs(struct dafs_session *s, struct statvfs *sv);

int dafs_stat_async(struct dafs_session *s, const char *path, struct stat *st, int flags,
		    struct dafs_cg *cg, void *user, struct dafs_req **req_out);
int dafs_mkdir_async(struct dafs_session *s, const char *path, mode_t mode,
		     struct dafs_cg *cg, void *user, struct dafs_req **req_out);
int dafs_unlink_async(struct dafs_session *s, const char *path,
		      struct dafs_cg *cg, void *user, struct dafs_req **req_out);
int dafs_rmdir_async(struct dafs_session *s, const char *path,
		     struct dafs_cg *cg, void *user, struct dafs_req **req_out);
int dafs_rename_async(struct dafs_session *s, const char *from, const char *to,
		      unsigned flags, struct dafs_cg *cg, void *user, struct dafs_req **req_out);
int dafs_truncate_async(struct dafs_session *s, const char *path, off_t size,
			struct dafs_cg *cg, void *user, struct dafs_req **req_out);
int dafs_chmod_async(struct dafs_session *s, const char *path, mode_t mode,
		     struct dafs_cg *cg, void *user, struct dafs_req **req_out);
int dafs_utimens_async(struct dafs_session *s, const char *path, const struct timespec times[2],
		       int flags, struct dafs_cg *cg, void *user, struct dafs_req **req_out);
int dafs_link_async(struct dafs_session *s, const char *existing, const char *newpath,
		    struct dafs_cg *cg, void *user, struct dafs_req **req_out);
int dafs_symlink_async(struct dafs_session *s, const char *target, const char *linkpath,
		       struct dafs_cg *cg, void *user, struct dafs_req **req_out);
int dafs_readlink_async(struct dafs_session *s, const char *path, char *buf, size_t size,
			struct dafs_cg *cg, void *user, struct dafs_req **req_out);
int dafs_statvfs_async(struct dafs_session *s, struct statvfs *sv,
		       struct dafs_cg *cg, void *user, struct dafs_req **req_out);

/* Unnamed files: dafs_open(dir, O_TMPFILE | O_WRONLY or O_RDWR, mode) makes
 * one in directory dir; dafs_link_file gives an open file a name, as
 * linkat(fd, "", AT_FDCWD, newpath, AT_EMPTY_PATH) does (-ENOENT for a file
 * opened O_TMPFILE | O_EXCL, or whose names were all removed). */
int dafs_link_file(struct dafs_file *f, const char *newpath);
int dafs_link_file_async(struct dafs_file *f, const char *newpath,
			 struct dafs_cg *cg, void *user, struct dafs_req **req_out);

/* A fifo, character or block device, or socket inode, as mknod(2) makes it
 * (mode: S_IFIFO, S_IFCHR, S_IFBLK or S_IFSOCK | final permission bits, no
 * umask applied; dev: the device number, ignored for a fifo or socket).
 * Other types are -EINVAL: regular files come from dafs_open with O_CREAT,
 * directories from dafs_mkdir. Opening the node is the caller's matter:
 * the server serves only regular files and directories (-ENXIO). */
int dafs_mknod(struct dafs_session *s, const char *path, mode_t mode, dev_t dev);
int dafs_mknod_async(struct dafs_session *s, const char *path, mode_t mode, dev_t dev,
		     struct dafs_cg *cg, void *user, struct dafs_req **req_out);

/* ---- Named attributes (extended attributes) ------------------------------
 *
 * As getxattr(2), setxattr(2), listxattr(2) and removexattr(2) on the
 * server's file: flags AT_SYMLINK_NOFOLLOW for the l-forms (a symlink's own
 * attributes), 0 to follow; the f-forms act on an open file. size 0 asks
 * for the value's (list's) length; a smaller buffer than the value gives
 * -ERANGE; -ENODATA for no such attribute; xflags XATTR_CREATE (-EEXIST if
 * it exists) or XATTR_REPLACE (-ENODATA if not); -ENOTSUP where the
 * server's file system has no such namespace. Names are 1 to 255 bytes
 * (else -ERANGE), values at most 64 KiB (else -E2BIG), as Linux's limits.
 * By path, a value near 64 KiB and a path near PATH_MAX together do not fit
 * one message: -E2BIG (open the file and use dafs_fsetxattr). */
ssize_t dafs_getxattr(struct dafs_session *s, const char *path, const char *name, void *value,
		      size_t size, int flags);
int dafs_setxattr(struct dafs_session *s, const char *path, const char *name, const void *value,
		  size_t size, int xflags, int flags);
ssize_t dafs_listxattr(struct dafs_session *s, const char *path, char *list, size_t size,
		       int flags);
int dafs_removexattr(struct dafs_session *s, const char *path, const char *name, int flags);
ssize_t dafs_fgetxattr(struct dafs_file *f, const char *name, void *value, size_t size);
int dafs_fsetxattr(struct dafs_file *f, const char *name, const void *value, size_t size,
		   int xflags);
ssize_t dafs_flistxattr(struct dafs_file *f, char *list, size_t size);
int dafs_fremovexattr(struct dafs_file *f, const char *name);

int dafs_getxattr_async(struct dafs_session *s, const char *path, const char *name, void *value,
			size_t size, int flags, struct dafs_cg *cg, void *user,
			struct dafs_req **req_out);
int dafs_setxattr_async(struct dafs_session *s, const char *path, const char *name,
			const void *value, size_t size, int xflags, int flags,
			struct dafs_cg *cg, void *user, struct dafs_req **req_out);
int dafs_listxattr_async(struct dafs_session *s, const char *path, char *list, size_t size,
			 int flags, struct dafs_cg *cg, void *user, struct dafs_req **req_out);
int dafs_removexattr_async(struct dafs_session *s, const char *path, const char *name, int flags,
			   struct dafs_cg *cg, void *user, struct dafs_req **req_out);
int dafs_fgetxattr_async(struct dafs_file *f, const char *name, void *value, size_t size,
			 struct dafs_cg *cg, void *user, struct dafs_req **req_out);
int dafs_fsetxattr_async(struct dafs_file *f, const char *name, const void *value, size_t size,
			 int xflags, struct dafs_cg *cg, void *user, struct dafs_req **req_out);
int dafs_flistxattr_async(struct dafs_file *f, char *list, size_t size,
			  struct dafs_cg *cg, void *user, struct dafs_req **req_out);
int dafs_fremovexattr_async(struct dafs_file *f, const char *name,
			    struct dafs_cg *cg, void *user, struct dafs_req **req_out);

/* ---- Directories ------------------------------------------------------ */

struct dafs_dirent_info {
	uint64_t ino;
	unsigned char type;     /* DT_* */
	off_t cookie;           /* position after this entry, for dafs_seekdir */
	char name[256];
};

int dafs_opendir(struct dafs_session *s, const char *path, struct dafs_dir **out);
/* 1 with *ent filled, 0 at the end, negative errno. "." and ".." included. */
int dafs_readdir(struct dafs_dir *d, struct dafs_dirent_info *ent);
/* Fetches the next entries ahead, so that dafs_readdir returns them without
 * a round trip; -EBUSY while fetched entries remain unread. */
int dafs_readdir_async(struct dafs_dir *d, struct dafs_cg *cg, void *user,
		       struct dafs_req **req_out);
void dafs_rewinddir(struct dafs_dir *d);
void dafs_seekdir(struct dafs_dir *d, off_t cookie);
off_t dafs_telldir(struct dafs_dir *d);
int dafs_closedir(struct dafs_dir *d);

/* ---- The page cache ------------------------------------------------------
 *
 * dafs_pread goes through a per-session page cache: one region registered
 * with the fabric at session start, so a miss is one server RDMA write into
 * it. Pages are 4 KiB; random reads fetch what they ask for, sequential runs
 * start read-ahead. A page read once waits on probation and leaves first; a
 * page read again is protected, so a scan or random reads never re-read do
 * not push out what is re-read. O_DIRECT files bypass it, and so do direct
 * reads (direct_read_min) of ranges it holds none of. At open, pages of
 * a file the server says changed (its change attribute and size) are
 * dropped: close-to-open consistency. Writes go to the server and update
 * cached pages on the way. */
struct dafs_cache_stats {
	uint64_t size;          /* bytes of cache memory (0: no cache) */
	uint64_t hits;          /* pages a read found in the cache */
	uint64_t misses;        /* pages a read had to fetch */
	uint64_t fetched_bytes; /* bytes the server put in the cache for misses */
	uint64_t readahead_bytes;       /* bytes fetched ahead of sequential reads */
	uint64_t readahead_used_bytes;  /* of those, bytes of pages read since */
	uint64_t evictions;     /* pages reused for other data */
	uint64_t invalidations; /* times a file's pages were all dropped */
	uint64_t protected_pages;       /* pages now in the re-read segment */
	uint64_t write_sends;   /* pipelined WRITEs sent (with or without a cache) */
	uint64_t writes_coalesced;      /* writes that joined a buffer instead */
	/* Direct reads: large reads sent straight into the caller's buffer,
	 * registered on the fly; the registrations are kept for reuse where
	 * the transport allows (shm, tcp), a bounded number of them. */
	uint64_t direct_reads;
	uint64_t direct_bytes;          /* bytes they returned */
	uint64_t registrations;         /* buffers registered for them */
	uint64_t registrations_kept;    /* registrations held now for reuse */
	uint64_t registered_bytes;      /* bytes those cover */
};
int dafs_cache_stats(struct dafs_session *s, struct dafs_cache_stats *out);

/* A readable message for a negative return value (strerror of -rc). */
const char *dafs_strerror(int rc);

#ifdef __cplusplus
}
#endif

#endif
