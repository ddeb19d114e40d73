/* The process table: seeding from a fake procfs and from /proc, threads, family links,
 * ancestors and reparenting, pid reuse, eviction, the lazy environment. */
#include <pthread.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include "proc_table.h"
#include "testlib.h"

static char root[] = "/tmp/saker-procfs-XXXXXX";

static void put(const char *rel, const void *text, size_t len)
{
	char p[300];
	FILE *f;

	snprintf(p, sizeof(p), "%s/%s", root, rel);
	f = fopen(p, "w");
	if (f) {
		fwrite(text, 1, len, f);
		fclose(f);
	}
}

#define PUT(rel, lit) put(rel, lit, sizeof(lit) - 1)

static void dir(const char *rel)
{
	char p[300];

	snprintf(p, sizeof(p), "%s/%s", root, rel);
	mkdir(p, 0755);
}

static void lnk(const char *rel, const char *target)
{
	char p[300];

	snprintf(p, sizeof(p), "%s/%s", root, rel);
	if (symlink(target, p))
		abort();
}

/*
 * A fake procfs: pid 1 (init), pid 100 (threads 100, 101; comm with spaces and
 * parentheses; in a pid namespace as 5; two fds; a TCP socket in its own net dir), pid 200
 * (child of 100, no status file), "self" (skipped).
 */
static void fake_procfs(void)
{
	if (!mkdtemp(root))
		abort();
	dir("1");
	dir("1/task");
	dir("1/task/1");
	PUT("1/stat", "1 (init) S 0 1 1 0 -1 4194560 0 0 0 0 0 0 0 0 20 0 1 0 2 0 0\n");
	PUT("1/cmdline", "/sbin/init\0");
	dir("100");
	dir("100/task");
	dir("100/task/100");
	dir("100/task/101");
	dir("100/fd");
	dir("100/net");
	dir("100/ns");
	PUT("100/stat", "100 (we ird) (x) S 1 100 90 34816 -1 4194560 0 0 0 0 0 0 0 0 20 0 2 0 "
			"12345 0 0\n");
	PUT("100/status", "Name:\twe ird) (x\nUmask:\t0022\nState:\tS (sleeping)\nTgid:\t100\n"
			  "NSpid:\t100\t5\nNSpgid:\t100\t5\nNSsid:\t90\t1\nPPid:\t1\n"
			  "Uid:\t1000\t1001\t1002\t1003\nGid:\t2000\t2001\t2002\t2003\n"
			  "CapInh:\t0000000000000000\nCapPrm:\t000001ffffffffff\n"
			  "CapEff:\t0000000000000400\n");
	PUT("100/task/101/status", "Name:\tworker\nNSpid:\t101\t6\n");
	PUT("100/loginuid", "1000");
	PUT("100/cmdline", "prog\0--flag\0two words\0");
	PUT("100/environ", "HOME=/root\0PATH=/bin\0");
	PUT("100/cgroup", "12:cpu,cpuacct:/docker/abc\n0::/system.slice/x.service\n");
	lnk("100/exe", "/usr/bin/prog");
	lnk("100/cwd", "/srv/data");
	lnk("100/ns/net", "net:[4026531999]");
	lnk("100/fd/0", "/dev/null");
	lnk("100/fd/3", "socket:[777]");
	PUT("100/net/tcp",
	    "  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  "
	    "timeout inode\n"
	    "   0: 0100007F:0050 0200007F:9C40 01 00000000:00000000 00:00000000 00000000     0 "
	    "       0 777 1 0000000000000000 20 4 30 10 -1\n");
	dir("200");
	dir("200/task");
	dir("200/task/200");
	PUT("200/stat", "200 (child) R 100 200 90 0 -1 0 0 0 0 0 0 0 0 0 20 0 1 0 13000 0 0\n");
	lnk("200/exe", "/memfd:evil (deleted)");
	dir("self");
	dir("300"); /* no stat: skipped */
}

