/* Symbolic rendering of flag arguments. */
#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <sys/socket.h>

#include "flags.h"
#include "testlib.h"

static const char *render(void (*fn)(struct strbuf *, uint64_t), uint64_t v)
{
	static struct strbuf sb = STRBUF_INIT;

	sb_reset(&sb);
	fn(&sb, v);
	return sb.buf;
}

TEST(open_flags)
{
	CHECK_EQ_STR(render(flags_open, O_RDONLY), "O_RDONLY");
	CHECK_EQ_STR(render(flags_open, O_RDONLY | O_CLOEXEC), "O_RDONLY|O_CLOEXEC");
	CHECK_EQ_STR(render(flags_open, O_WRONLY | O_CREAT | O_TRUNC), "O_WRONLY|O_CREAT|O_TRUNC");
	CHECK_EQ_STR(render(flags_open, O_RDWR | O_SYNC), "O_RDWR|O_SYNC");
	CHECK_EQ_STR(render(flags_open, O_RDWR | O_DSYNC), "O_RDWR|O_DSYNC");
	CHECK_EQ_STR(render(flags_open, O_RDWR | O_TMPFILE), "O_RDWR|O_TMPFILE");
	CHECK_EQ_STR(render(flags_open, O_RDONLY | O_DIRECTORY), "O_RDONLY|O_DIRECTORY");
	/* Unknown bits are kept, in hex. */
	CHECK_EQ_STR(render(flags_open, O_RDONLY | 0x40000000), "O_RDONLY|0x40000000");
}

TEST(clone_flags)
{
	CHECK_EQ_STR(render(flags_clone, CLONE_VM | CLONE_VFORK | SIGCHLD), "CLONE_VM|CLONE_VFORK");
	CHECK_EQ_STR(render(flags_clone, SIGCHLD), "0");
	CHECK_EQ_STR(render(flags_clone, CLONE_THREAD | CLONE_SIGHAND | CLONE_VM),
		     "CLONE_VM|CLONE_SIGHAND|CLONE_THREAD");
	CHECK_EQ_STR(render(flags_clone, 0x200000000ULL), "CLONE_INTO_CGROUP");
}

TEST(dirfd_and_at)
{
	struct strbuf sb = STRBUF_INIT;

	flags_dirfd(&sb, (int64_t)(uint32_t)AT_FDCWD);
	CHECK_EQ_STR(sb.buf, "AT_FDCWD");
	sb_reset(&sb);
	flags_dirfd(&sb, 5);
	CHECK_EQ_STR(sb.buf, "5");
	sb_reset(&sb);
	flags_at(&sb, AT_EMPTY_PATH);
	CHECK_EQ_STR(sb.buf, "AT_EMPTY_PATH");
	sb_reset(&sb);
	flags_accept4(&sb, SOCK_CLOEXEC | SOCK_NONBLOCK);
	CHECK_EQ_STR(sb.buf, "SOCK_NONBLOCK|SOCK_CLOEXEC");
	sb_release(&sb);
}

TEST(names)
{
	CHECK_EQ_STR(errno_name(2), "ENOENT");
	CHECK_EQ_STR(errno_name(111), "ECONNREFUSED");
	CHECK(errno_name(0) == NULL);
	CHECK(errno_name(100000) == NULL);
	CHECK(errno_name(-1) == NULL);
	CHECK_EQ_STR(sock_type_name(SOCK_STREAM), "SOCK_STREAM");
	CHECK_EQ_STR(sock_type_name(77), "SOCK_UNKNOWN");
}

static const char *set(enum flag_set st, uint64_t v)
{
	static struct strbuf sb = STRBUF_INIT;

	sb_reset(&sb);
	flags_render(&sb, st, v);
	return sb.buf;
}

