/*
 * Rules files, stage 1 (spec b.1-b.8): reads a rules file in the Falco rules language into raw
 * items, and the diagnostics every stage of the rules loader reports.
 *
 * The reader parses YAML with libyaml's event API into a tree of nodes in which every scalar
 * is the text as written (after YAML's own folding and escapes, never typed: `22`, `0x10` and
 * `yes` stay text), each with its 1-based line and column. It then classifies each item of
 * the top-level sequence (required_engine_version, required_plugin_versions, list, macro,
 * rule, or unknown) and checks everything that can be checked on the item alone: the shape
 * and type of each key's value, required keys, `override` and `append` misuse, priorities,
 * version syntax, the shape of exceptions and plugin requirements. What depends on other
 * items (append to what, redefinition, list expansion) is the collector's (rules_collect.h).
 *
 * Reading stops at the first error in a file (spec b.1): the reader then returns NULL and
 * nothing of that file reaches the collector. Warnings do not stop it.
 *
 * Limits: nesting deeper than RULES_YAML_MAX_DEPTH collections is a parse error (libyaml has
 * no limit of its own and slows down quadratically with flow nesting); scalars may not
 * contain NUL bytes. YAML anchors and aliases are supported: an alias shares the anchored
 * node (the tree is a DAG, never expanded), so no input multiplies in memory.
 */
#ifndef SAKER_RULES_YAML_H
#define SAKER_RULES_YAML_H

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>

#include "strbuf.h"

#define RULES_YAML_MAX_DEPTH 64

/* --- Diagnostics (spec b.14) ----------------------------------------------------------- */

enum load_code {
	/* errors: the rules content fails to load */
	LOAD_ERR_FILE_READ,
	LOAD_ERR_YAML_PARSE,
	LOAD_ERR_YAML_VALIDATE,
	LOAD_ERR_COMPILE_CONDITION,
	LOAD_ERR_COMPILE_OUTPUT,
	LOAD_ERR_VALIDATE,
	LOAD_ERR_EXTENSION,
	/* warnings: it loads, with the warning recorded */
	LOAD_UNKNOWN_SOURCE,
	LOAD_UNSAFE_NA_CHECK,
	LOAD_NO_EVTTYPE,
	LOAD_UNKNOWN_FILTER,
	LOAD_UNUSED_MACRO,
	LOAD_UNUSED_LIST,
	LOAD_UNKNOWN_ITEM,
	LOAD_DEPRECATED_ITEM,
	LOAD_WARNING_EXTENSION,
	LOAD_APPEND_NO_VALUES,
	LOAD_EXCEPTION_NAME_NOT_UNIQUE,
	LOAD_INVALID_MACRO_NAME,
	LOAD_INVALID_LIST_NAME,
	LOAD_COMPILE_CONDITION,
	LOAD_UNKNOWN_KEY,
	LOAD_CODE_COUNT
};

enum load_severity {
	LOAD_SEV_ERROR,
	LOAD_SEV_WARNING
};

/* The code's name as the spec spells it ("LOAD_ERR_YAML_PARSE"), its short text ("YAML parse
 * error"), and whether it is an error or a warning. Static strings. */
const char *load_code_name(enum load_code code);
const char *load_code_desc(enum load_code code);
enum load_severity load_code_severity(enum load_code code);
/* The code called name, for stages that report codes as strings; -1 if none is. */
int load_code_from_name(const char *name);

enum rules_item_kind {
	RULES_ITEM_UNKNOWN,
	RULES_ITEM_ENGINE_VERSION,
	RULES_ITEM_PLUGIN_VERSIONS,
	RULES_ITEM_LIST,
	RULES_ITEM_MACRO,
	RULES_ITEM_RULE
};

/* "list", "macro", "rule", "required_engine_version", "required_plugin_versions", "item". */
const char *rules_item_kind_name(enum rules_item_kind kind);

