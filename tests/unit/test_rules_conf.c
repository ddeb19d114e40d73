/* The seed's `.conf` rule format (rules_conf.h): reading lines into items, errors with their
 * positions and codes, and loading .conf files alone and together with YAML files. */
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include "rules_conf.h"
#include "rules_load.h"
#include "strbuf.h"
#include "testlib.h"
#include "vm.h"

static void dump_msgs(const struct load_msgs *m)
{
	struct strbuf sb = STRBUF_INIT;

	for (size_t i = 0; i < m->n; i++) {
		sb_reset(&sb);
		load_msg_format(&m->v[i], false, &sb);
		printf("#   %s", sb.buf);
	}
	sb_release(&sb);
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

/* Reads text[0..len) as the .conf file name and collects it (finished). */
static struct rules_collection *collect_n(const char *name, const char *text, size_t len)
{
	struct rules_collection *c = rules_collection_new();
	struct rules_file *f = rules_conf_read_buffer(name, text, len, &c->msgs);

	if (f)
		rules_collect_file(c, f);
	rules_collection_finish(c);
	return c;
}

static struct rules_collection *collect(const char *text)
{
	return collect_n("t.conf", text, strlen(text));
}

/* Collects text expecting no message at all. */
static struct rules_collection *collect_ok(const char *text)
{
	struct rules_collection *c = collect(text);

	CHECK_EQ_INT(c->msgs.n, 0);
	if (c->msgs.n)
		dump_msgs(&c->msgs);
	return c;
}

static const char *macro_cond(const struct rules_collection *c, const char *name)
{
	const struct rules_macro *m = rules_collection_macro(c, name);

	return m ? m->condition : NULL;
}

static const char *rule_cond(const struct rules_collection *c, const char *name)
{
	const struct rules_rule *r = rules_collection_rule(c, name);

	return r ? r->condition : NULL;
}

static const char *rule_output(const struct rules_collection *c, const char *name)
{
	const struct rules_rule *r = rules_collection_rule(c, name);

	return r ? r->output : NULL;
}

/* Expects text to fail with exactly one error: code at line:col, its text containing what. */
static void expect_error(const char *name, const char *text, size_t len, enum load_code code,
			 unsigned line, unsigned col, const char *what)
{
	struct load_msgs msgs = {0};
	struct rules_file *f = rules_conf_read_buffer(name, text, len, &msgs);
	const struct load_msg *m = msgs.n ? &msgs.v[msgs.n - 1] : NULL;

	CHECK(f == NULL);
	CHECK_EQ_INT(msgs.n_errors, 1);
	CHECK(m != NULL);
	if (m) {
		CHECK_EQ_STR(load_code_name(m->code), load_code_name(code));
		CHECK_EQ_STR(m->file, name);
		CHECK_EQ_INT(m->line, line);
		CHECK_EQ_INT(m->col, col);
		CHECK(strstr(m->text, what) != NULL);
	}
	if (tap_cur_failed)
		dump_msgs(&msgs);
	rules_file_free(f);
	load_msgs_free(&msgs);
}

/* A directory of its own under /tmp for files written by a test; rm_dir removes it. */
static int make_dir(char *dir, size_t size)
{
	snprintf(dir, size, "/tmp/saker-conf-XXXXXX");
	if (!mkdtemp(dir)) {
		CHECK(!"mkdtemp");
		return -1;
	}
	return 0;
}

static const char *write_file(const char *dir, const char *name, const char *text, char *path,
			      size_t size)
{
	FILE *fp;

	snprintf(path, size, "%s/%s", dir, name);
	fp = fopen(path, "w");
	CHECK(fp != NULL);
	if (fp) {
		fputs(text, fp);
		fclose(fp);
	}
	return path;
}

static void rm_dir(const char *dir, const char *const *names, size_t n)
{
	char path[512];

	for (size_t i = 0; i < n; i++) {
		snprintf(path, sizeof(path), "%s/%s", dir, names[i]);
		unlink(path);
	}
	rmdir(dir);
}

/* The first message with code, or NULL. */
static const struct load_msg *find_msg(const struct rules_loaded *r, enum load_code code)
{
	for (size_t i = 0; i < r->coll->msgs.n; i++)
		if (r->coll->msgs.v[i].code == code)
			return &r->coll->msgs.v[i];
	return NULL;
}

/* --- Reading --------------------------------------------------------------------------------- */

TEST(conf_paths_by_extension)
{
	CHECK(rules_conf_is_conf_path("a.conf"));
	CHECK(rules_conf_is_conf_path("/etc/saker/rules.d/legacy.conf"));
	CHECK(rules_conf_is_conf_path("dir.yaml/x.conf"));
	CHECK(!rules_conf_is_conf_path(".conf"));
	CHECK(!rules_conf_is_conf_path("dir/.conf"));
	CHECK(!rules_conf_is_conf_path("a.conf.bak"));
	CHECK(!rules_conf_is_conf_path("a.CONF"));
	CHECK(!rules_conf_is_conf_path("a.yaml"));
	CHECK(!rules_conf_is_conf_path("conf"));
}

TEST(macro_line)
{
	struct rules_collection *c =
	    collect_ok("open_write: evt.type = open and evt.is_open_write=true\n"
		       "  spaced_2 \t:\t proc.name = bash  \n");
	const struct rules_macro *m = rules_collection_macro(c, "open_write");

	CHECK_EQ_INT(c->n_macros, 2);
	CHECK_EQ_INT(c->n_rules, 0);
	CHECK_EQ_STR(macro_cond(c, "open_write"), "evt.type = open and evt.is_open_write=true");
	CHECK(m && m->pos.line == 1 && m->pos.col == 1);
	CHECK(m && m->cond_pos.line == 1 && m->cond_pos.col == 13);
	CHECK(m && strcmp(m->pos.file->path, "t.conf") == 0);
	m = rules_collection_macro(c, "spaced_2");
	CHECK_EQ_STR(macro_cond(c, "spaced_2"), "proc.name = bash");
	CHECK(m && m->pos.line == 2 && m->pos.col == 3);
	CHECK(m && m->cond_pos.line == 2 && m->cond_pos.col == 16);
	rules_collection_free(c);
}

TEST(rule_line)
{
	struct rules_collection *c = collect_ok(
	    "evt.type = execve and proc.name = bash | WARNING Shell run (%proc.cmdline)\n");
	const struct rules_rule *r = rules_collection_rule(c, "t.conf:1");

	CHECK_EQ_INT(c->n_rules, 1);
	CHECK(r != NULL);
	if (!r) {
		rules_collection_free(c);
		return;
	}
	CHECK_EQ_STR(r->condition, "evt.type = execve and proc.name = bash");
	CHECK_EQ_STR(r->output, "Shell run (%proc.cmdline)");
	CHECK_EQ_INT(r->priority, RULES_PRIO_WARNING);
	CHECK_EQ_STR(r->source, "syscall");
	CHECK(r->enabled);
	CHECK(r->warn_evttypes);
	CHECK(!r->skip_if_unknown_filter);
	CHECK(r->desc == NULL);
	CHECK_EQ_INT(r->n_tags, 0);
	CHECK_EQ_INT(r->n_exceptions, 0);
	CHECK(r->pos.line == 1 && r->pos.col == 1);
	CHECK(r->cond_pos.line == 1 && r->cond_pos.col == 1);
	CHECK_EQ_STR(r->cond.text, "(evt.type = execve and proc.name = bash)");
	rules_collection_free(c);
}

TEST(rule_names_from_base_name_and_line)
{
	const char *text = "# a comment\n"
			   "\n"
			   "   evt.type = open | INFO a\n"
			   "evt.type = close | INFO b\n";
	struct rules_collection *c =
	    collect_n("/etc/saker/rules.d/legacy.conf", text, strlen(text));
	const struct rules_rule *r = rules_collection_rule(c, "legacy.conf:3");

	CHECK_EQ_INT(c->msgs.n, 0);
	CHECK_EQ_INT(c->n_rules, 2);
	CHECK(r && r->pos.line == 3 && r->pos.col == 4);
	CHECK(r && strcmp(r->pos.file->path, "/etc/saker/rules.d/legacy.conf") == 0);
	CHECK_EQ_STR(rule_output(c, "legacy.conf:4"), "b");
	/* evaluation order is file order */
	CHECK(c->n_rules == 2 && strcmp(c->rules[0].name, "legacy.conf:3") == 0 &&
	      strcmp(c->rules[1].name, "legacy.conf:4") == 0);
	rules_collection_free(c);
}

TEST(comments_and_blank_lines)
{
	struct rules_collection *c = collect_ok("#\n"
						"# comment\n"
						"   # indented comment\n"
						"\t# tab-indented comment \\\n"
						"m: evt.type = open\n"
						"   \t  \n"
						"\n"
						"m and proc.name = x | INFO out # not a comment\n"
						"#m2: evt.type = close\n"
						"m3: evt.type = open \\\n"
						"# continued, so text\n");

	CHECK_EQ_INT(c->n_macros, 2);
	CHECK_EQ_INT(c->n_rules, 1);
	CHECK(!rules_collection_macro(c, "m2"));
	CHECK_EQ_STR(macro_cond(c, "m3"), "evt.type = open \n# continued, so text");
	CHECK(rules_collection_macro(c, "m") && rules_collection_macro(c, "m")->pos.line == 5);
	CHECK_EQ_STR(rule_output(c, "t.conf:8"), "out # not a comment");
	rules_collection_free(c);
}

/* Every spelling of every priority, in three cases (spec b.7). */
static void priority_rows(void)
{
	static const struct {
		const char *word;
		enum rules_priority prio;
	} rows[] = {
	    {"emergency", RULES_PRIO_EMERGENCY},
	    {"alert", RULES_PRIO_ALERT},
	    {"critical", RULES_PRIO_CRITICAL},
	    {"error", RULES_PRIO_ERROR},
	    {"warning", RULES_PRIO_WARNING},
	    {"notice", RULES_PRIO_NOTICE},
	    {"informational", RULES_PRIO_INFORMATIONAL},
	    {"info", RULES_PRIO_INFORMATIONAL},
	    {"debug", RULES_PRIO_DEBUG},
	};

	for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		char upper[32], mixed[32], text[128], label[64];
		size_t n = strlen(rows[i].word);
		struct rules_collection *c;

		for (size_t k = 0; k <= n; k++) {
			upper[k] = (char)(rows[i].word[k] >= 'a' ? rows[i].word[k] - 32 : 0);
			mixed[k] = (char)(k == 0 ? upper[k] : rows[i].word[k]);
		}
		snprintf(text, sizeof(text),
			 "evt.type = open | %s a\nevt.type = open |%s b\nevt.type = open|%s\tc\n",
			 rows[i].word, upper, mixed);
		c = collect_ok(text);
		CHECK_EQ_INT(c->n_rules, 3);
		for (size_t k = 0; k < c->n_rules; k++)
			CHECK_EQ_INT(c->rules[k].priority, rows[i].prio);
		CHECK_EQ_STR(rule_output(c, "t.conf:3"), "c");
		rules_collection_free(c);
		snprintf(label, sizeof(label), "priority_%s", rows[i].word);
		tap_row(label);
	}
}

