#include "rules_conf.h"

#include <limits.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

/* The keys an item carries, in the order of its mapping. */
enum {
	KEY_NAME,
	KEY_COND,
	KEY_PRIO,
	KEY_OUTPUT,
	N_KEYS
};

static const char *const macro_keys[] = {"macro", "condition"};
static const char *const rule_keys[] = {"rule", "condition", "priority", "output"};

/* One item as read: its values are NUL-terminated texts in the reader's pool. */
struct conf_entry {
	enum rules_item_kind kind;
	unsigned line, col; /* the item: its first non-blank byte */
	size_t n_keys;
	size_t text[N_KEYS]; /* offsets into the pool */
	unsigned vline[N_KEYS], vcol[N_KEYS];
};

/* The nodes of one item in the finished file. */
struct conf_nodes {
	struct rules_node map;
	struct rules_pair pairs[N_KEYS];
	struct rules_node keys[N_KEYS];
	struct rules_node values[N_KEYS];
};

struct conf_reader {
	struct rules_file *f;
	struct load_msgs *msgs;
	const char *base;    /* the file's base name, for rule names */
	struct strbuf line;  /* the logical line: physical lines joined by '\n' */
	unsigned first_line; /* the line number of its first physical line */
	struct strbuf pool;  /* every value text, each followed by a NUL */
	struct conf_entry *entries;
	size_t n_entries, cap_entries;
};

static bool is_blank(char c)
{
	return c == ' ' || c == '\t' || c == '\r' || c == '\v' || c == '\f' || c == '\n';
}

static bool is_name_start(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_';
}

static bool is_name_char(char c)
{
	return is_name_start(c) || (c >= '0' && c <= '9');
}

static unsigned clamp_uint(size_t v)
{
	return v > UINT_MAX ? UINT_MAX : (unsigned)v;
}

/* Where offset off of the logical line was written. */
static void line_pos(const struct conf_reader *r, size_t off, unsigned *line, unsigned *col)
{
	const char *s = r->line.buf;
	size_t lines = 0, start = 0;

	for (size_t i = 0; i < off; i++) {
		if (s[i] == '\n') {
			lines++;
			start = i + 1;
		}
	}
	*line = clamp_uint(r->first_line + lines);
	*col = clamp_uint(off - start + 1);
}

static int conf_error(struct conf_reader *r, enum load_code code, size_t off,
		      enum rules_item_kind kind, const char *name, const char *fmt, ...)
    __attribute__((format(printf, 6, 7)));

/* Records a message at offset off of the logical line; returns -1. */
static int conf_error(struct conf_reader *r, enum load_code code, size_t off,
		      enum rules_item_kind kind, const char *name, const char *fmt, ...)
{
	unsigned line, col;
	va_list ap;

	line_pos(r, off, &line, &col);
	va_start(ap, fmt);
	load_msg_addv(r->msgs, code, r->f, line, col, kind, name, fmt, ap);
	va_end(ap);
	return -1;
}

static size_t skip_blanks(const char *s, size_t i, size_t end)
{
	while (i < end && is_blank(s[i]))
		i++;
	return i;
}

static size_t trim_end(const char *s, size_t start, size_t end)
{
	while (end > start && is_blank(s[end - 1]))
		end--;
	return end;
}

/* Adds s[0..len) and a NUL to the pool; returns its offset. */
static size_t pool_add(struct conf_reader *r, const char *s, size_t len)
{
	size_t off = r->pool.len;

	sb_add(&r->pool, s, len);
	sb_addc(&r->pool, '\0');
	return off;
}

static struct conf_entry *entry_new(struct conf_reader *r, enum rules_item_kind kind, size_t at)
{
	struct conf_entry *e;

	rules_reserve(&r->entries, &r->cap_entries, r->n_entries + 1, sizeof(*r->entries));
	e = &r->entries[r->n_entries++];
	memset(e, 0, sizeof(*e));
	e->kind = kind;
	line_pos(r, at, &e->line, &e->col);
	return e;
}

