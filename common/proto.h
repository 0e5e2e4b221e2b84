/* proto.h — the DAFS wire format, defined once for client and server.
 *
 * Every message is a fixed 32-byte little-endian header followed by a body.
 * A request body is a compound: a count and that many operations, each with
 * its own opcode and length, run in order by the server (NFSv4 COMPOUND). A
 * single call is a compound of one; "chaining" (lookup -> open -> read) passes
 * DAFS_FH_CURRENT to use the handle the previous operation produced; batch I/O
 * is a compound of reads and writes sent with DAFS_HF_CONTINUE so that one
 * failure does not stop the rest. The reply carries one result per operation
 * that ran.
 *
 * Decoding is strict: every length, count, offset and enum is checked against
 * the bytes present and the limits below before anything is used, and a frame
 * that fails any check is rejected whole. Strings and inline data in decoded
 * structs point into the caller's buffer (zero copy), so the buffer must
 * outlive the decoded struct. Status values are Linux errno numbers.
 */
#ifndef DAFS_PROTO_H
#define DAFS_PROTO_H

#include <errno.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define DAFS_MAGIC          0x53464144u   /* "DAFS" read as little-endian */
/* 2: every request carries the caller's credentials; 3: sealed frames
 * (DAFS_HF_MAC) and the keyed SESSION_OPEN (auth.h); 4: resuming a
 * session (CONNECT's and SESSION_OPEN's `resume`), REOPEN, and a granted
 * LOCK's `broken` */
#define DAFS_VERSION        4
#define DAFS_HDR_SIZE       32

/* Limits a peer may rely on and the decoder enforces. */
#define DAFS_MSG_MAX        (64 * 1024 + 4096)  /* one message, header included */
#define DAFS_INLINE_MAX     (32 * 1024)         /* data carried in a message */
#define DAFS_IO_MAX         (4u << 20)          /* one read or write operation */
#define DAFS_COMPOUND_MAX   64                  /* operations in one request */
#define DAFS_SEGS_MAX       16                  /* segments of one direct transfer */
/* A path from the export root, NUL included: a relative path of PATH_MAX
 * joined onto a deep working directory is longer than PATH_MAX, which the
 * kernel checks per argument, not per file (the server walks such a path in
 * pieces). */
#define DAFS_PATH_MAX       (2 * 4096)
#define DAFS_NAME_MAX       255
#define DAFS_ADDR_MAX       256                 /* a fabric endpoint name */
#define DAFS_AUTH_MAX       256
#define DAFS_SLOTS_MAX      256
#define DAFS_GROUPS_MAX     32                  /* supplementary groups in a request */

/* Header flags. */
#define DAFS_HF_REPLY       0x0001  /* this is a reply */
#define DAFS_HF_NOSLOT      0x0002  /* not in the slot table: NULL/ping, CONNECT */
#define DAFS_HF_CONTINUE    0x0004  /* batch: keep running after a failed op */
/* Sealed: a MAC trailer (auth.h) follows the body, outside body_len. The
 * decoders take a sealed frame only after dafs_mac_open checked it and
 * cleared this bit; dafs_decode_hdr reads its header with the trailer. */
#define DAFS_HF_MAC         0x0008
#define DAFS_HF_RING        0x0010  /* ring the client's doorbell with the reply (wait.h) */
#define DAFS_HF_ALL         0x001f

/* A request's status (the header's) for a session the server does not
 * know: it restarted, or the session ended. Only a PING gets it. */
#define DAFS_STATUS_NO_SESSION  EBADSLT

/* Handles. Open files and looked-up objects live in the server's per-session
 * handle table; 0 is the export's root directory. */
#define DAFS_FH_ROOT        UINT64_C(0)
#define DAFS_FH_CURRENT     UINT64_MAX      /* the previous op's handle (chaining) */

