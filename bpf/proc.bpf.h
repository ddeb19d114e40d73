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

#define SK_TMPFS_MAGIC	   0x01021994
#define SK_HUGETLBFS_MAGIC 0x958458f6
#define SK_OVERLAYFS_MAGIC 0x794c7630
#define SK_PIDNS_LEVELS	   32 /* MAX_PID_NS_LEVEL */

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

/* The id of pid in the pid namespace at level, or 0 when pid is not visible there (NULL,
 * or in another namespace than ns). */
static __always_inline u32 pid_nr_at(struct pid *pid, u32 level, struct pid_namespace *ns)
{
	struct upid *u;

	if (!pid || BPF_CORE_READ(pid, level) < level)
		return 0;
	level &= SK_PIDNS_LEVELS - 1;
	u = (struct upid *)((u8 *)pid + bpf_core_field_offset(struct pid, numbers) +
			    level * bpf_core_type_size(struct upid));
	if (ns && BPF_CORE_READ(u, ns) != ns)
		return 0;
	return BPF_CORE_READ(u, nr);
}

/* The controlling tty's device number, encoded as /proc/PID/stat shows it. */
static __always_inline u32 tty_nr(struct signal_struct *sig)
{
	struct tty_struct *tty = BPF_CORE_READ(sig, tty);
	struct tty_driver *drv;
	u32 major, minor;

	if (!tty)
		return 0;
	drv = BPF_CORE_READ(tty, driver);
	if (!drv)
		return 0;
	major = BPF_CORE_READ(drv, major);
	minor = BPF_CORE_READ(drv, minor_start) + BPF_CORE_READ(tty, index);
	return (minor & 0xff) | ((major & 0xfff) << 8) | ((minor & ~0xffu) << 12);
}

/* Session, process group, and the ids as the task's own pid namespace sees them. */
static __always_inline void exec_ids(struct sk_exec_ev *ev, struct task_struct *p)
{
	struct signal_struct *sig = BPF_CORE_READ(p, signal);
	struct pid *tp = BPF_CORE_READ(p, thread_pid), *pg;
	struct pid_namespace *ns = NULL;
	u32 level = 0;

	ev->tty = tty_nr(sig);
	ev->sid = pid_nr_at(BPF_CORE_READ(sig, pids[PIDTYPE_SID]), 0, NULL);
	pg = BPF_CORE_READ(sig, pids[PIDTYPE_PGID]);
	ev->pgid = pid_nr_at(pg, 0, NULL);
	ev->vpid = 0;
	ev->vpgid = 0;
	ev->pidns_ino = 0;
	if (tp) {
		struct upid *u;

		level = BPF_CORE_READ(tp, level) & (SK_PIDNS_LEVELS - 1);
		u = (struct upid *)((u8 *)tp + bpf_core_field_offset(struct pid, numbers) +
				    level * bpf_core_type_size(struct upid));
		ns = BPF_CORE_READ(u, ns);
		ev->vpid = BPF_CORE_READ(u, nr);
		ev->pidns_ino = BPF_CORE_READ(ns, ns.inum);
		ev->vpgid = pid_nr_at(pg, level, ns);
	}
}

/* Nanoseconds since the epoch of the executable's ctime and mtime, whatever the kernel's
 * inode layout. */
static __always_inline void exe_times(struct sk_exec_ev *ev, struct inode *ino)
{
	s64 cs = 0, ms = 0;
	long cn = 0, mn = 0;

	if (bpf_core_field_exists(struct inode___v611, i_ctime_sec)) {
		struct inode___v611 *i = (void *)ino;

		cs = BPF_CORE_READ(i, i_ctime_sec);
		cn = BPF_CORE_READ(i, i_ctime_nsec);
		ms = BPF_CORE_READ(i, i_mtime_sec);
		mn = BPF_CORE_READ(i, i_mtime_nsec);
	} else if (bpf_core_field_exists(struct inode___v67, __i_mtime)) {
		struct inode___v67 *i = (void *)ino;

		cs = BPF_CORE_READ(i, __i_ctime.tv_sec);
		cn = BPF_CORE_READ(i, __i_ctime.tv_nsec);
		ms = BPF_CORE_READ(i, __i_mtime.tv_sec);
		mn = BPF_CORE_READ(i, __i_mtime.tv_nsec);
	} else if (bpf_core_field_exists(struct inode___v66, __i_ctime)) {
		struct inode___v66 *i = (void *)ino;

		cs = BPF_CORE_READ(i, __i_ctime.tv_sec);
		cn = BPF_CORE_READ(i, __i_ctime.tv_nsec);
		ms = BPF_CORE_READ(i, i_mtime.tv_sec);
		mn = BPF_CORE_READ(i, i_mtime.tv_nsec);
	} else if (bpf_core_field_exists(struct inode___v65, i_ctime)) {
		struct inode___v65 *i = (void *)ino;

		cs = BPF_CORE_READ(i, i_ctime.tv_sec);
		cn = BPF_CORE_READ(i, i_ctime.tv_nsec);
		ms = BPF_CORE_READ(i, i_mtime.tv_sec);
		mn = BPF_CORE_READ(i, i_mtime.tv_nsec);
	}
	/* Since 6.13 the top bit of the ctime's nanoseconds says whether anyone has read it
	 * (multigrain timestamps): not part of the time. */
	cn &= 0x3fffffff;
	ev->exe_ctime_ns = (u64)cs * 1000000000ULL + (u64)cn;
	ev->exe_mtime_ns = (u64)ms * 1000000000ULL + (u64)mn;
}

