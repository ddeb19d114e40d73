/*
 * The condition language front end: lexer scanners, string values, the syntax tree and its
 * printer, and the parser's grammar, precedence, traps (spec appendix), diagnostics, limits
 * and robustness against hostile input.
 *
 * Every condition is parsed from a heap copy of exactly its length (no NUL after it), so
 * valgrind catches a read past the end.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cond_ast.h"
#include "cond_lex.h"
#include "cond_parse.h"
#include "strbuf.h"
#include "testlib.h"

/* A string literal and its length, for tables (literals may hold NUL bytes). */
#define S(lit)	      lit, sizeof(lit) - 1
#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

static char *heap_copy(const char *s, size_t len)
{
	char *p = malloc(len ? len : 1);

	if (p && len)
		memcpy(p, s, len);
	return p;
}

/* The text for a diagnostic line: escaped, so newlines and NULs stay visible. */
static const char *shown(struct strbuf *sb, const char *s, size_t len)
{
	sb_reset(sb);
	sb_add_cescaped(sb, s, len);
	return sb->buf ? sb->buf : "";
}

static char *printed(const struct cond_node *n)
{
	struct strbuf sb = STRBUF_INIT;

	cond_node_print(&sb, n);
	return sb.buf;
}

static bool same_pos(struct cond_pos a, struct cond_pos b)
{
	return a.offset == b.offset && a.line == b.line && a.col == b.col;
}

/* Node invariants: positions inside the text and consistent with their offsets, and the kid
 * counts of the shape documented in cond_ast.h. */
static bool tree_ok(const struct cond_node *n, const char *src, size_t len)
{
	size_t want_min = 0, want_max = SIZE_MAX;

	if (n->pos.offset >= len || !same_pos(n->pos, cond_lex_pos_of(src, len, n->pos.offset)))
		return false;
	switch (n->kind) {
	case COND_AND:
	case COND_OR:
		want_min = 2;
		break;
	case COND_NOT:
	case COND_EXISTS:
		want_min = want_max = 1;
		break;
	case COND_COMPARE:
		want_min = want_max = 2;
		break;
	case COND_MACRO:
	case COND_FIELD:
	case COND_VALUE:
		if (!n->text)
			return false;
		want_max = 0;
		break;
	case COND_TRANSFORM:
		want_min = 1;
		break;
	case COND_LIST:
		break;
	}
	if (n->nkids < want_min || n->nkids > want_max)
		return false;
	for (size_t i = 0; i < n->nkids; i++)
		if (!tree_ok(n->kids[i], src, len))
			return false;
	return true;
}

static bool trees_equal(const struct cond_node *a, const struct cond_node *b)
{
	if (a->kind != b->kind || !same_pos(a->pos, b->pos) || a->op != b->op || a->mod != b->mod ||
	    a->tr != b->tr || a->nkids != b->nkids || !a->text != !b->text ||
	    (a->text && strcmp(a->text, b->text)) || !a->arg != !b->arg ||
	    (a->arg && strcmp(a->arg, b->arg)))
		return false;
	for (size_t i = 0; i < a->nkids; i++)
		if (!trees_equal(a->kids[i], b->kids[i]))
			return false;
	return true;
}

/* The outcome of parsing src[0..len): the printed tree, or "error L:C: message". Checks the
 * invariants of either outcome on the way: a tree as tree_ok() says and err untouched, or an
 * error inside the text whose line and column match its offset. The caller frees the result. */
static char *outcome(const char *src, size_t len)
{
	char *copy = heap_copy(src, len), *out;
	struct cond_error err = {.msg = "untouched"};
	struct cond_node *n = cond_parse(copy, len, &err);
	struct strbuf sb = STRBUF_INIT;
	bool ok;

	if (n) {
		ok = tree_ok(n, copy, len) && strcmp(err.msg, "untouched") == 0;
		out = printed(n);
	} else {
		ok = err.offset <= len && err.msg[0] && strcmp(err.msg, "untouched") != 0 &&
		     same_pos(cond_lex_pos_of(copy, len, err.offset),
			      (struct cond_pos){err.offset, err.line, err.col});
		sb_addf(&sb, "error %u:%u: %s", err.line, err.col, err.msg);
		out = sb.buf;
		sb = (struct strbuf)STRBUF_INIT;
	}
	if (!ok)
		printf("# invariants broken for: %s\n", shown(&sb, src, len));
	CHECK(ok);
	sb_release(&sb);
	cond_node_free(n);
	free(copy);
	return out;
}

/* ---- the lexer ---- */

enum scanner {
	FIELD,
	IDENT,
	NUMBER,
	BARE,
	ARG,
	QUOTED,
	TRANSFORMER,
	VAL_OK,
	NOT,
	OPERATOR,
	MODIFIER,
	AND,
	OR
};

/* Runs one scanner: 1 matched, 0 not here, -1 error. */
static int scan(struct cond_lexer *lx, enum scanner which, struct cond_token *tok)
{
	switch (which) {
	case FIELD:
		return cond_lex_field(lx, tok);
	case IDENT:
		return cond_lex_identifier(lx, tok);
	case NUMBER:
		return cond_lex_number(lx, tok);
	case BARE:
		return cond_lex_bare_string(lx, tok);
	case ARG:
		return cond_lex_field_arg(lx, tok);
	case QUOTED:
		return cond_lex_quoted(lx, tok);
	case TRANSFORMER:
	case VAL_OK:
		return cond_lex_transformer(lx, which == VAL_OK, tok);
	case NOT:
		return cond_lex_not(lx, tok);
	case OPERATOR:
		return cond_lex_operator(lx, tok);
	case MODIFIER:
		return cond_lex_modifier(lx, tok);
	case AND:
		return cond_lex_connective(lx, COND_TOK_AND, tok);
	case OR:
		return cond_lex_connective(lx, COND_TOK_OR, tok);
	}
	return -1;
}

struct scan_case {
	enum scanner which;
	const char *in;
	size_t len;
	int result;	    /* 1, 0 or -1 */
	size_t tok_len;	    /* on a match */
	size_t cursor;	    /* where the cursor is afterwards */
	enum cond_tok kind; /* on a match */
};

