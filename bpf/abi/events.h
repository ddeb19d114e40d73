/* SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause */
/*
 * The wire contract between the kernel side (bpf/) and the daemon (src/).
 *
 * This header, with counters.h, is the only thing src/ includes from bpf/. It compiles
 * both as BPF C (types from bpf/include/kernel_types.h) and as userspace C (linux/types.h).
 * tests/unit/test_abi.c pins every size and offset below; docs/event-abi.md explains the
 * rules for changing them. Bump SK_ABI_VERSION on any layout change.
 *
 * Every record in the ring buffer starts with struct sk_hdr. hdr.size is the whole record,
 * header and trailing variable data included. Variable data (paths, argv, socket
 * addresses) follows the fixed part, blob after blob, each length given in the fixed part.
 * Strings in blobs carry their terminating NUL inside the length; argv is the NUL-separated
 * argument area exactly as the kernel keeps it.
 *
 *   0        8        12     14   15   16       20       24
 *   +--------+--------+------+----+----+--------+--------+---------- ... ----+--- ... ---+
 *   | ts_ns  | size   | type |abi |flg | pid    | tid    | fixed part        | blobs     |
 *   +--------+--------+------+----+----+--------+--------+---------- ... ----+--- ... ---+
 */
#ifndef SAKER_ABI_EVENTS_H
#define SAKER_ABI_EVENTS_H

#ifndef __bpf__
#include <linux/types.h>
#endif

#define SK_ABI_VERSION 2

/* Syscall ids the in-kernel bitmap can hold. x86-64 ids are below 512 (x32 ids have bit 30
 * set and are never in the map). */
#define SK_NR_SYSCALLS	512
#define SK_BITMAP_WORDS (SK_NR_SYSCALLS / 64)

/* Limits of variable data. A path is cut at PATH_MAX like the kernel cuts it. argv is cut at
 * 4 KiB: enough for any shell command line worth reading in an alert, and it keeps an exec
 * record within one page of the ring. Anything cut sets SK_F_TRUNC in hdr.flags. */
#define SK_PATH_MAX	4096
#define SK_ARGV_MAX	4096
#define SK_SOCKADDR_MAX 128
/* No record is larger than this; the per-CPU scratch buffer is twice this so the verifier
 * can prove every bounded copy stays inside it. */
#define SK_RECORD_MAX	16384
#define SK_SCRATCH_SIZE (2 * SK_RECORD_MAX)

/* hdr.type */
enum sk_event_type {
	SK_EV_SYSCALL = 1, /* a syscall's exit: struct sk_syscall_ev */
	SK_EV_FORK = 2,	   /* sched_process_fork: struct sk_fork_ev */
	SK_EV_EXEC = 3,	   /* sched_process_exec: struct sk_exec_ev */
	SK_EV_EXIT = 4,	   /* sched_process_exit: struct sk_exit_ev */
	SK_EV_MAX
};

/* hdr.flags */
enum sk_record_flags {
	SK_F_TRUNC = 1 << 0,	 /* some variable data was cut at its limit */
	SK_F_READ_FAIL = 1 << 1, /* some user or kernel memory could not be read */
};

struct sk_hdr {
	__u64 ts_ns; /* CLOCK_BOOTTIME nanoseconds */
	__u32 size;  /* whole record, header and blobs included */
	__u16 type;  /* enum sk_event_type */
	__u8 abi;    /* SK_ABI_VERSION */
	__u8 flags;  /* enum sk_record_flags */
	__u32 pid;   /* thread group id of the task the event is about (the caller) */
	__u32 tid;   /* thread id */
};

/*
 * SK_EV_SYSCALL: one record at a syscall's exit, arguments and return value together.
 * args[] are the six argument registers as the caller passed them (x86-64: di, si, dx,
 * r10, r8, r9), read at exit from the saved registers. Every syscall in the interesting
 * bitmap is sent; what its two blobs hold is given by one table, SK_BLOB_SPECS in blobs.h
 * (paths, sockaddrs, socket tuples, fd pairs, ...). A syscall not in that table has no
 * blobs. A blob the rule says nothing about, or could not read, has length 0.
 */
