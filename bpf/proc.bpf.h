/* SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause */
/*
 * Process lifecycle: the scheduler's fork, exec and exit tracepoints (they keep the
 * daemon's process table right whatever syscalls are filtered, and see execs that no
 * syscall returns from, such as the kernel's usermode helpers), and the exit of the exec
 * and clone families of syscalls.
 */
#ifndef SAKER_PROC_BPF_H
#define SAKER_PROC_BPF_H

#include "emit.bpf.h"
#include "syscall_ids.h"

#define SK_ARGV_SCAN 32 /* argv entries read for a failed exec */

/* id is bpf_get_current_pid_tgid(). */
static __always_inline bool is_self(u64 id)
{
	return (id >> 32) == self_tgid;
}

static __always_inline int do_sched_fork(struct task_struct *child)
{
	u64 id = bpf_get_current_pid_tgid();
	struct sk_counters *c = counters_get();
	struct sk_fork_ev *ev;
	u32 pid, tgid;

	if (is_self(id))
		return 0;
	COUNT_FAST(c, seen);
	ev = record_reserve(c, SK_EV_FORK, sizeof(*ev), id);
	if (!ev)
		return 0;
	pid = BPF_CORE_READ(child, pid);
	tgid = BPF_CORE_READ(child, tgid);
	ev->child_pid = tgid;
	ev->child_tid = pid;
	ev->child_ppid = BPF_CORE_READ(child, real_parent, tgid);
	ev->flags = pid != tgid ? SK_FORK_THREAD : 0;
	ev->child_start_ns = BPF_CORE_READ(child, start_boottime);
	BPF_CORE_READ_INTO(&ev->comm, child, comm);
	record_submit(c, ev);
	return 0;
}

static __always_inline int do_sched_exec(struct task_struct *p, pid_t old_pid,
					 struct linux_binprm *bprm)
{
	u64 id = bpf_get_current_pid_tgid();
	struct sk_counters *c = counters_get();
	struct sk_exec_ev *ev;
	const struct cred *cred;
	unsigned long arg_start, arg_end;
	u32 off, n;
	u8 *buf;

	if (is_self(id))
		return 0;
	COUNT_FAST(c, seen);
	buf = scratch_get();
	if (!buf) {
		COUNT(c, drop_read_fail);
		return 0;
	}
	ev = (struct sk_exec_ev *)buf;
	hdr_fill(&ev->hdr, SK_EV_EXEC, 0, id);
	ev->old_tid = old_pid;
	ev->ppid = BPF_CORE_READ(p, real_parent, tgid);
	cred = BPF_CORE_READ(p, cred);
	ev->uid = BPF_CORE_READ(cred, uid.val);
	ev->gid = BPF_CORE_READ(cred, gid.val);
	ev->euid = BPF_CORE_READ(cred, euid.val);
	ev->egid = BPF_CORE_READ(cred, egid.val);
	ev->loginuid = BPF_CORE_READ(p, loginuid.val);
	ev->cgroup_id = bpf_get_current_cgroup_id();
	ev->start_ns = BPF_CORE_READ(p, group_leader, start_boottime);
	BPF_CORE_READ_INTO(&ev->comm, p, comm);

	off = sizeof(*ev);
	n = copy_user_str(buf, off, SK_PATH_MAX, BPF_CORE_READ(bprm, filename), false);
	ev->filename_len = n;
	off += n;

	/* The new image's argument area: argv strings back to back, each NUL-terminated. */
	arg_start = BPF_CORE_READ(p, mm, arg_start);
	arg_end = BPF_CORE_READ(p, mm, arg_end);
	n = 0;
	if (arg_end > arg_start)
		n = copy_user_mem(buf, off, arg_end - arg_start, SK_ARGV_MAX, (void *)arg_start);
	ev->argv_len = n;
	off += n;
	return record_send(c, buf, off);
}

