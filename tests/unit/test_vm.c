/* Unit tests of the rule compiler (compile.h), the program validator, the disassembler and
 * the VM (vm.h). The golden suite (test_golden.c) covers operator semantics row by row. */
#include <stdlib.h>

#include "compile.h"
#include "cond_check.h"
#include "cond_parse.h"
#include "strbuf.h"
#include "testlib.h"

/* ---- helpers ----------------------------------------------------------------------- */

static struct vm_prog *build(const char *cond)
{
	struct check_env env = {0};
	struct cond_error perr;
	struct check_error cerr;
	struct cond_node *ast = cond_parse(cond, strlen(cond), &perr), *checked;
	struct vm_prog *prog = NULL;
	char err[256];

	if (!ast)
		return NULL;
	checked = cond_check(ast, &env, &cerr);
	cond_node_free(ast);
	if (!checked)
		return NULL;
	if (compile_rule(checked, &prog, err, sizeof(err)))
		printf("# compile: %s\n", err);
	cond_node_free(checked);
	return prog;
}

static int compile_err(const char *cond, char *err, size_t errlen)
{
	struct check_env env = {0};
	struct cond_error perr;
	struct check_error cerr;
	struct cond_node *ast = cond_parse(cond, strlen(cond), &perr), *checked;
	struct vm_prog *prog = NULL;
	int rc;

	if (!ast)
		return 0;
	checked = cond_check(ast, &env, &cerr);
	cond_node_free(ast);
	if (!checked)
		return 0;
	rc = compile_rule(checked, &prog, err, errlen);
	cond_node_free(checked);
	vm_prog_free(prog);
	return rc;
}

static char *dump(const struct vm_prog *p)
{
	struct strbuf sb = STRBUF_INIT;
	char *s;

	vm_prog_dump(p, &sb);
	s = strdup(sb.buf ? sb.buf : "");
	sb_release(&sb);
	return s;
}

/* A source with proc.name, proc.pid, proc.pname, proc.args and proc.aname (an "any of" list
 * of n_anames items); counts extractor calls per field. */
struct src {
	const char *name; /* NULL: missing */
	long long pid;
	bool has_pid;
	const char *pname, *args; /* NULL: missing */
	size_t n_anames;
	struct vm_value anames[32];
	int calls_name, calls_pid, calls_other;
};

static int extract_str(const char *s, struct vm_value *out)
{
	if (!s)
		return 1;
	out->kind = VM_V_STR;
	out->str.s = s;
	out->str.len = strlen(s);
	return 0;
}

static int extract(void *ctx, const struct vm_field *f, struct vm_value *out)
{
	struct src *s = ctx;

	if (strcmp(f->def->name, "proc.pname") == 0 || strcmp(f->def->name, "proc.args") == 0 ||
	    strcmp(f->def->name, "proc.aname") == 0)
		s->calls_other++;
	if (strcmp(f->def->name, "proc.pname") == 0)
		return extract_str(s->pname, out);
	if (strcmp(f->def->name, "proc.args") == 0)
		return extract_str(s->args, out);
	if (strcmp(f->def->name, "proc.aname") == 0) {
		out->kind = VM_V_LIST;
		out->list.items = s->anames;
		out->list.n = s->n_anames;
		return 0;
	}

	if (strcmp(f->def->name, "proc.name") == 0) {
		s->calls_name++;
		if (!s->name)
			return 1;
		out->kind = VM_V_STR;
		out->str.s = s->name;
		out->str.len = strlen(s->name);
		return 0;
	}
	if (strcmp(f->def->name, "proc.pid") == 0) {
		s->calls_pid++;
		if (!s->has_pid)
			return 1;
		out->kind = VM_V_INT;
		out->i = s->pid;
		return 0;
	}
	return -1;
}

static int eval(const struct vm_prog *p, struct src *s)
{
	struct vm_fieldsrc fs = {.extract = extract, .ctx = s};

	return vm_eval(p, &fs);
}

/* A hand-built program of n instructions, one slot (proc.name), one string constant. */
static struct vm_prog *hand(const struct vm_insn *insns, size_t n)
{
	struct vm_prog *p = calloc(1, sizeof(*p));
	struct field_ref ref;
	char err[128];

