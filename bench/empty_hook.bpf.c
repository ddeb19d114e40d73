/* SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause */
/*
 * The reference point for the sensor's per-syscall cost: a tp_btf program on sys_exit that
 * does nothing. Whatever a syscall pays with this attached is the price of having any
 * sys_exit hook at all (the tracepoint becoming live, the trampoline into BPF, the call);
 * the sensor cannot go below it for a syscall it does not capture.
 */
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>

/* Only named in the program's signature; its fields are never read. */
struct pt_regs;

/* tp_btf programs must be GPL-compatible. */
char LICENSE[] SEC("license") = "Dual BSD/GPL";

SEC("tp_btf/sys_exit")
int BPF_PROG(empty_sys_exit, struct pt_regs *regs, long ret)
{
	return 0;
}
