#include "cond_parse.h"

#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

/* Room for a quoted excerpt of condition text in a message (see cond_lex_describe_*). */
#define EXCERPT_SIZE 160

/* Kept out of line, so that their locals stay off the frames of the recursion through
 * parentheses, which bound the stack a deeply nested condition needs: error paths, and the
 * parsing of a check's operator and right operand. */
#define COLD	 __attribute__((cold, noinline))
#define NOINLINE __attribute__((noinline))

struct parser {
	struct cond_lexer lx; /* lx.err receives every error */
	unsigned depth;	      /* open parentheses and transformer calls */
};

typedef struct cond_node *(*parse_fn)(struct parser *p);

static struct cond_node *parse_or(struct parser *p);
static struct cond_node *parse_transformer(struct parser *p, const struct cond_token *name);
static struct cond_node *parse_tr_list_item(struct parser *p);

static const struct cond_token no_token;

/* Fails with "expected <what> after <after>, got <what is next>" at the cursor. */
static COLD void *expected_after(struct parser *p, const char *what, const struct cond_token *after)
{
	char prev[EXCERPT_SIZE], got[EXCERPT_SIZE];

	cond_lex_describe_next(&p->lx, got, sizeof(got));
	if (after->len == 0) {
		cond_error_set(p->lx.err, p->lx.at, "expected %s, got %s", what, got);
		return NULL;
	}
	cond_lex_describe_token(&p->lx, after, prev, sizeof(prev));
	cond_error_set(p->lx.err, p->lx.at, "expected %s after %s, got %s", what, prev, got);
	return NULL;
}

/* Same, after the last token scanned. */
static void *expected(struct parser *p, const char *what)
{
	return expected_after(p, what, &p->lx.last);
}

static COLD void *out_of_memory(struct parser *p)
{
	cond_error_set(p->lx.err, p->lx.at, "out of memory");
	return NULL;
}

/* Appends a (non-NULL) kid to parent; -1 when out of memory, kid freed. */
static int add_kid(struct parser *p, struct cond_node *parent, struct cond_node *kid)
{
	if (cond_node_add(parent, kid) < 0) {
		out_of_memory(p);
		return -1;
	}
	return 0;
}

/* Opens a level of nesting at pos, or fails when that would pass COND_MAX_DEPTH. */
static int enter(struct parser *p, struct cond_pos pos)
{
	if (p->depth >= COND_MAX_DEPTH) {
		cond_error_set(
		    p->lx.err, pos,
		    "nesting too deep: more than %d levels of parentheses and transformers",
		    COND_MAX_DEPTH);
		return -1;
	}
	p->depth++;
	return 0;
}

static void leave(struct parser *p)
{
	p->depth--;
}

/* Expects the ')' closing the '(' at open; what lists everything that could come instead.
 * The loader rewrites the "the '(' at L:C" of the message to the file's line and column
 * (PARSER_PLACE in rules_load.c): keep the two in step. */
static int expect_close(struct parser *p, const struct cond_token *open, const char *what)
{
	struct cond_token tok;

	cond_lex_blank(&p->lx);
	if (cond_lex_punct(&p->lx, ')', &tok))
		return 0;
	if (cond_lex_at_end(&p->lx))
		cond_error_set(p->lx.err, p->lx.at,
			       "unbalanced parenthesis: the '(' at %u:%u is never closed",
			       open->pos.line, open->pos.col);
	else
		expected(p, what);
	return -1;
}

/* A COND_MACRO or COND_FIELD node named by a token. */
static struct cond_node *name_node(struct parser *p, enum cond_node_kind kind,
				   const struct cond_token *tok)
{
	struct cond_node *n =
	    cond_node_new_text(kind, tok->pos, p->lx.src + tok->pos.offset, tok->len);

	return n ? n : out_of_memory(p);
}

