/*
 * Rules files to checked rules: the last stage before bytecode. Collects the files
 * (rules_collect.h), parses every macro and rule condition, expands and checks each rule
 * (cond_check.h), derives its event-type set, and records every problem in the
 * collection's messages with the spec's codes, positions in the rules file, and the item it
 * is about. Nothing stops the others: every rule that is not bad itself is compiled, also
 * when other rules, macros, files or plugin requirements have errors. A macro with errors is
 * reported once, at the macro; the rules that use it are not compiled (and get no message of
 * their own for it).
 */
#ifndef SAKER_RULES_LOAD_H
#define SAKER_RULES_LOAD_H

#include <stdbool.h>
#include <stddef.h>

#include "cond_ast.h"
#include "config.h"
#include "evttypes.h"
#include "outfmt.h"
#include "rules_collect.h"
#include "vm.h"

struct loaded_rule {
	const struct rules_rule *src; /* name, output, priority, tags, ... */
	struct cond_node *cond;	      /* checked, macros expanded */
	struct vm_prog *prog;	      /* compiled and validated */
	struct evtset evttypes;
	struct outfmt *fmt; /* the compiled output, append_output's text included */
	struct outfmt_extra *extras; /* append_output's extra_fields, sorted by key, unique */
	size_t n_extras;
	bool on; /* enabled: the rule's own key, then the configuration's rules: selection */
};

struct rules_loaded {
	struct rules_collection *coll; /* messages in coll->msgs */
	struct loaded_rule *rules;     /* the rules that compiled, in evaluation order */
	size_t n_rules;
	size_t n_skipped; /* dropped by skip-if-unknown-filter */
};

/* The name that stands for the default ruleset built into the binary (rules/ at build
 * time), in rules_files and -r. */
#define RULES_BUILTIN "@default"

/* Its text (generated from rules/saker_rules.yaml). */
extern const char saker_default_rules[];
extern const size_t saker_default_rules_len;

/* Loads paths (files or directories, or RULES_BUILTIN) in order. Returns the result (free with
 * rules_loaded_free) even when there were errors: see coll->msgs.n_errors. NULL only when out
 * of memory. */
struct rules_loaded *rules_load(const char *const *paths, size_t n);
/* The same, with one more rules document from memory (called name in messages) loaded
 * after the paths. */
struct rules_loaded *rules_load_with(const char *const *paths, size_t n, const char *name,
				     const char *buf, size_t len);

/* The same, with the configuration's append_output applied to every rule it matches. */
struct rules_loaded *rules_load_appending(const char *const *paths, size_t n,
					  const struct append_entry *append, size_t n_append);

void rules_loaded_free(struct rules_loaded *r);

/* Applies the configuration's rules: selection in order (spec b.13): each entry enables or
 * disables the rules whose whole name matches its pattern ('*' matches any run of
 * characters) or that carry its tag. matched[i] (when not NULL) gets how many rules entry i
 * touched. */
void rules_loaded_select(struct rules_loaded *r, const struct rule_select *sel, size_t n,
			 size_t *matched);

/* Whether an enabled rule's condition, output or append_output extra field reads the field
 * named name ("proc.env"). */
bool rules_loaded_uses_field(const struct rules_loaded *r, const char *name);

/* The loaded rule called name, or NULL. */
const struct loaded_rule *rules_loaded_find(const struct rules_loaded *r, const char *name);

/* The union of the event types of the enabled rules. */
void rules_loaded_evttypes(const struct rules_loaded *r, struct evtset *out);

#endif /* SAKER_RULES_LOAD_H */
