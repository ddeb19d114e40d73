/* The argument schema: names as the rule language uses them, every type's text and raw
 * value, and blobs that are short, cut, without their NUL or not UTF-8. */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <sys/un.h>

#include "evtargs.h"
#include "syscall_ids.h"
#include "syscalls.h"
#include "testlib.h"

static struct strbuf sb = STRBUF_INIT;

static struct event sys_ev(uint16_t nr, int64_t ret)
{
	struct event ev;

	memset(&ev, 0, sizeof(ev));
	ev.kind = SK_EV_SYSCALL;
	ev.nr = nr;
	ev.ret = ret;
	return ev;
}

static void set_blob(struct event *ev, int i, const void *p, size_t len)
{
	ev->blob[i].p = p;
	ev->blob[i].len = (uint32_t)len;
}

/* The text of argument name, or "<NA>" when unavailable, "<NOARG>" when there is none. */
static const char *arg(const struct event *ev, const char *name)
{
	int i = evtargs_index(ev->nr, name);

	sb_reset(&sb);
	if (i < 0)
		return "<NOARG>";
	if (evtargs_render(ev, i, &sb))
		return "<NA>";
	return sb.buf ? sb.buf : "";
}

static int64_t raw(const struct event *ev, const char *name, int *rc)
{
	uint64_t v = 0;

	*rc = evtargs_raw(ev, evtargs_index(ev->nr, name), &v);
	return (int64_t)v;
}

static const char *all(const struct event *ev)
{
	sb_reset(&sb);
	evtargs_render_all(ev, &sb);
	return sb.buf ? sb.buf : "";
}

static const char *res(const struct event *ev)
{
	sb_reset(&sb);
	evtargs_render_res(ev, &sb);
	return sb.buf;
}

TEST(schema_is_consistent)
{
	unsigned known = 0;

	for (unsigned nr = 0; nr < SK_NR_SYSCALLS; nr++) {
		const struct sk_blob_spec *spec = syscall_blob_spec(nr);
		unsigned n = evtargs_count(nr);

		if (!evtargs_known(nr)) {
			CHECK_EQ_INT(n, 0);
			/* Whatever has blobs is described. */
			CHECK(!spec->b[0].kind && !spec->b[1].kind);
			continue;
		}
		known++;
		CHECK(syscall_name(nr) != NULL);
		CHECK(n <= EVTARGS_MAX);
		for (unsigned i = 0; i < n; i++) {
			const char *name = evtargs_name(nr, (int)i);
			int type = evtargs_type(nr, (int)i), b = evtargs_blob(nr, (int)i);

			CHECK(name != NULL);
			/* Names are unique within a syscall, and found again by name. */
			CHECK_EQ_INT(evtargs_index(nr, name), (int)i);
			if (b < 0)
				continue;
			/* A value read from a blob names a blob the kernel side sends, of a kind
			 * that can hold it. */
			CHECK(b == 0 || b == 1);
			switch (type) {
			case EAT_PATH:
				CHECK_EQ_INT(spec->b[b].kind, SK_BK_STR);
				break;
			case EAT_ARGV:
				CHECK_EQ_INT(spec->b[b].kind, SK_BK_ARGV);
				break;
			case EAT_SOCKADDR:
				CHECK(spec->b[b].kind == SK_BK_SOCKADDR ||
				      spec->b[b].kind == SK_BK_SOCKADDR_OUT ||
				      spec->b[b].kind == SK_BK_MSG_NAME);
				break;
			case EAT_TUPLE:
				CHECK(spec->b[b].kind == SK_BK_TUPLE ||
				      spec->b[b].kind == SK_BK_TUPLE_RET);
				break;
			default:
				CHECK_EQ_INT(spec->b[b].kind, SK_BK_MEM);
			}
		}
		CHECK(evtargs_name(nr, (int)n) == NULL);
		CHECK_EQ_INT(evtargs_type(nr, (int)n), -1);
	}
	CHECK_EQ_INT(known, 74);
}