	p->insns = calloc(n ? n : 1, sizeof(*insns));
	memcpy(p->insns, insns, n * sizeof(*insns));
	p->n_insns = n;
	p->slots = calloc(1, sizeof(*p->slots));
	fields_resolve("proc.name", 9, &ref, err, sizeof(err));
	p->slots[0].is_field = true;
	p->slots[0].field.def = ref.def;
	p->slots[0].type = ref.def->type;
	p->slots[0].text = strdup("proc.name");
	p->n_slots = 1;
	p->consts = calloc(1, sizeof(*p->consts));
	p->consts[0].kind = VM_K_VALUE;
	p->consts[0].v.kind = VM_V_STR;
	p->consts[0].v.str.s = strdup("bash");
	p->consts[0].v.str.len = 4;
	p->consts[0].text = strdup("\"bash\"");
	p->n_consts = 1;
	return p;
}

#define EQ VM_CMP(COND_OP_EQ, COND_MOD_NONE)

/* ---- tests ------------------------------------------------------------------------- */

TEST(opcode_table)
{
	CHECK_EQ_STR(vm_op_name(VM_OP_CMP_JT), "CMP_JT");
	CHECK_EQ_STR(vm_op_name(VM_OP_REJECT), "REJECT");
	CHECK_EQ_STR(vm_op_name(200), "?");
	CHECK(strstr(vm_op_doc(VM_OP_ACCEPT), "matches") != NULL);
	CHECK_EQ_INT(sizeof(struct vm_insn), 8);
}

TEST(simple_program_shape)
{
	struct vm_prog *p = build("proc.name = bash");
	char *d;

	CHECK(p != NULL);
	if (!p)
		return;
	CHECK_EQ_INT(p->n_insns, 3);
	CHECK_EQ_INT(p->insns[0].op, VM_OP_CMP_JF);
	CHECK_EQ_INT(p->insns[0].target, 2);
	CHECK_EQ_INT(p->insns[1].op, VM_OP_ACCEPT);
	CHECK_EQ_INT(p->insns[2].op, VM_OP_REJECT);
	d = dump(p);
	CHECK_EQ_STR(d, "0000  CMP_JF    proc.name = \"bash\"  -> 0002\n"
			"0001  ACCEPT   \n"
			"0002  REJECT   \n");
	free(d);
	vm_prog_free(p);
}

TEST(or_and_not_are_jumps)
{
	struct vm_prog *p = build("proc.name = a or not (proc.pid = 1 and proc.name != b)");
	char *d;

	CHECK(p != NULL);
	if (!p)
		return;
	d = dump(p);
	CHECK_EQ_STR(d, "0000  CMP_JT    proc.name = \"a\"  -> 0003\n"
			"0001  CMP_JF    proc.pid = \"1\"  -> 0003\n"
			"0002  CMP_JT    proc.name != \"b\"  -> 0004\n"
			"0003  ACCEPT   \n"
			"0004  REJECT   \n");
	free(d);
	for (size_t i = 0; i < p->n_insns; i++)
		if (p->insns[i].op <= VM_OP_JMP)
			CHECK(p->insns[i].target > i);
	CHECK_EQ_INT(p->n_slots, 2);
	vm_prog_free(p);
}

TEST(dump_shows_modifiers_sets_fields_exists)
{
	struct vm_prog *p =
	    build("fd.name startswith anyof (/etc/, /root/) and proc.name in (a, b) "
		  "and proc.name exists and tolower(proc.name) = val(proc.pname)");
	char *d;

	CHECK(p != NULL);
	if (!p)
		return;
	d = dump(p);
	CHECK(strstr(d, "CMP_JF    fd.name startswith anyof (\"/etc/\", \"/root/\")  -> ") != NULL);
	CHECK(strstr(d, "CMP_JF    proc.name in (\"a\", \"b\")") != NULL);
	CHECK(strstr(d, "EXISTS_JF proc.name  -> ") != NULL);
	CHECK(strstr(d, "CMPF_JF   tolower(proc.name) = proc.pname  -> ") != NULL);
	free(d);
	vm_prog_free(p);
}

