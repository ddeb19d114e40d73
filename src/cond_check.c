#include "cond_check.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <regex.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fields.h"
#include "services.h"

#define MAX_MACRO_DEPTH 64

/* Most checks and and/or/not nodes a condition may have once its macros are expanded. Macros
 * multiply: forty macros each using the previous one twice make 2^40 copies. Far above
 * anything a real ruleset needs (the largest rule of the stable ruleset has a few hundred). */
#define MAX_EXPANDED_NODES 1000000

struct checker {
	const struct check_env *env;
	struct check_error *err;
	const char *stack[MAX_MACRO_DEPTH]; /* macros being expanded, outermost first */
	const struct cond_node *bodies[MAX_MACRO_DEPTH]; /* their bodies (count_expanded) */
	int depth;
};

/* What an operand yields. */
struct operand {
	enum field_type type;
	bool is_list;
	const struct field_def *field; /* a plain field, not a transformer */
	bool has_arg;
};

static const char *current_macro(const struct checker *c)
{
	return c->depth ? c->stack[c->depth - 1] : NULL;
}

__attribute__((format(printf, 4, 5))) static void
fail(struct checker *c, const char *code, const struct cond_pos *pos, const char *fmt, ...)
{
	va_list ap;

	if (c->err->code)
		return; /* the first problem is the one reported */
	c->err->code = code;
	c->err->pos = *pos;
	snprintf(c->err->in_macro, sizeof(c->err->in_macro), "%s",
		 current_macro(c) ? current_macro(c) : "");
	va_start(ap, fmt);
	vsnprintf(c->err->msg, sizeof(c->err->msg), fmt, ap);
	va_end(ap);
}

#define COMPILE "LOAD_ERR_COMPILE_CONDITION"

__attribute__((format(printf, 4, 5))) static void
warn(struct checker *c, const char *code, const struct cond_pos *pos, const char *fmt, ...)
{
	char msg[256];
	va_list ap;

	if (!c->env->warn)
		return;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	c->env->warn(c->env->ctx, code, pos, current_macro(c), msg);
}

/* ---- operands: fields and transformers ---------------------------------------------- */

static int operand_of(struct checker *c, const struct cond_node *n, struct operand *out);

static int field_operand(struct checker *c, const struct cond_node *n, struct operand *out)
{
	struct field_ref ref;
	char msg[256];

	if (fields_resolve_arg(n->text, strlen(n->text), n->arg, n->arg ? strlen(n->arg) : 0, &ref,
			       msg, sizeof(msg))) {
		fail(c, COMPILE, &n->pos, "%s", msg);
		return -1;
	}
	if (ref.def->flags & FF_DEPRECATED)
		warn(c, "LOAD_DEPRECATED_ITEM", &n->pos, "field '%s' is deprecated: %s",
		     ref.def->name, ref.def->desc);
	out->type = ref.def->type;
	out->is_list = ref.def->flags & FF_IS_LIST;
	out->field = ref.def;
	out->has_arg = ref.has_arg;
	return 0;
}

static bool is_text(enum field_type t)
{
	return t == FT_CHARBUF || t == FT_FSPATH;
}

/* A field or transformer as a transformer's argument. */
static int tr_input(struct checker *c, const struct cond_node *k, struct operand *o)
{
	if (operand_of(c, k, o))
		return -1;
	if (o->field && (o->field->flags & FF_NO_TRANSFORMER)) {
		fail(c, COMPILE, &k->pos, "field '%s' cannot be transformed", o->field->name);
		return -1;
	}
	return 0;
}

static int bad_input_type(struct checker *c, const struct cond_node *at, const struct operand *o,
			  const char *name)
{
	fail(c, COMPILE, &at->pos, "field type %s%s is not supported by '%s' transformer",
	     field_type_name(o->type), o->is_list ? " (list)" : "", name);
	return -1;
}

/* A single text value where join, concat or getopt want one: a value, or a text field or
 * transformer that is not a list. what names the place in messages ("argument 2"). */
static int text_scalar(struct checker *c, const struct cond_node *k, const char *name,
		       const char *what)
{
	struct operand o;

	if (k->kind == COND_VALUE)
		return 0;
	if (k->kind == COND_LIST) {
		fail(c, COMPILE, &k->pos, "%s of '%s' must be a single value, not a list", what,
		     name);
		return -1;
	}
	if (tr_input(c, k, &o))
		return -1;
	if (o.is_list) {
		fail(c, COMPILE, &k->pos, "%s of '%s' must be a single value, not a %s list", what,
		     name, field_type_name(o.type));
		return -1;
	}
	if (!is_text(o.type))
		return bad_input_type(c, k, &o, name);
	return 0;
}

