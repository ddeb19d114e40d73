#include "rules_load.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "cond_check.h"
#include "compile.h"
#include "cond_parse.h"

/* More event types than this in a rule's set earns LOAD_NO_EVTTYPE (spec c.2). */
#define BROAD_RULE_EVTTYPES 100

struct loader_ctx {
	struct rules_collection *c;
	struct cond_node **macro_ast; /* by position in c->macros; NULL when it did not parse */
};

/* Where offset (in cond->text) was written in the file: the condition's value position,
 * moved along the source text it came from. Exact for plain one-line scalars; for folded or
 * block scalars the line is right and the column approximate. skip is the length of text the
 * collector put before the condition (the "(" around a rule's condition). */
static void file_pos(const struct rules_cond *cond, const struct rules_pos *start, size_t offset,
		     size_t skip, unsigned *line, unsigned *col)
{
	size_t src_off = offset <= cond->len ? cond->origin[offset] : 0;
	unsigned l = start->line, cl = start->col;

	src_off = src_off > skip ? src_off - skip : 0;
	for (size_t i = 0; i < src_off && cond->source[skip + i]; i++) {
		if (cond->source[skip + i] == '\n') {
			l++;
			cl = 1;
		} else {
			cl++;
		}
	}
	*line = l;
	*col = cl;
}

static struct cond_node *parse_cond(struct rules_collection *c, const struct rules_cond *cond,
				    const struct rules_pos *pos, size_t skip,
				    enum rules_item_kind kind, const char *name)
{
	struct cond_error err;
	struct cond_node *ast = cond_parse(cond->text, cond->len, &err);
	unsigned line, col;

	if (!ast) {
		file_pos(cond, pos, err.offset, skip, &line, &col);
		load_msg_add(&c->msgs, LOAD_ERR_COMPILE_CONDITION, pos->file, line, col, kind, name,
			     "%s", err.msg);
	}
	return ast;
}

/* What the checker's callbacks need: the loader, and the rule being compiled. */
struct warn_ctx {
	struct loader_ctx *lc;
	const struct rules_rule *rule;
};

static const struct cond_node *macro_lookup(void *ctx, const char *name)
{
	struct loader_ctx *lc = ((struct warn_ctx *)ctx)->lc;
	const struct rules_macro *m = rules_collection_macro(lc->c, name);

	return m ? lc->macro_ast[m - lc->c->macros] : NULL;
}

static void on_warning(void *ctx, const char *code, const struct cond_pos *pos,
		       const char *in_macro, const char *msg)
{
	struct warn_ctx *w = ctx;
	int lc = load_code_from_name(code);

	(void)pos;
	load_msg_add(&w->lc->c->msgs, lc >= 0 ? (enum load_code)lc : LOAD_COMPILE_CONDITION,
		     w->rule->pos.file, w->rule->cond_pos.line, w->rule->cond_pos.col,
		     RULES_ITEM_RULE, w->rule->name, "%s%s%s%s", msg, in_macro ? " (in macro " : "",
		     in_macro ? in_macro : "", in_macro ? ")" : "");
}

/* Marks every macro a (parsed, unexpanded) tree names, and those their bodies name. */
static void mark_used(struct loader_ctx *lc, const struct cond_node *n, int depth)
{
	if (!n || depth > 64)
		return;
	if (n->kind == COND_MACRO) {
		struct rules_macro *m =
		    (struct rules_macro *)rules_collection_macro(lc->c, n->text);

		if (m && !m->used) {
			m->used = true;
			mark_used(lc, lc->macro_ast[m - lc->c->macros], depth + 1);
		}
		return;
	}
	for (size_t i = 0; i < n->nkids; i++)
		mark_used(lc, n->kids[i], depth);
}

/* Macros may only use macros defined before them (b.9): a reference to a later one is
 * undefined there. */
