#include "flags.h"

#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <sys/socket.h>

#include <linux/sched.h>

struct flag_name {
	uint64_t bit;
	const char *name;
};

#define FLAG(x)                                                                                    \
	{                                                                                          \
		x, #x                                                                              \
	}

static void flags_render(struct strbuf *sb, uint64_t flags, const struct flag_name *t, unsigned n)
{
	size_t start = sb->len;

	for (unsigned i = 0; i < n; i++) {
		if ((flags & t[i].bit) != t[i].bit || !t[i].bit)
			continue;
		if (sb->len > start)
			sb_addc(sb, '|');
		sb_adds(sb, t[i].name);
		flags &= ~t[i].bit;
	}
	if (flags) {
		if (sb->len > start)
			sb_addc(sb, '|');
		sb_addf(sb, "0x%llx", (unsigned long long)flags);
	}
	if (sb->len == start)
		sb_addc(sb, '0');
}

/* O_SYNC includes O_DSYNC's bit and O_TMPFILE includes O_DIRECTORY's: list the wider ones
 * first so they win. */
static const struct flag_name open_flags[] = {
    FLAG(O_CREAT),     FLAG(O_EXCL),	FLAG(O_NOCTTY),	   FLAG(O_TRUNC),    FLAG(O_APPEND),
    FLAG(O_NONBLOCK),  FLAG(O_SYNC),	FLAG(O_DSYNC),	   FLAG(O_ASYNC),    FLAG(O_DIRECT),
    FLAG(O_LARGEFILE), FLAG(O_TMPFILE), FLAG(O_DIRECTORY), FLAG(O_NOFOLLOW), FLAG(O_NOATIME),
    FLAG(O_CLOEXEC),   FLAG(O_PATH),
};

void flags_open(struct strbuf *sb, uint64_t flags)
{
	static const char *const acc[] = {"O_RDONLY", "O_WRONLY", "O_RDWR", "O_ACCMODE"};
	uint64_t rest = flags & ~(uint64_t)O_ACCMODE;

	sb_adds(sb, acc[flags & O_ACCMODE]);
	if (rest) {
		sb_addc(sb, '|');
		flags_render(sb, rest, open_flags, sizeof(open_flags) / sizeof(open_flags[0]));
	}
}

static const struct flag_name clone_flags[] = {
    FLAG(CLONE_VM),
    FLAG(CLONE_FS),
    FLAG(CLONE_FILES),
    FLAG(CLONE_SIGHAND),
    FLAG(CLONE_PIDFD),
    FLAG(CLONE_PTRACE),
    FLAG(CLONE_VFORK),
    FLAG(CLONE_PARENT),
    FLAG(CLONE_THREAD),
    FLAG(CLONE_NEWNS),
    FLAG(CLONE_SYSVSEM),
    FLAG(CLONE_SETTLS),
    FLAG(CLONE_PARENT_SETTID),
    FLAG(CLONE_CHILD_CLEARTID),
    FLAG(CLONE_DETACHED),
    FLAG(CLONE_UNTRACED),
    FLAG(CLONE_CHILD_SETTID),
    FLAG(CLONE_NEWCGROUP),
    FLAG(CLONE_NEWUTS),
    FLAG(CLONE_NEWIPC),
    FLAG(CLONE_NEWUSER),
    FLAG(CLONE_NEWPID),
    FLAG(CLONE_NEWNET),
    FLAG(CLONE_IO),
    {0x100000000ULL, "CLONE_CLEAR_SIGHAND"},
    {0x200000000ULL, "CLONE_INTO_CGROUP"},
};

void flags_clone(struct strbuf *sb, uint64_t flags)
{
	/* The low byte of clone(2)'s flags is the signal sent to the parent at exit. */
	flags_render(sb, flags & ~0xffULL, clone_flags,
		     sizeof(clone_flags) / sizeof(clone_flags[0]));
}

void flags_dirfd(struct strbuf *sb, int64_t dirfd)
{
	if ((int)dirfd == AT_FDCWD)
		sb_adds(sb, "AT_FDCWD");
	else
		sb_addf(sb, "%d", (int)dirfd);
}

