/* special_files.c — fifo, device and socket inodes made with every form of
 * mknod and mkfifo in the working directory (relative names, and through a
 * directory descriptor), then stat, chmod, chown, link, rename, utimensat
 * and unlink on them, printing what it saw so that a run in a local
 * directory and one in a DAFS directory under the shim compare line by line.
 * Needs root (device nodes). The output names no paths. Ends with the
 * nodes "fifo", "chr2", "blk", "sock", "reg" and "xfifo" left in place.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

/* glibc 2.36 still exports the pre-2.33 forms, no longer declared. */
int __xmknod(int ver, const char *path, mode_t mode, dev_t *dev);
int __xmknodat(int ver, int dirfd, const char *path, mode_t mode, dev_t *dev);

static void said(const char *what, int rc)
{
	printf("%s: %s\n", what, rc < 0 ? strerror(errno) : "ok");
}

static void show(const char *name)
{
	struct stat st;

	if (lstat(name, &st) < 0) {
		printf("stat %s: %s\n", name, strerror(errno));
		return;
	}
	printf("stat %s: type %06o mode %04o nlink %lu rdev %u:%u size %lld\n", name,
	       (unsigned)(st.st_mode & S_IFMT), (unsigned)(st.st_mode & 07777),
	       (unsigned long)st.st_nlink, major(st.st_rdev), minor(st.st_rdev),
	       (long long)st.st_size);
}

int main(void)
{
	dev_t dev = makedev(1, 3);
	struct timespec ts[2] = { { 1000000000, 5 }, { 1200000000, 7 } };
	struct stat st;
	int dfd;

	umask(022);
	said("mkfifo fifo 0666", mkfifo("fifo", 0666));
	said("mkfifo fifo again", mkfifo("fifo", 0666));
	said("mknod chr", mknod("chr", S_IFCHR | 0640, makedev(1, 3)));
	said("mknod blk", mknod("blk", S_IFBLK | 0600, makedev(7, 200)));
	said("mknod sock", mknod("sock", S_IFSOCK | 0777, 0));
	said("mknod reg (type 0)", mknod("reg", 0644, 0));
	said("mknod reg again", mknod("reg", S_IFREG | 0644, 0));
	said("mknod dir", mknod("dir", S_IFDIR | 0755, 0));
	said("mknod bad type", mknod("bad", 0170000 | 0644, 0));
	said("mknod in a missing dir", mknod("missing/fifo", S_IFIFO | 0644, 0));
	said("__xmknod xfifo", __xmknod(0, "xfifo", S_IFIFO | 0600, &dev));
	said("__xmknod version 1", __xmknod(1, "xfifo1", S_IFIFO | 0600, &dev));
	dfd = open(".", O_RDONLY | O_DIRECTORY);
	said("open .", dfd);
	said("mknodat fifo2", mknodat(dfd, "fifo2", S_IFIFO | 0600, 0));
	said("mkfifoat fifo3", mkfifoat(dfd, "fifo3", 0604));
	said("__xmknodat chr3", __xmknodat(0, dfd, "chr3", S_IFCHR | 0600, &dev));
	show("fifo");
	show("chr");
	show("blk");
	show("sock");
	show("reg");
	show("xfifo");
	show("fifo2");
	show("fifo3");
	show("chr3");

	said("chmod fifo 0600", chmod("fifo", 0600));
	said("fchmodat chr 0604", fchmodat(dfd, "chr", 0604, 0));
	said("chown fifo to its owner", chown("fifo", getuid(), getgid()));
	said("lchown sock to its owner", lchown("sock", (uid_t)-1, getgid()));
	said("link fifo fifo.link", link("fifo", "fifo.link"));
	said("rename chr chr2", rename("chr", "chr2"));
	said("renameat fifo2 over fifo3", renameat(dfd, "fifo2", dfd, "fifo3"));
	said("utimensat fifo", utimensat(AT_FDCWD, "fifo", ts, 0));
	if (stat("fifo", &st) == 0)
		printf("fifo times: atime %lld.%09ld mtime %lld.%09ld\n",
		       (long long)st.st_atim.tv_sec, st.st_atim.tv_nsec,
		       (long long)st.st_mtim.tv_sec, st.st_mtim.tv_nsec);
	show("fifo");
	show("fifo.link");
	show("chr2");
	show("chr");
	said("access fifo R_OK", access("fifo", R_OK));
	said("unlink fifo.link", unlink("fifo.link"));
	said("unlinkat fifo3", unlinkat(dfd, "fifo3", 0));
	said("unlink chr3", unlink("chr3"));
	show("fifo");
	show("fifo3");
	close(dfd);
	return 0;
}
