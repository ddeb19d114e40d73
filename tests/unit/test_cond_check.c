/* The semantic stage: macro expansion, field and value checks, event-type sets. */
#include <stdlib.h>
#include <time.h>

#include "cond_check.h"
#include "cond_parse.h"
#include "strbuf.h"
#include "syscalls.h"
#include "testlib.h"

/* Macros for the tests: name -> condition text. */
static const char *const macro_src[][2] = {
    {"open_read", "evt.type in (open, openat, openat2) and evt.is_open_read = true"},
    {"spawned_process", "evt.type = execve and evt.dir = <"},
    {"never_true", "(evt.num = 0)"},
    {"loop_a", "loop_b and proc.name = a"},
    {"loop_b", "loop_a"},
    {"self", "self"},
    {"shell", "proc.name in (bash, sh)"},
    {"uses_shell", "shell and not never_true"},
};
#define NMACROS (sizeof(macro_src) / sizeof(macro_src[0]))
static struct cond_node *macro_ast[NMACROS];
static int nwarnings;
static char last_warning[256];

static const struct cond_node *lookup(void *ctx, const char *name)
{
	(void)ctx;
	for (size_t i = 0; i < NMACROS; i++)
		if (strcmp(macro_src[i][0], name) == 0)
			return macro_ast[i];
	return NULL;
}

static void on_warn(void *ctx, const char *code, const struct cond_pos *pos, const char *in_macro,
		    const char *msg)
{
	(void)ctx;
	(void)pos;
	(void)in_macro;
	nwarnings++;
	snprintf(last_warning, sizeof(last_warning), "%s: %s", code, msg);
}

static const struct check_env env = {lookup, on_warn, NULL};

/* Checks text; returns the printed expanded tree, or "ERR <code>: <msg>". */
static const char *check(const char *text)
{
	static struct strbuf sb = STRBUF_INIT;
	struct cond_error perr;
	struct check_error err;
	struct cond_node *ast = cond_parse(text, strlen(text), &perr), *out;

	sb_reset(&sb);
	if (!ast) {
		sb_addf(&sb, "PARSE %s", perr.msg);
		return sb.buf;
	}
	out = cond_check(ast, &env, &err);
	if (out)
		cond_node_print(&sb, out);
	else
		sb_addf(&sb, "ERR %s: %s%s%s", err.code, err.msg, err.in_macro[0] ? " in " : "",
			err.in_macro);
	cond_node_free(ast);
	cond_node_free(out);
	return sb.buf;
}

/* Checks text that must fail; returns "<line>:<col> <msg>". */
static const char *check_err(const char *text)
{
	static char buf[512];
	struct cond_error perr;
	struct check_error err;
	struct cond_node *ast = cond_parse(text, strlen(text), &perr), *out;

	if (!ast) {
		snprintf(buf, sizeof(buf), "PARSE %s", perr.msg);
		return buf;
	}
	out = cond_check(ast, &env, &err);
	if (out)
		snprintf(buf, sizeof(buf), "checked");
	else
		snprintf(buf, sizeof(buf), "%u:%u %s", err.pos.line, err.pos.col, err.msg);
	cond_node_free(ast);
	cond_node_free(out);
	return buf;
}

static bool starts(const char *s, const char *prefix)
{
	if (strncmp(s, prefix, strlen(prefix)) != 0) {
		printf("# got: %s\n# want prefix: %s\n", s, prefix);
		return false;
	}
	return true;
}

TEST(macro_expansion)
{
	CHECK_EQ_STR(check("shell"), "(in proc.name (\"bash\", \"sh\"))");
	CHECK_EQ_STR(
	    check("uses_shell and fd.name = /etc/x"),
	    "(and (and (in proc.name (\"bash\", \"sh\")) (not (= evt.num \"0\"))) (= fd.name "
	    "\"/etc/x\"))");
	CHECK(starts(check("nosuch and proc.name = x"),
		     "ERR LOAD_ERR_VALIDATE: undefined macro 'nosuch' used in filter"));
	CHECK(starts(check("loop_a"), "ERR LOAD_ERR_VALIDATE: macro 'loop_a' refers to itself"));
	CHECK(starts(check("self"), "ERR LOAD_ERR_VALIDATE: macro 'self' refers to itself"));
}