static bool macro_refs_visible(struct loader_ctx *lc, const struct rules_macro *m,
			       const struct cond_node *n)
{
	if (!n)
		return true;
	if (n->kind == COND_MACRO) {
		const struct rules_macro *r = rules_collection_macro(lc->c, n->text);

		if (r && r->index >= m->visibility) {
			load_msg_add(&lc->c->msgs, LOAD_ERR_VALIDATE, m->cond_pos.file,
				     m->cond_pos.line, m->cond_pos.col, RULES_ITEM_MACRO, m->name,
				     "undefined macro '%s' used in filter (it is defined later)",
				     n->text);
			return false;
		}
		return true;
	}
	for (size_t i = 0; i < n->nkids; i++)
		if (!macro_refs_visible(lc, m, n->kids[i]))
			return false;
	return true;
}

static void load_rule(struct loader_ctx *lc, struct rules_loaded *out, const struct rules_rule *r)
{
	struct warn_ctx wc = {lc, r};
	struct check_env env = {macro_lookup, on_warning, &wc};
	struct check_error err;
	struct cond_node *ast, *checked;
	struct loaded_rule *lr;
	int code;

	ast = parse_cond(lc->c, &r->cond, &r->cond_pos, 1, RULES_ITEM_RULE, r->name);
	if (!ast)
		return;
	mark_used(lc, ast, 0);
	checked = cond_check(ast, &env, &err);
	cond_node_free(ast);
	if (!checked) {
		unsigned line = r->cond_pos.line, col = r->cond_pos.col;
		bool unknown = strncmp(err.msg, "unknown field", 13) == 0 ||
			       strncmp(err.msg, "unknown event type", 18) == 0;

		if (!err.in_macro[0])
			file_pos(&r->cond, &r->cond_pos, err.pos.offset, 1, &line, &col);
		code = load_code_from_name(err.code);
		if (unknown && r->skip_if_unknown_filter) {
			load_msg_add(&lc->c->msgs, LOAD_UNKNOWN_FILTER, r->pos.file, line, col,
				     RULES_ITEM_RULE, r->name, "%s (rule skipped)", err.msg);
			out->n_skipped++;
			return;
		}
		load_msg_add(&lc->c->msgs,
			     code >= 0 ? (enum load_code)code : LOAD_ERR_COMPILE_CONDITION,
			     r->pos.file, line, col, RULES_ITEM_RULE, r->name, "%s%s%s%s", err.msg,
			     err.in_macro[0] ? " (in macro '" : "", err.in_macro,
			     err.in_macro[0] ? "')" : "");
		return;
	}
	{
		char cerr[256];
		struct vm_prog *prog = NULL;
		struct outfmt *fmt;
		size_t at;

		fmt = outfmt_compile(r->output ? r->output : "", r->output ? strlen(r->output) : 0,
				     cerr, sizeof(cerr), &at);
		if (!fmt) {
			bool unknown = strncmp(cerr, "unknown field", 13) == 0;

			if (unknown && r->skip_if_unknown_filter) {
				load_msg_add(&lc->c->msgs, LOAD_UNKNOWN_FILTER, r->pos.file,
					     r->pos.line, r->pos.col, RULES_ITEM_RULE, r->name,
					     "%s in output (rule skipped)", cerr);
				out->n_skipped++;
			} else {
				load_msg_add(&lc->c->msgs, LOAD_ERR_COMPILE_OUTPUT, r->pos.file,
					     r->pos.line, r->pos.col, RULES_ITEM_RULE, r->name,
					     "%s (at byte %zu of the output)", cerr, at);
			}
			cond_node_free(checked);
			return;
		}

		if (compile_rule(checked, &prog, cerr, sizeof(cerr))) {
			load_msg_add(&lc->c->msgs, LOAD_ERR_COMPILE_CONDITION, r->pos.file,
				     r->cond_pos.line, r->cond_pos.col, RULES_ITEM_RULE, r->name,
				     "%s", cerr);
			cond_node_free(checked);
			outfmt_free(fmt);
			return;
		}
		lr = &out->rules[out->n_rules++];
		lr->prog = prog;
		lr->fmt = fmt;
	}
	lr->src = r;
	lr->cond = checked;
	cond_evttypes(checked, &lr->evttypes);
	if (r->warn_evttypes && evtset_count(&lr->evttypes) > BROAD_RULE_EVTTYPES)
		load_msg_add(&lc->c->msgs, LOAD_NO_EVTTYPE, r->pos.file, r->cond_pos.line,
			     r->cond_pos.col, RULES_ITEM_RULE, r->name,
			     "rule matches too many evt.type values (%zu). This has a significant "
			     "performance penalty.",
			     evtset_count(&lr->evttypes));
}