TEST(field_cache_extracts_once)
{
	struct vm_prog *p = build("proc.name = a or proc.name = b or proc.name = c or "
				  "tolower(proc.name) = d or proc.name exists");
	struct src s = {.name = "zz"};

	CHECK(p != NULL);
	if (!p)
		return;
	CHECK_EQ_INT(p->n_slots, 2); /* proc.name, tolower(proc.name) */
	CHECK_EQ_INT(eval(p, &s), 1);
	CHECK_EQ_INT(s.calls_name, 1);
	s.calls_name = 0;
	s.name = NULL;
	CHECK_EQ_INT(eval(p, &s), 0);
	CHECK_EQ_INT(s.calls_name, 1);
	vm_prog_free(p);
}

TEST(short_circuit_skips_extraction)
{
	struct vm_prog *p = build("proc.name = a and proc.pid = 1");
	struct src s = {.name = "b", .pid = 1, .has_pid = true};

	CHECK(p != NULL);
	if (!p)
		return;
	CHECK_EQ_INT(eval(p, &s), 0);
	CHECK_EQ_INT(s.calls_pid, 0);
	s.name = "a";
	CHECK_EQ_INT(eval(p, &s), 1);
	CHECK_EQ_INT(s.calls_pid, 1);
	vm_prog_free(p);
}

TEST(missing_value_semantics)
{
	struct vm_prog *ne = build("proc.name != foo"), *notq = build("not proc.name = foo");
	struct src s = {0};

	CHECK(ne && notq);
	if (!ne || !notq)
		return;
	CHECK_EQ_INT(eval(ne, &s), 0);
	CHECK_EQ_INT(eval(notq, &s), 1);
	s.name = "bar";
	CHECK_EQ_INT(eval(ne, &s), 1);
	CHECK_EQ_INT(eval(notq, &s), 1);
	vm_prog_free(ne);
	vm_prog_free(notq);
}

TEST(numbers_by_field_type)
{
	struct vm_prog *p = build("proc.pid < -5");
	struct src s = {.pid = -6, .has_pid = true};

	CHECK(p != NULL);
	if (!p)
		return;
	CHECK_EQ_INT(p->consts[0].v.kind, VM_V_INT);
	CHECK_EQ_INT(p->consts[0].v.i, -5);
	CHECK_EQ_INT(eval(p, &s), 1);
	s.pid = -5;
	CHECK_EQ_INT(eval(p, &s), 0);
	vm_prog_free(p);
	p = build("user.uid = -1");
	CHECK(p != NULL);
	if (p)
		CHECK(p->consts[0].v.u == 0xffffffffu);
	vm_prog_free(p);
}

TEST(set_is_hashed)
{
	struct vm_prog *p = build("proc.name in (a, b, c, d, e, f, g, h, i, j)");
	struct src s = {.name = "h"};

	CHECK(p != NULL);
	if (!p)
		return;
	CHECK_EQ_INT(p->consts[0].kind, VM_K_SET);
	CHECK(p->consts[0].hash_size >= 16);
	CHECK_EQ_INT(eval(p, &s), 1);
	s.name = "k";
	CHECK_EQ_INT(eval(p, &s), 0);
	vm_prog_free(p);
}

TEST(multi_input_slots)
{
	struct vm_prog *p = build("concat(proc.name, \"-\", proc.pname) = a-b");
	const struct vm_slot *sl;
	char *d;

	CHECK(p != NULL);
	if (!p)
		return;
	CHECK_EQ_INT(p->n_slots, 3);
	sl = &p->slots[2];
	CHECK(!sl->is_field && sl->tr == COND_TR_CONCAT && !sl->is_list);
	CHECK_EQ_INT(sl->type, FT_CHARBUF);
	CHECK_EQ_INT(sl->n_args, 3);
	CHECK(sl->args[0].kind == VM_A_SLOT && sl->args[0].index == 0);
	CHECK(sl->args[1].kind == VM_A_CONST && sl->args[2].kind == VM_A_SLOT &&
	      sl->args[2].index == 1);
	CHECK_EQ_INT(p->consts[sl->args[1].index].kind, VM_K_VALUE);
	CHECK_EQ_INT(p->consts[sl->args[1].index].v.kind, VM_V_STR);
	CHECK_EQ_STR(p->consts[sl->args[1].index].v.str.s, "-");
	d = dump(p);
	CHECK_EQ_STR(d, "0000  CMP_JF    concat(proc.name, \"-\", proc.pname) = \"a-b\"  -> 0002\n"
			"0001  ACCEPT   \n"
			"0002  REJECT   \n"
			"slots:\n"
			"  #0  proc.name\n"
			"  #1  proc.pname\n"
			"  #2  concat(#0, \"-\", #1)\n");
	free(d);
	vm_prog_free(p);
}