TEST(every_set)
{
	/* Each set names its bits, keeps unknown ones in hex (but a mode, which is only its
	 * permission bits), and shows nothing as 0. */
	for (int st = 0; st < FLAGS_NSETS; st++) {
		CHECK(strlen(set(st, 0)) > 0);
		if (st != FLAGS_MODE)
			CHECK(strstr(set(st, 1ULL << 62), "0x4000000000000000") != NULL);
	}
	CHECK_EQ_STR(set(FLAGS_NS, 0x40000000 | 0x8000000), "CLONE_NEWIPC|CLONE_NEWNET");
	CHECK_EQ_STR(set(FLAGS_AT, 0x1000 | 0x100), "AT_SYMLINK_NOFOLLOW|AT_EMPTY_PATH");
	CHECK_EQ_STR(set(FLAGS_SOCK_TYPE, 2), "SOCK_DGRAM");
	CHECK_EQ_STR(set(FLAGS_SOCK_TYPE, 10 | 04000), "SOCK_PACKET|SOCK_NONBLOCK");
	CHECK_EQ_STR(set(FLAGS_MOUNT, 1 | (1 << 20)), "MS_RDONLY|MS_SHARED");
	CHECK_EQ_STR(set(FLAGS_MOUNT, 0xc0ed0000), "0");
	CHECK_EQ_STR(set(FLAGS_UMOUNT, 2), "MNT_DETACH");
	CHECK_EQ_STR(set(FLAGS_PIPE2, 02000000 | 04000), "O_CLOEXEC|O_NONBLOCK");
	CHECK_EQ_STR(set(FLAGS_EVENTFD, 1 | 02000000), "EFD_SEMAPHORE|EFD_CLOEXEC");
	CHECK_EQ_STR(set(FLAGS_USERFAULTFD, 1), "UFFD_USER_MODE_ONLY");
	CHECK_EQ_STR(set(FLAGS_FINIT_MODULE, 3),
		     "MODULE_INIT_IGNORE_MODVERSIONS|MODULE_INIT_IGNORE_VERMAGIC");
	CHECK_EQ_STR(set(FLAGS_RESOLVE, 0x08 | 0x20), "RESOLVE_BENEATH|RESOLVE_CACHED");
	CHECK_EQ_STR(set(FLAGS_MODE, 01777), "S_ISVTX|S_IRUSR|S_IWUSR|S_IXUSR|S_IRGRP|S_IWGRP|"
					     "S_IXGRP|S_IROTH|S_IWOTH|S_IXOTH");
	CHECK_EQ_STR(set(FLAGS_MODE, 0100644), "S_IRUSR|S_IWUSR|S_IRGRP|S_IROTH");
	CHECK_EQ_STR(set(FLAGS_EXE, 1), "EXE_FROM_MEMFD");
	CHECK_EQ_STR(set(FLAGS_MSG, 0x100), "MSG_WAITALL");
	CHECK_EQ_STR(set(FLAGS_MEMFD, 8), "MFD_NOEXEC_SEAL");
	CHECK_EQ_STR(set(FLAGS_RENAME, 5), "RENAME_NOREPLACE|RENAME_WHITEOUT");
	CHECK_EQ_STR(set(FLAGS_CLONE, 0x400000000ULL), "CLONE_NEWTIME");
	CHECK_EQ_STR(set(FLAGS_NSETS, 5), "0x5");
}

TEST(value_names)
{
	struct strbuf sb = STRBUF_INIT;

	CHECK_EQ_STR(flags_name(NAMES_AF, 2), "AF_INET");
	CHECK_EQ_STR(flags_name(NAMES_AF, 17), "AF_PACKET");
	CHECK_EQ_STR(flags_name(NAMES_AF, 45), "AF_MCTP");
	CHECK(flags_name(NAMES_AF, 46) == NULL);
	CHECK_EQ_STR(flags_name(NAMES_PTRACE, 16), "PTRACE_ATTACH");
	CHECK_EQ_STR(flags_name(NAMES_PTRACE, 4), "PTRACE_POKETEXT");
	CHECK_EQ_STR(flags_name(NAMES_PTRACE, 5), "PTRACE_POKEDATA");
	CHECK_EQ_STR(flags_name(NAMES_PTRACE, 13), "PTRACE_SETREGS");
	CHECK_EQ_STR(flags_name(NAMES_BPF, 0), "BPF_MAP_CREATE");
	CHECK_EQ_STR(flags_name(NAMES_FCNTL, 4), "F_SETFL");
	CHECK_EQ_STR(flags_name(NAMES_PRCTL, 38), "PR_SET_NO_NEW_PRIVS");
	CHECK_EQ_STR(flags_name(NAMES_SIGNAL, 31), "SIGSYS");
	CHECK(flags_name(NAMES_SIGNAL, 0) == NULL);
	CHECK(flags_name(NAMES_NSETS, 0) == NULL);
	flags_render_name(&sb, NAMES_SIGNAL, 64);
	CHECK_EQ_STR(sb.buf, "64");
	sb_reset(&sb);
	flags_render_name(&sb, NAMES_PTRACE, (uint64_t)-1);
	CHECK_EQ_STR(sb.buf, "-1");
	sb_release(&sb);
}

int main(void)
{
	RUN(open_flags);
	RUN(clone_flags);
	RUN(dirfd_and_at);
	RUN(names);
	RUN(every_set);
	RUN(value_names);
	return tap_done();
}