/* Sets value k of e to s[0..len), written at offset at of the logical line. */
static void entry_set(struct conf_reader *r, struct conf_entry *e, size_t k, const char *s,
		      size_t len, size_t at)
{
	e->text[k] = pool_add(r, s, len);
	line_pos(r, at, &e->vline[k], &e->vcol[k]);
	if (k + 1 > e->n_keys)
		e->n_keys = k + 1;
}

/* --- Quoted strings ----------------------------------------------------------------------- */

/* The end (one past the closing quote) of the quoted string at s[i], or SIZE_MAX when it is
 * not closed before end. A string is closed by the first matching quote not preceded by a
 * backslash (spec a.5). *join is set to the offset of the first continuation inside it, or
 * SIZE_MAX. */
static size_t quoted_end(const char *s, size_t i, size_t end, size_t *join)
{
	char q = s[i];

	*join = SIZE_MAX;
	for (size_t j = i + 1; j < end; j++) {
		if (s[j] == q && s[j - 1] != '\\')
			return j + 1;
		if (s[j] == '\n' && *join == SIZE_MAX)
			*join = j;
	}
	return SIZE_MAX;
}

static int join_in_quotes(struct conf_reader *r, size_t at, enum rules_item_kind kind,
			  const char *name)
{
	return conf_error(r, LOAD_ERR_YAML_PARSE, at, kind, name,
			  "line continuation inside a quoted string (end the string first)");
}

/* Rejects continuations inside the quoted strings of s[start..end) (a condition). */
static int check_quotes(struct conf_reader *r, size_t start, size_t end, enum rules_item_kind kind,
			const char *name)
{
	const char *s = r->line.buf;

	for (size_t i = start; i < end;) {
		size_t join;

		if (s[i] != '"' && s[i] != '\'') {
			i++;
			continue;
		}
		i = quoted_end(s, i, end, &join);
		if (join != SIZE_MAX)
			return join_in_quotes(r, join, kind, name);
		/* an unterminated string is the condition parser's to report */
	}
	return 0;
}

/* --- Macros ------------------------------------------------------------------------------- */

/* name at s[p..q), the ':' at colon. */
static int read_macro(struct conf_reader *r, size_t p, size_t q, size_t colon)
{
	const char *s = r->line.buf;
	size_t end = r->line.len;
	size_t cs = skip_blanks(s, colon + 1, end), ce = trim_end(s, cs, end);
	char *name = strndup(s + p, q - p);
	struct conf_entry *e;
	int rc = 0;

	if (!name)
		abort();
	if (cs == ce)
		rc = conf_error(r, LOAD_ERR_YAML_VALIDATE, colon + 1, RULES_ITEM_MACRO, name,
				"empty condition after ':'");
	else
		rc = check_quotes(r, cs, ce, RULES_ITEM_MACRO, name);
	if (!rc && name[0] == '_')
		conf_error(r, LOAD_INVALID_MACRO_NAME, p, RULES_ITEM_MACRO, name,
			   "name is not an identifier ([a-zA-Z][a-zA-Z0-9_]*): no condition can "
			   "use it");
	if (!rc) {
		e = entry_new(r, RULES_ITEM_MACRO, p);
		entry_set(r, e, KEY_NAME, s + p, q - p, p);
		entry_set(r, e, KEY_COND, s + cs, ce - cs, cs);
	}
	free(name);
	return rc;
}

/* --- Rules -------------------------------------------------------------------------------- */

/* The end of the word (a run of non-blanks) at s[i]. */
static size_t word_end(const char *s, size_t i, size_t end)
{
	while (i < end && !is_blank(s[i]))
		i++;
	return i;
}

/* Is the word at s[i] a priority name? Looks at most at 16 bytes, so that scanning a line of
 * many '|' stays linear. */
static bool is_priority_at(const char *s, size_t i, size_t end)
{
	enum rules_priority prio;
	char word[16];
	size_t n = 0;

	while (i + n < end && n < sizeof(word) && !is_blank(s[i + n]))
		n++;
	if (!n || n == sizeof(word))
		return false;
	memcpy(word, s + i, n);
	word[n] = '\0';
	return rules_priority_parse(word, &prio) == 0;
}

