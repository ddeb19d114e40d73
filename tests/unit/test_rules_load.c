/* The rules loader's first two stages: reading rules files (rules_yaml) and collecting their
 * items into lists, macros and rules with conditions as text (rules_collect). */
#include <stdlib.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "rules_collect.h"
#include "rules_load.h"
#include "testlib.h"

/* Prints every message of c as TAP diagnostics (called when a check failed). */
static void dump_msgs(const struct rules_collection *c)
{
	struct strbuf sb = STRBUF_INIT;

	for (size_t i = 0; i < c->msgs.n; i++) {
		sb_reset(&sb);
		load_msg_format(&c->msgs.v[i], false, &sb);
		printf("#   %s", sb.buf);
	}
	sb_release(&sb);
}

/* Collects yaml as the file "test.yaml" and finishes the collection. */
static struct rules_collection *collect(const char *yaml)
{
	struct rules_collection *c = rules_collection_new();

	rules_collect_buffer(c, "test.yaml", yaml, strlen(yaml));
	rules_collection_finish(c);
	return c;
}

/* Collects yaml, expecting no error and no warning. */
static struct rules_collection *collect_ok(const char *yaml)
{
	struct rules_collection *c = collect(yaml);

	CHECK_EQ_INT(c->msgs.n_errors, 0);
	CHECK_EQ_INT(c->msgs.n_warnings, 0);
	if (c->msgs.n)
		dump_msgs(c);
	return c;
}

static const struct load_msg *find_msg(const struct rules_collection *c, enum load_code code)
{
	for (size_t i = 0; i < c->msgs.n; i++)
		if (c->msgs.v[i].code == code)
			return &c->msgs.v[i];
	return NULL;
}

static size_t count_msgs(const struct rules_collection *c, enum load_code code)
{
	size_t n = 0;

	for (size_t i = 0; i < c->msgs.n; i++)
		n += c->msgs.v[i].code == code;
	return n;
}

/* The expanded condition of rule (or, with macro, of the macro) name. */
static const char *rule_text(const struct rules_collection *c, const char *name)
{
	const struct rules_rule *r = rules_collection_rule(c, name);

	return r ? r->cond.text : NULL;
}

static const char *macro_text(const struct rules_collection *c, const char *name)
{
	const struct rules_macro *m = rules_collection_macro(c, name);

	return m ? m->cond.text : NULL;
}

/* Ends a TAP line for one row of a table, like RUN does for a TEST. */
static void tap_row(const char *label)
{
	tap_n++;
	printf("%sok %d - %s\n", tap_cur_failed ? "not " : "", tap_n, label);
	if (tap_cur_failed)
		tap_failed_tests++;
	tap_cur_failed = 0;
	fflush(stdout);
}

static const char *source_path(char *buf, size_t size, const char *rel)
{
	const char *root = getenv("SAKER_SOURCE_DIR");

	snprintf(buf, size, "%s/%s", root ? root : ".", rel);
	return buf;
}

#define RULE_HEAD(name) "- rule: " name "\n  desc: d\n  output: o\n  priority: INFO\n"

/* --- Reading ------------------------------------------------------------------------------ */

TEST(item_kinds_and_every_key)
{
	struct rules_collection *c = collect_ok("- required_engine_version: 0.50.0\n"
						"- required_plugin_versions:\n"
						"    - name: container\n"
						"      version: 0.4.0\n"
						"- list: bins\n"
						"  items: [a, b]\n"
						"- macro: m\n"
						"  condition: proc.name in (bins)\n"
						"- rule: Full\n"
						"  desc: '  all keys  '\n"
						"  condition: m\n"
						"  output: '  out %proc.name  '\n"
						"  priority: Critical\n"
						"  source: syscall\n"
						"  enabled: false\n"
						"  tags: [t1, t2, t1]\n"
						"  warn_evttypes: no\n"
						"  skip-if-unknown-filter: yes\n"
						"  capture: true\n"
						"  capture_duration: 0x10\n"
						"  exceptions:\n"
						"    - name: e\n"
						"      fields: proc.name\n"
						"      values: [x]\n");
	const struct rules_rule *r = rules_collection_rule(c, "Full");

	CHECK_EQ_INT(c->n_lists, 1);
	CHECK_EQ_INT(c->n_macros, 1);
	CHECK_EQ_INT(c->n_rules, 1);
	CHECK(c->has_required_engine);
	CHECK_EQ_INT(c->required_engine.minor, 50);
	CHECK(r != NULL);
	if (!r)
		goto out;
	CHECK_EQ_STR(r->desc, "  all keys  ");
	CHECK_EQ_STR(r->output, "out %proc.name");
	CHECK_EQ_INT(r->priority, RULES_PRIO_CRITICAL);
	CHECK_EQ_STR(r->source, "syscall");
	CHECK(!r->enabled);
	CHECK(!r->warn_evttypes);
	CHECK(r->skip_if_unknown_filter);
	CHECK(r->capture);
	CHECK_EQ_INT(r->capture_duration, 16);
	CHECK_EQ_INT(r->n_tags, 2);
	CHECK_EQ_INT(r->n_exceptions, 1);
	CHECK(!r->unknown_source);
	CHECK_EQ_STR(r->condition, "m");
	CHECK_EQ_STR(r->cond.text, "(m) and not (proc.name in (x))");
	CHECK_EQ_INT(r->pos.line, 9);
	CHECK_EQ_INT(r->pos.col, 3);
	CHECK_EQ_INT(r->cond_pos.line, 11);
	CHECK_EQ_INT(r->cond_pos.col, 14);
	CHECK_EQ_STR(r->pos.file->path, "test.yaml");
	CHECK_EQ_STR(macro_text(c, "m"), "proc.name in ( a, b )");
out:
	rules_collection_free(c);
}

TEST(raw_item_model)
{
	struct load_msgs msgs = {0};
	const char *yaml = "- list: l\n"
			   "  items: [22, 0x10, yes, '08', \"a\\tb\"]\n"
			   "- rule: r\n"
			   "  override: {enabled: replace}\n"
			   "  enabled: off\n"
			   "- foo: bar\n"
			   "- macro: m\n"
			   "  append: true\n"
			   "  condition: x\n";
	struct rules_file *f = rules_yaml_read_buffer("raw.yaml", yaml, strlen(yaml), &msgs);
	const struct rules_node *items;

	CHECK(f != NULL);
	if (!f)
		return;
	CHECK_EQ_INT(f->n_items, 4); /* the unknown item too, after its warning */
	CHECK_EQ_INT(msgs.n_warnings, 2);
	CHECK_EQ_INT(f->items[0].kind, RULES_ITEM_LIST);
	CHECK_EQ_INT(f->items[0].mode, RULES_MODE_DEFINE);
	CHECK_EQ_STR(f->items[0].name, "l");
	CHECK_EQ_INT(f->items[1].mode, RULES_MODE_OVERRIDE);
	CHECK_EQ_INT(f->items[2].kind, RULES_ITEM_UNKNOWN);
	CHECK(f->items[2].name == NULL);
	CHECK_EQ_INT(f->items[3].mode, RULES_MODE_APPEND);
	CHECK_EQ_INT(f->items[3].line, 7);
	items = rules_node_get(f->items[0].map, "items");
	CHECK(items && items->type == RULES_NODE_SEQ && items->n == 5);
	if (items && items->n == 5) {
		CHECK_EQ_STR(items->items[0]->text, "22");
		CHECK_EQ_STR(items->items[1]->text, "0x10");
		CHECK_EQ_STR(items->items[2]->text, "yes");
		CHECK_EQ_STR(items->items[3]->text, "08");
		CHECK_EQ_STR(items->items[4]->text, "a\tb");
		CHECK_EQ_INT(items->items[1]->line, 2);
		CHECK_EQ_INT(items->items[1]->col, 15);
	}
	CHECK_EQ_STR(rules_node_get(f->items[1].map, "enabled")->text, "off");
	rules_file_free(f);
	load_msgs_free(&msgs);
}

TEST(multiline_scalars_fold_as_yaml_says)
{
	struct rules_collection *c =
	    collect_ok("- macro: plain\n"
		       "  condition: a and\n"
		       "    b\n"
		       "\n"
		       "    c\n"
		       "- macro: folded\n"
		       "  condition: >\n"
		       "    a and\n"
		       "    b\n"
		       "- macro: literal\n"
		       "  condition: |\n"
		       "    a and\n"
		       "    b\n"
		       "- macro: quoted\n"
		       "  condition: \"a and\n"
		       "    b \\\" c\"\n"
		       "- rule: r\n"
		       "  desc: d\n"
		       "  output: o\n"
		       "  priority: INFO\n"
		       "  condition: plain or folded or literal or quoted\n");

	CHECK_EQ_STR(macro_text(c, "plain"), "a and b\nc");
	CHECK_EQ_STR(macro_text(c, "folded"), "a and b\n");
	CHECK_EQ_STR(macro_text(c, "literal"), "a and\nb\n");
	CHECK_EQ_STR(macro_text(c, "quoted"), "a and b \" c");
	rules_collection_free(c);
}

TEST(booleans_all_spellings)
{
	static const char *const yes[] = {"true", "True", "TRUE", "yes", "Yes", "YES",
					  "on",	  "On",	  "ON",	  "y",	 "Y"};
	static const char *const no[] = {"false", "False", "FALSE", "no", "No", "NO",
					 "off",	  "Off",   "OFF",   "n",  "N"};
	bool b;

	for (size_t i = 0; i < sizeof(yes) / sizeof(yes[0]); i++) {
		CHECK(rules_parse_bool(yes[i], &b) == 0 && b);
		CHECK(rules_parse_bool(no[i], &b) == 0 && !b);
	}
	CHECK_EQ_INT(rules_parse_bool("tRue", &b), -1);
	CHECK_EQ_INT(rules_parse_bool("1", &b), -1);
	CHECK_EQ_INT(rules_parse_bool("", &b), -1);
}

TEST(priorities_and_aliases)
{
	static const struct {
		const char *text;
		enum rules_priority prio;
	} cases[] = {
	    {"emergency", RULES_PRIO_EMERGENCY},
	    {"ALERT", RULES_PRIO_ALERT},
	    {"Critical", RULES_PRIO_CRITICAL},
	    {"error", RULES_PRIO_ERROR},
	    {"WARNING", RULES_PRIO_WARNING},
	    {"notice", RULES_PRIO_NOTICE},
	    {"informational", RULES_PRIO_INFORMATIONAL},
	    {"INFO", RULES_PRIO_INFORMATIONAL},
	    {"iNfO", RULES_PRIO_INFORMATIONAL},
	    {"debug", RULES_PRIO_DEBUG},
	};
	static const char *const names[] = {"Emergency", "Alert",  "Critical",	    "Error",
					    "Warning",	 "Notice", "Informational", "Debug"};
	enum rules_priority p;

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		CHECK_EQ_INT(rules_priority_parse(cases[i].text, &p), 0);
		CHECK_EQ_INT(p, cases[i].prio);
	}
	for (int i = 0; i <= RULES_PRIO_DEBUG; i++)
		CHECK_EQ_STR(rules_priority_name((enum rules_priority)i), names[i]);
	CHECK_EQ_INT(rules_priority_parse("warn", &p), -1);
	CHECK_EQ_INT(rules_priority_parse("crit", &p), -1);
	CHECK_EQ_INT(rules_priority_parse("", &p), -1);
}