/* A list of text where join and getopt want one: a literal list of single text values, a
 * list field or transformer of text; getopt also takes a single text (split into words). */
static int text_list(struct checker *c, const struct cond_node *k, const char *name, size_t i,
		     bool scalar_ok)
{
	struct operand o;
	char what[32];

	if (k->kind == COND_LIST) {
		for (size_t j = 0; j < k->nkids; j++)
			if (text_scalar(c, k->kids[j], name, "a list item"))
				return -1;
		return 0;
	}
	snprintf(what, sizeof(what), "argument %zu", i + 1);
	if (k->kind == COND_VALUE) {
		if (scalar_ok)
			return 0;
		fail(c, COMPILE, &k->pos, "%s of '%s' must be a list, not a single value", what,
		     name);
		return -1;
	}
	if (tr_input(c, k, &o))
		return -1;
	if (!o.is_list && !scalar_ok) {
		fail(c, COMPILE, &k->pos, "%s of '%s' must be a list, not a single %s", what, name,
		     field_type_name(o.type));
		return -1;
	}
	if (!is_text(o.type))
		return bad_input_type(c, k, &o, name);
	return 0;
}

/* Whether letter is an option of a getopt optstring (a leading '+' or '-' is a GNU mode
 * character, not an option; ':' never is one). */
static bool getopt_has(const char *optstring, char letter)
{
	if (*optstring == '+' || *optstring == '-')
		optstring++;
	return letter != ':' && strchr(optstring, letter) != NULL;
}

static int getopt_selector(struct checker *c, const struct cond_node *n)
{
	const struct cond_node *opts = n->kids[1];

	if (strlen(n->arg) != 1 || n->arg[0] == ':') {
		fail(c, COMPILE, &n->pos, "getopt selector '%s' is not a single option letter",
		     n->arg);
		return -1;
	}
	if (opts->kind == COND_VALUE && !getopt_has(opts->text, n->arg[0])) {
		fail(c, COMPILE, &n->pos, "getopt selector '%s' is not an option of \"%s\"", n->arg,
		     opts->text);
		return -1;
	}
	return 0;
}

/* join(sep, list), concat(a, b, ...), getopt(args, optstring)[c] (spec a.7). */
static int multi_operand(struct checker *c, const struct cond_node *n, struct operand *out)
{
	const char *name = cond_tr_name(n->tr);
	char what[32];

	if (n->tr == COND_TR_CONCAT && n->nkids < 2) {
		fail(c, COMPILE, &n->pos,
		     "transformer 'concat' takes at least 2 arguments, not %zu", n->nkids);
		return -1;
	}
	if (n->tr != COND_TR_CONCAT && n->nkids != 2) {
		fail(c, COMPILE, &n->pos, "transformer '%s' takes 2 arguments, not %zu", name,
		     n->nkids);
		return -1;
	}
	switch (n->tr) {
	case COND_TR_JOIN:
		if (text_scalar(c, n->kids[0], name, "argument 1") ||
		    text_list(c, n->kids[1], name, 1, false))
			return -1;
		break;
	case COND_TR_CONCAT:
		for (size_t i = 0; i < n->nkids; i++) {
			snprintf(what, sizeof(what), "argument %zu", i + 1);
			if (text_scalar(c, n->kids[i], name, what))
				return -1;
		}
		break;
	default: /* getopt */
		if (text_list(c, n->kids[0], name, 0, true) ||
		    text_scalar(c, n->kids[1], name, "argument 2") ||
		    (n->arg && getopt_selector(c, n)))
			return -1;
		break;
	}
	out->type = FT_CHARBUF;
	out->is_list = n->tr == COND_TR_GETOPT && !n->arg;
	return 0;
}

