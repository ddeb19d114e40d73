#include "evtargs.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <string.h>
#include <sys/socket.h>

#include "blobs.h"
#include "syscall_ids.h"

/* Where a value is. */
enum arg_src {
	SRC_REG,   /* args[idx] */
	SRC_BLOB,  /* blob idx as a whole */
	SRC_B64,   /* the u64 at byte off of blob idx (open_how, clone_args) */
	SRC_B32,   /* the s32 at byte off of blob idx (fd pairs) */
	SRC_EXEC,  /* exe_flags of ev->exec, when the caller has attached the exec record */
};

struct argdef {
	const char *name;
	uint8_t type;  /* enum evtarg_type */
	uint8_t src;   /* enum arg_src */
	uint8_t idx;   /* register or blob */
	uint8_t off;   /* byte offset in a fixed-size blob */
	uint8_t table; /* enum flag_set (EAT_FLAGS) or enum name_set (EAT_ENUM) */
};

struct scdef {
	bool known;
	struct argdef a[EVTARGS_MAX];
};

/* Shorthands: a register of a plain type, of a named type, a blob, a blob field. */
#define R(n, t, r)	    {n, EAT_##t, SRC_REG, r, 0, 0}
#define RF(n, r, set)	    {n, EAT_FLAGS, SRC_REG, r, 0, FLAGS_##set}
#define RE(n, r, set)	    {n, EAT_ENUM, SRC_REG, r, 0, NAMES_##set}
#define B(n, t, b)	    {n, EAT_##t, SRC_BLOB, b, 0, 0}
#define B64(n, t, b, o, s)  {n, EAT_##t, SRC_B64, b, o, s}
#define B32(n, t, b, o)	    {n, EAT_##t, SRC_B32, b, o, 0}
#define EXEFLAGS	    {"flags", EAT_FLAGS, SRC_EXEC, 0, 0, FLAGS_EXE}
#define SC(name, ...)	    [SK_NR_##name] = {true, {__VA_ARGS__}}

/*
 * Names follow the rule language's (Falco's event table) where it has the syscall, so that
 * rules written for it find their arguments: open's path is "name", chmod's "filename",
 * unlinkat's "name", symlink's "target" and "linkpath". Arguments only a pointer would
 * show (buffers) are left out; the result is evt.res/evt.rawres, not an argument.
 */