enum dafs_opcode {
	DAFS_OP_NULL = 0,       /* ping and lease renewal; no arguments */
	DAFS_OP_CONNECT,        /* to the listening address: which endpoint serves me */
	DAFS_OP_SESSION_OPEN,
	DAFS_OP_SESSION_CLOSE,
	DAFS_OP_OPEN,
	DAFS_OP_CLOSE,
	DAFS_OP_LOOKUP,
	DAFS_OP_GETATTR,
	DAFS_OP_SETATTR,
	DAFS_OP_READ,
	DAFS_OP_WRITE,
	DAFS_OP_COMMIT,
	DAFS_OP_READDIR,
	DAFS_OP_MKDIR,
	DAFS_OP_RMDIR,
	DAFS_OP_REMOVE,
	DAFS_OP_RENAME,
	DAFS_OP_LINK,
	DAFS_OP_SYMLINK,
	DAFS_OP_READLINK,
	DAFS_OP_STATFS,
	DAFS_OP_LOCK,
	DAFS_OP_UNLOCK,
	DAFS_OP_LOCKT,
	DAFS_OP_HINT,
	DAFS_OP_REGISTER,       /* client memory the server may transfer to and from */
	DAFS_OP_UNREGISTER,
	DAFS_OP_ALLOCATE,       /* fallocate(2): reserve, punch or zero a range */
	DAFS_OP_MKNOD,          /* a fifo, device or socket inode (mknod(2)) */
	/* Named attributes (extended attributes): see struct dafs_args_xattr. */
	DAFS_OP_GETXATTR,
	DAFS_OP_SETXATTR,
	DAFS_OP_LISTXATTR,
	DAFS_OP_REMOVEXATTR,
	/* A file the client had open in a session the server lost (it
	 * restarted), opened again at the same handle: struct dafs_args_reopen. */
	DAFS_OP_REOPEN,
	/* A silent client's NULL, with its address (struct dafs_args_connect's
	 * addr, resume 0): a server that does not know the session (it
	 * restarted) answers it with DAFS_STATUS_NO_SESSION, so that the client
	 * resumes at once instead of waiting out its timeout. */
	DAFS_OP_PING,
	DAFS_OP_COUNT
};

/* Open flags on the wire (independent of the host's O_* values). */
#define DAFS_O_RDONLY     0x0000
#define DAFS_O_WRONLY     0x0001
#define DAFS_O_RDWR       0x0002
#define DAFS_O_ACCMODE    0x0003
#define DAFS_O_CREAT      0x0010
#define DAFS_O_EXCL       0x0020
#define DAFS_O_TRUNC      0x0040
#define DAFS_O_APPEND     0x0080
#define DAFS_O_DIRECTORY  0x0100
#define DAFS_O_NOFOLLOW   0x0200
#define DAFS_O_DIRECT     0x0400
#define DAFS_O_SYNC       0x0800
/* An unnamed file in the directory `path` names (O_TMPFILE): written with
 * WRONLY or RDWR, without CREAT or DIRECTORY; with EXCL it can never be
 * given a name. LINK of the handle (path1 "") names it. */
#define DAFS_O_TMPFILE    0x1000
/* O_NOATIME: the kernel allows it to the file's owner only (EPERM), as it
 * judges the caller whose credentials the request carries. */
#define DAFS_O_NOATIME    0x2000
#define DAFS_O_ALL        0x3ff3

/* Lookup/getattr flags. */
#define DAFS_L_NOFOLLOW   0x0001
#define DAFS_L_TRANSIENT  0x0002  /* LOOKUP: the handle is closed when the request ends */
#define DAFS_L_ALL        0x0003

/* Setattr mask. */
#define DAFS_SET_SIZE       0x01
#define DAFS_SET_MODE       0x02
#define DAFS_SET_ATIME      0x04
#define DAFS_SET_MTIME      0x08
#define DAFS_SET_ATIME_NOW  0x10
#define DAFS_SET_MTIME_NOW  0x20
#define DAFS_SET_UID        0x40   /* owner, as chown(2) */
#define DAFS_SET_GID        0x80
#define DAFS_SET_ALL        0xff

