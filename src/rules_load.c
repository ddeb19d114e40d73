#include "rules_load.h"

#include <ctype.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cond_check.h"
#include "compile.h"
#include "config.h"
#include "cond_parse.h"
#include "rules_conf.h"
#include "strbuf.h"

/* More event types than this in a rule's set earns LOAD_NO_EVTTYPE (spec c.2). */
#define BROAD_RULE_EVTTYPES 100

/* Most macro names a reference loop message spells out. */
#define LOOP_NAMES 8

/* A macro reference in a macro's condition: the macro it names (SIZE_MAX: none) and where. */
struct macro_ref {
	size_t target;
	const struct cond_node *node;
};

struct loader_ctx {
	struct rules_collection *c;
	struct cond_node **macro_ast; /* by position in c->macros; NULL when it has errors */
	bool *macro_bad;	      /* it has errors: reported at the macro (or at one it uses) */
	struct macro_ref *refs;	      /* every macro's references, macro after macro */
	size_t n_refs, cap_refs;
	size_t *ref_start; /* n_macros + 1: macro i's references are refs[ref_start[i] ...] */
	const struct append_entry *append; /* append_output */
	size_t n_append;
};

/* Where something in a condition was written in the rules files. */
struct file_where {
	const struct rules_file *file;
	unsigned line, col;
	enum rules_src_kind kind;	   /* for rules: what wrote it */
	const struct rules_exception *exc; /* when kind is not RULES_SRC_CONDITION */
};

/* A condition being reported on: a macro's (r NULL) or a rule's. */
struct cond_src {
	struct loader_ctx *lc;
	const struct rules_macro *m;
	const struct rules_rule *r;
	const struct rules_cond *cond;
};

/* A place in a scalar's text: its line and column in the file, and the column - 1 its lines
 * after the first start at. */
struct text_at {
	unsigned line, col, indent;
};

/* Where the text of the YAML scalar written at pos starts. A node's position is its first
 * character: a quote, or a block scalar's indicator ('|' or '>'), whose text starts on the
 * next line, indented. */
static void text_start(const struct rules_pos *pos, struct text_at *t)
{
	const struct rules_file *f = pos->file;
	const char *p;

	t->line = pos->line;
	t->col = pos->col;
	t->indent = 0;
	if (!f || !pos->line || pos->line > f->n_lines || rules_conf_is_conf_path(f->path))
		return;
	p = f->buf + f->line_starts[pos->line - 1];
	if (pos->col - 1 > strcspn(p, "\n"))
		return;
	p += pos->col - 1;
	if (*p == '"' || *p == '\'') {
		t->col++;
		return;
	}
	if (*p != '|' && *p != '>')
		return;
	/* the indentation is that of the first line that is not blank */
	for (size_t l = pos->line; l < f->n_lines; l++) {
		const char *s = f->buf + f->line_starts[l];
		size_t sp = strspn(s, " ");

		if (s[sp] == '\n' || s[sp] == '\r' || !s[sp])
			continue;
		t->line = pos->line + 1;
		t->indent = (unsigned)sp;
		t->col = t->indent + 1;
		return;
	}
}

/* Moves t along the first n bytes of s (fewer if s ends first). Exact for plain and quoted
 * one-line scalars without escapes and for literal block scalars; where YAML folded lines
 * the line and column are approximate (docs/rules-engine.md, "Positions"). */
static void walk(const char *s, size_t n, struct text_at *t)
{
	for (size_t i = 0; i < n && s[i]; i++) {
		if (s[i] == '\n') {
			t->line++;
			t->col = t->indent + 1;
		} else {
			t->col++;
		}
	}
}

/* Where byte offset of text was written, text being a definition written at start followed
 * by the appends parts (rules_collect.h). */
static void appended_where(const char *text, size_t offset, const struct rules_pos *start,
			   const struct rules_text_part *parts, size_t n_parts,
			   struct file_where *w)
{
	const struct rules_pos *pos = start;
	size_t from = 0;
	struct text_at t;

	for (size_t i = n_parts; i--;) {
		if (parts[i].offset <= offset) {
			pos = &parts[i].pos;
			from = parts[i].offset;
			break;
		}
	}
	text_start(pos, &t);
	walk(text + from, offset - from, &t);
	w->file = pos->file;
	w->line = t.line;
	w->col = t.col;
}