TEST(pipe_in_double_quotes)
{
	struct rules_collection *c =
	    collect_ok("proc.cmdline = \"ls | WARNING x\" and fd.name = \"|\" | ERROR out\n");

	CHECK_EQ_STR(rule_cond(c, "t.conf:1"),
		     "proc.cmdline = \"ls | WARNING x\" and fd.name = \"|\"");
	CHECK_EQ_INT(c->n_rules ? c->rules[0].priority : 99, RULES_PRIO_ERROR);
	CHECK_EQ_STR(rule_output(c, "t.conf:1"), "out");
	rules_collection_free(c);
}

TEST(pipe_in_single_quotes)
{
	struct rules_collection *c = collect_ok("proc.cmdline = 'a | info b' | notice out\n");

	CHECK_EQ_STR(rule_cond(c, "t.conf:1"), "proc.cmdline = 'a | info b'");
	CHECK_EQ_STR(rule_output(c, "t.conf:1"), "out");
	rules_collection_free(c);
}

TEST(escaped_quote_in_string)
{
	/* a quote after a backslash does not close the string (spec a.5) */
	struct rules_collection *c = collect_ok("proc.cmdline = \"say \\\" | INFO x\" | DEBUG out\n"
						"proc.cmdline = 'it\\'s | INFO x' | DEBUG out2\n");

	CHECK_EQ_STR(rule_cond(c, "t.conf:1"), "proc.cmdline = \"say \\\" | INFO x\"");
	CHECK_EQ_STR(rule_cond(c, "t.conf:2"), "proc.cmdline = 'it\\'s | INFO x'");
	CHECK_EQ_STR(rule_output(c, "t.conf:2"), "out2");
	rules_collection_free(c);
}