TEST(empty_files_and_documents)
{
	static const char *const empties[] = {
	    "",		  "\n\n", "# only a comment\n", "---\n",
	    "---\n...\n", "[]\n", "- \n- ~\n",		"---\n---\n- list: a\n  items: []\n"};

	for (size_t i = 0; i < sizeof(empties) / sizeof(empties[0]); i++) {
		struct rules_collection *c = collect(empties[i]);

		CHECK_EQ_INT(c->msgs.n, 0);
		CHECK_EQ_INT(c->n_rules, 0);
		rules_collection_free(c);
	}
}

TEST(several_documents_in_one_file)
{
	struct rules_collection *c =
	    collect_ok("- list: a\n  items: [x]\n"
		       "---\n"
		       "- list: a\n  items: [y]\n  override: {items: append}\n"
		       "...\n"
		       "---\n"
		       "- macro: m\n  condition: p.n in (a)\n");

	CHECK_EQ_STR(macro_text(c, "m"), "p.n in ( x, y )");
	rules_collection_free(c);
}

TEST(anchors_and_aliases_share_nodes)
{
	struct rules_collection *c =
	    collect_ok("- list: a\n  items: &shared [x, \"y z\"]\n"
		       "- list: b\n  items: *shared\n"
		       "- macro: m\n  condition: &c p.n in (b)\n"
		       "- macro: m2\n  condition: *c\n"
		       "- rule: r\n  desc: d\n  output: o\n  priority: INFO\n"
		       "  condition: m and m2 and p.n in (a)\n");

	CHECK_EQ_STR(macro_text(c, "m2"), "p.n in ( x, \"y z\" )");
	CHECK_EQ_INT(rules_collection_list(c, "b")->n_items, 2);
	rules_collection_free(c);
}

/* --- Malformed input -------------------------------------------------------------------- */

static const struct bad_case {
	const char *label;
	const char *yaml;
	enum load_code code;
	unsigned line, col;
} bad_cases[] = {
    /* YAML itself */
    {"unclosed flow sequence", "- list: a\n  items: [a, b\n", LOAD_ERR_YAML_PARSE, 3, 1},
    {"unclosed quote", "- macro: m\n  condition: \"abc\n", LOAD_ERR_YAML_PARSE, 3, 1},
    {"tab indentation", "- list: a\n\titems: []\n", LOAD_ERR_YAML_PARSE, 2, 1},
    {"bad indentation", "- list: a\n  items: []\n items2: []\n", LOAD_ERR_YAML_PARSE, 3, 2},
    {"undefined alias", "- list: a\n  items: *nothing\n", LOAD_ERR_YAML_PARSE, 2, 10},
    {"alias to its own ancestor", "- list: a\n  items: &x [b, *x]\n", LOAD_ERR_YAML_PARSE, 2, 17},
    {"nesting deeper than the limit",
     "- list: a\n  items: "
     "[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[]]]]]]]]]]]]]]]]]]]]]]]]"
     "]"
     "]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]\n",
     LOAD_ERR_YAML_PARSE, 2, 72},
    {"NUL byte in a value", "- macro: m\n  condition: \"a\\0b\"\n", LOAD_ERR_YAML_VALIDATE, 2, 14},
    {"collection as a mapping key", "- ? [a]\n  : b\n", LOAD_ERR_YAML_VALIDATE, 1, 5},
    /* the file's structure (b.1) */
    {"top level is a mapping", "list: a\nitems: []\n", LOAD_ERR_YAML_VALIDATE, 1, 1},
    {"top level is a scalar", "just text\n", LOAD_ERR_YAML_VALIDATE, 1, 1},
    {"second document is a mapping", "- list: a\n  items: []\n---\nfoo: bar\n",
     LOAD_ERR_YAML_VALIDATE, 4, 1},
    {"item is a scalar", "- list: a\n  items: []\n- hello\n", LOAD_ERR_YAML_VALIDATE, 3, 3},
    {"item is a sequence", "- [a, b]\n", LOAD_ERR_YAML_VALIDATE, 1, 3},
    {"unknown item", "- foo: bar\n", LOAD_UNKNOWN_ITEM, 1, 3},
    {"unknown key", "- list: a\n  items: []\n  colour: red\n", LOAD_UNKNOWN_KEY, 3, 3},
    {"list and rule: rule is unknown", "- list: a\n  rule: b\n  items: []\n", LOAD_UNKNOWN_KEY, 2,
     3},
    /* names */
    {"list name null", "- list:\n  items: []\n", LOAD_ERR_YAML_VALIDATE, 1, 3},
    {"list name empty", "- list: ''\n  items: []\n", LOAD_ERR_YAML_VALIDATE, 1, 9},
    {"list name a sequence", "- list: [a]\n  items: []\n", LOAD_ERR_YAML_VALIDATE, 1, 9},
    {"macro name a mapping", "- macro: {a: b}\n  condition: x\n", LOAD_ERR_YAML_VALIDATE, 1, 10},
    {"invalid list name", "- list: my list\n  items: []\n", LOAD_INVALID_LIST_NAME, 1, 9},
    {"invalid macro name", "- macro: my-macro\n  condition: x\n", LOAD_INVALID_MACRO_NAME, 1, 10},
    /* lists and macros */
    {"list without items", "- list: a\n", LOAD_ERR_YAML_VALIDATE, 1, 3},
    {"list items a scalar", "- list: a\n  items: b\n", LOAD_ERR_YAML_VALIDATE, 2, 10},
    {"list items null", "- list: a\n  items:\n", LOAD_ERR_YAML_VALIDATE, 2, 3},
    {"list item a mapping", "- list: a\n  items: [b, {c: d}]\n", LOAD_ERR_YAML_VALIDATE, 2, 14},
    {"list item null", "- list: a\n  items: [b, ~]\n", LOAD_ERR_YAML_VALIDATE, 2, 14},
    {"macro without condition", "- macro: m\n", LOAD_ERR_YAML_VALIDATE, 1, 3},
    {"macro condition empty", "- macro: m\n  condition: \"\"\n", LOAD_ERR_YAML_VALIDATE, 2, 14},
    {"macro condition a sequence", "- macro: m\n  condition: [a]\n", LOAD_ERR_YAML_VALIDATE, 2, 14},
    /* rules */
    {"rule without output", "- rule: r\n  condition: evt.type=open\n  desc: d\n  priority: INFO\n",
     LOAD_ERR_YAML_VALIDATE, 1, 3},
    {"rule without anything", "- rule: r\n", LOAD_ERR_YAML_VALIDATE, 1, 3},
    {"rule desc empty", RULE_HEAD("r") "  condition: x\n  desc: ''\n", LOAD_ERR_YAML_VALIDATE, 6,
     9},
    {"rule priority invalid",
     "- rule: r\n  desc: d\n  output: o\n  priority: urgent\n"
     "  condition: x\n",
     LOAD_ERR_YAML_VALIDATE, 4, 13},
    {"rule enabled not a boolean", RULE_HEAD("r") "  condition: x\n  enabled: maybe\n",
     LOAD_ERR_YAML_VALIDATE, 6, 12},
    {"rule tags a scalar", RULE_HEAD("r") "  condition: x\n  tags: t\n", LOAD_ERR_YAML_VALIDATE, 6,
     9},
    {"rule tag a sequence", RULE_HEAD("r") "  condition: x\n  tags: [a, [b]]\n",
     LOAD_ERR_YAML_VALIDATE, 6, 13},
    {"rule capture_duration not a number",
     RULE_HEAD("r") "  condition: x\n  capture_duration: 5s\n", LOAD_ERR_YAML_VALIDATE, 6, 21},
    {"rule source a sequence", RULE_HEAD("r") "  condition: x\n  source: [a]\n",
     LOAD_ERR_YAML_VALIDATE, 6, 11},
    {"rule warn_evttypes null", RULE_HEAD("r") "  condition: x\n  warn_evttypes:\n",
     LOAD_ERR_YAML_VALIDATE, 6, 3},
    {"unknown source", RULE_HEAD("r") "  condition: x\n  source: k8s_audit\n", LOAD_UNKNOWN_SOURCE,
     6, 11},
    /* override and append (b.8) */
    {"override a scalar", "- list: a\n  items: [x]\n  override: append\n", LOAD_ERR_YAML_VALIDATE,
     3, 13},
    {"override operation unknown", "- list: a\n  items: [x]\n  override: {items: merge}\n",
     LOAD_ERR_YAML_VALIDATE, 3, 21},
    {"override with no entry", "- list: a\n  items: [x]\n  override: {}\n", LOAD_ERR_YAML_VALIDATE,
     3, 13},
    {"override append of priority",
     "- rule: r\n  priority: INFO\n  override:\n    priority: append\n", LOAD_ERR_YAML_VALIDATE, 4,
     5},
    {"override replace of source", "- rule: r\n  source: x\n  override:\n    source: replace\n",
     LOAD_ERR_YAML_VALIDATE, 4, 5},
    {"override append of a list name", "- list: a\n  items: [x]\n  override: {list: append}\n",
     LOAD_ERR_YAML_VALIDATE, 3, 14},
    {"override of an absent key", "- macro: m\n  override: {condition: append}\n",
     LOAD_ERR_YAML_VALIDATE, 2, 14},
    {"overridable key not under override",
     "- rule: r\n  condition: x\n  output: y\n  override: {condition: append}\n",
     LOAD_ERR_YAML_VALIDATE, 3, 3},
    {"override with append: true",
     "- macro: m\n  condition: x\n  append: true\n  override: {condition: append}\n",
     LOAD_ERR_YAML_VALIDATE, 4, 3},
    {"append rule without condition or exceptions", "- rule: r\n  append: true\n  output: o\n",
     LOAD_ERR_YAML_VALIDATE, 1, 3},
    {"append: true is deprecated",
     "- list: a\n  items: []\n- list: a\n  items: [b]\n  append: "
     "true\n",
     LOAD_DEPRECATED_ITEM, 5, 3},
    {"enable-only item is deprecated", RULE_HEAD("r") "  condition: x\n- rule: r\n  enabled: no\n",
     LOAD_DEPRECATED_ITEM, 6, 3},
    {"list append without a list", "- list: a\n  items: [x]\n  append: true\n", LOAD_ERR_VALIDATE,
     1, 3},
    {"macro override append without a macro",
     "- macro: m\n  condition: and x\n  override: {condition: append}\n", LOAD_ERR_VALIDATE, 1, 3},
    {"rule override replace without a rule",
     "- rule: r\n  priority: INFO\n  override: {priority: replace}\n", LOAD_ERR_VALIDATE, 1, 3},
    {"rule legacy append without a rule", "- rule: r\n  condition: and x\n  append: true\n",
     LOAD_ERR_VALIDATE, 1, 3},
    {"enable-only without a rule", "- rule: r\n  enabled: false\n", LOAD_ERR_VALIDATE, 1, 3},
    {"override changes the source",
     RULE_HEAD("r") "  condition: x\n- rule: r\n  source: k8s_audit\n  condition: and y\n"
		    "  override: {condition: append}\n",
     LOAD_ERR_VALIDATE, 7, 11},
    /* exceptions (b.10) */
    {"exceptions a mapping", RULE_HEAD("r") "  condition: x\n  exceptions: {name: e}\n",
     LOAD_ERR_YAML_VALIDATE, 6, 15},
    {"exception a scalar", RULE_HEAD("r") "  condition: x\n  exceptions: [e]\n",
     LOAD_ERR_YAML_VALIDATE, 6, 16},
    {"exception without name", RULE_HEAD("r") "  condition: x\n  exceptions:\n  - fields: a\n",
     LOAD_ERR_YAML_VALIDATE, 7, 5},
    {"exception fields a mapping",
     RULE_HEAD("r") "  condition: x\n  exceptions:\n  - name: e\n    fields: {a: b}\n",
     LOAD_ERR_YAML_VALIDATE, 8, 13},
    {"exception values a scalar",
     RULE_HEAD("r") "  condition: x\n  exceptions:\n  - name: e\n    fields: a\n    values: v\n",
     LOAD_ERR_YAML_VALIDATE, 9, 13},
    {"exception values nested too deep",
     RULE_HEAD("r") "  condition: x\n  exceptions:\n  - name: e\n    fields: [a]\n"
		    "    values: [[[[v]]]]\n",
     LOAD_ERR_YAML_VALIDATE, 9, 16},
    {"exception unknown key",
     RULE_HEAD("r") "  condition: x\n  exceptions:\n  - name: e\n    fields: a\n    colour: red\n",
     LOAD_UNKNOWN_KEY, 9, 5},
    {"exception name twice",
     RULE_HEAD("r") "  condition: x\n  exceptions:\n  - name: e\n    fields: a\n"
		    "  - name: e\n    fields: b\n",
     LOAD_EXCEPTION_NAME_NOT_UNIQUE, 9, 5},
    {"exception without fields",
     RULE_HEAD("r") "  condition: x\n  exceptions:\n  - name: e\n    values: [a]\n",
     LOAD_ERR_VALIDATE, 7, 5},
    {"appended exception without values",
     RULE_HEAD("r") "  condition: x\n  exceptions:\n  - name: e\n    fields: a\n"
		    "- rule: r\n  exceptions:\n  - name: e\n  override: {exceptions: append}\n",
     LOAD_APPEND_NO_VALUES, 11, 5},
    {"appended exception restates fields",
     RULE_HEAD("r") "  condition: x\n  exceptions:\n  - name: e\n    fields: a\n"
		    "- rule: r\n  exceptions:\n  - name: e\n    fields: a\n    values: [v]\n"
		    "  append: true\n",
     LOAD_ERR_VALIDATE, 11, 5},
    {"new appended exception without values",
     RULE_HEAD("r") "  condition: x\n"
		    "- rule: r\n  exceptions:\n  - name: e\n    fields: a\n"
		    "  override: {exceptions: append}\n",
     LOAD_ERR_VALIDATE, 8, 5},
    {"fields and comps of different lengths",
     RULE_HEAD("r") "  condition: x\n  exceptions:\n  - name: e\n    fields: [a, b]\n"
		    "    comps: [=]\n    values: [[1, 2]]\n",
     LOAD_ERR_VALIDATE, 9, 12},
    {"fields and values of different lengths",
     RULE_HEAD("r") "  condition: x\n  exceptions:\n  - name: e\n    fields: [a, b]\n"
		    "    values:\n    - [1, 2]\n    - [1]\n",
     LOAD_ERR_VALIDATE, 11, 7},
    {"value tuple a scalar with list fields",
     RULE_HEAD("r") "  condition: x\n  exceptions:\n  - name: e\n    fields: [a]\n"
		    "    values: [v]\n",
     LOAD_ERR_VALIDATE, 9, 14},
    {"comp not an operator",
     RULE_HEAD("r") "  condition: x\n  exceptions:\n  - name: e\n    fields: [a, b]\n"
		    "    comps: [=, like]\n    values: [[1, 2]]\n",
     LOAD_ERR_VALIDATE, 9, 16},
    {"single field with comp =",
     RULE_HEAD("r") "  condition: x\n  exceptions:\n  - name: e\n    fields: a\n"
		    "    comps: =\n    values: [v]\n",
     LOAD_ERR_VALIDATE, 9, 12},
    {"single field with list comps",
     RULE_HEAD("r") "  condition: x\n  exceptions:\n  - name: e\n    fields: a\n"
		    "    comps: [in]\n    values: [v]\n",
     LOAD_ERR_VALIDATE, 9, 12},
    {"single field with a list value",
     RULE_HEAD("r") "  condition: x\n  exceptions:\n  - name: e\n    fields: a\n"
		    "    values: [v, [w]]\n",
     LOAD_ERR_VALIDATE, 9, 17},
    /* versions (b.2, b.3) */
    {"engine version unparseable", "- required_engine_version: 0.x\n", LOAD_ERR_YAML_VALIDATE, 1,
     28},
    {"engine version a sequence", "- required_engine_version: [1]\n", LOAD_ERR_YAML_VALIDATE, 1,
     28},
    {"engine version too new", "- required_engine_version: 0.99.0\n", LOAD_ERR_VALIDATE, 1, 28},
    {"engine version other major", "- required_engine_version: 1.0.0\n", LOAD_ERR_VALIDATE, 1, 28},
    {"engine version as a number, too new", "- required_engine_version: 64\n", LOAD_ERR_VALIDATE, 1,
     28},
    {"plugin versions a scalar", "- required_plugin_versions: container\n", LOAD_ERR_YAML_VALIDATE,
     1, 29},
    {"plugin entry a scalar", "- required_plugin_versions: [container]\n", LOAD_ERR_YAML_VALIDATE,
     1, 30},
    {"plugin entry without version", "- required_plugin_versions:\n  - name: container\n",
     LOAD_ERR_YAML_VALIDATE, 2, 5},
    {"plugin version invalid",
     "- required_plugin_versions:\n  - name: container\n    version: 0.4\n", LOAD_ERR_VALIDATE, 3,
     14},
    {"plugin named twice in one requirement",
     "- required_plugin_versions:\n  - name: json\n    version: 0.1.0\n    alternatives:\n"
     "      - name: json\n        version: 0.2.0\n",
     LOAD_ERR_VALIDATE, 5, 15},
    {"plugin not provided by saker",
     "- required_plugin_versions:\n  - name: k8saudit\n    version: 0.1.0\n", LOAD_ERR_VALIDATE, 2,
     5},
    {"container plugin of another major",
     "- required_plugin_versions:\n  - name: container\n    version: 1.0.0\n", LOAD_ERR_VALIDATE, 2,
     5},
};

