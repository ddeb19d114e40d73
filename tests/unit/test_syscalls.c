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
	CHECK_EQ_INT(syscall_id("connect"), SK_NR_connect);
	CHECK_EQ_INT(syscall_id("accept"), SK_NR_accept);
	CHECK_EQ_INT(syscall_id("clone"), SK_NR_clone);
	CHECK_EQ_INT(syscall_id("fork"), SK_NR_fork);
	CHECK_EQ_INT(syscall_id("vfork"), SK_NR_vfork);
	CHECK_EQ_INT(syscall_id("execve"), SK_NR_execve);
	CHECK_EQ_INT(syscall_id("creat"), SK_NR_creat);
	CHECK_EQ_INT(syscall_id("openat"), SK_NR_openat);
	CHECK_EQ_INT(syscall_id("accept4"), SK_NR_accept4);
	CHECK_EQ_INT(syscall_id("execveat"), SK_NR_execveat);
	CHECK_EQ_INT(syscall_id("clone3"), SK_NR_clone3);
	CHECK_EQ_INT(syscall_id("openat2"), SK_NR_openat2);
}

TEST(default_set_is_the_decoded_set)
{
	struct config c;
	uint64_t bm[SK_BITMAP_WORDS];

	config_defaults(&c);
	CHECK_EQ_INT(syscall_set_build(bm, &c), 14);
	CHECK(syscall_set_has(bm, SK_NR_openat));
	CHECK(syscall_set_has(bm, SK_NR_execve));
	CHECK(!syscall_set_has(bm, (unsigned)syscall_id("getppid")));
	CHECK(!syscall_set_has(bm, (unsigned)syscall_id("read")));
}

TEST(custom_set_adds_and_removes)
{
	struct config c;
	uint64_t bm[SK_BITMAP_WORDS];

	config_defaults(&c);
	CHECK_EQ_INT(config_apply_override(&c, "base_syscalls.custom_set=[getppid, !close, bogus]"),
		     0);
	CHECK_EQ_INT(syscall_set_build(bm, &c), 14);
	CHECK(syscall_set_has(bm, (unsigned)syscall_id("getppid")));
	CHECK(!syscall_set_has(bm, SK_NR_close));
	config_free(&c);
}

TEST(all_set)
{
	struct config c;
	uint64_t bm[SK_BITMAP_WORDS];

	config_defaults(&c);
	CHECK_EQ_INT(config_apply_override(&c, "base_syscalls.all=true"), 0);
	CHECK(syscall_set_build(bm, &c) > 350);
	CHECK(syscall_set_has(bm, 0));
	CHECK(!syscall_set_has(bm, 511));
}

int main(void)
{
	RUN(names_and_ids);
	RUN(abi_ids_agree_with_table);
	RUN(default_set_is_the_decoded_set);
	RUN(custom_set_adds_and_removes);
	RUN(all_set);
	return tap_done();
}