static const struct flag_name at_flags[] = {
    FLAG(AT_SYMLINK_NOFOLLOW),
    FLAG(AT_EMPTY_PATH),
};

void flags_at(struct strbuf *sb, uint64_t flags)
{
	flags_render(sb, flags, at_flags, sizeof(at_flags) / sizeof(at_flags[0]));
}

static const struct flag_name accept4_flags[] = {
    FLAG(SOCK_NONBLOCK),
    FLAG(SOCK_CLOEXEC),
};

void flags_accept4(struct strbuf *sb, uint64_t flags)
{
	flags_render(sb, flags, accept4_flags, sizeof(accept4_flags) / sizeof(accept4_flags[0]));
}

const char *sock_type_name(unsigned type)
{
	switch (type) {
	case SOCK_STREAM:
		return "SOCK_STREAM";
	case SOCK_DGRAM:
		return "SOCK_DGRAM";
	case SOCK_RAW:
		return "SOCK_RAW";
	case SOCK_RDM:
		return "SOCK_RDM";
	case SOCK_SEQPACKET:
		return "SOCK_SEQPACKET";
	case SOCK_PACKET:
		return "SOCK_PACKET";
	default:
		return "SOCK_UNKNOWN";
	}
}

const char *errno_name(int err)
{
	static const char *const names[] = {
	    [EPERM] = "EPERM",
	    [ENOENT] = "ENOENT",
	    [ESRCH] = "ESRCH",
	    [EINTR] = "EINTR",
	    [EIO] = "EIO",
	    [ENXIO] = "ENXIO",
	    [E2BIG] = "E2BIG",
	    [ENOEXEC] = "ENOEXEC",
	    [EBADF] = "EBADF",
	    [ECHILD] = "ECHILD",
	    [EAGAIN] = "EAGAIN",
	    [ENOMEM] = "ENOMEM",
	    [EACCES] = "EACCES",
	    [EFAULT] = "EFAULT",
	    [EBUSY] = "EBUSY",
	    [EEXIST] = "EEXIST",
	    [EXDEV] = "EXDEV",
	    [ENODEV] = "ENODEV",
	    [ENOTDIR] = "ENOTDIR",
	    [EISDIR] = "EISDIR",
	    [EINVAL] = "EINVAL",
	    [ENFILE] = "ENFILE",
	    [EMFILE] = "EMFILE",
	    [ETXTBSY] = "ETXTBSY",
	    [EFBIG] = "EFBIG",
	    [ENOSPC] = "ENOSPC",
	    [EROFS] = "EROFS",
	    [EMLINK] = "EMLINK",
	    [EPIPE] = "EPIPE",
	    [ENAMETOOLONG] = "ENAMETOOLONG",
	    [ENOSYS] = "ENOSYS",
	    [ELOOP] = "ELOOP",
	    [ENOTSOCK] = "ENOTSOCK",
	    [EAFNOSUPPORT] = "EAFNOSUPPORT",
	    [EADDRINUSE] = "EADDRINUSE",
	    [EADDRNOTAVAIL] = "EADDRNOTAVAIL",
	    [ENETUNREACH] = "ENETUNREACH",
	    [ECONNABORTED] = "ECONNABORTED",
	    [ECONNRESET] = "ECONNRESET",
	    [EISCONN] = "EISCONN",
	    [ENOTCONN] = "ENOTCONN",
	    [ETIMEDOUT] = "ETIMEDOUT",
	    [ECONNREFUSED] = "ECONNREFUSED",
	    [EHOSTUNREACH] = "EHOSTUNREACH",
	    [EALREADY] = "EALREADY",
	    [EINPROGRESS] = "EINPROGRESS",
	    [EOPNOTSUPP] = "EOPNOTSUPP",
	};

	if (err <= 0 || (unsigned)err >= sizeof(names) / sizeof(names[0]))
		return NULL;
	return names[err];
}
