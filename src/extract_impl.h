/* Internal to the extractors (extract.c, extract_state.c): value helpers and the table of
 * extractors by field name. */
#ifndef SAKER_EXTRACT_IMPL_H
#define SAKER_EXTRACT_IMPL_H

#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "extract.h"

#define MISSING 1



typedef int (*extract_fn)(struct extract_ctx *c, const struct vm_field *f, struct vm_value *out);

static inline int v_str(struct vm_value *out, const char *s, size_t len)
{
	out->kind = VM_V_STR;
	out->str.s = s;
	out->str.len = len;
	return 0;
}

static inline int v_cstr(struct vm_value *out, const char *s)
{
	return s ? v_str(out, s, strlen(s)) : MISSING;
}

static inline int v_uint(struct vm_value *out, uint64_t u)
{
	out->kind = VM_V_UINT;
	out->u = u;
	return 0;
}

static inline int v_int(struct vm_value *out, int64_t i)
{
	out->kind = VM_V_INT;
	out->i = i;
	return 0;
}

static inline int v_bool(struct vm_value *out, bool b)
{
	out->kind = VM_V_BOOL;
	out->b = b;
	return 0;
}

__attribute__((format(printf, 3, 4))) static inline int v_fmt(struct extract_ctx *c,
								   struct vm_value *out,
								   const char *fmt, ...)
{
	char buf[256];
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	if (n < 0)
		return MISSING;
	if ((size_t)n >= sizeof(buf))
		n = sizeof(buf) - 1;
	return v_str(out, arena_strdup(&c->arena, buf, (size_t)n), (size_t)n);
}


struct extractor {
	const char *name;
	extract_fn fn;
};

/* The state fields' extractors (extract_state.c). */
extern const struct extractor extract_state_table[];
extern const size_t extract_state_table_len;

#endif /* SAKER_EXTRACT_IMPL_H */