TEST(pipe_in_bare_words)
{
	struct rules_collection *c =
	    collect_ok("proc.cmdline contains a|b | WARNING x\n"
		       "fd.name glob /tmp/*|x* and proc.name=ls | ALERT y\n"
		       "proc.cmdline contains || | ERROR z\n");

	CHECK_EQ_STR(rule_cond(c, "t.conf:1"), "proc.cmdline contains a|b");
	CHECK_EQ_STR(rule_cond(c, "t.conf:2"), "fd.name glob /tmp/*|x* and proc.name=ls");
	CHECK_EQ_STR(rule_output(c, "t.conf:2"), "y");
	CHECK_EQ_STR(rule_cond(c, "t.conf:3"), "proc.cmdline contains ||");
	rules_collection_free(c);
}

TEST(pipes_and_quotes_in_output)
{
	struct rules_collection *c =
	    collect_ok("evt.type = open | NOTICE user's file | \"%fd.name\" | WARNING ' done\n");

	CHECK_EQ_STR(rule_output(c, "t.conf:1"), "user's file | \"%fd.name\" | WARNING ' done");
	CHECK_EQ_INT(c->n_rules ? c->rules[0].priority : 99, RULES_PRIO_NOTICE);
	rules_collection_free(c);
}

TEST(pipe_before_a_priority_word_splits)
{
	/* documented: an unquoted '|' followed by a priority name and a blank ends the condition,
	 * even inside a bare word; quote such a value */
	struct rules_collection *c = collect_ok("proc.cmdline contains a|info b | WARNING x\n"
						"proc.cmdline contains \"a|info b\" | WARNING x\n");

	CHECK_EQ_STR(rule_cond(c, "t.conf:1"), "proc.cmdline contains a");
	CHECK_EQ_STR(rule_output(c, "t.conf:1"), "b | WARNING x");
	CHECK_EQ_STR(rule_cond(c, "t.conf:2"), "proc.cmdline contains \"a|info b\"");
	rules_collection_free(c);
}

TEST(continued_lines)
{
	struct rules_collection *c = collect_ok("m: evt.type = open \\\n"
						"   or evt.type = openat\\\n"
						"\tor evt.type = creat\n"
						"m and \\\n"
						"  proc.name = bash \\\n"
						"  | \\\n"
						"  ERROR a\n");
	const struct rules_rule *r = rules_collection_rule(c, "t.conf:4");

	CHECK_EQ_STR(macro_cond(c, "m"),
		     "evt.type = open \n   or evt.type = openat\n\tor evt.type = creat");
	CHECK_EQ_STR(rule_cond(c, "t.conf:4"), "m and \n  proc.name = bash");
	CHECK(r && r->priority == RULES_PRIO_ERROR && strcmp(r->output, "a") == 0);
	rules_collection_free(c);
}

TEST(continued_output_joins_with_one_space)
{
	struct rules_collection *c = collect_ok("evt.type = open | INFO opened \\\n"
						"     %fd.name   \\\n"
						"by\\\n"
						"%proc.name\\\n"
						"\n"
						"evt.type = close | INFO b\n");

	CHECK_EQ_STR(rule_output(c, "t.conf:1"), "opened %fd.name by %proc.name");
	CHECK_EQ_STR(rule_output(c, "t.conf:6"), "b");
	rules_collection_free(c);
}

TEST(backslash_then_blank_does_not_continue)
{
	struct rules_collection *c = collect_ok("evt.type = open | INFO C:\\ \n"
						"evt.type = close | INFO b\n");

	CHECK_EQ_INT(c->n_rules, 2);
	CHECK_EQ_STR(rule_output(c, "t.conf:1"), "C:\\");
	rules_collection_free(c);
}

