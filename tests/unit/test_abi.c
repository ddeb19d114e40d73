/* The kernel/user contract: every size and offset of bpf/abi pinned. A change here is an
 * ABI change: bump SK_ABI_VERSION and update docs/event-abi.md. The BPF side compiles the
 * same header; these values are also checked against the BTF of the built object by the
 * e2e suite (the skeleton's static asserts cover the globals). */
#include <stddef.h>

#include "counters.h"
#include "events.h"
#include "testlib.h"

TEST(header_layout)
{
	CHECK_EQ_INT(sizeof(struct sk_hdr), 24);
	CHECK_EQ_INT(offsetof(struct sk_hdr, ts_ns), 0);
	CHECK_EQ_INT(offsetof(struct sk_hdr, size), 8);
	CHECK_EQ_INT(offsetof(struct sk_hdr, type), 12);
	CHECK_EQ_INT(offsetof(struct sk_hdr, abi), 14);
	CHECK_EQ_INT(offsetof(struct sk_hdr, flags), 15);
	CHECK_EQ_INT(offsetof(struct sk_hdr, pid), 16);
	CHECK_EQ_INT(offsetof(struct sk_hdr, tid), 20);
}

TEST(syscall_layout)
{
	CHECK_EQ_INT(sizeof(struct sk_syscall_ev), 88);
	CHECK_EQ_INT(offsetof(struct sk_syscall_ev, ret), 24);
	CHECK_EQ_INT(offsetof(struct sk_syscall_ev, args), 32);
	CHECK_EQ_INT(offsetof(struct sk_syscall_ev, nr), 80);
	CHECK_EQ_INT(offsetof(struct sk_syscall_ev, blob_len), 82);
	CHECK_EQ_INT(sizeof(struct sk_sock_tuple), 40);
	CHECK_EQ_INT(offsetof(struct sk_sock_tuple, saddr), 8);
	CHECK_EQ_INT(offsetof(struct sk_sock_tuple, daddr), 24);
}

TEST(fork_exec_exit_layout)
{
	CHECK_EQ_INT(sizeof(struct sk_fork_ev), 64);
	CHECK_EQ_INT(offsetof(struct sk_fork_ev, child_pid), 24);
	CHECK_EQ_INT(offsetof(struct sk_fork_ev, child_start_ns), 40);
	CHECK_EQ_INT(offsetof(struct sk_fork_ev, comm), 48);
	CHECK_EQ_INT(sizeof(struct sk_exec_ev), 88);
	CHECK_EQ_INT(offsetof(struct sk_exec_ev, old_tid), 24);
	CHECK_EQ_INT(offsetof(struct sk_exec_ev, loginuid), 48);
	CHECK_EQ_INT(offsetof(struct sk_exec_ev, filename_len), 52);
	CHECK_EQ_INT(offsetof(struct sk_exec_ev, argv_len), 54);
	CHECK_EQ_INT(offsetof(struct sk_exec_ev, cgroup_id), 56);
	CHECK_EQ_INT(offsetof(struct sk_exec_ev, start_ns), 64);
	CHECK_EQ_INT(offsetof(struct sk_exec_ev, comm), 72);
	CHECK_EQ_INT(sizeof(struct sk_exit_ev), 32);
	CHECK_EQ_INT(offsetof(struct sk_exit_ev, exit_code), 24);
}

TEST(counters_layout)
{
	CHECK_EQ_INT(sizeof(struct sk_counters), 8 * 8);
	CHECK_EQ_INT(offsetof(struct sk_counters, drop_full), 16);
	CHECK_EQ_INT(offsetof(struct sk_counters, compat_ignored), 56);
}

TEST(limits_fit)
{
	/* The largest records must fit SK_RECORD_MAX: an exec with a full path and argv, a
	 * failed execve, an openat2, a connect. */
	CHECK(sizeof(struct sk_exec_ev) + SK_PATH_MAX + SK_ARGV_MAX <= SK_RECORD_MAX);
	CHECK(sizeof(struct sk_syscall_ev) + SK_PATH_MAX + SK_ARGV_MAX <= SK_RECORD_MAX);
	CHECK(sizeof(struct sk_syscall_ev) + SK_SOCKADDR_MAX + sizeof(struct sk_sock_tuple) <=
	      SK_RECORD_MAX);
	/* The scratch copies are masked with SK_RECORD_MAX - 1: it must be a power of two,
	 * and the blob lengths must fit their u16 fields. */
	CHECK((SK_RECORD_MAX & (SK_RECORD_MAX - 1)) == 0);
	CHECK(SK_SCRATCH_SIZE >= 2 * SK_RECORD_MAX);
	CHECK(SK_RECORD_MAX <= 65535);
	CHECK_EQ_INT(SK_NR_SYSCALLS % 64, 0);
}

int main(void)
{
	RUN(header_layout);
	RUN(syscall_layout);
	RUN(fork_exec_exit_layout);
	RUN(counters_layout);
	RUN(limits_fit);
	return tap_done();
}
