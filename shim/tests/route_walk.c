/* route_walk.c — every path-taking call the shim wraps, called with a path
 * relative to a DAFS working directory (and, for the *at calls, relative to
 * a DAFS directory descriptor too), to prove that none reaches the local
 * file system: bats/posix_corners.bats runs it in a private mount namespace
 * whose real working directory is an empty read-only tmpfs, then checks the
 * tmpfs stayed empty. Each call is expected to succeed on DAFS (or to fail
 * with the errno DAFS gives by design); a call that went to the local
 * directory instead fails with ENOENT (nothing is there) or EROFS.
 *
 *   route_walk DAFS_DIR      (the fixture bats/posix_corners.bats makes)
 *
 * The list of calls is checked against shim/intercept.h itself: every
 * wrapped call whose parameters name a string or a socket address must have
 * a walker here or be listed as taking no path, so that a new wrapper cannot
 * be forgotten. Prints one line per call and "all ok" at the end.
 */
#include <dlfcn.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <fts.h>
#include <ftw.h>
#include <glob.h>
#include <limits.h>
#include <mntent.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/fanotify.h>
#include <sys/inotify.h>
#include <sys/mount.h>
#include <sys/quota.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/statvfs.h>
#include <sys/swap.h>
#include <sys/time.h>
#include <sys/un.h>
#include <sys/xattr.h>
#include <unistd.h>
#include <utime.h>
#include <utmp.h>
#include <utmpx.h>

#include "intercept.h"   /* shim/: FOREACH_INTERCEPT, the one list */

static int dfd;                 /* the DAFS directory "d" */
static const char *top;         /* the DAFS working directory */

/* 0 for success, else the errno; -1 calls report errno. */
#define SYS(call) ((call) < 0 ? errno : 0)

static int fd_ok(int fd)
{
	if (fd < 0)
		return errno;
	close(fd);
	return 0;
}

static int file_ok(FILE *f)
{
	if (!f)
		return errno;
	fclose(f);
	return 0;
}

static int dir_ok(DIR *d)
{
	if (!d)
		return errno;
	closedir(d);
	return 0;
}

/* A stat of a name made by an earlier call: proof it reached DAFS. */
static int exists(int dirfd, const char *name)
{
	struct stat st;

	return SYS(fstatat(dirfd, name, &st, AT_SYMLINK_NOFOLLOW));
}

#define WALK(name) static int walk_##name(void)

WALK(open) { return fd_ok(open("f", O_RDONLY)) ?: fd_ok(open("n_open", O_CREAT | O_WRONLY, 0644)); }
WALK(open64) { return fd_ok(open64("f", O_RDONLY)); }
WALK(__open_2) { return fd_ok(__open_2("f", O_RDONLY)); }
WALK(__open64_2) { return fd_ok(__open64_2("f", O_RDONLY)); }
WALK(openat) { return fd_ok(openat(AT_FDCWD, "f", O_RDONLY)) ?: fd_ok(openat(dfd, "x", O_RDONLY)); }
WALK(openat64) { return fd_ok(openat64(AT_FDCWD, "f", O_RDONLY)) ?: fd_ok(openat64(dfd, "x", O_RDONLY)); }
WALK(__openat_2) { return fd_ok(__openat_2(AT_FDCWD, "f", O_RDONLY)) ?: fd_ok(__openat_2(dfd, "x", O_RDONLY)); }
WALK(__openat64_2) { return fd_ok(__openat64_2(dfd, "x", O_RDONLY)); }
WALK(creat) { return fd_ok(creat("n_creat", 0644)) ?: exists(AT_FDCWD, "n_creat"); }
WALK(creat64) { return fd_ok(creat64("n_creat64", 0644)); }

