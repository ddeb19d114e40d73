/* The syscall table and the capture set built from it. */
#include "config.h"
#include "syscall_ids.h"
#include "syscall_set.h"
#include "syscalls.h"
#include "testlib.h"

TEST(names_and_ids)
{
	CHECK_EQ_STR(syscall_name(0), "read");
	CHECK_EQ_STR(syscall_name(59), "execve");
	CHECK_EQ_STR(syscall_name(257), "openat");
	CHECK_EQ_STR(syscall_name(435), "clone3");
	CHECK_EQ_STR(syscall_name(437), "openat2");
	CHECK_EQ_INT(syscall_id("getppid"), 110);
	CHECK_EQ_INT(syscall_id("nosuchcall"), -1);
	CHECK(syscall_name(100000) == NULL);
	CHECK(syscall_max() <= SK_NR_SYSCALLS);
}

TEST(abi_ids_agree_with_table)
{
	/* The kernel side's ids (bpf/abi/syscall_ids.h) name the same syscalls. */
	CHECK_EQ_INT(syscall_id("open"), SK_NR_open);
	CHECK_EQ_INT(syscall_id("close"), SK_NR_close);
	CHECK_EQ_INT(syscall_id("pipe"), SK_NR_pipe);
	CHECK_EQ_INT(syscall_id("dup"), SK_NR_dup);
	CHECK_EQ_INT(syscall_id("dup2"), SK_NR_dup2);
	CHECK_EQ_INT(syscall_id("socket"), SK_NR_socket);
	CHECK_EQ_INT(syscall_id("connect"), SK_NR_connect);
	CHECK_EQ_INT(syscall_id("accept"), SK_NR_accept);
	CHECK_EQ_INT(syscall_id("sendto"), SK_NR_sendto);
	CHECK_EQ_INT(syscall_id("recvfrom"), SK_NR_recvfrom);
	CHECK_EQ_INT(syscall_id("sendmsg"), SK_NR_sendmsg);
	CHECK_EQ_INT(syscall_id("recvmsg"), SK_NR_recvmsg);
	CHECK_EQ_INT(syscall_id("bind"), SK_NR_bind);
	CHECK_EQ_INT(syscall_id("listen"), SK_NR_listen);
	CHECK_EQ_INT(syscall_id("socketpair"), SK_NR_socketpair);
	CHECK_EQ_INT(syscall_id("clone"), SK_NR_clone);
	CHECK_EQ_INT(syscall_id("fork"), SK_NR_fork);
	CHECK_EQ_INT(syscall_id("vfork"), SK_NR_vfork);
	CHECK_EQ_INT(syscall_id("execve"), SK_NR_execve);
	CHECK_EQ_INT(syscall_id("kill"), SK_NR_kill);
	CHECK_EQ_INT(syscall_id("fcntl"), SK_NR_fcntl);
	CHECK_EQ_INT(syscall_id("truncate"), SK_NR_truncate);
	CHECK_EQ_INT(syscall_id("chdir"), SK_NR_chdir);
	CHECK_EQ_INT(syscall_id("fchdir"), SK_NR_fchdir);
	CHECK_EQ_INT(syscall_id("rename"), SK_NR_rename);
	CHECK_EQ_INT(syscall_id("mkdir"), SK_NR_mkdir);
	CHECK_EQ_INT(syscall_id("rmdir"), SK_NR_rmdir);
	CHECK_EQ_INT(syscall_id("creat"), SK_NR_creat);
	CHECK_EQ_INT(syscall_id("link"), SK_NR_link);
	CHECK_EQ_INT(syscall_id("unlink"), SK_NR_unlink);
	CHECK_EQ_INT(syscall_id("symlink"), SK_NR_symlink);
	CHECK_EQ_INT(syscall_id("chmod"), SK_NR_chmod);
	CHECK_EQ_INT(syscall_id("fchmod"), SK_NR_fchmod);
	CHECK_EQ_INT(syscall_id("chown"), SK_NR_chown);
	CHECK_EQ_INT(syscall_id("fchown"), SK_NR_fchown);
	CHECK_EQ_INT(syscall_id("lchown"), SK_NR_lchown);
	CHECK_EQ_INT(syscall_id("ptrace"), SK_NR_ptrace);
	CHECK_EQ_INT(syscall_id("setuid"), SK_NR_setuid);
	CHECK_EQ_INT(syscall_id("setgid"), SK_NR_setgid);
	CHECK_EQ_INT(syscall_id("setreuid"), SK_NR_setreuid);
	CHECK_EQ_INT(syscall_id("setregid"), SK_NR_setregid);
	CHECK_EQ_INT(syscall_id("setresuid"), SK_NR_setresuid);
	CHECK_EQ_INT(syscall_id("setresgid"), SK_NR_setresgid);
	CHECK_EQ_INT(syscall_id("capset"), SK_NR_capset);
	CHECK_EQ_INT(syscall_id("prctl"), SK_NR_prctl);
	CHECK_EQ_INT(syscall_id("chroot"), SK_NR_chroot);
	CHECK_EQ_INT(syscall_id("mount"), SK_NR_mount);
	CHECK_EQ_INT(syscall_id("umount2"), SK_NR_umount2);
	CHECK_EQ_INT(syscall_id("init_module"), SK_NR_init_module);
	CHECK_EQ_INT(syscall_id("tkill"), SK_NR_tkill);
	CHECK_EQ_INT(syscall_id("tgkill"), SK_NR_tgkill);
	CHECK_EQ_INT(syscall_id("openat"), SK_NR_openat);
	CHECK_EQ_INT(syscall_id("mkdirat"), SK_NR_mkdirat);
	CHECK_EQ_INT(syscall_id("fchownat"), SK_NR_fchownat);
	CHECK_EQ_INT(syscall_id("unlinkat"), SK_NR_unlinkat);
	CHECK_EQ_INT(syscall_id("renameat"), SK_NR_renameat);
	CHECK_EQ_INT(syscall_id("linkat"), SK_NR_linkat);
	CHECK_EQ_INT(syscall_id("symlinkat"), SK_NR_symlinkat);
	CHECK_EQ_INT(syscall_id("fchmodat"), SK_NR_fchmodat);
	CHECK_EQ_INT(syscall_id("unshare"), SK_NR_unshare);
	CHECK_EQ_INT(syscall_id("eventfd"), SK_NR_eventfd);
	CHECK_EQ_INT(syscall_id("accept4"), SK_NR_accept4);
	CHECK_EQ_INT(syscall_id("eventfd2"), SK_NR_eventfd2);
	CHECK_EQ_INT(syscall_id("dup3"), SK_NR_dup3);
	CHECK_EQ_INT(syscall_id("pipe2"), SK_NR_pipe2);
	CHECK_EQ_INT(syscall_id("setns"), SK_NR_setns);
	CHECK_EQ_INT(syscall_id("finit_module"), SK_NR_finit_module);
	CHECK_EQ_INT(syscall_id("renameat2"), SK_NR_renameat2);
	CHECK_EQ_INT(syscall_id("memfd_create"), SK_NR_memfd_create);
	CHECK_EQ_INT(syscall_id("bpf"), SK_NR_bpf);
	CHECK_EQ_INT(syscall_id("execveat"), SK_NR_execveat);
	CHECK_EQ_INT(syscall_id("userfaultfd"), SK_NR_userfaultfd);
	CHECK_EQ_INT(syscall_id("clone3"), SK_NR_clone3);
	CHECK_EQ_INT(syscall_id("openat2"), SK_NR_openat2);
}

