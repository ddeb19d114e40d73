#include "proc_table.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define NBUCKETS 16384 /* power of two */

struct proc_table {
	struct proc *buckets[NBUCKETS];
	struct proc *oldest, *newest;
	size_t max_entries;
	struct proc_table_stats st;
};

static unsigned bucket_of(uint32_t tid)
{
	return (tid * 2654435761u) & (NBUCKETS - 1);
}

struct proc_table *proc_table_new(size_t max_entries)
{
	struct proc_table *t = calloc(1, sizeof(*t));

	if (t)
		t->max_entries = max_entries ? max_entries : 1;
	return t;
}

static void proc_free(struct proc *p)
{
	free(p->exe);
	free(p->args);
	free(p);
}

void proc_table_free(struct proc_table *t)
{
	struct proc *p, *next;

	if (!t)
		return;
	for (p = t->oldest; p; p = next) {
		next = p->lnext;
		proc_free(p);
	}
	free(t);
}

struct proc *proc_table_get(const struct proc_table *t, uint32_t tid)
{
	for (struct proc *p = t->buckets[bucket_of(tid)]; p; p = p->hnext)
		if (p->tid == tid)
			return p;
	return NULL;
}

static void unlink_entry(struct proc_table *t, struct proc *p)
{
	struct proc **pp = &t->buckets[bucket_of(p->tid)];

	while (*pp != p)
		pp = &(*pp)->hnext;
	*pp = p->hnext;
	if (p->lprev)
		p->lprev->lnext = p->lnext;
	else
		t->oldest = p->lnext;
	if (p->lnext)
		p->lnext->lprev = p->lprev;
	else
		t->newest = p->lprev;
	t->st.entries--;
}

void proc_table_remove(struct proc_table *t, uint32_t tid)
{
	struct proc *p = proc_table_get(t, tid);

	if (p) {
		unlink_entry(t, p);
		proc_free(p);
	}
}

struct proc *proc_table_upsert(struct proc_table *t, uint32_t tid)
{
	struct proc *p = proc_table_get(t, tid);
	unsigned b;

	if (p)
		return p;
	if (t->st.entries >= t->max_entries && t->oldest) {
		struct proc *old = t->oldest;

		unlink_entry(t, old);
		proc_free(old);
		t->st.evictions++;
	}
	p = calloc(1, sizeof(*p));
	if (!p)
		return NULL;
	p->tid = tid;
	p->pid = tid;
	b = bucket_of(tid);
	p->hnext = t->buckets[b];
	t->buckets[b] = p;
	p->lprev = t->newest;
	if (t->newest)
		t->newest->lnext = p;
	else
		t->oldest = p;
	t->newest = p;
	t->st.entries++;
	return p;
}

static char *dup_bytes(const void *p, size_t len)
{
	char *s = malloc(len + 1);

	if (s) {
		if (len)
			memcpy(s, p, len);
		s[len] = '\0';
	}
	return s;
}

/* Reads a whole small file; returns its length or -1. */
static ssize_t read_file(const char *path, char *buf, size_t cap)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	ssize_t n, total = 0;

	if (fd < 0)
		return -1;
	while ((size_t)total < cap && (n = read(fd, buf + total, cap - (size_t)total)) > 0)
		total += n;
	close(fd);
	return total;
}

/* What a thread shares with its process: read once per process. */
struct seed_proc {
	char exe[4096];
	ssize_t exe_len;
	char args[4096];
	ssize_t args_len;
};

static void seed_thread(struct proc_table *t, const char *procfs, const char *pid_s,
			const char *tid_s, uint64_t ticks_ns, const struct seed_proc *sp)
{
	char path[600], buf[1024];
	ssize_t n;
	char *open_paren, *close_paren;
	unsigned long long starttime = 0;
	int ppid = 0;
	struct proc *p;
	size_t comm_len;

	snprintf(path, sizeof(path), "%s/%s/task/%s/stat", procfs, pid_s, tid_s);
	n = read_file(path, buf, sizeof(buf) - 1);
	if (n <= 0)
		return;
	buf[n] = '\0';
	/* comm may hold spaces and parentheses: it runs from the first '(' to the last ')'. */
	open_paren = strchr(buf, '(');
	close_paren = strrchr(buf, ')');
	if (!open_paren || !close_paren || close_paren < open_paren)
		return;
	/* Fields after comm: state ppid pgrp session tty_nr tpgid flags minflt cminflt majflt
	 * cmajflt utime stime cutime cstime priority nice num_threads itrealvalue starttime */
	if (sscanf(
		close_paren + 2,
		"%*c %d %*d %*d %*d %*d %*u %*u %*u %*u %*u %*u %*u %*d %*d %*d %*d %*d %*d %llu",
		&ppid, &starttime) != 2)
		return;
	p = proc_table_upsert(t, (uint32_t)strtoul(tid_s, NULL, 10));
	if (!p)
		return;
	p->pid = (uint32_t)strtoul(pid_s, NULL, 10);
	p->ppid = (uint32_t)ppid;
	memset(p->comm, 0, sizeof(p->comm));
	comm_len = (size_t)(close_paren - open_paren - 1);
	memcpy(p->comm, open_paren + 1,
	       comm_len < sizeof(p->comm) - 1 ? comm_len : sizeof(p->comm) - 1);
	p->start_ns = starttime * ticks_ns;
	free(p->exe);
	p->exe = sp->exe_len > 0 ? dup_bytes(sp->exe, (size_t)sp->exe_len) : NULL;
	free(p->args);
	p->args = sp->args_len > 0 ? dup_bytes(sp->args, (size_t)sp->args_len) : NULL;
	p->args_len = sp->args_len > 0 ? (size_t)sp->args_len : 0;
	t->st.seeded++;
}

