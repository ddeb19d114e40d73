/* SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause */
/* Sockets: the kernel's view of a socket (family, type, both ends), read through the
 * task's fd table for the tuple blobs (blobs.bpf.h). */
#ifndef SAKER_NET_BPF_H
#define SAKER_NET_BPF_H

#include "emit.bpf.h"
#include <bpf/bpf_endian.h>

#define SK_S_IFMT   0170000
#define SK_S_IFSOCK 0140000
#define SK_AF_UNIX  1
#define SK_AF_INET  2
#define SK_AF_INET6 10

/* Fills t from the socket behind fd in the current task; returns 0 or -1. */
static __always_inline int sock_tuple_read(struct sk_sock_tuple *t, long fd)
{
	struct task_struct *task = (struct task_struct *)bpf_get_current_task();
	struct fdtable *fdt = BPF_CORE_READ(task, files, fdt);
	struct file **fds, *f = NULL;
	struct socket *sock;
	struct sock *sk;

	if (fd < 0 || fd >= BPF_CORE_READ(fdt, max_fds))
		return -1;
	fds = BPF_CORE_READ(fdt, fd);
	if (bpf_core_read(&f, sizeof(f), &fds[fd]) || !f)
		return -1;
	if ((BPF_CORE_READ(f, f_inode, i_mode) & SK_S_IFMT) != SK_S_IFSOCK)
		return -1;
	sock = (struct socket *)BPF_CORE_READ(f, private_data);
	t->type = BPF_CORE_READ(sock, type);
	sk = BPF_CORE_READ(sock, sk);
	if (!sk)
		return -1;
	t->family = BPF_CORE_READ(sk, __sk_common.skc_family);
	if (t->family == SK_AF_INET) {
		__be32 a;

		a = BPF_CORE_READ(sk, __sk_common.skc_rcv_saddr);
		__builtin_memcpy(t->saddr, &a, 4);
		a = BPF_CORE_READ(sk, __sk_common.skc_daddr);
		__builtin_memcpy(t->daddr, &a, 4);
	} else if (t->family == SK_AF_INET6) {
		/* The whole 16-byte address: BPF_CORE_READ_INTO would copy sizeof(*dst), one
		 * byte, for an array destination. */
		bpf_core_read(t->saddr, sizeof(t->saddr), &sk->__sk_common.skc_v6_rcv_saddr);
		bpf_core_read(t->daddr, sizeof(t->daddr), &sk->__sk_common.skc_v6_daddr);
	}
	if (t->family == SK_AF_INET || t->family == SK_AF_INET6) {
		t->sport = BPF_CORE_READ(sk, __sk_common.skc_num);
		t->dport = bpf_ntohs(BPF_CORE_READ(sk, __sk_common.skc_dport));
	}
	return 0;
}

#endif /* SAKER_NET_BPF_H */
