/* SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause */
/*
 * What the blobs of each syscall record hold: one table, read by both sides.
 *
 * The kernel side compiles it into a constant array indexed by syscall id (.rodata of the
 * BPF object) and fills blob 0 and blob 1 of every SK_EV_SYSCALL record by its rules, with
 * one generic filler instead of a handler per syscall. The decoder checks every record's
 * blob lengths against the same rules, and the argument schema (src/evtargs.c) reads the
 * blobs by them. A syscall not in the table has no blobs.
 *
 * A rule is {kind, arg, when, size}: what to read, from which argument register
 * (args[arg]), on which outcome, and for SK_BK_MEM how many bytes.
 */
#ifndef SAKER_ABI_BLOBS_H
#define SAKER_ABI_BLOBS_H

#ifndef __bpf__
#include <linux/types.h>
#endif

#include "syscall_ids.h"

enum sk_blob_kind {
	SK_BK_NONE = 0,
	SK_BK_STR,	    /* NUL-terminated user string at args[arg], NUL included, cut at
			       SK_PATH_MAX (SK_F_TRUNC) */
	SK_BK_MEM,	    /* exactly size bytes of user memory at args[arg] */
	SK_BK_SOCKADDR,	    /* a sockaddr the caller passed at args[arg], of the length in
			       args[arg + 1], cut at SK_SOCKADDR_MAX */
	SK_BK_SOCKADDR_OUT, /* a sockaddr the kernel wrote at args[arg], of the length it
			       stored at the user pointer args[arg + 1], cut at SK_SOCKADDR_MAX */
	SK_BK_MSG_NAME,	    /* msg_name of the struct msghdr at args[arg], msg_namelen bytes
			       (for recvmsg, as the kernel wrote them back) */
	SK_BK_TUPLE,	    /* struct sk_sock_tuple of the socket whose fd is args[arg] */
	SK_BK_TUPLE_RET,    /* struct sk_sock_tuple of the socket whose fd is the result */
	SK_BK_ARGV,	    /* the user argv array at args[arg]: its strings back to back, each
			       with its NUL, cut at SK_ARGV_MAX */
	SK_BK_MAX
};

enum sk_blob_when {
	SK_BW_ALWAYS = 0,
	SK_BW_OK = 1,	/* only when the syscall succeeded (ret >= 0) */
	SK_BW_FAIL = 2, /* only when it failed (ret < 0) */
};

struct sk_blob_rule {
	__u8 kind; /* enum sk_blob_kind */
	__u8 arg;  /* argument register, 0-5 */
	__u8 when; /* enum sk_blob_when */
	__u8 size; /* SK_BK_MEM: the byte count */
};

struct sk_blob_spec {
	struct sk_blob_rule b[2];
};

#define SK_B(kind, arg, when, size) {SK_BK_##kind, arg, SK_BW_##when, size}
#define SK_B_NONE		    {SK_BK_NONE, 0, SK_BW_ALWAYS, 0}

/* Byte counts of the fixed-size blobs. */
#define SK_OPEN_HOW_SIZE 24 /* struct open_how: flags, mode, resolve (u64 each) */
#define SK_FDPAIR_SIZE	 8  /* int[2] of pipe, pipe2, socketpair */
#define SK_CLONE3_SIZE	 8  /* the u64 flags that start struct clone_args */

/*
 * X(syscall, blob 0, blob 1) for every syscall with blobs. Argument registers are the
 * syscall's own (openat(dirfd, path, flags, mode): the path is args[1]).
 */