static const struct scdef defs[SK_NR_SYSCALLS] = {
    /* the open family */
    SC(open, B("name", PATH, 0), RF("flags", 1, OPEN), R("mode", MODE, 2)),
    SC(creat, B("name", PATH, 0), R("mode", MODE, 1)),
    SC(openat, R("dirfd", DIRFD, 0), B("name", PATH, 0), RF("flags", 2, OPEN),
       R("mode", MODE, 3)),
    SC(openat2, R("dirfd", DIRFD, 0), B("name", PATH, 0), B64("flags", FLAGS, 1, 0, FLAGS_OPEN),
       B64("mode", MODE, 1, 8, 0), B64("resolve", FLAGS, 1, 16, FLAGS_RESOLVE)),
    SC(close, R("fd", FD, 0)),
    SC(dup, R("oldfd", FD, 0)),
    SC(dup2, R("oldfd", FD, 0), R("newfd", FD, 1)),
    SC(dup3, R("oldfd", FD, 0), R("newfd", FD, 1), RF("flags", 2, PIPE2)),
    SC(fcntl, R("fd", FD, 0), RE("cmd", 1, FCNTL), R("arg", HEX, 2)),
    /* paths */
    SC(chdir, B("path", PATH, 0)),
    SC(fchdir, R("fd", FD, 0)),
    SC(chroot, B("path", PATH, 0)),
    SC(mkdir, B("path", PATH, 0), R("mode", MODE, 1)),
    SC(mkdirat, R("dirfd", DIRFD, 0), B("path", PATH, 0), R("mode", MODE, 2)),
    SC(rmdir, B("path", PATH, 0)),
    SC(unlink, B("path", PATH, 0)),
    SC(unlinkat, R("dirfd", DIRFD, 0), B("name", PATH, 0), RF("flags", 2, AT)),
    SC(rename, B("oldpath", PATH, 0), B("newpath", PATH, 1)),
    SC(renameat, R("olddirfd", DIRFD, 0), B("oldpath", PATH, 0), R("newdirfd", DIRFD, 2),
       B("newpath", PATH, 1)),
    SC(renameat2, R("olddirfd", DIRFD, 0), B("oldpath", PATH, 0), R("newdirfd", DIRFD, 2),
       B("newpath", PATH, 1), RF("flags", 4, RENAME)),
    SC(link, B("oldpath", PATH, 0), B("newpath", PATH, 1)),
    SC(linkat, R("olddir", DIRFD, 0), B("oldpath", PATH, 0), R("newdir", DIRFD, 2),
       B("newpath", PATH, 1), RF("flags", 4, AT)),
    SC(symlink, B("target", PATH, 0), B("linkpath", PATH, 1)),
    SC(symlinkat, B("target", PATH, 0), R("linkdirfd", DIRFD, 1), B("linkpath", PATH, 1)),
    SC(chmod, B("filename", PATH, 0), RF("mode", 1, MODE)),
    SC(fchmod, R("fd", FD, 0), RF("mode", 1, MODE)),
    SC(fchmodat, R("dirfd", DIRFD, 0), B("filename", PATH, 0), RF("mode", 2, MODE)),
    SC(chown, B("path", PATH, 0), R("uid", UID, 1), R("gid", UID, 2)),
    SC(lchown, B("path", PATH, 0), R("uid", UID, 1), R("gid", UID, 2)),
    SC(fchown, R("fd", FD, 0), R("uid", UID, 1), R("gid", UID, 2)),
    SC(fchownat, R("dirfd", DIRFD, 0), B("pathname", PATH, 0), R("uid", UID, 2),
       R("gid", UID, 3), RF("flags", 4, AT)),
    SC(truncate, B("path", PATH, 0), R("length", LONG, 1)),
    SC(mount, B("dev", PATH, 0), B("dir", PATH, 1), RF("flags", 3, MOUNT)),
    SC(umount2, B("name", PATH, 0), RF("flags", 1, UMOUNT)),
    SC(memfd_create, B("name", PATH, 0), RF("flags", 1, MEMFD)),
    /* processes */
    SC(execve, B("filename", PATH, 0), B("argv", ARGV, 1), EXEFLAGS),
    SC(execveat, R("dirfd", DIRFD, 0), B("filename", PATH, 0), B("argv", ARGV, 1),
       RF("atflags", 4, AT), EXEFLAGS),
    SC(clone, RF("flags", 0, CLONE)),
    SC(clone3, B64("flags", FLAGS, 0, 0, FLAGS_CLONE), R("size", UINT, 1)),
    SC(fork),
    SC(vfork),
    SC(kill, R("pid", INT, 0), RE("sig", 1, SIGNAL)),
    SC(tkill, R("tid", INT, 0), RE("sig", 1, SIGNAL)),
    SC(tgkill, R("pid", INT, 0), R("tid", INT, 1), RE("sig", 2, SIGNAL)),
    SC(ptrace, RE("request", 0, PTRACE), R("pid", INT, 1), R("addr", HEX, 2), R("data", HEX, 3)),
    SC(prctl, RE("option", 0, PRCTL), R("arg2", HEX, 1)),
    SC(setns, R("fd", FD, 0), RF("nstype", 1, NS)),
    SC(unshare, RF("flags", 0, NS)),
    /* credentials */
    SC(setuid, R("uid", UID, 0)),
    SC(setgid, R("gid", UID, 0)),
    SC(setreuid, R("ruid", UID, 0), R("euid", UID, 1)),
    SC(setregid, R("rgid", UID, 0), R("egid", UID, 1)),
    SC(setresuid, R("ruid", UID, 0), R("euid", UID, 1), R("suid", UID, 2)),
    SC(setresgid, R("rgid", UID, 0), R("egid", UID, 1), R("sgid", UID, 2)),
    SC(capset, R("header", HEX, 0), R("data", HEX, 1)),
    /* the kernel */
    SC(init_module, R("img", HEX, 0), R("length", UINT, 1), R("uargs", HEX, 2)),
    SC(finit_module, R("fd", FD, 0), R("uargs", HEX, 1), RF("flags", 2, FINIT_MODULE)),
    SC(bpf, RE("cmd", 0, BPF), R("attr", HEX, 1), R("size", UINT, 2)),
    SC(userfaultfd, RF("flags", 0, USERFAULTFD)),
    SC(eventfd, R("initval", UINT, 0)),
    SC(eventfd2, R("initval", UINT, 0), RF("flags", 1, EVENTFD)),
    /* sockets and pipes */
    SC(socket, RE("domain", 0, AF), RF("type", 1, SOCK_TYPE), R("proto", INT, 2)),
    SC(socketpair, RE("domain", 0, AF), RF("type", 1, SOCK_TYPE), R("proto", INT, 2),
       B32("fd1", FD, 0, 0), B32("fd2", FD, 0, 4)),
    SC(connect, R("fd", FD, 0), B("addr", SOCKADDR, 0), B("tuple", TUPLE, 1)),
    SC(accept, R("fd", FD, 0), B("addr", SOCKADDR, 0), B("tuple", TUPLE, 1)),
    SC(accept4, R("fd", FD, 0), B("addr", SOCKADDR, 0), RF("flags", 3, SOCK),
       B("tuple", TUPLE, 1)),
    SC(bind, R("fd", FD, 0), B("addr", SOCKADDR, 0), B("tuple", TUPLE, 1)),
    SC(listen, R("fd", FD, 0), R("backlog", INT, 1), B("tuple", TUPLE, 1)),
    SC(sendto, R("fd", FD, 0), R("size", UINT, 2), RF("flags", 3, MSG), B("addr", SOCKADDR, 0),
       B("tuple", TUPLE, 1)),
    SC(recvfrom, R("fd", FD, 0), R("size", UINT, 2), RF("flags", 3, MSG),
       B("addr", SOCKADDR, 0), B("tuple", TUPLE, 1)),
    SC(sendmsg, R("fd", FD, 0), RF("flags", 2, MSG), B("addr", SOCKADDR, 0),
       B("tuple", TUPLE, 1)),
    SC(recvmsg, R("fd", FD, 0), RF("flags", 2, MSG), B("addr", SOCKADDR, 0),
       B("tuple", TUPLE, 1)),
    SC(pipe, B32("fd1", FD, 0, 0), B32("fd2", FD, 0, 4)),
    SC(pipe2, B32("fd1", FD, 0, 0), B32("fd2", FD, 0, 4), RF("flags", 1, PIPE2)),
};