/* Rename flags. */
#define DAFS_RENAME_NOREPLACE 0x1
#define DAFS_RENAME_EXCHANGE  0x2

/* Commit flags. */
#define DAFS_COMMIT_DATASYNC  0x1

/* Lock types (as fcntl's, but fixed on the wire). */
#define DAFS_LOCK_READ    1
#define DAFS_LOCK_WRITE   2
#define DAFS_LOCK_NONE    3   /* LOCKT answer: no conflict */

/* The lock owner bit of flock(2) locks: dafs.h's DAFS_LOCK_OWNER_FLOCK says
 * what it means; it is passed through to the server as is. */
#define DAFS_WIRE_LOCK_OWNER_FLOCK (1ULL << 63)

/* Cache hints. */
#define DAFS_HINT_WILLNEED   1
#define DAFS_HINT_DONTNEED   2
#define DAFS_HINT_SEQUENTIAL 3
#define DAFS_HINT_RANDOM     4

/* Allocate modes (fallocate(2)'s, fixed on the wire). Only the combinations
 * the decoder accepts exist: 0, KEEP_SIZE, PUNCH_HOLE|KEEP_SIZE, ZERO_RANGE,
 * ZERO_RANGE|KEEP_SIZE. */
#define DAFS_ALLOC_KEEP_SIZE  0x1
#define DAFS_ALLOC_PUNCH_HOLE 0x2
#define DAFS_ALLOC_ZERO_RANGE 0x4

/* Named attributes: the limits are Linux's (XATTR_NAME_MAX, XATTR_SIZE_MAX,
 * XATTR_LIST_MAX), so that whatever the server's file system can hold
 * travels in one message: a value or a list fits DAFS_MSG_MAX with its
 * name, but not beside a path near DAFS_PATH_MAX (the library's limit,
 * dafs.h). SETXATTR's flags are DAFS_L_NOFOLLOW and at most these. */
#define DAFS_XATTR_NAME_MAX  255
#define DAFS_XATTR_SIZE_MAX  65536
#define DAFS_XATTR_LIST_MAX  65536
#define DAFS_XATTR_CREATE    0x10   /* as XATTR_CREATE: fail if it exists */
#define DAFS_XATTR_REPLACE   0x20   /* as XATTR_REPLACE: fail if it does not */

/* File types in attributes and directory entries (as DT_*). */
#define DAFS_TYPE_UNKNOWN 0
#define DAFS_TYPE_FIFO    1
#define DAFS_TYPE_CHR     2
#define DAFS_TYPE_DIR     4
#define DAFS_TYPE_BLK     6
#define DAFS_TYPE_REG     8
#define DAFS_TYPE_LNK     10
#define DAFS_TYPE_SOCK    12

struct dafs_hdr {
	uint32_t magic;
	uint16_t version;
	uint16_t flags;
	uint16_t slot;
	uint16_t credits;    /* request: credits wanted; reply: credits granted */
	uint32_t seq;
	int32_t status;      /* reply: 0, or why the whole request was refused */
	uint32_t body_len;
	uint64_t session;
};

struct dafs_time {
	int64_t sec;
	uint32_t nsec;
};

struct dafs_attr {
	uint64_t dev, ino;
	uint32_t mode;       /* type and permission bits, as st_mode */
	uint32_t nlink, uid, gid;
	uint64_t rdev, size, blocks;
	uint32_t blksize;
	struct dafs_time atime, mtime, ctime;
	uint64_t change;     /* changes whenever data or metadata change */
};

/* A piece of the client's registered memory that the server transfers to or from. */
struct dafs_seg {
	uint64_t addr;
	uint64_t key;
	uint32_t len;
};

/* Resuming a session (a client that lost the server: libdafs-core's
 * recover.c): CONNECT names the worker that holds the session `resume`,
 * and SESSION_OPEN with `resume` takes it over (`resumed` 1: slots, reply
 * cache and handles as they were), or, when the server no longer has it
 * (it restarted), opens a new session of that id (`resumed` 0), whose
 * slots take any first sequence number, into which the client REOPENs its
 * files and sends its unanswered requests again. */
