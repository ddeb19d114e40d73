#include "pathutil.h"

#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

/* The result is built in out from start on. floor is the length below which nothing can be
 * removed: the root slash of an absolute path, or the ".." run that begins a relative one. */
struct norm {
	struct strbuf *out;
	size_t start;
	size_t floor;
	bool absolute;
};

static void add_component(struct norm *n, const char *c, size_t len)
{
	struct strbuf *out = n->out;

	if (out->len > n->start && out->buf[out->len - 1] != '/')
		sb_addc(out, '/');
	sb_add(out, c, len);
}

static void pop_component(struct norm *n)
{
	struct strbuf *out = n->out;
	size_t k = out->len;

	while (k > n->floor && out->buf[k - 1] != '/')
		k--;
	/* k is just past a separator, or at the floor. Drop the separator too, unless it is
	 * the root slash (which sits below the floor). */
	if (k > n->floor)
		k--;
	out->len = k;
	out->buf[k] = '\0';
}

static void walk(struct norm *n, const char *p, size_t len)
{
	size_t i = 0, j;

	while (i < len) {
		while (i < len && p[i] == '/')
			i++;
		for (j = i; j < len && p[j] != '/'; j++)
			;
		if (j == i)
			break;
		if (j - i == 1 && p[i] == '.') {
			/* nothing */
		} else if (j - i == 2 && p[i] == '.' && p[i + 1] == '.') {
			if (n->out->len > n->floor) {
				pop_component(n);
			} else if (!n->absolute) {
				add_component(n, "..", 2);
				n->floor = n->out->len;
			}
		} else {
			add_component(n, p + i, j - i);
		}
		i = j;
	}
}

void path_resolve(struct strbuf *out, const char *base, const char *path, size_t len)
{
	struct norm n = {.out = out, .start = out->len};
	bool rel = len == 0 || path[0] != '/';

	sb_grow(out, len + 1);
	if (rel && base && base[0] == '/')
		n.absolute = true;
	else if (!rel)
		n.absolute = true;
	if (n.absolute)
		sb_addc(out, '/');
	n.floor = out->len;
	if (rel && base)
		walk(&n, base, strlen(base));
	walk(&n, path, len);
	if (out->len == n.start)
		sb_addc(out, '.');
}

char *path_resolve_dup(const char *base, const char *path, size_t len)
{
	struct strbuf sb = STRBUF_INIT;

	path_resolve(&sb, base, path, len);
	return sb.buf;
}

const char *path_split(const char *path, size_t len, size_t *dir_len)
{
	size_t k = len;

	while (k > 0 && path[k - 1] != '/')
		k--;
	if (k == 0) {
		*dir_len = 0;
		return path;
	}
	/* path[k - 1] is the last slash: the directory is what precedes it, or "/". */
	*dir_len = k - 1 ? k - 1 : 1;
	return path + k;
}
