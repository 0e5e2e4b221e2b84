/* test_keyfile.c — keys files (keyfile.h): lines with every option parse,
 * malformed lines and names given twice are refused with the file and line,
 * a file others may read is refused before it is read, and a client's file
 * holds exactly one key. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "check.h"
#include "keyfile.h"

#define HEX_A "00112233445566778899aabbccddeeff00112233445566778899AABBCCDDEEFF"

static char dir[] = "/tmp/test-keyfile-XXXXXX";

static const char *write_file(const char *name, mode_t mode, const char *text)
{
	static char path[256];
	int fd;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
	if (fd < 0 || write(fd, text, strlen(text)) != (ssize_t)strlen(text)) {
		perror(path);
		exit(1);
	}
	fchmod(fd, mode);
	close(fd);
	return path;
}

static int parse(const char *line, struct dafs_key *key, char *why)
{
	return dafs_key_parse_line(line, key, why, 256);
}

int main(void)
{
	struct dafs_key key;
	struct dafs_keys keys;
	char why[256];
	const char *path;

	setvbuf(stdout, NULL, _IOLBF, 0);
	if (!mkdtemp(dir))
		return 1;

	CHECK_EQ(parse("alice " HEX_A, &key, why), 1, "NAME KEY parses");
	CHECK(strcmp(key.name, "alice") == 0 && key.secret[0] == 0x00 && key.secret[1] == 0x11 &&
	      key.secret[31] == 0xff, "name and key bytes");
	CHECK(!key.read_only && !key.no_root_squash && !key.has_uid && !key.has_gid,
	      "no options: a trusted host's key, root squashed, read-write");
	CHECK_EQ(parse("  host-1.example@x\t" HEX_A " ro no_root_squash uid=1000 gid=100 # c",
		       &key, why), 1, "every option, tabs and a trailing comment");
	CHECK(key.read_only && key.no_root_squash && key.has_uid && key.uid == 1000 &&
	      key.has_gid && key.gid == 100, "options read");
	CHECK_EQ(parse("", &key, why), 0, "blank line");
	CHECK_EQ(parse("   # alice " HEX_A, &key, why), 0, "comment line");
	CHECK_EQ(parse("alice", &key, why), -EINVAL, "no key");
	CHECK(strstr(why, "no key") != NULL, "says so: %s", why);
	CHECK_EQ(parse("alice 0011", &key, why), -EINVAL, "short key");
	CHECK_EQ(parse("alice " HEX_A "00", &key, why), -EINVAL, "long key");
	CHECK_EQ(parse("alice 0g112233445566778899aabbccddeeff00112233445566778899aabbccddeeff",
		       &key, why), -EINVAL, "a key that is not hex");
	CHECK_EQ(parse("al/ice " HEX_A, &key, why), -EINVAL, "a name with a slash");
	CHECK_EQ(parse("alice " HEX_A " rw", &key, why), -EINVAL, "unknown option");
	CHECK(strstr(why, "'rw'") != NULL, "names it: %s", why);
	CHECK_EQ(parse("alice " HEX_A " uid=", &key, why), -EINVAL, "uid without a number");
	CHECK_EQ(parse("alice " HEX_A " uid=4294967295", &key, why), -EINVAL,
		 "uid -1 (chown's 'no change') is no user");
	CHECK_EQ(parse("alice " HEX_A " gid=12x", &key, why), -EINVAL, "gid with junk");

	path = write_file("keys", 0600, "# clients\nalice " HEX_A " uid=1000\n\n"
			  "bob " HEX_A " ro\n");
	CHECK_EQ(dafs_keys_load(path, &keys, why, sizeof(why)), 0, "a keys file loads");
	CHECK_EQ(keys.count, 2, "two clients");
	CHECK(dafs_keys_find(&keys, "bob") && dafs_keys_find(&keys, "bob")->read_only,
	      "found by name with its options");
	CHECK(dafs_keys_find(&keys, "carol") == NULL, "an unknown name is not found");
	dafs_keys_free(&keys);
	CHECK(keys.keys == NULL && keys.count == 0, "freed");

	path = write_file("keys-dup", 0600, "alice " HEX_A "\nalice " HEX_A "\n");
	CHECK_EQ(dafs_keys_load(path, &keys, why, sizeof(why)), -EINVAL, "a name twice");
	CHECK(strstr(why, "keys-dup:2:") != NULL, "file and line: %s", why);
	path = write_file("keys-bad", 0600, "alice " HEX_A "\nbob nothex\n");
	CHECK_EQ(dafs_keys_load(path, &keys, why, sizeof(why)), -EINVAL, "a bad line");
	CHECK(strstr(why, "keys-bad:2:") != NULL, "file and line: %s", why);
	CHECK(keys.keys == NULL && keys.count == 0, "nothing kept from a bad file");
	path = write_file("keys-open", 0640, "alice " HEX_A "\n");
	CHECK_EQ(dafs_keys_load(path, &keys, why, sizeof(why)), -EACCES,
		 "a file its group may read is refused");
	CHECK(strstr(why, "0640") != NULL && strstr(why, "chmod 600") != NULL, "says why: %s", why);
	path = write_file("keys-world", 0604, "alice " HEX_A "\n");
	CHECK_EQ(dafs_keys_load(path, &keys, why, sizeof(why)), -EACCES,
		 "a file anyone may read is refused");
	CHECK_EQ(dafs_keys_load(dir, &keys, why, sizeof(why)), -EACCES, "a directory is refused");
	CHECK_EQ(dafs_keys_load("/nonexistent/keys", &keys, why, sizeof(why)), -ENOENT,
		 "a missing file");

	path = write_file("client", 0400, "alice " HEX_A " uid=7\n");
	CHECK_EQ(dafs_key_load_client(path, &key, why, sizeof(why)), 0, "a client's key file");
	CHECK(strcmp(key.name, "alice") == 0 && key.secret[31] == 0xff, "its key");
	dafs_key_wipe(&key);
	CHECK(key.name[0] == '\0' && key.secret[31] == 0, "wiped");
	path = write_file("client-two", 0600, "alice " HEX_A "\nbob " HEX_A "\n");
	CHECK_EQ(dafs_key_load_client(path, &key, why, sizeof(why)), -EINVAL,
		 "a client's file with two keys");
	path = write_file("client-none", 0600, "# nothing\n");
	CHECK_EQ(dafs_key_load_client(path, &key, why, sizeof(why)), -EINVAL,
		 "a client's file with no key");

	char cmd[300];
	snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
	if (system(cmd) != 0)
		return 1;
	return check_done();
}
