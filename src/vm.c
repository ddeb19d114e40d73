/*
 * The rule VM interpreter, validator, disassembler (see vm.h for the instruction format and
 * the value semantics).
 */
#include "vm.h"

#include "strmatch.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <fnmatch.h>
#include <regex.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "strbuf.h"

static const struct {
	const char *name;
	const char *operands;
	bool is_jump;
	const char *doc;
} op_info[] = {
#define VM_X(name, operands, is_jump, doc) {#name, operands, is_jump, doc},
    VM_OPCODES(VM_X)
#undef VM_X
};

const char *vm_op_name(unsigned op)
{
	return op < VM_OP_COUNT ? op_info[op].name : "?";
}

const char *vm_op_doc(unsigned op)
{
	return op < VM_OP_COUNT ? op_info[op].doc : "?";
}

uint32_t vm_hash(const char *s, size_t len)
{
	uint32_t h = 2166136261u;

	for (size_t i = 0; i < len; i++) {
		h ^= (unsigned char)s[i];
		h *= 16777619u;
	}
	return h;
}

/* ---- validation ------------------------------------------------------------------------ */

static bool const_fits(const struct vm_const *k, enum cond_op op, enum cond_mod mod)
{
	if (op == COND_OP_REGEX && mod == COND_MOD_NONE)
		return k->kind == VM_K_REGEX;
	if (op == COND_OP_PMATCH)
		return k->kind == VM_K_PMATCH;
	if (mod != COND_MOD_NONE || op == COND_OP_IN || op == COND_OP_INTERSECTS)
		return k->kind == VM_K_SET;
	return k->kind == VM_K_VALUE;
}

static bool is_multi(enum cond_tr tr)
{
	return tr == COND_TR_JOIN || tr == COND_TR_CONCAT || tr == COND_TR_GETOPT;
}

/* A SLOT or CONST argument of slot i: a lower slot, or a string constant. */
static bool arg_ref_ok(const struct vm_prog *p, size_t i, const struct vm_arg *a)
{
	if (a->kind == VM_A_SLOT)
		return a->index < i;
	return a->kind == VM_A_CONST && a->index < p->n_consts &&
	       p->consts[a->index].kind == VM_K_VALUE && p->consts[a->index].v.kind == VM_V_STR;
}

static bool arg_is_list(const struct vm_prog *p, const struct vm_arg *a)
{
	return a->kind == VM_A_LIST || (a->kind == VM_A_SLOT && p->slots[a->index].is_list);
}

/* The arguments of multi-input transformer slot i (see struct vm_arg). */
static bool args_ok(const struct vm_prog *p, size_t i)
{
	const struct vm_slot *s = &p->slots[i];
	const struct vm_arg *top[2] = {NULL, NULL};
	size_t ntop = 0;

	if (!s->n_args || !s->args || s->is_list != (s->tr == COND_TR_GETOPT && !s->sel) ||
	    (s->sel && s->tr != COND_TR_GETOPT))
		return false;
	for (size_t j = 0; j < s->n_args; j++) {
		const struct vm_arg *a = &s->args[j];

		if (ntop < 2)
			top[ntop] = a;
		ntop++;
		if (a->kind != VM_A_LIST) {
			if (!arg_ref_ok(p, i, a))
				return false;
			continue;
		}
		if (a->index > s->n_args - j - 1)
			return false;
		for (size_t k = j + 1; k <= j + a->index; k++)
			if (!arg_ref_ok(p, i, &s->args[k]) || arg_is_list(p, &s->args[k]))
				return false;
		j += a->index;
	}
	switch (s->tr) {
	case COND_TR_CONCAT:
		if (ntop < 2)
			return false;
		for (size_t j = 0; j < s->n_args; j++)
			if (arg_is_list(p, &s->args[j]))
				return false;
		return true;
	case COND_TR_JOIN:
		return ntop == 2 && !arg_is_list(p, top[0]) && arg_is_list(p, top[1]);
	default: /* getopt */
		return ntop == 2 && !arg_is_list(p, top[1]);
	}
}

static bool slot_ok(const struct vm_prog *p, size_t i)
{
	const struct vm_slot *s = &p->slots[i];

	if (s->is_field)
		return s->field.def != NULL;
	if (s->tr >= COND_TR_COUNT || s->tr == COND_TR_VAL)
		return false;
	return is_multi(s->tr) ? args_ok(p, i) : s->input < i;
}

int vm_prog_validate(const struct vm_prog *p, char *err, size_t errlen)
{
	if (!p->n_insns || p->n_insns > VM_MAX_INSNS) {
		snprintf(err, errlen, "program has %zu instructions", p->n_insns);
		return -1;
	}
	if (p->n_slots > VM_MAX_SLOTS || p->n_consts > VM_MAX_CONSTS) {
		snprintf(err, errlen, "too many slots or constants");
		return -1;
	}
	for (size_t i = 0; i < p->n_slots; i++) {
		if (!slot_ok(p, i)) {
			snprintf(err, errlen, "slot %zu: bad field or transformer input", i);
			return -1;
		}
	}
	for (size_t i = 0; i < p->n_insns; i++) {
		const struct vm_insn *in = &p->insns[i];
		const char *ops;

		if (in->op >= VM_OP_COUNT) {
			snprintf(err, errlen, "insn %zu: unknown opcode %u", i, in->op);
			return -1;
		}
		ops = op_info[in->op].operands;
		if (op_info[in->op].is_jump && (in->target <= i || in->target >= p->n_insns)) {
			snprintf(err, errlen, "insn %zu: jump to %u is not forward and in bounds",
				 i, in->target);
			return -1;
		}
		if (strchr(ops, 'S') && in->slot >= p->n_slots) {
			snprintf(err, errlen, "insn %zu: slot %u out of range", i, in->slot);
			return -1;
		}
		if (strchr(ops, 'F') && in->k >= p->n_slots) {
			snprintf(err, errlen, "insn %zu: slot %u out of range", i, in->k);
			return -1;
		}
		if (strchr(ops, 'C') &&
		    (VM_CMP_OP(in->cmp) >= COND_OP_COUNT || VM_CMP_OP(in->cmp) == COND_OP_EXISTS)) {
			snprintf(err, errlen, "insn %zu: bad operator", i);
			return -1;
		}
		if (strchr(ops, 'K') &&
		    (in->k >= p->n_consts ||
		     !const_fits(&p->consts[in->k], VM_CMP_OP(in->cmp), VM_CMP_MOD(in->cmp)))) {
			snprintf(err, errlen,
				 "insn %zu: constant %u out of range or of the wrong kind", i,
				 in->k);
			return -1;
		}
	}
	if (op_info[p->insns[p->n_insns - 1].op].is_jump ||
	    (p->insns[p->n_insns - 1].op != VM_OP_ACCEPT &&
	     p->insns[p->n_insns - 1].op != VM_OP_REJECT)) {
		snprintf(err, errlen, "the last instruction is not ACCEPT or REJECT");
		return -1;
	}
	return 0;
}