static int transform_operand(struct checker *c, const struct cond_node *n, struct operand *out)
{
	const char *name = cond_tr_name(n->tr);
	const struct cond_node *k;
	struct operand in;

	if (n->arg && n->tr != COND_TR_GETOPT) {
		fail(c, COMPILE, &n->pos, "transformer '%s' does not take a '[...]' argument",
		     name);
		return -1;
	}
	memset(out, 0, sizeof(*out));
	if (n->tr == COND_TR_JOIN || n->tr == COND_TR_CONCAT || n->tr == COND_TR_GETOPT)
		return multi_operand(c, n, out);
	if (n->nkids != 1) {
		fail(c, COMPILE, &n->pos, "transformer '%s' takes 1 argument, not %zu", name,
		     n->nkids);
		return -1;
	}
	k = n->kids[0];
	if (k->kind != COND_FIELD && k->kind != COND_TRANSFORM) {
		fail(c, COMPILE, &k->pos, "transformer '%s' needs a field, not a %s", name,
		     k->kind == COND_LIST ? "list" : "value");
		return -1;
	}
	if (tr_input(c, k, &in))
		return -1;
	switch (n->tr) {
	case COND_TR_TOLOWER:
	case COND_TR_TOUPPER:
	case COND_TR_BASENAME:
		if (!is_text(in.type) || in.is_list)
			return bad_input_type(c, n, &in, name);
		out->type = in.type;
		break;
	case COND_TR_B64:
		if ((!is_text(in.type) && in.type != FT_BYTEBUF) || in.is_list)
			return bad_input_type(c, n, &in, name);
		out->type = in.type;
		break;
	case COND_TR_LEN:
		if (!in.is_list && !is_text(in.type) && in.type != FT_BYTEBUF)
			return bad_input_type(c, n, &in, name);
		out->type = FT_UINT64;
		break;
	default: /* val */
		*out = in;
		break;
	}
	return 0;
}

static int operand_of(struct checker *c, const struct cond_node *n, struct operand *out)
{
	memset(out, 0, sizeof(*out));
	if (n->kind == COND_FIELD)
		return field_operand(c, n, out);
	if (n->kind == COND_TRANSFORM)
		return transform_operand(c, n, out);
	fail(c, COMPILE, &n->pos, "expected a field or a transformer");
	return -1;
}

/* ---- values ---------------------------------------------------------------------------- */

static bool parse_decimal(const char *s, bool is_signed)
{
	const char *p = s;

	if (*p == '-' || (*p == '+' && is_signed))
		p++;
	if (!*p)
		return false;
	for (; *p; p++)
		if (!isdigit((unsigned char)*p))
			return false;
	errno = 0;
	if (is_signed)
		(void)strtoll(s, NULL, 10);
	else
		(void)strtoull(s, NULL, 10);
	return errno == 0;
}

static bool parse_cidr(const char *s)
{
	char buf[INET6_ADDRSTRLEN + 8];
	unsigned char addr[16];
	const char *slash = strchr(s, '/');
	bool v4 = strchr(s, '.') != NULL;
	char *end;
	long bits;

	if (strlen(s) >= sizeof(buf))
		return false;
	if (!slash)
		return !v4 && inet_pton(AF_INET6, s, addr) == 1; /* IPv4 needs a length */
	memcpy(buf, s, (size_t)(slash - s));
	buf[slash - s] = '\0';
	if (inet_pton(v4 ? AF_INET : AF_INET6, buf, addr) != 1)
		return false;
	errno = 0;
	bits = strtol(slash + 1, &end, 10);
	return slash[1] && !*end && !errno && bits >= 0 && bits <= (v4 ? 32 : 128);
}

static bool is_hex(const char *s)
{
	size_t n = strlen(s);

	if (n % 2)
		return false;
	for (size_t i = 0; i < n; i++)
		if (!isxdigit((unsigned char)s[i]))
			return false;
	return true;
}