static struct stat st;
static struct stat64 st64;
WALK(stat) { return SYS(stat("f", &st)); }
WALK(stat64) { return SYS(stat64("f", &st64)); }
WALK(lstat) { return SYS(lstat("l", &st)); }
WALK(lstat64) { return SYS(lstat64("l", &st64)); }
WALK(fstatat) { return SYS(fstatat(AT_FDCWD, "f", &st, 0)) ?: SYS(fstatat(dfd, "x", &st, 0)); }
WALK(fstatat64) { return SYS(fstatat64(AT_FDCWD, "f", &st64, 0)) ?: SYS(fstatat64(dfd, "x", &st64, 0)); }
WALK(__xstat) { return SYS(__xstat(1, "f", &st)); }
WALK(__xstat64) { return SYS(__xstat64(1, "f", &st64)); }
WALK(__lxstat) { return SYS(__lxstat(1, "l", &st)); }
WALK(__lxstat64) { return SYS(__lxstat64(1, "l", &st64)); }
WALK(__fxstatat) { return SYS(__fxstatat(1, dfd, "x", &st, 0)); }
WALK(__fxstatat64) { return SYS(__fxstatat64(1, AT_FDCWD, "f", &st64, 0)); }
WALK(statx)
{
	struct statx x;

	return SYS(statx(AT_FDCWD, "f", 0, STATX_BASIC_STATS, &x)) ?:
	       SYS(statx(dfd, "x", 0, STATX_BASIC_STATS, &x));
}
WALK(statfs) { struct statfs s; return SYS(statfs("d", &s)); }
WALK(statfs64) { struct statfs64 s; return SYS(statfs64("d", &s)); }
WALK(statvfs) { struct statvfs s; return SYS(statvfs("d", &s)); }
WALK(access) { return SYS(access("f", R_OK)); }
WALK(faccessat) { return SYS(faccessat(AT_FDCWD, "f", R_OK, 0)) ?: SYS(faccessat(dfd, "x", F_OK, 0)); }
WALK(euidaccess) { return SYS(euidaccess("f", R_OK)); }
WALK(eaccess) { return SYS(eaccess("f", R_OK)); }
WALK(chmod) { return SYS(chmod("f", 0644)); }
WALK(fchmodat) { return SYS(fchmodat(AT_FDCWD, "f", 0644, 0)) ?: SYS(fchmodat(dfd, "x", 0644, 0)); }
WALK(chown) { return SYS(chown("f", (uid_t)-1, (gid_t)-1)); }
WALK(lchown) { return SYS(lchown("l", (uid_t)-1, (gid_t)-1)); }
WALK(fchownat) { return SYS(fchownat(dfd, "x", (uid_t)-1, (gid_t)-1, 0)); }
WALK(utimensat) { return SYS(utimensat(AT_FDCWD, "f", NULL, 0)) ?: SYS(utimensat(dfd, "x", NULL, 0)); }
WALK(utimes) { return SYS(utimes("f", NULL)); }
WALK(lutimes) { return SYS(lutimes("f", NULL)); }
WALK(futimesat) { return SYS(futimesat(dfd, "x", NULL)); }
WALK(utime) { return SYS(utime("f", NULL)); }
WALK(truncate) { return SYS(truncate("t", 2)); }
WALK(truncate64) { return SYS(truncate64("t", 1)); }

WALK(unlink) { return SYS(unlink("u1")); }
WALK(remove) { return SYS(remove("u2")); }
WALK(unlinkat) { return SYS(unlinkat(AT_FDCWD, "u3", 0)) ?: SYS(unlinkat(dfd, "rd2", AT_REMOVEDIR)); }
WALK(mkdir) { return SYS(mkdir("n_mkdir", 0755)) ?: exists(AT_FDCWD, "n_mkdir"); }
WALK(mkdirat) { return SYS(mkdirat(dfd, "n_mkdirat", 0755)) ?: exists(dfd, "n_mkdirat"); }
WALK(rmdir) { return SYS(rmdir("rd1")); }
WALK(rename) { return SYS(rename("r1", "n_rename")); }
WALK(renameat) { return SYS(renameat(AT_FDCWD, "n_rename", dfd, "n_renameat")); }
WALK(renameat2) { return SYS(renameat2(dfd, "n_renameat", AT_FDCWD, "n_renameat2", RENAME_NOREPLACE)); }
WALK(link) { return SYS(link("f", "n_link")); }
WALK(linkat) { return SYS(linkat(AT_FDCWD, "f", dfd, "n_linkat", 0)); }
WALK(symlink) { return SYS(symlink("f", "n_symlink")) ?: exists(AT_FDCWD, "n_symlink"); }
WALK(symlinkat) { return SYS(symlinkat("x", dfd, "n_symlinkat")) ?: exists(dfd, "n_symlinkat"); }