TEST(multi_input_literal_lists_and_selector)
{
	struct vm_prog *p = build("join(\",\", (proc.name, \"x\", tolower(proc.name))) = a and "
				  "getopt(proc.args, \"nt:\")[t] = b and "
				  "getopt((\"-n\", proc.pname), \"nt:\") intersects (n)");
	const struct vm_slot *j, *g, *l;
	char *d;

	CHECK(p != NULL);
	if (!p)
		return;
	CHECK_EQ_INT(p->n_slots, 7);
	j = &p->slots[2]; /* proc.name, tolower(proc.name), join, proc.args, getopt, ... */
	CHECK(j->tr == COND_TR_JOIN && j->n_args == 5);
	CHECK(j->args[0].kind == VM_A_CONST && j->args[1].kind == VM_A_LIST &&
	      j->args[1].index == 3);
	CHECK(j->args[2].kind == VM_A_SLOT && j->args[2].index == 0 &&
	      j->args[3].kind == VM_A_CONST && j->args[4].kind == VM_A_SLOT &&
	      j->args[4].index == 1);
	g = &p->slots[4];
	CHECK(g->tr == COND_TR_GETOPT && g->sel == 't' && !g->is_list && g->n_args == 2);
	l = &p->slots[6];
	CHECK(l->tr == COND_TR_GETOPT && l->sel == 0 && l->is_list && l->n_args == 4);
	d = dump(p);
	CHECK(strstr(d, "  #1  tolower(#0)\n"
			"  #2  join(\",\", (#0, \"x\", #1))\n"
			"  #3  proc.args\n"
			"  #4  getopt(#3, \"nt:\")[t]\n"
			"  #5  proc.pname\n"
			"  #6  getopt((\"-n\", #5), \"nt:\")\n") != NULL);
	free(d);
	vm_prog_free(p);
	p = build("getopt(proc.args, \"%:\")[\"%\"] = x");
	CHECK(p != NULL);
	if (!p)
		return;
	d = dump(p);
	CHECK(strstr(d, "  #1  getopt(#0, \"%:\")[\"\\x25\"]\n") != NULL);
	free(d);
	vm_prog_free(p);
}

TEST(multi_input_eval)
{
	struct vm_prog *p = build("concat(proc.name, \"-\", proc.pname) = a-b");
	struct vm_prog *g = build("getopt(proc.args, \"nt:\")[t] = val(proc.pname)");
	struct vm_prog *l = build("getopt(proc.args, \"nt:\") in (n, t, x)");
	struct src s = {.name = "a", .pname = "b", .args = "-n -t b"};

	CHECK(p && g && l);
	if (!p || !g || !l)
		goto out;
	CHECK_EQ_INT(eval(p, &s), 1);
	CHECK_EQ_INT(eval(g, &s), 1);
	CHECK_EQ_INT(eval(l, &s), 0); /* "b", the value of -t, is not in the set */
	s.args = "-t x -n";
	CHECK_EQ_INT(eval(l, &s), 1);
	CHECK_EQ_INT(eval(g, &s), 0);
	s.args = "-t b -t";
	CHECK_EQ_INT(eval(g, &s), 0); /* the last -t has no value: "" */
	s.pname = "";
	CHECK_EQ_INT(eval(g, &s), 1);
	s.pname = NULL;
	CHECK_EQ_INT(eval(p, &s), 0);
	CHECK_EQ_INT(eval(g, &s), 0);
	s.args = NULL;
	CHECK_EQ_INT(eval(l, &s), 0);
out:
	vm_prog_free(p);
	vm_prog_free(g);
	vm_prog_free(l);
}