static void check_bad_case(const struct bad_case *bc)
{
	struct rules_collection *c = collect(bc->yaml);
	const struct load_msg *m = find_msg(c, bc->code);
	bool error = load_code_severity(bc->code) == LOAD_SEV_ERROR;

	CHECK(m != NULL);
	if (m) {
		CHECK_EQ_INT(m->line, bc->line);
		CHECK_EQ_INT(m->col, bc->col);
		CHECK_EQ_STR(m->file, "test.yaml");
		CHECK(m->text && *m->text);
	}
	/* an error is the file's only error; a warning comes without errors */
	CHECK_EQ_INT(c->msgs.n_errors, error ? 1 : 0);
	CHECK(rules_collection_ok(c) == !error);
	if (getenv("SHOW_MSGS")) /* to read every message's wording */
		dump_msgs(c);
	if (tap_cur_failed)
		dump_msgs(c);
	rules_collection_free(c);
}

/* --- Redefinition, append, override (b.8, b.9) ------------------------------------------ */

TEST(redefinition_keeps_position)
{
	char path[4096];
	struct rules_collection *c = rules_collection_new();

	rules_collect_path(c, source_path(path, sizeof(path), "tests/rules/traps.yaml"));
	rules_collection_finish(c);
	CHECK_EQ_INT(c->msgs.n, 0);
	CHECK_EQ_INT(c->n_rules, 2);
	if (c->n_rules == 2) {
		CHECK_EQ_STR(c->rules[0].name, "Order A");
		CHECK_EQ_STR(c->rules[0].desc, "redefined last, still first in order");
		CHECK_EQ_INT(c->rules[0].priority, RULES_PRIO_ERROR);
		CHECK_EQ_INT(c->rules[0].pos.line, 30);
		CHECK(c->rules[0].index < c->rules[1].index);
		CHECK_EQ_STR(c->rules[1].name, "Order B");
	}
	rules_collection_free(c);
}

TEST(list_redefinition_and_visibility)
{
	struct rules_collection *c =
	    collect_ok("- list: a\n  items: [x]\n"
		       "- list: b\n  items: [a, y]\n"
		       "- list: a\n  items: [z]\n" /* redefined: same index, new items */
		       "- macro: m\n  condition: p.n in (b) and p.n in (a)\n");
	const struct rules_list *a = rules_collection_list(c, "a");

	CHECK_EQ_STR(macro_text(c, "m"), "p.n in ( z, y ) and p.n in ( z )");
	CHECK(a && a->index == 1 && a->visibility == 3);
	CHECK_EQ_STR(c->lists[0].name, "a");
	rules_collection_free(c);
}

TEST(list_append_and_override)
{
	struct rules_collection *c =
	    collect("- list: a\n  items: [x]\n"
		    "- list: a\n  items: [y]\n  append: true\n"
		    "- list: a\n  items: [z]\n  override: {items: append}\n"
		    "- list: b\n  items: [p]\n"
		    "- list: b\n  items: [q]\n  override: {items: replace}\n"
		    "- list: new\n  items: [n]\n  override: {items: replace}\n"
		    "- macro: m\n  condition: p.n in (a) or p.n in (b) or p.n in (new)\n");

	CHECK_EQ_STR(macro_text(c, "m"), "p.n in ( x, y, z ) or p.n in ( q ) or p.n in ( n )");
	CHECK_EQ_INT(c->msgs.n_errors, 0);
	CHECK_EQ_INT(count_msgs(c, LOAD_DEPRECATED_ITEM), 1);
	CHECK_EQ_INT(c->n_lists, 3);
	rules_collection_free(c);
}

TEST(macro_append_and_override)
{
	struct rules_collection *c =
	    collect("- macro: m\n  condition: a\n"
		    "- macro: m\n  condition: or b\n  append: true\n"
		    "- macro: m\n  condition: or c\n  override: {condition: append}\n"
		    "- macro: n\n  condition: old\n"
		    "- macro: n\n  condition: new\n  override: {condition: replace}\n"
		    "- macro: o\n  condition: fresh\n  override: {condition: replace}\n");

	CHECK_EQ_STR(macro_text(c, "m"), "a or b or c");
	CHECK_EQ_STR(macro_text(c, "n"), "new");
	CHECK_EQ_STR(macro_text(c, "o"), "fresh");
	CHECK_EQ_INT(c->msgs.n_errors, 0);
	CHECK(c->macros[0].visibility > c->macros[0].index);
	rules_collection_free(c);
}

TEST(rule_override_append_each_key)
{
	struct rules_collection *c =
	    collect_ok("- rule: r\n  desc: d\n  output: o %a\n  priority: INFO\n  condition: c\n"
		       "  tags: [t1]\n"
		       "  exceptions:\n  - name: e\n    fields: f\n    values: [v1]\n"
		       "- rule: r\n"
		       "  condition: and c2\n  output: '  %b  '\n  desc: more\n  tags: [t2, t1]\n"
		       "  exceptions:\n  - name: e\n    values: [v2]\n"
		       "  - name: e2\n    fields: [g]\n    values: [[w]]\n"
		       "  override:\n    condition: append\n    output: append\n    desc: append\n"
		       "    tags: append\n    exceptions: append\n");
	const struct rules_rule *r = rules_collection_rule(c, "r");

	CHECK(r != NULL);
	if (r) {
		CHECK_EQ_STR(r->condition, "c and c2");
		CHECK_EQ_STR(r->output, "o %a %b");
		CHECK_EQ_STR(r->desc, "d more");
		CHECK_EQ_INT(r->n_tags, 2);
		CHECK_EQ_INT(r->n_exceptions, 2);
		CHECK_EQ_STR(r->cond.text, "(c and c2) and not (f in (v1, v2)) and not (( g = w))");
	}
	rules_collection_free(c);
}

