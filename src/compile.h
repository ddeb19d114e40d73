/*
 * The rules compiler's back end: a checked condition tree (cond_check.h) to a VM program
 * (vm.h). and/or/not become forward jumps (short-circuit, jump lists patched as the code is
 * emitted); each check becomes one fused test-and-branch instruction; values are converted
 * once into the constant pool (numbers by the left operand's type, CIDRs, hash sets for
 * in/intersects, compiled regexes); the literal arguments of join(), concat() and getopt()
 * become string constants too. Each distinct operand (field or transformer expression, by its
 * canonical text) gets one slot, after the slots of its inputs.
 */
#ifndef SAKER_COMPILE_H
#define SAKER_COMPILE_H

#include <stddef.h>

#include "cond_ast.h"
#include "vm.h"

/* Compiles checked (the output of cond_check) into *out, validated. Returns 0, or -1 with
 * a message in err. */
int compile_rule(const struct cond_node *checked, struct vm_prog **out, char *err, size_t errlen);

#endif /* SAKER_COMPILE_H */