/* Where byte offset (at most len) of the condition text was written. For a rule, the text
 * is "(" condition ")" and its exceptions (b.10): the "(" maps to the condition's start, the
 * ")" to just after its end, and exception text to the field, comp or value that wrote it. */
static void src_where(const struct cond_src *s, size_t offset, struct file_where *w)
{
	const struct rules_cond *cond = s->cond;
	size_t src = cond->origin[offset <= cond->len ? offset : cond->len];
	struct rules_src_where sw;

	memset(w, 0, sizeof(*w));
	if (!s->r) {
		appended_where(cond->source, src, &s->m->cond_pos, s->m->cond_appends,
			       s->m->n_cond_appends, w);
		return;
	}
	rules_rule_locate(s->lc->c, s->r, src, &sw);
	w->kind = sw.kind;
	if (sw.kind != RULES_SRC_CONDITION) {
		w->file = sw.pos.file;
		w->line = sw.pos.line;
		w->col = sw.pos.col;
		w->exc = sw.exc;
		return;
	}
	appended_where(s->r->condition, sw.offset, &s->r->cond_pos, s->r->cond_appends,
		       s->r->n_cond_appends, w);
}

/* The offset in text[0..len) of its line:col (1-based, lines end at LF), or SIZE_MAX. */
static size_t text_offset(const char *text, size_t len, unsigned line, unsigned col)
{
	size_t i = 0;

	if (!line)
		return SIZE_MAX;
	for (unsigned l = 1; l < line; l++) {
		const char *nl = memchr(text + i, '\n', len - i);

		if (!nl)
			return SIZE_MAX;
		i = (size_t)(nl - text) + 1;
	}
	if (!col || col - 1 > len - i)
		return SIZE_MAX;
	return i + col - 1;
}

/* The one place the parser names in a message, as line:col of the text it parsed (see
 * expect_close in cond_parse.c). */
#define PARSER_PLACE "the '(' at "

/* Rewrites the place msg names (PARSER_PLACE L:C, in text[base..base + len) of s's
 * condition) to where it is in the rules file, with the file's name when that is not the
 * file of at, where the error itself is. */
static void map_msg_position(const struct cond_src *s, size_t base, size_t len,
			     const struct file_where *at, char *msg, size_t size)
{
	char *hit = strstr(msg, PARSER_PLACE), *rest;
	unsigned line, col;
	struct file_where w;
	char *copy;
	size_t off;

	if (!hit)
		return;
	rest = hit + strlen(PARSER_PLACE);
	line = (unsigned)strtoul(rest, &rest, 10);
	if (*rest != ':')
		return;
	col = (unsigned)strtoul(rest + 1, &rest, 10);
	off = text_offset(s->cond->text + base, len, line, col);
	if (off == SIZE_MAX)
		return;
	src_where(s, base + off, &w);
	copy = strdup(rest);
	if (!copy)
		return;
	hit += strlen(PARSER_PLACE);
	if (w.file && w.file != at->file)
		snprintf(hit, size - (size_t)(hit - msg), "%s:%u:%u%s", w.file->path, w.line, w.col,
			 copy);
	else
		snprintf(hit, size - (size_t)(hit - msg), "%u:%u%s", w.line, w.col, copy);
	free(copy);
}

/* Records a message about s's condition at w. A problem in an exception's text names the
 * exception, and one at an exception's field is LOAD_ERR_VALIDATE (b.10: each field must be
 * a valid field or transformer expression). */
static void report(const struct cond_src *s, const struct file_where *w, enum load_code code,
		   const char *msg)
{
	struct load_msgs *msgs = &s->lc->c->msgs;
	enum rules_item_kind kind = s->r ? RULES_ITEM_RULE : RULES_ITEM_MACRO;
	const char *name = s->r ? s->r->name : s->m->name;

	if (!w->exc) {
		load_msg_add(msgs, code, w->file, w->line, w->col, kind, name, "%s", msg);
		return;
	}
	if (w->kind == RULES_SRC_EXC_FIELD && code == LOAD_ERR_COMPILE_CONDITION)
		code = LOAD_ERR_VALIDATE;
	load_msg_add(msgs, code, w->file, w->line, w->col, kind, name, "exception '%s': %s",
		     w->exc->name, msg);
}

/* The bytes of a rule's condition text that its own condition became, between the "(" and
 * ")" the collector put around it: [*from, *to). False when list substitution blurred the
 * parentheses. */