TEST(multi_input_field_cache)
{
	struct vm_prog *p = build("concat(proc.name, proc.name, tolower(proc.name)) = aaa and "
				  "concat(proc.name, proc.name, tolower(proc.name)) startswith a "
				  "and join(\"\", (proc.name, proc.pname)) = ab and "
				  "getopt(proc.args, proc.pname)[b] exists");
	struct src s = {.name = "a", .pname = "b", .args = "-b"};

	CHECK(p != NULL);
	if (!p)
		return;
	CHECK_EQ_INT(eval(p, &s), 1);
	CHECK_EQ_INT(s.calls_name, 1);
	CHECK_EQ_INT(s.calls_other, 2); /* proc.pname, proc.args */
	s.calls_name = s.calls_other = 0;
	s.pname = NULL;
	CHECK_EQ_INT(eval(p, &s), 0);
	CHECK_EQ_INT(s.calls_name, 1);
	CHECK_EQ_INT(s.calls_other, 1); /* proc.pname missing: the rest is not looked at */
	vm_prog_free(p);
}

/* An "any of" argument: every combination, up to VM_MAX_COMBOS of them. */
TEST(multi_input_any_of)
{
	struct vm_prog *p = build("concat(proc.aname, \"/\", proc.aname) = \"c/a\"");
	struct vm_prog *e = build("concat(proc.aname, proc.aname) exists");
	static const char *const names[] = {"a", "b", "c", "d", "e", "f", "g", "h", "i",
					    "j", "k", "l", "m", "n", "o", "p", "q"};
	struct src s = {0};

	CHECK(p && e);
	if (!p || !e)
		goto out;
	for (size_t i = 0; i < 17; i++)
		extract_str(names[i], &s.anames[i]);
	s.n_anames = 3;
	CHECK_EQ_INT(eval(p, &s), 1);
	s.n_anames = 2;
	CHECK_EQ_INT(eval(p, &s), 0);
	s.n_anames = 16; /* 16 * 16 = VM_MAX_COMBOS */
	CHECK_EQ_INT(eval(e, &s), 1);
	s.n_anames = 17;
	CHECK_EQ_INT(eval(e, &s), 0);
	s.n_anames = 0;
	CHECK_EQ_INT(eval(e, &s), 0);
out:
	vm_prog_free(p);
	vm_prog_free(e);
}

/* Compiles cond, breaks slot i with f, and expects the validator to refuse it. */
static void break_slot(const char *cond, size_t i, void (*f)(struct vm_prog *, struct vm_slot *))
{
	struct vm_prog *p = build(cond);
	char err[128] = "";

	CHECK(p != NULL);
	if (!p)
		return;
	CHECK_EQ_INT(vm_prog_validate(p, err, sizeof(err)), 0);
	CHECK(i < p->n_slots);
	if (i < p->n_slots)
		f(p, &p->slots[i]);
	CHECK_EQ_INT(vm_prog_validate(p, err, sizeof(err)), -1);
	CHECK(strstr(err, "bad field or transformer input") != NULL);
	vm_prog_free(p);
}

static void arg_to_self(struct vm_prog *p, struct vm_slot *s)
{
	s->args[0].index = (uint16_t)(s - p->slots);
}

static void arg_to_later(struct vm_prog *p, struct vm_slot *s)
{
	(void)p;
	s->args[2].index = 7;
}

static void const_out_of_range(struct vm_prog *p, struct vm_slot *s)
{
	s->args[1].index = (uint16_t)p->n_consts;
}

static void const_not_string(struct vm_prog *p, struct vm_slot *s)
{
	p->consts[s->args[1].index].kind = VM_K_SET;
}

static void list_too_long(struct vm_prog *p, struct vm_slot *s)
{
	(void)p;
	s->args[1].index = 9;
}

static void bad_kind(struct vm_prog *p, struct vm_slot *s)
{
	(void)p;
	s->args[0].kind = 7;
}

static void one_arg(struct vm_prog *p, struct vm_slot *s)
{
	(void)p;
	s->n_args = 1;
}

static void join_scalar_list(struct vm_prog *p, struct vm_slot *s)
{
	(void)p;
	s->n_args = 2; /* sep, LIST 1, proc.name: now sep, proc.name (not a list) */
	s->args[1] = s->args[2];
}

static void sel_on_concat(struct vm_prog *p, struct vm_slot *s)
{
	(void)p;
	s->sel = 'x';
}

static void list_flag_wrong(struct vm_prog *p, struct vm_slot *s)
{
	(void)p;
	s->is_list = !s->is_list;
}

static void tr_val(struct vm_prog *p, struct vm_slot *s)
{
	(void)p;
	s->tr = COND_TR_VAL;
}

