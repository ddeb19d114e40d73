/* SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause */
/*
 * Per-CPU counters the kernel side keeps (one struct per CPU in a PERCPU_ARRAY of one
 * entry). The daemon sums them across CPUs. Nothing is dropped without a counter here.
 */
#ifndef SAKER_ABI_COUNTERS_H
#define SAKER_ABI_COUNTERS_H

#ifndef __bpf__
#include <linux/types.h>
#endif

struct sk_counters {
	__u64 seen;	      /* interesting events that reached a handler */
	__u64 emitted;	      /* records written to the ring buffer */
	__u64 drop_full;      /* the ring buffer had no room */
	__u64 drop_too_large; /* a record would exceed SK_RECORD_MAX */
	__u64 drop_read_fail; /* the record could not be built (kernel data unreadable) */
	__u64 partial_read;   /* emitted, but some user memory could not be read */
	__u64 truncated;      /* emitted, but some variable data was cut at its limit */
	__u64 compat_ignored; /* syscalls from 32-bit (ia32) mode, not decoded yet */
};

#endif /* SAKER_ABI_COUNTERS_H */
