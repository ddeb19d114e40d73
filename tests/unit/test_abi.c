/* The kernel/user contract: every size and offset of bpf/abi pinned, and checked against
 * the layout the BPF compiler gives the same structs (tests/abi_layout.bpf.c). A change
 * here is an ABI change: bump SK_ABI_VERSION and update docs/event-abi.md. */
#include <bpf/btf.h>
#include <stddef.h>
#include <stdlib.h>

#include "blobs.h"
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
	CHECK_EQ_INT(sizeof(struct sk_exec_ev), 176);
	CHECK_EQ_INT(offsetof(struct sk_exec_ev, old_tid), 24);
	CHECK_EQ_INT(offsetof(struct sk_exec_ev, loginuid), 48);
	CHECK_EQ_INT(offsetof(struct sk_exec_ev, filename_len), 52);
	CHECK_EQ_INT(offsetof(struct sk_exec_ev, argv_len), 54);
	CHECK_EQ_INT(offsetof(struct sk_exec_ev, cgroup_id), 56);
	CHECK_EQ_INT(offsetof(struct sk_exec_ev, start_ns), 64);
	CHECK_EQ_INT(offsetof(struct sk_exec_ev, comm), 72);
	/* ABI 2 */
	CHECK_EQ_INT(offsetof(struct sk_exec_ev, tty), 88);
	CHECK_EQ_INT(offsetof(struct sk_exec_ev, sid), 92);
	CHECK_EQ_INT(offsetof(struct sk_exec_ev, pgid), 96);
	CHECK_EQ_INT(offsetof(struct sk_exec_ev, vpid), 100);
	CHECK_EQ_INT(offsetof(struct sk_exec_ev, vpgid), 104);
	CHECK_EQ_INT(offsetof(struct sk_exec_ev, exe_mode), 108);
	CHECK_EQ_INT(offsetof(struct sk_exec_ev, exe_uid), 112);
	CHECK_EQ_INT(offsetof(struct sk_exec_ev, exe_gid), 116);
	CHECK_EQ_INT(offsetof(struct sk_exec_ev, exe_flags), 120);
	CHECK_EQ_INT(offsetof(struct sk_exec_ev, pidns_ino), 124);
	CHECK_EQ_INT(offsetof(struct sk_exec_ev, cap_effective), 128);
	CHECK_EQ_INT(offsetof(struct sk_exec_ev, cap_permitted), 136);
	CHECK_EQ_INT(offsetof(struct sk_exec_ev, cap_inheritable), 144);
	CHECK_EQ_INT(offsetof(struct sk_exec_ev, exe_ino), 152);
	CHECK_EQ_INT(offsetof(struct sk_exec_ev, exe_ctime_ns), 160);
	CHECK_EQ_INT(offsetof(struct sk_exec_ev, exe_mtime_ns), 168);
	CHECK_EQ_INT(SK_EXE_MEMFD, 1);
	CHECK_EQ_INT(SK_EXE_UPPER, 2);
	CHECK_EQ_INT(sizeof(struct sk_exit_ev), 32);
	CHECK_EQ_INT(offsetof(struct sk_exit_ev, exit_code), 24);
}

TEST(version_and_blob_rules)
{
	const struct sk_blob_rule r = SK_B(MEM, 2, OK, 24);

	CHECK_EQ_INT(SK_ABI_VERSION, 2);
	CHECK_EQ_INT(sizeof(struct sk_blob_rule), 4);
	CHECK_EQ_INT(sizeof(struct sk_blob_spec), 8);
	CHECK_EQ_INT(offsetof(struct sk_blob_rule, kind), 0);
	CHECK_EQ_INT(offsetof(struct sk_blob_rule, arg), 1);
	CHECK_EQ_INT(offsetof(struct sk_blob_rule, when), 2);
	CHECK_EQ_INT(offsetof(struct sk_blob_rule, size), 3);
	/* The kernel side packs a rule into a u32 in this order (blobs.bpf.h, blob_rule). */
	CHECK_EQ_INT(r.kind, SK_BK_MEM);
	CHECK_EQ_INT(r.arg, 2);
	CHECK_EQ_INT(r.when, SK_BW_OK);
	CHECK_EQ_INT(r.size, 24);
	CHECK(SK_BK_MAX <= 255);
}

