/* The state: synthetic events through state_pre/state_post, checked on the tables and on
 * the event context the rules read; seeding from /proc; random event streams. */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/bpf.h>
#include <netinet/in.h>
#include <sched.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "state.h"
#include "testlib.h"

enum {
#define SYSCALL(id, name) NR_##name = id,
#include "syscalls.def"
#undef SYSCALL
};

static struct event sc(uint16_t nr, uint32_t pid, uint32_t tid, int64_t ret)
{
	struct event ev;

	memset(&ev, 0, sizeof(ev));
	ev.kind = SK_EV_SYSCALL;
	ev.pid = pid;
	ev.tid = tid;
	ev.nr = nr;
	ev.ret = ret;
	ev.ts_ns = 1000;
	return ev;
}

static void blob_s(struct blob *b, const char *s)
{
	b->p = (const uint8_t *)s;
	b->len = (uint32_t)strlen(s) + 1;
}

static void blob_m(struct blob *b, const void *p, size_t len)
{
	b->p = p;
	b->len = (uint32_t)len;
}

static struct sk_fork_ev fork_rec;
static struct sk_exec_ev exec_rec;
static struct sk_exit_ev exit_rec;

static void do_fork(struct state *st, uint32_t ppid, uint32_t ptid, uint32_t cpid, uint32_t ctid,
		    bool thread, uint64_t start)
{
	struct event ev;

	memset(&ev, 0, sizeof(ev));
	memset(&fork_rec, 0, sizeof(fork_rec));
	ev.kind = SK_EV_FORK;
	ev.pid = ppid;
	ev.tid = ptid;
	ev.fork = &fork_rec;
	fork_rec.child_pid = cpid;
	fork_rec.child_tid = ctid;
	fork_rec.child_ppid = thread ? 0 : ppid;
	fork_rec.flags = thread ? SK_FORK_THREAD : 0;
	fork_rec.child_start_ns = start;
	strcpy(fork_rec.comm, "forked");
	state_apply(st, &ev);
}

static uint64_t exec_cgroup_id = 77; /* the cgroup id do_exec's records carry */

static void do_exec(struct state *st, uint32_t pid, uint32_t old_tid, uint32_t ppid,
		    const char *filename, const void *argv, size_t argv_len, uint64_t start)
{
	struct event ev;

	memset(&ev, 0, sizeof(ev));
	memset(&exec_rec, 0, sizeof(exec_rec));
	ev.kind = SK_EV_EXEC;
	ev.pid = ev.tid = pid;
	ev.exec = &exec_rec;
	exec_rec.old_tid = old_tid;
	exec_rec.ppid = ppid;
	exec_rec.uid = 1000;
	exec_rec.gid = 1000;
	exec_rec.euid = 0; /* a setuid binary */
	exec_rec.egid = 1000;
	exec_rec.loginuid = 1000;
	exec_rec.start_ns = start;
	exec_rec.cgroup_id = exec_cgroup_id;
	strcpy(exec_rec.comm, "newimage");
#if SK_ABI_VERSION >= 2
	exec_rec.vpid = pid;
	exec_rec.sid = 5;
	exec_rec.cap_effective = 0x3;
	exec_rec.cap_permitted = 0x3;
	exec_rec.exe_ino = 4242;
	exec_rec.exe_flags = SK_EXE_UPPER;
#endif
	ev.filename.p = (const uint8_t *)filename;
	ev.filename.len = (uint32_t)strlen(filename) + 1;
	ev.argv.p = argv;
	ev.argv.len = (uint32_t)argv_len;
	state_apply(st, &ev);
}

static void do_exit(struct state *st, uint32_t pid, uint32_t tid, bool group_dead,
		    uint32_t *seen_pid)
{
	static struct event ev;
	struct evctx cx;

	memset(&ev, 0, sizeof(ev));
	ev.kind = SK_EV_EXIT;
	ev.pid = pid;
	ev.tid = tid;
	ev.exit = &exit_rec;
	exit_rec.flags = group_dead ? SK_EXIT_GROUP_DEAD : 0;
	state_pre(st, &ev, &cx);
	if (seen_pid)
		*seen_pid = cx.proc ? cx.proc->pid : 0;
	state_post(st, &cx);
}

/* A process 10 (cwd /home/u) with fds 0-2 on /dev/pts/0, and its parent 1. */
static struct state *world(void)
{
	struct state *st = state_new(1000);
	struct proc_table *t = state_procs(st);
	struct proc *init = proc_table_upsert(t, 1), *p = proc_table_upsert(t, 10);

	init->start_ns = 1;
	init->vpid = 1;
	proc_set_str(&init->exe, "/sbin/init", 10);
	strcpy(init->comm, "systemd");
	p->start_ns = 100;
	p->vpid = 10;
	strcpy(p->comm, "bash");
	proc_set_str(&p->exe, "-bash", 5);
	proc_set_str(&p->exepath, "/usr/bin/bash", 13);
	proc_set_str(&p->cwd, "/home/u", 7);
	proc_table_set_ppid(t, p, 1);
	for (int fd = 0; fd < 3; fd++) {
		struct fdinfo *fi = fd_table_add(&p->fds, fd, FD_FILE, false);

		fdinfo_set_name(fi, "/dev/pts/0", 10);
	}
	return st;
}

static struct proc *P(struct state *st, uint32_t pid)
{
	return proc_table_get(state_procs(st), pid);
}

TEST(fork_exec_exit)
{
	struct state *st = world();
	struct proc *c, *parent = P(st, 10);
	struct event ev;
	struct evctx cx;
	static const char argv[] = "ls\0-l\0/tmp\0";

	fd_table_add(&parent->fds, 5, FD_PIPE, true);
	do_fork(st, 10, 10, 11, 11, false, 200);
	c = P(st, 11);
	CHECK(c != NULL);
	if (!c)
		goto out;
	CHECK_EQ_INT(c->ppid, 10);
	CHECK(proc_table_parent(state_procs(st), c) == parent);
	CHECK_EQ_STR(c->comm, "forked");
	CHECK_EQ_STR(c->exe, "-bash"); /* inherited until exec */
	CHECK_EQ_STR(c->cwd, "/home/u");
	CHECK_EQ_INT(c->start_ns, 200);
	CHECK(fd_table_get(&c->fds, 0) == fd_table_get(&parent->fds, 0)); /* shared */
	CHECK(fd_table_get(&c->fds, 5) != NULL);
	CHECK_EQ_INT(c->vpid, 11); /* the parent is in the initial namespace */
	/* The clone's exit in the parent confirms the child's pid as the parent sees it. */
	ev = sc(NR_clone, 10, 10, 11);
	state_apply(st, &ev);
	CHECK_EQ_INT(c->vpid, 11);

	do_exec(st, 11, 11, 10, "bin/../bin/ls", argv, sizeof(argv) - 1, 200);
	c = P(st, 11);
	CHECK_EQ_STR(c->comm, "newimage");
	CHECK_EQ_STR(c->exe, "ls");
	CHECK_EQ_STR(c->filename, "bin/../bin/ls");
	CHECK_EQ_STR(c->exepath, "/home/u/bin/ls");
	CHECK_EQ_INT(c->args_len, sizeof(argv) - 1);
	CHECK(c->uid == 1000 && c->euid == 0 && c->suid == 0 && c->loginuid == 1000);
	CHECK_EQ_INT(c->cgroup_id, 77);
	CHECK(c->flags & PROC_EXECED);
	CHECK(fd_table_get(&c->fds, 5) == NULL);      /* close-on-exec */
	CHECK(fd_table_get(&parent->fds, 5) != NULL); /* not in the parent */
	CHECK(fd_table_get(&c->fds, 1) != NULL);
#if SK_ABI_VERSION >= 2
	CHECK(c->sid == 5 && c->cap_effective == 3 && c->exe_ino == 4242 &&
	      (c->exe_flags & PROC_EXE_UPPER) && (c->flags & PROC_CAPS_KNOWN) &&
	      (c->flags & PROC_EXE_KNOWN));
#else
	CHECK(!(c->flags & PROC_CAPS_KNOWN) && !(c->flags & PROC_EXE_KNOWN));
#endif
	/* The execve syscall record after it sees the new image. */
	ev = sc(NR_execve, 11, 11, 0);
	state_pre(st, &ev, &cx);
	CHECK(cx.proc == c && !strcmp(cx.proc->exe, "ls"));
	CHECK(evctx_ancestor(&cx, 1) == parent && evctx_ancestor(&cx, 2) == P(st, 1));
	CHECK(evctx_ancestor(&cx, 3) == NULL);
	state_post(st, &cx);

	/* A grandchild, then the child exits: the grandchild goes to init. */
	do_fork(st, 11, 11, 12, 12, false, 300);
	{
		uint32_t seen = 0;

		do_exit(st, 11, 11, true, &seen);
		CHECK_EQ_INT(seen, 11); /* seen before removal */
	}
	CHECK(P(st, 11) == NULL);
	CHECK(P(st, 12) && P(st, 12)->ppid == 1 &&
	      proc_table_parent(state_procs(st), P(st, 12)) == P(st, 1));
	CHECK(proc_table_thread(state_procs(st), 11) == NULL);
out:
	state_free(st);
}