TEST(names_the_rules_use)
{
	/* Every evt.arg.X of the public rulesets (ruleset profile, section 5), on the
	 * syscalls those rules name. */
	static const struct {
		unsigned nr;
		const char *name;
	} uses[] = {
	    {SK_NR_bpf, "cmd"},		 {SK_NR_socket, "domain"},	 {SK_NR_fchmod, "fd"},
	    {SK_NR_execve, "filename"},	 {SK_NR_execveat, "filename"},	 {SK_NR_open, "flags"},
	    {SK_NR_openat, "flags"},	 {SK_NR_openat2, "flags"},	 {SK_NR_execve, "flags"},
	    {SK_NR_symlink, "linkpath"}, {SK_NR_symlinkat, "linkpath"}, {SK_NR_chmod, "mode"},
	    {SK_NR_fchmodat, "mode"},	 {SK_NR_open, "name"},		 {SK_NR_openat, "name"},
	    {SK_NR_unlinkat, "name"},	 {SK_NR_link, "newpath"},	 {SK_NR_linkat, "newpath"},
	    {SK_NR_rename, "oldpath"},	 {SK_NR_renameat2, "oldpath"},	 {SK_NR_unlink, "path"},
	    {SK_NR_rmdir, "path"},	 {SK_NR_mkdir, "path"},		 {SK_NR_mkdirat, "path"},
	    {SK_NR_ptrace, "request"},	 {SK_NR_symlink, "target"},	 {SK_NR_symlinkat, "target"},
	    {SK_NR_setuid, "uid"},	 {SK_NR_chmod, "filename"},	 {SK_NR_dup2, "oldfd"},
	};

	for (size_t i = 0; i < sizeof(uses) / sizeof(uses[0]); i++) {
		if (evtargs_index(uses[i].nr, uses[i].name) < 0)
			printf("# %s has no argument %s\n", syscall_name(uses[i].nr), uses[i].name);
		CHECK(evtargs_index(uses[i].nr, uses[i].name) >= 0);
	}
}

TEST(unknown_names_and_syscalls)
{
	struct event ev = sys_ev(SK_NR_openat, 3);
	uint64_t v;

	CHECK_EQ_INT(evtargs_index(SK_NR_openat, "nosuch"), -1);
	CHECK_EQ_INT(evtargs_index(SK_NR_openat, ""), -1);
	CHECK_EQ_INT(evtargs_index(SK_NR_openat, "Name"), -1); /* case matters */
	CHECK_EQ_INT(evtargs_index(110 /* getppid */, "fd"), -1);
	CHECK_EQ_INT(evtargs_index(60000, "fd"), -1);
	CHECK_EQ_INT(evtargs_count(110), 0);
	CHECK_EQ_INT(evtargs_count(60000), 0);
	CHECK(!evtargs_known(110));
	CHECK(evtargs_known(SK_NR_fork));
	CHECK_EQ_INT(evtargs_count(SK_NR_fork), 0);
	CHECK(evtargs_name(SK_NR_openat, -1) == NULL);
	CHECK(evtargs_name(SK_NR_openat, 100) == NULL);
	CHECK_EQ_INT(evtargs_render(&ev, -1, &sb), -1);
	CHECK_EQ_INT(evtargs_render(&ev, 99, &sb), -1);
	CHECK_EQ_INT(evtargs_raw(&ev, 99, &v), -1);
	/* Not a syscall event: nothing. */
	ev.kind = SK_EV_FORK;
	CHECK_EQ_STR(arg(&ev, "dirfd"), "<NA>");
	CHECK_EQ_STR(all(&ev), "");
	/* A syscall without a schema: evt.args is empty. */
	ev = sys_ev(110, 7);
	CHECK_EQ_STR(all(&ev), "");
}