static const struct scan_case scan_cases[] = {
    {FIELD, S("proc.name = x"), 1, 9, 9, COND_TOK_FIELD},
    {FIELD, S("evt.arg.flags"), 1, 13, 13, COND_TOK_FIELD},
    {FIELD, S("k8s.pod.name"), 1, 12, 12, COND_TOK_FIELD},
    {FIELD, S("proc.exe_ino.ctime"), 1, 18, 18, COND_TOK_FIELD},
    {FIELD, S("proc.aname[2]"), 1, 10, 10, COND_TOK_FIELD},
    {FIELD, S("a.b."), 1, 3, 3, COND_TOK_FIELD},
    {FIELD, S("notproc.name"), 1, 12, 12, COND_TOK_FIELD},
    {FIELD, S("proc"), 0, 0, 0, 0},
    {FIELD, S("proc..name"), 0, 0, 0, 0},
    {FIELD, S("proc.1x"), 0, 0, 0, 0},
    {FIELD, S("_proc.name"), 0, 0, 0, 0},
    {FIELD, S("1proc.name"), 0, 0, 0, 0},
    {IDENT, S("spawned_process and"), 1, 15, 15, COND_TOK_IDENT},
    {IDENT, S("a1_b.c"), 1, 4, 4, COND_TOK_IDENT},
    {IDENT, S("_x"), 0, 0, 0, 0},
    {IDENT, S("9x"), 0, 0, 0, 0},
    {NUMBER, S("0x1fZ"), 1, 4, 4, COND_TOK_HEX},
    {NUMBER, S("0XAB"), 1, 4, 4, COND_TOK_HEX},
    {NUMBER, S("0xg"), 1, 1, 1, COND_TOK_NUMBER},
    {NUMBER, S("-12.5e+3x"), 1, 8, 8, COND_TOK_NUMBER},
    {NUMBER, S("+7"), 1, 2, 2, COND_TOK_NUMBER},
    {NUMBER, S("1."), 1, 2, 2, COND_TOK_NUMBER},
    {NUMBER, S("1e5"), 1, 1, 1, COND_TOK_NUMBER},
    {NUMBER, S("1e+"), 1, 1, 1, COND_TOK_NUMBER},
    {NUMBER, S("12abc"), 1, 2, 2, COND_TOK_NUMBER},
    {NUMBER, S(".5"), 0, 0, 0, 0},
    {NUMBER, S("-"), 0, 0, 0, 0},
    {BARE, S("/etc/passwd)"), 1, 11, 11, COND_TOK_BARE},
    {BARE, S("a[1]:*$%\\-"), 1, 10, 10, COND_TOK_BARE},
    {BARE, S("a=b"), 1, 1, 1, COND_TOK_BARE},
    {BARE, S("a,b"), 1, 1, 1, COND_TOK_BARE},
    {BARE, S("a'b"), 1, 1, 1, COND_TOK_BARE},
    {BARE, S("a\vb"), 1, 1, 1, COND_TOK_BARE},
    {BARE, S("a\bb"), 1, 3, 3, COND_TOK_BARE},
    {BARE, S("a\0b"), 1, 1, 1, COND_TOK_BARE},
    {BARE, S("caf\xc3\xa9 x"), 1, 5, 5, COND_TOK_BARE},
    {BARE, S("(a"), 0, 0, 0, 0},
    {ARG, S("/var/run/docker.sock]"), 1, 20, 20, COND_TOK_ARG},
    {ARG, S("a,b(c)=d]"), 1, 8, 8, COND_TOK_ARG},
    {ARG, S("a b"), 1, 1, 1, COND_TOK_ARG},
    {ARG, S("a[b"), 1, 1, 1, COND_TOK_ARG},
    {ARG, S("]"), 0, 0, 0, 0},
    {QUOTED, S("\"abc\" x"), 1, 5, 5, COND_TOK_QUOTED},
    {QUOTED, S("'a\\'b' x"), 1, 6, 6, COND_TOK_QUOTED},
    {QUOTED, S("\"\""), 1, 2, 2, COND_TOK_QUOTED},
    {QUOTED, S("\"a'b\""), 1, 5, 5, COND_TOK_QUOTED},
    {QUOTED, S("\"C:\\\\\" x\""), 1, 9, 9, COND_TOK_QUOTED}, /* "C:\\" x" (spec a.5) */
    {QUOTED, S("\"abc"), -1, 0, 0, 0},
    {QUOTED, S("\"abc\\\""), -1, 0, 0, 0},
    {QUOTED, S("abc"), 0, 0, 0, 0},
    {TRANSFORMER, S("tolower(x"), 1, 7, 7, COND_TOK_TRANSFORMER},
    {TRANSFORMER, S("b64(x"), 1, 3, 3, COND_TOK_TRANSFORMER},
    {TRANSFORMER, S("getopt(x"), 1, 6, 6, COND_TOK_TRANSFORMER},
    {TRANSFORMER, S("tolower (x"), 0, 0, 0, 0},
    {TRANSFORMER, S("tolowerx(x"), 0, 0, 0, 0},
    {TRANSFORMER, S("lower(x"), 0, 0, 0, 0},
    {TRANSFORMER, S("val(x"), 0, 0, 0, 0},
    {VAL_OK, S("val(x"), 1, 3, 3, COND_TOK_TRANSFORMER},
    {NOT, S("not x"), 1, 3, 4, COND_TOK_NOT},
    {NOT, S("not \t\n\v\fx"), 1, 3, 8, COND_TOK_NOT},
    {NOT, S("not(x"), 1, 3, 3, COND_TOK_NOT},
    {NOT, S("not\bx"), 0, 0, 0, 0},
    {NOT, S("notx"), 0, 0, 0, 0},
    {NOT, S("not_x"), 0, 0, 0, 0},
    {NOT, S("not"), 0, 0, 0, 0},
    {OPERATOR, S("<=1"), 1, 2, 2, COND_TOK_OP},
    {OPERATOR, S("<1"), 1, 1, 1, COND_TOK_OP},
    {OPERATOR, S("==x"), 1, 2, 2, COND_TOK_OP},
    {OPERATOR, S("=x"), 1, 1, 1, COND_TOK_OP},
    {OPERATOR, S("!=x"), 1, 2, 2, COND_TOK_OP},
    {OPERATOR, S("intersects(a)"), 1, 10, 10, COND_TOK_OP},
    {OPERATOR, S("inx"), 1, 2, 2, COND_TOK_OP},
    {OPERATOR, S("existsx"), 1, 6, 6, COND_TOK_OP},
    {OPERATOR, S("contains\tx"), 1, 8, 8, COND_TOK_OP},
    {OPERATOR, S("contains\bx"), 1, 8, 8, COND_TOK_OP},
    {OPERATOR, S("containsx"), 0, 0, 0, 0},
    {OPERATOR, S("contains\"x\""), -1, 0, 0, 0},
    {OPERATOR, S("contains\vx"), -1, 0, 0, 0},
    {OPERATOR, S("contains"), -1, 0, 0, 0},
    {OPERATOR, S("!x"), 0, 0, 0, 0},
    {OPERATOR, S("=~x"), 1, 1, 1, COND_TOK_OP},
    {OPERATOR, S("~x"), 0, 0, 0, 0},
    {MODIFIER, S("oneof (a)"), 1, 5, 5, COND_TOK_MODIFIER},
    {MODIFIER, S("anyof x"), 1, 5, 5, COND_TOK_MODIFIER},
    {MODIFIER, S("allof\n\t(a)"), 1, 5, 5, COND_TOK_MODIFIER},
    {MODIFIER, S("oneof andx"), 1, 5, 5, COND_TOK_MODIFIER},
    {MODIFIER, S("oneof(a)"), 0, 0, 0, 0},
    {MODIFIER, S("oneof and x"), 0, 0, 0, 0},
    {MODIFIER, S("oneof or x"), 0, 0, 0, 0},
    {MODIFIER, S("oneof not x"), 0, 0, 0, 0},
    {MODIFIER, S("oneof \"a\""), 0, 0, 0, 0},
    {MODIFIER, S("oneof /a"), 0, 0, 0, 0},
    {MODIFIER, S("oneof "), 0, 0, 0, 0},
    {MODIFIER, S("oneofx (a)"), 0, 0, 0, 0},
    {AND, S("and x"), 1, 3, 3, COND_TOK_AND},
    {AND, S("and\bx"), 1, 3, 3, COND_TOK_AND},
    {AND, S("and(x"), 1, 3, 3, COND_TOK_AND},
    {AND, S("andx"), 0, 0, 0, 0},
    {AND, S("and_x"), 0, 0, 0, 0},
    {AND, S("or x"), 0, 0, 0, 0},
    {AND, S("and"), -1, 0, 0, 0},
    {AND, S("and)"), -1, 0, 0, 0},
    {AND, S("and\vx"), -1, 0, 0, 0},
    {OR, S("or\nx"), 1, 2, 2, COND_TOK_OR},
    {OR, S("order"), 0, 0, 0, 0},
    {OR, S("or\"x\""), -1, 0, 0, 0},
};

TEST(lex_scanners)
{
	struct strbuf sb = STRBUF_INIT;

	for (size_t i = 0; i < ARRAY_SIZE(scan_cases); i++) {
		const struct scan_case *c = &scan_cases[i];
		char *copy = heap_copy(c->in, c->len);
		struct cond_error err = {0};
		struct cond_lexer lx;
		struct cond_token tok = {0};
		int r;

		cond_lex_init(&lx, copy, c->len, &err);
		r = scan(&lx, c->which, &tok);
		if (r != c->result || lx.at.offset != c->cursor ||
		    (r == 1 && (tok.len != c->tok_len || tok.kind != c->kind)))
			printf("# scanner %d on \"%s\": result %d, len %zu, cursor %zu, kind %d\n",
			       c->which, shown(&sb, c->in, c->len), r, tok.len, lx.at.offset,
			       tok.kind);
		CHECK_EQ_INT(r, c->result);
		CHECK_EQ_INT(lx.at.offset, c->cursor);
		if (r == 1) {
			CHECK_EQ_INT(tok.len, c->tok_len);
			CHECK_EQ_INT(tok.kind, c->kind);
			CHECK_EQ_INT(tok.pos.offset, 0);
			CHECK_EQ_INT(lx.last.len, tok.len);
		}
		if (r < 0)
			CHECK(err.msg[0] != '\0');
		free(copy);
	}
	sb_release(&sb);
}

TEST(lex_token_details)
{
	struct cond_lexer lx;
	struct cond_token tok;
	const char *src = "startswith x not(a) or(b) and (c) tolower( val(";

	cond_lex_init(&lx, src, strlen(src), NULL);
	CHECK_EQ_INT(cond_lex_operator(&lx, &tok), 1);
	CHECK_EQ_INT(tok.op, COND_OP_STARTSWITH);
	cond_lex_blank(&lx);
	CHECK(cond_lex_bare_string(&lx, &tok));
	cond_lex_blank(&lx);
	CHECK(cond_lex_not(&lx, &tok) && tok.paren_follows);
	CHECK(cond_lex_punct(&lx, '(', &tok) && tok.kind == COND_TOK_LPAREN);
	CHECK(cond_lex_identifier(&lx, &tok));
	CHECK(cond_lex_punct(&lx, ')', &tok) && tok.kind == COND_TOK_RPAREN);
	CHECK(!cond_lex_punct(&lx, ')', &tok));
	cond_lex_blank(&lx);
	CHECK(cond_lex_connective(&lx, COND_TOK_OR, &tok) == 1 && tok.paren_follows);
	CHECK(cond_lex_punct(&lx, '(', &tok) && cond_lex_identifier(&lx, &tok));
	CHECK(cond_lex_punct(&lx, ')', &tok));
	cond_lex_blank(&lx);
	CHECK(cond_lex_connective(&lx, COND_TOK_AND, &tok) == 1 && !tok.paren_follows);
	cond_lex_blank(&lx);
	CHECK(cond_lex_punct(&lx, '(', &tok) && cond_lex_identifier(&lx, &tok));
	CHECK(cond_lex_punct(&lx, ')', &tok));
	cond_lex_blank(&lx);
	CHECK(cond_lex_transformer(&lx, false, &tok) && tok.tr == COND_TR_TOLOWER);
	CHECK(cond_lex_punct(&lx, '(', &tok));
	cond_lex_blank(&lx);
	CHECK(cond_lex_transformer(&lx, true, &tok) && tok.tr == COND_TR_VAL);
	CHECK(cond_lex_punct(&lx, '(', &tok) && cond_lex_at_end(&lx));
	CHECK_EQ_INT(cond_lex_peek(&lx), -1);
	CHECK(!cond_lex_punct(&lx, 'x', &tok));

	cond_lex_init(&lx, "anyof (", 7, NULL);
	CHECK(cond_lex_modifier(&lx, &tok) && tok.mod == COND_MOD_ANYOF);
	cond_lex_init(&lx, "not x", 5, NULL);
	CHECK(cond_lex_not(&lx, &tok) && !tok.paren_follows && cond_lex_peek(&lx) == 'x');
}

TEST(lex_positions)
{
	/* Lines end at LF; a CR is a column; columns count bytes. */
	const char *src = "a\n  b.c = 'x'\r\n\t(\xc3\xa9 \"p\nq\" z";
	struct cond_lexer lx;
	struct cond_token tok;

	cond_lex_init(&lx, src, strlen(src), NULL);
	CHECK(cond_lex_identifier(&lx, &tok));
	CHECK(same_pos(tok.pos, (struct cond_pos){0, 1, 1}));
	CHECK(cond_lex_blank(&lx));
	CHECK(cond_lex_field(&lx, &tok));
	CHECK(same_pos(tok.pos, (struct cond_pos){4, 2, 3}));
	cond_lex_blank(&lx);
	CHECK_EQ_INT(cond_lex_operator(&lx, &tok), 1);
	CHECK(same_pos(tok.pos, (struct cond_pos){8, 2, 7}));
	cond_lex_blank(&lx);
	CHECK_EQ_INT(cond_lex_quoted(&lx, &tok), 1);
	CHECK(same_pos(tok.pos, (struct cond_pos){10, 2, 9}));
	CHECK_EQ_INT(tok.len, 3);
	cond_lex_blank(&lx);
	CHECK(cond_lex_punct(&lx, '(', &tok));
	CHECK(same_pos(tok.pos, (struct cond_pos){16, 3, 2}));
	CHECK(cond_lex_bare_string(&lx, &tok));
	CHECK(same_pos(tok.pos, (struct cond_pos){17, 3, 3}));
	cond_lex_blank(&lx);
	CHECK_EQ_INT(cond_lex_quoted(&lx, &tok), 1);
	CHECK(same_pos(tok.pos, (struct cond_pos){20, 3, 6}));
	cond_lex_blank(&lx);
	CHECK(same_pos(lx.at, (struct cond_pos){26, 4, 4}));
	CHECK(same_pos(cond_lex_pos_of(src, strlen(src), 26), lx.at));
	CHECK(same_pos(cond_lex_pos_of(src, 3, 99), (struct cond_pos){3, 2, 2}));
}