/* A COND_VALUE node for what a token stands for (a quoted string is unescaped). */
static struct cond_node *value_node(struct parser *p, const struct cond_token *tok)
{
	char *text = cond_lex_value(&p->lx, tok);
	struct cond_node *n;

	if (!text)
		return NULL;
	n = cond_node_new(COND_VALUE, tok->pos);
	if (!n) {
		free(text);
		return out_of_memory(p);
	}
	n->text = text;
	return n;
}

/* QUOTED | BARE_STR; what names the value in a message when neither is here. */
static struct cond_node *parse_string(struct parser *p, const char *what)
{
	struct cond_token tok;
	int r = cond_lex_quoted(&p->lx, &tok);

	if (r < 0)
		return NULL;
	if (r > 0 || cond_lex_bare_string(&p->lx, &tok))
		return value_node(p, &tok);
	return expected(p, what);
}

/* [ "[" ( QUOTED | BARE_ARG ) "]" ], directly after a field or a transformer call. */
static int parse_bracket_arg(struct parser *p, struct cond_node *n)
{
	struct cond_token tok;
	int r;

	if (!cond_lex_punct(&p->lx, '[', &tok))
		return 0;
	r = cond_lex_quoted(&p->lx, &tok);
	if (r < 0)
		return -1;
	if (r == 0 && !cond_lex_field_arg(&p->lx, &tok)) {
		expected(p, "a field argument");
		return -1;
	}
	n->arg = cond_lex_value(&p->lx, &tok);
	if (!n->arg)
		return -1;
	if (!cond_lex_punct(&p->lx, ']', &tok)) {
		expected(p, "']'");
		return -1;
	}
	return 0;
}

/* field: FIELD_NAME [ "[" arg "]" ], the name scanned. */
static struct cond_node *parse_field(struct parser *p, const struct cond_token *name)
{
	struct cond_node *n = name_node(p, COND_FIELD, name);

	if (n && parse_bracket_arg(p, n) < 0) {
		cond_node_free(n);
		return NULL;
	}
	return n;
}

/* "(" [WS] [ item { [WS] "," [WS] item } ] [WS] ")", the "(" scanned. */
static struct cond_node *parse_list_rest(struct parser *p, const struct cond_token *open,
					 parse_fn item)
{
	struct cond_node *list = cond_node_new(COND_LIST, open->pos), *kid;
	struct cond_token tok;

	if (!list)
		return out_of_memory(p);
	cond_lex_blank(&p->lx);
	if (cond_lex_punct(&p->lx, ')', &tok))
		return list;
	do {
		cond_lex_blank(&p->lx);
		kid = item(p);
		if (!kid || add_kid(p, list, kid) < 0)
			goto fail;
		cond_lex_blank(&p->lx);
	} while (cond_lex_punct(&p->lx, ',', &tok));
	if (expect_close(p, open, "',' or ')'") < 0)
		goto fail;
	return list;
fail:
	cond_node_free(list);
	return NULL;
}

/* item of a list of values: QUOTED | BARE_STR */
static struct cond_node *parse_list_item(struct parser *p)
{
	return parse_string(p, "a list item");
}

/* tr_arg: HEX | NUMBER | QUOTED | tr_list | transformer | field, where a tr_list holds the
 * same but lists. */
static struct cond_node *parse_tr_operand(struct parser *p, bool list_ok)
{
	struct cond_token tok;
	int r;

	if (cond_lex_number(&p->lx, &tok))
		return value_node(p, &tok);
	r = cond_lex_quoted(&p->lx, &tok);
	if (r)
		return r > 0 ? value_node(p, &tok) : NULL;
	if (cond_lex_transformer(&p->lx, false, &tok))
		return parse_transformer(p, &tok);
	if (cond_lex_field(&p->lx, &tok))
		return parse_field(p, &tok);
	if (!list_ok)
		return expected(p, "a field, a transformer, a string or a number");
	if (!cond_lex_punct(&p->lx, '(', &tok))
		return expected(p, "a field, a transformer, a string, a number or a list");
	return parse_list_rest(p, &tok, parse_tr_list_item);
}