TEST(rule_override_replace_each_key)
{
	struct rules_collection *c = collect_ok(
	    "- rule: r\n  desc: d\n  output: o\n  priority: INFO\n  condition: c\n"
	    "  tags: [t1]\n"
	    "  exceptions:\n  - name: e\n    fields: f\n    values: [v1]\n"
	    "- rule: r\n"
	    "  condition: c2\n  output: o2\n  desc: d2\n  priority: ALERT\n  tags: [t2]\n"
	    "  exceptions:\n  - name: x\n    fields: g\n    values: [w]\n"
	    "  enabled: false\n  warn_evttypes: false\n  skip-if-unknown-filter: true\n"
	    "  capture: true\n  capture_duration: 250\n  source: syscall\n"
	    "  override:\n    condition: replace\n    output: replace\n    desc: replace\n"
	    "    priority: replace\n    tags: replace\n    exceptions: replace\n"
	    "    enabled: replace\n    warn_evttypes: replace\n    skip-if-unknown-filter: "
	    "replace\n"
	    "    capture: replace\n    capture_duration: replace\n");
	const struct rules_rule *r = rules_collection_rule(c, "r");

	CHECK(r != NULL);
	if (r) {
		CHECK_EQ_STR(r->condition, "c2");
		CHECK_EQ_STR(r->output, "o2");
		CHECK_EQ_STR(r->desc, "d2");
		CHECK_EQ_INT(r->priority, RULES_PRIO_ALERT);
		CHECK(r->n_tags == 1 && strcmp(r->tags[0], "t2") == 0);
		CHECK(!r->enabled && !r->warn_evttypes && r->skip_if_unknown_filter && r->capture);
		CHECK_EQ_INT(r->capture_duration, 250);
		CHECK_EQ_STR(r->cond.text, "(c2) and not (g in (w))");
		CHECK_EQ_INT(r->cond_pos.line, 12);
	}
	rules_collection_free(c);
}

TEST(appends_apply_before_replaces)
{
	/* the replace is listed first but applies after the append */
	struct rules_collection *c =
	    collect_ok(RULE_HEAD("r") "  condition: c\n"
				      "- rule: r\n  desc: new\n  condition: and x\n"
				      "  override:\n    desc: replace\n    condition: append\n");

	CHECK_EQ_STR(rule_text(c, "r"), "(c and x)");
	CHECK_EQ_STR(rules_collection_rule(c, "r")->desc, "new");
	rules_collection_free(c);
}

TEST(legacy_append_and_enable_only)
{
	struct rules_collection *c = collect(
	    RULE_HEAD("r") "  condition: c\n"
			   "- rule: r\n  condition: and x\n  append: true\n  enabled: false\n"
			   "  output: ignored\n"
			   "- rule: r\n  exceptions:\n  - name: e\n    fields: f\n    values: [v]\n"
			   "  append: true\n"
			   "- rule: s\n  desc: d\n  output: o\n  priority: INFO\n  condition: c\n"
			   "- rule: s\n  enabled: false\n");

	CHECK_EQ_INT(c->msgs.n_errors, 0);
	CHECK_EQ_INT(count_msgs(c, LOAD_DEPRECATED_ITEM), 3);
	CHECK_EQ_STR(rule_text(c, "r"), "(c and x) and not (f in (v))");
	CHECK(rules_collection_rule(c, "r")->enabled); /* legacy append ignores enabled */
	CHECK_EQ_STR(rules_collection_rule(c, "r")->output, "o");
	CHECK(!rules_collection_rule(c, "s")->enabled);
	rules_collection_free(c);
}

TEST(enabled_via_override)
{
	struct rules_collection *c = collect_ok(
	    RULE_HEAD("r") "  condition: c\n  enabled: false\n"
			   "- rule: r\n  enabled: true\n  override: {enabled: replace}\n");

	CHECK(rules_collection_rule(c, "r")->enabled);
	rules_collection_free(c);
}

TEST(unknown_source_rules_are_kept_but_skipped)
{
	struct rules_collection *c =
	    collect(RULE_HEAD("r") "  condition: ka.verb = get\n"
				   "  source: k8s_audit\n"
				   "- rule: r\n  condition: and x\n  source: "
				   "k8s_audit\n  override: {condition: append}\n"
				   "- macro: only_there\n  condition: a\n");
	const struct rules_rule *r = rules_collection_rule(c, "r");

	CHECK_EQ_INT(c->msgs.n_errors, 0);
	CHECK_EQ_INT(count_msgs(c, LOAD_UNKNOWN_SOURCE), 1);
	CHECK(r && r->unknown_source && !r->cond.text);
	CHECK_EQ_STR(r->condition, "ka.verb = get and x");
	rules_collection_free(c);
}

TEST(empty_source_means_default)
{
	struct rules_collection *c = collect_ok(RULE_HEAD("r") "  condition: c\n  source:\n"
							       "- rule: r\n  condition: and d\n"
							       "  source: ''\n"
							       "  override: {condition: append}\n");

	CHECK_EQ_STR(rules_collection_rule(c, "r")->source, "syscall");
	CHECK_EQ_STR(rule_text(c, "r"), "(c and d)");
	rules_collection_free(c);
}

/* --- Exceptions (b.10) ---------------------------------------------------------------- */

TEST(exceptions_spec_example_and_default_comps)
{
	char path[4096];
	struct rules_collection *c = rules_collection_new();

	CHECK_EQ_INT(
	    rules_collect_path(c, source_path(path, sizeof(path), "tests/rules/exceptions.yaml")),
	    0);
	CHECK_EQ_INT(rules_collection_finish(c), 0);
	CHECK_EQ_STR(rule_text(c, "Backup tools"),
		     "(evt.type = open) and not (( proc.name = backup-agent and  fd.directory in "
		     "(/var/backups, /srv/dump)) or ( proc.name = \"log shipper\" and  "
		     "fd.directory in (/var/log)))");
	CHECK_EQ_STR(rule_text(c, "Default comps"),
		     "(evt.type = connect) and not (( proc.name = curl and  proc.pname = bash)) "
		     "and not (proc.name in (wget, \"my tool\", \"pre quoted\"))");
	CHECK_EQ_INT(c->msgs.n, 0);
	rules_collection_free(c);
}

TEST(exceptions_quoting_and_operators)
{
	struct rules_collection *c = collect_ok(RULE_HEAD(
	    "r") "  condition: c\n"
		 "  exceptions:\n"
		 "  - name: ops\n"
		 "    fields: [proc.name, fd.name, proc.cmdline, proc.exe, fd.directory]\n"
		 "    comps: [' != ', pmatch, contains, startswith anyof, in]\n"
		 "    values:\n"
		 "      - [a b, /x, a=b, '(p, q)', '(already)']\n"
		 "      - ['\"q r\"', [/y, z w], toupper(x), s, t]\n"
		 "  - name: modifier\n"
		 "    fields: fd.name\n"
		 "    comps: endswith oneof\n"
		 "    values: [.a, .b]\n"
		 "  - name: empty\n"
		 "    fields: [fd.name]\n"
		 "    values: []\n");

	CHECK_EQ_STR(rule_text(c, "r"),
		     "(c) and not (( proc.name != \"a b\" and  fd.name pmatch (/x) and  "
		     "proc.cmdline contains a=b and  proc.exe startswith anyof (p, q) and  "
		     "fd.directory in (already)) or ( proc.name != \"q r\" and  fd.name pmatch "
		     "(/y, \"z w\") and  proc.cmdline contains toupper(x) and  proc.exe startswith "
		     "anyof (s) and  fd.directory in (t))) and not (fd.name endswith oneof (.a, "
		     ".b))");
	rules_collection_free(c);
}

TEST(exception_values_expand_lists)
{
	struct rules_collection *c = collect_ok("- list: tools\n  items: [a, b]\n" RULE_HEAD(
	    "r") "  condition: c\n"
		 "  exceptions:\n  - name: e\n    fields: proc.name\n    values: [tools]\n");

	CHECK_EQ_STR(rule_text(c, "r"), "(c) and not (proc.name in ( a, b ))");
	CHECK(c->lists[0].used);
	rules_collection_free(c);
}

/* --- List expansion (b.11, trap 1) --------------------------------------------------------- */

static const struct expand_case {
	const char *label;
	const char *lists; /* YAML list items */
	const char *cond;
	const char *want;
} expand_cases[] = {
    {"basic", "- list: l\n  items: [a, b]\n", "x in (l)", "x in ( a, b )"},
    {"blanks around are taken", "- list: l\n  items: [a]\n", "x in (  l\t)", "x in ( a )"},
    {"at the start", "- list: l\n  items: [a]\n", "l or x", "a or x"},
    {"at the end", "- list: l\n  items: [a]\n", "x in l", "x in a "},
    {"after =", "- list: l\n  items: [a]\n", "x=l", "x= a "},
    {"no match inside a word", "- list: l\n  items: [a]\n", "ll or l.x or x.l or l_ or (l)",
     "ll or l.x or x.l or l_ or ( a )"},
    {"several occurrences", "- list: l\n  items: [a]\n", "(l) and (l)", "( a ) and ( a )"},
    {"inside a quoted string when space-delimited", "- list: l\n  items: [a, b]\n",
     "x = \"run l now\" and y = \"l-x\"", "x = \"run a, b now\" and y = \"l-x\""},
    {"items with spaces are quoted", "- list: l\n  items: [a b, c]\n", "x in (l)",
     "x in ( \"a b\", c )"},
    {"pre-quoted items keep their quotes", "- list: l\n  items: ['\"a b\"', \"'c d'\", '\"e\"']\n",
     "x in (l)", "x in ( \"a b\", 'c d', \"e\" )"},
    {"raw numbers stay text", "- list: l\n  items: [22, 0x10, yes, 1.50]\n", "p in (l)",
     "p in ( 22, 0x10, yes, 1.50 )"},
    {"empty list alone", "- list: e\n  items: []\n", "x in (e)", "x in (  )"},
    {"empty list swallows the comma on its left", "- list: e\n  items: []\n", "x in (a, e)",
     "x in (a  )"},
    {"empty list swallows the comma on its right", "- list: e\n  items: []\n", "x in (e, a)",
     "x in (   a)"},
    {"empty list between items", "- list: e\n  items: []\n", "x in (a, e, b)", "x in (a  , b)"},
    {"two empty lists", "- list: e\n  items: []\n- list: f\n  items: []\n", "x in (e, f)",
     "x in (  )"},
    {"item naming a later list: substituted in the condition",
     "- list: first\n  items: [second]\n- list: second\n  items: [z]\n", "x in (first)",
     "x in ( z )"},
    {"item naming an earlier list: expanded in the list",
     "- list: second\n  items: [z]\n- list: first\n  items: [second]\n", "x in (first)",
     "x in ( z )"},
    {"inserted text is substituted by later lists",
     "- list: a\n  items: ['b,q']\n- list: b\n  items: [z]\n", "x in (a)", "x in ( z ,q )"},
    {"inserted text is not substituted by earlier lists",
     "- list: b\n  items: [z]\n- list: a\n  items: ['b,q']\n", "x in (a)", "x in ( b,q )"},
    {"a list naming itself", "- list: a\n  items: [a, x]\n", "y in (a)", "y in ( a, x )"},
    {"list name with a blank", "- list: test list\n  items: [a]\n", "x in (test list)",
     "x in ( a )"},
    {"unreferenced text is untouched", "- list: l\n  items: [a]\n", "proc.name = other",
     "proc.name = other"},
};