/* The blob rules name syscalls the table knows, and the schema describes each of them. */
#define SPEC_KNOWN(name, b0, b1)                                                                   \
	CHECK_EQ_STR(syscall_name(SK_NR_##name), #name);                                           \
	CHECK(syscall_is_decoded(SK_NR_##name));                                                   \
	CHECK(syscall_blob_spec(SK_NR_##name)->b[0].kind || syscall_blob_spec(SK_NR_##name)->b[1].kind);

TEST(blob_specs)
{
	SK_BLOB_SPECS(SPEC_KNOWN)
	CHECK_EQ_INT(syscall_blob_spec(SK_NR_openat)->b[0].kind, SK_BK_STR);
	CHECK_EQ_INT(syscall_blob_spec(SK_NR_openat)->b[0].arg, 1);
	CHECK_EQ_INT(syscall_blob_spec(SK_NR_close)->b[0].kind, SK_BK_NONE);
	CHECK_EQ_INT(syscall_blob_spec(SK_NR_close)->b[1].kind, SK_BK_NONE);
	CHECK_EQ_INT(syscall_blob_spec(100000)->b[0].kind, SK_BK_NONE);
}

TEST(default_set_is_the_state_set)
{
	struct config c;
	uint64_t bm[SK_BITMAP_WORDS];
	unsigned n;

	config_defaults(&c);
	n = syscall_set_build(bm, &c, NULL, false);
	CHECK(n > 40 && n < 74);
	/* what the tables need */
	CHECK(syscall_set_has(bm, SK_NR_openat));
	CHECK(syscall_set_has(bm, SK_NR_execve));
	CHECK(syscall_set_has(bm, SK_NR_close));
	CHECK(syscall_set_has(bm, SK_NR_sendmsg));
	CHECK(syscall_set_has(bm, SK_NR_fork));
	CHECK(syscall_set_has(bm, (unsigned)syscall_id("dup2")));
	CHECK(syscall_set_has(bm, (unsigned)syscall_id("chdir")));
	/* and nothing a rule alone would want */
	CHECK(!syscall_set_has(bm, SK_NR_ptrace));
	CHECK(!syscall_set_has(bm, (unsigned)syscall_id("unlinkat")));
	CHECK(!syscall_set_has(bm, (unsigned)syscall_id("getppid")));
	CHECK(!syscall_set_has(bm, (unsigned)syscall_id("read")));
	/* fd-creating calls without blobs are there too: their raw registers are enough */
	CHECK(syscall_set_has(bm, (unsigned)syscall_id("close_range")));
	CHECK(syscall_set_has(bm, (unsigned)syscall_id("epoll_create1")));
	config_free(&c);
}

TEST(rules_add_and_dump_widens)
{
	struct config c;
	uint64_t bm[SK_BITMAP_WORDS], rules[SK_BITMAP_WORDS] = {0};
	unsigned base;

	config_defaults(&c);
	base = syscall_set_build(bm, &c, NULL, false);
	syscall_set_add(rules, SK_NR_ptrace);
	syscall_set_add(rules, SK_NR_openat); /* already in */
	CHECK_EQ_INT(syscall_set_build(bm, &c, rules, false), base + 1);
	CHECK(syscall_set_has(bm, SK_NR_ptrace));
	/* the dump shows everything the decoder understands, and the state set */
	CHECK(syscall_set_build(bm, &c, NULL, true) >= 74);
	for (unsigned id = 0; id < SK_NR_SYSCALLS; id++)
		if (syscall_is_decoded(id) && !syscall_set_has(bm, id))
			CHECK(0);
	config_free(&c);
}

TEST(custom_set_replaces_and_removes)
{
	struct config c;
	uint64_t bm[SK_BITMAP_WORDS], rules[SK_BITMAP_WORDS] = {0};

	config_defaults(&c);
	CHECK_EQ_INT(config_apply_override(&c, "base_syscalls.custom_set=[getppid, !close, bogus]"),
		     0);
	syscall_set_add(rules, SK_NR_close);
	syscall_set_add(rules, SK_NR_ptrace);
	/* getppid replaces the state set; the rules are added; !close removes last */
	CHECK_EQ_INT(syscall_set_build(bm, &c, rules, false), 2);
	CHECK(syscall_set_has(bm, (unsigned)syscall_id("getppid")));
	CHECK(syscall_set_has(bm, SK_NR_ptrace));
	CHECK(!syscall_set_has(bm, SK_NR_close));
	CHECK(!syscall_set_has(bm, SK_NR_openat));
	/* only removals: the state set stays the base */
	CHECK_EQ_INT(config_apply_override(&c, "base_syscalls.custom_set=[!close]"), 0);
	CHECK(syscall_set_build(bm, &c, NULL, false) > 40);
	CHECK(!syscall_set_has(bm, SK_NR_close));
	CHECK(syscall_set_has(bm, SK_NR_openat));
	config_free(&c);
}

TEST(all_set)
{
	struct config c;
	uint64_t bm[SK_BITMAP_WORDS];

	config_defaults(&c);
	CHECK_EQ_INT(config_apply_override(&c, "base_syscalls.all=true"), 0);
	CHECK(syscall_set_build(bm, &c, NULL, false) > 350);
	CHECK(syscall_set_has(bm, 0));
	CHECK(!syscall_set_has(bm, 511));
	config_free(&c);
}

int main(void)
{
	RUN(names_and_ids);
	RUN(abi_ids_agree_with_table);
	RUN(blob_specs);
	RUN(default_set_is_the_state_set);
	RUN(rules_add_and_dump_widens);
	RUN(custom_set_replaces_and_removes);
	RUN(all_set);
	return tap_done();
}
