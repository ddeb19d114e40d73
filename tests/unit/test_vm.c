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

/* A source with proc.name and proc.pid; counts extractor calls per field. */
struct src {
	const char *name; /* NULL: missing */
	long long pid;
	bool has_pid;
	int calls_name, calls_pid;
};

static int extract(void *ctx, const struct vm_field *f, struct vm_value *out)
{
	struct src *s = ctx;

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

TEST(unsupported_transformers_rejected)
{
	char err[256] = "";

	CHECK_EQ_INT(compile_err("concat(proc.name, proc.pname) = ab", err, sizeof(err)), -1);
	CHECK(strstr(err, "'concat' is not supported yet") != NULL);
	CHECK_EQ_INT(compile_err("join(\",\", fd.types) = a", err, sizeof(err)), -1);
	CHECK(strstr(err, "'join' is not supported yet") != NULL);
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
	RUN(unsupported_transformers_rejected);
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
