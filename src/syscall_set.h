/*
 * The set of syscalls the kernel lets through (spec g): the syscalls the loaded rules name,
 * plus the state set (the syscalls whose events keep the process and fd tables right), and
 * nothing else. base_syscalls.custom_set: its plain names replace the state set, its
 * '!name' entries are removed from the final set; base_syscalls.all: every syscall. The
 * event dump (--dump) captures every syscall the decoder understands instead of the state
 * set, since showing them is its point.
 */
#ifndef SAKER_SYSCALL_SET_H
#define SAKER_SYSCALL_SET_H

#include <stdbool.h>
#include <stdint.h>

#include "config.h"
#include "events.h"

/* Whether syscall id changes the state tables (state.c applies it). */
bool syscall_in_state_set(unsigned id);

/* Fills bm (SK_BITMAP_WORDS words) from the configuration, the rules' syscalls (rules: a
 * bitmap, or NULL for none) and whether the event dump is on. Unknown names in the custom
 * set are warned about and skipped. Returns the number of syscalls in the set. */
unsigned syscall_set_build(uint64_t *bm, const struct config *c, const uint64_t *rules,
			   bool dump);

static inline void syscall_set_add(uint64_t *bm, unsigned id)
{
	if (id < SK_NR_SYSCALLS)
		bm[id / 64] |= 1ull << (id % 64);
}

static inline int syscall_set_has(const uint64_t *bm, unsigned id)
{
	return id < SK_NR_SYSCALLS && (bm[id / 64] >> (id % 64) & 1);
}

#endif /* SAKER_SYSCALL_SET_H */
