#include "outfmt.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fields.h"
#include "strbuf.h"

static bool is_name_char(char c)
{
	return isalnum((unsigned char)c) || c == '_' || c == '.';
}

/* Length of the longest candidate after a '%' (and its width): name characters, each
 * followed by any number of [..] groups. */
static size_t candidate_len(const char *s, size_t len)
{
	size_t i = 0;

	while (i < len) {
		if (is_name_char(s[i])) {
			i++;
			continue;
		}
		if (s[i] == '[' && i > 0) {
			const char *close = memchr(s + i, ']', len - i);

			if (!close)
				break;
			i = (size_t)(close - s) + 1;
			continue;
		}
		break;
	}
	return i;
}

static int add_token(struct outfmt *f, size_t *cap, const struct outfmt_token *t)
{
	if (f->n_tok == *cap) {
		size_t ncap = *cap ? *cap * 2 : 8;
		struct outfmt_token *n = realloc(f->tok, ncap * sizeof(*n));

		if (!n)
			return -1;
		f->tok = n;
		*cap = ncap;
	}
	f->tok[f->n_tok++] = *t;
	return 0;
}

static char *dup_range(const char *s, size_t len)
{
	char *p = malloc(len + 1);

	if (p) {
		memcpy(p, s, len);
		p[len] = 0;
	}
	return p;
}

/* f->order: sorted once here, not for every JSON alert. */
static int build_order(struct outfmt *f)
{
	f->order = malloc((f->n_tok + 1) * sizeof(*f->order));
	if (!f->order)
		return -1;
	for (size_t i = 0; i < f->n_tok; i++) {
		size_t j;
		int c = 1;

		if (!f->tok[i].field.def)
			continue;
		/* insertion sort: outputs have tens of fields at most */
		for (j = f->n_order; j > 0; j--) {
			c = strcmp(f->tok[f->order[j - 1]].name, f->tok[i].name);
			if (c <= 0)
				break;
		}
		if (j > 0 && c == 0)
			continue; /* the same name again */
		memmove(f->order + j + 1, f->order + j, (f->n_order - j) * sizeof(*f->order));
		f->order[j] = i;
		f->n_order++;
	}
	return 0;
}

struct outfmt *outfmt_compile(const char *fmt, size_t len, char *err, size_t errlen,
			      size_t *err_off)
{
	struct outfmt *f = calloc(1, sizeof(*f));
	size_t cap = 0, i = 0, lit = 0, skip = 0;
	char ferr[256];

	*err_off = 0;
	if (!f)
		goto oom;
	if (len && fmt[0] == '*')
		skip = 1;
	f->text = dup_range(fmt + skip, len - skip);
	if (!f->text)
		goto oom;
	fmt = f->text;
	len -= skip;
	if (len == 0) {
		snprintf(err, errlen, "empty output format");
		goto fail;
	}
	while (i < len) {
		struct outfmt_token t;
		struct field_ref ref;
		size_t start = i, n, w = 0;

		if (fmt[i] != '%') {
			i++;
			continue;
		}
		i++;
		while (i < len && isdigit((unsigned char)fmt[i]) && w < 100000)
			w = w * 10 + (size_t)(fmt[i++] - '0');
		n = candidate_len(fmt + i, len - i);
		if (n == 0) {
			*err_off = start + skip;
			if (i >= len)
				snprintf(err, errlen, "'%%' at the end of the output");
			else
				snprintf(err, errlen, "'%%' not followed by a field name");
			goto fail;
		}
		/* The longest prefix that resolves wins. */
		while (n > 0 && fields_resolve(fmt + i, n, &ref, ferr, sizeof(ferr)))
			n--;
		if (n == 0) {
			size_t m = candidate_len(fmt + i, len - i);

			fields_resolve(fmt + i, m, &ref, ferr, sizeof(ferr));
			*err_off = i + skip;
			snprintf(err, errlen, "%s", ferr);
			goto fail;
		}
		if (ref.def->flags & FF_FILTER_ONLY) {
			*err_off = i + skip;
			snprintf(err, errlen, "field '%s' can be used in conditions only",
				 ref.def->name);
			goto fail;
		}
		memset(&t, 0, sizeof(t));
		t.lit_off = lit;
		t.lit_len = start - lit;
		t.field.def = ref.def;
		t.width = (unsigned)w;
		t.name = dup_range(fmt + i, n);
		if (!t.name)
			goto oom;
		if (ref.has_arg) {
			t.field.arg = dup_range(ref.arg, ref.arg_len);
			if (!t.field.arg) {
				free(t.name);
				goto oom;
			}
		}
		if (add_token(f, &cap, &t)) {
			free(t.name);
			free((char *)t.field.arg);
			goto oom;
		}
		i += n;
		lit = i;
	}
	{
		struct outfmt_token t = {.lit_off = lit, .lit_len = len - lit};

		if (add_token(f, &cap, &t))
			goto oom;
	}
	if (build_order(f))
		goto oom;
	return f;
oom:
	snprintf(err, errlen, "out of memory");
fail:
	outfmt_free(f);
	return NULL;
}

void outfmt_free(struct outfmt *f)
{
	if (!f)
		return;
	for (size_t i = 0; i < f->n_tok; i++) {
		free(f->tok[i].name);
		free((char *)f->tok[i].field.arg);
	}
	free(f->tok);
	free(f->order);
	free(f->text);
	free(f);
}

void outfmt_value_text(const struct vm_value *v, struct strbuf *out)
{
	char ip[INET6_ADDRSTRLEN];

	switch (v->kind) {
	case VM_V_STR:
		sb_add(out, v->str.s, v->str.len);
		break;
	case VM_V_INT:
		sb_add_i64(out, v->i);
		break;
	case VM_V_UINT:
		sb_add_u64(out, v->u);
		break;
	case VM_V_BOOL:
		sb_adds(out, v->b ? "true" : "false");
		break;
	case VM_V_IP:
	case VM_V_NET:
		if (!inet_ntop(v->ip.family, v->ip.addr, ip, sizeof(ip)))
			snprintf(ip, sizeof(ip), "?");
		sb_adds(out, ip);
		if (v->kind == VM_V_NET)
			sb_addf(out, "/%u", v->ip.prefix);
		break;
	case VM_V_LIST:
		sb_addc(out, '(');
		for (size_t i = 0; i < v->list.n; i++) {
			if (i)
				sb_addc(out, ',');
			outfmt_value_text(&v->list.items[i], out);
		}
		sb_addc(out, ')');
		break;
	}
}

void outfmt_render(const struct outfmt *f, const struct vm_fieldsrc *src, struct strbuf *out)
{
	for (size_t i = 0; i < f->n_tok; i++) {
		const struct outfmt_token *t = &f->tok[i];
		struct vm_value v;
		size_t at;

		sb_add(out, f->text + t->lit_off, t->lit_len);
		if (!t->field.def)
			continue;
		at = out->len;
		if (src->extract(src->ctx, &t->field, &v) == 0)
			outfmt_value_text(&v, out);
		else
			sb_adds(out, "<NA>");
		if (t->width) {
			size_t n = out->len - at;

			if (n > t->width)
				out->len = at + t->width;
			else
				for (; n < t->width; n++)
					sb_addc(out, ' ');
			out->buf[out->len] = 0;
		}
	}
}
