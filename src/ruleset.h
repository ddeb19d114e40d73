/*
 * Compiled rules indexed by event type (spec c.3): each enabled rule is filed, in rule
 * order, under every event code of its set, so an event only runs the programs of the rules
 * that can match it. The union of the rules' syscall codes is what the kernel must let
 * through.
 */
#ifndef SAKER_RULESET_H
#define SAKER_RULESET_H

#include <stdbool.h>
#include <stdint.h>

#include "rules_load.h"
#include "vm.h"

struct ruleset;

/* Indexes the enabled rules of r (which must outlive the ruleset). NULL when out of
 * memory. */
struct ruleset *ruleset_build(const struct rules_loaded *r);
/* The same, keeping only the rules at least as severe as least (config 'priority'). */
struct ruleset *ruleset_build_prio(const struct rules_loaded *r, enum rules_priority least);
void ruleset_free(struct ruleset *rs);

/* How many rules are filed in some bucket (enabled and severe enough). */
unsigned ruleset_n_rules(const struct ruleset *rs);

/* Runs the rules filed under code, in order, against src (one event: fields and checks the
 * rules share are computed once, see vm_memo in vm.h). Calls on_match for the first rule
 * that matches (all false) or for each (all true). Returns the number of matches. */
unsigned ruleset_eval(struct ruleset *rs, unsigned code, const struct vm_fieldsrc *src,
		      bool all, void (*on_match)(void *ctx, const struct loaded_rule *rule),
		      void *ctx);

/* The program rule (by name) runs for events of code (specialised: evt.type and evt.dir
 * checks folded away, see specialize.h), or NULL when it is not filed under code. */
const struct vm_prog *ruleset_prog(const struct ruleset *rs, unsigned code, const char *rule);

/* How many of the rules filed under code a prefilter decides (see ruleset.c). */
unsigned ruleset_prefiltered(const struct ruleset *rs, unsigned code);

/* How many rules are filed under code. */
unsigned ruleset_bucket_size(const struct ruleset *rs, unsigned code);

/* Adds the syscalls the rules need to bm (SK_BITMAP_WORDS words). Returns how many. */
unsigned ruleset_syscalls(const struct ruleset *rs, uint64_t *bm);

#endif /* SAKER_RULESET_H */