TEST(crlf_line_ends)
{
	struct rules_collection *c = collect_ok("# comment\r\n"
						"m: evt.type = open\r\n"
						"\r\n"
						"m and \\\r\n"
						"  proc.name = x | INFO out \r\n");
	const struct rules_rule *r = rules_collection_rule(c, "t.conf:4");

	CHECK_EQ_STR(macro_cond(c, "m"), "evt.type = open");
	CHECK_EQ_STR(rule_cond(c, "t.conf:4"), "m and \n  proc.name = x");
	CHECK_EQ_STR(rule_output(c, "t.conf:4"), "out");
	CHECK(r && r->cond_pos.line == 4 && r->cond_pos.col == 1);
	rules_collection_free(c);
}

TEST(last_line_without_line_break)
{
	struct rules_collection *c = collect_ok("m: evt.type = open\nm | INFO out");

	CHECK_EQ_STR(rule_output(c, "t.conf:2"), "out");
	rules_collection_free(c);
	c = collect_ok("m: evt.type = open\r");
	CHECK_EQ_STR(macro_cond(c, "m"), "evt.type = open");
	rules_collection_free(c);
	c = collect_ok("");
	CHECK_EQ_INT(c->n_macros + c->n_rules, 0);
	rules_collection_free(c);
	c = collect_ok("# only a comment");
	CHECK_EQ_INT(c->n_macros + c->n_rules, 0);
	rules_collection_free(c);
}

TEST(byte_order_mark_is_skipped)
{
	struct rules_collection *c = collect_ok("\xef\xbb\xbfm: evt.type = open\n");
	const struct rules_macro *m = rules_collection_macro(c, "m");

	CHECK(m && m->pos.line == 1 && m->pos.col == 1 && m->cond_pos.col == 4);
	rules_collection_free(c);
	expect_error("t.conf", "\xef\xbb\xbfx | WARNNG y\n", 16, LOAD_ERR_YAML_VALIDATE, 1, 5,
		     "invalid priority 'WARNNG'");
}

TEST(utf8_text_is_kept)
{
	struct rules_collection *c = collect_ok("m: proc.name = \"café\"\nm | INFO ☕ %proc.name\n");

	CHECK_EQ_STR(macro_cond(c, "m"), "proc.name = \"café\"");
	CHECK_EQ_STR(rule_output(c, "t.conf:2"), "☕ %proc.name");
	rules_collection_free(c);
}

/* --- Errors -------------------------------------------------------------------------------- */

static void error_rows(void)
{
	static const struct {
		const char *label, *text;
		size_t len; /* 0: strlen(text) */
		enum load_code code;
		unsigned line, col;
		const char *what;
	} rows[] = {
	    {"err_unknown_priority", "m: evt.type=open\nm | WARN out\n", 0, LOAD_ERR_YAML_VALIDATE,
	     2, 5, "rule 't.conf:2': invalid priority 'WARN' (expected emergency"},
	    {"err_unknown_priority_after_word_pipe", "proc.cmdline contains a|b | HIGH out\n", 0,
	     LOAD_ERR_YAML_VALIDATE, 1, 29, "invalid priority 'HIGH'"},
	    {"err_priority_glued_to_output", "evt.type=open | INFO:out\n", 0,
	     LOAD_ERR_YAML_VALIDATE, 1, 17, "invalid priority 'INFO:out'"},
	    {"err_no_priority", "evt.type=open |   \n", 0, LOAD_ERR_YAML_VALIDATE, 1, 16,
	     "rule 't.conf:1': no priority after '|'"},
	    {"err_empty_condition", "\n  | WARNING out\n", 0, LOAD_ERR_YAML_VALIDATE, 2, 3,
	     "rule 't.conf:2': empty condition before '|'"},
	    {"err_no_output", "evt.type=open | WARNING\n", 0, LOAD_ERR_YAML_VALIDATE, 1, 24,
	     "rule 't.conf:1': no output after the priority"},
	    {"err_no_output_blanks", "evt.type=open |  debug \t \r\n", 0, LOAD_ERR_YAML_VALIDATE, 1,
	     23, "no output after the priority"},
	    {"err_empty_macro", "a: x\n\nmy_macro :   \n", 0, LOAD_ERR_YAML_VALIDATE, 3, 11,
	     "macro 'my_macro': empty condition after ':'"},
	    {"err_neither", "# c\n  just some words\n", 0, LOAD_ERR_YAML_PARSE, 2, 3,
	     "expected a macro 'NAME: condition' or a rule 'condition | PRIORITY output'"},
	    {"err_bad_macro_name", "my-macro: evt.type=open\n", 0, LOAD_ERR_YAML_PARSE, 1, 1,
	     "expected a macro"},
	    {"err_unterminated_quote", "proc.name = \"a | WARNING x\n", 0, LOAD_ERR_YAML_PARSE, 1,
	     13, "unterminated quoted string"},
	    {"err_continuation_in_quotes", "proc.name = 'a \\\nb' | WARNING x\n", 0,
	     LOAD_ERR_YAML_PARSE, 1, 16, "line continuation inside a quoted string"},
	    {"err_continuation_in_macro_quotes",
	     "m: proc.name = \"a\" or \\\n proc.name = \"b\\\nc\"\n", 0, LOAD_ERR_YAML_PARSE, 2, 16,
	     "macro 'm': line continuation inside a quoted string"},
	    {"err_continuation_at_eof", "m: evt.type = open\nm and \\\n  proc.name = x \\", 0,
	     LOAD_ERR_YAML_PARSE, 3, 17, "the last line ends in a '\\' continuation"},
	    {"err_nul_byte", "m: evt.type = open\nm | INFO a\0b\n", 32, LOAD_ERR_YAML_PARSE, 2, 11,
	     "a NUL byte (0x00)"},
	    {"err_nul_byte_in_comment", "# a\0b\n", 6, LOAD_ERR_YAML_PARSE, 1, 4, "a NUL byte"},
	    {"err_utf8_continuation_byte", "m: proc.name = \x80\n", 0, LOAD_ERR_YAML_PARSE, 1, 16,
	     "a byte that is not UTF-8 (0x80)"},
	    {"err_utf8_overlong", "m: x\nm | INFO \xc0\xaf\n", 0, LOAD_ERR_YAML_PARSE, 2, 10,
	     "(0xc0)"},
	    {"err_utf8_surrogate", "m: proc.name = \"\xed\xa0\x80\"\n", 0, LOAD_ERR_YAML_PARSE, 1,
	     17, "(0xed)"},
	    {"err_utf8_truncated_at_line_end", "m: x \xe2\x82\nm2: y\n", 0, LOAD_ERR_YAML_PARSE, 1,
	     6, "(0xe2)"},
	    {"err_utf8_in_comment", "# caf\xe9\n", 0, LOAD_ERR_YAML_PARSE, 1, 6, "(0xe9)"},
	    {"err_after_crlf_lines", "m: x\r\n\r\nm |  LOUD  out\r\n", 0, LOAD_ERR_YAML_VALIDATE, 3,
	     6, "invalid priority 'LOUD'"},
	    {"err_on_continued_line",
	     "evt.type = open and \\\n   proc.name = a \\\n   | urgent x\n", 0,
	     LOAD_ERR_YAML_VALIDATE, 3, 6, "rule 't.conf:1': invalid priority 'urgent'"},
	};

	for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		size_t len = rows[i].len ? rows[i].len : strlen(rows[i].text);

		expect_error("t.conf", rows[i].text, len, rows[i].code, rows[i].line, rows[i].col,
			     rows[i].what);
		tap_row(rows[i].label);
	}
}