static char buf[PATH_MAX];
static int link_is_f(ssize_t n)
{
	return n < 0 ? errno : n == 1 && buf[0] == 'f' ? 0 : EIO;
}
WALK(readlink) { return link_is_f(readlink("l", buf, sizeof(buf))); }
WALK(readlinkat) { return link_is_f(readlinkat(AT_FDCWD, "l", buf, sizeof(buf))); }
WALK(__readlink_chk) { return link_is_f(__readlink_chk("l", buf, 10, sizeof(buf))); }
WALK(__readlinkat_chk) { return link_is_f(__readlinkat_chk(AT_FDCWD, "l", buf, 10, sizeof(buf))); }

static int names_top_f(char *p, int must_free)
{
	char want[PATH_MAX];
	int rc;

	if (!p)
		return errno;
	snprintf(want, sizeof(want), "%s/f", top);
	rc = strcmp(p, want) == 0 ? 0 : EIO;
	if (must_free)
		free(p);
	return rc;
}
WALK(realpath) { return names_top_f(realpath("f", buf), 0); }
WALK(canonicalize_file_name) { return names_top_f(canonicalize_file_name("./d/../f"), 1); }

WALK(opendir) { return dir_ok(opendir("d")); }
static int scanned(int n, struct dirent **list)
{
	if (n < 0)
		return errno;
	while (n > 0)
		free(list[--n]);
	free(list);
	return 0;
}
WALK(scandir)
{
	struct dirent **l = NULL;
	int n = scandir("d", &l, NULL, NULL);

	return scanned(n, l);
}
WALK(scandir64)
{
	struct dirent64 **l = NULL;
	int n = scandir64("d", &l, NULL, NULL);

	return scanned(n, (struct dirent **)l);
}
WALK(scandirat)
{
	struct dirent **l = NULL;
	int n = scandirat(dfd, ".", &l, NULL, NULL);

	return scanned(n, l);
}
WALK(scandirat64)
{
	struct dirent64 **l = NULL;
	int n = scandirat64(AT_FDCWD, "d", &l, NULL, NULL);

	return scanned(n, (struct dirent **)l);
}
WALK(chdir)
{
	char want[PATH_MAX];

	if (chdir("d") < 0 || chdir("..") < 0)
		return errno;
	snprintf(want, sizeof(want), "%s", top);
	return getcwd(buf, sizeof(buf)) && strcmp(buf, want) == 0 ? 0 : EIO;
}

WALK(fopen) { return file_ok(fopen("f", "r")) ?: file_ok(fopen("n_fopen", "w")); }
WALK(fopen64) { return file_ok(fopen64("f", "r")); }
WALK(freopen)
{
	FILE *f = fopen("f", "r");

	return f ? file_ok(freopen("d/x", "r", f)) : errno;
}
WALK(freopen64)
{
	FILE *f = fopen("f", "r");

	return f ? file_ok(freopen64("f", "r", f)) : errno;
}

/* "f" has no execute bit: EACCES, as locally (a DAFS program with one runs). */
static char *const argv0[] = { "f", NULL };
WALK(execve) { return SYS(execve("f", argv0, environ)); }
WALK(execv) { return SYS(execv("d/../f", argv0)); }
WALK(execvp) { return SYS(execvp("./f", argv0)); }
WALK(execvpe) { return SYS(execvpe("./f", argv0, environ)); }
WALK(execl) { return SYS(execl("f", "f", (char *)NULL)); }
WALK(execlp) { return SYS(execlp("./f", "f", (char *)NULL)); }
WALK(execle) { return SYS(execle("f", "f", (char *)NULL, environ)); }
WALK(posix_spawn) { pid_t p; return posix_spawn(&p, "f", NULL, NULL, argv0, environ); }
WALK(posix_spawnp) { pid_t p; return posix_spawnp(&p, "./f", NULL, NULL, argv0, environ); }
/* "f" is no shared object: dlopen reads it (from DAFS) and refuses it. */
WALK(dlopen) { return dlopen("./f", RTLD_NOW) ? 0 : ENOEXEC; }
WALK(dlmopen) { return dlmopen(LM_ID_BASE, "./f", RTLD_NOW) ? 0 : ENOEXEC; }