static struct cond_node *parse_tr_list_item(struct parser *p)
{
	return parse_tr_operand(p, false);
}

static struct cond_node *parse_tr_arg(struct parser *p)
{
	return parse_tr_operand(p, true);
}

/* The one argument of val(): a field. */
static struct cond_node *parse_val_arg(struct parser *p)
{
	struct cond_token tok;

	if (cond_lex_field(&p->lx, &tok))
		return parse_field(p, &tok);
	return expected_after(p, "a field inside val()", &no_token);
}

/*
 * transformer: TR_NAME "(" [WS] tr_arg { [WS] "," tr_arg } [WS] ")" [ "[" arg "]" ]
 * val:         "val(" [WS] field [WS] ")" [ "[" arg "]" ]
 * The name is scanned and "(" follows it.
 */
static struct cond_node *parse_transformer(struct parser *p, const struct cond_token *name)
{
	bool val = name->tr == COND_TR_VAL;
	struct cond_token open, tok;
	struct cond_node *n, *arg;

	if (enter(p, name->pos) < 0)
		return NULL;
	n = cond_node_new(COND_TRANSFORM, name->pos);
	if (!n) {
		out_of_memory(p);
		goto fail;
	}
	n->tr = name->tr;
	cond_lex_punct(&p->lx, '(', &open);
	do {
		cond_lex_blank(&p->lx);
		arg = val ? parse_val_arg(p) : parse_tr_arg(p);
		if (!arg || add_kid(p, n, arg) < 0)
			goto fail;
		cond_lex_blank(&p->lx);
	} while (!val && cond_lex_punct(&p->lx, ',', &tok));
	if (expect_close(p, &open, val ? "')'" : "',' or ')'") < 0 || parse_bracket_arg(p, n) < 0)
		goto fail;
	leave(p);
	return n;
fail:
	leave(p);
	cond_node_free(n);
	return NULL;
}

/* val_or_tr, if one starts here: *found tells, and then the result is the node or NULL on
 * error. */
static struct cond_node *parse_val_or_transformer(struct parser *p, bool *found)
{
	struct cond_token tok;

	*found = cond_lex_transformer(&p->lx, true, &tok);
	return *found ? parse_transformer(p, &tok) : NULL;
}

/* After num_op: [WS] ( val_or_tr | HEX | NUMBER ) */
static struct cond_node *parse_number_rhs(struct parser *p)
{
	struct cond_token tok;
	struct cond_node *n;
	bool found;

	cond_lex_blank(&p->lx);
	n = parse_val_or_transformer(p, &found);
	if (found)
		return n;
	if (cond_lex_number(&p->lx, &tok))
		return value_node(p, &tok);
	return expected(p, "a number");
}

/* After list_op: [WS] ( list | val_or_tr | identifier ); after a modifier the same without
 * val_or_tr. An identifier stands for itself, as one value. */
static struct cond_node *parse_list_rhs(struct parser *p, bool field_ok)
{
	struct cond_token tok;
	struct cond_node *n;
	bool found = false;

	cond_lex_blank(&p->lx);
	if (cond_lex_punct(&p->lx, '(', &tok))
		return parse_list_rest(p, &tok, parse_list_item);
	if (field_ok) {
		n = parse_val_or_transformer(p, &found);
		if (found)
			return n;
	}
	if (cond_lex_identifier(&p->lx, &tok))
		return value_node(p, &tok);
	return expected(p, "a list");
}

/* After str_op: [WS] ( val_or_tr | QUOTED | BARE_STR ), or, with a blank between,
 * modifier WS ( list | identifier ). */
static struct cond_node *parse_string_rhs(struct parser *p, enum cond_mod *mod)
{
	struct cond_token tok;
	struct cond_node *n;
	bool found;