TEST(exit_context_sees_process)
{
	struct state *st = world();
	struct event ev;
	struct evctx cx;

	memset(&ev, 0, sizeof(ev));
	ev.kind = SK_EV_EXIT;
	ev.pid = ev.tid = 10;
	ev.exit = &exit_rec;
	exit_rec.flags = SK_EXIT_GROUP_DEAD;
	state_pre(st, &ev, &cx);
	CHECK(cx.proc && cx.proc->pid == 10 && !strcmp(cx.proc->comm, "bash"));
	CHECK(P(st, 10) != NULL);
	state_post(st, &cx);
	CHECK(P(st, 10) == NULL);
	/* An exit of an unknown task is nothing. */
	state_apply(st, &ev);
	CHECK(P(st, 10) == NULL);
	state_free(st);
}

TEST(threads)
{
	struct state *st = world();
	struct proc *p = P(st, 10);
	struct proc_table *t = state_procs(st);
	struct event ev;
	struct evctx cx;
	static const char argv[] = "x\0";

	do_fork(st, 10, 10, 10, 13, true, 0);
	do_fork(st, 10, 10, 10, 14, true, 0);
	CHECK_EQ_INT(p->nthreads, 3);
	CHECK(proc_table_thread(t, 13)->proc == p && proc_table_thread(t, 13)->vtid == 13);
	CHECK_EQ_INT(state_stats(st)->events, 2);
	/* A thread's event: the process, not a new one. */
	ev = sc(NR_openat, 10, 13, 7);
	ev.args[0] = (uint64_t)AT_FDCWD;
	blob_s(&ev.blob[0], "f");
	state_pre(st, &ev, &cx);
	CHECK(cx.proc == p && cx.thread && cx.thread->tid == 13);
	CHECK(cx.fd && !strcmp(cx.fd->name, "/home/u/f") && cx.fdnum == 7);
	state_post(st, &cx);
	CHECK(fd_table_get(&p->fds, 7) != NULL); /* the process's table */
	do_exit(st, 10, 13, false, NULL);
	CHECK(p->nthreads == 2 && P(st, 10) == p);
	/* Thread 14 execs: it takes the leader's id; one thread is left. */
	do_exec(st, 10, 14, 1, "/bin/x", argv, 2, 100);
	CHECK(P(st, 10) == p && p->nthreads == 1 && proc_table_thread(t, 14) == NULL &&
	      proc_table_thread(t, 10) && proc_table_thread(t, 10)->proc == p);
	/* The leader exits first, then the last thread. */
	do_fork(st, 10, 10, 10, 15, true, 0);
	do_exit(st, 10, 10, false, NULL);
	CHECK(P(st, 10) == p && p->nthreads == 1);
	ev = sc(NR_getpid, 10, 15, 10);
	state_pre(st, &ev, &cx);
	CHECK(cx.proc == p && cx.thread->tid == 15 && cx.ev->tid != cx.proc->pid);
	state_post(st, &cx);
	do_exit(st, 10, 15, true, NULL);
	CHECK(P(st, 10) == NULL && proc_table_stats(t)->threads == 1); /* init's */
	state_free(st);
}

TEST(open_family)
{
	struct state *st = world();
	struct proc *p = P(st, 10);
	struct event ev;
	struct evctx cx;
	uint64_t how[3] = {O_RDONLY | O_DIRECTORY, 0, 0};

	ev = sc(NR_openat, 10, 10, 3);
	ev.args[0] = (uint64_t)(int64_t)AT_FDCWD;
	ev.args[2] = O_WRONLY | O_CREAT | O_CLOEXEC;
	blob_s(&ev.blob[0], "../etc//passwd");
	state_pre(st, &ev, &cx);
	CHECK(cx.fd && cx.fdnum == 3);
	if (cx.fd) {
		CHECK_EQ_STR(cx.fd->name, "/home/etc/passwd");
		CHECK_EQ_STR(cx.fd->nameraw, "../etc//passwd");
		CHECK(cx.fd->type == FD_FILE && fd_type_char(cx.fd->type) == 'f');
		CHECK_EQ_INT(cx.fd->open_flags, O_WRONLY | O_CREAT);
	}
	CHECK(fd_table_slot(&p->fds, 3) && fd_table_slot(&p->fds, 3)->cloexec);
	CHECK_EQ_STR(cx.path_raw[0], "../etc//passwd");
	CHECK_EQ_STR(cx.path_abs[0], "/home/etc/passwd");
	CHECK(cx.path_raw[1] == NULL && cx.path_abs[1] == NULL);
	state_post(st, &cx);

	/* openat2 on a directory, then openat relative to it. */
	ev = sc(NR_openat2, 10, 10, 4);
	ev.args[0] = (uint64_t)(int64_t)AT_FDCWD;
	blob_s(&ev.blob[0], "/var/lib/");
	blob_m(&ev.blob[1], how, sizeof(how));
	state_apply(st, &ev);
	CHECK(fd_table_get(&p->fds, 4) && fd_table_get(&p->fds, 4)->type == FD_DIRECTORY);
	ev = sc(NR_openat, 10, 10, 5);
	ev.args[0] = 4;
	blob_s(&ev.blob[0], "dpkg/../apt/lists");
	state_pre(st, &ev, &cx);
	CHECK_EQ_STR(cx.fd ? cx.fd->name : NULL, "/var/lib/apt/lists");
	state_post(st, &cx);
	/* ...relative to an fd we do not know: stays relative. */
	ev = sc(NR_openat, 10, 10, 6);
	ev.args[0] = 99;
	blob_s(&ev.blob[0], "x/../y");
	state_pre(st, &ev, &cx);
	CHECK_EQ_STR(cx.fd ? cx.fd->name : NULL, "y");
	state_post(st, &cx);

	/* A failed open: a stand-in fd, type file, fd.num -1, nothing in the table. */
	ev = sc(NR_open, 10, 10, -ENOENT);
	ev.args[1] = O_RDONLY;
	blob_s(&ev.blob[0], "/etc/shadow");
	state_pre(st, &ev, &cx);
	CHECK(cx.fd && cx.fdnum == -1 && cx.fd->type == FD_FILE &&
	      !strcmp(cx.fd->name, "/etc/shadow"));
	state_post(st, &cx);
	CHECK_EQ_INT(p->fds.n, 3 + 4);

	/* creat: write, create, truncate */
	ev = sc(NR_creat, 10, 10, 8);
	blob_s(&ev.blob[0], "new");
	state_apply(st, &ev);
	CHECK(fd_table_get(&p->fds, 8) &&
	      fd_table_get(&p->fds, 8)->open_flags == (O_CREAT | O_WRONLY | O_TRUNC));
	/* A path blob cut without its NUL (hostile or truncated) still reads safely. */
	ev = sc(NR_open, 10, 10, 9);
	blob_m(&ev.blob[0], "abc", 3);
	state_pre(st, &ev, &cx);
	CHECK_EQ_STR(cx.path_raw[0], "abc");
	CHECK_EQ_STR(cx.fd ? cx.fd->name : NULL, "/home/u/abc");
	state_post(st, &cx);
	state_free(st);
}