/* Appends text as a single-quoted YAML scalar. */
static void add_yaml_quoted(struct strbuf *sb, const char *text)
{
	sb_addc(sb, '\'');
	for (const char *p = text; *p; p++) {
		if (*p == '\'')
			sb_addc(sb, '\'');
		sb_addc(sb, *p);
	}
	sb_addc(sb, '\'');
}

static void check_expand_case(const struct expand_case *ec)
{
	struct strbuf yaml = STRBUF_INIT;
	struct rules_collection *c = rules_collection_new();

	sb_addf(&yaml, "%s- macro: m\n  condition: ", ec->lists);
	add_yaml_quoted(&yaml, ec->cond);
	sb_addc(&yaml, '\n');
	rules_collect_buffer(c, "expand.yaml", yaml.buf, yaml.len);
	rules_collection_finish(c);
	CHECK_EQ_INT(c->msgs.n_errors, 0);
	CHECK_EQ_STR(macro_text(c, "m"), ec->want);
	if (tap_cur_failed)
		dump_msgs(c);
	rules_collection_free(c);
	sb_release(&yaml);
}

TEST(expansion_origin_map)
{
	struct rules_collection *c = collect("- list: l\n  items: [aa, bb]\n");
	struct rules_cond e;
	const char *src = "p in (l) and q = 1";

	rules_expand_lists(c, src, &e);
	CHECK_EQ_STR(e.text, "p in ( aa, bb ) and q = 1");
	CHECK_EQ_STR(e.source, src);
	CHECK_EQ_INT(e.len, strlen(e.text));
	CHECK_EQ_INT(e.origin[0], 0);	/* p */
	CHECK_EQ_INT(e.origin[5], 5);	/* ( */
	CHECK_EQ_INT(e.origin[7], 6);	/* an inserted character: the list name's offset */
	CHECK_EQ_INT(e.origin[13], 6);	/* the blank inserted after the items */
	CHECK_EQ_INT(e.origin[14], 7);	/* ) */
	CHECK_EQ_INT(e.origin[24], 17); /* 1 */
	CHECK_EQ_INT(e.origin[e.len], strlen(src));
	rules_cond_free(&e);
	rules_collection_free(c);
}

/* A direct model of b.11.2 for the differential test below: every list in order, every
 * occurrence searched over the whole text. */
static bool model_delim(char ch)
{
	return ch && strchr(" \t\r\n(),=", ch);
}

static char *model_expand(const struct rules_collection *c, const char *src)
{
	struct strbuf t = STRBUF_INIT;

	sb_adds(&t, src);
	sb_add(&t, "", 0);
	for (size_t li = 0; li < c->n_lists; li++) {
		const struct rules_list *l = &c->lists[li];
		struct strbuf sub = STRBUF_INIT;
		size_t nlen = strlen(l->name), pos = 0;
		char *p;

		sb_add(&sub, "", 0);
		for (size_t k = 0; k < l->n_items; k++) {
			bool q = strchr(l->items[k], ' ') && !strchr("\"'", l->items[k][0]);

			sb_addf(&sub, "%s%s%s%s", k ? ", " : "", q ? "\"" : "", l->items[k],
				q ? "\"" : "");
		}
		while (pos < t.len && (p = strstr(t.buf + pos, l->name))) {
			size_t start = (size_t)(p - t.buf), end = start + nlen;
			struct strbuf n = STRBUF_INIT;

			if ((start && !model_delim(t.buf[start - 1])) ||
			    !(model_delim(t.buf[end]) || !t.buf[end])) {
				pos = start + 1;
				continue;
			}
			while (start && strchr(" \t\r\n", t.buf[start - 1]))
				start--;
			while (t.buf[end] && strchr(" \t\r\n", t.buf[end]))
				end++;
			if (!sub.len && start && t.buf[start - 1] == ',')
				start--;
			else if (!sub.len && t.buf[end] == ',')
				end++;
			sb_add(&n, t.buf, start);
			sb_addf(&n, "%s%s %s", start ? " " : "", sub.buf, t.buf + end);
			pos = start + (start ? 1 : 0) + sub.len + 1;
			sb_release(&t);
			t = n;
		}
		sb_release(&sub);
	}
	return t.buf;
}

static unsigned rnd(unsigned *state, unsigned n)
{
	*state = *state * 1103515245u + 12345u;
	return (*state >> 16) % n;
}

TEST(expansion_matches_the_direct_model)
{
	static const char *const names[] = {"a", "b", "ab", "a b", "c,d", "e"};
	static const char *const pieces[] = {"a", "b", "ab", "a b", "c,d", "e", "x",   " ",  "  ",
					     "(", ")", ",",  "=",   "\"",  "'", "a.b", "\t", "\n"};
	unsigned state = 12345;
	int mismatches = 0, changed = 0;

	for (int round = 0; round < 200; round++) {
		struct strbuf yaml = STRBUF_INIT;
		struct rules_collection *c = rules_collection_new();

		for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
			unsigned n = rnd(&state, 4);

			sb_addf(&yaml, "- list: '%s'\n  items: [", names[rnd(&state, 6)]);
			for (unsigned k = 0; k < n; k++)
				sb_addf(&yaml, "%s'%s'", k ? ", " : "",
					rnd(&state, 2) ? names[rnd(&state, 6)] : "y z");
			sb_adds(&yaml, "]\n");
		}
		rules_collect_buffer(c, "random.yaml", yaml.buf, yaml.len);
		rules_collection_finish(c);
		for (int k = 0; k < 20; k++) {
			struct strbuf cond = STRBUF_INIT;
			struct rules_cond e;
			char *want;
			unsigned n = 1 + rnd(&state, 12);

			for (unsigned j = 0; j < n; j++)
				sb_adds(&cond,
					pieces[rnd(&state, sizeof(pieces) / sizeof(pieces[0]))]);
			rules_expand_lists(c, cond.buf, &e);
			want = model_expand(c, cond.buf);
			changed += strcmp(e.text, cond.buf) != 0;
			if (strcmp(e.text, want) != 0 && mismatches++ < 5)
				printf("# [%s] -> [%s], model [%s]\n", cond.buf, e.text, want);
			for (size_t i = 0; i <= e.len; i++)
				CHECK(e.origin[i] <= strlen(cond.buf));
			free(want);
			rules_cond_free(&e);
			sb_release(&cond);
		}
		sb_release(&yaml);
		rules_collection_free(c);
	}
	CHECK_EQ_INT(mismatches, 0);
	CHECK(changed > 1000); /* most conditions named some list */
	printf("# %d of 4000 conditions changed\n", changed);
}

TEST(list_in_list_visibility)
{
	/* b.9: an item naming list M expands only if M was defined before the list was last
	 * touched; later lists stay literal values */
	struct rules_collection *c = collect_ok("- list: base\n  items: [a]\n"
						"- list: early\n  items: [base, later]\n"
						"- list: later\n  items: [z]\n"
						"- list: touched\n  items: [x]\n"
						"- list: late2\n  items: [y]\n"
						"- list: touched\n  items: [late2]\n"
						"  override: {items: append}\n");
	const struct rules_list *early = rules_collection_list(c, "early");
	const struct rules_list *touched = rules_collection_list(c, "touched");

	CHECK(early && early->n_items == 2);
	if (early && early->n_items == 2) {
		CHECK_EQ_STR(early->items[0], "a");
		CHECK_EQ_STR(early->items[1], "later");
	}
	CHECK(touched && touched->n_items == 2);
	if (touched && touched->n_items == 2)
		CHECK_EQ_STR(touched->items[1], "y");
	/* used: base and late2 inside lists; the others nowhere */
	CHECK(rules_collection_list(c, "base")->used);
	CHECK(rules_collection_list(c, "late2")->used);
	CHECK(!rules_collection_list(c, "later")->used);
	rules_collection_free(c);
}

TEST(unused_lists_and_macros)
{
	struct rules_collection *c =
	    collect("- list: used_in_macro\n  items: [a]\n"
		    "- list: unused\n  items: [a]\n"
		    "- list: only_in_skipped\n  items: [a]\n"
		    "- macro: helper\n  condition: p.n in (used_in_macro)\n"
		    "- macro: top\n  condition: helper and x.y = \"q\"\n"
		    "- macro: lonely\n  condition: lonely_self or lonely\n"
		    "- macro: for_skipped\n  condition: a\n"
		    "- macro: field_like\n  condition: a\n" RULE_HEAD(
			"r") "  enabled: false\n"
			     "  condition: top and p.field_like = 1\n" RULE_HEAD(
				 "k") "  source: other\n"
				      "  condition: for_skipped and p in (only_in_skipped)\n");

	rules_collection_check_unused(c);
	CHECK_EQ_INT(c->msgs.n_errors, 0);
	CHECK_EQ_INT(count_msgs(c, LOAD_UNUSED_LIST), 2);
	CHECK_EQ_INT(count_msgs(c, LOAD_UNUSED_MACRO), 3);
	CHECK(!rules_collection_list(c, "unused")->used);
	CHECK(!rules_collection_list(c, "only_in_skipped")->used);
	CHECK(rules_collection_macro(c, "helper")->used);
	CHECK(rules_collection_macro(c, "top")->used); /* by a disabled rule: still used */
	CHECK(!rules_collection_macro(c, "lonely")->used);
	CHECK(!rules_collection_macro(c, "for_skipped")->used);
	CHECK(!rules_collection_macro(c, "field_like")->used);
	rules_collection_free(c);
}

/* --- Several files, directories ------------------------------------------------------- */

TEST(several_files_in_order)
{
	static const char a[] =
	    "- list: l\n  items: [x]\n"
	    "- macro: m\n  condition: p in (l)\n" RULE_HEAD("first") "  condition: m\n" RULE_HEAD(
		"second") "  condition: m\n";
	static const char b[] = "- list: l\n  items: [y]\n  override: {items: append}\n"
				"- macro: m\n  condition: q in (l)\n" RULE_HEAD(
				    "first") "  condition: n\n"
					     "- macro: n\n  condition: later\n";
	struct rules_collection *c = rules_collection_new();

	CHECK_EQ_INT(rules_collect_buffer(c, "a.yaml", a, strlen(a)), 0);
	CHECK_EQ_INT(rules_collect_buffer(c, "b.yaml", b, strlen(b)), 0);
	CHECK_EQ_INT(rules_collection_finish(c), 0);
	CHECK_EQ_INT(c->n_rules, 2);
	if (c->n_rules == 2) {
		CHECK_EQ_STR(c->rules[0].name, "first");
		CHECK_EQ_STR(c->rules[0].cond.text, "(n)");
		CHECK_EQ_STR(c->rules[0].pos.file->path, "b.yaml");
		CHECK_EQ_STR(c->rules[1].pos.file->path, "a.yaml");
	}
	CHECK_EQ_STR(macro_text(c, "m"), "q in ( x, y )");
	CHECK_EQ_STR(rules_collection_macro(c, "m")->pos.file->path, "b.yaml");
	rules_collection_free(c);
}

