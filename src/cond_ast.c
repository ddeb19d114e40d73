#include "cond_ast.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "strbuf.h"

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

static const char *const op_names[] = {
#define COND_X(id, text, cls) [COND_OP_##id] = text,
    COND_OPERATORS(COND_X)
#undef COND_X
};

static const enum cond_op_class op_classes[] = {
#define COND_X(id, text, cls) [COND_OP_##id] = COND_OPC_##cls,
    COND_OPERATORS(COND_X)
#undef COND_X
};

static const char *const mod_names[] = {
#define COND_X(id, text) [COND_MOD_##id] = text,
    COND_MODIFIERS(COND_X)
#undef COND_X
};

static const char *const tr_names[] = {
#define COND_X(id, text) [COND_TR_##id] = text,
    COND_TRANSFORMERS(COND_X)
#undef COND_X
};

static const char *const kind_names[] = {
    [COND_AND] = "and",	      [COND_OR] = "or",
    [COND_NOT] = "not",	      [COND_MACRO] = "macro",
    [COND_EXISTS] = "exists", [COND_COMPARE] = "compare",
    [COND_FIELD] = "field",   [COND_TRANSFORM] = "transform",
    [COND_VALUE] = "value",   [COND_LIST] = "list",
};

const char *cond_op_name(enum cond_op op)
{
	return (size_t)op < ARRAY_SIZE(op_names) ? op_names[op] : "?";
}

const char *cond_mod_name(enum cond_mod mod)
{
	return (size_t)mod < ARRAY_SIZE(mod_names) ? mod_names[mod] : "?";
}

const char *cond_tr_name(enum cond_tr tr)
{
	return (size_t)tr < ARRAY_SIZE(tr_names) ? tr_names[tr] : "?";
}

const char *cond_node_kind_name(enum cond_node_kind kind)
{
	return (size_t)kind < ARRAY_SIZE(kind_names) ? kind_names[kind] : "?";
}

enum cond_op_class cond_op_class_of(enum cond_op op)
{
	return (size_t)op < ARRAY_SIZE(op_classes) ? op_classes[op] : COND_OPC_UNARY;
}

/* Index of the name equal to text[0..len) among names[first..n), or -1. */
static int name_index(const char *const *names, size_t first, size_t n, const char *text,
		      size_t len)
{
	for (size_t i = first; i < n; i++)
		if (strlen(names[i]) == len && memcmp(names[i], text, len) == 0)
			return (int)i;
	return -1;
}

int cond_op_lookup(const char *text, size_t len, enum cond_op *out)
{
	int i = name_index(op_names, 0, ARRAY_SIZE(op_names), text, len);

	if (i < 0)
		return -1;
	*out = (enum cond_op)i;
	return 0;
}

int cond_mod_lookup(const char *text, size_t len, enum cond_mod *out)
{
	int i = name_index(mod_names, COND_MOD_NONE + 1, ARRAY_SIZE(mod_names), text, len);

	if (i < 0)
		return -1;
	*out = (enum cond_mod)i;
	return 0;
}

int cond_tr_lookup(const char *text, size_t len, enum cond_tr *out)
{
	int i = name_index(tr_names, 0, ARRAY_SIZE(tr_names), text, len);

	if (i < 0)
		return -1;
	*out = (enum cond_tr)i;
	return 0;
}

static char *dup_bytes(const char *s, size_t len)
{
	char *d;

	if (len == SIZE_MAX)
		return NULL;
	d = malloc(len + 1);
	if (!d)
		return NULL;
	if (len)
		memcpy(d, s, len);
	d[len] = '\0';
	return d;
}

struct cond_node *cond_node_new(enum cond_node_kind kind, struct cond_pos pos)
{
	struct cond_node *n = calloc(1, sizeof(*n));

	if (!n)
		return NULL;
	n->kind = kind;
	n->pos = pos;
	return n;
}

struct cond_node *cond_node_new_text(enum cond_node_kind kind, struct cond_pos pos,
				     const char *text, size_t len)
{
	struct cond_node *n = cond_node_new(kind, pos);

	if (!n)
		return NULL;
	n->text = dup_bytes(text, len);
	if (!n->text) {
		free(n);
		return NULL;
	}
	return n;
}

struct cond_node *cond_node_new_not(struct cond_pos pos, struct cond_node *child)
{
	struct cond_node *n = cond_node_new(COND_NOT, pos);

	if (!n) {
		cond_node_free(child);
		return NULL;
	}
	if (cond_node_add(n, child) < 0) {
		cond_node_free(n);
		return NULL;
	}
	return n;
}

struct cond_node *cond_node_new_check(struct cond_pos pos, enum cond_op op, enum cond_mod mod,
				      struct cond_node *lhs, struct cond_node *rhs)
{
	bool unary = op == COND_OP_EXISTS;
	struct cond_node *n = cond_node_new(unary ? COND_EXISTS : COND_COMPARE, pos);