/* Checks one constant against the left operand's type and the operator. */
static int check_value(struct checker *c, const struct operand *lhs, enum cond_op op,
		       const struct cond_node *v)
{
	const char *s = v->text;
	unsigned char addr[16];
	bool ok = true;
	uint64_t port;

	switch (lhs->type) {
	case FT_INT64:
		ok = parse_decimal(s, true);
		break;
	case FT_UINT64:
	case FT_UINT32:
	case FT_RELTIME:
	case FT_ABSTIME:
		ok = parse_decimal(s, false);
		break;
	case FT_PORT:
		ok = !*s || (parse_decimal(s, false) && strtoull(s, NULL, 10) <= 65535) ||
		     services_port(s, &port) == 0;
		break;
	case FT_BOOL:
		ok = strcmp(s, "true") == 0 || strcmp(s, "false") == 0;
		break;
	case FT_IPADDR:
		ok = inet_pton(strchr(s, '.') ? AF_INET : AF_INET6, s, addr) == 1;
		break;
	case FT_IPNET:
		ok = parse_cidr(s);
		break;
	case FT_BYTEBUF:
		ok = (op != COND_OP_BCONTAINS && op != COND_OP_BSTARTSWITH) || is_hex(s);
		break;
	default:
		break;
	}
	if (!ok) {
		fail(c, COMPILE, &v->pos, "'%s' is not a valid %s value", s,
		     field_type_name(lhs->type));
		return -1;
	}
	if (op == COND_OP_REGEX) {
		regex_t re;
		int rc = regcomp(&re, s, REG_EXTENDED | REG_NOSUB);

		if (rc) {
			char why[128];

			regerror(rc, &re, why, sizeof(why));
			fail(c, COMPILE, &v->pos, "invalid regex '%s': %s", s, why);
			return -1;
		}
		regfree(&re);
	}
	if (lhs->field && strcmp(lhs->field->name, "evt.type") == 0 && !lhs->has_arg &&
	    evttype_code(s, strlen(s)) < 0) {
		fail(c, COMPILE, &v->pos, "unknown event type %s", s);
		return -1;
	}
	if (strchr(s, '.') && !strpbrk(s, " /")) {
		struct field_ref ref;
		char msg[64];

		if (fields_resolve(s, strlen(s), &ref, msg, sizeof(msg)) == 0)
			warn(c, "LOAD_COMPILE_CONDITION", &v->pos,
			     "'%s' may be a valid field misused as a const string value", s);
	}
	return 0;
}

/* ---- checks ------------------------------------------------------------------------ */

static bool op_allowed(const struct operand *l, enum cond_op op, enum cond_mod mod)
{
	bool eq = op == COND_OP_EQ || op == COND_OP_EQEQ || op == COND_OP_NE;
	bool setop = op == COND_OP_IN || op == COND_OP_INTERSECTS;

	if (l->is_list)
		return setop;
	switch (l->type) {
	case FT_CHARBUF:
	case FT_FSPATH:
		return op != COND_OP_BCONTAINS && op != COND_OP_BSTARTSWITH;
	case FT_BYTEBUF:
		return eq || setop || op == COND_OP_CONTAINS || op == COND_OP_BCONTAINS ||
		       op == COND_OP_STARTSWITH || op == COND_OP_BSTARTSWITH ||
		       op == COND_OP_ENDSWITH;
	case FT_BOOL:
		return eq || setop;
	case FT_IPADDR:
	case FT_IPNET:
		return eq || (setop && mod == COND_MOD_NONE);
	default: /* numbers */
		return eq || setop || cond_op_class_of(op) == COND_OPC_NUMERIC;
	}
}

static int check_compare(struct checker *c, const struct cond_node *n)
{
	const struct cond_node *lhs = n->kids[0], *rhs = n->nkids > 1 ? n->kids[1] : NULL;
	struct operand l, r;

	if (operand_of(c, lhs, &l))
		return -1;
	if (n->kind == COND_EXISTS)
		return 0;
	if (lhs->kind == COND_TRANSFORM && lhs->tr == COND_TR_VAL) {
		fail(c, COMPILE, &lhs->pos, "val() can only be used on the right of a comparison");
		return -1;
	}
	if (!op_allowed(&l, n->op, n->mod)) {
		fail(c, COMPILE, &n->pos, "operator '%s' is not supported for %s%s values",
		     cond_op_name(n->op), field_type_name(l.type), l.is_list ? " list" : "");
		return -1;
	}
	if (!rhs)
		return 0;
	if (rhs->kind == COND_VALUE)
		return check_value(c, &l, n->op, rhs);
	if (rhs->kind == COND_LIST) {
		for (size_t i = 0; i < rhs->nkids; i++) {
			if (rhs->kids[i]->kind != COND_VALUE) {
				fail(c, COMPILE, &rhs->kids[i]->pos, "list items must be values");
				return -1;
			}
			if (check_value(c, &l, n->op, rhs->kids[i]))
				return -1;
		}
		return 0;
	}
	/* A field on the right: val(field) or a transformer. */
	if (operand_of(c, rhs, &r))
		return -1;
	if (n->op == COND_OP_PMATCH || n->op == COND_OP_REGEX || l.type == FT_IPNET) {
		fail(c, COMPILE, &rhs->pos, "operator '%s' cannot compare with a field",
		     cond_op_name(n->op));
		return -1;
	}
	if ((l.field && (l.field->flags & FF_NO_RHS)) ||
	    (r.field && (r.field->flags & FF_NO_RHS))) {
		fail(c, COMPILE, &rhs->pos, "field '%s' cannot take part in a field comparison",
		     (l.field && (l.field->flags & FF_NO_RHS)) ? l.field->name : r.field->name);
		return -1;
	}
	if (l.type != r.type || l.is_list != r.is_list) {
		fail(c, COMPILE, &rhs->pos, "cannot compare %s with %s", field_type_name(l.type),
		     field_type_name(r.type));
		return -1;
	}
	return 0;
}