TEST(error_stops_its_file_not_the_next)
{
	static const char a[] = "- list: a\n  items: [x]\n- list: bad\n  items: y\n"
				"- list: never\n  items: []\n";
	static const char b[] = "- list: b\n  items: [x]\n- list: c\n  items: []\n  append: true\n"
				"- list: after_error\n  items: []\n";
	static const char d[] = "- list: d\n  items: [x]\n";
	struct rules_collection *c = rules_collection_new();

	CHECK_EQ_INT(rules_collect_buffer(c, "a.yaml", a, strlen(a)), -1);
	CHECK_EQ_INT(rules_collect_buffer(c, "b.yaml", b, strlen(b)), -1);
	CHECK_EQ_INT(rules_collect_buffer(c, "d.yaml", d, strlen(d)), 0);
	CHECK_EQ_INT(c->msgs.n_errors, 2);
	CHECK(!rules_collection_list(c, "a")); /* nothing of a file the reader rejects */
	CHECK(!rules_collection_list(c, "never"));
	CHECK(rules_collection_list(c, "b")); /* the collector stops at its error */
	CHECK(!rules_collection_list(c, "after_error"));
	CHECK(rules_collection_list(c, "d"));
	CHECK_EQ_INT(rules_collection_finish(c), -1);
	/* finished all the same, so the compiler can check every rule (Decisions) */
	CHECK(rules_collection_list(c, "d")->items);
	CHECK_EQ_INT(rules_collection_list(c, "d")->n_items, 1);
	CHECK_EQ_INT(c->msgs.n_errors, 2);
	rules_collection_free(c);
}

TEST(finish_after_errors_finishes_every_rule)
{
	static const char a[] = "- required_plugin_versions:\n  - name: k8saudit\n"
				"    version: 0.1.0\n" RULE_HEAD(
				    "bad") "  condition: x\n"
					   "  exceptions:\n    - name: e\n      fields: [a, b]\n"
					   "      comps: [=]\n      values: [[1, 2]]\n";
	static const char b[] =
	    "- list: l\n  items: [p, q]\n" RULE_HEAD("good") "  condition: proc.name in (l)\n";
	struct rules_collection *c = rules_collection_new();

	CHECK_EQ_INT(rules_collect_buffer(c, "a.yaml", a, strlen(a)), 0);
	CHECK_EQ_INT(rules_collect_buffer(c, "b.yaml", b, strlen(b)), 0);
	CHECK_EQ_INT(rules_collection_finish(c), -1);
	CHECK_EQ_INT(c->msgs.n_errors, 2); /* the plugin, the comps */
	CHECK(rules_collection_rule(c, "bad")->failed);
	CHECK(!rules_collection_rule(c, "good")->failed);
	CHECK_EQ_STR(rule_text(c, "good"), "(proc.name in ( p, q ))");
	rules_collection_check_unused(c); /* nothing: with errors, "unused" would mislead */
	CHECK_EQ_INT(c->msgs.n_warnings, 0);
	if (tap_cur_failed)
		dump_msgs(c);
	rules_collection_free(c);
}

TEST(positions_of_conditions_outputs_and_appends)
{
	struct rules_collection *c = collect_ok(
	    RULE_HEAD("r") "  condition: evt.type = open\n"
			   "- rule: r\n  condition: and proc.name = x\n"
			   "  output: more\n  override: {condition: append, output: append}\n"
			   "- macro: m\n  condition: a\n"
			   "- macro: m\n  condition: or b\n  override: {condition: append}\n"
			   "- rule: q\n  desc: d\n  priority: INFO\n  condition: m\n"
			   "  output: >\n    folded\n");
	const struct rules_rule *r = rules_collection_rule(c, "r"),
				*q = rules_collection_rule(c, "q");
	const struct rules_macro *m = rules_collection_macro(c, "m");

	CHECK(r && r->cond_pos.line == 5 && r->cond_pos.col == 14);
	CHECK(r && r->output_pos.line == 3 && r->output_pos.col == 11);
	CHECK_EQ_INT(r ? r->n_cond_appends : 0, 1);
	CHECK_EQ_INT(r ? r->n_output_appends : 0, 1);
	if (r && r->n_cond_appends == 1 && r->n_output_appends == 1) {
		CHECK_EQ_INT(r->cond_appends[0].offset, strlen("evt.type = open "));
		CHECK_EQ_INT(r->cond_appends[0].pos.line, 7);
		CHECK_EQ_INT(r->cond_appends[0].pos.col, 14);
		CHECK_EQ_STR(r->condition + r->cond_appends[0].offset, "and proc.name = x");
		CHECK_EQ_STR(r->output + r->output_appends[0].offset, "more");
		CHECK_EQ_INT(r->output_appends[0].pos.line, 8);
	}
	CHECK(m && m->cond_pos.line == 11 && m->n_cond_appends == 1 &&
	      m->cond_appends[0].offset == 2 && m->cond_appends[0].pos.line == 13);
	CHECK(q && q->output_pos.line == 19 && q->output_pos.col == 11); /* the '>' */
	rules_collection_free(c);
}

TEST(locate_exception_text)
{
	struct rules_collection *c = collect_ok(
	    RULE_HEAD("r") "  condition: evt.type = open\n  exceptions:\n"
			   "    - name: one\n      fields: proc.name\n      values: [a, b]\n"
			   "    - name: two\n      fields: [proc.pname, fd.name]\n"
			   "      comps: [=, startswith]\n      values: [[c, /d]]\n");
	const struct rules_rule *r = rules_collection_rule(c, "r");
	struct rules_src_where w;
	const char *src, *at;

	if (!r || !r->cond.source) {
		CHECK(!"rule r");
		rules_collection_free(c);
		return;
	}
	src = r->cond.source;
	CHECK_EQ_STR(src, "(evt.type = open) and not (proc.name in (a, b)) and not (( proc.pname "
			  "= c and  fd.name startswith /d))");
	rules_rule_locate(c, r, 0, &w); /* the "(" around the condition */
	CHECK(w.kind == RULES_SRC_CONDITION && w.offset == 0);
	rules_rule_locate(c, r, 5, &w);
	CHECK(w.kind == RULES_SRC_CONDITION && w.offset == 4);
	rules_rule_locate(c, r, 16, &w); /* the ")": the end of the condition */
	CHECK(w.kind == RULES_SRC_CONDITION && w.offset == 15);
	rules_rule_locate(c, r, 20, &w); /* "and not (" */
	CHECK(w.kind == RULES_SRC_EXCEPTION && strcmp(w.exc->name, "one") == 0 && w.pos.line == 7 &&
	      w.pos.col == 7);
	at = strstr(src, "proc.name");
	rules_rule_locate(c, r, (size_t)(at - src) + 3, &w);
	CHECK(w.kind == RULES_SRC_EXC_FIELD && w.pos.line == 8 && w.pos.col == 15);
	rules_rule_locate(c, r, (size_t)(at - src) + 10, &w); /* the default comp "in" */
	CHECK(w.kind == RULES_SRC_EXC_COMP && w.pos.line == 8 && w.pos.col == 15);
	at = strstr(src, "b))");
	rules_rule_locate(c, r, (size_t)(at - src), &w);
	CHECK(w.kind == RULES_SRC_EXC_VALUE && w.pos.line == 9 && w.pos.col == 19);
	at = strstr(src, "fd.name");
	rules_rule_locate(c, r, (size_t)(at - src), &w);
	CHECK(w.kind == RULES_SRC_EXC_FIELD && strcmp(w.exc->name, "two") == 0 &&
	      w.pos.line == 11 && w.pos.col == 28);
	at = strstr(src, "startswith");
	rules_rule_locate(c, r, (size_t)(at - src), &w);
	CHECK(w.kind == RULES_SRC_EXC_COMP && w.pos.line == 12 && w.pos.col == 18);
	at = strstr(src, "/d");
	rules_rule_locate(c, r, (size_t)(at - src) + 1, &w);
	CHECK(w.kind == RULES_SRC_EXC_VALUE && w.pos.line == 13 && w.pos.col == 20);
	rules_collection_free(c);
}

TEST(directory_in_name_order)
{
	char path[4096];
	struct rules_collection *c = rules_collection_new();
	char **paths;
	size_t n;

	source_path(path, sizeof(path), "tests/rules/dir");
	CHECK_EQ_INT(rules_yaml_expand_path(path, &paths, &n, &c->msgs), 0);
	CHECK_EQ_INT(n, 2);
	if (n == 2) {
		CHECK(strstr(paths[0], "/10-base.yaml") != NULL);
		CHECK(strstr(paths[1], "/20-tune.yml") != NULL);
	}
	rules_yaml_free_paths(paths, n);
	CHECK_EQ_INT(rules_collect_path(c, path), 0);
	CHECK_EQ_INT(rules_collection_finish(c), 0);
	rules_collection_check_unused(c);
	CHECK_EQ_INT(c->msgs.n, 0);
	CHECK_EQ_STR(
	    rule_text(c, "Shell spawned"),
	    "(spawned_process and proc.name in ( bash, sh, zsh ) and not proc.pname = sshd)");
	CHECK_EQ_INT(rules_collection_rule(c, "Shell spawned")->n_tags, 2);
	if (tap_cur_failed)
		dump_msgs(c);
	rules_collection_free(c);
}

TEST(directory_made_at_run_time)
{
	char dir[] = "/tmp/saker-rules-XXXXXX";
	static const char *const names[] = {"b.yaml", "a.yml", "c.yaml.txt", ".yaml", "z.YAML"};
	char path[256];
	char **paths;
	size_t n;
	struct load_msgs msgs = {0};

	if (!mkdtemp(dir)) {
		CHECK(!"mkdtemp");
		return;
	}
	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		FILE *f;

		snprintf(path, sizeof(path), "%s/%s", dir, names[i]);
		f = fopen(path, "w");
		if (f)
			fclose(f);
	}
	snprintf(path, sizeof(path), "%s/", dir);
	CHECK_EQ_INT(rules_yaml_expand_path(path, &paths, &n, &msgs), 0);
	CHECK_EQ_INT(n, 2);
	if (n == 2) {
		CHECK(strstr(paths[0], "/a.yml") != NULL);
		CHECK(strstr(paths[1], "/b.yaml") != NULL);
		CHECK(strstr(paths[0], "//") == NULL);
	}
	rules_yaml_free_paths(paths, n);
	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		snprintf(path, sizeof(path), "%s/%s", dir, names[i]);
		unlink(path);
	}
	CHECK_EQ_INT(rules_yaml_expand_path(dir, &paths, &n, &msgs), 0);
	CHECK_EQ_INT(n, 0);
	rules_yaml_free_paths(paths, n);
	rmdir(dir);
	CHECK_EQ_INT(msgs.n, 0);
	load_msgs_free(&msgs);
}

TEST(missing_file_is_a_read_error)
{
	struct rules_collection *c = rules_collection_new();
	const struct load_msg *m;

	CHECK_EQ_INT(rules_collect_path(c, "/nonexistent/saker/rules.yaml"), -1);
	m = find_msg(c, LOAD_ERR_FILE_READ);
	CHECK(m && m->file && strcmp(m->file, "/nonexistent/saker/rules.yaml") == 0);
	CHECK(m && strstr(m->text, "No such file") != NULL);
	CHECK(rules_yaml_read_file("/", &c->msgs) == NULL); /* a directory is not a file */
	CHECK_EQ_INT(c->msgs.n_errors, 2);
	rules_collection_free(c);
}

/* --- The loader (rules_load): what it compiles and where it reports ---------------------- */

/* append_output for load_yaml (none unless a test sets it) */
static const struct append_entry *load_append;
static size_t load_n_append;

/* Loads yaml from a temporary .yaml file with rules_load. */
static struct rules_loaded *load_yaml(const char *yaml)
{
	char path[] = "/tmp/saker-load-XXXXXX.yaml";
	const char *paths[1] = {path};
	struct rules_loaded *r;
	int fd = mkstemps(path, 5);

