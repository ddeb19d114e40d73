/* The x86-64 syscall table: id <-> name. */
#ifndef SAKER_SYSCALLS_H
#define SAKER_SYSCALLS_H

#include <stdbool.h>

#include "blobs.h"

/* The name of syscall id, or NULL when the id is unknown. */
const char *syscall_name(unsigned id);
/* The id of a syscall by name, or -1. */
int syscall_id(const char *name);
/* One past the largest known id. */
unsigned syscall_max(void);

/* The syscalls whose arguments the daemon knows by name (src/evtargs.c); the others travel
 * as registers and return value. The default capture set. */
bool syscall_is_decoded(unsigned id);

/* The blob rules of syscall id (abi/blobs.h); an all-SK_BK_NONE spec for a syscall without
 * blobs or an unknown id. Never NULL. */
const struct sk_blob_spec *syscall_blob_spec(unsigned id);

#endif /* SAKER_SYSCALLS_H */