struct value_case {
	const char *in; /* a quoted token, alone */
	size_t len;
	const char *want; /* the value, or the error fragment */
	size_t want_len;
	unsigned err_col; /* 0: no error */
};

static const struct value_case value_cases[] = {
    {S("\"plain\""), S("plain"), 0},
    {S("''"), S(""), 0},
    {S("\"\\b\\f\\n\\r\\t\""), S("\b\f\n\r\t"), 0},
    {S("'\\\\ \\/'"), S("\\ /"), 0},
    {S("\"say \\\"hi\\\"\""), S("say \"hi\""), 0},
    {S("'it\\'s'"), S("it's"), 0},
    {S("\"\\x41\\x7a\\xFF\""), S("Az\xff"), 0},
    {S("\"\\x414\""), S("A4"), 0},
    {S("\"a\\ b\""), S("a\\b"), 0},
    {S("\"a'b\""), S("a'b"), 0},
    {S("'a\"b'"), S("a\"b"), 0},
    {S("\"caf\xc3\xa9 \xff\""), S("caf\xc3\xa9 \xff"), 0},
    {S("\"C:\\\\\" x\""), S("C:\\\" x"), 0},
    {S("\"a\\qb\""), S("unsupported string escape sequence '\\q'"), 3},
    {S("'a\\\"b'"), S("sequence '\\\"' in a single-quoted string"), 3},
    {S("\"a\\'b\""), S("sequence '\\'' in a double-quoted string"), 3},
    {S("\"\\x4\""), S("sequence '\\x4': \\x takes two hex digits"), 2},
    {S("\"\\xg0\""), S("sequence '\\xg0'"), 2},
    {S("\"ab\\x00\""), S("a value may not contain a NUL byte"), 4},
    {S("\"ab\0\""), S("a value may not contain a NUL byte"), 4},
    {S("\"\\\xff\""), S("unsupported string escape sequence '\\\\xff'"), 2},
};

TEST(lex_values)
{
	struct strbuf sb = STRBUF_INIT;

	for (size_t i = 0; i < ARRAY_SIZE(value_cases); i++) {
		const struct value_case *c = &value_cases[i];
		char *copy = heap_copy(c->in, c->len), *v;
		struct cond_error err = {0};
		struct cond_lexer lx;
		struct cond_token tok;

		cond_lex_init(&lx, copy, c->len, &err);
		CHECK_EQ_INT(cond_lex_quoted(&lx, &tok), 1);
		CHECK(cond_lex_at_end(&lx));
		v = cond_lex_value(&lx, &tok);
		if (c->err_col == 0 && (!v || memcmp(v, c->want, c->want_len + 1) != 0))
			printf("# value of %s: got %s\n", shown(&sb, c->in, c->len),
			       v ? v : err.msg);
		if (c->err_col && (v || !strstr(err.msg, c->want) || err.col != c->err_col))
			printf("# value of %s: error %u: %s\n", shown(&sb, c->in, c->len), err.col,
			       err.msg);
		if (c->err_col == 0) {
			CHECK(v && memcmp(v, c->want, c->want_len + 1) == 0);
		} else {
			CHECK(!v);
			CHECK(strstr(err.msg, c->want) != NULL);
			CHECK_EQ_INT(err.col, c->err_col);
			CHECK_EQ_INT(err.line, 1);
		}
		free(v);
		free(copy);
	}
	sb_release(&sb);
}

TEST(lex_values_of_plain_tokens)
{
	const char *src = "/etc/a\\b 0x1F";
	struct cond_lexer lx;
	struct cond_token tok;
	char *v;

	cond_lex_init(&lx, src, strlen(src), NULL);
	CHECK(cond_lex_bare_string(&lx, &tok));
	v = cond_lex_value(&lx, &tok);
	CHECK_EQ_STR(v, "/etc/a\\b");
	free(v);
	cond_lex_blank(&lx);
	CHECK(cond_lex_number(&lx, &tok));
	v = cond_lex_value(&lx, &tok);
	CHECK_EQ_STR(v, "0x1F");
	free(v);
}

TEST(lex_descriptions)
{
	char buf[160];
	struct cond_lexer lx;
	struct cond_token tok;
	const char *src = "proc.name=\"a b\"\x01 0123456789012345678901234567890123456789";

	cond_lex_init(&lx, src, strlen(src), NULL);
	cond_lex_describe_next(&lx, buf, sizeof(buf));
	CHECK_EQ_STR(buf, "'proc.name'");
	CHECK(cond_lex_field(&lx, &tok));
	cond_lex_describe_token(&lx, &tok, buf, sizeof(buf));
	CHECK_EQ_STR(buf, "'proc.name'");
	cond_lex_describe_next(&lx, buf, sizeof(buf));
	CHECK_EQ_STR(buf, "'='");
	CHECK_EQ_INT(cond_lex_operator(&lx, &tok), 1);
	cond_lex_describe_next(&lx, buf, sizeof(buf));
	CHECK_EQ_STR(buf, "'\"a b\"'");
	CHECK_EQ_INT(cond_lex_quoted(&lx, &tok), 1);
	cond_lex_describe_next(&lx, buf, sizeof(buf));
	CHECK_EQ_STR(buf, "'\\x01'");
	cond_lex_init(&lx, src + 17, strlen(src + 17), NULL);
	cond_lex_describe_next(&lx, buf, sizeof(buf));
	CHECK_EQ_STR(buf, "'01234567890123456789012345678901...'");
	cond_lex_init(&lx, "", 0, NULL);
	cond_lex_describe_next(&lx, buf, sizeof(buf));
	CHECK_EQ_STR(buf, "end of condition");
	/* A small buffer truncates, still terminated. */
	cond_lex_init(&lx, src, strlen(src), NULL);
	cond_lex_describe_next(&lx, buf, 5);
	CHECK_EQ_STR(buf, "'pro");
}

/* ---- the syntax tree ---- */

TEST(ast_names)
{
	enum cond_op op;
	enum cond_mod mod;
	enum cond_tr tr;

	for (int i = 0; i < COND_OP_COUNT; i++) {
		const char *name = cond_op_name((enum cond_op)i);

		CHECK(cond_op_lookup(name, strlen(name), &op) == 0 && op == (enum cond_op)i);
		for (int j = 0; j < i; j++)
			CHECK(strcmp(name, cond_op_name((enum cond_op)j)) != 0);
	}
	for (int i = COND_MOD_NONE + 1; i < COND_MOD_COUNT; i++) {
		const char *name = cond_mod_name((enum cond_mod)i);

		CHECK(cond_mod_lookup(name, strlen(name), &mod) == 0 && mod == (enum cond_mod)i);
	}
	for (int i = 0; i < COND_TR_COUNT; i++) {
		const char *name = cond_tr_name((enum cond_tr)i);

		CHECK(cond_tr_lookup(name, strlen(name), &tr) == 0 && tr == (enum cond_tr)i);
	}
	CHECK_EQ_INT(COND_OP_COUNT, 20);
	CHECK_EQ_INT(cond_op_lookup("in", 2, &op), 0);
	CHECK_EQ_INT(op, COND_OP_IN);
	CHECK_EQ_INT(cond_op_lookup("intersects", 3, &op), -1);
	CHECK_EQ_INT(cond_op_lookup("~=", 2, &op), -1);
	CHECK_EQ_INT(cond_mod_lookup("", 0, &mod), -1);
	CHECK_EQ_INT(cond_mod_lookup("noneof", 6, &mod), -1);
	CHECK_EQ_INT(cond_tr_lookup("tolowerx", 7, &tr), 0);
	CHECK_EQ_INT(tr, COND_TR_TOLOWER);
	CHECK_EQ_INT(cond_tr_lookup("upper", 5, &tr), -1);
	CHECK_EQ_STR(cond_op_name(COND_OP_BSTARTSWITH), "bstartswith");
	CHECK_EQ_STR(cond_mod_name(COND_MOD_ALLOF), "allof");
	CHECK_EQ_STR(cond_tr_name(COND_TR_GETOPT), "getopt");
	CHECK_EQ_STR(cond_op_name(COND_OP_COUNT), "?");
	CHECK_EQ_STR(cond_node_kind_name(COND_TRANSFORM), "transform");
	CHECK_EQ_INT(cond_op_class_of(COND_OP_EXISTS), COND_OPC_UNARY);
	CHECK_EQ_INT(cond_op_class_of(COND_OP_GE), COND_OPC_NUMERIC);
	CHECK_EQ_INT(cond_op_class_of(COND_OP_NE), COND_OPC_SYMBOLIC);
	CHECK_EQ_INT(cond_op_class_of(COND_OP_REGEX), COND_OPC_WORD);
	CHECK_EQ_INT(cond_op_class_of(COND_OP_PMATCH), COND_OPC_LIST);
}