TEST(first_error_stops_the_file)
{
	struct rules_collection *c = rules_collection_new();
	const char *text = "_hidden: evt.type = open\n"
			   "evt.type = open | INFO good\n"
			   "evt.type = open | NOPE bad\n"
			   "evt.type = close | INFO never read\n"
			   "\x80\n";
	struct rules_file *f = rules_conf_read_buffer("t.conf", text, strlen(text), &c->msgs);

	CHECK(f == NULL);
	CHECK_EQ_INT(c->msgs.n_errors, 1);
	CHECK_EQ_INT(c->msgs.n_warnings, 1); /* recorded before the error, and kept */
	CHECK_EQ_INT(c->n_rules, 0);
	CHECK(c->msgs.n == 2 && c->msgs.v[1].line == 3);
	rules_collection_free(c);
}

TEST(invalid_macro_name_warns_as_yaml_does)
{
	struct rules_collection *c = collect("_m: evt.type = open\n_m | INFO x\n");
	const struct load_msg *m = c->msgs.n ? &c->msgs.v[0] : NULL;

	CHECK_EQ_INT(c->msgs.n_errors, 0);
	CHECK_EQ_INT(c->msgs.n_warnings, 1);
	CHECK(m && m->code == LOAD_INVALID_MACRO_NAME && m->line == 1 && m->col == 1);
	CHECK(m && strstr(m->text, "macro '_m': name is not an identifier") != NULL);
	CHECK(rules_collection_macro(c, "_m") != NULL);
	rules_collection_free(c);
}

TEST(macro_redefinition_as_in_yaml)
{
	struct rules_collection *c = collect_ok("a: evt.type = open\n"
						"b: evt.type = close\n"
						"a: evt.type = creat\n");
	const struct rules_macro *a = rules_collection_macro(c, "a");

	CHECK_EQ_INT(c->n_macros, 2);
	CHECK_EQ_STR(c->n_macros ? c->macros[0].name : NULL, "a"); /* keeps its place (trap 12) */
	CHECK_EQ_STR(macro_cond(c, "a"), "evt.type = creat");
	CHECK(a && a->pos.line == 3 && a->cond_pos.col == 4);
	rules_collection_free(c);
}

TEST(macro_redefined_by_a_later_file)
{
	struct rules_collection *c = rules_collection_new();
	const char *a = "m: evt.type = open\nm | INFO a\n";
	const char *b = "- macro: m\n  condition: evt.type = close\n";
	struct rules_file *f = rules_conf_read_buffer("a.conf", a, strlen(a), &c->msgs);

	CHECK_EQ_INT(rules_collect_file(c, f), 0);
	CHECK_EQ_INT(rules_collect_buffer(c, "b.yaml", b, strlen(b)), 0);
	CHECK_EQ_INT(rules_collection_finish(c), 0);
	CHECK_EQ_STR(macro_cond(c, "m"), "evt.type = close");
	CHECK_EQ_INT(c->n_macros, 1);
	rules_collection_free(c);
}

TEST(very_long_lines)
{
	size_t big = 1 << 20, line2, quote, close, prio;
	struct strbuf sb = STRBUF_INIT;
	struct rules_collection *c;
	const struct rules_rule *r;

	sb_adds(&sb, "m: evt.type = open\n");
	line2 = sb.len;
	sb_adds(&sb, "m and proc.cmdline = ");
	quote = sb.len;
	sb_addc(&sb, '"');
	for (size_t i = 0; i < big; i++)
		sb_addc(&sb, i % 50 == 49 ? '|' : 'a');
	close = sb.len;
	sb_adds(&sb, "\" | ");
	prio = sb.len;
	sb_adds(&sb, "INFO long");
	c = collect_n("t.conf", sb.buf, sb.len);
	CHECK_EQ_INT(c->msgs.n, 0);
	r = rules_collection_rule(c, "t.conf:2");
	CHECK(r && strlen(r->condition) == close + 1 - line2);
	CHECK(r && strcmp(r->output, "long") == 0);
	rules_collection_free(c);
	/* errors far along the line, at their exact columns */
	sb.buf[prio + 3] = 'X';
	expect_error("t.conf", sb.buf, sb.len, LOAD_ERR_YAML_VALIDATE, 2,
		     (unsigned)(prio - line2 + 1), "invalid priority 'INFX'");
	sb.buf[close] = 'a';
	expect_error("t.conf", sb.buf, sb.len, LOAD_ERR_YAML_PARSE, 2,
		     (unsigned)(quote - line2 + 1), "unterminated quoted string");
	/* a line of a million '|': each is tried as the separator, in linear time */
	sb_reset(&sb);
	sb_adds(&sb, "evt.type = open ");
	for (size_t i = 0; i < big; i++)
		sb_addc(&sb, '|');
	expect_error("t.conf", sb.buf, sb.len, LOAD_ERR_YAML_VALIDATE, 1, 18,
		     "invalid priority '||||");
	sb_release(&sb);
}