/* What the scan of a rule line found. */
struct rule_split {
	size_t sep;	   /* the separating '|', or SIZE_MAX */
	size_t first_pipe; /* the first '|' outside quotes, or SIZE_MAX */
	size_t word_pipe;  /* the first of them that does not continue a word, or SIZE_MAX */
	size_t open_quote; /* an unterminated quote, or SIZE_MAX */
	size_t join;	   /* a continuation inside a quoted string, or SIZE_MAX */
};

/* Finds the '|' that ends the condition (see rules_conf.h). */
static void split_rule(const char *s, size_t p, size_t end, struct rule_split *sp)
{
	size_t closed = SIZE_MAX; /* one past the last closing quote */

	sp->sep = sp->first_pipe = sp->word_pipe = sp->open_quote = sp->join = SIZE_MAX;
	for (size_t i = p; i < end;) {
		if (s[i] == '"' || s[i] == '\'') {
			size_t e = quoted_end(s, i, end, &sp->join);

			if (sp->join != SIZE_MAX)
				return;
			if (e == SIZE_MAX) {
				sp->open_quote = i;
				return;
			}
			i = closed = e;
			continue;
		}
		if (s[i] != '|') {
			i++;
			continue;
		}
		if (sp->first_pipe == SIZE_MAX)
			sp->first_pipe = i;
		if (sp->word_pipe == SIZE_MAX &&
		    (i == p || is_blank(s[i - 1]) || s[i - 1] == ')' || closed == i))
			sp->word_pipe = i;
		if (is_priority_at(s, skip_blanks(s, i + 1, end), end)) {
			sp->sep = i;
			return;
		}
		i++;
	}
}

/* A rule line that did not split: says why. */
static int rule_split_error(struct conf_reader *r, size_t p, const struct rule_split *sp,
			    const char *name)
{
	const char *s = r->line.buf;
	size_t end = r->line.len, pipe, w, wend;

	if (sp->join != SIZE_MAX)
		return join_in_quotes(r, sp->join, RULES_ITEM_UNKNOWN, NULL);
	if (sp->open_quote != SIZE_MAX)
		return conf_error(r, LOAD_ERR_YAML_PARSE, sp->open_quote, RULES_ITEM_UNKNOWN, NULL,
				  "unterminated quoted string");
	if (sp->first_pipe == SIZE_MAX)
		return conf_error(r, LOAD_ERR_YAML_PARSE, p, RULES_ITEM_UNKNOWN, NULL,
				  "expected a macro 'NAME: condition' or a rule 'condition | "
				  "PRIORITY output'");
	pipe = sp->word_pipe != SIZE_MAX ? sp->word_pipe : sp->first_pipe;
	w = skip_blanks(s, pipe + 1, end);
	wend = word_end(s, w, end);
	if (w == wend)
		return conf_error(r, LOAD_ERR_YAML_VALIDATE, pipe + 1, RULES_ITEM_RULE, name,
				  "no priority after '|'");
	return conf_error(r, LOAD_ERR_YAML_VALIDATE, w, RULES_ITEM_RULE, name,
			  "invalid priority '%.*s' (expected emergency, alert, critical, error, "
			  "warning, notice, informational, info or debug)",
			  (int)(wend - w > 64 ? 64 : wend - w), s + w);
}

/* The output s[os..oe): each continuation, with the blanks around it, becomes one space. */
static void add_output(struct strbuf *out, const char *s, size_t os, size_t oe)
{
	for (size_t i = os; i < oe;) {
		size_t j = i;
		bool join = false;

		if (!is_blank(s[i])) {
			sb_addc(out, s[i++]);
			continue;
		}
		for (; j < oe && is_blank(s[j]); j++)
			join |= s[j] == '\n';
		if (join)
			sb_addc(out, ' ');
		else
			sb_add(out, s + i, j - i);
		i = j;
	}
}

