/* SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause */
/*
 * The sensor's kernel side: one program on the raw sys_exit tracepoint that checks the
 * interesting-syscall bitmap and sends one record per syscall, its blobs filled by the
 * rules of abi/blobs.h (blobs.bpf.h), plus the scheduler's process tracepoints
 * (proc.bpf.h). Only sys_exit is attached: every attached hook taxes every syscall on the
 * host, and the arguments are still in the saved registers at exit.
 *
 * One compilation unit; the pieces are in *.bpf.h.
 */
#include "kernel_types.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>
#include <bpf/bpf_core_read.h>

#include "maps.bpf.h"
#include "emit.bpf.h"
#include "proc.bpf.h"
#include "net.bpf.h"
#include "blobs.bpf.h"

char LICENSE[] SEC("license") = "Dual BSD/GPL";

#define SK_TS_COMPAT 0x0002 /* x86 thread_info.status: the task is in a 32-bit syscall */

/* What the dispatcher read from the registers, handed to the handlers. */
struct sys_ctx {
	u64 args[6];
	long ret;
	u16 nr;
};

/* The fixed part after the header. */
static __always_inline void syscall_fill(struct sk_syscall_ev *ev, const struct sys_ctx *sc)
{
	ev->ret = sc->ret;
	ev->nr = sc->nr;
	__builtin_memcpy(ev->args, sc->args, sizeof(ev->args));
	ev->blob_len[0] = 0;
	ev->blob_len[1] = 0;
	ev->_pad = 0;
}

/* After the bitmap check: drop our own events, count, and send the record. */
static __always_inline int sys_exit_common(const struct sys_ctx *sc, bool compat)
{
	u64 id = bpf_get_current_pid_tgid();
	const struct sk_blob_spec *spec;
	struct sk_counters *c;
	struct sk_syscall_ev *ev;

	if (is_self(id))
		return 0;
	c = counters_get();
	if (compat) {
		/* A 32-bit syscall: its id means something else in the 64-bit table. */
		COUNT(c, compat_ignored);
		return 0;
	}
	COUNT_FAST(c, seen);

	spec = &blob_specs[sc->nr & (SK_NR_SYSCALLS - 1)];
	if (!spec->b[0].kind && !spec->b[1].kind) {
		/* No blobs: reserve in the ring directly. */
		ev = record_reserve(c, SK_EV_SYSCALL, sizeof(*ev), id);
		if (!ev)
			return 0;
		syscall_fill(ev, sc);
		record_submit(c, ev);
		return 0;
	}

	ev = (struct sk_syscall_ev *)scratch_get();
	if (!ev) {
		COUNT(c, drop_read_fail);
		return 0;
	}
	hdr_fill(&ev->hdr, SK_EV_SYSCALL, 0, id); /* record_send sets the size */
	syscall_fill(ev, sc);
	return syscall_send_blobs(c, ev, spec);
}

static __always_inline bool is_interesting(unsigned long nr)
{
	return nr < SK_NR_SYSCALLS && (interesting[nr / 64] & (1ULL << (nr % 64)));
}

/* The hot path: every syscall on the host passes here. tp_btf gives a typed pointer to the
 * saved registers, so they are plain loads. */
SEC("tp_btf/sys_exit")
int BPF_PROG(sys_exit, struct pt_regs *regs, long ret)
{
	unsigned long nr = regs->orig_ax;
	struct sys_ctx sc;

	if (!is_interesting(nr))
		return 0;
	sc.nr = nr;
	sc.ret = ret;
	sc.args[0] = regs->di;
	sc.args[1] = regs->si;
	sc.args[2] = regs->dx;
	sc.args[3] = regs->r10;
	sc.args[4] = regs->r8;
	sc.args[5] = regs->r9;
	return sys_exit_common(&sc, bpf_get_current_task_btf()->thread_info.status & SK_TS_COMPAT);
}

/* The fallback for kernels without tp_btf: the same, through probe reads. */
SEC("raw_tp/sys_exit")
int BPF_PROG(raw_sys_exit, struct pt_regs *regs, long ret)
{
	unsigned long nr = BPF_CORE_READ(regs, orig_ax);
	struct task_struct *task;
	struct sys_ctx sc;

	if (!is_interesting(nr))
		return 0;
	sc.nr = nr;
	sc.ret = ret;
	sc.args[0] = BPF_CORE_READ(regs, di);
	sc.args[1] = BPF_CORE_READ(regs, si);
	sc.args[2] = BPF_CORE_READ(regs, dx);
	sc.args[3] = BPF_CORE_READ(regs, r10);
	sc.args[4] = BPF_CORE_READ(regs, r8);
	sc.args[5] = BPF_CORE_READ(regs, r9);
	task = (struct task_struct *)bpf_get_current_task();
	return sys_exit_common(&sc, BPF_CORE_READ(task, thread_info.status) & SK_TS_COMPAT);
}