/* The fixture's files carry no attribute: a list is empty. The set and
 * remove walkers run after these and leave none behind. */
static int none_listed(ssize_t n)
{
	return n < 0 ? errno : n == 0 ? 0 : EIO;
}
WALK(getxattr) { return SYS(getxattr("f", "user.none", buf, sizeof(buf))); }
WALK(lgetxattr) { return SYS(lgetxattr("l", "user.none", buf, sizeof(buf))); }
WALK(listxattr) { return none_listed(listxattr("f", buf, sizeof(buf))); }
WALK(llistxattr) { return none_listed(llistxattr("l", buf, sizeof(buf))); }
WALK(setxattr) { return SYS(setxattr("f", "user.walk", "v", 1, XATTR_CREATE)); }
WALK(removexattr) { return SYS(removexattr("f", "user.walk")); }
/* A symbolic link takes no user.* attribute (EPERM, as locally), so the
 * l-forms act on a directory's file, named through the directory. */
WALK(lsetxattr) { return SYS(lsetxattr("d/x", "user.walk", "v", 1, XATTR_CREATE)); }
WALK(lremovexattr) { return SYS(lremovexattr("d/x", "user.walk")); }

WALK(mknod) { return SYS(mknod("n_mknod", S_IFIFO | 0644, 0)) ?: exists(AT_FDCWD, "n_mknod"); }
WALK(mknodat) { return SYS(mknodat(dfd, "n_mknodat", S_IFIFO | 0644, 0)) ?: exists(dfd, "n_mknodat"); }
WALK(__xmknod) { dev_t d = 0; return SYS(__xmknod(0, "n_xmknod", S_IFIFO | 0644, &d)); }
WALK(__xmknodat) { dev_t d = 0; return SYS(__xmknodat(0, dfd, "n_xmknodat", S_IFIFO | 0644, &d)); }
WALK(mkfifo) { return SYS(mkfifo("n_mkfifo", 0644)) ?: exists(AT_FDCWD, "n_mkfifo"); }
WALK(mkfifoat) { return SYS(mkfifoat(dfd, "n_mkfifoat", 0644)) ?: exists(dfd, "n_mkfifoat"); }

static int unix_call(int (*call)(int, __CONST_SOCKADDR_ARG, socklen_t), const char *name)
{
	struct sockaddr_un un = { .sun_family = AF_UNIX };
	int s = socket(AF_UNIX, SOCK_STREAM, 0), rc;

	snprintf(un.sun_path, sizeof(un.sun_path), "%s", name);
	rc = SYS(call(s, (struct sockaddr *)&un, sizeof(un)));
	close(s);
	return rc;
}
WALK(bind) { return unix_call(bind, "n_sock"); }
WALK(connect) { return unix_call(connect, "sock"); }