static int read_rule(struct conf_reader *r, size_t p)
{
	const char *s = r->line.buf;
	size_t end = r->line.len, ce, w, wend, os, oe;
	struct strbuf name = STRBUF_INIT, out = STRBUF_INIT;
	struct rule_split sp;
	struct conf_entry *e;
	unsigned line, col;
	int rc = -1;

	line_pos(r, p, &line, &col);
	sb_addf(&name, "%s:%u", r->base, line);
	split_rule(s, p, end, &sp);
	if (sp.sep == SIZE_MAX) {
		rule_split_error(r, p, &sp, name.buf);
		goto out;
	}
	ce = trim_end(s, p, sp.sep);
	w = skip_blanks(s, sp.sep + 1, end);
	wend = word_end(s, w, end);
	os = skip_blanks(s, wend, end);
	oe = trim_end(s, os, end);
	if (ce == p) {
		conf_error(r, LOAD_ERR_YAML_VALIDATE, sp.sep, RULES_ITEM_RULE, name.buf,
			   "empty condition before '|'");
		goto out;
	}
	if (os == oe) {
		conf_error(r, LOAD_ERR_YAML_VALIDATE, wend, RULES_ITEM_RULE, name.buf,
			   "no output after the priority");
		goto out;
	}
	add_output(&out, s, os, oe);
	e = entry_new(r, RULES_ITEM_RULE, p);
	entry_set(r, e, KEY_NAME, name.buf, name.len, p);
	entry_set(r, e, KEY_COND, s + p, ce - p, p);
	entry_set(r, e, KEY_PRIO, s + w, wend - w, w);
	entry_set(r, e, KEY_OUTPUT, out.buf, out.len, os);
	rc = 0;
out:
	sb_release(&name);
	sb_release(&out);
	return rc;
}

/* --- Lines -------------------------------------------------------------------------------- */

/* Reads the logical line in r->line (not blank, not a comment). */
static int read_logical(struct conf_reader *r)
{
	const char *s = r->line.buf;
	size_t end = r->line.len, p = skip_blanks(s, 0, end), q = p, colon;

	if (is_name_start(s[q])) {
		while (q < end && is_name_char(s[q]))
			q++;
		colon = skip_blanks(s, q, end);
		if (colon < end && s[colon] == ':')
			return read_macro(r, p, q, colon);
	}
	return read_rule(r, p);
}

/* Checks a physical line's bytes: no NUL, valid UTF-8. */
static int check_bytes(struct conf_reader *r, unsigned lineno, const char *s, size_t n)
{
	const char *what = NULL;
	size_t i = 0, k;

	while (i < n) {
		if (!s[i]) {
			what = "a NUL byte";
			break;
		}
		k = utf8_seq_len((const unsigned char *)s + i, n - i);
		if (!k) {
			what = "a byte that is not UTF-8";
			break;
		}
		i += k;
	}
	if (!what)
		return 0;
	load_msg_add(r->msgs, LOAD_ERR_YAML_PARSE, r->f, lineno, clamp_uint(i + 1),
		     RULES_ITEM_UNKNOWN, NULL, "%s (0x%02x): a rules file must be UTF-8 text", what,
		     (unsigned char)s[i]);
	return -1;
}

/* Offsets of each line's first byte (after a byte-order mark on the first), for snippets. */
static void index_lines(struct rules_file *f, size_t start)
{
	size_t cap = 0;

	for (size_t i = start; i <= f->len; i++) {
		if (i == start || f->buf[i - 1] == '\n') {
			if (i == f->len && i > start)
				break;
			rules_reserve(&f->line_starts, &cap, f->n_lines + 1,
				      sizeof(*f->line_starts));
			f->line_starts[f->n_lines++] = i;
		}
	}
}

static int read_lines(struct conf_reader *r, size_t start)
{
	const char *buf = r->f->buf;
	size_t len = r->f->len, pos = start;
	unsigned lineno = 0;
	bool continued = false;

	while (pos < len) {
		const char *s = buf + pos, *nl = memchr(s, '\n', len - pos);
		size_t n = nl ? (size_t)(nl - s) : len - pos, p;

		pos += n + (nl ? 1 : 0);
		lineno = lineno < UINT_MAX ? lineno + 1 : lineno;
		if (check_bytes(r, lineno, s, n))
			return -1;
		if (n && s[n - 1] == '\r')
			n--;
		if (!continued) {
			p = skip_blanks(s, 0, n);
			if (p == n || s[p] == '#')
				continue;
			sb_reset(&r->line);
			r->first_line = lineno;
		}
		continued = n && s[n - 1] == '\\';
		sb_add(&r->line, s, continued ? n - 1 : n);
		if (continued) {
			sb_addc(&r->line, '\n');
			continue;
		}
		if (read_logical(r))
			return -1;
	}
	if (continued) {
		size_t n = r->line.len;

		/* the '\n' standing for the last continuation is where its '\' was */
		return conf_error(r, LOAD_ERR_YAML_PARSE, n - 1, RULES_ITEM_UNKNOWN, NULL,
				  "the last line ends in a '\\' continuation");
	}
	return 0;
}

