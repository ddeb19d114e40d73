/*
 * The rule VM's opcode list: the single source of truth. Each entry is
 *
 *   X(name, operands, is_jump, doc)
 *
 * where operands says which instruction fields the op reads (see the diagram in vm.h):
 * S = field slot, K = constant index, F = second field slot (in the K field), C = the
 * operator/modifier byte, J = jump target. The list generates enum vm_opcode, the names the
 * disassembler prints, and the per-op properties the validator checks.
 *
 * Every test op is fused: it loads its operand(s) from the per-event field cache, performs
 * the check and branches, in one instruction. "_JT" ops jump when the check is true, "_JF"
 * ops when it is false (a missing value makes every check false, spec a.8); otherwise they
 * fall through to the next instruction.
 */
#ifndef SAKER_VM_OPS_H
#define SAKER_VM_OPS_H

#define VM_OPCODES(X)                                                                              \
	X(CMP_JT, "SCKJ", 1, "if slot S <op> constant K holds, jump to J")                         \
	X(CMP_JF, "SCKJ", 1, "unless slot S <op> constant K holds, jump to J")                     \
	X(CMPF_JT, "SCFJ", 1, "if slot S <op> slot F holds, jump to J")                            \
	X(CMPF_JF, "SCFJ", 1, "unless slot S <op> slot F holds, jump to J")                        \
	X(EXISTS_JT, "SJ", 1, "if slot S has a value for this event, jump to J")                   \
	X(EXISTS_JF, "SJ", 1, "unless slot S has a value for this event, jump to J")               \
	X(JMP, "J", 1, "jump to J")                                                                \
	X(ACCEPT, "", 0, "stop: the condition matches")                                            \
	X(REJECT, "", 0, "stop: the condition does not match")

enum vm_opcode {
#define VM_X(name, operands, is_jump, doc) VM_OP_##name,
	VM_OPCODES(VM_X)
#undef VM_X
	VM_OP_COUNT
};

#endif /* SAKER_VM_OPS_H */