TEST(seed_fake)
{
	struct proc_table *t = proc_table_new(100);
	struct proc *p, *c;
	struct thread *th;
	long hz = sysconf(_SC_CLK_TCK);

	CHECK_EQ_INT(proc_table_seed(t, root), 3);
	CHECK_EQ_INT(proc_table_stats(t)->procs, 3);
	CHECK_EQ_INT(proc_table_stats(t)->threads, 4);
	p = proc_table_get(t, 100);
	CHECK(p != NULL);
	if (!p)
		return;
	CHECK_EQ_INT(p->ppid, 1);
	CHECK_EQ_STR(p->comm, "we ird) (x");
	CHECK_EQ_STR(p->exe, "prog");
	CHECK_EQ_STR(p->exepath, "/usr/bin/prog");
	CHECK(p->filename == NULL);
	CHECK_EQ_INT(p->args_len, 22);
	CHECK_EQ_STR(p->cwd, "/srv/data");
	CHECK_EQ_STR(p->cgroup, "/system.slice/x.service");
	CHECK_EQ_INT(p->start_ns, 12345ull * (1000000000ull / (uint64_t)hz));
	CHECK(p->uid == 1000 && p->euid == 1001 && p->suid == 1002);
	CHECK(p->gid == 2000 && p->egid == 2001 && p->sgid == 2002);
	CHECK_EQ_INT(p->loginuid, 1000);
	CHECK(p->cap_permitted == 0x1ffffffffffull && p->cap_effective == 0x400 &&
	      p->cap_inheritable == 0 && (p->flags & PROC_CAPS_KNOWN));
	CHECK(p->vpid == 5 && p->vpgid == 5 && p->pgid == 100 && p->sid == 90);
	CHECK_EQ_INT(p->tty, 34816);
	CHECK(p->flags & PROC_SEEDED);
	CHECK_EQ_INT(p->nthreads, 2);
	th = proc_table_thread(t, 101);
	CHECK(th && th->proc == p && th->vtid == 6);
	CHECK(proc_table_lookup(t, 100, 101) == p);
	/* fds, with the socket placed through the process's own net dir */
	CHECK_EQ_INT(p->fds.n, 2);
	CHECK(fd_table_get(&p->fds, 3) && fd_table_get(&p->fds, 3)->type == FD_IPV4);
	CHECK_EQ_STR(fd_table_get(&p->fds, 3) ? fd_table_get(&p->fds, 3)->name : NULL,
		     "127.0.0.1:80->127.0.0.2:40000");
	/* family */
	CHECK(proc_table_parent(t, p) == proc_table_get(t, 1));
	c = proc_table_get(t, 200);
	CHECK(c && proc_table_parent(t, c) == p);
	CHECK(c && proc_table_ancestor(t, c, 2) == proc_table_get(t, 1));
	CHECK(c && proc_table_ancestor(t, c, 3) == NULL);
	CHECK(c && proc_table_ancestor(t, c, 0) == c);
	CHECK(c && (c->exe_flags & PROC_EXE_MEMFD) && !strcmp(c->exe, "/memfd:evil (deleted)"));
	CHECK(c && c->loginuid == PROC_NO_LOGINUID && !c->uid && !(c->flags & PROC_CAPS_KNOWN));
	CHECK(proc_table_parent(t, proc_table_get(t, 1)) == NULL);
	CHECK(proc_table_get(t, 300) == NULL);
	proc_table_free(t);
}