TEST(numbers)
{
	struct event ev = sys_ev(SK_NR_kill, 0);
	int rc;

	/* An int argument is the low half of its register, sign-extended. */
	ev.args[0] = 0xdeadbeef00000000ULL | (uint32_t)-42;
	ev.args[1] = 9;
	CHECK_EQ_STR(arg(&ev, "pid"), "-42");
	CHECK_EQ_INT(raw(&ev, "pid", &rc), -42);
	CHECK_EQ_INT(rc, 0);
	CHECK_EQ_STR(arg(&ev, "sig"), "SIGKILL");
	CHECK_EQ_INT(raw(&ev, "sig", &rc), 9);
	ev.args[1] = 77;
	CHECK_EQ_STR(arg(&ev, "sig"), "77");

	/* fds likewise. */
	ev = sys_ev(SK_NR_close, 0);
	ev.args[0] = 0xffffffffULL;
	CHECK_EQ_STR(arg(&ev, "fd"), "-1");
	CHECK_EQ_INT(raw(&ev, "fd", &rc), -1);

	/* A 64-bit length. */
	ev = sys_ev(SK_NR_truncate, 0);
	ev.args[1] = (uint64_t)5000000000LL;
	CHECK_EQ_STR(arg(&ev, "length"), "5000000000");

	/* Sizes, unsigned. */
	ev = sys_ev(SK_NR_sendto, 10);
	ev.args[2] = 10;
	CHECK_EQ_STR(arg(&ev, "size"), "10");

	/* Ids: -1 means "unchanged". */
	ev = sys_ev(SK_NR_setresuid, 0);
	ev.args[0] = 0xffffffffULL;
	ev.args[1] = 0;
	ev.args[2] = 65534;
	CHECK_EQ_STR(arg(&ev, "ruid"), "-1");
	CHECK_EQ_INT(raw(&ev, "ruid", &rc), 0xffffffffLL);
	CHECK_EQ_STR(arg(&ev, "euid"), "0");
	CHECK_EQ_STR(arg(&ev, "suid"), "65534");
	CHECK_EQ_STR(all(&ev), "ruid=-1 euid=0 suid=65534");

	/* Pointers in hex. */
	ev = sys_ev(SK_NR_ptrace, 0);
	ev.args[2] = 0x7ffd1000;
	CHECK_EQ_STR(arg(&ev, "addr"), "0x7ffd1000");
}

TEST(modes)
{
	struct event ev = sys_ev(SK_NR_mkdir, 0);
	int rc;

	ev.args[1] = 0755;
	CHECK_EQ_STR(arg(&ev, "mode"), "0755");
	CHECK_EQ_INT(raw(&ev, "mode", &rc), 0755);
	ev.args[1] = 0;
	CHECK_EQ_STR(arg(&ev, "mode"), "0");
	ev.args[1] = 04711;
	CHECK_EQ_STR(arg(&ev, "mode"), "04711");
	ev = sys_ev(SK_NR_openat, 3);
	ev.args[3] = 0640;
	CHECK_EQ_STR(arg(&ev, "mode"), "0640");
	/* chmod's mode by name, so that "contains S_ISUID" works. */
	ev = sys_ev(SK_NR_fchmodat, 0);
	ev.args[2] = 06755;
	CHECK_EQ_STR(arg(&ev, "mode"), "S_ISUID|S_ISGID|S_IRUSR|S_IWUSR|S_IXUSR|S_IRGRP|S_IXGRP|"
				       "S_IROTH|S_IXOTH");
	CHECK_EQ_INT(raw(&ev, "mode", &rc), 06755);
	ev.args[2] = 0;
	CHECK_EQ_STR(arg(&ev, "mode"), "0");
}

