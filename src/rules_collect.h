/*
 * Rules files, stage 2 (spec b.2-b.13, b.15 "collect" and the text-level part of "compile"):
 * applies the raw items of rules files (rules_yaml.h), file after file, to one collection,
 * then expands lists and exceptions into condition text for the compiler.
 *
 *   struct rules_collection *c = rules_collection_new();
 *   rules_collect_path(c, "/etc/saker/rules.d");    (once per configured path, in order)
 *   rules_collection_finish(c);                     (lists, exceptions, list substitution)
 *   ... the compiler parses c->macros[i].cond.text and c->rules[i].cond.text ...
 *   rules_collection_check_unused(c);               (LOAD_UNUSED_MACRO / LOAD_UNUSED_LIST)
 *   rules_collection_free(c);
 *
 * Collecting (per item, in file order): a plain definition of an existing name replaces it
 * in place, keeping its position in the order (trap 12); `append: true` and `override`
 * append to or replace keys of an existing item (b.8); a rule item with only `enabled` sets
 * that flag; required_engine_version is checked against SAKER_ENGINE_VERSION and
 * required_plugin_versions remembered. The first error in a file stops that file (b.1): the
 * items before it stay applied, the rest of the file is not. Later files are still read and
 * applied, and finish still finishes everything, so one run reports each file's first error
 * and the compiler can still compile (and report on) every rule that is not failed itself.
 *
 * Finishing: unsatisfied plugin requirements are errors (saker provides the container
 * plugin's fields itself, see SAKER_CONTAINER_VERSION, and nothing else); list items naming
 * earlier lists are expanded (b.9, b.11.1); each rule's exceptions become condition text
 * (b.10); list names are substituted into every macro and rule condition (b.11.2). A rule whose
 * exceptions are invalid is reported and marked failed; the others are still finished.
 *
 * Everything is text: conditions are not parsed here. Macro references, fields, operators
 * and event types are the compiler's.
 */
#ifndef SAKER_RULES_COLLECT_H
#define SAKER_RULES_COLLECT_H

#include <stdbool.h>
#include <stddef.h>

#include "rules_yaml.h"

/* The rules engine version saker implements: the language of the spec's "current"
 * snapshot. Rules files requiring a newer minor (or another major) do not load (b.2). */
#define SAKER_ENGINE_VERSION "0.63.0"

/* saker has no plugins; it provides the container plugin's fields itself and counts as this
 * version of it for required_plugin_versions (b.3). */
#define SAKER_CONTAINER_VERSION "0.4.0"

/* Where something was written. file belongs to the collection. */
struct rules_pos {
	const struct rules_file *file;
	unsigned line, col;
};

/* A condition as text, before and after list substitution. Owned by the collection for its
 * macros and rules; by the caller (rules_cond_free) when rules_expand_lists filled it. */
struct rules_cond {
	char *source;	/* the text lists are substituted in: a macro's condition, or a rule's
			 * "(" condition ")" followed by its exceptions (b.10) */
	char *text;	/* after substitution (b.11): what the condition parser reads */
	size_t len;	/* strlen(text) */
	size_t *origin; /* len + 1 offsets into source: origin[i] is where text[i] came from; a
			 * character a list inserted maps to the list name's offset */
};

/* Where a part of a text that appends grew starts in the text, and where it was written. */
struct rules_text_part {
	size_t offset;
	struct rules_pos pos;
};

struct rules_list {
	const char *name;
	struct rules_pos pos; /* the latest definition */
	const char **raw;     /* the items as collected (definition plus appends) */
	size_t n_raw;
	const char **items; /* after finish: raw, with items naming a visible list expanded */
	size_t n_items;
	size_t index;	   /* order of first definition (b.9) */
	size_t visibility; /* sequence number of the latest definition or append */
	bool used;	   /* after finish: substituted somewhere, or expanded in a list */
	size_t cap_raw;	   /* internal */
};

struct rules_macro {
	const char *name;
	struct rules_pos pos;	   /* the latest definition */
	struct rules_pos cond_pos; /* its condition value (the definition or last replacement) */
	char *condition;	   /* as collected: definition plus appends */
	struct rules_text_part *cond_appends; /* where each append starts in condition */
	size_t n_cond_appends, cap_cond_appends;
	struct rules_cond cond;	  /* after finish */
	size_t index, visibility; /* macros may use macros whose index < their visibility */
	bool used; /* after finish: named as a word by another macro or by a compiled rule (a
		    * conservative textual test; see rules_collection_check_unused) */
};

/* One entry of an exception's values, and the file it was written in. */
struct rules_exc_values {
	const struct rules_node *node; /* a value, or a sequence of values/sequences */
	const struct rules_file *file;
};

struct rules_exception {
	const char *name;
	struct rules_pos pos;
	const struct rules_node *fields; /* one value, or a sequence of them */
	const struct rules_node *comps;	 /* the same shape, or NULL for the defaults */
	struct rules_exc_values *values; /* entries in order, appends included */
	size_t n_values, cap_values;
};

