#include "rules_collect.h"

#include <ctype.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Limits that keep hostile input from multiplying: lists that name other lists, YAML aliases
 * in exception values and list substitution can each turn a small file into an enormous
 * text. Far above anything a real ruleset needs. */
#define MAX_LIST_ITEMS (1u << 24)  /* expanded items of all lists together */
#define MAX_COND_TEXT  (64u << 20) /* bytes of one condition after exceptions and lists */

struct plugin_req {
	const struct rules_file *file;
	const struct rules_node *entry;
};

/* A text that appends grow (the public structs keep only its pointer): its length and
 * allocated size, so that many appends stay linear. Valid while ptr is the text's pointer. */
struct text_room {
	const char *ptr;
	size_t len, cap;
};

/* What the collector keeps beside each macro and rule, at the same index. */
struct macro_side {
	struct text_room cond;
};

struct rule_side {
	struct text_room text[3]; /* condition, output, desc */
	struct rules_names tags;  /* the rule's tags, while tags_valid */
	struct rules_names excs;  /* its exception names -> index, while excs_valid */
	bool tags_valid, excs_valid;
};

struct rules_collect_state {
	struct rules_file **files;
	size_t n_files, cap_files;
	struct rules_names list_names, macro_names, rule_names;
	size_t cap_lists, cap_macros, cap_rules;
	struct plugin_req *plugins;
	size_t n_plugins, cap_plugins;
	size_t seq; /* the sequence number of the item being applied (b.9) */
	struct macro_side *macro_side;
	size_t n_macro_side, cap_macro_side;
	struct rule_side *rule_side;
	size_t n_rule_side, cap_rule_side;
};

/* The item being applied, for messages. */
struct apply {
	struct rules_collection *c;
	const struct rules_file *f;
	const struct rules_item *it;
};