static __always_inline int do_sched_exit(struct task_struct *p)
{
	u64 id = bpf_get_current_pid_tgid();
	struct sk_counters *c = counters_get();
	struct sk_exit_ev *ev;

	if (is_self(id))
		return 0;
	COUNT_FAST(c, seen);
	ev = record_reserve(c, SK_EV_EXIT, sizeof(*ev), id);
	if (!ev)
		return 0;
	ev->exit_code = BPF_CORE_READ(p, exit_code);
	ev->flags = BPF_CORE_READ(p, signal, live.counter) == 0 ? SK_EXIT_GROUP_DEAD : 0;
	record_submit(c, ev);
	return 0;
}

/* Entry points: tp_btf where the kernel has it, raw_tp otherwise (the loader picks one). */
SEC("tp_btf/sched_process_fork")
int BPF_PROG(sched_fork, struct task_struct *parent, struct task_struct *child)
{
	return do_sched_fork(child);
}

SEC("raw_tp/sched_process_fork")
int BPF_PROG(raw_sched_fork, struct task_struct *parent, struct task_struct *child)
{
	return do_sched_fork(child);
}

SEC("tp_btf/sched_process_exec")
int BPF_PROG(sched_exec, struct task_struct *p, pid_t old_pid, struct linux_binprm *bprm)
{
	return do_sched_exec(p, old_pid, bprm);
}

SEC("raw_tp/sched_process_exec")
int BPF_PROG(raw_sched_exec, struct task_struct *p, pid_t old_pid, struct linux_binprm *bprm)
{
	return do_sched_exec(p, old_pid, bprm);
}

SEC("tp_btf/sched_process_exit")
int BPF_PROG(sched_exit, struct task_struct *p)
{
	return do_sched_exit(p);
}

SEC("raw_tp/sched_process_exit")
int BPF_PROG(raw_sched_exit, struct task_struct *p)
{
	return do_sched_exit(p);
}

/* Reads a user argv array into buf + off, strings back to back; returns the bytes used. */
static __always_inline u32 copy_user_argv(u8 *buf, u32 off, const char *const *argv)
{
	struct sk_hdr *h = (struct sk_hdr *)buf;
	u32 used = 0;

	if (!argv)
		return 0;
	for (int i = 0; i < SK_ARGV_SCAN; i++) {
		const char *arg = NULL;
		long n;

		if (bpf_probe_read_user(&arg, sizeof(arg), &argv[i])) {
			h->flags |= SK_F_READ_FAIL;
			break;
		}
		if (!arg)
			return used;
		if (used >= SK_ARGV_MAX) {
			h->flags |= SK_F_TRUNC;
			return used;
		}
		/* A constant bound keeps the verifier simple; the total is cut below. */
		n = bpf_probe_read_user_str(buf + ((off + used) & (SK_RECORD_MAX - 1)), SK_ARGV_MAX,
					    arg);
		if (n <= 0) {
			h->flags |= SK_F_READ_FAIL;
			break;
		}
		used += n;
	}
	if (used > SK_ARGV_MAX) {
		used = SK_ARGV_MAX;
		h->flags |= SK_F_TRUNC;
	}
	return used & (SK_RECORD_MAX - 1);
}

/* execve/execveat exit. On success the image is described by the SK_EV_EXEC record the
 * scheduler tracepoint sent just before, so only registers and result travel here. On
 * failure the old image is intact and the arguments are read from it. */
static __always_inline int on_exec_exit(struct sk_counters *c, struct sk_syscall_ev *ev, u8 *buf)
{
	const void *filename, *argv;
	u32 off = sizeof(*ev), n;
	bool at = ev->nr == SK_NR_execveat;

	if (ev->ret < 0) {
		filename = (const void *)(at ? ev->args[1] : ev->args[0]);
		argv = (const void *)(at ? ev->args[2] : ev->args[1]);
		n = copy_user_str(buf, off, SK_PATH_MAX, filename, true);
		ev->blob_len[0] = n;
		off += n;
		n = copy_user_argv(buf, off, argv);
		ev->blob_len[1] = n;
		off += n;
	}
	return record_send(c, buf, off);
}

#endif /* SAKER_PROC_BPF_H */