TEST(lazy_env_and_seed_one)
{
	struct proc_table *t = proc_table_new(100);
	struct proc *p;
	size_t len = 0;
	const char *env;

	CHECK(proc_table_seed_one(t, 100, NULL) == NULL); /* no procfs set */
	proc_table_set_procfs(t, root);
	p = proc_table_seed_one(t, 100, NULL);
	CHECK(p != NULL);
	CHECK_EQ_INT(proc_table_stats(t)->lazy_seeded, 1);
	CHECK(proc_table_seed_one(t, 999, NULL) == NULL);
	if (!p)
		return;
	CHECK_EQ_INT(p->env_state, PROC_ENV_UNREAD);
	env = proc_table_env(t, p, &len);
	CHECK(env && len == 21 && !strcmp(env, "HOME=/root") && !strcmp(env + 11, "PATH=/bin"));
	CHECK_EQ_INT(proc_table_stats(t)->env_reads, 1);
	proc_table_env(t, p, &len); /* cached */
	CHECK_EQ_INT(proc_table_stats(t)->env_reads, 1);
	p = proc_table_seed_one(t, 200, NULL);
	CHECK(p && proc_table_env(t, p, &len) == NULL && len == 0 &&
	      p->env_state == PROC_ENV_FAILED);
	proc_table_free(t);
}

static void *sleeper(void *arg)
{
	int *fds = arg;
	char c;

	if (read(fds[0], &c, 1) < 0)
		return NULL;
	return NULL;
}

TEST(seed_real_proc)
{
	struct proc_table *t = proc_table_new(1 << 20);
	struct proc *self;
	pthread_t thr;
	int fds[2];
	char cwd[4096];
	size_t len;

	CHECK(pipe(fds) == 0);
	CHECK(pthread_create(&thr, NULL, sleeper, fds) == 0);
	CHECK(proc_table_seed(t, "/proc") > 1);
	self = proc_table_get(t, (uint32_t)getpid());
	CHECK(self != NULL);
	if (self) {
		CHECK_EQ_INT(self->ppid, getppid());
		CHECK_EQ_STR(self->comm, "test_proc_table");
		CHECK_EQ_INT(self->nthreads, 2);
		CHECK(self->vpid == (uint32_t)getpid() || self->vpid); /* host or namespace */
		CHECK_EQ_INT(self->uid, getuid());
		CHECK_EQ_INT(self->euid, geteuid());
		CHECK(getcwd(cwd, sizeof(cwd)) && self->cwd && !strcmp(self->cwd, cwd));
		CHECK(self->exepath && strstr(self->exepath, "test_proc_table"));
		CHECK(self->exe && strstr(self->exe, "test_proc_table"));
		CHECK(self->flags & PROC_EXE_KNOWN);
		CHECK(self->exe_ino && self->exe_mtime_ns && (self->exe_mode & 0111));
		CHECK(self->start_ns > 0);
		CHECK(self->pidns_ino != 0);
		CHECK(self->cgroup && self->cgroup[0] == '/');
		CHECK(fd_table_get(&self->fds, fds[0]) &&
		      fd_table_get(&self->fds, fds[0])->type == FD_PIPE);
		CHECK(proc_table_env(t, self, &len) && len > 0);
		CHECK(proc_table_parent(t, self) != NULL);
		/* Walks up to a process without a parent (init or the container's). */
		CHECK(proc_table_ancestor(t, self, 1) == proc_table_parent(t, self));
	}
	if (write(fds[1], "x", 1) != 1)
		CHECK(0);
	pthread_join(thr, NULL);
	close(fds[0]);
	close(fds[1]);
	proc_table_free(t);
}

static struct proc *mk(struct proc_table *t, uint32_t pid, uint32_t ppid, uint64_t start)
{
	struct proc *p = proc_table_upsert(t, pid);

	p->start_ns = start;
	proc_table_set_ppid(t, p, ppid);
	return p;
}

