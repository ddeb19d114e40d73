/* Users and groups from a root directory's etc/passwd and etc/group: parsing, hostile lines,
 * reload on change at most once a second. */
#include <stdlib.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "testlib.h"
#include "users.h"

static char root[] = "/tmp/saker-users-XXXXXX";

static void write_at(const char *rel, const char *text, size_t len)
{
	char p[256];
	FILE *f;

	snprintf(p, sizeof(p), "%s%s", root, rel);
	f = fopen(p, "w");
	if (f) {
		fwrite(text, 1, len, f);
		fclose(f);
	}
}

#define WRITE(rel, lit) write_at(rel, lit, sizeof(lit) - 1)

static void setup(void)
{
	char p[256];

	if (!mkdtemp(root))
		abort();
	snprintf(p, sizeof(p), "%s/etc", root);
	mkdir(p, 0755);
	WRITE("/etc/passwd", "root:x:0:0:root:/root:/bin/bash\n"
			     "# a comment\n"
			     "\n"
			     "daemon:x:1:1:daemon:/usr/sbin:/usr/sbin/nologin\n"
			     "+nisuser::::::\n"
			     "bad:x:notanumber:1::/:/bin/sh\n"
			     "short:x:5\n"
			     "toolong:x:6:6:a:b:c:d:e\n"
			     "huge:x:99999999999:1::/:/bin/sh\n"
			     "minus1:x:4294967295:1::/:/bin/sh\n"
			     "alice:x:1000:1000:Alice,,,:/home/alice:/bin/zsh\n"
			     "alice2:x:1000:1000::/home/alice2:/bin/sh\n"
			     "weird\xff\n:x:1001:1001::/h:/s\n"
			     "nl:x:1002:1002::/home/a b:/bin/sh\r\n"
			     "last:x:1003:1003::/home/last:/bin/sh");
	WRITE("/etc/group", "root:x:0:\n"
			    "adm:x:4:alice,bob\n"
			    "bad:x:-4:\n"
			    "users:x:100:\n"
			    "dup:x:100:\n");
}

TEST(parse)
{
	struct users *u = users_new(root);
	const struct user_entry *e;

	CHECK(u != NULL);
	e = users_by_uid(u, 0);
	CHECK(e != NULL);
	if (e) {
		CHECK_EQ_STR(e->name, "root");
		CHECK_EQ_STR(e->home, "/root");
		CHECK_EQ_STR(e->shell, "/bin/bash");
		CHECK_EQ_INT(e->gid, 0);
	}
	e = users_by_uid(u, 1000);
	CHECK(e && !strcmp(e->name, "alice") && !strcmp(e->shell, "/bin/zsh")); /* first wins */
	CHECK(users_by_uid(u, 5) == NULL);
	CHECK(users_by_uid(u, 6) == NULL);
	CHECK(users_by_uid(u, 4294967295u) == NULL);
	CHECK(users_by_uid(u, 12345) == NULL);
	/* The line break inside the name splits it: neither half is a valid entry. */
	CHECK(users_by_uid(u, 1001) == NULL);
	e = users_by_uid(u, 1002);
	CHECK(e && !strcmp(e->home, "/home/a b") && !strcmp(e->shell, "/bin/sh\r"));
	e = users_by_uid(u, 1003); /* no final newline */
	CHECK(e && !strcmp(e->name, "last"));
	CHECK_EQ_STR(users_group_name(u, 0), "root");
	CHECK_EQ_STR(users_group_name(u, 4), "adm");
	CHECK_EQ_STR(users_group_name(u, 100), "users");
	CHECK(users_group_name(u, 5) == NULL);
	CHECK_EQ_INT(users_stats(u)->users, 6);
	CHECK_EQ_INT(users_stats(u)->groups, 4);
	CHECK(users_stats(u)->bad_lines >= 7);
	users_free(u);
}

