#include "specialize.h"

#include <string.h>

#include "evttypes.h"

/* Whether n is a check this fold can answer; *match is its answer for code. */
static bool known_check(const struct cond_node *n, unsigned code, bool *match)
{
	const struct cond_node *lhs, *rhs;
	bool is_type, hit = false;

	if (n->kind != COND_COMPARE || n->mod != COND_MOD_NONE || n->nkids != 2)
		return false;
	lhs = n->kids[0];
	rhs = n->kids[1];
	if (lhs->kind != COND_FIELD || lhs->arg)
		return false;
	is_type = !strcmp(lhs->text, "evt.type");
	if (!is_type && strcmp(lhs->text, "evt.dir") != 0)
		return false;

	switch (n->op) {
	case COND_OP_EQ:
	case COND_OP_EQEQ:
	case COND_OP_NE:
		if (rhs->kind != COND_VALUE)
			return false;
		if (is_type) {
			int c = evttype_code(rhs->text, strlen(rhs->text));

			hit = c >= 0 && (unsigned)c == code;
		} else {
			hit = !strcmp(rhs->text, "<");
		}
		*match = n->op == COND_OP_NE ? !hit : hit;
		return true;
	case COND_OP_IN:
		if (!is_type || rhs->kind != COND_LIST)
			return false;
		for (size_t i = 0; i < rhs->nkids; i++) {
			const struct cond_node *v = rhs->kids[i];
			int c;

			if (v->kind != COND_VALUE)
				return false;
			c = evttype_code(v->text, strlen(v->text));
			hit |= c >= 0 && (unsigned)c == code;
		}
		*match = hit;
		return true;
	default:
		return false;
	}
}

static enum spec_result fold(const struct cond_node *n, unsigned code, struct cond_node **out)
{
	bool match;

	*out = NULL;
	if (known_check(n, code, &match))
		return match ? SPEC_TRUE : SPEC_FALSE;

	if (n->kind == COND_NOT) {
		struct cond_node *kid;
		enum spec_result r = fold(n->kids[0], code, &kid);

		if (r != SPEC_TREE)
			return r == SPEC_TRUE ? SPEC_FALSE : SPEC_TRUE;
		if (!kid)
			return SPEC_TREE;
		*out = cond_node_new_not(n->pos, kid);
		return SPEC_TREE;
	}

	if (n->kind == COND_AND || n->kind == COND_OR) {
		/* and: a false operand decides, true ones drop out; or: the reverse */
		enum spec_result decides = n->kind == COND_AND ? SPEC_FALSE : SPEC_TRUE;
		struct cond_node *keep = cond_node_new(n->kind, n->pos), *only = NULL;

		if (!keep)
			return SPEC_TREE;
		for (size_t i = 0; i < n->nkids; i++) {
			struct cond_node *kid;
			enum spec_result r = fold(n->kids[i], code, &kid);

			if (r == decides) {
				cond_node_free(keep);
				return r;
			}
			if (r != SPEC_TREE)
				continue;
			if (!kid || cond_node_add(keep, kid)) {
				cond_node_free(keep);
				return SPEC_TREE; /* out of memory: *out stays NULL */
			}
		}
		if (keep->nkids == 0) {
			cond_node_free(keep);
			return decides == SPEC_FALSE ? SPEC_TRUE : SPEC_FALSE;
		}
		if (keep->nkids == 1) {
			/* a lone operand stands for itself */
			only = keep->kids[0];
			keep->nkids = 0;
			cond_node_free(keep);
			*out = only;
			return SPEC_TREE;
		}
		*out = keep;
		return SPEC_TREE;
	}

	*out = cond_node_clone(n);
	return SPEC_TREE;
}

enum spec_result cond_specialize(const struct cond_node *checked, unsigned code,
				 struct cond_node **out)
{
	return fold(checked, code, out);
}