TEST(fields_and_operators)
{
	CHECK(starts(check("proc.nmae = bash"), "ERR LOAD_ERR_COMPILE_CONDITION: unknown field"));
	CHECK(starts(
	    check("proc.pid contains 1"),
	    "ERR LOAD_ERR_COMPILE_CONDITION: operator 'contains' is not supported for INT64"));
	CHECK(starts(check("proc.name bcontains 6162"), "ERR LOAD_ERR_COMPILE_CONDITION: operator "
							"'bcontains'"));
	CHECK(starts(check("evt.buffer bcontains 6162"), "(bcontains"));
	CHECK(starts(check("evt.buffer bcontains 616"), "ERR LOAD_ERR_COMPILE_CONDITION: '616' is "
							"not a valid BYTEBUF"));
	CHECK(starts(check("fd.snet glob x"), "ERR LOAD_ERR_COMPILE_CONDITION: operator 'glob'"));
	CHECK(starts(check("evt.is_open_read > 1"), "ERR LOAD_ERR_COMPILE_CONDITION"));
	CHECK(starts(check("fd.types in (file)"), "(in fd.types"));
	CHECK(starts(check("fd.types = file"),
		     "ERR LOAD_ERR_COMPILE_CONDITION: operator '=' is not "
		     "supported for CHARBUF list"));
	CHECK(starts(check("evt.arg exists"), "ERR LOAD_ERR_COMPILE_CONDITION: field 'evt.arg' "
					      "requires an argument"));
	CHECK(starts(check("proc.aname[x] = a"),
		     "ERR LOAD_ERR_COMPILE_CONDITION: field 'proc.aname' "
		     "takes a number"));
	CHECK(starts(check("proc.aname[2] = sshd and proc.env[HOME] exists"), "(and"));
}

TEST(value_conversion)
{
	CHECK(starts(check("proc.pid = 12"), "(="));
	CHECK(starts(check("proc.pid = -12"), "(="));
	CHECK(starts(check("proc.pid > 0x10"), "ERR LOAD_ERR_COMPILE_CONDITION: '0x10' is not a "
					       "valid INT64 value"));
	CHECK(starts(check("proc.pid = 1.5"), "ERR"));
	CHECK(starts(check("proc.tty = -1"), "(=")); /* unsigned: wraps */
	CHECK(starts(check("fd.sport in (22, 2222, \"\")"), "(in"));
	CHECK(starts(check("fd.sport = 70000"), "ERR"));
	CHECK(starts(check("fd.sport = nosuchservicename"), "ERR"));
	CHECK(starts(check("evt.is_open_read = true"), "(="));
	CHECK(starts(check("evt.is_open_read = yes"),
		     "ERR LOAD_ERR_COMPILE_CONDITION: 'yes' is not "
		     "a valid BOOL value"));
	CHECK(starts(check("fd.snet in (10.0.0.0/8, 192.168.0.0/16, fd00::/8)"), "(in"));
	CHECK(starts(check("fd.snet in (10.0.0.0)"), "ERR"));
	CHECK(starts(check("fd.snet in (10.0.0.0/33)"), "ERR"));
	CHECK(starts(check("fd.sip = 127.0.0.1 or fd.sip = ::1"), "(or"));
	CHECK(starts(check("fd.sip = 300.0.0.1"), "ERR"));
	CHECK(starts(check("proc.name regex \"^ba(sh|d)$\""), "(regex"));
	CHECK(starts(check("proc.name regex \"(\""),
		     "ERR LOAD_ERR_COMPILE_CONDITION: invalid regex"));
}

TEST(event_types_validated)
{
	CHECK(starts(check("evt.type in (open, openat, execve, procexit, pread)"), "(in"));
	CHECK(starts(check("evt.type = opne"),
		     "ERR LOAD_ERR_COMPILE_CONDITION: unknown event type opne"));
	CHECK(starts(check("evt.type in (open, bogus)"), "ERR LOAD_ERR_COMPILE_CONDITION: unknown "
							 "event type bogus"));
}

TEST(rhs_fields)
{
	CHECK(starts(check("proc.name = val(proc.pname)"), "(="));
	CHECK(starts(check("tolower(proc.name) = toupper(proc.pname)"), "(="));
	CHECK(starts(check("proc.pid = val(proc.name)"), "ERR LOAD_ERR_COMPILE_CONDITION: cannot "
							 "compare INT64 with CHARBUF"));
	CHECK(starts(check("proc.name regex val(proc.pname)"), "ERR"));
	CHECK(starts(check("proc.aname = val(proc.name)"), "ERR LOAD_ERR_COMPILE_CONDITION: field "
							   "'proc.aname' cannot"));
	CHECK(starts(check("len(proc.name) > 3"), "(>"));
	CHECK(starts(check("len(proc.pid) > 3"), "ERR LOAD_ERR_COMPILE_CONDITION: field type INT64 "
						 "is not supported by 'len'"));
	CHECK(starts(check("tolower(proc.name)[1] = x"), "ERR"));
}

