/*
 * The condition parser (spec a.2, a.3): condition text, after list substitution, to a syntax
 * tree (cond_ast.h). Recursive descent over the cond_lex scanners, reproducing the reference
 * grammar's quirks: "not", "and", "or" need a blank or '(' after them, "or(...)" may only be
 * followed by "or", word operators need a blank after them, and the first operator that
 * matches the text wins.
 *
 * Reentrant: all state lives in the call. Linear in the length of the text.
 */
#ifndef SAKER_COND_PARSE_H
#define SAKER_COND_PARSE_H

#include <stddef.h>

#include "cond_ast.h"
#include "cond_lex.h"

/*
 * Most levels of nesting a condition may have: parentheses (including "not(", "and(",
 * "or(") and transformer calls, counted together. Deeper input fails with "nesting too deep"
 * instead of exhausting the stack; at the limit the parser needs about 0.4 MB of stack (gcc
 * -O2). The reference engine allows about 200 levels of parentheses in rule conditions (its
 * limit of 1000 counts recursive calls, five per level), so this accepts all it accepts.
 * Runs of "not" and long and/or chains are loops, not nesting, and have no limit.
 */
#define COND_MAX_DEPTH 1000

/*
 * Parses src[0..len) (not necessarily NUL-terminated). Returns the tree, owned by the caller
 * (free it with cond_node_free), or NULL with *err filled: the position where the problem was
 * found and a message, e.g. "unbalanced parenthesis: the '(' at 1:4 is never closed". err is
 * written only on failure, and may be NULL. A condition that is empty or only blanks, or that
 * contains a NUL byte, is an error.
 */
struct cond_node *cond_parse(const char *src, size_t len, struct cond_error *err);

#endif /* SAKER_COND_PARSE_H */
