/* test_admin.c — dafsctl's command lines as the server parses them
 * (admin.c) and the admission accounting (admission.c): options, sessions
 * per client, fences, open files, regions, memory per session and the
 * descriptor budget, with the errno each limit gives. */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <unistd.h>

#include "check.h"
#include "admin.h"
#include "admission.h"

static void test_parse(void)
{
	struct admin_request r;
	char why[256];

	CHECK_EQ(admin_parse("sessions", &r, why, sizeof(why)), 0, "sessions parses");
	CHECK_EQ(r.verb, ADMIN_SESSIONS, "as ADMIN_SESSIONS");
	CHECK_EQ(admin_parse("reload", &r, why, sizeof(why)), 0, "reload parses");
	CHECK_EQ(r.verb, ADMIN_RELOAD, "as ADMIN_RELOAD");
	CHECK_EQ(admin_parse("fence host-1.example@x", &r, why, sizeof(why)), 0, "fence NAME parses");
	CHECK(r.verb == ADMIN_FENCE && strcmp(r.name, "host-1.example@x") == 0, "with its name");
	CHECK_EQ(admin_parse("unfence a", &r, why, sizeof(why)), 0, "unfence NAME parses");
	CHECK(r.verb == ADMIN_UNFENCE && strcmp(r.name, "a") == 0, "with its name");
	CHECK_EQ(admin_parse("evict 00ab00cd00ef0012", &r, why, sizeof(why)), 0, "evict ID parses");
	CHECK(r.verb == ADMIN_EVICT && r.session == 0x00ab00cd00ef0012ull, "the id is hex");

	CHECK_EQ(admin_parse("", &r, why, sizeof(why)), -EINVAL, "an empty line is refused");
	CHECK_EQ(admin_parse("shutdown", &r, why, sizeof(why)), -EINVAL, "an unknown verb is refused");
	CHECK(strstr(why, "unknown command") != NULL, "and says so: %s", why);
	CHECK_EQ(admin_parse("sessions all", &r, why, sizeof(why)), -EINVAL,
		 "sessions takes no argument");
	CHECK_EQ(admin_parse("fence", &r, why, sizeof(why)), -EINVAL, "fence needs a name");
	CHECK_EQ(admin_parse("fence a b", &r, why, sizeof(why)), -EINVAL, "fence takes one name");
	CHECK_EQ(admin_parse("fence a/b", &r, why, sizeof(why)), -EINVAL,
		 "a name with a character keys cannot have is refused");
	char longname[80];
	memset(longname, 'n', sizeof(longname));
	memcpy(longname, "fence ", 6);
	longname[6 + DAFS_KEY_NAME_MAX + 1] = '\0';
	CHECK_EQ(admin_parse(longname, &r, why, sizeof(why)), -EINVAL, "a name too long is refused");
	longname[6 + DAFS_KEY_NAME_MAX] = '\0';
	CHECK_EQ(admin_parse(longname, &r, why, sizeof(why)), 0, "the longest name is taken");
	CHECK_EQ(admin_parse("evict 0", &r, why, sizeof(why)), -EINVAL, "session 0 does not exist");
	CHECK_EQ(admin_parse("evict xyz", &r, why, sizeof(why)), -EINVAL, "evict needs hex");
	CHECK_EQ(admin_parse("evict 10000000000000000", &r, why, sizeof(why)), -EINVAL,
		 "more than 64 bits is refused");
	CHECK_EQ(admin_parse("evict 12 34", &r, why, sizeof(why)), -EINVAL, "evict takes one id");
}

static void test_options(void)
{
	struct admission a;

	admission_init(&a);
	CHECK_EQ(a.lim.sessions_per_client, 256, "default sessions per client");
	CHECK_EQ(a.lim.open_files, 4096, "default open files");
	CHECK_EQ(a.lim.regions, 4096, "default regions");
	CHECK_EQ(a.lim.session_memory, 16u << 20, "default session memory");
	CHECK(a.lim.fd_budget > 0 && a.lim.fd_budget < 1u << 30, "a descriptor budget is set");
	CHECK_EQ(admission_set_option(&a, "max-open-files", "10"), 0, "--max-open-files 10");
	CHECK_EQ(a.lim.open_files, 10, "taken");
	CHECK_EQ(admission_set_option(&a, "max-session-memory", "2M"), 0, "a size with a suffix");
	CHECK_EQ(a.lim.session_memory, 2u << 20, "2M is 2 MiB");
	CHECK_EQ(admission_set_option(&a, "max-session-memory", "300k"), 0, "k suffix");
	CHECK_EQ(a.lim.session_memory, 300u << 10, "300k is 300 KiB");
	CHECK_EQ(admission_set_option(&a, "max-open-files", "0"), -EINVAL, "zero is refused");
	CHECK_EQ(admission_set_option(&a, "max-open-files", "-1"), -EINVAL, "negative is refused");
	CHECK_EQ(admission_set_option(&a, "max-open-files", "10x"), -EINVAL, "garbage is refused");
	CHECK_EQ(admission_set_option(&a, "max-open-files", "1M"), -EINVAL,
		 "counts take no suffix");
	CHECK_EQ(admission_set_option(&a, "max-open-files", "99999999"), -EINVAL,
		 "more files than a session's table holds is refused");
	CHECK_EQ(admission_set_option(&a, "max-regions", "5000"), -EINVAL,
		 "more regions than a session's table holds is refused");
	CHECK_EQ(admission_set_option(&a, "max-session-memory", "99999999999999999999"), -EINVAL,
		 "an overflowing size is refused");
	CHECK_EQ(admission_set_option(&a, "max-things", "1"), -ENOENT, "an unknown limit");
	CHECK_EQ(a.lim.open_files, 10, "refused values leave the limit alone");
	admission_fini(&a);
}