TEST(multi_input_transformers)
{
	/* What checks, and the tree it leaves. */
	CHECK_EQ_STR(check("join(\",\", fd.types) = \"a,b\""), "(= join(\",\", fd.types) \"a,b\")");
	CHECK(starts(check("join(\"-\", (proc.name, \"x\", tolower(proc.pname), 7)) = a"), "(="));
	CHECK(starts(check("join(proc.name, getopt(proc.args, \"t:\")) = a"), "(="));
	CHECK(starts(check("concat(proc.name, \"-\", basename(proc.exepath), 1) = a"), "(="));
	CHECK(starts(check("concat(fd.name, fd.directory) startswith /"), "(startswith"));
	CHECK(starts(check("getopt(proc.args, \"nt:\") intersects (n, t)"), "(intersects"));
	CHECK(starts(check("getopt(fd.types, \"nt:\") in (n)"), "(in"));
	CHECK(starts(check("getopt((\"-n\", proc.name), proc.pname)[x] = a"), "(="));
	CHECK(starts(check("getopt(proc.args, \"+:nt:\")[n] = a"), "(="));
	CHECK(starts(check("len(getopt(proc.args, \"nt:\")) > 2"), "(>"));
	CHECK(starts(check("fd.types in getopt(proc.args, \"nt:\")"), "(in"));
	CHECK(starts(check("proc.name = concat(proc.pname, \"x\")"), "(="));
	CHECK(starts(check("proc.name = getopt(proc.args, \"t:\")[t]"), "(="));
	/* List-ness: a getopt() without selector is a list, with one a single value. */
	CHECK_EQ_STR(check_err("getopt(proc.args, \"t:\") = x"),
		     "1:1 operator '=' is not supported for CHARBUF list values");
	CHECK_EQ_STR(check_err("getopt(proc.args, \"t:\")[t] in val(fd.types)"),
		     "1:31 cannot compare CHARBUF with CHARBUF");
	CHECK_EQ_STR(check_err("tolower(getopt(proc.args, \"t:\")) = x"),
		     "1:1 field type CHARBUF (list) is not supported by 'tolower' transformer");
	/* Arity. */
	CHECK_EQ_STR(check_err("concat(proc.name) = x"),
		     "1:1 transformer 'concat' takes at least 2 arguments, not 1");
	CHECK_EQ_STR(check_err("proc.name = join(\",\")"),
		     "1:13 transformer 'join' takes 2 arguments, not 1");
	CHECK_EQ_STR(check_err("getopt(proc.args, \"a\", \"b\") exists"),
		     "1:1 transformer 'getopt' takes 2 arguments, not 3");
	CHECK_EQ_STR(check_err("tolower(proc.name, proc.pname) = x"),
		     "1:1 transformer 'tolower' takes 1 argument, not 2");
	/* A list where a single value is needed, and the reverse. */
	CHECK_EQ_STR(check_err("concat(proc.name, fd.types) = x"),
		     "1:19 argument 2 of 'concat' must be a single value, not a CHARBUF list");
	CHECK_EQ_STR(check_err("concat(proc.name,\n  (\"a\", \"b\")) = x"),
		     "2:3 argument 2 of 'concat' must be a single value, not a list");
	CHECK_EQ_STR(check_err("concat(proc.name, getopt(proc.args, \"t:\")) = x"),
		     "1:19 argument 2 of 'concat' must be a single value, not a CHARBUF list");
	CHECK_EQ_STR(check_err("join(fd.types, fd.types) = x"),
		     "1:6 argument 1 of 'join' must be a single value, not a CHARBUF list");
	CHECK_EQ_STR(check_err("join(\",\", proc.name) = x"),
		     "1:11 argument 2 of 'join' must be a list, not a single CHARBUF");
	CHECK_EQ_STR(check_err("join(\",\", \"a b\") = x"),
		     "1:11 argument 2 of 'join' must be a list, not a single value");
	CHECK_EQ_STR(check_err("join(\",\", (proc.name, fd.types)) = x"),
		     "1:23 a list item of 'join' must be a single value, not a CHARBUF list");
	CHECK_EQ_STR(check_err("getopt(proc.args, (\"t:\")) exists"),
		     "1:19 argument 2 of 'getopt' must be a single value, not a list");
	/* Types. */
	CHECK_EQ_STR(check_err("concat(proc.name, proc.pid) = x"),
		     "1:19 field type INT64 is not supported by 'concat' transformer");
	CHECK_EQ_STR(check_err("join(\",\", (proc.name, evt.buffer)) = x"),
		     "1:23 field type BYTEBUF is not supported by 'join' transformer");
	CHECK_EQ_STR(check_err("getopt(proc.ppid, \"t:\") exists"),
		     "1:8 field type INT64 is not supported by 'getopt' transformer");
	CHECK_EQ_STR(check_err("concat(proc.name, proc.nmae) = x"),
		     "1:19 unknown field 'proc.nmae'");
	CHECK_EQ_STR(check_err("proc.exepath = concat(proc.exepath, \"x\")"),
		     "1:16 cannot compare FSPATH with CHARBUF");
	/* Selectors. */
	CHECK_EQ_STR(check_err("concat(proc.name, \"x\")[t] = x"),
		     "1:1 transformer 'concat' does not take a '[...]' argument");
	CHECK_EQ_STR(check_err("join(\",\", fd.types)[t] = x"),
		     "1:1 transformer 'join' does not take a '[...]' argument");
	CHECK_EQ_STR(check_err("proc.pid = 1 or getopt(proc.args, \"nt:\")[x] = a"),
		     "1:17 getopt selector 'x' is not an option of \"nt:\"");
	CHECK_EQ_STR(check_err("getopt(proc.args, \"nt:\")[nt] = a"),
		     "1:1 getopt selector 'nt' is not a single option letter");
	CHECK_EQ_STR(check_err("getopt(proc.args, \"nt:\")[\":\"] = a"),
		     "1:1 getopt selector ':' is not a single option letter");
	CHECK_EQ_STR(check_err("getopt(proc.args, \"-n\")[\"-\"] = a"),
		     "1:1 getopt selector '-' is not an option of \"-n\"");
}

