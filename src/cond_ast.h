/*
 * The condition language's vocabulary (operators, modifiers, transformers) and its syntax
 * tree (spec a.3). The parser (cond_parse.h) builds trees; the rules compiler splices copies
 * of macro trees in place of macro references (cond_node_clone) and type-checks the rest.
 *
 * Tree shape, by node kind (kids are owned by their parent, in source order):
 *
 *   COND_AND, COND_OR  kids: two or more operands; n-ary, so "a and b and c" is one node,
 *                      while "(a and b) and c" keeps the inner node as written
 *   COND_NOT           kids[0]; "not not x" leaves no node at all (each "not" toggles)
 *   COND_MACRO         text: an identifier where a check was expected (a macro reference)
 *   COND_EXISTS        kids[0]: the left operand; op is COND_OP_EXISTS
 *   COND_COMPARE       kids[0]: left operand, kids[1]: right operand; op, mod
 *   COND_FIELD         text: the field name, arg: its "[...]" argument or NULL
 *   COND_TRANSFORM     tr; kids: the arguments; arg: a "[...]" suffix or NULL
 *   COND_VALUE         text: the value, unescaped (never contains a NUL byte)
 *   COND_LIST          kids: the items, possibly none
 *
 * A left operand is a FIELD or a TRANSFORM. A right operand is a VALUE, a LIST of VALUEs, or
 * a TRANSFORM (val() wraps one FIELD to mark a field on the right). Transformer arguments are
 * FIELDs, TRANSFORMs, VALUEs (quoted strings, numbers) or LISTs of those. The parser accepts
 * every "[...]" suffix the grammar allows; only getopt() takes one, the compiler must reject
 * the others (spec a.7). Arity and types of transformer arguments are also the compiler's.
 */
#ifndef SAKER_COND_AST_H
#define SAKER_COND_AST_H

#include <stdbool.h>
#include <stddef.h>

struct strbuf;

/* A place in a condition's text: byte offset, and 1-based line and column. Lines end at LF;
 * columns count bytes, so a tab or a UTF-8 sequence is as wide as its bytes. */
struct cond_pos {
	size_t offset;
	unsigned line;
	unsigned col;
};

/*
 * Operators, in the order the parser tries them: the first textual match wins (spec a.2), so
 * "<=" comes before "<", "==" before "=" and "intersects" before "in". The class says what may
 * follow: nothing (UNARY), a number (NUMERIC), a value or a modifier (SYMBOLIC, WORD; a WORD
 * operator must be followed by a blank), a list or an identifier (LIST). A field on the right
 * (val() or a transformer) is allowed after all but UNARY.
 */
#define COND_OPERATORS(X)                                                                          \
	X(EXISTS, "exists", UNARY)                                                                 \
	X(LE, "<=", NUMERIC)                                                                       \
	X(LT, "<", NUMERIC)                                                                        \
	X(GE, ">=", NUMERIC)                                                                       \
	X(GT, ">", NUMERIC)                                                                        \
	X(EQEQ, "==", SYMBOLIC)                                                                    \
	X(EQ, "=", SYMBOLIC)                                                                       \
	X(NE, "!=", SYMBOLIC)                                                                      \
	X(GLOB, "glob", WORD)                                                                      \
	X(IGLOB, "iglob", WORD)                                                                    \
	X(CONTAINS, "contains", WORD)                                                              \
	X(ICONTAINS, "icontains", WORD)                                                            \
	X(BCONTAINS, "bcontains", WORD)                                                            \
	X(STARTSWITH, "startswith", WORD)                                                          \
	X(BSTARTSWITH, "bstartswith", WORD)                                                        \
	X(ENDSWITH, "endswith", WORD)                                                              \
	X(REGEX, "regex", WORD)                                                                    \
	X(INTERSECTS, "intersects", LIST)                                                          \
	X(IN, "in", LIST)                                                                          \
	X(PMATCH, "pmatch", LIST)

enum cond_op {
#define COND_X(id, text, cls) COND_OP_##id,
	COND_OPERATORS(COND_X)
#undef COND_X
	COND_OP_COUNT
};

enum cond_op_class {
	COND_OPC_UNARY,
	COND_OPC_NUMERIC,
	COND_OPC_SYMBOLIC,
	COND_OPC_WORD,
	COND_OPC_LIST
};

/* List modifiers after a SYMBOLIC or WORD operator, [libs>=0.25]: "fd.name startswith anyof
 * (/etc/, /root/)". */
#define COND_MODIFIERS(X)                                                                          \
	X(NONE, "")                                                                                \
	X(ONEOF, "oneof")                                                                          \
	X(ANYOF, "anyof")                                                                          \
	X(ALLOF, "allof")

enum cond_mod {
#define COND_X(id, text) COND_MOD_##id,
	COND_MODIFIERS(COND_X)
#undef COND_X
	COND_MOD_COUNT
};

/* Field transformers (spec a.7; join and concat [libs>=0.24], getopt [libs>=0.25]). val() is
 * not a transformer but is written like one: it marks a field on the right of a comparison. */