TEST(threads)
{
	struct proc_table *t = proc_table_new(100);
	struct proc *a = proc_table_upsert(t, 10), *b = proc_table_upsert(t, 20);

	CHECK(a->nthreads == 1 && proc_table_thread(t, 10)->proc == a);
	CHECK(proc_table_add_thread(t, a, 11) != NULL);
	CHECK(proc_table_add_thread(t, a, 11) == proc_table_thread(t, 11));
	CHECK_EQ_INT(a->nthreads, 2);
	/* A thread id that shows up in another process moves (tid reuse). */
	proc_table_add_thread(t, b, 11);
	CHECK(a->nthreads == 1 && b->nthreads == 2 && proc_table_lookup(t, 10, 11) == b);
	CHECK(proc_table_lookup(t, 10, 12) == a);
	CHECK(proc_table_lookup(t, 30, 30) == NULL);
	proc_table_remove_thread(t, 10);
	CHECK(a->nthreads == 0 && proc_table_get(t, 10) == a); /* the process stays */
	proc_table_remove(t, 20);
	CHECK(proc_table_thread(t, 11) == NULL && proc_table_stats(t)->threads == 0);
	CHECK_EQ_INT(proc_table_stats(t)->procs, 1);
	proc_table_free(t);
}

TEST(family_and_pid_reuse)
{
	struct proc_table *t = proc_table_new(100);
	struct proc *init = mk(t, 1, 0, 1), *sh = mk(t, 50, 1, 100), *c = mk(t, 60, 50, 200);
	struct proc *young;

	CHECK(proc_table_ancestor(t, c, 1) == sh && proc_table_ancestor(t, c, 2) == init);
	CHECK(sh->children == c && init->children == sh);
	/* sh evicted or lost: c keeps ppid but no link; a younger process with pid 50 is not
	 * c's parent. */
	proc_table_remove(t, 50);
	CHECK(c->parent == NULL && c->ppid == 50);
	young = mk(t, 50, 1, 300);
	CHECK(proc_table_parent(t, c) == NULL);
	proc_table_remove(t, 50);
	/* An older one (a seeded parent read late) is. */
	young = mk(t, 50, 1, 150);
	CHECK(proc_table_parent(t, c) == young);
	/* Depth cap and loops. */
	CHECK(proc_table_ancestor(t, c, PROC_MAX_DEPTH + 1) == NULL);
	{
		struct proc *x = mk(t, 70, 71, 0), *y = mk(t, 71, 70, 0);

		CHECK(proc_table_ancestor(t, x, 2) == x && proc_table_ancestor(t, y, 1) == x);
		CHECK(proc_table_ancestor(t, x, PROC_MAX_DEPTH) != NULL); /* bounded walk */
	}
	/* Session leader. */
	c->sid = 50;
	CHECK(proc_table_session_leader(t, c) == young);
	young->start_ns = 250; /* younger than c: a reused id */
	CHECK(proc_table_session_leader(t, c) == NULL);
	c->sid = 60;
	CHECK(proc_table_session_leader(t, c) == c);
	proc_table_free(t);
}

TEST(reap_reparents)
{
	struct proc_table *t = proc_table_new(100);
	struct proc *init = mk(t, 1, 0, 1), *sd = mk(t, 10, 1, 2), *a = mk(t, 20, 10, 3);
	struct proc *b = mk(t, 30, 20, 4), *c = mk(t, 31, 20, 5), *ns, *n1, *n2;

	/* Without a subreaper: to init. */
	proc_table_reap(t, 20);
	CHECK(proc_table_get(t, 20) == NULL);
	CHECK(b->ppid == 1 && proc_table_parent(t, b) == init && c->parent == init);
	CHECK_EQ_INT(proc_table_stats(t)->reparented, 2);
	/* With one: to the nearest subreaper ancestor. */
	sd->flags |= PROC_SUBREAPER;
	a = mk(t, 20, 10, 6);
	b = mk(t, 40, 20, 7);
	proc_table_reap(t, 20);
	CHECK(b->ppid == 10 && b->parent == sd);
	/* In a pid namespace: to its init (vpid 1). */
	ns = mk(t, 500, 10, 8);
	ns->vpid = 1;
	n1 = mk(t, 501, 500, 9);
	n2 = mk(t, 502, 501, 10);
	proc_table_reap(t, 501);
	CHECK(n2->ppid == 500 && n2->parent == ns);
	/* The dying process's own children list is gone; reaping the unknown is a no-op. */
	proc_table_reap(t, 12345);
	(void)a;
	(void)n1;
	CHECK_EQ_INT(proc_table_stats(t)->procs, 7);
	proc_table_free(t);
}

