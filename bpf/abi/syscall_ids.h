/* SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause */
/*
 * x86-64 ids of the syscalls that the kernel side treats specially (reads blobs for).
 * Every other id is handled generically: registers and return value only. The full
 * id <-> name table lives in src/syscalls.def.
 */
#ifndef SAKER_ABI_SYSCALL_IDS_H
#define SAKER_ABI_SYSCALL_IDS_H

#define SK_NR_open     2
#define SK_NR_close    3
#define SK_NR_connect  42
#define SK_NR_accept   43
#define SK_NR_clone    56
#define SK_NR_fork     57
#define SK_NR_vfork    58
#define SK_NR_execve   59
#define SK_NR_creat    85
#define SK_NR_openat   257
#define SK_NR_accept4  288
#define SK_NR_execveat 322
#define SK_NR_clone3   435
#define SK_NR_openat2  437

#endif /* SAKER_ABI_SYSCALL_IDS_H */