	if (fd < 0 || write(fd, yaml, strlen(yaml)) != (ssize_t)strlen(yaml)) {
		CHECK(!"temporary file");
		if (fd >= 0)
			close(fd);
		return NULL;
	}
	close(fd);
	r = rules_load_appending(paths, 1, load_append, load_n_append);
	unlink(path);
	return r;
}

/* The error at line:col, if its text contains text. */
static bool has_error(const struct rules_loaded *r, enum load_code code, unsigned line,
		      unsigned col, const char *text)
{
	for (size_t i = 0; i < r->coll->msgs.n; i++) {
		const struct load_msg *m = &r->coll->msgs.v[i];

		if (m->code == code && m->line == line && m->col == col && strstr(m->text, text))
			return true;
	}
	printf("# no %s at %u:%u with '%s'\n", load_code_name(code), line, col, text);
	return false;
}

TEST(load_compiles_good_rules_despite_collection_errors)
{
	struct rules_loaded *r = load_yaml(
	    "- required_plugin_versions:\n  - name: k8saudit\n    version: 0.1.0\n"    /* 1-3 */
	    RULE_HEAD("bad_exception") "  condition: evt.type = open\n  exceptions:\n" /* 4-9 */
				       "    - name: e\n      fields: [proc.name, fd.name]\n      "
				       "comps: [=]\n"				 /* 10-12 */
				       "      values: [[a, b]]\n"		 /* 13 */
	    RULE_HEAD("typo") "  condition: evt.type = open and proc.nmae = x\n" /* 14-18 */
	    RULE_HEAD("good") "  condition: evt.type = open\n");

	if (!r)
		return;
	CHECK_EQ_INT(r->n_rules, 1);
	CHECK(rules_loaded_find(r, "good") != NULL);
	CHECK_EQ_INT(r->coll->msgs.n_errors, 3);
	CHECK(has_error(r, LOAD_ERR_VALIDATE, 2, 5, "plugin requirement not satisfied"));
	CHECK(has_error(r, LOAD_ERR_VALIDATE, 12, 14, "comps"));
	CHECK(has_error(r, LOAD_ERR_COMPILE_CONDITION, 18, 34, "unknown field 'proc.nmae'"));
	if (tap_cur_failed)
		dump_msgs(r->coll);
	rules_loaded_free(r);
}

TEST(load_macro_errors_once_at_the_macro)
{
	struct rules_loaded *r = load_yaml(
	    "- macro: self\n  condition: self and evt.type = open\n"		     /* 1-2 */
	    "- macro: b\n  condition: evt.type = open\n- macro: a\n  condition: b\n" /* 3-6 */
	    "- macro: b\n  override: {condition: replace}\n  condition: a\n"	     /* 7-9 */
	    "- macro: undef\n  condition: nosuch_macro\n"			     /* 10-11 */
	    "- macro: early\n  condition: evt.type=open and late\n"		     /* 12-13 */
	    "- macro: late\n  condition: proc.name = x\n"			     /* 14-15 */
	    "- macro: broken\n  condition: (evt.type = open\n"			     /* 16-17 */
	    "- macro: user\n  condition: broken\n"				     /* 18-19 */
	    RULE_HEAD("r1") "  condition: self\n" RULE_HEAD("r2") "  condition: a\n" RULE_HEAD("r3") "  condition: user and undef\n" RULE_HEAD(
		"r4") "  condition: early\n" RULE_HEAD("good") "  condition: late and evt.type = "
							       "open\n");

	if (!r)
		return;
	CHECK_EQ_INT(r->n_rules, 1);
	CHECK(rules_loaded_find(r, "good") != NULL);
	/* one error per macro at fault, none for what uses them */
	CHECK_EQ_INT(r->coll->msgs.n_errors, 5);
	CHECK(has_error(r, LOAD_ERR_VALIDATE, 2, 14, "reference loop: 'self' uses itself"));
	CHECK(has_error(r, LOAD_ERR_VALIDATE, 9, 14, "reference loop: b -> a -> b"));
	CHECK(has_error(r, LOAD_ERR_VALIDATE, 11, 14, "undefined macro 'nosuch_macro'"));
	CHECK(has_error(r, LOAD_ERR_VALIDATE, 13, 32,
			"undefined macro 'late' used in filter (it "
			"is defined later)"));
	CHECK(
	    has_error(r, LOAD_ERR_COMPILE_CONDITION, 17, 30,
		      "macro 'broken': unbalanced parenthesis: the '(' at 17:14 is never closed"));
	if (tap_cur_failed)
		dump_msgs(r->coll);
	rules_loaded_free(r);
}

TEST(load_positions_in_the_file)
{
	struct rules_loaded *r = load_yaml(
	    RULE_HEAD("stray") "  condition: evt.type = open)\n"		       /* 1-5 */
	    RULE_HEAD("unclosed") "  condition: (evt.type = open\n"		       /* 6-10 */
	    RULE_HEAD("quoted") "  condition: \"evt.type = open and proc.nmae = x\"\n" /* 11-15 */
	    RULE_HEAD("literal") "  condition: |\n    evt.type = open and\n"	       /* 16-21 */
				 "      proc.nmae = x\n"			       /* 22 */
	    RULE_HEAD(
		"exception") "  condition: evt.type = open\n  exceptions:\n"	       /* 23-28 */
			     "    - name: e\n      fields: [proc.name, proc.nosuch]\n" /* 29-30 */
			     "      values: [[a, b]]\n"				       /* 31 */
			     "- rule: output\n  desc: d\n  priority: INFO\n  condition: evt.type = "
			     "open\n"					/* 32-35 */
			     "  output: \"opened by %proc.nosuch\"\n"); /* 36 */

	if (!r)
		return;
	CHECK_EQ_INT(r->n_rules, 0);
	CHECK_EQ_INT(r->coll->msgs.n_errors, 6);
	CHECK(has_error(r, LOAD_ERR_COMPILE_CONDITION, 5, 29, "has no '('"));
	CHECK(has_error(r, LOAD_ERR_COMPILE_CONDITION, 10, 30, "the '(' at 10:14 is never"));
	CHECK(has_error(r, LOAD_ERR_COMPILE_CONDITION, 15, 35, "unknown field 'proc.nmae'"));
	CHECK(has_error(r, LOAD_ERR_COMPILE_CONDITION, 22, 7, "unknown field 'proc.nmae'"));
	CHECK(has_error(r, LOAD_ERR_VALIDATE, 30, 27,
			"rule 'exception': exception 'e': unknown field 'proc.nosuch'"));
	CHECK(has_error(r, LOAD_ERR_COMPILE_OUTPUT, 36, 23, "unknown field 'proc.nosuch'"));
	if (tap_cur_failed)
		dump_msgs(r->coll);
	rules_loaded_free(r);
}

/* --- Versions and plugins ---------------------------------------------------------------- */

TEST(engine_and_plugin_versions)
{
	struct rules_version v;
	struct rules_collection *c = collect_ok(
	    "- required_engine_version: 0.57.0\n"
	    "- required_engine_version: 12\n"
	    "- required_engine_version: " SAKER_ENGINE_VERSION "\n"
	    "- required_plugin_versions:\n"
	    "    - name: container\n      version: 0.3.1\n"
	    "    - name: my-container\n      version: 2.0.0\n"
	    "      alternatives:\n        - name: container\n          version: 0.4.0\n");

	CHECK_EQ_INT(c->required_engine.minor, 63);
	CHECK_EQ_INT(rules_version_parse("1.2.3-rc.1+build", false, &v), 0);
	CHECK_EQ_INT(v.patch, 3);
	CHECK_EQ_INT(rules_version_parse("57", false, &v), -1);
	CHECK_EQ_INT(rules_version_parse("1.2", false, &v), -1);
	CHECK_EQ_INT(rules_version_parse("1.2.3-", false, &v), -1);
	CHECK_EQ_INT(rules_version_parse("v1.2.3", false, &v), -1);
	rules_collection_free(c);
}

TEST(codes_and_messages)
{
	struct rules_collection *c = collect("- list: a\n  items: []\n  colour: red\n");
	struct strbuf sb = STRBUF_INIT;

	CHECK_EQ_STR(load_code_name(LOAD_ERR_YAML_VALIDATE), "LOAD_ERR_YAML_VALIDATE");
	CHECK_EQ_STR(load_code_desc(LOAD_UNUSED_LIST), "Unused list");
	CHECK_EQ_INT(load_code_from_name("LOAD_UNKNOWN_KEY"), LOAD_UNKNOWN_KEY);
	CHECK_EQ_INT(load_code_from_name("LOAD_NOPE"), -1);
	CHECK_EQ_INT(load_code_severity(LOAD_ERR_EXTENSION), LOAD_SEV_ERROR);
	CHECK_EQ_INT(load_code_severity(LOAD_UNKNOWN_SOURCE), LOAD_SEV_WARNING);
	for (int i = 0; i < LOAD_CODE_COUNT; i++)
		CHECK_EQ_INT(load_code_from_name(load_code_name((enum load_code)i)), i);
	CHECK_EQ_INT(c->msgs.n, 1);
	if (c->msgs.n == 1) {
		const struct load_msg *m = &c->msgs.v[0];

		CHECK_EQ_INT(m->item_kind, RULES_ITEM_LIST);
		CHECK_EQ_STR(m->item_name, "a");
		CHECK_EQ_STR(m->text, "list 'a': unknown key 'colour' (ignored)");
		CHECK_EQ_STR(m->snippet, "  colour: red");
		load_msg_format(m, true, &sb);
		CHECK_EQ_STR(sb.buf, "test.yaml:3:3: warning: list 'a': unknown key 'colour' "
				     "(ignored) [LOAD_UNKNOWN_KEY]\n"
				     "      colour: red\n"
				     "      ^\n");
	}
	sb_release(&sb);
	rules_collection_free(c);
}

/* --- Limits ------------------------------------------------------------------------------ */

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

TEST(deep_nesting_is_a_clean_error)
{
	static const char *const open[] = {"[", "{a: ", "- "};
	static const char *const close[] = {"]", "}", ""};
	static const unsigned width[] = {1, 4, 2};

	for (int kind = 0; kind < 3; kind++) {
		struct strbuf sb = STRBUF_INIT;
		struct rules_collection *c = rules_collection_new();
		double t0 = now_s();
		const struct load_msg *m;

		for (int i = 0; i < 10000; i++)
			sb_adds(&sb, open[kind]);
		sb_adds(&sb, "x");
		for (int i = 0; i < 10000; i++)
			sb_adds(&sb, close[kind]);
		CHECK_EQ_INT(rules_collect_buffer(c, "deep.yaml", sb.buf, sb.len), -1);
		m = find_msg(c, LOAD_ERR_YAML_PARSE);
		CHECK(m && m->line == 1 && m->col == width[kind] * RULES_YAML_MAX_DEPTH + 1);
		CHECK_EQ_INT(c->msgs.n, 1);
		CHECK(now_s() - t0 < 5.0);
		sb_release(&sb);
		rules_collection_free(c);
	}
}