/* ---- macro expansion ----------------------------------------------------------------- */

/* Counts into *count the nodes expand() would make of n (checks and and/or/not), stopping
 * once there are more than MAX_EXPANDED_NODES: then *top is the macro reference of the
 * condition's own text under which that happened. Touches only what is counted (at most the
 * limit), so it is cheap however large the expansion; *top is NULL when it happened in the
 * condition's own text. Undefined macros, loops and depth are
 * left to expand(), which reports them. */
static bool count_expanded(struct checker *c, const struct cond_node *n, size_t *count,
			   const struct cond_node **top)
{
	const struct cond_node *body;

	switch (n->kind) {
	case COND_AND:
	case COND_OR:
	case COND_NOT:
		if (++*count > MAX_EXPANDED_NODES)
			return true;
		for (size_t i = 0; i < n->nkids; i++)
			if (count_expanded(c, n->kids[i], count, top))
				return true;
		return false;
	case COND_MACRO:
		body = c->env->macro(c->env->ctx, n->text);
		if (!body || c->depth == MAX_MACRO_DEPTH)
			return false;
		for (int i = 0; i < c->depth; i++)
			if (c->bodies[i] == body)
				return false;
		if (!c->depth)
			*top = n;
		c->bodies[c->depth++] = body;
		if (count_expanded(c, body, count, top))
			return true;
		if (!--c->depth)
			*top = NULL;
		return false;
	default:
		return ++*count > MAX_EXPANDED_NODES;
	}
}

static struct cond_node *expand(struct checker *c, const struct cond_node *n)
{
	struct cond_node *out, *k;

	switch (n->kind) {
	case COND_AND:
	case COND_OR:
	case COND_NOT:
		out = cond_node_new(n->kind, n->pos);
		if (!out) {
			fail(c, COMPILE, &n->pos, "out of memory");
			return NULL;
		}
		for (size_t i = 0; i < n->nkids; i++) {
			k = expand(c, n->kids[i]);
			if (!k || cond_node_add(out, k)) {
				cond_node_free(out);
				return NULL;
			}
		}
		return out;
	case COND_MACRO: {
		const struct cond_node *body = c->env->macro(c->env->ctx, n->text);

		if (!body) {
			fail(c, "LOAD_ERR_VALIDATE", &n->pos, "undefined macro '%s' used in filter",
			     n->text);
			return NULL;
		}
		for (int i = 0; i < c->depth; i++) {
			if (strcmp(c->stack[i], n->text) == 0) {
				fail(c, "LOAD_ERR_VALIDATE", &n->pos,
				     "macro '%s' refers to itself (a loop through %d macro%s)",
				     n->text, c->depth - i, c->depth - i == 1 ? "" : "s");
				return NULL;
			}
		}
		if (c->depth == MAX_MACRO_DEPTH) {
			fail(c, "LOAD_ERR_VALIDATE", &n->pos, "macros nested more than %d deep",
			     MAX_MACRO_DEPTH);
			return NULL;
		}
		c->stack[c->depth++] = n->text;
		out = expand(c, body);
		c->depth--;
		return out;
	}
	case COND_EXISTS:
	case COND_COMPARE:
		if (check_compare(c, n))
			return NULL;
		out = cond_node_clone(n);
		if (!out)
			fail(c, COMPILE, &n->pos, "out of memory");
		return out;
	default:
		fail(c, COMPILE, &n->pos, "expected a check, found a %s",
		     cond_node_kind_name(n->kind));
		return NULL;
	}
}

struct cond_node *cond_check(const struct cond_node *ast, const struct check_env *env,
			     struct check_error *err)
{
	struct checker c = {.env = env, .err = err};
	const struct cond_node *top = NULL;
	size_t count = 0;

