/* The process table: seeding from a procfs tree, fork/exec/exit transitions, eviction. */
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include "proc_table.h"
#include "testlib.h"

static void write_file(const char *path, const char *text, size_t len)
{
	FILE *f = fopen(path, "w");

	if (f) {
		fwrite(text, 1, len, f);
		fclose(f);
	}
}

/* A fake procfs with pid 100 (threads 100, 101) whose comm has spaces and parentheses. */
static char *fake_procfs(void)
{
	static char root[] = "/tmp/saker-procfs-XXXXXX";
	char p[256];
	const char stat[] = "100 (we ird) (x) S 1 100 100 0 -1 4194560 0 0 0 0 0 0 0 0 20 0 2 0 "
			    "12345 0 0\n";

	if (!mkdtemp(root))
		return NULL;
	snprintf(p, sizeof(p), "%s/100", root);
	mkdir(p, 0755);
	snprintf(p, sizeof(p), "%s/100/task", root);
	mkdir(p, 0755);
	snprintf(p, sizeof(p), "%s/100/task/100", root);
	mkdir(p, 0755);
	snprintf(p, sizeof(p), "%s/100/task/101", root);
	mkdir(p, 0755);
	snprintf(p, sizeof(p), "%s/100/task/100/stat", root);
	write_file(p, stat, sizeof(stat) - 1);
	snprintf(p, sizeof(p), "%s/100/task/101/stat", root);
	write_file(p, stat, sizeof(stat) - 1);
	snprintf(p, sizeof(p), "%s/100/cmdline", root);
	write_file(p, "prog\0--flag\0", 12);
	snprintf(p, sizeof(p), "%s/100/exe", root);
	if (symlink("/usr/bin/prog", p))
		return NULL;
	snprintf(p, sizeof(p), "%s/self", root); /* not a pid: skipped */
	mkdir(p, 0755);
	return root;
}

TEST(seed)
{
	struct proc_table *t = proc_table_new(100);
	char *root = fake_procfs();
	struct proc *p;
	char cmd[300];

	CHECK(root != NULL);
	CHECK_EQ_INT(proc_table_seed(t, root), 2);
	p = proc_table_get(t, 100);
	CHECK(p != NULL);
	if (p) {
		CHECK_EQ_INT(p->pid, 100);
		CHECK_EQ_INT(p->ppid, 1);
		CHECK_EQ_STR(p->comm, "we ird) (x");
		CHECK_EQ_STR(p->exe, "/usr/bin/prog");
		CHECK_EQ_INT(p->args_len, 12);
		CHECK(p->start_ns > 0);
	}
	p = proc_table_get(t, 101);
	CHECK(p != NULL && p->pid == 100);
	CHECK(proc_table_get(t, 102) == NULL);
	proc_table_free(t);
	snprintf(cmd, sizeof(cmd), "rm -rf %s", root);
	CHECK_EQ_INT(system(cmd), 0);
}

TEST(seed_real_proc)
{
	struct proc_table *t = proc_table_new(1 << 20);
	struct proc *self;

	CHECK(proc_table_seed(t, "/proc") > 1);
	self = proc_table_get(t, (uint32_t)getpid());
	CHECK(self != NULL);
	if (self) {
		CHECK_EQ_INT(self->ppid, getppid());
		CHECK_EQ_STR(self->comm, "test_proc_table");
	}
	proc_table_free(t);
}

TEST(fork_exec_exit)
{
	struct proc_table *t = proc_table_new(100);
	struct sk_fork_ev f = {.hdr = {.pid = 10, .tid = 10},
			       .child_pid = 11,
			       .child_tid = 11,
			       .child_ppid = 10,
			       .comm = "parent"};
	struct sk_exec_ev x = {.old_tid = 11, .ppid = 10, .comm = "ls"};
	struct event ev = {.kind = SK_EV_FORK, .pid = 10, .tid = 10, .fork = &f};
	struct proc *parent = proc_table_upsert(t, 10), *c;

	parent->exe = strdup("/bin/sh");
	proc_table_apply(t, &ev);
	c = proc_table_get(t, 11);
	CHECK(c != NULL);
	if (c) {
		CHECK_EQ_INT(c->pid, 11);
		CHECK_EQ_INT(c->ppid, 10);
		CHECK_EQ_STR(c->comm, "parent");
		CHECK_EQ_STR(c->exe, "/bin/sh"); /* inherited until exec */
	}

	memset(&ev, 0, sizeof(ev));
	ev.kind = SK_EV_EXEC;
	ev.pid = ev.tid = 11;
	ev.exec = &x;
	ev.filename.p = (const uint8_t *)"/bin/ls";
	ev.filename.len = 8;
	ev.argv.p = (const uint8_t *)"ls\0-l\0";
	ev.argv.len = 6;
	proc_table_apply(t, &ev);
	c = proc_table_get(t, 11);
	CHECK(c != NULL);
	if (c) {
		CHECK_EQ_STR(c->comm, "ls");
		CHECK_EQ_STR(c->exe, "/bin/ls");
		CHECK_EQ_INT(c->args_len, 6);
	}

	memset(&ev, 0, sizeof(ev));
	ev.kind = SK_EV_EXIT;
	ev.pid = ev.tid = 11;
	proc_table_apply(t, &ev);
	CHECK(proc_table_get(t, 11) == NULL);
	CHECK_EQ_INT(proc_table_stats(t)->entries, 1);
	proc_table_free(t);
}

TEST(exec_from_thread_replaces_leader)
{
	struct proc_table *t = proc_table_new(100);
	struct sk_exec_ev x = {.old_tid = 21, .ppid = 1, .comm = "new"};
	struct event ev = {.kind = SK_EV_EXEC, .pid = 20, .tid = 20, .exec = &x};

	proc_table_upsert(t, 20)->pid = 20;
	proc_table_upsert(t, 21)->pid = 20;
	ev.filename.p = (const uint8_t *)"/x";
	ev.filename.len = 3;
	proc_table_apply(t, &ev);
	CHECK(proc_table_get(t, 21) == NULL);
	CHECK(proc_table_get(t, 20) != NULL);
	CHECK_EQ_STR(proc_table_get(t, 20)->comm, "new");
	proc_table_free(t);
}

TEST(bounded_with_eviction)
{
	struct proc_table *t = proc_table_new(64);

	for (uint32_t tid = 1; tid <= 1000; tid++)
		proc_table_upsert(t, tid);
	CHECK_EQ_INT(proc_table_stats(t)->entries, 64);
	CHECK_EQ_INT(proc_table_stats(t)->evictions, 1000 - 64);
	/* The oldest went first. */
	CHECK(proc_table_get(t, 1) == NULL);
	CHECK(proc_table_get(t, 1000) != NULL);
	CHECK(proc_table_get(t, 937) != NULL);
	for (uint32_t tid = 1; tid <= 1000; tid++)
		proc_table_remove(t, tid);
	CHECK_EQ_INT(proc_table_stats(t)->entries, 0);
	proc_table_free(t);
}

TEST(unknown_tid_counted)
{
	struct proc_table *t = proc_table_new(8);
	struct event ev = {.kind = SK_EV_SYSCALL, .pid = 5, .tid = 5};

	proc_table_apply(t, &ev);
	CHECK_EQ_INT(proc_table_stats(t)->missing, 1);
	proc_table_free(t);
}

int main(void)
{
	RUN(seed);
	RUN(seed_real_proc);
	RUN(fork_exec_exit);
	RUN(exec_from_thread_replaces_leader);
	RUN(bounded_with_eviction);
	RUN(unknown_tid_counted);
	return tap_done();
}
