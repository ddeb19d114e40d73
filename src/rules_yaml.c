#include "rules_yaml.h"

#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <stddef.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <yaml.h>

#include "rules_conf.h"

/* --- Codes and messages ------------------------------------------------------------------- */

static const struct {
	const char *name;
	const char *desc;
} load_codes[LOAD_CODE_COUNT] = {
    [LOAD_ERR_FILE_READ] = {"LOAD_ERR_FILE_READ", "File read error"},
    [LOAD_ERR_YAML_PARSE] = {"LOAD_ERR_YAML_PARSE", "YAML parse error"},
    [LOAD_ERR_YAML_VALIDATE] = {"LOAD_ERR_YAML_VALIDATE",
				"Error validating internal structure of YAML file"},
    [LOAD_ERR_COMPILE_CONDITION] = {"LOAD_ERR_COMPILE_CONDITION", "Error compiling condition"},
    [LOAD_ERR_COMPILE_OUTPUT] = {"LOAD_ERR_COMPILE_OUTPUT", "Error compiling output"},
    [LOAD_ERR_VALIDATE] = {"LOAD_ERR_VALIDATE",
			   "Error validating rule/macro/list/exception objects"},
    [LOAD_ERR_EXTENSION] = {"LOAD_ERR_EXTENSION", "Error in extension item"},
    [LOAD_UNKNOWN_SOURCE] = {"LOAD_UNKNOWN_SOURCE", "Unknown event source"},
    [LOAD_UNSAFE_NA_CHECK] = {"LOAD_UNSAFE_NA_CHECK", "Unsafe <NA> comparison in condition"},
    [LOAD_NO_EVTTYPE] = {"LOAD_NO_EVTTYPE", "Condition has no event-type restriction"},
    [LOAD_UNKNOWN_FILTER] = {"LOAD_UNKNOWN_FILTER",
			     "Unknown field or event-type in condition or output"},
    [LOAD_UNUSED_MACRO] = {"LOAD_UNUSED_MACRO", "Unused macro"},
    [LOAD_UNUSED_LIST] = {"LOAD_UNUSED_LIST", "Unused list"},
    [LOAD_UNKNOWN_ITEM] = {"LOAD_UNKNOWN_ITEM", "Unknown rules file item"},
    [LOAD_DEPRECATED_ITEM] = {"LOAD_DEPRECATED_ITEM", "Used deprecated item"},
    [LOAD_WARNING_EXTENSION] = {"LOAD_WARNING_EXTENSION", "Warning in extension item"},
    [LOAD_APPEND_NO_VALUES] = {"LOAD_APPEND_NO_VALUES", "Overriding/appending with no values"},
    [LOAD_EXCEPTION_NAME_NOT_UNIQUE] = {"LOAD_EXCEPTION_NAME_NOT_UNIQUE",
					"Multiple exceptions defined with the same name"},
    [LOAD_INVALID_MACRO_NAME] = {"LOAD_INVALID_MACRO_NAME", "Invalid macro name"},
    [LOAD_INVALID_LIST_NAME] = {"LOAD_INVALID_LIST_NAME", "Invalid list name"},
    [LOAD_COMPILE_CONDITION] = {"LOAD_COMPILE_CONDITION", "Warning in rule condition"},
    [LOAD_UNKNOWN_KEY] = {"LOAD_UNKNOWN_KEY", "Unknown key in item definition"},
};

const char *load_code_name(enum load_code code)
{
	return (unsigned)code < LOAD_CODE_COUNT ? load_codes[code].name : "LOAD_UNKNOWN_CODE";
}

const char *load_code_desc(enum load_code code)
{
	return (unsigned)code < LOAD_CODE_COUNT ? load_codes[code].desc : "Unknown code";
}

enum load_severity load_code_severity(enum load_code code)
{
	return code < LOAD_UNKNOWN_SOURCE ? LOAD_SEV_ERROR : LOAD_SEV_WARNING;
}

int load_code_from_name(const char *name)
{
	for (int i = 0; i < LOAD_CODE_COUNT; i++)
		if (strcmp(load_codes[i].name, name) == 0)
			return i;
	return -1;
}

const char *rules_item_kind_name(enum rules_item_kind kind)
{
	switch (kind) {
	case RULES_ITEM_ENGINE_VERSION:
		return "required_engine_version";
	case RULES_ITEM_PLUGIN_VERSIONS:
		return "required_plugin_versions";
	case RULES_ITEM_LIST:
		return "list";
	case RULES_ITEM_MACRO:
		return "macro";
	case RULES_ITEM_RULE:
		return "rule";
	case RULES_ITEM_UNKNOWN:
		break;
	}
	return "item";
}

static void *xmalloc(size_t size)
{
	void *p = malloc(size ? size : 1);

	if (!p) {
		fputs("saker: error: out of memory\n", stderr);
		abort();
	}
	return p;
}

void *rules_alloc(size_t size)
{
	return memset(xmalloc(size), 0, size);
}

char *rules_strdup(const char *s)
{
	size_t n = strlen(s) + 1;

	return memcpy(xmalloc(n), s, n);
}

void rules_reserve(void *v, size_t *cap, size_t need, size_t size)
{
	void *p;
	size_t ncap;

	if (need <= *cap)
		return;
	ncap = *cap ? *cap : 8;
	while (ncap < need)
		ncap *= 2;
	if (ncap > SIZE_MAX / size) {
		fputs("saker: error: array size overflow\n", stderr);
		abort();
	}
	memcpy(&p, v, sizeof(p));
	p = realloc(p, ncap * size);
	if (!p) {
		fputs("saker: error: out of memory\n", stderr);
		abort();
	}
	memcpy(v, &p, sizeof(p));
	*cap = ncap;
}

/* The source line at line (1-based) of f, at most 160 bytes, or NULL. */
static char *source_line(const struct rules_file *f, unsigned line)
{
	const char *s, *e;
	size_t n;

	if (!f || !line || line > f->n_lines)
		return NULL;
	s = f->buf + f->line_starts[line - 1];
	e = memchr(s, '\n', f->len - (size_t)(s - f->buf));
	n = e ? (size_t)(e - s) : strlen(s);
	if (n && s[n - 1] == '\r')
		n--;
	if (n > 160)
		n = 160;
	return strndup(s, n);
}

void load_msg_addv(struct load_msgs *m, enum load_code code, const struct rules_file *f,
		   unsigned line, unsigned col, enum rules_item_kind kind, const char *name,
		   const char *fmt, va_list ap)
{
	struct strbuf sb = STRBUF_INIT;
	struct load_msg *msg;
	char *text;

	if (vasprintf(&text, fmt, ap) < 0) {
		fputs("saker: error: out of memory\n", stderr);
		abort();
	}
	if (kind != RULES_ITEM_UNKNOWN && name)
		sb_addf(&sb, "%s '%s': ", rules_item_kind_name(kind), name);
	else if (kind != RULES_ITEM_UNKNOWN)
		sb_addf(&sb, "%s: ", rules_item_kind_name(kind));
	sb_adds(&sb, text);
	free(text);
	rules_reserve(&m->v, &m->cap, m->n + 1, sizeof(*m->v));
	msg = &m->v[m->n++];
	memset(msg, 0, sizeof(*msg));
	msg->severity = load_code_severity(code);
	msg->code = code;
	msg->file = f ? rules_strdup(f->path) : NULL;
	msg->line = line;
	msg->col = col;
	msg->item_kind = kind;
	msg->item_name = name ? rules_strdup(name) : NULL;
	msg->text = sb.buf;
	msg->snippet = source_line(f, line);
	if (msg->severity == LOAD_SEV_ERROR)
		m->n_errors++;
	else
		m->n_warnings++;
}