struct rules_loaded *rules_load(const char *const *paths, size_t n)
{
	struct rules_loaded *out = calloc(1, sizeof(*out));
	struct loader_ctx lc = {0};
	struct rules_collection *c;

	if (!out)
		return NULL;
	c = out->coll = rules_collection_new();
	if (!c) {
		free(out);
		return NULL;
	}
	for (size_t i = 0; i < n; i++) {
		if (strcmp(paths[i], RULES_BUILTIN) == 0)
			rules_collect_buffer(c, RULES_BUILTIN, saker_default_rules,
					     saker_default_rules_len);
		else
			rules_collect_path(c, paths[i]);
	}
	if (rules_collection_finish(c))
		return out;

	lc.c = c;
	lc.macro_ast = calloc(c->n_macros + 1, sizeof(*lc.macro_ast));
	out->rules = calloc(c->n_rules + 1, sizeof(*out->rules));
	if (!lc.macro_ast || !out->rules) {
		free(lc.macro_ast);
		rules_loaded_free(out);
		return NULL;
	}
	for (size_t i = 0; i < c->n_macros; i++) {
		struct rules_macro *m = &c->macros[i];

		m->used = false; /* set exactly below, from the parsed rules */
		lc.macro_ast[i] =
		    parse_cond(c, &m->cond, &m->cond_pos, 0, RULES_ITEM_MACRO, m->name);
		if (lc.macro_ast[i] && !macro_refs_visible(&lc, m, lc.macro_ast[i])) {
			cond_node_free(lc.macro_ast[i]);
			lc.macro_ast[i] = NULL;
		}
	}
	for (size_t i = 0; i < c->n_rules; i++) {
		const struct rules_rule *r = &c->rules[i];

		if (!r->unknown_source && !r->failed)
			load_rule(&lc, out, r);
	}
	/* A macro that failed to parse was reported; do not call it unused as well. */
	for (size_t i = 0; i < c->n_macros; i++)
		if (!lc.macro_ast[i])
			c->macros[i].used = true;
	rules_collection_check_unused(c);
	for (size_t i = 0; i < c->n_macros; i++)
		cond_node_free(lc.macro_ast[i]);
	free(lc.macro_ast);
	return out;
}

void rules_loaded_free(struct rules_loaded *r)
{
	if (!r)
		return;
	for (size_t i = 0; i < r->n_rules; i++) {
		cond_node_free(r->rules[i].cond);
		vm_prog_free(r->rules[i].prog);
		outfmt_free(r->rules[i].fmt);
	}
	free(r->rules);
	rules_collection_free(r->coll);
	free(r);
}

const struct loaded_rule *rules_loaded_find(const struct rules_loaded *r, const char *name)
{
	for (size_t i = 0; i < r->n_rules; i++)
		if (strcmp(r->rules[i].src->name, name) == 0)
			return &r->rules[i];
	return NULL;
}

void rules_loaded_evttypes(const struct rules_loaded *r, struct evtset *out)
{
	evtset_clear(out);
	for (size_t i = 0; i < r->n_rules; i++)
		if (r->rules[i].src->enabled)
			evtset_union(out, &r->rules[i].evttypes);
}
