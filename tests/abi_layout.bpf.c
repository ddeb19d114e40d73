/* SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause */
/*
 * Compiled by the BPF compiler with the sensor's flags, never loaded: one instance of each
 * ABI struct, so the object's BTF records how the BPF side lays them out. test_abi compares
 * that, member by member, with the userspace compiler's layout.
 */
#include "kernel_types.h"
#include <bpf/bpf_helpers.h>

#include "blobs.h"
#include "counters.h"
#include "events.h"

struct sk_hdr abi_sk_hdr SEC(".data.abi");
struct sk_syscall_ev abi_sk_syscall_ev SEC(".data.abi");
struct sk_sock_tuple abi_sk_sock_tuple SEC(".data.abi");
struct sk_fork_ev abi_sk_fork_ev SEC(".data.abi");
struct sk_exec_ev abi_sk_exec_ev SEC(".data.abi");
struct sk_exit_ev abi_sk_exit_ev SEC(".data.abi");
struct sk_blob_rule abi_sk_blob_rule SEC(".data.abi");
struct sk_blob_spec abi_sk_blob_spec SEC(".data.abi");
struct sk_counters abi_sk_counters SEC(".data.abi");

char LICENSE[] SEC("license") = "Dual BSD/GPL";