/* The temporary-name family (wrap_glibc.c): each name is made on DAFS. */
static char tmpl[64];
static const char *template(const char *t)
{
	snprintf(tmpl, sizeof(tmpl), "%s", t);
	return tmpl;
}
WALK(mkstemp) { template("n_mkstempXXXXXX"); return fd_ok(mkstemp(tmpl)) ?: exists(AT_FDCWD, tmpl); }
WALK(mkstemp64) { template("d/n_mkstemp64XXXXXX"); return fd_ok(mkstemp64(tmpl)) ?: exists(AT_FDCWD, tmpl); }
WALK(mkostemp) { template("n_mkostempXXXXXX"); return fd_ok(mkostemp(tmpl, O_CLOEXEC)) ?: exists(AT_FDCWD, tmpl); }
WALK(mkostemp64) { template("n_mkostemp64XXXXXX"); return fd_ok(mkostemp64(tmpl, 0)) ?: exists(AT_FDCWD, tmpl); }
WALK(mkstemps) { template("n_mkstempsXXXXXX.t"); return fd_ok(mkstemps(tmpl, 2)) ?: exists(AT_FDCWD, tmpl); }
WALK(mkstemps64) { template("n_mkstemps64XXXXXX.t"); return fd_ok(mkstemps64(tmpl, 2)) ?: exists(AT_FDCWD, tmpl); }
WALK(mkostemps) { template("n_mkostempsXXXXXX.t"); return fd_ok(mkostemps(tmpl, 2, 0)) ?: exists(AT_FDCWD, tmpl); }
WALK(mkostemps64) { template("n_mkostemps64XXXXXX.t"); return fd_ok(mkostemps64(tmpl, 2, 0)) ?: exists(AT_FDCWD, tmpl); }
WALK(mkdtemp) { template("n_mkdtempXXXXXX"); return mkdtemp(tmpl) ? exists(AT_FDCWD, tmpl) : errno; }
/* mktemp only names: a name free on DAFS, and nothing made. */
WALK(mktemp)
{
	template("n_mktempXXXXXX");
	if (!*mktemp(tmpl))
		return errno;
	return exists(AT_FDCWD, tmpl) == ENOENT && strncmp(tmpl, "n_mktemp", 8) == 0 ? 0 : EIO;
}
/* tempnam's directory "d" is DAFS's (TMPDIR would come first, as in glibc). */
WALK(tempnam)
{
	char *p;
	int rc;

	unsetenv("TMPDIR");
	if (!(p = tempnam("d", "wk")))
		return errno;
	rc = strncmp(p, "d/wk", 4) == 0 && strlen(p) == 10 && exists(AT_FDCWD, p) == ENOENT ? 0 : EIO;
	free(p);
	return rc;
}
WALK(__realpath_chk) { return names_top_f(__realpath_chk("f", buf, sizeof(buf)), 0); }
WALK(statvfs64) { struct statvfs64 s; return SYS(statvfs64("d", &s)); }
WALK(pathconf)
{
	long v;

	errno = 0;
	v = pathconf("f", _PC_NAME_MAX);
	return v > 0 ? 0 : errno ? errno : EIO;
}

/* ftw, nftw and glob redone on the shim's calls: they must find d/x. */
static int saw_x;
static int ftw_fn(const char *p, const struct stat *s, int flag)
{
	saw_x |= strcmp(p, "d/x") == 0 && flag == FTW_F;
	return 0;
}
static int ftw64_fn(const char *p, const struct stat64 *s, int flag)
{
	saw_x |= strcmp(p, "d/x") == 0 && flag == FTW_F;
	return 0;
}
static int nftw_fn(const char *p, const struct stat *s, int flag, struct FTW *f)
{
	saw_x |= strcmp(p, "d/x") == 0 && flag == FTW_F && f->level == 1;
	return 0;
}
static int nftw64_fn(const char *p, const struct stat64 *s, int flag, struct FTW *f)
{
	saw_x |= strcmp(p, "d/x") == 0 && flag == FTW_F && f->level == 1;
	return 0;
}
static int found_x(int rc)
{
	int seen = saw_x;

	saw_x = 0;
	return rc < 0 ? errno : rc == 0 && seen ? 0 : EIO;
}
WALK(ftw) { return found_x(ftw("d", ftw_fn, 4)); }
WALK(ftw64) { return found_x(ftw64("d", ftw64_fn, 4)); }
WALK(nftw) { return found_x(nftw("d", nftw_fn, 4, FTW_PHYS)); }
WALK(nftw64) { return found_x(nftw64("d", nftw64_fn, 4, FTW_PHYS | FTW_DEPTH)); }
WALK(glob)
{
	glob_t g;
	int rc = glob("d/?", 0, NULL, &g);

	if (rc == 0)
		rc = g.gl_pathc == 1 && strcmp(g.gl_pathv[0], "d/x") == 0 ? 0 : EIO;
	else
		rc = rc == GLOB_NOMATCH ? ENOENT : EIO;
	globfree(&g);
	return rc;
}
WALK(glob64)
{
	glob64_t g;
	int rc = glob64("?", GLOB_ONLYDIR | GLOB_MARK, NULL, &g);

	if (rc == 0)
		rc = g.gl_pathc >= 1 && strcmp(g.gl_pathv[0], "d/") == 0 ? 0 : EIO;
	else
		rc = rc == GLOB_NOMATCH ? ENOENT : EIO;
	globfree64(&g);
	return rc;
}
/* glibc's fts is not redone: refused at fts_open. */
static char *const fts_roots[] = { "d", NULL };
WALK(fts_open) { FTS *t = fts_open(fts_roots, FTS_PHYSICAL, NULL); return t ? (fts_close(t), 0) : errno; }
WALK(fts64_open) { FTS64 *t = fts64_open(fts_roots, FTS_PHYSICAL, NULL); return t ? (fts64_close(t), 0) : errno; }
WALK(ftok) { return ftok("f", 1) == (key_t)-1 ? errno : 0; }
WALK(lchmod) { return SYS(lchmod("f", 0644)); }
WALK(setmntent) { FILE *m = setmntent("f", "r"); return m ? (endmntent(m), 0) : errno; }