/* ---- evaluation state ------------------------------------------------------------------ */

enum {
	SV_UNKNOWN,
	SV_PRESENT,
	SV_MISSING
};

struct slotval {
	int state;
	const struct vm_value *vp; /* the value: &v, or the memo's copy */
	uint64_t *hashp;	   /* where its hash is kept: &hash, or the memo's */
	struct vm_value v;
	uint64_t hash; /* of a string value, for set lookups: 1 << 32 | hash; 0 not yet */
};

struct vm_memo {
	uint32_t epoch; /* the current event; entries of other epochs are stale */
	unsigned n_checks, n_fields;
	uint32_t *check_epoch;
	uint8_t *check_val;
	uint32_t *field_epoch;
	int8_t *field_rc;
	struct vm_value *field_val;
	uint64_t *field_hash;
};

struct vm_state {
	const struct vm_prog *p;
	const struct vm_fieldsrc *src;
	const struct vm_memo_ids *ids; /* NULL: nothing shared */
	struct vm_memo *memo;
	struct slotval sv[VM_MAX_SLOTS];
	void **allocs;
	size_t nallocs, allocs_cap;
	bool oom;
};

static void *st_alloc(struct vm_state *st, size_t n)
{
	void *m;

	if (st->nallocs == st->allocs_cap) {
		size_t cap = st->allocs_cap ? 2 * st->allocs_cap : 8;
		void **a = realloc(st->allocs, cap * sizeof(*a));

		if (!a)
			return NULL;
		st->allocs = a;
		st->allocs_cap = cap;
	}
	m = malloc(n ? n : 1);
	if (m)
		st->allocs[st->nallocs++] = m;
	return m;
}

/* ---- transformers ---------------------------------------------------------------------- */

static int b64_digit(unsigned char c)
{
	if (c >= 'A' && c <= 'Z')
		return c - 'A';
	if (c >= 'a' && c <= 'z')
		return c - 'a' + 26;
	if (c >= '0' && c <= '9')
		return c - '0' + 52;
	if (c == '+')
		return 62;
	if (c == '/')
		return 63;
	return -1;
}

/* Standard base64 with optional padding. Returns the decoded length or -1 when invalid. */
static long b64_decode(const char *s, size_t len, char *out)
{
	size_t n = 0, pad = 0;
	unsigned acc = 0, bits = 0;

	while (pad < 2 && len > 0 && s[len - 1] == '=') {
		len--;
		pad++;
	}
	if (pad && (len + pad) % 4)
		return -1;
	if (len % 4 == 1)
		return -1;
	for (size_t i = 0; i < len; i++) {
		int d = b64_digit((unsigned char)s[i]);

		if (d < 0)
			return -1;
		acc = (acc << 6) | (unsigned)d;
		bits += 6;
		if (bits >= 8) {
			bits -= 8;
			out[n++] = (char)((acc >> bits) & 0xff);
		}
	}
	return (long)n;
}

/* Applies tr to one scalar string (or to in for len). Returns 0 or 1 (no value). */
static int transform_one(struct vm_state *st, enum cond_tr tr, enum field_type in_type,
			 const struct vm_value *in, struct vm_value *out)
{
	const char *s = in->str.s;
	size_t len = in->str.len;
	char *buf;
	long n;

	if (in->kind != VM_V_STR)
		return 1;
	switch (tr) {
	case COND_TR_TOLOWER:
	case COND_TR_TOUPPER:
		buf = st_alloc(st, len);
		if (!buf)
			return 1;
		for (size_t i = 0; i < len; i++)
			buf[i] = (char)(tr == COND_TR_TOLOWER ? tolower((unsigned char)s[i])
							      : toupper((unsigned char)s[i]));
		out->kind = VM_V_STR;
		out->str.s = buf;
		out->str.len = len;
		return 0;
	case COND_TR_BASENAME: {
		const char *slash = len ? memrchr(s, '/', len) : NULL;

		out->kind = VM_V_STR;
		out->str.s = slash ? slash + 1 : s;
		out->str.len = slash ? len - (size_t)(slash + 1 - s) : len;
		return 0;
	}
	case COND_TR_B64:
		buf = st_alloc(st, len);
		if (!buf)
			return 1;
		n = b64_decode(s, len, buf);
		if (n < 0)
			return 1;
		out->kind = VM_V_STR;
		out->str.s = buf;
		out->str.len = (size_t)n;
		return 0;
	case COND_TR_LEN:
		out->kind = VM_V_UINT;
		out->u = in_type == FT_BYTEBUF ? len : strnlen(s, len);
		return 0;
	default:
		return 1;
	}
}

