/*
 * The condition language's tokens (spec a.1) and string values (a.5).
 *
 * The language is context-sensitive: "a.b" is a field where a check starts but a plain value
 * after "=", "12abc" is the number 12 after "<" but one value after "=", and "in" is an
 * operator only after a field. So there is no free-running token stream: the parser asks, at
 * each point, for the classes of token the grammar allows there. Each cond_lex_* scanner
 * either recognises its class at the cursor (fills *tok, moves past it, and remembers it as
 * the last token) or leaves the cursor where it was. Scanners never skip blanks on their own;
 * call cond_lex_blank() where the grammar allows them.
 *
 * Two sets of blanks exist (spec 0, a.2): "blank" is space, TAB, backspace, CR and LF; the
 * blank that ends a "not" is space, TAB, LF, VT, FF and CR (POSIX [:space:]). Bytes outside
 * ASCII are ordinary characters of strings; NUL bytes belong to no token.
 *
 * The lexer keeps no state outside struct cond_lexer and never reads past src + len; the text
 * need not be NUL-terminated.
 */
#ifndef SAKER_COND_LEX_H
#define SAKER_COND_LEX_H

#include <stdbool.h>
#include <stddef.h>

#include "cond_ast.h"

/* Where and why a condition was rejected: byte offset, 1-based line and column (as in
 * struct cond_pos), and a message that names the problem first, e.g.
 * "expected a value after 'startswith', got end of condition". */
struct cond_error {
	size_t offset;
	unsigned line, col;
	char msg[256];
};