struct dafs_args_connect {
	const void *addr;          /* the client endpoint's fabric name */
	uint32_t addr_len;
	uint64_t resume;           /* a session id, or 0 */
};

struct dafs_args_session_open {
	uint32_t pid, uid, gid;
	const char *name;          /* the client's own description: host, program */
	const void *addr;          /* the client endpoint's fabric name */
	uint32_t addr_len;
	uint16_t auth_method;      /* DAFS_AUTH_NONE or DAFS_AUTH_KEY (auth.h) */
	const void *auth;
	uint32_t auth_len;
	uint64_t resume;           /* a session id, or 0 (see dafs_args_connect) */
};

struct dafs_args_open {        /* OPEN; also LOOKUP and GETATTR by path */
	uint64_t dir;
	const char *path;          /* "" means `dir` itself */
	uint32_t flags;            /* DAFS_O_* for OPEN, DAFS_L_* otherwise */
	uint32_t mode;
};

/* REOPEN: `path` (from the root) opened with `flags` (DAFS_O_*, neither
 * CREAT, EXCL, TRUNC nor TMPFILE) at handle `fh`, when it is still the
 * file (dev, ino) the client had open; ESTALE when it is another. */
struct dafs_args_reopen {
	uint64_t fh;
	const char *path;
	uint32_t flags;
	uint64_t dev, ino;
};

struct dafs_args_fh {          /* CLOSE, STATFS */
	uint64_t fh;
};

struct dafs_args_setattr {
	uint64_t fh;
	const char *path;
	uint32_t flags;            /* DAFS_L_* */
	uint32_t mask;             /* DAFS_SET_* */
	uint64_t size;
	uint32_t mode;
	struct dafs_time atime, mtime;
	uint32_t uid, gid;         /* with DAFS_SET_UID, DAFS_SET_GID */
};

struct dafs_args_io {          /* READ and WRITE */
	uint64_t fh;
	uint64_t offset;
	uint32_t len;
	uint16_t nsegs;            /* 0: data inline (write) or wanted inline (read) */
	struct dafs_seg segs[DAFS_SEGS_MAX];
	const void *data;          /* WRITE inline: len bytes */
};

struct dafs_args_commit {
	uint64_t fh;
	uint32_t flags;
};

struct dafs_args_readdir {
	uint64_t fh;               /* an open directory */
	uint64_t cookie;           /* 0 to start; then an entry's cookie */
	uint32_t max_bytes;        /* of encoded entries in the reply */
};

struct dafs_args_path {        /* MKDIR, RMDIR, REMOVE, READLINK */
	uint64_t dir;
	const char *path;
	uint32_t mode;
};

/* LINK with path1 "" links the file handle dir1 is (an O_TMPFILE file, or
 * one whose other names are gone), as linkat(fd, "", AT_EMPTY_PATH) does. */
struct dafs_args_two_paths {   /* RENAME, LINK, SYMLINK (path1 = link text) */
	uint64_t dir1;
	const char *path1;
	uint64_t dir2;
	const char *path2;
	uint32_t flags;
};

struct dafs_args_lock {        /* LOCK, UNLOCK, LOCKT */
	uint64_t fh;
	uint64_t owner;            /* the client's lock owner: a process or open file */
	uint64_t start, len;       /* len 0: to the end of the file and beyond */
	uint32_t pid;
	uint8_t type;              /* DAFS_LOCK_READ / WRITE */
};

struct dafs_args_hint {
	uint64_t fh, offset, len;
	uint32_t advice;
};

struct dafs_args_allocate {   /* ALLOCATE */
	uint64_t fh, offset, len;  /* len >= 1; offset + len <= INT64_MAX */
	uint32_t mode;             /* DAFS_ALLOC_* */
};