static const struct vm_value *slot_value(struct vm_state *st, unsigned slot);

/* ---- join, concat, getopt ---- */

/* A string in the evaluation's scratch: the concatenation of n values with sep between
 * them. Returns 0, or 1 (no value) when an item is not a string or memory runs out. */
static int join_values(struct vm_state *st, const struct vm_value *sep,
		       const struct vm_value *const *items, size_t n, struct vm_value *out)
{
	size_t len = 0, at = 0;
	char *buf;

	for (size_t i = 0; i < n; i++) {
		if (items[i]->kind != VM_V_STR)
			return 1;
		len += items[i]->str.len + (i && sep ? sep->str.len : 0);
	}
	buf = st_alloc(st, len);
	if (!buf)
		return 1;
	for (size_t i = 0; i < n; i++) {
		if (i && sep) {
			memcpy(buf + at, sep->str.s, sep->str.len);
			at += sep->str.len;
		}
		memcpy(buf + at, items[i]->str.s, items[i]->str.len);
		at += items[i]->str.len;
	}
	out->kind = VM_V_STR;
	out->str.s = buf;
	out->str.len = len;
	return 0;
}

static bool is_blank(char ch)
{
	return ch == ' ' || ch == '\t';
}

/* The words of one text (split at runs of blanks), in the evaluation's scratch. */
static const struct vm_value **split_words(struct vm_state *st, const struct vm_value *v, size_t *n)
{
	const char *s = v->str.s;
	size_t len = v->str.len, count = 0, i = 0;
	const struct vm_value **words;
	struct vm_value *w;

	for (size_t j = 0; j < len; j++)
		count += !is_blank(s[j]) && (j == 0 || is_blank(s[j - 1]));
	words = st_alloc(st, count * sizeof(*words));
	w = st_alloc(st, count * sizeof(*w));
	if (!words || !w)
		return NULL;
	for (size_t j = 0; j < len;) {
		size_t k = j;

		if (is_blank(s[j])) {
			j++;
			continue;
		}
		while (k < len && !is_blank(s[k]))
			k++;
		w[i] = (struct vm_value){.kind = VM_V_STR, .str = {.s = s + j, .len = k - j}};
		words[i] = &w[i];
		i++;
		j = k;
	}
	*n = count;
	return words;
}

/*
 * getopt(3) over words with optstring opts (vm.h, struct vm_slot): the list of options found
 * (sel 0), or the value of sel's last occurrence. Returns 0, or 1 (no value).
 */
static int getopt_scan(struct vm_state *st, const struct vm_value *const *words, size_t n,
		       const struct vm_value *opts, char sel, struct vm_value *out)
{
	static const char unknown[] = "?";
	const char *o = opts->str.s;
	size_t olen = opts->str.len, chars = 0, nitems = 0;
	struct vm_value *items = NULL, found = {.kind = VM_V_STR};
	bool seen = false;

	if (opts->kind != VM_V_STR)
		return 1;
	if (olen && (o[0] == '+' || o[0] == '-')) {
		o++;
		olen--;
	}
	for (size_t i = 0; i < n; i++) {
		if (words[i]->kind != VM_V_STR)
			return 1;
		chars += words[i]->str.len;
	}
	if (!sel) {
		/* Per letter at most the letter and its value. */
		items = st_alloc(st, 2 * chars * sizeof(*items));
		if (!items)
			return 1;
	}
	for (size_t i = 0; i < n; i++) {
		const char *w = words[i]->str.s;
		size_t wlen = words[i]->str.len;

		if (wlen < 2 || w[0] != '-' || (wlen == 2 && w[1] == '-'))
			break; /* an operand, "-", or "--": the options end */
		for (size_t at = 1; at < wlen; at++) {
			const char *spec = w[at] == ':' ? NULL : memchr(o, w[at], olen);
			struct vm_value val = {.kind = VM_V_STR};
			bool has_val = false;
			size_t rest;

			if (!spec) {
				if (items)
					items[nitems++] = (struct vm_value){
					    .kind = VM_V_STR, .str = {.s = unknown, .len = 1}};
				continue;
			}
			rest = (size_t)(o + olen - spec); /* spec and what follows it */
			if (rest > 1 && spec[1] == ':') {
				bool optional = rest > 2 && spec[2] == ':';

				if (at + 1 < wlen) {
					val.str.s = w + at + 1;
					val.str.len = wlen - at - 1;
					has_val = true;
				} else if (!optional && i + 1 < n) {
					val = *words[++i];
					has_val = true;
				}
				at = wlen; /* the rest of the word is the value */
			}
			if (items) {
				items[nitems++] = (struct vm_value){.kind = VM_V_STR,
								    .str = {.s = spec, .len = 1}};
				if (has_val)
					items[nitems++] = val;
			}
			if (spec[0] == sel) {
				seen = true;
				found.str.s = has_val ? val.str.s : "";
				found.str.len = has_val ? val.str.len : 0;
			}
		}
	}
	if (!sel) {
		out->kind = VM_V_LIST;
		out->list.items = items;
		out->list.n = nitems;
		return 0;
	}
	if (!seen)
		return 1;
	*out = found;
	return 0;
}

/* A list argument's items: a literal list's (from pick, entries at j) or a list slot's. */
static const struct vm_value *const *list_items(struct vm_state *st, const struct vm_slot *sl,
						const struct vm_value *const *pick, size_t j,
						const struct vm_value *slotv, size_t *n)
{
	const struct vm_value **items;

	if (sl->args[j].kind == VM_A_LIST) {
		*n = sl->args[j].index;
		return pick + j + 1;
	}
	if (slotv->kind != VM_V_LIST) {
		*n = 1;
		return pick + j;
	}
	*n = slotv->list.n;
	items = st_alloc(st, *n * sizeof(*items));
	if (items)
		for (size_t i = 0; i < *n; i++)
			items[i] = &slotv->list.items[i];
	return items;
}

