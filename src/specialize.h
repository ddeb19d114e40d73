/*
 * A rule's condition specialised for one event type. The ruleset files each rule under the
 * event types its condition can match (spec c.3); within one bucket every check of the event
 * type itself (evt.type = open, evt.type in (...), !=) and of the direction (evt.dir = <,
 * always true here: only exits are delivered) has a known answer. Folding them away before
 * compiling removes, for nearly every rule, the first check it would run on every event.
 *
 * The result is equivalent for events of that type: evt.type and evt.dir are never missing.
 */
#ifndef SAKER_SPECIALIZE_H
#define SAKER_SPECIALIZE_H

#include "cond_ast.h"

enum spec_result {
	SPEC_FALSE, /* the condition cannot match events of this type */
	SPEC_TRUE,  /* it matches every event of this type */
	SPEC_TREE,  /* *out: what is left to check */
};

/* Folds checked (a checked, macro-expanded tree) for event code. On SPEC_TREE, *out is a
 * new tree owned by the caller; NULL *out with SPEC_TREE means out of memory. */
enum spec_result cond_specialize(const struct cond_node *checked, unsigned code,
				 struct cond_node **out);

#endif /* SAKER_SPECIALIZE_H */
