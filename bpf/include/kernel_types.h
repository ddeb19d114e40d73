/* SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause */
/*
 * The kernel types the BPF programs read, written by hand and trimmed to the fields we use.
 *
 * Every struct carries preserve_access_index, so each field access is a CO-RE relocation
 * that libbpf resolves by name against the running kernel's BTF: offsets here are never
 * used, only names and types. Fields the kernel nests in anonymous structs or unions may be
 * declared flat: libbpf looks through anonymous members when it matches a name. Why a
 * trimmed header rather than a full vmlinux.h is in docs/bpf.md.
 */
#ifndef SAKER_KERNEL_TYPES_H
#define SAKER_KERNEL_TYPES_H

#include <linux/types.h>
#include <linux/bpf.h>

/* Tells bpf_tracing.h to use the kernel's pt_regs field names (di, si, ...). */
#define __VMLINUX_H__ 1

typedef __u8 u8;
typedef __u16 u16;
typedef __u32 u32;
typedef __u64 u64;
typedef __s32 s32;
typedef __s64 s64;
typedef int pid_t;
typedef _Bool bool;
#define true 1
#define false 0

#pragma clang attribute push(__attribute__((preserve_access_index)), apply_to = record)

struct pt_regs {
	unsigned long r15, r14, r13, r12, bp, bx, r11, r10, r9, r8;
	unsigned long ax, cx, dx, si, di, orig_ax, ip;
	unsigned long flags, sp;
};

typedef struct {
	int counter;
} atomic_t;

typedef struct {
	u32 val;
} kuid_t;

typedef struct {
	u32 val;
} kgid_t;

/* u32 cap[2] before 6.3, u64 val since: 8 bytes either way, read as one u64 (x86-64 is
 * little-endian, so cap[0] is the low half). */
typedef struct {
	u64 val;
} kernel_cap_t;

struct cred {
	kuid_t uid;
	kgid_t gid;
	kuid_t euid;
	kgid_t egid;
	kernel_cap_t cap_inheritable;
	kernel_cap_t cap_permitted;
	kernel_cap_t cap_effective;
};

struct thread_info {
	u32 status;
};

struct mm_struct {
	unsigned long arg_start;
	unsigned long arg_end;
	unsigned long env_start;
	unsigned long env_end;
};

struct ns_common {
	unsigned int inum;
};

struct pid_namespace {
	struct ns_common ns;
};

struct upid {
	int nr;
	struct pid_namespace *ns;
};

/* numbers[] has level + 1 entries: the id in each pid namespace from the initial one down
 * to the task's own. */
struct pid {
	unsigned int level;
	struct upid numbers[1];
};

enum pid_type {
	PIDTYPE_PID,
	PIDTYPE_TGID,
	PIDTYPE_PGID,
	PIDTYPE_SID,
	PIDTYPE_MAX,
};

struct tty_driver {
	int major;
	int minor_start;
};

struct tty_struct {
	struct tty_driver *driver;
	int index;
};

struct signal_struct {
	atomic_t live;
	struct pid *pids[PIDTYPE_MAX];
	struct tty_struct *tty;
};

struct super_block {
	unsigned long s_magic;
};

struct timespec64 {
	s64 tv_sec;
	long tv_nsec;
};

struct inode {
	unsigned short i_mode;
	kuid_t i_uid;
	kgid_t i_gid;
	struct super_block *i_sb;
	unsigned long i_ino;
};

/* The inode's times moved three times; the programs test which layout the kernel has
 * (bpf_core_field_exists) and read that one. */
struct inode___v611 { /* 6.11 on: seconds and nanoseconds apart */
	s64 i_ctime_sec;
	u32 i_ctime_nsec;
	s64 i_mtime_sec;
	u32 i_mtime_nsec;
};

struct inode___v67 { /* 6.7 - 6.10 */
	struct timespec64 __i_ctime;
	struct timespec64 __i_mtime;
};

struct inode___v66 { /* 6.6 */
	struct timespec64 __i_ctime;
	struct timespec64 i_mtime;
};

struct inode___v65 { /* up to 6.5 */
	struct timespec64 i_ctime;
	struct timespec64 i_mtime;
};

/* overlayfs's inode wraps the VFS one. The type exists only where overlayfs is built in or
 * its module is loaded: every use is guarded by bpf_core_field_exists. */
struct ovl_inode {
	struct inode vfs_inode;
	struct dentry *__upperdentry;
};

struct qstr {
	const unsigned char *name;
};

struct dentry {
	struct dentry *d_parent;
	struct qstr d_name;
};

struct path {
	struct dentry *dentry;
};

struct file {
	struct path f_path;
	struct inode *f_inode;
	void *private_data;
};

struct fdtable {
	unsigned int max_fds;
	struct file **fd;
};

struct files_struct {
	struct fdtable *fdt;
};

struct in6_addr {
	union {
		u8 u6_addr8[16];
	} in6_u;
};

struct sock_common {
	__be32 skc_daddr;
	__be32 skc_rcv_saddr;
	__be16 skc_dport;
	u16 skc_num;
	unsigned short skc_family;
	struct in6_addr skc_v6_daddr;
	struct in6_addr skc_v6_rcv_saddr;
};

struct sock {
	struct sock_common __sk_common;
};

struct socket {
	short type;
	struct sock *sk;
};

struct task_struct {
	struct thread_info thread_info;
	unsigned int flags;
	struct mm_struct *mm;
	int exit_code;
	pid_t pid;
	pid_t tgid;
	struct task_struct *real_parent;
	struct task_struct *group_leader;
	u64 start_boottime;
	const struct cred *real_cred;
	const struct cred *cred;
	char comm[16];
	struct files_struct *files;
	struct signal_struct *signal;
	kuid_t loginuid;
	struct pid *thread_pid;
};

struct linux_binprm {
	struct file *file;
	const char *filename;
};

#pragma clang attribute pop

#endif /* SAKER_KERNEL_TYPES_H */