TEST(flags_and_names)
{
	struct event ev = sys_ev(SK_NR_openat, 3);
	int rc;

	ev.args[0] = (uint64_t)-100;
	ev.args[2] = 01 | 0100 | 01000; /* O_WRONLY|O_CREAT|O_TRUNC */
	CHECK_EQ_STR(arg(&ev, "dirfd"), "AT_FDCWD");
	CHECK_EQ_STR(arg(&ev, "flags"), "O_WRONLY|O_CREAT|O_TRUNC");
	CHECK_EQ_INT(raw(&ev, "flags", &rc), 01101);
	CHECK_EQ_INT(raw(&ev, "dirfd", &rc), -100);
	ev.args[0] = 7;
	CHECK_EQ_STR(arg(&ev, "dirfd"), "7");

	ev = sys_ev(SK_NR_ptrace, 0);
	ev.args[0] = 0x4206;
	CHECK_EQ_STR(arg(&ev, "request"), "PTRACE_SEIZE");
	ev.args[0] = 0;
	CHECK_EQ_STR(arg(&ev, "request"), "PTRACE_TRACEME");
	ev.args[0] = 0x9999;
	CHECK_EQ_STR(arg(&ev, "request"), "39321");

	ev = sys_ev(SK_NR_socket, 3);
	ev.args[0] = 17;
	ev.args[1] = 3 | 02000000 | 04000;
	ev.args[2] = 768;
	CHECK_EQ_STR(arg(&ev, "domain"), "AF_PACKET");
	CHECK_EQ_STR(arg(&ev, "type"), "SOCK_RAW|SOCK_NONBLOCK|SOCK_CLOEXEC");
	CHECK_EQ_STR(arg(&ev, "proto"), "768");
	CHECK_EQ_STR(all(&ev), "domain=AF_PACKET type=SOCK_RAW|SOCK_NONBLOCK|SOCK_CLOEXEC proto=768");

	ev = sys_ev(SK_NR_bpf, 3);
	ev.args[0] = 5;
	CHECK_EQ_STR(arg(&ev, "cmd"), "BPF_PROG_LOAD");
	CHECK_EQ_INT(raw(&ev, "cmd", &rc), 5);

	ev = sys_ev(SK_NR_unshare, 0);
	ev.args[0] = 0x20000 | 0x10000000 | 0x80;
	CHECK_EQ_STR(arg(&ev, "flags"), "CLONE_NEWTIME|CLONE_NEWNS|CLONE_NEWUSER");

	ev = sys_ev(SK_NR_clone, 1234);
	ev.args[0] = 0x100 | 0x10000 | 17; /* CLONE_VM|CLONE_THREAD|SIGCHLD */
	CHECK_EQ_STR(arg(&ev, "flags"), "CLONE_VM|CLONE_THREAD");

	ev = sys_ev(SK_NR_mount, 0);
	ev.args[3] = 0xc0ed0000 | 4096 | 16384; /* the old magic, MS_BIND|MS_REC */
	CHECK_EQ_STR(arg(&ev, "flags"), "MS_BIND|MS_REC");

	ev = sys_ev(SK_NR_fcntl, 0);
	ev.args[1] = 1030;
	CHECK_EQ_STR(arg(&ev, "cmd"), "F_DUPFD_CLOEXEC");

	ev = sys_ev(SK_NR_unlinkat, 0);
	ev.args[2] = 0x200;
	CHECK_EQ_STR(arg(&ev, "flags"), "AT_REMOVEDIR");
	ev.args[2] = 0;
	CHECK_EQ_STR(arg(&ev, "flags"), "0");

	ev = sys_ev(SK_NR_memfd_create, 3);
	ev.args[1] = 1 | 2 | 0x80000000ULL;
	CHECK_EQ_STR(arg(&ev, "flags"), "MFD_CLOEXEC|MFD_ALLOW_SEALING|0x80000000");

	ev = sys_ev(SK_NR_sendmsg, 3);
	ev.args[2] = 0x40 | 0x4000;
	CHECK_EQ_STR(arg(&ev, "flags"), "MSG_DONTWAIT|MSG_NOSIGNAL");

	ev = sys_ev(SK_NR_renameat2, 0);
	ev.args[4] = 2;
	CHECK_EQ_STR(arg(&ev, "flags"), "RENAME_EXCHANGE");

	ev = sys_ev(SK_NR_prctl, 0);
	ev.args[0] = 15;
	CHECK_EQ_STR(arg(&ev, "option"), "PR_SET_NAME");
}