/* One application of a multi-input transformer: pick holds one scalar per SLOT or CONST
 * entry (a whole list for list slots), whole holds each slot entry's value. */
static int apply_multi(struct vm_state *st, const struct vm_slot *sl,
		       const struct vm_value *const *pick, const struct vm_value *const *whole,
		       struct vm_value *out)
{
	const struct vm_value *const *items;
	const struct vm_arg *a0;
	size_t n, opts_at;

	switch (sl->tr) {
	case COND_TR_CONCAT:
		return join_values(st, NULL, pick, sl->n_args, out);
	case COND_TR_JOIN:
		if (pick[0]->kind != VM_V_STR)
			return 1;
		items = list_items(st, sl, pick, 1, whole[1], &n);
		return items ? join_values(st, pick[0], items, n, out) : 1;
	default: /* getopt */
		a0 = &sl->args[0];
		opts_at = a0->kind == VM_A_LIST ? 1u + a0->index : 1;
		if (a0->kind == VM_A_LIST ||
		    (a0->kind == VM_A_SLOT && st->p->slots[a0->index].is_list))
			items = list_items(st, sl, pick, 0, whole[0], &n);
		else if (pick[0]->kind == VM_V_STR)
			items = split_words(st, pick[0], &n); /* a text: its words */
		else
			return 1;
		if (!items)
			return 1;
		return getopt_scan(st, items, n, pick[opts_at], sl->sel, out);
	}
}

/* join, concat, getopt: gathers the arguments, then applies the transformer once, or once
 * per combination of the elements of "any of" arguments (vm.h, struct vm_slot). */
static int transform_multi(struct vm_state *st, const struct vm_slot *sl, struct vm_value *out)
{
	const struct vm_prog *p = st->p;
	size_t n = sl->n_args, combos = 1, ndims = 0, nres = 0;
	const struct vm_value **pick = st_alloc(st, 2 * n * sizeof(*pick)), **whole;
	size_t *dims = st_alloc(st, n * sizeof(*dims));
	struct vm_value *res;

	if (!pick || !dims)
		return 1;
	whole = pick + n;
	for (size_t j = 0; j < n; j++) {
		const struct vm_arg *a = &sl->args[j];
		const struct vm_value *v = NULL;

		if (a->kind == VM_A_CONST) {
			v = &p->consts[a->index].v;
		} else if (a->kind == VM_A_SLOT) {
			v = slot_value(st, a->index);
			if (!v)
				return 1; /* a missing argument: no result */
			if (v->kind == VM_V_LIST && !p->slots[a->index].is_list) {
				/* "any of", never empty (slot_value): one more dimension */
				if (v->list.n > VM_MAX_COMBOS / combos)
					return 1;
				combos *= v->list.n;
				dims[ndims++] = j;
			}
		}
		pick[j] = whole[j] = v;
	}
	if (!ndims)
		return apply_multi(st, sl, pick, whole, out);
	if (sl->is_list)
		return 1; /* a list per combination: not a value the VM can hold */
	res = st_alloc(st, combos * sizeof(*res));
	if (!res)
		return 1;
	for (size_t c = 0; c < combos; c++) {
		size_t rest = c;

		for (size_t d = 0; d < ndims; d++) {
			const struct vm_value *v = whole[dims[d]];

			pick[dims[d]] = &v->list.items[rest % v->list.n];
			rest /= v->list.n;
		}
		if (apply_multi(st, sl, pick, whole, &res[nres]) == 0)
			nres++;
	}
	out->kind = VM_V_LIST;
	out->list.items = res;
	out->list.n = nres;
	return 0;
}

static int transform(struct vm_state *st, const struct vm_slot *sl, struct vm_value *out)
{
	const struct vm_slot *insl;
	const struct vm_value *in;
	struct vm_value *items;
	size_t n = 0;

	if (is_multi(sl->tr))
		return transform_multi(st, sl, out);
	insl = &st->p->slots[sl->input];
	in = slot_value(st, sl->input);
	if (!in)
		return 1;
	if (in->kind != VM_V_LIST)
		return transform_one(st, sl->tr, insl->type, in, out);
	if (sl->tr == COND_TR_LEN && insl->is_list) {
		out->kind = VM_V_UINT;
		out->u = in->list.n;
		return 0;
	}
	/* An "any of" list: transform each element, dropping those without a result. */
	items = st_alloc(st, in->list.n * sizeof(*items));
	if (!items)
		return 1;
	for (size_t i = 0; i < in->list.n; i++)
		if (transform_one(st, sl->tr, insl->type, &in->list.items[i], &items[n]) == 0)
			n++;
	out->kind = VM_V_LIST;
	out->list.items = items;
	out->list.n = n;
	return 0;
}