TEST(message_format_and_snippet)
{
	struct load_msgs msgs = {0};
	struct strbuf sb = STRBUF_INIT;
	const char *text = "m: x\r\n\tm | WARNNG out\r\n";

	CHECK(rules_conf_read_buffer("dir/t.conf", text, strlen(text), &msgs) == NULL);
	CHECK_EQ_INT(msgs.n, 1);
	if (msgs.n)
		load_msg_format(&msgs.v[0], true, &sb);
	CHECK_EQ_STR(sb.buf, "dir/t.conf:2:6: error: rule 't.conf:2': invalid priority 'WARNNG' "
			     "(expected emergency, alert, critical, error, warning, notice, "
			     "informational, info or debug) [LOAD_ERR_YAML_VALIDATE]\n"
			     "    \tm | WARNNG out\n"
			     "    \t    ^\n");
	sb_release(&sb);
	load_msgs_free(&msgs);
}

/* --- Loading ------------------------------------------------------------------------------- */

TEST(read_file_dispatches_on_extension)
{
	char path[4096];
	struct load_msgs msgs = {0};
	struct rules_file *f = rules_yaml_read_file(
	    source_path(path, sizeof(path), "tests/rules/conf/basic.conf"), &msgs);

	CHECK(f != NULL);
	CHECK_EQ_INT(msgs.n, 0);
	CHECK(f && f->n_items == 6);
	CHECK(f && f->n_items && f->items[0].kind == RULES_ITEM_MACRO &&
	      strcmp(f->items[0].name, "open_write") == 0 && f->items[0].line == 4);
	CHECK(f && f->n_items == 6 && f->items[5].kind == RULES_ITEM_RULE &&
	      strcmp(f->items[5].name, "basic.conf:11") == 0);
	CHECK(f && f->n_items == 6 &&
	      strcmp(rules_node_get(f->items[5].map, "priority")->text, "info") == 0);
	rules_file_free(f);
	f = rules_yaml_read_file(source_path(path, sizeof(path), "tests/rules/conf/equiv.yaml"),
				 &msgs);
	CHECK(f && f->n_items == 2 && f->items[1].kind == RULES_ITEM_RULE &&
	      strcmp(f->items[1].name, "Shell") == 0);
	CHECK_EQ_INT(msgs.n, 0);
	rules_file_free(f);
	load_msgs_free(&msgs);
}

TEST(fixture_loads_and_compiles)
{
	char path[4096];
	const char *paths[] = {source_path(path, sizeof(path), "tests/rules/conf/basic.conf")};
	struct rules_loaded *r = rules_load(paths, 1);
	const struct loaded_rule *lr;

	CHECK_EQ_INT(r->coll->msgs.n, 0);
	CHECK_EQ_INT(r->n_rules, 3);
	lr = rules_loaded_find(r, "basic.conf:9");
	CHECK(lr && lr->src->priority == RULES_PRIO_WARNING);
	CHECK(lr && evtset_has(&lr->evttypes, (unsigned)evttype_code("openat", 6)));
	lr = rules_loaded_find(r, "basic.conf:11");
	CHECK(lr && strcmp(lr->src->output, "Pipe in a command line | %proc.cmdline") == 0);
	if (tap_cur_failed)
		dump_msgs(&r->coll->msgs);
	rules_loaded_free(r);
}

/* Writes files (name, text pairs) into a new directory and loads them in order. */
static struct rules_loaded *load_texts(const char *const *files, size_t n, char *dir,
				       size_t dirsize)
{
	char paths[8][512];
	const char *p[8];

	if (n > 8 || make_dir(dir, dirsize))
		return NULL;
	for (size_t i = 0; i < n; i++)
		p[i] = write_file(dir, files[2 * i], files[2 * i + 1], paths[i], sizeof(paths[i]));
	return rules_load(p, n);
}

static void unload(struct rules_loaded *r, const char *const *files, size_t n, const char *dir)
{
	const char *names[8];

	for (size_t i = 0; i < n && i < 8; i++)
		names[i] = files[2 * i];
	rm_dir(dir, names, n < 8 ? n : 8);
	rules_loaded_free(r);
}

