/*
 * Checked condition tree to VM program (compile.h).
 *
 * Code generation follows Lua's lcode.c: gen(node, jump_if, list) emits code that jumps to
 * the instructions chained on *list when node evaluates to jump_if, and falls through
 * otherwise. Jump lists are chained through the target fields of the pending jumps
 * themselves and patched once the target is known; every target is patched to a point after
 * the jump, so all jumps are forward. "not" just flips jump_if: no instruction.
 */
#include "compile.h"

#include "strmatch.h"
#include "services.h"

#include <arpa/inet.h>
#include <errno.h>
#include <regex.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "strbuf.h"

#define NO_JUMP 0xffff

struct comp {
	struct vm_prog *p;
	size_t insns_cap, consts_cap, slots_cap;
	char *err;
	size_t errlen;
};

static int fail(struct comp *c, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static int fail(struct comp *c, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(c->err, c->errlen, fmt, ap);
	va_end(ap);
	return -1;
}

static void *grow(void *arr, size_t *cap, size_t n, size_t size)
{
	void *a;
	size_t ncap;

	if (n < *cap)
		return arr;
	ncap = *cap ? 2 * *cap : 8;
	a = realloc(arr, ncap * size);
	if (a)
		*cap = ncap;
	return a;
}

static char *node_text(const struct cond_node *n)
{
	struct strbuf sb = STRBUF_INIT;
	char *s;

	cond_node_print(&sb, n);
	s = strdup(sb.buf ? sb.buf : "");
	sb_release(&sb);
	return s;
}

/* ---- instructions and jump lists ------------------------------------------------------- */

static int emit(struct comp *c, enum vm_opcode op, uint8_t cmp, unsigned slot, unsigned k)
{
	struct vm_prog *p = c->p;
	struct vm_insn *a;

	if (p->n_insns >= VM_MAX_INSNS - 1)
		return fail(c, "condition too large: more than %d instructions", VM_MAX_INSNS - 1);
	a = grow(p->insns, &c->insns_cap, p->n_insns, sizeof(*a));
	if (!a)
		return fail(c, "out of memory");
	p->insns = a;
	a[p->n_insns] = (struct vm_insn){.op = (uint8_t)op,
					 .cmp = cmp,
					 .slot = (uint16_t)slot,
					 .k = (uint16_t)k,
					 .target = NO_JUMP};
	return (int)p->n_insns++;
}

/* Adds jump j to *list. */
static void list_add(struct comp *c, int *list, int j)
{
	c->p->insns[j].target = *list < 0 ? NO_JUMP : (uint16_t)*list;
	*list = j;
}

/* Points every jump on list to the next instruction to be emitted. */
static void patch_here(struct comp *c, int list)
{
	while (list >= 0) {
		struct vm_insn *in = &c->p->insns[list];
		int next = in->target == NO_JUMP ? -1 : in->target;

		in->target = (uint16_t)c->p->n_insns;
		list = next;
	}
}

/* ---- slots ----------------------------------------------------------------------------- */

static bool is_multi(enum cond_tr tr)
{
	return tr == COND_TR_JOIN || tr == COND_TR_CONCAT || tr == COND_TR_GETOPT;
}

static int operand_slot(struct comp *c, const struct cond_node *n);
static int str_const(struct comp *c, const struct cond_node *v);

/* The arguments of a multi-input transformer slot, as they are built. */
struct args {
	struct vm_arg *a;
	size_t n, cap;
};

static int add_arg(struct comp *c, struct args *av, enum vm_arg_kind kind, size_t index)
{
	struct vm_arg *a;

	if (av->n >= 0xffff || index > 0xffff)
		return fail(c, "condition too large: a transformer with too many arguments");
	a = grow(av->a, &av->cap, av->n, sizeof(*a));
	if (!a)
		return fail(c, "out of memory");
	av->a = a;
	a[av->n++] = (struct vm_arg){.kind = (uint16_t)kind, .index = (uint16_t)index};
	return 0;
}

/* One argument or list item: a string constant for a value, else the operand's slot. */
static int add_item(struct comp *c, struct args *av, const struct cond_node *k)
{
	bool value = k->kind == COND_VALUE;
	int i = value ? str_const(c, k) : operand_slot(c, k);

	if (i < 0)
		return -1;
	return add_arg(c, av, value ? VM_A_CONST : VM_A_SLOT, (size_t)i);
}

/* The arguments of join, concat or getopt, in order (see struct vm_arg). */
static int build_args(struct comp *c, const struct cond_node *n, struct args *av)
{
	for (size_t i = 0; i < n->nkids; i++) {
		const struct cond_node *k = n->kids[i];

		if (k->kind != COND_LIST) {
			if (add_item(c, av, k))
				return -1;
			continue;
		}
		if (add_arg(c, av, VM_A_LIST, k->nkids))
			return -1;
		for (size_t j = 0; j < k->nkids; j++)
			if (add_item(c, av, k->kids[j]))
				return -1;
	}
	return 0;
}

static int operand_slot(struct comp *c, const struct cond_node *n)
{
	struct vm_prog *p = c->p;
	struct vm_slot s = {0}, *a;
	struct args av = {0};
	char *text;
	int input = -1;

	if (n->kind == COND_TRANSFORM && n->tr == COND_TR_VAL && n->nkids == 1)
		return operand_slot(c, n->kids[0]);
	if (n->kind != COND_FIELD && n->kind != COND_TRANSFORM)
		return fail(c, "expected a field or a transformer");
	if (n->kind == COND_TRANSFORM && !is_multi(n->tr)) {
		if (n->nkids != 1)
			return fail(c, "transformer '%s' takes one argument", cond_tr_name(n->tr));
		input = operand_slot(c, n->kids[0]);
		if (input < 0)
			return -1;
	}
	text = node_text(n);
	if (!text)
		return fail(c, "out of memory");
	for (size_t i = 0; i < p->n_slots; i++)
		if (strcmp(p->slots[i].text, text) == 0) {
			free(text);
			return (int)i;
		}
	s.text = text;
	if (n->kind == COND_FIELD) {
		struct field_ref ref;

		if (fields_resolve_arg(n->text, strlen(n->text), n->arg,
				       n->arg ? strlen(n->arg) : 0, &ref, c->err, c->errlen))
			goto fail;
		s.is_field = true;
		s.field.def = ref.def;
		s.type = ref.def->type;
		s.is_list = ref.def->flags & FF_IS_LIST;
		if (ref.has_arg && !(s.field.arg = strndup(ref.arg, ref.arg_len))) {
			fail(c, "out of memory");
			goto fail;
		}
	} else if (is_multi(n->tr)) {
		/* Its inputs take lower slots; its own text is new, so none of them is it. */
		if (build_args(c, n, &av))
			goto fail;
		s.tr = n->tr;
		s.args = av.a;
		s.n_args = (uint16_t)av.n;
		s.type = FT_CHARBUF;
		s.is_list = n->tr == COND_TR_GETOPT && !n->arg;
		s.sel = n->tr == COND_TR_GETOPT && n->arg ? n->arg[0] : 0;
	} else {
		s.tr = n->tr;
		s.input = (uint16_t)input;
		s.type = n->tr == COND_TR_LEN ? FT_UINT64 : p->slots[input].type;
	}
	if (p->n_slots >= VM_MAX_SLOTS) {
		fail(c, "condition too large: more than %d distinct fields", VM_MAX_SLOTS);
		goto fail;
	}
	a = grow(p->slots, &c->slots_cap, p->n_slots, sizeof(*a));
	if (!a) {
		fail(c, "out of memory");
		goto fail;
	}
	p->slots = a;
	a[p->n_slots] = s;
	return (int)p->n_slots++;
fail:
	free(text);
	free((char *)s.field.arg);
	free(av.a);
	return -1;
}

/* ---- constants ------------------------------------------------------------------------- */

static int hexval(char ch)
{
	if (ch >= '0' && ch <= '9')
		return ch - '0';
	if (ch >= 'a' && ch <= 'f')
		return ch - 'a' + 10;
	if (ch >= 'A' && ch <= 'F')
		return ch - 'A' + 10;
	return -1;
}

static int set_str(struct comp *c, struct vm_value *v, const char *s, size_t len)
{
	char *d = malloc(len + 1);

	if (!d)
		return fail(c, "out of memory");
	memcpy(d, s, len);
	d[len] = '\0';
	v->kind = VM_V_STR;
	v->str.s = d;
	v->str.len = len;
	return 0;
}

/* A new, empty constant at the end of the pool, with text (the node as written) for the
 * disassembler; NULL (error set) when the pool is full or memory runs out. */
static struct vm_const *new_const(struct comp *c, const struct cond_node *text)
{
	struct vm_prog *p = c->p;
	struct vm_const *a, *k;

	if (p->n_consts >= VM_MAX_CONSTS) {
		fail(c, "condition too large: more than %d constants", VM_MAX_CONSTS);
		return NULL;
	}
	a = grow(p->consts, &c->consts_cap, p->n_consts, sizeof(*a));
	if (!a) {
		fail(c, "out of memory");
		return NULL;
	}
	p->consts = a;
	k = &a[p->n_consts];
	memset(k, 0, sizeof(*k));
	k->v.kind = VM_V_LIST; /* nothing owned yet, safe to free */
	p->n_consts++;
	k->text = node_text(text);
	if (!k->text) {
		fail(c, "out of memory");
		return NULL;
	}
	return k;
}

/* Adds a string constant for a transformer's literal argument; returns its index. */
static int str_const(struct comp *c, const struct cond_node *v)
{
	struct vm_prog *p = c->p;
	struct vm_const *k = new_const(c, v);

	if (!k)
		return -1;
	k->kind = VM_K_VALUE;
	if (set_str(c, &k->v, v->text, strlen(v->text)))
		return -1;
	return (int)p->n_consts - 1;
}

static int parse_ip(const char *s, struct vm_value *v)
{
	v->kind = VM_V_IP;
	v->ip.family = strchr(s, '.') ? AF_INET : AF_INET6;
	memset(v->ip.addr, 0, sizeof(v->ip.addr));
	return inet_pton(v->ip.family, s, v->ip.addr) == 1 ? 0 : -1;
}

static int parse_net(const char *s, struct vm_value *v)
{
	char buf[64];
	const char *slash = strchr(s, '/');
	size_t alen = slash ? (size_t)(slash - s) : strlen(s);
	unsigned max;
	char *end;
	unsigned long bits;

	if (alen >= sizeof(buf))
		return -1;
	memcpy(buf, s, alen);
	buf[alen] = '\0';
	if (parse_ip(buf, v))
		return -1;
	max = v->ip.family == AF_INET ? 32 : 128;
	v->kind = VM_V_NET;
	v->ip.prefix = max;
	if (!slash)
		return v->ip.family == AF_INET ? -1 : 0;
	errno = 0;
	bits = strtoul(slash + 1, &end, 10);
	if (!slash[1] || *end || errno || bits > max)
		return -1;
	v->ip.prefix = (unsigned)bits;
	return 0;
}

/* Converts value text s as the left operand's type wants it (spec a.5). */
static int convert(struct comp *c, enum field_type type, enum cond_op op, const char *s,
		   struct vm_value *v)
{
	char *end;

	errno = 0;
	switch (type) {
	case FT_INT64:
		v->kind = VM_V_INT;
		v->i = strtoll(s, &end, 10);
		break;
	case FT_UINT64:
	case FT_UINT32:
	case FT_RELTIME:
	case FT_ABSTIME:
		v->kind = VM_V_UINT;
		v->u = strtoull(s, &end, 10);
		if (type == FT_UINT32)
			v->u &= 0xffffffffu;
		break;
	case FT_PORT:
		v->kind = VM_V_UINT;
		end = (char *)s;
		if (!*s)
			v->u = 0;
		else if (s[strspn(s, "0123456789")] == '\0' &&
			 (v->u = strtoull(s, &end, 10)) <= 65535)
			;
		else if (services_port(s, &v->u) == 0)
			return 0; /* (its file lookup may have set errno: not an error here) */
		else
			return fail(c, "'%s' is not a valid PORT value", s);
		if (!*s)
			return 0;
		break;
	case FT_BOOL:
		v->kind = VM_V_BOOL;
		if (strcmp(s, "true") && strcmp(s, "false"))
			return fail(c, "'%s' is not a valid BOOL value", s);
		v->b = s[0] == 't';
		return 0;
	case FT_IPADDR:
		if (parse_ip(s, v))
			return fail(c, "'%s' is not a valid IPADDR value", s);
		return 0;
	case FT_IPNET:
		if (parse_net(s, v))
			return fail(c, "'%s' is not a valid IPNET value", s);
		return 0;
	case FT_BYTEBUF:
		if (op == COND_OP_BCONTAINS || op == COND_OP_BSTARTSWITH) {
			size_t n = strlen(s);
			char *d;

			if (n % 2)
				return fail(c, "'%s' is not a valid hex string", s);
			d = malloc(n / 2 + 1);
			if (!d)
				return fail(c, "out of memory");
			for (size_t i = 0; i < n / 2; i++) {
				int hi = hexval(s[2 * i]), lo = hexval(s[2 * i + 1]);

				if (hi < 0 || lo < 0) {
					free(d);
					return fail(c, "'%s' is not a valid hex string", s);
				}
				d[i] = (char)(hi << 4 | lo);
			}
			d[n / 2] = '\0';
			v->kind = VM_V_STR;
			v->str.s = d;
			v->str.len = n / 2;
			return 0;
		}
		return set_str(c, v, s, strlen(s));
	default:
		return set_str(c, v, s, strlen(s));
	}
	if (!*s || *end || errno)
		return fail(c, "'%s' is not a valid %s value", s, field_type_name(type));
	return 0;
}

static int compile_regex(struct comp *c, regex_t *re, const char *pat)
{
	size_t n = strlen(pat) + 5;
	char *anchored = malloc(n);
	int rc;

	if (!anchored)
		return fail(c, "out of memory");
	snprintf(anchored, n, "^(%s)$", pat);
	rc = regcomp(re, anchored, REG_EXTENDED | REG_NOSUB);
	free(anchored);
	if (rc) {
		char why[128];

		regerror(rc, re, why, sizeof(why));
		return fail(c, "invalid regex '%s': %s", pat, why);
	}
	return 0;
}

/* A prefix (or, reversed, suffix) trie over a set of strings, for startswith/endswith anyof:
 * one walk of the subject instead of a test per item. Sets with other kinds of items keep
 * the item-by-item test. */
static int build_trie(struct comp *c, struct vm_const *k, bool reversed)
{
	size_t n = k->v.list.n;
	const char **items = calloc(n ? n : 1, sizeof(*items));
	size_t *lens = calloc(n ? n : 1, sizeof(*lens));
	int rc = 0;

	if (!items || !lens) {
		rc = fail(c, "out of memory");
		goto out;
	}
	for (size_t i = 0; i < n; i++) {
		if (k->v.list.items[i].kind != VM_V_STR)
			goto out;
		items[i] = k->v.list.items[i].str.s;
		lens[i] = k->v.list.items[i].str.len;
	}
	k->trie = trie_build(items, lens, n, reversed);
	if (!k->trie)
		rc = fail(c, "out of memory");
out:
	free(items);
	free(lens);
	return rc;
}

static int build_hash(struct comp *c, struct vm_const *k)
{
	size_t size = 8;

	for (size_t i = 0; i < k->v.list.n; i++)
		if (k->v.list.items[i].kind != VM_V_STR)
			return 0;
	while (size < 2 * k->v.list.n)
		size *= 2;
	k->hash = calloc(size, sizeof(*k->hash));
	if (!k->hash)
		return fail(c, "out of memory");
	k->hash_size = size;
	for (size_t i = 0; i < k->v.list.n; i++) {
		const struct vm_value *it = &k->v.list.items[i];
		size_t j = vm_hash(it->str.s, it->str.len) & (size - 1);

		while (k->hash[j])
			j = (j + 1) & (size - 1);
		k->hash[j] = (uint32_t)(i + 1);
	}
	return 0;
}

/* Converts rhs (a VALUE or a LIST of VALUEs) into a new constant; returns its index. */
static int add_const(struct comp *c, const struct vm_slot *lhs, enum cond_op op, enum cond_mod mod,
		     const struct cond_node *rhs)
{
	struct vm_prog *p = c->p;
	struct vm_const *k;
	bool listy = mod != COND_MOD_NONE || op == COND_OP_IN || op == COND_OP_INTERSECTS ||
		     op == COND_OP_PMATCH;
	const struct cond_node *one = rhs;
	size_t n;
	struct vm_value *items;

	k = new_const(c, rhs);
	if (!k)
		return -1;
	if (!listy) {
		if (rhs->kind != COND_VALUE)
			return fail(c, "operator '%s' needs a single value", cond_op_name(op));
		if (op == COND_OP_REGEX) {
			k->kind = VM_K_REGEX;
			k->re = calloc(1, sizeof(regex_t));
			if (!k->re)
				return fail(c, "out of memory");
			if (compile_regex(c, k->re, one->text)) {
				free(k->re);
				k->re = NULL;
				return -1;
			}
			if (set_str(c, &k->v, one->text, strlen(one->text)))
				return -1;
			return (int)p->n_consts - 1;
		}
		k->kind = VM_K_VALUE;
		if (convert(c, lhs->type, op, one->text, &k->v)) {
			/* convert may have set part of the union: own nothing, free nothing. */
			memset(&k->v, 0, sizeof(k->v));
			k->v.kind = VM_V_LIST;
			return -1;
		}
		return (int)p->n_consts - 1;
	}
	k->kind = op == COND_OP_PMATCH ? VM_K_PMATCH : VM_K_SET;
	n = rhs->kind == COND_LIST ? rhs->nkids : 1;
	items = calloc(n ? n : 1, sizeof(*items));
	if (!items)
		return fail(c, "out of memory");
	k->v.list.items = items;
	for (size_t i = 0; i < n; i++) {
		const struct cond_node *it = rhs->kind == COND_LIST ? rhs->kids[i] : rhs;

		if (it->kind != COND_VALUE)
			return fail(c, "list items must be values");
		items[i].kind = VM_V_LIST; /* owns nothing yet */
		if (op == COND_OP_REGEX || op == COND_OP_PMATCH
			? set_str(c, &items[i], it->text, strlen(it->text))
			: convert(c, lhs->type, op, it->text, &items[i])) {
			memset(&items[i], 0, sizeof(items[i]));
			items[i].kind = VM_V_LIST;
			return -1;
		}
		k->v.list.n = i + 1;
	}
	if (op == COND_OP_REGEX) {
		regex_t *re = calloc(n ? n : 1, sizeof(*re));

		if (!re)
			return fail(c, "out of memory");
		for (size_t i = 0; i < n; i++)
			if (compile_regex(c, &re[i], items[i].str.s)) {
				for (size_t j = 0; j < i; j++)
					regfree(&re[j]);
				free(re);
				return -1;
			}
		k->re = re;
	}
	if (mod == COND_MOD_ANYOF &&
	    (op == COND_OP_STARTSWITH || op == COND_OP_BSTARTSWITH || op == COND_OP_ENDSWITH) &&
	    build_trie(c, k, op == COND_OP_ENDSWITH))
		return -1;
	if (mod == COND_MOD_NONE && op != COND_OP_PMATCH && build_hash(c, k))
		return -1;
	return (int)p->n_consts - 1;
}

/* ---- code generation ------------------------------------------------------------------- */

static int gen(struct comp *c, const struct cond_node *n, bool jump_if, int *list)
{
	int local = -1, slot, k, j;

	switch (n->kind) {
	case COND_AND:
	case COND_OR: {
		/* and: jump out on the first false kid (when jump_if is false), or fall through
		 * past the last kid on a false one (when true); or is the mirror image. */
		bool stop_on = n->kind == COND_OR;

		for (size_t i = 0; i < n->nkids; i++) {
			bool last = i + 1 == n->nkids;

			if (jump_if == stop_on || last) {
				if (gen(c, n->kids[i], jump_if, list))
					return -1;
			} else if (gen(c, n->kids[i], stop_on, &local)) {
				return -1;
			}
		}
		patch_here(c, local);
		return 0;
	}
	case COND_NOT:
		return gen(c, n->kids[0], !jump_if, list);
	case COND_EXISTS:
		slot = operand_slot(c, n->kids[0]);
		if (slot < 0)
			return -1;
		j = emit(c, jump_if ? VM_OP_EXISTS_JT : VM_OP_EXISTS_JF, 0, (unsigned)slot, 0);
		if (j < 0)
			return -1;
		list_add(c, list, j);
		return 0;
	case COND_COMPARE: {
		const struct cond_node *rhs = n->kids[1];
		bool field_rhs = rhs->kind == COND_TRANSFORM;
		enum vm_opcode op;

		slot = operand_slot(c, n->kids[0]);
		if (slot < 0)
			return -1;
		if (field_rhs) {
			k = operand_slot(c, rhs);
			op = jump_if ? VM_OP_CMPF_JT : VM_OP_CMPF_JF;
		} else {
			k = add_const(c, &c->p->slots[slot], n->op, n->mod, rhs);
			op = jump_if ? VM_OP_CMP_JT : VM_OP_CMP_JF;
		}
		if (k < 0)
			return -1;
		j = emit(c, op, VM_CMP(n->op, n->mod), (unsigned)slot, (unsigned)k);
		if (j < 0)
			return -1;
		list_add(c, list, j);
		return 0;
	}
	case COND_MACRO:
		return fail(c, "macro '%s' was not expanded", n->text);
	default:
		return fail(c, "unexpected %s node in a condition", cond_node_kind_name(n->kind));
	}
}

int compile_rule(const struct cond_node *checked, struct vm_prog **out, char *err, size_t errlen)
{
	struct comp c = {.err = err, .errlen = errlen};
	int fl = -1;

	*out = NULL;
	c.p = calloc(1, sizeof(*c.p));
	if (!c.p) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	if (gen(&c, checked, false, &fl) || emit(&c, VM_OP_ACCEPT, 0, 0, 0) < 0)
		goto fail;
	patch_here(&c, fl);
	if (emit(&c, VM_OP_REJECT, 0, 0, 0) < 0 || vm_prog_validate(c.p, err, errlen))
		goto fail;
	*out = c.p;
	return 0;
fail:
	vm_prog_free(c.p);
	return -1;
}