static bool own_part(const struct rules_rule *r, size_t *from, size_t *to)
{
	const struct rules_cond *cond = &r->cond;
	size_t end = strlen(r->condition) + 1, i = 0;

	while (i < cond->len && cond->origin[i] < 1)
		i++;
	*from = i;
	while (i < cond->len && cond->origin[i] < end)
		i++;
	*to = i;
	return *from == 1 && cond->text[0] == '(' && *to < cond->len && cond->text[*to] == ')' &&
	       cond->origin[*to] == end;
}

/* Parses s's condition; reports why it does not parse (LOAD_ERR_COMPILE_CONDITION) and
 * returns NULL. A rule's condition is parsed inside "(" ")" with its exceptions (b.10); when
 * the rule's own condition is at fault, the error is the one found on it alone, so that a
 * stray ")" or an unclosed "(" is placed where it is written, not at the parentheses the
 * condition was put in. */
static struct cond_node *parse_cond(const struct cond_src *s)
{
	const struct rules_cond *cond = s->cond;
	size_t base = 0, len = cond->len, from, to;
	struct cond_error err, own;
	struct cond_node *ast = cond_parse(cond->text, cond->len, &err), *alone;
	struct file_where w;

	if (ast)
		return ast;
	if (s->r && own_part(s->r, &from, &to)) {
		alone = cond_parse(cond->text + from, to - from, &own);
		if (alone) {
			cond_node_free(alone);
		} else {
			err = own;
			err.offset += from;
			base = from;
			len = to - from;
		}
	}
	/* at the end of the text: just after its last word, not past the line breaks after it */
	while (err.offset == base + len && err.offset > base &&
	       isspace((unsigned char)cond->text[err.offset - 1])) {
		err.offset--;
		len--;
	}
	src_where(s, err.offset, &w);
	map_msg_position(s, base, len, &w, err.msg, sizeof(err.msg));
	report(s, &w, LOAD_ERR_COMPILE_CONDITION, err.msg);
	return NULL;
}

/* What the checker's callbacks need: the loader, and the rule being compiled. */
struct warn_ctx {
	struct loader_ctx *lc;
	const struct rules_rule *rule;
	const char *bad_macro; /* the last macro looked up that has errors, or NULL */
};

static const struct cond_node *macro_lookup(void *ctx, const char *name)
{
	struct warn_ctx *w = ctx;
	struct loader_ctx *lc = w->lc;
	const struct rules_macro *m = rules_collection_macro(lc->c, name);
	size_t i = m ? (size_t)(m - lc->c->macros) : 0;

	w->bad_macro = m && lc->macro_bad[i] ? m->name : NULL;
	return m ? lc->macro_ast[i] : NULL;
}

