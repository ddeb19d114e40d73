/* The set of syscalls the kernel lets through: the base set that keeps state right (and,
 * in this version, every syscall the decoder understands), plus base_syscalls.custom_set,
 * or everything with base_syscalls.all. */
#ifndef SAKER_SYSCALL_SET_H
#define SAKER_SYSCALL_SET_H

#include <stdint.h>

#include "config.h"
#include "events.h"

/* Fills bm (SK_BITMAP_WORDS words). Unknown names in the custom set are warned about and
 * skipped. Returns the number of syscalls in the set. */
unsigned syscall_set_build(uint64_t *bm, const struct config *c);

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