TEST(close_dup_fcntl)
{
	struct state *st = world();
	struct proc *p = P(st, 10);
	struct event ev;
	struct evctx cx;

	/* close: the rule sees the fd, then it is gone */
	ev = sc(NR_close, 10, 10, 0);
	ev.args[0] = 2;
	state_pre(st, &ev, &cx);
	CHECK(cx.fd && cx.fdnum == 2 && !strcmp(cx.fd->name, "/dev/pts/0"));
	CHECK(fd_table_get(&p->fds, 2) != NULL);
	state_post(st, &cx);
	CHECK(fd_table_get(&p->fds, 2) == NULL);
	ev.ret = -EBADF;
	ev.args[0] = 1;
	state_apply(st, &ev);
	CHECK(fd_table_get(&p->fds, 1) != NULL);

	/* dup2(0, 7): fd is the old one, fd2 the new one, the same description */
	ev = sc(NR_dup2, 10, 10, 7);
	ev.args[0] = 0;
	ev.args[1] = 7;
	state_pre(st, &ev, &cx);
	CHECK(cx.fd && cx.fd == cx.fd2 && cx.fdnum == 0 && cx.fdnum2 == 7);
	state_post(st, &cx);
	CHECK(fd_table_get(&p->fds, 7) == fd_table_get(&p->fds, 0));
	ev = sc(NR_dup3, 10, 10, 8);
	ev.args[0] = 0;
	ev.args[1] = 8;
	ev.args[2] = O_CLOEXEC;
	state_apply(st, &ev);
	CHECK(fd_table_slot(&p->fds, 8) && fd_table_slot(&p->fds, 8)->cloexec);
	ev = sc(NR_dup, 10, 10, 9);
	ev.args[0] = 1;
	state_apply(st, &ev);
	CHECK(fd_table_get(&p->fds, 9) == fd_table_get(&p->fds, 1));
	/* dup of an unknown fd: the new number is unknown too */
	ev = sc(NR_dup2, 10, 10, 9);
	ev.args[0] = 55;
	ev.args[1] = 9;
	state_apply(st, &ev);
	CHECK(fd_table_get(&p->fds, 9) == NULL);
	CHECK(state_stats(st)->fd_unknown >= 1);
	/* fcntl */
	ev = sc(NR_fcntl, 10, 10, 20);
	ev.args[0] = 0;
	ev.args[1] = F_DUPFD_CLOEXEC;
	state_apply(st, &ev);
	CHECK(fd_table_slot(&p->fds, 20) && fd_table_slot(&p->fds, 20)->cloexec);
	ev = sc(NR_fcntl, 10, 10, 0);
	ev.args[0] = 20;
	ev.args[1] = F_SETFD;
	ev.args[2] = 0;
	state_apply(st, &ev);
	CHECK(!fd_table_slot(&p->fds, 20)->cloexec);
	ev.args[1] = F_SETFL;
	ev.args[2] = O_NONBLOCK | O_APPEND | O_CREAT;
	state_apply(st, &ev);
	CHECK_EQ_INT(fd_table_get(&p->fds, 0)->open_flags, O_NONBLOCK | O_APPEND);
	/* close_range: cloexec marks now; closing waits for state_post */
	ev = sc(NR_close_range, 10, 10, 0);
	ev.args[0] = 7;
	ev.args[1] = 100;
	ev.args[2] = 4; /* CLOSE_RANGE_CLOEXEC */
	state_apply(st, &ev);
	CHECK(fd_table_slot(&p->fds, 7)->cloexec && !fd_table_slot(&p->fds, 0)->cloexec);
	ev.args[2] = 0;
	state_pre(st, &ev, &cx);
	CHECK(fd_table_get(&p->fds, 20) != NULL);
	state_post(st, &cx);
	CHECK(fd_table_get(&p->fds, 20) == NULL && fd_table_get(&p->fds, 7) == NULL &&
	      fd_table_get(&p->fds, 0) != NULL);
	state_free(st);
}

static struct sk_sock_tuple tuple4(const char *l, uint16_t lp, const char *r, uint16_t rp,
				   uint16_t type)
{
	struct sk_sock_tuple t;

	memset(&t, 0, sizeof(t));
	t.family = AF_INET;
	t.type = type;
	inet_pton(AF_INET, l, t.saddr);
	if (r)
		inet_pton(AF_INET, r, t.daddr);
	t.sport = lp;
	t.dport = rp;
	return t;
}