/* The value of a slot, computed at most once per evaluation; NULL when missing. */
static const struct vm_value *slot_value(struct vm_state *st, unsigned slot)
{
	struct slotval *sv = &st->sv[slot];
	const struct vm_slot *sl = &st->p->slots[slot];
	int rc;

	if (sv->state == SV_UNKNOWN) {
		unsigned id = st->ids && sl->is_field ? st->ids->field[slot] : 0;
		struct vm_memo *m = st->memo;

		if (id) {
			/* shared with the other rules of the event: read and kept in the memo */
			if (m->field_epoch[id] != m->epoch) {
				m->field_rc[id] = (int8_t)st->src->extract(st->src->ctx, &sl->field,
									   &m->field_val[id]);
				m->field_epoch[id] = m->epoch;
				m->field_hash[id] = 0;
			}
			rc = m->field_rc[id];
			sv->vp = &m->field_val[id];
			sv->hashp = &m->field_hash[id];
		} else {
			rc = sl->is_field ? st->src->extract(st->src->ctx, &sl->field, &sv->v)
					  : transform(st, sl, &sv->v);
			sv->vp = &sv->v;
			sv->hash = 0;
			sv->hashp = &sv->hash;
		}
		/* An "any of" list with no element is no value at all. */
		if (rc == 0 && sv->vp->kind == VM_V_LIST && !sl->is_list && sv->vp->list.n == 0)
			rc = 1;
		sv->state = rc == 0 ? SV_PRESENT : SV_MISSING;
	}
	return sv->state == SV_PRESENT ? sv->vp : NULL;
}

/* ---- comparisons ----------------------------------------------------------------------- */

static bool is_num(const struct vm_value *v)
{
	return v->kind == VM_V_INT || v->kind == VM_V_UINT || v->kind == VM_V_BOOL;
}

static uint64_t as_u64(const struct vm_value *v)
{
	return v->kind == VM_V_INT ? (uint64_t)v->i : v->kind == VM_V_UINT ? v->u : v->b;
}

/* Mathematical order of two numbers of any signedness: <0, 0, >0. */
static int num_cmp(const struct vm_value *a, const struct vm_value *b)
{
	bool an = a->kind == VM_V_INT && a->i < 0, bn = b->kind == VM_V_INT && b->i < 0;
	uint64_t x, y;

	if (an && bn)
		return a->i < b->i ? -1 : a->i > b->i;
	if (an != bn)
		return an ? -1 : 1;
	x = as_u64(a);
	y = as_u64(b);
	return x < y ? -1 : x > y;
}

static int str_cmp(const struct vm_value *a, const struct vm_value *b)
{
	size_t n = a->str.len < b->str.len ? a->str.len : b->str.len;
	int c = memcmp(a->str.s, b->str.s, n);

	if (c)
		return c;
	return a->str.len < b->str.len ? -1 : a->str.len > b->str.len;
}

static bool ip_in_net(const struct vm_value *ip, const struct vm_value *net)
{
	unsigned bits = net->ip.prefix, full = bits / 8, rest = bits % 8;

	if (ip->ip.family != net->ip.family)
		return false;
	if (memcmp(ip->ip.addr, net->ip.addr, full))
		return false;
	if (rest) {
		uint8_t mask = (uint8_t)(0xff << (8 - rest));

		return (ip->ip.addr[full] & mask) == (net->ip.addr[full] & mask);
	}
	return true;
}

static bool values_equal(const struct vm_value *a, const struct vm_value *b)
{
	if (a->kind == VM_V_STR && b->kind == VM_V_STR)
		return a->str.len == b->str.len && memcmp(a->str.s, b->str.s, a->str.len) == 0;
	if (is_num(a) && is_num(b))
		return num_cmp(a, b) == 0;
	if (a->kind == VM_V_IP && b->kind == VM_V_IP)
		return a->ip.family == b->ip.family &&
		       memcmp(a->ip.addr, b->ip.addr, a->ip.family == AF_INET ? 4 : 16) == 0;
	if (a->kind == VM_V_IP && b->kind == VM_V_NET)
		return ip_in_net(a, b);
	return false;
}

static bool icontains(const char *h, size_t hl, const char *n, size_t nl)
{
	if (nl > hl)
		return false;
	for (size_t i = 0; i + nl <= hl; i++) {
		size_t j = 0;

		while (j < nl && tolower((unsigned char)h[i + j]) == tolower((unsigned char)n[j]))
			j++;
		if (j == nl)
			return true;
	}
	return false;
}

/* A NUL-terminated copy of v, optionally lowercased, in the evaluation's scratch. */
static char *cstr(struct vm_state *st, const struct vm_value *v, bool lower)
{
	char *b = st_alloc(st, v->str.len + 1);

	if (!b)
		return NULL;
	for (size_t i = 0; i < v->str.len; i++)
		b[i] = lower ? (char)tolower((unsigned char)v->str.s[i]) : v->str.s[i];
	b[v->str.len] = '\0';
	return b;
}


static bool has_glob(const char *s, size_t len)
{
	for (size_t i = 0; i < len; i++)
		if (s[i] == '*' || s[i] == '?' || s[i] == '[')
			return true;
	return false;
}

/* Next non-empty '/'-separated component of s[*pos..len): 0 and (*c, *clen), or -1. */
static int next_comp(const char *s, size_t len, size_t *pos, const char **c, size_t *clen)
{
	size_t i = *pos, j;

	while (i < len && s[i] == '/')
		i++;
	if (i >= len)
		return -1;
	for (j = i; j < len && s[j] != '/'; j++)
		;
	*c = s + i;
	*clen = j - i;
	*pos = j;
	return 0;
}

static bool comp_match(struct vm_state *st, const char *pc, size_t pl, const char *vc, size_t vl)
{
	(void)st;
	if (!has_glob(pc, pl))
		return pl == vl && memcmp(pc, vc, pl) == 0;
	return glob_match_n(pc, pl, vc, vl, false);
}

/* spec a.6: the pattern's components are a leading subsequence of the value's. */
static bool pmatch_one(struct vm_state *st, const struct vm_value *v, const struct vm_value *pat)
{
	size_t pp = 0, vp = 0, pl, vl;
	const char *pc, *vc;

	while (next_comp(pat->str.s, pat->str.len, &pp, &pc, &pl) == 0) {
		if (next_comp(v->str.s, v->str.len, &vp, &vc, &vl) < 0)
			return false;
		if (!comp_match(st, pc, pl, vc, vl))
			return false;
	}
	return true;
}

