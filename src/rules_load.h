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
#include "evttypes.h"
#include "outfmt.h"
#include "rules_collect.h"
#include "vm.h"

struct loaded_rule {
	const struct rules_rule *src; /* name, output, priority, tags, ... */
	struct cond_node *cond;	      /* checked, macros expanded */
	struct vm_prog *prog;	      /* compiled and validated */
	struct evtset evttypes;
	struct outfmt *fmt; /* the compiled output */
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
/* The same, with the configuration's append_output entries applied to the rules' outputs
 * (config.h, spec d.1). */
struct output_append;
struct rules_loaded *rules_load_appended(const char *const *paths, size_t n,
					 const struct output_append *appends, size_t n_appends);

void rules_loaded_free(struct rules_loaded *r);

/* The loaded rule called name, or NULL. */
const struct loaded_rule *rules_loaded_find(const struct rules_loaded *r, const char *name);

/* The union of the event types of the enabled rules. */
void rules_loaded_evttypes(const struct rules_loaded *r, struct evtset *out);

#endif /* SAKER_RULES_LOAD_H */
