#include "cond_lex.h"

#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Most bytes of condition text a message quotes. */
#define EXCERPT_MAX 32

void cond_error_set(struct cond_error *err, struct cond_pos pos, const char *fmt, ...)
{
	va_list ap;

	if (!err)
		return;
	err->offset = pos.offset;
	err->line = pos.line;
	err->col = pos.col;
	va_start(ap, fmt);
	vsnprintf(err->msg, sizeof(err->msg), fmt, ap);
	va_end(ap);
}

/* Character classes take a byte, or -1 past the end of the text (which is in none). */

static bool is_blank(int c)
{
	return c == ' ' || c == '\t' || c == '\b' || c == '\r' || c == '\n';
}

/* POSIX [:space:]: space, \t, \n, \v, \f, \r. */
static bool is_space(int c)
{
	return c == ' ' || (c >= '\t' && c <= '\r');
}

static bool is_alpha(int c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

static bool is_digit(int c)
{
	return c >= '0' && c <= '9';
}

static bool is_xdigit(int c)
{
	return is_digit(c) || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
}

static bool is_word(int c)
{
	return is_alpha(c) || is_digit(c) || c == '_';
}

static bool is_bare(int c)
{
	return c > 0 && !is_space(c) && !strchr("()\"'=,", c);
}

static bool is_arg(int c)
{
	return c > 0 && !is_space(c) && !strchr("[]\"'", c);
}

/* Length of the run of bytes of s[0..n) in a class. */
static size_t span_while(const char *s, size_t n, bool (*in_class)(int))
{
	size_t i = 0;

	while (i < n && in_class((unsigned char)s[i]))
		i++;
	return i;
}

/* [a-zA-Z][a-zA-Z0-9_]* */
static size_t span_word(const char *s, size_t n)
{
	if (n == 0 || !is_alpha((unsigned char)s[0]))
		return 0;
	return 1 + span_while(s + 1, n - 1, is_word);
}

/* A word, then one or more ".word". */
static size_t span_field(const char *s, size_t n)
{
	size_t i = span_word(s, n), w;
	bool dotted = false;

	while (i && i < n && s[i] == '.' && (w = span_word(s + i + 1, n - i - 1))) {
		i += 1 + w;
		dotted = true;
	}
	return dotted ? i : 0;
}

/* 0[xX][0-9a-fA-F]+ as COND_TOK_HEX, else [+-]?[0-9]+\.?[0-9]*([eE][+-][0-9]+)? */
static size_t span_number(const char *s, size_t n, enum cond_tok *kind)
{
	size_t i = 0, d;

	if (n > 2 && s[0] == '0' && (s[1] == 'x' || s[1] == 'X') &&
	    (d = span_while(s + 2, n - 2, is_xdigit))) {
		*kind = COND_TOK_HEX;
		return 2 + d;
	}
	if (n && (s[0] == '+' || s[0] == '-'))
		i++;
	d = span_while(s + i, n - i, is_digit);
	if (!d)
		return 0;
	i += d;
	if (i < n && s[i] == '.')
		i += 1 + span_while(s + i + 1, n - i - 1, is_digit);
	if (i + 2 < n && (s[i] == 'e' || s[i] == 'E') && (s[i + 1] == '+' || s[i + 1] == '-') &&
	    (d = span_while(s + i + 2, n - i - 2, is_digit)))
		i += 2 + d;
	*kind = COND_TOK_NUMBER;
	return i;
}

static void pos_step(struct cond_pos *pos, const char *s, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		if (s[i] == '\n') {
			if (pos->line < UINT_MAX)
				pos->line++;
			pos->col = 1;
		} else if (pos->col < UINT_MAX) {
			pos->col++;
		}
	}
	pos->offset += n;
}

static const char *cursor(const struct cond_lexer *lx)
{
	return lx->src + lx->at.offset;
}

static size_t left(const struct cond_lexer *lx)
{
	return lx->len - lx->at.offset;
}

/* The byte i bytes past the cursor, or -1 past the end. */
static int byte_at(const struct cond_lexer *lx, size_t i)
{
	return i < left(lx) ? (unsigned char)cursor(lx)[i] : -1;
}

static bool starts_with(const struct cond_lexer *lx, const char *word)
{
	size_t n = strlen(word);

	return left(lx) >= n && memcmp(cursor(lx), word, n) == 0;
}

/* The position i bytes past the cursor. */
static struct cond_pos pos_ahead(const struct cond_lexer *lx, size_t i)
{
	struct cond_pos pos = lx->at;

	pos_step(&pos, cursor(lx), i);
	return pos;
}

