/* SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause */
/*
 * The blobs of syscall records, filled by rule (abi/blobs.h) rather than by a handler per
 * syscall: the rules are compiled into a constant table indexed by syscall id, and one
 * filler reads whatever a rule names. Adding a syscall with a path is a line in blobs.h.
 */
#ifndef SAKER_BLOBS_BPF_H
#define SAKER_BLOBS_BPF_H

#include "emit.bpf.h"
#include "net.bpf.h"
#include "proc.bpf.h"
#include "blobs.h"

#define SK_SPEC_ENTRY(name, b0, b1) [SK_NR_##name] = {{b0, b1}},

/* In .rodata: read-only and frozen, so a lookup is one load from a known address. */
static const struct sk_blob_spec blob_specs[SK_NR_SYSCALLS] = {SK_BLOB_SPECS(SK_SPEC_ENTRY)};

/* The first fields of struct user_msghdr. */
struct sk_msghdr_head {
	void *name;
	int namelen;
};

/*
 * Fills one blob at s->buf + off (the scratch record, a struct sk_syscall_ev) by rule r
 * (a struct sk_blob_rule as a u32); returns the bytes written. A global function: the
 * verifier checks it once, for any rule, instead of once per call site and per path into
 * it (which multiplied the work twentyfold). It assumes nothing about its arguments.
 */
__noinline int blob_fill(struct scratch *s, u32 off, u32 r)
{
	struct sk_syscall_ev *ev;
	u32 kind = r & 0xff, arg = (r >> 8) & 0xff, when = (r >> 16) & 0xff, size = r >> 24;
	const void *p;
	u8 *buf;
	u64 len;

	if (!s || arg > 5)
		return 0;
	buf = s->buf;
	ev = (struct sk_syscall_ev *)buf;
	if ((when == SK_BW_OK && ev->ret < 0) || (when == SK_BW_FAIL && ev->ret >= 0))
		return 0;
	p = (const void *)ev->args[arg];
	switch (kind) {
	case SK_BK_STR:
		return copy_user_str(buf, off, SK_PATH_MAX, p, true);
	case SK_BK_MEM:
		return copy_user_mem(buf, off, size, size, p);
	case SK_BK_SOCKADDR:
		if (arg > 4)
			return 0;
		return copy_user_mem(buf, off, (u32)ev->args[arg + 1], SK_SOCKADDR_MAX, p);
	case SK_BK_SOCKADDR_OUT: {
		u32 alen = 0;

		if (arg > 4 || !p || !ev->args[arg + 1])
			return 0;
		if (bpf_probe_read_user(&alen, sizeof(alen), (const void *)ev->args[arg + 1])) {
			ev->hdr.flags |= SK_F_READ_FAIL;
			return 0;
		}
		return copy_user_mem(buf, off, alen, SK_SOCKADDR_MAX, p);
	}
	case SK_BK_MSG_NAME: {
		struct sk_msghdr_head m = {};

		if (!p)
			return 0;
		if (bpf_probe_read_user(&m, sizeof(m), p)) {
			ev->hdr.flags |= SK_F_READ_FAIL;
			return 0;
		}
		len = m.namelen > 0 ? (u32)m.namelen : 0;
		return copy_user_mem(buf, off, len, SK_SOCKADDR_MAX, m.name);
	}
	case SK_BK_TUPLE:
	case SK_BK_TUPLE_RET: {
		struct sk_sock_tuple *t = (struct sk_sock_tuple *)(buf + (off & (SK_RECORD_MAX - 1)));
		long fd = kind == SK_BK_TUPLE ? (long)(int)(u64)p : ev->ret;

		if (fd < 0)
			return 0;
		__builtin_memset(t, 0, sizeof(*t));
		if (sock_tuple_read(t, fd))
			return 0;
		return sizeof(*t);
	}
	case SK_BK_ARGV:
		return copy_user_argv(buf, off, p);
	}
	return 0;
}

static __always_inline u32 blob_rule(const struct sk_blob_rule *r)
{
	return r->kind | (u32)r->arg << 8 | (u32)r->when << 16 | (u32)r->size << 24;
}

/* Builds a syscall record with blobs in the scratch buffer and sends it. */
static __always_inline int syscall_send_blobs(struct sk_counters *c, struct sk_syscall_ev *ev,
					      const struct sk_blob_spec *spec)
{
	struct scratch *s = (struct scratch *)ev;
	u32 off = sizeof(*ev), n, arg = spec->b[0].arg;

	/* The common case, one path (the open family, unlink, mkdir, ...), inline: a call
	 * into blob_fill costs a return, which CPUs with return-thunk mitigations pay dearly
	 * for. */
	if (spec->b[0].kind == SK_BK_STR && spec->b[0].when == SK_BW_ALWAYS &&
	    !spec->b[1].kind && arg <= 5) {
		n = copy_user_str((u8 *)ev, off, SK_PATH_MAX, (const void *)ev->args[arg], true);
		ev->blob_len[0] = n;
		return record_send(c, ev, off + n);
	}
	if (spec->b[0].kind) {
		n = blob_fill(s, off, blob_rule(&spec->b[0])) & (SK_RECORD_MAX - 1);
		ev->blob_len[0] = n;
		off += n;
	}
	if (spec->b[1].kind) {
		n = blob_fill(s, off, blob_rule(&spec->b[1])) & (SK_RECORD_MAX - 1);
		ev->blob_len[1] = n;
		off += n;
	}
	return record_send(c, ev, off);
}

#endif /* SAKER_BLOBS_BPF_H */