TEST(ast_build_print_clone)
{
	struct cond_pos at = {0, 1, 1};
	struct cond_node *field = cond_node_new_text(COND_FIELD, at, "proc.env", 8);
	struct cond_node *list = cond_node_new(COND_LIST, at);
	struct cond_node *root = cond_node_new(COND_AND, at), *tr, *copy;
	char *s, *t;

	CHECK(cond_node_set_arg(field, "MY VAR", 6) == 0);
	CHECK(cond_node_add(list, cond_node_new_text(COND_VALUE, at, "a\"b\\\n\t\x01\xff", 8)) ==
	      0);
	CHECK(cond_node_add(list, cond_node_new_text(COND_VALUE, at, "", 0)) == 0);
	CHECK(cond_node_add(root,
			    cond_node_new_check(at, COND_OP_IN, COND_MOD_NONE, field, list)) == 0);
	tr = cond_node_new(COND_TRANSFORM, at);
	tr->tr = COND_TR_GETOPT;
	CHECK(cond_node_add(tr, cond_node_new_text(COND_FIELD, at, "proc.args", 9)) == 0);
	CHECK(cond_node_add(tr, cond_node_new_text(COND_VALUE, at, "t:", 2)) == 0);
	CHECK(cond_node_set_arg(tr, "t", 1) == 0);
	CHECK(cond_node_add(root,
			    cond_node_new_check(at, COND_OP_EXISTS, COND_MOD_NONE, tr, NULL)) == 0);
	CHECK(cond_node_add(
		  root, cond_node_new_not(at, cond_node_new_text(COND_MACRO, at, "m", 1))) == 0);
	CHECK(cond_node_add(root, NULL) == -1);
	s = printed(root);
	CHECK_EQ_STR(s, "(and (in proc.env[\"MY VAR\"] (\"a\\\"b\\\\\\n\\t\\x01\\xff\", \"\")) "
			"(exists getopt(proc.args, \"t:\")[t]) (not (macro m)))");
	copy = cond_node_clone(root);
	CHECK(copy && copy != root && trees_equal(copy, root));
	t = printed(copy);
	CHECK_EQ_STR(t, s);
	free(s);
	free(t);
	cond_node_free(root);
	cond_node_free(copy);
	cond_node_free(NULL);
}

TEST(ast_constructors_take_over_children)
{
	struct cond_pos at = {0, 1, 1};
	struct cond_node *lhs = cond_node_new_text(COND_FIELD, at, "a.b", 3);
	struct cond_node *rhs = cond_node_new_text(COND_VALUE, at, "x", 1);

	/* exists takes no right operand: both are freed (valgrind checks). */
	CHECK(cond_node_new_check(at, COND_OP_EXISTS, COND_MOD_NONE, lhs, rhs) == NULL);
	/* a comparison needs one */
	lhs = cond_node_new_text(COND_FIELD, at, "a.b", 3);
	CHECK(cond_node_new_check(at, COND_OP_EQ, COND_MOD_NONE, lhs, NULL) == NULL);
	CHECK(cond_node_new_not(at, NULL) == NULL);
}

TEST(ast_print_arguments)
{
	static const struct {
		const char *arg, *want;
	} cases[] = {
	    {"2", "f.x[2]"},
	    {"/proc*", "f.x[/proc*]"},
	    {"a,b(c)=d", "f.x[a,b(c)=d]"},
	    {"a b", "f.x[\"a b\"]"},
	    {"", "f.x[\"\"]"},
	    {"a]", "f.x[\"a]\"]"},
	    {"it's", "f.x[\"it's\"]"},
	    {"C:\\", "f.x[\"C:\\\\\"]"},
	    {"caf\xc3\xa9", "f.x[\"caf\\xc3\\xa9\"]"},
	};

	for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
		struct cond_node *n =
		    cond_node_new_text(COND_FIELD, (struct cond_pos){0, 1, 1}, "f.x", 3);
		char *s;

		CHECK(cond_node_set_arg(n, cases[i].arg, strlen(cases[i].arg)) == 0);
		s = printed(n);
		CHECK_EQ_STR(s, cases[i].want);
		free(s);
		cond_node_free(n);
	}
}

/* ---- the parser: accepted conditions ---- */

struct parse_case {
	const char *in;
	size_t len;
	const char *want; /* printed tree, or "error L:C: message" */
};