/* Makes the n bytes at the cursor the token *tok (kind and details already set) and moves
 * past them. */
static void take(struct cond_lexer *lx, struct cond_token *tok, size_t n)
{
	tok->pos = lx->at;
	tok->len = n;
	pos_step(&lx->at, cursor(lx), n);
	lx->last = *tok;
}

static size_t skip_while(struct cond_lexer *lx, bool (*in_class)(int))
{
	size_t n = span_while(cursor(lx), left(lx), in_class);

	pos_step(&lx->at, cursor(lx), n);
	return n;
}

/* s[0..n) quoted for a message, shortened and with hostile bytes escaped. */
static void quote_excerpt(char *buf, size_t size, const char *s, size_t n)
{
	char tmp[EXCERPT_MAX * 4 + 8];
	size_t len = 0;

	tmp[len++] = '\'';
	for (size_t i = 0; i < n && i < EXCERPT_MAX; i++) {
		unsigned char c = (unsigned char)s[i];

		if (c >= 0x20 && c < 0x7f)
			tmp[len++] = (char)c;
		else
			len += (size_t)snprintf(tmp + len, 5, "\\x%02x", c);
	}
	if (n > EXCERPT_MAX) {
		memcpy(tmp + len, "...", 3);
		len += 3;
	}
	tmp[len++] = '\'';
	tmp[len] = '\0';
	snprintf(buf, size, "%s", tmp);
}

/* How much of s[0..n) a message shows as "the next token": a quoted string, a run of bare
 * string bytes, or else one byte. Looks at no more than EXCERPT_MAX + 1 bytes. */
static size_t excerpt_len(const char *s, size_t n)
{
	size_t cap = n > EXCERPT_MAX ? EXCERPT_MAX + 1 : n, len;

	if (s[0] == '"' || s[0] == '\'') {
		for (len = 1; len < cap; len++)
			if (s[len] == s[0] && s[len - 1] != '\\')
				return len + 1;
		return cap;
	}
	len = span_while(s, cap, is_bare);
	return len ? len : 1;
}

static void describe_at(const struct cond_lexer *lx, size_t offset, char *buf, size_t size)
{
	const char *s = lx->src + offset;
	size_t n = lx->len - offset;

	if (n == 0)
		snprintf(buf, size, "end of condition");
	else
		quote_excerpt(buf, size, s, excerpt_len(s, n));
}

void cond_lex_describe_next(const struct cond_lexer *lx, char *buf, size_t size)
{
	describe_at(lx, lx->at.offset, buf, size);
}

void cond_lex_describe_token(const struct cond_lexer *lx, const struct cond_token *tok, char *buf,
			     size_t size)
{
	quote_excerpt(buf, size, lx->src + tok->pos.offset, tok->len);
}

/* Fails a scanner with "expected <what> after '<word>', got <next>", at the byte i bytes past
 * the cursor, where <word> (the first i bytes) ends. */
static int fail_after(const struct cond_lexer *lx, size_t i, const char *what)
{
	char word[EXCERPT_MAX * 4 + 8], got[EXCERPT_MAX * 4 + 8];
	struct cond_pos at = pos_ahead(lx, i);

	quote_excerpt(word, sizeof(word), cursor(lx), i);
	describe_at(lx, at.offset, got, sizeof(got));
	cond_error_set(lx->err, at, "expected %s after %s, got %s", what, word, got);
	return -1;
}

void cond_lex_init(struct cond_lexer *lx, const char *src, size_t len, struct cond_error *err)
{
	*lx = (struct cond_lexer){.src = src, .len = len, .at = {0, 1, 1}, .err = err};
}

struct cond_pos cond_lex_pos_of(const char *src, size_t len, size_t offset)
{
	struct cond_pos pos = {0, 1, 1};

	pos_step(&pos, src, offset < len ? offset : len);
	return pos;
}

bool cond_lex_at_end(const struct cond_lexer *lx)
{
	return left(lx) == 0;
}

int cond_lex_peek(const struct cond_lexer *lx)
{
	return byte_at(lx, 0);
}

bool cond_lex_blank(struct cond_lexer *lx)
{
	return skip_while(lx, is_blank) > 0;
}

bool cond_lex_punct(struct cond_lexer *lx, char c, struct cond_token *tok)
{
	static const char puncts[] = "(),[]";
	static const enum cond_tok kinds[] = {COND_TOK_LPAREN, COND_TOK_RPAREN, COND_TOK_COMMA,
					      COND_TOK_LBRACKET, COND_TOK_RBRACKET};
	const char *p = c ? strchr(puncts, c) : NULL;

	if (!p || byte_at(lx, 0) != c)
		return false;
	*tok = (struct cond_token){.kind = kinds[p - puncts]};
	take(lx, tok, 1);
	return true;
}