/*
 * Where the executable lives. A memfd is a shmem (or hugetlbfs) file whose dentry is its
 * own parent (a pseudo file, never in a directory) and is named "memfd:<name>": a file
 * merely named so on a tmpfs has a real parent directory. Upper layer: the inode belongs to
 * an overlayfs and that overlay inode has an upper dentry, i.e. the file was created or
 * copied up in the writable layer rather than coming from the image's lower layers.
 */
static __always_inline u32 exe_where(struct file *f, struct inode *ino)
{
	unsigned long magic = BPF_CORE_READ(ino, i_sb, s_magic);
	u32 flags = 0;

	if (magic == SK_TMPFS_MAGIC || magic == SK_HUGETLBFS_MAGIC) {
		struct dentry *d = BPF_CORE_READ(f, f_path.dentry);
		char name[8] = {};

		if (d && BPF_CORE_READ(d, d_parent) == d &&
		    bpf_probe_read_kernel_str(name, sizeof(name), BPF_CORE_READ(d, d_name.name)) >
			6 &&
		    name[0] == 'm' && name[1] == 'e' && name[2] == 'm' && name[3] == 'f' &&
		    name[4] == 'd' && name[5] == ':')
			flags |= SK_EXE_MEMFD;
	} else if (magic == SK_OVERLAYFS_MAGIC) {
		if (bpf_core_field_exists(struct ovl_inode, __upperdentry)) {
			struct ovl_inode *oi =
			    (void *)((u8 *)ino - bpf_core_field_offset(struct ovl_inode, vfs_inode));

			if (BPF_CORE_READ(oi, __upperdentry))
				flags |= SK_EXE_UPPER;
		}
	}
	return flags;
}

static __always_inline void exec_exe(struct sk_exec_ev *ev, struct linux_binprm *bprm)
{
	struct file *f = BPF_CORE_READ(bprm, file);
	struct inode *ino = f ? BPF_CORE_READ(f, f_inode) : NULL;

	ev->exe_ino = 0;
	ev->exe_mode = 0;
	ev->exe_uid = 0;
	ev->exe_gid = 0;
	ev->exe_flags = 0;
	ev->exe_ctime_ns = 0;
	ev->exe_mtime_ns = 0;
	if (!ino)
		return;
	ev->exe_ino = BPF_CORE_READ(ino, i_ino);
	ev->exe_mode = BPF_CORE_READ(ino, i_mode);
	ev->exe_uid = BPF_CORE_READ(ino, i_uid.val);
	ev->exe_gid = BPF_CORE_READ(ino, i_gid.val);
	exe_times(ev, ino);
	ev->exe_flags = exe_where(f, ino);
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
	bpf_core_read(&ev->cap_effective, sizeof(ev->cap_effective), &cred->cap_effective);
	bpf_core_read(&ev->cap_permitted, sizeof(ev->cap_permitted), &cred->cap_permitted);
	bpf_core_read(&ev->cap_inheritable, sizeof(ev->cap_inheritable), &cred->cap_inheritable);
	ev->loginuid = BPF_CORE_READ(p, loginuid.val);
	ev->cgroup_id = bpf_get_current_cgroup_id();
	ev->start_ns = BPF_CORE_READ(p, group_leader, start_boottime);
	BPF_CORE_READ_INTO(&ev->comm, p, comm);
	exec_ids(ev, p);
	exec_exe(ev, bprm);

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

	/* The environment area, when asked for, in what room the record has left (at least
	 * 7.5 KiB: filename and argv take 4 KiB each at most); its length is what remains of
	 * the record after argv. */
	if (want_env) {
		unsigned long env_start = BPF_CORE_READ(p, mm, env_start);
		unsigned long env_end = BPF_CORE_READ(p, mm, env_end);

		if (env_end > env_start && off < SK_RECORD_MAX)
			off += copy_user_mem(buf, off, env_end - env_start, SK_RECORD_MAX - off,
					     (void *)env_start);
	}
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

#endif /* SAKER_PROC_BPF_H */
