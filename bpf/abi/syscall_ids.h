/* SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause */
/*
 * x86-64 ids of the syscalls that the kernel side or the daemon names in code: the ones
 * with blobs (blobs.h) and the ones whose arguments the daemon decodes (src/evtargs.c).
 * The full id <-> name table lives in src/syscalls.def; tests/unit/test_syscalls.c checks
 * that every id here names the syscall it says.
 */
#ifndef SAKER_ABI_SYSCALL_IDS_H
#define SAKER_ABI_SYSCALL_IDS_H

#define SK_NR_open	   2
#define SK_NR_close	   3
#define SK_NR_pipe	   22
#define SK_NR_dup	   32
#define SK_NR_dup2	   33
#define SK_NR_socket	   41
#define SK_NR_connect	   42
#define SK_NR_accept	   43
#define SK_NR_sendto	   44
#define SK_NR_recvfrom	   45
#define SK_NR_sendmsg	   46
#define SK_NR_recvmsg	   47
#define SK_NR_bind	   49
#define SK_NR_listen	   50
#define SK_NR_socketpair   53
#define SK_NR_clone	   56
#define SK_NR_fork	   57
#define SK_NR_vfork	   58
#define SK_NR_execve	   59
#define SK_NR_kill	   62
#define SK_NR_fcntl	   72
#define SK_NR_truncate	   76
#define SK_NR_chdir	   80
#define SK_NR_fchdir	   81
#define SK_NR_rename	   82
#define SK_NR_mkdir	   83
#define SK_NR_rmdir	   84
#define SK_NR_creat	   85
#define SK_NR_link	   86
#define SK_NR_unlink	   87
#define SK_NR_symlink	   88
#define SK_NR_chmod	   90
#define SK_NR_fchmod	   91
#define SK_NR_chown	   92
#define SK_NR_fchown	   93
#define SK_NR_lchown	   94
#define SK_NR_ptrace	   101
#define SK_NR_setuid	   105
#define SK_NR_setgid	   106
#define SK_NR_setreuid	   113
#define SK_NR_setregid	   114
#define SK_NR_setresuid	   117
#define SK_NR_setresgid	   119
#define SK_NR_capset	   126
#define SK_NR_prctl	   157
#define SK_NR_chroot	   161
#define SK_NR_mount	   165
#define SK_NR_umount2	   166
#define SK_NR_init_module  175
#define SK_NR_tkill	   200
#define SK_NR_tgkill	   234
#define SK_NR_openat	   257
#define SK_NR_mkdirat	   258
#define SK_NR_fchownat	   260
#define SK_NR_unlinkat	   263
#define SK_NR_renameat	   264
#define SK_NR_linkat	   265
#define SK_NR_symlinkat	   266
#define SK_NR_fchmodat	   268
#define SK_NR_unshare	   272
#define SK_NR_eventfd	   284
#define SK_NR_accept4	   288
#define SK_NR_eventfd2	   290
#define SK_NR_dup3	   292
#define SK_NR_pipe2	   293
#define SK_NR_setns	   308
#define SK_NR_finit_module 313
#define SK_NR_renameat2	   316
#define SK_NR_memfd_create 319
#define SK_NR_bpf	   321
#define SK_NR_execveat	   322
#define SK_NR_userfaultfd  323
#define SK_NR_clone3	   435
#define SK_NR_openat2	   437

#endif /* SAKER_ABI_SYSCALL_IDS_H */