int cond_lex_connective(struct cond_lexer *lx, enum cond_tok which, struct cond_token *tok)
{
	const char *word = which == COND_TOK_AND ? "and" : "or";
	size_t n = strlen(word);
	int next;

	if (!starts_with(lx, word))
		return 0;
	next = byte_at(lx, n);
	if (is_word(next))
		return 0;
	if (!is_blank(next) && next != '(')
		return fail_after(lx, n, "a blank or '('");
	*tok = (struct cond_token){.kind = which, .paren_follows = next == '('};
	take(lx, tok, n);
	return 1;
}

bool cond_lex_not(struct cond_lexer *lx, struct cond_token *tok)
{
	int next = byte_at(lx, 3);

	if (!starts_with(lx, "not") || (next != '(' && !is_space(next)))
		return false;
	*tok = (struct cond_token){.kind = COND_TOK_NOT, .paren_follows = next == '('};
	take(lx, tok, 3);
	skip_while(lx, is_space);
	return true;
}

bool cond_lex_field(struct cond_lexer *lx, struct cond_token *tok)
{
	size_t n = span_field(cursor(lx), left(lx));

	if (!n)
		return false;
	*tok = (struct cond_token){.kind = COND_TOK_FIELD};
	take(lx, tok, n);
	return true;
}

bool cond_lex_identifier(struct cond_lexer *lx, struct cond_token *tok)
{
	size_t n = span_word(cursor(lx), left(lx));

	if (!n)
		return false;
	*tok = (struct cond_token){.kind = COND_TOK_IDENT};
	take(lx, tok, n);
	return true;
}

bool cond_lex_transformer(struct cond_lexer *lx, bool allow_val, struct cond_token *tok)
{
	size_t n = span_word(cursor(lx), left(lx));
	enum cond_tr tr;

	if (!n || byte_at(lx, n) != '(' || cond_tr_lookup(cursor(lx), n, &tr) < 0 ||
	    (tr == COND_TR_VAL && !allow_val))
		return false;
	*tok = (struct cond_token){.kind = COND_TOK_TRANSFORMER, .tr = tr};
	take(lx, tok, n);
	return true;
}

int cond_lex_operator(struct cond_lexer *lx, struct cond_token *tok)
{
	for (enum cond_op op = 0; op < COND_OP_COUNT; op++) {
		size_t n = strlen(cond_op_name(op));
		int next;

		if (!starts_with(lx, cond_op_name(op)))
			continue;
		next = byte_at(lx, n);
		if (cond_op_class_of(op) == COND_OPC_WORD && !is_blank(next)) {
			if (is_word(next))
				continue;
			return fail_after(lx, n, next < 0 ? "a value" : "a blank");
		}
		*tok = (struct cond_token){.kind = COND_TOK_OP, .op = op};
		take(lx, tok, n);
		return 1;
	}
	return 0;
}

static bool is_connective_word(const char *s, size_t n)
{
	return (n == 3 && (memcmp(s, "and", 3) == 0 || memcmp(s, "not", 3) == 0)) ||
	       (n == 2 && memcmp(s, "or", 2) == 0);
}

bool cond_lex_modifier(struct cond_lexer *lx, struct cond_token *tok)
{
	size_t n = span_word(cursor(lx), left(lx)), i = n, w;
	enum cond_mod mod;

	if (!n || cond_mod_lookup(cursor(lx), n, &mod) < 0)
		return false;
	while (is_blank(byte_at(lx, i)))
		i++;
	if (i == n)
		return false;
	if (byte_at(lx, i) != '(') {
		w = span_word(cursor(lx) + i, left(lx) - i);
		if (!w || is_connective_word(cursor(lx) + i, w))
			return false;
	}
	*tok = (struct cond_token){.kind = COND_TOK_MODIFIER, .mod = mod};
	take(lx, tok, n);
	return true;
}

bool cond_lex_number(struct cond_lexer *lx, struct cond_token *tok)
{
	enum cond_tok kind;
	size_t n = span_number(cursor(lx), left(lx), &kind);

	if (!n)
		return false;
	*tok = (struct cond_token){.kind = kind};
	take(lx, tok, n);
	return true;
}

int cond_lex_quoted(struct cond_lexer *lx, struct cond_token *tok)
{
	const char *s = cursor(lx);
	size_t n = left(lx);

	if (!n || (s[0] != '"' && s[0] != '\''))
		return 0;
	for (size_t i = 1; i < n; i++) {
		if (s[i] == s[0] && s[i - 1] != '\\') {
			*tok = (struct cond_token){.kind = COND_TOK_QUOTED};
			take(lx, tok, i + 1);
			return 1;
		}
	}
	cond_error_set(lx->err, lx->at, "unterminated string: no closing %c", s[0]);
	return -1;
}