/* Every rule of the table is one the kernel side's filler can carry out. */
#define CHECK_SPEC(name, b0, b1)                                                                   \
	do {                                                                                       \
		const struct sk_blob_rule rr[2] = {b0, b1};                                        \
		for (int i = 0; i < 2; i++) {                                                      \
			CHECK(rr[i].kind < SK_BK_MAX);                                             \
			CHECK(rr[i].arg <= 5);                                                     \
			CHECK(rr[i].when <= SK_BW_FAIL);                                           \
			if (rr[i].kind == SK_BK_SOCKADDR || rr[i].kind == SK_BK_SOCKADDR_OUT)      \
				CHECK(rr[i].arg <= 4); /* the length is in the next register */    \
			if (rr[i].kind == SK_BK_MEM)                                               \
				CHECK(rr[i].size > 0);                                             \
			else                                                                       \
				CHECK(rr[i].size == 0);                                            \
		}                                                                                  \
		CHECK(SK_NR_##name < SK_NR_SYSCALLS);                                              \
		n++;                                                                               \
	} while (0);

TEST(blob_table_is_well_formed)
{
	int n = 0;

	SK_BLOB_SPECS(CHECK_SPEC)
	CHECK_EQ_INT(n, 42);
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
	/* Two paths (rename, link, symlink, mount): the most two blobs can hold. */
	CHECK(sizeof(struct sk_syscall_ev) + 2 * SK_PATH_MAX <= SK_RECORD_MAX);
	/* The scratch copies are masked with SK_RECORD_MAX - 1: it must be a power of two,
	 * and the blob lengths must fit their u16 fields. */
	CHECK((SK_RECORD_MAX & (SK_RECORD_MAX - 1)) == 0);
	CHECK(SK_SCRATCH_SIZE >= 2 * SK_RECORD_MAX);
	CHECK(SK_RECORD_MAX <= 65535);
	CHECK_EQ_INT(SK_NR_SYSCALLS % 64, 0);
}

/* The kernel side's own view: tests/abi_layout.bpf.c, built by the BPF compiler with the
 * sensor's flags, holds one instance of each struct, so its BTF says how the BPF side lays
 * them out. Each must match this compiler's layout, member by member. */
struct member_ref {
	const char *strct, *member;
	size_t off;
};

#define M(s, m)                                                                                    \
	{                                                                                          \
#s, #m, offsetof(struct s, m)                                                      \
	}

static const struct member_ref members[] = {
    M(sk_hdr, ts_ns),
    M(sk_hdr, size),
    M(sk_hdr, type),
    M(sk_hdr, abi),
    M(sk_hdr, flags),
    M(sk_hdr, pid),
    M(sk_hdr, tid),
    M(sk_syscall_ev, hdr),
    M(sk_syscall_ev, ret),
    M(sk_syscall_ev, args),
    M(sk_syscall_ev, nr),
    M(sk_syscall_ev, blob_len),
    M(sk_sock_tuple, family),
    M(sk_sock_tuple, type),
    M(sk_sock_tuple, sport),
    M(sk_sock_tuple, dport),
    M(sk_sock_tuple, saddr),
    M(sk_sock_tuple, daddr),
    M(sk_fork_ev, child_pid),
    M(sk_fork_ev, child_tid),
    M(sk_fork_ev, child_ppid),
    M(sk_fork_ev, flags),
    M(sk_fork_ev, child_start_ns),
    M(sk_fork_ev, comm),
    M(sk_exec_ev, old_tid),
    M(sk_exec_ev, ppid),
    M(sk_exec_ev, uid),
    M(sk_exec_ev, gid),
    M(sk_exec_ev, euid),
    M(sk_exec_ev, egid),
    M(sk_exec_ev, loginuid),
    M(sk_exec_ev, filename_len),
    M(sk_exec_ev, argv_len),
    M(sk_exec_ev, cgroup_id),
    M(sk_exec_ev, start_ns),
    M(sk_exec_ev, comm),
    M(sk_exec_ev, tty),
    M(sk_exec_ev, sid),
    M(sk_exec_ev, pgid),
    M(sk_exec_ev, vpid),
    M(sk_exec_ev, vpgid),
    M(sk_exec_ev, exe_mode),
    M(sk_exec_ev, exe_uid),
    M(sk_exec_ev, exe_gid),
    M(sk_exec_ev, exe_flags),
    M(sk_exec_ev, pidns_ino),
    M(sk_exec_ev, cap_effective),
    M(sk_exec_ev, cap_permitted),
    M(sk_exec_ev, cap_inheritable),
    M(sk_exec_ev, exe_ino),
    M(sk_exec_ev, exe_ctime_ns),
    M(sk_exec_ev, exe_mtime_ns),
    M(sk_exit_ev, exit_code),
    M(sk_exit_ev, flags),
    M(sk_blob_rule, kind),
    M(sk_blob_rule, arg),
    M(sk_blob_rule, when),
    M(sk_blob_rule, size),
    M(sk_blob_spec, b),
    M(sk_counters, seen),
    M(sk_counters, emitted),
    M(sk_counters, drop_full),
    M(sk_counters, drop_too_large),
    M(sk_counters, drop_read_fail),
    M(sk_counters, partial_read),
    M(sk_counters, truncated),
    M(sk_counters, compat_ignored),
};

static const struct {
	const char *name;
	size_t size;
} structs[] = {
    {"sk_hdr", sizeof(struct sk_hdr)},
    {"sk_syscall_ev", sizeof(struct sk_syscall_ev)},
    {"sk_sock_tuple", sizeof(struct sk_sock_tuple)},
    {"sk_fork_ev", sizeof(struct sk_fork_ev)},
    {"sk_exec_ev", sizeof(struct sk_exec_ev)},
    {"sk_exit_ev", sizeof(struct sk_exit_ev)},
    {"sk_blob_rule", sizeof(struct sk_blob_rule)},
    {"sk_blob_spec", sizeof(struct sk_blob_spec)},
    {"sk_counters", sizeof(struct sk_counters)},
};

static const struct btf_member *btf_member_find(const struct btf *btf, const struct btf_type *t,
						const char *name)
{
	const struct btf_member *m = btf_members(t);

	for (unsigned i = 0; i < btf_vlen(t); i++, m++)
		if (strcmp(btf__name_by_offset(btf, m->name_off), name) == 0)
			return m;
	return NULL;
}

TEST(bpf_object_agrees)
{
	const char *path = getenv("SAKER_ABI_BPF_OBJECT");
	struct btf *btf;

	if (!path) {
		printf("# SAKER_ABI_BPF_OBJECT is not set (meson sets it)\n");
		CHECK(0);
		return;
	}
	btf = btf__parse_elf(path, NULL);
	CHECK(btf != NULL);
	if (!btf)
		return;
	for (size_t i = 0; i < sizeof(structs) / sizeof(structs[0]); i++) {
		int id = btf__find_by_name_kind(btf, structs[i].name, BTF_KIND_STRUCT);

		if (id < 0) {
			printf("# struct %s is not in the BPF object's BTF\n", structs[i].name);
			CHECK(0);
			continue;
		}
		if (btf__type_by_id(btf, id)->size != structs[i].size) {
			printf("# struct %s: BPF size %u, userspace %zu\n", structs[i].name,
			       btf__type_by_id(btf, id)->size, structs[i].size);
			CHECK(0);
		}
	}
	for (size_t i = 0; i < sizeof(members) / sizeof(members[0]); i++) {
		int id = btf__find_by_name_kind(btf, members[i].strct, BTF_KIND_STRUCT);
		const struct btf_member *m;

		if (id < 0)
			continue; /* reported above */
		m = btf_member_find(btf, btf__type_by_id(btf, id), members[i].member);
		if (!m ||
		    btf_member_bit_offset(btf__type_by_id(btf, id),
					  (unsigned)(m - btf_members(btf__type_by_id(btf, id)))) !=
			members[i].off * 8) {
			printf("# %s.%s: BPF offset differs from userspace %zu\n", members[i].strct,
			       members[i].member, members[i].off);
			CHECK(0);
		}
	}
	btf__free(btf);
}

int main(void)
{
	RUN(header_layout);
	RUN(syscall_layout);
	RUN(fork_exec_exit_layout);
	RUN(version_and_blob_rules);
	RUN(blob_table_is_well_formed);
	RUN(counters_layout);
	RUN(limits_fit);
	RUN(bpf_object_agrees);
	return tap_done();
}