TEST(sockets)
{
	struct state *st = world();
	struct proc *p = P(st, 10);
	struct event ev;
	struct evctx cx;
	struct sk_sock_tuple tu;
	struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons(443)};
	struct sockaddr_in6 sa6 = {.sin6_family = AF_INET6, .sin6_port = htons(53)};
	struct sockaddr_un su = {.sun_family = AF_UNIX};
	int pair[2] = {30, 31};

	/* socket + connect */
	ev = sc(NR_socket, 10, 10, 3);
	ev.args[0] = AF_INET;
	ev.args[1] = SOCK_STREAM | SOCK_CLOEXEC;
	state_pre(st, &ev, &cx);
	CHECK(cx.fd && cx.fd->type == FD_IPV4 && cx.fd->l4proto == L4_TCP && !cx.fd->name[0]);
	state_post(st, &cx);
	CHECK(fd_table_slot(&p->fds, 3)->cloexec);
	inet_pton(AF_INET, "93.184.216.34", &sa.sin_addr);
	tu = tuple4("10.0.0.5", 40000, "93.184.216.34", 443, SOCK_STREAM);
	ev = sc(NR_connect, 10, 10, -EINPROGRESS);
	ev.args[0] = 3;
	blob_m(&ev.blob[0], &sa, sizeof(sa));
	blob_m(&ev.blob[1], &tu, sizeof(tu));
	state_pre(st, &ev, &cx);
	CHECK(cx.fd && cx.fdnum == 3 && cx.fd_name_changed);
	CHECK_EQ_STR(cx.fd ? cx.fd->name : NULL, "10.0.0.5:40000->93.184.216.34:443");
	CHECK(cx.fd && (cx.fd->flags & FDI_CONNECTED) && !(cx.fd->flags & FDI_SERVER));
	state_post(st, &cx);
	/* A failed connect shows the attempt and changes nothing. */
	ev = sc(NR_socket, 10, 10, 4);
	ev.args[0] = AF_INET;
	ev.args[1] = SOCK_STREAM;
	state_apply(st, &ev);
	ev = sc(NR_connect, 10, 10, -ECONNREFUSED);
	ev.args[0] = 4;
	blob_m(&ev.blob[0], &sa, sizeof(sa));
	state_pre(st, &ev, &cx);
	CHECK_EQ_STR(cx.fd ? cx.fd->name : NULL, "0.0.0.0:0->93.184.216.34:443");
	CHECK(cx.fdnum == 4);
	state_post(st, &cx);
	CHECK_EQ_STR(fd_table_get(&p->fds, 4)->name, "");

	/* bind, listen, accept */
	ev = sc(NR_socket, 10, 10, 5);
	ev.args[0] = AF_INET;
	ev.args[1] = SOCK_STREAM;
	state_apply(st, &ev);
	tu = tuple4("0.0.0.0", 8080, NULL, 0, SOCK_STREAM);
	ev = sc(NR_bind, 10, 10, 0);
	ev.args[0] = 5;
	blob_m(&ev.blob[1], &tu, sizeof(tu));
	state_pre(st, &ev, &cx);
	CHECK_EQ_STR(cx.fd ? cx.fd->name : NULL, "0.0.0.0:8080");
	state_post(st, &cx);
	ev = sc(NR_listen, 10, 10, 0);
	ev.args[0] = 5;
	state_apply(st, &ev);
	CHECK(fd_table_get(&p->fds, 5)->flags & FDI_LISTENING);
	tu = tuple4("10.0.0.5", 8080, "10.0.0.9", 51000, SOCK_STREAM);
	ev = sc(NR_accept4, 10, 10, 6);
	ev.args[0] = 5;
	ev.args[3] = SOCK_CLOEXEC;
	blob_m(&ev.blob[1], &tu, sizeof(tu));
	state_pre(st, &ev, &cx);
	CHECK(cx.fd && cx.fdnum == 6 && cx.fd->type == FD_IPV4 && (cx.fd->flags & FDI_SERVER));
	CHECK_EQ_STR(cx.fd ? cx.fd->name : NULL, "10.0.0.9:51000->10.0.0.5:8080");
	state_post(st, &cx);
	CHECK(fd_table_slot(&p->fds, 6)->cloexec);
	ev.ret = -EAGAIN;
	state_pre(st, &ev, &cx);
	CHECK(cx.fd == NULL && cx.fdnum == -1);
	state_post(st, &cx);

	/* UDP, unconnected: the name follows each datagram's peer */
	ev = sc(NR_socket, 10, 10, 7);
	ev.args[0] = AF_INET6;
	ev.args[1] = SOCK_DGRAM;
	state_apply(st, &ev);
	inet_pton(AF_INET6, "2001:db8::53", &sa6.sin6_addr);
	ev = sc(NR_sendto, 10, 10, 20);
	ev.args[0] = 7;
	blob_m(&ev.blob[0], &sa6, sizeof(sa6));
	memset(&tu, 0, sizeof(tu));
	tu.family = AF_INET6;
	tu.type = SOCK_DGRAM;
	tu.saddr[15] = 1;
	tu.sport = 5353;
	blob_m(&ev.blob[1], &tu, sizeof(tu));
	state_pre(st, &ev, &cx);
	CHECK(cx.fd_name_changed && cx.fd && cx.fd->l4proto == L4_UDP);
	CHECK_EQ_STR(cx.fd ? cx.fd->name : NULL, "::1:5353->2001:db8::53:53");
	CHECK(cx.fd && !(cx.fd->flags & FDI_CONNECTED));
	state_post(st, &cx);
	state_pre(st, &ev, &cx);
	CHECK(!cx.fd_name_changed);
	state_post(st, &cx);

	/* unix: connect by a relative path, and an abstract one */
	ev = sc(NR_socket, 10, 10, 8);
	ev.args[0] = AF_UNIX;
	ev.args[1] = SOCK_STREAM;
	state_apply(st, &ev);
	strcpy(su.sun_path, "run/../docker.sock");
	ev = sc(NR_connect, 10, 10, 0);
	ev.args[0] = 8;
	blob_m(&ev.blob[0], &su, sizeof(su));
	state_pre(st, &ev, &cx);
	CHECK(cx.fd && cx.fd->type == FD_UNIX && fd_type_char(cx.fd->type) == 'u');
	CHECK_EQ_STR(cx.fd ? cx.fd->name : NULL, "/home/u/docker.sock");
	state_post(st, &cx);
	memcpy(su.sun_path, "\0abs", 4);
	ev.args[0] = 9;
	blob_m(&ev.blob[0], &su, offsetof(struct sockaddr_un, sun_path) + 4);
	state_pre(st, &ev, &cx); /* unknown fd: made from the address */
	CHECK_EQ_STR(cx.fd ? cx.fd->name : NULL, "@abs");
	state_post(st, &cx);

	/* socketpair, pipe2 */
	ev = sc(NR_socketpair, 10, 10, 0);
	ev.args[0] = AF_UNIX;
	ev.args[1] = SOCK_STREAM | SOCK_CLOEXEC;
	blob_m(&ev.blob[0], pair, sizeof(pair));
	state_pre(st, &ev, &cx);
	CHECK(cx.fd && cx.fd2 && cx.fdnum == 30 && cx.fdnum2 == 31 && cx.fd != cx.fd2);
	CHECK(cx.fd && cx.fd->type == FD_UNIX);
	state_post(st, &cx);
	CHECK(fd_table_slot(&p->fds, 31)->cloexec);
	pair[0] = 40;
	pair[1] = 41;
	ev = sc(NR_pipe2, 10, 10, 0);
	ev.args[1] = O_CLOEXEC | O_NONBLOCK;
	blob_m(&ev.blob[0], pair, sizeof(pair));
	state_apply(st, &ev);
	CHECK(fd_table_get(&p->fds, 41) && fd_table_get(&p->fds, 41)->type == FD_PIPE &&
	      fd_table_get(&p->fds, 41)->open_flags == (O_WRONLY | O_NONBLOCK) &&
	      fd_table_slot(&p->fds, 40)->cloexec);
	/* the wrong blob size is counted, not trusted */
	blob_m(&ev.blob[0], pair, 4);
	state_apply(st, &ev);
	CHECK_EQ_INT(state_stats(st)->bad_blob, 1);
	/* a failed socket(): a stand-in of the domain's type */
	ev = sc(NR_socket, 10, 10, -EACCES);
	ev.args[0] = AF_PACKET;
	ev.args[1] = SOCK_RAW;
	state_pre(st, &ev, &cx);
	CHECK(cx.fd && cx.fdnum == -1 && cx.fd->type == FD_UNKNOWN);
	state_post(st, &cx);
	/* read on a socket: the generic fd argument */
	ev = sc(NR_read, 10, 10, 10);
	ev.args[0] = 6;
	state_pre(st, &ev, &cx);
	CHECK(cx.fd && cx.fdnum == 6 && cx.fd == fd_table_get(&p->fds, 6));
	state_post(st, &cx);
	state_free(st);
}