/* One error or warning. Every string is owned by the struct load_msgs that holds it. */
struct load_msg {
	enum load_severity severity;
	enum load_code code;
	char *file;			/* the rules file, or NULL */
	unsigned line, col;		/* 1-based; 0 when not known */
	enum rules_item_kind item_kind; /* RULES_ITEM_UNKNOWN when not about an item */
	char *item_name;		/* the item's name, or NULL */
	char *text;			/* "rule 'x': unknown key 'foo' (ignored)" */
	char *snippet;			/* the source line at line (at most 160 bytes), or NULL */
};

struct load_msgs {
	struct load_msg *v;
	size_t n, cap;
	size_t n_errors, n_warnings;
};

struct rules_file;

/* Records a message. f (may be NULL) names the file and gives the snippet; kind and name
 * (may be NULL) name the item, and the text is prefixed with "<kind> '<name>': ". */
void load_msg_add(struct load_msgs *m, enum load_code code, const struct rules_file *f,
		  unsigned line, unsigned col, enum rules_item_kind kind, const char *name,
		  const char *fmt, ...) __attribute__((format(printf, 8, 9)));
/* The same with a va_list. */
void load_msg_addv(struct load_msgs *m, enum load_code code, const struct rules_file *f,
		   unsigned line, unsigned col, enum rules_item_kind kind, const char *name,
		   const char *fmt, va_list ap) __attribute__((format(printf, 8, 0)));
void load_msgs_free(struct load_msgs *m);

/* Appends "file:line:col: error: text [CODE]" and, with snippet, the source line and a '^'
 * under the column, each line ending in '\n'. */
void load_msg_format(const struct load_msg *msg, bool snippet, struct strbuf *out);

/* --- The raw tree ------------------------------------------------------------------------ */

enum rules_node_type {
	RULES_NODE_SCALAR,
	RULES_NODE_SEQ,
	RULES_NODE_MAP
};

struct rules_pair;

/* A YAML node. Owned by its struct rules_file; read-only for everyone else. */
struct rules_node {
	enum rules_node_type type;
	bool is_null;	    /* a plain scalar YAML reads as null: empty, ~, null, Null, NULL */
	unsigned line, col; /* 1-based start of the node */
	const char *text;   /* SCALAR: the text as written, NUL-terminated */
	size_t len;	    /* SCALAR: strlen(text) */
	size_t n;	    /* SEQ: number of items; MAP: number of pairs */
	const struct rules_node **items; /* SEQ */
	const struct rules_pair *pairs;	 /* MAP, in document order */
};

struct rules_pair {
	const struct rules_node *key; /* always a scalar */
	const struct rules_node *value;
};

/* The value of key in map (the first, if the key is repeated), or NULL. */
const struct rules_node *rules_node_get(const struct rules_node *map, const char *key);
/* The key node of key in map, or NULL (for positions of keys). */
const struct rules_node *rules_node_key(const struct rules_node *map, const char *key);

/* Parses a boolean as the reference loader does (b.1): true/True/TRUE/yes/Yes/YES/on/On/ON/
 * y/Y and the false counterparts. Returns 0, or -1 if text is none of them. */
int rules_parse_bool(const char *text, bool *out);

/* --- Priorities (spec b.7) ------------------------------------------------------------ */

enum rules_priority {
	RULES_PRIO_EMERGENCY,
	RULES_PRIO_ALERT,
	RULES_PRIO_CRITICAL,
	RULES_PRIO_ERROR,
	RULES_PRIO_WARNING,
	RULES_PRIO_NOTICE,
	RULES_PRIO_INFORMATIONAL,
	RULES_PRIO_DEBUG
};

/* Any spelling, case-insensitive, "info" included. Returns 0, or -1 if text is none. */
int rules_priority_parse(const char *text, enum rules_priority *out);
/* The canonical name printed in alerts: "Emergency" ... "Informational", "Debug". */
const char *rules_priority_name(enum rules_priority prio);

