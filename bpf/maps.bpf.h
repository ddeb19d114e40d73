/* SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause */
/* Every map and global of the sensor, each with its purpose. */
#ifndef SAKER_MAPS_BPF_H
#define SAKER_MAPS_BPF_H

#include "kernel_types.h"
#include <bpf/bpf_helpers.h>
#include "events.h"
#include "counters.h"

/* The one ring buffer to userspace. Its size is set by the loader before load. */
struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, 8 << 20);
} events SEC(".maps");

/* Per-CPU drop and emit counters (struct sk_counters, one entry). */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, u32);
	__type(value, struct sk_counters);
} counters SEC(".maps");

/* Per-CPU scratch space where variable-size records are built before they are copied to
 * the ring buffer (bpf_ringbuf_reserve needs a constant size). */
struct scratch {
	u8 buf[SK_SCRATCH_SIZE];
};

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, u32);
	__type(value, struct scratch);
} scratch_map SEC(".maps");

/* Set by the loader before load: the sensor's own thread group, whose events are dropped. */
const volatile __u32 self_tgid = 0;

/* The interesting-syscall bitmap, indexed by x86-64 syscall id. Userspace writes it through
 * the mmapped .bss; a syscall whose bit is clear costs one load and returns. */
__u64 interesting[SK_BITMAP_WORDS] = {};

/* Non-zero: exec records carry the new image's environment (a loaded rule or output names
 * proc.env). Written by userspace through the mmapped .bss, like the bitmap. */
__u32 want_env = 0;

#endif /* SAKER_MAPS_BPF_H */