struct sk_syscall_ev {
	struct sk_hdr hdr;
	__s64 ret;
	__u64 args[6];
	__u16 nr; /* syscall id (x86-64 numbering) */
	__u16 blob_len[2];
	__u16 _pad;
};

/* The kernel's view of a socket, read from the fd table at exit. Ports are in host byte
 * order, addresses in network byte order (IPv4 in the first 4 bytes). For AF_UNIX only
 * family and type are set. */
struct sk_sock_tuple {
	__u16 family;
	__u16 type;  /* SOCK_STREAM, SOCK_DGRAM, ... */
	__u16 sport; /* local */
	__u16 dport; /* remote */
	__u8 saddr[16];
	__u8 daddr[16];
};

/* SK_EV_FORK: a new task (process or thread). hdr.pid/tid are the parent (the caller). */
struct sk_fork_ev {
	struct sk_hdr hdr;
	__u32 child_pid;
	__u32 child_tid;
	__u32 child_ppid;     /* the child's real parent tgid (differs with CLONE_PARENT) */
	__u32 flags;	      /* SK_FORK_THREAD when the child shares the parent's thread group */
	__u64 child_start_ns; /* the child's start time, CLOCK_BOOTTIME */
	char comm[16];
};

#define SK_FORK_THREAD 1u

/* SK_EV_EXEC: a task has a new image. hdr.pid/tid are the task after exec (a non-leader
 * thread that execs takes over the leader's id: old_tid is the id it had). Followed by
 * blob filename (as passed to exec, or /dev/fd/N for fd-based execs), then blob argv
 * (read from the new image's argument area), then, when userspace set want_env, the new
 * image's environment area (NUL-separated strings) in the rest of the record: its length is
 * hdr.size minus everything before it, and it is cut where the record reaches
 * SK_RECORD_MAX (hdr.flags SK_F_TRUNC). Everything else is read from the kernel as
 * the new image starts: ids in the initial pid namespace unless named v*, the credentials,
 * and the executable's inode. */
struct sk_exec_ev {
	struct sk_hdr hdr;
	__u32 old_tid;
	__u32 ppid;
	__u32 uid;
	__u32 gid;
	__u32 euid;
	__u32 egid;
	__u32 loginuid;
	__u16 filename_len;
	__u16 argv_len;
	__u64 cgroup_id;
	__u64 start_ns; /* process start time, CLOCK_BOOTTIME */
	char comm[16];
	/* since ABI 2 */
	__u32 tty;	 /* controlling tty as /proc/PID/stat shows it (the kernel's
			    new_encode_dev of the tty's device number), 0 = none */
	__u32 sid;	 /* session id */
	__u32 pgid;	 /* process group id */
	__u32 vpid;	 /* the pid as seen in the task's own pid namespace */
	__u32 vpgid;	 /* the pgid as seen there, 0 if the group leader is outside it */
	__u32 exe_mode;	 /* i_mode of the executable */
	__u32 exe_uid;	 /* its owner */
	__u32 exe_gid;
	__u32 exe_flags; /* SK_EXE_* */
	__u32 pidns_ino; /* inode number of the task's pid namespace (/proc/PID/ns/pid) */
	__u64 cap_effective;
	__u64 cap_permitted;
	__u64 cap_inheritable;
	__u64 exe_ino;	    /* inode number of the executable */
	__u64 exe_ctime_ns; /* its ctime, ns since the epoch */
	__u64 exe_mtime_ns; /* its mtime */
};

/* sk_exec_ev.exe_flags */
#define SK_EXE_MEMFD 1u /* the executable is a memfd (memfd_create): fileless execution */
#define SK_EXE_UPPER 2u /* the executable is in the upper (writable) layer of an overlayfs:
			   created or modified after the container started, not from its image */

/* SK_EV_EXIT: a task ended. */
struct sk_exit_ev {
	struct sk_hdr hdr;
	__s32 exit_code; /* as wait(2) reports it: status << 8 | signal */
	__u32 flags;	 /* SK_EXIT_GROUP_DEAD when the whole process is gone */
};

#define SK_EXIT_GROUP_DEAD 1u

#endif /* SAKER_ABI_EVENTS_H */