bool cond_lex_bare_string(struct cond_lexer *lx, struct cond_token *tok)
{
	size_t n = span_while(cursor(lx), left(lx), is_bare);

	if (!n)
		return false;
	*tok = (struct cond_token){.kind = COND_TOK_BARE};
	take(lx, tok, n);
	return true;
}

bool cond_lex_field_arg(struct cond_lexer *lx, struct cond_token *tok)
{
	size_t n = span_while(cursor(lx), left(lx), is_arg);

	if (!n)
		return false;
	*tok = (struct cond_token){.kind = COND_TOK_ARG};
	take(lx, tok, n);
	return true;
}

static int hex_value(int c)
{
	return is_digit(c) ? c - '0' : (c | 0x20) - 'a' + 10;
}

/*
 * Decodes the escape sequence at s (s[0] is the backslash; n bytes remain before the closing
 * quote) of a string quoted with quote. Returns its length and sets *out, or 0 when the
 * sequence is not supported, with *why set to a hint for the message.
 */
static size_t decode_escape(const char *s, size_t n, char quote, char *out, const char **why)
{
	*why = "";
	switch (n < 2 ? '\0' : s[1]) {
	case 'b':
		*out = '\b';
		return 2;
	case 'f':
		*out = '\f';
		return 2;
	case 'n':
		*out = '\n';
		return 2;
	case 'r':
		*out = '\r';
		return 2;
	case 't':
		*out = '\t';
		return 2;
	case '\\':
		*out = '\\';
		return 2;
	case '/':
		*out = '/';
		return 2;
	case ' ': /* legacy: backslash-space is a lone backslash */
		*out = '\\';
		return 2;
	case '"':
	case '\'':
		*why = quote == '"' ? " in a double-quoted string" : " in a single-quoted string";
		*out = s[1];
		return s[1] == quote ? 2 : 0;
	case 'x':
		*why = ": \\x takes two hex digits";
		if (n < 4 || !is_xdigit((unsigned char)s[2]) || !is_xdigit((unsigned char)s[3]))
			return 0;
		*out = (char)(hex_value((unsigned char)s[2]) * 16 + hex_value((unsigned char)s[3]));
		return 4;
	default:
		return 0;
	}
}

/* Reports the byte at s[i] of a quoted token: an unsupported escape sequence when why is set,
 * else a NUL byte. */
static void value_error(const struct cond_lexer *lx, const struct cond_token *tok, size_t i,
			const char *why)
{
	const char *s = lx->src + tok->pos.offset;
	size_t room = tok->len - 1 - i, shown = s[i + 1] == 'x' ? 4 : 2;
	char seq[EXCERPT_MAX * 4 + 8];
	struct cond_pos at = tok->pos;

	pos_step(&at, s, i);
	if (!why) {
		cond_error_set(lx->err, at, "a value may not contain a NUL byte");
		return;
	}
	quote_excerpt(seq, sizeof(seq), s + i, shown < room ? shown : room);
	cond_error_set(lx->err, at, "unsupported string escape sequence %s%s", seq, why);
}

/* Unescapes a quoted token (spec a.5); the result is never longer than the text. */
static char *unescape(const struct cond_lexer *lx, const struct cond_token *tok)
{
	const char *s = lx->src + tok->pos.offset;
	size_t end = tok->len - 1, i, len = 0, n;
	const char *why = NULL;
	char *out = malloc(tok->len), c;

	if (!out) {
		cond_error_set(lx->err, tok->pos, "out of memory");
		return NULL;
	}
	for (i = 1; i < end; i += n) {
		c = s[i];
		n = c == '\\' ? decode_escape(s + i, end - i, s[0], &c, &why) : 1;
		if (n == 0 || c == '\0')
			break;
		out[len++] = c;
	}
	if (i < end) {
		value_error(lx, tok, i, n == 0 ? why : NULL);
		free(out);
		return NULL;
	}
	out[len] = '\0';
	return out;
}

char *cond_lex_value(const struct cond_lexer *lx, const struct cond_token *tok)
{
	char *out;

	if (tok->kind == COND_TOK_QUOTED)
		return unescape(lx, tok);
	out = malloc(tok->len + 1);
	if (!out) {
		cond_error_set(lx->err, tok->pos, "out of memory");
		return NULL;
	}
	memcpy(out, lx->src + tok->pos.offset, tok->len);
	out[tok->len] = '\0';
	return out;
}