TEST(paths)
{
	struct event ev = sys_ev(SK_NR_openat, 3);
	static const char path[] = "/etc/passwd";

	ev.args[0] = (uint64_t)-100;
	set_blob(&ev, 0, path, sizeof(path));
	CHECK_EQ_STR(arg(&ev, "name"), "/etc/passwd");
	CHECK_EQ_STR(all(&ev), "dirfd=AT_FDCWD name=/etc/passwd flags=O_RDONLY mode=0");
	/* Text has no raw value. */
	{
		int rc;

		raw(&ev, "name", &rc);
		CHECK_EQ_INT(rc, -1);
	}
	/* Not sent (unreadable, or NULL): unavailable. */
	set_blob(&ev, 0, NULL, 0);
	CHECK_EQ_STR(arg(&ev, "name"), "<NA>");
	CHECK_EQ_STR(all(&ev), "dirfd=AT_FDCWD name=<NA> flags=O_RDONLY mode=0");

	/* Two paths, from both blobs. */
	ev = sys_ev(SK_NR_renameat2, 0);
	ev.args[0] = (uint64_t)-100;
	ev.args[2] = 4;
	set_blob(&ev, 0, "/a", 3);
	set_blob(&ev, 1, "/b", 3);
	CHECK_EQ_STR(arg(&ev, "oldpath"), "/a");
	CHECK_EQ_STR(arg(&ev, "newpath"), "/b");
	CHECK_EQ_STR(all(&ev), "olddirfd=AT_FDCWD oldpath=/a newdirfd=4 newpath=/b flags=0");

	ev = sys_ev(SK_NR_symlinkat, 0);
	ev.args[1] = (uint64_t)-100;
	set_blob(&ev, 0, "/etc/shadow", 12);
	set_blob(&ev, 1, "/tmp/l", 7);
	CHECK_EQ_STR(all(&ev), "target=/etc/shadow linkdirfd=AT_FDCWD linkpath=/tmp/l");
}

TEST(hostile_blobs)
{
	struct event ev = sys_ev(SK_NR_unlink, 0);
	static const char no_nul[] = {'/', 't', 'm', 'p'};
	static const char inner_nul[] = "/tmp\0/hidden";
	static const char bad_utf8[] = "/tmp/\xff\xfe\xc3(";
	static const uint8_t how8[8] = {1, 0, 0, 0, 0, 0, 0, 0};
	static const int32_t one_fd = 5;
	struct sk_sock_tuple t = {.family = AF_INET};

	/* Cut: no NUL of its own. The bytes there, no more. */
	set_blob(&ev, 0, no_nul, sizeof(no_nul));
	CHECK_EQ_STR(arg(&ev, "path"), "/tmp");
	CHECK_EQ_INT(sb.len, 4);
	/* A NUL inside ends the text there. */
	set_blob(&ev, 0, inner_nul, sizeof(inner_nul));
	CHECK_EQ_STR(arg(&ev, "path"), "/tmp");
	/* Not UTF-8: the bytes as they are (printing sanitizes, matching must not). */
	set_blob(&ev, 0, bad_utf8, sizeof(bad_utf8));
	CHECK_EQ_STR(arg(&ev, "path"), "/tmp/\xff\xfe\xc3(");
	/* One byte, just the NUL: an empty path, available. */
	set_blob(&ev, 0, "", 1);
	CHECK_EQ_STR(arg(&ev, "path"), "");

	/* A fixed-size blob that is short: its fields are unavailable, never read past. */
	ev = sys_ev(SK_NR_openat2, 3);
	set_blob(&ev, 1, how8, sizeof(how8));
	CHECK_EQ_STR(arg(&ev, "flags"), "O_WRONLY");
	CHECK_EQ_STR(arg(&ev, "mode"), "<NA>");
	CHECK_EQ_STR(arg(&ev, "resolve"), "<NA>");
	ev = sys_ev(SK_NR_pipe2, 0);
	set_blob(&ev, 0, &one_fd, sizeof(one_fd));
	CHECK_EQ_STR(arg(&ev, "fd1"), "5");
	CHECK_EQ_STR(arg(&ev, "fd2"), "<NA>");

	/* A tuple must be whole. */
	ev = sys_ev(SK_NR_listen, 0);
	set_blob(&ev, 1, &t, sizeof(t) - 1);
	CHECK_EQ_STR(arg(&ev, "tuple"), "<NA>");

	/* A blob index past the two (a corrupt table would be caught here). */
	ev = sys_ev(SK_NR_unlink, 0);
	ev.blob[0].p = NULL;
	ev.blob[0].len = 10; /* a length without data is no data */
	CHECK_EQ_STR(arg(&ev, "path"), "<NA>");
}