TEST(validator_checks_multi_input_slots)
{
	const char *concat = "concat(proc.name, \"-\", proc.pname) = a";

	break_slot(concat, 2, arg_to_self);
	break_slot(concat, 2, arg_to_later);
	break_slot(concat, 2, const_out_of_range);
	break_slot(concat, 2, const_not_string);
	break_slot(concat, 2, bad_kind);
	break_slot(concat, 2, one_arg);
	break_slot(concat, 2, sel_on_concat);
	break_slot(concat, 2, list_flag_wrong);
	break_slot(concat, 2, tr_val);
	break_slot("join(\",\", (proc.name, \"x\")) = a", 1, list_too_long);
	break_slot("join(\",\", (proc.name)) = a", 1, join_scalar_list);
	break_slot("getopt(proc.args, \"t:\") intersects (t)", 1, list_flag_wrong);
	break_slot("getopt(proc.args, \"t:\")[t] = a", 1, list_flag_wrong);
}

TEST(validator_accepts_good)
{
	struct vm_insn ok[] = {
	    {VM_OP_CMP_JF, EQ, 0, 0, 2},
	    {VM_OP_ACCEPT, 0, 0, 0, 0},
	    {VM_OP_REJECT, 0, 0, 0, 0},
	};
	struct vm_prog *p = hand(ok, 3);
	struct src s = {.name = "bash"};
	char err[128];

	CHECK_EQ_INT(vm_prog_validate(p, err, sizeof(err)), 0);
	CHECK_EQ_INT(eval(p, &s), 1);
	vm_prog_free(p);
}

static int validate(const struct vm_insn *insns, size_t n, const char *want)
{
	struct vm_prog *p = hand(insns, n);
	char err[128] = "";
	int rc = vm_prog_validate(p, err, sizeof(err));

	if (rc == 0 || !strstr(err, want)) {
		printf("# validate: rc %d, err '%s', want '%s'\n", rc, err, want);
		rc = 0;
	}
	vm_prog_free(p);
	return rc;
}

TEST(validator_rejects_backward_jump)
{
	struct vm_insn bad[] = {
	    {VM_OP_CMP_JF, EQ, 0, 0, 2},
	    {VM_OP_JMP, 0, 0, 0, 0},
	    {VM_OP_REJECT, 0, 0, 0, 0},
	};
	struct vm_insn self[] = {
	    {VM_OP_JMP, 0, 0, 0, 0},
	    {VM_OP_REJECT, 0, 0, 0, 0},
	};

	CHECK_EQ_INT(validate(bad, 3, "not forward"), -1);
	CHECK_EQ_INT(validate(self, 2, "not forward"), -1);
}

TEST(validator_rejects_jump_out_of_bounds)
{
	struct vm_insn bad[] = {
	    {VM_OP_EXISTS_JT, 0, 0, 0, 9},
	    {VM_OP_REJECT, 0, 0, 0, 0},
	};

	CHECK_EQ_INT(validate(bad, 2, "not forward and in bounds"), -1);
}

TEST(validator_rejects_bad_constant)
{
	struct vm_insn oob[] = {
	    {VM_OP_CMP_JF, EQ, 0, 7, 1},
	    {VM_OP_REJECT, 0, 0, 0, 0},
	};
	struct vm_insn kind[] = {
	    {VM_OP_CMP_JF, VM_CMP(COND_OP_IN, COND_MOD_NONE), 0, 0, 1},
	    {VM_OP_REJECT, 0, 0, 0, 0},
	};

	CHECK_EQ_INT(validate(oob, 2, "constant 7"), -1);
	CHECK_EQ_INT(validate(kind, 2, "wrong kind"), -1);
}

TEST(validator_rejects_bad_slot_and_opcode)
{
	struct vm_insn slot[] = {
	    {VM_OP_EXISTS_JF, 0, 3, 0, 1},
	    {VM_OP_REJECT, 0, 0, 0, 0},
	};
	struct vm_insn fslot[] = {
	    {VM_OP_CMPF_JF, EQ, 0, 5, 1},
	    {VM_OP_REJECT, 0, 0, 0, 0},
	};
	struct vm_insn op[] = {
	    {VM_OP_COUNT + 3, 0, 0, 0, 0},
	    {VM_OP_REJECT, 0, 0, 0, 0},
	};
	struct vm_insn cmp[] = {
	    {VM_OP_CMP_JF, 31, 0, 0, 1},
	    {VM_OP_REJECT, 0, 0, 0, 0},
	};

	CHECK_EQ_INT(validate(slot, 2, "slot 3"), -1);
	CHECK_EQ_INT(validate(fslot, 2, "slot 5"), -1);
	CHECK_EQ_INT(validate(op, 2, "unknown opcode"), -1);
	CHECK_EQ_INT(validate(cmp, 2, "bad operator"), -1);
}