static const struct parse_case accepted[] = {
    /* every operator */
    {S("proc.name = bash"), "(= proc.name \"bash\")"},
    {S("proc.name == bash"), "(== proc.name \"bash\")"},
    {S("proc.name != bash"), "(!= proc.name \"bash\")"},
    {S("fd.num < 3"), "(< fd.num \"3\")"},
    {S("fd.num <= 3"), "(<= fd.num \"3\")"},
    {S("fd.num > -3"), "(> fd.num \"-3\")"},
    {S("fd.num >= +3.5"), "(>= fd.num \"+3.5\")"},
    {S("proc.cmdline contains \"curl -k\""), "(contains proc.cmdline \"curl -k\")"},
    {S("proc.cmdline icontains CURL"), "(icontains proc.cmdline \"CURL\")"},
    {S("evt.buffer bcontains 7f454c46"), "(bcontains evt.buffer \"7f454c46\")"},
    {S("fd.name startswith /etc/"), "(startswith fd.name \"/etc/\")"},
    {S("evt.buffer bstartswith 7f45"), "(bstartswith evt.buffer \"7f45\")"},
    {S("fd.name endswith .pem"), "(endswith fd.name \".pem\")"},
    {S("fd.name glob '/home/*/.ssh/*'"), "(glob fd.name \"/home/*/.ssh/*\")"},
    {S("fd.name iglob *.PEM"), "(iglob fd.name \"*.PEM\")"},
    {S("proc.cmdline regex \"^python[23]? -c .*\""), "(regex proc.cmdline \"^python[23]? -c .*\")"},
    {S("fd.name pmatch (/var/run, /etc)"), "(pmatch fd.name (\"/var/run\", \"/etc\"))"},
    {S("evt.type in (open, openat, openat2)"), "(in evt.type (\"open\", \"openat\", \"openat2\"))"},
    {S("fd.types intersects (ipv4, ipv6)"), "(intersects fd.types (\"ipv4\", \"ipv6\"))"},
    {S("proc.name exists"), "(exists proc.name)"},
    /* blanks are optional around symbols and after list operators */
    {S("fd.num>=0"), "(>= fd.num \"0\")"},
    {S("proc.name=bash"), "(= proc.name \"bash\")"},
    {S("proc.name!=bash"), "(!= proc.name \"bash\")"},
    {S("fd.typechar='f'"), "(= fd.typechar \"f\")"},
    {S("evt.type in(open,openat)"), "(in evt.type (\"open\", \"openat\"))"},
    {S("fd.name pmatch(/tmp)"), "(pmatch fd.name (\"/tmp\"))"},
    {S("proc.name =\n\tbash"), "(= proc.name \"bash\")"},
    /* lists */
    {S("proc.name in ()"), "(in proc.name ())"},
    {S("proc.name in ( \n )"), "(in proc.name ())"},
    {S("proc.name in (bash)"), "(in proc.name (\"bash\"))"},
    {S("proc.name in ( \"sh -c x\" , 'a b',c )"), "(in proc.name (\"sh -c x\", \"a b\", \"c\"))"},
    {S("fd.sport in (22, 2222, 8022)"), "(in fd.sport (\"22\", \"2222\", \"8022\"))"},
    {S("fd.snet in (\"10.0.0.0/8\", 172.16.0.0/12)"),
     "(in fd.snet (\"10.0.0.0/8\", \"172.16.0.0/12\"))"},
    {S("proc.name in (a,\n  b,\n  c)"), "(in proc.name (\"a\", \"b\", \"c\"))"},
    {S("proc.name in (a[1], x.y, tolower, 0x1)"),
     "(in proc.name (\"a[1]\", \"x.y\", \"tolower\", \"0x1\"))"},
    {S("proc.name in bash"), "(in proc.name \"bash\")"},
    {S("proc.name pmatch ()"), "(pmatch proc.name ())"},
    /* field arguments */
    {S("proc.aname[2] = sshd"), "(= proc.aname[2] \"sshd\")"},
    {S("evt.arg[1] = x"), "(= evt.arg[1] \"x\")"},
    {S("proc.env[HOME] startswith /root"), "(startswith proc.env[HOME] \"/root\")"},
    {S("container.mount.dest[/var/run/docker.sock] exists"),
     "(exists container.mount.dest[/var/run/docker.sock])"},
    {S("container.mount.dest[/proc*] = x"), "(= container.mount.dest[/proc*] \"x\")"},
    {S("k8s.pod.label[\"app.kubernetes.io/name\"] = web"),
     "(= k8s.pod.label[app.kubernetes.io/name] \"web\")"},
    {S("proc.env['MY VAR'] = 1"), "(= proc.env[\"MY VAR\"] \"1\")"},
    {S("proc.aname[a,b(c)]=x"), "(= proc.aname[a,b(c)] \"x\")"},
    {S("proc.env[\"a\\tb\"] exists"), "(exists proc.env[\"a\\tb\"])"},
    {S("evt.arg.flags contains O_TRUNC"), "(contains evt.arg.flags \"O_TRUNC\")"},
    {S("evt.type.is.open = true"), "(= evt.type.is.open \"true\")"},
    {S("proc.exe_ino.ctime > 0"), "(> proc.exe_ino.ctime \"0\")"},
    /* transformers */
    {S("tolower(proc.name) = bash"), "(= tolower(proc.name) \"bash\")"},
    {S("toupper( proc.name ) = BASH"), "(= toupper(proc.name) \"BASH\")"},
    {S("b64(evt.buffer) contains hello"), "(contains b64(evt.buffer) \"hello\")"},
    {S("basename(proc.exepath) = sh"), "(= basename(proc.exepath) \"sh\")"},
    {S("len(proc.args) > 100"), "(> len(proc.args) \"100\")"},
    {S("toupper(basename(proc.exepath)) = SH"), "(= toupper(basename(proc.exepath)) \"SH\")"},
    {S("tolower(proc.aname[2]) = sshd"), "(= tolower(proc.aname[2]) \"sshd\")"},
    {S("tolower(proc.name) in (bash, sh)"), "(in tolower(proc.name) (\"bash\", \"sh\"))"},
    {S("len(proc.name) exists"), "(exists len(proc.name))"},
    {S("join(\",\", fd.types) = \"a,b\""), "(= join(\",\", fd.types) \"a,b\")"},
    {S("concat(proc.name, \"-\", proc.pname) = bash-sshd"),
     "(= concat(proc.name, \"-\", proc.pname) \"bash-sshd\")"},
    {S("getopt(proc.args, \"t:\")[t] = x"), "(= getopt(proc.args, \"t:\")[t] \"x\")"},
    {S("concat(proc.name , 0x1f ,-12, 'q')exists"),
     "(exists concat(proc.name, \"0x1f\", \"-12\", \"q\"))"},
    {S("join(\":\", ()) = \"\""), "(= join(\":\", ()) \"\")"},
    {S("join(\":\", ( tolower(proc.name) , proc.pname, \"x\", 1 )) = a"),
     "(= join(\":\", (tolower(proc.name), proc.pname, \"x\", \"1\")) \"a\")"},
    /* a field on the right */
    {S("proc.name = val(proc.pname)"), "(= proc.name val(proc.pname))"},
    {S("proc.name != val( proc.aname[1] )"), "(!= proc.name val(proc.aname[1]))"},
    {S("fd.num > val(proc.pid)"), "(> fd.num val(proc.pid))"},
    {S("proc.name startswith val(proc.pname)"), "(startswith proc.name val(proc.pname))"},
    {S("proc.name in val(proc.pname)"), "(in proc.name val(proc.pname))"},
    {S("tolower(proc.name) = tolower(proc.pname)"), "(= tolower(proc.name) tolower(proc.pname))"},
    {S("len(proc.name) >= len(proc.pname)"), "(>= len(proc.name) len(proc.pname))"},
    {S("proc.name = val(proc.pname)[x]"), "(= proc.name val(proc.pname)[x])"},
    /* modifiers */
    {S("fd.name startswith anyof (/etc/, /root/)"),
     "(startswith anyof fd.name (\"/etc/\", \"/root/\"))"},
    {S("proc.cmdline contains allof (curl, \"-k\")"),
     "(contains allof proc.cmdline (\"curl\", \"-k\"))"},
    {S("proc.name = oneof (a, b)"), "(= oneof proc.name (\"a\", \"b\"))"},
    {S("proc.name != allof ()"), "(!= allof proc.name ())"},
    {S("proc.name regex anyof (\"^a\", \"^b\")"), "(regex anyof proc.name (\"^a\", \"^b\"))"},
    {S("proc.name = anyof x"), "(= anyof proc.name \"x\")"},
    {S("proc.name = anyof\n(a)"), "(= anyof proc.name (\"a\"))"},
    {S("proc.name == oneof andy"), "(== oneof proc.name \"andy\")"},
    {S("proc.name = oneof and x"), "(and (= proc.name \"oneof\") (macro x))"},
    {S("proc.name contains oneof or x"), "(or (contains proc.name \"oneof\") (macro x))"},
    {S("proc.name = oneof"), "(= proc.name \"oneof\")"},
    {S("proc.name startswith anyof"), "(startswith proc.name \"anyof\")"},
    {S("proc.name = oneof \"a\""), "error 1:19: unexpected token after 'oneof', expecting "
				   "'or', 'and'"},
    {S("proc.name in oneof (a)"), "error 1:20: unexpected token after 'oneof', expecting "
				  "'or', 'and'"},
    /* precedence: not, then and, then or */
    {S("a or b and c"), "(or (macro a) (and (macro b) (macro c)))"},
    {S("a and b or c"), "(or (and (macro a) (macro b)) (macro c))"},
    {S("a or b and not c"), "(or (macro a) (and (macro b) (not (macro c))))"},
    {S("not a and b"), "(and (not (macro a)) (macro b))"},
    {S("not a or not b"), "(or (not (macro a)) (not (macro b)))"},
    {S("not (a and b)"), "(not (and (macro a) (macro b)))"},
    {S("(a or b) and c"), "(and (or (macro a) (macro b)) (macro c))"},
    {S("a and b and c"), "(and (macro a) (macro b) (macro c))"},
    {S("a or b or c or d"), "(or (macro a) (macro b) (macro c) (macro d))"},
    {S("(a and b) and c"), "(and (and (macro a) (macro b)) (macro c))"},
    {S("a and (b and c)"), "(and (macro a) (and (macro b) (macro c)))"},
    {S("((a))"), "(macro a)"},
    {S("( ( a ) )"), "(macro a)"},
    {S("a and b or c and d or e"),
     "(or (and (macro a) (macro b)) (and (macro c) (macro d)) (macro e))"},
    /* "not" toggles; "not(" and "and(" need no blank; "or(" ends the chain but for "or" */
    {S("not not a"), "(macro a)"},
    {S("not not not a"), "(not (macro a))"},
    {S("not(a)"), "(not (macro a))"},
    {S("not not(a)"), "(macro a)"},
    {S("not(not(a))"), "(not (not (macro a)))"},
    {S("not\tproc.name = x"), "(not (= proc.name \"x\"))"},
    {S("not\vproc.name = x"), "(not (= proc.name \"x\"))"},
    {S("not\n\fnot a"), "(macro a)"},
    {S("a and(b or c)"), "(and (macro a) (or (macro b) (macro c)))"},
    {S("a and(b) or c"), "(or (and (macro a) (macro b)) (macro c))"},
    {S("a and(b)and(c)"), "(and (macro a) (macro b) (macro c))"},
    {S("a or (b) and c"), "(or (macro a) (and (macro b) (macro c)))"},
    {S("a or(b) or c"), "(or (macro a) (macro b) (macro c))"},
    {S("a or(b)"), "(or (macro a) (macro b))"},
    {S("(a)and b"), "(and (macro a) (macro b))"},
    {S("proc.name=\"x\"and b"), "(and (= proc.name \"x\") (macro b))"},
    {S("fd.num>=0and b"), "(and (>= fd.num \"0\") (macro b))"},
    {S("proc.name existsand b"), "(and (exists proc.name) (macro b))"},
    {S("a\band\bb"), "(and (macro a) (macro b))"},
    {S("a and\r\nb"), "(and (macro a) (macro b))"},
    /* traps: words are fields, macros or values by shape, not by meaning */
    {S("notproc.name = x"), "(= notproc.name \"x\")"},
    {S("not_a_macro"), "(macro not_a_macro)"},
    {S("nota or andb"), "(or (macro nota) (macro andb))"},
    {S("and"), "(macro and)"},
    {S("not"), "(macro not)"},
    {S("a and not"), "(and (macro a) (macro not))"},
    {S("val"), "(macro val)"},
    {S("tolower"), "(macro tolower)"},
    {S("proc.name inx"), "(in proc.name \"x\")"},
    {S("proc.name = a.b"), "(= proc.name \"a.b\")"},
    {S("proc.name = proc.pname"), "(= proc.name \"proc.pname\")"},
    {S("proc.name = \"tolower(proc.pname)\""), "(= proc.name \"tolower(proc.pname)\")"},
    {S("proc.name = tolower"), "(= proc.name \"tolower\")"},
    {S("proc.name = val"), "(= proc.name \"val\")"},
    {S("proc.name = 12abc"), "(= proc.name \"12abc\")"},
    {S("proc.name = <NA>"), "(= proc.name \"<NA>\")"},
    {S("evt.dir = >"), "(= evt.dir \">\")"},
    {S("fd.num > 0x10"), "(> fd.num \"0x10\")"},
    {S("fd.num < 1."), "(< fd.num \"1.\")"},
    {S("fd.num < 1.5e-3"), "(< fd.num \"1.5e-3\")"},
    {S("proc.name = a\\b"), "(= proc.name \"a\\\\b\")"},
    {S("fd.name = /usr/bin/*"), "(= fd.name \"/usr/bin/*\")"},
    {S("proc.name = $HOME:%x-y[0]"), "(= proc.name \"$HOME:%x-y[0]\")"},
    {S("proc.name = a\bb"), "(= proc.name \"a\\x08b\")"},
    {S("proc.name = caf\xc3\xa9"), "(= proc.name \"caf\\xc3\\xa9\")"},
    {S("proc.name = \xff\xfe"), "(= proc.name \"\\xff\\xfe\")"},
    /* quoted strings */
    {S("proc.name = \"a\\\"b\""), "(= proc.name \"a\\\"b\")"},
    {S("proc.name = 'a\\'b'"), "(= proc.name \"a'b\")"},
    {S("proc.name = \"\\b\\f\\n\\r\\t\\\\\\/\""), "(= proc.name \"\\x08\\x0c\\n\\x0d\\t\\\\/\")"},
    {S("proc.name = \"\\x41\\x62\""), "(= proc.name \"Ab\")"},
    {S("proc.name = \"a\\ b\""), "(= proc.name \"a\\\\b\")"},
    {S("proc.name = \"\""), "(= proc.name \"\")"},
    {S("proc.name = ''"), "(= proc.name \"\")"},
    {S("proc.name = \"a\nb\""), "(= proc.name \"a\\nb\")"},
    {S("fd.name = \"C:\\\\\" and b\""), "(= fd.name \"C:\\\\\\\" and b\")"},
    /* blanks around the whole condition */
    {S("  \n a \n "), "(macro a)"},
    {S("\ba\b"), "(macro a)"},
};

TEST(parse_accepted)
{
	struct strbuf sb = STRBUF_INIT;

	for (size_t i = 0; i < ARRAY_SIZE(accepted); i++) {
		const struct parse_case *c = &accepted[i];
		char *got = outcome(c->in, c->len);

		if (strcmp(got, c->want) != 0)
			printf("# for: %s\n", shown(&sb, c->in, c->len));
		CHECK_EQ_STR(got, c->want);
		free(got);
	}
	sb_release(&sb);
}

/* ---- the parser: rejected conditions, with the message and where it points ---- */

struct error_case {
	const char *in;
	size_t len;
	unsigned line, col;
	const char *msg; /* a fragment of the message */
};