TEST(warnings)
{
	nwarnings = 0;
	CHECK(starts(check("proc.name = proc.pname"), "(="));
	CHECK_EQ_INT(nwarnings, 1);
	CHECK(strstr(last_warning, "may be a valid field misused as a const string value") != NULL);
	nwarnings = 0;
	CHECK(starts(check("spawned_process"), "(and"));
	CHECK_EQ_INT(nwarnings, 1);
	CHECK(strstr(last_warning, "LOAD_DEPRECATED_ITEM") != NULL);
}

static size_t evt_count(const char *text, const char *must_have, const char *must_not)
{
	struct cond_error perr;
	struct check_error err;
	struct cond_node *ast = cond_parse(text, strlen(text), &perr), *out;
	struct evtset s;
	size_t n;

	out = ast ? cond_check(ast, &env, &err) : NULL;
	if (!out) {
		printf("# %s: does not check\n", text);
		cond_node_free(ast);
		return (size_t)-1;
	}
	cond_evttypes(out, &s);
	n = evtset_count(&s);
	if (must_have && !evtset_has(&s, (unsigned)evttype_code(must_have, strlen(must_have))))
		n = (size_t)-2;
	if (must_not && evtset_has(&s, (unsigned)evttype_code(must_not, strlen(must_not))))
		n = (size_t)-3;
	cond_node_free(ast);
	cond_node_free(out);
	return n;
}

TEST(event_type_sets)
{
	struct evtset all;

	evtset_all(&all);
	CHECK(evtset_count(&all) > 380);
	/* The spec's table (c.1). */
	CHECK_EQ_INT(evt_count("evt.type = open and proc.name = cat", "open", "openat"), 1);
	CHECK_EQ_INT(evt_count("evt.type in (open, openat) or evt.type = execve", "execve", NULL),
		     3);
	CHECK_EQ_INT(evt_count("not evt.type = open", "openat", "open"), evtset_count(&all) - 1);
	CHECK_EQ_INT(evt_count("evt.type != open", NULL, "open"), evtset_count(&all) - 1);
	CHECK_EQ_INT(evt_count("not (evt.type = open and proc.name = cat)", "open", NULL),
		     evtset_count(&all));
	CHECK_EQ_INT(evt_count("evt.type = open and evt.type = close", NULL, NULL), 0);
	CHECK_EQ_INT(evt_count("proc.name = cat", NULL, NULL), evtset_count(&all));
	CHECK_EQ_INT(evt_count("evt.num = 0", NULL, NULL), 0);
	CHECK_EQ_INT(evt_count("not never_true and evt.type = connect", "connect", NULL), 1);
	CHECK_EQ_INT(evt_count("open_read and not shell", "openat2", "execve"), 3);
	CHECK_EQ_INT(evt_count("evt.type in ()", NULL, NULL), 0);
	CHECK_EQ_INT(evt_count("not evt.type exists", NULL, NULL), 0);
	CHECK_EQ_INT(evt_count("evt.type = procexit", "procexit", NULL), 1);
}

