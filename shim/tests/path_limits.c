/* path_limits.c — the kernel's path limits are per argument: below a deep
 * working directory a relative path of PATH_MAX - 1 bytes works for
 * create, stat, truncate, rename and unlink (and through a directory
 * descriptor), one of PATH_MAX bytes fails with ENAMETOOLONG, a component
 * of NAME_MAX bytes works and one of NAME_MAX + 1 fails. Prints what it
 * saw, naming no paths, so that a run in a local directory and one in a
 * DAFS directory under the shim compare line by line; removes the long
 * relative tree again (diff -r cannot walk it) and leaves the deep one.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define LEVELS_DEEP 15          /* the working directory: 15 x 201 bytes down */
#define LEVELS_REL 20           /* the relative path: 20 x 201 bytes, then a name */

static char comp[201];          /* a 200-byte directory name */
static char rel[PATH_MAX + 2], rel2[PATH_MAX + 2];

static void said(const char *what, int rc)
{
	printf("%s: %s\n", what, rc < 0 ? strerror(errno) : "ok");
}

/* rel = LEVELS_REL directories and a last name of `c`, `total` bytes long. */
static void make_rel(char *out, char c, size_t total)
{
	size_t len = 0;

	for (int i = 0; i < LEVELS_REL; i++)
		len += (size_t)sprintf(out + len, "%s/", comp);
	memset(out + len, c, total - len);
	out[total] = '\0';
}

static void show_size(const char *what, const char *path)
{
	struct stat st;

	if (stat(path, &st) < 0)
		printf("%s: %s\n", what, strerror(errno));
	else
		printf("%s: size %lld\n", what, (long long)st.st_size);
}

int main(void)
{
	char name[NAME_MAX + 2], sub[PATH_MAX];
	struct stat st;
	size_t len = 0;
	int fd, dfd;

	memset(comp, 'd', 200);
	for (int i = 0; i < LEVELS_DEEP; i++) {
		if (mkdir(comp, 0755) < 0 || chdir(comp) < 0) {
			printf("deep cwd: %s\n", strerror(errno));
			return 1;
		}
	}
	for (int i = 0; i < LEVELS_REL; i++) {
		len += (size_t)snprintf(sub + len, sizeof(sub) - len, "%s%s", i ? "/" : "", comp);
		if (mkdir(sub, 0755) < 0) {
			printf("relative tree: %s\n", strerror(errno));
			return 1;
		}
	}

	make_rel(rel, 'f', PATH_MAX - 1);
	make_rel(rel2, 'g', PATH_MAX - 1);
	printf("relative path of %zu bytes\n", strlen(rel));
	fd = open(rel, O_WRONLY | O_CREAT | O_EXCL, 0644);
	said("create", fd);
	if (fd >= 0) {
		said("write", (int)write(fd, "0123456789", 10));
		close(fd);
	}
	show_size("stat", rel);
	said("truncate", truncate(rel, 4));
	show_size("stat after truncate", rel);
	said("rename", rename(rel, rel2));
	show_size("stat old name", rel);
	show_size("stat new name", rel2);
	dfd = open(".", O_RDONLY | O_DIRECTORY);
	said("fstatat through a directory descriptor", fstatat(dfd, rel2, &st, 0));
	said("renameat back", renameat(dfd, rel2, dfd, rel));
	said("unlink", unlink(rel));
	show_size("stat after unlink", rel);

	make_rel(rel, 'f', PATH_MAX);
	printf("relative path of %zu bytes\n", strlen(rel));
	said("create", open(rel, O_WRONLY | O_CREAT, 0644));
	said("stat", stat(rel, &st));
	said("fstatat", fstatat(dfd, rel, &st, 0));
	said("truncate", truncate(rel, 0));
	said("mkdir", mkdir(rel, 0755));
	said("rename to it", rename("missing", rel));
	said("unlink", unlink(rel));

	memset(name, 'n', NAME_MAX);
	name[NAME_MAX] = '\0';
	said("create a NAME_MAX name", fd = open(name, O_WRONLY | O_CREAT | O_EXCL, 0644));
	if (fd >= 0)
		close(fd);
	said("stat it", stat(name, &st));
	said("unlink it", unlink(name));
	name[NAME_MAX] = 'n';
	name[NAME_MAX + 1] = '\0';
	said("create a NAME_MAX + 1 name", open(name, O_WRONLY | O_CREAT, 0644));
	said("stat it", stat(name, &st));
	said("mkdir it", mkdir(name, 0755));
	snprintf(sub, sizeof(sub), "%s/x", name);
	said("stat a path through it", stat(sub, &st));

	for (int i = LEVELS_REL; i > 0; i--) {
		len = 0;
		for (int j = 0; j < i; j++)
			len += (size_t)snprintf(sub + len, sizeof(sub) - len, "%s%s", j ? "/" : "", comp);
		if (rmdir(sub) < 0)
			printf("cleanup: %s\n", strerror(errno));
	}
	close(dfd);
	return 0;
}