static void test_sessions_and_fences(void)
{
	struct admission a;
	unsigned credits = 32;

	admission_init(&a);
	admission_set_option(&a, "max-sessions-per-client", "2");
	CHECK_EQ(admission_session_open(&a, "alice", &credits), 0, "alice's first session");
	CHECK_EQ(admission_session_open(&a, "alice", &credits), 0, "alice's second session");
	CHECK_EQ(admission_session_open(&a, "alice", &credits), -EUSERS, "a third is EUSERS");
	CHECK_EQ(admission_session_open(&a, "bob", &credits), 0, "bob counts apart");
	admission_session_close(&a, "alice");
	CHECK_EQ(admission_session_open(&a, "alice", &credits), 0, "a closed session frees a place");

	CHECK(!admission_is_fenced(&a, "alice"), "not fenced yet");
	CHECK_EQ(admission_fence(&a, "alice"), 0, "fence alice");
	CHECK(admission_is_fenced(&a, "alice"), "fenced");
	CHECK_EQ(admission_fence(&a, "alice"), 0, "fencing twice is fine");
	credits = 32;
	CHECK_EQ(admission_session_open(&a, "alice", &credits), -EKEYREVOKED,
		 "a fenced client's new session is EKEYREVOKED");
	CHECK_EQ(admission_session_open(&a, "bob", &credits), 0, "others are not fenced");
	CHECK_EQ(admission_fence(&a, "carol"), 0, "a name with no session can be fenced");
	CHECK_EQ(admission_session_open(&a, "carol", &credits), -EKEYREVOKED, "and is refused");
	CHECK_EQ(admission_unfence(&a, "alice"), 0, "unfence alice");
	CHECK_EQ(admission_unfence(&a, "alice"), -ENOENT, "unfencing twice is ENOENT");
	CHECK_EQ(admission_unfence(&a, "dave"), -ENOENT, "unfencing a stranger is ENOENT");
	/* alice still has two sessions counted: the fence did not lose them. */
	CHECK_EQ(admission_session_open(&a, "alice", &credits), -EUSERS,
		 "alice's sessions are still counted after fence and unfence");
	admission_session_close(&a, "alice");
	admission_session_close(&a, "alice");
	CHECK_EQ(admission_session_open(&a, "alice", &credits), 0, "alice may open again");
	admission_fini(&a);
}

static void test_memory_credits(void)
{
	struct admission a;
	unsigned credits;
	size_t slot = sizeof(struct slot) + DAFS_MSG_MAX;

	admission_init(&a);
	credits = 32;
	CHECK_EQ(admission_session_open(&a, "m", &credits), 0, "16 MiB holds 32 slots");
	CHECK_EQ(credits, 32, "credits kept");
	a.lim.session_memory = sizeof(struct session) + 4 * slot + 100;
	credits = 32;
	CHECK_EQ(admission_session_open(&a, "m", &credits), 0, "a small limit still opens");
	CHECK_EQ(credits, 4, "with the credits that fit");
	a.lim.session_memory = sizeof(struct session) + slot - 1;
	credits = 32;
	CHECK_EQ(admission_session_open(&a, "m", &credits), -ENOMEM, "not one slot fits: ENOMEM");
	admission_fini(&a);
}