void load_msg_add(struct load_msgs *m, enum load_code code, const struct rules_file *f,
		  unsigned line, unsigned col, enum rules_item_kind kind, const char *name,
		  const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	load_msg_addv(m, code, f, line, col, kind, name, fmt, ap);
	va_end(ap);
}

void load_msgs_free(struct load_msgs *m)
{
	for (size_t i = 0; i < m->n; i++) {
		free(m->v[i].file);
		free(m->v[i].item_name);
		free(m->v[i].text);
		free(m->v[i].snippet);
	}
	free(m->v);
	memset(m, 0, sizeof(*m));
}

void load_msg_format(const struct load_msg *msg, bool snippet, struct strbuf *out)
{
	const char *sev = msg->severity == LOAD_SEV_ERROR ? "error" : "warning";

	if (msg->file && msg->line)
		sb_addf(out, "%s:%u:%u: ", msg->file, msg->line, msg->col);
	else if (msg->file)
		sb_addf(out, "%s: ", msg->file);
	sb_addf(out, "%s: %s [%s]\n", sev, msg->text, load_code_name(msg->code));
	if (!snippet || !msg->snippet)
		return;
	sb_addf(out, "    %s\n    ", msg->snippet);
	for (unsigned i = 0; i + 1 < msg->col && msg->snippet[i]; i++)
		sb_addc(out, msg->snippet[i] == '\t' ? '\t' : ' ');
	sb_adds(out, "^\n");
}

/* --- Memory for nodes and texts ----------------------------------------------------------- */

struct rules_arena {
	struct rules_arena *next;
	size_t used, cap;
	max_align_t data[];
};

#define ARENA_BLOCK (64 * 1024)

static void *arena_alloc(struct rules_arena **head, size_t size)
{
	struct rules_arena *a = *head;
	size_t al = sizeof(max_align_t);
	void *p;

	size = (size + al - 1) / al * al;
	if (!a || a->cap - a->used < size) {
		size_t cap = size > ARENA_BLOCK ? size : ARENA_BLOCK;

		a = xmalloc(sizeof(*a) + cap);
		a->next = *head;
		a->used = 0;
		a->cap = cap;
		*head = a;
	}
	p = (char *)a->data + a->used;
	a->used += size;
	return memset(p, 0, size);
}

static void arena_free(struct rules_arena *a)
{
	while (a) {
		struct rules_arena *next = a->next;

		free(a);
		a = next;
	}
}

/* --- Names ----------------------------------------------------------------------------- */

struct rules_name_slot {
	const char *name; /* NULL: empty slot */
	size_t len;
	size_t value;
};

static size_t name_hash(const char *s, size_t len)
{
	uint64_t h = 1469598103934665603ull;

	for (size_t i = 0; i < len; i++)
		h = (h ^ (unsigned char)s[i]) * 1099511628211ull;
	return (size_t)h;
}

static struct rules_name_slot *names_slot(const struct rules_names *t, const char *name, size_t len)
{
	size_t i = name_hash(name, len) & (t->cap - 1);

	while (t->slots[i].name &&
	       (t->slots[i].len != len || memcmp(t->slots[i].name, name, len) != 0))
		i = (i + 1) & (t->cap - 1);
	return &t->slots[i];
}

static void names_rehash(struct rules_names *t)
{
	struct rules_names old = *t;

	t->cap = old.cap ? old.cap * 2 : 64;
	t->slots = xmalloc(t->cap * sizeof(*t->slots));
	memset(t->slots, 0, t->cap * sizeof(*t->slots));
	for (size_t i = 0; i < old.cap; i++)
		if (old.slots[i].name)
			*names_slot(t, old.slots[i].name, old.slots[i].len) = old.slots[i];
	free(old.slots);
}

void rules_names_put(struct rules_names *t, const char *name, size_t len, size_t value)
{
	struct rules_name_slot *s;

	if ((t->n + 1) * 2 > t->cap)
		names_rehash(t);
	s = names_slot(t, name, len);
	if (!s->name)
		t->n++;
	s->name = name;
	s->len = len;
	s->value = value;
}

bool rules_names_get(const struct rules_names *t, const char *name, size_t len, size_t *value)
{
	const struct rules_name_slot *s;

	if (!t->n)
		return false;
	s = names_slot(t, name, len);
	if (!s->name)
		return false;
	*value = s->value;
	return true;
}

void rules_names_free(struct rules_names *t)
{
	free(t->slots);
	memset(t, 0, sizeof(*t));
}

/* --- Scalars ------------------------------------------------------------------------------ */

const struct rules_node *rules_node_key(const struct rules_node *map, const char *key)
{
	if (!map || map->type != RULES_NODE_MAP)
		return NULL;
	for (size_t i = 0; i < map->n; i++)
		if (strcmp(map->pairs[i].key->text, key) == 0)
			return map->pairs[i].key;
	return NULL;
}

const struct rules_node *rules_node_get(const struct rules_node *map, const char *key)
{
	if (!map || map->type != RULES_NODE_MAP)
		return NULL;
	for (size_t i = 0; i < map->n; i++)
		if (strcmp(map->pairs[i].key->text, key) == 0)
			return map->pairs[i].value;
	return NULL;
}

int rules_parse_bool(const char *text, bool *out)
{
	static const char *const yes[] = {"true", "True", "TRUE", "yes", "Yes", "YES",
					  "on",	  "On",	  "ON",	  "y",	 "Y",	NULL};
	static const char *const no[] = {"false", "False", "FALSE", "no", "No", "NO",
					 "off",	  "Off",   "OFF",   "n",  "N",	NULL};

	for (int i = 0; yes[i]; i++) {
		if (strcmp(text, yes[i]) == 0) {
			*out = true;
			return 0;
		}
		if (strcmp(text, no[i]) == 0) {
			*out = false;
			return 0;
		}
	}
	return -1;
}

static const char *const prio_names[] = {"Emergency", "Alert",	"Critical",	 "Error",
					 "Warning",   "Notice", "Informational", "Debug"};

int rules_priority_parse(const char *text, enum rules_priority *out)
{
	for (int i = 0; i <= RULES_PRIO_DEBUG; i++) {
		if (strcasecmp(text, prio_names[i]) == 0) {
			*out = (enum rules_priority)i;
			return 0;
		}
	}
	if (strcasecmp(text, "info") == 0) {
		*out = RULES_PRIO_INFORMATIONAL;
		return 0;
	}
	return -1;
}

const char *rules_priority_name(enum rules_priority prio)
{
	return (unsigned)prio <= RULES_PRIO_DEBUG ? prio_names[prio] : "Unknown";
}