#define COND_TRANSFORMERS(X)                                                                       \
	X(TOLOWER, "tolower")                                                                      \
	X(TOUPPER, "toupper")                                                                      \
	X(B64, "b64")                                                                              \
	X(BASENAME, "basename")                                                                    \
	X(LEN, "len")                                                                              \
	X(JOIN, "join")                                                                            \
	X(CONCAT, "concat")                                                                        \
	X(GETOPT, "getopt")                                                                        \
	X(VAL, "val")

enum cond_tr {
#define COND_X(id, text) COND_TR_##id,
	COND_TRANSFORMERS(COND_X)
#undef COND_X
	COND_TR_COUNT
};

/* Names as written in conditions ("startswith", "anyof", "tolower"); "" for COND_MOD_NONE. */
const char *cond_op_name(enum cond_op op);
const char *cond_mod_name(enum cond_mod mod);
const char *cond_tr_name(enum cond_tr tr);
enum cond_op_class cond_op_class_of(enum cond_op op);

/* Map exact text (not NUL-terminated) to the enum: 0 and *out set, or -1 when the text names
 * none. cond_mod_lookup() finds only real modifiers, never COND_MOD_NONE. */
int cond_op_lookup(const char *text, size_t len, enum cond_op *out);
int cond_mod_lookup(const char *text, size_t len, enum cond_mod *out);
int cond_tr_lookup(const char *text, size_t len, enum cond_tr *out);

enum cond_node_kind {
	COND_AND,
	COND_OR,
	COND_NOT,
	COND_MACRO,
	COND_EXISTS,
	COND_COMPARE,
	COND_FIELD,
	COND_TRANSFORM,
	COND_VALUE,
	COND_LIST
};

struct cond_node {
	enum cond_node_kind kind;
	struct cond_pos pos;	 /* where the node starts: its first token */
	enum cond_op op;	 /* COND_EXISTS, COND_COMPARE */
	enum cond_mod mod;	 /* COND_COMPARE: COND_MOD_NONE unless a modifier was written */
	enum cond_tr tr;	 /* COND_TRANSFORM */
	char *text;		 /* COND_MACRO, COND_FIELD: the name; COND_VALUE: the value */
	char *arg;		 /* COND_FIELD, COND_TRANSFORM: the "[...]" argument, or NULL */
	struct cond_node **kids; /* see the table above */
	size_t nkids;
	size_t kids_cap; /* allocated room in kids, for cond_node_add() */
};

/* "and", "or", "not", "macro", "exists", "compare", "field", "transform", "value", "list". */
const char *cond_node_kind_name(enum cond_node_kind kind);

/*
 * Constructors return a node owned by the caller (free it with cond_node_free), or NULL when
 * out of memory. Text is copied. Those that take child nodes take them over even when they
 * fail, so a caller never has to free a child it passed.
 */
struct cond_node *cond_node_new(enum cond_node_kind kind, struct cond_pos pos);
/* A COND_MACRO, COND_FIELD or COND_VALUE node holding a copy of text[0..len). */
struct cond_node *cond_node_new_text(enum cond_node_kind kind, struct cond_pos pos,
				     const char *text, size_t len);
/* A COND_NOT node over child. */
struct cond_node *cond_node_new_not(struct cond_pos pos, struct cond_node *child);
/* A check: COND_EXISTS when op is COND_OP_EXISTS (rhs must be NULL), else COND_COMPARE. */
struct cond_node *cond_node_new_check(struct cond_pos pos, enum cond_op op, enum cond_mod mod,
				      struct cond_node *lhs, struct cond_node *rhs);

/* Appends child to parent's kids. Takes child over in every case: returns 0, or -1 (child
 * freed) when out of memory or when child is NULL, as from a failed constructor. */
int cond_node_add(struct cond_node *parent, struct cond_node *child);

/* Replaces n->arg with a copy of arg[0..len). Returns 0, or -1 when out of memory. */
int cond_node_set_arg(struct cond_node *n, const char *arg, size_t len);

/* Frees n and everything below it. NULL is fine. */
void cond_node_free(struct cond_node *n);

/* A deep copy of n, positions included, owned by the caller; NULL when out of memory. */
struct cond_node *cond_node_clone(const struct cond_node *n);

/*
 * Appends n to sb as canonical text: checks and connectives as S-expressions, operands as
 * condition syntax. Deterministic, one line, the same for equal trees:
 *
 *   (and (= proc.name "bash") (not (macro spawned_process)))
 *   (or (exists proc.aname[2]) (in tolower(fd.name) ("/etc/x", "b")))
 *   (startswith anyof fd.name ("/etc/", "/root/"))     (modifier after the operator)
 *
 * Values are always double-quoted, with \" \\ \n \t and \xNN escapes for every other byte
 * outside printable ASCII (all valid escapes of the condition language); an argument is
 * written bare when it could be read back bare, else quoted the same way.
 */
void cond_node_print(struct strbuf *sb, const struct cond_node *n);

#endif /* SAKER_COND_AST_H */