static void test_files_regions(void)
{
	struct admission a;
	struct session *s = session_create(7, 0, 1);
	unsigned base = session_open_fds();
	uint64_t fh[40];
	int rc = 0, i;

	admission_init(&a);
	admission_set_option(&a, "max-open-files", "3");
	for (i = 0; i < 4 && (rc = admission_open_file(&a, s)) == 0; i++)
		session_handle_add(s, open("/dev/null", O_RDONLY), DAFS_O_RDONLY, false, 1, 1,
				   &fh[i]);
	CHECK_EQ(i, 3, "three files open");
	CHECK_EQ(rc, -EMFILE, "the fourth is EMFILE");
	CHECK_EQ(s->nopen, 3, "the session counts them");
	CHECK_EQ(session_open_fds(), base + 3, "and so does the server");
	session_handle_close(s, fh[1], NULL);
	CHECK_EQ(admission_open_file(&a, s), 0, "a closed file frees a place");
	CHECK_EQ(session_open_fds(), base + 2, "the server's count follows a close");

	/* The server-wide budget. */
	a.lim.fd_budget = base + 2;
	CHECK_EQ(admission_open_file(&a, s), -ENFILE, "the server's budget spent: ENFILE");
	a.lim.fd_budget = 1u << 20;
	session_close_handles(s);
	CHECK_EQ(s->nopen, 0, "closing all handles uncounts them");
	CHECK_EQ(session_open_fds(), base, "in the server's count too");

	/* Memory: the handle table (16 entries now, all free) may not grow
	 * beyond the limit: 8 more entries' worth of room is less than its
	 * next growth (16 more). */
	CHECK_EQ(s->handles_cap, 16, "the table has its first 16 entries");
	a.lim.open_files = 4096;
	a.lim.session_memory = admission_session_memory(s) + 8 * sizeof(struct handle);
	for (i = 0; i < 40 && (rc = admission_open_file(&a, s)) == 0; i++)
		session_handle_add(s, open("/dev/null", O_RDONLY), DAFS_O_RDONLY, false, 1, 1,
				   &fh[i]);
	CHECK_EQ(rc, -ENOMEM, "a table that would outgrow the memory limit is ENOMEM");
	CHECK_EQ(i, 16, "after the 16 entries the table has");
	CHECK(admission_session_memory(s) <= a.lim.session_memory, "the limit held");

	/* Regions. */
	a.lim.session_memory = 16u << 20;
	admission_set_option(&a, "max-regions", "2");
	CHECK_EQ(admission_add_region(&a, s), 0, "first region");
	session_region_add(s, 0x1000, 4096, 1);
	CHECK_EQ(admission_add_region(&a, s), 0, "second region");
	session_region_add(s, 0x2000, 4096, 2);
	CHECK_EQ(admission_add_region(&a, s), -ENOSPC, "the third is ENOSPC");
	session_region_remove(s, 0x1000, 4096, 1);
	CHECK_EQ(admission_add_region(&a, s), 0, "a removed region frees a place");
	admission_set_option(&a, "max-regions", "100");
	a.lim.session_memory = admission_session_memory(s);
	session_region_add(s, 0x3000, 4096, 3);   /* fills the first 8 slots... */
	for (i = 0; s->nregions < s->regions_cap; i++)
		session_region_add(s, 0x10000 + (uint64_t)i * 4096, 4096, 10 + (uint64_t)i);
	CHECK_EQ(admission_add_region(&a, s), -ENOMEM,
		 "a region table that would outgrow the memory limit is ENOMEM");
	session_destroy(s);
	CHECK_EQ(session_open_fds(), base, "a destroyed session leaves nothing counted");
	admission_fini(&a);
}

static void test_addresses(void)
{
	struct sockaddr_in in = { .sin_family = AF_INET, .sin_port = htons(7700) };
	struct sockaddr_in6 in6 = { .sin6_family = AF_INET6, .sin6_port = htons(80) };
	const char shm[] = "dafs-12-ab\x01\0junk";
	char out[64];

	inet_pton(AF_INET, "127.0.0.2", &in.sin_addr);
	admin_format_addr(&in, sizeof(in), out, sizeof(out));
	CHECK(strcmp(out, "127.0.0.2:7700") == 0, "IPv4 address and port: %s", out);
	inet_pton(AF_INET6, "::1", &in6.sin6_addr);
	admin_format_addr(&in6, sizeof(in6), out, sizeof(out));
	CHECK(strcmp(out, "[::1]:80") == 0, "IPv6 address and port: %s", out);
	admin_format_addr(shm, sizeof(shm), out, sizeof(out));
	CHECK(strcmp(out, "dafs-12-ab?") == 0, "a name up to its end, unprintables as ?: %s", out);
	admin_format_addr(shm, sizeof(shm), out, 5);
	CHECK(strcmp(out, "dafs") == 0, "cut to the room there is");
}

int main(void)
{
	test_parse();
	test_options();
	test_sessions_and_fences();
	test_memory_credits();
	test_files_regions();
	test_addresses();
	return check_done();
}