static const struct error_case rejected[] = {
    {S(""), 1, 1, "condition is empty"},
    {S("  \n\t "), 2, 3, "condition is empty"},
    {S("(a"), 1, 3, "unbalanced parenthesis: the '(' at 1:1 is never closed"},
    {S("((a)"), 1, 5, "unbalanced parenthesis: the '(' at 1:1 is never closed"},
    {S("a)"), 1, 2,
     "unexpected token after 'a', expecting 'or', 'and' (unbalanced parenthesis: this ')' "
     "has no '(')"},
    {S("(a))"), 1, 4, "unexpected token after ')', expecting 'or', 'and' (unbalanced"},
    {S("a or (b and c"), 1, 14, "unbalanced parenthesis: the '(' at 1:6 is never closed"},
    {S("(a and\n b"), 2, 3, "unbalanced parenthesis: the '(' at 1:1 is never closed"},
    {S("(a = b)"), 1, 4, "expected 'and', 'or' or ')' after 'a', got '='"},
    {S("proc.name = \"bash"), 1, 13, "unterminated string: no closing \""},
    {S("proc.name = 'bash"), 1, 13, "unterminated string: no closing '"},
    {S("proc.name = \"bash\\\""), 1, 13, "unterminated string"},
    {S("proc.name in (a, \"b"), 1, 18, "unterminated string"},
    {S("proc.name startswith"), 1, 21,
     "expected a value after 'startswith', got end of "
     "condition"},
    {S("proc.name startswith "), 1, 22,
     "expected a value after 'startswith', got end of "
     "condition"},
    {S("proc.name contains\"x\""), 1, 19, "expected a blank after 'contains', got '\"x\"'"},
    {S("proc.name endswith(x)"), 1, 19, "expected a blank after 'endswith', got '('"},
    {S("proc.name ="), 1, 12, "expected a value after '=', got end of condition"},
    {S("proc.name = )"), 1, 13, "expected a value after '=', got ')'"},
    {S("proc.name"), 1, 10, "expected an operator after 'proc.name', got end of condition"},
    {S("proc.aname[2] sshd"), 1, 15, "expected an operator after 'proc.aname[2]', got 'sshd'"},
    {S("tolower(proc.name) bash"), 1, 20, "expected an operator after 'tolower(proc.name)'"},
    {S("proc.name ~ x"), 1, 11, "expected an operator after 'proc.name', got '~'"},
    {S("proc.name containsx"), 1, 11,
     "expected an operator after 'proc.name', got "
     "'containsx'"},
    {S("proc.name ! x"), 1, 11, "expected an operator"},
    {S("proc.name exists x"), 1, 18, "unexpected token after 'exists', expecting 'or', 'and'"},
    {S("fd.num > abc"), 1, 10, "expected a number after '>', got 'abc'"},
    {S("fd.num < \"3\""), 1, 10, "expected a number after '<', got '\"3\"'"},
    {S("fd.num < 1e5"), 1, 11, "unexpected token after '1', expecting 'or', 'and'"},
    {S("fd.num >= 0x"), 1, 12, "unexpected token after '0', expecting 'or', 'and'"},
    {S("proc.name in \"a\""), 1, 14, "expected a list after 'in', got '\"a\"'"},
    {S("proc.name in /bin/sh"), 1, 14, "expected a list after 'in', got '/bin/sh'"},
    {S("fd.name pmatch"), 1, 15, "expected a list after 'pmatch', got end of condition"},
    {S("proc.name in (a, )"), 1, 18, "expected a list item after ',', got ')'"},
    {S("proc.name in (,a)"), 1, 15, "expected a list item after '(', got ','"},
    {S("proc.name in (a b)"), 1, 17, "expected ',' or ')' after 'a', got 'b'"},
    {S("proc.name in (a, b"), 1, 19, "unbalanced parenthesis: the '(' at 1:14 is never closed"},
    {S("proc.name in (a, tolower(b))"), 1, 25, "expected ',' or ')' after 'tolower', got '('"},
    {S("proc.name in (a) (b)"), 1, 18, "unexpected token after ')', expecting 'or', 'and'"},
    {S("proc.name in (a, (b))"), 1, 18, "expected a list item after ',', got '('"},
    {S("x or(y) and z"), 1, 9, "unexpected 'and' after 'or(...)': only 'or' may follow it"},
    {S("(x or(y) and z)"), 1, 10, "unexpected 'and' after 'or(...)'"},
    {S("x or(y) and"), 1, 12, "expected a blank or '(' after 'and', got end of condition"},
    {S("a andx"), 1, 3, "unexpected token after 'a', expecting 'or', 'and'"},
    {S("a and)"), 1, 6, "expected a blank or '(' after 'and', got ')'"},
    {S("a and"), 1, 6, "expected a blank or '(' after 'and', got end of condition"},
    {S("a or\"b\""), 1, 5, "expected a blank or '(' after 'or', got '\"b\"'"},
    {S("a and "), 1, 7, "expected a field, a macro or '(' after 'and', got end of condition"},
    {S("a or = b"), 1, 6, "expected a field, a macro or '(' after 'or', got '='"},
    {S("not "), 1, 5, "expected a field, a macro or '(' after 'not', got end of condition"},
    {S("not\bx"), 1, 5, "unexpected token after 'not', expecting 'or', 'and'"},
    {S("= x"), 1, 1, "expected a field, a macro or '(', got '='"},
    {S("_macro"), 1, 1, "expected a field, a macro or '(', got '_macro'"},
    {S("\xff = x"), 1, 1, "expected a field, a macro or '(', got '\\xff'"},
    {S("my-macro"), 1, 3, "unexpected token after 'my', expecting 'or', 'and'"},
    {S("a = b"), 1, 3, "unexpected token after 'a', expecting 'or', 'and'"},
    {S("proc.name = x y"), 1, 15, "unexpected token after 'x', expecting 'or', 'and'"},
    {S("proc.name = a=b"), 1, 14, "unexpected token after 'a', expecting 'or', 'and'"},
    {S("proc.name = a,b"), 1, 14, "unexpected token after 'a', expecting 'or', 'and'"},
    {S("proc.name = a\vb"), 1, 14, "unexpected token after 'a', expecting 'or', 'and'"},
    {S("proc.name=oneof (a)"), 1, 17, "unexpected token after 'oneof', expecting 'or', 'and'"},
    {S("proc.name = allof not x"), 1, 19, "unexpected token after 'allof'"},
    {S("proc.name = \"a\\qb\""), 1, 15, "unsupported string escape sequence '\\q'"},
    {S("proc.name = 'it\\\"s'"), 1, 16,
     "unsupported string escape sequence '\\\"' in a "
     "single-quoted string"},
    {S("proc.name = \"it\\'s\""), 1, 16,
     "unsupported string escape sequence '\\'' in a "
     "double-quoted string"},
    {S("proc.name = \"\\x4\""), 1, 14,
     "unsupported string escape sequence '\\x4': \\x takes "
     "two hex digits"},
    {S("proc.name = \"a\\x00b\""), 1, 15, "a value may not contain a NUL byte"},
    {S("proc.env[\"a\\qb\"] exists"), 1, 12, "unsupported string escape sequence '\\q'"},
    {S("proc.name = a\0b"), 1, 14, "condition contains a NUL byte"},
    {S("proc.name = \"a\0b\""), 1, 15, "condition contains a NUL byte"},
    {S("\0"), 1, 1, "condition contains a NUL byte"},
    {S("proc.aname["), 1, 12, "expected a field argument after '[', got end of condition"},
    {S("proc.aname[] = x"), 1, 12, "expected a field argument after '[', got ']'"},
    {S("proc.aname[2"), 1, 13, "expected ']' after '2', got end of condition"},
    {S("proc.env[a b] = x"), 1, 11, "expected ']' after 'a', got ' '"},
    {S("proc.aname [2] = x"), 1, 12, "expected an operator after 'proc.aname', got '[2]'"},
    {S("proc.aname[\"2] = x"), 1, 12, "unterminated string"},
    {S("tolower(proc.name"), 1, 18, "unbalanced parenthesis: the '(' at 1:8 is never closed"},
    {S("tolower() = x"), 1, 9,
     "expected a field, a transformer, a string, a number or a list after '(', got ')'"},
    {S("tolower(x) = y"), 1, 9, "after '(', got 'x'"},
    {S("tolower(proc.name,) = y"), 1, 19, "after ',', got ')'"},
    {S("tolower(proc.name proc.pname) = y"), 1, 19,
     "expected ',' or ')' after 'proc.name', "
     "got 'proc.pname'"},
    {S("tolower (proc.name) = x"), 1, 9,
     "unexpected token after 'tolower', expecting 'or', "
     "'and'"},
    {S("val(proc.name) = x"), 1, 4, "unexpected token after 'val', expecting 'or', 'and'"},
    {S("proc.name = val(x)"), 1, 17, "expected a field inside val(), got 'x'"},
    {S("proc.name = val(tolower(proc.name))"), 1, 17,
     "expected a field inside val(), got "
     "'tolower'"},
    {S("proc.name = val(proc.pname, proc.name)"), 1, 27,
     "expected ')' after 'proc.pname', "
     "got ','"},
    {S("concat(proc.name, (a.b, (c.d))) = x"), 1, 25,
     "expected a field, a transformer, a string or a number after ',', got '('"},
    {S("concat(proc.name, x) = y"), 1, 19, "after ',', got 'x'"},
    {S("join(\",\", (a.b, c.d) = x"), 1, 22, "expected ',' or ')' after ')', got '='"},
    {S("getopt(proc.args, \"t:\")["), 1, 25, "expected a field argument after '['"},
    {S("proc.name = \"C:\\\\\" or proc.name = \"y\""), 1, 36,
     "unexpected token after '\"C:\\\\\" or proc.name = \"', expecting 'or', 'and'"},
    /* positions on later lines */
    {S("evt.type = open and\n  (fd.name = a or\n   fd.name = )"), 3, 14,
     "expected a value after '=', got ')'"},
    {S("evt.type in (open,\n  openat\n  openat2)"), 3, 3,
     "expected ',' or ')' after 'openat', got 'openat2'"},
    {S("a and\n\n   = x"), 3, 4, "expected a field, a macro or '(' after 'and', got '='"},
    {S("proc.name = b and\n  x.y contains"), 2, 15, "expected a value after 'contains'"},
};

