/* Path joining and normalisation, and the directory/file split, with hostile inputs. */
#include <stdlib.h>

#include "pathutil.h"
#include "testlib.h"

static struct strbuf sb = STRBUF_INIT;

static const char *res(const char *base, const char *path)
{
	sb_reset(&sb);
	path_resolve(&sb, base, path, strlen(path));
	return sb.buf;
}

TEST(absolute)
{
	CHECK_EQ_STR(res(NULL, "/etc/passwd"), "/etc/passwd");
	CHECK_EQ_STR(res("/home/u", "/etc/passwd"), "/etc/passwd");
	CHECK_EQ_STR(res(NULL, "/"), "/");
	CHECK_EQ_STR(res(NULL, "//"), "/");
	CHECK_EQ_STR(res(NULL, "///etc///passwd//"), "/etc/passwd");
	CHECK_EQ_STR(res(NULL, "/etc/./passwd/."), "/etc/passwd");
	CHECK_EQ_STR(res(NULL, "/a/b/../c"), "/a/c");
	CHECK_EQ_STR(res(NULL, "/a/b/../../../../c"), "/c");
	CHECK_EQ_STR(res(NULL, "/.."), "/");
	CHECK_EQ_STR(res(NULL, "/../.."), "/");
	CHECK_EQ_STR(res(NULL, "/a/.."), "/");
	CHECK_EQ_STR(res(NULL, "/..."), "/...");
	CHECK_EQ_STR(res(NULL, "/a/..b/.c"), "/a/..b/.c");
}

TEST(relative_to_base)
{
	CHECK_EQ_STR(res("/home/u", "notes.txt"), "/home/u/notes.txt");
	CHECK_EQ_STR(res("/home/u/", "./x/../y"), "/home/u/y");
	CHECK_EQ_STR(res("/home/u", "../../../etc/shadow"), "/etc/shadow");
	CHECK_EQ_STR(res("/", "etc"), "/etc");
	CHECK_EQ_STR(res("/home/u", ""), "/home/u");
	CHECK_EQ_STR(res("/home/u", "."), "/home/u");
	CHECK_EQ_STR(res("/", ".."), "/");
	/* A base that is not normalised is normalised too. */
	CHECK_EQ_STR(res("/a//b/./c/..", "d"), "/a/b/d");
}

TEST(relative_without_base)
{
	CHECK_EQ_STR(res(NULL, "a/b"), "a/b");
	CHECK_EQ_STR(res(NULL, "./a//b/"), "a/b");
	CHECK_EQ_STR(res(NULL, "a/.."), ".");
	CHECK_EQ_STR(res(NULL, ""), ".");
	CHECK_EQ_STR(res(NULL, "../a"), "../a");
	CHECK_EQ_STR(res(NULL, "../../a/../b"), "../../b");
	CHECK_EQ_STR(res(NULL, "a/../../b"), "../b");
	CHECK_EQ_STR(res("rel", "x"), "rel/x");
	CHECK_EQ_STR(res("", "x"), "x");
}

TEST(hostile_bytes_kept)
{
	/* Newlines, control bytes, invalid UTF-8 and spaces are ordinary name bytes. */
	CHECK_EQ_STR(res("/tmp", "a\nb/\xff\xfe/ c\t"), "/tmp/a\nb/\xff\xfe/ c\t");
	CHECK_EQ_STR(res("/tmp", "\xc3\x28/.."), "/tmp");
	/* Only the given length counts. */
	sb_reset(&sb);
	path_resolve(&sb, "/b", "abc/def", 3);
	CHECK_EQ_STR(sb.buf, "/b/abc");
}

TEST(appends_to_buffer)
{
	sb_reset(&sb);
	sb_adds(&sb, "prefix:");
	path_resolve(&sb, NULL, "/x/../y", 7);
	CHECK_EQ_STR(sb.buf, "prefix:/y");
	sb_reset(&sb);
	sb_adds(&sb, "p:");
	path_resolve(&sb, NULL, "..", 2);
	CHECK_EQ_STR(sb.buf, "p:..");
	sb_reset(&sb);
	sb_adds(&sb, "p:");
	path_resolve(&sb, NULL, "a/..", 4);
	CHECK_EQ_STR(sb.buf, "p:.");
}