	if (cond_lex_blank(&p->lx) && cond_lex_modifier(&p->lx, &tok)) {
		*mod = tok.mod;
		return parse_list_rhs(p, false);
	}
	n = parse_val_or_transformer(p, &found);
	if (found)
		return n;
	return parse_string(p, "a value");
}

/* The text from start to the end of the last token, as a token for messages. */
static struct cond_token span_since(const struct parser *p, struct cond_pos start)
{
	return (struct cond_token){
	    .pos = start,
	    .len = p->lx.last.pos.offset + p->lx.last.len - start.offset,
	};
}

/* condition_tail after the left operand lhs (taken over): [WS] operator [right operand]. */
static NOINLINE struct cond_node *parse_condition_tail(struct parser *p, struct cond_node *lhs)
{
	struct cond_token op, operand = span_since(p, lhs->pos);
	struct cond_node *rhs = NULL, *n;
	enum cond_mod mod = COND_MOD_NONE;
	int r;

	cond_lex_blank(&p->lx);
	r = cond_lex_operator(&p->lx, &op);
	if (r == 0)
		expected_after(p, "an operator", &operand);
	if (r <= 0)
		goto fail;
	switch (cond_op_class_of(op.op)) {
	case COND_OPC_UNARY:
		break;
	case COND_OPC_NUMERIC:
		rhs = parse_number_rhs(p);
		break;
	case COND_OPC_SYMBOLIC:
	case COND_OPC_WORD:
		rhs = parse_string_rhs(p, &mod);
		break;
	case COND_OPC_LIST:
		rhs = parse_list_rhs(p, true);
		break;
	}
	if (!rhs && op.op != COND_OP_EXISTS)
		goto fail;
	n = cond_node_new_check(lhs->pos, op.op, mod, lhs, rhs);
	return n ? n : out_of_memory(p);
fail:
	cond_node_free(lhs);
	return NULL;
}

/* group_rest: [WS] or_expr [WS] ")", the "(" scanned. */
static struct cond_node *parse_group_rest(struct parser *p, const struct cond_token *open)
{
	struct cond_node *n;

	if (enter(p, open->pos) < 0)
		return NULL;
	cond_lex_blank(&p->lx);
	n = parse_or(p);
	if (n && expect_close(p, open, "'and', 'or' or ')'") < 0) {
		cond_node_free(n);
		n = NULL;
	}
	leave(p);
	return n;
}

/* check: [WS] ( "(" group_rest | field_or_tr condition_tail | identifier ) */
static struct cond_node *parse_check(struct parser *p)
{
	struct cond_token tok;
	struct cond_node *lhs;

	cond_lex_blank(&p->lx);
	if (cond_lex_punct(&p->lx, '(', &tok))
		return parse_group_rest(p, &tok);
	if (cond_lex_field(&p->lx, &tok))
		lhs = parse_field(p, &tok);
	else if (cond_lex_transformer(&p->lx, false, &tok))
		lhs = parse_transformer(p, &tok);
	else if (cond_lex_identifier(&p->lx, &tok))
		return name_node(p, COND_MACRO, &tok);
	else
		return expected(p, "a field, a macro or '('");
	return lhs ? parse_condition_tail(p, lhs) : NULL;
}

/* not_expr: [WS] { "not" WS1 } ( "not(" group_rest | check ). Each "not" toggles; an even
 * number leaves no node. "not(" needs no case of its own: check starts with "(". */
static struct cond_node *parse_not(struct parser *p)
{
	struct cond_token tok;
	struct cond_pos start;
	struct cond_node *n;
	bool negate = false;

	cond_lex_blank(&p->lx);
	start = p->lx.at;
	while (cond_lex_not(&p->lx, &tok))
		negate = !negate;
	n = parse_check(p);
	if (!n || !negate)
		return n;
	n = cond_node_new_not(start, n);
	return n ? n : out_of_memory(p);
}

/* After "or(...)" the grammar accepts only another "or" (spec a.3): explains an "and" there.
 * Returns true, with the error set, when one follows. */
