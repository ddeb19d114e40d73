/* SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause */
/* Files: the open family's exits, with the path as the caller passed it. */
#ifndef SAKER_FILE_BPF_H
#define SAKER_FILE_BPF_H

#include "emit.bpf.h"
#include "syscall_ids.h"

#define SK_OPEN_HOW_SIZE 24 /* struct open_how: flags, mode, resolve (u64 each) */

/* open, creat, openat, openat2. The path is read at exit: a racing thread may have changed
 * the string since the kernel read it (see docs/bpf.md, "What exit-only capture means"). */
static __always_inline int on_open_exit(struct sk_counters *c, struct sk_syscall_ev *ev, u8 *buf,
					u16 nr)
{
	const void *path =
	    (const void *)(nr == SK_NR_openat || nr == SK_NR_openat2 ? ev->args[1] : ev->args[0]);
	u32 off = sizeof(*ev), n;

	n = copy_user_str(buf, off, SK_PATH_MAX, path, true);
	ev->blob_len[0] = n;
	off += n;
	if (nr == SK_NR_openat2) {
		n = copy_user_mem(buf, off, SK_OPEN_HOW_SIZE, SK_OPEN_HOW_SIZE,
				  (const void *)ev->args[2]);
		ev->blob_len[1] = n;
		off += n;
	}
	return record_send(c, buf, off);
}

#endif /* SAKER_FILE_BPF_H */
