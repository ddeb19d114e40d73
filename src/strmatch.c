#include "strmatch.h"

#include <fnmatch.h>
#include <stdlib.h>
#include <string.h>

static unsigned char fold_c(unsigned char c, bool fold)
{
	return fold && c >= 'A' && c <= 'Z' ? (unsigned char)(c - 'A' + 'a') : c;
}

/* The pattern's character at q, or NUL past its end. */
#define PC(q) ((q) < pe ? *(q) : '\0')

/* Matches the bracket expression at p (just after '[') against c. Returns the position
 * after the closing ']' and sets *hit, or NULL when the bracket is not closed (then '[' is
 * an ordinary character, as fnmatch treats it). */
static const char *bracket(const char *p, const char *pe, unsigned char c, bool fold, bool *hit)
{
	bool neg = false, any = false;
	const char *q = p;

	if (PC(q) == '!' || PC(q) == '^') {
		neg = true;
		q++;
	}
	/* a ']' first is a member */
	do {
		unsigned char lo, hi;

		if (!PC(q))
			return NULL;
		if (PC(q) == '\\' && PC(q + 1))
			q++;
		lo = fold_c((unsigned char)*q++, fold);
		hi = lo;
		if (PC(q) == '-' && PC(q + 1) && PC(q + 1) != ']') {
			q++;
			if (PC(q) == '\\' && PC(q + 1))
				q++;
			hi = fold_c((unsigned char)*q++, fold);
		}
		if (lo <= c && c <= hi)
			any = true;
	} while (PC(q) != ']');
	*hit = any != neg;
	return q + 1;
}

static bool has_class(const char *p, size_t plen)
{
	for (size_t i = 0; i + 1 < plen; i++)
		if (p[i] == '[' && (p[i + 1] == ':' || p[i + 1] == '=' || p[i + 1] == '.'))
			return true;
	return false;
}

bool glob_match_n(const char *pattern, size_t plen, const char *s, size_t len, bool fold)
{
	const char *p = pattern, *pe = pattern + plen, *star_p = NULL;
	size_t i = 0, star_i = 0;

	if (memchr(s, 0, len) || memchr(pattern, 0, plen))
		return false;
	if (has_class(pattern, plen)) {
		/* classes: rare in rules; let the C library decide, on copies */
		char *ps = malloc(plen + 1), *ss = malloc(len + 1);
		bool r = false;

		if (ps && ss) {
			memcpy(ps, pattern, plen);
			ps[plen] = 0;
			memcpy(ss, s, len);
			ss[len] = 0;
			if (fold) {
				for (char *x = ps; *x; x++)
					*x = (char)fold_c((unsigned char)*x, true);
				for (size_t k = 0; k < len; k++)
					ss[k] = (char)fold_c((unsigned char)ss[k], true);
			}
			r = fnmatch(ps, ss, 0) == 0;
		}
		free(ps);
		free(ss);
		return r;
	}
	while (i < len || PC(p)) {
		if (PC(p) == '*') {
			while (PC(p) == '*')
				p++;
			star_p = p;
			star_i = i;
			continue;
		}
		if (i < len) {
			unsigned char c = fold_c((unsigned char)s[i], fold);
			const char *next = NULL;
			bool ok = false;

			if (PC(p) == '?') {
				ok = true;
				next = p + 1;
			} else if (PC(p) == '[') {
				bool hit = false;
				const char *after = bracket(p + 1, pe, c, fold, &hit);

				if (after) {
					ok = hit;
					next = after;
				} else {
					ok = c == '[';
					next = p + 1;
				}
			} else if (PC(p) == '\\' && PC(p + 1)) {
				ok = fold_c((unsigned char)p[1], fold) == c;
				next = p + 2;
			} else if (PC(p)) {
				ok = fold_c((unsigned char)*p, fold) == c;
				next = p + 1;
			}
			if (ok) {
				p = next;
				i++;
				continue;
			}
		}
		/* mismatch: let the last star take one more character */
		if (star_p && star_i < len) {
			p = star_p;
			i = ++star_i;
			continue;
		}
		return false;
	}
	return true;
}

/* ---- tries ---- */

struct trie_node {
	uint32_t child;	  /* first child, 0 for none */
	uint32_t sibling; /* next sibling, 0 for none */
	unsigned char c;
	bool end; /* a string ends here */
};

struct trie {
	struct trie_node *n; /* n[0] is the root */
	size_t len, cap;
	bool reversed;
	bool empty_item; /* "" is an item: everything matches */
};

static uint32_t node_add(struct trie *t, unsigned char c)
{
	if (t->len == t->cap) {
		size_t cap = t->cap ? t->cap * 2 : 64;
		struct trie_node *v = realloc(t->n, cap * sizeof(*v));

		if (!v)
			return 0;
		t->n = v;
		t->cap = cap;
	}
	t->n[t->len] = (struct trie_node){0, 0, c, false};
	return (uint32_t)t->len++;
}

struct trie *trie_build(const char *const *items, const size_t *lens, size_t n, bool reversed)
{
	struct trie *t = calloc(1, sizeof(*t));

	if (!t)
		return NULL;
	node_add(t, 0); /* the root, index 0 */
	if (t->len != 1) {
		trie_free(t);
		return NULL;
	}
	t->reversed = reversed;
	for (size_t i = 0; i < n; i++) {
		uint32_t cur = 0;

		if (lens[i] == 0)
			t->empty_item = true;
		for (size_t k = 0; k < lens[i]; k++) {
			unsigned char c =
			    (unsigned char)items[i][reversed ? lens[i] - 1 - k : k];
			uint32_t ch = t->n[cur].child, prev = 0;

			while (ch && t->n[ch].c != c) {
				prev = ch;
				ch = t->n[ch].sibling;
			}
			if (!ch) {
				ch = node_add(t, c);
				if (!ch) {
					trie_free(t);
					return NULL;
				}
				if (prev)
					t->n[prev].sibling = ch;
				else
					t->n[cur].child = ch;
			}
			cur = ch;
		}
		t->n[cur].end = true;
	}
	return t;
}

void trie_free(struct trie *t)
{
	if (!t)
		return;
	free(t->n);
	free(t);
}

bool trie_match(const struct trie *t, const char *s, size_t len)
{
	uint32_t cur = 0;

	if (t->empty_item)
		return true;
	for (size_t k = 0; k < len; k++) {
		unsigned char c = (unsigned char)s[t->reversed ? len - 1 - k : k];
		uint32_t ch = t->n[cur].child;

		while (ch && t->n[ch].c != c)
			ch = t->n[ch].sibling;
		if (!ch)
			return false;
		if (t->n[ch].end)
			return true;
		cur = ch;
	}
	return false;
}

bool str_contains(const char *h, size_t hl, const char *n, size_t nl)
{
	const char *end, *p;

	if (nl == 0)
		return true;
	if (nl > hl)
		return false;
	if (nl == 1)
		return memchr(h, n[0], hl) != NULL;
	/* short needles in short haystacks (paths, command lines): look for the first two
	 * bytes, then compare the rest; cheaper than a general algorithm's setup */
	end = h + hl - nl;
	for (p = h; p <= end; p++) {
		p = memchr(p, n[0], (size_t)(end - p) + 1);
		if (!p)
			return false;
		if (p[1] == n[1] && !memcmp(p + 2, n + 2, nl - 2))
			return true;
	}
	return false;
}