TEST(anon_fds_and_fileless_exec)
{
	struct state *st = world();
	struct proc *p = P(st, 10);
	struct event ev;
	struct evctx cx;
	static const char argv[] = "payload\0";

	ev = sc(NR_memfd_create, 10, 10, 3);
	blob_s(&ev.blob[0], "payload");
	ev.args[1] = 1; /* MFD_CLOEXEC */
	state_pre(st, &ev, &cx);
	CHECK(cx.fd && cx.fd->type == FD_MEMFD && !strcmp(cx.fd->name, "memfd:payload") &&
	      fd_type_char(cx.fd->type) == 'm');
	CHECK(cx.path_raw[0] && !strcmp(cx.path_raw[0], "payload") && !cx.path_abs[0]);
	state_post(st, &cx);
	/* fexecve of the memfd (close-on-exec: still resolvable at exec) */
	do_exec(st, 10, 10, 1, "/dev/fd/3", argv, sizeof(argv) - 1, 100);
	p = P(st, 10);
	CHECK_EQ_STR(p->exepath, "memfd:payload");
	CHECK(p->exe_flags & PROC_EXE_MEMFD);
	CHECK(fd_table_get(&p->fds, 3) == NULL);
	/* execveat(dirfd, "tool") */
	ev = sc(NR_openat, 10, 10, 4);
	ev.args[0] = (uint64_t)(int64_t)AT_FDCWD;
	ev.args[2] = O_DIRECTORY;
	blob_s(&ev.blob[0], "/opt/bin");
	state_apply(st, &ev);
	do_exec(st, 10, 10, 1, "/dev/fd/4/tool", argv, sizeof(argv) - 1, 100);
	CHECK_EQ_STR(P(st, 10)->exepath, "/opt/bin/tool");
	CHECK(!(P(st, 10)->exe_flags & PROC_EXE_MEMFD) || SK_ABI_VERSION >= 2);
	do_exec(st, 10, 10, 1, "/dev/fd/99", "", 0, 100);
	CHECK_EQ_STR(P(st, 10)->exepath, "/dev/fd/99");
	CHECK_EQ_STR(P(st, 10)->exe, "/dev/fd/99"); /* no argv: the filename */

	{
		static const struct {
			uint16_t nr;
			uint64_t a0;
			enum fd_type type;
		} anon[] = {
		    {NR_eventfd2, 0, FD_EVENT},		 {NR_signalfd4, (uint64_t)-1, FD_SIGNALFD},
		    {NR_epoll_create1, 0, FD_EVENTPOLL}, {NR_inotify_init1, 0, FD_INOTIFY},
		    {NR_timerfd_create, 0, FD_TIMERFD},	 {NR_userfaultfd, 0, FD_USERFAULTFD},
		    {NR_io_uring_setup, 8, FD_IOURING},	 {NR_bpf, BPF_PROG_LOAD, FD_BPF},
		    {NR_pidfd_open, 1, FD_UNKNOWN},
		};

		for (size_t i = 0; i < sizeof(anon) / sizeof(anon[0]); i++) {
			ev = sc(anon[i].nr, 10, 10, 50 + (int)i);
			ev.args[0] = anon[i].a0;
			state_pre(st, &ev, &cx);
			CHECK(cx.fd && cx.fd->type == anon[i].type && cx.fdnum == 50 + (int)i);
			state_post(st, &cx);
		}
		/* bpf commands that return no fd add nothing */
		ev = sc(NR_bpf, 10, 10, 0);
		ev.args[0] = BPF_MAP_UPDATE_ELEM;
		state_pre(st, &ev, &cx);
		CHECK(cx.fd == NULL);
		state_post(st, &cx);
		CHECK(fd_table_get(&P(st, 10)->fds, 0) != NULL);
	}
	state_free(st);
}

TEST(cwd_and_paths)
{
	struct state *st = world();
	struct proc *p = P(st, 10);
	struct event ev;
	struct evctx cx;

	ev = sc(NR_chdir, 10, 10, 0);
	blob_s(&ev.blob[0], "../../tmp/./x");
	state_pre(st, &ev, &cx);
	CHECK_EQ_STR(cx.path_abs[0], "/tmp/x");
	state_post(st, &cx);
	CHECK_EQ_STR(p->cwd, "/tmp/x");
	ev.ret = -ENOENT;
	blob_s(&ev.blob[0], "/nope");
	state_apply(st, &ev);
	CHECK_EQ_STR(p->cwd, "/tmp/x");
	/* rename: both paths against the cwd as it was */
	ev = sc(NR_rename, 10, 10, 0);
	blob_s(&ev.blob[0], "a");
	blob_s(&ev.blob[1], "../b");
	state_pre(st, &ev, &cx);
	CHECK_EQ_STR(cx.path_abs[0], "/tmp/x/a");
	CHECK_EQ_STR(cx.path_abs[1], "/tmp/b");
	CHECK_EQ_STR(cx.path_raw[1], "../b");
	state_post(st, &cx);
	/* renameat2 with two dirfds */
	ev = sc(NR_openat, 10, 10, 5);
	ev.args[0] = (uint64_t)(int64_t)AT_FDCWD;
	ev.args[2] = O_DIRECTORY;
	blob_s(&ev.blob[0], "/etc");
	state_apply(st, &ev);
	ev = sc(NR_renameat2, 10, 10, 0);
	ev.args[0] = 5;
	ev.args[2] = (uint64_t)(int64_t)AT_FDCWD;
	blob_s(&ev.blob[0], "passwd");
	blob_s(&ev.blob[1], "p2");
	state_pre(st, &ev, &cx);
	CHECK_EQ_STR(cx.path_abs[0], "/etc/passwd");
	CHECK_EQ_STR(cx.path_abs[1], "/tmp/x/p2");
	state_post(st, &cx);
	/* symlink: the target is not a path of ours */
	ev = sc(NR_symlinkat, 10, 10, 0);
	ev.args[1] = 5;
	blob_s(&ev.blob[0], "../x");
	blob_s(&ev.blob[1], "l");
	state_pre(st, &ev, &cx);
	CHECK(cx.path_raw[0] && !cx.path_abs[0]);
	CHECK_EQ_STR(cx.path_abs[1], "/etc/l");
	state_post(st, &cx);
	/* fchdir */
	ev = sc(NR_fchdir, 10, 10, 0);
	ev.args[0] = 5;
	state_apply(st, &ev);
	CHECK_EQ_STR(p->cwd, "/etc");
	/* A process with an unknown cwd keeps relative paths relative. */
	proc_set_str(&p->cwd, NULL, 0);
	ev = sc(NR_unlink, 10, 10, 0);
	blob_s(&ev.blob[0], "f");
	state_pre(st, &ev, &cx);
	CHECK_EQ_STR(cx.path_abs[0], "f");
	state_post(st, &cx);
	state_free(st);
}