static const struct argdef *arg_get(unsigned nr, int idx)
{
	if (nr >= SK_NR_SYSCALLS || idx < 0 || idx >= EVTARGS_MAX || !defs[nr].a[idx].name)
		return NULL;
	return &defs[nr].a[idx];
}

bool evtargs_known(unsigned nr)
{
	return nr < SK_NR_SYSCALLS && defs[nr].known;
}

unsigned evtargs_count(unsigned nr)
{
	unsigned n = 0;

	if (nr >= SK_NR_SYSCALLS)
		return 0;
	while (n < EVTARGS_MAX && defs[nr].a[n].name)
		n++;
	return n;
}

int evtargs_index(unsigned nr, const char *name)
{
	unsigned n = evtargs_count(nr);

	for (unsigned i = 0; i < n; i++)
		if (strcmp(defs[nr].a[i].name, name) == 0)
			return (int)i;
	return -1;
}

const char *evtargs_name(unsigned nr, int idx)
{
	const struct argdef *a = arg_get(nr, idx);

	return a ? a->name : NULL;
}

int evtargs_type(unsigned nr, int idx)
{
	const struct argdef *a = arg_get(nr, idx);

	return a ? a->type : -1;
}

int evtargs_blob(unsigned nr, int idx)
{
	const struct argdef *a = arg_get(nr, idx);

	return a && a->src != SRC_REG && a->src != SRC_EXEC ? a->idx : -1;
}

/* The blob an argument names, or NULL when the event did not carry it. */
static const struct blob *arg_blob(const struct event *ev, const struct argdef *a)
{
	const struct blob *b;

	if (a->idx > 1)
		return NULL;
	b = &ev->blob[a->idx];
	return b->len && b->p ? b : NULL;
}