#define SK_BLOB_SPECS(X)                                                                           \
	/* the open family */                                                                      \
	X(open, SK_B(STR, 0, ALWAYS, 0), SK_B_NONE)                                                \
	X(creat, SK_B(STR, 0, ALWAYS, 0), SK_B_NONE)                                               \
	X(openat, SK_B(STR, 1, ALWAYS, 0), SK_B_NONE)                                              \
	X(openat2, SK_B(STR, 1, ALWAYS, 0), SK_B(MEM, 2, ALWAYS, SK_OPEN_HOW_SIZE))                \
	/* paths */                                                                                \
	X(chdir, SK_B(STR, 0, ALWAYS, 0), SK_B_NONE)                                               \
	X(chroot, SK_B(STR, 0, ALWAYS, 0), SK_B_NONE)                                              \
	X(mkdir, SK_B(STR, 0, ALWAYS, 0), SK_B_NONE)                                               \
	X(mkdirat, SK_B(STR, 1, ALWAYS, 0), SK_B_NONE)                                             \
	X(rmdir, SK_B(STR, 0, ALWAYS, 0), SK_B_NONE)                                               \
	X(unlink, SK_B(STR, 0, ALWAYS, 0), SK_B_NONE)                                              \
	X(unlinkat, SK_B(STR, 1, ALWAYS, 0), SK_B_NONE)                                            \
	X(rename, SK_B(STR, 0, ALWAYS, 0), SK_B(STR, 1, ALWAYS, 0))                                \
	X(link, SK_B(STR, 0, ALWAYS, 0), SK_B(STR, 1, ALWAYS, 0))                                  \
	X(renameat, SK_B(STR, 1, ALWAYS, 0), SK_B(STR, 3, ALWAYS, 0))                              \
	X(renameat2, SK_B(STR, 1, ALWAYS, 0), SK_B(STR, 3, ALWAYS, 0))                             \
	X(linkat, SK_B(STR, 1, ALWAYS, 0), SK_B(STR, 3, ALWAYS, 0))                                \
	X(symlink, SK_B(STR, 0, ALWAYS, 0), SK_B(STR, 1, ALWAYS, 0))                               \
	X(symlinkat, SK_B(STR, 0, ALWAYS, 0), SK_B(STR, 2, ALWAYS, 0))                             \
	X(chmod, SK_B(STR, 0, ALWAYS, 0), SK_B_NONE)                                               \
	X(chown, SK_B(STR, 0, ALWAYS, 0), SK_B_NONE)                                               \
	X(lchown, SK_B(STR, 0, ALWAYS, 0), SK_B_NONE)                                              \
	X(truncate, SK_B(STR, 0, ALWAYS, 0), SK_B_NONE)                                            \
	X(fchmodat, SK_B(STR, 1, ALWAYS, 0), SK_B_NONE)                                            \
	X(fchownat, SK_B(STR, 1, ALWAYS, 0), SK_B_NONE)                                            \
	X(mount, SK_B(STR, 0, ALWAYS, 0), SK_B(STR, 1, ALWAYS, 0))                                 \
	X(umount2, SK_B(STR, 0, ALWAYS, 0), SK_B_NONE)                                             \
	X(memfd_create, SK_B(STR, 0, ALWAYS, 0), SK_B_NONE)                                        \
	/* processes: a failed exec still has the caller's memory; a successful one is         \
	 * described by the SK_EV_EXEC record sent just before */                                  \
	X(execve, SK_B(STR, 0, FAIL, 0), SK_B(ARGV, 1, FAIL, 0))                                   \
	X(execveat, SK_B(STR, 1, FAIL, 0), SK_B(ARGV, 2, FAIL, 0))                                 \
	X(clone3, SK_B(MEM, 0, ALWAYS, SK_CLONE3_SIZE), SK_B_NONE)                                 \
	/* sockets and pipes */                                                                    \
	X(connect, SK_B(SOCKADDR, 1, ALWAYS, 0), SK_B(TUPLE, 0, ALWAYS, 0))                        \
	X(accept, SK_B(SOCKADDR_OUT, 1, OK, 0), SK_B(TUPLE_RET, 0, OK, 0))                         \
	X(accept4, SK_B(SOCKADDR_OUT, 1, OK, 0), SK_B(TUPLE_RET, 0, OK, 0))                        \
	X(bind, SK_B(SOCKADDR, 1, ALWAYS, 0), SK_B(TUPLE, 0, ALWAYS, 0))                           \
	X(listen, SK_B_NONE, SK_B(TUPLE, 0, ALWAYS, 0))                                            \
	X(sendto, SK_B(SOCKADDR, 4, ALWAYS, 0), SK_B(TUPLE, 0, ALWAYS, 0))                         \
	X(recvfrom, SK_B(SOCKADDR_OUT, 4, OK, 0), SK_B(TUPLE, 0, ALWAYS, 0))                       \
	X(sendmsg, SK_B(MSG_NAME, 1, ALWAYS, 0), SK_B(TUPLE, 0, ALWAYS, 0))                        \
	X(recvmsg, SK_B(MSG_NAME, 1, OK, 0), SK_B(TUPLE, 0, ALWAYS, 0))                            \
	X(socketpair, SK_B(MEM, 3, OK, SK_FDPAIR_SIZE), SK_B_NONE)                                 \
	X(pipe, SK_B(MEM, 0, OK, SK_FDPAIR_SIZE), SK_B_NONE)                                       \
	X(pipe2, SK_B(MEM, 0, OK, SK_FDPAIR_SIZE), SK_B_NONE)

#endif /* SAKER_ABI_BLOBS_H */
