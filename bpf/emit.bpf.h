/* SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause */
/*
 * Building and sending records: the header, bounded copies of user and kernel memory into
 * the scratch buffer, and the one place that writes to the ring buffer and counts what it
 * could not write.
 */
#ifndef SAKER_EMIT_BPF_H
#define SAKER_EMIT_BPF_H

#include "maps.bpf.h"
#include <bpf/bpf_core_read.h>

/* Masks x with an instruction the compiler cannot drop, so the verifier sees the bound even
 * where an earlier check already implies it and clang has folded the mask away. */
#define BOUND(x, mask) asm volatile("%[v] &= %[m]" : [v] "+r"(x) : [m] "i"(mask))

static __always_inline struct sk_counters *counters_get(void)
{
	u32 zero = 0;
	return bpf_map_lookup_elem(&counters, &zero);
}

/* Counters that can hide data loss (drops, partial reads) use an atomic add. */
#define COUNT(c, field)                                                                            \
	do {                                                                                       \
		if (c)                                                                             \
			__sync_fetch_and_add(&(c)->field, 1);                                      \
	} while (0)

/* seen and emitted move on every event: a plain increment of this CPU's slot (programs run
 * with migration disabled) saves a locked instruction per event. */
#define COUNT_FAST(c, field)                                                                       \
	do {                                                                                       \
		if (c)                                                                             \
			(c)->field++;                                                              \
	} while (0)

/* id is bpf_get_current_pid_tgid(), read once per event by the caller. */
static __always_inline void hdr_fill(struct sk_hdr *h, u16 type, u32 size, u64 id)
{
	h->ts_ns = bpf_ktime_get_boot_ns();
	h->size = size;
	h->type = type;
	h->abi = SK_ABI_VERSION;
	h->flags = 0;
	h->pid = id >> 32;
	h->tid = (u32)id;
}

static __always_inline u8 *scratch_get(void)
{
	u32 zero = 0;
	struct scratch *s = bpf_map_lookup_elem(&scratch_map, &zero);

	return s ? s->buf : NULL;
}

/*
 * Sends a record built in the scratch buffer. The size is checked against SK_RECORD_MAX and
 * masked so the verifier sees it bounded. No wakeup: the daemon drains on a timer (the
 * measured cost of a wakeup per record is about 1.9 us in the traced task).
 */
static __always_inline int record_send(struct sk_counters *c, void *rec, u32 size)
{
	struct sk_hdr *h = rec;

	if (size > SK_RECORD_MAX) {
		COUNT(c, drop_too_large);
		return 0;
	}
	if (h->flags & SK_F_TRUNC)
		COUNT(c, truncated);
	if (h->flags & SK_F_READ_FAIL)
		COUNT(c, partial_read);
	h->size = size;
	BOUND(size, SK_RECORD_MAX * 2 - 1);
	if (bpf_ringbuf_output(&events, rec, size, BPF_RB_NO_WAKEUP)) {
		COUNT(c, drop_full);
		return 0;
	}
	COUNT_FAST(c, emitted);
	return 0;
}

/* Reserves a fixed-size record straight in the ring buffer and fills its header; counts a
 * full ring. */
static __always_inline void *record_reserve(struct sk_counters *c, u16 type, u32 size, u64 id)
{
	void *rec = bpf_ringbuf_reserve(&events, size, 0);

	if (!rec) {
		COUNT(c, drop_full);
		return NULL;
	}
	hdr_fill(rec, type, size, id);
	return rec;
}

static __always_inline void record_submit(struct sk_counters *c, void *rec)
{
	bpf_ringbuf_submit(rec, BPF_RB_NO_WAKEUP);
	COUNT_FAST(c, emitted);
}

/*
 * Copies a NUL-terminated user string of at most max bytes to buf + off and returns the
 * bytes written (NUL included), 0 when the pointer is NULL. Sets the header's flags on a
 * failed read or a cut string. off must be below SK_RECORD_MAX and max at most
 * SK_RECORD_MAX, which keeps the copy inside the scratch buffer.
 */
static __always_inline u32 copy_user_str(u8 *buf, u32 off, u32 max, const void *src, bool user)
{
	struct sk_hdr *h = (struct sk_hdr *)buf;
	long n;

	if (!src)
		return 0;
	off &= SK_RECORD_MAX - 1;
	if (user)
		n = bpf_probe_read_user_str(buf + off, max, src);
	else
		n = bpf_probe_read_kernel_str(buf + off, max, src);
	if (n <= 0) {
		h->flags |= SK_F_READ_FAIL;
		return 0;
	}
	if ((u32)n >= max)
		h->flags |= SK_F_TRUNC;
	return (u32)n & (SK_RECORD_MAX - 1);
}

/* Copies len bytes (cut at max) of user memory to buf + off; returns the bytes written. */
static __always_inline u32 copy_user_mem(u8 *buf, u32 off, u64 len, u32 max, const void *src)
{
	struct sk_hdr *h = (struct sk_hdr *)buf;

	if (!src || !len)
		return 0;
	if (len > max) {
		len = max;
		h->flags |= SK_F_TRUNC;
	}
	/* BOUND, not &=: with a max the compiler cannot see, it folds a plain mask away. */
	BOUND(off, SK_RECORD_MAX - 1);
	BOUND(len, SK_RECORD_MAX - 1);
	if (bpf_probe_read_user(buf + off, len, src)) {
		h->flags |= SK_F_READ_FAIL;
		return 0;
	}
	return (u32)len;
}

#endif /* SAKER_EMIT_BPF_H */