/* MKNOD: creates the inode only, as NFS's MKNOD; opening a fifo or device
 * is the client's matter. The type bits are st_mode's (Linux values, as in
 * struct dafs_attr) and only these four: regular files come from OPEN with
 * DAFS_O_CREAT, directories from MKDIR. */
#define DAFS_MKNOD_FIFO   0010000u
#define DAFS_MKNOD_CHR    0020000u
#define DAFS_MKNOD_BLK    0060000u
#define DAFS_MKNOD_SOCK   0140000u
#define DAFS_MKNOD_TYPE   0170000u

struct dafs_args_mknod {
	uint64_t dir;
	const char *path;
	uint32_t mode;             /* one DAFS_MKNOD_* type | permission bits */
	uint64_t rdev;             /* the device number (Linux dev_t); 0 unless CHR/BLK */
};

struct dafs_args_region {     /* REGISTER, UNREGISTER */
	uint64_t addr, len, key;   /* as segments name them */
};

struct dafs_args_xattr {       /* GETXATTR, SETXATTR, LISTXATTR, REMOVEXATTR */
	uint64_t fh;               /* the object when path is "", else where path starts */
	const char *path;
	uint32_t flags;            /* DAFS_L_NOFOLLOW; SETXATTR: DAFS_XATTR_CREATE/REPLACE too */
	const char *name;          /* not LISTXATTR: 1..DAFS_XATTR_NAME_MAX bytes */
	uint32_t size;             /* GETXATTR, LISTXATTR: room the caller has; 0 asks
				      for the size alone (as getxattr(2)) */
	const void *value;         /* SETXATTR: value_len bytes */
	uint32_t value_len;
};

struct dafs_op {
	uint16_t opcode;
	union {
		struct dafs_args_connect connect;
		struct dafs_args_session_open session_open;
		struct dafs_args_open open;
		struct dafs_args_reopen reopen;
		struct dafs_args_fh fh;
		struct dafs_args_setattr setattr;
		struct dafs_args_io io;
		struct dafs_args_commit commit;
		struct dafs_args_readdir readdir;
		struct dafs_args_path path;
		struct dafs_args_two_paths two;
		struct dafs_args_lock lock;
		struct dafs_args_hint hint;
		struct dafs_args_region region;
		struct dafs_args_allocate allocate;
		struct dafs_args_mknod mknod;
		struct dafs_args_xattr xattr;
	} a;
};

/* Who a request acts for: the caller's filesystem uid and gid and its
 * supplementary groups (the first DAFS_GROUPS_MAX of them), as asserted by
 * the client. The server decides what it believes (server/creds.c) and runs
 * the operations with the result, so the kernel's permission checks apply.
 * On the wire at the start of every request body: uid, gid, u16 ngroups,
 * u16 zero, ngroups u32. */
struct dafs_cred {
	uint32_t uid, gid;
	uint16_t ngroups;
	uint32_t groups[DAFS_GROUPS_MAX];
};

struct dafs_compound {
	struct dafs_hdr hdr;
	struct dafs_cred cred;
	uint16_t nops;
	struct dafs_op ops[DAFS_COMPOUND_MAX];
};

struct dafs_res_connect {
	const void *addr;          /* the endpoint that will serve this client */
	uint32_t addr_len;
	const void *nonce;         /* challenge for authentication; empty when none */
	uint32_t nonce_len;
};

struct dafs_res_session_open {
	uint64_t session;
	uint32_t credits;          /* slots granted: requests in flight */
	uint32_t lease_ms;         /* renew (any request) within this, or locks go */
	uint32_t msg_max, inline_max, io_max;
	const void *auth;          /* DAFS_AUTH_KEY: the server's proof (auth.h); else empty */
	uint32_t auth_len;
	uint8_t resumed;           /* 1: the session `resume` named, as it was */
};

struct dafs_res_handle {       /* OPEN, LOOKUP, REOPEN */
	uint64_t fh;
	struct dafs_attr attr;
};

struct dafs_res_attr {         /* GETATTR, SETATTR, MKDIR, SYMLINK, LINK, MKNOD */
	struct dafs_attr attr;
};