TEST(credentials)
{
	struct state *st = world();
	struct proc *p = P(st, 10);
	struct event ev;

	p->flags |= PROC_CAPS_KNOWN;
	p->cap_permitted = p->cap_effective = 0x1ff;
	ev = sc(NR_setresuid, 10, 10, 0);
	ev.args[0] = 0xffffffffu;
	ev.args[1] = 1000;
	ev.args[2] = 0xffffffffu;
	state_apply(st, &ev);
	CHECK(p->uid == 0 && p->euid == 1000 && p->suid == 0);
	CHECK(p->cap_effective == 0 && p->cap_permitted == 0x1ff); /* euid 0 -> nonzero */
	ev = sc(NR_setreuid, 10, 10, 0);
	ev.args[0] = 0xffffffffu;
	ev.args[1] = 0;
	state_apply(st, &ev);
	CHECK(p->euid == 0 && p->cap_effective == 0x1ff);
	ev = sc(NR_setuid, 10, 10, 0);
	ev.args[0] = 33;
	state_apply(st, &ev);
	CHECK(p->uid == 33 && p->euid == 33 && p->suid == 33);
	CHECK(p->cap_effective == 0 && p->cap_permitted == 0);
	ev.args[0] = 0; /* unprivileged now: fails in the kernel, and a failure changes nothing */
	ev.ret = -EPERM;
	state_apply(st, &ev);
	CHECK(p->uid == 33);
	ev = sc(NR_setgid, 10, 10, 0);
	ev.args[0] = 44;
	state_apply(st, &ev);
	CHECK(p->egid == 44 && p->gid == 0); /* no CAP_SETGID left: effective only */
	ev = sc(NR_setresgid, 10, 10, 0);
	ev.args[0] = 1;
	ev.args[1] = 2;
	ev.args[2] = 3;
	state_apply(st, &ev);
	CHECK(p->gid == 1 && p->egid == 2 && p->sgid == 3);
	/* sessions, groups, subreapers, pid namespaces */
	ev = sc(NR_setsid, 10, 10, 10);
	state_apply(st, &ev);
	CHECK(p->sid == 10 && p->pgid == 10 && p->tty == 0 && p->vpgid == 10);
	ev = sc(NR_setpgid, 10, 10, 0);
	ev.args[0] = 0;
	ev.args[1] = 1;
	state_apply(st, &ev);
	CHECK(p->pgid == 1 && p->vpgid == 1);
	ev = sc(NR_prctl, 10, 10, 0);
	ev.args[0] = PR_SET_CHILD_SUBREAPER;
	ev.args[1] = 1;
	state_apply(st, &ev);
	CHECK(p->flags & PROC_SUBREAPER);
	ev = sc(NR_unshare, 10, 10, 0);
	ev.args[0] = CLONE_NEWPID;
	state_apply(st, &ev);
	CHECK(p->flags & PROC_NEWPIDNS);
	do_fork(st, 10, 10, 70, 70, false, 500);
	CHECK(P(st, 70) && P(st, 70)->vpid == 0); /* unknown until its exec */
	/* clone(CLONE_NEWPID): the child is its namespace's init */
	p->flags &= ~(uint32_t)PROC_NEWPIDNS;
	do_fork(st, 10, 10, 71, 71, false, 600);
	ev = sc(NR_clone, 10, 10, 71);
	ev.args[0] = CLONE_NEWPID | SIGCHLD;
	state_apply(st, &ev);
	CHECK(P(st, 71) && P(st, 71)->vpid == 1 &&
	      proc_table_thread(state_procs(st), 71)->vtid == 1);
	state_free(st);
}

TEST(unknown_and_stale_processes)
{
	struct state *st = world();
	struct event ev;
	struct evctx cx;
	static const char argv[] = "a\0";

	/* Without a procfs, an unknown pid is made up from the event. */
	ev = sc(NR_openat, 500, 501, 3);
	ev.args[0] = (uint64_t)(int64_t)AT_FDCWD;
	blob_s(&ev.blob[0], "/x");
	state_pre(st, &ev, &cx);
	CHECK(cx.proc && cx.proc->pid == 500 && (cx.proc->flags & PROC_PARTIAL));
	CHECK(cx.thread && cx.thread->tid == 501 && cx.proc->nthreads == 2);
	CHECK(cx.fd && !strcmp(cx.fd->name, "/x"));
	state_post(st, &cx);
	CHECK_EQ_INT(state_stats(st)->unknown_pid, 1);
	CHECK_EQ_INT(state_stats(st)->partial, 1);
	/* A fork onto a pid still in the table (its exit was lost) replaces it. */
	do_fork(st, 10, 10, 500, 500, false, 9000);
	CHECK(P(st, 500) && !(P(st, 500)->flags & PROC_PARTIAL) && P(st, 500)->start_ns == 9000);
	CHECK(fd_table_get(&P(st, 500)->fds, 3) == NULL);
	CHECK(proc_table_thread(state_procs(st), 501) == NULL);
	CHECK_EQ_INT(state_stats(st)->pid_reused, 1);
	/* An exec whose start time differs: the same. */
	do_exec(st, 500, 500, 10, "/bin/a", argv, 2, 9000 + 1000000000ull);
	CHECK_EQ_INT(state_stats(st)->pid_reused, 2);
	CHECK_EQ_INT(P(st, 500)->start_ns, 9000 + 1000000000ull);
	/* Exec of an unknown pid: created from the record. */
	do_exec(st, 600, 600, 10, "/bin/a", argv, 2, 5000);
	CHECK(P(st, 600) && P(st, 600)->ppid == 10 &&
	      proc_table_parent(state_procs(st), P(st, 600)) == P(st, 10));
	state_free(st);
}

TEST(users_through_context)
{
	struct state *st = world();
	struct event ev = sc(NR_getpid, 10, 10, 10);
	struct evctx cx;
	char root[] = "/tmp/saker-state-users-XXXXXX", p[300];
	FILE *f;

	CHECK(mkdtemp(root) != NULL);
	snprintf(p, sizeof(p), "%s/etc", root);
	mkdir(p, 0755);
	snprintf(p, sizeof(p), "%s/etc/passwd", root);
	f = fopen(p, "w");
	fputs("root:x:0:0:root:/root:/bin/bash\nu:x:1000:1000::/home/u:/bin/zsh\n", f);
	fclose(f);
	snprintf(p, sizeof(p), "%s/etc/group", root);
	f = fopen(p, "w");
	fputs("root:x:0:\nstaff:x:50:\n", f);
	fclose(f);
	users_set_root(state_users(st), root);
	state_pre(st, &ev, &cx);
	CHECK(evctx_user(&cx, cx.proc->uid) && !strcmp(evctx_user(&cx, 0)->name, "root"));
	CHECK_EQ_STR(evctx_user(&cx, 1000)->home, "/home/u");
	CHECK(evctx_user(&cx, 1001) == NULL);
	CHECK_EQ_STR(evctx_group_name(&cx, 50), "staff");
	CHECK(evctx_env(&cx, cx.proc, NULL) == NULL); /* no procfs: unknown */
	state_post(st, &cx);
	snprintf(p, sizeof(p), "rm -rf %s", root);
	CHECK_EQ_INT(system(p), 0);
	state_free(st);
}

TEST(seed_real_and_apply)
{
	/* This process, read from /proc, then a real open of ours replayed as an event. */
	struct state *st = state_new(1 << 20);
	uint32_t me = (uint32_t)getpid();
	int fd = open("/etc/hostname", O_RDONLY), sk = socket(AF_INET6, SOCK_DGRAM, 0);
	int pp[2];
	struct event ev;
	struct evctx cx;
	struct proc *p;
	size_t len;

	CHECK(pipe(pp) == 0);
	CHECK(state_seed(st, "/proc") > 1);
	p = P(st, me);
	CHECK(p && p->nthreads >= 1);
	if (!p)
		goto out;
	CHECK(fd_table_get(&p->fds, pp[1]) && fd_table_get(&p->fds, pp[1])->type == FD_PIPE);
	/* Not bound, so in no /proc/net table: a socket of unknown kind. */
	CHECK(fd_table_get(&p->fds, sk) && fd_table_get(&p->fds, sk)->type == FD_UNKNOWN &&
	      !strncmp(fd_table_get(&p->fds, sk)->name, "socket:[", 8));
	if (fd >= 0)
		CHECK(fd_table_get(&p->fds, fd) &&
		      !strcmp(fd_table_get(&p->fds, fd)->name, "/etc/hostname"));
	ev = sc(NR_close, me, me, 0);
	ev.args[0] = (uint64_t)pp[0];
	state_pre(st, &ev, &cx);
	CHECK(cx.proc == p && cx.fd && cx.fd->type == FD_PIPE);
	state_post(st, &cx);
	CHECK(fd_table_get(&p->fds, pp[0]) == NULL);
	CHECK(evctx_env(&cx, p, &len) && len > 0);
	CHECK(evctx_ancestor(&cx, 1) != NULL);
	/* An unknown pid that exists: read from /proc on first sight. */
	proc_table_remove(state_procs(st), 1);
	ev = sc(NR_getpid, 1, 1, 1);
	state_pre(st, &ev, &cx);
	CHECK(cx.proc && (cx.proc->flags & PROC_SEEDED) && cx.proc->comm[0]);
	state_post(st, &cx);
	CHECK_EQ_INT(proc_table_stats(state_procs(st))->lazy_seeded, 1);
out:
	close(pp[0]);
	close(pp[1]);
	close(sk);
	if (fd >= 0)
		close(fd);
	state_free(st);
}