/* One scalar check a <op> b. re is the compiled regex for REGEX. */
static bool test_scalar(struct vm_state *st, enum cond_op op, const struct vm_value *a,
			const struct vm_value *b, const void *re)
{
	bool strs = a->kind == VM_V_STR && b->kind == VM_V_STR;

	switch (op) {
	case COND_OP_EQ:
	case COND_OP_EQEQ:
	case COND_OP_IN:
	case COND_OP_INTERSECTS:
		return values_equal(a, b);
	case COND_OP_NE:
		return !values_equal(a, b);
	case COND_OP_LT:
	case COND_OP_LE:
	case COND_OP_GT:
	case COND_OP_GE: {
		int c;

		if (strs)
			c = str_cmp(a, b);
		else if (is_num(a) && is_num(b))
			c = num_cmp(a, b);
		else
			return false;
		return op == COND_OP_LT	  ? c < 0
		       : op == COND_OP_LE ? c <= 0
		       : op == COND_OP_GT ? c > 0
					  : c >= 0;
	}
	case COND_OP_CONTAINS:
	case COND_OP_BCONTAINS:
		return strs && str_contains(a->str.s, a->str.len, b->str.s, b->str.len);
	case COND_OP_ICONTAINS:
		return strs && icontains(a->str.s, a->str.len, b->str.s, b->str.len);
	case COND_OP_STARTSWITH:
	case COND_OP_BSTARTSWITH:
		return strs && a->str.len >= b->str.len &&
		       memcmp(a->str.s, b->str.s, b->str.len) == 0;
	case COND_OP_ENDSWITH:
		return strs && a->str.len >= b->str.len &&
		       memcmp(a->str.s + a->str.len - b->str.len, b->str.s, b->str.len) == 0;
	case COND_OP_GLOB:
	case COND_OP_IGLOB:
		return strs &&
		       glob_match_n(b->str.s, b->str.len, a->str.s, a->str.len, op == COND_OP_IGLOB);
	case COND_OP_REGEX: {
		char *s;

		if (a->kind != VM_V_STR || !re)
			return false;
		s = cstr(st, a, false);
		return s && regexec(re, s, 0, NULL, 0) == 0;
	}
	case COND_OP_PMATCH:
		return strs && pmatch_one(st, a, b);
	default:
		return false;
	}
}

/* hc: where the value's hash is cached (a slot's), or NULL. */
static bool set_has(const struct vm_const *k, const struct vm_value *a, uint64_t *hc)
{
	if (k->hash_size && a->kind == VM_V_STR) {
		size_t mask = k->hash_size - 1, i;
		uint32_t h;

		if (hc && *hc) {
			h = (uint32_t)*hc;
		} else {
			h = vm_hash(a->str.s, a->str.len);
			if (hc)
				*hc = 1ull << 32 | h;
		}
		i = h & mask;

		for (; k->hash[i]; i = (i + 1) & mask) {
			const struct vm_value *it = &k->v.list.items[k->hash[i] - 1];

			if (values_equal(a, it))
				return true;
		}
		return false;
	}
	for (size_t i = 0; i < k->v.list.n; i++)
		if (values_equal(a, &k->v.list.items[i]))
			return true;
	return false;
}

/* A scalar LHS against constant k (with modifiers, sets, regexes, pmatch). */
static bool test_const(struct vm_state *st, enum cond_op op, enum cond_mod mod,
		       const struct vm_value *a, const struct vm_const *k, uint64_t *hc)
{
	size_t hits = 0, n;

	if (mod == COND_MOD_NONE) {
		switch (k->kind) {
		case VM_K_VALUE:
			return test_scalar(st, op, a, &k->v, NULL);
		case VM_K_REGEX:
			return test_scalar(st, op, a, &k->v, k->re);
		case VM_K_SET:
			return set_has(k, a, hc);
		case VM_K_PMATCH:
			for (size_t i = 0; i < k->v.list.n; i++)
				if (test_scalar(st, op, a, &k->v.list.items[i], NULL))
					return true;
			return false;
		}
		return false;
	}
	if (k->trie && mod == COND_MOD_ANYOF)
		return a->kind == VM_V_STR && trie_match(k->trie, a->str.s, a->str.len);
	n = k->v.list.n;
	for (size_t i = 0; i < n; i++) {
		const struct vm_value *it = &k->v.list.items[i];
		const void *re = NULL;

		if (op == COND_OP_REGEX)
			re = (const regex_t *)k->re + i;
		if (test_scalar(st, op, a, it, re)) {
			hits++;
			if (mod == COND_MOD_ANYOF)
				return true;
			if (mod == COND_MOD_ONEOF && hits > 1)
				return false;
		} else if (mod == COND_MOD_ALLOF) {
			return false;
		}
	}
	return mod == COND_MOD_ALLOF ? true : mod == COND_MOD_ONEOF ? hits == 1 : false;
}

static bool list_has(const struct vm_value *list, const struct vm_value *a)
{
	for (size_t i = 0; i < list->list.n; i++)
		if (values_equal(a, &list->list.items[i]))
			return true;
	return false;
}

