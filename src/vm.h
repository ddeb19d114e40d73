/*
 * The rule VM: a compiled condition (struct vm_prog, built by compile.h) and its interpreter.
 *
 * Instructions are fixed-width 64-bit words:
 *
 *    63      56 55      48 47            32 31            16 15             0
 *   +----------+----------+----------------+----------------+----------------+
 *   |  opcode  |  op/mod  |   field slot   | constant index |  jump target   |
 *   +----------+----------+----------------+----------------+----------------+
 *
 *   opcode        enum vm_opcode (vm_ops.h)
 *   op/mod        bits 0-4: enum cond_op, bits 5-6: enum cond_mod (test ops only)
 *   field slot    index into the program's slot table (the left operand)
 *   constant      index into the constant pool; for CMPF_* the right operand's slot
 *   jump target   absolute instruction index; always forward (> own index)
 *
 * Jumps are forward only and every program ends in ACCEPT or REJECT, checked once by
 * vm_prog_validate(), so a run takes at most n_insns steps and needs no step limit.
 *
 * Field values come from the caller through struct vm_fieldsrc, so the VM knows nothing of
 * the state tables. Each slot is one distinct operand of the condition: a field with its
 * argument, or a transformer expression over other slots (which always have lower indexes).
 * During one vm_eval() each slot is computed at most once.
 *
 * Values that come back as a list (VM_V_LIST) are treated in one of two ways:
 *  - the field is IS_LIST (fd.types, spec a.6): "in" is true when every element is in the
 *    set (so an empty list is in every set), "intersects" when at least one is;
 *  - otherwise the list stands for "any of these" (un-indexed ancestor fields such as
 *    proc.aname, spec a.4; fd.ip/fd.port matching either end): a check is true when it holds
 *    for at least one element, whatever the operator (so proc.aname != sshd is "some ancestor
 *    is not sshd"); an empty list behaves like a missing value.
 */
#ifndef SAKER_VM_H
#define SAKER_VM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "cond_ast.h"
#include "fields.h"
#include "vm_ops.h"

struct trie;

struct strbuf;

struct vm_insn {
	uint8_t op;	 /* enum vm_opcode */
	uint8_t cmp;	 /* enum cond_op | enum cond_mod << 5 */
	uint16_t slot;	 /* left operand's slot */
	uint16_t k;	 /* constant index, or the right operand's slot */
	uint16_t target; /* jump target */
};

#define VM_CMP(op, mod) ((uint8_t)((unsigned)(op) | (unsigned)(mod) << 5))
#define VM_CMP_OP(c)	((enum cond_op)((c)&0x1f))
#define VM_CMP_MOD(c)	((enum cond_mod)(((c) >> 5) & 0x3))
#define VM_MAX_INSNS	0xffff
#define VM_MAX_CONSTS	0xffff
#define VM_MAX_SLOTS	64 /* distinct operands per condition */

enum vm_value_kind {
	VM_V_STR,  /* text or bytes: s, len (not necessarily NUL-terminated) */
	VM_V_INT,  /* i */
	VM_V_UINT, /* u */
	VM_V_BOOL, /* b */
	VM_V_IP,   /* ip: family (AF_INET, AF_INET6) and address, network byte order */
	VM_V_NET,  /* ip and prefix: a CIDR (constants only) */
	VM_V_LIST, /* items, n */
};

struct vm_value {
	enum vm_value_kind kind;
	union {
		struct {
			const char *s;
			size_t len;
		} str;
		int64_t i;
		uint64_t u;
		bool b;
		struct {
			int family;
			unsigned prefix; /* VM_V_NET */
			uint8_t addr[16];
		} ip;
		struct {
			const struct vm_value *items;
			size_t n;
		} list;
	};
};

/* A field as the extractor sees it: the registry entry and its argument (NUL-terminated
 * copy, or NULL). */
struct vm_field {
	const struct field_def *def;
	const char *arg;
};

/*
 * Where field values come from. extract() fills *out and returns 0, returns 1 when the field
 * has no value for this event (missing), or -1 on an internal error (treated as missing).
 * Strings and list items must stay valid until vm_eval() returns.
 */