	if (!n || (unary && rhs)) {
		cond_node_free(n);
		cond_node_free(lhs);
		cond_node_free(rhs);
		return NULL;
	}
	n->op = op;
	n->mod = mod;
	if (cond_node_add(n, lhs) < 0) {
		cond_node_free(n);
		cond_node_free(rhs);
		return NULL;
	}
	if (!unary && cond_node_add(n, rhs) < 0) {
		cond_node_free(n);
		return NULL;
	}
	return n;
}

int cond_node_add(struct cond_node *parent, struct cond_node *child)
{
	if (!child)
		return -1;
	if (parent->nkids == parent->kids_cap) {
		size_t cap = parent->kids_cap ? parent->kids_cap * 2 : 2;
		struct cond_node **kids;

		if (cap > SIZE_MAX / sizeof(*kids))
			goto fail;
		kids = realloc(parent->kids, cap * sizeof(*kids));
		if (!kids)
			goto fail;
		parent->kids = kids;
		parent->kids_cap = cap;
	}
	parent->kids[parent->nkids++] = child;
	return 0;
fail:
	cond_node_free(child);
	return -1;
}

int cond_node_set_arg(struct cond_node *n, const char *arg, size_t len)
{
	char *copy = dup_bytes(arg, len);

	if (!copy)
		return -1;
	free(n->arg);
	n->arg = copy;
	return 0;
}

void cond_node_free(struct cond_node *n)
{
	if (!n)
		return;
	for (size_t i = 0; i < n->nkids; i++)
		cond_node_free(n->kids[i]);
	free(n->kids);
	free(n->text);
	free(n->arg);
	free(n);
}

struct cond_node *cond_node_clone(const struct cond_node *n)
{
	struct cond_node *c = cond_node_new(n->kind, n->pos);

	if (!c)
		return NULL;
	c->op = n->op;
	c->mod = n->mod;
	c->tr = n->tr;
	if ((n->text && !(c->text = strdup(n->text))) || (n->arg && !(c->arg = strdup(n->arg))))
		goto fail;
	for (size_t i = 0; i < n->nkids; i++)
		if (cond_node_add(c, cond_node_clone(n->kids[i])) < 0)
			goto fail;
	return c;
fail:
	cond_node_free(c);
	return NULL;
}

static void print_quoted(struct strbuf *sb, const char *s)
{
	sb_addc(sb, '"');
	sb_add_cescaped(sb, s, strlen(s));
	sb_addc(sb, '"');
}

/* True when s reads back unchanged as a bare field argument: printable ASCII other than
 * brackets, quotes and space (spec a.1), and a backslash, which quoted output escapes anyway. */
static bool bare_arg_ok(const char *s)
{
	if (!*s)
		return false;
	for (; *s; s++) {
		unsigned char c = (unsigned char)*s;

		if (c <= ' ' || c > '~' || strchr("[]\"'\\", c))
			return false;
	}
	return true;
}

static void print_arg(struct strbuf *sb, const char *arg)
{
	if (!arg)
		return;
	sb_addc(sb, '[');
	if (bare_arg_ok(arg))
		sb_adds(sb, arg);
	else
		print_quoted(sb, arg);
	sb_addc(sb, ']');
}

/* Writes the kids of n separated by sep, each through cond_node_print. */
static void print_kids(struct strbuf *sb, const struct cond_node *n, const char *sep)
{
	for (size_t i = 0; i < n->nkids; i++) {
		if (i)
			sb_adds(sb, sep);
		cond_node_print(sb, n->kids[i]);
	}
}

void cond_node_print(struct strbuf *sb, const struct cond_node *n)
{
	switch (n->kind) {
	case COND_AND:
	case COND_OR:
	case COND_NOT:
	case COND_EXISTS:
		sb_addf(sb, "(%s ", cond_node_kind_name(n->kind));
		print_kids(sb, n, " ");
		sb_addc(sb, ')');
		break;
	case COND_MACRO:
		sb_addf(sb, "(macro %s)", n->text);
		break;
	case COND_COMPARE:
		sb_addf(sb, "(%s ", cond_op_name(n->op));
		if (n->mod != COND_MOD_NONE)
			sb_addf(sb, "%s ", cond_mod_name(n->mod));
		print_kids(sb, n, " ");
		sb_addc(sb, ')');
		break;
	case COND_FIELD:
		sb_adds(sb, n->text);
		print_arg(sb, n->arg);
		break;
	case COND_TRANSFORM:
		sb_addf(sb, "%s(", cond_tr_name(n->tr));
		print_kids(sb, n, ", ");
		sb_addc(sb, ')');
		print_arg(sb, n->arg);
		break;
	case COND_VALUE:
		print_quoted(sb, n->text);
		break;
	case COND_LIST:
		sb_addc(sb, '(');
		print_kids(sb, n, ", ");
		sb_addc(sb, ')');
		break;
	}
}