size_t proc_table_seed(struct proc_table *t, const char *procfs)
{
	DIR *d = opendir(procfs), *td;
	struct dirent *de, *te;
	uint64_t before = t->st.seeded;
	long hz = sysconf(_SC_CLK_TCK);
	uint64_t ticks_ns = hz > 0 ? 1000000000ull / (uint64_t)hz : 10000000ull;
	struct seed_proc *sp = malloc(sizeof(*sp));
	char path[600];

	if (!d || !sp) {
		if (d)
			closedir(d);
		free(sp);
		return 0;
	}
	while ((de = readdir(d))) {
		if (de->d_name[0] < '1' || de->d_name[0] > '9')
			continue;
		snprintf(path, sizeof(path), "%s/%s/exe", procfs, de->d_name);
		sp->exe_len = readlink(path, sp->exe, sizeof(sp->exe));
		snprintf(path, sizeof(path), "%s/%s/cmdline", procfs, de->d_name);
		sp->args_len = read_file(path, sp->args, sizeof(sp->args));
		snprintf(path, sizeof(path), "%s/%s/task", procfs, de->d_name);
		td = opendir(path);
		if (!td)
			continue; /* exited since readdir */
		while ((te = readdir(td)))
			if (te->d_name[0] >= '1' && te->d_name[0] <= '9')
				seed_thread(t, procfs, de->d_name, te->d_name, ticks_ns, sp);
		closedir(td);
	}
	closedir(d);
	free(sp);
	return (size_t)(t->st.seeded - before);
}

static void apply_fork(struct proc_table *t, const struct event *ev)
{
	const struct sk_fork_ev *f = ev->fork;
	struct proc *parent = proc_table_get(t, ev->tid);
	struct proc *c = proc_table_upsert(t, f->child_tid);

	if (!c)
		return;
	c->pid = f->child_pid;
	c->ppid = f->child_ppid;
	c->start_ns = f->child_start_ns;
	memcpy(c->comm, f->comm, sizeof(c->comm));
	c->comm[sizeof(c->comm) - 1] = '\0';
	if (parent && parent != c) {
		free(c->exe);
		free(c->args);
		c->exe = parent->exe ? strdup(parent->exe) : NULL;
		c->args = parent->args ? dup_bytes(parent->args, parent->args_len) : NULL;
		c->args_len = parent->args ? parent->args_len : 0;
	}
}

static void apply_exec(struct proc_table *t, const struct event *ev)
{
	const struct sk_exec_ev *x = ev->exec;
	struct proc *p;
	size_t flen = ev->filename.len;

	/* A non-leader thread that execs takes the leader's id; its old entry goes. */
	if (x->old_tid != ev->tid)
		proc_table_remove(t, x->old_tid);
	p = proc_table_upsert(t, ev->tid);
	if (!p)
		return;
	p->pid = ev->pid;
	p->ppid = x->ppid;
	p->start_ns = x->start_ns;
	memcpy(p->comm, x->comm, sizeof(p->comm));
	p->comm[sizeof(p->comm) - 1] = '\0';
	if (flen && ev->filename.p[flen - 1] == '\0')
		flen--;
	free(p->exe);
	p->exe = dup_bytes(ev->filename.p, flen);
	free(p->args);
	p->args = dup_bytes(ev->argv.p, ev->argv.len);
	p->args_len = ev->argv.len;
}

void proc_table_apply(struct proc_table *t, const struct event *ev)
{
	switch (ev->kind) {
	case SK_EV_FORK:
		apply_fork(t, ev);
		break;
	case SK_EV_EXEC:
		apply_exec(t, ev);
		break;
	case SK_EV_EXIT:
		proc_table_remove(t, ev->tid);
		break;
	case SK_EV_SYSCALL:
		if (!proc_table_get(t, ev->tid))
			t->st.missing++;
		break;
	}
}

const struct proc_table_stats *proc_table_stats(const struct proc_table *t)
{
	return &t->st;
}