struct rules_rule {
	const char *name;
	struct rules_pos pos;	   /* the latest definition */
	struct rules_pos cond_pos; /* its condition value (the definition or last replacement) */
	char *condition;	   /* as collected: definition plus appends */
	struct rules_text_part *cond_appends; /* where each append starts in condition */
	size_t n_cond_appends, cap_cond_appends;
	char *output;		     /* trimmed, appends included */
	struct rules_pos output_pos; /* its output value (the definition or last replacement) */
	struct rules_text_part *output_appends; /* where each append starts in output */
	size_t n_output_appends, cap_output_appends;
	char *desc;
	enum rules_priority priority;
	const char **tags; /* a set: duplicates dropped, first-seen order */
	size_t n_tags, cap_tags;
	const char *source; /* "syscall" unless set */
	bool enabled;
	bool warn_evttypes;	     /* allow LOAD_NO_EVTTYPE for this rule */
	bool skip_if_unknown_filter; /* drop the rule (warning) on unknown fields/event types */
	bool capture;
	unsigned long long capture_duration; /* ms; 0: the configured default */
	bool unknown_source; /* the source is not "syscall": warned about; do not compile */
	bool failed;	     /* finish reported an error about this rule; cond is empty */
	struct rules_exception *exceptions;
	size_t n_exceptions, cap_exceptions;
	struct rules_cond cond; /* after finish, unless unknown_source or failed */
	size_t index;		/* order of first definition: evaluation order (b.9) */
};

struct rules_collect_state;

/* Lists, macros and rules in the order of their first definition. Read-only outside
 * rules_collect.c; everything is owned by the collection. */
struct rules_collection {
	struct rules_list *lists;
	size_t n_lists;
	struct rules_macro *macros;
	size_t n_macros;
	struct rules_rule *rules;
	size_t n_rules;
	struct load_msgs msgs; /* every error and warning, in the order found */
	bool has_required_engine;
	struct rules_version required_engine; /* the highest required_engine_version seen */
	bool finished;
	struct rules_collect_state *state;
};

struct rules_collection *rules_collection_new(void);
void rules_collection_free(struct rules_collection *c);

/* True while no error has been recorded. */
bool rules_collection_ok(const struct rules_collection *c);

/* Applies f's items in order. Takes ownership of f (it lives as long as c), also on error.
 * Returns 0, or -1 at the first error (the rest of f is not applied). */
int rules_collect_file(struct rules_collection *c, struct rules_file *f);

/* Reads a rules file, or each rules file of a directory in name order, and applies it.
 * Returns 0, or -1 if any of them failed to read or apply. */
int rules_collect_path(struct rules_collection *c, const char *path);

/* Reads rules content from memory (name is used in messages) and applies it. */
int rules_collect_buffer(struct rules_collection *c, const char *name, const char *buf, size_t len);

/* After the last file: checks plugin requirements, expands lists in lists, builds each
 * rule's condition with its exceptions, and substitutes lists into every macro and rule
 * condition (rules with an unknown source are skipped). Everything collected is finished,
 * also when errors were recorded before (a rule whose own exceptions are invalid is marked
 * failed). Returns 0, or -1 if the collection has any error. Later calls do nothing and
 * return the same. */
int rules_collection_finish(struct rules_collection *c);

/* What wrote a byte of a finished rule's condition source (r->cond.source). */
enum rules_src_kind {
	RULES_SRC_CONDITION, /* the rule's condition (or the "(" ")" around it) */
	RULES_SRC_EXCEPTION, /* an exception's text around its fields, comps and values */
	RULES_SRC_EXC_FIELD, /* one of an exception's fields */
	RULES_SRC_EXC_COMP,  /* one of its comps (or the default comp: at its field) */
	RULES_SRC_EXC_VALUE, /* one of its values */
};

struct rules_src_where {
	enum rules_src_kind kind;
	size_t offset;			   /* CONDITION: the offset in r->condition (at most its
					    * length: the wrapping ")" maps to its end) */
	const struct rules_exception *exc; /* the others: the exception */
	struct rules_pos pos;		   /* the others: where that part was written */
};

/* Where byte src_off of r->cond.source came from (rebuilds the exception text, so meant for
 * error paths). */
void rules_rule_locate(const struct rules_collection *c, const struct rules_rule *r, size_t src_off,
		       struct rules_src_where *out);

/* Records LOAD_UNUSED_LIST for each list no condition or list used and LOAD_UNUSED_MACRO for
 * each macro whose `used` flag is false. Once, after a successful finish (with errors it
 * records nothing: a rule that failed would make what it uses look unused). The list flags are
 * exact (set where a substitution happened). The macro flags are a conservative textual test (a
 * macro counts as used when another macro or a compiled rule contains its name as a whole word,
 * even in a string); a compiler that resolves macros may set them exactly before calling this. */
void rules_collection_check_unused(struct rules_collection *c);

/* Substitutes the collection's lists (after finish) into condition text as b.11 says: each
 * occurrence of a list name between delimiters (start, end, blank, '(', ')', ',', '=') --
 * also inside quoted strings -- becomes the list's items joined by ", ", each quoted only if
 * it contains a space and is not already quoted, with the surrounding blanks replaced by
 * one space each side; an empty list also takes one adjacent comma away. Lists are applied
 * in definition order, so items inserted by one list are substituted only by later lists.
 * Fills out (free with rules_cond_free); out->source is a copy of text. */
void rules_expand_lists(const struct rules_collection *c, const char *text, struct rules_cond *out);
void rules_cond_free(struct rules_cond *cond);

/* The item called name, or NULL. */
const struct rules_list *rules_collection_list(const struct rules_collection *c, const char *name);
const struct rules_macro *rules_collection_macro(const struct rules_collection *c,
						 const char *name);
const struct rules_rule *rules_collection_rule(const struct rules_collection *c, const char *name);

#endif /* SAKER_RULES_COLLECT_H */