static unsigned rnd_seed = 12345;

static unsigned rnd(void)
{
	return (rnd_seed = rnd_seed * 1103515245u + 12345u) >> 8;
}

TEST(exec_into_another_cgroup)
{
	/* A runtime forks (the child inherits its cgroup), moves the child into the
	 * container's cgroup and execs: the exec record's cgroup id tells. */
	char root[] = "/tmp/saker-state-cg-XXXXXX", p[300];
	struct state *st = state_new(100);
	static const char argv[] = "init\0";
	FILE *f;

	CHECK(mkdtemp(root) != NULL);
	snprintf(p, sizeof(p), "%s/700", root);
	mkdir(p, 0755);
	snprintf(p, sizeof(p), "%s/701", root);
	mkdir(p, 0755);
	snprintf(p, sizeof(p), "%s/700/stat", root);
	f = fopen(p, "w");
	fputs("700 (runc) S 1 700 700 0 -1 0 0 0 0 0 0 0 0 0 20 0 1 0 5 0 0\n", f);
	fclose(f);
	snprintf(p, sizeof(p), "%s/700/cgroup", root);
	f = fopen(p, "w");
	fputs("0::/host.slice\n", f);
	fclose(f);
	snprintf(p, sizeof(p), "%s/701/cgroup", root);
	f = fopen(p, "w");
	fputs("1:name=systemd:/x\n0::/docker/abc\n", f);
	fclose(f);
	CHECK_EQ_INT(state_seed(st, root), 1);
	CHECK_EQ_STR(P(st, 700)->cgroup, "/host.slice");
	do_fork(st, 700, 700, 701, 701, false, 1000000000ull);
	CHECK_EQ_STR(P(st, 701)->cgroup, "/host.slice");
	do_exec(st, 701, 701, 700, "/init", argv, 5, 1000000000ull);
	CHECK_EQ_STR(P(st, 701)->cgroup, "/docker/abc");
	CHECK_EQ_INT(proc_table_stats(state_procs(st))->cgroup_reads, 1);
	/* The same id again: from the cache. */
	do_fork(st, 700, 700, 702, 702, false, 2000000000ull);
	do_exec(st, 702, 702, 700, "/init", argv, 5, 2000000000ull);
	CHECK_EQ_STR(P(st, 702)->cgroup, "/docker/abc");
	CHECK_EQ_INT(proc_table_stats(state_procs(st))->cgroup_reads, 1);
	/* An exec in the same cgroup changes nothing. */
	do_exec(st, 702, 702, 700, "/init", argv, 5, 2000000000ull);
	CHECK_EQ_INT(proc_table_stats(state_procs(st))->cgroup_reads, 1);
	snprintf(p, sizeof(p), "rm -rf %s", root);
	CHECK_EQ_INT(system(p), 0);
	state_free(st);
}

static int ctr_lookups;

static int fake_ctr_lookup(void *arg, const struct ctr_cgroup *cg, struct ctr_meta *m)
{
	(void)arg;
	(void)cg;
	ctr_lookups++;
	m->name = strdup("web");
	return 0;
}

TEST(containers_cached_and_swept)
{
	/* An exec into a container's cgroup: the container is looked up once, kept while a
	 * process is in it, dropped by the sweep after its last process ends. An exec into a
	 * cgroup nobody can name any more has no path (container fields missing). */
	char root[] = "/tmp/saker-state-ctr-XXXXXX", p[300];
	struct state *st = state_new(100);
	struct ctr_source src = {fake_ctr_lookup, NULL};
	static const char argv[] = "sh\0";
	const char *id = "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef";
	struct ctr_info *ci;
	FILE *f;

	CHECK(mkdtemp(root) != NULL);
	CHECK_EQ_INT(state_set_containers(st, 8, &src), 0);
	for (int pid = 800; pid <= 802; pid++) {
		snprintf(p, sizeof(p), "%s/%d", root, pid);
		mkdir(p, 0755);
	}
	snprintf(p, sizeof(p), "%s/800/stat", root);
	f = fopen(p, "w");
	fputs("800 (runc) S 1 800 800 0 -1 0 0 0 0 0 0 0 0 0 20 0 1 0 5 0 0\n", f);
	fclose(f);
	snprintf(p, sizeof(p), "%s/800/cgroup", root);
	f = fopen(p, "w");
	fputs("4:memory:/process_api/6f3c71cfa35b3d587139b3d8c8d467e0\n0::/\n", f);
	fclose(f);
	snprintf(p, sizeof(p), "%s/801/cgroup", root);
	f = fopen(p, "w");
	fprintf(f, "4:memory:/docker/%s\n0::/docker/%s\n", id, id);
	fclose(f);
	CHECK_EQ_INT(state_seed(st, root), 1);
	CHECK(state_container(st, P(st, 800)) == NULL); /* the host */
	do_fork(st, 800, 800, 801, 801, false, 1000000000ull);
	do_exec(st, 801, 801, 800, "/bin/sh", argv, 3, 1000000000ull);
	ci = state_container(st, P(st, 801));
	CHECK(ci && ci->found);
	if (ci)
		CHECK_EQ_STR(ci->meta.name, "web");
	CHECK(state_container(st, P(st, 801)) == ci);
	CHECK_EQ_INT(ctr_lookups, 1);
	/* the container's process forks: still one container */
	do_fork(st, 801, 801, 803, 803, false, 1100000000ull);
	CHECK(state_container(st, P(st, 803)) == ci);
	do_exit(st, 803, 803, true, NULL);
	state_housekeeping(st, 1000);
	CHECK_EQ_INT(container_cache_stats(state_containers(st))->entries, 1); /* 801 lives */
	do_exit(st, 801, 801, true, NULL);
	state_housekeeping(st, 1050); /* too soon after the last sweep */
	CHECK_EQ_INT(container_cache_stats(state_containers(st))->entries, 1);
	state_housekeeping(st, 1100);
	CHECK_EQ_INT(container_cache_stats(state_containers(st))->entries, 0);
	CHECK_EQ_INT(container_cache_stats(state_containers(st))->removed, 1);
	/* another cgroup id, and /proc has nothing for the pid: unknown, not the host */
	do_fork(st, 800, 800, 802, 802, false, 1200000000ull);
	exec_cgroup_id = 78;
	do_exec(st, 802, 802, 800, "/bin/sh", argv, 3, 1200000000ull);
	exec_cgroup_id = 77;
	snprintf(p, sizeof(p), "%s/802/cgroup", root);
	CHECK(access(p, F_OK) != 0);
	CHECK(P(st, 802) && !P(st, 802)->cgroup);
	CHECK_EQ_INT(state_stats(st)->cgroup_unknown, 1);
	snprintf(p, sizeof(p), "rm -rf %s", root);
	CHECK_EQ_INT(system(p), 0);
	state_free(st);
}