/* Calls DAFS refuses (wrap_refuse.c), each with the errno it gives. A call
 * that escaped would find nothing in the empty real working directory
 * (ENOENT), or, given the descriptor -1, fail EBADF. None of them may
 * succeed: chroot, mount or utmpname would change this process. */
WALK(chroot) { return SYS(chroot("d")); }
WALK(acct) { return SYS(acct("f")); }
WALK(mount)
{
	/* the target on DAFS, then a bind mount whose source is */
	return SYS(mount("/dev/null", "d", "tmpfs", MS_RDONLY, NULL)) == EOPNOTSUPP ?
	       SYS(mount("d", "/nonexistent-walk-target", NULL, MS_BIND, NULL)) : EIO;
}
WALK(umount) { return SYS(umount("d")); }
WALK(umount2) { return SYS(umount2("d", MNT_DETACH)); }
WALK(swapon) { return SYS(swapon("f", 0)); }
WALK(swapoff) { return SYS(swapoff("f")); }
/* QCMD itself shifts a signed int past its range (UBSan says so). */
WALK(quotactl) { return SYS(quotactl((int)((unsigned)Q_GETFMT << SUBCMDSHIFT | USRQUOTA), "f", 0, buf)); }
WALK(open_tree) { return SYS(open_tree(dfd, "x", 0)) == EOPNOTSUPP ? SYS(open_tree(AT_FDCWD, "d", 0)) : EIO; }
WALK(fspick) { return SYS(fspick(dfd, "x", 0)) == EOPNOTSUPP ? SYS(fspick(AT_FDCWD, "d", 0)) : EIO; }
WALK(inotify_add_watch) { return SYS(inotify_add_watch(-1, "f", IN_MODIFY)); }
WALK(fanotify_mark)
{
	return SYS(fanotify_mark(-1, FAN_MARK_ADD, FAN_MODIFY, dfd, "x")) == EOPNOTSUPP ?
	       SYS(fanotify_mark(-1, FAN_MARK_ADD, FAN_MODIFY, AT_FDCWD, "f")) : EIO;
}
WALK(name_to_handle_at)
{
	struct { struct file_handle h; char space[MAX_HANDLE_SZ]; } fh = { .h.handle_bytes = MAX_HANDLE_SZ };
	int mount_id;

	return SYS(name_to_handle_at(dfd, "x", &fh.h, &mount_id, 0)) == EOPNOTSUPP ?
	       SYS(name_to_handle_at(AT_FDCWD, "f", &fh.h, &mount_id, 0)) : EIO;
}
WALK(utmpname) { return SYS(utmpname("f")); }
WALK(utmpxname) { return SYS(utmpxname("f")); }
/* These return the error number. */
WALK(posix_spawn_file_actions_addopen)
{
	posix_spawn_file_actions_t fa;
	int rc;

	posix_spawn_file_actions_init(&fa);
	rc = posix_spawn_file_actions_addopen(&fa, 3, "f", O_RDONLY, 0);
	posix_spawn_file_actions_destroy(&fa);
	return rc;
}
WALK(posix_spawn_file_actions_addchdir_np)
{
	posix_spawn_file_actions_t fa;
	int rc;

	posix_spawn_file_actions_init(&fa);
	rc = posix_spawn_file_actions_addchdir_np(&fa, "d");
	posix_spawn_file_actions_destroy(&fa);
	return rc;
}