TEST(huge)
{
	/* 1 MiB of components, far past PATH_MAX, and 100k ".." past the root. */
	size_t n = 1 << 20, i;
	char *p = malloc(n + 1), *q;
	char *r;

	for (i = 0; i < n; i += 2) {
		p[i] = 'a';
		p[i + 1] = '/';
	}
	p[n] = '\0';
	r = path_resolve_dup("/", p, n);
	CHECK(r && strlen(r) == n && r[0] == '/');
	free(r);
	q = malloc(300001 + 2);
	for (i = 0; i < 300000; i += 3)
		memcpy(q + i, "../", 3);
	strcpy(q + 300000, "x");
	r = path_resolve_dup("/a/b", q, strlen(q));
	CHECK_EQ_STR(r, "/x");
	free(r);
	r = path_resolve_dup(NULL, q, strlen(q));
	CHECK(r && strlen(r) == 300000 + 1 && !strncmp(r, "../../", 6));
	free(r);
	/* Only slashes. */
	memset(p, '/', n);
	r = path_resolve_dup(NULL, p, n);
	CHECK_EQ_STR(r, "/");
	free(r);
	free(p);
	free(q);
}

static void split(const char *path, const char *dir, const char *file)
{
	size_t dl = 99;
	const char *f = path_split(path, strlen(path), &dl);
	char d[256];

	memcpy(d, path, dl);
	d[dl] = '\0';
	/* The root's directory is "/" itself. */
	if (dl == 1 && path[0] == '/')
		strcpy(d, "/");
	CHECK_EQ_STR(d, dir);
	CHECK_EQ_STR(f, file);
}

TEST(split)
{
	split("/etc/passwd", "/etc", "passwd");
	split("/passwd", "/", "passwd");
	split("/", "/", "");
	split("/a/b/c", "/a/b", "c");
	split("name", "", "name");
	split("", "", "");
	split("a/b", "a", "b");
	split("/a\n/b\xff", "/a\n", "b\xff");
}

TEST(random_never_breaks_invariants)
{
	/* Random paths over a small alphabet: the result never holds "//", "/./", "/../", a
	 * trailing slash (but "/"), and absolute inputs stay absolute. */
	static const char alpha[] = "/./a.";
	char in[64];
	unsigned seed = 7;

	for (int iter = 0; iter < 20000; iter++) {
		size_t n = (seed = seed * 1103515245 + 12345) % sizeof(in);
		const char *r;

		for (size_t i = 0; i < n; i++)
			in[i] = alpha[(seed = seed * 1103515245 + 12345) >> 16 & 3];
		sb_reset(&sb);
		path_resolve(&sb, iter & 1 ? "/base/dir" : NULL, in, n);
		r = sb.buf;
		while (!strncmp(r, "../", 3)) /* a relative result may start with ".." */
			r += 3;
		if (strstr(r, "//") || strstr(r, "/./") || strstr(r, "/../") ||
		    (sb.len > 1 && sb.buf[sb.len - 1] == '/') ||
		    (n && in[0] == '/' && sb.buf[0] != '/') || ((iter & 1) && sb.buf[0] != '/') ||
		    !sb.len || !strncmp(r, "./", 2)) {
			printf("# bad: \"%.*s\" -> \"%s\"\n", (int)n, in, r);
			CHECK(0);
			break;
		}
		if (r[0] == '/' && (strstr(r, "/..") && !strstr(r, "/..."))) {
			/* an absolute result has no ".." component */
			const char *s = r;

			while ((s = strstr(s, "/..")))
				if (s[3] == '/' || s[3] == '\0') {
					CHECK(0);
					break;
				} else {
					s += 3;
				}
		}
	}
}

int main(void)
{
	RUN(absolute);
	RUN(relative_to_base);
	RUN(relative_without_base);
	RUN(hostile_bytes_kept);
	RUN(appends_to_buffer);
	RUN(huge);
	RUN(split);
	RUN(random_never_breaks_invariants);
	sb_release(&sb);
	return tap_done();
}
