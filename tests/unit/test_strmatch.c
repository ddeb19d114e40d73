/* Globs matched in place (against fnmatch(3) as the reference, over random patterns and
 * subjects) and prefix/suffix tries (against a plain loop). */
#include <ctype.h>
#include <fnmatch.h>
#include <stdlib.h>

#include "strmatch.h"
#include "testlib.h"

static bool ref_glob(const char *p, const char *s, bool fold)
{
	char lp[256], ls[256];
	size_t i;

	for (i = 0; p[i] && i < sizeof(lp) - 1; i++)
		lp[i] = fold ? (char)tolower((unsigned char)p[i]) : p[i];
	lp[i] = 0;
	for (i = 0; s[i] && i < sizeof(ls) - 1; i++)
		ls[i] = fold ? (char)tolower((unsigned char)s[i]) : s[i];
	ls[i] = 0;
	return fnmatch(lp, ls, 0) == 0;
}

static bool glob(const char *p, const char *s, bool fold)
{
	return glob_match_n(p, strlen(p), s, strlen(s), fold);
}

TEST(glob_examples)
{
	CHECK(glob("/etc/*", "/etc/passwd", false));
	CHECK(glob("/etc/*", "/etc/ssh/sshd_config", false)); /* '*' crosses '/' */
	CHECK(!glob("/etc/?", "/etc/ab", false));
	CHECK(glob("*.[ch]", "vm.c", false));
	CHECK(!glob("*.[!ch]", "vm.c", false));
	CHECK(glob("*.[!ch]", "vm.o", false));
	CHECK(glob("[a-c]x", "bx", false));
	CHECK(glob("a\\*b", "a*b", false));
	CHECK(!glob("a\\*b", "axb", false));
	CHECK(glob("[]]", "]", false));
	CHECK(glob("[", "[", false)); /* unclosed bracket: a plain '[' */
	CHECK(glob("*SHADOW*", "/etc/shadow", true));
	CHECK(!glob("*SHADOW*", "/etc/shadow", false));
	CHECK(glob("", "", false));
	CHECK(!glob("", "x", false));
	CHECK(glob("*", "", false));
	CHECK(glob("**a**b**", "xxaxxbxx", false));
	CHECK(glob("[[:digit:]]*", "7up", false)); /* classes go to fnmatch */
	/* subjects are not NUL-terminated: only len counts */
	CHECK(glob_match_n("ab", 2, "abc", 2, false));
	CHECK(!glob_match_n("a*", 2, "a\0b", 3, false));
}

TEST(glob_agrees_with_fnmatch)
{
	static const char alpha[] = "ab/*?[]!-\\Ac.";
	unsigned long seed = 12345, differ = 0;
	char p[12], s[12];

	for (int n = 0; n < 300000; n++) {
		size_t pl, sl;
		bool fold = n & 1;

		seed = seed * 6364136223846793005ul + 1442695040888963407ul;
		pl = (seed >> 33) % 9;
		sl = (seed >> 40) % 9;
		for (size_t i = 0; i < pl; i++) {
			seed = seed * 6364136223846793005ul + 1442695040888963407ul;
			p[i] = alpha[(seed >> 35) % (sizeof(alpha) - 1)];
		}
		p[pl] = 0;
		for (size_t i = 0; i < sl; i++) {
			seed = seed * 6364136223846793005ul + 1442695040888963407ul;
			s[i] = "ab/c.A-"[(seed >> 35) % 7];
		}
		s[sl] = 0;
		if (glob(p, s, fold) != ref_glob(p, s, fold) && differ++ < 10)
			printf("# pattern '%s' subject '%s' fold %d: %d, fnmatch %d\n", p, s, fold,
			       glob(p, s, fold), ref_glob(p, s, fold));
	}
	CHECK_EQ_INT(differ, 0);
}

static bool ref_prefix(const char *const *items, size_t n, const char *s, bool suffix)
{
	size_t sl = strlen(s);

	for (size_t i = 0; i < n; i++) {
		size_t il = strlen(items[i]);

		if (il <= sl && !memcmp(suffix ? s + sl - il : s, items[i], il))
			return true;
	}
	return false;
}

TEST(tries_agree_with_loops)
{
	static const char *const items[] = {"/etc/", "/etc/ssh", "/root/.ssh/", "/usr/bin/",
					    "/u",	"/bin/sh",  "x"};
	static const char *const subjects[] = {
	    "/etc/passwd", "/etc", "/etc/ssh", "/root/.ssh/id_rsa", "/usr/lib", "/u", "", "x",
	    "/bin/sh", "/bin/bash", "yx", "/var/tmp", "/root/.ss", "/etcx"};
	size_t n = sizeof(items) / sizeof(items[0]);
	size_t lens[16];
	struct trie *pre, *suf, *empty;
	const char *none[1] = {""};
	size_t zero = 0;

	for (size_t i = 0; i < n; i++)
		lens[i] = strlen(items[i]);
	pre = trie_build(items, lens, n, false);
	suf = trie_build(items, lens, n, true);
	CHECK(pre && suf);
	if (!pre || !suf)
		return;
	for (size_t i = 0; i < sizeof(subjects) / sizeof(subjects[0]); i++) {
		const char *s = subjects[i];

		if (trie_match(pre, s, strlen(s)) != ref_prefix(items, n, s, false)) {
			printf("# prefix of '%s' disagrees\n", s);
			CHECK(0);
		}
		if (trie_match(suf, s, strlen(s)) != ref_prefix(items, n, s, true)) {
			printf("# suffix of '%s' disagrees\n", s);
			CHECK(0);
		}
	}
	/* an empty item matches everything */
	empty = trie_build(none, &zero, 1, false);
	CHECK(empty && trie_match(empty, "anything", 8) && trie_match(empty, "", 0));
	trie_free(empty);
	trie_free(pre);
	trie_free(suf);
}

TEST(contains_agrees_with_memmem)
{
	static const char alpha[] = "ab/.";
	unsigned long seed = 99, differ = 0;
	char h[16], n[6];

	for (int k = 0; k < 200000; k++) {
		size_t hl, nl;

		seed = seed * 6364136223846793005ul + 1442695040888963407ul;
		hl = (seed >> 33) % 15;
		nl = (seed >> 40) % 6;
		for (size_t i = 0; i < hl; i++) {
			seed = seed * 6364136223846793005ul + 1442695040888963407ul;
			h[i] = alpha[(seed >> 35) % 4];
		}
		for (size_t i = 0; i < nl; i++) {
			seed = seed * 6364136223846793005ul + 1442695040888963407ul;
			n[i] = alpha[(seed >> 35) % 4];
		}
		if (str_contains(h, hl, n, nl) != (nl == 0 || memmem(h, hl, n, nl) != NULL))
			differ++;
	}
	CHECK_EQ_INT(differ, 0);
	CHECK(str_contains("/etc/shadow", 11, "shadow", 6));
	CHECK(!str_contains("/etc/shado", 10, "shadow", 6));
	CHECK(str_contains("x", 1, "", 0));
}

int main(void)
{
	RUN(glob_examples);
	RUN(glob_agrees_with_fnmatch);
	RUN(tries_agree_with_loops);
	RUN(contains_agrees_with_memmem);
	return tap_done();
}