struct vm_fieldsrc {
	int (*extract)(void *ctx, const struct vm_field *f, struct vm_value *out);
	void *ctx;
};

/*
 * An argument of a multi-input transformer (join, concat, getopt). A slot's arguments are a
 * flat array in source order; a literal list is a VM_A_LIST entry followed by its items:
 *
 *   concat(proc.name, "-", proc.pname)    SLOT 0, CONST 3, SLOT 1
 *   join(",", (proc.name, "x"))           CONST 4, LIST 2, SLOT 0, CONST 5
 *   getopt(proc.args, "t:")[t]            SLOT 2, CONST 6          (sel 't')
 */
enum vm_arg_kind {
	VM_A_SLOT,  /* index: a lower slot */
	VM_A_CONST, /* index: a string constant (VM_K_VALUE holding a VM_V_STR) */
	VM_A_LIST,  /* index: how many SLOT or CONST items follow, a literal list */
};

struct vm_arg {
	uint16_t kind; /* enum vm_arg_kind */
	uint16_t index;
};

/*
 * One slot: a field, or a transformer over lower slots.
 *
 * One-input transformers read input. join, concat and getopt read args instead (spec a.7):
 *  - join(sep, list): the list's items joined by sep; the list is an IS_LIST slot (a list
 *    field, or getopt() without selector) or a literal list;
 *  - concat(a, b, ...): the arguments one after the other;
 *  - getopt(args, optstring): a POSIX getopt(3) scan of args, a list of words (a list field,
 *    a literal list, or a text slot or constant split at blanks, as proc.args is space-joined)
 *    with short options described by optstring ("ab:c::", ':' after a letter: it takes a
 *    value, "::": an optional one, in the same word only; a leading '+', '-' or ':' is
 *    ignored). A value is the rest of the word, else the next word (whatever it starts
 *    with); an option that wants one but ends the words has none. The scan stops at "--" or
 *    at the first word that is not an option. Without selector (sel 0) the value is an
 *    IS_LIST list: per option found, its letter, then its value if it has one; "?" for a
 *    letter optstring does not have. With a selector c it is the value of c's last
 *    occurrence ("" when that one has none), missing when c is absent.
 * A missing argument (or list item) makes the whole result missing. An argument in a scalar
 * position that is an "any of" list (see above) makes the result "any of" the results over
 * every combination of elements (at most VM_MAX_COMBOS, else missing); getopt without
 * selector, whose value is already a list, is then missing.
 */
struct vm_slot {
	bool is_field;
	bool is_list;	       /* the value is an IS_LIST list (see above) */
	struct vm_field field; /* is_field */
	enum cond_tr tr;       /* !is_field */
	uint16_t input;	       /* one-input transformers: the transformed slot */
	uint16_t n_args;       /* join, concat, getopt: entries in args */
	struct vm_arg *args;   /* join, concat, getopt: owned */
	char sel;	       /* getopt: the [c] selector, or 0 for the list of options */
	enum field_type type;  /* the operand's type */
	char *text;	       /* canonical text, for the disassembler */
};

#define VM_MAX_COMBOS 256 /* combinations of "any of" arguments per multi-input transformer */

/* Constant pool entries. */
enum vm_const_kind {
	VM_K_VALUE,  /* v: one converted value (VM_V_NET for CIDRs) */
	VM_K_SET,    /* v: a VM_V_LIST of converted items; hash set over string items */
	VM_K_REGEX,  /* v: the pattern (VM_V_STR); re: compiled, anchored at both ends */
	VM_K_PMATCH, /* v: a VM_V_LIST of path patterns (VM_V_STR) */
};

struct vm_const {
	enum vm_const_kind kind;
	struct vm_value v; /* strings (and VM_V_LIST items) are owned by the constant */
	uint32_t *hash;	   /* VM_K_SET of strings: item index + 1 per bucket, 0 = empty */
	size_t hash_size;  /* a power of two, or 0 when there is no hash */
	void *re;	   /* VM_K_REGEX: a regex_t */
	struct trie *trie; /* VM_K_SET for startswith/endswith anyof: the items as a trie */
	char *text;	   /* as written in the condition, for the disassembler */
};