TEST(bounded_with_eviction)
{
	struct proc_table *t = proc_table_new(64);
	struct proc *first = proc_table_upsert(t, 1), *p;

	for (uint32_t pid = 2; pid <= 1000; pid++) {
		proc_table_upsert(t, pid);
		proc_table_touch(t, first); /* active: never the one evicted */
	}
	CHECK_EQ_INT(proc_table_stats(t)->procs, 64);
	CHECK_EQ_INT(proc_table_stats(t)->evictions, 1000 - 64);
	CHECK(proc_table_get(t, 1) == first);
	CHECK(proc_table_get(t, 2) == NULL);
	CHECK(proc_table_get(t, 1000) != NULL);
	/* The pinned process survives even when it is the least recently active. */
	p = proc_table_get(t, 938);
	CHECK(p != NULL && t != NULL);
	{
		struct proc *oldest = proc_table_next(t, NULL);

		CHECK(proc_table_upsert_pinned(t, 5000, oldest) != NULL);
		CHECK(proc_table_get(t, oldest->pid) == oldest);
	}
	/* Threads count against the bound too. */
	for (uint32_t tid = 100000; tid < 100100; tid++)
		proc_table_add_thread(t, first, tid);
	CHECK(proc_table_stats(t)->threads <= 64);
	CHECK(proc_table_get(t, 1) == first);
	CHECK(proc_table_stats(t)->threads_dropped > 0);
	for (uint32_t pid = 1; pid <= 5000; pid++)
		proc_table_remove(t, pid);
	CHECK_EQ_INT(proc_table_stats(t)->procs, 0);
	CHECK_EQ_INT(proc_table_stats(t)->threads, 0);
	proc_table_free(t);
}

TEST(inherit_and_reset)
{
	struct proc_table *t = proc_table_new(16);
	struct proc *a = proc_table_upsert(t, 1), *b = proc_table_upsert(t, 2);

	proc_set_str(&a->exe, "sh", 2);
	proc_set_str(&a->args, "sh\0-c\0", 6);
	a->args_len = 6;
	proc_set_str(&a->cwd, "/root", 5);
	proc_set_str(&a->env, "A=1", 4);
	a->env_len = 4;
	a->env_state = PROC_ENV_READ;
	a->flags |= PROC_SUBREAPER | PROC_CAPS_KNOWN;
	a->uid = 7;
	fd_table_add(&a->fds, 5, FD_PIPE, false);
	proc_inherit(b, a);
	CHECK(!strcmp(b->exe, "sh") && b->args_len == 6 && !memcmp(b->args, "sh\0-c\0", 6));
	CHECK(!strcmp(b->cwd, "/root") && b->env_state == PROC_ENV_READ && b->uid == 7);
	CHECK(!(b->flags & PROC_SUBREAPER) && (b->flags & PROC_CAPS_KNOWN));
	CHECK(fd_table_get(&b->fds, 5) == fd_table_get(&a->fds, 5));
	proc_reset(t, b);
	CHECK(!b->exe && !b->args && !b->fds.n && b->pid == 2 && b->nthreads == 1);
	proc_set_str(&b->exe, NULL, 0);
	CHECK(b->exe == NULL);
	proc_table_free(t);
}

int main(void)
{
	char cmd[300];

	fake_procfs();
	RUN(seed_fake);
	RUN(lazy_env_and_seed_one);
	RUN(seed_real_proc);
	RUN(threads);
	RUN(family_and_pid_reuse);
	RUN(reap_reparents);
	RUN(bounded_with_eviction);
	RUN(inherit_and_reset);
	snprintf(cmd, sizeof(cmd), "rm -rf %s", root);
	if (system(cmd))
		return 1;
	return tap_done();
}