TEST(sockaddrs_and_tuples)
{
	struct event ev = sys_ev(SK_NR_connect, 0);
	struct sockaddr_in sin = {.sin_family = AF_INET, .sin_port = htons(443)};
	struct sockaddr_in6 sin6 = {.sin6_family = AF_INET6, .sin6_port = htons(22)};
	struct sockaddr_un sun = {.sun_family = AF_UNIX};
	struct sk_sock_tuple t = {.family = AF_INET, .type = 1, .sport = 40000, .dport = 443};
	uint8_t odd[4] = {42, 0, 1, 2};

	inet_pton(AF_INET, "10.1.2.3", &sin.sin_addr);
	ev.args[0] = 3;
	set_blob(&ev, 0, &sin, sizeof(sin));
	CHECK_EQ_STR(arg(&ev, "addr"), "10.1.2.3:443");
	inet_pton(AF_INET, "192.168.0.9", t.saddr);
	inet_pton(AF_INET, "10.1.2.3", t.daddr);
	set_blob(&ev, 1, &t, sizeof(t));
	CHECK_EQ_STR(arg(&ev, "tuple"), "192.168.0.9:40000->10.1.2.3:443");
	CHECK_EQ_STR(all(&ev), "fd=3 addr=10.1.2.3:443 tuple=192.168.0.9:40000->10.1.2.3:443");

	inet_pton(AF_INET6, "fe80::1", &sin6.sin6_addr);
	set_blob(&ev, 0, &sin6, sizeof(sin6));
	CHECK_EQ_STR(arg(&ev, "addr"), "[fe80::1]:22");
	t.family = AF_INET6;
	memset(t.saddr, 0, 16);
	t.saddr[15] = 1;
	memcpy(t.daddr, &sin6.sin6_addr, 16);
	CHECK_EQ_STR(arg(&ev, "tuple"), "[::1]:40000->[fe80::1]:443");

	strcpy(sun.sun_path, "/run/docker.sock");
	set_blob(&ev, 0, &sun, sizeof(sun.sun_family) + strlen(sun.sun_path) + 1);
	CHECK_EQ_STR(arg(&ev, "addr"), "unix:/run/docker.sock");
	memcpy(sun.sun_path, "\0abstract", 9);
	set_blob(&ev, 0, &sun, sizeof(sun.sun_family) + 9);
	CHECK_EQ_STR(arg(&ev, "addr"), "unix:@abstract");
	t.family = AF_UNIX;
	CHECK_EQ_STR(arg(&ev, "tuple"), "unix->unix");

	/* Short or unknown: what it holds, never past it. */
	set_blob(&ev, 0, &sin, 1);
	CHECK_EQ_STR(arg(&ev, "addr"), "<none>");
	set_blob(&ev, 0, &sin, 8);
	CHECK_EQ_STR(arg(&ev, "addr"), "family=2");
	set_blob(&ev, 0, odd, sizeof(odd));
	CHECK_EQ_STR(arg(&ev, "addr"), "family=42");

	/* A failed accept has neither peer nor tuple. */
	ev = sys_ev(SK_NR_accept4, -11);
	ev.args[3] = 02000000;
	CHECK_EQ_STR(all(&ev), "fd=0 addr=<NA> flags=SOCK_CLOEXEC tuple=<NA>");
}