TEST(parse_rejected)
{
	struct strbuf sb = STRBUF_INIT;

	CHECK(ARRAY_SIZE(rejected) >= 40);
	for (size_t i = 0; i < ARRAY_SIZE(rejected); i++) {
		const struct error_case *c = &rejected[i];
		char *copy = heap_copy(c->in, c->len);
		struct cond_error err = {0};
		struct cond_node *n = cond_parse(copy, c->len, &err);

		if (n || !strstr(err.msg, c->msg) || err.line != c->line || err.col != c->col)
			printf("# for: %s\n#   got %u:%u: %s\n", shown(&sb, c->in, c->len),
			       err.line, err.col, n ? "(a tree)" : err.msg);
		CHECK(n == NULL);
		CHECK(strstr(err.msg, c->msg) != NULL);
		CHECK_EQ_INT(err.line, c->line);
		CHECK_EQ_INT(err.col, c->col);
		CHECK(same_pos(cond_lex_pos_of(copy, c->len, err.offset),
			       (struct cond_pos){err.offset, err.line, err.col}));
		cond_node_free(n);
		free(copy);
	}
	sb_release(&sb);
}

TEST(parse_err_may_be_null)
{
	struct cond_node *n = cond_parse("a and", 5, NULL);

	CHECK(n == NULL);
	n = cond_parse(NULL, 0, NULL);
	CHECK(n == NULL);
}

/* ---- positions in the tree ---- */

TEST(parse_node_positions)
{
	const char *src = "evt.type = open and\n"
			  "  not (fd.name startswith \"/etc\" or\n"
			  "       proc.aname[2] in (a, b))";
	struct cond_error err;
	struct cond_node *root = cond_parse(src, strlen(src), &err), *not, * or, *in;

	CHECK(root != NULL);
	if (!root)
		return;
	CHECK_EQ_INT(root->kind, COND_AND);
	CHECK(same_pos(root->pos, (struct cond_pos){0, 1, 1}));
	CHECK(same_pos(root->kids[0]->kids[1]->pos, (struct cond_pos){11, 1, 12}));
	not = root->kids[1];
	CHECK_EQ_INT(not ->kind, COND_NOT);
	CHECK(same_pos(not ->pos, (struct cond_pos){22, 2, 3}));
	or = not ->kids[0];
	CHECK_EQ_INT(or->kind, COND_OR);
	CHECK(same_pos(or->pos, (struct cond_pos){27, 2, 8}));
	CHECK(same_pos(or->kids[0]->kids[1]->pos, (struct cond_pos){46, 2, 27}));
	in = or->kids[1];
	CHECK_EQ_INT(in->kind, COND_COMPARE);
	CHECK_EQ_INT(in->op, COND_OP_IN);
	CHECK(same_pos(in->pos, (struct cond_pos){63, 3, 8}));
	CHECK(same_pos(in->kids[0]->pos, in->pos));
	CHECK_EQ_STR(in->kids[0]->arg, "2");
	CHECK(same_pos(in->kids[1]->pos, (struct cond_pos){80, 3, 25}));
	CHECK(same_pos(in->kids[1]->kids[1]->pos, (struct cond_pos){84, 3, 29}));
	CHECK(tree_ok(root, src, strlen(src)));
	cond_node_free(root);
}

TEST(parse_transformer_positions)
{
	const char *src = "x.y = 1 or\n concat(tolower(a.b), \"-\") = val(c.d)";
	struct cond_error err;
	struct cond_node *root = cond_parse(src, strlen(src), &err), *cmp, *tr;

	CHECK(root != NULL);
	if (!root)
		return;
	cmp = root->kids[1];
	tr = cmp->kids[0];
	CHECK_EQ_INT(tr->tr, COND_TR_CONCAT);
	CHECK(same_pos(tr->pos, (struct cond_pos){12, 2, 2}));
	CHECK(same_pos(tr->kids[0]->pos, (struct cond_pos){19, 2, 9}));
	CHECK(same_pos(tr->kids[0]->kids[0]->pos, (struct cond_pos){27, 2, 17}));
	CHECK(same_pos(tr->kids[1]->pos, (struct cond_pos){33, 2, 23}));
	CHECK_EQ_INT(cmp->kids[1]->tr, COND_TR_VAL);
	CHECK(same_pos(cmp->kids[1]->pos, (struct cond_pos){40, 2, 30}));
	CHECK(same_pos(cmp->kids[1]->kids[0]->pos, (struct cond_pos){44, 2, 34}));
	cond_node_free(root);
}

/* ---- real-world conditions, written in the style of public rulesets ---- */

static const struct parse_case real_world[] = {
    {S("evt.type in (open, openat, openat2) and evt.is_open_read=true and fd.typechar='f' and "
       "fd.num>=0"),
     "(and (in evt.type (\"open\", \"openat\", \"openat2\")) (= evt.is_open_read \"true\") "
     "(= fd.typechar \"f\") (>= fd.num \"0\"))"},
    {S("spawned_process and container and proc.name in (bash, sh, zsh) and proc.tty != 0 and "
       "not user_expected_terminal_shell"),
     "(and (macro spawned_process) (macro container) (in proc.name (\"bash\", \"sh\", \"zsh\")) "
     "(!= proc.tty \"0\") (not (macro user_expected_terminal_shell)))"},
    {S("(proc.aname[2] = puppet or proc.aname[3] = puppet) and\n"
       "  proc.cmdline startswith \"ruby /opt/puppetlabs\""),
     "(and (or (= proc.aname[2] \"puppet\") (= proc.aname[3] \"puppet\")) "
     "(startswith proc.cmdline \"ruby /opt/puppetlabs\"))"},
    {S("evt.type = ptrace and evt.dir=> and evt.arg.request in (PTRACE_ATTACH, PTRACE_SEIZE)\n"
       "and not proc.name in (gdb, strace)"),
     "(and (= evt.type \"ptrace\") (= evt.dir \">\") (in evt.arg.request (\"PTRACE_ATTACH\", "
     "\"PTRACE_SEIZE\")) (not (in proc.name (\"gdb\", \"strace\"))))"},
    {S("(evt.num=0)"), "(= evt.num \"0\")"},
    {S("open_write and fd.directory in (/etc, /usr/local/etc) and not proc.name in (dpkg, "
       "rpm, \"apt-get\") and not fd.name pmatch (/etc/ld.so.cache)"),
     NULL},
    {S("outbound and fd.sport in (2222, 8022) and not fd.snet in (\"10.0.0.0/8\", "
       "\"192.168.0.0/16\")"),
     NULL},
    {S("proc.name = socat and proc.args contains \"EXEC:\" and\n"
       "  (proc.args contains \"/bin/sh\" or proc.args contains \"/bin/bash\")"),
     NULL},
    {S("evt.type in (symlink, symlinkat) and evt.arg.target in (/etc/shadow, /etc/sudoers) and "
       "not proc.pname = systemd"),
     NULL},
    {S("container.id != host and container.privileged=true and proc.name = debugfs"), NULL},
    {S("spawned_process and proc.env[LD_PRELOAD] exists and not proc.env[LD_PRELOAD] = \"\""),
     NULL},
    {S("evt.rawres >= 0 and fd.l4proto = tcp and k8s.ns.name in (kube-system) and\n"
       "fd.sip.name in (\"kubernetes.default.svc\") and not container.image.repository in ()"),
     NULL},
    {S("thread.cap_effective icontains sys_admin and container.mount.dest[/proc*] != \"N/A\" "
       "and proc.cmdline contains \"echo \\\"x\\\" > /proc/sys\""),
     NULL},
    {S("evt.type in (connect, sendto) and fd.l4proto != udp and (fd.ip != \"0.0.0.0\" or "
       "fd.net != \"127.0.0.0/8\") and not fd.snet in (rfc_1918_addresses)"),
     NULL},
};

TEST(parse_real_world)
{
	struct strbuf sb = STRBUF_INIT;

	for (size_t i = 0; i < ARRAY_SIZE(real_world); i++) {
		const struct parse_case *c = &real_world[i];
		char *got = outcome(c->in, c->len);

		if (strncmp(got, "error", 5) == 0 || (c->want && strcmp(got, c->want) != 0))
			printf("# for: %s\n#   got: %s\n", shown(&sb, c->in, c->len), got);
		CHECK(strncmp(got, "error", 5) != 0);
		if (c->want)
			CHECK_EQ_STR(got, c->want);
		free(got);
	}
	sb_release(&sb);
}

TEST(clone_every_accepted_tree)
{
	for (size_t i = 0; i < ARRAY_SIZE(accepted); i++) {
		struct cond_error err;
		struct cond_node *n = cond_parse(accepted[i].in, accepted[i].len, &err), *c;

		if (!n)
			continue;
		c = cond_node_clone(n);
		CHECK(c && trees_equal(n, c));
		cond_node_free(c);
		cond_node_free(n);
	}
}

/* ---- limits ---- */

/* open, repeated n times, then middle, then close n times, then suffix. */
static struct cond_node *parse_nested(const char *open, size_t n, const char *middle,
				      const char *close, const char *suffix, struct cond_error *err)
{
	struct strbuf sb = STRBUF_INIT;
	struct cond_node *root;

	for (size_t i = 0; i < n; i++)
		sb_adds(&sb, open);
	sb_adds(&sb, middle);
	for (size_t i = 0; i < n; i++)
		sb_adds(&sb, close);
	sb_adds(&sb, suffix);
	root = cond_parse(sb.buf, sb.len, err);
	sb_release(&sb);
	return root;
}

/* Edges on the longest path from n down to a leaf. */
static size_t height(const struct cond_node *n)
{
	size_t h = 0;

	for (size_t i = 0; i < n->nkids; i++) {
		size_t k = 1 + height(n->kids[i]);

		if (k > h)
			h = k;
	}
	return h;
}

TEST(limit_parentheses)
{
	struct cond_error err;
	struct cond_node *n = parse_nested("(", COND_MAX_DEPTH, "a", ")", "", &err);

	CHECK(n && n->kind == COND_MACRO);
	cond_node_free(n);
	n = parse_nested("(", COND_MAX_DEPTH + 1, "a", ")", "", &err);
	CHECK(n == NULL);
	CHECK(strstr(err.msg, "nesting too deep: more than 1000 levels") != NULL);
	CHECK_EQ_INT(err.col, COND_MAX_DEPTH + 1);
	n = parse_nested("(", 10000, "a", ")", "", &err);
	CHECK(n == NULL && strstr(err.msg, "nesting too deep"));
	CHECK_EQ_INT(err.offset, COND_MAX_DEPTH);
	n = parse_nested("a and (", 10000, "a", ")", "", &err);
	CHECK(n == NULL && strstr(err.msg, "nesting too deep"));
	n = parse_nested("a or(", 10000, "a", ")", "", &err);
	CHECK(n == NULL && strstr(err.msg, "nesting too deep"));
}