/* --- The file ----------------------------------------------------------------------------- */

static void scalar(struct rules_node *n, const char *text, unsigned line, unsigned col)
{
	n->type = RULES_NODE_SCALAR;
	n->text = text;
	n->len = strlen(text);
	n->line = line;
	n->col = col;
}

/* Makes the items: f->items is one allocation holding the items, then each item's nodes,
 * then the value texts, so rules_file_free releases them with the items. */
static void build_items(struct conf_reader *r)
{
	size_t n = r->n_entries, al = _Alignof(struct conf_nodes);
	size_t nodes_off = (n * sizeof(struct rules_item) + al - 1) / al * al;
	size_t text_off = nodes_off + n * sizeof(struct conf_nodes);
	char *block = rules_alloc(text_off + r->pool.len + 1);
	struct rules_item *items = (struct rules_item *)(void *)block;
	struct conf_nodes *nodes = (struct conf_nodes *)(void *)(block + nodes_off);
	char *texts = block + text_off;

	if (r->pool.len)
		memcpy(texts, r->pool.buf, r->pool.len);
	for (size_t i = 0; i < n; i++) {
		const struct conf_entry *e = &r->entries[i];
		const char *const *keys = e->kind == RULES_ITEM_MACRO ? macro_keys : rule_keys;
		struct conf_nodes *cn = &nodes[i];

		cn->map.type = RULES_NODE_MAP;
		cn->map.line = e->line;
		cn->map.col = e->col;
		cn->map.n = e->n_keys;
		cn->map.pairs = cn->pairs;
		for (size_t k = 0; k < e->n_keys; k++) {
			scalar(&cn->keys[k], keys[k], e->vline[k], e->vcol[k]);
			scalar(&cn->values[k], texts + e->text[k], e->vline[k], e->vcol[k]);
			cn->pairs[k].key = &cn->keys[k];
			cn->pairs[k].value = &cn->values[k];
		}
		items[i].kind = e->kind;
		items[i].mode = RULES_MODE_DEFINE;
		items[i].name = cn->values[KEY_NAME].text;
		items[i].map = &cn->map;
		items[i].line = e->line;
		items[i].col = e->col;
	}
	r->f->items = items;
	r->f->n_items = n;
}

bool rules_conf_is_conf_path(const char *path)
{
	const char *base = strrchr(path, '/');
	size_t n;

	base = base ? base + 1 : path;
	n = strlen(base);
	return n > 5 && strcmp(base + n - 5, ".conf") == 0;
}

struct rules_file *rules_conf_parse(const char *name, char *buf, size_t len, struct load_msgs *msgs)
{
	struct conf_reader r = {.msgs = msgs};
	const char *slash = strrchr(name, '/');
	size_t start = 0;
	int rc;

	r.f = rules_alloc(sizeof(*r.f));
	r.f->path = rules_strdup(name);
	r.f->buf = buf;
	r.f->len = len;
	r.base = slash ? slash + 1 : name;
	if (len >= 3 && memcmp(buf, "\xef\xbb\xbf", 3) == 0)
		start = 3;
	index_lines(r.f, start);
	sb_add(&r.line, "", 0);
	rc = read_lines(&r, start);
	if (!rc)
		build_items(&r);
	sb_release(&r.line);
	sb_release(&r.pool);
	free(r.entries);
	if (rc) {
		rules_file_free(r.f);
		return NULL;
	}
	return r.f;
}

struct rules_file *rules_conf_read_buffer(const char *name, const char *buf, size_t len,
					  struct load_msgs *msgs)
{
	char *copy = rules_alloc(len + 1);

	if (len)
		memcpy(copy, buf, len);
	return rules_conf_parse(name, copy, len, msgs);
}