/* The raw 64-bit value of a numeric argument; -1 when it is not there. */
static int arg_value(const struct event *ev, const struct argdef *a, uint64_t *v)
{
	const struct blob *b;

	switch (a->src) {
	case SRC_REG:
		if (a->idx > 5)
			return -1;
		*v = ev->args[a->idx];
		return 0;
	case SRC_B64: {
		uint64_t x;

		b = arg_blob(ev, a);
		if (!b || b->len < (uint32_t)a->off + sizeof(x))
			return -1;
		memcpy(&x, b->p + a->off, sizeof(x));
		*v = x;
		return 0;
	}
	case SRC_B32: {
		int32_t x;

		b = arg_blob(ev, a);
		if (!b || b->len < (uint32_t)a->off + sizeof(x))
			return -1;
		memcpy(&x, b->p + a->off, sizeof(x));
		*v = (uint64_t)(int64_t)x;
		return 0;
	}
	case SRC_EXEC:
		if (!ev->exec)
			return -1;
		*v = ev->exec->exe_flags;
		return 0;
	default:
		return -1;
	}
}

/* The numeric types, normalized: 32-bit C types (fds, ids, ints) are cut to their width,
 * sign-extended where signed. */
static bool is_numeric(uint8_t type)
{
	return type != EAT_PATH && type != EAT_SOCKADDR && type != EAT_TUPLE && type != EAT_ARGV;
}

static uint64_t normalize(uint8_t type, uint64_t v)
{
	switch (type) {
	case EAT_FD:
	case EAT_DIRFD:
		return (uint64_t)(int64_t)(int32_t)(uint32_t)v;
	case EAT_INT:
		/* The kernel reads an int argument from the low half of its register. */
		return (uint64_t)(int64_t)(int32_t)(uint32_t)v;
	case EAT_UID:
	case EAT_MODE:
		return (uint32_t)v;
	default:
		return v;
	}
}

int evtargs_raw(const struct event *ev, int idx, uint64_t *val)
{
	const struct argdef *a = arg_get(ev->nr, idx);
	uint64_t v;

	if (!a || ev->kind != SK_EV_SYSCALL || !is_numeric(a->type) || arg_value(ev, a, &v))
		return -1;
	*val = normalize(a->type, v);
	return 0;
}

void evtargs_sockaddr(struct strbuf *out, const uint8_t *p, size_t len)
{
	uint16_t family;
	char ip[INET6_ADDRSTRLEN];

	if (len < sizeof(family)) {
		sb_adds(out, "<none>");
		return;
	}
	memcpy(&family, p, sizeof(family));
	if (family == AF_INET && len >= sizeof(struct sockaddr_in)) {
		struct sockaddr_in sin;

		memcpy(&sin, p, sizeof(sin));
		inet_ntop(AF_INET, &sin.sin_addr, ip, sizeof(ip));
		sb_addf(out, "%s:%u", ip, ntohs(sin.sin_port));
	} else if (family == AF_INET6 && len >= sizeof(struct sockaddr_in6)) {
		struct sockaddr_in6 sin6;

		memcpy(&sin6, p, sizeof(sin6));
		inet_ntop(AF_INET6, &sin6.sin6_addr, ip, sizeof(ip));
		sb_addf(out, "[%s]:%u", ip, ntohs(sin6.sin6_port));
	} else if (family == AF_UNIX) {
		const uint8_t *path = p + sizeof(family);
		size_t n = len - sizeof(family);

		sb_adds(out, "unix:");
		/* An abstract socket's name starts with a NUL byte: shown with a leading '@'. */
		if (n && path[0] == '\0') {
			sb_addc(out, '@');
			path++;
			n--;
		} else {
			n = strnlen((const char *)path, n);
		}
		sb_add(out, path, n);
	} else {
		sb_addf(out, "family=%u", family);
	}
}

void evtargs_tuple_end(struct strbuf *out, const struct sk_sock_tuple *t, bool local)
{
	char ip[INET6_ADDRSTRLEN];
	const uint8_t *addr = local ? t->saddr : t->daddr;
	unsigned port = local ? t->sport : t->dport;

	if (t->family == AF_INET) {
		inet_ntop(AF_INET, addr, ip, sizeof(ip));
		sb_addf(out, "%s:%u", ip, port);
	} else if (t->family == AF_INET6) {
		inet_ntop(AF_INET6, addr, ip, sizeof(ip));
		sb_addf(out, "[%s]:%u", ip, port);
	} else if (t->family == AF_UNIX) {
		sb_adds(out, "unix");
	} else {
		sb_addf(out, "family=%u", t->family);
	}
}