/* The hash the VM_K_SET tables use (FNV-1a). */
uint32_t vm_hash(const char *s, size_t len);

struct vm_prog {
	struct vm_insn *insns;
	size_t n_insns;
	struct vm_const *consts;
	size_t n_consts;
	struct vm_slot *slots;
	size_t n_slots;
};

/* Checks the invariants the interpreter relies on: known opcodes, jumps forward and in
 * bounds, constant and slot indexes valid (constants of the kind the operator wants),
 * transformer inputs at lower slots (multi-input ones: arguments well formed, of the arity
 * and list-ness their transformer wants, constants that are strings), last instruction
 * terminal. Returns 0, or -1 with a
 * message in err. */
int vm_prog_validate(const struct vm_prog *p, char *err, size_t errlen);

/* Runs a validated program against one event: 1 match, 0 no match. */
int vm_eval(const struct vm_prog *p, const struct vm_fieldsrc *src);

/*
 * Sharing across the programs of one event. The rules filed under one event type share
 * fields (fd.name, proc.name) and whole checks (the macros: open_read, spawned_process);
 * a memo lets each be computed once per event whichever program asks first. The ruleset
 * numbers the distinct checks and fields of its programs (ids from 1; 0: not shared) and
 * hands vm_eval_memo the numbers of each program's instructions and slots.
 *
 * A check's result depends only on its operand's value, operator and constant, and a
 * field's value only on the event, so sharing them changes no verdict.
 */
struct vm_memo_ids {
	const uint16_t *check; /* per instruction: the CMP check's id, or 0 */
	const uint16_t *field; /* per slot: the field's id (field slots only), or 0 */
	/* Checks the program cannot match without: its leading CMP_JF instructions whose
	 * false branch goes straight to REJECT. One already known false for this event
	 * decides the program without running it. */
	uint16_t required[4];
	unsigned n_required;
};

struct vm_memo;

/* A memo for ids up to n_checks and n_fields. NULL when out of memory. */
struct vm_memo *vm_memo_new(unsigned n_checks, unsigned n_fields);
void vm_memo_free(struct vm_memo *m);
/* Forgets everything: the next event. */
void vm_memo_next(struct vm_memo *m);

/* What the memo already says of the program's required checks (its instructions
 * 0..n_required-1): -1 when one is known false (the program cannot match), else how many
 * of the leading ones are known true (the program may start after them). */
int vm_memo_prefix(const struct vm_memo *m, const struct vm_memo_ids *ids);

/* The value of shared field id for this event, read through src into m if not there yet
 * (the programs then find it there). NULL when the field has no value. */
const struct vm_value *vm_memo_field(struct vm_memo *m, unsigned id, const struct vm_field *f,
				     const struct vm_fieldsrc *src);

/* vm_eval, sharing results through m (ids may be NULL: nothing shared). Field values
 * remembered in m must stay valid until vm_memo_next (the extractors' values do: they live
 * until the next event). */
int vm_eval_memo(const struct vm_prog *p, const struct vm_fieldsrc *src,
		 const struct vm_memo_ids *ids, struct vm_memo *m);
/* The same, starting at instruction start (from vm_memo_prefix: every instruction before it
 * is a required check known true, so execution would fall through to it). */
int vm_eval_memo_from(const struct vm_prog *p, const struct vm_fieldsrc *src,
		      const struct vm_memo_ids *ids, struct vm_memo *m, size_t start);

/* Appends a listing, one instruction per line: index, opcode, then the operands by name:
 *   0000  CMP_JF    proc.name in ("bash", "sh")  -> 0002
 *   0001  ACCEPT
 * Constants print as written in the condition (values always quoted). A program with
 * transformers then lists its slots, each transformer over the slots it reads:
 *   slots:
 *     #0  proc.name
 *     #1  concat(#0, "-", #0) */
void vm_prog_dump(const struct vm_prog *p, struct strbuf *sb);

/* Name and one-line description of an opcode ("CMP_JT"); "?" when out of range. */
const char *vm_op_name(unsigned op);
const char *vm_op_doc(unsigned op);

/* Frees p and all it owns. NULL is fine. */
void vm_prog_free(struct vm_prog *p);

#endif /* SAKER_VM_H */
