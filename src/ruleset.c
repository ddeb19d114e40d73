#include "ruleset.h"

#include <stdlib.h>
#include <string.h>

#include "compile.h"
#include "specialize.h"
#include "rules_yaml.h"
#include "strbuf.h"

struct entry {
	const struct loaded_rule *rule;
	const struct vm_prog *prog; /* the rule's program specialised for the bucket's code */
	const struct vm_memo_ids *ids;
};

/* The shared-check and shared-field numbers of one program (vm.h, vm_memo_ids). */
struct prog_ids {
	const struct vm_prog *prog;
	struct vm_memo_ids ids;
};

/*
 * A prefilter: one field (fd.name, proc.name...) that several rules of a bucket test, each
 * in a required check (a leading conjunct) of the form "startswith X", "startswith anyof
 * (...)", "= X" or "in (...)". One walk of the field's value through a trie of every
 * rule's strings tells which of those checks hold; the rules whose check fails are
 * decided without running. With our default ruleset about 20 of the 27 rules on openat end
 * in such a test of fd.name.
 */
struct pf_node {
	uint32_t child, sibling;
	uint64_t prefix; /* members with a startswith string ending here */
	uint64_t exact;	 /* members with an =/in string ending here */
	unsigned char c;
};

struct prefilter {
	struct vm_field field; /* as the first member's program names it */
	unsigned field_id;     /* the memo's id of the field */
	uint64_t members;      /* bucket entries (bit i: entry i) this prefilter decides */
	uint64_t empty_prefix; /* members with "" among their startswith strings */
	struct pf_node *n;     /* n[0]: the root */
	size_t nn, cap;
};

struct bucket {
	struct entry *e;
	unsigned n, cap;
	struct prefilter *pf;
	unsigned npf;
};

struct ruleset {
	unsigned n_rules;
	struct bucket buckets[EVT_CODES];
	struct evtset all; /* union of the enabled rules' codes */
	struct vm_prog **progs; /* the specialised programs this ruleset owns */
	size_t n_progs, cap_progs;
	struct vm_prog *accept; /* for a rule that every event of a code matches */
	unsigned n_specialised, n_folded_false;
	struct prog_ids *pids; /* one per distinct program filed */
	size_t n_pids;
	struct vm_memo *memo;
	unsigned n_checks, n_fields; /* distinct shared checks and fields */
};

struct ruleset *ruleset_build(const struct rules_loaded *r)
{
	return ruleset_build_prio(r, RULES_PRIO_DEBUG);
}

static bool rule_on(const struct loaded_rule *lr, enum rules_priority least)
{
	return lr->on && lr->src->priority <= least;
}

static int bucket_add(struct bucket *b, const struct loaded_rule *rule, const struct vm_prog *p)
{
	if (b->n == b->cap) {
		unsigned cap = b->cap ? b->cap * 2 : 4;
		struct entry *e = realloc(b->e, cap * sizeof(*e));

		if (!e)
			return -1;
		b->e = e;
		b->cap = cap;
	}
	b->e[b->n].rule = rule;
	b->e[b->n].prog = p;
	b->n++;
	return 0;
}

static int own_prog(struct ruleset *rs, struct vm_prog *p)
{
	if (rs->n_progs == rs->cap_progs) {
		size_t cap = rs->cap_progs ? rs->cap_progs * 2 : 32;
		struct vm_prog **v = realloc(rs->progs, cap * sizeof(*v));

		if (!v)
			return -1;
		rs->progs = v;
		rs->cap_progs = cap;
	}
	rs->progs[rs->n_progs++] = p;
	return 0;
}

/* A program that accepts every event. */
static struct vm_prog *accept_prog(void)
{
	struct vm_prog *p = calloc(1, sizeof(*p));

	if (!p)
		return NULL;
	p->insns = calloc(1, sizeof(*p->insns));
	if (!p->insns) {
		free(p);
		return NULL;
	}
	p->insns[0].op = VM_OP_ACCEPT;
	p->n_insns = 1;
	return p;
}

/* The variants of one rule's program compiled so far, by the folded tree's text. */
struct variant {
	char *text;
	const struct vm_prog *prog;
};

/* The program rule lr runs for events of code: its own, specialised (NULL: it cannot
 * match them). */