/* --- Versions (spec b.2, b.3) ------------------------------------------------------------ */

struct rules_version {
	unsigned long major, minor, patch;
};

/* Parses "x.y.z" (a pre-release or build label after '-' or '+' is accepted and ignored) or,
 * with allow_number, a plain number N meaning 0.N.0. Returns 0, or -1. */
int rules_version_parse(const char *text, bool allow_number, struct rules_version *out);
/* <0, 0 or >0 as a is older than, the same as or newer than b. */
int rules_version_cmp(const struct rules_version *a, const struct rules_version *b);

/* --- Items and files --------------------------------------------------------------------- */

/* How a list, macro or rule item acts on what is already collected (spec b.6, b.8). */
enum rules_item_mode {
	RULES_MODE_DEFINE,	/* a (re)definition */
	RULES_MODE_APPEND,	/* legacy `append: true` (deprecated) */
	RULES_MODE_OVERRIDE,	/* an `override` mapping */
	RULES_MODE_ENABLE_ONLY, /* a rule item with only `enabled` (deprecated) */
};

struct rules_item {
	enum rules_item_kind kind;    /* RULES_ITEM_UNKNOWN: warned about, to be ignored */
	enum rules_item_mode mode;    /* lists, macros and rules */
	const char *name;	      /* lists, macros and rules; NULL for the other kinds */
	const struct rules_node *map; /* the item with every key as written */
	unsigned line, col;
};

struct rules_arena;

/* One file as read. Owned by whoever holds the pointer (the collector once given it). */
struct rules_file {
	char *path; /* the name messages use */
	char *buf;  /* the content, NUL-terminated (snippets come from it) */
	size_t len;
	size_t *line_starts; /* offset of each line's first byte */
	size_t n_lines;
	struct rules_item *items; /* every item (null ones left out), in file order */
	size_t n_items;
	struct rules_arena *arena; /* nodes and texts */
};

/* Reads the rules file at path. Returns the file (free with rules_file_free), or NULL after
 * recording the error in msgs (LOAD_ERR_FILE_READ, LOAD_ERR_YAML_PARSE,
 * LOAD_ERR_YAML_VALIDATE). Warnings are recorded either way. */
struct rules_file *rules_yaml_read_file(const char *path, struct load_msgs *msgs);

/* The same for content already in memory; name is used in messages. buf is copied. */
struct rules_file *rules_yaml_read_buffer(const char *name, const char *buf, size_t len,
					  struct load_msgs *msgs);

void rules_file_free(struct rules_file *f);

/* The files a rules path stands for (spec b.13): the path itself, or for a directory its
 * regular files whose names end in .yaml or .yml, sorted by name (byte order), not
 * recursing. Fills *paths with *n malloc'd strings (free with rules_yaml_free_paths).
 * Returns 0, or -1 after recording LOAD_ERR_FILE_READ. */
int rules_yaml_expand_path(const char *path, char ***paths, size_t *n, struct load_msgs *msgs);
void rules_yaml_free_paths(char **paths, size_t n);

/* --- Helpers shared by the loader stages ------------------------------------------------ */

/* Zeroed memory and string copies; like strbuf, they abort when memory runs out. */
void *rules_alloc(size_t size);
char *rules_strdup(const char *s);

/* Grows the array *v of elements of size bytes so that it holds need elements; *cap is its
 * capacity. Like strbuf, aborts when memory runs out. */
void rules_reserve(void *v, size_t *cap, size_t need, size_t size);

/* A map from names (not copied: they must outlive it) to indexes. Zero-initialise. */
struct rules_names {
	struct rules_name_slot *slots;
	size_t cap, n;
};

void rules_names_put(struct rules_names *t, const char *name, size_t len, size_t value);
/* Returns true and sets *value if name is in t. */
bool rules_names_get(const struct rules_names *t, const char *name, size_t len, size_t *value);
void rules_names_free(struct rules_names *t);

#endif /* SAKER_RULES_YAML_H */