/* Fills err (which may be NULL) with pos and a printf-style message, truncated to fit. */
void cond_error_set(struct cond_error *err, struct cond_pos pos, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

enum cond_tok {
	COND_TOK_LPAREN,
	COND_TOK_RPAREN,
	COND_TOK_COMMA,
	COND_TOK_LBRACKET,
	COND_TOK_RBRACKET,
	COND_TOK_AND,
	COND_TOK_OR,
	COND_TOK_NOT,
	COND_TOK_FIELD,	      /* proc.name, evt.arg.flags: words joined by dots */
	COND_TOK_IDENT,	      /* a word without dots: macro name, value after "in" */
	COND_TOK_TRANSFORMER, /* tolower ... getopt, val: the name; a '(' follows */
	COND_TOK_OP,
	COND_TOK_MODIFIER,
	COND_TOK_NUMBER,
	COND_TOK_HEX,
	COND_TOK_QUOTED, /* with its quotes; cond_lex_value() unescapes it */
	COND_TOK_BARE,	 /* a bare string value */
	COND_TOK_ARG	 /* a bare field argument, between '[' and ']' */
};

struct cond_token {
	enum cond_tok kind;
	struct cond_pos pos; /* the first byte */
	size_t len;	     /* bytes of condition text */
	bool paren_follows;  /* AND, OR, NOT: '(' follows with no blank ("or(", "not(") */
	enum cond_op op;     /* COND_TOK_OP */
	enum cond_mod mod;   /* COND_TOK_MODIFIER */
	enum cond_tr tr;     /* COND_TOK_TRANSFORMER */
};

struct cond_lexer {
	const char *src;
	size_t len;
	struct cond_pos at;	/* the cursor: the next byte to read */
	struct cond_token last; /* the last token scanned (len 0: none yet), for messages */
	struct cond_error *err; /* where scanners that can fail report why */
};

/* Starts a lexer over src[0..len) with the cursor at offset 0, line 1, column 1. Scanners
 * that return -1 describe the problem in *err (which may be NULL). */
void cond_lex_init(struct cond_lexer *lx, const char *src, size_t len, struct cond_error *err);

/* The position of byte offset (at most len) of src, counting lines from its start. */
struct cond_pos cond_lex_pos_of(const char *src, size_t len, size_t offset);

bool cond_lex_at_end(const struct cond_lexer *lx);

/* The byte at the cursor, or -1 at the end. */
int cond_lex_peek(const struct cond_lexer *lx);

/* Skips a run of blanks; true if there was one. */
bool cond_lex_blank(struct cond_lexer *lx);

/* The single character c, one of ( ) , [ ]. */
bool cond_lex_punct(struct cond_lexer *lx, char c, struct cond_token *tok);

/*
 * The connective "and" or "or" (which: COND_TOK_AND or COND_TOK_OR). It must be followed by
 * a blank or by '(' (then tok->paren_follows is set; the '(' is not consumed). Returns 1;
 * 0 when the text here is not that word (another word such as "order" may start with it);
 * -1 when the word is followed by anything else, e.g. "and)" or "or" at the end.
 */
int cond_lex_connective(struct cond_lexer *lx, enum cond_tok which, struct cond_token *tok);

/* "not" followed by one or more [:space:] (consumed too), or directly by '(' (not consumed;
 * tok->paren_follows set). Anything else ("notx", "not" at the end) is not this token. */
bool cond_lex_not(struct cond_lexer *lx, struct cond_token *tok);

/* A field name, [a-zA-Z][a-zA-Z0-9_]* with at least one ".[a-zA-Z][a-zA-Z0-9_]*" after it. */
bool cond_lex_field(struct cond_lexer *lx, struct cond_token *tok);

/* An identifier, [a-zA-Z][a-zA-Z0-9_]* (a dot ends it). */
bool cond_lex_identifier(struct cond_lexer *lx, struct cond_token *tok);

/* A transformer name directly followed by '(' (the '(' is not consumed). val counts only
 * when allow_val is set (it may appear on the right of a comparison only). */
bool cond_lex_transformer(struct cond_lexer *lx, bool allow_val, struct cond_token *tok);

/*
 * A comparison operator, tried in the order of enum cond_op. A WORD operator must be followed
 * by a blank (not consumed). Returns 1; 0 when no operator is here (including a longer word
 * such as "containsx"); -1 when a WORD operator is followed by neither a blank nor another
 * word character ("contains\"x\"", "startswith" at the end).
 */
int cond_lex_operator(struct cond_lexer *lx, struct cond_token *tok);

/* oneof/anyof/allof, only when a blank follows and after it a '(' or an identifier other
 * than and/or/not (spec a.2); otherwise the word is an ordinary value and this fails. */
bool cond_lex_modifier(struct cond_lexer *lx, struct cond_token *tok);

/* A hex number 0[xX][0-9a-fA-F]+ (COND_TOK_HEX) or a number
 * [+-]?[0-9]+\.?[0-9]*([eE][+-][0-9]+)? (COND_TOK_NUMBER). */
bool cond_lex_number(struct cond_lexer *lx, struct cond_token *tok);

/* A string in '...' or "...": it ends at the first matching quote whose previous byte is not
 * a backslash (so "C:\\" does not end at its last quote; spec a.5). Returns 1; 0 when no
 * quote is here; -1 "unterminated string" when no closing quote follows. */
int cond_lex_quoted(struct cond_lexer *lx, struct cond_token *tok);

/* A bare string: bytes other than ( ) " ' = , NUL and [:space:]. */
bool cond_lex_bare_string(struct cond_lexer *lx, struct cond_token *tok);

/* A bare field argument: bytes other than [ ] " ' NUL and [:space:]. */
bool cond_lex_field_arg(struct cond_lexer *lx, struct cond_token *tok);

/*
 * The value a token stands for, as a new NUL-terminated string the caller frees: a quoted
 * string unescaped (spec a.5: \b \f \n \r \t \\ \/, \" only inside "...", \' only inside
 * '...', \xHH, and backslash-space for a lone backslash), any other token its text as is.
 * Returns NULL, with *lx->err set at the offending byte, for an unsupported escape, a value
 * holding a NUL byte, or when out of memory.
 */
char *cond_lex_value(const struct cond_lexer *lx, const struct cond_token *tok);

/* Writes a token's text to buf for a message: in single quotes, bytes outside printable
 * ASCII as \xNN, long text shortened with "...". */
void cond_lex_describe_token(const struct cond_lexer *lx, const struct cond_token *tok, char *buf,
			     size_t size);

/* Writes what is at the cursor for a message: "end of condition", or the word, string or
 * character there, quoted as by cond_lex_describe_token(). */
void cond_lex_describe_next(const struct cond_lexer *lx, char *buf, size_t size);

#endif /* SAKER_COND_LEX_H */