static const struct vm_prog *specialise(struct ruleset *rs, const struct loaded_rule *lr,
					unsigned code, struct variant *vars, size_t *n_vars)
{
	struct cond_node *tree;
	struct strbuf sb = STRBUF_INIT;
	struct vm_prog *p = NULL;
	char err[256];

	switch (cond_specialize(lr->cond, code, &tree)) {
	case SPEC_FALSE:
		rs->n_folded_false++;
		return NULL;
	case SPEC_TRUE:
		return rs->accept;
	case SPEC_TREE:
		break;
	}
	if (!tree)
		return lr->prog;
	cond_node_print(&sb, tree);
	for (size_t i = 0; i < *n_vars; i++) {
		if (!strcmp(vars[i].text, sb.buf)) {
			sb_release(&sb);
			cond_node_free(tree);
			return vars[i].prog;
		}
	}
	if (compile_rule(tree, &p, err, sizeof(err)) || own_prog(rs, p)) {
		/* cannot happen for a tree that compiled whole; the rule's own program is
		 * always right */
		vm_prog_free(p);
		p = NULL;
	}
	cond_node_free(tree);
	if (!p) {
		sb_release(&sb);
		return lr->prog;
	}
	rs->n_specialised++;
	vars[*n_vars].text = sb.buf; /* taken over */
	vars[*n_vars].prog = p;
	(*n_vars)++;
	return p;
}

/* The keys interned (the name table keeps pointers to them). */
struct keys {
	char **v;
	size_t n, cap;
};

/* Interns key: its id (from 1), or 0 past the id space or out of memory. */
static uint16_t intern(struct rules_names *t, struct keys *keys, unsigned *n, const char *key,
		       size_t len)
{
	size_t v;
	char *copy;

	if (rules_names_get(t, key, len, &v))
		return (uint16_t)v;
	if (*n >= 0xfffe)
		return 0;
	if (keys->n == keys->cap) {
		size_t cap = keys->cap ? keys->cap * 2 : 64;
		char **nv = realloc(keys->v, cap * sizeof(*nv));

		if (!nv)
			return 0;
		keys->v = nv;
		keys->cap = cap;
	}
	copy = malloc(len + 1);
	if (!copy)
		return 0;
	memcpy(copy, key, len);
	copy[len] = 0;
	keys->v[keys->n++] = copy;
	rules_names_put(t, copy, len, ++*n);
	return (uint16_t)*n;
}

/* Numbers the distinct checks and fields of every program filed, and points each entry at
 * its program's numbers. */
static int number_programs(struct ruleset *rs)
{
	struct rules_names checks = {0}, fields = {0};
	struct keys keys = {0};
	struct strbuf key = STRBUF_INIT;
	size_t cap = 0;
	int rc = -1;

	for (unsigned c = 0; c < EVT_CODES; c++) {
		for (unsigned i = 0; i < rs->buckets[c].n; i++) {
			const struct vm_prog *p = rs->buckets[c].e[i].prog;
			struct prog_ids *pi = NULL;
			uint16_t *ck, *fd;

			for (size_t k = 0; k < rs->n_pids && !pi; k++)
				if (rs->pids[k].prog == p)
					pi = &rs->pids[k];
			if (pi)
				continue; /* a program shared by several buckets: numbered once */
			if (rs->n_pids == cap) {
				size_t ncap = cap ? cap * 2 : 64;
				struct prog_ids *v = realloc(rs->pids, ncap * sizeof(*v));

				if (!v)
					goto out;
				rs->pids = v;
				cap = ncap;
			}
			ck = calloc(p->n_insns + 1, sizeof(*ck));
			fd = calloc(p->n_slots + 1, sizeof(*fd));
			if (!ck || !fd) {
				free(ck);
				free(fd);
				goto out;
			}
			for (size_t k = 0; k < p->n_insns; k++) {
				const struct vm_insn *in = &p->insns[k];

				if (in->op != VM_OP_CMP_JT && in->op != VM_OP_CMP_JF)
					continue;
				sb_reset(&key);
				sb_adds(&key, p->slots[in->slot].text);
				sb_addf(&key, "\x1f%u\x1f", (unsigned)in->cmp);
				sb_adds(&key, p->consts[in->k].text ? p->consts[in->k].text : "");
				ck[k] = intern(&checks, &keys, &rs->n_checks, key.buf, key.len);
			}
			for (size_t k = 0; k < p->n_slots; k++)
				if (p->slots[k].is_field)
					fd[k] = intern(&fields, &keys, &rs->n_fields,
						       p->slots[k].text, strlen(p->slots[k].text));
			pi = &rs->pids[rs->n_pids++];
			memset(pi, 0, sizeof(*pi));
			pi->prog = p;
			pi->ids.check = ck;
			pi->ids.field = fd;
			for (size_t k = 0; k < p->n_insns && pi->ids.n_required < 4; k++) {
				const struct vm_insn *in = &p->insns[k];

				if (in->op != VM_OP_CMP_JF || !ck[k] ||
				    p->insns[in->target].op != VM_OP_REJECT)
					break;
				pi->ids.required[pi->ids.n_required++] = ck[k];
			}
		}
	}
	/* once pids has stopped moving: each entry to its program's numbers */
	for (unsigned c = 0; c < EVT_CODES; c++)
		for (unsigned i = 0; i < rs->buckets[c].n; i++)
			for (size_t k = 0; k < rs->n_pids; k++)
				if (rs->pids[k].prog == rs->buckets[c].e[i].prog) {
					rs->buckets[c].e[i].ids = &rs->pids[k].ids;
					break;
				}
	rs->memo = vm_memo_new(rs->n_checks, rs->n_fields);
	rc = rs->memo ? 0 : -1;
out:
	rules_names_free(&checks);
	rules_names_free(&fields);
	for (size_t i = 0; i < keys.n; i++)
		free(keys.v[i]);
	free(keys.v);
	sb_release(&key);
	return rc;
}