TEST(reload_on_change_at_most_once_a_second)
{
	struct users *u = users_new(root);
	uint64_t t0 = 1000000000000ull;

	CHECK_EQ_INT(users_stats(u)->loads, 0);
	users_refresh_at(u, t0); /* nothing read before a lookup */
	CHECK_EQ_INT(users_stats(u)->loads, 0);
	CHECK(users_by_uid(u, 1003) != NULL);
	CHECK_EQ_INT(users_stats(u)->loads, 1);
	users_refresh_at(u, t0);
	WRITE("/etc/passwd",
	      "root:x:0:0:root:/root:/bin/sh\nnewbie:x:2000:2000::/home/n:/bin/sh\n");
	users_refresh_at(u, t0 + 500000000ull); /* within the second: not checked */
	CHECK(users_by_uid(u, 2000) == NULL);
	users_refresh_at(u, t0 + 1000000000ull);
	CHECK_EQ_INT(users_stats(u)->loads, 2);
	CHECK(users_by_uid(u, 2000) != NULL);
	CHECK(users_by_uid(u, 1003) == NULL);
	CHECK_EQ_STR(users_by_uid(u, 0)->shell, "/bin/sh");
	/* Unchanged: no reload. */
	users_refresh_at(u, t0 + 5000000000ull);
	CHECK_EQ_INT(users_stats(u)->loads, 2);
	/* Removed: everything unknown, and back again. */
	write_at("/etc/passwd", "", 0);
	{
		char p[256];

		snprintf(p, sizeof(p), "%s/etc/passwd", root);
		unlink(p);
	}
	users_refresh_at(u, t0 + 7000000000ull);
	CHECK(users_by_uid(u, 0) == NULL);
	CHECK_EQ_STR(users_group_name(u, 4), "adm");
	WRITE("/etc/passwd", "root:x:0:0:root:/root:/bin/bash\n");
	users_refresh_at(u, t0 + 9000000000ull);
	CHECK(users_by_uid(u, 0) != NULL);
	users_free(u);
}

TEST(root_setter)
{
	struct users *u = users_new(NULL);
	char p[300];

	CHECK_EQ_STR(users_root(u), "/");
	/* The real /etc/passwd has root (it may not exist in a minimal container). */
	if (!access("/etc/passwd", R_OK))
		CHECK(users_by_uid(u, 0) != NULL);
	snprintf(p, sizeof(p), "%s///", root);
	CHECK_EQ_INT(users_set_root(u, p), 0);
	CHECK_EQ_STR(users_root(u), root);
	CHECK_EQ_STR(users_by_uid(u, 0)->shell, "/bin/bash");
	CHECK_EQ_INT(users_set_root(u, "/nonexistent-root"), 0);
	CHECK(users_by_uid(u, 0) == NULL);
	CHECK(users_group_name(u, 0) == NULL);
	users_free(u);
}

TEST(binary_garbage)
{
	/* NUL bytes and random bytes do not crash the parser. */
	char buf[4096];
	unsigned seed = 3;
	struct users *u;

	for (size_t i = 0; i < sizeof(buf); i++) {
		static const char alpha[] = ":\n0123456789ab\0\xff";

		buf[i] = alpha[(seed = seed * 1103515245 + 12345) >> 16 & 15];
	}
	write_at("/etc/passwd", buf, sizeof(buf));
	write_at("/etc/group", buf, sizeof(buf));
	u = users_new(root);
	for (uint32_t id = 0; id < 100; id++) {
		const struct user_entry *e = users_by_uid(u, id);

		if (e)
			CHECK(e->name && e->home && e->shell && e->uid == id);
		users_group_name(u, id);
	}
	users_free(u);
}

int main(void)
{
	char cmd[300];

	setup();
	RUN(parse);
	RUN(reload_on_change_at_most_once_a_second);
	RUN(root_setter);
	RUN(binary_garbage);
	snprintf(cmd, sizeof(cmd), "rm -rf %s", root);
	if (system(cmd))
		return 1;
	return tap_done();
}