TEST(compile_errors_at_their_place)
{
	static const char *const files[] = {"e.conf", "m: evt.type = open and \\\n"
						      "   and proc.name = x\n"
						      "evt.type = open and\\\n"
						      "\tfd.nam = y | INFO out\n"
						      "evt.type = open and (\\\n"
						      "  proc.name = x | INFO out\n"};
	char dir[64];
	struct rules_loaded *r = load_texts(files, 1, dir, sizeof(dir));
	const struct load_msg *m[3] = {NULL, NULL, NULL};
	size_t k = 0;

	if (!r)
		return;
	for (size_t i = 0; i < r->coll->msgs.n && k < 3; i++)
		if (r->coll->msgs.v[i].severity == LOAD_SEV_ERROR)
			m[k++] = &r->coll->msgs.v[i];
	CHECK_EQ_INT(r->coll->msgs.n_errors, 3);
	CHECK(m[0] && m[0]->code == LOAD_ERR_COMPILE_CONDITION && m[0]->line == 2 &&
	      m[0]->col == 8 && strstr(m[0]->text, "macro 'm': unexpected token"));
	CHECK(m[1] && m[1]->code == LOAD_ERR_COMPILE_CONDITION && m[1]->line == 4 &&
	      m[1]->col == 2 && strstr(m[1]->text, "rule 'e.conf:3': unknown field 'fd.nam'"));
	CHECK(m[2] && m[2]->code == LOAD_ERR_COMPILE_CONDITION && m[2]->line == 6 &&
	      m[2]->col == 16 && strstr(m[2]->text, "rule 'e.conf:5': unbalanced parenthesis"));
	if (tap_cur_failed)
		dump_msgs(&r->coll->msgs);
	unload(r, files, 1, dir);
}

TEST(conf_and_yaml_loaded_together)
{
	static const char *const files[] = {
	    "a.yaml",
	    "- list: shells\n  items: [bash, sh]\n"
	    "- macro: spawned\n  condition: evt.type = execve\n",
	    "b.conf",
	    "shell: spawned and proc.name in (shells)\n"
	    "shell and not proc.pname in (shells) | NOTICE shell %proc.name\n",
	    "c.yml",
	    "- rule: Shell (yaml)\n  desc: d\n  condition: shell\n  output: o\n"
	    "  priority: INFO\n"
	    "- rule: b.conf:2\n  enabled: false\n  override:\n    enabled: replace\n"};
	char dir[64];
	struct rules_loaded *r = load_texts(files, 3, dir, sizeof(dir));
	const struct loaded_rule *lr;

	if (!r)
		return;
	CHECK_EQ_INT(r->coll->msgs.n, 0);
	CHECK_EQ_INT(r->n_rules, 2);
	lr = rules_loaded_find(r, "b.conf:2");
	CHECK(lr && !lr->src->enabled); /* a YAML file can switch a .conf rule off by name */
	CHECK(lr && strcmp(lr->src->cond.text, "(shell and not proc.pname in ( bash, sh ))") == 0);
	CHECK(rules_collection_macro(r->coll, "shell") &&
	      strcmp(rules_collection_macro(r->coll, "shell")->cond.text,
		     "spawned and proc.name in ( bash, sh )") == 0);
	lr = rules_loaded_find(r, "Shell (yaml)");
	CHECK(lr && evtset_count(&lr->evttypes) == 1);
	if (tap_cur_failed)
		dump_msgs(&r->coll->msgs);
	unload(r, files, 3, dir);
}

TEST(macro_visibility_across_files)
{
	/* a macro may use only earlier macros; a rule may use any (b.9) */
	static const char *const files[] = {"a.conf",
					    "early: later_m and proc.name = x\n"
					    "later_m and proc.name = y | INFO ok\n",
					    "b.yaml",
					    "- macro: later_m\n  condition: evt.type = open\n"};
	char dir[64];
	struct rules_loaded *r = load_texts(files, 2, dir, sizeof(dir));
	const struct load_msg *m;

	if (!r)
		return;
	m = find_msg(r, LOAD_ERR_VALIDATE);
	CHECK_EQ_INT(r->coll->msgs.n_errors, 1);
	CHECK(m && m->line == 1 && m->col == 8 && strstr(m->text, "macro 'early'") &&
	      strstr(m->text, "'later_m'") && strstr(m->text, "defined later"));
	CHECK(m && m->file && strstr(m->file, "/a.conf"));
	CHECK(rules_loaded_find(r, "a.conf:2") != NULL);
	if (tap_cur_failed)
		dump_msgs(&r->coll->msgs);
	unload(r, files, 2, dir);
}

TEST(unused_conf_macro_warns_at_its_line)
{
	static const char *const files[] = {"u.conf", "# c\n  idle: evt.type = open\n"
						      "evt.type = close | INFO x\n"};
	char dir[64];
	struct rules_loaded *r = load_texts(files, 1, dir, sizeof(dir));
	const struct load_msg *m;

	if (!r)
		return;
	m = find_msg(r, LOAD_UNUSED_MACRO);
	CHECK_EQ_INT(r->coll->msgs.n, 1);
	CHECK(m && m->line == 2 && m->col == 3 && strstr(m->text, "macro 'idle'"));
	unload(r, files, 1, dir);
}

TEST(directory_with_conf_and_yaml)
{
	char path[4096];
	const char *paths[] = {path};
	struct load_msgs msgs = {0};
	struct rules_loaded *r;
	const struct loaded_rule *lr;
	char **files;
	size_t n;

	source_path(path, sizeof(path), "tests/rules/conf/mixed");
	CHECK_EQ_INT(rules_yaml_expand_path(path, &files, &n, &msgs), 0);
	CHECK_EQ_INT(n, 3);
	if (n == 3) {
		CHECK(strstr(files[0], "/10-base.conf") != NULL);
		CHECK(strstr(files[1], "/20-rules.yaml") != NULL);
		CHECK(strstr(files[2], "/30-legacy.conf") != NULL);
	}
	rules_yaml_free_paths(files, n);
	load_msgs_free(&msgs);
	r = rules_load(paths, 1);
	CHECK_EQ_INT(r->coll->msgs.n, 0);
	CHECK_EQ_INT(r->n_rules, 2);
	CHECK(r->n_rules == 2 && strcmp(r->rules[0].src->name, "Shell spawned") == 0 &&
	      strcmp(r->rules[1].src->name, "30-legacy.conf:2") == 0);
	lr = rules_loaded_find(r, "30-legacy.conf:2");
	CHECK(lr && lr->src->priority == RULES_PRIO_WARNING);
	CHECK(lr && evtset_count(&lr->evttypes) == 1 &&
	      evtset_has(&lr->evttypes, (unsigned)evttype_code("execve", 6)));
	if (tap_cur_failed)
		dump_msgs(&r->coll->msgs);
	rules_loaded_free(r);
}