	memset(err, 0, sizeof(*err));
	if (count_expanded(&c, ast, &count, &top)) {
		c.depth = 0;
		if (!top)
			top = ast;
		fail(&c, COMPILE, &top->pos,
		     "condition too large: more than %d checks and and/or/not once macros are "
		     "expanded%s%s%s",
		     MAX_EXPANDED_NODES, top->kind == COND_MACRO ? " (through macro '" : "",
		     top->kind == COND_MACRO ? top->text : "", top->kind == COND_MACRO ? "')" : "");
		return NULL;
	}
	return expand(&c, ast);
}

/* ---- event types (spec c.1) ------------------------------------------------------------ */

static bool is_plain_field(const struct cond_node *n, const char *name)
{
	return n->kind == COND_FIELD && !n->arg && strcmp(n->text, name) == 0;
}

/* evt.num checks that are statically true (1) or false (0); -1 when neither. */
static int evt_num_invariant(const struct cond_node *n)
{
	const struct cond_node *rhs = n->nkids > 1 ? n->kids[1] : NULL;
	const char *v;

	if (!rhs || n->mod != COND_MOD_NONE)
		return -1;
	if (n->op == COND_OP_IN && rhs->kind == COND_LIST) {
		for (size_t i = 0; i < rhs->nkids; i++)
			if (strcmp(rhs->kids[i]->text, "0") != 0)
				return -1;
		return 0;
	}
	if (rhs->kind != COND_VALUE)
		return -1;
	v = rhs->text;
	switch (n->op) {
	case COND_OP_EQ:
	case COND_OP_EQEQ:
		return strcmp(v, "0") == 0 ? 0 : -1;
	case COND_OP_NE:
	case COND_OP_GT:
		return strcmp(v, "0") == 0 ? 1 : -1;
	case COND_OP_GE:
		return strcmp(v, "0") == 0 || strcmp(v, "1") == 0 ? 1 : -1;
	case COND_OP_LT:
		return strcmp(v, "0") == 0 || strcmp(v, "1") == 0 ? 0 : -1;
	case COND_OP_LE:
		return strcmp(v, "0") == 0 ? 0 : -1;
	default:
		return -1;
	}
}

static void visit(const struct cond_node *n, bool negated, struct evtset *out)
{
	struct evtset k;
	int inv;

	switch (n->kind) {
	case COND_AND:
	case COND_OR: {
		bool inter = (n->kind == COND_AND) != negated;

		if (inter)
			evtset_all(out);
		else
			evtset_clear(out);
		for (size_t i = 0; i < n->nkids; i++) {
			visit(n->kids[i], negated, &k);
			if (inter)
				evtset_intersect(out, &k);
			else
				evtset_union(out, &k);
		}
		return;
	}
	case COND_NOT:
		visit(n->kids[0], !negated, out);
		return;
	case COND_EXISTS:
		if (is_plain_field(n->kids[0], "evt.type") && negated)
			evtset_clear(out);
		else
			evtset_all(out);
		return;
	case COND_COMPARE:
		if (is_plain_field(n->kids[0], "evt.type") && n->mod == COND_MOD_NONE &&
		    (n->op == COND_OP_EQ || n->op == COND_OP_EQEQ || n->op == COND_OP_NE ||
		     n->op == COND_OP_IN) &&
		    (n->kids[1]->kind == COND_VALUE || n->kids[1]->kind == COND_LIST)) {
			const struct cond_node *r = n->kids[1];
			size_t nv = r->kind == COND_LIST ? r->nkids : 1;

			evtset_clear(out);
			for (size_t i = 0; i < nv; i++) {
				const char *v = r->kind == COND_LIST ? r->kids[i]->text : r->text;
				int code = evttype_code(v, strlen(v));

				if (code >= 0)
					evtset_add(out, (unsigned)code);
			}
			if (n->op == COND_OP_NE)
				evtset_invert(out);
			if (negated)
				evtset_invert(out);
			return;
		}
		if (is_plain_field(n->kids[0], "evt.num") && (inv = evt_num_invariant(n)) >= 0) {
			if ((inv == 1) != negated)
				evtset_all(out);
			else
				evtset_clear(out);
			return;
		}
		evtset_all(out);
		return;
	default:
		evtset_all(out);
		return;
	}
}

void cond_evttypes(const struct cond_node *checked, struct evtset *out)
{
	visit(checked, false, out);
}