/* What DAFS answers by design where a local directory would succeed. */
struct walker {
	const char *name;
	int (*walk)(void);
	int want, also;         /* the results accepted: 0 success, an errno, -1 none */
};
#define W(name) { #name, walk_##name, 0, 0 }
#define W_ERR(name, e1, e2) { #name, walk_##name, e1, e2 }
static const struct walker walkers[] = {
	W(open), W(open64), W(__open_2), W(__open64_2), W(openat), W(openat64), W(__openat_2),
	W(__openat64_2), W(creat), W(creat64),
	W(stat), W(stat64), W(lstat), W(lstat64), W(fstatat), W(fstatat64), W(__xstat),
	W(__xstat64), W(__lxstat), W(__lxstat64), W(__fxstatat), W(__fxstatat64), W(statx),
	W(statfs), W(statfs64), W(statvfs), W(access), W(faccessat), W(euidaccess), W(eaccess),
	W(chmod), W(fchmodat), W(chown), W(lchown), W(fchownat), W(utimensat), W(utimes),
	W(lutimes), W(futimesat), W(utime), W(truncate), W(truncate64),
	W(unlink), W(remove), W(unlinkat), W(mkdir), W(mkdirat), W(rmdir), W(rename),
	W(renameat), W(renameat2), W(link), W(linkat), W(symlink), W(symlinkat), W(readlink),
	W(readlinkat), W(__readlink_chk), W(__readlinkat_chk), W(realpath),
	W(canonicalize_file_name), W(opendir), W(scandir), W(scandir64), W(scandirat),
	W(scandirat64), W(chdir), W(fopen), W(fopen64), W(freopen), W(freopen64),
	W_ERR(execve, EACCES, -1), W_ERR(execv, EACCES, -1), W_ERR(execvp, EACCES, -1),
	W_ERR(execvpe, EACCES, -1), W_ERR(execl, EACCES, -1), W_ERR(execlp, EACCES, -1),
	W_ERR(execle, EACCES, -1), W_ERR(posix_spawn, EACCES, -1), W_ERR(posix_spawnp, EACCES, -1),
	W_ERR(dlopen, ENOEXEC, -1), W_ERR(dlmopen, ENOEXEC, -1),
	/* named attributes: a missing one is ENODATA, as locally */
	W_ERR(getxattr, ENODATA, -1), W_ERR(lgetxattr, ENODATA, -1),
	W(listxattr), W(llistxattr), W(setxattr), W(removexattr), W(lsetxattr), W(lremovexattr),
	W(mknod), W(mknodat), W(__xmknod), W(__xmknodat), W(mkfifo), W(mkfifoat),
	W_ERR(bind, EOPNOTSUPP, -1), W_ERR(connect, ECONNREFUSED, -1),
	W(mkstemp), W(mkstemp64), W(mkostemp), W(mkostemp64), W(mkstemps), W(mkstemps64),
	W(mkostemps), W(mkostemps64), W(mkdtemp), W(mktemp), W(tempnam), W(__realpath_chk),
	W(statvfs64), W(pathconf), W(ftw), W(ftw64), W(nftw), W(nftw64), W(glob), W(glob64),
	W_ERR(fts_open, EOPNOTSUPP, -1), W_ERR(fts64_open, EOPNOTSUPP, -1),
	W(ftok), W(lchmod), W(setmntent),
	W_ERR(chroot, EPERM, -1), W_ERR(acct, EOPNOTSUPP, -1), W_ERR(mount, EOPNOTSUPP, -1),
	W_ERR(umount, EINVAL, -1), W_ERR(umount2, EINVAL, -1), W_ERR(swapon, EINVAL, -1),
	W_ERR(swapoff, EINVAL, -1), W_ERR(quotactl, EOPNOTSUPP, -1),
	W_ERR(open_tree, EOPNOTSUPP, -1), W_ERR(fspick, EOPNOTSUPP, -1),
	W_ERR(inotify_add_watch, EOPNOTSUPP, -1), W_ERR(fanotify_mark, EOPNOTSUPP, -1),
	W_ERR(name_to_handle_at, EOPNOTSUPP, -1), W_ERR(utmpname, EOPNOTSUPP, -1),
	W_ERR(utmpxname, EOPNOTSUPP, -1), W_ERR(posix_spawn_file_actions_addopen, EOPNOTSUPP, -1),
	W_ERR(posix_spawn_file_actions_addchdir_np, EOPNOTSUPP, -1),
};

