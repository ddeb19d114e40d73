/*
 * The rules compiler's semantic stage (spec a.4-a.9, c.1): takes a parsed condition, splices
 * in the macros it references (deep copies, so the tree that comes out stands alone),
 * resolves every field against the registry, checks operators against field types and
 * converts every value the way the field's type wants it, and derives the set of event
 * types the condition can match.
 *
 * What it reports uses the spec's codes: LOAD_ERR_COMPILE_CONDITION (unknown field, unknown
 * event type, bad value, operator/type mismatch, bad regex, ...) and LOAD_ERR_VALIDATE
 * (undefined macro, macro loop) as errors; LOAD_COMPILE_CONDITION (a constant that looks like
 * a field) and LOAD_DEPRECATED_ITEM as warnings.
 */
#ifndef SAKER_COND_CHECK_H
#define SAKER_COND_CHECK_H

#include "cond_ast.h"
#include "evttypes.h"

struct check_env {
	/* The parsed body of the macro called name (as the referrer may see it), or NULL when
	 * there is none. */
	const struct cond_node *(*macro)(void *ctx, const char *name);
	/* Called for each warning; may be NULL. pos is in the text of the condition or of the
	 * macro named by in_macro (NULL when the condition's own). */
	void (*warn)(void *ctx, const char *code, const struct cond_pos *pos, const char *in_macro,
		     const char *msg);
	void *ctx;
};

struct check_error {
	const char *code;    /* "LOAD_ERR_COMPILE_CONDITION" or "LOAD_ERR_VALIDATE" */
	struct cond_pos pos; /* in the condition, or in the macro named below */
	char in_macro[128];  /* "" when the problem is in the condition's own text */
	char msg[256];
};

/* Checks ast and returns a new, macro-free tree (owned by the caller), or NULL with *err. */
struct cond_node *cond_check(const struct cond_node *ast, const struct check_env *env,
			     struct check_error *err);

/* The event types a checked (macro-free) condition can match (spec c.1). */
void cond_evttypes(const struct cond_node *checked, struct evtset *out);

#endif /* SAKER_COND_CHECK_H */