TEST(limit_not)
{
	struct cond_error err;
	struct cond_node *n = parse_nested("not ", 10000, "a", "", "", &err);

	CHECK(n && n->kind == COND_MACRO);
	cond_node_free(n);
	n = parse_nested("not ", 10001, "a", "", "", &err);
	CHECK(n && n->kind == COND_NOT && n->kids[0]->kind == COND_MACRO);
	cond_node_free(n);
	/* "not(" nests: each one is a node of its own */
	n = parse_nested("not(", COND_MAX_DEPTH, "a", ")", "", &err);
	CHECK(n && height(n) == COND_MAX_DEPTH);
	cond_node_free(n);
	n = parse_nested("not(", 10000, "a", ")", "", &err);
	CHECK(n == NULL && strstr(err.msg, "nesting too deep"));
	CHECK_EQ_INT(err.col, 4 * COND_MAX_DEPTH + 4);
}

TEST(limit_transformers)
{
	struct cond_error err;
	struct cond_node *n = parse_nested("tolower(", COND_MAX_DEPTH, "a.b", ")", " exists", &err);

	CHECK(n && n->kind == COND_EXISTS && height(n) == COND_MAX_DEPTH + 1);
	cond_node_free(n);
	n = parse_nested("tolower(", COND_MAX_DEPTH + 1, "a.b", ")", " exists", &err);
	CHECK(n == NULL && strstr(err.msg, "nesting too deep"));
	n = parse_nested("len(", 10000, "a.b", ")", "", &err);
	CHECK(n == NULL && strstr(err.msg, "nesting too deep"));
	CHECK_EQ_INT(err.col, 4 * COND_MAX_DEPTH + 1);
	/* inside list arguments too */
	n = parse_nested("join(\",\", (", COND_MAX_DEPTH, "a.b", "))", " exists", &err);
	CHECK(n && height(n) == 2 * COND_MAX_DEPTH + 1);
	cond_node_free(n);
	n = parse_nested("join(\",\", (", COND_MAX_DEPTH + 1, "a.b", "))", " exists", &err);
	CHECK(n == NULL && strstr(err.msg, "nesting too deep"));
}

TEST(limit_mixed_nesting)
{
	struct strbuf sb = STRBUF_INIT;
	struct cond_error err;
	struct cond_node *n;

	for (int i = 0; i < COND_MAX_DEPTH / 2; i++)
		sb_adds(&sb, "(");
	for (int i = 0; i < COND_MAX_DEPTH / 2; i++)
		sb_adds(&sb, "len(");
	sb_adds(&sb, "a.b");
	for (int i = 0; i < COND_MAX_DEPTH / 2; i++)
		sb_adds(&sb, ")");
	sb_adds(&sb, " > 1");
	for (int i = 0; i < COND_MAX_DEPTH / 2; i++)
		sb_adds(&sb, ")");
	n = cond_parse(sb.buf, sb.len, &err);
	CHECK(n && n->kind == COND_COMPARE && height(n) == COND_MAX_DEPTH / 2 + 1);
	cond_node_free(n);
	sb_reset(&sb);
	for (int i = 0; i < COND_MAX_DEPTH / 2 + 1; i++)
		sb_adds(&sb, "(");
	for (int i = 0; i < COND_MAX_DEPTH / 2; i++)
		sb_adds(&sb, "len(");
	n = cond_parse(sb.buf, sb.len, &err);
	CHECK(n == NULL && strstr(err.msg, "nesting too deep"));
	sb_release(&sb);
}

static double seconds(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* Parses sb (then empties it) and reports the time as a TAP comment. */
static struct cond_node *parse_big(struct strbuf *sb, const char *what, struct cond_error *err)
{
	double t = seconds();
	char *copy = heap_copy(sb->buf, sb->len);
	struct cond_node *n = cond_parse(copy, sb->len, err);

	printf("# %s: %zu bytes in %.3f s\n", what, sb->len, seconds() - t);
	free(copy);
	sb_reset(sb);
	return n;
}

TEST(limit_ten_megabytes)
{
	const size_t big = 10u << 20;
	struct strbuf sb = STRBUF_INIT;
	struct cond_error err;
	struct cond_node *n;
	size_t terms = 0;

	while (sb.len < big) {
		sb_adds(&sb,
			"proc.name = bash or fd.name startswith \"/etc/x\" and not evt.type in "
			"(open, openat) or ");
		terms += 2;
	}
	sb_adds(&sb, "x");
	n = parse_big(&sb, "or chain", &err);
	CHECK(n && n->kind == COND_OR && n->nkids == terms + 1);
	cond_node_free(n);

	sb_adds(&sb, "proc.cmdline = \"");
	while (sb.len < big)
		sb_adds(&sb, "abc\\\"def ");
	sb_adds(&sb, "\"");
	n = parse_big(&sb, "quoted string", &err);
	CHECK(n && strlen(n->kids[1]->text) > big * 8 / 10);
	cond_node_free(n);

	sb_adds(&sb, "proc.name in (");
	while (sb.len < big)
		sb_adds(&sb, "abcdefgh, ");
	sb_adds(&sb, "x)");
	n = parse_big(&sb, "list", &err);
	CHECK(n && n->kids[1]->nkids > big / 11);
	cond_node_free(n);

	while (sb.len < big)
		sb_adds(&sb, "not ");
	sb_adds(&sb, "a");
	n = parse_big(&sb, "not run", &err);
	CHECK(n && n->kind == COND_MACRO);
	cond_node_free(n);

	while (sb.len < big)
		sb_adds(&sb, "((((a and ");
	n = parse_big(&sb, "open parentheses", &err);
	CHECK(n == NULL && strstr(err.msg, "nesting too deep"));

	sb_adds(&sb, "proc.name = \"");
	while (sb.len < big)
		sb_adds(&sb, "abc\\\" ");
	n = parse_big(&sb, "unterminated string", &err);
	CHECK(n == NULL && strstr(err.msg, "unterminated string") && err.col == 13);

	while (sb.len < big)
		sb_adds(&sb, "    \n");
	sb_adds(&sb, "a b");
	n = parse_big(&sb, "blank lines", &err);
	CHECK(n == NULL && err.line == big / 5 + 1 && err.col == 3);
	sb_release(&sb);
}

/* ---- robustness: prefixes and mutations of valid conditions, and random text ---- */

static uint32_t next_random(uint32_t *state)
{
	*state = *state * 1103515245u + 12345u;
	return *state >> 8;
}

/* Parses text of any shape: the checks are those of outcome(). */
static void parse_anything(const char *s, size_t len)
{
	free(outcome(s, len));
}

TEST(robust_prefixes)
{
	for (size_t i = 0; i < ARRAY_SIZE(accepted); i++)
		for (size_t len = 0; len <= accepted[i].len; len++)
			parse_anything(accepted[i].in, len);
	for (size_t i = 0; i < ARRAY_SIZE(rejected); i++)
		for (size_t len = 0; len <= rejected[i].len; len++)
			parse_anything(rejected[i].in, len);
}

TEST(robust_mutations)
{
	static const char bytes[] = "()[],=!<> \t\n\v\b\"'\\x.0aorndt\0\xff";
	uint32_t seed = 12345;
	char buf[256];

	for (size_t i = 0; i < ARRAY_SIZE(accepted); i++) {
		for (int m = 0; m < 60; m++) {
			size_t len = accepted[i].len, at;

			memcpy(buf, accepted[i].in, len);
			for (int k = 0; k < 1 + m % 3 && len; k++) {
				at = next_random(&seed) % len;
				switch (next_random(&seed) % 3) {
				case 0:
					buf[at] = bytes[next_random(&seed) % (sizeof(bytes) - 1)];
					break;
				case 1:
					memmove(buf + at, buf + at + 1, len - at - 1);
					len--;
					break;
				default:
					if (len < sizeof(buf)) {
						memmove(buf + at + 1, buf + at, len - at);
						buf[at] =
						    bytes[next_random(&seed) % (sizeof(bytes) - 1)];
						len++;
					}
				}
			}
			parse_anything(buf, len);
		}
	}
}

TEST(robust_random_fragments)
{
	static const char *const frags[] = {
	    "proc.name", "a.b[1]",    " ",	"\n",	   "=",	  "!=",	  "<=", "(",
	    ")",	 ",",	      "and",	"or",	   "not", "not(", "in", "pmatch ",
	    "exists",	 "contains ", "oneof ", "\"",	   "'",	  "\\",	  "x",	"1",
	    "0x",	 "tolower(",  "val(",	"concat(", "[",	  "]",	  "\t", "\xff",
	    "\xc3\xa9",	 "\"a b\"",   "()",	"e+3",
	};
	uint32_t seed = 777;
	struct strbuf sb = STRBUF_INIT;

	for (int i = 0; i < 20000; i++) {
		int n = 1 + (int)(next_random(&seed) % 14);

		sb_reset(&sb);
		for (int k = 0; k < n; k++)
			sb_adds(&sb, frags[next_random(&seed) % ARRAY_SIZE(frags)]);
		parse_anything(sb.buf, sb.len);
	}
	sb_release(&sb);
}

int main(void)
{
	RUN(lex_scanners);
	RUN(lex_token_details);
	RUN(lex_positions);
	RUN(lex_values);
	RUN(lex_values_of_plain_tokens);
	RUN(lex_descriptions);
	RUN(ast_names);
	RUN(ast_build_print_clone);
	RUN(ast_constructors_take_over_children);
	RUN(ast_print_arguments);
	RUN(parse_accepted);
	RUN(parse_rejected);
	RUN(parse_err_may_be_null);
	RUN(parse_node_positions);
	RUN(parse_transformer_positions);
	RUN(parse_real_world);
	RUN(clone_every_accepted_tree);
	RUN(limit_parentheses);
	RUN(limit_not);
	RUN(limit_transformers);
	RUN(limit_mixed_nesting);
	RUN(limit_ten_megabytes);
	RUN(robust_prefixes);
	RUN(robust_mutations);
	RUN(robust_random_fragments);
	return tap_done();
}