TEST(ten_megabytes_of_rules)
{
	struct strbuf sb = STRBUF_INIT;
	struct rules_collection *c = rules_collection_new();
	size_t n = 0;
	double t0 = now_s();

	while (sb.len < 10 * 1024 * 1024) {
		sb_addf(&sb,
			"- list: list_%zu\n  items: [a%zu, \"b %zu\", list_0]\n"
			"- macro: macro_%zu\n  condition: proc.name in (list_%zu) or fd.num = %zu\n"
			"- rule: Rule %zu\n  desc: a generated rule\n  priority: notice\n"
			"  condition: evt.type = open and macro_%zu and not proc.pname in "
			"(list_%zu, x)\n  output: opened %%fd.name by %%proc.name (%zu)\n"
			"  tags: [generated, t%zu]\n",
			n, n, n, n, n, n, n, n, n, n, n % 10);
		n++;
	}
	CHECK_EQ_INT(rules_collect_buffer(c, "big.yaml", sb.buf, sb.len), 0);
	CHECK_EQ_INT(rules_collection_finish(c), 0);
	rules_collection_check_unused(c);
	CHECK_EQ_INT(c->n_rules, n);
	CHECK_EQ_INT(c->n_macros, n);
	CHECK_EQ_INT(c->n_lists, n);
	CHECK_EQ_INT(c->msgs.n, 0);
	CHECK_EQ_STR(rule_text(c, "Rule 1"), "(evt.type = open and macro_1 and not proc.pname in "
					     "( a1, \"b 1\", a0, \"b 0\", list_0 , x))");
	printf("# %zu bytes, %zu items: %.2f s\n", sb.len, 3 * n, now_s() - t0);
	sb_release(&sb);
	rules_collection_free(c);
}

/* --- The public ruleset ------------------------------------------------------------------- */

TEST(falco_stable_ruleset)
{
	char path[4096];
	struct rules_collection *c;
	size_t quoted = 0;

	source_path(path, sizeof(path), "../shared/corpus/falco-rules/falco_rules.yaml");
	if (access(path, R_OK) != 0) {
		printf("# SKIP %s is absent\n", path);
		return;
	}
	c = rules_collection_new();
	CHECK_EQ_INT(rules_collect_path(c, path), 0);
	CHECK_EQ_INT(rules_collection_finish(c), 0);
	rules_collection_check_unused(c);
	CHECK_EQ_INT(c->msgs.n_errors, 0);
	CHECK_EQ_INT(c->msgs.n_warnings, 0);
	CHECK_EQ_INT(c->n_rules, 25);
	CHECK_EQ_INT(c->n_macros, 87);
	CHECK_EQ_INT(c->n_lists, 49);
	CHECK_EQ_INT(c->required_engine.minor, 57);
	for (size_t i = 0; i < c->n_rules; i++) {
		CHECK(c->rules[i].cond.text != NULL);
		CHECK(c->rules[i].enabled);
		CHECK(!c->rules[i].unknown_source);
	}
	for (size_t i = 0; i < c->n_lists; i++)
		for (size_t k = 0; k < c->lists[i].n_raw; k++)
			quoted += c->lists[i].raw[k][0] == '"';
	CHECK_EQ_INT(quoted, 38); /* ruleset-profile.md, section 6 */
	CHECK_EQ_INT(rules_collection_rule(c, "Run shell untrusted")->priority, RULES_PRIO_NOTICE);
	CHECK_EQ_INT(rules_collection_rule(c, "Fileless execution via memfd_create")->priority,
		     RULES_PRIO_CRITICAL);
	CHECK(strstr(macro_text(c, "never_true"), "evt.num=0") != NULL);
	if (tap_cur_failed)
		dump_msgs(c);
	rules_collection_free(c);
}

/* append_output (spec d.1): text appended to the outputs of the rules an entry matches
 * (source, all its tags, name), suggested fields, extra fields; errors placed at the rule. */
TEST(append_output_applies_to_matching_rules)
{
	static const char yaml[] =
	    "- rule: tagged\n  desc: d\n  condition: evt.type = open\n  output: one %proc.name\n"
	    "  priority: WARNING\n  tags: [net, b]\n"
	    "- rule: plain\n  desc: d\n  condition: evt.type = open\n  output: two\n"
	    "  priority: WARNING\n";
	char *t1[] = {"net"};
	struct append_entry e[3];
	struct rules_loaded *r;
	const struct loaded_rule *a, *b;

	memset(e, 0, sizeof(e));
	e[0].tags.v = t1;
	e[0].tags.n = 1;
	e[0].extra_output = "x=%fd.name";
	e[0].fields = (struct append_field[]){{NULL, "user.uid"}, {"k", "%proc.pid!"}};
	e[0].n_fields = 2;
	e[1].suggested = true;
	e[1].source = "syscall";
	e[2].rule = "plain";
	e[2].extra_output = "y";
	load_append = e;
	load_n_append = 3;
	r = load_yaml(yaml);
	load_append = NULL;
	load_n_append = 0;
	CHECK(r != NULL);
	if (!r)
		return;
	a = rules_loaded_find(r, "tagged");
	b = rules_loaded_find(r, "plain");
	CHECK(a && b);
	if (a && b) {
		CHECK_EQ_STR(a->fmt->text, "one %proc.name x=%fd.name container_id=%container.id "
					   "container_name=%container.name "
					   "container_image_repository=%container.image.repository "
					   "container_image_tag=%container.image.tag "
					   "k8s_pod_name=%k8s.pod.name k8s_ns_name=%k8s.ns.name");
		CHECK(strstr(b->fmt->text, "two container_id=%container.id ") == b->fmt->text);
		CHECK(strstr(b->fmt->text, "k8s_ns_name=%k8s.ns.name y") != NULL);
		CHECK_EQ_INT(a->n_extras, 2);
		if (a->n_extras == 2) {
			CHECK_EQ_STR(a->extras[0].key, "k");
			CHECK(!a->extras[0].raw);
			CHECK_EQ_STR(a->extras[1].key, "user.uid");
			CHECK(a->extras[1].raw);
		}
		CHECK_EQ_INT(b->n_extras, 0);
	}
	rules_loaded_free(r);

	/* a bad field in what is appended: the rule is not loaded, the error names it */
	memset(e, 0, sizeof(e));
	e[0].rule = "plain";
	e[0].extra_output = "%proc.nmae";
	e[1].tags.v = t1;
	e[1].tags.n = 1;
	e[1].fields = (struct append_field[]){{NULL, "proc.name x"}};
	e[1].n_fields = 1;
	load_append = e;
	load_n_append = 2;
	r = load_yaml(yaml);
	load_append = NULL;
	load_n_append = 0;
	CHECK(r != NULL);
	if (!r)
		return;
	CHECK_EQ_INT(r->n_rules, 0);
	CHECK(has_error(r, LOAD_ERR_COMPILE_OUTPUT, 10, 11, "(in append_output)"));
	CHECK(has_error(r, LOAD_ERR_COMPILE_OUTPUT, 1, 3, "append_output extra_fields 'proc.name x'"));
	rules_loaded_free(r);
}

/* The rules: selection (spec b.13): in order, by whole-name pattern or exact tag, over the
 * rules' own enabled keys. */
TEST(rules_selection)
{
	static const char yaml[] =
	    "- rule: Shell in container\n  desc: d\n  condition: evt.type = execve\n"
	    "  output: o\n  priority: WARNING\n  tags: [shell, container]\n"
	    "- rule: Shell on host\n  desc: d\n  condition: evt.type = execve\n"
	    "  output: o\n  priority: WARNING\n  tags: [shell]\n"
	    "- rule: Off by default\n  desc: d\n  condition: evt.type = open\n"
	    "  output: o\n  priority: WARNING\n  enabled: false\n"
	    "- rule: a*b (literal)\n  desc: d\n  condition: evt.type = open\n"
	    "  output: o\n  priority: WARNING\n";
	struct rules_loaded *r = load_yaml(yaml);
	size_t m[6];

	CHECK(r != NULL);
	if (!r)
		return;
	CHECK_EQ_INT(r->n_rules, 4);
	CHECK(r->rules[0].on && r->rules[1].on && !r->rules[2].on && r->rules[3].on);
	{
		struct rule_select sel[] = {
		    {false, NULL, "shell"},	      /* both shells off */
		    {true, "Shell in *", NULL},	      /* one back on */
		    {true, "Off by default", NULL},   /* over its enabled: false */
		    {false, "*(literal)", NULL},      /* '(' is itself */
		    {false, "Shell", NULL},	      /* the whole name: no match */
		    {false, NULL, "contain"},	      /* exact tags only */
		};

		rules_loaded_select(r, sel, 6, m);
	}
	CHECK(r->rules[0].on);
	CHECK(!r->rules[1].on);
	CHECK(r->rules[2].on);
	CHECK(!r->rules[3].on);
	CHECK_EQ_INT(m[0], 2);
	CHECK_EQ_INT(m[1], 1);
	CHECK_EQ_INT(m[2], 1);
	CHECK_EQ_INT(m[3], 1);
	CHECK_EQ_INT(m[4], 0);
	CHECK_EQ_INT(m[5], 0);
	{
		struct rule_select all[] = {{false, "*", NULL}, {true, "S*h*o*st", NULL},
					    {true, "**f*", NULL}};

		rules_loaded_select(r, all, 3, m);
		CHECK_EQ_INT(m[0], 4);
		CHECK_EQ_INT(m[1], 1); /* "Shell on host" */
		CHECK_EQ_INT(m[2], 1); /* "Off by default" */
		CHECK(!r->rules[0].on && r->rules[1].on && r->rules[2].on && !r->rules[3].on);
	}
	rules_loaded_free(r);
}

int main(void)
{
	RUN(rules_selection);
	RUN(append_output_applies_to_matching_rules);
	RUN(item_kinds_and_every_key);
	RUN(raw_item_model);
	RUN(multiline_scalars_fold_as_yaml_says);
	RUN(booleans_all_spellings);
	RUN(priorities_and_aliases);
	RUN(empty_files_and_documents);
	RUN(several_documents_in_one_file);
	RUN(anchors_and_aliases_share_nodes);
	for (size_t i = 0; i < sizeof(bad_cases) / sizeof(bad_cases[0]); i++) {
		char label[160];

		check_bad_case(&bad_cases[i]);
		snprintf(label, sizeof(label), "malformed: %s", bad_cases[i].label);
		tap_row(label);
	}
	RUN(redefinition_keeps_position);
	RUN(list_redefinition_and_visibility);
	RUN(list_append_and_override);
	RUN(macro_append_and_override);
	RUN(rule_override_append_each_key);
	RUN(rule_override_replace_each_key);
	RUN(appends_apply_before_replaces);
	RUN(legacy_append_and_enable_only);
	RUN(enabled_via_override);
	RUN(unknown_source_rules_are_kept_but_skipped);
	RUN(empty_source_means_default);
	RUN(exceptions_spec_example_and_default_comps);
	RUN(exceptions_quoting_and_operators);
	RUN(exception_values_expand_lists);
	for (size_t i = 0; i < sizeof(expand_cases) / sizeof(expand_cases[0]); i++) {
		char label[160];

		check_expand_case(&expand_cases[i]);
		snprintf(label, sizeof(label), "expand: %s", expand_cases[i].label);
		tap_row(label);
	}
	RUN(expansion_origin_map);
	RUN(expansion_matches_the_direct_model);
	RUN(list_in_list_visibility);
	RUN(unused_lists_and_macros);
	RUN(several_files_in_order);
	RUN(error_stops_its_file_not_the_next);
	RUN(finish_after_errors_finishes_every_rule);
	RUN(positions_of_conditions_outputs_and_appends);
	RUN(locate_exception_text);
	RUN(directory_in_name_order);
	RUN(directory_made_at_run_time);
	RUN(missing_file_is_a_read_error);
	RUN(load_compiles_good_rules_despite_collection_errors);
	RUN(load_macro_errors_once_at_the_macro);
	RUN(load_positions_in_the_file);
	RUN(engine_and_plugin_versions);
	RUN(codes_and_messages);
	RUN(deep_nesting_is_a_clean_error);
	RUN(ten_megabytes_of_rules);
	RUN(falco_stable_ruleset);
	return tap_done();
}
