/* The x86-64 syscall table: id <-> name. */
#ifndef SAKER_SYSCALLS_H
#define SAKER_SYSCALLS_H

#include <stdbool.h>

/* The name of syscall id, or NULL when the id is unknown. */
const char *syscall_name(unsigned id);
/* The id of a syscall by name, or -1. */
int syscall_id(const char *name);
/* One past the largest known id. */
unsigned syscall_max(void);

/* The syscalls whose arguments the kernel side and the decoder understand in depth (the
 * others travel as registers and return value). */
bool syscall_is_decoded(unsigned id);

#endif /* SAKER_SYSCALLS_H */