static uint32_t pf_node_add(struct prefilter *pf, unsigned char ch)
{
	if (pf->nn == pf->cap) {
		size_t cap = pf->cap ? pf->cap * 2 : 64;
		struct pf_node *v = realloc(pf->n, cap * sizeof(*v));

		if (!v)
			return UINT32_MAX;
		pf->n = v;
		pf->cap = cap;
	}
	memset(&pf->n[pf->nn], 0, sizeof(pf->n[0]));
	pf->n[pf->nn].c = ch;
	return (uint32_t)pf->nn++;
}

/* Adds string s for member bit (exact: an =/in string, else a startswith prefix). */
static int pf_add(struct prefilter *pf, const char *s, size_t len, uint64_t bit, bool exact)
{
	uint32_t cur = 0;

	if (!len && !exact) {
		pf->empty_prefix |= bit;
		return 0;
	}
	for (size_t k = 0; k < len; k++) {
		unsigned char ch = (unsigned char)s[k];
		uint32_t x = pf->n[cur].child, prev = 0;

		while (x && pf->n[x].c != ch) {
			prev = x;
			x = pf->n[x].sibling;
		}
		if (!x) {
			x = pf_node_add(pf, ch);
			if (x == UINT32_MAX)
				return -1;
			if (prev)
				pf->n[prev].sibling = x;
			else
				pf->n[cur].child = x;
		}
		cur = x;
	}
	if (exact)
		pf->n[cur].exact |= bit;
	else
		pf->n[cur].prefix |= bit;
	return 0;
}

/* The members of pf whose check holds for the value s. */
static uint64_t pf_pass(const struct prefilter *pf, const char *s, size_t len)
{
	uint64_t pass = pf->empty_prefix;
	uint32_t cur = 0;

	for (size_t k = 0; k < len; k++) {
		uint32_t x = pf->n[cur].child;

		while (x && pf->n[x].c != (unsigned char)s[k])
			x = pf->n[x].sibling;
		if (!x)
			return pass;
		pass |= pf->n[x].prefix;
		cur = x;
	}
	return pass | pf->n[cur].exact;
}

/* The required check of entry e that a prefilter can decide: its first leading conjunct
 * that tests a plain field against string constants with startswith, = or in. */
