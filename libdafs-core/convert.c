/* convert.c — translations between POSIX and the wire: a reply's status as
 * an errno, attributes as struct stat, open(2) flags, utimensat's times. */
#include <errno.h>
#include <string.h>

#include "client.h"

int client_errno_of(struct dafs_reply *rep, unsigned i)
{
	if (i >= rep->nres)
		return -EPROTO;
	return rep->res[i].status ? -rep->res[i].status : 0;
}

void client_stat_from_attr(struct stat *st, const struct dafs_attr *a)
{
	memset(st, 0, sizeof(*st));
	st->st_dev = a->dev;
	st->st_ino = a->ino;
	st->st_mode = a->mode;
	st->st_nlink = a->nlink;
	st->st_uid = a->uid;
	st->st_gid = a->gid;
	st->st_rdev = a->rdev;
	st->st_size = (off_t)a->size;
	st->st_blocks = (blkcnt_t)a->blocks;
	st->st_blksize = a->blksize;
	st->st_atim = (struct timespec){ a->atime.sec, a->atime.nsec };
	st->st_mtim = (struct timespec){ a->mtime.sec, a->mtime.nsec };
	st->st_ctim = (struct timespec){ a->ctime.sec, a->ctime.nsec };
}

uint32_t client_open_flags(int flags)
{
	uint32_t w = (flags & O_ACCMODE) == O_WRONLY ? DAFS_O_WRONLY :
		     (flags & O_ACCMODE) == O_RDWR ? DAFS_O_RDWR : DAFS_O_RDONLY;

	/* O_TMPFILE carries O_DIRECTORY's bit: the wire keeps them apart. */
	if ((flags & O_TMPFILE) == O_TMPFILE) {
		w |= DAFS_O_TMPFILE;
		flags &= ~O_TMPFILE;
	}
	w |= flags & O_CREAT ? DAFS_O_CREAT : 0;
	w |= flags & O_EXCL ? DAFS_O_EXCL : 0;
	w |= flags & O_TRUNC ? DAFS_O_TRUNC : 0;
	w |= flags & O_APPEND ? DAFS_O_APPEND : 0;
	w |= flags & O_DIRECTORY ? DAFS_O_DIRECTORY : 0;
	w |= flags & O_NOFOLLOW ? DAFS_O_NOFOLLOW : 0;
	w |= flags & O_DIRECT ? DAFS_O_DIRECT : 0;
	w |= (flags & O_SYNC) == O_SYNC ? DAFS_O_SYNC : 0;
	w |= flags & O_NOATIME ? DAFS_O_NOATIME : 0;
	return w;
}

int client_times(struct dafs_args_setattr *a, const struct timespec times[2])
{
	static const uint32_t set[2] = { DAFS_SET_ATIME, DAFS_SET_MTIME };
	static const uint32_t now[2] = { DAFS_SET_ATIME_NOW, DAFS_SET_MTIME_NOW };
	struct dafs_time *t[2] = { &a->atime, &a->mtime };

	for (int i = 0; i < 2; i++) {
		if (!times || times[i].tv_nsec == UTIME_NOW) {
			a->mask |= now[i];
		} else if (times[i].tv_nsec != UTIME_OMIT) {
			if (times[i].tv_nsec < 0 || times[i].tv_nsec >= 1000000000)
				return -EINVAL;
			a->mask |= set[i];
			*t[i] = (struct dafs_time){ times[i].tv_sec, (uint32_t)times[i].tv_nsec };
		}
	}
	return 0;
}

void client_owner(struct dafs_args_setattr *a, uid_t uid, gid_t gid)
{
	if (uid != (uid_t)-1) {
		a->mask |= DAFS_SET_UID;
		a->uid = uid;
	}
	if (gid != (gid_t)-1) {
		a->mask |= DAFS_SET_GID;
		a->gid = gid;
	}
}