TEST(validator_rejects_no_terminal)
{
	struct vm_insn noterm[] = {
	    {VM_OP_CMP_JF, EQ, 0, 0, 1},
	    {VM_OP_EXISTS_JT, 0, 0, 0, 1},
	};
	struct vm_insn jmp_last[] = {
	    {VM_OP_ACCEPT, 0, 0, 0, 0},
	    {VM_OP_JMP, 0, 0, 0, 5},
	};

	CHECK_EQ_INT(validate(noterm, 2, "not forward"), -1);
	CHECK_EQ_INT(validate(jmp_last, 2, ""), -1);
	CHECK_EQ_INT(validate(noterm, 0, "0 instructions"), -1);
}

TEST(validator_single_terminal)
{
	struct vm_insn one[] = {{VM_OP_REJECT, 0, 0, 0, 0}};
	struct vm_insn accept_first[] = {
	    {VM_OP_ACCEPT, 0, 0, 0, 0},
	    {VM_OP_REJECT, 0, 0, 0, 0},
	};
	struct vm_prog *p = hand(one, 1);
	struct src s = {0};
	char err[128];

	/* Every non-terminal op is a forward jump, so a last instruction that is not ACCEPT
	 * or REJECT is caught by the jump rule or the terminal rule, whichever comes first. */
	CHECK_EQ_INT(vm_prog_validate(p, err, sizeof(err)), 0);
	CHECK_EQ_INT(eval(p, &s), 0);
	vm_prog_free(p);
	p = hand(accept_first, 2);
	CHECK_EQ_INT(vm_prog_validate(p, err, sizeof(err)), 0);
	CHECK_EQ_INT(eval(p, &s), 1);
	vm_prog_free(p);
}

TEST(transformer_slot_after_input)
{
	struct vm_prog *p = build("toupper(tolower(proc.name)) = A");
	char err[128];

	CHECK(p != NULL);
	if (!p)
		return;
	CHECK_EQ_INT(p->n_slots, 3);
	CHECK(!p->slots[2].is_field && p->slots[2].input == 1);
	p->slots[2].input = 2; /* a cycle */
	CHECK_EQ_INT(vm_prog_validate(p, err, sizeof(err)), -1);
	vm_prog_free(p);
}

TEST(too_many_fields)
{
	struct strbuf sb = STRBUF_INIT;
	char err[256] = "";

	for (int i = 0; i < VM_MAX_SLOTS + 1; i++)
		sb_addf(&sb, "%sproc.env[V%d] = x", i ? " or " : "", i);
	CHECK_EQ_INT(compile_err(sb.buf, err, sizeof(err)), -1);
	CHECK(strstr(err, "distinct fields") != NULL);
	sb_release(&sb);
}

int main(void)
{
	RUN(opcode_table);
	RUN(simple_program_shape);
	RUN(or_and_not_are_jumps);
	RUN(dump_shows_modifiers_sets_fields_exists);
	RUN(field_cache_extracts_once);
	RUN(short_circuit_skips_extraction);
	RUN(missing_value_semantics);
	RUN(numbers_by_field_type);
	RUN(set_is_hashed);
	RUN(multi_input_slots);
	RUN(multi_input_literal_lists_and_selector);
	RUN(multi_input_eval);
	RUN(multi_input_field_cache);
	RUN(multi_input_any_of);
	RUN(validator_checks_multi_input_slots);
	RUN(validator_accepts_good);
	RUN(validator_rejects_backward_jump);
	RUN(validator_rejects_jump_out_of_bounds);
	RUN(validator_rejects_bad_constant);
	RUN(validator_rejects_bad_slot_and_opcode);
	RUN(validator_rejects_no_terminal);
	RUN(validator_single_terminal);
	RUN(transformer_slot_after_input);
	RUN(too_many_fields);
	return tap_done();
}