/* Random event streams: no crash, no leak (under ASan), invariants hold. */
TEST(random_streams)
{
	static const uint16_t nrs[] = {
	    NR_open,	    NR_openat,	   NR_openat2, NR_creat,	  NR_close,
	    NR_close_range, NR_dup,	   NR_dup2,    NR_dup3,		  NR_fcntl,
	    NR_socket,	    NR_socketpair, NR_pipe,    NR_pipe2,	  NR_connect,
	    NR_accept,	    NR_accept4,	   NR_bind,    NR_listen,	  NR_sendto,
	    NR_recvfrom,    NR_sendmsg,	   NR_recvmsg, NR_chdir,	  NR_fchdir,
	    NR_setuid,	    NR_setresuid,  NR_setsid,  NR_setpgid,	  NR_prctl,
	    NR_unshare,	    NR_setns,	   NR_clone,   NR_clone3,	  NR_memfd_create,
	    NR_eventfd2,    NR_signalfd4,  NR_bpf,     NR_execve,	  NR_renameat2,
	    NR_symlinkat,   NR_mount,	   NR_read,    NR_io_uring_setup, NR_rename,
	};
	struct state *st = state_new(64);
	uint8_t buf[2][160];
	struct sk_fork_ev f;
	struct sk_exec_ev x;
	struct sk_exit_ev e;

	for (int iter = 0; iter < 200000; iter++) {
		struct event ev;
		struct evctx cx;
		unsigned k = rnd() % 20;
		uint32_t pid = 1 + rnd() % 90, tid = pid;

		if (rnd() % 3 == 0)
			tid = 1000 + rnd() % 50;

		memset(&ev, 0, sizeof(ev));
		ev.pid = pid;
		ev.tid = tid;
		ev.ts_ns = (uint64_t)iter * 1000;
		if (k == 0) {
			memset(&f, 0, sizeof(f));
			ev.kind = SK_EV_FORK;
			ev.fork = &f;
			f.child_pid = rnd() % 4 ? 1 + rnd() % 90 : pid;
			f.child_tid = rnd() % 3 ? f.child_pid : 1000 + rnd() % 50;
			f.child_ppid = rnd() % 95;
			f.flags = rnd() % 4 == 0 ? SK_FORK_THREAD : 0;
			f.child_start_ns = rnd() % 1000;
		} else if (k == 1) {
			memset(&x, 0, sizeof(x));
			ev.kind = SK_EV_EXEC;
			ev.exec = &x;
			x.old_tid = rnd() % 2 ? tid : 1000 + rnd() % 50;
			x.ppid = rnd() % 95;
			x.start_ns = rnd() % 1000;
			for (size_t i = 0; i < sizeof(x.comm); i++)
				x.comm[i] = (char)rnd();
			for (size_t i = 0; i < sizeof(buf[0]); i++)
				buf[0][i] = rnd() % 4 ? (uint8_t) "/.a\0/dev/fd/3"[rnd() % 13]
						      : (uint8_t)rnd();
			ev.filename.p = buf[0];
			ev.filename.len = rnd() % sizeof(buf[0]);
			ev.argv.p = buf[0];
			ev.argv.len = rnd() % sizeof(buf[0]);
		} else if (k == 2) {
			e.flags = rnd() % 3 ? SK_EXIT_GROUP_DEAD : 0;
			ev.kind = SK_EV_EXIT;
			ev.exit = &e;
		} else {
			ev.kind = SK_EV_SYSCALL;
			ev.nr = nrs[rnd() % (sizeof(nrs) / sizeof(nrs[0]))];
			ev.ret = rnd() % 4 ? (int64_t)(rnd() % 40) : -(int64_t)(rnd() % 120);
			for (int i = 0; i < 6; i++)
				ev.args[i] =
				    rnd() % 3 ? rnd() % 40 : ((uint64_t)rnd() << 32) | rnd();
			if (rnd() % 5 == 0)
				ev.args[0] = (uint64_t)(int64_t)AT_FDCWD;
			for (int b = 0; b < 2; b++) {
				unsigned kind = rnd() % 4;

				for (size_t i = 0; i < sizeof(buf[b]); i++)
					buf[b][i] = (uint8_t)rnd();
				if (kind == 0) { /* a path */
					for (size_t i = 0; i < sizeof(buf[b]); i++)
						buf[b][i] = (uint8_t) "/.ab\0"[rnd() % 5];
				} else if (kind == 1) { /* a sockaddr or tuple */
					uint16_t fam = (uint16_t) "\x01\x02\x0a\x10"[rnd() % 4];

					memcpy(buf[b], &fam, 2);
				}
				ev.blob[b].p = rnd() % 4 ? buf[b] : NULL;
				ev.blob[b].len = ev.blob[b].p ? rnd() % sizeof(buf[b]) : 0;
				if (rnd() % 3 == 0)
					ev.blob[b].len =
					    rnd() % 2 ? 8 : sizeof(struct sk_sock_tuple);
			}
		}
		state_pre(st, &ev, &cx);
		if (cx.fd)
			CHECK(cx.fd->name != NULL && cx.fd->refs >= 1);
		if (cx.proc)
			CHECK(cx.proc->pid == ev.pid || ev.kind == SK_EV_FORK);
		if (ev.kind == SK_EV_SYSCALL && cx.proc)
			evctx_ancestor(&cx, 7);
		state_post(st, &cx);
	}
	{
		const struct proc_table_stats *ps = proc_table_stats(state_procs(st));
		size_t nthreads = 0, nprocs = 0;

		CHECK(ps->procs <= 64 && ps->threads <= 64);
		for (struct proc *p = proc_table_next(state_procs(st), NULL); p;
		     p = proc_table_next(state_procs(st), p)) {
			size_t n = 0;

			for (struct thread *th = p->threads; th; th = th->pnext) {
				n++;
				CHECK(th->proc == p);
				CHECK(proc_table_thread(state_procs(st), th->tid) == th);
			}
			CHECK_EQ_INT(n, p->nthreads);
			nthreads += n;
			nprocs++;
			if (p->parent)
				CHECK(p->parent != p);
		}
		CHECK_EQ_INT(nthreads, ps->threads);
		CHECK_EQ_INT(nprocs, ps->procs);
		printf("# events=%llu procs=%llu threads=%llu evictions=%llu reused=%llu\n",
		       (unsigned long long)state_stats(st)->events, (unsigned long long)nprocs,
		       (unsigned long long)nthreads, (unsigned long long)ps->evictions,
		       (unsigned long long)state_stats(st)->pid_reused);
	}
	state_free(st);
}

int main(void)
{
	RUN(fork_exec_exit);
	RUN(exit_context_sees_process);
	RUN(threads);
	RUN(open_family);
	RUN(close_dup_fcntl);
	RUN(sockets);
	RUN(anon_fds_and_fileless_exec);
	RUN(cwd_and_paths);
	RUN(credentials);
	RUN(unknown_and_stale_processes);
	RUN(users_through_context);
	RUN(seed_real_and_apply);
	RUN(exec_into_another_cgroup);
	RUN(containers_cached_and_swept);
	RUN(random_streams);
	return tap_done();
}