static COLD bool and_after_or_group(struct parser *p)
{
	struct cond_token tok;
	struct cond_pos at = p->lx.at;
	int r = cond_lex_connective(&p->lx, COND_TOK_AND, &tok);

	if (r > 0)
		cond_error_set(p->lx.err, at,
			       "unexpected 'and' after 'or(...)': only 'or' may follow it, write "
			       "'or (' with a blank instead");
	return r != 0;
}

/* "(" group_rest right after "and" or "or". */
static NOINLINE struct cond_node *parse_glued_group(struct parser *p)
{
	struct cond_token open;

	cond_lex_punct(&p->lx, '(', &open);
	return parse_group_rest(p, &open);
}

/* A chain of one operand is that operand. */
static struct cond_node *unwrap(struct cond_node *chain)
{
	struct cond_node *only;

	if (chain->nkids > 1) {
		chain->pos = chain->kids[0]->pos;
		return chain;
	}
	only = chain->kids[0];
	chain->nkids = 0;
	cond_node_free(chain);
	return only;
}

/*
 * or_expr, and_expr: operand { [WS] word ( WS operand | "(" group_rest ) }, one n-ary node.
 * A group right after the word is an operand of its own, so after "or(...)" no "and" may
 * follow, while after "and(...)" the enclosing "or" goes on as usual.
 */
static struct cond_node *parse_chain(struct parser *p, enum cond_node_kind kind, parse_fn operand)
{
	enum cond_tok word = kind == COND_AND ? COND_TOK_AND : COND_TOK_OR;
	struct cond_node *chain = cond_node_new(kind, p->lx.at), *kid;
	bool after_or_group = false;
	struct cond_token tok;
	int r;

	if (!chain)
		return out_of_memory(p);
	kid = operand(p);
	while (kid && add_kid(p, chain, kid) == 0) {
		cond_lex_blank(&p->lx);
		r = cond_lex_connective(&p->lx, word, &tok);
		if (r == 0 && after_or_group && and_after_or_group(p))
			break;
		if (r == 0)
			return unwrap(chain);
		if (r < 0)
			break;
		after_or_group = kind == COND_OR && tok.paren_follows;
		kid = tok.paren_follows ? parse_glued_group(p) : operand(p);
	}
	cond_node_free(chain);
	return NULL;
}

static struct cond_node *parse_and(struct parser *p)
{
	return parse_chain(p, COND_AND, parse_not);
}

static struct cond_node *parse_or(struct parser *p)
{
	return parse_chain(p, COND_OR, parse_and);
}

/* The whole text must be one condition (spec a.2); fails on what is left. */
static COLD void *leftover(struct parser *p)
{
	char prev[EXCERPT_SIZE];

	cond_lex_describe_token(&p->lx, &p->lx.last, prev, sizeof(prev));
	cond_error_set(
	    p->lx.err, p->lx.at, "unexpected token after %s, expecting 'or', 'and'%s", prev,
	    cond_lex_peek(&p->lx) == ')' ? " (unbalanced parenthesis: this ')' has no '(')" : "");
	return NULL;
}

struct cond_node *cond_parse(const char *src, size_t len, struct cond_error *err)
{
	const char *nul = len ? memchr(src, '\0', len) : NULL;
	struct parser p = {.depth = 0};
	struct cond_node *root;

	cond_lex_init(&p.lx, src, len, err);
	if (nul) {
		cond_error_set(err, cond_lex_pos_of(src, len, (size_t)(nul - src)),
			       "condition contains a NUL byte");
		return NULL;
	}
	cond_lex_blank(&p.lx);
	if (cond_lex_at_end(&p.lx)) {
		cond_error_set(err, p.lx.at, "condition is empty");
		return NULL;
	}
	root = parse_or(&p);
	if (!root)
		return NULL;
	cond_lex_blank(&p.lx);
	if (!cond_lex_at_end(&p.lx)) {
		cond_node_free(root);
		return leftover(&p);
	}
	return root;
}