static const struct vm_insn *pf_check(const struct entry *e)
{
	const struct vm_prog *p = e->prog;

	for (size_t k = 0; k < p->n_insns; k++) {
		const struct vm_insn *in = &p->insns[k];
		const struct vm_const *kc;
		enum cond_op op;
		enum cond_mod mod;

		if (in->op != VM_OP_CMP_JF || p->insns[in->target].op != VM_OP_REJECT)
			return NULL; /* past the leading conjuncts */
		op = VM_CMP_OP(in->cmp);
		mod = VM_CMP_MOD(in->cmp);
		kc = &p->consts[in->k];
		if (!p->slots[in->slot].is_field || p->slots[in->slot].is_list ||
		    !e->ids->field[in->slot])
			continue;
		if (op == COND_OP_STARTSWITH && (mod == COND_MOD_NONE || mod == COND_MOD_ANYOF))
			;
		else if ((op == COND_OP_EQ || op == COND_OP_EQEQ) && mod == COND_MOD_NONE)
			;
		else if (op == COND_OP_IN && mod == COND_MOD_NONE && kc->kind == VM_K_SET)
			;
		else
			continue;
		if (kc->kind == VM_K_VALUE ? kc->v.kind != VM_V_STR
					   : kc->kind != VM_K_SET || kc->v.kind != VM_V_LIST)
			continue;
		if (kc->kind == VM_K_SET)
			for (size_t i = 0; i < kc->v.list.n; i++)
				if (kc->v.list.items[i].kind != VM_V_STR)
					goto next;
		return in;
next:;
	}
	return NULL;
}

/* Groups the bucket's entries by the field of their decidable check; a field that three or
 * more of the first 64 entries test gets a prefilter. */
static int build_prefilters(struct bucket *b)
{
	unsigned n = b->n < 64 ? b->n : 64;
	const struct vm_insn *chk[64];
	bool done[64] = {false};

	for (unsigned i = 0; i < n; i++)
		chk[i] = pf_check(&b->e[i]);
	for (unsigned i = 0; i < n; i++) {
		const struct vm_prog *pi = b->e[i].prog;
		unsigned id, count = 0;
		struct prefilter pf;

		if (!chk[i] || done[i])
			continue;
		id = b->e[i].ids->field[chk[i]->slot];
		for (unsigned j = i; j < n; j++)
			if (chk[j] && !done[j] && b->e[j].ids->field[chk[j]->slot] == id)
				count++;
		if (count < 3)
			continue;
		memset(&pf, 0, sizeof(pf));
		pf.field = pi->slots[chk[i]->slot].field;
		pf.field_id = id;
		if (pf_node_add(&pf, 0) == UINT32_MAX)
			return -1;
		for (unsigned j = i; j < n; j++) {
			const struct vm_const *kc;
			bool exact;
			int rc = 0;

			if (!chk[j] || done[j] || b->e[j].ids->field[chk[j]->slot] != id)
				continue;
			done[j] = true;
			pf.members |= 1ull << j;
			kc = &b->e[j].prog->consts[chk[j]->k];
			exact = VM_CMP_OP(chk[j]->cmp) != COND_OP_STARTSWITH;
			if (kc->kind == VM_K_VALUE)
				rc = pf_add(&pf, kc->v.str.s, kc->v.str.len, 1ull << j, exact);
			else
				for (size_t k = 0; k < kc->v.list.n && !rc; k++)
					rc = pf_add(&pf, kc->v.list.items[k].str.s,
						    kc->v.list.items[k].str.len, 1ull << j, exact);
			if (rc) {
				free(pf.n);
				return -1;
			}
		}
		{
			struct prefilter *v = realloc(b->pf, (b->npf + 1) * sizeof(*v));

			if (!v) {
				free(pf.n);
				return -1;
			}
			b->pf = v;
			b->pf[b->npf++] = pf;
		}
	}
	return 0;
}

struct ruleset *ruleset_build_prio(const struct rules_loaded *r, enum rules_priority least)
{
	struct ruleset *rs = calloc(1, sizeof(*rs));
	struct variant *vars = calloc(EVT_CODES, sizeof(*vars));

