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

int main(void)
{
	RUN(open_flags);
	RUN(clone_flags);
	RUN(dirfd_and_at);
	RUN(names);
	return tap_done();
}