/* A check whose left operand is slot s: b is the right slot's value (CMPF) or NULL (k). */
static bool run_check(struct vm_state *st, const struct vm_insn *in, const struct vm_value *b,
		      const struct vm_const *k)
{
	const struct vm_slot *sl = &st->p->slots[in->slot];
	const struct vm_value *a = slot_value(st, in->slot);
	enum cond_op op = VM_CMP_OP(in->cmp);
	enum cond_mod mod = VM_CMP_MOD(in->cmp);
	bool is_in = op == COND_OP_IN, setop = is_in || op == COND_OP_INTERSECTS;

	if (!a)
		return false;
	if (a->kind == VM_V_LIST && sl->is_list && setop) {
		/* IS_LIST field: in = every element, intersects = some element. */
		for (size_t i = 0; i < a->list.n; i++) {
			const struct vm_value *e = &a->list.items[i];
			bool has = b ? (b->kind == VM_V_LIST ? list_has(b, e) : values_equal(e, b))
				     : set_has(k, e, NULL);

			if (is_in && !has)
				return false;
			if (!is_in && has)
				return true;
		}
		return is_in;
	}
	if (a->kind == VM_V_LIST) {
		/* "any of": the check holds for some element. */
		for (size_t i = 0; i < a->list.n; i++) {
			const struct vm_value *e = &a->list.items[i];

			if (b ? (b->kind == VM_V_LIST && setop ? list_has(b, e)
							       : test_scalar(st, op, e, b, NULL))
			      : test_const(st, op, mod, e, k, NULL))
				return true;
		}
		return false;
	}
	if (b) {
		if (b->kind == VM_V_LIST)
			return setop ? list_has(b, a) : false;
		return test_scalar(st, op, a, b, NULL);
	}
	return test_const(st, op, mod, a, k, st->sv[in->slot].hashp);
}

struct vm_memo *vm_memo_new(unsigned n_checks, unsigned n_fields)
{
	struct vm_memo *m = calloc(1, sizeof(*m));

	if (!m)
		return NULL;
	m->n_checks = n_checks;
	m->n_fields = n_fields;
	m->check_epoch = calloc(n_checks + 1, sizeof(*m->check_epoch));
	m->check_val = calloc(n_checks + 1, sizeof(*m->check_val));
	m->field_epoch = calloc(n_fields + 1, sizeof(*m->field_epoch));
	m->field_rc = calloc(n_fields + 1, sizeof(*m->field_rc));
	m->field_val = calloc(n_fields + 1, sizeof(*m->field_val));
	m->field_hash = calloc(n_fields + 1, sizeof(*m->field_hash));
	if (!m->check_epoch || !m->check_val || !m->field_epoch || !m->field_rc ||
	    !m->field_val || !m->field_hash) {
		vm_memo_free(m);
		return NULL;
	}
	m->epoch = 1;
	return m;
}

void vm_memo_free(struct vm_memo *m)
{
	if (!m)
		return;
	free(m->check_epoch);
	free(m->check_val);
	free(m->field_epoch);
	free(m->field_rc);
	free(m->field_val);
	free(m->field_hash);
	free(m);
}

int vm_memo_prefix(const struct vm_memo *m, const struct vm_memo_ids *ids)
{
	int known = 0;
	bool run = true;

	for (unsigned i = 0; i < ids->n_required; i++) {
		unsigned id = ids->required[i];

		if (m->check_epoch[id] != m->epoch) {
			run = false; /* unknown: later ones may still be known false */
			continue;
		}
		if (!m->check_val[id])
			return -1;
		if (run)
			known++;
	}
	return known;
}

const struct vm_value *vm_memo_field(struct vm_memo *m, unsigned id, const struct vm_field *f,
				     const struct vm_fieldsrc *src)
{
	if (!id || id > m->n_fields)
		return NULL;
	if (m->field_epoch[id] != m->epoch) {
		m->field_rc[id] = (int8_t)src->extract(src->ctx, f, &m->field_val[id]);
		m->field_epoch[id] = m->epoch;
		m->field_hash[id] = 0;
	}
	return m->field_rc[id] == 0 ? &m->field_val[id] : NULL;
}

void vm_memo_next(struct vm_memo *m)
{
	if (++m->epoch == 0) {
		/* wrapped: no stale entry may look current */
		memset(m->check_epoch, 0, (m->n_checks + 1) * sizeof(*m->check_epoch));
		memset(m->field_epoch, 0, (m->n_fields + 1) * sizeof(*m->field_epoch));
		m->epoch = 1;
	}
}

int vm_eval(const struct vm_prog *p, const struct vm_fieldsrc *src)
{
	return vm_eval_memo(p, src, NULL, NULL);
}

int vm_eval_memo(const struct vm_prog *p, const struct vm_fieldsrc *src,
		 const struct vm_memo_ids *ids, struct vm_memo *m)
{
	return vm_eval_memo_from(p, src, ids, m, 0);
}

int vm_eval_memo_from(const struct vm_prog *p, const struct vm_fieldsrc *src,
		      const struct vm_memo_ids *ids, struct vm_memo *m, size_t start)
{
	struct vm_state st;
	size_t pc = start < p->n_insns ? start : 0;
	int result = 0;

	st.p = p;
	st.src = src;
	st.ids = m ? ids : NULL;
	st.memo = m;
	st.allocs = NULL;
	st.nallocs = st.allocs_cap = 0;
	for (size_t i = 0; i < p->n_slots; i++) {
		st.sv[i].state = SV_UNKNOWN;
	}
	for (;;) {
		const struct vm_insn *in = &p->insns[pc];
		bool r;

		switch ((enum vm_opcode)in->op) {
		case VM_OP_CMP_JT:
		case VM_OP_CMP_JF: {
			unsigned id = st.ids ? st.ids->check[pc] : 0;

			if (id && m->check_epoch[id] == m->epoch) {
				r = m->check_val[id];
			} else {
				r = run_check(&st, in, NULL, &p->consts[in->k]);
				if (id) {
					m->check_epoch[id] = m->epoch;
					m->check_val[id] = r;
				}
			}
			pc = r == (in->op == VM_OP_CMP_JT) ? in->target : pc + 1;
			continue;
		}
		case VM_OP_CMPF_JT:
		case VM_OP_CMPF_JF: {
			const struct vm_value *b = slot_value(&st, in->k);

			r = b && run_check(&st, in, b, NULL);
			pc = r == (in->op == VM_OP_CMPF_JT) ? in->target : pc + 1;
			continue;
		}
		case VM_OP_EXISTS_JT:
		case VM_OP_EXISTS_JF:
			r = slot_value(&st, in->slot) != NULL;
			pc = r == (in->op == VM_OP_EXISTS_JT) ? in->target : pc + 1;
			continue;
		case VM_OP_JMP:
			pc = in->target;
			continue;
		case VM_OP_ACCEPT:
			result = 1;
			break;
		case VM_OP_REJECT:
		case VM_OP_COUNT:
			result = 0;
			break;
		}
		break;
	}
	for (size_t i = 0; i < st.nallocs; i++)
		free(st.allocs[i]);
	free(st.allocs);
	return result;
}