/* Wrapped calls whose parameters hold a string or socket address that is
 * not a path: attribute names of a descriptor's file, stdio modes, shell
 * commands, format strings, a user name. */
static const char *const not_paths[] = {
	"fgetxattr", "fsetxattr", "fremovexattr", "fdopen", "system", "popen",
	"dprintf", "vdprintf", "__dprintf_chk", "__vdprintf_chk", "initgroups",
};

struct wrapped {
	const char *name, *params;
};
#define WRAPPED(ret, name, params) { #name, #params },
static const struct wrapped wrapped[] = { FOREACH_INTERCEPT(WRAPPED) };

/* A path is a const char *, or a template the call fills in (mkstemp...),
 * or fts_open's list of roots. */
static int takes_path(const char *params)
{
	return strstr(params, "const char *") || strstr(params, "SOCKADDR") ||
	       strstr(params, "char *tmpl") || strstr(params, "char *const *argv");
}

static int listed(const char *name)
{
	for (size_t i = 0; i < sizeof(walkers) / sizeof(walkers[0]); i++)
		if (strcmp(walkers[i].name, name) == 0)
			return 1;
	for (size_t i = 0; i < sizeof(not_paths) / sizeof(not_paths[0]); i++)
		if (strcmp(not_paths[i], name) == 0)
			return 1;
	return 0;
}

static int in_table(const char *name)
{
	for (size_t i = 0; i < sizeof(wrapped) / sizeof(wrapped[0]); i++)
		if (strcmp(wrapped[i].name, name) == 0)
			return 1;
	return 0;
}

int main(int argc, char **argv)
{
	int bad = 0;

	if (argc != 2) {
		fprintf(stderr, "usage: route_walk DAFS_DIR\n");
		return 2;
	}
	top = argv[1];
	for (size_t i = 0; i < sizeof(wrapped) / sizeof(wrapped[0]); i++) {
		if (takes_path(wrapped[i].params) && !listed(wrapped[i].name)) {
			printf("unwalked: %s %s\n", wrapped[i].name, wrapped[i].params);
			bad++;
		}
	}
	for (size_t i = 0; i < sizeof(walkers) / sizeof(walkers[0]); i++) {
		if (!in_table(walkers[i].name)) {
			printf("not wrapped: %s\n", walkers[i].name);
			bad++;
		}
	}
	if (chdir(top) < 0 || (dfd = open("d", O_RDONLY | O_DIRECTORY)) < 0) {
		printf("setup: %s\n", strerror(errno));
		return 1;
	}
	for (size_t i = 0; i < sizeof(walkers) / sizeof(walkers[0]); i++) {
		const struct walker *w = &walkers[i];
		int rc = w->walk();
		int ok = rc == w->want || rc == w->also;

		printf("%s: %s%s\n", w->name, rc ? strerror(rc) : "ok", ok ? "" : "  <- unexpected");
		bad += !ok;
	}
	printf("%zu calls walked, %d unexpected\n", sizeof(walkers) / sizeof(walkers[0]), bad);
	if (!bad)
		printf("all ok\n");
	return bad != 0;
}