TEST(directory_made_at_run_time)
{
	static const char *const names[] = {"b.conf", "a.yaml", ".conf", "c.conf.txt",
					    "d.CONF", "0.conf", "e.yml"};
	char dir[64], path[512];
	struct load_msgs msgs = {0};
	char **files;
	size_t n;

	if (make_dir(dir, sizeof(dir)))
		return;
	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++)
		write_file(dir, names[i], "", path, sizeof(path));
	CHECK_EQ_INT(rules_yaml_expand_path(dir, &files, &n, &msgs), 0);
	CHECK_EQ_INT(n, 4);
	if (n == 4) {
		CHECK(strstr(files[0], "/0.conf") != NULL);
		CHECK(strstr(files[1], "/a.yaml") != NULL);
		CHECK(strstr(files[2], "/b.conf") != NULL);
		CHECK(strstr(files[3], "/e.yml") != NULL);
	}
	rules_yaml_free_paths(files, n);
	rm_dir(dir, names, sizeof(names) / sizeof(names[0]));
	CHECK_EQ_INT(msgs.n, 0);
	load_msgs_free(&msgs);
}

/* The program of the only rule loaded from rel, disassembled into out. */
static void program_of(const char *rel, struct strbuf *out, struct evtset *evttypes,
		       enum rules_priority *prio, char **output)
{
	char path[4096];
	const char *paths[] = {source_path(path, sizeof(path), rel)};
	struct rules_loaded *r = rules_load(paths, 1);

	CHECK_EQ_INT(r->coll->msgs.n, 0);
	CHECK_EQ_INT(r->n_rules, 1);
	if (r->n_rules == 1) {
		vm_prog_dump(r->rules[0].prog, out);
		*evttypes = r->rules[0].evttypes;
		*prio = r->rules[0].src->priority;
		*output = strdup(r->rules[0].src->output);
	}
	if (tap_cur_failed)
		dump_msgs(&r->coll->msgs);
	rules_loaded_free(r);
}

TEST(same_program_as_yaml)
{
	struct strbuf conf = STRBUF_INIT, yaml = STRBUF_INIT;
	struct evtset ec, ey;
	enum rules_priority pc = RULES_PRIO_DEBUG, py = RULES_PRIO_EMERGENCY;
	char *oc = NULL, *oy = NULL;

	evtset_clear(&ec);
	evtset_clear(&ey);
	program_of("tests/rules/conf/equiv.conf", &conf, &ec, &pc, &oc);
	program_of("tests/rules/conf/equiv.yaml", &yaml, &ey, &py, &oy);
	CHECK(conf.len > 0);
	CHECK_EQ_STR(conf.buf, yaml.buf);
	CHECK(memcmp(&ec, &ey, sizeof(ec)) == 0);
	CHECK_EQ_INT(evtset_count(&ec), 1);
	CHECK_EQ_INT(pc, py);
	CHECK_EQ_STR(oc, oy);
	if (tap_cur_failed)
		printf("# conf:\n%s# yaml:\n%s", conf.buf ? conf.buf : "",
		       yaml.buf ? yaml.buf : "");
	free(oc);
	free(oy);
	sb_release(&conf);
	sb_release(&yaml);
}

TEST(missing_conf_file_is_a_read_error)
{
	struct rules_collection *c = rules_collection_new();

	CHECK_EQ_INT(rules_collect_path(c, "/nonexistent/saker/legacy.conf"), -1);
	CHECK_EQ_INT(c->msgs.n_errors, 1);
	CHECK(c->msgs.n && c->msgs.v[0].code == LOAD_ERR_FILE_READ);
	rules_collection_free(c);
}

int main(void)
{
	RUN(conf_paths_by_extension);
	RUN(macro_line);
	RUN(rule_line);
	RUN(rule_names_from_base_name_and_line);
	RUN(comments_and_blank_lines);
	priority_rows();
	RUN(pipe_in_double_quotes);
	RUN(pipe_in_single_quotes);
	RUN(escaped_quote_in_string);
	RUN(pipe_in_bare_words);
	RUN(pipes_and_quotes_in_output);
	RUN(pipe_before_a_priority_word_splits);
	RUN(continued_lines);
	RUN(continued_output_joins_with_one_space);
	RUN(backslash_then_blank_does_not_continue);
	RUN(crlf_line_ends);
	RUN(last_line_without_line_break);
	RUN(byte_order_mark_is_skipped);
	RUN(utf8_text_is_kept);
	error_rows();
	RUN(first_error_stops_the_file);
	RUN(invalid_macro_name_warns_as_yaml_does);
	RUN(macro_redefinition_as_in_yaml);
	RUN(macro_redefined_by_a_later_file);
	RUN(very_long_lines);
	RUN(message_format_and_snippet);
	RUN(read_file_dispatches_on_extension);
	RUN(fixture_loads_and_compiles);
	RUN(compile_errors_at_their_place);
	RUN(conf_and_yaml_loaded_together);
	RUN(macro_visibility_across_files);
	RUN(unused_conf_macro_warns_at_its_line);
	RUN(directory_with_conf_and_yaml);
	RUN(directory_made_at_run_time);
	RUN(same_program_as_yaml);
	RUN(missing_conf_file_is_a_read_error);
	return tap_done();
}