static int apply_fail(const struct apply *a, const struct rules_node *at, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* Records a LOAD_ERR_VALIDATE error at node at; returns -1. */
static int apply_fail(const struct apply *a, const struct rules_node *at, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	load_msg_addv(&a->c->msgs, LOAD_ERR_VALIDATE, a->f, at->line, at->col, a->it->kind,
		      a->it->name, fmt, ap);
	va_end(ap);
	return -1;
}

static struct rules_pos node_pos(const struct rules_file *f, const struct rules_node *n)
{
	struct rules_pos p = {f, n->line, n->col};

	return p;
}

static const struct rules_node *item_get(const struct apply *a, const char *key)
{
	return rules_node_get(a->it->map, key);
}

static bool item_bool(const struct apply *a, const char *key, bool dflt)
{
	const struct rules_node *v = item_get(a, key);
	bool b = dflt;

	if (v)
		rules_parse_bool(v->text, &b);
	return b;
}

static bool find_index(const struct rules_names *names, const char *name, size_t *i)
{
	return rules_names_get(names, name, strlen(name), i);
}

/* Finds name, or appends a zeroed element of size bytes to the array *arr; *added says
 * which. Returns the element's index. name must live as long as the collection. */
static size_t find_or_add(struct rules_names *names, void *arr, size_t *n, size_t *cap, size_t size,
			  const char *name, bool *added)
{
	size_t i;
	char *base;

	*added = !find_index(names, name, &i);
	if (!*added)
		return i;
	rules_reserve(arr, cap, *n + 1, size);
	memcpy(&base, arr, sizeof(base));
	memset(base + *n * size, 0, size);
	rules_names_put(names, name, strlen(name), *n);
	return (*n)++;
}

static struct macro_side *macro_side(struct rules_collection *c, const struct rules_macro *m)
{
	struct rules_collect_state *st = c->state;
	size_t i = (size_t)(m - c->macros);

	if (i >= st->n_macro_side) {
		rules_reserve(&st->macro_side, &st->cap_macro_side, i + 1, sizeof(*st->macro_side));
		memset(st->macro_side + st->n_macro_side, 0,
		       (i + 1 - st->n_macro_side) * sizeof(*st->macro_side));
		st->n_macro_side = i + 1;
	}
	return &st->macro_side[i];
}

static struct rule_side *rule_side(struct rules_collection *c, const struct rules_rule *r)
{
	struct rules_collect_state *st = c->state;
	size_t i = (size_t)(r - c->rules);

	if (i >= st->n_rule_side) {
		rules_reserve(&st->rule_side, &st->cap_rule_side, i + 1, sizeof(*st->rule_side));
		memset(st->rule_side + st->n_rule_side, 0,
		       (i + 1 - st->n_rule_side) * sizeof(*st->rule_side));
		st->n_rule_side = i + 1;
	}
	return &st->rule_side[i];
}

static void set_text(struct text_room *room, char **dst, const char *text)
{
	free(*dst);
	*dst = rules_strdup(text);
	room->ptr = *dst;
	room->len = strlen(text);
	room->cap = room->len + 1;
}

/* dst := dst + " " + text: append is pure text concatenation (b.8). The room makes a run of
 * appends linear; a text may not pass MAX_COND_TEXT (-1, dst unchanged). */
static int append_text(struct text_room *room, char **dst, const char *text)
{
	size_t n = strlen(text), old;
	char *p;

	if (!*dst || room->ptr != *dst) {
		old = *dst ? strlen(*dst) : 0;
		room->cap = *dst ? old + 1 : 0;
	} else {
		old = room->len;
	}
	if (old + 1 + n > MAX_COND_TEXT)
		return -1;
	if (old + n + 2 > room->cap) {
		size_t cap = room->cap * 2 > old + n + 2 ? room->cap * 2 : old + n + 2;

		p = realloc(*dst, cap);
		if (!p) {
			fputs("saker: error: out of memory\n", stderr);
			abort();
		}
		*dst = p;
		room->cap = cap;
	}
	p = *dst;
	p[old] = ' ';
	memcpy(p + old + 1, text, n + 1);
	room->ptr = p;
	room->len = old + 1 + n;
	return 0;
}

static char *trimmed(const char *s)
{
	size_t n;
	char *t;

	while (isspace((unsigned char)*s))
		s++;
	n = strlen(s);
	while (n && isspace((unsigned char)s[n - 1]))
		n--;
	t = rules_alloc(n + 1);
	memcpy(t, s, n);
	return t;
}

/* Remembers where the text written at node v went in a text that appends grow: a definition
 * (append false) is at *start and drops the appends; an append is at offset of the text.
 * text_room keeps the offset: its len after the append, minus the appended length n. */
static void text_placed(const struct apply *a, const struct rules_node *v, bool append,
			const struct text_room *room, size_t n, struct rules_pos *start,
			struct rules_text_part **parts, size_t *n_parts, size_t *cap_parts)
{
	struct rules_text_part *p;

	if (!append) {
		*start = node_pos(a->f, v);
		*n_parts = 0;
		return;
	}
	rules_reserve(parts, cap_parts, *n_parts + 1, sizeof(**parts));
	p = &(*parts)[(*n_parts)++];
	p->offset = room->len - n;
	p->pos = node_pos(a->f, v);
}

/* --- Versions ---------------------------------------------------------------------------- */

static int apply_engine_version(const struct apply *a)
{
	const struct rules_node *v = item_get(a, "required_engine_version");
	struct rules_collection *c = a->c;
	struct rules_version req, eng;

	rules_version_parse(v->text, true, &req);
	rules_version_parse(SAKER_ENGINE_VERSION, false, &eng);
	if (req.major != eng.major || rules_version_cmp(&eng, &req) < 0)
		return apply_fail(
		    a, v, "rules require engine version %lu.%lu.%lu, but engine version is %s",
		    req.major, req.minor, req.patch, SAKER_ENGINE_VERSION);
	if (!c->has_required_engine || rules_version_cmp(&req, &c->required_engine) > 0)
		c->required_engine = req;
	c->has_required_engine = true;
	return 0;
}

/* A requirement is satisfied by itself or any of its alternatives: candidate 0 is the entry,
 * candidate i > 0 its alternative i - 1. */
static size_t plugin_candidates(const struct rules_node *entry)
{
	const struct rules_node *alts = rules_node_get(entry, "alternatives");

	return 1 + (alts ? alts->n : 0);
}

static const struct rules_node *plugin_candidate(const struct rules_node *entry, size_t i)
{
	return i ? rules_node_get(entry, "alternatives")->items[i - 1] : entry;
}

static int apply_plugins(const struct apply *a)
{
	const struct rules_node *reqs = item_get(a, "required_plugin_versions");
	struct rules_collect_state *st = a->c->state;

	for (size_t r = 0; r < reqs->n; r++) {
		const struct rules_node *e = reqs->items[r];

		for (size_t i = 0; i < plugin_candidates(e); i++) {
			const struct rules_node *p = plugin_candidate(e, i);
			const struct rules_node *name = rules_node_get(p, "name");
			const struct rules_node *ver = rules_node_get(p, "version");
			struct rules_version v;

			if (rules_version_parse(ver->text, false, &v))
				return apply_fail(a, ver, "plugin '%s': invalid version '%s'",
						  name->text, ver->text);
			for (size_t j = 0; j < i; j++)
				if (strcmp(rules_node_get(plugin_candidate(e, j), "name")->text,
					   name->text) == 0)
					return apply_fail(a, name,
							  "plugin '%s' is named more than once in "
							  "one requirement",
							  name->text);
		}
		rules_reserve(&st->plugins, &st->cap_plugins, st->n_plugins + 1,
			      sizeof(*st->plugins));
		st->plugins[st->n_plugins].file = a->f;
		st->plugins[st->n_plugins++].entry = e;
	}
	return 0;
}

static bool plugin_satisfied(const struct rules_node *entry)
{
	struct rules_version have, want;

	rules_version_parse(SAKER_CONTAINER_VERSION, false, &have);
	for (size_t i = 0; i < plugin_candidates(entry); i++) {
		const struct rules_node *p = plugin_candidate(entry, i);

		rules_version_parse(rules_node_get(p, "version")->text, false, &want);
		if (strcmp(rules_node_get(p, "name")->text, "container") == 0 &&
		    have.major == want.major && rules_version_cmp(&have, &want) >= 0)
			return true;
	}
	return false;
}

static void check_plugins(struct rules_collection *c)
{
	for (size_t r = 0; r < c->state->n_plugins; r++) {
		const struct plugin_req *req = &c->state->plugins[r];
		struct strbuf sb = STRBUF_INIT;

		if (plugin_satisfied(req->entry))
			continue;
		for (size_t i = 0; i < plugin_candidates(req->entry); i++) {
			const struct rules_node *p = plugin_candidate(req->entry, i);

			sb_addf(&sb, "%s%s (>= %s)", i ? ", " : "", rules_node_get(p, "name")->text,
				rules_node_get(p, "version")->text);
		}
		load_msg_add(
		    &c->msgs, LOAD_ERR_VALIDATE, req->file, req->entry->line, req->entry->col,
		    RULES_ITEM_PLUGIN_VERSIONS, NULL,
		    "plugin requirement not satisfied, must load one of: %s (saker loads no "
		    "plugins; it provides container %s itself)",
		    sb.buf, SAKER_CONTAINER_VERSION);
		sb_release(&sb);
	}
}

/* --- Lists and macros ------------------------------------------------------------------ */

static struct rules_list *find_list(const struct rules_collection *c, const char *name)
{
	size_t i;

	return find_index(&c->state->list_names, name, &i) ? &c->lists[i] : NULL;
}

static struct rules_macro *find_macro(const struct rules_collection *c, const char *name)
{
	size_t i;

	return find_index(&c->state->macro_names, name, &i) ? &c->macros[i] : NULL;
}

static struct rules_rule *find_rule(const struct rules_collection *c, const char *name)
{
	size_t i;

	return find_index(&c->state->rule_names, name, &i) ? &c->rules[i] : NULL;
}

/* The message for an append or override whose base does not exist (b.8). */
static int no_base(const struct apply *a, const char *key, const char *op)
{
	const char *kind = rules_item_kind_name(a->it->kind);

	if (a->it->mode == RULES_MODE_APPEND)
		return apply_fail(a, a->it->map, "'append' needs an existing %s of that name",
				  kind);
	return apply_fail(a, a->it->map, "'override.%s: %s' needs an existing %s of that name", key,
			  op, kind);
}

/* Is the item's override of key "replace" (a redefinition, for lists and macros)? */
static bool overrides_replace(const struct apply *a, const char *key)
{
	const struct rules_node *op = rules_node_get(item_get(a, "override"), key);

	return op && strcmp(op->text, "replace") == 0;
}

static void list_add_items(struct rules_list *l, const struct rules_node *items)
{
	rules_reserve(&l->raw, &l->cap_raw, l->n_raw + items->n, sizeof(*l->raw));
	for (size_t i = 0; i < items->n; i++)
		l->raw[l->n_raw++] = items->items[i]->text;
}

static int apply_list(const struct apply *a)
{
	struct rules_collection *c = a->c;
	struct rules_collect_state *st = c->state;
	const struct rules_node *items = item_get(a, "items");
	struct rules_list *l;

	if (a->it->mode == RULES_MODE_DEFINE || overrides_replace(a, "items")) {
		bool added;
		size_t i = find_or_add(&st->list_names, &c->lists, &c->n_lists, &st->cap_lists,
				       sizeof(*c->lists), a->it->name, &added);

		l = &c->lists[i];
		if (added) {
			l->name = a->it->name;
			l->index = st->seq;
		}
		l->n_raw = 0;
		l->pos = node_pos(a->f, a->it->map);
	} else {
		l = find_list(c, a->it->name);
		if (!l)
			return no_base(a, "items", "append");
	}
	list_add_items(l, items);
	l->visibility = st->seq;
	return 0;
}

static int apply_macro(const struct apply *a)
{
	struct rules_collection *c = a->c;
	struct rules_collect_state *st = c->state;
	const struct rules_node *cond = item_get(a, "condition");
	struct rules_macro *m;

	if (a->it->mode == RULES_MODE_DEFINE || overrides_replace(a, "condition")) {
		bool added;
		size_t i = find_or_add(&st->macro_names, &c->macros, &c->n_macros, &st->cap_macros,
				       sizeof(*c->macros), a->it->name, &added);

		m = &c->macros[i];
		if (added) {
			m->name = a->it->name;
			m->index = st->seq;
		}
		set_text(&macro_side(c, m)->cond, &m->condition, cond->text);
		m->pos = node_pos(a->f, a->it->map);
		text_placed(a, cond, false, NULL, 0, &m->cond_pos, &m->cond_appends,
			    &m->n_cond_appends, &m->cap_cond_appends);
	} else {
		m = find_macro(c, a->it->name);
		if (!m)
			return no_base(a, "condition", "append");
		if (append_text(&macro_side(c, m)->cond, &m->condition, cond->text))
			return apply_fail(a, cond, "the appended condition would be longer than %u "
						   "bytes",
					  MAX_COND_TEXT);
		text_placed(a, cond, true, &macro_side(c, m)->cond, cond->len, &m->cond_pos,
			    &m->cond_appends, &m->n_cond_appends, &m->cap_cond_appends);
	}
	m->visibility = st->seq;
	return 0;
}

/* --- Rules ----------------------------------------------------------------------------- */

static void exception_add_values(struct rules_exception *e, const struct rules_file *f,
				 const struct rules_node *values)
{
	if (!values)
		return;
	rules_reserve(&e->values, &e->cap_values, e->n_values + values->n, sizeof(*e->values));
	for (size_t i = 0; i < values->n; i++) {
		e->values[e->n_values].node = values->items[i];
		e->values[e->n_values++].file = f;
	}
}

static void exception_add(const struct apply *a, struct rules_rule *r, const struct rules_node *e)
{
	struct rules_exception *x;

	rules_reserve(&r->exceptions, &r->cap_exceptions, r->n_exceptions + 1,
		      sizeof(*r->exceptions));
	x = &r->exceptions[r->n_exceptions++];
	memset(x, 0, sizeof(*x));
	x->name = rules_node_get(e, "name")->text;
	x->pos = node_pos(a->f, e);
	x->fields = rules_node_get(e, "fields");
	x->comps = rules_node_get(e, "comps");
	exception_add_values(x, a->f, rules_node_get(e, "values"));
}

static void exceptions_clear(struct rules_rule *r)
{
	for (size_t i = 0; i < r->n_exceptions; i++)
		free(r->exceptions[i].values);
	r->n_exceptions = 0;
}

/* Exceptions that define (not append): each needs fields (b.10). */
static int exceptions_check_new(const struct apply *a, const struct rules_node *excs)
{
	for (size_t i = 0; excs && i < excs->n; i++)
		if (!rules_node_get(excs->items[i], "fields"))
			return apply_fail(a, excs->items[i], "exception '%s' has no 'fields'",
					  rules_node_get(excs->items[i], "name")->text);
	return 0;
}

static void exceptions_set(const struct apply *a, struct rules_rule *r,
			   const struct rules_node *excs)
{
	exceptions_clear(r);
	for (size_t i = 0; excs && i < excs->n; i++)
		exception_add(a, r, excs->items[i]);
}

/* Appended exceptions merge by name: a known name gets more values, a new one is added. */
static int exceptions_append(const struct apply *a, struct rules_rule *r,
			     const struct rules_node *excs)
{
	struct rule_side *side = rule_side(a->c, r);
	struct rules_names *names = &side->excs; /* name -> index in r->exceptions, hashed: a
						  * rule may have many and take many appends */
	size_t j;
	int rc = 0;

	if (!side->excs_valid) {
		rules_names_free(names);
		for (j = 0; j < r->n_exceptions; j++)
			rules_names_put(names, r->exceptions[j].name,
					strlen(r->exceptions[j].name), j);
		side->excs_valid = true;
	}
	for (size_t i = 0; i < excs->n && !rc; i++) {
		const struct rules_node *e = excs->items[i];
		const char *name = rules_node_get(e, "name")->text;

		if (rules_names_get(names, name, strlen(name), &j)) {
			if (rules_node_get(e, "fields") || rules_node_get(e, "comps"))
				rc = apply_fail(a, e,
						"exception '%s' exists: an append may add values, "
						"not fields or comps",
						name);
			else
				exception_add_values(&r->exceptions[j], a->f,
						     rules_node_get(e, "values"));
			continue;
		}
		if (!rules_node_get(e, "fields") || !rules_node_get(e, "values")) {
			rc = apply_fail(a, e, "new exception '%s' needs 'fields' and 'values'",
					name);
			continue;
		}
		exception_add(a, r, e);
		rules_names_put(names, name, strlen(name), r->n_exceptions - 1);
	}
	return rc;
}

/* Tags are a set: a tag already there is not added again. The side keeps them hashed, so a
 * rule may carry many and take many appends. */
static void tags_add(struct rule_side *side, struct rules_rule *r, const struct rules_node *tags)
{
	size_t j;

	if (!side->tags_valid) {
		rules_names_free(&side->tags);
		for (j = 0; j < r->n_tags; j++)
			rules_names_put(&side->tags, r->tags[j], strlen(r->tags[j]), j);
		side->tags_valid = true;
	}
	for (size_t i = 0; i < tags->n; i++) {
		const struct rules_node *t = tags->items[i];

		if (rules_names_get(&side->tags, t->text, t->len, &j))
			continue;
		rules_reserve(&r->tags, &r->cap_tags, r->n_tags + 1, sizeof(*r->tags));
		rules_names_put(&side->tags, t->text, t->len, r->n_tags);
		r->tags[r->n_tags++] = t->text;
	}
}

static void rule_clear(struct rules_rule *r)
{
	size_t index = r->index;

	free(r->condition);
	free(r->output);
	free(r->output_appends);
	free(r->cond_appends);
	free(r->desc);
	free(r->tags);
	exceptions_clear(r);
	free(r->exceptions);
	rules_cond_free(&r->cond);
	memset(r, 0, sizeof(*r));
	r->index = index;
}

static int replace_scalar_key(const struct apply *a, struct rules_rule *r, const char *key,
			      const struct rules_node *v)
{
	if (strcmp(key, "priority") == 0)
		rules_priority_parse(v->text, &r->priority);
	else if (strcmp(key, "enabled") == 0)
		rules_parse_bool(v->text, &r->enabled);
	else if (strcmp(key, "warn_evttypes") == 0)
		rules_parse_bool(v->text, &r->warn_evttypes);
	else if (strcmp(key, "skip-if-unknown-filter") == 0)
		rules_parse_bool(v->text, &r->skip_if_unknown_filter);
	else if (strcmp(key, "capture") == 0)
		rules_parse_bool(v->text, &r->capture);
	else if (strcmp(key, "capture_duration") == 0)
		r->capture_duration = strtoull(v->text, NULL, 0);
	else
		return apply_fail(a, v, "key '%s' cannot be replaced", key);
	return 0;
}

/* Applies one key of an append (b.8: text keys get " " + text, tags are unioned, exceptions
 * merged) or a replace (the key's value as a whole). */
static int rule_key(const struct apply *a, struct rules_rule *r, const char *key, bool append)
{
	const struct rules_node *v = item_get(a, key);
	struct rule_side *side = rule_side(a->c, r);

	if (strcmp(key, "condition") == 0) {
		if (!append)
			set_text(&side->text[0], &r->condition, v->text);
		else if (append_text(&side->text[0], &r->condition, v->text))
			return apply_fail(a, v, "the appended condition would be longer than %u bytes",
					  MAX_COND_TEXT);
		text_placed(a, v, append, &side->text[0], v->len, &r->cond_pos, &r->cond_appends,
			    &r->n_cond_appends, &r->cap_cond_appends);
	} else if (strcmp(key, "output") == 0 || strcmp(key, "desc") == 0) {
		char **dst = key[0] == 'o' ? &r->output : &r->desc;
		struct text_room *room = &side->text[key[0] == 'o' ? 1 : 2];
		char *text = key[0] == 'o' ? trimmed(v->text) : rules_strdup(v->text);
		int rc = 0;

		size_t n = strlen(text);

		if (!append)
			set_text(room, dst, text);
		else
			rc = append_text(room, dst, text);
		free(text);
		if (rc)
			return apply_fail(a, v, "the appended %s would be longer than %u bytes", key,
					  MAX_COND_TEXT);
		if (key[0] == 'o')
			text_placed(a, v, append, room, n, &r->output_pos, &r->output_appends,
				    &r->n_output_appends, &r->cap_output_appends);
	} else if (strcmp(key, "tags") == 0) {
		if (!append) {
			r->n_tags = 0;
			side->tags_valid = false;
		}
		tags_add(side, r, v);
	} else if (strcmp(key, "exceptions") == 0) {
		if (append)
			return exceptions_append(a, r, v);
		if (exceptions_check_new(a, v))
			return -1;
		exceptions_set(a, r, v);
		side->excs_valid = false;
	} else {
		return replace_scalar_key(a, r, key, v);
	}
	return 0;
}

static const char *item_source(const struct apply *a)
{
	const struct rules_node *v = item_get(a, "source");

	return v && !v->is_null && v->len ? v->text : NULL;
}

/* An append or override may not change the rule's source (b.8). */
static int check_same_source(const struct apply *a, const struct rules_rule *r)
{
	const char *src = item_source(a);

	if (src && strcmp(src, r->source) != 0)
		return apply_fail(a, item_get(a, "source"),
				  "source '%s' differs from the existing rule's source '%s'", src,
				  r->source);
	return 0;
}

/* Forgets what the side knew of a rule that is being redefined. */
static void side_clear(struct rule_side *side)
{
	rules_names_free(&side->tags);
	rules_names_free(&side->excs);
	memset(side, 0, sizeof(*side));
}

static int define_rule(const struct apply *a)
{
	/* every key a definition sets, when present (the first four always are) */
	static const char *const keys[] = {
	    "condition", "output",	    "desc",	     "priority",
	    "tags",	 "exceptions",	    "warn_evttypes", "skip-if-unknown-filter",
	    "capture",	 "capture_duration"};
	struct rules_collection *c = a->c;
	struct rules_collect_state *st = c->state;
	const char *src = item_source(a);
	const struct rules_node *v;
	struct rules_rule *r;
	bool added;
	size_t i;

	if (exceptions_check_new(a, item_get(a, "exceptions")))
		return -1;
	i = find_or_add(&st->rule_names, &c->rules, &c->n_rules, &st->cap_rules, sizeof(*c->rules),
			a->it->name, &added);
	r = &c->rules[i];
	if (added)
		r->index = st->seq;
	rule_clear(r);
	side_clear(rule_side(c, r));
	r->name = a->it->name;
	r->pos = node_pos(a->f, a->it->map);
	r->source = src ? src : "syscall";
	r->enabled = item_bool(a, "enabled", true);
	r->warn_evttypes = true;
	for (size_t k = 0; k < sizeof(keys) / sizeof(keys[0]); k++)
		if (item_get(a, keys[k]))
			rule_key(a, r, keys[k], false);
	if (strcmp(r->source, "syscall") != 0) {
		r->unknown_source = true;
		v = item_get(a, "source");
		load_msg_add(&c->msgs, LOAD_UNKNOWN_SOURCE, a->f, v->line, v->col, RULES_ITEM_RULE,
			     r->name, "unknown source '%s' (rule skipped)", r->source);
	}
	return 0;
}

static int apply_rule(const struct apply *a)
{
	const struct rules_node *ovr = item_get(a, "override");
	struct rules_rule *r;

	if (a->it->mode == RULES_MODE_DEFINE)
		return define_rule(a);
	r = find_rule(a->c, a->it->name);
	if (a->it->mode == RULES_MODE_ENABLE_ONLY) {
		if (!r)
			return apply_fail(a, a->it->map,
					  "'enabled' alone needs an existing rule of that name");
		r->enabled = item_bool(a, "enabled", true);
		return 0;
	}
	if (a->it->mode == RULES_MODE_APPEND) {
		if (!r)
			return no_base(a, "condition", "append");
		if (check_same_source(a, r))
			return -1;
		if (item_get(a, "condition") && rule_key(a, r, "condition", true))
			return -1;
		return item_get(a, "exceptions") ? rule_key(a, r, "exceptions", true) : 0;
	}
	if (r && check_same_source(a, r))
		return -1;
	/* override: every append before every replace (b.8) */
	for (int pass = 0; pass < 2; pass++) {
		for (size_t i = 0; i < ovr->n; i++) {
			const char *key = ovr->pairs[i].key->text;
			bool append = strcmp(ovr->pairs[i].value->text, "append") == 0;

			if (append != (pass == 0))
				continue;
			if (!r)
				return no_base(a, key, append ? "append" : "replace");
			if (rule_key(a, r, key, append))
				return -1;
		}
	}
	return 0;
}

static int apply_item(struct rules_collection *c, const struct rules_file *f,
		      const struct rules_item *it)
{
	struct apply a = {c, f, it};

	c->state->seq++;
	switch (it->kind) {
	case RULES_ITEM_ENGINE_VERSION:
		return apply_engine_version(&a);
	case RULES_ITEM_PLUGIN_VERSIONS:
		return apply_plugins(&a);
	case RULES_ITEM_LIST:
		return apply_list(&a);
	case RULES_ITEM_MACRO:
		return apply_macro(&a);
	case RULES_ITEM_RULE:
		return apply_rule(&a);
	case RULES_ITEM_UNKNOWN:
		break;
	}
	return 0;
}

/* --- The collection -------------------------------------------------------------------- */

struct rules_collection *rules_collection_new(void)
{
	struct rules_collection *c = rules_alloc(sizeof(*c));

	c->state = rules_alloc(sizeof(*c->state));
	return c;
}

void rules_cond_free(struct rules_cond *cond)
{
	free(cond->source);
	free(cond->text);
	free(cond->origin);
	memset(cond, 0, sizeof(*cond));
}

void rules_collection_free(struct rules_collection *c)
{
	struct rules_collect_state *st;

	if (!c)
		return;
	st = c->state;
	for (size_t i = 0; i < c->n_lists; i++) {
		free(c->lists[i].raw);
		free(c->lists[i].items);
	}
	for (size_t i = 0; i < c->n_macros; i++) {
		free(c->macros[i].condition);
		free(c->macros[i].cond_appends);
		rules_cond_free(&c->macros[i].cond);
	}
	for (size_t i = 0; i < c->n_rules; i++)
		rule_clear(&c->rules[i]);
	free(c->lists);
	free(c->macros);
	free(c->rules);
	for (size_t i = 0; i < st->n_files; i++)
		rules_file_free(st->files[i]);
	free(st->files);
	rules_names_free(&st->list_names);
	rules_names_free(&st->macro_names);
	rules_names_free(&st->rule_names);
	free(st->plugins);
	for (size_t i = 0; i < st->n_rule_side; i++)
		side_clear(&st->rule_side[i]);
	free(st->rule_side);
	free(st->macro_side);
	free(st);
	load_msgs_free(&c->msgs);
	free(c);
}

bool rules_collection_ok(const struct rules_collection *c)
{
	return c->msgs.n_errors == 0;
}

int rules_collect_file(struct rules_collection *c, struct rules_file *f)
{
	struct rules_collect_state *st = c->state;

	rules_reserve(&st->files, &st->cap_files, st->n_files + 1, sizeof(*st->files));
	st->files[st->n_files++] = f;
	for (size_t i = 0; i < f->n_items; i++)
		if (apply_item(c, f, &f->items[i]))
			return -1;
	return 0;
}

int rules_collect_path(struct rules_collection *c, const char *path)
{
	char **paths;
	size_t n;
	int rc = 0;

	if (rules_yaml_expand_path(path, &paths, &n, &c->msgs))
		return -1;
	for (size_t i = 0; i < n; i++) {
		struct rules_file *f = rules_yaml_read_file(paths[i], &c->msgs);

		if (!f || rules_collect_file(c, f))
			rc = -1;
	}
	rules_yaml_free_paths(paths, n);
	return rc;
}

int rules_collect_buffer(struct rules_collection *c, const char *name, const char *buf, size_t len)
{
	struct rules_file *f = rules_yaml_read_buffer(name, buf, len, &c->msgs);

	return f ? rules_collect_file(c, f) : -1;
}

const struct rules_list *rules_collection_list(const struct rules_collection *c, const char *name)
{
	return find_list(c, name);
}

const struct rules_macro *rules_collection_macro(const struct rules_collection *c, const char *name)
{
	return find_macro(c, name);
}

const struct rules_rule *rules_collection_rule(const struct rules_collection *c, const char *name)
{
	return find_rule(c, name);
}

/* --- Lists in lists (b.9, b.11.1) -------------------------------------------------------- */

/* What item k of list i stands for: the items of the list M it names, if M was defined
 * before list i was last touched (expanded ones if M comes earlier, else as collected), or
 * itself. Sets *n, and *named to M's index or SIZE_MAX. */
static const char *const *list_item_source(const struct rules_collection *c, size_t i, size_t k,
					   size_t *n, size_t *named)
{
	const struct rules_list *l = &c->lists[i];
	const char *item = l->raw[k];
	size_t j;

	*named = SIZE_MAX;
	*n = 1;
	if (rules_names_get(&c->state->list_names, item, strlen(item), &j) &&
	    c->lists[j].index < l->visibility) {
		*named = j;
		*n = j < i ? c->lists[j].n_items : c->lists[j].n_raw;
		return j < i ? c->lists[j].items : c->lists[j].raw;
	}
	return &l->raw[k];
}

/* In definition order, each list's items with the lists they name expanded. Lists naming
 * lists multiply (ten lists of ten times the previous one make ten billion items): past
 * MAX_LIST_ITEMS in all, the list is an error and it and the lists after it keep their
 * items as written. */
static void expand_list_items(struct rules_collection *c, bool *used)
{
	size_t budget = MAX_LIST_ITEMS, n_add, named;
	bool over = false;

	for (size_t i = 0; i < c->n_lists; i++) {
		struct rules_list *l = &c->lists[i];
		size_t total = 0;

		for (size_t k = 0; k < l->n_raw && total <= budget; k++) {
			list_item_source(c, i, k, &n_add, &named);
			total += n_add;
		}
		if (!over && total > budget) {
			over = true;
			load_msg_add(&c->msgs, LOAD_ERR_VALIDATE, l->pos.file, l->pos.line,
				     l->pos.col, RULES_ITEM_LIST, l->name,
				     "expands to more than %u items with the lists it names (lists "
				     "that name lists multiply)",
				     MAX_LIST_ITEMS);
		}
		if (over) {
			l->items = rules_alloc((l->n_raw + 1) * sizeof(*l->items));
			if (l->n_raw)
				memcpy(l->items, l->raw, l->n_raw * sizeof(*l->items));
			l->n_items = l->n_raw;
			continue;
		}
		budget -= total;
		l->items = rules_alloc((total + 1) * sizeof(*l->items));
		for (size_t k = 0; k < l->n_raw; k++) {
			const char *const *add = list_item_source(c, i, k, &n_add, &named);

			if (named != SIZE_MAX && named != i)
				used[named] = true;
			if (n_add)
				memcpy(&l->items[l->n_items], add, n_add * sizeof(*add));
			l->n_items += n_add;
		}
	}
}

/* --- Lists in conditions (b.11.2) ------------------------------------------------------- */

/* What may surround a list name (b.11.2); the blanks among them are widened over. */
#define LIST_DELIMS " \t\r\n(),="

static bool is_delim(char ch)
{
	return ch && strchr(LIST_DELIMS, ch);
}

static bool is_blank(char ch)
{
	return ch == ' ' || ch == '\t' || ch == '\r' || ch == '\n';
}

/* The text being expanded and where each of its characters came from. */
struct exp_text {
	struct strbuf sb;
	size_t *origin;
	size_t cap;
};

/* Substitutes lists into condition texts. Only lists whose names occur in the text need a
 * pass, and a list name without delimiters can only occur as a whole token; so the passes
 * are driven by a min-heap of candidate list indexes: the lists named by the tokens of the
 * text at the start and by the tokens of what each substitution inserts (only later lists
 * see those). A name with delimiters ("my list") can only occur where its first token
 * ("my") is a whole token, so such lists are found through their first token; only names
 * made of delimiters alone are tried on every text. That keeps the cost proportional to
 * the text, not to the number of lists. */
struct list_bucket {
	size_t *v; /* list indexes */
	size_t n, cap;
};

struct expander {
	const struct rules_collection *c;
	bool *used;  /* may be NULL */
	char **subs; /* per list: its items joined by ", ", built on first use */
	bool *sub_too_long; /* per list: the joined items would pass MAX_COND_TEXT */
	struct rules_names first_tokens; /* first token of a name with delimiters -> bucket */
	struct list_bucket *buckets;
	size_t n_buckets, cap_buckets;
	size_t *always; /* names without any token */
	size_t n_always;
	size_t *heap;
	size_t n_heap, cap_heap;
};

static void heap_push(struct expander *x, size_t v)
{
	size_t i = x->n_heap++;

	rules_reserve(&x->heap, &x->cap_heap, x->n_heap, sizeof(*x->heap));
	for (; i && x->heap[(i - 1) / 2] > v; i = (i - 1) / 2)
		x->heap[i] = x->heap[(i - 1) / 2];
	x->heap[i] = v;
}

static size_t heap_pop(struct expander *x)
{
	size_t top = x->heap[0], last = x->heap[--x->n_heap], i = 0;

	for (;;) {
		size_t k = 2 * i + 1;

		if (k >= x->n_heap)
			break;
		if (k + 1 < x->n_heap && x->heap[k + 1] < x->heap[k])
			k++;
		if (x->heap[k] >= last)
			break;
		x->heap[i] = x->heap[k];
		i = k;
	}
	if (x->n_heap)
		x->heap[i] = last;
	return top;
}

/* Queues the lists named by tokens of s[0..len) whose index is above after (or all, when
 * after is SIZE_MAX). */
static void queue_tokens(struct expander *x, const char *s, size_t len, size_t after)
{
	size_t i = 0, start, li;

	while (i < len) {
		if (is_delim(s[i])) {
			i++;
			continue;
		}
		for (start = i; i < len && !is_delim(s[i]); i++)
			;
		if (rules_names_get(&x->c->state->list_names, s + start, i - start, &li) &&
		    (after == SIZE_MAX || li > after))
			heap_push(x, li);
		if (x->n_buckets &&
		    rules_names_get(&x->first_tokens, s + start, i - start, &li)) {
			const struct list_bucket *b = &x->buckets[li];

			for (size_t k = 0; k < b->n; k++)
				if (after == SIZE_MAX || b->v[k] > after)
					heap_push(x, b->v[k]);
		}
	}
}

/* Q (b.10): quoted only if it contains a space and is not already quoted. */
static void add_quoted(struct strbuf *sb, const char *s)
{
	bool quote = strchr(s, ' ') && s[0] != '"' && s[0] != '\'';

	if (quote)
		sb_addc(sb, '"');
	sb_adds(sb, s);
	if (quote)
		sb_addc(sb, '"');
}

/* List li's items joined by ", " (built once), or NULL if that would pass MAX_COND_TEXT:
 * it could not fit in any condition. */
static const char *list_sub(struct expander *x, size_t li)
{
	const struct rules_list *l = &x->c->lists[li];
	struct strbuf sb = STRBUF_INIT;

	if (x->subs[li] || x->sub_too_long[li])
		return x->subs[li];
	sb_add(&sb, "", 0);
	for (size_t i = 0; i < l->n_items; i++) {
		if (i)
			sb_adds(&sb, ", ");
		add_quoted(&sb, l->items[i]);
		if (sb.len > MAX_COND_TEXT) {
			sb_release(&sb);
			x->sub_too_long[li] = true;
			return NULL;
		}
	}
	x->subs[li] = sb.buf;
	return sb.buf;
}

/* Appends n bytes of s to t; their origins are org[0..n), or from for each if org is NULL. */
static void text_add(struct exp_text *t, const char *s, size_t n, const size_t *org, size_t from)
{
	rules_reserve(&t->origin, &t->cap, t->sb.len + n + 1, sizeof(*t->origin));
	for (size_t i = 0; i < n; i++)
		t->origin[t->sb.len + i] = org ? org[i] : from;
	sb_add(&t->sb, s, n);
}

/* Drops t's last byte. */
static void text_drop_last(struct exp_text *t)
{
	t->sb.buf[--t->sb.len] = '\0';
}

/* One pass of list li over the text (b.11.2): each delimited occurrence of its name, with
 * the blanks around it, becomes " " items " " (no leading blank at the start of the text).
 * The new text is built in one go (splicing each occurrence in place would be quadratic in
 * the number of occurrences). Returns -1, leaving t as it was, if the text would pass
 * MAX_COND_TEXT. */
static int substitute(struct expander *x, size_t li, struct exp_text *t)
{
	const char *name = x->c->lists[li].name, *in = t->sb.buf, *sub = NULL, *p;
	size_t nlen = strlen(name), len = t->sb.len, pos = 0, done = 0, sublen = 0;
	struct exp_text n = {STRBUF_INIT, NULL, 0};

	while (pos < len && (p = memmem(in + pos, len - pos, name, nlen))) {
		size_t at = (size_t)(p - in), end = at + nlen;
		/* the byte before the name in the text as substituted so far */
		bool any_before = at > done || n.sb.len;
		char before = at > done ? in[at - 1] : n.sb.len ? n.sb.buf[n.sb.len - 1] : 0;

		if ((any_before && !is_delim(before)) || (end < len && !is_delim(in[end]))) {
			pos = at + 1;
			continue;
		}
		if (!sub) {
			sub = list_sub(x, li);
			if (!sub)
				goto too_long;
			sublen = strlen(sub);
		}
		text_add(&n, in + done, at - done, t->origin + done, 0);
		while (n.sb.len && is_blank(n.sb.buf[n.sb.len - 1]))
			text_drop_last(&n);
		while (end < len && is_blank(in[end]))
			end++;
		if (!sublen && n.sb.len && n.sb.buf[n.sb.len - 1] == ',')
			text_drop_last(&n);
		else if (!sublen && end < len && in[end] == ',')
			end++;
		if (n.sb.len)
			text_add(&n, " ", 1, NULL, t->origin[at]);
		text_add(&n, sub, sublen, NULL, t->origin[at]);
		text_add(&n, " ", 1, NULL, t->origin[at]);
		done = pos = end;
		if (n.sb.len + (len - done) > MAX_COND_TEXT)
			goto too_long;
	}
	if (!sub)
		return 0; /* no occurrence */
	text_add(&n, in + done, len - done, t->origin + done, 0);
	n.origin[n.sb.len] = t->origin[len];
	sb_release(&t->sb);
	free(t->origin);
	*t = n;
	queue_tokens(x, sub, sublen, li);
	if (x->used)
		x->used[li] = true;
	return 0;
too_long:
	sb_release(&n.sb);
	free(n.origin);
	return -1;
}

static void expander_init(struct expander *x, const struct rules_collection *c, bool *used)
{
	size_t cap = 0;

	memset(x, 0, sizeof(*x));
	x->c = c;
	x->used = used;
	x->subs = rules_alloc((c->n_lists + 1) * sizeof(*x->subs));
	x->sub_too_long = rules_alloc((c->n_lists + 1) * sizeof(*x->sub_too_long));
	for (size_t i = 0; i < c->n_lists; i++) {
		const char *n = c->lists[i].name, *tok;
		size_t len, b;

		if (!n[strcspn(n, LIST_DELIMS)])
			continue;
		tok = n + strspn(n, LIST_DELIMS);
		len = strcspn(tok, LIST_DELIMS);
		if (!len) {
			rules_reserve(&x->always, &cap, x->n_always + 1, sizeof(*x->always));
			x->always[x->n_always++] = i;
			continue;
		}
		if (!rules_names_get(&x->first_tokens, tok, len, &b)) {
			b = x->n_buckets;
			rules_reserve(&x->buckets, &x->cap_buckets, b + 1, sizeof(*x->buckets));
			memset(&x->buckets[b], 0, sizeof(*x->buckets));
			x->n_buckets++;
			rules_names_put(&x->first_tokens, tok, len, b);
		}
		rules_reserve(&x->buckets[b].v, &x->buckets[b].cap, x->buckets[b].n + 1,
			      sizeof(*x->buckets[b].v));
		x->buckets[b].v[x->buckets[b].n++] = i;
	}
}

static void expander_free(struct expander *x)
{
	for (size_t i = 0; i < x->c->n_lists; i++)
		free(x->subs[i]);
	free(x->subs);
	free(x->sub_too_long);
	free(x->always);
	for (size_t i = 0; i < x->n_buckets; i++)
		free(x->buckets[i].v);
	free(x->buckets);
	rules_names_free(&x->first_tokens);
	free(x->heap);
}

/* Substitutes the lists into src (b.11.2). Returns 0, or -1 if the text would pass
 * MAX_COND_TEXT: out then holds src unsubstituted. */
static int expand(struct expander *x, const char *src, struct rules_cond *out)
{
	struct exp_text t = {STRBUF_INIT, NULL, 0};
	size_t len = strlen(src), last = SIZE_MAX;
	int rc = 0;

	sb_add(&t.sb, src, len);
	rules_reserve(&t.origin, &t.cap, len + 1, sizeof(*t.origin));
	for (size_t i = 0; i <= len; i++)
		t.origin[i] = i;
	x->n_heap = 0;
	queue_tokens(x, src, len, SIZE_MAX);
	for (size_t i = 0; i < x->n_always; i++)
		heap_push(x, x->always[i]);
	while (x->n_heap && !rc) {
		size_t li = heap_pop(x);

		if (li != last)
			rc = substitute(x, li, &t);
		last = li;
	}
	if (rc) {
		sb_reset(&t.sb);
		sb_add(&t.sb, src, len);
		rules_reserve(&t.origin, &t.cap, len + 1, sizeof(*t.origin));
		for (size_t i = 0; i <= len; i++)
			t.origin[i] = i;
	}
	out->source = rules_strdup(src);
	out->text = t.sb.buf;
	out->len = t.sb.len;
	out->origin = t.origin;
	return rc;
}

void rules_expand_lists(const struct rules_collection *c, const char *text, struct rules_cond *out)
{
	struct expander x;

	expander_init(&x, c, NULL);
	(void)expand(&x, text, out);
	expander_free(&x);
}

/* --- Exceptions (b.10) ------------------------------------------------------------------- */

/* The item being finished, for messages. With where set, the text is being rebuilt to find
 * what wrote byte want of it (rules_rule_locate): nothing is reported then. */
struct finishing {
	struct rules_collection *c;
	const struct rules_rule *r;
	const struct rules_exception *e;
	size_t want;
	struct rules_src_where *where;
	bool found;
};

/* The bytes [start, sb->len) just added were written at node at of file f: notes it when
 * locating and want is among them. */
static void placed(struct finishing *fin, const struct strbuf *sb, size_t start,
		   enum rules_src_kind kind, const struct rules_file *f,
		   const struct rules_node *at)
{
	if (!fin->where || fin->found || fin->want < start || fin->want >= sb->len)
		return;
	fin->found = true;
	fin->where->kind = kind;
	fin->where->exc = fin->e;
	fin->where->pos = node_pos(f, at);
}

static int exc_fail(const struct finishing *fin, const struct rules_file *f,
		    const struct rules_node *at, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

static int exc_fail(const struct finishing *fin, const struct rules_file *f,
		    const struct rules_node *at, const char *fmt, ...)
{
	char text[512];
	va_list ap;

	if (fin->where)
		return -1;
	va_start(ap, fmt);
	vsnprintf(text, sizeof(text), fmt, ap);
	va_end(ap);
	load_msg_add(&fin->c->msgs, LOAD_ERR_VALIDATE, f, at->line, at->col, RULES_ITEM_RULE,
		     fin->r->name, "exception '%s': %s", fin->e->name, text);
	return -1;
}

static const char *const plain_ops[] = {
    "=",	"==",	    "!=",	 "<",	      "<=",	    ">",
    ">=",	"contains", "icontains", "bcontains", "startswith", "bstartswith",
    "endswith", "glob",	    "iglob",	 "regex",     NULL};
static const char *const list_ops[] = {"in", "intersects", "pmatch", NULL};
/* plain_ops up to here take a modifier: every one but < <= > >= */
static const char *const modifiers[] = {"oneof", "anyof", "allof", NULL};

static bool in_words(const char *const *words, const char *s, size_t len)
{
	for (; *words; words++)
		if (strlen(*words) == len && memcmp(*words, s, len) == 0)
			return true;
	return false;
}

/* "<op> <modifier>", e.g. "startswith anyof" [libs>=0.25]. */
static bool is_modifier_op(const char *op)
{
	size_t n = strcspn(op, " \t");
	const char *mod = op + n + strspn(op + n, " \t");

	if (!n || mod == op + n || (n <= 2 && (op[0] == '<' || op[0] == '>')))
		return false;
	return in_words(plain_ops, op, n) && in_words(modifiers, mod, strlen(mod));
}

/* A comp from the file, whitespace-trimmed [master], into buf. */
static const char *comp_text(const struct rules_node *comp, char *buf, size_t size)
{
	const char *s = comp->text + strspn(comp->text, " \t\r\n");
	size_t n = strlen(s);

	while (n && isspace((unsigned char)s[n - 1]))
		n--;
	snprintf(buf, size, "%.*s", (int)n, s);
	return buf;
}

static bool takes_list(const char *op)
{
	return in_words(list_ops, op, strlen(op)) || is_modifier_op(op);
}

/* A value of file f, quoted as Q says. */
static void add_value(struct finishing *fin, struct strbuf *sb, const struct rules_file *f,
		      const struct rules_node *v)
{
	size_t start = sb->len;

	add_quoted(sb, v->text);
	placed(fin, sb, start, RULES_SRC_EXC_VALUE, f, v);
}

static void add_value_list(struct finishing *fin, struct strbuf *sb, const struct rules_file *f,
			   const struct rules_node *seq)
{
	size_t start = sb->len;

	sb_addc(sb, '(');
	for (size_t i = 0; i < seq->n; i++) {
		if (i)
			sb_adds(sb, ", ");
		add_value(fin, sb, f, seq->items[i]);
	}
	sb_addc(sb, ')');
	placed(fin, sb, start, RULES_SRC_EXC_VALUE, f, seq);
}

/* An exception's field (at) and its comp (op, written at comp, or the default: at the field),
 * each followed by a blank. */
static void add_field_comp(struct finishing *fin, struct strbuf *sb, const struct rules_node *at,
			   const struct rules_node *comp, const char *op)
{
	const struct rules_file *f = fin->e->pos.file;
	size_t start = sb->len;

	sb_adds(sb, at->text);
	placed(fin, sb, start, RULES_SRC_EXC_FIELD, f, at);
	sb_addc(sb, ' ');
	start = sb->len;
	sb_adds(sb, op);
	placed(fin, sb, start, RULES_SRC_EXC_COMP, f, comp ? comp : at);
	sb_addc(sb, ' ');
}

/* The condition text grew past MAX_COND_TEXT while the exception at was added (YAML aliases
 * let a small file repeat large values). */
static int too_long(const struct finishing *fin, const struct rules_file *f,
		    const struct rules_node *at)
{
	return exc_fail(fin, f, at, "its values make the condition longer than %u bytes",
			MAX_COND_TEXT);
}

/* fields: F, comps: OP (default "in"), values: [v, ...] */
static int single_field_text(struct finishing *fin, struct strbuf *sb)
{
	const struct rules_exception *e = fin->e;
	const struct rules_file *f = e->pos.file;
	char op[64] = "in";

	if (e->comps && e->comps->type != RULES_NODE_SCALAR)
		return exc_fail(fin, f, e->comps, "fields and comps must both be single values");
	if (e->comps)
		comp_text(e->comps, op, sizeof(op));
	if (e->comps && !takes_list(op))
		return exc_fail(fin, f, e->comps,
				"with a single field, comps must be in, pmatch, intersects or an "
				"operator with oneof/anyof/allof, not '%s'",
				op);
	for (size_t i = 0; i < e->n_values; i++)
		if (e->values[i].node->type != RULES_NODE_SCALAR)
			return exc_fail(fin, e->values[i].file, e->values[i].node,
					"with a single field, each of values must be a single "
					"value");
	if (!e->n_values)
		return 0;
	sb_adds(sb, " and not (");
	add_field_comp(fin, sb, e->fields, e->comps, op);
	sb_addc(sb, '(');
	for (size_t i = 0; i < e->n_values; i++) {
		if (i)
			sb_adds(sb, ", ");
		add_value(fin, sb, e->values[i].file, e->values[i].node);
		if (sb->len > MAX_COND_TEXT)
			return too_long(fin, e->values[i].file, e->values[i].node);
	}
	sb_adds(sb, "))");
	return 0;
}

/* The comps of a list-form exception, checked, into ops (default "="). */
static int tuple_comps(const struct finishing *fin, char (*ops)[64])
{
	const struct rules_exception *e = fin->e;
	size_t n = e->fields->n;

	for (size_t k = 0; k < n; k++)
		strcpy(ops[k], "=");
	if (!e->comps)
		return 0;
	if (e->comps->type != RULES_NODE_SEQ || e->comps->n != n)
		return exc_fail(fin, e->pos.file, e->comps,
				"fields and comps lists must have equal length");
	for (size_t k = 0; k < n; k++) {
		comp_text(e->comps->items[k], ops[k], sizeof(ops[k]));
		if (!in_words(plain_ops, ops[k], strlen(ops[k])) && !takes_list(ops[k]))
			return exc_fail(fin, e->pos.file, e->comps->items[k],
					"'%s' is not a comparison operator", ops[k]);
	}
	return 0;
}

/* One value tuple: "( F1 OP1 R1 and  F2 OP2 R2)" (b.10: each part starts with a blank and the
 * parts are joined by " and ", hence the two blanks). */
static int tuple_term(struct finishing *fin, char (*ops)[64], const struct rules_exc_values *tv,
		      struct strbuf *sb)
{
	const struct rules_exception *e = fin->e;
	const struct rules_node *tuple = tv->node;

	sb_addc(sb, '(');
	for (size_t k = 0; k < tuple->n; k++) {
		const struct rules_node *v = tuple->items[k];

		if (sb->len > MAX_COND_TEXT)
			return too_long(fin, tv->file, tuple);

		size_t start;

		sb_adds(sb, k ? " and  " : " ");
		add_field_comp(fin, sb, e->fields->items[k], e->comps ? e->comps->items[k] : NULL,
			       ops[k]);
		start = sb->len;
		if (v->type == RULES_NODE_SEQ)
			add_value_list(fin, sb, tv->file, v);
		else if (takes_list(ops[k]) && v->text[0] != '(')
			sb_addf(sb, "(%s)", v->text);
		else if (takes_list(ops[k]))
			sb_adds(sb, v->text);
		else
			add_quoted(sb, v->text);
		placed(fin, sb, start, RULES_SRC_EXC_VALUE, tv->file, v);
	}
	sb_addc(sb, ')');
	return 0;
}

/* fields: [F1, F2], comps: [OP1, OP2] (default =), values: [[v1, v2], ...] */
static int tuple_text(struct finishing *fin, struct strbuf *sb)
{
	const struct rules_exception *e = fin->e;
	size_t n = e->fields->n;
	char(*ops)[64] = rules_alloc((n + 1) * sizeof(*ops));
	int rc = tuple_comps(fin, ops);

	for (size_t i = 0; !rc && i < e->n_values; i++) {
		const struct rules_node *t = e->values[i].node;

		if (t->type != RULES_NODE_SEQ)
			rc = exc_fail(
			    fin, e->values[i].file, t,
			    "each entry of values must be a list with one value per field");
		else if (t->n != n)
			rc = exc_fail(fin, e->values[i].file, t,
				      "fields and values lists must have equal length (%zu fields, "
				      "%zu values)",
				      n, t->n);
	}
	if (!rc && e->n_values) {
		sb_adds(sb, " and not (");
		for (size_t i = 0; !rc && i < e->n_values; i++) {
			if (i)
				sb_adds(sb, " or ");
			rc = tuple_term(fin, ops, &e->values[i], sb);
		}
		sb_addc(sb, ')');
	}
	free(ops);
	return rc;
}

/* A rule's condition with its exceptions: "(" condition ")" and one "and not (...)" for
 * each exception with values (b.10). */
static int rule_text(struct finishing *fin, struct strbuf *sb)
{
	const struct rules_rule *r = fin->r;

	sb_addf(sb, "(%s)", r->condition);
	for (size_t i = 0; i < r->n_exceptions && !fin->found; i++) {
		size_t start = sb->len;

		fin->e = &r->exceptions[i];
		if (fin->e->fields->type == RULES_NODE_SCALAR ? single_field_text(fin, sb)
							      : tuple_text(fin, sb))
			return -1;
		if (fin->where && !fin->found && fin->want >= start && fin->want < sb->len) {
			fin->found = true;
			fin->where->kind = RULES_SRC_EXCEPTION;
			fin->where->exc = fin->e;
			fin->where->pos = fin->e->pos;
		}
	}
	return 0;
}

void rules_rule_locate(const struct rules_collection *c, const struct rules_rule *r, size_t src_off,
		       struct rules_src_where *out)
{
	size_t len = r->condition ? strlen(r->condition) : 0;
	struct finishing fin = {(struct rules_collection *)c, r, NULL, src_off, out, false};
	struct strbuf sb = STRBUF_INIT;

	memset(out, 0, sizeof(*out));
	out->kind = RULES_SRC_CONDITION;
	out->offset = src_off ? src_off - 1 : 0;
	if (src_off <= len + 1) {
		out->offset = out->offset < len ? out->offset : len;
		return;
	}
	out->offset = len;
	if (!r->condition)
		return;
	rule_text(&fin, &sb);
	sb_release(&sb);
}

/* --- Finishing ------------------------------------------------------------------------------ */

static bool is_word_char(char ch)
{
	return isalnum((unsigned char)ch) || ch == '_';
}

/* Marks the macros named as a whole word (letters, digits, '_', no dot) in text; a macro
 * does not count as using itself. */
static void mark_macro_words(struct rules_collection *c, const char *text, size_t self)
{
	const char *p = text;
	size_t i;

	while (*p) {
		const char *s = p;
		bool dotted = false;

		if (!is_word_char(*p)) {
			p++;
			continue;
		}
		for (; is_word_char(*p) || *p == '.'; p++)
			dotted |= *p == '.';
		if (!dotted && isalpha((unsigned char)*s) &&
		    rules_names_get(&c->state->macro_names, s, (size_t)(p - s), &i) && i != self)
			c->macros[i].used = true;
	}
}

/* A condition the lists would make longer than MAX_COND_TEXT (a macro keeps its text
 * unsubstituted; the error makes the load fail either way). */
static void cond_too_long(struct rules_collection *c, const struct rules_pos *pos,
			  enum rules_item_kind kind, const char *name)
{
	load_msg_add(&c->msgs, LOAD_ERR_COMPILE_CONDITION, pos->file, pos->line, pos->col, kind,
		     name, "condition longer than %u bytes once lists are substituted",
		     MAX_COND_TEXT);
}

int rules_collection_finish(struct rules_collection *c)
{
	struct expander x;
	bool *used;

	if (c->finished)
		return c->msgs.n_errors ? -1 : 0;
	c->finished = true;
	check_plugins(c);
	used = rules_alloc((c->n_lists + 1) * sizeof(*used));
	expand_list_items(c, used);
	expander_init(&x, c, used);
	for (size_t i = 0; i < c->n_macros; i++) {
		struct rules_macro *m = &c->macros[i];

		if (expand(&x, m->condition, &m->cond))
			cond_too_long(c, &m->cond_pos, RULES_ITEM_MACRO, m->name);
	}
	for (size_t i = 0; i < c->n_rules; i++) {
		struct rules_rule *r = &c->rules[i];
		struct finishing fin = {c, r, NULL, 0, NULL, false};
		struct strbuf sb = STRBUF_INIT;

		if (r->unknown_source)
			continue;
		if (rule_text(&fin, &sb)) {
			r->failed = true;
		} else if (expand(&x, sb.buf, &r->cond)) {
			cond_too_long(c, &r->cond_pos, RULES_ITEM_RULE, r->name);
			rules_cond_free(&r->cond);
			r->failed = true;
		}
		sb_release(&sb);
	}
	expander_free(&x);
	for (size_t i = 0; i < c->n_lists; i++)
		c->lists[i].used = used[i];
	free(used);
	for (size_t i = 0; i < c->n_macros; i++)
		mark_macro_words(c, c->macros[i].cond.text, i);
	for (size_t i = 0; i < c->n_rules; i++)
		if (c->rules[i].cond.text)
			mark_macro_words(c, c->rules[i].cond.text, SIZE_MAX);
	return c->msgs.n_errors ? -1 : 0;
}

void rules_collection_check_unused(struct rules_collection *c)
{
	if (!c->finished || c->msgs.n_errors)
		return;
	for (size_t i = 0; i < c->n_lists; i++) {
		const struct rules_list *l = &c->lists[i];

		if (!l->used)
			load_msg_add(&c->msgs, LOAD_UNUSED_LIST, l->pos.file, l->pos.line,
				     l->pos.col, RULES_ITEM_LIST, l->name,
				     "not used by any condition or list");
	}
	for (size_t i = 0; i < c->n_macros; i++) {
		const struct rules_macro *m = &c->macros[i];

		if (!m->used)
			load_msg_add(&c->msgs, LOAD_UNUSED_MACRO, m->pos.file, m->pos.line,
				     m->pos.col, RULES_ITEM_MACRO, m->name,
				     "not used by any rule or other macro");
	}
}