	if (!rs || !vars || !(rs->accept = accept_prog()))
		goto oom;
	for (size_t i = 0; i < r->n_rules; i++) {
		const struct loaded_rule *lr = &r->rules[i];
		size_t n_vars = 0;
		int failed = 0;

		if (!rule_on(lr, least))
			continue;
		evtset_union(&rs->all, &lr->evttypes);
		rs->n_rules++;
		for (unsigned c = 0; c < EVT_CODES && !failed; c++) {
			const struct vm_prog *p;

			if (!evtset_has(&lr->evttypes, c))
				continue;
			p = specialise(rs, lr, c, vars, &n_vars);
			if (p && bucket_add(&rs->buckets[c], lr, p))
				failed = 1;
		}
		for (size_t k = 0; k < n_vars; k++)
			free(vars[k].text);
		if (failed)
			goto oom;
	}
	free(vars);
	vars = NULL;
	if (number_programs(rs))
		goto oom;
	for (unsigned c = 0; c < EVT_CODES; c++)
		if (rs->buckets[c].n >= 3 && build_prefilters(&rs->buckets[c]))
			goto oom;
	return rs;
oom:
	free(vars);
	ruleset_free(rs);
	return NULL;
}

void ruleset_free(struct ruleset *rs)
{
	if (!rs)
		return;
	for (unsigned c = 0; c < EVT_CODES; c++) {
		free(rs->buckets[c].e);
		for (unsigned k = 0; k < rs->buckets[c].npf; k++)
			free(rs->buckets[c].pf[k].n);
		free(rs->buckets[c].pf);
	}
	for (size_t i = 0; i < rs->n_progs; i++)
		vm_prog_free(rs->progs[i]);
	free(rs->progs);
	vm_prog_free(rs->accept);
	for (size_t i = 0; i < rs->n_pids; i++) {
		free((void *)rs->pids[i].ids.check);
		free((void *)rs->pids[i].ids.field);
	}
	free(rs->pids);
	vm_memo_free(rs->memo);
	free(rs);
}

unsigned ruleset_eval(struct ruleset *rs, unsigned code, const struct vm_fieldsrc *src,
		      bool all, void (*on_match)(void *ctx, const struct loaded_rule *rule),
		      void *ctx)
{
	const struct bucket *b;
	unsigned matches = 0;
	uint64_t skip = 0;

	if (code >= EVT_CODES)
		return 0;
	b = &rs->buckets[code];
	vm_memo_next(rs->memo);
	for (unsigned k = 0; k < b->npf; k++) {
		const struct prefilter *pf = &b->pf[k];
		const struct vm_value *v = vm_memo_field(rs->memo, pf->field_id, &pf->field, src);

		if (!v)
			skip |= pf->members; /* a check on a missing value is false */
		else if (v->kind == VM_V_STR)
			skip |= pf->members & ~pf_pass(pf, v->str.s, v->str.len);
		/* any other kind (an "any of" list): let the programs decide */
	}
	for (unsigned i = 0; i < b->n; i++) {
		int known;

		if (i < 64 && (skip >> i & 1))
			continue;
		known = vm_memo_prefix(rs->memo, b->e[i].ids);
		if (known < 0 || vm_eval_memo_from(b->e[i].prog, src, b->e[i].ids, rs->memo,
						   (size_t)known) != 1)
			continue;
		matches++;
		if (on_match)
			on_match(ctx, b->e[i].rule);
		if (!all)
			break;
	}
	return matches;
}

unsigned ruleset_prefiltered(const struct ruleset *rs, unsigned code)
{
	unsigned n = 0;

	if (code >= EVT_CODES)
		return 0;
	for (unsigned k = 0; k < rs->buckets[code].npf; k++)
		n += (unsigned)__builtin_popcountll(rs->buckets[code].pf[k].members);
	return n;
}

const struct vm_prog *ruleset_prog(const struct ruleset *rs, unsigned code, const char *rule)
{
	if (code >= EVT_CODES)
		return NULL;
	for (unsigned i = 0; i < rs->buckets[code].n; i++)
		if (!strcmp(rs->buckets[code].e[i].rule->src->name, rule))
			return rs->buckets[code].e[i].prog;
	return NULL;
}

unsigned ruleset_n_rules(const struct ruleset *rs)
{
	return rs->n_rules;
}

unsigned ruleset_bucket_size(const struct ruleset *rs, unsigned code)
{
	return code < EVT_CODES ? rs->buckets[code].n : 0;
}

unsigned ruleset_syscalls(const struct ruleset *rs, uint64_t *bm)
{
	unsigned n = 0;

	for (unsigned c = 0; c < SK_NR_SYSCALLS; c++) {
		if (!evtset_has(&rs->all, c))
			continue;
		bm[c / 64] |= 1ull << (c % 64);
		n++;
	}
	return n;
}