TEST(fixed_blobs_and_exec)
{
	struct event ev = sys_ev(SK_NR_openat2, 3);
	uint64_t how[3] = {01 | 0100 | 02000000, 0600, 0x02};
	int32_t fds[2] = {3, 4};
	uint64_t cflags = 0x20000000 | 0x100; /* CLONE_NEWPID|CLONE_VM */
	struct sk_exec_ev x = {.exe_flags = SK_EXE_MEMFD | SK_EXE_UPPER};
	int rc;

	ev.args[0] = (uint64_t)-100;
	set_blob(&ev, 0, "/x", 3);
	set_blob(&ev, 1, how, sizeof(how));
	CHECK_EQ_STR(all(&ev), "dirfd=AT_FDCWD name=/x flags=O_WRONLY|O_CREAT|O_CLOEXEC mode=0600 "
			       "resolve=RESOLVE_NO_MAGICLINKS");
	CHECK_EQ_INT(raw(&ev, "mode", &rc), 0600);

	ev = sys_ev(SK_NR_socketpair, 0);
	ev.args[0] = 1;
	ev.args[1] = 1;
	set_blob(&ev, 0, fds, sizeof(fds));
	CHECK_EQ_STR(all(&ev), "domain=AF_UNIX type=SOCK_STREAM proto=0 fd1=3 fd2=4");
	CHECK_EQ_INT(raw(&ev, "fd2", &rc), 4);

	ev = sys_ev(SK_NR_clone3, 77);
	set_blob(&ev, 0, &cflags, sizeof(cflags));
	ev.args[1] = 88;
	CHECK_EQ_STR(all(&ev), "flags=CLONE_VM|CLONE_NEWPID size=88");

	/* execve: filename and argv on failure; flags are the exe flags of the exec record,
	 * when the caller attaches it. */
	ev = sys_ev(SK_NR_execve, -2);
	set_blob(&ev, 0, "/bin/nope", 10);
	set_blob(&ev, 1, "nope\0-x\0a b\0", 12);
	CHECK_EQ_STR(arg(&ev, "filename"), "/bin/nope");
	CHECK_EQ_STR(arg(&ev, "argv"), "nope -x a b");
	CHECK_EQ_STR(arg(&ev, "flags"), "<NA>");
	ev.exec = &x;
	CHECK_EQ_STR(arg(&ev, "flags"), "EXE_FROM_MEMFD|EXE_UPPER_LAYER");
	/* argv cut inside its last argument (no final NUL). */
	set_blob(&ev, 1, "sh\0-c\0ech", 9);
	CHECK_EQ_STR(arg(&ev, "argv"), "sh -c ech");
}

TEST(results)
{
	struct event ev = sys_ev(SK_NR_openat, 3);

	CHECK_EQ_STR(res(&ev), "SUCCESS");
	CHECK(!evtargs_failed(&ev));
	ev.ret = 0;
	CHECK_EQ_STR(res(&ev), "SUCCESS");
	ev.ret = -2;
	CHECK_EQ_STR(res(&ev), "ENOENT");
	CHECK(evtargs_failed(&ev));
	ev.ret = -115;
	CHECK_EQ_STR(res(&ev), "EINPROGRESS");
	ev.ret = -512;
	CHECK_EQ_STR(res(&ev), "ERESTARTSYS");
	ev.ret = -600; /* an error without a name */
	CHECK_EQ_STR(res(&ev), "-600");
	ev.ret = -4095;
	CHECK(evtargs_failed(&ev));
	ev.ret = -4096; /* no error is that large: a value */
	CHECK_EQ_STR(res(&ev), "SUCCESS");
	CHECK(!evtargs_failed(&ev));
	CHECK_EQ_STR(errno_name(1), "EPERM");
	CHECK_EQ_STR(errno_name(133), "EHWPOISON");
	CHECK_EQ_STR(errno_name(11), "EAGAIN");
	CHECK(errno_name(520) == NULL);
}

int main(void)
{
	RUN(schema_is_consistent);
	RUN(names_the_rules_use);
	RUN(unknown_names_and_syscalls);
	RUN(numbers);
	RUN(modes);
	RUN(flags_and_names);
	RUN(paths);
	RUN(hostile_blobs);
	RUN(sockaddrs_and_tuples);
	RUN(fixed_blobs_and_exec);
	RUN(results);
	sb_release(&sb);
	return tap_done();
}