/* ---- disassembler ---------------------------------------------------------------------- */

static void dump_arg(const struct vm_prog *p, const struct vm_arg *a, struct strbuf *sb)
{
	if (a->kind == VM_A_SLOT)
		sb_addf(sb, "#%u", a->index);
	else if (a->kind == VM_A_CONST && a->index < p->n_consts)
		sb_adds(sb, p->consts[a->index].text);
	else
		sb_addc(sb, '?');
}

/* The slot table, when some slot is a transformer: "#2  concat(#0, "-", #1)". */
static void dump_slots(const struct vm_prog *p, struct strbuf *sb)
{
	bool any = false;

	for (size_t i = 0; i < p->n_slots; i++)
		any |= !p->slots[i].is_field;
	if (!any)
		return;
	sb_adds(sb, "slots:\n");
	for (size_t i = 0; i < p->n_slots; i++) {
		const struct vm_slot *s = &p->slots[i];

		sb_addf(sb, "  #%zu  ", i);
		if (s->is_field) {
			sb_addf(sb, "%s\n", s->text);
			continue;
		}
		sb_addf(sb, "%s(", s->tr < COND_TR_COUNT ? cond_tr_name(s->tr) : "?");
		if (!is_multi(s->tr))
			sb_addf(sb, "#%u", s->input);
		for (size_t j = 0; j < s->n_args; j++) {
			const struct vm_arg *a = &s->args[j];

			if (j) /* j is always at an argument: list items are skipped below */
				sb_adds(sb, ", ");
			if (a->kind == VM_A_LIST) {
				sb_addc(sb, '(');
				for (size_t k = 1; k <= a->index && j + k < s->n_args; k++) {
					if (k > 1)
						sb_adds(sb, ", ");
					dump_arg(p, &s->args[j + k], sb);
				}
				sb_addc(sb, ')');
				j += a->index;
			} else {
				dump_arg(p, a, sb);
			}
		}
		sb_addc(sb, ')');
		if (s->sel && isalnum((unsigned char)s->sel))
			sb_addf(sb, "[%c]", s->sel);
		else if (s->sel)
			sb_addf(sb, "[\"\\x%02x\"]", (unsigned char)s->sel);
		sb_addc(sb, '\n');
	}
}

void vm_prog_dump(const struct vm_prog *p, struct strbuf *sb)
{
	for (size_t i = 0; i < p->n_insns; i++) {
		const struct vm_insn *in = &p->insns[i];
		const char *ops = in->op < VM_OP_COUNT ? op_info[in->op].operands : "";

		sb_addf(sb, "%04zu  %-9s", i, vm_op_name(in->op));
		if (strchr(ops, 'S'))
			sb_addf(sb, " %s", in->slot < p->n_slots ? p->slots[in->slot].text : "?");
		if (strchr(ops, 'C')) {
			enum cond_mod mod = VM_CMP_MOD(in->cmp);

			sb_addf(sb, " %s", cond_op_name(VM_CMP_OP(in->cmp)));
			if (mod != COND_MOD_NONE)
				sb_addf(sb, " %s", cond_mod_name(mod));
		}
		if (strchr(ops, 'K'))
			sb_addf(sb, " %s", in->k < p->n_consts ? p->consts[in->k].text : "?");
		if (strchr(ops, 'F'))
			sb_addf(sb, " %s", in->k < p->n_slots ? p->slots[in->k].text : "?");
		if (strchr(ops, 'J'))
			sb_addf(sb, "%s-> %04u", ops[1] ? "  " : " ", in->target);
		sb_addc(sb, '\n');
	}
	dump_slots(p, sb);
}

/* ---- freeing --------------------------------------------------------------------------- */

static void free_value(struct vm_value *v)
{
	if (v->kind == VM_V_STR)
		free((char *)v->str.s);
	if (v->kind == VM_V_LIST) {
		for (size_t i = 0; i < v->list.n; i++)
			free_value((struct vm_value *)&v->list.items[i]);
		free((struct vm_value *)v->list.items);
	}
}

void vm_prog_free(struct vm_prog *p)
{
	if (!p)
		return;
	for (size_t i = 0; i < p->n_consts; i++) {
		struct vm_const *k = &p->consts[i];

		if (k->re) {
			size_t nre = k->kind == VM_K_REGEX ? 1 : k->v.list.n;

			for (size_t j = 0; j < nre; j++)
				regfree((regex_t *)k->re + j);
			free(k->re);
		}
		free_value(&k->v);
		free(k->hash);
		trie_free(k->trie);
		free(k->text);
	}
	for (size_t i = 0; i < p->n_slots; i++) {
		free((char *)p->slots[i].field.arg);
		free(p->slots[i].args);
		free(p->slots[i].text);
	}
	free(p->consts);
	free(p->slots);
	free(p->insns);
	free(p);
}
