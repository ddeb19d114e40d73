/* What the kernel and our privileges allow, checked before load so that a missing feature
 * is reported by name instead of as a verifier or permission error. */
#ifndef SAKER_PROBE_H
#define SAKER_PROBE_H

#include <stdbool.h>

/* 0 when the effective capabilities allow loading and attaching tracing programs
 * (CAP_SYS_ADMIN, or CAP_BPF with CAP_PERFMON); otherwise logs which capability is missing
 * and returns -1. */
int probe_privileges(void);

/* 0 when the kernel offers what the sensor cannot do without: BTF (for CO-RE) and the BPF
 * ring buffer. Otherwise logs what is missing and returns -1. */
int probe_kernel(void);

#endif /* SAKER_PROBE_H */