/* Text blobs: up to the first NUL (the kernel side counts the terminator; a hostile or cut
 * blob may have none). */
static void render_path(struct strbuf *out, const struct blob *b)
{
	const uint8_t *nul = memchr(b->p, '\0', b->len);

	sb_add(out, b->p, nul ? (size_t)(nul - b->p) : b->len);
}

static void render_argv(struct strbuf *out, const struct blob *b)
{
	size_t off = 0;

	while (off < b->len) {
		const uint8_t *nul = memchr(b->p + off, '\0', b->len - off);
		size_t n = nul ? (size_t)(nul - (b->p + off)) : b->len - off;

		if (off)
			sb_addc(out, ' ');
		sb_add(out, b->p + off, n);
		off += n + 1;
	}
}

static int render_text(const struct event *ev, const struct argdef *a, struct strbuf *out)
{
	const struct blob *b = arg_blob(ev, a);

	if (a->src != SRC_BLOB || !b)
		return -1;
	switch (a->type) {
	case EAT_PATH:
		render_path(out, b);
		return 0;
	case EAT_ARGV:
		render_argv(out, b);
		return 0;
	case EAT_SOCKADDR:
		evtargs_sockaddr(out, b->p, b->len);
		return 0;
	case EAT_TUPLE: {
		struct sk_sock_tuple t;

		if (b->len != sizeof(t))
			return -1;
		memcpy(&t, b->p, sizeof(t));
		evtargs_tuple_end(out, &t, true);
		sb_adds(out, "->");
		evtargs_tuple_end(out, &t, false);
		return 0;
	}
	default:
		return -1;
	}
}

int evtargs_render(const struct event *ev, int idx, struct strbuf *out)
{
	const struct argdef *a = arg_get(ev->nr, idx);
	uint64_t v;

	if (!a || ev->kind != SK_EV_SYSCALL)
		return -1;
	if (!is_numeric(a->type))
		return render_text(ev, a, out);
	if (arg_value(ev, a, &v))
		return -1;
	v = normalize(a->type, v);
	switch (a->type) {
	case EAT_FD:
	case EAT_INT:
	case EAT_LONG:
		sb_addf(out, "%lld", (long long)v);
		break;
	case EAT_DIRFD:
		flags_dirfd(out, (int64_t)v);
		break;
	case EAT_UID:
		if (v == UINT32_MAX)
			sb_adds(out, "-1");
		else
			sb_addf(out, "%llu", (unsigned long long)v);
		break;
	case EAT_UINT:
		sb_addf(out, "%llu", (unsigned long long)v);
		break;
	case EAT_MODE:
		/* Octal with its leading 0, as chmod(1) and ls take it: 0755; "0" alone. */
		if (v & 07777)
			sb_addf(out, "0%llo", (unsigned long long)(v & 07777));
		else
			sb_addc(out, '0');
		break;
	case EAT_HEX:
		sb_addf(out, "0x%llx", (unsigned long long)v);
		break;
	case EAT_FLAGS:
		flags_render(out, a->table, v);
		break;
	case EAT_ENUM:
		flags_render_name(out, a->table, v);
		break;
	default:
		return -1;
	}
	return 0;
}

void evtargs_render_all(const struct event *ev, struct strbuf *out)
{
	unsigned n = ev->kind == SK_EV_SYSCALL ? evtargs_count(ev->nr) : 0;

	for (unsigned i = 0; i < n; i++) {
		if (i)
			sb_addc(out, ' ');
		sb_adds(out, defs[ev->nr].a[i].name);
		sb_addc(out, '=');
		if (evtargs_render(ev, (int)i, out))
			sb_adds(out, "<NA>");
	}
}

bool evtargs_failed(const struct event *ev)
{
	return ev->ret < 0 && ev->ret >= -4095;
}

void evtargs_render_res(const struct event *ev, struct strbuf *out)
{
	const char *name;

	if (!evtargs_failed(ev)) {
		sb_adds(out, "SUCCESS");
		return;
	}
	name = errno_name((int)-ev->ret);
	if (name)
		sb_adds(out, name);
	else
		sb_addf(out, "%lld", (long long)ev->ret);
}