static void on_warning(void *ctx, const char *code, const struct cond_pos *pos,
		       const char *in_macro, const char *msg)
{
	struct warn_ctx *w = ctx;
	int lc = load_code_from_name(code);

	(void)pos;
	load_msg_add(&w->lc->c->msgs, lc >= 0 ? (enum load_code)lc : LOAD_COMPILE_CONDITION,
		     w->rule->cond_pos.file, w->rule->cond_pos.line, w->rule->cond_pos.col,
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

/* --- Macros (b.9, b.12) ------------------------------------------------------------------ */

/* Appends the macro references of n, in text order, to lc->refs. */
static void collect_refs(struct loader_ctx *lc, const struct cond_node *n)
{
	if (n->kind == COND_MACRO) {
		const struct rules_macro *m = rules_collection_macro(lc->c, n->text);

		rules_reserve(&lc->refs, &lc->cap_refs, lc->n_refs + 1, sizeof(*lc->refs));
		lc->refs[lc->n_refs].target = m ? (size_t)(m - lc->c->macros) : SIZE_MAX;
		lc->refs[lc->n_refs++].node = n;
		return;
	}
	for (size_t i = 0; i < n->nkids; i++)
		collect_refs(lc, n->kids[i]);
}

static void macro_error(struct loader_ctx *lc, size_t i, const struct cond_node *at,
			const char *fmt, ...) __attribute__((format(printf, 4, 5)));

/* Records LOAD_ERR_VALIDATE at node at of macro i's condition; the macro has errors. */
static void macro_error(struct loader_ctx *lc, size_t i, const struct cond_node *at,
			const char *fmt, ...)
{
	const struct rules_macro *m = &lc->c->macros[i];
	struct cond_src s = {lc, m, NULL, &m->cond};
	struct file_where w;
	char msg[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	src_where(&s, at->pos.offset, &w);
	report(&s, &w, LOAD_ERR_VALIDATE, msg);
	lc->macro_bad[i] = true;
}

/* Whether macro i may use the macro of reference k (b.9: one defined before i was last
 * defined or appended to, other than i); reports the first that it may not. */
static bool refs_valid(struct loader_ctx *lc, size_t i)
{
	const struct rules_macro *m = &lc->c->macros[i];

	for (size_t k = lc->ref_start[i]; k < lc->ref_start[i + 1]; k++) {
		const struct macro_ref *ref = &lc->refs[k];
		const char *name = ref->node->text;

		if (ref->target == SIZE_MAX) {
			macro_error(lc, i, ref->node, "undefined macro '%s' used in filter", name);
			return false;
		}
		if (ref->target == i) {
			macro_error(lc, i, ref->node, "reference loop: '%s' uses itself", name);
			return false;
		}
		if (lc->c->macros[ref->target].index >= m->visibility) {
			macro_error(lc, i, ref->node,
				    "undefined macro '%s' used in filter (it is defined later)",
				    name);
			return false;
		}
	}
	return true;
}

/* Reports the reference loop that the depth-first walk found: stack[at..n) are the macros on
 * it, each using the next and the last using stack[at]; refs[edge[j]] is the reference of
 * stack[j] to stack[j + 1]. Reported once, at the first macro of the loop the walk entered;
 * every macro on it has errors. */
static void report_loop(struct loader_ctx *lc, const size_t *stack, const size_t *edge, size_t at,
			size_t n)
{
	const struct rules_macro *macros = lc->c->macros;
	struct strbuf sb = STRBUF_INIT;

	sb_adds(&sb, macros[stack[at]].name);
	for (size_t j = at + 1; j < n; j++) {
		if (j - at == LOOP_NAMES && n - j > 1) {
			sb_addf(&sb, " -> ... (%zu more)", n - j - 1);
			j = n - 1;
		}
		sb_addf(&sb, " -> %s", macros[stack[j]].name);
	}
	sb_addf(&sb, " -> %s", macros[stack[at]].name);
	macro_error(lc, stack[at], lc->refs[edge[at]].node, "reference loop: %s", sb.buf);
	for (size_t j = at; j < n; j++)
		lc->macro_bad[stack[j]] = true;
	sb_release(&sb);
}

/* Finds the reference loops among the macros that have no error of their own (they need a
 * redefinition or an append: b.9 only lets a macro use earlier ones), and marks every macro
 * that uses one with errors as having errors too (that one's error is reported, not its
 * users'). Depth-first, without recursion: a chain of macros may be long. */
static void check_macro_graph(struct loader_ctx *lc)
{
	size_t n = lc->c->n_macros, depth = 0;
	size_t *stack = calloc(n + 1, sizeof(*stack)), *edge = calloc(n + 1, sizeof(*edge));
	size_t *on_stack = calloc(n + 1, sizeof(*on_stack)); /* its depth + 1, or 0 */
	unsigned char *done = calloc(n + 1, 1);

	if (!stack || !edge || !on_stack || !done) {
		fputs("saker: error: out of memory\n", stderr);
		abort();
	}
	for (size_t root = 0; root < n; root++) {
		if (done[root])
			continue;
		stack[0] = root;
		edge[0] = lc->ref_start[root];
		on_stack[root] = 1;
		depth = 1;
		while (depth) {
			size_t u = stack[depth - 1], k = edge[depth - 1], v;

			if (lc->macro_bad[u] || k == lc->ref_start[u + 1]) {
				/* finished: it has errors if a macro it uses has */
				for (k = lc->ref_start[u]; k < lc->ref_start[u + 1]; k++)
					if (lc->refs[k].target != SIZE_MAX &&
					    lc->macro_bad[lc->refs[k].target])
						lc->macro_bad[u] = true;
				on_stack[u] = 0;
				done[u] = 1;
				depth--;
				if (depth)
					edge[depth - 1]++;
				continue;
			}
			v = lc->refs[k].target;
			if (done[v] || lc->macro_bad[v]) {
				edge[depth - 1]++;
			} else if (on_stack[v]) {
				report_loop(lc, stack, edge, on_stack[v] - 1, depth);
			} else {
				stack[depth] = v;
				edge[depth] = lc->ref_start[v];
				on_stack[v] = ++depth;
			}
		}
	}
	free(stack);
	free(edge);
	free(on_stack);
	free(done);
}

/* Parses every macro and checks what it uses (b.9, b.12): undefined macros, macros defined
 * later, reference loops. A macro with errors is reported once, at itself; rules and macros
 * using it are not compiled, and get no error of their own for it. */
static void load_macros(struct loader_ctx *lc)
{
	struct rules_collection *c = lc->c;

	for (size_t i = 0; i < c->n_macros; i++) {
		struct rules_macro *m = &c->macros[i];
		struct cond_src s = {lc, m, NULL, &m->cond};

		m->used = false; /* set exactly below, from the parsed rules */
		lc->ref_start[i] = lc->n_refs;
		lc->macro_ast[i] = m->cond.text ? parse_cond(&s) : NULL;
		if (lc->macro_ast[i]) {
			collect_refs(lc, lc->macro_ast[i]);
			lc->ref_start[i + 1] = lc->n_refs;
			refs_valid(lc, i);
		} else {
			lc->macro_bad[i] = true;
		}
	}
	lc->ref_start[c->n_macros] = lc->n_refs;
	check_macro_graph(lc);
	/* Rules see a macro with errors as absent (macro_lookup tells them apart). */
	for (size_t i = 0; i < c->n_macros; i++) {
		if (lc->macro_bad[i]) {
			cond_node_free(lc->macro_ast[i]);
			lc->macro_ast[i] = NULL;
		}
	}
}

/* --- Rules ------------------------------------------------------------------------------- */

/* Where byte at of r's output was written: in its output value, or an appended one. */
static void output_where(const struct rules_rule *r, size_t at, struct file_where *w)
{
	memset(w, 0, sizeof(*w));
	if (!r->output || !r->output_pos.file) {
		w->file = r->pos.file;
		w->line = r->pos.line;
		w->col = r->pos.col;
		return;
	}
	appended_where(r->output, at, &r->output_pos, r->output_appends, r->n_output_appends, w);
}

/* The fields the rule source flags as "format suggested" (spec d.1), for syscall rules. */
static const char suggested_syscall[] =
    "container_id=%container.id container_name=%container.name "
    "container_image_repository=%container.image.repository "
    "container_image_tag=%container.image.tag k8s_pod_name=%k8s.pod.name "
    "k8s_ns_name=%k8s.ns.name";

static bool append_matches(const struct append_entry *e, const struct rules_rule *r)
{
	const char *source = r->source ? r->source : "syscall";

	if (e->source && strcmp(e->source, source) != 0)
		return false;
	if (e->rule && strcmp(e->rule, r->name) != 0)
		return false;
	for (size_t i = 0; i < e->tags.n; i++) {
		size_t j;

		for (j = 0; j < r->n_tags; j++)
			if (strcmp(e->tags.v[i], r->tags[j]) == 0)
				break;
		if (j == r->n_tags)
			return false;
	}
	return true;
}

static int extra_cmp(const void *a, const void *b)
{
	return strcmp(((const struct outfmt_extra *)a)->key, ((const struct outfmt_extra *)b)->key);
}

/* append_output's extra_fields for r, into lr (sorted, the first of a key kept). Returns
 * false after reporting a field that does not compile. */
static bool load_extras(struct loader_ctx *lc, const struct rules_rule *r, struct loaded_rule *lr)
{
	for (size_t i = 0; i < lc->n_append; i++) {
		const struct append_entry *e = &lc->append[i];

		if (!append_matches(e, r))
			continue;
		for (size_t j = 0; j < e->n_fields; j++) {
			const struct append_field *f = &e->fields[j];
			const char *key = f->key ? f->key : f->format;
			struct outfmt_extra *x;
			struct outfmt *fmt;
			char *text = NULL, cerr[256];
			size_t at = 0, k;

			for (k = 0; k < lr->n_extras; k++)
				if (strcmp(lr->extras[k].key, key) == 0)
					break;
			if (k < lr->n_extras)
				continue;
			if (!f->key && asprintf(&text, "%%%s", f->format) < 0)
				return false;
			fmt = outfmt_compile(f->key ? f->format : text, strlen(f->key ? f->format : text),
					     cerr, sizeof(cerr), &at);
			/* a bare item must be exactly one field */
			if (fmt && !f->key && (fmt->n_tok != 2 || fmt->tok[1].lit_len)) {
				outfmt_free(fmt);
				fmt = NULL;
				snprintf(cerr, sizeof(cerr), "'%s' is not a field name", f->format);
			}
			free(text);
			if (!fmt) {
				load_msg_add(&lc->c->msgs, LOAD_ERR_COMPILE_OUTPUT, r->pos.file,
					     r->pos.line, r->pos.col, RULES_ITEM_RULE, r->name,
					     "append_output extra_fields '%s': %s", key, cerr);
				return false;
			}
			x = realloc(lr->extras, (lr->n_extras + 1) * sizeof(*x));
			if (!x) {
				outfmt_free(fmt);
				return false;
			}
			lr->extras = x;
			x = &x[lr->n_extras++];
			x->key = strdup(key);
			x->fmt = fmt;
			x->raw = !f->key;
			if (!x->key)
				return false;
		}
	}
	if (lr->n_extras > 1)
		qsort(lr->extras, lr->n_extras, sizeof(*lr->extras), extra_cmp);
	return true;
}

static void free_extras(struct loaded_rule *lr)
{
	for (size_t i = 0; i < lr->n_extras; i++) {
		free(lr->extras[i].key);
		outfmt_free(lr->extras[i].fmt);
	}
	free(lr->extras);
	lr->extras = NULL;
	lr->n_extras = 0;
}

/* Compiles r's output, with what append_output adds to it; reports why not (or skips the
 * rule: skip-if-unknown-filter). */
static struct outfmt *load_output(struct loader_ctx *lc, struct rules_loaded *out,
				  const struct rules_rule *r)
{
	const char *own = r->output ? r->output : "";
	struct strbuf text = STRBUF_INIT;
	struct file_where w;
	struct outfmt *fmt;
	char cerr[256];
	size_t at = 0, own_len = strlen(own);

	sb_add(&text, own, own_len);
	for (size_t i = 0; i < lc->n_append; i++) {
		const struct append_entry *e = &lc->append[i];

		if (!append_matches(e, r))
			continue;
		if (e->extra_output && *e->extra_output) {
			sb_addc(&text, ' ');
			sb_adds(&text, e->extra_output);
		}
		if (e->suggested && (!r->source || !strcmp(r->source, "syscall"))) {
			sb_addc(&text, ' ');
			sb_adds(&text, suggested_syscall);
		}
	}
	fmt = outfmt_compile(text.buf ? text.buf : "", text.len, cerr, sizeof(cerr), &at);
	sb_release(&text);
	if (fmt)
		return fmt;
	if (at > own_len) {
		/* in what append_output added: said so, at the rule */
		size_t n = strlen(cerr);

		snprintf(cerr + n, sizeof(cerr) - n, " (in append_output)");
		at = 0;
	}
	output_where(r, r->output && at <= own_len ? at : 0, &w);
	if (strncmp(cerr, "unknown field", 13) == 0 && r->skip_if_unknown_filter) {
		load_msg_add(&lc->c->msgs, LOAD_UNKNOWN_FILTER, w.file, w.line, w.col,
			     RULES_ITEM_RULE, r->name, "%s in output (rule skipped)", cerr);
		out->n_skipped++;
	} else {
		load_msg_add(&lc->c->msgs, LOAD_ERR_COMPILE_OUTPUT, w.file, w.line, w.col,
			     RULES_ITEM_RULE, r->name, "%s", cerr);
	}
	return NULL;
}

/* Expands and checks r's parsed condition; reports why it fails (or skips the rule:
 * skip-if-unknown-filter), except when a macro it uses has errors: those were reported at
 * the macro. */
static struct cond_node *check_rule(struct loader_ctx *lc, struct rules_loaded *out,
				    const struct cond_src *s, const struct cond_node *ast)
{
	const struct rules_rule *r = s->r;
	struct warn_ctx wc = {lc, r, NULL};
	struct check_env env = {macro_lookup, on_warning, &wc};
	struct check_error err;
	struct cond_node *checked = cond_check(ast, &env, &err);
	struct file_where w;
	char bad[160], msg[512];
	bool unknown;
	int code;

	if (checked)
		return checked;
	if (wc.bad_macro) {
		snprintf(bad, sizeof(bad), "undefined macro '%s' used", wc.bad_macro);
		if (strncmp(err.msg, bad, strlen(bad)) == 0)
			return NULL;
	}
	unknown = strncmp(err.msg, "unknown field", 13) == 0 ||
		  strncmp(err.msg, "unknown event type", 18) == 0;
	if (err.in_macro[0]) {
		memset(&w, 0, sizeof(w));
		w.file = r->cond_pos.file;
		w.line = r->cond_pos.line;
		w.col = r->cond_pos.col;
	} else {
		src_where(s, err.pos.offset, &w);
	}
	snprintf(msg, sizeof(msg), "%s%s%s%s%s", err.msg, err.in_macro[0] ? " (in macro '" : "",
		 err.in_macro, err.in_macro[0] ? "')" : "",
		 unknown && r->skip_if_unknown_filter ? " (rule skipped)" : "");
	if (unknown && r->skip_if_unknown_filter) {
		report(s, &w, LOAD_UNKNOWN_FILTER, msg);
		out->n_skipped++;
		return NULL;
	}
	code = load_code_from_name(err.code);
	report(s, &w, code >= 0 ? (enum load_code)code : LOAD_ERR_COMPILE_CONDITION, msg);
	return NULL;
}

static void load_rule(struct loader_ctx *lc, struct rules_loaded *out, const struct rules_rule *r)
{
	struct cond_src s = {lc, NULL, r, &r->cond};
	struct cond_node *ast, *checked;
	struct vm_prog *prog = NULL;
	struct loaded_rule *lr;
	struct outfmt *fmt;
	char cerr[256];

	ast = parse_cond(&s);
	if (!ast)
		return;
	mark_used(lc, ast, 0);
	checked = check_rule(lc, out, &s, ast);
	cond_node_free(ast);
	if (!checked)
		return;
	fmt = load_output(lc, out, r);
	if (!fmt) {
		cond_node_free(checked);
		return;
	}
	if (compile_rule(checked, &prog, cerr, sizeof(cerr))) {
		load_msg_add(&lc->c->msgs, LOAD_ERR_COMPILE_CONDITION, r->cond_pos.file,
			     r->cond_pos.line, r->cond_pos.col, RULES_ITEM_RULE, r->name, "%s",
			     cerr);
		cond_node_free(checked);
		outfmt_free(fmt);
		return;
	}
	lr = &out->rules[out->n_rules];
	memset(lr, 0, sizeof(*lr));
	if (!load_extras(lc, r, lr)) {
		free_extras(lr);
		cond_node_free(checked);
		outfmt_free(fmt);
		vm_prog_free(prog);
		return;
	}
	out->n_rules++;
	lr->prog = prog;
	lr->fmt = fmt;
	lr->on = r->enabled;
	lr->src = r;
	lr->cond = checked;
	cond_evttypes(checked, &lr->evttypes);
	if (r->warn_evttypes && evtset_count(&lr->evttypes) > BROAD_RULE_EVTTYPES)
		load_msg_add(&lc->c->msgs, LOAD_NO_EVTTYPE, r->cond_pos.file, r->cond_pos.line,
			     r->cond_pos.col, RULES_ITEM_RULE, r->name,
			     "rule matches too many evt.type values (%zu). This has a significant "
			     "performance penalty.",
			     evtset_count(&lr->evttypes));
}

static struct rules_loaded *load_all(const char *const *paths, size_t n, const char *name,
				     const char *buf, size_t len,
				     const struct append_entry *append, size_t n_append);

struct rules_loaded *rules_load(const char *const *paths, size_t n)
{
	return load_all(paths, n, NULL, NULL, 0, NULL, 0);
}

struct rules_loaded *rules_load_with(const char *const *paths, size_t n, const char *name,
				     const char *buf, size_t len)
{
	return load_all(paths, n, name, buf, len, NULL, 0);
}

struct rules_loaded *rules_load_appending(const char *const *paths, size_t n,
					  const struct append_entry *append, size_t n_append)
{
	return load_all(paths, n, NULL, NULL, 0, append, n_append);
}

/* Every way in: the paths, one document from memory (buf, called name; NULL: none), and
 * append_output. */
static struct rules_loaded *load_all(const char *const *paths, size_t n, const char *name,
				     const char *buf, size_t len,
				     const struct append_entry *append, size_t n_append)
{
	struct rules_loaded *out = calloc(1, sizeof(*out));
	struct loader_ctx lc = {.append = append, .n_append = n_append};
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
	if (buf)
		rules_collect_buffer(c, name, buf, len);
	/* Errors so far (a file that did not read, an invalid exception, a plugin requirement)
	 * do not stop the rest: every rule that is not failed itself is compiled, so that one
	 * run reports every error and the good rules load (docs/rules-engine.md, Decisions). */
	rules_collection_finish(c);

	lc.c = c;
	lc.macro_ast = calloc(c->n_macros + 1, sizeof(*lc.macro_ast));
	lc.macro_bad = calloc(c->n_macros + 1, sizeof(*lc.macro_bad));
	lc.ref_start = calloc(c->n_macros + 1, sizeof(*lc.ref_start));
	out->rules = calloc(c->n_rules + 1, sizeof(*out->rules));
	if (!lc.macro_ast || !lc.macro_bad || !lc.ref_start || !out->rules) {
		free(lc.macro_ast);
		free(lc.macro_bad);
		free(lc.ref_start);
		rules_loaded_free(out);
		return NULL;
	}
	load_macros(&lc);
	for (size_t i = 0; i < c->n_rules; i++) {
		const struct rules_rule *r = &c->rules[i];

		if (!r->unknown_source && !r->failed && r->cond.text)
			load_rule(&lc, out, r);
	}
	/* A macro with errors was reported; do not call it unused as well. */
	for (size_t i = 0; i < c->n_macros; i++)
		if (lc.macro_bad[i])
			c->macros[i].used = true;
	rules_collection_check_unused(c);
	for (size_t i = 0; i < c->n_macros; i++)
		cond_node_free(lc.macro_ast[i]);
	free(lc.macro_ast);
	free(lc.macro_bad);
	free(lc.ref_start);
	free(lc.refs);
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
		free_extras(&r->rules[i]);
	}
	free(r->rules);
	rules_collection_free(r->coll);
	free(r);
}

/* Whether name matches pattern, where '*' stands for any run of characters (none
 * included) and every other character for itself. */
static bool star_match(const char *pat, const char *name)
{
	const char *star = NULL, *resume = NULL;

	while (*name) {
		if (*pat == '*') {
			star = pat++;
			resume = name;
		} else if (*pat == *name) {
			pat++;
			name++;
		} else if (star) {
			pat = star + 1;
			name = ++resume;
		} else {
			return false;
		}
	}
	while (*pat == '*')
		pat++;
	return !*pat;
}

void rules_loaded_select(struct rules_loaded *r, const struct rule_select *sel, size_t n,
			 size_t *matched)
{
	for (size_t i = 0; i < n; i++) {
		size_t hits = 0;

		for (size_t j = 0; j < r->n_rules; j++) {
			struct loaded_rule *lr = &r->rules[j];
			bool hit = false;

			if (sel[i].rule) {
				hit = star_match(sel[i].rule, lr->src->name);
			} else {
				for (size_t t = 0; t < lr->src->n_tags && !hit; t++)
					hit = strcmp(lr->src->tags[t], sel[i].tag) == 0;
			}
			if (hit) {
				lr->on = sel[i].enable;
				hits++;
			}
		}
		if (matched)
			matched[i] = hits;
	}
}

static bool fmt_uses(const struct outfmt *f, const char *name)
{
	for (size_t i = 0; f && i < f->n_tok; i++)
		if (f->tok[i].field.def && !strcmp(f->tok[i].field.def->name, name))
			return true;
	return false;
}

bool rules_loaded_uses_field(const struct rules_loaded *r, const char *name)
{
	for (size_t i = 0; r && i < r->n_rules; i++) {
		const struct loaded_rule *lr = &r->rules[i];

		if (!lr->on)
			continue;
		for (size_t j = 0; j < lr->prog->n_slots; j++)
			if (lr->prog->slots[j].is_field && lr->prog->slots[j].field.def &&
			    !strcmp(lr->prog->slots[j].field.def->name, name))
				return true;
		if (fmt_uses(lr->fmt, name))
			return true;
		for (size_t j = 0; j < lr->n_extras; j++)
			if (fmt_uses(lr->extras[j].fmt, name))
				return true;
	}
	return false;
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
		if (r->rules[i].on)
			evtset_union(out, &r->rules[i].evttypes);
}