struct dafs_res_read {
	uint32_t count;
	uint8_t eof;
	const void *data;          /* inline reads: count bytes */
};

struct dafs_res_write {
	uint32_t count;
	uint64_t offset;           /* where the data went (matters for append) */
	uint64_t size;             /* the file's size afterwards */
};

struct dafs_res_readdir {
	uint32_t count;
	uint8_t eof;
	const void *entries;       /* walk with dafs_dirent_next() */
	uint32_t entries_len;
};

struct dafs_res_readlink {
	const char *target;
};

struct dafs_res_statfs {
	uint64_t bsize, frsize, blocks, bfree, bavail, files, ffree, favail;
	uint32_t namemax;
};

struct dafs_res_lock {         /* LOCK refused with EAGAIN, LOCKT */
	uint8_t type;              /* the conflicting lock's; DAFS_LOCK_NONE if none */
	uint64_t start, len;
	uint32_t pid;
	/* A granted LOCK carries this alone: 1 when the range overlapped locks
	 * whose holder's session ended without letting them go (dafs.h's
	 * DAFS_LOCK_BROKEN), else 0. */
	uint8_t broken;
};

struct dafs_res_xattr {        /* GETXATTR, LISTXATTR */
	uint32_t size;             /* the value's (list's) length, as getxattr(2) returns */
	const void *value;         /* size bytes; none when the caller asked for the size */
	uint32_t value_len;        /* 0 or size; a list ends with a NUL */
};

struct dafs_result {
	uint16_t opcode;
	int32_t status;            /* 0 or an errno; the body is empty unless 0,
				      except for LOCK's conflict */
	union {
		struct dafs_res_connect connect;
		struct dafs_res_session_open session_open;
		struct dafs_res_handle handle;
		struct dafs_res_attr attr;
		struct dafs_res_read read;
		struct dafs_res_write write;
		struct dafs_res_readdir readdir;
		struct dafs_res_readlink readlink;
		struct dafs_res_statfs statfs;
		struct dafs_res_lock lock;
		struct dafs_res_xattr xattr;
	} r;
};

struct dafs_reply {
	struct dafs_hdr hdr;
	uint16_t nres;
	struct dafs_result res[DAFS_COMPOUND_MAX];
};

struct dafs_dirent {
	uint64_t ino;
	uint64_t cookie;           /* pass to READDIR to continue after this entry */
	uint8_t type;              /* DAFS_TYPE_* */
	const char *name;          /* NUL-terminated, inside the reply buffer */
};

/* Encoders fill in hdr.magic, version and body_len and return the frame's
 * length, or -EMSGSIZE when it does not fit `cap`, -EINVAL for arguments the
 * decoder would refuse (so a bug shows at the sender). */
int dafs_encode_request(void *buf, size_t cap, struct dafs_compound *req);
int dafs_encode_reply(void *buf, size_t cap, struct dafs_reply *rep);

/* Decoders return 0, or: -EBADMSG malformed (short, bad magic, lengths past
 * the end, trailing bytes, bad string, bad enum), -EPROTONOSUPPORT wrong
 * version, -EOPNOTSUPP unknown opcode, -E2BIG a count or length over a limit. */
int dafs_decode_hdr(const void *buf, size_t len, struct dafs_hdr *hdr);
int dafs_decode_request(const void *buf, size_t len, struct dafs_compound *req);
int dafs_decode_reply(const void *buf, size_t len, struct dafs_reply *rep);

/* Directory entries: the server appends, the client walks. put returns the
 * new length or -EMSGSIZE; next returns 1 with *ent filled, 0 at the end,
 * -EBADMSG on a malformed entry. */
int dafs_dirent_put(void *buf, size_t cap, size_t pos, const struct dafs_dirent *ent);
int dafs_dirent_next(const void *entries, size_t len, size_t *pos, struct dafs_dirent *ent);

const char *dafs_opcode_name(unsigned opcode);

#endif