/* Reads a decimal number without sign; advances *s. */
static int parse_decimal(const char **s, unsigned long *out)
{
	const char *p = *s;
	unsigned long v = 0;

	if (*p < '0' || *p > '9')
		return -1;
	for (; *p >= '0' && *p <= '9'; p++) {
		if (v > (ULONG_MAX - 9) / 10)
			return -1;
		v = v * 10 + (unsigned long)(*p - '0');
	}
	*s = p;
	*out = v;
	return 0;
}

int rules_version_parse(const char *text, bool allow_number, struct rules_version *out)
{
	const char *p = text;

	memset(out, 0, sizeof(*out));
	if (parse_decimal(&p, &out->major))
		return -1;
	if (!*p && allow_number) {
		out->minor = out->major;
		out->major = 0;
		return 0;
	}
	if (*p++ != '.' || parse_decimal(&p, &out->minor) || *p++ != '.' ||
	    parse_decimal(&p, &out->patch))
		return -1;
	if (*p == '-' || *p == '+') {
		/* pre-release and build labels: checked for shape, ignored in comparisons */
		for (p++; *p; p++)
			if (!(*p == '.' || *p == '-' || *p == '+' || (*p >= '0' && *p <= '9') ||
			      (*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z')))
				return -1;
		return p[-1] == '-' || p[-1] == '+' || p[-1] == '.' ? -1 : 0;
	}
	return *p ? -1 : 0;
}

int rules_version_cmp(const struct rules_version *a, const struct rules_version *b)
{
	if (a->major != b->major)
		return a->major < b->major ? -1 : 1;
	if (a->minor != b->minor)
		return a->minor < b->minor ? -1 : 1;
	if (a->patch != b->patch)
		return a->patch < b->patch ? -1 : 1;
	return 0;
}

/* --- Item checks ------------------------------------------------------------------------ */

#define KIND_BIT(k) (1u << (k))
#define K_ENGINE    KIND_BIT(RULES_ITEM_ENGINE_VERSION)
#define K_PLUGINS   KIND_BIT(RULES_ITEM_PLUGIN_VERSIONS)
#define K_LIST	    KIND_BIT(RULES_ITEM_LIST)
#define K_MACRO	    KIND_BIT(RULES_ITEM_MACRO)
#define K_RULE	    KIND_BIT(RULES_ITEM_RULE)
#define K_DEFS	    (K_LIST | K_MACRO | K_RULE)

enum shape {
	SH_NAME,     /* a non-empty single value */
	SH_TEXT,     /* a non-empty single value */
	SH_OPT_TEXT, /* a single value, may be empty or null */
	SH_BOOL,
	SH_INT,
	SH_PRIORITY,
	SH_SEQ,	       /* a sequence of single values */
	SH_EXCEPTIONS, /* b.10 */
	SH_OVERRIDE,   /* b.8 */
	SH_VERSION,    /* b.2 */
	SH_PLUGINS,    /* b.3 */
};

/* Every key of every item kind (b.1-b.6), and what `override` may do with it (b.8). */
static const struct key_spec {
	const char *name;
	unsigned kinds;
	enum shape shape;
	unsigned may_append, may_replace;
} key_specs[] = {
    {"required_engine_version", K_ENGINE, SH_VERSION, 0, 0},
    {"required_plugin_versions", K_PLUGINS, SH_PLUGINS, 0, 0},
    {"list", K_LIST, SH_NAME, 0, 0},
    {"macro", K_MACRO, SH_NAME, 0, 0},
    {"rule", K_RULE, SH_NAME, 0, 0},
    {"items", K_LIST, SH_SEQ, K_LIST, K_LIST},
    {"condition", K_MACRO | K_RULE, SH_TEXT, K_MACRO | K_RULE, K_MACRO | K_RULE},
    {"output", K_RULE, SH_TEXT, K_RULE, K_RULE},
    {"desc", K_RULE, SH_TEXT, K_RULE, K_RULE},
    {"priority", K_RULE, SH_PRIORITY, 0, K_RULE},
    {"source", K_RULE, SH_OPT_TEXT, 0, 0},
    {"enabled", K_RULE, SH_BOOL, 0, K_RULE},
    {"tags", K_RULE, SH_SEQ, K_RULE, K_RULE},
    {"exceptions", K_RULE, SH_EXCEPTIONS, K_RULE, K_RULE},
    {"warn_evttypes", K_RULE, SH_BOOL, 0, K_RULE},
    {"skip-if-unknown-filter", K_RULE, SH_BOOL, 0, K_RULE},
    {"capture", K_RULE, SH_BOOL, 0, K_RULE},
    {"capture_duration", K_RULE, SH_INT, 0, K_RULE},
    {"append", K_DEFS, SH_BOOL, 0, 0},
    {"override", K_DEFS, SH_OVERRIDE, 0, 0},
};

#define NKEY_SPECS (sizeof(key_specs) / sizeof(key_specs[0]))

static const struct key_spec *key_spec_find(const char *name, enum rules_item_kind kind)
{
	for (size_t i = 0; i < NKEY_SPECS; i++)
		if ((key_specs[i].kinds & KIND_BIT(kind)) && strcmp(key_specs[i].name, name) == 0)
			return &key_specs[i];
	return NULL;
}

/* The item being checked, for messages. */
struct check {
	struct load_msgs *msgs;
	const struct rules_file *f;
	enum rules_item_kind kind;
	const char *name;
	const struct rules_node *map;
	enum rules_item_mode mode;
	bool appending_exceptions; /* an append: exceptions without values get a warning */
};

static int fail(const struct check *c, const struct rules_node *at, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static void warn(const struct check *c, enum load_code code, const struct rules_node *at,
		 const char *fmt, ...) __attribute__((format(printf, 4, 5)));

static void vreport(const struct check *c, enum load_code code, const struct rules_node *at,
		    const char *fmt, va_list ap) __attribute__((format(printf, 4, 0)));

static void vreport(const struct check *c, enum load_code code, const struct rules_node *at,
		    const char *fmt, va_list ap)
{
	load_msg_addv(c->msgs, code, c->f, at->line, at->col, c->kind, c->name, fmt, ap);
}

/* Records a LOAD_ERR_YAML_VALIDATE error at node at; returns -1. */
static int fail(const struct check *c, const struct rules_node *at, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vreport(c, LOAD_ERR_YAML_VALIDATE, at, fmt, ap);
	va_end(ap);
	return -1;
}

static void warn(const struct check *c, enum load_code code, const struct rules_node *at,
		 const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vreport(c, code, at, fmt, ap);
	va_end(ap);
}

static const char *node_what(const struct rules_node *n)
{
	switch (n->type) {
	case RULES_NODE_SEQ:
		return "a sequence";
	case RULES_NODE_MAP:
		return "a mapping";
	case RULES_NODE_SCALAR:
		break;
	}
	return "a single value";
}

/* A single value under key (the key node is k, for messages about a missing value). */
static int check_scalar(const struct check *c, const struct rules_node *k,
			const struct rules_node *v, bool may_be_empty)
{
	if (v->is_null && !may_be_empty)
		return fail(c, k, "key '%s' has no value", k->text);
	if (v->type != RULES_NODE_SCALAR)
		return fail(c, v, "key '%s' must be a single value, not %s", k->text, node_what(v));
	if (!may_be_empty && !v->len)
		return fail(c, v, "key '%s' must not be empty", k->text);
	return 0;
}

static int check_bool(const struct check *c, const struct rules_node *k, const struct rules_node *v)
{
	bool b;

	if (check_scalar(c, k, v, false))
		return -1;
	if (rules_parse_bool(v->text, &b))
		return fail(c, v, "key '%s' must be true or false, not '%s'", k->text, v->text);
	return 0;
}

/* A whole number, C-style (decimal, 0x hex or 0 octal), not negative. */
static int check_int(const struct check *c, const struct rules_node *k, const struct rules_node *v)
{
	char *end;

	if (check_scalar(c, k, v, false))
		return -1;
	errno = 0;
	(void)strtoll(v->text, &end, 0);
	if (*end || errno || v->text[0] == '-')
		return fail(c, v, "key '%s' must be a whole number, not '%s'", k->text, v->text);
	return 0;
}

static int check_priority(const struct check *c, const struct rules_node *k,
			  const struct rules_node *v)
{
	enum rules_priority p;

	if (check_scalar(c, k, v, false))
		return -1;
	if (rules_priority_parse(v->text, &p))
		return fail(c, v,
			    "invalid priority '%s' (expected emergency, alert, critical, error, "
			    "warning, notice, informational, info or debug)",
			    v->text);
	return 0;
}

/* An entry of a sequence of single values: not null, not a collection. what names it. */
static int check_seq_entry(const struct check *c, const char *what, size_t i,
			   const struct rules_node *e)
{
	if (e->is_null)
		return fail(c, e, "%s: entry %zu has no value", what, i + 1);
	if (e->type != RULES_NODE_SCALAR)
		return fail(c, e, "%s: entry %zu must be a single value, not %s", what, i + 1,
			    node_what(e));
	return 0;
}

static int check_seq(const struct check *c, const struct rules_node *k, const struct rules_node *v)
{
	char what[64];

	if (v->is_null)
		return fail(c, k, "key '%s' has no value", k->text);
	if (v->type != RULES_NODE_SEQ)
		return fail(c, v, "key '%s' must be a sequence, not %s", k->text, node_what(v));
	snprintf(what, sizeof(what), "key '%s'", k->text);
	for (size_t i = 0; i < v->n; i++)
		if (check_seq_entry(c, what, i, v->items[i]))
			return -1;
	return 0;
}

/* fields and comps: one non-empty value, or a sequence of them. */
static int check_exception_fields(const struct check *c, const char *exc,
				  const struct rules_node *k, const struct rules_node *v)
{
	char what[200];

	snprintf(what, sizeof(what), "exception '%s': key '%s'", exc, k->text);
	if (v->is_null)
		return fail(c, k, "%s has no value", what);
	if (v->type == RULES_NODE_SCALAR)
		return v->len ? 0 : fail(c, v, "%s must not be empty", what);
	if (v->type != RULES_NODE_SEQ)
		return fail(c, v, "%s must be a value or a sequence, not %s", what, node_what(v));
	for (size_t i = 0; i < v->n; i++)
		if (check_seq_entry(c, what, i, v->items[i]))
			return -1;
	return 0;
}

/* values: a sequence whose entries are values or sequences of (values or sequences of
 * values): [[a, [b, c]], ...] or [a, b]. Which shape fits the fields is checked later. */
static int check_exception_values(const struct check *c, const char *exc,
				  const struct rules_node *k, const struct rules_node *v)
{
	char what[200];

	snprintf(what, sizeof(what), "exception '%s': key 'values'", exc);
	if (v->is_null)
		return fail(c, k, "%s has no value", what);
	if (v->type != RULES_NODE_SEQ)
		return fail(c, v, "%s must be a sequence, not %s", what, node_what(v));
	for (size_t i = 0; i < v->n; i++) {
		const struct rules_node *t = v->items[i];

		if (t->type != RULES_NODE_SEQ) {
			if (check_seq_entry(c, what, i, t))
				return -1;
			continue;
		}
		for (size_t j = 0; j < t->n; j++) {
			const struct rules_node *e = t->items[j];

			if (e->type != RULES_NODE_SEQ) {
				if (check_seq_entry(c, what, i, e))
					return -1;
				continue;
			}
			for (size_t l = 0; l < e->n; l++)
				if (check_seq_entry(c, what, i, e->items[l]))
					return -1;
		}
	}
	return 0;
}

static int check_exception(const struct check *c, size_t i, const struct rules_node *e)
{
	const struct rules_node *name = rules_node_get(e, "name");
	const struct rules_node *k;

	if (e->type != RULES_NODE_MAP)
		return fail(c, e, "exception %zu must be a mapping, not %s", i + 1,
			    e->is_null ? "null" : node_what(e));
	if (!name)
		return fail(c, e, "exception %zu has no key 'name'", i + 1);
	if (check_scalar(c, rules_node_key(e, "name"), name, false))
		return -1;
	for (size_t p = 0; p < e->n; p++) {
		k = e->pairs[p].key;
		if (strcmp(k->text, "fields") == 0 || strcmp(k->text, "comps") == 0) {
			if (check_exception_fields(c, name->text, k, e->pairs[p].value))
				return -1;
		} else if (strcmp(k->text, "values") == 0) {
			if (check_exception_values(c, name->text, k, e->pairs[p].value))
				return -1;
		} else if (strcmp(k->text, "name") != 0) {
			warn(c, LOAD_UNKNOWN_KEY, k, "exception '%s': unknown key '%s' (ignored)",
			     name->text, k->text);
		}
	}
	if (c->appending_exceptions && !rules_node_get(e, "values"))
		warn(c, LOAD_APPEND_NO_VALUES, e, "exception '%s': appended with no values",
		     name->text);
	return 0;
}

static int check_exceptions(const struct check *c, const struct rules_node *k,
			    const struct rules_node *v)
{
	struct rules_names seen = {0};
	size_t first;

	if (v->is_null)
		return fail(c, k, "key 'exceptions' has no value");
	if (v->type != RULES_NODE_SEQ)
		return fail(c, v, "key 'exceptions' must be a sequence, not %s", node_what(v));
	for (size_t i = 0; i < v->n; i++) {
		const struct rules_node *name;

		if (check_exception(c, i, v->items[i])) {
			rules_names_free(&seen);
			return -1;
		}
		name = rules_node_get(v->items[i], "name");
		if (rules_names_get(&seen, name->text, name->len, &first))
			warn(c, LOAD_EXCEPTION_NAME_NOT_UNIQUE, v->items[i],
			     "exception '%s' is defined more than once", name->text);
		else
			rules_names_put(&seen, name->text, name->len, i);
	}
	rules_names_free(&seen);
	return 0;
}

/* One plugin requirement: name, version and (not inside alternatives) alternatives. */
static int check_plugin(const struct check *c, const struct rules_node *e, bool top)
{
	static const char *const req[] = {"name", "version"};
	const char *what = top ? "plugin requirement" : "alternative";

	if (e->type != RULES_NODE_MAP)
		return fail(c, e, "%s must be a mapping, not %s", what,
			    e->is_null ? "null" : node_what(e));
	for (int i = 0; i < 2; i++) {
		const struct rules_node *v = rules_node_get(e, req[i]);

		if (!v)
			return fail(c, e, "%s has no key '%s'", what, req[i]);
		if (check_scalar(c, rules_node_key(e, req[i]), v, false))
			return -1;
	}
	for (size_t p = 0; p < e->n; p++) {
		const struct rules_node *k = e->pairs[p].key, *v = e->pairs[p].value;

		if (top && strcmp(k->text, "alternatives") == 0) {
			if (v->type != RULES_NODE_SEQ)
				return fail(c, v->is_null ? k : v,
					    "key 'alternatives' must be a sequence, not %s",
					    v->is_null ? "null" : node_what(v));
			for (size_t i = 0; i < v->n; i++)
				if (check_plugin(c, v->items[i], false))
					return -1;
		} else if (strcmp(k->text, "name") != 0 && strcmp(k->text, "version") != 0) {
			warn(c, LOAD_UNKNOWN_KEY, k, "%s: unknown key '%s' (ignored)", what,
			     k->text);
		}
	}
	return 0;
}

static int check_plugins(const struct check *c, const struct rules_node *k,
			 const struct rules_node *v)
{
	if (v->is_null)
		return fail(c, k, "key '%s' has no value", k->text);
	if (v->type != RULES_NODE_SEQ)
		return fail(c, v, "key '%s' must be a sequence, not %s", k->text, node_what(v));
	for (size_t i = 0; i < v->n; i++)
		if (check_plugin(c, v->items[i], true))
			return -1;
	return 0;
}

static int check_version(const struct check *c, const struct rules_node *k,
			 const struct rules_node *v)
{
	struct rules_version ver;

	if (check_scalar(c, k, v, false))
		return -1;
	if (rules_version_parse(v->text, true, &ver))
		return fail(c, v, "cannot parse engine version '%s' (expected x.y.z or a number)",
			    v->text);
	return 0;
}

/* The override mapping itself (b.8); which keys it may name depends on the item kind. */
static int check_override(const struct check *c, const struct rules_node *k,
			  const struct rules_node *v)
{
	if (v->is_null)
		return fail(c, k, "key 'override' has no value");
	if (v->type != RULES_NODE_MAP)
		return fail(c, v, "key 'override' must be a mapping, not %s", node_what(v));
	if (!v->n)
		return fail(c, v, "key 'override' names no key");
	for (size_t i = 0; i < v->n; i++) {
		const struct rules_node *ok = v->pairs[i].key, *op = v->pairs[i].value;
		const struct key_spec *spec = key_spec_find(ok->text, c->kind);
		bool append;

		if (op->type != RULES_NODE_SCALAR ||
		    (strcmp(op->text, "append") != 0 && strcmp(op->text, "replace") != 0))
			return fail(c, op, "override of '%s' must be append or replace, not '%s'",
				    ok->text,
				    op->type == RULES_NODE_SCALAR ? op->text : node_what(op));
		append = op->text[0] == 'a';
		if (append && !(spec && (spec->may_append & KIND_BIT(c->kind))))
			return fail(c, ok, "key '%s' cannot be appended to, use 'replace' instead",
				    ok->text);
		if (!append && !(spec && (spec->may_replace & KIND_BIT(c->kind))))
			return fail(c, ok, "key '%s' cannot be replaced", ok->text);
		if (!rules_node_get(c->map, ok->text))
			return fail(c, ok,
				    "'override: {%s: %s}' was given but the item has no '%s'",
				    ok->text, op->text, ok->text);
	}
	return 0;
}

/* Every overridable key an override item carries must be listed under override. */
static int check_override_covers(const struct check *c, const struct rules_node *ovr)
{
	for (size_t i = 0; i < c->map->n; i++) {
		const struct rules_node *k = c->map->pairs[i].key;
		const struct key_spec *spec = key_spec_find(k->text, c->kind);

		if (spec && ((spec->may_append | spec->may_replace) & KIND_BIT(c->kind)) &&
		    !rules_node_get(ovr, k->text))
			return fail(c, k, "key '%s' has no entry under 'override'", k->text);
	}
	return 0;
}

static int check_value(const struct check *c, const struct key_spec *spec,
		       const struct rules_node *k, const struct rules_node *v)
{
	switch (spec->shape) {
	case SH_NAME:
	case SH_TEXT:
		return check_scalar(c, k, v, false);
	case SH_OPT_TEXT:
		return v->is_null ? 0 : check_scalar(c, k, v, true);
	case SH_BOOL:
		return check_bool(c, k, v);
	case SH_INT:
		return check_int(c, k, v);
	case SH_PRIORITY:
		return check_priority(c, k, v);
	case SH_SEQ:
		return check_seq(c, k, v);
	case SH_EXCEPTIONS:
		return check_exceptions(c, k, v);
	case SH_OVERRIDE:
		return check_override(c, k, v);
	case SH_VERSION:
		return check_version(c, k, v);
	case SH_PLUGINS:
		return check_plugins(c, k, v);
	}
	return 0;
}

static enum rules_item_kind item_kind(const struct rules_node *map)
{
	static const struct {
		const char *key;
		enum rules_item_kind kind;
	} order[] = {
	    {"required_engine_version", RULES_ITEM_ENGINE_VERSION},
	    {"required_plugin_versions", RULES_ITEM_PLUGIN_VERSIONS},
	    {"list", RULES_ITEM_LIST},
	    {"macro", RULES_ITEM_MACRO},
	    {"rule", RULES_ITEM_RULE},
	};

	for (size_t i = 0; i < sizeof(order) / sizeof(order[0]); i++)
		if (rules_node_get(map, order[i].key))
			return order[i].kind;
	return RULES_ITEM_UNKNOWN;
}

static bool is_identifier(const char *s)
{
	if (!((*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z')))
		return false;
	for (s++; *s; s++)
		if (!((*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z') ||
		      (*s >= '0' && *s <= '9') || *s == '_'))
			return false;
	return true;
}

static bool is_bare_string(const char *s)
{
	return *s && !s[strcspn(s, "()\"' \t\n\v\f\r=,")];
}

static void check_name(const struct check *c, const struct rules_node *v)
{
	if (c->kind == RULES_ITEM_MACRO && !is_identifier(v->text))
		warn(c, LOAD_INVALID_MACRO_NAME, v,
		     "name is not an identifier ([a-zA-Z][a-zA-Z0-9_]*): no condition can use it");
	if (c->kind == RULES_ITEM_LIST && !is_bare_string(v->text))
		warn(c, LOAD_INVALID_LIST_NAME, v,
		     "name is not a bare string (no blanks, quotes, parentheses, '=' or ','): "
		     "conditions can use it only by accident");
}

static bool item_flag(const struct rules_node *map, const char *key)
{
	const struct rules_node *v = rules_node_get(map, key);
	bool b = false;

	if (v)
		rules_parse_bool(v->text, &b);
	return b;
}

static bool has_any(const struct rules_node *map, const char *const *keys)
{
	for (; *keys; keys++)
		if (rules_node_get(map, *keys))
			return true;
	return false;
}

/* Which of define, append, override, enable-only a list, macro or rule item is (b.6, b.8),
 * and the keys that mode requires. */
static int check_mode(struct check *c)
{
	static const char *const rule_keys[] = {"condition", "output", "desc", "priority", NULL};
	static const char *const list_keys[] = {"items", NULL};
	static const char *const macro_keys[] = {"condition", NULL};
	static const char *const append_keys[] = {"condition", "exceptions", NULL};
	const struct rules_node *ovr = rules_node_get(c->map, "override");
	const char *const *required = c->kind == RULES_ITEM_LIST    ? list_keys
				      : c->kind == RULES_ITEM_MACRO ? macro_keys
								    : rule_keys;
	bool append = item_flag(c->map, "append");

	if (ovr && append)
		return fail(c, rules_node_key(c->map, "override"),
			    "keys 'override' and 'append: true' cannot be used together; put an "
			    "'append' entry under 'override' instead");
	if (ovr) {
		c->mode = RULES_MODE_OVERRIDE;
		return check_override_covers(c, ovr);
	}
	if (append) {
		c->mode = RULES_MODE_APPEND;
		warn(c, LOAD_DEPRECATED_ITEM, rules_node_key(c->map, "append"),
		     "'append: true' is deprecated; use 'override' instead");
		if (c->kind == RULES_ITEM_RULE) {
			if (!has_any(c->map, append_keys))
				return fail(c, c->map,
					    "an append needs a 'condition' or 'exceptions'");
			return 0;
		}
	} else if (c->kind == RULES_ITEM_RULE && !has_any(c->map, rule_keys) &&
		   rules_node_get(c->map, "enabled")) {
		c->mode = RULES_MODE_ENABLE_ONLY;
		warn(c, LOAD_DEPRECATED_ITEM, c->map,
		     "an item with only 'enabled' is deprecated; use 'override: {enabled: "
		     "replace}' instead");
		return 0;
	} else {
		c->mode = RULES_MODE_DEFINE;
	}
	for (; *required; required++)
		if (!rules_node_get(c->map, *required))
			return fail(c, c->map, "missing key '%s'", *required);
	return 0;
}

/* Does an item append exceptions (so exceptions without values get a warning)? */
static bool appends_exceptions(const struct rules_node *map)
{
	const struct rules_node *ovr = rules_node_get(map, "override");
	const struct rules_node *op = rules_node_get(ovr, "exceptions");

	if (op)
		return op->type == RULES_NODE_SCALAR && strcmp(op->text, "append") == 0;
	return !ovr && item_flag(map, "append");
}

/* Checks the name and every key of a known item, and decides its mode. */
static int read_keys(struct check *c)
{
	const struct rules_node *name = NULL;

	if (c->kind >= RULES_ITEM_LIST) {
		const struct rules_node *k = rules_node_key(c->map, rules_item_kind_name(c->kind));

		name = rules_node_get(c->map, k->text);
		if (check_scalar(c, k, name, false))
			return -1;
		c->name = name->text;
	}
	c->appending_exceptions = c->kind == RULES_ITEM_RULE && appends_exceptions(c->map);
	for (size_t i = 0; i < c->map->n; i++) {
		const struct rules_node *k = c->map->pairs[i].key;
		const struct key_spec *spec = key_spec_find(k->text, c->kind);

		if (!spec)
			warn(c, LOAD_UNKNOWN_KEY, k, "unknown key '%s' (ignored)", k->text);
		else if (check_value(c, spec, k, c->map->pairs[i].value))
			return -1;
	}
	if (c->kind >= RULES_ITEM_LIST && check_mode(c))
		return -1;
	if (name && c->mode == RULES_MODE_DEFINE)
		check_name(c, name);
	return 0;
}

/* Checks one element of the top-level sequence and adds it to f->items (unknown items too,
 * after their warning: the collector ignores them). */
static int read_item(struct rules_file *f, size_t *cap, const struct rules_node *map,
		     struct load_msgs *msgs)
{
	struct check c = {.msgs = msgs, .f = f, .map = map};
	struct rules_item *item;

	if (map->is_null)
		return 0;
	if (map->type != RULES_NODE_MAP)
		return fail(&c, map, "unexpected %s where an item (a mapping) was expected",
			    map->type == RULES_NODE_SEQ ? "sequence" : "single value");
	c.kind = item_kind(map);
	if (c.kind == RULES_ITEM_UNKNOWN)
		warn(&c, LOAD_UNKNOWN_ITEM, map, "unknown top-level item with key '%s' (ignored)",
		     map->n ? map->pairs[0].key->text : "");
	else if (read_keys(&c))
		return -1;
	rules_reserve(&f->items, cap, f->n_items + 1, sizeof(*f->items));
	item = &f->items[f->n_items++];
	item->kind = c.kind;
	item->mode = c.mode;
	item->name = c.name;
	item->map = map;
	item->line = map->line;
	item->col = map->col;
	return 0;
}

static int read_document(struct rules_file *f, size_t *cap, const struct rules_node *root,
			 struct load_msgs *msgs)
{
	if (root->is_null)
		return 0;
	if (root->type != RULES_NODE_SEQ) {
		load_msg_add(msgs, LOAD_ERR_YAML_VALIDATE, f, root->line, root->col,
			     RULES_ITEM_UNKNOWN, NULL,
			     "rules content must be a sequence of items, not %s", node_what(root));
		return -1;
	}
	for (size_t i = 0; i < root->n; i++)
		if (read_item(f, cap, root->items[i], msgs))
			return -1;
	return 0;
}

/* --- From libyaml events to nodes ----------------------------------------------------- */

struct frame {
	struct rules_node *node;
	const struct rules_node **kids; /* a sequence's items, or a mapping's keys and values */
	size_t n, cap;
	char *anchor;
};

struct anchor {
	char *name;
	const struct rules_node *node;
};

struct builder {
	struct rules_file *f;
	struct load_msgs *msgs;
	struct frame frames[RULES_YAML_MAX_DEPTH];
	unsigned depth;
	const struct rules_node *root;
	struct anchor *anchors;
	size_t n_anchors, cap_anchors;
	struct rules_names anchor_names;
	size_t cap_items;
};

static int build_error(struct builder *b, enum load_code code, yaml_mark_t mark, const char *fmt,
		       ...) __attribute__((format(printf, 4, 5)));

static int build_error(struct builder *b, enum load_code code, yaml_mark_t mark, const char *fmt,
		       ...)
{
	va_list ap;

	va_start(ap, fmt);
	load_msg_addv(b->msgs, code, b->f, (unsigned)mark.line + 1, (unsigned)mark.column + 1,
		      RULES_ITEM_UNKNOWN, NULL, fmt, ap);
	va_end(ap);
	return -1;
}

static struct rules_node *new_node(struct builder *b, enum rules_node_type type, yaml_mark_t mark)
{
	struct rules_node *n = arena_alloc(&b->f->arena, sizeof(*n));

	n->type = type;
	n->line = (unsigned)mark.line + 1;
	n->col = (unsigned)mark.column + 1;
	return n;
}

static void anchors_clear(struct builder *b)
{
	for (size_t i = 0; i < b->n_anchors; i++)
		free(b->anchors[i].name);
	b->n_anchors = 0;
	rules_names_free(&b->anchor_names);
}

static void anchor_set(struct builder *b, char *name, const struct rules_node *node)
{
	if (!name)
		return;
	rules_reserve(&b->anchors, &b->cap_anchors, b->n_anchors + 1, sizeof(*b->anchors));
	b->anchors[b->n_anchors].name = name;
	b->anchors[b->n_anchors].node = node;
	rules_names_put(&b->anchor_names, name, strlen(name), b->n_anchors);
	b->n_anchors++;
}

/* Hands a finished node to the collection being built, or makes it the document's root. */
static int add_child(struct builder *b, const struct rules_node *node)
{
	struct frame *fr;

	if (!b->depth) {
		b->root = node;
		return 0;
	}
	fr = &b->frames[b->depth - 1];
	if (fr->node->type == RULES_NODE_MAP && !(fr->n & 1) && node->type != RULES_NODE_SCALAR) {
		load_msg_add(b->msgs, LOAD_ERR_YAML_VALIDATE, b->f, node->line, node->col,
			     RULES_ITEM_UNKNOWN, NULL, "mapping keys must be single values, not %s",
			     node_what(node));
		return -1;
	}
	rules_reserve(&fr->kids, &fr->cap, fr->n + 1, sizeof(*fr->kids));
	fr->kids[fr->n++] = node;
	return 0;
}

static bool plain_null(const yaml_event_t *ev)
{
	static const char *const nulls[] = {"", "~", "null", "Null", "NULL", NULL};

	if (ev->data.scalar.style != YAML_PLAIN_SCALAR_STYLE || ev->data.scalar.tag)
		return false;
	for (int i = 0; nulls[i]; i++)
		if (strcmp((const char *)ev->data.scalar.value, nulls[i]) == 0)
			return true;
	return false;
}

static int on_scalar(struct builder *b, const yaml_event_t *ev)
{
	struct rules_node *n = new_node(b, RULES_NODE_SCALAR, ev->start_mark);
	size_t len = ev->data.scalar.length;
	char *text;

	if (strlen((const char *)ev->data.scalar.value) != len)
		return build_error(b, LOAD_ERR_YAML_VALIDATE, ev->start_mark,
				   "value contains a NUL byte");
	text = arena_alloc(&b->f->arena, len + 1);
	memcpy(text, ev->data.scalar.value, len);
	n->text = text;
	n->len = len;
	n->is_null = plain_null(ev);
	if (ev->data.scalar.anchor)
		anchor_set(b, rules_strdup((const char *)ev->data.scalar.anchor), n);
	return add_child(b, n);
}

static int on_start(struct builder *b, const yaml_event_t *ev, enum rules_node_type type)
{
	const yaml_char_t *anchor =
	    type == RULES_NODE_SEQ ? ev->data.sequence_start.anchor : ev->data.mapping_start.anchor;
	struct frame *fr;

	if (b->depth == RULES_YAML_MAX_DEPTH)
		return build_error(b, LOAD_ERR_YAML_PARSE, ev->start_mark,
				   "YAML nesting deeper than %d levels", RULES_YAML_MAX_DEPTH);
	fr = &b->frames[b->depth++];
	fr->node = new_node(b, type, ev->start_mark);
	fr->n = 0;
	fr->anchor = anchor ? rules_strdup((const char *)anchor) : NULL;
	return 0;
}

/* A key given twice in one mapping: YAML forbids it, but libyaml (like the reference
 * loader's yaml-cpp) accepts it, and every lookup finds the first. Warn about each later
 * one, whose value is ignored. Hashed, so a mapping of many keys stays linear. */
static void warn_repeated_keys(struct builder *b, const struct rules_node *map)
{
	struct rules_names seen = {0};
	size_t first;

	if (map->n < 2)
		return;
	for (size_t i = 0; i < map->n; i++) {
		const struct rules_node *k = map->pairs[i].key;

		if (!rules_names_get(&seen, k->text, k->len, &first)) {
			rules_names_put(&seen, k->text, k->len, i);
			continue;
		}
		load_msg_add(b->msgs, LOAD_UNKNOWN_KEY, b->f, k->line, k->col, RULES_ITEM_UNKNOWN,
			     NULL,
			     "key '%s' is repeated (first at %u:%u): this value is ignored, the "
			     "first one is used",
			     k->text, map->pairs[first].key->line, map->pairs[first].key->col);
	}
	rules_names_free(&seen);
}

static int on_end(struct builder *b)
{
	struct frame *fr = &b->frames[--b->depth];
	struct rules_node *n = fr->node;

	if (n->type == RULES_NODE_SEQ) {
		const struct rules_node **items = arena_alloc(&b->f->arena, fr->n * sizeof(*items));

		if (fr->n)
			memcpy(items, fr->kids, fr->n * sizeof(*items));
		n->items = items;
		n->n = fr->n;
	} else {
		struct rules_pair *pairs = arena_alloc(&b->f->arena, fr->n / 2 * sizeof(*pairs));

		for (size_t i = 0; i + 1 < fr->n; i += 2) {
			pairs[i / 2].key = fr->kids[i];
			pairs[i / 2].value = fr->kids[i + 1];
		}
		n->pairs = pairs;
		n->n = fr->n / 2;
		warn_repeated_keys(b, n);
	}
	anchor_set(b, fr->anchor, n);
	fr->anchor = NULL;
	return add_child(b, n);
}

static int on_alias(struct builder *b, const yaml_event_t *ev)
{
	const char *name = (const char *)ev->data.alias.anchor;
	size_t i;

	if (!rules_names_get(&b->anchor_names, name, strlen(name), &i))
		return build_error(b, LOAD_ERR_YAML_PARSE, ev->start_mark,
				   "alias '*%s' does not refer to a complete anchored node", name);
	return add_child(b, b->anchors[i].node);
}

static int on_event(struct builder *b, const yaml_event_t *ev)
{
	switch (ev->type) {
	case YAML_DOCUMENT_START_EVENT:
		b->root = NULL;
		anchors_clear(b);
		return 0;
	case YAML_DOCUMENT_END_EVENT:
		return b->root ? read_document(b->f, &b->cap_items, b->root, b->msgs) : 0;
	case YAML_SCALAR_EVENT:
		return on_scalar(b, ev);
	case YAML_SEQUENCE_START_EVENT:
		return on_start(b, ev, RULES_NODE_SEQ);
	case YAML_MAPPING_START_EVENT:
		return on_start(b, ev, RULES_NODE_MAP);
	case YAML_SEQUENCE_END_EVENT:
	case YAML_MAPPING_END_EVENT:
		return on_end(b);
	case YAML_ALIAS_EVENT:
		return on_alias(b, ev);
	default:
		return 0;
	}
}

static void builder_free(struct builder *b)
{
	for (unsigned i = 0; i < RULES_YAML_MAX_DEPTH; i++) {
		free(b->frames[i].kids);
		free(b->frames[i].anchor);
	}
	anchors_clear(b);
	free(b->anchors);
}

/* The mark of byte offset in f (libyaml gives reader errors only an offset): columns count
 * bytes, as the snippet's caret does. */
static yaml_mark_t offset_mark(const struct rules_file *f, size_t offset)
{
	yaml_mark_t m = {0};

	if (offset > f->len)
		offset = f->len;
	for (size_t i = 0; i < offset; i++) {
		if (f->buf[i] == '\n') {
			m.line++;
			m.column = 0;
		} else {
			m.column++;
		}
	}
	m.index = offset;
	return m;
}

/* Records libyaml's error: where it is, what it is, and for an unfinished construct (a
 * flow sequence, a quoted scalar, ...) where that construct started. */
static int yaml_error(struct builder *b, const yaml_parser_t *parser)
{
	const char *problem = parser->problem ? parser->problem : "syntax error";

	if (parser->error == YAML_READER_ERROR) {
		yaml_mark_t m = offset_mark(b->f, parser->problem_offset);

		if (parser->problem_value >= 0)
			return build_error(b, LOAD_ERR_YAML_PARSE, m,
					   "invalid YAML: %s (byte offset %zu, value 0x%02x)", problem,
					   parser->problem_offset, (unsigned)parser->problem_value);
		return build_error(b, LOAD_ERR_YAML_PARSE, m, "invalid YAML: %s (byte offset %zu)",
				   problem, parser->problem_offset);
	}
	if (parser->context)
		return build_error(b, LOAD_ERR_YAML_PARSE, parser->problem_mark,
				   "invalid YAML: %s %s that starts at %u:%u", problem,
				   parser->context, (unsigned)parser->context_mark.line + 1,
				   (unsigned)parser->context_mark.column + 1);
	return build_error(b, LOAD_ERR_YAML_PARSE, parser->problem_mark, "invalid YAML: %s",
			   problem);
}

static int parse_yaml(struct rules_file *f, struct load_msgs *msgs)
{
	struct builder b = {.f = f, .msgs = msgs};
	yaml_parser_t parser;
	yaml_event_t ev;
	int rc = 0;
	bool done = false;

	yaml_parser_initialize(&parser);
	yaml_parser_set_input_string(&parser, (const unsigned char *)f->buf, f->len);
	while (!done && !rc) {
		if (!yaml_parser_parse(&parser, &ev)) {
			rc = yaml_error(&b, &parser);
			break;
		}
		done = ev.type == YAML_STREAM_END_EVENT;
		rc = on_event(&b, &ev);
		yaml_event_delete(&ev);
	}
	yaml_parser_delete(&parser);
	builder_free(&b);
	return rc;
}

/* --- Files --------------------------------------------------------------------------------- */

static void index_lines(struct rules_file *f)
{
	size_t cap = 0;

	for (size_t i = 0; i <= f->len; i++) {
		if (i == 0 || f->buf[i - 1] == '\n') {
			if (i == f->len && i)
				break;
			rules_reserve(&f->line_starts, &cap, f->n_lines + 1,
				      sizeof(*f->line_starts));
			f->line_starts[f->n_lines++] = i;
		}
	}
}

/* Takes ownership of buf (len bytes, NUL-terminated). */
static struct rules_file *read_content(const char *name, char *buf, size_t len,
				       struct load_msgs *msgs)
{
	struct rules_file *f = rules_alloc(sizeof(*f));

	f->path = rules_strdup(name);
	f->buf = buf;
	f->len = len;
	index_lines(f);
	if (parse_yaml(f, msgs)) {
		rules_file_free(f);
		return NULL;
	}
	return f;
}

struct rules_file *rules_yaml_read_buffer(const char *name, const char *buf, size_t len,
					  struct load_msgs *msgs)
{
	char *copy = xmalloc(len + 1);

	if (len)
		memcpy(copy, buf, len);
	copy[len] = '\0';
	return read_content(name, copy, len, msgs);
}

static void file_error(struct load_msgs *msgs, const char *path, const char *what, int err)
{
	struct rules_file named = {.path = (char *)path};

	load_msg_add(msgs, LOAD_ERR_FILE_READ, &named, 0, 0, RULES_ITEM_UNKNOWN, NULL,
		     "cannot %s rules file '%s': %s", what, path, strerror(err));
}

struct rules_file *rules_yaml_read_file(const char *path, struct load_msgs *msgs)
{
	struct strbuf sb = STRBUF_INIT;
	FILE *fp = fopen(path, "rb");
	char chunk[65536];
	size_t n;

	if (!fp) {
		file_error(msgs, path, "open", errno);
		return NULL;
	}
	while ((n = fread(chunk, 1, sizeof(chunk), fp)) > 0)
		sb_add(&sb, chunk, n);
	if (ferror(fp)) {
		int err = errno;

		fclose(fp);
		sb_release(&sb);
		file_error(msgs, path, "read", err);
		return NULL;
	}
	fclose(fp);
	if (!sb.buf)
		sb_add(&sb, "", 0);
	if (rules_conf_is_conf_path(path))
		return rules_conf_parse(path, sb.buf, sb.len, msgs);
	return read_content(path, sb.buf, sb.len, msgs);
}

void rules_file_free(struct rules_file *f)
{
	if (!f)
		return;
	free(f->path);
	free(f->buf);
	free(f->line_starts);
	free(f->items);
	arena_free(f->arena);
	free(f);
}

static bool has_rules_suffix(const char *name)
{
	size_t n = strlen(name);

	return (n > 5 && strcmp(name + n - 5, ".yaml") == 0) ||
	       (n > 4 && strcmp(name + n - 4, ".yml") == 0) || rules_conf_is_conf_path(name);
}

static int cmp_paths(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

int rules_yaml_expand_path(const char *path, char ***paths, size_t *n, struct load_msgs *msgs)
{
	struct stat st;
	struct dirent *de;
	size_t cap = 0;
	DIR *d;

	*paths = NULL;
	*n = 0;
	if (stat(path, &st)) {
		file_error(msgs, path, "open", errno);
		return -1;
	}
	if (!S_ISDIR(st.st_mode)) {
		rules_reserve(paths, &cap, 1, sizeof(**paths));
		(*paths)[(*n)++] = rules_strdup(path);
		return 0;
	}
	d = opendir(path);
	if (!d) {
		file_error(msgs, path, "open", errno);
		return -1;
	}
	while ((de = readdir(d))) {
		struct strbuf full = STRBUF_INIT;

		if (!has_rules_suffix(de->d_name))
			continue;
		sb_addf(&full, "%s%s%s", path, path[strlen(path) - 1] == '/' ? "" : "/",
			de->d_name);
		if (stat(full.buf, &st) || !S_ISREG(st.st_mode)) {
			sb_release(&full);
			continue;
		}
		rules_reserve(paths, &cap, *n + 1, sizeof(**paths));
		(*paths)[(*n)++] = full.buf;
	}
	closedir(d);
	if (*n)
		qsort(*paths, *n, sizeof(**paths), cmp_paths);
	return 0;
}

void rules_yaml_free_paths(char **paths, size_t n)
{
	for (size_t i = 0; i < n; i++)
		free(paths[i]);
	free(paths);
}