/* Macros that multiply: d0 is one check, d(i) is d(i-1) and d(i-1), so d40 expands to 2^40
 * checks. */
#define NDOUBLE 41
static struct cond_node *double_ast[NDOUBLE];

static const struct cond_node *double_lookup(void *ctx, const char *name)
{
	(void)ctx;
	if (name[0] != 'd' || !name[1])
		return NULL;
	return (size_t)atoi(name + 1) < NDOUBLE ? double_ast[atoi(name + 1)] : NULL;
}

/* Checks text against the doubling macros: "ok <nodes>" or "<code> <line>:<col> <msg>". */
static const char *check_double(const char *text)
{
	static char buf[512];
	const struct check_env denv = {double_lookup, NULL, NULL};
	struct check_error err;
	struct cond_node *ast = cond_parse(text, strlen(text), NULL), *out;
	struct strbuf sb = STRBUF_INIT;

	if (!ast)
		return "PARSE";
	out = cond_check(ast, &denv, &err);
	if (out) {
		cond_node_print(&sb, out);
		snprintf(buf, sizeof(buf), "ok %zu bytes", sb.len);
	} else {
		snprintf(buf, sizeof(buf), "%s %u:%u %s", err.code, err.pos.line, err.pos.col,
			 err.msg);
	}
	sb_release(&sb);
	cond_node_free(ast);
	cond_node_free(out);
	return buf;
}

TEST(expansion_has_a_node_budget)
{
	char text[32];
	struct timespec t0, t1;

	double_ast[0] = cond_parse("proc.name = a", 13, NULL);
	for (int i = 1; i < NDOUBLE; i++) {
		snprintf(text, sizeof(text), "d%d and d%d", i - 1, i - 1);
		double_ast[i] = cond_parse(text, strlen(text), NULL);
	}
	clock_gettime(CLOCK_MONOTONIC, &t0);
	CHECK(starts(check_double("evt.type = open and d40"),
		     "LOAD_ERR_COMPILE_CONDITION 1:21 condition too large: more than 1000000 "
		     "checks and and/or/not once macros are expanded (through macro 'd40')"));
	CHECK(starts(check_double("d40 or d1"), "LOAD_ERR_COMPILE_CONDITION 1:1 condition too"));
	/* 2^16 checks and 2^16 - 1 ands: within the budget */
	CHECK(starts(check_double("d16"), "ok "));
	/* 2^19 + 2^19 - 1 nodes: over it */
	CHECK(starts(check_double("d19"), "LOAD_ERR_COMPILE_CONDITION 1:1 condition too large"));
	/* an undefined macro is still reported as such */
	CHECK(starts(check_double("d3 and nosuch"), "LOAD_ERR_VALIDATE 1:8 undefined macro"));
	clock_gettime(CLOCK_MONOTONIC, &t1);
	CHECK((double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) / 1e9 < 10.0);
	for (int i = 0; i < NDOUBLE; i++)
		cond_node_free(double_ast[i]);
}

int main(void)
{
	for (size_t i = 0; i < NMACROS; i++) {
		struct cond_error e;

		macro_ast[i] = cond_parse(macro_src[i][1], strlen(macro_src[i][1]), &e);
		if (!macro_ast[i])
			printf("# macro %s: %s\n", macro_src[i][0], e.msg);
	}
	RUN(macro_expansion);
	RUN(fields_and_operators);
	RUN(value_conversion);
	RUN(event_types_validated);
	RUN(rhs_fields);
	RUN(multi_input_transformers);
	RUN(warnings);
	RUN(event_type_sets);
	RUN(expansion_has_a_node_budget);
	for (size_t i = 0; i < NMACROS; i++)
		cond_node_free(macro_ast[i]);
	return tap_done();
}
